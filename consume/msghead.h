/*
 * msghead: the start of a Pulsar message's frame header, written fast.
 *
 * Every message frame begins
 *
 *	M LEN seq=SEQ id=LEDGER:ENTRY:PARTITION:BATCH topic=TOPIC pt=PT
 *
 * and the messages of a batch entry share all of it but SEQ and BATCH,
 * which go up by one from one message to the next.  Formatting it anew
 * for each message was most of consume's time, so a msghead keeps the
 * text of the last message and counts SEQ and BATCH up in its digits; it
 * is written again, by the frame writers (frame_begin(), frame_add_u64(),
 * msgid_format(), frame_add_str()), only when anything else changes or a
 * number gains a digit.  The bytes are thus those of the writers.
 *
 * One per consumer: the topic is its own.  The other fields (et=, key=,
 * props...) follow with the frame_add*() calls as usual.
 */
#ifndef CONSUME_MSGHEAD_H
#define CONSUME_MSGHEAD_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "msgid.h"

struct msghead {
	struct buf	 text;		/* the last message's, len 0: none */
	struct buf	 topic;		/* " topic=TOPIC" */
	/* what text says, and where SEQ's and BATCH's digits are in it */
	size_t		 len;
	uint64_t	 seq, pt;
	struct msgid	 id;
	size_t		 seq_at, seq_len, batch_at, batch_len;
};

void	msghead_init(struct msghead *, const char *topic);
void	msghead_release(struct msghead *);
/*
 * Append "M LEN seq=SEQ id=... topic=... pt=PT" to out for message id
 * (LEN: its payload's length, PT: its publish time).
 */
void	msghead_put(struct msghead *, struct buf *out, size_t len,
	    uint64_t seq, const struct msgid *id, uint64_t pt);

#endif
