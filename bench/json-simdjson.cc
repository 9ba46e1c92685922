// bench/json-simdjson.cc: libsimdjson's DOM parser (which validates the
// whole document, UTF-8 too) on each line of a file, to weigh it against
// transform's own validator under callgrind (see bench/json-kernels.c and
// BENCH.md).  Not built by make, not linked by lakepipe:
//
//	c++ -O2 -o bench/out/json-simdjson bench/json-simdjson.cc -lsimdjson
//	valgrind --tool=callgrind bench/out/json-simdjson FILE
//
// Each line is parsed where it lies when simdjson's padding fits before
// the end of the file's buffer, as it would be in a frame buffer with
// room after the payload; the count of valid lines is printed.
#include <cstdio>
#include <cstring>
#include <string>
#include <simdjson.h>

int
main(int argc, char **argv)
{
	simdjson::dom::parser parser;
	std::string buf;
	char chunk[65536];
	size_t n, yes = 0;
	FILE *f;

	if (argc != 2 || (f = std::fopen(argv[1], "r")) == NULL) {
		std::fprintf(stderr, "usage: json-simdjson FILE\n");
		return 2;
	}
	while ((n = std::fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf.append(chunk, n);
	std::fclose(f);
	buf.append(simdjson::SIMDJSON_PADDING, ' ');
	const char *p = buf.data(), *end = p + buf.size(), *nl;
	while ((nl = static_cast<const char *>(std::memchr(p, '\n',
	    end - p))) != NULL) {
		simdjson::padded_string_view v(p, nl - p, end - p);
		yes += parser.parse(v).error() == simdjson::SUCCESS;
		p = nl + 1;
	}
	std::printf("%zu\n", yes);
	return 0;
}
