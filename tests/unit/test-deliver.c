/* unit: deliver/dest.c deliver/object.c deliver/sweep.c deliver/xml.c deliver/manifest.c deliver/digest.c */
/*
 * deliver's pure parts: destination URLs, key checks, object frames,
 * part frames, ack lines, the XML of store answers, and the names of deliver's
 * temporary files.
 */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "../../deliver/dest.h"
#include "../../deliver/local.h"
#include "../../deliver/manifest.h"
#include "frame.h"
#include "../../deliver/object.h"
#include "unit.h"
#include "../../deliver/xml.h"

static int
parses(const char *url)
{
	struct dest d;
	char why[512];
	int rc = dest_parse(&d, url, why, sizeof(why));

	dest_release(&d);
	return rc == 0;
}

/*
 * --endpoint URL for s3://bkt/: -1 refused; else 1 if it chose path-style
 * addressing by itself (no bucket in front of the host), 0 if not.
 */
static int
endpoint_style(const char *url)
{
	struct dest d;
	char why[512];
	int rc = -1;

	if (dest_parse(&d, "s3://bkt/", why, sizeof(why)) == 0 &&
	    dest_endpoint(&d, url, 0, why, sizeof(why)) == 0)
		rc = d.path_style && d.auto_path_style &&
		    strncmp(d.host, "bkt.", 4) != 0;
	dest_release(&d);
	return rc;
}

#define endpoint_is_path_style(url)	(endpoint_style(url) == 1)
#define endpoint_ok(url)		(endpoint_style(url) >= 0)

static void
test_dest(void)
{
	struct dest d;
	char why[512];

	CHECK(dest_parse(&d, "cos://lake-1250000000/a%20b/?region=ap-guangzhou",
	    why, sizeof(why)) == 0, "cos URL parses");
	CHECK_STR(d.bucket, "lake-1250000000", "cos bucket");
	CHECK_STR(d.prefix, "a b/", "prefix is decoded");
	CHECK_STR(d.region, "ap-guangzhou", "region");
	CHECK(dest_endpoint(&d, NULL, 0, why, sizeof(why)) == 0,
	    "default COS endpoint");
	CHECK_STR(d.host, "lake-1250000000.cos.ap-guangzhou.myqcloud.com",
	    "virtual-hosted COS host");
	dest_release(&d);

	CHECK(dest_parse(&d, "s3://bkt/", why, sizeof(why)) == 0 &&
	    dest_endpoint(&d, "http://127.0.0.1:9000/", 1, why,
	    sizeof(why)) == 0, "s3 with a path-style endpoint");
	CHECK_STR(d.base, "http://127.0.0.1:9000/bkt", "path-style base");
	CHECK_STR(d.region, "us-east-1", "default S3 region");
	CHECK_STR(d.prefix, "", "empty prefix");
	dest_release(&d);

	CHECK(dest_parse(&d, "s3://bkt/p/?region=eu-west-1", why,
	    sizeof(why)) == 0 && dest_endpoint(&d, "https://s3.localhost:9", 0,
	    why, sizeof(why)) == 0, "s3 virtual-hosted endpoint");
	CHECK_STR(d.host, "bkt.s3.localhost:9", "bucket in front of the host");
	CHECK(!d.path_style && !d.auto_path_style, "virtual-hosted");
	dest_release(&d);

	/* an IP address or localhost: path-style, as the AWS SDKs do */
	CHECK(endpoint_is_path_style("http://127.0.0.1:9000"), "IPv4:port");
	CHECK(endpoint_is_path_style("http://10.1.2.3/x"), "IPv4 and a path");
	CHECK(endpoint_is_path_style("http://[::1]:9000"), "IPv6");
	CHECK(endpoint_is_path_style("http://localhost:9"), "localhost:port");
	CHECK(endpoint_is_path_style("https://LOCALHOST"), "LOCALHOST");
	CHECK(!endpoint_is_path_style("http://localhost.example:9"),
	    "a name that starts with localhost");
	CHECK(!endpoint_is_path_style("http://cos.ap-guangzhou.localhost:9"),
	    "a name below localhost");
	CHECK(!endpoint_is_path_style("http://1e100.net"), "digits, a name");
	CHECK(!endpoint_ok("http://127.0.0.1:"), "a colon and no port");
	CHECK(!endpoint_ok("http://host:80x"), "a port that is not digits");
	CHECK(!endpoint_ok("http://:80"), "a port and no host");
	CHECK(!endpoint_ok("http://[::1]x"), "bytes after [IPv6]");
	CHECK(endpoint_ok("http://[::1]:9000/p"), "[IPv6]:port/path");
	CHECK(endpoint_ok("https://cos.ap-guangzhou.myqcloud.com"), "no port");

	CHECK(parses("file:///a/b/"), "file URL");
	CHECK(parses("file://localhost/a/"), "file://localhost");
	CHECK(!parses("file:///a/b"), "file URL needs a trailing slash");
	CHECK(!parses("file://a/b/"), "file URL needs an absolute path");
	CHECK(!parses("cos://lake/?region=ap-guangzhou"), "COS bucket needs "
	    "an APPID");
	CHECK(!parses("cos://-lake-1250000000/"), "COS bucket starts "
	    "with a letter or digit");
	CHECK(!parses("cos://Lake-1250000000/"), "COS bucket is lower-case");
	CHECK(!parses("cos://lake-125x/"), "APPID is digits");
	CHECK(!parses("cos://lake-1250000000/p?region=ap-guangzhou"),
	    "prefix must end with /");
	CHECK(!parses("cos://lake-1250000000/a//?region=x"), "empty segment");
	CHECK(!parses("cos://lake-1250000000/../?region=x"), "dot-dot");
	CHECK(!parses("s3://bkt/?region=Bad_Region"), "bad region");
	CHECK(!parses("s3://bkt/?colour=red"), "unknown parameter");
	CHECK(!parses("s3://b/"), "short S3 bucket");
	CHECK(!parses("s3://10.0.0.1/"), "IP address bucket");
	CHECK(!parses("gs://bkt/"), "unknown scheme");
	CHECK(dest_cos_bucket_ok("examplebucket-1250000000"), "doc bucket");
	CHECK(dest_s3_bucket_ok("my.bucket-1"), "dotted S3 bucket");
	CHECK(!dest_s3_bucket_ok("my..bucket"), "double dot");
}

