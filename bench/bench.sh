#!/usr/bin/env bash
# bench/bench.sh [-m MB] [-r "MB MB"] [-f "FMT+CODEC..."]: the replay
# pipeline's throughput as ratios against cat, gzip -1, igzip -1 and
# zstd -1 run on the same bytes in the same run, for each output format
# and codec asked for (against its codec's reference), the lake's bytes as
# a ratio to the input, each stage's CPU time and the pipeline's CPU as a
# ratio to its reference's (on N cores a wall-clock ratio of R needs a CPU
# ratio of at most N / R), and each stage's peak RSS; then the peak RSS of
# each stage at two input sizes (it must not grow with the input).  Not a
# test: it prints figures for BENCH.md.
#
#   -m MB      size of the JSON-lines input for the throughput runs (64)
#   -r "A B"   the two sizes for the memory runs (100 1000)
#   -n N       repetitions of each timed run, best kept (3)
#   -f LIST    formats and codecs, e.g. "jsonl+gzip csv+gzip parquet+zstd"
#              (jsonl+gzip), each with :tN for transform --threads N
#              (jsonl+gzip:t0: compression in line); the memory runs use
#              the first
set -eu
cd "$(dirname "$0")/.."
mb=64 rss_sizes="100 1000" reps=3 formats=jsonl+gzip
while getopts m:r:n:f: opt; do
	case $opt in
	m) mb=$OPTARG ;;
	r) rss_sizes=$OPTARG ;;
	n) reps=$OPTARG ;;
	f) formats=$OPTARG ;;
	*) echo "usage: bench/bench.sh [-m MB] [-r \"MB MB\"] [-n N] [-f \"FMT+CODEC...\"]" >&2; exit 2 ;;
	esac
done
# transform_args FMT+CODEC[:tN]: transform's options for it
transform_args() {
	_threads=
	case $1 in
	*:t[0-9]*) _threads=" --threads ${1##*:t}"; set -- "${1%:t*}" ;;
	esac
	case $1 in
	parquet+*) echo "--format parquet --parquet-compression ${1#*+}$_threads" ;;
	*+*) echo "--format ${1%+*} --compress ${1#*+}$_threads" ;;
	*) echo "bench: -f wants FORMAT+CODEC[:tN], not $1" >&2; exit 2 ;;
	esac
}
for f in $formats; do transform_args "$f" >/dev/null; done
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

# best_time CMD...: the fastest of $reps runs of a shell command, seconds;
# the stage figures ($out/stage.*) of that run are kept in $out/best.*
best_time() {
	best=
	for _ in $(seq "$reps"); do
		t0=$(date +%s.%N)
		bash -c "$1"
		t1=$(date +%s.%N)
		t=$(echo "$t1 - $t0" | bc -l)
		if [ -z "$best" ] || [ "$(echo "$t < $best" | bc -l)" = 1 ]; then
			best=$t
			for s in "$out"/stage.*; do
				[ -e "$s" ] && cp "$s" "$out/best.${s##*/stage.}"
			done
		fi
	done
	echo "$best"
}

# cpu_of CMD: user + system seconds of one run of a shell command
cpu_of() {
	/usr/bin/time -f '%U %S' -o "$out/cpu.ref" bash -c "$1"
	awk '{ print $1 + $2 }' "$out/cpu.ref"
}

# stage FILE FIELD: a stage's peak RSS (KB, field 1) or CPU seconds
# (user + system, field 2) from its /usr/bin/time line
stage() {
	case $2 in
	rss) awk '{ print $1 }' "$1" ;;
	cpu) awk '{ printf "%.2f", $2 + $3 }' "$1" ;;
	esac
}

