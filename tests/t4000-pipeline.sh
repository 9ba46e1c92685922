#!/bin/sh
# pipeline.sh: the three programs chained with the ack FIFO.
. "$(dirname "$0")/test-lib.sh"
. "$TEST_DIRECTORY/lib-lakepipe.sh"	# pipeline.sh with the build's programs

PT=1764201600000	# fixed publish time: deterministic keys

# count_lake DIR: messages in a lake of jsonl.gz objects
count_lake() {
	find "$1" -type f -name '*.gz' -exec zcat {} + | wc -l
}

test_expect_success 'replay the sample into a lake; everything acked' '
	test_timeout 60 pipeline.sh --lines "$SRC/sample/messages.jsonl" \
		--publish-time $PT -- file://$TRASH/lake/ 2>err &&
	test "$(count_lake lake)" -eq 2000 &&
	grep "2000 messages emitted, 2000 acked" err
'

test_expect_success 'same input, same keys: a replay overwrites' '
	find lake -type f | sort >keys1 &&
	test_timeout 60 pipeline.sh --lines "$SRC/sample/messages.jsonl" \
		--publish-time $PT -- file://$TRASH/lake/ 2>err &&
	find lake -type f | sort >keys2 &&
	test_cmp keys1 keys2 &&
	test "$(count_lake lake)" -eq 2000
'

test_expect_success 'three groups: transform options in the middle' '
	test_timeout 60 pipeline.sh --lines "$SRC/sample/messages.jsonl" \
		--publish-time $PT -- --max-messages 300 -- \
		file://$TRASH/lake3/ 2>err &&
	test "$(find lake3 -type f | wc -l)" -eq 7 &&
	test "$(count_lake lake3)" -eq 2000
'

test_expect_success 'stdin reaches consume' '
	printf "a\nb\nc\n" | test_timeout 60 pipeline.sh --lines - \
		--publish-time $PT -- file://$TRASH/lake4/ 2>err &&
	test "$(count_lake lake4)" -eq 3
'

test_expect_success 'usage errors exit 2' '
	test_expect_code 2 pipeline.sh --lines x 2>err &&
	grep -i "usage" err &&
	test_expect_code 2 pipeline.sh 2>err
'

test_expect_success 'a failing transform is named, the others stop' '
	test_expect_code 1 test_timeout 30 pipeline.sh --lines \
		"$SRC/sample/messages.jsonl" -- --no-such-flag -- \
		file://$TRASH/lake5/ 2>err &&
	grep "transform failed" err &&
	! test -d lake5 -a -n "$(find lake5 -type f 2>/dev/null)"
'

test_expect_success 'a failing deliver is named; nothing acked' '
	dest=$(test_unwritable_url) &&
	test_expect_code 1 test_timeout 30 pipeline.sh --lines \
		"$SRC/sample/messages.jsonl" -- "$dest" 2>err &&
	cat err &&
	grep "deliver failed" err &&
	grep "0 acked" err
'

test_expect_success 'a bad consume flag fails fast, without a hang' '
	test_expect_code 1 test_timeout 30 pipeline.sh --no-such-flag -- \
		file://$TRASH/lake6/ 2>err &&
	grep "consume failed" err
'

test_expect_success 'SIGTERM: what is in flight is delivered and acked' '
	mkfifo slow &&
	{ ( printf "one\ntwo\n"; sleep 3; printf "three\n" ) >slow & } &&
	{ pipeline.sh --lines slow --publish-time $PT -- --max-age 600 -- \
		file://$TRASH/lake7/ 2>err & } &&
	pid=$! &&
	sleep 1 &&
	kill -TERM $pid &&
	wait $pid &&
	test "$(count_lake lake7)" -eq 2 &&
	grep "2 messages emitted, 2 acked" err
'

# consume's pid among pipeline.sh's children
consume_of() {
	ps -o pid=,comm= --ppid "$1" | awk '$2 == "consume" { print $1 }'
}

test_expect_success 'consume dies: deliver stores what it holds, consume is named' '
	mkfifo slow2 &&
	{ sh -c "echo \$\$ >writer; printf \"one\ntwo\nthree\n\"; exec sleep 60" >slow2 & } &&
	{ pipeline.sh --lines slow2 --publish-time $PT -- --max-messages 2 \
		--max-age 600 --metrics-file t.prom -- file://$TRASH/lake8/ 2>err & } &&
	pid=$! &&
	i=0 &&
	until grep -q "^lakepipe_transform_messages_total 3$" t.prom 2>/dev/null; do
		i=$((i + 1)) && [ $i -lt 300 ] && sleep 0.1 || return 1
	done &&
	test "$(count_lake lake8)" -eq 2 &&
	kill -KILL "$(consume_of $pid)" &&
	test_expect_code 1 wait $pid &&
	kill "$(cat writer)" &&
	cat err &&
	grep "consume failed (exit status 137)" err &&
	! grep "deliver failed" err &&
	test "$(count_lake lake8)" -eq 3
'

# pipeline.sh in a process group of its own, with SIGINT at its default
# disposition (this script's background jobs ignore it, and a shell cannot
# trap a signal that was ignored when it started): then "kill -INT -PGID"
# is a terminal's Ctrl-C, reaching every process of the group.
test_expect_success 'Ctrl-C (SIGINT to the process group): flushed, acked, exit 0' '
	mkfifo slow3 &&
	{ sh -c "echo \$\$ >writer; printf \"one\ntwo\n\"; exec sleep 60" >slow3 & } &&
	{ setsid perl -e "\$SIG{INT} = q(DEFAULT); exec @ARGV" pipeline.sh \
		--lines slow3 --publish-time $PT -- --max-age 600 \
		--metrics-file t3.prom -- file://$TRASH/lake9/ 2>err & } &&
	pid=$! &&
	i=0 &&
	until grep -q "^lakepipe_transform_messages_total 2$" t3.prom 2>/dev/null; do
		i=$((i + 1)) && [ $i -lt 300 ] && sleep 0.1 || return 1
	done &&
	kill -INT -$pid &&
	wait $pid &&
	kill "$(cat writer)" &&
	cat err &&
	test "$(count_lake lake9)" -eq 2 &&
	grep "2 messages emitted, 2 acked" err &&
	! grep -e "level=error" -e "signal" err
'

test_done
