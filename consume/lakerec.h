/*
 * lakerec: one JSON lines record of a lake object, as transform writes it
 * (transform/record.c, transform(1) "JSON lines records"), read back into
 * the message frame it was made from, for consume --lake.
 *
 * What comes back: the id, topic, publish and event times, key,
 * redelivery count, properties, null=1 and the exact payload bytes.  Not
 * in the record, so not back: the ordering key and fields transform does
 * not know.  Header text that was not valid UTF-8 was written as U+FFFD
 * and comes back so.
 *
 * A struct lakerec owns its buffers; lakerec_parse() reuses them from one
 * record to the next, so that reading an object costs one record's memory.
 */
#ifndef CONSUME_LAKEREC_H
#define CONSUME_LAKEREC_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "msgid.h"

struct lakerec {
	struct buf	 id;		/* the message_id text */
	struct msgid	 mid;
	struct buf	 topic;		/* decoded bytes */
	uint64_t	 pt, et, rc;
	int		 has_et, has_key, null;
	struct buf	 key;		/* decoded bytes */
	struct buf	 props;		/* " p.NAME=VALUE"..., encoded */
	struct buf	 payload;	/* string and base64 payloads */
	const char	*body;		/* the payload: into payload or
					   into the line (json) */
	size_t		 len;
	struct buf	 tmp;
};

void	lakerec_init(struct lakerec *);
void	lakerec_release(struct lakerec *);
/*
 * Parse one record (the line without its newline): 0, or -1 with *why
 * set to what is wrong.  body may point into line: keep the line until the
 * frame is written.
 */
int	lakerec_parse(struct lakerec *, const char *line, size_t n,
	    const char **why);
/* Append the message frame of the record just parsed, with seq. */
void	lakerec_frame(struct buf *out, const struct lakerec *, uint64_t seq);

#endif
