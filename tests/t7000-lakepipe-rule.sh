#!/bin/sh
# lakepipe rules (lakepipe-rule(5)) without a network: the syntax
# (comments, quoting, '?' and '#' in values, flags, STAGE.key), the
# errors that name the line (unknown key with the closest one, an inline
# secret with what to use instead, a bad flag, a missing destination, a
# setting the program refuses), and lakepipe run, status and logs on a
# replay rule into file://.
. "$(dirname "$0")/test-lib.sh"
. "$TEST_DIRECTORY/lib-lakepipe.sh"

PT=1764201600000
count_lake() {
	find "$1" -type f -name '*.gz' -exec zcat {} + | wc -l
}
printf 'one\ntwo\nthree\n' >"my events #1?.jsonl"
printf 'a\nb\n' >"x#y?z.jsonl"

test_expect_success 'every key is a long option of one of the programs' '
	lakepipe --help >help &&
	grep "^  check RULE" help &&
	for p in consume transform deliver; do
		$p --list-options >opts.$p || return 1
	done &&
	grep -x "topic=" opts.consume &&
	grep -x "max-age=" opts.transform &&
	grep -x "path-style" opts.deliver
'

test_expect_success 'comments, blanks, quotes, "#" and "?" in values' '
	cat >quoted.conf <<-EOF &&
	# a comment, then a blank line

	   # an indented comment
	lines = "$TRASH/my events #1?.jsonl"
	lines = $TRASH/x#y?z.jsonl
	publish-time = $PT	# a comment after a blank
	max-messages=2
	destination = '"'"'file://$TRASH/lake1/'"'"'
	EOF
	lakepipe check quoted.conf >out &&
	cat out &&
	grep "^ok rule: quoted.conf: 5 settings" out &&
	grep "^ok consume: settings valid" out &&
	grep "^ok transform: settings valid" out &&
	grep "^ok deliver: settings valid" out &&
	! grep "^fail" out &&
	test_timeout 60 lakepipe run quoted.conf 2>err &&
	test "$(count_lake lake1)" -eq 5 &&
	test "$(find lake1 -type f | wc -l)" -eq 3
'

test_expect_success 'unquoted, " #" starts a comment: the path is cut there' '
	cat >cut.conf <<-EOF &&
	lines = $TRASH/my events #1?.jsonl
	destination = file://$TRASH/lake2/
	EOF
	test_must_fail test_timeout 30 lakepipe run cut.conf 2>err &&
	cat err &&
	grep "my events.*No such file" err &&
	! grep "my events #1" err &&
	test -z "$(find lake2 -type f 2>/dev/null)"
'

test_expect_success 'an unknown key names its line and the closest key' '
	cat >typo.conf <<-EOF &&
	lines = $TRASH/x#y?z.jsonl

	topik = t/ns/orders
	max-mesages = 10
	destination = file://$TRASH/lake3/
	EOF
	test_expect_code 1 lakepipe check typo.conf >out &&
	cat out &&
	grep "^fail topik: typo.conf:3: unknown key .topik.; did you mean .topic.?" out &&
	grep "^fail max-mesages: typo.conf:4: unknown key .max-mesages.; did you mean .max-messages.?" out &&
	test "$(grep -c "^fail" out)" -eq 2 &&
	test_expect_code 2 test_timeout 30 lakepipe run typo.conf 2>err &&
	grep "typo.conf:3: unknown key" err &&
	! test -e lake3
'

test_expect_success 'nothing close: the message says where the keys are' '
	printf "zzzzzzzzzzzz = 1\ndestination = file://$TRASH/l/\n" >far.conf &&
	test_expect_code 1 lakepipe check far.conf >out &&
	grep "^fail zzzzzzzzzzzz: far.conf:1: unknown key .zzzzzzzzzzzz.; the keys are the long options" out
'

test_expect_success 'an inline secret is refused, with what to use instead' '
	cat >secret.conf <<-EOF &&
	url = pulsar://127.0.0.1:6650
	topic = t/ns/orders
	subscription = lake
	token = eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJsYWtlIn0.c2lnbmF0dXJl
	secret-key = LakepipeTestSecretKey000000000001
	consume.listener = eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJsYWtlIn0.c2lnbmF0dXJl
	endpoint = http://AKIDLAKEPIPETEST:LakepipeSecret@127.0.0.1:9/
	destination = s3://bucket/prefix/
	EOF
	test_expect_code 1 lakepipe check secret.conf >out &&
	cat out &&
	grep "^fail token: secret.conf:4: token: a secret does not go in a rule; .*token-file = FILE.*PULSAR_TOKEN.*EnvironmentFile=" out &&
	grep "^fail secret-key: secret.conf:5: .*credentials = FILE.*TENCENTCLOUD_SECRET_ID" out &&
	grep "^fail listener: secret.conf:6: listener: a secret does not go in a rule" out &&
	grep "^fail endpoint: secret.conf:7: endpoint: a secret does not go in a rule" out &&
	! grep -e eyJ -e LakepipeTestSecret -e LakepipeSecret out &&
	test_expect_code 2 test_timeout 30 lakepipe run secret.conf 2>err &&
	! grep -e eyJ -e LakepipeTestSecret -e LakepipeSecret err state/secret/log
