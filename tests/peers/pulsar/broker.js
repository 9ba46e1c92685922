#!/usr/bin/env node
'use strict';
// lakepipe's Pulsar-protocol test broker. See README.md beside this file.
// Listens on 127.0.0.1 only. Prints one line of JSON on stdout when ready,
// logs on stderr, exits on SIGTERM/SIGINT or after --timeout seconds.

const net = require('net');
const tls = require('tls');
const http = require('http');
const https = require('https');
const fs = require('fs');
const codec = require('./lib/codec');
const { compress, CODECS } = require('./lib/compress');

const { encodeCommand, simpleFrame, payloadFrame, payloadTail, num, crc32c, T } = codec;
const HOST = '127.0.0.1';
const SERVER_VERSION = 'lakepipe-test-broker/1';
const MAX_MESSAGE_SIZE = 5 * 1024 * 1024;

// ------------------------------------------------------------------ options
function usage(code) {
  process.stderr.write(`usage: node broker.js [options]
  --brokers N           broker instances in this process (default 2)
  --port P              binary port of broker 0 (default: any free port)
  --ports P1,P2,...     binary ports of brokers 0,1,... (0 = any)
  --control-port P      control API port (default: any)
  --token T             accept token T (repeatable); with no --token, no auth
  --tls-cert F --tls-key F   also listen with TLS (pulsar+ssl://, https://)
  --timeout S           exit by itself after S seconds (default 600)
  --no-auto-create      unknown topics are TopicNotFound instead of created
  --ping-interval MS    broker pings clients, closes those that stay silent
  --permits strict|broker  strict (default): send an entry only when the
                        consumer has permits for all its messages; broker:
                        when permits > 0 (like Pulsar, may go negative)
  --ready-file F        also write the start-up JSON line to file F
  --verbose             log every command
`);
  process.exit(code);
}

const opts = {
  brokers: 2, port: 0, ports: [], controlPort: 0, tokens: [], tlsCert: null, tlsKey: null,
  timeout: 600, autoCreate: true, pingIntervalMs: 0, verbose: false, permits: 'strict',
};
{
  const a = process.argv.slice(2);
  for (let i = 0; i < a.length; i++) {
    const v = () => { if (i + 1 >= a.length) usage(2); return a[++i]; };
    switch (a[i]) {
      case '--brokers': opts.brokers = Math.max(1, parseInt(v(), 10)); break;
      case '--port': opts.port = parseInt(v(), 10); break;
      case '--ports': opts.ports = v().split(',').map((x) => parseInt(x, 10) || 0); break;
      case '--control-port': opts.controlPort = parseInt(v(), 10); break;
      case '--token': opts.tokens.push(v()); break;
      case '--tls-cert': opts.tlsCert = v(); break;
      case '--tls-key': opts.tlsKey = v(); break;
      case '--timeout': opts.timeout = parseFloat(v()); break;
      case '--no-auto-create': opts.autoCreate = false; break;
      case '--ping-interval': opts.pingIntervalMs = parseInt(v(), 10); break;
      case '--permits': opts.permits = v(); break;
      case '--ready-file': opts.readyFile = v(); break;
      case '--verbose': opts.verbose = true; break;
      case '-h': case '--help': usage(0); break;
      default: process.stderr.write(`unknown option ${a[i]}\n`); usage(2);
    }
  }
  if (opts.ports.length === 0) opts.ports = [opts.port];
  while (opts.ports.length < opts.brokers) opts.ports.push(0);
  opts.brokers = Math.max(opts.brokers, opts.ports.length);
}

function log(...args) {
  process.stderr.write(`[pulsar-test-broker ${new Date().toISOString()}] ${args.join(' ')}\n`);
}
function vlog(...args) { if (opts.verbose) log(...args); }

// ------------------------------------------------------------------ faults
function defaultFaults() {
  return {
    dropAfterCommands: 0,   // close the connection receiving the Nth next command (one-shot)
    dropAfterMessages: 0,   // close the connection right after the Nth next MESSAGE frame (one-shot)
    splitWrites: false,     // write every frame one byte per write
    splitDelayMs: 0,        // pause between those one-byte writes (0 = next tick)
    corruptChecksum: 0,     // corrupt the CRC32C of the next N MESSAGE frames
    brokerEntryMetadata: false, // true: prefix every MESSAGE with 0x0e02 metadata; "ifSupported": only for clients announcing it
    errors: {},             // {COMMAND: {error: "ServiceNotReady", count: 1, message}}
    silence: {},            // {COMMAND: N}: ignore the next N such commands (no answer at all)
    unknownFields: false,   // append unknown protobuf fields to every command sent
    unknownCommandEvery: 0, // send an unknown command type before every Nth frame
    noPong: false,          // do not answer PING
    noMarkDelete: false,    // GET_LAST_MESSAGE_ID_RESPONSE without consumer_mark_delete_position (older brokers)
    lookupProxy: false,     // LOOKUP answers proxy_through_service_url=true
    httpRedirect: false,    // HTTP lookup on a non-owner answers 307 to the owner
    permits: opts.permits,  // "strict" or "broker"
    challengeOnConnect: false, // answer CONNECT with AUTH_CHALLENGE, CONNECTED after a good AUTH_RESPONSE
    conns: null,            // null: faults hit every connection; [ids]: only these connections
    clientVersion: null,    // only connections whose CONNECT client_version contains this string
    refuseConnections: false, // true, or [broker indexes]: new TCP connections (binary and HTTP) closed at once
  };
}
const NO_FAULTS = defaultFaults();
// whether broker br closes new connections at once (fault refuseConnections;
// not scoped by conns/clientVersion: nothing is known of a new connection)
function refusing(br) {
  const r = state.faults.refuseConnections;
  return r === true || (Array.isArray(r) && r.map(Number).includes(br.index));
}
// a server's 'connection' guard: true when the socket was refused
function refuse(br, socket) {
  if (!refusing(br)) return false;
  vlog(`broker ${br.index}: connection refused (fault refuseConnections)`);
  socket.destroy();
  return true;
}
// the fault settings that apply to one connection
function faultsFor(conn) {
  const f = state.faults;
  if (f.conns && !(conn && f.conns.map(Number).includes(conn.id))) return NO_FAULTS;
  if (f.clientVersion && !(conn && conn.clientVersion && conn.clientVersion.includes(f.clientVersion))) return NO_FAULTS;
  return f;
}

const state = {
  brokers: [],
  topics: new Map(),        // full name -> Topic (also each partition)
  partitioned: new Map(),   // parent name -> {partitions, owners}
  faults: defaultFaults(),
  events: [],
  eventSeq: 0,
  nextLedger: 100,
  conns: new Set(),
  connSeq: 0,
  stats: { framesOut: 0, messagesOut: 0, commandsIn: 0 },
};

function recordEvent(ev) {
  ev.seq = ++state.eventSeq;
  ev.t = Date.now();
  state.events.push(ev);
  if (state.events.length > 20000) state.events.splice(0, 5000);
}

// takes one configured error for a command, or null
function takeError(cmd, conn) {
  if (conn && faultsFor(conn) !== state.faults) return null;
  const e = state.faults.errors[cmd];
  if (!e) return null;
  const count = e.count === undefined ? 1 : e.count;
  if (count <= 0) { delete state.faults.errors[cmd]; return null; }
  e.count = count - 1;
  if (e.count <= 0) delete state.faults.errors[cmd];
  const code = codec.SERVER_ERROR[e.error || 'ServiceNotReady'];
  return { code: code === undefined ? 0 : code, name: e.error || 'ServiceNotReady', message: e.message || `injected ${e.error || 'ServiceNotReady'}` };
}

// ------------------------------------------------------------------ topics
function normTopic(name) {
  if (!name) throw new Error('topic missing');
  let t = String(name);
  if (!t.includes('://')) {
    const parts = t.split('/');
    if (parts.length === 1) t = `persistent://public/default/${t}`;
    else if (parts.length === 3) t = `persistent://${t}`;
    else throw new Error(`bad topic name ${name}`);
  }
  const m = /^(persistent|non-persistent):\/\/([^/]+)\/([^/]+)\/(.+)$/.exec(t);
  if (!m) throw new Error(`bad topic name ${name}`);
  return t;
}
function splitPartition(full) {
  const m = /^(.*)-partition-(\d+)$/.exec(full);
  return m ? { parent: m[1], index: parseInt(m[2], 10) } : { parent: full, index: -1 };
}

class Topic {
  constructor(name, owner, partitionIndex, ledgerSize) {
    this.name = name;
    this.owner = owner;
    this.partitionIndex = partitionIndex;
    this.ledgerSize = ledgerSize > 0 ? ledgerSize : Infinity;
    this.firstLedger = state.nextLedger;
    state.nextLedger += 1000;
    this.entries = [];
    this.subs = new Map();
    this.producers = new Set();
    this.seqByProducer = new Map();
  }
  idOf(idx) {
    if (this.ledgerSize === Infinity) return { ledgerId: this.firstLedger, entryId: idx };
    return { ledgerId: this.firstLedger + Math.floor(idx / this.ledgerSize), entryId: idx % this.ledgerSize };
  }
  // exact index of an existing entry, or -1
  exactIndex(ledgerId, entryId) {
    let idx;
    if (this.ledgerSize === Infinity) idx = ledgerId === this.firstLedger ? entryId : -1;
    else idx = ledgerId >= this.firstLedger && entryId >= 0 && entryId < this.ledgerSize
      ? (ledgerId - this.firstLedger) * this.ledgerSize + entryId : -1;
    return idx >= 0 && idx < this.entries.length ? idx : -1;
  }
  // first index at or after a message id (ids read as signed: -1 = earliest)
  startIndex(ledgerId, entryId) {
    if (ledgerId < this.firstLedger) return 0;
    let idx;
    if (this.ledgerSize === Infinity) idx = ledgerId === this.firstLedger ? entryId : this.entries.length;
    else idx = (ledgerId - this.firstLedger) * this.ledgerSize + Math.min(Math.max(entryId, 0), this.ledgerSize);
    return Math.min(Math.max(idx, 0), this.entries.length);
  }
  // index of a position, -1 (before the first entry) .. entries.length-1
  posIndex(ledgerId, entryId) {
    let idx;
    if (ledgerId < this.firstLedger) idx = -1;
    else if (this.ledgerSize === Infinity) idx = ledgerId === this.firstLedger ? entryId : this.entries.length - 1;
    else idx = (ledgerId - this.firstLedger) * this.ledgerSize + Math.min(entryId, this.ledgerSize - 1);
    return Math.min(Math.max(idx, -1), this.entries.length - 1);
  }
  idString(idx, batch = -1) {
    const id = this.idOf(idx);
    return `${id.ledgerId}:${id.entryId}:${this.partitionIndex}:${batch}`;
  }
  append(entry) {
    const idx = this.entries.length;
    entry.index = idx;
    this.entries.push(entry);
    return idx;
  }
  dispatchAll() { for (const s of this.subs.values()) dispatch(s); }
}

