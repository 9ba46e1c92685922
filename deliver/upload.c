/* Uploads to COS and S3 and the loop that drives them; see upload.h. */
#include <err.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>

#include "buf.h"
#include "deliver.h"
#include "dest.h"
#include "digest.h"
#include "frame.h"
#include "log.h"
#include "manifest.h"
#include "marker.h"
#include "object.h"
#include "report.h"
#include "stop.h"
#include "store.h"
#include "upload.h"
#include "xml.h"

#define DEFAULT_PART_SIZE	((size_t)8 << 20)
#define MAX_PARTS		10000
#define MAX_LIVE		1024	/* objects in flight at most */
#define READS_PER_TURN		64	/* stdin reads between curl turns */
#define PARTS_HELD		2	/* part frames' bodies in memory at most */
#define MAX_PUT			(5ULL << 30)	/* S3's largest single PUT */
#define STEAL_MIN		(256 * 1024)	/* a body taken, not copied */
#define SPARE_IDLE		1.0	/* seconds the spare is kept unused */

struct loop {
	struct store	 s;
	const struct options *opt;
	struct frame_reader r;
	struct frame	 f;
	struct upload	*first, *last;
	size_t		 nlive;
	uint64_t	 inflight;	/* bytes of the live objects */
	int		 eof, input_error, fatal;
	struct report	 rp;
	struct markers	*mk;		/* --markers, or NULL */
	/*
	 * The object in parts being read: its P frames so far, its upload
	 * (cur), or with --exactly-once its spool file and the hashes of
	 * what is in it; held: part bodies in memory.
	 */
	struct parts_in	 pin;
	struct upload	*cur;
	int		 spool;
	struct body_sums sums;
	unsigned	 held;
	/*
	 * The memory of the last large body stored, kept for the reader to
	 * read the next one into (spare_adopt): its pages are resident
	 * already, and faulting fresh ones in for every object was a
	 * quarter of deliver's CPU.  At most one; freed when unused for
	 * SPARE_IDLE (spare_at: since when it waits) and at end of input.
	 */
	struct buf	 spare;
	double		 spare_at;
};

/* --- bookkeeping ----------------------------------------------------- */

/*
 * A body stored or given up: its memory becomes the spare if it was a
 * reader's buffer (large), holds more than the spare, and the reader's
 * own buffer is too small for a frame like it; else it is freed.
 */
static void
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
static void
spare_expire(struct loop *L)
{
	if (L->spare.cap != 0 && (L->eof || L->input_error ||
	    monotime() - L->spare_at > SPARE_IDLE))
		buf_release(&L->spare);
}

/* Part i of an upload in parts is stored (or given up): drop its body. */
static void
part_forget(struct loop *L, struct upload *up, unsigned i)
{
	body_done(L, &up->partmem[i]);
	up->parts[i]->body = NULL;
	L->held--;
	L->inflight -= up->parts[i]->len;
}

static void
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

/* What the operator can do about a request's failure, from its code. */
static const char *
todo_for(const struct req *r)
{
	static const struct { const char *code, *todo; } todos[] = {
		{ "AccessDenied", "check that the credentials may write "
		    "under the prefix (deliver --probe)" },
		{ "SignatureDoesNotMatch", "check the secret key" },
		{ "InvalidAccessKeyId", "check the key id" },
		{ "InvalidToken", "renew the session token" },
		{ "ExpiredToken", "renew the session token" },
		{ "NoSuchBucket", "check the bucket name and the region "
		    "(deliver --probe)" },
		{ "AuthorizationHeaderMalformed", "check the region "
		    "(deliver --probe)" },
		{ "PermanentRedirect", "check the region (deliver --probe)" },
	};
	size_t i;

	for (i = 0; i < sizeof(todos) / sizeof(todos[0]); i++)
		if (strcmp(r->code, todos[i].code) == 0)
			return todos[i].todo;
	if (r->status == 0)
		return "check --endpoint and the network (deliver --probe)";
	return NULL;
}

