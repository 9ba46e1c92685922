/* Frame reading and writing; see frame.h and lakepipe-frames(5). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "buf.h"
#include "dec.h"
#include "frame.h"
#include "pct.h"

#define READ_CHUNK	(256 * 1024)
#define READ_PIPE	(1024 * 1024)

/*
 * A pipe read from is made READ_PIPE big (never smaller than it is), on
 * the reading side too, so that a writer that does not size it (cat, or
 * transform writing to deliver) does not block and wake us every 64 KiB.
 * A failure (the per-user limit on pipe memory) leaves it as it was.
 */
static void
grow_pipe(int fd)
{
#if defined(F_GETPIPE_SZ) && defined(F_SETPIPE_SZ)
	struct stat st;
	int sz;

	if (fstat(fd, &st) == 0 && S_ISFIFO(st.st_mode) &&
	    (sz = fcntl(fd, F_GETPIPE_SZ)) >= 0 && sz < READ_PIPE)
		(void)fcntl(fd, F_SETPIPE_SZ, READ_PIPE);
#endif
}

void
frame_reader_init(struct frame_reader *r, int fd, const char *name)
{
	memset(r, 0, sizeof(*r));
	r->fd = fd;
	r->name = name;
	grow_pipe(fd);
	buf_init(&r->in, READ_CHUNK);
	r->max_body = FRAME_DEFAULT_MAX_BODY;
}

void
frame_reader_release(struct frame_reader *r)
{
	buf_release(&r->in);
}

void
frame_init(struct frame *f)
{
	memset(f, 0, sizeof(*f));
}

void
frame_release(struct frame *f)
{
	free(f->fields);
	free(f->layout);
	frame_init(f);
}

/* Forget what has been parsed, so the buffer holds only unparsed bytes. */
static void
compact(struct frame_reader *r)
{
	if (r->pos == 0)
		return;
	buf_consume(&r->in, r->pos);
	r->base += r->pos;
	r->pos = 0;
}

ssize_t
frame_reader_fill(struct frame_reader *r)
{
	size_t room;
	ssize_t n;

	compact(r);
	room = READ_CHUNK;
	if (r->want > r->in.len && r->want - r->in.len > room)
		room = r->want - r->in.len;
	buf_grow(&r->in, room);
	n = read(r->fd, r->in.data + r->in.len, room);
	if (n > 0)
		buf_setlen(&r->in, r->in.len + (size_t)n);
	else if (n == 0)
		r->eof = 1;
	return n;
}

int
frame_reader_done(const struct frame_reader *r)
{
	return r->eof && r->pos == r->in.len;
}

static int
fail(struct frame_reader *r, uint64_t off, const char *fmt, const char *what)
{
	snprintf(r->err, sizeof(r->err), "%s: byte %llu: ", r->name,
	    (unsigned long long)off);
	snprintf(r->err + strlen(r->err), sizeof(r->err) - strlen(r->err),
	    fmt, what);
	return FRAME_ERR;
}

/*
 * Header parsing is one pass over the line: every byte is looked at once,
 * 16 at a time inside values (most of a header's bytes; eight without
 * SSE2), and each number is converted as it is passed.  The error messages and their order
 * (first bad field first, within it the name before the value, and the
 * value byte by byte) are those of lakepipe-frames(5).
 */

/* Bytes allowed in a field name: URI unreserved characters and '%'. */
static const unsigned char name_char[256] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0,
	0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1,
	0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 1, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
};

static int
is_hex(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
	    (c >= 'A' && c <= 'F');
}

/*
 * Bytes that end a plain run of a value: the space after it, controls,
 * DEL and '=' (refused), '%' (an escape to check).
 */
static inline int
value_special(unsigned char c)
{
	return c <= ' ' || c == 0x7f || c == '=' || c == '%';
}

#ifdef __SSE2__
/*
 * A mask of the special bytes among the 16 at p: SSE2 is part of every
 * x86-64, and one compare of 16 bytes also says where the first one is.
 */
static inline unsigned
special16(const char *p)
{
	__m128i x = _mm_loadu_si128((const __m128i *)(const void *)p);
	__m128i m = _mm_or_si128(
	    _mm_cmpeq_epi8(_mm_min_epu8(x, _mm_set1_epi8(' ')), x),
	    _mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8(0x7f)),
	    _mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8('=')),
	    _mm_cmpeq_epi8(x, _mm_set1_epi8('%')))));

	return (unsigned)_mm_movemask_epi8(m);
}

