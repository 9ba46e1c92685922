#!/usr/bin/env node
// pulsar-fixtures.js FIXTURES EXPECTED: broker-to-client Pulsar frames made
// by an encoder independent of consume's C codec, and what decoding them
// must give.
//
// Protobuf: pulsar-flex's generated codec (google-protobuf, from Pulsar's
// own .proto).  CRC32C: written here.  Compression: Node's zlib (with and
// without the end marker Java leaves out), and Debian's python3-lz4,
// python3-snappy and python3-zstandard for the others.
//
// FIXTURES has lines "NAME HEX" (one or more frames; one decoder reads all
// lines in order, so chunks may span lines).  EXPECTED has the lines that
// `test-pulsar --dump FIXTURES` must print, in its format:
//
//   NAME cmd=TYPE req=R cons=C [error=E] [text=T] [type-specific fields]
//   NAME msg id=L:E:P:B n=BATCH last=0|1 rc=R pt=MS et=MS seq=S
//        producer=P [key=K] [okey=K] props=K=V;... null=0|1 len=N crc=HEX
//        [chunk=ID]...
//   NAME drop reason=N id=ID...
//   NAME error=N            (pw_message_process's result)
//   NAME frame incomplete | NAME frame REASON
'use strict';

const fs = require('fs');
const zlib = require('zlib');
const { execFileSync } = require('child_process');
const pb = require('pulsar-flex/src/commands/protocol/pulsar/pulsar_pb.js');

const [fixturesPath, expectedPath] = process.argv.slice(2);
if (!expectedPath) {
	console.error('usage: pulsar-fixtures.js FIXTURES EXPECTED');
	process.exit(2);
}

// --- CRC32C (Castagnoli, reflected 0x82F63B78) ---
const crcTable = new Uint32Array(256);
for (let i = 0; i < 256; i++) {
	let c = i;
	for (let k = 0; k < 8; k++)
		c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
	crcTable[i] = c >>> 0;
}
function crc32c(buf) {
	let c = 0xffffffff;
	for (const b of buf)
		c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
	return (c ^ 0xffffffff) >>> 0;
}
if (crc32c(Buffer.from('123456789')) !== 0xe3069283)
	throw new Error('crc32c self check failed');

// --- compression through Python (Debian's modules) ---
function py(code, data) {
	return execFileSync('/usr/bin/python3', ['-c',
	    'import sys\n' + code + '\nsys.stdout.buffer.write(f(sys.stdin.buffer.read()))'],
	    { input: data });
}
const compressors = {
	1: (d) => py('import lz4.block\ndef f(d): return lz4.block.compress(d, store_size=False)', d),
	2: (d) => zlib.deflateSync(d),
	3: (d) => py('import zstandard\ndef f(d): return zstandard.ZstdCompressor().compress(d)', d),
	4: (d) => py('import snappy\ndef f(d): return snappy.compress(d)', d),
	// Java's Deflater stream: sync-flushed, no end marker.
	java: (d) => zlib.deflateSync(d, { finishFlush: zlib.constants.Z_SYNC_FLUSH }),
};

// --- output ---
const fixtures = [];
const expected = [];

function esc(v) {
	const b = Buffer.isBuffer(v) ? v : Buffer.from(String(v));
	let s = '';
	for (const ch of b) {
		if (ch > 0x20 && ch < 0x7f && ch !== 0x25 && ch !== 0x3d && ch !== 0x3b)
			s += String.fromCharCode(ch);
		else
			s += '%' + ch.toString(16).toUpperCase().padStart(2, '0');
	}
	return s;
}
const idText = (l, e, p, b) => `${l}:${e}:${p}:${b}`;

function u32(n) {
	const b = Buffer.alloc(4);
	b.writeUInt32BE(n >>> 0);
	return b;
}

function frame(type, setter, body, rest) {
	const cmd = new pb.BaseCommand();
	cmd.setType(type);
	if (setter)
		cmd[setter](body);
	const c = Buffer.from(cmd.serializeBinary());
	rest = rest || Buffer.alloc(0);
	return Buffer.concat([u32(4 + c.length + rest.length), u32(c.length), c, rest]);
}

