/*
 * JSON lines records back into message frames; see lakerec.h.
 *
 * Not a general JSON parser: it reads the members transform writes, in
 * any order, skips members it does not know, and takes the payload the
 * way transform(1) promises it can be taken: a json payload is the
 * payload_size bytes before the record's final '}', verbatim; a string
 * payload decodes to its bytes; a base64 one is RFC 4648 with padding.
 * Every payload is checked against payload_size.
 *
 * CSV and Parquet rows (lakerec_from_cols) have no size: a json or
 * string payload is its column's text as it is, a base64 one decoded;
 * their properties column is the JSON object jsonl has, read by the same
 * code; their times are what transform writes, RFC 3339 UTC text with
 * milliseconds (CSV) or integers (Parquet).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "frame.h"
#include "lakerec.h"
#include "msgid.h"
#include "pct.h"
#include "utctime.h"

#define MAX_DEPTH	512	/* of a member skipped */

struct cur {
	const char	*p, *end;
	const char	*why;
};

enum enc { ENC_NONE, ENC_JSON, ENC_STRING, ENC_BASE64, ENC_NULL };

void
lakerec_init(struct lakerec *r)
{
	memset(r, 0, sizeof(*r));
	buf_init(&r->id, 0);
	buf_init(&r->topic, 0);
	buf_init(&r->key, 0);
	buf_init(&r->props, 0);
	buf_init(&r->payload, 0);
	buf_init(&r->tmp, 0);
}

void
lakerec_release(struct lakerec *r)
{
	buf_release(&r->id);
	buf_release(&r->topic);
	buf_release(&r->key);
	buf_release(&r->props);
	buf_release(&r->payload);
	buf_release(&r->tmp);
}

static int
fail(struct cur *c, const char *why)
{
	if (c->why == NULL)
		c->why = why;
	return -1;
}

static void
skip_ws(struct cur *c)
{
	while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' ||
	    *c->p == '\r' || *c->p == '\n'))
		c->p++;
}

static int
expect(struct cur *c, char ch, const char *why)
{
	skip_ws(c);
	if (c->p >= c->end || *c->p != ch)
		return fail(c, why);
	c->p++;
	return 0;
}

static int
peek(struct cur *c)
{
	skip_ws(c);
	return c->p < c->end ? (unsigned char)*c->p : -1;
}

static int
literal(struct cur *c, const char *s)
{
	size_t n = strlen(s);

	if ((size_t)(c->end - c->p) < n || memcmp(c->p, s, n) != 0)
		return 0;
	c->p += n;
	return 1;
}

static int
hex4(struct cur *c, unsigned *v)
{
	int i, d;

	*v = 0;
	if (c->end - c->p < 4)
		return fail(c, "bad \\u escape");
	for (i = 0; i < 4; i++) {
		if ((d = pct_hexval((unsigned char)c->p[i])) < 0)
			return fail(c, "bad \\u escape");
		*v = *v << 4 | (unsigned)d;
	}
	c->p += 4;
	return 0;
}

/* \uXXXX, and its low surrogate when it is a high one. */
static int
unicode_escape(struct cur *c, struct buf *out)
{
	unsigned hi, lo;

	if (hex4(c, &hi) < 0)
		return -1;
	if (hi >= 0xdc00 && hi <= 0xdfff)
		return fail(c, "lone surrogate in a string");
	if (hi >= 0xd800 && hi <= 0xdbff) {
		if (!literal(c, "\\u") || hex4(c, &lo) < 0 || lo < 0xdc00 ||
		    lo > 0xdfff)
			return fail(c, "lone surrogate in a string");
		hi = 0x10000 + ((hi - 0xd800) << 10) + (lo - 0xdc00);
	}
	if (out != NULL)		/* NULL: a string skipped */
		buf_addutf8(out, hi);
	return 0;
}

static int
escape(struct cur *c, struct buf *out)
{
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	const char *s;

	if (c->p >= c->end)
		return fail(c, "unterminated string");
	if (*c->p == 'u') {
		c->p++;
		return unicode_escape(c, out);
	}
	if ((s = memchr(from, *c->p, sizeof(from) - 1)) == NULL)
		return fail(c, "bad escape in a string");
	if (out != NULL)
		buf_addch(out, to[s - from]);
	c->p++;
	return 0;
}

