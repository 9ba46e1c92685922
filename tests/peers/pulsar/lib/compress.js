'use strict';
// Payload compression for the test broker. ZLIB through node:zlib (with or
// without the end marker: Java producers use SYNC_FLUSH and never finish the
// stream, so their payload has no final block and no adler32); LZ4, SNAPPY
// and ZSTD through Debian's python3 bindings (codecs.py).
const zlib = require('zlib');
const path = require('path');
const { execFileSync } = require('child_process');

const PY = process.env.LAKEPIPE_PYTHON || '/usr/bin/python3';
const HELPER = path.join(__dirname, 'codecs.py');

// codec name -> CompressionType value
const CODECS = { none: 0, lz4: 1, zlib: 2, 'zlib-nomarker': 2, zstd: 3, snappy: 4 };

function py(op, codec, buf, size) {
  const args = [HELPER, op, codec];
  if (size !== undefined) args.push(String(size));
  return execFileSync(PY, args, { input: buf, maxBuffer: 64 * 1024 * 1024 });
}

function compress(codec, buf) {
  switch (codec || 'none') {
    case 'none': return buf;
    case 'zlib': return zlib.deflateSync(buf);
    case 'zlib-nomarker': return zlib.deflateSync(buf, { finishFlush: zlib.constants.Z_SYNC_FLUSH });
    case 'lz4': case 'snappy': case 'zstd': return py('compress', codec, buf);
    default: throw new Error('unknown codec ' + codec + ' (none, lz4, zlib, zlib-nomarker, zstd, snappy)');
  }
}

// by CompressionType number
function decompress(type, buf, size) {
  switch (type) {
    case 0: return buf;
    case 1: return py('decompress', 'lz4', buf, size);
    case 2: return zlib.inflateSync(buf, { finishFlush: zlib.constants.Z_SYNC_FLUSH });
    case 3: return py('decompress', 'zstd', buf, size);
    case 4: return py('decompress', 'snappy', buf, size);
    default: throw new Error('unknown compression type ' + type);
  }
}

module.exports = { CODECS, compress, decompress };
