#!/bin/sh
# consume --lines: one message per line, binary-safe, deterministic ids.
. "$(dirname "$0")/test-lib.sh"

# frames FILE [FIELD]: the payloads of a frame file, one per line, or the
# value of header FIELD of each frame; an independent reader (Python).
frames() {
	python3 - "$@" <<'PY'
import sys
d = open(sys.argv[1], 'rb').read()
field = sys.argv[2].encode() if len(sys.argv) > 2 else None
out = sys.stdout.buffer
i = 0
while i < len(d):
    nl = d.index(b'\n', i)
    h = d[i:nl].split(b' ')
    n = int(h[1])
    body = d[nl + 1:nl + 1 + n]
    assert d[nl + 1 + n:nl + 2 + n] == b'\n', 'no newline after body'
    i = nl + 2 + n
    if field is None:
        out.write(body + b'\n')
    else:
        f = dict(x.split(b'=', 1) for x in h[2:])
        out.write(f.get(field, b'-') + b'\n')
PY
}

test_expect_success 'each line is a message, the newline not in it' '
	printf "a\nbb\n\nccc\n" >in &&
	consume --lines in >out &&
	frames out >got &&
	test_cmp in got &&
	frames out seq >seqs &&
	printf "1\n2\n3\n4\n" >want && test_cmp want seqs
'

test_expect_success 'empty lines are empty messages' '
	printf "\n\n\n" >in &&
	consume --lines in >out &&
	test "$(grep -c "^M 0 " out)" = 3
'

test_expect_success 'a last line without a newline is a message' '
	printf "one\ntwo" >in &&
	consume --lines in >out &&
	frames out >got &&
	printf "one\ntwo\n" >want && test_cmp want got
'

test_expect_success 'NUL bytes and invalid UTF-8 pass unchanged' '
	printf "a\000b\n\377\376\300\n\r\n" >in &&
	consume --lines in >out &&
	frames out >got && test_cmp in got
'

test_expect_success '1 MB lines' '
	python3 -c "import sys; sys.stdout.write((\"x\" * 1048576 + \"\\n\") * 3 + \"y\\n\")" >in &&
	consume --lines in >out &&
	frames out >got && test_cmp in got &&
	test "$(grep -ac "^M 1048576 seq=" out)" = 3
'

test_expect_success 'a line over --max-size is a one-line error' '
	printf "short\n0123456789abc\n" >in &&
	test_expect_code 1 consume --max-size 10 --lines in >out 2>err &&
	test_one_line err && grep "line 2 is longer than 10" err
'

test_expect_success 'stdin, with --publish-time' '
	printf "s1\ns2\n" | consume --lines - --publish-time 1700000000000 >out &&
	frames out pt >pts &&
	printf "1700000000000\n1700000000000\n" >want && test_cmp want pts
'

test_expect_success 'several files, seqs run on, ids per file' '
	printf "a1\na2\n" >a && printf "b1\n" >b && printf "c1\n" >c &&
	consume --lines a b --lines c >out &&
	frames out >got &&
	printf "a1\na2\nb1\nc1\n" >want && test_cmp want got &&
	frames out seq >seqs && printf "1\n2\n3\n4\n" >want && test_cmp want seqs &&
	frames out id | cut -d: -f2- >entries &&
	printf "1:-1:-1\n2:-1:-1\n1:-1:-1\n1:-1:-1\n" >want &&
	test_cmp want entries
'

test_expect_success 'ids are deterministic: same file, same ids' '
	printf "x\ny\n" >d &&
	touch -d @1700000000 d &&
	consume --lines d >o1 && consume --lines ./d >o2 &&
	test_cmp o1 o2 &&
	frames o1 pt >pts && printf "1700000000000\n1700000000000\n" >want &&
	test_cmp want pts &&
	mkdir -p sub && cp -p d sub/d && consume --lines sub/d >o3 &&
	test_cmp o1 o3
'

test_expect_success 'the id rule: FNV-1a of NAME:PT >> 17, line number' '
	printf "x\n" >d &&
	consume --lines d --publish-time 1234 >o &&
	want=$(python3 -c "
h = 0xcbf29ce484222325
for c in b\"d:1234\":
    h = ((h ^ c) * 0x100000001b3) % (1 << 64)
print(\"%d:1:-1:-1\" % (h >> 17))") &&
	test "$(frames o id)" = "$want"
'

test_expect_success 'stdin gets ids from its publish time' '
	printf "x\n" | consume --lines - --publish-time 5 >o1 &&
	printf "x\n" | consume --lines - --publish-time 5 >o2 &&
	printf "x\n" | consume --lines - --publish-time 6 >o3 &&
	test_cmp o1 o2 && ! cmp -s o1 o3
'

test_expect_success '--topic: forms of a topic name' '
	printf "x\n" >d &&
	consume --lines d --topic pulsar-abc/ns1/orders >o &&
	test "$(frames o topic)" = persistent://pulsar-abc/ns1/orders &&
	consume --lines d >o &&
	test "$(frames o topic)" = persistent://public/default/replay &&
	test_expect_code 2 consume --lines d --topic "a/b" 2>err &&
	test_one_line err
'

test_expect_success 'a missing file is a one-line usage error' '
	test_expect_code 2 consume --lines nonexistent >out 2>err &&
	test_one_line err && grep nonexistent err
'

test_expect_success 'bad flag, bad number, nothing to read: exit 2' '
	test_expect_code 2 consume --no-such-flag 2>err &&
	test_expect_code 2 consume --lines x --max-unacked 0 2>err &&
	test_expect_code 2 consume 2>err &&
	test_expect_code 2 consume somefile 2>err
'

test_expect_success '--help on stdout, exit 0' '
	consume --help >out 2>err && grep -q -- --lines out && ! test -s err
'

test_expect_success 'a pipe that closes early is an error, not a hang' '
	python3 -c "import sys; sys.stdout.write(\"line\\n\" * 200000)" >in &&
	test_timeout 20 sh -c "consume --lines in | head -c 10 >/dev/null"
'

test_done
