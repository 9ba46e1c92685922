#!/bin/sh
# tests/soak/chaos.sh [--build DIR]: the long chaos runs of issue 8 (make
# soak): t8000 (kill -9 cycles, Failover, Exclusive and Shared, pulsar://
# and http://), t8001 (two and three pipelines on one Failover
# subscription), t8002 (broker faults, SOAK_ROUNDS rounds) and t8003 (into
# Ceph RGW, when installed), each with SOAK_MESSAGES messages (100000)
# and SOAK_CYCLES kill cycles (24); CHAOS_SEED repeats the choices.  The
# figures of every run are printed at the end and appended to
# SOAK_FIGURES (default tests/soak/figures.log).  Exit 0 when every
# script passed.
cd "$(dirname "$0")/../.." || exit 1
build=.
[ "${1:-}" != --build ] || build=$2
SOAK_MESSAGES=${SOAK_MESSAGES:-100000}
SOAK_CYCLES=${SOAK_CYCLES:-24}
CHAOS_FIGURES=${SOAK_FIGURES:-$PWD/tests/soak/figures.log}
CHAOS_BROKER_TIMEOUT=${CHAOS_BROKER_TIMEOUT:-7200}
LAKEPIPE_BUILD=$build
export CHAOS_FIGURES CHAOS_BROKER_TIMEOUT LAKEPIPE_BUILD
export T8000_MESSAGES=$SOAK_MESSAGES T8000_CYCLES=$SOAK_CYCLES T8000_MORE=1
export T8001_MESSAGES=$SOAK_MESSAGES T8001_CYCLES=$SOAK_CYCLES
export T8002_MESSAGES=$SOAK_MESSAGES T8002_ROUNDS=${SOAK_ROUNDS:-3}
export T8003_MESSAGES=$SOAK_MESSAGES T8003_CYCLES=$SOAK_CYCLES
export RGW_LIFETIME=${RGW_LIFETIME:-7200}
start=$(date -u +%FT%TZ)
failed=0
for t in tests/t8000-chaos.sh tests/t8001-chaos-failover.sh \
    tests/t8002-chaos-broker.sh tests/t8003-chaos-rgw.sh; do
	[ -f "$t" ] || continue
	echo "--- $t: $SOAK_MESSAGES messages, $SOAK_CYCLES cycles"
	s=$(date +%s)
	if sh "$t"; then r=ok; else r=FAIL; failed=$((failed + 1)); fi
	echo "--- $r $t ($(($(date +%s) - s)) s)"
done
echo "--- figures since $start (also in $CHAOS_FIGURES):"
awk -v s="$start" '$1 >= s' "$CHAOS_FIGURES" 2>/dev/null
[ $failed -eq 0 ]
