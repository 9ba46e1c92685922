/*
 * The reject stream's format: one JSON line per record that could not be
 * converted, so that nothing is dropped in silence: the jsonl envelope
 * (record.c) with a "reason" member before the payload, which is always
 * base64, the original bytes:
 *
 *   {"message_id":"7:3:-1:-1","topic":"...",...,"redelivery_count":0,
 *    "reason":"field id: \"x\" is not an int64 (...)",
 *    "payload_encoding":"base64","payload_size":3,"payload":"eHl6"}
 *
 * Being the envelope, a reject object is restored by consume --lake like
 * any jsonl object: fix the spec and send the records again.  The row
 * holds only the reason (row->why).
 */
#include "buf.h"
#include "fields.h"
#include "format.h"
#include "record.h"

static size_t
reject_add(void *p, struct buf *out, const struct msg *m, const struct row *r)
{
	static struct buf scratch = BUF_INIT;	/* reused, never freed */
	size_t start = out->len;

	record_add_reject(out, m, &scratch, r->why);
	return out->len - start;
}

const struct fmt_ops fmt_reject = {
	.name = "reject",
	.ext = "jsonl",
	.type = "application/x-ndjson",
	.begin = fmt_nothing,
	.add = reject_add,
	.end = fmt_nothing,
};