static void
test_keys(void)
{
	CHECK(object_key_check("a/b.txt", 7) == NULL, "plain key");
	CHECK(object_key_check("a b/ü+(1).txt", strlen("a b/ü+(1).txt")) ==
	    NULL, "spaces, UTF-8, + and () are allowed");
	CHECK(object_key_check("..a/b..", 7) == NULL, "dots inside names");
	CHECK(object_key_check("", 0) != NULL, "empty");
	CHECK(object_key_check("/a", 2) != NULL, "absolute");
	CHECK(object_key_check("a/", 2) != NULL, "trailing slash");
	CHECK(object_key_check("a//b", 4) != NULL, "empty segment");
	CHECK(object_key_check("./a", 3) != NULL, "dot segment");
	CHECK(object_key_check("a/..", 4) != NULL, "dot-dot at the end");
	CHECK(object_key_check("a\nb", 3) != NULL, "newline");
}

static void
test_object(void)
{
	static const char hdr[] = "O 3 key=a%20b.txt type=text/plain n=0 "
	    "seqs=1-3,5 first=1:2:-1:-1 x.future=1";
	struct frame f;
	struct object o;
	struct buf ack = BUF_INIT;
	const char *why;
	char err[256];

	frame_init(&f);
	object_init(&o);
	CHECK(frame_parse_header(&f, hdr, sizeof(hdr) - 1, 100, &why) == 0,
	    "header parses");
	f.body = "abc";
	CHECK(object_parse(&o, &f, err, sizeof(err)) == 0, "object parses");
	CHECK_STR(o.key.data, "a b.txt", "key decoded");
	CHECK_STR(o.seqs.data, "1-3,5", "seqs kept");
	CHECK(o.has_n && o.n == 0, "n=0");
	CHECK(!object_is_empty(&o), "n=0 with a body is not empty");
	ack_format(&ack, &o, "p/a b.txt", 9, " size=3");
	CHECK_STR(ack.data, "A key=p/a%20b.txt seqs=1-3,5 size=3\n",
	    "ack line");
	object_release(&o);
	buf_release(&ack);

	object_init(&o);
	frame_parse_header(&f, "O 1 key=../x seqs=1", 19, 100, &why);
	CHECK(object_parse(&o, &f, err, sizeof(err)) < 0 &&
	    strstr(err, "unsafe key") != NULL, "unsafe key refused");
	object_release(&o);
	object_init(&o);
	frame_parse_header(&f, "O 1 key=a seqs=1 n=x", 20, 100, &why);
	CHECK(object_parse(&o, &f, err, sizeof(err)) < 0, "bad n= refused");
	object_release(&o);
	frame_release(&f);
}