/*
 * The first special byte in [q, end), or end.  The last bytes are looked
 * at with the 16 that end at end, those before q masked off, when the
 * line is that long: no byte loop for the tail.
 */
static inline const char *
skip_plain(const char *line, const char *q, const char *end)
{
	unsigned bits;

	for (; end - q >= 16; q += 16)
		if ((bits = special16(q)) != 0)
			return q + __builtin_ctz(bits);
	if (q == end)
		return end;
	if (end - line >= 16) {
		bits = special16(end - 16) >> (16 - (end - q));
		return bits != 0 ? q + __builtin_ctz(bits) : end;
	}
	while (q < end && !value_special((unsigned char)*q))
		q++;
	return q;
}
#else
/*
 * Whether any of the eight bytes of w is special as above.  Each term is
 * the classic "has a byte less than n" test, exact as a yes or no: a
 * borrow only starts at a byte that is a hit, and bytes of 0x80 and up
 * never give one.
 */
static inline int
any_special(uint64_t w)
{
	const uint64_t ones = 0x0101010101010101ULL;
	uint64_t del = w ^ (ones * 0x7f), eq = w ^ (ones * '='),
	    pct = w ^ (ones * '%');

	return (((w - ones * 0x21) & ~w) | ((del - ones) & ~del) |
	    ((eq - ones) & ~eq) | ((pct - ones) & ~pct)) &
	    (ones * 0x80) ? 1 : 0;
}

/* The first special byte in [q, end), or end: eight bytes at a time. */
static inline const char *
skip_plain(const char *line, const char *q, const char *end)
{
	uint64_t w;

	(void)line;
	while (end - q >= 8) {
		memcpy(&w, q, sizeof(w));
		if (any_special(w))
			break;
		q += 8;
	}
	while (q < end && !value_special((unsigned char)*q))
		q++;
	return q;
}
#endif

static void
push_field(struct frame *f, const char *name, size_t namelen,
    const char *val, size_t vallen)
{
	struct frame_field *fl;

	if (f->nfields == f->fieldcap) {
		f->fieldcap = f->fieldcap ? f->fieldcap * 2 : 16;
		f->fields = xreallocarray(f->fields, f->fieldcap,
		    sizeof(*f->fields));
	}
	fl = &f->fields[f->nfields++];
	fl->name = name;
	fl->namelen = namelen;
	fl->val = val;
	fl->vallen = vallen;
}

/*
 * The field at tok has no good "NAME=": say why.  Only on errors, so it
 * may look at the field again.
 */
static int
name_error(const char *tok, const char *end, const char **why)
{
	const char *sp = memchr(tok, ' ', (size_t)(end - tok)), *eq;
	size_t n = (size_t)((sp != NULL ? sp : end) - tok);

	if (n == 0)
		*why = "empty header field (two spaces, or a trailing space)";
	else if ((eq = memchr(tok, '=', n)) == NULL || eq == tok)
		*why = "header field without NAME=";
	else
		*why = "bad character in a header field name";
	return -1;
}

/*
 * Parse "NAME=VALUE" at *pp, up to the next space or end; advance *pp.
 * line is where the header starts: bytes from there on may be read.
 */
static int
parse_field(struct frame *f, const char *line, const char **pp,
    const char *end, const char **why)
{
	const char *name = *pp, *q = name, *val;

	while (q < end && name_char[(unsigned char)*q])
		q++;
	if (q == end || *q != '=' || q == name)
		return name_error(name, end, why);
	val = ++q;
	for (;;) {
		q = skip_plain(line, q, end);
		if (q == end || *q == ' ')
			break;
		if (*q != '%') {
			*why = "unencoded control byte or '=' in a header value";
			return -1;
		}
		if (end - q < 3 || !is_hex((unsigned char)q[1]) ||
		    !is_hex((unsigned char)q[2])) {
			*why = "bad %-escape in a header value";
			return -1;
		}
		q += 3;
	}
	push_field(f, name, (size_t)(val - 1 - name), val, (size_t)(q - val));
	*pp = q;
	return 0;
}

/*
 * A first field of digits only is the body length.  0 with *pp past it
 * (or untouched when it is not one), -1 with why set.
 */