static void
fail_upload(struct loop *L, const struct upload *up, const struct req *r,
    const char *why)
{
	if (!L->fatal)
		report_failed(&L->rp, up->fullkey.data, why, r != NULL ?
		    todo_for(r) : NULL);
	L->fatal = 1;
}

static void
emit_ack(struct loop *L, const struct object *o, const char *fullkey,
    const char *extra)
{
	struct buf ack = BUF_INIT;

	ack_format(&ack, o, fullkey, strlen(fullkey), extra);
	if (ack_emit(&ack) < 0) {
		stdout_failed(errno);
		L->fatal = 1;
	}
	buf_release(&ack);
}

/*
 * --exactly-once stores one partition's objects one after the other: an
 * object stored after one that met a conflict could overlap what the
 * other writer stored (other partitions go on in parallel).
 */
static int
same_topic(const struct upload *a, const struct upload *b)
{
	return a->o.topic.len == b->o.topic.len &&
	    memcmp(a->o.topic.data, b->o.topic.data, a->o.topic.len) == 0;
}

/* Whether an earlier live upload is of up's topic. */
static int
topic_busy(const struct loop *L, const struct upload *up)
{
	const struct upload *u;

	for (u = L->first; u != NULL && u != up; u = u->next)
		if (same_topic(u, up))
			return 1;
	return 0;
}

/* up is stored: start the next held upload of its topic. */
static void
release_held(struct loop *L, const struct upload *up)
{
	struct upload *u;

	for (u = up->next; u != NULL; u = u->next)
		if (u->held && same_topic(u, up)) {
			u->held = 0;
			store_queue(&L->s, u->single);
			return;
		}
}

/*
 * Store the index entry of the manifest line (an object stored): a small
 * PUT, blocking, retried like the others: 0, or -1 with why.
 */
static int
put_index(struct loop *L, const char *line, char *why, size_t whylen)
{
	struct manifest m;
	struct buf key = BUF_INIT, body = BUF_INIT;
	struct target t;
	int rc = -1;

	manifest_init(&m);
	if (manifest_parse(&m, line, strlen(line), why, whylen) < 0)
		goto out;
	buf_addstr(&key, L->s.d->prefix);
	manifest_index_key(&key, &m);
	manifest_format(&body, &m);
	target_begin(&t, &L->s, OP_PUT, key.data, body.data, body.len);
	if (store_run(&L->s, t.r, L->opt->retries, 0) == V_OK)
		rc = 0;
	else
		snprintf(why, whylen, "index entry %s: %s", key.data,
		    t.r->why);
	target_end(&t);
out:
	manifest_release(&m);
	buf_release(&key);
	buf_release(&body);
	return rc;
}

/*
 * up is stored, as the object of the manifest line (--exactly-once; NULL
 * without), which has size bytes of CRC-64 crc: put its index entry in
 * place, ack it, start the next upload of its topic.
 */
static void
ack_stored(struct loop *L, struct upload *up, const char *line,
    uint64_t size, uint64_t crc, const struct buf *etag)
{
	struct buf extra = BUF_INIT, url = BUF_INIT;
	char crcs[CRC64_DEC_SIZE], why[1024];

	if (line != NULL && put_index(L, line, why, sizeof(why)) < 0) {
		fail_upload(L, up, NULL, why);
		return;
	}
	crc64_format(crcs, crc);
	buf_addf(&extra, " size=%llu", (unsigned long long)size);
	if (etag->len > 0)
		frame_add(&extra, "etag", etag->data, etag->len);
	buf_addf(&extra, " crc64=%s", crcs);
	store_object_url(&L->s, &url, up->fullkey.data);
	frame_add(&extra, "url", url.data, url.len);
	report_stored(&L->rp, &up->o, up->fullkey.data, size, up->started,
	    up->retries);
	emit_ack(L, &up->o, up->fullkey.data, extra.data);
	if (!L->fatal && markers_stored(L->mk, up->ticket) < 0)
		L->fatal = 1;
	buf_release(&extra);
	buf_release(&url);
	release_held(L, up);
	upload_free(L, up);
}

