/* The Parquet reader; see pqread.h for what it reads and why. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include <snappy-c.h>

#include "buf.h"
#include "pqread.h"
#include "tcread.h"

#define MAGIC		"PAR1"
#define MAX_FOOTER	(64u << 20)	/* FileMetaData, bytes */
#define MAX_PAGE	(1u << 30)	/* a page, uncompressed */
#define MAX_GROUP_ROWS	(1u << 23)	/* rows of a row group */

enum { REP_REQUIRED, REP_OPTIONAL, REP_REPEATED };
enum { PT_DATA_PAGE, PT_INDEX_PAGE, PT_DICTIONARY_PAGE, PT_DATA_PAGE_V2 };
enum { E_PLAIN = 0, E_PLAIN_DICTIONARY = 2, E_RLE = 3,
	E_RLE_DICTIONARY = 8 };
enum { C_NONE = 0, C_SNAPPY = 1, C_GZIP = 2, C_ZSTD = 6 };

/* A leaf column of the schema. */
struct pqc {
	char		*name;
	size_t		 namelen;
	int		 type;		/* -1: a group */
	int		 rep;
	int		 nchildren;
	enum pqr_unit	 unit;
};

struct pqchunk {
	uint64_t	 start, len;
	int		 codec, type;
};

struct pqrg {
	uint64_t	 rows;
	struct pqchunk	*ch;		/* one per column */
};

/* A value of a column of the loaded row group; bytes in data. */
struct cval {
	enum pqval_kind	 kind;
	int64_t		 i;
	size_t		 off, n;
};

/* A selected column: its values in the loaded row group. */
struct sel {
	size_t		 col;
	struct buf	 data;		/* pages decompressed */
	struct cval	*v, *dict;
	size_t		 nv, ndict, vcap, dictcap;
};

struct pqr {
	int		 fd;
	uint64_t	 size, data_end;	/* where the footer begins */
	struct pqc	*cols;
	size_t		 ncols;
	struct pqrg	*rgs;
	size_t		 nrg, rg;	/* rg: the next to load */
	uint64_t	 rows, row, rgrows;
	struct sel	*sel;
	size_t		 nsel;
	int		 failed;
	struct buf	 raw;		/* a column chunk as stored */
	char		 why[256];
};

/* ---- RLE/bit-packed hybrid ---- */

void
rled_init(struct rled *d, const void *p, size_t n, int width)
{
	memset(d, 0, sizeof(*d));
	d->p = p;
	d->end = d->p + n;
	d->width = width;
}

static int
rled_varint(struct rled *d, uint64_t *v)
{
	int shift;

	*v = 0;
	for (shift = 0; shift < 64 && d->p < d->end; shift += 7) {
		*v |= (uint64_t)(*d->p & 0x7f) << shift;
		if ((*d->p++ & 0x80) == 0)
			return 0;
	}
	return -1;
}

/* The next run's header and, for a repeat, its value. */
static int
rled_run(struct rled *d)
{
	uint64_t h, n, bytes;
	size_t i, vbytes = ((size_t)d->width + 7) / 8, left;

	if (rled_varint(d, &h) < 0)
		return -1;
	n = h >> 1;
	left = (size_t)(d->end - d->p);
	if (h & 1) {
		/* n groups of 8 values, width bytes a group; a last run may
		   stop short */
		bytes = n * (uint64_t)d->width;
		if (n > UINT32_MAX / 8 || bytes > left)
			bytes = left;
		if (n > UINT32_MAX / 8)
			n = UINT32_MAX / 8;
		d->bits = d->p;
		d->nbits = (size_t)bytes * 8;
		d->p += bytes;
		d->bitpos = 0;
		d->npack = (uint32_t)n * 8;
		if (d->width > 0 && d->npack > d->nbits / (size_t)d->width)
			d->npack = (uint32_t)(d->nbits / (size_t)d->width);
		return 0;
	}
	if (vbytes > left || n > UINT32_MAX)
		return -1;
	d->val = 0;
	for (i = 0; i < vbytes; i++)
		d->val |= (uint32_t)d->p[i] << (8 * i);
	/* bits above the width are not the value's */
	if (d->width < 32)
		d->val &= (1u << d->width) - 1;
	d->p += vbytes;
	d->nrep = (uint32_t)n;
	return 0;
}

