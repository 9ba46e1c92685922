#!/bin/sh
# transform --threads: compression in threads beside the building of
# records (chunks of jsonl, CSV and raw objects, Parquet's pages).  The
# objects must be byte for byte those of --threads 0 (in line), cut at
# the same places, whatever the format, codec, limits and interleaving
# of partitions; they must decode to the records transform
# writes uncompressed; and the threads must exist while it runs.
. "$(dirname "$0")/test-lib.sh"

# gen N PARTITIONS: N message frames of JSON orders (about 300 bytes,
# partly random, so that compression has work) spread over the
# partitions of one topic in a seeded random order.
gen() {
	python3 - "$1" "$2" <<'PY'
import random, sys, json
n, parts = int(sys.argv[1]), int(sys.argv[2])
rnd = random.Random(7)
out = sys.stdout.buffer
seq = [0] * parts
for i in range(n):
    p = rnd.randrange(parts)
    seq[p] += 1
    body = json.dumps({"order": i, "user": "u%d" % rnd.randrange(50000),
        "note": "".join(rnd.choice("abcdefghij klmnop") for _ in range(200)),
        "amount": rnd.random() * 1000}).encode()
    out.write(b"M %d seq=%d id=%d:%d:%d:-1 topic=persistent://t/ns/o-partition-%d "
        b"pt=%d\n" % (len(body), seq[p], 10 + p, seq[p], p, p,
        1764201600000 + i))
    out.write(body + b"\n")
PY
}

# split FILE PREFIX: each O and P frame's body to PREFIX.N (in order),
# its header to PREFIX.N.hdr; prints the number of frames.
split() {
	python3 - "$1" "$2" <<'PY'
import sys
d = open(sys.argv[1], "rb").read()
i = n = 0
while i < len(d):
    j = d.index(b"\n", i)
    h = d[i:j]
    ln = int(h.split(b" ")[1])
    n += 1
    open("%s.%d.hdr" % (sys.argv[2], n), "wb").write(h + b"\n")
    open("%s.%d" % (sys.argv[2], n), "wb").write(d[j + 1:j + 1 + ln])
    assert d[j + 1 + ln:j + 2 + ln] == b"\n"
    i = j + 2 + ln
print(n)
PY
}

# sizes_near FILE LIMIT PCT: each object of FILE but the last (the rest
# of the input) is within PCT percent of LIMIT bytes, the first included.
sizes_near() {
	python3 - "$1" "$2" "$3" <<'PY'
import sys
d = open(sys.argv[1], "rb").read()
limit, pct = int(sys.argv[2]), float(sys.argv[3])
i, sizes = 0, []
while i < len(d):
    j = d.index(b"\n", i)
    h = d[i:j].split(b" ")
    if h[0] == b"O":
        sizes.append(int(h[1]))
    i = j + 2 + int(h[1])
assert len(sizes) > 3, sizes
for n in sizes[:-1]:
    if abs(n - limit) > limit * pct / 100:
        sys.exit("object of %d bytes, not within %g%% of %d: %s" %
            (n, pct, limit, sizes))
PY
}

test_expect_success 'make 12 MB of messages on 3 partitions' '
	gen 40000 3 >in &&
	test $(wc -c <in) -gt 12000000
'

test_expect_success 'bad --threads values are usage errors (exit 2)' '
	test_expect_code 2 transform --threads 17 </dev/null 2>err &&
	grep -- "--threads" err &&
	test_expect_code 2 transform --threads -1 </dev/null 2>err &&
	test_expect_code 2 transform --threads x </dev/null 2>err
'

# same OPTIONS...: transform with --threads 0, 1 and 3 give the same bytes
same() {
	transform -q --threads 0 "$@" <in >out.0 &&
	transform -q --threads 1 "$@" <in >out.1 &&
	transform -q --threads 3 "$@" <in >out.3 &&
	test_cmp out.0 out.1 &&
	test_cmp out.0 out.3
}

test_expect_success 'gzip, zstd: the same objects with and without threads' '
	same &&
	test $(split out.0 o) -ge 3 &&
	same --compress zstd --level 3
'

test_expect_success 'cut by --max-bytes and --max-messages: the same cuts' '
	same --max-bytes 1M &&
	test $(split out.0 o) -ge 6 &&
	same --compress zstd --max-bytes 700k &&
	same --max-messages 5000 --max-bytes 2M
'

