#!/bin/sh
# Security: (1) no secret leaves its file or variable: consume (token auth
# against the Pulsar test broker), deliver (COS and S3, SecretId, SecretKey
# and a session token) and lakepipe run with distinctive secrets, right
# and wrong, -v, --metrics-file, --probe; then every log line, stderr,
# stdout, error message, metrics file, state file and lake object is
# searched for each secret.  (2) TLS is verified by default, to the broker
# (consume) and to the store (deliver, through a TLS proxy in front of the
# S3/COS test server); --insecure turns it off with one warning.  (3) Keys
# built from message data never leave the delivery prefix: hostile topic
# names through transform, and hostile keys given to deliver directly.
. "$(dirname "$0")/test-lib.sh"
. "$TEST_DIRECTORY/lib-deliver.sh"
. "$TEST_DIRECTORY/lib-lakepipe.sh"

# The secrets: each distinctive, none a substring of a test name or path.
SID=AKIDLpSecretIdNineOneHundred0000000001
SKEY=LpSecretKeyNineOneHundredQx7
STOK=LpSessionTokenNineOneHundredZw3
AID=AKIALPNINEONEHUNDREDAWS1
AKEY=LpAwsSecretNineOneHundredVv5
ATOK=LpAwsSessionTokenNineOneHundredKk2
PTOK=LpPulsarTokenNineOneHundredJj8
BADKEY=LpWrongSecretNineOneHundredMm4
BADTOK=LpWrongTokenNineOneHundredNn6
BADPTOK=LpWrongPulsarTokenNineOneHundredBb9
SECRETS="$SID $AID $SKEY $STOK $AKEY $ATOK $PTOK $BADKEY $BADTOK $BADPTOK"

s3_start --bucket lake-1250000000 --bucket lake-test \
	--credential "$SID:$SKEY:$STOK" --credential "$AID:$AKEY:$ATOK"
PB=$PEERS/pulsar
pctl() { node "$PB/ctl.js" --info pb.json "$@"; }
COSEP="--endpoint http://cos.ap-guangzhou.localhost:$PORT"
S3EP="--endpoint http://localhost:$PORT"

# The files that hold secrets on purpose (given to the programs).
mkdir secrets
printf '%s\n' "$PTOK" >secrets/tok
printf '%s\n' "$BADPTOK" >secrets/bad.tok
printf 'TENCENTCLOUD_SECRET_ID=%s\nTENCENTCLOUD_SECRET_KEY=%s\nTENCENTCLOUD_SESSION_TOKEN=%s\n' \
	"$SID" "$SKEY" "$STOK" >secrets/cos.keys
printf 'AWS_ACCESS_KEY_ID=%s\nAWS_SECRET_ACCESS_KEY=%s\nAWS_SESSION_TOKEN=%s\n' \
	"$AID" "$AKEY" "$ATOK" >secrets/s3.keys
