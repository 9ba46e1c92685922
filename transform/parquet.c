/* The Parquet writer; see parquet.h for what it writes and why. */
#include <err.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <snappy-c.h>
#include <zstd.h>

#include "buf.h"
#include "compress.h"
#include "parquet.h"
#include "thrift.h"
#include "workq.h"

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
 * The main thread appends it to its column's chunk afterwards (reap_one),
 * in the order the pages were submitted, whichever finished first.  From
 * workq_put to workq_wait, page, zpage, hdr, out, stored and comp are
 * the job's.
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
	 * uncompressed.  The sizes (pq_size, row_group_size) count them at
	 * the ratio of the pages reaped, and the chunks as reaped, so that
	 * they are the same with threads or without.
	 */
	struct pq_job	*jobs[PQ_JOBS];	/* made when first needed */
	unsigned char	 fifo[PQ_JOBS];
	size_t		 njobs;
	size_t		 pending;
};

void
pq_opts_init(struct pq_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->codec = PQ_SNAPPY;
	o->level = -1;
	o->page_bytes = 1 << 20;
	o->row_group_bytes = 32 << 20;
	o->dict_bytes = 1 << 20;
}

int
pq_codec_parse(const char *s)
{
	if (strcmp(s, "snappy") == 0)
		return PQ_SNAPPY;
	if (strcmp(s, "zstd") == 0)
		return PQ_ZSTD;
	if (strcmp(s, "gzip") == 0)
		return PQ_GZIP;
	if (strcmp(s, "none") == 0)
		return PQ_NONE;
	return -1;
}

const char *
pq_codec_name(enum pq_codec c)
{
	switch (c) {
	case PQ_SNAPPY:
		return "snappy";
	case PQ_ZSTD:
		return "zstd";
	case PQ_GZIP:
		return "gzip";
	default:
		return "none";
	}
}

/* RLE/bit-packed hybrid */

int
pq_bit_width(uint32_t max)
{
	int w = 0;

	while (max > 0) {
		w++;
		max >>= 1;
	}
	return w;
}

void
rle_init(struct rle *r, struct buf *out, struct buf *scratch, int width)
{
	memset(r, 0, sizeof(*r));
	r->out = out;
	r->packed = scratch;
	r->width = width;
	buf_reset(scratch);
}

/* Values are packed from the least significant bit of each byte up. */
static void
pack_group(struct rle *r)
{
	uint64_t acc = 0;
	int i, nbits = 0;

	for (i = 0; i < 8; i++) {
		acc |= (uint64_t)r->pend[i] << nbits;
		nbits += r->width;
		while (nbits >= 8) {
			buf_addch(r->packed, (int)(acc & 0xff));
			acc >>= 8;
			nbits -= 8;
		}
	}
	r->ngroups++;
	r->npend = 0;
}

static void
emit_packed(struct rle *r)
{
	if (r->ngroups == 0)
		return;
	tc_varint(r->out, (uint64_t)r->ngroups << 1 | 1);
	buf_add(r->out, r->packed->data, r->packed->len);
	buf_reset(r->packed);
	r->ngroups = 0;
}

/* A repeated value is stored in (width + 7) / 8 bytes, little endian. */
static void
emit_repeat(struct rle *r)
{
	int i;

	tc_varint(r->out, (uint64_t)r->rep << 1);
	for (i = 0; i < (r->width + 7) / 8; i++)
		buf_addch(r->out, (int)((r->cur >> (8 * i)) & 0xff));
	r->rep = 0;
}

/*
 * rep counts the equal values at the end of the stream not yet emitted;
 * once eight of them fill a whole group they become a repeat run, which
 * grows until another value comes.
 */
void
rle_put(struct rle *r, uint32_t v)
{
	if (r->rep >= 8) {
		if (v == r->cur) {
			r->rep++;
			return;
		}
		emit_repeat(r);
	}
	if (r->rep > 0 && v == r->cur)
		r->rep++;
	else {
		r->cur = v;
		r->rep = 1;
	}
	r->pend[r->npend++] = v;
	if (r->npend < 8)
		return;
	if (r->rep == 8) {
		emit_packed(r);		/* the groups before the repeat */
		r->npend = 0;
	} else {
		pack_group(r);
		r->rep = 0;
	}
}

void
rle_flush(struct rle *r)
{
	if (r->rep >= 8) {
		emit_repeat(r);
		return;
	}
	if (r->npend > 0 && r->rep == (uint32_t)r->npend) {
		emit_packed(r);
		emit_repeat(r);
		r->npend = 0;
		return;
	}
	if (r->npend > 0) {
		while (r->npend < 8)
			r->pend[r->npend++] = 0;
		pack_group(r);
	}
	emit_packed(r);
	r->rep = 0;
}

/* little-endian helpers */

static void
add_le32(struct buf *b, uint32_t v)
{
	unsigned char t[4] = { (unsigned char)v, (unsigned char)(v >> 8),
	    (unsigned char)(v >> 16), (unsigned char)(v >> 24) };

	buf_add(b, t, 4);
}

static void
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

/* columns */

static int
is_bytes(enum pq_type t)
{
	return t == PQ_STRING || t == PQ_BINARY;
}

static void
col_reset_page(struct pq_col *c)
{
	buf_reset(&c->defbuf);
	rle_init(&c->def, &c->defbuf, &c->defscratch, 1);
	buf_reset(&c->vals);
	c->nidx = 0;
	c->idx_plain = 0;
	c->page_n = 0;
	c->nbool = 0;
}

