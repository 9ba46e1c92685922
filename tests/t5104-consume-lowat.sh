#!/bin/sh
# consume --url: while messages stream, poll(2) wakes for a socket holding
# a share of the window of permits (SO_RCVLOWAT), not for every segment;
# a wait for the mark ends on a timer, so that the tail of a stream and a
# message after a pause are read; a window too small for the mark sets
# none.
. "$(dirname "$0")/test-lib.sh"

. "$TEST_DIRECTORY/lib-pulsar.sh"
# frames FILE: message frames in FILE so far
frames() { count "$1" 2>/dev/null || echo 0; }
# wait_frames FILE N: until FILE holds N message frames (60 s at most)
wait_frames() {
	_i=0
	until [ "$(frames "$1")" -ge "$2" ]; do
		_i=$((_i + 1))
		[ $_i -lt 1200 ] || { echo "$(frames "$1") frames, not $2" >&2; return 1; }
		sleep 0.05
	done
}

test_expect_success 'start the broker' '
	test_start_server pb.json node "$PB/broker.js" --timeout 300 &&
	json_get pb.json serviceUrl >url
'
URL=$(cat url 2>/dev/null)

test_expect_success 'a stream of batches: a mark of a quarter of the window, every message once' '
	ctl subscriptions topic=t/lw/a subscription=bk >/dev/null &&
	ctl blast topic=t/lw/a count=100000 payloadSize=100 batchSize=100 \
	    >/dev/null &&
	test_timeout 120 consume -v --url "$URL" --topic t/lw/a \
	    --subscription bk --stop-at-end >out 2>err &&
	test "$(count out)" = 100000 &&
	test "$(grep -a "^M " out | sed "s/.* seq=\([0-9]*\).*/\1/" |
	    sort -un | wc -l)" = 100000 &&
	grep "msg=\"low-water mark\"" err >marks &&
	bytes=$(sed -n "1s/.* bytes=\([0-9]*\).*/\1/p" marks) &&
	# 1000 permits of about 120 bytes (100 a payload, its metadata):
	# a quarter, capped at 32 KiB
	test "$bytes" -ge 20000 && test "$bytes" -le 32768 &&
	test "$(sub t/lw/a bk backlog)" = 0
'

test_expect_success 'the tail of a stream and a message after a pause are read' '
	ctl subscriptions topic=t/lw/b subscription=bk >/dev/null &&
	ctl blast topic=t/lw/b count=20000 payloadSize=100 batchSize=100 \
	    >/dev/null &&
	{ test_timeout 120 consume -v --url "$URL" --topic t/lw/b \
	    --subscription bk >out.b 2>err.b & } &&
	pid=$! && test_at_end "kill $pid 2>/dev/null" &&
	wait_frames out.b 20000 &&
	grep "msg=\"low-water mark\"" err.b &&
	test_wait_for err.b "msg=\"low-water wait over\"" &&
	ctl publish topic=t/lw/b payload=late count=1 >/dev/null &&
	wait_frames out.b 20001 &&
	test "$(count out.b)" = 20001 &&
	tail -1 out.b | grep -x late &&
	kill $pid
'

test_expect_success 'a window too small for a mark: none set, every message' '
	ctl subscriptions topic=t/lw/c subscription=bk >/dev/null &&
	ctl blast topic=t/lw/c count=20000 payloadSize=100 batchSize=5 \
	    >/dev/null &&
	test_timeout 120 consume -v --url "$URL" --topic t/lw/c \
	    --subscription bk --stop-at-end --receiver-queue 10 >out.c 2>err.c &&
	test "$(count out.c)" = 20000 &&
	grep "msg=\"subscribed\"" err.c &&
	! grep "low-water" err.c
'

test_done