chmod 600 secrets/*

test_expect_success 'setup: certificate, broker with token auth and TLS, TLS proxy' '
	openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost \
	    -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
	    -keyout key.pem -out cert.pem 2>/dev/null &&
	test_start_server pb.json node "$PB/broker.js" --token "$PTOK" \
	    --tls-cert cert.pem --tls-key key.pem --timeout 300 &&
	test_start_server tp.json node "$PEERS/tls-proxy.js" --cert cert.pem \
	    --key key.pem --target $PORT --timeout 300 &&
	pctl subscriptions topic=t/ns/s subscription=bk >/dev/null &&
	pctl publish topic=t/ns/s payload="m{i}" count=30 batchSize=10 >/dev/null
'
URL=$(json_get pb.json serviceUrl 2>/dev/null)
TURL=$(json_get pb.json serviceUrlTls 2>/dev/null)
TP=$(json_get tp.json port 2>/dev/null)

# --- consume ---------------------------------------------------------

test_expect_success 'consume: token auth, -v, metrics' '
	test_timeout 30 consume -v --url "$URL" --topic t/ns/s --subscription bk \
	    --token-file secrets/tok --stop-at-end --metrics-file c.prom \
	    >msgs.frames 2>consume.err &&
	test $(grep -ac "^M " msgs.frames) -eq 30 && test -s c.prom
'

test_expect_success 'consume: the wrong token is refused, not printed' '
	test_expect_code 1 test_timeout 30 consume -v --url "$URL" --topic t/ns/s \
	    --subscription bk --token-file secrets/bad.tok --stop-at-end \
	    >out 2>consume-bad.err &&
	grep -q AuthenticationError consume-bad.err &&
	PULSAR_TOKEN=$BADPTOK test_expect_code 1 test_timeout 30 consume -v \
	    --url "$URL" --topic t/ns/s --subscription bk --stop-at-end \
	    >out 2>consume-badenv.err
'

test_expect_success 'consume: TLS verified by default (self-signed: exit 1, one line)' '
	pctl publish topic=t/ns/s payload="tls{i}" count=3 >/dev/null &&
	test_expect_code 1 test_timeout 30 consume --url "$TURL" --topic t/ns/s \
	    --subscription bk --token-file secrets/tok --stop-at-end \
	    >out 2>consume-tls.err &&
	one_error consume-tls.err &&
	grep -q "certificate not trusted" consume-tls.err && test ! -s out
'

test_expect_success 'consume: --ca-file trusts it; --insecure: works, one warning' '
	test_timeout 30 consume --url "$TURL" --topic t/ns/s --subscription bk \
	    --token-file secrets/tok --ca-file cert.pem --stop-at-end \
	    >tls.frames 2>consume-ca.err &&
	test $(grep -ac "^M " tls.frames) -eq 3 &&
	! grep " level=warn " consume-ca.err &&
	pctl publish topic=t/ns/s payload="ins{i}" count=2 >/dev/null &&
	test_timeout 30 consume --insecure --url "$TURL" --topic t/ns/s \
	    --subscription bk --token-file secrets/tok --stop-at-end \
	    >ins.frames 2>consume-ins.err &&
	test $(grep -ac "^M " ins.frames) -eq 2 &&
	test $(grep -c " level=warn " consume-ins.err) -eq 1 &&
	grep -q "level=warn .*--insecure" consume-ins.err
'

test_expect_success 'consume over https:// (HTTP lookup): verified; --insecure works' '
	HTURL=$(json_get pb.json httpUrlTls) &&
	pctl publish topic=t/ns/s payload="web{i}" count=2 >/dev/null &&
	test_expect_code 1 test_timeout 30 consume --url "$HTURL" --topic t/ns/s \
	    --subscription bk --token-file secrets/tok --stop-at-end \
	    >out 2>consume-web.err &&
	one_error consume-web.err && test ! -s out &&
	grep -qi "certificate" consume-web.err &&
	test_timeout 30 consume --insecure --url "$HTURL" --topic t/ns/s \
	    --subscription bk --token-file secrets/tok --stop-at-end \
	    >web.frames 2>consume-webins.err &&
	test $(grep -ac "^M " web.frames) -eq 2 &&
	test $(grep -c " level=warn " consume-webins.err) -eq 1
'

# --- deliver ---------------------------------------------------------

test_expect_success 'transform the messages into objects' '
	transform <msgs.frames >objs.frames && grep -aq "^O " objs.frames
'

test_expect_success 'deliver cos:// with a session token from the environment, -v, metrics' '
	TENCENTCLOUD_SECRET_ID=$SID TENCENTCLOUD_SECRET_KEY=$SKEY \
	TENCENTCLOUD_SESSION_TOKEN=$STOK test_timeout 60 deliver -v $COSEP \
	    --metrics-file d-cos.prom "cos://lake-1250000000/cos/?region=ap-guangzhou" \
	    <objs.frames >cos.acks 2>deliver-cos.err &&
	test -s cos.acks && test -s d-cos.prom &&
	TENCENTCLOUD_SECRET_ID=$SID TENCENTCLOUD_SECRET_KEY=$SKEY \
	TENCENTCLOUD_SESSION_TOKEN=$STOK test_timeout 60 deliver -v --probe \
	    $COSEP "cos://lake-1250000000/cos/?region=ap-guangzhou" \
	    >probe-cos.out 2>probe-cos.err &&
	TENCENTCLOUD_SECRET_ID=$SID TENCENTCLOUD_SECRET_KEY=$SKEY \
	TENCENTCLOUD_SESSION_TOKEN=$STOK deliver --list $COSEP \
	    "cos://lake-1250000000/cos/?region=ap-guangzhou" >list-cos.out 2>list-cos.err &&
	test -s list-cos.out
'

test_expect_success 'deliver s3:// with a --credentials file holding a session token' '
	test_timeout 60 deliver -v $S3EP --credentials secrets/s3.keys \
	    --metrics-file d-s3.prom "s3://lake-test/s3/?region=us-east-1" \
	    <objs.frames >s3.acks 2>deliver-s3.err &&
	test -s s3.acks &&
	test_timeout 60 deliver -v --probe $S3EP --credentials secrets/s3.keys \
	    "s3://lake-test/s3/?region=us-east-1" >probe-s3.out 2>probe-s3.err
'

# bad_keys FILE ID KEY TOKEN NAMES: a credentials file with the variable
# names NAMES (cos or s3)
bad_keys() {
	if test "$5" = cos; then
		set -- "$1" TENCENTCLOUD_SECRET_ID="$2" TENCENTCLOUD_SECRET_KEY="$3" \
		    TENCENTCLOUD_SESSION_TOKEN="$4"
	else
		set -- "$1" AWS_ACCESS_KEY_ID="$2" AWS_SECRET_ACCESS_KEY="$3" \
		    AWS_SESSION_TOKEN="$4"
	fi
	f=$1
	shift
	printf '%s\n' "$@" >"$f"
}

test_expect_success 'deliver: a wrong secret and a wrong token fail in one line, unprinted' '
	bad_keys secrets/bad1 $SID $BADKEY $STOK cos &&
	bad_keys secrets/bad2 $SID $SKEY $BADTOK cos &&
	bad_keys secrets/bad3 $AID $BADKEY $ATOK s3 &&
	bad_keys secrets/bad4 $AID $AKEY $BADTOK s3 &&
	for n in 1 2 3 4; do
		case $n in
		[12]) u="$COSEP cos://lake-1250000000/bad/?region=ap-guangzhou" ;;
		*) u="$S3EP s3://lake-test/bad/?region=us-east-1" ;;
		esac
		test_expect_code 1 test_timeout 60 deliver -v --retries 1 \
		    --credentials secrets/bad$n $u <objs.frames >out \
		    2>deliver-bad$n.err &&
		test ! -s out &&
		grep -q -e SignatureDoesNotMatch -e InvalidToken \
		    deliver-bad$n.err || return 1
	done
'

test_expect_success 'deliver: a store that echoes the keys in its error: starred out' '
	ctl fault error status=403 code=AccessDenied \
	    message="denied for $SID with $SKEY and $STOK" >/dev/null &&
	test_expect_code 1 test_timeout 60 deliver -v $COSEP \
	    --credentials secrets/cos.keys \
	    "cos://lake-1250000000/echo/?region=ap-guangzhou" \
	    <objs.frames >out 2>deliver-echo.err &&
	ctl clear-faults >/dev/null &&
	grep -q "403 AccessDenied: denied for \*\*\*\** with \*\*\*\** and \*\*\*\**" deliver-echo.err
'

test_expect_success 'deliver: TLS verified by default (self-signed: exit 1, one line)' '
	test_expect_code 1 test_timeout 60 deliver --credentials secrets/s3.keys \
	    --endpoint https://127.0.0.1:$TP "s3://lake-test/tls/?region=us-east-1" \
	    <objs.frames >out 2>deliver-tls.err &&
	test ! -s out && one_error deliver-tls.err &&
	grep -qi "certificate" deliver-tls.err
'

test_expect_success 'deliver --insecure: stored through TLS, one warning' '
	test_timeout 60 deliver --insecure --credentials secrets/s3.keys \
	    --endpoint https://127.0.0.1:$TP "s3://lake-test/tls/?region=us-east-1" \
	    <objs.frames >tls.acks 2>deliver-ins.err &&
	test $(wc -l <tls.acks) -eq $(wc -l <s3.acks) &&
	test $(grep -c " level=warn " deliver-ins.err) -eq 1 &&
	grep -q "level=warn .*--insecure" deliver-ins.err
'

# --- lakepipe --------------------------------------------------------

# lp_cycle NAME N URL KEY=VALUE...: the rule NAME (topic t/ns/NAME,
# subscription NAME, the token file, max-age 1 and the settings given):
# N messages published, lakepipe check, run until they are stored, status,
# stop.
lp_cycle() {
	name=$1 n=$2 url=$3
	shift 3
	{
		printf "url = %s\ntopic = t/ns/%s\nsubscription = %s\n" \
		    "$url" "$name" "$name"
		printf "token-file = %s\nmax-age = 1\n" "$TRASH/secrets/tok"
		printf "%s\n" "$@" | sed "s/=/ = /"
	} >$name.conf &&
	pctl subscriptions topic=t/ns/$name subscription=$name >/dev/null &&
	pctl publish topic=t/ns/$name payload="$name{i}" count=$n >/dev/null &&
	test_timeout 60 lakepipe check $name.conf >check-$name.out 2>&1 &&
	! grep "^fail" check-$name.out &&
	lp_start $name.conf $name.out &&
	wait_until 30 lp_stored $name.conf $n &&
	lakepipe status $name.conf >status-$name.out 2>&1 &&
	test_timeout 60 lakepipe stop $name.conf >stop.out 2>&1 &&
	grep "^ok stopped" stop.out &&
	test -s state/$name/log
}

test_expect_success 'lakepipe check and run with a token file and COS keys with a token' '
	lp_cycle sec 20 "$URL" \
	    "endpoint=http://cos.ap-guangzhou.localhost:$PORT" \
	    "credentials=$TRASH/secrets/cos.keys" \
	    "destination=\"cos://lake-1250000000/lp/?region=ap-guangzhou\""
'

test_expect_success 'lakepipe: insecure = yes reaches consume (pulsar+ssl://), file:// unaffected' '
	lp_cycle ins 5 "$TURL" insecure=yes "destination=file://$TRASH/lpi/" &&
	grep "prog=consume.*--insecure" state/ins/log &&
	test $(grep -c " level=warn .*--insecure" state/ins/log) -eq 1
'

# --- hostile keys ----------------------------------------------------

# hmsg SEQ TOPIC: a message frame of topic TOPIC (as encoded in frames)
hmsg() {
	printf 'M 2 seq=%d id=5:%d:-1:-1 topic=%s pt=1764201600000\nhi\n' \
	    "$1" "$1" "$2"
}
long=$(printf "%0200d" 0 | tr 0 a)

test_expect_success 'hostile topic names: transform keeps every key safe' '
	{
		hmsg 1 "persistent://t/ns/.." &&
		hmsg 2 "persistent://../../etc" &&
		hmsg 3 "persistent://t/ns/%2e%2e%2f%2e%2e%2fx" &&
		hmsg 4 "persistent://t/ns/a%2fb%2f..%2f..%2fc" &&
		hmsg 5 "persistent://t/ns/x%01y%0a%0dz%7f" &&
		hmsg 6 "persistent://$long/$long/$long" &&
		hmsg 7 "persistent://t/ns/%25%32%65%25%32%65" &&
		hmsg 8 "persistent://t/ns/..%5c..%5cwin" &&
		hmsg 9 "persistent://t/%2e/." &&
		hmsg 10 "../../../../x"
	} >hostile.frames &&
	for tmpl in "{topic}/{first_id}.{ext}" \
	    "{tenant}/{namespace}/{name}/{partition}/{first_id}.{ext}" \
	    "{name}/{date}/{first_id}.{ext}"; do
		transform --key "$tmpl" --max-messages 1 <hostile.frames \
		    >hostile.obj 2>transform.err || { cat transform.err; return 1; }
		grep -a "^O " hostile.obj | sed "s/.* key=\([^ ]*\).*/\1/" >>hostile.keys || return 1
	done &&
	test -s hostile.keys &&
	! grep -e "^/" -e "/\.\./" -e "^\.\./" -e "/\.\.$" -e "^\.\.$" -e "//" -e "%" hostile.keys
