/* unit: consume/lakerec.c transform/record.c transform/json_valid.c transform/json_get.c transform/json_write.c */
/*
 * Unit tests of consume --lake's record reader (consume/lakerec.c): a
 * message frame through transform's record writer and back gives the same
 * frame (seq aside), for every payload encoding and the header text that
 * needs escaping; records written by hand in other member orders and with
 * whitespace are read; malformed records are refused with a reason.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "frame.h"
#include "../../consume/lakerec.h"
#include "../../transform/record.h"
#include "unit.h"

#define S(lit)	(lit), sizeof(lit) - 1

static size_t got_len;		/* of frame_of()'s last answer */

/* The frame of a record (line without its newline), or "error: why". */
static const char *
frame_of(const char *line, size_t n)
{
	static struct buf out = BUF_INIT;
	struct lakerec r;
	const char *why;

	buf_reset(&out);
	lakerec_init(&r);
	if (lakerec_parse(&r, line, n, &why) < 0) {
		buf_addstr(&out, "error: ");
		buf_addstr(&out, why);
	} else
		lakerec_frame(&out, &r, 1);
	got_len = out.len;
	lakerec_release(&r);
	return out.data;
}

/*
 * hdr and body through record_add() and back: the frame written again,
 * with seq=1 (hdr's fields must be in the order lakerec_frame writes).
 */
static int
round_trip(const char *hdr, const char *body, size_t len, const char *what)
{
	struct buf rec = BUF_INIT, scratch = BUF_INIT, want = BUF_INIT;
	struct frame f;
	struct msg m;
	const char *why = NULL, *got;
	int ok;

	frame_init(&f);
	if (frame_parse_header(&f, hdr, strlen(hdr), 1 << 20, &why) < 0 ||
	    msg_parse(&m, &f, &why) < 0) {
		frame_release(&f);
		return CHECK(0, what);
	}
	m.body = body;
	m.len = len;
	record_add(&rec, FMT_JSONL, &m, &scratch);
	got = frame_of(rec.data, rec.len - 1);
	buf_add(&want, hdr, strlen(hdr));
	buf_addch(&want, '\n');
	buf_add(&want, body, len);
	buf_addch(&want, '\n');
	ok = CHECK(got_len == want.len && memcmp(got, want.data, got_len) == 0,
	    what);
	if (!ok)
		printf("#   record: %s#   got:  %s\n", rec.data, got);
	frame_release(&f);
	buf_release(&rec);
	buf_release(&scratch);
	buf_release(&want);
	return ok;
}

static void
test_round_trips(void)
{
	static const char bin[] = { 'a', 0, 'b', (char)0xff, (char)0xfe };

	round_trip("M 13 seq=1 id=7:0:-1:-1 topic=persistent://public/default/t "
	    "pt=1764201600000 p.src=app%201", S("{\"amount\":12}"),
	    "json payload, a property");
	round_trip("M 8 seq=1 id=1:2:3:4 topic=persistent://a/b/c-partition-3 "
	    "pt=5 et=6 key=k\"%0A%25%3D rc=3 p.a%20b=%25 p.c=d",
	    S("a\"b\n\t\\\xc3\xa9"), "string payload, every optional field");
	round_trip("M 0 seq=1 id=1:2:-1:-1 topic=t pt=5 null=1", S(""),
	    "null payload");
	round_trip("M 0 seq=1 id=1:3:-1:-1 topic=t pt=5", S(""),
	    "empty payload");
	round_trip("M 5 seq=1 id=1:4:-1:-1 topic=t pt=5 key=", bin,
	    sizeof(bin), "binary payload (base64), empty key");
	round_trip("M 1 seq=1 id=1:4:-1:-1 topic=t pt=5", S("\x01"),
	    "a control byte: \\u0001");
	round_trip("M 4 seq=1 id=1:5:-1:-1 topic=t pt=5 p.%E2%82%AC=\xe2\x82\xac "
	    "p.empty=", S("\xf0\x9f\x98\x80"),
	    "4-byte UTF-8, a property name that needs encoding");
	round_trip("M 8 seq=1 id=1:6:-1:-1 topic=t pt=5", S("{\"a\":[]}"),
	    "json payload with brackets");
	round_trip("M 8 seq=1 id=1:6:-1:-1 topic=t pt=5", S("{\"a\": 1}"),
	    "json payload with a space inside");
}

