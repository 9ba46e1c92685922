#!/bin/sh
# deliver s3:// against a real S3 server, Ceph's RADOS Gateway
# (tests/lib-rgw.sh): single PUT and multipart with keys that need
# encoding, read back byte for byte with --list and --cat, path-style and
# virtual-hosted, RGW's own SigV4 check (a wrong secret), a body damaged in
# transit (tests/peers/s3/fault-proxy.js in front of RGW) answered 400
# XAmzContentSHA256Mismatch and retried, CompleteMultipartUpload's empty
# ETag, and what RGW does with conditional writes.
. "$(dirname "$0")/test-lib.sh"
. "$TEST_DIRECTORY/lib-deliver.sh"
. "$TEST_DIRECTORY/lib-rgw.sh"

rgw_skip_unless_installed
rgw_start lake

dlv() {
	test_timeout 60 deliver --multipart-threshold 1M --part-size 1M \
	    --timeout 5 "$@"
}
PS="--endpoint $RGW_ENDPOINT"
VH="--endpoint http://s3.localhost:$RGW_PORT"
# A key with the characters SigV4 encodes (space, UTF-8, RFC 3986's
# reserved ones) and those it keeps (-_.~); in frames percent-encoded.
ODD="x/sp ace+plus(1)/=&\$@,;:!*'~_-.ü.json"
ODD_FRAME="x/sp%20ace+plus(1)/%3D&\$@,;:!*'~_-.ü.json"

# fproxy NAME ARGS...: start fault-proxy.js in front of RGW; sets FPORT.
fproxy() {
	_n=$1
	shift
	test_start_server $_n.json node "$PEERS/s3/fault-proxy.js" \
	    --upstream "$RGW_ENDPOINT" --log $_n.log --timeout 300 "$@" &&
	FPORT=$(json_get $_n.json port)
}

# read_back PREFIX ENDPOINT-OPTIONS...: --list under PREFIX names both
# objects with their sizes, and --cat gives their bytes.
read_back() {
	_p=$1
	shift
	dlv "$@" --list "s3://lake/$_p" >list &&
	cut -f1,2 list >list.ks &&
	printf '%s\t%s\n' "x/big one.bin" 2500000 "$ODD" 8 | sort >list.want &&
	test_cmp list.want list.ks &&
	dlv "$@" --cat "x/big one.bin" "s3://lake/$_p" >got.big &&
	cmp big got.big &&
	dlv "$@" --cat "$ODD" "s3://lake/$_p" >got.small &&
	cmp small got.small
}

test_expect_success 'setup' '
	printf "{\"b\":2}\n" >small &&
	head -c 2500000 /dev/urandom >big &&
	{
		obj "$ODD_FRAME" small type=application/json n=1 seqs=1 &&
		obj "x/big%20one.bin" big n=2 seqs=2-3 first=1:2:3:4 last=1:2:3:5
	} >in.frames
'

test_expect_success 'path-style: PUT and multipart stored, read back byte for byte' '
	dlv -v $PS "s3://lake/ps/" <in.frames >acks 2>err &&
	test $(wc -l <acks) -eq 2 &&
	grep -q "^A key=ps/x/big%20one.bin seqs=2-3 size=2500000 " acks &&
	grep -F -q "A key=ps/$ODD_FRAME seqs=1 size=8 " acks &&
	grep -q "msg=.path-style addressing" err &&
	! grep -e "level=warn" -e "level=error" err &&
	read_back ps/ $PS
'

test_expect_success 'multipart: CompleteMultipartUpload ETag empty, HEAD has "MD5-3"' '
	rgw_s3 -i -X HEAD "$RGW_ENDPOINT/lake/ps/x/big%20one.bin" >head 2>/dev/null &&
	grep -i -q "^etag: \"[0-9a-f]*-3\"" head &&
	grep -i -q "^x-amz-meta-lakepipe-first: 1:2:3:4" head &&
	grep -i -q "^x-amz-meta-lakepipe-n: 2" head &&
	! grep -i -q "crc64" head
'

