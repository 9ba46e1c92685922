/*
 * metadata: temporary keys of a Tencent Cloud CVM instance role, from the
 * instance metadata service:
 *
 *	GET BASE/latest/meta-data/cam/security-credentials/
 *		the role names, one a line
 *	GET BASE/latest/meta-data/cam/security-credentials/ROLE
 *		{"TmpSecretId": "...", "TmpSecretKey": "...",
 *		 "Token": "...", "ExpiredTime": 1615590047,
 *		 "Expiration": "2021-03-12T23:00:47Z", "Code": "Success"}
 *
 * BASE is http://metadata.tencentyun.com, or $LAKEPIPE_METADATA_URL (the
 * tests' stand-in).  Requests go direct (never through a proxy: the
 * answer holds the keys), within a few seconds, with no redirects.
 * Nothing here logs or returns in why a key or a token.
 */
#ifndef DELIVER_METADATA_H
#define DELIVER_METADATA_H

#include <stddef.h>
#include <time.h>

#define METADATA_DEFAULT_URL	"http://metadata.tencentyun.com"
#define METADATA_URL_ENV	"LAKEPIPE_METADATA_URL"

/* What one fetch gives; every string is the caller's to wipe and free. */
struct role_keys {
	char	*id, *secret, *token;
	time_t	 expires;		/* ExpiredTime: seconds, the epoch */
};

/*
 * The role's keys into k (*role NULL: the first role the service lists,
 * then *role is set to a copy of its name, the caller's).  0, or -1 with
 * a one-line reason in why.
 */
int	metadata_role_keys(char **role, struct role_keys *k, char *why,
	    size_t whylen);
/* The key document json (above) into k: 0, or -1 with why. */
int	metadata_parse_keys(const char *json, struct role_keys *k, char *why,
	    size_t whylen);
/* A role name as CAM allows: 1 to 128 of [A-Za-z0-9_+=,.@-]. */
int	metadata_role_ok(const char *);
void	role_keys_wipe(struct role_keys *);

#endif