int
rled_next(struct rled *d, uint32_t *v)
{
	uint64_t acc = 0;
	size_t byte, k;

	while (d->nrep == 0 && d->npack == 0)
		if (d->p >= d->end || rled_run(d) < 0)
			return -1;
	if (d->nrep > 0) {
		d->nrep--;
		*v = d->val;
		return 0;
	}
	d->npack--;
	if (d->width == 0) {
		*v = 0;
		return 0;
	}
	/* values are packed from each byte's least significant bit up */
	byte = d->bitpos / 8;
	for (k = 0; k < 5 && byte + k < d->nbits / 8; k++)
		acc |= (uint64_t)d->bits[byte + k] << (8 * k);
	acc >>= d->bitpos % 8;
	*v = (uint32_t)(acc & ((1ULL << d->width) - 1));
	d->bitpos += (size_t)d->width;
	return 0;
}

/* ---- errors ---- */

static int
fail(struct pqr *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->why, sizeof(r->why), fmt, ap);
	va_end(ap);
	r->failed = 1;
	return -1;
}

static const char *
codec_name(int c)
{
	static const char *const names[] = { "UNCOMPRESSED", "SNAPPY",
	    "GZIP", "LZO", "BROTLI", "LZ4", "ZSTD", "LZ4_RAW" };

	return c >= 0 && c < 8 ? names[c] : "unknown";
}

static const char *
encoding_name(int e)
{
	static const char *const names[] = { "PLAIN", "GROUP_VAR_INT",
	    "PLAIN_DICTIONARY", "RLE", "BIT_PACKED", "DELTA_BINARY_PACKED",
	    "DELTA_LENGTH_BYTE_ARRAY", "DELTA_BYTE_ARRAY", "RLE_DICTIONARY",
	    "BYTE_STREAM_SPLIT" };

	return e >= 0 && e < 10 ? names[e] : "unknown";
}

/* ---- the footer ---- */

static int
read_at(struct pqr *r, struct buf *b, uint64_t off, size_t n)
{
	ssize_t got;
	size_t done = 0;

	buf_reset(b);
	buf_grow(b, n);
	while (done < n) {
		got = pread(r->fd, b->data + done, n - done,
		    (off_t)(off + done));
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			return fail(r, "reading the file: %s", got < 0 ?
			    strerror(errno) : "it is shorter than it was");
		done += (size_t)got;
	}
	buf_setlen(b, n);
	return 0;
}

/* LogicalType: the unit of a TIMESTAMP (8), {2: TimeUnit {1, 2, 3}}. */
static enum pqr_unit
logical_unit(struct tcr *t)
{
	enum pqr_unit u = PQR_PLAIN;
	int id = 0, type, id2, t2, id3, t3;

	tcr_enter(t);
	while (tcr_field(t, &id, &type)) {
		if (id != 8 || type != TCR_STRUCT) {
			tcr_skip(t, type);
			continue;
		}
		tcr_enter(t);
		for (id2 = 0; tcr_field(t, &id2, &t2); ) {
			if (id2 != 2 || t2 != TCR_STRUCT) {
				tcr_skip(t, t2);
				continue;
			}
			tcr_enter(t);
			for (id3 = 0; tcr_field(t, &id3, &t3); ) {
				if (id3 >= 1 && id3 <= 3)
					u = (enum pqr_unit)id3;
				tcr_skip(t, t3);
			}
			tcr_leave(t);
		}
		tcr_leave(t);
	}
	tcr_leave(t);
	return u;
}

