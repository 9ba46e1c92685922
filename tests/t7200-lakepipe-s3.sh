#!/bin/sh
# lakepipe against the S3/COS test server (tests/peers/s3) and the Pulsar
# test broker: check (ok; a wrong bucket, a wrong region, bad credentials,
# a prefix without '/': each the right "fail SETTING:" line within
# seconds, no secret printed), then run, test, status, stop and delete
# --unsubscribe of a rule into s3:// and one into cos://, the probe read
# back from the server itself.
. "$(dirname "$0")/test-lib.sh"
. "$TEST_DIRECTORY/lib-deliver.sh"
. "$TEST_DIRECTORY/lib-lakepipe.sh"

s3_start --bucket lake-test --bucket lake-1250000000 --region eu-west-1
PB=$PEERS/pulsar
TOPIC=t/ns/events
pctl() { node "$PB/ctl.js" --info pb.json "$@"; }
printf 'AWS_ACCESS_KEY_ID=%s\nAWS_SECRET_ACCESS_KEY=%s\n' "$TEST_ID" \
    "$TEST_KEY" >aws.keys
printf 'AWS_ACCESS_KEY_ID=%s\nAWS_SECRET_ACCESS_KEY=%s\n' "$TEST_ID" \
    LakepipeWrongSecretKey00000000001 >bad.keys
printf 'TENCENTCLOUD_SECRET_ID=%s\nTENCENTCLOUD_SECRET_KEY=%s\n' "$TEST_ID" \
    "$TEST_KEY" >cos.keys
chmod 600 aws.keys bad.keys cos.keys

test_expect_success 'start the broker' '
	test_start_server pb.json node "$PB/broker.js" --timeout 600 &&
	pctl topics topic=$TOPIC partitions=3 >/dev/null
'
URL=$(json_get pb.json serviceUrl 2>/dev/null)

# rule_base NAME: the rule NAME on the topic (lp_rule)
rule_base() {
	cat <<-EOF
	url = $URL
	topic = $TOPIC
	subscription = $1
	max-age = 1
	endpoint = http://127.0.0.1:$PORT
	credentials = $TRASH/aws.keys
	destination = "s3://lake-test/$1/?region=eu-west-1"
	EOF
}

test_expect_success 'check: every setting ok, the probe object deleted' '
	lp_rule good &&
	test_timeout 30 lakepipe check good.conf >out &&
	cat out &&
	grep "^ok destination: .*(good.conf:7)" out &&
	grep "^ok credentials: .*(good.conf:6)" out &&
	grep "^ok url: .*(good.conf:1)" out &&
	! grep "^fail" out &&
	! ctl objects lake-test | grep -q "good/"
'

# check_fails NAME SETTING [KEY=VALUE...]: lp_check_fails, and no secret
# in what check printed
check_fails() {
	lp_check_fails "$@" &&
	! grep -e "$TEST_KEY" -e LakepipeWrongSecret out
}

test_expect_success 'check: a wrong bucket is destination' '
	check_fails nobucket destination \
	    destination="\"s3://no-such-bucket/x/?region=eu-west-1\""
'

test_expect_success 'check: a wrong region is region' '
	check_fails region region \
	    destination="\"s3://lake-test/x/?region=ap-guangzhou\""
'

test_expect_success 'check: bad credentials are credentials' '
	check_fails badkeys credentials credentials="$TRASH/bad.keys"
'

test_expect_success 'check: a prefix without / is destination, offline' '
	check_fails noslash destination \
	    destination="\"s3://lake-test/backup?region=eu-west-1\"" &&
	grep "^fail destination: noslash.conf:7: " out &&
	test_expect_code 2 test_timeout 20 lakepipe run noslash.conf 2>err &&
	pctl topic topic=$TOPIC >topic.json &&
	! grep -q "\"noslash\"" topic.json
'

test_expect_success 'check: a clock an hour off the store'"'"'s is set right by deliver' '
	ctl clock 3600 &&
	lp_rule skew &&
	test_timeout 20 lakepipe check skew.conf >out &&
	cat out &&
	ctl clock 0 &&
	grep "^ok destination: wrote skew/" out
'

# life NAME: run the rule NAME, test it (the probe read back from the
# server), status, stop, delete --unsubscribe
life() {
	lp_start $1.conf $1.out &&
	lp_up $1.conf &&
	{ test_timeout 60 lakepipe test $1.conf >out; rc=$?; cat out; } &&
	test $rc -eq 0 &&
	key=$(sed -n "s/^ok stored: \([^ ]*\) after [0-9.]* s$/\1/p" out) &&
	id=$(sed -n "s/^ok sent: probe \([^ ]*\) at .*/\1/p" out) &&
	ctl get "$2" "$1/$key" | zcat | grep "$id" &&
	wait_until 30 lp_stored $1.conf 1 &&
	lakepipe status $1.conf >st &&
	cat st &&
	grep "^last object: $1/$key at 20" st &&
	test_timeout 60 lakepipe stop $1.conf >out &&
	grep "^ok stopped: $1 (pid $LP_PID) after [0-9.]* s, exit status 0" out &&
	every_line_logfmt state/$1/log &&
	! grep -e "$TEST_KEY" state/$1/log state/$1/state &&
	test_timeout 30 lakepipe delete $1.conf --unsubscribe >out &&
	grep "^ok deleted: " out &&
	pctl topic topic=$TOPIC >topic.json &&
	! grep -q "\"$1\"" topic.json
}

test_expect_success 'run, test, status, stop, delete into s3://' '
	lp_rule s3life &&
	life s3life lake-test
'

test_expect_success 'the same into cos:// (COS signature)' '
	lp_rule coslife credentials="$TRASH/cos.keys" \
	    destination="\"cos://lake-1250000000/coslife/?region=eu-west-1\"" &&
	life coslife lake-1250000000
'

test_done
