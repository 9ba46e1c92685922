/*
 * compress: streaming compression of an object's body as it is built, so
 * that a batch never sits uncompressed in memory.  gzip is ISA-L's
 * isal_deflate (a standard gzip member, about four times faster than zlib
 * at the same ratio), zstd is libzstd, none copies.
 *
 * A compressor attached to a work queue (comp_attach) compresses the
 * chunks given to comp_submit in a thread, one at a time and in order,
 * while the caller builds the next: until comp_wait returns, the
 * compressor and the buffer its output goes to are the thread's, and only
 * comp_estimate, comp_submit, comp_wait and the functions that wait
 * themselves (comp_write, comp_end, comp_free) may be called.  The bytes
 * made are the same with or without the thread, and so is every estimate.
 */
#ifndef TRANSFORM_COMPRESS_H
#define TRANSFORM_COMPRESS_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "workq.h"

enum codec { CODEC_NONE, CODEC_GZIP, CODEC_ZSTD };

struct compressor {
	enum codec	 codec;
	int		 level;
	void		*state;		/* isal_zstream or ZSTD_CCtx */
	unsigned char	*level_buf;	/* ISA-L's work memory */
	uint64_t	 total_in;	/* given to it, compressed or not yet */
	uint64_t	 total_out;	/* the object's bytes made so far */
	/* the totals before the last chunk: what comp_estimate may see */
	uint64_t	 seen_in, seen_out;
	double		 ratio;		/* stored/in of the last object; 0 */
	struct workq	*q;		/* NULL: compress in line */
	struct wq_job	 job;		/* the chunk in the thread */
	struct buf	 chunk;		/* its bytes (swapped with the caller's) */
	struct buf	*chunk_out;	/* where they go */
};

/* Name to codec ("gzip", "zstd", "none"); -1 if unknown. */
int	 codec_parse(const char *);
/* Default and allowed levels: "none" has none (0-0). */
int	 codec_default_level(enum codec);
int	 codec_max_level(enum codec);
int	 codec_min_level(enum codec);
/* The enc= value, or NULL for none; and the file name suffix. */
const char *codec_enc(enum codec);
const char *codec_suffix(enum codec);

void	 comp_init(struct compressor *, enum codec, int level);
void	 comp_free(struct compressor *);
/* Compress submitted chunks in q's threads (q NULL: in line). */
void	 comp_attach(struct compressor *, struct workq *q);
/*
 * Start an object; its compressed bytes are appended to out.  The caller
 * may take bytes out of out between calls (transform writes an object's
 * first parts before it ends): the compressor counts what it made.
 */
void	 comp_begin(struct compressor *);
void	 comp_write(struct compressor *, struct buf *out, const void *, size_t);
/*
 * Compress the bytes of chunk into out, in the thread if attached: chunk
 * is left empty (its memory swapped with the compressor's own), out is
 * the thread's until comp_wait.
 */
void	 comp_submit(struct compressor *, struct buf *out, struct buf *chunk);
/* Wait until the submitted chunk is compressed. */
void	 comp_wait(struct compressor *);
/*
 * The object's stored size if it ended now: the bytes given to the
 * compressor and the staged bytes not yet given, at the ratio of the
 * compressor's last object, or else the ratio of the object before its
 * last chunk (a quarter before any output): --max-bytes.  It does not
 * wait for the thread.
 */
uint64_t comp_estimate(const struct compressor *, size_t staged);
/*
 * The fewest staged bytes whose estimate is over limit (SIZE_MAX: none
 * up to a petabyte).  The estimate only grows with the staged bytes,
 * so a caller compares lengths rather than estimating for every record;
 * the answer holds until the compressor is given bytes (comp_write,
 * comp_submit) or begins or ends an object.
 */
size_t	 comp_staged_over(const struct compressor *, uint64_t limit);
/*
 * Finish the object (gzip trailer, zstd frame end) into out (its ratio
 * is kept for comp_estimate).
 */
void	 comp_end(struct compressor *, struct buf *out);

#endif