static void
schema_element(struct tcr *t, struct pqc *c)
{
	const unsigned char *p;
	int id = 0, type, converted = -1, logical = 0;
	size_t n;

	c->type = -1;
	tcr_enter(t);
	while (tcr_field(t, &id, &type)) {
		if (id == 1 && type == TCR_I32)
			c->type = (int)tcr_int(t, type);
		else if (id == 3 && type == TCR_I32)
			c->rep = (int)tcr_int(t, type);
		else if (id == 4 && type == TCR_BINARY && c->name == NULL) {
			n = tcr_binary(t, &p);
			c->name = xstrndup((const char *)p, n);
			c->namelen = strlen(c->name);
		} else if (id == 5 && type == TCR_I32)
			c->nchildren = (int)tcr_int(t, type);
		else if (id == 6 && type == TCR_I32)
			converted = (int)tcr_int(t, type);
		else if (id == 10 && type == TCR_STRUCT) {
			c->unit = logical_unit(t);
			logical = 1;
		} else
			tcr_skip(t, type);
	}
	tcr_leave(t);
	if (!logical && converted == 9)		/* TIMESTAMP_MILLIS */
		c->unit = PQR_MILLIS;
	else if (!logical && converted == 10)	/* TIMESTAMP_MICROS */
		c->unit = PQR_MICROS;
	if (c->name == NULL)
		c->name = xstrdup("");
}

static int
schema(struct pqr *r, struct tcr *t)
{
	struct pqc root;
	uint32_t n, i;
	int type;

	n = tcr_list(t, &type);
	if (t->err || type != TCR_STRUCT || n < 2)
		return fail(r, "no columns in the schema");
	memset(&root, 0, sizeof(root));
	schema_element(t, &root);
	free(root.name);
	if (root.nchildren != (int)n - 1)
		return fail(r, "a nested schema: not read");
	r->cols = xcalloc(n - 1, sizeof(*r->cols));
	for (i = 0; i + 1 < n && !t->err; i++) {
		schema_element(t, &r->cols[i]);
		r->ncols++;
		if (r->cols[i].nchildren > 0 || r->cols[i].type < 0)
			return fail(r, "a nested schema: not read");
		if (r->cols[i].rep == REP_REPEATED)
			return fail(r, "column %s is repeated: not read",
			    r->cols[i].name);
	}
	return 0;
}

/* ColumnMetaData into ch; the path's first (only) name checked. */
static int
column_meta(struct pqr *r, struct tcr *t, struct pqchunk *ch,
    const struct pqc *c)
{
	const unsigned char *p;
	int id = 0, type, et;
	uint32_t n, i;
	int64_t dict = -1, data = -1, len = -1;
	size_t pn;

	tcr_enter(t);
	while (tcr_field(t, &id, &type)) {
		if (id == 1 && type == TCR_I32)
			ch->type = (int)tcr_int(t, type);
		else if (id == 3 && type == TCR_LIST) {
			n = tcr_list(t, &et);
			for (i = 0; i < n && !t->err; i++) {
				pn = tcr_binary(t, &p);
				if (i == 0 && (n != 1 || pn != c->namelen ||
				    memcmp(p, c->name, pn) != 0))
					return fail(r, "column %s: a chunk of "
					    "another column in its place",
					    c->name);
			}
		} else if (id == 4 && type == TCR_I32)
			ch->codec = (int)tcr_int(t, type);
		else if (id == 7 && type == TCR_I64)
			len = tcr_int(t, type);
		else if (id == 9 && type == TCR_I64)
			data = tcr_int(t, type);
		else if (id == 11 && type == TCR_I64)
			dict = tcr_int(t, type);
		else
			tcr_skip(t, type);
	}
	tcr_leave(t);
	if (t->err)
		return 0;	/* said by the caller */
	if (dict > 0 && dict < data)
		data = dict;
	if (data < 4 || len < 0 || (uint64_t)data > r->data_end ||
	    (uint64_t)len > r->data_end - (uint64_t)data)
		return fail(r, "column %s: a column chunk outside the file",
		    c->name);
	ch->start = (uint64_t)data;
	ch->len = (uint64_t)len;
	return 0;
}

