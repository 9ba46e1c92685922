#!/bin/sh
# bench/bench-node.sh [-n MESSAGES] [-r REPS] [-s BATCH] [-b BUILD]: CPU
# per message of lakepipe (consume | transform | deliver file://, the ack
# FIFO back to consume, as pipeline.sh runs them) against the backup
# function a user would write instead (bench/node-backup.js: Node.js,
# pulsar-flex from npm, node:zlib gzip level 1 streamed per batch, atomic
# files, a cumulative ack after each one), on the same Pulsar test broker
# (tests/peers/pulsar) and the same topic of MESSAGES orders of ~210 bytes
# (bench/make-input.py) in producer batches of 100.  Each run reads the
# whole topic from a fresh subscription into its own directory; the CPU
# (user + system) is that of the client processes, the broker's left out.
# Every run's lake is checked to hold MESSAGES records, and its
# subscription to have no backlog.  Not a test: it prints figures for
# BENCH.md.  pulsar-flex is installed on demand into bench/out/node.
#
#   -n MESSAGES  messages in the topic (default 200000; a multiple of 100)
#   -r REPS      runs of each, the least CPU kept (default 3)
#   -s BATCH     messages a file, both sides (default 10000; transform's
#                --max-messages)
#   -b BUILD     build directory holding the programs (default .)
set -eu
cd "$(dirname "$0")/.."
count=200000 reps=3 batch=10000 build=.
while getopts n:r:s:b: opt; do
	case $opt in
	n) count=$OPTARG ;;
	r) reps=$OPTARG ;;
	s) batch=$OPTARG ;;
	b) build=$OPTARG ;;
	*) echo "usage: bench/bench-node.sh [-n MESSAGES] [-r REPS] [-s BATCH] [-b BUILD]" >&2
	   exit 2 ;;
	esac
done
[ $((count % 100)) -eq 0 ] ||
    { echo "bench: MESSAGES must be a multiple of 100 (whole producer batches)" >&2; exit 2; }
for p in consume transform deliver; do
	[ -x "$build/$p/$p" ] || { echo "bench: $build/$p/$p not built (run make)" >&2; exit 1; }
done

out=bench/out/node-cmp
rm -rf "$out" && mkdir -p "$out"
flex=bench/out/node
[ -d "$flex/node_modules/pulsar-flex" ] ||
    npm install --prefix "$flex" --no-audit --no-fund pulsar-flex@1.1.1 >&2

. bench/lib-pulsar.sh
pulsar_broker "$out" 1800
topic=bench/ns/orders

# the topic: COUNT orders, published through the control API in batches
# of 100 (uncompressed: pulsar-flex cannot decompress)
python3 bench/make-input.py $((count * 220 / 1048576 + 1)) "$out/input.jsonl"
node -e '
const http = require("http");
const lines = require("fs").readFileSync(process.argv[1], "utf8").split("\n").slice(0, +process.argv[4]);
const post = (messages) => new Promise((resolve, reject) => {
  const body = Buffer.from(JSON.stringify({ topic: process.argv[3], batchSize: 100,
    messages: messages.map((payload) => ({ payload })) }));
  const req = http.request(process.argv[2] + "/publish", { method: "POST",
    headers: { "Content-Type": "application/json", "Content-Length": body.length } }, (res) => {
    res.resume();
    res.on("end", () => res.statusCode === 200 ? resolve() : reject(new Error("publish: " + res.statusCode)));
  });
  req.on("error", reject);
  req.end(body);
});
(async () => { for (let i = 0; i < lines.length; i += 10000) await post(lines.slice(i, i + 10000)); })()
  .catch((e) => { console.error(e.message); process.exit(1); });
' "$out/input.jsonl" "$ctl" "$topic" "$count"

# timed FILE command...: run the command, then write its CPU seconds
# (user + system, of it and the children it waited for, to the
# microsecond: /usr/bin/time rounds to 10 ms) to FILE, or "failed STATUS"
timed() {
	python3 -c '
import os, subprocess, sys
p = subprocess.Popen(sys.argv[2:])
_, status, ru = os.wait4(p.pid, 0)
rc = os.waitstatus_to_exitcode(status)
with open(sys.argv[1], "w") as f:
    f.write("%.6f\n" % (ru.ru_utime + ru.ru_stime) if rc == 0 else "failed %d\n" % rc)
sys.exit(rc)' "$@"
}

