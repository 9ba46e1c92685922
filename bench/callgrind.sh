#!/usr/bin/env bash
# bench/callgrind.sh [-m MB] [-d MB] [-t N] [-k]: instructions executed by
# each stage of the replay pipeline on a fixed input, under valgrind's
# callgrind.  Instruction counts do not move with the load of a shared
# machine, so a change is judged by them; wall-clock ratios are bench.sh's.
# Not a test: it prints figures for BENCH.md.
#
#   -m MB   size of the JSON-lines input (8: the figures of issue 10)
#   -d MB   also deliver one object of MB random bytes to cos:// and s3://
#           through the local test server (tests/peers/s3), counting
#           deliver's hashing (0: skip; needs node)
#   -t N    functions listed per stage, by their own (self) count (5)
#   -k      keep bench/out/cg (the callgrind.out files, for
#           callgrind_annotate)
#
# Stages run one after the other, each on the previous one's output saved
# to a file, so that every count is that program's alone.
set -eu
cd "$(dirname "$0")/.."
mb=8 dmb=0 top=5 keep=0
while getopts m:d:t:k opt; do
	case $opt in
	m) mb=$OPTARG ;;
	d) dmb=$OPTARG ;;
	t) top=$OPTARG ;;
	k) keep=1 ;;
	*) echo "usage: bench/callgrind.sh [-m MB] [-d MB] [-t N] [-k]" >&2
	   exit 2 ;;
	esac
done
for p in consume/consume transform/transform deliver/deliver; do
	[ -x "$p" ] || { echo "callgrind: $p not built (run make)" >&2; exit 1; }
done
for c in valgrind callgrind_annotate igzip python3; do
	command -v $c >/dev/null ||
	    { echo "callgrind: $c missing (./setup.sh --tests)" >&2; exit 1; }
done

out=bench/out/cg
rm -rf "$out" && mkdir -p "$out"
[ "$keep" = 1 ] || trap 'rm -rf "$out"' EXIT

# The input of bench.sh, smaller: the same generator, the same seed.
python3 bench/make-input.py "$mb" "$out/input.jsonl"
in=$out/input.jsonl
bytes=$(stat -c %s "$in")
msgs=$(wc -l <"$in")

# cg NAME INPUT_BYTES STDIN STDOUT CMD...: run CMD under callgrind, print
# its total and per-input-byte count, then its top functions by self count
cg() {
	name=$1 inb=$2 cin=$3 cout=$4
	shift 4
	f=$out/$(echo "$name" | tr -c 'A-Za-z0-9\n-' _).cg
	valgrind --tool=callgrind --callgrind-out-file="$f" \
	    --dump-instr=no --compress-strings=no -q "$@" <"$cin" >"$cout"
	total=$(sed -n 's/^totals: *//p; s/^summary: *//p' "$f" |
	    head -1 | cut -d' ' -f1)
	printf '%-44s %8.1f M %7.1f /B\n' "$name" \
	    "$(echo "$total / 1000000" | bc -l)" \
	    "$(echo "$total / $inb" | bc -l)"
	callgrind_annotate --threshold=100 "$f" 2>/dev/null |
	    awk -v top="$top" '
		/^-+$/ { sep++; next }
		/PROGRAM TOTALS/ { next }
		sep >= 3 && NF >= 2 && $1 ~ /^[0-9,]+/ && n < top {
			c = $1; gsub(",", "", c)
			fn = $0; sub(/^ *[0-9,]+ *(\([^)]*\))? */, "", fn)
			sub(/ \[[^]]*\]$/, "", fn)
			printf "    %8.1f M  %s\n", c / 1e6, fn; n++
		}'
}

echo "input: $mb MiB of JSON lines ($bytes bytes, $msgs messages);" \
    "instructions (callgrind), per byte of that input (igzip of"
echo "transform's output: per byte of that output)"
cg "igzip -1 (input)" "$bytes" "$in" /dev/null igzip -1 -c
cg "consume --lines" "$bytes" /dev/null "$out/frames" \
    consume/consume --lines "$in" --publish-time 1764201600000
fb=$(stat -c %s "$out/frames")
cg "transform --format jsonl --compress gzip" "$bytes" "$out/frames" \
    "$out/objects.gz" transform/transform --format jsonl --compress gzip
cg "transform --format jsonl --compress none" "$bytes" "$out/frames" \
    "$out/objects.none" transform/transform --format jsonl --compress none
cg "transform --format raw --compress none" "$bytes" "$out/frames" /dev/null \
    transform/transform --format raw --compress none
ob=$(stat -c %s "$out/objects.none")
cg "igzip -1 (transform's jsonl output)" "$ob" "$out/objects.none" \
    /dev/null igzip -1 -c
gb=$(stat -c %s "$out/objects.gz")
cg "deliver file:// (the gzip objects)" "$bytes" "$out/objects.gz" /dev/null \
    deliver/deliver "file://$PWD/$out/lake/"
echo "frames $fb bytes, jsonl objects $ob bytes, gzip objects $gb bytes"

[ "$dmb" -gt 0 ] || exit 0
command -v node >/dev/null || { echo "callgrind: -d needs node" >&2; exit 1; }
. bench/lib-s3.sh
s3_server "$out"
trap 'kill $spid 2>/dev/null; [ "$keep" = 1 ] || rm -rf "$out"' EXIT
head -c $((dmb << 20)) /dev/urandom >"$out/body"
db=$((dmb << 20))
{ printf 'O %d key=b.bin n=1 seqs=1\n' "$db"; cat "$out/body"; printf '\n'; } \
    >"$out/body.frames"
echo
echo "deliver of one $dmb MiB object (one PUT), per byte of body:"
cg "deliver cos:// (MD5, CRC-64)" "$db" "$out/body.frames" /dev/null \
    deliver/deliver -j 1 --multipart-threshold 1G \
    --endpoint "http://localhost:$port" \
    "cos://bench-1250000000/c/?region=ap-guangzhou"
cg "deliver s3:// (MD5, SHA-256, CRC-64)" "$db" "$out/body.frames" /dev/null \
    deliver/deliver -j 1 --multipart-threshold 1G \
    --endpoint "http://s3.localhost:$port" \
    "s3://bench-1250000000/s/?region=us-east-1"