function cmdLine(name, type, req, cons, extra) {
	return `${name} cmd=${type} req=${req} cons=${cons}${extra || ''}`;
}

const T = pb.BaseCommand.Type;

// --- simple commands ---
{
	const c = new pb.CommandConnected();
	c.setServerVersion('Pulsar Server 3.0.4');
	c.setProtocolVersion(19);
	c.setMaxMessageSize(5242880);
	fixtures.push(['connected', frame(T.CONNECTED, 'setConnected', c)]);
	expected.push(cmdLine('connected', 'CONNECTED', 0, 0,
	    ` version=${esc('Pulsar Server 3.0.4')} proto=19 max=5242880`));
}
{
	const a = new pb.AuthData();
	a.setAuthMethodName('token');
	a.setAuthData(Buffer.from('refresh me'));
	const c = new pb.CommandAuthChallenge();
	c.setServerVersion('broker');
	c.setChallenge(a);
	c.setProtocolVersion(19);
	fixtures.push(['auth_challenge', frame(T.AUTH_CHALLENGE, 'setAuthchallenge', c)]);
	expected.push(cmdLine('auth_challenge', 'AUTH_CHALLENGE', 0, 0,
	    ` method=token data=${esc('refresh me')}`));
}
{
	const c = new pb.CommandLookupTopicResponse();
	c.setBrokerserviceurl('pulsar://broker-2:6650');
	c.setBrokerserviceurltls('pulsar+ssl://broker-2:6651');
	c.setResponse(pb.CommandLookupTopicResponse.LookupType.REDIRECT);
	c.setRequestId(7);
	c.setAuthoritative(true);
	c.setProxyThroughServiceUrl(true);
	fixtures.push(['lookup_redirect', frame(T.LOOKUP_RESPONSE, 'setLookuptopicresponse', c)]);
	expected.push(cmdLine('lookup_redirect', 'LOOKUP_RESPONSE', 7, 0,
	    ' url=pulsar://broker-2:6650 tls=pulsar+ssl://broker-2:6651 type=0 auth=1 proxy=1'));
}
{
	const c = new pb.CommandLookupTopicResponse();
	c.setResponse(pb.CommandLookupTopicResponse.LookupType.FAILED);
	c.setRequestId(8);
	c.setError(pb.ServerError.TOPICNOTFOUND);
	c.setMessage('no such topic');
	fixtures.push(['lookup_failed', frame(T.LOOKUP_RESPONSE, 'setLookuptopicresponse', c)]);
	expected.push(cmdLine('lookup_failed', 'LOOKUP_RESPONSE', 8, 0,
	    ` error=TopicNotFound text=${esc('no such topic')} url= tls= type=2 auth=0 proxy=0`));
}
{
	const c = new pb.CommandPartitionedTopicMetadataResponse();
	c.setPartitions(4);
	c.setRequestId(9);
	c.setResponse(pb.CommandPartitionedTopicMetadataResponse.LookupType.SUCCESS);
	fixtures.push(['partitions', frame(T.PARTITIONED_METADATA_RESPONSE, 'setPartitionmetadataresponse', c)]);
	expected.push(cmdLine('partitions', 'PARTITIONED_METADATA_RESPONSE', 9, 0,
	    ' partitions=4 type=0'));
}
{
	const c = new pb.CommandError();
	c.setRequestId(10);
	c.setError(pb.ServerError.SERVICENOTREADY);
	c.setMessage('broker is unloading');
	fixtures.push(['error', frame(T.ERROR, 'setError', c)]);
	expected.push(cmdLine('error', 'ERROR', 10, 0,
	    ` error=ServiceNotReady text=${esc('broker is unloading')}`));
	const d = new pb.CommandError();
	d.setRequestId(11);
	d.setError(pb.ServerError.CONSUMERBUSY);
	d.setMessage('Exclusive consumer is already connected');
	fixtures.push(['busy', frame(T.ERROR, 'setError', d)]);
	expected.push(cmdLine('busy', 'ERROR', 11, 0,
	    ` error=ConsumerBusy text=${esc('Exclusive consumer is already connected')}`));
}
{
	const c = new pb.CommandSuccess();
	c.setRequestId(12);
	fixtures.push(['success', frame(T.SUCCESS, 'setSuccess', c)]);
	expected.push(cmdLine('success', 'SUCCESS', 12, 0));
}
{
	const c = new pb.CommandCloseConsumer();
	c.setConsumerId(3);
	c.setRequestId(13);
	fixtures.push(['close_consumer', frame(T.CLOSE_CONSUMER, 'setCloseConsumer', c)]);
	expected.push(cmdLine('close_consumer', 'CLOSE_CONSUMER', 13, 3));
}
{
	const id = (l, e, p) => {
		const m = new pb.MessageIdData();
		m.setLedgerid(l);
		m.setEntryid(e);
		if (p !== undefined)
			m.setPartition(p);
		return m;
	};
	const c = new pb.CommandGetLastMessageIdResponse();
	c.setLastMessageId(id(5, 6, 2));
	c.setRequestId(14);
	c.setConsumerMarkDeletePosition(id(5, 4));
	fixtures.push(['last_id', frame(T.GET_LAST_MESSAGE_ID_RESPONSE, 'setGetlastmessageidresponse', c)]);
	expected.push(cmdLine('last_id', 'GET_LAST_MESSAGE_ID_RESPONSE', 14, 0,
	    ' last=5:6:2:-1 markdelete=5:4:-1:-1'));
}
{
	const c = new pb.CommandActiveConsumerChange();
	c.setConsumerId(2);
	c.setIsActive(true);
	fixtures.push(['active', frame(T.ACTIVE_CONSUMER_CHANGE, 'setActiveConsumerChange', c)]);
	expected.push(cmdLine('active', 'ACTIVE_CONSUMER_CHANGE', 0, 2, ' active=1'));
	const e = new pb.CommandReachedEndOfTopic();
	e.setConsumerId(4);
	fixtures.push(['end_of_topic', frame(T.REACHED_END_OF_TOPIC, 'setReachedendoftopic', e)]);
	expected.push(cmdLine('end_of_topic', 'REACHED_END_OF_TOPIC', 0, 4));
	fixtures.push(['ping_pong', Buffer.concat([
	    frame(T.PING, 'setPing', new pb.CommandPing()),
	    frame(T.PONG, 'setPong', new pb.CommandPong())])]);
	expected.push(cmdLine('ping_pong', 'PING', 0, 0));
	expected.push(cmdLine('ping_pong', 'PONG', 0, 0));
	// A command this client does not know (a transaction command).
	const t = new pb.CommandNewTxnResponse();
	t.setRequestId(15);
	fixtures.push(['unknown_cmd', frame(T.NEW_TXN_RESPONSE, 'setNewtxnresponse', t)]);
	expected.push(cmdLine('unknown_cmd', 'command 51', 0, 0));
}

