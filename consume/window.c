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
void
window_grow(struct window *w)
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

size_t
window_ack_run(struct window *w, uint64_t seq, uint64_t hi,
    const struct wentry **out)
{
	struct wentry *e;
	size_t n, end;

	if (seq >= w->next || seq == 0 || seq < w->base || seq > hi)
		return 0;
	if (hi >= w->next)
		hi = w->next - 1;
	e = slot(w, seq);
	/* up to hi, and no further than the end of the ring */
	end = w->cap - (size_t)(seq & (w->cap - 1));
	if (hi - seq + 1 < end)
		end = (size_t)(hi - seq + 1);
	for (n = 0; n < end && !e[n].acked; n++)
		e[n].acked = 1;
	if (n == 0)
		return 0;
	w->nacked += n;
	*out = e;
	if (seq == w->base)
		w->base += n;
	while (w->base < w->next && slot(w, w->base)->acked)
		w->base++;
	return n;
}

const struct wentry *
window_oldest(const struct window *w)
{
	return w->base < w->next ? slot(w, w->base) : NULL;
}
