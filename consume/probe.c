/*
 * consume --probe and --unsubscribe; see probe.h.  Both go the way the
 * Pulsar source goes (pool, lookup), but once, in order, and stop at the
 * first check that fails: what follows it could not be told anyway.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "log.h"
#include "probe.h"
#include "pulsar.h"
#include "pulsar_wire.h"
#include "source.h"
#include "topic.h"

struct probe {
	const struct pulsar_opts *o;
	struct pool	*pool;
	struct topic	 t;
	unsigned	 partitions;
	int		 failed;
};

static void say(int, const char *, const char *, ...)
	    __attribute__((format(printf, 3, 4)));

static void
say(int ok, const char *setting, const char *fmt, ...)
{
	va_list ap;

	printf("%s %s: ", ok ? "ok" : "fail", setting);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	(void)fflush(stdout);
}

/* Why the pool failed, as a line for the setting to blame. */
static int
failed(struct probe *p, const char *setting)
{
	say(0, setting, "%s", p->pool->fail.text);
	p->failed = 1;
	return -1;
}

static int
open_probe(struct probe *p, const struct pulsar_opts *o)
{
	struct pool_opts po;
	const char *why;

	memset(p, 0, sizeof(*p));
	p->o = o;
	pulsar_pool_opts(&po, o, PROBE_TIMEOUT);
	if (topic_parse(&p->t, o->topic, &why) < 0) {
		say(0, "topic", "%s: %s", o->topic, why);
		return -1;
	}
	if ((p->pool = pool_new(&po, NULL, &why)) == NULL) {
		say(0, "url", "%s: %s", o->url, why);
		topic_free(&p->t);
		return -1;
	}
	return 0;
}

static void
close_probe(struct probe *p)
{
	pool_free(p->pool);
	topic_free(&p->t);
}

/*
 * url and token-file: for pulsar:// CONNECT carries the token, for http://
 * the first request does; a refused token means the address is right.
 */
static int
check_access(struct probe *p)
{
	struct pool *pl = p->pool;
	int rc;

	if (pl->url.http)
		rc = lookup_partitions(pl, &p->t, &p->partitions);
	else
		rc = pool_service(pl) != NULL ? 0 : -1;
	if (rc < 0 && !pl->fail.auth)
		return failed(p, "url");
	say(1, "url", "%s reachable, speaks %s%s", p->o->url, pl->url.http ?
	    "Pulsar's web service" : "the Pulsar protocol", pl->url.tls ?
	    ", TLS certificate verified" : "");
	if (rc < 0)
		return failed(p, "token-file");
	if (p->o->token != NULL)
		say(1, "token-file", "the token was accepted");
	else
		say(1, "token-file", "no token given, none asked for");
	return 0;
}

/* The name of partition i (or the topic itself). */
static void
partition_name(struct probe *p, unsigned i, struct buf *b)
{
	buf_reset(b);
	buf_addstr(b, p->t.full);
	if (p->partitions > 0)
		buf_addf(b, "-partition-%u", i);
}

/* topic: its partitions, and each looked up to its broker. */
static int
check_topic(struct probe *p)
{
	struct buf name = BUF_INIT, where = BUF_INIT;
	struct bconn *bc;
	unsigned i, n;

	if (!p->pool->url.http && lookup_partitions(p->pool, &p->t,
	    &p->partitions) < 0)
		return failed(p, "topic");
	n = p->partitions > 0 ? p->partitions : 1;
	for (i = 0; i < n; i++) {
		partition_name(p, i, &name);
		if ((bc = lookup_topic(p->pool, name.data)) == NULL) {
			buf_release(&name);
			buf_release(&where);
			return failed(p, "topic");
		}
		buf_addf(&where, "%s%s:%s", i ? ", " : "", bc->host, bc->port);
	}
	if (p->partitions > 0)
		say(1, "topic", "%s found, %u partitions, served by %s",
		    p->t.full, p->partitions, where.data);
	else
		say(1, "topic", "%s found, not partitioned, served by %s",
		    p->t.full, where.data);
	buf_release(&name);
	buf_release(&where);
	return 0;
}