/* Feed the header hdr with a body of len bytes to p: parts_take's answer. */
static int
take(struct parts_in *p, const char *hdr, size_t len, char *err,
    size_t errlen)
{
	static char body[PART_MIN];
	struct frame f;
	const char *why;
	int rc;

	frame_init(&f);
	if (frame_parse_header(&f, hdr, strlen(hdr), 1 << 30, &why) < 0) {
		frame_release(&f);
		return -2;
	}
	f.body = body;
	f.len = len;
	rc = parts_take(p, &f, err, errlen);
	frame_release(&f);
	return rc;
}

/* The O frame hdr (no body) ending p: parts_end's answer; o filled. */
static int
end(struct parts_in *p, struct object *o, const char *hdr, char *err,
    size_t errlen)
{
	struct frame f;
	const char *why;
	int rc;

	frame_init(&f);
	object_release(o);
	rc = frame_parse_header(&f, hdr, strlen(hdr), 100, &why) < 0 ||
	    object_parse(o, &f, err, errlen) < 0 ? -2 :
	    parts_end(p, o, err, errlen);
	frame_release(&f);
	return rc;
}

/*
 * Part frames (lakepipe-frames(5)): consecutive, of one key, at least
 * 5 MiB each, ended by an O frame whose parts= counts them.
 */
static void
test_parts(void)
{
	struct parts_in p;
	struct object o;
	char err[512];

	parts_init(&p);
	object_init(&o);
	CHECK(take(&p, "P 5242880 key=a/b.txt type=text/plain enc=gzip "
	    "first=1:2:-1:-1", PART_MIN, err, sizeof(err)) == 0 && p.n == 1,
	    "a first part frame");
	CHECK_STR(p.type.data, "text/plain", "its type= kept");
	CHECK_STR(p.first.data, "1:2:-1:-1", "its first= kept");
	CHECK(take(&p, "P 5242880 key=a/b.txt", PART_MIN, err,
	    sizeof(err)) == 0 && p.n == 2 && p.bytes == 2 * PART_MIN,
	    "a second one counted");
	CHECK(take(&p, "P 5242880 key=a/c.txt", PART_MIN, err,
	    sizeof(err)) < 0 && strstr(err, "another object") != NULL,
	    "another key before the O frame: refused");
	CHECK(parts_at_eof(&p, err, sizeof(err)) < 0 &&
	    strstr(err, "after 2 part frames of a/b.txt without") != NULL,
	    "the end of input inside the object: an error");
	CHECK(end(&p, &o, "O 7 key=a/b.txt seqs=1-9 parts=1", err,
	    sizeof(err)) == -1 && strstr(err, "parts=1") != NULL,
	    "parts= that does not count them: refused");
	CHECK(end(&p, &o, "O 7 key=a/x.txt seqs=1-9 parts=2", err,
	    sizeof(err)) == -1, "an O frame of another key: refused");
	CHECK(end(&p, &o, "O 7 key=a/b.txt seqs=1-9 parts=2", err,
	    sizeof(err)) == 0 && o.parts == 2 && o.total == 2 * PART_MIN + 7,
	    "the O frame ends it: total of parts and body");
	CHECK(p.n == 0 && p.key.len == 0 && parts_at_eof(&p, err,
	    sizeof(err)) == 0, "then no object is in parts");
	CHECK(end(&p, &o, "O 7 key=a/b.txt seqs=1-9 parts=3", err,
	    sizeof(err)) == -1, "parts= without part frames: refused");
	CHECK(end(&p, &o, "O 7 key=a/b.txt seqs=1-9", err, sizeof(err)) == 0 &&
	    o.parts == 0 && o.total == 7, "a one-frame object");
	CHECK(take(&p, "P 5242879 key=a/b.txt", PART_MIN - 1, err,
	    sizeof(err)) < 0 && strstr(err, "at least 5 MiB") != NULL,
	    "a part below 5 MiB: refused");
	CHECK(take(&p, "P 5242880 key=../b.txt", PART_MIN, err,
	    sizeof(err)) < 0, "an unsafe key: refused");
	CHECK(take(&p, "P 5242880 type=x", PART_MIN, err, sizeof(err)) < 0,
	    "no key: refused");
	CHECK(end(&p, &o, "O 1 key=a seqs=1 parts=x", err, sizeof(err)) == -2,
	    "a malformed parts=: refused");
	object_release(&o);
	parts_release(&p);
}