static void
dict_clear(struct pq_col *c)
{
	buf_reset(&c->dict);
	c->ndict = 0;
	if (c->slots != NULL)
		memset(c->slots, 0, c->nslots * sizeof(*c->slots));
}

static void
col_reset_chunk(struct pq_col *c, const struct pq_opts *o)
{
	c->chunk_len = 0;	/* its pages moved out (cut_row_group) */
	c->num_values = c->null_count = c->nan_count = 0;
	c->raw_size = 0;
	c->used_plain = c->used_dict = c->dict_checked = 0;
	c->dict_on = is_bytes(c->type) && o->dict_bytes > 0;
	dict_clear(c);
	c->has_minmax = 0;
	buf_reset(&c->bmin);
	buf_reset(&c->bmax);
}

static void
col_free(struct pq_col *c)
{
	free(c->name);
	buf_release(&c->defbuf);
	buf_release(&c->defscratch);
	buf_release(&c->vals);
	free(c->idx);
	while (c->npages > 0)
		buf_release(&c->pages[--c->npages]);
	free(c->pages);
	buf_release(&c->dict);
	free(c->doff);
	free(c->dhash);
	free(c->slots);
	buf_release(&c->bmin);
	buf_release(&c->bmax);
}

/* The open page's size as page_bytes counts it. */
static size_t
page_size(const struct pq_col *c)
{
	return c->vals.len + c->idx_plain + c->defbuf.len +
	    c->defscratch.len;
}

/* statistics */

static int
bytes_cmp(const void *a, size_t an, const void *b, size_t bn)
{
	int r = memcmp(a, b, an < bn ? an : bn);

	if (r != 0)
		return r;
	return an < bn ? -1 : an > bn;
}

static void
stat_bytes(struct pq_col *c, const void *p, size_t n)
{
	if (!c->has_minmax) {
		buf_add(&c->bmin, p, n);
		buf_add(&c->bmax, p, n);
		c->has_minmax = 1;
		return;
	}
	if (bytes_cmp(p, n, c->bmin.data, c->bmin.len) < 0) {
		buf_reset(&c->bmin);
		buf_add(&c->bmin, p, n);
	} else if (bytes_cmp(p, n, c->bmax.data, c->bmax.len) > 0) {
		buf_reset(&c->bmax);
		buf_add(&c->bmax, p, n);
	}
}

static void
stat_int(struct pq_col *c, int64_t v)
{
	if (!c->has_minmax) {
		c->imin = c->imax = v;
		c->has_minmax = 1;
	} else if (v < c->imin)
		c->imin = v;
	else if (v > c->imax)
		c->imax = v;
}

/* NaN is left out of min and max and counted (parquet.thrift's rules). */
static void
stat_double(struct pq_col *c, double v)
{
	if (isnan(v)) {
		c->nan_count++;
		return;
	}
	if (!c->has_minmax) {
		c->dmin = c->dmax = v;
		c->has_minmax = 1;
	} else if (v < c->dmin)
		c->dmin = v;
	else if (v > c->dmax)
		c->dmax = v;
}

/* dictionary */

/*
 * A word at a time: values can be long, and every one is hashed.  The
 * hash only places entries in slots (an entry's index is its order of
 * arrival), so it may change without changing a byte of the file.
 */
static uint32_t
hash_bytes(const void *p, size_t n)
{
	const unsigned char *s = p;
	uint64_t h = 0x9e3779b97f4a7c15ULL ^ n, v;
	size_t left = n;
	uint32_t lo, hi;

	for (; left >= 8; s += 8, left -= 8) {
		memcpy(&v, s, 8);
		h = (h ^ v) * 0xff51afd7ed558ccdULL;
		h ^= h >> 29;
	}
	if (left > 0) {
		/*
		 * The tail in fixed-size loads (a memcpy of a variable
		 * size is a call): the last word of a value of 8 bytes or
		 * more, overlapping the words hashed, or two 4-byte (or
		 * byte) loads that may overlap.
		 */
		if (n >= 8)
			memcpy(&v, s + left - 8, 8);
		else if (left >= 4) {
			memcpy(&lo, s, 4);
			memcpy(&hi, s + left - 4, 4);
			v = (uint64_t)hi << 32 | lo;
		} else
			v = (uint64_t)s[0] << 16 | (uint64_t)s[left / 2] << 8 |
			    s[left - 1];
		h = (h ^ v) * 0xff51afd7ed558ccdULL;
	}
	h ^= h >> 32;
	h *= 0xc4ceb9fe1a85ec53ULL;
	return (uint32_t)(h ^ (h >> 29));
}

static void
dict_rehash(struct pq_col *c)
{
	uint32_t i, j, mask;

	free(c->slots);
	c->nslots = c->nslots ? c->nslots * 2 : 1024;
	c->slots = xcalloc(c->nslots, sizeof(*c->slots));
	mask = c->nslots - 1;
	for (i = 0; i < c->ndict; i++) {
		for (j = c->dhash[i] & mask; c->slots[j] != 0; j = (j + 1) & mask)
			;
		c->slots[j] = i + 1;
	}
}

/*
 * The index of the value in the dictionary, added if new; -1 if adding
 * it would make the dictionary larger than limit.
 */
