#!/bin/sh
# deliver cos://: single and multipart uploads through the verifying test
# server (COS signatures checked by Tencent's SDK), keys that need
# encoding, metadata, credentials, and every fault the server injects.
. "$(dirname "$0")/test-lib.sh"
. "$TEST_DIRECTORY/lib-deliver.sh"

B=examplebucket-1250000000
s3_start --bucket $B
URL="cos://$B/lake/?region=ap-guangzhou"
export TENCENTCLOUD_SECRET_ID=$TEST_ID TENCENTCLOUD_SECRET_KEY=$TEST_KEY
unset TENCENTCLOUD_SESSION_TOKEN COS_SECRET_ID COS_SECRET_KEY

# Small parts, so that a few MB make a multipart upload.
dlv() {
	test_timeout 120 deliver --endpoint "http://cos.ap-guangzhou.localhost:$PORT" \
	    --multipart-threshold 1M --part-size 1M --timeout 3 "$@"
}

test_expect_success 'setup: objects with keys that need encoding' '
	printf "{\"a\":1}\n" >small &&
	head -c 3500000 /dev/urandom >big &&
	: >empty &&
	{
		obj "2026/11/27/a%20b+c(1)/ü.jsonl" small type=application/x-ndjson n=1 seqs=1 first=7:0:-1:-1 last=7:0:-1:-1 &&
		obj "2026/11/27/big%20(2)+.jsonl.gz" big type=application/x-ndjson enc=gzip n=3 seqs=2-4 &&
		obj "2026/11/27/none.jsonl" empty type=application/x-ndjson n=0 seqs=5
	} >in.frames &&
	obj "one.txt" small type=text/plain n=1 seqs=1 >one.frames &&
	obj "big.bin" big n=1 seqs=1 >big.frames
'

test_expect_success 'single and multipart uploads land byte for byte' '
	ctl reset >/dev/null &&
	dlv "$URL" <in.frames >acks &&
	stored_is $B "lake/2026/11/27/a b+c(1)/ü.jsonl" small &&
	stored_is $B "lake/2026/11/27/big (2)+.jsonl.gz" big &&
	test "$(nreq op=PutObject)" = 1 &&
	test "$(nreq op=UploadPart)" = 4 &&
	test "$(nreq op=CompleteMultipartUpload)" = 1 &&
	ctl objects $B lake/2026/11/27/none >none && test ! -s none
'

test_expect_success 'ack lines: full key, seqs, size, crc64 of what was stored' '
	test $(wc -l <acks) -eq 3 &&
	grep -q "^A key=lake/2026/11/27/a%20b+c(1)/ü.jsonl seqs=1 size=8 etag=" acks &&
	grep -q "^A key=lake/2026/11/27/big%20(2)+.jsonl.gz seqs=2-4 size=3500000 " acks &&
	grep -q "^A key=lake/2026/11/27/none.jsonl seqs=5 n=0\$" acks &&
	crc=$(ctl objects $B "lake/2026/11/27/big" | cut -f4) &&
	grep -q "crc64=$crc " acks
'

