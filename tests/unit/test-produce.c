/* unit: consume/pulsar_proto.c consume/pulsar_msg.c consume/pulsar_chunk.c consume/produce.c consume/conn.c consume/lookup.c consume/net.c consume/weblookup.c consume/topic.c consume/pump.c consume/window.c consume/stop.c consume/retry.c consume/input.c */
/*
 * The producer's side of the Pulsar wire codec (consume/pulsar_wire.h):
 * PRODUCER, SEND, CLOSE_PRODUCER out; PRODUCER_SUCCESS, SEND_RECEIPT,
 * SEND_ERROR in; and the partition of a key (consume/produce.h).
 *
 *	test-produce		the unit tests
 *	test-produce --emit	print "NAME HEX" lines of frames made by the
 *				encoders, for t5300-consume-produce.sh to
 *				decode with pulsar-flex's generated codec
 *				(the independent check of field numbers)
 *
 * Fixed vectors are written out by hand from PulsarApi.proto's field
 * numbers; the checksum of the SEND vector was computed with a bitwise
 * CRC32C apart from the codec's.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "unit.h"
#include "../../consume/produce.h"
#include "../../consume/pulsar_pb.h"
#include "../../consume/pulsar_wire.h"

static int
one_frame(const struct buf *b, struct pw_cmd *c, struct pw_frame *f)
{
	const char *err;

	if (pw_frame_next(b->data, b->len, 0, f, &err) != 1 ||
	    f->frame_len != b->len)
		return -1;
	return pw_cmd_decode(c, f->cmd, f->cmd_len, &err);
}

/* What pw_message_process() made of a SEND's payload section. */
struct got {
	int		 n;
	struct pw_msg	 m;
	char		 payload[512];
	char		 props[512];
};

static int
got_msg(void *arg, const struct pw_msg *m)
{
	struct got *g = arg;
	struct pw_props it = m->props;
	struct pw_bytes k, v;
	struct buf b = BUF_INIT;

	g->n++;
	g->m = *m;
	snprintf(g->payload, sizeof(g->payload), "%.*s", (int)m->payload.len,
	    m->payload.p ? m->payload.p : "");
	while (pw_props_next(&it, &k, &v))
		buf_addf(&b, "%.*s=%.*s;", (int)k.len, k.p, (int)v.len, v.p);
	snprintf(g->props, sizeof(g->props), "%s", b.len ? b.data : "");
	buf_release(&b);
	return 0;
}

/* Decode the SEND frame in b as a consumer would see its entry. */
static int
decode_send(const struct buf *b, struct pw_cmd *c, struct got *g)
{
	struct pw_decoder *dec = pw_decoder_new(NULL);
	struct pw_sink sink = { got_msg, NULL, g, NULL };
	struct pw_frame f;
	int rc;

	memset(g, 0, sizeof(*g));
	if (one_frame(b, c, &f) < 0) {
		pw_decoder_free(dec);
		return -100;
	}
	rc = pw_message_process(dec, c, f.rest, f.rest_len, 0, &sink);
	pw_decoder_free(dec);
	return rc;
}

static void
test_vectors(void)
{
	struct buf b = BUF_INIT;
	struct pw_producer p = { "t", 1, 2, NULL };
	struct pw_send s;

	pw_enc_producer(&b, &p);
	CHECK(b.len == 19 && memcmp(b.data, "\0\0\0\x0f\0\0\0\x0b"
	    "\x08\x05\x2a\x07\x0a\x01t\x10\x01\x18\x02", 19) == 0,
	    "PRODUCER topic t, producer 1, request 2: the known bytes");

	buf_reset(&b);
	pw_enc_close_producer(&b, 3, 4);
	CHECK(b.len == 16 && memcmp(b.data, "\0\0\0\x0c\0\0\0\x08"
	    "\x08\x0f\x7a\x04\x08\x03\x10\x04", 16) == 0,
	    "CLOSE_PRODUCER producer 3, request 4: the known bytes");

	memset(&s, 0, sizeof(s));
	s.producer_id = 1;
	s.producer_name = "p";
	s.publish_time = 1;
	s.payload = "x";
	s.len = 1;
	buf_reset(&b);
	pw_enc_send(&b, &s);
	CHECK(b.len == 34 && memcmp(b.data, "\0\0\0\x1e\0\0\0\x08"
	    "\x08\x06\x32\x04\x08\x01\x10\x00"
	    "\x0e\x01\x30\x8e\x62\x6a\0\0\0\x07"
	    "\x0a\x01p\x10\x00\x18\x01x", 34) == 0,
	    "SEND of \"x\": command, magic, CRC32C, metadata, payload");
	buf_release(&b);
}

