/* unit: deliver/sign.c deliver/digest.c */
/*
 * Unit tests of deliver's signatures and checksums.
 *
 *	test-sign		the built-in vectors (TAP)
 *	test-sign --vectors	also check each line of stdin, in the format
 *				of tests/peers/sign-vectors.js (t6050)
 *	test-sign --crc64|--md5|--sha256 FILE...
 *				print each file's checksum, computed over
 *				odd-sized chunks, as crc64.js (crc64: also
 *				through crc64_combine) or md5sum/sha256sum do
 *
 * Sources of the expected values, all hard-coded here:
 * - COS "Request Signature" documentation (cloud.tencent.com/document/
 *   product/436/7778), examples "upload an object" and "download an
 *   object", with the documentation's example SecretId and SecretKey.
 * - AWS S3 API reference, "Signature Calculations for the Authorization
 *   Header: Transferring Payload in a Single Chunk (AWS Signature Version
 *   4)", its four examples (GET Object, PUT Object, GET Bucket Lifecycle,
 *   Get Bucket (List Objects)), with AWS's example credentials.
 * - cos-nodejs-sdk-v5 3.0.0 COS.getAuthorization and @smithy/signature-v4
 *   5.7 (the AWS SDK's signer), run by node on the test credentials of
 *   tests/peers/s3 (tests/peers/s3/vectors.js, or node by hand for the
 *   edge cases).
 * - RFC 4231 (HMAC-SHA256), RFC 4648 (base64), CRC-64/XZ's check value.
 */
#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "../../deliver/digest.h"
#include "pct.h"
#include "../../deliver/sign.h"
#include "unit.h"

#define MAXKV	8

struct vec {
	const char	*what;
	const char	*id, *secret, *token;
	const char	*method, *path;
	struct sign_kv	 query[MAXKV];
	struct sign_kv	 headers[MAXKV];
	long long	 t1, t2;	/* COS: start, end; SigV4: now */
	const char	*region;	/* SigV4 only */
	const char	*payload;	/* SigV4 only; NULL: unsigned */
	const char	*want;		/* the whole Authorization value */
};

static size_t
count_kv(const struct sign_kv *kv)
{
	size_t n = 0;

	while (n < MAXKV && kv[n].name != NULL)
		n++;
	return n;
}

static void
request_of(struct sign_request *req, const struct vec *v)
{
	memset(req, 0, sizeof(*req));
	req->method = v->method;
	req->path = v->path;
	req->query = v->query;
	req->nquery = count_kv(v->query);
	req->headers = v->headers;
	req->nheaders = count_kv(v->headers);
}

static void
check_cos(const struct vec *v)
{
	struct sign_creds creds = { v->id, v->secret, v->token };
	struct sign_request req;
	struct buf auth = BUF_INIT;

	request_of(&req, v);
	sign_cos_authorization(&auth, &creds, &req, v->t1, v->t2);
	CHECK_STR(auth.data, v->want, v->what);
	buf_release(&auth);
}

static void
check_v4(const struct vec *v)
{
	struct sign_creds creds = { v->id, v->secret, v->token };
	struct sign_v4_scope scope = { v->region, "s3" };
	struct sign_request req;
	struct buf auth = BUF_INIT;

	request_of(&req, v);
	sign_v4_authorization(&auth, &creds, &req, &scope, v->payload, v->t1);
	CHECK_STR(auth.data, v->want, v->what);
	buf_release(&auth);
}

/* The COS documentation's example account. */
#define DOC_ID		"AKIDQjz3ltompVjBni5LitkWHFlFpwkn9U5q"
#define DOC_KEY		"BQYIM75p8x0iWVFSIgqEKwFprpRSVHlz"
#define DOC_HOST	"examplebucket-1250000000.cos.ap-beijing.myqcloud.com"
/* tests/peers/s3's test accounts (public test values). */
#define T_ID		"AKIDLAKEPIPETEST00000000000000000001"
#define T_KEY		"LakepipeTestSecretKey000000000001"
#define TMP_ID		"AKIDLAKEPIPETMPKEY0000000000000000002"
#define TMP_KEY		"LakepipeTestTmpSecretKey00000002"
#define TMP_TOKEN	"lakepipe-test-session-token-0002"
#define T_HOST		"examplebucket-1250000000.cos.ap-guangzhou.myqcloud.com"
#define T_TIMES		1700000000, 1700003600
#define T_AUTH(hl, pl, sig) \
	"q-sign-algorithm=sha1&q-ak=" T_ID "&q-sign-time=1700000000;" \
	"1700003600&q-key-time=1700000000;1700003600&q-header-list=" hl \
	"&q-url-param-list=" pl "&q-signature=" sig

