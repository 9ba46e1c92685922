# lib/lakepipe/log.sh: log lines in logfmt on stderr, and the errors of the other programs.
# Sourced by pipeline.sh (lakepipe), whose main calls these; not run alone.

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
