/* unit: */
/* Unit tests of the common library: frames, percent-encoding, seqs, ids. */
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "frame.h"
#include "msgid.h"
#include "pct.h"
#include "seqs.h"
#include "unit.h"

#define S(lit)	(lit), sizeof(lit) - 1

/* A reader over an in-memory stream, fed through a pipe by a child. */
static int
reader_over(struct frame_reader *r, const void *data, size_t len)
{
	int fd[2];
	pid_t pid;

	if (pipe(fd) < 0)
		err(1, "pipe");
	if ((pid = fork()) < 0)
		err(1, "fork");
	if (pid == 0) {
		close(fd[0]);
		(void)write_all(fd[1], data, len);
		_exit(0);
	}
	close(fd[1]);
	frame_reader_init(r, fd[0], "test");
	return fd[0];
}

/* Read all frames of a stream; return count, or -1 with the error in why. */
static int
read_all(const void *data, size_t len, size_t max_body, char *why,
    size_t whylen)
{
	struct frame_reader r;
	struct frame f;
	int n = 0, rc, fd;

	fd = reader_over(&r, data, len);
	r.max_body = max_body;
	frame_init(&f);
	while ((rc = frame_read(&r, &f)) == 1)
		n++;
	if (rc < 0) {
		strlcpy(why, r.err, whylen);
		n = -1;
	}
	frame_release(&f);
	frame_reader_release(&r);
	close(fd);
	return n;
}

static int
fails_with(const char *data, size_t len, const char *want)
{
	char why[512] = "";

	if (read_all(data, len, 1000, why, sizeof(why)) != -1)
		return 0;
	if (strstr(why, want) == NULL) {
		printf("# error was: %s\n", why);
		return 0;
	}
	return 1;
}

static void
test_write_read(void)
{
	struct buf out = BUF_INIT, v = BUF_INIT;
	struct frame_reader r;
	struct frame f;
	const char body[] = "a\0b\nc";
	int fd;

	frame_begin(&out, 'M', sizeof(body) - 1);
	frame_add_u64(&out, "seq", 1);
	frame_add_str(&out, "key", "a b=c%d\n");
	frame_add_str(&out, "topic", "persistent://t/ns/t\xc3\xa9");
	frame_finish(&out, body, sizeof(body) - 1);
	frame_begin_nobody(&out, 'A');
	frame_add_str(&out, "seqs", "1-3");
	frame_finish(&out, NULL, 0);
	CHECK(memmem(out.data, out.len, "key=a%20b%3Dc%25d%0A", 20) != NULL,
	    "header values are percent-encoded");

	fd = reader_over(&r, out.data, out.len);
	frame_init(&f);
	CHECK(frame_read(&r, &f) == 1, "read a message frame");
	CHECK(f.type == 'M' && f.has_body && f.len == sizeof(body) - 1 &&
	    memcmp(f.body, body, f.len) == 0, "binary body survives");
	CHECK(frame_get(&f, "key", &v) == 1 && v.len == 8 &&
	    memcmp(v.data, "a b=c%d\n", 8) == 0, "value decodes back");
	buf_reset(&v);
	CHECK(frame_get(&f, "topic", &v) == 1 &&
	    strcmp(v.data, "persistent://t/ns/t\xc3\xa9") == 0,
	    "UTF-8 stays literal");
	CHECK(frame_get(&f, "nope", &v) == 0, "absent field");
	CHECK(frame_read(&r, &f) == 1 && f.type == 'A' && !f.has_body,
	    "read an ack line");
	CHECK(frame_read(&r, &f) == 0, "clean end of input");
	frame_release(&f);
	frame_reader_release(&r);
	close(fd);
	buf_release(&out);
	buf_release(&v);
}

