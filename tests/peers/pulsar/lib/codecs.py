#!/usr/bin/python3
# Compression helper of the lakepipe test broker: Debian's python3-lz4,
# python3-snappy and python3-zstandard (real libraries, independent of
# lakepipe's C code). Usage: codecs.py compress|decompress lz4|snappy|zstd [size]
# reads stdin, writes stdout. LZ4 is the raw block format (no frame, no
# stored size: Pulsar carries uncompressed_size in MessageMetadata), SNAPPY
# the raw block format, ZSTD a normal zstd frame.
import sys

def main():
    op, codec = sys.argv[1], sys.argv[2]
    size = int(sys.argv[3]) if len(sys.argv) > 3 else 0
    data = sys.stdin.buffer.read()
    if codec == 'lz4':
        import lz4.block
        out = (lz4.block.compress(data, store_size=False) if op == 'compress'
               else lz4.block.decompress(data, uncompressed_size=size))
    elif codec == 'snappy':
        import snappy
        out = snappy.compress(data) if op == 'compress' else snappy.uncompress(data)
    elif codec == 'zstd':
        import zstandard
        out = (zstandard.ZstdCompressor().compress(data) if op == 'compress'
               else zstandard.ZstdDecompressor().decompress(data, max_output_size=max(size, 1)))
    else:
        sys.exit('unknown codec ' + codec)
    sys.stdout.buffer.write(out)

main()
