#!/bin/sh
# transform --fields and --meta: payload fields picked by path, renamed
# and cast, the metadata columns chosen and renamed, read back by DuckDB
# (types, values, nulls, UTF-8, empty strings); records that cannot be
# converted land in the reject stream under _errors/ with their reason
# and exact bytes, and every message is acknowledged exactly once.
. "$(dirname "$0")/test-lib.sh"
. "$TEST_DIRECTORY/lib-transform.sh"

PT=1764201600000
F='id:int64,user.name=user,price:double,ts:timestamp,ok:boolean,note:string,tags'

# input: a line per message; reject.want: line<TAB>reason substring
python3 - <<'PY'
lines = [
    b'{"id":1,"user":{"name":"ann","age":"33"},"price":2.5,"ts":"2026-12-01T10:00:00.5+01:00","ok":true,"note":"","tags":["a", "b"]}',
    '{"id":"2","user":{"name":"b\u00e9 \\"q\\" 中文 😀"},"price":3,"ts":1764201600000,"ok":false,"note":"a,b\\nc"}'.encode(),
    b'{"id":3}',
    b'{"id":"x"}',
    b'not json at all',
    b'  {"id":4, "price":"1e3",\t"ok":"true", "ts":"2026-01-01T00:00:00Z", "user":{"name":null}}  ',
    b'{"id":12.5}',
    b'{"id":5,"ts":-5}',
    b'{"id":6,"note":"\xff\xfe"}',
    b'{"id":9223372036854775807,"price":-0.125e-2}',
    b'{"id":9223372036854775808}',
    b'{"id":7,"ok":1}',
    b'{"id":8,"ts":"2026-02-30T00:00:00Z"}',
    b'[1,2]',
    b'{"id":42,"user":{"name":"\\u0041\\ud83d\\ude00"}}',
]
rejects = {4: 'field id: "x" is not an int64', 5: 'payload is not a JSON object',
           7: 'field id: 12.5 is not an int64', 8: 'is not a timestamp from 1970',
           9: 'payload is not a JSON object', 11: 'is not an int64',
           12: 'field ok: 1 is not a boolean', 13: 'is not a timestamp'}
with open('input', 'wb') as f:
    f.write(b'\n'.join(lines) + b'\n')
with open('reject.want', 'w') as f:
    for k, why in sorted(rejects.items()):
        f.write('%d\t%s\n' % (k, why))
for k, l in enumerate(lines, 1):
    open('line.%d' % k, 'wb').write(l)
PY
N=$(wc -l <input)
J="read_json('lake/public/**/*.jsonl.gz', format='newline_delimited')"

test_expect_success 'bad specs are usage errors naming the option' '
	test_expect_code 2 transform --check --fields "a:int32" 2>err &&
	test_one_line err && grep -q -- "--fields: unknown type" err &&
	test_expect_code 2 transform --check --fields "a..b" 2>err &&
	grep -q "empty path" err &&
	test_expect_code 2 transform --check --fields "a,,b" 2>err &&
	grep -q "empty item" err &&
	test_expect_code 2 transform --check --fields "a=:int64" 2>err &&
	grep -q "empty name" err &&
	test_expect_code 2 transform --check --fields "a=x,b=x" 2>err &&
	grep -q "column .x. twice" err &&
	test_expect_code 2 transform --check --fields id --meta "message_id,offset" 2>err &&
	grep -q -- "--meta: no such metadata column" err &&
	test_expect_code 2 transform --check --format raw --fields id 2>err &&
	grep -q "raw" err &&
	test_expect_code 2 transform --check --reject-key "_errors/{topic}" 2>err &&
	grep -q -- "--reject-key" err &&
	transform --check --fields "$F" --meta "message_id=id2,publish_time=pt"
'

test_expect_success 'jsonl --fields: the lake and its rejects, every message acked once' '
	consume --lines input --publish-time $PT 2>/dev/null |
	    transform --fields "$F" --meta "message_id,publish_time=pt,partition" |
	    tee frames | deliver file://$TRASH/lake/ >acks &&
	seqs_once frames $N &&
	sed -n "s/^A /O 0 /p" acks >ack.o &&
	seqs_once ack.o $N &&
	test "$(find lake/_errors -type f -name "*.jsonl.gz" | wc -l)" -ge 1 &&
	test "$(find lake -path lake/_errors -prune -o -type f -name "*.jsonl.gz" -print | wc -l)" -ge 1
'

test_expect_success 'DuckDB: column names and types' '
	q "DESCRIBE SELECT * FROM $J" | cut -f1,2 >types &&
	cat >types.want <<-\EOF &&
	message_id	VARCHAR
	pt	TIMESTAMP
	partition	BIGINT
	id	BIGINT
	user	VARCHAR
	price	DOUBLE
	ts	TIMESTAMP
	ok	BOOLEAN
	note	VARCHAR
	tags	VARCHAR[]
	EOF
	test_cmp types.want types
'

test_expect_success 'DuckDB: values, nulls, UTF-8, empty strings' '
	q "SELECT split_part(message_id, chr(58), 2)::INT AS line, pt, partition,
	    id, user, price, ts, ok, note, note IS NULL, tags FROM $J ORDER BY line" >rows &&
	printf "%s\n" \
	"1	2025-11-27 00:00:00	-1	1	ann	2.5	2026-12-01 09:00:00.5	true		false	['"'"'a'"'"', '"'"'b'"'"']" \
	"2	2025-11-27 00:00:00	-1	2	bé \"q\" 中文 😀	3	2025-11-27 00:00:00	false	a,b\\nc	false	\\N" \
	"3	2025-11-27 00:00:00	-1	3	\\N	\\N	\\N	\\N	\\N	true	\\N" \
	"6	2025-11-27 00:00:00	-1	4	\\N	1000	2026-01-01 00:00:00	true	\\N	true	\\N" \
	"10	2025-11-27 00:00:00	-1	9223372036854775807	\\N	-0.00125	\\N	\\N	\\N	true	\\N" \
	"14	2025-11-27 00:00:00	-1	\\N	\\N	\\N	\\N	\\N	\\N	true	\\N" \
	"15	2025-11-27 00:00:00	-1	42	A😀	\\N	\\N	\\N	\\N	true	\\N" \
	    >rows.want &&
	test_cmp rows.want rows
