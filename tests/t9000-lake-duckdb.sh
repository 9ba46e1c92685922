#!/bin/sh
# The lake read back by an independent reader: DuckDB reads every object
# of a replay, and every message's id and exact payload bytes must match
# the input.
. "$(dirname "$0")/test-lib.sh"

PT=1764201600000

# A hostile input: empty lines, 1 MB lines, invalid UTF-8, NUL bytes, CR,
# JSON with and without whitespace, JSON-looking text that is not JSON,
# and a last line without a newline.  expect: entry<TAB>hex, one per line.
python3 - <<'PY'
import random
random.seed(42)
lines = [
    b'', b'{"a":1}', b'[1,2,3]', b'{"a": 1, "b" : [true, null]}', b' {"lead":1}',
    b'{"trail":1} ', b'{"bad":}', b'{"s":"\\u00e9\\ud83d\\ude00"}', b'"just a string"',
    b'42', b'plain text', b'caf\xc3\xa9 \xe4\xb8\xad\xe6\x96\x87', b'\xff\xfe invalid',
    b'nul\x00inside', b'cr\rinside', b'tab\tand\x01ctl', b'{"deep":' + b'[' * 300 + b']' * 300 + b'}',
    b'{"x":"\xc3\x28"}', b'\xed\xa0\x80 surrogate', b'{"payload":{"payload":1}}',
    b'x' * (1 << 20), b'{"big":"' + b'y' * (1 << 20) + b'"}',
]
for i in range(3000):
    k = random.randrange(4)
    if k == 0:
        lines.append(b'{"n":%d,"v":"%s"}' % (i, bytes(random.choice(b'abc xyz') for _ in range(random.randrange(40)))))
    elif k == 1:
        lines.append(bytes(random.randrange(256) for _ in range(random.randrange(60))).replace(b'\n', b''))
    elif k == 2:
        lines.append('ünïcödé %d ✓'.encode() % i)
    else:
        lines.append(b'')
lines.append(b'last line, no newline')
with open('input', 'wb') as f:
    f.write(b'\n'.join(lines))
with open('expect', 'w') as f:
    for i, l in enumerate(lines, 1):
        f.write('%d\t%s\n' % (i, l.hex()))
PY
N=$(wc -l <expect)

# lake_check DIR: DuckDB's view of the lake equals the input
lake_check() {
	node "$PEERS/lake-read.js" "$1" >got.raw &&
	# one ledger for the whole file; then entry<TAB>hex sorted by entry
	test "$(cut -d: -f1 got.raw | sort -u | wc -l)" -eq 1 &&
	cut -d: -f2- got.raw | sed 's/^\([0-9]*\):-1:-1\t[a-z0-9]*\t/\1\t/' |
		sort -n >got &&
	test_cmp expect got
}

test_expect_success 'hostile replay: DuckDB reads back every payload exactly' '
	test_timeout 120 pipeline.sh --lines input --publish-time $PT -- \
		--max-messages 700 -- file://$TRASH/lake/ 2>err &&
	grep "$N messages emitted, $N acked" err &&
	test "$(find lake -type f -name "*.jsonl.gz" | wc -l)" -eq 5 &&
	lake_check lake
'

test_expect_success 'uncompressed objects read back the same' '
	test_timeout 120 pipeline.sh --lines input --publish-time $PT -- \
		--compress none --max-bytes 512k -- file://$TRASH/plain/ 2>err &&
	test -z "$(find plain -name "*.gz")" &&
	lake_check plain
'

test_expect_success 'zstd objects read back the same' '
	test_timeout 120 pipeline.sh --lines input --publish-time $PT -- \
		--compress zstd -- file://$TRASH/zst/ 2>err &&
	test -n "$(find zst -name "*.zst")" &&
	lake_check zst
'

test_expect_success 'frames through tee, gzip and zcat land the same' '
	consume --lines input --publish-time $PT | tee raw.frames |
		gzip >raw.frames.gz &&
	zcat raw.frames.gz | cmp - raw.frames &&
	zcat raw.frames.gz | transform --max-messages 1000 |
		deliver file://$TRASH/viagz/ >acks &&
	test "$(grep -c "^A " acks)" -eq 4 &&
	lake_check viagz
'

test_expect_success 'the checker itself fails on a changed byte' '
	sed "2s/\t7b/\t7c/" expect >expect.bad && ! cmp -s expect expect.bad &&
	node "$PEERS/lake-read.js" lake | cut -d: -f2- |
		sed "s/^\([0-9]*\):-1:-1\t[a-z0-9]*\t/\1\t/" | sort -n >got2 &&
	! cmp -s expect.bad got2
'

test_done
