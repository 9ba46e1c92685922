#!/bin/sh
# deliver --markers: DIR/_SUCCESS once every partition is past the time
# bucket DIR, with the counts per partition checked against the objects
# read back; not for the open bucket; a partition behind holds them back
# until it is idle (--marker-idle), one not seen yet with --partitions; a
# marker already there is not lowered by a later run, and exactly once is
# counted from the index across a restart; file://, the S3 test server,
# and the lakepipe rule key.
. "$(dirname "$0")/test-lib.sh"
. "$TEST_DIRECTORY/lib-deliver.sh"
. "$TEST_DIRECTORY/lib-lakepipe.sh"

# gen FILE FROM TO [STOP1 [LATE]]: messages FROM..TO-1 of 2 partitions,
# 9 s apart from 07:58:00 UTC (so hours 07 to 10); partition 1 sends
# nothing from message STOP1 on; message LATE has an event time of 08:30.
T0=1764230280000
gen() {
	python3 - "$T0" "$@" <<-\PY
	import sys
	t0, out, lo, hi = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
	stop1 = int(sys.argv[5]) if len(sys.argv) > 5 else hi
	late = int(sys.argv[6]) if len(sys.argv) > 6 else -1
	with open(out, 'wb') as f:
	    seq = 0
	    for i in range(lo, hi):
	        p = i % 2
	        if p == 1 and i >= stop1:
	            continue
	        seq += 1
	        body = b'{"i":%d}' % i
	        et = b' et=%d' % (t0 + 1920000) if i == late else b''
	        f.write(b'M %d seq=%d id=9:%d:%d:-1 topic=persistent://tn/ns/x-partition-%d pt=%d%s\n'
	                % (len(body), seq, i // 2, p, p, t0 + i * 9000, et) + body + b'\n')
	PY
}

# check_markers LAKE HOUR...: markers exist for exactly these hours of
# 2025-11-27, and each counts per partition the records of its
# directory's objects (read back; the partition from the key's -N).
check_markers() {
	python3 - "$@" <<-\PY
	import gzip, json, os, re, sys, collections
	lake, want = sys.argv[1], sorted(sys.argv[2:])
	got = []
	for d, _, fs in os.walk(lake):
	    if '_SUCCESS' not in fs:
	        continue
	    m = json.load(open(os.path.join(d, '_SUCCESS')))
	    rel = os.path.relpath(d, lake)
	    assert m['bucket'] == rel, (m, rel)
	    hour = rel.split('/')[-1]
	    assert m['start'] == '2025-11-27T%s:00:00.000Z' % hour, m
	    assert m['end'] == '2025-11-27T%02d:00:00.000Z' % (int(hour) + 1), m
	    n = collections.Counter()
	    for fn in fs:
	        if fn.endswith('.jsonl.gz'):
	            p = re.search(r'-(\d+)\.jsonl\.gz$', fn).group(1)
	            n[p] += len(gzip.open(os.path.join(d, fn)).read().splitlines())
	    for p in set(n) | set(m['partitions']):
	        assert m['partitions'].get(p) == n[p], (rel, p, m, dict(n))
	    assert m['messages'] == sum(n.values()), (m, n)
	    got.append(hour)
	assert sorted(got) == want, (got, want)
	PY
}

# wait_marker FILE: until FILE exists (20 s at most).
wait_marker() {
	_i=0
	until test -f "$1"; do
		_i=$((_i + 1))
		[ $_i -lt 400 ] || { echo "no $1" >&2; return 1; }
		sleep 0.05
	done
}

# cmp_marker A B: the same marker but for the time it was written.
cmp_marker() {
	python3 - "$1" "$2" <<-\PY
	import json, sys
	a, b = (json.load(open(f)) for f in sys.argv[1:])
	del a['written'], b['written']
	assert a == b, (a, b)
	PY
}

test_expect_success 'setup' '
	gen all.in 0 1200 &&
	gen behind.in 0 1200 300 &&
	transform <all.in >all.frames &&
	transform <behind.in >behind.frames &&
	mkfifo in1 in3 &&
	grep -a "^O .* bucket=tn/ns/x/2025/11/27/07 bucket_start=1764226800000 bucket_end=1764230400000" all.frames
'

test_expect_success 'markers for the hours every partition has passed' '
	test_timeout 30 deliver --markers --metrics-file m.prom \
	    file://$TRASH/lake/ <all.frames >acks 2>err &&
	check_markers lake 07 08 09 &&
	grep -x "lakepipe_deliver_markers_total 3" m.prom &&
	grep -x "lakepipe_deliver_watermark_timestamp_seconds 1764241062" m.prom &&
	test $(grep -c "msg=\"marker written\"" err) = 3 &&
	grep -q "\"partitions\":{\"0\":200,\"1\":200},\"messages\":400" \
	    lake/tn/ns/x/2025/11/27/08/_SUCCESS
'

test_expect_success 'each marker comes after the acks of its objects' '
	grep -n "msg=\"marker written\".*/08/_SUCCESS" err | cut -d: -f1 >m &&
	grep -n "msg=\"stored\" key=tn/ns/x/2025/11/27/08/" err |
	    cut -d: -f1 >s &&
	test $(wc -l <s) = 2 &&
	test $(tail -1 s) -lt $(cat m)
'

test_expect_success 'consume --lake restores the lake, markers aside' '
	test_timeout 60 consume --lake file://$TRASH/lake/ >restored 2>err &&
	test $(grep -ac "^M [0-9]* seq=" restored) = 1200 &&
	! grep -i "_SUCCESS" err
'

test_expect_success 'without --markers, none' '
	test_timeout 30 deliver file://$TRASH/plain/ <all.frames >/dev/null &&
	test -z "$(find plain -name _SUCCESS)"
'

test_expect_success 'a key template without a time directory: told, none' '
	transform --key "x/{yyyy}{mm}{dd}{hh}-{seq_id}-{partition}.{ext}" \
	    <all.in | test_timeout 30 deliver --markers file://$TRASH/flat/ \
	    >/dev/null 2>err &&
	grep -q "msg=\"markers: no object named a time bucket\"" err &&
	test -z "$(find flat -name _SUCCESS)"
'

test_expect_success 'a partition behind holds the markers back' '
	test_timeout 30 deliver --markers file://$TRASH/behind/ \
	    <behind.frames >/dev/null &&
	check_markers behind 07
'

test_expect_success 'an idle partition does not (--marker-idle)' '
	test_timeout 60 deliver --markers --marker-idle 1s \
	    file://$TRASH/idle/ <in1 >/dev/null 2>idle.err &
	exec 3>in1 &&
	cat behind.frames >&3 &&
	wait_marker idle/tn/ns/x/2025/11/27/09/_SUCCESS &&
	exec 3>&- &&
	wait &&
	check_markers idle 07 08 09 &&
	grep -q "\"partitions\":{\"0\":200,\"1\":143}" \
	    idle/tn/ns/x/2025/11/27/08/_SUCCESS
'

test_expect_success '--partitions: one not seen yet holds them back' '
	test_timeout 30 deliver --markers --partitions 3 \
	    file://$TRASH/three/ <all.frames >/dev/null &&
	test -z "$(find three -name _SUCCESS)"
'

test_expect_success '... until it is idle' '
	test_timeout 60 deliver --markers --partitions 3 --marker-idle 1s \
	    file://$TRASH/three/ <in3 >/dev/null 2>three.err &
	exec 3>in3 &&
	cat all.frames >&3 &&
	wait_marker three/tn/ns/x/2025/11/27/09/_SUCCESS &&
	exec 3>&- &&
	wait &&
	check_markers three 07 08 09 &&
	grep -q "\"partitions\":{\"0\":200,\"1\":200,\"2\":0}" \
	    three/tn/ns/x/2025/11/27/08/_SUCCESS
'

test_expect_success 'a later run does not lower a marker' '
	gen tail.in 800 1200 &&
	transform <tail.in | test_timeout 30 deliver --markers \
	    file://$TRASH/lake/ >/dev/null &&
	grep -q "\"partitions\":{\"0\":200,\"1\":200},\"messages\":400" \
	    lake/tn/ns/x/2025/11/27/09/_SUCCESS
'

test_expect_success 'a late record: its marker is written again' '
	gen late.in 0 1200 1200 1100 &&
	transform --partition-time event <late.in >late.frames &&
	test_timeout 30 deliver --markers --metrics-file late.prom \
	    file://$TRASH/late/ <late.frames >/dev/null 2>late.err &&
	grep -q "msg=\"late messages: .*bucket=tn/ns/x/2025/11/27/08 n=1" late.err &&
	grep -q "msg=\"marker written again (late messages)\" key=tn/ns/x/2025/11/27/08/_SUCCESS" late.err &&
	grep -x "lakepipe_deliver_late_messages_total 1" late.prom &&
	check_markers late 07 08 09 &&
	grep -q "\"0\":201,\"1\":200" late/tn/ns/x/2025/11/27/08/_SUCCESS
'

test_expect_success 'exactly once: a restart counts from the index' '
	gen eo1.in 0 600 &&
	gen eo2.in 600 1200 &&
	transform <eo1.in >eo1.frames &&
	transform <eo2.in >eo2.frames &&
	test_timeout 30 deliver --exactly-once --markers file://$TRASH/eo/ \
	    <eo1.frames >/dev/null &&
	check_markers eo 07 08 &&
	test_timeout 30 deliver --exactly-once --markers file://$TRASH/eo/ \
	    <eo2.frames >/dev/null 2>eo.err &&
	grep -q "msg=\"marker counted from the lake.s index\" bucket=tn/ns/x/2025/11/27/09 objects=4" eo.err &&
	check_markers eo 07 08 09 &&
	deliver --audit file://$TRASH/eo/ >audit &&
	! grep "^note unindexed" audit
'

test_expect_success 'bad options and frames: one line, exit 2 or 1' '
	test_expect_code 2 deliver --partitions 2 file://$TRASH/x/ </dev/null \
	    2>err && test_one_line err && grep "goes with --markers" err &&
	test_expect_code 2 deliver --markers --marker-idle 0 file://$TRASH/x/ \
	    </dev/null 2>err && test_one_line err &&
	printf "{}\n" >b &&
	obj a/1.json b n=1 seqs=1 "bucket=../a" bucket_start=0 \
	    bucket_end=1 >bad.frames &&
	test_expect_code 1 deliver --markers file://$TRASH/x/ <bad.frames \
	    2>err && grep "bucket= is not a safe key" err
'

test_expect_success 'lakepipe: the rule key markers = yes' '
	cat >m.conf <<-EOF &&
	frames = $TRASH/all.in
	markers = yes
	marker-idle = 10m
	destination = file://$TRASH/rule/
	EOF
	lakepipe check m.conf >out &&
	grep "^ok deliver: settings valid" out &&
	test_timeout 60 lakepipe run m.conf 2>err &&
	check_markers rule 07 08 09 &&
	printf "lines = $TRASH/all.in\nmarkers = maybe\ndestination = file://$TRASH/r2/\n" >bad.conf &&
	test_expect_code 1 lakepipe check bad.conf >out &&
	grep "^fail markers: bad.conf:2: markers is a flag" out
'

test_expect_success 'lakepipe run asks the broker for the partition count' '
	test_start_server pb.json node "$PEERS/pulsar/broker.js" \
	    --timeout 300 &&
	node "$PEERS/pulsar/ctl.js" --info pb.json topics topic=t/ns/m \
	    partitions=3 >/dev/null &&
	cat >pb.conf <<-EOF &&
	url = $(json_get pb.json serviceUrl)
	topic = t/ns/m
	subscription = markers
	stop-at-end = yes
	markers = yes
	destination = file://$TRASH/pb/
	EOF
	test_timeout 60 lakepipe run pb.conf 2>err &&
	grep -q "msg=\"markers wait for every partition\" partitions=3" err &&
	echo "partitions = 5" >>pb.conf &&
	test_timeout 60 lakepipe run pb.conf 2>err &&
	! grep -q "markers wait for every partition" err
'

s3_start --bucket lake-test --region eu-west-1
export AWS_ACCESS_KEY_ID=$TEST_ID AWS_SECRET_ACCESS_KEY=$TEST_KEY
unset AWS_SESSION_TOKEN

test_expect_success 's3://: the same markers, in the store' '
	test_timeout 60 deliver --markers -j 4 \
	    --endpoint http://127.0.0.1:$PORT \
	    "s3://lake-test/m/?region=eu-west-1" <all.frames >acks 2>err &&
	test $(wc -l <acks) = 8 &&
	for h in 07 08 09; do
		ctl get lake-test m/tn/ns/x/2025/11/27/$h/_SUCCESS >s3.$h &&
		cmp_marker s3.$h lake/tn/ns/x/2025/11/27/$h/_SUCCESS || return 1
	done &&
	test_must_fail ctl get lake-test m/tn/ns/x/2025/11/27/10/_SUCCESS
'

test_expect_success 's3://: an object stored late holds its marker back' '
	ctl reset >/dev/null &&
	ctl fault stall op=PutObject "key=^slow/.*/08/.*-1\\.jsonl\\.gz\$" \
	    phase=response seconds=2 count=1 >/dev/null &&
	test_timeout 60 deliver --markers -j 4 \
	    --endpoint http://127.0.0.1:$PORT \
	    "s3://lake-test/slow/?region=eu-west-1" <all.frames >acks 2>err &&
	grep -n "^A key=slow/.*/08/.*-1\.jsonl\.gz " acks | cut -d: -f1 >n &&
	test "$(cat n)" -gt 4 &&
	grep -n "msg=\"stored\" key=slow/.*/08/.*-1\.jsonl\.gz" err |
	    cut -d: -f1 >s &&
	grep -n "marker written\" key=slow/.*/08/_SUCCESS" err | cut -d: -f1 >m &&
	test "$(cat s)" -lt "$(cat m)" &&
	ctl get lake-test slow/tn/ns/x/2025/11/27/08/_SUCCESS >s3.slow &&
	cmp_marker s3.slow lake/tn/ns/x/2025/11/27/08/_SUCCESS
'

test_expect_success 's3://, exactly once: the index read back there too' '
	S3="s3://lake-test/eo/?region=eu-west-1" &&
	for f in eo1 eo2; do
		test_timeout 60 deliver --exactly-once --markers \
		    --endpoint http://127.0.0.1:$PORT "$S3" <$f.frames \
		    >/dev/null 2>$f.s3.err || return 1
	done &&
	grep -q "counted from the lake.s index" eo2.s3.err &&
	ctl get lake-test eo/tn/ns/x/2025/11/27/09/_SUCCESS >s3.eo &&
	cmp_marker s3.eo eo/tn/ns/x/2025/11/27/09/_SUCCESS
'

test_done