static int64_t
dict_index(struct pq_col *c, const void *p, size_t n, size_t limit)
{
	uint32_t h = hash_bytes(p, n), j, e, mask;
	const unsigned char *d;

	if (c->nslots == 0)
		dict_rehash(c);
	mask = c->nslots - 1;
	for (j = h & mask; (e = c->slots[j]) != 0; j = (j + 1) & mask) {
		if (c->dhash[e - 1] != h)
			continue;
		d = (const unsigned char *)c->dict.data + c->doff[e - 1];
		if ((d[0] | d[1] << 8 | d[2] << 16 | (uint32_t)d[3] << 24) == n &&
		    memcmp(d + 4, p, n) == 0)
			return e - 1;
	}
	if (c->dict.len + 4 + n > limit || c->ndict == UINT32_MAX - 1)
		return -1;
	if (c->ndict == c->dictcap) {
		c->dictcap = c->dictcap ? c->dictcap * 2 : 256;
		c->doff = xreallocarray(c->doff, c->dictcap, sizeof(*c->doff));
		c->dhash = xreallocarray(c->dhash, c->dictcap,
		    sizeof(*c->dhash));
	}
	c->doff[c->ndict] = (uint32_t)c->dict.len;
	c->dhash[c->ndict] = h;
	add_le32(&c->dict, (uint32_t)n);
	buf_add(&c->dict, p, n);
	c->slots[j] = ++c->ndict;
	if ((uint64_t)c->ndict * 2 > c->nslots)
		dict_rehash(c);
	return c->ndict - 1;
}

/* The dictionary-encoded values of the open page, made PLAIN. */
static void
page_undict(struct pq_col *c)
{
	const unsigned char *d;
	size_t i;
	uint32_t n;

	buf_grow(&c->vals, c->idx_plain);	/* one growth, not many */
	for (i = 0; i < c->nidx; i++) {
		d = (const unsigned char *)c->dict.data + c->doff[c->idx[i]];
		n = d[0] | d[1] << 8 | d[2] << 16 | (uint32_t)d[3] << 24;
		buf_add(&c->vals, d, 4 + (size_t)n);
	}
	c->nidx = 0;
	c->idx_plain = 0;
}

/* pages */

/*
 * One zstd frame per page, in one call: zstd reads the page where it is
 * (no copy into its window) and writes into room for its bound (no copy
 * out of its buffer), with parameters sized to the page, its content size
 * in the frame header.  The context's level and checksum are kept; the
 * session is reset, so no frame depends on the last.
 */
static void
zstd_page(struct compressor *c, const struct buf *page, struct buf *zpage)
{
	ZSTD_CCtx *z = c->state;
	size_t bound = ZSTD_compressBound(page->len), r;

	buf_grow(zpage, bound);
	r = ZSTD_CCtx_reset(z, ZSTD_reset_session_only);
	if (!ZSTD_isError(r))
		r = ZSTD_compress2(z, zpage->data, bound, page->data,
		    page->len);
	if (ZSTD_isError(r))
		errx(1, "zstd: %s", ZSTD_getErrorName(r));
	buf_setlen(zpage, r);
}

/* Compress page into zpage with codec (c: gzip and zstd); the bytes stored. */
static const struct buf *
compress_page(enum pq_codec codec, struct compressor *c,
    const struct buf *page, struct buf *zpage)
{
	size_t n;

	buf_reset(zpage);
	switch (codec) {
	case PQ_NONE:
		return page;
	case PQ_SNAPPY:
		n = snappy_max_compressed_length(page->len);
		buf_grow(zpage, n);
		if (snappy_compress(page->data, page->len, zpage->data,
		    &n) != SNAPPY_OK)
			errx(1, "snappy: cannot compress a page");
		buf_setlen(zpage, n);
		break;
	case PQ_ZSTD:
		zstd_page(c, page, zpage);
		break;
	case PQ_GZIP:
		/* one gzip member per page */
		comp_begin(c);
		comp_write(c, zpage, page->data, page->len);
		comp_end(c, zpage);
		break;
	}
	return zpage;
}

static int32_t
page_len(size_t n)
{
	if (n > INT32_MAX)
		errx(1, "parquet: a page of %zu bytes is too large", n);
	return (int32_t)n;
}

/*
 * The PageHeader of a page of type (a data page: of encoding) of nvalues
 * values, raw bytes before compression, stored after, into hdr.
 */
static void
page_header(struct buf *hdr, int type, uint32_t nvalues, int encoding,
    size_t raw, size_t stored)
{
	struct thrift t;

	buf_reset(hdr);
	tc_begin(&t, hdr);
	tc_i32(&t, 1, type);
	tc_i32(&t, 2, page_len(raw));
	tc_i32(&t, 3, page_len(stored));
	if (type == PT_DATA_PAGE) {
		tc_struct(&t, 5);		/* DataPageHeader */
		tc_i32(&t, 1, (int32_t)nvalues);
		tc_i32(&t, 2, encoding);
		tc_i32(&t, 3, E_RLE);		/* definition levels */
		tc_i32(&t, 4, E_RLE);		/* repetition levels */
		tc_struct_end(&t);
	} else {
		tc_struct(&t, 7);		/* DictionaryPageHeader */
		tc_i32(&t, 1, (int32_t)nvalues);
		tc_i32(&t, 2, E_PLAIN);
		tc_struct_end(&t);
	}
	tc_end(&t);
}

/*
 * Make page, of type (a data page: of encoding) and nvalues values, into
 * out: its header and its bytes compressed with codec (through c, into
 * zpage); the bytes stored are counted in *stored.
 */
static void
page_make(struct buf *out, size_t *stored, const struct buf *page,
    int type, uint32_t nvalues, int encoding, enum pq_codec codec,
    struct compressor *c, struct buf *zpage, struct buf *hdr)
{
	const struct buf *z = compress_page(codec, c, page, zpage);

