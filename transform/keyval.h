/*
 * keyval: what a record's object key takes from the record: its time
 * (--partition-time: publish, event or a payload member) and the values
 * of the key template's {field:PATH} placeholders (key.h), read from a
 * JSON payload.  A batch holds records that agree on both (batch.h).
 */
#ifndef TRANSFORM_KEYVAL_H
#define TRANSFORM_KEYVAL_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

struct key_tmpl;
struct msg;

/* Where a record's key time comes from. */
struct keytime {
	int		 event;		/* --partition-time event */
	const char	*path;		/* field:PATH, or NULL */
	size_t		 pathlen;
};

/* One record's; the buffers are reused from record to record. */
struct keyval {
	uint64_t	 ms;		/* the record's time for its key */
	struct buf	 fields;	/* key_vars.fields */
	struct buf	 scratch;	/* a string member decoded */
};

/*
 * The record's key time: its event time (if asked and it has one), the
 * payload member at path (epoch milliseconds, an integer, or an RFC 3339
 * string, from 1970 to 9999), or else its publish time; and the values
 * t's {field:PATH} placeholders take in it (key_field_add's).
 */
void	keyval_make(struct keyval *, const struct keytime *,
	    const struct key_tmpl *t, const struct msg *);
void	keyval_free(struct keyval *);

#endif
