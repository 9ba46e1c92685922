/* Object frames in, ack lines out; see object.h. */
#include <err.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "frame.h"
#include "log.h"
#include "object.h"
#include "seqs.h"

void
object_init(struct object *o)
{
	memset(o, 0, sizeof(*o));
	buf_init(&o->key, 0);
	buf_init(&o->type, 0);
	buf_init(&o->schema, 0);
	buf_init(&o->enc, 0);
	buf_init(&o->seqs, 0);
	buf_init(&o->first, 0);
	buf_init(&o->last, 0);
	buf_init(&o->topic, 0);
	buf_init(&o->prev, 0);
	buf_init(&o->bucket, 0);
	buf_init(&o->owned, 0);
}

void
object_release(struct object *o)
{
	buf_release(&o->key);
	buf_release(&o->type);
	buf_release(&o->schema);
	buf_release(&o->enc);
	buf_release(&o->seqs);
	buf_release(&o->first);
	buf_release(&o->last);
	buf_release(&o->topic);
	buf_release(&o->prev);
	buf_release(&o->bucket);
	buf_release(&o->owned);
	object_init(o);
}

const char *
object_key_check(const char *k, size_t n)
{
	size_t i, seg = 0;

	if (n == 0)
		return "empty key";
	if (k[0] == '/')
		return "absolute key (starts with '/')";
	for (i = 0; i <= n; i++) {
		if (i < n && ((unsigned char)k[i] < 0x20 || k[i] == 0x7f))
			return "control byte in the key";
		if (i < n && k[i] != '/')
			continue;
		if (i == seg)
			return "empty path segment in the key ('//' or a "
			    "trailing '/')";
		if (i - seg == 1 && k[seg] == '.')
			return "'.' path segment in the key";
		if (i - seg == 2 && k[seg] == '.' && k[seg + 1] == '.')
			return "'..' path segment in the key";
		seg = i + 1;
	}
	return NULL;
}

static int
bad(char *why, size_t whylen, const struct frame *f, const char *what)
{
	snprintf(why, whylen, "byte %llu: object frame: %s",
	    (unsigned long long)f->offset, what);
	return -1;
}

/* Decode an optional field into out; -1 on a bad escape. */
static int
get_opt(const struct frame *f, const char *name, struct buf *out)
{
	return frame_get(f, name, out) < 0 ? -1 : 0;
}

/*
 * pt=MIN-MAX, the publish times (ms) of the object's messages, for the
 * lag.  Older frames have none, or a single time: no lag then, and a
 * malformed one is no reason to refuse the object.
 */
static void
parse_pt(struct object *o, const struct frame *f)
{
	const struct frame_field *pt = frame_field(f, "pt");
	char tmp[48], *dash, *end1, *end2;

	if (pt == NULL || pt->vallen >= sizeof(tmp))
		return;
	memcpy(tmp, pt->val, pt->vallen);
	tmp[pt->vallen] = '\0';
	if ((dash = strchr(tmp, '-')) == NULL || dash == tmp)
		return;
	*dash = '\0';
	o->pt_min = strtoull(tmp, &end1, 10);
	o->pt_max = strtoull(dash + 1, &end2, 10);
	o->has_pt = *end1 == '\0' && *end2 == '\0' && dash[1] != '\0' &&
	    o->pt_min <= o->pt_max;
}

/* bucket=, bucket_start=, bucket_end= (deliver --markers): 0, or -1. */
static int
parse_bucket(struct object *o, const struct frame *f)
{
	int rc;

	if ((rc = frame_get(f, "bucket", &o->bucket)) <= 0)
		return rc;
	if (memchr(o->bucket.data, '\0', o->bucket.len) != NULL ||
	    object_key_check(o->bucket.data, o->bucket.len) != NULL ||
	    frame_get_u64(f, "bucket_start", &o->bucket_start) != 1 ||
	    frame_get_u64(f, "bucket_end", &o->bucket_end) != 1 ||
	    o->bucket_end <= o->bucket_start)
		return -1;
	return 0;
}

