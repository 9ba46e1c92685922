#!/bin/sh
# The fuzz harnesses (fuzz/fuzz-*.c), built without libFuzzer as
# fuzz/regress-TARGET in every build, replay their seed corpus and every
# input that once crashed them (fuzz/regress/TARGET/, one file per bug,
# named for it): under `make check` also with ASan and UBSan.  A crash or
# a failed property aborts the harness; see `make fuzz` in doc/HACKING.md.
. "$(dirname "$0")/test-lib.sh"

for src in "$SRC"/fuzz/fuzz-*.c; do
	t=$(basename "$src" .c)
	t=${t#fuzz-}
	test_expect_success "fuzz target $t: corpus and regressions" '
		bin=$LAKEPIPE_BUILD/fuzz/regress-'$t' &&
		test -x "$bin" &&
		set -- "$SRC/fuzz/corpus/'$t'" &&
		if [ -d "$SRC/fuzz/regress/'$t'" ]; then
			set -- "$@" "$SRC/fuzz/regress/'$t'"
		fi &&
		"$bin" -v "$@"
	'
done

test_done