function partitionOwners(p) {
  return p.owners;
}

function createTopic({ topic, partitions = 0, owner = 0, owners, ledgerSize = 0 }) {
  const name = normTopic(topic);
  const nb = state.brokers.length;
  owner = ((parseInt(owner, 10) || 0) % nb + nb) % nb;
  partitions = parseInt(partitions, 10) || 0;
  if (partitions > 0) {
    if (state.topics.has(name)) throw new Error(`${name} exists as a non-partitioned topic`);
    let p = state.partitioned.get(name);
    if (!p) {
      const ow = [];
      for (let i = 0; i < partitions; i++) ow.push(owners && owners[i] !== undefined ? owners[i] % nb : (owner + i) % nb);
      p = { partitions, owners: ow, owner };
      state.partitioned.set(name, p);
      for (let i = 0; i < partitions; i++) {
        const pn = `${name}-partition-${i}`;
        if (!state.topics.has(pn)) state.topics.set(pn, new Topic(pn, ow[i], i, ledgerSize));
      }
    }
    return { topic: name, partitions: p.partitions, owners: partitionOwners(p) };
  }
  if (state.partitioned.has(name)) throw new Error(`${name} exists as a partitioned topic`);
  let t = state.topics.get(name);
  if (!t) {
    const sp = splitPartition(name);
    const pp = state.partitioned.get(sp.parent);
    if (pp && sp.index >= pp.partitions) throw new Error(`${name}: partition out of range`);
    t = new Topic(name, owner, sp.index, ledgerSize);
    state.topics.set(name, t);
  }
  return { topic: name, partitions: 0, owner: t.owner };
}

// look a topic up, creating it when auto-creation is on. Returns Topic,
// or null (not found), or {partitionedParent} when the name is a partitioned parent.
function findTopic(name, create = opts.autoCreate) {
  const full = normTopic(name);
  if (state.partitioned.has(full)) return { partitionedParent: state.partitioned.get(full), name: full };
  let t = state.topics.get(full);
  if (!t && create) {
    createTopic({ topic: full });
    t = state.topics.get(full);
  }
  return t || null;
}

// ------------------------------------------------------------------ subscriptions
const SUB_TYPES = ['Exclusive', 'Shared', 'Failover', 'Key_Shared'];

class Subscription {
  constructor(topic, name, type, markDelete, durable = true) {
    this.topic = topic;
    this.name = name;
    this.type = type;
    this.durable = durable;
    this.markDelete = markDelete;
    this.acked = new Set();
    this.batchAcks = new Map();   // index -> BigInt of still-unacked batch indexes
    this.readPos = markDelete + 1;
    this.replay = [];             // sorted indexes to redeliver
    this.consumers = [];
    this.owner = new Map();       // index -> consumer holding it unacked
    this.deliveries = new Map();  // index -> times dispatched
    this.rr = 0;
    this.activeId = null;
    this.msgOut = 0;
  }
  isAcked(idx) { return idx <= this.markDelete || this.acked.has(idx); }
  release(idx) {
    const c = this.owner.get(idx);
    if (c) { c.pending.delete(idx); this.owner.delete(idx); }
  }
  ackIndividual(idx) {
    if (idx <= this.markDelete) return;
    this.acked.add(idx);
    this.batchAcks.delete(idx);
    this.release(idx);
    this.advance();
  }
  advance() {
    while (this.acked.has(this.markDelete + 1)) {
      this.acked.delete(this.markDelete + 1);
      this.markDelete++;
    }
    if (this.readPos < this.markDelete + 1) this.readPos = this.markDelete + 1;
  }
  cumulativeTo(idx) {
    for (let i = this.markDelete + 1; i <= idx; i++) {
      this.release(i);
      this.acked.delete(i);
      this.batchAcks.delete(i);
    }
    if (idx > this.markDelete) this.markDelete = idx;
    this.advance();
  }
  partialAck(idx, words) {
    if (this.isAcked(idx)) return;
    const e = this.topic.entries[idx];
    const n = e.numMessages;
    let cur = this.batchAcks.get(idx);
    if (cur === undefined) cur = (1n << BigInt(n)) - 1n;
    let mask = 0n;
    words.forEach((w, i) => { mask |= BigInt.asUintN(64, BigInt(w.toString())) << BigInt(64 * i); });
    cur &= mask;
    if (cur === 0n) this.ackIndividual(idx);
    else this.batchAcks.set(idx, cur);
  }
  addReplay(idx) {
    let lo = 0; let hi = this.replay.length;
    while (lo < hi) { const mid = (lo + hi) >> 1; if (this.replay[mid] < idx) lo = mid + 1; else hi = mid; }
    if (this.replay[lo] !== idx) this.replay.splice(lo, 0, idx);
  }
  rewind() {
    for (const c of this.consumers) c.pending.clear();
    this.owner.clear();
    this.replay = [];
    this.readPos = this.markDelete + 1;
  }
  backlog() {
    let msgs = 0; let entries = 0;
    const es = this.topic.entries;
    for (let i = this.markDelete + 1; i < es.length; i++) {
      if (this.acked.has(i)) continue;
      entries++;
      const b = this.batchAcks.get(i);
      if (b !== undefined) { let x = b; while (x) { msgs += Number(x & 1n); x >>= 1n; } } else msgs += es[i].numMessages;
    }
    return { messages: msgs, entries };
  }
  activeConsumer() {
    if (this.consumers.length === 0) return null;
    if (this.type === 'Exclusive') return this.consumers[0];
    // Failover: lowest priority level, then consumer name
    const sorted = [...this.consumers].sort((a, b) => (a.priority - b.priority) || (a.name < b.name ? -1 : a.name > b.name ? 1 : a.seq - b.seq));
    if (this.topic.partitionIndex >= 0) return sorted[this.topic.partitionIndex % sorted.length];
    return sorted[0];
  }
  state() {
    const t = this.topic;
    const md = this.markDelete >= 0 ? t.idOf(this.markDelete) : { ledgerId: t.firstLedger, entryId: -1 };
    return {
      topic: t.name,
      subscription: this.name,
      type: this.type,
      durable: this.durable,
      markDelete: `${md.ledgerId}:${md.entryId}`,
      markDeleteIndex: this.markDelete,
      acked: [...this.acked].sort((a, b) => a - b).map((i) => { const id = t.idOf(i); return `${id.ledgerId}:${id.entryId}`; }),
      batchAcks: Object.fromEntries([...this.batchAcks].map(([i, b]) => { const id = t.idOf(i); return [`${id.ledgerId}:${id.entryId}`, b.toString(2)]; })),
      backlog: this.backlog().messages,
      backlogEntries: this.backlog().entries,
      entries: t.entries.length,
      readPosition: this.readPos,
      replayQueue: this.replay.length,
      unacked: this.owner.size,
      msgOut: this.msgOut,
      consumersConnected: this.consumers.length,
      consumers: this.consumers.map((c) => ({
        consumerId: c.id, name: c.name, conn: c.conn.id, broker: c.conn.broker.index, permits: c.permits,
        pending: c.pending.size, msgOut: c.msgOut, active: this.type === 'Failover' ? this.activeConsumer() === c : undefined,
      })),
    };
  }
}

function keyHash(key) { return crc32c(Buffer.from(key || '')) % 65536; }

function hasPermits(c, e) {
  return faultsFor(c.conn).permits === 'broker' ? c.permits > 0 : c.permits >= e.numMessages;
}

function pickConsumer(sub, e) {
  const cs = sub.consumers;
  if (cs.length === 0) return null;
  if (sub.type === 'Exclusive' || sub.type === 'Failover') {
    const c = sub.activeConsumer();
    return c && hasPermits(c, e) ? c : null;
  }
  if (sub.type === 'Shared') {
    for (let k = 0; k < cs.length; k++) {
      const c = cs[(sub.rr + k) % cs.length];
      if (hasPermits(c, e)) { sub.rr = (sub.rr + k + 1) % cs.length; return c; }
    }
    return null;
  }
  // Key_Shared: sticky ranges if given, else auto split of 0..65535
  const h = keyHash(e.key);
  let target = null;
  for (const c of cs) {
    if (c.ranges && c.ranges.some((r) => h >= r.start && h <= r.end)) { target = c; break; }
  }
  if (!target) {
    const auto = cs.filter((c) => !c.ranges);
    if (auto.length === 0) return null;
    target = auto[Math.floor((h * auto.length) / 65536)];
  }
  return hasPermits(target, e) ? target : null;
}

