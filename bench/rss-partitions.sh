#!/bin/sh
# bench/rss-partitions.sh [-p PARTITIONS] [-n MESSAGES] [-b BUILD]: the
# peak RSS of transform (/usr/bin/time -f %M) and the objects it writes
# for JSON lines spread over PARTITIONS (16) partitions, MESSAGES (400000)
# of about 680 bytes each, in each format and codec: what --max-memory
# bounds however many batches are open.  Not a test: it prints a table
# for BENCH.md.
set -eu
cd "$(dirname "$0")/.."
parts=16 count=400000 build=.
while getopts p:n:b: opt; do
	case $opt in
	p) parts=$OPTARG ;;
	n) count=$OPTARG ;;
	b) build=$OPTARG ;;
	*) echo "usage: bench/rss-partitions.sh [-p PARTITIONS] [-n MESSAGES]" \
	       "[-b BUILD]" >&2
	   exit 2 ;;
	esac
done
transform=$build/transform/transform
[ -x "$transform" ] || { echo "bench: $transform not built (run make)" >&2; exit 1; }

out=bench/out/rssp
rm -rf "$out" && mkdir -p "$out"
python3 - "$parts" "$count" >"$out/frames" <<'PY'
import random, sys
parts, count = int(sys.argv[1]), int(sys.argv[2])
r = random.Random(1)
words = ["alpha", "beta", "gamma", "delta", "order", "city", "Chengdu",
    "Singapore", "amount", "paid", "items", "sku"]
out = sys.stdout.buffer
for i in range(1, count + 1):
    p = i % parts
    note = " ".join(r.choice(words) + str(r.randrange(1000)) for _ in range(60))
    body = ('{"id":%d,"user":"u%d","note":"%s","v":%d}' % (i,
        r.randrange(100000), note, r.randrange(10**9))).encode()
    out.write(b"M %d seq=%d id=%d:%d:%d:-1 topic=persistent://public/default/t-partition-%d pt=%d\n"
        % (len(body), i, 10 + p, i // parts, p, p, 1764201600000 + i // parts)
        + body + b"\n")
PY
echo "$parts partitions, $count messages, $(stat -c %s "$out/frames") bytes of frames"
printf '%-34s %10s %8s\n' "transform" "RSS KB" "objects"
for args in "" "--compress none" "--compress zstd" \
    "--format raw --compress none" "--format parquet"; do
	/usr/bin/time -o "$out/time" -f %M "$transform" -q $args \
	    <"$out/frames" >"$out/objects"
	printf '%-34s %10s %8s\n' "${args:-(defaults: jsonl gzip)}" \
	    "$(cat "$out/time")" "$(grep -a -c '^O ' "$out/objects")"
done
rm -f "$out/frames" "$out/objects"
