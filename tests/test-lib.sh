# test-lib.sh: the shell test library, in the style of git's t/test-lib.sh.
#
# A test script sources it, then runs
#
#	test_expect_success 'what it checks' '
#		commands that must all succeed
#	'
#
# and ends with test_done.  Each script runs in its own trash directory
# ($TRASH, the current directory while tests run), removed at the end
# unless a test failed.  The programs under test are found in
# $LAKEPIPE_BUILD (set by tests/run; default: the source tree), and are
# on PATH as consume, transform and deliver.
#
# Output is TAP: "ok N - title" / "not ok N - title"; tests/run counts it.

set -u
TEST_NAME=$(basename "$0" .sh)
TEST_DIRECTORY=$(cd "$(dirname "$0")" && pwd)
SRC=$(cd "$TEST_DIRECTORY/.." && pwd)
LAKEPIPE_BUILD=${LAKEPIPE_BUILD:-$SRC}
case $LAKEPIPE_BUILD in /*) ;; *) LAKEPIPE_BUILD=$SRC/$LAKEPIPE_BUILD ;; esac
PATH=$LAKEPIPE_BUILD/consume:$LAKEPIPE_BUILD/transform:$LAKEPIPE_BUILD/deliver:$SRC:$PATH
PEERS=$TEST_DIRECTORY/peers
TRASH=$TEST_DIRECTORY/trash.$TEST_NAME.$(basename "$LAKEPIPE_BUILD").$$
export PATH SRC PEERS TRASH LAKEPIPE_BUILD
# Sanitizers: fail loudly, never hide a report.
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=0:detect_leaks=1:exitcode=99}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1:exitcode=99}
export LC_ALL=C TZ=UTC

test_count=0
test_failed=0

rm -rf "$TRASH" && mkdir -p "$TRASH" && cd "$TRASH" || exit 1

say() { printf '%s\n' "$*"; }

# Register a command to run when the script ends (servers to stop).  It
# goes into a file, so that a test (which runs in a subshell) can register
# one too.
test_at_end() {
	printf '%s\n' "$1" >>"$TRASH/.cleanup"
}

test_run_cleanup() {
	if [ -f "$TRASH/.cleanup" ]; then
		sh "$TRASH/.cleanup" >/dev/null 2>&1
		rm -f "$TRASH/.cleanup"
	fi
}
trap 'test_run_cleanup' EXIT
trap 'test_run_cleanup; exit 130' INT TERM

test_expect_success() {
	test_count=$((test_count + 1))
	if (eval "$2") >"$TRASH/.out.$test_count" 2>&1 </dev/null; then
		say "ok $test_count - $1"
	else
		test_failed=$((test_failed + 1))
		say "not ok $test_count - $1"
		sed 's/^/#	/' "$TRASH/.out.$test_count" | tail -40
	fi
}

# Skip a test with a reason (counts neither as passed nor as failed).
test_skip() {
	test_count=$((test_count + 1))
	say "ok $test_count # skip $1 ($2)"
}

# test_audit_lakes: every exactly-once lake a test left in the trash
# directory (a directory holding _lakepipe/index) passes deliver --audit,
# unless the test broke it on purpose and said so (a file
# _lakepipe/damaged beside the index).  One "ok" line more when there are
# any; a lake that fails makes the script fail.
test_audit_lakes() {
	_lakes=$(find "$TRASH" -type d -path '*/_lakepipe/index' \
	    -prune 2>/dev/null | sed 's|/_lakepipe/index$||' | sort)
	[ -n "$_lakes" ] || return 0
	_bad=
	for _l in $_lakes; do
		[ ! -e "$_l/_lakepipe/damaged" ] || continue
		deliver --audit "file://$_l/" >"$TRASH/.audit" 2>&1 ||
		    _bad="$_bad $_l"
	done
	test_count=$((test_count + 1))
	if [ -z "$_bad" ]; then
		say "ok $test_count - every lake left passes the audit"
	else
		test_failed=$((test_failed + 1))
		say "not ok $test_count - lakes that fail the audit:$_bad"
	fi
}

