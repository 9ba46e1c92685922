/* Frame reading and writing; see frame.h and lakepipe-frames(5). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "buf.h"
#include "frame.h"
#include "pct.h"

#define READ_CHUNK	(256 * 1024)

void
frame_reader_init(struct frame_reader *r, int fd, const char *name)
{
	memset(r, 0, sizeof(*r));
	r->fd = fd;
	r->name = name;
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

static int
is_name_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-' ||
	    c == '~' || c == '%';
}

static int
is_hex(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
	    (c >= 'A' && c <= 'F');
}

static void
push_field(struct frame *f, const char *name, size_t namelen,
    const char *val, size_t vallen)
{
	if (f->nfields == f->fieldcap) {
		f->fieldcap = f->fieldcap ? f->fieldcap * 2 : 16;
		f->fields = xreallocarray(f->fields, f->fieldcap,
		    sizeof(*f->fields));
	}
	f->fields[f->nfields].name = name;
	f->fields[f->nfields].namelen = namelen;
	f->fields[f->nfields].val = val;
	f->fields[f->nfields].vallen = vallen;
	f->nfields++;
}

/* Parse "NAME=VALUE" at s (n bytes, no space inside). */
static int
parse_field(struct frame *f, const char *s, size_t n, const char **why)
{
	const char *eq = memchr(s, '=', n);
	size_t i;

	if (eq == NULL || eq == s) {
		*why = "header field without NAME=";
		return -1;
	}
	for (i = 0; s + i < eq; i++)
		if (!is_name_char((unsigned char)s[i])) {
			*why = "bad character in a header field name";
			return -1;
		}
	for (i = (size_t)(eq - s) + 1; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c == 0x7f || c == '=') {
			*why = "unencoded control byte or '=' in a header value";
			return -1;
		}
		if (c == '%' && (i + 2 >= n || !is_hex((unsigned char)s[i + 1]) ||
		    !is_hex((unsigned char)s[i + 2]))) {
			*why = "bad %-escape in a header value";
			return -1;
		}
	}
	push_field(f, s, (size_t)(eq - s), eq + 1, n - (size_t)(eq - s) - 1);
	return 0;
}

static int
parse_length(const char *s, size_t n, size_t max, size_t *len,
    const char **why)
{
	uint64_t v = 0;
	size_t i;

	if (n > 1 && s[0] == '0') {
		*why = "frame length with a leading zero";
		return -1;
	}
	for (i = 0; i < n; i++) {
		if (v > (UINT64_MAX - 9) / 10 || v * 10 + (uint64_t)(s[i] - '0') >
		    max) {
			*why = "frame length exceeds the limit";
			return -1;
		}
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*len = (size_t)v;
	return 0;
}

static int
all_digits(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return n > 0;
}

int
frame_parse_header(struct frame *f, const char *s, size_t n, size_t max_body,
    const char **why)
{
	const char *p, *end = s + n, *sp;
	size_t tok;

	f->nfields = 0;
	f->has_body = 0;
	f->len = 0;
	f->body = NULL;
	f->hdr = s;
	f->hdrlen = n;
	if (n == 0 || s[0] < 'A' || s[0] > 'Z' || (n > 1 && s[1] != ' ')) {
		*why = "not a frame header (expected a type letter A-Z and "
		    "a space)";
		return -1;
	}
	f->type = s[0];
	for (p = s + 1; p < end; p = sp) {
		p++;			/* the space */
		if ((sp = memchr(p, ' ', (size_t)(end - p))) == NULL)
			sp = end;
		tok = (size_t)(sp - p);
		if (tok == 0) {
			*why = "empty header field (two spaces, or a "
			    "trailing space)";
			return -1;
		}
		if (p == s + 2 && all_digits(p, tok)) {
			if (parse_length(p, tok, max_body, &f->len, why) < 0)
				return -1;
			f->has_body = 1;
		} else if (parse_field(f, p, tok, why) < 0)
			return -1;
	}
	return 0;
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
	uint64_t x = 0;
	size_t i;

	if (fl == NULL)
		return 0;
	if (fl->vallen == 0 || fl->vallen > 20)
		return -1;
	for (i = 0; i < fl->vallen; i++) {
		unsigned d = (unsigned char)fl->val[i] - '0';

		if (d > 9 || x > (UINT64_MAX - d) / 10)
			return -1;
		x = x * 10 + d;
	}
	*v = x;
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

void
frame_finish(struct buf *b, const void *body, size_t len)
{
	buf_grow(b, len + 2);
	buf_addch(b, '\n');
	if (body != NULL) {
		buf_add(b, body, len);
		buf_addch(b, '\n');
	}
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
