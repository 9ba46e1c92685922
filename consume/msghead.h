/*
 * msghead: the start of a message frame's header, written fast.
 *
 * Every message frame consume makes from Pulsar or from lines begins
 *
 *	M LEN seq=SEQ id=LEDGER:ENTRY:PARTITION:BATCH topic=TOPIC pt=PT
 *
 * and from one message to the next most of it stays the same: SEQ goes
 * up by one, and so does BATCH within a batch entry, or ENTRY where
 * messages are not batched (BATCH -1: lines, single messages); LEN is
 * the same across a batch of equal payloads.  Formatting it all anew for
 * each message was most of consume's time, so a msghead keeps the text of
 * the last message and counts those numbers up in its digits; the text is
 * written again, as the writers of frame.h and msgid.h do it (buf_addu64,
 * buf_addi64, pct_encode_value by frame_add_str), only when anything else
 * changes or a number gains a digit, and LEN when it changes.  The bytes
 * are thus those of frame_begin(), frame_add_u64() and msgid_format().
 *
 * One per topic.  The other fields (et=, key=, props...) follow with the
 * frame_add*() calls as usual.
 */
#ifndef CONSUME_MSGHEAD_H
#define CONSUME_MSGHEAD_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "dec.h"
#include "msgid.h"

struct msghead {
	/* "M LEN" of the last message (lenlen 0: none yet) */
	char		 lenhead[2 + DEC_U64_MAX_DIGITS + 2];
	size_t		 lenlen, len;
	/* " seq=SEQ id=... pt=PT" of the last message (len 0: none yet) */
	struct buf	 text;
	struct buf	 topic;		/* " topic=TOPIC" */
	/* what text says, and where its digits that count up are */
	uint64_t	 seq, pt;
	struct msgid	 id;
	size_t		 seq_at, seq_len, entry_at, entry_len, batch_at,
			 batch_len;
};

void	msghead_init(struct msghead *, const char *topic);
void	msghead_release(struct msghead *);
/*
 * Append "M LEN seq=SEQ id=... topic=... pt=PT" to out for message id
 * (LEN: its payload's length, PT: its publish time).  With body (its
 * payload, len bytes), the whole frame: the header then what
 * frame_finish(out, body, len) adds, with one check of room.  With body
 * NULL, the header alone, for frame_add*() and frame_finish() to follow.
 */
void	msghead_put(struct msghead *, struct buf *out, size_t len,
	    uint64_t seq, const struct msgid *id, uint64_t pt,
	    const void *body);

#endif
