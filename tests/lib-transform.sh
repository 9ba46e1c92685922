# Helpers of the transform format tests (t2010, t2020, t2030).

# q SQL...: DuckDB's rows of the last statement, tab-separated
# (tests/peers/lake-query.js)
q() {
	node "$PEERS/lake-query.js" "$@"
}

# seqs_once FILE N: every seq 1..N is in exactly one of the object frames
# (or ack lines made into "O 0 ..." lines) of FILE
seqs_once() {
	python3 -c '
import sys
seen = []
for line in open(sys.argv[1], "rb"):
    if not line.startswith(b"O "):
        continue
    h = dict(f.split("=", 1) for f in line.decode(errors="replace").split()[2:])
    for r in h["seqs"].split(","):
        a, _, b = r.partition("-")
        seen += range(int(a), int(b or a) + 1)
assert sorted(seen) == list(range(1, int(sys.argv[2]) + 1)), sorted(seen)
' "$1" "$2"
}
