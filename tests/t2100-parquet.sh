#!/bin/sh
# transform's Parquet writer (transform/parquet.c and its parts,
# transform/pq_*.c) read back by two independent readers, DuckDB and
# hyparquet (pure JS): every type, nulls, UTF-8, empty and 100 KB strings,
# dictionary-encoded columns and the fallback to plain, several row groups
# and pages, every codec; both readers must agree with the input, value
# for value, and DuckDB's parquet_metadata() must show the statistics and
# encodings written.
# Files are made by the unit test's driver (tests/unit/test-parquet write).
. "$(dirname "$0")/test-lib.sh"

PQW=$LAKEPIPE_BUILD/tests/unit/test-parquet
READ="node $PEERS/parquet-read.js"

# gen.py KIND: the description on stdout, the expectation (the readers'
# canonical form, see tests/peers/parquet-read.js) in expect.KIND
cat >gen.py <<'PY'
import random, struct, sys
kind = sys.argv[1]
random.seed(7)
def esc(s):
    return s.replace('\\', '\\\\').replace('\t', '\\t').replace('\n', '\\n').replace('\r', '\\r')
def dbl(v):
    return 'nan' if v != v else struct.pack('<d', v).hex()
cols, rows = [], []
if kind == 'types':
    cols = ['id:int64', 'i:int64?', 'd:double?', 'b:boolean?', 's:string?',
            'bin:binary?', 'ts:timestamp?', 'city:string?', 'big:string?',
            'flag:boolean']
    cities = ['Paris', 'Zürich', '東京', 'São Paulo', '', 'New\tYork', 'a\nb']
    words = ['', 'x', 'café', '中文', '😀 emoji', 'tab\there', 'back\\slash',
             'nul-free \x01 ctl', 'ünïcödé', 'zzz', 'A' * 70, 'é' * 40]
    ints = [0, 1, -1, 2**63 - 1, -2**63, 42, -123456789012345]
    dbls = [0.0, -0.0, 1.5, -2.25, 1e308, -1e308, 5e-324, float('inf'),
            float('-inf'), float('nan'), 3.141592653589793]
    for n in range(3000):
        r = [(str(n), str(n))]
        v = random.choice(ints + [None, random.randrange(-2**63, 2**63)])
        r.append((None, '\\N') if v is None else (str(v), str(v)))
        v = random.choice(dbls + [None, random.uniform(-1e6, 1e6)])
        r.append((None, '\\N') if v is None else (dbl(v), v.hex()))
        v = random.choice([None, True, False])
        r.append((None, '\\N') if v is None else ('1' if v else '0', '1' if v else '0'))
        v = random.choice(words + [None, ''.join(chr(random.randrange(32, 0x2fff)) for _ in range(random.randrange(20)))])
        r.append((None, '\\N') if v is None else (v.encode().hex(), esc(v)))
        v = None if n % 7 == 0 else bytes(random.randrange(256) for _ in range(random.randrange(30)))
        r.append((None, '\\N') if v is None else (v.hex(), v.hex()))
        v = None if n % 11 == 0 else 1764201600000 + random.randrange(-10**12, 10**12)
        r.append((None, '\\N') if v is None else (str(v), str(v)))
        v = None if n % 13 == 0 else cities[n % len(cities)]
        r.append((None, '\\N') if v is None else (v.encode().hex(), esc(v)))
        if n % 300 == 5:
            v = chr(ord('a') + n % 26) * (100 * 1024)
        elif n % 9 == 0:
            v = None
        else:
            v = 'short %d' % n
        r.append((None, '\\N') if v is None else (v.encode().hex(), esc(v)))
        v = n % 3 == 0
        r.append(('1' if v else '0', '1' if v else '0'))
        rows.append(r)
elif kind == 'fallback':
    # 40 distinct values, then every value new: the dictionary fills
    cols = ['k:string', 'n:int64']
    for n in range(20000):
        v = 'key-%d' % (n % 40) if n < 5000 else 'unique-%d-%s' % (n, 'p' * (n % 50))
        rows.append([(v.encode().hex(), v), (str(n), str(n))])
elif kind == 'empty':
    cols = ['a:int64', 'b:string?']
with open('expect.' + kind, 'w') as f:
    f.write('\t'.join(cols) + '\n')
    for r in rows:
        f.write('\t'.join('\\N' if e is None else e for e, _ in r) + '\n')
sys.stdout.write('\t'.join(cols) + '\n')
for r in rows:
    sys.stdout.write('\t'.join(d for _, d in r) + '\n')
PY

# readback FILE KIND: both readers give the expectation
readback() {
	$READ duckdb "$1" >"$1.duckdb" &&
	test_cmp "expect.$2" "$1.duckdb" &&
	$READ hyparquet "$1" >"$1.hyparquet" &&
	test_cmp "expect.$2" "$1.hyparquet"
}