	page_header(hdr, type, nvalues, encoding, page->len, z->len);
	buf_reset(out);
	buf_add(out, hdr->data, hdr->len);
	buf_add(out, z->data, z->len);
	*stored = z->len;
}

/* Count a page of raw bytes (its header hdrlen) stored as stored. */
static void
page_count(struct pq_writer *w, int64_t *raw_size, size_t hdrlen, size_t raw,
    size_t stored)
{
	*raw_size += (int64_t)(hdrlen + raw);
	w->raw_pages += raw;
	w->stored_pages += stored;
}

/* The thread's part: the job's page, headed and compressed, into out. */
static void
run_page(struct wq_job *wj)
{
	struct pq_job *j = (struct pq_job *)(void *)wj;

	page_make(&j->out, &j->stored, &j->page, PT_DATA_PAGE, j->nvalues,
	    j->encoding, j->codec, &j->comp, &j->zpage, &j->hdr);
}

/* Job slot i, made with its compressor the first time it is needed. */
static struct pq_job *
job_get(struct pq_writer *w, size_t i)
{
	struct pq_job *j;

	if ((j = w->jobs[i]) != NULL)
		return j;
	j = w->jobs[i] = xcalloc(1, sizeof(*j));
	j->job.run = run_page;
	j->codec = w->opts.codec;
	if (j->codec == PQ_GZIP || j->codec == PQ_ZSTD)
		comp_init(&j->comp, w->comp.codec, w->comp.level);
	buf_init(&j->page, 0);
	buf_init(&j->zpage, 0);
	buf_init(&j->hdr, 0);
	buf_init(&j->out, 0);
	return j;
}

static void
job_free(struct pq_job *j)
{
	if (j == NULL)
		return;
	if (j->codec == PQ_GZIP || j->codec == PQ_ZSTD)
		comp_free(&j->comp);
	buf_release(&j->page);
	buf_release(&j->zpage);
	buf_release(&j->hdr);
	buf_release(&j->out);
	free(j);
}

/*
 * Wait for the oldest page in flight and move it to the end of its
 * column's chunk (the job makes the next one in a buffer of its own).
 */
static void
reap_one(struct pq_writer *w)
{
	struct pq_job *j = w->jobs[w->fifo[0]];
	struct pq_col *c = j->col;

	workq_wait(w->opts.q, &j->job);
	if (c->npages == c->pagecap) {
		c->pagecap = c->pagecap ? c->pagecap * 2 : 8;
		c->pages = xreallocarray(c->pages, c->pagecap,
		    sizeof(*c->pages));
	}
	page_count(w, &c->raw_size, j->hdr.len, j->page.len, j->stored);
	c->chunk_len += j->out.len;
	c->pages[c->npages++] = j->out;
	buf_init(&j->out, 0);
	w->pending -= j->page.len;
	memmove(w->fifo, w->fifo + 1, --w->njobs);
}

/* Reap until no page of c is in flight. */
static void
reap_through(struct pq_writer *w, const struct pq_col *c)
{
	size_t i, n = 0;

	for (i = 0; i < w->njobs; i++)
		if (w->jobs[w->fifo[i]]->col == c)
			n = i + 1;
	while (n-- > 0)
		reap_one(w);
}

/*
 * Hand the data page in w->page to a job (in line without threads),
 * reaping the oldest first when all are in flight.  The lowest free slot
 * is taken, so that a writer whose pages never overlap makes one job.
 */
static void
submit_page(struct pq_writer *w, struct pq_col *c, uint32_t n, int encoding)
{
	struct pq_job *j;
	unsigned busy = 0;
	size_t i;

	if (w->njobs == PQ_JOBS)
		reap_one(w);
	for (i = 0; i < w->njobs; i++)
		busy |= 1u << w->fifo[i];
	for (i = 0; busy & 1u << i; i++)
		;
	j = job_get(w, i);
	w->fifo[w->njobs++] = (unsigned char)i;
	buf_swap(&j->page, &w->page);
	j->col = c;
	j->nvalues = n;
	j->encoding = encoding;
	w->pending += j->page.len;
	workq_put(w->opts.q, &j->job);	/* in line without a queue */
}

/*
 * Write the open page into the chunk.  The first dictionary-encoded page
 * of a chunk decides whether the dictionary pays; an empty dictionary
 * (a page of nulls) is never written.
 */
static void
cut_page(struct pq_writer *w, struct pq_col *c)
{
	int dict, width = 0;
	size_t i;

	if (c->page_n == 0)
		return;
	if (c->dict_on && !c->dict_checked && c->nidx > 0) {
		c->dict_checked = 1;
		if (c->dict.len * 4 >= c->idx_plain * 3) {
			page_undict(c);
			c->dict_on = 0;
			dict_clear(c);
		}
	}
	dict = c->dict_on && c->ndict > 0;
	buf_reset(&w->page);
	if (c->nullable) {
		rle_flush(&c->def);
		add_le32(&w->page, (uint32_t)c->defbuf.len);
		buf_add(&w->page, c->defbuf.data, c->defbuf.len);
	}
	if (dict) {
		struct rle r;

		width = pq_bit_width(c->ndict - 1);
		if (width == 0)
			width = 1;
		buf_addch(&w->page, width);
		rle_init(&r, &w->page, &c->defscratch, width);
		for (i = 0; i < c->nidx; i++)
			rle_put(&r, c->idx[i]);
		rle_flush(&r);
		c->used_dict++;
	} else {
		buf_add(&w->page, c->vals.data, c->vals.len);
		c->used_plain++;
	}
	submit_page(w, c, c->page_n, dict ? E_RLE_DICTIONARY : E_PLAIN);
	col_reset_page(c);
}

