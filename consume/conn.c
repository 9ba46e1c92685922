/*
 * The pool of broker connections (pulsar.h): one connection per broker
 * (and per proxied broker), made on demand, CONNECTed with the token,
 * kept alive with PING, and used for short blocking request/response
 * exchanges with a deadline while the poll loop is not running; between
 * those, the user's poll loop drives it (pool_prepare/pool_run/pool_flush).
 */
#include <err.h>
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/ssl.h>

#include "buf.h"
#include "log.h"
#include "net.h"
#include "pulsar.h"
#include "pulsar_wire.h"
#include "source.h"
#include "stop.h"

#define PING_IDLE	30.0		/* ping a connection silent this long */
#define DEAD_IDLE	90.0		/* and drop it after this */
/*
 * The low-water mark of a streaming connection (bconn.lowat_want): below
 * LOWAT_MIN not worth a timer; above LOWAT_MAX the kernel may grow the
 * receive buffer, and with it on older kernels clamp the window to the
 * mark.  A wait for it ends after LOWAT_WAIT: at most that is added to
 * a message's way, once for each window of permits.  In the test
 * broker's blast (100-byte messages), 340 to 380 messages a wake-up
 * instead of 110 to 130, and a seventh less CPU (BENCH.md).
 */
#define LOWAT_MIN	4096
#define LOWAT_MAX	(32 * 1024)
#define LOWAT_WAIT	0.002

struct pool *
pool_new(const struct pool_opts *o, const struct pool_hooks *h,
    const char **why)
{
	struct pool *p = xcalloc(1, sizeof(*p));
	struct buf base = BUF_INIT;

	p->o = *o;
	if (h != NULL)
		p->h = *h;
	if (url_parse(&p->url, o->url, why) < 0) {
		free(p);
		return NULL;
	}
	if (strchr(p->url.host, ':') != NULL)
		buf_addf(&base, "%s://[%s]:%s", p->url.tls ? "https" : "http",
		    p->url.host, p->url.port);
	else
		buf_addf(&base, "%s://%s:%s", p->url.tls ? "https" : "http",
		    p->url.host, p->url.port);
	p->web.base = buf_detach(&base, NULL);
	p->web.token = o->token;
	p->web.ca_file = o->ca_file;
	p->web.timeout = o->timeout;
	p->web.fail = &p->fail;
	p->web.ending = &p->ending;
	return p;
}

static void
bconn_free(struct bconn *bc)
{
	conn_close(bc->c);
	free(bc->host);
	free(bc->port);
	free(bc->proxy_to);
	free(bc);
}

void
pool_free(struct pool *p)
{
	struct bconn *bc;

	if (p == NULL)
		return;
	while ((bc = p->conns) != NULL) {
		p->conns = bc->next;
		bconn_free(bc);
	}
	free(p->resp.broker_url);
	free(p->resp.broker_url_tls);
	free(p->resp.producer_name);
	while (p->nseen > 0)
		free(p->seen[--p->nseen]);
	free(p->seen);
	free(p->web.base);
	if (p->tls != NULL)
		SSL_CTX_free(p->tls);
	url_free(&p->url);
	free(p);
}

uint64_t
pool_req(struct pool *p)
{
	return ++p->next_req;
}

void
pool_fail(struct pool *p, int permanent, const char *fmt, ...)
{
	va_list ap;

	if (p->fatal)		/* the first permanent error is the one */
		return;
	va_start(ap, fmt);
	(void)vsnprintf(p->fail.text, sizeof(p->fail.text), fmt, ap);
	va_end(ap);
	p->fail.permanent = permanent;
	p->fail.auth = 0;
	if (permanent)
		p->fatal = 1;
}

/* bc's own failure (a read, a write) is the cause. */
static void
conn_failed(struct pool *p, struct bconn *bc)
{
	pool_fail(p, bc->c->fail.permanent, "%s", bc->c->fail.text);
	pool_lost(p, bc);
}

void
pool_lost(struct pool *p, struct bconn *bc)
{
	if (bc->dead)
		return;
	bc->dead = 1;
	if (p->h.lost != NULL)
		p->h.lost(p->h.arg, bc);
}

