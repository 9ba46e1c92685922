/* Schemas from --meta and --fields, records into rows; see fields.h. */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fields.h"
#include "frame.h"
#include "json.h"
#include "record.h"
#include "utctime.h"

/* The latest time a timestamp may hold: 9999-12-31T23:59:59.999Z. */
#define MAX_TIME_MS	253402300799999LL

static const struct {
	const char	*name;
	enum col_src	 src;
	enum col_type	 type;
} metas[] = {
	{ "message_id", SRC_MESSAGE_ID, COL_STRING },
	{ "topic", SRC_TOPIC, COL_STRING },
	{ "partition", SRC_PARTITION, COL_INT64 },
	{ "key", SRC_KEY, COL_STRING },
	{ "publish_time", SRC_PUBLISH_TIME, COL_TIMESTAMP },
	{ "event_time", SRC_EVENT_TIME, COL_TIMESTAMP },
	{ "properties", SRC_PROPERTIES, COL_ANY },
	{ "redelivery_count", SRC_REDELIVERY_COUNT, COL_INT64 },
};

static const char *const types[] = {
	[COL_ANY] = "", [COL_INT64] = "int64", [COL_DOUBLE] = "double",
	[COL_BOOLEAN] = "boolean", [COL_STRING] = "string",
	[COL_TIMESTAMP] = "timestamp",
};

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

/* A column name in schema text: ',', ':' and '%' as %XX. */
static void
add_name(struct buf *out, const char *name)
{
	for (; *name != '\0'; name++)
		if (*name == ',' || *name == ':' || *name == '%')
			buf_addf(out, "%%%02X", (unsigned char)*name);
		else
			buf_addch(out, *name);
}

void
schema_format(struct buf *out, const struct schema *s)
{
	size_t i;

	for (i = 0; i < s->n; i++) {
		if (i > 0)
			buf_addch(out, ',');
		add_name(out, s->col[i].name);
		buf_addch(out, ':');
		buf_addstr(out, s->col[i].type == COL_ANY ? "json" :
		    types[s->col[i].type]);
	}
}

static void
add_col(struct schema *s, char *name, enum col_src src, enum col_type t,
    char *path)
{
	s->col = xreallocarray(s->col, s->n + 1, sizeof(*s->col));
	s->col[s->n].name = name;
	s->col[s->n].src = src;
	s->col[s->n].type = t;
	s->col[s->n].path = path;
	s->col[s->n].pathlen = path != NULL ? strlen(path) : 0;
	s->n++;
}

static int
fail(char *why, size_t whylen, const char *opt, const char *what,
    const char *s, size_t n)
{
	snprintf(why, whylen, "%s: %s '%.*s'", opt, what,
	    (int)(n > 80 ? 80 : n), s);
	return -1;
}

/* One --meta item, "name[=column]". */
static int
parse_meta(struct schema *s, const char *p, size_t n, char *why,
    size_t whylen)
{
	const char *eq = memchr(p, '=', n);
	size_t k, nl = eq != NULL ? (size_t)(eq - p) : n;

	for (k = 0; k < NELEM(metas); k++)
		if (strlen(metas[k].name) == nl &&
		    memcmp(metas[k].name, p, nl) == 0)
			break;
	if (k == NELEM(metas))
		return fail(why, whylen, "--meta", "no such metadata column "
		    "(message_id, topic, partition, key, publish_time, "
		    "event_time, properties, redelivery_count):", p, nl);
	if (eq != NULL && eq + 1 == p + n)
		return fail(why, whylen, "--meta", "empty name in", p, n);
	add_col(s, eq != NULL ? xstrndup(eq + 1, (size_t)(p + n - eq - 1)) :
	    xstrdup(metas[k].name), metas[k].src, metas[k].type, NULL);
	return 0;
}

/* A dotted path: no empty segment. */
static int
path_ok(const char *p, size_t n)
{
	size_t i;

	if (n == 0 || p[0] == '.' || p[n - 1] == '.')
		return 0;
	for (i = 1; i < n; i++)
		if (p[i] == '.' && p[i - 1] == '.')
			return 0;
	return 1;
}

