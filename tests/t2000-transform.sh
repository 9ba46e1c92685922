#!/bin/sh
# transform: message frames in, object frames out.  Frames are made by
# hand with printf; objects are split and decoded by python3, gzip, zstd
# and node, readers that share no code with transform.
. "$(dirname "$0")/test-lib.sh"

# msg_file SEQ FILE [FIELD...]: a message frame whose body is FILE.
msg_file() {
	_seq=$1 _file=$2
	shift 2
	printf 'M %d seq=%d id=7:%d:-1:-1 topic=persistent://public/default/t pt=%s' \
	    "$(wc -c <"$_file")" "$_seq" "$((_seq - 1))" \
	    "$((1764201600000 + _seq))"
	for _f in "$@"; do printf ' %s' "$_f"; done
	printf '\n'
	cat "$_file"
	printf '\n'
}

# msg SEQ TEXT [FIELD...]: a message frame whose body is TEXT.
msg() {
	_seq=$1
	printf '%s' "$2" >.body
	shift 2
	msg_file "$_seq" .body "$@"
}

# split_objects FILE: write each object frame's header to obj.N.hdr and
# its body to obj.N, check the framing, print the number of objects.
split_objects() {
	python3 -c '
import sys
d = open(sys.argv[1], "rb").read()
i = n = 0
while i < len(d):
    j = d.index(b"\n", i)
    h = d[i:j].decode()
    t = h.split(" ")
    assert t[0] == "O", h
    ln = int(t[1])
    assert d[j + 1 + ln:j + 2 + ln] == b"\n", "no newline after body"
    n += 1
    open("obj.%d" % n, "wb").write(d[j + 1:j + 1 + ln])
    open("obj.%d.hdr" % n, "w").write(h + "\n")
    i = j + 2 + ln
print(n)' "$1"
}

# field N NAME: a field of object N's header, percent-decoded.
field() {
	python3 -c '
import sys, urllib.parse
for f in open(sys.argv[1]).read().split()[2:]:
    k, v = f.split("=", 1)
    if k == sys.argv[2]:
        print(urllib.parse.unquote(v))' "obj.$1.hdr" "$2"
}

test_expect_success '--help prints usage on stdout, exits 0' '
	transform --help >out 2>err &&
	grep -q "^usage: transform" out &&
	grep -q "{first_id}" out &&
	test ! -s err
'

test_expect_success 'bad flags and values are usage errors (exit 2)' '
	test_expect_code 2 transform --bogus </dev/null 2>err &&
	test_expect_code 2 transform --format xml </dev/null 2>err &&
	grep -q "format" err &&
	test_expect_code 2 transform --compress lz4 </dev/null 2>err &&
	test_expect_code 2 transform --max-messages 0 </dev/null 2>err &&
	test_expect_code 2 transform --max-bytes 6T </dev/null 2>err &&
	test_expect_code 2 transform --max-bytes 10x </dev/null 2>err &&
	test_expect_code 2 transform --max-age -1 </dev/null 2>err &&
	test_expect_code 2 transform --level 4 </dev/null 2>err &&
	test_expect_code 2 transform --compress none --level 1 </dev/null 2>err &&
	test_expect_code 2 transform --max-open 0 </dev/null 2>err &&
	test_expect_code 2 transform --max-open 4097 </dev/null 2>err &&
	grep -q "max-open" err &&
	test_expect_code 2 transform extra-arg </dev/null 2>err
'

test_expect_success 'unsafe key templates are usage errors (exit 2)' '
	for t in "/{first_id}" "a//{first_id}" "../{first_id}" \
	    "{topic}/{yyyy}" "{first_id}/{bogus}" "a b/{first_id}" \
	    "{first_id}/"; do
		test_expect_code 2 transform --key "$t" </dev/null 2>err &&
		test_one_line err && grep -q "key" err || return 1
	done
'

test_expect_success 'empty input: no object, exit 0' '
	transform </dev/null >out &&
	test ! -s out
'

