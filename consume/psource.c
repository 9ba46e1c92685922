/*
 * The Pulsar source: a consumer of one topic (every partition of it),
 * speaking the binary protocol through the wire codec (pulsar_wire.h) over
 * net.c's connections, driven by pump.c's poll loop.
 *
 * Per partition, a consumer goes DOWN -> (lookup, SUBSCRIBE, maybe SEEK,
 * FLOW) -> READY, and back to DOWN on any loss (connection closed, broker's
 * CLOSE_CONSUMER, a request that failed or timed out), after which it is
 * subscribed again after an exponential backoff with jitter.  Lookup and
 * subscription run as short blocking exchanges (with timeouts) on the
 * connection concerned, during which other frames on it are handled as
 * usual and the ack channel is read (pump_take_acks), so that deliver
 * never blocks writing acks while we wait; one consumer is brought up per
 * round of the poll loop, so that stdout and the other connections are
 * served in between.  Receiving and acknowledging run from the poll loop.
 * (Making the exchanges non-blocking would need a state per request and a
 * non-blocking connect, TLS handshake and HTTP lookup: not worth it for
 * what happens once per (re)subscription.)
 *
 * Flow control: each consumer grants --receiver-queue permits, and grants
 * more (half a queue at a time) only while the pump has room, so memory
 * stays flat however long the backlog is.
 *
 * Acks: a message id goes into a consumer's pending ACK list when the
 * pump reports its seq acknowledged downstream; a batch entry is acked
 * whole once all the messages it gave are, a chunked message with all its
 * chunks; pending ids go out as one ACK command (many ids) every 100 ms
 * or 1000 ids, and at the end, where partly acknowledged batches are
 * acked with an ack_set.  On Exclusive and Failover subscriptions the
 * done prefix of what the session received (ackstream.h) goes first as
 * one cumulative ACK, and the pending ids it covers are left out.
 */
#include <sys/socket.h>

#include <err.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/ssl.h>

#include "ackstream.h"
#include "buf.h"
#include "frame.h"
#include "log.h"
#include "net.h"
#include "pct.h"
#include "pulsar_wire.h"
#include "pump.h"
#include "source.h"
#include "topic.h"
#include "weblookup.h"

#define CLIENT_VERSION	"lakepipe-consume 1.0"
#define REQ_TIMEOUT	10.0		/* seconds for one request */
#define PING_IDLE	30.0		/* ping a connection silent this long */
#define DEAD_IDLE	90.0		/* and drop it after this */
#define ACK_DELAY	0.1		/* seconds an ack may wait */
#define ACK_BATCH	1000		/* ids in one ACK command */
#define BACKOFF_MIN	0.1
#define BACKOFF_MAX	30.0
#define NBUCKETS	4096
#define STREAM_MAX	(1 << 20)	/* entries waiting for a cumulative ack */

#define AUX_BATCH	0x80000000u
#define AUX_CHUNK	0x40000000u

struct bconn {
	struct conn	*c;
	char		*host, *port, *proxy_to;
	int		 tls;
	int		 ready;		/* CONNECTED */
	int		 dead;
	size_t		 max_frame;
	size_t		 poll_i;
	double		 last_in, ping_at;
	struct bconn	*next;
};

enum pc_state { PC_DOWN, PC_SEEKING, PC_READY };

struct pcons {
	int		 partition;	/* -1: not partitioned */
	char		*topic;
	uint64_t	 cid;
	struct bconn	*bc;
	enum pc_state	 state;
	double		 retry_at, backoff, seek_deadline;
	int		 need_seek;
	uint32_t	 received;	/* messages since the last FLOW */
	struct pw_decoder *dec;
	int		 have_last, at_end;
	struct msgid	 last;
	struct pw_ack_id *acks;
	size_t		 nacks, acks_cap;
	struct astream	 stream;	/* for cumulative acks */
	struct msgid	 asked[16];	/* asked again after a bad checksum */
	size_t		 nasked;
	double		 ack_since;
};

/* A batch entry or a chunked message in flight, by (partition, ledger, entry). */
struct track {
	struct msgid	 key;		/* batch -1 */
	int		 chunked;
	uint32_t	 given, acked;	/* distinct messages the entry gave,
					   acked (a redelivered copy gives
					   the same ones again) */
	int		 complete;	/* its last message was seen */
	int32_t		 batch_size;
	uint64_t	*bits;		/* batch indexes acked */
	uint64_t	*seen;		/* batch indexes given */
	struct msgid	*chunks;
	int		 nchunks;
	struct track	*next;
};

struct resp {
	int		 type, error, has_error;
	char		 msg[256];
	char		*broker_url, *broker_url_tls;
	int		 lookup_type, authoritative, proxy;
	uint32_t	 partitions;
	struct pw_msgid	 last, md;
	int		 has_md;
};

struct psrc {
	struct source	 base;
	struct pulsar_opts o;
	struct url	 url;
	struct topic	 topic;
	struct web	 web;
	void		*tls;		/* SSL_CTX */
	struct bconn	*conns;
	struct pcons	*cons;
	size_t		 ncons;
	uint64_t	 next_cid, next_req;
	struct track	*tab[NBUCKETS];
	struct pump	*pump;		/* while running */
	int		 fatal, ended, stopping, started;
	uint64_t	 await_req;
	int		 got;
	struct resp	 resp;
	struct buf	 tmp;
	uint64_t	 bad_messages;
};

static double
jitter(double d)
{
	return d * (0.5 + (double)arc4random_uniform(1000) / 1000.0);
}

/* ---- message tracking: batches and chunks until acked ------------- */

