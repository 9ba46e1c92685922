/* A consumer session's received entries, for cumulative acks; see
   ackstream.h. */
#include <stdlib.h>
#include <string.h>

#include "ackstream.h"
#include "buf.h"
#include "log.h"

static int
id_cmp(int64_t l1, int64_t e1, int64_t l2, int64_t e2)
{
	if (l1 != l2)
		return l1 < l2 ? -1 : 1;
	return e1 < e2 ? -1 : e1 > e2;
}

static struct aent *
at(const struct astream *a, size_t i)
{
	return &a->e[(a->head + i) & (a->cap - 1)];
}

void
astream_init(struct astream *a, size_t max)
{
	memset(a, 0, sizeof(*a));
	a->max = max;
}

void
astream_free(struct astream *a)
{
	free(a->e);
	a->e = NULL;
	a->cap = a->n = 0;
}

void
astream_reset(struct astream *a, int on)
{
	a->head = a->n = 0;
	a->on = on;
	a->have_cum = a->cum_new = 0;
}

/* Room for one more, keeping the ring's order. */
static void
grow(struct astream *a)
{
	struct aent *e;
	size_t i, cap;

	if (a->n < a->cap)
		return;
	cap = a->cap ? a->cap * 2 : 1024;
	e = xreallocarray(NULL, cap, sizeof(*e));
	for (i = 0; i < a->n; i++)
		e[i] = *at(a, i);
	free(a->e);
	a->e = e;
	a->cap = cap;
	a->head = 0;
}

/* The index of the entry, or where it would go (*found 0). */
static size_t
find(const struct astream *a, int64_t ledger, int64_t entry, int *found)
{
	size_t lo = 0, hi = a->n, mid;
	const struct aent *e;
	int c;

	*found = 0;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		e = at(a, mid);
		c = id_cmp(e->ledger, e->entry, ledger, entry);
		if (c == 0) {
			*found = 1;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

void
astream_received(struct astream *a, int64_t ledger, int64_t entry)
{
	const struct aent *tail;
	size_t pos, i;
	int found;

	if (!a->on || astream_covers(a, ledger, entry))
		return;
	if (a->n >= a->max) {
		log_verbose("over %zu entries wait for an earlier ack: no "
		    "more cumulative acks until the next subscription",
		    a->max);
		astream_reset(a, 0);
		return;
	}
	tail = a->n ? at(a, a->n - 1) : NULL;
	if (tail == NULL || id_cmp(tail->ledger, tail->entry, ledger,
	    entry) < 0)
		pos = a->n;		/* the usual case: in order */
	else {
		pos = find(a, ledger, entry, &found);
		if (found)
			return;		/* again: keep what it was */
	}
	grow(a);
	for (i = a->n; i > pos; i--)
		*at(a, i) = *at(a, i - 1);
	a->n++;
	at(a, pos)->ledger = ledger;
	at(a, pos)->entry = entry;
	at(a, pos)->done = 0;
}

void
astream_done(struct astream *a, int64_t ledger, int64_t entry)
{
	size_t pos;
	int found;

	if (!a->on || a->n == 0)
		return;
	pos = find(a, ledger, entry, &found);
	if (found)
		at(a, pos)->done = 1;
}

int
astream_take(struct astream *a, int64_t *ledger, int64_t *entry)
{
	const struct aent *e;

	while (a->on && a->n > 0 && (e = at(a, 0))->done) {
		a->cum_ledger = e->ledger;
		a->cum_entry = e->entry;
		a->have_cum = a->cum_new = 1;
		a->head = (a->head + 1) & (a->cap - 1);
		a->n--;
	}
	if (!a->cum_new)
		return 0;
	a->cum_new = 0;
	*ledger = a->cum_ledger;
	*entry = a->cum_entry;
	return 1;
}

int
astream_covers(const struct astream *a, int64_t ledger, int64_t entry)
{
	return a->on && a->have_cum && id_cmp(ledger, entry, a->cum_ledger,
	    a->cum_entry) <= 0;
}
