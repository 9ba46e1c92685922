# lib-rgw.sh: a real S3 server for the tests, Ceph's RADOS Gateway (Debian
# 12 radosgw, Ceph 16 "pacific"); sourced after test-lib.sh.
#
# rgw_start [BUCKET...] starts a throw-away single-node cluster on loopback,
# everything under $TRASH/rgw: one mon, one memstore OSD (RAM), one radosgw
# with the beast frontend on 127.0.0.1; no mgr, no cephx.  It creates a user
# and the buckets (default: lake), and exports
#	RGW_ENDPOINT	http://127.0.0.1:PORT
#	RGW_PORT
#	AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY	the user's key pair
# (AWS_SESSION_TOKEN is unset: without STS, RGW ignores tokens).  It is
# stopped (SIGKILL by pid: a clean SIGTERM of radosgw can hang for
# 120 s, and the cluster is throw-away) when the script ends, and every
# daemon runs under timeout(1), so none outlives a killed script by more
# than RGW_LIFETIME seconds (default 600, what tests/run gives a script).
# Call it at the top level of a script; it exits the script on failure.
# rgw_skip_unless_installed (or rgw_installed) first.  The cluster uses
# about 125 MB (resident, just started).
#
# Ports.  radosgw's beast frontend takes "endpoint=127.0.0.1:0": the kernel
# picks the port, and as radosgw logs no port, rgw_listen_port reads it
# from /proc (the listening TCP socket that the radosgw pid holds).  The
# mon cannot do that: its address is part of the monmap that every client
# and daemon is given before it starts.  So a free port is found by
# binding port 0 (python3) and closing it, and as another process may take
# it in between, a mon that cannot bind is started again on a new port
# ("ms bind retry count = 1", one attempt, makes it exit at once instead
# of trying 3 times 5 s apart; 0 means no attempt at all, which it reports
# as "unable to bind after 0 attempts: (1) Operation not permitted").  The
# OSD binds by itself in Ceph's port range 6800-7300 (below the kernel's
# ephemeral ports), trying the next port while one is taken, and tells the
# mon its address: nothing to do.
#
# Start: about 2 s on this 2-core machine (mon 0.3-0.6 s, OSD and radosgw
# 1.0-1.5 s, user and bucket 0.4-0.8 s; 1.8-2.9 s measured, up to 7.7 s
# with another cluster starting at the same time), printed as a TAP
# comment.  Pitfalls met: "ceph-osd --mkfs" must be given the uuid of "ceph
# osd new UUID" (--osd-uuid), else the mon ignores the OSD's boot and it
# stays down without a word; radosgw in the foreground writes no pid file;
# curl 7.88's --aws-sigv4 gets SignatureDoesNotMatch from RGW (hence
# tests/peers/s3/sigv4-curl.js).
#
# What RGW answers, measured here (see tests/peers/s3/README.md, "Ceph
# RGW"): it checks SigV4 itself (a wrong key: 403 SignatureDoesNotMatch);
# a body damaged in transit: 400 XAmzContentSHA256Mismatch;
# CompleteMultipartUpload's ETag is empty (HEAD has it); no CRC-64 header;
# any region.  Conditional writes: PUT with If-None-Match: * on an
# existing key is 412 PreconditionFailed; CompleteMultipartUpload (and
# Initiate) ignore If-None-Match: * and overwrite; x-cos-forbid-overwrite
# is ignored (overwrites).

RGW_USER_ID=AKIDLAKEPIPERGW00000000000000000001
RGW_USER_KEY=LakepipeRgwSecretKey0000000000000000001
RGW_LIFETIME=${RGW_LIFETIME:-600}

rgw_installed() {
	for _c in ceph-mon ceph-osd radosgw radosgw-admin monmaptool ceph \
	    timeout pgrep curl python3; do
		command -v $_c >/dev/null 2>&1 || return 1
	done
}

# Skip the whole script (plan 1..0) unless the Ceph packages are there.
rgw_skip_unless_installed() {
	if ! rgw_installed; then
		test_skip "$TEST_NAME: all of it" "Ceph RGW not installed:\
 radosgw, ceph-mon, ceph-osd, ceph-common; ./setup.sh --tests installs them"
		test_done
	fi
}

