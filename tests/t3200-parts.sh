#!/bin/sh
# Objects larger than transform's --part-size: part frames (P), then the
# object frame with parts=N (lakepipe-frames(5)).  deliver stores them part
# by part: file:// into its temporary file, s3:// as a multipart upload
# with a part per P frame, and with --exactly-once spooled to $TMPDIR and
# sent as one conditional PUT.  No stage holds a whole object: the peak
# RSS of transform and deliver (/usr/bin/time -f %M) stays below 64 MB for
# an object of 194 MB (and of 39 MB in the other formats, in 5 MiB parts);
# the bytes read back are the input's; with sixteen partitions open,
# transform stays below it (--max-memory); against a store that answers
# late, deliver leaves the objects in the pipe.  Then the errors: parts without
# their object frame, a part below S3's minimum, parts= that does not
# match, --part-size below 5M.
. "$(dirname "$0")/test-lib.sh"
. "$TEST_DIRECTORY/lib-deliver.sh"
. "$TEST_DIRECTORY/lib-rgw.sh"

SANITIZED=
case $LAKEPIPE_BUILD in */build/san) SANITIZED=1 ;; esac

# peak FILE CMD...: run CMD, its peak RSS (KiB) into FILE.
peak() {
	_f=$1
	shift
	/usr/bin/time -f %M -o "$_f" "$@"
}

# below_64m FILE...: each peak in FILE is below 64 MB; kept for the log.
# Not under the sanitizers: ASan's quarantine keeps what is freed (up to
# 256 MB), so the peak tells nothing there.
below_64m() {
	for _f in "$@"; do
		_kb=$(tail -n 1 "$_f")
		echo "$_f $_kb" >>"$TRASH/rss.log"
		test -z "$SANITIZED" || continue
		test "$_kb" -lt 65536 || {
			echo "$_f: peak RSS $_kb KiB, not below 64 MB" >&2
			return 1
		}
	done
}

# The single key of the object in FRAMES (its O frame's).
key_of() {
	grep -a '^O [0-9]* key=' "$1" | sed 's/^O [0-9]* key=\([^ ]*\) .*/\1/'
}

# no_temp DIR: deliver left no temporary file below DIR.
no_temp() {
	test -z "$(find "$1" -name '.*.tmp' 2>/dev/null)"
}

T="--max-messages 100000000 --max-bytes 1G --max-age 0"
N=200000	# 194 MB: raw, no compression, through each destination
M=40000		# 39 MB: the other formats and the faults, in 5 MiB parts

test_expect_success 'setup: 194 MB of lines, replayed as message frames' '
	python3 -c "
