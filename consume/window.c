/* The ring of unacknowledged messages; see window.h. */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "window.h"

void
window_init(struct window *w)
{
	memset(w, 0, sizeof(*w));
	w->base = w->next = 1;
}

void
window_free(struct window *w)
{
	free(w->e);
	window_init(w);
}

static struct wentry *
slot(const struct window *w, uint64_t seq)
{
	return &w->e[seq & (w->cap - 1)];
}

/* Double the ring, keeping each outstanding entry at seq & (cap - 1). */
static void
grow(struct window *w)
{
	size_t ncap = w->cap ? w->cap * 2 : 1024;
	struct wentry *ne = xreallocarray(NULL, ncap, sizeof(*ne));
	uint64_t s;

	for (s = w->base; s < w->next; s++)
		ne[s & (ncap - 1)] = *slot(w, s);
	free(w->e);
	w->e = ne;
	w->cap = ncap;
}

uint64_t
window_push(struct window *w, const struct msgid *id, uint32_t aux)
{
	struct wentry *e;

	if (window_outstanding(w) == w->cap)
		grow(w);
	e = slot(w, w->next);
	e->id = *id;
	e->aux = aux;
	e->acked = 0;
	return w->next++;
}

int
window_ack(struct window *w, uint64_t seq, const struct wentry **out)
{
	struct wentry *e;

	if (seq >= w->next || seq == 0)
		return WIN_UNKNOWN;
	if (seq < w->base)
		return WIN_DUP;
	e = slot(w, seq);
	if (e->acked)
		return WIN_DUP;
	e->acked = 1;
	w->nacked++;
	*out = e;
	while (w->base < w->next && slot(w, w->base)->acked)
		w->base++;
	return WIN_ACKED;
}

const struct wentry *
window_oldest(const struct window *w)
{
	return w->base < w->next ? slot(w, w->base) : NULL;
}