static void
take_resp(struct pool *p, const struct pw_cmd *c)
{
	struct pool_resp *r = &p->resp;

	free(r->broker_url);
	free(r->broker_url_tls);
	free(r->producer_name);
	memset(r, 0, sizeof(*r));
	r->type = c->type;
	r->has_error = c->has_error;
	r->error = c->error;
	snprintf(r->msg, sizeof(r->msg), "%.*s", (int)c->message.len,
	    c->message.p ? c->message.p : "");
	if (c->broker_url.len)
		r->broker_url = xstrndup(c->broker_url.p, c->broker_url.len);
	if (c->broker_url_tls.len)
		r->broker_url_tls = xstrndup(c->broker_url_tls.p,
		    c->broker_url_tls.len);
	r->lookup_type = c->lookup_type;
	r->authoritative = c->authoritative;
	r->proxy = c->proxy_through_service_url;
	r->partitions = c->partitions;
	r->last = c->msgid;
	r->has_md = c->has_mark_delete;
	r->md = c->mark_delete;
	if (c->producer_name.len)
		r->producer_name = xstrndup(c->producer_name.p,
		    c->producer_name.len);
	p->got = 1;
}

static int
is_auth_error(int e)
{
	return e == PW_ERR_AUTHENTICATION || e == PW_ERR_AUTHORIZATION;
}

static void
auth_failed(struct pool *p, const char *where, int error, const char *msg)
{
	if (p->fatal)
		return;
	pool_fail(p, 1, "%s: %s%s%s (check the token: --token-file or "
	    "PULSAR_TOKEN)", where, pw_server_error_name(error),
	    msg[0] ? ": " : "", msg);
	p->fail.auth = 1;
}

/*
 * An ERROR before CONNECTED answers CONNECT, whatever its request id: only
 * a broker not ready yet is worth trying again.
 */
static void
connect_refused(struct pool *p, struct bconn *bc, const struct pw_cmd *c)
{
	char where[300], msg[256];

	snprintf(where, sizeof(where), "%s:%s refused the connection",
	    bc->host, bc->port);
	snprintf(msg, sizeof(msg), "%.*s", (int)c->message.len,
	    c->message.p ? c->message.p : "");
	if (is_auth_error(c->error))
		auth_failed(p, where, c->error, msg);
	else
		pool_fail(p, c->error != PW_ERR_SERVICE_NOT_READY,
		    "%s: %s%s%s", where, pw_server_error_name(c->error),
		    msg[0] ? ": " : "", msg);
	pool_lost(p, bc);
}

/* What came back to CONNECT is not Pulsar: the wrong port. */
static void
not_pulsar(struct pool *p, struct bconn *bc, const char *why)
{
	pool_fail(p, 1, "%s:%s does not speak the Pulsar protocol (%s): give "
	    "--url the broker's port (pulsar:// 6650, pulsar+ssl:// 6651), "
	    "or http:// for its web service", bc->host, bc->port, why);
	pool_lost(p, bc);
}

static void
send_auth(struct pool *p, struct bconn *bc)
{
	const char *tok = p->o.token ? p->o.token : "";

	pw_enc_auth_response(&bc->c->out, CLIENT_VERSION, "token", tok,
	    strlen(tok));
}

/* The commands that answer a request (by its request_id). */
static int
is_response(int type)
{
	switch (type) {
	case PW_ERROR:
	case PW_SUCCESS:
	case PW_LOOKUP_RESPONSE:
	case PW_PARTITIONED_METADATA_RESPONSE:
	case PW_GET_LAST_MESSAGE_ID_RESPONSE:
	case PW_ACK_RESPONSE:
	case PW_PRODUCER_SUCCESS:
		return 1;
	default:
		return 0;
	}
}

