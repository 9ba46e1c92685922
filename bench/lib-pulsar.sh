# bench/lib-pulsar.sh: the Pulsar test broker (tests/peers/pulsar) for the
# benchmarks; sourced.

# pulsar_broker DIR TIMEOUT: start one broker in the background, its
# address file DIR/pb.json; sets bpid (stopped at exit), url, ctl, port.
pulsar_broker() {
	node tests/peers/pulsar/broker.js --brokers 1 --timeout "$2" \
	    >"$1/pb.json" 2>"$1/pb.log" &
	bpid=$!
	trap 'kill $bpid 2>/dev/null' EXIT
	i=0
	until [ -s "$1/pb.json" ]; do
		i=$((i + 1)); [ $i -lt 100 ] || { cat "$1/pb.log"; exit 1; }
		sleep 0.1
	done
	url=$(broker_info "$1" serviceUrl)
	ctl=$(broker_info "$1" control)
	port=$(broker_info "$1" port)
}

# broker_info DIR NAME: a member of the broker's address file
broker_info() {
	node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1],"utf8"))[process.argv[2]])' "$1/pb.json" "$2"
}