// --- MESSAGE frames ---

const PT = 1700000000000;

function messageFrame(o) {
	const mid = new pb.MessageIdData();
	mid.setLedgerid(o.ledger);
	mid.setEntryid(o.entry);
	if (o.partition !== undefined)
		mid.setPartition(o.partition);
	const cm = new pb.CommandMessage();
	cm.setConsumerId(1);
	cm.setMessageId(mid);
	if (o.rc)
		cm.setRedeliveryCount(o.rc);
	for (const w of o.ackSet || [])
		cm.addAckSet(w);

	const md = new pb.MessageMetadata();
	md.setProducerName(o.producer || 'flex-producer');
	md.setSequenceId(o.seq || 0);
	md.setPublishTime(o.pt || PT);
	for (const [k, v] of o.props || []) {
		const kv = new pb.KeyValue();
		kv.setKey(k);
		kv.setValue(v);
		md.addProperties(kv);
	}
	if (o.key !== undefined)
		md.setPartitionKey(o.key);
	if (o.okey !== undefined)
		md.setOrderingKey(Buffer.from(o.okey));
	if (o.et)
		md.setEventTime(o.et);
	if (o.nullValue)
		md.setNullValue(true);
	let payload = o.payload;
	if (o.batch) {
		md.setNumMessagesInBatch(o.batch.length);
		payload = Buffer.concat(o.batch.map((m) => {
			const s = new pb.SingleMessageMetadata();
			for (const [k, v] of m.props || []) {
				const kv = new pb.KeyValue();
				kv.setKey(k);
				kv.setValue(v);
				s.addProperties(kv);
			}
			if (m.key !== undefined)
				s.setPartitionKey(m.key);
			s.setPayloadSize(m.payload.length);
			if (m.compacted)
				s.setCompactedOut(true);
			if (m.et)
				s.setEventTime(m.et);
			if (m.okey !== undefined)
				s.setOrderingKey(Buffer.from(m.okey));
			if (m.seq !== undefined)
				s.setSequenceId(m.seq);
			if (m.nullValue)
				s.setNullValue(true);
			const sb = Buffer.from(s.serializeBinary());
			return Buffer.concat([u32(sb.length), sb, m.payload]);
		}));
	}
	if (o.compress) {
		md.setCompression(o.compress === 'java' ? 2 : o.compress);
		md.setUncompressedSize(payload.length);
		payload = compressors[o.compress](payload);
	}
	if (o.declare) {	// already compressed by the caller
		md.setCompression(o.declare[0]);
		md.setUncompressedSize(o.declare[1]);
	}
	if (o.chunk) {
		md.setUuid(o.chunk.uuid);
		md.setNumChunksFromMsg(o.chunk.n);
		md.setTotalChunkMsgSize(o.chunk.total);
		md.setChunkId(o.chunk.id);
	}
	const mb = Buffer.from(md.serializeBinary());
	const tail = Buffer.concat([u32(mb.length), mb, payload]);
	const parts = [];
	if (o.brokerMeta) {
		const bm = new pb.BrokerEntryMetadata();
		bm.setBrokerTimestamp(PT + 5);
		bm.setIndex(1234);
		const bb = Buffer.from(bm.serializeBinary());
		parts.push(Buffer.from([0x0e, 0x02]), u32(bb.length), bb);
	}
	if (o.checksum !== false)
		parts.push(Buffer.from([0x0e, 0x01]),
		    u32(crc32c(tail) ^ (o.badCrc ? 0x10 : 0)));
	parts.push(tail);
	return frame(T.MESSAGE, 'setMessage', cm, Buffer.concat(parts));
}

