#!/usr/bin/env bash
# pipeline.sh, installed as lakepipe: run consume | transform | deliver
# with an ack FIFO, so that consume acknowledges a message only after
# deliver stored its object; and run backup rules (lakepipe-rule(5)).
#
#   pipeline.sh CONSUME-ARGS... -- [TRANSFORM-ARGS... --] DELIVER-ARGS...
#   lakepipe check|run|test|status|logs|stop|delete RULE
#
# See lakepipe(1) (doc/lakepipe.1) for the whole story.  Exit status: 0
# success, 1 failure (named on stderr), 2 usage error or malformed setting
# (status: 3 when the rule is not running).  SIGINT or SIGTERM stops
# cleanly: consume stops reading, what is in flight is transformed,
# delivered and acked, then everything exits 0; a second signal stops at
# once.
set -u
prog=${0##*/}
here=$(cd "$(dirname "$0")" && pwd)

# Bounds, in seconds, of what the subcommands wait for (lakepipe(1)).
PROBE_LIMIT=60		# one program's --probe (it bounds each check itself)
LIST_EVERY=1		# lakepipe test: the store is listed this often
DEFAULT_MAX_AGE=60	# transform's default --max-age, see transform(1)

usage() {
	[ "${1:-2}" -eq 0 ] || exec >&2
	cat <<EOT
usage: $prog CONSUME-ARGS... -- [TRANSFORM-ARGS... --] DELIVER-ARGS...
       $prog check|run|test|status|stop RULE
       $prog logs RULE [-f] [-n LINES]
       $prog delete RULE [--unsubscribe]
       $prog audit [DELIVER-OPTIONS] DESTINATION | RULE

The first form runs consume | transform | deliver with an ack FIFO from
deliver back to consume.  Arguments are split into groups by '--': the
first group goes to consume, the last to deliver, and a middle one (if
any) to transform.

The others work on a rule, a file of "key = value" lines whose keys are
the programs' long options plus "destination" (lakepipe-rule(5)):
  check RULE     validate every setting, then reach the broker and the store
  run RULE       run it in the foreground (log and state in the state directory)
  test RULE      publish a probe message, wait until an object holding it is stored
  status RULE    running or not, totals, last object, lag, backlog, last error
  logs RULE      the rule's log; -f follows it
  stop RULE      orderly stop of the running rule, waiting for the flush
  delete RULE    stop, remove its state; --unsubscribe also removes the subscription
  audit DEST     check the lake against its index: gaps, overlaps, missing and
                 damaged objects (exit 1 on any); a RULE's destination

examples:
  $prog --lines sample/messages.jsonl -- file://\$PWD/lake/
  $prog --url pulsar://10.0.0.8:6650 --topic pulsar-xxx/ns/orders \\
      --subscription lake --token-file ~/.pulsar-token -- \\
      --format jsonl --max-age 60 -- 'cos://lake-1250000000/orders/?region=ap-guangzhou'
  $prog check /etc/lakepipe/orders.conf
EOT
	exit "${1:-2}"
}

# ---- logfmt lines on stderr ------------------------------------------

# ts: now, in UTC with milliseconds, as every program's log lines have it.
now_ts() {
	local TZ=UTC0 t=${EPOCHREALTIME/,/.}
	printf -v ts '%(%Y-%m-%dT%H:%M:%S)T.%sZ' "${t%.*}" "${t#*.}"
	ts=${ts:0:23}Z
}

# REPLY: VALUE as a logfmt value, quoted and escaped when it has to be.
lf_value() {
	local v=$1
	if [[ -z $v || $v == *[[:space:]=\"\\]* ]]; then
		v=${v//\\/\\\\}
		v=${v//\"/\\\"}
		v=${v//$'\n'/\\n}
		REPLY=\"$v\"
	else
		REPLY=$v
	fi
}

# log LEVEL MSG [KEY=VALUE...]: one logfmt line on stderr, unless the
# level is below the one asked for (the rule's quiet or verbose).
log_level=2	# 0 error, 1 warn, 2 info, 3 debug
log() {
	local level=$1 msg=$2 n line a
	shift 2
	case $level in error) n=0 ;; warn) n=1 ;; info) n=2 ;; *) n=3 ;; esac
	[ $n -le $log_level ] || return 0
	now_ts
	lf_value "$msg"
	[ "${REPLY:0:1}" = \" ] || REPLY=\"$REPLY\"
	line="ts=$ts level=$level prog=lakepipe msg=$REPLY"
	for a; do
		lf_value "${a#*=}"
		line+=" ${a%%=*}=$REPLY"
	done
	printf '%s\n' "$line" >&2
}

die() { log error "$*"; exit 1; }

# A usage error: one line saying what is wrong, the short synopsis, exit 2.
usage_error() {
	log error "$*"
	echo "usage: $prog CONSUME-ARGS... -- [TRANSFORM-ARGS... --]" \
	    "DELIVER-ARGS..." >&2
	echo "       $prog check|run|test|status|logs|stop|delete RULE" \
	    "($prog --help for more)" >&2
	exit 2
}

# REPLY: the msg of a stage's error line, logfmt or plain "prog: text".
line_msg() {
	local l=$1
	if [[ $l =~ (^|[[:space:]])msg=\"(([^\"\\]|\\.)*)\" ]]; then
		l=${BASH_REMATCH[2]}
		l=${l//\\\"/\"}
		l=${l//\\\\/\\}
	elif [[ $l =~ (^|[[:space:]])msg=([^[:space:]]*) ]]; then
		l=${BASH_REMATCH[2]}
	else
		l=${l#*: }
	fi
	REPLY=$l
}

# err_msg FILE: REPLY what a program said went wrong, from its stderr in
# FILE: its last error line, else the first line it printed.
err_msg() {
	local l
	l=$(grep ' level=error ' "$1" 2>/dev/null | tail -1)
	[ -n "$l" ] || l=$(grep -m 1 . "$1" 2>/dev/null)
	line_msg "${l:-(nothing on stderr)}"
}

# ---- the three programs -----------------------------------------------

# Find a program: beside this script (a build tree, or installed in the
# same bin directory as lakepipe-NAME), else on PATH.
find_prog() {
	local p
	for p in "$here/$1/$1" "$here/lakepipe-$1" "$here/$1"; do
		[ -x "$p" ] && { echo "$p"; return; }
	done
	for p in "lakepipe-$1" "$1"; do
		command -v "$p" 2>/dev/null && return
	done
	die "cannot find the $1 program (lakepipe-$1 beside $0, or run make)"
}

find_progs() {
	CONSUME=$(find_prog consume) || exit 1
	TRANSFORM=$(find_prog transform) || exit 1
	DELIVER=$(find_prog deliver) || exit 1
}

# ---- the pipeline -------------------------------------------------------

# run_pipeline: consume | transform | deliver from the arrays c_args,
# t_args and d_args, in the temporary directory $tmp.  Returns 0 when
# every stage succeeded, 1 when one failed (named on stderr).  $tick, when
# set, is a command run about once a second while the stages run.
run_pipeline() {
	mkfifo "$tmp/frames" "$tmp/objects" "$tmp/acks" || return 1

	# Background jobs of a non-interactive shell ignore SIGINT, and the
	# programs keep it ignored: a Ctrl-C reaches only this script,
	# which turns it into an orderly stop (on_signal).  A background
	# job's stdin would be /dev/null: hand consume ours, for --lines -.
	# (9, the rule's lock, stays with this script alone: a stage or a
	# child of one that outlives it must not keep the next run out)
	"$CONSUME" --acks "$tmp/acks" ${c_args[@]+"${c_args[@]}"} <&0 \
	    >"$tmp/frames" 9>&- &
	c_pid=$!
	stopping=0
	trap on_signal INT TERM
	"$TRANSFORM" ${t_args[@]+"${t_args[@]}"} <"$tmp/frames" \
	    >"$tmp/objects" 9>&- &
	t_pid=$!
	"$DELIVER" ${d_args[@]+"${d_args[@]}"} <"$tmp/objects" \
	    >"$tmp/acks" 9>&- &
	d_pid=$!
	# The ack FIFO held open by us too, read-write so that the open
	# never blocks: deliver never gets EPIPE while it stores what it
	# holds after consume has gone (our copy is drained then), and
	# consume never blocks opening it after deliver has gone.  Closed
	# once deliver has ended, so that consume sees the end of the acks.
	exec 3<>"$tmp/acks"
	declare -gA stage=([$c_pid]=consume [$t_pid]=transform \
	    [$d_pid]=deliver)
	declare -gA status=()
	watch_stages
	local rc=$?
	trap - INT TERM
	return $rc
}

on_signal() {
	if [ $stopping -eq 0 ]; then
		stopping=1
		log info "stopping: flushing what is in flight"
		kill -TERM "$c_pid" 2>/dev/null
	else
		log warn "stopping now: what is not stored is redelivered later"
		kill -TERM "$c_pid" "$t_pid" "$d_pid" 2>/dev/null
	fi
}

# Collect the exit status of every stage that has ended.  Polling with
# kill -0 rather than wait -n: a trapped signal or the ack drainer below
# cannot confuse it.
reap() {
	local p
	for p in "${!stage[@]}"; do
		kill -0 "$p" 2>/dev/null && continue
		wait "$p"
		status[${stage[$p]}]=$?
		unset "stage[$p]"
	done
}

# The stage to blame: the one furthest down the pipe that failed, since a
# failing deliver makes consume fail too (unacked messages), and a failing
# transform makes consume die of SIGPIPE.
culprit() {
	local s
	for s in deliver transform consume; do
		if [ -n "${status[$s]:-}" ] && [ "${status[$s]}" -ne 0 ]; then
			echo "$s"
			return
		fi
	done
}

# Wait for the three stages; stop the others when transform or deliver
# failed.  When consume ends, first or alone, transform and deliver see
# the end of their input and finish what they hold by themselves.
watch_stages() {
	local failed= drainer= grace=0 n=0 acks=open
	while [ ${#stage[@]} -gt 0 ]; do
		reap
		if [ -n "${status[deliver]:-}" ] && [ $acks = open ]; then
			exec 3<&-
			acks=closed
		fi
		if [ -n "${status[consume]:-}" ] && [ $acks = open ] &&
		    [ -z "$drainer" ]; then
			# Nobody reads acks any more: keep deliver from
			# blocking on a full FIFO while it stores the rest.
			cat <&3 >/dev/null 9>&- &
			drainer=$!
		fi
		if [ -z "$failed" ] && [ -n "$(culprit)" ] &&
		    [ "$(culprit)" != consume ]; then
			# let the others end by themselves for a moment, so
			# that the stage named is the cause, not a victim
			if [ $grace -lt 10 ] && [ ${#stage[@]} -gt 0 ]; then
				grace=$((grace + 1))
				sleep 0.1
				continue
			fi
			failed=$(culprit)
			log error "$failed failed (exit status ${status[$failed]}); stopping the others"
			[ ${#stage[@]} -eq 0 ] ||
			    kill -TERM "${!stage[@]}" 2>/dev/null
		fi
		n=$((n + 1))
		[ -z "${tick:-}" ] || [ $((n % 10)) -ne 0 ] || $tick
		[ ${#stage[@]} -eq 0 ] || sleep 0.1
	done
	[ -z "$drainer" ] || { kill "$drainer"; wait "$drainer"; } 2>/dev/null
	[ $acks = closed ] || exec 3<&-
	if [ -z "$failed" ] && [ -n "$(culprit)" ]; then
		failed=$(culprit)
		log error "$failed failed (exit status ${status[$failed]})"
	fi
	failed_stage=$failed
	[ -z "$failed" ]
}

make_tmp() {
	tmp=$(mktemp -d "${TMPDIR:-/tmp}/lakepipe.XXXXXX") || exit 1
	trap 'rm -rf "$tmp"' EXIT
}

# The first form: CONSUME-ARGS -- [TRANSFORM-ARGS --] DELIVER-ARGS.
pipeline_main() {
	local a group=0
	c_args=() t_args=() d_args=()
	for a in "$@"; do
		if [ "$a" = "--" ]; then
			group=$((group + 1))
			continue
		fi
		case $group in
		0) c_args+=("$a") ;;
		1) t_args+=("$a") ;;
		2) d_args+=("$a") ;;
		*) usage_error "more than three argument groups" ;;
		esac
	done
	case $group in
	0) usage_error "no '--' before deliver's destination" ;;
	1) d_args=(${t_args[@]+"${t_args[@]}"}); t_args=() ;;
	esac
	[ ${#d_args[@]} -gt 0 ] || usage_error "no destination for deliver"
	find_progs
	make_tmp
	run_pipeline || exit 1
	exit 0
}

# ---- rules ---------------------------------------------------------------

# Keys that are lakepipe's own (lakepipe-rule(5)), with their defaults.
declare -A OWN_KEYS=([destination]= [state-directory]= [log-size]=10M
    [log-keep]=3 [test-timeout]= [stop-timeout]=300 [environment-file]=
    [exactly-once]=yes)
# Options that lakepipe sets itself, or modes rather than settings.
declare -A SET_BY_LAKEPIPE=(
	[acks]="lakepipe run makes the ack FIFO itself"
	[metrics-file]="lakepipe run writes STATE-DIRECTORY/NAME/PROGRAM.prom itself"
	[check]="it is a mode: use lakepipe check RULE"
	[probe]="it is a mode: use lakepipe check RULE"
	[list-options]="it is a mode, not a setting"
	[help]="it is a mode, not a setting"
	[produce]="it is a mode: lakepipe test RULE publishes a probe"
	[unsubscribe]="it is a mode: use lakepipe delete RULE --unsubscribe"
	[list]="it is a mode: lakepipe test RULE reads the store"
	[cat]="it is a mode: lakepipe test RULE reads the store"
	[deliver]="lakepipe run passes the deliver program it runs itself"
	[deliver-option]="lakepipe run passes the store's settings itself"
	[lake]="it is a mode: consume --lake DESTINATION restores a lake"
	[index]="it is a mode: lakepipe audit DESTINATION reads the index"
	[audit]="it is a mode: use lakepipe audit DESTINATION")
# Options of one program that are not rule keys, though another program
# has a key of that name: deliver --topic (of --index and --audit).
declare -A NOT_A_KEY=([deliver.topic]=1)

# OPTS[PROGRAM.NAME]=flag|value for every long option of the programs,
# from their --list-options.
load_options() {
	local p name
	declare -gA OPTS=()
	for p in consume transform deliver; do
		local bin=${p^^}
		bin=${!bin}
		local out
		out=$("$bin" --list-options) ||
		    die "$bin --list-options failed: is it lakepipe's $p?"
		while IFS= read -r name; do
			[ -n "$name" ] || continue
			[ -z "${NOT_A_KEY[$p.${name%=}]:-}" ] || continue
			if [ "${name%=}" != "$name" ]; then
				OPTS[$p.${name%=}]=value
			else
				OPTS[$p.$name]=flag
			fi
		done <<<"$out"
	done
}

# REPLY: the valid key closest to KEY, if one is close enough to be what
# was meant.
closest_key() {
	local k
	REPLY=$(for k in "${!OPTS[@]}" "${!OWN_KEYS[@]}"; do
		echo "${k#*.}"
	done | sort -u | awk -v want="$1" '
	function lev(a, b,	i, j, la, lb, d, c) {
		la = length(a); lb = length(b)
		for (i = 0; i <= la; i++) d[i, 0] = i
		for (j = 0; j <= lb; j++) d[0, j] = j
		for (i = 1; i <= la; i++)
			for (j = 1; j <= lb; j++) {
				c = d[i-1, j-1] + (substr(a, i, 1) != substr(b, j, 1))
				if (d[i-1, j] + 1 < c) c = d[i-1, j] + 1
				if (d[i, j-1] + 1 < c) c = d[i, j-1] + 1
				d[i, j] = c
			}
		return d[la, lb]
	}
	{ n = lev(want, $0); if (best == "" || n < best) { best = n; w = $0 } }
	END { if (best != "" && best <= 2 + length(want) / 4) print w }')
}

# Is this key or value a secret held inline?  REPLY: what to use instead.
ENV_HOW="(environment-file = FILE, or EnvironmentFile= in the unit)"
inline_secret() {
	local key=$1 value=$2
	case $key in
	*-file|*-files) ;;
	token|*-token|auth-*|role-key)
		REPLY="put the token in a file only lakepipe can read and"
		REPLY+=" set 'token-file = FILE', or set PULSAR_TOKEN in the"
		REPLY+=" environment $ENV_HOW"
		return 0 ;;
	secret*|*-secret*|password|passwd|*-password|access-key*|*-key-id)
		REPLY="put the keys in a file ('credentials = FILE', KEY=VALUE"
		REPLY+=" lines) or in the environment: TENCENTCLOUD_SECRET_ID and"
		REPLY+=" TENCENTCLOUD_SECRET_KEY, or AWS_ACCESS_KEY_ID and"
		REPLY+=" AWS_SECRET_ACCESS_KEY $ENV_HOW"
		return 0 ;;
	esac
	REPLY="keep secrets out of the rule: use token-file, credentials,"
	REPLY+=" or the environment $ENV_HOW"
	# JSON web tokens, cloud key ids, user:password@ in a URL, a
	# secret in a query string, and long random-looking strings
	[[ $value =~ ^eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$ ]] &&
	    return 0
	[[ $value =~ ^(AKID|AKIA|ASIA)[A-Za-z0-9]{12,}$ ]] && return 0
	[[ $value =~ ://[^/@]*:[^/@]*@ ]] && return 0
	[[ $value =~ [?\&](token|secret|signature|password|key)[a-z_-]*= ]] &&
	    return 0
	[[ $value =~ ^[A-Za-z0-9]{32,}$ && $value =~ [0-9] &&
	    $value =~ [a-z] && $value =~ [A-Z] ]] && return 0
	return 1
}

# parse_value TEXT: REPLY the value of a "key = TEXT" line; fails with
# REPLY the problem.  "..." takes \" and \\; '...' is taken as it is;
# unquoted, a '#' after a blank starts a comment and blanks around the
# value go.
parse_value() {
	local s=$1 v= c i
	case $s in
	\"*)
		for ((i = 1; i < ${#s}; i++)); do
			c=${s:i:1}
			if [ "$c" = '\' ] && [[ ${s:i+1:1} == [\"\\] ]]; then
				v+=${s:i+1:1}
				i=$((i + 1))
			elif [ "$c" = '"' ]; then
				break
			else
				v+=$c
			fi
		done
		[ $i -lt ${#s} ] || { REPLY="no closing \""; return 1; }
		s=${s:i+1} ;;
	\'*)
		s=${s:1}
		[[ $s == *\'* ]] || { REPLY="no closing '"; return 1; }
		v=${s%%\'*}
		s=${s#*\'} ;;
	\#*)	# "key = # a comment": no value
		v= s= ;;
	*)
		v=${s%%[[:space:]]#*}
		v=${v%"${v##*[![:space:]]}"}
		s= ;;
	esac
	if [[ -n $s && ! $s =~ ^[[:space:]]*(#.*)?$ ]]; then
		REPLY="text after the closing quote"
		return 1
	fi
	REPLY=$v
}

# rule_error LINE KEY MESSAGE: note a problem of the rule (all of them are
# reported, not only the first).
rule_error() {
	rule_errors+=("$2"$'\t'"$rule_file:$1: ${*:3}")
}

# add_setting LINE KEY VALUE: route one setting to the programs that have
# the option (STAGE.KEY: that program only), or to lakepipe itself.
add_setting() {
	local n=$1 key=$2 value=$3 only= p kind found=0
	if [[ $key == *.* ]]; then
		only=${key%%.*}
		key=${key#*.}
		case $only in consume|transform|deliver) ;; *)
			rule_error "$n" "$key" "'$only.$key': '$only' is not" \
			    "consume, transform or deliver"
			return ;;
		esac
	fi
	[ -n "${KEYLINE[$key]:-}" ] || KEYLINE[$key]=$n
	if inline_secret "$key" "$value"; then
		rule_error "$n" "$key" "$key: a secret does not go in a rule; $REPLY"
		return
	fi
	if [ -z "$only" ] && [ -n "${OWN_KEYS[$key]+set}" ]; then
		OWN[$key]=$value
		return
	fi
	if [ -n "${SET_BY_LAKEPIPE[$key]:-}" ]; then
		rule_error "$n" "$key" "$key: ${SET_BY_LAKEPIPE[$key]}; remove the line"
		return
	fi
	for p in consume transform deliver; do
		[ -z "$only" ] || [ "$only" = "$p" ] || continue
		kind=${OPTS[$p.$key]:-}
		[ -n "$kind" ] || continue
		found=1
		if [ "$kind" = value ]; then
			add_arg "$p" "--$key=$value"
			continue
		fi
		case ${value,,} in
		yes|true) add_arg "$p" "--$key" ;;
		no|false) ;;
		*) rule_error "$n" "$key" "$key is a flag: '$value' is not" \
		    "yes, no, true or false"
		   return ;;
		esac
	done
	[ $found -eq 1 ] && return
	closest_key "$key"
	if [ -n "$REPLY" ]; then
		rule_error "$n" "$key" "unknown key '$key'; did you mean '$REPLY'?"
	else
		rule_error "$n" "$key" "unknown key '$key'; the keys are the" \
		    "long options of consume, transform and deliver" \
		    "(lakepipe-rule(5))"
	fi
}

add_arg() {
	case $1 in
	consume) c_args+=("$2") ;;
	transform) t_args+=("$2") ;;
	deliver) d_args+=("$2") ;;
	esac
}

# load_rule FILE: parse a rule into c_args, t_args, d_args, OWN, KEYLINE
# and rule_errors; sets rule_name, state_dir and the other own settings.
load_rule() {
	rule_file=$1
	[ -f "$rule_file" ] && [ -r "$rule_file" ] ||
	    { log error "$rule_file: no such rule file (or not readable)"; exit 1; }
	rule_name=${rule_file##*/}
	rule_name=${rule_name%.conf}
	rule_name=${rule_name%.rule}
	[[ $rule_name =~ ^[A-Za-z0-9][A-Za-z0-9_.@-]*$ ]] ||
	    usage_error "$rule_file: a rule's file name is its name: letters," \
	        "digits, '_', '.', '@' and '-' only"
	find_progs
	load_options
	c_args=() t_args=() d_args=() rule_errors=() nsettings=0
	declare -gA OWN=() KEYLINE=()
	local line n=0
	while IFS= read -r line || [ -n "$line" ]; do
		n=$((n + 1))
		line=${line#"${line%%[![:space:]]*}"}
		[ -z "$line" ] || [ "${line:0:1}" = "#" ] && continue
		if ! [[ $line =~ ^([a-z0-9][a-z0-9.-]*)[[:space:]]*=[[:space:]]*(.*)$ ]]; then
			rule_error $n rule "not a 'key = value' line (keys:" \
			    "a-z, 0-9 and '-'; then '=' and the value)"
			continue
		fi
		local key=${BASH_REMATCH[1]}
		if ! parse_value "${BASH_REMATCH[2]}"; then
			rule_error $n "$key" "$key: $REPLY"
		elif [ -z "$REPLY" ]; then
			rule_error $n "$key" "$key has no value"
		else
			add_setting $n "$key" "$REPLY"
			nsettings=$((nsettings + 1))
		fi
	done <"$rule_file"
	rule_defaults
}

# The own settings, checked, with their defaults.
rule_defaults() {
	local k
	log_size=10485760 log_keep=3 stop_timeout=300	# if theirs are bad
	for k in "${!OWN_KEYS[@]}"; do
		[ -n "${OWN[$k]:-}" ] || OWN[$k]=${OWN_KEYS[$k]}
	done
	if [ -z "${OWN[destination]}" ]; then
		k="add 'destination = cos://BUCKET-APPID/PREFIX/?region=REGION'"
		rule_errors+=("destination"$'\t'"$rule_file: no destination; $k (or s3://, file://)")
	fi
	own_size log-size && log_size=$REPLY
	own_number log-keep 1 100 && log_keep=$REPLY
	own_duration stop-timeout && stop_timeout=$REPLY
	case ${OWN[exactly-once],,} in yes|true|no|false) ;; *)
		own_error exactly-once "'${OWN[exactly-once]}' is not yes or no" ;;
	esac
	if [ -n "${OWN[test-timeout]}" ]; then
		own_duration test-timeout && test_timeout=$REPLY
	else
		test_default_timeout
	fi
	state_dir=${OWN[state-directory]:-${LAKEPIPE_STATE_DIR:-${STATE_DIRECTORY:-}}}
	if [ -z "$state_dir" ]; then
		if [ "$(id -u)" -eq 0 ]; then
			state_dir=/var/lib/lakepipe
		else
			state_dir=${XDG_STATE_HOME:-$HOME/.local/state}/lakepipe
		fi
	fi
	sdir=$state_dir/$rule_name
	[ -z "${OWN[environment-file]}" ] || load_env_file
	log_level_of_rule
}

# lakepipe test waits for the object to be cut (max-age) and stored.
test_default_timeout() {
	local age
	age=$(printf '%s\n' ${t_args[@]+"${t_args[@]}"} | sed -n 's/^--max-age=//p' | tail -1)
	test_timeout=$((DEFAULT_MAX_AGE + 30))
	if [ -n "$age" ] && duration_s "$age"; then
		test_timeout=$((REPLY + 30))
	fi
}

# -q and -v of the rule apply to lakepipe's own lines too.
log_level_of_rule() {
	local a
	for a in ${c_args[@]+"${c_args[@]}"}; do
		case $a in --quiet) log_level=1 ;; --verbose) log_level=3 ;; esac
	done
}

# The environment file's NAME=VALUE lines, exported for the programs.
load_env_file() {
	local f=${OWN[environment-file]} line name value
	if ! [ -r "$f" ]; then
		own_error environment-file "cannot read $f"
		return
	fi
	while IFS= read -r line || [ -n "$line" ]; do
		[[ $line =~ ^[[:space:]]*(export[[:space:]]+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$ ]] ||
		    continue
		name=${BASH_REMATCH[2]} value=${BASH_REMATCH[3]}
		[[ $value =~ ^\"(.*)\"$ || $value =~ ^\'(.*)\'$ ]] &&
		    value=${BASH_REMATCH[1]}
		export "$name=$value"
	done <"$f"
}

# own_size KEY, own_number KEY MIN MAX, own_duration KEY: REPLY the value
# of one of lakepipe's own settings, or a rule error.
own_size() {
	local v=${OWN[$1]} m=1
	if [[ $v =~ ^([0-9]+)([kKmMgG]?)$ ]]; then
		case ${BASH_REMATCH[2]} in
		k|K) m=1024 ;; m|M) m=1048576 ;; g|G) m=1073741824 ;;
		esac
		REPLY=$((BASH_REMATCH[1] * m))
		[ "$REPLY" -ge 4096 ] && return 0
	fi
	own_error "$1" "'$v' is not a size of 4k or more (123456, 64k, 10M, 1G)"
}
own_number() {
	local v=${OWN[$1]}
	if [[ $v =~ ^[0-9]+$ ]] && [ "$v" -ge "$2" ] && [ "$v" -le "$3" ]; then
		REPLY=$v
		return 0
	fi
	own_error "$1" "'$v' is not a number ($2 to $3)"
}
own_duration() {
	duration_s "${OWN[$1]}" && [ "$REPLY" -gt 0 ] && return 0
	own_error "$1" "'${OWN[$1]}' is not a duration (90, 30s, 5m, 2h)"
}
own_error() {
	rule_errors+=("$1"$'\t'"$rule_file:${KEYLINE[$1]:-?}: $1: $2")
	return 1
}

# REPLY: a duration (90, 1.5, 30s, 250ms, 5m, 2h, 1d) in whole seconds,
# rounded up.
duration_s() {
	[[ $1 =~ ^[0-9]+(\.[0-9]+)?(ms|s|m|h|d)?$ ]] || return 1
	REPLY=$(awk -v v="$1" 'BEGIN {
		u = v; sub(/^[0-9.]+/, "", u); n = v + 0
		m = 1
		if (u == "ms") m = 0.001
		if (u == "m") m = 60
		if (u == "h") m = 3600
		if (u == "d") m = 86400
		s = n * m; printf "%d\n", (s == int(s)) ? s : int(s) + 1 }')
}

# ---- check -----------------------------------------------------------------

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

# ---- state --------------------------------------------------------------

# Is the rule running?  Its lakepipe run holds the lock.  Looked up in the
# kernel's table of locks rather than by taking it: a probe that took it,
# even shared and for a moment, could keep a starting run out (scripts
# polling status in a loop starve it).  The lock's id there is
# MAJOR:MINOR:INODE, the device in hex.
running() {
	local dev ino id
	[ -e "$sdir/lock" ] || return 1
	if [ ! -r /proc/locks ]; then
		! flock -n -s "$sdir/lock" true
		return
	fi
	read -r dev ino < <(stat -c '%D %i' "$sdir/lock") || return 1
	dev=$((16#$dev))
	printf -v id '%02x:%02x:%s' $(((dev >> 8) & 0xfff)) \
	    $(((dev & 0xff) | ((dev >> 12) & 0xfff00))) "$ino"
	awk -v id="$id" '$2 == "FLOCK" && $4 == "WRITE" && $6 == id { f = 1 }
	    END { exit !f }' /proc/locks
}

# st_read: ST[key]=value from the state file.
st_read() {
	local k v
	declare -gA ST=()
	[ -r "$sdir/state" ] || return 1
	while IFS='=' read -r k v; do
		[ -n "$k" ] && ST[$k]=$v
	done <"$sdir/state"
}

# prom FILE: M[name{labels}]=value from a Prometheus text file.
prom() {
	local name value
	[ -r "$1" ] || return 0
	while read -r name value _; do
		case $name in \#*|"") continue ;; esac
		M[$name]=$value
	done <"$1"
}

# REPLY: the value of label LABEL of the first metric named NAME{...}.
prom_label() {
	local k
	for k in "${!M[@]}"; do
		[[ $k == "$1{"*"$2=\""* ]] || continue
		k=${k#*"$2=\""}
		k=${k%\"*}
		k=${k//\\\"/\"}
		REPLY=${k//\\\\/\\}
		return 0
	done
	return 1
}

# write_state: the state file from what run knows, the stages' metrics
# files and the log's last error; replaced whole, so a reader never sees
# half of it.
write_state() {
	local k p
	declare -A M=()
	for p in consume transform deliver; do
		prom "$sdir/$p.prom"
	done
	{
		echo "rule=$(realpath "$rule_file")"
		echo "pid=$$"
		echo "state=$run_state"
		echo "started=$started"
		echo "started_epoch=$started_epoch"
		[ -z "${ended:-}" ] || echo "ended=$ended"
		[ -z "${run_exit:-}" ] || echo "exit=$run_exit"
		echo "messages=${M[lakepipe_consume_messages_total]:-0}"
		echo "acked=${M[lakepipe_consume_acks_total]:-0}"
		echo "objects=${M[lakepipe_deliver_objects_total]:-0}"
		echo "bytes=${M[lakepipe_deliver_bytes_total]:-0}"
		echo "retries=${M[lakepipe_deliver_retries_total]:-0}"
		echo "reconnects=${M[lakepipe_consume_reconnects_total]:-0}"
		prom_label lakepipe_deliver_last_object_info key &&
		    echo "last_object=$REPLY"
		k=${M[lakepipe_deliver_last_object_timestamp_seconds]:-}
		[ -z "$k" ] || echo "last_object_epoch=${k%.*}"
		k=${M[lakepipe_deliver_lag_seconds]:-}
		[ -z "$k" ] || echo "lag_seconds=$k"
		for k in "${!M[@]}"; do
			[[ $k =~ ^lakepipe_consume_backlog_messages\{partition=\"([0-9-]+)\"\}$ ]] &&
			    echo "backlog.${BASH_REMATCH[1]}=${M[$k]}"
		done | sort -t. -k2n
		[ ! -s "$sdir/last-error" ] ||
		    echo "last_error=$(cat "$sdir/last-error")"
	} >"$sdir/state.tmp" && mv -f "$sdir/state.tmp" "$sdir/state"
}

# ---- run -------------------------------------------------------------------

# log_writer FILE: copy each line of stdin to fd 3 (the terminal, or the
# journal under systemd) and to FILE, rotated at log_size bytes into
# FILE.1 .. FILE.$log_keep; a line that is not logfmt (a sanitizer's
# report, say) is wrapped in one; the last error line goes to last-error.
log_writer() {
	local LC_ALL=C f=$1 line size
	# A Ctrl-C must not end the log before the stop is logged: this
	# subshell, unlike the programs, does not ignore SIGINT by itself.
	trap '' INT PIPE
	size=$(stat -c %s "$f" 2>/dev/null || echo 0)
	exec 4>>"$f"
	while IFS= read -r line || [ -n "$line" ]; do
		if ! [[ $line == ts=*' level='* ]]; then
			now_ts
			lf_value "$line"
			line="ts=$ts level=info prog=lakepipe msg=$REPLY"
		fi
		printf '%s\n' "$line" >&3
		printf '%s\n' "$line" >&4
		size=$((size + ${#line} + 1))
		[[ $line != *' level=error '* ]] || note_error "$line"
		[ $size -lt $log_size ] || { rotate_log "$f"; size=0; }
	done
}

# note_error LINE: the last error line, and each program's own last one
# (last-error.PROGRAM), of which the failed stage's is the run's error.
note_error() {
	local p=${1#* prog=}
	p=${p%% *}
	[[ $p =~ ^[a-z]+$ ]] || p=unknown
	printf '%s\n' "$1" >"$sdir/last-error.$p"
	printf '%s\n' "$1" >"$sdir/last-error.tmp" &&
	    mv -f "$sdir/last-error.tmp" "$sdir/last-error"
}

rotate_log() {
	local i
	exec 4>&-
	for ((i = log_keep - 1; i >= 1; i--)); do
		[ ! -e "$1.$i" ] || mv -f "$1.$i" "$1.$((i + 1))"
	done
	mv -f "$1" "$1.1"
	exec 4>>"$1"
}

# The stages write their metrics files into the state directory; -q or -v
# of the rule went to every program that has them.
run_main() {
	load_rule "$1"
	mkdir -p "$sdir" || die "cannot make the state directory $sdir"
	exec 9>>"$sdir/lock"
	# a few seconds: a status or stop probing the lock holds it briefly
	if ! flock -w 5 9; then
		st_read
		die "$rule_name is already running (pid ${ST[pid]:-?});" \
		    "stop it first: $prog stop $rule_file"
	fi
	make_tmp
	mkfifo "$tmp/log" || exit 1
	log_writer "$sdir/log" <"$tmp/log" 3>&2 2>/dev/null 9>&- &
	local logger=$!
	exec 5>&2 2>"$tmp/log"
	rm -f "$sdir"/last-error* "$sdir"/*.prom
	now_ts
	started=$ts started_epoch=$EPOCHSECONDS
	local out
	if ! out=$(offline_check); then
		grep '^fail ' <<<"$out" | while IFS= read -r l; do
			log error "${l#fail }"
		done
		log error "$rule_name not started: fix the settings above" \
		    rule="$rule_file"
		run_exit=2 run_state=invalid
	else
		run_rule
	fi
	# the last lines in the log (and its last error) before the state;
	# the error of a failed run is the failed stage's, not its victims'
	exec 2>&5 5>&-
	wait $logger
	[ -z "${failed_stage:-}" ] || [ ! -s "$sdir/last-error.$failed_stage" ] ||
	    cp "$sdir/last-error.$failed_stage" "$sdir/last-error"
	now_ts
	ended=$ts
	write_state
	exit $run_exit
}

# sargs: the rule's deliver options that say how to reach the store.
store_args() {
	local a
	sargs=()
	for a in ${d_args[@]+"${d_args[@]}"}; do
		case $a in
		--endpoint=*|--path-style|--credentials=*|--retries=*|\
		--timeout=*|--insecure|--quiet|--verbose) sargs+=("$a") ;;
		esac
	done
}

# Exactly once (lakepipe(1)): consume skips what the lake's index holds,
# deliver writes without overwriting and keeps the index; for Exclusive
# and Failover subscriptions (Shared ones deliver out of order) of a
# broker.
exactly_once_args() {
	local a type=exclusive url=
	case ${OWN[exactly-once],,} in no|false) return ;; esac
	for a in ${c_args[@]+"${c_args[@]}"}; do
		case $a in
		--type=*) type=${a#--type=} ;;
		--url=*) url=${a#--url=} ;;
		esac
	done
	[ -n "$url" ] || return 0	# a replay of files: no broker to ack
	case ${type,,} in exclusive|failover) ;; *)
		log info "exactly-once off: a $type subscription is at-least-once" \
		    "(records carry message_id)"
		return ;;
	esac
	c_args+=(--exactly-once "${OWN[destination]}" --deliver "$DELIVER")
	# the store's settings, for the deliver consume runs to read the index
	store_args
	for a in ${sargs[@]+"${sargs[@]}"}; do
		c_args+=("--deliver-option=$a")
	done
	d_args+=(--exactly-once)
}

# deliver --markers waits for every partition of the topic, also one that
# has sent nothing yet: lakepipe asks the broker how many there are
# (consume --probe), unless the rule says (partitions = N).
partitions_arg() {
	local a on=0 n
	[ -n "${KEYLINE[url]:-}" ] && [ -z "${KEYLINE[partitions]:-}" ] ||
	    return 0
	for a in ${d_args[@]+"${d_args[@]}"}; do
		[ "$a" != --markers ] || on=1
	done
	[ $on -eq 1 ] || return 0
	stage_args consume
	n=$(timeout -k 5 $PROBE_LIMIT "$bin" --probe ${args[@]+"${args[@]}"} \
	    2>/dev/null | sed -n 's/^ok topic: .* found, \([0-9][0-9]*\) partitions, .*/\1/p')
	if [ -n "$n" ]; then
		d_args+=(--partitions="$n")
		log info "markers wait for every partition" partitions="$n"
	else
		log warn "markers: the topic's partition count is not known" \
		    todo="give it as partitions = N; until then a partition that has sent nothing holds no marker back once idle"
	fi
}

run_rule() {
	partitions_arg
	exactly_once_args
	# multipart uploads of a killed deliver of this rule: aborted
	case ${OWN[destination]} in file://*) ;; *) d_args+=(--orphan-age=1h) ;; esac
	d_args+=("${OWN[destination]}")
	c_args+=(--metrics-file "$sdir/consume.prom")
	t_args+=(--metrics-file "$sdir/transform.prom")
	d_args+=(--metrics-file "$sdir/deliver.prom")
	run_state=running
	write_state
	log info "running" rule="$rule_file" pid=$$ \
	    destination="${OWN[destination]}"
	tick=write_state
	if run_pipeline; then
		run_exit=0 run_state=stopped
	else
		run_exit=1 run_state=failed
	fi
	tick=
	log info "$run_state" rule="$rule_file" exit=$run_exit
}

# ---- status, logs, stop, delete ------------------------------------------

# REPLY: seconds as "1h 2m 3s".
span() {
	local s=$1 r=
	[ $s -lt 86400 ] || r+="$((s / 86400))d "
	[ $s -lt 3600 ] || r+="$((s % 86400 / 3600))h "
	[ $s -lt 60 ] || r+="$((s % 3600 / 60))m "
	REPLY="$r$((s % 60))s"
}

status_main() {
	local k rc=0
	load_rule "$1"
	echo "rule: $rule_name ($rule_file)"
	if ! st_read; then
		echo "running: no (never run; state directory $sdir)"
		exit 3
	fi
	if running; then
		span $((EPOCHSECONDS - ${ST[started_epoch]:-$EPOCHSECONDS}))
		echo "running: yes, pid ${ST[pid]}, since ${ST[started]} ($REPLY)"
	elif [ "${ST[state]:-}" = running ]; then
		echo "running: no, ended unrecorded (killed?); started ${ST[started]:-?}"
		rc=3
	else
		echo "running: no, ${ST[state]:-stopped} at ${ST[ended]:-?}" \
		    "(exit status ${ST[exit]:-?}; started ${ST[started]:-?})"
		rc=3
	fi
	echo "messages: ${ST[messages]:-0} read, ${ST[acked]:-0} stored and acknowledged"
	echo "objects: ${ST[objects]:-0} stored, ${ST[bytes]:-0} bytes"
	if [ -n "${ST[last_object]:-}" ]; then
		local TZ=UTC0 at=?
		[ -z "${ST[last_object_epoch]:-}" ] ||
		    printf -v at '%(%Y-%m-%dT%H:%M:%SZ)T' "${ST[last_object_epoch]}"
		echo "last object: ${ST[last_object]} at $at"
	else
		echo "last object: none yet"
	fi
	if [ -n "${ST[lag_seconds]:-}" ]; then
		printf 'lag: %.1f s from publish to stored\n' "${ST[lag_seconds]}"
	fi
	for k in $(printf '%s\n' "${!ST[@]}" | grep '^backlog\.' | sort -t. -k2n); do
		echo "backlog: partition ${k#backlog.}: ${ST[$k]} messages"
	done
	if [ -n "${ST[last_error]:-}" ]; then
		local e=${ST[last_error]} when p
		when=${e#ts=}
		when=${when%% *}
		p=${e#*prog=}
		p=${p%% *}
		line_msg "$e"
		echo "last error: $when $p: $REPLY"
	else
		echo "last error: none"
	fi
	exit $rc
}

logs_main() {
	local follow=0 lines= f i
	local rule=$1
	shift
	while [ $# -gt 0 ]; do
		case $1 in
		-f|--follow) follow=1 ;;
		-n) [ $# -ge 2 ] && [[ $2 =~ ^[0-9]+$ ]] ||
		        usage_error "logs: -n takes a number of lines"
		    lines=$2; shift ;;
		*) usage_error "logs: unknown argument '$1'" ;;
		esac
		shift
	done
	load_rule "$rule"
	f=$sdir/log
	[ -e "$f" ] || die "$rule_name has no log yet ($f): lakepipe run writes it"
	if [ $follow -eq 1 ]; then
		exec tail -n "${lines:-10}" -F "$f"
	fi
	{
		for ((i = log_keep; i >= 1; i--)); do
			[ ! -e "$f.$i" ] || cat "$f.$i"
		done
		cat "$f"
	} | if [ -n "$lines" ]; then tail -n "$lines"; else cat; fi
	exit 0
}

# stop_rule: SIGTERM to the rule's lakepipe run, then wait until it and
# every stage have exited (the run holds the lock until its stages end).
stop_rule() {
	if ! running; then
		echo "ok stopped: $rule_name is not running"
		return 0
	fi
	st_read
	local pid=${ST[pid]:-} t0=$EPOCHREALTIME
	[[ $pid =~ ^[0-9]+$ ]] || die "$sdir/state holds no pid"
	kill -TERM "$pid" 2>/dev/null
	if ! flock -s -w "$stop_timeout" "$sdir/lock" true; then
		echo "fail stopped: $rule_name (pid $pid) still flushing after" \
		    "$stop_timeout s; a second SIGTERM stops it at once:" \
		    "kill -TERM $pid"
		return 1
	fi
	st_read
	echo "ok stopped: $rule_name (pid $pid) after" \
	    "$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }') s," \
	    "exit status ${ST[exit]:-?}"
}

stop_main() {
	load_rule "$1"
	stop_rule || exit 1
	exit 0
}

delete_main() {
	local rule=$1 unsub=0
	shift
	case ${1:-} in
	--unsubscribe) unsub=1 ;;
	"") ;;
	*) usage_error "delete: unknown argument '$1' (--unsubscribe?)" ;;
	esac
	load_rule "$rule"
	stop_rule || exit 1
	if [ $unsub -eq 1 ]; then
		make_tmp
		checks consume --unsubscribe subscription || exit 1
	fi
	rm -rf "$sdir"
	echo "ok deleted: the state and log of $rule_name ($sdir);" \
	    "the rule file $rule_file is left to you"
	exit 0
}

# ---- audit -------------------------------------------------------------

# audit [DELIVER-OPTIONS] DESTINATION | RULE: deliver --audit, on a
# destination URL or on a rule's destination with the rule's store
# settings (endpoint, credentials, ...) and environment file.
audit_main() {
	local last=${!#}
	find_progs
	if [[ $last == *://* ]] || [ ! -f "$last" ]; then
		exec "$DELIVER" --audit "$@"
	fi
	[ $# -eq 1 ] || usage_error "audit RULE takes no other arguments"
	load_rule "$last"
	store_args
	exec "$DELIVER" --audit ${sargs[@]+"${sargs[@]}"} "${OWN[destination]}"
}

# ---- test --------------------------------------------------------------

# Consume's options that are about reading, not about reaching the topic:
# left out of --produce.
declare -A CONSUMER_ONLY=([subscription]=1 [type]=1 [start]=1
    [receiver-queue]=1 [max-unacked]=1 [ack-timeout]=1 [stop-at-end]=1
    [lines]=1 [frames]=1 [publish-time]=1 [max-size]=1 [progress]=1)

# args: the rule's consume options that a producer takes too.
producer_args() {
	local a n
	stage_args consume
	set -- ${args[@]+"${args[@]}"}
	args=()
	for a; do
		n=${a#--}
		n=${n%%=*}
		[ -n "${CONSUMER_ONLY[$n]:-}" ] || args+=("$a")
	done
}

# list_store FILE: the objects under the destination, "KEY TAB SIZE TAB
# MTIME" lines, sorted.
list_store() {
	stage_args deliver
	timeout -k 5 $PROBE_LIMIT "$bin" --list ${args[@]+"${args[@]}"} \
	    "${OWN[destination]}" 2>"$tmp/list.err" >"$1.raw" || return 1
	sort "$1.raw" >"$1"
}

# holds KEY ID: does the stored object KEY hold the text ID?  Read back
# from the store, decompressed by its extension.
holds() {
	local unpack=cat
	case $1 in *.gz) unpack="gzip -dc" ;; *.zst) unpack="zstd -dcq" ;; esac
	stage_args deliver
	timeout -k 5 $PROBE_LIMIT "$bin" --cat "$1" ${args[@]+"${args[@]}"} \
	    "${OWN[destination]}" 2>/dev/null | $unpack 2>/dev/null |
	    grep -qF "$2"
}

test_main() {
	load_rule "$1"
	make_tmp
	if ! running; then
		echo "fail running: $rule_name is not running; start it:" \
		    "$prog run $rule_file (or systemctl start lakepipe@$rule_name)"
		exit 1
	fi
	st_read
	echo "ok running: $rule_name, pid ${ST[pid]:-?}, since ${ST[started]:-?}"
	if ! list_store "$tmp/before"; then
		err_msg "$tmp/list.err"
		echo "fail destination: cannot list ${OWN[destination]}: $REPLY"
		exit 1
	fi
	local id t0 key
	id=lakepipe-test-$EPOCHSECONDS-$$-$RANDOM
	now_ts
	printf '{"lakepipe_test":"%s","rule":"%s","sent":"%s"}\n' \
	    "$id" "$rule_name" "$ts" >"$tmp/probe"
	t0=$EPOCHREALTIME
	producer_args
	if ! timeout -k 5 $PROBE_LIMIT "$bin" --produce ${args[@]+"${args[@]}"} \
	    --lines "$tmp/probe" 2>"$tmp/produce.err" >/dev/null; then
		err_msg "$tmp/produce.err"
		echo "fail topic: the probe could not be published: $REPLY"
		exit 1
	fi
	echo "ok sent: probe $id at $ts"
	while key=$(probe_landed "$id"); [ -z "$key" ]; do
		if [ "$(elapsed "$t0")" -ge "$test_timeout" ]; then
			echo "fail stored: the probe did not land under" \
			    "${OWN[destination]} in $test_timeout s; see" \
			    "$prog logs $rule_file"
			exit 1
		fi
		sleep $LIST_EVERY
	done
	echo "ok stored: $key after $(awk -v a="$t0" -v b="$EPOCHREALTIME" \
	    'BEGIN { printf "%.1f", b - a }') s"
	exit 0
}

# Whole seconds since T0 (an $EPOCHREALTIME).
elapsed() {
	echo $((EPOCHSECONDS - ${1%.*}))
}

# The key of a new or rewritten object that holds ID, if there is one.
probe_landed() {
	local key
	list_store "$tmp/now" || return 0
	comm -13 "$tmp/before" "$tmp/now" | cut -f1 >"$tmp/new"
	while IFS= read -r key; do
		if holds "$key" "$1"; then
			echo "$key"
			return 0
		fi
	done <"$tmp/new"
	mv -f "$tmp/now" "$tmp/before"
}

# ---- main -------------------------------------------------------------------

case ${1:-} in
-h|--help) usage 0 ;;
"") usage_error "no arguments" ;;
check|run|test|status|stop)
	[ $# -eq 2 ] || usage_error "$1 takes one argument: the rule file"
	"$1_main" "$2" ;;
logs|delete|audit)
	[ $# -ge 2 ] || usage_error "$1 takes the rule file"
	cmd=$1
	shift
	"${cmd}_main" "$@" ;;
*) pipeline_main "$@" ;;
esac
