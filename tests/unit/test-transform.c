/* unit: transform/json_valid.c transform/json_get.c transform/json_write.c transform/key.c transform/record.c transform/topics.c transform/fields.c */
/*
 * Unit tests of transform's pieces: the JSON validator (the cases that
 * decide whether a payload is embedded verbatim), string escaping, UTF-8,
 * base64, ISO times, records, key templates (rendering and refusal), the
 * table of batches by topic (lookup, open order, which slot to take), the
 * JSON path extractor, RFC 3339 times, and --fields schemas and casts.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "frame.h"
#include "../../transform/fields.h"
#include "../../transform/json.h"
#include "../../transform/key.h"
#include "../../transform/record.h"
#include "../../transform/topics.h"
#include "unit.h"
#include "../../common/utctime.h"

#define S(lit)	(lit), sizeof(lit) - 1

/* A test title from bytes: controls shown as '?', so TAP stays one line. */
static const char *
title(const char *prefix, const char *s)
{
	static char t[160];
	size_t i, n;

	snprintf(t, sizeof(t), "%s%s", prefix, s);
	for (i = 0, n = strlen(t); i < n; i++)
		if ((unsigned char)t[i] < 0x20)
			t[i] = '?';
	return t;
}

static void
test_json_valid(void)
{
	static const char *yes[] = {
		"{}", "[]", "{\"a\":1}", "[1,2,3]", "[ 1 , 2 ]",
		"{\"a\":{\"b\":[true,false,null]}}",
		"[-0,0.5,1e10,-1.5E-3,2e+7]",
		"{\"\\u00e9\\n\\\"\\\\\\/\\b\\f\\r\\t\":\"x\"}",
		"[\"\\ud83d\\ude00\"]", "[\"h\xc3\xa9 \xf0\x9f\x98\x80\"]",
		"{\"a\" :\t1}", "[[[[[]]]]]", "[\"\x7f\"]", "[{},[],\"\"]",
	};
	static const char *no[] = {
		"", "{", "[", "}", "1", "\"str\"", "true", "null",
		" {}", "{} ", "{}\n", "[1]\r", "[1,\n2]", "{}{}", "[]x",
		"[1,]", "[,1]", "{\"a\"}", "{\"a\":}", "{a:1}", "{\"a\":1,}",
		"{'a':1}", "[01]", "[1.]", "[.5]", "[1e]", "[+1]", "[-]",
		"[tru]", "[nul]", "[True]", "[\"a\nb\"]", "[\"a\tb\"]",
		"[\"\\x\"]", "[\"\\u12\"]", "[\"\\ud800\"]", "[\"\\udc00\"]",
		"[\"\\ud800\\u0041\"]", "[\"abc]", "[\"\xc3\"]",
		"[\"\xc0\xaf\"]",
		"[\"\xed\xa0\x80\"]", "[\"\xf4\x90\x80\x80\"]", "[\"\xff\"]",
		"{\"a\":1]", "[1}", "[\"a\":1]", "{\"a\",1}", "[NaN]",
		"[Infinity]", "[1 2]", "{\"a\":1 \"b\":2}",
	};
	char deep[2 * (JSON_MAX_DEPTH + 1) + 1];
	size_t i;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		CHECK(json_is_container(yes[i], strlen(yes[i])),
		    title("json: valid ", yes[i]));
	}
	for (i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
		CHECK(!json_is_container(no[i], strlen(no[i])),
		    title("json: not embeddable: ", no[i]));
	}
	CHECK(!json_is_container(S("[\"a\0b\"]")), "json: NUL in a string");
	CHECK(!json_is_container(S("[1]\0")), "json: NUL after the value");
	memset(deep, '[', JSON_MAX_DEPTH);
	memset(deep + JSON_MAX_DEPTH, ']', JSON_MAX_DEPTH);
	CHECK(json_is_container(deep, 2 * JSON_MAX_DEPTH),
	    "json: nesting at the limit");
	memset(deep, '[', JSON_MAX_DEPTH + 1);
	memset(deep + JSON_MAX_DEPTH + 1, ']', JSON_MAX_DEPTH + 1);
	CHECK(!json_is_container(deep, 2 * (JSON_MAX_DEPTH + 1)),
	    "json: nesting beyond the limit");
	/* the validator must not read past n */
	CHECK(!json_is_container("[1]]", 2), "json: honours the length");
	CHECK(json_is_container("[1]]", 3), "json: stops at the length");
}

/*
 * A NUL, a bad byte and a good sequence at every place of 100 ASCII
 * bytes: the 32-byte steps, the words and the byte loop all see them.
 */
static void
test_utf8_places(void)
{
	char t[100];
	size_t at, n;
	int bad = 0;

	for (n = 0; n <= sizeof(t); n++)
		for (at = 0; at < n; at++) {
			memset(t, 'a', sizeof(t));
			t[at] = '\0';
			bad |= utf8_valid_nonul(t, n);
			t[at] = (char)0xff;
			bad |= utf8_valid_nonul(t, n);
			t[at] = (char)0xc3;	/* cut, or before an 'a' */
			bad |= utf8_valid_nonul(t, n);
			if (at + 1 < n) {
				t[at + 1] = (char)0xa9;
				bad |= !utf8_valid_nonul(t, n);
			}
		}
	CHECK(!bad, "utf8: NUL, bad and good bytes at every place");
}