static const struct vec cos_vectors[] = {
	{ "COS docs: upload an object (PUT)", DOC_ID, DOC_KEY, NULL,
	    "PUT", "/exampleobject(\xe8\x85\xbe\xe8\xae\xaf\xe4\xba\x91)",
	    { { NULL } },
	    { { "Date", "Thu, 16 May 2019 06:45:51 GMT" },
	      { "Host", DOC_HOST }, { "Content-Type", "text/plain" },
	      { "Content-Length", "13" },
	      { "Content-MD5", "mQ/fVh815F3k6TAUm8m0eg==" },
	      { "x-cos-acl", "private" },
	      { "x-cos-grant-read", "uin=\"100000000011\"" } },
	    1557989151, 1557996351, NULL, NULL,
	    "q-sign-algorithm=sha1&q-ak=" DOC_ID "&q-sign-time=1557989151;"
	    "1557996351&q-key-time=1557989151;1557996351&q-header-list="
	    "content-length;content-md5;content-type;date;host;x-cos-acl;"
	    "x-cos-grant-read&q-url-param-list=&q-signature="
	    "3b8851a11a569213c17ba8fa7dcf2abec6935172" },
	{ "COS docs: download an object (GET, response-* parameters)",
	    DOC_ID, DOC_KEY, NULL,
	    "GET", "/exampleobject(\xe8\x85\xbe\xe8\xae\xaf\xe4\xba\x91)",
	    { { "response-content-type", "application/octet-stream" },
	      { "response-cache-control", "max-age=600" } },
	    { { "Date", "Thu, 16 May 2019 06:55:53 GMT" },
	      { "Host", DOC_HOST } },
	    1557989753, 1557996953, NULL, NULL,
	    "q-sign-algorithm=sha1&q-ak=" DOC_ID "&q-sign-time=1557989753;"
	    "1557996953&q-key-time=1557989753;1557996953&q-header-list="
	    "date;host&q-url-param-list=response-cache-control;"
	    "response-content-type&q-signature="
	    "01681b8c9d798a678e43b685a9f1bba0f6c0e012" },
	{ "COS SDK: key with space + ( ) * ! ' ~ ; , $ @ & =", T_ID, T_KEY,
	    NULL, "put", "/lake/dt=2024-01-02/part 1+(a)*!'~;,$@&.json.gz",
	    { { NULL } },
	    { { "host", T_HOST }, { "content-length", "0" } },
	    T_TIMES, NULL, NULL,
	    T_AUTH("content-length;host", "",
	    "54ea21ca26b0213a158c04ae5a7e180ae4b630cd") },
	{ "COS SDK: UTF-8 key", T_ID, T_KEY, NULL, "put",
	    "/\xe6\x95\xb0\xe6\x8d\xae/\xe6\x96\x87\xe4\xbb\xb6 \xc3\xbc.csv",
	    { { NULL } },
	    { { "host", T_HOST },
	      { "content-type", "text/csv; charset=utf-8" },
	      { "content-length", "5" } },
	    T_TIMES, NULL, NULL,
	    T_AUTH("content-length;content-type;host", "",
	    "d6c24b362be31b3850d46f084c770085b481a4bf") },
	{ "COS SDK: x-cos-meta-* and storage class", T_ID, T_KEY, NULL,
	    "put", "/lake/a.json", { { NULL } },
	    { { "host", T_HOST }, { "content-length", "12" },
	      { "x-cos-meta-seqs", "1-100,200-300" },
	      { "x-cos-meta-First-Id", "12:34:-1:0" },
	      { "x-cos-storage-class", "STANDARD" } },
	    T_TIMES, NULL, NULL,
	    T_AUTH("content-length;host;x-cos-meta-first-id;x-cos-meta-seqs;"
	    "x-cos-storage-class", "",
	    "cbf84dcb98378227122b4a145707e83060027a87") },
	{ "COS SDK: ?uploads (parameter without value)", T_ID, T_KEY, NULL,
	    "post", "/lake/big.parquet", { { "uploads", NULL } },
	    { { "host", T_HOST },
	      { "content-type", "application/octet-stream" } },
	    T_TIMES, NULL, NULL,
	    T_AUTH("content-type;host", "uploads",
	    "eff5744161538e9c82c2bc3a5099e3a47df042e9") },
	{ "COS SDK: upload part (partNumber, uploadId lower-cased)",
	    T_ID, T_KEY, NULL, "put", "/lake/big.parquet",
	    { { "uploadId", "1585130821cbb7df1d11846c073ad648e8f33b087cec23"
	      "81df437acdc833cf654b9ecc6361" }, { "partNumber", "3" } },
	    { { "host", T_HOST }, { "content-length", "1048576" } },
	    T_TIMES, NULL, NULL,
	    T_AUTH("content-length;host", "partnumber;uploadid",
	    "3e6e7fd099d2a540f18b600113d006f7f8387180") },
	{ "COS SDK: x-cos-security-token signed", TMP_ID, TMP_KEY, TMP_TOKEN,
	    "put", "/lake/tmp.json", { { NULL } },
	    { { "host", T_HOST }, { "content-length", "2" } },
	    T_TIMES, NULL, NULL,
	    "q-sign-algorithm=sha1&q-ak=" TMP_ID "&q-sign-time=1700000000;"
	    "1700003600&q-key-time=1700000000;1700003600&q-header-list="
	    "content-length;host;x-cos-security-token&q-url-param-list="
	    "&q-signature=e5f78d04c0bec1b929a25e697b84ef1c5e72af53" },
	{ "COS SDK: empty key (bucket root)", T_ID, T_KEY, NULL, "put", "/",
	    { { NULL } }, { { "host", T_HOST } }, T_TIMES, NULL, NULL,
	    T_AUTH("host", "", "772c093d4aba746b328e026fd12dd4d714552f8c") },
	{ "COS SDK: empty path taken as /", T_ID, T_KEY, NULL, "put", "",
	    { { NULL } }, { { "host", T_HOST } }, T_TIMES, NULL, NULL,
	    T_AUTH("host", "", "772c093d4aba746b328e026fd12dd4d714552f8c") },
	{ "COS SDK: runs of / in the key", T_ID, T_KEY, NULL, "put",
	    "/a//b///c/", { { NULL } }, { { "host", T_HOST } }, T_TIMES,
	    NULL, NULL,
	    T_AUTH("host", "", "cd327e2635b5246adca18a6f6c178e7c18dfab99") },
	{ "COS SDK: query value with = and &", T_ID, T_KEY, NULL, "put",
	    "/lake/x.json",
	    { { "uploadId", "a=b&c=d" }, { "partNumber", "1" } },
	    { { "host", T_HOST } }, T_TIMES, NULL, NULL,
	    T_AUTH("host", "partnumber;uploadid",
	    "0a972d75ccd1e2c607abbcb81ebc171eb8331e0a") },
	{ "COS SDK: header values trimmed, inner spaces kept", T_ID, T_KEY,
	    NULL, "put", "/lake/x.json", { { NULL } },
	    { { "host", T_HOST }, { "x-cos-meta-note", " \ta  b \t" },
	      { "Content-Type", "  application/json " } },
	    T_TIMES, NULL, NULL,
	    T_AUTH("content-type;host;x-cos-meta-note", "",
	    "f3e02586595d1360b2d3c8f0670b6a747f2c723a") },
};

