/* CSV objects back into records; see lakecsv.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "lakecsv.h"
#include "lakerec.h"

enum { REC_MORE, REC_DONE, REC_FAIL };

void
lakecsv_init(struct lakecsv *c)
{
	memset(c, 0, sizeof(*c));
	buf_init(&c->text, 0);
}

void
lakecsv_release(struct lakecsv *c)
{
	buf_release(&c->text);
	free(c->f);
}

static int
fail(struct lakecsv *c, const char *why)
{
	strlcpy(c->why, why, sizeof(c->why));
	return REC_FAIL;
}

static void
field_begin(struct lakecsv *c, int quoted)
{
	if (c->nf == c->fcap) {
		c->fcap = c->fcap ? c->fcap * 2 : 16;
		c->f = xreallocarray(c->f, c->fcap, sizeof(*c->f));
	}
	c->f[c->nf].off = c->text.len;
	c->f[c->nf].quoted = quoted;
}

static void
field_end(struct lakecsv *c)
{
	c->f[c->nf].len = c->text.len - c->f[c->nf].off;
	c->nf++;
}

/*
 * A quoted field from s[*i] (its opening quote): REC_DONE with *i after
 * the closing quote, REC_MORE when it does not end in s, REC_FAIL.
 */
static int
quoted(struct lakecsv *c, const char *s, size_t n, size_t *i, int eof)
{
	const char *q;
	size_t j = *i + 1;

	for (;;) {
		if ((q = memchr(s + j, '"', n - j)) == NULL)
			break;
		buf_add(&c->text, s + j, (size_t)(q - (s + j)));
		j = (size_t)(q - s) + 1;
		if (j == n)
			break;		/* a doubled quote, or the end? */
		if (s[j] != '"') {
			*i = j;
			return REC_DONE;
		}
		buf_addch(&c->text, '"');
		j++;
	}
	if (!eof)
		return REC_MORE;
	if (q != NULL && j == n) {
		*i = j;
		return REC_DONE;
	}
	return fail(c, "a quoted field without its closing quote");
}

/*
 * One record from the start of s into fields: REC_DONE with *used,
 * REC_MORE, or REC_FAIL.  Fields end at the delimiter; the record at LF,
 * CRLF or the end of the data.
 */
static int
record(struct lakecsv *c, const char *s, size_t n, int eof, size_t *used)
{
	size_t i = 0, lines = 0, k;
	int rc;

	buf_reset(&c->text);
	c->nf = 0;
	for (;;) {
		field_begin(c, i < n && s[i] == '"');
		if (i < n && s[i] == '"') {
			if ((rc = quoted(c, s, n, &i, eof)) != REC_DONE)
				return rc;
		} else {
			for (k = i; k < n && s[k] != c->delim && s[k] != '\r'
			    && s[k] != '\n' && s[k] != '"'; k++)
				;
			if (k < n && s[k] == '"')
				return fail(c, "a quote inside a field that "
				    "is not quoted");
			buf_add(&c->text, s + i, k - i);
			i = k;
		}
		field_end(c);
		if (i == n) {
			if (!eof)
				return REC_MORE;
			break;
		}
		if (s[i] == c->delim) {
			i++;
			continue;
		}
		if (s[i] == '\r') {
			if (i + 1 == n && !eof)
				return REC_MORE;
			if (i + 1 == n || s[i + 1] != '\n')
				return fail(c, "a CR not followed by LF");
			i++;
		}
		if (s[i] != '\n')
			return fail(c, "bytes after a closing quote");
		i++;
		break;
	}
	for (k = 0; k < i; k++)
		lines += s[k] == '\n';
	c->recline = c->line + 1;
	c->line += lines ? lines : 1;
	*used = i;
	return REC_DONE;
}

static int
name_byte(unsigned char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	    (ch >= '0' && ch <= '9') || ch >= 0x80 ||
	    (ch != '\0' && strchr("_.+-:", ch) != NULL);
}

/* The delimiter: the byte after the header's first field. */
static int
find_delim(struct lakecsv *c, const char *s, size_t n, int eof)
{
	size_t i = 0;
	int rc;

	if (n > 0 && s[0] == '"') {
		rc = quoted(c, s, n, &i, eof);
		buf_reset(&c->text);
		if (rc != REC_DONE)
			return rc;
	} else
		while (i < n && name_byte((unsigned char)s[i]))
			i++;
	if (i == n && !eof)
		return REC_MORE;
	if (i == n || s[i] == '\r' || s[i] == '\n')
		c->delim = ',';		/* one column: any will do */
	else if (s[i] == '"')
		return fail(c, "the header row: no delimiter after its "
		    "first field");
	else
		c->delim = s[i];
	return REC_DONE;
}

static int
header(struct lakecsv *c)
{
	const char *missing;
	size_t i;
	int k;

	for (k = 0; k < LC_N; k++)
		c->col[k] = -1;
	for (i = 0; i < c->nf; i++) {
		k = lakecol_find(c->text.data + c->f[i].off, c->f[i].len);
		if (k < 0)
			continue;
		if (c->col[k] >= 0) {
			snprintf(c->why, sizeof(c->why), "column %.*s twice "
			    "in the header row", (int)c->f[i].len,
			    c->text.data + c->f[i].off);
			return REC_FAIL;
		}
		c->col[k] = (int)i;
	}
	if ((missing = lakecol_missing(c->col)) != NULL)
		return fail(c, missing);
	c->ncols = c->nf;
	c->header = 1;
	return REC_DONE;
}

static int
row(struct lakecsv *c, struct lakerec *r, const char **why)
{
	struct lakeval v[LC_N];
	const struct csvfield *f;
	int k;

	if (c->nf != c->ncols) {
		snprintf(c->why, sizeof(c->why), "%zu fields, the header row "
		    "has %zu", c->nf, c->ncols);
		*why = c->why;
		return CSV_BAD;
	}
	for (k = 0; k < LC_N; k++) {
		f = &c->f[c->col[k]];
		v[k].kind = f->len == 0 && !f->quoted ? LV_NULL : LV_TEXT;
		v[k].s = c->text.data + f->off;
		v[k].n = f->len;
		v[k].i = 0;
	}
	return lakerec_from_cols(r, v, why) < 0 ? CSV_BAD : CSV_ROW;
}

int
lakecsv_next(struct lakecsv *c, struct lakerec *r, const char *s, size_t n,
    int eof, size_t *used, const char **why)
{
	size_t took = 0;
	int rc;

	*used = 0;
	*why = c->why;
	if (c->delim == 0 && (rc = find_delim(c, s, n, eof)) != REC_DONE)
		return rc == REC_MORE ? CSV_MORE : CSV_FAIL;
	if (!c->header) {
		if (n == 0 && eof)
			return CSV_END;
		if ((rc = record(c, s, n, eof, &took)) != REC_DONE)
			return rc == REC_MORE ? CSV_MORE : CSV_FAIL;
		if (header(c) != REC_DONE)
			return CSV_FAIL;
		*used = took;
		s += took;
		n -= took;
	}
	if (n == 0 && eof)
		return CSV_END;
	if ((rc = record(c, s, n, eof, &took)) != REC_DONE)
		return rc == REC_MORE ? CSV_MORE : CSV_FAIL;
	*used += took;
	return row(c, r, why);
}
