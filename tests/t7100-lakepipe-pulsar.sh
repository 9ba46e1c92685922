#!/bin/sh
# lakepipe against the Pulsar test broker (tests/peers/pulsar), into
# file://: check (ok; a bad token, a wrong topic, an unreachable address,
# TLS on a plain port: each the right "fail SETTING:" line within seconds),
# run exiting 2 on a malformed setting before any subscription exists,
# then the life of a rule: run, test, status, logs, stop, test when
# stopped, delete --unsubscribe; and a terminal's Ctrl-C (SIGINT to the
# process group of lakepipe run) flushing everything it read.
. "$(dirname "$0")/test-lib.sh"
. "$TEST_DIRECTORY/lib-lakepipe.sh"

PB=$PEERS/pulsar
TOPIC=t/ns/orders
ctl() { node "$PB/ctl.js" --info pb.json "$@"; }
echo secret-token >tok
echo wrong-token >bad.tok
count_lake() {
	find "$1" -type f -name '*.jsonl.gz' -exec zcat {} + | wc -l
}

test_expect_success 'start the broker (token, TLS, no auto-created topics)' '
	openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost \
	    -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
	    -keyout key.pem -out cert.pem 2>/dev/null &&
	test_start_server pb.json node "$PB/broker.js" --token secret-token \
	    --tls-cert cert.pem --tls-key key.pem --no-auto-create \
	    --timeout 600 &&
	ctl topics topic=$TOPIC partitions=2 >/dev/null
'
URL=$(json_get pb.json serviceUrl 2>/dev/null)
PORT=$(json_get pb.json port 2>/dev/null)

# rule_base NAME: the rule NAME on the topic (lp_rule)
rule_base() {
	cat <<-EOF
	url = $URL
	topic = $TOPIC
	subscription = $1
	token-file = $TRASH/tok
	destination = file://$TRASH/$1/
	EOF
}

# topic_messages: how many messages the topic holds
topic_messages() {
	ctl topic topic=$TOPIC | node -e '
	    const t = JSON.parse(require("fs").readFileSync(0, "utf8"));
	    console.log(t.partitionStats.reduce((n, p) => n + p.messages, 0));'
}

# no_subscription NAME: the broker has no subscription NAME on the topic
no_subscription() {
	ctl topic topic=$TOPIC >topic.json &&
	! grep -q "\"$1\"" topic.json
}

test_expect_success 'check: every setting ok, broker and store reached' '
	lp_rule good &&
	test_timeout 30 lakepipe check good.conf >out &&
	cat out &&
	grep "^ok rule: good.conf: 5 settings" out &&
	grep "^ok consume: settings valid" out &&
	grep "^ok url: .*(good.conf:1)" out &&
	grep "^ok topic: .*(good.conf:2)" out &&
	grep "^ok destination: .*(good.conf:5)" out &&
	! grep "^fail" out
'


test_expect_success 'check: a bad token is token-file' '
	lp_check_fails badtok token-file token-file="$TRASH/bad.tok" &&
	grep "badtok.conf:" out &&
	! grep wrong-token out
'

test_expect_success 'check: a wrong topic is topic' '
	lp_check_fails nosuch topic topic=t/ns/no-such-topic
'

test_expect_success 'check: an unreachable address is url' '
	lp_check_fails unreach url url=pulsar://127.0.0.1:1
'

test_expect_success 'check: TLS on a plain port is url' '
	lp_check_fails tlsplain url url=pulsar+ssl://127.0.0.1:$PORT \
	    ca-file="$TRASH/cert.pem"
'

test_expect_success 'run: a malformed setting exits 2, no subscription made' '
	lp_rule never type=exclusiv &&
	test_expect_code 2 test_timeout 20 lakepipe run never.conf 2>err &&
	cat err &&
	grep "level=error .*never.conf:6: --type" err &&
	no_subscription never &&
	lp_rule never2 destination="cos://lake-1250000000/no-slash?region=ap-guangzhou" &&
	test_expect_code 2 test_timeout 20 lakepipe run never2.conf 2>err &&
	cat err &&
	grep "level=error .*never2.conf:5:" err &&
	no_subscription never2
'

