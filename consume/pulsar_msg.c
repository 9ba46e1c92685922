/*
 * pulsar_msg: a MESSAGE command's payload to messages: broker entry
 * metadata skipped, CRC32C checked, MessageMetadata decoded, the entry
 * decompressed (LZ4, ZLIB, ZSTD, SNAPPY) and unbatched; see pulsar_wire.h.
 *
 * Nothing here allocates per message: payloads point into the frame or
 * into the decoder's scratch buffer, properties stay encoded.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <isa-l/crc.h>
#include <lz4.h>
#include <snappy-c.h>
#include <zlib.h>
#include <zstd.h>

#include "buf.h"
#include "pulsar_pb.h"
#include "pulsar_wire.h"

#define MAGIC_CHECKSUM		0x0e01
#define MAGIC_BROKER_ENTRY	0x0e02

/* MessageMetadata field numbers. */
enum {
	MM_PRODUCER = 1, MM_SEQUENCE_ID = 2, MM_PUBLISH_TIME = 3,
	MM_PROPERTIES = 4, MM_PARTITION_KEY = 6, MM_COMPRESSION = 8,
	MM_UNCOMPRESSED_SIZE = 9, MM_NUM_IN_BATCH = 11, MM_EVENT_TIME = 12,
	MM_ENCRYPTION_KEYS = 13, MM_KEY_B64 = 17, MM_ORDERING_KEY = 18,
	MM_MARKER_TYPE = 20, MM_NULL_VALUE = 25, MM_UUID = 26,
	MM_NUM_CHUNKS = 27, MM_TOTAL_CHUNK_SIZE = 28, MM_CHUNK_ID = 29,
};

/* SingleMessageMetadata field numbers. */
enum {
	SM_PROPERTIES = 1, SM_PARTITION_KEY = 2, SM_PAYLOAD_SIZE = 3,
	SM_COMPACTED_OUT = 4, SM_EVENT_TIME = 5, SM_KEY_B64 = 6,
	SM_ORDERING_KEY = 7, SM_SEQUENCE_ID = 8, SM_NULL_VALUE = 9,
};

uint32_t
pw_crc32c(const void *p, size_t len)
{
	uint32_t crc = 0;

	/* ISA-L's crc32_iscsi neither inverts on entry nor on exit: start
	   from ~0 and invert the result for the standard CRC32C. */
	crc = ~crc;
	while (len > 0) {
		int n = len > (1u << 30) ? 1 << 30 : (int)len;

		crc = crc32_iscsi((unsigned char *)p, n, crc);
		p = (const char *)p + n;
		len -= (size_t)n;
	}
	return ~crc;
}

int
pw_decoder_fail(struct pw_decoder *d, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(d->err, sizeof(d->err), fmt, ap);
	va_end(ap);
	return code;
}

const char *
pw_decoder_error(const struct pw_decoder *d)
{
	return d->err;
}

struct pw_decoder *
pw_decoder_new(const struct pw_limits *lim)
{
	struct pw_decoder *d = xcalloc(1, sizeof(*d));

	if (lim)
		d->lim = *lim;
	if (d->lim.max_uncompressed == 0)
		d->lim.max_uncompressed = 64 << 20;
	if (d->lim.max_batch == 0)
		d->lim.max_batch = 100000;
	if (d->lim.max_chunked_size == 0)
		d->lim.max_chunked_size = 256 << 20;
	if (d->lim.max_pending_chunked == 0)
		d->lim.max_pending_chunked = 100;
	if (d->lim.max_pending_bytes == 0)
		d->lim.max_pending_bytes = 512 << 20;
	if (d->lim.chunk_timeout_ms == 0)
		d->lim.chunk_timeout_ms = 60000;
	buf_init(&d->scratch, 0);
	return d;
}

void
pw_decoder_free(struct pw_decoder *d)
{
	if (d == NULL)
		return;
	pw_chunks_free(d);
	free(d->batch);
	buf_release(&d->scratch);
	if (d->zstream) {
		inflateEnd(d->zstream);
		free(d->zstream);
	}
	ZSTD_freeDCtx(d->zstd);
	free(d);
}