/* The name made from a path: each '.' becomes sep. */
static char *
path_name(const char *p, size_t n, const char *sep)
{
	struct buf b = BUF_INIT;
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i] == '.')
			buf_addstr(&b, sep);
		else
			buf_addch(&b, p[i]);
	buf_addch(&b, '\0');
	return b.data;
}

/* One --fields item, "path[=name][:type]". */
static int
parse_field(struct schema *s, const char *p, size_t n, const char *sep,
    char *why, size_t whylen)
{
	const char *colon = memchr(p, ':', n), *eq;
	size_t rest = colon != NULL ? (size_t)(colon - p) : n, pl, k;
	enum col_type t = COL_ANY;
	char *name;

	if (colon != NULL) {
		for (k = 1; k < NELEM(types); k++)
			if (strlen(types[k]) == (size_t)(p + n - colon - 1) &&
			    memcmp(types[k], colon + 1, strlen(types[k])) == 0)
				break;
		if (k == NELEM(types))
			return fail(why, whylen, "--fields", "unknown type "
			    "(int64, double, boolean, string, timestamp) in",
			    p, n);
		t = (enum col_type)k;
	}
	eq = memchr(p, '=', rest);
	pl = eq != NULL ? (size_t)(eq - p) : rest;
	if (!path_ok(p, pl))
		return fail(why, whylen, "--fields", "empty path or path "
		    "segment in", p, n);
	if (eq != NULL && eq + 1 == p + rest)
		return fail(why, whylen, "--fields", "empty name in", p, n);
	name = eq != NULL ? xstrndup(eq + 1, (size_t)(p + rest - eq - 1)) :
	    path_name(p, pl, sep);
	add_col(s, name, SRC_PATH, t, xstrndup(p, pl));
	s->paths++;
	return 0;
}

/* Each comma-separated item of list through one of the parsers. */
static int
each_item(struct schema *s, const char *list, const char *opt, int meta,
    const char *sep, char *why, size_t whylen)
{
	const char *p = list, *c;
	size_t n;
	int rc;

	for (;;) {
		c = strchr(p, ',');
		n = c != NULL ? (size_t)(c - p) : strlen(p);
		if (n == 0)
			return fail(why, whylen, opt, "empty item in", list,
			    strlen(list));
		rc = meta ? parse_meta(s, p, n, why, whylen) :
		    parse_field(s, p, n, sep, why, whylen);
		if (rc < 0)
			return -1;
		if (c == NULL)
			return 0;
		p = c + 1;
	}
}

/* Nonzero if the comma-separated list has the item "auto". */
static int
has_auto(const char *list)
{
	const char *p = list, *c;
	size_t n;

	for (;;) {
		c = strchr(p, ',');
		n = c != NULL ? (size_t)(c - p) : strlen(p);
		if (n == 4 && memcmp(p, "auto", 4) == 0)
			return 1;
		if (c == NULL)
			return 0;
		p = c + 1;
	}
}

int
schema_parse(struct schema *s, const char *meta, const char *fields,
    const char *sep, int whole, char *why, size_t whylen)
{
	size_t i, j;

	memset(s, 0, sizeof(*s));
	if (meta == NULL)
		meta = META_DEFAULT;
	if (strcmp(meta, "none") != 0 &&
	    each_item(s, meta, "--meta", 1, sep, why, whylen) < 0)
		goto bad;
	if (fields != NULL && strcmp(fields, "auto") == 0) {
		s->infer = 1;
		s->sep = xstrdup(sep);
		fields = NULL;
		whole = 0;
	} else if (fields != NULL && has_auto(fields)) {
		snprintf(why, whylen, "--fields auto stands alone (it makes a "
		    "column of every member): not in '%.80s' (a member named "
		    "auto: auto=auto)", fields);
		goto bad;
	}
	if (fields != NULL &&
	    each_item(s, fields, "--fields", 0, sep, why, whylen) < 0)
		goto bad;
	if (fields == NULL && whole) {
		add_col(s, xstrdup("payload_encoding"), SRC_PAYLOAD_ENCODING,
		    COL_STRING, NULL);
		add_col(s, xstrdup("payload"), SRC_PAYLOAD, COL_STRING, NULL);
	}
	if (s->n == 0 && !s->infer) {
		snprintf(why, whylen, "--meta none: no columns left (add "
		    "--fields)");
		goto bad;
	}
	for (i = 0; i < s->n; i++)
		for (j = 0; j < i; j++)
			if (strcmp(s->col[i].name, s->col[j].name) == 0) {
				snprintf(why, whylen, "column '%.80s' twice "
				    "(rename one: path=name)", s->col[i].name);
				goto bad;
			}
	return 0;
bad:
	schema_free(s);
	return -1;
}