function sendMessage(sub, c, idx) {
  const t = sub.topic;
  const e = t.entries[idx];
  const id = t.idOf(idx);
  const prev = sub.deliveries.get(idx) || 0;
  sub.deliveries.set(idx, prev + 1);
  const body = { consumer_id: c.id, message_id: { ledgerId: id.ledgerId, entryId: id.entryId, partition: t.partitionIndex } };
  if (prev > 0) body.redelivery_count = prev;
  const ba = sub.batchAcks.get(idx);
  if (ba !== undefined) {
    const words = [];
    let x = ba;
    const nw = Math.ceil(e.numMessages / 64);
    for (let i = 0; i < nw; i++) { words.push(codec.Long.fromString(BigInt.asIntN(64, x & 0xffffffffffffffffn).toString())); x >>= 64n; }
    body.ack_set = words;
  }
  const f = faultsFor(c.conn);
  const cmd = encodeCommand('MESSAGE', body, { unknownFields: f.unknownFields });
  let bem = null;
  if (f.brokerEntryMetadata === true || (f.brokerEntryMetadata === 'ifSupported' && c.conn.supportsBEM)) {
    bem = codec.brokerEntryMetadataPart({ broker_timestamp: Date.now(), index: idx });
  }
  let frame = payloadFrame(cmd, e.tail, bem);
  if (f.corruptChecksum > 0) {
    f.corruptChecksum--;
    frame = Buffer.from(frame);
    const crcOff = 8 + cmd.length + (bem ? bem.length : 0) + 2;
    frame[crcOff] ^= 0x5a;
    log(`fault: corrupted checksum of ${t.idString(idx)} to consumer ${c.id}`);
  }
  c.permits -= e.numMessages;
  c.pending.add(idx);
  c.msgOut++;
  sub.msgOut++;
  sub.owner.set(idx, c);
  state.stats.messagesOut++;
  c.conn.send(frame);
  if (f.dropAfterMessages > 0 && --f.dropAfterMessages === 0) {
    log(`fault: dropping connection ${c.conn.id} after MESSAGE ${t.idString(idx)}`);
    c.conn.drop();
  }
}

function dispatch(sub) {
  if (sub.dispatching) return;
  sub.dispatching = true;
  try {
    dispatchInner(sub);
  } finally {
    sub.dispatching = false;
  }
}

function dispatchInner(sub) {
  const t = sub.topic;
  let budget = 2000;
  const blocked = () => sub.consumers.some((c) => c.conn.socket.writableLength > 8 * 1024 * 1024);
  if (sub.consumers.length === 0) return;
  if (blocked()) { scheduleDrain(sub); return; }
  for (let i = 0; i < sub.replay.length && budget > 0;) {
    const idx = sub.replay[i];
    if (sub.isAcked(idx) || sub.owner.has(idx) || idx >= t.entries.length) { sub.replay.splice(i, 1); continue; }
    const c = pickConsumer(sub, t.entries[idx]);
    if (!c) {
      if (sub.type === 'Key_Shared') { i++; continue; }
      return;
    }
    sub.replay.splice(i, 1);
    sendMessage(sub, c, idx);
    budget--;
  }
  while (sub.readPos < t.entries.length && budget > 0) {
    const idx = sub.readPos;
    if (sub.isAcked(idx) || sub.owner.has(idx)) { sub.readPos++; continue; }
    const c = pickConsumer(sub, t.entries[idx]);
    if (!c) {
      if (sub.type === 'Key_Shared' && sub.consumers.some((x) => x.permits > 0)) {
        sub.addReplay(idx);
        sub.readPos++;
        budget--;
        continue;
      }
      return;
    }
    sub.readPos++;
    sendMessage(sub, c, idx);
    budget--;
  }
  if (budget <= 0) {
    if (blocked()) scheduleDrain(sub);
    else setImmediate(() => dispatch(sub));
  }
}

function scheduleDrain(sub) {
  for (const c of sub.consumers) {
    if (c.conn.socket.writableLength > 8 * 1024 * 1024 && !c.conn.drainWaiters.has(sub)) {
      c.conn.drainWaiters.add(sub);
    }
  }
}

// ------------------------------------------------------------------ connections
class Conn {
  constructor(broker, socket, secure) {
    this.id = ++state.connSeq;
    this.broker = broker;
    this.socket = socket;
    this.secure = secure;
    this.splitter = new codec.FrameSplitter();
    this.connected = false;
    this.consumers = new Map();
    this.producers = new Map();
    this.outQ = [];
    this.pumping = false;
    this.closed = false;
    this.framesOut = 0;
    this.waitingPong = false;
    this.drainWaiters = new Set();
    this.remote = `${socket.remoteAddress}:${socket.remotePort}`;
    socket.setNoDelay(true);
    socket.on('data', (d) => this.onData(d));
    socket.on('error', (e) => vlog(`conn ${this.id}: ${e.message}`));
    socket.on('close', () => this.onClose());
    socket.on('drain', () => {
      const subs = [...this.drainWaiters];
      this.drainWaiters.clear();
      for (const s of subs) dispatch(s);
    });
    if (opts.pingIntervalMs > 0) {
      this.pingTimer = setInterval(() => {
        if (!this.connected) return;
        if (this.waitingPong) {
          log(`conn ${this.id}: no answer to PING, closing`);
          this.drop();
          return;
        }
        this.waitingPong = true;
        this.sendCmd('PING', {});
      }, opts.pingIntervalMs);
    }
    state.conns.add(this);
    vlog(`conn ${this.id}: accepted on broker ${broker.index}${secure ? ' (TLS)' : ''} from ${this.remote}`);
  }

  info() {
    return {
      id: this.id, broker: this.broker.index, tls: this.secure, remote: this.remote, connected: this.connected,
      clientVersion: this.clientVersion, protocolVersion: this.protocolVersion, authMethod: this.authMethod,
      proxyToBrokerUrl: this.proxyToBrokerUrl, featureFlags: this.featureFlags,
      consumers: [...this.consumers.keys()], producers: [...this.producers.keys()],
    };
  }

  send(buf) {
    if (this.closed) return;
    const f = faultsFor(this);
    this.framesOut++;
    state.stats.framesOut++;
    if (f.unknownCommandEvery > 0 && this.framesOut % f.unknownCommandEvery === 0) {
      this.rawSend(unknownCommandFrame());
    }
    this.rawSend(buf);
  }

  rawSend(buf) {
    if (faultsFor(this).splitWrites || this.outQ.length) {
      this.outQ.push(buf);
      this.pump();
    } else {
      this.socket.write(buf);
    }
  }

  pump() {
    if (this.pumping) return;
    this.pumping = true;
    let cur = null; let off = 0;
    const step = () => {
      if (this.closed) { this.outQ = []; this.pumping = false; return; }
      if (!cur) {
        cur = this.outQ.shift();
        off = 0;
        if (!cur) { this.pumping = false; return; }
      }
      if (faultsFor(this).splitWrites) {
        this.socket.write(cur.subarray(off, off + 1));
        off++;
      } else {
        this.socket.write(cur.subarray(off));
        off = cur.length;
      }
      if (off >= cur.length) cur = null;
      const d = faultsFor(this).splitDelayMs;
      if (d > 0) setTimeout(step, d); else setImmediate(step);
    };
    step();
  }

  sendCmd(type, body) {
    this.send(simpleFrame(encodeCommand(type, body, { unknownFields: faultsFor(this).unknownFields })));
  }

  sendError(requestId, name, message) {
    this.sendCmd('ERROR', { request_id: requestId, error: codec.SERVER_ERROR[name], message });
  }

  drop() {
    if (this.closed) return;
    this.socket.destroy();
    this.onClose();
  }

  closeAfterFlush() {
    this.socket.end();
    setTimeout(() => this.drop(), 200).unref();
  }

  onClose() {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.pingTimer);
    state.conns.delete(this);
    for (const c of [...this.consumers.values()]) removeConsumer(c, 'connection closed');
    for (const p of this.producers.values()) p.topic.producers.delete(p);
    this.producers.clear();
    vlog(`conn ${this.id}: closed`);
  }

  onData(d) {
    let frames;
    try {
      frames = this.splitter.push(d);
    } catch (e) {
      log(`conn ${this.id}: framing error: ${e.message}; closing`);
      this.drop();
      return;
    }
    for (const fr of frames) {
      if (this.closed) return;
      let cmd;
      try {
        cmd = codec.decodeFrame(fr);
      } catch (e) {
        log(`conn ${this.id}: cannot decode command: ${e.message}; closing`);
        recordEvent({ dir: 'in', conn: this.id, broker: this.broker.index, type: 'DECODE_ERROR', error: e.message });
        this.drop();
        return;
      }
      this.waitingPong = false;
      state.stats.commandsIn++;
      recordEvent({ dir: 'in', conn: this.id, broker: this.broker.index, type: cmd.type, body: bodyJson(cmd.body) });
      vlog(`conn ${this.id} <- ${cmd.type} ${JSON.stringify(bodyJson(cmd.body))}`);
      try {
        handleCommand(this, cmd);
      } catch (e) {
        log(`conn ${this.id}: error handling ${cmd.type}: ${e.stack}`);
      }
      const f = faultsFor(this);
      if (f.dropAfterCommands > 0 && --f.dropAfterCommands === 0) {
        log(`fault: dropping connection ${this.id} after command ${cmd.type}`);
        this.drop();
        return;
      }
    }
  }
}

function unknownCommandFrame() {
  // BaseCommand{type = 99, field 99 = bytes}: a command type no client knows
  return simpleFrame(Buffer.concat([Buffer.from([0x08, 99]), codec.varint((99 << 3) | 2), Buffer.from([3]), Buffer.from('???'), codec.UNKNOWN_FIELDS]));
}

function bodyJson(body) {
  if (!body || !body.$type) return undefined;
  const o = body.$type.toObject(body, { longs: Number, enums: String, bytes: String, defaults: false });
  if (o.auth_data) o.auth_data = `<${Buffer.from(o.auth_data, 'base64').length} bytes>`;
  if (o.response && o.response.auth_data) o.response.auth_data = '<redacted>';
  return o;
}

// signed reading of a uint64 id (Long)
function sid(x) {
  if (x === undefined || x === null) return x;
  if (codec.Long.isLong(x)) return x.toSigned().toNumber();
  return Number(x);
}

function tokenOk(method, data) {
  if (opts.tokens.length === 0) return true;
  if (method !== 'token' || !data) return false;
  return opts.tokens.includes(Buffer.from(data).toString('utf8'));
}

function ownsTopic(conn, topic) {
  return topic.owner === conn.broker.index || !!conn.proxyToBrokerUrl;
}

