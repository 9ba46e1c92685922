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
 * The same from the columns of a CSV or Parquet row (lakerec_from_cols),
 * where the properties column is the JSON object text jsonl has and the
 * payload is the payload_encoding and payload columns without a size.
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
/*
 * The columns of a CSV or Parquet row (transform(1), "Structure
 * conversion") that a record is made from: all of them are needed, but
 * partition, which the message id holds.  message_id and topic come
 * first: what orders objects, read alone (lakelist.c's peek, lakeobj.h).
 */
enum lakecol {
	LC_MESSAGE_ID, LC_TOPIC, LC_KEY, LC_PUBLISH_TIME, LC_EVENT_TIME,
	LC_PROPERTIES, LC_REDELIVERY_COUNT, LC_PAYLOAD, LC_PAYLOAD_ENCODING,
	LC_N
};

/* A column's value in a row: text (borrowed), an integer, or null. */
enum lakeval_kind { LV_NULL, LV_TEXT, LV_INT };

struct lakeval {
	enum lakeval_kind kind;
	const char	*s;		/* LV_TEXT */
	size_t		 n;
	int64_t		 i;		/* LV_INT */
};

/* The lakecol of a column named name (n bytes), or -1. */
int	lakecol_find(const char *name, size_t n);
/*
 * Given where each lakecol is (col[c] < 0: not there), NULL when all
 * are, or why not ("no payload column (written with --fields?)").
 */
const char *lakecol_missing(const int col[LC_N]);
/*
 * Make the record from a row's values of the columns: times are RFC 3339
 * UTC text with milliseconds as transform writes them, or integers
 * (milliseconds); integers are text or integers.  0, or -1 with *why.
 * body may point into a value's text: keep the row until the frame is
 * written.
 */
int	lakerec_from_cols(struct lakerec *, const struct lakeval v[LC_N],
	    const char **why);
/* Append the message frame of the record just parsed, with seq. */
void	lakerec_frame(struct buf *out, const struct lakerec *, uint64_t seq);

#endif