static void
test_hand_written(void)
{
	CHECK_STR(frame_of(S("{ \"payload_size\" : 2, \"topic\" : \"t\", "
	    "\"x\":{\"y\":[1,true,null,\"}\"]}, \"message_id\":\"1:2:-1:-1\","
	    "\"publish_time_ms\":7,\"payload_encoding\":\"string\","
	    "\"payload\":\"\\ud83d\\ude00\\u00e9\" }")),
	    "error: payload: not payload_size bytes",
	    "members in any order; the size is checked");
	CHECK_STR(frame_of(S("{\"payload_size\":6,\"topic\":\"t\","
	    "\"x\":{\"y\":[1,true,null,\"}\"]},\"message_id\":\"1:2:-1:-1\","
	    "\"publish_time_ms\":7,\"payload_encoding\":\"string\","
	    "\"payload\":\"\\ud83d\\ude00\\u00e9\" }")),
	    "M 6 seq=1 id=1:2:-1:-1 topic=t pt=7\n\xf0\x9f\x98\x80\xc3\xa9\n",
	    "unknown members skipped, surrogate pairs, whitespace");
	CHECK_STR(frame_of(S("{\"message_id\":\"1:2:-1:-1\",\"topic\":\"t\","
	    "\"publish_time_ms\":7,\"payload_encoding\":\"base64\","
	    "\"payload_size\":1,\"payload\":\"/w==\"}")),
	    "M 1 seq=1 id=1:2:-1:-1 topic=t pt=7\n\xff\n", "base64, padding");
}

static void
test_malformed(void)
{
	static const struct {
		const char *rec, *why;
	} bad[] = {
		{ "", "not a JSON object" },
		{ "[]", "not a JSON object" },
		{ "{\"message_id\":\"1:2\",\"topic\":\"t\"}",
		    "message_id: not ledger:entry:partition:batch" },
		{ "{\"message_id\":\"1:2:3:4\",\"topic\":\"t\"}",
		    "no publish_time_ms" },
		{ "{\"message_id\":\"1:2:3:4\",\"publish_time_ms\":1}",
		    "no topic" },
		{ "{\"message_id\":\"1:2:3:4\",\"topic\":\"t\","
		    "\"publish_time_ms\":1}", "no payload" },
		{ "{\"message_id\":\"1:2:3:4\",\"topic\":\"t\","
		    "\"publish_time_ms\":-1}", "an unsigned integer expected" },
		{ "{\"message_id\":\"1:2:3:4\",\"topic\":\"t\","
		    "\"publish_time_ms\":1,\"payload_encoding\":\"json\","
		    "\"payload_size\":3,\"payload\":{}}",
		    "payload: not the payload_size bytes before the final '}'" },
		{ "{\"message_id\":\"1:2:3:4\",\"topic\":\"t\","
		    "\"publish_time_ms\":1,\"payload_encoding\":\"base64\","
		    "\"payload_size\":1,\"payload\":\"/w=\"}",
		    "payload: bad base64" },
		{ "{\"message_id\":\"1:2:3:4\",\"topic\":\"t\","
		    "\"publish_time_ms\":1,\"payload_encoding\":\"gzip\"}",
		    "unknown payload_encoding" },
		{ "{\"message_id\":\"1:2:3:4\",\"topic\":\"t\","
		    "\"publish_time_ms\":1,\"payload_encoding\":\"null\","
		    "\"payload\":null} x", "bytes after the record" },
		{ "{\"message_id\":\"1:2:3:4\",\"topic\":\"t\\ud800\"}",
		    "lone surrogate in a string" },
		{ "{\"message_id\":\"1:2:3:4\",\"topic\":\"t\\q\"}",
		    "bad escape in a string" },
		{ "{\"message_id\":\"1:2:3:4\",\"topic\":\"t", "unterminated "
		    "string" },
		{ "{\"message_id\":\"1:2:3:4\",\"key\":7}",
		    "key: a string or null expected" },
		{ "{\"message_id\":\"1:2:3:4\",\"properties\":{\"a\":1}}",
		    "properties: string values expected" },
		{ "{\"message_id\":\"1:2:3:4\",\"publish_time_ms\":"
		    "99999999999999999999}", "integer out of range" },
	};
	char what[128], want[128];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(what, sizeof(what), "malformed: %s", bad[i].why);
		snprintf(want, sizeof(want), "error: %s", bad[i].why);
		CHECK_STR(frame_of(bad[i].rec, strlen(bad[i].rec)), want, what);
	}
}

int
main(void)
{
	test_round_trips();
	test_hand_written();
	test_malformed();
	return unit_done();
}
