#!/bin/sh
# setup.sh [--tests]: install what lakepipe needs to build (and, with
# --tests, to run its tests and benchmark) on Debian 12.  Safe to run
# again: it installs only what is missing.  As root it runs apt-get and
# npm itself; otherwise it prints the exact command to run and fails.
set -eu
cd "$(dirname "$0")"

build_pkgs="gcc make pkg-config libc6-dev libbsd-dev libcurl4-openssl-dev
libssl-dev zlib1g-dev libisal-dev libzstd-dev liblz4-dev libsnappy-dev
ca-certificates"
test_pkgs="nodejs npm python3 python3-lz4 python3-snappy python3-zstandard
openssl curl isal zstd gzip time procps bc"
# A real S3 server for tests/t6400 (tests/lib-rgw.sh): Ceph's RADOS Gateway
# on a throw-away one-node cluster (62 packages, 67 MB; no daemon runs
# until a test starts one)
test_pkgs="$test_pkgs ceph-mon ceph-osd radosgw ceph-common"

want=$build_pkgs
[ "${1:-}" = "--tests" ] && want="$build_pkgs $test_pkgs"

missing=
for p in $want; do
	# node may come from elsewhere than Debian's package (a newer build)
	case $p in
	nodejs) command -v node >/dev/null 2>&1 && continue ;;
	npm) command -v npm >/dev/null 2>&1 && continue ;;
	esac
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null |
	    grep -q 'install ok installed' || missing="$missing $p"
done

if [ -n "$missing" ]; then
	cmd="apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends$missing"
	if [ "$(id -u)" -ne 0 ]; then
		echo "setup.sh: missing packages; run as root:" >&2
		echo "  $cmd" >&2
		exit 1
	fi
	echo "setup.sh: installing$missing" >&2
	sh -c "$cmd" >&2
fi

if [ "${1:-}" = "--tests" ]; then
	# The test peers (Pulsar test broker, S3/COS test server, DuckDB).
	# A node_modules that is a symlink (a worktree sharing another's) is
	# left alone: npm ci would empty the directory it points to.
	if [ -L tests/peers/node_modules ]; then
		:
	elif [ ! -d tests/peers/node_modules ] ||
	    [ tests/peers/package-lock.json -nt tests/peers/node_modules ]; then
		echo "setup.sh: installing the test peers' npm packages" >&2
		(cd tests/peers && npm ci --no-audit --no-fund >&2 &&
		    touch node_modules)
	fi
fi
