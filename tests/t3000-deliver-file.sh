#!/bin/sh
# deliver file:///DIR/: atomic writes into a local directory, ack lines,
# refusal of bad URLs, unsafe keys, malformed frames and unwritable places.
. "$(dirname "$0")/test-lib.sh"
. "$TEST_DIRECTORY/lib-deliver.sh"

test_expect_success 'setup: bodies of several shapes' '
	head -c 100000 /dev/urandom >bin &&
	printf "line one\nline two\n" >text &&
	: >empty &&
	printf "\n\n\n" >newlines &&
	{
		obj 2026/11/27/00/t/1-0.jsonl.gz bin type=application/x-ndjson enc=gzip n=3 seqs=1-3 first=1:0:-1:-1 last=1:2:-1:-1 &&
		obj 2026/11/27/00/t/1-3.txt text type=text/plain n=2 seqs=4-5,7 future.field=kept &&
		obj top.txt newlines type=text/plain n=1 seqs=6 &&
		obj 2026/11/27/01/u/empty-file.txt empty type=text/plain n=1 seqs=8
	} >in.frames
'

test_expect_success 'objects land byte for byte, one ack each, in order' '
	test_timeout 20 deliver file://$TRASH/lake/ <in.frames >acks &&
	cmp bin lake/2026/11/27/00/t/1-0.jsonl.gz &&
	cmp text lake/2026/11/27/00/t/1-3.txt &&
	cmp newlines lake/top.txt &&
	cmp empty lake/2026/11/27/01/u/empty-file.txt &&
	cut -d" " -f1-3 acks >got &&
	cat >want <<-\EOT &&
	A key=2026/11/27/00/t/1-0.jsonl.gz seqs=1-3
	A key=2026/11/27/00/t/1-3.txt seqs=4-5,7
	A key=top.txt seqs=6
	A key=2026/11/27/01/u/empty-file.txt seqs=8
	EOT
	test_cmp want got &&
	grep -q "^A key=top.txt seqs=6 size=3 url=file://$TRASH/lake/top.txt\$" acks
'