static void
test_malformed(void)
{
	CHECK(fails_with("M 5 seq=1\nabc", 13, "byte 0: truncated"),
	    "truncated body");
	CHECK(fails_with("M 5 seq=1", 9, "truncated frame: header"),
	    "truncated header");
	CHECK(fails_with("M 3 seq=1\nabc\nxyz\n", 18, "byte 14: not a frame"),
	    "garbage after a frame names its offset");
	CHECK(fails_with("M 3 seq=1\nabcd\n", 15, "no newline after"),
	    "length shorter than body");
	CHECK(fails_with("M 1001 seq=1\n", 13, "exceeds the limit"),
	    "oversized frame refused before reading it");
	CHECK(fails_with("M 99999999999999999999999 x=1\n", 30, "exceeds"),
	    "absurd length refused");
	CHECK(fails_with("M 03 x=1\nabc\n", 13, "leading zero"),
	    "leading zero in length");
	CHECK(fails_with("m 3\nabc\n", 8, "not a frame header"),
	    "lower-case type");
	CHECK(fails_with("M 3  x=1\nabc\n", 13, "empty header field"),
	    "double space");
	CHECK(fails_with("M 3 x\nabc\n", 10, "without NAME="),
	    "field without =");
	CHECK(fails_with("M 3 x=%zz\nabc\n", 14, "bad %-escape"),
	    "bad escape");
	CHECK(fails_with("M 3 x=a\tb\nabc\n", 14, "control byte"),
	    "raw control byte in a value");
	CHECK(fails_with("\x1f\x8b\x08", 3, "starts with byte 0x1f"),
	    "gzip data is not frames");
}

static void
test_huge(void)
{
	size_t n = 8u << 20;
	struct buf out = BUF_INIT;
	char *body = xmalloc(n), why[512];
	int i;

	memset(body, 'x', n);
	for (i = 0; i < 3; i++) {
		frame_begin(&out, 'M', n);
		frame_add_u64(&out, "seq", (uint64_t)i + 1);
		frame_finish(&out, body, n);
	}
	CHECK(read_all(out.data, out.len, n, why, sizeof(why)) == 3,
	    "three 8 MiB frames");
	CHECK(read_all(out.data, out.len, n - 1, why, sizeof(why)) == -1,
	    "one byte over the limit is refused");
	buf_reset(&out);
	buf_addch(&out, 'M');
	while (out.len < FRAME_MAX_HEADER + 10)
		buf_addstr(&out, " a=b");
	CHECK(read_all(out.data, out.len, n, why, sizeof(why)) == -1 &&
	    strstr(why, "longer than") != NULL, "endless header line");
	free(body);
	buf_release(&out);
}

static void
test_pct(void)
{
	struct buf b = BUF_INIT, d = BUF_INIT;
	unsigned char all[256];
	int i;

	for (i = 0; i < 256; i++)
		all[i] = (unsigned char)i;
	pct_encode_value(&b, all, sizeof(all));
	CHECK(memchr(b.data, ' ', b.len) == NULL &&
	    memchr(b.data, '=', b.len) == NULL &&
	    memchr(b.data, '\n', b.len) == NULL, "encoded value has no "
	    "space, '=' or newline");
	CHECK(pct_decode(&d, b.data, b.len) == 0 && d.len == 256 &&
	    memcmp(d.data, all, 256) == 0, "all bytes round-trip");
	buf_reset(&b);
	pct_encode_uri(&b, "a b/c+(d)~", 10, 1);
	CHECK_STR(b.data, "a%20b/c%2B%28d%29~", "URI encoding keeps / ~");
	buf_reset(&d);
	CHECK(pct_decode(&d, "%4", 2) < 0, "short escape refused");
	CHECK(pct_hexval('0') == 0 && pct_hexval('9') == 9 &&
	    pct_hexval('a') == 10 && pct_hexval('F') == 15 &&
	    pct_hexval('g') == -1 && pct_hexval('/') == -1 &&
	    pct_hexval(':') == -1 && pct_hexval(0xc3) == -1,
	    "hex digits of either case, nothing else");
	buf_release(&b);
	buf_release(&d);
}

static void
test_seqs(void)
{
	struct seqs s = SEQS_INIT;
	struct buf b = BUF_INIT;
	uint64_t i;

	for (i = 1; i <= 5; i++)
		seqs_add(&s, i);
	seqs_add(&s, 7);
	seqs_add(&s, 9);
	seqs_add(&s, 8);
	seqs_add(&s, 20);
	seqs_add(&s, 3);
	seqs_format(&b, &s);
	CHECK_STR(b.data, "1-5,7-9,20", "ranges merge in any order");
	CHECK(seqs_count(&s) == 9, "count");
	CHECK(seqs_contains(&s, 8) && !seqs_contains(&s, 6), "contains");
	seqs_clear(&s);
	CHECK(seqs_parse(&s, "4-6,1,2", 7) == 0 && seqs_count(&s) == 5,
	    "parse");
	buf_reset(&b);
	seqs_format(&b, &s);
	CHECK_STR(b.data, "1-2,4-6", "parse normalises");
	CHECK(seqs_parse(&s, "5-3", 3) < 0, "descending range refused");
	CHECK(seqs_parse(&s, "1,,2", 4) < 0, "empty item refused");
	CHECK(seqs_parse(&s, "99999999999999999999", 20) < 0, "overflow");
	seqs_free(&s);
	buf_release(&b);
}

