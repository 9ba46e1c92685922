/* The shared start of message frame headers; see msghead.h. */
#include <err.h>
#include <stdint.h>
#include <string.h>

#include "buf.h"
#include "dec.h"
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
 * all nines (the number gains a digit; p is then garbage).  Inline:
 * twice a message.
 */
static inline int
count_up(char *p, size_t n)
{
	while (n > 0 && p[n - 1] == '9')
		p[--n] = '0';
	if (n == 0)
		return -1;
	p[n - 1]++;
	return 0;
}

/*
 * Whether id is the last one's next: the next batch index of the same
 * entry, or the next entry when neither is in a batch.  Its digits are
 * then counted up.
 */
static int
next_id(struct msghead *h, const struct msgid *id)
{
	if (id->ledger != h->id.ledger || id->partition != h->id.partition)
		return 0;
	if (id->entry == h->id.entry && h->id.batch >= 0 &&
	    id->batch == (int64_t)h->id.batch + 1)
		return count_up(h->text.data + h->batch_at, h->batch_len) == 0;
	if (id->batch == -1 && h->id.batch == -1 && h->id.entry >= 0 &&
	    id->entry == h->id.entry + 1)
		return count_up(h->text.data + h->entry_at, h->entry_len) == 0;
	return 0;
}

/* Whether the text is the last message's with its numbers counted up. */
static int
follows(struct msghead *h, uint64_t seq, const struct msgid *id,
    uint64_t pt)
{
	return h->text.len > 0 && seq == h->seq + 1 && seq != 0 &&
	    pt == h->pt && next_id(h, id) &&
	    count_up(h->text.data + h->seq_at, h->seq_len) == 0;
}

static void
rewrite(struct msghead *h, uint64_t seq, const struct msgid *id,
    uint64_t pt)
{
	struct buf *b = &h->text;

	buf_reset(b);
	buf_add(b, " seq=", 5);
	h->seq_at = b->len;
	buf_addu64(b, seq);
	h->seq_len = b->len - h->seq_at;
	buf_add(b, " id=", 4);
	buf_addi64(b, id->ledger);
	buf_addch(b, ':');
	h->entry_at = b->len;
	buf_addi64(b, id->entry);
	h->entry_len = b->len - h->entry_at;
	buf_addch(b, ':');
	buf_addi64(b, id->partition);
	buf_addch(b, ':');
	h->batch_at = b->len;
	buf_addi64(b, id->batch);
	h->batch_len = b->len - h->batch_at;
	buf_add(b, h->topic.data, h->topic.len);
	frame_add_u64(b, "pt", pt);
	h->pt = pt;
}

void
msghead_put(struct msghead *h, struct buf *out, size_t len, uint64_t seq,
    const struct msgid *id, uint64_t pt, const void *body)
{
	size_t need;
	char *p;

	if (h->lenlen == 0 || len != h->len) {
		/* as frame_begin(): the type, a space, dec_format's digits */
		h->lenhead[0] = 'M';
		h->lenhead[1] = ' ';
		h->lenlen = 2 + dec_format(h->lenhead + 2, len);
		h->len = len;
	}
	if (!follows(h, seq, id, pt))
		rewrite(h, seq, id, pt);
	h->seq = seq;
	h->id = *id;
	/* one check of room for the body too: it is most of the frame */
	need = sizeof(h->lenhead) + h->text.len;
	if (body != NULL && (len > SIZE_MAX / 2 || (need += len + 2) < len))
		errx(1, "buffer size overflow");
	if (out->cap - out->len <= need)	/* also true for cap 0 */
		buf_grow(out, need);
	/* all of lenhead, a copy of fixed size: the bytes past it are
	   overwritten by the text */
	p = out->data + out->len;
	memcpy(p, h->lenhead, sizeof(h->lenhead));
	memcpy(p + h->lenlen, h->text.data, h->text.len);
	p += h->lenlen + h->text.len;
	if (body != NULL) {
		/* as frame_finish() */
		*p++ = '\n';
		memcpy(p, body, len);
		p += len;
		*p++ = '\n';
	}
	*p = '\0';
	out->len = (size_t)(p - out->data);
}
