#!/bin/sh
# The Pulsar-protocol test broker (tests/peers/pulsar): its self test
# against pulsar-flex (a third-party client and codec), its start-up line,
# the control CLI, HTTP lookup with a bearer token, TLS, and clean exits.
. "$(dirname "$0")/test-lib.sh"

PB=$PEERS/pulsar
TOKEN=t5000-token

test_expect_success 'self test: pulsar-flex produces/consumes, codec cross-check, raw checks' '
	test_timeout 170 node "$PB/selftest.js" >selftest.out 2>&1 ||
	{ cat selftest.out; false; } &&
	grep -q "selftest: [0-9]* passed, 0 failed" selftest.out
'

test_expect_success 'TLS certificate made with the openssl CLI' '
	openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost \
		-addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
		-keyout key.pem -out cert.pem 2>openssl.err &&
	test -s key.pem && test -s cert.pem
'

test_expect_success 'broker starts on loopback and prints one JSON line' '
	test_start_server pb.json node "$PB/broker.js" --token $TOKEN --brokers 2 \
		--tls-cert cert.pem --tls-key key.pem --timeout 120 &&
	test $(wc -l <pb.json.stdout) -eq 1 &&
	port=$(json_get pb.json port) && test "$port" -gt 0 &&
	json_get pb.json serviceUrl | grep -q "^pulsar://127\.0\.0\.1:" &&
	json_get pb.json serviceUrlTls | grep -q "^pulsar+ssl://127\.0\.0\.1:" &&
	json_get pb.json control | grep -q "^http://127\.0\.0\.1:" &&
	test "$(json_get pb.json brokers.1.index)" = 1
'

test_expect_success 'control CLI: create, publish, read subscription state' '
	ctl=$(json_get pb.json controlPort) &&
	node "$PB/ctl.js" $ctl topics topic=persistent://lake/ns/orders partitions=2 >t.json &&
	grep -q "\"partitions\":2" t.json &&
	node "$PB/ctl.js" $ctl subscriptions topic=lake/ns/orders subscription=backup position=earliest >s.json &&
	node "$PB/ctl.js" $ctl publish topic=lake/ns/orders payload="order {i}" count=10 batchSize=3 codec=zstd key="k{i}" >p.json &&
	grep -q "\"count\":10" p.json &&
	node "$PB/ctl.js" $ctl subscription topic=lake/ns/orders subscription=backup >s.json &&
	grep -q "\"backlog\":10" s.json &&
	curl -sf "http://127.0.0.1:$ctl/topic?topic=lake/ns/orders" >st.json &&
	grep -q "\"partitions\":2" st.json &&
	test_must_fail node "$PB/ctl.js" $ctl publish topic=lake/ns/orders codec=nope 2>/dev/null
'

test_expect_success 'HTTP lookup and partitions need the bearer token' '
	http=$(json_get pb.json httpUrl) &&
	curl -sf -H "Authorization: Bearer $TOKEN" "$http/admin/v2/persistent/lake/ns/orders/partitions" >parts.json &&
	grep -q "\"partitions\":2" parts.json &&
	curl -sf -H "Authorization: Bearer $TOKEN" "$http/lookup/v2/topic/persistent/lake/ns/orders-partition-1" >lk.json &&
	grep -q "\"brokerUrl\":\"$(json_get pb.json brokers.1.serviceUrl)\"" lk.json &&
	code=$(curl -s -o /dev/null -w "%{http_code}" "$http/admin/v2/persistent/lake/ns/orders/partitions") &&
	test "$code" = 401
'

test_expect_success 'TLS listener: handshake with the certificate, CONNECT/CONNECTED over TLS' '
	tlsport=$(json_get pb.json tlsPort) &&
	echo | test_timeout 10 openssl s_client -connect 127.0.0.1:$tlsport -CAfile cert.pem \
		-verify_return_error >sclient.out 2>&1 &&
	grep -q "Verify return code: 0" sclient.out &&
	test_timeout 10 node -e "
		const tls = require(\"tls\"), fs = require(\"fs\");
		const c = require(process.argv[1] + \"/lib/codec\");
		const s = tls.connect({ host: \"127.0.0.1\", port: +process.argv[2], ca: fs.readFileSync(\"cert.pem\") }, () => {
			s.write(c.simpleFrame(c.encodeCommand(\"CONNECT\", { client_version: \"t5000\", protocol_version: 19,
				auth_method_name: \"token\", auth_data: Buffer.from(process.argv[3]) })));
		});
		const sp = new c.FrameSplitter();
		s.on(\"data\", (d) => { for (const f of sp.push(d)) { const x = c.decodeFrame(f);
			if (x.type !== \"CONNECTED\") { console.error(x.type); process.exit(1); } process.exit(0); } });
	" "$PB" $tlsport $TOKEN
'

test_expect_success 'control CLI: faults set, scoped, reset; events and connections' '
	node "$PB/ctl.js" --info pb.json faults "{\"dropAfterMessages\":3,\"clientVersion\":\"lakepipe\",\"silence\":{\"LOOKUP\":1}}" >f.json &&
	grep -q "\"dropAfterMessages\":3" f.json &&
	grep -q "\"LOOKUP\":1" f.json &&
	node "$PB/ctl.js" --info pb.json faults errors.SUBSCRIBE.error=ConsumerBusy errors.SUBSCRIBE.count=2 >f.json &&
	grep -q "\"ConsumerBusy\",\"count\":2" f.json &&
	node "$PB/ctl.js" --info pb.json faults/reset >f.json &&
	grep -q "\"dropAfterMessages\":0" f.json &&
	grep -q "\"errors\":{}" f.json &&
	node "$PB/ctl.js" --info pb.json events type=CONNECT >ev.json &&
	grep -q "\"client_version\":\"t5000\"" ev.json &&
	! grep -q $TOKEN ev.json &&
	node "$PB/ctl.js" --info pb.json connections >c.json &&
	grep -q "\"connections\":" c.json
'

test_expect_success 'broker exits on SIGTERM' '
	pid=$(json_get pb.json pid) &&
	kill -TERM "$pid" &&
	i=0 && while kill -0 "$pid" 2>/dev/null && test $i -lt 50; do sleep 0.1; i=$((i+1)); done &&
	! kill -0 "$pid" 2>/dev/null
'

test_expect_success 'broker exits by itself after --timeout' '
	test_start_server pb2.json node "$PB/broker.js" --timeout 1 &&
	pid=$(json_get pb2.json pid) &&
	sleep 3 &&
	! kill -0 "$pid" 2>/dev/null
'

test_done
