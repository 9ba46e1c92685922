/* unit: consume/pulsar_proto.c consume/pulsar_msg.c consume/pulsar_chunk.c consume/ackstream.c consume/msghead.c */
/*
 * The Pulsar wire codec (consume/pulsar_wire.h).
 *
 *	test-pulsar			the unit tests, then a speed line
 *	test-pulsar --dump FILE		decode the frames of a fixture file
 *					("NAME HEX" lines) and print what
 *					came out (t5050-pulsar-wire.sh
 *					compares that with what an
 *					independent encoder expected)
 *
 * Also the stream of received entries behind cumulative acks
 * (consume/ackstream.h), and the message frame headers' shared start
 * (consume/msghead.h) against the frame writers.
 *
 * The unit tests build broker-side frames with the codec's own protobuf
 * primitives; the independent check of the field numbers is the fixture
 * test, whose frames come from pulsar-flex's generated codec.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <lz4.h>
#include <snappy-c.h>
#include <zlib.h>
#include <zstd.h>

#include "buf.h"
#include "frame.h"
#include "msgid.h"
#include "unit.h"
#include "../../consume/ackstream.h"
#include "../../consume/msghead.h"
#include "../../consume/pulsar_pb.h"
#include "../../consume/pulsar_wire.h"

/* ------------------------------------------------------------------ */
/* What a sink saw */

struct seen {
	int		 n, ndrops, stop_after;
	struct msgid	 ids[300];
	char		 payloads[300][128];
	char		 keys[300][32];
	int		 last[300], null[300];
	int32_t		 bsize[300];
	int		 nchunks[300];
	uint64_t	 et[300];
	int		 nprops[300];
	struct msgid	 dropped[64];
	int		 ndropped;
	enum pw_drop_reason reasons[16];
	uint64_t	 bytes;
};

static int
see_msg(void *arg, const struct pw_msg *m)
{
	struct seen *s = arg;
	struct pw_props it = m->props;
	struct pw_bytes k, v;
	int i = s->n++;

	if (i >= 300)
		return 0;
	s->ids[i] = m->id;
	snprintf(s->payloads[i], sizeof(s->payloads[i]), "%.*s",
	    (int)(m->payload.len > 100 ? 100 : m->payload.len), m->payload.p);
	snprintf(s->keys[i], sizeof(s->keys[i]), "%.*s", (int)m->key.len,
	    m->key.p);
	s->last[i] = m->last_in_entry;
	s->null[i] = m->null_value;
	s->bsize[i] = m->batch_size;
	s->nchunks[i] = m->num_chunks;
	s->et[i] = m->event_time;
	while (pw_props_next(&it, &k, &v))
		s->nprops[i]++;
	s->bytes += m->payload.len;
	return s->stop_after && s->n == s->stop_after ? 7 : 0;
}

/* A batch as see_msg() sees its messages: the batch path of the sink. */
static int
see_batch(void *arg, const struct pw_msg *msgs, size_t n)
{
	size_t i;
	int rc;

	for (i = 0; i < n; i++)
		if ((rc = see_msg(arg, &msgs[i])) != 0)
			return rc;
	return 0;
}

static void
see_drop(void *arg, const struct msgid *ids, size_t n,
    enum pw_drop_reason why, const char *text)
{
	struct seen *s = arg;
	size_t i;

	if (s->ndrops < 16)
		s->reasons[s->ndrops] = why;
	s->ndrops++;
	for (i = 0; i < n && s->ndropped < 64; i++)
		s->dropped[s->ndropped++] = ids[i];
}

/* ------------------------------------------------------------------ */
/* Building broker-side frames for the tests */

/*
 * Fields no decoder of ours knows, one of each wire type (varint, 64-bit,
 * 32-bit, length-delimited, and a group holding a nested group and
 * scalars), numbered from num: all to be skipped.
 */
static void
add_unknown_fields(struct buf *b, uint32_t num)
{
	pb_add_u64(b, num, 424242);
	pb_add_key(b, num + 1, PB_I64);
	buf_add(b, "\x01\x02\x03\x04\x05\x06\x07\x08", 8);
	pb_add_key(b, num + 2, PB_I32);
	buf_add(b, "\x01\x02\x03\x04", 4);
	pb_add_bytes(b, num + 3, "\x3f\x3f\xff", 3);	/* not protobuf */
	pb_add_key(b, num + 4, PB_SGROUP);
	pb_add_u64(b, 1, 7);
	pb_add_key(b, 2, PB_SGROUP);
	pb_add_str(b, 1, "inner");
	pb_add_key(b, 3, PB_I32);
	buf_add(b, "\0\0\0\0", 4);
	pb_add_key(b, 2, PB_EGROUP);
	pb_add_key(b, 4, PB_I64);
	buf_add(b, "\0\0\0\0\0\0\0\0", 8);
	pb_add_key(b, num + 4, PB_EGROUP);
}

struct entry_meta {
	const char	*producer;
	uint64_t	 seq, publish_time, event_time;
	const char	*key;
	int		 compression;
	uint32_t	 uncompressed_size;
	int		 num_in_batch;		/* -1: not a batch */
	int		 nprops;
	const char	*uuid;
	int		 num_chunks, chunk_id, total_chunk_size;
	int		 encrypted, marker, null_value;
};

static void
enc_meta(struct buf *b, const struct entry_meta *m)
{
	size_t kv;
	int i;

	pb_add_str(b, 1, m->producer ? m->producer : "prod");
	pb_add_u64(b, 2, m->seq);
	pb_add_u64(b, 3, m->publish_time ? m->publish_time : 1700000000000);
	for (i = 0; i < m->nprops; i++) {
		kv = pb_begin(b, 4);
		pb_add_str(b, 1, "k");
		pb_add_str(b, 2, "v");
		pb_end(b, kv);
	}
	if (m->key)
		pb_add_str(b, 6, m->key);
	if (m->compression) {
		pb_add_u64(b, 8, (uint64_t)m->compression);
		pb_add_u64(b, 9, m->uncompressed_size);
	}
	if (m->num_in_batch >= 0)
		pb_add_i32(b, 11, m->num_in_batch);
	if (m->event_time)
		pb_add_u64(b, 12, m->event_time);
	if (m->encrypted) {
		kv = pb_begin(b, 13);
		pb_add_str(b, 1, "key");
		pb_add_str(b, 2, "secret");
		pb_end(b, kv);
	}
	if (m->marker)
		pb_add_u64(b, 20, 1);
	if (m->null_value)
		pb_add_u64(b, 25, 1);
	if (m->uuid) {
		pb_add_str(b, 26, m->uuid);
		pb_add_i32(b, 27, m->num_chunks);
		pb_add_i32(b, 28, m->total_chunk_size);
		pb_add_i32(b, 29, m->chunk_id);
	}
	add_unknown_fields(b, 1000);	/* to be skipped */
}

/* One batched message: [size][SingleMessageMetadata][payload]. */
static void
add_single(struct buf *b, const char *key, const char *payload,
    int compacted, int null_value, int nprops)
{
	struct buf smm = BUF_INIT;
	char sz[4];
	size_t kv;
	int i;

	for (i = 0; i < nprops; i++) {
		kv = pb_begin(&smm, 1);
		pb_add_str(&smm, 1, "pk");
		pb_add_str(&smm, 2, "pv");
		pb_end(&smm, kv);
	}
	if (key)
		pb_add_str(&smm, 2, key);
	pb_add_i32(&smm, 3, (int32_t)strlen(payload));
	if (compacted)
		pb_add_u64(&smm, 4, 1);
	pb_add_u64(&smm, 5, 1234);
	if (null_value)
		pb_add_u64(&smm, 9, 1);
	pb_put_be32(sz, (uint32_t)smm.len);
	buf_add(b, sz, 4);
	buf_add(b, smm.data, smm.len);
	buf_addstr(b, payload);
	buf_release(&smm);
}

/*
 * A whole MESSAGE frame: command, [broker entry metadata], [magic +
 * checksum], metadata, payload.
 */
