#!/bin/sh
# consume --url against the test broker's faults: dropped connections,
# split frames, bad checksums, broker errors, unload, auth challenges,
# TLS, SIGTERM.
. "$(dirname "$0")/test-lib.sh"

. "$TEST_DIRECTORY/lib-pulsar.sh"
# fresh TOPIC N: a topic with subscription bk and N messages
fresh() {
	ctl faults/reset >/dev/null &&
	ctl subscriptions topic="$1" subscription=bk >/dev/null &&
	ctl publish topic="$1" payload="m{i}" count="$2" batchSize="${3:-0}" >/dev/null
}
run() { test_timeout 60 consume --url "$URL" --subscription bk --stop-at-end "$@"; }

test_expect_success 'start the broker with TLS' '
	openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost \
	    -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
	    -keyout key.pem -out cert.pem 2>/dev/null &&
	test_start_server pb.json node "$PB/broker.js" --tls-cert cert.pem \
	    --tls-key key.pem --timeout 300 &&
	json_get pb.json serviceUrl >url &&
	json_get pb.json serviceUrlTls >surl &&
	json_get pb.json httpUrlTls >hsurl
'
URL=$(cat url 2>/dev/null)

test_expect_success 'a dropped connection: reconnect, nothing lost' '
	fresh t/f/drop 200 10 &&
	ctl faults dropAfterMessages=3 clientVersion=lakepipe >/dev/null &&
	run --topic t/f/drop >out 2>err &&
	ctl faults/reset >/dev/null &&
	payloads() { grep -a "^m" "$1" | sort -u; } &&
	test "$(payloads out | wc -l)" = 200 &&
	test "$(sub t/f/drop bk backlog)" = 0
'

test_expect_success 'frames split at every byte' '
	fresh t/f/split 30 5 &&
	ctl faults splitWrites=true clientVersion=lakepipe >/dev/null &&
	run --topic t/f/split >out 2>err &&
	ctl faults/reset >/dev/null &&
	test "$(count out)" = 30
'

test_expect_success 'a bad checksum is reported, not emitted, then read again' '
	fresh t/f/crc 5 &&
	ctl faults corruptChecksum=1 clientVersion=lakepipe >/dev/null &&
	run --topic t/f/crc >out 2>err &&
	ctl faults/reset >/dev/null &&
	grep -i "checksum" err &&
	test "$(grep -a "^m" out | sort -u | wc -l)" = 5 &&
	test "$(sub t/f/crc bk backlog)" = 0
'

test_expect_success 'ServiceNotReady on SUBSCRIBE and LOOKUP: retried' '
	fresh t/f/snr 5 &&
	ctl faults errors.SUBSCRIBE.error=ServiceNotReady errors.SUBSCRIBE.count=2 \
	    errors.LOOKUP.count=1 >/dev/null &&
	run --topic t/f/snr >out 2>err &&
	ctl faults/reset >/dev/null &&
	grep ServiceNotReady err &&
	test "$(count out)" = 5
'

test_expect_success 'ConsumerBusy: retried until the other consumer leaves' '
	fresh t/f/busy 5 &&
	ctl faults errors.SUBSCRIBE.error=ConsumerBusy errors.SUBSCRIBE.count=1 >/dev/null &&
	run --topic t/f/busy >out 2>err &&
	ctl faults/reset >/dev/null &&
	grep ConsumerBusy err && test "$(count out)" = 5
'

test_expect_success 'unload (CLOSE_CONSUMER, new owner): resubscribed' '
	fresh t/f/unload 5 &&
	(
		consume --url "$URL" --topic t/f/unload \
		    --subscription bk >out 2>err &
		pid=$!
		sleep 1
		ctl unload topic=t/f/unload moveToNextBroker=true >/dev/null
		sleep 0.5
		ctl publish topic=t/f/unload payload="after" >/dev/null
		sleep 1.5
		kill -TERM $pid
		wait $pid
	) &&
	grep -aq "^after$" out &&
	test "$(sub t/f/unload bk backlog)" = 0
'

test_expect_success 'auth challenge on connect answered' '
	fresh t/f/chal 3 &&
	ctl faults challengeOnConnect=true >/dev/null &&
	run --topic t/f/chal >out 2>err &&
	ctl faults/reset >/dev/null &&
	test "$(count out)" = 3
'

test_expect_success 'unknown command types (type 99): skipped, no reconnect' '
	fresh t/f/cmd99 40 4 &&
	ctl faults unknownCommandEvery=2 clientVersion=lakepipe >/dev/null &&
	run -v --topic t/f/cmd99 >out 2>err &&
	ctl faults/reset >/dev/null &&
	test "$(count out)" = 40 &&
	grep "ignoring command 99" err &&
	! grep -e "bad command" -e "consumer down" err &&
	test "$(sub t/f/cmd99 bk backlog)" = 0
'

test_expect_success 'unknown fields, broker entry metadata' '
	fresh t/f/unk 20 4 &&
	ctl faults unknownFields=true brokerEntryMetadata=true >/dev/null &&
	run --topic t/f/unk >out 2>err &&
	ctl faults/reset >/dev/null &&
	test "$(count out)" = 20
'

test_expect_success 'TLS: pulsar+ssl:// with --ca-file' '
	fresh t/f/tls 7 3 &&
	test_timeout 60 consume --url "$(cat surl)" --ca-file cert.pem \
	    --topic t/f/tls --subscription bk --stop-at-end >out &&
	test "$(count out)" = 7
'

test_expect_success 'TLS: https:// lookup with --ca-file' '
	fresh t/f/tlsh 4 &&
	test_timeout 60 consume --url "$(cat hsurl)" --ca-file cert.pem \
	    --topic t/f/tlsh --subscription bk --stop-at-end >out &&
	test "$(count out)" = 4
'

test_expect_success 'TLS: an untrusted certificate is refused' '
	fresh t/f/tlsbad 1 &&
	test_must_fail test_timeout 10 consume --url "$(cat surl)" \
	    --topic t/f/tlsbad --subscription bk --stop-at-end >out 2>err;
	grep -i "certificate" err
'

test_expect_success 'SIGTERM: the last acks are sent before exit' '
	fresh t/f/term 50 &&
	(
		consume --url "$URL" --topic t/f/term \
		    --subscription bk >out 2>err &
		pid=$!
		sleep 1.5
		kill -TERM $pid
		wait $pid
	) &&
	test "$(count out)" = 50 &&
	test "$(sub t/f/term bk backlog)" = 0
'

test_done