// ------------------------------------------------------------------ command handlers
function handleCommand(conn, cmd) {
  const b = cmd.body;
  if (!conn.connected && !['CONNECT', 'AUTH_RESPONSE', 'PING', 'PONG'].includes(cmd.type)) {
    log(`conn ${conn.id}: ${cmd.type} before CONNECT; closing`);
    conn.drop();
    return;
  }
  const sil = faultsFor(conn).silence;
  if (sil && sil[cmd.type] > 0) {
    sil[cmd.type]--;
    if (sil[cmd.type] <= 0) delete sil[cmd.type];
    log(`fault: ignoring ${cmd.type} on conn ${conn.id}`);
    return;
  }
  switch (cmd.type) {
    case 'CONNECT': return onConnect(conn, b);
    case 'AUTH_RESPONSE': return onAuthResponse(conn, b);
    case 'PING': if (!faultsFor(conn).noPong) conn.sendCmd('PONG', {}); return;
    case 'PONG': return;
    case 'LOOKUP': return onLookup(conn, b);
    case 'PARTITIONED_METADATA': return onPartitionedMetadata(conn, b);
    case 'SUBSCRIBE': return onSubscribe(conn, b);
    case 'FLOW': return onFlow(conn, b);
    case 'ACK': return onAck(conn, b);
    case 'REDELIVER_UNACKNOWLEDGED_MESSAGES': return onRedeliver(conn, b);
    case 'SEEK': return onSeek(conn, b);
    case 'GET_LAST_MESSAGE_ID': return onGetLastMessageId(conn, b);
    case 'CONSUMER_STATS': return onConsumerStats(conn, b);
    case 'CLOSE_CONSUMER': return onCloseConsumer(conn, b);
    case 'UNSUBSCRIBE': return onUnsubscribe(conn, b);
    case 'PRODUCER': return onProducer(conn, b);
    case 'SEND': return onSend(conn, b, cmd);
    case 'CLOSE_PRODUCER': return onCloseProducer(conn, b);
    default:
      log(`conn ${conn.id}: ignoring command ${cmd.type}`);
  }
}

function onConnect(conn, b) {
  conn.clientVersion = b.client_version;
  conn.protocolVersion = b.protocol_version || 0;
  conn.authMethod = b.auth_method_name;
  conn.proxyToBrokerUrl = b.proxy_to_broker_url || undefined;
  conn.featureFlags = b.feature_flags ? bodyJson(b.feature_flags) : undefined;
  conn.supportsBEM = !!(b.feature_flags && b.feature_flags.supports_broker_entry_metadata);
  const inj = takeError('CONNECT', conn);
  if (inj) {
    conn.sendCmd('ERROR', { request_id: codec.U64_MINUS_ONE, error: inj.code, message: inj.message });
    conn.closeAfterFlush();
    return;
  }
  if (!tokenOk(b.auth_method_name, b.auth_data)) {
    log(`conn ${conn.id}: authentication failed (method ${b.auth_method_name || 'none'})`);
    conn.sendCmd('ERROR', { request_id: codec.U64_MINUS_ONE, error: codec.SERVER_ERROR.AuthenticationError, message: 'Unable to authenticate' });
    conn.closeAfterFlush();
    return;
  }
  if (faultsFor(conn).challengeOnConnect) {
    conn.challengePending = true;
    sendChallenge(conn);
    return;
  }
  sendConnected(conn);
}

function sendConnected(conn) {
  conn.connected = true;
  conn.sendCmd('CONNECTED', {
    server_version: SERVER_VERSION,
    protocol_version: Math.min(conn.protocolVersion || 0, 19),
    max_message_size: MAX_MESSAGE_SIZE,
    feature_flags: { supports_auth_refresh: true, supports_broker_entry_metadata: true },
  });
}

function sendChallenge(conn) {
  conn.awaitingAuth = true;
  conn.sendCmd('AUTH_CHALLENGE', {
    server_version: SERVER_VERSION,
    challenge: { auth_method_name: 'token', auth_data: Buffer.from('refresh') },
    protocol_version: Math.min(conn.protocolVersion || 0, 19),
  });
}

function onAuthResponse(conn, b) {
  const r = b.response || {};
  const ok = tokenOk(r.auth_method_name || 'token', r.auth_data);
  conn.awaitingAuth = false;
  conn.authResponses = (conn.authResponses || 0) + 1;
  if (!ok) {
    log(`conn ${conn.id}: AUTH_RESPONSE rejected`);
    conn.sendCmd('ERROR', { request_id: codec.U64_MINUS_ONE, error: codec.SERVER_ERROR.AuthenticationError, message: 'Unable to authenticate' });
    conn.closeAfterFlush();
    return;
  }
  if (conn.challengePending) {
    conn.challengePending = false;
    sendConnected(conn);
  }
}

function brokerUrls(br) {
  return {
    brokerServiceUrl: br.serviceUrl,
    brokerServiceUrlTls: br.serviceUrlTls || undefined,
  };
}

function onLookup(conn, b) {
  const rid = b.request_id;
  const inj = takeError('LOOKUP', conn);
  if (inj) {
    conn.sendCmd('LOOKUP_RESPONSE', { request_id: rid, response: 2, error: inj.code, message: inj.message });
    return;
  }
  let t;
  try { t = findTopic(b.topic); } catch (e) {
    conn.sendCmd('LOOKUP_RESPONSE', { request_id: rid, response: 2, error: codec.SERVER_ERROR.InvalidTopicName, message: e.message });
    return;
  }
  if (!t) {
    conn.sendCmd('LOOKUP_RESPONSE', { request_id: rid, response: 2, error: codec.SERVER_ERROR.TopicNotFound, message: `Topic not found ${b.topic}` });
    return;
  }
  const ownerIdx = t.partitionedParent ? t.partitionedParent.owner : t.owner;
  const owner = state.brokers[ownerIdx];
  if (faultsFor(conn).lookupProxy) {
    conn.sendCmd('LOOKUP_RESPONSE', { request_id: rid, response: 1, authoritative: true, proxy_through_service_url: true, ...brokerUrls(owner) });
    return;
  }
  if (owner === conn.broker) {
    conn.sendCmd('LOOKUP_RESPONSE', { request_id: rid, response: 1, authoritative: !!b.authoritative, ...brokerUrls(owner) });
  } else {
    conn.sendCmd('LOOKUP_RESPONSE', { request_id: rid, response: 0, authoritative: true, ...brokerUrls(owner) });
  }
}

function onPartitionedMetadata(conn, b) {
  const rid = b.request_id;
  const inj = takeError('PARTITIONED_METADATA', conn);
  if (inj) {
    conn.sendCmd('PARTITIONED_METADATA_RESPONSE', { request_id: rid, response: 1, error: inj.code, message: inj.message });
    return;
  }
  let t;
  try { t = findTopic(b.topic); } catch (e) {
    conn.sendCmd('PARTITIONED_METADATA_RESPONSE', { request_id: rid, response: 1, error: codec.SERVER_ERROR.InvalidTopicName, message: e.message });
    return;
  }
  if (!t) {
    conn.sendCmd('PARTITIONED_METADATA_RESPONSE', { request_id: rid, response: 1, error: codec.SERVER_ERROR.TopicNotFound, message: `Topic not found ${b.topic}` });
    return;
  }
  conn.sendCmd('PARTITIONED_METADATA_RESPONSE', { request_id: rid, response: 0, partitions: t.partitionedParent ? t.partitionedParent.partitions : 0 });
}

function onSubscribe(conn, b) {
  const rid = b.request_id;
  const cid = num(b.consumer_id);
  const inj = takeError('SUBSCRIBE', conn);
  if (inj) return conn.sendError(rid, inj.name, inj.message);
  if (conn.consumers.has(cid)) {
    // a repeated subscribe for a consumer that exists: answer success again
    conn.sendCmd('SUCCESS', { request_id: rid });
    return;
  }
  let t;
  try { t = findTopic(b.topic, b.force_topic_creation !== false && opts.autoCreate); } catch (e) {
    return conn.sendError(rid, 'InvalidTopicName', e.message);
  }
  if (!t) return conn.sendError(rid, 'TopicNotFound', `Topic ${b.topic} does not exist`);
  if (t.partitionedParent) return conn.sendError(rid, 'TopicNotFound', `${b.topic} is partitioned: subscribe to its partitions`);
  if (!ownsTopic(conn, t)) return conn.sendError(rid, 'ServiceNotReady', `Namespace bundle for topic ${t.name} not served by this instance (broker ${conn.broker.index}); owner is broker ${t.owner}`);
  const type = SUB_TYPES[b.subType];
  if (!type) return conn.sendError(rid, 'UnknownError', `unknown subType ${b.subType}`);
  const durable = b.durable !== false;
  let sub = t.subs.get(b.subscription);
  if (sub && sub.consumers.length > 0 && sub.type !== type) {
    return conn.sendError(rid, 'ConsumerBusy', `Subscription is of different type (${sub.type})`);
  }
  if (sub && sub.type === 'Exclusive' && type === 'Exclusive' && sub.consumers.length > 0) {
    return conn.sendError(rid, 'ConsumerBusy', 'Exclusive consumer is already connected');
  }
  if (!sub) {
    let md;
    if (b.start_message_id && !durable) {
      // non-durable (reader): start_message_id is the last consumed position
      const sm = b.start_message_id;
      md = t.posIndex(sid(sm.ledgerId), sid(sm.entryId));
    } else {
      md = b.initialPosition === 1 ? -1 : t.entries.length - 1;
    }
    sub = new Subscription(t, b.subscription, type, md, durable);
    t.subs.set(b.subscription, sub);
  } else if (sub.consumers.length === 0) {
    sub.type = type;
    sub.rewind();
  }
  const c = {
    id: cid, conn, sub, name: b.consumer_name || `consumer-${conn.id}-${cid}`, priority: b.priority_level || 0,
    permits: 0, pending: new Set(), msgOut: 0, seq: ++state.connSeq,
  };
  if (b.keySharedMeta && b.keySharedMeta.keySharedMode === 1 && b.keySharedMeta.hashRanges && b.keySharedMeta.hashRanges.length) {
    c.ranges = b.keySharedMeta.hashRanges.map((r) => ({ start: r.start, end: r.end }));
  }
  const prevActive = sub.type === 'Failover' ? sub.activeConsumer() : null;
  sub.consumers.push(c);
  conn.consumers.set(cid, c);
  conn.sendCmd('SUCCESS', { request_id: rid });
  log(`conn ${conn.id}: consumer ${cid} (${c.name}) subscribed ${t.name} sub=${sub.name} ${type} markDelete=${sub.markDelete}`);
  if (sub.type === 'Failover') failoverChanged(sub, prevActive);
  dispatch(sub);
}

