#!/bin/sh
# Exactly once (lakepipe(1)): deliver --exactly-once (no-overwrite writes,
# the index, conflicts), deliver --index and --audit (a clean lake, then a
# damaged, a deleted and a doubled object), the roll-forward of a dead
# writer's index entry, the same through the S3 and COS test server; and
# against the Pulsar test broker: a run that stored objects cut inside
# batch entries but acknowledged nothing is killed, a second run cutting
# elsewhere skips what is stored and ends with every message in the lake
# once, the backlog 0 and the audit clean.
. "$(dirname "$0")/test-lib.sh"
. "$TEST_DIRECTORY/lib-deliver.sh"
. "$TEST_DIRECTORY/lib-lakepipe.sh"

TOPIC=persistent://public/default/t
C="consume --lines $SRC/sample/messages.jsonl --topic $TOPIC --publish-time 1796121481626"
L=file://$TRASH/lake/

# records DIR: the message ids of every record of the lake, one a line
records() {
	find "$1" -path "$1/_lakepipe" -prune -o -type f -name '*.gz' -print |
	    xargs -r zcat | sed 's/^{"message_id":"\([^"]*\)".*/\1/'
}

test_expect_success 'file://: objects, one index entry each, the audit clean' '
	$C | transform --max-messages 500 |
	    deliver --exactly-once "$L" >acks 2>err &&
	test $(wc -l <acks) -eq 4 &&
	deliver --index "$L" >index &&
	test $(grep -c "^I key=public/default/t/" index) -eq 4 &&
	grep -q " first=110002357537655:501:-1:-1 last=110002357537655:1000:-1:-1 prev=110002357537655:500:-1:-1 n=500 " index &&
	test $(find lake/_lakepipe/index -type f | wc -l) -eq 4 &&
	deliver --audit "$L" >audit &&
	grep -q "^audit: 4 objects, 2000 messages, 1 partitions; 0 gaps, 0 overlaps, 0 missing, 0 damaged; 0 unindexed$" audit
'

test_expect_success 'a Parquet object'"'"'s manifest holds its schema, --fields types included' '
	$C | transform --format parquet --max-messages 1000 \
	    --meta message_id,publish_time=pt --fields "a.b=x:int64,c,d:timestamp" |
	    deliver --exactly-once "file://$TRASH/pq/" >/dev/null &&
	deliver --index "file://$TRASH/pq/" >pq.index &&
	n=$(grep -c "^I key=public/.*\.parquet " pq.index) &&
	test $n -gt 1 &&
	test $(grep -c " type=application/vnd.apache.parquet schema=message_id:string,pt:timestamp,x:int64,c:json,d:timestamp$" pq.index) -eq $n &&
	# the reject stream has no columns
	grep "^I key=_errors/" pq.index >rejects.index &&
	! grep -q " schema=" rejects.index &&
	$C | transform --format csv --max-messages 2000 |
	    deliver --exactly-once "file://$TRASH/csv/" >/dev/null &&
	deliver --index "file://$TRASH/csv/" | grep " schema=message_id:string,topic:string,partition:int64,key:string,publish_time:timestamp,event_time:timestamp,properties:json,redelivery_count:int64,payload_encoding:string,payload:string$" &&
	deliver --audit "file://$TRASH/pq/"
'

test_expect_success 'the same cut again: already stored, acked, nothing replaced' '
	ls -li lake/public/default/t/*/*/*/*/ >before &&
	$C | transform --max-messages 500 |
	    deliver --exactly-once "$L" >acks2 2>err2 &&
	test $(wc -l <acks2) -eq 4 &&
	test $(grep -c "msg=\"already stored\"" err2) -eq 4 &&
	ls -li lake/public/default/t/*/*/*/*/ >after &&
	test_cmp before after
'

test_expect_success 'another cut of the same first message: a conflict, one line, nothing acked' '
	$C | transform --max-messages 300 >cut300.frames &&
	test_expect_code 1 deliver --exactly-once "$L" <cut300.frames >acks3 2>err3 &&
	test ! -s acks3 &&
	grep -v " level=info " err3 >err3.lines &&
	test_one_line err3.lines &&
	grep -q "exists and holds other messages than 110002357537655:1:-1:-1..110002357537655:300:-1:-1" err3.lines &&
	records lake | sort | uniq -d >dups && test ! -s dups &&
	deliver --audit "$L" >/dev/null
'

