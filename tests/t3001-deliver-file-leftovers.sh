#!/bin/sh
# deliver file:///DIR/ at start removes the temporary files of deliver
# processes that are gone (killed mid-write), and only those.
. "$(dirname "$0")/test-lib.sh"
. "$TEST_DIRECTORY/lib-deliver.sh"

# A PID that ran and is gone: a shell that has exited.
dead_pid() {
	sh -c 'echo $$'
}

test_expect_success 'setup: a lake with objects' '
	head -c 100000 /dev/urandom >bin &&
	printf "line one\n" >text &&
	{
		obj 2026/12/01/00/t/1-0.bin bin n=1 seqs=1 &&
		obj top.txt text n=1 seqs=2
	} >in.frames &&
	test_timeout 20 deliver file://$TRASH/lake/ <in.frames >acks &&
	test $(wc -l <acks) -eq 2
'

test_expect_success 'leftovers of a dead deliver are removed at start' '
	d=$(dead_pid) && ! kill -0 $d 2>/dev/null &&
	head -c 9688 bin >lake/2026/12/01/00/t/.1-0.bin.$d.8.tmp &&
	head -c 3 text >lake/.top.txt.$d.0.tmp &&
	: >lake/.not-ours.tmp && : >lake/.a.b.tmp && : >lake/x.$d.0.tmp &&
	: >lake/.x.$d.tmp && : >lake/..$d.0.tmp &&
	obj later.txt text n=1 seqs=3 >later.frames &&
	test_timeout 20 deliver file://$TRASH/lake/ <later.frames >acks 2>err &&
	test $(wc -l <acks) -eq 1 &&
	grep -q "msg=.removed leftover temporary files. count=2 " err &&
	test $(grep -c "msg=.removed" err) -eq 1 &&
	! test -e lake/2026/12/01/00/t/.1-0.bin.$d.8.tmp &&
	! test -e lake/.top.txt.$d.0.tmp &&
	test -e lake/.not-ours.tmp && test -e lake/.a.b.tmp &&
	test -e lake/x.$d.0.tmp && test -e lake/.x.$d.tmp &&
	test -e lake/..$d.0.tmp &&
	cmp bin lake/2026/12/01/00/t/1-0.bin && cmp text lake/top.txt &&
	cmp text lake/later.txt
'

test_expect_success 'nothing to remove: no line' '
	rm -f lake/.not-ours.tmp lake/.a.b.tmp lake/x.*.tmp lake/.x.*.tmp \
	    lake/..*.tmp &&
	test_timeout 20 deliver file://$TRASH/lake/ <later.frames >acks 2>err &&
	! grep -q "msg=.removed" err
'

test_expect_success 'a temporary file of a live deliver is kept' '
	sleep 300 &
	live=$! &&
	test_at_end "kill $live" &&
	head -c 10 bin >lake/2026/12/01/00/t/.1-0.bin.$live.0.tmp &&
	test_timeout 20 deliver file://$TRASH/lake/ <later.frames >acks 2>err &&
	kill $live &&
	test $(wc -l <acks) -eq 1 &&
	! grep -q "msg=.removed" err &&
	test -e lake/2026/12/01/00/t/.1-0.bin.$live.0.tmp &&
	rm lake/2026/12/01/00/t/.1-0.bin.$live.0.tmp
'

# kill -9 of deliver while it writes a 200 MB object read from a fifo:
# the partial temporary file stays, and the next start removes it.
big=200000000
test_expect_success 'kill -9 mid-write: the next start removes the leftover' '
	mkfifo in.fifo || exit 1
	{
		printf "O %d key=big/one.bin n=1 seqs=10\n" $big &&
		head -c $big /dev/zero && printf "\n"
	} >in.fifo &
	writer=$!
	deliver file://$TRASH/lake/ <in.fifo >acks.k 2>err.k &
	pid=$! &&
	test_at_end "kill -9 $pid" &&
	tmp=lake/big/.one.bin.$pid.0.tmp &&
	n=0 &&
	until test -s $tmp || test $n -gt 5000000; do n=$((n + 1)); done &&
	kill -9 $pid &&
	{ wait $pid; test $? -eq 137; } &&
	wait $writer &&
	test -s $tmp && ! test -e lake/big/one.bin && test ! -s acks.k &&
	test_timeout 20 deliver file://$TRASH/lake/ <later.frames >acks 2>err &&
	grep -q "msg=.removed leftover temporary files. count=1 " err &&
	! test -e $tmp &&
	test -z "$(find lake -name ".*.tmp")" &&
	cmp bin lake/2026/12/01/00/t/1-0.bin && cmp text lake/top.txt
'

test_done
