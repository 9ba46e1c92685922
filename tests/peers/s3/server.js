#!/usr/bin/env node
'use strict';
// lakepipe test peer: a real S3 server (s3rver, in-process) behind a
// verifying proxy that checks COS (q-sign-algorithm=sha1) and AWS SigV4
// signatures with the vendors' own code (cos-nodejs-sdk-v5's
// COS.getAuthorization, @smithy/signature-v4), checks Content-MD5 and
// x-amz-content-sha256 against the body, adds COS's x-cos-hash-crc64ecma,
// fills in the multipart calls s3rver lacks, and injects faults on demand
// (control API on its own port).  See README.md next to this file.

const http = require('http');
const crypto = require('crypto');
const fs = require('fs');
const os = require('os');
const path = require('path');

const S3rver = require('s3rver');
const COS = require('cos-nodejs-sdk-v5');
const { SignatureV4 } = require('@smithy/signature-v4');
const { Sha256 } = require('@aws-crypto/sha256-js');
const { crc64, crc64File } = require('./crc64');

// ---------------------------------------------------------------- options

const DEFAULT_CREDENTIALS = [
  // Fixed, public test credentials (not secrets; documented in README.md).
  { id: 'AKIDLAKEPIPETEST00000000000000000001', key: 'LakepipeTestSecretKey000000000001' },
  { id: 'AKIDLAKEPIPETMPKEY0000000000000000002', key: 'LakepipeTestTmpSecretKey00000002',
    token: 'lakepipe-test-session-token-0002' },
];

function usage(code) {
  process.stderr.write(`usage: node server.js [options]
  --port N              proxy port on 127.0.0.1 (default 0 = any free port)
  --ctl-port N          control API port (default 0)
  --dir PATH            s3rver storage directory (default: a new temp dir, removed on exit)
  --bucket NAME         create this bucket on start (repeatable)
  --credential ID:KEY[:TOKEN]   accepted credential (repeatable; replaces the defaults;
                        also env LAKEPIPE_S3_CREDENTIALS="ID:KEY[:TOKEN],...")
  --region R            the buckets' region: SigV4 must sign for it, and a host
                        naming another region (cos.R2. / s3.R2.) gets NoSuchBucket
                        (COS) or 301 PermanentRedirect (S3) (default: any)
  --timeout SEC         exit by itself after SEC seconds (default 600)
  --ready-file PATH     also write the ready JSON line to PATH
  --skew SEC            allowed clock difference (default 900)
  --clock-offset SEC    server clock offset at start (default 0)
  --min-part-size N     smallest non-last multipart part (default 1048576, COS's minimum; 0 = off)
  --crc64 always|cos|never  when to send x-cos-hash-crc64ecma (default always)
  --strict-path         SigV4: reject a path that is not in canonical RFC 3986 encoding
  --require-md5         refuse a PUT or UploadPart without Content-MD5 (400 InvalidRequest),
                        as S3 does in a bucket with Object Lock retention
  --allow-anonymous     let unsigned requests through (default: 403 AccessDenied)
  --list-page N         ListObjects pages of at most N keys (default: the store's 1000)
  --quiet               log less on stderr
`);
  process.exit(code);
}

function parseArgs(argv) {
  const o = {
    port: 0, ctlPort: 0, dir: null, buckets: [], credentials: null, region: null,
    timeout: 600, readyFile: null, skew: 900, clockOffset: 0, minPartSize: 1048576,
    crc64: 'always', strictPath: false, requireMd5: false, allowAnonymous: false, quiet: false,
    listPage: 0,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => {
      if (i + 1 >= argv.length) { process.stderr.write(`missing value for ${a}\n`); usage(2); }
      return argv[++i];
    };
    switch (a) {
      case '--port': o.port = Number(val()); break;
      case '--ctl-port': o.ctlPort = Number(val()); break;
      case '--dir': o.dir = val(); break;
      case '--bucket': o.buckets.push(val()); break;
      case '--credential': (o.credentials = o.credentials || []).push(parseCred(val())); break;
      case '--region': o.region = val(); break;
      case '--timeout': o.timeout = Number(val()); break;
      case '--ready-file': o.readyFile = val(); break;
      case '--skew': o.skew = Number(val()); break;
      case '--clock-offset': o.clockOffset = Number(val()); break;
      case '--min-part-size': o.minPartSize = Number(val()); break;
      case '--crc64': o.crc64 = val(); break;
      case '--strict-path': o.strictPath = true; break;
      case '--require-md5': o.requireMd5 = true; break;
      case '--allow-anonymous': o.allowAnonymous = true; break;
      case '--quiet': o.quiet = true; break;
      case '--list-page': o.listPage = Number(val()); break;
      case '-h': case '--help': usage(0); break;
      default: process.stderr.write(`unknown option ${a}\n`); usage(2);
    }
  }
  if (!o.credentials && process.env.LAKEPIPE_S3_CREDENTIALS) {
    o.credentials = process.env.LAKEPIPE_S3_CREDENTIALS.split(',').filter(Boolean).map(parseCred);
  }
  if (!o.credentials) o.credentials = DEFAULT_CREDENTIALS;
  if (!['always', 'cos', 'never'].includes(o.crc64)) usage(2);
  return o;
}
function parseCred(s) {
  const p = s.split(':');
  if (p.length < 2 || !p[0] || !p[1]) { process.stderr.write('bad --credential, want ID:KEY[:TOKEN]\n'); process.exit(2); }
  return { id: p[0], key: p[1], token: p.slice(2).join(':') || undefined };
}

const opt = parseArgs(process.argv.slice(2));
const log = (...a) => process.stderr.write('[s3-peer] ' + a.join(' ') + '\n');
const vlog = (...a) => { if (!opt.quiet) log(...a); };

// ---------------------------------------------------------------- state

const state = {
  seq: 0,
  requests: [],           // request records, see record()
  faults: [],             // active faults
  faultSeq: 0,
  clockOffset: opt.clockOffset,  // seconds added to the server clock
  inflight: 0,
  maxInflight: 0,
};
const MAX_RECORDS = 10000;

function serverNowMs(extra) { return Date.now() + (state.clockOffset + (extra || 0)) * 1000; }
function findCred(id) { return opt.credentials.find(c => c.id === id); }
function requestId() { return crypto.randomBytes(12).toString('base64').replace(/[+/=]/g, 'x'); }

// ---------------------------------------------------------------- helpers

