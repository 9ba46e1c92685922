/*
 * buf: a growable byte buffer, in the spirit of git's strbuf.
 *
 * A struct buf owns its memory.  Initialize it with BUF_INIT (or
 * buf_init), add bytes with the buf_add* functions, and give the memory
 * back with buf_release.  The bytes are always followed by a NUL that is
 * not counted in len, so data can be used as a C string when it holds no
 * NUL of its own.  data is never NULL after buf_init or BUF_INIT.
 *
 * Every allocation failure is fatal (err(3) with status 1): callers never
 * check for NULL.
 */
#ifndef LAKEPIPE_BUF_H
#define LAKEPIPE_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

struct buf {
	char	*data;
	size_t	 len;
	size_t	 cap;		/* 0 while data points at the shared empty string */
};

extern char buf_empty[];
#define BUF_INIT { buf_empty, 0, 0 }

void	 buf_init(struct buf *, size_t hint);
void	 buf_release(struct buf *);
/* Hand the memory to the caller (who frees it); the buf is reset to empty. */
char	*buf_detach(struct buf *, size_t *lenp);
void	 buf_grow(struct buf *, size_t extra);
void	 buf_setlen(struct buf *, size_t len);
#define	 buf_reset(b) buf_setlen((b), 0)
/* Drop the first n bytes. */
void	 buf_consume(struct buf *, size_t n);

/* Exchange the contents of a and b (no copy). */
static inline void
buf_swap(struct buf *a, struct buf *b)
{
	struct buf t = *a;

	*a = *b;
	*b = t;
}

void	 buf_add_slow(struct buf *, const void *, size_t);
void	 buf_addstr(struct buf *, const char *);
void	 buf_addch_slow(struct buf *, int);
void	 buf_addu64(struct buf *, unsigned long long);
void	 buf_addi64(struct buf *, long long);
/* Code point cp (at most 0x10ffff, not a surrogate) as UTF-8. */
void	 buf_addutf8(struct buf *, uint32_t cp);
void	 buf_addf(struct buf *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
void	 buf_vaddf(struct buf *, const char *, va_list);

/*
 * buf_add and buf_addch are inline: frame headers are built a few bytes
 * at a time, millions of times a second, and the common case (room in
 * the buffer) must not cost a call.
 */
static inline void
buf_add(struct buf *b, const void *p, size_t n)
{
	if (n < b->cap - b->len) {	/* also false for cap 0 */
		__builtin_memcpy(b->data + b->len, p, n);
		b->len += n;
		b->data[b->len] = '\0';
	} else
		buf_add_slow(b, p, n);
}

static inline void
buf_addch(struct buf *b, int c)
{
	if (b->len + 1 < b->cap) {
		b->data[b->len++] = (char)c;
		b->data[b->len] = '\0';
	} else
		buf_addch_slow(b, c);
}

/*
 * Writing at a cursor, for a text of many small pieces whose size is
 * bounded beforehand: buf_room makes room for n more bytes and returns
 * where they go, buf_put copies a piece there, and buf_setend ends the
 * bytes at the cursor (at most n past where buf_room put it) and writes
 * the NUL: one check for room, not one a piece.  Until buf_setend, len
 * and the NUL are as they were.
 */
static inline char *
buf_room(struct buf *b, size_t n)
{
	if (n >= b->cap - b->len)	/* also true for cap 0 */
		buf_grow(b, n);
	return b->data + b->len;
}

static inline char *
buf_put(char *p, const void *s, size_t n)
{
	__builtin_memcpy(p, s, n);
	return p + n;
}

static inline void
buf_setend(struct buf *b, char *p)
{
	b->len = (size_t)(p - b->data);
	*p = '\0';
}

/* Write the whole buffer to fd, retrying short writes; 0 or -1 (errno). */
int	 write_all(int fd, const void *, size_t);

/* Die-on-failure allocation helpers. */
void	*xmalloc(size_t);
void	*xcalloc(size_t, size_t);
void	*xreallocarray(void *, size_t, size_t);
char	*xstrdup(const char *);
char	*xstrndup(const char *, size_t);

#endif
