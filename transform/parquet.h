/*
 * parquet: a Parquet file writer, row at a time, for flat schemas (no
 * nesting, no repetition), written from the Apache Parquet format
 * specification (parquet-format: parquet.thrift, Encodings.md,
 * Compression.md, LogicalTypes.md).
 *
 * What it writes: data page v1 pages (the widest reader support);
 * optional columns carry definition levels (max level 1, RLE/bit-packed
 * hybrid); values PLAIN, or for STRING and BINARY columns a dictionary
 * (a PLAIN dictionary page and RLE_DICTIONARY data pages) when it pays:
 * a column chunk whose first page has a dictionary of 3/4 of the plain
 * bytes or more is written plain, and a dictionary that outgrows
 * dict_bytes falls back to plain pages for the rest of the row group.
 * Pages are compressed with the row group's codec.  Every column chunk
 * has statistics: null_count, min_value and max_value in the column's
 * type-defined order (signed for INT64 and TIMESTAMP, unsigned byte-wise
 * for STRING and BINARY, false < true, doubles without NaN and with
 * nan_count), and the footer says TYPE_ORDER for every column so that
 * readers use them.  String and binary bounds longer than PQ_STAT_MAX
 * bytes are truncated (a prefix for the minimum, a prefix with its last
 * byte raised for the maximum, and is_*_value_exact false; a maximum that
 * cannot be raised is left out).
 *
 * Types: PQ_INT64 (INT64), PQ_DOUBLE (DOUBLE), PQ_BOOLEAN (BOOLEAN),
 * PQ_STRING (BYTE_ARRAY, logical type STRING, converted type UTF8; the
 * bytes must be UTF-8, which the writer does not check), PQ_BINARY
 * (BYTE_ARRAY, no logical type), PQ_TIMESTAMP_MS (INT64, logical type
 * TIMESTAMP(isAdjustedToUTC=true, unit=MILLIS), converted type
 * TIMESTAMP_MILLIS: milliseconds since the epoch, UTC).
 *
 * Sizes: a column's open page is cut when its encoded size (values,
 * definition levels; a dictionary-encoded page counts its values' plain
 * size) reaches page_bytes, at a row end.  A row group is cut at a row end
 * when its buffered bytes (finished pages as compressed, dictionaries,
 * open pages) reach row_group_bytes; the pages finished last (up to
 * four) may still be compressing in threads (opts.q: side by side,
 * beside the building of the next rows, each appended to its chunk in
 * order) and count at the ratio of the pages written before them (the
 * first page of a file is waited for), so that the bytes written are the
 * same with threads or without.  The writer holds one row group, up to four pages in
 * flight, the file's bytes not yet taken (see pq_take) and the footer's
 * metadata (a few hundred bytes per column and row group): call pq_take
 * after rows to stream a file in bounded memory.
 *
 * Ownership: pq_new copies the column names; the writer owns everything
 * it allocates until pq_free.  Values given to pq_bytes are copied before
 * it returns.  Misuse (a value of the wrong type, a column set twice in a
 * row, a null in a required column, a column index out of range) is a
 * bug in the caller and exits through errx(3).
 */
#ifndef TRANSFORM_PARQUET_H
#define TRANSFORM_PARQUET_H

#include <stddef.h>
#include <stdint.h>

struct buf;

enum pq_type {
	PQ_INT64, PQ_DOUBLE, PQ_BOOLEAN, PQ_STRING, PQ_BINARY,
	PQ_TIMESTAMP_MS
};

/* Page codecs; the values are Parquet's CompressionCodec numbers. */
enum pq_codec { PQ_NONE = 0, PQ_SNAPPY = 1, PQ_GZIP = 2, PQ_ZSTD = 6 };

struct pq_column {
	const char	*name;		/* UTF-8, unique; copied by pq_new */
	enum pq_type	 type;
	int		 nullable;	/* OPTIONAL (else REQUIRED) */
};