/* values */

/* The column col, checked; nothing is changed yet. */
static struct pq_col *
col_get(struct pq_writer *w, size_t col, const char *what, int ok)
{
	struct pq_col *c;

	if (w->finished)
		errx(1, "parquet: %s after pq_finish", what);
	if (col >= w->ncols)
		errx(1, "parquet: %s: no column %zu", what, col);
	c = &w->cols[col];
	if (c->set)
		errx(1, "parquet: column %s set twice in a row", c->name);
	if (!ok)
		errx(1, "parquet: %s into column %s of another type", what,
		    c->name);
	return c;
}

/* Count a value (or a null: def 0) of the row in c. */
static void
col_count(struct pq_col *c, int def)
{
	c->set = 1;
	c->page_n++;
	c->num_values++;
	if (c->nullable)
		rle_put(&c->def, (uint32_t)def);
}

static int
type_is(const struct pq_writer *w, size_t col, enum pq_type t)
{
	return col < w->ncols && w->cols[col].type == t;
}

void
pq_int64(struct pq_writer *w, size_t col, int64_t v)
{
	struct pq_col *c;
	unsigned char t[8];

	c = col_get(w, col, "pq_int64", type_is(w, col, PQ_INT64) ||
	    type_is(w, col, PQ_TIMESTAMP_MS));
	col_count(c, 1);
	le64(t, (uint64_t)v);
	buf_add(&c->vals, t, 8);
	stat_int(c, v);
}

void
pq_double(struct pq_writer *w, size_t col, double v)
{
	struct pq_col *c;
	unsigned char t[8];
	uint64_t u;

	c = col_get(w, col, "pq_double", type_is(w, col, PQ_DOUBLE));
	col_count(c, 1);
	memcpy(&u, &v, 8);
	le64(t, u);
	buf_add(&c->vals, t, 8);
	stat_double(c, v);
}

void
pq_bool(struct pq_writer *w, size_t col, int v)
{
	struct pq_col *c;

	c = col_get(w, col, "pq_bool", type_is(w, col, PQ_BOOLEAN));
	col_count(c, 1);
	/* PLAIN booleans: one bit each, least significant bit first */
	if (c->nbool % 8 == 0)
		buf_addch(&c->vals, 0);
	if (v)
		c->vals.data[c->vals.len - 1] |= (char)(1 << (c->nbool % 8));
	c->nbool++;
	stat_int(c, v != 0);
}

void
pq_bytes(struct pq_writer *w, size_t col, const void *p, size_t n)
{
	struct pq_col *c;
	int64_t i = -1;

	c = col_get(w, col, "pq_bytes", type_is(w, col, PQ_STRING) ||
	    type_is(w, col, PQ_BINARY));
	if (n > INT32_MAX)
		errx(1, "parquet: a value of %zu bytes in column %s", n,
		    c->name);
	stat_bytes(c, p, n);
	if (c->dict_on) {
		i = dict_index(c, p, n, w->opts.dict_bytes);
		if (i < 0) {
			/* full: what is encoded stays so, the rest is plain */
			cut_page(w, c);
			c->dict_checked = 1;
			c->dict_on = 0;
		}
	}
	col_count(c, 1);
	if (i >= 0) {
		if (c->nidx == c->idxcap) {
			c->idxcap = c->idxcap ? c->idxcap * 2 : 1024;
			c->idx = xreallocarray(c->idx, c->idxcap,
			    sizeof(*c->idx));
		}
		c->idx[c->nidx++] = (uint32_t)i;
		c->idx_plain += 4 + n;
		return;
	}
	add_le32(&c->vals, (uint32_t)n);
	buf_add(&c->vals, p, n);
}

void
pq_null(struct pq_writer *w, size_t col)
{
	struct pq_col *c = col_get(w, col, "pq_null", 1);

	if (!c->nullable)
		errx(1, "parquet: null in required column %s", c->name);
	col_count(c, 0);
	c->null_count++;
}

/* the queue of final bytes */

/* Move b's bytes to the end of the queue; b is left empty. */
static void
ready_move(struct pq_writer *w, struct buf *b)
{
	if (b->len == 0)
		return;
	if (w->head > 0 && w->head == w->nready) {
		w->head = w->nready = 0;
	}
	if (w->nready == w->readycap) {
		w->readycap = w->readycap ? w->readycap * 2 : 16;
		w->ready = xreallocarray(w->ready, w->readycap,
		    sizeof(*w->ready));
	}
	w->ready[w->nready++] = *b;
	w->offset += b->len;
	buf_init(b, 0);
}

/* row groups */

static int
physical_type(enum pq_type t)
{
	switch (t) {
	case PQ_INT64:
	case PQ_TIMESTAMP_MS:
		return T_INT64;
	case PQ_DOUBLE:
		return T_DOUBLE;
	case PQ_BOOLEAN:
		return T_BOOLEAN;
	default:
		return T_BYTE_ARRAY;
	}
}

/* Where a truncated string may end: not inside a UTF-8 sequence. */
static size_t
utf8_cut(const unsigned char *s, size_t n)
{
	while (n > 0 && (s[n] & 0xc0) == 0x80)
		n--;
	return n;
}

/*
 * A bound of a byte array column as stored: the value itself, or if it
 * is longer than PQ_STAT_MAX a prefix (the minimum) or a prefix with its
 * last raisable byte raised (the maximum; for a string only an ASCII byte
 * is raised, so it stays UTF-8).  Returns 0 if there is no such maximum.
 */
