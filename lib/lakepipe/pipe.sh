# lib/lakepipe/pipe.sh: the pipeline: consume | transform | deliver with the ack FIFO.
# Sourced by pipeline.sh (lakepipe), whose main calls these; not run alone.

# Find a program: beside lakepipe (a build tree, or installed in the
# same bin directory as lakepipe-NAME), else on PATH.
find_prog() {
	local p
	for p in "$here/$1/$1" "$here/lakepipe-$1" "$here/$1"; do
		[ -x "$p" ] && { echo "$p"; return; }
	done
	for p in "lakepipe-$1" "$1"; do
		command -v "$p" 2>/dev/null && return
	done
	die "cannot find the $1 program (lakepipe-$1 beside $0, or run make)"
}

find_progs() {
	CONSUME=$(find_prog consume) || exit 1
	TRANSFORM=$(find_prog transform) || exit 1
	DELIVER=$(find_prog deliver) || exit 1
}

# ---- the pipeline -------------------------------------------------------

# run_pipeline: consume | transform | deliver from the arrays c_args,
# t_args and d_args, in the temporary directory $tmp.  Returns 0 when
# every stage succeeded, 1 when one failed (named on stderr).  $tick, when
# set, is a command run about once a second while the stages run.
run_pipeline() {
	mkfifo "$tmp/frames" "$tmp/objects" "$tmp/acks" || return 1

	# Background jobs of a non-interactive shell ignore SIGINT, and the
	# programs keep it ignored: a Ctrl-C reaches only this script,
	# which turns it into an orderly stop (on_signal).  A background
	# job's stdin would be /dev/null: hand consume ours, for --lines -.
	# (9, the rule's lock, stays with this script alone: a stage or a
	# child of one that outlives it must not keep the next run out)
	"$CONSUME" --acks "$tmp/acks" ${c_args[@]+"${c_args[@]}"} <&0 \
	    >"$tmp/frames" 9>&- &
	c_pid=$!
	stopping=0
	trap on_signal INT TERM
	"$TRANSFORM" ${t_args[@]+"${t_args[@]}"} <"$tmp/frames" \
	    >"$tmp/objects" 9>&- &
	t_pid=$!
	"$DELIVER" ${d_args[@]+"${d_args[@]}"} <"$tmp/objects" \
	    >"$tmp/acks" 9>&- &
	d_pid=$!
	# The ack FIFO held open by us too, read-write so that the open
	# never blocks: deliver never gets EPIPE while it stores what it
	# holds after consume has gone (our copy is drained then), and
	# consume never blocks opening it after deliver has gone.  Closed
	# once deliver has ended, so that consume sees the end of the acks.
	exec 3<>"$tmp/acks"
	declare -gA stage=([$c_pid]=consume [$t_pid]=transform \
	    [$d_pid]=deliver)
	declare -gA status=()
	watch_stages
	local rc=$?
	trap - INT TERM
	return $rc
}

on_signal() {
	if [ $stopping -eq 0 ]; then
		stopping=1
		log info "stopping: flushing what is in flight"
		kill -TERM "$c_pid" 2>/dev/null
	else
		log warn "stopping now: what is not stored is redelivered later"
		kill -TERM "$c_pid" "$t_pid" "$d_pid" 2>/dev/null
	fi
}

# Collect the exit status of every stage that has ended.  Polling with
# kill -0 rather than wait -n: a trapped signal or the ack drainer below
# cannot confuse it.
reap() {
	local p
	for p in "${!stage[@]}"; do
		kill -0 "$p" 2>/dev/null && continue
		wait "$p"
		status[${stage[$p]}]=$?
		unset "stage[$p]"
	done
}

# The stage to blame: the one furthest down the pipe that failed, since a
# failing deliver makes consume fail too (unacked messages), and a failing
# transform makes consume die of SIGPIPE.
culprit() {
	local s
	for s in deliver transform consume; do
		if [ -n "${status[$s]:-}" ] && [ "${status[$s]}" -ne 0 ]; then
			echo "$s"
			return
		fi
	done
}

# Wait for the three stages; stop the others when transform or deliver
# failed.  When consume ends, first or alone, transform and deliver see
# the end of their input and finish what they hold by themselves.
watch_stages() {
	local failed= drainer= grace=0 n=0 acks=open
	while [ ${#stage[@]} -gt 0 ]; do
		reap
		if [ -n "${status[deliver]:-}" ] && [ $acks = open ]; then
			exec 3<&-
			acks=closed
		fi
		if [ -n "${status[consume]:-}" ] && [ $acks = open ] &&
		    [ -z "$drainer" ]; then
			# Nobody reads acks any more: keep deliver from
			# blocking on a full FIFO while it stores the rest.
			cat <&3 >/dev/null 9>&- &
			drainer=$!
		fi
		if [ -z "$failed" ] && [ -n "$(culprit)" ] &&
		    [ "$(culprit)" != consume ]; then
			# let the others end by themselves for a moment, so
			# that the stage named is the cause, not a victim
			if [ $grace -lt 10 ] && [ ${#stage[@]} -gt 0 ]; then
				grace=$((grace + 1))
				sleep 0.1
				continue
			fi
			failed=$(culprit)
			log error "$failed failed (exit status ${status[$failed]}); stopping the others"
			[ ${#stage[@]} -eq 0 ] ||
			    kill -TERM "${!stage[@]}" 2>/dev/null
		fi
		n=$((n + 1))
		[ -z "${tick:-}" ] || [ $((n % 10)) -ne 0 ] || $tick
		[ ${#stage[@]} -eq 0 ] || sleep 0.1
	done
	[ -z "$drainer" ] || { kill "$drainer"; wait "$drainer"; } 2>/dev/null
	[ $acks = closed ] || exec 3<&-
	if [ -z "$failed" ] && [ -n "$(culprit)" ]; then
		failed=$(culprit)
		log error "$failed failed (exit status ${status[$failed]})"
	fi
	failed_stage=$failed
	[ -z "$failed" ]
}

make_tmp() {
	tmp=$(mktemp -d "${TMPDIR:-/tmp}/lakepipe.XXXXXX") || exit 1
	trap 'rm -rf "$tmp"' EXIT
}

# The first form: CONSUME-ARGS -- [TRANSFORM-ARGS --] DELIVER-ARGS.
pipeline_main() {
	local a group=0
	c_args=() t_args=() d_args=()
	for a in "$@"; do
		if [ "$a" = "--" ]; then
			group=$((group + 1))
			continue
		fi
		case $group in
		0) c_args+=("$a") ;;
		1) t_args+=("$a") ;;
		2) d_args+=("$a") ;;
		*) usage_error "more than three argument groups" ;;
		esac
	done
	case $group in
	0) usage_error "no '--' before deliver's destination" ;;
	1) d_args=(${t_args[@]+"${t_args[@]}"}); t_args=() ;;
	esac
	[ ${#d_args[@]} -gt 0 ] || usage_error "no destination for deliver"
	find_progs
	make_tmp
	run_pipeline || exit 1
	exit 0
}
