#!/bin/sh
# The frame library's unit tests run as their own binary (tests/unit);
# here: the test library itself behaves, so a broken harness cannot pass.
. "$(dirname "$0")/test-lib.sh"

test_expect_success 'test_must_fail catches success' '
	! test_must_fail true
'

test_expect_success 'test_must_fail accepts a plain failure' '
	test_must_fail false
'

test_expect_success 'test_must_fail refuses a crash' '
	! test_must_fail sh -c "kill -SEGV \$\$"
'

test_expect_success 'test_cmp sees a difference' '
	printf a >a && printf b >b && ! test_cmp a b 2>/dev/null
'

test_done