static void
enc_message(struct buf *out, uint64_t ledger, uint64_t entry,
    const uint64_t *ack_set, int ack_set_len, uint32_t redeliveries,
    const struct entry_meta *m, const void *payload, size_t len,
    int broker_meta, int checksum)
{
	struct buf meta = BUF_INIT, tail = BUF_INIT;
	struct msgid id = { (int64_t)ledger, (int64_t)entry, -1, -1 };
	size_t at, sub;
	char be[4];
	int i;

	at = pw_frame_begin(out, PW_MESSAGE, &sub);
	pb_add_u64(out, 1, 1);
	pw_msgid_encode(out, 2, &id, NULL, 0, 0);
	if (redeliveries)
		pb_add_u64(out, 3, redeliveries);
	for (i = 0; i < ack_set_len; i++)
		pb_add_u64(out, 4, ack_set[i]);
	pw_frame_end(out, at, sub);

	enc_meta(&meta, m);
	pb_put_be32(be, (uint32_t)meta.len);
	buf_add(&tail, be, 4);
	buf_add(&tail, meta.data, meta.len);
	buf_add(&tail, payload, len);
	if (broker_meta) {
		struct buf bm = BUF_INIT;

		pb_add_u64(&bm, 1, 1700000000001);
		pb_add_u64(&bm, 2, 77);
		buf_add(out, "\x0e\x02", 2);
		pb_put_be32(be, (uint32_t)bm.len);
		buf_add(out, be, 4);
		buf_add(out, bm.data, bm.len);
		buf_release(&bm);
	}
	if (checksum) {
		buf_add(out, "\x0e\x01", 2);
		pb_put_be32(be, pw_crc32c(tail.data, tail.len) ^
		    (checksum == 2 ? 1 : 0));
		buf_add(out, be, 4);
	}
	buf_add(out, tail.data, tail.len);
	/* Fix the total size: the frame now holds the payload part too. */
	pb_put_be32(out->data + at, (uint32_t)(out->len - at - 4));
	buf_release(&meta);
	buf_release(&tail);
}

/* Decode one frame from b and process it (batches through see_batch). */
static int
process(struct pw_decoder *d, const struct buf *b, uint64_t now,
    struct seen *s)
{
	struct pw_frame f;
	struct pw_cmd c;
	const char *err = NULL;
	struct pw_sink sink = { see_msg, see_drop, s, see_batch };

	if (pw_frame_next(b->data, b->len, 0, &f, &err) != 1)
		return 100;
	if (pw_cmd_decode(&c, f.cmd, f.cmd_len, &err) < 0 ||
	    c.type != PW_MESSAGE)
		return 101;
	c.msgid.id.partition = 3;
	return pw_message_process(d, &c, f.rest, f.rest_len, now, &sink);
}

/* ------------------------------------------------------------------ */

static void
test_crc(void)
{
	CHECK(pw_crc32c("123456789", 9) == 0xE3069283u,
	    "CRC32C of \"123456789\" is 0xE3069283");
	CHECK(pw_crc32c("", 0) == 0, "CRC32C of nothing is 0");
}

static int
one_frame(const struct buf *b, struct pw_cmd *c)
{
	struct pw_frame f;
	const char *err = NULL;

	if (pw_frame_next(b->data, b->len, 0, &f, &err) != 1 ||
	    f.frame_len != b->len)
		return -1;
	return pw_cmd_decode(c, f.cmd, f.cmd_len, &err);
}

static void
test_client_commands(void)
{
	struct buf b = BUF_INIT;
	struct pw_cmd c;
	struct msgid start = { 12, 34, -1, -1 }, ids[3] = {
		{ 1, 2, 0, -1 }, { 1, 3, 0, 5 }, { 9, 9, -1, -1 } };
	uint64_t set[2] = { 0xf0, 1 };
	struct pw_ack_id acks[2] = {
		{ { 5, 6, 2, -1 }, NULL, 0, 0 },
		{ { 5, 7, 2, 3 }, set, 2, 100 },
	};
	struct pw_connect cn = { "lakepipe 0.1", "token", "tok.en", 6, NULL,
	    1 };
	struct pw_subscribe sub = { 0 };
	char topic[400];

	pw_enc_connect(&b, &cn);
	CHECK(one_frame(&b, &c) == 0 && c.type == PW_CONNECT &&
	    c.auth_method_name.len == 5 &&
	    memcmp(c.auth_data.p, "tok.en", 6) == 0 &&
	    c.protocol_version == PW_PROTOCOL_VERSION,
	    "CONNECT round trip: auth method, token, protocol version");

	buf_reset(&b);
	pw_enc_auth_response(&b, NULL, "token", "new", 3);
	CHECK(one_frame(&b, &c) == 0 && c.type == PW_AUTH_RESPONSE &&
	    c.auth_data.len == 3 && memcmp(c.auth_data.p, "new", 3) == 0,
	    "AUTH_RESPONSE round trip");

	memset(topic, 'a', sizeof(topic) - 1);
	topic[sizeof(topic) - 1] = '\0';
	sub.topic = topic;
	sub.subscription = "backup";
	sub.sub_type = PW_SUB_KEY_SHARED;
	sub.consumer_id = 300;
	sub.request_id = 1ULL << 40;
	sub.start_message_id = &start;
	sub.initial_position = PW_POS_EARLIEST;
	buf_reset(&b);
	pw_enc_subscribe(&b, &sub);
	CHECK(one_frame(&b, &c) == 0 && c.type == PW_SUBSCRIBE &&
	    c.topic.len == sizeof(topic) - 1 && c.sub_type == 3 &&
	    c.consumer_id == 300 && c.request_id == 1ULL << 40 &&
	    c.msgid.id.ledger == 12 && c.msgid.id.entry == 34 &&
	    c.subscription.len == 6,
	    "SUBSCRIBE round trip (long topic: nested length moved)");

	buf_reset(&b);
	pw_enc_flow(&b, 7, 1000);
	CHECK(one_frame(&b, &c) == 0 && c.type == PW_FLOW &&
	    c.consumer_id == 7 && c.permits == 1000, "FLOW round trip");

	buf_reset(&b);
	pw_enc_ack(&b, 8, PW_ACK_INDIVIDUAL, acks, 2);
	CHECK(one_frame(&b, &c) == 0 && c.type == PW_ACK && c.n_ids == 2 &&
	    c.ack_type == 0 && c.msgid.id.entry == 6 &&
	    c.msgid.id.partition == 2, "ACK with two ids round trip");

	buf_reset(&b);
	pw_enc_redeliver(&b, 9, ids, 3);
	CHECK(one_frame(&b, &c) == 0 &&
	    c.type == PW_REDELIVER_UNACKNOWLEDGED_MESSAGES && c.n_ids == 3 &&
	    c.consumer_id == 9, "REDELIVER_UNACKNOWLEDGED_MESSAGES round trip");

	buf_reset(&b);
	pw_enc_seek_id(&b, 1, 2, &ids[1]);
	CHECK(one_frame(&b, &c) == 0 && c.type == PW_SEEK &&
	    c.msgid.id.batch == 5 && c.publish_time == 0,
	    "SEEK by message id round trip");
	buf_reset(&b);
	pw_enc_seek_time(&b, 1, 3, 1700000000123);
	CHECK(one_frame(&b, &c) == 0 && c.type == PW_SEEK &&
	    c.request_id == 3 && c.publish_time == 1700000000123,
	    "SEEK by publish time round trip");

	buf_reset(&b);
	pw_enc_lookup(&b, "persistent://t/n/x", 4, 1, "internal");
	CHECK(one_frame(&b, &c) == 0 && c.type == PW_LOOKUP &&
	    c.authoritative && c.request_id == 4 && c.topic.len == 18,
	    "LOOKUP round trip");
	buf_reset(&b);
	pw_enc_partitioned_metadata(&b, "persistent://t/n/x", 5);
	CHECK(one_frame(&b, &c) == 0 && c.type == PW_PARTITIONED_METADATA &&
	    c.request_id == 5, "PARTITIONED_METADATA round trip");
	buf_reset(&b);
	pw_enc_close_consumer(&b, 6, 7);
	CHECK(one_frame(&b, &c) == 0 && c.type == PW_CLOSE_CONSUMER &&
	    c.consumer_id == 6 && c.request_id == 7,
	    "CLOSE_CONSUMER round trip");
	buf_reset(&b);
	pw_enc_get_last_message_id(&b, 6, 8);
	CHECK(one_frame(&b, &c) == 0 && c.type == PW_GET_LAST_MESSAGE_ID &&
	    c.request_id == 8, "GET_LAST_MESSAGE_ID round trip");
	buf_reset(&b);
	pw_enc_ping(&b);
	CHECK(one_frame(&b, &c) == 0 && c.type == PW_PING, "PING round trip");
	/* Pulsar's PING is exactly these bytes. */
	CHECK(b.len == 13 && memcmp(b.data,
	    "\0\0\0\x09\0\0\0\x05\x08\x12\x92\x01\x00", 13) == 0,
	    "PING is the known 13 bytes");
	buf_reset(&b);
	pw_enc_pong(&b);
	CHECK(one_frame(&b, &c) == 0 && c.type == PW_PONG, "PONG round trip");
	buf_release(&b);
}

