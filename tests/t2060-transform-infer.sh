#!/bin/sh
# transform --fields auto: the payload columns inferred from each
# partition's records, with the promotion rule of transform(1): a schema
# only widens (a new member a new column, int64 to double, any other
# conflict to string), and a record that does not fit closes the object
# (why=schema) so that the next one has the widened schema.  DuckDB and
# hyparquet read the objects back; rejects go to _errors/.
. "$(dirname "$0")/test-lib.sh"
. "$TEST_DIRECTORY/lib-transform.sh"

PT=1764201600000
READ="node $PEERS/parquet-read.js"

# objects FRAMES: the data O frames' headers (no rejects)
objects() {
	grep -a "^O " "$1" | grep -v " key=_errors/"
}

# field NAME: the NAME= field of each header line on stdin
field() {
	sed -n "s/.* $1=\([^ ]*\).*/\1/p"
}

cat >input <<'EOF_IN'
{"id":1,"name":"ann","price":2.5,"ok":true,"tags":["a", "b"],"gone":null}
{"id":2,"name":"bé \"q\" 中文","price":3,"ok":false}
{"price":-0.125,"ok":true,"id":3,"name":null,"tags":{"k":1}}
EOF_IN

for f in parquet csv
do
	test_expect_success "$f: one object, the schema inferred" '
		consume --lines input --publish-time $PT 2>/dev/null |
		    transform --format $f --fields auto --meta message_id \
		    --compress none >frames.$f &&
		seqs_once frames.$f 3 &&
		objects frames.$f >data &&
		test $(wc -l <data) = 1 &&
		echo "message_id:string,id:int64,name:string,price:double,ok:boolean,tags:json" >schema.want &&
		field schema <data >schema &&
		test_cmp schema.want schema &&
		deliver file://$TRASH/lake.$f/ <frames.$f >acks &&
		test $(wc -l <acks) = 1
	'
done

P="read_parquet('lake.parquet/**/*.parquet')"
CSV="read_csv('lake.csv/**/*.csv', header=true, allow_quoted_nulls=false)"

test_expect_success 'DuckDB: column names and types (Parquet, CSV)' '
	printf "%s\\n" "message_id	VARCHAR" "id	BIGINT" "name	VARCHAR" \
	    "price	DOUBLE" "ok	BOOLEAN" "tags	VARCHAR" >types.want &&
	q "DESCRIBE SELECT * FROM $P" | cut -f1,2 >types &&
	test_cmp types.want types &&
	q "DESCRIBE SELECT * FROM $CSV" | cut -f1,2 >types &&
	test_cmp types.want types
'

test_expect_success 'DuckDB: values and nulls for missing and null members' '
	printf "%s\\n" \
	    "1	ann	2.5	true	[\"a\",\"b\"]" \
	    "2	bé \"q\" 中文	3	false	\\N" \
	    "3	\\N	-0.125	true	{\"k\":1}" >rows.want &&
	for src in "$P" "$CSV"
	do
		q "SELECT id, name, price, ok, tags FROM $src ORDER BY id" \
		    >rows &&
		test_cmp rows.want rows || return 1
	done
'

cat >amounts <<'EOF_IN'
{"k":1,"amount":10}
{"k":2,"amount":-20}
{"k":3,"amount":2.5}
{"k":4,"amount":3}
{"k":5,"amount":"n/a"}
{"k":6,"amount":7}
{"k":7,"amount":false}
EOF_IN

test_expect_success 'int64, then 2.5, then "n/a": three objects, why=schema' '
	consume --lines amounts --publish-time $PT 2>/dev/null |
	    transform -v --format parquet --fields auto --meta none \
	    >frames 2>err &&
	seqs_once frames 7 &&
	objects frames >data &&
	test $(wc -l <data) = 3 &&
	field seqs <data >seqs &&
	printf "%s\\n" 1-2 3-4 5-7 >seqs.want &&
	test_cmp seqs.want seqs &&
	field schema <data >schema &&
	printf "%s\\n" k:int64,amount:int64 k:int64,amount:double \
	    k:int64,amount:string >schema.want &&
	test_cmp schema.want schema &&
	test $(grep -c "msg=\"object\" .* why=schema" err) = 2 &&
	deliver file://$TRASH/lake.amounts/ <frames >acks &&
	test $(wc -l <acks) = 3
'

