#!/bin/sh
# consume --acks: acks read back through a FIFO, mapped to seqs; replay
# fails when a message is never acknowledged.
. "$(dirname "$0")/test-lib.sh"

test_ack_each

test_expect_success 'setup' '
	seq 1 100 >lines && mkfifo fifo
'

test_expect_success 'every message acked: report, exit 0' '
	test_timeout 30 sh -c "consume --lines lines --acks fifo 2>err | ack_each >fifo" &&
	grep "prog=consume msg=\"100 messages emitted, 100 acked\"" err
'

test_expect_success 'backpressure: --max-unacked smaller than the input' '
	test_timeout 30 sh -c "consume --max-unacked 3 --lines lines --acks fifo 2>err | ack_each >fifo" &&
	grep "100 messages emitted, 100 acked" err
'

# ack_on_flush: a downstream that acks nothing until a flush frame (F)
# comes, as transform holding every message in objects not yet full;
# then (and at the end of its input) it acks all it holds, and counts
# the flush frames in the file flushes.
cat >"$TRASH/bin/ack_on_flush" <<-\EOF
#!/bin/sh
held= n=0
while read -r hdr; do
	case $hdr in
	"F base="*)
		n=$((n + 1)) && echo $n >flushes
		for s in $held; do echo "A key=k/$s seqs=$s"; done
		held= ;;
	"M "*)
		read -r body
		seq=${hdr#* seq=}
		held="$held ${seq%% *}" ;;
	esac
done
for s in $held; do echo "A key=k/$s seqs=$s"; done
EOF
chmod +x "$TRASH/bin/ack_on_flush"

test_expect_success '--max-unacked reached, no ack for a second: a flush frame' '
	echo 0 >flushes &&
	test_timeout 60 sh -c "consume --max-unacked 40 --lines lines --acks fifo 2>err | ack_on_flush >fifo" &&
	grep "100 messages emitted, 100 acked" err &&
	test "$(cat flushes)" = 2 &&
	grep -q "msg=.flush asked. base=1 unacked=40 waited_s=[0-9.]*$" err &&
	grep -q "msg=.flush asked. base=41 unacked=40 waited_s=[0-9.]*$" err &&
	test "$(grep -c "msg=.flush asked." err)" = 2
'

test_expect_success 'acks in one range, from a regular file' '
	echo "A key=x seqs=1-100 etag=e" >acks &&
	consume --lines lines --acks acks >out 2>err &&
	grep "100 acked" err
'

test_expect_success 'a message never acked: exit 1, its seq and id named' '
	printf "A key=a seqs=1-41\nA key=b seqs=43-100\n" >acks &&
	test_expect_code 1 consume --lines lines --acks acks >out 2>err &&
	test_one_line err &&
	grep "100 messages emitted, 99 acked; never acked: seq 42 (id [0-9]*:42:-1:-1)" err
'

test_expect_success 'acks out of order, duplicates and unknown seqs' '
	printf "A key=b seqs=51-100\nA key=a seqs=1-50\nA key=a seqs=7\nA key=c seqs=200\n" >acks &&
	consume --lines lines --acks acks >out 2>err &&
	grep "100 acked" err && grep "seq 200, which was never emitted" err
'

test_expect_success 'a shell loop writing acks through the FIFO' '
	(
		consume --lines lines --acks fifo >out 2>err
		echo $? >rc
	) &
	sleep 0.5 &&
	{
		echo "A key=a seqs=1-60"
		sleep 0.3
		echo "A key=b seqs=61-100"
	} >fifo &&
	wait &&
	test "$(cat rc)" = 0 && grep "100 acked" err &&
	test "$(grep -c "^M " out)" = 100
'

test_expect_success 'the FIFO writer closes early: exit 1' '
	(
		consume --lines lines --acks fifo >out 2>err
		echo $? >rc
	) &
	sleep 0.3 &&
	echo "A key=a seqs=1-10" >fifo &&
	wait &&
	test "$(cat rc)" = 1 && grep "10 acked; never acked: seq 11" err
'

test_expect_success '--ack-timeout: give up waiting' '
	(
		consume --lines lines --acks fifo --ack-timeout 1 >out 2>err
		echo $? >rc
	) &
	exec 9<>fifo &&
	wait && exec 9>&- &&
	test "$(cat rc)" = 1 && grep "no end of the ack channel" err
'

test_expect_success 'a malformed ack channel is an error' '
	printf "A key=x seqs=3-1\n" >acks &&
	test_expect_code 1 consume --lines lines --acks acks >out 2>err &&
	grep "seqs" err
'

test_expect_success 'a full stdout pipe and acks at the same time' '
	python3 -c "
import sys
for i in range(50000): sys.stdout.write(\"%d %s\\n\" % (i, \"z\" * 200))" >many &&
	test_timeout 60 sh -c "consume --max-unacked 1000 --lines many --acks fifo 2>err | ack_each >fifo" &&
	grep "50000 messages emitted, 50000 acked" err
'

test_done
