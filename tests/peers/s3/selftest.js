#!/usr/bin/env node
'use strict';
// Self test of the S3/COS test server: starts server.js, uploads through it
// with Tencent's own client (cos-nodejs-sdk-v5: single PUT and multipart),
// with SigV4-signed requests (@smithy/signature-v4), reads the objects back
// and compares bytes, checks that bad signatures, bad digests and unknown
// keys are refused, and exercises the faults and the control API.
// Prints "ok N - title" / "not ok N - title" lines; exits 1 on any failure.
// Bounded: the whole run is killed after 120 s.

const http = require('http');
const crypto = require('crypto');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawn } = require('child_process');
const COS = require('cos-nodejs-sdk-v5');
const { SignatureV4 } = require('@smithy/signature-v4');
const { Sha256 } = require('@aws-crypto/sha256-js');
const { crc64, crc64Ref } = require('./crc64');

const ID = 'AKIDLAKEPIPETEST00000000000000000001';
const KEY = 'LakepipeTestSecretKey000000000001';
const TMP_ID = 'AKIDLAKEPIPETMPKEY0000000000000000002';
const TMP_KEY = 'LakepipeTestTmpSecretKey00000002';
const TMP_TOKEN = 'lakepipe-test-session-token-0002';
const BUCKET = 'examplebucket-1250000000';
const REGION = 'ap-guangzhou';

setTimeout(() => { console.log('not ok - self test timed out'); process.exit(1); }, 120000).unref();

let n = 0, failed = 0;
function ok(cond, title, detail) {
  n++;
  if (cond) console.log(`ok ${n} - ${title}`);
  else { failed++; console.log(`not ok ${n} - ${title}${detail !== undefined ? '\n#   ' + String(typeof detail === 'string' ? detail : JSON.stringify(detail)).replace(/\n/g, '\n#   ') : ''}`); }
}

function startServer() {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(__dirname, 'server.js'), '--bucket', BUCKET, '--bucket', 'test',
      '--timeout', '150', '--quiet'], { stdio: ['ignore', 'pipe', 'inherit'] });
    let buf = '';
    child.stdout.on('data', d => {
      buf += d;
      const i = buf.indexOf('\n');
      if (i >= 0) resolve({ child, info: JSON.parse(buf.slice(0, i)) });
    });
    child.on('exit', c => reject(new Error('server exited ' + c)));
  });
}

