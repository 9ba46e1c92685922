#!/bin/sh
# consume's Pulsar wire codec against an independent encoder: frames made
# by pulsar-flex's generated protobuf codec, a CRC32C written in
# JavaScript, and compression by Node's zlib and Debian's python3-lz4,
# python3-snappy and python3-zstandard (tests/peers/pulsar-fixtures.js),
# decoded by tests/unit/test-pulsar --dump, one test per fixture.
. "$(dirname "$0")/test-lib.sh"

DUMP=$LAKEPIPE_BUILD/tests/unit/test-pulsar

test_expect_success 'fixtures are made by the independent encoder' '
	(cd "$PEERS" && node pulsar-fixtures.js "$TRASH/fixtures" \
	    "$TRASH/expected") &&
	test -s "$TRASH/fixtures" && test -s "$TRASH/expected"
'

test_expect_success 'the codec decodes every fixture' '
	"$DUMP" --dump "$TRASH/fixtures" >"$TRASH/got"
'

for name in $(cut -d" " -f1 "$TRASH/fixtures" 2>/dev/null); do
	test_expect_success "fixture $name" "
		grep '^$name ' expected >want.$name;
		grep '^$name ' got >got.$name;
		test -s want.$name && test_cmp want.$name got.$name
	"
done

test_done
