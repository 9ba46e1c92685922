/*
 * lakeobj: one stored object of the lake read back for consume --lake:
 * its bytes fetched (deliver --cat, lakechild.h), decompressed and taken
 * a record at a time.
 *
 * Each object is streamed: its bytes are read when poll(2) says so,
 * decompressed (by its enc, its key's extension, or its magic number) a
 * chunk at a time and taken a record at a time: a line of a JSON lines
 * object (lakerec.h), a row of a CSV one (lakecsv.h).  A Parquet object
 * is read from its end, so its bytes are spooled to an unlinked file
 * first and its rows read from there (pqread.h), a row group at a time.
 * Inside an object the records are in the order transform wrote them.
 *
 * Memory: the bytes read and not yet decompressed, those decompressed
 * and not yet taken (a record longer than --max-size is an error), and
 * for Parquet what pqread.h holds.
 *
 * Ownership: an objreader owns its child, buffers and spool from or_open
 * until or_close, which is needed after a failed or_open too; its key is
 * the struct obj's, which must outlive it.  A line or record or_next
 * gives is valid until its next call.
 */
#ifndef CONSUME_LAKEOBJ_H
#define CONSUME_LAKEOBJ_H

#include <stddef.h>
#include <stdint.h>
#include <zlib.h>
#include <zstd.h>

#include "buf.h"
#include "lakechild.h"
#include "lakecsv.h"
#include "lakerec.h"
#include "msgid.h"
#include "pqread.h"
#include "source.h"

enum zenc { CE_UNKNOWN, CE_PLAIN, CE_GZIP, CE_ZSTD };
/* What an object holds; OF_UNKNOWN: its first bytes say. */
enum ofmt { OF_UNKNOWN, OF_JSONL, OF_CSV, OF_PARQUET };

/* One object of the lake, as listed (lakelist.h). */
struct obj {
	char		*key;		/* relative to the destination */
	char		*topic;		/* full name; NULL: not known */
	struct msgid	 first;
	enum zenc	 enc;
	enum ofmt	 fmt;
	int		 raw;		/* format raw: cannot be restored */
	int		 empty;		/* no records */
};

/*
 * An object being read: deliver --cat, decompressed, split in lines.
 * The caller reads ch.fd (to poll), key, fmt, lineno, why and unfit, and
 * counts its malformed records in nbad; the rest is the reader's.
 */
struct objreader {
	struct lakechild ch;
	const char	*key;
	enum zenc	 enc;
	enum ofmt	 fmt;
	int		 eof;
	uint64_t	 nread;		/* bytes read from the pipe */
	z_stream	 z;
	int		 z_init, z_end;
	ZSTD_DStream	*zs;
	int		 zs_end;
	struct buf	 zin;		/* read, not yet decompressed */
	size_t		 zpos;
	struct buf	 lines;		/* decompressed, not yet taken */
	size_t		 lpos;
	uint64_t	 lineno;
	int		 nbad;		/* malformed records */
	size_t		 max_size;
	struct lakecsv	 csv;
	int		 spool;		/* Parquet: the object, or -1 */
	uint64_t	 spooled;
	struct pqr	*pq;
	size_t		 pqcol[LC_N];	/* its column of each lakecol */
	uint64_t	 row;
	int		 unfit;		/* why: it cannot be restored */
	int		 sniffed;	/* fmt from its first byte */
	int		 peek;		/* only its first id is wanted */
	char		 why[256];
};

/*
 * What reading an object gives: a line (jsonl) or a record, a row that
 * is no record (why), the need to read, its end, an error (why).
 */
enum { OR_LINE, OR_REC, OR_BAD, OR_MORE, OR_END, OR_ERR };

/*
 * Start reading o, deliver --cat run with lo's options, its records at
 * most lo's max_size: 0, or -1 said.  peek may be set after it: then a
 * Parquet object's rows give only their topic and id.
 */
int	or_open(const char *deliver, const struct lake_opts *lo,
	    struct objreader *, const struct obj *o);
/* The object ended early or failed: nothing more from it. */
void	or_close(struct objreader *);
/* One read(2): 0 (more, or eof set) or -1 with why set. */
int	or_read(struct objreader *);
/*
 * What comes next from the object: OR_LINE (jsonl: *line, *len), OR_REC
 * (rec), OR_BAD, OR_MORE, OR_END, OR_ERR.
 */
int	or_next(struct objreader *, struct lakerec *rec, const char **line,
	    size_t *len);

#endif
