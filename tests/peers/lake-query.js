#!/usr/bin/env node
// lake-query.js SQL...: run each statement with DuckDB (in memory, run
// from the current directory) and print the last one's rows, one a line,
// values tab-separated: NULL as \N, text as it is (a tab, newline or
// backslash in it as \t, \n, \\), other values as DuckDB's text form.
// Exit 1 with DuckDB's message when a statement fails.
'use strict';
const path = require('path');
const { DuckDBInstance } = require(path.join(__dirname, 'node_modules/@duckdb/node-api'));

function text(v) {
	if (v === null || v === undefined)
		return '\\N';
	const s = typeof v === 'string' ? v : String(v);
	return s.replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n').replace(/\r/g, '\\r');
}

async function main() {
	const db = await DuckDBInstance.create(':memory:');
	const c = await db.connect();
	let rows = [];
	for (const q of process.argv.slice(2))
		rows = (await c.runAndReadAll(q)).getRows();
	for (const r of rows)
		console.log(r.map(text).join('\t'));
}

main().catch(e => { console.error('lake-query: ' + e.message); process.exit(1); });
