#!/usr/bin/env node
'use strict';
// Signature reference vectors for lakepipe's C signer, computed by the
// vendors' own code: COS.getAuthorization (cos-nodejs-sdk-v5) for the COS
// native signature, SignatureV4 (@smithy/signature-v4, the AWS SDK's signer)
// for SigV4.  All credentials below are public example or test values.
//
//   node vectors.js            one JSON object per line (JSON Lines)
//   node vectors.js --pretty   the same, indented
//   node vectors.js --check    only check; exit 1 if the SDKs disagree with
//                              the documented examples or with the
//                              independent recomputation of the intermediates
//
// Every vector carries the inputs, the Authorization header, and
// intermediates (HttpString/StringToSign/SignKey for COS, CanonicalRequest/
// StringToSign for SigV4) recomputed here independently; --check fails if
// the recomputation does not give the SDK's signature.

const crypto = require('crypto');
const COS = require('cos-nodejs-sdk-v5');
const { SignatureV4 } = require('@smithy/signature-v4');
const { Sha256 } = require('@aws-crypto/sha256-js');
const { crc64 } = require('./crc64');

const args = process.argv.slice(2);
const pretty = args.includes('--pretty');
const checkOnly = args.includes('--check');
let bad = 0;
const out = v => { if (!checkOnly) console.log(pretty ? JSON.stringify(v, null, 2) : JSON.stringify(v)); };
const fail = msg => { bad++; process.stderr.write('MISMATCH: ' + msg + '\n'); };