test_expect_success 'every request: COS signature verified by the SDK, MD5, length' '
	ctl requests >reqs.json &&
	node -e "
		const r = JSON.parse(require(\"fs\").readFileSync(\"reqs.json\"));
		let bad = 0;
		for (const q of r) {
			const h = q.headers;
			if (q.auth !== \"cos\" || !q.authOk) { console.log(\"auth\", q.id); bad++; }
			if (q.method !== \"HEAD\" && q.method !== \"DELETE\" && (!h[\"content-md5\"] || h[\"content-length\"] === undefined || Number(h[\"content-length\"]) !== q.bytes)) { console.log(\"md5/len\", q.id); bad++; }
			if (q.status !== 200) { console.log(\"status\", q.id, q.status); bad++; }
		}
		if (!r.some(q => q.verifier === \"cos-nodejs-sdk-v5\")) bad++;
		process.exit(bad ? 1 : 0);
	"
'

test_expect_success 'metadata: content type and encoding, message count and ids' '
	curl -s -D hdrs -o /dev/null "$(json_get s3.json control)/object/$B/lake%2F2026%2F11%2F27%2Fa%20b%2Bc(1)%2F%C3%BC.jsonl" &&
	grep -i "^x-metadata:" hdrs >meta &&
	grep -q "application/x-ndjson" meta &&
	grep -q "lakepipe-n.:.1" meta &&
	grep -q "lakepipe-first.:.7:0:-1:-1" meta &&
	curl -s -D hdrs2 -o /dev/null "$(json_get s3.json control)/object/$B/lake%2F2026%2F11%2F27%2Fbig%20(2)%2B.jsonl.gz" &&
	grep -qi "content-encoding.:.gzip" hdrs2
'

test_expect_success 'connections are reused across objects' '
	ctl reset >/dev/null &&
	for i in 1 2 3 4 5 6 7 8 9 10; do obj "reuse/$i.txt" small n=1 seqs=$i; done >ten.frames &&
	dlv -j 2 "$URL" <ten.frames >acks10 &&
	test $(wc -l <acks10) -eq 10 &&
	ctl requests >reqs.json &&
	n=$(node -e "const r=JSON.parse(require(\"fs\").readFileSync(\"reqs.json\")); console.log(new Set(r.map(q=>q.conn)).size)") &&
	test "$n" -le 2
'

test_expect_success 'objects and parts go up in parallel, within -j' '
	ctl reset >/dev/null &&
	head -c 1500000 /dev/urandom >m15 &&
	for i in 1 2 3 4 5 6; do obj "par/$i.bin" m15 n=1 seqs=$i; done >par.frames &&
	dlv -j 3 --multipart-threshold 16M "$URL" <par.frames >acks &&
	test $(wc -l <acks) -eq 6 &&
	for i in 1 2 3 4 5 6; do stored_is $B lake/par/$i.bin m15 || return 1; done &&
	curl -s "$CTL/requests" | grep -q "\"maxInflight\": [23]," &&
	sort -t= -k3 -n acks | cut -d" " -f3 | tr "\n" " " >seqs &&
	test "$(cat seqs)" = "seqs=1 seqs=2 seqs=3 seqs=4 seqs=5 seqs=6 "
'

test_expect_success '--max-memory smaller than the objects: still all stored' '
	ctl reset >/dev/null &&
	dlv -j 4 --max-memory 1M --multipart-threshold 16M "cos://$B/mm/?region=ap-guangzhou" <par.frames >acks &&
	test $(wc -l <acks) -eq 6 && stored_is $B mm/par/6.bin m15 &&
	curl -s "$CTL/requests" | grep -q "\"maxInflight\": 1,"
'

test_expect_success 'temporary credentials send the session token' '
	ctl reset >/dev/null &&
	TENCENTCLOUD_SECRET_ID=$TMP_ID TENCENTCLOUD_SECRET_KEY=$TMP_KEY \
	TENCENTCLOUD_SESSION_TOKEN=$TMP_TOKEN dlv "$URL" <one.frames >acks &&
	grep -q "^A key=lake/one.txt seqs=1 " acks &&
	test "$(nreq op=PutObject status=200)" = 1
'

test_expect_success 'COS_SECRET_ID and a --credentials file work' '
	(unset TENCENTCLOUD_SECRET_ID TENCENTCLOUD_SECRET_KEY &&
	 COS_SECRET_ID=$TEST_ID COS_SECRET_KEY=$TEST_KEY dlv "$URL" <one.frames >acks) &&
	test $(wc -l <acks) -eq 1 &&
	printf "# test\nTENCENTCLOUD_SECRET_ID=%s\nTENCENTCLOUD_SECRET_KEY=%s\n" $TEST_ID $TEST_KEY >cred &&
	(unset TENCENTCLOUD_SECRET_ID TENCENTCLOUD_SECRET_KEY &&
	 dlv --credentials cred "$URL" <one.frames >acks) &&
	test $(wc -l <acks) -eq 1
'

test_expect_success 'missing credential: exit 2 (usage), names the variable, no ack' '
	(unset TENCENTCLOUD_SECRET_KEY &&
	 test_expect_code 2 dlv "$URL" <one.frames >out 2>err) &&
	test ! -s out && one_error err && grep -q TENCENTCLOUD_SECRET_KEY err
'

test_expect_success 'wrong secret: SignatureDoesNotMatch in one line, no ack, no secret' '
	TENCENTCLOUD_SECRET_KEY=WrongSecretKey0123456789 test_expect_code 1 dlv -v "$URL" <one.frames >out 2>err &&
	test ! -s out && grep -q "403 SignatureDoesNotMatch" err &&
	test $(grep -c SignatureDoesNotMatch err) -eq 1 &&
	! grep -q WrongSecretKey err && ! grep -q $TEST_KEY err
'

for u in "cos://Example-1250000000/lake/?region=ap-guangzhou" \
	"cos://examplebucket/lake/?region=ap-guangzhou" \
	"cos://$B/lake?region=ap-guangzhou" \
	"cos://$B/lake/?region=AP_Guangzhou" \
	"cos://$B/lake/?region=ap-guangzhou&x=1" \
	"cos://$B/a/../b/?region=ap-guangzhou"
do
	test_expect_success "bad destination $u: exit 2, one line" "
		test_expect_code 2 deliver '$u' <one.frames >out 2>err &&
		test ! -s out && one_error err && cat err
	"
done

test_expect_success 'no region and no --endpoint: exit 2; bad storage class: exit 2' '
	test_expect_code 2 deliver "cos://$B/lake/" <one.frames 2>err &&
	one_error err && grep -q region err &&
	test_expect_code 2 deliver --storage-class GLACIER_DEEP "$URL" <one.frames 2>err &&
	one_error err
'

test_expect_success 'empty prefix is the bucket root; storage class is sent' '
	ctl reset >/dev/null &&
	dlv --storage-class STANDARD_IA "cos://$B/?region=ap-guangzhou" <one.frames >acks &&
	grep -q "^A key=one.txt seqs=1 " acks &&
	stored_is $B one.txt small &&
	ctl requests op=PutObject | grep -q "\"x-cos-storage-class\": \"STANDARD_IA\""
'

# Faults (fault_case in lib-deliver.sh): every object stored and acked,
# every fault used.
fault_deliver() {
	dlv -v "cos://$B/$1?region=ap-guangzhou"
}
fault_verify() {
	test $(wc -l <acks) -eq 3 &&
	stored_is $B "${1}2026/11/27/a b+c(1)/ü.jsonl" small &&
	stored_is $B "${1}2026/11/27/big (2)+.jsonl.gz" big &&
	! ctl faults | grep -q '"used": 0'
}

fault_case 'reset mid-body of a PUT' 'reset op=PutObject' \
	'test "$(nreq op=PutObject status=200)" = 1'
fault_case 'reset mid-body of a part' 'reset op=UploadPart part=2' \
	'test "$(nreq op=UploadPart)" = 5'
fault_case '500 InternalError on a part' 'internal op=UploadPart part=3' \
	'grep -q "500 InternalError" err'
fault_case '503 SlowDown with Retry-After' 'slowdown op=PutObject retryAfter=1' \
	'grep -q "retrying.*wait_s=1.00 cause=.PutObject: 503 SlowDown" err'
fault_case '429 on Initiate' 'throttle op=InitiateMultipartUpload retryAfter=1' \
	'grep -q "429" err && test "$(nreq op=InitiateMultipartUpload)" = 2'
fault_case 'BadDigest' 'baddigest op=PutObject' \
	'grep -q "400 BadDigest" err'
fault_case 'wrong CRC-64 on a PUT' 'badcrc op=PutObject' \
	'grep -q "CRC-64 mismatch" err && test "$(nreq op=PutObject)" = 2'
fault_case 'wrong CRC-64 on a part' 'badcrc op=UploadPart part=1' \
	'grep -q "CRC-64 mismatch" err && test "$(nreq op=UploadPart)" = 5'
fault_case 'wrong CRC-64 on Complete (HEAD decides)' 'badcrc op=CompleteMultipartUpload' \
	'test "$(nreq op=HeadObject)" = 1'
fault_case 'lost answer to a PUT: HEAD, no second write' 'lost op=PutObject' \
	'test "$(nreq op=HeadObject)" = 1 && test "$(nreq op=PutObject)" = 1'
fault_case 'lost answer to a part' 'lost op=UploadPart part=2' \
	'test "$(nreq op=UploadPart)" = 5'
fault_case 'lost answer to Complete' 'lost op=CompleteMultipartUpload' \
	'test "$(nreq op=HeadObject)" = 1'
fault_case '200 Complete with <Error>InternalError' 'complete-error op=CompleteMultipartUpload' \
	'test "$(nreq op=CompleteMultipartUpload)" = 2'
fault_case 'stall before the body' 'stall op=PutObject seconds=6' \
	'grep -q "too slow" err'
fault_case 'stall before the answer (stored): HEAD' 'stall op=PutObject seconds=6 phase=response' \
	'test "$(nreq op=HeadObject)" = 1 && test "$(nreq op=PutObject)" = 1'
fault_case 'clock skew (server an hour behind)' 'skew seconds=-3600 count=1000' \
	'grep -q "signing again" err'

test_expect_success 'reset mid-body of a 600 KB PUT: sent again' '
	ctl reset >/dev/null && ctl fault reset op=PutObject afterBytes=100000 >/dev/null &&
	head -c 600000 /dev/urandom >mid &&
	obj mid.bin mid n=1 seqs=1 >mid.frames &&
	dlv -v "$URL" <mid.frames >acks 2>err &&
	test $(wc -l <acks) -eq 1 && stored_is $B lake/mid.bin mid &&
	test "$(nreq op=PutObject)" = 2 && test "$(nreq op=HeadObject)" -le 1
'

test_expect_success 'server clock two hours ahead: expiry, re-signed' '
	ctl reset >/dev/null && ctl clock 7200 >/dev/null &&
	dlv -v "$URL" <in.frames >acks 2>err &&
	ctl clock 0 >/dev/null &&
	test $(wc -l <acks) -eq 3 && grep -q "expired" err &&
	stored_is $B "lake/2026/11/27/big (2)+.jsonl.gz" big
'

# A fatal error: exit 1, one line with the store code, no ack for it,
# no multipart upload left behind.
test_expect_success 'fault 403 on a part: exit 1, code and message, aborted' '
	ctl reset >/dev/null && ctl fault denied op=UploadPart part=2 >/dev/null &&
	test_expect_code 1 dlv "$URL" <big.frames >out 2>err &&
	test ! -s out && one_error err &&
	grep -q "key=lake/big.bin error=.UploadPart: 403 AccessDenied: Access Denied" err &&
	test "$(nreq op=AbortMultipartUpload status=204)" -ge 1 &&
	ctl objects $B lake/big.bin >objs && test ! -s objs &&
	id=$(ctl requests op=InitiateMultipartUpload | sed -n "s/.*<UploadId>\(.*\)<.*/\1/p;s/^   *\"uploadId\": \"\(.*\)\".*/\1/p" | head -1) &&
	ctl requests op=AbortMultipartUpload | grep -q "\"uploadId\": \"[0-9a-f]" &&
	up=$(ctl requests op=AbortMultipartUpload | sed -n "s/^  \"uploadId\": \"\(.*\)\",/\1/p" | head -1) &&
	test -n "$up" && ! curl -s "$CTL/objects/$B" | grep -q "$up"
'

test_expect_success 'fault 200 Complete with <Error>AccessDenied: exit 1' '
	ctl reset >/dev/null &&
	ctl fault complete-error op=CompleteMultipartUpload code=AccessDenied >/dev/null &&
	test_expect_code 1 dlv "cos://$B/ce/?region=ap-guangzhou" <big.frames >out 2>err &&
	test ! -s out && grep -q "CompleteMultipartUpload: 200 AccessDenied" err &&
	ctl objects $B ce/ >objs && test ! -s objs
'

test_expect_success 'a store message of two lines: still one line' '
	ctl reset >/dev/null &&
	ctl fault error op=PutObject status=400 code=InvalidArgument \
	    "message=$(printf "first line\nsecond line")" >/dev/null &&
	test_expect_code 1 dlv "cos://$B/ml/?region=ap-guangzhou" <one.frames >out 2>err &&
	test ! -s out && one_error err &&
	grep -q "PutObject: 400 InvalidArgument: first line second line" err
'

test_expect_success 'persistent 503: gives up after --retries, one retry line, no ack' '
	ctl reset >/dev/null && ctl fault slowdown op=PutObject count=100 retryAfter=0 >/dev/null &&
	test_expect_code 1 dlv --retries 2 "cos://$B/gu/?region=ap-guangzhou" <one.frames >out 2>err &&
	test ! -s out && all_logfmt err && grep -q "gave up after 2 retries" err &&
	test $(grep -c "level=error" err) -eq 1 &&
	test $(grep -c "msg=.retrying. key=gu/one.txt op=PutObject" err) -eq 1 &&
	test "$(nreq op=PutObject)" = 3
'

test_expect_success 'earlier objects stay acked when a later one fails' '
	ctl reset >/dev/null && ctl fault denied op=PutObject key=two >/dev/null &&
	{ obj one.txt small n=1 seqs=1 && obj two.txt small n=1 seqs=2; } >two.frames &&
	test_expect_code 1 dlv -j 1 "cos://$B/ea/?region=ap-guangzhou" <two.frames >out 2>err &&
	test $(wc -l <out) -eq 1 && grep -q "^A key=ea/one.txt seqs=1 " out
'

test_expect_success 'truncated input: earlier objects acked, exit 1 with offset' '
	ctl reset >/dev/null &&
	{ cat one.frames && head -c 20 one.frames; } >trunc.frames &&
	test_expect_code 1 dlv "cos://$B/tr/?region=ap-guangzhou" <trunc.frames >out 2>err &&
	test $(wc -l <out) -eq 1 && one_error err &&
	grep -q "byte $(wc -c <one.frames): truncated" err
'

test_expect_success 'SIGTERM mid-upload: exit 1, no ack, upload aborted' '
	ctl reset >/dev/null && ctl fault stall op=UploadPart seconds=20 count=10 >/dev/null &&
	deliver --endpoint "http://cos.ap-guangzhou.localhost:$PORT" --multipart-threshold 1M \
	    --part-size 1M "cos://$B/sig/?region=ap-guangzhou" <big.frames >out 2>err &
	pid=$! &&
	sleep 2 && kill -TERM $pid;
	wait $pid; rc=$? &&
	test $rc -eq 1 && test ! -s out &&
	grep -q "stopped by signal 15" err &&
	test "$(nreq op=AbortMultipartUpload status=204)" -ge 1 &&
	ctl objects $B sig/ >objs && test ! -s objs
'

test_expect_success 'unsafe key: exit 1, nothing sent for it' '
	ctl reset >/dev/null &&
	obj "../x.txt" small n=1 seqs=1 >bad.frames &&
	test_expect_code 1 dlv "$URL" <bad.frames >out 2>err &&
	test ! -s out && grep -q "unsafe key" err &&
	test "$(nreq)" = 0
'

test_done