function failoverChanged(sub, prevActive) {
  const act = sub.activeConsumer();
  for (const c of sub.consumers) {
    c.conn.sendCmd('ACTIVE_CONSUMER_CHANGE', { consumer_id: c.id, is_active: c === act });
  }
  if (prevActive && act !== prevActive) {
    // the new active consumer re-reads everything not acknowledged
    sub.rewind();
  }
}

function removeConsumer(c, why) {
  const sub = c.sub;
  const i = sub.consumers.indexOf(c);
  if (i < 0) return;
  const prevActive = sub.type === 'Failover' || sub.type === 'Exclusive' ? sub.activeConsumer() : null;
  sub.consumers.splice(i, 1);
  c.conn.consumers.delete(c.id);
  for (const idx of c.pending) { sub.owner.delete(idx); sub.addReplay(idx); }
  c.pending.clear();
  log(`consumer ${c.id} (${c.name}) of ${sub.topic.name} sub=${sub.name} removed: ${why}`);
  if (sub.consumers.length === 0) {
    if (!sub.durable) sub.topic.subs.delete(sub.name);
    else sub.rewind();
    return;
  }
  if (sub.type === 'Failover') failoverChanged(sub, prevActive);
  dispatch(sub);
}

function onFlow(conn, b) {
  const c = conn.consumers.get(num(b.consumer_id));
  if (!c) return;
  c.permits += b.messagePermits;
  dispatch(c.sub);
}

function onAck(conn, b) {
  const c = conn.consumers.get(num(b.consumer_id));
  const hasRid = b.request_id !== undefined && b.request_id !== null && Object.prototype.hasOwnProperty.call(b, 'request_id');
  const reply = (err, msg) => {
    if (!hasRid) return;
    const body = { consumer_id: b.consumer_id, request_id: b.request_id };
    if (err) { body.error = codec.SERVER_ERROR[err]; body.message = msg; }
    conn.sendCmd('ACK_RESPONSE', body);
  };
  if (!c) return reply('ConsumerNotFound', 'Consumer not found');
  const inj = takeError('ACK', conn);
  if (inj) return reply(inj.name, inj.message);
  const sub = c.sub;
  const t = sub.topic;
  const cumulative = b.ack_type === 1;
  if (cumulative && (sub.type === 'Shared' || sub.type === 'Key_Shared')) {
    log(`consumer ${c.id}: cumulative ack on ${sub.type} subscription refused`);
    return reply('NotAllowedError', `Cumulative ack is not allowed for ${sub.type} subscription`);
  }
  for (const mid of b.message_id || []) {
    const idx = t.exactIndex(sid(mid.ledgerId), sid(mid.entryId));
    if (idx < 0) { log(`consumer ${c.id}: ack of unknown message ${sid(mid.ledgerId)}:${sid(mid.entryId)} ignored`); continue; }
    const ackSet = mid.ack_set && mid.ack_set.length ? mid.ack_set : null;
    if (cumulative) {
      if (ackSet) { sub.cumulativeTo(idx - 1); sub.partialAck(idx, ackSet); } else sub.cumulativeTo(idx);
    } else if (ackSet) {
      sub.partialAck(idx, ackSet);
    } else {
      sub.ackIndividual(idx);
    }
  }
  reply();
}

function onRedeliver(conn, b) {
  const c = conn.consumers.get(num(b.consumer_id));
  if (!c) return;
  const sub = c.sub;
  if (sub.type === 'Exclusive' || sub.type === 'Failover') {
    sub.rewind();
  } else {
    const t = sub.topic;
    const ids = b.message_ids || [];
    const list = ids.length ? ids.map((m) => t.exactIndex(sid(m.ledgerId), sid(m.entryId))).filter((i) => i >= 0 && c.pending.has(i)) : [...c.pending];
    for (const idx of list) { sub.release(idx); sub.addReplay(idx); }
  }
  dispatch(sub);
}

function onSeek(conn, b) {
  const rid = b.request_id;
  const c = conn.consumers.get(num(b.consumer_id));
  if (!c) return conn.sendError(rid, 'ConsumerNotFound', 'Consumer not found');
  const inj = takeError('SEEK', conn);
  if (inj) return conn.sendError(rid, inj.name, inj.message);
  const sub = c.sub;
  const t = sub.topic;
  let start;
  if (b.message_id) {
    start = t.startIndex(sid(b.message_id.ledgerId), sid(b.message_id.entryId));
  } else if (b.message_publish_time !== undefined && b.message_publish_time !== null && Object.prototype.hasOwnProperty.call(b, 'message_publish_time')) {
    const ts = num(b.message_publish_time);
    start = t.entries.findIndex((e) => e.publishTime >= ts);
    if (start < 0) start = t.entries.length;
  } else {
    return conn.sendError(rid, 'UnknownError', 'Message id and message publish time were not present');
  }
  sub.markDelete = start - 1;
  sub.acked.clear();
  sub.batchAcks.clear();
  sub.rewind();
  log(`seek: ${t.name} sub=${sub.name} reset to index ${start}`);
  conn.sendCmd('SUCCESS', { request_id: rid });
  // like the real broker: disconnect the subscription's consumers, they re-subscribe
  for (const x of [...sub.consumers]) {
    x.conn.sendCmd('CLOSE_CONSUMER', { consumer_id: x.id, request_id: codec.U64_MINUS_ONE });
    removeConsumer(x, 'seek');
  }
}

function onGetLastMessageId(conn, b) {
  const rid = b.request_id;
  const c = conn.consumers.get(num(b.consumer_id));
  if (!c) return conn.sendError(rid, 'ConsumerNotFound', 'Consumer not found');
  const inj = takeError('GET_LAST_MESSAGE_ID', conn);
  if (inj) return conn.sendError(rid, inj.name, inj.message);
  const t = c.sub.topic;
  const last = t.entries.length - 1;
  let lastId;
  if (last < 0) lastId = { ledgerId: t.firstLedger, entryId: codec.U64_MINUS_ONE, partition: t.partitionIndex };
  else {
    const e = t.entries[last];
    lastId = { ...t.idOf(last), partition: t.partitionIndex };
    if (e.batched) lastId.batch_index = e.numMessages - 1;
  }
  const md = c.sub.markDelete;
  const mdId = md >= 0 ? { ...t.idOf(md), partition: t.partitionIndex } : { ledgerId: t.firstLedger, entryId: codec.U64_MINUS_ONE, partition: t.partitionIndex };
  const resp = { request_id: rid, last_message_id: lastId, consumer_mark_delete_position: mdId };
  if (faultsFor(conn).noMarkDelete) delete resp.consumer_mark_delete_position;
  conn.sendCmd('GET_LAST_MESSAGE_ID_RESPONSE', resp);
}

// The broker's view of one consumer, from its subscription's state.
function onConsumerStats(conn, b) {
  const rid = b.request_id;
  const c = conn.consumers.get(num(b.consumer_id));
  if (!c) {
    return conn.sendCmd('CONSUMER_STATS_RESPONSE', { request_id: rid,
      error_code: 'ConsumerNotFound', error_message: 'Consumer not found' });
  }
  conn.sendCmd('CONSUMER_STATS_RESPONSE', { request_id: rid, consumerName: c.name || '',
    availablePermits: Math.max(0, c.permits || 0), unackedMessages: c.pending ? c.pending.size : 0,
    type: c.sub.type, msgBacklog: c.sub.backlog().messages });
}

function onCloseConsumer(conn, b) {
  const c = conn.consumers.get(num(b.consumer_id));
  if (c) removeConsumer(c, 'closed by client');
  conn.sendCmd('SUCCESS', { request_id: b.request_id });
}

function onUnsubscribe(conn, b) {
  const c = conn.consumers.get(num(b.consumer_id));
  if (!c) return conn.sendError(b.request_id, 'ConsumerNotFound', 'Consumer not found');
  const sub = c.sub;
  if (sub.consumers.length > 1) return conn.sendError(b.request_id, 'ConsumerBusy', 'Subscription has other connected consumers');
  removeConsumer(c, 'unsubscribe');
  sub.topic.subs.delete(sub.name);
  conn.sendCmd('SUCCESS', { request_id: b.request_id });
}

let producerSeq = 0;
function onProducer(conn, b) {
  const rid = b.request_id;
  const inj = takeError('PRODUCER', conn);
  if (inj) return conn.sendError(rid, inj.name, inj.message);
  let t;
  try { t = findTopic(b.topic); } catch (e) { return conn.sendError(rid, 'InvalidTopicName', e.message); }
  if (!t) return conn.sendError(rid, 'TopicNotFound', `Topic ${b.topic} does not exist`);
  if (t.partitionedParent) return conn.sendError(rid, 'TopicNotFound', `${b.topic} is partitioned: produce to its partitions`);
  if (!ownsTopic(conn, t)) return conn.sendError(rid, 'ServiceNotReady', `topic ${t.name} not served by broker ${conn.broker.index}`);
  const pid = num(b.producer_id);
  const name = b.producer_name || `test-broker-${conn.broker.index}-${++producerSeq}`;
  const p = { id: pid, name, topic: t, conn };
  conn.producers.set(pid, p);
  t.producers.add(p);
  const last = t.seqByProducer.has(name) ? t.seqByProducer.get(name) : -1;
  conn.sendCmd('PRODUCER_SUCCESS', { request_id: rid, producer_name: name, last_sequence_id: last, producer_ready: true });
}