test_expect_success 'one message: a gzip object that zcat reads' '
	msg 1 "{\"amount\":12}" p.src=app%201 >in &&
	transform <in >out &&
	test "$(split_objects out)" = 1 &&
	test "$(field 1 key)" = \
	    public/default/t/2025/11/27/00/00000000000000000007.00000000000000000000.0000000000--1.jsonl.gz &&
	test "$(field 1 type)" = application/x-ndjson &&
	test "$(field 1 enc)" = gzip &&
	test "$(field 1 n)" = 1 &&
	test "$(field 1 seqs)" = 1 &&
	test "$(field 1 first)" = 7:0:-1:-1 &&
	test "$(field 1 last)" = 7:0:-1:-1 &&
	test "$(field 1 pt)" = 1764201600001-1764201600001 &&
	zcat obj.1 >rec &&
	test "$(field 1 size)" = "$(wc -c <rec)" &&
	grep -q "\"properties\":{\"src\":\"app 1\"}" rec &&
	grep -q "\"payload\":{\"amount\":12}}$" rec &&
	gzip -t obj.1
'

test_expect_success 'batching by count: seqs and n per object' '
	i=1 && while [ $i -le 10 ]; do msg $i "m$i"; i=$((i + 1)); done >in &&
	transform --max-messages 3 --compress none <in >out &&
	test "$(split_objects out)" = 4 &&
	test "$(field 1 seqs) $(field 2 seqs) $(field 3 seqs) $(field 4 seqs)" = \
	    "1-3 4-6 7-9 10" &&
	test "$(field 4 n)" = 1 &&
	test "$(field 2 first)" = 7:3:-1:-1 &&
	test "$(field 2 last)" = 7:5:-1:-1 &&
	test "$(field 2 key)" = public/default/t/2025/11/27/00/00000000000000000007.00000000000000000003.0000000000--1.jsonl &&
	test $(wc -l <obj.1) = 3
'

test_expect_success 'batching by bytes: never past --max-bytes' '
	i=1 && while [ $i -le 9 ]; do msg $i "payload-$i"; i=$((i + 1)); done >in &&
	transform --format raw --compress none --max-bytes 25 <in >out &&
	test "$(split_objects out)" = 5 &&
	test "$(field 1 seqs)" = 1-2 &&
	test "$(field 1 size)" = 20 &&
	test "$(field 1 type)" = application/octet-stream &&
	printf "payload-1\npayload-2\n" >expect && test_cmp expect obj.1 &&
	test "$(field 5 seqs)" = 9 &&
	case $(field 1 key) in *.txt) ;; *) false ;; esac
'

test_expect_success 'raw: text payloads make .txt, a binary one .bin' '
	msg 1 "text é" >in && printf "\000\001" >bin.body &&
	msg_file 2 bin.body >>in && msg 3 "more text" >>in &&
	printf "\377" >bad.body && msg_file 4 bad.body >>in &&
	transform --format raw --compress none --max-messages 1 <in >out &&
	test "$(split_objects out)" = 4 &&
	for i in 1 2 3 4; do field $i key | sed "s/.*\.//" || return 1
	done >exts &&
	printf "txt\nbin\ntxt\nbin\n" >exts.want && test_cmp exts.want exts &&
	transform --format raw --compress zstd <in >out &&
	test "$(split_objects out)" = 1 &&
	case $(field 1 key) in *.bin.zst) ;; *) false ;; esac
'

test_expect_success 'a record larger than --max-bytes is an object alone' '
	msg 1 a >in && msg 2 "$(printf "%040d" 0)" >>in && msg 3 b >>in &&
	transform --format raw --compress none --max-bytes 10 <in >out &&
	test "$(split_objects out)" = 3 &&
	test "$(field 2 size)" = 41
'

test_expect_success 'batching by age: an idle stream flushes' '
	msg 1 first >m1 && msg 2 second >m2 &&
	( cat m1; sleep 3; test -s out && echo flushed >flag; cat m2 ) |
	test_timeout 20 transform --max-age 1 --compress none >out &&
	test "$(cat flag)" = flushed &&
	test "$(split_objects out)" = 2 &&
	test "$(field 1 seqs) $(field 2 seqs)" = "1 2"
'

test_expect_success 'no age flush with --max-age 0 (end of input only)' '
	msg 1 first >m1 && msg 2 second >m2 &&
	( cat m1; sleep 2; cat m2 ) |
	test_timeout 20 transform --max-age 0 --compress none >out &&
	test "$(split_objects out)" = 1
'

