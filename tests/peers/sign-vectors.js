#!/usr/bin/env node
'use strict';
// Signature vectors for lakepipe's C signer (deliver/sign.c), computed by
// the vendors' own code: COS.getAuthorization from cos-nodejs-sdk-v5 (COS
// native signature) and SignatureV4 from @smithy/signature-v4 (AWS SigV4).
//
//   node sign-vectors.js [--seed N] [--count N] [--no-fixed]
//
// Prints one request per line, tab-separated, every field percent-encoded
// (so tabs, UTF-8 and spaces survive), read by `test-sign --vectors`:
//
//   cos ID SECRET TOKEN METHOD PATH QUERY HEADERS START END EXPECTED
//   v4  ID SECRET TOKEN METHOD PATH QUERY HEADERS REGION SERVICE EPOCH
//       PAYLOAD EXPECTED
//
// PATH is the decoded request path; QUERY and HEADERS are name=value pairs
// joined by '&' (a bare name is a parameter without value, "?uploads");
// an empty TOKEN means none, an empty PAYLOAD means UNSIGNED-PAYLOAD.
// EXPECTED is the whole Authorization value.  Header values may carry
// white space around them: what a server sees, and so what the SDKs are
// given, is the trimmed value.
//
// The fixed cases come from tests/peers/s3/vectors.js when it is there;
// the random ones (--count, default 40) from a seeded generator, so that
// each run of the test can try new keys; the seed goes to stderr.
// All credentials are public example or test values, not secrets.

const path = require('path');
const fs = require('fs');
const { execFileSync } = require('child_process');
const COS = require('cos-nodejs-sdk-v5');
const { SignatureV4 } = require('@smithy/signature-v4');
const { Sha256 } = require('@aws-crypto/sha256-js');
const crypto = require('crypto');

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : dflt;
};
const seed = Number(opt('--seed', String(Date.now() % 1000000)));
const count = Number(opt('--count', '40'));
const fixed = !args.includes('--no-fixed');