int
object_parse(struct object *o, const struct frame *f, char *why,
    size_t whylen)
{
	const struct frame_field *sq;
	struct seqs check = SEQS_INIT;
	const char *kwhy;
	uint64_t parts = 0;
	int rc;

	o->offset = f->offset;
	if (!f->has_body)
		return bad(why, whylen, f, "no body length");
	if ((rc = frame_get(f, "key", &o->key)) <= 0)
		return bad(why, whylen, f, rc == 0 ? "no key= field" :
		    "bad %-escape in key=");
	if (memchr(o->key.data, '\0', o->key.len) != NULL)
		return bad(why, whylen, f, "NUL byte in the key");
	if ((kwhy = object_key_check(o->key.data, o->key.len)) != NULL) {
		const struct frame_field *kf = frame_field(f, "key");
		char msg[256];

		/* the encoded form: one line, whatever the key holds */
		snprintf(msg, sizeof(msg), "unsafe key \"%.*s\": %s",
		    (int)(kf->vallen > 120 ? 120 : kf->vallen), kf->val, kwhy);
		return bad(why, whylen, f, msg);
	}
	if ((sq = frame_field(f, "seqs")) == NULL)
		return bad(why, whylen, f, "no seqs= field");
	rc = seqs_parse(&check, sq->val, sq->vallen);
	seqs_free(&check);
	if (rc < 0)
		return bad(why, whylen, f, "malformed seqs= field");
	buf_add(&o->seqs, sq->val, sq->vallen);
	if ((rc = frame_get_u64(f, "n", &o->n)) < 0)
		return bad(why, whylen, f, "malformed n= field");
	o->has_n = rc;
	if (frame_get_u64(f, "parts", &parts) < 0 || parts > UINT_MAX)
		return bad(why, whylen, f, "malformed parts= field");
	o->parts = (unsigned)parts;
	if (get_opt(f, "type", &o->type) < 0 ||
	    get_opt(f, "enc", &o->enc) < 0 ||
	    get_opt(f, "first", &o->first) < 0 ||
	    get_opt(f, "last", &o->last) < 0 ||
	    get_opt(f, "topic", &o->topic) < 0 ||
	    get_opt(f, "prev", &o->prev) < 0 ||
	    get_opt(f, "schema", &o->schema) < 0)
		return bad(why, whylen, f, "bad %-escape in a field");
	parse_pt(o, f);
	if (parse_bucket(o, f) < 0)
		return bad(why, whylen, f, "bucket= is not a safe key, or "
		    "comes without numeric bucket_start= and bucket_end=");
	o->body = f->body;
	o->len = f->len;
	o->total = f->len;
	return 0;
}

void
object_own_body(struct object *o)
{
	if (o->owned.cap != 0 || o->len == 0)
		return;
	buf_add(&o->owned, o->body, o->len);
	o->body = o->owned.data;
}

int
object_is_empty(const struct object *o)
{
	return o->has_n && o->n == 0 && o->total == 0;
}

void
ack_format(struct buf *out, const struct object *o, const char *fullkey,
    size_t fullkeylen, const char *extra)
{
	frame_begin_nobody(out, 'A');
	frame_add(out, "key", fullkey, fullkeylen);
	buf_addstr(out, " seqs=");
	buf_add(out, o->seqs.data, o->seqs.len);
	if (extra != NULL)
		buf_addstr(out, extra);
	buf_addch(out, '\n');
}

void
parts_init(struct parts_in *p)
{
	memset(p, 0, sizeof(*p));
	buf_init(&p->key, 0);
	buf_init(&p->type, 0);
	buf_init(&p->enc, 0);
	buf_init(&p->first, 0);
}

void
parts_release(struct parts_in *p)
{
	buf_release(&p->key);
	buf_release(&p->type);
	buf_release(&p->enc);
	buf_release(&p->first);
	parts_init(p);
}

