/* Streaming compression into a growing buffer; see compress.h. */
#include <err.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <isa-l/igzip_lib.h>
#include <zstd.h>

#include "buf.h"
#include "compress.h"

/* Output room made per compressor call. */
#define OUT_ROOM	(128 * 1024)
#define MAX_IN		((size_t)1 << 30)	/* isal's avail_in is 32-bit */

static void compress_chunk(struct wq_job *);

int
codec_parse(const char *s)
{
	if (strcmp(s, "gzip") == 0)
		return CODEC_GZIP;
	if (strcmp(s, "zstd") == 0)
		return CODEC_ZSTD;
	if (strcmp(s, "none") == 0)
		return CODEC_NONE;
	return -1;
}

int
codec_default_level(enum codec c)
{
	return c == CODEC_NONE ? 0 : 1;
}

int
codec_min_level(enum codec c)
{
	return c == CODEC_ZSTD ? 1 : 0;
}

int
codec_max_level(enum codec c)
{
	switch (c) {
	case CODEC_GZIP:
		return ISAL_DEF_MAX_LEVEL;
	case CODEC_ZSTD:
		return ZSTD_maxCLevel();
	default:
		return 0;
	}
}

const char *
codec_enc(enum codec c)
{
	return c == CODEC_GZIP ? "gzip" : c == CODEC_ZSTD ? "zstd" : NULL;
}

const char *
codec_suffix(enum codec c)
{
	return c == CODEC_GZIP ? ".gz" : c == CODEC_ZSTD ? ".zst" : "";
}

static size_t
isal_level_buf_size(int level)
{
	switch (level) {
	case 0:
		return ISAL_DEF_LVL0_DEFAULT;
	case 1:
		return ISAL_DEF_LVL1_DEFAULT;
	case 2:
		return ISAL_DEF_LVL2_DEFAULT;
	default:
		return ISAL_DEF_LVL3_DEFAULT;
	}
}

void
comp_init(struct compressor *c, enum codec codec, int level)
{
	size_t i, r;

	memset(c, 0, sizeof(*c));
	for (i = 0; i < COMP_SLOTS; i++) {
		buf_init(&c->slot[i].in, 0);
		buf_init(&c->slot[i].out, 0);
	}
	c->job.run = compress_chunk;
	c->codec = codec;
	c->level = level;
	switch (codec) {
	case CODEC_GZIP:
		c->state = xcalloc(1, sizeof(struct isal_zstream));
		c->level_buf = xmalloc(isal_level_buf_size(level));
		break;
	case CODEC_ZSTD:
		if ((c->state = ZSTD_createCCtx()) == NULL)
			errx(1, "zstd: cannot create a compression context");
		r = ZSTD_CCtx_setParameter(c->state, ZSTD_c_compressionLevel,
		    level);
		if (!ZSTD_isError(r))
			r = ZSTD_CCtx_setParameter(c->state,
			    ZSTD_c_checksumFlag, 1);
		if (ZSTD_isError(r))
			errx(1, "zstd: %s", ZSTD_getErrorName(r));
		break;
	case CODEC_NONE:
		break;
	}
}

void
comp_free(struct compressor *c)
{
	size_t i;

	/* chunks in flight are dropped: their object's output may be gone */
	workq_wait(c->q, &c->job);
	for (i = 0; i < COMP_SLOTS; i++) {
		buf_release(&c->slot[i].in);
		buf_release(&c->slot[i].out);
	}
	if (c->codec == CODEC_ZSTD)
		ZSTD_freeCCtx(c->state);
	else
		free(c->state);
	free(c->level_buf);
	memset(c, 0, sizeof(*c));
}

