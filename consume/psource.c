/*
 * The Pulsar source: a consumer of one topic (every partition of it),
 * speaking the binary protocol through the wire codec (pulsar_wire.h) over
 * the pool of broker connections (pulsar.h), driven by pump.c's poll loop.
 *
 * Per partition, a consumer goes DOWN -> (lookup, SUBSCRIBE, maybe SEEK,
 * FLOW) -> READY, and back to DOWN on any loss (connection closed, broker's
 * CLOSE_CONSUMER, a request that failed or timed out), after which it is
 * subscribed again after an exponential backoff with jitter.  Lookup and
 * subscription run as short blocking exchanges (pool_request(), with
 * timeouts) on the connection concerned, during which other frames on it
 * are handled as usual and the ack channel is read (pump_take_acks), so
 * that deliver never blocks writing acks while we wait; one consumer is
 * brought up per round of the poll loop, so that stdout and the other
 * connections are served in between.  Receiving and acknowledging run
 * from the poll loop.  (Making the exchanges non-blocking would need a
 * state per request and a non-blocking connect, TLS handshake and HTTP
 * lookup: not worth it for what happens once per (re)subscription.)
 *
 * Flow control: each consumer grants --receiver-queue permits, and grants
 * more (half a queue at a time) only while the pump has room, so memory
 * stays flat however long the backlog is.
 *
 * Acks: a message id goes into a consumer's pending ACK list when the
 * pump reports its seq acknowledged downstream (batches and chunked
 * messages through packs.c, once whole); pending ids go out as one ACK
 * command (many ids) every 100 ms or 1000 ids, and at the end, where
 * partly acknowledged batches are acked with an ack_set.  On Exclusive
 * and Failover subscriptions the done prefix of what the session received
 * (ackstream.h) goes first as one cumulative ACK, and the pending ids it
 * covers are left out.
 */
#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ackstream.h"
#include "buf.h"
#include "checkpoint.h"
#include "frame.h"
#include "log.h"
#include "metrics.h"
#include "msghead.h"
#include "pct.h"
#include "pulsar.h"
#include "pulsar_wire.h"
#include "pump.h"
#include "source.h"
#include "stop.h"
#include "topic.h"

#define REQ_TIMEOUT	10.0		/* seconds for one request */
#define ACK_DELAY	0.1		/* seconds an ack may wait */
#define ACK_BATCH	1000		/* ids in one ACK command */
#define STREAM_MAX	(1 << 20)	/* entries waiting for a cumulative ack */
#define STATS_EVERY	10.0		/* seconds between CONSUMER_STATS */
#define PROBE_EVERY	1.0		/* the same, while they tell the end */

enum pc_state { PC_DOWN, PC_SEEKING, PC_READY };

struct pcons {
	int		 partition;	/* -1: not partitioned */
	char		*topic;
	struct msghead	 head;		/* its frames' headers, up to pt= */
	uint64_t	 cid;
	struct bconn	*bc;
	enum pc_state	 state;
	double		 retry_at, seek_deadline;
	struct retry	 retry;		/* bring-ups failed in a row */
	int		 need_seek;
	uint32_t	 received;	/* messages since the last FLOW */
	struct pw_decoder *dec;
	int		 have_last, at_end;
	int		 end_probe;	/* no mark-delete: the end from stats */
	int		 standby;	/* Failover: another consumer reads */
	int		 recheck_end;	/* became active: ask for the end again */
	struct msgid	 last;
	struct pw_ack_id *acks;
	size_t		 nacks, acks_cap;
	struct astream	 stream;	/* for cumulative acks */
	struct msgid	 asked[16];	/* asked again after a bad checksum */
	size_t		 nasked;
	double		 ack_since;
	double		 stats_at;	/* next CONSUMER_STATS */
	uint64_t	 stats_req;	/* the one in flight, 0: none */
	double		*m_backlog;	/* backlog_messages{partition="N"} */
	/*
	 * --exactly-once: the ranges the lake holds, read at each
	 * subscription; hi, the last id emitted this run (in order, as
	 * Exclusive and Failover deliver); cut, the next message emitted
	 * starts an object (messages before it were skipped); prev, tell
	 * transform the stored id before it; reread, read the lake again
	 * at the next message (see active_change).
	 */
	struct ckpt	 stored;
	struct msgid	 hi, emitted;
	int		 have_hi, have_emitted, cut, prev, reread;
};

