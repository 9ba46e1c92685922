/* unit: transform/record.c transform/json_valid.c transform/json_get.c transform/json_write.c transform/key.c deliver/object.c */
/*
 * fuzz-frame: a frame stream as transform and deliver read it: the frame
 * reader (headers, lengths, bodies, the errors), fields and their
 * percent-decoding; message frames through transform's msg_parse and
 * record_add and the object key transform makes of them (key_render),
 * object frames through deliver's object_parse and ack_format, part frames
 * through parts_take and parts_end.
 * Properties checked: a frame written back from its fields parses to the
 * same fields; a jsonl record is one JSON object; a key transform makes
 * is one deliver takes (object_key_check); the ack line deliver writes
 * is one that consume reads (its seqs= parses).
 */
#include <string.h>

#include "buf.h"
#include "frame.h"
#include "fuzz.h"
#include "../deliver/object.h"
#include "pct.h"
#include "../transform/record.h"
#include "../transform/json.h"
#include "../transform/key.h"
#include "seqs.h"

/* Every field the parser took decodes; encoded again, it decodes to
   the same bytes. */
static void
check_fields(const struct frame *f, struct buf *a, struct buf *b)
{
	struct buf c = BUF_INIT;
	uint64_t v;
	size_t i;

	for (i = 0; i < f->nfields; i++) {
		const struct frame_field *fl = &f->fields[i];

		buf_reset(a);
		if (pct_decode(a, fl->val, fl->vallen) < 0)
			fuzz_fail("a field the parser took does not decode");
		buf_reset(b);
		pct_encode_value(b, a->data, a->len);
		buf_reset(&c);
		fuzz_check(pct_decode(&c, b->data, b->len) == 0);
		fuzz_check(c.len == a->len && memcmp(c.data, a->data,
		    a->len) == 0);
	}
	buf_release(&c);
	(void)frame_get_u64(f, "seq", &v);
	(void)frame_get_u64(f, "n", &v);
}

/* The header written back with frame_add_field parses to the same. */
static void
check_rewrite(const struct frame *f, struct buf *out)
{
	struct frame g;
	const char *why;
	size_t i;

	buf_reset(out);
	if (f->has_body)
		frame_begin(out, f->type, f->len);
	else
		frame_begin_nobody(out, f->type);
	for (i = 0; i < f->nfields; i++)
		frame_add_field(out, &f->fields[i]);
	frame_init(&g);
	if (frame_parse_header(&g, out->data, out->len, FRAME_DEFAULT_MAX_BODY,
	    &why) < 0)
		fuzz_fail(why);
	fuzz_check(g.type == f->type && g.has_body == f->has_body &&
	    g.len == f->len && g.nfields == f->nfields);
	for (i = 0; i < f->nfields; i++)
		fuzz_check(g.fields[i].namelen == f->fields[i].namelen &&
		    g.fields[i].vallen == f->fields[i].vallen &&
		    memcmp(g.fields[i].name, f->fields[i].name,
		    f->fields[i].namelen) == 0 &&
		    memcmp(g.fields[i].val, f->fields[i].val,
		    f->fields[i].vallen) == 0);
	frame_release(&g);
}

/* The keys of an object starting with this message, as batch.c makes
   them: the default template and one with every variable. */
static void
check_keys(const struct msg *m, struct buf *out, struct buf *scratch)
{
	static const char *const tmpls[] = {
		KEY_DEFAULT_TEMPLATE,
		"x/{tenant}/{namespace}/{name}/p={partition}/{date}/{mi}{ss}/"
		    "{first_id}.{ext}",
	};
	struct key_tmpl t;
	struct key_vars v;
	char why[256];
	size_t i;

	buf_reset(scratch);
	if (pct_decode(scratch, m->topic->val, m->topic->vallen) < 0)
		return;
	v.topic = scratch->data;
	v.topiclen = scratch->len;
	v.ledger = m->mid.ledger;
	v.entry = m->mid.entry;
	v.partition = m->mid.partition;
	v.batch = m->mid.batch;
	v.pt_ms = m->pt;
	v.tz = NULL;
	v.ext = "jsonl.gz";
	v.fields = NULL;
	v.fieldslen = 0;
	for (i = 0; i < sizeof(tmpls) / sizeof(tmpls[0]); i++) {
		if (key_tmpl_parse(&t, tmpls[i], why, sizeof(why)) < 0)
			fuzz_fail(why);
		buf_reset(out);
		if (key_render(&t, &v, out) == 0) {
			fuzz_check(out->len > 0 && out->len <= KEY_MAX);
			if (object_key_check(out->data, out->len) != NULL)
				fuzz_fail("a key transform makes that deliver "
				    "refuses");
		} else	/* only a key too long is refused */
			fuzz_check(v.topiclen > KEY_MAX / 2);
		key_tmpl_free(&t);
	}
}

