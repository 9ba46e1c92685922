#!/usr/bin/env node
'use strict';
// Tiny client for the S3/COS test server's control API.
//
//   node ctl.js [--ctl URL | --info READYFILE] COMMAND [ARGS]
//
// The control URL comes from --ctl, --info (the server's ready JSON line,
// field "control"), or $LAKEPIPE_S3_CTL.
//
//   info                          server info (ports, buckets, fault types)
//   fault TYPE [name=value...]    add a fault, e.g.  fault reset op=UploadPart part=2 count=1
//   faults                        list faults (with remaining counts)
//   clear-faults                  remove all faults
//   requests [name=value...]      print request records as JSON; filters:
//                                 op method bucket auth status code fault key(regex) since
//   count [name=value...]         print how many requests match
//   clear-requests                forget recorded requests
//   clock SECONDS                 shift the server clock (0 to reset)
//   objects BUCKET [PREFIX]       list stored objects (key size etag crc64), one per line
//   get BUCKET KEY                write a stored object's bytes on stdout
//   delete BUCKET KEY             remove a stored object (behind the client)
//   reset                         clear requests and faults, reset the clock
//   shutdown                      stop the server
//
// Values: integers become numbers, true/false booleans; others are strings.

const http = require('http');
const fs = require('fs');

const argv = process.argv.slice(2);
let ctl = process.env.LAKEPIPE_S3_CTL || null;
while (argv.length && argv[0].startsWith('--')) {
  const o = argv.shift();
  if (o === '--ctl') ctl = argv.shift();
  else if (o === '--info') ctl = JSON.parse(fs.readFileSync(argv.shift(), 'utf8').split('\n')[0]).control;
  else die(`unknown option ${o}`);
}
function die(m) { process.stderr.write(`ctl.js: ${m}\n`); process.exit(2); }
if (!ctl) die('no control URL: use --ctl URL, --info READYFILE or $LAKEPIPE_S3_CTL');
const [cmd, ...rest] = argv;
if (!cmd) die('no command (see the comment at the top of ctl.js)');

function kv(list) {
  const o = {};
  for (const a of list) {
    const i = a.indexOf('=');
    if (i < 0) die(`expected name=value, got ${a}`);
    const k = a.slice(0, i), v = a.slice(i + 1);
    o[k] = /^-?\d+$/.test(v) ? Number(v) : v === 'true' ? true : v === 'false' ? false : v;
  }
  return o;
}
function call(method, path, body, raw) {
  const u = new URL(path, ctl);
  return new Promise((resolve, reject) => {
    const r = http.request(u, { method, headers: { 'content-type': 'application/json' }, timeout: 10000 }, res => {
      const chunks = [];
      res.on('data', c => chunks.push(c));
      res.on('end', () => {
        const b = Buffer.concat(chunks);
        if (res.statusCode >= 400) return reject(new Error(`${res.statusCode} ${b}`));
        resolve(raw ? b : JSON.parse(b.toString('utf8')));
      });
    });
    r.on('timeout', () => r.destroy(new Error('control API timeout')));
    r.on('error', reject);
    r.end(body === undefined ? undefined : JSON.stringify(body));
  });
}
const qs = o => Object.entries(o).map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&');
const print = o => console.log(JSON.stringify(o, null, 1));

(async () => {
  switch (cmd) {
    case 'info': return print(await call('GET', '/'));
    case 'fault': {
      if (!rest[0]) die('fault TYPE [name=value...]');
      const r = await call('POST', '/faults', { type: rest[0], ...kv(rest.slice(1)) });
      return console.log(r.faults.map(f => f.id).join(' '));
    }
    case 'faults': return print((await call('GET', '/faults')).faults);
    case 'clear-faults': await call('DELETE', '/faults'); return;
    case 'requests': return print((await call('GET', '/requests?' + qs(kv(rest)))).requests);
    case 'count': return console.log((await call('GET', '/requests?' + qs(kv(rest)))).count);
    case 'clear-requests': await call('DELETE', '/requests'); return;
    case 'clock': await call('POST', '/clock', { offset: Number(rest[0] || 0) }); return;
    case 'objects': {
      const r = await call('GET', `/objects/${encodeURIComponent(rest[0])}?` + qs(rest[1] ? { prefix: rest[1] } : {}));
      for (const o of r.objects) console.log(`${o.key}\t${o.size}\t${o.etag}\t${o.crc64}`);
      return;
    }
    case 'get': {
      const b = await call('GET', `/object/${encodeURIComponent(rest[0])}/${encodeURIComponent(rest[1])}`, undefined, true);
      process.stdout.write(b);
      return;
    }
    case 'delete':
      await call('DELETE', `/object/${encodeURIComponent(rest[0])}/${encodeURIComponent(rest[1])}`);
      return;
    case 'reset': await call('POST', '/reset'); return;
    case 'shutdown': await call('POST', '/shutdown'); return;
    default: die(`unknown command ${cmd}`);
  }
})().catch(e => { process.stderr.write(`ctl.js: ${e.message}\n`); process.exit(1); });
