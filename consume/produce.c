/*
 * The producer (produce.h): inputs -> messages -> one Pulsar producer per
 * partition -> SEND ... SEND_RECEIPT.
 *
 * A message read waits in the window (at most --max-pending messages and
 * WINDOW_BYTES of payload, but always one) until its receipt came.  It is
 * routed to a partition when read and queued on that partition's
 * producer, which sends what it has not yet sent on its connection.  A
 * producer is brought up (lookup, PRODUCER) only once it has a message to
 * send, one per round of the poll loop, as the consumer does it.
 *
 * A broker answers the SENDs of one producer in order, so a receipt must
 * name the oldest sequence id the producer has outstanding.  Anything else
 * (a receipt for a later one, a SEND_ERROR, a lost connection, the
 * broker's CLOSE_PRODUCER) takes the producer down; when it is up again it
 * sends everything without a receipt again, in order: at least once.
 *
 * Sequence ids are the message's number in the input, from 1, whatever
 * its partition: each partition's producer sees them rising, which is all
 * a broker's de-duplication needs, and --print-ids names them.
 */
#include <err.h>
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "frame.h"
#include "input.h"
#include "log.h"
#include "metrics.h"
#include "msgid.h"
#include "pct.h"
#include "produce.h"
#include "pulsar.h"
#include "pulsar_wire.h"
#include "source.h"
#include "stop.h"
#include "topic.h"

#define REQ_TIMEOUT	10.0		/* seconds for a connect or request */
#define WINDOW_BYTES	((size_t)64 << 20)	/* payload bytes in flight */
#define OUT_HIGH	((size_t)4 << 20)	/* SENDs buffered per conn */
#define DEFAULT_MAX_MESSAGE	(5 * 1024 * 1024)	/* before CONNECTED */

/* One message, from its reading to its receipt. */
struct pmsg {
	uint64_t	 seq;
	unsigned	 part;		/* index of its producer */
	uint64_t	 pt, et;
	int		 has_key, has_okey, null;
	struct pw_bytes	 payload, key, okey;	/* spans into b */
	struct pw_kv	*props;
	size_t		 nprops;
	struct buf	 b;
	const char	*name;		/* its input, for messages */
	uint64_t	 pos;		/* line number, or frame offset */
	int		 is_frame;
};

/* The producer of one partition (or of the topic). */
struct prod {
	int		 partition;	/* -1: the topic is not partitioned */
	char		*topic;
	uint64_t	 pid;
	struct bconn	*bc;		/* NULL: down */
	char		*name;		/* what the broker named it */
	double		 retry_at;
	struct retry	 retry;
	uint64_t	*q;		/* seqs without a receipt, in order */
	size_t		 qhead, qlen, qcap;
	size_t		 nsent;		/* of q, sent on bc */
};

struct producer {
	const struct produce_opts *o;
	struct pool	*pool;
	struct topic	 topic;
	struct prod	*prods;
	size_t		 nprods;
	unsigned	 rr;		/* next partition for a keyless message */
	struct pmsg	**win;		/* max_pending slots, by seq */
	uint64_t	 next_seq, oldest;	/* in flight: [oldest, next_seq) */
	size_t		 inflight, bytes;
	struct input	 in;
	int		 in_state;	/* what input_next() said last */
	size_t		 in_poll;
	int		 input_done, stopping, failed, gave_up;
	struct buf	 ids;		/* --print-ids lines to write */
	uint64_t	 receipts;
	struct progress	 prog;		/* -P */
	char		 last[64];	/* the last id, for -P */
	uint64_t	*m_messages, *m_bytes;
};

/* ---- partitions ---------------------------------------------------- */

/*
 * The length of the UTF-8 sequence that lead byte c starts (0: c cannot
 * start one) and the range of its second byte, which rules out overlong
 * forms, surrogates and code points past U+10FFFF (RFC 3629).
 */
static int
utf8_lead(unsigned c, unsigned *lo, unsigned *hi)
{
	*lo = 0x80;
	*hi = 0xbf;
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		return 2;
	if (c >= 0xe0 && c <= 0xef) {
		if (c == 0xe0)
			*lo = 0xa0;
		else if (c == 0xed)
			*hi = 0x9f;
		return 3;
	}
	if (c >= 0xf0 && c <= 0xf4) {
		if (c == 0xf0)
			*lo = 0x90;
		else if (c == 0xf4)
			*hi = 0x8f;
		return 4;
	}
	return 0;
}