static void
test_utf8(void)
{
	CHECK(utf8_valid_nonul(S("plain ascii text, long enough")),
	    "utf8: ascii");
	CHECK(utf8_valid_nonul(S("h\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80")),
	    "utf8: 2, 3, 4 byte forms");
	CHECK(utf8_valid_nonul(S("")), "utf8: empty");
	CHECK(!utf8_valid_nonul(S("0123456789\0abc")), "utf8: NUL");
	CHECK(!utf8_valid_nonul(S(",&ZI*\x86,\xed\x12\x1c")),
	    "utf8: a bad byte in the high half of a word");
	CHECK(!utf8_valid_nonul(S("abcdefg\0")), "utf8: NUL last in a word");
	CHECK(!utf8_valid_nonul(S("\xc0\x80")), "utf8: overlong NUL");
	CHECK(!utf8_valid_nonul(S("\xe0\x80\xaf")), "utf8: overlong 3");
	CHECK(!utf8_valid_nonul(S("\xf0\x80\x80\xaf")), "utf8: overlong 4");
	CHECK(!utf8_valid_nonul(S("\xed\xbf\xbf")), "utf8: surrogate");
	CHECK(!utf8_valid_nonul(S("\xf4\x90\x80\x80")), "utf8: > U+10FFFF");
	CHECK(!utf8_valid_nonul(S("abc\xe2\x82")), "utf8: cut sequence");
	CHECK(!utf8_valid_nonul(S("\x80")), "utf8: lone continuation");
	CHECK(!utf8_valid_nonul(S("\xf5\x80\x80\x80")), "utf8: F5");
	CHECK(utf8_valid_nonul(S("\xf4\x8f\xbf\xbf")), "utf8: U+10FFFF");
	CHECK(utf8_valid_nonul(S("\xef\xbf\xbf")), "utf8: U+FFFF");
	test_utf8_places();
}

static void
test_escape(void)
{
	struct buf b = BUF_INIT;

	json_add_string(&b, S("a\"b\\c/d\b\f\n\r\t\x01\x1f\x7f"), 1);
	CHECK_STR(b.data, "\"a\\\"b\\\\c/d\\b\\f\\n\\r\\t\\u0001\\u001f\x7f\"",
	    "escape: quotes, backslash, controls");
	buf_reset(&b);
	CHECK(json_add_string(&b, S("h\xc3\xa9\xf0\x9f\x98\x80"), 1) == 0 &&
	    strcmp(b.data, "\"h\xc3\xa9\xf0\x9f\x98\x80\"") == 0,
	    "escape: UTF-8 kept as it is");
	buf_reset(&b);
	buf_addstr(&b, "keep");
	CHECK(json_add_string(&b, S("ok\xff"), 1) < 0 &&
	    strcmp(b.data, "keep") == 0, "escape: strict refuses bad UTF-8, "
	    "leaves the buffer");
	CHECK(json_add_string(&b, S("a\0b"), 1) < 0 && b.len == 4,
	    "escape: strict refuses NUL");
	buf_reset(&b);
	json_add_string(&b, S("a\xff\xc3z\0"), 0);
	CHECK_STR(b.data, "\"a\xef\xbf\xbd\xef\xbf\xbdz\\u0000\"",
	    "escape: lax makes U+FFFD and \\u0000");
	buf_reset(&b);
	json_add_string(&b, S(""), 1);
	CHECK_STR(b.data, "\"\"", "escape: empty string");
	buf_release(&b);
}

static void
test_base64(void)
{
	static const struct { const char *in, *out; } v[] = {
		{ "", "" }, { "f", "Zg==" }, { "fo", "Zm8=" },
		{ "foo", "Zm9v" },
		{ "foob", "Zm9vYg==" }, { "fooba", "Zm9vYmE=" },
		{ "foobar", "Zm9vYmFy" },
	};
	struct buf b = BUF_INIT;
	size_t i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		buf_reset(&b);
		base64_add(&b, v[i].in, strlen(v[i].in));
		CHECK_STR(b.data, v[i].out, "base64: RFC 4648 vector");
	}
	buf_reset(&b);
	base64_add(&b, S("\x00\xff\xfe\x80"));
	CHECK_STR(b.data, "AP/+gA==", "base64: binary");
	buf_release(&b);
}

static void
test_time(void)
{
	struct buf b = BUF_INIT;

	utc_add_iso(&b, 0);
	CHECK_STR(b.data, "1970-01-01T00:00:00.000Z", "time: epoch");
	buf_reset(&b);
	utc_add_iso(&b, 1764201600000ULL);
	CHECK_STR(b.data, "2025-11-27T00:00:00.000Z", "time: 2025-11-27");
	buf_reset(&b);
	utc_add_iso(&b, 951782400123ULL);
	CHECK_STR(b.data, "2000-02-29T00:00:00.123Z", "time: leap day 2000");
	buf_reset(&b);
	utc_add_iso(&b, 4107542399999ULL);
	CHECK_STR(b.data, "2100-02-28T23:59:59.999Z", "time: 2100 not leap");
	buf_reset(&b);
	utc_add_iso(&b, 253402300800000ULL);
	CHECK_STR(b.data, "10000-01-01T00:00:00.000Z", "time: year 10000");
	buf_release(&b);
}

