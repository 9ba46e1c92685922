/*
 * pump: consume's main loop.  It owns stdout (a big output buffer, written
 * without ever blocking when stdout is a pipe), the ack channel (read with
 * poll(2) at the same time, so that a full pipe on either side never
 * deadlocks), and the window of emitted but unacknowledged messages, and it
 * drives one source (source.h).
 *
 * When the source ends: flush and close stdout, so that downstream sees
 * the end of input, then read acks until the ack channel reaches end of
 * file (or --ack-timeout), let the source send its last acks, and report.
 */
#ifndef CONSUME_PUMP_H
#define CONSUME_PUMP_H

#include <stddef.h>
#include <stdint.h>

#include "msgid.h"

struct buf;
struct source;

struct pump_opts {
	const char	*acks;		/* ack channel path, or NULL */
	uint64_t	 max_unacked;	/* backpressure: stop reading above */
	double		 ack_timeout;	/* seconds to wait at the end, 0: EOF */
	int		 progress;	/* -P */
	/*
	 * Without an ack channel: treat a message as acknowledged once its
	 * frame was written to stdout (the Pulsar source's choice).
	 */
	int		 ack_on_write;
	int		 must_ack_all;	/* replay: an unacked message fails */
};

struct pump;

struct pump *pump_new(const struct pump_opts *);
void	pump_free(struct pump *);
/* Run the source to its end; returns the exit status. */
int	pump_run(struct pump *, struct source *);

/*
 * For sources, while emitting: pump_room() says whether to emit more now;
 * a message is written into pump_out() as one whole frame (frame_begin ...
 * frame_finish) with seq pump_seq(), then registered with pump_commit().
 */
int	 pump_room(const struct pump *);
struct buf *pump_out(struct pump *);
uint64_t pump_seq(const struct pump *);
void	 pump_commit(struct pump *, const struct msgid *, uint32_t aux,
	    size_t payload_len);
/*
 * For a source that must wait on its own descriptors for a while (a
 * blocking request with a timeout): poll pump_ack_fd() too (-1: no ack
 * channel, or nothing more to read from it) and call pump_take_acks() when
 * it is readable, so that the channel's writer (deliver) never blocks on a
 * full FIFO meanwhile.  Acks taken reach the source's acked() at once.
 */
int	 pump_ack_fd(const struct pump *);
void	 pump_take_acks(struct pump *);

#endif