/* The publish-time range pt=MIN-MAX of the frame, or none. */
static int
pt_of(const char *hdr, uint64_t *min, uint64_t *max)
{
	struct frame f;
	struct object o;
	const char *why;
	char err[256];
	int has;

	frame_init(&f);
	object_init(&o);
	if (frame_parse_header(&f, hdr, strlen(hdr), 100, &why) < 0 ||
	    object_parse(&o, &f, err, sizeof(err)) < 0)
		has = -1;
	else {
		has = o.has_pt;
		*min = o.pt_min;
		*max = o.pt_max;
	}
	object_release(&o);
	frame_release(&f);
	return has;
}

static void
test_pt(void)
{
	uint64_t a = 0, b = 0;

	CHECK(pt_of("O 0 key=a seqs=1 pt=1764547200000-1764547201000", &a,
	    &b) == 1 && a == 1764547200000ULL && b == 1764547201000ULL,
	    "pt=MIN-MAX");
	CHECK(pt_of("O 0 key=a seqs=1 pt=5-5", &a, &b) == 1 && a == 5 &&
	    b == 5, "one message");
	CHECK(pt_of("O 0 key=a seqs=1", &a, &b) == 0, "no pt=: no lag");
	CHECK(pt_of("O 0 key=a seqs=1 pt=1764547200000", &a, &b) == 0,
	    "an old frame's single pt=: no lag, still taken");
	CHECK(pt_of("O 0 key=a seqs=1 pt=9-5", &a, &b) == 0,
	    "MIN above MAX: no lag");
	CHECK(pt_of("O 0 key=a seqs=1 pt=1-x", &a, &b) == 0,
	    "malformed: no lag, still taken");
}

static void
test_xml(void)
{
	static const char err[] = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	    "<Error><Code>SlowDown</Code><Message>Please &lt;slow&gt; "
	    "down &amp; retry&#33;</Message></Error>";
	static const char init[] = "<InitiateMultipartUploadResult "
	    "xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Bucket>b"
	    "</Bucket><UploadId>abc123</UploadId>"
	    "</InitiateMultipartUploadResult>";
	struct buf b = BUF_INIT;

	CHECK(xml_root_is(err, strlen(err), "Error"), "root is Error");
	CHECK(!xml_root_is(init, strlen(init), "Error"), "root is not Error");
	CHECK(xml_root_is(init, strlen(init),
	    "InitiateMultipartUploadResult"), "root with attributes");
	CHECK(xml_text(err, strlen(err), "Code", &b) == 1, "Code found");
	CHECK_STR(b.data, "SlowDown", "Code text");
	buf_reset(&b);
	xml_text(err, strlen(err), "Message", &b);
	CHECK_STR(b.data, "Please <slow> down & retry!", "entities decoded");
	buf_reset(&b);
	CHECK(xml_text(init, strlen(init), "UploadId", &b) == 1 &&
	    strcmp(b.data, "abc123") == 0, "UploadId");
	buf_reset(&b);
	CHECK(xml_text(init, strlen(init), "Upload", &b) == 0,
	    "a tag name's prefix does not match");
	CHECK(xml_text("<a><b>x", 7, "b", &b) == 0, "unclosed element");
	buf_release(&b);
}

