/*
 * The jsonl format: one JSON object per record and line.  Without --fields
 * the record is the envelope of record.c (unchanged since the first
 * release); with --fields it is a flat object of the schema's columns.
 */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "fields.h"
#include "format.h"
#include "json.h"
#include "record.h"

/*
 * names holds the text before each column's value, '"name":' (',' first
 * but for column 0), escaped once rather than on every row; end[i] is
 * where column i's ends.  It grows when --fields auto adds columns (the
 * names of the columns there never change).
 */
struct jsonl {
	const struct schema	*schema;
	struct buf		 scratch;
	struct buf		 names;
	size_t			*end;
	size_t			 nnames;
};

static void *
jsonl_new(const struct fmt_conf *c)
{
	struct jsonl *j = xcalloc(1, sizeof(*j));

	j->schema = c->schema;
	buf_init(&j->scratch, 0);
	buf_init(&j->names, 0);
	return j;
}

static void
jsonl_free(void *p)
{
	struct jsonl *j = p;

	buf_release(&j->scratch);
	buf_release(&j->names);
	free(j->end);
	free(j);
}

/* Value v as JSON: times as RFC 3339 text, as in the envelope. */
static void
add_json_value(struct buf *out, const struct row *r, const struct value *v)
{
	switch (v->kind) {
	case VAL_NULL:
		buf_addstr(out, "null");
		break;
	case VAL_TIME:
		buf_addch(out, '"');
		(void)value_add_scalar(out, r, v);
		buf_addch(out, '"');
		break;
	case VAL_JSON:
		buf_add(out, ROW_TEXT(r, v), v->len);
		break;
	case VAL_STRING:
		(void)json_add_string(out, ROW_TEXT(r, v), v->len, 0);
		break;
	default:
		(void)value_add_scalar(out, r, v);
		break;
	}
}

/* The names of the schema's first n columns, as names holds them. */
static void
cache_names(struct jsonl *j, size_t n)
{
	const char *name;
	size_t i;

	j->end = xreallocarray(j->end, n, sizeof(*j->end));
	for (i = j->nnames; i < n; i++) {
		if (i > 0)
			buf_addch(&j->names, ',');
		name = j->schema->col[i].name;
		(void)json_add_string(&j->names, name, strlen(name), 0);
		buf_addch(&j->names, ':');
		j->end[i] = j->names.len;
	}
	j->nnames = n;
}

static size_t
jsonl_add(void *p, struct buf *out, const struct msg *m, const struct row *r)
{
	struct jsonl *j = p;
	size_t start = out->len, i;

	if (r == NULL) {
		record_add(out, FMT_JSONL, m, &j->scratch);
		return out->len - start;
	}
	if (r->n > j->nnames)
		cache_names(j, r->n);
	buf_addch(out, '{');
	for (i = 0; i < r->n; i++) {
		buf_add(out, j->names.data + (i > 0 ? j->end[i - 1] : 0),
		    j->end[i] - (i > 0 ? j->end[i - 1] : 0));
		add_json_value(out, r, &r->v[i]);
	}
	buf_add(out, "}\n", 2);
	return out->len - start;
}

const struct fmt_ops fmt_jsonl = {
	.name = "jsonl",
	.ext = "jsonl",
	.type = "application/x-ndjson",
	.state_new = jsonl_new,
	.state_free = jsonl_free,
	.begin = fmt_nothing,
	.add = jsonl_add,
	.end = fmt_nothing,
};