/*
 * Java's String.hashCode() of the key read as UTF-8, without its sign
 * bit: Pulsar's JavaStringHash, the Java client's default, so that a key
 * lands where a Java producer would put it.  As Java's decoder does, each
 * maximal part of a malformed sequence counts as one U+FFFD.
 */
static uint32_t
key_hash(const unsigned char *p, size_t n)
{
	uint32_t h = 0, cp;
	unsigned lo, hi;
	size_t i = 0, k, len;

	while (i < n) {
		len = (size_t)utf8_lead(p[i], &lo, &hi);
		cp = len == 1 ? p[i] : p[i] & (0x7f >> len);
		for (k = 1; k < len && i + k < n && p[i + k] >= lo &&
		    p[i + k] <= hi; k++) {
			cp = cp << 6 | (p[i + k] & 0x3f);
			lo = 0x80;
			hi = 0xbf;
		}
		if (k < len || len == 0) {
			cp = 0xfffd;
			k = k > 1 ? k : 1;
		}
		i += k;
		if (cp >= 0x10000) {
			cp -= 0x10000;
			h = h * 31 + (0xd800 + (cp >> 10));
			cp = 0xdc00 + (cp & 0x3ff);
		}
		h = h * 31 + cp;
	}
	return h & 0x7fffffff;
}

unsigned
produce_partition(const void *key, size_t len, unsigned n)
{
	return key_hash(key, len) % n;
}

/* ---- reading the inputs --------------------------------------------- */

static struct pmsg *
msg_new(struct input *r, int is_frame)
{
	struct pmsg *m = xcalloc(1, sizeof(*m));

	buf_init(&m->b, 0);
	m->name = r->name;
	m->is_frame = is_frame;
	m->pt = wallclock_ms();
	return m;
}

static void
msg_free(struct pmsg *m)
{
	if (m == NULL)
		return;
	buf_release(&m->b);
	free(m->props);
	free(m);
}

/* "stdin line 3", "x.frames frame at byte 120": where a message came from. */
static void
msg_where(struct buf *b, const struct pmsg *m)
{
	buf_addf(b, "%s %s %llu", m->name, m->is_frame ? "frame at byte" :
	    "line", (unsigned long long)m->pos);
}

static struct pmsg *
msg_of_line(struct input *r, const char *s, size_t n)
{
	struct pmsg *m = msg_new(r, 0);

	m->pos = r->lineno;
	if (n > 0)
		buf_add(&m->b, s, n);
	m->payload.p = m->b.data;
	m->payload.len = n;
	return m;
}

static int
is_prop(const struct frame_field *fl)
{
	return fl->namelen > 2 && memcmp(fl->name, "p.", 2) == 0;
}

/*
 * The bytes of a frame's message in m->b: payload, key, ordering key,
 * then each property's name and value; then the spans into them.
 */
static int
frame_bytes(struct pmsg *m, const struct frame *f, const char **bad)
{
	const struct frame_field *fl;
	struct buf *b = &m->b;
	size_t i, at, k, len[2];
	char *p;
	int rc;

	buf_add(b, f->body, f->len);
	m->payload.len = f->len;
	at = b->len;
	if ((rc = frame_get(f, *bad = "key", b)) < 0)
		return -1;
	m->has_key = rc;
	m->key.len = b->len - at;
	at = b->len;
	if ((rc = frame_get(f, *bad = "okey", b)) < 0)
		return -1;
	m->has_okey = rc;
	m->okey.len = b->len - at;
	for (i = 0; i < f->nfields; i++)
		if (is_prop(&f->fields[i]))
			m->nprops++;
	m->props = m->nprops ? xcalloc(m->nprops, sizeof(*m->props)) : NULL;
	for (i = k = 0; i < f->nfields; i++) {
		fl = &f->fields[i];
		if (!is_prop(fl))
			continue;
		*bad = fl->name;
		at = b->len;
		if (pct_decode(b, fl->name + 2, fl->namelen - 2) < 0)
			return -1;
		len[0] = b->len - at;
		at = b->len;
		if (pct_decode(b, fl->val, fl->vallen) < 0)
			return -1;
		len[1] = b->len - at;
		m->props[k].key.len = len[0];
		m->props[k++].value.len = len[1];
	}
	/* b is complete: its data moves no more */
	p = b->data;
	m->payload.p = p;
	p += m->payload.len;
	m->key.p = p;
	p += m->key.len;
	m->okey.p = p;
	p += m->okey.len;
	for (k = 0; k < m->nprops; k++) {
		m->props[k].key.p = p;
		p += m->props[k].key.len;
		m->props[k].value.p = p;
		p += m->props[k].value.len;
	}
	return 0;
}

