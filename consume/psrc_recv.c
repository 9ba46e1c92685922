/* The Pulsar source: the broker's frames, messages into frames; see psrc.h. */
#include <err.h>

#include "buf.h"
#include "frame.h"
#include "log.h"
#include "pct.h"
#include "pulsar_wire.h"
#include "pump.h"
#include "psrc.h"

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
	pc->in_bytes += f->frame_len;
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

void
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
