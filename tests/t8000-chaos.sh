#!/bin/sh
# The chaos run of issue 8, short: a live 4-partition topic on two test
# brokers, messages published all along (batches of 1 to 250, single
# entries), lakepipe (a rule: jsonl+gzip, --max-messages 1000 --max-age 1)
# killed with SIGKILL at random moments again and again (consume,
# transform, deliver, or the whole process group) and restarted, then one
# run with stop-at-end.  Asserted: every published message is in the
# lake with its payload (read back with DuckDB), none unexpected, backlog
# 0 at the broker, no temporary file left in the lake, lakepipe run exits
# 1 naming the killed stage (137 when all were killed), `lakepipe audit`
# clean when there is one; and no message stored twice for Failover when
# the build has exactly-once (deliver --exactly-once); otherwise, and for
# Shared (at-least-once), the duplicates are counted.  From the pulsar://
# and the http:// address.  The long version: make soak
# (tests/soak/chaos.sh), also Exclusive and Shared from http://.  Knobs:
# T8000_MESSAGES, T8000_CYCLES, T8000_MORE (the soak's extra runs),
# CHAOS_SEED.
. "$(dirname "$0")/test-lib.sh"
. "$TEST_DIRECTORY/lib-chaos.sh"

N=${T8000_MESSAGES:-8000}
CYCLES=${T8000_CYCLES:-6}
# publish over about as long as the cycles take (~3 s each)
RATE=${T8000_RATE:-$((N / (CYCLES * 3)))}
MAX_MS=${T8000_MAX_MS:-2500}

test_expect_success 'start two brokers' '
	chaos_broker 2
'

# chaos_run NAME URL TYPE: the whole run on topic t/ns/NAME, subscription
# lake of TYPE, into the lake directory NAME
chaos_run() {
	name=$1 url=$2 type=$3 topic=t/ns/$1
	chaos_rnd=$((CHAOS_SEED + $(printf %s "$1" | cksum | cut -d" " -f1)))
	t0=$(date +%s)
	chaos_topic $topic lake $type &&
	chaos_publish $topic $N $name.ids $RATE &&
	chaos_rule $name "$url" $topic lake "$(echo $type | tr A-Z a-z)" \
	    "file://$TRASH/$name/" || return 1
	c=0
	while [ $c -lt $CYCLES ]; do
		c=$((c + 1))
		chaos_kill_cycle $name $c $MAX_MS || return 1
	done
	wait $PUB_PID || { cat $name.ids.err; return 1; }
	test "$(wc -l <$name.ids)" -eq $N &&
	t1=$(date +%s) &&
	chaos_tail $topic $N $name.ids &&
	chaos_final $name 300 || return 1
	chaos_check $name $name.ids $topic lake $type
	rc=$?
	chaos_figures "run=$name type=$type url=${url%%:*} cycles=$CYCLES" \
	    "messages=$(fig $name messages) lost=$(fig $name lost) duplicated=$(fig $name duplicated)" \
	    "backlog=$(chaos_backlog $topic lake) leftovers=$(chaos_leftovers $name | wc -l)" \
	    "exactly_once=$(has_exactly_once && echo yes || echo no) audit=$CHAOS_AUDIT" \
	    "cycles_s=$((t1 - t0)) final_s=$(($(date +%s) - t1)) seed=$CHAOS_SEED"
	return $rc
}

test_expect_success "Failover, pulsar://: $CYCLES kill -9 cycles, $N messages" '
	chaos_run fo "$(json_get pb.json serviceUrl)" Failover
'

test_expect_success "Failover, http://: $CYCLES kill -9 cycles, $N messages" '
	chaos_run foh "$(json_get pb.json httpUrl)" Failover
'

test_expect_success "Shared, pulsar://: $CYCLES kill -9 cycles, $N messages" '
	chaos_run sh "$(json_get pb.json serviceUrl)" Shared
'

# the long version (make soak) also runs Exclusive, and Shared from http://
if [ -n "${T8000_MORE:-}" ]; then
	test_expect_success "Exclusive, pulsar://: $CYCLES kill -9 cycles, $N messages" '
		chaos_run ex "$(json_get pb.json serviceUrl)" Exclusive
	'
	test_expect_success "Shared, http://: $CYCLES kill -9 cycles, $N messages" '
		chaos_run shh "$(json_get pb.json httpUrl)" Shared
	'
fi

[ -s figures ] && sed 's/^/# /' figures
[ -s cycles.log ] && say "# kills: $(awk '{ print $4 }' cycles.log | sort | uniq -c | tr -s ' \n' ' ')"

test_done