'

test_expect_success 'hostile topic names: every object stays under the prefix (file://, cos://)' '
	mkdir -p jail/lake &&
	for tmpl in "{topic}/{first_id}.{ext}" \
	    "{tenant}/{namespace}/{name}/{partition}/{first_id}.{ext}"; do
		transform --key "$tmpl" --max-messages 1 <hostile.frames |
		deliver "file://$TRASH/jail/lake/p/" >>jail.acks || return 1
	done &&
	test $(wc -l <jail.acks) -gt 0 &&
	find jail -type f >jail.files &&
	! grep -v "^jail/lake/p/" jail.files &&
	ls jail >jail.top && test "$(cat jail.top)" = lake &&
	transform --key "{topic}/{first_id}.{ext}" --max-messages 1 <hostile.frames |
	deliver $COSEP --credentials secrets/cos.keys \
	    "cos://lake-1250000000/jail/?region=ap-guangzhou" >cosjail.acks &&
	ctl objects lake-1250000000 >all.objects &&
	! cut -f1 all.objects | grep -v -e "^cos/" -e "^lp/" -e "^jail/" &&
	test "$(grep -c "^jail/" all.objects)" -eq "$(wc -l <cosjail.acks)"
'

# A topic name longer than a file name may be (255 bytes): the key is
# still safe, so the store decides; file:// fails cleanly, nothing outside.
test_expect_success 'a 600-byte topic name: refused by the file system, not outside the prefix' '
	long6=$(printf "%0600d" 0 | tr 0 c) &&
	hmsg 1 "persistent://t/ns/$long6" | transform --max-messages 1 >long.obj &&
	mkdir -p jail2 &&
	test_expect_code 1 deliver "file://$TRASH/jail2/p/" <long.obj >out 2>err &&
	test ! -s out && grep -q "File name too long" err &&
	test -z "$(find jail2 -type f)"
