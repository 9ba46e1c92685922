#!/bin/sh
# transform as an operator runs it: option checks, logfmt lines, progress
# without data, metrics, signals and a closed stdout.
. "$(dirname "$0")/test-lib.sh"

# msg SEQ PT TEXT: a message frame of partition 0 published at PT.
msg() {
	printf 'M %d seq=%d id=7:%d:-1:-1 topic=persistent://public/default/t pt=%s\n%s\n' \
	    "${#3}" "$1" "$(($1 - 1))" "$2" "$3"
}

# all_logfmt FILE: every line starts with ts= and has level= and prog=.
all_logfmt() {
	if grep -v '^ts=[0-9T:.-]*Z level=[a-z]* prog=transform msg=' "$1"; then
		echo "lines of $1 above are not logfmt" >&2
		return 1
	fi
}

test_expect_success '--check: good options, silent, exit 0, no input read' '
	transform --check --format raw --max-age 5m --max-bytes 8M </dev/null >out 2>err &&
	test ! -s out && test ! -s err
'

test_expect_success '--check: a bad value is one logfmt line naming it, exit 2' '
	test_expect_code 2 transform --check --max-age 5x 2>err &&
	test_one_line err && all_logfmt err &&
	grep -q "level=error" err && grep -q -- "--max-age: .5x. is not a duration" err &&
	test_expect_code 2 transform --check --max-bytes 6T 2>err &&
	test_one_line err && grep -q -- "--max-bytes: .6T. is not a size from 1 to 5T" err &&
	test_expect_code 2 transform --check --level 30 2>err &&
	test_one_line err && grep -q -- "--level" err
'

test_expect_success 'a mistyped option names the one meant; a missing value' '
	test_expect_code 2 transform --max-ages 5 2>err &&
	test_one_line err && all_logfmt err &&
	grep -q "unknown option .--max-ages. (did you mean --max-age?)" err &&
	test_expect_code 2 transform --max-age 2>err &&
	test_one_line err && grep -q "option .--max-age. needs a value" err &&
	test_expect_code 2 transform -Z 2>err &&
	test_one_line err && grep -q "unknown option .-Z." err
'

test_expect_success '--list-options: every long option, = when it takes a value' '
	transform --list-options >opts &&
	grep -qx "max-age=" opts && grep -qx "metrics-file=" opts &&
	grep -qx "check" opts && grep -qx "quiet" opts &&
	test "$(grep -c . opts)" = "$(transform --help | grep -c -- "--")" ||
	test "$(wc -l <opts)" -ge 14
'

test_expect_success 'durations: --max-age 1500ms, 2m, 0 accepted' '
	transform --check --max-age 1500ms && transform --check --max-age 2m &&
	transform --check --max-age 0
'

test_expect_success 'pt= is the range of publish times; a finished line' '
	{ msg 1 1764201600500 a; msg 2 1764201600100 b; msg 3 1764201600900 c; } >in &&
	transform --compress none <in >out 2>err &&
	head -1 out | grep -q " pt=1764201600100-1764201600900 " &&
	all_logfmt err && test_one_line err &&
	grep -q "msg=\"finished\" messages=3 objects=1" err
'

test_expect_success '-q: nothing on success; -v: a line per object' '
	transform -q --compress none <in >out 2>err && test ! -s err &&
	transform -v --compress none --max-messages 1 <in >out 2>err &&
	all_logfmt err && test "$(grep -c "msg=\"object\"" err)" = 3 &&
	grep -q "level=debug .* why=max-messages" err
'

test_expect_success '--metrics-file: counters in the Prometheus text format' '
	transform --compress none --max-messages 2 --metrics-file m.prom <in >out 2>err &&
	grep -qx "lakepipe_transform_messages_total 3" m.prom &&
	grep -qx "lakepipe_transform_objects_total 2" m.prom &&
	grep -qx "lakepipe_transform_bytes_total 3" m.prom &&
	grep -qx "# TYPE lakepipe_transform_objects_total counter" m.prom &&
	{ test_expect_code 2 transform --metrics-file 2>err; }
'

# hold FIFO FRAMES-FILE: write the frames into a new FIFO and hold it
# open until the file FIFO.go exists, in the background.
hold() {
	mkfifo "$1" || return 1
	{ cat "$2"; until test -e "$1.go"; do sleep 0.05; done; } >"$1" &
}

# catching PID: until the process catches SIGINT (its handler is set).
catching() {
	i=0
	while :; do
		m=$(sed -n "s/^SigCgt:[[:space:]]*//p" /proc/$1/status 2>/dev/null)
		[ -n "$m" ] && [ $((0x$m & 2)) -ne 0 ] && return 0
		i=$((i + 1))
		[ $i -lt 200 ] || { echo "pid $1 never caught SIGINT" >&2; return 1; }
		sleep 0.05
	done
}

test_expect_success '-P: progress lines once a second while no data arrive' '
	msg 1 1764201600000 x >one && hold f9 one &&
	transform -P --compress none <f9 >out 2>err &
	t=$! &&
	test_wait_for err "msg=\"progress\" messages=1 " &&
	n=$(grep -c "msg=\"progress\"" err) &&
	until test $(grep -c "msg=\"progress\"" err) -gt $n; do sleep 0.05; done &&
	touch f9.go && wait $t &&
	all_logfmt err && grep -q "msg=\"done\" messages=1 " err
'

test_expect_success 'SIGINT: the input is finished and every batch written' '
	{ msg 1 1764201600000 a; msg 2 1764201600001 b; } >two && hold f10 two &&
	env --default-signal=INT transform --compress none <f10 >out 2>err &
	t=$! &&
	catching $t && kill -INT $t && test_wait_for err "msg=\"interrupted\"" &&
	touch f10.go && wait $t &&
	test "$(head -1 out | sed "s/.* n=\([0-9]*\) .*/\1/")" = 2 &&
	all_logfmt err
'

test_expect_success 'a second SIGINT stops at once, writing nothing' '
	hold f11 one &&
	env --default-signal=INT transform --compress none <f11 >out 2>err &
	t=$! &&
	catching $t && kill -INT $t && test_wait_for err "msg=\"interrupted\"" &&
	kill -INT $t && { wait $t; rc=$?; } ; touch f11.go &&
	test $rc = 130 && test ! -s out
'

test_expect_success 'a SIGINT ignored at start stays ignored' '
	hold f12 one &&
	(trap "" INT; exec transform -v --compress none <f12 >out 2>err) &
	t=$! &&
	test_wait_for /proc/$t/cmdline "^transform" &&
	kill -INT $t && kill -INT $t && touch f12.go &&
	{ wait $t; rc=$?; } ; test $rc = 0 &&
	! grep -q interrupted err && test -s out
'

test_expect_success 'stdout closed by the reader: one line, exit 1' '
	i=1; while [ $i -le 2000 ]; do msg $i 1764201600000 "message $i"; i=$((i + 1)); done >many &&
	{ transform --compress none --max-messages 1 <many 2>err; echo $? >rc; } | head -c 100 >/dev/null &&
	test "$(cat rc)" = 1 && test_one_line err && all_logfmt err &&
	grep -q "stdout closed by the reader" err
'

test_done