/* One message of a frame: key, okey, null, et and p.* kept. */
static struct pmsg *
msg_of_frame(struct input *r, const struct frame *f)
{
	struct pmsg *m = msg_new(r, 1);
	const struct frame_field *fl;
	const char *bad = "et";

	m->pos = f->offset;
	if (frame_bytes(m, f, &bad) < 0 || frame_get_u64(f, "et",
	    &m->et) < 0) {
		warnx("%s: frame at byte %llu: bad value of %s (percent-"
		    "encoding or number)", r->name,
		    (unsigned long long)f->offset, bad);
		msg_free(m);
		return NULL;
	}
	m->null = (fl = frame_field(f, "null")) != NULL && fl->vallen == 1 &&
	    fl->val[0] == '1';
	return m;
}

/* ---- producers and their queues -------------------------------------- */

static uint64_t
q_at(const struct prod *pr, size_t i)
{
	return pr->q[(pr->qhead + i) % pr->qcap];
}

static void
q_push(struct prod *pr, uint64_t seq)
{
	uint64_t *nq;
	size_t i, cap;

	if (pr->qlen == pr->qcap) {
		cap = pr->qcap ? pr->qcap * 2 : 64;
		nq = xreallocarray(NULL, cap, sizeof(*nq));
		for (i = 0; i < pr->qlen; i++)
			nq[i] = q_at(pr, i);
		free(pr->q);
		pr->q = nq;
		pr->qcap = cap;
		pr->qhead = 0;
	}
	pr->q[(pr->qhead + pr->qlen++) % pr->qcap] = seq;
}

static void
q_pop(struct prod *pr)
{
	pr->qhead = (pr->qhead + 1) % pr->qcap;
	pr->qlen--;
}

/* Drop entry i (a message that cannot be sent), keeping the order. */
static void
q_remove(struct prod *pr, size_t i)
{
	for (; i + 1 < pr->qlen; i++)
		pr->q[(pr->qhead + i) % pr->qcap] = q_at(pr, i + 1);
	pr->qlen--;
}

/* The producer is down: made again in delay seconds. */
static void
prod_down(struct prod *pr, double delay)
{
	pr->bc = NULL;
	pr->nsent = 0;
	pr->retry_at = monotime() + delay;
}

/*
 * Down for the reason in the pool's failure: made again after the backoff
 * (retry.c), or the end when --give-up has passed (said there).
 */
static void
prod_failed(struct producer *s, struct prod *pr)
{
	double delay = 0;

	if (!s->pool->fatal && (delay = retry_failed(&pr->retry, pr->topic,
	    pr->partition, s->pool->fail.text, s->o->give_up)) < 0) {
		s->gave_up = 1;
		delay = 0;
	}
	prod_down(pr, delay);
}

static struct prod *
prod_of(struct producer *s, struct bconn *bc, uint64_t pid)
{
	struct prod *pr;

	if (pid == 0 || pid > s->nprods)
		return NULL;
	pr = &s->prods[pid - 1];
	return pr->bc == bc ? pr : NULL;
}

static void
window_advance(struct producer *s)
{
	uint32_t w = s->o->max_pending;

	while (s->oldest < s->next_seq && s->win[s->oldest % w] == NULL)
		s->oldest++;
}