/* AWS's example account and time (2013-05-24T00:00:00Z). */
#define AWS_ID		"AKIAIOSFODNN7EXAMPLE"
#define AWS_KEY		"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
#define AWS_HOST	"examplebucket.s3.amazonaws.com"
#define AWS_NOW		1369353600
#define AWS_AUTH(sh, sig) \
	"AWS4-HMAC-SHA256 Credential=" AWS_ID "/20130524/us-east-1/s3/" \
	"aws4_request, SignedHeaders=" sh ", Signature=" sig
/* 2024-01-02T03:04:05Z, the time of tests/peers/s3/vectors.js. */
#define V_NOW		1704164645
#define V_AUTH(id, region, sh, sig) \
	"AWS4-HMAC-SHA256 Credential=" id "/20240102/" region "/s3/" \
	"aws4_request, SignedHeaders=" sh ", Signature=" sig
#define EMPTY		SHA256_EMPTY_HEX

static const struct vec v4_vectors[] = {
	{ "AWS docs: GET Object (Range)", AWS_ID, AWS_KEY, NULL,
	    "GET", "/test.txt", { { NULL } },
	    { { "Host", AWS_HOST }, { "Range", "bytes=0-9" } },
	    AWS_NOW, 0, "us-east-1", EMPTY,
	    AWS_AUTH("host;range;x-amz-content-sha256;x-amz-date",
	    "f0e8bdb87c964420e857bd35b5d6ed31"
	    "0bd44f0170aba48dd91039c6036bdb41") },
	{ "AWS docs: PUT Object (test$file.text)", AWS_ID, AWS_KEY, NULL,
	    "PUT", "/test$file.text", { { NULL } },
	    { { "Host", AWS_HOST },
	      { "Date", "Fri, 24 May 2013 00:00:00 GMT" },
	      { "x-amz-storage-class", "REDUCED_REDUNDANCY" } },
	    AWS_NOW, 0, "us-east-1",
	    "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072",
	    AWS_AUTH("date;host;x-amz-content-sha256;x-amz-date;"
	    "x-amz-storage-class",
	    "98ad721746da40c64f1a55b78f14c238"
	    "d841ea1380cd77a1b5971af0ece108bd") },
	{ "AWS docs: GET Bucket Lifecycle (?lifecycle)", AWS_ID, AWS_KEY,
	    NULL, "GET", "/", { { "lifecycle", NULL } },
	    { { "Host", AWS_HOST } }, AWS_NOW, 0, "us-east-1", EMPTY,
	    AWS_AUTH("host;x-amz-content-sha256;x-amz-date",
	    "fea454ca298b7da1c68078a5d1bdbfbb"
	    "e0d65c699e0f91ac7a200a0136783543") },
	{ "AWS docs: Get Bucket (List Objects), query sorted", AWS_ID,
	    AWS_KEY, NULL, "GET", "/",
	    { { "prefix", "J" }, { "max-keys", "2" } },
	    { { "Host", AWS_HOST } }, AWS_NOW, 0, "us-east-1", EMPTY,
	    AWS_AUTH("host;x-amz-content-sha256;x-amz-date",
	    "34b48302e7b5fa45bde8084f4b7868a8"
	    "6f0a534bc59db6670ed5711ef69dc6f7") },
	{ "smithy: key with = space + ( ) * ! ~", T_ID, T_KEY, NULL, "PUT",
	    "/lake/dt=2024-01-02/part 1+(a)*!~.json.gz", { { NULL } },
	    { { "host", T_HOST }, { "content-length", "0" } },
	    V_NOW, 0, "ap-guangzhou", EMPTY,
	    V_AUTH(T_ID, "ap-guangzhou",
	    "content-length;host;x-amz-content-sha256;x-amz-date",
	    "64994efa13a5a759e9939f789e3903e8"
	    "264d6e7df98209db6ee896f776d9c52e") },
	{ "smithy: UTF-8 key", T_ID, T_KEY, NULL, "PUT",
	    "/\xe6\x95\xb0\xe6\x8d\xae/\xe6\x96\x87\xe4\xbb\xb6 \xc3\xbc.csv",
	    { { NULL } },
	    { { "host", T_HOST }, { "content-length", "0" } },
	    V_NOW, 0, "ap-guangzhou", EMPTY,
	    V_AUTH(T_ID, "ap-guangzhou",
	    "content-length;host;x-amz-content-sha256;x-amz-date",
	    "703493d2911b12dd2acc1beaddd79eba"
	    "8fed72a7aadd0ecb566a6c861b717101") },
	{ "smithy: POST ?uploads", T_ID, T_KEY, NULL, "POST",
	    "/lake/big.parquet", { { "uploads", NULL } },
	    { { "host", T_HOST } }, V_NOW, 0, "ap-guangzhou", EMPTY,
	    V_AUTH(T_ID, "ap-guangzhou", "host;x-amz-content-sha256;x-amz-date",
	    "6763d4c62bc134c6cd97ce095a5b84d3"
	    "30fd10549c12cb6d9fdee397af14b9c2") },
	{ "smithy: upload part, UNSIGNED-PAYLOAD, / and + in a value",
	    T_ID, T_KEY, NULL, "PUT", "/lake/big.parquet",
	    { { "uploadId", "abc/def+ghi" }, { "partNumber", "3" } },
	    { { "host", T_HOST }, { "content-length", "1048576" } },
	    V_NOW, 0, "ap-guangzhou", NULL,
	    V_AUTH(T_ID, "ap-guangzhou",
	    "content-length;host;x-amz-content-sha256;x-amz-date",
	    "1b99cd5e3b2106389a9511a941a246f2"
	    "8aecc703f9af60cd7623e0cc25ac1057") },
	{ "smithy: x-amz-security-token signed", TMP_ID, TMP_KEY, TMP_TOKEN,
	    "PUT", "/lake/tmp.json", { { NULL } },
	    { { "host", "test.localhost:9000" }, { "content-length", "2" } },
	    V_NOW, 0, "ap-guangzhou",
	    "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a",
	    V_AUTH(TMP_ID, "ap-guangzhou", "content-length;host;"
	    "x-amz-content-sha256;x-amz-date;x-amz-security-token",
	    "e9722852ad5d33825fd26b5d18bbe1a0"
	    "f92a5432382b5d074c8101e6166917a6") },
	{ "smithy: path-style, x-amz-meta-*", T_ID, T_KEY, NULL, "PUT",
	    "/test/lake/a.json", { { NULL } },
	    { { "host", "127.0.0.1:9000" }, { "content-length", "2" },
	      { "x-amz-meta-seqs", "1-100" },
	      { "content-type", "application/json" } },
	    V_NOW, 0, "us-east-1", NULL,
	    V_AUTH(T_ID, "us-east-1", "content-length;content-type;host;"
	    "x-amz-content-sha256;x-amz-date;x-amz-meta-seqs",
	    "3d1469d0a69e1d626666e312f5f279b5"
	    "0e43c6b49ed93f6345055ce03f83b0cc") },
	{ "smithy: empty key", T_ID, T_KEY, NULL, "PUT", "/", { { NULL } },
	    { { "host", AWS_HOST } }, V_NOW, 0, "us-east-1", NULL,
	    V_AUTH(T_ID, "us-east-1", "host;x-amz-content-sha256;x-amz-date",
	    "ba857f35ba3ef9c0d83b2827b89f3d91"
	    "8271f7d903e2737c5b3e71b1ee091f39") },
	{ "smithy: runs of / in the key (not normalized)", T_ID, T_KEY, NULL,
	    "PUT", "/a//b///c/", { { NULL } },
	    { { "host", AWS_HOST } }, V_NOW, 0, "us-east-1", NULL,
	    V_AUTH(T_ID, "us-east-1", "host;x-amz-content-sha256;x-amz-date",
	    "e031f4b591fca4539926a35393bb278d"
	    "8efe516bc0485a35f4ebb35cb4383d8e") },
	{ "smithy: query value with = and &", T_ID, T_KEY, NULL, "PUT",
	    "/lake/x.json",
	    { { "uploadId", "a=b&c=d" }, { "partNumber", "1" } },
	    { { "host", AWS_HOST } }, V_NOW, 0, "us-east-1", NULL,
	    V_AUTH(T_ID, "us-east-1", "host;x-amz-content-sha256;x-amz-date",
	    "65f00a9a6039516f2bdf9bfceda41cff"
	    "ea8bee1b0194b03306b98882859e2c07") },
	{ "smithy: header values trimmed, space runs folded", T_ID, T_KEY,
	    NULL, "put", "/lake/x.json", { { NULL } },
	    { { "Host", AWS_HOST }, { "X-Amz-Meta-Note", "  a   b  " },
	      { "content-type", "application/json" } },
	    V_NOW, 0, "us-east-1", NULL,
	    V_AUTH(T_ID, "us-east-1", "content-type;host;"
	    "x-amz-content-sha256;x-amz-date;x-amz-meta-note",
	    "4fa8e2e88b9f0ffbf4c7d4e2cd000b1d"
	    "ce24f8b6f6ee9a9c239a306846621304") },
};