static const char *
render(const char *tmpl, const char *topic, uint64_t pt, const char *ext)
{
	static struct buf b = BUF_INIT;
	struct key_tmpl t;
	struct key_vars v;
	char why[256];

	buf_reset(&b);
	if (key_tmpl_parse(&t, tmpl, why, sizeof(why)) < 0)
		return why[0] ? "(refused)" : "(refused, no reason)";
	memset(&v, 0, sizeof(v));
	v.topic = topic;
	v.topiclen = strlen(topic);
	v.ledger = 7;
	v.entry = 12;
	v.partition = 2;
	v.batch = -1;
	v.pt_ms = pt;
	v.ext = ext;
	if (key_render(&t, &v, &b) < 0)
		buf_addstr(&b, "(unsafe)");
	key_tmpl_free(&t);
	return b.data;
}

static void
test_keys(void)
{
	static const char *bad[] = {
		"", "/{first_id}", "{first_id}/", "a//{first_id}",
		"./{first_id}", "a/../{first_id}", "{topic}/{yyyy}",
		"{first_id}{nope}", "{first_id", "a b/{first_id}",
		"a%2F/{first_id}", "caf\xc3\xa9/{first_id}", "a\\{first_id}",
		"{first_id}/..", "{first_id}/.",
	};
	const char *topic = "persistent://tenant/ns/orders-partition-2";
	size_t i;
	char what[160];

	CHECK_STR(render(KEY_DEFAULT_TEMPLATE, topic, 1764201600000ULL,
	    "jsonl.gz"), "tenant/ns/orders/2025/11/27/00/"
	    "00000000000000000007.00000000000000000012.0000000000-2.jsonl.gz",
	    "key: default template, partition suffix dropped");
	CHECK_STR(render(KEY_V1_TEMPLATE, topic, 1764201600000ULL,
	    "jsonl.gz"), "tenant/ns/orders/2025/11/27/00/7-12-2--1.jsonl.gz",
	    "key: the v1 template, unpadded");
	CHECK_STR(render("{tenant}/{namespace}/{name}/p={partition}/"
	    "{date}T{hh}{mi}{ss}/{first_id}.{ext}", topic,
	    1764205445000ULL, "txt"),
	    "tenant/ns/orders/p=2/2025-11-27T010405/7-12-2--1.txt",
	    "key: every placeholder");
	CHECK_STR(render("{topic}/{first_id}", "my-topic", 0, "x"),
	    "public/default/my-topic/7-12-2--1", "key: bare topic name");
	CHECK_STR(render("{topic}/{first_id}",
	    "non-persistent://a b/n:s/t\xc3\xa9%x", 0, "x"),
	    "a_b/n_s/t___x/7-12-2--1", "key: topic sanitized");
	CHECK_STR(render("{topic}/{first_id}", "persistent://../x/.", 0, "x"),
	    "__/x/_/7-12-2--1", "key: dot segments sanitized");
	CHECK_STR(render("{topic}/{first_id}", "persistent://t//n/", 0, "x"),
	    "t/_/n/_/7-12-2--1", "key: empty segments sanitized");
	CHECK_STR(render("{namespace}/{first_id}", "persistent://p/c/ns/t", 0,
	    "x"), "c/ns/7-12-2--1", "key: legacy four-part namespace");
	CHECK_STR(render("{topic}/{first_id}", "persistent://t/n/x-partition-",
	    0, "x"), "t/n/x-partition-/7-12-2--1",
	    "key: -partition- without a number stays");
	CHECK_STR(render(".{first_id}.{ext}", "t", 0, "jsonl"),
	    ".7-12-2--1.jsonl", "key: dot inside a segment is fine");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(what, sizeof(what), "key: template refused: '%s'",
		    bad[i]);
		CHECK_STR(render(bad[i], topic, 0, "x"), "(refused)", what);
	}
	CHECK(key_is_safe(S("a/b.c/d=e_f-g")), "key_is_safe: ok");
	CHECK(!key_is_safe(S("a/./b")), "key_is_safe: dot segment");
	CHECK(!key_is_safe(S("a/b/")), "key_is_safe: trailing slash");
	CHECK(!key_is_safe(S("/a")), "key_is_safe: leading slash");
	CHECK(!key_is_safe(S("a b")), "key_is_safe: space");
	CHECK(!key_is_safe(S("")), "key_is_safe: empty");
}

/* Parse a header line into a frame and format it as a record. */
static const char *
record_of(const char *hdr, const char *body, size_t len, enum format fmt)
{
	static struct buf out = BUF_INIT;
	struct buf scratch = BUF_INIT;
	struct frame f;
	struct msg m;
	const char *why = NULL;

	buf_reset(&out);
	frame_init(&f);
	if (frame_parse_header(&f, hdr, strlen(hdr), 1 << 20, &why) < 0 ||
	    msg_parse(&m, &f, &why) < 0) {
		buf_addstr(&out, why);
	} else {
		m.body = body;
		m.len = len;
		record_add(&out, fmt, &m, &scratch);
	}
	frame_release(&f);
	buf_release(&scratch);
	return out.data;
}