/* Whether s parses, and if so to these four. */
static int
id_is(const char *s, int64_t ledger, int64_t entry, int32_t partition,
    int32_t batch)
{
	struct msgid id;

	return msgid_parse(&id, s, strlen(s)) == 0 && id.ledger == ledger &&
	    id.entry == entry && id.partition == partition &&
	    id.batch == batch;
}

static int
id_bad(const char *s)
{
	struct msgid id;

	return msgid_parse(&id, s, strlen(s)) < 0;
}

/* The rules of msgid.h at their edges: signs, ranges, empty fields. */
static void
test_msgid_edges(void)
{
	CHECK(id_is("9223372036854775807:9223372036854775807:2147483647:"
	    "2147483647", INT64_MAX, INT64_MAX, INT32_MAX, INT32_MAX) &&
	    id_is("-1:-1:-2147483648:-2147483648", -1, -1, INT32_MIN,
	    INT32_MIN), "ids at the ends of their ranges");
	CHECK(id_bad("9223372036854775808:0:0:0") &&
	    id_bad("0:9223372036854775808:0:0") &&
	    id_bad("18446744073709551616:0:0:0") &&
	    id_bad("0:0:2147483648:0") && id_bad("0:0:0:2147483648") &&
	    id_bad("0:0:-2147483649:0") && id_bad("0:0:0:-2147483649") &&
	    id_bad("-2:0:0:0") && id_bad("0:-2:0:0") &&
	    id_bad("-9223372036854775808:0:0:0"),
	    "ids one past their ranges refused");
	CHECK(id_is("-0:-00:-0:-0", 0, 0, 0, 0) &&
	    id_is("0000000000000000000000001:01:002:0003", 1, 1, 2, 3) &&
	    id_is("-0000000000000000000001:1:-000000000000002147483648:7",
	    -1, 1, INT32_MIN, 7), "leading zeros and -0 accepted");
	CHECK(id_bad("") && id_bad(":::") && id_bad("1::1:1") &&
	    id_bad("1:1:1:") && id_bad(":1:1:1") && id_bad("-:1:1:1") &&
	    id_bad("1:1:1:-") && id_bad("--1:1:1:1") && id_bad("+1:1:1:1") &&
	    id_bad("1:1:1:1 ") && id_bad(" 1:1:1:1") && id_bad("1:1:1:1x") &&
	    id_bad("1:1:1;1") && id_bad("1-1:1:1:1"),
	    "empty fields, stray signs and bytes refused");
	CHECK(id_is("12345678:12345678:12345678:12345678", 12345678,
	    12345678, 12345678, 12345678) &&
	    id_is("1234567812345678:1234567812345678:1:2", 1234567812345678,
	    1234567812345678, 1, 2) &&
	    id_is("12345678123456781:1234567812345678123:1:2",
	    12345678123456781, 1234567812345678123, 1, 2) &&
	    id_bad("1:12345678123456781234:1:2") &&
	    id_is("1:2:3:4", 1, 2, 3, 4) && id_is("134926547525576:1:-1:-1",
	    134926547525576, 1, -1, -1), "8, 16, 17, 19 and 20 digits");
	/* 16 to 32 bytes: the length msgid_parse takes in one piece */
	CHECK(id_bad("134926547525576:1:-1:") &&
	    id_bad("134926547525576::-1:-1") &&
	    id_bad(":134926547525576:-1:-1") &&
	    id_bad("134926547525576:1:-1:-1:") &&
	    id_bad("134926547525576:1:-1-1") &&
	    id_bad("134926547525576:1:--1:1") &&
	    id_bad("134926547525576:1:-1:-") &&
	    id_bad("134926547525576:1:-1:1-") &&
	    id_bad("134926547525576:1:1:2147483648") &&
	    id_bad("13492654752557612345:1:-1:-2") &&
	    id_bad("13492654752557612:1:1:1x") &&
	    id_bad("-134926547525576:1:-1:-1") &&
	    id_is("-1:-1:-2147483648:-0000001", -1, -1, INT32_MIN, -1) &&
	    id_is("134926547525576:39757:-1:-1", 134926547525576, 39757,
	    -1, -1) &&
	    id_bad("00000000000000000000000000000001") &&
	    id_is("0000000000000000000000000001:0:0:0", 1, 0, 0, 0),
	    "ids of 16 to 32 bytes");
	/* after one id, the next with its ledger and partition:batch */
	CHECK(id_is("134926547525576:1:-1:-1", 134926547525576, 1, -1, -1) &&
	    id_is("134926547525576:2:-1:-1", 134926547525576, 2, -1, -1) &&
	    id_is("134926547525576:-1:-1:-1", 134926547525576, -1, -1, -1) &&
	    id_bad("134926547525576::-1:-1") &&
	    id_bad("134926547525576:1:2:-1:-1") &&
	    id_bad("134926547525576:-2:-1:-1") &&
	    id_bad("134926547525576:9223372036854775808:-1:-1") &&
	    id_is("134926547525576:9223372036854775807:-1:-1",
	    134926547525576, INT64_MAX, -1, -1) &&
	    id_is("134926547525576:0012345678901234:-1:-1", 134926547525576,
	    12345678901234, -1, -1) &&
	    id_bad("134926547525576:1x:-1:-1") &&
	    id_is("134926547525577:3:-1:-1", 134926547525577, 3, -1, -1) &&
	    id_is("134926547525577:3:-1:0", 134926547525577, 3, -1, 0),
	    "ids one after the other");
}