static void
on_receipt(struct producer *s, struct prod *pr, const struct pw_cmd *c)
{
	uint32_t w = s->o->max_pending;
	struct buf id = BUF_INIT;
	struct msgid mid = c->msgid.id;
	struct pmsg *m;
	uint64_t seq = c->sequence_id;

	if (pr->nsent == 0 || seq < q_at(pr, 0)) {
		log_verbose("%s: receipt for message %llu again (ignored)",
		    pr->topic, (unsigned long long)seq);
		return;
	}
	if (seq > q_at(pr, 0)) {
		pool_fail(s->pool, 0, "%s: receipt for message %llu while "
		    "%llu has none", pr->topic, (unsigned long long)seq,
		    (unsigned long long)q_at(pr, 0));
		pool_lost(s->pool, pr->bc);
		return;
	}
	q_pop(pr);
	pr->nsent--;
	m = s->win[seq % w];
	s->win[seq % w] = NULL;
	s->inflight--;
	s->bytes -= m->payload.len;
	s->receipts++;
	progress_add(&s->prog, 1, m->payload.len);
	(*s->m_messages)++;
	*s->m_bytes += m->payload.len;
	window_advance(s);
	mid.partition = pr->partition;
	mid.batch = -1;
	buf_addf(&id, "%lld:%lld:%d", (long long)mid.ledger,
	    (long long)mid.entry, mid.partition);
	(void)strlcpy(s->last, id.data, sizeof(s->last));
	if (s->o->print_ids)
		buf_addf(&s->ids, "%llu\t%s\n", (unsigned long long)seq,
		    id.data);
	log_debug("receipt", "seq=%llu id=%s topic=%s",
	    (unsigned long long)seq, id.data, pr->topic);
	buf_release(&id);
	msg_free(m);
}

/* Errors in a SEND_ERROR that sending again cannot mend. */
static int
send_error_is_final(int e)
{
	return e == PW_ERR_TOPIC_TERMINATED || e == PW_ERR_NOT_ALLOWED ||
	    e == PW_ERR_AUTHENTICATION || e == PW_ERR_AUTHORIZATION;
}

/* As Pulsar's clients do: a new connection, everything sent again. */
static void
on_send_error(struct producer *s, struct prod *pr, const struct pw_cmd *c)
{
	pool_fail(s->pool, send_error_is_final(c->error), "%s: message %llu: "
	    "SEND_ERROR %s%s%.*s", pr->topic,
	    (unsigned long long)c->sequence_id, pw_server_error_name(c->error),
	    c->message.len ? ": " : "", (int)c->message.len,
	    c->message.p ? c->message.p : "");
	pool_lost(s->pool, pr->bc);
}

static void
hook_frame(void *arg, struct bconn *bc, struct pw_cmd *c,
    const struct pw_frame *f)
{
	struct producer *s = arg;
	struct prod *pr = prod_of(s, bc, c->producer_id);

	switch (c->type) {
	case PW_SEND_RECEIPT:
		if (pr != NULL)
			on_receipt(s, pr, c);
		return;
	case PW_SEND_ERROR:
		if (pr != NULL)
			on_send_error(s, pr, c);
		return;
	case PW_CLOSE_PRODUCER:
		if (pr != NULL) {
			log_verbose("%s: producer closed by the broker",
			    pr->topic);
			prod_down(pr, retry_jitter(RETRY_MIN));
		}
		return;
	default:
		log_verbose("%s:%s: ignoring %s", bc->host, bc->port,
		    pw_cmd_name(c->type));
	}
}

static void
hook_lost(void *arg, struct bconn *bc)
{
	struct producer *s = arg;
	size_t i;

	for (i = 0; i < s->nprods; i++)
		if (s->prods[i].bc == bc)
			prod_failed(s, &s->prods[i]);
}

/* Lookup and PRODUCER; on a failure, down again for a while. */
static void
prod_up(struct producer *s, struct prod *pr)
{
	struct pw_producer pp;
	struct bconn *bc;
	uint64_t req;

	if ((bc = lookup_topic(s->pool, pr->topic)) == NULL)
		goto fail;
	req = pool_req(s->pool);
	memset(&pp, 0, sizeof(pp));
	pp.topic = pr->topic;
	pp.producer_id = pr->pid;
	pp.request_id = req;
	pp.producer_name = pr->name;
	pw_enc_producer(&bc->c->out, &pp);
	if (pool_request(s->pool, bc, req, "PRODUCER") < 0)
		goto fail;
	if (s->pool->resp.type != PW_PRODUCER_SUCCESS) {
		pool_request_failed(s->pool, "producer", pr->topic);
		goto fail;
	}
	if (pr->name == NULL && s->pool->resp.producer_name != NULL)
		pr->name = xstrdup(s->pool->resp.producer_name);
	pr->bc = bc;
	pr->nsent = 0;
	(void)retry_ok(&pr->retry, pr->topic, pr->partition);
	log_info("producer ready", "topic=%s producer=%s broker=%s:%s "
	    "queued=%zu", pr->topic, pr->name ? pr->name : "", bc->host,
	    bc->port, pr->qlen);
	return;
fail:
	prod_failed(s, pr);
}

