# lib/lakepipe/check.sh: lakepipe check: a rule checked without running it.
# Sourced by pipeline.sh (lakepipe), whose main calls these; not run alone.

# REPLY: "SETTING: RULE:LINE: " for a stage's error message, the setting
# being the option it names (--NAME:) or the destination.
setting_of() {
	local msg=$1 p=$2 key=
	if [[ $msg =~ ^--([a-z0-9-]+) ]]; then
		key=${BASH_REMATCH[1]}
	elif [ "$p" = deliver ]; then
		key=destination
	fi
	if [ -n "$key" ] && [ -n "${KEYLINE[$key]:-}" ]; then
		REPLY="$key: $rule_file:${KEYLINE[$key]}: "
	else
		REPLY="${key:-$p}: "
	fi
}

# offline_check: every rule error and every program's --check, one "ok"
# or "fail" line each on stdout.  Fails when any failed.
offline_check() {
	local e rc=0 p out args
	for e in ${rule_errors[@]+"${rule_errors[@]}"}; do
		echo "fail ${e%%$'\t'*}: ${e#*$'\t'}"
		rc=1
	done
	[ $rc -eq 0 ] || return 1
	echo "ok rule: $rule_file: $nsettings settings"
	for p in consume transform deliver; do
		stage_args $p
		operands $p
		if out=$("$bin" --check ${args[@]+"${args[@]}"} \
		    ${dest[@]+"${dest[@]}"} 2>&1 >/dev/null); then
			echo "ok $p: settings valid"
			continue
		fi
		rc=1
		# the error lines, not the synopsis that follows them
		grep -q ' level=error ' <<<"$out" &&
		    out=$(grep ' level=error ' <<<"$out")
		while IFS= read -r e; do
			[ -n "$e" ] || continue
			[[ $e != usage:* && $e != ' '* ]] || continue
			line_msg "$e"
			local msg=$REPLY
			setting_of "$msg" $p
			echo "fail $REPLY$msg"
		done <<<"$out"
	done
	return $rc
}

# bin, args: a program and the rule's options for it (deliver's without
# the destination), for "$bin" MODE "${args[@]}".
stage_args() {
	case $1 in
	consume) bin=$CONSUME args=(${c_args[@]+"${c_args[@]}"}) ;;
	transform) bin=$TRANSFORM args=(${t_args[@]+"${t_args[@]}"}) ;;
	deliver) bin=$DELIVER args=(${d_args[@]+"${d_args[@]}"}) ;;
	esac
}

# The operands of PROGRAM: the destination for deliver.
operands() {
	dest=()
	[ "$1" != deliver ] || dest=("${OWN[destination]}")
}

# checks PROGRAM MODE: its "ok/fail SETTING: ..." lines (--probe,
# --unsubscribe), each with the rule line of its setting; a failure that
# it did not report itself is reported here, as SETTING (default: the
# program).  Fails when the program failed.
checks() {
	local out rc line key
	stage_args $1
	operands $1
	out=$(timeout -k 5 $PROBE_LIMIT "$bin" "$2" ${args[@]+"${args[@]}"} \
	    ${dest[@]+"${dest[@]}"} 2>"$tmp/checks.err")
	rc=$?
	while IFS= read -r line; do
		[ -n "$line" ] || continue
		key=${line#* }
		key=${key%%:*}
		# what the destination URL holds
		case $key in region|bucket|prefix) key=destination ;; esac
		if [ -n "${KEYLINE[$key]:-}" ]; then
			echo "$line ($rule_file:${KEYLINE[$key]})"
		else
			echo "$line"
		fi
	done <<<"$out"
	[ $rc -ne 0 ] || return 0
	if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
		echo "fail ${3:-$1}: $1 $2 did not finish in $PROBE_LIMIT s"
	elif ! grep -q '^fail ' <<<"$out"; then
		err_msg "$tmp/checks.err"
		echo "fail ${3:-$1}: $1 $2: exit status $rc: $REPLY"
	fi
	return 1
}

check_main() {
	local rc=0
	load_rule "$1"
	make_tmp
	offline_check || exit 1
	if [ -n "${KEYLINE[url]:-}" ]; then
		checks consume --probe || rc=1
	else
		echo "ok url: none: the rule replays files"
	fi
	checks deliver --probe || rc=1
	exit $rc
}
