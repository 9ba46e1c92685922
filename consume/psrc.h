/*
 * The Pulsar source: a consumer of one topic (every partition of it),
 * speaking the binary protocol through the wire codec (pulsar_wire.h) over
 * the pool of broker connections (pulsar.h), driven by pump.c's poll loop.
 *
 * Per partition, a consumer goes DOWN -> (lookup, SUBSCRIBE, maybe SEEK,
 * FLOW) -> READY, and back to DOWN on any loss (connection closed, broker's
 * CLOSE_CONSUMER, a request that failed or timed out), after which it is
 * subscribed again after an exponential backoff with jitter.  Lookup and
 * subscription run as short blocking exchanges (pool_request(), with
 * timeouts) on the connection concerned, during which other frames on it
 * are handled as usual and the ack channel is read (pump_take_acks), so
 * that deliver never blocks writing acks while we wait; one consumer is
 * brought up per round of the poll loop, so that stdout and the other
 * connections are served in between.  Receiving and acknowledging run
 * from the poll loop.  (Making the exchanges non-blocking would need a
 * state per request and a non-blocking connect, TLS handshake and HTTP
 * lookup: not worth it for what happens once per (re)subscription.)
 *
 * Flow control: each consumer grants --receiver-queue permits, and grants
 * more (half a queue at a time) only while the pump has room, so memory
 * stays flat however long the backlog is.
 *
 * Acks: a message id goes into a consumer's pending ACK list when the
 * pump reports its seq acknowledged downstream (batches and chunked
 * messages through packs.c, once whole); pending ids go out as one ACK
 * command (many ids) every 100 ms or 1000 ids, and at the end, where
 * partly acknowledged batches are acked with an ack_set.  On Exclusive
 * and Failover subscriptions the done prefix of what the session received
 * (ackstream.h) goes first as one cumulative ACK, and the pending ids it
 * covers are left out.
 *
 * Its files, behind this private header:
 *
 *   psource.c    the source interface (source_ops): the poll loop's
 *                timers and permits, consumers brought down, the end,
 *                the source made and freed
 *   psrc_recv.c  the broker's frames: messages into message frames
 *                (skipped when the lake holds them, with --exactly-once)
 *   psrc_sub.c   subscribing: lookup, SUBSCRIBE, SEEK, the last message
 *                id and the end, Failover's active consumer, the stats
 *   psrc_ack.c   acknowledging: the pending ids, cumulative and
 *                individual ACK commands
 */
#ifndef CONSUME_PSRC_H
#define CONSUME_PSRC_H

#include <stddef.h>
#include <stdint.h>

#include "ackstream.h"
#include "checkpoint.h"
#include "msghead.h"
#include "pulsar.h"
#include "source.h"
#include "topic.h"

#define REQ_TIMEOUT	10.0		/* seconds for one request */
#define ACK_DELAY	0.1		/* seconds an ack may wait */
#define ACK_BATCH	1000		/* ids in one ACK command */
#define STREAM_MAX	(1 << 20)	/* entries waiting for a cumulative ack */
#define STATS_EVERY	10.0		/* seconds between CONSUMER_STATS */
#define PROBE_EVERY	1.0		/* the same, while they tell the end */

enum pc_state { PC_DOWN, PC_SEEKING, PC_READY };

struct pcons {
	int		 partition;	/* -1: not partitioned */
	char		*topic;
	struct msghead	 head;		/* its frames' headers, up to pt= */
	uint64_t	 cid;
	struct bconn	*bc;
	enum pc_state	 state;
	double		 retry_at, seek_deadline;
	struct retry	 retry;		/* bring-ups failed in a row */
	int		 need_seek;
	uint32_t	 received;	/* messages since the last FLOW */
	uint64_t	 in_bytes;	/* of their MESSAGE frames */
	struct pw_decoder *dec;
	int		 have_last, at_end;
	int		 end_probe;	/* no mark-delete: the end from stats */
	int		 standby;	/* Failover: another consumer reads */
	int		 recheck_end;	/* became active: ask for the end again */
	struct msgid	 last;
	struct pw_ack_id *acks;
	size_t		 nacks, acks_cap;
	struct astream	 stream;	/* for cumulative acks */
	struct msgid	 asked[16];	/* asked again after a bad checksum */
	size_t		 nasked;
	double		 ack_since;
	double		 stats_at;	/* next CONSUMER_STATS */
	uint64_t	 stats_req;	/* the one in flight, 0: none */
	double		*m_backlog;	/* backlog_messages{partition="N"} */
	/*
	 * --exactly-once: the ranges the lake holds, read at each
	 * subscription; hi, the last id emitted this run (in order, as
	 * Exclusive and Failover deliver); cut, the next message emitted
	 * starts an object (messages before it were skipped); prev, tell
	 * transform the stored id before it; reread, read the lake again
	 * at the next message (see active_change).
	 */
	struct ckpt	 stored;
	struct msgid	 hi, emitted;
	int		 have_hi, have_emitted, cut, prev, reread;
};

struct psrc {
	struct source	 base;
	struct pulsar_opts o;
	struct topic	 topic;
	struct pool	*pool;
	struct pcons	*cons;
	size_t		 ncons;
	uint64_t	 next_cid;
	struct packs	*packs;
	struct pump	*pump;		/* while running */
	int		 ended, stopping, started, failed;
	double		 start_at;	/* next try to start (partitions) */
	struct retry	 start_retry;
	uint64_t	 bad_messages;
	uint64_t	 acks_sent, cumulative_sent;	/* ids, commands */
};

/* psource.c */
void	consumer_down(struct psrc *, struct pcons *, double delay);
void	consumer_failed(struct psrc *, struct pcons *);
struct pcons *consumer_by_id(struct psrc *, uint64_t cid);

/* psrc_recv.c: the pool's frame handler */
void	on_frame(void *, struct bconn *, struct pw_cmd *,
	    const struct pw_frame *);

/* psrc_sub.c */
void	consumer_up(struct psrc *, struct pcons *);
void	try_start(struct psrc *);
int	read_lake(struct psrc *, struct pcons *);
void	active_change(struct psrc *, struct pcons *, int active);
void	after_takeover(struct psrc *, struct pcons *);
void	ask_stats(struct psrc *, struct pcons *, double now);
void	took_stats(struct psrc *, const struct pw_cmd *);

/* psrc_ack.c */
void	add_ack(struct psrc *, struct pcons *, const struct msgid *,
	    const uint64_t *set, int setlen, int32_t batch_size);
void	ack_one(void *, const struct msgid *, const uint64_t *set,
	    int setlen, int32_t batch_size);
void	send_acks(struct psrc *, struct pcons *);
void	psrc_acked(struct source *, uint64_t seq, const struct wentry *,
	    size_t);

#endif