static size_t
track_hash(const struct msgid *k)
{
	uint64_t h = (uint64_t)k->ledger * 0x9e3779b97f4a7c15ULL ^
	    (uint64_t)k->entry * 0xc2b2ae3d27d4eb4fULL ^
	    (uint64_t)(uint32_t)k->partition;

	return (size_t)(h ^ (h >> 29)) % NBUCKETS;
}

static struct track **
track_find(struct psrc *s, const struct msgid *id)
{
	struct track **tp;

	for (tp = &s->tab[track_hash(id)]; *tp != NULL; tp = &(*tp)->next)
		if ((*tp)->key.ledger == id->ledger &&
		    (*tp)->key.entry == id->entry &&
		    (*tp)->key.partition == id->partition)
			return tp;
	return tp;
}

static struct track *
track_get(struct psrc *s, const struct msgid *id)
{
	struct track **tp = track_find(s, id), *t;

	if (*tp != NULL)
		return *tp;
	t = xcalloc(1, sizeof(*t));
	t->key = *id;
	t->key.batch = -1;
	*tp = t;
	return t;
}

static void
track_free(struct track *t)
{
	free(t->bits);
	free(t->seen);
	free(t->chunks);
	free(t);
}

static void
track_clear(struct psrc *s)
{
	struct track *t;
	size_t b;

	for (b = 0; b < NBUCKETS; b++)
		while ((t = s->tab[b]) != NULL) {
			s->tab[b] = t->next;
			track_free(t);
		}
}

static void
track_remove(struct psrc *s, struct track *t)
{
	struct track **tp = track_find(s, &t->key);

	*tp = t->next;
	track_free(t);
}

/* ---- connections --------------------------------------------------- */

static void
consumer_down(struct psrc *s, struct pcons *pc, double delay)
{
	pc->state = PC_DOWN;
	pc->bc = NULL;
	pc->received = 0;
	if (pc->dec != NULL)
		pw_decoder_reset(pc->dec);
	if (delay < 0) {
		delay = jitter(pc->backoff);
		pc->backoff = pc->backoff * 2 > BACKOFF_MAX ? BACKOFF_MAX :
		    pc->backoff * 2;
	}
	pc->retry_at = monotime() + delay;
	log_verbose("%s: consumer down, again in %.1f s", pc->topic, delay);
}

