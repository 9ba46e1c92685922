#!/bin/sh
# The chaos run of t8000 into a real S3 server, Ceph's RADOS Gateway
# (tests/lib-rgw.sh; skipped when radosgw is not installed): Failover,
# pulsar://, kill -9 cycles of consume, transform, deliver or all of them
# while messages are published, then stop-at-end.  The lake is read back
# with deliver --list and --cat into a directory and counted as in t8000
# (nothing lost, nothing unexpected, nothing twice with exactly-once),
# backlog 0, no multipart upload left behind (ListMultipartUploads), and
# lakepipe audit of the rule clean.  Knobs: T8003_MESSAGES, T8003_CYCLES.
. "$(dirname "$0")/test-lib.sh"
. "$TEST_DIRECTORY/lib-rgw.sh"
. "$TEST_DIRECTORY/lib-chaos.sh"

N=${T8003_MESSAGES:-6000}
CYCLES=${T8003_CYCLES:-5}
RATE=${T8003_RATE:-$((N / (CYCLES * 3)))}
MAX_MS=${T8003_MAX_MS:-2500}

rgw_skip_unless_installed
rgw_start lake
printf 'AWS_ACCESS_KEY_ID=%s\nAWS_SECRET_ACCESS_KEY=%s\n' \
    "$AWS_ACCESS_KEY_ID" "$AWS_SECRET_ACCESS_KEY" >aws.keys
chmod 600 aws.keys
unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY

test_expect_success 'start two brokers' '
	chaos_broker 2
'

# fetch PREFIX DIR: every data object under s3://lake/PREFIX into DIR
fetch() {
	test_timeout 60 deliver --credentials aws.keys --endpoint "$RGW_ENDPOINT" \
	    --list "s3://lake/$1" >list &&
	cut -f1 list | grep '\.jsonl\.gz$' | while read -r k; do
		mkdir -p "$2/$(dirname "$k")" &&
		test_timeout 30 deliver --credentials aws.keys \
		    --endpoint "$RGW_ENDPOINT" --cat "$k" "s3://lake/$1" \
		    >"$2/$k" || return 1
	done
}

test_expect_success "Failover into RGW: $CYCLES kill -9 cycles, $N messages" '
	name=rg topic=t/ns/rg &&
	chaos_rnd=$CHAOS_SEED &&
	t0=$(date +%s) &&
	chaos_topic $topic lake Failover &&
	chaos_publish $topic $N $name.ids $RATE &&
	chaos_rule $name "$(json_get pb.json serviceUrl)" $topic lake \
	    failover "s3://lake/chaos/" endpoint=$RGW_ENDPOINT \
	    credentials=$TRASH/aws.keys &&
	c=0 &&
	while [ $c -lt $CYCLES ]; do
		c=$((c + 1))
		chaos_kill_cycle $name $c $MAX_MS || return 1
	done &&
	{ wait $PUB_PID || { cat $name.ids.err; return 1; }; } &&
	t1=$(date +%s) &&
	chaos_tail $topic $N $name.ids &&
	chaos_final $name 300 &&
	AWS_ACCESS_KEY_ID=$RGW_USER_ID AWS_SECRET_ACCESS_KEY=$RGW_USER_KEY \
	    rgw_s3 "$RGW_ENDPOINT/lake?uploads" >uploads.xml &&
	cat uploads.xml &&
	! grep "<Upload>" uploads.xml &&
	fetch chaos/ $name &&
	CHAOS_AUDIT_OF=$name.conf chaos_check $name $name.ids $topic lake Failover
	rc=$?
	chaos_figures "run=$name store=rgw type=Failover url=pulsar cycles=$CYCLES" \
	    "messages=$(fig $name messages) lost=$(fig $name lost) duplicated=$(fig $name duplicated)" \
	    "backlog=$(chaos_backlog $topic lake)" \
	    "exactly_once=$(has_exactly_once && echo yes || echo no) audit=${CHAOS_AUDIT:-none}" \
	    "cycles_s=$((t1 - t0)) final_s=$(($(date +%s) - t1)) seed=$CHAOS_SEED"
	return $rc
'

[ -s figures ] && sed 's/^/# /' figures

test_done
