#!/usr/bin/env node
'use strict';
// Self-test of the Pulsar test broker against a third-party client:
// pulsar-flex (npm) produces and consumes through the broker, and its
// generated protocol codec (google-protobuf) decodes what our own codec
// (protobufjs + pulsar-subset.proto) encodes. A small raw client that decodes
// with pulsar-flex's codec checks what pulsar-flex cannot (compression,
// chunks, partitions, lookups, faults). Exits non-zero on any mismatch.
//   node tests/peers/pulsar/selftest.js [--verbose]

const path = require('path');
const net = require('net');
const http = require('http');
const zlib = require('zlib');
const { spawn, execFileSync } = require('child_process');
const { Producer, Consumer, logLevel } = require('pulsar-flex');
const pb = require('pulsar-flex/src/commands/protocol/pulsar/pulsar_pb');
const flexSerde = require('pulsar-flex/src/client/serde');
const { CRC } = require('crc-full');
const codec = require('./lib/codec');

const VERBOSE = process.argv.includes('--verbose');
const TOKEN = 'selftest-token-123';
const crcFull = new CRC('CRC32_C', 32, 0x1edc6f41, 0xffffffff, 0xffffffff, true, true);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

let failures = 0;
let passes = 0;
function check(cond, what, detail) {
  if (cond) { passes++; if (VERBOSE) console.log(`ok   ${what}`); } else { failures++; console.log(`FAIL ${what}${detail !== undefined ? ': ' + JSON.stringify(detail) : ''}`); }
}
function eq(a, b, what) { check(JSON.stringify(a) === JSON.stringify(b), what, { got: a, want: b }); }

// ------------------------------------------------------------- codec cross-check
function decodeWithFlex(cmdBytes) {
  const o = pb.BaseCommand.deserializeBinary(cmdBytes).toObject();
  const key = Object.keys(o).find((k) => k !== 'type' && o[k] !== undefined);
  return { type: o.type, body: o[key] };
}