test_done() {
	test_audit_lakes
	say "1..$test_count"
	test_run_cleanup
	if [ "$test_failed" -eq 0 ]; then
		cd "$TEST_DIRECTORY" && rm -rf "$TRASH"
		exit 0
	fi
	exit 1
}

# --- helpers for the tests themselves -------------------------------

# Fail (with a message) if the command succeeds.
test_must_fail() {
	"$@"
	rc=$?
	if [ $rc -eq 0 ]; then
		echo "expected failure, got success: $*" >&2
		return 1
	fi
	if [ $rc -gt 128 ] || [ $rc -eq 99 ]; then
		echo "died by signal or sanitizer ($rc): $*" >&2
		return 1
	fi
	return 0
}

# Expect exactly this exit status.
test_expect_code() {
	want=$1
	shift
	"$@"
	rc=$?
	if [ $rc -ne "$want" ]; then
		echo "exit status $rc, expected $want: $*" >&2
		return 1
	fi
}

test_cmp() {
	cmp "$1" "$2" || { diff -u "$1" "$2" | head -20 >&2; return 1; }
}

# The file must hold exactly one line (a one-line error message).
test_one_line() {
	n=$(wc -l <"$1")
	if [ "$n" -ne 1 ]; then
		echo "expected one line in $1, got $n:" >&2
		cat "$1" >&2
		return 1
	fi
}

# A file:// destination that deliver cannot write to, made under the
# current directory: a read-only directory, or for root (who writes
# anywhere) a path under a plain file.
test_unwritable_url() {
	mkdir ro && chmod 555 ro || return 1
	if [ "$(id -u)" -eq 0 ]; then
		touch ro/file && echo "file://$PWD/ro/file/sub/"
	else
		echo "file://$PWD/ro/sub/"
	fi
}

# test_wait_for FILE PATTERN: until a line of FILE matches (20 s at most);
# on time-out, says so and shows FILE.
test_wait_for() {
	_i=0
	until grep -q "$2" "$1" 2>/dev/null; do
		_i=$((_i + 1))
		[ $_i -lt 400 ] || { echo "no '$2' in $1:" >&2; cat "$1" >&2; return 1; }
		sleep 0.05
	done
}

# Run a command with a time limit (seconds) so that a hang is a failure.
test_timeout() {
	timeout -k 5 "$@"
}

# Start a server in the background that prints one JSON line when ready;
# store that line in the named file and stop the server at the end.
# Usage: test_start_server INFOFILE command args...
test_start_server() {
	info=$1
	shift
	"$@" >"$info.stdout" 2>"$info.log" &
	pid=$!
	test_at_end "kill $pid"
	i=0
	while [ $i -lt 300 ]; do
		if [ -s "$info.stdout" ] && head -1 "$info.stdout" | grep -q '}'; then
			head -1 "$info.stdout" >"$info"
			return 0
		fi
		kill -0 $pid 2>/dev/null || break
		sleep 0.1
		i=$((i + 1))
	done
	echo "server did not start: $*" >&2
	cat "$info.log" >&2
	return 1
}

# test_ack_each: put the command ack_each on PATH (in $TRASH/bin): it
# reads message frames with one-line payloads on stdin and writes one ack
# line per message, as deliver(1) would once each is stored, e.g.
#	test_timeout 30 sh -c "consume --lines in --acks fifo | ack_each >fifo"
# (a script, not a function, so that sh -c and timeout find it).
test_ack_each() {
	mkdir -p "$TRASH/bin" &&
	cat >"$TRASH/bin/ack_each" <<-\EOF &&
	#!/bin/sh
	while read -r hdr && read -r body; do
		seq=${hdr#* seq=}
		seq=${seq%% *}
		echo "A key=k/$seq seqs=$seq"
	done
	EOF
	chmod +x "$TRASH/bin/ack_each" &&
	PATH=$TRASH/bin:$PATH
}

# json_get FILE FIELD: a top-level field of a one-line JSON file.
json_get() {
	node -e 'const o=JSON.parse(require("fs").readFileSync(process.argv[1],"utf8"));const v=process.argv[2].split(".").reduce((a,k)=>a[k],o);console.log(typeof v==="object"?JSON.stringify(v):v)' "$1" "$2"
}
