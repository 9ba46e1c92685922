#!/usr/bin/env node
// tls-proxy.js: TLS in front of a plain TCP test peer (the S3/COS test
// server has no TLS of its own), to test that clients verify certificates.
//
//   node tls-proxy.js --cert cert.pem --key key.pem --target PORT [--timeout SEC]
//
// Listens on 127.0.0.1 (port 0: any free one), terminates TLS with the
// given certificate and passes the bytes to 127.0.0.1:PORT both ways.
// Prints one JSON line when ready: {"ready":true,"pid":N,"port":P,
// "handshakes":0}; GET-free control: none. Counts handshakes that
// completed and that failed on stderr.
'use strict';
const tls = require('tls');
const net = require('net');
const fs = require('fs');

const opt = { cert: null, key: null, target: 0, port: 0, timeout: 300 };
for (let i = 2; i < process.argv.length; i++) {
  const a = process.argv[i], v = () => process.argv[++i];
  if (a === '--cert') opt.cert = v();
  else if (a === '--key') opt.key = v();
  else if (a === '--target') opt.target = Number(v());
  else if (a === '--port') opt.port = Number(v());
  else if (a === '--timeout') opt.timeout = Number(v());
  else { process.stderr.write(`unknown option ${a}\n`); process.exit(2); }
}
if (!opt.cert || !opt.key || !opt.target) {
  process.stderr.write('usage: tls-proxy.js --cert F --key F --target PORT\n');
  process.exit(2);
}

let ok = 0, failed = 0;
const server = tls.createServer({ cert: fs.readFileSync(opt.cert), key: fs.readFileSync(opt.key) }, (c) => {
  ok++;
  const up = net.connect(opt.target, '127.0.0.1');
  c.pipe(up).pipe(c);
  const end = () => { c.destroy(); up.destroy(); };
  c.on('error', end); up.on('error', end); c.on('close', end); up.on('close', end);
});
server.on('tlsClientError', (e) => { failed++; process.stderr.write(`tls-proxy: handshake failed (${failed}): ${e.code || e.message}\n`); });
server.listen(opt.port, '127.0.0.1', () => {
  process.stdout.write(JSON.stringify({ ready: true, pid: process.pid, port: server.address().port }) + '\n');
});
setTimeout(() => process.exit(0), opt.timeout * 1000).unref();
process.on('SIGTERM', () => { process.stderr.write(`tls-proxy: ${ok} sessions, ${failed} failed handshakes\n`); process.exit(0); });
