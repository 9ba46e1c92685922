#!/bin/sh
# Issue 8, test 3: the broker breaks while one lakepipe rule backs up a
# live 4-partition topic (messages published all along): every
# connection dropped; reconnects refused for a while; the topic unloaded
# to the other broker; both brokers restarted (down a few seconds,
# cursors kept); SUBSCRIBE and LOOKUP answered with errors.  lakepipe run
# rides through all of it (never ends), and consume stays idle while it
# waits: its CPU time (utime + stime of /proc/PID/stat) over a refused or
# restarting window is asserted to be under CHAOS_IDLE_PCT (10) per cent
# of the window.  Then an orderly stop (exit 0) and a run with
# stop-at-end; asserted as in t8000: nothing lost, backlog 0, no
# leftovers, the audit clean when there is one, nothing twice when the
# build has exactly-once (otherwise counted).  From pulsar:// and
# http://.  Knobs: T8002_MESSAGES, T8002_ROUNDS, CHAOS_SEED.
. "$(dirname "$0")/test-lib.sh"
. "$TEST_DIRECTORY/lib-chaos.sh"

N=${T8002_MESSAGES:-6000}
ROUNDS=${T8002_ROUNDS:-1}
# a round takes about 25 s
RATE=${T8002_RATE:-$((N / (ROUNDS * 25)))}
DOWN=${T8002_DOWN_S:-4}
IDLE_PCT=${CHAOS_IDLE_PCT:-10}

test_expect_success 'start two brokers' '
	chaos_broker 2
'

# Found by t8001: after every instance of a rule stopped in order, the
# subscription fully acknowledged, a run with --stop-at-end never ended.
# The broker's mark-delete position names an entry (no batch index), the
# last message id of a batch entry carries batch_index n-1, and consume
# compares the two with the batch index, so the partition is never "read
# already" (consume(1), --stop-at-end).
test_expect_success 'stop-at-end: a fully acknowledged batch entry ends at once' '
	ctl subscriptions topic=t/ns/acked subscription=s >/dev/null &&
	ctl publish topic=t/ns/acked payload="b {i}" count=20 batchSize=10 \
	    >/dev/null &&
	url=$(json_get pb.json serviceUrl) &&
	for run in 1 2; do
		test_timeout 10 pipeline.sh --url "$url" --topic t/ns/acked \
		    --subscription s --stop-at-end -- file://$TRASH/acked/ \
		    2>acked.$run || { cat acked.$run; return 1; }
	done &&
	grep "msg=\"20 messages emitted, 20 acked\"" acked.1 &&
	grep "msg=\"0 messages emitted, 0 acked\"" acked.2
'

# An empty reply from a web service that has answered before is a broker
# restarting, retried (the http:// run below); from one that never
# answered it is the wrong port, and fatal at once.
test_expect_success 'http:// aimed at the binary port: one line, exit 1' '
	test_expect_code 1 test_timeout 20 consume \
	    --url "http://127.0.0.1:$(json_get pb.json port)" \
	    --topic t/ns/acked --subscription s 2>err &&
	cat err &&
	grep "level=error .*not a web service port" err
'

# ticks PID: CPU time of PID so far, in clock ticks (utime + stime)
ticks() {
	sed 's/^.*) //' /proc/$1/stat | awk '{ print $12 + $13 }'
}

# idle_over PID SECONDS CMD...: run CMD (it returns when the fault is
# over, or sleeps SECONDS in the background for it); PID's CPU time over
# that window, in ticks, must stay under IDLE_PCT per cent of the window
idle_over() {
	_p=$1 _w=$2
	shift 2
	_a=$(ticks $_p) && _t0=$(date +%s.%N) &&
	"$@" &&
	_b=$(ticks $_p) && _t1=$(date +%s.%N) || return 1
	_hz=$(getconf CLK_TCK)
	_max=$(echo "($_t1 - $_t0) * $_hz * $IDLE_PCT / 100" | bc)
	echo "idle: $((_b - _a)) ticks over $(echo "$_t1 - $_t0" | bc) s (at most $_max)" |
	    tee -a idle.log
	[ $((_b - _a)) -le "$_max" ]
}