/* Only deliver's own temporary names carry a PID the sweep may act on. */
static void
test_temp_names(void)
{
	CHECK(local_temp_pid(".1-0.jsonl.gz.13899.8.tmp") == 13899,
	    "temporary name: its PID");
	CHECK(local_temp_pid(".a.b.c.42.0.tmp") == 42, "dots in NAME");
	CHECK(local_temp_pid("1-0.jsonl.gz.13899.8.tmp") == 0, "not hidden");
	CHECK(local_temp_pid(".x.13899.tmp") == 0, "no serial");
	CHECK(local_temp_pid("..13899.8.tmp") == 0, "empty NAME");
	CHECK(local_temp_pid(".x.13899.8.tmpx") == 0, "not .tmp");
	CHECK(local_temp_pid(".x.0.8.tmp") == 0, "PID 0");
	CHECK(local_temp_pid(".x.99999999999999999999.8.tmp") == 0,
	    "PID out of range");
	CHECK(local_temp_pid(".tmp") == 0 && local_temp_pid("") == 0,
	    "short names");
}

/* Index entry names: safe, sorted, and read back. */
static void
test_manifest(void)
{
	struct manifest m, back;
	struct buf b = BUF_INIT, line = BUF_INIT;
	struct msgid a, z;
	char why[256];

	manifest_topic_dir(&b, "persistent://t/ns/orders-partition-2", 36);
	CHECK_STR(b.data, "_lakepipe/index/persistent/t/ns/orders-partition-2/",
	    "topic dir");
	buf_reset(&b);
	manifest_topic_dir(&b, "a/../b//c d", 11);
	CHECK_STR(b.data, "_lakepipe/index/a/_/b/_/c_d/", "dots, empties and "
	    "spaces made safe");
	buf_reset(&b);
	manifest_topic_dir(&b, "..", 2);
	CHECK_STR(b.data, "_lakepipe/index/_/", "a topic of dots");
	CHECK(manifest_name_range("00000000000000000007.00000000000000000000."
	    "0000000000_00000000000000000007.00000000000000000009.0000000004",
	    &a, &z) == 0 && a.ledger == 7 && a.entry == 0 && a.batch == -1 &&
	    z.entry == 9 && z.batch == 3, "entry name: the range");
	CHECK(manifest_name_range("7-0--1--1.jsonl.gz", &a, &z) < 0,
	    "a data key is not an entry name");
	manifest_init(&m);
	manifest_init(&back);
	buf_addstr(&m.key, "t/2026/x.jsonl.gz");
	buf_addstr(&m.topic, "persistent://t/ns/o p");
	m.first = (struct msgid){ 7, 0, 2, -1 };
	m.last = (struct msgid){ 7, 9, 2, 3 };
	m.prev = (struct msgid){ 6, 99, 2, -1 };
	m.has_prev = 1;
	m.n = 13;
	m.size = 100;
	m.crc = 18446744073709551615ULL;
	manifest_format(&line, &m);
	CHECK(manifest_parse(&back, line.data, line.len, why, sizeof(why)) ==
	    0 && strcmp(back.topic.data, "persistent://t/ns/o p") == 0 &&
	    back.has_prev && back.prev.entry == 99 && back.last.batch == 3 &&
	    back.crc == m.crc && back.n == 13, "an index line read back");
	back.size = 101;
	back.crc = 7;
	CHECK(manifest_same_messages(&m, &back), "other bytes, the same "
	    "messages");
	back.n = 0;
	CHECK(manifest_same_messages(&m, &back), "a count unknown");
	back.n = 12;
	CHECK(!manifest_same_messages(&m, &back), "another count");
	back.n = 13;
	back.last.batch = 2;
	CHECK(!manifest_same_messages(&m, &back), "another last message");
	back.last.batch = 3;
	back.first.partition = 1;
	CHECK(!manifest_same_messages(&m, &back), "another partition");
	buf_reset(&b);
	manifest_index_key(&b, &m);
	CHECK(strstr(b.data, "/o_p/00000000000000000007.00000000000000000000."
	    "0000000000_00000000000000000007.00000000000000000009.0000000004")
	    != NULL, "index key");
	CHECK(manifest_parse(&back, "I key=a topic=t", 15, why,
	    sizeof(why)) < 0, "an index line without its ranges");
	manifest_release(&m);
	manifest_release(&back);
	buf_release(&b);
	buf_release(&line);
}

int
main(void)
{
	test_manifest();
	test_dest();
	test_keys();
	test_object();
	test_parts();
	test_pt();
	test_xml();
	test_temp_names();
	return unit_done();
}