static void
test_producer(void)
{
	struct buf b = BUF_INIT;
	struct pw_producer p = { "persistent://t/n/x-partition-3", 7,
	    1ULL << 40, "standalone-0-12" };
	struct pw_frame f;
	struct pw_cmd c;

	pw_enc_producer(&b, &p);
	CHECK(one_frame(&b, &c, &f) == 0 && c.type == PW_PRODUCER &&
	    c.topic.len == strlen(p.topic) && c.producer_id == 7 &&
	    c.request_id == 1ULL << 40 && c.producer_name.len == 15 &&
	    memcmp(c.producer_name.p, "standalone-0-12", 15) == 0,
	    "PRODUCER round trip: topic, ids, producer name");
	CHECK(memcmp(b.data + b.len - 2, "\x48\x00", 2) == 0,
	    "PRODUCER with a name says user_provided_producer_name=false");
	CHECK(strcmp(pw_cmd_name(PW_PRODUCER), "PRODUCER") == 0 &&
	    strcmp(pw_cmd_name(PW_SEND_RECEIPT), "SEND_RECEIPT") == 0 &&
	    strcmp(pw_cmd_name(PW_PRODUCER_SUCCESS), "PRODUCER_SUCCESS") == 0,
	    "producer command names");

	buf_reset(&b);
	pw_enc_close_producer(&b, 7, 9);
	CHECK(one_frame(&b, &c, &f) == 0 && c.type == PW_CLOSE_PRODUCER &&
	    c.producer_id == 7 && c.request_id == 9,
	    "CLOSE_PRODUCER round trip");
	buf_release(&b);
}

static void
test_send(void)
{
	struct buf b = BUF_INIT;
	char big[300], bin[4] = { 'a', '\0', 'b', '\n' };
	struct pw_kv props[2];
	struct pw_send s;
	struct pw_cmd c;
	struct got g;

	memset(big, 'v', sizeof(big));
	props[0].key = (struct pw_bytes){ "region", 6 };
	props[0].value = (struct pw_bytes){ "eu west", 7 };
	props[1].key = (struct pw_bytes){ "long", 4 };
	props[1].value = (struct pw_bytes){ big, sizeof(big) };
	memset(&s, 0, sizeof(s));
	s.producer_id = 5;
	s.sequence_id = 1ULL << 33;
	s.producer_name = "standalone-0-1";
	s.publish_time = 1700000000123;
	s.event_time = 1600000000456;
	s.has_key = 1;
	s.key = (struct pw_bytes){ "k 1", 3 };
	s.has_ordering_key = 1;
	s.ordering_key = (struct pw_bytes){ "ok", 2 };
	s.props = props;
	s.nprops = 2;
	s.payload = bin;
	s.len = sizeof(bin);
	pw_enc_send(&b, &s);
	CHECK(decode_send(&b, &c, &g) == 0 && c.type == PW_SEND &&
	    c.producer_id == 5 && c.sequence_id == 1ULL << 33 && g.n == 1,
	    "SEND round trip: one message, producer and sequence id");
	CHECK(g.m.sequence_id == 1ULL << 33 && g.m.publish_time ==
	    1700000000123 && g.m.event_time == 1600000000456 &&
	    g.m.producer_name.len == 14,
	    "SEND metadata: sequence id, publish time, event time, name");
	CHECK(g.m.has_key && g.m.key.len == 3 && memcmp(g.m.key.p, "k 1",
	    3) == 0 && g.m.has_ordering_key && g.m.ordering_key.len == 2,
	    "SEND metadata: partition key and ordering key");
	CHECK(g.m.props.count == 2 && strncmp(g.props,
	    "region=eu west;long=vvvv", 24) == 0 &&
	    strlen(g.props) == 15 + 6 + sizeof(big),
	    "SEND metadata: properties in order (a long one too)");
	CHECK(g.m.payload.len == 4 && memcmp(g.m.payload.p, bin, 4) == 0 &&
	    g.m.batch_size == 0 && !g.m.null_value,
	    "SEND payload byte for byte (NUL, newline), not a batch");

	b.data[b.len - 1] ^= 1;
	CHECK(decode_send(&b, &c, &g) == PW_E_CHECKSUM && g.n == 0,
	    "SEND: a changed payload byte fails the checksum");

	memset(&s, 0, sizeof(s));
	s.producer_name = "p";
	s.null_value = 1;
	buf_reset(&b);
	pw_enc_send(&b, &s);
	CHECK(decode_send(&b, &c, &g) == 0 && g.n == 1 && g.m.null_value &&
	    g.m.payload.len == 0 && !g.m.has_key && g.m.props.count == 0 &&
	    g.m.event_time == 0,
	    "SEND of a null value: no key, properties or event time");
	buf_release(&b);
}

