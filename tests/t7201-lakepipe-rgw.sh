#!/bin/sh
# lakepipe into a real S3 server, Ceph's RADOS Gateway (tests/lib-rgw.sh),
# from the Pulsar test broker: the shape of t7200 once, end to end: check
# (ok; bad credentials and a wrong bucket each the right "fail SETTING:"
# line, RGW checking the signature itself), then run, test, status, stop
# and delete --unsubscribe, the probe read back with deliver --cat.
. "$(dirname "$0")/test-lib.sh"
. "$TEST_DIRECTORY/lib-rgw.sh"
. "$TEST_DIRECTORY/lib-lakepipe.sh"

rgw_skip_unless_installed
rgw_start lake
PB=$PEERS/pulsar
TOPIC=t/ns/events
pctl() { node "$PB/ctl.js" --info pb.json "$@"; }
printf 'AWS_ACCESS_KEY_ID=%s\nAWS_SECRET_ACCESS_KEY=%s\n' \
    "$AWS_ACCESS_KEY_ID" "$AWS_SECRET_ACCESS_KEY" >aws.keys
printf 'AWS_ACCESS_KEY_ID=%s\nAWS_SECRET_ACCESS_KEY=%s\n' \
    "$AWS_ACCESS_KEY_ID" LakepipeWrongSecretKey00000000001 >bad.keys
chmod 600 aws.keys bad.keys
# lakepipe's programs get the keys from the rule's credentials file only
unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY

test_expect_success 'start the broker' '
	test_start_server pb.json node "$PB/broker.js" --timeout 300 &&
	pctl topics topic=$TOPIC partitions=2 >/dev/null
'
URL=$(json_get pb.json serviceUrl 2>/dev/null)

# rule_base NAME: the rule NAME on the topic (lp_rule)
rule_base() {
	cat <<-EOF
	url = $URL
	topic = $TOPIC
	subscription = $1
	max-age = 1
	endpoint = $RGW_ENDPOINT
	credentials = $TRASH/aws.keys
	destination = "s3://lake/$1/"
	EOF
}

# rgw_cat KEY: the bytes of lake/KEY, read by deliver
rgw_cat() {
	test_timeout 30 deliver --credentials "$TRASH/aws.keys" \
	    --endpoint "$RGW_ENDPOINT" --cat "$1" "s3://lake/"
}

test_expect_success 'check: every setting ok, the probe object deleted' '
	lp_rule good &&
	test_timeout 30 lakepipe check good.conf >out &&
	cat out &&
	grep "^ok destination: .*(good.conf:7)" out &&
	grep "^ok credentials: .*(good.conf:6)" out &&
	! grep "^fail" out &&
	test_timeout 30 deliver --credentials aws.keys \
	    --endpoint "$RGW_ENDPOINT" --list "s3://lake/good/" >list &&
	test ! -s list
'

test_expect_success 'check: a wrong secret is credentials (RGW: SignatureDoesNotMatch)' '
	lp_check_fails badkeys credentials credentials="$TRASH/bad.keys" &&
	! grep -e LakepipeWrongSecret -e "$RGW_USER_KEY" out
'

test_expect_success 'check: a wrong bucket is destination' '
	lp_check_fails nobucket destination \
	    destination="\"s3://no-such-bucket/x/\""
'

test_expect_success 'run, test, status, stop, delete into RGW' '
	lp_rule life &&
	lp_start life.conf life.out &&
	lp_up life.conf &&
	{ test_timeout 60 lakepipe test life.conf >out; rc=$?; cat out; } &&
	test $rc -eq 0 &&
	key=$(sed -n "s/^ok stored: \([^ ]*\) after [0-9.]* s$/\1/p" out) &&
	id=$(sed -n "s/^ok sent: probe \([^ ]*\) at .*/\1/p" out) &&
	rgw_cat "life/$key" | zcat | grep "$id" &&
	wait_until 30 lp_stored life.conf 1 &&
	lakepipe status life.conf >st &&
	cat st &&
	grep "^last object: life/$key at 20" st &&
	test_timeout 60 lakepipe stop life.conf >out &&
	grep "^ok stopped: life (pid $LP_PID) after [0-9.]* s, exit status 0" out &&
	every_line_logfmt state/life/log &&
	! grep -e "$RGW_USER_KEY" state/life/log state/life/state &&
	test_timeout 30 lakepipe delete life.conf --unsubscribe >out &&
	grep "^ok deleted: " out &&
	pctl topic topic=$TOPIC >topic.json &&
	! grep -q "\"life\"" topic.json
'

# lake_lines PREFIX: every line of every data object under lake/PREFIX
lake_lines() {
	test_timeout 30 deliver --credentials "$TRASH/aws.keys" \
	    --endpoint "$RGW_ENDPOINT" --list "s3://lake/$1" | cut -f1 |
	    grep -v "^_lakepipe/" | while read -r k; do
		rgw_cat "$1$k" | zcat || exit 1
	done
}

# lake_has PREFIX N: N distinct lines stored under PREFIX
lake_has() {
	lake_lines "$1" >lines.tmp &&
	test "$(sort -u lines.tmp | wc -l)" -ge "$2"
}

test_expect_success 'exactly-once into RGW: killed, run again, each message once' '
	pctl topics topic=t/ns/once partitions=2 >/dev/null &&
	pctl publish topic=t/ns/once payload="a {i}" count=100 batchSize=10 \
	    >/dev/null &&
	lp_rule once topic=t/ns/once &&
	lp_start once.conf once1.out &&
	wait_until 30 lake_has once/ 100 &&
	kill -KILL -$LP_PID &&
	pctl publish topic=t/ns/once payload="b {i}" count=100 batchSize=10 \
	    >/dev/null &&
	lp_start once.conf once2.out &&
	wait_until 40 lake_has once/ 200 &&
	test_timeout 60 lakepipe stop once.conf >out &&
	lake_lines once/ >all &&
	test "$(wc -l <all)" -eq 200 &&
	test "$(sort -u all | wc -l)" -eq 200 &&
	test "$(grep -c "\"payload\":\"a [0-9]*\"" all)" -eq 100 &&
	test "$(grep -c "\"payload\":\"b [0-9]*\"" all)" -eq 100
'

test_expect_success 'exactly-once into RGW: lakepipe audit finds the objects, clean' '
	test_timeout 60 lakepipe audit once.conf >audit &&
	cat audit &&
	grep "^audit: [1-9][0-9]* objects, 200 messages, 2 partitions; 0 gaps, 0 overlaps, 0 missing, 0 damaged" audit &&
	! grep -e " level=error " -e "^note unindexed" audit
'

test_done
