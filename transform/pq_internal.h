/*
 * pq_internal: what the parts of the Parquet writer (parquet.h) share.
 * Private to them:
 *
 *	parquet.c	the writer's life: options, pq_new, the end of a
 *			row and when pages and row groups are cut, the row
 *			group's column chunks moved in order to the queue of
 *			the file's final bytes, pq_size, pq_take, pq_finish,
 *			pq_free;
 *	pq_col.c	the columns: the values of a row (pq_int64 ...
 *			pq_null) into their open pages, and each column
 *			chunk's dictionary and statistics;
 *	pq_page.c	the pages: an open page made a data page (PLAIN or
 *			RLE_DICTIONARY), headed and compressed beside the
 *			building of the next rows (in opts.q's threads, or
 *			in line), and appended to its chunk in the order
 *			submitted; a dictionary page made alike;
 *	pq_meta.c	the footer's Thrift: a column chunk's metadata with
 *			its statistics, the schema and FileMetaData;
 *	pq_rle.c	the RLE/bit-packed hybrid encoder, whose interface
 *			is parquet.h's (the unit tests use it).
 *
 * A function one part lends another is named for its part: col_, page_,
 * meta_, writer_ (parquet.c).  Only the writer's files include this.
 *
 * Ownership: the writer owns its columns (struct pq_col), their buffers,
 * the jobs and the queue of final bytes.  A data page, once page_cut
 * submitted it, is its job's until page_reap_one moves the bytes stored
 * to the end of its column's chunk; a chunk's pages are the column's
 * until cut_row_group (parquet.c) moves them to the queue, which holds
 * them until pq_take releases them.  The footer's metadata is built in
 * w->rgmeta, one RowGroup as each is cut, and moved to the queue last.
 *
 * Invariants: at most PQ_JOBS pages are in flight, w->fifo[0..njobs)
 * their slots in the order submitted, and w->pending their bytes
 * uncompressed; they are reaped in that order, so a chunk's pages are in
 * order whichever thread finished first, and a column's pages are all
 * reaped (page_reap_through) before its chunk is moved.  A column's
 * chunk_len counts only its pages reaped.  The sizes (pq_size,
 * pq_held) count what is in flight or open at the ratio of the
 * pages reaped, so the bytes written are the same with threads or
 * without.
 */
#ifndef TRANSFORM_PQ_INTERNAL_H
#define TRANSFORM_PQ_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "compress.h"
#include "parquet.h"
#include "workq.h"

struct thrift;

/* parquet.thrift's enums, the values this writer uses. */
enum { T_BOOLEAN = 0, T_INT64 = 2, T_DOUBLE = 5, T_BYTE_ARRAY = 6 };
enum { CT_UTF8 = 0, CT_TIMESTAMP_MILLIS = 9 };
enum { REP_REQUIRED = 0, REP_OPTIONAL = 1 };
enum { E_PLAIN = 0, E_RLE = 3, E_RLE_DICTIONARY = 8 };
enum { PT_DATA_PAGE = 0, PT_DICTIONARY_PAGE = 2 };

#define MAGIC		"PAR1"

struct pq_col {
	char		*name;
	enum pq_type	 type;
	int		 nullable;
	int		 set;		/* in the current row */

	/* The open page. */
	struct rle	 def;		/* definition levels, as they come */
	struct buf	 defbuf, defscratch;
	struct buf	 vals;		/* PLAIN values (booleans: bits) */
	uint32_t	*idx;		/* dictionary indices */
	size_t		 nidx, idxcap;
	size_t		 idx_plain;	/* PLAIN size of those values */
	uint32_t	 page_n;	/* values, nulls included */
	uint32_t	 nbool;

	/*
	 * The column chunk of the open row group: its data pages, each a
	 * header and the bytes stored, in order (moved, not copied, to the
	 * file's bytes at the row group's end).
	 */
	struct buf	*pages;
	size_t		 npages, pagecap;
	uint64_t	 chunk_len;	/* their bytes */
	int64_t		 num_values, null_count, nan_count;
	int64_t		 raw_size;	/* data pages uncompressed, headers in */
	int		 used_plain, used_dict;	/* data pages so written */
	int		 dict_checked;

	/* The dictionary of the chunk, while dict_on. */
	int		 dict_on;
	struct buf	 dict;		/* PLAIN entries */
	uint32_t	 ndict, dictcap;
	uint32_t	*doff;		/* entry i at dict.data + doff[i] */
	uint32_t	*dhash;
	uint32_t	*slots;		/* entry + 1, 0 empty */
	uint32_t	 nslots;

	/* Statistics of the chunk. */
	int		 has_minmax;
	int64_t		 imin, imax;
	double		 dmin, dmax;
	struct buf	 bmin, bmax;
};

/*
 * Data pages compressed beside the building of the next rows: at most
 * PQ_JOBS in flight, so that a burst of pages (a row group's end cuts
 * every column's) does not wait for each in turn.
 */
#define PQ_JOBS	4

/*
 * A data page compressed in a thread (opts.q), or in line, into its own
 * buffers with its own compressor, so that pages compress side by side.
 * The main thread appends it to its column's chunk afterwards
 * (page_reap_one), in the order the pages were submitted, whichever
 * finished first.  From workq_put to workq_wait, page, zpage, hdr, out,
 * stored and comp are the job's.
 */
