/* The shared start of message frame headers; see msghead.h. */
#include <string.h>

#include "buf.h"
#include "dec.h"
#include "frame.h"
#include "msghead.h"

void
msghead_init(struct msghead *h, const char *topic)
{
	memset(h, 0, sizeof(*h));
	buf_init(&h->tail, 0);
	frame_add_str(&h->tail, "topic", topic);
	h->topiclen = h->tail.len;
}

void
msghead_release(struct msghead *h)
{
	buf_release(&h->tail);
}

/* v in decimal at p, as buf_addi64 has it; room for 21 bytes at p. */
static size_t
put_i64(char *p, int64_t v)
{
	if (v >= 0)
		return dec_format(p, (uint64_t)v);
	*p = '-';
	return 1 + dec_format(p + 1, 0 - (uint64_t)v);
}

/* SEQ's digits for seq: the last ones plus one where they can be. */
static void
next_seq(struct msghead *h, uint64_t seq)
{
	size_t i = h->seqlen;

	if (i > 0 && seq == h->seq_v + 1) {
		while (i > 0 && h->seq[i - 1] == '9')
			h->seq[--i] = '0';
		if (i > 0) {
			h->seq[i - 1]++;
			h->seq_v = seq;
			return;
		}
		/* all nines: one digit more */
	}
	h->seqlen = dec_format(h->seq, seq);
	h->seq_v = seq;
}

static void
set_len(struct msghead *h, size_t len)
{
	char *p = h->len;

	*p++ = 'M';
	*p++ = ' ';
	p += dec_format(p, len);
	memcpy(p, " seq=", 5);
	h->lenlen = (size_t)(p + 5 - h->len);
	h->len_v = len;
}

static void
set_id(struct msghead *h, const struct msgid *id)
{
	char *p = h->id;

	memcpy(p, " id=", 4);
	p += 4;
	p += put_i64(p, id->ledger);
	*p++ = ':';
	p += put_i64(p, id->entry);
	*p++ = ':';
	p += put_i64(p, id->partition);
	*p++ = ':';
	h->idlen = (size_t)(p - h->id);
	h->id_v = *id;
}

static void
set_pt(struct msghead *h, uint64_t pt)
{
	buf_setlen(&h->tail, h->topiclen);
	frame_add_u64(&h->tail, "pt", pt);
	h->pt_v = pt;
	h->have_pt = 1;
}

void
msghead_put(struct msghead *h, struct buf *out, size_t len, uint64_t seq,
    const struct msgid *id, uint64_t pt)
{
	size_t need;
	char *p;

	if (h->lenlen == 0 || len != h->len_v)
		set_len(h, len);
	next_seq(h, seq);
	if (h->idlen == 0 || id->ledger != h->id_v.ledger ||
	    id->entry != h->id_v.entry || id->partition != h->id_v.partition)
		set_id(h, id);
	if (!h->have_pt || pt != h->pt_v)
		set_pt(h, pt);
	/* the batch index is formatted in place: 21 bytes of room */
	need = h->lenlen + h->seqlen + h->idlen + 1 + DEC_U64_MAX_DIGITS +
	    h->tail.len;
	if (out->cap - out->len <= need)	/* also true for cap 0 */
		buf_grow(out, need);
	p = out->data + out->len;
	memcpy(p, h->len, h->lenlen);
	p += h->lenlen;
	memcpy(p, h->seq, h->seqlen);
	p += h->seqlen;
	memcpy(p, h->id, h->idlen);
	p += h->idlen;
	p += put_i64(p, id->batch);
	memcpy(p, h->tail.data, h->tail.len);
	p += h->tail.len;
	*p = '\0';
	out->len = (size_t)(p - out->data);
}
