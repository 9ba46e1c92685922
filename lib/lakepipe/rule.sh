# lib/lakepipe/rule.sh: a rule file (lakepipe-rule(5)) read into the three programs' arguments.
# Sourced by pipeline.sh (lakepipe), whose main calls these; not run alone.

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
