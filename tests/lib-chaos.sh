# lib-chaos.sh: helpers for the tests that break things for real (issue
# 8: tests/t8*.sh and tests/soak/chaos.sh): lakepipe rules on a live
# 4-partition topic of the Pulsar test broker, messages published while
# the pipelines are killed with SIGKILL at random moments and restarted,
# then the lake counted against what was published.  Sourced after
# test-lib.sh; sources lib-pulsar.sh and lib-lakepipe.sh.
#
# Figures go to $TRASH/figures (one "chaos: key=value ..." line per run)
# and, when set, to $CHAOS_FIGURES too (make soak's summary).

. "$TEST_DIRECTORY/lib-pulsar.sh"
. "$TEST_DIRECTORY/lib-lakepipe.sh"

CHAOS=$PEERS/chaos
# the random moments: CHAOS_SEED repeats a run's choices (not its timing)
CHAOS_SEED=${CHAOS_SEED:-$(date +%s)}
chaos_rnd=$CHAOS_SEED

# chaos_random N: CHAOS_R = a number 0..N-1 from the run's own sequence
# (a variable, not output: $(...) would lose the sequence's state)
chaos_random() {
	chaos_rnd=$(( (chaos_rnd * 1103515245 + 12345) % 2147483648 ))
	CHAOS_R=$(( chaos_rnd / 65536 % $1 ))
}

# chaos_moment MAX_MS: sleep a random time up to MAX_MS (the kill
# moments: the only sleeps that do not wait for a condition)
chaos_moment() {
	chaos_random "$1"
	_ms=$CHAOS_R
	sleep "$((_ms / 1000)).$(printf %03d $((_ms % 1000)))"
}

# chaos_broker [BROKERS]: the test broker (2 brokers by default, so that
# partitions live on different ones), no authentication
chaos_broker() {
	test_start_server pb.json node "$PB/broker.js" --brokers "${1:-2}" \
	    --timeout "${CHAOS_BROKER_TIMEOUT:-3600}"
}

# chaos_topic TOPIC SUB TYPE: a 4-partition topic with a durable
# subscription of TYPE (Failover, Shared, ...) from the earliest message
chaos_topic() {
	ctl topics topic="$1" partitions=4 >/dev/null &&
	ctl subscriptions topic="$1" subscription="$2" type="$3" \
	    position=earliest >/dev/null
}

# chaos_publish TOPIC N IDS [RATE]: publish in the background (publish.js);
# its pid in PUB_PID, stopped at the end
chaos_publish() {
	node "$CHAOS/publish.js" "$(json_get pb.json control)" "$@" \
	    2>"$3.err" &
	PUB_PID=$!
	echo $PUB_PID >"$3.pid"
	test_at_end "kill $PUB_PID"
}

# chaos_tail TOPIC N IDS: after the N messages, one more single message
# per partition (publish.js tail), so that the stop-at-end run has
# something to read everywhere; N + 4 ids in IDS
chaos_tail() {
	node "$CHAOS/publish.js" "$(json_get pb.json control)" "$1" "$2" \
	    "$3" tail &&
	test "$(wc -l <"$3")" -eq $(($2 + 4))
}

# chaos_rule NAME URL TOPIC SUB TYPE DEST [KEY=VALUE...]: the rule
# NAME.conf: jsonl+gzip (the defaults), --max-messages 1000 --max-age 1
chaos_rule() {
	_n=$1 _url=$2 _topic=$3 _sub=$4 _type=$5 _dest=$6
	shift 6
	{
		printf 'url = %s\ntopic = %s\nsubscription = %s\n' \
		    "$_url" "$_topic" "$_sub"
		printf 'type = %s\nmax-messages = 1000\nmax-age = 1\n' "$_type"
		printf 'destination = %s\n' "$_dest"
		for kv in "$@"; do
			printf '%s = %s\n' "${kv%%=*}" "${kv#*=}"
		done
	} >"$_n.conf"
}

# stage_pid PGID NAME: the pid of stage NAME in process group PGID
stage_pid() {
	ps -o pid=,comm= -g "$1" | awk -v n="$2" '$2 == n { print $1; exit }'
}

# stages_up PGID: consume, transform and deliver all run in group PGID
stages_up() {
	for s in consume transform deliver; do
		[ -n "$(stage_pid "$1" $s)" ] || return 1
	done
}

# group_gone PGID: no process left in group PGID (zombies count as gone)
group_gone() {
	! ps -o stat= -g "$1" | grep -qv '^Z'
}