test_expect_success 'the unit tests of the encoders pass' '
	"$PQW" >unit.out &&
	! grep "^not ok" unit.out
'

test_expect_success 'descriptions' '
	python3 gen.py types >types.txt &&
	python3 gen.py fallback >fallback.txt &&
	python3 gen.py empty >empty.txt &&
	test "$(wc -l <expect.types)" -eq 3001
'

for codec in none snappy gzip zstd; do
	test_expect_success "every type, $codec pages, default sizes: both readers" "
		\"\$PQW\" write -c $codec types-$codec.parquet <types.txt &&
		readback types-$codec.parquet types
	"
	test_expect_success "every type, $codec, small pages and row groups" "
		\"\$PQW\" write -c $codec -p 2048 -g 30000 \
			small-$codec.parquet <types.txt &&
		readback small-$codec.parquet types &&
		\$READ meta small-$codec.parquet >meta-$codec &&
		tail -1 meta-$codec >groups &&
		grep '^rows 3000 groups ' groups &&
		test \$(cut -d' ' -f4 groups) -ge 5 &&
		cut -f5 meta-$codec | sed '\$d' | sort -u >codecs &&
		echo $codec | sed 's/none/UNCOMPRESSED/' | tr a-z A-Z >want &&
		test_cmp want codecs
	"
done

test_expect_success 'streaming (pq_take after each row) makes the same bytes' '
	"$PQW" write -t 1000 -c zstd -p 2048 -g 30000 taken.parquet <types.txt &&
	cmp taken.parquet small-zstd.parquet
'

test_expect_success 'low-cardinality strings are dictionary-encoded' '
	$READ meta types-zstd.parquet >meta &&
	awk -F"\t" "\$2 == \"city\"" meta >city &&
	grep "RLE_DICTIONARY" city && grep "	true$" city &&
	awk -F"\t" "\$2 == \"bin\"" meta >bin &&
	! grep "RLE_DICTIONARY" bin && grep "	false$" bin
'

test_expect_success 'statistics: null counts, signed int64, byte-wise strings' '
	$READ meta types-none.parquet >meta &&
	awk -F"\t" "\$2 == \"i\" { print \$7, \$8 }" meta >i &&
	echo "-9223372036854775808 9223372036854775807" >want &&
	test_cmp want i &&
	awk -F"\t" "\$2 == \"id\" { print \$7, \$8, \$9 }" meta >id &&
	echo "0 2999 0" >want && test_cmp want id &&
	awk -F"\t" "\$2 == \"bin\" { print \$9 }" meta >nulls &&
	echo 429 >want && test_cmp want nulls &&
	awk -F"\t" "\$2 == \"city\" { print \$7 \"|\" \$8 }" meta >city &&
	printf "|東京\n" >want && test_cmp want city &&
	awk -F"\t" "\$2 == \"flag\" { print \$7, \$8, \$9 }" meta >flag &&
	echo "false true 0" >want && test_cmp want flag
'

# dstats VALUES...: DuckDB's view of the min and max of a double column
dstats() {
	printf "d:double?\n" >dd.txt &&
	printf "%s\n" "$@" >>dd.txt &&
	"$PQW" write -c none dd.parquet <dd.txt &&
	$READ meta dd.parquet | head -1 | cut -f7,8 | tr "\t" " "
}

test_expect_success 'statistics: doubles leave NaN out, zeros signed' '
	test "$(dstats 1.5 nan -2.25 \\N 0.5)" = "-2.25 1.5" &&
	test "$(dstats 0.0 -0.0)" = "-0.0 0.0" &&
	test "$(dstats -0.0 2)" = "-0.0 2.0" &&
	test "$(dstats nan nan)" = "\\N \\N"
'

test_expect_success 'statistics: long strings truncated' '
	$READ meta types-none.parquet >meta &&
	awk -F"\t" "\$2 == \"big\" { print length(\$7) <= 64, length(\$8) <= 64 }" \
		meta >big &&
	echo "1 1" >want && test_cmp want big
'