static int
parse_length(struct frame *f, const char **pp, const char *end,
    size_t max, const char **why)
{
	const char *p = *pp, *e;
	uint64_t v;
	int ovf;

	if ((e = dec_scan(p, end, &v, &ovf)) == p || (e < end && *e != ' '))
		return 0;
	if (e - p > 1 && *p == '0') {
		*why = "frame length with a leading zero";
		return -1;
	}
	if (ovf || v > max) {
		*why = "frame length exceeds the limit";
		return -1;
	}
	f->len = (size_t)v;
	f->has_body = 1;
	*pp = e;
	return 0;
}

/*
 * The layout of the fields of the last header parsed into a frame (see
 * frame.h): its bytes after the length, and for each byte the index of
 * the field whose value it is in, or NOT_VALUE.  Any byte of a value may
 * become a digit without changing how the header parses: a digit is
 * never special, and inside a %-escape it is still a hex digit.
 */
#define LAYOUT_MAX	512	/* bytes of fields: longer ones are parsed */
#define LAYOUT_FIELDS	64	/* the bits of frame.changed */
#define NOT_VALUE	0xff

struct frame_layout {
	char		 type;
	int		 has_body;
	size_t		 n;		/* 0: none */
	char		 text[LAYOUT_MAX];
	unsigned char	 owner[LAYOUT_MAX];
	size_t		 nfields;
	struct {
		uint16_t	 name, val;
	}		 at[LAYOUT_FIELDS];	/* from the fields' start */
};

/* The next header is parsed in full: the last one had other fields. */
static void
layout_drop(struct frame *f)
{
	if (f->layout != NULL)
		f->layout->n = 0;
}

/* Remember the fields at p (to end) that f now holds, if they fit. */
static void
layout_keep(struct frame *f, const char *p, const char *end)
{
	struct frame_layout *l;
	const struct frame_field *fl;
	size_t i, n = (size_t)(end - p);

	layout_drop(f);
	if (n > LAYOUT_MAX || n < 16 || f->nfields == 0 ||
	    f->nfields > LAYOUT_FIELDS)
		return;
	if ((l = f->layout) == NULL)
		l = f->layout = xmalloc(sizeof(*l));
	l->type = f->type;
	l->has_body = f->has_body;
	memcpy(l->text, p, n);
	memset(l->owner, NOT_VALUE, n);
	for (i = 0; i < f->nfields; i++) {
		fl = &f->fields[i];
		l->at[i].name = (uint16_t)(fl->name - p);
		l->at[i].val = (uint16_t)(fl->val - p);
		memset(l->owner + l->at[i].val, (int)i, fl->vallen);
	}
	l->nfields = f->nfields;
	l->n = n;
}

/*
 * The bytes of bits d, from at on, differ from the layout's: 1 if each
 * is a digit in a value (its field's bit into *changed, the byte into
 * the layout's text), else 0.
 */
static int
layout_patch(struct frame_layout *l, const char *p, size_t at, unsigned d,
    uint64_t *changed)
{
	size_t i;
	unsigned char c;

	for (; d != 0; d &= d - 1) {
		i = at + (size_t)__builtin_ctz(d);
		c = (unsigned char)p[i];
		if (l->owner[i] == NOT_VALUE || (unsigned)(c - '0') > 9)
			return 0;
		*changed |= (uint64_t)1 << l->owner[i];
		l->text[i] = (char)c;
	}
	return 1;
}

/* The bits of the bytes of the 16 at a and b that differ. */
static inline unsigned
differ16(const char *a, const char *b)
{
#ifdef __SSE2__
	__m128i x = _mm_loadu_si128((const __m128i *)(const void *)a);
	__m128i y = _mm_loadu_si128((const __m128i *)(const void *)b);

	return ~(unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(x, y)) & 0xffff;
#else
	unsigned d = 0, i;

	for (i = 0; i < 16; i++)
		d |= (unsigned)(a[i] != b[i]) << i;
	return d;
#endif
}

/*
 * Whether the fields at p (to end) have f's layout, differing only in
 * digits of values: then f's fields are moved to p, and 1.  Sixteen
 * bytes at a time, the last 16 overlapping those before (n >= 16).
 */
