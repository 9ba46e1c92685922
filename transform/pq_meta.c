/*
 * The Parquet footer's Thrift (parquet.thrift): a column chunk's
 * ColumnMetaData with its statistics and encoding_stats, the schema and
 * FileMetaData; see pq_internal.h.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "buf.h"
#include "parquet.h"
#include "pq_internal.h"
#include "thrift.h"

/* column chunks */

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
void
meta_put_chunk(struct pq_writer *w, struct thrift *t, const struct pq_col *c,
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

/* the file */

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
void
meta_put_footer(struct pq_writer *w)
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
	writer_ready_move(w, &meta);
}
