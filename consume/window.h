/*
 * window: the messages consume emitted that downstream has not yet
 * acknowledged, as a ring indexed by seq.  Only the unacked span from the
 * oldest outstanding seq to the newest is kept, so memory follows the
 * number of messages in flight (bounded by --max-unacked), never the
 * length of the input.
 */
#ifndef CONSUME_WINDOW_H
#define CONSUME_WINDOW_H

#include <stddef.h>
#include <stdint.h>

#include "msgid.h"

struct wentry {
	struct msgid	id;
	uint32_t	aux;		/* the source's own (batch size, ...) */
	uint8_t		acked;
};

struct window {
	struct wentry	*e;
	size_t		 cap;		/* power of two, or 0 */
	uint64_t	 base;		/* oldest seq not yet acked */
	uint64_t	 next;		/* the seq the next message gets */
	uint64_t	 nacked;	/* acks counted, all time */
};

void	window_init(struct window *);
void	window_free(struct window *);
/* Messages emitted and not acked. */
#define window_outstanding(w) ((w)->next - (w)->base)
/* Double the ring (window_push() does it when it is full). */
void	window_grow(struct window *);

/*
 * Record the next message; returns its seq (from 1).  Inline: it is done
 * for every message emitted.
 */
static inline uint64_t
window_push(struct window *w, const struct msgid *id, uint32_t aux)
{
	struct wentry *e;

	if (window_outstanding(w) == w->cap)
		window_grow(w);
	e = &w->e[w->next & (w->cap - 1)];
	e->id = *id;
	e->aux = aux;
	e->acked = 0;
	return w->next++;
}

enum { WIN_ACKED, WIN_DUP, WIN_UNKNOWN };
/*
 * Mark seq acked: WIN_ACKED (and *out is the entry, valid until the next
 * push), WIN_DUP if it was acked before, WIN_UNKNOWN if never emitted.
 */
int	window_ack(struct window *, uint64_t seq, const struct wentry **out);
/*
 * Mark acked the entries from seq to hi (or to the newest) that were not
 * yet, as far as they lie in a row in the ring: how many (0 when seq
 * itself is acked already or unknown: window_ack() tells which), and *out
 * the first of them (with the others after it, valid until the next
 * push).  Acks then go on by runs, not one call per message.
 */
size_t	window_ack_run(struct window *, uint64_t seq, uint64_t hi,
	    const struct wentry **out);
/* The oldest unacked entry, NULL when everything is acked. */
const struct wentry *window_oldest(const struct window *);

#endif
