/*
 * pulsar_pb: the protobuf primitives behind pulsar_wire.h, private to
 * consume/pulsar_*.c.  Reading walks a message field by field, leaving
 * length-delimited values as spans; writing appends to a struct buf and
 * patches the length of a nested message in place when it is done.
 */
#ifndef LAKEPIPE_PULSAR_PB_H
#define LAKEPIPE_PULSAR_PB_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "buf.h"
#include "pulsar_wire.h"

enum {
	PB_VARINT = 0, PB_I64 = 1, PB_LEN = 2, PB_SGROUP = 3, PB_EGROUP = 4,
	PB_I32 = 5
};

#define PB_MAX_GROUP_DEPTH	32	/* nested groups inside one group */

struct pb_rd {
	const uint8_t	*p, *end;
};

struct pb_field {
	uint32_t	 num;
	int		 wt;
	uint64_t	 v;		/* PB_VARINT, PB_I64, PB_I32 */
	struct pw_bytes	 b;		/* PB_LEN; PB_SGROUP: the group's
					   fields, without its end marker */
};

static inline void
pb_rd_init(struct pb_rd *r, const void *p, size_t len)
{
	r->p = p;
	r->end = r->p + len;
}

/* 0, or -1 on a truncated or over-long varint. */
static inline int
pb_varint(struct pb_rd *r, uint64_t *v)
{
	uint64_t x = 0;
	int shift;

	if (r->p < r->end && *r->p < 0x80) {	/* the common case */
		*v = *r->p++;
		return 0;
	}
	for (shift = 0; shift < 64; shift += 7) {
		if (r->p == r->end)
			return -1;
		x |= (uint64_t)(*r->p & 0x7f) << shift;
		if (*r->p++ < 0x80) {
			*v = x;
			return 0;
		}
	}
	return -1;
}

/* A field's key: 0 with its number and wire type, -1 when malformed. */
static inline int
pb_key(struct pb_rd *r, uint32_t *num, int *wt)
{
	uint64_t key;

	if (pb_varint(r, &key) < 0 || key >> 3 == 0 || key >> 3 > UINT32_MAX)
		return -1;
	*num = (uint32_t)(key >> 3);
	*wt = key & 7;
	return 0;
}

/* The value of a scalar or length-delimited field: 0, or -1 when it is
   truncated or of a wire type without a value of its own. */
static inline int
pb_value(struct pb_rd *r, int wt, struct pb_field *f)
{
	uint64_t n;

	switch (wt) {
	case PB_VARINT:
		return pb_varint(r, &f->v);
	case PB_I64:
		if (r->end - r->p < 8)
			return -1;
		memcpy(&f->v, r->p, 8);	/* little endian hosts only */
		r->p += 8;
		return 0;
	case PB_I32:
		if (r->end - r->p < 4)
			return -1;
		f->v = 0;
		memcpy(&f->v, r->p, 4);
		r->p += 4;
		return 0;
	case PB_LEN:
		if (pb_varint(r, &n) < 0 || n > (uint64_t)(r->end - r->p))
			return -1;
		f->b.p = (const char *)r->p;
		f->b.len = (size_t)n;
		r->p += n;
		return 0;
	default:
		return -1;
	}
}

/*
 * Skip the rest of a group (wire type 3, deprecated but valid protobuf:
 * a newer peer may send one in a field we do not know) up to its end
 * marker, nested groups included; f->b spans its fields.  0, or -1 on a
 * truncated group, a mismatched end marker or nesting past
 * PB_MAX_GROUP_DEPTH.
 */
static inline int
pb_skip_group(struct pb_rd *r, struct pb_field *f)
{
	uint32_t open[PB_MAX_GROUP_DEPTH], num;
	const uint8_t *start = r->p, *at;
	struct pb_field g;
	int depth = 0, wt;

	open[depth++] = f->num;
	while (depth > 0) {
		at = r->p;
		if (pb_key(r, &num, &wt) < 0)
			return -1;
		if (wt == PB_SGROUP) {
			if (depth == PB_MAX_GROUP_DEPTH)
				return -1;
			open[depth++] = num;
		} else if (wt == PB_EGROUP) {
			if (open[--depth] != num)
				return -1;
		} else if (pb_value(r, wt, &g) < 0)
			return -1;
	}
	f->b.p = (const char *)start;
	f->b.len = (size_t)(at - start);
	f->v = 0;
	return 0;
}

/*
 * The next field: 1 with *f filled, 0 at the end of the message, -1 on
 * malformed input (wire types 6/7, a stray group end, lengths past the
 * end).  A group comes back as one field of wire type PB_SGROUP, already
 * skipped: callers that do not know its number skip it like any other.
 */
static inline int
pb_next(struct pb_rd *r, struct pb_field *f)
{
	if (r->p == r->end)
		return 0;
	if (pb_key(r, &f->num, &f->wt) < 0)
		return -1;
	if (f->wt == PB_SGROUP)
		return pb_skip_group(r, f) < 0 ? -1 : 1;
	return pb_value(r, f->wt, f) < 0 ? -1 : 1;
}

/* Writing. */

