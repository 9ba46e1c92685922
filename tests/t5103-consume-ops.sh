#!/bin/sh
# consume run as operators run it: permanent errors end at once with one
# line, transient ones are retried quietly (and --give-up ends them),
# SIGTERM is prompt in every state, the end comes once all is acked,
# whatever holds stdout, and every line on stderr is logfmt.
. "$(dirname "$0")/test-lib.sh"

. "$TEST_DIRECTORY/lib-pulsar.sh"
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
	    2>err.loop &
	pid=$! &&
	test_wait_for err.loop "reconnecting" &&
	sleep 0.5 &&
	kill -TERM $pid &&
	ends_within 2 $pid &&
	wait $pid &&
	grep "msg=\"stopping\"" err.loop
'

test_expect_success 'SIGTERM while a lookup hangs: ends at once' '
	fresh t/o/hang 3 &&
	ctl faults silence.LOOKUP=1 clientVersion=lakepipe >/dev/null ||
	exit 1
	consume --url "$URL" --topic t/o/hang --subscription bk \
	    --token-file tok >out 2>err.hang &
	pid=$! &&
	test_wait_for err.hang "msg=\"connected\"" &&
	kill -TERM $pid &&
	ends_within 2 $pid &&
	wait $pid;
	rc=$? &&
	ctl faults/reset >/dev/null &&
	test $rc = 0 && ! grep "no answer" err.hang
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

test_expect_success '--check: good settings, exit 0, silent, no network' '
	consume --check --url pulsar://192.0.2.1:6650 --topic t/o/x \
	    --subscription bk --token-file tok --type failover \
	    --start 100:3 --give-up 5m >out 2>err &&
	! test -s out && ! test -s err
'

bad_setting() {
	test_expect_code 2 consume --check "$@" >out 2>err &&
	test_one_line err && grep "level=error" err
}

test_expect_success '--check: each bad setting is one line, exit 2' '
	g="--topic t/o/x --subscription bk" &&
	bad_setting --url ftp://h $g && grep -e "--url" err &&
	bad_setting --url pulsar://h --topic t/o/x && grep -e "--subscription" err &&
	bad_setting --url pulsar://h $g --type nope && grep -e "--type" err &&
	bad_setting --url pulsar://h $g --token-file no/such && grep -e "--token-file" err &&
	: >empty && bad_setting --url pulsar://h $g --token-file empty &&
	bad_setting --url pulsar://h $g --start 12:x && grep -e "--start" err &&
	bad_setting --url pulsar://h $g --give-up 5x && grep -e "--give-up" err &&
	bad_setting --url pulsar://h $g --receiver-queue 1 &&
	bad_setting --url pulsar://h $g --ca-file no/such.pem &&
	bad_setting --url pulsar://h $g --lines x &&
	bad_setting --url pulsar://h $g --probe --unsubscribe &&
	bad_setting --lines no/such &&
	bad_setting --lines x --max-size 0 &&
	bad_setting --url pulsar://h $g --print-ids &&
	bad_setting --url pulsar://h $g --recieve-queue 3 &&
	grep "recieve-queue" err
'

test_expect_success 'a usage error: one short line, not the whole help' '
	test_expect_code 2 consume --url >out 2>err &&
	test_one_line err &&
	test_expect_code 2 consume 2>err && test_one_line err &&
	consume --help >help && grep -e "--probe" help && grep -e "--give-up" help
'

test_expect_success '--list-options: every long option, "name=" with a value' '
	consume --list-options >opts &&
	grep "^url=$" opts && grep "^stop-at-end$" opts &&
	grep "^give-up=$" opts && grep "^probe$" opts && grep "^produce$" opts &&
	grep "^metrics-file=$" opts && grep "^check$" opts
'

test_expect_success '--probe: ok, one line per check' '
	fresh t/o/probe 1 &&
	consume --probe --url "$URL" --topic t/o/probe --subscription bk \
	    --token-file tok >out 2>err &&
	cat out &&
	test "$(wc -l <out)" = 4 &&
	grep "^ok url: " out && grep "^ok token-file: " out &&
	grep "^ok topic: persistent://t/o/probe found, not partitioned" out &&
	grep "^ok subscription: " out
'

