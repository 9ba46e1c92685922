/*
 * format: the output formats, table-driven (one file per format, in the
 * manner of kcat's format.c).  A format owns the bytes of an object: it
 * begins one, adds records, ends it, and says its key extension and
 * content type.  A stream format (jsonl, raw, csv) appends its bytes to
 * the batch's staging buffer, and batch.c compresses them with the outer
 * codec (--compress); a format that compresses itself (Parquet: its pages
 * are compressed, an outer gzip would be wrong) appends the object's
 * final bytes to the body as they are made (a row group at a time) and
 * the rest at its end, and no outer codec is applied.  Either way batch.c
 * writes what goes past the part size as P frames while the object grows.
 *
 * Records come as the message (record.h) and, when the format asks for
 * rows or --fields is given, as a row of typed values (fields.h).
 * fmt_reject is the reject stream's format: JSON lines of the records
 * that could not be converted, its row holding only the reason.
 */
#ifndef TRANSFORM_FORMAT_H
#define TRANSFORM_FORMAT_H

#include <stddef.h>
#include <stdint.h>

struct buf;
struct msg;
struct row;
struct schema;
struct workq;

/* What a format is told when a batch makes its state. */
struct fmt_conf {
	const struct schema	*schema;	/* NULL: no rows */
	char			 csv_delim;
	int			 parquet_codec;	/* enum pq_codec */
	size_t			 parquet_row_group;	/* bytes */
	struct workq		*q;	/* compression threads, or NULL */
};

struct fmt_ops {
	const char	*name;		/* --format */
	const char	*ext;		/* {ext}, before .gz or .zst */
	const char	*type;		/* content type */
	int		 self_compressed;
	int		 needs_row;	/* a row even without --fields */
	/* State for one batch, kept across its objects; NULL if none. */
	void		*(*state_new)(const struct fmt_conf *);
	void		 (*state_free)(void *);
	/* Start an object: a header (CSV's header row) goes to out. */
	void		 (*begin)(void *, struct buf *out);
	/*
	 * Add one record (row NULL unless needs_row or --fields); returns
	 * the bytes it counts for --max-bytes (a stream format: what it
	 * appended to out).
	 */
	size_t		 (*add)(void *, struct buf *out,
			    const struct msg *, const struct row *);
	/* End the object: a stream format's trailer, or all of it. */
	void		 (*end)(void *, struct buf *out);
	/*
	 * The {ext} of the object so far, when its records decide it (raw:
	 * txt or bin); NULL: always ext.
	 */
	const char	*(*ext_of)(const void *);
	/*
	 * The bytes the state holds of the open object, not yet in out
	 * (Parquet's row group); NULL: none.
	 */
	size_t		 (*held)(const void *);
};

/* A begin or end that writes nothing. */
void	fmt_nothing(void *, struct buf *);

extern const struct fmt_ops fmt_jsonl, fmt_raw, fmt_csv, fmt_parquet,
	fmt_reject;

/* The format named s, or NULL; names lists them for messages. */
const struct fmt_ops *format_find(const char *s);
extern const char format_names[];

#endif
