#!/bin/sh
# transform --format csv: RFC 4180 objects with a header row, read back by
# DuckDB's read_csv and by Python's csv module: every message's id and
# exact payload bytes (text as it is, binary as base64), typed columns
# from --fields, nulls against empty strings, the delimiter option,
# quoting, compression and the .csv[.gz|.zst] keys.
. "$(dirname "$0")/test-lib.sh"
. "$TEST_DIRECTORY/lib-transform.sh"

PT=1764201600000
DQ='"'

# A hostile input: empty lines, quotes, delimiters, CR, tabs, invalid
# UTF-8, NUL bytes, JSON; expect: entry<TAB>hex, one per line.
python3 - <<'PY'
import random
random.seed(7)
lines = [b'', b'{"a":1}', b'"quoted"', b'a,b,c', b'semi;colon', b'tab\there',
         b'cr\rinside', b'caf\xc3\xa9 \xe4\xb8\xad\xe6\x96\x87 \xf0\x9f\x98\x80',
         b'\xff\xfe invalid', b'nul\x00inside', b'ctl\x01\x1f\x7f', b'  spaces  ',
         b'""', b'"', b'x' * 100000, b'\\N', b'NULL', b'{"b": [1, "x,y"]}']
for i in range(500):
    k = random.randrange(3)
    if k == 0:
        lines.append(bytes(random.choice(b'ab,;"\r\t x') for _ in range(random.randrange(30))))
    elif k == 1:
        lines.append(bytes(random.randrange(1, 256) for _ in range(random.randrange(20))).replace(b'\n', b''))
    else:
        lines.append('ünï "%d"'.encode() % i)
with open('input', 'wb') as f:
    f.write(b'\n'.join(lines) + b'\n')
with open('expect', 'w') as f:
    for i, l in enumerate(lines, 1):
        f.write('%d\t%s\n' % (i, l.hex()))
PY
N=$(wc -l <expect)

# payloads FILE: entry<TAB>hex of each row's exact payload bytes, from
# lines "message_id<TAB>payload_encoding<TAB>payload" (lake-query.js text)
payloads() {
	python3 -c '
import base64, sys
def unesc(s):
    out, i = [], 0
    while i < len(s):
        if s[i] == "\\" and i + 1 < len(s):
            out.append({"t": "\t", "n": "\n", "r": "\r", "\\": "\\"}[s[i + 1]])
            i += 2
        else:
            out.append(s[i])
            i += 1
    return "".join(out)
rows = []
for line in open(sys.argv[1], encoding="utf-8"):
    mid, enc, pay = line.rstrip("\n").split("\t")
    pay = unesc(pay)
    b = base64.b64decode(pay) if enc == "base64" else pay.encode("utf-8")
    rows.append((int(mid.split(":")[1]), b.hex()))
for e, h in sorted(rows):
    print("%d\t%s" % (e, h))
' "$1"
}

CSV="allow_quoted_nulls=false, header=true, delim=',', quote='\"', escape='\"', strict_mode=true"

test_expect_success 'csv: keys, type, a header row in every object' '
	consume --lines input --publish-time $PT 2>/dev/null |
	    transform --format csv --max-bytes 8k >frames &&
	grep -a "^O " frames >hdrs &&
	test $(wc -l <hdrs) -ge 3 &&
	! grep -v " type=text/csv " hdrs &&
	! grep -v " key=public/default/replay/2025/11/27/00/[0-9.-]*\.csv\.gz " hdrs &&
	consume --lines input --publish-time $PT 2>/dev/null |
	    transform --format csv --max-bytes 8k | deliver file://$TRASH/lake/ >acks &&
	test $(wc -l <acks) = $(wc -l <hdrs) &&
	for f in $(find lake -name "*.csv.gz"); do
		zcat $f | head -1 >h &&
		printf "message_id,topic,partition,key,publish_time,event_time,properties,redelivery_count,payload_encoding,payload\\r\\n" >h.want &&
		test_cmp h.want h || return 1
	done
'

test_expect_success 'DuckDB read_csv: every payload byte for byte, the row count' '
	q "SELECT message_id, payload_encoding, payload FROM read_csv(\"lake/**/*.csv.gz\", $CSV)" |
	    sed "s/^\\([^\\t]*\\)\\t/\\1\\t/" >got.rows 2>err &&
	test $(wc -l <got.rows) = $N &&
	payloads got.rows >got &&
	test_cmp expect got
'

test_expect_success 'Python csv reads the same bytes (the quoting is RFC 4180)' '
	for f in $(find lake -name "*.csv.gz" | sort); do zcat $f; done >all.csv &&
	python3 -c "
