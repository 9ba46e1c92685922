/*
 * ackstream: the entries one consumer session received, in id order, for
 * cumulative acks (Exclusive and Failover subscriptions only: the broker
 * refuses them on Shared and Key_Shared).
 *
 * Why it is safe: on an Exclusive or Failover subscription the broker
 * dispatches from the mark-delete position in id order, skipping only
 * entries already acknowledged.  So within one session (one SUBSCRIBE),
 * an entry the stream does not hold between two it does was acknowledged
 * before, and a cumulative ACK up to the last entry of the done prefix
 * covers nothing that downstream has not stored.  An entry is done when
 * the ack channel acknowledged all the messages it gave (or it gave none);
 * one that is not (a message of a later object acked first, a bad
 * checksum, a batch partly acknowledged) stops the prefix.  Entries that
 * come again out of order (after REDELIVER, a rewind) are merged by id, or
 * inserted in order, not done; those at or below the cumulative point are
 * ignored.  A new session starts an empty stream.
 *
 * Memory: one 24-byte entry per entry received and not yet in the
 * prefix; past max entries (a gap that never closes) the session gives
 * up cumulative acks (individual acks go on as before).
 */
#ifndef CONSUME_ACKSTREAM_H
#define CONSUME_ACKSTREAM_H

#include <stddef.h>
#include <stdint.h>

struct aent {
	int64_t		 ledger, entry;
	int		 done;
};

struct astream {
	struct aent	*e;		/* ring, cap a power of two */
	size_t		 head, n, cap;
	size_t		 max;
	int		 on;		/* cumulative acks in this session */
	int		 have_cum;	/* cum_* hold the prefix's last id */
	int		 cum_new;	/* moved since astream_take() */
	int64_t		 cum_ledger, cum_entry;
};

void	astream_init(struct astream *, size_t max);
void	astream_free(struct astream *);
/* A new session: empty, cumulative acks on or off. */
void	astream_reset(struct astream *, int on);
/* The broker sent this entry (whatever became of it). */
void	astream_received(struct astream *, int64_t ledger, int64_t entry);
/* All the entry gave is acknowledged (or it gave nothing). */
void	astream_done(struct astream *, int64_t ledger, int64_t entry);
/* Pop the done prefix: 1 with the id to ACK cumulatively when the point
   moved since the last call, else 0. */
int	astream_take(struct astream *, int64_t *ledger, int64_t *entry);
/* Whether the entry is at or below the cumulative point. */
int	astream_covers(const struct astream *, int64_t ledger, int64_t entry);

#endif