'

test_expect_success 'flags take yes, no, true or false (any case); STAGE.key is one program' '
	cat >flags.conf <<-EOF &&
	lines = $TRASH/x#y?z.jsonl
	publish-time = $PT
	verbose = no
	progress = false
	transform.verbose = YES
	destination = file://$TRASH/lake4/
	EOF
	lakepipe check flags.conf >out &&
	test_timeout 60 lakepipe run flags.conf 2>err &&
	grep "level=debug prog=transform" err &&
	! grep "level=debug prog=consume" err &&
	test "$(count_lake lake4)" -eq 2 &&
	sed "s/^progress = false/progress = maybe/" flags.conf >flags2.conf &&
	test_expect_code 1 lakepipe check flags2.conf >out &&
	grep "^fail progress: flags2.conf:4: progress is a flag: .maybe. is not yes, no, true or false" out &&
	printf "lines = x\nparse.verbose = yes\ndestination = file:///x/\n" >stage.conf &&
	test_expect_code 1 lakepipe check stage.conf >out &&
	grep "^fail verbose: stage.conf:2: .parse.verbose.: .parse. is not consume, transform or deliver" out
'

test_expect_success 'syntax errors, a missing destination, options lakepipe sets' '
	cat >bad.conf <<-EOF &&
	lines = "$TRASH/x#y?z.jsonl
	this line has no equals sign
	publish-time = "1" 2
	acks = /tmp/fifo
	metrics-file = /tmp/m.prom
	max-age =
	EOF
	test_expect_code 1 lakepipe check bad.conf >out &&
	cat out &&
	grep "^fail lines: bad.conf:1: lines: no closing \"" out &&
	grep "^fail rule: bad.conf:2: not a .key = value. line" out &&
	grep "^fail publish-time: bad.conf:3: publish-time: text after the closing quote" out &&
	grep "^fail acks: bad.conf:4: acks: lakepipe run makes the ack FIFO itself" out &&
	grep "^fail metrics-file: bad.conf:5: metrics-file: lakepipe run writes" out &&
	grep "^fail max-age: bad.conf:6: max-age has no value" out &&
	grep "^fail destination: bad.conf: no destination; add .destination = cos://" out &&
	test "$(grep -c "^fail" out)" -eq 7
'

test_expect_success 'a value a program refuses: that program, the line, exit 2' '
	cat >value.conf <<-EOF &&
	lines = $TRASH/x#y?z.jsonl

	max-messages = lots
	destination = file://$TRASH/lake5/
	EOF
	test_expect_code 1 lakepipe check value.conf >out &&
	cat out &&
	grep "^fail max-messages: value.conf:3: --max-messages: .lots. is not" out &&
	grep "^ok consume: settings valid" out &&
	test_expect_code 2 test_timeout 30 lakepipe run value.conf 2>err &&
	cat err &&
	grep "level=error .*value.conf:3: --max-messages" err &&
	grep "value not started: fix the settings above" err &&
	! test -e lake5 &&
	lakepipe logs value.conf >log &&
	grep "value.conf:3: --max-messages" log &&
	every_line_logfmt log
'

test_expect_success 'lakepipe own keys: environment-file, state-directory, log size' '
	printf "EXTRA_THING=\"quoted value\"\n" >x.env &&
	cat >own.conf <<-EOF &&
	lines = $TRASH/x#y?z.jsonl
	publish-time = $PT
	destination = file://$TRASH/lake6/
	environment-file = $TRASH/x.env
	state-directory = $TRASH/own-state
	log-size = 64k
	log-keep = 2
	EOF
	test_timeout 60 lakepipe run own.conf 2>err &&
	test -s own-state/own/log &&
	test -s own-state/own/state &&
	sed "s/^log-size = 64k/log-size = big/" own.conf >own2.conf &&
	test_expect_code 1 lakepipe check own2.conf >out &&
	grep "^fail log-size: own2.conf:6: log-size: .big. is not a size" out
'