# flushed N: transform's log (err) says N objects were written on a flush
flushed() {
	test "$(grep -c "msg=.object. .* why=flush" err)" -ge "$1"
}

test_expect_success 'a flush frame (F): a batch holds base=, every one written' '
	msg 1 first >f.in && msg 2 second >>f.in &&
	printf "M 5 seq=3 id=8:0:-1:-1 topic=persistent://public/default/u pt=%s\nthird\n" \
	    1764201600003 >>f.in &&
	echo "F base=99 reason=max-unacked" >>f.in &&
	echo "F base=3 reason=max-unacked" >>f.in &&
	msg 4 fourth >f.after &&
	rm -f fin && mkfifo fin &&
	{ test_timeout 30 transform -v --max-age 0 --compress none <fin >out \
	    2>err & } &&
	pid=$! &&
	exec 6>fin && cat f.in >&6 &&
	i=0 && until flushed 2; do
		i=$((i + 1)) && test $i -le 300 && sleep 0.1 || exit 1
	done &&
	cat f.after >&6 && exec 6>&- &&
	wait $pid &&
	test "$(split_objects out)" = 3 &&
	test "$(field 1 seqs) $(field 2 seqs) $(field 3 seqs)" = "1-2 3 4" &&
	grep -q "msg=.object. .* why=.end of input." err &&
	grep -q "msg=.flush not needed. base=99$" err
'

test_expect_success 'every seq lands in exactly one object' '
	i=1 && while [ $i -le 500 ]; do
		msg $i "$(printf "%0$((i % 37))d" 0)"; i=$((i + 1))
	done >in &&
	transform --max-messages 7 --max-bytes 4k <in >out &&
	n=$(split_objects out) &&
	python3 -c "