test_expect_success '--probe of a partitioned topic over http://: each partition, the subscription' '
	ctl topics topic=t/o/probe4 partitions=4 >/dev/null &&
	consume --probe --url "$(json_get pb.json httpUrl)" --topic t/o/probe4 \
	    --subscription nosuch --token-file tok >out 2>err &&
	cat out &&
	grep "^ok topic: persistent://t/o/probe4 found, 4 partitions, served by 127.0.0.1:[0-9]*, 127.0.0.1:[0-9]*, " out &&
	grep "^ok subscription: nosuch does not exist yet" out &&
	ctl subscriptions topic=t/o/probe4 subscription=bk >/dev/null &&
	consume --probe --url "$(json_get pb.json httpUrl)" --topic t/o/probe4 \
	    --subscription bk --token-file tok >out 2>err &&
	grep "^ok subscription: bk exists" out
'

probe_fails() {
	t0=$(date +%s)
	test_expect_code 1 test_timeout 30 consume --probe --topic t/o/probe \
	    --subscription bk "$@" >out 2>err &&
	test $(($(date +%s) - t0)) -le 6 &&
	cat out && grep "^fail " out && test "$(grep -c "^fail " out)" = 1
}

test_expect_success '--probe: each failure is one line naming the setting' '
	probe_fails --url "$URL" --token-file bad &&
	grep "^ok url: " out && grep "^fail token-file: .*AuthenticationError" out &&
	probe_fails --url "$URL" --topic t/o/nosuch --token-file tok &&
	grep "^fail topic: .*TopicNotFound" out &&
	probe_fails --url pulsar://127.0.0.1:1 --token-file tok &&
	grep "^fail url: .*refused" out &&
	probe_fails --url "$(cat surl)" --token-file tok &&
	grep "^fail url: .*--ca-file" out &&
	probe_fails --url "pulsar://127.0.0.1:$(cat hport)" --token-file tok &&
	grep "^fail url: .*does not speak the Pulsar protocol" out &&
	probe_fails --url "$(json_get pb.json httpUrl)" --token-file bad &&
	grep "^fail token-file: .*401" out
'

test_expect_success '--probe: a silent broker is a failure within 5 s' '
	ctl faults silence.PARTITIONED_METADATA=1 clientVersion=lakepipe >/dev/null &&
	probe_fails --url "$URL" --token-file tok;
	rc=$? && ctl faults/reset >/dev/null && test $rc = 0 &&
	grep "^fail topic: .*no answer" out
'

test_expect_success '--unsubscribe: the subscription is gone at the broker' '
	ctl topics topic=t/o/unsub partitions=3 >/dev/null &&
	ctl subscriptions topic=t/o/unsub subscription=bk >/dev/null &&
	ctl topic topic=t/o/unsub >before.json &&
	grep "\"bk\"" before.json &&
	consume --unsubscribe --url "$URL" --topic t/o/unsub --subscription bk \
	    --token-file tok >out 2>err &&
	grep "^ok subscription: bk removed from persistent://t/o/unsub (3 partitions)" out &&
	ctl topic topic=t/o/unsub >after.json &&
	! grep "\"bk\"" after.json
'

test_expect_success '--unsubscribe while a consumer is connected: fail, exit 1' '
	fresh t/o/busy 1 || exit 1
	consume --url "$URL" --topic t/o/busy --subscription bk \
	    --token-file tok >out2 2>err2 &
	pid=$! &&
	test_wait_for err2 "msg=\"subscribed\"" &&
	test_expect_code 1 consume --unsubscribe --url "$URL" --topic t/o/busy \
	    --subscription bk --token-file tok >out 2>err;
	rc=$? && kill -TERM $pid && wait $pid && test $rc = 0 &&
	grep "^fail subscription: .*ConsumerBusy" out
'

# cpu PID: user+system ticks so far; now: uptime in ticks (1/100 s)
cpu() { awk '{ print $14 + $15 }' /proc/$1/stat; }
now() { awk '{ printf "%d\n", $1 * 100 }' /proc/uptime; }

