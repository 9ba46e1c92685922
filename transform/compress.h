/*
 * compress: streaming compression of an object's body as it is built, so
 * that a batch never sits uncompressed in memory.  gzip is ISA-L's
 * isal_deflate (a standard gzip member, about four times faster than zlib
 * at the same ratio), zstd is libzstd, none copies.
 */
#ifndef TRANSFORM_COMPRESS_H
#define TRANSFORM_COMPRESS_H

#include <stddef.h>
#include <stdint.h>

struct buf;

enum codec { CODEC_NONE, CODEC_GZIP, CODEC_ZSTD };

struct compressor {
	enum codec	 codec;
	int		 level;
	void		*state;		/* isal_zstream or ZSTD_CCtx */
	unsigned char	*level_buf;	/* ISA-L's work memory */
	uint64_t	 total_in;
	uint64_t	 total_out;	/* the object's bytes made so far */
	double		 ratio;		/* stored/in of the last object; 0 */
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
/*
 * Start an object; its compressed bytes are appended to out.  The caller
 * may take bytes out of out between calls (transform writes an object's
 * first parts before it ends): the compressor counts what it made.
 */
void	 comp_begin(struct compressor *);
void	 comp_write(struct compressor *, struct buf *out, const void *, size_t);
/*
 * The object's stored size if it ended now: what was compressed so far,
 * plus what the compressor holds and staged bytes not yet given to it,
 * at the ratio of the compressor's last object, or else the ratio seen
 * so far (a quarter before any output): --max-bytes.
 */
uint64_t comp_estimate(const struct compressor *, size_t staged);
/*
 * Finish the object (gzip trailer, zstd frame end) into out (its ratio
 * is kept for comp_estimate).
 */
void	 comp_end(struct compressor *, struct buf *out);

#endif