static void
test_crc64(void)
{
	const char *s = "123456789";
	uint64_t crc, a, b;
	char dec[CRC64_DEC_SIZE];
	size_t i, cut;
	char big[3000];

	crc = crc64_update(0, s, 9);
	crc64_format(dec, crc);
	CHECK_STR(dec, "11051210869376104954", "crc64: check value");
	CHECK(crc64_update(0, "", 0) == 0, "crc64: empty is 0");

	crc = 0;
	for (i = 0; i < 9; i++)
		crc = crc64_update(crc, s + i, 1);
	crc64_format(dec, crc);
	CHECK_STR(dec, "11051210869376104954", "crc64: byte by byte");

	for (i = 0; i < sizeof(big); i++)
		big[i] = (char)(i * 7 + i / 13);
	crc = crc64_update(0, big, sizeof(big));
	for (cut = 0; cut <= sizeof(big); cut += 499) {
		a = crc64_update(0, big, cut);
		b = crc64_update(0, big + cut, sizeof(big) - cut);
		if (crc64_combine(a, b, sizeof(big) - cut) != crc)
			break;
		if (crc64_update(a, big + cut, sizeof(big) - cut) != crc)
			break;
	}
	CHECK(cut > sizeof(big), "crc64: combine and continue at any cut");
	a = crc64_update(0, "12345", 5);
	b = crc64_update(0, "6789", 4);
	crc64_format(dec, crc64_combine(a, b, 4));
	CHECK_STR(dec, "11051210869376104954", "crc64: combine 12345|6789");
	CHECK(crc64_combine(a, 0, 0) == a, "crc64: combine with nothing");
	crc64_format(dec, UINT64_MAX);
	CHECK_STR(dec, "18446744073709551615", "crc64: format max");
}

