/* The RLE/bit-packed hybrid encoder (Encodings.md); see parquet.h. */
#include <stdint.h>
#include <string.h>

#include "buf.h"
#include "parquet.h"
#include "thrift.h"

/* RLE/bit-packed hybrid */

int
pq_bit_width(uint32_t max)
{
	int w = 0;

	while (max > 0) {
		w++;
		max >>= 1;
	}
	return w;
}

void
rle_init(struct rle *r, struct buf *out, struct buf *scratch, int width)
{
	memset(r, 0, sizeof(*r));
	r->out = out;
	r->packed = scratch;
	r->width = width;
	buf_reset(scratch);
}

/* Values are packed from the least significant bit of each byte up. */
static void
pack_group(struct rle *r)
{
	uint64_t acc = 0;
	int i, nbits = 0;

	for (i = 0; i < 8; i++) {
		acc |= (uint64_t)r->pend[i] << nbits;
		nbits += r->width;
		while (nbits >= 8) {
			buf_addch(r->packed, (int)(acc & 0xff));
			acc >>= 8;
			nbits -= 8;
		}
	}
	r->ngroups++;
	r->npend = 0;
}

static void
emit_packed(struct rle *r)
{
	if (r->ngroups == 0)
		return;
	tc_varint(r->out, (uint64_t)r->ngroups << 1 | 1);
	buf_add(r->out, r->packed->data, r->packed->len);
	buf_reset(r->packed);
	r->ngroups = 0;
}

/* A repeated value is stored in (width + 7) / 8 bytes, little endian. */
static void
emit_repeat(struct rle *r)
{
	int i;

	tc_varint(r->out, (uint64_t)r->rep << 1);
	for (i = 0; i < (r->width + 7) / 8; i++)
		buf_addch(r->out, (int)((r->cur >> (8 * i)) & 0xff));
	r->rep = 0;
}

/*
 * rep counts the equal values at the end of the stream not yet emitted;
 * once eight of them fill a whole group they become a repeat run, which
 * grows until another value comes.
 */
void
rle_put(struct rle *r, uint32_t v)
{
	if (r->rep >= 8) {
		if (v == r->cur) {
			r->rep++;
			return;
		}
		emit_repeat(r);
	}
	if (r->rep > 0 && v == r->cur)
		r->rep++;
	else {
		r->cur = v;
		r->rep = 1;
	}
	r->pend[r->npend++] = v;
	if (r->npend < 8)
		return;
	if (r->rep == 8) {
		emit_packed(r);		/* the groups before the repeat */
		r->npend = 0;
	} else {
		pack_group(r);
		r->rep = 0;
	}
}

void
rle_flush(struct rle *r)
{
	if (r->rep >= 8) {
		emit_repeat(r);
		return;
	}
	if (r->npend > 0 && r->rep == (uint32_t)r->npend) {
		emit_packed(r);
		emit_repeat(r);
		r->npend = 0;
		return;
	}
	if (r->npend > 0) {
		while (r->npend < 8)
			r->pend[r->npend++] = 0;
		pack_group(r);
	}
	emit_packed(r);
	r->rep = 0;
}