void
comp_begin(struct compressor *c)
{
	struct isal_zstream *z = c->state;
	size_t r;

	comp_wait(c);
	c->total_in = c->done_in = c->done_out = c->done_held = 0;
	switch (c->codec) {
	case CODEC_GZIP:
		isal_deflate_init(z);
		z->level = (uint32_t)c->level;
		z->level_buf = c->level_buf;
		z->level_buf_size = (uint32_t)isal_level_buf_size(c->level);
		z->gzip_flag = IGZIP_GZIP;
		z->flush = NO_FLUSH;
		z->end_of_stream = 0;
		break;
	case CODEC_ZSTD:
		r = ZSTD_CCtx_reset(c->state, ZSTD_reset_session_only);
		if (ZSTD_isError(r))
			errx(1, "zstd: %s", ZSTD_getErrorName(r));
		break;
	case CODEC_NONE:
		break;
	}
}

/* One isal_deflate call with OUT_ROOM bytes of room at the end of out. */
static void
isal_step(struct compressor *c, struct buf *out)
{
	struct isal_zstream *z = c->state;
	int rc;

	buf_grow(out, OUT_ROOM);
	z->next_out = (uint8_t *)out->data + out->len;
	z->avail_out = OUT_ROOM;
	if ((rc = isal_deflate(z)) != COMP_OK)
		errx(1, "isal_deflate: error %d", rc);
	buf_setlen(out, out->len + (OUT_ROOM - z->avail_out));
}

/* One ZSTD_compressStream2 call; returns what zstd has left to flush. */
static size_t
zstd_step(struct compressor *c, struct buf *out, ZSTD_inBuffer *in,
    ZSTD_EndDirective mode)
{
	ZSTD_outBuffer o;
	size_t r;

	buf_grow(out, OUT_ROOM);
	o.dst = out->data + out->len;
	o.size = OUT_ROOM;
	o.pos = 0;
	r = ZSTD_compressStream2(c->state, &o, in, mode);
	if (ZSTD_isError(r))
		errx(1, "zstd: %s", ZSTD_getErrorName(r));
	buf_setlen(out, out->len + o.pos);
	return r;
}

/* Compress n bytes at p into out. */
static void
compress_bytes(struct compressor *c, struct buf *out, const void *p,
    size_t n)
{
	struct isal_zstream *z = c->state;
	const unsigned char *s = p;
	ZSTD_inBuffer in;
	size_t k;

	switch (c->codec) {
	case CODEC_NONE:
		buf_add(out, p, n);
		return;
	case CODEC_GZIP:
		while (n > 0) {
			k = n < MAX_IN ? n : MAX_IN;
			z->next_in = (uint8_t *)(uintptr_t)s;
			z->avail_in = (uint32_t)k;
			while (z->avail_in > 0)
				isal_step(c, out);
			s += k;
			n -= k;
		}
		return;
	case CODEC_ZSTD:
		in.src = p;
		in.size = n;
		in.pos = 0;
		while (in.pos < in.size)
			zstd_step(c, out, &in, ZSTD_e_continue);
		return;
	}
}

/*
 * The input the compressor holds with none of its output made yet: at
 * level 1, ISA-L writes a deflate block about every megabyte of JSON
 * lines, four chunks, so the ratio of what is reaped counts only the
 * input up to the block being built (block_next, in the stream's 32-bit
 * total_in).  Level 0 writes as it goes and leaves block_next at 0;
 * zstd's blocks are 128K: neither holds enough to matter.
 */
static size_t
held(const struct compressor *c)
{
	const struct isal_zstream *z = c->state;

	if (c->codec != CODEC_GZIP || c->level == 0)
		return 0;
	return (uint32_t)(z->total_in - z->internal_state.block_next);
}

_Static_assert((COMP_SLOTS & (COMP_SLOTS - 1)) == 0,
    "COMP_SLOTS a power of two");

/* The thread's part of comp_submit: the next chunk, into its slot. */
static void
compress_chunk(struct wq_job *j)
{
	struct compressor *c = (struct compressor *)(void *)((char *)j -
	    offsetof(struct compressor, job));
	struct comp_slot *s = &c->slot[c->ran++ % COMP_SLOTS];

	compress_bytes(c, &s->out, s->in.data, s->in.len);
	s->held = held(c);
}