import base64, csv, io
rows = {}
data = open(\"all.csv\", \"rb\").read().decode(\"utf-8\")
for r in csv.DictReader(io.StringIO(data, newline=\"\")):
    if r[\"message_id\"] == \"message_id\":
        continue    # the next object header
    b = base64.b64decode(r[\"payload\"]) if r[\"payload_encoding\"] == \"base64\" else r[\"payload\"].encode()
    rows[int(r[\"message_id\"].split(\":\")[1])] = b.hex()
with open(\"got.py\", \"w\") as f:
    for e in sorted(rows):
        f.write(\"%d\\t%s\\n\" % (e, rows[e]))
" &&
	test_cmp expect got.py
'

test_expect_success 'csv --fields: typed columns, nulls and empty strings, DuckDB types' '
	cat >typed.in <<-\EOF &&
	{"id":1,"name":"ann","price":2.5,"ok":true,"ts":"2026-12-01T10:00:00.5+01:00","note":""}
	{"id":2,"name":"b\u00e9 \"q\", 中文","price":3,"ok":false,"ts":1764201600000,"note":"x\ny"}
	{"id":3}
	{"id":"nope"}
	EOF
	consume --lines typed.in --publish-time $PT 2>/dev/null |
	    transform --format csv --meta message_id=mid \
	    --fields id:int64,name,price:double,ok:boolean,ts:timestamp,note:string |
	    deliver file://$TRASH/typed/ >/dev/null &&
	q "DESCRIBE SELECT * FROM read_csv(\"typed/public/**/*.csv.gz\", $CSV)" | cut -f1,2 >types &&
	printf "%s\\n" "mid	VARCHAR" "id	BIGINT" "name	VARCHAR" "price	DOUBLE" \
	    "ok	BOOLEAN" "ts	TIMESTAMP WITH TIME ZONE" "note	VARCHAR" >types.want &&
	test_cmp types.want types &&
	q "SELECT id, name, price, ok, ts, note, note IS NULL FROM read_csv(\"typed/public/**/*.csv.gz\", $CSV) ORDER BY id" >rows &&
	printf "%s\\n" \
	    "1	ann	2.5	true	2026-12-01 09:00:00.5+00		false" \
	    "2	bé \"q\", 中文	3	false	2025-11-27 00:00:00+00	x\\ny	false" \
	    "3	\\N	\\N	\\N	\\N	\\N	true" >rows.want &&
	test_cmp rows.want rows &&
	zcat typed/_errors/public/default/replay/*/*/*/*/*.jsonl.gz >rej &&
	grep -q "\"reason\":\"field id: \\\\\"nope\\\\\" is not an int64" rej
'

test_expect_success '--csv-delimiter: ; and tab, quoting what needs it' '
	cat >d.in <<-\EOF &&
	{"a":"x;y","b":"t\tu","c":"p,q"}
	EOF
	consume --lines d.in --publish-time $PT 2>/dev/null |
	    transform --compress none --format csv --meta none --fields a,b,c --csv-delimiter ";" >d.out &&
	sed -n 2,3p d.out >d.got &&
	printf "a;b;c\\r\\n%sx;y%s;t\\tu;p,q\\r\\n" "$DQ" "$DQ" >d.want &&
	test_cmp d.want d.got &&
	consume --lines d.in --publish-time $PT 2>/dev/null |
	    transform --compress none --format csv --meta none --fields a,b,c --csv-delimiter tab >d.out &&
	sed -n 3p d.out >d.got &&
	printf "x;y\\t%st\\tu%s\\tp,q\\r\\n" "$DQ" "$DQ" >d.want &&
	test_cmp d.want d.got &&
	test_expect_code 2 transform --check --format csv --csv-delimiter "\"" 2>err &&
	grep -q -- "--csv-delimiter" err &&
	test_expect_code 2 transform --check --csv-delimiter ab 2>err &&
	test_expect_code 2 transform --check --csv-delimiter 1 2>err
'

test_expect_success 'csv with zstd and none: .csv.zst and .csv keys, DuckDB reads them' '
	consume --lines input --publish-time $PT 2>/dev/null |
	    transform --format csv --compress zstd | deliver file://$TRASH/zst/ >/dev/null &&
	test -n "$(find zst -name "*.csv.zst")" &&
	q "SELECT message_id, payload_encoding, payload FROM read_csv(\"zst/**/*.csv.zst\", $CSV)" >zrows &&
	payloads zrows >zgot && test_cmp expect zgot &&
	consume --lines input --publish-time $PT 2>/dev/null |
	    transform --format csv --compress none | deliver file://$TRASH/plain/ >/dev/null &&
	test -n "$(find plain -name "*.csv")" &&
	q "SELECT count(*) FROM read_csv(\"plain/**/*.csv\", $CSV)" >n &&
	test "$(cat n)" = $N
'

test_done
