/* An upload's life: made, begun, its parts, completed, freed; see loop.h. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "deliver.h"
#include "dest.h"
#include "log.h"
#include "manifest.h"
#include "marker.h"
#include "loop.h"

/* A live upload of o, which it takes over (its body copied if borrowed). */
struct upload *
upload_new(struct loop *L, struct object *o)
{
	struct upload *up = xcalloc(1, sizeof(*up));

	up->o = *o;
	object_init(o);
	object_own_body(&up->o);
	up->spool = -1;
	buf_init(&up->fullkey, 0);
	buf_init(&up->path, 0);
	buf_addstr(&up->fullkey, L->s.d->prefix);
	buf_add(&up->fullkey, up->o.key.data, up->o.key.len);
	store_object_path(&L->s, &up->path, up->fullkey.data);
	up->started = monotime();
	up->prev = L->last;
	if (L->last != NULL)
		L->last->next = up;
	else
		L->first = up;
	L->last = up;
	L->nlive++;
	L->inflight += up->o.len;
	return up;
}

/* Nonzero if s can go into an HTTP header as it is. */
static int
header_safe(const struct buf *s)
{
	size_t i;

	for (i = 0; i < s->len; i++)
		if ((unsigned char)s->data[i] < 0x20 ||
		    (unsigned char)s->data[i] >= 0x7f)
			return 0;
	return 1;
}

/* Whether o's fields can go into HTTP headers; else an input error. */
int
headers_ok(struct loop *L, const struct object *o)
{
	if (header_safe(&o->type) && header_safe(&o->enc) &&
	    header_safe(&o->first) && header_safe(&o->last))
		return 1;
	report_error("stdin: byte %llu: object frame: type=, enc=, first= or "
	    "last= holds a byte that cannot go into an HTTP header",
	    (unsigned long long)o->offset);
	L->input_error = 1;
	return 0;
}

/* An index line for a header: bytes a header cannot hold %-escaped. */
static void
header_line(struct buf *out, const struct manifest *m)
{
	struct buf line = BUF_INIT;
	size_t i;

	manifest_format(&line, m);
	buf_init(out, 0);
	for (i = 0; i + 1 < line.len; i++) {
		unsigned char c = (unsigned char)line.data[i];

		if (c >= 0x7f)
			buf_addf(out, "%%%02X", c);
		else
			buf_addch(out, (char)c);
	}
	buf_release(&line);
}

/*
 * S3 and COS take 2 KB of user metadata: a manifest longer than this goes
 * into the metadata without its schema (the index entry keeps it).
 */
#define META_MAX	1536

/*
 * --exactly-once: the object's manifest (its bytes have CRC-64 crc), sent
 * as its metadata and stored as its index entry once it is stored; bytes
 * a header cannot hold are %-escaped, which an index line allows anywhere
 * in a value.
 */
static int
once_manifest(struct loop *L, struct upload *up, uint64_t crc)
{
	struct manifest m;
	char why[512];
	int rc = -1;

	manifest_init(&m);
	up->crc = crc;
	if (manifest_of_object(&m, &up->o, up->crc, why, sizeof(why)) < 0) {
		report_error("stdin: byte %llu: object frame: %s",
		    (unsigned long long)up->o.offset, why);
		L->input_error = 1;
		upload_free(L, up);
		goto out;
	}
	header_line(&up->manifest, &m);
	if (up->manifest.len <= META_MAX) {
		buf_init(&up->meta, 0);
		buf_add(&up->meta, up->manifest.data, up->manifest.len);
	} else {
		buf_release(&m.schema);
		header_line(&up->meta, &m);
	}
	rc = 0;
out:
	manifest_release(&m);
	return rc;
}

/*
 * Store the object o, whole: in memory, or spooled (sums: the hashes of
 * the spool file's bytes, NULL when in memory).
 */
void
upload_begin(struct loop *L, struct object *o, int spool,
    struct body_sums *sums)
{
	struct upload *up;

	if (!headers_ok(L, o)) {
		if (spool >= 0)
			close(spool);
		return;
	}
	up = upload_new(L, o);
	up->spool = spool;
	up->ticket = markers_begin(L->mk, &up->o);
	if (object_is_empty(&up->o)) {
		log_debug("empty object acked, not stored", "key=%s",
		    up->fullkey.data);
		emit_ack(L, &up->o, up->fullkey.data, " n=0");
		if (!L->fatal && markers_stored(L->mk, up->ticket) < 0)
			L->fatal = 1;
		upload_free(L, up);
		return;
	}
	if (L->opt->exactly_once && once_manifest(L, up, sums != NULL ?
	    sums->crc : crc64_update(0, up->o.body, up->o.len)) < 0)
		return;
	if (spool >= 0) {
		up->single = req_new(up, OP_PUT, 0, NULL, up->o.total);
		up->single->src_fd = spool;
		req_take_sums(up->single, sums);
	} else if (up->o.len < L->opt->multipart_threshold)
		up->single = req_new(up, OP_PUT, 0, up->o.body, up->o.len);
	else
		up->single = req_new(up, OP_INIT, 0, "", 0);
	if (L->opt->exactly_once && topic_busy(L, up))
		up->held = 1;		/* after the one before it */
	else
		store_queue(&L->s, up->single);
}

