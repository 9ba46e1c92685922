#!/bin/sh
# Issue 8, test 2: two, then three lakepipe instances (rules p1, p2, p3:
# each its own state directory) on one Failover subscription of a live
# 4-partition topic, into one lake.  Again and again one of them, at
# random, is killed with SIGKILL (its whole process group) at a random
# moment; the survivors take its partitions (every partition's cursor
# moves on while it is down), then it is restarted.  An instance whose
# deliver meets a key another one stored first (a partition moving
# between them) exits 1 and is run again, as systemd's
# Restart=on-failure does (chaos-supervise); the restarts are counted.
# At the end every instance is stopped in order (lakepipe stop, exit 0)
# and one run with stop-at-end drains the rest.  Asserted as in t8000:
# nothing lost, nothing unexpected, backlog 0, no leftovers, the audit
# clean when there is one, and nothing twice when the build has
# exactly-once (otherwise counted).  Knobs: T8001_MESSAGES, T8001_CYCLES,
# CHAOS_SEED.
. "$(dirname "$0")/test-lib.sh"
. "$TEST_DIRECTORY/lib-chaos.sh"

N=${T8001_MESSAGES:-8000}
CYCLES=${T8001_CYCLES:-5}
RATE=${T8001_RATE:-$((N / (CYCLES * 4)))}
MAX_MS=${T8001_MAX_MS:-2500}

test_expect_success 'start two brokers' '
	chaos_broker 2
'

# shared_run K: K instances on topic t/ns/shareK, lake directory shareK
shared_run() {
	k=$1 name=share$1 topic=t/ns/share$1
	chaos_rnd=$((CHAOS_SEED + k))
	url=$(json_get pb.json serviceUrl)
	t0=$(date +%s)
	chaos_topic $topic lake Failover &&
	chaos_publish $topic $N $name.ids $RATE || return 1
	i=0
	while [ $i -lt $k ]; do
		i=$((i + 1))
		chaos_rule $name.p$i "$url" $topic lake failover \
		    "file://$TRASH/$name/" &&
		chaos_supervised $name.p$i.conf $name.p$i.run || return 1
	done
	c=0
	while [ $c -lt $CYCLES ]; do
		c=$((c + 1))
		wait_until 60 all_connected $topic lake $k ||
		    { cat parts.now; return 1; }
		chaos_moment $MAX_MS
		chaos_random $k
		v=$((CHAOS_R + 1))
		vpid=$(cat $name.p$v.pid)
		kill -KILL -$vpid &&
		chaos_wait_exit $vpid 30 &&
		test $CHAOS_RC -eq 137 &&
		chaos_parts $topic lake >parts.killed &&
		# the survivors take its partitions
		wait_until 60 all_moved $topic lake parts.killed ||
		    { cat parts.killed parts.now; return 1; }
		echo "cycle $c killed p$v of $k" | tee -a cycles.log
		chaos_supervised $name.p$v.conf $name.p$v.run || return 1
	done
	wait $PUB_PID || { cat $name.ids.err; return 1; }
	wait_until 60 all_connected $topic lake $k || return 1
	i=0
	while [ $i -lt $k ]; do
		i=$((i + 1))
		chaos_stop $name.p$i.conf $name.p$i.run || return 1
	done
	t1=$(date +%s)
	chaos_tail $topic $N $name.ids &&
	chaos_final $name.p1 300 || return 1
	chaos_check $name $name.ids $topic lake Failover
	rc=$?
	chaos_figures "run=$name pipelines=$k type=Failover cycles=$CYCLES" \
	    "messages=$(fig $name messages) lost=$(fig $name lost) duplicated=$(fig $name duplicated)" \
	    "backlog=$(chaos_backlog $topic lake) leftovers=$(chaos_leftovers $name | wc -l)" \
	    "conflict_restarts=$(restarts $name $k)" \
	    "exactly_once=$(has_exactly_once && echo yes || echo no) audit=$CHAOS_AUDIT" \
	    "cycles_s=$((t1 - t0)) final_s=$(($(date +%s) - t1)) seed=$CHAOS_SEED"
	return $rc
}

test_expect_success "two pipelines, one Failover subscription, $CYCLES kills" '
	shared_run 2
'

test_expect_success "three pipelines, one Failover subscription, $CYCLES kills" '
	shared_run 3
'

[ -s figures ] && sed 's/^/# /' figures

test_done
