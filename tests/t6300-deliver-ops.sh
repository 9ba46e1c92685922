#!/bin/sh
# deliver run by an operator: --check offline, --probe online (each failure
# one line within seconds), path-style for an IP endpoint, the logfmt
# life-cycle lines, --metrics-file, -P without data, SIGINT, a closed
# stdout, and --list / --cat on file://, cos:// and s3://.
. "$(dirname "$0")/test-lib.sh"
. "$TEST_DIRECTORY/lib-deliver.sh"

B=examplebucket-1250000000
R=ap-guangzhou
# Listings in pages of two keys: --list follows continuation tokens.
s3_start --bucket $B --bucket lake-test --region $R --list-page 2
export TENCENTCLOUD_SECRET_ID=$TEST_ID TENCENTCLOUD_SECRET_KEY=$TEST_KEY
export AWS_ACCESS_KEY_ID=$TEST_ID AWS_SECRET_ACCESS_KEY=$TEST_KEY
unset TENCENTCLOUD_SESSION_TOKEN COS_SECRET_ID COS_SECRET_KEY AWS_SESSION_TOKEN
IP="--endpoint http://127.0.0.1:$PORT"
COS="cos://$B/ops/?region=$R"
S3="s3://lake-test/ops/?region=$R"

dlv() {
	test_timeout 60 deliver "$@"
}

test_expect_success 'setup' '
	printf "{\"a\":1}\n" >small &&
	head -c 1500000 /dev/urandom >big &&
	{
		obj "d/one.jsonl" small n=1 seqs=1 pt=1764547200000-1764547201000 &&
		obj "d/big%20two.bin" big n=3 seqs=2-4 &&
		obj "top.txt" small n=1 seqs=5
	} >in.frames &&
	obj "later.txt" small n=1 seqs=6 pt=1764547200000-1764547200000 >later.frames
'

# --- --check ---------------------------------------------------------

for c in "prefix|cos://$B/lake?region=$R|end with '/'" \
	"url|gs://bucket/|unknown destination" \
	"bucket|cos://Lake-1/lake/?region=$R|bad COS bucket" \
	"region|cos://$B/lake/?region=Bad_Region|bad region" \
	"endpoint|--endpoint ftp://x cos://$B/lake/?region=$R|--endpoint" \
	"storage class|--storage-class COLD $COS|--storage-class" \
	"option|--frobnicate $COS|'--frobnicate'" \
	"value|--jobs 0 $COS|--jobs"
