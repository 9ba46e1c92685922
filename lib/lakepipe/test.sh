# lib/lakepipe/test.sh: lakepipe test: a probe message through the rule into its store.
# Sourced by pipeline.sh (lakepipe), whose main calls these; not run alone.

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