function onSend(conn, b, cmd) {
  const p = conn.producers.get(num(b.producer_id));
  if (!p) {
    conn.sendCmd('SEND_ERROR', { producer_id: b.producer_id, sequence_id: b.sequence_id, error: codec.SERVER_ERROR.UnknownError, message: 'producer not found' });
    return;
  }
  if (!cmd.metadata) {
    conn.sendCmd('SEND_ERROR', { producer_id: b.producer_id, sequence_id: b.sequence_id, error: codec.SERVER_ERROR.UnknownError, message: 'SEND without payload' });
    return;
  }
  const inj = takeError('SEND', conn);
  if (inj) {
    conn.sendCmd('SEND_ERROR', { producer_id: b.producer_id, sequence_id: b.sequence_id, error: inj.code, message: inj.message });
    return;
  }
  if (!cmd.checksumOk) {
    log(`conn ${conn.id}: SEND with a bad checksum`);
    conn.sendCmd('SEND_ERROR', { producer_id: b.producer_id, sequence_id: b.sequence_id, error: codec.SERVER_ERROR.ChecksumError, message: 'Checksum failed on the broker' });
    return;
  }
  const t = p.topic;
  const md = cmd.metadata;
  const has = (k) => Object.prototype.hasOwnProperty.call(md, k);
  const batched = has('num_messages_in_batch');
  const entry = {
    tail: payloadTail(Buffer.from(cmd.metaBuf), Buffer.from(cmd.payload)),
    numMessages: batched ? md.num_messages_in_batch : 1,
    batched,
    publishTime: num(md.publish_time),
    key: md.ordering_key && md.ordering_key.length ? Buffer.from(md.ordering_key).toString('latin1') : (md.partition_key || ''),
    producer: md.producer_name,
  };
  const idx = t.append(entry);
  t.seqByProducer.set(md.producer_name, num(b.sequence_id) + (batched ? entry.numMessages - 1 : 0));
  const id = t.idOf(idx);
  conn.sendCmd('SEND_RECEIPT', {
    producer_id: b.producer_id, sequence_id: b.sequence_id,
    message_id: { ledgerId: id.ledgerId, entryId: id.entryId, partition: t.partitionIndex },
  });
  t.dispatchAll();
}

function onCloseProducer(conn, b) {
  const p = conn.producers.get(num(b.producer_id));
  if (p) { p.topic.producers.delete(p); conn.producers.delete(p.id); }
  conn.sendCmd('SUCCESS', { request_id: b.request_id });
}

// ------------------------------------------------------------------ publishing (control API)
function payloadOf(m, i) {
  if (m.value === null || m.null === true || m.nullValue === true) return { buf: Buffer.alloc(0), isNull: true };
  let s;
  if (m.payloadBase64 !== undefined) return { buf: Buffer.from(m.payloadBase64, 'base64') };
  if (m.payloadHex !== undefined) return { buf: Buffer.from(m.payloadHex, 'hex') };
  s = m.payload !== undefined ? m.payload : m.value !== undefined ? m.value : '';
  if (typeof s !== 'string') s = JSON.stringify(s);
  s = s.replace(/\{i\}/g, String(i));
  if (m.repeat > 1) s = s.repeat(m.repeat);
  return { buf: Buffer.from(s, 'utf8') };
}

function kvs(props, i) {
  if (!props) return [];
  return Object.entries(props).map(([k, v]) => ({ key: k, value: String(v).replace(/\{i\}/g, String(i)) }));
}

// req: {topic, messages:[...]} or a single message's fields at top level,
// plus count, batchSize, codec, chunkSize, interleaveChunks, duplicateChunk,
// producerName, partition, publishTime
function publish(req) {
  let msgs = req.messages;
  if (!msgs) {
    const n = req.count || 1;
    msgs = [];
    for (let i = 0; i < n; i++) msgs.push({ ...req, messages: undefined, __i: i });
  }
  const name = normTopic(req.topic);
  let targets; // list of [Topic, messages with original positions]
  const results = new Array(msgs.length);
  const parted = state.partitioned.get(name);
  if (parted) {
    const groups = new Map();
    let rr = req.partition !== undefined ? null : 0;
    msgs.forEach((m, i) => {
      let p;
      if (m.partition !== undefined) p = m.partition;
      else if (req.partition !== undefined) p = req.partition;
      else if (m.key !== undefined && m.key !== null) p = crc32c(Buffer.from(String(m.key))) % parted.partitions;
      else p = rr++ % parted.partitions;
      p = ((p % parted.partitions) + parted.partitions) % parted.partitions;
      if (!groups.has(p)) groups.set(p, []);
      groups.get(p).push(i);
    });
    targets = [...groups].map(([p, idxs]) => [state.topics.get(`${name}-partition-${p}`), idxs]);
  } else {
    let t = state.topics.get(name);
    if (!t) { createTopic({ topic: name, owner: req.owner || 0 }); t = state.topics.get(name); }
    targets = [[t, msgs.map((_, i) => i)]];
  }
  for (const [t, idxs] of targets) publishTo(t, idxs.map((i) => [i, msgs[i]]), req, results);
  for (const [t] of targets) t.dispatchAll();
  return { topic: name, count: msgs.length, ids: results };
}

function publishTo(t, list, req, results) {
  const producerName = req.producerName || 'ctl-producer';
  let seq = t.seqByProducer.has(producerName) ? t.seqByProducer.get(producerName) + 1 : 0;
  const codecName = req.codec || req.compression || 'none';
  if (CODECS[codecName] === undefined) throw new Error(`unknown codec ${codecName}`);
  const batchSize = parseInt(req.batchSize || req.batch || 0, 10);
  const chunkSize = parseInt(req.chunkSize || 0, 10);
  const basePublish = req.publishTime !== undefined ? Number(req.publishTime) : null;
  const pending = []; // entries to append: {meta, payload, numMessages, batched, key, resultFor: [[resIdx, batchIndex]], chunkOf}
  const meta0 = (m) => {
    const md = { producer_name: producerName, sequence_id: 0, publish_time: m.publishTime !== undefined ? Number(m.publishTime) : (basePublish !== null ? basePublish : Date.now()) };
    return md;
  };
  const finish = (md, raw) => {
    if (codecName !== 'none') {
      const z = compress(codecName, raw);
      md.compression = CODECS[codecName];
      md.uncompressed_size = raw.length;
      return z;
    }
    return raw;
  };
  if (batchSize > 0) {
    for (let s = 0; s < list.length; s += batchSize) {
      const part = list.slice(s, s + batchSize);
      const bufs = [];
      const keys = new Set();
      part.forEach(([ri, m], bi) => {
        const i = m.__i !== undefined ? m.__i : ri;
        const pl = payloadOf(m, i);
        const sm = { payload_size: pl.buf.length, sequence_id: seq + bi };
        const props = kvs(m.properties, i);
        if (props.length) sm.properties = props;
        if (m.key !== undefined && m.key !== null) sm.partition_key = String(m.key).replace(/\{i\}/g, String(i));
        if (m.eventTime !== undefined) sm.event_time = Number(m.eventTime);
        if (m.compactedOut) sm.compacted_out = true;
        if (pl.isNull) sm.null_value = true;
        keys.add(sm.partition_key);
        const smb = codec.encodeSingleMetadata(sm);
        const h = Buffer.allocUnsafe(4);
        h.writeUInt32BE(smb.length, 0);
        bufs.push(h, smb, pl.buf);
      });
      const md = meta0(part[0][1]);
      md.sequence_id = seq;
      md.num_messages_in_batch = part.length;
      if (part.length > 1) md.highest_sequence_id = seq + part.length - 1;
      if (keys.size === 1 && [...keys][0] !== undefined) md.partition_key = [...keys][0];
      const payload = finish(md, Buffer.concat(bufs));
      pending.push({ md, payload, numMessages: part.length, batched: true, key: md.partition_key || '', results: part.map(([ri], bi) => [ri, bi]) });
      seq += part.length;
    }
  } else {
    const chunkLists = [];
    for (const [ri, m] of list) {
      const i = m.__i !== undefined ? m.__i : ri;
      const pl = payloadOf(m, i);
      const md = meta0(m);
      md.sequence_id = seq++;
      const props = kvs(m.properties, i);
      if (props.length) md.properties = props;
      if (m.key !== undefined && m.key !== null) md.partition_key = String(m.key).replace(/\{i\}/g, String(i));
      if (m.eventTime !== undefined) md.event_time = Number(m.eventTime);
      if (pl.isNull) md.null_value = true;
      const payload = finish(md, pl.buf);
      if (chunkSize > 0 && payload.length > chunkSize) {
        const n = Math.ceil(payload.length / chunkSize);
        const uuid = `${producerName}-${md.sequence_id}`;
        const chunks = [];
        for (let k = 0; k < n; k++) {
          const cm = { ...md, uuid, chunk_id: k, num_chunks_from_msg: n, total_chunk_msg_size: payload.length };
          chunks.push({ md: cm, payload: payload.subarray(k * chunkSize, (k + 1) * chunkSize), numMessages: 1, batched: false, key: md.partition_key || '', chunkOf: ri, chunkId: k, numChunks: n });
        }
        const dup = m.duplicateChunk !== undefined ? m.duplicateChunk : req.duplicateChunk;
        if (dup !== undefined && dup !== false) {
          const k = dup === true ? 0 : Math.min(Number(dup), n - 1);
          chunks.splice(k + 1, 0, { ...chunks[k], duplicate: true });
        }
        chunkLists.push(chunks);
      } else {
        chunkLists.push([{ md, payload, numMessages: 1, batched: false, key: md.partition_key || '', results: [[ri, -1]] }]);
      }
    }
    if (req.interleaveChunks) {
      const qs = chunkLists.map((l) => [...l]);
      let any = true;
      while (any) {
        any = false;
        for (const q of qs) if (q.length) { pending.push(q.shift()); any = true; }
      }
    } else {
      for (const l of chunkLists) pending.push(...l);
    }
  }
  for (const p of pending) {
    const metaBuf = codec.encodeMetadata(p.md);
    const entry = {
      tail: payloadTail(metaBuf, p.payload), numMessages: p.numMessages, batched: p.batched,
      publishTime: p.md.publish_time, key: p.key, producer: producerName,
    };
    const idx = t.append(entry);
    const id = t.idOf(idx);
    if (p.results) {
      for (const [ri, bi] of p.results) {
        results[ri] = { ledgerId: id.ledgerId, entryId: id.entryId, partition: t.partitionIndex, batchIndex: bi, id: `${id.ledgerId}:${id.entryId}:${t.partitionIndex}:${bi}`, topic: t.name };
      }
    } else if (p.chunkOf !== undefined && !p.duplicate) {
      const r = results[p.chunkOf] || (results[p.chunkOf] = { topic: t.name, partition: t.partitionIndex, batchIndex: -1, chunks: [] });
      r.chunks.push(`${id.ledgerId}:${id.entryId}`);
      if (p.chunkId === 0) r.firstChunk = `${id.ledgerId}:${id.entryId}`;
      if (p.chunkId === p.numChunks - 1) {
        r.ledgerId = id.ledgerId; r.entryId = id.entryId;
        r.id = `${id.ledgerId}:${id.entryId}:${t.partitionIndex}:-1`;
      }
    } else if (p.duplicate) {
      const r = results[p.chunkOf];
      if (r) (r.duplicates || (r.duplicates = [])).push(`${id.ledgerId}:${id.entryId}`);
    }
  }
  t.seqByProducer.set(producerName, seq - 1);
}

