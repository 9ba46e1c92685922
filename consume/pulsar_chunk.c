/*
 * pulsar_chunk: reassembly of chunked messages (MessageMetadata uuid,
 * num_chunks_from_msg, chunk_id, total_chunk_msg_size); see pulsar_wire.h.
 *
 * A pending message is keyed by (producer name, uuid).  Its chunks must
 * come in chunk_id order: an id below the next expected one is a
 * duplicate (a producer that resent after a reconnect) and is dropped as
 * safe to ack; one above it means a chunk is missing, and the whole
 * message is dropped.  The table is bounded in count and in bytes (the
 * oldest message goes first) and each message in time.  The producer's
 * compressed bytes are concatenated and decompressed once complete.
 */
#include <sys/types.h>

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "pulsar_pb.h"
#include "pulsar_wire.h"

struct pw_chunk_ctx {
	char		*producer;
	size_t		 producer_len;
	char		*uuid;
	size_t		 uuid_len;
	int32_t		 num_chunks;
	int32_t		 next;		/* the chunk id expected next */
	size_t		 total;		/* total_chunk_msg_size */
	uint64_t	 started;	/* now_ms at the first chunk */
	struct buf	 data;
	struct msgid	*ids;		/* num_chunks */
};

/* Chunks of one message: far more than Pulsar makes (5 MB each). */
#define MAX_CHUNKS	100000

void
pw_chunk_free(struct pw_chunk_ctx *c)
{
	free(c->producer);
	free(c->uuid);
	buf_release(&c->data);
	free(c->ids);
	free(c);
}

/* Take the i-th pending message out of the table, reporting it. */
static void
drop_at(struct pw_decoder *d, size_t i, const struct msgid *extra,
    enum pw_drop_reason reason, const char *why, const struct pw_sink *sink)
{
	struct pw_chunk_ctx *c = d->chunks[i];
	int32_t n = c->next;

	if (extra)
		c->ids[n++] = *extra;	/* ids has room: next < num_chunks */
	if (sink && sink->drop && n > 0)
		sink->drop(sink->arg, c->ids, (size_t)n, reason, why);
	d->pending_bytes -= c->total;
	memmove(d->chunks + i, d->chunks + i + 1,
	    (d->nchunks - i - 1) * sizeof(*d->chunks));
	d->nchunks--;
	pw_chunk_free(c);
}

static void
drop_one(const struct pw_cmd *cmd, enum pw_drop_reason reason,
    const char *why, const struct pw_sink *sink)
{
	if (sink->drop)
		sink->drop(sink->arg, &cmd->msgid.id, 1, reason, why);
}

/* The same bytes (an absent field is a NULL span of length 0). */
static int
same(const char *a, size_t alen, const struct pw_bytes *b)
{
	return alen == b->len && (alen == 0 || memcmp(a, b->p, alen) == 0);
}

static ssize_t
find(struct pw_decoder *d, const struct pw_meta *m)
{
	size_t i;

	for (i = 0; i < d->nchunks; i++) {
		struct pw_chunk_ctx *c = d->chunks[i];

		if (same(c->uuid, c->uuid_len, &m->uuid) &&
		    same(c->producer, c->producer_len, &m->producer_name))
			return (ssize_t)i;
	}
	return -1;
}

/*
 * A copy of the span, NUL bytes included: protobuf strings may hold
 * them, and xstrndup, which stops at the first, made a copy shorter
 * than the length find() compares (a read past its end).
 */
static char *
span_dup(const struct pw_bytes *b)
{
	char *s = xmalloc(b->len + 1);

	if (b->len > 0)
		memcpy(s, b->p, b->len);
	s[b->len] = '\0';
	return s;
}