const enc = s => encodeURIComponent(s).replace(/[!'()*]/g, c => '%' + c.charCodeAt(0).toString(16).toUpperCase());
const hmac1 = (k, m) => crypto.createHmac('sha1', k).update(m, 'utf8').digest('hex');
const sha1 = m => crypto.createHash('sha1').update(m, 'utf8').digest('hex');

// ------------------------------------------------------------------ COS

function cosIntermediates({ secretKey, method, pathname, query, headers, keyTime }) {
  const kv = o => Object.keys(o).map(k => [enc(k).toLowerCase(), enc(String(o[k]))])
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const q = kv(query), h = kv(headers);
  const httpString = [method.toLowerCase(), pathname, q.map(x => x.join('=')).join('&'), h.map(x => x.join('=')).join('&'), ''].join('\n');
  const signKey = hmac1(secretKey, keyTime);
  const stringToSign = ['sha1', keyTime, sha1(httpString), ''].join('\n');
  return {
    urlParamList: q.map(x => x[0]).join(';'), headerList: h.map(x => x[0]).join(';'),
    httpString, signKey, sha1HttpString: sha1(httpString), stringToSign, signature: hmac1(signKey, stringToSign),
  };
}

// Header names COS.getAuthorization signs; it silently drops any other
// (notably "date", which the COS documentation examples sign).
const SDK_SIGNABLE = new Set(['cache-control', 'content-disposition', 'content-encoding', 'content-length',
  'content-md5', 'content-type', 'expect', 'expires', 'host', 'if-match', 'if-modified-since',
  'if-none-match', 'if-unmodified-since', 'origin', 'range', 'transfer-encoding', 'pic-operations']);
const sdkKeeps = n => n.toLowerCase().includes('x-cos-') || n.toLowerCase().includes('x-ci-') || SDK_SIGNABLE.has(n.toLowerCase());

function cosVector(name, v, expectSignature, note) {
  // What the SDK signs: the decoded key as the path (getAuth's Pathname).
  const sdkAuth = COS.getAuthorization({
    SecretId: v.secretId, SecretKey: v.secretKey, Method: v.method, Pathname: v.pathname,
    Query: v.query, Headers: v.headers, KeyTime: v.keyTime,
  });
  const sdkSig = /q-signature=([0-9a-f]+)/.exec(sdkAuth)[1];
  const im = cosIntermediates(v);
  const dropped = Object.keys(v.headers).filter(n => !sdkKeeps(n));
  // The independent recomputation over the headers the SDK keeps must give the SDK's signature.
  const kept = Object.fromEntries(Object.entries(v.headers).filter(([n]) => sdkKeeps(n)));
  const imKept = cosIntermediates({ ...v, headers: kept });
  if (imKept.signature !== sdkSig) fail(`${name}: independent recomputation ${imKept.signature} != SDK ${sdkSig}`);
  if (expectSignature && im.signature !== expectSignature) fail(`${name}: recomputation gives ${im.signature}, documentation says ${expectSignature}`);
  const authorization = dropped.length
    ? `q-sign-algorithm=sha1&q-ak=${v.secretId}&q-sign-time=${v.keyTime}&q-key-time=${v.keyTime}&q-header-list=${im.headerList}&q-url-param-list=${im.urlParamList}&q-signature=${im.signature}`
    : sdkAuth;
  out({ name, kind: 'cos', note, ...v, authorization, signature: im.signature,
    documented: expectSignature || undefined,
    sdk: dropped.length ? { authorization: sdkAuth, dropsHeaders: dropped,
      why: 'COS.getAuthorization signs only x-cos-*, x-ci-* and a fixed list of standard headers; it drops the others. ' +
        'The signature above is the recomputation over all listed headers (= the documented one); the SDK one is over the headers it keeps, and equals the recomputation over those.' } : undefined,
    intermediates: im });
}

const DOC_ID = 'AKIDQjz3ltompVjBni5LitkWHFlFpwkn9U5q';
const DOC_KEY = 'BQYIM75p8x0iWVFSIgqEKwFprpRSVHlz';   // the COS documentation's example key
// COS "Request Signature" (document 436/7778), example 1: upload an object.
cosVector('cos-doc-put', {
  secretId: DOC_ID, secretKey: DOC_KEY, method: 'put', pathname: '/exampleobject(腾讯云)',
  requestLine: 'PUT /exampleobject(%E8%85%BE%E8%AE%AF%E4%BA%91) HTTP/1.1',
  query: {},
  headers: {
    'Date': 'Thu, 16 May 2019 06:45:51 GMT',
    'Host': 'examplebucket-1250000000.cos.ap-beijing.myqcloud.com',
    'Content-Type': 'text/plain', 'Content-Length': '13',
    'Content-MD5': 'mQ/fVh815F3k6TAUm8m0eg==', 'x-cos-acl': 'private', 'x-cos-grant-read': 'uin="100000000011"',
  },
  keyTime: '1557989151;1557996351',
}, '3b8851a11a569213c17ba8fa7dcf2abec6935172',
'COS docs example 1 (SignKey eb2519b498b02ac213cb1f3d1a3d27a3b3c9bc5f, SHA1(HttpString) 8b2751e77f43a0995d6e9eb9477f4b685cca4172); body "ObjectContent"');
// Example 2: download an object with response-* parameters.
cosVector('cos-doc-get', {
  secretId: DOC_ID, secretKey: DOC_KEY, method: 'get', pathname: '/exampleobject(腾讯云)',
  requestLine: 'GET /exampleobject(%E8%85%BE%E8%AE%AF%E4%BA%91)?response-content-type=application%2Foctet-stream&response-cache-control=max-age%3D600 HTTP/1.1',
  query: { 'response-content-type': 'application/octet-stream', 'response-cache-control': 'max-age=600' },
  headers: { 'Date': 'Thu, 16 May 2019 06:55:53 GMT', 'Host': 'examplebucket-1250000000.cos.ap-beijing.myqcloud.com' },
  keyTime: '1557989753;1557996953',
}, '01681b8c9d798a678e43b685a9f1bba0f6c0e012',
'COS docs example 2 (SignKey 937914bf490e9e8c189836aad2052e4feeb35eaf, SHA1(HttpString) 54ecfe22f59d3514fdc764b87a32d8133ea611e6)');

const TID = 'AKIDLAKEPIPETEST00000000000000000001';
const TKEY = 'LakepipeTestSecretKey000000000001';
const KT = '1700000000;1700003600';
const HOST = 'examplebucket-1250000000.cos.ap-guangzhou.myqcloud.com';
const body1 = 'hello, lake\n';
const md5 = s => crypto.createHash('md5').update(s).digest('base64');
const base = { secretId: TID, secretKey: TKEY, keyTime: KT };
cosVector('cos-put-plain', { ...base, method: 'put', pathname: '/lake/2024/01/02/obj.json', query: {},
  headers: { host: HOST, 'content-length': String(body1.length), 'content-md5': md5(body1), 'content-type': 'application/json' } });
cosVector('cos-put-special-key', { ...base, method: 'put', pathname: "/lake/dt=2024-01-02/part 1+(a)*!'~;,$@&.json.gz", query: {},
  headers: { host: HOST, 'content-length': '0' } }, null, 'space, +, (, ), *, !, quote, ~ and other reserved characters in the key');
cosVector('cos-put-utf8-key', { ...base, method: 'put', pathname: '/数据/文件 ü.csv', query: {},
  headers: { host: HOST, 'content-type': 'text/csv; charset=utf-8', 'content-length': '5' } }, null, 'UTF-8 key (signed decoded; percent-encoded only on the wire)');
cosVector('cos-put-meta', { ...base, method: 'put', pathname: '/lake/a.json', query: {},
  headers: { host: HOST, 'content-length': '12', 'x-cos-meta-seqs': '1-100,200-300', 'x-cos-meta-First-Id': '12:34:-1:0', 'x-cos-storage-class': 'STANDARD' } },
null, 'x-cos-meta-* headers (header names are lower-cased in the list and the string)');
cosVector('cos-initiate-uploads', { ...base, method: 'post', pathname: '/lake/big.parquet', query: { uploads: '' },
  headers: { host: HOST, 'content-type': 'application/octet-stream' } }, null, 'POST /lake/big.parquet?uploads (a parameter without value signs as "uploads=")');
cosVector('cos-upload-part', { ...base, method: 'put', pathname: '/lake/big.parquet', query: { partNumber: '3', uploadId: '1585130821cbb7df1d11846c073ad648e8f33b087cec2381df437acdc833cf654b9ecc6361' },
  headers: { host: HOST, 'content-length': '1048576' } }, null, 'parameter names are lower-cased in the list and the string: partnumber, uploadid');
cosVector('cos-complete', { ...base, method: 'post', pathname: '/lake/big.parquet', query: { uploadId: 'abc123' },
  headers: { host: HOST, 'content-type': 'application/xml', 'content-length': '187', 'content-md5': md5('x') } });
cosVector('cos-list-prefix', { ...base, method: 'get', pathname: '/', query: { prefix: 'lake/dt=2024-01-02/', 'max-keys': '1000', delimiter: '/' },
  headers: { host: HOST } }, null, 'GET Bucket (list) with = and / in parameter values');
cosVector('cos-head-no-headers', { ...base, method: 'head', pathname: '/lake/a.json', query: {}, headers: {} }, null, 'empty q-header-list and q-url-param-list');
cosVector('cos-security-token', { secretId: 'AKIDLAKEPIPETMPKEY0000000000000000002', secretKey: 'LakepipeTestTmpSecretKey00000002', keyTime: KT,
  method: 'put', pathname: '/lake/tmp.json', query: {},
  headers: { host: HOST, 'content-length': '2', 'x-cos-security-token': 'lakepipe-test-session-token-0002' } }, null, 'temporary credentials: the token header is sent and signed');

// ------------------------------------------------------------------ SigV4

async function v4Intermediates({ method, path, query, headers, accessKeyId, secretAccessKey, region, service, amzDate, payloadHash }) {
  const qk = Object.keys(query).map(k => [enc(k), query[k] === null ? '' : enc(query[k])]).sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : 1));
  const hn = Object.keys(headers).map(k => k.toLowerCase()).sort();
  const hv = n => String(headers[Object.keys(headers).find(k => k.toLowerCase() === n)]).trim().replace(/\s+/g, ' ');
  const canonicalRequest = [method, path, qk.map(x => x.join('=')).join('&'), hn.map(n => `${n}:${hv(n)}`).join('\n'), '', hn.join(';'), payloadHash].join('\n');
  const date = amzDate.slice(0, 8);
  const scope = `${date}/${region}/${service}/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, crypto.createHash('sha256').update(canonicalRequest, 'utf8').digest('hex')].join('\n');
  let k = 'AWS4' + secretAccessKey;
  for (const p of [date, region, service, 'aws4_request']) k = crypto.createHmac('sha256', k).update(p).digest();
  return { canonicalRequest, scope, stringToSign, signature: crypto.createHmac('sha256', k).update(stringToSign).digest('hex') };
}

async function v4Vector(name, v, expectSignature, note) {
  const signer = new SignatureV4({
    credentials: { accessKeyId: v.accessKeyId, secretAccessKey: v.secretAccessKey, sessionToken: v.sessionToken },
    region: v.region, service: v.service, sha256: Sha256, uriEscapePath: false,
  });
  const amzDate = v.date.replace(/[-:]/g, '').replace(/\.\d+/, '');
  const headers = { ...v.headers, 'x-amz-content-sha256': v.payloadHash };
  const signed = await signer.sign({ method: v.method, protocol: 'https:', hostname: v.headers.host, path: v.path, query: v.query, headers },
    { signingDate: new Date(v.date) });
  const auth = signed.headers.authorization;
  const sig = /Signature=([0-9a-f]+)/.exec(auth)[1];
  const allHeaders = { ...signed.headers };
  delete allHeaders.authorization;
  const im = await v4Intermediates({ ...v, headers: allHeaders, amzDate });
  if (im.signature !== sig) fail(`${name}: independent recomputation ${im.signature} != smithy ${sig}`);
  if (expectSignature && sig !== expectSignature) fail(`${name}: smithy gives ${sig}, documentation says ${expectSignature}`);
  out({ name, kind: 'sigv4', note, ...v, amzDate, signedRequestHeaders: allHeaders, authorization: auth, signature: sig,
    documented: expectSignature || undefined, intermediates: im });
}

(async () => {
  const EMPTY = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
  // AWS S3 documentation, "Signature Calculations for the Authorization
  // Header", example GET Object (Range).
  await v4Vector('sigv4-aws-doc-get', {
    accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
    region: 'us-east-1', service: 's3', date: '2013-05-24T00:00:00Z', method: 'GET', path: '/test.txt', query: {},
    headers: { host: 'examplebucket.s3.amazonaws.com', range: 'bytes=0-9' }, payloadHash: EMPTY,
  }, 'f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41', 'AWS documentation example (GET with Range)');

  const b = { accessKeyId: TID, secretAccessKey: TKEY, region: 'ap-guangzhou', service: 's3', date: '2024-01-02T03:04:05Z' };
  const H = 'examplebucket-1250000000.cos.ap-guangzhou.myqcloud.com';
  const sha = s => crypto.createHash('sha256').update(s).digest('hex');
  await v4Vector('sigv4-put-unsigned', { ...b, method: 'PUT', path: '/lake/2024/01/02/obj.json', query: {},
    headers: { host: H, 'content-length': String(body1.length) }, payloadHash: 'UNSIGNED-PAYLOAD' }, null, 'PUT with UNSIGNED-PAYLOAD');
  await v4Vector('sigv4-put-hash', { ...b, method: 'PUT', path: '/lake/2024/01/02/obj.json', query: {},
    headers: { host: H, 'content-length': String(body1.length), 'content-md5': md5(body1), 'content-type': 'application/json' },
    payloadHash: sha(body1), body: body1, bodyCrc64: crc64(body1) }, null, 'PUT with the body SHA-256 and Content-MD5');
  await v4Vector('sigv4-put-encoded-key', { ...b, method: 'PUT', path: '/lake/dt%3D2024-01-02/part%201%2B%28a%29%2A%21~.json.gz', query: {},
    headers: { host: H, 'content-length': '0' }, payloadHash: EMPTY, key: 'lake/dt=2024-01-02/part 1+(a)*!~.json.gz' },
  null, 'key with = space + ( ) * ! ~ : the path is sent and signed encoded once (RFC 3986, "/" kept)');
  await v4Vector('sigv4-put-utf8-key', { ...b, method: 'PUT', path: '/' + ['数据', '文件 ü.csv'].map(enc).join('/'), query: {},
    headers: { host: H, 'content-length': '0' }, payloadHash: EMPTY, key: '数据/文件 ü.csv' }, null, 'UTF-8 key');
  await v4Vector('sigv4-initiate-uploads', { ...b, method: 'POST', path: '/lake/big.parquet', query: { uploads: '' },
    headers: { host: H }, payloadHash: EMPTY }, null, 'POST ?uploads: canonical query "uploads="');
  await v4Vector('sigv4-upload-part', { ...b, method: 'PUT', path: '/lake/big.parquet', query: { partNumber: '3', uploadId: 'abc/def+ghi' },
    headers: { host: H, 'content-length': '1048576' }, payloadHash: 'UNSIGNED-PAYLOAD' }, null, 'query values are encoded (/ and + become %2F %2B), sorted by name');
  await v4Vector('sigv4-list-query', { ...b, method: 'GET', path: '/', query: { 'list-type': '2', prefix: 'lake/dt=2024-01-02/', 'max-keys': '1000' },
    headers: { host: H }, payloadHash: EMPTY }, null, 'GET Bucket v2 list');
  await v4Vector('sigv4-session-token', { ...b, accessKeyId: 'AKIDLAKEPIPETMPKEY0000000000000000002', secretAccessKey: 'LakepipeTestTmpSecretKey00000002',
    sessionToken: 'lakepipe-test-session-token-0002', method: 'PUT', path: '/lake/tmp.json', query: {},
    headers: { host: 'test.localhost:9000', 'content-length': '2' }, payloadHash: sha('{}'), body: '{}' }, null, 'x-amz-security-token is added and signed; host with a port');
  await v4Vector('sigv4-path-style-meta', { ...b, region: 'us-east-1', method: 'PUT', path: '/test/lake/a.json', query: {},
    headers: { host: '127.0.0.1:9000', 'content-length': '2', 'x-amz-meta-seqs': '1-100', 'content-type': 'application/json' },
    payloadHash: 'UNSIGNED-PAYLOAD' }, null, 'path-style (bucket "test" in the path), x-amz-meta-* signed');

  // CRC-64/XZ check values (also in crc64.js).
  out({ name: 'crc64-check', kind: 'crc64', input: '123456789', crc64: crc64('123456789') });
  out({ name: 'crc64-empty', kind: 'crc64', input: '', crc64: crc64('') });
  out({ name: 'crc64-hello', kind: 'crc64', input: body1, crc64: crc64(body1) });
  if (crc64('123456789') !== '11051210869376104954') fail('crc64 check value');
  if (checkOnly) console.log(bad ? `FAILED: ${bad} mismatches` : 'ok: SDK outputs match the documented examples and the independent recomputation');
  process.exit(bad ? 1 : 0);
})().catch(e => { console.error(e); process.exit(1); });