// Throughput benchmark: appends count messages as pre-encoded batches that
// all share one encoded metadata+payload.
function blast(req) {
  const name = normTopic(req.topic);
  let t = state.topics.get(name);
  if (!t) { createTopic({ topic: name, owner: req.owner || 0 }); t = state.topics.get(name); }
  const count = parseInt(req.count || 100000, 10);
  const size = parseInt(req.payloadSize || 100, 10);
  const bs = parseInt(req.batchSize || 100, 10);
  const t0 = Date.now();
  const mk = (n) => {
    const bufs = [];
    const pl = Buffer.alloc(size);
    for (let i = 0; i < size; i++) pl[i] = 0x61 + (i % 26);
    for (let i = 0; i < n; i++) {
      const smb = codec.encodeSingleMetadata({ payload_size: size });
      const h = Buffer.allocUnsafe(4);
      h.writeUInt32BE(smb.length, 0);
      bufs.push(h, smb, pl);
    }
    const md = { producer_name: 'blast', sequence_id: 0, publish_time: Date.now(), num_messages_in_batch: n };
    return payloadTail(codec.encodeMetadata(md), Buffer.concat(bufs));
  };
  const full = mk(bs);
  let left = count;
  let entries = 0;
  while (left > 0) {
    const n = Math.min(bs, left);
    const tail = n === bs ? full : mk(n);
    t.append({ tail, numMessages: n, batched: true, publishTime: Date.now(), key: '', producer: 'blast' });
    left -= n;
    entries++;
  }
  t.dispatchAll();
  return { topic: name, messages: count, entries, bytesPerEntry: full.length, ms: Date.now() - t0 };
}

// ------------------------------------------------------------------ admin actions
function topicOrParent(name) {
  const full = normTopic(name);
  if (state.partitioned.has(full)) {
    const p = state.partitioned.get(full);
    const list = [];
    for (let i = 0; i < p.partitions; i++) list.push(state.topics.get(`${full}-partition-${i}`));
    return { full, list, partitioned: p };
  }
  const t = state.topics.get(full);
  return { full, list: t ? [t] : [], partitioned: null };
}

function unload(req) {
  const { list } = topicOrParent(req.topic);
  if (list.length === 0) throw new Error(`no topic ${req.topic}`);
  let closed = 0;
  for (const t of list) {
    for (const s of t.subs.values()) {
      for (const c of [...s.consumers]) {
        c.conn.sendCmd('CLOSE_CONSUMER', { consumer_id: c.id, request_id: codec.U64_MINUS_ONE });
        removeConsumer(c, 'topic unloaded');
        closed++;
      }
    }
    for (const p of [...t.producers]) {
      p.conn.sendCmd('CLOSE_PRODUCER', { producer_id: p.id, request_id: codec.U64_MINUS_ONE });
      p.conn.producers.delete(p.id);
      t.producers.delete(p);
    }
    if (req.owner !== undefined) t.owner = ((Number(req.owner) % state.brokers.length) + state.brokers.length) % state.brokers.length;
    else if (req.moveToNextBroker) t.owner = (t.owner + 1) % state.brokers.length;
  }
  return { topic: req.topic, consumersClosed: closed, owners: list.map((t) => t.owner) };
}

// POST /restart: brokers (default all) go down for downMs as a restarted
// broker does, listeners closed (connections refused) and every
// connection dropped, then listen again on the same ports.  Topics,
// cursors and acks survive, as they do in BookKeeper.  Answers once the
// brokers are up again.
async function restart(req) {
  const downMs = Number(req.downMs === undefined ? 2000 : req.downMs);
  const which = req.broker === undefined ? state.brokers.map((b) => b.index) :
    String(req.broker).split(',').map(Number);
  const brs = state.brokers.filter((b) => which.includes(b.index));
  const closing = [];
  for (const br of brs) {
    for (const l of br.listeners) closing.push(new Promise((r) => l.server.close(r)));
    for (const l of br.listeners) if (l.server.closeAllConnections) l.server.closeAllConnections();
  }
  for (const c of [...state.conns]) if (which.includes(c.broker.index)) c.drop();
  log(`restart: broker(s) ${which.join(',')} down for ${downMs} ms`);
  await Promise.all(closing);
  await new Promise((r) => setTimeout(r, downMs));
  for (const br of brs) for (const l of br.listeners) await listen(l.server, l.port);
  log(`restart: broker(s) ${which.join(',')} up`);
  return { restarted: which, downMs };
}

function topicStats(name) {
  const { full, list, partitioned } = topicOrParent(name);
  if (list.length === 0) return null;
  const one = (t) => ({
    topic: t.name, owner: t.owner, partition: t.partitionIndex, entries: t.entries.length,
    messages: t.entries.reduce((a, e) => a + e.numMessages, 0), firstLedger: t.firstLedger,
    lastId: t.entries.length ? t.idString(t.entries.length - 1) : null,
    producers: t.producers.size, subscriptions: [...t.subs.keys()],
  });
  if (!partitioned) return one(list[0]);
  return { topic: full, partitions: partitioned.partitions, owners: partitioned.owners, partitionStats: list.map(one) };
}

function subscriptionState(topic, subName) {
  const { full, list, partitioned } = topicOrParent(topic);
  if (list.length === 0) return null;
  const states = list.map((t) => (t.subs.get(subName) ? t.subs.get(subName).state() : null));
  if (!partitioned) return states[0];
  if (states.every((s) => !s)) return null;
  return {
    topic: full, subscription: subName, partitions: states,
    backlog: states.reduce((a, s) => a + (s ? s.backlog : 0), 0),
    consumersConnected: states.reduce((a, s) => a + (s ? s.consumersConnected : 0), 0),
  };
}

function createSubscription(req) {
  const { list } = topicOrParent(req.topic);
  if (list.length === 0) { createTopic({ topic: req.topic }); return createSubscription(req); }
  const type = req.type || 'Exclusive';
  if (!SUB_TYPES.includes(type)) throw new Error(`type must be one of ${SUB_TYPES.join(', ')}`);
  for (const t of list) {
    if (t.subs.has(req.subscription)) continue;
    const md = (req.position || 'earliest') === 'earliest' ? -1 : t.entries.length - 1;
    t.subs.set(req.subscription, new Subscription(t, req.subscription, type, md, true));
  }
  return subscriptionState(req.topic, req.subscription);
}