static void
conn_lost(struct psrc *s, struct bconn *bc)
{
	size_t i;

	if (bc->dead)
		return;
	bc->dead = 1;
	for (i = 0; i < s->ncons; i++)
		if (s->cons[i].bc == bc)
			consumer_down(s, &s->cons[i], -1);
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

static void
reap_conns(struct psrc *s)
{
	struct bconn **bp = &s->conns, *bc;

	while ((bc = *bp) != NULL) {
		if (bc->dead) {
			*bp = bc->next;
			bconn_free(bc);
		} else
			bp = &bc->next;
	}
}

static struct pcons *
consumer_by_id(struct psrc *s, uint64_t cid)
{
	size_t i;

	for (i = 0; i < s->ncons; i++)
		if (s->cons[i].cid == cid && s->cons[i].state != PC_DOWN)
			return &s->cons[i];
	return NULL;
}

static void
take_resp(struct psrc *s, const struct pw_cmd *c)
{
	struct resp *r = &s->resp;

	free(r->broker_url);
	free(r->broker_url_tls);
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
	s->got = 1;
}

static int
is_auth_error(int e)
{
	return e == PW_ERR_AUTHENTICATION || e == PW_ERR_AUTHORIZATION;
}

static void
auth_failed(struct psrc *s, const char *where, int error, const char *msg)
{
	if (!s->fatal)
		warnx("%s: %s%s%s (check the token: --token-file or "
		    "PULSAR_TOKEN)", where, pw_server_error_name(error),
		    msg[0] ? ": " : "", msg);
	s->fatal = 1;
}

/* ---- receiving messages -------------------------------------------- */

struct sinkctx {
	struct psrc	*s;
	struct pcons	*pc;
};

static void
note_end(struct pcons *pc, const struct msgid *id, int last_in_entry)
{
	size_t i;

	for (i = 0; i < pc->nasked; i++)
		if (pc->asked[i].ledger == id->ledger &&
		    pc->asked[i].entry == id->entry) {
			pc->asked[i] = pc->asked[--pc->nasked];
			break;
		}
	if (!pc->have_last || pc->at_end)
		return;
	if (id->ledger > pc->last.ledger || (id->ledger == pc->last.ledger &&
	    (id->entry > pc->last.entry || (id->entry == pc->last.entry &&
	    (last_in_entry || id->batch >= pc->last.batch)))))
		pc->at_end = 1;
}

static void add_ack(struct psrc *, struct pcons *, const struct msgid *,
	    const uint64_t *, int, int32_t);
static void send_acks(struct psrc *, struct pcons *);

static void
emit_props(struct buf *out, const struct pw_msg *m)
{
	struct pw_props it = m->props;
	struct pw_bytes k, v;

	while (pw_props_next(&it, &k, &v)) {
		buf_add(out, " p.", 3);
		pct_encode_uri(out, k.p, k.len, 0);
		buf_addch(out, '=');
		pct_encode_value(out, v.p, v.len);
	}
}

static int
sink_msg(void *arg, const struct pw_msg *m)
{
	struct sinkctx *x = arg;
	struct psrc *s = x->s;
	struct pcons *pc = x->pc;
	struct buf *out;
	uint32_t aux = 0;
	struct track *t;

	pc->received++;
	if (s->ended)		/* after the end: the broker sends it again */
		return 0;
	out = pump_out(s->pump);
	frame_begin(out, 'M', m->payload.len);
	frame_add_u64(out, "seq", pump_seq(s->pump));
	buf_add(out, " id=", 4);
	msgid_format(out, &m->id);
	frame_add_str(out, "topic", pc->topic);
	frame_add_u64(out, "pt", m->publish_time);
	if (m->event_time)
		frame_add_u64(out, "et", m->event_time);
	if (m->has_key)
		frame_add(out, "key", m->key.p, m->key.len);
	if (m->has_ordering_key)
		frame_add(out, "okey", m->ordering_key.p, m->ordering_key.len);
	if (m->redelivery_count)
		frame_add_u64(out, "rc", m->redelivery_count);
	if (m->null_value)
		buf_add(out, " null=1", 7);
	emit_props(out, m);
	frame_finish(out, m->payload.p, m->payload.len);
	if (m->num_chunks > 1) {
		t = track_get(s, &m->id);
		t->chunked = 1;
		free(t->chunks);
		t->chunks = xreallocarray(NULL, (size_t)m->num_chunks,
		    sizeof(*t->chunks));
		memcpy(t->chunks, m->chunk_ids, (size_t)m->num_chunks *
		    sizeof(*t->chunks));
		t->nchunks = m->num_chunks;
		aux = AUX_CHUNK;
	} else if (m->batch_size > 0 && m->id.batch >= 0) {
		t = track_get(s, &m->id);
		if (t->bits == NULL) {
			t->batch_size = m->batch_size;
			t->bits = xcalloc(((size_t)m->batch_size + 63) / 64,
			    sizeof(uint64_t));
			t->seen = xcalloc(((size_t)m->batch_size + 63) / 64,
			    sizeof(uint64_t));
		}
		if (m->id.batch < t->batch_size && !(t->seen[m->id.batch /
		    64] & (1ULL << (m->id.batch % 64)))) {
			t->seen[m->id.batch / 64] |= 1ULL << (m->id.batch % 64);
			t->given++;
		}
		if (m->last_in_entry)
			t->complete = 1;
		aux = AUX_BATCH;
	}
	pump_commit(s->pump, &m->id, aux, m->payload.len);
	note_end(pc, &m->id, m->last_in_entry);
	return 0;
}

static void
sink_drop(void *arg, const struct msgid *ids, size_t n,
    enum pw_drop_reason why, const char *text)
{
	struct sinkctx *x = arg;
	size_t i;

	x->pc->received += (uint32_t)n;
	if (why == PW_DROP_SKIPPED || why == PW_DROP_DUPLICATE_CHUNK) {
		/* nothing in them to back up: ack so the backlog drains */
		for (i = 0; i < n; i++) {
			add_ack(x->s, x->pc, &ids[i], NULL, 0, 0);
			note_end(x->pc, &ids[i], 1);
		}
		return;
	}
	/* left unacked: the broker gives them again after a reconnect */
	warnx("%s: %s", x->pc->topic, text ? text : "chunked message lost");
	x->s->bad_messages++;
}

static void
on_message(struct psrc *s, struct bconn *bc, struct pw_cmd *c,
    const struct pw_frame *f)
{
	struct pcons *pc = consumer_by_id(s, c->consumer_id);
	struct sinkctx x;
	struct pw_sink sink;
	struct buf id = BUF_INIT;
	int rc;

	if (pc == NULL)
		return;		/* for a consumer we closed: comes again */
	x.s = s;
	x.pc = pc;
	sink.msg = sink_msg;
	sink.drop = sink_drop;
	sink.arg = &x;
	c->msgid.id.partition = pc->partition;
	astream_received(&pc->stream, c->msgid.id.ledger, c->msgid.id.entry);
	rc = pw_message_process(pc->dec, c, f->rest, f->rest_len,
	    (uint64_t)(monotime() * 1000), &sink);
	if (rc >= 0)
		return;
	msgid_format(&id, &c->msgid.id);
	pc->received++;
	s->bad_messages++;
	if (rc == PW_E_CHECKSUM) {
		/* a corrupted copy: not emitted, asked for again */
		warnx("%s: message %s: %s (not emitted, asked again)",
		    pc->topic, id.data, pw_decoder_error(pc->dec));
		pw_enc_redeliver(&bc->c->out, pc->cid, &c->msgid.id, 1);
		/* --stop-at-end waits for it (when there is room to say so) */
		if (pc->nasked < sizeof(pc->asked) / sizeof(pc->asked[0]))
			pc->asked[pc->nasked++] = c->msgid.id;
	} else
		warnx("%s: message %s: %s (not emitted, left unacked)",
		    pc->topic, id.data, pw_decoder_error(pc->dec));
	buf_release(&id);
}

static void
send_auth(struct psrc *s, struct bconn *bc)
{
	const char *tok = s->o.token ? s->o.token : "";

	pw_enc_auth_response(&bc->c->out, CLIENT_VERSION, "token", tok,
	    strlen(tok));
}

static void
dispatch(struct psrc *s, struct bconn *bc, struct pw_cmd *c,
    const struct pw_frame *f)
{
	struct pcons *pc;

	switch (c->type) {
	case PW_MESSAGE:
		on_message(s, bc, c, f);
		return;
	case PW_PING:
		pw_enc_pong(&bc->c->out);
		return;
	case PW_PONG:
		return;
	case PW_CONNECTED:
		bc->ready = 1;
		if (c->max_message_size > 0 && (size_t)c->max_message_size +
		    65536 > PW_DEFAULT_MAX_FRAME)
			bc->max_frame = (size_t)c->max_message_size + 65536;
		return;
	case PW_AUTH_CHALLENGE:
		log_verbose("%s:%s: auth challenge", bc->host, bc->port);
		send_auth(s, bc);
		return;
	case PW_CLOSE_CONSUMER:
		if ((pc = consumer_by_id(s, c->consumer_id)) != NULL) {
			log_verbose("%s: closed by the broker", pc->topic);
			consumer_down(s, pc, pc->state == PC_SEEKING ? 0 :
			    jitter(BACKOFF_MIN));
		}
		return;
	case PW_ACTIVE_CONSUMER_CHANGE:
	case PW_REACHED_END_OF_TOPIC:
		log_verbose("%s:%s: %s", bc->host, bc->port,
		    pw_cmd_name(c->type));
		return;
	case PW_ERROR:
		if (c->request_id == UINT64_MAX && is_auth_error(c->error)) {
			auth_failed(s, bc->host, c->error, "");
			return;
		}
		/* FALLTHROUGH */
	case PW_SUCCESS:
	case PW_LOOKUP_RESPONSE:
	case PW_PARTITIONED_METADATA_RESPONSE:
	case PW_GET_LAST_MESSAGE_ID_RESPONSE:
	case PW_ACK_RESPONSE:
		if (c->request_id == s->await_req && !s->got)
			take_resp(s, c);
		return;
	default:
		log_verbose("%s:%s: ignoring %s", bc->host, bc->port,
		    pw_cmd_name(c->type));
	}
}

/* Handle the complete frames that bc has buffered. */
static void
process(struct psrc *s, struct bconn *bc)
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
			warnx("%s:%s: bad command: %s", bc->host, bc->port,
			    why);
			conn_lost(s, bc);
			break;
		}
		dispatch(s, bc, &cmd, &f);
		off += f.frame_len;
	}
	if (!bc->dead && rc < 0) {
		warnx("%s:%s: %s", bc->host, bc->port, why);
		conn_lost(s, bc);
	}
	buf_consume(&c->in, off);
}