static int
bound(const struct pq_col *c, const struct buf *v, int max, size_t *lenp,
    int *exact, unsigned char *raised)
{
	const unsigned char *s = (const unsigned char *)v->data;
	size_t n;

	*exact = v->len <= PQ_STAT_MAX;
	if (*exact) {
		*lenp = v->len;
		return 1;
	}
	n = c->type == PQ_STRING ? utf8_cut(s, PQ_STAT_MAX) : PQ_STAT_MAX;
	*lenp = n;
	if (!max)
		return 1;
	while (n > 0 && s[n - 1] >= (c->type == PQ_STRING ? 0x7f : 0xff))
		n--;
	if (n == 0)
		return 0;
	memcpy(raised, s, n);
	raised[n - 1]++;
	*lenp = n;
	return 1;
}

static void
put_bytes_bounds(struct thrift *t, const struct pq_col *c)
{
	unsigned char raised[PQ_STAT_MAX];
	size_t maxn, minn;
	int maxok, maxexact, minexact;

	maxok = bound(c, &c->bmax, 1, &maxn, &maxexact, raised);
	bound(c, &c->bmin, 0, &minn, &minexact, NULL);
	if (maxok)
		tc_binary(t, 5, maxexact ? (unsigned char *)c->bmax.data :
		    raised, maxn);
	tc_binary(t, 6, c->bmin.data, minn);
	if (maxok)
		tc_bool(t, 7, maxexact);
	tc_bool(t, 8, minexact);
}

/* Statistics: null_count, max_value (5), min_value (6), nan_count. */
static void
put_stats(struct thrift *t, const struct pq_col *c)
{
	unsigned char lo[8], hi[8];
	double dlo, dhi;
	uint64_t u;

	tc_struct(t, 12);
	tc_i64(t, 3, c->null_count);
	if (c->has_minmax) {
		switch (c->type) {
		case PQ_STRING:
		case PQ_BINARY:
			put_bytes_bounds(t, c);
			break;
		case PQ_DOUBLE:
			/* a zero bound is written -0.0 (min), +0.0 (max) */
			dlo = c->dmin == 0 ? -0.0 : c->dmin;
			dhi = c->dmax == 0 ? 0.0 : c->dmax;
			memcpy(&u, &dlo, 8);
			le64(lo, u);
			memcpy(&u, &dhi, 8);
			le64(hi, u);
			tc_binary(t, 5, hi, 8);
			tc_binary(t, 6, lo, 8);
			break;
		case PQ_BOOLEAN:
			lo[0] = (unsigned char)c->imin;
			hi[0] = (unsigned char)c->imax;
			tc_binary(t, 5, hi, 1);
			tc_binary(t, 6, lo, 1);
			break;
		default:
			le64(lo, (uint64_t)c->imin);
			le64(hi, (uint64_t)c->imax);
			tc_binary(t, 5, hi, 8);
			tc_binary(t, 6, lo, 8);
			break;
		}
	}
	if (c->type == PQ_DOUBLE)
		tc_i64(t, 9, c->nan_count);
	tc_struct_end(t);
}

static void
put_page_count(struct thrift *t, int type, int encoding, int count)
{
	tc_elem_struct(t);
	tc_i32(t, 1, type);
	tc_i32(t, 2, encoding);
	tc_i32(t, 3, count);
	tc_struct_end(t);
}

/*
 * encoding_stats: pages by type and encoding, which tells readers that
 * filter by dictionary whether every data page is dictionary-encoded.
 */
static void
put_encoding_stats(struct thrift *t, const struct pq_col *c)
{
	tc_list(t, 13, TC_STRUCT, (size_t)(c->used_dict ? 2 : 0) +
	    (c->used_plain ? 1 : 0));
	if (c->used_dict) {
		put_page_count(t, PT_DICTIONARY_PAGE, E_PLAIN, 1);
		put_page_count(t, PT_DATA_PAGE, E_RLE_DICTIONARY, c->used_dict);
	}
	if (c->used_plain)
		put_page_count(t, PT_DATA_PAGE, E_PLAIN, c->used_plain);
}

/* One ColumnChunk of the RowGroup being serialized. */
static void
put_chunk_meta(struct pq_writer *w, struct thrift *t, const struct pq_col *c,
    uint64_t dict_off, uint64_t data_off, int64_t raw, int64_t stored)
{
	int nenc = 0, enc[3];

	if (c->used_dict || c->used_plain)
		enc[nenc++] = E_PLAIN;	/* the dictionary page is PLAIN */
	if (c->nullable)
		enc[nenc++] = E_RLE;
	if (c->used_dict)
		enc[nenc++] = E_RLE_DICTIONARY;
	tc_elem_struct(t);
	tc_i64(t, 2, (int64_t)(c->used_dict ? dict_off : data_off));
	tc_struct(t, 3);			/* ColumnMetaData */
	tc_i32(t, 1, physical_type(c->type));
	tc_list(t, 2, TC_I32, (size_t)nenc);
	for (int i = 0; i < nenc; i++)
		tc_elem_i32(t, enc[i]);
	tc_list(t, 3, TC_BINARY, 1);
	tc_elem_binary(t, c->name, strlen(c->name));
	tc_i32(t, 4, w->opts.codec);
	tc_i64(t, 5, c->num_values);
	tc_i64(t, 6, raw);
	tc_i64(t, 7, stored);
	tc_i64(t, 9, (int64_t)data_off);
	if (c->used_dict)
		tc_i64(t, 11, (int64_t)dict_off);
	put_stats(t, c);
	put_encoding_stats(t, c);
	tc_struct_end(t);
	tc_struct_end(t);
}