test_expect_success 'acks held while a partition is down: idle, then sent' '
	fresh t/o/idle 10 && mkfifo ifo || exit 1
	consume --url "$URL" --topic t/o/idle --subscription bk \
	    --token-file tok --acks ifo >out 2>err &
	pid=$! &&
	exec 9>ifo &&
	i=0 && until [ "$(count out)" = 10 ]; do
		i=$((i + 1)) && [ $i -lt 100 ] && sleep 0.1 || exit 1
	done &&
	ctl faults errors.SUBSCRIBE.error=ServiceNotReady \
	    errors.SUBSCRIBE.count=5 clientVersion=lakepipe >/dev/null &&
	ctl close-connections clientVersion=lakepipe >/dev/null &&
	test_wait_for err "msg=\"reconnecting\"" &&
	seq 1 10 | sed "s/.*/A key=k seqs=&/" >&9 &&
	c0=$(cpu $pid) && t0=$(now) &&
	i=0 && until grep -q "msg=\"reconnected\"" err; do
		i=$((i + 1)) && [ $i -lt 200 ] && sleep 0.1 || exit 1
	done &&
	c1=$(cpu $pid) && t1=$(now) &&
	echo "cpu $((c1 - c0)) of $((t1 - t0)) ticks" &&
	test $((t1 - t0)) -gt 50 &&
	test $(((c1 - c0) * 100)) -lt $(((t1 - t0) * 20)) &&
	i=0 && until [ "$(sub t/o/idle bk backlog)" = 0 ]; do
		i=$((i + 1)) && [ $i -lt 50 ] && sleep 0.1 || exit 1
	done &&
	kill -TERM $pid && exec 9>&- && wait $pid
'

test_expect_success 'SIGTERM waits for the acks; a second one ends at once, exit 1' '
	fresh t/o/twice 3 && mkfifo tfifo || exit 1
	consume --url "$URL" --topic t/o/twice --subscription bk \
	    --token-file tok --acks tfifo >out 2>err &
	pid=$! &&
	exec 9>tfifo &&
	i=0 && until [ "$(count out)" = 3 ]; do
		i=$((i + 1)) && [ $i -lt 100 ] && sleep 0.1 || exit 1
	done &&
	kill -TERM $pid &&
	test_wait_for err "msg=\"stopping\"" &&
	kill -0 $pid &&
	kill -TERM $pid &&
	ends_within 2 $pid;
	wait $pid;
	rc=$? && exec 9>&- && test $rc = 1
'

# With SIGINT handled, INT then TERM would be two signals: exit 1.
test_expect_success 'a SIGINT ignored at start stays ignored' '
	(
		trap "" INT
		exec consume --url pulsar://127.0.0.1:1 --topic t/o/x \
		    --subscription bk 2>err.int
	) &
	pid=$! &&
	test_wait_for err.int "reconnecting" &&
	kill -INT $pid &&
	kill -TERM $pid &&
	ends_within 2 $pid &&
	wait $pid &&
	test "$(grep -c "msg=\"stopping\"" err.int)" = 1
'

# A server that accepts connections and never answers, one for each
# scheme: a connection the last test's consume made and the server took
# late (a loaded machine) must not pass for this test's, whose SIGTERM
# would then come before consume is running; "accepted.SCHEME" counts.
for scheme in pulsar http; do
	test_expect_success "start a silent server for $scheme://" '
		python3 -c "
import socket, sys
s = socket.socket(); s.bind((\"127.0.0.1\", 0)); s.listen(8)
open(sys.argv[1] + \".port\", \"w\").write(str(s.getsockname()[1]))
held = []
while True:
    c, _ = s.accept(); held.append(c)
    open(\"accepted.\" + sys.argv[1], \"a\").write(\"x\\n\")
" '$scheme' &
		test_at_end "kill $!" &&
		i=0 && until [ -s '$scheme'.port ]; do
			i=$((i + 1)) && [ $i -lt 50 ] && sleep 0.1 || exit 1
		done
	'
	port=$(cat $scheme.port 2>/dev/null)
	test_expect_success "SIGTERM while $scheme:// waits for an answer: ends at once" '
		consume --url '$scheme'://127.0.0.1:'$port' --topic t/o/x \
		    --subscription bk 2>err.'$scheme' &
		pid=$! &&
		test_wait_for accepted.'$scheme' x &&
		kill -TERM $pid &&
		ends_within 5 $pid &&
		{ wait $pid; rc=$?; } &&
		{ test $rc = 0 || { echo "exit status $rc" && cat err.'$scheme'; false; }; }
	'
done

test_expect_success 'every line on stderr is logfmt' '
	for f in err*; do
		! grep -v "^ts=[0-9TZ:.-]* level=[a-z]* prog=consume " "$f" ||
		exit 1
	done
'

test_done
