/*
 * oracle-json: transform's JSON validator as it was before the block
 * scanner (commit 0f14d0f), one token at a time, kept only as the
 * oracle of the differential fuzz target fuzz/fuzz-jsondiff.c: the new
 * validator must answer as this one for every input, and index the
 * same top-level members.  Not linked into any program.
 */
#include <stdint.h>
#include <string.h>

#include "pct.h"
#include "../transform/json.h"
#include "oracle-json.h"

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
oracle_is_container(const char *str, size_t n)
{
	return check_container(str, n, 0, NULL);
}

int
oracle_valid_index(const char *str, size_t n, struct json_top *t)
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