function expectCmd(name, o) {
	const p = o.partition === undefined ? -1 : o.partition;
	expected.push(cmdLine(name, 'MESSAGE', 0, 1,
	    ` id=${idText(o.ledger, o.entry, p, -1)} rc=${o.rc || 0} acksetwords=${(o.ackSet || []).length}`));
}

function msgLine(name, f) {
	let s = `${name} msg id=${f.id} n=${f.n} last=${f.last} rc=${f.rc} pt=${f.pt} et=${f.et} seq=${f.seq} producer=${esc(f.producer)}`;
	if (f.key !== undefined)
		s += ` key=${esc(f.key)}`;
	if (f.okey !== undefined)
		s += ` okey=${esc(f.okey)}`;
	s += ' props=' + (f.props || []).map(([k, v]) => `${esc(k)}=${esc(v)};`).join('');
	s += ` null=${f.nullValue ? 1 : 0} len=${f.payload.length} crc=${crc32c(f.payload).toString(16).padStart(8, '0')}`;
	for (const c of f.chunks || [])
		s += ` chunk=${c}`;
	return s;
}

// What a message frame must give: the model of Pulsar's consumer.
function expectMessages(name, o) {
	expectCmd(name, o);
	const p = o.partition === undefined ? -1 : o.partition;
	const base = { rc: o.rc || 0, pt: o.pt || PT, producer: o.producer || 'flex-producer' };
	if (o.badCrc) {
		expected.push(`${name} error=-2`);
		return;
	}
	if (!o.batch) {
		expected.push(msgLine(name, Object.assign({}, base, {
			id: idText(o.ledger, o.entry, p, -1), n: 0, last: 1,
			et: o.et || 0, seq: o.seq || 0, key: o.key, okey: o.okey,
			props: o.props, nullValue: o.nullValue, payload: o.payload,
		})));
		return;
	}
	const keep = o.batch.map((m, i) => !m.compacted && (!o.ackSet ||
	    (i < o.ackSet.length * 64 && Math.floor(o.ackSet[Math.floor(i / 64)] / 2 ** (i % 64)) % 2 === 1)));
	const lastKept = keep.lastIndexOf(true);
	if (lastKept < 0) {
		expected.push(`${name} drop reason=1 id=${idText(o.ledger, o.entry, p, -1)}`);
		return;
	}
	o.batch.forEach((m, i) => {
		if (!keep[i])
			return;
		expected.push(msgLine(name, Object.assign({}, base, {
			id: idText(o.ledger, o.entry, p, i), n: o.batch.length,
			last: i === lastKept ? 1 : 0, et: m.et || o.et || 0,
			seq: m.seq !== undefined ? m.seq : (o.seq || 0) + i,
			key: m.key, okey: m.okey !== undefined ? m.okey : o.okey,
			props: m.props, nullValue: m.nullValue, payload: m.payload,
		})));
	});
}