/* Read and handle what bc has; then write what it has to write. */
static void
service(struct psrc *s, struct bconn *bc)
{
	if (conn_fill(bc->c) < 0) {
		process(s, bc);		/* what came before the end */
		conn_lost(s, bc);
		return;
	}
	bc->last_in = monotime();
	bc->ping_at = 0;
	process(s, bc);
	if (!bc->dead && conn_flush(bc->c) < 0)
		conn_lost(s, bc);
}

/*
 * Send what bc->c->out holds and wait for the answer to request req
 * (or for CONNECTED when req is 0); 0, or -1 after a warning.
 */
static int
await(struct psrc *s, struct bconn *bc, uint64_t req, const char *what)
{
	struct pollfd pfd[2];
	double deadline = monotime() + REQ_TIMEOUT, left;
	int n, nfd;

	s->await_req = req;
	s->got = 0;
	while (!bc->dead && !s->fatal && !(req == 0 ? bc->ready : s->got)) {
		if (conn_flush(bc->c) < 0) {
			conn_lost(s, bc);
			break;
		}
		if ((left = deadline - monotime()) <= 0) {
			warnx("%s:%s: no answer to %s in %g s", bc->host,
			    bc->port, what, REQ_TIMEOUT);
			conn_lost(s, bc);
			break;
		}
		pfd[0].fd = bc->c->fd;
		pfd[0].events = POLLIN | (conn_pending(bc->c) ? POLLOUT : 0);
		pfd[1].fd = s->pump ? pump_ack_fd(s->pump) : -1;
		pfd[1].events = POLLIN;
		pfd[1].revents = 0;
		nfd = pfd[1].fd >= 0 ? 2 : 1;
		n = poll(pfd, nfd, (int)(left * 1000) + 1);
		if (n < 0 && errno != EINTR) {
			warn("poll");
			conn_lost(s, bc);
			break;
		}
		if (n > 0 && pfd[1].revents)
			pump_take_acks(s->pump);
		if (n > 0 && (pfd[0].revents & ~POLLOUT))
			service(s, bc);
	}
	s->await_req = 0;
	if (s->fatal || bc->dead)
		return -1;
	return 0;
}

/* A ready connection to host:port (through proxy_to when set). */
static struct bconn *
get_conn(struct psrc *s, const char *host, const char *port, int tls,
    const char *proxy_to)
{
	struct pw_connect pc;
	struct bconn *bc;
	struct conn *c;

	for (bc = s->conns; bc != NULL; bc = bc->next)
		if (!bc->dead && bc->tls == tls && strcmp(bc->host, host) ==
		    0 && strcmp(bc->port, port) == 0 &&
		    (proxy_to ? bc->proxy_to && strcmp(bc->proxy_to,
		    proxy_to) == 0 : bc->proxy_to == NULL))
			return bc;
	if (tls && s->tls == NULL)
		s->tls = net_tls_context(s->o.ca_file);
	log_verbose("connecting to %s:%s%s%s%s", host, port, tls ? " (TLS)" :
	    "", proxy_to ? " for " : "", proxy_to ? proxy_to : "");
	if ((c = conn_open(host, port, tls, s->tls, REQ_TIMEOUT)) == NULL)
		return NULL;
	bc = xcalloc(1, sizeof(*bc));
	bc->c = c;
	bc->host = xstrdup(host);
	bc->port = xstrdup(port);
	bc->tls = tls;
	bc->proxy_to = proxy_to ? xstrdup(proxy_to) : NULL;
	bc->last_in = monotime();
	bc->next = s->conns;
	s->conns = bc;
	memset(&pc, 0, sizeof(pc));
	pc.client_version = CLIENT_VERSION;
	if (s->o.token != NULL) {
		pc.auth_method_name = "token";
		pc.auth_data = s->o.token;
		pc.auth_data_len = strlen(s->o.token);
	}
	pc.proxy_to_broker_url = proxy_to;
	pc.supports_auth_refresh = 1;
	pw_enc_connect(&c->out, &pc);
	if (await(s, bc, 0, "CONNECT") < 0) {
		if (!s->fatal && bc->c->eof && s->o.token != NULL)
			log_verbose("%s:%s: closed during CONNECT", host, port);
		return NULL;
	}
	return bc;
}

