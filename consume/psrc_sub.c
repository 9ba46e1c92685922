/* The Pulsar source: subscribing, the last id and the end; see psrc.h. */

#include "buf.h"
#include "log.h"
#include "metrics.h"
#include "pulsar_wire.h"
#include "stop.h"
#include "psrc.h"

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
void
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
void
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

void
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
void
after_takeover(struct psrc *s, struct pcons *pc)
{
	pc->recheck_end = 0;
	if (last_message_id(s, pc) < 0)
		consumer_failed(s, pc);
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
int
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

void
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
	pc->in_bytes = 0;
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
void
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
