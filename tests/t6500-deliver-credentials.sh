#!/bin/sh
# deliver's temporary keys over long runs: a CVM instance role's keys from
# the metadata service (a stand-in, tests/peers/metadata.js, whose keys
# live 9 s and rotate every 2 s), renewed before they expire and after a
# refusal; a --credentials file re-read when it changes.  The S3/COS test
# server accepts each key only while it is valid (the stand-in registers
# it there with its expiry), so a request signed with an expired key or a
# stale token fails.
. "$(dirname "$0")/test-lib.sh"
. "$TEST_DIRECTORY/lib-deliver.sh"

B=examplebucket-1250000000
s3_start --bucket $B --bucket lake-test
unset TENCENTCLOUD_SECRET_ID TENCENTCLOUD_SECRET_KEY TENCENTCLOUD_SESSION_TOKEN \
	COS_SECRET_ID COS_SECRET_KEY AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY \
	AWS_SESSION_TOKEN
test_start_server md.json node "$PEERS/metadata.js" --s3-control "$CTL" \
	--period 2 --lifetime 9 --timeout 300 || exit 1
MD=$(json_get md.json url)
LAKEPIPE_METADATA_URL=$MD
export LAKEPIPE_METADATA_URL
COS="cos://$B/role/?region=ap-guangzhou"
EP="--endpoint http://cos.ap-guangzhou.localhost:$PORT"

# How many keys the stand-in whose URL is $1 has minted so far, into $m;
# fails while it does not answer with a number.
minted() {
	m=$(curl -s -m 10 "$1/_stats" | sed 's/^{"minted":\([0-9]*\),.*/\1/')
	case $m in ''|*[!0-9]*) return 1 ;; esac
}

# wait_until CMD...: until CMD succeeds (600 tries: 30 s, longer when
# the machine is loaded).
wait_until() {
	_i=0
	until "$@"; do
		_i=$((_i + 1))
		[ $_i -lt 600 ] || { echo "timed out: $*" >&2; return 1; }
		sleep 0.05
	done
}
more_than() { minted "$1" && test "$m" -gt "$2"; }
acked() { test "$(wc -l <"$1.acks")" -ge "$2"; }

# renewed CASE CAUSE N: deliver's stderr of CASE holds N or more
# "credentials renewed" lines of that cause.
renewed() {
	test "$(grep -c "msg=\"credentials renewed\" .* cause=$2" "$1.err")" \
	    -ge "$3"
}

# run_rounds CASE STANDIN ROUNDS UNTIL HOOK deliver-args...: deliver runs
# on a FIFO, its stderr in CASE.err, its acks in CASE.acks.  Each round
# sends 3 objects and waits for their acks, then waits until the
# stand-in (its URL; - for none) has minted a new key, so that each round
# crosses a rotation.  Rounds go on until ROUNDS are done and UNTIL (a
# command; : for none) holds, 20 at most: when deliver renews depends on
# the age of the first key it is handed and on how long rounds last (a
# loaded machine), so a case waits for the renewals it checks, never for
# a number of rounds.  HOOK
# (a command, or :) runs after round 2.  Fails, saying why, when a wait
# times out, UNTIL never holds, or deliver does not exit 0 with every
# object acked; sets sent.
run_rounds() {
	rr_case=$1 md=$2 rounds=$3 until=$4 hook=$5
	shift 5
	rm -f "$rr_case.fifo" "$rr_case.rc" && mkfifo "$rr_case.fifo" &&
	    : >"$rr_case.acks" && : >"$rr_case.err" || return 1
	{ test_timeout 120 deliver "$@" <"$rr_case.fifo" >"$rr_case.acks" \
	    2>"$rr_case.err"; echo $? >"$rr_case.rc"; } &
	exec 3>"$rr_case.fifo"
	i=0 r=0 why="UNTIL ($until) never held"
	while [ $r -lt 20 ]; do
		for j in 1 2 3; do
			i=$((i + 1))
			obj "r/$i.txt" small n=1 seqs=$i >&3
		done
		wait_until acked "$rr_case" $i ||
		    { why="round $((r + 1)): objects not acked"; break; }
		if [ "$md" != - ]; then
			wait_until minted "$md" && wait_until more_than "$md" "$m" ||
			    { why="round $((r + 1)): no new key"; break; }
		fi
		r=$((r + 1))
		[ $r -ne 2 ] || eval "$hook" >/dev/null ||
		    { why="HOOK ($hook) failed"; break; }
		[ $r -lt "$rounds" ] || ! eval "$until" || { why=; break; }
	done
	exec 3>&-
	wait_until test -s "$rr_case.rc" || why="${why:-deliver did not end}"
	sent=$i
	echo "$rr_case: $r rounds, $sent objects sent, $(wc -l <"$rr_case.acks")" \
	    "acked, exit status $(cat "$rr_case.rc" 2>/dev/null)"
	test "$(cat "$rr_case.rc" 2>/dev/null)" = 0 ||
	    why="${why:-deliver failed}"
	test "$(wc -l <"$rr_case.acks")" -eq $sent || why="${why:-not all acked}"
	[ -z "$why" ] || { echo "$rr_case: $why" >&2; return 1; }
}