'

test_expect_success 'rejects: their reason, message id and exact bytes' '
	find lake/_errors -type f -name "*.jsonl.gz" | sort | xargs zcat >rejects &&
	python3 -c "
import base64, json
want = dict(l.rstrip(\"\\n\").split(\"\\t\", 1) for l in open(\"reject.want\"))
got = {}
for line in open(\"rejects\", \"rb\"):
    r = json.loads(line)
    k = r[\"message_id\"].split(\":\")[1]
    assert k not in got, (\"twice\", k)
    got[k] = r
    assert want[k] in r[\"reason\"], (k, r[\"reason\"])
    orig = open(\"line.\" + k, \"rb\").read()
    assert r[\"payload_encoding\"] == \"base64\", r
    assert base64.b64decode(r[\"payload\"], validate=True) == orig, k
    assert r[\"payload_size\"] == len(orig)
    assert r[\"topic\"] == \"persistent://public/default/replay\" or r[\"topic\"], r
assert sorted(got) == sorted(want), (sorted(got), sorted(want))
" &&
	q "SELECT count(*) FROM read_json(\"lake/_errors/**/*.jsonl.gz\", format=\"newline_delimited\")" >n &&
	test "$(cat n)" = $(wc -l <reject.want)
'

test_expect_success 'rejects are counted: the finished line and the metrics' '
	consume --lines input --publish-time $PT 2>/dev/null |
	    transform --fields "$F" --metrics-file m.prom >/dev/null 2>err &&
	grep -q "msg=\"finished\" messages=$N objects=[0-9]* rejects=8$" err &&
	grep -q "^lakepipe_transform_rejects_total 8$" m.prom
'

test_expect_success 'a run of rejects is one object between the data objects' '
	consume --lines input --publish-time $PT 2>/dev/null |
	    transform --compress none --fields "$F" -v >frames 2>err &&
	grep "^O " frames | sed "s/.* seqs=\([^ ]*\) .*/\1/" | tr "\n" " " >runs &&
	test "$(cat runs)" = "1-3 4-5 6 7-9 10 11-13 14-15 " &&
	grep "^O " frames | grep -c " key=_errors/" >nrej && test "$(cat nrej)" = 3 &&
	grep -c "why=reject" err >n1 && test "$(cat n1)" = 3 &&
	: prev= chains every object to the one before it &&
	test "$(grep -c " prev=" frames)" = 6
'

test_expect_success '--meta: none, renamed, every name; --name-separator' '
	printf "{\"a\":{\"b\":{\"c\":1}}}\n" >in2 &&
	consume --lines in2 --publish-time $PT 2>/dev/null |
	    transform --compress none --meta none --fields a.b.c,a.b --name-separator _ >out2 &&
	sed -n 2p out2 >rec2 &&
	echo "{\"a_b_c\":1,\"a_b\":{\"c\":1}}" >rec2.want && test_cmp rec2.want rec2 &&
	consume --lines in2 --publish-time $PT 2>/dev/null |
	    transform --compress none --meta "topic=t,key,event_time,properties,redelivery_count=rc" >out3 &&
	sed -n 2p out3 >rec3 &&
	echo "{\"t\":\"persistent://public/default/replay\",\"key\":null,\"event_time\":null,\"properties\":{},\"rc\":0,\"payload_encoding\":\"json\",\"payload\":{\"a\":{\"b\":{\"c\":1}}}}" >rec3.want &&
	test_cmp rec3.want rec3
'

test_expect_success 'exactly once: reject objects are indexed, the audit is clean' '
	consume --lines input --publish-time $PT 2>/dev/null |
	    transform --fields "$F" | deliver --exactly-once file://$TRASH/eo/ >acks1 &&
	test $(wc -l <acks1) = 7 &&
	deliver --index file://$TRASH/eo/ >index &&
	test $(grep -c " key=_errors/" index) = 3 &&
	deliver --audit file://$TRASH/eo/ >audit &&
	grep -q "^audit: 7 objects, $N messages, 1 partitions; 0 gaps, 0 overlaps, 0 missing, 0 damaged; 0 unindexed$" audit &&
	consume --lines input --publish-time $PT 2>/dev/null |
	    transform --fields "$F" | deliver --exactly-once file://$TRASH/eo/ >acks2 2>err &&
	test_cmp acks1 acks2 &&
	test $(grep -c "msg=\"already stored\"" err) = 7
'

test_expect_success 'rejects are jsonl envelopes: consume --lake restores them' '
	: the data objects are not envelopes: skipped, said, exit 1 &&
	test_expect_code 1 consume --lake file://$TRASH/eo/ >restored 2>err &&
	grep -q "4 objects or records not restored" err &&
	grep -a -c "^M " restored >n &&
	test "$(cat n)" = $(wc -l <reject.want) &&
	python3 -c "
import sys
d = open(\"restored\", \"rb\").read()
i = 0
while i < len(d):
    j = d.index(b\"\\n\", i)
    h = d[i:j].decode().split()
    n = int(h[1])
    k = [f for f in h if f.startswith(\"id=\")][0].split(\":\")[1]
    assert d[j + 1:j + 1 + n] == open(\"line.\" + k, \"rb\").read(), k
    i = j + 2 + n
"
'

test_done