test_expect_success 'each object read back: its types, its records in order' '
	ls lake.amounts/public/default/replay/2025/11/27/00/*.parquet >files &&
	test $(wc -l <files) = 3 &&
	set -- $(cat files) &&
	q "SELECT typeof(amount), k, amount FROM read_parquet(\"$1\")" >r1 &&
	printf "%s\\n" "BIGINT	1	10" "BIGINT	2	-20" >r1.want &&
	test_cmp r1.want r1 &&
	q "SELECT typeof(amount), k, amount FROM read_parquet(\"$2\")" >r2 &&
	printf "%s\\n" "DOUBLE	3	2.5" "DOUBLE	4	3" >r2.want &&
	test_cmp r2.want r2 &&
	q "SELECT typeof(amount), k, amount FROM read_parquet(\"$3\")" >r3 &&
	printf "%s\\n" "VARCHAR	5	n/a" "VARCHAR	6	7" "VARCHAR	7	false" \
	    >r3.want &&
	test_cmp r3.want r3
'

test_expect_success 'DuckDB union_by_name reads every record of the three' '
	q "SELECT k, amount FROM read_parquet(\"lake.amounts/**/*.parquet\",
	    union_by_name = true) ORDER BY k" >all &&
	printf "%s\\n" "1	10" "2	-20" "3	2.5" "4	3.0" "5	n/a" "6	7" \
	    "7	false" >all.want &&
	test_cmp all.want all
'

test_expect_success 'hyparquet agrees with DuckDB on the double object' '
	set -- $(cat files) &&
	$READ hyparquet "$2" >hy &&
	$READ duckdb "$2" >dd &&
	test_cmp dd hy &&
	head -n 1 hy >cols &&
	printf "k:int64?\\tamount:double?\\n" >cols.want &&
	test_cmp cols.want cols
'

cat >later <<'EOF_IN'
{"a":1,"b":null}
{"a":2}
{"a":3,"b":5}
{"a":4,"b":6,"c":"x"}
{"c":"y","b":7,"a":5}
EOF_IN

test_expect_success 'a new member, one null at first: new columns later' '
	consume --lines later --publish-time $PT 2>/dev/null |
	    transform --format csv --fields auto --meta none --compress none \
	    >frames &&
	seqs_once frames 5 &&
	objects frames >data &&
	field schema <data >schema &&
	printf "%s\\n" a:int64 a:int64,b:int64 a:int64,b:int64,c:string \
	    >schema.want &&
	test_cmp schema.want schema &&
	field seqs <data >seqs &&
	printf "%s\\n" 1-2 3 4-5 >seqs.want &&
	test_cmp seqs.want seqs &&
	grep -a -A3 " seqs=4-5 " frames | tr -d "\\r" >last &&
	printf "%s\\n" a,b,c 4,6,x 5,7,y >last.want &&
	tail -n 3 last | test_cmp last.want -
'

test_expect_success 'a member named twice: its first non-null value' '
	printf "%s\\n" "{\"a\":1,\"a\":2}" "{\"a\":null,\"a\":3}" >twice &&
	consume --lines twice --publish-time $PT 2>/dev/null |
	    transform --format jsonl --fields auto --meta none \
	    --compress none >frames &&
	grep -a "^{" frames >rows &&
	printf "%s\\n" "{\"a\":1}" "{\"a\":3}" >rows.want &&
	test_cmp rows.want rows
'

test_expect_success 'member names: escapes decoded, --name-separator applied' '
	printf "%s\\n" "{\"a\\u00e9\":1,\"x.y\":true,\"q\\\"\":\"s\"}" >names &&
	consume --lines names --publish-time $PT 2>/dev/null |
	    transform --format csv --fields auto --meta none \
	    --name-separator _ --compress none >frames &&
	objects frames | field schema >schema &&
	echo "aé:int64,x_y:boolean,q\":string" >schema.want &&
	test_cmp schema.want schema
'

# Two partitions of one topic, interleaved: "amount" an int64 in
# partition 0, a string in partition 1.
python3 - <<'PY'
out = open("parts", "wb")
for i in range(8):
    p = i % 2
    body = b'{"k":%d,"amount":%s}' % (i, b"%d" % i if p == 0 else b'"s%d"' % i)
    out.write(b"M %d seq=%d id=%d:%d:%d:-1 topic=persistent://t/ns/o-partition-%d "
        b"pt=%d\n" % (len(body), i + 1, 10 + p, i, p, p, 1764201600000 + i))
    out.write(body + b"\n")
PY