test_expect_success '--max-bytes: gzip (levels 1 and 0) and zstd objects the size asked, the first too' '
	gen 20000 1 >one &&
	for cl in gzip:1 zstd:1 gzip:0; do
		c=${cl%:*} l=${cl#*:} &&
		transform --compress $c --level $l --max-bytes 512k <one \
		    >sized.$c$l &&
		transform --compress $c --level $l --max-bytes 512k \
		    --threads 0 <one >sized0.$c$l &&
		cmp sized.$c$l sized0.$c$l &&
		sizes_near sized.$c$l 524288 0.5 || return 1
	done
'

test_expect_success 'parts (--part-size 5M) and --max-open 1: the same frames' '
	gen 60000 1 >in1 &&
	for t in 0 1 2; do
		transform -q --threads $t --part-size 5M <in1 >p.$t || return 1
	done &&
	test_cmp p.0 p.1 && test_cmp p.0 p.2 &&
	grep -a -c "^P " p.0 >np && test $(cat np) -ge 1 &&
	same --max-open 1 --max-bytes 2M &&
	same --format csv --max-bytes 1M
'

test_expect_success 'Parquet pages compressed in threads: the same files' '
	same --format parquet --parquet-compression zstd &&
	same --format parquet --parquet-compression gzip --parquet-row-group 1M &&
	test $(split out.0 o) -ge 3 &&
	same --format parquet --fields "order:int64,amount:double,note" \
	    --parquet-compression zstd --parquet-row-group 256k --max-bytes 2M &&
	same --format parquet --fields auto
'

test_expect_success '--fields auto: the files of the spec it infers' '
	transform -q --format parquet --fields auto <in >auto &&
	transform -q --format parquet \
	    --fields order:int64,user:string,note:string,amount:double \
	    <in >typed &&
	test_cmp typed auto
'

test_expect_success 'each object decodes to what --compress none writes' '
	transform -q --threads 1 --max-bytes 1M <in >gz &&
	transform -q --compress none --max-bytes 1M <in >plain &&
	n=$(split gz z) && m=$(split plain u) &&
	i=1 && while [ $i -le $n ]; do
		zcat z.$i || return 1
		i=$((i + 1))
	done >gz.txt &&
	i=1 && while [ $i -le $m ]; do
		cat u.$i
		i=$((i + 1))
	done >plain.txt &&
	test $(wc -l <gz.txt) = 40000 &&
	sort gz.txt >a && sort plain.txt >b && test_cmp a b
'

# ThreadSanitizer's transform (make SANITIZE=thread, part of make check):
# the same runs must show no data race.
# (A kernel whose address layout ThreadSanitizer cannot use makes it
# fail at start: then the case is skipped, saying so.)
TSAN_TRANSFORM=$TEST_DIRECTORY/../build/tsan/transform/transform
if [ -x "$TSAN_TRANSFORM" ] && "$TSAN_TRANSFORM" --help >/dev/null 2>&1; then
	test_expect_success 'no data race (ThreadSanitizer), every format' '
		for o in "--max-bytes 1M" "--compress zstd --part-size 5M" \
		    "--format csv --max-bytes 1M --max-open 1" \
		    "--format parquet --parquet-compression zstd \
		    --parquet-row-group 256k --max-bytes 2M" \
		    "--format parquet --fields auto --max-bytes 2M"; do
			TSAN_OPTIONS=exitcode=66 "$TSAN_TRANSFORM" -q --threads 2 \
			    $o <in >tsan.out 2>tsan.err ||
			    { head -40 tsan.err; return 1; }
			! grep -q ThreadSanitizer tsan.err ||
			    { head -40 tsan.err; return 1; }
			transform -q --threads 0 $o <in | cmp - tsan.out || return 1
		done
	'
else
	test_skip 'no data race (ThreadSanitizer)' \
	    'no working build/tsan/transform/transform: make SANITIZE=thread'
fi

# has_threads PID N: PID has N threads (within 10 s)
has_threads() {
	_i=0
	until [ "$(ls "/proc/$1/task" 2>/dev/null | wc -l)" = "$2" ]; do
		_i=$((_i + 1))
		[ $_i -lt 200 ] || { echo "pid $1: $(ls "/proc/$1/task" |
		    wc -l) threads, not $2" >&2; return 1; }
		sleep 0.05
	done
}

start_transform() {
	transform -q --threads "$1" <fifo >/dev/null &
	echo $! >tpid
}

test_expect_success 'the threads are there while it runs' '
	mkfifo fifo &&
	for t in 0 1 3; do
		start_transform $t &&
		exec 3>fifo &&
		gen 300 2 >&3 &&
		has_threads $(cat tpid) $((t + 1)) ||
		    { exec 3>&-; return 1; }
		exec 3>&- &&
		wait $(cat tpid) || return 1
	done
'

test_done