function addMessage(name, o) {
	fixtures.push([name, messageFrame(o)]);
	expectMessages(name, o);
}

function textBatch(n, size, tag) {
	const out = [];
	for (let i = 0; i < n; i++) {
		let t = `${tag}-${i}-`;
		while (t.length < size)
			t += String.fromCharCode(97 + (t.length * 7 + i) % 26);
		out.push({
			payload: Buffer.from(t.slice(0, size)),
			key: i % 3 ? `key-${i % 5}` : undefined,
			props: i % 4 ? [['n', String(i)], ['tag', tag]] : [],
			et: i % 2 ? PT - 1000 + i : undefined,
		});
	}
	return out;
}

addMessage('single', {
	ledger: 10, entry: 1, seq: 5, key: 'order-17', okey: 'ok-1', et: PT - 7,
	props: [['source', 'console'], ['x=y', 'a b;c%']],
	payload: Buffer.from('{"hello":"world"}'),
});
addMessage('single_partition', {
	ledger: 10, entry: 2, partition: 3, rc: 4, payload: Buffer.from('p3'),
});
addMessage('single_null', {
	ledger: 10, entry: 3, nullValue: true, key: 'tombstone', payload: Buffer.alloc(0),
});
addMessage('no_checksum', {
	ledger: 10, entry: 4, checksum: false, payload: Buffer.from('old client'),
});
addMessage('broker_meta', {
	ledger: 10, entry: 5, brokerMeta: true, payload: Buffer.from('with entry metadata'),
});
addMessage('bad_crc', {
	ledger: 10, entry: 6, badCrc: true, payload: Buffer.from('flipped'),
});
addMessage('batch_of_1', {
	ledger: 11, entry: 1, seq: 100, batch: textBatch(1, 30, 'one'),
});
addMessage('batch_of_100', {
	ledger: 11, entry: 2, seq: 200, rc: 1, partition: 0,
	batch: textBatch(100, 100, 'hundred'),
});
{
	const b = textBatch(40, 20, 'acked');
	b[7].compacted = true;
	b[8].nullValue = true;
	b[8].payload = Buffer.alloc(0);
	b[9].seq = 9999;
	b[10].okey = 'per-message';
	// Indexes 1, 5 and 39 acked already: their bits are clear.
	let w = 2 ** 40 - 1;
	w -= 2 ** 1 + 2 ** 5 + 2 ** 39;
	addMessage('batch_ack_set', {
		ledger: 11, entry: 3, okey: 'entry-okey', ackSet: [w], batch: b,
	});
}
{
	const b = textBatch(2, 10, 'gone');
	b.forEach((m) => { m.compacted = true; });
	addMessage('batch_all_compacted', { ledger: 11, entry: 4, batch: b });
}
for (const [codec, name] of [[1, 'lz4'], [2, 'zlib'], ['java', 'zlib_java'], [3, 'zstd'], [4, 'snappy']]) {
	addMessage(`batch_${name}`, {
		ledger: 12, entry: 1, compress: codec, batch: textBatch(100, 100, name),
	});
	addMessage(`single_${name}`, {
		ledger: 12, entry: 2, compress: codec,
		payload: Buffer.from('a single compressed message '.repeat(50)),
	});
}

