/* Object and part frames from stdin, into uploads; see loop.h. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "deliver.h"
#include "marker.h"
#include "loop.h"

#define MAX_LIVE		1024	/* objects in flight at most */
#define READS_PER_TURN		64	/* stdin reads between curl turns */
#define PARTS_HELD		2	/* part frames' bodies in memory at most */
#define MAX_PUT			(5ULL << 30)	/* S3's largest single PUT */
#define STEAL_MIN		(256 * 1024)	/* a body taken, not copied */
#define SPARE_IDLE		1.0	/* seconds the spare is kept unused */

/*
 * A body stored or given up: its memory becomes the spare if it was a
 * reader's buffer (large), holds more than the spare, and the reader's
 * own buffer is too small for a frame like it; else it is freed.
 */
void
body_done(struct loop *L, struct buf *mem)
{
	if (mem->cap >= STEAL_MIN && mem->len > L->spare.len &&
	    mem->len > L->r.in.cap) {
		buf_swap(mem, &L->spare);
		L->spare_at = monotime();
	}
	buf_release(mem);
}

/* The spare waited long enough, or no frame will come to use it. */
void
spare_expire(struct loop *L)
{
	if (L->spare.cap != 0 && (L->eof || L->input_error ||
	    monotime() - L->spare_at > SPARE_IDLE))
		buf_release(&L->spare);
}

int
want_input(const struct loop *L)
{
	if (L->eof || L->input_error || L->fatal)
		return 0;
	return L->nlive == 0 || (L->inflight < L->opt->max_memory &&
	    L->nlive < MAX_LIVE && L->held < PARTS_HELD);
}

/*
 * Make mem the reader's buffer, with the bytes it has not parsed yet; mem
 * gets the reader's old buffer, whole.
 */
static void
reader_move(struct frame_reader *r, struct buf *mem)
{
	buf_reset(mem);
	buf_add(mem, r->in.data + r->pos, r->in.len - r->pos);
	buf_swap(&r->in, mem);
	r->base += r->pos;
	r->pos = 0;
}

/*
 * Give a large body's memory to the object instead of copying it: the
 * reader's whole buffer goes to the object (the body is inside it), and
 * the reader starts a new one with the few bytes read past the frame.
 * One copy fewer per large object.  owned (released first) gets the
 * memory, *body the body's new address.
 */
static void
steal_body(struct loop *L, const char **body, struct buf *owned)
{
	struct frame_reader *r = &L->r;
	size_t off = (size_t)(*body - r->in.data), left = r->in.len - r->pos;

	buf_release(owned);
	buf_init(owned, left > STEAL_MIN ? left : STEAL_MIN);
	reader_move(r, owned);
	*body = owned->data + off;
}

/*
 * Before a read: when the reader's buffer must grow for the frame it
 * reads (its header is in), let it read into the spare, whose pages are
 * resident already.  The spare is first given back to the system down to
 * what the frame needs, so that no more is resident than the reader's
 * own buffer would have grown to.
 */
static void
spare_adopt(struct loop *L)
{
	struct frame_reader *r = &L->r;
	size_t size = r->want + STEAL_MIN;
	char *p;

	if (L->spare.cap == 0 || r->want < r->in.cap)
		return;
	if (L->spare.len > size && (p = realloc(L->spare.data, size)) !=
	    NULL) {
		L->spare.data = p;
		L->spare.cap = size;
		L->spare.len = 0;
	}
	reader_move(r, &L->spare);
	buf_release(&L->spare);
}

/* The body of the frame just read, in memory of its own: owned. */
static const char *
take_body(struct loop *L, const char *body, size_t len, struct buf *owned)
{
	if (len >= STEAL_MIN)
		steal_body(L, &body, owned);
	else {
		buf_init(owned, len > 0 ? len : 1);
		buf_add(owned, body, len);
		body = owned->data;
	}
	return body;
}

/* One more part of up, which takes over its memory; sent once initiated. */
static void
add_part(struct loop *L, struct upload *up, const char *body, size_t len,
    struct buf *owned)
{
	unsigned i = up->nparts;