function codecCrossCheck() {
  const T = pb.BaseCommand.Type;
  const cases = [
    ['CONNECT', { client_version: 'x', auth_method_name: 'token', auth_data: Buffer.from('tok'), protocol_version: 19, proxy_to_broker_url: 'pulsar://h:1', feature_flags: { supports_broker_entry_metadata: true } },
      (b) => b.clientVersion === 'x' && b.authMethodName === 'token' && Buffer.from(b.authData, 'base64').toString() === 'tok' && b.protocolVersion === 19 && b.proxyToBrokerUrl === 'pulsar://h:1' && b.featureFlags.supportsBrokerEntryMetadata === true],
    ['CONNECTED', { server_version: 's', protocol_version: 19, max_message_size: 5242880 }, (b) => b.serverVersion === 's' && b.protocolVersion === 19 && b.maxMessageSize === 5242880],
    ['SUBSCRIBE', { topic: 't', subscription: 's', subType: 3, consumer_id: 7, request_id: 9, consumer_name: 'n', durable: false, initialPosition: 1, start_message_id: { ledgerId: 5, entryId: 6 }, keySharedMeta: { keySharedMode: 1, hashRanges: [{ start: 0, end: 100 }] } },
      (b) => b.topic === 't' && b.subscription === 's' && b.subtype === 3 && b.consumerId === 7 && b.requestId === 9 && b.durable === false && b.initialposition === 1 && b.startMessageId.ledgerid === 5 && b.startMessageId.entryid === 6 && b.keysharedmeta.keysharedmode === 1 && b.keysharedmeta.hashrangesList[0].end === 100],
    ['LOOKUP', { topic: 't', request_id: 3, authoritative: true }, (b) => b.topic === 't' && b.requestId === 3 && b.authoritative === true],
    ['LOOKUP_RESPONSE', { brokerServiceUrl: 'pulsar://a:1', brokerServiceUrlTls: 'pulsar+ssl://a:2', response: 0, request_id: 4, authoritative: true, error: 6, message: 'm', proxy_through_service_url: true },
      (b) => b.brokerserviceurl === 'pulsar://a:1' && b.brokerserviceurltls === 'pulsar+ssl://a:2' && b.response === 0 && b.requestId === 4 && b.authoritative && b.error === 6 && b.message === 'm' && b.proxyThroughServiceUrl === true],
    ['PARTITIONED_METADATA', { topic: 't', request_id: 8 }, (b) => b.topic === 't' && b.requestId === 8],
    ['PARTITIONED_METADATA_RESPONSE', { partitions: 3, request_id: 8, response: 0 }, (b) => b.partitions === 3 && b.requestId === 8 && b.response === 0],
    ['FLOW', { consumer_id: 2, messagePermits: 1000 }, (b) => b.consumerId === 2 && b.messagepermits === 1000],
    ['MESSAGE', { consumer_id: 2, message_id: { ledgerId: 10, entryId: 11, partition: -1 }, redelivery_count: 3, ack_set: [codec.Long.fromNumber(5)] },
      (b) => b.consumerId === 2 && b.messageId.ledgerid === 10 && b.messageId.entryid === 11 && b.messageId.partition === -1 && b.redeliveryCount === 3 && b.ackSetList[0] === 5],
    ['ACK', { consumer_id: 2, ack_type: 1, message_id: [{ ledgerId: 1, entryId: 2, batch_index: 3, ack_set: [codec.Long.fromNumber(6)], batch_size: 4 }, { ledgerId: 1, entryId: 3 }], request_id: 77 },
      (b) => b.consumerId === 2 && b.ackType === 1 && b.messageIdList.length === 2 && b.messageIdList[0].batchIndex === 3 && b.messageIdList[0].ackSetList[0] === 6 && b.messageIdList[0].batchSize === 4 && b.messageIdList[1].entryid === 3 && b.requestId === 77],
    ['ACK_RESPONSE', { consumer_id: 2, request_id: 77, error: 22, message: 'no' }, (b) => b.consumerId === 2 && b.requestId === 77 && b.error === 22],
    ['REDELIVER_UNACKNOWLEDGED_MESSAGES', { consumer_id: 2, message_ids: [{ ledgerId: 1, entryId: 2 }] }, (b) => b.consumerId === 2 && b.messageIdsList[0].entryid === 2],
    ['SEEK', { consumer_id: 2, request_id: 5, message_publish_time: 1700000000000 }, (b) => b.consumerId === 2 && b.requestId === 5 && b.messagePublishTime === 1700000000000],
    ['SEEK', { consumer_id: 2, request_id: 5, message_id: { ledgerId: 9, entryId: 8 } }, (b) => b.messageId.ledgerid === 9 && b.messageId.entryid === 8],
    ['GET_LAST_MESSAGE_ID', { consumer_id: 2, request_id: 6 }, (b) => b.consumerId === 2 && b.requestId === 6],
    ['GET_LAST_MESSAGE_ID_RESPONSE', { request_id: 6, last_message_id: { ledgerId: 1, entryId: 2, batch_index: 9 }, consumer_mark_delete_position: { ledgerId: 1, entryId: 1 } },
      (b) => b.requestId === 6 && b.lastMessageId.entryid === 2 && b.lastMessageId.batchIndex === 9 && b.consumerMarkDeletePosition.entryid === 1],
    ['CLOSE_CONSUMER', { consumer_id: 2, request_id: 1 }, (b) => b.consumerId === 2 && b.requestId === 1],
    ['SUCCESS', { request_id: 12 }, (b) => b.requestId === 12],
    ['ERROR', { request_id: 12, error: 5, message: 'busy' }, (b) => b.requestId === 12 && b.error === 5 && b.message === 'busy'],
    ['PRODUCER', { topic: 't', producer_id: 1, request_id: 2, producer_name: 'p' }, (b) => b.topic === 't' && b.producerId === 1 && b.requestId === 2 && b.producerName === 'p'],
    ['PRODUCER_SUCCESS', { request_id: 2, producer_name: 'p', last_sequence_id: -1 }, (b) => b.requestId === 2 && b.producerName === 'p' && b.lastSequenceId === -1],
    ['SEND', { producer_id: 1, sequence_id: 4, num_messages: 3 }, (b) => b.producerId === 1 && b.sequenceId === 4 && b.numMessages === 3],
    ['SEND_RECEIPT', { producer_id: 1, sequence_id: 4, message_id: { ledgerId: 3, entryId: 4 } }, (b) => b.producerId === 1 && b.sequenceId === 4 && b.messageId.entryid === 4],
    ['SEND_ERROR', { producer_id: 1, sequence_id: 4, error: 9, message: 'crc' }, (b) => b.error === 9],
    ['AUTH_CHALLENGE', { server_version: 's', challenge: { auth_method_name: 'token', auth_data: Buffer.from('refresh') }, protocol_version: 19 },
      (b) => b.challenge.authMethodName === 'token' && Buffer.from(b.challenge.authData, 'base64').toString() === 'refresh'],
    ['AUTH_RESPONSE', { client_version: 'c', response: { auth_method_name: 'token', auth_data: Buffer.from('t') }, protocol_version: 19 }, (b) => b.response.authMethodName === 'token' && b.protocolVersion === 19],
    ['ACTIVE_CONSUMER_CHANGE', { consumer_id: 4, is_active: true }, (b) => b.consumerId === 4 && b.isActive === true],
    ['PING', {}, (b) => b !== undefined],
    ['PONG', {}, (b) => b !== undefined],
  ];
  for (const [type, body, ok] of cases) {
    const bytes = codec.encodeCommand(type, body);
    let d;
    try { d = decodeWithFlex(bytes); } catch (e) { check(false, `codec: pulsar-flex decodes our ${type}`, e.message); continue; }
    check(d.type === T[type], `codec: type number of ${type}`, { got: d.type, want: T[type] });
    let good = false;
    try { good = ok(d.body); } catch (e) { good = false; }
    check(good, `codec: pulsar-flex reads our ${type} fields`, d.body);
    // and with unknown fields appended, still decodable
    const withUnknown = codec.encodeCommand(type, body, { unknownFields: true });
    try { check(ok(decodeWithFlex(withUnknown).body), `codec: ${type} with unknown fields`); } catch (e) { check(false, `codec: ${type} with unknown fields`, e.message); }
  }
  // the other way: pulsar-flex encodes, we decode
  const seek = new pb.BaseCommand().setType(T.SEEK).setSeek(new pb.CommandSeek().setConsumerId(3).setRequestId(4).setMessagePublishTime(1234567));
  const ds = codec.T.BaseCommand.decode(seek.serializeBinary());
  check(ds.type === codec.TYPE.SEEK && codec.num(ds.seek.message_publish_time) === 1234567 && codec.num(ds.seek.consumer_id) === 3, 'codec: we read pulsar-flex SEEK');
  const ack = new pb.BaseCommand().setType(T.ACK).setAck(new pb.CommandAck().setConsumerId(1).setAckType(0).setRequestId(5)
    .setMessageIdList([new pb.MessageIdData().setLedgerid(7).setEntryid(8).setAckSetList([3])]));
  const da = codec.T.BaseCommand.decode(ack.serializeBinary());
  check(codec.num(da.ack.message_id[0].entryId) === 8 && codec.num(da.ack.message_id[0].ack_set[0]) === 3 && codec.num(da.ack.request_id) === 5, 'codec: we read pulsar-flex ACK');

  // metadata
  const md = {
    producer_name: 'p', sequence_id: 42, publish_time: 1700000000123, properties: [{ key: 'a', value: 'b' }], partition_key: 'k',
    compression: 3, uncompressed_size: 999, num_messages_in_batch: 1, event_time: 1700000000000, null_value: true,
    uuid: 'u-1', num_chunks_from_msg: 4, total_chunk_msg_size: 4000, chunk_id: 2, ordering_key: Buffer.from('ok'), highest_sequence_id: 50,
  };
  const mo = pb.MessageMetadata.deserializeBinary(codec.encodeMetadata(md)).toObject();
  check(mo.producerName === 'p' && mo.sequenceId === 42 && mo.publishTime === 1700000000123 && mo.propertiesList[0].value === 'b' && mo.partitionKey === 'k' &&
    mo.compression === 3 && mo.uncompressedSize === 999 && mo.numMessagesInBatch === 1 && mo.eventTime === 1700000000000 && mo.nullValue === true &&
    mo.uuid === 'u-1' && mo.numChunksFromMsg === 4 && mo.totalChunkMsgSize === 4000 && mo.chunkId === 2 && mo.highestSequenceId === 50 &&
    Buffer.from(mo.orderingKey, 'base64').toString() === 'ok', 'codec: MessageMetadata fields', mo);
  const so = pb.SingleMessageMetadata.deserializeBinary(codec.encodeSingleMetadata({ payload_size: 5, partition_key: 'k', compacted_out: true, event_time: 77, null_value: true, sequence_id: 3, properties: [{ key: 'x', value: 'y' }] })).toObject();
  check(so.payloadSize === 5 && so.partitionKey === 'k' && so.compactedOut === true && so.eventTime === 77 && so.nullValue === true && so.sequenceId === 3 && so.propertiesList[0].key === 'x', 'codec: SingleMessageMetadata fields', so);
  const bo = pb.BrokerEntryMetadata.deserializeBinary(codec.T.BrokerEntryMetadata.encode({ broker_timestamp: 1234, index: 5 }).finish()).toObject();
  check(bo.brokerTimestamp === 1234 && bo.index === 5, 'codec: BrokerEntryMetadata fields', bo);

  // CRC32C against crc-full (pulsar-flex's dependency) and the check value
  check(codec.crc32c(Buffer.from('123456789')) === 0xe3069283, 'crc32c check value');
  for (let n of [0, 1, 7, 8, 9, 63, 1000, 65537]) {
    const b = require('crypto').randomBytes(n);
    check(codec.crc32c(b) === (crcFull.compute(b) >>> 0), `crc32c = crc-full on ${n} bytes`);
  }
  // a whole MESSAGE frame through pulsar-flex's frame deserializer
  const meta = codec.encodeMetadata({ producer_name: 'p', sequence_id: 1, publish_time: 5, properties: [{ key: 'k', value: 'v' }] });
  const frame = codec.payloadFrame(codec.encodeCommand('MESSAGE', { consumer_id: 1, message_id: { ledgerId: 3, entryId: 4 } }), codec.payloadTail(meta, Buffer.from('payload!')));
  const fd = flexSerde.payloadCommand.deserializer(frame);
  check(fd.type === 'message' && fd.messages[0].payload.toString() === 'payload!' && fd.metadata.propertiesList[0].value === 'v', 'frame: pulsar-flex parses our MESSAGE frame');
  const sframe = codec.simpleFrame(codec.encodeCommand('SUCCESS', { request_id: 3 }));
  const sd = flexSerde.simpleCommand.deserializer(sframe);
  check(sd.type === 'success' && sd.command.requestId === 3, 'frame: pulsar-flex parses our simple frame');
}