static void
test_digests(void)
{
	char b64[MD5_B64_SIZE], hex[SHA256_HEX_SIZE], h1[SHA1_HEX_SIZE];
	unsigned char mac[SHA256_LEN], md[SHA256_LEN];
	struct digest d;
	struct buf b = BUF_INIT;
	const char *w = "Welcome to Amazon S3.";
	size_t i;

	md5_base64(b64, "ObjectContent", 13);
	CHECK_STR(b64, "mQ/fVh815F3k6TAUm8m0eg==",
	    "md5 base64 (COS docs' Content-MD5)");
	sha256_hex(hex, w, strlen(w));
	CHECK_STR(hex, "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034"
	    "a8b803f8b072", "sha256 hex (AWS docs' payload)");
	sha256_hex(hex, "", 0);
	CHECK_STR(hex, SHA256_EMPTY_HEX, "sha256 of nothing");

	digest_init(&d, DIGEST_SHA256);
	for (i = 0; w[i] != '\0'; i++)
		digest_update(&d, w + i, 1);
	CHECK(digest_final(&d, md) == SHA256_LEN, "sha256 length");
	hex_format(hex, md, SHA256_LEN);
	CHECK_STR(hex, "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034"
	    "a8b803f8b072", "sha256 incremental");
	digest_init(&d, DIGEST_MD5);
	digest_update(&d, "Object", 6);
	digest_update(&d, "Content", 7);
	CHECK(digest_final(&d, md) == MD5_LEN, "md5 length");
	base64_encode(&b, md, MD5_LEN);
	CHECK_STR(b.data, "mQ/fVh815F3k6TAUm8m0eg==", "md5 incremental");
	digest_init(&d, DIGEST_SHA1);
	digest_free(&d);	/* abandoned: no leak under ASan */

	sha1_hex(h1, "abc", 3);
	CHECK_STR(h1, "a9993e364706816aba3e25717850c26c9cd0d89d", "sha1 hex");
	hmac_sha1(mac, DOC_KEY, strlen(DOC_KEY), "1557989151;1557996351", 21);
	hex_format(h1, mac, SHA1_LEN);
	CHECK_STR(h1, "eb2519b498b02ac213cb1f3d1a3d27a3b3c9bc5f",
	    "hmac-sha1: COS docs' SignKey");
	hmac_sha256(mac, "Jefe", 4, "what do ya want for nothing?", 28);
	hex_format(hex, mac, SHA256_LEN);
	CHECK_STR(hex, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec"
	    "58b964ec3843", "hmac-sha256: RFC 4231 case 2");
	hmac_sha256(mac, "", 0, "", 0);
	hex_format(hex, mac, SHA256_LEN);
	CHECK_STR(hex, "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c7"
	    "12144292c5ad", "hmac-sha256: empty key and data");

	buf_reset(&b);
	base64_encode(&b, "", 0);
	CHECK_STR(b.data, "", "base64: empty");
	base64_encode(&b, "f", 1);
	buf_addch(&b, ' ');
	base64_encode(&b, "fo", 2);
	buf_addch(&b, ' ');
	base64_encode(&b, "foobar", 6);
	CHECK_STR(b.data, "Zg== Zm8= Zm9vYmFy", "base64: RFC 4648 vectors");
	buf_reset(&b);
	hex_encode(&b, "\x00\xff\x10", 3);
	CHECK_STR(b.data, "00ff10", "hex: lower case");
	buf_release(&b);
}