void
start_parts(struct loop *L, struct upload *up)
{
	size_t ps = L->opt->part_size ? L->opt->part_size : DEFAULT_PART_SIZE;
	size_t len = up->o.len, off;
	unsigned i;

	/* 10000 parts must hold the object: round up to whole MiB */
	if ((len + ps - 1) / ps > MAX_PARTS) {
		ps = (len + MAX_PARTS - 1) / MAX_PARTS;
		ps = (ps + (1 << 20) - 1) & ~(size_t)((1 << 20) - 1);
	}
	up->nparts = (unsigned)((len + ps - 1) / ps);
	up->parts = xcalloc(up->nparts, sizeof(*up->parts));
	for (i = 0, off = 0; i < up->nparts; i++, off += ps) {
		size_t n = len - off < ps ? len - off : ps;

		up->parts[i] = req_new(up, OP_PART, i + 1, up->o.body + off, n);
		store_queue(&L->s, up->parts[i]);
	}
	log_debug("multipart upload", "key=%s upload_id=%s parts=%u "
	    "part_bytes=%zu", up->fullkey.data, up->upload_id, up->nparts, ps);
}

/* The upload in parts is initiated: send the parts that came so far. */
void
queue_parts(struct loop *L, struct upload *up)
{
	unsigned i;

	for (i = 0; i < up->nparts; i++)
		store_queue(&L->s, up->parts[i]);
	log_debug("multipart upload of parts", "key=%s upload_id=%s "
	    "parts_so_far=%u", up->fullkey.data, up->upload_id, up->nparts);
}

void
start_complete(struct loop *L, struct upload *up)
{
	struct req *c;
	struct buf *x;
	unsigned i;

	up->crc = 0;
	for (i = 0; i < up->nparts; i++)
		up->crc = i == 0 ? up->parts[i]->crc : crc64_combine(up->crc,
		    up->parts[i]->crc, up->parts[i]->len);
	req_free(up->single, &L->s);
	c = up->single = req_new(up, OP_COMPLETE, 0, NULL, 0);
	x = &c->ownbody;
	buf_addstr(x, "<CompleteMultipartUpload>");
	for (i = 0; i < up->nparts; i++)
		buf_addf(x, "<Part><PartNumber>%u</PartNumber><ETag>\"%s\""
		    "</ETag></Part>", i + 1, up->parts[i]->etag.data);
	buf_addstr(x, "</CompleteMultipartUpload>");
	c->body = x->data;
	c->len = x->len;
	c->crc = up->crc;
	req_hash(c, &L->s, 1);
	store_queue(&L->s, c);
}

/* Part i of an upload in parts is stored (or given up): drop its body. */
void
part_forget(struct loop *L, struct upload *up, unsigned i)
{
	body_done(L, &up->partmem[i]);
	up->parts[i]->body = NULL;
	L->held--;
	L->inflight -= up->parts[i]->len;
}

void
upload_free(struct loop *L, struct upload *up)
{
	unsigned i;

	if (up->prev != NULL)
		up->prev->next = up->next;
	else
		L->first = up->next;
	if (up->next != NULL)
		up->next->prev = up->prev;
	else
		L->last = up->prev;
	L->nlive--;
	L->inflight -= up->o.len;
	for (i = 0; i < up->nparts; i++) {
		if (up->partmem != NULL && up->partmem[i].cap != 0)
			part_forget(L, up, i);
		req_free(up->parts[i], &L->s);
	}
	free(up->parts);
	free(up->partmem);
	if (up->spool >= 0)
		close(up->spool);
	if (L->cur == up)
		L->cur = NULL;
	req_free(up->single, &L->s);
	free(up->upload_id);
	buf_release(&up->fullkey);
	buf_release(&up->path);
	buf_release(&up->manifest);
	buf_release(&up->meta);
	body_done(L, &up->o.owned);
	object_release(&up->o);
	free(up);
}

void
target_begin(struct target *t, struct store *s, int op, const char *fullkey,
    const char *body, size_t len)
{
	struct upload *up = &t->up;

	memset(t, 0, sizeof(*t));
	t->s = s;
	object_init(&up->o);
	buf_init(&up->fullkey, 0);
	buf_init(&up->path, 0);
	buf_addstr(&up->fullkey, fullkey);
	store_object_path(s, &up->path, fullkey);
	t->r = req_new(up, (enum req_op)op, 0, body, len);
}

void
target_end(struct target *t)
{
	req_free(t->r, t->s);
	object_release(&t->up.o);
	buf_release(&t->up.fullkey);
	buf_release(&t->up.path);
}
