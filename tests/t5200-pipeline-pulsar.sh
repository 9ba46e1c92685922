#!/bin/sh
# The end-to-end run of issue 3: pipeline.sh (consume | transform |
# deliver file://, with the ack FIFO) backs up a 4-partition topic whose
# partitions live on four different brokers of the Node.js test broker
# (tests/peers/pulsar): 100,000 messages in batches of several sizes, every
# codec, single entries, chunks, keys, properties, null values and binary
# payloads.  Asserted: every message lands exactly once with its payload,
# key and properties (zcat and DuckDB read the lake back), the broker holds
# every cursor at the end with no backlog; a run stopped by SIGTERM midway
# then restarted loses nothing and duplicates nothing; a run killed hard
# loses nothing; a deliver that cannot write acknowledges nothing; a
# consume --max-unacked below what the open objects hold gets it all
# through by flush frames, long before --max-age.
. "$(dirname "$0")/test-lib.sh"

. "$TEST_DIRECTORY/lib-pulsar.sh"
N=${T5200_COUNT:-100000}
TOPIC=t/ns/big

# pipeline.sh takes the programs from beside itself: give it a directory
# where they are those of the build under test (build/san too), not the
# source tree's (its parts, lib/lakepipe, beside it as in the tree).
mkdir -p bin
cp "$SRC/pipeline.sh" bin/
ln -s "$SRC/lib" bin/lib
for p in consume transform deliver; do
	mkdir -p bin/$p && ln -s "$LAKEPIPE_BUILD/$p/$p" bin/$p/$p
done
PATH=$TRASH/bin:$PATH
echo secret-token >tok
unset PULSAR_TOKEN

