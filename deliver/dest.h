/*
 * dest: the destination URL deliver writes to.
 *
 *	file:///ABSOLUTE/DIR/			a local directory
 *	cos://BUCKET-APPID/PREFIX/?region=R	Tencent Cloud COS
 *	s3://BUCKET/PREFIX/?region=R		any S3-compatible store
 *
 * The prefix (the URL's path after the bucket) is empty or ends with '/',
 * like the managed product's delivery path.  dest_parse() validates all of
 * it and says what is wrong in one line; dest_endpoint() then works out
 * the HTTP address from the URL, --endpoint and --path-style.  An
 * --endpoint that is an IP address or "localhost" gets path-style
 * addressing, as in the AWS SDKs: no name resolves below it.
 */
#ifndef DELIVER_DEST_H
#define DELIVER_DEST_H

#include <stddef.h>

enum dest_kind { DEST_FILE, DEST_COS, DEST_S3 };

struct dest {
	enum dest_kind	 kind;
	char		*dir;		/* file: the directory, ending in '/' */
	char		*bucket;	/* cos, s3 */
	char		*prefix;	/* cos, s3: "" or ending in '/' */
	char		*region;	/* cos, s3; may be NULL for s3 */
	/* Filled in by dest_endpoint(): */
	char		*scheme;	/* "https" or "http" */
	char		*host;		/* host[:port] to connect to */
	char		*base;		/* scheme://host[/bucket] */
	char		*endpoint_path;	/* path prefix of --endpoint, or "" */
	int		 path_style;
	int		 auto_path_style;	/* for an IP or localhost */
};

/* 0, or -1 with a one-line reason in why. */
int	dest_parse(struct dest *, const char *url, char *why, size_t whylen);
int	dest_endpoint(struct dest *, const char *endpoint, int path_style,
	    char *why, size_t whylen);
void	dest_release(struct dest *);
/* Validation helpers, exposed for the unit tests. */
int	dest_cos_bucket_ok(const char *);
int	dest_s3_bucket_ok(const char *);
int	dest_region_ok(const char *);

#endif
