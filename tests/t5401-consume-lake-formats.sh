#!/bin/sh
# consume --lake over CSV and Parquet objects: the messages of t5400
# (keys, properties, event times, null messages, binary, empty and UTF-8
# payloads) through transform --format csv (every delimiter kind, every
# compression) and --format parquet (every page codec), stored by
# deliver, read back into the original frames; objects that lack the
# columns a message needs are named with the column.
. "$(dirname "$0")/test-lib.sh"
. "$TEST_DIRECTORY/lib-deliver.sh"
. "$TEST_DIRECTORY/lib-lake.sh"

test_expect_success 'setup: the messages' '
	make_frames in.frames
'

for c in none gzip zstd; do
	test_expect_success "csv, --compress $c: every message back" '
		lake in.frames file://$TRASH/csv-'$c'/ --format csv \
		    --compress '$c' &&
		test "$(find csv-'$c' -name "*.csv*" | wc -l)" -ge 14 &&
		restores_all csv-'$c' out.csv-'$c'
	'
done

test_expect_success 'csv: a tab, a semicolon, an underscore as delimiter' '
	for d in tab ";" _; do
		rm -rf csvd &&
		lake in.frames file://$TRASH/csvd/ --format csv \
		    --csv-delimiter "$d" &&
		consume --lake file://$TRASH/csvd/ >out.d &&
		test "$(same_messages in.frames out.d)" = 90 || return 1
	done
'

test_expect_success 'csv: columns in another order; keys without extension' '
	lake in.frames file://$TRASH/csvo/ --format csv --compress zstd \
	    --meta "redelivery_count,properties,event_time,publish_time,key,partition,topic,message_id" \
	    --key "{topic}/p{partition}/{first_id}" &&
	! find csvo -name "*.csv*" | grep . &&
	consume --lake file://$TRASH/csvo/ >out.o &&
	test "$(same_messages in.frames out.o)" = 90
'

printf "M 8 seq=1 id=1:0:-1:-1 topic=persistent://a/b/c pt=5\n{\"a\":12}\n" >f.frames
for f in csv parquet; do
	test_expect_success "$f written with --fields: no payload column, named" '
		lake f.frames file://$TRASH/f-'$f'/ --format '$f' \
		    --fields a:int64 &&
		k=$(cd f-'$f' && find . -type f | sed "s|^\./||") &&
		test_expect_code 1 consume --lake file://$TRASH/f-'$f'/ \
		    >out.f 2>err &&
		grep "level=warn.*cannot restore $k: no payload column (written with --fields?)" err &&
		test "$(grep -c "level=warn" err)" -eq 2 &&
		test ! -s out.f
	'
done

test_expect_success 'csv written with --meta: the column missing named' '
	lake f.frames file://$TRASH/csvm/ --format csv --meta message_id,topic,publish_time &&
	test_expect_code 1 consume --lake file://$TRASH/csvm/ >out.m 2>err &&
	grep "level=warn.*cannot restore .*: no key column (written with --meta?)" err
'

test_expect_success 'csv: a bad row named by its line, the rest restored' '
	mkdir -p csvb &&
	f=$(find csv-none -name "*.csv" | sort | head -1) &&
	{
		head -1 "$f" &&
		printf "1:9:-1:-1,persistent://a/b/c,-1,,not a time,,{},0,string,x\r\n" &&
		printf "1:10:-1:-1,persistent://a/b/c,-1,\"k\"\"\",2025-11-27T00:00:00.005Z,,\"{\"\"p\"\":\"\"q\"\"}\",0,json,\"{\"\"a\r\nb\"\":1}\"\r\n"
	} >csvb/x.csv &&
	test_expect_code 1 consume --lake file://$TRASH/csvb/ >out.b 2>err &&
	grep "level=warn.*x.csv: line 2: malformed record: publish_time: not a time" err &&
	test "$(grep -c "level=warn" err)" -eq 2 &&
	test "$(grep -ac "^M [0-9]* seq=" out.b)" -eq 1 &&
	grep -a "^M 10 seq=1 id=1:10:-1:-1 topic=persistent://a/b/c pt=1764201600005 key=k\" p.p=q$" out.b
'

test_expect_success 'csv: a quoted field without its end, named' '
	mkdir -p csvt &&
	f=$(find csv-none -name "*.csv" | sort | head -1) &&
	{ head -2 "$f" && printf "\"abc"; } >csvt/t.csv &&
	test_expect_code 1 consume --lake file://$TRASH/csvt/ >out.t 2>err &&
	grep "level=warn.*t.csv: a quoted field without its closing quote" err
'

for c in none snappy gzip zstd; do
	test_expect_success "parquet, --parquet-compression $c: every message back" '
		lake in.frames file://$TRASH/pq-'$c'/ --format parquet \
		    --parquet-compression '$c' &&
		test "$(find pq-'$c' -name "*.parquet" | wc -l)" -ge 14 &&
		restores_all pq-'$c' out.pq-'$c'
	'
done

test_expect_success 'parquet: one object of every message, restored again to the same bytes' '
	lake in.frames file://$TRASH/pq1/ --format parquet --max-messages 100 &&
	test "$(find pq1 -name "*.parquet" | wc -l)" -eq 4 &&
	consume --lake file://$TRASH/pq1/ >out.pq1 &&
	test "$(same_messages in.frames out.pq1)" = 90 &&
	lake out.pq1 file://$TRASH/pq1again/ --format parquet --max-messages 100 &&
	(cd pq1 && find . -type f | sort) >keys.1 &&
	(cd pq1again && find . -type f | sort) >keys.2 &&
	test_cmp keys.1 keys.2 &&
	while read -r k; do cmp "pq1/$k" "pq1again/$k" || return 1; done <keys.1