/* ---- sending ---------------------------------------------------------- */

static size_t
max_message(const struct bconn *bc)
{
	return bc->max_message_size > 0 ? (size_t)bc->max_message_size :
	    DEFAULT_MAX_MESSAGE;
}

/* A message over the broker's limit: said, dropped, and the end. */
static void
too_big(struct producer *s, struct prod *pr, size_t i, size_t bytes)
{
	uint32_t w = s->o->max_pending;
	struct buf where = BUF_INIT;
	struct pmsg *m = s->win[q_at(pr, i) % w];

	msg_where(&where, m);
	warnx("%s: message of %zu bytes is over the broker's maximum message "
	    "size (%zu bytes): split it, or raise maxMessageSize at the "
	    "broker; reading no further", where.data, bytes, max_message(pr->bc));
	buf_release(&where);
	s->win[m->seq % w] = NULL;
	s->inflight--;
	s->bytes -= m->payload.len;
	window_advance(s);
	msg_free(m);
	q_remove(pr, i);
	s->failed = 1;
	s->stopping = 1;
}

static void
send_queued(struct producer *s, struct prod *pr)
{
	uint32_t w = s->o->max_pending;
	struct buf *out = &pr->bc->c->out;
	struct pw_send ps;
	struct pmsg *m;
	size_t before, size, limit = max_message(pr->bc);

	while (pr->nsent < pr->qlen && conn_pending(pr->bc->c) < OUT_HIGH) {
		m = s->win[q_at(pr, pr->nsent) % w];
		memset(&ps, 0, sizeof(ps));
		ps.producer_id = pr->pid;
		ps.sequence_id = m->seq;
		ps.producer_name = pr->name ? pr->name : "";
		ps.publish_time = m->pt;
		ps.event_time = m->et;
		ps.has_key = m->has_key;
		ps.key = m->key;
		ps.has_ordering_key = m->has_okey;
		ps.ordering_key = m->okey;
		ps.props = m->props;
		ps.nprops = m->nprops;
		ps.null_value = m->null;
		ps.payload = m->payload.p;
		ps.len = m->payload.len;
		before = out->len;
		pw_enc_send(out, &ps);
		size = out->len - before - 4;
		if (m->payload.len > limit || size > limit + PW_FRAME_PADDING) {
			buf_setlen(out, before);
			too_big(s, pr, pr->nsent, m->payload.len);
			continue;
		}
		pr->nsent++;
	}
}

/* ---- the window ------------------------------------------------------- */

static int
window_room(const struct producer *s)
{
	return s->inflight == 0 || (s->next_seq - s->oldest <
	    s->o->max_pending && s->bytes < WINDOW_BYTES);
}

static void
route(struct producer *s, struct pmsg *m)
{
	uint32_t w = s->o->max_pending;

	m->seq = s->next_seq++;
	if (s->inflight == 0)
		s->oldest = m->seq;
	if (s->nprods == 1)
		m->part = 0;
	else if (m->has_key)
		m->part = produce_partition(m->key.p, m->key.len,
		    (unsigned)s->nprods);
	else
		m->part = s->rr++ % s->nprods;
	s->win[m->seq % w] = m;
	s->inflight++;
	s->bytes += m->payload.len;
	q_push(&s->prods[m->part], m->seq);
}

/* The next message of the inputs: IN_LINE or IN_FRAME with *mp set. */
static int
next_message(struct input *r, struct pmsg **mp)
{
	const struct frame *f;
	const char *line;
	size_t len;
	int rc;

	rc = input_next(r, &line, &len, &f);
	if (rc == IN_LINE)
		*mp = msg_of_line(r, line, len);
	else if (rc == IN_FRAME && (*mp = msg_of_frame(r, f)) == NULL)
		rc = IN_FAIL;
	return rc;
}