static void
test_broker_commands(void)
{
	struct buf b = BUF_INIT;
	struct pw_cmd c;
	struct msgid last = { 100, 200, 1, -1 };
	size_t at, sub, ad;
	const char *err = NULL;

	at = pw_frame_begin(&b, PW_LOOKUP_RESPONSE, &sub);
	pb_add_str(&b, 1, "pulsar://b2:6650");
	pb_add_u64(&b, 3, PW_LOOKUP_REDIRECT);
	pb_add_u64(&b, 4, 11);
	pb_add_u64(&b, 5, 1);
	pb_add_u64(&b, 8, 1);
	pb_add_str(&b, 99, "future field");
	pw_frame_end(&b, at, sub);
	CHECK(one_frame(&b, &c) == 0 && c.type == PW_LOOKUP_RESPONSE &&
	    c.broker_url.len == 16 && c.lookup_type == PW_LOOKUP_REDIRECT &&
	    c.request_id == 11 && c.authoritative &&
	    c.proxy_through_service_url,
	    "LOOKUP_RESPONSE: redirect, authoritative, proxy, unknown field");

	buf_reset(&b);
	at = pw_frame_begin(&b, PW_ERROR, &sub);
	pb_add_u64(&b, 1, 3);
	pb_add_u64(&b, 2, PW_ERR_SERVICE_NOT_READY);
	pb_add_str(&b, 3, "not ready");
	pw_frame_end(&b, at, sub);
	CHECK(one_frame(&b, &c) == 0 && c.type == PW_ERROR && c.has_error &&
	    c.error == PW_ERR_SERVICE_NOT_READY && c.message.len == 9 &&
	    strcmp(pw_server_error_name(c.error), "ServiceNotReady") == 0,
	    "ERROR: ServiceNotReady with its text");

	buf_reset(&b);
	at = pw_frame_begin(&b, PW_GET_LAST_MESSAGE_ID_RESPONSE, &sub);
	pw_msgid_encode(&b, 1, &last, NULL, 0, 0);
	pb_add_u64(&b, 2, 12);
	pw_frame_end(&b, at, sub);
	CHECK(one_frame(&b, &c) == 0 && c.msgid.id.ledger == 100 &&
	    c.msgid.id.entry == 200 && c.msgid.id.partition == 1 &&
	    c.msgid.id.batch == -1 && !c.has_mark_delete,
	    "GET_LAST_MESSAGE_ID_RESPONSE");

	buf_reset(&b);
	at = pw_frame_begin(&b, PW_AUTH_CHALLENGE, &sub);
	pb_add_str(&b, 1, "broker");
	ad = pb_begin(&b, 2);
	pb_add_str(&b, 1, "token");
	pb_add_str(&b, 2, "refresh");
	pb_end(&b, ad);
	pw_frame_end(&b, at, sub);
	CHECK(one_frame(&b, &c) == 0 && c.type == PW_AUTH_CHALLENGE &&
	    c.auth_data.len == 7 && c.auth_method_name.len == 5,
	    "AUTH_CHALLENGE: method and data");

	buf_reset(&b);
	at = pw_frame_begin(&b, PW_PARTITIONED_METADATA_RESPONSE, &sub);
	pb_add_u64(&b, 1, 4);
	pb_add_u64(&b, 2, 13);
	pw_frame_end(&b, at, sub);
	CHECK(one_frame(&b, &c) == 0 && c.partitions == 4 &&
	    c.request_id == 13 && !c.has_error,
	    "PARTITIONED_METADATA_RESPONSE: 4 partitions");

	buf_reset(&b);
	at = pw_frame_begin(&b, PW_ACTIVE_CONSUMER_CHANGE, &sub);
	pb_add_u64(&b, 1, 5);
	pb_add_u64(&b, 2, 1);
	pw_frame_end(&b, at, sub);
	CHECK(one_frame(&b, &c) == 0 && c.consumer_id == 5 && c.is_active,
	    "ACTIVE_CONSUMER_CHANGE");

	buf_reset(&b);
	at = pw_frame_begin(&b, 99, &sub);	/* a command from the future */
	pb_add_u64(&b, 1, 5);
	pw_frame_end(&b, at, sub);
	CHECK(one_frame(&b, &c) == 0 && c.type == 99 &&
	    strcmp(pw_cmd_name(99), "command 99") == 0,
	    "an unknown command decodes to its type only");

	CHECK(pw_cmd_decode(&c, "\x08\x80", 2, &err) < 0 && err,
	    "a truncated varint is an error");
	CHECK(pw_cmd_decode(&c, "\x12\x00", 2, &err) < 0,
	    "a command without a type is an error");
	CHECK(pw_cmd_decode(&c, "\x08\x0d\x6a\x05\x08", 5, &err) < 0,
	    "a length past the end is an error");
	CHECK(pw_cmd_decode(&c, "\x08\x0d\x6a\x02\x0a\x00", 6, &err) < 0,
	    "a wrong wire type for a known field is an error");
	buf_release(&b);
}

/* One BaseCommand built by hand (not a frame): decode it. */
static int
decode_raw(const struct buf *b, struct pw_cmd *c)
{
	const char *err = NULL;

	return pw_cmd_decode(c, b->data, b->len, &err);
}

static void
test_unknown(void)
{
	/* The test broker's unknownCommandEvery frame, byte for byte. */
	static const char broker99[] = "\x08\x63\x9a\x06\x03???"
	    "\xc2\x3e\x05lake?\xc8\x3e\xb2\xf2\x19";
#define RAW(s)	s, sizeof(s) - 1
	static const struct {
		const char	*p;
		size_t		 len;
		const char	*what;
	} bad[] = {
		{ RAW("\x08\x12\x2c"), "a stray group end" },
		{ RAW("\x08\x12\x2b\x08\x01\x34"), "a mismatched group end" },
		{ RAW("\x08\x12\x2b\x08\x01"), "a group without its end" },
		{ RAW("\x08\x12\x2e\x00"), "wire type 6" },
		{ RAW("\x08\x12\x2f\x00"), "wire type 7" },
		{ RAW("\x08\x0b\x5a\x02\x13\x14"),
		    "a group in a known scalar field" },
		{ RAW("\x08\x0b\x58\x03"), "a known command's body as a varint" },
	};
#undef RAW
	struct buf b = BUF_INIT;
	struct pw_cmd c;
	struct msgid id = { 7, 8, 1, 2 };
	const char *err = NULL;
	char what[128];
	size_t at, i;
	int depth;

	CHECK(pw_cmd_decode(&c, broker99, sizeof(broker99) - 1, &err) == 0 &&
	    c.type == 99, "the broker's unknown command 99 (field 99 \"???\", "
	    "fields 1000, 1001) decodes to its type");

	pb_add_u64(&b, 1, 77);
	pb_add_bytes(&b, 77, "\xff\xff\x07\x0f", 4);
	add_unknown_fields(&b, 300);
	CHECK(decode_raw(&b, &c) == 0 && c.type == 77,
	    "an unknown command type: its body is not looked into");

	buf_reset(&b);
	add_unknown_fields(&b, 300);
	pb_add_u64(&b, 1, PW_FLOW);
	add_unknown_fields(&b, 400);
	at = pb_begin(&b, PW_FLOW);
	add_unknown_fields(&b, 100);
	pb_add_u64(&b, 1, 5);
	add_unknown_fields(&b, 3);
	pb_add_u64(&b, 2, 1000);
	add_unknown_fields(&b, 200);
	pb_end(&b, at);
	add_unknown_fields(&b, 500);
	CHECK(decode_raw(&b, &c) == 0 && c.type == PW_FLOW &&
	    c.consumer_id == 5 && c.permits == 1000,
	    "unknown fields of every wire type (groups nested) skipped, in "
	    "BaseCommand and in the command");

	buf_reset(&b);
	pb_add_u64(&b, 1, PW_MESSAGE);
	at = pb_begin(&b, PW_MESSAGE);
	pb_add_u64(&b, 1, 9);
	{
		size_t mid = pb_begin(&b, 2);

		add_unknown_fields(&b, 20);
		pb_add_u64(&b, 1, 7);
		pb_add_u64(&b, 2, 8);
		add_unknown_fields(&b, 40);
		pb_end(&b, mid);
	}
	pw_msgid_encode(&b, 99, &id, NULL, 0, 0);	/* a message id where
							   none is known */
	pb_end(&b, at);
	CHECK(decode_raw(&b, &c) == 0 && c.type == PW_MESSAGE &&
	    c.consumer_id == 9 && c.msgid.id.ledger == 7 &&
	    c.msgid.id.entry == 8 && c.msgid.id.batch == -1,
	    "unknown fields inside a nested MessageIdData skipped");

	buf_reset(&b);
	pb_add_u64(&b, 1, PW_AUTH_CHALLENGE);
	at = pb_begin(&b, PW_AUTH_CHALLENGE);
	{
		size_t ad = pb_begin(&b, 2);

		add_unknown_fields(&b, 10);
		pb_add_str(&b, 1, "token");
		pb_add_str(&b, 2, "refresh");
		pb_end(&b, ad);
	}
	pb_end(&b, at);
	CHECK(decode_raw(&b, &c) == 0 && c.auth_data.len == 7 &&
	    c.auth_method_name.len == 5,
	    "unknown fields inside AuthData skipped");

	buf_reset(&b);
	pb_add_u64(&b, 1, PW_SUCCESS);
	for (i = 0; i < 20; i++)
		pb_add_str(&b, 100 + (uint32_t)i, "x");
	at = pb_begin(&b, PW_SUCCESS);
	pb_add_u64(&b, 1, 42);
	pb_end(&b, at);
	CHECK(decode_raw(&b, &c) == 0 && c.request_id == 42,
	    "the body found after 20 unknown length-delimited fields");

	buf_reset(&b);
	at = pb_begin(&b, PW_FLOW);
	pb_add_u64(&b, 1, 6);
	pb_end(&b, at);
	pb_add_u64(&b, 1, PW_FLOW);
	at = pb_begin(&b, PW_FLOW);
	pb_add_u64(&b, 2, 50);
	pb_end(&b, at);
	CHECK(decode_raw(&b, &c) == 0 && c.type == PW_FLOW &&
	    c.consumer_id == 6 && c.permits == 50,
	    "the type after the body; a body in two parts is merged");

	/* In MessageMetadata (enc_meta adds them) and in a batch's
	   SingleMessageMetadata. */
	buf_reset(&b);
	{
		struct pw_decoder *d = pw_decoder_new(NULL);
		struct entry_meta m = { 0 };
		struct buf smm = BUF_INIT, p = BUF_INIT;
		struct seen *sn = calloc(1, sizeof(*sn));
		char sz[4];

		add_unknown_fields(&smm, 500);
		pb_add_i32(&smm, 3, 2);
		add_unknown_fields(&smm, 600);
		pb_put_be32(sz, (uint32_t)smm.len);
		buf_add(&p, sz, 4);
		buf_add(&p, smm.data, smm.len);
		buf_add(&p, "ok", 2);
		m.num_in_batch = 1;
		enc_message(&b, 3, 4, NULL, 0, 0, &m, p.data, p.len, 0, 1);
		CHECK(process(d, &b, 0, sn) == 0 && sn->n == 1 &&
		    strcmp(sn->payloads[0], "ok") == 0 && sn->ids[0].batch == 0,
		    "unknown fields of every wire type in MessageMetadata and "
		    "SingleMessageMetadata skipped");
		buf_release(&smm);
		buf_release(&p);
		free(sn);
		pw_decoder_free(d);
	}

	/* What cannot be skipped: PING (0x08 0x12) or FLOW (0x08 0x0b)
	   with field 5 or the body field 11 spoilt. */
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(what, sizeof(what), "%s is an error", bad[i].what);
		CHECK(pw_cmd_decode(&c, bad[i].p, bad[i].len, &err) < 0,
		    what);
	}
	for (depth = PB_MAX_GROUP_DEPTH; depth <= PB_MAX_GROUP_DEPTH + 1;
	    depth++) {
		buf_reset(&b);
		pb_add_u64(&b, 1, PW_PING);
		for (i = 0; i < (size_t)depth; i++)
			pb_add_key(&b, 5, PB_SGROUP);
		for (i = 0; i < (size_t)depth; i++)
			pb_add_key(&b, 5, PB_EGROUP);
		CHECK((decode_raw(&b, &c) == 0) == (depth <=
		    PB_MAX_GROUP_DEPTH), depth <= PB_MAX_GROUP_DEPTH ?
		    "groups nested 32 deep are skipped" :
		    "groups nested deeper than 32 are an error");
	}
	buf_release(&b);
}

