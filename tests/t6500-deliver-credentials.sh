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

# How many keys the stand-in whose URL is $1 has minted so far.
minted() {
	curl -s "$1/_stats" | sed 's/^{"minted":\([0-9]*\),.*/\1/'
}

# wait_until CMD...: until CMD succeeds (30 s at most).
wait_until() {
	_i=0
	until "$@"; do
		_i=$((_i + 1))
		[ $_i -lt 600 ] || { echo "timed out: $*" >&2; return 1; }
		sleep 0.05
	done
}
more_than() { test "$(minted "$1")" -gt "$2"; }
acked() { test "$(wc -l <acks)" -ge "$1"; }

# run_rounds STANDIN ROUNDS HOOK deliver-args...: deliver runs on a FIFO;
# each round sends 3 objects, waits for their acks, then waits until the
# stand-in (its URL; - for none) has minted a new key (so ROUNDS rounds
# last about 2*ROUNDS s and cross ROUNDS rotations).  HOOK (a command, or
# :) runs after round 2.
# Leaves acks, err, rc.
run_rounds() {
	md=$1 rounds=$2 hook=$3
	shift 3
	rm -f in.fifo acks err rc && mkfifo in.fifo && : >acks || return 1
	{ test_timeout 120 deliver "$@" <in.fifo >acks 2>err; echo $? >rc; } &
	exec 3>in.fifo
	i=0 r=0
	while [ $r -lt "$rounds" ]; do
		for j in 1 2 3; do
			i=$((i + 1))
			obj "r/$i.txt" small n=1 seqs=$i >&3
		done
		wait_until acked $i || break
		if [ "$md" != - ]; then
			m=$(minted "$md")
			wait_until more_than "$md" "$m" || break
		fi
		r=$((r + 1))
		[ $r -ne 2 ] || $hook
	done
	exec 3>&-
	wait_until test -s rc
	cat err >>all.err
	sent=$i
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
			if (!ok) { console.log("bad", JSON.stringify(q)); bad++; }
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
	run_rounds "$MD" 8 : $EP --credentials instance-role "$COS" &&
	test "$(cat rc)" = 0 && test "$(wc -l <acks)" -eq $sent &&
	test $(grep -c "msg=\"credentials renewed\" source=instance-role role=lakepipe-test-role cause=expiring" err) -ge 2 &&
	! grep -v -e " level=info " -e " level=debug " err &&
	check_requests AKIDLPROLE 3 &&
	test "$(ctl objects $B role/r/ | wc -l)" -eq $sent
'

# Keys that live long (no renewal before the refusal), revoked mid-run.
test_start_server mdl.json node "$PEERS/metadata.js" --s3-control "$CTL" \
	--period 100 --lifetime 200 --timeout 300 --prefix AKIDLPLONG || exit 1
MDL=$(json_get mdl.json url)

test_expect_success 'instance role: the role named, and a revoked key renewed once' '
	ctl reset >/dev/null &&
	LAKEPIPE_METADATA_URL=$MDL &&
	run_rounds - 3 "curl -s -X POST $MDL/_rotate?revoke=1" \
	    $EP --credentials instance-role:lakepipe-test-role \
	    "cos://$B/revoke/?region=ap-guangzhou" &&
	test "$(cat rc)" = 0 && test "$(wc -l <acks)" -eq $sent &&
	test "$(ctl objects $B revoke/r/ | wc -l)" -eq $sent &&
	ctl requests >reqs.json &&
	refused=$(node -e "
		const r = JSON.parse(require(\"fs\").readFileSync(\"reqs.json\"));
		console.log(r.filter(q => q.status === 403).length)") &&
	test "$refused" -ge 1 && test "$refused" -le 3 &&
	test $(grep -c "credentials renewed" err) -eq 1 &&
	grep -q "credentials renewed.*cause=refused" err
'

test_expect_success 'instance role, s3:// (SigV4, x-amz-security-token) across rotations' '
	ctl reset >/dev/null &&
	run_rounds "$MD" 5 : --endpoint "http://localhost:$PORT" \
	    --credentials instance-role "s3://lake-test/s3role/?region=us-east-1" &&
	test "$(cat rc)" = 0 && test "$(wc -l <acks)" -eq $sent &&
	test $(grep -c "credentials renewed" err) -ge 1 &&
	check_requests AKIDLPROLE 2 &&
	ctl requests >reqs.json &&
	grep -q "\"x-amz-security-token\": \"<redacted>\"" reqs.json &&
	! grep -q "x-cos-security-token" reqs.json
'

test_start_server mdf.json node "$PEERS/metadata.js" --s3-control "$CTL" \
	--period 2 --lifetime 9 --timeout 300 --prefix AKIDLPFILE \
	--file "$TRASH/rotating.env" --kind cos || exit 1
MDF=$(json_get mdf.json url)

test_expect_success 'a --credentials file rewritten with new keys: re-read, never expired' '
	ctl reset >/dev/null &&
	test -s rotating.env &&
	run_rounds "$MDF" 8 : $EP --credentials "$TRASH/rotating.env" \
	    "cos://$B/file/?region=ap-guangzhou" &&
	test "$(cat rc)" = 0 && test "$(wc -l <acks)" -eq $sent &&
	test $(grep -c "msg=\"credentials renewed\" source=$TRASH/rotating.env cause=changed" err) -ge 2 &&
	! grep -v -e " level=info " -e " level=debug " err &&
	check_requests AKIDLPFILE 3
'

test_expect_success 'no key, token or secret of the role in the logs' '
	curl -s "$MD/latest/meta-data/cam/security-credentials/lakepipe-test-role" >cur.json &&
	for f in TmpSecretId TmpSecretKey Token; do
		v=$(node -e "console.log(JSON.parse(require(\"fs\").readFileSync(\"cur.json\"))[process.argv[1]])" $f) &&
		test -n "$v" || return 1
	done &&
	test -s all.err &&
	! grep -E "AKIDLP|RoleSecret|role-token-" all.err
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
	run_rounds "$LAKEPIPE_METADATA_URL" 6 : $EP --credentials instance-role \
	    "cos://$B/expn/?region=ap-guangzhou" &&
	test "$(cat rc)" = 0 && test "$(wc -l <acks)" -eq $sent &&
	test $(grep -c "credentials renewed" err) -ge 1 &&
	check_requests AKIDLPEXPN 2
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
