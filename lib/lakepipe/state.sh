# lib/lakepipe/state.sh: a running rule's state file and metrics.
# Sourced by pipeline.sh (lakepipe), whose main calls these; not run alone.

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