int
parts_take(struct parts_in *p, const struct frame *f, char *why,
    size_t whylen)
{
	struct buf key = BUF_INIT;
	const char *kwhy;
	int rc = -1;

	if (!f->has_body || f->len < PART_MIN) {
		bad(why, whylen, f, "part frame: a body of at least 5 MiB "
		    "(S3's smallest part) is needed");
		goto out;
	}
	if (frame_get(f, "key", &key) <= 0 || memchr(key.data, '\0',
	    key.len) != NULL) {
		bad(why, whylen, f, "part frame: no key= field, or a bad one");
		goto out;
	}
	if (p->n == 0) {
		if ((kwhy = object_key_check(key.data, key.len)) != NULL) {
			bad(why, whylen, f, kwhy);
			goto out;
		}
		if (get_opt(f, "type", &p->type) < 0 ||
		    get_opt(f, "enc", &p->enc) < 0 ||
		    get_opt(f, "first", &p->first) < 0) {
			bad(why, whylen, f, "bad %-escape in a field");
			goto out;
		}
		buf_add(&p->key, key.data, key.len);
		p->offset = f->offset;
	} else if (key.len != p->key.len || memcmp(key.data, p->key.data,
	    key.len) != 0) {
		bad(why, whylen, f, "part frame of another object while the "
		    "parts of one are not ended by its object frame");
		goto out;
	}
	p->n++;
	p->bytes += f->len;
	rc = 0;
out:
	buf_release(&key);
	return rc;
}

int
parts_end(struct parts_in *p, struct object *o, char *why, size_t whylen)
{
	char msg[160];

	if (o->parts != p->n || (p->n > 0 && (o->key.len != p->key.len ||
	    memcmp(o->key.data, p->key.data, o->key.len) != 0))) {
		snprintf(msg, sizeof(msg), "object frame: parts=%u and key= "
		    "do not match the %u part frames before it", o->parts,
		    p->n);
		snprintf(why, whylen, "byte %llu: %s",
		    (unsigned long long)o->offset, msg);
		return -1;
	}
	o->total = p->bytes + o->len;
	parts_release(p);
	return 0;
}

int
parts_at_eof(const struct parts_in *p, char *why, size_t whylen)
{
	if (p->n == 0)
		return 0;
	snprintf(why, whylen, "byte %llu: input ended after %u part frames "
	    "of %s without its object frame (truncated: not stored, not "
	    "acked)", (unsigned long long)p->offset, p->n, p->key.data);
	return -1;
}

int
object_next(struct frame_reader *r, struct frame *f, struct object *o,
    struct parts_in *p, char *why, size_t whylen)
{
	char *msg;
	int rc;

	for (;;) {
		if ((rc = frame_next(r, f)) == FRAME_ERR) {
			snprintf(why, whylen, "%s", r->err);
			return -1;
		}
		if (rc == FRAME_MORE) {
			if (!frame_reader_done(r))
				return 2;
			rc = parts_at_eof(p, why, whylen);
			break;
		}
		if (f->type == 'O') {
			object_release(o);
			rc = object_parse(o, f, why, whylen) < 0 ? -1 :
			    parts_end(p, o, why, whylen) < 0 ? -1 : 1;
			break;
		}
		if (f->type == 'P') {
			rc = parts_take(p, f, why, whylen) < 0 ? -1 : 3;
			break;
		}
		if (f->type == 'M') {
			snprintf(why, whylen, "byte %llu: a message frame, "
			    "not an object frame (pipe it through transform)",
			    (unsigned long long)f->offset);
			rc = -1;
			break;
		}
	}
	if (rc == -1) {
		msg = xstrdup(why);
		snprintf(why, whylen, "%s: %s", r->name, msg);
		free(msg);
	}
	return rc;
}

int
ack_emit(const struct buf *line)
{
	return write_all(STDOUT_FILENO, line->data, line->len);
}

int
stdout_failed(int e)
{
	if (e == EPIPE)
		warnx("stdout closed");
	else
		warnx("stdout: %s", strerror(e));
	return EXIT_FAIL;
}