	if (i == MAX_PARTS) {
		buf_release(owned);
		fail_upload(L, up, NULL, "more than 10000 parts (S3's limit): "
		    "raise transform --part-size");
		return;
	}
	up->parts = xreallocarray(up->parts, i + 1, sizeof(*up->parts));
	up->partmem = xreallocarray(up->partmem, i + 1,
	    sizeof(*up->partmem));
	up->parts[i] = req_new(up, OP_PART, i + 1, body, len);
	up->partmem[i] = *owned;
	buf_init(owned, 0);
	up->nparts++;
	L->held++;
	L->inflight += len;
	if (up->upload_id != NULL)
		store_queue(&L->s, up->parts[i]);
}

/* The first P frame: a multipart upload begins, named by its fields. */
static struct upload *
begin_in_parts(struct loop *L, const struct parts_in *p)
{
	struct object o;
	struct upload *up;

	object_init(&o);
	o.offset = p->offset;
	buf_add(&o.key, p->key.data, p->key.len);
	buf_add(&o.type, p->type.data, p->type.len);
	buf_add(&o.enc, p->enc.data, p->enc.len);
	buf_add(&o.first, p->first.data, p->first.len);
	if (!headers_ok(L, &o)) {
		object_release(&o);
		return NULL;
	}
	up = upload_new(L, &o);
	up->in_parts = 1;
	up->single = req_new(up, OP_INIT, 0, "", 0);
	store_queue(&L->s, up->single);
	return up;
}

/*
 * --exactly-once: append a piece of the object in parts to its spool
 * file (made at the first, unlinked at once), hashing it on the way: 0,
 * or -1 (an input error, said).
 */
static int
spool_add(struct loop *L, const char *key, const char *p, size_t n)
{
	const char *dir = getenv("TMPDIR");
	char path[1024];

	if (L->spool < 0) {
		snprintf(path, sizeof(path), "%s/lakepipe-deliver.XXXXXX",
		    dir != NULL && *dir != '\0' ? dir : "/tmp");
		if ((L->spool = mkstemp(path)) < 0) {
			report_error("cannot make a spool file for the object "
			    "in parts (%s): %s; set TMPDIR to a writable "
			    "directory", path, strerror(errno));
			L->input_error = 1;
			return -1;
		}
		(void)unlink(path);	/* gone with the descriptor */
		req_body_sums_init(&L->sums, &L->s);
	}
	if (L->sums.len + n > MAX_PUT) {
		report_error("stdin: %s: more than 5 GiB: --exactly-once "
		    "stores an object with one PUT (S3's limit); lower "
		    "transform --max-bytes", key);
		L->input_error = 1;
		return -1;
	}
	if (write_all(L->spool, p, n) < 0) {
		report_error("spool file of %s: write: %s", key,
		    strerror(errno));
		L->input_error = 1;
		return -1;
	}
	body_sums_add(&L->sums, p, n);
	return 0;
}

/* The spool file of an object that will not be stored. */
void
spool_drop(struct loop *L)
{
	if (L->spool < 0)
		return;
	close(L->spool);
	L->spool = -1;
	body_sums_free(&L->sums);
}

static void
take_part(struct loop *L, const struct frame *f)
{
	struct buf owned = BUF_INIT;
	char why[1024];
	const char *body;

	if (parts_take(&L->pin, f, why, sizeof(why)) < 0) {
		report_error("stdin: %s", why);
		L->input_error = 1;
		return;
	}
	if (L->opt->exactly_once) {
		(void)spool_add(L, L->pin.key.data, f->body, f->len);
		return;
	}
	if (L->pin.n == 1 && (L->cur = begin_in_parts(L, &L->pin)) == NULL)
		return;
	body = take_body(L, f->body, f->len, &owned);
	add_part(L, L->cur, body, f->len, &owned);
}

/* Whether the O frame's type= and enc= are the P frames' (sent already). */
static int
same_headers(const struct upload *up, const struct object *o)
{
	return up->o.type.len == o->type.len && up->o.enc.len ==
	    o->enc.len && memcmp(up->o.type.data, o->type.data,
	    o->type.len) == 0 && memcmp(up->o.enc.data, o->enc.data,
	    o->enc.len) == 0;
}