test_expect_success 'virtual-hosted (Host lake.s3.localhost): stored, read back' '
	fproxy vh &&
	dlv -v --endpoint "http://s3.localhost:$FPORT" "s3://lake/vh/" \
	    <in.frames >acks 2>err &&
	test $(wc -l <acks) -eq 2 &&
	! grep -q "path-style" err &&
	read_back vh/ --endpoint "http://s3.localhost:$FPORT" &&
	read_back vh/ $VH &&
	# no request named the bucket in the path
	grep -q "\"url\":\"/vh/x/big%20one.bin?uploads" vh.log &&
	! grep -q "\"url\":\"/lake" vh.log
'

test_expect_success '--path-style with a host name: stored, read back' '
	dlv $VH --path-style "s3://lake/ps2/" <in.frames >acks &&
	test $(wc -l <acks) -eq 2 &&
	read_back ps2/ $VH --path-style
'

test_expect_success 'a wrong secret key: 403 SignatureDoesNotMatch, exit 1, one line' '
	AWS_SECRET_ACCESS_KEY=LakepipeWrongSecretKey0000000000001 \
	    test_expect_code 1 dlv $PS "s3://lake/wrong/" <in.frames >out 2>err &&
	test ! -s out && one_error err &&
	grep -q "403 SignatureDoesNotMatch" err &&
	! grep -q -e LakepipeWrongSecret -e "$RGW_USER_KEY" err &&
	dlv $PS --list "s3://lake/wrong/" >list && test ! -s list
'

test_expect_success 'an unknown access key: 403 InvalidAccessKeyId, exit 1' '
	AWS_ACCESS_KEY_ID=AKIDNOSUCHKEY test_expect_code 1 \
	    dlv $PS "s3://lake/k/" <in.frames >out 2>err &&
	test ! -s out && one_error err && grep -q "403 InvalidAccessKeyId" err
'

test_expect_success 'NoSuchBucket: exit 1 with the code' '
	test_expect_code 1 dlv $PS "s3://no-such-bucket/k/" <in.frames >out 2>err &&
	test ! -s out && grep -q "404 NoSuchBucket" err
'

# A body damaged in transit: RGW answers 400 XAmzContentSHA256Mismatch,
# deliver sends it again (one retry, in the stored line of that object).
# flip_deliver N MATCH: deliver in.frames under fN/ through a fault proxy
# that damages the first request body matching MATCH; RGW said 400
# XAmzContentSHA256Mismatch to it, and both objects are acked.
flip_deliver() {
	fproxy flip$1 --flip 1 --match "$2" &&
	dlv -v --endpoint "http://127.0.0.1:$FPORT" "s3://lake/f$1/" \
	    <in.frames >acks 2>err &&
	test $(wc -l <acks) -eq 2 &&
	grep -q "XAmzContentSHA256Mismatch" err &&
	grep -q "\"flipped\":true,\"status\":400" flip$1.log
}

test_expect_success 'a PUT body damaged in transit: 400 XAmzContentSHA256Mismatch, retried' '
	flip_deliver 1 "^PUT /lake/f1/x/sp" &&
	test "$(grep -c "^{\"method\":\"PUT\",\"url\":\"/lake/f1/x/sp" flip1.log)" = 2 &&
	test "$(grep -c "msg=.stored. .*retries=1\$" err)" = 1 &&
	grep -q "msg=.stored. key=.f1/x/sp.* retries=1\$" err &&
	read_back f1/ $PS
'

test_expect_success 'a part damaged in transit: retried, the upload not aborted' '
	flip_deliver 2 "^PUT .*partNumber=2&" &&
	test "$(grep -c "partNumber=2&" flip2.log)" = 2 &&
	! grep -q "\"method\":\"DELETE\"" flip2.log &&
	grep -q "msg=.stored. key=.f2/x/big one.bin. .*retries=1\$" err &&
	read_back f2/ $PS
'

# What RGW does with conditional writes (signed by the AWS SDK's signer):
# the lake's no-overwrite writes depend on it.  If a Ceph update changes
# an answer, these say so.
printf FIRST >first && printf SECOND >second

