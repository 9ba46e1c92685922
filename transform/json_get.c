/*
 * The JSON path extractor (json_get, json_top_*, for --fields), and
 * json_decode_string and json_add_compact over the same skipping; see
 * json.h.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "buf.h"
#include "json.h"
#include "json_lex.h"

/*
 * The JSON path extractor.  Its input has passed json_valid, so skipping
 * needs no checks: a value ends where its brackets balance.
 */
static const unsigned char *
skip_ws(const unsigned char *p, const unsigned char *end)
{
	while (p < end && is_ws(*p))
		p++;
	return p;
}

/* The high bit of each byte of w that equals c (exact, no borrows). */
static inline uint64_t
swar_eq(uint64_t w, unsigned char c)
{
	uint64_t x = w ^ (ONES * c);

	return ~(((x & ~HIGH) + ~HIGH) | x) & HIGH;
}

/*
 * The end of the (valid) string literal at p, after its closing quote:
 * the first quote that no backslash escapes, looked for 8 bytes at a
 * time.
 */
static const unsigned char *
string_end(const unsigned char *p, const unsigned char *end)
{
	uint64_t w;

	for (p++; p < end; p += 2) {	/* past a backslash and its byte */
		for (; end - p >= 8; p += 8) {
			memcpy(&w, p, 8);
			if ((swar_eq(w, '"') | swar_eq(w, '\\')) != 0)
				break;
		}
		while (p < end && *p != '"' && *p != '\\')
			p++;
		if (p == end || *p == '"')
			break;
	}
	return p < end ? p + 1 : end;
}

/* The end of the (valid) value at p. */
static const unsigned char *
skip_value(const unsigned char *p, const unsigned char *end)
{
	size_t depth = 0;

	p = skip_ws(p, end);
	if (p == end)
		return p;
	if (*p == '"')
		return string_end(p, end);
	if (*p != '{' && *p != '[') {
		while (p < end && token_class[*p] == C_SCALAR && !is_ws(*p))
			p++;
		return p;
	}
	while (p < end)
		switch (*p) {
		case '"':
			p = string_end(p, end);
			break;
		case '{':
		case '[':
			depth++;
			p++;
			break;
		case '}':
		case ']':
			p++;
			if (--depth == 0)
				return p;
			break;
		default:
			p++;
			break;
		}
	return p;
}

/*
 * key_is past its first test: the literal [p, p + kn + 2) and seg (n
 * bytes) begin alike.  An escape makes the decoded key shorter than its
 * literal, so a key of the literal's length is the literal, and one
 * shorter needs decoding only if the literal has a backslash.
 */
static int
key_is_more(const unsigned char *p, size_t kn, const char *seg, size_t n)
{
	struct buf k = BUF_INIT;
	size_t i;
	int same;

	if (kn == n) {
		/* a backslash in both: the key decodes to something else */
		for (i = 0; i < n; i++)
			if (p[1 + i] != (unsigned char)seg[i] || seg[i] == '\\')
				return 0;
		return 1;
	}
	if (kn < n || memchr(p + 1, '\\', kn) == NULL)
		return 0;
	(void)json_decode_string(&k, (const char *)p, kn + 2);
	same = k.len == n && memcmp(k.data, seg, n) == 0;
	buf_release(&k);
	return same;
}

/*
 * Nonzero if the string literal [p, q) (quotes included) is seg.  Most
 * keys differ at their first byte, which is p[1] unless that is a
 * backslash: that test is inline.
 */
static inline int
key_is(const unsigned char *p, const unsigned char *q, const char *seg,
    size_t n)
{
	size_t kn = (size_t)(q - p) - 2;

	if (p[1] != '\\' && (kn == 0 || n == 0 ||
	    p[1] != (unsigned char)seg[0]))
		return kn == 0 && n == 0;
	return key_is_more(p, kn, seg, n);
}