static void
test_msgid(void)
{
	struct msgid id;
	struct buf b = BUF_INIT;

	CHECK(msgid_parse(&id, "12:34:-1:-1", 11) == 0 && id.ledger == 12 &&
	    id.entry == 34 && id.partition == -1 && id.batch == -1,
	    "parse a message id");
	msgid_format(&b, &id);
	CHECK_STR(b.data, "12:34:-1:-1", "format a message id");
	CHECK(msgid_parse(&id, "1:2:3", 5) < 0, "three parts refused");
	CHECK(msgid_parse(&id, "1:2:3:4:5", 9) < 0, "five parts refused");
	CHECK(msgid_parse(&id, "1:2:99999999999:4", 17) < 0,
	    "partition overflow");
	buf_release(&b);
	test_msgid_edges();
}

/*
 * Headers one after another into one frame (which compares each with
 * the layout of the last) give what a fresh frame's full parse gives:
 * the same answer, error, fields; and changed marks exactly the fields
 * whose values differ from the last header's.  The headers are made by
 * changing the last one: mostly digits, sometimes any byte, a length.
 */
static const char *const layout_seeds[] = {
	"M 170 seq=1 id=134926547525576:1:-1:-1 topic=persistent://public/"
	    "default/replay pt=1764201600000",
	"M 12 seq=7 id=1:2:3:4 topic=t%2F1 pt=5 key=k%4142 p.a=1 rc=0",
	"A seqs=1-9 n=9 key=a/b/0001.jsonl.gz",
	"M seq=1 null=1 id=1:1:-1:-1 topic=x pt=0",
	"O 99 key=x/2025/01/01/000.jsonl seqs=1-3 n=3 crc64=0012",
};

static uint64_t layout_rng = 88172645463325252ULL;

static size_t
layout_rand(size_t n)
{
	layout_rng ^= layout_rng << 13;
	layout_rng ^= layout_rng >> 7;
	layout_rng ^= layout_rng << 17;
	return (size_t)(layout_rng % n);
}

