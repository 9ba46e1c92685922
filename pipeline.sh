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

# Find the three programs: beside this script in a build tree, else PATH.
find_prog() {
	if [ -x "$here/$1/$1" ]; then
		echo "$here/$1/$1"
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

c_args=() t_args=() d_args=() group=0 groups=()
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

failed=
while [ ${#stage[@]} -gt 0 ]; do
	done_pid=
	wait -n -p done_pid
	rc=$?
	# a trapped signal interrupts wait without a finished job; the ack
	# drainer below is not a stage
	[ -n "$done_pid" ] && [ -n "${stage[$done_pid]:-}" ] || continue
	name=${stage[$done_pid]}
	unset "stage[$done_pid]"
	if [ $rc -ne 0 ] && [ -z "$failed" ]; then
		failed=$name
		echo "$prog: $name failed (exit status $rc); stopping the others" >&2
		for p in "${!stage[@]}"; do
			kill -TERM "$p" 2>/dev/null
		done
	fi
	if [ "$name" = consume ] && [ -n "${stage[$d_pid]:-}" ]; then
		# Nobody reads acks any more: keep deliver from blocking on
		# the FIFO or dying of SIGPIPE while it stores what it has.
		cat "$tmp/acks" >/dev/null &
	fi
done
[ -z "$failed" ] || exit 1
exit 0
