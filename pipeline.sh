#!/usr/bin/env bash
# pipeline.sh, installed as lakepipe: run consume | transform | deliver
# with an ack FIFO, so that consume acknowledges a message only after
# deliver stored its object; and run backup rules (lakepipe-rule(5)).
#
#   pipeline.sh CONSUME-ARGS... -- [TRANSFORM-ARGS... --] DELIVER-ARGS...
#   lakepipe check|run|test|status|logs|stop|delete RULE
#
# See lakepipe(1) (doc/lakepipe.1) for the whole story.  Exit status: 0
# success, 1 failure (named on stderr), 2 usage error or malformed setting
# (status: 3 when the rule is not running).  SIGINT or SIGTERM stops
# cleanly: consume stops reading, what is in flight is transformed,
# delivered and acked, then everything exits 0; a second signal stops at
# once.
set -u
prog=${0##*/}
here=$(cd "$(dirname "$0")" && pwd)

# Bounds, in seconds, of what the subcommands wait for (lakepipe(1)).
PROBE_LIMIT=60		# one program's --probe (it bounds each check itself)
LIST_EVERY=1		# lakepipe test: the store is listed this often
DEFAULT_MAX_AGE=60	# transform's default --max-age, see transform(1)

# Its parts, one file a job (lib/lakepipe/*.sh): in a build tree beside
# it, installed in PREFIX/lib/lakepipe beside PREFIX/bin.
lib=$here/lib/lakepipe
[ -r "$lib/pipe.sh" ] || lib=$here/../lib/lakepipe
if [ ! -r "$lib/pipe.sh" ]; then
	echo "$prog: cannot find its parts (lib/lakepipe/*.sh beside $0, or" \
	    "../lib/lakepipe: run make install again)" >&2
	exit 1
fi
for part in log pipe rule check state run manage test; do
	# shellcheck source=/dev/null
	. "$lib/$part.sh" || exit 1
done
unset lib part

usage() {
	[ "${1:-2}" -eq 0 ] || exec >&2
	cat <<EOT
usage: $prog CONSUME-ARGS... -- [TRANSFORM-ARGS... --] DELIVER-ARGS...
       $prog check|run|test|status|stop RULE
       $prog logs RULE [-f] [-n LINES]
       $prog delete RULE [--unsubscribe]
       $prog audit [DELIVER-OPTIONS] DESTINATION | RULE

The first form runs consume | transform | deliver with an ack FIFO from
deliver back to consume.  Arguments are split into groups by '--': the
first group goes to consume, the last to deliver, and a middle one (if
any) to transform.

The others work on a rule, a file of "key = value" lines whose keys are
the programs' long options plus "destination" (lakepipe-rule(5)):
  check RULE     validate every setting, then reach the broker and the store
  run RULE       run it in the foreground (log and state in the state directory)
  test RULE      publish a probe message, wait until an object holding it is stored
  status RULE    running or not, totals, last object, lag, backlog, last error
  logs RULE      the rule's log; -f follows it
  stop RULE      orderly stop of the running rule, waiting for the flush
  delete RULE    stop, remove its state; --unsubscribe also removes the subscription
  audit DEST     check the lake against its index: gaps, overlaps, missing and
                 damaged objects (exit 1 on any); a RULE's destination

examples:
  $prog --lines sample/messages.jsonl -- file://\$PWD/lake/
  $prog --url pulsar://10.0.0.8:6650 --topic pulsar-xxx/ns/orders \\
      --subscription lake --token-file ~/.pulsar-token -- \\
      --format jsonl --max-age 60 -- 'cos://lake-1250000000/orders/?region=ap-guangzhou'
  $prog check /etc/lakepipe/orders.conf
EOT
	exit "${1:-2}"
}

# ---- main -------------------------------------------------------------------

case ${1:-} in
-h|--help) usage 0 ;;
"") usage_error "no arguments" ;;
check|run|test|status|stop)
	[ $# -eq 2 ] || usage_error "$1 takes one argument: the rule file"
	"$1_main" "$2" ;;
logs|delete|audit)
	[ $# -ge 2 ] || usage_error "$1 takes the rule file"
	cmd=$1
	shift
	"${cmd}_main" "$@" ;;
*) pipeline_main "$@" ;;
esac
