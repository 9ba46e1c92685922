/* JSON validation, string escaping, UTF-8 checks, base64; see json.h. */
#include <stdint.h>
#include <string.h>

#include "buf.h"
#include "json.h"
#include "pct.h"

/*
 * ASCII bytes that stand for themselves inside a JSON string: everything
 * from space to DEL except '"' and '\'.  Bytes >= 0x80 are UTF-8 and
 * checked separately; controls are never plain.
 */
static const unsigned char plain[256] = {
	['\x20'] = 1, ['!'] = 1, ['#'] = 1, ['$'] = 1, ['%'] = 1, ['&'] = 1,
	['\''] = 1, ['('] = 1, [')'] = 1, ['*'] = 1, ['+'] = 1, [','] = 1,
	['-'] = 1, ['.'] = 1, ['/'] = 1, ['0'] = 1, ['1'] = 1, ['2'] = 1,
	['3'] = 1, ['4'] = 1, ['5'] = 1, ['6'] = 1, ['7'] = 1, ['8'] = 1,
	['9'] = 1, [':'] = 1, [';'] = 1, ['<'] = 1, ['='] = 1, ['>'] = 1,
	['?'] = 1, ['@'] = 1, ['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1,
	['E'] = 1, ['F'] = 1, ['G'] = 1, ['H'] = 1, ['I'] = 1, ['J'] = 1,
	['K'] = 1, ['L'] = 1, ['M'] = 1, ['N'] = 1, ['O'] = 1, ['P'] = 1,
	['Q'] = 1, ['R'] = 1, ['S'] = 1, ['T'] = 1, ['U'] = 1, ['V'] = 1,
	['W'] = 1, ['X'] = 1, ['Y'] = 1, ['Z'] = 1, ['['] = 1, [']'] = 1,
	['^'] = 1, ['_'] = 1, ['`'] = 1, ['a'] = 1, ['b'] = 1, ['c'] = 1,
	['d'] = 1, ['e'] = 1, ['f'] = 1, ['g'] = 1, ['h'] = 1, ['i'] = 1,
	['j'] = 1, ['k'] = 1, ['l'] = 1, ['m'] = 1, ['n'] = 1, ['o'] = 1,
	['p'] = 1, ['q'] = 1, ['r'] = 1, ['s'] = 1, ['t'] = 1, ['u'] = 1,
	['v'] = 1, ['w'] = 1, ['x'] = 1, ['y'] = 1, ['z'] = 1, ['{'] = 1,
	['|'] = 1, ['}'] = 1, ['~'] = 1, ['\x7f'] = 1,
};

/*
 * Nonzero if all 8 bytes at p are plain (see above), tested a word at a
 * time: a byte below 0x20, a '"', a '\\' or a high bit shows in the
 * 0x80 bits.  Strings are most of a JSON payload; this makes them cheap.
 */
static int
word_plain(const unsigned char *p)
{
	const uint64_t ones = 0x0101010101010101ULL, high = ones * 0x80;
	uint64_t w, lt, q, bs;

	memcpy(&w, p, 8);
	lt = (w - ones * 0x20) & ~w;
	q = w ^ (ones * '"');
	q = (q - ones) & ~q;
	bs = w ^ (ones * '\\');
	bs = (bs - ones) & ~bs;
	return ((lt | q | bs | w) & high) == 0;
}

size_t
utf8_seq_len(const unsigned char *s, size_t n)
{
	unsigned char c = s[0], lo = 0x80, hi = 0xbf;
	size_t len, i;

	if (c < 0x80)
		return 1;
	if (c < 0xc2)
		return 0;	/* continuation byte, or overlong C0/C1 */
	if (c < 0xe0)
		len = 2;
	else if (c < 0xf0) {
		len = 3;
		if (c == 0xe0)
			lo = 0xa0;	/* overlong */
		else if (c == 0xed)
			hi = 0x9f;	/* UTF-16 surrogates */
	} else if (c < 0xf5) {
		len = 4;
		if (c == 0xf0)
			lo = 0x90;	/* overlong */
		else if (c == 0xf4)
			hi = 0x8f;	/* beyond U+10FFFF */
	} else
		return 0;
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	for (i = 2; i < len; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	return len;
}

/* Nonzero if any byte of the 8 is zero or has its high bit set. */
static int
word_special(const unsigned char *p)
{
	uint64_t w;

	memcpy(&w, p, 8);
	/* != 0, not the mask itself: as an int it lost bytes 4 to 7 */
	return (((w - 0x0101010101010101ULL) | w) &
	    0x8080808080808080ULL) != 0;
}

int
utf8_valid_nonul(const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0, k;

	while (i < n) {
		if (n - i >= 8 && !word_special(s + i)) {
			i += 8;
			continue;
		}
		if (s[i] == 0 || (k = utf8_seq_len(s + i, n - i)) == 0)
			return 0;
		i += k;
	}
	return 1;
}

/* The 4 hex digits of a \u escape at p (end-p bytes left); -1 if bad. */
static long
hex4(const unsigned char *p, const unsigned char *end)
{
	long v = 0;
	int i, d;

	if (end - p < 4)
		return -1;
	for (i = 0; i < 4; i++) {
		if ((d = pct_hexval(p[i])) < 0)
			return -1;
		v = v * 16 + d;
	}
	return v;
}

/*
 * Skip a JSON string whose opening quote is at *pp; leave *pp after the
 * closing quote.  0 or -1.
 */
static int
skip_string(const unsigned char **pp, const unsigned char *end)
{
	const unsigned char *p = *pp + 1;
	size_t k;
	long u, lo;

	for (;;) {
		while (end - p >= 8 && word_plain(p))
			p += 8;
		while (p < end && plain[*p])
			p++;
		if (p == end)
			return -1;
		if (*p == '"')
			break;
		if (*p == '\\') {
			if (++p == end)
				return -1;
			if (*p == 'u') {
				if ((u = hex4(p + 1, end)) < 0)
					return -1;
				p += 5;
				if (u >= 0xdc00 && u <= 0xdfff)
					return -1;	/* lone low surrogate */
				if (u >= 0xd800 && u <= 0xdbff) {
					if (end - p < 6 || p[0] != '\\' ||
					    p[1] != 'u' ||
					    (lo = hex4(p + 2, end)) < 0xdc00 ||
					    lo > 0xdfff)
						return -1;
					p += 6;
				}
				continue;
			}
			if (strchr("\"\\/bfnrt", *p) == NULL || *p == '\0')
				return -1;
			p++;
			continue;
		}
		if (*p < 0x80)
			return -1;		/* a raw control byte */
		if ((k = utf8_seq_len(p, (size_t)(end - p))) == 0)
			return -1;
		p += k;
	}
	*pp = p + 1;
	return 0;
}

static int
is_ws(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static int
is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

/* Skip a JSON number at *pp (RFC 8259 grammar); 0 or -1. */
static int
skip_number(const unsigned char **pp, const unsigned char *end)
{
	const unsigned char *p = *pp;

	if (p < end && *p == '-')
		p++;
	if (p == end || !is_digit(*p))
		return -1;
	if (*p == '0')
		p++;
	else
		while (p < end && is_digit(*p))
			p++;
	if (p < end && *p == '.') {
		if (++p == end || !is_digit(*p))
			return -1;
		while (p < end && is_digit(*p))
			p++;
	}
	if (p < end && (*p == 'e' || *p == 'E')) {
		p++;
		if (p < end && (*p == '+' || *p == '-'))
			p++;
		if (p == end || !is_digit(*p))
			return -1;
		while (p < end && is_digit(*p))
			p++;
	}
	*pp = p;
	return 0;
}

static int
skip_literal(const unsigned char **pp, const unsigned char *end,
    const char *lit, size_t n)
{
	if ((size_t)(end - *pp) < n || memcmp(*pp, lit, n) != 0)
		return -1;
	*pp += n;
	return 0;
}

/* Scalar value at *pp: string, number, true, false, null. */
static int
skip_scalar(const unsigned char **pp, const unsigned char *end)
{
	switch (**pp) {
	case '"':
		return skip_string(pp, end);
	case 't':
		return skip_literal(pp, end, "true", 4);
	case 'f':
		return skip_literal(pp, end, "false", 5);
	case 'n':
		return skip_literal(pp, end, "null", 4);
	default:
		return skip_number(pp, end);
	}
}

/*
 * What the validator expects next.  The nesting is kept in stack[]
 * ('{' or '['), so deep input cannot overflow the C stack.
 */
enum want { W_VALUE, W_VALUE_OR_CLOSE, W_KEY, W_KEY_OR_CLOSE, W_COLON,
	W_COMMA_OR_CLOSE };

/* A top-level member's key [k, q) and, next, its value at v (json_top). */
static void
top_key(struct json_top *t, const unsigned char *k, const unsigned char *q)
{
	if (t->count == JSON_TOP_MAX) {
		t->over = 1;
		return;
	}
	t->m[t->count].k = (const char *)k;
	t->m[t->count].kn = (size_t)(q - k);
}

static void
top_value(struct json_top *t, const unsigned char *v)
{
	if (t->count < JSON_TOP_MAX)
		t->m[t->count++].v = (const char *)v;
}

/*
 * The validator of both json_is_container (strict: only space and tab
 * between tokens, nothing around the value) and json_valid (lenient: any
 * RFC 8259 whitespace, also around the value).
 */
static int
check_container(const char *str, size_t n, int lenient, struct json_top *t)
{
	const unsigned char *p = (const unsigned char *)str, *end = p + n, *k;
	unsigned char stack[JSON_MAX_DEPTH];
	size_t depth = 0;
	enum want want = W_VALUE;
	unsigned char c;

	if (lenient) {
		while (p < end && is_ws(*p))
			p++;
		while (end > p && is_ws(end[-1]))
			end--;
	}
	if (end - p < 2 || (p[0] != '{' && p[0] != '['))
		return 0;
	while (p < end) {
		c = *p;
		if (c == ' ' || c == '\t' ||
		    (lenient && (c == '\n' || c == '\r'))) {
			p++;
			continue;
		}
		switch (want) {
		case W_KEY_OR_CLOSE:
		case W_VALUE_OR_CLOSE:
			if (c == (want == W_KEY_OR_CLOSE ? '}' : ']'))
				goto close;
			if (want == W_KEY_OR_CLOSE)
				goto key;
			/* FALLTHROUGH */
		case W_VALUE:
			if (t != NULL && depth == 1 && stack[0] == '{')
				top_value(t, p);
			if (c == '{' || c == '[') {
				if (depth == JSON_MAX_DEPTH)
					return 0;
				stack[depth++] = c;
				want = c == '{' ? W_KEY_OR_CLOSE :
				    W_VALUE_OR_CLOSE;
				p++;
				continue;
			}
			if (skip_scalar(&p, end) < 0)
				return 0;
			want = W_COMMA_OR_CLOSE;
			continue;
		case W_KEY:
		key:
			k = p;
			if (c != '"' || skip_string(&p, end) < 0)
				return 0;
			if (t != NULL && depth == 1)
				top_key(t, k, p);
			want = W_COLON;
			continue;
		case W_COLON:
			if (c != ':')
				return 0;
			p++;
			want = W_VALUE;
			continue;
		case W_COMMA_OR_CLOSE:
			if (c == ',') {
				p++;
				want = stack[depth - 1] == '{' ? W_KEY :
				    W_VALUE;
				continue;
			}
			if (c != (stack[depth - 1] == '{' ? '}' : ']'))
				return 0;
		close:
			p++;
			if (--depth == 0)
				return p == end;	/* nothing may follow */
			want = W_COMMA_OR_CLOSE;
			continue;
		}
	}
	return 0;				/* ended inside a container */
}

int
json_is_container(const char *str, size_t n)
{
	return check_container(str, n, 0, NULL);
}

int
json_valid(const char *str, size_t n)
{
	return check_container(str, n, 1, NULL);
}

int
json_valid_index(const char *str, size_t n, struct json_top *t)
{
	int ok;

	t->doc = str;
	t->n = n;
	t->count = 0;
	t->over = 0;
	ok = check_container(str, n, 1, t);
	t->usable = ok && !t->over && t->count > 0;
	return ok;
}

/* Append "\u00XX" for a control byte. */
static void
add_u00(struct buf *b, unsigned char c)
{
	static const char hex[] = "0123456789abcdef";
	char e[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };

	buf_add(b, e, sizeof(e));
}

static void
add_escape(struct buf *b, unsigned char c)
{
	char e[2] = { '\\', 0 };

	switch (c) {
	case '"':  e[1] = '"'; break;
	case '\\': e[1] = '\\'; break;
	case '\b': e[1] = 'b'; break;
	case '\f': e[1] = 'f'; break;
	case '\n': e[1] = 'n'; break;
	case '\r': e[1] = 'r'; break;
	case '\t': e[1] = 't'; break;
	default:
		add_u00(b, c);
		return;
	}
	buf_add(b, e, 2);
}

int
json_add_string(struct buf *b, const char *str, size_t n, int strict)
{
	const unsigned char *s = (const unsigned char *)str, *end = s + n, *run;
	size_t start = b->len, k;

	buf_grow(b, n + 2);
	buf_addch(b, '"');
	while (s < end) {
		run = s;
		while (end - s >= 8 && word_plain(s))
			s += 8;
		while (s < end && plain[*s])
			s++;
		buf_add(b, run, (size_t)(s - run));
		if (s == end)
			break;
		if (*s >= 0x80) {
			if ((k = utf8_seq_len(s, (size_t)(end - s))) > 0) {
				buf_add(b, s, k);
				s += k;
				continue;
			}
			if (strict)
				goto invalid;
			buf_add(b, "\xef\xbf\xbd", 3);	/* U+FFFD */
			s++;
			continue;
		}
		if (*s == 0 && strict)
			goto invalid;
		add_escape(b, *s++);
	}
	buf_addch(b, '"');
	return 0;
invalid:
	buf_setlen(b, start);
	return -1;
}

void
base64_add(struct buf *b, const void *src, size_t n)
{
	static const char tab[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const unsigned char *s = src;
	size_t i, out = (n + 2) / 3 * 4;
	char *d;
	uint32_t v;

	buf_grow(b, out);
	d = b->data + b->len;
	for (i = 0; i + 3 <= n; i += 3) {
		v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8 | s[i + 2];
		*d++ = tab[v >> 18];
		*d++ = tab[(v >> 12) & 63];
		*d++ = tab[(v >> 6) & 63];
		*d++ = tab[v & 63];
	}
	if (i < n) {
		v = (uint32_t)s[i] << 16;
		if (i + 1 < n)
			v |= (uint32_t)s[i + 1] << 8;
		*d++ = tab[v >> 18];
		*d++ = tab[(v >> 12) & 63];
		*d++ = i + 1 < n ? tab[(v >> 6) & 63] : '=';
		*d++ = '=';
	}
	buf_setlen(b, b->len + out);
}

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

/* The end of the (valid) value at p. */
static const unsigned char *
skip_value(const unsigned char *p, const unsigned char *end)
{
	size_t depth = 0;

	for (;;) {
		p = skip_ws(p, end);
		if (p == end)
			return p;
		switch (*p) {
		case '"':
			(void)skip_string(&p, end);
			break;
		case '{':
		case '[':
			depth++;
			p++;
			continue;
		case '}':
		case ']':
			depth--;
			p++;
			break;
		case ',':
		case ':':
			p++;
			continue;
		default:
			while (p < end && !is_ws(*p) && *p != ',' && *p != '}' &&
			    *p != ']')
				p++;
			break;
		}
		if (depth == 0)
			return p;
	}
}

/* Nonzero if the string literal [p, q) (quotes included) is seg. */
static int
key_is(const unsigned char *p, const unsigned char *q, const char *seg,
    size_t n)
{
	struct buf k = BUF_INIT;
	int same;

	if (memchr(p, '\\', (size_t)(q - p)) == NULL)
		return (size_t)(q - p - 2) == n && memcmp(p + 1, seg, n) == 0;
	(void)json_decode_string(&k, (const char *)p, (size_t)(q - p));
	same = k.len == n && memcmp(k.data, seg, n) == 0;
	buf_release(&k);
	return same;
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
		(void)skip_string(&p, end);
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
	v->n = (size_t)(skip_value(p, end) - p);
	return 1;
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
		(void)skip_string(&p, end);
		t->m[t->count].k = (const char *)k;
		t->m[t->count].kn = (size_t)(p - k);
		p = skip_ws(skip_ws(p, end) + 1, end);	/* the ':' */
		t->m[t->count].v = (const char *)p;
		t->count++;
		p = skip_ws(skip_value(p, end), end);
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
		if (key_is(k, k + t->m[i].kn, path, sn))
			return follow((const unsigned char *)t->m[i].v, end,
			    dot + 1, pend, v);
	}
	return 0;
}

/* Append code point u as UTF-8. */
static void
add_utf8(struct buf *b, unsigned long u)
{
	if (u < 0x80)
		buf_addch(b, (int)u);
	else if (u < 0x800) {
		buf_addch(b, (int)(0xc0 | u >> 6));
		buf_addch(b, (int)(0x80 | (u & 0x3f)));
	} else if (u < 0x10000) {
		buf_addch(b, (int)(0xe0 | u >> 12));
		buf_addch(b, (int)(0x80 | ((u >> 6) & 0x3f)));
		buf_addch(b, (int)(0x80 | (u & 0x3f)));
	} else {
		buf_addch(b, (int)(0xf0 | u >> 18));
		buf_addch(b, (int)(0x80 | ((u >> 12) & 0x3f)));
		buf_addch(b, (int)(0x80 | ((u >> 6) & 0x3f)));
		buf_addch(b, (int)(0x80 | (u & 0x3f)));
	}
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
			add_utf8(b, (unsigned long)u);
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
			(void)skip_string(&p, end);
		else
			while (p < end && !is_ws(*p) && *p != '"')
				p++;
		buf_add(b, run, (size_t)(p - run));
	}
}
