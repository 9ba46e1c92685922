#!/bin/sh
# deliver s3://: AWS SigV4 uploads through the verifying test server
# (signatures checked by the AWS SDK's signer), path-style and
# virtual-hosted, temporary credentials, and the main faults.
. "$(dirname "$0")/test-lib.sh"
. "$TEST_DIRECTORY/lib-deliver.sh"

s3_start --bucket lake-test --region eu-west-1 --strict-path
export AWS_ACCESS_KEY_ID=$TEST_ID AWS_SECRET_ACCESS_KEY=$TEST_KEY
unset AWS_SESSION_TOKEN

dlv() {
	test_timeout 120 deliver --multipart-threshold 1M --part-size 1M \
	    --timeout 3 "$@"
}
VH="--endpoint http://s3.localhost:$PORT"
PS="--endpoint http://127.0.0.1:$PORT --path-style"

test_expect_success 'setup' '
	printf "{\"b\":2}\n" >small &&
	head -c 2500000 /dev/urandom >big &&
	{
		obj "x/sp%20ace+plus(1)/ü.json" small type=application/json n=1 seqs=1 &&
		obj "x/big%20one.bin" big n=2 seqs=2-3 first=1:2:3:4 last=1:2:3:5
	} >in.frames
'

test_expect_success 'virtual-hosted: stored byte for byte, SigV4 verified' '
	ctl reset >/dev/null &&
	dlv $VH "s3://lake-test/vh/?region=eu-west-1" <in.frames >acks &&
	test $(wc -l <acks) -eq 2 &&
	grep -q "^A key=vh/x/sp%20ace+plus(1)/ü.json seqs=1 size=8 " acks &&
	grep -q "^A key=vh/x/big%20one.bin seqs=2-3 size=2500000 " acks &&
	stored_is lake-test "vh/x/sp ace+plus(1)/ü.json" small &&
	stored_is lake-test "vh/x/big one.bin" big &&
	ctl requests >reqs.json &&
	node -e "
		const r = JSON.parse(require(\"fs\").readFileSync(\"reqs.json\"));
		let bad = 0;
		for (const q of r) {
			if (q.auth !== \"sigv4\" || q.verifier !== \"@smithy/signature-v4\" || q.status !== 200 || q.style !== \"vhost\") { console.log(JSON.stringify(q)); bad++; }
			if (q.pathNotCanonical) { console.log(\"path\", q.url); bad++; }
			if (q.contentSha256 !== \"hash\") { console.log(\"sha\", q.id); bad++; }
			if (q.method === \"PUT\" && q.headers[\"content-md5\"]) bad++;
		}
		process.exit(bad || r.length !== 6 ? 1 : 0);
	"
'

test_expect_success 'path-style: stored byte for byte' '
	ctl reset >/dev/null &&
	dlv $PS "s3://lake-test/ps/?region=eu-west-1" <in.frames >acks &&
	test $(wc -l <acks) -eq 2 &&
	stored_is lake-test "ps/x/big one.bin" big &&
	test "$(nreq style=path)" = "$(nreq)" || test "$(ctl requests | grep -c "\"style\": \"path\"")" -eq 6
'

test_expect_success 'temporary credentials: x-amz-security-token' '
	ctl reset >/dev/null &&
	AWS_ACCESS_KEY_ID=$TMP_ID AWS_SECRET_ACCESS_KEY=$TMP_KEY AWS_SESSION_TOKEN=$TMP_TOKEN \
	dlv $VH "s3://lake-test/tmp/?region=eu-west-1" <in.frames >acks &&
	test $(wc -l <acks) -eq 2 &&
	ctl requests | grep -q "\"x-amz-security-token\": \"<redacted>\""
'

test_expect_success '-v and errors print neither the secret key nor the token' '
	export AWS_ACCESS_KEY_ID=$TMP_ID AWS_SECRET_ACCESS_KEY=$TMP_KEY \
	    AWS_SESSION_TOKEN=$TMP_TOKEN &&
	dlv -v $VH "s3://lake-test/tmp/?region=eu-west-1" <in.frames >acks 2>err &&
	test_expect_code 1 dlv -v $VH "s3://lake-test/tmp/?region=us-east-1" \
	    <in.frames >out 2>>err &&
	AWS_SESSION_TOKEN=$TMP_TOKEN-x test_expect_code 1 dlv -v $VH \
	    "s3://lake-test/tmp/?region=eu-west-1" <in.frames >out 2>>err &&
	grep -q "stored" err && grep -q AuthorizationHeaderMalformed err &&
	grep -q InvalidToken err &&
	! grep -q "$TMP_KEY" err && ! grep -q "$TMP_TOKEN" err
'

test_expect_success 'metadata: x-amz-meta-lakepipe-*' '
	curl -s -D hdrs -o /dev/null "$CTL/object/lake-test/vh%2Fx%2Fbig%20one.bin" &&
	grep -q "lakepipe-first.:.1:2:3:4" hdrs && grep -q "lakepipe-n.:.2" hdrs
'

test_expect_success 'wrong region: the store says why, exit 1, no ack' '
	test_expect_code 1 dlv $VH "s3://lake-test/r/?region=us-east-1" <in.frames >out 2>err &&
	test ! -s out && one_error err && grep -q AuthorizationHeaderMalformed err
'

test_expect_success 'missing AWS_SECRET_ACCESS_KEY: exit 2 (usage), names it' '
	(unset AWS_SECRET_ACCESS_KEY &&
	 test_expect_code 2 dlv $VH "s3://lake-test/m/?region=eu-west-1" <in.frames >out 2>err) &&
	test ! -s out && one_error err && grep -q AWS_SECRET_ACCESS_KEY err
'

test_expect_success 'unknown access key: InvalidAccessKeyId, exit 1' '
	AWS_ACCESS_KEY_ID=AKIDNOSUCHKEY test_expect_code 1 dlv $VH "s3://lake-test/k/?region=eu-west-1" <in.frames >out 2>err &&
	test ! -s out && grep -q "403 InvalidAccessKeyId" err && ! grep -q $TEST_KEY err
'

test_expect_success 'NoSuchBucket: exit 1 with the code' '
	test_expect_code 1 dlv $VH "s3://no-such-bucket/k/?region=eu-west-1" <in.frames >out 2>err &&
	test ! -s out && grep -q "404 NoSuchBucket" err
'

for u in "s3://ab/x/" "s3://Upper/x/" "s3://a..b/x/" "s3://192.168.1.1/x/" "s3://lake-test/x" "s3://lake-test/x/?region=" "s3://lake-test/x/#f"
do
	test_expect_success "bad destination $u: exit 2, one line" "
		test_expect_code 2 deliver '$u' <in.frames >out 2>err &&
		test ! -s out && one_error err
	"
done

test_expect_success 'bad --endpoint: exit 2' '
	test_expect_code 2 deliver --endpoint ftp://x "s3://lake-test/x/" <in.frames 2>err &&
	one_error err &&
	test_expect_code 2 deliver --endpoint "http://a b/" "s3://lake-test/x/" <in.frames 2>err &&
	one_error err
'

# Faults (fault_case in lib-deliver.sh): both objects stored and acked.
fault_deliver() {
	dlv -v $VH "s3://lake-test/$1?region=eu-west-1"
}
fault_verify() {
	test $(wc -l <acks) -eq 2 &&
	stored_is lake-test "${1}x/big one.bin" big &&
	stored_is lake-test "${1}x/sp ace+plus(1)/ü.json" small
}
fault_case 'reset of a part' 'reset op=UploadPart part=1' 'test "$(nreq op=UploadPart)" = 4'
fault_case 'lost PUT answer' 'lost op=PutObject' 'test "$(nreq op=HeadObject)" = 1'
fault_case '503 SlowDown' 'slowdown op=CompleteMultipartUpload retryAfter=1' 'grep -q "503 SlowDown" err'
# Ceph RGW's answer to a body damaged in transit: retried like BadDigest,
# one retry in the stored line of that object only.
fault_case '400 XAmzContentSHA256Mismatch of a PUT' \
	'sha256mismatch op=PutObject' \
	'grep -q "XAmzContentSHA256Mismatch" err &&
	test "$(nreq op=PutObject)" = 2 &&
	test "$(grep -c "msg=.stored. .*retries=1\$" err)" = 1 &&
	grep -q "msg=.stored. key=.f$nfault/x/sp.* retries=1\$" err'
fault_case '400 XAmzContentSHA256Mismatch of a part' \
	'sha256mismatch op=UploadPart part=2' \
	'grep -q "XAmzContentSHA256Mismatch" err &&
	test "$(nreq op=UploadPart)" = 4 &&
	test "$(nreq op=AbortMultipartUpload)" = 0 &&
	test "$(grep -c "msg=.stored. .*retries=1\$" err)" = 1 &&
	grep -q "msg=.stored. key=.f$nfault/x/big one.bin. .*retries=1\$" err'
fault_case 'skew (x-amz-date an hour off)' 'skew seconds=3600 count=1000' 'grep -q "signing again" err'

test_expect_success 'S3 store without x-cos-hash-crc64ecma: MD5 only' '
	ctl reset >/dev/null &&
	test_start_server s3b.json node "$PEERS/s3/server.js" --bucket nocrc --crc64 never --timeout 120 --quiet &&
	p=$(json_get s3b.json port) &&
	dlv --endpoint "http://localhost:$p" "s3://nocrc/?region=us-east-1" <in.frames >acks;
	rc=$? &&
	test_timeout 30 node "$PEERS/s3/ctl.js" --ctl "$(json_get s3b.json control)" get nocrc "x/big one.bin" >got;
	kill $(json_get s3b.json pid) &&
	test $rc -eq 0 && test $(wc -l <acks) -eq 2 && cmp big got
'

test_expect_success 'bodies read one after another into reused memory: each stored byte for byte' '
	head -c 600000 /dev/urandom >r1 &&
	head -c 2500000 /dev/urandom >r2 &&
	head -c 400000 /dev/urandom >r3 &&
	head -c 5242880 /dev/urandom >p1 &&
	head -c 5242880 /dev/urandom >p2 &&
	head -c 300000 /dev/urandom >p3 &&
	head -c 1000000 /dev/urandom >r4 &&
	cat p1 p2 p3 >pall &&
	{
		obj reuse/1.bin r1 n=1 seqs=1 &&
		obj reuse/2.bin r2 n=1 seqs=2 &&
		obj reuse/3.bin r3 n=1 seqs=3 &&
		printf "P %d key=reuse/p.bin\n" 5242880 && cat p1 && echo &&
		printf "P %d key=reuse/p.bin\n" 5242880 && cat p2 && echo &&
		obj reuse/p.bin p3 n=1 seqs=4 parts=2 &&
		obj reuse/4.bin r4 n=1 seqs=5
	} >reuse.frames &&
	ctl reset >/dev/null &&
	dlv $PS -j 1 --max-memory 1M --multipart-threshold 16M \
	    "s3://lake-test/?region=eu-west-1" <reuse.frames >acks &&
	test $(wc -l <acks) -eq 5 &&
	for f in 1 2 3 4; do
		stored_is lake-test reuse/$f.bin r$f || return 1
	done &&
	stored_is lake-test reuse/p.bin pall
'

test_done