static int
column_chunk(struct pqr *r, struct tcr *t, struct pqchunk *ch,
    const struct pqc *c)
{
	int id = 0, type, seen = 0;

	tcr_enter(t);
	while (tcr_field(t, &id, &type)) {
		if (id == 1 && type == TCR_BINARY)
			return fail(r, "column %s: a chunk in another file: "
			    "not read", c->name);
		if (id == 3 && type == TCR_STRUCT) {
			if (column_meta(r, t, ch, c) < 0)
				return -1;
			seen = 1;
		} else
			tcr_skip(t, type);
	}
	tcr_leave(t);
	if (!t->err && !seen)
		return fail(r, "column %s: a chunk without metadata", c->name);
	return 0;
}

static int
row_group(struct pqr *r, struct tcr *t, struct pqrg *g)
{
	int id = 0, type, et;
	uint32_t n, i;
	int64_t rows = -1;

	g->ch = xcalloc(r->ncols, sizeof(*g->ch));
	tcr_enter(t);
	while (tcr_field(t, &id, &type)) {
		if (id == 1 && type == TCR_LIST) {
			n = tcr_list(t, &et);
			if (n != r->ncols || et != TCR_STRUCT)
				return fail(r, "a row group of %u columns, "
				    "the schema has %zu", n, r->ncols);
			for (i = 0; i < n && !t->err; i++)
				if (column_chunk(r, t, &g->ch[i],
				    &r->cols[i]) < 0)
					return -1;
		} else if (id == 3 && type == TCR_I64)
			rows = tcr_int(t, type);
		else
			tcr_skip(t, type);
	}
	tcr_leave(t);
	if (!t->err && rows < 0)
		return fail(r, "a row group without its number of rows");
	if (!t->err && rows > MAX_GROUP_ROWS)
		return fail(r, "a row group of %lld rows: more than %u are "
		    "not read", (long long)rows, MAX_GROUP_ROWS);
	g->rows = (uint64_t)rows;
	return 0;
}

static int
file_meta(struct pqr *r, const unsigned char *p, size_t n)
{
	struct tcr t;
	int id = 0, type, et, got = 0;
	uint32_t k, i;
	int64_t rows = -1;
	uint64_t sum = 0;

	tcr_init(&t, p, n);
	tcr_enter(&t);
	while (tcr_field(&t, &id, &type)) {
		if (id == 2 && type == TCR_LIST && !(got & 1)) {
			if (schema(r, &t) < 0)
				return -1;
			got |= 1;
		} else if (id == 3 && type == TCR_I64)
			rows = tcr_int(&t, type);
		else if (id == 4 && type == TCR_LIST && got == 1) {
			k = tcr_list(&t, &et);
			if (et != TCR_STRUCT && k > 0)
				t.err = 1;
			r->rgs = xcalloc(k > 0 ? k : 1, sizeof(*r->rgs));
			for (i = 0; i < k && !t.err; i++) {
				r->nrg++;
				if (row_group(r, &t, &r->rgs[i]) < 0)
					return -1;
			}
			got |= 2;
		} else
			tcr_skip(&t, type);
	}
	if (t.err)
		return fail(r, "damaged metadata in the footer");
	if (got != 3)
		return fail(r, "no %s in the footer", got & 1 ? "row groups" :
		    "schema");
	for (i = 0; i < r->nrg; i++) {
		if (r->rgs[i].rows > UINT64_MAX - sum)
			break;
		sum += r->rgs[i].rows;
	}
	if (rows < 0 || i < r->nrg || sum != (uint64_t)rows)
		return fail(r, "row groups of %llu rows, the footer says %lld",
		    (unsigned long long)sum, (long long)rows);
	r->rows = sum;
	return 0;
}