static inline void
pb_add_varint(struct buf *b, uint64_t v)
{
	uint8_t tmp[10];
	int n = 0;

	while (v >= 0x80) {
		tmp[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	tmp[n++] = (uint8_t)v;
	buf_add(b, tmp, n);
}

static inline void
pb_add_key(struct buf *b, uint32_t num, int wt)
{
	pb_add_varint(b, (uint64_t)num << 3 | (uint64_t)wt);
}

static inline void
pb_add_u64(struct buf *b, uint32_t num, uint64_t v)
{
	pb_add_key(b, num, PB_VARINT);
	pb_add_varint(b, v);
}

/* int32 fields: negative values take ten bytes, sign-extended. */
static inline void
pb_add_i32(struct buf *b, uint32_t num, int32_t v)
{
	pb_add_u64(b, num, (uint64_t)(int64_t)v);
}

static inline void
pb_add_bytes(struct buf *b, uint32_t num, const void *p, size_t len)
{
	pb_add_key(b, num, PB_LEN);
	pb_add_varint(b, len);
	buf_add(b, p, len);
}

static inline void
pb_add_str(struct buf *b, uint32_t num, const char *s)
{
	pb_add_bytes(b, num, s, strlen(s));
}

/* Open a nested message: returns where its length goes. */
static inline size_t
pb_begin(struct buf *b, uint32_t num)
{
	pb_add_key(b, num, PB_LEN);
	buf_addch(b, 0);
	return b->len - 1;
}

/* Close it: write the length, moving the body when it needs more bytes. */
static inline void
pb_end(struct buf *b, size_t at)
{
	size_t n = b->len - at - 1;
	uint8_t tmp[10];
	size_t k = 0, v = n;

	while (v >= 0x80) {
		tmp[k++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	tmp[k++] = (uint8_t)v;
	if (k > 1) {
		buf_grow(b, k - 1);
		memmove(b->data + at + k, b->data + at + 1, n);
		buf_setlen(b, at + k + n);
	}
	memcpy(b->data + at, tmp, k);
}

static inline void
pb_put_be32(void *p, uint32_t v)
{
	uint8_t *q = p;

	q[0] = (uint8_t)(v >> 24);
	q[1] = (uint8_t)(v >> 16);
	q[2] = (uint8_t)(v >> 8);
	q[3] = (uint8_t)v;
}

static inline uint32_t
pb_get_be32(const void *p)
{
	const uint8_t *q = p;

	return (uint32_t)q[0] << 24 | (uint32_t)q[1] << 16 |
	    (uint32_t)q[2] << 8 | q[3];
}

/* MessageMetadata, decoded (pulsar_msg.c). */
struct pw_meta {
	struct pw_bytes	 producer_name;
	uint64_t	 sequence_id;
	uint64_t	 publish_time;
	struct pw_props	 props;
	int		 has_key, key_b64;
	struct pw_bytes	 key;
	int		 compression;
	uint32_t	 uncompressed_size;
	int		 has_num_in_batch;
	int32_t		 num_in_batch;
	uint64_t	 event_time;
	int		 encrypted;
	int		 has_ordering_key;
	struct pw_bytes	 ordering_key;
	int		 is_marker;
	int		 null_value;
	int		 has_uuid;
	struct pw_bytes	 uuid;
	int32_t		 num_chunks;
	int32_t		 total_chunk_size;
	int32_t		 chunk_id;
};

struct pw_chunk_ctx;

struct pw_decoder {
	struct pw_limits lim;
	struct buf	 scratch;	/* one decompressed entry */
	/* The messages of the batch being emitted (decode_batch). */
	struct pw_msg	*batch;
	size_t		 batchcap;
	void		*zstream;	/* z_stream, made on first use */
	void		*zstd;		/* ZSTD_DCtx, made on first use */
	char		 err[256];
	/* Chunked messages being reassembled, oldest first. */
	struct pw_chunk_ctx **chunks;
	size_t		 nchunks, chunkcap;
	size_t		 pending_bytes;
};

int	pw_decoder_fail(struct pw_decoder *, int code, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));

/*
 * pulsar_chunk.c: take one chunk (a drop is reported to sink); 1 when it
 * completed its message, which *whole then holds, out of the decoder: the
 * caller emits it (pw_chunk_payload, pw_chunk_ids in chunk order) and
 * frees it.  0 otherwise.
 */
int	pw_chunk_add(struct pw_decoder *, const struct pw_cmd *,
	    const struct pw_meta *, const char *payload, size_t len,
	    uint64_t now_ms, const struct pw_sink *,
	    struct pw_chunk_ctx **whole);
const char *pw_chunk_payload(const struct pw_chunk_ctx *, size_t *len);
const struct msgid *pw_chunk_ids(const struct pw_chunk_ctx *, int *n);
void	pw_chunk_free(struct pw_chunk_ctx *);
void	pw_chunks_free(struct pw_decoder *);

/* Shared by the pulsar_*.c files. */
int	pw_msgid_decode(struct pw_msgid *, const struct pw_bytes *);
void	pw_msgid_encode(struct buf *, uint32_t num, const struct msgid *,
	    const uint64_t *ack_set, int ack_set_len, int32_t batch_size);
/* Start a frame of the given type: returns the offset of its size
   fields; pw_frame_end fills them in. */
size_t	pw_frame_begin(struct buf *, int type, size_t *sub);
void	pw_frame_end(struct buf *, size_t at, size_t sub);

#endif
