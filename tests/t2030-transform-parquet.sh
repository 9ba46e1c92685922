#!/bin/sh
# transform --format parquet: the Parquet writer on the format interface.
# DuckDB reads the objects back: column names and types from --fields and
# --meta, values, nulls, UTF-8, empty strings; every page codec; no outer
# codec and .parquet keys; the payload columns recover every byte; rejects
# go to _errors/ and every seq is in exactly one object.
. "$(dirname "$0")/test-lib.sh"
. "$TEST_DIRECTORY/lib-transform.sh"

PT=1764201600000
F='id:int64,user.name=user,price:double,ts:timestamp,ok:boolean,note:string,tags'
P="read_parquet('lake/public/**/*.parquet')"
HEX="SELECT split_part(message_id, ':', 2), CASE WHEN payload_encoding = 'base64'
    THEN hex(from_base64(payload)) ELSE hex(encode(payload)) END FROM $P"

python3 - <<'PY'
lines = [
    b'{"id":1,"user":{"name":"ann"},"price":2.5,"ts":"2026-12-01T10:00:00.5+01:00","ok":true,"note":"","tags":["a", "b"]}',
    '{"id":"2","user":{"name":"b\u00e9 \\"q\\" 中文 😀"},"price":3,"ts":1764201600000,"ok":false,"note":"a,b\\nc"}'.encode(),
    b'{"id":3}',
    b'{"id":"x"}',
    b'\xff not json',
    b'{"id":-9223372036854775808,"price":-0.125e-2,"ok":"false"}',
]
with open('input', 'wb') as f:
    f.write(b'\n'.join(lines) + b'\n')
PY

test_expect_success 'parquet: .parquet keys, its type, no enc=, rejects apart' '
	consume --lines input --publish-time $PT 2>/dev/null |
	    transform --format parquet --fields "$F" --meta message_id,publish_time=pt >frames &&
	seqs_once frames 6 &&
	grep -a "^O " frames | grep -v " key=_errors/" >data &&
	test $(wc -l <data) = 2 &&
	! grep -v " key=public/default/replay/2025/11/27/00/[0-9.-]*\.parquet " data &&
	! grep -v " type=application/vnd.apache.parquet " data &&
	! grep " enc=" data &&
	grep -a "^O " frames | grep " key=_errors/" >rej &&
	test $(wc -l <rej) = 1 && grep -q " seqs=4-5 " rej &&
	grep -q " enc=gzip " rej &&
	deliver file://$TRASH/lake/ <frames >acks &&
	test $(wc -l <acks) = 3
'

test_expect_success 'DuckDB: column names and types' '
	q "DESCRIBE SELECT * FROM $P" | cut -f1,2 >types &&
	printf "%s\\n" "message_id	VARCHAR" "pt	TIMESTAMP WITH TIME ZONE" \
	    "id	BIGINT" "user	VARCHAR" "price	DOUBLE" \
	    "ts	TIMESTAMP WITH TIME ZONE" "ok	BOOLEAN" "note	VARCHAR" \
	    "tags	VARCHAR" >types.want &&
	test_cmp types.want types
'

test_expect_success 'DuckDB: values, nulls, UTF-8, empty strings' '
	q "SELECT split_part(message_id, chr(58), 2)::INT AS line, pt, id, user,
	    price, ts, ok, note, note IS NULL, tags FROM $P ORDER BY line" >rows &&
	printf "%s\\n" \
	"1	2025-11-27 00:00:00+00	1	ann	2.5	2026-12-01 09:00:00.5+00	true		false	[\"a\",\"b\"]" \
	"2	2025-11-27 00:00:00+00	2	bé \"q\" 中文 😀	3	2025-11-27 00:00:00+00	false	a,b\\nc	false	\\N" \
	"3	2025-11-27 00:00:00+00	3	\\N	\\N	\\N	\\N	\\N	true	\\N" \
	"6	2025-11-27 00:00:00+00	-9223372036854775808	\\N	-0.00125	\\N	false	\\N	true	\\N" \
	    >rows.want &&
	test_cmp rows.want rows
'

test_expect_success 'every page codec reads back the same' '
	q "SELECT * FROM $P ORDER BY message_id" >base &&
	for c in snappy zstd gzip none; do
		rm -rf lake &&
		consume --lines input --publish-time $PT 2>/dev/null |
		    transform --format parquet --parquet-compression $c \
		    --fields "$F" --meta message_id,publish_time=pt |
		    deliver file://$TRASH/lake/ >/dev/null &&
		q "SELECT * FROM $P ORDER BY message_id" >got.$c &&
		test_cmp base got.$c || return 1
	done &&
	test_expect_code 2 transform --check --parquet-compression lz4 2>err &&
	grep -q -- "--parquet-compression" err
'

test_expect_success 'no --fields: the payload columns recover every byte' '
	python3 -c "
import random
random.seed(3)
with open(\"bin\", \"wb\") as f:
    for i in range(300):
        f.write(bytes(random.randrange(1, 256) for _ in range(random.randrange(40))).replace(b\"\\n\", b\"\") + b\"\\n\")
" &&
	rm -rf lake &&
	consume --lines bin --publish-time $PT 2>/dev/null |
	    transform --format parquet --max-bytes 4k | deliver file://$TRASH/lake/ >acks &&
	test $(wc -l <acks) -gt 1 &&
	q "$HEX" >rows &&
	python3 -c "
want = open(\"bin\", \"rb\").read().split(b\"\\n\")[:-1]
got = dict(l.rstrip(\"\\n\").split(\"\\t\") for l in open(\"rows\"))
assert len(got) == len(want), (len(got), len(want))
for k, w in enumerate(want, 1):
    assert got[str(k)].lower() == w.hex(), (k, got[str(k)], w)
"
'

test_done
