/* Percent-encoding; see pct.h. */
#include <string.h>

#include "buf.h"
#include "pct.h"

static const char hex[] = "0123456789ABCDEF";

static int
value_needs_escape(unsigned char c)
{
	return c <= 0x20 || c == 0x7f || c == '%' || c == '=';
}

static int
uri_unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' ||
	    c == '~';
}

static void
add_escape(struct buf *b, unsigned char c)
{
	char e[3] = { '%', hex[c >> 4], hex[c & 15] };

	buf_add(b, e, 3);
}

void
pct_encode_value(struct buf *b, const void *p, size_t n)
{
	const unsigned char *s = p;
	size_t i, run;

	for (i = 0; i < n; i += run) {
		/* copy the longest plain run at once: most values are plain */
		for (run = 0; i + run < n && !value_needs_escape(s[i + run]);
		    run++)
			;
		buf_add(b, s + i, run);
		if (i + run < n) {
			add_escape(b, s[i + run]);
			run++;
		}
	}
}

void
pct_encode_uri(struct buf *b, const void *p, size_t n, int keep_slash)
{
	const unsigned char *s = p;
	size_t i;

	buf_grow(b, n);
	for (i = 0; i < n; i++) {
		if (uri_unreserved(s[i]) || (keep_slash && s[i] == '/'))
			buf_addch(b, s[i]);
		else
			add_escape(b, s[i]);
	}
}

int
pct_hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
pct_decode(struct buf *b, const char *s, size_t n)
{
	const char *pct;
	int hi, lo;

	buf_grow(b, n);
	while (n > 0) {
		if ((pct = memchr(s, '%', n)) == NULL) {
			buf_add(b, s, n);
			return 0;
		}
		buf_add(b, s, (size_t)(pct - s));
		n -= (size_t)(pct - s);
		s = pct;
		if (n < 3 || (hi = pct_hexval((unsigned char)s[1])) < 0 ||
		    (lo = pct_hexval((unsigned char)s[2])) < 0)
			return -1;
		buf_addch(b, hi << 4 | lo);
		s += 3;
		n -= 3;
	}
	return 0;
}