/* A JSON string, its bytes appended to out (NULL: skipped). */
static int
string(struct cur *c, struct buf *out)
{
	const char *run;

	if (expect(c, '"', "a string expected") < 0)
		return -1;
	for (;;) {
		run = c->p;
		while (c->p < c->end && *c->p != '"' && *c->p != '\\' &&
		    (unsigned char)*c->p >= 0x20)
			c->p++;
		if (out != NULL)
			buf_add(out, run, (size_t)(c->p - run));
		if (c->p >= c->end)
			return fail(c, "unterminated string");
		if (*c->p == '"') {
			c->p++;
			return 0;
		}
		if ((unsigned char)*c->p < 0x20)
			return fail(c, "control byte in a string");
		c->p++;
		if (escape(c, out) < 0)
			return -1;
	}
}

/* An unsigned integer (no sign, fraction or exponent). */
static int
u64(struct cur *c, uint64_t *v)
{
	uint64_t x = 0;
	unsigned d;
	int n = 0;

	skip_ws(c);
	while (c->p < c->end && (d = (unsigned)(*c->p - '0')) <= 9) {
		if (x > (UINT64_MAX - d) / 10)
			return fail(c, "integer out of range");
		x = x * 10 + d;
		c->p++;
		n++;
	}
	if (n == 0)
		return fail(c, "an unsigned integer expected");
	*v = x;
	return 0;
}

/* A u64 or null: 1, 0 for null. */
static int
u64_or_null(struct cur *c, uint64_t *v)
{
	skip_ws(c);
	if (literal(c, "null"))
		return 0;
	return u64(c, v) < 0 ? -1 : 1;
}

/* Any value, skipped: brackets counted, strings read as strings. */
static int
skip_value(struct cur *c)
{
	static const char scalar[] = "-+.0123456789eEtrufalsn";
	int depth = 0, ch;

	do {
		ch = peek(c);
		if (ch == '"') {
			if (string(c, NULL) < 0)
				return -1;
		} else if (ch == '{' || ch == '[') {
			if (++depth > MAX_DEPTH)
				return fail(c, "nesting too deep");
			c->p++;
		} else if ((ch == '}' || ch == ']') && depth > 0) {
			depth--;
			c->p++;
		} else if ((ch == ',' || ch == ':') && depth > 0)
			c->p++;
		else if (ch > 0 && memchr(scalar, ch, sizeof(scalar) - 1)) {
			while (c->p < c->end && memchr(scalar, *c->p,
			    sizeof(scalar) - 1))
				c->p++;
		} else
			return fail(c, "a value expected");
	} while (depth > 0);
	return 0;
}

/* "properties": {"name": "value", ...} into r->props, encoded. */
static int
properties(struct cur *c, struct lakerec *r)
{
	buf_reset(&r->props);
	if (expect(c, '{', "properties: an object expected") < 0)
		return -1;
	if (peek(c) == '}') {
		c->p++;
		return 0;
	}
	do {
		buf_reset(&r->tmp);
		if (string(c, &r->tmp) < 0 ||
		    expect(c, ':', "':' expected") < 0)
			return -1;
		buf_add(&r->props, " p.", 3);
		pct_encode_uri(&r->props, r->tmp.data, r->tmp.len, 0);
		buf_addch(&r->props, '=');
		buf_reset(&r->tmp);
		if (peek(c) != '"')
			return fail(c, "properties: string values expected");
		if (string(c, &r->tmp) < 0)
			return -1;
		pct_encode_value(&r->props, r->tmp.data, r->tmp.len);
	} while (peek(c) == ',' && c->p++);
	return expect(c, '}', "properties: '}' expected");
}

static int
b64val(int ch)
{
	if (ch >= 'A' && ch <= 'Z')
		return ch - 'A';
	if (ch >= 'a' && ch <= 'z')
		return ch - 'a' + 26;
	if (ch >= '0' && ch <= '9')
		return ch - '0' + 52;
	if (ch == '+')
		return 62;
	if (ch == '/')
		return 63;
	return -1;
}

