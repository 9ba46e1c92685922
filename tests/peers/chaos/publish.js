#!/usr/bin/env node
// publish.js CONTROL TOPIC N IDS [RATE]: publish N messages to the
// partitioned TOPIC through the test broker's control API, while a chaos
// test kills and restarts pipelines: requests of one to three producer
// batches of a random size (single entries too), partitions in turn, at
// about RATE messages a second (0 or absent: as fast as it can).  Each
// message's payload is "chaos I"; as the receipts come, "ID TAB I" is
// appended to IDS; at the end IDS.done holds N.
//
// publish.js CONTROL TOPIC N IDS tail: append one single message (no
// batch) to each partition, "chaos N" to "chaos N+3", their ids to IDS:
// so that a last run with --stop-at-end has something to read on every
// partition (see t8002: a partition fully acknowledged whose last entry
// is a batch never ends today).
'use strict';
const fs = require('fs');
const [ctl, topic, nArg, idsFile, rateArg] = process.argv.slice(2);
const N = Number(nArg);
const rate = Number(rateArg || 0);
if (!ctl || !topic || !(N > 0) || !idsFile) {
	console.error('usage: publish.js CONTROL TOPIC N IDS [RATE]');
	process.exit(2);
}
// batch sizes: 0 = one entry per message (no batch metadata)
const SIZES = [0, 1, 3, 10, 10, 37, 50, 100, 100, 250];
const pick = (a) => a[Math.floor(Math.random() * a.length)];
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function post(body) {
	for (let tries = 0; ; tries++) {
		try {
			const r = await fetch(`${ctl}/publish`, { method: 'POST',
			    headers: { 'content-type': 'application/json' },
			    body: JSON.stringify(body) });
			if (!r.ok) throw new Error(`${r.status} ${await r.text()}`);
			return await r.json();
		} catch (e) {
			// the control API is never down; a refused request is not
			// published (one request, one answer), so trying again is
			// safe only on a connection error before an answer
			if (tries >= 20) throw e;
			await sleep(100);
		}
	}
}

async function tail() {
	const msgs = [0, 1, 2, 3].map((p) => ({ payload: `chaos ${N + p}`, partition: p }));
	const res = await post({ topic, messages: msgs });
	fs.appendFileSync(idsFile, res.ids.map((r, j) => `${r.id}\t${N + j}\n`).join(''));
}

async function main() {
	if (rateArg === 'tail') return tail();
	fs.writeFileSync(idsFile, '');
	const t0 = Date.now();
	let i = 0, part = 0;
	while (i < N) {
		const bs = pick(SIZES);
		const n = Math.min(N - i, (bs || 5) * (1 + Math.floor(Math.random() * 3)));
		const msgs = [];
		for (let j = 0; j < n; j++) msgs.push({ payload: `chaos ${i + j}` });
		const res = await post({ topic, batchSize: bs, partition: part, messages: msgs });
		part = (part + 1) % 4;
		fs.appendFileSync(idsFile, res.ids.map((r, j) => `${r.id}\t${i + j}\n`).join(''));
		i += n;
		if (rate > 0) {
			const ahead = i / rate * 1000 - (Date.now() - t0);
			if (ahead > 0) await sleep(ahead);
		}
	}
	fs.writeFileSync(idsFile + '.done', `${N}\n`);
}
main().catch((e) => { console.error(`publish.js: ${e.message}`); process.exit(1); });
