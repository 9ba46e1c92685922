/*
 * pqread: a Parquet file reader for consume --lake, written from the
 * Apache Parquet format specification (parquet-format: parquet.thrift,
 * Encodings.md, Compression.md), for what transform's writer makes
 * (transform/parquet.h) and files like them: a flat schema of REQUIRED
 * and OPTIONAL columns; data pages v1 with RLE definition levels; values
 * PLAIN, or PLAIN_DICTIONARY / RLE_DICTIONARY with a PLAIN dictionary
 * page; pages uncompressed, snappy, gzip or zstd; INT32, INT64 and
 * BYTE_ARRAY columns read (others may be in the file, not selected).
 * Anything else (nesting, repeated columns, data pages v2, another
 * encoding or codec, columns in other files) is an error that names it.
 *
 * Memory: the footer's metadata, and the selected columns of one row
 * group at a time, read with pread(2) from the file and decoded whole
 * (compressed chunk, decompressed pages, a value per row); a row group
 * of more than 2^23 rows is refused.
 *
 * Ownership: the reader owns all it allocates until pqr_free; the fd
 * stays the caller's.  Values given by pqr_next point into the reader,
 * valid until its next call.
 */
#ifndef CONSUME_PQREAD_H
#define CONSUME_PQREAD_H

#include <stddef.h>
#include <stdint.h>

/* Physical types (parquet.thrift's Type). */
enum { PQR_BOOLEAN, PQR_INT32, PQR_INT64, PQR_INT96, PQR_FLOAT,
	PQR_DOUBLE, PQR_BYTE_ARRAY, PQR_FIXED_LEN_BYTE_ARRAY };

/* What an INT64 column's logical type says its unit is. */
enum pqr_unit { PQR_PLAIN, PQR_MILLIS, PQR_MICROS, PQR_NANOS };

enum pqval_kind { PQV_NULL, PQV_INT, PQV_BYTES };

struct pqval {
	enum pqval_kind	 kind;
	int64_t		 i;		/* PQV_INT */
	const char	*s;		/* PQV_BYTES */
	size_t		 n;
};

struct pqr;

/*
 * Read the footer of the size bytes of fd: the reader, or NULL with why
 * (whylen bytes) said.
 */
struct pqr *pqr_open(int fd, uint64_t size, char *why, size_t whylen);
void	 pqr_free(struct pqr *);

size_t	 pqr_ncols(const struct pqr *);
/* Column col's name (NUL-terminated, *len bytes), type and unit. */
const char *pqr_name(const struct pqr *, size_t col, size_t *len);
int	 pqr_type(const struct pqr *, size_t col);
enum pqr_unit pqr_unit(const struct pqr *, size_t col);
uint64_t pqr_rows(const struct pqr *);

/*
 * The columns pqr_next gives, in this order; before the first pqr_next.
 * 0, or -1 with pqr_error (a column of a type not read).
 */
int	 pqr_select(struct pqr *, const size_t *cols, size_t n);
/*
 * The next row: 1 with vals[] (one per selected column), 0 after the
 * last, -1 on an error (pqr_error; the reader gives no more rows).
 */
int	 pqr_next(struct pqr *, struct pqval *vals);
const char *pqr_error(const struct pqr *);

/*
 * The RLE/bit-packed hybrid decoder (Encodings.md) of values of width
 * bits (0-32), over n bytes it does not own; exposed for the unit tests.
 * rled_next: 0 with *v, or -1 when the data has no more values or is
 * malformed.
 */
struct rled {
	const unsigned char *p, *end;
	int		 width;
	uint32_t	 nrep, val;	/* the repeat run: left, value */
	uint32_t	 npack;		/* the bit-packed run: values left */
	const unsigned char *bits;	/* its bytes */
	size_t		 nbits;		/* ... as bits */
	size_t		 bitpos;
};

void	 rled_init(struct rled *, const void *, size_t, int width);
int	 rled_next(struct rled *, uint32_t *v);

#endif