struct psrc {
	struct source	 base;
	struct pulsar_opts o;
	struct topic	 topic;
	struct pool	*pool;
	struct pcons	*cons;
	size_t		 ncons;
	uint64_t	 next_cid;
	struct packs	*packs;
	struct pump	*pump;		/* while running */
	int		 ended, stopping, started, failed;
	double		 start_at;	/* next try to start (partitions) */
	struct retry	 start_retry;
	uint64_t	 bad_messages;
	uint64_t	 acks_sent, cumulative_sent;	/* ids, commands */
};

/* ---- consumers up and down ------------------------------------------ */

/* The consumer is down: subscribed again in delay seconds. */
static void
consumer_down(struct psrc *s, struct pcons *pc, double delay)
{
	pc->state = PC_DOWN;
	pc->bc = NULL;
	pc->received = 0;
	if (pc->dec != NULL)
		pw_decoder_reset(pc->dec);
	pc->retry_at = monotime() + delay;
}

/*
 * Down for the reason in the pool's failure: retried after the backoff
 * (retry.c), or the end when --give-up has passed.  A stop asked cuts
 * exchanges short: not a failure worth a line.
 */
static void
consumer_failed(struct psrc *s, struct pcons *pc)
{
	double delay;

	if (stop_asked() || s->pool->fatal) {
		consumer_down(s, pc, 0);
		return;
	}
	delay = retry_failed(&pc->retry, pc->topic, pc->partition,
	    s->pool->fail.text, s->o.give_up);
	if (delay < 0) {
		s->failed = 1;
		delay = 0;
	}
	consumer_down(s, pc, delay);
}