/* Wait for the oldest chunk in flight and append its bytes. */
static void
reap_one(struct compressor *c)
{
	struct comp_slot *s = &c->slot[c->reaped % COMP_SLOTS];

	workq_wait_runs(c->q, &c->job, c->submitted - c->reaped - 1);
	c->done_in += s->in.len;
	c->done_out += s->out.len;
	c->done_held = s->held;
	if (c->chunk_out->len == 0)
		buf_swap(c->chunk_out, &s->out);	/* no copy */
	else
		buf_add(c->chunk_out, s->out.data, s->out.len);
	buf_reset(&s->out);
	c->reaped++;
}

void
comp_attach(struct compressor *c, struct workq *q)
{
	comp_wait(c);
	c->q = c->codec == CODEC_NONE ? NULL : q;	/* a copy gains nothing */
}

void
comp_wait(struct compressor *c)
{
	while (c->reaped != c->submitted)
		reap_one(c);
}

void
comp_write(struct compressor *c, struct buf *out, const void *p, size_t n)
{
	size_t len0;

	comp_wait(c);
	len0 = out->len;	/* after the reaped chunks, counted already */
	compress_bytes(c, out, p, n);
	c->total_in += n;
	c->done_in += n;
	c->done_out += out->len - len0;
	c->done_held = held(c);
}

void
comp_submit(struct compressor *c, struct buf *out, struct buf *chunk)
{
	struct comp_slot *s;

	if (c->submitted - c->reaped == COMP_SLOTS)
		reap_one(c);
	s = &c->slot[c->submitted++ % COMP_SLOTS];
	c->total_in += chunk->len;
	buf_swap(&s->in, chunk);
	buf_reset(chunk);
	c->chunk_out = out;
	workq_put(c->q, &c->job);	/* in line without a queue */
}

void
comp_end(struct compressor *c, struct buf *out)
{
	struct isal_zstream *z = c->state;
	ZSTD_inBuffer in = { NULL, 0, 0 };
	size_t len0;

	comp_wait(c);
	len0 = out->len;
	switch (c->codec) {
	case CODEC_NONE:
		return;
	case CODEC_GZIP:
		z->next_in = NULL;
		z->avail_in = 0;
		z->end_of_stream = 1;
		do
			isal_step(c, out);
		while (z->internal_state.state != ZSTATE_END);
		break;
	case CODEC_ZSTD:
		while (zstd_step(c, out, &in, ZSTD_e_end) != 0)
			;
		break;
	}
	c->done_out += out->len - len0;
	/* a small object's ratio is mostly its header: not a measure */
	if (c->total_in >= 64 * 1024)
		c->ratio = (double)c->done_out / (double)c->total_in;
}

uint64_t
comp_estimate(const struct compressor *c, size_t staged)
{
	uint64_t in = c->total_in + staged;

	if (c->codec == CODEC_NONE)
		return c->done_out + staged;
	/* the output lags the input: the last object's ratio is exact */
	if (c->ratio > 0)
		return (uint64_t)((double)in * c->ratio);
	if (c->done_out == 0 || c->done_in <= c->done_held)
		return in / 4;
	/*
	 * The output lags the input by what the compressor holds (ISA-L's
	 * window, a zstd block): its share of the ratio shrinks as the
	 * object grows, under 2% of a 1M gzip object.  Only the chunks
	 * reaped are looked at, so that the answer is the same whether the
	 * thread has compressed those in flight yet or not.
	 */
	return (uint64_t)((double)in * (double)c->done_out /
	    (double)(c->done_in - c->done_held));
}

size_t
comp_staged_over(const struct compressor *c, uint64_t limit)
{
	/* a petabyte: far more than is ever staged, little enough that no
	   estimate overflows */
	size_t lo = 0, hi = (uint64_t)SIZE_MAX < 1ULL << 50 ? SIZE_MAX :
	    (size_t)(1ULL << 50), mid;

	if (comp_estimate(c, hi) <= limit)
		return SIZE_MAX;
	while (lo < hi) {	/* comp_estimate(c, hi) > limit */
		mid = lo + (hi - lo) / 2;
		if (comp_estimate(c, mid) > limit)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}