static struct bconn *
get_conn_url(struct psrc *s, const char *u, const char *proxy_to)
{
	struct url url;
	struct bconn *bc;
	const char *why;

	if (url_parse(&url, u, &why) < 0) {
		warnx("broker URL %s: %s", u, why);
		return NULL;
	}
	bc = get_conn(s, url.host, url.port, url.tls, proxy_to);
	url_free(&url);
	return bc;
}

static struct bconn *
service_conn(struct psrc *s)
{
	return get_conn(s, s->url.host, s->url.port, s->url.tls, NULL);
}

/* Error answers: retry later, or give up (auth, a topic that is not). */
static void
request_failed(struct psrc *s, const char *what, const char *topic)
{
	struct resp *r = &s->resp;

	if (is_auth_error(r->error)) {
		auth_failed(s, topic, r->error, r->msg);
		return;
	}
	warnx("%s: %s: %s%s%s", topic, what, pw_server_error_name(r->error),
	    r->msg[0] ? ": " : "", r->msg);
	if (r->error == PW_ERR_TOPIC_NOT_FOUND ||
	    r->error == PW_ERR_INVALID_TOPIC_NAME ||
	    r->error == PW_ERR_NOT_ALLOWED)
		s->fatal = 1;
}

/* The connection to the broker that owns topic; NULL to retry later. */
static struct bconn *
lookup(struct psrc *s, const char *topic)
{
	struct bconn *bc;
	char *u = NULL;
	int i, authoritative = 0, rc;
	uint64_t req;

	if (s->url.http) {
		rc = web_lookup(&s->web, topic, s->url.tls, &u);
		if (rc == WEB_FATAL)
			s->fatal = 1;
		if (rc != WEB_OK)
			return NULL;
		bc = get_conn_url(s, u, NULL);
		free(u);
		return bc;
	}
	if ((bc = service_conn(s)) == NULL)
		return NULL;
	for (i = 0; i < 10; i++) {
		req = ++s->next_req;
		pw_enc_lookup(&bc->c->out, topic, req, authoritative,
		    s->o.listener);
		if (await(s, bc, req, "LOOKUP") < 0)
			return NULL;
		if (s->resp.type == PW_ERROR || s->resp.lookup_type ==
		    PW_LOOKUP_FAILED) {
			request_failed(s, "lookup", topic);
			return NULL;
		}
		u = s->url.tls && s->resp.broker_url_tls ?
		    s->resp.broker_url_tls : s->resp.broker_url;
		if (u == NULL) {
			warnx("%s: lookup answer without a broker URL", topic);
			return NULL;
		}
		u = xstrdup(u);
		if (s->resp.lookup_type == PW_LOOKUP_CONNECT) {
			bc = s->resp.proxy ? get_conn(s, s->url.host,
			    s->url.port, s->url.tls, u) : get_conn_url(s, u,
			    NULL);
			free(u);
			return bc;
		}
		log_verbose("%s: lookup redirected to %s", topic, u);
		authoritative = s->resp.authoritative;
		bc = get_conn_url(s, u, NULL);
		free(u);
		if (bc == NULL)
			return NULL;
	}
	warnx("%s: too many lookup redirects", topic);
	return NULL;
}

static int
partitions(struct psrc *s, unsigned *n)
{
	struct bconn *bc;
	uint64_t req;
	int rc;

	if (s->url.http) {
		rc = web_partitions(&s->web, &s->topic, n);
		if (rc == WEB_FATAL)
			s->fatal = 1;
		return rc == WEB_OK ? 0 : -1;
	}
	if ((bc = service_conn(s)) == NULL)
		return -1;
	req = ++s->next_req;
	pw_enc_partitioned_metadata(&bc->c->out, s->topic.full, req);
	if (await(s, bc, req, "PARTITIONED_METADATA") < 0)
		return -1;
	if (s->resp.type == PW_ERROR || s->resp.has_error) {
		request_failed(s, "partitioned metadata", s->topic.full);
		return -1;
	}
	*n = s->resp.partitions;
	return 0;
}

/* ---- subscribing ---------------------------------------------------- */

static int
do_subscribe(struct psrc *s, struct pcons *pc, struct bconn *bc)
{
	struct pw_subscribe sub;
	uint64_t req = ++s->next_req;

	memset(&sub, 0, sizeof(sub));
	sub.topic = pc->topic;
	sub.subscription = s->o.subscription;
	sub.sub_type = s->o.sub_type;
	sub.consumer_id = pc->cid = ++s->next_cid;
	sub.request_id = req;
	sub.consumer_name = CLIENT_VERSION;
	sub.initial_position = s->o.start == START_LATEST ? PW_POS_LATEST :
	    PW_POS_EARLIEST;
	pw_enc_subscribe(&bc->c->out, &sub);
	if (await(s, bc, req, "SUBSCRIBE") < 0)
		return -1;
	if (s->resp.type != PW_SUCCESS) {
		request_failed(s, "subscribe", pc->topic);
		return -1;
	}
	pc->bc = bc;
	pc->state = PC_READY;
	/* a new session: the broker dispatches from the mark-delete */
	astream_reset(&pc->stream, s->o.sub_type == PW_SUB_EXCLUSIVE ||
	    s->o.sub_type == PW_SUB_FAILOVER);
	return 0;
}