/*
 * Write the row group's column chunks, each its dictionary page first,
 * into out, and its RowGroup struct into rgmeta.
 */
static void
cut_row_group(struct pq_writer *w)
{
	struct thrift t;
	struct buf dictpage = BUF_INIT;
	uint64_t start = w->offset, dict_off, data_off;
	int64_t raw_total = 0, raw, dict_raw;
	size_t i, k, stored;

	if (w->rg_rows == 0)
		return;
	/* every column's last page in flight at once */
	for (i = 0; i < w->ncols; i++)
		cut_page(w, &w->cols[i]);
	tc_begin(&t, &w->rgmeta);
	tc_list(&t, 1, TC_STRUCT, w->ncols);
	for (i = 0; i < w->ncols; i++) {
		struct pq_col *c = &w->cols[i];

		/* its dictionary here, while the threads do the pages */
		dict_raw = 0;
		if (c->used_dict) {
			page_make(&dictpage, &stored, &c->dict,
			    PT_DICTIONARY_PAGE, c->ndict, 0, w->opts.codec,
			    &w->comp, &w->zpage, &w->hdr);
			page_count(w, &dict_raw, w->hdr.len, c->dict.len,
			    stored);
		}
		reap_through(w, c);
		raw = c->raw_size + dict_raw;
		dict_off = w->offset;
		if (c->used_dict)
			ready_move(w, &dictpage);
		data_off = w->offset;
		for (k = 0; k < c->npages; k++)
			ready_move(w, &c->pages[k]);
		c->npages = 0;
		put_chunk_meta(w, &t, c, dict_off, data_off, raw,
		    (int64_t)(w->offset - dict_off));
		raw_total += raw;
		col_reset_chunk(c, &w->opts);
	}
	tc_i64(&t, 2, raw_total);
	tc_i64(&t, 3, (int64_t)w->rg_rows);
	tc_i64(&t, 5, (int64_t)start);
	tc_i64(&t, 6, (int64_t)(w->offset - start));
	tc_i16(&t, 7, (int16_t)(w->nrg < INT16_MAX ? w->nrg : INT16_MAX));
	tc_end(&t);
	buf_release(&dictpage);
	w->nrg++;
	w->rg_rows = 0;
}

/* Bytes stored a byte of the pages written so far (1 before the first). */
static double
stored_ratio(const struct pq_writer *w)
{
	return w->raw_pages > 0 ?
	    (double)w->stored_pages / (double)w->raw_pages : 1;
}

static size_t
row_group_size(const struct pq_writer *w)
{
	size_t i, n = 0;

	for (i = 0; i < w->ncols; i++)
		n += w->cols[i].chunk_len + w->cols[i].dict.len +
		    page_size(&w->cols[i]);
	/* the pages in flight as they will be: their room is the jobs' */
	return n + (size_t)((double)w->pending * stored_ratio(w));
}

void
pq_row_end(struct pq_writer *w)
{
	struct pq_col *c;
	size_t i;

	if (w->finished)
		errx(1, "parquet: pq_row_end after pq_finish");
	for (i = 0; i < w->ncols; i++) {
		c = &w->cols[i];
		if (!c->set)
			pq_null(w, i);
		c->set = 0;
		if (page_size(c) >= w->opts.page_bytes)
			cut_page(w, c);
	}
	w->rows++;
	w->rg_rows++;
	/*
	 * The sizes count the pages in flight at the ratio of those written:
	 * the first one in flight is written at once, for a ratio.
	 */
	if (w->raw_pages == 0 && w->njobs > 0)
		reap_one(w);
	if (row_group_size(w) >= w->opts.row_group_bytes)
		cut_row_group(w);
}

/* the file */

struct pq_writer *
pq_new(const struct pq_column *cols, size_t ncols, const struct pq_opts *o)
{
	struct pq_writer *w;
	size_t i;

	if (ncols == 0 || ncols > INT32_MAX)
		errx(1, "parquet: %zu columns", ncols);
	w = xcalloc(1, sizeof(*w));
	if (o != NULL)
		w->opts = *o;
	else
		pq_opts_init(&w->opts);
	if (w->opts.page_bytes == 0)
		w->opts.page_bytes = 1;
	if (w->opts.codec == PQ_GZIP || w->opts.codec == PQ_ZSTD) {
		enum codec cc = w->opts.codec == PQ_GZIP ? CODEC_GZIP :
		    CODEC_ZSTD;
		int level = w->opts.level;

		if (level < codec_min_level(cc) || level > codec_max_level(cc))
			level = codec_default_level(cc);
		comp_init(&w->comp, cc, level);
	} else if (w->opts.codec != PQ_NONE && w->opts.codec != PQ_SNAPPY)
		errx(1, "parquet: codec %d", (int)w->opts.codec);
	w->cols = xcalloc(ncols, sizeof(*w->cols));
	w->ncols = ncols;
	for (i = 0; i < ncols; i++) {
		struct pq_col *c = &w->cols[i];

		c->name = xstrdup(cols[i].name);
		c->type = cols[i].type;
		c->nullable = cols[i].nullable;
		buf_init(&c->defbuf, 0);
		buf_init(&c->defscratch, 0);
		buf_init(&c->vals, 0);
		buf_init(&c->dict, 0);
		buf_init(&c->bmin, 0);
		buf_init(&c->bmax, 0);
		col_reset_page(c);
		col_reset_chunk(c, &w->opts);
	}
	buf_init(&w->rgmeta, 0);
	buf_init(&w->page, 0);
	buf_init(&w->zpage, 0);
	buf_init(&w->hdr, 0);
	buf_init(&w->hdr, 0);
	buf_add(&w->hdr, MAGIC, 4);
	ready_move(w, &w->hdr);
	return w;
}

