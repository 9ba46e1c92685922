/*
 * key: object keys from a template such as
 * "{topic}/{yyyy}/{mm}/{dd}/{hh}/{first_id}.{ext}", see transform(1).
 *
 * A template is checked once, when it is parsed, so that no message can
 * later make an unsafe key: literal text may hold only A-Z a-z 0-9 - _ .
 * = /, no segment may be empty, "." or "..", and substituted values are
 * sanitized to the same characters and are never empty, "." or "..".
 */
#ifndef TRANSFORM_KEY_H
#define TRANSFORM_KEY_H

#include <stddef.h>
#include <stdint.h>

struct buf;
struct tzone;
struct utc;

#define KEY_MAX		1024	/* bytes; what S3 and COS accept */

enum key_var {
	KV_LITERAL, KV_TOPIC, KV_TENANT, KV_NAMESPACE, KV_NAME, KV_PARTITION,
	KV_YYYY, KV_MM, KV_DD, KV_HH, KV_MI, KV_SS, KV_DATE, KV_FIRST_ID,
	KV_SEQ_ID, KV_EXT, KV_FIELD
};

/* The finest time unit a template uses: a batch never crosses one. */
enum key_unit { KU_NONE, KU_YEAR, KU_MONTH, KU_DAY, KU_HOUR, KU_MINUTE,
	KU_SECOND };

struct key_part {
	enum key_var	 var;
	const char	*lit;		/* KV_LITERAL, KV_FIELD's path: in */
	size_t		 len;		/* the template */
};

/*
 * {field:PATH}: the value of a payload member (transform(1)), at most
 * KEY_FIELDS_MAX of them a template.  A value is made key-safe (see
 * key_field_add) and cut to KEY_FIELD_MAX bytes; null, a missing member,
 * an object or array, or a payload that is not JSON give
 * KEY_FIELD_NULL, the name Hive and DuckDB read as NULL.
 */
#define KEY_FIELDS_MAX	8
#define KEY_FIELD_MAX	100
#define KEY_FIELD_NULL	"__HIVE_DEFAULT_PARTITION__"

struct key_tmpl {
	struct key_part	*parts;
	size_t		 n;
	enum key_unit	 unit;
	size_t		 nfields;	/* KV_FIELD parts */
	/*
	 * The part (a '/' literal) that ends the path segment of the last
	 * time placeholder: the key before it is the time bucket's
	 * directory.  0 when there is none: no time placeholder, or the last
	 * one is in the final segment (all buckets share one directory).
	 */
	size_t		 bucket_end;
};

/* What a key is made of: the batch's first message and the format. */
struct key_vars {
	const char	*topic;		/* decoded full topic name */
	size_t		 topiclen;
	int64_t		 ledger, entry;	/* first message id */
	int32_t		 partition, batch;
	uint64_t	 pt_ms;		/* its time (--partition-time) */
	struct tzone	*tz;		/* of the time placeholders; NULL: UTC */
	const char	*ext;		/* "jsonl.gz" */
	/*
	 * The values of the KV_FIELD parts in template order, each ended by
	 * '/' (key_field_add's), as the batch's first record gave them.
	 */
	const char	*fields;
	size_t		 fieldslen;
};

/*
 * {seq_id} sorts: a listing of one partition's objects is in publish
 * order.  KEY_V1_TEMPLATE is the default before it (unpadded {first_id}).
 */
#define KEY_DEFAULT_TEMPLATE \
	"{topic}/{yyyy}/{mm}/{dd}/{hh}/{seq_id}-{partition}.{ext}"
#define KEY_V1_TEMPLATE "{topic}/{yyyy}/{mm}/{dd}/{hh}/{first_id}.{ext}"

/* 0, or -1 with a one-line reason in why. */
int	key_tmpl_parse(struct key_tmpl *, const char *tmpl, char *why,
	    size_t whylen);
void	key_tmpl_free(struct key_tmpl *);
/* Append the key; -1 if it would be unsafe or longer than KEY_MAX. */
int	key_render(const struct key_tmpl *, const struct key_vars *,
	    struct buf *out);
/*
 * The same, and in *dirlen the length of the key's time bucket
 * directory (see bucket_end), 0 if the template has none.
 */
int	key_render_bucket(const struct key_tmpl *, const struct key_vars *,
	    struct buf *out, size_t *dirlen);
/*
 * The time bucket of ms (local time in tz, NULL: UTC) at the template's
 * unit, as milliseconds since the epoch: its first, and the first after
 * it.  A day with a daylight saving change is as long as the zone makes
 * it.
 */
void	key_bucket_range(const struct key_tmpl *, struct tzone *, uint64_t ms,
	    uint64_t *start, uint64_t *end);
/*
 * The time bucket of a local time at the template's unit: equal for two
 * times exactly when the template's time placeholders render equal.
 */
uint64_t key_bucket(const struct key_tmpl *, const struct utc *);
/*
 * Append the text of a {field:PATH} value, s (a decoded JSON string or
 * the literal of a number or boolean; NULL for KEY_FIELD_NULL), made
 * key-safe, then the '/' that ends it: bytes other than A-Z a-z 0-9 - _
 * and . become '_' ('=' and '/' too, which would split a Hive segment),
 * an empty value or "." or ".." is all '_'.
 */
void	key_field_add(struct buf *, const char *s, size_t n);
/*
 * Nonzero if path may follow "field:" (the key's placeholder, and
 * --partition-time): member names joined by '.', none empty, of
 * printable ASCII without '{'.
 */
int	key_field_path_ok(const char *path, size_t n);
/* Nonzero if k is a safe key (see lakepipe-frames(5), key=). */
int	key_is_safe(const char *k, size_t n);

#endif
