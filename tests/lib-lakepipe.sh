# lib-lakepipe.sh: helpers for the tests of the lakepipe command (rules and
# subcommands, tests/t7*.sh); sourced after test-lib.sh.

# lakepipe takes the programs from beside itself: give it a directory where
# they are those of the build under test (build/san too), not the source
# tree's, and put it first on PATH as both lakepipe and pipeline.sh, its
# parts beside it as in the tree.
mkdir -p "$TRASH/bin"
cp "$SRC/pipeline.sh" "$TRASH/bin/lakepipe"
cp "$SRC/pipeline.sh" "$TRASH/bin/pipeline.sh"
ln -s "$SRC/lib" "$TRASH/bin/lib"
for p in consume transform deliver; do
	mkdir -p "$TRASH/bin/$p" && ln -sf "$LAKEPIPE_BUILD/$p/$p" "$TRASH/bin/$p/$p"
done
PATH=$TRASH/bin:$PATH
LAKEPIPE_STATE_DIR=$TRASH/state
export LAKEPIPE_STATE_DIR
unset PULSAR_TOKEN TENCENTCLOUD_SECRET_ID TENCENTCLOUD_SECRET_KEY \
    TENCENTCLOUD_SESSION_TOKEN AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY \
    AWS_SESSION_TOKEN

# wait_until SECONDS COMMAND...: poll COMMAND every 0.1 s until it
# succeeds; fail when SECONDS have passed.
wait_until() {
	wu_left=$(($1 * 10))
	shift
	while ! "$@" 2>/dev/null; do
		wu_left=$((wu_left - 1))
		[ $wu_left -gt 0 ] || { echo "timed out: $*" >&2; return 1; }
		sleep 0.1
	done
}

# every_line_logfmt FILE: each line of FILE has ts= and level= first.
every_line_logfmt() {
	test -s "$1" &&
	! grep -v '^ts=[0-9T:.-]*Z level=[a-z]* ' "$1"
}

# lp_start RULE LOG: lakepipe run RULE in a process group of its own,
# with SIGINT back to its default disposition (a background job of this
# script would ignore it, and a shell cannot trap a signal ignored at
# entry), so that "kill -INT -$LP_PID" is a terminal's Ctrl-C.  LP_PID is
# also in RULE.pid, for the tests that follow (each runs in a subshell).
lp_start() {
	setsid perl -e '$SIG{INT} = "DEFAULT"; exec @ARGV or die "$!\n"' \
	    lakepipe run "$1" >"$2" 2>&1 &
	LP_PID=$! LP_OUT=$2
	echo $LP_PID >"${1%.conf}.pid"
	test_at_end "kill -KILL -$LP_PID"
}

# lp_running RULE: lakepipe status says it is running.
lp_running() {
	lakepipe status "$1" | grep -q '^running: yes'
}

# lp_up RULE: wait until the run lp_start began says it is running; what
# it printed when it does not
lp_up() {
	wait_until 60 lp_running "$1" || { tail -20 "$LP_OUT" >&2; return 1; }
}

# lp_stored RULE N: at least N messages stored and acknowledged.
lp_stored() {
	lp_n=$(lakepipe status "$1" |
	    sed -n 's/^messages: [0-9]* read, \([0-9]*\) stored.*/\1/p')
	[ "${lp_n:-0}" -ge "$2" ]
}

# lp_rule NAME [KEY=VALUE...]: the rule NAME.conf, from what the script's
# rule_base NAME prints, each KEY=VALUE replacing (or adding) that key
lp_rule() {
	name=$1
	shift
	rule_base "$name" >"$name.conf"
	for kv in "$@"; do
		k=${kv%%=*}
		grep -v "^$k = " "$name.conf" >"$name.tmp"
		printf '%s = %s\n' "$k" "${kv#*=}" >>"$name.tmp"
		mv "$name.tmp" "$name.conf"
	done
}

# lp_check_fails NAME SETTING [KEY=VALUE...]: lakepipe check of the rule
# (lp_rule) fails within 20 s with one "fail SETTING:" line, and nothing
# else fails; its output is in "out"
lp_check_fails() {
	name=$1 setting=$2
	shift 2
	lp_rule "$name" "$@" &&
	test_expect_code 1 test_timeout 20 lakepipe check "$name.conf" >out &&
	cat out &&
	test "$(grep -c "^fail $setting: " out)" -eq 1 &&
	! grep "^fail" out | grep -v "^fail $setting: "
}
