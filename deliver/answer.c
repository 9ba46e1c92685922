/* What the store answered a request, and what comes next; see loop.h. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "deliver.h"
#include "log.h"
#include "manifest.h"
#include "xml.h"
#include "loop.h"

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

void
fail_upload(struct loop *L, const struct upload *up, const struct req *r,
    const char *why)
{
	if (!L->fatal)
		report_failed(&L->rp, up->fullkey.data, why, r != NULL ?
		    todo_for(r) : NULL);
	L->fatal = 1;
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

void
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