test_expect_success 'run, test, status, logs: a probe lands, totals add up' '
	lp_rule life max-age=1 &&
	ctl publish topic=$TOPIC payload="order {i}" count=100 batchSize=10 \
	    >/dev/null &&
	ctl subscriptions topic=$TOPIC subscription=life position=earliest \
	    >/dev/null &&
	lp_start life.conf life.out &&
	lp_up life.conf &&
	{ test_timeout 60 lakepipe test life.conf >out; rc=$?; cat out; } &&
	test $rc -eq 0 &&
	grep "^ok running: life, pid $LP_PID, since 20" out &&
	grep "^ok sent: probe lakepipe-test-" out &&
	key=$(sed -n "s/^ok stored: \([^ ]*\) after [0-9.]* s$/\1/p" out) &&
	id=$(sed -n "s/^ok sent: probe \([^ ]*\) at .*/\1/p" out) &&
	zcat "life/$key" | grep "$id" &&
	wait_until 30 lp_stored life.conf 101 &&
	for p in 0 1; do
		wait_until 30 eval "lakepipe status life.conf |
		    grep -q \"^backlog: partition $p: 0 messages\"" || return 1
	done &&
	lakepipe status life.conf >st &&
	cat st &&
	grep "^running: yes, pid $LP_PID, since 20" st &&
	grep "^messages: 101 read, 101 stored and acknowledged" st &&
	grep "^objects: [1-9][0-9]* stored" st &&
	grep "^last object: t/ns/orders/20.*\.jsonl\.gz at 20" st &&
	grep "^lag: [0-9.]* s from publish to stored" st &&
	grep "^backlog: partition 0: 0 messages" st &&
	grep "^backlog: partition 1: 0 messages" st &&
	grep "^last error: none" st &&
	test "$(count_lake life)" -eq 101 &&
	lakepipe logs life.conf >log &&
	every_line_logfmt log &&
	grep "prog=deliver msg=\"stored\"" log
'

test_expect_success 'stop: orderly, exit 0; test then says it is not running' '
	LP_PID=$(cat life.pid) &&
	test_timeout 60 lakepipe stop life.conf >out &&
	cat out &&
	grep "^ok stopped: life (pid $LP_PID) after [0-9.]* s, exit status 0" out &&
	test_expect_code 3 lakepipe status life.conf >st &&
	grep "^running: no, stopped at 20.* (exit status 0;" st &&
	ctl subscription topic=$TOPIC subscription=life >sub.json &&
	grep "\"backlog\":0" sub.json &&
	test_expect_code 1 test_timeout 20 lakepipe test life.conf >out &&
	cat out &&
	grep "^fail running: life is not running; start it: lakepipe run life.conf" out &&
	lakepipe stop life.conf >out &&
	grep "^ok stopped: life is not running" out &&
	every_line_logfmt life.out
'

test_expect_success 'edit: the change applies from the next run' '
	sed "s/^max-age = 1$/max-age = 1\ncompress = none/" life.conf >life.new &&
	mv life.new life.conf &&
	grep -x "compress = none" life.conf &&
	test_timeout 30 lakepipe check life.conf >out &&
	lp_start life.conf life2.out &&
	lp_up life.conf &&
	{ test_timeout 60 lakepipe test life.conf >out; rc=$?; cat out; } &&
	test $rc -eq 0 &&
	key=$(sed -n "s/^ok stored: \([^ ]*\) after [0-9.]* s$/\1/p" out) &&
	id=$(sed -n "s/^ok sent: probe \([^ ]*\) at .*/\1/p" out) &&
	case $key in *.jsonl) ;; *) false ;; esac &&
	grep "$id" "life/$key" &&
	test_timeout 60 lakepipe stop life.conf >out &&
	grep "^ok stopped: life (pid $LP_PID)" out
'

test_expect_success 'delete --unsubscribe: the subscription and the state go' '
	ctl topic topic=$TOPIC >topic.json &&
	grep -q "\"life\"" topic.json &&
	test_timeout 30 lakepipe delete life.conf --unsubscribe >out &&
	cat out &&
	grep "^ok deleted: the state and log of life" out &&
	no_subscription life &&
	! test -e state/life &&
	test -f life.conf
'

test_expect_success 'Ctrl-C: every message read is stored and acked, exit 0' '
	lp_rule intr max-age=600 &&
	ctl subscriptions topic=$TOPIC subscription=intr position=earliest \
	    >/dev/null &&
	lp_start intr.conf intr.out &&
	lp_up intr.conf &&
	ctl publish topic=$TOPIC payload="more {i}" count=1000 batchSize=100 \
	    >/dev/null &&
	n=$(topic_messages) &&
	wait_until 30 eval "lakepipe status intr.conf | grep -q \"^messages: $n read\"" &&
	test "$(count_lake intr)" -eq 0 &&
	kill -INT -$LP_PID &&
	wait $LP_PID &&
	cat intr.out &&
	test "$(count_lake intr)" -eq $n &&
	ctl subscription topic=$TOPIC subscription=intr >sub.json &&
	grep "\"backlog\":0" sub.json &&
	grep "msg=\"stopping: flushing what is in flight\"" intr.out &&
	! grep "level=error" intr.out &&
	every_line_logfmt intr.out
'

test_done