test_expect_success 'DuckDB filters with the statistics and still finds every row' '
	cat >q.js <<-\EOF &&
	const path = require("path");
	const { DuckDBInstance } = require(path.join(process.env.PEERS, "node_modules/@duckdb/node-api"));
	(async () => {
		const c = await (await DuckDBInstance.create(":memory:")).connect();
		const f = "read_parquet(\x27" + process.argv[2] + "\x27)";
		for (const w of ["big = repeat(\x27z\x27, 102400)", "big > \x27zz\x27",
		    "i = -9223372036854775808", "city = \x27東京\x27", "d > 1e300",
		    "ts < \x272025-01-01\x27::TIMESTAMPTZ", "s = \x27\x27"]) {
			const r = await c.runAndReadAll("SELECT count(*)::INT FROM " + f + " WHERE " + w);
			console.log(r.getRows()[0][0]);
		}
	})();
	EOF
	node q.js "$TRASH/small-snappy.parquet" >got &&
	python3 - >want <<-\EOF &&
	import csv
	rows = [l.rstrip("\n").split("\t") for l in open("expect.types")][1:]
	z = ("z" * 102400).encode().hex()
	print(sum(r[8] == z for r in rows))
	print(sum(r[8] != "\\N" and bytes.fromhex(r[8]) > b"zz" for r in rows))
	print(sum(r[1] == "-9223372036854775808" for r in rows))
	print(sum(r[7] == "東京".encode().hex() for r in rows))
	import struct
	# DuckDB orders NaN above every number
	print(sum(r[2] == "nan" or r[2] != "\\N" and struct.unpack("<d", bytes.fromhex(r[2]))[0] > 1e300 for r in rows))
	print(sum(r[6] != "\\N" and int(r[6]) < 1735689600000 for r in rows))
	print(sum(r[4] == "" for r in rows))
	EOF
	test_cmp want got
'

test_expect_success 'a dictionary that fills falls back to plain pages' '
	"$PQW" write -c snappy -d 65536 -p 8192 fb.parquet <fallback.txt &&
	readback fb.parquet fallback &&
	$READ meta fb.parquet >meta &&
	awk -F"\t" "\$2 == \"k\"" meta >k &&
	grep "PLAIN" k && grep "RLE_DICTIONARY" k && grep "	true$" k
'

test_expect_success 'no dictionaries when dict-bytes is 0' '
	"$PQW" write -d 0 nodict.parquet <types.txt &&
	readback nodict.parquet types &&
	$READ meta nodict.parquet >meta &&
	! grep RLE_DICTIONARY meta
'

test_expect_success 'a file of no rows' '
	"$PQW" write -c zstd empty.parquet <empty.txt &&
	readback empty.parquet empty
'

test_expect_success 'gzip and zstd levels' '
	"$PQW" write -c gzip -l 3 gz3.parquet <types.txt &&
	readback gz3.parquet types &&
	"$PQW" write -c zstd -l 19 zs19.parquet <types.txt &&
	readback zs19.parquet types
'

# The writer on transform's format interface: a replay through the whole
# pipeline to a file:// lake, every object read by both readers.
cat >lakegen.py <<'PY'
import json, random, struct
random.seed(3)
users = ['ann', 'bé', '中文', '😀', '']
with open('input', 'w') as f, open('expect.lake', 'w') as e:
    for i in range(12000):
        d = {'id': i}
        if i % 5:
            d['user'] = {'name': users[i % len(users)]}
        price = random.choice([0.5, -2.25, 1e300, random.uniform(-1e9, 1e9)])
        d['price'] = price
        d['ts'] = 1764201600000 + i * 997
        d['ok'] = i % 3 == 0
        note = 'x' * 102400 if i % 2500 == 7 else ('' if i % 7 == 0 else 'note %d\t"q"' % i)
        if i % 11:
            d['note'] = note
        f.write(json.dumps(d, ensure_ascii=bool(i % 2)) + '\n')
        h = lambda s: s.encode().hex()
        e.write('\t'.join([str(i), h(d['user']['name']) if 'user' in d else '\\N',
            struct.pack('<d', price).hex(), str(d['ts']), '1' if d['ok'] else '0',
            h(note) if 'note' in d else '\\N']) + '\n')
PY
FIELDS='id:int64,user.name=user,price:double,ts:timestamp,ok:boolean,note:string'

for codec in snappy zstd gzip none; do
	test_expect_success "transform --format parquet, $codec: both readers, every record" "
		python3 lakegen.py &&
		test_timeout 300 pipeline.sh --lines input --publish-time 1764201600000 -- \
			--format parquet --parquet-compression $codec \
			--fields \"\$FIELDS\" --max-messages 5000 -- \
			file://\$TRASH/lake-$codec/ 2>err &&
		grep '12000 messages emitted, 12000 acked' err &&
		find lake-$codec -name '*.parquet' | sort >objects &&
		test \$(wc -l <objects) -eq 3 &&
		: >all &&
		while read -r o; do
			\$READ duckdb \$o >o.duckdb &&
			\$READ hyparquet \$o >o.hyparquet &&
			cmp o.duckdb o.hyparquet &&
			sed 1d o.duckdb | cut -f9-14 >>all || return 1
		done <objects &&
		sort -n all >got &&
		test_cmp expect.lake got
	"
done

test_done
