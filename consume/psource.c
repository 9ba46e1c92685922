/* The Pulsar source: its interface, timers, the end; see psrc.h. */
#include <err.h>
#include <limits.h>
#include <stdlib.h>

#include "log.h"
#include "pulsar_wire.h"
#include "pump.h"
#include "stop.h"
#include "psrc.h"

/* The consumer is down: subscribed again in delay seconds. */
void
consumer_down(struct psrc *s, struct pcons *pc, double delay)
{
	pc->state = PC_DOWN;
	pc->bc = NULL;
	pc->received = 0;
	pc->in_bytes = 0;
	if (pc->dec != NULL)
		pw_decoder_reset(pc->dec);
	pc->retry_at = monotime() + delay;
}

/*
 * Down for the reason in the pool's failure: retried after the backoff
 * (retry.c), or the end when --give-up has passed.  A stop asked cuts
 * exchanges short: not a failure worth a line.
 */
void
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

struct pcons *
consumer_by_id(struct psrc *s, uint64_t cid)
{
	size_t i;

	for (i = 0; i < s->ncons; i++)
		if (s->cons[i].cid == cid && s->cons[i].state != PC_DOWN)
			return &s->cons[i];
	return NULL;
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
 * Until the next FLOW, the broker may send at least half the queue's
 * permits before this consumer runs out (it holds them, or they are on
 * the way): half of that, in the bytes the last window's messages took,
 * is a low-water mark poll(2) is sure to see met while the messages
 * stream (pulsar.h, bconn.lowat_want).  This consumer's alone, not a sum
 * over the connection's: another may have come to the end of its
 * partition or be a standby of a Failover subscription.
 */
static void
expect_bytes(struct psrc *s, struct pcons *pc)
{
	uint64_t want = pc->in_bytes / pc->received * s->o.queue / 4;

	pc->bc->lowat_want = want > INT_MAX ? INT_MAX : (int)want;
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
		expect_bytes(s, pc);
		pc->received = 0;
		pc->in_bytes = 0;
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
	t = pool_timer(s->pool, next_timer(s, now)) - now;
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