/* Standard base64 with padding, decoded into out; -1 if it is not. */
static int
base64_decode(struct buf *out, const char *s, size_t n)
{
	size_t i, j, pad;
	unsigned v;
	int d;

	if (n % 4 != 0)
		return -1;
	for (i = 0; i < n; i += 4) {
		v = 0;
		pad = 0;
		for (j = 0; j < 4; j++) {
			if (s[i + j] == '=' && i + 4 == n && j >= 2 &&
			    (j == 3 || s[i + 3] == '=')) {
				pad++;
				v <<= 6;
				continue;
			}
			if (pad || (d = b64val((unsigned char)s[i + j])) < 0)
				return -1;
			v = v << 6 | (unsigned)d;
		}
		buf_addch(out, (int)(v >> 16 & 0xff));
		if (pad < 2)
			buf_addch(out, (int)(v >> 8 & 0xff));
		if (pad < 1)
			buf_addch(out, (int)(v & 0xff));
	}
	return 0;
}

static int
encoding(struct cur *c, struct lakerec *r, enum enc *e)
{
	static const char *names[] = { "json", "string", "base64", "null" };
	size_t i;

	buf_reset(&r->tmp);
	if (string(c, &r->tmp) < 0)
		return -1;
	for (i = 0; i < 4; i++)
		if (strcmp(r->tmp.data, names[i]) == 0) {
			*e = (enum enc)(ENC_JSON + i);
			return 0;
		}
	return fail(c, "unknown payload_encoding");
}

/*
 * The payload, by its encoding (a member before it).  A json payload is
 * taken as transform promises: the size bytes before the final '}'.
 */
static int
payload(struct cur *c, struct lakerec *r, enum enc e, uint64_t size,
    int has_size)
{
	const char *s;

	skip_ws(c);
	buf_reset(&r->payload);
	switch (e) {
	case ENC_NULL:
		if (!literal(c, "null"))
			return fail(c, "payload: null expected");
		r->null = 1;
		r->body = "";
		r->len = 0;
		return 0;
	case ENC_JSON:
		if (!has_size)
			break;
		if (size > (uint64_t)(c->end - c->p) ||
		    c->end - c->p - (ptrdiff_t)size != 1 ||
		    c->end[-1] != '}')
			return fail(c, "payload: not the payload_size bytes "
			    "before the final '}'");
		r->body = c->p;
		r->len = (size_t)size;
		c->p += size;
		return 0;
	case ENC_STRING:
		if (string(c, &r->payload) < 0)
			return -1;
		r->body = r->payload.data;
		r->len = r->payload.len;
		return 0;
	case ENC_BASE64:
		s = c->p;
		if (string(c, NULL) < 0)
			return -1;
		if (base64_decode(&r->payload, s + 1,
		    (size_t)(c->p - s) - 2) < 0)
			return fail(c, "payload: bad base64");
		r->body = r->payload.data;
		r->len = r->payload.len;
		return 0;
	case ENC_NONE:
		break;
	}
	return fail(c, "payload before payload_encoding and payload_size");
}

/* The value of member name; -1 on an error. */
static int
member(struct cur *c, struct lakerec *r, const char *name, enum enc *e,
    uint64_t *size, int *has)
{
	int rc;

	if (strcmp(name, "message_id") == 0) {
		buf_reset(&r->id);
		if (string(c, &r->id) < 0 || msgid_parse(&r->mid, r->id.data,
		    r->id.len) < 0)
			return fail(c, "message_id: not ledger:entry:"
			    "partition:batch");
		*has |= 1;
	} else if (strcmp(name, "topic") == 0) {
		buf_reset(&r->topic);
		if (string(c, &r->topic) < 0)
			return -1;
		if (r->topic.len == 0)
			return fail(c, "topic: empty");
		*has |= 2;
	} else if (strcmp(name, "publish_time_ms") == 0) {
		if (u64(c, &r->pt) < 0)
			return -1;
		*has |= 4;
	} else if (strcmp(name, "event_time_ms") == 0) {
		if ((rc = u64_or_null(c, &r->et)) < 0)
			return -1;
		r->has_et = rc;
	} else if (strcmp(name, "key") == 0) {
		buf_reset(&r->key);
		if ((r->has_key = peek(c) == '"'))
			return string(c, &r->key);
		if (!literal(c, "null"))
			return fail(c, "key: a string or null expected");
	} else if (strcmp(name, "properties") == 0)
		return properties(c, r);
	else if (strcmp(name, "redelivery_count") == 0)
		return u64(c, &r->rc);
	else if (strcmp(name, "payload_encoding") == 0)
		return encoding(c, r, e);
	else if (strcmp(name, "payload_size") == 0) {
		if (u64(c, size) < 0)
			return -1;
		*has |= 8;
	} else if (strcmp(name, "payload") == 0) {
		if (payload(c, r, *e, *size, *has & 8) < 0)
			return -1;
		*has |= 16;
	} else
		return skip_value(c);
	return 0;
}