// ------------------------------------------------------------- broker process
function startBroker(args) {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [path.join(__dirname, 'broker.js'), ...args], { stdio: ['ignore', 'pipe', VERBOSE ? 'inherit' : 'pipe'] });
    let out = '';
    let err = '';
    if (p.stderr) p.stderr.on('data', (d) => { err += d; if (err.length > 200000) err = err.slice(-100000); });
    p.stdout.on('data', (d) => {
      out += d;
      const i = out.indexOf('\n');
      if (i >= 0) resolve({ proc: p, info: JSON.parse(out.slice(0, i)), log: () => err });
    });
    p.on('exit', (code) => reject(new Error(`broker exited ${code}: ${err}`)));
    setTimeout(() => reject(new Error('broker did not start')), 10000);
  });
}

function ctl(info, method, p, body) {
  return new Promise((resolve, reject) => {
    const data = body ? Buffer.from(JSON.stringify(body)) : null;
    const req = http.request(info.control + p, { method, headers: data ? { 'Content-Type': 'application/json' } : {} }, (res) => {
      const bufs = [];
      res.on('data', (d) => bufs.push(d));
      res.on('end', () => {
        const s = Buffer.concat(bufs).toString();
        let j; try { j = JSON.parse(s); } catch (e) { j = s; }
        if (res.statusCode >= 400) reject(new Error(`${method} ${p}: ${res.statusCode} ${s}`)); else resolve(j);
      });
    });
    req.on('error', reject);
    if (data) req.write(data);
    req.end();
  });
}

function httpGet(url, token) {
  return new Promise((resolve, reject) => {
    http.get(url, { headers: token ? { Authorization: `Bearer ${token}` } : {} }, (res) => {
      const bufs = [];
      res.on('data', (d) => bufs.push(d));
      res.on('end', () => { const s = Buffer.concat(bufs).toString(); let j; try { j = JSON.parse(s); } catch (e) { j = s; } resolve({ status: res.statusCode, body: j, headers: res.headers }); });
    }).on('error', reject);
  });
}

async function waitFor(fn, ms = 8000, step = 100) {
  const end = Date.now() + ms;
  for (;;) {
    let v;
    try { v = await fn(); } catch (e) { v = false; }
    if (v) return v;
    if (Date.now() > end) return false;
    await sleep(step);
  }
}

// ------------------------------------------------------------- pulsar-flex helpers
function flexOpts(info, topic, extra = {}) {
  return { topic, discoveryServers: [info.serviceUrl.replace('pulsar://', '')], jwt: TOKEN, logLevel: process.env.PULSAR_FLEX_LOG ? logLevel.INFO : logLevel.NOTHING, ...extra };
}

// Starts a pulsar-flex consumer that records messages; returns {consumer, got}
async function flexConsumer(info, topic, sub, subType, name, { autoAck = true, onMsg, queue = 100 } = {}) {
  const c = new Consumer(flexOpts(info, topic, { subscription: sub, subType, consumerName: name, receiveQueueSize: queue }));
  await c.subscribe();
  const got = [];
  await c.run({
    autoAck,
    onMessage: async (m) => {
      got.push({ payload: m.message.toString(), properties: m.properties, redeliveryCount: m.redeliveryCount, command: m.command, metadata: m.metadata });
      if (onMsg) await onMsg(m, got);
    },
  });
  return { consumer: c, got };
}

async function closeQuietly(x) { try { if (x.consumer) await x.consumer.unsubscribe(); else await x.close(); } catch (e) { /* ignore */ } }

const ST = Consumer.SUB_TYPES;