void
schema_free(struct schema *s)
{
	size_t i;

	for (i = 0; i < s->n; i++) {
		free(s->col[i].name);
		free(s->col[i].path);
	}
	free(s->col);
	free(s->sep);
	memset(s, 0, sizeof(*s));
}

void
schema_copy(struct schema *dst, const struct schema *src)
{
	size_t i;

	*dst = *src;
	dst->col = xcalloc(src->n > 0 ? src->n : 1, sizeof(*dst->col));
	for (i = 0; i < src->n; i++) {
		dst->col[i] = src->col[i];
		dst->col[i].name = xstrdup(src->col[i].name);
		if (src->col[i].path != NULL)
			dst->col[i].path = xstrdup(src->col[i].path);
	}
	if (src->sep != NULL)
		dst->sep = xstrdup(src->sep);
}

void
row_init(struct row *r, const struct schema *s)
{
	r->n = s->n;
	r->cap = s->n > 0 ? s->n : 1;
	r->v = xcalloc(r->cap, sizeof(*r->v));
	buf_init(&r->text, 256);
	r->why[0] = '\0';
}

void
row_free(struct row *r)
{
	free(r->v);
	buf_release(&r->text);
	memset(r, 0, sizeof(*r));
}

/* Start a text value at the end of the row's text. */
static void
text_begin(struct row *r, struct value *v, enum val_kind k)
{
	v->kind = k;
	v->utf8 = k == VAL_JSON;
	v->off = r->text.len;
}

static void
text_end(struct row *r, struct value *v)
{
	v->len = r->text.len - v->off;
}

/* The value's bytes, shown safely in a reason: controls as '?'. */
static void
snippet(char *out, size_t outlen, const char *s, size_t n)
{
	size_t i, k = n > 40 ? 40 : n;

	if (outlen < 4)
		return;
	if (k > outlen - 4)
		k = outlen - 4;
	for (i = 0; i < k; i++)
		out[i] = (unsigned char)s[i] < 0x20 ? '?' : s[i];
	strlcpy(out + k, n > k ? "..." : "", outlen - k);
}

static int
reject(struct row *r, const struct column *c, const struct json_val *jv,
    const char *what)
{
	char val[64];

	snippet(val, sizeof(val), jv->p, jv->n);
	snprintf(r->why, sizeof(r->why), "field %s: %s is not %s", c->path,
	    val, what);
	return -1;
}

/* Nonzero if s holds one of the bytes of set. */
static int
has_any(const char *s, size_t n, const char *set)
{
	for (; *set != '\0'; set++)
		if (memchr(s, *set, n) != NULL)
			return 1;
	return 0;
}

/* -?(0|[1-9][0-9]*) within int64; 0 or -1. */
static int
parse_int(const char *s, size_t n, int64_t *v)
{
	uint64_t x = 0, lim;
	size_t i = 0;
	int neg = 0;

	if (n > 0 && s[0] == '-') {
		neg = 1;
		i = 1;
	}
	if (i == n || (s[i] == '0' && n - i > 1))
		return -1;
	lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	for (; i < n; i++) {
		if (s[i] < '0' || s[i] > '9' ||
		    x > (lim - (uint64_t)(s[i] - '0')) / 10)
			return -1;
		x = x * 10 + (uint64_t)(s[i] - '0');
	}
	*v = neg ? (int64_t)(0 - x) : (int64_t)x;
	return 0;
}

