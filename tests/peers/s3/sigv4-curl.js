#!/usr/bin/env node
// sigv4-curl.js: one SigV4-signed S3 request, signed by the AWS SDK's signer
// (@smithy/signature-v4), for tests that talk to a real S3 server (Ceph RGW)
// without deliver.  curl's own --aws-sigv4 (7.88 here) is refused by RGW
// with SignatureDoesNotMatch, hence this.
//
//   node sigv4-curl.js [-X METHOD] [-H 'Name: value']... [-T FILE | -d DATA]
//       [--region R] [-i] URL
//
// Credentials from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (and
// AWS_SESSION_TOKEN).  URL is sent as given: its path must already be
// percent-encoded (RFC 3986, '/' kept), its query is signed decoded.
// Prints the body on stdout (with -i, the status line and the headers
// first); "HTTP STATUS" goes to stderr.  Exit 0 for 2xx, 1 otherwise, 2 on
// usage, 3 when the request could not be sent.
'use strict';
const http = require('http');
const crypto = require('crypto');
const fs = require('fs');
const { SignatureV4 } = require('@smithy/signature-v4');
const { Sha256 } = require('@aws-crypto/sha256-js');

function usage(msg) {
  process.stderr.write(`sigv4-curl.js: ${msg}\n`);
  process.exit(2);
}

function parseArgs(argv) {
  const o = { method: null, headers: {}, body: null, region: 'us-east-1', include: false, url: null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => (i + 1 < argv.length ? argv[++i] : usage(`${a} needs a value`));
    if (a === '-X') o.method = next();
    else if (a === '-H') {
      const h = next();
      const c = h.indexOf(':');
      if (c < 1) usage(`bad header ${h}`);
      o.headers[h.slice(0, c).trim().toLowerCase()] = h.slice(c + 1).trim();
    } else if (a === '-T') o.body = fs.readFileSync(next());
    else if (a === '-d') o.body = Buffer.from(next());
    else if (a === '--region') o.region = next();
    else if (a === '-i') o.include = true;
    else if (a.startsWith('-')) usage(`unknown option ${a}`);
    else if (o.url) usage('one URL only');
    else o.url = a;
  }
  if (!o.url) usage('no URL');
  if (!o.method) o.method = o.body ? 'PUT' : 'GET';
  return o;
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  const id = process.env.AWS_ACCESS_KEY_ID, key = process.env.AWS_SECRET_ACCESS_KEY;
  if (!id || !key) usage('AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must be set');
  const u = new URL(o.url);
  const body = o.body || Buffer.alloc(0);
  const query = {};
  for (const [k, v] of u.searchParams) query[k] = v;
  const headers = {
    host: u.host,
    'x-amz-content-sha256': crypto.createHash('sha256').update(body).digest('hex'),
    ...o.headers,
  };
  if (body.length || o.method === 'PUT' || o.method === 'POST') headers['content-length'] = String(body.length);
  const signer = new SignatureV4({
    credentials: { accessKeyId: id, secretAccessKey: key, sessionToken: process.env.AWS_SESSION_TOKEN || undefined },
    region: o.region, service: 's3', sha256: Sha256, uriEscapePath: false,
  });
  const s = await signer.sign({ method: o.method, protocol: 'http:', hostname: u.hostname,
    port: u.port ? Number(u.port) : undefined, path: u.pathname, query, headers });
  const req = http.request({ host: u.hostname === 'localhost' || u.hostname.endsWith('.localhost') ? '127.0.0.1' : u.hostname,
    port: u.port || 80, method: o.method, path: u.pathname + u.search, headers: s.headers });
  req.on('response', res => {
    const chunks = [];
    res.on('data', c => chunks.push(c));
    res.on('end', () => {
      if (o.include) {
        let h = `HTTP/${res.httpVersion} ${res.statusCode} ${res.statusMessage}\r\n`;
        for (let i = 0; i < res.rawHeaders.length; i += 2) h += `${res.rawHeaders[i]}: ${res.rawHeaders[i + 1]}\r\n`;
        process.stdout.write(h + '\r\n');
      }
      process.stdout.write(Buffer.concat(chunks));
      process.stderr.write(`HTTP ${res.statusCode}\n`);
      process.exitCode = res.statusCode >= 200 && res.statusCode < 300 ? 0 : 1;
    });
  });
  req.on('error', e => {
    process.stderr.write(`sigv4-curl.js: ${o.method} ${o.url}: ${e.message}\n`);
    process.exitCode = 3;
  });
  req.end(body);
}

main().catch(e => {
  process.stderr.write(`sigv4-curl.js: ${e.stack || e}\n`);
  process.exit(3);
});
