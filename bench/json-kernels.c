/*
 * bench/json-kernels.c: transform's JSON validator on each line of a
 * file with one of the kernels that classify blocks (64-bit words, SSE2,
 * SSSE3, AVX2), so that callgrind counts each alone.  Not built by make:
 *
 *	cc -O2 -D_GNU_SOURCE -Icommon -o bench/out/json-kernels \
 *	    bench/json-kernels.c transform/json_valid.o \
 *	    transform/json_write.o common/liblakepipe.a -lbsd
 *	valgrind --tool=callgrind bench/out/json-kernels word FILE
 *
 * Prints how many lines are JSON containers (the same for each kernel).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "../transform/json.h"

int
main(int argc, char **argv)
{
	static const char *const names[] = { "best", "word", "sse2", "ssse3",
	    "avx2" };
	struct buf b = BUF_INIT;
	char chunk[65536], *p, *nl;
	size_t n, i, yes = 0;
	FILE *f;

	if (argc != 3 || (f = fopen(argv[2], "r")) == NULL) {
		fprintf(stderr, "usage: json-kernels best|word|sse2|ssse3|avx2 "
		    "FILE\n");
		return 2;
	}
	for (i = 0; i < 5 && strcmp(argv[1], names[i]) != 0; i++)
		;
	if (i == 5 || json_kernel_use((enum json_kernel)i) < 0) {
		fprintf(stderr, "json-kernels: no kernel %s here\n", argv[1]);
		return 1;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_add(&b, chunk, n);
	for (p = b.data; (nl = memchr(p, '\n', b.len - (size_t)(p - b.data)))
	    != NULL; p = nl + 1)
		yes += json_is_container(p, (size_t)(nl - p)) != 0;
	printf("%zu\n", yes);
	buf_release(&b);
	fclose(f);
	return 0;
}
