# lib/lakepipe/run.sh: lakepipe run: a rule run as a service, with its log.
# Sourced by pipeline.sh (lakepipe), whose main calls these; not run alone.

# log_writer FILE: copy each line of stdin to fd 3 (the terminal, or the
# journal under systemd) and to FILE, rotated at log_size bytes into
# FILE.1 .. FILE.$log_keep; a line that is not logfmt (a sanitizer's
# report, say) is wrapped in one; the last error line goes to last-error.
log_writer() {
	local LC_ALL=C f=$1 line size
	# A Ctrl-C must not end the log before the stop is logged: this
	# subshell, unlike the programs, does not ignore SIGINT by itself.
	trap '' INT PIPE
	size=$(stat -c %s "$f" 2>/dev/null || echo 0)
	exec 4>>"$f"
	while IFS= read -r line || [ -n "$line" ]; do
		if ! [[ $line == ts=*' level='* ]]; then
			now_ts
			lf_value "$line"
			line="ts=$ts level=info prog=lakepipe msg=$REPLY"
		fi
		printf '%s\n' "$line" >&3
		printf '%s\n' "$line" >&4
		size=$((size + ${#line} + 1))
		[[ $line != *' level=error '* ]] || note_error "$line"
		[ $size -lt $log_size ] || { rotate_log "$f"; size=0; }
	done
}

# note_error LINE: the last error line, and each program's own last one
# (last-error.PROGRAM), of which the failed stage's is the run's error.
note_error() {
	local p=${1#* prog=}
	p=${p%% *}
	[[ $p =~ ^[a-z]+$ ]] || p=unknown
	printf '%s\n' "$1" >"$sdir/last-error.$p"
	printf '%s\n' "$1" >"$sdir/last-error.tmp" &&
	    mv -f "$sdir/last-error.tmp" "$sdir/last-error"
}

rotate_log() {
	local i
	exec 4>&-
	for ((i = log_keep - 1; i >= 1; i--)); do
		[ ! -e "$1.$i" ] || mv -f "$1.$i" "$1.$((i + 1))"
	done
	mv -f "$1" "$1.1"
	exec 4>>"$1"
}

# The stages write their metrics files into the state directory; -q or -v
# of the rule went to every program that has them.
run_main() {
	load_rule "$1"
	mkdir -p "$sdir" || die "cannot make the state directory $sdir"
	exec 9>>"$sdir/lock"
	# a few seconds: a status or stop probing the lock holds it briefly
	if ! flock -w 5 9; then
		st_read
		die "$rule_name is already running (pid ${ST[pid]:-?});" \
		    "stop it first: $prog stop $rule_file"
	fi
	make_tmp
	mkfifo "$tmp/log" || exit 1
	log_writer "$sdir/log" <"$tmp/log" 3>&2 2>/dev/null 9>&- &
	local logger=$!
	exec 5>&2 2>"$tmp/log"
	rm -f "$sdir"/last-error* "$sdir"/*.prom
	now_ts
	started=$ts started_epoch=$EPOCHSECONDS
	local out
	if ! out=$(offline_check); then
		grep '^fail ' <<<"$out" | while IFS= read -r l; do
			log error "${l#fail }"
		done
		log error "$rule_name not started: fix the settings above" \
		    rule="$rule_file"
		run_exit=2 run_state=invalid
	else
		run_rule
	fi
	# the last lines in the log (and its last error) before the state;
	# the error of a failed run is the failed stage's, not its victims'
	exec 2>&5 5>&-
	wait $logger
	[ -z "${failed_stage:-}" ] || [ ! -s "$sdir/last-error.$failed_stage" ] ||
	    cp "$sdir/last-error.$failed_stage" "$sdir/last-error"
	now_ts
	ended=$ts
	write_state
	exit $run_exit
}

# sargs: the rule's deliver options that say how to reach the store.
store_args() {
	local a
	sargs=()
	for a in ${d_args[@]+"${d_args[@]}"}; do
		case $a in
		--endpoint=*|--path-style|--credentials=*|--retries=*|\
		--timeout=*|--insecure|--quiet|--verbose) sargs+=("$a") ;;
		esac
	done
}

# Exactly once (lakepipe(1)): consume skips what the lake's index holds,
# deliver writes without overwriting and keeps the index; for Exclusive
# and Failover subscriptions (Shared ones deliver out of order) of a
# broker.
exactly_once_args() {
	local a type=exclusive url=
	case ${OWN[exactly-once],,} in no|false) return ;; esac
	for a in ${c_args[@]+"${c_args[@]}"}; do
		case $a in
		--type=*) type=${a#--type=} ;;
		--url=*) url=${a#--url=} ;;
		esac
	done
	[ -n "$url" ] || return 0	# a replay of files: no broker to ack
	case ${type,,} in exclusive|failover) ;; *)
		log info "exactly-once off: a $type subscription is at-least-once" \
		    "(records carry message_id)"
		return ;;
	esac
	c_args+=(--exactly-once "${OWN[destination]}" --deliver "$DELIVER")
	# the store's settings, for the deliver consume runs to read the index
	store_args
	for a in ${sargs[@]+"${sargs[@]}"}; do
		c_args+=("--deliver-option=$a")
	done
	d_args+=(--exactly-once)
}

# deliver --markers waits for every partition of the topic, also one that
# has sent nothing yet: lakepipe asks the broker how many there are
# (consume --probe), unless the rule says (partitions = N).
partitions_arg() {
	local a on=0 n
	[ -n "${KEYLINE[url]:-}" ] && [ -z "${KEYLINE[partitions]:-}" ] ||
	    return 0
	for a in ${d_args[@]+"${d_args[@]}"}; do
		[ "$a" != --markers ] || on=1
	done
	[ $on -eq 1 ] || return 0
	stage_args consume
	n=$(timeout -k 5 $PROBE_LIMIT "$bin" --probe ${args[@]+"${args[@]}"} \
	    2>/dev/null | sed -n 's/^ok topic: .* found, \([0-9][0-9]*\) partitions, .*/\1/p')
	if [ -n "$n" ]; then
		d_args+=(--partitions="$n")
		log info "markers wait for every partition" partitions="$n"
	else
		log warn "markers: the topic's partition count is not known" \
		    todo="give it as partitions = N; until then a partition that has sent nothing holds no marker back once idle"
	fi
}

run_rule() {
	partitions_arg
	exactly_once_args
	# multipart uploads of a killed deliver of this rule: aborted
	case ${OWN[destination]} in file://*) ;; *) d_args+=(--orphan-age=1h) ;; esac
	d_args+=("${OWN[destination]}")
	c_args+=(--metrics-file "$sdir/consume.prom")
	t_args+=(--metrics-file "$sdir/transform.prom")
	d_args+=(--metrics-file "$sdir/deliver.prom")
	run_state=running
	write_state
	log info "running" rule="$rule_file" pid=$$ \
	    destination="${OWN[destination]}"
	tick=write_state
	if run_pipeline; then
		run_exit=0 run_state=stopped
	else
		run_exit=1 run_state=failed
	fi
	tick=
	log info "$run_state" rule="$rule_file" exit=$run_exit
}
