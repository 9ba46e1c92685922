/* The shared start of message frame headers; see msghead.h. */
#include <string.h>

#include "buf.h"
#include "frame.h"
#include "msghead.h"
#include "msgid.h"

void
msghead_init(struct msghead *h, const char *topic)
{
	memset(h, 0, sizeof(*h));
	buf_init(&h->text, 0);
	buf_init(&h->topic, 0);
	frame_add_str(&h->topic, "topic", topic);
}

void
msghead_release(struct msghead *h)
{
	buf_release(&h->text);
	buf_release(&h->topic);
}

/*
 * The n decimal digits at p plus one, in place: 0, or -1 when they are
 * all nines (the number gains a digit; p is then garbage).
 */
static int
count_up(char *p, size_t n)
{
	while (n > 0 && p[n - 1] == '9')
		p[--n] = '0';
	if (n == 0)
		return -1;
	p[n - 1]++;
	return 0;
}

/* Whether the text is the last message's with SEQ and BATCH one up. */
static int
follows(struct msghead *h, size_t len, uint64_t seq, const struct msgid *id,
    uint64_t pt)
{
	return h->text.len > 0 && seq == h->seq + 1 && seq != 0 &&
	    len == h->len && pt == h->pt && id->entry == h->id.entry &&
	    id->ledger == h->id.ledger && id->partition == h->id.partition &&
	    h->id.batch >= 0 && id->batch == (int64_t)h->id.batch + 1 &&
	    count_up(h->text.data + h->seq_at, h->seq_len) == 0 &&
	    count_up(h->text.data + h->batch_at, h->batch_len) == 0;
}

static void
rewrite(struct msghead *h, size_t len, uint64_t seq, const struct msgid *id,
    uint64_t pt)
{
	struct buf *b = &h->text;
	size_t at;

	buf_reset(b);
	frame_begin(b, 'M', len);
	buf_add(b, " seq=", 5);
	h->seq_at = b->len;
	buf_addu64(b, seq);
	h->seq_len = b->len - h->seq_at;
	buf_add(b, " id=", 4);
	msgid_format(b, id);
	/* BATCH is last, after the last ':' */
	for (at = b->len; b->data[at - 1] != ':'; at--)
		;
	h->batch_at = at;
	h->batch_len = b->len - at;
	buf_add(b, h->topic.data, h->topic.len);
	frame_add_u64(b, "pt", pt);
	h->len = len;
	h->pt = pt;
}

void
msghead_put(struct msghead *h, struct buf *out, size_t len, uint64_t seq,
    const struct msgid *id, uint64_t pt)
{
	if (!follows(h, len, seq, id, pt))
		rewrite(h, len, seq, id, pt);
	h->seq = seq;
	h->id = *id;
	buf_add(out, h->text.data, h->text.len);
}