static int
start(struct pw_decoder *d, const struct pw_cmd *cmd,
    const struct pw_meta *m, uint64_t now_ms, const struct pw_sink *sink)
{
	struct pw_chunk_ctx *c;
	size_t total = (size_t)m->total_chunk_size;

	if (m->total_chunk_size <= 0 || total > d->lim.max_chunked_size ||
	    total > d->lim.max_pending_bytes) {
		drop_one(cmd, PW_DROP_CHUNK_OVERFLOW,
		    "chunked message larger than the limit", sink);
		return -1;
	}
	while (d->nchunks > 0 && (d->nchunks >= d->lim.max_pending_chunked ||
	    d->pending_bytes + total > d->lim.max_pending_bytes))
		drop_at(d, 0, NULL, PW_DROP_CHUNK_OVERFLOW,
		    "too many chunked messages pending: oldest dropped", sink);
	c = xcalloc(1, sizeof(*c));
	c->producer = span_dup(&m->producer_name);
	c->producer_len = m->producer_name.len;
	c->uuid = span_dup(&m->uuid);
	c->uuid_len = m->uuid.len;
	c->num_chunks = m->num_chunks;
	c->total = total;
	c->started = now_ms;
	buf_init(&c->data, total);
	c->ids = xreallocarray(NULL, (size_t)m->num_chunks, sizeof(*c->ids));
	if (d->nchunks == d->chunkcap) {
		d->chunkcap = d->chunkcap ? d->chunkcap * 2 : 8;
		d->chunks = xreallocarray(d->chunks, d->chunkcap,
		    sizeof(*d->chunks));
	}
	d->chunks[d->nchunks++] = c;
	d->pending_bytes += total;
	return 0;
}

const char *
pw_chunk_payload(const struct pw_chunk_ctx *c, size_t *len)
{
	*len = c->data.len;
	return c->data.data;
}

const struct msgid *
pw_chunk_ids(const struct pw_chunk_ctx *c, int *n)
{
	*n = c->num_chunks;
	return c->ids;
}

int
pw_chunk_add(struct pw_decoder *d, const struct pw_cmd *cmd,
    const struct pw_meta *m, const char *payload, size_t len,
    uint64_t now_ms, const struct pw_sink *sink,
    struct pw_chunk_ctx **whole)
{
	struct pw_chunk_ctx *c;
	ssize_t i;

	if (m->num_chunks > MAX_CHUNKS || m->chunk_id < 0 ||
	    m->chunk_id >= m->num_chunks) {
		drop_one(cmd, PW_DROP_MISSING_CHUNK,
		    "chunk with an impossible chunk id", sink);
		return 0;
	}
	if ((i = find(d, m)) < 0) {
		if (m->chunk_id != 0) {
			drop_one(cmd, PW_DROP_MISSING_CHUNK,
			    "chunk of a message whose first chunk is missing",
			    sink);
			return 0;
		}
		if (start(d, cmd, m, now_ms, sink) < 0)
			return 0;
		i = (ssize_t)d->nchunks - 1;
	}
	c = d->chunks[i];
	if (m->chunk_id < c->next) {
		drop_one(cmd, PW_DROP_DUPLICATE_CHUNK, "duplicate chunk", sink);
		return 0;
	}
	if (m->chunk_id > c->next || m->num_chunks != c->num_chunks) {
		drop_at(d, (size_t)i, &cmd->msgid.id, PW_DROP_MISSING_CHUNK,
		    "chunk missing from a chunked message", sink);
		return 0;
	}
	if (len > c->total - c->data.len ||
	    (c->next + 1 == c->num_chunks && c->data.len + len != c->total)) {
		drop_at(d, (size_t)i, &cmd->msgid.id, PW_DROP_MISSING_CHUNK,
		    "chunks do not add up to the message's size", sink);
		return 0;
	}
	buf_add(&c->data, payload, len);
	c->ids[c->next++] = cmd->msgid.id;
	if (c->next < c->num_chunks)
		return 0;

	/* Complete: out of the table, to the caller. */
	memmove(d->chunks + i, d->chunks + i + 1,
	    (d->nchunks - (size_t)i - 1) * sizeof(*d->chunks));
	d->nchunks--;
	d->pending_bytes -= c->total;
	*whole = c;
	return 1;
}

void
pw_decoder_expire(struct pw_decoder *d, uint64_t now_ms,
    const struct pw_sink *sink)
{
	size_t i = 0;

	while (i < d->nchunks) {
		if (now_ms - d->chunks[i]->started > d->lim.chunk_timeout_ms &&
		    now_ms > d->chunks[i]->started)
			drop_at(d, i, NULL, PW_DROP_CHUNK_TIMEOUT,
			    "chunked message incomplete for too long", sink);
		else
			i++;
	}
}

void
pw_decoder_reset(struct pw_decoder *d)
{
	while (d->nchunks > 0)
		drop_at(d, d->nchunks - 1, NULL, 0, NULL, NULL);
}

void
pw_chunks_free(struct pw_decoder *d)
{
	pw_decoder_reset(d);
	free(d->chunks);
	d->chunks = NULL;
	d->chunkcap = 0;
}
