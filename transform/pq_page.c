/*
 * Parquet pages: a column's open page made a data page, headed and
 * compressed beside the building of the next rows, and appended to its
 * chunk in order; dictionary pages made alike; see pq_internal.h.
 */
#include <err.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <snappy-c.h>
#include <zstd.h>

#include "buf.h"
#include "compress.h"
#include "parquet.h"
#include "pq_internal.h"
#include "thrift.h"
#include "workq.h"

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
void
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
void
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

void
page_job_free(struct pq_job *j)
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
void
page_reap_one(struct pq_writer *w)
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
void
page_reap_through(struct pq_writer *w, const struct pq_col *c)
{
	size_t i, n = 0;

	for (i = 0; i < w->njobs; i++)
		if (w->jobs[w->fifo[i]]->col == c)
			n = i + 1;
	while (n-- > 0)
		page_reap_one(w);
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
		page_reap_one(w);
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
void
page_cut(struct pq_writer *w, struct pq_col *c)
{
	int dict, width = 0;
	size_t i;

	if (c->page_n == 0)
		return;
	if (c->dict_on && !c->dict_checked && c->nidx > 0) {
		c->dict_checked = 1;
		if (c->dict.len * 4 >= c->idx_plain * 3) {
			col_undict_page(c);
			c->dict_on = 0;
			col_dict_clear(c);
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