static void
test_records(void)
{
	CHECK_STR(record_of("M 13 seq=1 id=7:0:-1:-1 topic=persistent://public/"
	    "default/t pt=1764201600000 p.src=app%201", S("{\"amount\":12}"),
	    FMT_JSONL),
	    "{\"message_id\":\"7:0:-1:-1\",\"topic\":\"persistent://public/"
	    "default/t\",\"partition\":-1,\"publish_time\":\"2025-11-27T00:00:"
	    "00.000Z\",\"publish_time_ms\":1764201600000,\"event_time\":null,"
	    "\"event_time_ms\":null,\"key\":null,\"properties\":{\"src\":\"app "
	    "1\"},\"redelivery_count\":0,\"payload_encoding\":\"json\","
	    "\"payload_size\":13,\"payload\":{\"amount\":12}}\n",
	    "record: the frames(5) example");
	CHECK_STR(record_of("M 4 seq=2 id=1:2:3:4 topic=t pt=5 et=6 "
	    "key=k%22%0A rc=3 p.a%20b=%25 p.c=d", S("a\"b\n"), FMT_JSONL),
	    "{\"message_id\":\"1:2:3:4\",\"topic\":\"t\",\"partition\":3,"
	    "\"publish_time\":\"1970-01-01T00:00:00.005Z\","
	    "\"publish_time_ms\":5,"
	    "\"event_time\":\"1970-01-01T00:00:00.006Z\",\"event_time_ms\":6,"
	    "\"key\":\"k\\\"\\n\",\"properties\":{\"a b\":\"%\",\"c\":\"d\"},"
	    "\"redelivery_count\":3,\"payload_encoding\":\"string\","
	    "\"payload_size\":4,\"payload\":\"a\\\"b\\n\"}\n",
	    "record: string payload, key, properties, rc, et");
	CHECK(strstr(record_of("M 3 seq=2 id=1:2:3:4 topic=t pt=5",
	    S("a\0b"), FMT_JSONL), "\"payload_encoding\":\"base64\","
	    "\"payload_size\":3,\"payload\":\"YQBi\"}\n") != NULL,
	    "record: base64 payload");
	CHECK(strstr(record_of("M 0 seq=2 id=1:2:3:4 topic=t pt=5 null=1",
	    "", 0, FMT_JSONL), "\"payload_encoding\":\"null\","
	    "\"payload_size\":0,\"payload\":null}\n") != NULL,
	    "record: null value");
	CHECK_STR(record_of("M 3 seq=2 id=1:2:3:4 topic=t pt=5", S("a\0b"),
	    FMT_RAW), "a\0b\n" /* compared up to the NUL */, "record: raw");
	CHECK_STR(record_of("M 3 id=1:2:3:4 topic=t pt=5", S("abc"),
	    FMT_JSONL), "message frame without a valid seq=",
	    "record: seq required");
	CHECK_STR(record_of("M 3 seq=1 id=1:2:3 topic=t pt=5", S("abc"),
	    FMT_JSONL), "message frame without a valid id=ledger:entry:"
	    "partition:batch", "record: id checked");
	CHECK_STR(record_of("M 3 seq=1 id=1:2:3:4 pt=5", S("abc"), FMT_JSONL),
	    "message frame without topic=", "record: topic required");
	CHECK_STR(record_of("M 3 seq=1 id=1:2:3:4 topic=t pt=x", S("abc"),
	    FMT_JSONL), "message frame without a valid pt= (publish time, ms)",
	    "record: pt checked");
}

/* Slots as struct batch holds them: the slot is what topics links. */
static int slots_freed;

static void
free_slot(struct slot *s)
{
	slots_freed++;
	free(s);
}

static struct slot *
new_slot(struct topics *t, const char *enc)
{
	struct slot *s = xmalloc(sizeof(*s));

	topics_add(t, s, enc, strlen(enc));
	return s;
}

#define FIND(t, enc)	topics_find((t), (enc), strlen(enc))

