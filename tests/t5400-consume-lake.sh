#!/bin/sh
# consume --lake: a lake written by the real pipeline (consume | transform
# | deliver, gzip and zstd, several objects and partitions, file:// and
# s3:// through the test server) read back into message frames, compared
# with the original frames field by field and payload byte by byte by a
# python3 reader that shares no code with consume.
. "$(dirname "$0")/test-lib.sh"
. "$TEST_DIRECTORY/lib-deliver.sh"
. "$TEST_DIRECTORY/lib-lake.sh"

test_expect_success 'setup: a lake of gzip objects, one of zstd objects' '
	make_frames in.frames &&
	lake in.frames file://$TRASH/gz/ &&
	mv objs.frames objs.gz &&
	lake in.frames file://$TRASH/zst/ --compress zstd &&
	test "$(find gz -name "*.jsonl.gz" | wc -l)" -ge 14 &&
	test "$(find zst -name "*.jsonl.zst" | wc -l)" -ge 14 &&
	test "$(find gz -path "*/tn/ns/orders/*" | wc -l)" -ge 12
'

test_expect_success 'gzip lake: every message back, fields and payloads exact' '
	test_timeout 60 consume --lake file://$TRASH/gz/ >out.gz 2>err &&
	test "$(same_messages in.frames out.gz)" = 90 &&
	ids_ascending out.gz &&
	! grep -v "level=info\|level=debug" err
'

test_expect_success 'zstd lake: the same' '
	test_timeout 60 consume --lake file://$TRASH/zst/ >out.zst &&
	test "$(same_messages in.frames out.zst)" = 90 &&
	ids_ascending out.zst
'

# index_of OBJECTS EVERY: the deliver --index lines of every EVERY-th
# object frame of the file OBJECTS (what deliver --exactly-once indexes).
index_of() {
	python3 - "$1" "$2" <<-\EOF
	import gzip, json, sys
	d = open(sys.argv[1], "rb").read()
	i = n = 0
	while i < len(d):
	    j = d.index(b"\n", i)
	    t = d[i:j].decode().split(" ")
	    ln = int(t[1])
	    f = dict(x.split("=", 1) for x in t[2:])
	    rec = json.loads(gzip.decompress(d[j + 1:j + 1 + ln]).split(b"\n")[0])
	    if n % int(sys.argv[2]) == 0:
	        print("I key=%s topic=%s partition=%d first=%s last=%s n=%s "
	            "size=%d enc=%s type=%s" % (f["key"], rec["topic"],
	            rec["partition"], f["first"], f["last"], f["n"], ln,
	            f["enc"], f["type"]))
	    n += 1
	    i = j + 2 + ln
	EOF
}

# A deliver with --index: the build's, but --index prints index.lines.
fake_deliver() {
	cat >fake-deliver <<-EOF &&
	#!/bin/sh
	echo "\$*" >>"$TRASH/calls"
	case " \$* " in
	*" --list-options "*) "$LAKEPIPE_BUILD/deliver/deliver" --list-options &&
		echo index ;;
	*" --index "*) cat "$TRASH/index.lines" ;;
	*) exec "$LAKEPIPE_BUILD/deliver/deliver" "\$@" ;;
	esac
	EOF
	chmod +x fake-deliver
}

test_expect_success 'with deliver --index: no first record read for what it names' '
	fake_deliver &&
	nobj=$(find gz -type f | wc -l) &&
	index_of objs.gz 1 >index.lines &&
	test "$(wc -l <index.lines)" -eq $nobj &&
	rm -f calls &&
	consume --lake file://$TRASH/gz/ --deliver ./fake-deliver >out.ix &&
	test "$(same_messages in.frames out.ix)" = 90 &&
	test "$(grep -c -- "--cat" calls)" -eq $nobj &&
	index_of objs.gz 3 >index.lines &&
	nix=$(wc -l <index.lines) &&
	rm -f calls &&
	consume --lake file://$TRASH/gz/ --deliver ./fake-deliver >out.ix &&
	test "$(same_messages in.frames out.ix)" = 90 &&
	test "$(grep -c -- "--cat" calls)" -eq $((2 * nobj - nix))
'

test_expect_success 'an exactly-once lake: the real deliver --index orders it' '
	cat >log-deliver <<-EOF &&
	#!/bin/sh
	echo "\$*" >>"$TRASH/calls"
	exec "$LAKEPIPE_BUILD/deliver/deliver" "\$@"
	EOF
	chmod +x log-deliver &&
	test_timeout 60 consume --frames in.frames 2>c.err |
	transform --max-messages 7 2>t.err |
	test_timeout 60 deliver --exactly-once file://$TRASH/eo/ >acks 2>d.err &&
	nobj=$(find eo -name "*.jsonl.gz" | wc -l) &&
	test "$(deliver --index file://$TRASH/eo/ | wc -l)" -eq $nobj &&
	rm -f calls &&
	consume --lake file://$TRASH/eo/ --deliver ./log-deliver >out.eo &&
	test "$(same_messages in.frames out.eo)" = 90 &&
	ids_ascending out.eo &&
	grep -q -- "^--index file://" calls &&
	test "$(grep -c -- "^--cat " calls)" -eq $nobj
'

test_expect_success 'an indexed object that is gone: named, the rest restored, exit 1' '
	cp -R eo eo2 &&
	gone=$(cd eo2 && find . -path "*orders*" -name "*.jsonl.gz" | sort | sed -n "2s|^\./||p") &&
	rm "eo2/$gone" &&
	: >eo2/_lakepipe/damaged &&
	test_expect_code 1 consume --lake file://$TRASH/eo2/ >out.eo2 2>err &&
	grep "level=warn.*$gone: in the index but not stored" err &&
	{ test "$(grep -c "level=warn" err)" -eq 2 || { cat err; false; }; } &&
	n=$(grep -ac "^M [0-9]* seq=" out.eo2) &&
	{ test $n -eq $((90 - $(zcat "eo/$gone" | wc -l))) ||
	    { echo "$n messages restored"; cat err; false; }; }
'

test_expect_success 'a restored lake stored again gives the same objects, byte for byte' '
	lake out.gz file://$TRASH/again/ &&
	(cd gz && find . -type f | sort) >keys.gz &&
	(cd again && find . -type f | sort) >keys.again &&
	test_cmp keys.gz keys.again &&
	while read -r k; do cmp "gz/$k" "again/$k" || return 1; done <keys.gz
'

test_expect_success '--topic: one topic, all its partitions; a partition alone' '
	consume --lake file://$TRASH/gz/ --topic tn/ns/orders >out.t &&
	test "$(grep -ac "^M [0-9]* seq=.* topic=persistent://tn/ns/orders-partition-" out.t)" -gt 0 &&
	! grep -a "topic=persistent://public" out.t &&
	consume --lake file://$TRASH/gz/ --topic persistent://public/default/plain >out.p &&
	test "$(grep -ac "^M [0-9]* seq=.* id=[0-9]*:[0-9]*:-1:" out.p)" -eq \
	    "$(grep -ac "^M [0-9]* seq=.* id=[0-9]*:[0-9]*:-1:" in.frames)" &&
	consume --lake file://$TRASH/zst/ --topic tn/ns/orders-partition-1 >out.1 &&
	test "$(grep -ac "^M [0-9]* seq=.* id=[0-9]*:[0-9]*:1:" out.1)" -eq \
	    "$(grep -ac "^M [0-9]* seq=.* id=[0-9]*:[0-9]*:1:" in.frames)" &&
	! grep -a "orders-partition-[02]" out.1
'

test_expect_success 'keys without an extension: the magic number says' '
	lake in.frames file://$TRASH/noext/ --compress zstd \
	    --key "{topic}/p{partition}/{first_id}" &&
	! find noext -name "*.zst" | grep . &&
	consume --lake file://$TRASH/noext/ >out.noext &&
	test "$(same_messages in.frames out.noext)" = 90 &&
	lake in.frames file://$TRASH/plain/ --compress none &&
	consume --lake file://$TRASH/plain/ >out.plain &&
	test "$(same_messages in.frames out.plain)" = 90
'

test_expect_success 'a raw object: one warning naming it, the rest restored, exit 1' '
	cp -R gz mixed &&
	printf "M 3 seq=1 id=11:0:-1:-1 topic=persistent://public/default/raw pt=1\nabc\n" >raw.frames &&
	lake raw.frames file://$TRASH/mixed/ --format raw &&
	rawkey=$(cd mixed && find . -name "*.txt.gz" | sed "s|^\./||") &&
	test -n "$rawkey" &&
	test_expect_code 1 consume --lake file://$TRASH/mixed/ >out.m 2>err &&
	grep "level=warn.*$rawkey.*raw" err &&
	test "$(grep -c "level=warn" err)" -eq 2 &&
	test "$(same_messages in.frames out.m)" = 90
'

test_expect_success 'a malformed record: its key and line number, the others restored, exit 1' '
	mkdir -p bad/x &&
	{
		zcat "$(find gz -path "*orders*" -name "*.gz" | sort | head -1)" | head -2 &&
		echo "{\"message_id\":\"1:2:3\",\"topic\":\"t\"}" &&
		echo "{\"message_id\":\"1:9:-1:-1\",\"topic\":\"persistent://a/b/c\",\"publish_time_ms\":5,\"payload_encoding\":\"string\",\"payload_size\":3,\"payload\":\"abcd\"}" &&
		echo "{\"message_id\":\"1:10:-1:-1\",\"topic\":\"persistent://a/b/c\",\"publish_time_ms\":6,\"payload_encoding\":\"json\",\"payload_size\":2,\"payload\":{}}"
	} | gzip >bad/x/1.jsonl.gz &&
	test_expect_code 1 consume --lake file://$TRASH/bad/ >out.bad 2>err &&
	grep "level=warn.*x/1.jsonl.gz: line 3: malformed record" err &&
	grep "level=warn.*x/1.jsonl.gz: line 4: malformed record: payload: not payload_size bytes" err &&
	test "$(grep -c "level=warn" err)" -eq 3 &&
	test "$(grep -ac "^M [0-9]* seq=" out.bad)" -eq 3 &&
	grep -a "^M 2 seq=3 id=1:10:-1:-1 topic=persistent://a/b/c pt=6$" out.bad
'

test_expect_success 'not a JSON lines object, many bad records: said once, skipped' '
	mkdir -p junk/notes &&
	seq 1 500 >junk/notes/README &&
	{
		zcat "$(find gz -name "*.gz" | sort | head -1)" | head -1 &&
		seq 1 100
	} >junk/bad.jsonl &&
	test_expect_code 1 consume --lake file://$TRASH/junk/ >out.j 2>err &&
	grep "level=warn.*notes/README: line 1: malformed record: .*skipped" err &&
	grep "level=warn.*bad.jsonl: line 21: malformed" err &&
	grep "level=warn.*bad.jsonl: 20 malformed records: the rest skipped" err &&
	test "$(grep -c "level=warn" err)" -eq 23 &&
	test "$(grep -ac "^M [0-9]* seq=" out.j)" -eq 1
'

test_expect_success 'a truncated object: named, exit 1' '
	mkdir -p trunc &&
	f=$(find gz -name "*.gz" | sort | head -1) &&
	head -c $(($(wc -c <"$f") - 9)) "$f" >trunc/t.jsonl.gz &&
	test_expect_code 1 consume --lake file://$TRASH/trunc/ >out.tr 2>err &&
	grep "level=warn.*t.jsonl.gz: truncated gzip data" err
'

test_expect_success 'an empty or missing lake: nothing, exit 0' '
	mkdir empty &&
	consume --lake file://$TRASH/empty/ >out.e &&
	test ! -s out.e &&
	consume --lake file://$TRASH/nowhere/ >out.e &&
	test ! -s out.e
'

test_expect_success 'the deliver program: --deliver, or beside consume (installed)' '
	test_expect_code 2 consume --lake file://$TRASH/gz/ --deliver no-such-deliver \
	    >out.x 2>err &&
	grep "level=error.*no-such-deliver" err && test_one_line err &&
	test_expect_code 2 consume --lake file://$TRASH/gz/ --deliver ./no/such \
	    >out.x 2>err && test_one_line err &&
	mkdir -p inst &&
	cp "$LAKEPIPE_BUILD/consume/consume" inst/lakepipe-consume &&
	printf "#!/bin/sh\necho used >>%s/inst/used\nexec %s \"\$@\"\n" \
	    "$TRASH" "$LAKEPIPE_BUILD/deliver/deliver" >inst/lakepipe-deliver &&
	chmod +x inst/lakepipe-deliver &&
	PATH=/usr/bin:/bin inst/lakepipe-consume --lake file://$TRASH/zst/ >out.i &&
	test -s inst/used &&
	test "$(same_messages in.frames out.i)" = 90
'

test_expect_success 'standard output closed early: one line, exit 1' '
	{ consume --lake file://$TRASH/gz/ 2>err; echo $? >rc; } | head -c 100 >/dev/null &&
	test "$(cat rc)" = 1 &&
	grep "level=warn.*stdout closed" err &&
	test "$(grep -c "level=warn\|level=error" err)" -eq 1
'

test_expect_success 'usage errors exit 2 with one line' '
	test_expect_code 2 consume --lake file://x/ --url pulsar://h:1 2>err &&
	test_one_line err &&
	test_expect_code 2 consume --lake file://x/ --lines in.frames 2>err &&
	test_one_line err &&
	test_expect_code 2 consume --lake file://x/ --exactly-once file://x/ \
	    2>err &&
	test_one_line err &&
	test_expect_code 2 consume --lines in.frames --deliver-option=-v 2>err &&
	test_one_line err &&
	test_expect_code 2 consume --lake "" 2>err && test_one_line err &&
	test_expect_code 2 consume --lake foo://x 2>err && test_one_line err &&
	test_expect_code 2 consume --lake file://$TRASH/gz/ \
	    --deliver-option=--no-such 2>err && test_one_line err &&
	consume --lake file://$TRASH/gz/ --check >out.c && test ! -s out.c &&
	consume --list-options | grep -x "lake=" &&
	consume --list-options | grep -x "deliver-option=" &&
	consume --help | grep -q -- "--lake DESTINATION"
'

COSB=examplebucket-1250000000
s3_start --bucket lake-test --bucket $COSB --region eu-west-1
export AWS_ACCESS_KEY_ID=$TEST_ID AWS_SECRET_ACCESS_KEY=$TEST_KEY
unset AWS_SESSION_TOKEN

test_expect_success 's3://: stored through the test server, restored through it' '
	S3="s3://lake-test/restore/?region=eu-west-1" &&
	test_timeout 60 consume --frames in.frames 2>c.err |
	transform --max-messages 7 --compress zstd 2>t.err |
	test_timeout 60 deliver --endpoint http://127.0.0.1:$PORT --path-style \
	    "$S3" >acks 2>d.err &&
	test "$(wc -l <acks)" -ge 14 &&
	test_timeout 60 consume --lake "$S3" \
	    --deliver-option=--endpoint=http://127.0.0.1:$PORT \
	    --deliver-option=--path-style >out.s3 2>err &&
	test "$(same_messages in.frames out.s3)" = 90 &&
	! grep "$TEST_KEY" err
'

test_expect_success 'cos://: restored through the test server' '
	COS="cos://$COSB/restore/?region=eu-west-1" &&
	EP=--endpoint=http://cos.eu-west-1.localhost:$PORT &&
	export TENCENTCLOUD_SECRET_ID=$TEST_ID TENCENTCLOUD_SECRET_KEY=$TEST_KEY &&
	test_timeout 60 consume --frames in.frames 2>c.err |
	transform --max-messages 7 2>t.err |
	test_timeout 60 deliver $EP "$COS" >acks 2>d.err &&
	test "$(wc -l <acks)" -ge 14 &&
	test_timeout 60 consume --lake "$COS" --deliver-option=$EP >out.cos 2>err &&
	test "$(same_messages in.frames out.cos)" = 90 &&
	ids_ascending out.cos &&
	! grep "$TEST_KEY" err
'

S3EO="s3://lake-test/eo/?region=eu-west-1"
test_expect_success 's3://, exactly-once: stored with its index' '
	test_timeout 60 consume --frames in.frames 2>c.err |
	transform --max-messages 7 2>t.err |
	test_timeout 60 deliver --endpoint=http://127.0.0.1:$PORT --path-style \
	    --exactly-once "$S3EO" >acks.s3eo 2>d.err &&
	test "$(wc -l <acks.s3eo)" -ge 14
'

# deliver --index over s3:// reads each index entry; a deliver whose
# remote reads of entries fail cannot give the order (deliver's matter).
if deliver --endpoint=http://127.0.0.1:$PORT --path-style --index "$S3EO" \
    >index.s3eo 2>index.err && test -s index.s3eo; then
	test_expect_success 's3://, exactly-once: restored in the order of the index' '
		test "$(wc -l <index.s3eo)" -eq "$(wc -l <acks.s3eo)" &&
		test_timeout 60 consume --lake "$S3EO" \
		    --deliver-option=--endpoint=http://127.0.0.1:$PORT \
		    --deliver-option=--path-style >out.s3eo 2>err &&
		test "$(same_messages in.frames out.s3eo)" = 90 &&
		ids_ascending out.s3eo
	'
else
	test_skip 's3://, exactly-once: restored in the order of the index' \
	    "deliver --index fails on s3://: $(head -1 index.err | cut -c1-120)"
fi

test_expect_success 's3://: bad credentials fail, exit 1' '
	AWS_SECRET_ACCESS_KEY=wrong test_expect_code 1 test_timeout 60 \
	    consume --lake "s3://lake-test/restore/?region=eu-west-1" \
	    --deliver-option=--endpoint=http://127.0.0.1:$PORT \
	    --deliver-option=--path-style >out.s3b 2>err &&
	test ! -s out.s3b
'

test_done
