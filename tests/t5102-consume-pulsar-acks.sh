#!/bin/sh
# consume --url --acks: which ACK commands reach the broker and where its
# cursor ends: cumulative acks for the acked prefix on Exclusive and
# Failover, individual acks past a gap, never cumulative on Shared, batches
# partly acked.
. "$(dirname "$0")/test-lib.sh"

. "$TEST_DIRECTORY/lib-pulsar.sh"
# sub TOPIC FIELD: a field of subscription bk's state at the broker
sub() { ctl subscription topic="$1" subscription=bk >sub.json && json_get sub.json "$2"; }
# mark: the broker's last event number, to read the ACKs sent after it
mark() { ctl events type=NONE >ev.json && json_get ev.json last; }
# acks_since N: the ACK commands after event N, one per line:
# "Cumulative L:E" or "Individual L:E L:E ..." (":s" when with an ack_set)
acks_since() {
	ctl events since="$1" type=ACK | node -e '
let s = ""; process.stdin.on("data", (d) => s += d).on("end", () => {
	for (const e of JSON.parse(s).events)
		console.log(e.body.ack_type + " " + e.body.message_id.map((m) =>
		    m.ledgerId + ":" + m.entryId +
		    (m.ack_set && m.ack_set.length ? ":s" : "")).join(" "));
});'
}
# fresh TOPIC N [BATCH] [TYPE]: subscription bk and N messages; $L is
# the topic's ledger (for a partitioned topic, that of partition 0)
fresh() {
	ctl subscriptions topic="$1" subscription=bk type="${4:-Exclusive}" \
	    >/dev/null &&
	ctl publish topic="$1" payload="m{i}" count="$2" \
	    batchSize="${3:-0}" >/dev/null &&
	ctl topic topic="$1" >topic.json &&
	L=$(json_get topic.json firstLedger)
}
run() {
	test_timeout 60 consume --url "$URL" --subscription bk --stop-at-end "$@"
}

test_expect_success 'start the broker' '
	test_start_server pb.json node "$PB/broker.js" --timeout 300 &&
	json_get pb.json serviceUrl >url
'
URL=$(cat url 2>/dev/null)
test_ack_each

test_expect_success 'Exclusive, all acked: cumulative acks only, cursor at the end' '
	fresh t/a/all 50 5 &&
	ctl publish topic=t/a/all payload="s{i}" count=10 >/dev/null &&
	m=$(mark) &&
	echo "A key=k seqs=1-60" >acks &&
	run --acks acks --topic t/a/all >out 2>err &&
	grep "60 messages emitted, 60 acked" err &&
	acks_since $m >sent &&
	test -s sent && ! grep -v "^Cumulative" sent &&
	test "$(tail -1 sent)" = "Cumulative $L:19" &&
	test "$(sub t/a/all markDelete)" = $L:19 &&
	test "$(sub t/a/all backlog)" = 0
'

test_expect_success 'Failover and partitions: cumulative per partition' '
	ctl topics topic=t/a/parts partitions=2 >/dev/null &&
	fresh t/a/parts 40 0 Failover &&
	m=$(mark) &&
	echo "A key=k seqs=1-40" >acks &&
	run --acks acks --type failover --topic t/a/parts >out 2>err &&
	acks_since $m >sent &&
	! grep -v "^Cumulative" sent &&
	for p in 0 1
	do
		md=$(sub t/a/parts-partition-$p markDelete) &&
		grep "^Cumulative $md$" sent &&
		test "$(sub t/a/parts-partition-$p backlog)" = 0 || exit 1
	done
'

test_expect_success 'Failover, two consumers, --stop-at-end: both end, all read' '
	ctl topics topic=t/a/two partitions=4 >/dev/null &&
	fresh t/a/two 400 0 Failover &&
	{ run --type failover --topic t/a/two >out1 2>err1 & } &&
	p1=$! &&
	{ run --type failover --topic t/a/two >out2 2>err2 & } &&
	p2=$! &&
	wait $p1 && wait $p2 &&
	cat out1 out2 | grep "^m" | sort -u >got &&
	test "$(wc -l <got)" = 400 &&
	for p in 0 1 2 3
	do
		test "$(sub t/a/two-partition-$p backlog)" = 0 || exit 1
	done