struct pqr *
pqr_open(int fd, uint64_t size, char *why, size_t whylen)
{
	struct pqr *r = xcalloc(1, sizeof(*r));
	uint32_t len;
	const unsigned char *p;

	r->fd = fd;
	r->size = size;
	buf_init(&r->raw, 0);
	if (size < 12)
		fail(r, "not a Parquet file: %llu bytes",
		    (unsigned long long)size);
	else if (read_at(r, &r->raw, 0, 4) == 0 && memcmp(r->raw.data,
	    MAGIC, 4) != 0)
		fail(r, "not a Parquet file: no PAR1 at its start");
	else if (!r->failed && read_at(r, &r->raw, size - 8, 8) == 0) {
		p = (const unsigned char *)r->raw.data;
		len = p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
		if (memcmp(p + 4, MAGIC, 4) != 0)
			fail(r, "not a Parquet file: no PAR1 at its end "
			    "(truncated?)");
		else if (len > size - 12 || len > MAX_FOOTER)
			fail(r, "a footer of %u bytes in a file of %llu", len,
			    (unsigned long long)size);
		else if (read_at(r, &r->raw, size - 8 - len, len) == 0) {
			r->data_end = size - 8 - len;
			(void)file_meta(r, (const unsigned char *)r->raw.data,
			    len);
		}
	}
	if (r->failed) {
		strlcpy(why, r->why, whylen);
		pqr_free(r);
		return NULL;
	}
	buf_release(&r->raw);
	buf_init(&r->raw, 0);
	return r;
}

void
pqr_free(struct pqr *r)
{
	size_t i;

	if (r == NULL)
		return;
	for (i = 0; i < r->ncols; i++)
		free(r->cols[i].name);
	free(r->cols);
	for (i = 0; i < r->nrg; i++)
		free(r->rgs[i].ch);
	free(r->rgs);
	for (i = 0; i < r->nsel; i++) {
		buf_release(&r->sel[i].data);
		free(r->sel[i].v);
		free(r->sel[i].dict);
	}
	free(r->sel);
	buf_release(&r->raw);
	free(r);
}

size_t
pqr_ncols(const struct pqr *r)
{
	return r->ncols;
}

const char *
pqr_name(const struct pqr *r, size_t col, size_t *len)
{
	*len = r->cols[col].namelen;
	return r->cols[col].name;
}

int
pqr_type(const struct pqr *r, size_t col)
{
	return r->cols[col].type;
}

enum pqr_unit
pqr_unit(const struct pqr *r, size_t col)
{
	return r->cols[col].unit;
}

uint64_t
pqr_rows(const struct pqr *r)
{
	return r->rows;
}

const char *
pqr_error(const struct pqr *r)
{
	return r->why;
}

int
pqr_select(struct pqr *r, const size_t *cols, size_t n)
{
	size_t i;
	int t;

	r->sel = xcalloc(n > 0 ? n : 1, sizeof(*r->sel));
	for (i = 0; i < n; i++) {
		t = r->cols[cols[i]].type;
		if (t != PQR_INT32 && t != PQR_INT64 && t != PQR_BYTE_ARRAY)
			return fail(r, "column %s: physical type %d: not read",
			    r->cols[cols[i]].name, t);
		r->sel[i].col = cols[i];
		buf_init(&r->sel[i].data, 0);
		r->nsel++;
	}
	return 0;
}

/* ---- pages ---- */

struct page {
	int		 type;
	int64_t		 usize, csize;
	int64_t		 nvalues;
	int		 enc, defenc;
};

static void
page_sub(struct tcr *t, struct page *pg, int dict)
{
	int id = 0, type;

	tcr_enter(t);
	while (tcr_field(t, &id, &type)) {
		if (id == 1 && type == TCR_I32)
			pg->nvalues = tcr_int(t, type);
		else if (id == 2 && type == TCR_I32)
			pg->enc = (int)tcr_int(t, type);
		else if (id == 3 && type == TCR_I32 && !dict)
			pg->defenc = (int)tcr_int(t, type);
		else
			tcr_skip(t, type);
	}
	tcr_leave(t);
}