static void
test_framing(void)
{
	struct buf b = BUF_INIT;
	struct pw_frame f;
	const char *err = NULL;
	size_t i, first;
	int rc, ok = 1;

	pw_enc_flow(&b, 1, 10);
	first = b.len;
	pw_enc_ping(&b);
	for (i = 0; i < first; i++)
		if (pw_frame_next(b.data, i, 0, &f, &err) != 0)
			ok = 0;
	CHECK(ok, "every prefix of a frame asks for more bytes");
	rc = pw_frame_next(b.data, b.len, 0, &f, &err);
	CHECK(rc == 1 && f.frame_len == first && f.rest_len == 0,
	    "a whole frame comes out, the next one stays");
	rc = pw_frame_next(b.data + first, b.len - first, 0, &f, &err);
	CHECK(rc == 1 && f.frame_len == b.len - first, "then the next one");

	rc = pw_frame_next("\x00\x60\x00\x00\x00\x00\x00\x04", 8, 0, &f,
	    &err);
	CHECK(rc == -1 && err && strstr(err, "maximum"),
	    "a frame over the maximum size is refused");
	rc = pw_frame_next("\x00\x00\x00\x10\x00\x00", 6, 1 << 20, &f, &err);
	CHECK(rc == 0, "a small frame is fine with a small limit");
	rc = pw_frame_next("\x00\x00\x00\x10\x00\x00\x00\x20", 8, 0, &f,
	    &err);
	CHECK(rc == -1, "a command larger than its frame is refused");
	rc = pw_frame_next("\x00\x00\x00\x02", 4, 0, &f, &err);
	CHECK(rc == -1, "a frame too short for a command size is refused");
	rc = pw_frame_next("GET / HTTP/1.1\r\n", 16, 0, &f, &err);
	CHECK(rc == -1, "HTTP garbage is refused at once");
	buf_release(&b);
}

static void
batch_of(struct buf *payload, int n, int plen)
{
	char text[256];
	int i;

	for (i = 0; i < n; i++) {
		snprintf(text, sizeof(text), "m%03d", i);
		memset(text + 4, 'x', (size_t)plen - 4);
		text[plen] = '\0';
		add_single(payload, i % 2 ? "even" : "odd", text, 0, 0, 1);
	}
}

