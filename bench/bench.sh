#!/usr/bin/env bash
# bench/bench.sh [-m MB] [-r "MB MB"]: the replay pipeline's throughput as
# ratios against cat, gzip -1 and igzip -1 run on the same bytes in the
# same run, and the peak RSS of each stage at two input sizes (it must not
# grow with the input).  Not a test: it prints figures for BENCH.md.
#
#   -m MB      size of the JSON-lines input for the throughput runs (64)
#   -r "A B"   the two sizes for the memory runs (100 1000)
#   -n N       repetitions of each timed run, best kept (3)
set -eu
cd "$(dirname "$0")/.."
mb=64 rss_sizes="100 1000" reps=3
while getopts m:r:n: opt; do
	case $opt in
	m) mb=$OPTARG ;;
	r) rss_sizes=$OPTARG ;;
	n) reps=$OPTARG ;;
	*) echo "usage: bench/bench.sh [-m MB] [-r \"MB MB\"] [-n N]" >&2; exit 2 ;;
	esac
done
for p in consume/consume transform/transform deliver/deliver; do
	[ -x "$p" ] || { echo "bench: $p not built (run make)" >&2; exit 1; }
done
command -v igzip >/dev/null || { echo "bench: igzip missing (./setup.sh --tests)" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "bench: /usr/bin/time missing (./setup.sh --tests)" >&2; exit 1; }

out=bench/out
rm -rf "$out" && mkdir -p "$out"
trap 'rm -rf "$out/lake" "$out"/*.jsonl "$out"/fifo.*' EXIT

# make_input MB FILE: deterministic JSON lines of realistic shape
make_input() {
	python3 bench/make-input.py "$1" "$2"
}

# best_time CMD...: the fastest of $reps runs of a shell command, seconds
best_time() {
	best=
	for _ in $(seq "$reps"); do
		t0=$(date +%s.%N)
		bash -c "$1"
		t1=$(date +%s.%N)
		t=$(echo "$t1 - $t0" | bc -l)
		if [ -z "$best" ] || [ "$(echo "$t < $best" | bc -l)" = 1 ]; then
			best=$t
		fi
	done
	echo "$best"
}

# run_pipeline INPUT: the three stages with an ack FIFO, each under
# /usr/bin/time for its peak RSS (KB) in $out/rss.*.  Each stage opens its
# own FIFOs after time started it (sh -c 'exec ...'), so that time itself
# holds no pipe end open and end-of-input still reaches the next stage.
run_pipeline() {
	rm -rf "$out/lake" "$out"/fifo.*
	mkfifo "$out/fifo.acks" "$out/fifo.frames" "$out/fifo.objects"
	/usr/bin/time -f %M -o "$out/rss.consume" sh -c 'exec consume/consume \
	    --lines "$1" --publish-time 1764201600000 --acks "$2/fifo.acks" \
	    >"$2/fifo.frames"' sh "$1" "$out" </dev/null >/dev/null &
	/usr/bin/time -f %M -o "$out/rss.transform" sh -c 'exec \
	    transform/transform --format jsonl --compress gzip \
	    <"$1/fifo.frames" >"$1/fifo.objects"' sh "$out" </dev/null >/dev/null &
	/usr/bin/time -f %M -o "$out/rss.deliver" sh -c 'exec deliver/deliver \
	    "file://$PWD/$1/lake/" <"$1/fifo.objects" >"$1/fifo.acks"' \
	    sh "$out" </dev/null >/dev/null &
	wait
}
export -f run_pipeline
export out

in=$out/input.jsonl
make_input "$mb" "$in"
bytes=$(stat -c %s "$in")
cat "$in" >/dev/null	# warm the page cache

t_cat=$(best_time "cat $in >/dev/null")
t_gzip=$(best_time "gzip -1 -c <$in >/dev/null")
t_igzip=$(best_time "igzip -1 -c <$in >/dev/null")
t_pipe=$(best_time "run_pipeline $in")
lake_bytes=$(du -sb "$out/lake" | cut -f1)

mbps() { echo "scale=1; $bytes / $1 / 1000000" | bc -l; }
ratio() { echo "scale=2; $2 / $1" | bc -l; }

echo "input: $mb MiB of JSON lines ($(wc -l <"$in") messages), best of $reps runs"
printf '%-34s %10s %10s\n' "run" "MB/s" "pipeline/x"
printf '%-34s %10s %10s\n' "cat > /dev/null" "$(mbps "$t_cat")" "$(ratio "$t_pipe" "$t_cat")"
printf '%-34s %10s %10s\n' "gzip -1 > /dev/null" "$(mbps "$t_gzip")" "$(ratio "$t_pipe" "$t_gzip")"
printf '%-34s %10s %10s\n' "igzip -1 > /dev/null" "$(mbps "$t_igzip")" "$(ratio "$t_pipe" "$t_igzip")"
printf '%-34s %10s %10s\n' "consume|transform|deliver file://" "$(mbps "$t_pipe")" "1.00"
echo "lake: $lake_bytes bytes (ratio $(echo "scale=3; $lake_bytes / $bytes" | bc -l) of input)"

echo
echo "peak RSS by stage (KB), input size must not matter:"
printf '%-10s %10s %10s %10s\n' "input" "consume" "transform" "deliver"
for size in $rss_sizes; do
	make_input "$size" "$in"
	run_pipeline "$in"
	printf '%-10s %10s %10s %10s\n' "${size} MiB" "$(cat "$out/rss.consume")" \
	    "$(cat "$out/rss.transform")" "$(cat "$out/rss.deliver")"
done