/*
 * subscription: the web service can list them; the binary protocol
 * cannot ask without creating one, which a check must not do.
 */
static void
check_subscription(struct probe *p)
{
	const char *sub = p->o->subscription;
	const char *start = p->o->start == START_LATEST ? "latest" :
	    p->o->start == START_EARLIEST || p->o->start == START_NONE ?
	    "earliest" : "the --start point";
	int exists = 0;

	if (!p->pool->url.http) {
		say(1, "subscription", "%s: used if it exists, else created "
		    "at the first run from %s (give an http:// --url to see "
		    "which)", sub, start);
		return;
	}
	if (web_has_subscription(&p->pool->web, &p->t, sub, &exists) !=
	    WEB_OK) {
		(void)failed(p, "subscription");
		return;
	}
	if (exists)
		say(1, "subscription", "%s exists", sub);
	else
		say(1, "subscription", "%s does not exist yet: created at "
		    "the first run, from %s", sub, start);
}

int
probe_main(const struct pulsar_opts *o)
{
	struct probe p;

	if (open_probe(&p, o) < 0)
		return EXIT_FAIL;
	if (check_access(&p) == 0 && check_topic(&p) == 0)
		check_subscription(&p);
	close_probe(&p);
	return p.failed ? EXIT_FAIL : EXIT_OK;
}

/* Subscribe to one partition, then UNSUBSCRIBE: 0, or -1 (said). */
static int
unsubscribe_one(struct probe *p, const char *topic, uint64_t cid)
{
	struct pw_subscribe sub;
	struct bconn *bc;
	uint64_t req;

	if ((bc = lookup_topic(p->pool, topic)) == NULL)
		return failed(p, "subscription");
	memset(&sub, 0, sizeof(sub));
	sub.topic = topic;
	sub.subscription = p->o->subscription;
	sub.sub_type = p->o->sub_type;
	sub.consumer_id = cid;
	sub.request_id = req = pool_req(p->pool);
	sub.consumer_name = CLIENT_VERSION;
	pw_enc_subscribe(&bc->c->out, &sub);
	if (pool_request(p->pool, bc, req, "SUBSCRIBE") < 0)
		return failed(p, "subscription");
	if (p->pool->resp.type == PW_SUCCESS) {
		req = pool_req(p->pool);
		pw_enc_unsubscribe(&bc->c->out, cid, req);
		if (pool_request(p->pool, bc, req, "UNSUBSCRIBE") < 0)
			return failed(p, "subscription");
	}
	if (p->pool->resp.type != PW_SUCCESS) {
		pool_request_failed(p->pool, "unsubscribe", topic);
		say(0, "subscription", "%s%s", p->pool->fail.text,
		    p->pool->resp.error == PW_ERR_CONSUMER_BUSY ? " (another "
		    "consumer is connected: stop the rule first)" : "");
		p->failed = 1;
		return -1;
	}
	return 0;
}

int
unsubscribe_main(const struct pulsar_opts *o)
{
	struct buf name = BUF_INIT;
	struct probe p;
	unsigned i, n;

	if (open_probe(&p, o) < 0)
		return EXIT_FAIL;
	if (check_access(&p) < 0 || (!p.pool->url.http &&
	    lookup_partitions(p.pool, &p.t, &p.partitions) < 0 &&
	    failed(&p, "topic") < 0))
		goto done;
	n = p.partitions > 0 ? p.partitions : 1;
	for (i = 0; i < n; i++) {
		partition_name(&p, i, &name);
		if (unsubscribe_one(&p, name.data, i + 1) < 0)
			goto done;
	}
	say(1, "subscription", "%s removed from %s (%u partition%s)",
	    o->subscription, p.t.full, n, n == 1 ? "" : "s");
done:
	buf_release(&name);
	close_probe(&p);
	return p.failed ? EXIT_FAIL : EXIT_OK;
}
