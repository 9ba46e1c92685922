/*
 * The csv format (RFC 4180): a header row of the column names, then a row
 * per record, CRLF line ends, the --csv-delimiter between fields.  A field
 * is quoted when it holds the delimiter, '"', CR or LF, or is an empty
 * string, so that an empty field is a null and "" an empty string.
 * Text that is not valid UTF-8 (only header values can be: the payload
 * column is base64 then, and fields from a JSON payload are valid) has
 * each bad byte replaced by U+FFFD.
 */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "fields.h"
#include "format.h"
#include "json.h"
#include "record.h"

struct csv {
	const struct schema	*schema;
	char			 delim;
};

static void *
csv_new(const struct fmt_conf *c)
{
	struct csv *v = xcalloc(1, sizeof(*v));

	v->schema = c->schema;
	v->delim = c->csv_delim;
	return v;
}

static void
csv_free(void *p)
{
	free(p);
}

/* Append s, each '"' doubled and each invalid UTF-8 byte as U+FFFD. */
static void
add_fixed(struct buf *out, const unsigned char *p, const unsigned char *end)
{
	size_t k;

	while (p < end) {
		if (*p < 0x80) {
			if (*p == '"')
				buf_addch(out, '"');
			buf_addch(out, *p++);
		} else if ((k = utf8_seq_len(p, (size_t)(end - p))) > 0) {
			buf_add(out, p, k);
			p += k;
		} else {
			buf_add(out, "\xef\xbf\xbd", 3);	/* U+FFFD */
			p++;
		}
	}
}

/*
 * Append s as one field, quoted if it needs it; utf8: s is known to be
 * valid UTF-8 (VAL_JSON text).  The bytes are looked at with memchr(3),
 * a few passes at memory speed rather than one loop a byte.
 */
static void
add_field(struct buf *out, const char *s, size_t n, char delim, int utf8)
{
	const char *p = s, *end = s + n, *q;
	int dq = memchr(s, '"', n) != NULL;
	int quote = n == 0 || dq || memchr(s, delim, n) != NULL ||
	    memchr(s, '\n', n) != NULL || memchr(s, '\r', n) != NULL;

	if (quote)
		buf_addch(out, '"');
	if (utf8 || utf8_valid_nonul(s, n)) {
		/* the common case: runs as they are, each '"' doubled */
		while (dq && (q = memchr(p, '"', (size_t)(end - p))) != NULL) {
			buf_add(out, p, (size_t)(q - p + 1));
			buf_addch(out, '"');
			p = q + 1;
		}
		buf_add(out, p, (size_t)(end - p));
	} else
		add_fixed(out, (const unsigned char *)s,
		    (const unsigned char *)end);
	if (quote)
		buf_addch(out, '"');
}

static void
csv_begin(void *p, struct buf *out)
{
	struct csv *v = p;
	size_t i;

	for (i = 0; i < v->schema->n; i++) {
		if (i > 0)
			buf_addch(out, v->delim);
		add_field(out, v->schema->col[i].name,
		    strlen(v->schema->col[i].name), v->delim, 0);
	}
	buf_add(out, "\r\n", 2);
}

static void
add_value(struct buf *out, const struct row *r, const struct value *v,
    char delim)
{
	if (v->kind == VAL_STRING || v->kind == VAL_JSON)
		add_field(out, ROW_TEXT(r, v), v->len, delim,
		    v->kind == VAL_JSON);
	else
		(void)value_add_scalar(out, r, v);	/* a null: nothing */
}

static size_t
csv_add(void *p, struct buf *out, const struct msg *m, const struct row *r)
{
	struct csv *v = p;
	size_t start = out->len, i;

	for (i = 0; i < r->n; i++) {
		if (i > 0)
			buf_addch(out, v->delim);
		add_value(out, r, &r->v[i], v->delim);
	}
	buf_add(out, "\r\n", 2);
	return out->len - start;
}

const struct fmt_ops fmt_csv = {
	.name = "csv",
	.ext = "csv",
	.type = "text/csv",
	.needs_row = 1,
	.state_new = csv_new,
	.state_free = csv_free,
	.begin = csv_begin,
	.add = csv_add,
	.end = fmt_nothing,
};