function httpReq({ port, method, path: p, headers, body }) {
  return new Promise((resolve, reject) => {
    const r = http.request({ host: '127.0.0.1', port, method, path: p, headers, agent: false }, res => {
      const chunks = [];
      res.on('data', c => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    r.on('error', reject);
    r.end(body);
  });
}
const ctl = (info, method, p, obj) => httpReq({ port: info.ctl_port, method, path: p,
  headers: { 'content-type': 'application/json' }, body: obj ? JSON.stringify(obj) : undefined })
  .then(r => (r.headers['content-type'] === 'application/json' ? JSON.parse(r.body) : r));

// A SigV4-signed request, signed by the AWS SDK's signer.
async function sigv4({ info, method, key, query, body, unsigned, tmp, tamper, vhost, extraHeaders }) {
  body = body === undefined ? Buffer.alloc(0) : Buffer.from(body);
  const host = vhost ? `${BUCKET}.localhost:${info.port}` : `127.0.0.1:${info.port}`;
  const p = (vhost ? '' : `/${BUCKET}`) + '/' + key.split('/').map(s => encodeURIComponent(s).replace(/[!'()*]/g, c => '%' + c.charCodeAt(0).toString(16).toUpperCase())).join('/');
  const headers = { host, 'x-amz-content-sha256': unsigned ? 'UNSIGNED-PAYLOAD' : crypto.createHash('sha256').update(body).digest('hex'),
    'content-length': String(body.length), ...(extraHeaders || {}) };
  const signer = new SignatureV4({ credentials: tmp ? { accessKeyId: TMP_ID, secretAccessKey: TMP_KEY, sessionToken: TMP_TOKEN }
    : { accessKeyId: ID, secretAccessKey: tamper === 'key' ? 'wrong' : KEY }, region: REGION, service: 's3', sha256: Sha256, uriEscapePath: false });
  const s = await signer.sign({ method, protocol: 'http:', hostname: host.replace(/:\d+$/, ''), port: info.port, path: p, query: query || {}, headers });
  const qs = Object.entries(query || {}).map(([k, v]) => (v === null || v === '' ? encodeURIComponent(k) : `${encodeURIComponent(k)}=${encodeURIComponent(v)}`)).join('&');
  if (tamper === 'sig') s.headers.authorization = s.headers.authorization.replace(/Signature=(.)/, (m, c) => 'Signature=' + (c === '0' ? '1' : '0'));
  return httpReq({ port: info.port, method, path: p + (qs ? '?' + qs : ''), headers: s.headers, body });
}

const camSafe = s => encodeURIComponent(s).replace(/[!'()*]/g, c => '%' + c.charCodeAt(0).toString(16).toUpperCase());

// A COS-native signed request, signed by Tencent's SDK.
function cosReq({ info, method, key, query, body, headers: extra, tamper }) {
  body = body === undefined ? Buffer.alloc(0) : Buffer.from(body);
  const host = `${BUCKET}.cos.${REGION}.localhost:${info.port}`;
  const headers = { host, 'content-length': String(body.length), ...(extra || {}) };
  const now = Math.floor(Date.now() / 1000) - 1;
  const auth = COS.getAuthorization({ SecretId: ID, SecretKey: tamper === 'key' ? 'wrong' : KEY, Method: method, Key: key,
    Query: query || {}, Headers: headers, KeyTime: `${now};${now + 900}` });
  const qs = Object.entries(query || {}).map(([k, v]) => (v === '' ? encodeURIComponent(k) : `${encodeURIComponent(k)}=${encodeURIComponent(v)}`)).join('&');
  const p = '/' + camSafe(key).replace(/%2F/g, '/') + (qs ? '?' + qs : '');
  headers.authorization = tamper === 'id' ? auth.replace(/q-ak=[^&]*/, 'q-ak=AKIDunknown') : auth;
  return httpReq({ port: info.port, method, path: p, headers, body });
}

function cosClient(info, extra) {
  return new COS({ SecretId: ID, SecretKey: KEY, Protocol: 'http:', Domain: `{Bucket}.cos.{Region}.localhost:${info.port}`,
    Proxy: `http://127.0.0.1:${info.port}`, Timeout: 20000, ...(extra || {}) });
}
const promisify = (cos, fn) => params => new Promise((resolve, reject) => cos[fn](params, (e, d) => (e ? reject(e) : resolve(d))));

async function main() {
  ok(crc64('123456789') === '11051210869376104954' && crc64Ref('123456789') === '11051210869376104954', 'CRC-64/XZ check value');
  const { child, info } = await startServer();
  ok(info.ready && info.port > 0 && info.ctl_port > 0, 'server prints its ready line', info);
  try {
    await run(info);
  } finally {
    child.kill('SIGTERM');
  }
  console.log(`1..${n}`);
  process.exit(failed ? 1 : 0);
}

async function run(info) {
  const cos = cosClient(info);
  const putObject = promisify(cos, 'putObject');
  const getObject = promisify(cos, 'getObject');
  const headObject = promisify(cos, 'headObject');

  // --- COS SDK: single PUT, odd key
  const k1 = 'dir/测试 file+(1)&x=y.json';
  const b1 = Buffer.from('{"hello":"world"}\n'.repeat(100));
  let r = await putObject({ Bucket: BUCKET, Region: REGION, Key: k1, Body: b1, ContentMD5: crypto.createHash('md5').update(b1).digest('base64'),
    Headers: { 'x-cos-meta-seqs': '1-100' } });
  ok(r.statusCode === 200 && r.headers['x-cos-hash-crc64ecma'] === crc64(b1), 'COS SDK putObject through the proxy; x-cos-hash-crc64ecma matches', r.headers);
  r = await getObject({ Bucket: BUCKET, Region: REGION, Key: k1 });
  ok(Buffer.compare(r.Body, b1) === 0, 'COS SDK getObject returns the same bytes');
  ok(r.headers['x-cos-meta-seqs'] === '1-100', 'x-cos-meta-* kept and returned', r.headers);
  r = await headObject({ Bucket: BUCKET, Region: REGION, Key: k1 });
  ok(r.headers['x-cos-hash-crc64ecma'] === crc64(b1) && r.headers['content-length'] === String(b1.length), 'HEAD carries length and CRC64', r.headers);

  // --- COS SDK multipart (sliceUploadFile)
  const big = crypto.randomBytes(2.5 * 1024 * 1024);
  const f = path.join(os.tmpdir(), `lakepipe-s3-selftest-${process.pid}.bin`);
  fs.writeFileSync(f, big);
  try {
    r = await promisify(cos, 'sliceUploadFile')({ Bucket: BUCKET, Region: REGION, Key: 'multi/big.bin', FilePath: f, SliceSize: 1024 * 1024, ChunkSize: 1024 * 1024 });
    ok(r.statusCode === 200, 'COS SDK sliceUploadFile (multipart) completes', r);
  } catch (e) { ok(false, 'COS SDK sliceUploadFile (multipart) completes', String(e && (e.message || JSON.stringify(e)))); }
  fs.unlinkSync(f);
  r = await getObject({ Bucket: BUCKET, Region: REGION, Key: 'multi/big.bin' });
  ok(Buffer.compare(r.Body, big) === 0, 'multipart object reads back identical');
  ok(r.headers['x-cos-hash-crc64ecma'] === crc64(big), 'multipart object CRC64 is the CRC of the whole object');
  let reqs = (await ctl(info, 'GET', '/requests?key=^multi/big')).requests;
  const ops = reqs.map(x => x.op);
  ok(ops.includes('InitiateMultipartUpload') && ops.filter(o => o === 'UploadPart').length === 3 && ops.includes('CompleteMultipartUpload'),
    'control API shows initiate, 3 parts, complete', ops);
  const complete = reqs.find(x => x.op === 'CompleteMultipartUpload');
  ok(complete && complete.status === 200 && complete.headers['x-cos-hash-crc64ecma'] === undefined && complete.crc64Sent === crc64(big),
    'CompleteMultipartUpload answered with the whole-object CRC64', complete);
  ok(reqs.every(x => x.auth === 'cos' && x.verifier === 'cos-nodejs-sdk-v5'), 'all verified by the COS SDK');

  // --- hand-made COS requests: edge keys, ?uploads, wrong signature, unknown id
  r = await cosReq({ info, method: 'PUT', key: 'a b/+(c)*!~.txt', body: 'x', headers: { 'x-cos-meta-a': 'B c', 'content-type': 'text/plain' } });
  ok(r.status === 200, 'COS-signed PUT with space, +, (, *, ! in the key', r.body.toString());
  r = await cosReq({ info, method: 'POST', key: 'up/x', query: { uploads: '' } });
  const uploadId = (/<UploadId>([^<]+)<\/UploadId>/.exec(r.body.toString()) || [])[1];
  ok(r.status === 200 && uploadId, 'COS-signed initiate multipart (?uploads)', r.body.toString());
  const part = Buffer.from('part one');
  r = await cosReq({ info, method: 'PUT', key: 'up/x', query: { partNumber: '1', uploadId }, body: part });
  ok(r.status === 200 && r.headers['x-cos-hash-crc64ecma'] === crc64(part), 'UploadPart answers the part CRC64', r.headers);
  r = await cosReq({ info, method: 'GET', key: 'up/x', query: { uploadId } });
  ok(r.status === 200 && /<PartNumber>1<\/PartNumber>/.test(r.body), 'ListParts (proxy-implemented)', r.body.toString());
  r = await cosReq({ info, method: 'DELETE', key: 'up/x', query: { uploadId } });
  ok(r.status === 204, 'AbortMultipartUpload (proxy-implemented)', r.status);
  r = await cosReq({ info, method: 'PUT', key: 'up/x', query: { partNumber: '2', uploadId }, body: part });
  ok(r.status === 404 && /NoSuchUpload/.test(r.body), 'UploadPart after abort: NoSuchUpload', r.body.toString());

  r = await cosReq({ info, method: 'PUT', key: 'bad', body: 'x', tamper: 'key' });
  ok(r.status === 403 && /<Code>SignatureDoesNotMatch<\/Code>/.test(r.body) && /<RequestId>/.test(r.body) && /<Resource>/.test(r.body),
    'wrong COS signature: 403 SignatureDoesNotMatch in COS error XML', r.body.toString());
  r = await cosReq({ info, method: 'PUT', key: 'bad', body: 'x', tamper: 'id' });
  ok(r.status === 403 && /<Code>AccessDenied<\/Code>/.test(r.body), 'unknown q-ak: 403 AccessDenied', r.body.toString());
  r = await cosReq({ info, method: 'PUT', key: 'bad', body: 'xyz', headers: { 'content-md5': crypto.createHash('md5').update('abc').digest('base64') } });
  ok(r.status === 400 && /BadDigest/.test(r.body), 'Content-MD5 mismatch: 400 BadDigest', r.body.toString());
  let objs = await ctl(info, 'GET', `/objects/${BUCKET}?prefix=bad`);
  ok(objs.count === 0, 'nothing written by refused requests', objs);

  // --- SigV4
  const b2 = Buffer.from('sigv4 body\n');
  r = await sigv4({ info, method: 'PUT', key: 'v4/obj 1+(x).txt', body: b2, extraHeaders: { 'content-md5': crypto.createHash('md5').update(b2).digest('base64') } });
  ok(r.status === 200 && r.headers['x-cos-hash-crc64ecma'] === crc64(b2), 'SigV4 PUT with body hash and Content-MD5', r.body.toString());
  r = await sigv4({ info, method: 'GET', key: 'v4/obj 1+(x).txt' });
  ok(r.status === 200 && Buffer.compare(r.body, b2) === 0, 'SigV4 GET reads it back');
  r = await sigv4({ info, method: 'PUT', key: 'v4/unsigned', body: b2, unsigned: true, tmp: true, vhost: true });
  ok(r.status === 200, 'SigV4 PUT, UNSIGNED-PAYLOAD, session token, virtual-hosted', r.body.toString());
  r = await sigv4({ info, method: 'POST', key: 'v4/mp', query: { uploads: '' } });
  ok(r.status === 200 && /<UploadId>/.test(r.body), 'SigV4 initiate multipart (?uploads)', r.body.toString());
  r = await sigv4({ info, method: 'PUT', key: 'v4/bad', body: b2, tamper: 'sig' });
  ok(r.status === 403 && /<Code>SignatureDoesNotMatch<\/Code>/.test(r.body), 'SigV4 wrong signature: 403 SignatureDoesNotMatch', r.body.toString());
  r = await sigv4({ info, method: 'PUT', key: 'v4/bad', body: b2, tamper: 'key' });
  ok(r.status === 403 && /SignatureDoesNotMatch/.test(r.body) && /<CanonicalRequest>/.test(r.body), 'SigV4 wrong secret: SignatureDoesNotMatch with CanonicalRequest', r.body.toString());
  r = await sigv4({ info, method: 'PUT', key: 'v4/bad', body: 'other', extraHeaders: { 'x-amz-content-sha256': crypto.createHash('sha256').update('not it').digest('hex') } });
  ok(r.status === 400 && /XAmzContentSHA256Mismatch/.test(r.body), 'SigV4 body hash mismatch: XAmzContentSHA256Mismatch', r.body.toString());
  objs = await ctl(info, 'GET', `/objects/${BUCKET}?prefix=v4/bad`);
  ok(objs.count === 0, 'nothing written by refused SigV4 requests', objs);

  // --- faults
  await ctl(info, 'POST', '/faults', { type: 'slowdown', op: 'PutObject', key: '^f/retry', count: 2, retryAfter: 2 });
  r = await cosReq({ info, method: 'PUT', key: 'f/retry', body: 'a' });
  ok(r.status === 503 && r.headers['retry-after'] === '2' && /SlowDown/.test(r.body), 'fault slowdown: 503 SlowDown with Retry-After', r.status);
  r = await cosReq({ info, method: 'PUT', key: 'f/retry', body: 'a' });
  const r3 = await cosReq({ info, method: 'PUT', key: 'f/retry', body: 'a' });
  ok(r.status === 503 && r3.status === 200, 'fault applies to exactly N requests', [r.status, r3.status]);
  reqs = (await ctl(info, 'GET', '/requests?key=^f/retry&op=PutObject')).requests;
  ok(reqs.length === 3 && reqs.filter(x => x.fault === 'slowdown').length === 2, 'requests list shows 3 tries, 2 faulted', reqs.map(x => [x.status, x.fault]));

  await ctl(info, 'POST', '/faults', { type: 'reset', key: '^f/reset$' });
  let err = null;
  try { r = await cosReq({ info, method: 'PUT', key: 'f/reset', body: crypto.randomBytes(100000) }); } catch (e) { err = e; }
  ok(err && /ECONNRESET|socket hang up|EPIPE/.test(err.message), 'fault reset: connection reset mid-body', err ? err.message : r.status);
  objs = await ctl(info, 'GET', `/objects/${BUCKET}?prefix=f/reset`);
  ok(objs.count === 0, 'fault reset: nothing stored');

  await ctl(info, 'POST', '/faults', { type: 'lost', key: '^f/lost$' });
  err = null;
  try { r = await cosReq({ info, method: 'PUT', key: 'f/lost', body: 'stored anyway' }); } catch (e) { err = e; }
  objs = await ctl(info, 'GET', `/objects/${BUCKET}?prefix=f/lost`);
  ok(err && objs.count === 1, 'fault lost: no response, but the object is stored', [err && err.message, objs.count]);

  await ctl(info, 'POST', '/faults', { type: 'badcrc', key: '^f/crc$' });
  r = await cosReq({ info, method: 'PUT', key: 'f/crc', body: 'abc' });
  ok(r.status === 200 && r.headers['x-cos-hash-crc64ecma'] !== crc64('abc'), 'fault badcrc: wrong x-cos-hash-crc64ecma', r.headers);

  for (const [type, status, code] of [['internal', 500, 'InternalError'], ['throttle', 429, 'TooManyRequests'], ['denied', 403, 'AccessDenied'], ['baddigest', 400, 'BadDigest'], ['sha256mismatch', 400, 'XAmzContentSHA256Mismatch']]) {
    await ctl(info, 'POST', '/faults', { type, key: '^f/err$' });
    r = await cosReq({ info, method: 'PUT', key: 'f/err', body: 'abc' });
    ok(r.status === status && new RegExp(`<Code>${code}</Code>`).test(r.body), `fault ${type}: ${status} ${code}`, r.body.toString());
  }
  objs = await ctl(info, 'GET', `/objects/${BUCKET}?prefix=f/err`);
  ok(objs.count === 0, 'error faults store nothing');

  await ctl(info, 'POST', '/faults', { type: 'skew', seconds: -3600, key: '^f/skew$' });
  r = await cosReq({ info, method: 'PUT', key: 'f/skew', body: 'abc' });
  const srvDate = Date.parse(r.headers.date);
  ok(r.status === 403 && /RequestTimeTooSkewed/.test(r.body) && Math.abs(srvDate - (Date.now() - 3600000)) < 5000,
    'fault skew: RequestTimeTooSkewed, Date header shows the skewed clock', [r.status, r.headers.date]);
  await ctl(info, 'POST', '/faults', { type: 'skew', seconds: 3600, key: '^f/skew$' });
  r = await sigv4({ info, method: 'PUT', key: 'f/skew', body: 'abc' });
  ok(r.status === 403 && /RequestTimeTooSkewed/.test(r.body) && /<ServerTime>/.test(r.body), 'fault skew (SigV4): RequestTimeTooSkewed with ServerTime', r.body.toString());

  // COS SDK copes with a skewed server clock by itself (it reads Date).
  await ctl(info, 'POST', '/clock', { offset: -3600 });
  r = await putObject({ Bucket: BUCKET, Region: REGION, Key: 'f/skew-sdk', Body: 'abc' }).catch(e => e);
  await ctl(info, 'POST', '/clock', { offset: 0 });
  ok(r.statusCode === 200, 'COS SDK corrects its clock from the Date of RequestTimeTooSkewed', r);

  // stall (response phase) with a client timeout: the write lands.
  await ctl(info, 'POST', '/faults', { type: 'stall', phase: 'response', seconds: 3, key: '^f/stall$' });
  const t0 = Date.now();
  r = await cosReq({ info, method: 'PUT', key: 'f/stall', body: 'abc' });
  ok(r.status === 200 && Date.now() - t0 >= 2900, 'fault stall (response): answer delayed', Date.now() - t0);

  // stall (body phase): nothing read for S seconds, then normal.
  await ctl(info, 'POST', '/faults', { type: 'stall', seconds: 2, key: '^f/stallbody$' });
  const t1 = Date.now();
  r = await cosReq({ info, method: 'PUT', key: 'f/stallbody', body: crypto.randomBytes(300000) });
  ok(r.status === 200 && Date.now() - t1 >= 1900, 'fault stall (body): upload delayed, then stored', [r.status, Date.now() - t1]);

  // A COS signature over a header the SDK will not sign (date), as in the
  // COS documentation examples: checked by the server's own implementation.
  {
    const now = Math.floor(Date.now() / 1000) - 1, kt = `${now};${now + 600}`;
    const host = `${BUCKET}.cos.${REGION}.localhost:${info.port}`, body = 'dated', date = new Date().toUTCString();
    const hs = { 'content-length': String(body.length), date, host };
    const names = Object.keys(hs).sort();
    const fmt = ['put', '/f/dated', '', names.map(n => `${n}=${camSafe(hs[n])}`).join('&'), ''].join('\n');
    const sk = crypto.createHmac('sha1', KEY).update(kt).digest('hex');
    const sts = `sha1\n${kt}\n${crypto.createHash('sha1').update(fmt).digest('hex')}\n`;
    const sig = crypto.createHmac('sha1', sk).update(sts).digest('hex');
    const authz = `q-sign-algorithm=sha1&q-ak=${ID}&q-sign-time=${kt}&q-key-time=${kt}&q-header-list=${names.join(';')}&q-url-param-list=&q-signature=${sig}`;
    r = await httpReq({ port: info.port, method: 'PUT', path: '/f/dated', headers: { ...hs, authorization: authz }, body });
    const rec = (await ctl(info, 'GET', '/requests?key=^f/dated$')).requests.pop();
    ok(r.status === 200 && /^own/.test(rec.verifier), 'COS signature over date accepted (own verifier)', [r.status, r.body.toString(), rec.verifier]);
  }

  // complete-error: 200 with an <Error> body
  r = await cosReq({ info, method: 'POST', key: 'f/ce', query: { uploads: '' } });
  const uid = /<UploadId>([^<]+)/.exec(r.body)[1];
  r = await cosReq({ info, method: 'PUT', key: 'f/ce', query: { partNumber: '1', uploadId: uid }, body: 'only part' });
  const etag = r.headers.etag;
  await ctl(info, 'POST', '/faults', { type: 'complete-error', op: 'CompleteMultipartUpload' });
  const cbody = `<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>${etag}</ETag></Part></CompleteMultipartUpload>`;
  r = await cosReq({ info, method: 'POST', key: 'f/ce', query: { uploadId: uid }, body: cbody });
  ok(r.status === 200 && /<Error>/.test(r.body) && /InternalError/.test(r.body), 'fault complete-error: 200 with an <Error> body', r.body.toString());
  r = await cosReq({ info, method: 'POST', key: 'f/ce', query: { uploadId: uid }, body: cbody });
  ok(r.status === 200 && /CompleteMultipartUploadResult/.test(r.body) && r.headers['x-cos-hash-crc64ecma'] === crc64('only part'), 'retried complete succeeds', r.body.toString());
  r = await cosReq({ info, method: 'POST', key: 'f/ce2', query: { uploads: '' } });
  const uid2 = /<UploadId>([^<]+)/.exec(r.body)[1];
  r = await cosReq({ info, method: 'POST', key: 'f/ce2', query: { uploadId: uid2 }, body: cbody });
  ok(r.status === 400 && /InvalidPart/.test(r.body), 'complete with a part that was not uploaded: InvalidPart', r.body.toString());

  // Abort while parts are in flight: the server stays up, a part the
  // abort overtook gets NoSuchUpload, and nothing of the upload is left.
  {
    const initiate = async k => /<UploadId>([^<]+)/.exec((await cosReq({ info, method: 'POST', key: k, query: { uploads: '' } })).body)[1];
    const putPart = (k, uploadId, n, body) => cosReq({ info, method: 'PUT', key: k, query: { partNumber: String(n), uploadId }, body })
      .catch(e => ({ status: e.message, body: '' }));
    const abort = (k, uploadId) => cosReq({ info, method: 'DELETE', key: k, query: { uploadId } });
    // ids of the uploads not finished, beyond those of the tests above
    const earlier = (await ctl(info, 'GET', `/objects/${BUCKET}`)).pendingUploads;
    const pending = async () => (await ctl(info, 'GET', `/objects/${BUCKET}`)).pendingUploads.filter(id => !earlier.includes(id));

    // a part held before its body is read: the abort goes first
    let uid = await initiate('f/abort-held');
    await ctl(info, 'POST', '/faults', { type: 'stall', seconds: 1, op: 'UploadPart', key: '^f/abort-held$' });
    const held = putPart('f/abort-held', uid, 1, crypto.randomBytes(100000));
    await new Promise(res => setTimeout(res, 300));
    r = await abort('f/abort-held', uid);
    const hr = await held;
    ok(r.status === 204 && hr.status === 404 && /NoSuchUpload/.test(hr.body) && !(await pending()).includes(uid),
      'abort during a held part: 204, the part gets NoSuchUpload, no upload left', [r.status, hr.status, String(hr.body)]);

    // aborts landing while s3rver writes parts (this used to kill it)
    const body = crypto.randomBytes(4 << 20);
    const statuses = [];
    for (let round = 0; round < 12; round++) {
      const k = `f/abort-${round}`;
      uid = await initiate(k);
      const parts = [1, 2, 3].map(n => putPart(k, uid, n, body));
      for (let i = 0; i < 2000; i++) {
        const recs = (await ctl(info, 'GET', `/requests?op=UploadPart&key=^${k}$`)).requests;
        if (recs.some(x => x.bytes === x.contentLength)) break;
      }
      await new Promise(res => setTimeout(res, round % 6));
      statuses.push((await abort(k, uid).catch(e => ({ status: e.message }))).status);
      for (const p of await Promise.all(parts)) statuses.push(p.status);
    }
    const alive = await ctl(info, 'GET', '/info').catch(e => ({ error: e.message }));
    ok(alive.ready === true, 'server still up after aborts during parts', alive);
    ok(statuses.every(x => x === 200 || x === 204 || x === 404), 'aborts 204, parts 200 or NoSuchUpload', statuses);
    const left = await pending().catch(e => e.message);
    ok(Array.isArray(left) && left.length === 0, 'no upload left behind', left);
    r = await abort('f/abort-0', uid).catch(e => ({ status: e.message }));
    ok(r.status === 404 && /NoSuchUpload/.test(r.body), 'second abort: NoSuchUpload', [r.status, String(r.body)]);
  }

  // control API: the object endpoint and request records hide secrets
  r = await httpReq({ port: info.ctl_port, method: 'GET', path: `/object/${BUCKET}/${encodeURIComponent(k1)}` });
  ok(r.status === 200 && Buffer.compare(r.body, b1) === 0 && r.headers['x-crc64'] === crc64(b1), 'control API GET /object returns stored bytes');
  const all = JSON.stringify(await ctl(info, 'GET', '/requests'));
  ok(!all.includes(KEY) && !all.includes(TMP_KEY) && !all.includes(TMP_TOKEN) && !/q-signature=[0-9a-f]{40}/.test(all), 'request records carry no secret, token or signature');
}

main().catch(e => { console.log('not ok - self test crashed: ' + (e && e.stack)); process.exit(1); });
