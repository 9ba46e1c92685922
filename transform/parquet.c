/*
 * The Parquet writer: its options, its life, rows and row groups, and the
 * queue of the file's final bytes; see parquet.h for what it writes and
 * why, pq_internal.h for its parts.
 */
#include <err.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "compress.h"
#include "parquet.h"
#include "pq_internal.h"
#include "thrift.h"
#include "workq.h"

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

/* the queue of final bytes */

/* Move b's bytes to the end of the queue; b is left empty. */
void
writer_ready_move(struct pq_writer *w, struct buf *b)
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

/* The open page's size as page_bytes counts it. */
static size_t
page_size(const struct pq_col *c)
{
	return c->vals.len + c->idx_plain + c->defbuf.len +
	    c->defscratch.len;
}

/*
 * Move the row group's column chunks, each its dictionary page first, to
 * the queue of final bytes, and put its RowGroup struct into rgmeta.
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
		page_cut(w, &w->cols[i]);
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
		page_reap_through(w, c);
		raw = c->raw_size + dict_raw;
		dict_off = w->offset;
		if (c->used_dict)
			writer_ready_move(w, &dictpage);
		data_off = w->offset;
		for (k = 0; k < c->npages; k++)
			writer_ready_move(w, &c->pages[k]);
		c->npages = 0;
		meta_put_chunk(w, &t, c, dict_off, data_off, raw,
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

size_t
pq_held(const struct pq_writer *w)
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
			page_cut(w, c);
	}
	w->rows++;
	w->rg_rows++;
	/*
	 * The sizes count the pages in flight at the ratio of those written:
	 * the first one in flight is written at once, for a ratio.
	 */
	if (w->raw_pages == 0 && w->njobs > 0)
		page_reap_one(w);
	if (pq_held(w) >= w->opts.row_group_bytes)
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
	buf_add(&w->hdr, MAGIC, 4);
	writer_ready_move(w, &w->hdr);
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

int
pq_finish(struct pq_writer *w, struct buf *out)
{
	if (w->finished)
		errx(1, "parquet: pq_finish twice");
	cut_row_group(w);
	meta_put_footer(w);
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
		page_job_free(w->jobs[i]);
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