static void
test_answers(void)
{
	struct buf b = BUF_INIT;
	struct msgid id = { 1100, 42, 3, -1 };
	struct pw_frame f;
	struct pw_cmd c;
	size_t at, sub;

	at = pw_frame_begin(&b, PW_PRODUCER_SUCCESS, &sub);
	pb_add_u64(&b, 1, 8);
	pb_add_str(&b, 2, "test-broker-0-1");
	pb_add_u64(&b, 3, (uint64_t)-1);	/* int64 -1: ten bytes */
	pb_add_u64(&b, 6, 1);
	pw_frame_end(&b, at, sub);
	CHECK(one_frame(&b, &c, &f) == 0 && c.type == PW_PRODUCER_SUCCESS &&
	    c.request_id == 8 && c.producer_name.len == 15 &&
	    c.last_sequence_id == -1,
	    "PRODUCER_SUCCESS: request id, name, last sequence id -1");

	buf_reset(&b);
	at = pw_frame_begin(&b, PW_PRODUCER_SUCCESS, &sub);
	pb_add_u64(&b, 1, 8);
	pb_add_str(&b, 2, "n");
	pb_add_u64(&b, 3, 41);
	pw_frame_end(&b, at, sub);
	CHECK(one_frame(&b, &c, &f) == 0 && c.last_sequence_id == 41,
	    "PRODUCER_SUCCESS: last sequence id 41");

	buf_reset(&b);
	at = pw_frame_begin(&b, PW_SEND_RECEIPT, &sub);
	pb_add_u64(&b, 1, 5);
	pb_add_u64(&b, 2, 77);
	pw_msgid_encode(&b, 3, &id, NULL, 0, 0);
	pb_add_u64(&b, 4, 77);
	pw_frame_end(&b, at, sub);
	CHECK(one_frame(&b, &c, &f) == 0 && c.type == PW_SEND_RECEIPT &&
	    c.producer_id == 5 && c.sequence_id == 77 &&
	    c.msgid.id.ledger == 1100 && c.msgid.id.entry == 42 &&
	    c.msgid.id.partition == 3 && c.msgid.id.batch == -1,
	    "SEND_RECEIPT: producer, sequence id, message id");

	buf_reset(&b);
	at = pw_frame_begin(&b, PW_SEND_RECEIPT, &sub);
	pb_add_u64(&b, 1, 5);
	pb_add_u64(&b, 2, 78);
	pw_frame_end(&b, at, sub);
	CHECK(one_frame(&b, &c, &f) == 0 && c.sequence_id == 78 &&
	    c.msgid.id.ledger == -1,
	    "SEND_RECEIPT without a message id (deduplicated)");

	buf_reset(&b);
	at = pw_frame_begin(&b, PW_SEND_ERROR, &sub);
	pb_add_u64(&b, 1, 5);
	pb_add_u64(&b, 2, 79);
	pb_add_u64(&b, 3, PW_ERR_CHECKSUM);
	pb_add_str(&b, 4, "Checksum failed on the broker");
	pw_frame_end(&b, at, sub);
	CHECK(one_frame(&b, &c, &f) == 0 && c.type == PW_SEND_ERROR &&
	    c.producer_id == 5 && c.sequence_id == 79 && c.has_error &&
	    c.error == PW_ERR_CHECKSUM && c.message.len == 29,
	    "SEND_ERROR: sequence id, ChecksumError, its text");
	buf_release(&b);
}

