/*
 * The parquet format: one Parquet file per object, a column per schema
 * column (fields.h), written by parquet.h's row writer, which compresses
 * its own pages (--parquet-compression): no outer codec.  Every column is
 * optional; the column types map one to one (int64 INT64, double DOUBLE,
 * boolean BOOLEAN, string and untyped STRING, timestamp TIMESTAMP(MILLIS,
 * UTC)).  The writer holds a row group at most (--parquet-row-group):
 * each row group cut goes to the object's body at once, where batch.c
 * takes it as P frames; the footer goes at the object's end.
 */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "fields.h"
#include "format.h"
#include "json.h"
#include "parquet.h"

struct pqf {
	const struct schema	*schema;
	struct pq_column	*cols;
	struct pq_opts		 opts;
	struct pq_writer	*w;
	uint64_t		 size;	/* pq_size after the last row */
	struct buf		 fix;	/* text made valid UTF-8 */
};

static enum pq_type
pq_type_of(enum col_type t)
{
	switch (t) {
	case COL_INT64: return PQ_INT64;
	case COL_DOUBLE: return PQ_DOUBLE;
	case COL_BOOLEAN: return PQ_BOOLEAN;
	case COL_TIMESTAMP: return PQ_TIMESTAMP_MS;
	default: return PQ_STRING;	/* string, and JSON text */
	}
}

static void *
pqf_new(const struct fmt_conf *c)
{
	struct pqf *p = xcalloc(1, sizeof(*p));
	size_t i;

	p->schema = c->schema;
	p->cols = xcalloc(c->schema->n, sizeof(*p->cols));
	for (i = 0; i < c->schema->n; i++) {
		p->cols[i].name = c->schema->col[i].name;
		p->cols[i].type = pq_type_of(c->schema->col[i].type);
		p->cols[i].nullable = 1;
	}
	pq_opts_init(&p->opts);
	p->opts.codec = (enum pq_codec)c->parquet_codec;
	p->opts.row_group_bytes = c->parquet_row_group;
	p->opts.q = c->q;
	buf_init(&p->fix, 0);
	return p;
}

static void
pqf_free(void *state)
{
	struct pqf *p = state;

	if (p->w != NULL)
		pq_free(p->w);
	free(p->cols);
	buf_release(&p->fix);
	free(p);
}

static void
pqf_begin(void *state, struct buf *out)
{
	struct pqf *p = state;

	p->w = pq_new(p->cols, p->schema->n, &p->opts);
	p->size = pq_size(p->w);
}

/*
 * STRING bytes must be UTF-8: text from frame headers that is not has
 * each bad byte replaced by U+FFFD, as jsonl and csv do (a NUL is kept:
 * it is UTF-8, only utf8_valid_nonul's fast path refuses it).  Text known
 * to be UTF-8 (utf8) is not looked at again.
 */
static void
add_text(struct pqf *p, size_t col, const char *s, size_t n, int utf8)
{
	const unsigned char *u = (const unsigned char *)s, *end = u + n;
	size_t k;

	if (utf8 || utf8_valid_nonul(s, n)) {
		pq_bytes(p->w, col, s, n);
		return;
	}
	buf_reset(&p->fix);
	while (u < end) {
		if (*u == 0)
			k = 1;
		else if ((k = utf8_seq_len(u, (size_t)(end - u))) == 0) {
			buf_add(&p->fix, "\xef\xbf\xbd", 3);
			u++;
			continue;
		}
		buf_add(&p->fix, u, k);
		u += k;
	}
	pq_bytes(p->w, col, p->fix.data, p->fix.len);
}

static size_t
pqf_add(void *state, struct buf *out, const struct msg *m,
    const struct row *r)
{
	struct pqf *p = state;
	const struct value *v;
	uint64_t before = p->size;
	size_t i;

	for (i = 0; i < r->n; i++) {
		v = &r->v[i];
		switch (v->kind) {
		case VAL_NULL:
			pq_null(p->w, i);
			break;
		case VAL_INT:
		case VAL_TIME:
			pq_int64(p->w, i, v->i);
			break;
		case VAL_DOUBLE:
			pq_double(p->w, i, v->d);
			break;
		case VAL_BOOL:
			pq_bool(p->w, i, (int)v->i);
			break;
		case VAL_STRING:
			add_text(p, i, ROW_TEXT(r, v), v->len, v->utf8);
			break;
		case VAL_JSON:		/* UTF-8 already (fields.h) */
			pq_bytes(p->w, i, ROW_TEXT(r, v), v->len);
			break;
		}
	}
	pq_row_end(p->w);
	(void)pq_take(p->w, out, 0);	/* a row group cut, if any */
	p->size = pq_size(p->w);
	return p->size > before ? (size_t)(p->size - before) : 0;
}

static void
pqf_end(void *state, struct buf *out)
{
	struct pqf *p = state;

	(void)pq_finish(p->w, out);
	pq_free(p->w);
	p->w = NULL;
}

/* Asked by the main thread, which alone touches what pq_held sums. */
static size_t
pqf_held(const void *state)
{
	const struct pqf *p = state;

	return p->w != NULL ? pq_held(p->w) : 0;
}

const struct fmt_ops fmt_parquet = {
	.name = "parquet",
	.ext = "parquet",
	.type = "application/vnd.apache.parquet",
	.self_compressed = 1,
	.needs_row = 1,
	.state_new = pqf_new,
	.state_free = pqf_free,
	.begin = pqf_begin,
	.add = pqf_add,
	.end = pqf_end,
	.held = pqf_held,
};
