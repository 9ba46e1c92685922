/*
 * compress: streaming compression of an object's body as it is built, so
 * that a batch never sits uncompressed in memory.  gzip is ISA-L's
 * isal_deflate (a standard gzip member, about four times faster than zlib
 * at the same ratio), zstd is libzstd, none copies.
 *
 * A compressor attached to a work queue (comp_attach) compresses the
 * chunks given to comp_submit in a thread, one at a time and in order,
 * while the caller builds the next.  Up to COMP_SLOTS chunks are in
 * flight, so that the thread finds the next chunk waiting when it ends
 * one rather than sleeping until the caller wakes to hand it over (two
 * wake-ups a chunk, which cost a sixth of the time on a 2-CPU VM).  Each
 * chunk is compressed into a buffer of its own; its bytes are appended
 * to the object's output when the caller reaps it, at the next
 * comp_submit that finds every slot taken or at comp_wait, so the output
 * buffer is always the caller's.  Until comp_wait returns, only
 * comp_estimate, comp_submit, comp_wait and the functions that wait
 * themselves (comp_write, comp_end, comp_free) may be called.  The bytes
 * made are the same with or without the thread, and so is every estimate:
 * both count only the chunks reaped, which are the same either way.
 */
#ifndef TRANSFORM_COMPRESS_H
#define TRANSFORM_COMPRESS_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "workq.h"

enum codec { CODEC_NONE, CODEC_GZIP, CODEC_ZSTD };

/*
 * Chunks in flight at most: one compressed while the next waits.  A power
 * of two, so that the slot of a wrapping unsigned count stays right.
 */
#define COMP_SLOTS	2

struct compressor {
	enum codec	 codec;
	int		 level;
	void		*state;		/* isal_zstream or ZSTD_CCtx */
	unsigned char	*level_buf;	/* ISA-L's work memory */
	uint64_t	 total_in;	/* given to it, compressed or not yet */
	/*
	 * What comp_estimate may see: the bytes in and out of what is
	 * reaped, and of those in, the ones ISA-L held uncompressed then.
	 */
	uint64_t	 done_in, done_out, done_held;
	double		 ratio;		/* stored/in of the last object; 0 */
	struct workq	*q;		/* NULL: compress in line */
	struct wq_job	 job;		/* a run for each chunk submitted */
	struct comp_slot {
		struct buf	 in;	/* a chunk (swapped with the caller's) */
		struct buf	 out;	/* its compressed bytes */
		size_t		 held;	/* input held uncompressed after it */
	}		 slot[COMP_SLOTS];
	unsigned	 submitted, reaped;	/* chunks so far: the caller's */
	unsigned	 ran;		/* chunks compressed: the thread's */
	struct buf	*chunk_out;	/* where reaped chunks' bytes go */
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
 * is left empty (its memory swapped with a slot's).  The oldest chunk in
 * flight is reaped first when every slot is taken: its bytes go to out.
 */
void	 comp_submit(struct compressor *, struct buf *out, struct buf *chunk);
/* Wait until every submitted chunk is compressed, and reap them. */
void	 comp_wait(struct compressor *);
/*
 * The object's stored size if it ended now: the bytes given to the
 * compressor and the staged bytes not yet given, at the ratio of the
 * compressor's last object, or else the ratio of the object's chunks
 * reaped (a quarter before any output): --max-bytes.  It does not wait
 * for the thread.
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
