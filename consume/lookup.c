/*
 * Topic lookup (pulsar.h): the broker that owns a topic and the number of
 * its partitions, asked of the service URL in the binary protocol (LOOKUP,
 * following redirects, and PARTITIONED_METADATA) or, for http:// and
 * https:// URLs, of the web service (weblookup.h).
 */
#include <stdlib.h>

#include "buf.h"
#include "log.h"
#include "pulsar.h"
#include "pulsar_wire.h"
#include "topic.h"

#define MAX_REDIRECTS	10

/* The connection the LOOKUP answer in p->resp points to; NULL: again. */
static struct bconn *
follow(struct pool *p, const char *topic, int *done)
{
	struct bconn *bc;
	char *u;

	u = p->url.tls && p->resp.broker_url_tls ? p->resp.broker_url_tls :
	    p->resp.broker_url;
	if (u == NULL) {
		pool_fail(p, 0, "%s: lookup answer without a broker URL",
		    topic);
		*done = 1;
		return NULL;
	}
	u = xstrdup(u);
	if (p->resp.lookup_type == PW_LOOKUP_CONNECT) {
		*done = 1;
		bc = p->resp.proxy ? pool_connect(p, p->url.host, p->url.port,
		    p->url.tls, u) : pool_connect_url(p, u, NULL);
	} else {
		log_verbose("%s: lookup redirected to %s", topic, u);
		bc = pool_connect_url(p, u, NULL);
		*done = bc == NULL;
	}
	free(u);
	return bc;
}

static struct bconn *
web_lookup_topic(struct pool *p, const char *topic)
{
	struct bconn *bc;
	char *u = NULL;
	int rc;

	rc = web_lookup(&p->web, topic, p->url.tls, &u);
	if (rc == WEB_FATAL)
		p->fatal = 1;
	if (rc != WEB_OK)
		return NULL;
	bc = pool_connect_url(p, u, NULL);
	free(u);
	return bc;
}

struct bconn *
lookup_topic(struct pool *p, const char *topic)
{
	struct bconn *bc;
	int i, authoritative = 0, done = 0;
	uint64_t req;

	if (p->url.http)
		return web_lookup_topic(p, topic);
	if ((bc = pool_service(p)) == NULL)
		return NULL;
	for (i = 0; i < MAX_REDIRECTS; i++) {
		req = pool_req(p);
		pw_enc_lookup(&bc->c->out, topic, req, authoritative,
		    p->o.listener);
		if (pool_request(p, bc, req, "LOOKUP") < 0)
			return NULL;
		if (p->resp.type == PW_ERROR || p->resp.lookup_type ==
		    PW_LOOKUP_FAILED) {
			pool_request_failed(p, "lookup", topic);
			return NULL;
		}
		authoritative = p->resp.authoritative;
		bc = follow(p, topic, &done);
		if (done)
			return bc;
	}
	pool_fail(p, 0, "%s: too many lookup redirects", topic);
	return NULL;
}

int
lookup_partitions(struct pool *p, const struct topic *t, unsigned *n)
{
	struct bconn *bc;
	uint64_t req;
	int rc;

	if (p->url.http) {
		rc = web_partitions(&p->web, t, n);
		if (rc == WEB_FATAL)
			p->fatal = 1;
		return rc == WEB_OK ? 0 : -1;
	}
	if ((bc = pool_service(p)) == NULL)
		return -1;
	req = pool_req(p);
	pw_enc_partitioned_metadata(&bc->c->out, t->full, req);
	if (pool_request(p, bc, req, "PARTITIONED_METADATA") < 0)
		return -1;
	if (p->resp.type == PW_ERROR || p->resp.has_error) {
		pool_request_failed(p, "partitioned metadata", t->full);
		return -1;
	}
	*n = p->resp.partitions;
	return 0;
}
