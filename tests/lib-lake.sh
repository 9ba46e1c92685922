# Helpers of the consume --lake tests (t540x): the original messages,
# and the comparison of restored frames with them, by python3 readers
# that share no code with consume.

# The original messages: three partitions of one topic and a topic that
# is not partitioned, interleaved; JSON, string, binary (base64), empty
# and null payloads; keys and properties that need percent-encoding;
# ledgers 9 and 10, so that key order ("10-" < "9-") is not id order.
make_frames() {
	python3 - "$1" <<-\EOF
	import os, random, sys, urllib.parse
	random.seed(5400)
	def val(b):	# a frame value, percent-encoded as lakepipe-frames(5) says
	    return b"".join(b"%%%02X" % c if c <= 0x20 or c == 0x7f or
	        c in b"%=" else bytes([c]) for c in b)
	def name(b):
	    return urllib.parse.quote_from_bytes(b, safe="-_.~").encode()
	payloads = [
	    b'{"amount":12,"who":"\\u00e9 \xc3\xa9"}', b'[1,2,{"a":null}]',
	    b"plain text \t with \"quotes\" and \\ and \xe2\x82\xac",
	    b"", b'{"not json"', b' {"a":1}', b"line\nbreak\r\n",
	    bytes(range(256)), b"\x00", b"\xff\xfe", b"\xed\xa0\x80",
	]
	out = open(sys.argv[1], "wb")
	parts = [("persistent://tn/ns/orders-partition-%d" % p, p) for p in range(3)]
	parts.append(("persistent://public/default/plain", -1))
	entry = {}
	seq = 0
	for i in range(90):
	    topic, p = parts[i % 4] if i % 5 else parts[random.randrange(4)]
	    e = entry.get(p, 0)
	    entry[p] = e + 1
	    ledger = 9 if e < 12 else 10
	    batch = -1 if e % 3 else e % 7
	    seq += 1
	    if i % 13 == 7:
	        body, null = b"", True
	    elif i == 40:
	        body, null = os.urandom(300000), False
	    elif i == 41:
	        body, null = b'{"big":"' + b"x" * 400000 + b'"}', False
	    else:
	        body, null = payloads[i % len(payloads)], False
	    h = b"M %d seq=%d id=%d:%d:%d:%d topic=%s pt=%d" % (len(body), seq,
	        ledger, e, p, batch, val(topic.encode()), 1764201600000 + i * 1000)
	    if i % 4 == 1:
	        h += b" et=%d" % (1764201500000 + i)
	    if i % 3 == 0:
	        h += b" key=" + val(("k %d=%%\t\xe4" % i).encode())
	    if i % 6 == 5:
	        h += b" rc=%d" % (i % 4 + 1)
	    if null:
	        h += b" null=1"
	    if i % 2 == 0:
	        h += b" p." + name(b"src") + b"=" + val(b"app 1")
	        h += b" p." + name(("n\xe4me =%d" % i).encode()) + b"=" + val(b"v=%\n\x01\xc3\xbc")
	    if i % 7 == 0:
	        h += b" p.empty="
	    out.write(h + b"\n" + body + b"\n")
	EOF
}

# same_messages A B: the message frames of B are those of A (all fields
# but seq, decoded; payload bytes), and in each partition in the same
# order; A's seqs are ignored, B's must be 1, 2, ... in the stream.
same_messages() {
	python3 - "$1" "$2" <<-\EOF
	import sys, urllib.parse
	def frames(path):
	    d = open(path, "rb").read()
	    i, out = 0, []
	    while i < len(d):
	        j = d.index(b"\n", i)
	        t = d[i:j].split(b" ")
	        assert t[0] == b"M", d[i:j]
	        ln = int(t[1])
	        f = {}
	        for x in t[2:]:
	            k, v = x.split(b"=", 1)
	            k = urllib.parse.unquote_to_bytes(k)
	            assert k not in f, "field twice: %r" % k
	            f[k] = urllib.parse.unquote_to_bytes(v)
	        body = d[j + 1:j + 1 + ln]
	        assert d[j + 1 + ln:j + 2 + ln] == b"\n"
	        out.append((f, body))
	        i = j + 2 + ln
	    return out
	a, b = frames(sys.argv[1]), frames(sys.argv[2])
	assert [int(f[b"seq"]) for f, _ in b] == list(range(1, len(b) + 1)), "seqs"
	def by_part(ms):
	    r = {}
	    for f, body in ms:
	        f = dict(f)
	        del f[b"seq"]
	        r.setdefault(f[b"topic"], []).append((f, body))
	    return r
	pa, pb = by_part(a), by_part(b)
	assert sorted(pa) == sorted(pb), (sorted(pa), sorted(pb))
	for t in pa:
	    assert len(pa[t]) == len(pb[t]), (t, len(pa[t]), len(pb[t]))
	    for n, (x, y) in enumerate(zip(pa[t], pb[t])):
	        assert x[0] == y[0], (t, n, x[0], y[0])
	        assert x[1] == y[1], (t, n, "payload differs")
	print(len(b))
	EOF
}

# ids_ascending FILE: in each partition of FILE, ids only go up.
ids_ascending() {
	python3 - "$1" <<-\EOF
	import sys, re
	last = {}
	for m in re.finditer(rb"^M \d+ .*? id=(\d+):(\d+):(-?\d+):(-?\d+) ", open(sys.argv[1], "rb").read(), re.M):
	    l, e, p, b = map(int, m.groups())
	    assert last.get(p, (-1, -1, -2)) < (l, e, b), (p, last.get(p), (l, e, b))
	    last[p] = (l, e, b)
	EOF
}

# lake FRAMES DEST [TRANSFORM OPTIONS]: the pipeline stores FRAMES there.
lake() {
	_in=$1 _dest=$2
	shift 2
	test_timeout 60 consume --frames "$_in" 2>c.err |
	transform --max-messages 7 "$@" 2>t.err | tee objs.frames |
	test_timeout 60 deliver "$_dest" >acks 2>d.err &&
	test -s acks
}

# restores_all DIR OUT: consume --lake file://$TRASH/DIR/ writes every
# message of in.frames to OUT, oldest first per partition, warning of
# nothing.
restores_all() {
	test_timeout 60 consume --lake "file://$TRASH/$1/" >"$2" 2>err &&
	test "$(same_messages in.frames "$2")" = 90 &&
	ids_ascending "$2" &&
	! grep -v "level=info\|level=debug" err
}