static void
dispatch(struct pool *p, struct bconn *bc, struct pw_cmd *c,
    const struct pw_frame *f)
{
	switch (c->type) {
	case PW_PING:
		pw_enc_pong(&bc->c->out);
		return;
	case PW_PONG:
		return;
	case PW_CONNECTED:
		bc->ready = 1;
		bc->max_message_size = c->max_message_size;
		if (c->max_message_size > 0 && (size_t)c->max_message_size +
		    65536 > PW_DEFAULT_MAX_FRAME)
			bc->max_frame = (size_t)c->max_message_size + 65536;
		return;
	case PW_AUTH_CHALLENGE:
		log_verbose("%s:%s: auth challenge", bc->host, bc->port);
		send_auth(p, bc);
		return;
	case PW_ERROR:
		if (!bc->ready) {
			connect_refused(p, bc, c);
			return;
		}
		if (c->request_id == UINT64_MAX && is_auth_error(c->error)) {
			auth_failed(p, bc->host, c->error, "");
			return;
		}
		break;
	}
	if (is_response(c->type)) {
		if (c->request_id == p->await_req && !p->got)
			take_resp(p, c);
		return;
	}
	if (p->h.frame != NULL)
		p->h.frame(p->h.arg, bc, c, f);
}

/* Handle the complete frames that bc has buffered. */
static void
process(struct pool *p, struct bconn *bc)
{
	struct conn *c = bc->c;
	struct pw_frame f;
	struct pw_cmd cmd;
	const char *why;
	size_t off = 0;
	int rc = 0;

	while (!bc->dead && (rc = pw_frame_next(c->in.data + off,
	    c->in.len - off, bc->max_frame, &f, &why)) == 1) {
		if (pw_cmd_decode(&cmd, f.cmd, f.cmd_len, &why) < 0) {
			if (!bc->ready)
				not_pulsar(p, bc, why);
			else {
				pool_fail(p, 0, "%s:%s: bad command: %s",
				    bc->host, bc->port, why);
				pool_lost(p, bc);
			}
			break;
		}
		dispatch(p, bc, &cmd, &f);
		off += f.frame_len;
	}
	if (!bc->dead && rc < 0 && !bc->ready)
		not_pulsar(p, bc, why);
	else if (!bc->dead && rc < 0) {
		pool_fail(p, 0, "%s:%s: %s", bc->host, bc->port, why);
		pool_lost(p, bc);
	}
	buf_consume(&c->in, off);
}

/*
 * Read and handle what bc has; then write what it has to write.  The
 * bytes read (a read on a timer may find none).
 */
static size_t
service(struct pool *p, struct bconn *bc)
{
	size_t had = bc->c->in.len, got;

	bc->read_at = monotime();
	if (conn_fill(bc->c) < 0) {
		process(p, bc);		/* what came before the end */
		if (!bc->dead)
			conn_failed(p, bc);
		return 0;
	}
	if ((got = bc->c->in.len - had) > 0) {
		bc->last_in = bc->read_at;
		bc->ping_at = 0;
	}
	process(p, bc);
	if (!bc->dead && conn_flush(bc->c) < 0)
		conn_failed(p, bc);
	return got;
}

/*
 * A stop asked (unless the user is ending and waits for its last answers)
 * abandons the request; a connection not yet CONNECTED is dropped then.
 */
static int
interrupted(struct pool *p, struct bconn *bc)
{
	if (!stop_asked() || p->ending)
		return 0;
	pool_fail(p, 0, "stopped");
	if (!bc->ready)
		pool_lost(p, bc);
	return 1;
}

/* Also the wait for CONNECTED, when req is 0 (pool_connect()). */
int
pool_request(struct pool *p, struct bconn *bc, uint64_t req,
    const char *what)
{
	struct pollfd pfd[2];
	double deadline = monotime() + p->o.timeout, left;
	int n, nfd, stopped = 0;

	p->await_req = req;
	p->got = 0;
	/* an answer is smaller than a low-water mark */
	bc->lowat_want = 0;
	conn_set_lowat(bc->c, 0);
	while (!bc->dead && !p->fatal && !(req == 0 ? bc->ready : p->got)) {
		if ((stopped = interrupted(p, bc)))
			break;
		if (conn_flush(bc->c) < 0) {
			conn_failed(p, bc);
			break;
		}
		if ((left = deadline - monotime()) <= 0) {
			pool_fail(p, 0, "%s:%s: no answer to %s in %g s",
			    bc->host, bc->port, what, p->o.timeout);
			pool_lost(p, bc);
			break;
		}
		pfd[0].fd = bc->c->fd;
		pfd[0].events = POLLIN | (conn_pending(bc->c) ? POLLOUT : 0);
		pfd[1].fd = p->h.side_fd ? p->h.side_fd(p->h.arg) : -1;
		pfd[1].events = POLLIN;
		pfd[1].revents = 0;
		nfd = pfd[1].fd >= 0 ? 2 : 1;
		n = poll(pfd, nfd, (int)(left * 1000) + 1);
		if (n < 0 && errno != EINTR) {
			pool_fail(p, 0, "poll: %s", strerror(errno));
			pool_lost(p, bc);
			break;
		}
		if (n > 0 && pfd[1].revents)
			p->h.side_ready(p->h.arg);
		if (n > 0 && (pfd[0].revents & ~POLLOUT))
			service(p, bc);
	}
	p->await_req = 0;
	if (p->fatal || bc->dead || stopped)
		return -1;
	return 0;
}