struct pq_job {
	struct wq_job	 job;		/* first: a job is its wq_job */
	enum pq_codec	 codec;
	struct compressor comp;		/* gzip and zstd */
	struct buf	 page, zpage, hdr;
	struct buf	 out;		/* once it ran: hdr, the bytes stored */
	size_t		 stored;	/* their length */
	struct pq_col	*col;
	uint32_t	 nvalues;
	int		 encoding;
};

struct pq_writer {
	struct pq_opts	 opts;
	struct pq_col	*cols;
	size_t		 ncols;
	struct compressor comp;

	/*
	 * The file's final bytes not yet taken, in order: buffers moved in
	 * whole (a column chunk is not copied until pq_take), the first
	 * partly taken.
	 */
	struct buf	*ready;
	size_t		 nready, readycap, head, headpos;
	uint64_t	 offset;	/* file offset of the end of ready */
	uint64_t	 rows, rg_rows;
	struct buf	 rgmeta;	/* RowGroup structs, serialized */
	uint64_t	 raw_pages, stored_pages;	/* bodies so far */
	uint32_t	 nrg;
	int		 finished;

	struct buf	 page, zpage, hdr;	/* scratch */

	/*
	 * The data pages in flight (struct pq_job), in the order they were
	 * submitted: fifo[0] the oldest of njobs; pending, their bytes
	 * uncompressed.  The sizes (pq_size, pq_held) count them at
	 * the ratio of the pages reaped, and the chunks as reaped, so that
	 * they are the same with threads or without.
	 */
	struct pq_job	*jobs[PQ_JOBS];	/* made when first needed */
	unsigned char	 fifo[PQ_JOBS];
	size_t		 njobs;
	size_t		 pending;
};

/*
 * little-endian helpers, inline here: every value of a row goes through
 * one, in pq_col.c, and the footer's parts use them too.
 */

static inline void
add_le32(struct buf *b, uint32_t v)
{
	unsigned char t[4] = { (unsigned char)v, (unsigned char)(v >> 8),
	    (unsigned char)(v >> 16), (unsigned char)(v >> 24) };

	buf_add(b, t, 4);
}

static inline void
le64(unsigned char t[8], uint64_t v)
{
	/* spelled out, so that the compiler makes it one store */
	t[0] = (unsigned char)v;
	t[1] = (unsigned char)(v >> 8);
	t[2] = (unsigned char)(v >> 16);
	t[3] = (unsigned char)(v >> 24);
	t[4] = (unsigned char)(v >> 32);
	t[5] = (unsigned char)(v >> 40);
	t[6] = (unsigned char)(v >> 48);
	t[7] = (unsigned char)(v >> 56);
}

/* pq_col.c: a column's open page and chunk */

/* Empty the open page (after it was cut, and in pq_new). */
void	 col_reset_page(struct pq_col *);
/*
 * Start the chunk again, its pages moved out: no statistics, and a
 * dictionary again for a string or binary column (when dict_bytes > 0).
 */
void	 col_reset_chunk(struct pq_col *, const struct pq_opts *);
void	 col_free(struct pq_col *);
/* Empty the dictionary, keeping its room. */
void	 col_dict_clear(struct pq_col *);
/* Make the open page's dictionary-encoded values PLAIN, in c->vals. */
void	 col_undict_page(struct pq_col *);

/* pq_page.c: pages */

/*
 * Write c's open page into its chunk, through a job (a page of no values
 * is not written); decides on the chunk's first dictionary-encoded page
 * whether its dictionary pays.
 */
void	 page_cut(struct pq_writer *, struct pq_col *);
/* Wait for the oldest page in flight and move it to its chunk. */
void	 page_reap_one(struct pq_writer *);
/* Reap until no page of the column is in flight. */
void	 page_reap_through(struct pq_writer *, const struct pq_col *);
/*
 * A page of type (PT_*; a data page: of encoding), headed and compressed
 * with codec (through the compressor, into zpage; hdr the header's room)
 * into out; *stored the bytes stored after the header.
 */
void	 page_make(struct buf *out, size_t *stored, const struct buf *page,
	    int type, uint32_t nvalues, int encoding, enum pq_codec codec,
	    struct compressor *, struct buf *zpage, struct buf *hdr);
/* Count a page of raw bytes (its header hdrlen) stored as stored. */
void	 page_count(struct pq_writer *, int64_t *raw_size, size_t hdrlen,
	    size_t raw, size_t stored);
/* Free a job slot (NULL: none); its page must not be in flight. */
void	 page_job_free(struct pq_job *);

/* pq_meta.c: the footer's Thrift */

/*
 * One ColumnChunk of the RowGroup being serialized into t: the chunk's
 * offsets (its dictionary page's, its first data page's), sizes,
 * encodings, statistics and encoding_stats.
 */
void	 meta_put_chunk(struct pq_writer *, struct thrift *,
	    const struct pq_col *, uint64_t dict_off, uint64_t data_off,
	    int64_t raw, int64_t stored);
/* FileMetaData, its length and the closing magic, to the queue. */
void	 meta_put_footer(struct pq_writer *);

/* parquet.c: the queue of final bytes */

/* Move b's bytes to the end of the queue; b is left empty. */
void	 writer_ready_move(struct pq_writer *, struct buf *);

#endif