test_expect_success 'run, status, logs: totals, state file, every log line logfmt' '
	cat >replay.conf <<-EOF &&
	# the bundled sample, 500 messages an object
	lines = $SRC/sample/messages.jsonl
	publish-time = $PT
	max-messages = 500
	destination = "file://$TRASH/lake7/"
	EOF
	test_timeout 60 lakepipe run replay.conf 2>err &&
	test "$(count_lake lake7)" -eq 2000 &&
	every_line_logfmt err &&
	grep "level=info prog=lakepipe msg=\"running\"" err &&
	grep "level=info prog=lakepipe msg=\"stopped\"" err &&
	test_expect_code 3 lakepipe status replay.conf >st &&
	cat st &&
	grep "^rule: replay (replay.conf)" st &&
	grep "^running: no, stopped at .* (exit status 0;" st &&
	grep "^messages: 2000 read, 2000 stored and acknowledged" st &&
	grep "^objects: 4 stored, [1-9][0-9]* bytes" st &&
	grep "^last object: public/default/replay/2025/11/27/.*\.jsonl\.gz at 20" st &&
	grep "^last error: none" st &&
	grep "^pid=[0-9]*$" state/replay/state &&
	grep "^started=20" state/replay/state &&
	grep "^objects=4$" state/replay/state &&
	lakepipe logs replay.conf >log &&
	test_cmp state/replay/log log &&
	every_line_logfmt log &&
	grep "prog=deliver" log &&
	lakepipe logs replay.conf -n 1 >last &&
	test_one_line last &&
	grep "msg=\"stopped\"" last &&
	{ lakepipe logs replay.conf -f >follow & } &&
	pid=$! &&
	wait_until 10 grep -q "msg=\"stopped\"" follow &&
	kill $pid &&
	tail -n 10 log >last10 &&
	test_cmp last10 follow
'

test_expect_success 'the log is rotated by size, log-keep files kept' '
	cat >rot.conf <<-EOF &&
	lines = $SRC/sample/messages.jsonl
	publish-time = $PT
	max-messages = 20
	destination = file://$TRASH/lake8/
	log-size = 4k
	log-keep = 2
	EOF
	test_timeout 60 lakepipe run rot.conf 2>err &&
	test -s state/rot/log.1 &&
	test -s state/rot/log.2 &&
	! test -e state/rot/log.3 &&
	for f in state/rot/log state/rot/log.1 state/rot/log.2; do
		every_line_logfmt $f &&
		test "$(wc -c <$f)" -lt 6000 || return 1
	done &&
	lakepipe logs rot.conf >all &&
	cat state/rot/log.2 state/rot/log.1 state/rot/log >want &&
	test_cmp want all &&
	test "$(grep -c "msg=\"stored\"" err)" -eq 100
'

# busy_start: lakepipe run busy.conf in the background (for two minutes
# at most: a broken run must not hang the test), its pid in BUSY;
# probers_start: three scripts polling its status as fast as they can
busy_start() {
	test_timeout 120 lakepipe run busy.conf 2>busy.err &
	BUSY=$!
}
probers_start() {
	for i in 1 2 3; do
		while :; do lakepipe status busy.conf; done >/dev/null 2>&1 &
		test_at_end "kill $!"
	done
}

test_expect_success 'status while a run starts never stops it; a second run is refused' '
	mkfifo in.fifo &&
	printf "lines = %s\npublish-time = %s\ndestination = file://%s/lake9/\n" \
	    "$TRASH/in.fifo" $PT "$TRASH" >busy.conf &&
	# a first run, so that status has a state to probe the lock of
	busy_start &&
	test_timeout 60 sh -c "echo one >in.fifo" &&
	wait $BUSY &&
	probers_start &&
	busy_start &&
	until lakepipe status busy.conf 2>/dev/null | grep -q "^running: yes"
	do
		kill -0 $BUSY || { cat busy.err; return 1; }
	done &&
	test_expect_code 1 lakepipe run busy.conf 2>second.err &&
	grep "busy is already running (pid [0-9]*); stop it first" second.err &&
	test_timeout 60 sh -c "cat \"$SRC/sample/messages.jsonl\" >in.fifo" &&
	wait $BUSY &&
	# the same first message, the same key: the object of the first run
	# is replaced
	test "$(count_lake lake9)" -eq 2000
'

test_expect_success 'a failed run: status says so, with the last error' '
	dest=$(test_unwritable_url) &&
	printf "lines = %s\ndestination = %s\n" "$SRC/sample/messages.jsonl" \
	    "$dest" >fails.conf &&
	test_expect_code 1 test_timeout 60 lakepipe run fails.conf 2>err &&
	test_expect_code 3 lakepipe status fails.conf >st &&
	cat st &&
	grep "^running: no, failed at 20.* (exit status 1;" st &&
	grep "^last error: 20[0-9T:.-]*Z deliver: cannot open the destination" st
'

test_expect_success 'delete: the state goes, the rule file stays' '
	lakepipe delete replay.conf >out &&
	grep "^ok stopped: replay is not running" out &&
	grep "^ok deleted: the state and log of replay" out &&
	! test -e state/replay &&
	test -f replay.conf &&
	test_expect_code 3 lakepipe status replay.conf >st &&
	grep "^running: no (never run;" st
'

test_expect_success 'usage errors of the subcommands exit 2' '
	test_expect_code 2 lakepipe check 2>err &&
	grep -i usage err &&
	test_expect_code 2 lakepipe status a b 2>err &&
	test_expect_code 2 lakepipe logs replay.conf -x 2>err &&
	test_expect_code 2 lakepipe delete replay.conf --now 2>err &&
	test_expect_code 1 lakepipe check no-such.conf 2>err &&
	grep "no-such.conf: no such rule file" err
'

test_done