/* A PageHeader at p: its length, or 0 when damaged. */
static size_t
page_header(const unsigned char *p, size_t n, struct page *pg)
{
	struct tcr t;
	int id = 0, type;

	memset(pg, 0, sizeof(*pg));
	pg->type = pg->nvalues = pg->usize = pg->csize = -1;
	pg->defenc = E_RLE;
	tcr_init(&t, p, n);
	tcr_enter(&t);
	while (tcr_field(&t, &id, &type)) {
		if (id == 1 && type == TCR_I32)
			pg->type = (int)tcr_int(&t, type);
		else if (id == 2 && type == TCR_I32)
			pg->usize = tcr_int(&t, type);
		else if (id == 3 && type == TCR_I32)
			pg->csize = tcr_int(&t, type);
		else if ((id == 5 || id == 7) && type == TCR_STRUCT)
			page_sub(&t, pg, id == 7);
		else
			tcr_skip(&t, type);
	}
	if (t.err || pg->usize < 0 || pg->csize < 0 || pg->type < 0)
		return 0;
	return (size_t)(t.p - p);
}

/*
 * Can n bytes of codec hold a page of usize?  Asked before usize bytes
 * are allocated: what the data itself says, or deflate's largest ratio.
 */
static int
size_plausible(int codec, const unsigned char *p, size_t n, size_t usize)
{
	unsigned long long z;
	size_t len;

	switch (codec) {
	case C_NONE:
		return n == usize;
	case C_SNAPPY:
		return snappy_uncompressed_length((const char *)p, n, &len) ==
		    SNAPPY_OK && len == usize;
	case C_GZIP:
		return usize / 1032 <= n;
	case C_ZSTD:
		z = ZSTD_getFrameContentSize(p, n);
		return z == ZSTD_CONTENTSIZE_UNKNOWN || z == usize;
	default:
		return 1;	/* refused by name below */
	}
}

/* Decompress a page's body onto s->data: its offset there, or -1. */
static int64_t
decompress(struct pqr *r, struct sel *s, int codec, const unsigned char *p,
    size_t n, size_t usize)
{
	size_t off = s->data.len, got;
	z_stream z;
	int rc;

	if (usize > MAX_PAGE || !size_plausible(codec, p, n, usize))
		return fail(r, "column %s: a page of %zu bytes from %zu",
		    r->cols[s->col].name, usize, n);
	buf_grow(&s->data, usize + 1);
	switch (codec) {
	case C_NONE:
		if (n != usize)
			return fail(r, "an uncompressed page of two sizes");
		memcpy(s->data.data + off, p, n);
		break;
	case C_SNAPPY:
		got = usize;
		if (snappy_uncompressed_length((const char *)p, n, &got) !=
		    SNAPPY_OK || got != usize || snappy_uncompress(
		    (const char *)p, n, s->data.data + off, &got) !=
		    SNAPPY_OK || got != usize)
			return fail(r, "bad snappy data");
		break;
	case C_GZIP:
		memset(&z, 0, sizeof(z));
		if (inflateInit2(&z, 15 + 32) != Z_OK)
			return fail(r, "zlib: cannot start");
		z.next_in = (unsigned char *)p;
		z.avail_in = (unsigned)n;
		z.next_out = (unsigned char *)s->data.data + off;
		z.avail_out = (unsigned)usize + 1;
		rc = inflate(&z, Z_FINISH);
		got = usize + 1 - z.avail_out;
		inflateEnd(&z);
		if (rc != Z_STREAM_END || got != usize)
			return fail(r, "bad gzip data");
		break;
	case C_ZSTD:
		got = ZSTD_decompress(s->data.data + off, usize, p, n);
		if (ZSTD_isError(got) || got != usize)
			return fail(r, "bad zstd data");
		break;
	default:
		return fail(r, "column %s: codec %s: not read",
		    r->cols[s->col].name, codec_name(codec));
	}
	buf_setlen(&s->data, off + usize);
	return (int64_t)off;
}