/* "connected": at info for a broker new to this process, else debug. */
static void
say_connected(struct pool *p, const struct bconn *bc)
{
	struct buf b = BUF_INIT;
	int level = LOG_LVL_INFO;
	size_t i;

	buf_addf(&b, "%s:%s", bc->host, bc->port);
	for (i = 0; i < p->nseen; i++)
		if (strcmp(p->seen[i], b.data) == 0)
			level = LOG_LVL_DEBUG;
	if (level == LOG_LVL_INFO) {
		p->seen = xreallocarray(p->seen, p->nseen + 1,
		    sizeof(*p->seen));
		p->seen[p->nseen++] = xstrdup(b.data);
	}
	if (bc->proxy_to != NULL)
		log_at(level, "connected", "broker=%s tls=%s proxy_to=%s",
		    b.data, bc->tls ? "yes" : "no", bc->proxy_to);
	else
		log_at(level, "connected", "broker=%s tls=%s", b.data,
		    bc->tls ? "yes" : "no");
	buf_release(&b);
}

struct bconn *
pool_connect(struct pool *p, const char *host, const char *port, int tls,
    const char *proxy_to)
{
	struct pw_connect pc;
	struct failure f;
	struct bconn *bc;
	struct conn *c;

	for (bc = p->conns; bc != NULL; bc = bc->next)
		if (!bc->dead && bc->tls == tls && strcmp(bc->host, host) ==
		    0 && strcmp(bc->port, port) == 0 &&
		    (proxy_to ? bc->proxy_to && strcmp(bc->proxy_to,
		    proxy_to) == 0 : bc->proxy_to == NULL))
			return bc;
	if (tls && p->tls == NULL)
		p->tls = net_tls_context(p->o.ca_file);
	log_verbose("connecting to %s:%s%s%s%s", host, port, tls ? " (TLS)" :
	    "", proxy_to ? " for " : "", proxy_to ? proxy_to : "");
	if ((c = conn_open(host, port, tls, p->tls, p->o.timeout, &f)) ==
	    NULL) {
		pool_fail(p, f.permanent, "%s", f.text);
		return NULL;
	}
	bc = xcalloc(1, sizeof(*bc));
	bc->c = c;
	bc->host = xstrdup(host);
	bc->port = xstrdup(port);
	bc->tls = tls;
	bc->proxy_to = proxy_to ? xstrdup(proxy_to) : NULL;
	bc->last_in = monotime();
	bc->next = p->conns;
	p->conns = bc;
	memset(&pc, 0, sizeof(pc));
	pc.client_version = CLIENT_VERSION;
	if (p->o.token != NULL) {
		pc.auth_method_name = "token";
		pc.auth_data = p->o.token;
		pc.auth_data_len = strlen(p->o.token);
	}
	pc.proxy_to_broker_url = proxy_to;
	pc.supports_auth_refresh = 1;
	pw_enc_connect(&c->out, &pc);
	if (pool_request(p, bc, 0, "CONNECT") < 0)
		return NULL;
	say_connected(p, bc);
	return bc;
}

struct bconn *
pool_connect_url(struct pool *p, const char *u, const char *proxy_to)
{
	struct url url;
	struct bconn *bc;
	const char *why;

	if (url_parse(&url, u, &why) < 0) {
		pool_fail(p, 0, "broker URL %s: %s", u, why);
		return NULL;
	}
	bc = pool_connect(p, url.host, url.port, url.tls, proxy_to);
	url_free(&url);
	return bc;
}