/* Take messages from what the inputs have buffered while there is room. */
static void
read_inputs(struct producer *s, int readable)
{
	struct pmsg *m;

	while (!s->input_done && !s->stopping && window_room(s)) {
		s->in_state = next_message(&s->in, &m);
		if (s->in.opened) {	/* poll a new input before reading */
			s->in.opened = 0;
			readable = 0;
		}
		if (s->in_state == IN_LINE || s->in_state == IN_FRAME) {
			route(s, m);
			continue;
		}
		if (s->in_state == IN_MORE && readable) {
			readable = 0;
			if (input_fill(&s->in) == 0)
				continue;
			s->in_state = IN_FAIL;
		}
		if (s->in_state == IN_FAIL)
			s->failed = 1;
		if (s->in_state != IN_MORE) {
			s->input_done = 1;
			input_stop(&s->in);
		}
		break;
	}
}

/* ---- the loop --------------------------------------------------------- */

static int
write_ids(struct producer *s)
{
	if (s->ids.len == 0)
		return 0;
	if (write_all(STDOUT_FILENO, s->ids.data, s->ids.len) < 0) {
		if (errno == EPIPE)
			warnx("stdout closed");
		else
			warn("stdout");
		s->failed = 1;
		return -1;
	}
	buf_reset(&s->ids);
	return 0;
}

/*
 * How long poll(2) may wait: until the next producer's retry, -P's next
 * line or the next metrics file, at most 1 s.
 */
static int
poll_timeout(const struct producer *s, double now)
{
	double t = now + 1.0;
	size_t i;
	int ms, other[2];

	for (i = 0; i < s->nprods; i++)
		if (s->prods[i].bc == NULL && s->prods[i].qlen > 0 &&
		    s->prods[i].retry_at < t)
			t = s->prods[i].retry_at;
	ms = t <= now ? 0 : (int)((t - now) * 1000) + 1;
	other[0] = progress_timeout_ms(&s->prog);
	other[1] = metrics_timeout_ms();
	for (i = 0; i < 2; i++)
		if (other[i] >= 0 && other[i] < ms)
			ms = other[i];
	return ms;
}

/* Bring up one producer that is due, send what the ready ones have. */
static void
serve_producers(struct producer *s, double now)
{
	struct prod *pr;
	size_t i;
	int up = 0;

	for (i = 0; i < s->nprods && !s->pool->fatal; i++) {
		pr = &s->prods[i];
		if (pr->bc == NULL && pr->qlen > 0 && now >= pr->retry_at &&
		    !up++)
			prod_up(s, pr);
		if (pr->bc != NULL)
			send_queued(s, pr);
	}
}

static int
run(struct producer *s)
{
	struct pollset ps = { NULL, 0, 0 };
	double now;
	int readable = 0, n;

	for (;;) {
		if (stop_asked() && !s->stopping) {
			log_info("stopping", "waiting=%zu", s->inflight);
			s->stopping = 1;
			/* what was read is still to be sent: requests wait */
			s->pool->ending = 1;
		}
		read_inputs(s, readable);
		serve_producers(s, monotime());
		if (s->pool->fatal || s->gave_up || write_ids(s) < 0)
			break;
		if ((s->input_done || s->stopping) && s->inflight == 0)
			break;
		ps.n = 0;
		pool_prepare(s->pool, &ps);
		s->in_poll = SIZE_MAX;
		if (s->in_state == IN_MORE && !s->input_done &&
		    !s->stopping && window_room(s))
			s->in_poll = pollset_add(&ps, s->in.fd, POLLIN);
		n = poll(ps.fds, ps.n, poll_timeout(s, monotime()));
		if (n < 0 && errno != EINTR)
			err(EXIT_FAIL, "poll");
		readable = n > 0 && pollset_revents(&ps, s->in_poll) != 0;
		if (n > 0)
			pool_run(s->pool, &ps);
		now = monotime();
		pool_flush(s->pool, now);
		progress_tick(&s->prog, s->last[0] ? s->last : NULL);
		metrics_tick();
	}
	free(ps.fds);
	return s->inflight == 0 && !s->failed && !s->gave_up &&
	    !s->pool->fatal ? EXIT_OK : EXIT_FAIL;
}

/* ---- start and end ----------------------------------------------------- */

