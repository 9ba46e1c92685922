# bench/lib-s3.sh: the local S3/COS test server (tests/peers/s3) for the
# benchmarks, with its fixed public test credentials; sourced.

export TENCENTCLOUD_SECRET_ID=AKIDLAKEPIPETEST00000000000000000001
export TENCENTCLOUD_SECRET_KEY=LakepipeTestSecretKey000000000001
export AWS_ACCESS_KEY_ID=$TENCENTCLOUD_SECRET_ID
export AWS_SECRET_ACCESS_KEY=$TENCENTCLOUD_SECRET_KEY

# s3_server DIR [ARGS...]: start it in the background with its files in
# DIR; sets spid and port (the caller stops it: kill $spid).
s3_server() {
	dir=$1
	shift
	node tests/peers/s3/server.js --bucket bench-1250000000 --quiet \
	    --timeout 900 --dir "$dir/store" "$@" >"$dir/server.json" \
	    2>"$dir/server.log" &
	spid=$!
	i=0
	until [ -s "$dir/server.json" ]; do
		i=$((i + 1)); [ $i -lt 100 ] || { cat "$dir/server.log"; exit 1; }
		sleep 0.1
	done
	port=$(node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1],"utf8")).port)' "$dir/server.json")
}