/* One pass over a body for the sums a store wants, and only those. */
static void
test_body_sums(void)
{
	char big[100000], hex[SHA256_HEX_SIZE];
	unsigned char md5[MD5_LEN], sha[SHA256_LEN], sha2[SHA256_LEN];
	struct body_sums b;
	const char *w = "Welcome to Amazon S3.";
	uint64_t crc = 1;
	size_t i;

	memset(md5, 0xaa, sizeof(md5));
	digest_body(w, strlen(w), NULL, sha, &crc);
	hex_format(hex, sha, SHA256_LEN);
	CHECK_STR(hex, "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034"
	    "a8b803f8b072", "body sums: SHA-256 without MD5");
	CHECK(crc == crc64_update(0, w, strlen(w)), "body sums: CRC-64");
	digest_body("ObjectContent", 13, md5, NULL, NULL);
	hex_format(hex, md5, MD5_LEN);
	CHECK_STR(hex, "990fdf561f35e45de4e930149bc9b47a",
	    "body sums: MD5 without SHA-256");

	/* pieces larger than the pass's own, in uneven chunks */
	for (i = 0; i < sizeof(big); i++)
		big[i] = (char)(i * 7 + i / 251);
	digest_body(big, sizeof(big), NULL, sha, &crc);
	body_sums_init(&b, SUM_SHA256);
	body_sums_add(&b, big, 1);
	body_sums_add(&b, big + 1, 70000);
	body_sums_add(&b, big + 70001, sizeof(big) - 70001);
	CHECK(b.len == sizeof(big) && b.crc == crc, "body sums: CRC in pieces");
	body_sums_final(&b, NULL, sha2);
	CHECK(memcmp(sha, sha2, SHA256_LEN) == 0, "body sums: SHA-256 in pieces");
	body_sums_init(&b, SUM_MD5 | SUM_SHA256);
	body_sums_add(&b, big, 10);
	body_sums_free(&b);	/* abandoned: no leak under ASan */
}

static void
test_hex_decode(void)
{
	unsigned char md[4];

	CHECK(hex_decode(md, 4, "00fFa19B", 8) == 0 && md[0] == 0 &&
	    md[1] == 0xff && md[2] == 0xa1 && md[3] == 0x9b,
	    "hex decode: either case");
	CHECK(hex_decode(md, 4, "00ffa19", 7) < 0, "hex decode: too short");
	CHECK(hex_decode(md, 4, "00ffa19b0", 9) < 0, "hex decode: too long");
	CHECK(hex_decode(md, 4, "00ffa1-3", 8) < 0,
	    "hex decode: not a hex digit (a multipart ETag)");
	CHECK(hex_decode(md, 4, "00ff a19", 8) < 0, "hex decode: a space");
}

static void
test_encode(void)
{
	struct buf b = BUF_INIT;
	struct sign_kv q[] = { { "partNumber", "1" }, { "uploadId", "a=b&c" },
	    { "uploads", NULL }, { "e", "" } };

	sign_encode_path(&b, "/a b/+(x)/\xc3\xbc//~");
	CHECK_STR(b.data, "/a%20b/%2B%28x%29/%C3%BC//~",
	    "encode path: each segment once, / and runs of / kept");
	buf_reset(&b);
	sign_encode_query(&b, q, 4);
	CHECK_STR(b.data, "partNumber=1&uploadId=a%3Db%26c&uploads&e=",
	    "encode query: in order, bare names stay bare");
	buf_release(&b);
}