static void
test_messages(void)
{
	struct pw_decoder *d = pw_decoder_new(NULL);
	struct buf b = BUF_INIT, p = BUF_INIT;
	struct entry_meta m = { 0 };
	struct seen *s = calloc(1, sizeof(*s));
	uint64_t set[2];
	int rc;

	m.num_in_batch = -1;
	m.key = "k1";
	m.nprops = 2;
	m.event_time = 99;
	enc_message(&b, 10, 20, NULL, 0, 2, &m, "hello", 5, 0, 1);
	rc = process(d, &b, 0, s);
	CHECK(rc == 0 && s->n == 1 && strcmp(s->payloads[0], "hello") == 0 &&
	    s->ids[0].ledger == 10 && s->ids[0].entry == 20 &&
	    s->ids[0].partition == 3 && s->ids[0].batch == -1 &&
	    strcmp(s->keys[0], "k1") == 0 && s->nprops[0] == 2 &&
	    s->et[0] == 99 && s->last[0] && s->bsize[0] == 0,
	    "a single message: id, key, properties, event time, payload");

	memset(s, 0, sizeof(*s));
	buf_reset(&b);
	enc_message(&b, 10, 21, NULL, 0, 0, &m, "hello", 5, 1, 0);
	CHECK(process(d, &b, 0, s) == 0 && s->n == 1,
	    "broker entry metadata skipped, no checksum accepted");

	memset(s, 0, sizeof(*s));
	buf_reset(&b);
	enc_message(&b, 10, 22, NULL, 0, 0, &m, "hello", 5, 1, 2);
	CHECK(process(d, &b, 0, s) == PW_E_CHECKSUM && s->n == 0 &&
	    strstr(pw_decoder_error(d), "checksum"),
	    "a bad checksum is an error, nothing emitted");

	/* A batch of one is a batch. */
	memset(s, 0, sizeof(*s));
	buf_reset(&b);
	buf_reset(&p);
	add_single(&p, "sk", "only", 0, 0, 0);
	m.num_in_batch = 1;
	enc_message(&b, 10, 23, NULL, 0, 0, &m, p.data, p.len, 0, 1);
	CHECK(process(d, &b, 0, s) == 0 && s->n == 1 &&
	    s->ids[0].batch == 0 && s->bsize[0] == 1 &&
	    strcmp(s->keys[0], "sk") == 0 && s->et[0] == 1234 &&
	    strcmp(s->payloads[0], "only") == 0,
	    "a batch of one gives batch index 0 and its own key");

	/* A batch of 100, some acked already, some compacted out. */
	memset(s, 0, sizeof(*s));
	buf_reset(&b);
	buf_reset(&p);
	batch_of(&p, 100, 20);
	m.num_in_batch = 100;
	set[0] = ~0ULL & ~0x7ULL;	/* 0, 1, 2 acked */
	set[1] = (1ULL << 36) - 1;	/* up to 99 */
	enc_message(&b, 10, 24, set, 2, 0, &m, p.data, p.len, 0, 1);
	CHECK(process(d, &b, 0, s) == 0 && s->n == 97 &&
	    s->ids[0].batch == 3 && s->ids[96].batch == 99 &&
	    s->last[96] && !s->last[95] && s->bsize[0] == 100 &&
	    strncmp(s->payloads[0], "m003", 4) == 0,
	    "a batch of 100 with three acked: 97 messages, last marked");

	memset(s, 0, sizeof(*s));
	buf_reset(&b);
	buf_reset(&p);
	add_single(&p, NULL, "gone", 1, 0, 0);
	add_single(&p, NULL, "", 0, 1, 0);
	add_single(&p, NULL, "kept", 0, 0, 0);
	m.num_in_batch = 3;
	enc_message(&b, 10, 25, NULL, 0, 0, &m, p.data, p.len, 0, 1);
	CHECK(process(d, &b, 0, s) == 0 && s->n == 2 && s->null[0] &&
	    s->ids[0].batch == 1 && s->ids[1].batch == 2 && !s->null[1],
	    "compacted-out skipped, null value flagged");

	memset(s, 0, sizeof(*s));
	buf_reset(&b);
	buf_reset(&p);
	add_single(&p, NULL, "gone", 1, 0, 0);
	m.num_in_batch = 1;
	enc_message(&b, 10, 26, NULL, 0, 0, &m, p.data, p.len, 0, 1);
	CHECK(process(d, &b, 0, s) == 0 && s->n == 0 && s->ndrops == 1 &&
	    s->reasons[0] == PW_DROP_SKIPPED && s->dropped[0].entry == 26,
	    "an entry with nothing left is reported as skipped");

	/* Truncated batch: declared 5 messages, holds 3. */
	memset(s, 0, sizeof(*s));
	buf_reset(&b);
	buf_reset(&p);
	batch_of(&p, 3, 10);
	m.num_in_batch = 5;
	enc_message(&b, 10, 27, NULL, 0, 0, &m, p.data, p.len, 0, 1);
	CHECK(process(d, &b, 0, s) == PW_E_CORRUPT && s->n == 0,
	    "a short batch is corrupt, and nothing of it is emitted");

	memset(s, 0, sizeof(*s));
	buf_reset(&b);
	buf_reset(&p);
	batch_of(&p, 10, 10);
	m.num_in_batch = 10;
	enc_message(&b, 10, 28, NULL, 0, 0, &m, p.data, p.len, 0, 1);
	s->stop_after = 4;
	CHECK(process(d, &b, 0, s) == 7 && s->n == 4,
	    "the sink can stop a batch; its value comes back");

	memset(s, 0, sizeof(*s));
	buf_reset(&b);
	m.num_in_batch = -1;
	m.encrypted = 1;
	enc_message(&b, 10, 29, NULL, 0, 0, &m, "xx", 2, 0, 1);
	CHECK(process(d, &b, 0, s) == PW_E_ENCRYPTED && s->n == 0,
	    "an encrypted entry is refused");
	m.encrypted = 0;

	memset(s, 0, sizeof(*s));
	buf_reset(&b);
	m.marker = 1;
	enc_message(&b, 10, 30, NULL, 0, 0, &m, "xx", 2, 0, 1);
	CHECK(process(d, &b, 0, s) == 0 && s->n == 0 && s->ndrops == 1 &&
	    s->reasons[0] == PW_DROP_SKIPPED, "a marker is skipped");
	m.marker = 0;

	buf_release(&b);
	buf_release(&p);
	free(s);
	pw_decoder_free(d);
}

/* Compress with the libraries, decode with the codec. */
static size_t
compress_with(int codec, const struct buf *in, char *out, size_t cap,
    int end_marker)
{
	size_t n = cap;
	z_stream z;

	switch (codec) {
	case PW_COMP_LZ4:
		return (size_t)LZ4_compress_default(in->data, out,
		    (int)in->len, (int)cap);
	case PW_COMP_ZLIB:
		memset(&z, 0, sizeof(z));
		deflateInit(&z, 6);
		z.next_in = (Bytef *)in->data;
		z.avail_in = (uInt)in->len;
		z.next_out = (Bytef *)out;
		z.avail_out = (uInt)cap;
		deflate(&z, end_marker ? Z_FINISH : Z_SYNC_FLUSH);
		n = z.total_out;
		deflateEnd(&z);
		return n;
	case PW_COMP_ZSTD:
		return ZSTD_compress(out, cap, in->data, in->len, 3);
	case PW_COMP_SNAPPY:
		snappy_compress(in->data, in->len, out, &n);
		return n;
	}
	return 0;
}

static void
test_compression(void)
{
	static const char *names[] = { "", "LZ4", "ZLIB", "ZSTD", "SNAPPY" };
	struct pw_limits lim = { 0 };
	struct pw_decoder *d;
	struct buf b = BUF_INIT, p = BUF_INIT;
	struct entry_meta m = { 0 };
	struct seen *s = calloc(1, sizeof(*s));
	char *z = malloc(1 << 20), what[80];
	size_t zn;
	int codec, marker;

	lim.max_uncompressed = 100000;
	d = pw_decoder_new(&lim);
	batch_of(&p, 100, 100);
	m.num_in_batch = 100;
	m.uncompressed_size = (uint32_t)p.len;
	for (codec = 1; codec <= 4; codec++)
	for (marker = 1; marker >= (codec == PW_COMP_ZLIB ? 0 : 1); marker--) {
		memset(s, 0, sizeof(*s));
		buf_reset(&b);
		zn = compress_with(codec, &p, z, 1 << 20, marker);
		m.compression = codec;
		enc_message(&b, 1, 2, NULL, 0, 0, &m, z, zn, 0, 1);
		snprintf(what, sizeof(what), "%s batch of 100%s decodes",
		    names[codec], codec == PW_COMP_ZLIB ? (marker ?
		    " (with end marker)" : " (Java: no end marker)") : "");
		CHECK(process(d, &b, 0, s) == 0 && s->n == 100 &&
		    strncmp(s->payloads[99], "m099xxx", 7) == 0 &&
		    s->bytes == 100 * 100, what);

		/* Corrupt: declared one byte more than there is. */
		memset(s, 0, sizeof(*s));
		buf_reset(&b);
		m.uncompressed_size++;
		enc_message(&b, 1, 2, NULL, 0, 0, &m, z, zn, 0, 1);
		snprintf(what, sizeof(what),
		    "%s: a wrong uncompressed size is an error", names[codec]);
		CHECK(process(d, &b, 0, s) == PW_E_DECOMPRESS && s->n == 0,
		    what);
		m.uncompressed_size--;
	}

	/* A bomb: 50 MB of zeros in a few kB, refused by its declared size
	   before anything is inflated. */
	{
		struct buf zeros = BUF_INIT;

		buf_grow(&zeros, 50 << 20);
		memset(zeros.data, 0, 50 << 20);
		buf_setlen(&zeros, 50 << 20);
		zn = compress_with(PW_COMP_ZSTD, &zeros, z, 1 << 20, 1);
		memset(s, 0, sizeof(*s));
		buf_reset(&b);
		m.compression = PW_COMP_ZSTD;
		m.num_in_batch = -1;
		m.uncompressed_size = 50 << 20;
		enc_message(&b, 1, 3, NULL, 0, 0, &m, z, zn, 0, 1);
		CHECK(process(d, &b, 0, s) == PW_E_TOO_BIG && s->n == 0,
		    "a decompression bomb is refused by its declared size");
		/* Lying about the size does not help it. */
		memset(s, 0, sizeof(*s));
		buf_reset(&b);
		m.uncompressed_size = 1000;
		enc_message(&b, 1, 3, NULL, 0, 0, &m, z, zn, 0, 1);
		CHECK(process(d, &b, 0, s) == PW_E_DECOMPRESS && s->n == 0,
		    "a bomb that lies about its size is stopped at that size");
		buf_release(&zeros);
	}

	memset(s, 0, sizeof(*s));
	buf_reset(&b);
	m.compression = 9;
	enc_message(&b, 1, 4, NULL, 0, 0, &m, "abc", 3, 0, 1);
	CHECK(process(d, &b, 0, s) == PW_E_UNSUPPORTED,
	    "an unknown compression type is an error");

	free(z);
	free(s);
	buf_release(&b);
	buf_release(&p);
	pw_decoder_free(d);
}

static void
chunk(struct buf *b, const char *uuid, int id, int n, const char *data,
    int total, uint64_t entry)
{
	struct entry_meta m = { 0 };

	buf_reset(b);
	m.num_in_batch = -1;
	m.uuid = uuid;
	m.num_chunks = n;
	m.chunk_id = id;
	m.total_chunk_size = total;
	enc_message(b, 50, entry, NULL, 0, 0, &m, data, strlen(data), 0, 1);
}