/* A PLAIN value of type at *pos of p (n bytes) into v; 0 or -1. */
static int
plain_value(int type, const unsigned char *p, size_t n, size_t *pos,
    size_t base, struct cval *v)
{
	uint64_t u = 0;
	size_t w, i, len;

	w = type == PQR_INT32 ? 4 : type == PQR_INT64 ? 8 : 4;
	if (n - *pos < w)
		return -1;
	for (i = 0; i < w; i++)
		u |= (uint64_t)p[*pos + i] << (8 * i);
	*pos += w;
	if (type == PQR_BYTE_ARRAY) {
		len = (size_t)u;
		if (n - *pos < len)
			return -1;
		v->kind = PQV_BYTES;
		v->off = base + *pos;
		v->n = len;
		*pos += len;
		return 0;
	}
	v->kind = PQV_INT;
	v->i = type == PQR_INT32 ? (int32_t)(uint32_t)u : (int64_t)u;
	v->off = v->n = 0;
	return 0;
}

static int
dict_page(struct pqr *r, struct sel *s, const struct page *pg, size_t off)
{
	const struct pqc *c = &r->cols[s->col];
	const unsigned char *p = (const unsigned char *)s->data.data + off;
	size_t pos = 0, n = (size_t)pg->usize;
	int64_t i;

	if (s->ndict > 0 || s->nv > 0)
		return fail(r, "column %s: a dictionary page after others",
		    c->name);
	if (pg->enc != E_PLAIN && pg->enc != E_PLAIN_DICTIONARY)
		return fail(r, "column %s: a dictionary page of encoding %s: "
		    "not read", c->name, encoding_name(pg->enc));
	if (pg->nvalues < 0 || (uint64_t)pg->nvalues > n / 4)
		return fail(r, "column %s: a damaged dictionary page",
		    c->name);
	s->dict = xreallocarray(s->dict, (size_t)pg->nvalues + 1,
	    sizeof(*s->dict));
	for (i = 0; i < pg->nvalues; i++)
		if (plain_value(c->type, p, n, &pos, off,
		    &s->dict[s->ndict++]) < 0)
			return fail(r, "column %s: a damaged dictionary page",
			    c->name);
	return 0;
}

static struct cval *
new_value(struct sel *s)
{
	if (s->nv == s->vcap) {
		s->vcap = s->vcap ? s->vcap * 2 : 1024;
		s->v = xreallocarray(s->v, s->vcap, sizeof(*s->v));
	}
	return &s->v[s->nv++];
}

/* A data page (v1): levels, then values PLAIN or from the dictionary. */
static int
data_page(struct pqr *r, struct sel *s, const struct page *pg, size_t off,
    uint64_t rows)
{
	const struct pqc *c = &r->cols[s->col];
	const unsigned char *p = (const unsigned char *)s->data.data + off;
	size_t pos = 0, n = (size_t)pg->usize, dl;
	struct rled def, idx;
	struct cval *v;
	uint32_t level, k;
	int64_t i;
	int dict = pg->enc == E_RLE_DICTIONARY ||
	    pg->enc == E_PLAIN_DICTIONARY;

	if (pg->enc != E_PLAIN && !dict)
		return fail(r, "column %s: values of encoding %s: not read",
		    c->name, encoding_name(pg->enc));
	if (pg->nvalues < 0 || (uint64_t)pg->nvalues > rows - s->nv)
		return fail(r, "column %s: more values than rows", c->name);
	if (c->rep == REP_OPTIONAL) {
		if (pg->defenc != E_RLE)
			return fail(r, "column %s: definition levels of "
			    "encoding %s: not read", c->name,
			    encoding_name(pg->defenc));
		if (n < 4 || (dl = p[0] | p[1] << 8 | p[2] << 16 |
		    (size_t)p[3] << 24) > n - 4)
			return fail(r, "column %s: damaged definition levels",
			    c->name);
		rled_init(&def, p + 4, dl, 1);
		pos = 4 + dl;
	}
	if (dict) {
		if (pos >= n || p[pos] > 32)
			return fail(r, "column %s: damaged dictionary indices",
			    c->name);
		rled_init(&idx, p + pos + 1, n - pos - 1, p[pos]);
	}
	for (i = 0; i < pg->nvalues; i++) {
		level = 1;
		if (c->rep == REP_OPTIONAL && (rled_next(&def, &level) < 0 ||
		    level > 1))
			return fail(r, "column %s: damaged definition levels",
			    c->name);
		v = new_value(s);
		memset(v, 0, sizeof(*v));
		if (level == 0)
			continue;	/* a null */
		if (!dict) {
			if (plain_value(c->type, p, n, &pos, off, v) < 0)
				return fail(r, "column %s: a damaged page",
				    c->name);
			continue;
		}
		if (rled_next(&idx, &k) < 0 || k >= s->ndict)
			return fail(r, "column %s: damaged dictionary indices",
			    c->name);
		*v = s->dict[k];
	}
	return 0;
}