'

for f in parquet csv; do
	test_expect_success "$f, exactly-once: the index orders the objects" '
		test_timeout 60 consume --frames in.frames 2>c.err |
		transform --max-messages 7 --format '$f' 2>t.err |
		test_timeout 60 deliver --exactly-once \
		    file://$TRASH/eo-'$f'/ >acks 2>d.err &&
		deliver --index file://$TRASH/eo-'$f'/ >index &&
		test "$(grep -c " type=\(text/csv\|application/vnd.apache.parquet\)" index)" -ge 14 &&
		restores_all eo-'$f' out.eo
	'
done

test_expect_success 'parquet: a truncated object, one not Parquet: named, the rest restored' '
	mkdir -p pqt/a &&
	f=$(find pq-zstd -name "*.parquet" | sort | head -1) &&
	head -c 100 "$f" >pqt/a/t.parquet &&
	echo "not parquet" >pqt/a/n.parquet &&
	cp "$(find pq-zstd -name "*.parquet" | sort | sed -n 2p)" pqt/a/ok.parquet &&
	test_expect_code 1 consume --lake file://$TRASH/pqt/ >out.t 2>err &&
	grep "level=warn.*a/t.parquet: not a Parquet file: no PAR1 at its end (truncated?)" err &&
	grep "level=warn.*a/n.parquet: not a Parquet file" err &&
	test "$(grep -c "level=warn" err)" -eq 3 &&
	test "$(grep -ac "^M [0-9]* seq=" out.t)" -eq 7
'

# Parquet files of another writer: DuckDB's (tests/peers), its default
# (v1 pages, snappy, timestamps in microseconds) restored exactly; with
# v2 pages and DELTA encodings, one line naming what is not read.
test_expect_success 'parquet written by DuckDB: restored; its v2 format named' '
	mkdir -p dd dd2 &&
	node "$TEST_DIRECTORY/peers/lake-query.js" "COPY (SELECT * FROM
	    read_parquet('"'pq-none/**/*.parquet'"') ORDER BY topic,
	    split_part(message_id, '"':'"', 1)::BIGINT,
	    split_part(message_id, '"':'"', 2)::BIGINT,
	    split_part(message_id, '"':'"', 4)::BIGINT) TO '"'dd/all.parquet'"'" &&
	consume --lake file://$TRASH/dd/ >out.dd &&
	test "$(same_messages in.frames out.dd)" = 90 &&
	node "$TEST_DIRECTORY/peers/lake-query.js" "COPY (SELECT * FROM
	    read_parquet('"'pq-none/**/*.parquet'"')) TO '"'dd2/v2.parquet'"'
	    (FORMAT parquet, PARQUET_VERSION v2)" &&
	test_expect_code 1 consume --lake file://$TRASH/dd2/ >out.dd2 2>err &&
	grep "level=warn.*v2.parquet: column message_id: values of encoding DELTA_LENGTH_BYTE_ARRAY: not read" err &&
	test ! -s out.dd2
'

test_expect_success 'parquet: the spool is in TMPDIR, and gone afterwards' '
	mkdir -p spool &&
	TMPDIR=$TRASH/spool consume --lake file://$TRASH/pq-gzip/ >out.s &&
	test "$(same_messages in.frames out.s)" = 90 &&
	test -z "$(ls spool)" &&
	TMPDIR=$TRASH/no/such test_expect_code 1 consume --lake file://$TRASH/pq-gzip/ >out.s 2>err &&
	grep "level=warn.*cannot spool the Parquet object: .*/no/such/" err
'

test_expect_success '--topic: one partition of a Parquet lake, one topic of a CSV lake' '
	consume --lake file://$TRASH/pq-snappy/ --topic tn/ns/orders-partition-1 >out.1 &&
	test "$(grep -ac "^M [0-9]* seq=.* id=[0-9]*:[0-9]*:1:" out.1)" -eq \
	    "$(grep -ac "^M [0-9]* seq=.* id=[0-9]*:[0-9]*:1:" in.frames)" &&
	! grep -a "orders-partition-[02]\|topic=persistent://public" out.1 &&
	consume --lake file://$TRASH/csv-gzip/ --topic public/default/plain >out.p &&
	test "$(grep -ac "^M [0-9]* seq=" out.p)" -eq \
	    "$(grep -ac "^M [0-9]* seq=.* id=[0-9]*:[0-9]*:-1:" in.frames)" &&
	! grep -a "orders" out.p
'

s3_start --bucket lake-test --region eu-west-1
export AWS_ACCESS_KEY_ID=$TEST_ID AWS_SECRET_ACCESS_KEY=$TEST_KEY
unset AWS_SESSION_TOKEN

for f in "csv --compress zstd" "parquet --parquet-compression zstd"; do
	test_expect_success "s3://, --format $f: stored and restored through the test server" '
		S3="s3://lake-test/'"${f%% *}"'/?region=eu-west-1" &&
		test_timeout 60 consume --frames in.frames 2>c.err |
		transform --max-messages 7 --format '"$f"' 2>t.err |
		test_timeout 60 deliver --endpoint http://127.0.0.1:$PORT \
		    --path-style "$S3" >acks 2>d.err &&
		test "$(wc -l <acks)" -ge 14 &&
		test_timeout 60 consume --lake "$S3" \
		    --deliver-option=--endpoint=http://127.0.0.1:$PORT \
		    --deliver-option=--path-style >out.s3 2>err &&
		test "$(same_messages in.frames out.s3)" = 90 &&
		ids_ascending out.s3
	'
done

test_done
