#!/bin/sh
# consume --produce against the test broker: lines and frames published to
# a plain and a partitioned topic, read back with the broker's control
# API, with consume itself and with pulsar-flex (an independent client);
# the encoders decoded by pulsar-flex's generated codec; token auth, TLS,
# a dropped connection, an unloaded topic, a message over the broker's
# limit, SIGTERM.
. "$(dirname "$0")/test-lib.sh"
. "$TEST_DIRECTORY/lib-pulsar.sh"

TOKEN=t5300-token
produce() { test_timeout 60 consume --produce --url "$URL" --token-file tok "$@"; }
# read back TOPIC SUB: every message of the topic, as consume frames
read_back() {
	test_timeout 60 consume --url "$URL" --token-file tok --topic "$1" \
	    --subscription "$2" --stop-at-end
}
# partition_counts TOPIC: messages in each of its 4 partitions, a line each
partition_counts() {
	ctl topic topic="$1" >topic.json &&
	for p in 0 1 2 3; do
		json_get topic.json partitionStats.$p.messages || return 1
	done
}
# with_faults JSON command...: the command with the broker's faults set,
# reset afterwards whatever became of it
with_faults() {
	ctl faults "$1" >/dev/null || return 1
	shift
	"$@"
	rc=$?
	ctl faults/reset >/dev/null
	return $rc
}
# errors CMD NAME COUNT: the fault that answers CMD with ServerError NAME
errors() {
	printf '{"errors":{"%s":{"error":"%s","count":%s}}}' "$1" "$2" "$3"
}
# wait_for COMMAND...: until the command succeeds (at most 30 s)
wait_for() {
	i=0
	until "$@"; do
		[ $i -lt 300 ] || return 1
		sleep 0.1
		i=$((i + 1))
	done
}
# has_lines FILE N: FILE has N lines or more
has_lines() { [ "$(wc -l <"$1")" -ge "$2" ]; }
# has_lines_of MSG FILE N: N lines or more of FILE have msg="MSG"
has_lines_of() { [ "$(grep -c "msg=\"$1\"" "$2")" -ge "$3" ]; }
# how many CONNECTs the broker has seen
connects() {
	ctl events type=CONNECT >ev.json &&
	node -e 'console.log(JSON.parse(require("fs").readFileSync("ev.json")).events.length)'
}
# the frames without what the broker and consume assign (seq, id, topic, pt)
strip() {
	sed -E '/^M /s/ (seq|id|topic|pt)=[^ ]*//g' "$@"
}

test_expect_success 'start the broker (token, TLS)' '
	openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost \
	    -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
	    -keyout key.pem -out cert.pem 2>/dev/null &&
	test_start_server pb.json node "$PB/broker.js" --token $TOKEN \
	    --tls-cert cert.pem --tls-key key.pem --timeout 300 &&
	json_get pb.json serviceUrl >url &&
	json_get pb.json serviceUrlTls >surl &&
	echo $TOKEN >tok
'
URL=$(cat url 2>/dev/null)

test_expect_success 'the encoders, decoded by pulsar-flex'"'"'s codec' '
	"$LAKEPIPE_BUILD/tests/unit/test-produce" --emit >frames.hex &&
	cat >decode.js <<-\EOF &&
	const pb = require("pulsar-flex/src/commands/protocol/pulsar/pulsar_pb");
	const { CRC } = require("crc-full");
	const crc = new CRC("CRC32_C", 32, 0x1edc6f41, 0xffffffff, 0xffffffff, true, true);
	const fs = require("fs");
	for (const l of fs.readFileSync(process.argv[2], "utf8").trim().split("\n")) {
		const [name, hex] = l.split(" ");
		const b = Buffer.from(hex, "hex");
		const cs = b.readUInt32BE(4);
		const o = pb.BaseCommand.deserializeBinary(b.subarray(8, 8 + cs)).toObject();
		const body = Object.entries(o).find(([k, v]) => k !== "type" && v !== undefined)[1];
		const out = [name, "type=" + o.type, "size=" + (b.readUInt32BE(0) === b.length - 4)];
		for (const k of ["topic", "producerId", "requestId", "producerName", "userProvidedProducerName", "sequenceId"])
			if (body[k] !== undefined) out.push(k + "=" + body[k]);
		let off = 8 + cs;
		if (off < b.length) {
			out.push("magic=" + b.readUInt16BE(off).toString(16));
			out.push("crc=" + (crc.compute(b.subarray(off + 6)) === b.readUInt32BE(off + 2)));
			const ms = b.readUInt32BE(off + 6);
			const m = pb.MessageMetadata.deserializeBinary(b.subarray(off + 10, off + 10 + ms)).toObject();
			out.push("meta=" + [m.producerName, m.sequenceId, m.publishTime, m.partitionKey, m.eventTime,
			    m.propertiesList.map((p) => p.key + ":" + p.value).join(",")].join("/"));
			out.push("payload=" + b.subarray(off + 10 + ms).toString());
		}
		console.log(out.join(" "));
	}
	EOF
	cat >want <<-\EOF &&
	producer type=5 size=true topic=persistent://t/n/x-partition-1 producerId=3 requestId=4 userProvidedProducerName=true
	producer-named type=5 size=true topic=persistent://t/n/x-partition-1 producerId=3 requestId=4 producerName=named userProvidedProducerName=false
	send type=6 size=true producerId=3 sequenceId=12345678901 magic=e01 crc=true meta=named/12345678901/1700000000123/key-1/1600000000456/region:eu,n:1 payload=hello
	close-producer type=15 size=true producerId=3 requestId=5
	EOF
	NODE_PATH=$PEERS/node_modules node decode.js frames.hex >got &&
	test_cmp want got
'

test_expect_success 'lines to a plain topic: receipts, ids, payloads' '
	ctl subscriptions topic=t/p/lines subscription=bk >/dev/null &&
	printf "one\n\ntwo words\nlast, no newline" >in &&
	produce --topic t/p/lines --print-ids --lines in >ids 2>err &&
	printf "1\t100:0:-1\n2\t100:1:-1\n3\t100:2:-1\n4\t100:3:-1\n" >want &&
	sort ids >got && test_cmp want got &&
	ctl topic topic=t/p/lines >topic.json &&
	test "$(json_get topic.json messages)" = 4 &&
	read_back t/p/lines bk >back &&
	grep -av "^M " back >payloads &&
	printf "one\n\ntwo words\nlast, no newline\n" >want &&
	test_cmp want payloads
'

test_expect_success 'stdin by default; nothing on stdout without --print-ids' '
	printf "a\nb\n" | produce --topic t/p/stdin >out 2>err &&
	test ! -s out &&
	ctl topic topic=t/p/stdin >topic.json &&
	test "$(json_get topic.json messages)" = 2
'

test_expect_success 'empty input: exit 0, no message' '
	produce --topic t/p/empty --lines /dev/null 2>err &&
	! ctl topic topic=t/p/empty >topic.json 2>/dev/null ||
	test "$(json_get topic.json messages)" = 0
'

cat >in.frames <<\EOF
M 5 seq=1 id=1:2:-1:-1 topic=persistent://a/b/c pt=5 et=1600000000000 key=k%201 p.region=eu%20west p.n=1
hello
M 0 seq=2 pt=6 key=k2 null=1

M 3 seq=3 id=1:4:-1:-1 pt=7 p.a%3Db=%25x
a b
M 1 seq=4 pt=8 okey=ok1
z
O 3 key=x.gz n=1 seqs=1
obj
M 4 seq=5 pt=9
last
EOF

test_expect_success 'frames to a 4-partition topic: key, okey, null, p.*, et kept' '
	ctl topics topic=t/p/parted partitions=4 >/dev/null &&
	ctl subscriptions topic=t/p/parted subscription=bk >/dev/null &&
	produce --topic t/p/parted --print-ids --frames in.frames >ids 2>err &&
	test $(wc -l <ids) = 5 &&
	read_back t/p/parted bk >back &&
	grep -a -A1 "^M " in.frames | grep -v "^--" | strip >want.all &&
	strip back >got.all &&
	sort want.all >want && sort got.all >got && test_cmp want got
'

test_expect_success 'partitioned: keys by JavaStringHash, keyless round robin' '
	# "k 1".hashCode() % 4 = 0, "k2".hashCode() % 4 = 3; keyless
	# messages 3, 4, 5 go to partitions 0, 1, 2
	printf "1\t0\n2\t3\n3\t0\n4\t1\n5\t2\n" >want &&
	sed -E "s/\t[0-9]+:[0-9]+:/\t/" ids | sort >got && test_cmp want got &&
	partition_counts t/p/parted >counts &&
	printf "2\n1\n1\n1\n" >want && test_cmp want counts
'

test_expect_success 'the ids printed are those consume reads back' '
	sed -n "s/^M .* id=\([0-9]*:[0-9]*:[0-9-]*\):-1 .*/\1/p" back | sort >got &&
	cut -f2 ids | sort >want && test_cmp want got
'

test_expect_success 'read back by pulsar-flex: payloads, keys, properties, event times' '
	ctl subscriptions topic=persistent://public/default/t5300-flex \
	    subscription=flex >/dev/null &&
	grep -v "^O \|^obj" in.frames >flex.frames &&
	produce --topic t5300-flex --frames flex.frames 2>err &&
	cat >flex.js <<-\EOF &&
	const { Consumer, logLevel } = require("pulsar-flex");
	const [url, token, n] = process.argv.slice(2);
	(async () => {
		const c = new Consumer({ topic: "persistent://public/default/t5300-flex",
		    discoveryServers: [url.replace("pulsar://", "")], jwt: token,
		    subscription: "flex", subType: Consumer.SUB_TYPES.EXCLUSIVE,
		    consumerName: "flex", receiveQueueSize: 100,
		    logLevel: logLevel.NOTHING });
		await c.subscribe();
		const got = [];
		await c.run({ autoAck: true, onMessage: async (m) => {
			const md = m.metadata;
			got.push([m.message.toString(), md.partitionKey || "-",
			    md.orderingKey ? Buffer.from(md.orderingKey, "base64").toString() : "-",
			    md.eventTime || 0,
			    md.propertiesList.map((p) => p.key + "=" + p.value).join(","),
			    md.nullValue ? "null" : "-"].join("|"));
			if (got.length === +n) {
				console.log(got.join("\n"));
				process.exit(0);
			}
		} });
		setTimeout(() => { console.error("timeout", got); process.exit(1); }, 20000);
	})();
	EOF
	NODE_PATH=$PEERS/node_modules test_timeout 30 node flex.js "$URL" $TOKEN 5 >got &&
	cat >want <<-\EOF &&
	hello|k 1|-|1600000000000|region=eu west,n=1|-
	|k2|-|0||null
	a b|-|-|0|a=b=%x|-
	z|-|ok1|0||-
	last|-|-|0||-
	EOF
	test_cmp want got
'

test_expect_success '-v: one logfmt line per receipt, with the id' '
	printf "x\ny\n" | produce --topic t/p/verbose -v 2>err &&
	grep "msg=receipt\|msg=\"receipt" err >receipts &&
	test $(wc -l <receipts) = 2 &&
	grep -q "seq=1 id=[0-9]*:0:-1" receipts &&
	grep -q "seq=2 id=[0-9]*:1:-1" receipts
'

test_expect_success '--metrics-file: messages and bytes published' '
	printf "ab\ncde\n" | produce --topic t/p/metrics --metrics-file m.prom \
	    2>err &&
	grep "^lakepipe_consume_messages_total 2$" m.prom &&
	grep "^lakepipe_consume_bytes_total 5$" m.prom
'

test_expect_success 'stdout closed (--print-ids | head -1): one line, exit 1' '
	# more ids than a pipe holds: writing them must meet the closed end
	seq 1 20000 >in &&
	{ produce --topic t/p/head --print-ids --lines in 2>err; echo $? >rc; } |
	    head -1 >first &&
	test -s first &&
	test "$(cat rc)" = 1 &&
	grep -v level=info err >problems &&
	test_one_line problems &&
	grep "stdout closed" problems
'

test_expect_success 'a refused token: one line, exit 1' '
	echo wrong >bad &&
	echo x >x &&
	test_expect_code 1 test_timeout 30 consume --produce --url "$URL" \
	    --token-file bad --topic t/p/auth --lines x 2>err &&
	test_one_line err &&
	grep AuthenticationError err &&
	! grep wrong err
'

test_expect_success 'TLS with --ca-file' '
	printf "s1\ns2\n" | test_timeout 60 consume --produce \
	    --url "$(cat surl)" --ca-file cert.pem --token-file tok \
	    --topic t/p/tls --print-ids >ids 2>err &&
	test $(wc -l <ids) = 2 &&
	ctl topic topic=t/p/tls >topic.json &&
	test "$(json_get topic.json messages)" = 2
'

test_expect_success 'TLS without the CA: one line naming --ca-file, exit 1' '
	echo x | test_expect_code 1 test_timeout 60 consume --produce \
	    --url "$(cat surl)" --token-file tok --topic t/p/tls2 2>err &&
	grep -v level=info err >problems &&
	test_one_line problems &&
	grep -- "--ca-file" problems
'

test_expect_success 'an http:// URL: lookup by the web service, 4 partitions' '
	ctl topics topic=t/p/web partitions=4 >/dev/null &&
	seq 1 8 | test_timeout 60 consume --produce \
	    --url "$(json_get pb.json httpUrl)" --token-file tok \
	    --topic t/p/web --print-ids >ids 2>err &&
	test $(wc -l <ids) = 8 &&
	partition_counts t/p/web >counts &&
	printf "2\n2\n2\n2\n" >want && test_cmp want counts
'

test_expect_success 'the connection dropped mid-stream: sent again, nothing lost' '
	ctl subscriptions topic=t/p/drop subscription=bk >/dev/null &&
	seq 1 3000 >in &&
	connects >before &&
	with_faults "{\"dropAfterCommands\":400,\"clientVersion\":\"lakepipe\"}" \
	    produce --topic t/p/drop --max-pending 200 --print-ids --lines in \
	    >ids 2>err &&
	test $(wc -l <ids) = 3000 &&
	test $(connects) -ge $(($(cat before) + 2)) &&
	read_back t/p/drop bk >back &&
	grep -av "^M " back | sort -un >got &&
	test_cmp in got
'

test_expect_success 'the topic unloaded (CLOSE_PRODUCER) mid-stream: nothing lost' '
	ctl topics topic=t/p/unload partitions=2 >/dev/null &&
	ctl subscriptions topic=t/p/unload subscription=bk >/dev/null &&
	mkfifo feed &&
	: >ids &&
	{ produce --topic t/p/unload --print-ids --lines feed >ids 2>err & } &&
	pid=$! &&
	exec 3<>feed &&
	seq 1 100 >&3 &&
	# the first receipts are in: unload, then the rest
	wait_for has_lines ids 100 &&
	ctl unload topic=t/p/unload moveToNextBroker=true >/dev/null &&
	seq 101 200 >&3 &&
	exec 3>&- &&
	wait $pid &&
	test $(wc -l <ids) = 200 &&
	read_back t/p/unload bk >back &&
	grep -av "^M " back | sort -un >got &&
	seq 1 200 >want && test_cmp want got
'

test_expect_success 'SEND_ERROR: connected again, sent again, nothing lost' '
	ctl subscriptions topic=t/p/senderr subscription=bk >/dev/null &&
	seq 1 50 >in &&
	with_faults "$(errors SEND PersistenceError 2)" \
	    produce --topic t/p/senderr --print-ids --lines in >ids 2>err &&
	grep PersistenceError err &&
	test $(wc -l <ids) = 50 &&
	read_back t/p/senderr bk >back &&
	grep -av "^M " back | sort -un >got &&
	test_cmp in got
'

test_expect_success 'ServiceNotReady on PRODUCER: tried again' '
	printf "a\nb\n" >in &&
	with_faults "$(errors PRODUCER ServiceNotReady 2)" \
	    produce --topic t/p/notready --print-ids --lines in >ids 2>err &&
	grep ServiceNotReady err &&
	test $(wc -l <ids) = 2
'

test_expect_success 'a terminated topic (SEND_ERROR that cannot mend): one line, exit 1' '
	echo x >in &&
	with_faults "$(errors SEND TopicTerminatedError 1)" \
	    test_expect_code 1 produce --topic t/p/term1 --lines in 2>err &&
	grep -v level=info err >problems &&
	test_one_line problems &&
	grep "TopicTerminatedError" problems
'

test_expect_success '--give-up: no producer for that long, exit 1' '
	echo x >in &&
	with_faults "$(errors PRODUCER ServiceNotReady 1000)" \
	    test_expect_code 1 produce --topic t/p/giveup --give-up 2 \
	    --lines in 2>err &&
	grep "level=error.*msg=\"giving up\".*cause=.*ServiceNotReady" err
'

test_expect_success 'a message over the broker'"'"'s maximum: a clear error, exit 1' '
	{
		echo small &&
		head -c 5300000 /dev/zero | tr "\0" a && echo
	} >big &&
	test_expect_code 1 produce --topic t/p/big --lines big 2>err &&
	grep "big line 2: message of 5300000 bytes is over the broker.s maximum message size (5242880 bytes)" err &&
	ctl topic topic=t/p/big >topic.json &&
	test "$(json_get topic.json messages)" = 1
'

test_expect_success 'SIGTERM: stop reading, wait for the receipts, exit 0' '
	rm -f feed && mkfifo feed &&
	: >ids &&
	{ consume --produce --url "$URL" --token-file tok --topic t/p/term \
	    --print-ids --lines feed >ids 2>err & } &&
	pid=$! &&
	exec 3<>feed &&
	printf "a\nb\nc\n" >&3 &&
	wait_for has_lines ids 3 &&
	# the input is still open: consume must not wait for its end
	kill -TERM $pid &&
	wait $pid &&
	exec 3>&- &&
	test $(wc -l <ids) = 3
'

test_expect_success 'SIGTERM while producers cannot be made: what was read still goes' '
	ctl topics topic=t/p/termweb partitions=2 >/dev/null &&
	ctl faults "$(errors HTTP_LOOKUP ServiceNotReady 1000)" >/dev/null &&
	rm -f feed && mkfifo feed &&
	: >ids && : >err &&
	{ consume --produce --url "$(json_get pb.json httpUrl)" \
	    --token-file tok --topic t/p/termweb --give-up 30 \
	    --print-ids --lines feed >ids 2>err & } &&
	pid=$! &&
	exec 3<>feed &&
	printf "a\nb\n" >&3 &&
	# both partitions failed their lookup once at least
	wait_for has_lines_of reconnecting err 2 &&
	kill -TERM $pid &&
	ctl faults/reset >/dev/null &&
	wait $pid &&
	exec 3>&- &&
	test $(wc -l <ids) = 2
'

test_done