/* The member seg of the object at p, or NULL. */
static const unsigned char *
member(const unsigned char *p, const unsigned char *end, const char *seg,
    size_t n)
{
	const unsigned char *k;
	int match;

	p = skip_ws(p + 1, end);
	while (p < end && *p == '"') {
		k = p;
		p = string_end(p, end);
		match = key_is(k, p, seg, n);
		p = skip_ws(skip_ws(p, end) + 1, end);	/* the ':' */
		if (match)
			return p;
		p = skip_ws(skip_value(p, end), end);
		if (p == end || *p != ',')
			return NULL;
		p = skip_ws(p + 1, end);
	}
	return NULL;
}

/* Element i of the array at p, or NULL. */
static const unsigned char *
element(const unsigned char *p, const unsigned char *end, unsigned long i)
{
	p = skip_ws(p + 1, end);
	if (p == end || *p == ']')
		return NULL;
	while (i-- > 0) {
		p = skip_ws(skip_value(p, end), end);
		if (p == end || *p != ',')
			return NULL;
		p = skip_ws(p + 1, end);
	}
	return p;
}

/* A path segment that is an array index: digits only, no leading 0. */
static int
seg_index(const char *s, size_t n, unsigned long *i)
{
	size_t k;

	if (n == 0 || n > 9 || (n > 1 && s[0] == '0'))
		return 0;
	*i = 0;
	for (k = 0; k < n; k++) {
		if (!is_digit((unsigned char)s[k]))
			return 0;
		*i = *i * 10 + (unsigned long)(s[k] - '0');
	}
	return 1;
}

/* The value [p, p + n) into v; 1. */
static int
val_at(struct json_val *v, const unsigned char *p, size_t n)
{
	switch (*p) {
	case '"': v->kind = JV_STRING; break;
	case '{': v->kind = JV_OBJECT; break;
	case '[': v->kind = JV_ARRAY; break;
	case 't': v->kind = JV_TRUE; break;
	case 'f': v->kind = JV_FALSE; break;
	case 'n': v->kind = JV_NULL; break;
	default: v->kind = JV_NUMBER; break;
	}
	v->p = (const char *)p;
	v->n = n;
	return 1;
}

/*
 * Follow path from the value at p; the value found into v.  start: the
 * first segment already followed (from the top-level index).
 */
static int
follow(const unsigned char *p, const unsigned char *end, const char *seg,
    const char *pend, struct json_val *v)
{
	const char *dot;
	unsigned long i;
	size_t sn;

	while (seg <= pend && p != NULL && p < end) {
		if ((dot = memchr(seg, '.', (size_t)(pend - seg))) == NULL)
			dot = pend;
		sn = (size_t)(dot - seg);
		if (*p == '{')
			p = member(p, end, seg, sn);
		else if (*p == '[' && seg_index(seg, sn, &i))
			p = element(p, end, i);
		else
			p = NULL;
		seg = dot + 1;
	}
	if (p == NULL || p >= end)
		return 0;
	return val_at(v, p, (size_t)(skip_value(p, end) - p));
}

static void
val_missing(struct json_val *v)
{
	v->kind = JV_MISSING;
	v->p = NULL;
	v->n = 0;
}

int
json_get(const char *str, size_t n, const char *path, size_t plen,
    struct json_val *v)
{
	const unsigned char *p = (const unsigned char *)str, *end = p + n;

	val_missing(v);
	return follow(skip_ws(p, end), end, path, path + plen, v);
}