do
	what=${c%%|*} rest=${c#*|} args=${rest%|*} want=${rest##*|}
	test_expect_success "--check: bad $what, exit 2 in one line" "
		test_expect_code 2 deliver --check $args >out 2>err &&
		test ! -s out && test_one_line err && all_logfmt err &&
		grep -q -- \"$want\" err
	"
done

test_expect_success '--check: a missing credential names it and --credentials' '
	(unset TENCENTCLOUD_SECRET_KEY &&
	 test_expect_code 2 deliver --check "$COS" 2>err) &&
	test_one_line err && grep -q TENCENTCLOUD_SECRET_KEY err &&
	grep -q -- --credentials err &&
	test_expect_code 2 deliver --check --credentials nosuch "$COS" 2>err &&
	test_one_line err && grep -q nosuch err
'

test_expect_success '--check: all good is silent, exit 0, nothing sent' '
	ctl reset >/dev/null &&
	deliver --check $IP "$COS" >out 2>err &&
	deliver --check "$S3" >>out 2>>err &&
	deliver --check "file://$TRASH/lake/" >>out 2>>err &&
	test ! -s out && test ! -s err && test "$(nreq)" = 0 &&
	test ! -e lake
'

test_expect_success '--list-options: the long options, those with a value' '
	deliver --list-options >opts &&
	grep -qx "probe" opts && grep -qx "cat=" opts &&
	grep -qx "timeout=" opts && grep -qx "metrics-file=" opts
'

test_expect_success '--timeout takes a duration' '
	deliver --check --timeout 1m "file://$TRASH/lake/" &&
	test_expect_code 2 deliver --check --timeout 5x "file://$TRASH/lake/" 2>err &&
	test_one_line err && grep -q "not a duration" err
'

# --- --probe ---------------------------------------------------------

test_expect_success '--probe file://: ok lines, exit 0, nothing left' '
	test_timeout 15 deliver --probe "file://$TRASH/lake/" >out 2>err &&
	test "$(grep -c "^ok destination: " out)" = 3 &&
	grep -q "^ok destination: wrote _lakepipe_probe/" out &&
	test -d lake && test ! -e lake/_lakepipe_probe
'

test_expect_success '--probe cos:// (IP endpoint) and s3://: every check ok' '
	ctl reset >/dev/null &&
	test_timeout 15 deliver --probe $IP "$COS" >out 2>err &&
	grep -q "^ok credentials: TENCENTCLOUD_SECRET_ID and TENCENTCLOUD_SECRET_KEY from the environment$" out &&
	grep -q "^ok region: $R$" out &&
	grep -q "^ok destination: deleted ops/_lakepipe_probe/" out &&
	! grep -qv "^ok " out &&
	test_timeout 15 deliver --probe --endpoint "http://s3.$R.localhost:$PORT" "$S3" >out 2>err &&
	test "$(grep -c "^ok " out)" = 6 &&
	test "$(nreq op=PutObject status=200)" = 2 &&
	test "$(nreq op=DeleteObject)" = 2 &&
	ctl objects $B ops/ >objs && test ! -s objs &&
	! grep -q $TEST_KEY out err
'

test_expect_success '--probe with a --credentials file says so' '
	printf "AWS_ACCESS_KEY_ID=%s\nAWS_SECRET_ACCESS_KEY=%s\n" $TEST_ID $TEST_KEY >cred &&
	(unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY &&
	 test_timeout 15 deliver --probe --credentials cred $IP "$S3" >out) &&
	grep -q "^ok credentials: .* from --credentials cred$" out
'

# probe_fails TITLE SETTING PATTERN DELIVER-ARGS...: one fail line naming
# SETTING, matching PATTERN, exit 1, within the time limit.
probe_fails() {
	title=$1 setting=$2 pattern=$3
	shift 3
	test_expect_code 1 test_timeout 15 deliver --probe "$@" >out 2>err &&
	grep "^fail " out >fails &&
	test_one_line fails && grep -q "^fail $setting: .*$pattern" fails &&
	cat fails
}

test_expect_success '--probe: wrong COS bucket' '
	probe_fails bucket destination "no bucket nosuch-1250000000 in region" \
	    $IP "cos://nosuch-1250000000/ops/?region=$R"
'

test_expect_success '--probe: COS bucket of another region (NoSuchBucket there)' '
	probe_fails region destination "NoSuchBucket.*region" \
	    --endpoint "http://cos.ap-beijing.localhost:$PORT" \
	    "cos://$B/ops/?region=ap-beijing"
'

test_expect_success '--probe: S3 wrong region, told the right one' '
	probe_fails region region "is in region $R, not eu-west-1.*use ?region=$R" \
	    $IP "s3://lake-test/ops/?region=eu-west-1" &&
	probe_fails redirect region "not eu-west-1 (PermanentRedirect)" \
	    --endpoint "http://s3.eu-west-1.localhost:$PORT" \
	    "s3://lake-test/ops/?region=eu-west-1"
'

test_expect_success '--probe: bad secret, unknown key id' '
	TENCENTCLOUD_SECRET_KEY=WrongSecretKey00000000000 probe_fails secret \
	    credentials "TENCENTCLOUD_SECRET_KEY.*SignatureDoesNotMatch" $IP "$COS" &&
	! grep -q WrongSecretKey out err &&
	AWS_ACCESS_KEY_ID=AKIDNOSUCHKEY0000000000000000000001 probe_fails \
	    keyid credentials "AWS_ACCESS_KEY_ID (403 InvalidAccessKeyId)" $IP "$S3"
'

test_expect_success '--probe: a store that does not answer, told within 5 s' '
	ctl reset >/dev/null && ctl fault stall op=ListObjects seconds=30 >/dev/null &&
	t0=$(date +%s) &&
	probe_fails stall endpoint "no answer from 127.0.0.1:$PORT within 5 s" \
	    $IP "$COS" &&
	test $(($(date +%s) - t0)) -le 8
'

test_expect_success '--probe: no credentials, no store, unwritable directory' '
	(unset AWS_SECRET_ACCESS_KEY &&
	 probe_fails none credentials "AWS_SECRET_ACCESS_KEY is not set" $IP "$S3") &&
	probe_fails refused endpoint "check --endpoint" \
	    --endpoint http://127.0.0.1:1 "$S3" &&
	probe_fails dns endpoint "cannot resolve lake-test.nosuch.invalid" \
	    --endpoint http://nosuch.invalid "$S3" &&
	url=$(test_unwritable_url) &&
	probe_fails dir destination "make the directory writable" "$url"
'

# --- addressing ------------------------------------------------------

test_expect_success 'IP endpoint with cos://: path-style, stored, said with -v' '
	ctl reset >/dev/null &&
	dlv -v $IP "$COS" <in.frames >acks 2>err &&
	test $(wc -l <acks) -eq 3 &&
	stored_is $B "ops/d/big two.bin" big &&
	test "$(nreq style=path)" = "$(nreq)" &&
	grep -q "level=debug .*msg=.path-style addressing. endpoint=http://127.0.0.1:$PORT" err
'

test_expect_success 'a host name that does not resolve: exit 1 at once' '
	test_expect_code 1 test_timeout 20 deliver --endpoint http://nosuch.invalid \
	    "$S3" <in.frames >out 2>err &&
	test ! -s out && one_error err &&
	grep -q "cannot resolve lake-test.nosuch.invalid: check --endpoint / the region" err
'

# --- log lines and metrics -------------------------------------------

test_expect_success 'a "stored" line per object: key, n, bytes, ms; lag from pt=' '
	ctl reset >/dev/null &&
	dlv --metrics-file m.prom $IP "s3://lake-test/log/?region=$R" \
	    <in.frames >acks 2>err &&
	all_logfmt err && ! grep -qv " level=info " err &&
	grep -q "msg=.stored. key=log/d/one.jsonl n=1 bytes=8 ms=[0-9]* lag_s=[0-9.]*$" err &&
	grep -q "msg=.stored. key=\"log/d/big two.bin\" n=3 bytes=1500000 ms=[0-9]*$" err &&
	test $(grep -c "msg=.stored." err) -eq 3
'

test_expect_success '--metrics-file: the names of lakepipe-metrics(7), written at exit' '
	grep -qx "lakepipe_deliver_objects_total 3" m.prom &&
	grep -qx "lakepipe_deliver_messages_total 5" m.prom &&
	grep -qx "lakepipe_deliver_bytes_total 1500016" m.prom &&
	grep -qx "lakepipe_deliver_retries_total 0" m.prom &&
	grep -qx "lakepipe_deliver_failures_total 0" m.prom &&
	grep -q "^lakepipe_deliver_lag_seconds [0-9]" m.prom &&
	grep -q "^lakepipe_deliver_last_object_timestamp_seconds 1[0-9]*" m.prom &&
	grep -q "^lakepipe_deliver_last_object_info{key=\"log/.*\"} 1$" m.prom &&
	grep -q "^# TYPE lakepipe_deliver_objects_total counter$" m.prom
'

test_expect_success 'retries: one line when it starts, the count when stored' '
	ctl reset >/dev/null &&
	ctl fault slowdown op=PutObject key=top count=3 retryAfter=0 >/dev/null &&
	dlv --metrics-file r.prom $IP "s3://lake-test/re/?region=$R" \
	    <in.frames >acks 2>err &&
	test $(wc -l <acks) -eq 3 &&
	test $(grep -c "msg=.retrying." err) -eq 1 &&
	grep -q "level=warn .*msg=.retrying. key=re/top.txt op=PutObject .*cause=.PutObject: 503 SlowDown" err &&
	grep -q "msg=.stored. key=re/top.txt .* retries=3$" err &&
	grep -qx "lakepipe_deliver_retries_total 3" r.prom
'

test_expect_success 'a failure: one error line naming the key and what to do' '
	ctl reset >/dev/null && ctl fault denied op=PutObject key=top >/dev/null &&
	test_expect_code 1 dlv --metrics-file f.prom $IP "s3://lake-test/fa/?region=$R" \
	    <in.frames >acks 2>err &&
	one_error err &&
	grep -q "level=error .*msg=.not stored. key=fa/top.txt error=.PutObject: 403 AccessDenied.* todo=" err &&
	grep -qx "lakepipe_deliver_failures_total 1" f.prom
'

test_expect_success '-q: warnings and errors only' '
	dlv -q "file://$TRASH/q/" <in.frames >acks 2>err &&
	test $(wc -l <acks) -eq 3 && test ! -s err
'

test_expect_success '-P: a line every second, even with no data' '
	mkfifo pin || exit 1
	deliver -P "file://$TRASH/p/" <pin >acks 2>err &
	pid=$! &&
	exec 3>pin &&
	test_wait_for err "msg=.progress. objects=0 " &&
	cat in.frames >&3 && exec 3>&- &&
	{ wait $pid; rc=$?; } && test $rc = 0 && test $(wc -l <acks) -eq 3 &&
	all_logfmt err && grep -q "msg=.done. objects=3 " err
'

# metrics_before_acks URL...: deliver still running, its metrics file
# counts every object whose ack line it has printed (lakepipe status reads
# consume's acks and deliver's objects from two files).
metrics_before_acks() {
	rm -f min mb.prom && mkfifo min || return 1
	deliver --metrics-file mb.prom "$@" <min >acks 2>err &
	pid=$! &&
	exec 5>min &&
	cat in.frames >&5 &&
	test_wait_for acks "seqs=1 " && test_wait_for acks "seqs=2-4 " &&
	test_wait_for acks "seqs=5 " &&
	grep -qx "lakepipe_deliver_objects_total 3" mb.prom &&
	grep -qx "lakepipe_deliver_messages_total 5" mb.prom &&
	grep -q "^lakepipe_deliver_last_object_info{key=\"[^\"]*\"} 1$" mb.prom
	rc=$?
	exec 5>&- && wait $pid && return $rc
}

test_expect_success '--metrics-file: written before each ack line (file://)' '
	metrics_before_acks "file://$TRASH/mb/"
'

test_expect_success '--metrics-file: written before each ack line (s3://)' '
	ctl reset >/dev/null &&
	metrics_before_acks $IP "s3://lake-test/mb/?region=$R"
'

# --- signals and a closed stdout -------------------------------------

# sigint_case TITLE URL DELIVER-ARGS...: deliver in flight takes a SIGINT;
# the rest of the input still comes, is stored and acked, exit 0.
sigint_case() {
	rm -f sin && mkfifo sin || return 1
	env --default-signal=INT deliver "$@" <sin >acks 2>err &
	pid=$! &&
	exec 4>sin &&
	cat in.frames >&4 &&
	test_wait_for err "msg=.stored. key=.*top.txt" &&
	kill -INT $pid &&
	test_wait_for err "msg=.interrupted." &&
	cat later.frames >&4 && exec 4>&- &&
	{ wait $pid; rc=$?; } && test $rc = 0 && test $(wc -l <acks) -eq 4 &&
	grep -q "^A key=.*later.txt seqs=6 " acks && all_logfmt err
}

test_expect_success 'SIGINT once (file://): the input to its end, all acked, exit 0' '
	sigint_case "file://$TRASH/si/"
'

test_expect_success 'SIGINT once (s3://, an upload in flight): all acked, exit 0' '
	ctl reset >/dev/null &&
	ctl fault stall op=PutObject key=later seconds=2 >/dev/null &&
	sigint_case $IP "s3://lake-test/si/?region=$R" &&
	stored_is lake-test si/later.txt small
'

test_expect_success 'SIGINT twice: stops at once, exit 1, the one in flight not acked' '
	ctl reset >/dev/null &&
	ctl fault stall op=PutObject key=later seconds=30 >/dev/null &&
	rm -f sin && mkfifo sin || return 1
	env --default-signal=INT deliver $IP "s3://lake-test/s2/?region=$R" \
	    <sin >acks 2>err &
	pid=$! &&
	exec 4>sin &&
	cat in.frames >&4 &&
	test_wait_for err "msg=.stored. key=s2/top.txt" &&
	kill -INT $pid && test_wait_for err "msg=.interrupted." &&
	cat later.frames >&4 && exec 4>&- &&
	i=0 && until test "$(nreq op=PutObject key=later)" = 1; do
		i=$((i + 1)) && test $i -le 100 && sleep 0.2 || exit 1
	done &&
	kill -INT $pid &&
	{ wait $pid; rc=$?; } && test $rc = 1 &&
	test $(wc -l <acks) -eq 3 && ! grep -q later acks &&
	grep -q "level=error .*stopped by signal 2: 1 object in flight not acked" err
'

test_expect_success 'SIGINT ignored at start stays ignored' '
	rm -f sin && mkfifo sin || return 1
	deliver "file://$TRASH/ig/" <sin >acks 2>err &
	pid=$! &&
	exec 4>sin &&
	cat in.frames >&4 &&
	test_wait_for acks "top.txt" &&
	kill -INT $pid &&
	cat later.frames >&4 && exec 4>&- &&
	{ wait $pid; rc=$?; } && test $rc = 0 && test $(wc -l <acks) -eq 4 &&
	! grep -q interrupted err
'

test_expect_success 'a closed stdout (| head): one line "stdout closed", exit 1' '
	for i in $(seq 1 200); do obj "h/$i.txt" small n=1 seqs=$i; done >many.frames &&
	{ deliver "file://$TRASH/h/" <many.frames 2>err; echo $? >rc; } | head -1 >first &&
	test "$(cat rc)" = 1 && test_one_line first &&
	one_error err && grep -q "level=warn .*msg=.stdout closed." err &&
	{ deliver -j 2 $IP "s3://lake-test/h/?region=$R" <many.frames 2>err;
	  echo $? >rc; } | head -1 >first &&
	test "$(cat rc)" = 1 && test_one_line first &&
	one_error err && grep -q "level=warn .*msg=.stdout closed." err
'

# --- --list and --cat ------------------------------------------------

# list_cat NAME DELIVER-ARGS... DESTINATION: store in.frames there, then
# --list shows the three keys with their sizes, --cat gives each back.
list_cat() {
	dlv "$@" <in.frames >acks 2>err &&
	dlv --list "$@" >list &&
	cut -f1,2 list >keys &&
	printf "d/big two.bin\t1500000\nd/one.jsonl\t8\ntop.txt\t8\n" >want &&
	test_cmp want keys &&
	now=$(date +%s) && t=$(cut -f3 list | head -1) &&
	test $((now - t)) -lt 600 &&
	dlv --cat "d/big two.bin" "$@" >got && cmp got big &&
	dlv --cat top.txt "$@" >got && cmp got small &&
	test_expect_code 1 dlv --cat d/nosuch "$@" >got 2>err &&
	test ! -s got && one_error err
}

test_expect_success '--list of an empty destination: nothing, exit 0' '
	mkdir empty && deliver --list "file://$TRASH/empty/" >out 2>err &&
	test ! -s out && test ! -s err
'

test_expect_success '--list, --cat on file:// (temporary files skipped)' '
	list_cat "file://$TRASH/lc/" &&
	: >lc/d/.x.123.0.tmp && dlv --list "file://$TRASH/lc/" >list2 &&
	test_cmp list list2
'

test_expect_success '--list, --cat on cos:// (two pages: continuation)' '
	ctl reset >/dev/null &&
	list_cat $IP "cos://$B/lc/?region=$R" &&
	test "$(nreq op=ListObjects)" = 2
'

test_expect_success '--list, --cat on s3:// (virtual-hosted), multipart too' '
	list_cat --endpoint "http://s3.$R.localhost:$PORT" \
	    --multipart-threshold 1M --part-size 1M "s3://lake-test/lc/?region=$R"
'

test_expect_success '--cat: a key that is not safe is a usage error' '
	test_expect_code 2 deliver --cat ../x "file://$TRASH/lc/" 2>err &&
	test_one_line err
'

test_expect_success '--cat into a closed pipe: "stdout closed", exit 1' '
	{ deliver --cat "d/big two.bin" $IP "cos://$B/lc/?region=$R" 2>err;
	  echo $? >rc; } | head -c 10 >/dev/null &&
	test "$(cat rc)" = 1 && one_error err && grep -q "stdout closed" err
'

test_done