/* Read and decode the selected column s of row group g. */
static int
load_column(struct pqr *r, struct sel *s, const struct pqrg *g)
{
	const struct pqchunk *ch = &g->ch[s->col];
	const struct pqc *c = &r->cols[s->col];
	const unsigned char *p;
	struct page pg;
	size_t pos = 0, h;
	int64_t off;

	buf_reset(&s->data);
	s->nv = s->ndict = 0;
	if (ch->type != c->type)
		return fail(r, "column %s: a chunk of another type", c->name);
	if (ch->len > MAX_PAGE * 4ULL)
		return fail(r, "column %s: a chunk of %llu bytes", c->name,
		    (unsigned long long)ch->len);
	if (read_at(r, &r->raw, ch->start, (size_t)ch->len) < 0)
		return -1;
	p = (const unsigned char *)r->raw.data;
	while (s->nv < g->rows && pos < ch->len) {
		if ((h = page_header(p + pos, ch->len - pos, &pg)) == 0 ||
		    (uint64_t)pg.csize > ch->len - pos - h)
			return fail(r, "column %s: a damaged page header",
			    c->name);
		pos += h;
		if (pg.type == PT_DATA_PAGE_V2)
			return fail(r, "column %s: data pages v2: not read",
			    c->name);
		if (pg.type == PT_DATA_PAGE || pg.type == PT_DICTIONARY_PAGE) {
			off = decompress(r, s, ch->codec, p + pos,
			    (size_t)pg.csize, (size_t)pg.usize);
			if (off < 0 || (pg.type == PT_DATA_PAGE ? data_page(r,
			    s, &pg, (size_t)off, g->rows) : dict_page(r, s,
			    &pg, (size_t)off)) < 0)
				return -1;
		}
		pos += (size_t)pg.csize;
	}
	if (s->nv != g->rows)
		return fail(r, "column %s: %zu values in a row group of %llu "
		    "rows", c->name, s->nv, (unsigned long long)g->rows);
	return 0;
}

static int
load_row_group(struct pqr *r)
{
	size_t i;

	while (r->rg < r->nrg && r->rgs[r->rg].rows == 0)
		r->rg++;
	if (r->rg == r->nrg)
		return 0;
	for (i = 0; i < r->nsel; i++)
		if (load_column(r, &r->sel[i], &r->rgs[r->rg]) < 0)
			return -1;
	r->rgrows = r->rgs[r->rg].rows;
	r->row = 0;
	r->rg++;
	return 1;
}

int
pqr_next(struct pqr *r, struct pqval *vals)
{
	const struct cval *v;
	size_t i;
	int rc;

	if (r->failed)
		return -1;
	if (r->row == r->rgrows && (rc = load_row_group(r)) <= 0)
		return rc;
	for (i = 0; i < r->nsel; i++) {
		v = &r->sel[i].v[r->row];
		vals[i].kind = v->kind;
		vals[i].i = v->i;
		vals[i].s = v->kind == PQV_BYTES ? r->sel[i].data.data +
		    v->off : NULL;
		vals[i].n = v->n;
	}
	r->row++;
	return 1;
}
