#!/bin/sh
# bench/consume-pipe.sh [-m MB] [-r RUNS] [CONSUME...]: the CPU time of
# consume --lines writing MB (default 200) of JSON lines as frames into a
# pipe, as in the replay pipeline: to transform | deliver file:// with the
# ack FIFO ("pipeline"), and to cat ("cat", a reader that never falls
# behind).  Best of RUNS (default 3) by user + system, with the voluntary
# context switches (consume's sleeps in poll(2)) of that run.  Each
# CONSUME (default consume/consume) is measured in turn on the same
# input, the runs alternated, so that the machine's load weighs on each
# alike.  Not a test: it prints a table.
set -eu
cd "$(dirname "$0")/.."
mb=200 runs=3
while getopts m:r: opt; do
	case $opt in
	m) mb=$OPTARG ;;
	r) runs=$OPTARG ;;
	*) echo "usage: bench/consume-pipe.sh [-m MB] [-r RUNS] [CONSUME...]" >&2
	   exit 2 ;;
	esac
done
shift $((OPTIND - 1))
[ $# -gt 0 ] || set -- consume/consume
out=bench/out/cpipe
rm -rf "$out" && mkdir -p "$out"
trap 'rm -rf "$out"' EXIT
python3 bench/make-input.py "$mb" "$out/input.jsonl"
cat "$out/input.jsonl" >/dev/null	# warm the page cache

# once CONSUME SHAPE N: one run; appends "user sys voluntary" to $out/t.N.
# consume opens its pipe itself (sh -c 'exec ...'), so that time(1) holds
# no end of it and end of input reaches transform when consume closes it.
once() {
	rm -rf "$out/lake" "$out"/fifo.*
	mkfifo "$out/fifo.acks" "$out/fifo.frames"
	/usr/bin/time -f "%U %S %w" -a -o "$out/t.$3" sh -c 'exec "$1" \
	    --lines "$2/input.jsonl" --publish-time 1764201600000 \
	    ${3:+--acks "$2/fifo.acks"} >"$2/fifo.frames" \
	    2>"$2/consume.err"' sh "$1" "$out" \
	    "$([ "$2" = pipeline ] && echo acks)" &
	case $2 in
	cat)
		cat "$out/fifo.frames" >/dev/null ;;
	pipeline)
		transform/transform --format jsonl --compress gzip \
		    <"$out/fifo.frames" 2>"$out/transform.err" |
		    deliver/deliver -q \
		    "file://$PWD/$out/lake/" >"$out/fifo.acks" ;;
	esac
	wait
}

printf '%-28s %-9s %6s %6s %6s %8s\n' consume to "CPU s" user sys voluntary
for shape in cat pipeline; do
	i=0
	while [ $i -lt "$runs" ]; do
		i=$((i + 1))
		n=0
		for c in "$@"; do
			n=$((n + 1))
			once "$c" $shape $n
		done
	done
	n=0
	for c in "$@"; do
		n=$((n + 1))
		awk '{ print $1 + $2, $1, $2, $3 }' "$out/t.$n" | sort -n |
		    head -1 | awk -v c="$c" -v s=$shape '{ printf \
		    "%-28s %-9s %6.2f %6.2f %6.2f %8d\n", c, s, $1, $2, $3, $4 }'
		rm -f "$out/t.$n"
	done
done
