#!/bin/sh
# consume --url against the Node.js test broker (tests/peers/pulsar):
# lookups, subscriptions, batches, codecs, chunks, partitions, HTTP, TLS,
# tokens, acks reaching the broker.
. "$(dirname "$0")/test-lib.sh"

. "$TEST_DIRECTORY/lib-pulsar.sh"
# payloads FILE: the message payloads, one per line, sorted
payloads() {
	python3 -c '
import sys
d = open(sys.argv[1], "rb").read(); i = 0; out = []
while i < len(d):
    nl = d.index(b"\n", i); n = int(d[i:nl].split(b" ")[1])
    out.append(d[nl + 1:nl + 1 + n]); i = nl + 2 + n
sys.stdout.buffer.write(b"".join(sorted(x + b"\n" for x in out)))' "$1"
}

test_ack_each
echo secret-token >tok
export PULSAR_TOKEN=

test_expect_success 'start the broker (token auth, 2 brokers)' '
	test_start_server pb.json node "$PB/broker.js" --token secret-token \
	    --timeout 300 &&
	URL=$(json_get pb.json serviceUrl) && echo "$URL" >url &&
	json_get pb.json httpUrl >hurl
'
URL=$(cat url 2>/dev/null)
HURL=$(cat hurl 2>/dev/null)

test_expect_success 'batches: every message once, ids, acked at the broker' '
	ctl subscriptions topic=t/ns/a subscription=bk >/dev/null &&
	ctl publish topic=t/ns/a payload="m{i}" count=25 batchSize=10 \
	    properties.src="x y" key=k{i} eventTime=1234 >/dev/null &&
	test_timeout 30 consume --url "$URL" --topic t/ns/a --subscription bk \
	    --token-file tok --stop-at-end >out 2>err &&
	test "$(count out)" = 25 &&
	grep -a "^M 2 seq=1 id=100:0:-1:0 topic=persistent://t/ns/a pt=[0-9]* et=1234 key=k0 p.src=x%20y$" out &&
	grep -a " id=100:2:-1:4 " out &&
	test "$(sub t/ns/a bk backlog)" = 0
'

test_expect_success 'a batch of one is a batch; single messages have batch -1' '
	ctl subscriptions topic=t/ns/b subscription=bk >/dev/null &&
	ctl publish topic=t/ns/b payload="one" batchSize=1 >/dev/null &&
	ctl publish topic=t/ns/b payload="single" >/dev/null &&
	test_timeout 30 consume --url "$URL" --topic t/ns/b --subscription bk \
	    --token-file tok --stop-at-end >out &&
	grep -a "id=[0-9]*:0:-1:0 " out && grep -a "id=[0-9]*:1:-1:-1 " out &&
	test "$(sub t/ns/b bk backlog)" = 0
'

for codec in lz4 zlib zlib-nomarker zstd snappy; do
	test_expect_success "compressed batches: $codec" '
		ctl subscriptions topic=t/ns/c-'$codec' subscription=bk >/dev/null &&
		ctl publish topic=t/ns/c-'$codec' payload="hello {i} hello hello" \
		    count=50 batchSize=20 codec='$codec' >/dev/null &&
		test_timeout 30 consume --url "$URL" --topic t/ns/c-'$codec' \
		    --subscription bk --token-file tok --stop-at-end >out &&
		test "$(count out)" = 50 &&
		grep -a "^hello 49 hello hello$" out &&
		test "$(sub t/ns/c-'$codec' bk backlog)" = 0
	'
done

test_expect_success 'chunked messages, interleaved, a duplicate chunk' '
	ctl subscriptions topic=t/ns/ch subscription=bk >/dev/null &&
	ctl publish topic=t/ns/ch payload="0123456789" repeat=300 count=3 \
	    chunkSize=1000 interleaveChunks=true duplicateChunk=1 >/dev/null &&
	test_timeout 30 consume --url "$URL" --topic t/ns/ch --subscription bk \
	    --token-file tok --stop-at-end >out &&
	test "$(count out)" = 3 &&
	test "$(grep -ac "^M 3000 " out)" = 3 &&
	test "$(sub t/ns/ch bk backlog)" = 0
'

test_expect_success 'partitions on different brokers, each consumed' '
	ctl topics topic=t/ns/p partitions=4 >/dev/null &&
	ctl subscriptions topic=t/ns/p subscription=bk >/dev/null &&
	ctl publish topic=t/ns/p payload="p{i}" count=100 \
	    batchSize=5 >/dev/null &&
	test_timeout 30 consume --url "$URL" --topic persistent://t/ns/p \
	    --subscription bk --token-file tok --stop-at-end >out &&
	test "$(count out)" = 100 &&
	grep -aq "topic=persistent://t/ns/p-partition-3 " out &&
	grep -aq "id=[0-9]*:[0-9]*:1:" out &&
	test "$(sub t/ns/p bk backlog)" = 0
'

test_expect_success 'HTTP lookup (http:// access address), redirects' '
	ctl topics topic=t/ns/h partitions=2 >/dev/null &&
	ctl subscriptions topic=t/ns/h subscription=bk >/dev/null &&
	ctl publish topic=t/ns/h payload="h{i}" count=20 >/dev/null &&
	ctl faults httpRedirect=true >/dev/null &&
	PULSAR_TOKEN=secret-token test_timeout 30 consume --url "$HURL" \
	    --topic t/ns/h --subscription bk --stop-at-end >out &&
	ctl faults/reset >/dev/null &&
	test "$(count out)" = 20 &&
	test "$(sub t/ns/h bk backlog)" = 0