/* The O frame of the upload in parts: its body is the last part. */
static void
end_in_parts(struct loop *L, struct object *o)
{
	struct upload *up = L->cur;
	struct buf owned = BUF_INIT;
	const char *body;

	L->cur = NULL;
	/*
	 * Its headers went with the Initiate (the O frame's last= is sent
	 * in none); an O frame that says otherwise stops the run, which
	 * aborts the upload.
	 */
	if (!same_headers(up, o)) {
		fail_upload(L, up, NULL, "its object frame's type= or enc= "
		    "differs from its part frames'");
		return;
	}
	if (o->len > 0) {
		body = take_body(L, o->body, o->len, &owned);
		add_part(L, up, body, o->len, &owned);
	}
	o->body = NULL;
	o->len = 0;
	object_release(&up->o);
	up->o = *o;			/* its fields: n, last, seqs, ... */
	object_init(o);
	up->ticket = markers_begin(L->mk, &up->o);
	up->ended = 1;
	if (up->upload_id != NULL && up->parts_done == up->nparts)
		start_complete(L, up);
}

/* The O frame of an object spooled from its parts: one PUT from the file. */
static void
end_spooled(struct loop *L, struct object *o)
{
	int fd;

	if (spool_add(L, o->key.data, o->body, o->len) < 0)
		return;
	o->body = NULL;
	o->len = 0;
	fd = L->spool;
	L->spool = -1;
	upload_begin(L, o, fd, &L->sums);
}

static void
take_frame(struct loop *L, const struct frame *f)
{
	struct object o;
	char why[1024];

	if (f->type == 'M') {
		report_error("stdin: byte %llu: a message frame, not an "
		    "object frame (pipe it through transform)",
		    (unsigned long long)f->offset);
		L->input_error = 1;
		return;
	}
	if (f->type == 'P') {
		take_part(L, f);
		return;
	}
	if (f->type != 'O')
		return;
	object_init(&o);
	if (object_parse(&o, f, why, sizeof(why)) < 0 ||
	    parts_end(&L->pin, &o, why, sizeof(why)) < 0) {
		report_error("stdin: %s", why);
		L->input_error = 1;
	} else if (o.parts > 0 && L->opt->exactly_once)
		end_spooled(L, &o);
	else if (o.parts > 0) {
		if (L->cur != NULL)	/* else it failed, and the run stops */
			end_in_parts(L, &o);
	} else {
		if (o.len >= STEAL_MIN)
			steal_body(L, &o.body, &o.owned);
		upload_begin(L, &o, -1, NULL);
	}
	object_release(&o);
}

/* Take the complete frames already buffered, while input is wanted. */
void
parse_buffered(struct loop *L)
{
	int rc;

	while (want_input(L) && (rc = frame_next(&L->r, &L->f)) != FRAME_MORE) {
		if (rc == FRAME_ERR) {
			report_error("%s", L->r.err);
			L->input_error = 1;
			return;
		}
		take_frame(L, &L->f);
	}
	if (frame_reader_done(&L->r))
		L->eof = 1;
}

/* Read what stdin has (a few reads at most) and take its frames. */
void
read_input(struct loop *L)
{
	struct pollfd pfd = { STDIN_FILENO, POLLIN, 0 };
	ssize_t n;
	int i;

	for (i = 0; i < READS_PER_TURN && want_input(L); i++) {
		if (i > 0 && (poll(&pfd, 1, 0) <= 0 || pfd.revents == 0))
			break;
		spare_adopt(L);
		n = frame_reader_fill(&L->r);
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			report_error("stdin: read: %s", strerror(errno));
			L->input_error = 1;
			return;
		}
		/* at end of input, frame_next() fails on a partial frame */
		parse_buffered(L);
		if (n == 0)
			return;
	}
}

/*
 * The input ended (or broke) inside an object in parts: it is not
 * stored; its multipart upload would never complete, so the run stops
 * and aborts it (abort_all).
 */
void
ended_in_parts(struct loop *L)
{
	char why[1024];

	if (L->fatal || L->pin.n == 0 || (!L->eof && !L->input_error))
		return;
	if (L->eof && parts_at_eof(&L->pin, why, sizeof(why)) < 0) {
		report_error("stdin: %s", why);
		L->input_error = 1;
	}
	spool_drop(L);
	if (L->cur != NULL)
		L->fatal = 1;
}
