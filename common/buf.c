/* buf: growable byte buffers and allocation helpers; see buf.h. */
#include <err.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "dec.h"

char buf_empty[1];

void
buf_init(struct buf *b, size_t hint)
{
	b->data = buf_empty;
	b->len = b->cap = 0;
	if (hint)
		buf_grow(b, hint);
}

void
buf_release(struct buf *b)
{
	if (b->cap)
		free(b->data);
	buf_init(b, 0);
}

char *
buf_detach(struct buf *b, size_t *lenp)
{
	char *p;

	if (lenp)
		*lenp = b->len;
	p = b->cap ? b->data : xstrdup("");
	buf_init(b, 0);
	return p;
}

void
buf_grow(struct buf *b, size_t extra)
{
	size_t want, cap;
	char *p;

	if (extra > SIZE_MAX - b->len - 1)
		errx(1, "buffer size overflow");
	want = b->len + extra + 1;
	if (want <= b->cap)
		return;
	cap = b->cap ? b->cap : 64;
	while (cap < want)
		cap = cap > SIZE_MAX / 2 ? want : cap * 2;
	if (b->cap)
		p = realloc(b->data, cap);
	else if ((p = malloc(cap)) != NULL)
		memcpy(p, b->data, b->len + 1);
	if (p == NULL)
		err(1, "out of memory (%zu bytes)", cap);
	b->data = p;
	b->cap = cap;
}

void
buf_setlen(struct buf *b, size_t len)
{
	if (b->cap == 0) {
		if (len)
			errx(1, "buf_setlen beyond an empty buffer");
		return;
	}
	if (len >= b->cap)
		errx(1, "buf_setlen beyond capacity");
	b->len = len;
	b->data[len] = '\0';
}

void
buf_consume(struct buf *b, size_t n)
{
	if (n >= b->len) {
		buf_reset(b);
		return;
	}
	memmove(b->data, b->data + n, b->len - n);
	buf_setlen(b, b->len - n);
}

void
buf_add_slow(struct buf *b, const void *p, size_t n)
{
	if (n == 0)
		return;
	buf_grow(b, n);
	memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void
buf_addstr(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

void
buf_addch_slow(struct buf *b, int c)
{
	buf_grow(b, 1);
	b->data[b->len++] = (char)c;
	b->data[b->len] = '\0';
}

void
buf_addutf8(struct buf *b, uint32_t cp)
{
	if (cp < 0x80)
		buf_addch(b, (int)cp);
	else if (cp < 0x800) {
		buf_addch(b, (int)(0xc0 | cp >> 6));
		buf_addch(b, (int)(0x80 | (cp & 0x3f)));
	} else if (cp < 0x10000) {
		buf_addch(b, (int)(0xe0 | cp >> 12));
		buf_addch(b, (int)(0x80 | (cp >> 6 & 0x3f)));
		buf_addch(b, (int)(0x80 | (cp & 0x3f)));
	} else {
		buf_addch(b, (int)(0xf0 | cp >> 18));
		buf_addch(b, (int)(0x80 | (cp >> 12 & 0x3f)));
		buf_addch(b, (int)(0x80 | (cp >> 6 & 0x3f)));
		buf_addch(b, (int)(0x80 | (cp & 0x3f)));
	}
}

/*
 * Straight into the buffer, no staging copy: frame headers are mostly
 * numbers, and this was a third of consume's instructions.
 */
void
buf_addu64(struct buf *b, unsigned long long v)
{
	if (b->cap - b->len <= DEC_U64_MAX_DIGITS)	/* also true for cap 0 */
		buf_grow(b, DEC_U64_MAX_DIGITS);
	b->len += dec_format(b->data + b->len, v);
	b->data[b->len] = '\0';
}

void
buf_addi64(struct buf *b, long long v)
{
	if (v < 0) {
		buf_addch(b, '-');
		buf_addu64(b, 0ULL - (unsigned long long)v);
	} else
		buf_addu64(b, (unsigned long long)v);
}

void
buf_vaddf(struct buf *b, const char *fmt, va_list ap)
{
	va_list cp;
	int n;

	va_copy(cp, ap);
	n = vsnprintf(NULL, 0, fmt, cp);
	va_end(cp);
	if (n < 0)
		errx(1, "buf_vaddf: bad format");
	buf_grow(b, (size_t)n);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
}

void
buf_addf(struct buf *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	buf_vaddf(b, fmt, ap);
	va_end(ap);
}

int
write_all(int fd, const void *p, size_t n)
{
	const char *s = p;
	ssize_t w;

	while (n > 0) {
		/* some systems refuse a write of more than INT_MAX bytes */
		w = write(fd, s, n > (1u << 30) ? (1u << 30) : n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		s += w;
		n -= (size_t)w;
	}
	return 0;
}

void *
xmalloc(size_t n)
{
	void *p;

	if ((p = malloc(n ? n : 1)) == NULL)
		err(1, "out of memory (%zu bytes)", n);
	return p;
}

void *
xcalloc(size_t n, size_t size)
{
	void *p;

	if ((p = calloc(n ? n : 1, size ? size : 1)) == NULL)
		err(1, "out of memory");
	return p;
}

void *
xreallocarray(void *o, size_t n, size_t size)
{
	void *p;

	if ((p = reallocarray(o, n ? n : 1, size ? size : 1)) == NULL)
		err(1, "out of memory");
	return p;
}

char *
xstrdup(const char *s)
{
	char *p;

	if ((p = strdup(s)) == NULL)
		err(1, "out of memory");
	return p;
}

char *
xstrndup(const char *s, size_t n)
{
	char *p;

	if ((p = strndup(s, n)) == NULL)
		err(1, "out of memory");
	return p;
}
