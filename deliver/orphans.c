/*
 * Multipart uploads that a killed deliver left behind: they hold parts
 * (and cost storage) but no object, and no reader sees them.  At start,
 * deliver lists the uploads under its prefix (ListMultipartUploads) and
 * aborts those initiated longer ago than --orphan-age (lakepipe run
 * asks for 1 hour), by the store's clock, which no live deliver keeps
 * open: a part is
 * retried within minutes, an upload completes or is aborted when its
 * deliver ends.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "deliver.h"
#include "dest.h"
#include "log.h"
#include "store.h"
#include "upload.h"
#include "xml.h"

/* Abort one upload; 0 or -1 (logged). */
static int
abort_one(struct store *s, const struct options *opt, const char *key,
    const char *id)
{
	struct target t;
	int rc = 0;

	target_begin(&t, s, OP_ABORT, key, NULL, 0);
	t.up.upload_id = (char *)id;
	if (store_run(s, t.r, opt->retries, 0) != V_OK) {
		log_warn("cannot abort a leftover multipart upload", "key=%s "
		    "upload_id=%s error=%s", key, id, t.r->why);
		rc = -1;
	}
	t.up.upload_id = NULL;		/* borrowed */
	target_end(&t);
	return rc;
}

/* The <Upload>s of one answer older than max_age: aborted; their count. */
static unsigned
take_page(struct store *s, const struct options *opt, const struct buf *page,
    time_t now)
{
	const char *p = page->data, *end = page->data + page->len, *close;
	struct buf key = BUF_INIT, id = BUF_INIT, when = BUF_INIT;
	unsigned n = 0;

	while ((p = memmem(p, (size_t)(end - p), "<Upload>", 8)) != NULL &&
	    (close = memmem(p, (size_t)(end - p), "</Upload>", 9)) != NULL) {
		size_t len = (size_t)(close - p);
		long long t;

		buf_reset(&key);
		buf_reset(&id);
		buf_reset(&when);
		if (xml_text(p, len, "Key", &key) > 0 &&
		    xml_text(p, len, "UploadId", &id) > 0 &&
		    xml_text(p, len, "Initiated", &when) > 0 &&
		    (t = xml_time(when.data)) >= 0 &&
		    /* 0: all of them, also those of this second */
		    (double)(now - t) >= opt->orphan_age &&
		    abort_one(s, opt, key.data, id.data) == 0)
			n++;
		p = close + 9;
	}
	buf_release(&key);
	buf_release(&id);
	buf_release(&when);
	return n;
}

void
store_abort_orphans(struct store *s, const struct options *opt)
{
	struct sign_kv q[2];
	struct target t;
	unsigned n;

	q[0] = (struct sign_kv){ "prefix", s->d->prefix };
	q[1] = (struct sign_kv){ "uploads", NULL };
	target_begin(&t, s, OP_LIST, "", NULL, 0);
	t.r->query = q;
	t.r->nquery = 2;
	if (store_run(s, t.r, opt->retries, 0) != V_OK) {
		/* not worth failing for: a later start tries again */
		log_warn("cannot list leftover multipart uploads", "error=%s",
		    t.r->why);
		target_end(&t);
		return;
	}
	n = take_page(s, opt, &t.r->rbody, t.r->date != -1 ? t.r->date :
	    time(NULL));
	if (n > 0)
		log_info("aborted leftover multipart uploads", "count=%u "
		    "prefix=%s", n, s->d->prefix);
	target_end(&t);
}