static void
test_topics(void)
{
	struct topics t;
	struct slot *a, *b, *c, *d;
	char name[64];
	size_t i, n, longest = 0;

	topics_init(&t, 3);
	CHECK(FIND(&t, "t-partition-0") == NULL, "topics: empty table");
	CHECK(topics_victim(&t) == NULL, "topics: room for a new slot");
	a = new_slot(&t, "persistent://tn/ns/x-partition-0");
	b = new_slot(&t, "persistent://tn/ns/x-partition-1");
	c = new_slot(&t, "persistent://tn/ns/x-partition-10");
	CHECK(FIND(&t, "persistent://tn/ns/x-partition-1") == b &&
	    FIND(&t, "persistent://tn/ns/x-partition-0") == a &&
	    FIND(&t, "persistent://tn/ns/x-partition-10") == c &&
	    FIND(&t, "persistent://tn/ns/x-partition-10") == c,
	    "topics: each partition its own slot");
	CHECK(FIND(&t, "persistent://tn/ns/x-partition-2") == NULL &&
	    FIND(&t, "persistent://tn/ns/x") == NULL &&
	    FIND(&t, "persistent://tn/ns/x-partition-") == NULL,
	    "topics: other names not found");
	CHECK(FIND(&t, "persistent://tn/ns/x-partition-%31") == b &&
	    FIND(&t, "persistent://tn/ns/x-partition-1") == b,
	    "topics: found by the decoded name, whatever the encoding");
	CHECK_STR(b->name.data, "persistent://tn/ns/x-partition-1",
	    "topics: name decoded");

	CHECK(topics_victim(&t) == a, "topics: full, none open: an idle one");
	topics_opened(&t, b, 5);
	topics_opened(&t, a, 7);
	topics_opened(&t, c, 9);
	CHECK(t.oldest == b && t.newest == c && b->next == a && a->next == c,
	    "topics: open order");
	CHECK(topics_victim(&t) == b, "topics: all open: the oldest");
	topics_closed(&t, a);
	CHECK(t.oldest == b && b->next == c && c->prev == b && !a->open,
	    "topics: closed in the middle");
	CHECK(topics_victim(&t) == a, "topics: an idle one before an open one");
	topics_opened(&t, a, 11);
	topics_closed(&t, b);
	CHECK(t.oldest == c && t.oldest->deadline == 9 && t.newest == a,
	    "topics: the oldest open is the first due");
	topics_reuse(&t, b, "persistent://tn/ns/y", 20);
	CHECK(FIND(&t, "persistent://tn/ns/y") == b &&
	    FIND(&t, "persistent://tn/ns/x-partition-1") == NULL &&
	    FIND(&t, "persistent://tn/ns/x-partition-0") == a,
	    "topics: a slot taken over answers to its new name only");
	topics_closed(&t, c);
	topics_closed(&t, a);
	CHECK(t.oldest == NULL && t.newest == NULL, "topics: none open");
	slots_freed = 0;
	topics_release(&t, free_slot);
	CHECK(slots_freed == 3, "topics: release hands back every slot");

	topics_init(&t, 64);
	for (i = 0; i < 64; i++) {
		snprintf(name, sizeof(name), "persistent://tn/ns/x-partition-%zu",
		    i);
		new_slot(&t, name);
	}
	for (i = 0; i < t.nbucket; i++) {
		for (n = 0, d = t.bucket[i]; d != NULL; d = d->hnext)
			n++;
		longest = n > longest ? n : longest;
	}
	CHECK(longest <= 3, "topics: partitions spread over the hash table");
	topics_release(&t, free_slot);

	topics_init(&t, 1);
	d = new_slot(&t, "t");
	CHECK(topics_victim(&t) == d && FIND(&t, "t") == d && FIND(&t, "") ==
	    NULL, "topics: --max-open 1");
	topics_reuse(&t, d, "", 0);
	CHECK(FIND(&t, "") == d && FIND(&t, "t") == NULL,
	    "topics: an empty name is a name");
	topics_release(&t, free_slot);
}

/* The text json_get finds at path in doc, or "MISSING". */
static const char *
get(const char *doc, const char *path)
{
	static char out[256];
	struct json_val v;

	if (!json_valid(doc, strlen(doc)))
		return "INVALID";
	if (!json_get(doc, strlen(doc), path, strlen(path), &v))
		return "MISSING";
	snprintf(out, sizeof(out), "%d:%.*s", (int)v.kind, (int)v.n, v.p);
	return out;
}

/* json_top_get agrees with json_get: first of duplicates, many members. */
static void
top_checks(void)
{
	struct json_top t;
	struct json_val a, b;
	struct buf doc = BUF_INIT;
	char key[16];
	int i, same = 1;

	buf_addstr(&doc, "{\"k\":1,\"o\":{\"k\":[5]},\"k\":2");
	for (i = 0; i < JSON_TOP_MAX + 36; i++)
		buf_addf(&doc, ",\"m%d\":%d", i, i);
	buf_addstr(&doc, "}");
	CHECK(json_valid(doc.data, doc.len), "json_top: a valid document");
	json_top_index(&t, doc.data, doc.len);
	CHECK(t.usable == 0, "json_top: past JSON_TOP_MAX members, not used");
	for (i = 0; i < JSON_TOP_MAX + 36; i += 7) {
		snprintf(key, sizeof(key), "m%d", i);
		(void)json_top_get(&t, key, strlen(key), &a);
		(void)json_get(doc.data, doc.len, key, strlen(key), &b);
		same &= a.kind == b.kind && a.n == b.n && a.p == b.p;
	}
	CHECK(same, "json_top: the same values past the limit");
	buf_setlen(&doc, 0);
	buf_addstr(&doc, " {\"k\":1, \"o\" : {\"k\":[5]},\"k\":2} ");
	json_top_index(&t, doc.data, doc.len);
	CHECK(t.usable && t.count == 3, "json_top: three members");
	CHECK(json_top_get(&t, "k", 1, &a) && a.n == 1 && a.p[0] == '1',
	    "json_top: the first of duplicate keys");
	CHECK(json_top_get(&t, "o.k.0", 5, &a) && a.p[0] == '5',
	    "json_top: a path below the top");
	CHECK(!json_top_get(&t, "x", 1, &a) && a.kind == JV_MISSING,
	    "json_top: missing");
	CHECK(json_valid_index(doc.data, doc.len, &t) && t.usable &&
	    t.count == 3 && json_top_get(&t, "o.k.0", 5, &a) && a.p[0] == '5' &&
	    json_top_get(&t, "k", 1, &a) && a.p[0] == '1',
	    "json_valid_index: the same index in the validating pass");
	CHECK(!json_valid_index(S("{\"a\":1,}"), &t),
	    "json_valid_index: still a validator");
	json_top_index(&t, "[{\"k\":3}]", 9);
	CHECK(json_top_get(&t, "0.k", 3, &a) && a.p[0] == '3',
	    "json_top: an array document");
	buf_release(&doc);
}