static int
members(struct cur *c, struct lakerec *r)
{
	enum enc e = ENC_NONE;
	uint64_t size = 0;
	char name[32];
	int has = 0;

	if (expect(c, '{', "not a JSON object") < 0)
		return -1;
	do {
		buf_reset(&r->tmp);
		if (string(c, &r->tmp) < 0 ||
		    expect(c, ':', "':' expected") < 0)
			return -1;
		/* the name is in tmp, which member() reuses: copy it */
		strlcpy(name, r->tmp.len < sizeof(name) ? r->tmp.data : "",
		    sizeof(name));
		if (member(c, r, name, &e, &size, &has) < 0)
			return -1;
	} while (peek(c) == ',' && c->p++);
	if (expect(c, '}', "'}' expected") < 0)
		return -1;
	skip_ws(c);
	if (c->p != c->end)
		return fail(c, "bytes after the record");
	if ((has & 1) == 0)
		return fail(c, "no message_id");
	if ((has & 2) == 0)
		return fail(c, "no topic");
	if ((has & 4) == 0)
		return fail(c, "no publish_time_ms");
	if ((has & 16) == 0)
		return fail(c, "no payload");
	if (e != ENC_NULL && ((has & 8) == 0 || size != r->len))
		return fail(c, "payload: not payload_size bytes");
	return 0;
}

int
lakerec_parse(struct lakerec *r, const char *line, size_t n, const char **why)
{
	struct cur c = { line, line + n, NULL };

	r->has_et = r->has_key = r->null = 0;
	r->rc = 0;
	r->body = "";
	r->len = 0;
	buf_reset(&r->props);
	if (members(&c, r) < 0) {
		*why = c.why;
		return -1;
	}
	return 0;
}

void
lakerec_frame(struct buf *out, const struct lakerec *r, uint64_t seq)
{
	frame_begin(out, 'M', r->len);
	frame_add_u64(out, "seq", seq);
	/* it passed msgid_parse: digits, ':' and '-' need no encoding */
	buf_add(out, " id=", 4);
	buf_add(out, r->id.data, r->id.len);
	frame_add(out, "topic", r->topic.data, r->topic.len);
	frame_add_u64(out, "pt", r->pt);
	if (r->has_et)
		frame_add_u64(out, "et", r->et);
	if (r->has_key)
		frame_add(out, "key", r->key.data, r->key.len);
	if (r->rc)
		frame_add_u64(out, "rc", r->rc);
	if (r->null)
		buf_add(out, " null=1", 7);
	buf_add(out, r->props.data, r->props.len);
	frame_finish(out, r->body, r->len);
}

/* ---- CSV and Parquet rows ---- */

static const char *const lakecol_names[LC_N] = {
	"message_id", "topic", "key", "publish_time", "event_time",
	"properties", "redelivery_count", "payload", "payload_encoding"
};

int
lakecol_find(const char *name, size_t n)
{
	int c;

	for (c = 0; c < LC_N; c++)
		if (strlen(lakecol_names[c]) == n &&
		    memcmp(lakecol_names[c], name, n) == 0)
			return c;
	return -1;
}

const char *
lakecol_missing(const int col[LC_N])
{
	static char why[96];
	int c;

	for (c = 0; c < LC_N; c++)
		if (col[c] < 0) {
			snprintf(why, sizeof(why), "no %s column (written "
			    "with %s?)", lakecol_names[c], c >= LC_PAYLOAD ?
			    "--fields" : "--meta");
			return why;
		}
	return NULL;
}

/* A time column: 1 a time, 0 null, -1 neither. */
static int
col_time(const struct lakeval *v, uint64_t *ms)
{
	int64_t t;

	switch (v->kind) {
	case LV_NULL:
		return 0;
	case LV_INT:
		if (v->i < 0)
			return -1;
		*ms = (uint64_t)v->i;
		return 1;
	default:
		if (rfc3339_ms(v->s, v->n, &t) < 0 || t < 0)
			return -1;
		*ms = (uint64_t)t;
		return 1;
	}
}