test_expect_success 'each partition has its own schema; --max-open 1 starts anew' '
	transform -v --format csv --fields auto --meta partition \
	    --compress none <parts >frames 2>err &&
	seqs_once frames 8 &&
	! grep -q "why=schema" err &&
	objects frames | sort | field schema >schema &&
	printf "%s\\n" partition:int64,k:int64,amount:int64 \
	    partition:int64,k:int64,amount:string >schema.want &&
	test_cmp schema.want schema &&
	transform --format csv --fields auto --meta partition --max-open 1 \
	    --compress none <parts >frames &&
	seqs_once frames 8 &&
	objects frames | field schema | sort | uniq -c >schema &&
	printf "%s\\n" "      4 partition:int64,k:int64,amount:int64" \
	    "      4 partition:int64,k:int64,amount:string" >schema.want &&
	test_cmp schema.want schema
'

test_expect_success 'widening in threads: the same files as without' '
	python3 -c "
for i in range(30000):
    a = i if i < 10000 else i + 0.5 if i < 20000 else \"a%d\" % i
    print(\"{\\\"k\\\":%d,\\\"note\\\":\\\"%s\\\",\\\"amount\\\":%s}\" %
        (i, \"x\" * (i % 97), a if isinstance(a, str) is False else
        \"\\\"%s\\\"\" % a))
" >many &&
	consume --lines many --publish-time $PT 2>/dev/null >many.frames &&
	transform -v --threads 0 --format parquet --fields auto \
	    --parquet-compression zstd --parquet-row-group 64k \
	    <many.frames >out.0 2>err &&
	test $(grep -c "why=schema" err) = 2 &&
	transform --threads 2 --format parquet --fields auto \
	    --parquet-compression zstd --parquet-row-group 64k \
	    <many.frames >out.2 &&
	test_cmp out.0 out.2
'

test_expect_success 'payloads that are not JSON objects go to the reject stream' '
	printf "%s\\n" "{\"a\":1}" "[1,2]" "not json" "\"text\"" "{\"a\":2}" >mixed &&
	consume --lines mixed --publish-time $PT 2>/dev/null |
	    transform --format jsonl --fields auto --meta none \
	    --compress none >frames &&
	seqs_once frames 5 &&
	grep -a "^O .* key=_errors/" frames >rej &&
	test $(wc -l <rej) = 1 && grep -q " seqs=2-4 " rej &&
	grep -a "\"reason\":" frames >reasons &&
	test $(grep -c "\"reason\":\"payload is not a JSON object (--fields auto)\"" reasons) = 3 &&
	grep -a "^{\"a\":" frames >rows &&
	printf "%s\\n" "{\"a\":1}" "{\"a\":2}" >rows.want &&
	test_cmp rows.want rows
'

test_expect_success 'at most 256 inferred columns; a member more is a reject' '
	python3 -c "
import json
print(json.dumps({\"m%d\" % i: i for i in range(256)}))
print(json.dumps({\"m%d\" % i: i for i in range(257)}))
print(json.dumps({\"x\": 1}))
" >wide &&
	consume --lines wide --publish-time $PT 2>/dev/null |
	    transform --format parquet --fields auto --meta none \
	    --compress none >frames &&
	seqs_once frames 3 &&
	objects frames >data &&
	test $(wc -l <data) = 1 && grep -q " seqs=1 " data &&
	field schema <data | tr , "\\n" >cols &&
	test $(wc -l <cols) = 256 &&
	grep -a "^O .* key=_errors/" frames >rej &&
	grep -q " seqs=2-3 " rej &&
	grep -a -c "\"reason\":\"payload has more than 256 members" frames >n &&
	echo 1 >n.want && test_cmp n.want n &&
	grep -a -c "\"reason\":\"member x would be inferred column 257" frames >n &&
	test_cmp n.want n
'

test_expect_success 'a member named as a metadata column is a reject' '
	echo "{\"topic\":1,\"v\":2}" >clash &&
	consume --lines clash --publish-time $PT 2>/dev/null |
	    transform --format csv --fields auto --meta topic \
	    --compress none >frames &&
	grep -a "^O .* key=_errors/" frames >rej &&
	grep -a -q "\"reason\":\"member topic: the schema has a column topic already" frames
'

test_expect_success '--fields auto with other items: exit 2, a clear line' '
	test_expect_code 2 transform --fields auto,x </dev/null 2>err &&
	grep -q -- "--fields auto stands alone" err &&
	test_expect_code 2 transform --fields x,auto </dev/null 2>err &&
	grep -q -- "--fields auto stands alone" err
'

test_done