static void
test_jsonpath(void)
{
	static const char doc[] = " {\"a\" : {\"b\":[10, {\"c\":\"x,y\"}, "
	    "true]}, \"d\\u0065\":null,\r\n\"n\":-1.5e3, \"s\":\"q\\\"}\"} ";
	struct buf b = BUF_INIT;

	CHECK(json_valid(S(" {\"a\":\n1}\r\n")), "json_valid: whitespace");
	CHECK(!json_valid(S("{\"a\":1} x")), "json_valid: trailing text");
	CHECK(!json_valid(S("42")), "json_valid: a scalar");
	CHECK_STR(get(doc, "a.b.0"), "4:10", "json_get: array element");
	CHECK_STR(get(doc, "a.b.1.c"), "5:\"x,y\"", "json_get: nested");
	CHECK_STR(get(doc, "a.b.2"), "3:true", "json_get: last element");
	CHECK_STR(get(doc, "a.b.3"), "MISSING", "json_get: past the end");
	CHECK_STR(get(doc, "a.b.01"), "MISSING", "json_get: leading zero");
	CHECK_STR(get(doc, "de"), "1:null", "json_get: escaped key");
	CHECK_STR(get(doc, "n"), "4:-1.5e3", "json_get: number");
	CHECK_STR(get(doc, "s"), "5:\"q\\\"}\"", "json_get: string, quote");
	CHECK_STR(get(doc, "a"), "6:{\"b\":[10, {\"c\":\"x,y\"}, true]}",
	    "json_get: object");
	CHECK_STR(get(doc, "a.x"), "MISSING", "json_get: no member");
	CHECK_STR(get(doc, "n.x"), "MISSING", "json_get: into a scalar");
	top_checks();
	CHECK(json_decode_string(&b, S("\"a\\n\\u00e9\\ud83d\\ude00\\/\"")) ==
	    0, "json_decode_string: ok");
	buf_addch(&b, '\0');
	CHECK_STR(b.data, "a\n\xc3\xa9\xf0\x9f\x98\x80/",
	    "json_decode_string: escapes, a pair");
	buf_reset(&b);
	json_add_compact(&b, S("{ \"a b\" : [ 1 ,\n2 ] }"));
	buf_addch(&b, '\0');
	CHECK_STR(b.data, "{\"a b\":[1,2]}", "json_add_compact");
	buf_release(&b);
}

static void
test_rfc3339(void)
{
	int64_t ms;

	CHECK(rfc3339_ms(S("1970-01-01T00:00:00Z"), &ms) == 0 && ms == 0,
	    "rfc3339: the epoch");
	CHECK(rfc3339_ms(S("2025-11-27T00:00:00.001Z"), &ms) == 0 &&
	    ms == 1764201600001LL, "rfc3339: ms");
	CHECK(rfc3339_ms(S("2025-11-27T01:30:00.5+01:30"), &ms) == 0 &&
	    ms == 1764201600500LL, "rfc3339: offset, one digit");
	CHECK(rfc3339_ms(S("2025-11-26 19:00:00.123456-05:00"), &ms) == 0 &&
	    ms == 1764201600123LL, "rfc3339: space, micros cut, west");
	CHECK(rfc3339_ms(S("2024-02-29T00:00:00z"), &ms) == 0,
	    "rfc3339: a leap day");
	CHECK(rfc3339_ms(S("2025-02-29T00:00:00Z"), &ms) < 0,
	    "rfc3339: no leap day");
	CHECK(rfc3339_ms(S("2025-11-27T24:00:00Z"), &ms) < 0, "rfc3339: 24h");
	CHECK(rfc3339_ms(S("2025-11-27T00:00:00"), &ms) < 0,
	    "rfc3339: no offset");
	CHECK(rfc3339_ms(S("2025-11-27T00:00:00.Z"), &ms) < 0,
	    "rfc3339: empty fraction");
	CHECK(rfc3339_ms(S("2025-11-27"), &ms) < 0, "rfc3339: a date only");
}

/* One field cast of payload: the jsonl value, "REJECT: why" or "PARSE". */
static const char *
cast_of(const char *spec, const char *payload)
{
	static struct buf out = BUF_INIT;
	struct schema sc;
	struct row r;
	struct frame f;
	struct msg m;
	char why[256];
	const char *w = NULL, *hdr = "M 1 seq=1 id=1:2:3:4 topic=t pt=5";
	const struct value *v;

	buf_reset(&out);
	if (schema_parse(&sc, "none", spec, ".", 0, why, sizeof(why)) < 0)
		return "PARSE";
	frame_init(&f);
	if (frame_parse_header(&f, hdr, strlen(hdr), 1 << 20, &w) < 0 ||
	    msg_parse(&m, &f, &w) < 0)
		return "FRAME";
	m.body = payload;
	m.len = strlen(payload);
	row_init(&r, &sc);
	if (row_make(&r, &sc, &m, &out) < 0) {
		buf_reset(&out);
		buf_addf(&out, "REJECT: %s", r.why);
	} else {
		buf_reset(&out);
		v = &r.v[0];
		if (v->kind == VAL_NULL)
			buf_addstr(&out, "null");
		else if (value_add_scalar(&out, &r, v) < 0)
			buf_add(&out, ROW_TEXT(&r, v), v->len);
	}
	buf_addch(&out, '\0');
	row_free(&r);
	schema_free(&sc);
	frame_release(&f);
	return out.data;
}

