#!/usr/bin/env bash
# pipeline.sh: run consume | transform | deliver with an ack FIFO, so that
# consume acknowledges a message only after deliver stored its object.
#
#   pipeline.sh CONSUME-ARGS... -- DELIVER-ARGS...
#   pipeline.sh CONSUME-ARGS... -- TRANSFORM-ARGS... -- DELIVER-ARGS...
#
# See lakepipe(1) (doc/lakepipe.1) for the whole story.  Exit status: 0
# when every stage succeeded, 1 when one failed (named on stderr, the
# others stopped), 2 on a usage error.  SIGINT or SIGTERM stops cleanly:
# consume stops reading, what is in flight is transformed, delivered and
# acked, then everything exits; a second signal stops at once.
set -u
prog=${0##*/}
here=$(cd "$(dirname "$0")" && pwd)

usage() {
	[ "${1:-2}" -eq 0 ] || exec >&2
	cat <<EOT
usage: $prog CONSUME-ARGS... -- [TRANSFORM-ARGS... --] DELIVER-ARGS...

Runs consume | transform | deliver with an ack FIFO from deliver back to
consume.  Arguments are split into groups by '--': the first group goes to
consume, the last to deliver, and a middle one (if any) to transform.

examples:
  $prog --lines sample/messages.jsonl -- file://\$PWD/lake/
  $prog --url pulsar://10.0.0.8:6650 --topic pulsar-xxx/ns/orders \\
      --subscription lake --token-file ~/.pulsar-token -- \\
      --format jsonl --max-age 60 -- cos://lake-1250000000/orders/?region=ap-guangzhou
EOT
	exit "${1:-2}"
}

# Find the three programs: beside this script (a build tree, or installed
# in the same bin directory), else on PATH.
find_prog() {
	if [ -x "$here/$1/$1" ]; then
		echo "$here/$1/$1"
	elif [ -x "$here/$1" ]; then
		echo "$here/$1"		# installed side by side
	elif command -v "lakepipe-$1" >/dev/null 2>&1; then
		command -v "lakepipe-$1"
	elif command -v "$1" >/dev/null 2>&1; then
		command -v "$1"
	else
		echo "$prog: cannot find the $1 program (run make?)" >&2
		exit 1
	fi
}

case ${1:-} in -h|--help) usage 0 ;; "") usage ;; esac

c_args=() t_args=() d_args=() group=0
for a in "$@"; do
	if [ "$a" = "--" ]; then
		group=$((group + 1))
		continue
	fi
	case $group in
	0) c_args+=("$a") ;;
	1) t_args+=("$a") ;;
	2) d_args+=("$a") ;;
	*) echo "$prog: more than three argument groups" >&2; usage ;;
	esac
done
case $group in
0) echo "$prog: no '--' before deliver's destination" >&2; usage ;;
1) d_args=(${t_args[@]+"${t_args[@]}"}); t_args=() ;;
esac
[ ${#d_args[@]} -gt 0 ] || { echo "$prog: no destination for deliver" >&2; usage; }

CONSUME=$(find_prog consume) || exit 1
TRANSFORM=$(find_prog transform) || exit 1
DELIVER=$(find_prog deliver) || exit 1

tmp=$(mktemp -d "${TMPDIR:-/tmp}/lakepipe.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
mkfifo "$tmp/frames" "$tmp/objects" "$tmp/acks" || exit 1

# Background jobs of a non-interactive shell ignore SIGINT, so a Ctrl-C
# reaches only this script, which turns it into an orderly stop below.
# A background job's stdin would be /dev/null: hand consume ours, for
# --lines - and --frames -.
"$CONSUME" --acks "$tmp/acks" ${c_args[@]+"${c_args[@]}"} <&0 >"$tmp/frames" &
c_pid=$!
"$TRANSFORM" ${t_args[@]+"${t_args[@]}"} <"$tmp/frames" >"$tmp/objects" &
t_pid=$!
"$DELIVER" ${d_args[@]+"${d_args[@]}"} <"$tmp/objects" >"$tmp/acks" &
d_pid=$!
declare -A stage=([$c_pid]=consume [$t_pid]=transform [$d_pid]=deliver)
declare -A status=()

stopping=0
on_signal() {
	if [ $stopping -eq 0 ]; then
		stopping=1
		echo "$prog: stopping: flushing what is in flight" >&2
		kill -TERM "$c_pid" 2>/dev/null
	else
		echo "$prog: stopping now" >&2
		kill -TERM "$c_pid" "$t_pid" "$d_pid" 2>/dev/null
	fi
}
trap on_signal INT TERM

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

failed= drainer= grace=0
while [ ${#stage[@]} -gt 0 ]; do
	reap
	if [ -z "$failed" ] && [ -n "$(culprit)" ]; then
		# let the others end by themselves for a moment, so that the
		# stage named is the cause, not a victim
		if [ $grace -lt 10 ] && [ ${#stage[@]} -gt 0 ]; then
			grace=$((grace + 1))
			sleep 0.1
			continue
		fi
		failed=$(culprit)
		echo "$prog: $failed failed (exit status ${status[$failed]});" \
		    "stopping the others" >&2
		[ ${#stage[@]} -eq 0 ] || kill -TERM "${!stage[@]}" 2>/dev/null
	fi
	if [ -n "${status[consume]:-}" ] && [ -n "${stage[$d_pid]:-}" ] &&
	    [ -z "$drainer" ]; then
		# Nobody reads acks any more: keep deliver from blocking on
		# the FIFO or dying of SIGPIPE while it stores what it has.
		# Opened read-write, so that the open cannot block either.
		cat <>"$tmp/acks" >/dev/null &
		drainer=$!
	fi
	[ ${#stage[@]} -eq 0 ] || sleep 0.1
done
[ -z "$drainer" ] || kill "$drainer" 2>/dev/null
if [ -z "$failed" ] && [ -n "$(culprit)" ]; then
	failed=$(culprit)
	echo "$prog: $failed failed (exit status ${status[$failed]})" >&2
fi
[ -z "$failed" ] || exit 1
exit 0