/* A JSON number (RFC 8259 grammar) to a finite double; 0 or -1. */
static int
parse_double(const char *s, size_t n, double *d)
{
	char tmp[128], *end;
	size_t i = 0;

	if (n == 0 || n >= sizeof(tmp))
		return -1;
	if (s[i] == '-')
		i++;
	if (i == n || !isdigit((unsigned char)s[i]) ||
	    (s[i] == '0' && i + 1 < n && isdigit((unsigned char)s[i + 1])))
		return -1;
	for (; i < n; i++)
		if (strchr("0123456789.eE+-", s[i]) == NULL)
			return -1;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	*d = strtod(tmp, &end);
	return *end == '\0' && isfinite(*d) && end[-1] != '.' ? 0 : -1;
}

/* The decoded text of the string jv, appended to the row's text. */
static void
add_decoded(struct row *r, const struct json_val *jv)
{
	(void)json_decode_string(&r->text, jv->p, jv->n);
}

/* The JSON value jv of column c into v, cast; 0 or -1 (a reject). */
static int
cast(struct row *r, const struct column *c, const struct json_val *jv,
    struct value *v)
{
	struct buf *t = &r->text;
	size_t start = t->len;
	const char *s = jv->p;
	size_t n = jv->n;

	v->kind = VAL_NULL;
	if (jv->kind == JV_MISSING || jv->kind == JV_NULL)
		return 0;
	if (jv->kind == JV_STRING && c->type != COL_ANY &&
	    c->type != COL_STRING) {
		/* a number, boolean or time written as a string */
		add_decoded(r, jv);
		s = t->data + start;
		n = t->len - start;
	}
	switch (c->type) {
	case COL_ANY:
	case COL_STRING:
		text_begin(r, v, c->type == COL_ANY && jv->kind != JV_STRING ?
		    VAL_JSON : VAL_STRING);
		if (jv->kind == JV_STRING)
			add_decoded(r, jv);
		else
			json_add_compact(t, jv->p, jv->n);
		text_end(r, v);
		return 0;
	case COL_INT64:
		if ((jv->kind != JV_NUMBER && jv->kind != JV_STRING) ||
		    parse_int(s, n, &v->i) < 0)
			return reject(r, c, jv, "an int64 (an integer from "
			    "-2^63 to 2^63-1)");
		v->kind = VAL_INT;
		return 0;
	case COL_DOUBLE:
		if ((jv->kind != JV_NUMBER && jv->kind != JV_STRING) ||
		    parse_double(s, n, &v->d) < 0)
			return reject(r, c, jv, "a double (a finite number)");
		/* as written, so that no digit changes; "3" as "3.0", so that
		 * readers that infer types see a double */
		v->kind = VAL_DOUBLE;
		v->off = start;	/* a string's decoded text is there */
		if (jv->kind == JV_NUMBER)
			buf_add(t, jv->p, jv->n);
		if (!has_any(t->data + v->off, t->len - v->off, ".eE"))
			buf_add(t, ".0", 2);
		v->len = t->len - v->off;
		return 0;
	case COL_BOOLEAN:
		if (n == 4 && memcmp(s, "true", 4) == 0)
			v->i = 1;
		else if (n == 5 && memcmp(s, "false", 5) == 0)
			v->i = 0;
		else
			return reject(r, c, jv, "a boolean (true or false)");
		v->kind = VAL_BOOL;
		return 0;
	case COL_TIMESTAMP:
		if (jv->kind == JV_NUMBER ? parse_int(s, n, &v->i) < 0 :
		    jv->kind != JV_STRING || rfc3339_ms(s, n, &v->i) < 0)
			return reject(r, c, jv, "a timestamp (epoch "
			    "milliseconds or RFC 3339)");
		if (v->i < 0 || v->i > MAX_TIME_MS)
			return reject(r, c, jv, "a timestamp from 1970 to "
			    "9999");
		v->kind = VAL_TIME;
		return 0;
	}
	return 0;
}

/*
 * Whether the payload is a JSON object or array, looked at once a row
 * (json: -1 not yet, 0 no, 1 yes, 2 yes and its members indexed in
 * r->top, done at once when paths are wanted).
 */
