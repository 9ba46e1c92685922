/*
 * Packs (pulsar.h): a batch entry gives several messages under one broker
 * entry, a chunked message spans several entries.  The broker is told
 * about an entry only when each message of it is stored downstream (a
 * batch), or about every chunk when their message is (chunks); until then
 * the pack waits here, in a hash table by (partition, ledger, entry).
 */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "pulsar.h"
#include "pulsar_wire.h"
#include "window.h"

#define NBUCKETS	4096

#define AUX_BATCH	0x80000000u
#define AUX_CHUNK	0x40000000u

struct pack {
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
	struct pack	*next;
};

struct packs {
	struct pack	*tab[NBUCKETS];
	/*
	 * The pack looked up last, or NULL: a batch's messages come one
	 * after the other, and so do their acks.
	 */
	struct pack	*last;
};

struct packs *
packs_new(void)
{
	return xcalloc(1, sizeof(struct packs));
}

static size_t
pack_hash(const struct msgid *k)
{
	uint64_t h = (uint64_t)k->ledger * 0x9e3779b97f4a7c15ULL ^
	    (uint64_t)k->entry * 0xc2b2ae3d27d4eb4fULL ^
	    (uint64_t)(uint32_t)k->partition;

	return (size_t)(h ^ (h >> 29)) % NBUCKETS;
}

/* Whether two ids name one entry (of one partition). */
static int
same_entry(const struct msgid *a, const struct msgid *b)
{
	return a->ledger == b->ledger && a->entry == b->entry &&
	    a->partition == b->partition;
}

static int
pack_is(const struct pack *t, const struct msgid *id)
{
	return same_entry(&t->key, id);
}

static struct pack **
pack_find(struct packs *ps, const struct msgid *id)
{
	struct pack **tp;

	for (tp = &ps->tab[pack_hash(id)]; *tp != NULL; tp = &(*tp)->next)
		if (pack_is(*tp, id))
			return tp;
	return tp;
}

/* The pack of id, or NULL. */
static struct pack *
pack_lookup(struct packs *ps, const struct msgid *id)
{
	if (ps->last == NULL || !pack_is(ps->last, id))
		ps->last = *pack_find(ps, id);
	return ps->last;
}

static struct pack *
pack_get(struct packs *ps, const struct msgid *id)
{
	struct pack **tp, *t;

	if ((t = pack_lookup(ps, id)) != NULL)
		return t;
	tp = pack_find(ps, id);
	t = xcalloc(1, sizeof(*t));
	t->key = *id;
	t->key.batch = -1;
	*tp = t;
	ps->last = t;
	return t;
}

static void
pack_free(struct pack *t)
{
	free(t->bits);
	free(t->seen);
	free(t->chunks);
	free(t);
}

static void
pack_remove(struct packs *ps, struct pack *t)
{
	struct pack **tp = pack_find(ps, &t->key);

	*tp = t->next;
	if (ps->last == t)
		ps->last = NULL;
	pack_free(t);
}

void
packs_free(struct packs *ps)
{
	struct pack *t;
	size_t b;

	if (ps == NULL)
		return;
	for (b = 0; b < NBUCKETS; b++)
		while ((t = ps->tab[b]) != NULL) {
			ps->tab[b] = t->next;
			pack_free(t);
		}
	free(ps);
}

/* Set bit i (>= 0) of a bit set: whether it was clear before. */
static int
bit_set(uint64_t *set, int32_t i)
{
	uint64_t *w = &set[(uint32_t)i / 64], b = 1ULL << ((uint32_t)i % 64);

	if (*w & b)
		return 0;
	*w |= b;
	return 1;
}

static void
note_batch(struct pack *t, const struct pw_msg *m)
{
	if (t->bits == NULL) {
		t->batch_size = m->batch_size;
		t->bits = xcalloc(((size_t)m->batch_size + 63) / 64,
		    sizeof(uint64_t));
		t->seen = xcalloc(((size_t)m->batch_size + 63) / 64,
		    sizeof(uint64_t));
	}
	if (m->id.batch < t->batch_size && bit_set(t->seen, m->id.batch))
		t->given++;
	if (m->last_in_entry)
		t->complete = 1;
}

