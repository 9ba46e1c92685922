#!/usr/bin/env node
// parquet-read.js READER FILE: read a Parquet file with an independent
// reader and print it in one canonical text form, so that two readers (and
// the test's expectation) can be compared with cmp:
//
//	name:type[?] <TAB> ...		the columns; ? if OPTIONAL
//	value <TAB> ...			one line per row, in file order
//
// READER is "duckdb" (@duckdb/node-api) or "hyparquet" (pure JS; GZIP
// pages through Node's zlib, ZSTD pages through the zstd(1) tool, SNAPPY
// its own).  Types: int64 double boolean string binary timestamp (INT64
// with the TIMESTAMP(MILLIS, UTC) logical type).  Values: \N for a null;
// int64 and timestamp in decimal (epoch milliseconds); a double as the hex
// of its 8 little-endian IEEE bytes, or "nan"; a boolean 0 or 1; strings
// and binary as the hex of their bytes.
//
// parquet-read.js meta FILE prints DuckDB's parquet_metadata() as
// tab-separated lines: row_group_id, path_in_schema, num_values, type,
// compression, encodings, stats_min_value, stats_max_value, stats_null_count,
// has_dictionary (dictionary_page_offset not null); then a last line
// "rows N groups N" as hyparquet reads the footer.
'use strict';
const path = require('path');
const fs = require('fs');
const zlib = require('zlib');
const { execFileSync } = require('child_process');
const nm = path.join(__dirname, 'node_modules');

function hex(u8) { return Buffer.from(u8).toString('hex'); }

function dbl(v) {
	if (Number.isNaN(v)) return 'nan';
	const b = Buffer.alloc(8);
	b.writeDoubleLE(v);
	return b.toString('hex');
}

function canon(type, v) {
	if (v === null || v === undefined) return '\\N';
	switch (type) {
	case 'int64': case 'timestamp': return BigInt(v).toString();
	case 'double': return dbl(v);
	case 'boolean': return v ? '1' : '0';
	case 'string': return hex(Buffer.from(v, 'utf8'));
	case 'binary': return hex(v);
	}
	throw new Error('type ' + type);
}

function sqlstr(s) { return "'" + s.replace(/'/g, "''") + "'"; }

async function duck() {
	const { DuckDBInstance } = require(path.join(nm, '@duckdb/node-api'));
	const db = await DuckDBInstance.create(':memory:');
	return db.connect();
}

async function viaDuckdb(file) {
	const c = await duck();
	const f = sqlstr(file);
	const types = { BIGINT: 'int64', DOUBLE: 'double', BOOLEAN: 'boolean',
	    VARCHAR: 'string', BLOB: 'binary',
	    'TIMESTAMP WITH TIME ZONE': 'timestamp' };
	const desc = (await c.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet(${f})`)).getRows();
	const rep = new Map((await c.runAndReadAll(
	    `SELECT name, repetition_type FROM parquet_schema(${f}) WHERE num_children IS NULL`)).getRows());
	const cols = desc.map(([name, t]) => {
		if (!types[t]) throw new Error(`column ${name}: DuckDB type ${t}`);
		return { name, type: types[t], opt: rep.get(name) === 'OPTIONAL' };
	});
	const sel = cols.map(col => {
		const q = '"' + col.name.replace(/"/g, '""') + '"';
		// exact bytes and milliseconds, from DuckDB's own functions
		if (col.type === 'timestamp') return `epoch_ms(${q})::VARCHAR`;
		if (col.type === 'binary') return `hex(${q})`;
		return q;
	});
	const rows = (await c.runAndReadAll(`SELECT ${sel.join(', ')} FROM
	    read_parquet(${f}, file_row_number = true) ORDER BY file_row_number`)).getRows();
	const out = [cols.map(col => col.name + ':' + col.type + (col.opt ? '?' : '')).join('\t')];
	for (const r of rows)
		out.push(r.map((v, i) => {
			if (v === null) return '\\N';
			if (cols[i].type === 'binary') return v.toLowerCase();
			return canon(cols[i].type, v);
		}).join('\t'));
	return out;
}

async function viaHyparquet(file) {
	const hp = await import(path.join(nm, 'hyparquet/src/index.js'));
	const data = fs.readFileSync(file);
	const ab = data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength);
	const meta = hp.parquetMetadata(ab);
	const cols = meta.schema.slice(1).map(e => {
		const lt = e.logical_type;
		let type;
		if (e.type === 'INT64' && lt && lt.type === 'TIMESTAMP' &&
		    lt.unit === 'MILLIS' && lt.isAdjustedToUTC)
			type = 'timestamp';
		else if (e.type === 'INT64' && !lt) type = 'int64';
		else if (e.type === 'DOUBLE') type = 'double';
		else if (e.type === 'BOOLEAN') type = 'boolean';
		else if (e.type === 'BYTE_ARRAY' && lt && lt.type === 'STRING' &&
		    e.converted_type === 'UTF8')
			type = 'string';
		else if (e.type === 'BYTE_ARRAY' && !lt && !e.converted_type) type = 'binary';
		else throw new Error('column ' + e.name + ': ' + JSON.stringify(e));
		return { name: e.name, type, opt: e.repetition_type === 'OPTIONAL' };
	});
	const rows = await hp.parquetReadObjects({
		file: ab, metadata: meta, utf8: false,
		parsers: { timestampFromMilliseconds: v => v },
		compressors: {
			GZIP: input => new Uint8Array(zlib.gunzipSync(input)),
			ZSTD: input => new Uint8Array(execFileSync('zstd',
			    ['-dcq'], { input, maxBuffer: 1 << 30 })),
		},
	});
	const out = [cols.map(col => col.name + ':' + col.type + (col.opt ? '?' : '')).join('\t')];
	for (const r of rows)
		out.push(cols.map(col => canon(col.type, r[col.name])).join('\t'));
	return out;
}

async function meta(file) {
	const c = await duck();
	const f = sqlstr(file);
	const rows = (await c.runAndReadAll(`SELECT row_group_id, path_in_schema,
	    num_values, type, compression, encodings, stats_min_value, stats_max_value,
	    stats_null_count, dictionary_page_offset IS NOT NULL
	    FROM parquet_metadata(${f}) ORDER BY row_group_id, column_id`)).getRows();
	const out = rows.map(r => r.map(v => v === null ? '\\N' : String(v)).join('\t'));
	const hp = await import(path.join(nm, 'hyparquet/src/index.js'));
	const data = fs.readFileSync(file);
	const m = hp.parquetMetadata(data.buffer.slice(data.byteOffset,
	    data.byteOffset + data.byteLength));
	out.push(`rows ${m.num_rows} groups ${m.row_groups.length}`);
	return out;
}

async function main() {
	const [how, file] = process.argv.slice(2);
	const f = { duckdb: viaDuckdb, hyparquet: viaHyparquet, meta }[how];
	if (!f || !file) {
		console.error('usage: parquet-read.js duckdb|hyparquet|meta FILE');
		process.exit(2);
	}
	const out = await f(file);
	process.stdout.write(out.join('\n') + '\n');
}

main().catch(e => { console.error('parquet-read: ' + (e.stack || e)); process.exit(1); });
