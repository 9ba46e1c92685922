#!/bin/sh
# bench/bench-consume.sh [-n MESSAGES] [-q QUEUE] [-r REPS] [-b BUILD]:
# messages per second from the Pulsar test broker (tests/peers/pulsar)
# through consume into /dev/null, for 100-byte messages in batches of 100
# (the broker's blast mode: one pre-encoded entry sent again and again),
# against a reference consumer in the same run (bench/ref-consumer.js: the
# same broker sending the same to a client that only splits frames by
# their size prefix, parses nothing and acks nothing).  Also the CPU time
# (user + system) of the consumer and of the broker process during each
# run, to tell whether consume costs less than the broker.  Not a test:
# it prints figures for BENCH.md.
#
#   -n MESSAGES  messages per run (default 2000000)
#   -q QUEUE     receiver queue, both consumers (default 1000, consume's)
#   -r REPS      runs of each, the fastest kept (default 3)
#   -b BUILD     build directory holding consume/consume (default .)
set -eu
cd "$(dirname "$0")/.."
count=2000000 queue=1000 reps=3 build=.
while getopts n:q:r:b: opt; do
	case $opt in
	n) count=$OPTARG ;;
	q) queue=$OPTARG ;;
	r) reps=$OPTARG ;;
	b) build=$OPTARG ;;
	*) echo "usage: bench/bench-consume.sh [-n MESSAGES] [-q QUEUE] [-r REPS] [-b BUILD]" >&2
	   exit 2 ;;
	esac
done
consume=$build/consume/consume
[ -x "$consume" ] || { echo "bench: $consume not built (run make)" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "bench: /usr/bin/time missing (./setup.sh --tests)" >&2; exit 1; }

out=bench/out/consume
rm -rf "$out" && mkdir -p "$out"
. bench/lib-pulsar.sh
pulsar_broker "$out" 900
tck=$(getconf CLK_TCK)

# broker_cpu: the broker process's user + system CPU, in clock ticks
broker_cpu() {
	awk '{ print $14 + $15 }' "/proc/$bpid/stat"
}

# blast TOPIC: COUNT messages of 100 bytes in batches of 100 on TOPIC
blast() {
	node tests/peers/pulsar/ctl.js "$ctl" blast topic="$1" count="$count" \
	    payloadSize=100 batchSize=100 >/dev/null
}

# measure NAME TOPIC command...: one run (stdout in $out/stdout.NAME);
# appends "NAME wall user+sys broker-cpu own sleeps" (seconds; own: the
# seconds the command printed itself, if any; sleeps: its voluntary
# context switches, the times it waited for the broker) to $out/runs
measure() {
	name=$1 topic=$2
	shift 2
	blast "$topic"
	b0=$(broker_cpu)
	t0=$(date +%s.%N)
	/usr/bin/time -f "%U %S %w" -o "$out/time" "$@" >"$out/stdout.$name"
	t1=$(date +%s.%N)
	b1=$(broker_cpu)
	own=$(awk '{ print $2; exit }' "$out/stdout.$name")
	awk -v n="$name" -v t0="$t0" -v t1="$t1" -v b0="$b0" -v b1="$b1" \
	    -v tck="$tck" -v own="${own:--}" '{ printf "%s %.3f %.3f %.3f %s %d\n",
	    n, t1 - t0, $1 + $2, (b1 - b0) / tck, own, $3 }' "$out/time" >>"$out/runs"
}

: >"$out/runs"
r=0
while [ $r -lt "$reps" ]; do
	r=$((r + 1))
	measure ref bench/ns/ref$r node bench/ref-consumer.js "127.0.0.1:$port" \
	    persistent://bench/ns/ref$r s "$count" 100 "$queue"
	measure consume bench/ns/c$r sh -c 'exec "$@" >/dev/null' sh \
	    "$consume" --url "$url" --topic bench/ns/c$r --subscription s \
	    --stop-at-end --receiver-queue "$queue"
	# consume read (and acknowledged) all of it
	node tests/peers/pulsar/ctl.js "$ctl" subscription \
	    topic=bench/ns/c$r subscription=s >"$out/sub.json"
	grep -q '"backlog":0,' "$out/sub.json" ||
	    { echo "bench: consume left a backlog" >&2; exit 1; }
done

# report the fastest run of each
best() {
	sort -k2,2n "$out/runs" | awk -v n="$1" '$1 == n { print; exit }'
}
ref=$(best ref)
con=$(best consume)
echo "$count messages of 100 bytes in batches of 100, receiver queue $queue, best of $reps"
printf '%-34s %12s %10s %12s %12s\n' "" "msgs/s" "wall s" "client CPU s" "broker CPU s"
echo "$ref" | awk -v c="$count" '{ printf "%-34s %12.0f %10.3f %12.3f %12.3f\n",
    "reference (ref-consumer.js)", c / $2, $2, $3, $4 }'
echo "$con" | awk -v c="$count" '{ printf "%-34s %12.0f %10.3f %12.3f %12.3f\n",
    "consume > /dev/null", c / $2, $2, $3, $4 }'
echo "$ref $con" | awk '{ printf "consume / reference rate: %.2f\n", $2 / $7 }'
# the reference's own clock, from its connect to its last message (no
# Node.js start-up): the broker's sending rate alone
echo "$ref" | awk -v c="$count" '{ printf "reference, own clock from connect: %.0f msgs/s\n",
    c / $5 }'
echo "$con" | awk -v c="$count" '{ printf "consume CPU / broker CPU: %.2f (consume %.0f ns/msg, broker %.0f ns/msg)\n",
    $3 / $4, $3 / c * 1e9, $4 / c * 1e9 }'
echo "$con" | awk -v c="$count" '{ printf "consume waited %d times (%.0f messages a wake-up)\n",
    $6, c / ($6 > 0 ? $6 : 1) }'