# A TCP port that was free a moment ago.
rgw_free_port() {
	python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

# rgw_listen_port PID: the TCP port PID listens on (the first), from
# /proc: its socket inodes, then the LISTEN (0A) lines of /proc/net/tcp.
rgw_listen_port() {
	_inodes=$(ls -l /proc/$1/fd 2>/dev/null |
	    sed -n 's/.*socket:\[\([0-9]*\)\]$/\1/p' | tr '\n' ' ')
	[ -n "$_inodes" ] || return 1
	_hex=$(awk -v inodes=" $_inodes" '
		$4 == "0A" && index(inodes, " " $10 " ") {
			split($2, a, ":")
			print a[2]
			exit
		}' /proc/$1/net/tcp)
	[ -n "$_hex" ] && echo $((0x$_hex))
}

# rgw_pid NAME: the pid of daemon NAME (mon.a, osd.0, client.rgw), from
# run/NAME.kill (written by rgw_daemon: the daemon's pid, then its
# timeout's).  Ceph's own pid files are no use: radosgw writes none in
# the foreground.
rgw_pid() {
	head -1 "$RGW_DIR/run/$1.kill" 2>/dev/null
}

rgw_conf() {
	cat >"$RGW_DIR/ceph.conf" <<-EOF
	# A throw-away test cluster: see tests/lib-rgw.sh.
	[global]
	fsid = $RGW_FSID
	mon host = v2:127.0.0.1:$1
	public addr = 127.0.0.1
	cluster addr = 127.0.0.1
	ms bind msgr1 = false
	ms bind retry count = 1
	# No cephx: then every messenger mode must be crc (the default secure
	# mode needs a key; RGW loops on "get_initial_auth_request returned -13")
	auth cluster required = none
	auth service required = none
	auth client required = none
	ms mon client mode = crc
	ms client mode = crc
	ms cluster mode = crc
	ms service mode = crc
	ms mon service mode = crc
	ms mon cluster mode = crc
	keyring = /dev/null
	run dir = $RGW_DIR/run
	# no admin sockets: nothing uses them, and a deep \$TRASH could pass
	# the 107 bytes of a socket path
	admin socket =
	log file = $RGW_DIR/log/\$name.log
	log to stderr = false
	err to stderr = false
	crash dir = $RGW_DIR/crash
	mon cluster log to file = false
	# one OSD: pools of one copy, placement across OSDs, not hosts
	osd pool default size = 1
	osd pool default min size = 1
	osd pool default pg num = 1
	osd pool default pgp num = 1
	osd pool default pg autoscale mode = off
	osd crush chooseleaf type = 0
	mon allow pool size one = true
	mon warn on pool no redundancy = false
	# commit the mon's map changes at once (start 7.9 s -> 1.7 s)
	paxos propose interval = 0.05
	[mon]
	mon data = $RGW_DIR/mon
	[osd]
	osd data = $RGW_DIR/osd
	osd objectstore = memstore
	memstore device bytes = 536870912
	[client.rgw]
	rgw frontends = beast endpoint=127.0.0.1:0
	# virtual-hosted requests: Host BUCKET.s3.localhost
	rgw dns name = s3.localhost
	# S3's minimum part is 5 MiB (EntityTooSmall); small tests use 1 MiB
	rgw multipart min part size = 65536
	rgw thread pool size = 32
	EOF
}

# rgw_daemon NAME COMMAND...: run a daemon in the foreground (-f) under
# timeout(1), in the background, logging to log/NAME.out; write its pid
# and that of its timeout into run/NAME.kill, for rgw_stop.  Sets _tpid
# (the timeout's pid).
rgw_daemon() {
	_n=$1
	shift
	timeout -s KILL "$RGW_LIFETIME" "$@" -c "$RGW_DIR/ceph.conf" -f \
	    >"$RGW_DIR/log/$_n.out" 2>&1 &
	_tpid=$!
	_i=0
	until _dpid=$(pgrep -P $_tpid); do
		_i=$((_i + 1))
		[ $_i -lt 100 ] && kill -0 $_tpid 2>/dev/null || break
		sleep 0.02
	done
	printf '%s\n' $_dpid $_tpid >"$RGW_DIR/run/$_n.kill"
}

# Start the mon on a free port; again on another one if that was taken.
rgw_start_mon() {
	_try=0
	while [ $_try -lt 5 ]; do
		_try=$((_try + 1))
		_port=$(rgw_free_port) || return 1
		rm -rf "$RGW_DIR/mon" &&
		rgw_conf "$_port" &&
		monmaptool --create --add a "v2:127.0.0.1:$_port" \
		    --clobber --fsid "$RGW_FSID" "$RGW_DIR/monmap" >/dev/null &&
		ceph-mon -c "$RGW_DIR/ceph.conf" --mkfs -i a \
		    --monmap "$RGW_DIR/monmap" >"$RGW_DIR/log/mkfs.out" 2>&1 ||
		    return 1
		rgw_daemon mon.a ceph-mon -i a
		# listening (ours, not another test's mon), or gone
		_i=0
		while kill -0 $_tpid 2>/dev/null && [ $_i -lt 200 ]; do
			_pid=$(rgw_pid mon.a)
			if [ -n "$_pid" ] &&
			    [ "$(rgw_listen_port "$_pid")" = "$_port" ]; then
				RGW_MON_PORT=$_port
				return 0
			fi
			_i=$((_i + 1))
			sleep 0.05
		done
		wait $_tpid 2>/dev/null
	done
	echo "rgw: the mon did not start:" >&2
	tail -5 "$RGW_DIR/log/mon.a.log" >&2
	return 1
}

rgw_start_osd() {
	_uuid=$(cat /proc/sys/kernel/random/uuid) &&
	test_timeout 30 ceph -c "$RGW_DIR/ceph.conf" osd new "$_uuid" \
	    >/dev/null 2>"$RGW_DIR/log/osd-new.out" &&
	ceph-osd -c "$RGW_DIR/ceph.conf" -i 0 --mkfs --osd-uuid "$_uuid" \
	    >"$RGW_DIR/log/osd-mkfs.out" 2>&1 || {
		echo "rgw: cannot make the OSD:" >&2
		cat "$RGW_DIR/log/osd-new.out" "$RGW_DIR/log/osd-mkfs.out" >&2
		return 1
	}
	rgw_daemon osd.0 ceph-osd -i 0
}

# Start radosgw; sets RGW_PORT once it answers HTTP (an anonymous GET /
# is a ListBuckets: 200).  It answers once the OSD is up and its pools are
# made, so this waits for the OSD too.
rgw_start_gw() {
	rgw_daemon client.rgw radosgw -n client.rgw
	_i=0
	while kill -0 $_tpid 2>/dev/null && [ $_i -lt 600 ]; do
		_pid=$(rgw_pid client.rgw)
		if [ -n "$_pid" ] && RGW_PORT=$(rgw_listen_port "$_pid") &&
		    curl -s -o /dev/null --max-time 2 \
		    "http://127.0.0.1:$RGW_PORT/"; then
			return 0
		fi
		_i=$((_i + 1))
		sleep 0.05
	done
	echo "rgw: radosgw does not answer:" >&2
	tail -5 "$RGW_DIR/log/client.rgw.log" >&2
	return 1
}

# rgw_s3 ARGS...: one SigV4 request (tests/peers/s3/sigv4-curl.js).
rgw_s3() {
	test_timeout 30 node "$PEERS/s3/sigv4-curl.js" "$@"
}

rgw_start() {
	RGW_DIR=$TRASH/rgw
	RGW_FSID=$(cat /proc/sys/kernel/random/uuid)
	mkdir -p "$RGW_DIR/run" "$RGW_DIR/log" "$RGW_DIR/osd" \
	    "$RGW_DIR/crash" || exit 1
	test_at_end "cat '$RGW_DIR'/run/*.kill | xargs kill -9"
	_t0=$(date +%s%N)
	rgw_start_mon || exit 1
	_t1=$(date +%s%N)
	rgw_start_osd && rgw_start_gw || exit 1
	_t2=$(date +%s%N)
	test_timeout 30 radosgw-admin -c "$RGW_DIR/ceph.conf" user create \
	    --uid=lakepipe --display-name=lakepipe \
	    --access-key="$RGW_USER_ID" --secret-key="$RGW_USER_KEY" \
	    >"$RGW_DIR/log/user.out" 2>&1 || {
		echo "rgw: cannot create the user:" >&2
		cat "$RGW_DIR/log/user.out" >&2
		exit 1
	}
	RGW_ENDPOINT=http://127.0.0.1:$RGW_PORT
	AWS_ACCESS_KEY_ID=$RGW_USER_ID
	AWS_SECRET_ACCESS_KEY=$RGW_USER_KEY
	unset AWS_SESSION_TOKEN
	export RGW_ENDPOINT RGW_PORT RGW_DIR AWS_ACCESS_KEY_ID \
	    AWS_SECRET_ACCESS_KEY
	for _b in ${@:-lake}; do
		rgw_s3 -X PUT "$RGW_ENDPOINT/$_b" 2>"$RGW_DIR/log/bucket.out" || {
			echo "rgw: cannot create bucket $_b:" >&2
			cat "$RGW_DIR/log/bucket.out" >&2
			exit 1
		}
	done
	_t3=$(date +%s%N)
	RGW_START_MS=$(( (_t3 - _t0) / 1000000 ))
	say "# rgw: answers S3 at $RGW_ENDPOINT after $RGW_START_MS ms" \
	    "(mon $(( (_t1 - _t0) / 1000000 )), osd and radosgw" \
	    "$(( (_t2 - _t1) / 1000000 )), user and buckets" \
	    "$(( (_t3 - _t2) / 1000000 )))"
}

# Stop the cluster now (also done at the end of the script).
rgw_stop() {
	cat "$RGW_DIR"/run/*.kill 2>/dev/null | xargs -r kill -9 2>/dev/null
	rm -f "$RGW_DIR"/run/*.kill
	return 0
}