'

# hobj KEY: an object frame with that key (encoded as in frames)
hobj() {
	printf 'O 2 key=%s seqs=1\nhi\n' "$1"
}

for k in "../x" "a/../../x" "/etc/x" "%2e%2e/x" "a/%2e%2e/%2e%2e/x" \
	"a%2f..%2f..%2fx" "a//b" "./a" "a/." "x%01y" "x%0ay" "x%7f" ""
do
	test_expect_success "deliver refuses the key '$k' (file:// and cos://), writes nothing" "
		mkdir -p refuse && rm -rf refuse/* &&
		hobj '$k' >h.frames &&
		test_expect_code 1 deliver 'file://$TRASH/refuse/p/' <h.frames >out 2>err &&
		test ! -s out && one_error err && grep -q 'key' err &&
		test -z \"\$(find refuse -type f)\" &&
		test_expect_code 1 deliver $COSEP --credentials secrets/cos.keys \
		    'cos://lake-1250000000/refuse/?region=ap-guangzhou' <h.frames >out 2>err &&
		test ! -s out && one_error err &&
		! ctl objects lake-1250000000 refuse/ | grep -q .
	"
done

test_expect_success 'a very long key is refused or stays under the prefix' '
	k=$(printf "%05000d" 0 | tr 0 b) &&
	hobj "$k/../../x" >h.frames &&
	test_expect_code 1 deliver "file://$TRASH/refuse/p/" <h.frames >out 2>err &&
	test ! -s out && one_error err &&
	hobj "$k" >h.frames &&
	{ deliver "file://$TRASH/refuse/p/" <h.frames >out 2>err; true; } &&
	{ test -z "$(find refuse -mindepth 1 -type f)" ||
	  ! find refuse -type f | grep -v "^refuse/p/"; } &&
	one_error err || test ! -s err
'

# --- the search ------------------------------------------------------

test_expect_success 'the lake objects, fetched for the search' '
	mkdir -p lake &&
	for b in lake-1250000000 lake-test; do
		ctl objects $b >objs.$b || return 1
		i=0
		while IFS="	" read -r key size etag crc; do
			i=$((i + 1))
			ctl get $b "$key" >lake/$b.$i </dev/null || return 1
		done <objs.$b
	done &&
	test "$(ls lake | wc -l)" -gt 5
'

test_expect_success 'the search finds a secret where there is one (control)' '
	echo secrets/cos.keys | xargs grep -l -a -F -e "$SKEY" &&
	echo secrets/s3.keys | xargs grep -l -a -F -e "$ATOK"
'

test_expect_success 'no secret anywhere: logs, stderr, stdout, metrics, state, lake' '
	find . -type f ! -path "./secrets/*" ! -name "s3.json*" \
	    ! -name "pb.json*" ! -name "tp.json*" ! -name ".out.*" \
	    ! -name ".cleanup" >searched &&
	test $(wc -l <searched) -gt 40 &&
	grep -q "^./state/sec/log$" searched &&
	grep -q "^./state/sec/state$" searched &&
	grep -q "prom$" searched &&
	for s in $SECRETS; do
		if xargs grep -l -a -F -e "$s" <searched; then
			echo "secret $s found in the files above" >&2
			return 1
		fi
	done
'

test_done