'

test_expect_success 'binary lookup through the proxy (proxy_through_service_url)' '
	ctl topics topic=t/ns/px owner=1 >/dev/null &&
	ctl subscriptions topic=t/ns/px subscription=bk >/dev/null &&
	ctl publish topic=t/ns/px payload="x{i}" count=5 >/dev/null &&
	ctl faults lookupProxy=true >/dev/null &&
	test_timeout 30 consume --url "$URL" --topic t/ns/px \
	    --subscription bk --token-file tok --stop-at-end >out &&
	ctl faults/reset >/dev/null &&
	test "$(count out)" = 5 &&
	ctl events type=CONNECT >ev.json &&
	grep -q "proxy_to_broker_url" ev.json
'

test_expect_success 'a bad token: a clear error, exit 1, no retry loop' '
	echo wrong >bad &&
	test_expect_code 1 test_timeout 20 consume --url "$URL" --topic t/ns/a \
	    --subscription bk --token-file bad --stop-at-end >out 2>err &&
	grep -i "AuthenticationError" err && grep "token" err &&
	! grep -q wrong err &&
	test_expect_code 1 test_timeout 20 consume --url "$HURL" --topic t/ns/a \
	    --subscription bk --token-file bad --stop-at-end >out 2>err &&
	grep "401" err
'

test_expect_success 'acks through the ack channel reach the broker' '
	mkfifo fifo &&
	ctl subscriptions topic=t/ns/ack subscription=bk >/dev/null &&
	ctl publish topic=t/ns/ack payload="a{i}" count=300 batchSize=7 >/dev/null &&
	test_timeout 30 sh -c "consume --url $URL --topic t/ns/ack --subscription bk \
	    --token-file tok --stop-at-end --acks fifo 2>err | ack_each >fifo" &&
	grep "300 messages emitted, 300 acked" err &&
	test "$(sub t/ns/ack bk backlog)" = 0
'

test_expect_success 'unacked messages stay in the backlog' '
	ctl subscriptions topic=t/ns/un subscription=bk >/dev/null &&
	ctl publish topic=t/ns/un payload="u{i}" count=10 >/dev/null &&
	printf "A key=x seqs=1-4\n" >acks &&
	test_timeout 30 consume --url "$URL" --topic t/ns/un --subscription bk \
	    --token-file tok --stop-at-end --acks acks >out 2>err &&
	grep "10 emitted\|10 messages emitted, 4 acked" err &&
	test "$(sub t/ns/un bk backlog)" = 6
'

test_expect_success 'partial batch acks: ack_set' '
	ctl subscriptions topic=t/ns/ps subscription=bk >/dev/null &&
	ctl publish topic=t/ns/ps payload="b{i}" count=10 batchSize=10 >/dev/null &&
	printf "A key=x seqs=1-3,5\n" >acks &&
	test_timeout 30 consume --url "$URL" --topic t/ns/ps --subscription bk \
	    --token-file tok --stop-at-end --acks acks >out 2>err &&
	test "$(sub t/ns/ps bk backlog)" = 6
'

test_expect_success 'subscription types' '
	for type in shared failover key_shared; do
		ctl subscriptions topic=t/ns/ty-$type subscription=bk \
		    type=$(echo $type | sed "s/^./\U&/;s/_s/_S/") >/dev/null &&
		ctl publish topic=t/ns/ty-$type payload="t{i}" key="k{i}" count=10 >/dev/null &&
		test_timeout 30 consume --url "$URL" --topic t/ns/ty-$type \
		    --subscription bk --type $type --token-file tok \
		    --stop-at-end >out &&
		test "$(count out)" = 10 || return 1
	done
'

test_expect_success 'start: latest for a new subscription' '
	ctl publish topic=t/ns/st payload="old{i}" count=5 >/dev/null &&
	test_timeout 30 consume --url "$URL" --topic t/ns/st --subscription new \
	    --start latest --token-file tok --stop-at-end >out &&
	test "$(count out)" = 0
'

test_expect_success 'start: seek an existing subscription by time and by id' '
	ctl subscriptions topic=t/ns/sk subscription=bk >/dev/null &&
	ctl publish topic=t/ns/sk payload="e{i}" count=5 publishTime=1000 >/dev/null &&
	ctl publish topic=t/ns/sk payload="l{i}" count=5 publishTime=5000 >/dev/null &&
	test_timeout 30 consume --url "$URL" --topic t/ns/sk --subscription bk \
	    --token-file tok --stop-at-end >out &&
	test "$(count out)" = 10 &&
	test_timeout 30 consume --url "$URL" --topic t/ns/sk --subscription bk \
	    --start 5000 --token-file tok --stop-at-end >out &&
	test "$(count out)" = 5 && grep -aq "^l0$" out &&
	ledger=$(grep -a "^M" out | head -1 | sed "s/.* id=\([0-9]*\):.*/\1/") &&
	test_timeout 30 consume --url "$URL" --topic t/ns/sk --subscription bk \
	    --start $ledger:8 --token-file tok --stop-at-end >out &&
	test "$(count out)" = 2 && grep -aq "^l3$" out
'

test_expect_success 'usage errors: exit 2' '
	test_expect_code 2 consume --url "$URL" --topic t/ns/a 2>err &&
	test_expect_code 2 consume --url ftp://x --topic t/ns/a --subscription s 2>err &&
	test_expect_code 2 consume --url "$URL" --topic t/ns/a --subscription s --type nope 2>err &&
	test_expect_code 2 consume --url "$URL" --topic t/ns/a --subscription s --start yesterday 2>err
'

test_done