static int
do_seek(struct psrc *s, struct pcons *pc)
{
	uint64_t req = ++s->next_req;

	if (s->o.start == START_TIME)
		pw_enc_seek_time(&pc->bc->c->out, pc->cid, req,
		    s->o.start_time);
	else {
		struct msgid id = s->o.start_id;

		id.partition = pc->partition;
		pw_enc_seek_id(&pc->bc->c->out, pc->cid, req, &id);
	}
	if (await(s, pc->bc, req, "SEEK") < 0)
		return -1;
	if (s->resp.type != PW_SUCCESS) {
		request_failed(s, "seek", pc->topic);
		return -1;
	}
	pc->need_seek = 0;
	/* the broker closes the consumer now; subscribe again then */
	pc->state = PC_SEEKING;
	pc->seek_deadline = monotime() + REQ_TIMEOUT;
	log_verbose("%s: seek done", pc->topic);
	return 0;
}

static int
last_message_id(struct psrc *s, struct pcons *pc)
{
	uint64_t req = ++s->next_req;

	pw_enc_get_last_message_id(&pc->bc->c->out, pc->cid, req);
	if (await(s, pc->bc, req, "GET_LAST_MESSAGE_ID") < 0)
		return -1;
	if (s->resp.type != PW_GET_LAST_MESSAGE_ID_RESPONSE) {
		request_failed(s, "get last message id", pc->topic);
		return -1;
	}
	pc->last = s->resp.last.id;
	pc->have_last = 1;
	if (pc->last.entry < 0 || (s->resp.has_md &&
	    msgid_cmp(&s->resp.md.id, &pc->last) >= 0))
		pc->at_end = 1;		/* empty, or everything acked */
	log_verbose("%s: last message %lld:%lld%s", pc->topic,
	    (long long)pc->last.ledger, (long long)pc->last.entry,
	    pc->at_end ? ", nothing to read" : "");
	return 0;
}

static void
consumer_up(struct psrc *s, struct pcons *pc)
{
	struct bconn *bc;

	if ((bc = lookup(s, pc->topic)) == NULL || do_subscribe(s, pc,
	    bc) < 0)
		goto fail;
	if (pc->need_seek) {
		if (do_seek(s, pc) < 0)
			goto fail;
		return;
	}
	if (s->o.stop_at_end && !pc->have_last && last_message_id(s, pc) < 0)
		goto fail;
	/* acks held while down go out before FLOW: not sent again */
	send_acks(s, pc);
	pw_enc_flow(&bc->c->out, pc->cid, s->o.queue);
	pc->received = 0;
	pc->backoff = BACKOFF_MIN;
	log_verbose("%s: subscribed (%s:%s, consumer %llu)", pc->topic,
	    bc->host, bc->port, (unsigned long long)pc->cid);
	return;
fail:
	if (pc->state != PC_DOWN || pc->bc != NULL)
		pc->bc = NULL;
	if (!s->fatal)
		consumer_down(s, pc, -1);
}

static int
start(struct psrc *s)
{
	unsigned n = 0, i;
	struct buf name = BUF_INIT;

	if (partitions(s, &n) < 0)
		return -1;
	s->ncons = n ? n : 1;
	s->cons = xcalloc(s->ncons, sizeof(*s->cons));
	for (i = 0; i < s->ncons; i++) {
		struct pcons *pc = &s->cons[i];

		buf_reset(&name);
		buf_addstr(&name, s->topic.full);
		if (n)
			buf_addf(&name, "-partition-%u", i);
		pc->topic = xstrdup(name.data);
		pc->partition = n ? (int)i : -1;
		pc->dec = pw_decoder_new(NULL);
		astream_init(&pc->stream, STREAM_MAX);
		pc->backoff = BACKOFF_MIN;
		pc->need_seek = s->o.start == START_TIME ||
		    s->o.start == START_ID;
		pc->state = PC_DOWN;
		pc->retry_at = 0;
	}
	buf_release(&name);
	log_verbose("%s: %u partitions", s->topic.full, n);
	s->started = 1;
	return 0;
}

/* ---- acknowledging -------------------------------------------------- */

static void
add_ack(struct psrc *s, struct pcons *pc, const struct msgid *id,
    const uint64_t *set, int setlen, int32_t batch_size)
{
	struct pw_ack_id *a;

	if (pc->nacks == pc->acks_cap) {
		pc->acks_cap = pc->acks_cap ? pc->acks_cap * 2 : 64;
		pc->acks = xreallocarray(pc->acks, pc->acks_cap,
		    sizeof(*pc->acks));
	}
	if (pc->nacks == 0)
		pc->ack_since = monotime();
	a = &pc->acks[pc->nacks++];
	memset(a, 0, sizeof(*a));
	a->id = *id;
	if (set != NULL) {
		uint64_t *copy = xreallocarray(NULL, (size_t)setlen,
		    sizeof(*copy));

		memcpy(copy, set, (size_t)setlen * sizeof(*copy));
		a->ack_set = copy;
		a->ack_set_len = setlen;
		a->batch_size = batch_size;
	} else {
		a->id.batch = -1;
		astream_done(&pc->stream, id->ledger, id->entry);
	}
}

/*
 * The done prefix of the stream as one cumulative ACK; the pending ids it
 * covers are left out (not those with an ack_set: partial batches are
 * never in the prefix).
 */
static void
send_cumulative(struct pcons *pc)
{
	struct pw_ack_id cum;
	size_t i, n;

	memset(&cum, 0, sizeof(cum));
	if (!astream_take(&pc->stream, &cum.id.ledger, &cum.id.entry))
		return;
	cum.id.partition = pc->partition;
	cum.id.batch = -1;
	pw_enc_ack(&pc->bc->c->out, pc->cid, PW_ACK_CUMULATIVE, &cum, 1);
	for (i = n = 0; i < pc->nacks; i++)
		if (pc->acks[i].ack_set == NULL && astream_covers(&pc->stream,
		    pc->acks[i].id.ledger, pc->acks[i].id.entry))
			continue;
		else
			pc->acks[n++] = pc->acks[i];
	log_verbose("%s: cumulative ack %lld:%lld for %zu ids", pc->topic,
	    (long long)cum.id.ledger, (long long)cum.id.entry,
	    pc->nacks - n);
	pc->nacks = n;
}

