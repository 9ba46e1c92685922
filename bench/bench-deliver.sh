#!/bin/sh
# bench/bench-deliver.sh [N1 N64]: upload throughput of deliver to the local
# S3/COS test server (tests/peers/s3), against curl -T of the same files to
# the same server in the same run.  N1 objects of 1 MB and N64 of 64 MB
# (defaults 32 and 2).  Not a test: it prints a table.
#
# The server is Node.js (a verifying proxy in front of s3rver) and is
# usually the bottleneck; the ratio to curl -T is what tells deliver's cost.
set -eu
cd "$(dirname "$0")/.."
N1=${1:-32}
N64=${2:-2}
out=bench/out/deliver
rm -rf "$out" && mkdir -p "$out"
. bench/lib-s3.sh
s3_server "$out" --allow-anonymous
trap 'kill $spid 2>/dev/null' EXIT
ep=http://localhost:$port

head -c $((1 << 20)) /dev/urandom >"$out/1m"
head -c $((64 << 20)) /dev/urandom >"$out/64m"

# frames FILE COUNT TAG: COUNT object frames of FILE's bytes
frames() {
	n=0
	while [ $n -lt "$2" ]; do
		n=$((n + 1))
		printf 'O %d key=%s/%d.bin n=1 seqs=%d\n' "$(wc -c <"$1")" "$3" $n $n
		cat "$1"
		printf '\n'
	done
}
frames "$out/1m" "$N1" d1 >"$out/1m.frames"
frames "$out/64m" "$N64" d64 >"$out/64m.frames"

now() { date +%s.%N; }
rate() { echo "$1 $2 $3" | awk '{ printf "%.1f", $1 / 1048576 / ($3 - $2) }'; }

# curl -T: one curl, one connection, the objects one after the other
curl_args() {
	file=$1 n=$2 tag=$3 args=
	k=0
	while [ $k -lt "$n" ]; do
		k=$((k + 1))
		args="$args -T $file -o /dev/null http://bench-1250000000.localhost:$port/$tag/$k.bin"
	done
	echo "-sf -H Expect: $args"
}

# run WHAT BYTES command...: wall-clock rate, and the client's own CPU
# seconds (user + system) per GB sent
run() {
	what=$1 bytes=$2
	shift 2
	t0=$(now)
	/usr/bin/time -f "%U %S" -o "$out/time" "$@" >/dev/null
	t1=$(now)
	cpu=$(awk -v b="$bytes" '{ printf "%.2f", ($1 + $2) / (b / 1073741824) }' "$out/time")
	printf '%-46s %8s MB/s %8s CPU s/GB\n' "$what" "$(rate "$bytes" "$t0" "$t1")" "$cpu"
}

b1=$((N1 << 20))
b64=$((N64 << 26))
echo "deliver upload throughput, local test server ($N1 x 1 MB, $N64 x 64 MB)"
# shellcheck disable=SC2046
run "curl -T, $N1 x 1 MB" $b1 curl $(curl_args "$out/1m" "$N1" c1)
run "deliver cos://, $N1 x 1 MB, -j 1" $b1 sh -c \
    "deliver/deliver -j 1 --endpoint $ep 'cos://bench-1250000000/j1/?region=ap-guangzhou' <$out/1m.frames"
run "deliver cos://, $N1 x 1 MB, -j 4" $b1 sh -c \
    "deliver/deliver -j 4 --endpoint $ep 'cos://bench-1250000000/j4/?region=ap-guangzhou' <$out/1m.frames"
# shellcheck disable=SC2046
run "curl -T, $N64 x 64 MB" $b64 curl $(curl_args "$out/64m" "$N64" c64)
run "deliver cos://, $N64 x 64 MB, one PUT, -j 1" $b64 sh -c \
    "deliver/deliver -j 1 --multipart-threshold 1G --endpoint $ep 'cos://bench-1250000000/p1/?region=ap-guangzhou' <$out/64m.frames"
run "deliver cos://, $N64 x 64 MB, 8 MB parts, -j 4" $b64 sh -c \
    "deliver/deliver -j 4 --endpoint $ep 'cos://bench-1250000000/m4/?region=ap-guangzhou' <$out/64m.frames"