test_expect_success 'no temporary files are left, modes follow the umask' '
	test -z "$(find lake -name ".*" -type f)" &&
	test "$(find lake -type f | wc -l)" -eq 4 &&
	(umask 027 && deliver file://$TRASH/lake2/ <in.frames >/dev/null) &&
	test "$(stat -c %a lake2/top.txt)" = 640 &&
	test "$(stat -c %a lake/top.txt)" = "$(printf %o $((0666 & ~$(umask))))"
'

test_expect_success 'a second delivery overwrites in place (redelivery)' '
	printf "new" >new &&
	obj top.txt new n=1 seqs=9 | deliver file://$TRASH/lake/ >acks2 &&
	cmp new lake/top.txt &&
	grep -q "^A key=top.txt seqs=9 " acks2
'

test_expect_success 'n=0 with an empty body is acked without a file' '
	obj filtered/all.txt empty type=text/plain n=0 seqs=10-20 |
	deliver file://$TRASH/lake3/ >acks3 &&
	test_cmp - acks3 <<-\EOT &&
	A key=filtered/all.txt seqs=10-20 n=0
	EOT
	! test -e lake3/filtered
'

test_expect_success 'file://localhost/DIR/ works, percent-escapes decode' '
	obj a.txt text n=1 seqs=1 | deliver file://localhost$TRASH/sp%20ace/ >acks4 &&
	cmp text "sp ace/a.txt"
'

test_expect_success 'empty input: nothing acked, exit 0' '
	deliver file://$TRASH/lake5/ </dev/null >acks5 &&
	test ! -s acks5
'

for url in "file://relative/dir/" "file:///no/trailing/slash" "file:" \
	"http://example.com/" "/plain/path/" "file:///a/?x=1" "file:///bad%zz/"
do
	test_expect_success "bad URL $url: exit 2, one line" "
		test_expect_code 2 deliver '$url' <in.frames >out 2>err &&
		test ! -s out && one_error err && cat err
	"
done

test_expect_success 'bad flag, missing destination, extra argument: exit 2' '
	test_expect_code 2 deliver --no-such-flag file://$TRASH/x/ </dev/null 2>err &&
	test_expect_code 2 deliver </dev/null 2>err &&
	test_expect_code 2 deliver file://$TRASH/x/ file://$TRASH/y/ </dev/null 2>err &&
	test_expect_code 2 deliver --endpoint http://127.0.0.1:1 file://$TRASH/x/ </dev/null 2>err &&
	one_error err
'

test_expect_success '--help: stdout, exit 0, names the URL forms' '
	deliver --help >help &&
	grep -q "cos://BUCKET-APPID/PREFIX/?region=" help &&
	grep -q "s3://BUCKET/PREFIX/" help &&
	grep -q "file:///ABSOLUTE/DIR/" help
'

for key in ../evil.txt /abs.txt a//b.txt a/./b.txt a/../../b.txt dir/ "a%0Ab"
do
	test_expect_success "unsafe key $key: exit 1, no ack, no file" "
		{ obj ok.txt text n=1 seqs=1 && obj '$key' text n=1 seqs=2; } >unsafe.frames &&
		test_expect_code 1 deliver file://\$TRASH/u/ <unsafe.frames >out 2>err &&
		one_error err && grep -q 'unsafe key' err &&
		test \$(wc -l <out) -eq 1 && grep -q '^A key=ok.txt seqs=1 ' out &&
		test \$(find \$TRASH -name evil.txt -o -name abs.txt -o -name b.txt | wc -l) -eq 0
	"
done

test_expect_success 'object frame without key= or seqs=: exit 1, no ack' '
	printf "O 1 seqs=1\nx\n" | test_expect_code 1 deliver file://$TRASH/m/ >out 2>err &&
	test ! -s out && one_error err && grep -q "byte 0.*no key" err &&
	printf "O 1 key=a\nx\n" | test_expect_code 1 deliver file://$TRASH/m/ >out 2>err &&
	test ! -s out && grep -q "no seqs" err &&
	printf "O 1 key=a seqs=x\nx\n" | test_expect_code 1 deliver file://$TRASH/m/ >out 2>err &&
	test ! -s out && grep -q "malformed seqs" err
'

test_expect_success 'truncated frame: exit 1 naming the offset, earlier ones acked' '
	size=$(wc -c <in.frames) &&
	head -c $((size - 3)) in.frames >trunc.frames &&
	test_expect_code 1 deliver file://$TRASH/t/ <trunc.frames >out 2>err &&
	one_error err && cat err &&
	off=$(( $(obj 2026/11/27/00/t/1-0.jsonl.gz bin type=application/x-ndjson enc=gzip n=3 seqs=1-3 first=1:0:-1:-1 last=1:2:-1:-1 | wc -c) +
		$(obj 2026/11/27/00/t/1-3.txt text type=text/plain n=2 seqs=4-5,7 future.field=kept | wc -c) +
		$(obj top.txt newlines type=text/plain n=1 seqs=6 | wc -c) )) &&
	grep -q "byte $off: truncated" err &&
	test $(wc -l <out) -eq 3 &&
	! test -e t/2026/11/27/01/u/empty-file.txt &&
	test -z "$(find t -name ".*" -type f)"
'

test_expect_success 'garbage between frames: exit 1 with its offset' '
	{ obj a.txt text n=1 seqs=1 && printf "garbage\n"; } >garbage.frames &&
	test_expect_code 1 deliver file://$TRASH/g/ <garbage.frames >out 2>err &&
	one_error err && grep -q "byte $(obj a.txt text n=1 seqs=1 | wc -c): not a frame header" err &&
	test $(wc -l <out) -eq 1
'

test_expect_success 'a message frame on input is refused' '
	printf "M 1 seq=1 id=1:1:-1:-1 topic=t pt=1\nx\n" |
	test_expect_code 1 deliver file://$TRASH/mm/ >out 2>err &&
	test ! -s out && grep -q "message frame" err
'

test_expect_success 'frames of other types are skipped' '
	{ printf "X 3 what=ever\nabc\nY\n" && obj a.txt text n=1 seqs=1; } |
	deliver file://$TRASH/sk/ >out &&
	cmp text sk/a.txt && test $(wc -l <out) -eq 1
'

test_expect_success 'destination is a file: exit 1, clear error, no ack' '
	: >plainfile &&
	test_expect_code 1 deliver file://$TRASH/plainfile/ <in.frames >out 2>err &&
	test ! -s out && one_error err && grep -q "plainfile" err
'

test_expect_success 'a key whose directory is a file: exit 1, no ack' '
	mkdir -p kd && : >kd/a &&
	obj a/b.txt text n=1 seqs=1 >kd.frames &&
	test_expect_code 1 deliver file://$TRASH/kd/ <kd.frames >out 2>err &&
	test ! -s out && one_error err && cat err
'

# Root ignores permission bits: run deliver as nobody there.
as_user() {
	if [ "$(id -u)" -eq 0 ]; then
		setpriv --reuid=65534 --regid=65534 --clear-groups "$@"
	else
		"$@"
	fi
}

test_expect_success 'a read-only directory: exit 1, clear error, no ack' '
	mkdir -p ro/sub && chmod 755 "$TRASH" && chmod 555 ro ro/sub &&
	test_expect_code 1 as_user deliver file://$TRASH/ro/ <in.frames >out 2>err &&
	test ! -s out && one_error err && grep -q "Permission denied" err &&
	obj sub/x.txt text n=1 seqs=1 >ro.frames &&
	test_expect_code 1 as_user deliver file://$TRASH/ro/ <ro.frames >out 2>err &&
	test ! -s out && one_error err && grep -q "Permission denied" err &&
	test -z "$(ls -A ro/sub)"
'

test_expect_success 'stdout closed: exit 1, not a signal' '
	obj a.txt text n=1 seqs=1 >one.frames &&
	test_expect_code 1 deliver file://$TRASH/cl/ <one.frames >&- 2>err
'

test_expect_success '-v and -P talk on stderr only' '
	deliver -v -P file://$TRASH/vp/ <in.frames >out 2>err &&
	test $(wc -l <out) -eq 4 &&
	grep -q "stored" err && grep -q "msg=.done. objects=4 " err && all_logfmt err
'

test_done