/* What sign_cos and sign_v4 add, and what a trace shows. */
static void
test_headers(void)
{
	struct sign_creds tmp = { TMP_ID, TMP_KEY, TMP_TOKEN };
	struct sign_creds plain = { T_ID, T_KEY, "" };
	struct sign_kv h[] = { { "Host", T_HOST } };
	struct buf trace = BUF_INIT, auth = BUF_INIT;
	struct sign_request req = { "PUT", "/k", NULL, 0, h, 1, &trace };
	struct sign_v4_scope scope = { "ap-guangzhou", NULL };
	struct sign_headers out = SIGN_HEADERS_INIT;
	const char *v;

	sign_cos(&out, &tmp, &req, T_TIMES);
	CHECK(out.n == 2, "sign_cos with a token: two lines");
	CHECK_STR(sign_headers_get(&out, "X-Cos-Security-Token"), TMP_TOKEN,
	    "sign_cos: the token header");
	v = sign_headers_get(&out, "authorization");
	CHECK(v != NULL && strncmp(v, "q-sign-algorithm=sha1&", 22) == 0,
	    "sign_cos: the Authorization line");
	sign_cos_authorization(&auth, &tmp, &req, T_TIMES);
	CHECK_STR(v, auth.data, "sign_cos agrees with sign_cos_authorization");
	CHECK(strstr(trace.data, "x-cos-security-token=<token>") != NULL &&
	    strstr(trace.data, TMP_TOKEN) == NULL,
	    "trace: the token is redacted");
	CHECK(strstr(trace.data, TMP_KEY) == NULL, "trace: no secret key");
	sign_headers_free(&out);
	CHECK(out.n == 0 && out.line == NULL, "sign_headers_free resets");

	buf_reset(&trace);
	buf_reset(&auth);
	sign_v4(&out, &tmp, &req, &scope, NULL, V_NOW);
	CHECK(out.n == 4, "sign_v4 with a token: four lines");
	CHECK_STR(sign_headers_get(&out, "x-amz-date"), "20240102T030405Z",
	    "sign_v4: x-amz-date");
	CHECK_STR(sign_headers_get(&out, "x-amz-content-sha256"),
	    "UNSIGNED-PAYLOAD", "sign_v4: unsigned payload");
	CHECK_STR(sign_headers_get(&out, "x-amz-security-token"), TMP_TOKEN,
	    "sign_v4: the token header");
	sign_v4_authorization(&auth, &tmp, &req, &scope, NULL, V_NOW);
	CHECK_STR(sign_headers_get(&out, "Authorization"), auth.data,
	    "sign_v4 agrees with sign_v4_authorization");
	CHECK(strstr(trace.data, "x-amz-security-token:<token>\n") != NULL &&
	    strstr(trace.data, TMP_TOKEN) == NULL,
	    "trace: the token is redacted (SigV4)");
	CHECK(strstr(trace.data, "\n20240102/ap-guangzhou/s3/aws4_request\n")
	    != NULL, "sign_v4: service defaults to s3");
	sign_headers_free(&out);

	sign_cos(&out, &plain, &req, T_TIMES);
	CHECK(out.n == 1 && sign_headers_get(&out, "x-cos-security-token") ==
	    NULL, "sign_cos: an empty token adds no header");
	sign_headers_free(&out);
	buf_release(&trace);
	buf_release(&auth);
}

/* A path without its leading '/' signs as if it had it. */
static void
test_leading_slash(void)
{
	struct sign_creds creds = { T_ID, T_KEY, NULL };
	struct sign_kv h[] = { { "host", T_HOST } };
	struct sign_request with = { "PUT", "/a//b c", NULL, 0, h, 1, NULL };
	struct sign_request without = with;
	struct sign_v4_scope scope = { "us-east-1", "s3" };
	struct buf a = BUF_INIT, b = BUF_INIT;

	without.path = "a//b c";
	sign_cos_authorization(&a, &creds, &with, T_TIMES);
	sign_cos_authorization(&b, &creds, &without, T_TIMES);
	CHECK_STR(b.data, a.data, "COS: missing leading / added");
	buf_reset(&a);
	buf_reset(&b);
	sign_v4_authorization(&a, &creds, &with, &scope, NULL, V_NOW);
	sign_v4_authorization(&b, &creds, &without, &scope, NULL, V_NOW);
	CHECK_STR(b.data, a.data, "SigV4: missing leading / added");
	buf_release(&a);
	buf_release(&b);
}

/* ------------------------------------------------ stdin vectors (t6050) */

/* Decode one field of a vector line into a new string. */
static char *
field(const char *s)
{
	struct buf b = BUF_INIT;

	if (pct_decode(&b, s, strlen(s)) < 0)
		errx(1, "vectors: bad escape in \"%s\"", s);
	return buf_detach(&b, NULL);
}

/* "a=1&b&c=2" (each part percent-encoded) into kv; the strings leak. */
static size_t
field_kv(struct sign_kv *kv, char *list)
{
	char *part, *eq;
	size_t n = 0;

	while ((part = strsep(&list, "&")) != NULL) {
		if (*part == '\0')
			continue;
		if (n == MAXKV)
			errx(1, "vectors: more than %d pairs", MAXKV);
		if ((eq = strchr(part, '=')) != NULL)
			*eq++ = '\0';
		kv[n].name = field(part);
		kv[n].value = eq != NULL ? field(eq) : NULL;
		n++;
	}
	return n;
}