static void
conn_lost(void *arg, struct bconn *bc)
{
	struct psrc *s = arg;
	size_t i;

	for (i = 0; i < s->ncons; i++)
		if (s->cons[i].bc == bc)
			consumer_failed(s, &s->cons[i]);
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
static void ack_one(void *, const struct msgid *, const uint64_t *, int,
	    int32_t);
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

static int read_lake(struct psrc *, struct pcons *);

/*
 * --exactly-once: a message the lake holds is acknowledged, not emitted
 * (through packs, so that a batch entry is acked once all of it is);
 * a copy of one emitted this run and still on its way downstream (a
 * redelivery after a lost connection) is dropped: the first copy's ack
 * will do.  Either way the next message emitted starts an object.
 */
static int
already_there(struct psrc *s, struct pcons *pc, const struct pw_msg *m)
{
	uint32_t aux;

	if (pc->reread) {
		pc->reread = 0;
		if (read_lake(s, pc) < 0)
			log_warn("cannot read the lake again", "topic=%s "
			    "error=%s", pc->topic, s->pool->fail.text);
		/* another stored past what we emitted: no object spans it */
		else if (pc->have_hi && pc->stored.n > 0 && msgid_cmp(
		    &pc->stored.r[pc->stored.n - 1].last, &pc->hi) > 0)
			pc->cut = 1;
	}
	if (ckpt_find(&pc->stored, &m->id) != NULL) {
		aux = packs_emitted(s->packs, m);
		packs_acked(s->packs, &m->id, aux, ack_one, s);
		note_end(pc, &m->id, m->last_in_entry);
		pc->cut = pc->prev = 1;
		return 1;
	}
	if (pc->have_hi && msgid_cmp(&m->id, &pc->hi) <= 0) {
		note_end(pc, &m->id, m->last_in_entry);
		return 1;
	}
	pc->emitted = pc->hi;
	pc->have_emitted = pc->have_hi;
	pc->hi = m->id;
	pc->have_hi = 1;
	return 0;
}

/* cut=1 and prev=ID on the first message emitted after a skip. */
static void
add_cut(struct pcons *pc, struct buf *out, const struct msgid *id)
{
	const struct msgid *before;

	if (pc->cut)
		buf_addstr(out, " cut=1");
	before = pc->prev ? ckpt_before(&pc->stored, id) : NULL;
	/* emitted this run, stored before this one, maybe not indexed yet */
	if (pc->prev && pc->have_emitted && (before == NULL ||
	    msgid_cmp(&pc->emitted, before) > 0))
		before = &pc->emitted;
	if (before != NULL) {
		buf_addstr(out, " prev=");
		msgid_format(out, before);
	}
	pc->cut = pc->prev = 0;
}

/* The header fields after pt=, those a message has. */
static void
put_fields(struct psrc *s, struct pcons *pc, struct buf *out,
    const struct pw_msg *m)
{
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
	if (s->o.lake != NULL)
		add_cut(pc, out, &m->id);
	emit_props(out, m);
}

/*
 * A batch entry's messages to deliver (or one message), in order: one
 * call for them all, the loop over them here.
 */
static int
sink_batch(void *arg, const struct pw_msg *msgs, size_t n)
{
	struct sinkctx *x = arg;
	struct psrc *s = x->s;
	struct pcons *pc = x->pc;
	struct buf *out = pump_out(s->pump);
	const struct pw_msg *m;
	uint64_t seq;
	uint32_t aux;
	size_t i;
	int lake = s->o.lake != NULL;

	pc->received += (uint32_t)n;
	if (s->ended)		/* after the end: the broker sends it again */
		return 0;
	for (i = 0; i < n; i++) {
		m = &msgs[i];
		if (lake && already_there(s, pc, m))
			continue;
		seq = pump_seq(s->pump);
		/* most messages have nothing in the header past pt= */
		if (!lake && !(m->event_time | m->redelivery_count |
		    m->props.count) && !(m->has_key | m->has_ordering_key |
		    m->null_value) && m->payload.p != NULL)
			msghead_put(&pc->head, out, m->payload.len, seq,
			    &m->id, m->publish_time, m->payload.p);
		else {
			msghead_put(&pc->head, out, m->payload.len, seq,
			    &m->id, m->publish_time, NULL);
			put_fields(s, pc, out, m);
			frame_finish(out, m->payload.p, m->payload.len);
		}
		aux = packs_emitted(s->packs, m);
		pump_commit(s->pump, &m->id, aux, m->payload.len);
		/*
		 * The messages come from one entry, by batch index: when one
		 * reaches the end, so does the last (at_end is not looked at
		 * in between).  Asked entries are forgotten one per message.
		 */
		if (m->last_in_entry || i == n - 1 || pc->nasked > 0)
			note_end(pc, &m->id, m->last_in_entry);
	}
	return 0;
}

static int
sink_msg(void *arg, const struct pw_msg *m)
{
	return sink_batch(arg, m, 1);
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
	sink.batch = sink_batch;
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

/*
 * A broker whose GET_LAST_MESSAGE_ID answer has no mark-delete position
 * leaves the end of a fully acknowledged partition unknown: no message
 * comes to reach the last id.  Its CONSUMER_STATS backlog counts every
 * message of the subscription not acknowledged, those dispatched to us
 * included; our acks go out on the same connection before the question.
 * A backlog of 0 with no ack of ours held back is thus the end.
 */
static void
probe_end(struct pcons *pc, uint64_t backlog)
{
	if (!pc->end_probe || pc->at_end || backlog != 0 || pc->nacks > 0)
		return;
	pc->at_end = 1;
	log_verbose("%s: backlog 0, nothing to read", pc->topic);
}

/* The broker's backlog of a consumer, for backlog_messages. */
static void
took_stats(struct psrc *s, const struct pw_cmd *c)
{
	size_t i;

	for (i = 0; i < s->ncons; i++) {
		struct pcons *pc = &s->cons[i];

		if (pc->stats_req == 0 || pc->stats_req != c->request_id)
			continue;
		pc->stats_req = 0;
		if (c->has_backlog && !c->has_error) {
			*pc->m_backlog = (double)c->msg_backlog;
			probe_end(pc, c->msg_backlog);
		} else
			log_debug("no consumer stats", "topic=%s error=%s",
			    pc->topic, pw_server_error_name(c->error));
	}
}

/*
 * Ask every STATS_EVERY seconds (PROBE_EVERY while the answer may tell
 * the end), one question at a time; the first right after the FLOW.
 */
static void
ask_stats(struct psrc *s, struct pcons *pc, double now)
{
	double every = pc->end_probe && !pc->at_end ? PROBE_EVERY :
	    STATS_EVERY;

	if (pc->state != PC_READY || now < pc->stats_at ||
	    (pc->stats_req != 0 && now < pc->stats_at + every))
		return;
	pc->stats_req = pool_req(s->pool);
	pc->stats_at = now + every;
	pw_enc_consumer_stats(&pc->bc->c->out, pc->cid, pc->stats_req);
}

/*
 * On a Failover subscription the broker names the one consumer of each
 * partition that gets its messages.  For --stop-at-end a partition that
 * another consumer reads is not ours to drain: it does not hold the end
 * back (pipelines sharing the subscription would otherwise wait for each
 * other forever).
 */
static int last_message_id(struct psrc *, struct pcons *);
static void consumer_failed(struct psrc *, struct pcons *);

static void
active_change(struct psrc *s, struct pcons *pc, int active)
{
	/*
	 * Becoming (or being told again that it is) the active consumer
	 * after another one read: what we know may be stale.  The lake, for
	 * --exactly-once (the other stored more, and acked it: the prev= of
	 * our next object must name its last), read again when the next
	 * message comes, not now: the other may still be storing what it
	 * had, and a message the broker sends us after it acked its last
	 * comes after that object and its index entry were stored (deliver
	 * runs as a child: the pool is not involved).  And the end, for
	 * --stop-at-end (the other may have drained the partition and
	 * left, so that no message will come to reach it), asked from the
	 * main loop, since a request cannot be made from within this
	 * frame's dispatch.
	 */
	if (active) {
		pc->recheck_end = s->o.stop_at_end && !pc->at_end;
		pc->reread = s->o.lake != NULL;
	}
	if (pc->standby == !active)
		return;
	pc->standby = !active;
	log_info(active ? "active" : "standby", "topic=%s partition=%d",
	    pc->topic, pc->partition);
}

/* What active_change() left to do, on a consumer that is up. */
static void
after_takeover(struct psrc *s, struct pcons *pc)
{
	pc->recheck_end = 0;
	if (last_message_id(s, pc) < 0)
		consumer_failed(s, pc);
}

static void
on_frame(void *arg, struct bconn *bc, struct pw_cmd *c,
    const struct pw_frame *f)
{
	struct psrc *s = arg;
	struct pcons *pc;

	switch (c->type) {
	case PW_MESSAGE:
		on_message(s, bc, c, f);
		return;
	case PW_CLOSE_CONSUMER:
		if ((pc = consumer_by_id(s, c->consumer_id)) == NULL)
			return;
		if (pc->state == PC_SEEKING)	/* as a seek does */
			consumer_down(s, pc, 0);
		else {
			log_info("closed by the broker", "topic=%s "
			    "partition=%d broker=%s:%s", pc->topic,
			    pc->partition, bc->host, bc->port);
			consumer_down(s, pc, retry_jitter(RETRY_MIN));
		}
		return;
	case PW_CONSUMER_STATS_RESPONSE:
		took_stats(s, c);
		return;
	case PW_ACTIVE_CONSUMER_CHANGE:
		if ((pc = consumer_by_id(s, c->consumer_id)) != NULL)
			active_change(s, pc, c->is_active);
		return;
	case PW_REACHED_END_OF_TOPIC:
		log_verbose("%s:%s: %s", bc->host, bc->port,
		    pw_cmd_name(c->type));
		return;
	default:
		log_verbose("%s:%s: ignoring %s", bc->host, bc->port,
		    pw_cmd_name(c->type));
	}
}

/* While a request blocks: the ack channel, so deliver never blocks. */
static int
ack_fd(void *arg)
{
	struct psrc *s = arg;

	return s->pump ? pump_ack_fd(s->pump) : -1;
}

static void
take_acks(void *arg)
{
	pump_take_acks(((struct psrc *)arg)->pump);
}

/* ---- subscribing ---------------------------------------------------- */

static int
do_subscribe(struct psrc *s, struct pcons *pc, struct bconn *bc)
{
	struct pw_subscribe sub;
	uint64_t req = pool_req(s->pool);

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
	if (pool_request(s->pool, bc, req, "SUBSCRIBE") < 0)
		return -1;
	if (s->pool->resp.type != PW_SUCCESS) {
		pool_request_failed(s->pool, "subscribe", pc->topic);
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
	uint64_t req = pool_req(s->pool);

	if (s->o.start == START_TIME)
		pw_enc_seek_time(&pc->bc->c->out, pc->cid, req,
		    s->o.start_time);
	else {
		struct msgid id = s->o.start_id;

		id.partition = pc->partition;
		pw_enc_seek_id(&pc->bc->c->out, pc->cid, req, &id);
	}
	if (pool_request(s->pool, pc->bc, req, "SEEK") < 0)
		return -1;
	if (s->pool->resp.type != PW_SUCCESS) {
		pool_request_failed(s->pool, "seek", pc->topic);
		return -1;
	}
	pc->need_seek = 0;
	/* the broker closes the consumer now; subscribe again then */
	pc->state = PC_SEEKING;
	pc->seek_deadline = monotime() + REQ_TIMEOUT;
	log_verbose("%s: seek done", pc->topic);
	return 0;
}

/*
 * Whether a mark-delete position is at or past the last message: the
 * position names a whole entry (no batch index), the last id of a batch
 * entry carries its last batch index.
 */
static int
acked_through(const struct msgid *md, const struct msgid *last)
{
	struct msgid l = *last;

	if (md->batch < 0)
		l.batch = -1;
	return msgid_cmp(md, &l) >= 0;
}

static int
last_message_id(struct psrc *s, struct pcons *pc)
{
	uint64_t req = pool_req(s->pool);

	pw_enc_get_last_message_id(&pc->bc->c->out, pc->cid, req);
	if (pool_request(s->pool, pc->bc, req, "GET_LAST_MESSAGE_ID") < 0)
		return -1;
	if (s->pool->resp.type != PW_GET_LAST_MESSAGE_ID_RESPONSE) {
		pool_request_failed(s->pool, "get last message id", pc->topic);
		return -1;
	}
	pc->last = s->pool->resp.last.id;
	pc->have_last = 1;
	if (pc->last.entry < 0 || (s->pool->resp.has_md &&
	    acked_through(&s->pool->resp.md.id, &pc->last)))
		pc->at_end = 1;		/* empty, or everything acked */
	else if (!s->pool->resp.has_md)
		pc->end_probe = 1;	/* older brokers: see probe_end() */
	log_verbose("%s: last message %lld:%lld%s", pc->topic,
	    (long long)pc->last.ledger, (long long)pc->last.entry,
	    pc->at_end ? ", nothing to read" : "");
	return 0;
}

static const char *
sub_type_name(int t)
{
	static const char *names[] = { "exclusive", "shared", "failover",
	    "key_shared" };

	return t >= 0 && t < 4 ? names[t] : "?";
}

/*
 * --exactly-once: what the lake holds of the partition, read again
 * before every subscription and when a Failover consumer becomes the
 * active one (another pipeline may have stored more meanwhile).  What is
 * stored between this reading and our first object is caught by the
 * store's no-overwrite write (deliver stops; the restart reads again).
 */
static int
read_lake(struct psrc *s, struct pcons *pc)
{
	struct deliver_cmd dc = { s->o.deliver, s->o.deliver_opts,
	    s->o.ndeliver_opts };
	char why[1024];

	if (s->o.lake == NULL)
		return 0;
	if (ckpt_load(&pc->stored, &dc, s->o.lake, pc->topic, why,
	    sizeof(why)) < 0) {
		pool_fail(s->pool, 0, "%s: reading what the lake holds: %s",
		    pc->topic, why);
		return -1;
	}
	log_debug("lake read", "topic=%s ranges=%zu", pc->topic,
	    pc->stored.n);
	pc->prev = 1;
	return 0;
}

static void
consumer_up(struct psrc *s, struct pcons *pc)
{
	struct bconn *bc;
	unsigned attempts = pc->retry.attempts;

	if (read_lake(s, pc) < 0 ||
	    (bc = lookup_topic(s->pool, pc->topic)) == NULL ||
	    do_subscribe(s, pc, bc) < 0)
		goto fail;
	/* a Failover subscription's other consumers may store meanwhile */
	pc->reread = s->o.lake != NULL && s->o.sub_type == PW_SUB_FAILOVER;
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
	pc->stats_at = 0;
	pc->stats_req = 0;
	if (!retry_ok(&pc->retry, pc->topic, pc->partition))
		log_info("subscribed", "topic=%s partition=%d subscription=%s "
		    "type=%s broker=%s:%s", pc->topic, pc->partition,
		    s->o.subscription, sub_type_name(s->o.sub_type), bc->host,
		    bc->port);
	return;
fail:
	/* not when the lost connection already counted this attempt */
	if (pc->retry.attempts == attempts)
		consumer_failed(s, pc);
}

static int
start(struct psrc *s)
{
	unsigned n = 0, i;
	struct buf name = BUF_INIT;

	if (lookup_partitions(s->pool, &s->topic, &n) < 0)
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
		msghead_init(&pc->head, pc->topic);
		pc->partition = n ? (int)i : -1;
		pc->dec = pw_decoder_new(NULL);
		astream_init(&pc->stream, STREAM_MAX);
		retry_init(&pc->retry);
		pc->need_seek = s->o.start == START_TIME ||
		    s->o.start == START_ID;
		pc->state = PC_DOWN;
		pc->retry_at = 0;
		buf_reset(&name);
		buf_addf(&name, "backlog_messages{partition=\"%d\"}",
		    pc->partition);
		pc->m_backlog = metrics_gauge(name.data, "Messages the broker "
		    "holds for the subscription (CONSUMER_STATS).");
	}
	buf_release(&name);
	log_debug("partitions", "topic=%s n=%u", s->topic.full, n);
	s->started = 1;
	return 0;
}

/* Start, or schedule the next try. */
static void
try_start(struct psrc *s)
{
	double delay;

	if (start(s) == 0) {
		(void)retry_ok(&s->start_retry, s->topic.full, -1);
		return;
	}
	if (stop_asked() || s->pool->fatal)
		return;
	delay = retry_failed(&s->start_retry, s->topic.full, -1,
	    s->pool->fail.text, s->o.give_up);
	if (delay < 0)
		s->failed = 1;
	s->start_at = monotime() + delay;
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
static int
send_cumulative(struct pcons *pc)
{
	struct pw_ack_id cum;
	size_t i, n;

	memset(&cum, 0, sizeof(cum));
	if (!astream_take(&pc->stream, &cum.id.ledger, &cum.id.entry))
		return 0;
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
	return 1;
}

static void
send_acks(struct psrc *s, struct pcons *pc)
{
	size_t i, n;

	if (pc->nacks == 0 || pc->state != PC_READY)
		return;
	s->cumulative_sent += (uint64_t)send_cumulative(pc);
	s->acks_sent += pc->nacks;
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
ack_one(void *arg, const struct msgid *id, const uint64_t *set, int setlen,
    int32_t batch_size)
{
	struct psrc *s = arg;

	add_ack(s, consumer_of(s, id), id, set, setlen, batch_size);
}

static void
psrc_acked(struct source *src, uint64_t seq, const struct wentry *e,
    size_t n)
{
	struct psrc *s = (struct psrc *)src;

	packs_acked_run(s->packs, e, n, ack_one, s);
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
		/* acks held while down wait for the subscription */
		if (pc->nacks > 0 && pc->state == PC_READY &&
		    pc->ack_since + ACK_DELAY < t)
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
	double now = monotime(), t;
	size_t i;

	if (s->pool->fatal || s->failed)
		return 0;
	if (!s->started) {
		t = s->start_at - now;
		return t <= 0 ? 0 : (int)(t * 1000) + 1;
	}
	for (i = 0; i < s->ncons; i++)
		grant_permits(s, &s->cons[i], can_emit);
	pool_prepare(s->pool, ps);
	t = next_timer(s, now) - now;
	return t <= 0 ? 0 : (int)(t * 1000) + 1;
}

/* A permanent failure is said here, once (a give-up was said already). */
static enum src_status
fail(struct psrc *s)
{
	if (s->pool->fatal)
		log_error(s->pool->fail.text, NULL);
	return SRC_FAIL;
}

static int
all_at_end(struct psrc *s)
{
	size_t i;

	for (i = 0; i < s->ncons; i++)
		if ((!s->cons[i].at_end && !s->cons[i].standby) ||
		    s->cons[i].nasked > 0)
			return 0;
	return 1;
}

static enum src_status
psrc_run(struct source *src, struct pump *p, const struct pollset *ps)
{
	struct psrc *s = (struct psrc *)src;
	double now;
	size_t i;
	int up;

	s->pump = p;
	if (!s->started) {
		if (s->stopping) {
			log_info("stopping", NULL);
			return SRC_END;
		}
		if (monotime() >= s->start_at)
			try_start(s);
		if (s->pool->fatal || s->failed)
			return fail(s);
		if (!s->started)
			return SRC_OK;
	}
	pool_run(s->pool, ps);
	now = monotime();
	for (i = 0, up = 0; i < s->ncons && !s->pool->fatal; i++) {
		struct pcons *pc = &s->cons[i];

		if (pc->state == PC_SEEKING && now > pc->seek_deadline)
			consumer_down(s, pc, 0);
		/* one per round: its exchanges block (see above) */
		if (pc->state == PC_DOWN && now >= pc->retry_at &&
		    !s->stopping && !up++)
			consumer_up(s, pc);
		if (pc->recheck_end && pc->state == PC_READY && !up++)
			after_takeover(s, pc);
		grant_permits(s, pc, pump_room(p));
		if (pc->nacks >= ACK_BATCH || (pc->nacks > 0 &&
		    now >= pc->ack_since + ACK_DELAY))
			send_acks(s, pc);
		ask_stats(s, pc, now);
	}
	if (s->pool->fatal || s->failed)
		return fail(s);
	pool_flush(s->pool, now);
	if (!s->ended && (s->stopping || (s->o.stop_at_end &&
	    all_at_end(s)))) {
		log_info(s->stopping ? "stopping" : "end of backlog",
		    "topic=%s", s->topic.full);
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

	s->pool->ending = 1;
	packs_end(s->packs, ack_one, s);
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
		req = pool_req(s->pool);
		pw_enc_close_consumer(&pc->bc->c->out, pc->cid, req);
		if (pool_request(s->pool, pc->bc, req, "CLOSE_CONSUMER") == 0)
			pc->state = PC_DOWN;
	}
	log_info("acks sent", "topic=%s individual=%llu cumulative=%llu",
	    s->topic.full, (unsigned long long)s->acks_sent,
	    (unsigned long long)s->cumulative_sent);
	if (left > 0)
		warnx("%zu acks not sent: no connection (the broker sends "
		    "those messages again)", left);
	if (s->bad_messages > 0)
		warnx("%llu messages could not be decoded (left unacked)",
		    (unsigned long long)s->bad_messages);
	return s->pool->fatal || s->failed ? -1 : 0;
}

static void
psrc_free(struct source *src)
{
	struct psrc *s = (struct psrc *)src;
	size_t i;

	pool_free(s->pool);
	for (i = 0; i < s->ncons; i++) {
		free(s->cons[i].topic);
		msghead_release(&s->cons[i].head);
		pw_decoder_free(s->cons[i].dec);
		while (s->cons[i].nacks > 0)
			free((void *)s->cons[i].acks[--s->cons[i].nacks].ack_set);
		free(s->cons[i].acks);
		astream_free(&s->cons[i].stream);
		ckpt_free(&s->cons[i].stored);
	}
	free(s->cons);
	packs_free(s->packs);
	topic_free(&s->topic);
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

void
pulsar_pool_opts(struct pool_opts *po, const struct pulsar_opts *o,
    double timeout)
{
	memset(po, 0, sizeof(*po));
	po->url = o->url;
	po->token = o->token;
	po->ca_file = o->ca_file;
	po->listener = o->listener;
	po->timeout = timeout;
}

struct source *
pulsar_source_new(const struct pulsar_opts *o)
{
	struct psrc *s = xcalloc(1, sizeof(*s));
	struct pool_opts po;
	struct pool_hooks h;
	const char *why;

	s->base.ops = &pulsar_ops;
	s->o = *o;
	if (topic_parse(&s->topic, o->topic, &why) < 0) {
		warnx("--topic %s: %s", o->topic, why);
		free(s);
		return NULL;
	}
	pulsar_pool_opts(&po, o, REQ_TIMEOUT);
	memset(&h, 0, sizeof(h));
	h.arg = s;
	h.frame = on_frame;
	h.lost = conn_lost;
	h.side_fd = ack_fd;
	h.side_ready = take_acks;
	if ((s->pool = pool_new(&po, &h, &why)) == NULL) {
		warnx("--url %s: %s", o->url, why);
		topic_free(&s->topic);
		free(s);
		return NULL;
	}
	s->packs = packs_new();
	retry_init(&s->start_retry);
	return &s->base;
}