static void
test_fields(void)
{
	struct schema sc;
	char why[256];

	CHECK(schema_parse(&sc, NULL, "a.b=x:int64,c", "_", 1, why,
	    sizeof(why)) == 0 && sc.n == 10 &&
	    strcmp(sc.col[8].name, "x") == 0 &&
	    strcmp(sc.col[9].name, "c") == 0 && sc.col[8].type == COL_INT64,
	    "schema: the metadata, then the fields");
	schema_free(&sc);
	CHECK(schema_parse(&sc, "none", "a.b.c", "_", 1, why,
	    sizeof(why)) == 0 && sc.n == 1 &&
	    strcmp(sc.col[0].name, "a_b_c") == 0, "schema: --name-separator");
	schema_free(&sc);
	CHECK(schema_parse(&sc, "key=k", NULL, ".", 1, why,
	    sizeof(why)) == 0 && sc.n == 3 &&
	    strcmp(sc.col[0].name, "k") == 0 &&
	    strcmp(sc.col[2].name, "payload") == 0,
	    "schema: --meta renames; the payload without --fields");
	schema_free(&sc);
	CHECK_STR(cast_of("a:int64", "{\"a\":-9223372036854775808}"),
	    "-9223372036854775808", "cast: int64 min");
	CHECK(strncmp(cast_of("a:int64", "{\"a\":9223372036854775808}"),
	    "REJECT: field a:", 16) == 0, "cast: int64 overflow");
	CHECK_STR(cast_of("a:int64", "{\"a\":\"17\"}"), "17",
	    "cast: int64 from a string");
	CHECK(strncmp(cast_of("a:int64", "{\"a\":1e2}"), "REJECT", 6) == 0,
	    "cast: int64 not from an exponent");
	CHECK_STR(cast_of("a:double", "{\"a\":7}"), "7.0",
	    "cast: an integral double gets .0");
	CHECK_STR(cast_of("a:double", "{\"a\":\"-2.5E-3\"}"), "-2.5E-3",
	    "cast: double from a string, as written");
	CHECK(strncmp(cast_of("a:double", "{\"a\":1e999}"), "REJECT", 6) == 0,
	    "cast: an infinite double");
	CHECK(strncmp(cast_of("a:double", "{\"a\":\"nan\"}"), "REJECT", 6) == 0,
	    "cast: nan is not a number");
	CHECK_STR(cast_of("a:boolean", "{\"a\":\"false\"}"), "false",
	    "cast: boolean from a string");
	CHECK(strncmp(cast_of("a:boolean", "{\"a\":0}"), "REJECT", 6) == 0,
	    "cast: 0 is not a boolean");
	CHECK_STR(cast_of("a:timestamp", "{\"a\":1764201600001}"),
	    "2025-11-27T00:00:00.001Z", "cast: timestamp from ms");
	CHECK_STR(cast_of("a:timestamp", "{\"a\":\"2025-11-27T01:00:00+01:00\"}"),
	    "2025-11-27T00:00:00.000Z", "cast: timestamp from RFC 3339");
	CHECK(strncmp(cast_of("a:timestamp", "{\"a\":1.5}"), "REJECT", 6) == 0,
	    "cast: a fraction of a ms");
	CHECK_STR(cast_of("a:string", "{\"a\":{ \"b\" : 1 }}"), "{\"b\":1}",
	    "cast: string of an object, compact");
	CHECK_STR(cast_of("a:string", "{\"a\":\"\\u00e9\"}"), "\xc3\xa9",
	    "cast: string decoded");
	CHECK_STR(cast_of("a", "{\"a\":[1, 2]}"), "[1,2]", "cast: untyped");
	CHECK_STR(cast_of("a:int64", "{\"a\":null}"), "null", "cast: null");
	CHECK_STR(cast_of("a:int64", "{\"b\":1}"), "null", "cast: missing");
	CHECK_STR(cast_of("a", "not json"), "REJECT: payload is not a JSON "
	    "object or array", "cast: not JSON");
	CHECK_STR(cast_of("a:int64", "{\"a\":\"x\\ny\"}"), "REJECT: field a: "
	    "\"x\\ny\" is not an int64 (an integer from -2^63 to 2^63-1)",
	    "cast: the reason quotes the value");
}