/* ------------------------------------------------------------------ */
/* Properties */

int
pw_props_next(struct pw_props *it, struct pw_bytes *key,
    struct pw_bytes *value)
{
	struct pb_rd r, kv;
	struct pb_field f, g;

	/* counted when decoded: most messages have none to look for */
	if (it->count == 0)
		return 0;
	pb_rd_init(&r, it->p, it->len);
	while (pb_next(&r, &f) > 0) {
		if (f.num != (uint32_t)it->field || f.wt != PB_LEN)
			continue;
		it->len -= (size_t)((const char *)r.p - it->p);
		it->p = (const char *)r.p;
		it->count--;
		key->p = value->p = "";
		key->len = value->len = 0;
		pb_rd_init(&kv, f.b.p, f.b.len);
		while (pb_next(&kv, &g) > 0) {
			if (g.wt != PB_LEN)
				continue;
			if (g.num == 1)
				*key = g.b;
			else if (g.num == 2)
				*value = g.b;
		}
		return 1;
	}
	it->len = 0;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Metadata */

static int
decode_meta(struct pw_meta *m, const char *p, size_t len)
{
	struct pb_rd r;
	struct pb_field f;
	int rc;

	memset(m, 0, sizeof(*m));
	m->props.p = p;
	m->props.len = len;
	m->props.field = MM_PROPERTIES;
	pb_rd_init(&r, p, len);
	while ((rc = pb_next(&r, &f)) > 0) {
		switch (f.num) {
		case MM_PRODUCER: case MM_PROPERTIES: case MM_PARTITION_KEY:
		case MM_ENCRYPTION_KEYS: case MM_ORDERING_KEY: case MM_UUID:
			if (f.wt != PB_LEN)
				return -1;
			break;
		case MM_SEQUENCE_ID: case MM_PUBLISH_TIME: case MM_COMPRESSION:
		case MM_UNCOMPRESSED_SIZE: case MM_NUM_IN_BATCH:
		case MM_EVENT_TIME: case MM_KEY_B64: case MM_MARKER_TYPE:
		case MM_NULL_VALUE: case MM_NUM_CHUNKS:
		case MM_TOTAL_CHUNK_SIZE: case MM_CHUNK_ID:
			if (f.wt != PB_VARINT)
				return -1;
			break;
		default:
			continue;
		}
		switch (f.num) {
		case MM_PRODUCER: m->producer_name = f.b; break;
		case MM_SEQUENCE_ID: m->sequence_id = f.v; break;
		case MM_PUBLISH_TIME: m->publish_time = f.v; break;
		case MM_PROPERTIES: m->props.count++; break;
		case MM_PARTITION_KEY: m->has_key = 1; m->key = f.b; break;
		case MM_COMPRESSION: m->compression = (int)f.v; break;
		case MM_UNCOMPRESSED_SIZE:
			m->uncompressed_size = (uint32_t)f.v;
			break;
		case MM_NUM_IN_BATCH:
			m->has_num_in_batch = 1;
			m->num_in_batch = (int32_t)f.v;
			break;
		case MM_EVENT_TIME: m->event_time = f.v; break;
		case MM_ENCRYPTION_KEYS: m->encrypted = 1; break;
		case MM_KEY_B64: m->key_b64 = f.v != 0; break;
		case MM_ORDERING_KEY:
			m->has_ordering_key = 1;
			m->ordering_key = f.b;
			break;
		case MM_MARKER_TYPE: m->is_marker = 1; break;
		case MM_NULL_VALUE: m->null_value = f.v != 0; break;
		case MM_UUID: m->has_uuid = 1; m->uuid = f.b; break;
		case MM_NUM_CHUNKS: m->num_chunks = (int32_t)f.v; break;
		case MM_TOTAL_CHUNK_SIZE:
			m->total_chunk_size = (int32_t)f.v;
			break;
		case MM_CHUNK_ID: m->chunk_id = (int32_t)f.v; break;
		}
	}
	return rc;
}

/* One SingleMessageMetadata, into the per-message fields of *msg. */
struct smm {
	int32_t		 payload_size;
	int		 compacted_out;
};

static int
decode_smm(struct smm *s, struct pw_msg *msg, const struct pw_meta *m,
    const char *p, size_t len)
{
	struct pb_rd r;
	struct pb_field f;
	int rc, have_size = 0;

	s->compacted_out = 0;
	s->payload_size = 0;
	msg->props.p = p;
	msg->props.len = len;
	msg->props.field = SM_PROPERTIES;
	msg->props.count = 0;
	msg->has_key = msg->key_b64 = msg->null_value = 0;
	msg->key.p = "";
	msg->key.len = 0;
	msg->has_ordering_key = m->has_ordering_key;
	msg->ordering_key = m->ordering_key;
	msg->event_time = m->event_time;
	pb_rd_init(&r, p, len);
	while ((rc = pb_next(&r, &f)) > 0) {
		int want = f.num == SM_PROPERTIES || f.num == SM_PARTITION_KEY ||
		    f.num == SM_ORDERING_KEY ? PB_LEN : PB_VARINT;

		if (f.num > SM_NULL_VALUE)
			continue;
		if (f.wt != want)
			return -1;
		switch (f.num) {
		case SM_PROPERTIES: msg->props.count++; break;
		case SM_PARTITION_KEY: msg->has_key = 1; msg->key = f.b; break;
		case SM_PAYLOAD_SIZE:
			s->payload_size = (int32_t)f.v;
			have_size = 1;
			break;
		case SM_COMPACTED_OUT: s->compacted_out = f.v != 0; break;
		case SM_EVENT_TIME: msg->event_time = f.v; break;
		case SM_KEY_B64: msg->key_b64 = f.v != 0; break;
		case SM_ORDERING_KEY:
			msg->has_ordering_key = 1;
			msg->ordering_key = f.b;
			break;
		case SM_SEQUENCE_ID: msg->sequence_id = f.v; break;
		case SM_NULL_VALUE: msg->null_value = f.v != 0; break;
		}
	}
	if (rc < 0 || !have_size || s->payload_size < 0)
		return -1;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Decompression */

static int
inflate_java(struct pw_decoder *d, const char *in, size_t inlen, char *out,
    size_t outlen)
{
	z_stream *z = d->zstream;
	int rc;

	if (z == NULL) {
		z = d->zstream = xcalloc(1, sizeof(*z));
		if (inflateInit(z) != Z_OK) {
			free(z);
			d->zstream = NULL;
			return -1;
		}
	} else if (inflateReset(z) != Z_OK)
		return -1;
	z->next_in = (Bytef *)(uintptr_t)in;
	z->avail_in = (uInt)inlen;
	z->next_out = (Bytef *)out;
	z->avail_out = (uInt)outlen;
	rc = inflate(z, Z_SYNC_FLUSH);
	/* Java's Deflater with SYNC_FLUSH ends without the stream's end
	   marker: a full output with Z_OK (or Z_BUF_ERROR) is complete. */
	if (rc == Z_STREAM_END || rc == Z_OK || rc == Z_BUF_ERROR)
		return z->avail_out == 0 && (rc == Z_STREAM_END ||
		    z->total_out == outlen) ? 0 : -1;
	return -1;
}

/*
 * The entry's payload, decompressed into d->scratch when it needs to be.
 * 0, or an enum pw_msg_error.
 */
static int
decompress(struct pw_decoder *d, const struct pw_meta *m, const char **pp,
    size_t *lenp)
{
	size_t n = m->uncompressed_size, got;
	char *out;

	if (m->compression == PW_COMP_NONE)
		return 0;
	if (n > d->lim.max_uncompressed)
		return pw_decoder_fail(d, PW_E_TOO_BIG,
		    "entry would decompress to %zu bytes, over the limit of %zu",
		    n, d->lim.max_uncompressed);
	buf_reset(&d->scratch);
	buf_grow(&d->scratch, n);
	out = d->scratch.data;
	switch (m->compression) {
	case PW_COMP_LZ4:
		if (*lenp > INT32_MAX || LZ4_decompress_safe(*pp, out,
		    (int)*lenp, (int)n) != (int)n)
			return pw_decoder_fail(d, PW_E_DECOMPRESS,
			    "LZ4 entry does not decompress to %zu bytes", n);
		break;
	case PW_COMP_ZLIB:
		if (*lenp > UINT32_MAX ||
		    (n > 0 && inflate_java(d, *pp, *lenp, out, n) < 0))
			return pw_decoder_fail(d, PW_E_DECOMPRESS,
			    "ZLIB entry does not decompress to %zu bytes", n);
		break;
	case PW_COMP_ZSTD:
		if (d->zstd == NULL && (d->zstd = ZSTD_createDCtx()) == NULL)
			return pw_decoder_fail(d, PW_E_DECOMPRESS,
			    "cannot make a ZSTD context");
		got = ZSTD_decompressDCtx(d->zstd, out, n, *pp, *lenp);
		if (ZSTD_isError(got) || got != n)
			return pw_decoder_fail(d, PW_E_DECOMPRESS,
			    "ZSTD entry does not decompress to %zu bytes%s%s", n,
			    ZSTD_isError(got) ? ": " : "",
			    ZSTD_isError(got) ? ZSTD_getErrorName(got) : "");
		break;
	case PW_COMP_SNAPPY:
		if (snappy_uncompressed_length(*pp, *lenp, &got) != SNAPPY_OK ||
		    got != n)
			return pw_decoder_fail(d, PW_E_DECOMPRESS,
			    "SNAPPY entry does not hold %zu bytes", n);
		got = n;
		if (snappy_uncompress(*pp, *lenp, out, &got) != SNAPPY_OK ||
		    got != n)
			return pw_decoder_fail(d, PW_E_DECOMPRESS,
			    "SNAPPY entry does not decompress");
		break;
	default:
		return pw_decoder_fail(d, PW_E_UNSUPPORTED,
		    "unknown compression type %d", m->compression);
	}
	buf_setlen(&d->scratch, n);
	*pp = d->scratch.data;
	*lenp = n;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Entries */

static void
skipped(const struct pw_cmd *cmd, const struct pw_sink *sink,
    const char *why)
{
	if (sink->drop)
		sink->drop(sink->arg, &cmd->msgid.id, 1, PW_DROP_SKIPPED, why);
}

/* Whether batch index i is still to be delivered, per the ack_set. */
static int
unacked(const struct pw_cmd *cmd, int32_t i)
{
	int w = i / 64;

	if (cmd->ack_set_len == 0)
		return 1;
	if (cmd->ack_set_len < 0 && w >= PW_ACKSET_MAX)
		return 1;
	if (w >= (cmd->ack_set_len < 0 ? PW_ACKSET_MAX : cmd->ack_set_len))
		return 0;
	return (cmd->ack_set[w] >> (i % 64)) & 1;
}

static void
msg_from_entry(struct pw_msg *msg, const struct pw_cmd *cmd,
    const struct pw_meta *m)
{
	msg->id = cmd->msgid.id;
	msg->redelivery_count = cmd->redelivery_count;
	msg->publish_time = m->publish_time;
	msg->event_time = m->event_time;
	msg->sequence_id = m->sequence_id;
	msg->producer_name = m->producer_name;
	msg->has_key = m->has_key;
	msg->key = m->key;
	msg->key_b64 = m->key_b64;
	msg->has_ordering_key = m->has_ordering_key;
	msg->ordering_key = m->ordering_key;
	msg->props = m->props;
	msg->null_value = m->null_value;
}

/* The fields of a batch's message that come from its entry. */
static void
entry_fields(struct pw_msg *msg, const struct pw_msg *entry)
{
	msg->id = entry->id;
	msg->batch_size = entry->batch_size;
	msg->redelivery_count = entry->redelivery_count;
	msg->publish_time = entry->publish_time;
	msg->producer_name = entry->producer_name;
	msg->num_chunks = entry->num_chunks;
	msg->chunk_ids = entry->chunk_ids;
}

/*
 * Decode a batch into d->batch: the messages still to deliver, in order,
 * their count in *count.  The whole batch is checked before any message
 * of it goes out (a malformed one gives none), and each message is
 * decoded once, in its place in the array (entry gives the fields that
 * are the entry's; decode_smm() sets the others): the array is kept for
 * the next batch (at most max_batch messages).
 */
static int
decode_batch(struct pw_decoder *d, const struct pw_msg *entry,
    const struct pw_cmd *cmd, const struct pw_meta *m, const char *p,
    size_t len, int32_t *count)
{
	const char *end = p + len;
	struct pw_msg *msg;
	struct smm s;
	uint32_t sz;
	int32_t i, n = m->num_in_batch, out = 0;

	for (i = 0; i < n; i++) {
		if (end - p < 4)
			goto bad;
		sz = pb_get_be32(p);
		p += 4;
		if (sz > (size_t)(end - p))
			goto bad;
		if ((size_t)out == d->batchcap) {
			d->batchcap = d->batchcap ? d->batchcap * 2 : 64;
			d->batch = xreallocarray(d->batch, d->batchcap,
			    sizeof(*d->batch));
		}
		/* taken (out counted up) only if it is to be delivered */
		msg = &d->batch[out];
		entry_fields(msg, entry);
		msg->sequence_id = m->sequence_id + (uint64_t)i;
		if (decode_smm(&s, msg, m, p, sz) < 0)
			goto bad;
		p += sz;
		if ((size_t)s.payload_size > (size_t)(end - p))
			goto bad;
		msg->payload.p = p;
		msg->payload.len = (size_t)s.payload_size;
		p += s.payload_size;
		if (s.compacted_out || !unacked(cmd, i))
			continue;
		msg->id.batch = i;
		msg->last_in_entry = 0;
		out++;
	}
	if (out > 0)
		d->batch[out - 1].last_in_entry = 1;
	*count = out;
	return 0;
bad:
	return pw_decoder_fail(d, PW_E_CORRUPT,
	    "batch entry %lld:%lld: message %d of %d is malformed",
	    (long long)cmd->msgid.id.ledger, (long long)cmd->msgid.id.entry,
	    (int)i, (int)n);
}

/* Decompress, unbatch and emit one entry's payload (or a whole chunked
   message's, with the ids of its chunks). */
static int
emit_entry(struct pw_decoder *d, const struct pw_cmd *cmd,
    const struct pw_meta *m, const char *payload, size_t len,
    int num_chunks, const struct msgid *chunk_ids, const struct pw_sink *sink)
{
	struct pw_msg msg;
	int32_t count = 0, i;
	int rc;

	if ((rc = decompress(d, m, &payload, &len)) != 0)
		return rc;
	msg_from_entry(&msg, cmd, m);
	msg.num_chunks = num_chunks;
	msg.chunk_ids = chunk_ids;
	if (!m->has_num_in_batch) {
		msg.id.batch = -1;
		msg.batch_size = 0;
		msg.payload.p = payload;
		msg.payload.len = len;
		msg.last_in_entry = 1;
		return sink->msg(sink->arg, &msg);
	}
	if (m->num_in_batch < 0 || (size_t)m->num_in_batch > d->lim.max_batch)
		return pw_decoder_fail(d, PW_E_TOO_BIG,
		    "batch of %d messages, over the limit of %zu",
		    (int)m->num_in_batch, d->lim.max_batch);
	msg.batch_size = m->num_in_batch;
	if ((rc = decode_batch(d, &msg, cmd, m, payload, len, &count)) != 0)
		return rc;
	if (count == 0) {
		skipped(cmd, sink, "batch with no message left to deliver");
		return 0;
	}
	if (sink->batch != NULL)
		return sink->batch(sink->arg, d->batch, (size_t)count);
	for (i = 0; i < count; i++)
		if ((rc = sink->msg(sink->arg, &d->batch[i])) != 0)
			return rc;
	return 0;
}

/*
 * One chunk to the reassembler; the message it completes comes back here
 * and goes out as one (a failure to decode it drops every chunk).
 */
static int
emit_chunk(struct pw_decoder *d, const struct pw_cmd *cmd,
    const struct pw_meta *m, const char *p, size_t len, uint64_t now_ms,
    const struct pw_sink *sink)
{
	struct pw_chunk_ctx *whole;
	const struct msgid *ids;
	const char *data;
	size_t dlen;
	int n, rc;

	if (pw_chunk_add(d, cmd, m, p, len, now_ms, sink, &whole) == 0)
		return 0;
	data = pw_chunk_payload(whole, &dlen);
	ids = pw_chunk_ids(whole, &n);
	rc = emit_entry(d, cmd, m, data, dlen, n, ids, sink);
	if (rc < 0 && sink->drop)
		sink->drop(sink->arg, ids, (size_t)n, PW_DROP_MISSING_CHUNK,
		    d->err);
	pw_chunk_free(whole);
	return rc < 0 ? 0 : rc;
}

int
pw_message_process(struct pw_decoder *d, const struct pw_cmd *cmd,
    const void *rest, size_t len, uint64_t now_ms,
    const struct pw_sink *sink)
{
	const char *p = rest;
	struct pw_meta m;
	uint32_t sum, msz;

	d->err[0] = '\0';
	if (d->nchunks > 0)
		pw_decoder_expire(d, now_ms, sink);
	/*
	 * Ledger and entry ids are unsigned on the wire; a stored entry's
	 * are below 2^63.  One above would go out as a negative id in the
	 * message frame, which transform refuses (and stops at).  -1 is
	 * what an absent id decodes to (a SEND seen as an entry, in tests).
	 */
	if (cmd->msgid.id.ledger < -1 || cmd->msgid.id.entry < -1)
		return pw_decoder_fail(d, PW_E_CORRUPT,
		    "message id %llu:%llu out of range",
		    (unsigned long long)cmd->msgid.id.ledger,
		    (unsigned long long)cmd->msgid.id.entry);
	if (len >= 6 && pb_get_be32(p) >> 16 == MAGIC_BROKER_ENTRY) {
		msz = pb_get_be32(p + 2);
		if (msz > len - 6)
			return pw_decoder_fail(d, PW_E_CORRUPT,
			    "broker entry metadata past the end of the frame");
		p += 6 + msz;
		len -= 6 + msz;
	}
	if (len >= 6 && pb_get_be32(p) >> 16 == MAGIC_CHECKSUM) {
		sum = pb_get_be32(p + 2);
		p += 6;
		len -= 6;
		if (pw_crc32c(p, len) != sum)
			return pw_decoder_fail(d, PW_E_CHECKSUM,
			    "entry %lld:%lld: checksum mismatch",
			    (long long)cmd->msgid.id.ledger,
			    (long long)cmd->msgid.id.entry);
	}
	if (len < 4 || (msz = pb_get_be32(p)) > len - 4)
		return pw_decoder_fail(d, PW_E_CORRUPT,
		    "message metadata past the end of the frame");
	if (decode_meta(&m, p + 4, msz) < 0)
		return pw_decoder_fail(d, PW_E_CORRUPT,
		    "malformed message metadata");
	p += 4 + msz;
	len -= 4 + msz;
	if (m.encrypted)
		return pw_decoder_fail(d, PW_E_ENCRYPTED,
		    "entry %lld:%lld is end-to-end encrypted",
		    (long long)cmd->msgid.id.ledger,
		    (long long)cmd->msgid.id.entry);
	if (m.is_marker) {
		skipped(cmd, sink, "marker message");
		return 0;
	}
	if (m.has_uuid && m.num_chunks > 1)
		return emit_chunk(d, cmd, &m, p, len, now_ms, sink);
	return emit_entry(d, cmd, &m, p, len, 0, NULL, sink);
}
