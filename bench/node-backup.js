#!/usr/bin/env node
'use strict';
// bench/node-backup.js HOST:PORT TOPIC SUBSCRIPTION COUNT DIR [BATCH]:
// the backup function a user would write instead of lakepipe, for
// bench/bench-node.sh to compare CPU per message against.  A third-party
// pure-JS Pulsar client (pulsar-flex, from npm: bench-node.sh installs it
// into bench/out/node and sets NODE_PATH), an Exclusive subscription from
// the earliest message, each message a JSON line (the record fields of
// lakepipe's jsonl that pulsar-flex gives: it hides a batched message's
// publish time), BATCH lines (default 10000) a file, gzip level 1 streamed
// with node:zlib in 64 KB writes, stored atomically (temporary file
// fsynced, renamed, the directory fsynced), then the batch's last message
// acknowledged cumulatively.  Exits 0 after COUNT messages are stored and acknowledged.
//
// pulsar-flex gives every message of a producer batch the id of its entry
// (no batch index), and a cumulative ack of that id acknowledges the whole
// entry: a file therefore ends at an entry's end, so that nothing is
// acknowledged before it is stored.  COUNT must end an entry too.
// pulsar-flex 1.1.1 also leaves initialPosition out of its SUBSCRIBE, so
// that a new subscription starts at the latest message: the subscription
// is to be made beforehand from the earliest (pulsar-admin topics
// create-subscription -m earliest; bench-node.sh uses the test broker's
// control API).
const fs = require('fs');
const path = require('path');
const zlib = require('zlib');
const { once } = require('events');
const { pipeline } = require('stream/promises');
const { Consumer, logLevel } = require('pulsar-flex');

const [server, topic, subscription, countArg, dir, batchArg] = process.argv.slice(2);
if (!dir) {
  process.stderr.write('usage: node-backup.js HOST:PORT TOPIC SUBSCRIPTION COUNT DIR [BATCH]\n');
  process.exit(2);
}
const count = Number(countArg);
const batchSize = Number(batchArg || 10000);
const fullTopic = topic.startsWith('persistent://') ? topic : `persistent://${topic}`;

// Lines go to the gzip stream 64 KB at a time: a write a line would
// double the CPU per message (every zlib write is a trip to libuv's
// thread pool), and a user who measures once would not keep that.
const WRITE_SIZE = 65536;

// One batch file being written: the gzip stream and its way to disk;
// pending holds the lines not yet written to gz.
function openBatch(firstId) {
  const name = `${Date.now()}-${firstId.replace(/:/g, '-')}.jsonl.gz`;
  const tmp = path.join(dir, `.${name}.tmp`);
  const gz = zlib.createGzip({ level: 1 });
  const done = pipeline(gz, fs.createWriteStream(tmp, { flush: true }));
  return { name, tmp, gz, done, lines: 0, pending: '' };
}

// Finish the file, fsynced by the write stream's flush, and rename it in.
async function storeBatch(b) {
  b.gz.end(b.pending);
  await b.done;
  fs.renameSync(b.tmp, path.join(dir, b.name));
  const fd = fs.openSync(dir, 'r');
  fs.fsyncSync(fd);
  fs.closeSync(fd);
}

function payloadValue(buf) {
  const text = buf.toString('utf8');
  try {
    return { encoding: 'json', value: JSON.parse(text) };
  } catch (e) {
    return { encoding: 'base64', value: buf.toString('base64') };
  }
}

async function main() {
  const consumer = new Consumer({
    discoveryServers: [server],
    topic: fullTopic,
    subscription,
    subType: Consumer.SUB_TYPES.EXCLUSIVE,
    consumerName: 'node-backup',
    initialPosition: Consumer.INITIAL_POSITION.EARLIEST,
    receiveQueueSize: 1000,
    logLevel: logLevel.ERROR,
  });
  await consumer.subscribe();

  let seen = 0;
  let batch = null;
  let entry = null; // the MESSAGE command of the entry being read
  let index = 0; // the message's index in its entry
  let lastAck = null; // acknowledges the last message written

  const flush = async () => {
    await storeBatch(batch);
    batch = null;
    await lastAck({ type: Consumer.ACK_TYPES.CUMULATIVE });
  };

  await consumer.run({
    autoAck: false,
    onMessage: async ({ ack, message, metadata, command, properties, redeliveryCount }) => {
      const newEntry = command !== entry;
      index = newEntry ? 0 : index + 1;
      entry = command;
      if (newEntry && batch && batch.lines >= batchSize) await flush();

      const id = command.messageId;
      const batched = metadata.payloadSize !== undefined;
      const messageId = `${id.ledgerid}:${id.entryid}:${id.partition}:${batched ? index : -1}`;
      const payload = payloadValue(message);
      const line = JSON.stringify({
        message_id: messageId,
        topic: fullTopic,
        partition: id.partition,
        event_time_ms: metadata.eventTime || null,
        key: metadata.partitionKey || null,
        properties,
        redelivery_count: redeliveryCount,
        payload_encoding: payload.encoding,
        payload_size: message.length,
        payload: payload.value,
      }) + '\n';
      if (!batch) batch = openBatch(messageId);
      batch.lines++;
      lastAck = ack;
      batch.pending += line;
      if (batch.pending.length >= WRITE_SIZE) {
        const room = batch.gz.write(batch.pending);
        batch.pending = '';
        if (!room) await once(batch.gz, 'drain');
      }

      if (++seen === count) {
        await flush();
        process.exit(0);
      }
    },
  });
}

main().catch((e) => {
  process.stderr.write(`node-backup: ${e.stack || e}\n`);
  process.exit(1);
});