# show_case CASE: after a failure, what deliver said in CASE (its
# renewals, warnings and errors, and its last lines); fails.
show_case() {
	echo "deliver's stderr in $1.err: renewals, warnings, errors:"
	grep -e "credentials renewed" -e " level=warn " -e " level=error " \
	    "$1.err" | tail -n 10
	echo "its last lines:"
	tail -n 4 "$1.err"
	return 1
}

# check_requests IDPREFIX MINKEYS: every request recorded since the last
# reset passed its signature check with a stand-in key (IDPREFIX...) that
# was valid when it arrived, and at least MINKEYS keys were used.
check_requests() {
	curl -s "$CTL/credentials" >creds.json &&
	ctl requests >reqs.json &&
	node -e '
		const fs = require("fs");
		const [pfx, min] = [process.argv[1], Number(process.argv[2])];
		const exp = {};
		for (const c of JSON.parse(fs.readFileSync("creds.json")).credentials) exp[c.id] = c.expires;
		const r = JSON.parse(fs.readFileSync("reqs.json"));
		const used = new Set(); let bad = 0;
		for (const q of r) {
			const ok = q.authOk && q.status >= 200 && q.status < 300 &&
			    q.accessKeyId && q.accessKeyId.startsWith(pfx) &&
			    exp[q.accessKeyId] && q.start < exp[q.accessKeyId] * 1000;
			if (!ok && bad++ < 5) console.log("bad", JSON.stringify(q));
			used.add(q.accessKeyId);
		}
		console.log(r.length, "requests,", used.size, "keys");
		process.exit(bad || used.size < min || r.length === 0 ? 1 : 0);
	' "$1" "$2"
}

test_expect_success 'setup' '
	printf "{\"a\":1}\n" >small &&
	obj one.txt small n=1 seqs=1 >one.frames &&
	curl -s "$MD/latest/meta-data/cam/security-credentials/" >role &&
	test "$(cat role)" = lakepipe-test-role
'

test_expect_success 'instance role, COS: every request signed with a valid key over 3 rotations' '
	ctl reset >/dev/null &&
	{
		run_rounds role "$MD" 3 "renewed role expiring 2" : \
		    $EP --credentials instance-role "$COS" &&
		test $(grep -c "msg=\"credentials renewed\" source=instance-role role=lakepipe-test-role cause=expiring" role.err) -ge 2 &&
		! grep -v -e " level=info " -e " level=debug " role.err &&
		check_requests AKIDLPROLE 3 &&
		test "$(ctl objects $B role/r/ | wc -l)" -eq $sent
	} || show_case role
'

# Keys that live long (no renewal before the refusal), revoked mid-run.
test_start_server mdl.json node "$PEERS/metadata.js" --s3-control "$CTL" \
	--period 100 --lifetime 200 --timeout 300 --prefix AKIDLPLONG || exit 1
MDL=$(json_get mdl.json url)