# chaos_wait_exit PID SECONDS: wait for lakepipe run PID (a child of this
# shell) to end; its exit status in CHAOS_RC, 255 when it hung (then its
# group is killed).  Returns 1 on a hang.
chaos_wait_exit() {
	_left=$(($2 * 10))
	while kill -0 "$1" 2>/dev/null && ! group_gone "$1" &&
	    [ "$(ps -o stat= -p "$1")" != Z ]; do
		_left=$((_left - 1))
		if [ $_left -le 0 ]; then
			ps -o pid,stat,etime,args -g "$1" >&2
			kill -KILL -"$1" 2>/dev/null
			wait "$1" 2>/dev/null
			CHAOS_RC=255
			return 1
		fi
		sleep 0.1
	done
	wait "$1"
	CHAOS_RC=$?
	# stages that outlive lakepipe run would be a bug too
	_left=100
	until group_gone "$1"; do
		_left=$((_left - 1))
		if [ $_left -le 0 ]; then
			echo "stages left after lakepipe run $1 ended:" >&2
			ps -o pid,stat,etime,args -g "$1" >&2
			kill -KILL -"$1" 2>/dev/null
			CHAOS_RC=254
			return 1
		fi
		sleep 0.1
	done
}

# chaos_kill_cycle RULE N MAX_MS: run RULE, wait until its stages run,
# then at a random moment (up to MAX_MS later) kill -9 consume,
# transform, deliver or the whole process group; wait for the run to end
# and check that its log blames the killed stage (or a key conflict of
# deliver's).  One line per cycle in cycles.log: "cycle N victim V exit
# RC blame ok|conflict|WRONG secs S".
# Returns 1 on a hang, a wrong exit status or the wrong stage blamed.
chaos_kill_cycle() {
	_rule=$1 _c=$2
	_t0=$(date +%s.%N)
	lp_start "$_rule.conf" "$_rule.run.$_c"
	_pid=$LP_PID
	wait_until 60 stages_up "$_pid" || { cat "$_rule.run.$_c" >&2; return 1; }
	chaos_moment "$3"
	chaos_random 4
	case $CHAOS_R in
	0) _v=consume ;;
	1) _v=transform ;;
	2) _v=deliver ;;
	*) _v=all ;;
	esac
	# The run may have ended by itself before the moment came: deliver
	# met a key stored by an earlier run that was killed before its
	# index entry (a conflict: exit 1 by design, the next run reads the
	# lake again).  Then there is nothing left to kill (victim none).
	if [ $_v = all ]; then
		kill -KILL -"$_pid" 2>/dev/null || _v=none
	else
		_sp=$(stage_pid "$_pid" $_v)
		if [ -n "$_sp" ]; then
			kill -KILL "$_sp" 2>/dev/null || _v=none
		else
			_v=none
		fi
	fi
	chaos_wait_exit "$_pid" 120
	_hang=$?
	_blame=ok
	if [ $_v = all ] && [ $CHAOS_RC -eq 137 ]; then
		:
	elif [ $_v != all ] && [ $_v != none ] && [ $CHAOS_RC -eq 1 ] &&
	    grep -q "level=error .*msg=\"$_v failed" "$_rule.run.$_c"; then
		:
	elif [ $CHAOS_RC -eq 1 ] &&
	    grep -q "level=error .*msg=\"deliver failed" "$_rule.run.$_c" &&
	    grep -q "exists and holds other messages" "$_rule.run.$_c"; then
		_blame=conflict
	else
		_blame=WRONG
	fi
	_secs=$(echo "$(date +%s.%N) - $_t0" | bc)
	echo "cycle $_c victim $_v exit $CHAOS_RC blame $_blame secs $_secs" |
	    tee -a cycles.log
	if [ $_hang -ne 0 ] || [ $_blame = WRONG ]; then
		echo "cycle $_c: killed $_v, lakepipe run exit $CHAOS_RC:" >&2
		grep "level=error\|level=warn" "$_rule.run.$_c" | tail -20 >&2
		return 1
	fi
}

# chaos_final RULE SECONDS: RULE once more with stop-at-end, to the end
# of the topic; exit status 0
chaos_final() {
	grep -v '^stop-at-end = ' "$1.conf" >"$1.final.conf" &&
	echo 'stop-at-end = yes' >>"$1.final.conf" &&
	# the same state directory as the rule's (a rule's name is its
	# file's): its own, so that the state of the rule stays readable
	# run again after a key conflict, as Restart=on-failure would
	_try=0
	while :; do
		test_timeout "$2" lakepipe run "$1.final.conf" >"$1.final.out" 2>&1
		rc=$?
		_try=$((_try + 1))
		cp "$1.final.out" "$1.final.out.$_try"
		[ $rc -eq 1 ] && [ $_try -lt 5 ] &&
		    grep -q "exists and holds other messages" "$1.final.out" ||
		    break
		echo "final run of $1: a key conflict, run again" >&2
	done
	if [ $rc -ne 0 ]; then
		echo "final run of $1: exit $rc" >&2
		tail -30 "$1.final.out" >&2
		return 1
	fi
}