static void
test_chunks(void)
{
	struct pw_limits lim = { 0 };
	struct pw_decoder *d = pw_decoder_new(NULL);
	struct buf b = BUF_INIT;
	struct seen *s = calloc(1, sizeof(*s));
	int ok;

	chunk(&b, "u1", 0, 3, "aaa", 9, 1);
	ok = process(d, &b, 0, s) == 0 && s->n == 0;
	chunk(&b, "u2", 0, 2, "XX", 4, 2);	/* interleaved */
	ok = ok && process(d, &b, 0, s) == 0 && s->n == 0;
	chunk(&b, "u1", 1, 3, "bbb", 9, 3);
	ok = ok && process(d, &b, 0, s) == 0 && s->n == 0;
	chunk(&b, "u1", 1, 3, "bbb", 9, 4);	/* duplicate */
	ok = ok && process(d, &b, 0, s) == 0 && s->n == 0 && s->ndrops == 1 &&
	    s->reasons[0] == PW_DROP_DUPLICATE_CHUNK &&
	    s->dropped[0].entry == 4;
	chunk(&b, "u2", 1, 2, "YY", 4, 5);
	ok = ok && process(d, &b, 0, s) == 0 && s->n == 1 &&
	    strcmp(s->payloads[0], "XXYY") == 0 && s->nchunks[0] == 2 &&
	    s->ids[0].entry == 5;
	chunk(&b, "u1", 2, 3, "ccc", 9, 6);
	ok = ok && process(d, &b, 0, s) == 0 && s->n == 2 &&
	    strcmp(s->payloads[1], "aaabbbccc") == 0 && s->nchunks[1] == 3 &&
	    s->ids[1].entry == 6;
	CHECK(ok, "interleaved chunks of two messages, one duplicate chunk");

	memset(s, 0, sizeof(*s));
	chunk(&b, "u3", 0, 3, "aaa", 9, 7);
	process(d, &b, 0, s);
	chunk(&b, "u3", 2, 3, "ccc", 9, 8);	/* 1 is missing */
	CHECK(process(d, &b, 0, s) == 0 && s->n == 0 && s->ndrops == 1 &&
	    s->reasons[0] == PW_DROP_MISSING_CHUNK && s->ndropped == 2 &&
	    s->dropped[0].entry == 7 && s->dropped[1].entry == 8,
	    "a missing chunk drops the message, naming every chunk's id");

	memset(s, 0, sizeof(*s));
	chunk(&b, "u4", 1, 3, "bbb", 9, 9);
	CHECK(process(d, &b, 0, s) == 0 && s->n == 0 && s->ndrops == 1 &&
	    s->reasons[0] == PW_DROP_MISSING_CHUNK,
	    "a chunk without its first chunk is dropped");

	memset(s, 0, sizeof(*s));
	chunk(&b, "u5", 0, 2, "aa", 4, 10);
	process(d, &b, 1000, s);
	{
		struct pw_sink sink = { see_msg, see_drop, s, NULL };

		pw_decoder_expire(d, 1000 + 59999, &sink);
		ok = s->ndrops == 0;
		pw_decoder_expire(d, 1000 + 60001, &sink);
	}
	CHECK(ok && s->ndrops == 1 && s->reasons[0] == PW_DROP_CHUNK_TIMEOUT &&
	    s->dropped[0].entry == 10, "an incomplete message times out");
	pw_decoder_free(d);

	lim.max_pending_chunked = 2;
	lim.max_pending_bytes = 10;
	d = pw_decoder_new(&lim);
	memset(s, 0, sizeof(*s));
	chunk(&b, "a", 0, 2, "aa", 4, 11);
	process(d, &b, 0, s);
	chunk(&b, "b", 0, 2, "bb", 4, 12);
	process(d, &b, 0, s);
	chunk(&b, "c", 0, 2, "cc", 4, 13);	/* the oldest must go */
	ok = process(d, &b, 0, s) == 0 && s->ndrops == 1 &&
	    s->reasons[0] == PW_DROP_CHUNK_OVERFLOW &&
	    s->dropped[0].entry == 11;
	chunk(&b, "d", 0, 2, "ddddddd", 14, 14);	/* over the bytes */
	ok = ok && process(d, &b, 0, s) == 0 && s->ndrops == 2 &&
	    s->reasons[1] == PW_DROP_CHUNK_OVERFLOW &&
	    s->dropped[1].entry == 14;
	chunk(&b, "c", 1, 2, "CC", 4, 15);
	ok = ok && process(d, &b, 0, s) == 0 && s->n == 1 &&
	    strcmp(s->payloads[0], "ccCC") == 0;
	CHECK(ok, "pending chunked messages are bounded in count and bytes");

	memset(s, 0, sizeof(*s));
	chunk(&b, "e", 0, 2, "eeeee", 4, 16);	/* more than announced */
	process(d, &b, 0, s);
	CHECK(s->n == 0 && s->ndrops == 1 &&
	    s->reasons[0] == PW_DROP_MISSING_CHUNK,
	    "chunks that overrun the announced size are dropped");
	pw_decoder_reset(d);
	pw_decoder_free(d);
	buf_release(&b);
	free(s);
}

/*
 * Random damage to valid frames (a batch, a compressed batch, chunks):
 * whatever comes out, the codec must not read out of bounds (the
 * sanitizer build watches) nor loop.
 */
static void
test_mutations(void)
{
	struct pw_decoder *d = pw_decoder_new(NULL);
	struct buf good[4], bad = BUF_INIT, p = BUF_INIT;
	struct entry_meta m = { 0 };
	struct seen *s = calloc(1, sizeof(*s));
	char z[8192];
	unsigned seed = 12345;
	int i, k, errors = 0, decoded = 0;

	for (i = 0; i < 4; i++)
		buf_init(&good[i], 0);
	batch_of(&p, 20, 30);
	m.num_in_batch = 20;
	m.nprops = 1;
	enc_message(&good[0], 1, 1, NULL, 0, 0, &m, p.data, p.len, 1, 1);
	m.compression = PW_COMP_LZ4;
	m.uncompressed_size = (uint32_t)p.len;
	enc_message(&good[1], 1, 2, NULL, 0, 0, &m, z,
	    compress_with(PW_COMP_LZ4, &p, z, sizeof(z), 1), 0, 0);
	m.compression = PW_COMP_ZLIB;
	enc_message(&good[2], 1, 3, NULL, 0, 0, &m, z,
	    compress_with(PW_COMP_ZLIB, &p, z, sizeof(z), 0), 0, 0);
	chunk(&good[3], "mut", 0, 2, "abcdef", 12, 4);
	for (i = 0; i < 20000; i++) {
		const struct buf *g = &good[i % 4];

		buf_reset(&bad);
		buf_add(&bad, g->data, g->len);
		for (k = 0; k < 1 + i % 4; k++) {
			seed = seed * 1103515245 + 12345;
			bad.data[(seed >> 8) % bad.len] ^= (char)(1 + (seed >> 20) % 255);
		}
		if (i % 7 == 0)	/* and some truncated */
			buf_setlen(&bad, (seed >> 4) % bad.len);
		s->n = 0;
		if (process(d, &bad, (uint64_t)i * 100, s) == 0)
			decoded++;
		else
			errors++;
	}
	CHECK(errors > 0 && decoded > 0 && errors + decoded == 20000,
	    "20000 damaged frames: refused or decoded, never out of bounds");
	for (i = 0; i < 4; i++)
		buf_release(&good[i]);
	buf_release(&bad);
	buf_release(&p);
	free(s);
	pw_decoder_free(d);
}

static int
count_msg(void *arg, const struct pw_msg *m)
{
	uint64_t *n = arg;

	*n += m->payload.len + (uint64_t)m->id.batch;
	return 0;
}

/* How fast: MESSAGE frames of 100 messages of 100 bytes, end to end. */
static void
bench(int codec)
{
	struct pw_decoder *d = pw_decoder_new(NULL);
	struct buf b = BUF_INIT, p = BUF_INIT;
	struct entry_meta m = { 0 };
	struct pw_frame f;
	struct pw_cmd c;
	const char *err;
	char *z = malloc(1 << 20);
	uint64_t sum = 0, msgs = 0;
	struct pw_sink sink = { count_msg, NULL, &sum, NULL };
	struct timespec t0, t1;
	double secs;
	int i, ok = 1;

	batch_of(&p, 100, 100);
	m.num_in_batch = 100;
	if (codec) {
		m.compression = codec;
		m.uncompressed_size = (uint32_t)p.len;
		enc_message(&b, 1, 2, NULL, 0, 0, &m, z,
		    compress_with(codec, &p, z, 1 << 20, 1), 0, 1);
	} else
		enc_message(&b, 1, 2, NULL, 0, 0, &m, p.data, p.len, 0, 1);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		for (i = 0; i < 1000; i++) {
			ok &= pw_frame_next(b.data, b.len, 0, &f, &err) == 1;
			ok &= pw_cmd_decode(&c, f.cmd, f.cmd_len, &err) == 0;
			ok &= pw_message_process(d, &c, f.rest, f.rest_len, 0,
			    &sink) == 0;
			msgs += 100;
		}
		clock_gettime(CLOCK_MONOTONIC, &t1);
		secs = (double)(t1.tv_sec - t0.tv_sec) +
		    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	} while (secs < 0.3);
	printf("# bench: %s batches of 100 x 100 bytes: %.2f M messages/s"
	    " (%.0f MB/s of payload)\n", codec == PW_COMP_LZ4 ? "LZ4" :
	    "uncompressed", (double)msgs / secs / 1e6,
	    (double)msgs * 100 / secs / 1e6);
	CHECK(ok && sum > 0, "bench batches decode");
	free(z);
	buf_release(&b);
	buf_release(&p);
	pw_decoder_free(d);
}