// ------------------------------------------------------------------ HTTP (web service of each broker)
function sendJson(res, code, obj) {
  const body = JSON.stringify(obj, null, 0) + '\n';
  res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

function webHandler(broker, secure) {
  return (req, res) => {
    const u = new URL(req.url, 'http://x');
    recordEvent({ dir: 'http', broker: broker.index, method: req.method, path: u.pathname, auth: !!req.headers.authorization });
    if (opts.tokens.length) {
      const h = req.headers.authorization || '';
      const m = /^Bearer (.+)$/.exec(h);
      if (!m || !opts.tokens.includes(m[1])) return sendJson(res, 401, { reason: 'Authentication required' });
    }
    let m = /^\/lookup\/v2\/topic\/(persistent|non-persistent)\/([^/]+)\/([^/]+)\/([^/]+)$/.exec(u.pathname);
    if (m && req.method === 'GET') {
      const inj = takeError('HTTP_LOOKUP');
      if (inj) return sendJson(res, 503, { reason: inj.message });
      let t;
      const name = `${m[1]}://${decodeURIComponent(m[2])}/${decodeURIComponent(m[3])}/${decodeURIComponent(m[4])}`;
      try { t = findTopic(name); } catch (e) { return sendJson(res, 412, { reason: e.message }); }
      if (!t) return sendJson(res, 404, { reason: 'Topic not found' });
      const owner = state.brokers[t.partitionedParent ? t.partitionedParent.owner : t.owner];
      if (state.faults.httpRedirect && owner !== broker && u.searchParams.get('authoritative') !== 'true') {
        res.writeHead(307, { Location: `${secure ? owner.httpUrlTls : owner.httpUrl}${u.pathname}?authoritative=true` });
        return res.end();
      }
      return sendJson(res, 200, {
        brokerUrl: owner.serviceUrl, brokerUrlTls: owner.serviceUrlTls || undefined,
        httpUrl: owner.httpUrl, httpUrlTls: owner.httpUrlTls || undefined,
      });
    }
    // the subscriptions of a topic (of its partitions, for a partitioned one)
    m = /^\/admin\/v2\/(persistent|non-persistent)\/([^/]+)\/([^/]+)\/([^/]+)\/subscriptions$/.exec(u.pathname);
    if (m && req.method === 'GET') {
      const name = normTopic(`${m[1]}://${decodeURIComponent(m[2])}/${decodeURIComponent(m[3])}/${decodeURIComponent(m[4])}`);
      const p = state.partitioned.get(name);
      const ts = p ? [...Array(p.partitions).keys()].map((i) => state.topics.get(`${name}-partition-${i}`))
        : [state.topics.get(name)];
      if (ts.some((t) => !t)) return sendJson(res, 404, { reason: 'Topic not found' });
      return sendJson(res, 200, [...new Set(ts.flatMap((t) => [...t.subs.keys()]))]);
    }
    m = /^\/admin\/v2\/(persistent|non-persistent)\/([^/]+)\/([^/]+)\/([^/]+)\/partitions$/.exec(u.pathname);
    if (m && req.method === 'GET') {
      const inj = takeError('HTTP_PARTITIONS');
      if (inj) return sendJson(res, 503, { reason: inj.message });
      const name = `${m[1]}://${decodeURIComponent(m[2])}/${decodeURIComponent(m[3])}/${decodeURIComponent(m[4])}`;
      let p;
      try { p = state.partitioned.get(normTopic(name)); } catch (e) { return sendJson(res, 412, { reason: e.message }); }
      return sendJson(res, 200, { partitions: p ? p.partitions : 0 });
    }
    sendJson(res, 404, { reason: `no route ${req.method} ${u.pathname}` });
  };
}

// ------------------------------------------------------------------ control API
function readBody(req) {
  return new Promise((resolve, reject) => {
    const bufs = [];
    req.on('data', (d) => bufs.push(d));
    req.on('end', () => {
      const s = Buffer.concat(bufs).toString('utf8').trim();
      if (!s) return resolve({});
      try { resolve(JSON.parse(s)); } catch (e) { reject(new Error(`bad JSON body: ${e.message}`)); }
    });
    req.on('error', reject);
  });
}

let infoLine = null;

// connections picked by control-API arguments: conn (id or list), broker, clientVersion
function pickConns(args) {
  const ids = args.conn !== undefined ? String(args.conn).split(',').map(Number) : null;
  return [...state.conns].filter((c) => (ids === null || ids.includes(c.id)) &&
    (args.broker === undefined || Number(args.broker) === c.broker.index) &&
    (args.clientVersion === undefined || (c.clientVersion || '').includes(args.clientVersion)));
}

async function control(req, res) {
  const u = new URL(req.url, 'http://x');
  const q = Object.fromEntries(u.searchParams);
  const p = u.pathname.replace(/\/+$/, '') || '/';
  try {
    const body = req.method === 'POST' || req.method === 'PUT' ? await readBody(req) : {};
    const args = { ...q, ...body };
    const R = (code, obj) => sendJson(res, code, obj);
    switch (`${req.method} ${p}`) {
      case 'GET /': case 'GET /info': return R(200, infoLine);
      case 'POST /topics': return R(200, createTopic(args));
      case 'GET /topics': return R(200, {
        topics: [...state.topics.values()].map((t) => ({ topic: t.name, owner: t.owner, entries: t.entries.length })),
        partitioned: Object.fromEntries([...state.partitioned].map(([k, v]) => [k, v])),
      });
      case 'GET /topic': { const s = topicStats(args.topic); return s ? R(200, s) : R(404, { error: `no topic ${args.topic}` }); }
      case 'POST /owner': {
        const { list } = topicOrParent(args.topic);
        for (const t of list) t.owner = Number(args.owner) % state.brokers.length;
        return R(200, topicStats(args.topic));
      }
      case 'POST /publish': return R(200, publish(args));
      case 'POST /blast': return R(200, blast(args));
      case 'POST /subscriptions': return R(200, createSubscription(args));
      case 'GET /subscription': {
        const s = subscriptionState(args.topic, args.subscription || args.sub);
        return s ? R(200, s) : R(404, { error: `no subscription ${args.subscription || args.sub} on ${args.topic}` });
      }
      case 'GET /faults': return R(200, state.faults);
      case 'POST /faults': {
        for (const [k, v] of Object.entries(body)) {
          if (k === 'errors' || k === 'silence') Object.assign(state.faults[k], v);
          else state.faults[k] = v;
        }
        log(`faults: ${JSON.stringify(body)}`);
        return R(200, state.faults);
      }
      case 'POST /faults/reset': state.faults = defaultFaults(); return R(200, state.faults);
      case 'POST /unload': return R(200, unload(args));
      case 'POST /restart': return R(200, await restart(args));
      case 'POST /challenge': {
        let n = 0;
        for (const c of pickConns(args)) if (c.connected) { sendChallenge(c); n++; }
        return R(200, { challenged: n });
      }
      case 'POST /send-unknown': {
        let n = 0;
        for (const c of pickConns(args)) if (c.connected) { c.send(unknownCommandFrame()); n++; }
        return R(200, { sent: n });
      }
      case 'POST /ping': {
        let n = 0;
        for (const c of pickConns(args)) if (c.connected) { c.sendCmd('PING', {}); n++; }
        return R(200, { sent: n });
      }
      case 'POST /close-connections': {
        let n = 0;
        for (const c of pickConns(args)) { c.drop(); n++; }
        return R(200, { closed: n });
      }
      case 'GET /connections': return R(200, { connections: pickConns(args).map((c) => c.info()) });
      case 'GET /events': {
        const since = Number(args.since || 0);
        let ev = state.events.filter((e) => e.seq > since);
        if (args.type) { const ty = String(args.type).split(','); ev = ev.filter((e) => ty.includes(e.type)); }
        return R(200, { last: state.eventSeq, events: ev });
      }
      case 'GET /stats': return R(200, { ...state.stats, connections: state.conns.size, topics: state.topics.size });
      case 'POST /shutdown': R(200, { bye: true }); setTimeout(() => shutdown('control API'), 50); return undefined;
      default: return R(404, { error: `no route ${req.method} ${p}` });
    }
  } catch (e) {
    log(`control ${req.method} ${p}: ${e.message}`);
    return sendJson(res, 400, { error: e.message });
  }
}

// ------------------------------------------------------------------ start
function listen(server, port) {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, HOST, () => resolve(server.address().port));
  });
}

async function main() {
  let tlsOpts = null;
  if (opts.tlsCert || opts.tlsKey) {
    if (!opts.tlsCert || !opts.tlsKey) { log('--tls-cert and --tls-key go together'); process.exit(2); }
    tlsOpts = { cert: fs.readFileSync(opts.tlsCert), key: fs.readFileSync(opts.tlsKey) };
  }
  const servers = [];
  for (let i = 0; i < opts.brokers; i++) {
    const br = { index: i, listeners: [] };
    state.brokers.push(br);
    // every server of a broker, kept with its port for POST /restart;
    // fault refuseConnections closes new connections before anything
    const serve = async (server, port) => {
      server.prependListener('connection', (s) => { refuse(br, s); });
      const p = await listen(server, port);
      br.listeners.push({ server, port: p });
      servers.push(server);
      return p;
    };
    const srv = net.createServer((s) => { if (!s.destroyed) new Conn(br, s, false); });
    br.port = await serve(srv, opts.ports[i] || 0);
    br.serviceUrl = `pulsar://${HOST}:${br.port}`;
    const web = http.createServer(webHandler(br, false));
    br.httpPort = await serve(web, 0);
    br.httpUrl = `http://${HOST}:${br.httpPort}`;
    if (tlsOpts) {
      const ts = tls.createServer(tlsOpts, (s) => new Conn(br, s, true));
      br.tlsPort = await serve(ts, 0);
      br.serviceUrlTls = `pulsar+ssl://${HOST}:${br.tlsPort}`;
      const hs = https.createServer(tlsOpts, webHandler(br, true));
      br.httpsPort = await serve(hs, 0);
      br.httpUrlTls = `https://${HOST}:${br.httpsPort}`;
    }
  }
  const ctl = http.createServer((q, r) => { control(q, r); });
  const controlPort = await listen(ctl, opts.controlPort || 0);
  servers.push(ctl);
  state.servers = servers;
  const b0 = state.brokers[0];
  infoLine = {
    ready: true,
    pid: process.pid,
    serviceUrl: b0.serviceUrl,
    serviceUrlTls: b0.serviceUrlTls,
    httpUrl: b0.httpUrl,
    httpUrlTls: b0.httpUrlTls,
    port: b0.port,
    tlsPort: b0.tlsPort,
    httpPort: b0.httpPort,
    control: `http://${HOST}:${controlPort}`,
    controlPort,
    auth: opts.tokens.length ? 'token' : 'none',
    brokers: state.brokers.map((b) => ({
      index: b.index, port: b.port, serviceUrl: b.serviceUrl, tlsPort: b.tlsPort, serviceUrlTls: b.serviceUrlTls,
      httpPort: b.httpPort, httpUrl: b.httpUrl, httpsPort: b.httpsPort, httpUrlTls: b.httpUrlTls,
    })),
    timeoutSeconds: opts.timeout,
  };
  if (opts.readyFile) fs.writeFileSync(opts.readyFile, JSON.stringify(infoLine) + '\n');
  process.stdout.write(JSON.stringify(infoLine) + '\n');
  log(`ready: ${opts.brokers} broker(s), control ${infoLine.control}, timeout ${opts.timeout}s`);
  setTimeout(() => shutdown(`timeout of ${opts.timeout}s reached`), opts.timeout * 1000);
}

function shutdown(why) {
  log(`exiting: ${why}`);
  for (const c of [...state.conns]) c.socket.destroy();
  process.exit(0);
}
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));
process.on('SIGPIPE', () => {});
process.on('uncaughtException', (e) => { log(`INTERNAL ERROR (broker bug, continuing): ${e.stack}`); });
process.stdout.on('error', () => {});

main().catch((e) => { log(`cannot start: ${e.stack}`); process.exit(1); });
