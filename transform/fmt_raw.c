/* The raw format: each payload as it is, then a newline. */
#include "buf.h"
#include "format.h"
#include "record.h"

static size_t
raw_add(void *p, struct buf *out, const struct msg *m, const struct row *r)
{
	buf_grow(out, m->len + 1);
	buf_add(out, m->body, m->len);
	buf_addch(out, '\n');
	return m->len + 1;
}

const struct fmt_ops fmt_raw = {
	.name = "raw",
	.ext = "txt",
	.type = "application/octet-stream",
	.begin = fmt_nothing,
	.add = raw_add,
	.end = fmt_nothing,
};