async function flexTests(info) {
  const T = (n) => `persistent://public/default/selftest-${n}`;

  // 1. token auth
  {
    let failed = false;
    const p = new Producer({ ...flexOpts(info, T('auth')), jwt: 'wrong-token' });
    const t0 = Date.now();
    try { await Promise.race([p.create(), sleep(4000).then(() => { throw new Error('timeout'); })]); } catch (e) { failed = true; }
    check(failed, 'auth: a bad token is refused');
    check(Date.now() - t0 < 4000, 'auth: refused promptly, not by timeout');
    const ev = await ctl(info, 'GET', '/events?type=CONNECT');
    check(ev.events.some((e) => e.body && e.body.auth_method_name === 'token'), 'auth: CONNECT carried auth_method_name token');
  }

  // 2. produce with pulsar-flex, consume with pulsar-flex (Exclusive), acks move the cursor
  {
    const topic = T('basic');
    await ctl(info, 'POST', '/subscriptions', { topic, subscription: 's', position: 'earliest' });
    const p = new Producer(flexOpts(info, topic));
    await p.create();
    for (let i = 0; i < 5; i++) await p.sendMessage({ payload: `single-${i}`, properties: { i: String(i) } });
    await p.sendBatch({ messages: [0, 1, 2].map((i) => ({ payload: `batch-${i}`, properties: { b: String(i) } })) });
    const st = await ctl(info, 'GET', `/topic?topic=${encodeURIComponent(topic)}`);
    eq([st.entries, st.messages], [6, 8], 'flex produce: 5 single entries + 1 batch of 3 stored');
    const c = await flexConsumer(info, topic, 's', ST.EXCLUSIVE, 'c-basic');
    await waitFor(() => c.got.length >= 8);
    eq(c.got.map((m) => m.payload), ['single-0', 'single-1', 'single-2', 'single-3', 'single-4', 'batch-0', 'batch-1', 'batch-2'], 'flex consume: payloads in order');
    eq(c.got.slice(0, 5).map((m) => m.properties.i), ['0', '1', '2', '3', '4'], 'flex consume: properties');
    eq(c.got.slice(5).map((m) => m.properties.b), ['0', '1', '2'], 'flex consume: batch properties');
    const s = await waitFor(async () => { const x = await ctl(info, 'GET', `/subscription?topic=${encodeURIComponent(topic)}&subscription=s`); return x.backlog === 0 ? x : false; });
    check(s && s.markDeleteIndex === 5, 'acks: cursor mark-delete at the last entry, backlog 0', s);
    // control-API publish consumed by pulsar-flex, batched and not
    await ctl(info, 'POST', '/publish', { topic, messages: [{ payload: 'ctl-a', properties: { k: 'v' } }, { payload: 'ctl-b' }, { payload: 'ctl-c' }], batchSize: 2 });
    await ctl(info, 'POST', '/publish', { topic, payload: 'ctl-single', properties: { z: '1' } });
    await waitFor(() => c.got.length >= 12);
    eq(c.got.slice(8).map((m) => m.payload), ['ctl-a', 'ctl-b', 'ctl-c', 'ctl-single'], 'control publish: pulsar-flex consumes batch and single');
    check(c.got[8].properties.k === 'v' && c.got[11].properties.z === '1', 'control publish: properties seen by pulsar-flex');
    await closeQuietly(c);
    await p.close();
  }

  // 3. redelivery of unacked messages after the consumer closes, redelivery count
  {
    const topic = T('redeliver');
    await ctl(info, 'POST', '/subscriptions', { topic, subscription: 's', position: 'earliest' });
    await ctl(info, 'POST', '/publish', { topic, payload: 'r-{i}', count: 4 });
    const a = await flexConsumer(info, topic, 's', ST.EXCLUSIVE, 'c-a', {
      autoAck: false,
      onMsg: async (m) => { if (['r-0', 'r-1'].includes(m.message.toString())) await m.ack(); },
    });
    await waitFor(() => a.got.length >= 4);
    await waitFor(async () => (await ctl(info, 'GET', `/subscription?topic=${encodeURIComponent(topic)}&subscription=s`)).markDeleteIndex === 1);
    // 4. Exclusive: a second consumer is refused with ConsumerBusy
    let busy = false;
    try { await flexConsumer(info, topic, 's', ST.EXCLUSIVE, 'c-intruder'); } catch (e) { busy = true; }
    check(busy, 'exclusive: second consumer refused (ConsumerBusy)');
    const ev = await ctl(info, 'GET', '/events?type=SUBSCRIBE');
    check(ev.events.length > 0, 'events: subscribes recorded');
    await closeQuietly(a);
    const s1 = await ctl(info, 'GET', `/subscription?topic=${encodeURIComponent(topic)}&subscription=s`);
    eq([s1.backlog, s1.markDeleteIndex, s1.consumersConnected], [2, 1, 0], 'redelivery: 2 unacked left after close');
    const b = await flexConsumer(info, topic, 's', ST.EXCLUSIVE, 'c-b');
    await waitFor(() => b.got.length >= 2);
    eq(b.got.map((m) => m.payload), ['r-2', 'r-3'], 'redelivery: the unacked messages come again');
    check(b.got.every((m) => m.redeliveryCount >= 1), 'redelivery: redelivery_count > 0', b.got.map((m) => m.redeliveryCount));
    await waitFor(async () => (await ctl(info, 'GET', `/subscription?topic=${encodeURIComponent(topic)}&subscription=s`)).backlog === 0);
    await closeQuietly(b);
  }

  // 5. Shared: round-robin over two consumers, each message once
  {
    const topic = T('shared');
    await ctl(info, 'POST', '/subscriptions', { topic, subscription: 's', type: 'Shared', position: 'earliest' });
    const a = await flexConsumer(info, topic, 's', ST.SHARED, 'sh-a', { queue: 10 });
    const b = await flexConsumer(info, topic, 's', ST.SHARED, 'sh-b', { queue: 10 });
    await sleep(200);
    await ctl(info, 'POST', '/publish', { topic, payload: 'sh-{i}', count: 20 });
    await waitFor(() => a.got.length + b.got.length >= 20);
    const all = [...a.got, ...b.got].map((m) => m.payload).sort();
    eq(all.length, 20, 'shared: 20 messages in total');
    eq(new Set(all).size, 20, 'shared: no duplicates');
    check(a.got.length > 0 && b.got.length > 0, 'shared: both consumers got messages', [a.got.length, b.got.length]);
    await waitFor(async () => (await ctl(info, 'GET', `/subscription?topic=${encodeURIComponent(topic)}&subscription=s`)).backlog === 0);
    // negative ack -> REDELIVER_UNACKNOWLEDGED_MESSAGES -> comes again with redelivery count 1
    await closeQuietly(b);
    let nacked = false;
    const seen = [];
    a.consumer._onMessageParams = {};
    await closeQuietly(a);
    const n = await flexConsumer(info, topic, 's', ST.SHARED, 'sh-n', {
      autoAck: false,
      onMsg: async (m) => {
        seen.push([m.message.toString(), m.redeliveryCount]);
        if (!nacked) { nacked = true; await m.ack({ type: Consumer.ACK_TYPES.NEGATIVE }); } else await m.ack();
      },
    });
    await ctl(info, 'POST', '/publish', { topic, payload: 'nack-me' });
    await waitFor(() => seen.length >= 2);
    eq(seen.slice(0, 2), [['nack-me', 0], ['nack-me', 1]], 'negative ack: redelivered with redelivery_count 1');
    await closeQuietly(n);
  }

  // 6. Failover: only the active consumer (lowest name) gets messages
  {
    const topic = T('failover');
    await ctl(info, 'POST', '/subscriptions', { topic, subscription: 's', type: 'Failover', position: 'earliest' });
    const b = await flexConsumer(info, topic, 's', ST.FAILOVER, 'fo-b');
    const a = await flexConsumer(info, topic, 's', ST.FAILOVER, 'fo-a');
    await sleep(200);
    await ctl(info, 'POST', '/publish', { topic, payload: 'fo-{i}', count: 10 });
    await waitFor(() => a.got.length >= 10);
    await sleep(300);
    eq([a.got.length, b.got.length], [10, 0], 'failover: the active consumer gets all');
    await closeQuietly(a);
    await ctl(info, 'POST', '/publish', { topic, payload: 'fo-after-{i}', count: 3 });
    await waitFor(() => b.got.length >= 3);
    eq(b.got.map((m) => m.payload), ['fo-after-0', 'fo-after-1', 'fo-after-2'], 'failover: the other consumer takes over');
    await closeQuietly(b);
  }

  // 7. Key_Shared: every key goes to one consumer
  {
    const topic = T('keyshared');
    await ctl(info, 'POST', '/subscriptions', { topic, subscription: 's', type: 'Key_Shared', position: 'earliest' });
    const a = await flexConsumer(info, topic, 's', ST.KEY_SHARED, 'ks-a');
    const b = await flexConsumer(info, topic, 's', ST.KEY_SHARED, 'ks-b');
    await sleep(200);
    const messages = [];
    for (let i = 0; i < 40; i++) messages.push({ payload: `ks-${i}`, key: `key-${i % 8}` });
    await ctl(info, 'POST', '/publish', { topic, messages });
    await waitFor(() => a.got.length + b.got.length >= 40);
    const owner = new Map();
    let split = false;
    for (const [who, c] of [['a', a], ['b', b]]) {
      for (const m of c.got) {
        const k = `key-${Number(m.payload.split('-')[1]) % 8}`;
        if (owner.has(k) && owner.get(k) !== who) split = true;
        owner.set(k, who);
      }
    }
    eq(a.got.length + b.got.length, 40, 'key_shared: all 40 messages');
    check(!split, 'key_shared: each key on one consumer only');
    check(a.got.length > 0 && b.got.length > 0, 'key_shared: both consumers used', [a.got.length, b.got.length]);
    await closeQuietly(a);
    await closeQuietly(b);
  }

  // 8. cumulative ack
  {
    const topic = T('cumulative');
    await ctl(info, 'POST', '/subscriptions', { topic, subscription: 's', position: 'earliest' });
    await ctl(info, 'POST', '/publish', { topic, payload: 'cu-{i}', count: 5 });
    const c = await flexConsumer(info, topic, 's', ST.EXCLUSIVE, 'cu', {
      autoAck: false,
      onMsg: async (m, got) => { if (got.length === 5) await m.ack({ type: Consumer.ACK_TYPES.CUMULATIVE }); },
    });
    const s = await waitFor(async () => { const x = await ctl(info, 'GET', `/subscription?topic=${encodeURIComponent(topic)}&subscription=s`); return x.markDeleteIndex === 4 ? x : false; });
    check(s && s.backlog === 0, 'cumulative ack: one ack moves the cursor over all 5', s);
    const ev = await ctl(info, 'GET', '/events?type=ACK');
    check(ev.events.some((e) => e.body.ack_type === 'Cumulative'), 'cumulative ack: seen as Cumulative');
    await closeQuietly(c);
  }

  // 9. topic owned by broker 1: lookup on broker 0 redirects, pulsar-flex follows
  {
    const topic = T('owned-by-1');
    await ctl(info, 'POST', '/topics', { topic, owner: 1 });
    await ctl(info, 'POST', '/subscriptions', { topic, subscription: 's', position: 'earliest' });
    const p = new Producer(flexOpts(info, topic));
    await p.create();
    await p.sendMessage({ payload: 'on-broker-1', properties: {} });
    const c = await flexConsumer(info, topic, 's', ST.EXCLUSIVE, 'redir');
    await waitFor(() => c.got.length >= 1);
    eq(c.got.map((m) => m.payload), ['on-broker-1'], 'redirect: produced and consumed through broker 1');
    const conns = await ctl(info, 'GET', '/connections');
    check(conns.connections.some((x) => x.broker === 1 && x.consumers.length === 1), 'redirect: the consumer is connected to broker 1');
    const lr = await ctl(info, 'GET', '/events?type=LOOKUP');
    check(lr.events.some((e) => e.broker === 0 && e.body.topic === topic), 'redirect: the lookup went to broker 0');
    await closeQuietly(c);
    await p.close();
  }
}