'

test_expect_success 'a gap: the later messages acked individually, the earlier stays' '
	fresh t/a/gap 5 &&
	m=$(mark) &&
	printf "A key=a seqs=1-2\nA key=c seqs=4-5\n" >acks &&
	run --acks acks --topic t/a/gap >out 2>err &&
	grep "never acked: seq 3 (id $L:2:-1:-1)" err &&
	acks_since $m >sent &&
	test "$(grep "^Cumulative" sent | tail -1)" = "Cumulative $L:1" &&
	! grep "^Cumulative $L:[2-9]" sent &&
	grep "^Individual" sent | tr " " "\n" | grep "^$L:" >ind &&
	printf "$L:3\n$L:4\n" >expect && test_cmp expect ind &&
	test "$(sub t/a/gap markDelete)" = $L:1 &&
	test "$(json_get sub.json acked)" = "[\"$L:3\",\"$L:4\"]" &&
	test "$(json_get sub.json backlog)" = 1
'

test_expect_success 'a later object acked first: individual, then one cumulative' '
	fresh t/a/late 100 &&
	m=$(mark) &&
	mkfifo fifo || exit 1
	(
		run --acks fifo --topic t/a/late >out 2>err
		echo $? >rc
	) &
	{
		sleep 1
		echo "A key=b seqs=51-100"
		sleep 1
		ctl subscription topic=t/a/late subscription=bk >mid.json
		echo "A key=a seqs=1-50"
	} >fifo &&
	wait &&
	test "$(cat rc)" = 0 &&
	test "$(json_get mid.json backlog)" = 50 &&
	test "$(json_get mid.json markDelete)" = $L:-1 &&
	acks_since $m >sent &&
	test "$(head -1 sent | wc -w)" = 51 &&
	grep "^Individual $L:50 .* $L:99$" sent &&
	test "$(tail -1 sent)" = "Cumulative $L:99" && test $(wc -l <sent) = 2 &&
	test "$(sub t/a/late markDelete)" = $L:99 &&
	test "$(sub t/a/late backlog)" = 0
'

test_expect_success 'Shared: never cumulative' '
	fresh t/a/shared 20 4 Shared &&
	m=$(mark) &&
	echo "A key=k seqs=1-20" >acks &&
	run --acks acks --type shared --topic t/a/shared >out 2>err &&
	acks_since $m >sent &&
	grep "^Individual" sent && ! grep "^Cumulative" sent &&
	test "$(sub t/a/shared backlog)" = 0
'

test_expect_success 'a batch partly acked: ack_set at the end, the prefix stops before it' '
	fresh t/a/part 10 5 &&
	m=$(mark) &&
	printf "A key=a seqs=1-3\nA key=b seqs=6-10\n" >acks &&
	run --acks acks --topic t/a/part >out 2>err &&
	acks_since $m >sent &&
	! grep "^Cumulative" sent &&
	grep "^Individual.* $L:1\( \|$\)" sent &&
	grep "^Individual.* $L:0:s\( \|$\)" sent &&
	test "$(sub t/a/part markDelete)" = $L:-1 &&
	test "$(json_get sub.json backlog)" = 2 &&
	json_get sub.json batchAcks | grep "\"$L:0\":\"11000\""
'

test_expect_success 'a dropped connection: copies acked again, cursor at the end' '
	fresh t/a/drop 300 10 &&
	m=$(mark) &&
	ctl faults dropAfterMessages=5 clientVersion=lakepipe >/dev/null &&
	mkfifo dfifo &&
	test_timeout 60 sh -c "consume -v --url $URL --subscription bk \
	    --topic t/a/drop --stop-at-end --acks dfifo 2>err |
	    ack_each >dfifo" &&
	ctl faults/reset >/dev/null &&
	grep "msg=\"subscribed\"" err && grep "msg=\"reconnected\"" err &&
	acks_since $m >sent &&
	grep "^Cumulative" sent &&
	test "$(sub t/a/drop markDelete)" = $L:29 &&
	test "$(json_get sub.json backlog)" = 0