# has_exactly_once: the build under test has the lead's exactly-once
# mechanism (deliver --exactly-once); has_audit: lakepipe audit
has_exactly_once() { deliver --list-options | grep -qx -- '--exactly-once\|exactly-once'; }
has_audit() { deliver --list-options | grep -qx -- '--audit\|audit'; }

# chaos_count DEST_DIR IDS: read the lake back with DuckDB
# (lake-read.js) and compare it with what was published (count.js);
# the figures line in DEST_DIR.count; the record count cross-checked
# with zcat
chaos_count() {
	node "$PEERS/lake-read.js" "$1" >"$1.read" &&
	node "$CHAOS/count.js" "$2" "$1.read" >"$1.count" 2>"$1.examples" &&
	cat "$1.count" "$1.examples" &&
	_z=$(find "$1" -type f -name '*.jsonl.gz' -exec zcat {} + | wc -l) &&
	test "$_z" -eq "$(wc -l <"$1.read")"
}

# fig DEST_DIR KEY: a figure of chaos_count's line
fig() {
	sed -n "s/.* $2=\([0-9]*\).*/\1/p; s/^$2=\([0-9]*\).*/\1/p" "$1.count"
}

# chaos_backlog TOPIC SUB: the subscription's backlog at the broker
chaos_backlog() {
	ctl subscription topic="$1" subscription="$2" >backlog.json &&
	json_get backlog.json backlog
}

# chaos_leftovers DIR: temporary or partial files under the lake (a
# killed deliver's .NAME.PID.N.tmp; any dot file)
chaos_leftovers() {
	find "$1" -name '.*' -o -name '*.tmp' -o -name '*.part'
}

# chaos_figures WHAT...: one figures line, kept in $TRASH/figures and
# $CHAOS_FIGURES, printed as a TAP comment by the caller
chaos_figures() {
	echo "chaos: $*" >>"$TRASH/figures"
	[ -z "${CHAOS_FIGURES:-}" ] || echo "$(date -u +%FT%TZ) $TEST_NAME $*" \
	    >>"$CHAOS_FIGURES"
}

# chaos_check DEST_DIR IDS TOPIC SUB TYPE: the checks after a run: every
# id published is in the lake, none unexpected, payloads right, backlog 0,
# no leftover, audit clean (when there is one); duplicates: none for
# Exclusive/Failover when the build has exactly-once, otherwise counted.
# CHAOS_DUP holds the duplicated count, CHAOS_AUDIT clean, FAILED or none.
# The audit is of CHAOS_AUDIT_OF (a destination or a rule; default the
# directory) when set: a lake in a store, read back into DEST_DIR.
chaos_check() {
	CHAOS_AUDIT=none
	chaos_count "$1" "$2" || return 1
	CHAOS_DUP=$(fig "$1" duplicated)
	_lost=$(fig "$1" lost) _unex=$(fig "$1" unexpected)
	_dmg=$(fig "$1" damaged)
	_bl=$(chaos_backlog "$3" "$4")
	_left=$(chaos_leftovers "$1" | wc -l)
	echo "lost=$_lost unexpected=$_unex damaged=$_dmg backlog=$_bl leftovers=$_left duplicated=$CHAOS_DUP"
	chaos_leftovers "$1"
	[ "$_lost" -eq 0 ] && [ "$_unex" -eq 0 ] && [ "$_dmg" -eq 0 ] &&
	[ "$_bl" -eq 0 ] && [ "$_left" -eq 0 ] || return 1
	CHAOS_AUDIT=none
	if has_audit; then
		CHAOS_AUDIT=FAILED
		lakepipe audit "${CHAOS_AUDIT_OF:-file://$PWD/$1/}" \
		    >"$1.audit" 2>&1 ||
		    { cat "$1.audit"; return 1; }
		CHAOS_AUDIT=clean
	fi
	case $5 in
	Exclusive|Failover)
		if has_exactly_once && [ "$CHAOS_DUP" -ne 0 ]; then
			echo "$CHAOS_DUP records stored twice with exactly-once" >&2
			return 1
		fi ;;
	esac
}