uint32_t
packs_emitted(struct packs *ps, const struct pw_msg *m)
{
	struct pack *t;

	if (m->num_chunks > 1) {
		t = pack_get(ps, &m->id);
		t->chunked = 1;
		free(t->chunks);
		t->chunks = xreallocarray(NULL, (size_t)m->num_chunks,
		    sizeof(*t->chunks));
		memcpy(t->chunks, m->chunk_ids, (size_t)m->num_chunks *
		    sizeof(*t->chunks));
		t->nchunks = m->num_chunks;
		return AUX_CHUNK;
	}
	if (m->batch_size > 0 && m->id.batch >= 0) {
		/* most often the pack of the message before */
		t = ps->last;
		if (t == NULL || !pack_is(t, &m->id))
			t = pack_get(ps, &m->id);
		note_batch(t, m);
		return AUX_BATCH;
	}
	return 0;
}

/* A message not in a batch, or a chunked one, is acknowledged. */
static void
whole_acked(struct packs *ps, const struct msgid *id, uint32_t aux,
    pack_ack_fn *ack, void *arg)
{
	struct pack *t;
	int i;

	if (aux == 0) {
		ack(arg, id, NULL, 0, 0);
		return;
	}
	if ((t = pack_lookup(ps, id)) == NULL)
		return;
	for (i = 0; i < t->nchunks; i++)
		ack(arg, &t->chunks[i], NULL, 0, 0);
	pack_remove(ps, t);
}

void
packs_acked(struct packs *ps, const struct msgid *id, uint32_t aux,
    pack_ack_fn *ack, void *arg)
{
	struct wentry e;

	e.id = *id;
	e.aux = aux;
	e.acked = 1;
	packs_acked_run(ps, &e, 1, ack, arg);
}

void
packs_acked_run(struct packs *ps, const struct wentry *e, size_t n,
    pack_ack_fn *ack, void *arg)
{
	const struct msgid *id;
	struct pack *t;
	size_t i = 0, j;

	while (i < n) {
		if (e[i].aux != AUX_BATCH) {
			whole_acked(ps, &e[i].id, e[i].aux, ack, arg);
			i++;
			continue;
		}
		/*
		 * A batch's messages are acked in a row: its pack looked up
		 * once for them.  The entry goes to ack() once each message
		 * it gave is; the rest of the run are then copies of them,
		 * which no pack waits for (within a run nothing is emitted,
		 * so no new pack of the entry comes).
		 */
		t = pack_lookup(ps, &e[i].id);
		for (j = i; j < n && e[j].aux == AUX_BATCH &&
		    same_entry(&e[j].id, &e[i].id); j++) {
			id = &e[j].id;
			if (t == NULL)
				continue;
			if (id->batch >= 0 && id->batch < t->batch_size &&
			    bit_set(t->bits, id->batch))
				t->acked++;
			if (t->complete && t->acked >= t->given) {
				ack(arg, &t->key, NULL, 0, 0);
				pack_remove(ps, t);
				t = NULL;
			}
		}
		i = j;
	}
}

/* The ack_set of a partly acknowledged batch: bit set = not acked. */
static void
ack_partly(struct pack *t, pack_ack_fn *ack, void *arg)
{
	uint64_t *set;
	size_t words = ((size_t)t->batch_size + 63) / 64;
	int32_t i;

	set = xcalloc(words, sizeof(*set));
	for (i = 0; i < t->batch_size; i++)
		if (!(t->bits[i / 64] & (1ULL << (i % 64))))
			set[i / 64] |= 1ULL << (i % 64);
	t->key.batch = -1;
	ack(arg, &t->key, set, (int)words, t->batch_size);
	free(set);
}

void
packs_end(struct packs *ps, pack_ack_fn *ack, void *arg)
{
	struct pack *t;
	size_t b;

	ps->last = NULL;
	for (b = 0; b < NBUCKETS; b++)
		while ((t = ps->tab[b]) != NULL) {
			ps->tab[b] = t->next;
			if (!t->chunked && t->acked > 0)
				ack_partly(t, ack, arg);
			pack_free(t);
		}
}
