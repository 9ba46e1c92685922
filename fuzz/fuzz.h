/*
 * fuzz: what the harnesses in fuzz/ share.  Each fuzz/fuzz-TARGET.c
 * defines the libFuzzer entry point below over one parser of lakepipe;
 * its first line names the program objects it links, as the unit tests'
 * do ("unit: consume/pulsar_proto.c ...").  `make fuzz` links each with
 * libFuzzer (build/fuzz/fuzz/fuzz-TARGET); every build also links each
 * with regress-main.c (fuzz/regress-TARGET), which runs it over files,
 * so that tests/t0002 replays the corpus and every crash found
 * (fuzz/corpus/TARGET, fuzz/regress/TARGET) under `make check`.
 *
 * A harness must not leak, must not print on success, and calls
 * fuzz_fail() (abort) when a property it checks does not hold, so that
 * a wrong answer counts as a crash like a bad memory access.
 */
#ifndef LAKEPIPE_FUZZ_H
#define LAKEPIPE_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define fuzz_fail(why)	do {						\
	fprintf(stderr, "%s:%d: property failed: %s\n", __FILE__,	\
	    __LINE__, (why));						\
	abort();							\
} while (0)

#define fuzz_check(cond)	do {					\
	if (!(cond))							\
		fuzz_fail(#cond);					\
} while (0)

#endif
