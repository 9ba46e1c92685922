/* An object stored: its index entry, its ack, the next of its topic. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "deliver.h"
#include "dest.h"
#include "manifest.h"
#include "marker.h"
#include "loop.h"

void
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
int
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
int
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
void
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
void
upload_acked(struct loop *L, struct upload *up, const struct buf *etag)
{
	ack_stored(L, up, up->manifest.len ? up->manifest.data : NULL,
	    up->o.total, up->crc, etag);
}
