#!/bin/sh
# deliver's signer (deliver/sign.c) against the vendors' own code, fresh
# on every run: tests/peers/sign-vectors.js has Tencent's SDK
# (COS.getAuthorization) and the AWS SDK's signer (@smithy/signature-v4)
# sign the fixed vectors of tests/peers/s3/vectors.js and random requests
# (keys with UTF-8, spaces, '+', '(', runs of '/', query values with '='
# and '&', parameters without value, x-cos-meta-*/x-amz-meta-* headers,
# padded header values, session tokens); the unit test binary signs the
# same requests in C and compares.  Checksums (CRC-64/XZ, MD5, SHA-256)
# are compared with tests/peers/s3/crc64.js, md5sum and sha256sum.
. "$(dirname "$0")/test-lib.sh"

SIGN=$LAKEPIPE_BUILD/tests/unit/test-sign

check_vectors() {
	test_timeout 60 node "$PEERS/sign-vectors.js" "$@" >vectors.tsv \
		2>seed &&
	test -s vectors.tsv &&
	"$SIGN" --vectors <vectors.tsv >out.tap ||
	{ cat seed; grep -A2 "^not ok" out.tap; false; } &&
	! grep "^not ok" out.tap
}

test_expect_success 'the signer agrees with the SDKs on the fixed vectors' '
	check_vectors --count 0 &&
	grep -q 3b8851a11a569213c17ba8fa7dcf2abec6935172 vectors.tsv &&
	grep -q 01681b8c9d798a678e43b685a9f1bba0f6c0e012 vectors.tsv &&
	aws=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41 &&
	grep -q $aws vectors.tsv
'

test_expect_success 'the signer agrees with the SDKs on random requests' '
	check_vectors --no-fixed --count 300 &&
	test "$(grep -c "^ok" out.tap)" -ge 600
'

test_expect_success 'a wrong secret is caught (the comparison can fail)' '
	test_timeout 60 node "$PEERS/sign-vectors.js" --no-fixed --count 2 \
		--seed 1 >vectors.tsv 2>/dev/null &&
	awk -F "\t" -v OFS="\t" "{ \$3 = \$3 \"x\"; print }" vectors.tsv \
		>wrong.tsv &&
	! "$SIGN" --vectors <wrong.tsv >out.tap &&
	test "$(grep -c "^not ok" out.tap)" -eq 4
'

test_expect_success 'CRC-64/XZ, MD5, SHA-256 of files match independent tools' '
	: >empty &&
	printf 123456789 >check &&
	head -c 1000003 /dev/urandom >random &&
	"$SIGN" --crc64 empty check random >crc.c &&
	test_timeout 60 node "$PEERS/s3/crc64.js" empty check random >crc.js &&
	test_cmp crc.js crc.c &&
	grep -q "^11051210869376104954 check$" crc.c &&
	"$SIGN" --md5 empty check random >md5.c &&
	md5sum empty check random >md5.ref &&
	test_cmp md5.ref md5.c &&
	"$SIGN" --sha256 empty check random >sha.c &&
	sha256sum empty check random >sha.ref &&
	test_cmp sha.ref sha.c
'

test_done
