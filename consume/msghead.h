/*
 * msghead: the start of a Pulsar message's frame header, written fast.
 *
 * Every message frame begins
 *
 *	M LEN seq=SEQ id=LEDGER:ENTRY:PARTITION:BATCH topic=TOPIC pt=PT
 *
 * and the messages of a batch entry share all of it but SEQ and BATCH
 * (and most often LEN), while SEQ goes up by one from one message to the
 * next.  Formatting those numbers anew was most of consume's time per
 * message, so a msghead keeps each part as the last message had it and
 * formats again only what changed; SEQ's digits are counted up in place.
 * The bytes are exactly those of frame_begin(), frame_add_u64(),
 * msgid_format() and frame_add_str() for the same values.
 *
 * One per consumer: the topic is its own.  The other fields (et=, key=,
 * props...) follow with the frame_add*() calls as usual.
 */
#ifndef CONSUME_MSGHEAD_H
#define CONSUME_MSGHEAD_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "dec.h"
#include "msgid.h"

struct msghead {
	char		 len[2 + DEC_U64_MAX_DIGITS + 8];	/* "M LEN seq=" */
	size_t		 lenlen;
	size_t		 len_v;
	/* SEQ's digits; seqlen 0 until the first */
	char		 seq[DEC_U64_MAX_DIGITS + 8];
	size_t		 seqlen;
	uint64_t	 seq_v;
	/* " id=LEDGER:ENTRY:PARTITION:"; idlen 0 until the first */
	char		 id[4 + 3 * (DEC_U64_MAX_DIGITS + 2) + 8];
	size_t		 idlen;
	struct msgid	 id_v;
	/* " topic=TOPIC pt=PT": topiclen bytes of topic, then pt's */
	struct buf	 tail;
	size_t		 topiclen;
	uint64_t	 pt_v;
	int		 have_pt;
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