static int
layout_same(struct frame *f, const char *p, const char *end)
{
	struct frame_layout *l = f->layout;
	struct frame_field *fl;
	uint64_t changed = 0;
	size_t i, n = (size_t)(end - p);
	unsigned d;

	if (l == NULL || l->n == 0 || l->n != n || l->type != f->type ||
	    l->has_body != f->has_body)
		return 0;
	for (i = 0; i + 16 <= n; i += 16)
		if ((d = differ16(p + i, l->text + i)) != 0 &&
		    !layout_patch(l, p, i, d, &changed))
			goto differs;
	if (i < n && (d = differ16(p + n - 16, l->text + n - 16) >>
	    (16 - (n - i))) != 0 && !layout_patch(l, p, i, d, &changed))
		goto differs;
	/*
	 * The array holds the layout's fields: any other parse into f
	 * drops the layout.  Only their places move.
	 */
	for (i = 0; i < l->nfields; i++) {
		fl = &f->fields[i];
		fl->name = p + l->at[i].name;
		fl->val = p + l->at[i].val;
	}
	f->nfields = l->nfields;
	f->changed = changed;
	return 1;
differs:
	layout_drop(f);	/* patched in part: the parse makes it again */
	return 0;
}

int
frame_parse_header(struct frame *f, const char *s, size_t n, size_t max_body,
    const char **why)
{
	const char *p, *fields, *end = s + n;

	f->has_body = 0;
	f->len = 0;
	f->body = NULL;
	f->hdr = s;
	f->hdrlen = n;
	f->same = 0;
	f->changed = ~(uint64_t)0;
	if (n == 0 || s[0] < 'A' || s[0] > 'Z' || (n > 1 && s[1] != ' ')) {
		*why = "not a frame header (expected a type letter A-Z and "
		    "a space)";
		goto bad;
	}
	f->type = s[0];
	f->nfields = 0;
	if (n == 1)
		goto no_fields;
	p = s + 2;
	if (parse_length(f, &p, end, max_body, why) < 0)
		goto bad;
	if (f->has_body) {
		if (p == end)
			goto no_fields;
		p++;
	}
	if (layout_same(f, p, end)) {
		f->same = 1;
		goto good;
	}
	for (fields = p;; p++) {	/* p++: the space */
		if (parse_field(f, s, &p, end, why) < 0)
			goto bad;
		if (p == end)
			break;
	}
	layout_keep(f, fields, end);
good:
	f->parsed++;
	return 0;
no_fields:
	layout_drop(f);
	goto good;
bad:
	f->nfields = 0;
	layout_drop(f);
	return -1;
}

int
frame_next(struct frame_reader *r, struct frame *f)
{
	const char *s = r->in.data + r->pos, *nl, *why;
	size_t avail = r->in.len - r->pos, hlen, need;
	uint64_t off = r->base + r->pos;

	if (avail == 0)
		return FRAME_MORE;
	if ((unsigned char)s[0] < 'A' || (unsigned char)s[0] > 'Z') {
		char hexbyte[8];

		snprintf(hexbyte, sizeof(hexbyte), "0x%02x",
		    (unsigned char)s[0]);
		return fail(r, off, "not a frame header: starts with byte "
		    "%s (garbage, or a length that does not match its body?)",
		    hexbyte);
	}
	nl = memchr(s, '\n', avail < FRAME_MAX_HEADER + 1 ? avail :
	    FRAME_MAX_HEADER + 1);
	if (nl == NULL) {
		if (avail > FRAME_MAX_HEADER)
			return fail(r, off, "%s", "header line longer than "
			    "1 MiB (not a frame stream?)");
		if (r->eof)
			return fail(r, off, "%s", "truncated frame: header "
			    "line without a newline at end of input");
		r->want = avail + 1;
		return FRAME_MORE;
	}
	hlen = (size_t)(nl - s);
	if (frame_parse_header(f, s, hlen, r->max_body, &why) < 0)
		return fail(r, off, "%s", why);
	f->offset = off;
	need = hlen + 1;
	if (f->has_body) {
		need += f->len + 1;
		if (avail < need) {
			if (r->eof) {
				snprintf(r->err, sizeof(r->err), "%s: byte "
				    "%llu: truncated frame: header says %zu "
				    "body bytes, input ends after %zu",
				    r->name, (unsigned long long)off, f->len,
				    avail - hlen - 1);
				return FRAME_ERR;
			}
			r->want = need;
			return FRAME_MORE;
		}
		if (s[need - 1] != '\n')
			return fail(r, off + need - 1, "%s", "no newline after "
			    "the frame body (length does not match body?)");
		f->body = s + hlen + 1;
	}
	r->pos += need;
	r->want = 0;
	return FRAME_OK;
}

