# lib-pulsar.sh: helpers for the tests against the Pulsar test broker
# (tests/peers/pulsar); sourced after test-lib.sh, used once the broker's
# start-up line is in pb.json.

PB=$PEERS/pulsar
# ctl ROUTE [key=value...]: the broker's control API
ctl() { node "$PB/ctl.js" --info pb.json "$@"; }
# sub TOPIC SUB FIELD: a field of the broker's subscription state
sub() { ctl subscription topic="$1" subscription="$2" >sub.json && json_get sub.json "$3"; }
# count FILE: the message frames in FILE
count() { grep -ac "^M [0-9]* seq=" "$1"; }