'

test_expect_success 'acks read while a lookup hangs: deliver never blocks on the FIFO' '
	fresh t/a/hang 3000 &&
	mkfifo hfifo || exit 1
	consume --url "$URL" --subscription bk --topic t/a/hang \
	    --acks hfifo >out 2>err &
	pid=$!
	exec 9>hfifo &&
	i=0 && while [ "$(grep -ac "^M " out)" != 3000 ] && [ $i -lt 100 ]
	do
		sleep 0.1 && i=$((i + 1))
	done &&
	ctl faults silence.LOOKUP=1 clientVersion=lakepipe >/dev/null &&
	ctl close-connections clientVersion=lakepipe >/dev/null &&
	sleep 1 &&
	t0=$(date +%s) &&
	awk "BEGIN { for (i = 1; i <= 3000; i++)
	    printf \"A key=k/%d seqs=%d\\n\", i, i }" >&9 &&
	t1=$(date +%s) &&
	exec 9>&- &&
	sleep 11 &&
	kill -TERM $pid && wait $pid &&
	ctl faults/reset >/dev/null &&
	grep "no answer to LOOKUP" err &&
	test $((t1 - t0)) -lt 5 &&
	grep "3000 messages emitted, 3000 acked" err &&
	test "$(sub t/a/hang backlog)" = 0
'

test_expect_success 'md present: an acked partitioned topic ends from the last id' '
	ctl topics topic=t/md/all partitions=2 >/dev/null &&
	fresh t/md/all 40 &&
	echo "A key=k seqs=1-40" >acks &&
	run --acks acks --topic t/md/all >out 2>err &&
	grep "40 messages emitted, 40 acked" err &&
	run -v --topic t/md/all >out 2>err &&
	test "$(grep -ac "^M " out)" = 0 &&
	test "$(grep -c "nothing to read" err)" = 2 &&
	! grep "backlog 0, nothing to read" err
'

test_expect_success 'no md: a fully acked partitioned topic ends at once' '
	ctl faults noMarkDelete=true >/dev/null &&
	t0=$(date +%s) &&
	test_timeout 10 consume --url "$URL" --subscription bk \
	    --stop-at-end -v --topic t/md/all >out 2>err &&
	t1=$(date +%s) &&
	test $((t1 - t0)) -lt 5 &&
	test "$(grep -ac "^M " out)" = 0 &&
	test "$(grep -c "backlog 0, nothing to read" err)" = 2 &&
	grep "end of backlog" err
'

test_expect_success 'no md: a backlog is read to its end' '
	ctl topics topic=t/md/back partitions=2 >/dev/null &&
	fresh t/md/back 30 &&
	run --topic t/md/back >out 2>err &&
	grep -a "^m" out | sort -u >got &&
	test "$(wc -l <got)" = 30 &&
	grep "end of backlog" err
'

test_expect_success 'no md: partly acked, exactly the rest is read' '
	ctl faults/reset >/dev/null &&
	ctl topics topic=t/md/part partitions=2 >/dev/null &&
	fresh t/md/part 40 &&
	echo "A key=k seqs=1-15" >acks &&
	run --acks acks --topic t/md/part >out1 2>err1 &&
	grep -a "^m" out1 | head -15 >acked &&
	ctl faults noMarkDelete=true >/dev/null &&
	run --topic t/md/part >out2 2>err2 &&
	grep -a "^m" out2 >rest &&
	test "$(wc -l <rest)" = 25 &&
	sort acked rest | uniq -d >twice && ! test -s twice &&
	sort -u acked rest >all && test "$(wc -l <all)" = 40 &&
	grep "end of backlog" err2 &&
	ctl faults/reset >/dev/null
'

test_done
