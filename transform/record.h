/*
 * record: one message frame turned into one line of output, in the jsonl
 * or raw format (see transform(1) for the record layout).
 */
#ifndef TRANSFORM_RECORD_H
#define TRANSFORM_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include "msgid.h"

struct buf;
struct frame;
struct frame_field;

enum format { FMT_JSONL, FMT_RAW };

/* A message frame's fields, looked up in one pass; values still encoded. */
struct msg {
	const struct frame		*f;
	uint64_t			 parsed;	/* f->parsed then */
	const struct frame_field	*seq_field;
	uint64_t			 seq;
	const struct frame_field	*id, *topic, *key;
	const struct frame_field	*prev;	/* prev=: last id stored before */
	int				 cut;	/* cut=1: starts a new object */
	struct msgid			 mid;
	uint64_t			 pt, et, rc;
	int				 has_et, null;
	int				 has_props;	/* a p.NAME field */
	const char			*body;
	size_t				 len;
};

/*
 * 0, or -1 with why set when a required field is missing or malformed.
 * m is zeroed, or what msg_parse made of an earlier frame: one made of
 * the frame's last header is updated where its fields changed (frame.h:
 * same), not parsed again; any other is overwritten.
 */
int	msg_parse(struct msg *, const struct frame *, const char **why);
/*
 * Append the record and its newline to out; scratch is a buffer the
 * caller keeps for percent-decoding (so that no record allocates).
 */
void	record_add(struct buf *out, enum format, const struct msg *,
	    struct buf *scratch);
/*
 * Append a reject's record: the jsonl envelope with a "reason" member
 * before the payload, which is always base64 (null for a null message).
 */
void	record_add_reject(struct buf *out, const struct msg *,
	    struct buf *scratch, const char *reason);
/* Append the properties as a JSON object ('{}' when there are none). */
void	record_add_properties(struct buf *out, const struct frame *,
	    struct buf *scratch);
/* Append a header value percent-decoded (as it is if the escape is bad). */
void	record_decode(struct buf *out, const char *v, size_t n);

#endif