static void
send_acks(struct psrc *s, struct pcons *pc)
{
	size_t i, n;

	if (pc->nacks == 0 || pc->state != PC_READY)
		return;
	send_cumulative(pc);
	for (i = 0; i < pc->nacks; i += n) {
		n = pc->nacks - i < ACK_BATCH ? pc->nacks - i : ACK_BATCH;
		pw_enc_ack(&pc->bc->c->out, pc->cid, PW_ACK_INDIVIDUAL,
		    pc->acks + i, n);
	}
	for (i = 0; i < pc->nacks; i++)
		free((void *)pc->acks[i].ack_set);
	pc->nacks = 0;
}

static struct pcons *
consumer_of(struct psrc *s, const struct msgid *id)
{
	if (id->partition >= 0 && (size_t)id->partition < s->ncons)
		return &s->cons[id->partition];
	return &s->cons[0];
}

static void
psrc_acked(struct source *src, uint64_t seq, const struct msgid *id,
    uint32_t aux)
{
	struct psrc *s = (struct psrc *)src;
	struct pcons *pc = consumer_of(s, id);
	struct track **tp, *t;
	int i;

	if (aux == 0) {
		add_ack(s, pc, id, NULL, 0, 0);
		return;
	}
	tp = track_find(s, id);
	if ((t = *tp) == NULL)
		return;
	if (aux & AUX_CHUNK) {
		for (i = 0; i < t->nchunks; i++)
			add_ack(s, pc, &t->chunks[i], NULL, 0, 0);
		track_remove(s, t);
		return;
	}
	if (id->batch >= 0 && id->batch < t->batch_size &&
	    !(t->bits[id->batch / 64] & (1ULL << (id->batch % 64)))) {
		t->bits[id->batch / 64] |= 1ULL << (id->batch % 64);
		t->acked++;
	}
	if (t->complete && t->acked >= t->given) {
		add_ack(s, pc, &t->key, NULL, 0, 0);
		track_remove(s, t);
	}
}

/* At the end: batches partly acknowledged go out with an ack_set. */
static void
ack_partial_batches(struct psrc *s)
{
	struct track *t, *nx;
	uint64_t *set;
	size_t b, w, words;
	int32_t i;

	for (b = 0; b < NBUCKETS; b++)
		for (t = s->tab[b]; t != NULL; t = nx) {
			nx = t->next;
			if (!t->chunked && t->acked > 0) {
				words = ((size_t)t->batch_size + 63) / 64;
				set = xcalloc(words, sizeof(*set));
				/* bit set = still not acknowledged */
				for (i = 0; i < t->batch_size; i++)
					if (!(t->bits[i / 64] &
					    (1ULL << (i % 64))))
						set[i / 64] |= 1ULL << (i % 64);
				for (w = words; w > 0 && set[w - 1] == 0; w--)
					;
				t->key.batch = -1;
				add_ack(s, consumer_of(s, &t->key), &t->key,
				    set, (int)words, t->batch_size);
				free(set);
			}
			track_free(t);
		}
	memset(s->tab, 0, sizeof(s->tab));
}

/* ---- the source interface ------------------------------------------ */

static double
next_timer(struct psrc *s, double now)
{
	double t = now + 1.0;
	size_t i;

	for (i = 0; i < s->ncons; i++) {
		struct pcons *pc = &s->cons[i];

		if (pc->state == PC_DOWN && pc->retry_at < t)
			t = pc->retry_at;
		if (pc->state == PC_SEEKING && pc->seek_deadline < t)
			t = pc->seek_deadline;
		if (pc->nacks > 0 && pc->ack_since + ACK_DELAY < t)
			t = pc->ack_since + ACK_DELAY;
	}
	return t;
}

/*
 * Give the broker back the permits of what was received, once half the
 * queue is used and there is room downstream.  Called from run() and again
 * from prepare(): when run() found the output full, the pump writes it out
 * before it polls, and the broker must not then wait for a timer to get
 * its permits.
 */
static void
grant_permits(struct psrc *s, struct pcons *pc, int room)
{
	if (pc->state == PC_READY && pc->received >= s->o.queue / 2 &&
	    pc->received > 0 && room && !s->ended) {
		pw_enc_flow(&pc->bc->c->out, pc->cid, pc->received);
		pc->received = 0;
	}
}

static int
psrc_prepare(struct source *src, struct pollset *ps, int can_emit)
{
	struct psrc *s = (struct psrc *)src;
	struct bconn *bc;
	double now = monotime(), t;
	size_t i;

	if (!s->started || s->fatal)
		return 0;
	for (i = 0; i < s->ncons; i++)
		grant_permits(s, &s->cons[i], can_emit);
	for (bc = s->conns; bc != NULL; bc = bc->next)
		bc->poll_i = pollset_add(ps, bc->c->fd, POLLIN |
		    (conn_pending(bc->c) ? POLLOUT : 0));
	t = next_timer(s, now) - now;
	return t <= 0 ? 0 : (int)(t * 1000) + 1;
}

static void
keepalive(struct psrc *s, double now)
{
	struct bconn *bc;

	for (bc = s->conns; bc != NULL; bc = bc->next) {
		if (bc->dead)
			continue;
		if (now - bc->last_in > DEAD_IDLE) {
			warnx("%s:%s: silent for %g s, reconnecting",
			    bc->host, bc->port, DEAD_IDLE);
			conn_lost(s, bc);
		} else if (now - bc->last_in > PING_IDLE && bc->ping_at == 0) {
			pw_enc_ping(&bc->c->out);
			bc->ping_at = now;
		}
	}
}

