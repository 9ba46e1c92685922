/* The Pulsar source: acknowledging to the broker; see psrc.h. */
#include <stdlib.h>

#include "log.h"
#include "pulsar_wire.h"
#include "psrc.h"

void
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

void
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

void
ack_one(void *arg, const struct msgid *id, const uint64_t *set, int setlen,
    int32_t batch_size)
{
	struct psrc *s = arg;

	add_ack(s, consumer_of(s, id), id, set, setlen, batch_size);
}

void
psrc_acked(struct source *src, uint64_t seq, const struct wentry *e,
    size_t n)
{
	struct psrc *s = (struct psrc *)src;

	packs_acked_run(s->packs, e, n, ack_one, s);
}