int
frame_read(struct frame_reader *r, struct frame *f)
{
	ssize_t n;
	int rc;

	for (;;) {
		if ((rc = frame_next(r, f)) != FRAME_MORE)
			return rc;
		if (r->eof)
			return 0;
		if ((n = frame_reader_fill(r)) < 0) {
			if (errno == EINTR)
				continue;
			snprintf(r->err, sizeof(r->err), "%s: read: %s",
			    r->name, strerror(errno));
			return FRAME_ERR;
		}
	}
}

const struct frame_field *
frame_field(const struct frame *f, const char *name)
{
	size_t i, n = strlen(name);

	for (i = 0; i < f->nfields; i++)
		if (f->fields[i].namelen == n &&
		    memcmp(f->fields[i].name, name, n) == 0)
			return &f->fields[i];
	return NULL;
}

int
frame_get(const struct frame *f, const char *name, struct buf *out)
{
	const struct frame_field *fl = frame_field(f, name);

	if (fl == NULL)
		return 0;
	return pct_decode(out, fl->val, fl->vallen) < 0 ? -1 : 1;
}

int
frame_get_u64(const struct frame *f, const char *name, uint64_t *v)
{
	const struct frame_field *fl = frame_field(f, name);

	if (fl == NULL)
		return 0;
	if (fl->vallen > DEC_U64_MAX_DIGITS ||
	    dec_u64(fl->val, fl->vallen, UINT64_MAX, v) < 0)
		return -1;
	return 1;
}

void
frame_begin(struct buf *b, char type, size_t len)
{
	buf_addch(b, type);
	buf_addch(b, ' ');
	buf_addu64(b, len);
}

void
frame_begin_nobody(struct buf *b, char type)
{
	buf_addch(b, type);
}

void
frame_add(struct buf *b, const char *name, const void *val, size_t n)
{
	buf_addch(b, ' ');
	buf_addstr(b, name);
	buf_addch(b, '=');
	pct_encode_value(b, val, n);
}

void
frame_add_str(struct buf *b, const char *name, const char *val)
{
	frame_add(b, name, val, strlen(val));
}

void
frame_add_u64(struct buf *b, const char *name, uint64_t v)
{
	buf_addch(b, ' ');
	buf_addstr(b, name);
	buf_addch(b, '=');
	buf_addu64(b, v);
}

void
frame_add_field(struct buf *b, const struct frame_field *fl)
{
	buf_addch(b, ' ');
	buf_add(b, fl->name, fl->namelen);
	buf_addch(b, '=');
	buf_add(b, fl->val, fl->vallen);
}

/* Once per frame, and the body is most of it: one check of room, one copy. */
void
frame_finish(struct buf *b, const void *body, size_t len)
{
	char *p;

	if (len > SIZE_MAX - 2 || b->cap - b->len <= len + 2)	/* cap 0 too */
		buf_grow(b, len + 2);
	p = b->data + b->len;
	*p++ = '\n';
	if (body != NULL) {
		memcpy(p, body, len);
		p += len;
		*p++ = '\n';
	}
	*p = '\0';
	b->len = (size_t)(p - b->data);
}

/* Skip the first n bytes of an iovec array; returns the new start index. */
static size_t
iov_advance(struct iovec *iov, size_t i, size_t n)
{
	size_t k;

	while (n > 0) {
		k = n < iov[i].iov_len ? n : iov[i].iov_len;
		iov[i].iov_base = (char *)iov[i].iov_base + k;
		iov[i].iov_len -= k;
		n -= k;
		if (iov[i].iov_len == 0)
			i++;
	}
	return i;
}

int
frame_write(int fd, struct buf *hdr, const void *body, size_t len)
{
	struct iovec iov[3];
	size_t total, i = 0;
	ssize_t w;

	buf_addch(hdr, '\n');
	iov[0].iov_base = hdr->data;
	iov[0].iov_len = hdr->len;
	iov[1].iov_base = (void *)body;
	iov[1].iov_len = body ? len : 0;
	iov[2].iov_base = "\n";
	iov[2].iov_len = body ? 1 : 0;
	total = iov[0].iov_len + iov[1].iov_len + iov[2].iov_len;
	while (total > 0) {
		while (iov[i].iov_len == 0)
			i++;
		if ((w = writev(fd, iov + i, 3 - (int)i)) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		i = iov_advance(iov, i, (size_t)w);
		total -= (size_t)w;
	}
	return 0;
}