static int
all_at_end(struct psrc *s)
{
	size_t i;

	for (i = 0; i < s->ncons; i++)
		if (!s->cons[i].at_end || s->cons[i].nasked > 0)
			return 0;
	return 1;
}

static enum src_status
psrc_run(struct source *src, struct pump *p, const struct pollset *ps)
{
	struct psrc *s = (struct psrc *)src;
	struct bconn *bc;
	double now;
	size_t i;
	int up;

	s->pump = p;
	if (!s->started && start(s) < 0) {
		if (s->fatal)
			return SRC_FAIL;
		/* the cluster is not there yet: try again */
		sleep(1);
		return SRC_OK;
	}
	for (bc = s->conns; bc != NULL; bc = bc->next)
		if (!bc->dead && pollset_revents(ps, bc->poll_i) & ~POLLOUT)
			service(s, bc);
	now = monotime();
	for (i = 0, up = 0; i < s->ncons && !s->fatal; i++) {
		struct pcons *pc = &s->cons[i];

		if (pc->state == PC_SEEKING && now > pc->seek_deadline)
			consumer_down(s, pc, 0);
		/* one per round: its exchanges block (see above) */
		if (pc->state == PC_DOWN && now >= pc->retry_at &&
		    !s->stopping && !up++)
			consumer_up(s, pc);
		grant_permits(s, pc, pump_room(p));
		if (pc->nacks >= ACK_BATCH || (pc->nacks > 0 &&
		    now >= pc->ack_since + ACK_DELAY))
			send_acks(s, pc);
	}
	if (s->fatal)
		return SRC_FAIL;
	keepalive(s, now);
	for (bc = s->conns; bc != NULL; bc = bc->next)
		if (!bc->dead && conn_pending(bc->c) && conn_flush(bc->c) < 0)
			conn_lost(s, bc);
	reap_conns(s);
	if (!s->ended && (s->stopping || (s->o.stop_at_end &&
	    all_at_end(s)))) {
		log_verbose("%s", s->stopping ? "stopping" :
		    "end of the backlog");
		s->ended = 1;
	}
	return s->ended ? SRC_END : SRC_OK;
}

static void
psrc_stop(struct source *src)
{
	((struct psrc *)src)->stopping = 1;
}

/* Send the last acks, wait (a little) until they are written, close. */
static int
psrc_finish(struct source *src)
{
	struct psrc *s = (struct psrc *)src;
	size_t i, left = 0;

	ack_partial_batches(s);
	for (i = 0; i < s->ncons; i++)
		send_acks(s, &s->cons[i]);
	for (i = 0; i < s->ncons; i++) {
		struct pcons *pc = &s->cons[i];
		uint64_t req;

		left += pc->nacks;
		if (pc->state != PC_READY)
			continue;
		/*
		 * The broker answers CLOSE_CONSUMER after the ACKs sent
		 * before it on the same connection: then they are taken.
		 */
		req = ++s->next_req;
		pw_enc_close_consumer(&pc->bc->c->out, pc->cid, req);
		if (await(s, pc->bc, req, "CLOSE_CONSUMER") == 0)
			pc->state = PC_DOWN;
	}
	if (left > 0)
		warnx("%zu acks not sent: no connection (the broker sends "
		    "those messages again)", left);
	if (s->bad_messages > 0)
		warnx("%llu messages could not be decoded (left unacked)",
		    (unsigned long long)s->bad_messages);
	return s->fatal ? -1 : 0;
}

static void
psrc_free(struct source *src)
{
	struct psrc *s = (struct psrc *)src;
	struct bconn *bc;
	size_t i;

	while ((bc = s->conns) != NULL) {
		s->conns = bc->next;
		bconn_free(bc);
	}
	for (i = 0; i < s->ncons; i++) {
		free(s->cons[i].topic);
		pw_decoder_free(s->cons[i].dec);
		while (s->cons[i].nacks > 0)
			free((void *)s->cons[i].acks[--s->cons[i].nacks].ack_set);
		free(s->cons[i].acks);
		astream_free(&s->cons[i].stream);
	}
	free(s->cons);
	track_clear(s);
	free(s->resp.broker_url);
	free(s->resp.broker_url_tls);
	free(s->web.base);
	if (s->tls != NULL)
		SSL_CTX_free(s->tls);
	url_free(&s->url);
	topic_free(&s->topic);
	buf_release(&s->tmp);
	free(s);
}

static const struct source_ops pulsar_ops = {
	.name = "pulsar",
	.prepare = psrc_prepare,
	.run = psrc_run,
	.acked = psrc_acked,
	.stop = psrc_stop,
	.finish = psrc_finish,
	.free = psrc_free,
};

struct source *
pulsar_source_new(const struct pulsar_opts *o)
{
	struct psrc *s = xcalloc(1, sizeof(*s));
	const char *why;
	struct buf base = BUF_INIT;

	s->base.ops = &pulsar_ops;
	s->o = *o;
	if (url_parse(&s->url, o->url, &why) < 0) {
		warnx("--url %s: %s", o->url, why);
		free(s);
		return NULL;
	}
	if (topic_parse(&s->topic, o->topic, &why) < 0) {
		warnx("--topic %s: %s", o->topic, why);
		url_free(&s->url);
		free(s);
		return NULL;
	}
	if (strchr(s->url.host, ':') != NULL)
		buf_addf(&base, "%s://[%s]:%s", s->url.tls ? "https" : "http",
		    s->url.host, s->url.port);
	else
		buf_addf(&base, "%s://%s:%s", s->url.tls ? "https" : "http",
		    s->url.host, s->url.port);
	s->web.base = buf_detach(&base, NULL);
	s->web.token = o->token;
	s->web.ca_file = o->ca_file;
	s->web.timeout = REQ_TIMEOUT;
	return &s->base;
}
