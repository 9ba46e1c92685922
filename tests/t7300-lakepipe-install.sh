#!/bin/sh
# make install into a DESTDIR: the programs as lakepipe-consume,
# lakepipe-transform and lakepipe-deliver, pipeline.sh as lakepipe (which
# finds them beside itself), the systemd unit, the example rule, the alert
# rules and every man page; the unit passes systemd-analyze verify; the installed lakepipe
# runs a rule.
. "$(dirname "$0")/test-lib.sh"

B=$LAKEPIPE_BUILD
R=$TRASH/root
san=
case $B in */build/san) san=SANITIZE=1 ;; esac
inst() {
	make -s -C "$SRC" install $san B="$B" "$@" >make.out 2>&1 ||
	    { cat make.out; return 1; }
}

test_expect_success 'make install DESTDIR=... PREFIX=/usr' '
	inst DESTDIR="$R" PREFIX=/usr &&
	for p in consume transform deliver; do
		test -x "$R/usr/bin/lakepipe-$p" &&
		cmp "$B/$p/$p" "$R/usr/bin/lakepipe-$p" &&
		test -f "$R/usr/share/man/man1/lakepipe-$p.1" || return 1
	done &&
	test -x "$R/usr/bin/lakepipe" &&
	cmp "$SRC/pipeline.sh" "$R/usr/bin/lakepipe" &&
	for f in "$SRC"/lib/lakepipe/*.sh; do
		cmp "$f" "$R/usr/lib/lakepipe/${f##*/}" || return 1
	done &&
	test -f "$R/usr/share/man/man1/lakepipe.1" &&
	test -f "$R/usr/share/man/man5/lakepipe-rule.5" &&
	test -f "$R/usr/share/man/man5/lakepipe-frames.5" &&
	test -f "$R/usr/share/man/man7/lakepipe-metrics.7" &&
	test -f "$R/usr/share/doc/lakepipe/tdmq-backup.rule" &&
	test -f "$R/usr/share/doc/lakepipe/lakepipe-alerts.yml" &&
	test -d "$R/etc/lakepipe" &&
	u="$R/usr/lib/systemd/system/lakepipe@.service" &&
	grep -x "ExecStart=/usr/bin/lakepipe run /etc/lakepipe/%i.conf" "$u" &&
	grep -x "EnvironmentFile=-/etc/lakepipe/%i.env" "$u" &&
	grep -x "KillMode=mixed" "$u" &&
	grep -x "Restart=on-failure" "$u" &&
	! find "$R" -type f -name "consume" -o -type f -name "deliver" | grep .
'

test_expect_success 'the installed lakepipe finds lakepipe-* beside it' '
	cat >r.conf <<-EOF &&
	lines = $SRC/sample/messages.jsonl
	publish-time = 1764201600000
	destination = file://$TRASH/lake/
	state-directory = $TRASH/state
	EOF
	env PATH=/usr/bin:/bin timeout -k 5 60 "$R/usr/bin/lakepipe" run \
	    r.conf 2>err &&
	test "$(find lake -type f -name "*.gz" -exec zcat {} + | wc -l)" -eq 2000 &&
	env PATH=/usr/bin:/bin "$R/usr/bin/lakepipe" check r.conf >out &&
	grep "^ok consume: settings valid" out
'

test_expect_success 'lakepipe without its parts says so, exit 1' '
	mkdir alone && cp "$SRC/pipeline.sh" alone/lakepipe &&
	test_expect_code 1 alone/lakepipe check r.conf 2>err &&
	grep "cannot find its parts (lib/lakepipe/\*.sh beside" err
'

test_expect_success 'every man page formats without a warning' '
	for m in "$R"/usr/share/man/man[157]/*; do
		LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$m" 2>w >/dev/null &&
		! grep . w || { echo "$m"; cat w; return 1; }
	done
'

if command -v systemd-analyze >/dev/null 2>&1; then
	test_expect_success 'systemd-analyze verify lakepipe@.service' '
		inst PREFIX="$TRASH/usr" SYSCONFDIR="$TRASH/etc" &&
		u="$TRASH/usr/lib/systemd/system/lakepipe@.service" &&
		grep -x "ExecStart=$TRASH/usr/bin/lakepipe run $TRASH/etc/lakepipe/%i.conf" "$u" &&
		MANPATH="$TRASH/usr/share/man" systemd-analyze verify "$u" \
		    >out 2>&1 &&
		cat out &&
		! grep . out
	'
else
	test_skip 'systemd-analyze verify lakepipe@.service' \
	    'systemd-analyze is not installed'
fi

test_done
