/* unit: consume/ackstream.c */
/*
 * fuzz-ack: the ack channel as consume reads it (pump.c's read_acks): a
 * frame stream of which the A frames count, each with a seqs= list of
 * ranges that seqs_parse takes into a set.  Properties checked: the set
 * is sorted, its ranges disjoint and not touching; written with
 * seqs_format it parses back to itself; seqs_contains agrees with it; so
 * for the union of every ack, added out of order (seqs_add_range).
 *
 * The same frames also drive consume's cumulative-ack stream
 * (ackstream.c), a harness convention only: fields recv=ID and done=ID
 * (a message id, ledger:entry:partition:batch) call astream_received and
 * astream_done, take=1 astream_take, reset=0|1 astream_reset.  Checked:
 * the stream stays in strict id order, bounded, and never holds an entry
 * at or below its cumulative point.
 */
#include <string.h>

#include "../consume/ackstream.h"
#include "buf.h"
#include "frame.h"
#include "fuzz.h"
#include "msgid.h"
#include "seqs.h"

#define STREAM_MAX	64	/* small, so that the give-up path runs */

static void
check_set(const struct seqs *s)
{
	struct seqs t = SEQS_INIT;
	struct buf b = BUF_INIT;
	size_t i;

	for (i = 0; i < s->n; i++) {
		fuzz_check(s->r[i].lo <= s->r[i].hi);
		if (i > 0)
			fuzz_check(s->r[i - 1].hi < s->r[i].lo &&
			    s->r[i - 1].hi + 1 < s->r[i].lo);
		fuzz_check(seqs_contains(s, s->r[i].lo) &&
		    seqs_contains(s, s->r[i].hi));
		if (s->r[i].lo > 0 && (i == 0 || s->r[i - 1].hi <
		    s->r[i].lo - 1))
			fuzz_check(!seqs_contains(s, s->r[i].lo - 1));
	}
	seqs_format(&b, s);
	fuzz_check(seqs_parse(&t, b.data, b.len) == 0);
	fuzz_check(t.n == s->n && (s->n == 0 ||
	    memcmp(t.r, s->r, s->n * sizeof(*s->r)) == 0));
	(void)seqs_count(s);
	seqs_free(&t);
	buf_release(&b);
}

static void
check_stream(const struct astream *a)
{
	const struct aent *e, *prev = NULL;
	size_t i;

	fuzz_check(a->n <= a->max && a->n <= a->cap);
	for (i = 0; i < a->n; i++) {
		e = &a->e[(a->head + i) & (a->cap - 1)];
		if (prev != NULL)
			fuzz_check(prev->ledger < e->ledger ||
			    (prev->ledger == e->ledger &&
			    prev->entry < e->entry));
		if (a->have_cum)
			fuzz_check(a->cum_ledger < e->ledger ||
			    (a->cum_ledger == e->ledger &&
			    a->cum_entry < e->entry));
		prev = e;
	}
}

/* The ackstream operations a frame names, in field order. */
static void
drive_stream(struct astream *a, const struct frame *f)
{
	const struct frame_field *fl;
	struct msgid id;
	int64_t l, e;
	size_t i;

	for (i = 0; i < f->nfields; i++) {
		fl = &f->fields[i];
		if (fl->namelen == 4 && memcmp(fl->name, "recv", 4) == 0 &&
		    msgid_parse(&id, fl->val, fl->vallen) == 0)
			astream_received(a, id.ledger, id.entry);
		else if (fl->namelen == 4 && memcmp(fl->name, "done", 4) == 0 &&
		    msgid_parse(&id, fl->val, fl->vallen) == 0)
			astream_done(a, id.ledger, id.entry);
		else if (fl->namelen == 4 && memcmp(fl->name, "take", 4) == 0) {
			if (astream_take(a, &l, &e))
				fuzz_check(astream_covers(a, l, e));
		} else if (fl->namelen == 5 &&
		    memcmp(fl->name, "reset", 5) == 0)
			astream_reset(a, fl->vallen == 1 && fl->val[0] == '1');
		check_stream(a);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct frame_reader r;
	struct frame f;
	struct seqs s = SEQS_INIT, all = SEQS_INIT;
	struct astream a;
	size_t i;
	const struct frame_field *fl;

	frame_reader_init(&r, -1, "acks");
	frame_init(&f);
	astream_init(&a, STREAM_MAX);
	astream_reset(&a, 1);
	buf_add(&r.in, data, size);
	r.eof = 1;
	while (frame_next(&r, &f) == FRAME_OK) {
		if (f.type != 'A')
			continue;
		drive_stream(&a, &f);
		if ((fl = frame_field(&f, "seqs")) == NULL)
			continue;
		seqs_clear(&s);
		if (seqs_parse(&s, fl->val, fl->vallen) < 0)
			continue;
		check_set(&s);
		/* all acks so far, in any order, as pump keeps early ones */
		for (i = 0; i < s.n; i++)
			seqs_add_range(&all, s.r[i].hi, s.r[i].hi);
		for (i = s.n; i > 0; i--)
			seqs_add_range(&all, s.r[i - 1].lo, s.r[i - 1].hi);
		check_set(&all);
	}
	seqs_free(&s);
	seqs_free(&all);
	astream_free(&a);
	frame_release(&f);
	frame_reader_release(&r);
	return 0;
}
