/*
 * lakecsv: the records of a CSV object of transform's (transform(1), "CSV
 * objects") read back for consume --lake: RFC 4180, a header row naming
 * the columns, quoted fields with doubled quotes, CRLF or LF line ends.
 * An empty field is a null and "" an empty string, as transform writes
 * them.
 *
 * The delimiter is read from the header row: the byte that ends its
 * first field, which is a quoted field or a run of letters, digits, bytes
 * of 0x80 and above and "_.+-:" (transform refuses those but '_' as
 * delimiters, and quotes a name that holds the delimiter).  Columns are
 * found by name, in any order (lakerec.h, enum lakecol); others are
 * ignored.
 *
 * The reader is given the object's bytes as they come (decompressed) and
 * takes a record at a time from their start; it owns a copy of the
 * record's unquoted fields, which the lakerec it fills points into until
 * the next call.
 */
#ifndef CONSUME_LAKECSV_H
#define CONSUME_LAKECSV_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "lakerec.h"

struct csvfield {
	size_t		 off, len;	/* in text */
	int		 quoted;
};

struct lakecsv {
	char		 delim;		/* 0: not known yet */
	int		 header;	/* the header row was read */
	int		 col[LC_N];	/* field of each lakecol */
	size_t		 ncols;		/* fields of the header */
	struct buf	 text;		/* the record's fields, unquoted */
	struct csvfield	*f;
	size_t		 nf, fcap;
	uint64_t	 line;		/* lines taken */
	uint64_t	 recline;	/* where the last record began */
	char		 why[128];
};

enum { CSV_ROW, CSV_MORE, CSV_END, CSV_BAD, CSV_FAIL };

void	lakecsv_init(struct lakecsv *);
void	lakecsv_release(struct lakecsv *);
/*
 * The next record of s (n bytes; eof: nothing follows them).  *used is
 * always set to the bytes taken.  CSV_ROW: r holds the record; CSV_MORE:
 * more bytes are needed; CSV_END: no more records; CSV_BAD: a row that
 * is no record (why), taken, the next may be; CSV_FAIL: the object
 * cannot be read further (why).  recline is the line of the record.
 */
int	lakecsv_next(struct lakecsv *, struct lakerec *r, const char *s,
	    size_t n, int eof, size_t *used, const char **why);

#endif
