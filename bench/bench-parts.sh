#!/bin/sh
# bench/bench-parts.sh [MB]: the peak RSS of transform and deliver
# (/usr/bin/time -f %M, KB) for one object of MB MiB of JSON lines
# (default 1024, bench/make-input.py), in each format, through file://,
# and for the largest (raw, no compression: the object is the input) also
# through the local S3 test server as a multipart upload and with
# --exactly-once (spooled, one PUT).  The stages run one after the other
# on files, so that each is measured alone.  Not a test: it prints a
# table.
set -eu
cd "$(dirname "$0")/.."
mb=${1:-1024}
out=bench/out/parts
rm -rf "$out" && mkdir -p "$out"
. bench/lib-s3.sh

python3 bench/make-input.py "$mb" "$out/in.jsonl"
consume/consume --lines "$out/in.jsonl" >"$out/in.frames" 2>/dev/null
one="--max-messages 100000000 --max-bytes 5G --max-age 0"

# rss NAME CMD...: run CMD with stdin and stdout as given, peak RSS into
# $out/rss.NAME.
rss() {
	_r=$1
	shift
	/usr/bin/time -f %M -o "$out/rss.$_r" "$@"
}

# case NAME TRANSFORM-OPTIONS...: one object through transform and
# deliver file://; prints a table row (the first object: a truncated last
# input line goes to the reject stream).
case_run() {
	_n=$1
	shift
	rss "t.$_n" transform/transform "$@" $one <"$out/in.frames" \
	    >"$out/$_n.frames" 2>/dev/null
	rm -rf "$out/lake"
	rss "d.$_n" deliver/deliver "file://$PWD/$out/lake/" \
	    <"$out/$_n.frames" >"$out/acks" 2>/dev/null
	_size=$(head -n 1 "$out/acks" | sed 's/.* size=\([0-9]*\) .*/\1/')
	printf '| %s | %.1f | %d | %s | %s |\n' "$_n" \
	    "$(echo "$_size" | awk '{ print $1 / 1048576 }')" \
	    "$(grep -a -c '^P [0-9]* key=' "$out/$_n.frames")" \
	    "$(cat "$out/rss.t.$_n")" "$(cat "$out/rss.d.$_n")"
}

echo "one object of $mb MiB of JSON lines; peak RSS in KB"
echo
echo "| format | stored MiB | parts | transform | deliver file:// |"
echo "| --- | ---: | ---: | ---: | ---: |"
case_run raw-none --format raw --compress none
case_run jsonl-gzip --format jsonl --compress gzip
case_run jsonl-zstd --format jsonl --compress zstd
case_run csv-gzip --format csv --fields order_id,user,amount_cents:int64 \
    --compress gzip
case_run parquet-zstd --format parquet \
    --fields order_id,user,city,amount_cents:int64,paid:boolean \
    --parquet-compression zstd
rm -rf "$out/lake"

s3_server "$out"
trap 'kill $spid 2>/dev/null' EXIT
dst="s3://bench-1250000000/p/?region=ap-guangzhou"
ep="--endpoint http://127.0.0.1:$port"
rss s3 deliver/deliver $ep "$dst" <"$out/raw-none.frames" >/dev/null \
    2>/dev/null
rss s3once deliver/deliver $ep --exactly-once "$dst" \
    <"$out/raw-none.frames" >/dev/null 2>/dev/null
echo
echo "| raw-none to s3:// | deliver |"
echo "| --- | ---: |"
echo "| multipart, a part per P frame | $(cat "$out/rss.s3") |"
echo "| --exactly-once, spooled, one PUT | $(cat "$out/rss.s3once") |"
