/*
 * The reject stream's format: one JSON line per record that could not be
 * converted, with why and the original bytes, so that nothing is dropped
 * in silence and a fixed record can be sent again:
 *
 *   {"message_id":"7:3:-1:-1","topic":"...","partition":-1,
 *    "publish_time":"...","reason":"field id: \"x\" is not an int64",
 *    "payload_size":3,"payload_base64":"eHl6"}
 *
 * The row holds only the reason (row->why).
 */
#include <string.h>

#include "buf.h"
#include "fields.h"
#include "format.h"
#include "frame.h"
#include "json.h"
#include "record.h"
#include "utctime.h"

#define ADD_LIT(b, s)	buf_add((b), (s), sizeof(s) - 1)

static size_t
reject_add(void *p, struct buf *out, const struct msg *m, const struct row *r)
{
	struct buf dec = BUF_INIT;
	size_t start = out->len;

	ADD_LIT(out, "{\"message_id\":\"");
	buf_add(out, m->id->val, m->id->vallen);
	ADD_LIT(out, "\",\"topic\":");
	record_decode(&dec, m->topic->val, m->topic->vallen);
	(void)json_add_string(out, dec.data, dec.len, 0);
	ADD_LIT(out, ",\"partition\":");
	buf_addi64(out, m->mid.partition);
	ADD_LIT(out, ",\"publish_time\":\"");
	utc_add_iso(out, m->pt);
	ADD_LIT(out, "\",\"reason\":");
	(void)json_add_string(out, r->why, strlen(r->why), 0);
	ADD_LIT(out, ",\"payload_size\":");
	buf_addu64(out, m->len);
	ADD_LIT(out, ",\"payload_base64\":");
	if (m->null)
		ADD_LIT(out, "null");
	else {
		buf_addch(out, '"');
		base64_add(out, m->body, m->len);
		buf_addch(out, '"');
	}
	ADD_LIT(out, "}\n");
	buf_release(&dec);
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