uint64_t
pq_rows(const struct pq_writer *w)
{
	return w->rows;
}

/*
 * Open pages and dictionaries are counted as they would compress, at the
 * ratio of the pages written so far.
 */
uint64_t
pq_size(const struct pq_writer *w)
{
	double ratio = stored_ratio(w);
	uint64_t done = w->offset, open = w->pending;
	size_t i;

	for (i = 0; i < w->ncols; i++) {
		done += w->cols[i].chunk_len;
		open += w->cols[i].dict.len + page_size(&w->cols[i]);
	}
	/* an exact sum (below 2^53) converted once, as it was per term */
	return done + (uint64_t)((double)open * ratio);
}

size_t
pq_take(struct pq_writer *w, struct buf *out, size_t max)
{
	struct buf *b;
	size_t n, taken = 0;

	while (w->head < w->nready && (max == 0 || taken < max)) {
		b = &w->ready[w->head];
		n = b->len - w->headpos;
		if (max != 0 && n > max - taken)
			n = max - taken;
		buf_add(out, b->data + w->headpos, n);
		taken += n;
		w->headpos += n;
		if (w->headpos == b->len) {
			buf_release(b);
			w->head++;
			w->headpos = 0;
		}
	}
	return taken;
}

/* A SchemaElement of a column. */
static void
put_schema_col(struct thrift *t, const struct pq_col *c)
{
	tc_elem_struct(t);
	tc_i32(t, 1, physical_type(c->type));
	tc_i32(t, 3, c->nullable ? REP_OPTIONAL : REP_REQUIRED);
	tc_string(t, 4, c->name);
	if (c->type == PQ_STRING) {
		tc_i32(t, 6, CT_UTF8);
		tc_struct(t, 10);		/* LogicalType */
		tc_struct(t, 1);		/* STRING */
		tc_struct_end(t);
		tc_struct_end(t);
	} else if (c->type == PQ_TIMESTAMP_MS) {
		tc_i32(t, 6, CT_TIMESTAMP_MILLIS);
		tc_struct(t, 10);		/* LogicalType */
		tc_struct(t, 8);		/* TIMESTAMP */
		tc_bool(t, 1, 1);		/* isAdjustedToUTC */
		tc_struct(t, 2);		/* unit */
		tc_struct(t, 1);		/* MILLIS */
		tc_struct_end(t);
		tc_struct_end(t);
		tc_struct_end(t);
		tc_struct_end(t);
	}
	tc_struct_end(t);
}

/* FileMetaData, its length and the closing magic. */
static void
put_footer(struct pq_writer *w)
{
	struct thrift t;
	struct buf meta = BUF_INIT;
	size_t i, n;

	tc_begin(&t, &meta);
	tc_i32(&t, 1, 2);			/* version */
	tc_list(&t, 2, TC_STRUCT, w->ncols + 1);
	tc_elem_struct(&t);			/* the root */
	tc_string(&t, 4, "schema");
	tc_i32(&t, 5, (int32_t)w->ncols);
	tc_struct_end(&t);
	for (i = 0; i < w->ncols; i++)
		put_schema_col(&t, &w->cols[i]);
	tc_i64(&t, 3, (int64_t)w->rows);
	tc_list(&t, 4, TC_STRUCT, w->nrg);
	buf_add(&meta, w->rgmeta.data, w->rgmeta.len);
	tc_string(&t, 6, w->opts.created_by ? w->opts.created_by :
	    "lakepipe");
	tc_list(&t, 7, TC_STRUCT, w->ncols);	/* column_orders */
	for (i = 0; i < w->ncols; i++) {
		tc_elem_struct(&t);
		tc_struct(&t, 1);		/* TYPE_ORDER */
		tc_struct_end(&t);
		tc_struct_end(&t);
	}
	tc_end(&t);
	n = meta.len;
	add_le32(&meta, (uint32_t)n);
	buf_add(&meta, MAGIC, 4);
	ready_move(w, &meta);
}

int
pq_finish(struct pq_writer *w, struct buf *out)
{
	if (w->finished)
		errx(1, "parquet: pq_finish twice");
	cut_row_group(w);
	put_footer(w);
	w->finished = 1;
	pq_take(w, out, 0);
	return 0;
}

void
pq_free(struct pq_writer *w)
{
	size_t i;

	if (w == NULL)
		return;
	for (i = 0; i < w->njobs; i++)	/* not reaped: pq_finish was not */
		workq_wait(w->opts.q, &w->jobs[w->fifo[i]]->job);
	for (i = 0; i < PQ_JOBS; i++)
		job_free(w->jobs[i]);
	for (i = 0; i < w->ncols; i++)
		col_free(&w->cols[i]);
	free(w->cols);
	if (w->opts.codec == PQ_GZIP || w->opts.codec == PQ_ZSTD)
		comp_free(&w->comp);
	for (i = w->head; i < w->nready; i++)
		buf_release(&w->ready[i]);
	free(w->ready);
	buf_release(&w->rgmeta);
	buf_release(&w->page);
	buf_release(&w->zpage);
	buf_release(&w->hdr);
	free(w);
}