# cpu FILE: the seconds timed wrote, failing when the command did
cpu() {
	read -r v rc <"$1"
	[ "$v" != failed ] || { echo "bench: $1: exit status $rc" >&2; return 1; }
	echo "$v"
}

# check NAME SUBSCRIPTION DIR: DIR holds COUNT records, SUBSCRIPTION no backlog
check() {
	n=$(find "$3" -name '*.jsonl.gz' ! -name '.*' -exec zcat {} + | wc -l)
	[ "$n" -eq "$count" ] ||
	    { echo "bench: $1 stored $n records, not $count" >&2; exit 1; }
	node tests/peers/pulsar/ctl.js "$ctl" subscription \
	    topic=$topic subscription="$2" >"$out/sub.json"
	grep -q '"backlog":0,' "$out/sub.json" ||
	    { echo "bench: $1 left a backlog: $(cat "$out/sub.json")" >&2; exit 1; }
}

# node_run R: the Node.js function; appends "node CPU" to $out/runs
node_run() {
	lake=$out/lake-node$1
	mkdir -p "$lake"
	# pulsar-flex 1.1.1 leaves the initial position out of SUBSCRIBE (a
	# new subscription would start at the end): made beforehand, as an
	# admin would (pulsar-admin topics create-subscription -m earliest)
	node tests/peers/pulsar/ctl.js "$ctl" subscriptions topic=$topic \
	    subscription="node$1" position=earliest >/dev/null
	NODE_PATH=$flex/node_modules timed "$out/t.node" node bench/node-backup.js \
	    "127.0.0.1:$port" $topic "node$1" "$count" "$lake" "$batch"
	n=$(cpu "$out/t.node")
	echo "node $n" >>"$out/runs"
	check node "node$1" "$lake"
}

# lakepipe_run R: the three stages, each timed; appends
# "lakepipe CPU consume transform deliver" to $out/runs
lakepipe_run() {
	lake=$out/lake-lakepipe$1
	rm -f "$out/acks" && mkfifo "$out/acks"
	timed "$out/t.consume" "$build/consume/consume" \
	    --url "$url" --topic $topic --subscription "lakepipe$1" \
	    --stop-at-end --acks "$out/acks" |
	timed "$out/t.transform" "$build/transform/transform" -q --max-messages "$batch" |
	timed "$out/t.deliver" "$build/deliver/deliver" -q "file://$PWD/$lake/" >"$out/acks"
	c=$(cpu "$out/t.consume")
	t=$(cpu "$out/t.transform")
	d=$(cpu "$out/t.deliver")
	echo "lakepipe $(echo "$c $t $d" | awk '{ printf "%.6f", $1 + $2 + $3 }') $c $t $d" \
	    >>"$out/runs"
	check lakepipe "lakepipe$1" "$lake"
}

: >"$out/runs"
r=0
while [ $r -lt "$reps" ]; do
	r=$((r + 1))
	node_run $r
	lakepipe_run $r
done

least() {
	awk -v n="$1" '$1 == n' "$out/runs" | sort -k2,2n | head -n 1
}
nd=$(least node)
lp=$(least lakepipe)
echo "$count messages of ~210 bytes (JSON orders) in producer batches of 100," \
    "files of $batch records, least CPU of $reps runs"
echo "$nd" | awk -v c="$count" '{ printf "%-44s %8.3f s %7.2f us/msg\n",
    "Node.js (bench/node-backup.js, pulsar-flex)", $2, $2 / c * 1e6 }'
echo "$lp" | awk -v c="$count" '{ printf "%-44s %8.3f s %7.2f us/msg\n",
    "lakepipe (consume | transform | deliver)", $2, $2 / c * 1e6;
    printf "  consume %.2f, transform %.2f, deliver %.2f us/msg\n",
    $3 / c * 1e6, $4 / c * 1e6, $5 / c * 1e6 }'
echo "$nd $lp" | awk '{ printf "lakepipe / Node.js CPU per message: %.3fx\n", $4 / $2 }'
