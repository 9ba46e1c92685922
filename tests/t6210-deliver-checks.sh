#!/bin/sh
# deliver's integrity checks against a store that sends no CRC-64 (s3://,
# as most S3 stores) and one that does (cos://), through the test server:
# a body damaged on the way is refused by the store (the signed SHA-256
# of s3, the Content-MD5 of cos) and sent again; after a lost answer the
# HEAD's ETag (s3: the MD5 of the body, computed only then, or of the
# parts' ETags) decides whether the object is the one sent.
. "$(dirname "$0")/test-lib.sh"
. "$TEST_DIRECTORY/lib-deliver.sh"

s3_start --bucket lake-1250000000 --crc64 cos
export AWS_ACCESS_KEY_ID=$TEST_ID AWS_SECRET_ACCESS_KEY=$TEST_KEY
export TENCENTCLOUD_SECRET_ID=$TEST_ID TENCENTCLOUD_SECRET_KEY=$TEST_KEY
unset AWS_SESSION_TOKEN TENCENTCLOUD_SESSION_TOKEN

EP="--endpoint http://localhost:$PORT"
# dlv s3|cos PREFIX [ARGS...]: deliver in.frames under PREFIX
dlv() {
	_kind=$1 _p=$2
	shift 2
	if [ "$_kind" = s3 ]; then
		_url="s3://lake-1250000000/$_p?region=us-east-1"
	else
		_url="cos://lake-1250000000/$_p?region=ap-guangzhou"
	fi
	test_timeout 120 deliver -v --multipart-threshold 1M --part-size 1M \
	    --timeout 3 --retries 3 $EP "$@" "$_url" <in.frames >acks 2>err
}
# both PREFIX: both objects acked and stored byte for byte
both() {
	test $(grep -c "^A key=$1" acks) -eq 2 &&
	stored_is lake-1250000000 "${1}small.json" small &&
	stored_is lake-1250000000 "${1}big.bin" big
}

test_expect_success 'setup' '
	printf "{\"a\":1}\n" >small &&
	head -c 2500000 /dev/urandom >big &&
	{
		obj small.json small n=1 seqs=1 &&
		obj big.bin big n=1 seqs=2
	} >in.frames
'

test_expect_success 's3: no Content-MD5, every body signed with its SHA-256' '
	ctl reset >/dev/null &&
	dlv s3 plain/ &&
	both plain/ &&
	test "$(nreq op=PutObject)" = 1 &&
	test "$(nreq op=UploadPart)" = 3 &&
	ctl requests >reqs.json &&
	node -e "
		const r = JSON.parse(require(\"fs\").readFileSync(\"reqs.json\"));
		let bad = 0;
		for (const q of r) {
			if (q.method !== \"PUT\") continue;
			if (q.contentSha256 !== \"hash\") { console.log(\"unsigned\", q.id); bad++; }
			if (q.headers[\"content-md5\"]) { console.log(\"md5\", q.id); bad++; }
		}
		process.exit(bad);
	"
'

test_expect_success 'cos: every body carries its Content-MD5' '
	ctl reset >/dev/null &&
	dlv cos plain/ &&
	both plain/ &&
	ctl requests method=PUT >reqs.json &&
	node -e "
		const r = JSON.parse(require(\"fs\").readFileSync(\"reqs.json\"));
		process.exit(r.length === 4 && r.every(q => q.headers[\"content-md5\"]) ? 0 : 1);
	"
'

# check_case KIND WHAT FAULTS... -- CHECK: with the faults set, deliver
# stores both objects and CHECK holds
ncase=0
check_case() {
	ncase=$((ncase + 1))
	_kind=$1 _what=$2
	shift 2
	_faults=
	while [ "$1" != -- ]; do
		_faults="$_faults ctl fault $1 >/dev/null &&"
		shift
	done
	shift
	test_expect_success "$_kind: $_what" "
		ctl reset >/dev/null && $_faults
		dlv $_kind c$ncase/ &&
		both c$ncase/ &&
		$1
	"
}

# A body damaged on the way: refused by the store's own check (s3: the
# signed SHA-256; cos: Content-MD5) and sent again.  KIND OP CODE REQUESTS
for c in "s3 PutObject XAmzContentSHA256Mismatch 2" \
    "s3 UploadPart XAmzContentSHA256Mismatch 4" \
    "cos PutObject BadDigest 2" "cos UploadPart BadDigest 4"
do
	set -- $c
	check_case $1 "$2 damaged on the way: $3, sent again" \
		"corrupt op=$2" -- \
		"test \"\$(nreq op=$2 code=$3)\" = 1 &&
		test \"\$(nreq op=$2)\" = $4"
done
check_case s3 'lost PUT answer: the HEAD ETag is the MD5 of the body' \
	'lost op=PutObject' -- \
	'test "$(nreq op=HeadObject)" = 1 && test "$(nreq op=PutObject)" = 1 &&
	grep -q "HEAD shows it stored" err'
check_case s3 'lost PUT answer, HEAD shows another ETag: sent again' \
	'lost op=PutObject' 'badetag op=HeadObject' -- \
	'grep -q "stored object differs (HEAD)" err &&
	test "$(nreq op=HeadObject)" = 1 && test "$(nreq op=PutObject)" = 2'
check_case s3 'lost Complete answer: the HEAD ETag is the MD5 of the part ETags' \
	'lost op=CompleteMultipartUpload' -- \
	'test "$(nreq op=HeadObject)" = 1 && grep -q "HEAD shows it stored" err'

test_expect_success 's3: lost Complete answer, HEAD shows another ETag: not acked' '
	ctl reset >/dev/null &&
	ctl fault lost op=CompleteMultipartUpload >/dev/null &&
	ctl fault badetag op=HeadObject >/dev/null &&
	test_expect_code 1 dlv s3 bad/ &&
	grep -q "^A key=bad/small.json " acks &&
	! grep -q "^A key=bad/big.bin " acks &&
	grep -q "stored object differs" err
'

# AWS in a bucket with Object Lock retention: uploads without Content-MD5
# are refused, so deliver sends it from the first such answer on.
test_expect_success 's3: a store that requires Content-MD5 gets it' '
	test_start_server lock.json node "$PEERS/s3/server.js" \
	    --bucket lake-1250000000 --require-md5 --crc64 never \
	    --timeout 120 --quiet &&
	EP="--endpoint http://localhost:$(json_get lock.json port)" &&
	LAKEPIPE_S3_CTL=$(json_get lock.json control) &&
	export LAKEPIPE_S3_CTL &&
	dlv s3 lock/ -j 1 &&
	node "$PEERS/s3/ctl.js" requests method=PUT >reqs.json &&
	kill $(json_get lock.json pid) &&
	test $(grep -c "^A key=lock/" acks) -eq 2 &&
	grep -q "asks for Content-MD5" err &&
	node -e "
		const r = JSON.parse(require(\"fs\").readFileSync(\"reqs.json\"));
		const refused = r.filter(q => q.status === 400 && q.code === \"InvalidRequest\");
		const ok = r.filter(q => q.status === 200);
		process.exit(refused.length === 1 && ok.length === 4 &&
		    ok.every(q => q.headers[\"content-md5\"] && q.contentSha256 === \"hash\") ? 0 : 1);
	"
'

test_done
