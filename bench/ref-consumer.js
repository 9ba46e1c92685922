#!/usr/bin/env node
// bench/ref-consumer.js HOST:PORT TOPIC SUBSCRIPTION MESSAGES BATCH [QUEUE]
//
// The reference consumer of bench/bench-consume.sh: the least a Pulsar
// consumer can do.  It sends CONNECT, SUBSCRIBE (Exclusive, earliest) and
// FLOW (QUEUE permits, default 1000, topped up by half a queue as consume
// does), then reads the socket and splits it into frames by their 4-byte
// size prefix only: no protobuf, no checksum, no decompression, no output,
// no acks.  A frame larger than 256 bytes is a MESSAGE entry of BATCH
// messages (the broker's blast mode sends batches of one size); smaller
// ones (CONNECTED, SUCCESS, PING) are skipped.  It exits once MESSAGES
// messages have come, printing "MESSAGES SECONDS" (from the first byte
// written to the last message read) on stdout.
'use strict';
const net = require('net');
const path = require('path');
const codec = require(path.join(__dirname, '../tests/peers/pulsar/lib/codec.js'));

const [addr, topic, sub, total, batch, queueArg] = process.argv.slice(2);
if (!batch) {
	console.error('usage: ref-consumer.js HOST:PORT TOPIC SUBSCRIPTION MESSAGES BATCH [QUEUE]');
	process.exit(2);
}
const [host, port] = addr.split(':');
const want = Number(total), perEntry = Number(batch);
const queue = Number(queueArg || 1000);
const cmd = (type, body) => codec.simpleFrame(codec.encodeCommand(type, body));
const flow = (n) => cmd('FLOW', { consumer_id: 1, messagePermits: n });

const t0 = process.hrtime.bigint();
const s = net.connect({ host, port: Number(port) }, () => {
	s.setNoDelay(true);
	s.write(Buffer.concat([
		cmd('CONNECT', { client_version: 'lakepipe-ref-consumer', protocol_version: 19 }),
		cmd('SUBSCRIBE', { topic, subscription: sub, subType: 0, consumer_id: 1,
		    request_id: 1, initialPosition: 1 }),
		flow(queue),
	]));
});

let got = 0, sinceFlow = 0;
let pend = null;	// bytes of an incomplete size prefix
let skip = 0;		// bytes of the current frame still to come
s.on('data', (b) => {
	let i = 0;
	if (pend) {
		b = Buffer.concat([pend, b]);
		pend = null;
	}
	while (i < b.length) {
		if (skip > 0) {
			const n = Math.min(skip, b.length - i);
			skip -= n;
			i += n;
			continue;
		}
		if (b.length - i < 4) {
			pend = b.subarray(i);
			break;
		}
		const size = b.readUInt32BE(i);
		i += 4;
		skip = size;
		if (size > 256) {
			got += perEntry;
			sinceFlow += perEntry;
		}
	}
	if (got >= want) {
		const secs = Number(process.hrtime.bigint() - t0) / 1e9;
		console.log(`${got} ${secs.toFixed(3)}`);
		s.destroy();
		return;
	}
	if (sinceFlow >= queue / 2) {
		s.write(flow(sinceFlow));
		sinceFlow = 0;
	}
});
s.on('error', (e) => { console.error('ref-consumer: ' + e.message); process.exit(1); });
s.on('close', () => {
	if (got < want) {
		console.error(`ref-consumer: connection closed after ${got} messages`);
		process.exit(1);
	}
});
