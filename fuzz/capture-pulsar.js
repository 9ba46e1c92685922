#!/usr/bin/env node
// fuzz/capture-pulsar.js DIR: what the repo's Pulsar test broker
// (tests/peers/pulsar/broker.js) sends a consumer, captured as raw bytes,
// one file per topic in DIR: CONNECTED, SUCCESS, then the MESSAGE frames
// of what was published (plain messages with key, properties, event time
// and null values; batches with compacted-out messages in every codec;
// chunked messages, interleaved and with a duplicate chunk; broker entry
// metadata; a partly acknowledged batch redelivered with its ack_set).
// These are the seeds of fuzz-pulsar: real frames of an independent peer.
'use strict';
const fs = require('fs');
const net = require('net');
const path = require('path');
const http = require('http');
const { spawn } = require('child_process');
const peers = path.join(__dirname, '..', 'tests', 'peers');
module.paths.unshift(path.join(peers, 'node_modules'));
const codec = require(path.join(peers, 'pulsar', 'lib', 'codec'));

const dir = process.argv[2];
if (!dir) { console.error('usage: capture-pulsar.js DIR'); process.exit(2); }
fs.mkdirSync(dir, { recursive: true });

function ctl(info, route, body) {
  return new Promise((resolve, reject) => {
    const data = Buffer.from(JSON.stringify(body || {}));
    const req = http.request(info.control + route, { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': data.length } }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => (res.statusCode === 200 ? resolve(JSON.parse(Buffer.concat(chunks))) : reject(new Error(route + ': ' + Buffer.concat(chunks)))));
    });
    req.on('error', reject);
    req.end(data);
  });
}

// One raw consumer connection: every frame it receives, as sent.
class Raw {
  constructor(port, version) {
    this.port = port; this.version = version; this.buf = Buffer.alloc(0);
    this.frames = []; this.waiters = [];
  }
  connect() {
    return new Promise((resolve, reject) => {
      this.s = net.connect(this.port, '127.0.0.1', resolve);
      this.s.on('error', reject);
      this.s.on('data', (d) => {
        this.buf = Buffer.concat([this.buf, d]);
        while (this.buf.length >= 4 && this.buf.length >= 4 + this.buf.readUInt32BE(0)) {
          const n = 4 + this.buf.readUInt32BE(0);
          const raw = this.buf.subarray(0, n);
          this.buf = this.buf.subarray(n);
          const f = codec.decodeFrame(raw.subarray(4));
          if (f.type === 'PING') { this.send('PONG', {}); continue; }
          this.frames.push({ raw: Buffer.from(raw), f });
        }
        this.waiters.splice(0).forEach((w) => w());
      });
    });
  }
  send(type, body) { this.s.write(codec.simpleFrame(codec.encodeCommand(type, body))); }
  async until(pred, ms = 5000) {
    const end = Date.now() + ms;
    while (!pred(this.frames) && Date.now() < end)
      await new Promise((r) => { this.waiters.push(r); setTimeout(r, 50); });
    return this.frames;
  }
}

const nmsg = (type) => (fr) => fr.filter((x) => x.f.type === type).length;

