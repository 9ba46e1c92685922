#!/bin/sh
# transform's partitions by a payload member: {field:PATH} in the key
# (country=cn/ layouts, values made key-safe, null and non-JSON as Hive's
# default partition) and --partition-time field:PATH (the time of the
# buckets from the payload, epoch ms or RFC 3339, else publish time);
# every record read back under its own value and hour, by Python object
# by object and by DuckDB with hive_partitioning.
. "$(dirname "$0")/test-lib.sh"
. "$TEST_DIRECTORY/lib-transform.sh"

# 3 partitions, 1500 messages, 60 s apart from 07:30 UTC; each partition's
# "country" comes in runs of 1 to 40 of a value from VALUES (strings that
# need sanitizing, numbers, booleans, null, missing, an object, a payload
# that is not JSON); "ts" one of several time forms; "user.city" nested.
T0=1764228600000
python3 - "$T0" <<'PY'
import json, random, sys
t0 = int(sys.argv[1])
random.seed(11)
MISSING, NONJSON = object(), object()
VALUES = ["cn", "us", "de", None, MISSING, "a/b=c d", "..", "", 12.5, 7,
          True, {"x": 1}, "S\u00e3o Paulo", "x" * 150, NONJSON, "cn"]
TS = ["ms", "rfc", "rfcz", "garbage", "neg", "float", "missing"]
run = {}
with open('in', 'wb') as f:
    for i in range(1500):
        p = i % 3
        if p not in run or run[p][1] == 0:
            run[p] = [random.choice(VALUES), random.randint(1, 40)]
        run[p][1] -= 1
        v = run[p][0]
        pt = t0 + i * 60000
        et = pt + 7200000 + random.randrange(-1800000, 1800000)
        kind = TS[i % len(TS)]
        d = {"i": i, "user": {"city": "c%d" % (i // 100 % 3)}}
        if v is not MISSING:
            d["country"] = v
        if kind == "ms":
            d["ts"] = et
        elif kind in ("rfc", "rfcz"):
            import datetime
            tz = datetime.timezone(datetime.timedelta(hours=8)) \
                if kind == "rfc" else datetime.timezone.utc
            s = datetime.datetime.fromtimestamp(et / 1000, tz).isoformat(
                timespec="milliseconds")
            d["ts"] = s.replace("+00:00", "Z")
        elif kind == "garbage":
            d["ts"] = "not a time"
        elif kind == "neg":
            d["ts"] = -5
        elif kind == "float":
            d["ts"] = et + 0.5
        body = b"not json %d" % i if v is NONJSON else \
            json.dumps(d, ensure_ascii=False, separators=(",", ":")).encode()
        f.write(b'M %d seq=%d id=9:%d:%d:-1 topic=persistent://tn/ns/x-partition-%d pt=%d\n'
                % (len(body), i + 1, i // 3, p, p, pt) + body + b'\n')
PY

# check.py LAKE [NAME=PATH...]: every record of every object (jsonl.gz)
# has, for each PATH, the value that the key's segment NAME=value names,
# and its key time (ts as the docs say, else publish time) in the key's
# dt= and hour= when it has them; prints "value count" per value of the
# first NAME (or per "dt hour"), then "objects N".
cat >check.py <<'PY'
import base64, datetime, gzip, json, os, sys
SAFE = set(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.")
NULL = "__HIVE_DEFAULT_PARTITION__"
MAXMS = 253402300799999

def payload(r):
    if r.get("payload_encoding") == "base64":
        return base64.b64decode(r["payload"])
    p = r["payload"]
    return json.dumps(p).encode() if not isinstance(p, str) else p.encode()

def doc(b):
    try:
        return json.loads(b)
    except ValueError:
        return None

def member(d, path):
    for seg in path.split("."):
        if not isinstance(d, dict) or seg not in d:
            return None
        d = d[seg]
    return d

def keyval(d, path, raw):
    v = member(d, path)
    if v is None or isinstance(v, (dict, list)):
        return NULL
    if isinstance(v, bool):
        s = b"true" if v else b"false"
    elif isinstance(v, str):
        s = v.encode()
    else:   # as written in the payload
        s = json.dumps(v).encode()
        assert s in raw, (s, raw)
    s = s[:100]
    if s in (b"", b".", b".."):
        return "_" * max(len(s), 1)
    return "".join(chr(c) if c in SAFE else "_" for c in s)

def key_ms(d, pt):
    v = member(d, "ts")
    if isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= MAXMS:
        return v
    if isinstance(v, str):
        try:
            t = datetime.datetime.fromisoformat(v.replace("Z", "+00:00"))
            ms = int(t.timestamp() * 1000)
            if 0 <= ms <= MAXMS:
                return ms
        except ValueError:
            pass
    return pt

def main(lake, specs):
  per, objects = {}, 0
  for dirpath, _, files in os.walk(lake):
    for fn in files:
        if "_lakepipe" in dirpath or fn.startswith("."):
            continue
        path = os.path.join(dirpath, fn)
        seg = dict(s.split("=", 1) for s in os.path.relpath(path, lake).split("/") if "=" in s)
        objects += 1
        for line in gzip.open(path).read().splitlines():
            r = json.loads(line)
            raw = payload(r)
            d = doc(raw)
            for name, p in specs:
                assert seg[name] == keyval(d, p, raw), (path, name, r)
            if "hour" in seg:
                t = datetime.datetime.fromtimestamp(
                    key_ms(d, r["publish_time_ms"]) / 1000, datetime.timezone.utc)
                assert (seg["dt"], seg["hour"]) == (t.strftime("%Y-%m-%d"), t.strftime("%H")), (path, r)
            v = seg[specs[0][0]] if specs else seg["dt"] + " " + seg["hour"]
            per[v] = per.get(v, 0) + 1
  for v in sorted(per):
    print(v, per[v])
  print("objects", objects)

if __name__ == "__main__":
    main(sys.argv[1], [a.split("=", 1) for a in sys.argv[2:]])
PY

# runs FILE PATH: the objects a key with {field:PATH} alone must give:
# per partition, the runs of records with one key value.
runs() {
	python3 - "$1" "$2" <<'PY'
import json, sys
sys.path.insert(0, ".")
from check import doc, keyval
last, n = {}, 0
data = open(sys.argv[1], "rb").read()
pos = 0
while pos < len(data):
    nl = data.index(b"\n", pos)
    h = data[pos:nl].split()
    body = data[nl + 1:nl + 1 + int(h[1])]
    pos = nl + 2 + int(h[1])
    p = [f for f in h if f.startswith(b"topic=")][0]
    v = keyval(doc(body), sys.argv[2], body)
    if last.get(p) != v:
        n += 1
    last[p] = v
print(n)
PY
}

K1='x/c={field:country}/{seq_id}-{partition}.{ext}'

test_expect_success '{field:country}: each record under its own value' '
	transform --key "$K1" <in >frames &&
	seqs_once frames 1500 &&
	deliver file://$TRASH/lake/ <frames >acks &&
	test $(wc -l <acks) = $(grep -ac "^O " frames) &&
	python3 check.py lake/x c=country >per &&
	grep "^__HIVE_DEFAULT_PARTITION__ " per &&
	grep "^a_b_c_d " per && grep "^__ " per && grep "^_ " per &&
	grep "^12\.5 " per && grep "^7 " per && grep "^true " per &&
	grep "^S__o_Paulo " per && grep "^x\{100\} " per
'

test_expect_success 'a batch is cut where the value changes, nowhere else' '
	runs in country >want.n &&
	test $(cat want.n) -gt 40 &&
	echo "objects $(cat want.n)" >want &&
	tail -1 per >got &&
	test_cmp want got
'

JSONS="format='newline_delimited', columns={'message_id': 'VARCHAR'}"
HIVE="hive_partitioning=true, hive_types_autocast=false"
SQL_C="SELECT coalesce(c, 'NULL'), count(*)
	FROM read_json('lake/x/**/*.jsonl.gz', $JSONS, $HIVE) GROUP BY ALL"

test_expect_success 'DuckDB reads the values back with hive_partitioning' '
	q "$SQL_C" >duck &&
	sed "\$d; s/^__HIVE_DEFAULT_PARTITION__ /NULL /; s/ /	/" per |
	    LC_ALL=C sort >duck.want &&
	LC_ALL=C sort duck >duck.sorted &&
	test_cmp duck.want duck.sorted
'

test_expect_success 'a nested path and two fields: the pairs of values' '
	transform --key "y/c={field:country}/city={field:user.city}/{seq_id}-{partition}.{ext}" \
	    <in >frames2 &&
	seqs_once frames2 1500 &&
	deliver file://$TRASH/lake/ <frames2 >/dev/null &&
	python3 check.py lake/y c=country city=user.city >per2 &&
	sed \$d per2 >v2 && sed \$d per >v1 && test_cmp v1 v2 &&
	ls lake/y/c=cn | sort >cities &&
	printf "city=c0\ncity=c1\ncity=c2\n" >cities.want &&
	test_cmp cities.want cities
'

K2='t/dt={date}/hour={hh}/{seq_id}-{partition}.{ext}'

test_expect_success '--partition-time field:ts: each record under its own hour' '
	transform --key "$K2" --partition-time field:ts <in >frames3 &&
	seqs_once frames3 1500 &&
	deliver file://$TRASH/lake/ <frames3 >/dev/null &&
	python3 check.py lake/t >hours &&
	test $(sed \$d hours | wc -l) -ge 25
'

test_expect_success 'the payload time is used, not the publish time' '
	transform --key "$K2" <in | deliver file://$TRASH/pub/ >/dev/null &&
	test_must_fail python3 check.py pub/t 2>/dev/null
'

test_expect_success 'a field value and the payload time together' '
	transform --key "z/c={field:country}/dt={date}/hour={hh}/{seq_id}-{partition}.{ext}" \
	    --partition-time field:ts <in >frames4 &&
	seqs_once frames4 1500 &&
	deliver file://$TRASH/lake/ <frames4 >/dev/null &&
	python3 check.py lake/z c=country >per4 &&
	sed \$d per4 >v4 && test_cmp v1 v4
'

SQL_PQ="SELECT count(*), count(*) FILTER (WHERE c = 'cn' AND country = 'cn'),
	count(*) FILTER (WHERE c IN ('cn', 'us', 'de') AND c <> country)
	FROM read_parquet('lake/p/c=*/*.parquet', $HIVE)"
SQL_REJ="SELECT count(*) FROM read_json('lake/_errors/**/*.gz', $JSONS)"

test_expect_success 'Parquet objects under {field:...}, read by DuckDB' '
	transform --format parquet --fields "i:int64,country:string" \
	    --key "p/c={field:country}/{seq_id}-{partition}.{ext}" <in >frames5 &&
	seqs_once frames5 1500 &&
	deliver file://$TRASH/lake/ <frames5 >/dev/null &&
	q "$SQL_PQ" >pq &&
	q "$SQL_REJ" >rej &&
	test $(cat rej) -gt 0 &&
	printf "%s\t%s\t0\n" $((1500 - $(cat rej))) $(grep "^cn " per | cut -d" " -f2) >pq.want &&
	test_cmp pq.want pq
'

test_expect_success 'deliver --markers: a _SUCCESS in each value and hour, with its counts' '
	transform --key "m/c={field:country}/dt={date}/hour={hh}/{seq_id}-{partition}.{ext}" <in |
	    deliver --markers --partitions 3 file://$TRASH/mk/ >/dev/null &&
	python3 - <<-\PY
	import gzip, json, os
	dirs = {}
	for d, _, fs in os.walk("mk/m"):
	    for f in fs:
	        if f != "_SUCCESS":
	            dirs.setdefault(d, 0)
	            dirs[d] += len(gzip.open(os.path.join(d, f)).read().splitlines())
	last = max(d.split("/dt=")[1] for d in dirs)
	done = [d for d in dirs if d.split("/dt=")[1] != last]
	assert len(done) > 20, dirs
	for d in done:
	    m = json.load(open(os.path.join(d, "_SUCCESS")))
	    assert m["messages"] == dirs[d] == sum(m["partitions"].values()), (d, m, dirs[d])
	    assert m["bucket"] == d[len("mk/"):], m
	PY
'

test_expect_success 'bad paths and templates are usage errors, in one line' '
	for k in "{field:}/{seq_id}" "{field:a..b}/{seq_id}" "{field:.a}/{seq_id}" \
	    "{field:a.}/{seq_id}" "{field:a b}/{seq_id}" \
	    "{field:a}{field:b}{field:c}{field:d}{field:e}{field:f}{field:g}{field:h}{field:i}/{seq_id}"
	do
		test_expect_code 2 transform --key "$k" </dev/null 2>err &&
		test_one_line err && grep -q "field" err || return 1
	done &&
	for t in field: field:a..b field field:.x; do
		test_expect_code 2 transform --partition-time "$t" </dev/null 2>err &&
		test_one_line err && grep -q -- "--partition-time" err || return 1
	done &&
	transform --check --key "a={field:a}/b={field:b.c}/{seq_id}" \
	    --partition-time field:x.y
'

test_done