// ------------------------------------------------------------- raw client on pulsar-flex's codec
class Raw {
  constructor(port) { this.port = port; this.frames = []; this.waiters = []; this.buf = Buffer.alloc(0); this.closed = false; this.reqId = 1000; }
  connect() {
    return new Promise((resolve, reject) => {
      this.s = net.connect(this.port, '127.0.0.1', resolve);
      this.s.on('error', reject);
      this.s.on('data', (d) => this.onData(d));
      this.s.on('close', () => { this.closed = true; this.wake(); });
    });
  }
  onData(d) {
    this.buf = Buffer.concat([this.buf, d]);
    while (this.buf.length >= 4) {
      const total = this.buf.readUInt32BE(0);
      if (this.buf.length < total + 4) break;
      const fr = this.buf.subarray(0, total + 4);
      this.buf = this.buf.subarray(total + 4);
      this.frames.push(this.parse(fr));
    }
    this.wake();
  }
  parse(fr) {
    const cmdSize = fr.readUInt32BE(4);
    const base = pb.BaseCommand.deserializeBinary(fr.subarray(8, 8 + cmdSize));
    const o = base.toObject();
    const key = Object.keys(o).find((k) => k !== 'type' && o[k] !== undefined);
    const f = { type: base.getType(), body: o[key] };
    let off = 8 + cmdSize;
    if (off < fr.length) {
      let magic = fr.readUInt16BE(off);
      if (magic === 0x0e02) {
        const n = fr.readUInt32BE(off + 2);
        f.brokerEntry = pb.BrokerEntryMetadata.deserializeBinary(fr.subarray(off + 6, off + 6 + n)).toObject();
        off += 6 + n;
        magic = fr.readUInt16BE(off);
      }
      f.magicOk = magic === 0x0e01;
      const crc = fr.readUInt32BE(off + 2);
      f.crcOk = (crcFull.compute(fr.subarray(off + 6)) >>> 0) === crc;
      const ms = fr.readUInt32BE(off + 6);
      f.metadata = pb.MessageMetadata.deserializeBinary(fr.subarray(off + 10, off + 10 + ms)).toObject();
      f.hasBatch = pb.MessageMetadata.deserializeBinary(fr.subarray(off + 10, off + 10 + ms)).hasNumMessagesInBatch();
      f.payload = Buffer.from(fr.subarray(off + 10 + ms));
    }
    return f;
  }
  wake() { const w = this.waiters; this.waiters = []; w.forEach((x) => x()); }
  send(type, body) { this.s.write(codec.simpleFrame(codec.encodeCommand(type, body))); }
  async next(pred = () => true, ms = 5000) {
    const end = Date.now() + ms;
    for (;;) {
      const i = this.frames.findIndex(pred);
      if (i >= 0) return this.frames.splice(i, 1)[0];
      if (this.closed || Date.now() > end) return null;
      await new Promise((r) => { this.waiters.push(r); setTimeout(r, Math.max(1, end - Date.now())); });
    }
  }
  async handshake(token = TOKEN) {
    await this.connect();
    this.send('CONNECT', { client_version: 'selftest-raw', protocol_version: 19, auth_method_name: 'token', auth_data: Buffer.from(token), feature_flags: { supports_broker_entry_metadata: true } });
    return this.next((f) => f.type === 3 || f.type === 14);
  }
  async request(type, body, respTypes) {
    const rid = ++this.reqId;
    this.send(type, { ...body, request_id: rid });
    return this.next((f) => respTypes.includes(f.type) && f.body && f.body.requestId === rid);
  }
  close() { this.s.destroy(); }
}

function decompress(md, payload) {
  switch (md.compression || 0) {
    case 0: return payload;
    case 2: return zlib.inflateSync(payload, { finishFlush: zlib.constants.Z_SYNC_FLUSH });
    default: {
      const name = { 1: 'lz4', 3: 'zstd', 4: 'snappy' }[md.compression];
      return execFileSync('/usr/bin/python3', [path.join(__dirname, 'lib', 'codecs.py'), 'decompress', name, String(md.uncompressedSize)], { input: payload });
    }
  }
}
function unbatch(f) {
  const data = decompress(f.metadata, f.payload);
  if (!f.hasBatch) return [{ payload: data.toString(), meta: f.metadata }];
  const out = [];
  let off = 0;
  for (let i = 0; i < f.metadata.numMessagesInBatch; i++) {
    const n = data.readUInt32BE(off); off += 4;
    const sm = pb.SingleMessageMetadata.deserializeBinary(data.subarray(off, off + n)).toObject(); off += n;
    out.push({ payload: data.subarray(off, off + sm.payloadSize).toString(), meta: sm }); off += sm.payloadSize;
  }
  return out;
}