async function capture(info, name, publish, opts = {}) {
  const topic = `persistent://fuzz/ns/${name}`;
  const version = `capture-${name}`;
  if (opts.faults) await ctl(info, '/faults', { clientVersion: version, ...opts.faults });
  let entries = 0;
  for (const p of publish) {
    const r = await ctl(info, '/publish', { topic, ...p });
    entries += new Set(r.ids.map((i) => `${i.ledgerId}:${i.entryId}`)).size;
    for (const i of r.ids) if (i.chunks) entries += i.chunks.length - 1 + (i.duplicates || 0);
  }
  const c = new Raw(info.port, version);
  await c.connect();
  c.send('CONNECT', { client_version: version, protocol_version: 19, feature_flags: { supports_broker_entry_metadata: true } });
  await c.until(nmsg('CONNECTED'));
  c.send('SUBSCRIBE', { topic, subscription: 'fuzz', subType: 0, consumer_id: 1, request_id: 1, initialPosition: 1 });
  await c.until(nmsg('SUCCESS'));
  c.send('FLOW', { consumer_id: 1, messagePermits: 1000 });
  await c.until((fr) => nmsg('MESSAGE')(fr) >= entries, 3000);
  if (opts.partlyAck) {
    // ack batch indexes 0 and 2 of the first entry, then ask again: it
    // comes back with the ack_set of the indexes still unacked
    const m = c.frames.find((x) => x.f.type === 'MESSAGE').f.body.message_id;
    c.send('ACK', { consumer_id: 1, ack_type: 0, message_id: [{ ledgerId: m.ledgerId, entryId: m.entryId, batch_index: 0, ack_set: [codec.Long.fromNumber(0b11010)], batch_size: 5 }] });
    c.send('ACK', { consumer_id: 1, ack_type: 0, message_id: [{ ledgerId: m.ledgerId, entryId: m.entryId, batch_index: 2, ack_set: [codec.Long.fromNumber(0b11010)], batch_size: 5 }] });
    await new Promise((r) => setTimeout(r, 200));
    c.send('REDELIVER_UNACKNOWLEDGED_MESSAGES', { consumer_id: 1 });
    await c.until((fr) => nmsg('MESSAGE')(fr) >= entries + 1, 3000);
  }
  c.s.destroy();
  const raw = Buffer.concat(c.frames.map((x) => x.raw));
  fs.writeFileSync(path.join(dir, name + '.frames'), raw);
  console.log(`${name}: ${c.frames.length} frames, ${raw.length} bytes`);
}

async function main() {
  const b = spawn(process.execPath, [path.join(peers, 'pulsar', 'broker.js'), '--brokers', '1', '--timeout', '120'], { stdio: ['ignore', 'pipe', 'ignore'] });
  const info = await new Promise((resolve) => {
    let s = '';
    b.stdout.on('data', (d) => { s += d; if (s.includes('\n')) resolve(JSON.parse(s.split('\n')[0])); });
  });
  const batch = [
    { payload: 'alpha alpha alpha alpha', key: 'ka', properties: { p: '1', 'a b': 'x=y' } },
    { payload: 'dropped', compactedOut: true },
    { payload: 'gamma', eventTime: 1700000000000 },
    { value: null, key: 'tombstone' },
  ];
  try {
    await capture(info, 'plain', [
      { messages: [{ payload: '{"order_id":"o-1","amount_cents":12}', key: 'k1', properties: { src: 'app 1' }, eventTime: 1764201600000 },
        { payloadHex: 'fffe0001' }, { value: null, key: 'gone' }] }]);
    for (const codecName of ['none', 'lz4', 'zlib', 'zlib-nomarker', 'zstd', 'snappy'])
      await capture(info, `batch-${codecName}`, [{ messages: batch, batchSize: 4, codec: codecName }]);
    await capture(info, 'solo-zstd', [{ payload: 'solo solo solo solo solo', codec: 'zstd' }]);
    await capture(info, 'chunked', [{ payload: 'chunk-me ', repeat: 12, chunkSize: 40 }]);
    await capture(info, 'chunked-lz4', [{ payloadBase64: require('crypto').randomBytes(90).toString('base64'), chunkSize: 30, codec: 'lz4' }]);
    await capture(info, 'chunked-interleaved', [{ messages: [{ payload: 'x'.repeat(70) }, { payload: 'y'.repeat(50) }], chunkSize: 30, interleaveChunks: true, duplicateChunk: 1 }]);
    await capture(info, 'broker-entry', [{ messages: batch.slice(0, 2), batchSize: 2 }], { faults: { brokerEntryMetadata: true } });
    await capture(info, 'batch-acked', [{ messages: ['a', 'b', 'c', 'd', 'e'].map((p) => ({ payload: p })), batchSize: 5 }], { partlyAck: true });
  } finally {
    b.kill();
  }
}
main().catch((e) => { console.error(e); process.exit(1); });
