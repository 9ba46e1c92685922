/*
 * fields: structure conversion, the same for every format.  A schema is
 * the list of columns an object's records have: message metadata columns
 * (--meta) and payload fields picked by path (--fields), each with a name
 * and a type; a row is one record's values.  See transform(1), FIELDS.
 *
 * With --fields auto the payload columns are inferred: each top-level
 * member of a JSON object payload with a non-null value is a column
 * (SRC_MEMBER), typed by its values, and a schema only widens (a new
 * member, int64 to double, any other conflict to string); see
 * schema_widen.  Such a schema is each batch's own (batch.c).
 *
 * A schema owns its columns' names and paths; a row owns its values and
 * the text they point into, and is reused from record to record.
 */
#ifndef TRANSFORM_FIELDS_H
#define TRANSFORM_FIELDS_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "json.h"

struct msg;

/* Column types; COL_ANY (no :type) keeps the JSON value as it is. */
enum col_type { COL_ANY, COL_INT64, COL_DOUBLE, COL_BOOLEAN, COL_STRING,
	COL_TIMESTAMP };

/* Where a column's value comes from. */
enum col_src { SRC_PATH, SRC_MESSAGE_ID, SRC_TOPIC, SRC_PARTITION, SRC_KEY,
	SRC_PUBLISH_TIME, SRC_EVENT_TIME, SRC_PROPERTIES, SRC_REDELIVERY_COUNT,
	SRC_PAYLOAD_ENCODING, SRC_PAYLOAD, SRC_MEMBER };

/* The most columns --fields auto infers (the top-level index holds them). */
#define INFER_MAX	JSON_TOP_MAX

struct column {
	char		*name;
	enum col_src	 src;
	enum col_type	 type;		/* what the values are */
	char		*path;		/* SRC_PATH: dotted; SRC_MEMBER: the
					 * member's name, decoded */
	size_t		 pathlen;
};

struct schema {
	struct column	*col;
	size_t		 n;
	size_t		 paths;		/* columns of paths or members */
	int		 infer;		/* --fields auto */
	char		*sep;		/* infer: --name-separator */
};

/*
 * A value: null, a number, or text (row->text + off, len).  VAL_JSON text
 * is JSON that passed validation or that json_add_string wrote, so it is
 * always valid UTF-8 without NUL bytes; VAL_STRING text may be anything,
 * unless utf8 says it is known to be the same (a message id, a payload
 * encoding, a payload that passed utf8_valid_nonul), which spares the
 * formats that need UTF-8 a second look.
 */
enum val_kind { VAL_NULL, VAL_INT, VAL_DOUBLE, VAL_BOOL, VAL_TIME,
	VAL_STRING, VAL_JSON };

struct value {
	enum val_kind	 kind;
	int64_t		 i;	/* VAL_INT, VAL_BOOL, VAL_TIME (ms) */
	double		 d;		/* VAL_DOUBLE */
	/* text: VAL_STRING, VAL_JSON, a VAL_DOUBLE's number as written */
	size_t		 off, len;
	int		 utf8;	/* text UTF-8 without NUL; VAL_JSON always */
};

struct row {
	struct value	*v;		/* schema->n values */
	size_t		 n, cap;
	struct buf	 text;
	char		 why[256];	/* why the record was rejected */
	struct json_top	 top;		/* the payload's members */
};

#define META_DEFAULT	"message_id,topic,partition,key,publish_time," \
	"event_time,properties,redelivery_count"

/*
 * Build a schema from --meta (NULL: META_DEFAULT; "none": no metadata
 * columns), --fields (NULL: none) and the separator that replaces '.' in
 * the names made from paths; with whole, the payload too (its encoding
 * and text, as in jsonl) when no field is picked.  fields "auto": the
 * metadata columns only, s->infer set.  0, or -1 with why.
 */
int	 schema_parse(struct schema *, const char *meta, const char *fields,
	    const char *sep, int whole, char *why, size_t whylen);
void	 schema_free(struct schema *);
/* dst (uninitialized) becomes a copy of src that owns its own columns. */
void	 schema_copy(struct schema *dst, const struct schema *src);
/*
 * Widen s (s->infer) so that the record that row_make found not to fit
 * (it returned 1; its payload is indexed in r->top, and must still be
 * there) fits: each new member a new column at the end, int64 meeting
 * double double, any other conflict string.  0, or -1 with r->why (more
 * than INFER_MAX members, a name taken), s then partly widened: widen a
 * copy.
 */
int	 schema_widen(struct schema *s, struct row *r, struct buf *scratch);
/*
 * Append the schema as "name:type,...", the types those of --fields and
 * "json" for a value kept as JSON text (no :type), for the object frame's
 * schema= field; a name's ',', ':' and '%' as %XX.
 */
void	 schema_format(struct buf *, const struct schema *);

void	 row_init(struct row *, const struct schema *);
void	 row_free(struct row *);
/*
 * Convert one message into row; 0, or -1 with row->why set when it
 * cannot be (the payload is not JSON, a cast fails): a reject; with
 * s->infer, 1 when the record does not fit the schema (schema_widen).
 * The row grows to the schema's columns.
 */
int	 row_make(struct row *, const struct schema *, const struct msg *,
	    struct buf *scratch);
/* The text of value v of row r. */
#define ROW_TEXT(r, v)	((r)->text.data + (v)->off)

/*
 * Append a number, boolean or time value as text (a time as RFC 3339 UTC
 * with milliseconds, unquoted); 0, or -1 (nothing added) for the others.
 */
int	 value_add_scalar(struct buf *, const struct row *,
	    const struct value *);


#endif
