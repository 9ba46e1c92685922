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
/* Record the next message; returns its seq (from 1). */
uint64_t window_push(struct window *, const struct msgid *, uint32_t aux);

enum { WIN_ACKED, WIN_DUP, WIN_UNKNOWN };
/*
 * Mark seq acked: WIN_ACKED (and *out is the entry, valid until the next
 * push), WIN_DUP if it was acked before, WIN_UNKNOWN if never emitted.
 */
int	window_ack(struct window *, uint64_t seq, const struct wentry **out);
/* The oldest unacked entry, NULL when everything is acked. */
const struct wentry *window_oldest(const struct window *);

#endif