import sys
seen = []
for k in range(1, int(sys.argv[1]) + 1):
    h = dict(f.split(\"=\", 1) for f in open(\"obj.%d.hdr\" % k).read().split()[2:])
    for r in h[\"seqs\"].split(\",\"):
        a, _, b = r.partition(\"-\")
        seen += range(int(a), int(b or a) + 1)
assert sorted(seen) == list(range(1, 501)), \"seqs lost or repeated\"
" "$n"
'

test_expect_success 'payloads: json, string, base64 recovered byte for byte' '
	printf "{\"a\":[1,2.5e3,{\"b\":\"\\\\u00e9\\\\n\"}],\"c\":\"\303\251\360\237\230\200\"}" >p1 &&
	printf "[ 1 ,\t2 ]" >p2 &&
	printf " {\"lead\":1}" >p3 &&
	printf "{\"cr\":1}\r\n" >p4 &&
	printf "line1\nline2\t\"q\" \\\\ \001\037\177 caf\303\251" >p5 &&
	printf "\377\376 invalid" >p6 &&
	printf "nul\000inside" >p7 &&
	printf "" >p8 &&
	printf "42" >p9 &&
	printf "[\"\\\\ud800\"]" >p10 &&
	printf "\355\240\200" >p11 &&
	printf "{\"a\":1}{\"b\":2}" >p12 &&
	head -c 3000 /dev/urandom >p13 &&
	i=1 && while [ $i -le 13 ]; do msg_file $i p$i; i=$((i + 1)); done >in &&
	transform <in >out &&
	test "$(split_objects out)" = 1 &&
	zcat obj.1 >recs &&
	cat >check.py <<\EOF &&
import json, base64
want = {1: "json", 2: "json", 3: "string", 4: "string", 5: "string",
        6: "base64", 7: "base64", 8: "string", 9: "string",
        10: "string", 11: "base64", 12: "string"}
lines = open("recs", "rb").read().split(b"\n")
assert lines[-1] == b""
for k, line in enumerate(lines[:-1], 1):
    r = json.loads(line)
    enc = r["payload_encoding"]
    if enc == "json":
        got = line[-1 - r["payload_size"]:-1]
        assert json.loads(got) == r["payload"]
    elif enc == "string":
        got = r["payload"].encode("utf-8")
    else:
        assert enc == "base64", enc
        got = base64.b64decode(r["payload"], validate=True)
    orig = open("p%d" % k, "rb").read()
    assert got == orig, (k, got, orig)
    assert r["payload_size"] == len(orig)
    assert want.get(k, enc) == enc, (k, enc)
    assert r["message_id"] == "7:%d:-1:-1" % (k - 1)
EOF
	python3 check.py &&
	cat >check.js <<\EOF &&
const fs = require("fs"), assert = require("assert");
const data = fs.readFileSync("recs");
let start = 0, k = 0;
for (let end; (end = data.indexOf(10, start)) >= 0; start = end + 1) {
	const line = data.subarray(start, end), r = JSON.parse(line);
	const orig = fs.readFileSync("p" + ++k);
	let got;
	if (r.payload_encoding === "json") {
		got = line.subarray(line.length - 1 - r.payload_size, -1);
		assert.deepStrictEqual(JSON.parse(got), r.payload);
	} else if (r.payload_encoding === "string")
		got = Buffer.from(r.payload, "utf8");
	else
		got = Buffer.from(r.payload, "base64");
	assert.ok(got.equals(orig), "payload " + k);
}
assert.strictEqual(k, 13);
EOF
	node check.js
'

test_expect_success 'record fields: key, properties, event time, rc, null' '
	msg 1 "x" key=k%22%0Ay et=1764201600123 rc=2 "p.a%20b=v%3D1" p.c=d >in &&
	msg 2 "" null=1 >>in &&
	transform --compress none <in >out &&
	split_objects out >/dev/null &&
	python3 -c "
import json
a, b = [json.loads(l) for l in open(\"obj.1\", \"rb\").read().splitlines()]
assert a[\"key\"] == \"k\\\"\\ny\", a[\"key\"]
assert a[\"properties\"] == {\"a b\": \"v=1\", \"c\": \"d\"}
assert a[\"event_time\"] == \"2025-11-27T00:00:00.123Z\"
assert a[\"event_time_ms\"] == 1764201600123
assert a[\"publish_time\"] == \"2025-11-27T00:00:00.001Z\"
assert a[\"publish_time_ms\"] == 1764201600001
assert a[\"redelivery_count\"] == 2 and a[\"partition\"] == -1
assert a[\"topic\"] == \"persistent://public/default/t\"
assert b[\"payload\"] is None and b[\"payload_encoding\"] == \"null\"
assert b[\"key\"] is None and b[\"event_time\"] is None
assert b[\"properties\"] == {} and b[\"redelivery_count\"] == 0
assert list(a) == list(b)
"
'

test_expect_success 'zstd objects: zstd -d reads them' '
	i=1 && while [ $i -le 50 ]; do msg $i "{\"i\":$i}"; i=$((i + 1)); done >in &&
	transform --compress zstd --level 3 <in >out &&
	test "$(split_objects out)" = 1 &&
	test "$(field 1 enc)" = zstd &&
	case $(field 1 key) in *.jsonl.zst) ;; *) false ;; esac &&
	zstd -dc <obj.1 >recs && test $(wc -l <recs) = 50
'

test_expect_success 'gzip levels 0-3 all give valid gzip' '
	i=1 && while [ $i -le 200 ]; do msg $i "{\"i\":$i}"; i=$((i + 1)); done >in &&
	for l in 0 1 2 3; do
		transform --level $l <in >out &&
		split_objects out >/dev/null &&
		zcat obj.1 >recs && test $(wc -l <recs) = 200 || return 1
	done
'

test_expect_success 'same input, same output bytes' '
	i=1 && while [ $i -le 100 ]; do msg $i "{\"i\":$i}"; i=$((i + 1)); done >in &&
	transform --max-messages 30 <in >out1 &&
	transform --max-messages 30 <in >out2 &&
	test_cmp out1 out2
'

test_expect_success 'key template: placeholders, partitioned topic' '
	printf "M 2 seq=1 id=9:4:3:-1 topic=persistent://tn/ns/orders-partition-3 pt=1764205445000\nhi\n" >in &&
	transform --key "lake/{tenant}/{namespace}/{name}/p={partition}/dt={date}/{hh}{mi}{ss}/{first_id}.{ext}" \
	    --compress none <in >out &&
	split_objects out >/dev/null &&
	test "$(field 1 key)" = lake/tn/ns/orders/p=3/dt=2025-11-27/010405/9-4-3--1.jsonl
'

# pmsg SEQ PART ENTRY TEXT: a message frame of partition PART of tn/ns/x.
pmsg() {
	printf 'M %d seq=%d id=9:%d:%d:-1 pt=%d' "${#4}" "$1" "$3" "$2" \
	    "$((1764201600000 + $3))"
	printf ' topic=persistent://tn/ns/x-partition-%d\n%s\n' "$2" "$4"
}

# interleave N PARTS...: N messages of each partition, round robin, seqs
# from 1; the body names partition and entry.
interleave() {
	_n=$1 _seq=1 _e=0
	shift
	while [ $_e -lt "$_n" ]; do
		for _p in "$@"; do
			pmsg $_seq "$_p" "$_e" "{\"p\":$_p,\"e\":$_e}"
			_seq=$((_seq + 1))
		done
		_e=$((_e + 1))
	done
}

# check_partitions N TOTAL: objects 1..N each hold one partition's
# messages in order, named by its first one, and seqs 1..TOTAL once each.
check_partitions() {
	python3 -c '
import json, sys, urllib.parse
n, total = int(sys.argv[1]), int(sys.argv[2])
seen = []
for k in range(1, n + 1):
    h = dict(f.split("=", 1) for f in open("obj.%d.hdr" % k).read().split()[2:])
    recs = [json.loads(l) for l in open("obj.%d" % k, "rb").read().splitlines()]
    assert len(recs) == int(h["n"]), k
    topics = {r["topic"] for r in recs}
    assert len(topics) == 1, ("partitions mixed", k, topics)
    p = recs[0]["partition"]
    assert topics == {"persistent://tn/ns/x-partition-%d" % p}, topics
    assert all(r["payload"]["p"] == p for r in recs)
    es = [r["payload"]["e"] for r in recs]
    assert es == list(range(es[0], es[0] + len(es))), ("order", k, es)
    first = "9:%d:%d:-1" % (es[0], p)
    assert h["first"] == first and recs[0]["message_id"] == first
    assert "/%020d.%020d.0000000000-%d.jsonl" % (9, es[0], p) in h["key"], h["key"]
    for r in h["seqs"].split(","):
        a, _, b = r.partition("-")
        seen += range(int(a), int(b or a) + 1)
assert sorted(seen) == list(range(1, total + 1)), "seqs lost or repeated"
' "$@"
}

test_expect_success 'partitions: one batch each, in order, every seq once' '
	interleave 10 0 1 2 >in &&
	transform --compress none <in >out &&
	test "$(split_objects out)" = 3 &&
	check_partitions 3 30 &&
	test "$(field 1 first) $(field 2 first) $(field 3 first)" = \
	    "9:0:0:-1 9:0:1:-1 9:0:2:-1" &&
	test "$(field 2 seqs)" = 2,5,8,11,14,17,20,23,26,29 &&
	test "$(field 2 key)" = tn/ns/x/2025/11/27/00/00000000000000000009.00000000000000000000.0000000000-1.jsonl
'

test_expect_success 'partitions: limits apply to each batch alone' '
	interleave 10 0 1 2 >in &&
	transform --compress none --max-messages 4 <in >out &&
	test "$(split_objects out)" = 9 &&
	check_partitions 9 30 &&
	for k in 1 2 3 4 5 6; do test "$(field $k n)" = 4 || return 1; done &&
	transform --format raw --compress none --max-bytes 45 <in >out &&
	n=$(split_objects out) && test "$n" = 12 &&
	for k in $(seq $n); do
		test "$(field $k size)" -le 45 &&
		sed "s/.*\"p\":\([0-9]\).*/\1/" obj.$k | sort -u >parts &&
		test $(wc -l <parts) = 1 || return 1
	done
'

test_expect_success 'partitions: same runs, same objects, any interleaving' '
	interleave 9 0 1 2 >in1 &&
	{ interleave 9 2; interleave 9 0 1; } >in2 &&
	for i in 1 2; do
		transform --max-messages 4 <in$i >out$i &&
		n=$(split_objects out$i) &&
		for k in $(seq $n); do
			echo "$(field $k key) $(field $k n) $(cksum <obj.$k)"
		done | sort >objs$i || return 1
	done &&
	test $(wc -l <objs1) = 9 &&
	test_cmp objs1 objs2
'

test_expect_success 'partitions: gzip and zstd streams of each batch decode' '
	interleave 50 0 1 2 3 >in &&
	for c in gzip zstd; do
		transform --compress $c --max-messages 20 <in >out &&
		n=$(split_objects out) && test "$n" = 12 &&
		for k in $(seq $n); do
			if test $c = gzip; then zcat obj.$k
			else zstd -dcq obj.$k; fi >obj.$k.txt &&
			mv obj.$k.txt obj.$k || return 1
		done &&
		check_partitions 12 200 || return 1
	done
'

test_expect_success 'partitions: --max-open 1 flushes at every change' '
	interleave 3 0 1 >in &&
	transform --compress none --max-open 1 -v <in >out 2>err &&
	test "$(split_objects out)" = 6 &&
	check_partitions 6 6 &&
	test $(grep -c "why=max-open" err) = 5 &&
	test $(grep -c "why=\"end of input\"" err) = 1 &&
	pmsg 1 0 0 a >in && pmsg 2 0 1 b >>in && pmsg 3 1 0 c >>in &&
	pmsg 4 1 1 d >>in && pmsg 5 0 2 e >>in &&
	transform --format raw --compress none --max-open 1 <in >out &&
	test "$(split_objects out)" = 3 &&
	test "$(field 1 seqs) $(field 2 seqs) $(field 3 seqs)" = "1-2 3-4 5"
'

test_expect_success 'partitions: a new one past --max-open flushes the oldest' '
	{ pmsg 1 0 0 a; pmsg 2 1 0 b; pmsg 3 2 0 c; pmsg 4 0 1 d;
	  pmsg 5 3 0 e; pmsg 6 1 1 f; pmsg 7 4 0 g; } >in &&
	transform --format raw --compress none --max-open 3 -v <in >out 2>err &&
	test "$(split_objects out)" = 5 &&
	test $(grep -c "why=max-open" err) = 2 &&
	: the oldest open batch goes first, not the least recently used &&
	test "$(field 1 seqs) $(field 2 seqs)" = "1,4 2,6" &&
	test "$(field 3 seqs) $(field 4 seqs) $(field 5 seqs)" = "3 5 7"
'

test_expect_success 'partitions: each batch flushes at its own age' '
	pmsg 1 0 0 a >m1 && pmsg 2 1 0 b >m2 && pmsg 3 0 1 c >m3 &&
	( cat m1; sleep 2; cat m2; sleep 2
	  grep -c "^O " out >count1
	  sleep 2.5
	  grep -c "^O " out >count2
	  cat m3 ) |
	test_timeout 30 transform --format raw --compress none --max-age 3 \
	    >out &&
	test "$(cat count1) $(cat count2)" = "1 2" &&
	test "$(split_objects out)" = 3 &&
	test "$(field 1 seqs) $(field 2 seqs) $(field 3 seqs)" = "1 2 3"
'

test_expect_success 'frames of other types are skipped' '
	msg 1 a >in && printf "A key=x seqs=1\n" >>in && msg 2 b >>in &&
	transform --compress none <in >out &&
	test "$(split_objects out)" = 1 &&
	test "$(field 1 seqs)" = 1-2
'

test_expect_success 'garbage: one-line error naming the byte, exit 1, no partial object' '
	i=1 && while [ $i -le 5 ]; do msg $i "m$i"; i=$((i + 1)); done >in &&
	off=$(wc -c <in) &&
	printf "garbage\n" >>in && msg 6 m6 >>in &&
	test_expect_code 1 transform --max-messages 2 --compress none <in >out 2>err &&
	test_one_line err &&
	grep -q "byte $off" err &&
	test "$(split_objects out)" = 2 &&
	test "$(field 2 seqs)" = 3-4
'

test_expect_success 'truncated input: error, exit 1, open batch dropped' '
	msg 1 hello >in && msg 2 world >>in &&
	head -c $(($(wc -c <in) - 3)) in >cut &&
	test_expect_code 1 transform <cut >out 2>err &&
	test_one_line err &&
	grep -q "truncated" err &&
	test ! -s out
'

test_expect_success 'a message frame without seq: exit 1 naming the byte' '
	msg 1 a >in && off=$(wc -c <in) &&
	printf "M 1 id=1:1:-1:-1 topic=t pt=1\nb\n" >>in &&
	test_expect_code 1 transform <in >out 2>err &&
	test_one_line err &&
	grep -q "byte $off.*seq" err
'

test_done