// --- chunks: two messages interleaved, one chunk duplicated, one
// message with a missing chunk ---
{
	const big = Buffer.from('0123456789abcdef'.repeat(40));	// 640 bytes
	const other = Buffer.from('ZYXWVUTSRQ'.repeat(20));	// 200 bytes
	const c1 = [big.subarray(0, 250), big.subarray(250, 500), big.subarray(500)];
	const c2 = [other.subarray(0, 100), other.subarray(100)];
	const plan = [
		['u1', 0, c1, 20, 1], ['u2', 0, c2, 20, 2], ['u1', 1, c1, 20, 3],
		['u1', 1, c1, 20, 4], ['u2', 1, c2, 20, 5], ['u1', 2, c1, 20, 6],
	];
	const frames = [];
	for (const [uuid, id, parts, ledger, entry] of plan) {
		const total = parts.reduce((a, p) => a + p.length, 0);
		frames.push(messageFrame({
			ledger, entry, seq: uuid === 'u1' ? 1 : 2, producer: 'chunker',
			payload: parts[id], chunk: { uuid, n: parts.length, total, id },
		}));
		expectCmd('chunks', { ledger, entry });
		if (entry === 4)
			expected.push('chunks drop reason=2 id=20:4:-1:-1');
		if (entry === 5)
			expected.push(msgLine('chunks', {
				id: '20:5:-1:-1', n: 0, last: 1, rc: 0, pt: PT, et: 0,
				seq: 2, producer: 'chunker', props: [], payload: other,
				chunks: ['20:2:-1:-1', '20:5:-1:-1'],
			}));
		if (entry === 6)
			expected.push(msgLine('chunks', {
				id: '20:6:-1:-1', n: 0, last: 1, rc: 0, pt: PT, et: 0,
				seq: 1, producer: 'chunker', props: [], payload: big,
				chunks: ['20:1:-1:-1', '20:3:-1:-1', '20:6:-1:-1'],
			}));
	}
	fixtures.push(['chunks', Buffer.concat(frames)]);

	// Compressed and chunked: the producer compresses, then splits.
	const z = compressors[1](big);
	const half = Math.ceil(z.length / 2);
	const zparts = [z.subarray(0, half), z.subarray(half)];
	const zf = [];
	zparts.forEach((part, id) => {
		const o = {
			ledger: 21, entry: id + 1, producer: 'chunker', payload: part,
			chunk: { uuid: 'z1', n: 2, total: z.length, id },
		};
		// Every chunk's metadata says LZ4 and the whole message's size.
		zf.push(messageFrame(Object.assign({}, o, { declare: [1, big.length] })));
		expectCmd('chunks_lz4', o);
	});
	expected.push(msgLine('chunks_lz4', {
		id: '21:2:-1:-1', n: 0, last: 1, rc: 0, pt: PT, et: 0, seq: 0,
		producer: 'chunker', props: [], payload: big,
		chunks: ['21:1:-1:-1', '21:2:-1:-1'],
	}));
	fixtures.push(['chunks_lz4', Buffer.concat(zf)]);

	const m = [];
	[0, 2].forEach((id) => {
		m.push(messageFrame({
			ledger: 22, entry: id + 1, producer: 'chunker', payload: c1[id],
			chunk: { uuid: 'u3', n: 3, total: big.length, id },
		}));
		expectCmd('chunk_missing', { ledger: 22, entry: id + 1 });
	});
	expected.push('chunk_missing drop reason=3 id=22:1:-1:-1 id=22:3:-1:-1');
	fixtures.push(['chunk_missing', Buffer.concat(m)]);
}

// --- garbage and truncation ---
fixtures.push(['garbage', Buffer.from('GET / HTTP/1.1\r\n\r\n')]);
expected.push('garbage frame frame larger than the maximum frame size');
{
	const f = messageFrame({ ledger: 30, entry: 1, payload: Buffer.from('cut short') });
	fixtures.push(['truncated', f.subarray(0, f.length - 3)]);
	expected.push('truncated frame incomplete');
}

fs.writeFileSync(fixturesPath, fixtures.map(([n, b]) => `${n} ${b.toString('hex')}\n`).join(''));
fs.writeFileSync(expectedPath, expected.join('\n') + '\n');