static int
payload_json(struct row *r, const struct schema *s, const struct msg *m,
    int *json, int index)
{
	if (*json < 0 || (index && *json == 1)) {
		if (index || s->paths > 0)
			*json = json_valid_index(m->body, m->len, &r->top) ?
			    2 : 0;
		else
			*json = json_is_container(m->body, m->len);
	}
	return *json;
}

/* The payload as jsonl has it: its encoding and its text. */
static void
payload_cols(struct row *r, const struct schema *s, const struct msg *m,
    int *state, struct value *enc, struct value *pay)
{
	const char *e;
	int json;

	if (m->null) {
		if (enc != NULL)
			enc->kind = VAL_STRING;
		e = "null";
		goto named;
	}
	if (pay != NULL)
		text_begin(r, pay, VAL_STRING);
	json = payload_json(r, s, m, state, 0) != 0;
	/* a container is valid UTF-8 without NUL: one pass for most */
	if (json || utf8_valid_nonul(m->body, m->len)) {
		e = "string";
		if (json) {
			e = "json";	/* embedded as it is, as in jsonl */
			if (pay != NULL)
				pay->kind = VAL_JSON;
		}
		if (pay != NULL) {
			buf_add(&r->text, m->body, m->len);
			pay->utf8 = 1;
		}
	} else {
		e = "base64";
		if (pay != NULL)
			base64_add(&r->text, m->body, m->len);
	}
	if (pay != NULL)
		text_end(r, pay);
named:
	if (enc != NULL) {
		text_begin(r, enc, VAL_STRING);
		enc->utf8 = 1;
		buf_addstr(&r->text, e);
		text_end(r, enc);
	}
}

/* A metadata column's value. */
static void
meta_value(struct row *r, const struct column *c, const struct msg *m,
    struct value *v, struct buf *scratch)
{
	switch (c->src) {
	case SRC_MESSAGE_ID:
		/* it passed msgid_parse: digits, ':' and '-' */
		text_begin(r, v, VAL_STRING);
		v->utf8 = 1;
		buf_add(&r->text, m->id->val, m->id->vallen);
		break;
	case SRC_TOPIC:
		text_begin(r, v, VAL_STRING);
		record_decode(&r->text, m->topic->val, m->topic->vallen);
		break;
	case SRC_KEY:
		if (m->key == NULL)
			return;
		text_begin(r, v, VAL_STRING);
		record_decode(&r->text, m->key->val, m->key->vallen);
		break;
	case SRC_PROPERTIES:
		text_begin(r, v, VAL_JSON);
		record_add_properties(&r->text, m->f, scratch);
		break;
	case SRC_PARTITION:
		v->kind = VAL_INT;
		v->i = m->mid.partition;
		return;
	case SRC_PUBLISH_TIME:
		v->kind = VAL_TIME;
		v->i = (int64_t)m->pt;
		return;
	case SRC_EVENT_TIME:
		if (m->has_et) {
			v->kind = VAL_TIME;
			v->i = (int64_t)m->et;
		}
		return;
	case SRC_REDELIVERY_COUNT:
		v->kind = VAL_INT;
		v->i = (int64_t)m->rc;
		return;
	default:
		return;
	}
	text_end(r, v);
}

/*
 * The column type of a member's value (an object or array COL_ANY, a
 * number parse_double refuses its text), or -1 for null.
 */
static int
member_type(const struct json_val *jv)
{
	int64_t i;
	double d;

	switch (jv->kind) {
	case JV_NUMBER:
		if (parse_int(jv->p, jv->n, &i) == 0)
			return COL_INT64;
		return parse_double(jv->p, jv->n, &d) == 0 ? COL_DOUBLE :
		    COL_STRING;
	case JV_TRUE:
	case JV_FALSE:
		return COL_BOOLEAN;
	case JV_STRING:
		return COL_STRING;
	case JV_OBJECT:
	case JV_ARRAY:
		return COL_ANY;
	default:
		return -1;
	}
}

/* Whether a column of type c holds a value of type t as it is. */
static int
fits(enum col_type c, enum col_type t)
{
	return c == t || c == COL_STRING || (c == COL_DOUBLE && t == COL_INT64);
}

