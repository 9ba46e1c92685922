#!/bin/sh
# fuzz/run.sh BUILD SECONDS TARGET...: run each libFuzzer target
# BUILD/fuzz/fuzz-TARGET for SECONDS, one after the other, under nice(1)
# (a fuzzer takes a whole core).  Seeds: fuzz/corpus/TARGET (read only);
# the inputs it finds go to BUILD/corpus/TARGET, kept for the next run;
# fuzz/TARGET.dict when there is one.  A crash (or a leak, a timeout, a
# failed property) stops the run: the input is left in
# BUILD/crash-TARGET-*, the exit status is 1.  One summary line per
# target: its executions and seconds (libFuzzer's final stats).
#
# Environment: FUZZ_NICE (15), FUZZ_ARGS (more libFuzzer options).
cd "$(dirname "$0")/.." || exit 1
[ $# -ge 3 ] || { echo "usage: fuzz/run.sh BUILD SECONDS TARGET..." >&2; exit 2; }
build=$1 seconds=$2
shift 2
status=0
for t in "$@"; do
	bin=$build/fuzz/fuzz-$t
	mkdir -p "$build/corpus/$t" "$build/log" || exit 1
	log=$build/log/$t.log
	dict=
	[ -f "fuzz/$t.dict" ] && dict=-dict=fuzz/$t.dict
	echo "fuzz: $t for ${seconds}s (log $log)"
	# shellcheck disable=SC2086
	nice -n "${FUZZ_NICE:-15}" "$bin" -max_total_time="$seconds" \
	    -print_final_stats=1 -timeout=10 -rss_limit_mb=2048 \
	    -artifact_prefix="$build/crash-$t-" $dict ${FUZZ_ARGS:-} \
	    "$build/corpus/$t" "fuzz/corpus/$t" >"$log" 2>&1
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	secs=$(sed -n 's/^stat::.*//; s/^Done \([0-9]*\) runs in \([0-9]*\) second.*/\2/p' "$log")
	echo "fuzz: $t: ${execs:-?} executions in ${secs:-?} s, exit $rc"
	if [ $rc -ne 0 ]; then
		grep -E '^(==[0-9]+==ERROR|SUMMARY|.*property failed|.*runtime error)' \
		    "$log" | head -5
		ls "$build"/crash-"$t"-* "$build"/leak-"$t"-* 2>/dev/null
		status=1
		break
	fi
done
exit $status