/* Time zones of the key placeholders and the buckets they make. */
static void
test_zones(void)
{
	struct tzone z;
	struct key_tmpl t;
	struct utc a, b;
	char why[256];

	CHECK(tz_parse(&z, "+08:00", why, sizeof(why)) == 0 &&
	    z.kind == TZ_FIXED && z.off_s == 28800, "tz: +08:00");
	CHECK(tz_parse(&z, "-0530", why, sizeof(why)) == 0 &&
	    z.off_s == -19800, "tz: -0530");
	CHECK(tz_parse(&z, "+15:00", why, sizeof(why)) < 0, "tz: +15:00 no");
	CHECK(tz_parse(&z, "+8", why, sizeof(why)) < 0, "tz: +8 no");
	CHECK(tz_parse(&z, "UTC", why, sizeof(why)) == 0 &&
	    z.kind == TZ_UTC, "tz: UTC");
	(void)tz_parse(&z, "+08:00", why, sizeof(why));
	tz_local(&z, 1764230398000ULL, &a);	/* 07:59:58Z */
	CHECK(a.hour == 15 && a.min == 59 && a.day == 27, "tz: shifted");
	CHECK(key_tmpl_parse(&t, "{date}/{hh}/{seq_id}", why,
	    sizeof(why)) == 0 && t.unit == KU_HOUR, "key: unit hour");
	utc_from_ms(&a, 1764230398000ULL);
	utc_from_ms(&b, 1764230402000ULL);	/* 08:00:02Z */
	CHECK(key_bucket(&t, &a) != key_bucket(&t, &b), "bucket: hours");
	utc_from_ms(&b, 1764230340000ULL);	/* 07:59:00Z */
	CHECK(key_bucket(&t, &a) == key_bucket(&t, &b), "bucket: same hour");
	key_tmpl_free(&t);
	CHECK(key_tmpl_parse(&t, "{topic}/{seq_id}", why, sizeof(why)) == 0 &&
	    t.unit == KU_NONE, "key: no time unit");
	key_tmpl_free(&t);
}

/* range: the bucket of ms under tmpl in zone (NULL: UTC) is [lo, hi). */
static int
range_is(const char *tmpl, const char *zone, uint64_t ms, uint64_t lo,
    uint64_t hi)
{
	struct key_tmpl t;
	struct tzone z;
	uint64_t s, e;
	char why[256];

	if (key_tmpl_parse(&t, tmpl, why, sizeof(why)) < 0 ||
	    (zone != NULL && tz_parse(&z, zone, why, sizeof(why)) < 0))
		return 0;
	key_bucket_range(&t, zone != NULL ? &z : NULL, ms, &s, &e);
	key_tmpl_free(&t);
	return s == lo && e == hi;
}

/* The directory of a rendered key's time bucket, "" for none. */
static const char *
bucket_dir(const char *tmpl)
{
	static struct buf b = BUF_INIT;
	struct key_tmpl t;
	struct key_vars v;
	size_t dir = 0;
	char why[256];

	buf_reset(&b);
	if (key_tmpl_parse(&t, tmpl, why, sizeof(why)) < 0)
		return "(refused)";
	memset(&v, 0, sizeof(v));
	v.topic = "persistent://tn/ns/x-partition-1";
	v.topiclen = strlen(v.topic);
	v.pt_ms = 1764230398000ULL;
	v.ext = "jsonl";
	if (key_render_bucket(&t, &v, &b, &dir) < 0)
		dir = 0;
	key_tmpl_free(&t);
	buf_setlen(&b, dir);
	return b.data != NULL ? b.data : "";
}

/* Time buckets as milliseconds, and their directories (deliver --markers). */
static void
test_buckets(void)
{
	static const uint64_t ms[] = {
		0, 1709210096789ULL, 1735689599999ULL, 1764230398000ULL,
		4102444800000ULL
	};
	struct utc u;
	size_t i;

	for (i = 0; i < sizeof(ms) / sizeof(ms[0]); i++) {
		utc_from_ms(&u, ms[i]);
		CHECK(utc_to_ms(&u) == ms[i], "utc_to_ms: the inverse");
	}
	CHECK(range_is(KEY_DEFAULT_TEMPLATE, NULL, 1764230398000ULL,
	    1764226800000ULL, 1764230400000ULL), "range: hour, UTC");
	CHECK(range_is("{date}/{seq_id}", "+08:00", 1764230398000ULL,
	    1764172800000ULL, 1764259200000ULL), "range: day at +08:00");
	CHECK(range_is("{yyyy}/{mm}/{seq_id}", NULL, 1709210096789ULL,
	    1706745600000ULL, 1709251200000ULL), "range: a leap February");
	CHECK(range_is("{yyyy}/{seq_id}", NULL, 1735689599999ULL,
	    1704067200000ULL, 1735689600000ULL), "range: year, last ms");
	CHECK(range_is("{date}/{seq_id}", "Europe/Berlin", 1743336000000ULL,
	    1743289200000ULL, 1743372000000ULL), "range: a 23-hour day");
	CHECK(range_is("{date}/{seq_id}", "Europe/Berlin", 1761480000000ULL,
	    1761429600000ULL, 1761519600000ULL), "range: a 25-hour day");
	CHECK_STR(bucket_dir(KEY_DEFAULT_TEMPLATE), "tn/ns/x/2025/11/27/07",
	    "bucket dir: default template");
	CHECK_STR(bucket_dir("x/dt={date}/hour={hh}/{seq_id}.{ext}"),
	    "x/dt=2025-11-27/hour=07", "bucket dir: Hive layout");
	CHECK_STR(bucket_dir("{yyyy}/{topic}/{seq_id}.{ext}"), "2025",
	    "bucket dir: the segment of the last time field");
	CHECK_STR(bucket_dir("x/{yyyy}{mm}{dd}{hh}-{seq_id}.{ext}"), "",
	    "bucket dir: none in the last segment");
	CHECK_STR(bucket_dir("{topic}/{seq_id}.{ext}"), "",
	    "bucket dir: none without time");
}

int
main(void)
{
	test_json_valid();
	test_utf8();
	test_escape();
	test_base64();
	test_time();
	test_keys();
	test_zones();
	test_buckets();
	test_records();
	test_topics();
	test_jsonpath();
	test_rfc3339();
	test_fields();
	return unit_done();
}