/*
 * A message kept from the frame before (msg_parse's update) is what a
 * fresh one gives: the same answer, the same fields.
 */
static void
check_kept(const struct msg *kept, const struct msg *m)
{
	fuzz_check(kept->seq == m->seq && kept->pt == m->pt &&
	    kept->et == m->et && kept->rc == m->rc &&
	    kept->has_et == m->has_et && kept->null == m->null &&
	    kept->cut == m->cut && kept->has_props == m->has_props &&
	    kept->id == m->id && kept->topic == m->topic &&
	    kept->key == m->key && kept->prev == m->prev &&
	    kept->body == m->body && kept->len == m->len &&
	    memcmp(&kept->mid, &m->mid, sizeof(m->mid)) == 0);
}

static void
do_message(const struct frame *f, struct msg *kept, struct buf *out,
    struct buf *scratch)
{
	struct msg m;
	const char *why, *why_kept;
	int rc, rc_kept;

	rc_kept = msg_parse(kept, f, &why_kept);
	memset(&m, 0, sizeof(m));
	rc = msg_parse(&m, f, &why);
	fuzz_check(rc == rc_kept && (rc == 0 || strcmp(why, why_kept) == 0));
	if (rc < 0) {
		memset(kept, 0, sizeof(*kept));
		return;
	}
	check_kept(kept, &m);
	check_keys(&m, out, scratch);
	buf_reset(out);
	record_add(out, FMT_JSONL, &m, scratch);
	fuzz_check(out->len > 0 && out->data[out->len - 1] == '\n');
	/* one JSON object a line; a payload at the depth limit sits one
	   level deeper in it, which the validator refuses by design */
	if (!json_is_container(out->data, out->len - 1) &&
	    !json_is_container(m.body, m.len))
		fuzz_fail("a jsonl record that is not one JSON object");
	buf_reset(out);
	record_add(out, FMT_RAW, &m, scratch);
	fuzz_check(out->len == m.len + 1);
}

static void
do_object(const struct frame *f, struct buf *out, struct parts_in *p)
{
	uint64_t parts_bytes = p->bytes;
	struct object o;
	struct frame a;
	struct seqs s = SEQS_INIT;
	const struct frame_field *sq;
	const char *why;
	char err[512];

	object_init(&o);
	if (object_parse(&o, f, err, sizeof(err)) == 0) {
		buf_reset(out);
		ack_format(out, &o, o.key.data, o.key.len, " etag=%22x%22");
		fuzz_check(out->len > 0 && out->data[out->len - 1] == '\n');
		frame_init(&a);
		if (frame_parse_header(&a, out->data, out->len - 1, 0,
		    &why) < 0)
			fuzz_fail(why);
		fuzz_check(a.type == 'A');
		if ((sq = frame_field(&a, "seqs")) == NULL ||
		    seqs_parse(&s, sq->val, sq->vallen) < 0)
			fuzz_fail("an ack line without a valid seqs=");
		seqs_free(&s);
		frame_release(&a);
		object_own_body(&o);
		(void)object_is_empty(&o);
		/* the object frame ends the parts before it, or is refused */
		if (parts_end(p, &o, err, sizeof(err)) == 0)
			fuzz_check(o.total == parts_bytes + o.len &&
			    p->n == 0);
	}
	object_release(&o);
}

static void
each_frame(struct frame_reader *r, struct frame *f, struct buf *a,
    struct buf *b)
{
	struct parts_in p;
	struct msg kept;
	char err[512];

	parts_init(&p);
	memset(&kept, 0, sizeof(kept));
	while (frame_next(r, f) == FRAME_OK) {
		fuzz_check(!f->has_body || f->body[f->len] == '\n');
		check_fields(f, a, b);
		check_rewrite(f, a);
		if (f->type == 'M')
			do_message(f, &kept, a, b);
		else if (f->type == 'O')
			do_object(f, a, &p);
		else if (f->type == 'P')
			(void)parts_take(&p, f, err, sizeof(err));
	}
	(void)parts_at_eof(&p, err, sizeof(err));
	parts_release(&p);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct frame_reader r;
	struct frame f;
	struct buf a = BUF_INIT, b = BUF_INIT;
	size_t cut = size / 3;

	/* in two reads, the first cut anywhere, as a pipe gives them */
	frame_reader_init(&r, -1, "fuzz");
	frame_init(&f);
	buf_add(&r.in, data, cut);
	each_frame(&r, &f, &a, &b);
	buf_add(&r.in, data + cut, size - cut);
	r.eof = 1;
	each_frame(&r, &f, &a, &b);
	(void)frame_reader_done(&r);
	frame_release(&f);
	frame_reader_release(&r);
	buf_release(&a);
	buf_release(&b);
	return 0;
}