test_expect_success 'instance role: the role named, and a revoked key renewed once' '
	ctl reset >/dev/null &&
	LAKEPIPE_METADATA_URL=$MDL &&
	{
		run_rounds revoke - 3 : "curl -sf -X POST \"$MDL/_rotate?revoke=1\"" \
		    $EP --credentials instance-role:lakepipe-test-role \
		    "cos://$B/revoke/?region=ap-guangzhou" &&
		test "$(ctl objects $B revoke/r/ | wc -l)" -eq $sent &&
		ctl requests >reqs.json &&
		refused=$(node -e "
			const r = JSON.parse(require(\"fs\").readFileSync(\"reqs.json\"));
			console.log(r.filter(q => q.status === 403).length)") &&
		test "$refused" -ge 1 && test "$refused" -le 3 &&
		test $(grep -c "credentials renewed" revoke.err) -eq 1 &&
		renewed revoke refused 1
	} || show_case revoke
'

test_expect_success 'instance role, s3:// (SigV4, x-amz-security-token) across rotations' '
	ctl reset >/dev/null &&
	{
		run_rounds s3role "$MD" 2 "renewed s3role expiring 1" : \
		    --endpoint "http://localhost:$PORT" --credentials instance-role \
		    "s3://lake-test/s3role/?region=us-east-1" &&
		check_requests AKIDLPROLE 2 &&
		ctl requests >reqs.json &&
		grep -q "\"x-amz-security-token\": \"<redacted>\"" reqs.json &&
		! grep -q "x-cos-security-token" reqs.json
	} || show_case s3role
'

test_start_server mdf.json node "$PEERS/metadata.js" --s3-control "$CTL" \
	--period 2 --lifetime 9 --timeout 300 --prefix AKIDLPFILE \
	--file "$TRASH/rotating.env" --kind cos || exit 1
MDF=$(json_get mdf.json url)

test_expect_success 'a --credentials file rewritten with new keys: re-read, never expired' '
	ctl reset >/dev/null &&
	test -s rotating.env &&
	{
		run_rounds file "$MDF" 3 "renewed file changed 2" : \
		    $EP --credentials "$TRASH/rotating.env" \
		    "cos://$B/file/?region=ap-guangzhou" &&
		test $(grep -c "msg=\"credentials renewed\" source=$TRASH/rotating.env cause=changed" file.err) -ge 2 &&
		! grep -v -e " level=info " -e " level=debug " file.err &&
		check_requests AKIDLPFILE 3
	} || show_case file
'

test_expect_success 'no key, token or secret of the role in the logs' '
	curl -s "$MD/latest/meta-data/cam/security-credentials/lakepipe-test-role" >cur.json &&
	for f in TmpSecretId TmpSecretKey Token; do
		v=$(node -e "console.log(JSON.parse(require(\"fs\").readFileSync(\"cur.json\"))[process.argv[1]])" $f) &&
		test -n "$v" || return 1
	done &&
	test -s role.err && test -s revoke.err && test -s s3role.err &&
	test -s file.err &&
	! grep -E "AKIDLP|RoleSecret|role-token-" role.err revoke.err \
	    s3role.err file.err
'

test_expect_success '--probe with the instance role: ok credentials, no key shown' '
	deliver --probe $EP --credentials instance-role "$COS" >probe.out 2>probe.err &&
	grep "^ok credentials: TmpSecretId and TmpSecretKey and Token from --credentials instance-role" probe.out &&
	! grep -E "AKIDLP|RoleSecret|role-token-" probe.out probe.err
'

test_expect_success '--check does not ask the metadata service; a bad role name is exit 2' '
	LAKEPIPE_METADATA_URL=http://127.0.0.1:9 deliver --check \
	    --credentials instance-role $EP "$COS" &&
	test_expect_code 2 deliver --check --credentials "instance-role:a/b" \
	    $EP "$COS" 2>err &&
	one_error err && grep -q "not a role name" err
'

test_expect_success 'no metadata service: exit 1, one line naming its address' '
	LAKEPIPE_METADATA_URL=http://127.0.0.1:9 test_expect_code 1 \
	    deliver --credentials instance-role $EP "$COS" <one.frames >out 2>err &&
	test ! -s out && one_error err && grep -q "127.0.0.1:9/latest/meta-data/cam/security-credentials/" err
'

test_start_server mde.json node "$PEERS/metadata.js" --s3-control "$CTL" \
	--period 2 --lifetime 9 --timeout 300 --prefix AKIDLPEXPN \
	--no-expired-time || exit 1
test_start_server mdc.json node "$PEERS/metadata.js" --period 60 \
	--lifetime 120 --timeout 300 --code InternalError || exit 1

test_expect_success 'only Expiration (ISO 8601) in the answer: still renewed in time' '
	ctl reset >/dev/null &&
	LAKEPIPE_METADATA_URL=$(json_get mde.json url) &&
	{
		run_rounds expn "$LAKEPIPE_METADATA_URL" 2 \
		    "renewed expn expiring 1" : $EP --credentials instance-role \
		    "cos://$B/expn/?region=ap-guangzhou" &&
		check_requests AKIDLPEXPN 2
	} || show_case expn
'

test_expect_success 'an answer whose Code is not Success: exit 1, one line' '
	LAKEPIPE_METADATA_URL=$(json_get mdc.json url) test_expect_code 1 \
	    deliver --credentials instance-role $EP "$COS" <one.frames >out 2>err &&
	test ! -s out && one_error err && grep -q "Code InternalError" err
'

test_expect_success 'an unknown role: exit 1, one line' '
	test_expect_code 1 deliver --credentials instance-role:nosuchrole \
	    $EP "$COS" <one.frames >out 2>err &&
	test ! -s out && one_error err && grep -q "HTTP 404" err
'

test_done
