#!/usr/bin/env node
// fault-proxy.js: a forwarding HTTP proxy in front of a real S3 server
// (Ceph RGW in tests/t6400), damaging request bodies in transit: the
// verifying proxy (server.js) cannot forward, it has its own store.
//
//   node fault-proxy.js --upstream http://127.0.0.1:PORT [--flip N]
//       [--match REGEX] [--log FILE] [--timeout SEC]
//
// Every request goes to the upstream unchanged (the Host header too, so
// that the client's signature still holds), except that the bodies of the
// first N requests (--flip, default 0) that have a body and whose
// "METHOD URL" matches REGEX (--match, default "^PUT ") get their middle
// byte flipped (XOR 0x01): a body damaged in transit.  "Expect:
// 100-continue" is answered here and not forwarded (it is never signed).
// Listens on 127.0.0.1, port 0; when ready prints one JSON line
// {"ready":true,"pid":...,"port":...,"endpoint":...} on stdout.  With
// --log, appends one JSON line per request: method, url, status, flipped.
// Exits on SIGTERM or after --timeout seconds (default 600).
'use strict';
const http = require('http');
const fs = require('fs');

function usage(msg) {
  process.stderr.write(`fault-proxy.js: ${msg}\n`);
  process.exit(2);
}

const opt = { upstream: null, flip: 0, match: /^PUT /, log: null, timeout: 600 };
for (let i = 2; i < process.argv.length; i++) {
  const a = process.argv[i];
  const v = () => (i + 1 < process.argv.length ? process.argv[++i] : usage(`${a} needs a value`));
  if (a === '--upstream') opt.upstream = new URL(v());
  else if (a === '--flip') opt.flip = Number(v());
  else if (a === '--match') opt.match = new RegExp(v());
  else if (a === '--log') opt.log = v();
  else if (a === '--timeout') opt.timeout = Number(v());
  else usage(`unknown option ${a}`);
}
if (!opt.upstream) usage('--upstream is required');
if (!Number.isInteger(opt.flip) || opt.flip < 0) usage('--flip takes a count');

const agent = new http.Agent({ keepAlive: true });
let flipsLeft = opt.flip;

function record(rec) {
  if (opt.log) fs.appendFileSync(opt.log, JSON.stringify(rec) + '\n');
}

const server = http.createServer((req, res) => {
  const len = Number(req.headers['content-length'] || 0);
  const flip = len > 0 && flipsLeft > 0 && opt.match.test(`${req.method} ${req.url}`);
  if (flip) flipsLeft--;
  const headers = { ...req.headers };
  delete headers.expect;
  const up = http.request({ host: opt.upstream.hostname, port: opt.upstream.port, method: req.method,
    path: req.url, headers, agent });
  const rec = { method: req.method, url: req.url, flipped: flip, status: null };
  up.on('response', ur => {
    rec.status = ur.statusCode;
    record(rec);
    res.writeHead(ur.statusCode, ur.statusMessage, ur.rawHeaders);
    ur.pipe(res);
  });
  up.on('error', e => {
    rec.status = 502;
    rec.error = e.message;
    record(rec);
    if (!res.headersSent) res.writeHead(502);
    res.end();
  });
  let off = 0;
  const at = Math.floor(len / 2);
  req.on('data', chunk => {
    if (flip && at >= off && at < off + chunk.length) {
      chunk = Buffer.from(chunk);
      chunk[at - off] ^= 0x01;
    }
    off += chunk.length;
    up.write(chunk);
  });
  req.on('end', () => up.end());
  req.on('error', () => up.destroy());
});

server.listen(0, '127.0.0.1', () => {
  const port = server.address().port;
  process.stdout.write(JSON.stringify({ ready: true, pid: process.pid, port,
    endpoint: `http://127.0.0.1:${port}`, upstream: opt.upstream.href }) + '\n');
});
process.on('SIGTERM', () => process.exit(0));
setTimeout(() => process.exit(0), opt.timeout * 1000).unref();
