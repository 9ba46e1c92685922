/*
 * Parquet columns: the values of a row into their columns' open pages,
 * and each column chunk's dictionary and statistics; see pq_internal.h.
 */
#include <err.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "parquet.h"
#include "pq_internal.h"

/* columns */

static int
is_bytes(enum pq_type t)
{
	return t == PQ_STRING || t == PQ_BINARY;
}

void
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

void
col_dict_clear(struct pq_col *c)
{
	buf_reset(&c->dict);
	c->ndict = 0;
	if (c->slots != NULL)
		memset(c->slots, 0, c->nslots * sizeof(*c->slots));
}

void
col_reset_chunk(struct pq_col *c, const struct pq_opts *o)
{
	c->chunk_len = 0;	/* its pages moved out (cut_row_group) */
	c->num_values = c->null_count = c->nan_count = 0;
	c->raw_size = 0;
	c->used_plain = c->used_dict = c->dict_checked = 0;
	c->dict_on = is_bytes(c->type) && o->dict_bytes > 0;
	col_dict_clear(c);
	c->has_minmax = 0;
	buf_reset(&c->bmin);
	buf_reset(&c->bmax);
}

void
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
void
col_undict_page(struct pq_col *c)
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
			page_cut(w, c);
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