# mpu KEY FILE [HEADER]: a one-part multipart upload of FILE to KEY, the
# Complete sent with HEADER; its answer in complete.xml.
mpu() {
	rgw_s3 -X POST "$RGW_ENDPOINT/lake/$1?uploads" >init.xml 2>/dev/null &&
	_u=$(sed -n "s:.*<UploadId>\(.*\)</UploadId>.*:\1:p" init.xml) &&
	rgw_s3 -i -T "$2" "$RGW_ENDPOINT/lake/$1?partNumber=1&uploadId=$_u" \
	    >part.out 2>/dev/null &&
	_e=$(tr -d "\r" <part.out | sed -n "s/^[Ee][Tt]ag: //p") &&
	printf "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>%s</ETag></Part></CompleteMultipartUpload>" \
	    "$_e" >cmp.xml &&
	rgw_s3 -X POST ${3:+-H "$3"} -T cmp.xml \
	    "$RGW_ENDPOINT/lake/$1?uploadId=$_u" >complete.xml 2>/dev/null
}

test_expect_success 'RGW: PUT with If-None-Match: * on an existing key is 412' '
	rgw_s3 -T first "$RGW_ENDPOINT/lake/c/put" 2>/dev/null &&
	test_expect_code 1 rgw_s3 -T second -H "If-None-Match: *" \
	    "$RGW_ENDPOINT/lake/c/put" >out 2>status &&
	grep -q "^HTTP 412" status &&
	grep -q "<Code>PreconditionFailed</Code>" out &&
	rgw_s3 "$RGW_ENDPOINT/lake/c/put" >got 2>/dev/null && test_cmp first got &&
	rgw_s3 -T second -H "If-None-Match: *" "$RGW_ENDPOINT/lake/c/new" 2>/dev/null
'

test_expect_success 'RGW: CompleteMultipartUpload ignores If-None-Match: * (overwrites)' '
	rgw_s3 -T first "$RGW_ENDPOINT/lake/c/mpu" 2>/dev/null &&
	mpu c/mpu second "If-None-Match: *" &&
	grep -q "<ETag></ETag>" complete.xml &&
	rgw_s3 "$RGW_ENDPOINT/lake/c/mpu" >got 2>/dev/null && test_cmp second got
'

test_expect_success 'RGW: x-cos-forbid-overwrite: true is ignored (overwrites)' '
	rgw_s3 -T first "$RGW_ENDPOINT/lake/c/cos" 2>/dev/null &&
	rgw_s3 -T second -H "x-cos-forbid-overwrite: true" \
	    "$RGW_ENDPOINT/lake/c/cos" 2>/dev/null &&
	rgw_s3 "$RGW_ENDPOINT/lake/c/cos" >got 2>/dev/null && test_cmp second got
'

# deliver --exactly-once against RGW: the no-overwrite writes (If-None-Match:
# *) and the index.

# read_once: the first writer's bytes are there
read_once() {
	dlv $PS --cat o/small.json "s3://lake/once/" >got.small &&
	cmp small got.small &&
	dlv $PS --cat o/big.bin "s3://lake/once/" >got.big &&
	cmp big got.big
}

T=persistent://t/ns/ev
test_expect_success 'exactly-once: setup' '
	printf "{\"a\":2}\n" >small2 &&
	head -c 2500000 /dev/urandom >big2 &&
	{
		obj "o/small.json" small topic=$T n=1 seqs=1 first=1:0:-1:0 \
		    last=1:0:-1:0 pt=1-1 &&
		obj "o/big.bin" big topic=$T n=2 seqs=2-3 first=1:1:-1:0 \
		    last=1:2:-1:0 pt=1-2
	} >once.frames &&
	# the same messages in other bytes (as after a redelivery)
	{
		obj "o/small.json" small2 topic=$T n=1 seqs=1 first=1:0:-1:0 \
		    last=1:0:-1:0 pt=1-1 &&
		obj "o/big.bin" big2 topic=$T n=2 seqs=2-3 first=1:1:-1:0 \
		    last=1:2:-1:0 pt=1-2
	} >redelivered.frames &&
	# other cuts of the same first messages
	obj "o/small.json" small2 topic=$T n=2 seqs=1-2 first=1:0:-1:0 \
	    last=1:1:-1:0 pt=1-1 >other-small.frames &&
	obj "o/big.bin" big2 topic=$T n=3 seqs=2-4 first=1:1:-1:0 \
	    last=1:3:-1:0 pt=1-2 >other-big.frames
