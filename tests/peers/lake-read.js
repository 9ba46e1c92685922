#!/usr/bin/env node
// lake-read.js DIR: read every JSON-lines object of a lake directory back
// with DuckDB, an independent reader, and print one line per record:
//
//	message_id <TAB> payload_encoding <TAB> hex of the exact payload bytes
//
// sorted by message id.  It checks on the way that DuckDB's own JSON
// reader (read_json, schema inferred) sees the same records with the
// documented columns, so a file DuckDB cannot read fails here.
//
// The exact payload bytes come from the rule in transform(1): a string is
// decoded, base64 is decoded, and an embedded JSON payload is the
// payload_size bytes of the raw line before its final '}'.  Raw lines are
// read by DuckDB too (read_csv with no delimiter, quote or escape).
'use strict';
const path = require('path');
const { DuckDBInstance } = require(path.join(__dirname, 'node_modules/@duckdb/node-api'));

function sqlstr(s) { return "'" + s.replace(/'/g, "''") + "'"; }

async function main() {
	const dir = process.argv[2];
	if (!dir) {
		console.error('usage: lake-read.js DIR');
		process.exit(2);
	}
	const db = await DuckDBInstance.create(':memory:');
	const c = await db.connect();
	const files = [];
	for (const ext of ['jsonl.gz', 'jsonl', 'jsonl.zst']) {
		const r = await c.runAndReadAll(`SELECT file FROM glob(${sqlstr(dir + '/**/*.' + ext)})`);
		for (const row of r.getRows()) files.push(row[0]);
	}
	if (files.length === 0) {
		console.error('lake-read: no jsonl objects under ' + dir);
		process.exit(1);
	}
	const list = '[' + files.map(sqlstr).join(',') + ']';

	// 1. DuckDB's JSON reader, schema inferred: the columns are there.
	const cols = await c.runAndReadAll(`DESCRIBE SELECT * FROM read_json(${list}, format='newline_delimited')`);
	const names = cols.getRows().map(r => r[0]);
	for (const want of ['message_id', 'topic', 'publish_time', 'properties', 'payload_encoding', 'payload_size', 'payload']) {
		if (!names.includes(want)) {
			console.error('lake-read: column ' + want + ' missing; have ' + names.join(','));
			process.exit(1);
		}
	}
	const viaJson = await c.runAndReadAll(`SELECT count(*)::BIGINT, count(DISTINCT message_id)::BIGINT FROM read_json(${list}, format='newline_delimited')`);
	const [nJson] = viaJson.getRows()[0];

	// 2. Raw lines, to recover exact payload bytes.
	const q = `
	WITH raw AS (
		SELECT line FROM read_csv(${list}, columns={'line': 'VARCHAR'},
			header=false, delim=E'\\x01', quote='', escape='',
			auto_detect=false, null_padding=false)
	), rec AS (
		SELECT json_extract_string(line, '$.message_id') AS id,
		       json_extract_string(line, '$.payload_encoding') AS enc,
		       json_extract(line, '$.payload_size')::BIGINT AS size,
		       line
		FROM raw
	)
	SELECT id, coalesce(enc, 'null'),
	       CASE enc
	         WHEN 'string' THEN hex(encode(json_extract_string(line, '$.payload')))
	         WHEN 'base64' THEN hex(from_base64(json_extract_string(line, '$.payload')))
	         WHEN 'json' THEN substr(hex(encode(line)),
	                  length(hex(encode(line))) - 2 * (size + 1) + 1, 2 * size)
	         ELSE '' END AS payload_hex,
	       size
	FROM rec ORDER BY id`;
	const r = await c.runAndReadAll(q);
	const rows = r.getRows();
	if (BigInt(rows.length) !== BigInt(nJson)) {
		console.error(`lake-read: read_json saw ${nJson} records, raw lines ${rows.length}`);
		process.exit(1);
	}
	const out = [];
	for (const [id, enc, hex, size] of rows) {
		if (enc !== 'null' && hex.length !== 2 * Number(size)) {
			console.error(`lake-read: ${id}: payload_size ${size} but ${hex.length / 2} bytes`);
			process.exit(1);
		}
		out.push(`${id}\t${enc}\t${hex.toLowerCase()}`);
	}
	process.stdout.write(out.join('\n') + (out.length ? '\n' : ''));
}

main().catch(e => { console.error('lake-read: ' + e.message); process.exit(1); });