struct pq_opts {
	enum pq_codec	 codec;		/* default PQ_SNAPPY */
	int		 level;		/* gzip 0-3, zstd 1-22; -1: 1 */
	size_t		 page_bytes;	/* default 1 MiB */
	size_t		 row_group_bytes; /* default 32 MiB */
	size_t		 dict_bytes;	/* default 1 MiB; 0: no dictionaries */
	const char	*created_by;	/* NULL: "lakepipe" */
	struct workq	*q;		/* compress pages in its threads */
};

#define PQ_STAT_MAX	64	/* longest string/binary bound stored */

/* The defaults above. */
void	 pq_opts_init(struct pq_opts *);
/* "snappy", "zstd", "gzip", "none" to a codec; -1 if unknown. */
int	 pq_codec_parse(const char *);
const char *pq_codec_name(enum pq_codec);

struct pq_writer;

/*
 * A writer of one file of ncols columns (at least one).  The file's
 * first bytes (the "PAR1" magic) are ready for pq_take at once.
 */
struct pq_writer *pq_new(const struct pq_column *, size_t ncols,
	    const struct pq_opts *);

/*
 * Set column col of the current row.  pq_int64 is for PQ_INT64 and
 * PQ_TIMESTAMP_MS, pq_bytes for PQ_STRING and PQ_BINARY; pq_null for a
 * nullable column.  Each column at most once per row.
 */
void	 pq_int64(struct pq_writer *, size_t col, int64_t);
void	 pq_double(struct pq_writer *, size_t col, double);
void	 pq_bool(struct pq_writer *, size_t col, int);
void	 pq_bytes(struct pq_writer *, size_t col, const void *, size_t);
void	 pq_null(struct pq_writer *, size_t col);
/*
 * End the row: a nullable column not set is null (a required one not set
 * is a bug).  May cut pages and the row group.
 */
void	 pq_row_end(struct pq_writer *);

/* Rows ended so far. */
uint64_t pq_rows(const struct pq_writer *);
/*
 * The file's size if it were finished now, give or take the footer: the
 * bytes taken or ready, the row group's pages as compressed, and its
 * open pages and dictionaries at the compression ratio of the pages
 * written so far (uncompressed before the first page is cut, so a caller
 * that cuts files by size wants page_bytes well below that size).
 */
uint64_t pq_size(const struct pq_writer *);
/*
 * The bytes the writer holds of the row group it builds: its pages as
 * compressed, its open pages and dictionaries (transform's --max-memory
 * counts them).
 */
size_t	 pq_held(const struct pq_writer *);
/*
 * Append to out the file's bytes that are final (the magic, the row
 * groups cut so far), at most max of them (0: all), and drop them from
 * the writer; returns how many.  The writer never needs them again.  The
 * row groups wait as they were built, not copied, so a caller that takes
 * parts of max bytes holds one row group and one part.
 */
size_t	 pq_take(struct pq_writer *, struct buf *out, size_t max);
/*
 * Cut the last row group, write the footer and append every byte not yet
 * taken to out: after pq_take calls and pq_finish, out (or the parts
 * taken) hold the whole file.  Nothing but pq_free may follow.  Returns 0.
 */
int	 pq_finish(struct pq_writer *, struct buf *out);
void	 pq_free(struct pq_writer *);

/*
 * The RLE/bit-packed hybrid encoder (Encodings.md), streaming: values of
 * width bits (1-32) are put one at a time and the runs are appended to
 * out as they end; rle_flush ends the last run.  Exposed for the unit
 * tests.  A bit-packed run's last group is padded with zeros.
 */
struct rle {
	struct buf	*out;
	int		 width;
	uint32_t	 cur;		/* value of the current repeat */
	uint32_t	 rep;		/* its count, not yet emitted */
	uint32_t	 pend[8];	/* the bit-packed group being filled */
	int		 npend;
	uint32_t	 ngroups;	/* groups in packed, not yet emitted */
	struct buf	*packed;
};

void	 rle_init(struct rle *, struct buf *out, struct buf *scratch,
	    int width);
void	 rle_put(struct rle *, uint32_t);
void	 rle_flush(struct rle *);
/* The bit width of values 0..max. */
int	 pq_bit_width(uint32_t max);

#endif
