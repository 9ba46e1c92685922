#!/bin/sh
# transform's time partitions: each record under its own time bucket of
# the key template (publish or event time, in --timezone), read back
# object by object and by DuckDB with hive_partitioning; --max-bytes as
# stored bytes; every seq in exactly one object.
. "$(dirname "$0")/test-lib.sh"
. "$TEST_DIRECTORY/lib-transform.sh"

# 3 partitions, 1200 messages 9 s apart (from 07:58:00 UTC: three hour
# boundaries), each partition's publish times growing; et= an hour late.
T0=1764230280000
python3 - "$T0" <<'PY'
import sys
t0 = int(sys.argv[1])
with open('in', 'wb') as f:
    for i in range(1200):
        p = i % 3
        pt = t0 + i * 9000
        body = b'{"i":%d}' % i
        f.write(b'M %d seq=%d id=9:%d:%d:-1 topic=persistent://tn/ns/x-partition-%d pt=%d et=%d\n'
                % (len(body), i + 1, i // 3, p, p, pt, pt + 3600000) + body + b'\n')
PY

# check_hours LAKE OFFSET_S FIELD: every record of every object has its
# FIELD (publish_time_ms or event_time_ms), shifted by OFFSET_S, in the
# date and hour of the object's key (dt=YYYY-MM-DD/hour=HH); prints the
# records per hour.
check_hours() {
	python3 - "$@" <<'PY'
import gzip, json, os, sys, datetime, collections
lake, off, field = sys.argv[1], int(sys.argv[2]), sys.argv[3]
per = collections.Counter()
for d, _, fs in os.walk(lake):
    for fn in fs:
        path = os.path.join(d, fn)
        parts = dict(s.split('=', 1) for s in path.split('/') if '=' in s)
        for line in gzip.open(path).read().splitlines():
            r = json.loads(line)
            t = datetime.datetime.fromtimestamp(r[field] / 1000 + off, datetime.timezone.utc)
            assert t.strftime('%Y-%m-%d') == parts['dt'] and t.strftime('%H') == parts['hour'], (path, r)
            per[parts['dt'] + ' ' + parts['hour']] += 1
for k in sorted(per):
    print(k, per[k])
PY
}

K='x/dt={date}/hour={hh}/{seq_id}-{partition}.{ext}'

test_expect_success 'publish time: each record under its own hour' '
	transform --key "$K" <in >frames &&
	seqs_once frames 1200 &&
	deliver file://$TRASH/lake/ <frames >acks &&
	test $(wc -l <acks) = $(grep -ac "^O " frames) &&
	check_hours lake 0 publish_time_ms >hours &&
	cat >hours.want <<-\EOF &&
	2025-11-27 07 14
	2025-11-27 08 400
	2025-11-27 09 400
	2025-11-27 10 386
	EOF
	test_cmp hours.want hours
'

test_expect_success 'a partition has one open batch: cuts at the hour' '
	grep -a "^O " frames >hdrs &&
	test $(wc -l <hdrs) = 12 &&
	grep -c "hour%3D08/" hdrs >n && test "$(cat n)" = 3
'

test_expect_success 'DuckDB reads the Hive layout with hive_partitioning' '
	q "SELECT dt, hour, count(*) FROM read_json(\"lake/x/**/*.jsonl.gz\", format=\"newline_delimited\", hive_partitioning=true) GROUP BY ALL ORDER BY ALL" >duck &&
	printf "2025-11-27\t07\t14\n2025-11-27\t08\t400\n2025-11-27\t09\t400\n2025-11-27\t10\t386\n" >duck.want &&
	test_cmp duck.want duck
'

test_expect_success '--timezone +08:00 shifts the buckets' '
	transform --key "$K" --timezone +08:00 <in | deliver file://$TRASH/tz/ >/dev/null &&
	check_hours tz 28800 publish_time_ms >hours &&
	head -1 hours >first && echo "2025-11-27 15 14" >first.want &&
	test_cmp first.want first
'

test_expect_success '--timezone by name follows the zone rules' '
	transform --key "$K" --timezone Asia/Kolkata <in | deliver file://$TRASH/kol/ >/dev/null &&
	check_hours kol 19800 publish_time_ms >hours &&
	head -1 hours >first && echo "2025-11-27 13 214" >first.want &&
	test_cmp first.want first &&
	test_expect_code 2 transform --check --timezone Nowhere/Atlantis 2>err &&
	test_expect_code 2 transform --check --timezone +15:00 2>err &&
	test_expect_code 2 transform --check --partition-time arrival 2>err
'

test_expect_success '--partition-time event: the event hour' '
	transform --key "$K" --partition-time event <in | deliver file://$TRASH/ev/ >/dev/null &&
	check_hours ev 0 event_time_ms >hours &&
	head -1 hours >first && echo "2025-11-27 08 14" >first.want &&
	test_cmp first.want first
'

test_expect_success 'the default key sorts in publish order (v1 does not)' '
	transform --max-messages 100 <in >d.frames &&
	grep -ao " key=[^ ]*" d.frames | grep -- "-0\.jsonl\.gz$" >keys &&
	sort keys | cmp - keys &&
	transform --key v1 --max-messages 100 <in >v1.frames &&
	grep -ao " key=[^ ]*/9-[0-9]*-0--1\.jsonl\.gz" v1.frames >v1keys &&
	! sort v1keys | cmp -s - v1keys
'

# 60000 records of random-ish JSON: 1M stored gzip objects
python3 - <<'PY'
import random
random.seed(7)
with open('big', 'wb') as f:
    for i in range(60000):
        body = ('{"i":%d,"u":"u%d","v":%r,"s":"%s"}' % (i, random.randrange(1000),
            random.random(), ''.join(random.choice('abcdefgh') for _ in range(24)))).encode()
        f.write(b'M %d seq=%d id=5:%d:-1:-1 topic=t pt=1764201600000\n' % (len(body), i + 1, i) + body + b'\n')
PY

test_expect_success '--max-bytes 1M gzip: objects of about 1 MB stored' '
	transform --max-bytes 1M --max-messages 100000000 <big >b.frames &&
	seqs_once b.frames 60000 &&
	grep -a "^O " b.frames | cut -d" " -f2 >sizes &&
	test $(wc -l <sizes) -ge 3 &&
	sed \$d sizes | while read -r s; do
		test $s -ge 943718 && test $s -le 1153434 || return 1
	done
'

test_done
