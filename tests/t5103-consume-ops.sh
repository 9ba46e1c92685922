#!/bin/sh
# consume run as operators run it: permanent errors end at once with one
# line, transient ones are retried quietly (and --give-up ends them),
# SIGTERM is prompt in every state, the end comes once all is acked,
# whatever holds stdout, and every line on stderr is logfmt.
. "$(dirname "$0")/test-lib.sh"

PB=$PEERS/pulsar
ctl() { node "$PB/ctl.js" --info pb.json "$@"; }
sub() { ctl subscription topic="$1" subscription="$2" >sub.json && json_get sub.json "$3"; }
count() { grep -ac "^M [0-9]* seq=" "$1"; }
# fresh TOPIC N: a topic with subscription bk and N messages
fresh() {
	ctl faults/reset >/dev/null &&
	ctl topics topic="$1" >/dev/null &&
	ctl subscriptions topic="$1" subscription=bk >/dev/null &&
	{ [ "$2" = 0 ] || ctl publish topic="$1" payload="m{i}" count="$2"; } >/dev/null
}
# errors FILE: the error lines; nothing at warn
one_error() {
	test "$(grep -c "level=error" "$1")" = 1 && ! grep "level=warn" "$1"
}
# ends_within SECONDS PID: wait for PID to end, at most SECONDS
ends_within() {
	i=0
	while kill -0 "$2" 2>/dev/null; do
		i=$((i + 1))
		[ $i -le $(($1 * 10)) ] || { echo "pid $2 still runs" >&2; return 1; }
		sleep 0.1
	done
}
# wait_for PATTERN FILE: until FILE holds PATTERN (10 s at most)
wait_for() {
	i=0
	until grep -q "$1" "$2" 2>/dev/null; do
		i=$((i + 1))
		[ $i -le 100 ] || { echo "no '$1' in $2" >&2; cat "$2" >&2; return 1; }
		sleep 0.1
	done
}

test_ack_each
echo secret-token >tok
echo wrong-token >bad
export PULSAR_TOKEN=

test_expect_success 'start the broker (token, TLS, no auto-creation)' '
	openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost \
	    -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
	    -keyout key.pem -out cert.pem 2>/dev/null &&
	test_start_server pb.json node "$PB/broker.js" --token secret-token \
	    --tls-cert cert.pem --tls-key key.pem --no-auto-create \
	    --timeout 300 &&
	json_get pb.json serviceUrl >url &&
	json_get pb.json serviceUrlTls >surl &&
	json_get pb.json port >port &&
	json_get pb.json httpPort >hport
'
URL=$(cat url 2>/dev/null)
run() {
	test_timeout 30 consume --subscription bk --stop-at-end "$@"
}

test_expect_success 'a token refused: one line, exit 1, at once' '
	fresh t/o/auth 3 &&
	t0=$(date +%s) &&
	test_expect_code 1 run --url "$URL" --topic t/o/auth --token-file bad \
	    >out 2>err &&
	test $(($(date +%s) - t0)) -lt 5 &&
	test_one_line err && one_error err &&
	grep "AuthenticationError" err && grep -e "--token-file" err
'

test_expect_success 'TLS on a plain port: one line, exit 1' '
	test_expect_code 1 run --url "pulsar+ssl://127.0.0.1:$(cat port)" \
	    --topic t/o/auth --token-file tok >out 2>err &&
	test_one_line err && one_error err && grep "TLS" err
'

test_expect_success 'a self-signed certificate without --ca-file: the hint' '
	test_expect_code 1 run --url "$(cat surl)" --topic t/o/auth \
	    --token-file tok >out 2>err &&
	test_one_line err && one_error err &&
	grep "certificate" err && grep -e "--ca-file" err
'

test_expect_success 'pulsar:// aimed at the HTTP port: one line, exit 1' '
	test_expect_code 1 run --url "pulsar://127.0.0.1:$(cat hport)" \
	    --topic t/o/auth --token-file tok >out 2>err &&
	test_one_line err && one_error err &&
	grep "does not speak the Pulsar protocol" err
'

test_expect_success 'a topic that does not exist: one error, exit 1' '
	t0=$(date +%s) &&
	test_expect_code 1 run --url "$URL" --topic t/o/nosuch \
	    --token-file tok >out 2>err &&
	test $(($(date +%s) - t0)) -lt 5 &&
	one_error err && grep "TopicNotFound" err
'

test_expect_success 'unreachable, --give-up 2s: exit 1, a few lines' '
	t0=$(date +%s) &&
	test_expect_code 1 run --url pulsar://127.0.0.1:1 --topic t/o/auth \
	    --give-up 2s >out 2>err &&
	test $(($(date +%s) - t0)) -lt 10 &&
	test "$(wc -l <err)" -le 4 &&
	grep "msg=\"reconnecting\".*attempt=1 " err &&
	grep "msg=\"giving up\"" err &&
	test "$(grep -c level=error err)" = 1