# publish.js CONTROL TOPIC N EXPECT META: publish N messages in a mix of
# batch sizes, codecs, keys, properties, null values, binary payloads and
# chunks; write "id TAB payload-hex" (EXPECT) and "id TAB key TAB event
# time TAB properties as JSON" (META) of every message.
cat >publish.js <<'JS'
'use strict';
const fs = require('fs');
const [ctl, topic, nArg, expectFile, metaFile] = process.argv.slice(2);
const N = Number(nArg);
const pt = Date.UTC(2026, 10, 27, 3, 0, 0);
const cities = ['Guangzhou', 'Shanghai', 'Beijing', 'Chengdu', '東京', 'Zürich'];
// [share of N, request options, message i]; the last part takes the rest
const parts = [
	[0.40, { batchSize: 100 }, (i) => ({ payload: `plain ${i}`,
	    key: `k${i % 97}`, properties: { src: 't5200', n: String(i) } })],
	[0.20, { batchSize: 50, codec: 'zlib' }, (i) => ({ payload:
	    JSON.stringify({ order: i, city: cities[i % 6], paid: i % 3 === 0 }) })],
	[0.05, { batchSize: 500, codec: 'lz4' }, (i) => ({
	    payload: `lz4 ${i} `.repeat(i % 5 + 1) })],
	[0.05, { batchSize: 500, codec: 'zstd' }, (i) => ({ payload: `zstd ${i}`,
	    key: `z${i % 13}`, eventTime: pt - i })],
	[0.05, { batchSize: 500, codec: 'snappy' }, (i) => ({ payloadBase64:
	    Buffer.from([0, 10, 13, 0xff, i & 0xff, i >> 8, 0x22]).toString('base64') })],
	[0.05, { batchSize: 200, codec: 'zlib-nomarker' }, (i) => ({
	    payload: `java ${i}`, properties: { 'a b': 'c=d&e', i: String(i) } })],
	[0.10, {}, (i) => (i % 500 === 7 ? { value: null, key: `null${i}` } :
	    { payload: `single ${i}`, key: i % 2 ? `s${i}` : undefined })],
	[0.05, { codec: 'zlib' }, (i) => ({ payload: `single zlib ${i}\n` })],
];
async function post(body) {
	const r = await fetch(`${ctl}/publish`, { method: 'POST',
	    headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
	if (!r.ok) throw new Error(`publish: ${r.status} ${await r.text()}`);
	return r.json();
}
const hexOf = (m) => m.value === null ? '' : m.payloadBase64 !== undefined ?
    Buffer.from(m.payloadBase64, 'base64').toString('hex') :
    Buffer.from(m.payload, 'utf8').toString('hex');
const exp = [], meta = [];
function note(res, msgs) {
	res.ids.forEach((r, j) => {
		const m = msgs[j];
		exp.push(`${r.id}\t${hexOf(m)}`);
		meta.push(`${r.id}\t${m.key === undefined ? '' : m.key}\t` +
		    `${m.eventTime === undefined ? '' : m.eventTime}\t` +
		    JSON.stringify(m.properties || {}));
	});
}
async function main() {
	const chunked = 3;
	let done = 0, i = 0;
	for (let k = 0; k < parts.length; k++) {
		const [share, opts, make] = parts[k];
		const n = k === parts.length - 1 ? N - chunked - done : Math.floor(N * share);
		const msgs = [];
		for (let j = 0; j < n; j++, i++) msgs.push(make(i));
		for (let s = 0; s < n; s += 20000) {
			const slice = msgs.slice(s, s + 20000);
			note(await post({ topic, publishTime: pt, ...opts, messages: slice }), slice);
		}
		done += n;
	}
	// chunked messages (4 chunks each), interleaved, one chunk sent twice
	const big = [0, 1, 2].map((j) => ({ payload: `chunk ${j} `.repeat(400) }));
	note(await post({ topic, publishTime: pt, chunkSize: 1000, partition: 2,
	    interleaveChunks: true, duplicateChunk: 1, messages: big }), big);
	fs.writeFileSync(expectFile, exp.join('\n') + '\n');
	fs.writeFileSync(metaFile, meta.join('\n') + '\n');
}
main().catch((e) => { console.error(e.message); process.exit(1); });
JS

# check-meta.js META < records: every record's key, event time and
# properties are the ones published
cat >check-meta.js <<'JS'
'use strict';
const fs = require('fs');
const want = new Map();
for (const l of fs.readFileSync(process.argv[2], 'utf8').split('\n')) {
	if (!l) continue;
	const [id, key, et, props] = l.split('\t');
	want.set(id, { key: key === '' ? null : key, et: et === '' ? null : Number(et),
	    props: JSON.stringify(Object.entries(JSON.parse(props)).sort()) });
}
let n = 0, bad = 0;
require('readline').createInterface({ input: process.stdin }).on('line', (l) => {
	const r = JSON.parse(l), w = want.get(r.message_id);
	n++;
	const props = JSON.stringify(Object.entries(r.properties).sort());
	if (!w || r.key !== w.key || r.event_time_ms !== w.et || props !== w.props) {
		if (bad++ < 5) console.error('mismatch:', l.slice(0, 300), JSON.stringify(w));
	}
}).on('close', () => {
	console.log(`${n} records, ${bad} mismatches`);
	process.exit(bad || n === 0 ? 1 : 0);
});
JS

# subs.js STATE-JSON: one line per partition of a subscription's state,
# "partition markDelete backlog entries acked-beyond batch-acks consumers",
# then "total BACKLOG"; with --at-end, fail unless every cursor is at the
# end of its partition: mark-delete on the last entry, nothing acked
# beyond it, no backlog, no consumer left.
cat >subs.js <<'JS'
'use strict';
const s = JSON.parse(require('fs').readFileSync(process.argv[2], 'utf8'));
let ok = true;
s.partitions.forEach((p, i) => {
	console.log(i, p.markDelete, p.backlog, p.entries, p.acked.length,
	    Object.keys(p.batchAcks).length, p.consumersConnected);
	if (p.backlog !== 0 || p.markDeleteIndex !== p.entries - 1 ||
	    p.acked.length || Object.keys(p.batchAcks).length ||
	    p.consumersConnected !== 0)
		ok = false;
});
console.log('total', s.backlog);
if (process.argv[3] === '--at-end' && !ok) {
	console.error('not at the end:', process.argv[2]);
	process.exit(1);
}
JS

# state SUB FILE: the broker's view of subscription SUB, one line per
# partition (subs.js), in FILE
state() {
	ctl subscription topic=$TOPIC subscription="$1" >"$2.json" &&
	node subs.js "$2.json" >"$2"
}
at_end() {
	ctl subscription topic=$TOPIC subscription="$1" >"at-end.$1.json" &&
	node subs.js "at-end.$1.json" --at-end
}
# lake_ids DIR: "message-id TAB object" for every record of the lake
lake_ids() {
	find "$1" -type f -name '*.jsonl.gz' | sort | while read -r f; do
		zcat "$f" | sed 's/^{"message_id":"\([^"]*\)".*/\1/' |
		    sed "s|\$|	$f|"
	done
}
count_lake() {
	find "$1" -type f -name '*.jsonl.gz' -exec zcat {} + | wc -l
}
# lake_ok DIR: every published message in DIR once at least, with its
# payload (read back by DuckDB), key, event time and properties
lake_ok() {
	node "$PEERS/lake-read.js" "$1" >"$1.read" &&
	cut -f1,3 "$1.read" | sort -u >"$1.got" &&
	test_cmp expect "$1.got" &&
	find "$1" -type f -name '*.jsonl.gz' -exec zcat {} + |
	    node check-meta.js meta
}

test_expect_success 'start 4 brokers (token auth), a topic of 4 partitions' '
	test_start_server pb.json node "$PB/broker.js" --brokers 4 \
	    --token secret-token --timeout 600 &&
	json_get pb.json httpUrl >url &&
	ctl topics topic=$TOPIC partitions=4 >topic.json &&
	grep "\"owners\":\[0,1,2,3\]" topic.json &&
	for s in lake restart crash flush; do
		ctl subscriptions topic=$TOPIC subscription=$s >/dev/null ||
		return 1
	done
'
URL=$(cat url 2>/dev/null)
# lp ARGS: pipeline.sh on the topic until its end (a script, so that
# timeout runs it and $! of "lp &" is pipeline.sh's own pid)
printf '#!/bin/sh\nexec pipeline.sh --url "%s" --topic %s --stop-at-end "$@"\n' \
    "$URL" $TOPIC >bin/lp && chmod +x bin/lp

test_expect_success "publish $N messages: batches, codecs, keys, chunks" '
	test_timeout 120 node publish.js "$(json_get pb.json control)" $TOPIC \
	    $N expect.unsorted meta &&
	sort expect.unsorted >expect &&
	test "$(wc -l <expect)" -eq $N &&
	test "$(cut -f1 expect | sort -u | wc -l)" -eq $N &&
	ctl topic topic=$TOPIC >topic.json &&
	for p in 0 1 2 3; do
		grep -q "big-partition-$p\",\"owner\":$p," topic.json || return 1
	done &&
	state lake before && cat before &&
	test "$(grep -c "^[0-3] [0-9]*:-1 " before)" -eq 4
'

test_expect_success 'deliver cannot write: exit 1, nothing acked at the broker' '
	dest=$(test_unwritable_url) &&
	test_expect_code 1 test_timeout 60 lp --subscription lake \
	    --token-file "$TRASH/tok" -- --max-messages 5000 -- "$dest" 2>err &&
	cat err &&
	grep "deliver failed" err &&
	state lake after && test_cmp before after &&
	ctl events type=ACK >acks.json &&
	grep "\"events\":\[\]" acks.json
'

test_expect_success "the whole topic lands: $N records, each once, acked" '
	PULSAR_TOKEN=secret-token test_timeout 120 lp --subscription lake \
	    -- --max-messages 5000 -- file://$TRASH/lake/ 2>err &&
	cat err &&
	grep "prog=consume msg=\"$N messages emitted, $N acked\"" err &&
	! find lake -name ".*" | grep . &&
	find lake -type f -name "*.jsonl.gz" | while read -r f; do
		test "$(zcat "$f" | wc -l)" -le 5000 || return 1
	done &&
	test "$(count_lake lake)" -eq $N &&
	lake_ids lake >ids &&
	test "$(cut -f1 ids | sort -u | wc -l)" -eq $N &&
	lake_ok lake &&
	test "$(wc -l <lake.read)" -eq $N
'

test_expect_success 'at the broker: every cursor at the end, backlog 0' '
	at_end lake
'

test_expect_success 'SIGTERM midway, then a restart: all of it, no duplicate' '
	lp --subscription restart --token-file "$TRASH/tok" -- \
	    --max-messages 5000 -- file://$TRASH/lake2/ 2>err &
	pid=$! &&
	i=0 &&
	until [ -n "$(find lake2 -name "*.jsonl.gz" 2>/dev/null)" ]; do
		i=$((i + 1)) && [ $i -lt 3000 ] && kill -0 $pid && sleep 0.01 ||
		{ cat err; return 1; }
	done &&
	kill -TERM $pid &&
	wait $pid &&
	cat err &&
	grep "stopping: flushing" err &&
	m=$(sed -n "s/.*prog=consume msg=\"\([0-9]*\) messages emitted, \1 acked\".*/\1/p" err) &&
	test -n "$m" && test "$m" -lt $N &&
	test "$(count_lake lake2)" -eq "$m" &&
	state restart midway && cat midway &&
	backlog=$(sed -n "s/^total //p" midway) &&
	test "$backlog" -gt 0 &&
	test_timeout 120 lp --subscription restart --token-file "$TRASH/tok" \
	    -- --max-messages 5000 -- file://$TRASH/lake2/ 2>err2 &&
	cat err2 &&
	grep "prog=consume msg=\"$((N - m)) messages emitted, $((N - m)) acked\"" err2 &&
	lake_ids lake2 >ids2 &&
	test "$(wc -l <ids2)" -eq $N &&
	test "$(cut -f1 ids2 | sort -u | wc -l)" -eq $N &&
	lake_ok lake2 &&
	at_end restart
'

# After a hard stop (SIGKILL of the three stages) the messages that were
# stored but whose acks had not reached the broker come again: consume
# holds an ack up to 100 ms, acks a batch entry only once all its messages
# are (a partly acked entry goes out with an ack_set only at a clean end),
# and the kill can fall between deliver's ack line and consume's ACK.
# They land again, under the same key when transform cuts the same batch,
# but not always: a redelivered entry whose first messages were already in
# an acked object starts a batch with another first id, and when
# transform's batches mix the partitions (in arrival order, as at commit
# 38f9dff) a new run does not repeat that order.  So after a crash one
# message can be in two objects under two keys (the lake's message_id
# column is unique per message and removes them).  The design promises no
# loss here, and that is what is asserted; the extra records are counted.
test_expect_success 'SIGKILL midway, then a restart: nothing lost' '
	n0=0 &&
	for round in 1 2; do
		TMPDIR=$TRASH lp --subscription crash --token-file "$TRASH/tok" -- \
		    --max-messages 5000 -- file://$TRASH/lake3/ 2>err &
		pid=$! &&
		i=0 &&
		until [ "$(find lake3 -name "*.jsonl.gz" 2>/dev/null | wc -l)" -gt $n0 ]; do
			i=$((i + 1)) && [ $i -lt 3000 ] && sleep 0.01 || return 1
		done &&
		kids=$(ps -o pid= --ppid $pid) &&
		{ kill -KILL $pid $kids 2>/dev/null; wait $pid; true; } &&
		while ps -o pid= -p "$(echo $kids | tr " " ,)" >/dev/null; do
			sleep 0.1
		done &&
		n0=$(find lake3 -name "*.jsonl.gz" | wc -l) || return 1
	done &&
	state crash killed && cat killed &&
	test "$(sed -n "s/^total //p" killed)" -gt 0 &&
	test_timeout 120 lp --subscription crash --token-file "$TRASH/tok" \
	    -- --max-messages 5000 -- file://$TRASH/lake3/ 2>err2 &&
	cat err2 &&
	lake_ids lake3 >ids3 &&
	test "$(cut -f1 ids3 | sort -u | wc -l)" -eq $N &&
	lake_ok lake3 &&
	at_end crash &&
	echo $(($(wc -l <ids3) - N)) >dups
'
[ -s dups ] && say "# after SIGKILL: $(cat dups) records more than messages"

# consume may hold fewer unacked messages than transform's open objects
# (one a partition, none full): the flush frame has them written out,
# where they would otherwise wait for --max-age.
test_expect_success '--max-unacked below the open objects: flushed, all of it' '
	PULSAR_TOKEN=secret-token test_timeout 120 lp --subscription flush \
	    --max-unacked 20000 -- --max-age 1h -- file://$TRASH/flush/ 2>err &&
	grep "prog=consume msg=\"$N messages emitted, $N acked\"" err &&
	grep -q "prog=consume msg=\"flush asked\" base=[0-9]* unacked=2[0-9]\{4\} " err &&
	test "$(count_lake flush)" -eq $N &&
	lake_ids flush >ids &&
	test "$(cut -f1 ids | sort -u | wc -l)" -eq $N &&
	at_end flush
'

test_expect_success 'every subscription of the topic: backlog 0, at the end' '
	ctl topic topic=$TOPIC >topic.json &&
	grep -o "\"subscriptions\":\[[^]]*\]" topic.json | sort -u >subs &&
	test "$(wc -l <subs)" -eq 1 &&
	grep "\[\"lake\",\"restart\",\"crash\",\"flush\"\]" subs &&
	for s in lake restart crash flush; do
		at_end $s || return 1
	done
'

test_done