/* The type of a column of type c once it holds a value of type t. */
static enum col_type
widened(enum col_type c, enum col_type t)
{
	if (fits(c, t))
		return c;
	return c == COL_INT64 && t == COL_DOUBLE ? COL_DOUBLE : COL_STRING;
}

/* The column of the member named k (n bytes), or s->n; hint first. */
static size_t
member_col(const struct schema *s, const char *k, size_t n, size_t hint)
{
	size_t i;

	if (hint < s->n && s->col[hint].src == SRC_MEMBER &&
	    s->col[hint].pathlen == n && memcmp(s->col[hint].path, k, n) == 0)
		return hint;
	for (i = 0; i < s->n; i++)
		if (s->col[i].src == SRC_MEMBER && s->col[i].pathlen == n &&
		    memcmp(s->col[i].path, k, n) == 0)
			return i;
	return s->n;
}

/* A new column for member k (n bytes) of type t; 0, or -1 with r->why. */
static int
member_add(struct row *r, struct schema *s, const char *k, size_t n, int t)
{
	char *name;
	size_t i;

	if (s->paths == INFER_MAX) {
		snprintf(r->why, sizeof(r->why), "member %.*s would be "
		    "inferred column %d (--fields auto makes at most %d)",
		    (int)(n > 80 ? 80 : n), k, INFER_MAX + 1, INFER_MAX);
		return -1;
	}
	name = path_name(k, n, s->sep);
	for (i = 0; i < s->n; i++)
		if (strcmp(s->col[i].name, name) == 0) {
			snprintf(r->why, sizeof(r->why), "member %.*s: the "
			    "schema has a column %.80s already (rename the "
			    "metadata column: --meta)", (int)(n > 80 ? 80 : n),
			    k, name);
			free(name);
			return -1;
		}
	add_col(s, name, SRC_MEMBER, (enum col_type)t, xstrndup(k, n));
	s->paths++;
	return 0;
}

/*
 * The name of indexed member i, decoded into key only if it has an
 * escape; its length in *n.
 */
static const char *
member_name(const struct json_top *t, size_t i, struct buf *key, size_t *n)
{
	const char *k = t->m[i].k + 1;

	*n = t->m[i].kn - 2;
	if (memchr(k, '\\', *n) == NULL)
		return k;
	buf_reset(key);
	(void)json_decode_string(key, t->m[i].k, t->m[i].kn);
	*n = key->len;
	return key->data;
}

/*
 * The indexed payload's members against s: w NULL, their values into the
 * row, 1 if one does not fit (no column yet, or a type its column does
 * not hold); else w (s itself) widened so that all fit, -1 with r->why
 * if it cannot be.  A member named twice gives its first non-null value.
 */
static int
walk_members(struct row *r, const struct schema *s, struct schema *w,
    struct buf *key)
{
	const struct json_top *t = &r->top;
	struct json_val jv;
	size_t i, j, kn, hint = s->n - s->paths;
	const char *k;
	int vt;

	for (i = 0; i < t->count; i++, hint++) {
		json_top_value(t, i, &jv);
		if ((vt = member_type(&jv)) < 0)
			continue;	/* null: a null, no column */
		k = member_name(t, i, key, &kn);
		if (kn == 0 || memchr(k, 0, kn) != NULL) {
			snprintf(r->why, sizeof(r->why), "a member name is "
			    "empty or holds \\u0000 (--fields auto names "
			    "columns by members)");
			return -1;
		}
		j = member_col(s, k, kn, hint);
		if (w != NULL) {
			if (j < w->n)
				w->col[j].type = widened(w->col[j].type, vt);
			else if (member_add(r, w, k, kn, vt) < 0)
				return -1;
			continue;
		}
		if (j == s->n || !fits(s->col[j].type, vt))
			return 1;
		if (r->v[j].kind == VAL_NULL &&
		    cast(r, &s->col[j], &jv, &r->v[j]) < 0)
			return -1;
	}
	return 0;
}

/* The members of an object payload into the row (s->infer); row_make. */
static int
row_members(struct row *r, const struct schema *s, const struct msg *m,
    struct buf *scratch)
{
	const char *p = m->body, *end = p + m->len;
	int rc = 0;

