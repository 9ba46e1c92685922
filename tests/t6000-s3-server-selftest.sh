#!/bin/sh
# The S3/COS test server (tests/peers/s3): its own self test (Tencent's SDK
# and the AWS signer against it), the signature reference vectors, the
# control API and CLI, addressing, and a clean exit.
. "$(dirname "$0")/test-lib.sh"

S3=$PEERS/s3

test_expect_success 'reference vectors: SDKs reproduce the documented examples' '
	test_timeout 60 node "$S3/vectors.js" --check &&
	test_timeout 60 node "$S3/vectors.js" >vectors.jsonl &&
	grep -q 3b8851a11a569213c17ba8fa7dcf2abec6935172 vectors.jsonl &&
	grep -q 01681b8c9d798a678e43b685a9f1bba0f6c0e012 vectors.jsonl &&
	grep -q f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41 vectors.jsonl
'

test_expect_success 'CRC-64/XZ check value' '
	test_timeout 30 node "$S3/crc64.js" >crc.out &&
	grep -q "^11051210869376104954 " crc.out
'

test_expect_success 'self test: COS SDK, SigV4, faults, control API' '
	test_timeout 150 node "$S3/selftest.js" >selftest.out 2>selftest.err ||
	{ cat selftest.out selftest.err; false; } &&
	! grep "^not ok" selftest.out &&
	grep -q "^1\.\." selftest.out
'

test_expect_success 'server starts and prints one JSON line' '
	test_start_server s3.json node "$S3/server.js" --bucket test --timeout 120 --ready-file ready.json &&
	port=$(json_get s3.json port) && test "$port" -gt 0 &&
	ctl=$(json_get s3.json control) && test -n "$ctl" &&
	test_cmp s3.json ready.json
'

test_expect_success 'anonymous request refused, nothing written' '
	port=$(json_get s3.json port) &&
	curl -s -o out.xml -w "%{http_code}" -X PUT --data-binary hello \
		"http://127.0.0.1:$port/test/anon" >code &&
	test "$(cat code)" = 403 &&
	grep -q "<Code>AccessDenied</Code>" out.xml &&
	node "$S3/ctl.js" --info s3.json objects test >objects &&
	test ! -s objects
'

test_expect_success 'virtual-hosted addressing via Host header and via proxy form' '
	port=$(json_get s3.json port) &&
	node "$S3/ctl.js" --info s3.json clear-requests &&
	curl -s -o /dev/null -H "Host: test.localhost:$port" "http://127.0.0.1:$port/k1" &&
	curl -s -o /dev/null -x "http://127.0.0.1:$port" "http://test.cos.ap-guangzhou.localhost:$port/k2" &&
	node "$S3/ctl.js" --info s3.json requests >reqs.json &&
	node -e "
		const r = require(\"./reqs.json\");
		if (r.length !== 2) throw new Error(\"want 2 requests, got \" + r.length);
		for (const [i, k] of [[0, \"k1\"], [1, \"k2\"]])
			if (r[i].style !== \"vhost\" || r[i].bucket !== \"test\" || r[i].key !== k || r[i].op !== \"GetObject\")
				throw new Error(JSON.stringify(r[i]));
	"
'

test_expect_success 'control CLI: faults are listed and counted down' '
	node "$S3/ctl.js" --info s3.json fault internal op=PutObject count=2 >id &&
	node "$S3/ctl.js" --info s3.json faults >faults.json &&
	grep -q "\"remaining\": 2" faults.json &&
	node "$S3/ctl.js" --info s3.json clear-faults &&
	node "$S3/ctl.js" --info s3.json faults >faults.json &&
	grep -q "^\[\]" faults.json &&
	test_must_fail node "$S3/ctl.js" --info s3.json fault no-such-fault 2>err &&
	grep -q "unknown fault type" err
'

test_expect_success 'server exits on SIGTERM and removes its temporary store' '
	pid=$(json_get s3.json pid) && dir=$(json_get s3.json dir) &&
	test -d "$dir" &&
	kill -TERM "$pid" &&
	i=0 && while kill -0 "$pid" 2>/dev/null && test $i -lt 50; do sleep 0.1; i=$((i+1)); done &&
	! kill -0 "$pid" 2>/dev/null &&
	test ! -d "$dir"
'

test_expect_success 'server exits by itself after --timeout' '
	test_start_server s3b.json node "$S3/server.js" --timeout 1 &&
	pid=$(json_get s3b.json pid) &&
	sleep 3 &&
	! kill -0 "$pid" 2>/dev/null
'

test_done
