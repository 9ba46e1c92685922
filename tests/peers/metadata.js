#!/usr/bin/env node
// metadata.js: a stand-in for the Tencent CVM instance metadata service's
// role credentials, with keys that rotate every few seconds.
//
//   GET /latest/meta-data/cam/security-credentials/        the role name
//   GET /latest/meta-data/cam/security-credentials/ROLE    the newest key:
//     {"TmpSecretId","TmpSecretKey","Token","ExpiredTime","Expiration","Code":"Success"}
//
// Every --period seconds it mints a key that lives --lifetime seconds
// (longer than the period, so keys overlap as the real service's do), and
// registers it with the S3/COS test server (--s3-control URL, POST
// /credentials with its expiry) before handing it out, so that the server
// refuses a request signed with a key that has expired. With --file PATH
// it also writes each new key to PATH as a deliver --credentials file
// (--kind cos|s3 for the variable names), replaced atomically.
//
// Control (same port): GET /_stats -> {minted, current, fetches, keys:[{id,
// minted, expires}]}; POST /_rotate[?revoke=1] mints a key now (revoke: and
// makes the S3 server forget every earlier one at once).
//
// --code C answers with Code C (the real service says Success);
// --no-expired-time leaves ExpiredTime out (Expiration, ISO 8601, stays).
//
// Prints one JSON line when ready: {"ready":true,"port":N,"role":...}.
// Listens on 127.0.0.1 only; exits on SIGTERM or after --timeout seconds.
'use strict';
const http = require('http');
const fs = require('fs');
const crypto = require('crypto');

const opt = { port: 0, role: 'lakepipe-test-role', period: 2, lifetime: 6,
  s3Control: null, file: null, kind: 'cos', timeout: 300, prefix: 'AKIDLPROLE',
  code: 'Success', noExpiredTime: false };
for (let i = 2; i < process.argv.length; i++) {
  const a = process.argv[i], v = () => process.argv[++i];
  switch (a) {
    case '--port': opt.port = Number(v()); break;
    case '--role': opt.role = v(); break;
    case '--period': opt.period = Number(v()); break;
    case '--lifetime': opt.lifetime = Number(v()); break;
    case '--s3-control': opt.s3Control = v(); break;
    case '--file': opt.file = v(); break;
    case '--kind': opt.kind = v(); break;
    case '--prefix': opt.prefix = v(); break;
    case '--code': opt.code = v(); break;
    case '--no-expired-time': opt.noExpiredTime = true; break;
    case '--timeout': opt.timeout = Number(v()); break;
    default: process.stderr.write(`unknown option ${a}\n`); process.exit(2);
  }
}

const keys = [];	// every key minted, oldest first
let fetches = 0;
const log = (s) => process.stderr.write(`metadata: ${s}\n`);

function post(url, method, body) {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const data = body ? JSON.stringify(body) : '';
    const rq = http.request({ host: u.hostname, port: u.port, path: u.pathname, method,
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) } },
    (res) => { res.resume(); res.on('end', () => res.statusCode === 200 ? resolve() : reject(new Error(`${url}: ${res.statusCode}`))); });
    rq.on('error', reject);
    rq.end(data);
  });
}

function writeFile(k) {
  const n = opt.kind === 's3'
    ? ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN']
    : ['TENCENTCLOUD_SECRET_ID', 'TENCENTCLOUD_SECRET_KEY', 'TENCENTCLOUD_SESSION_TOKEN'];
  const tmp = `${opt.file}.tmp`;
  fs.writeFileSync(tmp, `# key ${keys.length}, expires ${k.expires}\n${n[0]}=${k.id}\n${n[1]}=${k.secret}\n${n[2]}=${k.token}\n`, { mode: 0o600 });
  fs.renameSync(tmp, opt.file);
}

async function mint(revoke) {
  const n = keys.length + 1, now = Date.now() / 1000;
  const tag = String(n).padStart(4, '0') + crypto.randomBytes(4).toString('hex');
  const k = { id: `${opt.prefix}${tag}`, secret: `RoleSecret${tag}${crypto.randomBytes(6).toString('hex')}`,
    token: `role-token-${tag}-${crypto.randomBytes(8).toString('hex')}`,
    minted: now, expires: Math.floor(now + opt.lifetime) };
  if (opt.s3Control) {
    await post(`${opt.s3Control}/credentials`, 'POST', { id: k.id, key: k.secret, token: k.token, expires: k.expires });
    if (revoke) for (const o of keys) await post(`${opt.s3Control}/credentials/${encodeURIComponent(o.id)}`, 'DELETE');
  }
  keys.push(k);
  if (opt.file) writeFile(k);
  log(`minted key ${n} (${k.id}), expires ${k.expires}${revoke ? ', earlier ones revoked' : ''}`);
  return k;
}

function json(res, status, obj) {
  const b = JSON.stringify(obj);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(b) });
  res.end(b);
}

const base = '/latest/meta-data/cam/security-credentials/';
const server = http.createServer(async (req, res) => {
  const u = new URL(req.url, 'http://x');
  try {
    if (req.method === 'GET' && u.pathname === base) {
      res.writeHead(200, { 'content-type': 'text/plain' });
      return res.end(opt.role);
    }
    if (req.method === 'GET' && u.pathname === base + opt.role) {
      fetches++;
      const k = keys[keys.length - 1];
      const doc = { TmpSecretId: k.id, TmpSecretKey: k.secret, Token: k.token,
        ExpiredTime: k.expires, Expiration: new Date(k.expires * 1000).toISOString().replace(/\.\d+Z$/, 'Z'),
        Code: opt.code };
      if (opt.noExpiredTime) delete doc.ExpiredTime;
      return json(res, 200, doc);
    }
    if (req.method === 'GET' && u.pathname === '/_stats') {
      return json(res, 200, { minted: keys.length, current: keys[keys.length - 1].id, fetches,
        keys: keys.map(k => ({ id: k.id, minted: k.minted, expires: k.expires })) });
    }
    if (req.method === 'POST' && u.pathname === '/_rotate') {
      const k = await mintOne(u.searchParams.get('revoke') === '1');
      return json(res, 200, { ok: true, minted: keys.length, current: k.id });
    }
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('Not Found');
  } catch (e) {
    json(res, 500, { error: String(e.message || e) });
  }
});

// One mint at a time: the timer's and /_rotate's must not interleave (a
// revoke would miss a key registered meanwhile).
let chain = Promise.resolve();
function mintOne(revoke) {
  const p = chain.then(() => mint(revoke));
  chain = p.catch(() => {});
  return p;
}

(async () => {
  await mintOne(false);
  setInterval(() => mintOne(false).catch(e => log(`mint failed: ${e.message}`)), opt.period * 1000);
  server.listen(opt.port, '127.0.0.1', () => {
    const port = server.address().port;
    process.stdout.write(JSON.stringify({ ready: true, pid: process.pid, port,
      url: `http://127.0.0.1:${port}`, role: opt.role, period: opt.period, lifetime: opt.lifetime }) + '\n');
  });
  setTimeout(() => process.exit(0), opt.timeout * 1000).unref();
})().catch(e => { log(e.stack || String(e)); process.exit(1); });
process.on('SIGTERM', () => process.exit(0));
process.on('SIGINT', () => process.exit(0));