static int
col_u64(const struct lakeval *v, uint64_t *u)
{
	struct cur c;

	if (v->kind == LV_INT) {
		if (v->i < 0)
			return -1;
		*u = (uint64_t)v->i;
		return 0;
	}
	if (v->kind != LV_TEXT)
		return -1;
	c.p = v->s;
	c.end = v->s + v->n;
	c.why = NULL;
	return u64(&c, u) < 0 || c.p != c.end ? -1 : 0;
}

static int
col_props(struct lakerec *r, const struct lakeval *v, const char **why)
{
	struct cur c;

	if (v->kind != LV_TEXT) {
		*why = "properties: a JSON object expected";
		return -1;
	}
	c.p = v->s;
	c.end = v->s + v->n;
	c.why = NULL;
	if (properties(&c, r) < 0 || (skip_ws(&c), c.p != c.end)) {
		*why = c.why != NULL ? c.why : "properties: bytes after '}'";
		return -1;
	}
	return 0;
}

/* payload_encoding and payload: the payload's bytes. */
static int
col_payload(struct lakerec *r, const struct lakeval *e,
    const struct lakeval *p, const char **why)
{
	static const char *names[] = { "json", "string", "base64", "null" };
	size_t i;

	*why = "payload_encoding: not json, string, base64 or null";
	if (e->kind != LV_TEXT)
		return -1;
	for (i = 0; i < 4; i++)
		if (strlen(names[i]) == e->n && memcmp(names[i], e->s,
		    e->n) == 0)
			break;
	if (i == 4)
		return -1;
	if ((ENC_JSON + i == ENC_NULL) != (p->kind == LV_NULL) ||
	    p->kind == LV_INT) {
		*why = "payload: null exactly when payload_encoding is null";
		return -1;
	}
	buf_reset(&r->payload);
	switch (ENC_JSON + i) {
	case ENC_NULL:
		r->null = 1;
		break;
	case ENC_BASE64:
		if (base64_decode(&r->payload, p->s, p->n) < 0) {
			*why = "payload: bad base64";
			return -1;
		}
		r->body = r->payload.data;
		r->len = r->payload.len;
		break;
	default:
		r->body = p->s;
		r->len = p->n;
		break;
	}
	return 0;
}

int
lakerec_from_cols(struct lakerec *r, const struct lakeval v[LC_N],
    const char **why)
{
	int rc;

	r->has_et = r->has_key = r->null = 0;
	r->rc = 0;
	r->body = "";
	r->len = 0;
	buf_reset(&r->props);
	buf_reset(&r->id);
	buf_reset(&r->topic);
	buf_reset(&r->key);
	*why = "message_id: not ledger:entry:partition:batch";
	if (v[LC_MESSAGE_ID].kind != LV_TEXT || msgid_parse(&r->mid,
	    v[LC_MESSAGE_ID].s, v[LC_MESSAGE_ID].n) < 0)
		return -1;
	buf_add(&r->id, v[LC_MESSAGE_ID].s, v[LC_MESSAGE_ID].n);
	*why = "topic: empty";
	if (v[LC_TOPIC].kind != LV_TEXT || v[LC_TOPIC].n == 0)
		return -1;
	buf_add(&r->topic, v[LC_TOPIC].s, v[LC_TOPIC].n);
	*why = "key: a string or null expected";
	if (v[LC_KEY].kind == LV_INT)
		return -1;
	if ((r->has_key = v[LC_KEY].kind == LV_TEXT))
		buf_add(&r->key, v[LC_KEY].s, v[LC_KEY].n);
	*why = "publish_time: not a time";
	if (col_time(&v[LC_PUBLISH_TIME], &r->pt) <= 0)
		return -1;
	*why = "event_time: not a time or null";
	if ((rc = col_time(&v[LC_EVENT_TIME], &r->et)) < 0)
		return -1;
	r->has_et = rc;
	*why = "redelivery_count: an unsigned integer expected";
	if (col_u64(&v[LC_REDELIVERY_COUNT], &r->rc) < 0)
		return -1;
	if (col_props(r, &v[LC_PROPERTIES], why) < 0)
		return -1;
	return col_payload(r, &v[LC_PAYLOAD_ENCODING], &v[LC_PAYLOAD], why);
}