# refused SECONDS: every connection dropped, reconnects refused for
# SECONDS (the fault's own length, not a wait for a condition)
refused() {
	ctl faults refuseConnections=true >/dev/null &&
	ctl close-connections >/dev/null &&
	sleep "$1" &&
	ctl faults refuseConnections=false >/dev/null
}

# progress TOPIC: consume is connected again on every partition, and
# every cursor moves on (or has no backlog)
progress() {
	wait_until 90 all_connected "$1" lake 1 || { cat parts.now; return 1; }
	chaos_parts "$1" lake >parts.before &&
	wait_until 90 all_moved "$1" lake parts.before ||
	    { cat parts.before parts.now; return 1; }
}

# still_running PID: lakepipe run PID has not ended
still_running() {
	kill -0 "$1" && [ "$(ps -o stat= -p "$1")" != Z ] ||
	    { echo "lakepipe run ended during the faults" >&2; return 1; }
}

# fault_run NAME URL: the rounds of faults on topic t/ns/NAME
fault_run() {
	name=$1 url=$2 topic=t/ns/$1
	t0=$(date +%s)
	: >idle.log
	chaos_topic $topic lake Failover &&
	chaos_publish $topic $N $name.ids $RATE &&
	chaos_rule $name "$url" $topic lake failover "file://$TRASH/$name/" &&
	lp_start $name.conf $name.run &&
	pid=$LP_PID &&
	wait_until 60 stages_up $pid &&
	progress $topic || return 1
	r=0
	while [ $r -lt $ROUNDS ]; do
		r=$((r + 1))
		cpid=$(stage_pid $pid consume)
		echo "round $r: connections dropped" &&
		ctl close-connections >/dev/null && progress $topic &&
		still_running $pid &&
		echo "round $r: reconnects refused for $DOWN s" &&
		idle_over $cpid $DOWN refused $DOWN &&
		progress $topic && still_running $pid &&
		echo "round $r: topic unloaded to the other broker" &&
		ctl unload topic=$topic moveToNextBroker=true >/dev/null &&
		progress $topic && still_running $pid &&
		echo "round $r: both brokers restarted, down $DOWN s" &&
		idle_over $cpid $DOWN ctl restart downMs=$((DOWN * 1000)) \
		    >/dev/null &&
		progress $topic && still_running $pid &&
		echo "round $r: SUBSCRIBE and LOOKUP refused three times" &&
		ctl faults errors.SUBSCRIBE.error=ServiceNotReady \
		    errors.SUBSCRIBE.count=3 errors.LOOKUP.error=TooManyRequests \
		    errors.LOOKUP.count=3 errors.HTTP_LOOKUP.count=3 >/dev/null &&
		ctl close-connections >/dev/null &&
		progress $topic && still_running $pid &&
		test "$(stage_pid $pid consume)" = "$cpid" || return 1
	done
	ctl faults/reset >/dev/null &&
	wait $PUB_PID || { cat $name.ids.err; return 1; }
	test_timeout 120 lakepipe stop $name.conf >stop.out &&
	cat stop.out &&
	grep "^ok stopped: .*exit status 0" stop.out &&
	t1=$(date +%s) &&
	chaos_tail $topic $N $name.ids &&
	chaos_final $name 300 || return 1
	chaos_check $name $name.ids $topic lake Failover
	rc=$?
	chaos_figures "run=$name faults type=Failover url=${url%%:*} rounds=$ROUNDS" \
	    "messages=$(fig $name messages) lost=$(fig $name lost) duplicated=$(fig $name duplicated)" \
	    "backlog=$(chaos_backlog $topic lake) leftovers=$(chaos_leftovers $name | wc -l)" \
	    "exactly_once=$(has_exactly_once && echo yes || echo no) audit=$CHAOS_AUDIT" \
	    "idle_ticks=$(sed -n 's/^idle: \([0-9]*\) ticks.*/\1/p' idle.log | tr '\n' ,)" \
	    "faults_s=$((t1 - t0)) final_s=$(($(date +%s) - t1))"
	return $rc
}

test_expect_success "pulsar://: drops, refusals, unload, restart, errors" '
	fault_run bf "$(json_get pb.json serviceUrl)"
'

test_expect_success "http://: drops, refusals, unload, restart, errors" '
	fault_run bfh "$(json_get pb.json httpUrl)"
'

[ -s figures ] && sed 's/^/# /' figures

test_done
