/*
 * JSON text out: strings escaped (json_add_string), strict UTF-8 checks
 * and base64; see json.h.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#ifdef __x86_64__
#include <immintrin.h>
#endif

#include "buf.h"
#include "json.h"

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

/*
 * The length of the run of ASCII bytes other than NUL at s, in steps of
 * 32 (SSE2, which every x86-64 has), where most payloads are all of it.
 */
static size_t
ascii_run(const unsigned char *s, size_t n)
{
	size_t i = 0;
#ifdef __x86_64__
	const __m128i zero = _mm_setzero_si128();
	__m128i a, b;

	for (; n - i >= 32; i += 32) {
		a = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
		b = _mm_loadu_si128((const __m128i *)(const void *)(s + i + 16));
		/* a high bit, or a zero byte (the minimum of the two is 0) */
		if (_mm_movemask_epi8(_mm_or_si128(a, b)) != 0 ||
		    _mm_movemask_epi8(_mm_cmpeq_epi8(_mm_min_epu8(a, b),
		    zero)) != 0)
			break;
	}
#endif
	return i;
}

int
utf8_valid_nonul(const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i, k;

	i = ascii_run(s, n);
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

/*
 * Nonzero if every byte of s is plain: most strings are, and go out in
 * one copy.  Past 8 bytes, a word at a time, the last word overlapping.
 */
static int
all_plain(const unsigned char *s, size_t n)
{
	size_t i;

	if (n < 8) {
		for (i = 0; i < n; i++)
			if (!plain[s[i]])
				return 0;
		return 1;
	}
	for (i = 0; i + 8 < n; i += 8)
		if (!word_plain(s + i))
			return 0;
	return word_plain(s + n - 8);
}

/* json_add_string for a string with bytes to escape or check. */
static int
add_string_escaped(struct buf *b, const unsigned char *s, size_t n,
    int strict)
{
	const unsigned char *end = s + n, *run;
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

int
json_add_string(struct buf *b, const char *str, size_t n, int strict)
{
	const unsigned char *s = (const unsigned char *)str;
	char *d;

	if (!all_plain(s, n))
		return add_string_escaped(b, s, n, strict);
	if (n + 2 >= b->cap - b->len)	/* also true for cap 0 */
		buf_grow(b, n + 2);
	d = b->data + b->len;
	d[0] = '"';
	memcpy(d + 1, s, n);
	d[n + 1] = '"';
	d[n + 2] = '\0';
	b->len += n + 2;
	return 0;
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