static void
free_kv(struct sign_kv *kv, size_t n)
{
	while (n-- > 0) {
		free((char *)kv[n].name);
		free((char *)kv[n].value);
	}
}

static long long
number(const char *s)
{
	const char *e;
	long long v = strtonum(s, 0, 1LL << 40, &e);

	if (e != NULL)
		errx(1, "vectors: time %s is %s", s, e);
	return v;
}

static void
check_line(char *line, size_t lineno)
{
	char *f[13], *p = line, *what;
	struct sign_kv q[MAXKV], h[MAXKV];
	struct sign_creds creds;
	struct sign_request req;
	struct sign_v4_scope scope;
	struct buf auth = BUF_INIT, desc = BUF_INIT;
	size_t n = 0, nq, nh, want, i;
	int cos;

	while (n < 13 && (f[n] = strsep(&p, "\t")) != NULL)
		n++;
	cos = strcmp(f[0], "cos") == 0;
	want = cos ? 11 : 13;
	if (n != want || p != NULL)
		errx(1, "vectors: line %zu: %zu fields, want %zu", lineno, n,
		    want);
	for (i = 1; i < n; i++)
		f[i] = field(f[i]);
	creds = (struct sign_creds){ f[1], f[2], f[3] };
	nq = field_kv(q, f[6]);
	nh = field_kv(h, f[7]);
	req = (struct sign_request){ f[4], f[5], q, nq, h, nh, NULL };
	if (cos)
		sign_cos_authorization(&auth, &creds, &req, number(f[8]),
		    number(f[9]));
	else {
		scope = (struct sign_v4_scope){ f[8], f[9] };
		sign_v4_authorization(&auth, &creds, &req, &scope,
		    *f[11] != '\0' ? f[11] : NULL, number(f[10]));
	}
	/* The line's description: scheme, method and encoded path. */
	buf_addf(&desc, "vector %zu: %s %s ", lineno, f[0], f[4]);
	sign_encode_path(&desc, f[5]);
	what = desc.data;
	CHECK_STR(auth.data, f[n - 1], what);
	for (i = 1; i < n; i++)
		free(f[i]);
	free_kv(q, nq);
	free_kv(h, nh);
	buf_release(&auth);
	buf_release(&desc);
}

static void
check_stdin(void)
{
	char *line = NULL;
	size_t cap = 0, lineno = 0;
	ssize_t len;

	while ((len = getline(&line, &cap, stdin)) != -1) {
		lineno++;
		if (len > 0 && line[len - 1] == '\n')
			line[--len] = '\0';
		if (len == 0 || line[0] == '#')
			continue;
		check_line(line, lineno);
	}
	free(line);
	if (lineno == 0)
		CHECK(0, "vectors: stdin had no line");
}

/* Checksums of files, for comparison with independent programs. */
static int
sum_files(const char *mode, char **files)
{
	unsigned char chunk[4099], md[SHA256_LEN];
	char dec[CRC64_DEC_SIZE], hex[SHA256_HEX_SIZE];
	struct digest d;
	uint64_t crc, joined;
	size_t n, len;
	FILE *fp;
	int sha = strcmp(mode, "--sha256") == 0;

	for (; *files != NULL; files++) {
		if ((fp = fopen(*files, "rb")) == NULL)
			err(1, "%s", *files);
		crc = joined = 0;
		digest_init(&d, sha ? DIGEST_SHA256 : DIGEST_MD5);
		while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0) {
			crc = crc64_update(crc, chunk, n);
			joined = crc64_combine(joined,
			    crc64_update(0, chunk, n), n);
			digest_update(&d, chunk, n);
		}
		if (ferror(fp))
			err(1, "%s", *files);
		fclose(fp);
		len = digest_final(&d, md);
		if (strcmp(mode, "--crc64") == 0) {
			if (joined != crc)
				errx(1, "%s: crc64_combine disagrees", *files);
			crc64_format(dec, crc);
			printf("%s %s\n", dec, *files);
		} else {
			hex_format(hex, md, len);
			printf("%s  %s\n", hex, *files);
		}
	}
	return 0;
}

int
main(int argc, char *argv[])
{
	size_t i;

	if (argc > 2 && (strcmp(argv[1], "--crc64") == 0 ||
	    strcmp(argv[1], "--md5") == 0 || strcmp(argv[1], "--sha256") == 0))
		return sum_files(argv[1], argv + 2);

	for (i = 0; i < sizeof(cos_vectors) / sizeof(cos_vectors[0]); i++)
		check_cos(&cos_vectors[i]);
	for (i = 0; i < sizeof(v4_vectors) / sizeof(v4_vectors[0]); i++)
		check_v4(&v4_vectors[i]);
	test_crc64();
	test_digests();
	test_body_sums();
	test_hex_decode();
	test_encode();
	test_headers();
	test_leading_slash();
	if (argc > 1 && strcmp(argv[1], "--vectors") == 0)
		check_stdin();
	return unit_done();
}