const enc = s => encodeURIComponent(s).replace(/[!'()*]/g,
  c => '%' + c.charCodeAt(0).toString(16).toUpperCase());
const pairs = list => list.map(([k, v]) => (v === null ? enc(k) : enc(k) + '=' + enc(v))).join('&');
const trim = v => (v === null ? '' : v.replace(/^[ \t]+|[ \t]+$/g, ''));

function cosLine(c) {
  const headers = {};
  for (const [k, v] of c.headers) headers[k] = trim(v);
  if (c.token) headers['x-cos-security-token'] = c.token;
  const query = {};
  for (const [k, v] of c.query) query[k] = v === null ? '' : v;
  const expected = COS.getAuthorization({
    SecretId: c.id, SecretKey: c.secret, Method: c.method, Pathname: c.path,
    Query: query, Headers: headers, KeyTime: `${c.start};${c.end}`,
  });
  return ['cos', c.id, c.secret, c.token || '', c.method, c.path, pairs(c.query),
    pairs(c.headers), String(c.start), String(c.end), expected];
}

const uriEscapePath = p => p.split('/').map(enc).join('/');

async function v4Line(c) {
  const signer = new SignatureV4({
    credentials: { accessKeyId: c.id, secretAccessKey: c.secret, sessionToken: c.token || undefined },
    region: c.region, service: c.service, sha256: Sha256, uriEscapePath: false, applyChecksum: false,
  });
  const headers = {};
  for (const [k, v] of c.headers) headers[k] = v === null ? '' : v;
  headers['x-amz-content-sha256'] = c.payload || 'UNSIGNED-PAYLOAD';
  const query = {};
  for (const [k, v] of c.query) query[k] = v === null ? '' : v;
  const host = c.headers.find(([k]) => k.toLowerCase() === 'host');
  const out = await signer.sign({
    method: c.method, protocol: 'https:', hostname: host ? host[1].trim() : 'localhost',
    path: uriEscapePath(c.path), query, headers,
  }, { signingDate: new Date(c.epoch * 1000) });
  return ['v4', c.id, c.secret, c.token || '', c.method, c.path, pairs(c.query),
    pairs(c.headers), c.region, c.service, String(c.epoch), c.payload || '',
    out.headers.authorization];
}

// ---------------------------------------------------------- fixed cases

function fromVectorsJs() {
  const file = path.join(__dirname, 's3', 'vectors.js');
  if (!fs.existsSync(file)) return [];
  const text = execFileSync(process.execPath, [file], { encoding: 'utf8' });
  const cases = [];
  for (const line of text.split('\n')) {
    if (!line) continue;
    const v = JSON.parse(line);
    const kv = o => Object.entries(o || {}).map(([k, x]) => [k, x === '' ? null : String(x)]);
    if (v.kind === 'cos') {
      const [start, end] = v.keyTime.split(';').map(Number);
      let token = '';
      const headers = kv(v.headers).filter(([k, x]) => {
        if (k.toLowerCase() !== 'x-cos-security-token') return true;
        token = x;
        return false;
      });
      // Expected: the vector's own Authorization (for the documented
      // examples, over all listed headers, which is what lakepipe signs).
      cases.push(['cos', v.secretId, v.secretKey, token, v.method, v.pathname,
        pairs(kv(v.query)), pairs(headers), String(start), String(end), v.authorization]);
    } else if (v.kind === 'sigv4') {
      const decoded = v.path.split('/').map(decodeURIComponent).join('/');
      cases.push(['v4', v.accessKeyId, v.secretAccessKey, v.sessionToken || '', v.method, decoded,
        pairs(kv(v.query)), pairs(kv(v.headers)), v.region, v.service,
        String(Date.parse(v.date) / 1000),
        v.payloadHash === 'UNSIGNED-PAYLOAD' ? '' : v.payloadHash, v.authorization]);
    }
  }
  return cases;
}

// --------------------------------------------------------- random cases

let state = seed >>> 0 || 1;
const rnd = n => {		// xorshift32: reproducible from the seed
  state ^= state << 13; state >>>= 0;
  state ^= state >>> 17;
  state ^= state << 5; state >>>= 0;
  return state % n;
};
const pick = a => a[rnd(a.length)];

const KEY_CHARS = ['a', 'b', 'Z', '0', '9', '-', '_', '.', '~', ' ', '+', '(', ')', '!', '*', "'",
  '=', '&', '%', ';', ',', ':', '@', '$', '#', '?', '[', ']', '数', '据', 'ü', 'é', '😀'];
const VALUE_CHARS = ['a', 'B', '1', '=', '&', '/', '+', ' ', '%', '-', '.', '~', ':', ','];

function randomKey() {
  const segs = [];
  const n = 1 + rnd(4);
  for (let i = 0; i < n; i++) {
    let s = '';
    const len = rnd(8);	// empty segments make runs of '/'
    for (let j = 0; j < len; j++) s += pick(KEY_CHARS);
    segs.push(s);
  }
  return segs.join('/');
}

function randomValue(chars, max) {
  let s = '';
  const len = 1 + rnd(max);
  for (let i = 0; i < len; i++) s += pick(chars);
  return s;
}

function randomQuery() {
  const all = [
    () => ['uploads', null],
    () => ['partNumber', String(1 + rnd(10000))],
    () => ['uploadId', randomValue(VALUE_CHARS, 20)],
    () => ['prefix', randomKey()],
    () => ['max-keys', String(rnd(1001))],
    () => ['response-content-type', 'application/json; charset=utf-8'],
    () => ['versionId', null],
  ];
  const q = [];
  for (const f of all) if (rnd(3) === 0) q.push(f());
  return q;
}

function spaced(v) {		// white space around a value, sometimes
  return pick(['', ' ', '  ', '\t']) + v + pick(['', ' ', ' \t']);
}

function randomHeaders(host, meta) {
  const h = [[pick(['host', 'Host']), host]];
  if (rnd(2)) h.push([pick(['content-type', 'Content-Type']), spaced(pick(['application/json', 'text/csv', 'application/octet-stream', 'application/x-ndjson']))]);
  if (rnd(2)) h.push(['Content-MD5', crypto.randomBytes(16).toString('base64')]);
  if (rnd(2)) h.push(['content-length', String(rnd(1 << 30))]);
  if (rnd(2)) h.push([meta + 'count', spaced(String(rnd(100000)))]);
  if (rnd(2)) h.push([meta + 'first-id', spaced(`${rnd(100)}:${rnd(1000)}:${rnd(4) - 1}`)]);
  if (rnd(3) === 0) h.push([meta + 'note', 'a  b   c']);
  return h;
}

function randomCos(i) {
  const start = 1600000000 + rnd(200000000);
  const c = {
    id: 'AKIDLAKEPIPERAND' + String(i).padStart(4, '0'), secret: 'RandSecret' + randomValue(['a', 'Z', '1', '+', '/'], 20),
    token: rnd(4) === 0 ? 'tok/' + randomValue(['a', '=', '+', '/', '9'], 30) : '',
    method: pick(['put', 'get', 'post', 'head', 'delete', 'PUT']),
    path: '/' + randomKey(), query: randomQuery(), start, end: start + 1 + rnd(86400),
  };
  c.headers = randomHeaders('examplebucket-1250000000.cos.ap-guangzhou.myqcloud.com', 'x-cos-meta-');
  if (rnd(3) === 0) c.headers.push(['x-cos-storage-class', pick(['STANDARD', 'STANDARD_IA', 'ARCHIVE'])]);
  return c;
}

function randomV4(i) {
  const pathStyle = rnd(2) === 1;
  const c = {
    id: 'AKIALAKEPIPERAND' + String(i).padStart(4, '0'), secret: 'RandSecret/' + randomValue(['a', 'Z', '1', '+', '/'], 30),
    token: rnd(4) === 0 ? 'FwoGZXIvYXdzE' + randomValue(['a', '=', '+', '/', '9'], 40) : '',
    method: pick(['PUT', 'GET', 'POST', 'HEAD', 'DELETE']),
    path: (pathStyle ? '/examplebucket/' : '/') + randomKey(), query: randomQuery(),
    region: pick(['us-east-1', 'eu-west-3', 'ap-guangzhou']), service: 's3',
    epoch: 1300000000 + rnd(800000000),
    payload: rnd(3) === 0 ? '' : crypto.createHash('sha256').update(String(rnd(1000))).digest('hex'),
  };
  c.headers = randomHeaders(pathStyle ? '127.0.0.1:9000' : 'examplebucket.s3.amazonaws.com', 'x-amz-meta-');
  if (rnd(3) === 0) c.headers.push(['range', 'bytes=0-' + rnd(1000)]);
  return c;
}

async function main() {
  process.stderr.write(`sign-vectors: seed ${seed}\n`);
  const lines = fixed ? fromVectorsJs() : [];
  for (let i = 0; i < count; i++) {
    lines.push(cosLine(randomCos(i)));
    lines.push(await v4Line(randomV4(i)));
  }
  for (const l of lines) console.log(l.map(enc).join('\t'));
}

main().catch(e => { process.stderr.write(String(e.stack || e) + '\n'); process.exit(1); });