function xmlEscape(s) {
  return String(s).replace(/[<>&'"]/g, c => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' }[c]));
}
// RFC 3986 encoding as AWS and COS use it ('!'()*' encoded too).
function uriEscape(s) {
  return encodeURIComponent(s).replace(/[!'()*]/g, c => '%' + c.charCodeAt(0).toString(16).toUpperCase());
}
function safeDecode(s) {
  try { return decodeURIComponent(s); } catch (e) { return null; }
}
function parseQuery(raw) {
  // Returns [{k, v, hasValue}] in order, decoded (no '+' -> ' ').
  const out = [];
  if (!raw) return out;
  for (const part of raw.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const k = eq < 0 ? part : part.slice(0, eq);
    const v = eq < 0 ? '' : part.slice(eq + 1);
    out.push({ k: safeDecode(k) ?? k, v: safeDecode(v) ?? v, hasValue: eq >= 0 });
  }
  return out;
}
function queryObj(list) {
  const o = {};
  for (const { k, v } of list) {
    if (k in o) o[k] = [].concat(o[k], v); else o[k] = v;
  }
  return o;
}
function sleep(ms) { return new Promise(r => setTimeout(r, ms)); }
function md5b64(buf) { return crypto.createHash('md5').update(buf).digest('base64'); }

// Addressing.  Host "localhost[:p]", "127.0.0.1[:p]", "[::1]:p" -> path-style.
// Host "<bucket>.localhost[:p]" or "<bucket>.cos.<region>.localhost[:p]" or
// "<bucket>.s3[.<region>].localhost[:p]" -> virtual-hosted.  Any other host
// name is treated like *.localhost when it has a dot before a label, i.e.
// "<bucket>.<anything>" where <anything> starts with cos./s3. or is a
// single label; see README.md.
function addressing(hostHeader, rawPath) {
  let host = (hostHeader || '').toLowerCase();
  if (host.startsWith('[')) host = host.slice(0, host.indexOf(']') + 1);
  else host = host.replace(/:\d+$/, '');
  const pathStyle = () => {
    const m = /^\/([^/]*)(?:\/(.*))?$/.exec(rawPath) || [];
    return { style: 'path', bucket: safeDecode(m[1] || '') || '', rawKey: m[2] === undefined ? '' : m[2] };
  };
  if (!host || host === 'localhost' || /^[\d.]+$/.test(host) || host.startsWith('[')) return pathStyle();
  let b = null;
  let m;
  if ((m = /^(.+?)\.cos\.[^.]+\.(?:localhost|myqcloud\.com)$/.exec(host))) b = m[1];
  else if ((m = /^(.+?)\.s3(?:[.-][^.]+)?\.(?:localhost|amazonaws\.com)$/.exec(host))) b = m[1];
  else if ((m = /^(.+)\.localhost$/.exec(host))) b = m[1];
  else if (/^(cos|s3)\./.test(host)) return pathStyle();
  else if ((m = /^([^.]+)\./.exec(host))) b = m[1];
  if (!b) return pathStyle();
  return { style: 'vhost', bucket: b, rawKey: rawPath.replace(/^\//, '') };
}

// The region a host name carries: "cos.REGION." (COS) or "s3.REGION." /
// "s3-REGION." (S3), as in BUCKET.cos.ap-guangzhou.myqcloud.com or
// cos.ap-guangzhou.localhost; null when it names none.
function regionOfHost(hostHeader) {
  const host = (hostHeader || '').toLowerCase().replace(/:\d+$/, '');
  const m = /(?:^|\.)(cos|s3)[.-]([a-z0-9-]+)\.(?:localhost|myqcloud\.com|amazonaws\.com)$/.exec(host);
  return m && m[2] !== 'localhost' ? { kind: m[1], region: m[2] } : null;
}

// With --region, a request sent to another region's host gets the answer
// the real service gives (see README.md, "Wrong region"): COS hosts are
// per region and another region's host simply has no such bucket, so COS
// answers 404 NoSuchBucket; S3 answers 301 PermanentRedirect naming the
// bucket's endpoint, with x-amz-bucket-region.
function wrongRegionError(rq, hostHeader) {
  const hr = regionOfHost(hostHeader);
  if (!opt.region || !hr || hr.region === opt.region || !rq.bucket) return null;
  if (hr.kind === 'cos') return new ApiError(404, 'NoSuchBucket', MSG.NoSuchBucket, { BucketName: rq.bucket });
  return Object.assign(new ApiError(301, 'PermanentRedirect',
    'The bucket you are attempting to access must be addressed using the specified endpoint. Please send all future requests to this endpoint.',
    { Bucket: rq.bucket, Endpoint: `${rq.bucket}.s3.${opt.region}.amazonaws.com` }),
  { headers: { 'x-amz-bucket-region': opt.region } });
}

function classify(method, bucket, key, q) {
  const has = k => Object.prototype.hasOwnProperty.call(q, k);
  if (!bucket) return method === 'GET' ? 'ListBuckets' : 'Service';
  if (!key) {
    if (method === 'GET' && has('uploads')) return 'ListMultipartUploads';
    if (method === 'GET') return 'ListObjects';
    if (method === 'HEAD') return 'HeadBucket';
    if (method === 'PUT' && Object.keys(q).length === 0) return 'PutBucket';
    if (method === 'DELETE' && Object.keys(q).length === 0) return 'DeleteBucket';
    if (method === 'POST' && has('delete')) return 'DeleteObjects';
    return 'Bucket' + method[0] + method.slice(1).toLowerCase();
  }
  if (method === 'PUT' && has('partNumber') && has('uploadId')) return 'UploadPart';
  if (method === 'PUT' && Object.keys(q).length === 0) return 'PutObject';
  if (method === 'POST' && has('uploads')) return 'InitiateMultipartUpload';
  if (method === 'POST' && has('uploadId')) return 'CompleteMultipartUpload';
  if (method === 'DELETE' && has('uploadId')) return 'AbortMultipartUpload';
  if (method === 'GET' && has('uploadId')) return 'ListParts';
  if (method === 'GET' && Object.keys(q).filter(k => !/^response-/.test(k)).length === 0) return 'GetObject';
  if (method === 'HEAD') return 'HeadObject';
  if (method === 'DELETE') return 'DeleteObject';
  return 'Object' + method[0] + method.slice(1).toLowerCase();
}

// ---------------------------------------------------------------- errors

class ApiError extends Error {
  constructor(status, code, message, extra) {
    super(message);
    this.status = status; this.code = code; this.extra = extra || {};
  }
}
const MSG = {
  SignatureDoesNotMatch: 'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
  AccessDenied: 'Access Denied.',
  InvalidAccessKeyId: 'The AWS Access Key Id you provided does not exist in our records.',
  RequestTimeTooSkewed: 'The difference between the request time and the current time is too large.',
  BadDigest: 'The Content-MD5 you specified did not match what we received.',
  Md5Required: 'Content-MD5 OR x-amz-checksum- HTTP header is required for Put Object requests with Object Lock parameters',
  InvalidDigest: 'The Content-MD5 you specified is not valid.',
  InternalError: 'We encountered an internal error. Please try again.',
  SlowDown: 'Please reduce your request rate.',
  TooManyRequests: 'Too many requests. Please reduce your request rate.',
  NoSuchUpload: 'The specified multipart upload does not exist.',
  NoSuchBucket: 'The specified bucket does not exist.',
  InvalidPart: 'One or more of the specified parts could not be found or the ETag did not match.',
  InvalidPartOrder: 'The list of parts was not in ascending order.',
  EntityTooSmall: 'Your proposed upload is smaller than the minimum allowed object size.',
  MissingContentLength: 'You must provide the Content-Length HTTP header.',
  XAmzContentSHA256Mismatch: "The provided 'x-amz-content-sha256' header does not match what was computed.",
  InvalidToken: 'The provided token is malformed or otherwise invalid.',
  ExpiredToken: 'The provided token has expired.',
};
function errorXml(flavor, err, resource, reqId) {
  const extra = Object.entries(err.extra || {})
    .map(([k, v]) => `<${k}>${xmlEscape(v)}</${k}>`).join('');
  if (flavor === 'cos') {
    return `<?xml version='1.0' encoding='utf-8' ?>\n<Error>\n\t<Code>${xmlEscape(err.code)}</Code>\n` +
      `\t<Message>${xmlEscape(err.message || MSG[err.code] || err.code)}</Message>\n` +
      `\t<Resource>${xmlEscape(resource)}</Resource>\n\t<RequestId>${reqId}</RequestId>\n` +
      `\t<TraceId>${Buffer.from(reqId).toString('base64')}</TraceId>\n` +
      (extra ? '\t' + extra + '\n' : '') + '</Error>';
  }
  return `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${xmlEscape(err.code)}</Code>` +
    `<Message>${xmlEscape(err.message || MSG[err.code] || err.code)}</Message>${extra}` +
    `<Resource>${xmlEscape(resource)}</Resource><RequestId>${reqId}</RequestId>` +
    `<HostId>${Buffer.from(reqId).toString('base64')}</HostId></Error>`;
}

// ---------------------------------------------------------------- COS auth

// Headers getAuth() of cos-nodejs-sdk-v5 signs (it drops any other name).
const SDK_SIGNABLE = new Set(['cache-control', 'content-disposition', 'content-encoding', 'content-length',
  'content-md5', 'content-type', 'expect', 'expires', 'host', 'if-match', 'if-modified-since',
  'if-none-match', 'if-unmodified-since', 'origin', 'range', 'transfer-encoding', 'pic-operations']);

function parseCosAuth(s) {
  const f = {};
  for (const part of s.split('&')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    f[part.slice(0, eq).trim()] = part.slice(eq + 1).trim();
  }
  return f;
}

// Independent re-implementation, used only where the SDK cannot express the
// request (a signed header outside the SDK's list, or q-sign-time differing
// from q-key-time).  Follows the COS "Request Signature" document.
function cosSignOwn({ secretKey, method, pathname, query, headers, headerList, paramList, signTime, keyTime }) {
  const enc = s => uriEscape(s);
  const pick = (names, src) => names.map(n => {
    const k = Object.keys(src).find(x => x.toLowerCase() === n);
    const v = k === undefined ? '' : src[k];
    return enc(n).toLowerCase() + '=' + enc(Array.isArray(v) ? v.join(',') : String(v));
  });
  const sortL = a => [...a].sort();
  const httpString = [method.toLowerCase(), pathname, pick(sortL(paramList), query).join('&'),
    pick(sortL(headerList), headers).join('&'), ''].join('\n');
  const signKey = crypto.createHmac('sha1', secretKey).update(keyTime).digest('hex');
  const sts = ['sha1', signTime, crypto.createHash('sha1').update(httpString, 'utf8').digest('hex'), ''].join('\n');
  return { signature: crypto.createHmac('sha1', signKey).update(sts).digest('hex'), httpString, stringToSign: sts };
}

function verifyCos(req, rq, rec) {
  const f = parseCosAuth(rq.authValue);
  for (const k of ['q-sign-algorithm', 'q-ak', 'q-sign-time', 'q-key-time', 'q-signature']) {
    if (!(k in f)) throw new ApiError(403, 'AccessDenied', `Authorization is malformed: missing ${k}`);
  }
  if (f['q-sign-algorithm'] !== 'sha1') throw new ApiError(403, 'AccessDenied', 'q-sign-algorithm must be sha1');
  rec.accessKeyId = f['q-ak'];
  const cred = findCred(f['q-ak']);
  if (!cred) throw new ApiError(403, 'AccessDenied', 'The SecretId you provided does not exist (unknown q-ak).');
  // Time window against the (possibly skewed) server clock.
  const now = Math.floor(rq.nowMs / 1000);
  const tw = /^(\d+);(\d+)$/.exec(f['q-key-time']);
  const sw = /^(\d+);(\d+)$/.exec(f['q-sign-time']);
  if (!tw || !sw) throw new ApiError(403, 'AccessDenied', 'q-key-time/q-sign-time must be <start>;<end> in seconds');
  const [start, end] = [Number(sw[1]), Number(sw[2])];
  if (now > end || now > Number(tw[2])) throw new ApiError(403, 'AccessDenied', 'Request has expired');
  if (start - now > opt.skew || Number(tw[1]) - now > opt.skew) {
    throw new ApiError(403, 'RequestTimeTooSkewed', MSG.RequestTimeTooSkewed);
  }
  if (req.headers.date) {
    const d = Date.parse(req.headers.date);
    if (!isNaN(d) && Math.abs(d - rq.nowMs) > opt.skew * 1000) {
      throw new ApiError(403, 'RequestTimeTooSkewed', MSG.RequestTimeTooSkewed);
    }
  }
  checkToken(cred, req.headers['x-cos-security-token'], 'cos');

  const headerList = (f['q-header-list'] || '').split(';').filter(Boolean);
  const paramList = (f['q-url-param-list'] || '').split(';').filter(Boolean);
  rec.signedHeaders = headerList;
  rec.signedParams = paramList;
  const headers = {};
  for (const n of headerList) headers[n] = req.headers[n] === undefined ? '' : req.headers[n];
  const query = {};
  for (const n of paramList) {
    const e = rq.queryList.find(x => x.k.toLowerCase() === n);
    query[e ? e.k : n] = e ? e.v : '';
  }
  // COS signs the decoded key; path-style requests sign /<bucket>/<key>.
  const key = rq.key || '';
  const pathname = rq.style === 'path' && rq.bucket ? `/${rq.bucket}/${key}` : `/${key}`;
  rec.signedPath = pathname;

  const sdkCan = headerList.every(n => n.includes('x-cos-') || n.includes('x-ci-') || SDK_SIGNABLE.has(n)) &&
    f['q-sign-time'] === f['q-key-time'];
  let expected;
  if (sdkCan) {
    const auth = COS.getAuthorization({
      SecretId: cred.id, SecretKey: cred.key, Method: rq.method, Pathname: pathname,
      Query: query, Headers: headers, KeyTime: f['q-key-time'],
    });
    expected = parseCosAuth(auth);
    rec.verifier = 'cos-nodejs-sdk-v5';
    if (expected['q-header-list'] !== (f['q-header-list'] || '') ||
        expected['q-url-param-list'] !== (f['q-url-param-list'] || '')) {
      rec.listsDiffer = { sdkHeaderList: expected['q-header-list'], sdkParamList: expected['q-url-param-list'] };
    }
  } else {
    const own = cosSignOwn({ secretKey: cred.key, method: rq.method, pathname, query, headers, headerList,
      paramList, signTime: f['q-sign-time'], keyTime: f['q-key-time'] });
    expected = { 'q-signature': own.signature };
    rec.verifier = 'own (header outside the SDK list, or sign-time != key-time)';
  }
  if (expected['q-signature'] !== f['q-signature'].toLowerCase()) {
    const own = cosSignOwn({ secretKey: cred.key, method: rq.method, pathname, query, headers, headerList,
      paramList, signTime: f['q-sign-time'], keyTime: f['q-key-time'] });
    throw new ApiError(403, 'SignatureDoesNotMatch', 'The Signature you specified is invalid.', {
      // diagnostics (not in real COS answers): what this server signed
      FormatString: own.httpString, StringToSign: own.stringToSign,
    });
  }
  return { kind: 'cos', cred };
}

function checkToken(cred, token, kind) {
  // A credential added with an expiry (POST /credentials) stops working then.
  if (cred.expires && Date.now() >= cred.expires * 1000) throw new ApiError(400, 'ExpiredToken', MSG.ExpiredToken);
  if (cred.token) {
    if (!token) throw new ApiError(403, kind === 'cos' ? 'AccessDenied' : 'InvalidAccessKeyId',
      'Temporary credentials need the ' + (kind === 'cos' ? 'x-cos' : 'x-amz') + '-security-token header.');
    if (token !== cred.token) throw new ApiError(kind === 'cos' ? 403 : 400, 'InvalidToken', MSG.InvalidToken);
  } else if (token) {
    throw new ApiError(kind === 'cos' ? 403 : 400, 'InvalidToken', 'A security token was sent with permanent credentials.');
  }
}

// ---------------------------------------------------------------- SigV4

function parseAmzDate(s) {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(s || '');
  if (!m) return null;
  return new Date(Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]));
}

async function verifySigV4(req, rq, rec) {
  const h = req.headers;
  const body = rq.authValue.replace(/^AWS4-HMAC-SHA256\s+/, '');
  const f = {};
  for (const part of body.split(',')) {
    const eq = part.indexOf('=');
    if (eq > 0) f[part.slice(0, eq).trim()] = part.slice(eq + 1).trim();
  }
  if (!f.Credential || !f.SignedHeaders || !f.Signature) {
    throw new ApiError(400, 'AuthorizationHeaderMalformed', 'The authorization header is malformed; it must contain Credential, SignedHeaders and Signature.');
  }
  const scope = f.Credential.split('/');
  if (scope.length !== 5 || scope[4] !== 'aws4_request') {
    throw new ApiError(400, 'AuthorizationHeaderMalformed', 'The authorization header is malformed; the Credential is mal-formed.');
  }
  const [akid, sdate, region, service] = scope;
  rec.accessKeyId = akid;
  rec.scope = scope.slice(1).join('/');
  const cred = findCred(akid);
  if (!cred) throw new ApiError(403, 'InvalidAccessKeyId', MSG.InvalidAccessKeyId, { AWSAccessKeyId: akid });
  const amzDate = parseAmzDate(h['x-amz-date']);
  if (!amzDate) {
    throw new ApiError(403, 'AccessDenied', 'AWS authentication requires a valid x-amz-date header (this test server does not accept a signed Date header).');
  }
  if (h['x-amz-date'].slice(0, 8) !== sdate) {
    throw new ApiError(400, 'AuthorizationHeaderMalformed', `The authorization header is malformed; Invalid credential date "${sdate}". This date is not the same as X-Amz-Date: "${h['x-amz-date'].slice(0, 8)}".`);
  }
  if (Math.abs(amzDate.getTime() - rq.nowMs) > opt.skew * 1000) {
    throw new ApiError(403, 'RequestTimeTooSkewed', MSG.RequestTimeTooSkewed, {
      RequestTime: h['x-amz-date'], ServerTime: new Date(rq.nowMs).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      MaxAllowedSkewMilliseconds: String(opt.skew * 1000),
    });
  }
  if (opt.region && region !== opt.region) {
    throw Object.assign(new ApiError(400, 'AuthorizationHeaderMalformed', `The authorization header is malformed; the region '${region}' is wrong; expecting '${opt.region}'`, { Region: opt.region }),
      { headers: { 'x-amz-bucket-region': opt.region } });
  }
  if (service !== 's3') {
    throw new ApiError(400, 'AuthorizationHeaderMalformed', `The authorization header is malformed; incorrect service "${service}". This endpoint belongs to "s3".`);
  }
  const signed = f.SignedHeaders.split(';').filter(Boolean);
  rec.signedHeaders = signed;
  if (!signed.includes('host')) throw new ApiError(403, 'AccessDenied', 'host must be a signed header.');
  const unsignedAmz = Object.keys(h).filter(n => n.startsWith('x-amz-') && !signed.includes(n));
  if (unsignedAmz.length) {
    throw new ApiError(403, 'AccessDenied', 'There were headers present in the request which were not signed', { HeadersNotSigned: unsignedAmz.join(', ') });
  }
  const csha = h['x-amz-content-sha256'];
  if (!csha) throw new ApiError(400, 'InvalidRequest', 'Missing required header for this request: x-amz-content-sha256');
  if (/^STREAMING-/.test(csha)) throw new ApiError(501, 'NotImplemented', 'This test server does not accept aws-chunked (STREAMING-*) payloads.');
  if (csha !== 'UNSIGNED-PAYLOAD' && !/^[0-9a-f]{64}$/.test(csha)) {
    throw new ApiError(400, 'InvalidArgument', 'x-amz-content-sha256 must be UNSIGNED-PAYLOAD or a lower-case hex SHA-256.');
  }
  rec.contentSha256 = csha === 'UNSIGNED-PAYLOAD' ? 'UNSIGNED-PAYLOAD' : 'hash';
  checkToken(cred, h['x-amz-security-token'], 'sigv4');

  // Canonical URI: the path as sent, re-encoded per RFC 3986 segment by
  // segment (what a correct client signs).  --strict-path rejects a path
  // that was not sent in that form.
  const canonPath = rq.rawPath.split('/').map(s => uriEscape(safeDecode(s) ?? s)).join('/');
  if (canonPath !== rq.rawPath) {
    rec.pathNotCanonical = true;
    if (opt.strictPath) throw new ApiError(400, 'InvalidURI', `Path not in canonical encoding: sent ${rq.rawPath}, canonical ${canonPath}`);
  }
  const headers = {};
  for (const n of signed) if (h[n] !== undefined) headers[n] = Array.isArray(h[n]) ? h[n].join(',') : h[n];
  const query = {};
  for (const { k, v } of rq.queryList) {
    if (k in query) query[k] = [].concat(query[k], v); else query[k] = v;
  }
  const signer = new SignatureV4({
    credentials: { accessKeyId: cred.id, secretAccessKey: cred.key,
      sessionToken: signed.includes('x-amz-security-token') ? h['x-amz-security-token'] : undefined },
    region, service, sha256: Sha256, uriEscapePath: false, applyChecksum: false,
  });
  const out = await signer.sign({
    method: rq.method, protocol: 'http:', hostname: (h.host || '').replace(/:\d+$/, ''),
    path: canonPath, query, headers,
  }, { signingDate: amzDate, signableHeaders: new Set(signed) });
  const m = /Signature=([0-9a-f]+)/.exec(out.headers.authorization || '');
  const sh = /SignedHeaders=([^,]+)/.exec(out.headers.authorization || '');
  rec.verifier = '@smithy/signature-v4';
  if (!m || m[1] !== f.Signature || (sh && sh[1] !== f.SignedHeaders)) {
    // diagnostics: the canonical request this server used
    const canonHeaders = signed.map(n => `${n}:${String(headers[n] ?? '').trim().replace(/\s+/g, ' ')}`).join('\n');
    const cq = Object.keys(query).map(uriEscape).sort().map(k => {
      const v = query[safeDecode(k) ?? k];
      return [].concat(v).map(x => `${k}=${uriEscape(x)}`).sort().join('&');
    }).join('&');
    const canonical = [rq.method, canonPath, cq, canonHeaders, '', signed.join(';'), csha].join('\n');
    throw new ApiError(403, 'SignatureDoesNotMatch', MSG.SignatureDoesNotMatch, {
      AWSAccessKeyId: akid, SignatureProvided: f.Signature, CanonicalRequest: canonical,
      SignedHeadersExpected: sh ? sh[1] : '',
    });
  }
  return { kind: 'sigv4', cred, csha };
}

// ---------------------------------------------------------------- faults

const FAULT_TYPES = {
  reset: 'read part of the body (afterBytes, default half), then destroy the connection; nothing stored',
  stall: 'stop for `seconds` (default 30): phase "body" (before reading the body, default) or "response" (after storing, before answering); then carry on',
  internal: '500 InternalError (body drained, nothing stored)',
  slowdown: '503 SlowDown with Retry-After: retryAfter (default 1)',
  throttle: '429 TooManyRequests with Retry-After: retryAfter (default 1)',
  baddigest: '400 BadDigest (nothing stored)',
  sha256mismatch: '400 XAmzContentSHA256Mismatch, as Ceph RGW answers a damaged body (nothing stored)',
  denied: '403 AccessDenied (nothing stored)',
  error: 'any error: status, code, message (nothing stored)',
  badcrc: 'store normally, but answer with a wrong x-cos-hash-crc64ecma',
  corrupt: 'flip a bit of the body as it arrives (byte `at`, default the middle), as damage on the way would; the checks then judge the damaged body',
  badetag: 'answer with a wrong ETag (a header; the first hex digit changed), the object or part stored as it came',
  lost: 'store normally, then destroy the connection without answering',
  'complete-error': 'CompleteMultipartUpload answers 200 with an <Error> body (code, default InternalError); not completed unless store=true',
  skew: 'evaluate this request with the server clock shifted by `seconds` (default 3600); the response Date shows the shifted clock',
};

function matchFault(f, rq) {
  if (f.remaining <= 0) return false;
  if (f.method && f.method.toUpperCase() !== rq.method) return false;
  if (f.op && f.op !== rq.op) return false;
  if (f.bucket && f.bucket !== rq.bucket) return false;
  if (f.key !== undefined && f.key !== null) {
    let re;
    try { re = new RegExp(f.key); } catch (e) { re = null; }
    if (re ? !re.test(rq.key || '') : f.key !== rq.key) return false;
  }
  if (f.part !== undefined && f.part !== null && String(f.part) !== String(rq.query.partNumber)) return false;
  if (f.auth && f.auth !== rq.authKind) return false;
  return true;
}
// Skew faults are taken before the signature check (they change the clock
// it uses); every other fault only by a request whose signature passed.
function takeFault(rq, phase) {
  for (const f of state.faults) {
    if ((f.type === 'skew') !== (phase === 'auth')) continue;
    if (!matchFault(f, rq)) continue;
    if (f.skip > 0) { f.skip--; continue; }
    f.remaining--; f.used++;
    return f;
  }
  return null;
}

// ---------------------------------------------------------------- s3rver glue

let s3rver, s3port, storeDir;

function storePath(bucket, key, res) { return s3rver.store.getResourcePath(bucket, key, res); }
function uploadDir(bucket, uploadId) {
  return path.join(storePath(bucket, undefined, 'uploads'), uploadId);
}
function validUploadId(id) { return /^[0-9a-f]{8,64}$/.test(id || ''); }

function forward(method, bucket, key, rawQuery, headers, body) {
  const p = '/' + encodeURIComponent(bucket) + (key ? '/' + key.split('/').map(uriEscape).join('/') : '') +
    (rawQuery ? '?' + rawQuery : '');
  return new Promise((resolve, reject) => {
    const r = http.request({ host: '127.0.0.1', port: s3port, method, path: p,
      headers: { ...headers, host: `127.0.0.1:${s3port}`, 'content-length': body ? body.length : 0 } }, res => {
      const chunks = [];
      res.on('data', c => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    r.on('error', reject);
    r.end(body || undefined);
  });
}

const DROP_FWD = new Set(['host', 'authorization', 'connection', 'expect', 'x-amz-date', 'x-amz-content-sha256',
  'x-amz-security-token', 'x-cos-security-token', 'transfer-encoding', 'content-length', 'content-md5',
  'keep-alive', 'date']);
function forwardHeaders(h) {
  const out = {};
  for (const [k, v] of Object.entries(h)) {
    if (DROP_FWD.has(k)) continue;
    if (k.startsWith('x-cos-meta-')) out['x-amz-meta-' + k.slice(11)] = v;
    else if (k.startsWith('x-cos-')) continue;
    else out[k] = v;
  }
  return out;
}

const crcCache = new Map();
async function storedCrc(bucket, key) {
  const p = storePath(bucket, key, 'object');
  let st;
  try { st = fs.statSync(p); } catch (e) { return null; }
  const ck = `${p}|${st.size}|${st.mtimeMs}`;
  if (crcCache.has(ck)) return crcCache.get(ck);
  const c = await crc64File(p);
  crcCache.set(ck, c);
  return c;
}

// Multipart calls s3rver lacks or does loosely.
function listPartsOf(bucket, uploadId) {
  const dir = uploadDir(bucket, uploadId);
  return fs.readdirSync(dir).filter(n => /^\d+$/.test(n)).map(n => {
    const p = path.join(dir, n);
    const st = fs.statSync(p);
    let md5;
    try { md5 = fs.readFileSync(p + '.md5', 'utf8'); } catch (e) { md5 = crypto.createHash('md5').update(fs.readFileSync(p)).digest('hex'); }
    return { number: Number(n), size: st.size, etag: md5, mtime: st.mtime, path: p };
  }).sort((a, b) => a.number - b.number);
}
function uploadExists(bucket, uploadId) {
  return validUploadId(uploadId) && fs.existsSync(uploadDir(bucket, uploadId));
}
function xmlDoc(root, inner) { return `<?xml version="1.0" encoding="UTF-8"?>\n<${root}>${inner}</${root}>`; }

function handleListParts(rq) {
  if (!uploadExists(rq.bucket, rq.query.uploadId)) throw new ApiError(404, 'NoSuchUpload', MSG.NoSuchUpload);
  const parts = listPartsOf(rq.bucket, rq.query.uploadId);
  const inner = `<Bucket>${xmlEscape(rq.bucket)}</Bucket><Key>${xmlEscape(rq.key)}</Key><UploadId>${rq.query.uploadId}</UploadId>` +
    `<MaxParts>1000</MaxParts><IsTruncated>false</IsTruncated>` +
    parts.map(p => `<Part><PartNumber>${p.number}</PartNumber><LastModified>${p.mtime.toISOString()}</LastModified>` +
      `<ETag>"${p.etag}"</ETag><Size>${p.size}</Size></Part>`).join('');
  return { status: 200, headers: { 'content-type': 'application/xml' }, body: Buffer.from(xmlDoc('ListPartsResult', inner)) };
}
// ListObjectsV2 on top of s3rver's V1 listing (marker = the last key):
// s3rver's own V2 continuation tokens are DES-encrypted, and OpenSSL 3 no
// longer offers DES.  The token here is the base64 of the last key
// returned, as opaque to a client as S3's.  --list-page N makes pages of
// at most N keys.
function xmlUnescape(s) {
  return s.replace(/&(lt|gt|amp|quot|apos);/g, (m, e) => ({ lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" }[e]));
}
async function listV2(rq, headers) {
  const q = rq.query;
  let after = q['start-after'] || '';
  if (q['continuation-token'] !== undefined) {
    after = Buffer.from(String(q['continuation-token']), 'base64').toString('utf8');
    if (!after) throw new ApiError(400, 'InvalidArgument', 'The continuation token provided is incorrect', { ArgumentName: 'continuation-token' });
  }
  const max = Math.min(Number(q['max-keys'] ?? 1000), opt.listPage || 1000);
  const parts = [`max-keys=${max}`];
  for (const k of ['prefix', 'delimiter']) if (q[k]) parts.push(`${k}=${uriEscape(String(q[k]))}`);
  if (after) parts.push(`marker=${uriEscape(after)}`);
  const r = await forward('GET', rq.bucket, '', parts.join('&'), headers, null);
  if (r.status !== 200) return r;
  const keys = [...r.body.toString('utf8').matchAll(/<Contents>[\s\S]*?<Key>([\s\S]*?)<\/Key>/g)].map(m => xmlUnescape(m[1]));
  const truncated = /<IsTruncated>true<\/IsTruncated>/.test(r.body.toString('utf8'));
  const v2 = `<KeyCount>${keys.length}</KeyCount>` +
    (q['continuation-token'] !== undefined ? `<ContinuationToken>${xmlEscape(q['continuation-token'])}</ContinuationToken>` : '') +
    (truncated && keys.length ? `<NextContinuationToken>${Buffer.from(keys[keys.length - 1]).toString('base64')}</NextContinuationToken>` : '');
  const xml = r.body.toString('utf8').replace(/<Marker>[^<]*<\/Marker>|<Marker\/>/, '')
    .replace(/<NextMarker>[^<]*<\/NextMarker>/, '').replace('</Prefix>', '</Prefix>' + v2);
  return { ...r, body: Buffer.from(xml) };
}

function handleListUploads(rq) {
  const base = storePath(rq.bucket, undefined, 'uploads');
  let ids = [];
  try { ids = fs.readdirSync(base); } catch (e) { /* none */ }
  const prefix = rq.query.prefix || '';
  const ups = [];
  for (const id of ids) {
    let key;
    try { key = fs.readFileSync(path.join(base, id, 'key'), 'utf8'); } catch (e) { continue; }
    if (!key.startsWith(prefix)) continue;
    ups.push({ id, key, t: fs.statSync(path.join(base, id)).mtime });
  }
  ups.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const inner = `<Bucket>${xmlEscape(rq.bucket)}</Bucket><Prefix>${xmlEscape(prefix)}</Prefix><IsTruncated>false</IsTruncated>` +
    ups.map(u => `<Upload><Key>${xmlEscape(u.key)}</Key><UploadId>${u.id}</UploadId><Initiated>${u.t.toISOString()}</Initiated></Upload>`).join('');
  return { status: 200, headers: { 'content-type': 'application/xml' }, body: Buffer.from(xmlDoc('ListMultipartUploadsResult', inner)) };
}
function handleAbort(rq) {
  if (!uploadExists(rq.bucket, rq.query.uploadId)) throw new ApiError(404, 'NoSuchUpload', MSG.NoSuchUpload);
  fs.rmSync(uploadDir(rq.bucket, rq.query.uploadId), { recursive: true, force: true });
  return { status: 204, headers: {}, body: Buffer.alloc(0) };
}

// s3rver writes a part into its upload's directory, making the directory
// again if it is gone; if the directory goes between the two, its write
// stream fails with ENOENT, an 'error' nobody listens to, and the whole
// process dies.  So the calls that remove the directory (Abort, Complete)
// wait for the parts of that upload being stored, and a part that comes
// meanwhile waits for them, then checks that the upload is still there.
// As on S3, a part and an Abort that cross each other may each come
// first, and whichever part lost gets NoSuchUpload.
const uploadLocks = new Map();  // bucket/uploadId -> { users, parts, closing }
// keyLock(name): a promise of an unlock function; one holder per name.
const keyLocks = new Map();
function keyLock(name) {
  const prev = keyLocks.get(name) || Promise.resolve();
  let release;
  const mine = new Promise(r => { release = r; });
  const chained = prev.then(() => mine);
  keyLocks.set(name, chained);
  return prev.then(() => () => { if (keyLocks.get(name) === chained) keyLocks.delete(name); release(); });
}

function uploadLock(rq) {
  const id = `${rq.bucket}/${rq.query.uploadId}`;
  let l = uploadLocks.get(id);
  if (!l) uploadLocks.set(id, l = { id, users: 0, parts: new Set(), closing: null });
  l.users++;
  return l;
}
function uploadUnlock(l) {
  if (--l.users === 0) uploadLocks.delete(l.id);
}
async function asPart(rq, fn) {
  const l = uploadLock(rq);
  try {
    while (l.closing) await l.closing.catch(() => {});
    if (!uploadExists(rq.bucket, rq.query.uploadId)) {
      throw new ApiError(404, 'NoSuchUpload', MSG.NoSuchUpload, { UploadId: String(rq.query.uploadId) });
    }
    const p = fn();
    l.parts.add(p);
    try { return await p; } finally { l.parts.delete(p); }
  } finally {
    uploadUnlock(l);
  }
}
async function asClosing(rq, fn) {
  const l = uploadLock(rq);
  try {
    while (l.closing) await l.closing.catch(() => {});
    l.closing = Promise.allSettled([...l.parts]).then(fn);
    try { return await l.closing; } finally { l.closing = null; }
  } finally {
    uploadUnlock(l);
  }
}
function checkComplete(rq, body) {
  if (!uploadExists(rq.bucket, rq.query.uploadId)) throw new ApiError(404, 'NoSuchUpload', MSG.NoSuchUpload);
  const xml = body.toString('utf8');
  const parts = [];
  const re = /<Part>([\s\S]*?)<\/Part>/g;
  let m;
  while ((m = re.exec(xml))) {
    const n = /<PartNumber>\s*(\d+)\s*<\/PartNumber>/.exec(m[1]);
    const e = /<ETag>\s*([\s\S]*?)\s*<\/ETag>/.exec(m[1]);
    if (!n || !e) throw new ApiError(400, 'MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema.');
    parts.push({ number: Number(n[1]), etag: e[1].replace(/&quot;/g, '"').replace(/"/g, '').toLowerCase() });
  }
  if (!parts.length) throw new ApiError(400, 'MalformedXML', 'CompleteMultipartUpload lists no parts.');
  const have = new Map(listPartsOf(rq.bucket, rq.query.uploadId).map(p => [p.number, p]));
  for (let i = 0; i < parts.length; i++) {
    if (i > 0 && parts[i].number <= parts[i - 1].number) throw new ApiError(400, 'InvalidPartOrder', MSG.InvalidPartOrder);
    const p = have.get(parts[i].number);
    if (!p || p.etag !== parts[i].etag) {
      throw new ApiError(400, 'InvalidPart', MSG.InvalidPart, { PartNumber: String(parts[i].number), ETag: parts[i].etag });
    }
    if (opt.minPartSize && i < parts.length - 1 && p.size < opt.minPartSize) {
      throw new ApiError(400, 'EntityTooSmall', MSG.EntityTooSmall, { PartNumber: String(p.number), ProposedSize: String(p.size), MinSizeAllowed: String(opt.minPartSize) });
    }
  }
  return parts;
}

// S3's ETag of a multipart object, "MD5-of-the-parts'-MD5s-N" (RGW's and
// COS's too), instead of s3rver's whole-object MD5: kept as the object's
// ETag for HEAD, GET and List, and put in Complete's answer r.
function multipartEtag(rq, parts, r) {
  if (r.status !== 200) return r;
  const etag = crypto.createHash('md5')
    .update(Buffer.concat(parts.map(p => Buffer.from(p.etag, 'hex')))).digest('hex') + '-' + parts.length;
  fs.writeFileSync(storePath(rq.bucket, rq.key, 'object.md5'), etag);
  r.body = Buffer.from(r.body.toString('utf8').replace(/(<ETag>(?:&quot;|")?)[0-9a-f]{32}/, `$1${etag}`));
  return r;
}

// ---------------------------------------------------------------- proxy

function redactHeaders(h) {
  const out = {};
  for (const [k, v] of Object.entries(h)) {
    if (k === 'authorization') {
      out[k] = String(v).replace(/(q-signature=)[0-9a-fA-F]+/, '$1<redacted>').replace(/(Signature=)[0-9a-f]+/, '$1<redacted>');
    } else if (k === 'x-amz-security-token' || k === 'x-cos-security-token') {
      out[k] = '<redacted>';
    } else out[k] = v;
  }
  return out;
}

let connSeq = 0;
function record(req, rq) {
  const rec = {
    id: ++state.seq, conn: req.socket._lpConn, start: Date.now(), end: null,
    method: req.method, url: req.url, host: req.headers.host || '', style: rq.style,
    bucket: rq.bucket, key: rq.key, op: rq.op, query: rq.query,
    partNumber: rq.query.partNumber !== undefined ? Number(rq.query.partNumber) : undefined,
    uploadId: rq.query.uploadId || undefined,
    auth: rq.authKind, verifier: null, accessKeyId: null,
    headers: redactHeaders(req.headers), contentLength: req.headers['content-length'] !== undefined ? Number(req.headers['content-length']) : null,
    bytes: 0, md5: null, crc64: null, status: null, code: null, fault: null, outcome: null,
    inflightAtStart: state.inflight,
  };
  state.requests.push(rec);
  if (state.requests.length > MAX_RECORDS) state.requests.shift();
  return rec;
}

async function readBody(req, rec, limitBytes) {
  // Reads the body; if limitBytes is set, destroys the socket after that many
  // bytes and returns null.
  return new Promise((resolve, reject) => {
    const chunks = [];
    let n = 0;
    let done = false;
    req.on('data', c => {
      if (done) return;
      if (limitBytes !== undefined && n + c.length >= limitBytes) {
        n = limitBytes; rec.bytes = n; done = true;
        req.pause();
        req.socket.destroy();
        resolve(null);
        return;
      }
      chunks.push(c); n += c.length; rec.bytes = n;
    });
    req.on('end', () => { if (!done) { done = true; resolve(Buffer.concat(chunks)); } });
    req.on('aborted', () => { if (!done) { done = true; reject(Object.assign(new Error('client aborted'), { aborted: true })); } });
    req.on('error', e => { if (!done) { done = true; reject(Object.assign(e, { aborted: true })); } });
    if (limitBytes === 0) { done = true; req.socket.destroy(); resolve(null); }
  });
}

async function handle(req, res, expectContinue) {
  let url = req.url || '/';
  // absolute-form request target (a client using this server as its HTTP
  // proxy, e.g. curl -x / CURLOPT_PROXY): the Host header names the bucket.
  const abs = /^https?:\/\/([^/?#]*)(.*)$/i.exec(url);
  if (abs) {
    url = abs[2] || '/';
    if (url[0] !== '/') url = '/' + url;
    if (!req.headers.host) req.headers.host = abs[1];
  }
  const qi = url.indexOf('?');
  const rawPath = qi < 0 ? url : url.slice(0, qi);
  const rawQuery = qi < 0 ? '' : url.slice(qi + 1);
  const addr = addressing(req.headers.host, rawPath);
  const queryList = parseQuery(rawQuery);
  const query = queryObj(queryList);
  const key = addr.rawKey ? safeDecode(addr.rawKey) : '';
  const authValue = req.headers.authorization || '';
  const authKind = /^q-sign-algorithm=/.test(authValue) ? 'cos'
    : /^AWS4-HMAC-SHA256 /.test(authValue) ? 'sigv4' : authValue ? 'unknown'
      : ('q-sign-algorithm' in query) ? 'cos-query' : ('X-Amz-Algorithm' in query) ? 'sigv4-query' : 'none';
  const rq = {
    method: req.method, rawPath, rawQuery, queryList, query, style: addr.style, bucket: addr.bucket,
    rawKey: addr.rawKey, key, authValue, authKind, op: null, nowMs: 0,
  };
  rq.op = classify(req.method, rq.bucket, rq.key, query);
  const rec = record(req, rq);
  state.inflight++;
  state.maxInflight = Math.max(state.maxInflight, state.inflight);
  const skewFault = takeFault(rq, 'auth');
  let fault = null;
  if (skewFault) rec.fault = 'skew';
  const skewExtra = skewFault ? Number(skewFault.seconds ?? 3600) : 0;
  rq.nowMs = serverNowMs(skewExtra);
  const flavorOf = () => (authKind.startsWith('cos') ? 'cos' : /\.cos\./.test(req.headers.host || '') ? 'cos' : 's3');
  const reqId = requestId();
  let bodyConsumed = false;

  const send = (status, headers, body) => {
    if (res.headersSent || res.destroyed || req.socket.destroyed) return;
    const h = { ...headers };
    h.date = new Date(rq.nowMs).toUTCString();
    h.server = flavorOf() === 'cos' ? 'tencent-cos' : 'AmazonS3';
    if (flavorOf() === 'cos') h['x-cos-request-id'] = reqId; else { h['x-amz-request-id'] = reqId; h['x-amz-id-2'] = reqId; }
    if (!bodyConsumed) h.connection = 'close';
    if (!(req.method === 'HEAD' && h['content-length'] !== undefined)) h['content-length'] = body ? body.length : 0;
    res.writeHead(status, h);
    res.end(req.method === 'HEAD' ? undefined : body);
    rec.status = status;
    rec.outcome = rec.outcome || 'responded';
  };
  const sendError = (err) => {
    rec.code = err.code;
    rec.message = err.message;
    const resource = (flavorOf() === 'cos' ? (req.headers.host || '') : '') + url;
    const body = Buffer.from(errorXml(flavorOf(), err, resource, reqId));
    const h = { 'content-type': 'application/xml' };
    if (err.retryAfter !== undefined) h['retry-after'] = String(err.retryAfter);
    Object.assign(h, err.headers || {});
    send(err.status, h, req.method === 'HEAD' ? Buffer.alloc(0) : body);
  };
  const drain = async () => {
    if (bodyConsumed) return;
    if (expectContinue) { return; } // do not ask for a body we will not use
    try { await readBody(req, rec); bodyConsumed = true; } catch (e) { /* client gone */ }
  };

  try {
    // 1. Authentication, from the headers alone (before the body); a
    // host of another region first, as the real services answer that
    // whatever the signature.
    let auth = { kind: 'none' };
    try {
      const wr = wrongRegionError(rq, req.headers.host);
      if (wr) throw wr;
      if (authKind === 'cos') auth = verifyCos(req, rq, rec);
      else if (authKind === 'sigv4') auth = await verifySigV4(req, rq, rec);
      else if (authKind === 'none') {
        if (!opt.allowAnonymous) throw new ApiError(403, 'AccessDenied', 'Access Denied. (anonymous requests are refused by this test server)');
      } else if (authKind === 'cos-query' || authKind === 'sigv4-query') {
        throw new ApiError(403, 'AccessDenied', 'Query-string (pre-signed URL) authentication is not supported by this test server.');
      } else {
        throw new ApiError(400, 'InvalidArgument', 'Unsupported Authorization type (want q-sign-algorithm=sha1... or AWS4-HMAC-SHA256).');
      }
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
      rec.authOk = false;
      await drain();
      return sendError(e);
    }
    rec.authOk = true;
    fault = takeFault(rq, 'after');
    if (fault) rec.fault = fault.type;

    // 2. Bucket must exist (except bucket creation / service calls).
    if (rq.bucket && rq.op !== 'PutBucket' && !fs.existsSync(s3rver.store.getBucketPath(rq.bucket))) {
      await drain();
      return sendError(new ApiError(404, 'NoSuchBucket', MSG.NoSuchBucket, { BucketName: rq.bucket }));
    }

    // 3. Body.
    const isUpload = rq.op === 'PutObject' || rq.op === 'UploadPart';
    if (isUpload && req.headers['content-length'] === undefined) {
      await drain();
      return sendError(new ApiError(411, 'MissingContentLength', MSG.MissingContentLength));
    }
    if (rq.op === 'UploadPart') {
      const pn = Number(rq.query.partNumber);
      if (!Number.isInteger(pn) || pn < 1 || pn > 10000) {
        await drain();
        return sendError(new ApiError(400, 'InvalidArgument', 'Part number must be an integer between 1 and 10000, inclusive.', { ArgumentName: 'partNumber', ArgumentValue: String(rq.query.partNumber) }));
      }
      if (!uploadExists(rq.bucket, rq.query.uploadId)) {
        await drain();
        return sendError(new ApiError(404, 'NoSuchUpload', MSG.NoSuchUpload, { UploadId: String(rq.query.uploadId) }));
      }
    }
    if (fault && fault.beforeBody && ['internal', 'slowdown', 'throttle', 'denied', 'error'].includes(fault.type)) {
      // answer at once, without reading the body (as a server does after
      // "Expect: 100-continue"); the connection is closed after the answer.
      const ra = fault.retryAfter ?? 1;
      const e = { internal: () => new ApiError(500, 'InternalError', MSG.InternalError),
        slowdown: () => Object.assign(new ApiError(503, 'SlowDown', MSG.SlowDown), { retryAfter: ra }),
        throttle: () => Object.assign(new ApiError(429, 'TooManyRequests', MSG.TooManyRequests), { retryAfter: ra }),
        denied: () => new ApiError(403, 'AccessDenied', 'Access Denied.'),
        error: () => new ApiError(Number(fault.status || 500), fault.code || 'InternalError', fault.message || 'Injected error') }[fault.type]();
      return sendError(e);
    }
    if (fault && fault.type === 'stall' && (fault.phase || 'body') === 'body') {
      rec.outcome = 'stalled';
      await sleep(Number(fault.seconds ?? 30) * 1000);
      if (req.socket.destroyed) { rec.outcome = 'client-gone-during-stall'; return; }
      rec.outcome = null;
    }
    if (expectContinue) res.writeContinue();
    let body;
    if (fault && fault.type === 'reset') {
      const cl = Number(req.headers['content-length'] || 0);
      const after = fault.afterBytes !== undefined ? Number(fault.afterBytes) : Math.floor(cl / 2);
      if (cl > 0 && after >= cl) {
        body = await readBody(req, rec);
      } else {
        await readBody(req, rec, after);
        rec.outcome = 'reset';
        rec.end = Date.now();
        vlog(`#${rec.id} ${req.method} ${url} -> reset after ${rec.bytes} bytes (fault)`);
        return;
      }
    } else {
      try {
        body = await readBody(req, rec);
      } catch (e) {
        rec.outcome = 'client-aborted';
        rec.end = Date.now();
        vlog(`#${rec.id} ${req.method} ${url} -> client aborted after ${rec.bytes} bytes`);
        return;
      }
    }
    bodyConsumed = true;
    if (fault && fault.type === 'corrupt' && body.length > 0) {
      const at = fault.at !== undefined ? Number(fault.at) : Math.floor(body.length / 2);
      body = Buffer.from(body);
      body[Math.min(Math.max(at, 0), body.length - 1)] ^= 0x01;
    }
    rec.md5 = crypto.createHash('md5').update(body).digest('hex');
    if (body.length > 0 || isUpload) rec.crc64 = crc64(body);
    if (req.headers['content-length'] !== undefined && Number(req.headers['content-length']) !== body.length) {
      return sendError(new ApiError(400, 'IncompleteBody', 'You did not provide the number of bytes specified by the Content-Length HTTP header.'));
    }

    // 4. Integrity.
    if (auth.kind === 'sigv4' && auth.csha !== 'UNSIGNED-PAYLOAD') {
      const got = crypto.createHash('sha256').update(body).digest('hex');
      if (got !== auth.csha) {
        return sendError(new ApiError(400, 'XAmzContentSHA256Mismatch', MSG.XAmzContentSHA256Mismatch,
          { ClientComputedContentSHA256: auth.csha, S3ComputedContentSHA256: got }));
      }
    }
    if (opt.requireMd5 && isUpload && req.headers['content-md5'] === undefined) {
      return sendError(new ApiError(400, 'InvalidRequest', MSG.Md5Required));
    }
    if (req.headers['content-md5'] !== undefined) {
      const cm = req.headers['content-md5'];
      if (Buffer.from(cm, 'base64').length !== 16) return sendError(new ApiError(400, 'InvalidDigest', MSG.InvalidDigest));
      if (cm !== md5b64(body)) {
        return sendError(new ApiError(400, 'BadDigest', MSG.BadDigest, { ExpectedDigest: cm, CalculatedDigest: md5b64(body) }));
      }
    }

    // 5. Error faults (nothing stored).
    if (fault) {
      const ra = fault.retryAfter ?? 1;
      switch (fault.type) {
        case 'internal': return sendError(new ApiError(500, 'InternalError', MSG.InternalError));
        case 'slowdown': return sendError(Object.assign(new ApiError(503, 'SlowDown', MSG.SlowDown), { retryAfter: ra }));
        case 'throttle': return sendError(Object.assign(new ApiError(429, 'TooManyRequests', MSG.TooManyRequests), { retryAfter: ra }));
        case 'baddigest': return sendError(new ApiError(400, 'BadDigest', MSG.BadDigest));
        case 'sha256mismatch': return sendError(new ApiError(400, 'XAmzContentSHA256Mismatch', MSG.XAmzContentSHA256Mismatch));
        case 'denied': return sendError(new ApiError(403, 'AccessDenied', 'Access Denied.'));
        case 'error': return sendError(new ApiError(Number(fault.status || 500), fault.code || 'InternalError', fault.message || MSG[fault.code] || 'Injected error'));
        case 'complete-error':
          if (rq.op === 'CompleteMultipartUpload' && !fault.store) {
            const e = new ApiError(200, fault.code || 'InternalError', fault.message || MSG.InternalError);
            rec.code = e.code;
            return send(200, { 'content-type': 'application/xml' }, Buffer.from(errorXml(flavorOf(), e, url, reqId)));
          }
          break;
        default: break;
      }
    }

    // 6. Conditional writes: S3's If-None-Match: * (412) and COS's
    // x-cos-forbid-overwrite: true (409 FileAlreadyExists) refuse to replace
    // an object, checked and written under a per-key lock.
    const noOverwrite = (rq.op === 'PutObject' || rq.op === 'CompleteMultipartUpload') &&
      (req.headers['if-none-match'] === '*' ||
       String(req.headers['x-cos-forbid-overwrite'] || '').toLowerCase() === 'true');
    let unlockKey = null;
    if (noOverwrite) {
      unlockKey = await keyLock(rq.bucket + '/' + rq.key);
      if (fs.existsSync(storePath(rq.bucket, rq.key, 'object'))) {
        unlockKey();
        return sendError(auth.kind === 'cos' ?
          new ApiError(409, 'FileAlreadyExists', 'The object already exists and x-cos-forbid-overwrite is true.') :
          new ApiError(412, 'PreconditionFailed', 'At least one of the pre-conditions you specified did not hold'));
      }
    }
    // 7. Do it.
    let r;
    try {
      const fwd = () => forward(req.method, rq.bucket, rq.key, rawQuery, forwardHeaders(req.headers), body);
      if (rq.op === 'AbortMultipartUpload') r = await asClosing(rq, () => handleAbort(rq));
      else if (rq.op === 'ListParts') r = handleListParts(rq);
      else if (rq.op === 'ListObjects' && rq.query['list-type'] === '2') r = await listV2(rq, forwardHeaders(req.headers));
      else if (rq.op === 'ListMultipartUploads') r = handleListUploads(rq);
      else if (rq.op === 'UploadPart') r = await asPart(rq, fwd);
      else if (rq.op === 'CompleteMultipartUpload') r = await asClosing(rq, async () => multipartEtag(rq, checkComplete(rq, body), await fwd()));
      else r = await fwd();
    } finally {
      if (unlockKey) unlockKey();
    }
    const outH = {};
    for (const [k, v] of Object.entries(r.headers)) {
      if (['connection', 'transfer-encoding', 'content-length', 'date', 'keep-alive', 'vary',
        'access-control-allow-origin', 'x-amz-request-id', 'x-amz-id-2'].includes(k)) continue;
      outH[k] = v;
      if (auth.kind === 'cos' && k.startsWith('x-amz-meta-')) { delete outH[k]; outH['x-cos-meta-' + k.slice(11)] = v; }
    }
    if (req.method === 'HEAD' && r.headers['content-length'] !== undefined) outH['content-length'] = r.headers['content-length'];
    let respBody = r.body;
    // COS-style CRC64.
    const wantCrc = opt.crc64 === 'always' || (opt.crc64 === 'cos' && auth.kind === 'cos');
    if (wantCrc && r.status >= 200 && r.status < 300) {
      let c = null;
      if (rq.op === 'PutObject' || rq.op === 'UploadPart') c = crc64(body);
      else if (rq.op === 'CompleteMultipartUpload' || rq.op === 'GetObject' || rq.op === 'HeadObject') c = await storedCrc(rq.bucket, rq.key);
      if (c !== null) {
        if (fault && fault.type === 'badcrc') c = ((BigInt(c) + 1n) & 0xFFFFFFFFFFFFFFFFn).toString();
        outH['x-cos-hash-crc64ecma'] = c;
        rec.crc64Sent = c;
      }
    }
    if (rq.op === 'CompleteMultipartUpload' && r.status === 200) {
      // s3rver's Location is its own address; give ours.
      respBody = Buffer.from(respBody.toString('utf8').replace(/<Location>[^<]*<\/Location>/,
        `<Location>${xmlEscape((req.headers.host || '') + rawPath)}</Location>`));
    }
    if (r.status >= 400) {
      const m = /<Code>([^<]*)<\/Code>/.exec(respBody.toString('utf8'));
      rec.code = m ? m[1] : null;
    }
    if (fault && fault.type === 'badetag' && outH.etag !== undefined) {
      const e = String(outH.etag);
      const i = e.search(/[0-9a-f]/i);
      if (i >= 0) outH.etag = e.slice(0, i) + (e[i] === '0' ? '1' : '0') + e.slice(i + 1);
    }
    if (fault && fault.type === 'lost') {
      rec.outcome = 'lost'; rec.status = r.status;
      req.socket.destroy();
      return;
    }
    if (fault && fault.type === 'stall' && fault.phase === 'response') {
      rec.outcome = 'stalled';
      await sleep(Number(fault.seconds ?? 30) * 1000);
      rec.outcome = null;
    }
    send(r.status, outH, respBody);
  } catch (e) {
    if (e instanceof ApiError) return sendError(e);
    log(`#${rec.id} internal error: ${e && e.stack}`);
    rec.outcome = 'proxy-error';
    sendError(new ApiError(500, 'InternalError', 'test server error: ' + (e && e.message)));
  } finally {
    state.inflight--;
    rec.end = Date.now();
    if (rec.status !== null || rec.outcome) {
      vlog(`#${rec.id} ${req.method} ${req.headers.host || ''}${url} ${rec.auth} -> ${rec.status ?? '-'} ${rec.code || ''} ${rec.fault ? '[fault ' + rec.fault + ']' : ''} ${rec.outcome && rec.outcome !== 'responded' ? rec.outcome : ''}`);
    }
  }
}

// ---------------------------------------------------------------- control API

async function readJson(req) {
  const chunks = [];
  for await (const c of req) chunks.push(c);
  const s = Buffer.concat(chunks).toString('utf8').trim();
  return s ? JSON.parse(s) : {};
}
function jsonRes(res, status, obj) {
  const b = Buffer.from(JSON.stringify(obj, null, 1) + '\n');
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': b.length });
  res.end(b);
}
function addFault(spec) {
  if (!spec || !FAULT_TYPES[spec.type]) throw new Error(`unknown fault type ${spec && spec.type}; known: ${Object.keys(FAULT_TYPES).join(', ')}`);
  const f = { id: ++state.faultSeq, count: 1, skip: 0, ...spec };
  f.count = Number(f.count);
  f.remaining = f.count; f.used = 0;
  state.faults.push(f);
  return f;
}
let readyInfo;
async function control(req, res) {
  const u = new URL(req.url, 'http://x');
  const p = u.pathname.replace(/\/+$/, '') || '/';
  try {
    if (req.method === 'GET' && (p === '/' || p === '/info')) return jsonRes(res, 200, { ...readyInfo, clockOffset: state.clockOffset, faultTypes: FAULT_TYPES });
    if (req.method === 'GET' && p === '/requests') {
      const since = Number(u.searchParams.get('since') || 0);
      let list = state.requests.filter(r => r.id > since);
      for (const k of ['op', 'method', 'bucket', 'auth', 'status', 'code', 'fault']) {
        const v = u.searchParams.get(k);
        if (v !== null) list = list.filter(r => String(r[k]) === v);
      }
      const kre = u.searchParams.get('key');
      if (kre !== null) { const re = new RegExp(kre); list = list.filter(r => re.test(r.key || '')); }
      return jsonRes(res, 200, { count: list.length, maxInflight: state.maxInflight, requests: list });
    }
    if (req.method === 'DELETE' && p === '/requests') { state.requests = []; state.maxInflight = 0; return jsonRes(res, 200, { ok: true }); }
    if (req.method === 'GET' && p === '/faults') return jsonRes(res, 200, { faults: state.faults, types: FAULT_TYPES });
    if (req.method === 'POST' && p === '/faults') {
      const spec = await readJson(req);
      const list = (Array.isArray(spec) ? spec : [spec]).map(addFault);
      log(`fault(s) added: ${list.map(f => JSON.stringify(f)).join(' ')}`);
      return jsonRes(res, 200, { ok: true, faults: list });
    }
    if (req.method === 'DELETE' && p === '/faults') { state.faults = []; return jsonRes(res, 200, { ok: true }); }
    let m;
    if (req.method === 'DELETE' && (m = /^\/faults\/(\d+)$/.exec(p))) {
      state.faults = state.faults.filter(f => f.id !== Number(m[1]));
      return jsonRes(res, 200, { ok: true });
    }
    if (req.method === 'GET' && p === '/credentials') {
      return jsonRes(res, 200, { credentials: opt.credentials.map(c => ({ id: c.id, token: !!c.token, expires: c.expires || null })) });
    }
    if (req.method === 'POST' && p === '/credentials') {
      const b = await readJson(req);
      if (!b.id || !b.key) return jsonRes(res, 400, { error: 'want {id, key[, token, expires]}' });
      const c = { id: String(b.id), key: String(b.key), token: b.token ? String(b.token) : undefined, expires: b.expires ? Number(b.expires) : undefined };
      opt.credentials = opt.credentials.filter(x => x.id !== c.id).concat([c]);
      return jsonRes(res, 200, { ok: true, id: c.id, expires: c.expires || null });
    }
    if (req.method === 'DELETE' && (m = /^\/credentials\/([^/]+)$/.exec(p))) {
      const id = decodeURIComponent(m[1]);
      opt.credentials = opt.credentials.filter(x => x.id !== id);
      return jsonRes(res, 200, { ok: true });
    }
    if ((req.method === 'POST' || req.method === 'PUT') && p === '/clock') {
      const b = await readJson(req);
      state.clockOffset = Number(b.offset || 0);
      return jsonRes(res, 200, { ok: true, clockOffset: state.clockOffset });
    }
    if (req.method === 'POST' && p === '/reset') {
      state.requests = []; state.faults = []; state.clockOffset = opt.clockOffset; state.maxInflight = 0;
      return jsonRes(res, 200, { ok: true });
    }
    if (req.method === 'GET' && (m = /^\/objects\/([^/]+)$/.exec(p))) {
      const bucket = decodeURIComponent(m[1]);
      const r = await s3rver.store.listObjects(bucket, { prefix: u.searchParams.get('prefix') || '', maxKeys: 100000 });
      const objects = [];
      for (const o of r.objects) {
        objects.push({ key: o.key, size: o.size, etag: String(o.metadata && o.metadata.etag || '').replace(/"/g, ''),
          crc64: await storedCrc(bucket, o.key) });
      }
      let uploads = [];
      try { uploads = fs.readdirSync(storePath(bucket, undefined, 'uploads')); } catch (e) { /* none */ }
      return jsonRes(res, 200, { bucket, count: objects.length, objects, pendingUploads: uploads });
    }
    if (req.method === 'GET' && (m = /^\/object\/([^/]+)\/(.+)$/.exec(p))) {
      const bucket = decodeURIComponent(m[1]);
      const key = decodeURIComponent(m[2]);
      const fp = storePath(bucket, key, 'object');
      if (!fs.existsSync(fp)) return jsonRes(res, 404, { error: 'no such object', bucket, key });
      const b = fs.readFileSync(fp);
      let meta = {};
      try { meta = JSON.parse(fs.readFileSync(storePath(bucket, key, 'metadata.json'), 'utf8')); } catch (e) { /* none */ }
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': b.length,
        'x-crc64': crc64(b), 'x-md5': crypto.createHash('md5').update(b).digest('hex'), 'x-metadata': JSON.stringify(meta) });
      return res.end(b);
    }
    if (req.method === 'DELETE' && (m = /^\/object\/([^/]+)\/(.+)$/.exec(p))) {
      // remove an object behind the client's back (a lost index entry, say)
      await s3rver.store.deleteObject(decodeURIComponent(m[1]), decodeURIComponent(m[2]));
      return jsonRes(res, 200, { ok: true });
    }
    if (req.method === 'POST' && p === '/shutdown') { jsonRes(res, 200, { ok: true }); return setTimeout(() => shutdown('control API'), 50); }
    return jsonRes(res, 404, { error: 'unknown control endpoint', endpoints: ['GET /', 'GET /requests', 'DELETE /requests', 'GET /faults', 'POST /faults', 'DELETE /faults', 'DELETE /faults/ID', 'GET /credentials', 'POST /credentials', 'DELETE /credentials/ID', 'POST /clock', 'POST /reset', 'GET /objects/BUCKET', 'GET /object/BUCKET/KEY', 'DELETE /object/BUCKET/KEY', 'POST /shutdown'] });
  } catch (e) {
    return jsonRes(res, 400, { error: String(e && e.message) });
  }
}

// ---------------------------------------------------------------- start-up

let tmpDir = null;
const servers = [];
let shuttingDown = false;
function shutdown(why) {
  if (shuttingDown) return;
  shuttingDown = true;
  log(`shutting down (${why})`);
  for (const s of servers) { try { s.close(); s.closeAllConnections && s.closeAllConnections(); } catch (e) { /* ignore */ } }
  const finish = () => {
    if (tmpDir) { try { fs.rmSync(tmpDir, { recursive: true, force: true }); } catch (e) { /* ignore */ } }
    process.exit(0);
  };
  Promise.resolve(s3rver && s3rver.close().catch(() => {})).then(finish, finish);
  setTimeout(finish, 2000).unref();
}

function listen(server, port, host) {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => { server.removeListener('error', reject); resolve(server.address().port); });
  });
}

async function main() {
  if (opt.dir) { storeDir = path.resolve(opt.dir); fs.mkdirSync(storeDir, { recursive: true }); }
  else { tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lakepipe-s3-')); storeDir = tmpDir; }
  s3rver = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: storeDir, vhostBuckets: false,
    configureBuckets: opt.buckets.map(name => ({ name })) });
  const addr = await s3rver.run();
  s3port = addr.port;

  const onConn = sock => { sock._lpConn = ++connSeq; };
  const mk = () => {
    const s = http.createServer((req, res) => handle(req, res, false));
    s.on('checkContinue', (req, res) => handle(req, res, true));
    s.on('connection', onConn);
    s.on('clientError', (err, sock) => { try { sock.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n'); } catch (e) { /* ignore */ } });
    s.keepAliveTimeout = 5000;
    s.requestTimeout = 0;
    return s;
  };
  const p4 = mk();
  const port = await listen(p4, opt.port, '127.0.0.1');
  servers.push(p4);
  const p6 = mk();
  try { await listen(p6, port, '::1'); servers.push(p6); } catch (e) { vlog('no ::1 listener:', e.code); }
  const ctl = http.createServer(control);
  const ctlPort = await listen(ctl, opt.ctlPort, '127.0.0.1');
  servers.push(ctl);

  readyInfo = {
    ready: true, pid: process.pid,
    endpoint: `http://127.0.0.1:${port}`, port,
    vhost: `http://{bucket}.localhost:${port}`,
    control: `http://127.0.0.1:${ctlPort}`, ctl_port: ctlPort,
    s3rver: `http://127.0.0.1:${s3port}`, dir: storeDir, buckets: opt.buckets,
    credentials: opt.credentials.map(c => ({ id: c.id, token: !!c.token })),
    timeout: opt.timeout,
  };
  const line = JSON.stringify(readyInfo);
  if (opt.readyFile) fs.writeFileSync(opt.readyFile + '.tmp', line + '\n'), fs.renameSync(opt.readyFile + '.tmp', opt.readyFile);
  process.stdout.write(line + '\n');
  log(`proxy on 127.0.0.1:${port}, control on 127.0.0.1:${ctlPort}, s3rver on 127.0.0.1:${s3port}, dir ${storeDir}`);
  setTimeout(() => shutdown(`timeout ${opt.timeout}s`), opt.timeout * 1000).unref();
  // keep the process alive even though the timer is unref'd
  setInterval(() => {}, 1 << 30);
}

process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));
process.on('SIGHUP', () => shutdown('SIGHUP'));
process.stdout.on('error', () => {});
main().catch(e => { log('start-up failed:', e && e.stack); process.exit(1); });
