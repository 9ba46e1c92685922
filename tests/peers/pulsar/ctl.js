#!/usr/bin/env node
'use strict';
// Command-line client of the test broker's control API.
//   node ctl.js CONTROL_URL_OR_PORT|--ctl URL|--info INFOFILE [METHOD] PATH [JSON | key=value ...]
// METHOD defaults to GET without arguments and POST with them. key=value
// values are parsed as JSON when they parse (numbers, true, null, {...}),
// else taken as strings; a.b=v nests. Prints the JSON answer on stdout and
// exits 1 on an HTTP error status.
//   node ctl.js 41234 publish topic=t1 payload='msg {i}' count=10 batchSize=5 codec=lz4
//   node ctl.js 41234 subscription topic=t1 subscription=s1
//   node ctl.js 41234 faults '{"dropAfterMessages":3}'
const http = require('http');

function main() {
  const a = process.argv.slice(2);
  if (a.length < 2) {
    process.stderr.write('usage: ctl.js CONTROL_URL_OR_PORT|--ctl URL|--info INFOFILE [GET|POST] PATH [JSON | key=value ...]\n');
    process.exit(2);
  }
  let base = a.shift();
  if (base === '--ctl') base = a.shift();
  else if (base === '--info') {
    // --info FILE: the broker's start-up JSON line (or --ready-file)
    base = JSON.parse(require('fs').readFileSync(a.shift(), 'utf8').split('\n')[0]).control;
  }
  if (/^\d+$/.test(base)) base = `http://127.0.0.1:${base}`;
  let method = null;
  if (/^(GET|POST|PUT|DELETE)$/.test(a[0])) method = a.shift();
  let path = a.shift();
  if (!path.startsWith('/')) path = '/' + path;
  let body = null;
  if (a.length === 1 && /^\s*[{[]/.test(a[0])) body = JSON.parse(a[0]);
  else if (a.length) {
    body = {};
    for (const kv of a) {
      const i = kv.indexOf('=');
      if (i < 0) throw new Error(`expected key=value, got ${kv}`);
      const k = kv.slice(0, i); const vs = kv.slice(i + 1);
      let v;
      try { v = JSON.parse(vs); } catch (e) { v = vs; }
      const ks = k.split('.');
      let o = body;
      while (ks.length > 1) { const kk = ks.shift(); o = o[kk] = o[kk] || {}; }
      o[ks[0]] = v;
    }
  }
  const GETS = ['/', '/info', '/topic', '/subscription', '/connections', '/events', '/stats'];
  const ACTIONS = ['/faults/reset', '/shutdown', '/challenge', '/send-unknown', '/ping', '/close-connections'];
  if (!method) method = GETS.includes(path) ? 'GET' : body || ACTIONS.includes(path) ? 'POST' : 'GET';
  let url = base.replace(/\/$/, '') + path;
  if (method === 'GET' && body) {
    url += '?' + new URLSearchParams(Object.entries(body).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)])).toString();
    body = null;
  }
  const data = body ? Buffer.from(JSON.stringify(body)) : null;
  const req = http.request(url, { method, headers: data ? { 'Content-Type': 'application/json', 'Content-Length': data.length } : {}, timeout: 30000 }, (res) => {
    const bufs = [];
    res.on('data', (d) => bufs.push(d));
    res.on('end', () => {
      process.stdout.write(Buffer.concat(bufs).toString('utf8'));
      process.exit(res.statusCode >= 400 ? 1 : 0);
    });
  });
  req.on('timeout', () => { req.destroy(new Error('timeout')); });
  req.on('error', (e) => { process.stderr.write(`ctl: ${e.message}\n`); process.exit(2); });
  if (data) req.write(data);
  req.end();
}
main();