struct bconn *
pool_service(struct pool *p)
{
	return pool_connect(p, p->url.host, p->url.port, p->url.tls, NULL);
}

void
pool_request_failed(struct pool *p, const char *what, const char *topic)
{
	struct pool_resp *r = &p->resp;

	if (is_auth_error(r->error)) {
		auth_failed(p, topic, r->error, r->msg);
		return;
	}
	pool_fail(p, r->error == PW_ERR_TOPIC_NOT_FOUND ||
	    r->error == PW_ERR_INVALID_TOPIC_NAME ||
	    r->error == PW_ERR_NOT_ALLOWED, "%s: %s: %s%s%s", topic, what,
	    pw_server_error_name(r->error), r->msg[0] ? ": " : "", r->msg);
}

/* The mark bc's user wants, within bounds; its wait starts now. */
static void
set_lowat(struct bconn *bc)
{
	int want = bc->lowat_want;

	if (bc->dead)
		return;
	if (want < LOWAT_MIN)
		want = 0;
	else if (want > LOWAT_MAX)
		want = LOWAT_MAX;
	if (want > 0 && bc->c->lowat == 0) {
		bc->read_at = monotime();
		log_debug("low-water mark", "broker=%s:%s bytes=%d", bc->host,
		    bc->port, want);
	}
	conn_set_lowat(bc->c, want);
}

void
pool_prepare(struct pool *p, struct pollset *ps)
{
	struct bconn *bc;

	for (bc = p->conns; bc != NULL; bc = bc->next) {
		set_lowat(bc);
		bc->poll_i = pollset_add(ps, bc->c->fd, POLLIN |
		    (conn_pending(bc->c) ? POLLOUT : 0));
	}
}

double
pool_timer(const struct pool *p, double t)
{
	const struct bconn *bc;

	for (bc = p->conns; bc != NULL; bc = bc->next)
		if (!bc->dead && bc->c->lowat > 0 &&
		    bc->read_at + LOWAT_WAIT < t)
			t = bc->read_at + LOWAT_WAIT;
	return t;
}

/*
 * A connection is read when poll(2) says so, or when its low-water wait
 * is over: the messages then come slower than the mark, which is left
 * until the next estimate.  The clock only for a connection not ready.
 */
void
pool_run(struct pool *p, const struct pollset *ps)
{
	struct bconn *bc;
	size_t got;

	for (bc = p->conns; bc != NULL; bc = bc->next) {
		if (bc->dead)
			continue;
		if (pollset_revents(ps, bc->poll_i) & ~POLLOUT)
			service(p, bc);
		else if (bc->c->lowat > 0 &&
		    monotime() >= bc->read_at + LOWAT_WAIT) {
			bc->lowat_want = 0;
			got = service(p, bc);
			log_debug("low-water wait over", "broker=%s:%s read=%zu",
			    bc->host, bc->port, got);
		}
	}
}

static void
keepalive(struct pool *p, double now)
{
	struct bconn *bc;

	for (bc = p->conns; bc != NULL; bc = bc->next) {
		if (bc->dead)
			continue;
		if (now - bc->last_in > DEAD_IDLE) {
			pool_fail(p, 0, "%s:%s: silent for %g s", bc->host,
			    bc->port, DEAD_IDLE);
			pool_lost(p, bc);
		} else if (now - bc->last_in > PING_IDLE && bc->ping_at == 0) {
			pw_enc_ping(&bc->c->out);
			bc->ping_at = now;
		}
	}
}

void
pool_flush(struct pool *p, double now)
{
	struct bconn **bp, *bc;

	keepalive(p, now);
	for (bc = p->conns; bc != NULL; bc = bc->next)
		if (!bc->dead && conn_pending(bc->c) && conn_flush(bc->c) < 0)
			conn_failed(p, bc);
	for (bp = &p->conns; (bc = *bp) != NULL; ) {
		if (bc->dead) {
			*bp = bc->next;
			bconn_free(bc);
		} else
			bp = &bc->next;
	}
}
