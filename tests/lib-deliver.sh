# lib-deliver.sh: helpers for the deliver tests (object frames) and, against
# the S3/COS test server (tests/peers/s3),
# its start and control; sourced after test-lib.sh.

# Fixed test credentials of the server (public, see its README.md).
TEST_ID=AKIDLAKEPIPETEST00000000000000000001
TEST_KEY=LakepipeTestSecretKey000000000001
TMP_ID=AKIDLAKEPIPETMPKEY0000000000000000002
TMP_KEY=LakepipeTestTmpSecretKey00000002
TMP_TOKEN=lakepipe-test-session-token-0002

# Start the server with these extra arguments (at the top level of a
# script, so that it is stopped at the end); sets PORT and CTL.
s3_start() {
	test_start_server s3.json node "$PEERS/s3/server.js" --timeout 400 \
	    --quiet "$@" || exit 1
	PORT=$(json_get s3.json port)
	CTL=$(json_get s3.json control)
	export PORT CTL
}

ctl() {
	test_timeout 30 node "$PEERS/s3/ctl.js" --ctl "$CTL" "$@"
}

# How many recorded requests match the filters (op=PutObject ...).
nreq() {
	ctl count "$@"
}

# obj KEY FILE [FIELDS...]: an object frame whose body is FILE.
obj() {
	k=$1 f=$2
	shift 2
	printf 'O %d key=%s' "$(wc -c <"$f")" "$k"
	for x in "$@"; do printf ' %s' "$x"; done
	printf '\n'
	cat "$f"
	printf '\n'
}

# The stored bytes of BUCKET KEY must equal FILE.
stored_is() {
	ctl get "$1" "$2" >stored.tmp && cmp "$3" stored.tmp
}

# fault_case TITLE FAULT CHECK: inject FAULT (the arguments of ctl fault),
# then "fault_deliver PREFIX <in.frames >acks 2>err" must succeed,
# "fault_verify PREFIX" hold (both the script's own), and CHECK too.
# Each case stores under a prefix of its own (f1/, f2/, ...), so that a
# HEAD cannot find an earlier case's object.
nfault=0
fault_case() {
	nfault=$((nfault + 1))
	test_expect_success "fault $1: stored, verified, acked" "
		ctl reset >/dev/null && ctl fault $2 >/dev/null &&
		fault_deliver f$nfault/ <in.frames >acks 2>err &&
		fault_verify f$nfault/ &&
		$3
	"
}

# one_error FILE: deliver's stderr in FILE holds exactly one warning or
# error line (the life-cycle lines at level info do not count), and every
# line is logfmt with ts= and level=.
one_error() {
	all_logfmt "$1" &&
	{ grep -v -e ' level=info ' -e ' level=debug ' "$1" >"$1.errors" ||
	    :; } &&
	test_one_line "$1.errors"
}

# all_logfmt FILE: every line starts "ts=... level=... prog=".
all_logfmt() {
	if grep -v -E '^ts=[0-9T:.Z-]+ level=(error|warn|info|debug) prog=' "$1"
	then
		echo "lines above in $1 are not logfmt" >&2
		return 1
	fi
	return 0
}
