'use strict';
// Wire codec of the lakepipe test broker: CRC32C, the Pulsar frame layouts,
// and protobuf (de)serialisation through protobufjs with our own subset
// .proto file (pulsar-subset.proto).
//
//   simple frame:  [totalSize u32][cmdSize u32][BaseCommand]
//   payload frame: [totalSize][cmdSize][BaseCommand]
//                  ([0x0e02][bemSize u32][BrokerEntryMetadata])   optional, broker -> client only
//                  [0x0e01][crc32c u32][metaSize u32][MessageMetadata][payload]
//   The CRC32C covers [metaSize][MessageMetadata][payload].

const path = require('path');
const protobuf = require('protobufjs');

const root = new protobuf.Root().loadSync(path.join(__dirname, 'pulsar-subset.proto'), { keepCase: true });
const P = (name) => root.lookupType('pulsar.proto.' + name);
const E = (name) => root.lookupEnum('pulsar.proto.' + name);

const T = {
  BaseCommand: P('BaseCommand'),
  MessageMetadata: P('MessageMetadata'),
  SingleMessageMetadata: P('SingleMessageMetadata'),
  BrokerEntryMetadata: P('BrokerEntryMetadata'),
  MessageIdData: P('MessageIdData'),
};
const TYPE = T.BaseCommand.lookupEnum('Type').values;           // name -> number
const TYPE_NAME = T.BaseCommand.lookupEnum('Type').valuesById;  // number -> name
const SERVER_ERROR = E('ServerError').values;
const SERVER_ERROR_NAME = E('ServerError').valuesById;
const COMPRESSION = E('CompressionType').values;

// In BaseCommand the field number of each sub-command equals its Type value.
function fieldForType(typeNum) {
  const f = T.BaseCommand.fieldsById[typeNum];
  return f ? f : null;
}

// ---------------------------------------------------------------- CRC32C
const CRC_TABLE = (() => {
  const tbl = new Int32Array(256 * 8);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    tbl[n] = c;
  }
  for (let n = 0; n < 256; n++) {
    let c = tbl[n];
    for (let k = 1; k < 8; k++) {
      c = tbl[c & 0xff] ^ (c >>> 8);
      tbl[k * 256 + n] = c;
    }
  }
  return tbl;
})();

