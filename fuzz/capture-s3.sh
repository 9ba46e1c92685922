#!/bin/sh
# fuzz/capture-s3.sh DIR: the XML answers of the repo's S3/COS test
# server (tests/peers/s3/server.js, anonymous requests allowed) to the
# requests deliver makes, one file each in DIR: the seeds of fuzz-xml.
# ListObjectsV2 pages (truncated, with a continuation token; keys that
# need escaping), InitiateMultipartUpload, CompleteMultipartUpload, and
# errors in the S3 and the COS form.
set -eu
dir=$1
src=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'kill $pid 2>/dev/null; rm -rf "$tmp"' EXIT
mkdir -p "$dir"
node "$src/tests/peers/s3/server.js" --quiet --allow-anonymous \
    --bucket test --list-page 2 --min-part-size 0 --timeout 120 \
    --ready-file "$tmp/ready" >/dev/null 2>&1 &
pid=$!
while [ ! -s "$tmp/ready" ]; do
	kill -0 $pid || exit 1
	sleep 0.1
done
port=$(sed 's/.*"port":\([0-9]*\).*/\1/' "$tmp/ready")
u=http://127.0.0.1:$port
c() { curl -s "$@"; }
for k in 'lake/a.jsonl' 'lake/b%26c%3C%3E.jsonl' 'lake/d%22e%27.jsonl'; do
	printf 'x' | c -X PUT --data-binary @- "$u/test/$k" >/dev/null
done
c "$u/test?list-type=2&prefix=lake/" >"$dir/list-page1.xml"
tok=$(sed -n 's/.*<NextContinuationToken>\([^<]*\)<.*/\1/p' \
    "$dir/list-page1.xml")
c "$u/test?list-type=2&prefix=lake/&continuation-token=$(printf %s "$tok" |
    sed 's/=/%3D/g; s/+/%2B/g; s|/|%2F|g')" >"$dir/list-page2.xml"
c "$u/test?list-type=2&prefix=none/" >"$dir/list-empty.xml"
c -X POST "$u/test/big.jsonl?uploads" >"$dir/initiate.xml"
id=$(sed -n 's/.*<UploadId>\([^<]*\)<.*/\1/p' "$dir/initiate.xml")
etag=$(printf 'part1' | c -X PUT --data-binary @- -D - -o /dev/null \
    "$u/test/big.jsonl?partNumber=1&uploadId=$id" |
    sed -n 's/^[Ee][Tt]ag: *\([^\r]*\).*/\1/p')
printf '<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>%s</ETag></Part></CompleteMultipartUpload>' \
    "$etag" | c -X POST --data-binary @- "$u/test/big.jsonl?uploadId=$id" \
    >"$dir/complete.xml"
printf '<CompleteMultipartUpload><Part><PartNumber>2</PartNumber><ETag>"x"</ETag></Part><Part><PartNumber>1</PartNumber><ETag>"y"</ETag></Part></CompleteMultipartUpload>' |
    c -X POST --data-binary @- "$u/test/big.jsonl?uploadId=$id" \
    >"$dir/error-complete.xml"
c "$u/test/no-such-key" >"$dir/error-s3.xml"
c -H 'Host: test-1250000000.cos.ap-guangzhou.myqcloud.com' \
    "$u/nobucket/no-such-key" >"$dir/error-cos.xml"