	if (!m->null) {
		while (p < end && strchr(" \t\r\n", *p) != NULL)
			p++;
		if (p == end || *p != '{' ||
		    !json_valid_index(m->body, m->len, &r->top)) {
			snprintf(r->why, sizeof(r->why), "payload is not a "
			    "JSON object (--fields auto)");
			return -1;
		}
		if (r->top.over) {
			snprintf(r->why, sizeof(r->why), "payload has more "
			    "than %d members (--fields auto makes at most %d "
			    "columns)", INFER_MAX, INFER_MAX);
			return -1;
		}
		rc = walk_members(r, s, NULL, scratch);
	}
	if (rc == 0 && s->n == 0) {
		snprintf(r->why, sizeof(r->why), "no column: no metadata "
		    "(--meta none) and no non-null member");
		return -1;
	}
	return rc;
}

int
schema_widen(struct schema *s, struct row *r, struct buf *scratch)
{
	return walk_members(r, s, s, scratch);
}

int
row_make(struct row *r, const struct schema *s, const struct msg *m,
    struct buf *scratch)
{
	struct json_val jv;
	struct value *v;
	size_t i;
	int json = -1;

	if (s->n > r->cap) {
		r->v = xreallocarray(r->v, s->n, sizeof(*r->v));
		r->cap = s->n;
	}
	r->n = s->n;
	buf_reset(&r->text);
	r->why[0] = '\0';
	for (i = 0; i < s->n; i++) {
		v = &r->v[i];
		memset(v, 0, sizeof(*v));
		switch (s->col[i].src) {
		case SRC_PAYLOAD_ENCODING:
			payload_cols(r, s, m, &json, v, NULL);
			continue;
		case SRC_PAYLOAD:
			payload_cols(r, s, m, &json, NULL, v);
			continue;
		case SRC_PATH:
			break;
		case SRC_MEMBER:
			continue;	/* row_members */
		default:
			meta_value(r, &s->col[i], m, v, scratch);
			continue;
		}
		if (m->null)
			continue;	/* a tombstone: every field null */
		if (!payload_json(r, s, m, &json, 1)) {
			snprintf(r->why, sizeof(r->why), "payload is not a "
			    "JSON object or array");
			return -1;
		}
		(void)json_top_get(&r->top, s->col[i].path, s->col[i].pathlen,
		    &jv);
		if (cast(r, &s->col[i], &jv, v) < 0)
			return -1;
	}
	if (s->infer)
		return row_members(r, s, m, scratch);
	return 0;
}

/*
 * A time as RFC 3339 text.  The records of a batch mostly share their
 * publish time (a Pulsar batch's messages have one), so the texts of the
 * last two times (publish and event time columns) are kept and copied.
 */
static void
add_time(struct buf *out, uint64_t ms)
{
	static _Thread_local struct {
		uint64_t	ms;
		size_t		len;		/* 0: none yet */
		char		text[32];	/* 24 for years to 9999 */
	} last[2];
	static _Thread_local unsigned next;
	size_t start = out->len, i;

	for (i = 0; i < 2; i++)
		if (last[i].len > 0 && last[i].ms == ms) {
			buf_add(out, last[i].text, last[i].len);
			return;
		}
	utc_add_iso(out, ms);
	i = next++ & 1;
	last[i].ms = ms;
	last[i].len = out->len - start;
	if (last[i].len > sizeof(last[i].text))
		last[i].len = 0;
	else
		memcpy(last[i].text, out->data + start, last[i].len);
}

int
value_add_scalar(struct buf *out, const struct row *r, const struct value *v)
{
	switch (v->kind) {
	case VAL_INT:
		buf_addi64(out, v->i);
		return 0;
	case VAL_BOOL:
		buf_addstr(out, v->i ? "true" : "false");
		return 0;
	case VAL_TIME:
		add_time(out, (uint64_t)v->i);
		return 0;
	case VAL_DOUBLE:
		buf_add(out, ROW_TEXT(r, v), v->len);	/* as written */
		return 0;
	default:
		return -1;
	}
}