// crc32c(buf) of a whole buffer, or crc32c(buf, previous) to continue.
function crc32c(buf, previous = 0) {
  let c = ~previous;
  let i = 0;
  const n = buf.length;
  const t = CRC_TABLE;
  for (; i + 8 <= n; i += 8) {
    c ^= buf[i] | (buf[i + 1] << 8) | (buf[i + 2] << 16) | (buf[i + 3] << 24);
    c = t[1792 + (c & 0xff)] ^ t[1536 + ((c >>> 8) & 0xff)] ^ t[1280 + ((c >>> 16) & 0xff)] ^
      t[1024 + (c >>> 24)] ^ t[768 + buf[i + 4]] ^ t[512 + buf[i + 5]] ^ t[256 + buf[i + 6]] ^ t[buf[i + 7]];
  }
  for (; i < n; i++) c = t[(c ^ buf[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}

// ---------------------------------------------------------------- helpers
const Long = protobuf.util.Long;
function num(x) {
  if (x === undefined || x === null) return x;
  if (typeof x === 'number') return x;
  if (Long && Long.isLong(x)) return x.toNumber();
  return Number(x);
}
const U64_MINUS_ONE = Long.fromBits(0xffffffff, 0xffffffff, true);

function varint(n) {
  const out = [];
  // n is a non-negative JS number < 2^53
  while (n >= 0x80) {
    out.push((n % 128) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return Buffer.from(out);
}

// Unknown field bytes that a tolerant peer must skip: field 1000 (length-
// delimited) and field 1001 (varint).
const UNKNOWN_FIELDS = Buffer.concat([varint((1000 << 3) | 2), varint(5), Buffer.from('lake?'),
  varint((1001 << 3) | 0), varint(424242)]);

// encodeCommand('MESSAGE', {consumer_id, ...}, {unknownFields}) -> BaseCommand bytes
function encodeCommand(typeName, body, opts = {}) {
  const typeNum = typeof typeName === 'number' ? typeName : TYPE[typeName];
  if (typeNum === undefined) throw new Error('unknown command type ' + typeName);
  const parts = [Buffer.from([0x08]), varint(typeNum)];
  const f = fieldForType(typeNum);
  if (f) {
    f.resolve();
    let inner = Buffer.from(f.resolvedType.encode(f.resolvedType.fromObject(body || {})).finish());
    if (opts.unknownFields) inner = Buffer.concat([inner, UNKNOWN_FIELDS]);
    parts.push(varint((typeNum << 3) | 2), varint(inner.length), inner);
  } else if (body && Buffer.isBuffer(body)) {
    parts.push(varint((typeNum << 3) | 2), varint(body.length), body);
  }
  if (opts.unknownFields) parts.push(UNKNOWN_FIELDS);
  return Buffer.concat(parts);
}

function simpleFrame(cmd) {
  const h = Buffer.allocUnsafe(8);
  h.writeUInt32BE(cmd.length + 4, 0);
  h.writeUInt32BE(cmd.length, 4);
  return Buffer.concat([h, cmd]);
}

// The checksummed part: [0x0e01][crc][metaSize][meta][payload]
function payloadTail(metaBuf, payload) {
  const h = Buffer.allocUnsafe(10);
  h.writeUInt16BE(0x0e01, 0);
  h.writeUInt32BE(metaBuf.length, 6);
  let c = crc32c(h.subarray(6, 10));
  c = crc32c(metaBuf, c);
  c = crc32c(payload, c);
  h.writeUInt32BE(c, 2);
  return Buffer.concat([h, metaBuf, payload]);
}

function brokerEntryMetadataPart(fields) {
  const bem = Buffer.from(T.BrokerEntryMetadata.encode(T.BrokerEntryMetadata.fromObject(fields)).finish());
  const h = Buffer.allocUnsafe(6);
  h.writeUInt16BE(0x0e02, 0);
  h.writeUInt32BE(bem.length, 2);
  return Buffer.concat([h, bem]);
}

// payloadFrame(cmdBytes, tail[, bemPart]) -> full frame
function payloadFrame(cmd, tail, bem) {
  const h = Buffer.allocUnsafe(8);
  const extra = bem ? bem.length : 0;
  h.writeUInt32BE(4 + cmd.length + extra + tail.length, 0);
  h.writeUInt32BE(cmd.length, 4);
  return bem ? Buffer.concat([h, cmd, bem, tail]) : Buffer.concat([h, cmd, tail]);
}

function encodeMetadata(obj) {
  return Buffer.from(T.MessageMetadata.encode(T.MessageMetadata.fromObject(obj)).finish());
}
function encodeSingleMetadata(obj) {
  return Buffer.from(T.SingleMessageMetadata.encode(T.SingleMessageMetadata.fromObject(obj)).finish());
}

// ---------------------------------------------------------------- parsing
const MAX_FRAME = 5 * 1024 * 1024 + 64 * 1024;

function decodeFrame(frame) {
  // frame excludes the leading totalSize
  const cmdSize = frame.readUInt32BE(0);
  if (cmdSize + 4 > frame.length) throw new Error('command size ' + cmdSize + ' exceeds frame');
  const cmdBuf = frame.subarray(4, 4 + cmdSize);
  const base = T.BaseCommand.decode(cmdBuf);
  const typeNum = base.type;
  const typeName = TYPE_NAME[typeNum] || 'UNKNOWN_' + typeNum;
  const f = fieldForType(typeNum);
  const body = f ? base[f.name] : undefined;
  const out = { type: typeName, typeNum, body, cmdBuf };
  let off = 4 + cmdSize;
  if (off < frame.length) {
    if (frame.length - off < 10) throw new Error('short payload section');
    let magic = frame.readUInt16BE(off);
    if (magic === 0x0e02) {
      const bemSize = frame.readUInt32BE(off + 2);
      out.brokerEntryMetadata = T.BrokerEntryMetadata.decode(frame.subarray(off + 6, off + 6 + bemSize));
      off += 6 + bemSize;
      magic = frame.readUInt16BE(off);
    }
    if (magic !== 0x0e01) throw new Error('bad magic 0x' + magic.toString(16));
    const crc = frame.readUInt32BE(off + 2);
    const checked = frame.subarray(off + 6);
    out.checksumOk = crc32c(checked) === crc;
    const metaSize = frame.readUInt32BE(off + 6);
    const metaBuf = frame.subarray(off + 10, off + 10 + metaSize);
    out.metaBuf = metaBuf;
    out.metadata = T.MessageMetadata.decode(metaBuf);
    out.payload = frame.subarray(off + 10 + metaSize);
  }
  return out;
}

// Incremental frame splitter. push(chunk) returns an array of frames
// (Buffers without the leading 4-byte totalSize).
class FrameSplitter {
  constructor() {
    this.bufs = [];
    this.len = 0;
  }
  push(chunk) {
    this.bufs.push(chunk);
    this.len += chunk.length;
    const frames = [];
    for (;;) {
      if (this.len < 4) break;
      let head = this.bufs[0];
      if (head.length < 4) {
        head = Buffer.concat(this.bufs);
        this.bufs = [head];
      }
      const total = head.readUInt32BE(0);
      if (total > MAX_FRAME || total < 4) throw new Error('bad frame size ' + total);
      if (this.len < total + 4) break;
      if (head.length < total + 4) {
        head = Buffer.concat(this.bufs);
        this.bufs = [head];
      }
      frames.push(head.subarray(4, 4 + total));
      const rest = head.subarray(4 + total);
      this.bufs[0] = rest;
      if (rest.length === 0) this.bufs.shift();
      this.len -= total + 4;
    }
    return frames;
  }
}

module.exports = {
  root, T, TYPE, TYPE_NAME, SERVER_ERROR, SERVER_ERROR_NAME, COMPRESSION, U64_MINUS_ONE, Long,
  crc32c, num, varint, encodeCommand, simpleFrame, payloadTail, payloadFrame, brokerEntryMetadataPart,
  encodeMetadata, encodeSingleMetadata, decodeFrame, FrameSplitter, MAX_FRAME, UNKNOWN_FIELDS,
};
