#!/bin/sh
# bench/deliver-cpu.sh [-m MB] [-r RUNS] [-M SIZE] [DEST...]: the CPU
# time (user + system, seconds per GB stored) that deliver spends storing
# MB of random bytes (default 256) given as object frames, best of RUNS
# (default 3), per destination and upload shape:
#
#   file     file:// into bench/out/dcpu/lake
#   cos      cos:// through the local test server (tests/peers/s3), which
#            answers x-cos-hash-crc64ecma
#   s3       s3:// (SigV4) through the same server, with no CRC-64 header
#            (as most S3 stores)
#   rgw      s3:// to Ceph's RADOS Gateway at $RGW_ENDPOINT, bucket lake
#            (with its keys in AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY),
#            when RGW_ENDPOINT is set: start one with tests/lib-rgw.sh
#            (its memstore OSD holds 512 MB, and RGW frees overwritten
#            objects late: -m 64 -r 2 at most per cluster)
#
# -M SIZE is deliver's --max-memory (default: deliver's own, --jobs
# times the part size, 32M): below MB, the objects stream through memory
# as they do in a pipeline, rather than all being read in before the
# first is stored.
#
# Default: file cos s3, and rgw when RGW_ENDPOINT is set; $DELIVER is
# the program measured (default deliver/deliver: give another build's to
# compare).  Each
# destination runs as one PUT (an object of 32 MB, stored whole) and as
# a multipart upload (objects of 64 MB in 8 MB parts).  CPU time is
# deliver's own (its rusage, from /usr/bin/time), so the load of the
# shared machine and of the test server moves it less than wall-clock
# time, which is not reported; the user part, shown apart, moves least
# (the system part follows the kernel's page and socket work).  Not a
# test: it prints a table.
set -eu
cd "$(dirname "$0")/.."
mb=256 runs=3 maxmem=
while getopts m:r:M: opt; do
	case $opt in
	m) mb=$OPTARG ;;
	r) runs=$OPTARG ;;
	M) maxmem=$OPTARG ;;
	*) echo "usage: bench/deliver-cpu.sh [-m MB] [-r RUNS] [-M SIZE]" \
	       "[DEST...]" >&2
	   exit 2 ;;
	esac
done
shift $((OPTIND - 1))
[ $# -gt 0 ] || set -- file cos s3 ${RGW_ENDPOINT:+rgw}
DELIVER=${DELIVER:-deliver/deliver}
[ -x "$DELIVER" ] || { echo "deliver-cpu: $DELIVER: run make first" >&2; exit 1; }

out=bench/out/dcpu
rm -rf "$out" && mkdir -p "$out"
rgw_id=${AWS_ACCESS_KEY_ID:-} rgw_key=${AWS_SECRET_ACCESS_KEY:-}
. bench/lib-s3.sh
s3_server "$out" --crc64 cos
trap 'kill $spid 2>/dev/null' EXIT
ep=http://localhost:$port

# frames SIZE_MB COUNT TAG: COUNT object frames of SIZE_MB random bytes
frames() {
	head -c $(($1 << 20)) /dev/urandom >"$out/body"
	n=0
	while [ $n -lt "$2" ]; do
		n=$((n + 1))
		printf 'O %d key=%s/%d.bin n=1 seqs=%d\n' $(($1 << 20)) "$3" $n $n
		cat "$out/body"
		printf '\n'
	done
	rm -f "$out/body"
}
[ "$mb" -ge 64 ] && [ $((mb % 64)) -eq 0 ] ||
    { echo "deliver-cpu: -m takes a multiple of 64" >&2; exit 2; }
frames 32 $((mb / 32)) put >"$out/put.frames"
frames 64 $((mb / 64)) mp >"$out/mp.frames"

nput=$((mb / 32)) nmp=$((mb / 64))

# cpu FRAMES DELIVER-ARGS...: best CPU s/GB of deliver over RUNS runs
cpu() {
	f=$1
	shift
	n=$([ "$f" = put ] && echo $nput || echo $nmp)
	bytes=$((mb << 20))
	best=
	i=0
	while [ $i -lt "$runs" ]; do
		i=$((i + 1))
		rm -rf "$out/lake"
		/usr/bin/time -f "%U %S" -o "$out/time" "$DELIVER" -q \
		    --multipart-threshold 48M --part-size 8M \
		    ${maxmem:+--max-memory "$maxmem"} "$@" \
		    <"$out/$f.frames" >"$out/acks"
		[ "$(grep -c '^A ' "$out/acks")" -eq "$n" ] ||
		    { echo "deliver-cpu: not every object acked" >&2; exit 1; }
		# "total user" in s/GB; the best run is the one of least total
		s=$(awk -v b="$bytes" '{ g = b / 1073741824
		    printf "%.2f %.2f", ($1 + $2) / g, $1 / g }' "$out/time")
		best=$(printf '%s\n%s\n' "${best:-$s}" "$s" | sort -n | head -1)
	done
	printf '%-6s %-22s %6s CPU s/GB (user %s)\n' "$dest" "$what" \
	    ${best% *} ${best#* }
}

echo "deliver CPU per GB stored ($mb MB, best of $runs${maxmem:+, --max-memory $maxmem})"
for dest in "$@"; do
	for f in put mp; do
		what=$([ $f = put ] && echo "one PUT, 32 MB" ||
		    echo "multipart, 64 MB/8 MB")
		case $dest in
		file) cpu $f "file://$PWD/$out/lake/" ;;
		cos) cpu $f --endpoint "$ep" \
		    "cos://bench-1250000000/$f/?region=ap-guangzhou" ;;
		s3) cpu $f --endpoint "$ep" \
		    "s3://bench-1250000000/$f/?region=us-east-1" ;;
		rgw) AWS_ACCESS_KEY_ID=$rgw_id AWS_SECRET_ACCESS_KEY=$rgw_key \
		    cpu $f --endpoint "$RGW_ENDPOINT" --path-style \
		    "s3://lake/$f/?region=us-east-1" ;;
		*) echo "deliver-cpu: unknown destination $dest" >&2; exit 2 ;;
		esac
	done
done