# The same messages redelivered: each envelope carries redelivery_count 1,
# so that the objects have the same ranges as the lake's, other bytes.
test_expect_success 'redelivered messages: objects of the same ranges, other bytes' '
	$C | sed "/^M /s/\$/ rc=1/" | transform --max-messages 500 >rc1.frames &&
	$C | transform --max-messages 500 >cut500.frames &&
	grep -a "^O " rc1.frames | sed "s/^O [0-9]* //" >rc1.heads &&
	grep -a "^O " cut500.frames | sed "s/^O [0-9]* //" >cut500.heads &&
	test_cmp cut500.heads rc1.heads &&
	! cmp -s cut500.frames rc1.frames
'

# lake_sums DIR: every file below DIR, the index included, with its CRC
lake_sums() {
	(cd "$1" && find . -type f | sort | xargs cksum)
}

test_expect_success 'file://: the same messages, other bytes: already stored, acked, nothing replaced' '
	lake_sums lake >sums.before &&
	deliver --exactly-once "$L" <rc1.frames >acks.rc1 2>err.rc1 &&
	test $(wc -l <acks.rc1) -eq 4 &&
	test $(grep -c "msg=\"already stored (a redelivery: same messages, other bytes)\"" err.rc1) -eq 4 &&
	f=$(ls lake/public/default/t/*/*/*/*/*.00000000000000000001.0000000000--1.jsonl.gz) &&
	grep -q "^A key=${f#lake/} seqs=1-500 size=$(wc -c <"$f") url=file://" acks.rc1 &&
	grep -q "msg=\"stored\" key=${f#lake/} n=500 bytes=$(wc -c <"$f") " err.rc1 &&
	lake_sums lake >sums.after &&
	test_cmp sums.before sums.after &&
	deliver --audit "$L" >/dev/null
'

test_expect_success 'file://: another cut of redelivered messages is still a conflict' '
	$C | sed "/^M /s/\$/ rc=1/" | transform --max-messages 300 |
	    test_expect_code 1 deliver --exactly-once "$L" >acks.rc300 2>err.rc300 &&
	test ! -s acks.rc300 &&
	grep -q "exists and holds other messages than 110002357537655:1:-1:-1..110002357537655:300:-1:-1" err.rc300 &&
	! grep -q "a redelivery" err.rc300 &&
	lake_sums lake >sums.after300 &&
	test_cmp sums.before sums.after300
'

test_expect_success 'a frame without topic= (an old transform) is refused' '
	printf "O 2 key=a/b.txt n=1 seqs=1 first=1:1:-1:-1 last=1:1:-1:-1\nab\n" |
	    test_expect_code 1 deliver --exactly-once file://$TRASH/old/ >out 2>err &&
	grep -q "no topic=" err
'

test_expect_success 'audit: a damaged object, a missing one, a gap, an overlap' '
	cp -r lake lake2 &&
	: >lake2/_lakepipe/damaged &&
	f=$(ls lake2/public/default/t/*/*/*/*/*.00000000000000000501.0000000000--1.jsonl.gz) &&
	printf X | dd of="$f" bs=1 seek=100 conv=notrunc 2>/dev/null &&
	rm lake2/public/default/t/*/*/*/*/*.00000000000000001001.0000000000--1.jsonl.gz &&
	test_expect_code 1 deliver --audit file://$TRASH/lake2/ >a1 &&
	grep -q "^damaged key=.*.00000000000000000501.0000000000--1.jsonl.gz " a1 &&
	grep -q "^missing key=.*.00000000000000001001.0000000000--1.jsonl.gz n=500$" a1 &&
	grep -q " 1 missing, 1 damaged;" a1 &&
	rm lake2/_lakepipe/index/persistent/public/default/t/*.00000000000000001001.* &&
	test_expect_code 1 deliver --audit file://$TRASH/lake2/ >a2 &&
	grep -q "^gap topic=$TOPIC after=110002357537655:1000:-1:-1 before=110002357537655:1501:-1:-1 missing_last=110002357537655:1500:-1:-1$" a2 &&
	cp -r lake lake3 &&
	: >lake3/_lakepipe/damaged &&
	$C | transform --max-messages 300 |
	    deliver -q --exactly-once file://$TRASH/other/ >/dev/null &&
	e=$(ls other/_lakepipe/index/persistent/public/default/t/*.00000000000000000301.*) &&
	cp "$e" lake3/_lakepipe/index/persistent/public/default/t/ &&
	cp other/public/default/t/*/*/*/*/*.00000000000000000301.0000000000--1.jsonl.gz lake3/public/default/t/*/*/*/*/ &&
	test_expect_code 1 deliver --audit file://$TRASH/lake3/ >a3 &&
	grep -q "^overlap topic=$TOPIC key=.*.00000000000000000001.0000000000--1.jsonl.gz key=.*.00000000000000000301.0000000000--1.jsonl.gz from=110002357537655:301:-1:-1$" a3 &&
	lakepipe audit "$L" >a4 && grep -q " 0 gaps, 0 overlaps" a4
'

test_expect_success 'a dead writer'"'"'s index entry of a stored object is put in place' '
	$C | transform --max-messages 1000 |
	    deliver -q --exactly-once file://$TRASH/roll/ >/dev/null &&
	d=roll/_lakepipe/index/persistent/public/default/t &&
	e=$(ls $d | sed -n 2p) &&
	dead=$(sh -c "echo \$\$") &&
	mv "$d/$e" "$d/.$e.$dead.0.tmp" &&
	test $(deliver --index file://$TRASH/roll/ | wc -l) -eq 2 &&
	test -f "$d/$e" && ! ls -a $d | grep -q "\.tmp$" &&
	e2=$(ls $d | sed -n 1p) && mv "$d/$e2" "$d/.$e2.$dead.1.tmp" &&
	rm roll/public/default/t/*/*/*/*/*.00000000000000000001.0000000000--1.jsonl.gz &&
	: >roll/_lakepipe/damaged &&
	test $(deliver --index file://$TRASH/roll/ | wc -l) -eq 1 &&
	! ls -a $d | grep -q "\.tmp$"
'

s3_start --bucket lake-test --bucket lake-1250000000 --region eu-west-1
export AWS_ACCESS_KEY_ID=$TEST_ID AWS_SECRET_ACCESS_KEY=$TEST_KEY
export TENCENTCLOUD_SECRET_ID=$TEST_ID TENCENTCLOUD_SECRET_KEY=$TEST_KEY
unset AWS_SESSION_TOKEN TENCENTCLOUD_SESSION_TOKEN
EP="--endpoint http://127.0.0.1:$PORT"

# store_sums URL: every object under URL, the index included, with its
# size and CRC (cksum of its bytes)
store_sums() {
	b=${1#*://} p=${b#*/} b=${b%%/*} p=${p%%\?*}
	deliver $EP --list "$1" | cut -f1 | sort | while read -r k; do
		ctl get "$b" "$p$k" >sum.tmp &&
		printf "%s %s\n" "$k" "$(cksum <sum.tmp)" || return 1
	done
}

for kind in s3 cos; do
	if [ $kind = s3 ]; then U="s3://lake-test/eo/?region=eu-west-1"
	else U="cos://lake-1250000000/eo/?region=eu-west-1"; fi
	test_expect_success "$kind: index, already stored (412/409 then HEAD), conflict repairs the index" "
		ctl reset >/dev/null &&
		deliver \$EP --exactly-once '$U' <cut500.frames >acks.$kind &&
		test \$(wc -l <acks.$kind) -eq 4 &&
		deliver \$EP --index '$U' >index.$kind &&
		test \$(wc -l <index.$kind) -eq 4 &&
		deliver \$EP --audit '$U' >audit.$kind &&
		grep -q ' 4 objects, 2000 messages, 1 partitions; 0 gaps' audit.$kind &&
		deliver \$EP --exactly-once '$U' <cut500.frames >again.$kind 2>err.$kind &&
		test \$(wc -l <again.$kind) -eq 4 &&
		store_sums '$U' >sums.$kind &&
		deliver \$EP --exactly-once '$U' <rc1.frames >rc1.$kind 2>rc1e.$kind &&
		test \$(wc -l <rc1.$kind) -eq 4 &&
		test \$(grep -c 'msg=\"already stored (a redelivery: same messages, other bytes)\"' rc1e.$kind) -eq 4 &&
		k=\$(deliver \$EP --list '$U' | cut -f1 | grep '\.00000000000000000001\.0000000000--1\.jsonl\.gz\$') &&
		s=\$(grep \"^\$k \" sums.$kind | cut -d' ' -f3) &&
		grep -q \"^A key=eo/\$k seqs=1-500 size=\$s etag=\" rc1.$kind &&
		grep -q \"msg=.stored. key=eo/\$k n=500 bytes=\$s \" rc1e.$kind &&
		store_sums '$U' >sums2.$kind &&
		test_cmp sums.$kind sums2.$kind &&
		test_expect_code 1 deliver \$EP --exactly-once '$U' <cut300.frames >c.$kind 2>ce.$kind &&
		test ! -s c.$kind &&
		grep -q 'exists and holds other messages than' ce.$kind &&
		deliver \$EP --list '$U' | grep -v _lakepipe/ | cut -f1 | sort >keys.$kind &&
		test \$(wc -l <keys.$kind) -eq 4
	"
done

test_expect_success 's3: an object stored without its index entry is put in the index on conflict' '
	ctl reset >/dev/null &&
	U="s3://lake-test/orphan/?region=eu-west-1" &&
	deliver $EP --exactly-once "$U" <cut500.frames >/dev/null &&
	k=$(deliver $EP --list "$U" | cut -f1 | grep "^_lakepipe/" | head -1) &&
	ctl delete lake-test "orphan/$k" >/dev/null &&
	test $(deliver $EP --index "$U" | wc -l) -eq 3 &&
	test_expect_code 1 deliver $EP --exactly-once "$U" <cut300.frames >/dev/null 2>err &&
	test $(deliver $EP --index "$U" | wc -l) -eq 4
'

test_expect_success 's3: the same messages, other bytes, stored without their index entry: the entry put in place, acked' '
	ctl reset >/dev/null &&
	U="s3://lake-test/redeliv/?region=eu-west-1" &&
	deliver $EP --exactly-once "$U" <cut500.frames >/dev/null &&
	deliver $EP --index "$U" >index.before &&
	store_sums "$U" >sums.before &&
	k=$(deliver $EP --list "$U" | cut -f1 | grep "^_lakepipe/" | head -1) &&
	ctl delete lake-test "redeliv/$k" >/dev/null &&
	test $(deliver $EP --index "$U" | wc -l) -eq 3 &&
	deliver $EP --exactly-once "$U" <rc1.frames >acks 2>err &&
	test $(wc -l <acks) -eq 4 &&
	deliver $EP --index "$U" >index.after &&
	test_cmp index.before index.after &&
	store_sums "$U" >sums.after &&
	test_cmp sums.before sums.after
'

# efault TITLE FAULT: with FAULT at the store, the exactly-once write of
# the four objects ends stored and indexed once each, all acked.
nf=0
efault() {
	nf=$((nf + 1))
	test_expect_success "s3 exactly once, $1: stored, indexed, acked" "
		ctl reset >/dev/null && ctl fault $2 >/dev/null &&
		U='s3://lake-test/f$nf/?region=eu-west-1' &&
		deliver \$EP --exactly-once --retries 3 \"\$U\" <cut500.frames >acks.f$nf 2>err.f$nf &&
		test \$(wc -l <acks.f$nf) -eq 4 &&
		! ctl faults | grep -q '\"used\": 0' &&
		deliver \$EP --audit \"\$U\" >audit.f$nf &&
		grep -q ' 4 objects, 2000 messages, 1 partitions; 0 gaps, 0 overlaps, 0 missing, 0 damaged; 0 unindexed' audit.f$nf
	"
}
efault 'the answer of a data PUT lost' 'lost op=PutObject key=.00000000000000000501.0000000000--1'
efault '500 on an index entry' 'internal op=PutObject key=_lakepipe/index/.*00000000000000000501'
efault 'the answer of an index entry lost' 'lost op=PutObject key=_lakepipe/index/.*00000000000000001001'
efault '503 SlowDown on a data PUT' 'slowdown op=PutObject key=.00000000000000001001.0000000000--1 retryAfter=1'
efault 'a reset mid-body' 'reset op=PutObject key=.00000000000000001501.0000000000--1'

test_expect_success 's3 exactly once, 403 on an index entry: exit 1, that object not acked' '
	ctl reset >/dev/null && ctl fault denied op=PutObject key=_lakepipe/index/.*00000000000000000501 count=100 >/dev/null &&
	U="s3://lake-test/f403/?region=eu-west-1" &&
	test_expect_code 1 deliver $EP --exactly-once "$U" <cut500.frames >acks.403 2>err.403 &&
	! grep -q -- ".00000000000000000501.0000000000--1" acks.403 &&
	grep -q "level=error" err.403
'

test_expect_success 's3: a killed deliver'"'"'s multipart upload is aborted at the next start' '
	ctl reset >/dev/null &&
	head -c 3000000 /dev/urandom >big &&
	obj "o/big.bin" big n=1 seqs=1 >big.frames &&
	ctl fault stall op=UploadPart part=2 seconds=60 >/dev/null &&
	U="s3://lake-test/mp/?region=eu-west-1" &&
	{ deliver $EP --multipart-threshold 1M --part-size 1M "$U" <big.frames >/dev/null 2>/dev/null & } &&
	# a part stored and one stalled: killed in the middle of the upload
	wait_until 30 eval "test \$(nreq op=UploadPart) -ge 2" &&
	pkill -9 -f "part-size 1M s3://lake-test/mp/" &&
	ctl reset >/dev/null &&
	printf "" | deliver $EP --orphan-age 1h "$U" >/dev/null 2>keep.err &&
	! grep -q "aborted leftover" keep.err &&
	printf "" | deliver $EP --orphan-age 0 "$U" >/dev/null 2>abort.err &&
	grep -q "msg=\"aborted leftover multipart uploads\" count=1 prefix=mp/" abort.err &&
	printf "" | deliver $EP --orphan-age 0 "$U" >/dev/null 2>again.err &&
	! grep -q "aborted leftover" again.err
'

# ---- against the Pulsar test broker ----------------------------------

PB=$PEERS/pulsar
pctl() { node "$PB/ctl.js" --info pb.json "$@"; }
PT=t/ns/eo

test_expect_success 'broker: 2 partitions, 2 x 235 messages in batches of 10' '
	test_start_server pb.json node "$PB/broker.js" --timeout 600 &&
	pctl topics topic=$PT partitions=2 >/dev/null &&
	pctl subscriptions topic=$PT subscription=eo >/dev/null &&
	for p in 0 1; do
		pctl publish topic=$PT-partition-$p payload="p$p m{i}" count=235 \
		    batchSize=10 >/dev/null || return 1
	done
'
PURL=$(json_get pb.json serviceUrl 2>/dev/null)
BL=file://$TRASH/blake/

# backlog: the subscription's backlog at the broker
backlog() {
	pctl subscription topic=$PT subscription=eo >sub.json &&
	json_get sub.json backlog
}

# indexed_at_least LAKE N: N index entries or more in LAKE (not counting
# a temporary file being written: ".NAME.PID.SERIAL.tmp"); each one's
# object was stored before it
indexed_at_least() {
	test "$(find "$1/_lakepipe/index" -type f ! -name '.*.tmp' 2>/dev/null |
	    wc -l)" -ge "$2"
}

test_expect_success 'a run stores objects cut inside batches, acks nothing, is killed' '
	mkfifo noacks f1 f2 && exec 7<>noacks || return 1
	consume --url $PURL --topic $PT --subscription eo --type failover \
	    --acks noacks --exactly-once "$BL" >f1 2>run1.err &
	c=$!
	transform --max-messages 7 --max-age 30 <f1 >f2 2>>run1.err &
	t=$!
	deliver -q --exactly-once "$BL" <f2 >/dev/null 2>>run1.err &
	d=$!
	wait_until 60 indexed_at_least blake 30 &&
	kill -9 $c $t $d && wait $c $t $d; exec 7>&- &&
	test "$(backlog)" -eq 470 &&
	records blake | sort >run1.ids &&
	test "$(wc -l <run1.ids)" -ge 210 &&
	test -z "$(uniq -d run1.ids)"
'

test_expect_success 'a second run cuts elsewhere: every message once, backlog 0, audit clean' '
	test_timeout 120 pipeline.sh --url $PURL --topic $PT --subscription eo \
	    --type failover --stop-at-end --exactly-once "$BL" -- \
	    --max-messages 5 --max-age 1 -- --exactly-once "$BL" 2>run2.err &&
	records blake | sort >all.ids &&
	test "$(wc -l <all.ids)" -eq 470 &&
	test -z "$(uniq -d all.ids)" &&
	test "$(backlog)" -eq 0 &&
	deliver --audit "$BL" >audit.b &&
	grep -q "^audit: .* 470 messages, 2 partitions; 0 gaps, 0 overlaps, 0 missing, 0 damaged; 0 unindexed$" audit.b
'

test_done