import os, random, sys
r = random.Random(7)
out = sys.stdout
for i in range($N):
    out.write(\"{\\\"id\\\":%d,\\\"user\\\":\\\"u%d\\\",\\\"pad\\\":\\\"%s\\\"}\\n\" %
        (i, r.randrange(1000), r.getrandbits(3936).to_bytes(492, \"big\").hex()))
" >in.txt &&
	test $(wc -c <in.txt) -gt $((192 << 20)) &&
	consume --lines in.txt >in.frames &&
	head -n $M in.txt >mid.txt &&
	consume --lines mid.txt >mid.frames
'

test_expect_success 'transform: P frames of the part size, then O with parts=' '
	peak t.rss transform --format raw --compress none $T <in.frames \
	    >raw.frames &&
	below_64m t.rss &&
	parts=$(grep -a -c "^P 8388608 key=" raw.frames) &&
	test "$parts" -eq $(($(wc -c <in.txt) / (8 << 20))) &&
	test $(grep -a -c "^O " raw.frames) -eq 1 &&
	grep -a "^O " raw.frames | grep -q " parts=$parts\$" &&
	grep -a "^P " raw.frames | sed "s/^P 8388608 //" | sort -u >p.fields &&
	test_one_line p.fields &&
	grep -q "^key=$(key_of raw.frames) type=application/octet-stream first=" \
	    p.fields
'

test_expect_success 'transform: an object up to the part size stays one O frame' '
	head -n 1000 in.txt >small.txt &&
	consume --lines small.txt >small.frames &&
	transform --format raw --compress none $T <small.frames >small.out &&
	! grep -a -q "^P " small.out &&
	! grep -a "^O " small.out | grep -q parts=
'

test_expect_success 'file://: written part by part, the bytes are the input' '
	peak d.rss deliver file://$PWD/lake/ <raw.frames >acks &&
	below_64m d.rss &&
	test_one_line acks &&
	grep -q " size=$(wc -c <in.txt) " acks &&
	cmp in.txt "lake/$(key_of raw.frames)" &&
	no_temp lake
'

test_expect_success 'file:// --exactly-once: indexed with the CRC of all parts' '
	peak e.rss deliver --exactly-once file://$PWD/once/ <raw.frames \
	    >acks &&
	below_64m e.rss &&
	cmp in.txt "once/$(key_of raw.frames)" &&
	deliver --audit file://$PWD/once/ >audit &&
	grep -q " 0 damaged" audit &&
	deliver --index file://$PWD/once/ | grep -q " size=$(wc -c <in.txt) " &&
	deliver --exactly-once file://$PWD/once/ <raw.frames >acks 2>err &&
	test_one_line acks && grep -q "already stored" err &&
	no_temp once
'

test_expect_success 'gzip and zstd: parts of the compressed object' '
	peak tg.rss transform --format raw --compress gzip --part-size 5M $T \
	    <mid.frames >gz.frames &&
	peak tz.rss transform --format raw --compress zstd --part-size 5M $T \
	    <mid.frames >zst.frames &&
	below_64m tg.rss tz.rss &&
	grep -a -q "^P 5242880 key=.*\.txt\.gz type=application/octet-stream enc=gzip " \
	    gz.frames &&
	peak dg.rss deliver file://$PWD/gz/ <gz.frames >acks &&
	peak dz.rss deliver file://$PWD/zst/ <zst.frames >acks &&
	below_64m dg.rss dz.rss &&
	gzip -dc "gz/$(key_of gz.frames)" | cmp - mid.txt &&
	zstd -qdc "zst/$(key_of zst.frames)" | cmp - mid.txt
'

# rows_and_ids READER FILE: DuckDB reads FILE with READER: every row, and
# the sum of the ids.
rows_and_ids() {
	node "$PEERS/lake-query.js" "SELECT count(*), sum(id) FROM $1('$2')" \
	    >got &&
	printf "%s\t%s\n" $M $((M * (M - 1) / 2)) >want &&
	test_cmp want got
}

test_expect_success 'jsonl, csv and Parquet: read back (DuckDB, json)' '
	peak tj.rss transform --compress zstd --part-size 5M $T <mid.frames \
	    >jsonl.frames &&
	peak tc.rss transform --format csv --fields id:int64,user,pad \
	    --meta none --compress gzip --part-size 5M $T <mid.frames \
	    >csv.frames &&
	peak tp.rss transform --format parquet --fields id:int64,user,pad \
	    --meta none --parquet-compression zstd --part-size 5M $T \
	    <mid.frames >pq.frames &&
	below_64m tj.rss tc.rss tp.rss &&
	grep -a -q "^P 5242880 " jsonl.frames &&
	grep -a -q "^P 5242880 " csv.frames &&
	grep -a -q "^P 5242880 " pq.frames &&
	peak dp.rss deliver file://$PWD/fmt/ <pq.frames >acks &&
	below_64m dp.rss &&
	deliver file://$PWD/fmt/ <jsonl.frames >>acks &&
	deliver file://$PWD/fmt/ <csv.frames >>acks &&
	rows_and_ids read_parquet "fmt/$(key_of pq.frames)" &&
	rows_and_ids read_csv "fmt/$(key_of csv.frames)" &&
	zstd -qdc "fmt/$(key_of jsonl.frames)" | python3 -c "
import json, sys
ids = [json.loads(l)[\"payload\"][\"id\"] for l in sys.stdin]
sys.exit(ids != list(range($M)))
"
'

test_expect_success 'two partitions past the part size: frames never interleave' '
	python3 - >two.frames <<-\EOF &&
	import random, sys
	r = random.Random(3)
	out = sys.stdout.buffer
	for i in range(24000):
	    p = i % 2
	    body = b"%d:%d:" % (p, i) + r.getrandbits(3960).to_bytes(495, "big").hex().encode()
	    out.write(b"M %d seq=%d id=9:%d:%d:-1 topic=persistent://t/n/x-partition-%d pt=1764201600000\n"
	        % (len(body), i + 1, i, p, p) + body + b"\n")
	EOF
	transform --format raw --compress none --part-size 5M $T -v \
	    <two.frames >two.out 2>two.err &&
	grep -q "why=parts" two.err &&
	python3 - two.frames two.out <<-\EOF
	import sys
	def frames(path):
	    f = open(path, "rb").read()
	    i = 0
	    while i < len(f):
	        nl = f.index(b"\n", i)
	        h = f[i:nl].split(b" ")
	        n = int(h[1])
	        yield h[0], dict(x.split(b"=", 1) for x in h[2:]), f[nl + 1:nl + 1 + n]
	        i = nl + 2 + n
	want, got, cur, pend, parted = [[], []], [[], []], None, [], 0
	for t, fl, body in frames(sys.argv[1]):
	    want[int(fl[b"topic"][-1:])] += [body, b"\n"]
	for t, fl, body in frames(sys.argv[2]):
	    if cur is not None and fl[b"key"] != cur:
	        sys.exit("frames of %s inside the parts of %s" % (fl[b"key"], cur))
	    cur = fl[b"key"] if t == b"P" else None
	    pend.append(body)
	    if t == b"O":
	        parted += int(fl.get(b"parts", b"0")) > 0
	        got[int(fl[b"topic"][-1:])] += pend
	        pend = []
	if [b"".join(x) for x in got] != [b"".join(x) for x in want] or parted < 2:
	    sys.exit("objects do not hold the partitions bytes, or few parts")
	EOF
'

# Sixteen partitions open at once, each holding up to a part of its
# gzip object: past --max-memory (three parts) the oldest batch is
# written out, so that the sum does not grow with their number.
test_expect_success 'sixteen partitions: below 64 MB together, every seq once' '
	python3 - in.txt >p16.frames <<-\EOF &&
	import sys
	out = sys.stdout.buffer
	for i, line in enumerate(open(sys.argv[1], "rb")):
	    p, body = i % 16, line.rstrip(b"\n")
	    out.write(b"M %d seq=%d id=9:%d:%d:-1 topic=persistent://t/n/p-partition-%d pt=1764201600000\n"
	        % (len(body), i + 1, i // 16, p, p) + body + b"\n")
	EOF
	peak p16.rss transform -v $T <p16.frames >p16.out 2>p16.err &&
	below_64m p16.rss &&
	grep -q "why=max-memory" p16.err &&
	python3 - p16.out $N <<-\EOF
	import sys
	f, i, seqs = open(sys.argv[1], "rb").read(), 0, []
	while i < len(f):
	    nl = f.index(b"\n", i)
	    h = f[i:nl].split(b" ")
	    if h[0] == b"O":
	        for r in dict(x.split(b"=", 1) for x in h[2:])[b"seqs"].split(b","):
	            lo, _, hi = r.partition(b"-")
	            seqs += range(int(lo), int(hi or lo) + 1)
	    i = nl + 2 + int(h[1])
	if sorted(seqs) != list(range(1, int(sys.argv[2]) + 1)):
	    sys.exit("seqs: %d, not each of 1 to %s once" % (len(seqs), sys.argv[2]))
	EOF
'

# Parquet's row group is held by its writer until it is cut, not in the
# object's bytes: --max-memory counts it too (no row group here reaches
# its size), and the files cut read back whole.
test_expect_success 'sixteen partitions of Parquet: cut by --max-memory, read back' '
	transform -v --format parquet --fields id:int64,user,pad --meta none \
	    --parquet-row-group 64M $T <p16.frames >p16q.out 2>p16q.err &&
	grep -q "why=max-memory" p16q.err &&
	deliver file://$PWD/p16q/ <p16q.out >acks &&
	node "$PEERS/lake-query.js" \
	    "SELECT count(*), sum(id) FROM read_parquet('"'"'p16q/**/*.parquet'"'"')" \
	    >got &&
	printf "%s\t%s\n" $N $((N * (N - 1) / 2)) >want &&
	test_cmp want got
'

# The error cases on file:// and the frames they read.
test_expect_success 'setup: streams that end inside an object, bad parts' '
	python3 - raw.frames <<-\EOF
	import sys
	f = open(sys.argv[1], "rb").read()
	frames, i = [], 0
	while i < len(f):
	    nl = f.index(b"\n", i)
	    n = int(f[i:nl].split(b" ")[1])
	    frames.append(f[i:nl + 2 + n])
	    i = nl + 2 + n
	open("cut.frames", "wb").write(b"".join(frames[:3]))
	nl = frames[0].index(b"\n")
	small = b"P 5242879" + frames[0][9:nl + 1 + 5242879] + b"\n"
	open("small-part.frames", "wb").write(small)
	o = frames[-1].replace(b" parts=", b" parts=1", 1)
	open("bad-count.frames", "wb").write(b"".join(frames[:-1]) + o)
	EOF
'

test_expect_success 'file://: parts without their O frame: nothing stored or acked' '
	test_expect_code 1 deliver file://$PWD/cut/ <cut.frames >acks 2>err &&
	test ! -s acks && one_error err &&
	grep -q "input ended after 3 part frames of .* without its object frame" err &&
	test -z "$(find cut -type f)"
'

test_expect_success 'a part below 5 MiB, parts= that does not match: refused' '
	test_expect_code 1 deliver file://$PWD/bad/ <small-part.frames \
	    >acks 2>err &&
	test ! -s acks && one_error err &&
	grep -q "a body of at least 5 MiB" err &&
	test_expect_code 1 deliver file://$PWD/bad/ <bad-count.frames \
	    >acks 2>err &&
	test ! -s acks && one_error err &&
	grep -q "parts=1[0-9]* and key= do not match the [0-9]* part frames" err &&
	test -z "$(find bad -type f)"
'

test_expect_success 'transform: --part-size below 5M, too many parts: usage' '
	test_expect_code 2 transform --part-size 4M </dev/null 2>err &&
	test_one_line err &&
	grep -q -- "--part-size: .4M. is not a size from 5M to 1G" err &&
	test_expect_code 2 transform --part-size 5M --max-bytes 60G \
	    </dev/null 2>err &&
	test_one_line err &&
	grep -q -- "more than 10000 parts of --part-size" err
'

COSB=examplebucket-1250000000
s3_start --bucket lake-test --bucket $COSB --region eu-west-1
export AWS_ACCESS_KEY_ID=$TEST_ID AWS_SECRET_ACCESS_KEY=$TEST_KEY
export TENCENTCLOUD_SECRET_ID=$TEST_ID TENCENTCLOUD_SECRET_KEY=$TEST_KEY
unset AWS_SESSION_TOKEN TENCENTCLOUD_SESSION_TOKEN COS_SECRET_ID COS_SECRET_KEY
S3="--endpoint http://127.0.0.1:$PORT --timeout 30"

test_expect_success 's3://: a multipart upload, a part per P frame' '
	ctl reset >/dev/null &&
	peak s.rss deliver $S3 "s3://lake-test/mp/?region=eu-west-1" \
	    <raw.frames >acks &&
	below_64m s.rss &&
	test_one_line acks && grep -q " size=$(wc -c <in.txt) " acks &&
	stored_is lake-test "mp/$(key_of raw.frames)" in.txt &&
	test "$(nreq op=UploadPart)" -eq \
	    $(($(grep -a -c "^P 8388608 key=" raw.frames) + 1)) &&
	test "$(nreq op=CompleteMultipartUpload)" -eq 1 &&
	test "$(nreq op=PutObject)" -eq 0
'

test_expect_success 's3:// --exactly-once: spooled, one conditional PUT' '
	ctl reset >/dev/null &&
	peak so.rss deliver --exactly-once $S3 \
	    "s3://lake-test/once/?region=eu-west-1" <raw.frames >acks &&
	below_64m so.rss &&
	test_one_line acks &&
	stored_is lake-test "once/$(key_of raw.frames)" in.txt &&
	test "$(nreq op=PutObject)" -eq 2 &&
	test "$(nreq op=UploadPart)" -eq 0 &&
	ctl objects lake-test once/_lakepipe/index/ >index &&
	test_one_line index &&
	test_expect_code 1 deliver --exactly-once $S3 \
	    "s3://lake-test/once/?region=eu-west-1" <bad-count.frames \
	    >acks 2>err &&
	test ! -s acks
'

test_expect_success 's3://: a part reset, the spooled PUT failed and lost: retried' '
	ctl reset >/dev/null &&
	ctl fault reset op=UploadPart part=3 count=1 >/dev/null &&
	deliver $S3 "s3://lake-test/f1/?region=eu-west-1" <gz.frames \
	    >acks 2>err &&
	test_one_line acks &&
	stored_is lake-test "f1/$(key_of gz.frames)" "gz/$(key_of gz.frames)" &&
	test "$(nreq op=UploadPart)" -eq \
	    $(($(grep -a -c "^P 5242880 key=" gz.frames) + 2)) &&
	ctl reset >/dev/null &&
	ctl fault internal op=PutObject count=1 >/dev/null &&
	deliver --exactly-once $S3 "s3://lake-test/f2/?region=eu-west-1" \
	    <gz.frames >acks 2>err &&
	test_one_line acks &&
	stored_is lake-test "f2/$(key_of gz.frames)" "gz/$(key_of gz.frames)" &&
	ctl reset >/dev/null &&
	ctl fault lost op=PutObject count=1 >/dev/null &&
	deliver --exactly-once $S3 "s3://lake-test/f3/?region=eu-west-1" \
	    <gz.frames >acks 2>err &&
	test_one_line acks && grep -q HeadObject err &&
	stored_is lake-test "f3/$(key_of gz.frames)" "gz/$(key_of gz.frames)"
'

test_expect_success 'cos://: the multipart upload and the spooled PUT, COS-signed' '
	ctl reset >/dev/null &&
	C="--endpoint http://cos.eu-west-1.localhost:$PORT --timeout 30" &&
	deliver $C "cos://$COSB/mp/?region=eu-west-1" <gz.frames >acks &&
	deliver --exactly-once $C "cos://$COSB/once/?region=eu-west-1" \
	    <gz.frames >>acks &&
	test $(wc -l <acks) -eq 2 &&
	stored_is $COSB "mp/$(key_of gz.frames)" "gz/$(key_of gz.frames)" &&
	stored_is $COSB "once/$(key_of gz.frames)" "gz/$(key_of gz.frames)" &&
	test "$(nreq auth=cos)" -eq "$(nreq)"
'

test_expect_success 's3://: a stream cut inside an object: upload aborted' '
	ctl reset >/dev/null &&
	test_expect_code 1 deliver $S3 "s3://lake-test/cut/?region=eu-west-1" \
	    <cut.frames >acks 2>err &&
	test ! -s acks &&
	grep -q "input ended after 3 part frames" err &&
	test "$(nreq op=AbortMultipartUpload)" -ge 1 &&
	test "$(nreq op=CompleteMultipartUpload)" -eq 0 &&
	test -z "$(ctl objects lake-test cut/)" &&
	test_expect_code 1 deliver --exactly-once $S3 \
	    "s3://lake-test/cut/?region=eu-west-1" <cut.frames >acks 2>err &&
	test ! -s acks && test "$(nreq op=PutObject)" -eq 0
'

# A store that answers each PUT a second late: deliver reads no further
# ahead than a body per connection (--max-memory's default: --jobs times
# the part size), so 24 objects of 6 MB wait in the pipe, not in memory.
test_expect_success 's3://: a slow store, objects wait in the pipe: below 64 MB' '
	ctl reset >/dev/null &&
	ctl fault stall op=PutObject phase=response seconds=1 count=100 \
	    >/dev/null &&
	head -c 6291456 /dev/urandom >six &&
	i=0 && while test $i -lt 24; do
		i=$((i + 1)) &&
		printf "O 6291456 key=slow/%d.bin n=1 seqs=%d\n" $i $i &&
		cat six && echo || exit 1
	done >slow.frames &&
	peak sl.rss deliver $S3 "s3://lake-test/?region=eu-west-1" \
	    <slow.frames >acks &&
	below_64m sl.rss &&
	test $(wc -l <acks) -eq 24 &&
	stored_is lake-test slow/24.bin six &&
	test "$(nreq op=PutObject)" -eq 24
'

if rgw_installed; then
	rgw_start lake
	test_expect_success 'RGW: multipart and --exactly-once of a gzip object' '
		R="--endpoint $RGW_ENDPOINT --timeout 30" &&
		deliver $R "s3://lake/mp/?region=us-east-1" <gz.frames >acks &&
		deliver --exactly-once $R "s3://lake/once/?region=us-east-1" \
		    <gz.frames >>acks &&
		test $(wc -l <acks) -eq 2 &&
		deliver $R --cat "mp/$(key_of gz.frames)" "s3://lake/?region=us-east-1" |
		    gzip -dc | cmp - mid.txt &&
		deliver $R --cat "once/$(key_of gz.frames)" "s3://lake/?region=us-east-1" |
		    gzip -dc | cmp - mid.txt &&
		deliver $R --audit "s3://lake/once/?region=us-east-1" >audit &&
		grep -q " 0 damaged" audit
	'
	rgw_stop
else
	test_skip 'RGW: multipart and --exactly-once of a gzip object' \
	    'radosgw is not installed'
fi

test -f "$TRASH/rss.log" && sed 's/^/# peak RSS KiB: /' "$TRASH/rss.log"
test_done