# chaos-supervise RULE LOG: lakepipe run RULE again each time it exits 1
# on a key conflict in the lake (deliver: "exists and holds other
# messages": another instance sharing the subscription stored that range
# first, as when a partition moves between them), as systemd's
# Restart=on-failure does for lakepipe@.service (but not once it is being
# stopped: RULE.stopping exists, as systemctl stop tells systemd; "lakepipe
# stop" while objects of a partition that moved were in flight can end
# that way too); any other end ends it with that status.  The restarts
# are counted in RULE.restarts.
cat >"$TRASH/bin/chaos-supervise" <<'SH'
#!/bin/sh
n=0
while :; do
	lakepipe run "$1" >"$2.now" 2>&1
	rc=$?
	cat "$2.now" >>"$2"
	[ ! -e "${1%.conf}.stopping" ] && [ $rc -eq 1 ] &&
	    grep -q "exists and holds other messages" "$2.now" &&
	    ! grep -q "prog=lakepipe msg=\"stopping" "$2.now" || exit $rc
	n=$((n + 1))
	echo $n >"${1%.conf}.restarts"
done
SH
chmod +x "$TRASH/bin/chaos-supervise"

# chaos_supervised RULE LOG: chaos-supervise RULE in a process group of
# its own (as lp_start), its pid (the group) in RULE.pid
chaos_supervised() {
	setsid perl -e '$SIG{INT} = "DEFAULT"; exec @ARGV or die "$!\n"' \
	    chaos-supervise "$1" "$2" </dev/null >/dev/null 2>&1 &
	echo $! >"${1%.conf}.pid"
	test_at_end "kill -KILL -$!"
}

# restarts NAME K: the conflict restarts of rules NAME.p1 .. NAME.pK
restarts() {
	_sum=0 _i=0
	while [ $_i -lt $2 ]; do
		_i=$((_i + 1))
		[ ! -s "$1.p$_i.restarts" ] ||
		    _sum=$((_sum + $(cat "$1.p$_i.restarts")))
	done
	echo $_sum
}

# chaos_parts TOPIC SUB: one line per partition of the subscription,
# "PARTITION MARK-DELETE-INDEX BACKLOG CONSUMERS"
chaos_parts() {
	ctl subscription topic="$1" subscription="$2" | node -e '
	    const s = JSON.parse(require("fs").readFileSync(0, "utf8"));
	    s.partitions.forEach((p, i) => console.log(i, p ? p.markDeleteIndex : -1,
		p ? p.backlog : 0, p ? p.consumersConnected : 0));'
}

# all_connected TOPIC SUB K: every partition has K consumers
all_connected() {
	chaos_parts "$1" "$2" >parts.now &&
	test "$(awk -v k="$3" '$4 == k' parts.now | wc -l)" -eq 4
}

# all_moved TOPIC SUB BEFORE: every partition's mark-delete has moved on
# since BEFORE (a chaos_parts file), or it has no backlog
all_moved() {
	chaos_parts "$1" "$2" >parts.now &&
	test "$(awk 'NR == FNR { md[$1] = $2; next }
	    $2 > md[$1] || $3 == 0' "$3" parts.now | wc -l)" -eq 4
}

# chaos_stop RULE LOG: stop the chaos_supervised RULE for good and wait
# for its supervisor: RULE.stopping first (no restart after it), then
# lakepipe stop until the supervisor is gone (it may be between a run
# that ended on a conflict and the next).  Its last run must have ended
# with exit status 0, or 1 on a key conflict (an object in flight when a
# partition moved, refused at the stop's flush: nothing acked, nothing
# lost).  Whatever went wrong is shown: lakepipe stop's output, the last
# run's log, what is left of the group.
chaos_stop() {
	_spid=$(cat "${1%.conf}.pid")
	: >"${1%.conf}.stopping" || return 1
	_left=60
	while kill -0 "$_spid" 2>/dev/null &&
	    [ "$(ps -o stat= -p "$_spid")" != Z ]; do
		_left=$((_left - 1))
		test_timeout 150 lakepipe stop "$1" >stop.out 2>&1
		_rc=$?
		cat stop.out
		if [ $_rc -ne 0 ] || [ $_left -le 0 ]; then
			echo "lakepipe stop $1: exit status $_rc" \
			    "($_left tries left); the run's log ends:"
			tail -n 30 "$2.now"
			ps -o pid,stat,etime,args -g "$_spid"
			return 1
		fi
		sleep 0.2
	done
	wait "$_spid"
	_rc=$?
	echo "supervisor of $1: exit status $_rc"
	[ $_rc -eq 0 ] && return 0
	[ $_rc -eq 1 ] && grep -q "exists and holds other messages" "$2.now" &&
	    return 0
	tail -n 30 "$2.now"
	return 1
}
