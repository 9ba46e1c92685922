/*
 * weblookup: topic lookup through Pulsar's web service (http:// and
 * https:// access addresses, as TDMQ clusters since 2.7.1 hand out):
 *
 *	GET /admin/v2/{domain}/{tenant}/{ns}/{topic}/partitions
 *	GET /lookup/v2/topic/{domain}/{tenant}/{ns}/{topic}
 *
 * with "Authorization: Bearer TOKEN" when there is a token, redirects
 * followed (the token is sent again: the redirect comes from the cluster).
 */
#ifndef CONSUME_WEBLOOKUP_H
#define CONSUME_WEBLOOKUP_H

struct failure;
struct topic;

struct web {
	char		*base;		/* scheme://host:port */
	const char	*token;		/* NULL: none */
	const char	*ca_file;
	double		 timeout;
	struct failure	*fail;		/* why the last call failed */
	const int	*ending;	/* when set and true, a stop does not
					   cut requests short (pool.ending) */
};

/*
 * WEB_FATAL: retrying cannot help (401, 403, 404, TLS, not HTTP at all);
 * a request is cut short by a stop (stop_asked()) as WEB_RETRY, unless
 * the user is ending (see ending).
 */
enum { WEB_OK = 0, WEB_RETRY = -1, WEB_FATAL = -2 };

/* Partitions of the topic (0: not partitioned). */
int	web_partitions(const struct web *, const struct topic *,
	    unsigned *partitions);
/* Whether the topic has a subscription of this name. */
int	web_has_subscription(const struct web *, const struct topic *,
	    const char *name, int *exists);
/* The owner's broker URL for topic name (a full name); *url malloc'd. */
int	web_lookup(const struct web *, const char *topic, int tls,
	    char **url);

#endif