/* ------------------------------------------------------------------ */
/* --dump: the fixture test's decoder side (t5050-pulsar-wire.sh) */

static const char *dump_name;

/* Bytes as the fixture script writes them: printable ASCII but for
   '%', '=' and ';', the rest as %XX. */
static void
put_esc(const struct pw_bytes *b)
{
	size_t i;

	for (i = 0; i < b->len; i++) {
		unsigned char ch = (unsigned char)b->p[i];

		if (ch > ' ' && ch < 0x7f && ch != '%' && ch != '=' &&
		    ch != ';')
			putchar(ch);
		else
			printf("%%%02X", ch);
	}
}

static void
put_bytes(const char *what, const struct pw_bytes *b)
{
	printf(" %s=", what);
	put_esc(b);
}

static void
put_id(const char *what, const struct msgid *id)
{
	printf(" %s=%lld:%lld:%d:%d", what, (long long)id->ledger,
	    (long long)id->entry, (int)id->partition, (int)id->batch);
}

static int
dump_msg(void *arg, const struct pw_msg *m)
{
	struct pw_props it = m->props;
	struct pw_bytes k, v;
	int i;

	printf("%s msg", dump_name);
	put_id("id", &m->id);
	printf(" n=%d last=%d rc=%u pt=%llu et=%llu seq=%llu",
	    (int)m->batch_size, m->last_in_entry, m->redelivery_count,
	    (unsigned long long)m->publish_time,
	    (unsigned long long)m->event_time,
	    (unsigned long long)m->sequence_id);
	put_bytes("producer", &m->producer_name);
	if (m->has_key)
		put_bytes("key", &m->key);
	if (m->has_ordering_key)
		put_bytes("okey", &m->ordering_key);
	printf(" props=");
	while (pw_props_next(&it, &k, &v)) {
		put_esc(&k);
		putchar('=');
		put_esc(&v);
		putchar(';');
	}
	printf(" null=%d len=%zu crc=%08x", m->null_value, m->payload.len,
	    pw_crc32c(m->payload.p, m->payload.len));
	for (i = 0; i < m->num_chunks; i++)
		put_id("chunk", &m->chunk_ids[i]);
	putchar('\n');
	return 0;
}

static void
dump_drop(void *arg, const struct msgid *ids, size_t n,
    enum pw_drop_reason why, const char *text)
{
	size_t i;

	printf("%s drop reason=%d", dump_name, (int)why);
	for (i = 0; i < n; i++)
		put_id("id", &ids[i]);
	putchar('\n');
}

static void
dump_cmd(const struct pw_cmd *c)
{
	printf("%s cmd=%s req=%llu cons=%llu", dump_name, pw_cmd_name(c->type),
	    (unsigned long long)c->request_id,
	    (unsigned long long)c->consumer_id);
	if (c->has_error)
		printf(" error=%s", pw_server_error_name(c->error));
	if (c->message.len)
		put_bytes("text", &c->message);
	switch (c->type) {
	case PW_CONNECTED:
		put_bytes("version", &c->server_version);
		printf(" proto=%d max=%d", (int)c->protocol_version,
		    (int)c->max_message_size);
		break;
	case PW_AUTH_CHALLENGE:
		put_bytes("method", &c->auth_method_name);
		put_bytes("data", &c->auth_data);
		break;
	case PW_LOOKUP_RESPONSE:
		put_bytes("url", &c->broker_url);
		put_bytes("tls", &c->broker_url_tls);
		printf(" type=%d auth=%d proxy=%d", c->lookup_type,
		    c->authoritative, c->proxy_through_service_url);
		break;
	case PW_PARTITIONED_METADATA_RESPONSE:
		printf(" partitions=%u type=%d", c->partitions, c->lookup_type);
		break;
	case PW_MESSAGE:
		put_id("id", &c->msgid.id);
		printf(" rc=%u acksetwords=%d", c->redelivery_count,
		    c->ack_set_len);
		break;
	case PW_GET_LAST_MESSAGE_ID_RESPONSE:
		put_id("last", &c->msgid.id);
		if (c->has_mark_delete)
			put_id("markdelete", &c->mark_delete.id);
		break;
	case PW_ACTIVE_CONSUMER_CHANGE:
		printf(" active=%d", c->is_active);
		break;
	case PW_CLOSE_CONSUMER:
		break;
	}
	putchar('\n');
}