'

test_expect_success 'SIGTERM in a reconnect loop: ends at once, exit 0' '
	consume --url pulsar://127.0.0.1:1 --topic t/o/auth --subscription bk \
	    2>err &
	pid=$! &&
	wait_for "reconnecting" err &&
	sleep 0.5 &&
	kill -TERM $pid &&
	ends_within 2 $pid &&
	wait $pid &&
	grep "msg=\"stopping\"" err
'

test_expect_success 'SIGTERM while a lookup hangs: ends at once' '
	fresh t/o/hang 3 &&
	ctl faults silence.LOOKUP=1 clientVersion=lakepipe >/dev/null ||
	exit 1
	consume --url "$URL" --topic t/o/hang --subscription bk \
	    --token-file tok >out 2>err &
	pid=$! &&
	wait_for "msg=\"connected\"" err &&
	kill -TERM $pid &&
	ends_within 2 $pid &&
	wait $pid;
	rc=$? &&
	ctl faults/reset >/dev/null &&
	test $rc = 0 && ! grep "no answer" err
'

test_expect_success 'done once all is acked, while another holds stdout' '
	fresh t/o/held 20 &&
	mkfifo fifo &&
	test_timeout 60 sh -c "
		sleep 120 & echo \$! >sleeper
		consume --url $URL --topic t/o/held --subscription bk \
		    --token-file tok --stop-at-end --acks fifo 2>err
		echo \$? >rc" | ack_each >fifo &
	i=0 && until [ -s rc ] && [ $i -lt 300 ]; do
		sleep 0.1 && i=$((i + 1))
	done &&
	kill $(cat sleeper) &&
	wait &&
	test "$(cat rc)" = 0 &&
	grep "20 messages emitted, 20 acked" err &&
	test "$(sub t/o/held bk backlog)" = 0
'

test_expect_success 'a closed stdout: "stdout closed", exit 1' '
	seq 1 200000 >lines &&
	sh -c "consume --lines lines 2>err; echo \$? >rc" | head -c 10 >/dev/null &&
	test "$(cat rc)" = 1 &&
	test_one_line err && grep "level=warn.*stdout closed" err
'

test_expect_success '--metrics-file: counts, and the broker'"'"'s backlog' '
	fresh t/o/metrics 5 && mkfifo mfifo || exit 1
	consume --url "$URL" --topic t/o/metrics --subscription bk \
	    --token-file tok --acks mfifo --metrics-file m.prom >out 2>err &
	pid=$! &&
	exec 9>mfifo &&
	i=0 && until grep -q "backlog_messages{partition=\"-1\"} 5" m.prom 2>/dev/null
	do
		i=$((i + 1)) && [ $i -lt 150 ] && sleep 0.1 ||
		{ cat m.prom err; exit 1; }
	done &&
	kill -TERM $pid &&
	exec 9>&- &&
	wait $pid &&
	cat m.prom &&
	grep "^lakepipe_consume_messages_total 5$" m.prom &&
	grep "^lakepipe_consume_bytes_total 10$" m.prom &&
	grep "^lakepipe_consume_acks_total 0$" m.prom &&
	grep "^lakepipe_consume_reconnects_total 0$" m.prom &&
	grep "^lakepipe_consume_failures_total 0$" m.prom &&
	grep "^lakepipe_consume_backlog_messages{partition=\"-1\"} 5$" m.prom
'

test_expect_success '-P: a line a second, without data too' '
	fresh t/o/quiet 0 || exit 1
	consume -P --url "$URL" --topic t/o/quiet --subscription bk \
	    --token-file tok >out 2>err &
	pid=$! &&
	i=0 && until [ "$(grep -c "msg=\"progress\"" err)" -ge 2 ]; do
		i=$((i + 1)) && [ $i -lt 50 ] && sleep 0.1 || break
	done &&
	kill -TERM $pid && wait $pid &&
	test "$(grep -c "msg=\"progress\" messages=0 " err)" -ge 2
'

test_expect_success '-q: warnings and errors only' '
	fresh t/o/q 2 &&
	run -q --url "$URL" --topic t/o/q --token-file tok >out 2>err &&
	test "$(count out)" = 2 && ! test -s err
'

test_expect_success 'every line on stderr is logfmt' '
	for f in err*; do
		! grep -v "^ts=[0-9TZ:.-]* level=[a-z]* prog=consume " "$f" ||
		exit 1
	done
'

test_done