void
json_top_index(struct json_top *t, const char *str, size_t n)
{
	const unsigned char *p = (const unsigned char *)str, *end = p + n, *k;

	t->doc = str;
	t->n = n;
	t->count = 0;
	t->usable = 0;
	p = skip_ws(p, end);
	if (p == end || *p != '{')
		return;
	p = skip_ws(p + 1, end);
	while (p < end && *p == '"') {
		if (t->count == JSON_TOP_MAX)
			return;		/* too many: json_get does it */
		k = p;
		p = string_end(p, end);
		t->m[t->count].k = (const char *)k;
		t->m[t->count].kn = (size_t)(p - k);
		p = skip_ws(skip_ws(p, end) + 1, end);	/* the ':' */
		t->m[t->count].v = (const char *)p;
		p = skip_value(p, end);
		t->m[t->count].vn = (size_t)(p - (const unsigned char *)
		    t->m[t->count].v);
		t->count++;
		p = skip_ws(p, end);
		if (p == end || *p != ',')
			break;
		p = skip_ws(p + 1, end);
	}
	t->usable = 1;
}

int
json_top_get(const struct json_top *t, const char *path, size_t plen,
    struct json_val *v)
{
	const unsigned char *k, *end = (const unsigned char *)t->doc + t->n;
	const char *dot, *pend = path + plen;
	size_t i, sn;

	if (!t->usable)
		return json_get(t->doc, t->n, path, plen, v);
	val_missing(v);
	if ((dot = memchr(path, '.', plen)) == NULL)
		dot = pend;
	sn = (size_t)(dot - path);
	for (i = 0; i < t->count; i++) {
		k = (const unsigned char *)t->m[i].k;
		if (!key_is(k, k + t->m[i].kn, path, sn))
			continue;
		if (dot == pend)
			return val_at(v, (const unsigned char *)t->m[i].v,
			    t->m[i].vn);
		return follow((const unsigned char *)t->m[i].v, end, dot + 1,
		    pend, v);
	}
	return 0;
}

void
json_top_value(const struct json_top *t, size_t i, struct json_val *v)
{
	(void)val_at(v, (const unsigned char *)t->m[i].v, t->m[i].vn);
}

int
json_decode_string(struct buf *b, const char *str, size_t n)
{
	const unsigned char *p = (const unsigned char *)str + 1;
	const unsigned char *end = (const unsigned char *)str + n - 1;
	const unsigned char *run;
	long u, lo;

	if (n < 2 || str[0] != '"' || str[n - 1] != '"')
		return -1;
	while (p < end) {
		for (run = p; p < end && *p != '\\'; p++)
			;
		buf_add(b, run, (size_t)(p - run));
		if (p == end)
			break;
		if (++p == end)
			return -1;
		switch (*p++) {
		case '"': buf_addch(b, '"'); break;
		case '\\': buf_addch(b, '\\'); break;
		case '/': buf_addch(b, '/'); break;
		case 'b': buf_addch(b, '\b'); break;
		case 'f': buf_addch(b, '\f'); break;
		case 'n': buf_addch(b, '\n'); break;
		case 'r': buf_addch(b, '\r'); break;
		case 't': buf_addch(b, '\t'); break;
		case 'u':
			if ((u = hex4(p, end)) < 0)
				return -1;
			p += 4;
			if (u >= 0xd800 && u <= 0xdbff) {
				if (end - p < 6 || p[0] != '\\' || p[1] != 'u' ||
				    (lo = hex4(p + 2, end)) < 0xdc00 ||
				    lo > 0xdfff)
					return -1;
				p += 6;
				u = 0x10000 + ((u - 0xd800) << 10) +
				    (lo - 0xdc00);
			} else if (u >= 0xdc00 && u <= 0xdfff)
				return -1;
			buf_addutf8(b, (uint32_t)u);
			break;
		default:
			return -1;
		}
	}
	return 0;
}

void
json_add_compact(struct buf *b, const char *str, size_t n)
{
	const unsigned char *p = (const unsigned char *)str, *end = p + n;
	const unsigned char *run;

	while (p < end) {
		if (is_ws(*p)) {
			p++;
			continue;
		}
		run = p;
		if (*p == '"')
			p = string_end(p, end);
		else
			while (p < end && !is_ws(*p) && *p != '"')
				p++;
		buf_add(b, run, (size_t)(p - run));
	}
}
