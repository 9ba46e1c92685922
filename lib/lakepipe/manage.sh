# lib/lakepipe/manage.sh: lakepipe status, logs, stop, delete and audit.
# Sourced by pipeline.sh (lakepipe), whose main calls these; not run alone.

# REPLY: seconds as "1h 2m 3s".
span() {
	local s=$1 r=
	[ $s -lt 86400 ] || r+="$((s / 86400))d "
	[ $s -lt 3600 ] || r+="$((s % 86400 / 3600))h "
	[ $s -lt 60 ] || r+="$((s % 3600 / 60))m "
	REPLY="$r$((s % 60))s"
}

status_main() {
	local k rc=0
	load_rule "$1"
	echo "rule: $rule_name ($rule_file)"
	if ! st_read; then
		echo "running: no (never run; state directory $sdir)"
		exit 3
	fi
	if running; then
		span $((EPOCHSECONDS - ${ST[started_epoch]:-$EPOCHSECONDS}))
		echo "running: yes, pid ${ST[pid]}, since ${ST[started]} ($REPLY)"
	elif [ "${ST[state]:-}" = running ]; then
		echo "running: no, ended unrecorded (killed?); started ${ST[started]:-?}"
		rc=3
	else
		echo "running: no, ${ST[state]:-stopped} at ${ST[ended]:-?}" \
		    "(exit status ${ST[exit]:-?}; started ${ST[started]:-?})"
		rc=3
	fi
	echo "messages: ${ST[messages]:-0} read, ${ST[acked]:-0} stored and acknowledged"
	echo "objects: ${ST[objects]:-0} stored, ${ST[bytes]:-0} bytes"
	if [ -n "${ST[last_object]:-}" ]; then
		local TZ=UTC0 at=?
		[ -z "${ST[last_object_epoch]:-}" ] ||
		    printf -v at '%(%Y-%m-%dT%H:%M:%SZ)T' "${ST[last_object_epoch]}"
		echo "last object: ${ST[last_object]} at $at"
	else
		echo "last object: none yet"
	fi
	if [ -n "${ST[lag_seconds]:-}" ]; then
		printf 'lag: %.1f s from publish to stored\n' "${ST[lag_seconds]}"
	fi
	for k in $(printf '%s\n' "${!ST[@]}" | grep '^backlog\.' | sort -t. -k2n); do
		echo "backlog: partition ${k#backlog.}: ${ST[$k]} messages"
	done
	if [ -n "${ST[last_error]:-}" ]; then
		local e=${ST[last_error]} when p
		when=${e#ts=}
		when=${when%% *}
		p=${e#*prog=}
		p=${p%% *}
		line_msg "$e"
		echo "last error: $when $p: $REPLY"
	else
		echo "last error: none"
	fi
	exit $rc
}

logs_main() {
	local follow=0 lines= f i
	local rule=$1
	shift
	while [ $# -gt 0 ]; do
		case $1 in
		-f|--follow) follow=1 ;;
		-n) [ $# -ge 2 ] && [[ $2 =~ ^[0-9]+$ ]] ||
		        usage_error "logs: -n takes a number of lines"
		    lines=$2; shift ;;
		*) usage_error "logs: unknown argument '$1'" ;;
		esac
		shift
	done
	load_rule "$rule"
	f=$sdir/log
	[ -e "$f" ] || die "$rule_name has no log yet ($f): lakepipe run writes it"
	if [ $follow -eq 1 ]; then
		exec tail -n "${lines:-10}" -F "$f"
	fi
	{
		for ((i = log_keep; i >= 1; i--)); do
			[ ! -e "$f.$i" ] || cat "$f.$i"
		done
		cat "$f"
	} | if [ -n "$lines" ]; then tail -n "$lines"; else cat; fi
	exit 0
}

# stop_rule: SIGTERM to the rule's lakepipe run, then wait until it and
# every stage have exited (the run holds the lock until its stages end).
stop_rule() {
	if ! running; then
		echo "ok stopped: $rule_name is not running"
		return 0
	fi
	st_read
	local pid=${ST[pid]:-} t0=$EPOCHREALTIME
	[[ $pid =~ ^[0-9]+$ ]] || die "$sdir/state holds no pid"
	kill -TERM "$pid" 2>/dev/null
	if ! flock -s -w "$stop_timeout" "$sdir/lock" true; then
		echo "fail stopped: $rule_name (pid $pid) still flushing after" \
		    "$stop_timeout s; a second SIGTERM stops it at once:" \
		    "kill -TERM $pid"
		return 1
	fi
	st_read
	echo "ok stopped: $rule_name (pid $pid) after" \
	    "$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }') s," \
	    "exit status ${ST[exit]:-?}"
}

stop_main() {
	load_rule "$1"
	stop_rule || exit 1
	exit 0
}

delete_main() {
	local rule=$1 unsub=0
	shift
	case ${1:-} in
	--unsubscribe) unsub=1 ;;
	"") ;;
	*) usage_error "delete: unknown argument '$1' (--unsubscribe?)" ;;
	esac
	load_rule "$rule"
	stop_rule || exit 1
	if [ $unsub -eq 1 ]; then
		make_tmp
		checks consume --unsubscribe subscription || exit 1
	fi
	rm -rf "$sdir"
	echo "ok deleted: the state and log of $rule_name ($sdir);" \
	    "the rule file $rule_file is left to you"
	exit 0
}

# ---- audit -------------------------------------------------------------

# audit [DELIVER-OPTIONS] DESTINATION | RULE: deliver --audit, on a
# destination URL or on a rule's destination with the rule's store
# settings (endpoint, credentials, ...) and environment file.
audit_main() {
	local last=${!#}
	find_progs
	if [[ $last == *://* ]] || [ ! -f "$last" ]; then
		exec "$DELIVER" --audit "$@"
	fi
	[ $# -eq 1 ] || usage_error "audit RULE takes no other arguments"
	load_rule "$last"
	store_args
	exec "$DELIVER" --audit ${sargs[@]+"${sargs[@]}"} "${OWN[destination]}"
}