async function rawTests(info) {
  const B = pb.BaseCommand.Type;
  const T = (n) => `persistent://public/default/raw-${n}`;
  const port0 = info.brokers[0].port;

  // bad token on the raw path: ERROR AuthenticationError, then close
  {
    const r = new Raw(port0);
    const f = await r.handshake('nope');
    check(f && f.type === B.ERROR && f.body.error === 3, 'raw auth: bad token -> ERROR AuthenticationError', f && f.body);
    r.close();
  }
  const r = new Raw(port0);
  const cf = await r.handshake();
  check(cf && cf.type === B.CONNECTED && cf.body.protocolVersion === 19, 'raw: CONNECTED', cf && cf.body);
  let cid = 0;
  const subscribe = async (topic, extra = {}) => {
    const id = ++cid;
    const resp = await r.request('SUBSCRIBE', { topic, subscription: extra.sub || 'raw', subType: extra.subType || 0, consumer_id: id, initialPosition: 1, ...extra.body }, [B.SUCCESS, B.ERROR]);
    return { id, resp };
  };
  const msgsFor = (id) => (f) => f.type === B.MESSAGE && f.body.consumerId === id;

  // compression codecs, batched and not
  for (const codecName of ['none', 'lz4', 'zlib', 'zlib-nomarker', 'zstd', 'snappy']) {
    const topic = T(`codec-${codecName}`);
    await ctl(info, 'POST', '/publish', { topic, codec: codecName, messages: [{ payload: 'alpha alpha alpha alpha' }, { payload: 'beta', key: 'kb', properties: { p: '1' }, eventTime: 1700000000000 }, { payload: 'gamma' }], batchSize: 3 });
    await ctl(info, 'POST', '/publish', { topic, codec: codecName, payload: 'solo solo solo solo solo' });
    const { id } = await subscribe(topic);
    r.send('FLOW', { consumer_id: id, messagePermits: 100 });
    const f1 = await r.next(msgsFor(id));
    const f2 = await r.next(msgsFor(id));
    let ok = false;
    try {
      const m1 = unbatch(f1);
      const m2 = unbatch(f2);
      ok = f1.crcOk && f2.crcOk && f1.hasBatch && f1.metadata.numMessagesInBatch === 3 && !f2.hasBatch &&
        m1.map((m) => m.payload).join(',') === 'alpha alpha alpha alpha,beta,gamma' && m2[0].payload === 'solo solo solo solo solo' &&
        m1[1].meta.partitionKey === 'kb' && m1[1].meta.propertiesList[0].value === '1' && m1[1].meta.eventTime === 1700000000000;
      if (codecName === 'zlib-nomarker') ok = ok && f2.payload.subarray(-4).toString('hex') === '0000ffff';
    } catch (e) { ok = false; }
    check(ok, `codec ${codecName}: batch and single message decode (crc, unbatch, decompress)`);
  }

  // batch of one still has num_messages_in_batch
  {
    const topic = T('batch-of-one');
    await ctl(info, 'POST', '/publish', { topic, payload: 'one', batchSize: 1 });
    const { id } = await subscribe(topic);
    r.send('FLOW', { consumer_id: id, messagePermits: 10 });
    const f = await r.next(msgsFor(id));
    check(f && f.hasBatch && f.metadata.numMessagesInBatch === 1 && unbatch(f)[0].payload === 'one', 'batch of 1: num_messages_in_batch present');
  }

  // null value, compacted out
  {
    const topic = T('nulls');
    await ctl(info, 'POST', '/publish', { topic, messages: [{ value: null, key: 'gone' }, { payload: 'x', compactedOut: true }], batchSize: 2 });
    await ctl(info, 'POST', '/publish', { topic, value: null, key: 'k' });
    const { id } = await subscribe(topic);
    r.send('FLOW', { consumer_id: id, messagePermits: 10 });
    const f = await r.next(msgsFor(id));
    const g = await r.next(msgsFor(id));
    const m = unbatch(f);
    check(m[0].meta.nullValue === true && m[1].meta.compactedOut === true && g.metadata.nullValue === true && g.payload.length === 0, 'null value and compacted_out flags');
  }

  // chunks: two messages interleaved, one duplicated chunk
  {
    const topic = T('chunks');
    const big1 = 'A'.repeat(25) + 'end1';
    const big2 = 'B'.repeat(21) + 'end2';
    const res = await ctl(info, 'POST', '/publish', { topic, messages: [{ payload: big1 }, { payload: big2 }], chunkSize: 10, interleaveChunks: true, duplicateChunk: 1 });
    check(res.ids[0].chunks.length === 3 && res.ids[1].chunks.length === 3, 'chunks: 3 chunks each', res.ids);
    const { id } = await subscribe(topic);
    r.send('FLOW', { consumer_id: id, messagePermits: 100 });
    const parts = new Map();
    let n = 0;
    let dup = 0;
    let order = [];
    for (;;) {
      const f = await r.next(msgsFor(id), 1000);
      if (!f) break;
      n++;
      const md = f.metadata;
      order.push(`${md.uuid}#${md.chunkId}`);
      const p = parts.get(md.uuid) || { chunks: [], total: md.totalChunkMsgSize, num: md.numChunksFromMsg };
      if (p.chunks[md.chunkId]) dup++;
      p.chunks[md.chunkId] = f.payload;
      parts.set(md.uuid, p);
    }
    const msgs = [...parts.values()].map((p) => Buffer.concat(p.chunks).toString());
    check(n === 8 && dup === 2, 'chunks: 6 chunks + 2 duplicates delivered', { n, dup, order });
    eq(msgs.sort(), [big1, big2].sort(), 'chunks: reassembled');
    check(order[0].endsWith('#0') && order[1].endsWith('#0'), 'chunks: interleaved', order);
  }

  // flow permits: never more messages than granted
  {
    const topic = T('permits');
    await ctl(info, 'POST', '/publish', { topic, payload: 'p{i}', count: 9, batchSize: 3 });
    const { id } = await subscribe(topic);
    r.send('FLOW', { consumer_id: id, messagePermits: 5 });
    const a = await r.next(msgsFor(id), 500);
    const b = await r.next(msgsFor(id), 500);
    check(a && !b, 'permits: 5 permits -> one batch of 3, not a second one');
    r.send('FLOW', { consumer_id: id, messagePermits: 1 });
    const c = await r.next(msgsFor(id), 500);
    check(c && c.metadata.numMessagesInBatch === 3, 'permits: topped up to 3 -> next batch');
    // partial ack of a batch by ack_set, then redelivery carries ack_set
    r.send('ACK', { consumer_id: id, ack_type: 0, message_id: [{ ledgerId: a.body.messageId.ledgerid, entryId: a.body.messageId.entryid, batch_index: 0, batch_size: 3, ack_set: [codec.Long.fromNumber(6)] }] });
    await sleep(100);
    const st = await ctl(info, 'GET', `/subscription?topic=${encodeURIComponent(topic)}&subscription=raw`);
    check(Object.values(st.batchAcks)[0] === '110', 'ack_set: batch index 0 acked, 1 and 2 not', st.batchAcks);
    r.send('REDELIVER_UNACKNOWLEDGED_MESSAGES', { consumer_id: id });
    r.send('FLOW', { consumer_id: id, messagePermits: 3 });
    const again = await r.next(msgsFor(id), 1000);
    check(again && again.body.redeliveryCount === 1 && again.body.ackSetList.length === 1 && again.body.ackSetList[0] === 6, 'ack_set: redelivered batch carries ack_set, redelivery_count 1', again && again.body);
    // GET_LAST_MESSAGE_ID
    const lm = await r.request('GET_LAST_MESSAGE_ID', { consumer_id: id }, [B.GET_LAST_MESSAGE_ID_RESPONSE, B.ERROR]);
    check(lm && lm.body.lastMessageId.entryid === 2 && lm.body.lastMessageId.batchIndex === 2, 'GET_LAST_MESSAGE_ID: last entry, batch index', lm && lm.body);
    // seek by publish time: SUCCESS then CLOSE_CONSUMER
    const sk = await r.request('SEEK', { consumer_id: id, message_publish_time: 0 }, [B.SUCCESS, B.ERROR]);
    check(sk && sk.type === B.SUCCESS, 'seek by time: SUCCESS');
    const cc = await r.next((f) => f.type === B.CLOSE_CONSUMER && f.body.consumerId === id, 1000);
    check(!!cc, 'seek: CLOSE_CONSUMER follows');
    const st2 = await ctl(info, 'GET', `/subscription?topic=${encodeURIComponent(topic)}&subscription=raw`);
    eq([st2.markDeleteIndex, st2.backlog], [-1, 9], 'seek to time 0: cursor back to the start');
  }

  // partitioned topic, ownership, lookups
  {
    const topic = T('parted');
    await ctl(info, 'POST', '/topics', { topic, partitions: 3 });
    const pm = await r.request('PARTITIONED_METADATA', { topic }, [B.PARTITIONED_METADATA_RESPONSE]);
    check(pm && pm.body.partitions === 3, 'partitioned metadata: 3', pm && pm.body);
    const lk = await r.request('LOOKUP', { topic: `${topic}-partition-1` }, [B.LOOKUP_RESPONSE]);
    check(lk && lk.body.response === 0 && lk.body.brokerserviceurl === info.brokers[1].serviceUrl && lk.body.authoritative, 'lookup: partition 1 on broker 0 -> Redirect to broker 1', lk && lk.body);
    const lk0 = await r.request('LOOKUP', { topic: `${topic}-partition-0` }, [B.LOOKUP_RESPONSE]);
    check(lk0 && lk0.body.response === 1 && lk0.body.brokerserviceurl === info.brokers[0].serviceUrl, 'lookup: partition 0 -> Connect here', lk0 && lk0.body);
    const bad = await subscribe(`${topic}-partition-1`);
    check(bad.resp && bad.resp.type === B.ERROR && bad.resp.body.error === 6, 'subscribe on a non-owner: ServiceNotReady');
    const pub = await ctl(info, 'POST', '/publish', { topic, payload: 'pp{i}', count: 6 });
    eq(pub.ids.map((x) => x.partition), [0, 1, 2, 0, 1, 2], 'publish to partitioned topic: round-robin');
    const r1 = new Raw(info.brokers[1].port);
    await r1.handshake();
    const lk1 = await r1.request('LOOKUP', { topic: `${topic}-partition-1`, authoritative: true }, [B.LOOKUP_RESPONSE]);
    check(lk1 && lk1.body.response === 1, 'lookup on the owner: Connect');
    const s1 = await r1.request('SUBSCRIBE', { topic: `${topic}-partition-1`, subscription: 'raw', subType: 0, consumer_id: 1, initialPosition: 1 }, [B.SUCCESS, B.ERROR]);
    r1.send('FLOW', { consumer_id: 1, messagePermits: 10 });
    const m1 = await r1.next((f) => f.type === B.MESSAGE);
    check(s1.type === B.SUCCESS && m1 && m1.body.messageId.partition === 1 && m1.payload.toString() === 'pp1', 'partition 1 consumed on broker 1', m1 && m1.body);
    r1.close();
    const hl = await httpGet(`${info.httpUrl}/lookup/v2/topic/persistent/public/default/raw-parted-partition-1`, TOKEN);
    check(hl.status === 200 && hl.body.brokerUrl === info.brokers[1].serviceUrl && hl.body.httpUrl === info.brokers[1].httpUrl, 'HTTP lookup: owner urls', hl);
    const hp = await httpGet(`${info.httpUrl}/admin/v2/persistent/public/default/raw-parted/partitions`, TOKEN);
    check(hp.status === 200 && hp.body.partitions === 3, 'HTTP partitions: 3', hp);
    const hn = await httpGet(`${info.httpUrl}/admin/v2/persistent/public/default/raw-parted/partitions`, 'bad');
    check(hn.status === 401, 'HTTP: bad bearer token -> 401');
  }

  // faults
  {
    const topic = T('faults');
    await ctl(info, 'POST', '/publish', { topic, payload: 'f{i}', count: 4 });
    await ctl(info, 'POST', '/faults', { clientVersion: 'selftest-raw', brokerEntryMetadata: true, corruptChecksum: 1, unknownFields: true, errors: { SUBSCRIBE: { error: 'ConsumerBusy', count: 1 } } });
    const busy = await subscribe(topic);
    check(busy.resp && busy.resp.type === B.ERROR && busy.resp.body.error === 5, 'fault: SUBSCRIBE -> ConsumerBusy');
    const { id, resp } = await subscribe(topic);
    check(resp && resp.type === B.SUCCESS, 'fault: one-shot, next SUBSCRIBE works');
    r.send('FLOW', { consumer_id: id, messagePermits: 2 });
    const a = await r.next(msgsFor(id));
    const b = await r.next(msgsFor(id));
    check(a && a.brokerEntry && a.brokerEntry.brokerTimestamp > 0 && a.magicOk, 'fault: broker entry metadata prefix (0x0e02)');
    check(a && !a.crcOk && b && b.crcOk, 'fault: one corrupted checksum');
    await ctl(info, 'POST', '/faults/reset');
    await ctl(info, 'POST', '/faults', { clientVersion: 'selftest-raw', splitWrites: true });
    r.send('FLOW', { consumer_id: id, messagePermits: 1 });
    const c = await r.next(msgsFor(id));
    check(c && c.crcOk && c.payload.toString() === 'f2', 'fault: frames written one byte at a time still parse');
    await ctl(info, 'POST', '/faults/reset');
    await ctl(info, 'POST', '/send-unknown', { clientVersion: 'selftest-raw' });
    const u = await r.next((f) => f.type === 99, 1000);
    check(!!u, 'fault: unknown command type sent');
    await ctl(info, 'POST', '/challenge', { clientVersion: 'selftest-raw' });
    const ch = await r.next((f) => f.type === B.AUTH_CHALLENGE, 1000);
    check(ch && ch.body.challenge.authMethodName === 'token', 'AUTH_CHALLENGE sent');
    r.send('AUTH_RESPONSE', { client_version: 'raw', protocol_version: 19, response: { auth_method_name: 'token', auth_data: Buffer.from(TOKEN) } });
    r.send('PING', {});
    const pong = await r.next((f) => f.type === B.PONG, 1000);
    check(!!pong && !r.closed, 'AUTH_RESPONSE accepted, PING answered by PONG');
    await ctl(info, 'POST', '/unload', { topic });
    const cc = await r.next((f) => f.type === B.CLOSE_CONSUMER && f.body.consumerId === id, 1000);
    check(!!cc, 'unload: CLOSE_CONSUMER');
    const { id: id2 } = await subscribe(topic);
    await ctl(info, 'POST', '/faults', { clientVersion: 'selftest-raw', dropAfterMessages: 1 });
    r.send('FLOW', { consumer_id: id2, messagePermits: 10 });
    await r.next(msgsFor(id2), 1000);
    await sleep(200);
    check(r.closed, 'fault: connection dropped after 1 message');
    await ctl(info, 'POST', '/faults/reset');
  }
  r.close();

  // seek by message id, challenge on connect, dropAfterCommands, lookupProxy, httpRedirect
  {
    const topic = T('seek-id');
    const pub = await ctl(info, 'POST', '/publish', { topic, payload: 's{i}', count: 5 });
    const rs = new Raw(port0);
    await rs.handshake();
    await rs.request('SUBSCRIBE', { topic, subscription: 'x', subType: 0, consumer_id: 1, initialPosition: 1 }, [B.SUCCESS]);
    rs.send('FLOW', { consumer_id: 1, messagePermits: 100 });
    for (let i = 0; i < 5; i++) await rs.next((f) => f.type === B.MESSAGE);
    rs.send('ACK', { consumer_id: 1, ack_type: 1, message_id: [{ ledgerId: pub.ids[4].ledgerId, entryId: pub.ids[4].entryId }] });
    const sk = await rs.request('SEEK', { consumer_id: 1, message_id: { ledgerId: pub.ids[2].ledgerId, entryId: pub.ids[2].entryId } }, [B.SUCCESS, B.ERROR]);
    const cc = await rs.next((f) => f.type === B.CLOSE_CONSUMER);
    check(sk && sk.type === B.SUCCESS && cc, 'seek by id: SUCCESS + CLOSE_CONSUMER');
    await rs.request('SUBSCRIBE', { topic, subscription: 'x', subType: 0, consumer_id: 2, initialPosition: 1 }, [B.SUCCESS]);
    rs.send('FLOW', { consumer_id: 2, messagePermits: 100 });
    const got = [];
    for (;;) { const f = await rs.next((x) => x.type === B.MESSAGE, 500); if (!f) break; got.push(f.payload.toString()); }
    eq(got, ['s2', 's3', 's4'], 'seek by id: delivery restarts at that message');
    rs.close();

    await ctl(info, 'POST', '/faults', { clientVersion: 'selftest-raw', challengeOnConnect: true });
    const rc = new Raw(port0);
    await rc.connect();
    rc.send('CONNECT', { client_version: 'selftest-raw', protocol_version: 19, auth_method_name: 'token', auth_data: Buffer.from(TOKEN) });
    const ch = await rc.next();
    check(ch && ch.type === B.AUTH_CHALLENGE, 'challengeOnConnect: CONNECT answered by AUTH_CHALLENGE');
    rc.send('AUTH_RESPONSE', { client_version: 'selftest-raw', protocol_version: 19, response: { auth_method_name: 'token', auth_data: Buffer.from(TOKEN) } });
    const cn = await rc.next();
    check(cn && cn.type === B.CONNECTED, 'challengeOnConnect: CONNECTED after a good AUTH_RESPONSE');
    await ctl(info, 'POST', '/faults/reset');
    await ctl(info, 'POST', '/faults', { clientVersion: 'selftest-raw', dropAfterCommands: 2 });
    rc.send('PING', {});
    rc.send('PING', {});
    rc.send('PING', {});
    await sleep(300);
    const pongs = rc.frames.filter((f) => f.type === B.PONG).length;
    check(rc.closed && pongs === 2, 'dropAfterCommands: closed after the 2nd command', { closed: rc.closed, pongs });
    await ctl(info, 'POST', '/faults/reset');

    await ctl(info, 'POST', '/faults', { clientVersion: 'selftest-raw', silence: { LOOKUP: 1 } });
    const rq = new Raw(port0);
    await rq.handshake();
    const q1 = await rq.request('LOOKUP', { topic: T('silent') }, [B.LOOKUP_RESPONSE]);
    const q2 = await rq.request('LOOKUP', { topic: T('silent') }, [B.LOOKUP_RESPONSE]);
    check(q1 === null && q2 && q2.body.response === 1, 'fault: silence LOOKUP once (no answer), next answered');
    rq.close();
    await ctl(info, 'POST', '/faults/reset');
    await ctl(info, 'POST', '/faults', { clientVersion: 'selftest-raw', lookupProxy: true, httpRedirect: true, errors: { LOOKUP: { error: 'TooManyRequests' } } });
    const rl = new Raw(port0);
    await rl.handshake();
    const l1 = await rl.request('LOOKUP', { topic: `${T('parted')}-partition-1` }, [B.LOOKUP_RESPONSE]);
    check(l1 && l1.body.response === 2 && l1.body.error === 14, 'fault: LOOKUP -> Failed TooManyRequests', l1 && l1.body);
    const l2 = await rl.request('LOOKUP', { topic: `${T('parted')}-partition-1` }, [B.LOOKUP_RESPONSE]);
    check(l2 && l2.body.response === 1 && l2.body.proxyThroughServiceUrl === true && l2.body.brokerserviceurl === info.brokers[1].serviceUrl, 'fault: lookupProxy', l2 && l2.body);
    rl.close();
    const rp = new Raw(port0);
    await rp.connect();
    rp.send('CONNECT', { client_version: 'selftest-raw', protocol_version: 19, auth_method_name: 'token', auth_data: Buffer.from(TOKEN), proxy_to_broker_url: info.brokers[1].serviceUrl });
    await rp.next((f) => f.type === B.CONNECTED);
    const ps = await rp.request('SUBSCRIBE', { topic: `${T('parted')}-partition-1`, subscription: 'via-proxy', subType: 0, consumer_id: 1, initialPosition: 1 }, [B.SUCCESS, B.ERROR]);
    check(ps && ps.type === B.SUCCESS, 'proxy_to_broker_url: broker 0 serves a topic of broker 1');
    rp.close();
    const hr = await new Promise((resolve) => http.get(`${info.httpUrl}/lookup/v2/topic/persistent/public/default/raw-parted-partition-1`, { headers: { Authorization: `Bearer ${TOKEN}` } }, (res) => { res.resume(); resolve(res); }));
    check(hr.statusCode === 307 && hr.headers.location.startsWith(info.brokers[1].httpUrl), 'fault: httpRedirect -> 307 to the owner', hr.headers);
    await ctl(info, 'POST', '/faults/reset');
  }

  // blast
  {
    const topic = T('blast');
    const bl = await ctl(info, 'POST', '/blast', { topic, count: 20000 });
    check(bl.entries === 200, 'blast: 20000 messages in 200 batches', bl);
    const rb = new Raw(port0);
    await rb.handshake();
    await rb.request('SUBSCRIBE', { topic, subscription: 'b', subType: 0, consumer_id: 1, initialPosition: 1 }, [B.SUCCESS]);
    rb.send('FLOW', { consumer_id: 1, messagePermits: 20000 });
    let n = 0;
    for (;;) { const f = await rb.next((x) => x.type === B.MESSAGE, 2000); if (!f) break; n += f.metadata.numMessagesInBatch; if (n >= 20000) break; }
    eq(n, 20000, 'blast: all messages delivered');
    if (VERBOSE) console.log(`blast: ${n} messages delivered`);
    rb.close();
  }
}

async function main() {
  const killer = setTimeout(() => { console.log('FAIL selftest timed out'); process.exit(3); }, 150000);
  codecCrossCheck();
  const b = await startBroker(['--token', TOKEN, '--brokers', '2', '--timeout', '180']);
  try {
    await flexTests(b.info);
    await rawTests(b.info);
  } catch (e) {
    failures++;
    console.log(`FAIL exception: ${e.stack}`);
  } finally {
    b.proc.kill('SIGTERM');
  }
  clearTimeout(killer);
  console.log(`pulsar test broker selftest: ${passes} passed, ${failures} failed`);
  if (failures && !VERBOSE) console.log('(run with --verbose for the broker log)');
  process.exit(failures ? 1 : 0);
}

main();
