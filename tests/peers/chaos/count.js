#!/usr/bin/env node
// count.js IDS READ: compare what a chaos run published with what the
// lake holds.  IDS is publish.js's "ID TAB I" lines; READ is what
// tests/peers/lake-read.js (DuckDB) printed for the lake: "ID TAB
// ENCODING TAB PAYLOAD-HEX" per record.  Prints one line
//	messages=N records=R lost=L duplicated=D unexpected=U damaged=B
// (duplicated: records beyond the first of an id; unexpected: ids never
// published; damaged: a payload other than "chaos I"), then up to five
// examples of each finding on stderr.  Exit 0; the test asserts.
'use strict';
const fs = require('fs');
const lines = (f) => fs.readFileSync(f, 'utf8').split('\n').filter((l) => l);
const want = new Map();
for (const l of lines(process.argv[2])) {
	const [id, i] = l.split('\t');
	want.set(id, Buffer.from(`chaos ${i}`).toString('hex'));
}
const seen = new Map();
let records = 0, dup = 0, unexpected = 0, damaged = 0;
const ex = { lost: [], duplicated: [], unexpected: [], damaged: [] };
const note = (k, v) => { if (ex[k].length < 5) ex[k].push(v); };
for (const l of lines(process.argv[3])) {
	const [id, , hex] = l.split('\t');
	records++;
	const n = (seen.get(id) || 0) + 1;
	seen.set(id, n);
	if (n > 1) { dup++; note('duplicated', id); }
	if (!want.has(id)) { unexpected++; note('unexpected', id); continue; }
	if (want.get(id) !== hex) { damaged++; note('damaged', `${id} ${hex}`); }
}
let lost = 0;
for (const id of want.keys()) if (!seen.has(id)) { lost++; note('lost', id); }
console.log(`messages=${want.size} records=${records} lost=${lost} ` +
    `duplicated=${dup} unexpected=${unexpected} damaged=${damaged}`);
for (const [k, v] of Object.entries(ex))
	if (v.length) console.error(`${k}: ${v.join(' ')}`);
