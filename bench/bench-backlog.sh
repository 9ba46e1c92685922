#!/bin/sh
# bench/bench-backlog.sh [-p PARTITIONS] [-n MESSAGES] [-b BUILD] [-- CONSUME-ARGS...]:
# the wall-clock time of a partitioned backlog through the three stages
# (consume --stop-at-end --acks FIFO | transform | deliver file://, as
# pipeline.sh runs them, every other option the default) from the Pulsar
# test broker: PARTITIONS (16) partitions of MESSAGES (80000) 100-byte
# messages in batches of 100 each.  It shows whether the stages keep
# going when consume's --max-unacked window is full while transform
# holds every message in objects not full yet (flush frames,
# lakepipe-frames(5)), or stand still until --max-age.  Not a test: it
# prints one line for BENCH.md.
set -eu
cd "$(dirname "$0")/.."
parts=16 count=80000 build=.
while getopts p:n:b: opt; do
	case $opt in
	p) parts=$OPTARG ;;
	n) count=$OPTARG ;;
	b) build=$OPTARG ;;
	*) echo "usage: bench/bench-backlog.sh [-p PARTITIONS] [-n MESSAGES]" \
	       "[-b BUILD] [-- CONSUME-ARGS...]" >&2
	   exit 2 ;;
	esac
done
shift $((OPTIND - 1))
for p in consume transform deliver; do
	[ -x "$build/$p/$p" ] ||
	    { echo "bench: $build/$p/$p not built (run make)" >&2; exit 1; }
done

out=bench/out/backlog
rm -rf "$out" && mkdir -p "$out/lake"
. bench/lib-pulsar.sh
pulsar_broker "$out" 900
node tests/peers/pulsar/ctl.js "$ctl" topics topic=bench/ns/p \
    partitions="$parts" >/dev/null
i=0
while [ $i -lt "$parts" ]; do
	node tests/peers/pulsar/ctl.js "$ctl" blast topic=bench/ns/p-partition-$i \
	    count="$count" payloadSize=100 batchSize=100 >/dev/null
	i=$((i + 1))
done
mkfifo "$out/acks"
t0=$(date +%s.%N)
"$build/consume/consume" -q --url "$url" --topic bench/ns/p \
    --subscription s --stop-at-end --acks "$out/acks" "$@" |
"$build/transform/transform" -q |
"$build/deliver/deliver" -q "file://$PWD/$out/lake/" >"$out/acks"
t1=$(date +%s.%N)
echo "$parts partitions x $count messages: $(echo "$t1 - $t0" | bc) s," \
    "$(find "$out/lake" -type f | wc -l) objects"