/* up is stored with the bytes it sent. */
static void
upload_acked(struct loop *L, struct upload *up, const struct buf *etag)
{
	ack_stored(L, up, up->manifest.len ? up->manifest.data : NULL,
	    up->o.total, up->crc, etag);
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

/* --- the steps of an upload ------------------------------------------ */

static void
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
static void
queue_parts(struct loop *L, struct upload *up)
{
	unsigned i;

	for (i = 0; i < up->nparts; i++)
		store_queue(&L->s, up->parts[i]);
	log_debug("multipart upload of parts", "key=%s upload_id=%s "
	    "parts_so_far=%u", up->fullkey.data, up->upload_id, up->nparts);
}

static void
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

/* Whether o's fields can go into HTTP headers; else an input error. */
static int
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

/* A live upload of o, which it takes over (its body copied if borrowed). */
static struct upload *
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

/*
 * Store the object o, whole: in memory, or spooled (sums: the hashes of
 * the spool file's bytes, NULL when in memory).
 */
static void
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

/*
 * The ETag that up's object has in a store that gives no CRC-64, into
 * out: the MD5 of a single PUT's body (computed now for s3, which sends
 * none), or for a multipart upload the MD5 of the parts' MD5s, which are
 * the ETags the store gave them (each part checked as it was stored),
 * and "-" and the number of parts.  "" when it cannot be known: a spool
 * file that cannot be read again (errno), a part ETag that is no MD5.
 */
static void
expected_etag(const struct upload *up, char out[64])
{
	unsigned char md[MD5_LEN];
	struct digest d;
	unsigned i;

	out[0] = '\0';
	if (up->nparts == 0) {
		if (req_md5(up->single) < 0)
			log_warn("cannot read the spool file again",
			    "key=%s error=%s", up->fullkey.data,
			    strerror(errno));
		else
			hex_format(out, up->single->md5raw, MD5_LEN);
		return;
	}
	digest_init(&d, DIGEST_MD5);
	for (i = 0; i < up->nparts; i++) {
		if (hex_decode(md, MD5_LEN, up->parts[i]->etag.data,
		    up->parts[i]->etag.len) < 0) {
			digest_free(&d);
			return;
		}
		digest_update(&d, md, MD5_LEN);
	}
	digest_final(&d, md);
	hex_format(out, md, MD5_LEN);
	snprintf(out + 2 * MD5_LEN, 64 - 2 * MD5_LEN, "-%u", up->nparts);
}

static void retry(struct loop *, struct req *, const char *);

/*
 * Whether the object that r found at up's key names up's messages in its
 * manifest (its metadata), into stored: up stored before, with other
 * bytes (manifest_same_messages), by a writer that died before its index
 * entry or its ack.
 */
static int
stored_before(const struct upload *up, const struct req *r,
    struct manifest *stored)
{
	struct manifest ours;
	char why[256];
	int same;

	if (r->rmanifest.len == 0 || manifest_parse(stored,
	    r->rmanifest.data, r->rmanifest.len, why, sizeof(why)) < 0)
		return 0;
	manifest_init(&ours);
	same = manifest_parse(&ours, up->manifest.data, up->manifest.len,
	    why, sizeof(why)) == 0 && manifest_same_messages(&ours, stored);
	manifest_release(&ours);
	return same;
}

/*
 * A no-overwrite write found its key holding another object.  Holding
 * the same messages (stored_before), it is this object stored before:
 * its index entry is put in place from its metadata and it is acked, as
 * stored.  Else it is another cut of the same first message, stored by a
 * writer that died before its index entry, or by another pipeline: put
 * its index entry in place, so that a restart reads the lake right, and
 * stop: nothing more is acked.
 */
static void
conflict(struct loop *L, struct req *r)
{
	struct upload *up = r->up;
	struct manifest stored;
	char why[1024], msg[1400];

	manifest_init(&stored);
	if (stored_before(up, r, &stored)) {
		log_info("already stored (a redelivery: same messages, other "
		    "bytes)", "key=%s manifest=\"%s\"", up->fullkey.data,
		    r->rmanifest.data);
		ack_stored(L, up, r->rmanifest.data, stored.size, stored.crc,
		    &r->etag);
		manifest_release(&stored);
		return;
	}
	manifest_release(&stored);
	if (r->rmanifest.len == 0)
		log_warn("the stored object carries no manifest in its "
		    "metadata: its index entry cannot be put in place",
		    "key=%s", up->fullkey.data);
	else if (put_index(L, r->rmanifest.data, why, sizeof(why)) < 0)
		log_warn("cannot put the stored object's index entry in place",
		    "key=%s error=%s", up->fullkey.data, why);
	else
		log_info("index entry of the stored object put in place",
		    "key=%s manifest=\"%s\"", up->fullkey.data,
		    r->rmanifest.data);
	snprintf(msg, sizeof(msg), "exists and holds other messages than "
	    "%s..%s (another writer, or a cut made before a crash); a "
	    "restart reads the lake again",
	    up->o.first.data, up->o.last.data);
	fail_upload(L, up, NULL, msg);
}

/* A HEAD after a lost answer: is the object there, whole? */
static void
verify_head(struct loop *L, struct req *r)
{
	struct upload *up = r->up;
	char want[64];
	int same;

	r->head = 0;
	if (up->nparts == 0)
		up->crc = r->crc;
	same = r->status == 200 && r->has_rlen && r->rlen == up->o.total;
	if (same && r->has_crc)
		same = r->rcrc == up->crc;
	else if (same) {
		expected_etag(up, want);
		same = want[0] != '\0' && strcasecmp(r->etag.data, want) == 0;
	}
	if (same) {
		log_debug("HEAD shows it stored", "key=%s", up->fullkey.data);
		upload_acked(L, up, &r->etag);
		return;
	}
	if (r->exists && r->status == 200) {
		conflict(L, r);
		return;
	}
	if (r->status == 200 && r->op == OP_COMPLETE) {
		/* completed, but not with what was sent */
		char msg[256];

		snprintf(msg, sizeof(msg), "stored object differs: %llu bytes "
		    "CRC-64 %llu, sent %llu bytes CRC-64 %llu",
		    (unsigned long long)r->rlen, (unsigned long long)r->rcrc,
		    (unsigned long long)up->o.total,
		    (unsigned long long)up->crc);
		fail_upload(L, up, NULL, msg);
		return;
	}
	if (r->op == OP_COMPLETE && r->checked) {
		fail_upload(L, up, NULL, "CompleteMultipartUpload: the upload "
		    "is gone (NoSuchUpload) and the object is not stored");
		return;
	}
	retry(L, r, r->status == 404 ? "not stored (HEAD: 404)" :
	    "stored object differs (HEAD)");
}

static void
retry(struct loop *L, struct req *r, const char *why)
{
	double wait;

	if (++r->attempt > L->opt->retries) {
		char msg[700];

		snprintf(msg, sizeof(msg), "gave up after %d retries: %s",
		    L->opt->retries, why);
		fail_upload(L, r->up, r, msg);
		return;
	}
	wait = store_backoff(r->attempt, r->retry_after);
	report_retry(&L->rp, r->up->fullkey.data, req_op_name(r),
	    r->up->retries++ == 0, wait, why);
	r->not_before = monotime() + wait;
	store_queue(&L->s, r);
}

static void
on_ok(struct loop *L, struct req *r)
{
	struct upload *up = r->up;
	struct buf id = BUF_INIT;

	if (r->head) {
		verify_head(L, r);
		return;
	}
	switch (r->op) {
	case OP_PUT:
		up->crc = r->crc;
		upload_acked(L, up, &r->etag);
		break;
	case OP_COMPLETE:
		/* COS and S3 give the object's ETag in the body */
		if (r->etag.len == 0 && xml_text(r->rbody.data, r->rbody.len,
		    "ETag", &r->etag) > 0 && r->etag.len >= 2 &&
		    r->etag.data[0] == '"') {
			buf_consume(&r->etag, 1);
			buf_setlen(&r->etag, r->etag.len - 1);
		}
		upload_acked(L, up, &r->etag);
		break;
	case OP_INIT:
		if (xml_text(r->rbody.data, r->rbody.len, "UploadId", &id) <= 0
		    || id.len == 0) {
			fail_upload(L, up, NULL, "InitiateMultipartUpload: no "
			    "UploadId in the answer");
			break;
		}
		up->upload_id = buf_detach(&id, NULL);
		if (up->in_parts)
			queue_parts(L, up);
		else
			start_parts(L, up);
		break;
	case OP_PART:
		if (r->etag.len == 0) {
			fail_upload(L, up, NULL, "UploadPart: no ETag in the "
			    "answer");
			break;
		}
		if (up->in_parts)
			part_forget(L, up, r->part - 1);
		if (++up->parts_done == up->nparts &&
		    (!up->in_parts || up->ended))
			start_complete(L, up);
		break;
	default:		/* OP_ABORT; the rest are not sent here */
		break;
	}
	buf_release(&id);
}

/* Send r again at once, as a HEAD that asks whether the write landed. */
static void
check_with_head(struct loop *L, struct req *r)
{
	if (r->exists)		/* not a failure yet: whose object is it? */
		log_debug("key taken, comparing with HEAD", "key=%s cause=%s",
		    r->up->fullkey.data, r->why);
	else
		report_retry(&L->rp, r->up->fullkey.data, "HeadObject",
		    r->up->retries++ == 0, 0, r->why);
	r->head = 1;
	r->not_before = 0;
	store_queue(&L->s, r);
}

static void
on_done(struct loop *L, struct req *r, enum req_verdict v)
{
	switch (v) {
	case V_OK:
		on_ok(L, r);
		break;
	case V_RETRY:
		retry(L, r, r->why);
		break;
	case V_UNKNOWN:
		if (r->op == OP_PART) {
			/* a part can be sent again as it is */
			retry(L, r, r->why);
			break;
		}
		check_with_head(L, r);
		break;
	case V_SKEW:
		if (r->skew_retried || r->date == -1) {
			fail_upload(L, r->up, r, r->why);
			break;
		}
		r->skew_retried = 1;
		L->s.skew = (long)(r->date - time(NULL));
		log_warn("clock differs from the store's, signing again",
		    "key=%s offset_s=%+ld cause=%s", r->up->fullkey.data,
		    L->s.skew, r->why);
		r->not_before = 0;
		store_queue(&L->s, r);
		break;
	case V_FATAL:
		/*
		 * A Complete whose answer was lost and that was sent again
		 * (by us, or by libcurl itself on a reused connection) finds
		 * the upload gone: did the first one store the object?
		 */
		if (r->op == OP_COMPLETE && !r->head &&
		    strcmp(r->code, "NoSuchUpload") == 0 && !r->checked) {
			r->checked = 1;
			check_with_head(L, r);
			break;
		}
		fail_upload(L, r->up, r, r->why);
		break;
	}
}

/* --- input ----------------------------------------------------------- */

static int
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
static void
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
static void
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
static void
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

/* --- the loop -------------------------------------------------------- */

/* Stop every transfer in flight; nonzero if a part was among them. */
static int
cancel_all(struct loop *L)
{
	struct upload *up;
	unsigned i;
	int parts = 0;

	for (up = L->first; up != NULL; up = up->next) {
		for (i = 0; i < up->nparts; i++)
			if (up->parts[i]->in_multi) {
				parts = 1;
				req_cancel(up->parts[i], &L->s);
			}
		if (up->single != NULL && up->single->in_multi)
			req_cancel(up->single, &L->s);
	}
	return parts;
}

/* Abort every multipart upload; again: NoSuchUpload is no failure. */
static void
abort_uploads(struct loop *L, int again)
{
	struct upload *up;
	struct req *a;

	for (up = L->first; up != NULL; up = up->next) {
		if (up->upload_id == NULL)
			continue;
		a = req_new(up, OP_ABORT, 0, NULL, 0);
		if (store_run_sync(&L->s, a, 10) == V_OK)
			log_info("multipart upload aborted", "key=%s "
			    "upload_id=%s", up->fullkey.data, up->upload_id);
		else if (!again || strcmp(a->code, "NoSuchUpload") != 0)
			warnx("%s: abort of upload %s failed: %s",
			    up->fullkey.data, up->upload_id, a->why);
		req_free(a, &L->s);
	}
}

/*
 * On a fatal error: cancel what is in flight and abort the multipart
 * uploads, so that no parts are left to pay for.  A part the store was
 * already taking in may land after the abort: as S3 advises, give such
 * parts a moment, and abort once more after.
 */
static void
abort_all(struct loop *L)
{
	int parts = cancel_all(L);

	abort_uploads(L, 0);
	if (parts) {
		usleep(300 * 1000);
		abort_uploads(L, 1);
	}
}

static void
turn(struct loop *L)
{
	struct curl_waitfd wfd = { STDIN_FILENO, CURL_WAIT_POLLIN, 0 };
	int input, running, left, tick;
	long timeout;
	CURLMsg *m;

	/* frames left buffered while memory was short come first */
	parse_buffered(L);
	input = want_input(L);
	timeout = store_kick(&L->s);
	if (timeout > 1000)
		timeout = 1000;
	if ((tick = report_timeout_ms(&L->rp)) >= 0 && tick < timeout)
		timeout = tick;
	if ((tick = markers_timeout_ms(L->mk)) >= 0 && tick < timeout)
		timeout = tick;
	curl_multi_poll(L->s.multi, input ? &wfd : NULL, input ? 1 : 0,
	    (int)timeout, NULL);
	if (input && (wfd.revents & (CURL_WAIT_POLLIN | POLLHUP | POLLERR)))
		read_input(L);
	curl_multi_perform(L->s.multi, &running);
	while ((m = curl_multi_info_read(L->s.multi, &left)) != NULL) {
		struct req *r;

		if (m->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE,
		    (char **)&r);
		on_done(L, r, store_finish(&L->s, r, m->data.result));
		if (L->fatal)
			break;
	}
	spare_expire(L);
	report_tick(&L->rp);
	if (!L->fatal && markers_tick(L->mk) < 0)
		L->fatal = 1;
}

/*
 * The input ended (or broke) inside an object in parts: it is not
 * stored; its multipart upload would never complete, so the run stops
 * and aborts it (abort_all).
 */
static void
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

int
deliver_remote(const struct dest *d, const struct options *opt)
{
	struct loop L;
	char why[1024];
	int status;

	memset(&L, 0, sizeof(L));
	L.opt = opt;
	L.spool = -1;
	buf_init(&L.spare, 0);
	parts_init(&L.pin);
	if (store_init(&L.s, d, opt, why, sizeof(why)) < 0) {
		report_error("%s", why);
		store_release(&L.s);
		return EXIT_FAIL;
	}
	frame_reader_init(&L.r, STDIN_FILENO, "stdin");
	frame_init(&L.f);
	report_init(&L.rp, opt->progress);
	log_info("storing", "destination=%s signature=%s", d->base,
	    d->kind == DEST_COS ? "cos" : "sigv4");
	if (opt->orphan_age >= 0)
		store_abort_orphans(&L.s, opt);
	if ((L.mk = markers_open(d, opt, &status)) == NULL && status)
		L.fatal = 1;
	stop_catch();
	while (!L.fatal && (want_input(&L) || L.nlive > 0)) {
		turn(&L);
		ended_in_parts(&L);
		stop_tell();
		if (stop_now() && !L.fatal) {
			report_error("stopped by signal %d: %zu object%s in "
			    "flight not acked", stop_now(), L.nlive,
			    L.nlive == 1 ? "" : "s");
			L.fatal = 1;
		}
	}
	if (L.fatal)
		abort_all(&L);
	while (L.first != NULL)
		upload_free(&L, L.first);
	spool_drop(&L);
	buf_release(&L.spare);
	parts_release(&L.pin);
	status = L.fatal || L.input_error ? EXIT_FAIL : EXIT_OK;
	report_done(&L.rp, status == EXIT_OK);
	report_release(&L.rp);
	frame_release(&L.f);
	frame_reader_release(&L.r);
	markers_close(L.mk);
	store_release(&L.s);
	return status;
}