'

test_expect_success 'exactly-once: PUT and multipart stored with their manifest' '
	dlv $PS --exactly-once "s3://lake/once/" <once.frames >acks &&
	test $(wc -l <acks) -eq 2 &&
	rgw_s3 -i -X HEAD "$RGW_ENDPOINT/lake/once/o/big.bin" >head 2>/dev/null &&
	grep -i -q "^x-amz-meta-lakepipe-manifest: " head &&
	dlv $PS --list "s3://lake/once/" >list &&
	test "$(grep -c "^_lakepipe/index/persistent/t/ns/ev/" list)" = 2
'

test_expect_success 'exactly-once: the same objects again: 412, the same bytes, acked' '
	dlv -v $PS --exactly-once "s3://lake/once/" <once.frames >acks 2>err &&
	test $(wc -l <acks) -eq 2 &&
	grep -q "412 PreconditionFailed" err &&
	read_once
'

test_expect_success 'exactly-once: the same messages in other bytes are stored already: acked, the first kept' '
	dlv $PS --exactly-once "s3://lake/once/" <redelivered.frames >out 2>err &&
	test $(wc -l <out) -eq 2 &&
	grep -q "^A key=once/o/small.json .* size=$(wc -c <small) " out &&
	test "$(grep -c "a redelivery" err)" = 2 &&
	read_once
'

test_expect_success 'exactly-once, PUT: another cut under a taken key: 412, conflict, exit 1' '
	test_expect_code 1 dlv $PS --exactly-once "s3://lake/once/" \
	    <other-small.frames >out 2>err &&
	test ! -s out && all_logfmt err &&
	test "$(grep -c " level=error " err)" = 1 &&
	grep -q "exists and holds other messages" err &&
	read_once
'

# RGW ignores If-None-Match on CompleteMultipartUpload (see lib-rgw.sh):
# with --exactly-once deliver stores such objects as one PUT.
test_expect_success 'exactly-once, multipart: another cut under a taken key: conflict, exit 1, the first kept' '
	dlv $PS --exactly-once "s3://lake/once/" <other-big.frames >out 2>err
	rc=$?
	grep -v " level=info " err
	echo "exit $rc, $(wc -l <out) acks" &&
	test $rc -eq 1 && test ! -s out && read_once
'

test_expect_success 'exactly-once: --index lists both, --audit is clean' '
	dlv $PS --index "s3://lake/once/" >index &&
	test $(wc -l <index) -eq 2 &&
	grep -q "^I key=o/small.json topic=$T partition=-1 first=1:0:-1:0 " index &&
	dlv $PS --audit "s3://lake/once/"
'

# A writer killed after its object but before the index entry: the next
# cut of the same first message meets the key taken, reads the stored
# object's manifest from RGW's metadata and puts its index entry in place.
test_expect_success 'exactly-once: a conflict puts a missing index entry back from the metadata' '
	C="consume --lines $SRC/sample/messages.jsonl --topic $T --publish-time 1796121481626" &&
	$C | transform --max-messages 500 >cut500.frames &&
	$C | transform --max-messages 300 >cut300.frames &&
	dlv $PS --exactly-once "s3://lake/orphan/" <cut500.frames >/dev/null &&
	dlv $PS --index "s3://lake/orphan/" >index.before &&
	test $(wc -l <index.before) -eq 4 &&
	k=$(dlv $PS --list "s3://lake/orphan/" | cut -f1 | grep "^_lakepipe/" | head -1) &&
	rgw_s3 -X DELETE "$RGW_ENDPOINT/lake/orphan/$k" 2>/dev/null &&
	test $(dlv $PS --index "s3://lake/orphan/" | wc -l) -eq 3 &&
	test_expect_code 1 dlv $PS --exactly-once "s3://lake/orphan/" \
	    <cut300.frames >/dev/null 2>err &&
	grep -q "exists and holds other messages" err &&
	! grep "level=warn" err &&
	dlv $PS --index "s3://lake/orphan/" >index.after &&
	test_cmp index.before index.after
'

test_done
