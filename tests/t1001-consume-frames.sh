#!/bin/sh
# consume --frames: an existing frame stream, messages renumbered.
. "$(dirname "$0")/test-lib.sh"

test_expect_success 'setup: a frame file with unknown fields' '
	printf "M 5 seq=7 id=3:4:-1:-1 topic=persistent://t/n/x pt=1000 x.new=a%%20b key=k1\nhello\n" >in &&
	printf "O 3 key=a/b.gz type=x n=0 seqs=1\nabc\n" >>in &&
	printf "M 0 seq=9 id=3:5:2:0 topic=persistent://t/n/x pt=1001\n\n" >>in &&
	printf "Z some=future\n" >>in &&
	printf "M 3 seq=10 id=3:6:-1:-1 topic=persistent://t/n/x pt=1002\na\000b\n" >>in
'

test_expect_success 'messages get fresh seqs, fields carried, others skipped' '
	consume --frames in >out &&
	cat >want <<-\EOF &&
	M 5 seq=1 id=3:4:-1:-1 topic=persistent://t/n/x pt=1000 x.new=a%20b key=k1
	hello
	M 0 seq=2 id=3:5:2:0 topic=persistent://t/n/x pt=1001

	EOF
	printf "M 3 seq=3 id=3:6:-1:-1 topic=persistent://t/n/x pt=1002\na\000b\n" >>want &&
	test_cmp want out
'

test_expect_success 'round trip: lines -> frames -> frames keeps payloads' '
	printf "one\n\ntwo \377\n" >lines &&
	consume --lines lines >f1 &&
	consume --frames f1 >f2 &&
	test_cmp f1 f2 &&
	cat f1 f1 >f11 && consume --frames f11 >f3 &&
	test "$(grep -ac "^M " f3)" = 6 &&
	tail -n 6 f3 | head -1 | grep "^M 3 seq=4 "
'

test_expect_success 'gzip: zcat into --frames -' '
	gzip -c f1 >f1.gz &&
	zcat f1.gz | consume --frames - >f4 &&
	test_cmp f1 f4
'

test_expect_success 'several frame files, stdin among them' '
	consume --frames f1 - f1 <f1 >f5 &&
	test "$(grep -ac "^M " f5)" = 9
'

test_expect_success 'truncated frame file: one line, byte offset, exit 1' '
	size=$(wc -c <f1) &&
	head -c $((size - 3)) f1 >cut &&
	test_expect_code 1 consume --frames cut >out 2>err &&
	test_one_line err &&
	grep "cut: byte [0-9]*: truncated" err
'

test_expect_success 'whole frames before the damage are still written' '
	test "$(grep -ac "^M " out)" = 2
'

test_expect_success 'garbage: one line naming the offset' '
	{ cat f1; echo garbage; } >bad &&
	test_expect_code 1 consume --frames bad >out 2>err &&
	test_one_line err && grep "byte $(wc -c <f1):" err
'

test_expect_success 'a body over --max-size is an error' '
	test_expect_code 1 consume --frames f1 --max-size 2 >out 2>err &&
	test_one_line err
'

test_done