/* Change the header in h (*n bytes, room for 600). */
static void
layout_mutate(char *h, size_t *n)
{
	static const char bytes[] = " =%\t09azAZ:\x7f\x80-";
	size_t k = layout_rand(100), i;

	if (k < 4) {
		const char *s = layout_seeds[layout_rand(5)];

		*n = strlen(s);
		memcpy(h, s, *n);
		return;
	}
	if (*n == 0)
		return;
	i = layout_rand(*n);
	if (k < 80)
		h[i] = (char)('0' + layout_rand(10));
	else if (k < 92)
		h[i] = bytes[layout_rand(sizeof(bytes) - 1)];
	else if (k < 96 && *n < 590) {
		memmove(h + i + 1, h + i, *n - i);
		h[i] = (char)('0' + layout_rand(10));
		(*n)++;
	} else {
		memmove(h + i, h + i + 1, *n - i - 1);
		(*n)--;
	}
}

/* Nonzero if field i of a, over the header at pa, equals b's at pb. */
static int
same_value(const struct frame_field *a, const struct frame_field *b)
{
	return a->vallen == b->vallen &&
	    memcmp(a->val, b->val, a->vallen) == 0;
}

static void
test_layout(void)
{
	struct frame fr, fn, last;
	char h[600], good[600], *cur = NULL, *prev = NULL;
	const char *why_r, *why_n;
	size_t n = 0, good_n = 0, i, runs = 200000, same = 0, bad = 0, k;
	int rr, rn, ok = 1, prev_ok = 0;

	frame_init(&fr);
	frame_init(&last);
	for (k = 0; k < runs && ok; k++) {
		if (!prev_ok && k > 0) {	/* go on from the last good one */
			n = good_n;
			memcpy(h, good, n);
		}
		layout_mutate(h, &n);
		free(prev);
		prev = cur;
		if ((cur = malloc(n ? n : 1)) == NULL)
			err(1, "malloc");
		memcpy(cur, h, n);
		frame_init(&fn);
		why_r = why_n = NULL;
		rr = frame_parse_header(&fr, cur, n, 1000, &why_r);
		rn = frame_parse_header(&fn, cur, n, 1000, &why_n);
		if (rr != rn || (rr < 0 && strcmp(why_r, why_n) != 0))
			ok = 0;
		else if (rr == 0 && (fr.type != fn.type ||
		    fr.has_body != fn.has_body || fr.len != fn.len ||
		    fr.nfields != fn.nfields))
			ok = 0;
		for (i = 0; ok && rr == 0 && i < fn.nfields; i++)
			if (fr.fields[i].name != fn.fields[i].name ||
			    fr.fields[i].namelen != fn.fields[i].namelen ||
			    fr.fields[i].val != fn.fields[i].val ||
			    fr.fields[i].vallen != fn.fields[i].vallen)
				ok = 0;
		if (ok && rr == 0 && fr.same) {
			same++;
			/* the last header parsed; changed is exact */
			ok = prev_ok && last.nfields == fn.nfields;
			for (i = 0; ok && i < fn.nfields; i++)
				if (!same_value(&fn.fields[i],
				    &last.fields[i]) !=
				    !!(fr.changed >> i & 1))
					ok = 0;
		}
		if (!ok)
			printf("# header %zu: \"%.*s\"\n", k, (int)n, cur);
		bad += rr < 0;
		/* keep this parse for the next round's comparison */
		frame_release(&last);
		last = fn;
		if ((prev_ok = rr == 0)) {
			good_n = n;
			memcpy(good, h, n);
		}
	}
	CHECK(ok, "headers one after another parse as they do alone");
	/* a dropped layout (after a header of other fields) matches none */
	CHECK(frame_parse_header(&fr, S("M seq=1 id=1:2:-1:-1 topic=t pt=9"),
	    1000, &why_r) == 0 && frame_parse_header(&fr, S("M x"), 1000,
	    &why_r) < 0 && frame_parse_header(&fr, S("M "), 1000,
	    &why_r) < 0 && fr.nfields == 0 &&
	    frame_parse_header(&fr, S("M 5"), 1000, &why_r) == 0 &&
	    fr.nfields == 0, "no fields from a layout dropped");
	printf("# %zu of %zu took the layout, %zu refused\n", same, runs, bad);
	CHECK(same > runs / 4 && bad > runs / 20,
	    "most headers take the layout, some are refused");
	frame_release(&last);
	frame_release(&fr);
	free(prev);
	free(cur);
}

int
main(void)
{
	test_write_read();
	test_malformed();
	test_huge();
	test_pct();
	test_seqs();
	test_msgid();
	test_layout();
	return unit_done();
}