/*
 * Java's "KEY".hashCode() & 0x7fffffff, worked out by hand from the UTF-16
 * code units, modulo a prime to show the hash itself.
 */
static void
test_partition(void)
{
	/* "hello": 99162322 */
	CHECK(produce_partition("hello", 5, 1000003) == 99162322 % 1000003,
	    "partition of an ASCII key: Java's hashCode");
	CHECK(produce_partition("", 0, 7) == 0, "the empty key: partition 0");
	/* "k 1" = 103868, "k2" = 3367 (t5300 expects partitions 0, 3 of 4) */
	CHECK(produce_partition("k 1", 3, 4) == 0 &&
	    produce_partition("k2", 2, 4) == 3, "the keys of t5300");
	/* U+00E9 is one code unit: 233 */
	CHECK(produce_partition("\xc3\xa9", 2, 1000003) == 233,
	    "a two-byte UTF-8 character: its code point");
	/* U+1F600: surrogates D83D DE00: 55357 * 31 + 56832 = 1772899 */
	CHECK(produce_partition("\xf0\x9f\x98\x80", 4, 1000003) ==
	    1772899 % 1000003,
	    "a four-byte UTF-8 character: two UTF-16 code units");
	/* a stray continuation byte, then an overlong "/" (C0 AF): U+FFFD
	   for each of the three bytes, as Java's decoder reads them */
	CHECK(produce_partition("\x80\xc0\xaf", 3, 1000003) ==
	    (65533u * 31 * 31 + 65533u * 31 + 65533u) % 1000003,
	    "malformed UTF-8: U+FFFD for each bad byte");
	/* ED A0 80, a surrogate in UTF-8: three U+FFFD, as in Java; E2 82
	   cut short: one U+FFFD, then "x" */
	CHECK(produce_partition("\xed\xa0\x80", 3, 1000003) ==
	    (65533u * 31 * 31 + 65533u * 31 + 65533u) % 1000003 &&
	    produce_partition("\xe2\x82x", 3, 1000003) ==
	    (65533u * 31 + 'x') % 1000003,
	    "a surrogate and a cut sequence: U+FFFD per maximal part");
	/* "polygenelubricants".hashCode() is Integer.MIN_VALUE: the sign
	   bit goes, leaving 0 */
	CHECK(produce_partition("polygenelubricants", 18, 5) == 0,
	    "a hash of 2^31: the sign bit dropped");
}

/* Frames for the independent decoder, one "NAME HEX" line each. */
static void
emit(const char *name, const struct buf *b)
{
	size_t i;

	printf("%s ", name);
	for (i = 0; i < b->len; i++)
		printf("%02x", (unsigned char)b->data[i]);
	putchar('\n');
}

static int
emit_all(void)
{
	struct buf b = BUF_INIT;
	struct pw_producer p = { "persistent://t/n/x-partition-1", 3, 4,
	    NULL };
	struct pw_kv props[2] = {
		{ { "region", 6 }, { "eu", 2 } },
		{ { "n", 1 }, { "1", 1 } },
	};
	struct pw_send s;

	pw_enc_producer(&b, &p);
	emit("producer", &b);
	buf_reset(&b);
	p.producer_name = "named";
	pw_enc_producer(&b, &p);
	emit("producer-named", &b);
	memset(&s, 0, sizeof(s));
	s.producer_id = 3;
	s.sequence_id = 12345678901ULL;
	s.producer_name = "named";
	s.publish_time = 1700000000123;
	s.event_time = 1600000000456;
	s.has_key = 1;
	s.key = (struct pw_bytes){ "key-1", 5 };
	s.props = props;
	s.nprops = 2;
	s.payload = "hello";
	s.len = 5;
	buf_reset(&b);
	pw_enc_send(&b, &s);
	emit("send", &b);
	buf_reset(&b);
	pw_enc_close_producer(&b, 3, 5);
	emit("close-producer", &b);
	buf_release(&b);
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "--emit") == 0)
		return emit_all();
	test_vectors();
	test_producer();
	test_send();
	test_answers();
	test_partition();
	return unit_done();
}