# run_pipeline INPUT: the three stages with an ack FIFO, each under
# /usr/bin/time for its peak RSS (KB) and CPU time in $out/stage.*.  Each stage opens its
# own FIFOs after time started it (sh -c 'exec ...'), so that time itself
# holds no pipe end open and end-of-input still reaches the next stage.
run_pipeline() {
	rm -rf "$out/lake" "$out"/fifo.*
	mkfifo "$out/fifo.acks" "$out/fifo.frames" "$out/fifo.objects"
	/usr/bin/time -f "%M %U %S" -o "$out/stage.consume" sh -c 'exec consume/consume \
	    --lines "$1" --publish-time 1764201600000 --acks "$2/fifo.acks" \
	    >"$2/fifo.frames" 2>"$2/consume.err"' sh "$1" "$out" </dev/null >/dev/null &
	/usr/bin/time -f "%M %U %S" -o "$out/stage.transform" sh -c 'exec \
	    transform/transform $2 \
	    <"$1/fifo.frames" >"$1/fifo.objects" 2>"$1/transform.err"' sh "$out" \
	    "${TRANSFORM_ARGS:---format jsonl --compress gzip}" \
	    </dev/null >/dev/null &
	/usr/bin/time -f "%M %U %S" -o "$out/stage.deliver" sh -c 'exec deliver/deliver \
	    "file://$PWD/$1/lake/" <"$1/fifo.objects" >"$1/fifo.acks" \
	    2>"$1/deliver.err"' \
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
t_zstd=$(best_time "zstd -q -1 -c <$in >/dev/null")
c_igzip=$(cpu_of "igzip -1 -c <$in >/dev/null")
c_zstd=$(cpu_of "zstd -q -1 -c <$in >/dev/null")

mbps() { echo "scale=1; $bytes / $1 / 1000000" | bc -l; }
ratio() { echo "scale=2; $2 / $1" | bc -l; }

echo "input: $mb MiB of JSON lines ($(wc -l <"$in") messages), best of $reps runs"
printf '%-34s %10s %8s\n' "reference" "MB/s" "CPU s"
printf '%-34s %10s\n' "cat > /dev/null" "$(mbps "$t_cat")"
printf '%-34s %10s\n' "gzip -1 > /dev/null" "$(mbps "$t_gzip")"
printf '%-34s %10s %8s\n' "igzip -1 > /dev/null" "$(mbps "$t_igzip")" "$c_igzip"
printf '%-34s %10s %8s\n' "zstd -1 > /dev/null" "$(mbps "$t_zstd")" "$c_zstd"
echo
echo "consume | transform FORMAT+CODEC | deliver file://: speed as a ratio to"
echo "its codec's reference (igzip -1, zstd -1, cat for none), lake bytes as a"
echo "ratio to the input, then in the fastest run each stage's CPU seconds"
echo "(user + system), all stages' CPU as a ratio to the reference's, and"
echo "each stage's peak RSS (KB):"
printf '%-14s %6s %6s %9s %7s %6s %6s %6s %6s %8s %8s %8s\n' "format" "MB/s" \
    "x ref" "(ref)" "lake/in" "c CPU" "t CPU" "d CPU" "xCPU" "c RSS" \
    "t RSS" "d RSS"
for f in $formats; do
	TRANSFORM_ARGS=$(transform_args "$f")
	export TRANSFORM_ARGS
	t_pipe=$(best_time "run_pipeline $in")
	lake_bytes=$(du -sb "$out/lake" | cut -f1)
	case ${f%:t*} in
	*+gzip) t_ref=$t_igzip c_ref=$c_igzip ref="igzip -1" ;;
	*+zstd) t_ref=$t_zstd c_ref=$c_zstd ref="zstd -1" ;;
	*) t_ref=$t_cat c_ref= ref=cat ;;
	esac
	b=$out/best
	cpu_all=$(echo "$(stage $b.consume cpu) + $(stage $b.transform cpu) + \
	    $(stage $b.deliver cpu)" | bc -l)
	xcpu=-
	[ -n "$c_ref" ] && xcpu=$(echo "scale=2; $cpu_all / $c_ref" | bc -l)
	printf '%-14s %6s %6s %9s %7s %6s %6s %6s %6s %8s %8s %8s\n' "$f" \
	    "$(mbps "$t_pipe")" "$(ratio "$t_pipe" "$t_ref")" "($ref)" \
	    "$(echo "scale=3; $lake_bytes / $bytes" | bc -l)" \
	    "$(stage $b.consume cpu)" "$(stage $b.transform cpu)" \
	    "$(stage $b.deliver cpu)" "$xcpu" "$(stage $b.consume rss)" \
	    "$(stage $b.transform rss)" "$(stage $b.deliver rss)"
done
TRANSFORM_ARGS=$(transform_args "${formats%% *}")
export TRANSFORM_ARGS

echo
echo "peak RSS by stage (KB), input size must not matter:"
printf '%-10s %10s %10s %10s\n' "input" "consume" "transform" "deliver"
for size in $rss_sizes; do
	make_input "$size" "$in"
	run_pipeline "$in"
	printf '%-10s %10s %10s %10s\n' "${size} MiB" \
	    "$(stage "$out/stage.consume" rss)" \
	    "$(stage "$out/stage.transform" rss)" \
	    "$(stage "$out/stage.deliver" rss)"
done