static int
hexval(int ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

static int
dump(const char *path)
{
	FILE *fp = fopen(path, "r");
	char *line = NULL, *hex;
	size_t cap = 0;
	struct buf in = BUF_INIT;
	struct pw_decoder *d = pw_decoder_new(NULL);
	struct pw_sink sink = { dump_msg, dump_drop, NULL, NULL };
	struct pw_frame f;
	struct pw_cmd c;
	const char *err;
	ssize_t n;
	size_t i;
	int rc;

	if (fp == NULL) {
		perror(path);
		return 1;
	}
	while ((n = getline(&line, &cap, fp)) > 0) {
		if (line[n - 1] == '\n')
			line[--n] = '\0';
		if ((hex = strchr(line, ' ')) == NULL)
			continue;
		*hex++ = '\0';
		dump_name = line;
		buf_reset(&in);
		for (i = 0; hexval(hex[i]) >= 0 && hexval(hex[i + 1]) >= 0;
		    i += 2)
			buf_addch(&in, hexval(hex[i]) << 4 | hexval(hex[i + 1]));
		/* A fixture line may hold several frames: take them all. */
		while (in.len > 0) {
			err = "?";
			rc = pw_frame_next(in.data, in.len, 0, &f, &err);
			if (rc <= 0) {
				printf("%s frame %s\n", dump_name,
				    rc == 0 ? "incomplete" : err);
				break;
			}
			if (pw_cmd_decode(&c, f.cmd, f.cmd_len, &err) < 0) {
				printf("%s bad command: %s\n", dump_name, err);
				break;
			}
			dump_cmd(&c);
			if (c.type == PW_MESSAGE) {
				rc = pw_message_process(d, &c, f.rest,
				    f.rest_len, 0, &sink);
				if (rc)
					printf("%s error=%d\n", dump_name, rc);
			}
			buf_consume(&in, f.frame_len);
		}
	}
	free(line);
	fclose(fp);
	buf_release(&in);
	pw_decoder_free(d);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Cumulative acks: the received stream */

/* "ledger:entry" of the cumulative point astream_take() gives, or "-". */
static const char *
take(struct astream *a)
{
	static char out[64];
	int64_t l, e;

	if (!astream_take(a, &l, &e))
		return "-";
	snprintf(out, sizeof(out), "%lld:%lld", (long long)l, (long long)e);
	return out;
}

/* ------------------------------------------------------------------ */
/* Message frame headers */

/* The header start as the frame writers make it. */
static void
head_by_writers(struct buf *b, const char *topic, size_t len, uint64_t seq,
    const struct msgid *id, uint64_t pt)
{
	frame_begin(b, 'M', len);
	frame_add_u64(b, "seq", seq);
	buf_add(b, " id=", 4);
	msgid_format(b, id);
	frame_add_str(b, "topic", topic);
	frame_add_u64(b, "pt", pt);
}

/*
 * One message of a run through both (every other one a whole frame); 0
 * when they differ (said once with both texts), 1 when they agree.
 */
static int
same_head(struct msghead *h, const char *topic, size_t len, uint64_t seq,
    const struct msgid *id, uint64_t pt)
{
	static char body[2048];
	struct buf got = BUF_INIT, want = BUF_INIT;
	int ok;

	if (body[0] == '\0')
		memset(body, 'b', sizeof(body));
	buf_add(&got, "x", 1);	/* appends: not at the start of the buffer */
	buf_add(&want, "x", 1);
	/* every other one the whole frame, as frame_finish() ends it */
	msghead_put(h, &got, len, seq, id, pt, seq % 2 && len <= sizeof(body) ?
	    body : NULL);
	head_by_writers(&want, topic, len, seq, id, pt);
	if (seq % 2 && len <= sizeof(body))
		frame_finish(&want, body, len);
	ok = got.len == want.len && strcmp(got.data, want.data) == 0;
	if (!ok)
		CHECK_STR(got.data, want.data, "msghead as the frame writers");
	buf_release(&got);
	buf_release(&want);
	return ok;
}

static void
test_msghead(void)
{
	static const uint64_t seqs[] = { 9, 99, 999, 99999999, 9999999999999ULL,
	    UINT64_MAX - 2 };
	static const char *topic = "persistent://t/n/a b%c-partition-3";
	struct msghead h;
	struct msgid id = { 100, 0, -1, 0 };
	uint64_t seq, pt = 1796173459292ULL;
	int ok = 1;
	size_t i, k;

	msghead_init(&h, topic);
	/* seq counted up across every carry, entries of 100 in a row */
	for (seq = 1; seq <= 12000 && ok; seq++) {
		id.entry = (int64_t)(seq / 100);
		id.batch = (int32_t)(seq % 100);
		ok = same_head(&h, topic, 100, seq, &id, pt + seq / 1000);
	}
	CHECK(ok, "msghead: 12000 messages in a row, as the frame writers");
	/* lines: not batched, the entry counted up, lengths of every width */
	id.batch = -1;
	for (seq = 12001; seq <= 14000 && ok; seq++) {
		id.entry = (int64_t)seq - 12001;
		ok = same_head(&h, topic, (size_t)(seq * 7919 % 1201), seq,
		    &id, pt);
	}
	CHECK(ok, "msghead: 2000 lines in a row, as the frame writers");
	/*
	 * seq and the batch index in a run across a carry of every width
	 * (the last run wraps round to 0), then a jump back
	 */
	for (i = 0; i < sizeof(seqs) / sizeof(seqs[0]) && ok; i++)
		for (k = 0; k < 5 && ok; k++) {
			id.batch = (int32_t)(seqs[i] < INT32_MAX ?
			    seqs[i] - 2 + k : 7 + k);
			ok = same_head(&h, topic, 7, seqs[i] - 2 + k, &id, pt);
		}
	ok = ok && same_head(&h, topic, 7, 5, &id, pt) &&
	    same_head(&h, topic, 7, 6, &id, pt);
	CHECK(ok, "msghead: seq and batch past 9s of every width, and back");
	/* every part changing alone, from one message to the next */
	{
		static const struct step {
			size_t		len;
			uint64_t	seq, pt;
			struct msgid	id;
		} steps[] = {
			{ 7, 1000, 50, { 8, 6, 2, 3 } },
			{ 7, 1001, 50, { 8, 6, 2, 4 } },
			{ 7, 1002, 51, { 8, 6, 2, 5 } },
			{ 8, 1003, 51, { 8, 6, 2, 6 } },
			{ 8, 1004, 51, { 9, 6, 2, 7 } },
			{ 8, 1005, 51, { 9, 7, 2, 8 } },
			{ 8, 1006, 51, { 9, 7, 3, 9 } },
			{ 8, 1007, 51, { 9, 7, 3, 11 } },
			{ 8, 1009, 51, { 9, 7, 3, 12 } },
			{ 8, 1010, 51, { 9, 7, 3, -1 } },
			{ 8, 1011, 51, { 9, 7, 3, 0 } },
			{ 8, UINT64_MAX, 51, { 9, 7, 3, 1 } },
			{ 8, 0, 51, { 9, 7, 3, 2 } },
			{ 8, 1, 51, { 9, 7, 3, INT32_MAX } },
			{ 8, 2, 51, { 9, 7, 3, INT32_MIN } },
			{ 8, 3, 51, { 9, 7, 3, -1 } },
			{ 8, 4, 51, { 9, 8, 3, -1 } },
			{ 8, 5, 51, { 9, 10, 3, -1 } },
			{ 8, 6, 51, { 9, -1, 3, -1 } },
			{ 8, 7, 51, { 9, 0, 3, -1 } },
			{ 8, 8, 51, { 9, 1, 3, 0 } },
			{ 8, 9, 51, { 9, 2, 3, -1 } },
			{ 8, 10, 51, { 9, 3, 4, -1 } },
			{ 8, 11, 51, { 10, 4, 4, -1 } },
			{ 8, 12, 52, { 10, 5, 4, -1 } },
			{ 0, 13, 0, { -1, -1, -1, -1 } },
			{ SIZE_MAX, 14, UINT64_MAX, { INT64_MAX, INT64_MAX,
			    INT32_MAX, INT32_MAX } },
			{ 1, 15, 1, { INT64_MIN, 5, INT32_MIN, 3 } },
			{ 1, 16, 1, { INT64_MAX, INT64_MAX, 0, -1 } },
		};
		const struct step *st;

		for (i = 0; i < sizeof(steps) / sizeof(steps[0]) && ok; i++) {
			st = &steps[i];
			ok = same_head(&h, topic, st->len, st->seq, &st->id,
			    st->pt);
		}
	}
	CHECK(ok, "msghead: each part changing alone, extreme values");
	msghead_release(&h);
}

static void
test_ackstream(void)
{
	struct astream a;
	int64_t i;

	astream_init(&a, 5000);
	astream_reset(&a, 1);
	for (i = 0; i < 3000; i++)	/* past one ring size, wrapping */
		astream_received(&a, 7, i);
	CHECK_STR(take(&a), "-", "nothing done: no cumulative point");
	astream_done(&a, 7, 1);
	astream_done(&a, 7, 2);
	CHECK_STR(take(&a), "-", "a gap (entry 0 not acked) stops the prefix");
	CHECK(!astream_covers(&a, 7, 0) && !astream_covers(&a, 7, 2),
	    "nothing covered before the gap closes");
	astream_done(&a, 7, 0);
	CHECK_STR(take(&a), "7:2", "the gap closed: cumulative to the last "
	    "done entry");
	CHECK_STR(take(&a), "-", "the same point is not given twice");
	CHECK(astream_covers(&a, 7, 2) && !astream_covers(&a, 7, 3),
	    "covers up to the point only");
	for (i = 3; i < 3000; i++)
		if (i != 2500)
			astream_done(&a, 7, i);
	CHECK_STR(take(&a), "7:2499", "a long run, the ring grown");

	astream_received(&a, 7, 100);		/* below the point: ignored */
	astream_received(&a, 8, 0);
	astream_received(&a, 8, 5);
	astream_received(&a, 7, 2600);		/* again: merged, stays done */
	astream_received(&a, 8, 3);		/* out of order: inserted */
	astream_done(&a, 7, 2500);
	astream_done(&a, 8, 0);
	astream_done(&a, 8, 5);
	CHECK_STR(take(&a), "8:0", "an entry that came out of order stops "
	    "the prefix; one below the point is ignored");
	astream_done(&a, 8, 3);
	CHECK_STR(take(&a), "8:5", "then it is done too");

	for (i = 0; i < 9000; i++) {	/* the ring's head wraps around */
		astream_received(&a, 11, 2 * i);
		astream_done(&a, 11, 2 * i);
		(void)take(&a);
	}
	astream_received(&a, 11, 18000);
	astream_received(&a, 11, 18004);
	astream_received(&a, 11, 18002);
	astream_done(&a, 11, 18000);
	astream_done(&a, 11, 18004);
	CHECK_STR(take(&a), "11:18000", "inserted out of order across the "
	    "ring's end");
	astream_done(&a, 11, 18002);
	CHECK_STR(take(&a), "11:18004", "then the rest");

	astream_reset(&a, 1);
	astream_received(&a, 9, 1);
	astream_done(&a, 9, 0);			/* never received: no effect */
	CHECK_STR(take(&a), "-", "a new session starts empty");
	CHECK(!astream_covers(&a, 8, 0), "and covers nothing");

	astream_reset(&a, 0);
	astream_received(&a, 9, 1);
	astream_done(&a, 9, 1);
	CHECK_STR(take(&a), "-", "off (Shared, Key_Shared): never cumulative");

	astream_reset(&a, 1);
	for (i = 0; i <= 5000; i++)
		astream_received(&a, 10, i);
	astream_done(&a, 10, 0);
	CHECK(!a.on && a.n == 0 && strcmp(take(&a), "-") == 0,
	    "past max entries waiting: cumulative acks off for the session");
	astream_free(&a);
}

int
main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "--dump") == 0)
		return dump(argv[2]);
	test_crc();
	test_client_commands();
	test_broker_commands();
	test_unknown();
	test_framing();
	test_messages();
	test_compression();
	test_chunks();
	test_mutations();
	test_ackstream();
	test_msghead();
	bench(0);
	bench(PW_COMP_LZ4);
	return unit_done();
}
