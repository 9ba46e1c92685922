/*
 * The raw format: each payload as it is, then a newline.  An object
 * whose payloads are all text (UTF-8 without NUL bytes) is .txt, else
 * .bin: a reader should not take binary payloads for lines of text.
 */
#include <stdlib.h>

#include "buf.h"
#include "format.h"
#include "json.h"
#include "record.h"

struct raw {
	int	binary;		/* a payload of the object is not text */
};

static void *
raw_new(const struct fmt_conf *conf)
{
	(void)conf;
	return xcalloc(1, sizeof(struct raw));
}

static void
raw_free(void *p)
{
	free(p);
}

static void
raw_begin(void *p, struct buf *out)
{
	struct raw *r = p;

	(void)out;
	r->binary = 0;
}

static size_t
raw_add(void *p, struct buf *out, const struct msg *m, const struct row *row)
{
	struct raw *r = p;

	(void)row;
	if (!r->binary && !utf8_valid_nonul(m->body, m->len))
		r->binary = 1;
	buf_grow(out, m->len + 1);
	buf_add(out, m->body, m->len);
	buf_addch(out, '\n');
	return m->len + 1;
}

static const char *
raw_ext(const void *p)
{
	const struct raw *r = p;

	return r->binary ? "bin" : "txt";
}

const struct fmt_ops fmt_raw = {
	.name = "raw",
	.ext = "txt",
	.type = "application/octet-stream",
	.state_new = raw_new,
	.state_free = raw_free,
	.begin = raw_begin,
	.add = raw_add,
	.end = fmt_nothing,
	.ext_of = raw_ext,
};
