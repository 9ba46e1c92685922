#!/bin/sh
# The documentation says what the programs do: every long option of each
# program is in its man page, the man pages render without warnings, and
# the installed alert rules are the ones lakepipe-metrics(7) shows.
. "$(dirname "$0")/test-lib.sh"

for p in consume transform deliver; do
	test_expect_success "$p: every long option is in $p(1)" '
		$p --list-options >opts &&
		test -s opts &&
		sed "s/=$//" opts | while read -r o; do
			grep -q -e "Fl -$o\b" -e "Fl \\\\-$o\b" "$SRC/$p/$p.1" ||
			{ echo "--$o is not in $p(1)" >&2; exit 1; }
		done
	'
done

test_expect_success 'the man pages render without warnings' '
	for m in "$SRC"/*/*.[157]; do
		LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -E UTF-8 -l "$m" >/dev/null 2>warn ||
		{ cat warn >&2; exit 1; }
		if test -s warn; then echo "$m:" >&2; cat warn >&2; exit 1; fi
	done
'

test_expect_success 'dist/lakepipe-alerts.yml is the example of lakepipe-metrics(7)' '
	sed -n "/^groups:/,/^\.Ed/p" "$SRC/doc/lakepipe-metrics.7" | sed "\$d" >want &&
	test_cmp want "$SRC/dist/lakepipe-alerts.yml"
'

test_expect_success 'the alert rules name only metrics the programs write' '
	grep -o "lakepipe_[a-z_]*" "$SRC/dist/lakepipe-alerts.yml" | sort -u >used &&
	while read -r m; do
		grep -q "Sy $m\b" "$SRC/doc/lakepipe-metrics.7" ||
		{ echo "$m is not documented" >&2; exit 1; }
	done <used
'

test_done