/* The partitions of the topic, asked again until --give-up. */
static int
start(struct producer *s)
{
	struct retry r;
	unsigned n = 0, i;
	struct buf name = BUF_INIT;
	double delay;

	retry_init(&r);
	while (lookup_partitions(s->pool, &s->topic, &n) < 0) {
		if (s->pool->fatal || stop_asked() || (delay = retry_failed(&r,
		    s->topic.full, -1, s->pool->fail.text, s->o->give_up)) < 0)
			return -1;
		(void)poll(NULL, 0, (int)(delay * 1000) + 1);
	}
	(void)retry_ok(&r, s->topic.full, -1);
	s->nprods = n ? n : 1;
	s->prods = xcalloc(s->nprods, sizeof(*s->prods));
	for (i = 0; i < s->nprods; i++) {
		buf_reset(&name);
		buf_addstr(&name, s->topic.full);
		if (n)
			buf_addf(&name, "-partition-%u", i);
		s->prods[i].topic = xstrdup(name.data);
		s->prods[i].partition = n ? (int)i : -1;
		s->prods[i].pid = i + 1;
		retry_init(&s->prods[i].retry);
	}
	buf_release(&name);
	log_debug("partitions", "topic=%s n=%u", s->topic.full, n);
	return 0;
}

/* CLOSE_PRODUCER for each producer that is up (its answer awaited). */
static void
close_producers(struct producer *s)
{
	struct prod *pr;
	uint64_t req;
	size_t i;

	for (i = 0; i < s->nprods; i++) {
		pr = &s->prods[i];
		if (pr->bc == NULL || pr->bc->dead)
			continue;
		req = pool_req(s->pool);
		pw_enc_close_producer(&pr->bc->c->out, pr->pid, req);
		(void)pool_request(s->pool, pr->bc, req, "CLOSE_PRODUCER");
	}
}

static void
producer_free(struct producer *s)
{
	size_t i;

	for (i = 0; i < s->nprods; i++) {
		free(s->prods[i].topic);
		free(s->prods[i].name);
		free(s->prods[i].q);
	}
	free(s->prods);
	if (s->win != NULL)
		for (i = 0; i < s->o->max_pending; i++)
			msg_free(s->win[i]);
	free(s->win);
	input_free(&s->in);
	buf_release(&s->ids);
	pool_free(s->pool);
	topic_free(&s->topic);
}

int
produce_main(const struct produce_opts *o)
{
	static const struct produce_input dash = { REPLAY_LINES, "-" };
	struct pool_opts po;
	struct pool_hooks ph;
	struct producer s;
	const char *why;
	int status = EXIT_FAIL;

	memset(&s, 0, sizeof(s));
	s.o = o;
	if (topic_parse(&s.topic, o->topic, &why) < 0) {
		warnx("--topic %s: %s", o->topic, why);
		return EXIT_USAGE;
	}
	po = o->pulsar;
	if (po.timeout <= 0)
		po.timeout = REQ_TIMEOUT;
	memset(&ph, 0, sizeof(ph));
	ph.arg = &s;
	ph.frame = hook_frame;
	ph.lost = hook_lost;
	if ((s.pool = pool_new(&po, &ph, &why)) == NULL) {
		warnx("--url %s: %s", po.url, why);
		topic_free(&s.topic);
		return EXIT_USAGE;
	}
	s.win = xcalloc(o->max_pending, sizeof(*s.win));
	s.next_seq = s.oldest = 1;
	buf_init(&s.ids, 0);
	progress_init(&s.prog, o->progress, "messages");
	s.m_messages = metrics_counter("messages_total",
	    "Messages published (with a receipt).");
	s.m_bytes = metrics_counter("bytes_total",
	    "Payload bytes of the messages published.");
	if (o->ninputs > 0)
		input_init(&s.in, o->inputs, o->ninputs, o->max_size);
	else
		input_init(&s.in, &dash, 1, o->max_size);
	s.in_state = IN_MORE;
	stop_catch();
	if (start(&s) == 0) {
		status = run(&s);
		if (!s.pool->fatal)
			close_producers(&s);
		/* after a permanent error its own line says it all */
		if (s.inflight > 0 && !s.pool->fatal)
			warnx("%zu messages have no receipt (they may or may "
			    "not be in the topic)", s.inflight);
		log_info("published", "topic=%s n=%llu", s.topic.full,
		    (unsigned long long)s.receipts);
	} else if (stop_asked() && !s.pool->fatal)
		status = EXIT_OK;	/* stopped before anything was read */
	/* a permanent failure is said here, once (a give-up was said) */
	if (s.pool->fatal)
		log_error(s.pool->fail.text, NULL);
	progress_done(&s.prog);
	if (metrics_flush() < 0 && status == EXIT_OK)
		status = EXIT_FAIL;
	producer_free(&s);
	return status;
}
