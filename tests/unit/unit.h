/*
 * A tiny unit test harness: each check prints one TAP line ("ok N - what"
 * or "not ok N - what"), and unit_done() prints the plan and returns the
 * exit status.  tests/run counts the lines.
 */
#ifndef LAKEPIPE_UNIT_H
#define LAKEPIPE_UNIT_H

#include <stdio.h>
#include <string.h>

static int unit_n, unit_failed;

#define CHECK(cond, what) unit_check(!!(cond), (what), __FILE__, __LINE__)
#define CHECK_STR(got, want, what) \
	unit_check_str((got), (want), (what), __FILE__, __LINE__)

static inline int
unit_check(int ok, const char *what, const char *file, int line)
{
	unit_n++;
	if (!ok)
		unit_failed++;
	printf("%sok %d - %s", ok ? "" : "not ", unit_n, what);
	if (!ok)
		printf(" (%s:%d)", file, line);
	putchar('\n');
	return ok;
}

static inline int
unit_check_str(const char *got, const char *want, const char *what,
    const char *file, int line)
{
	int ok = got != NULL && strcmp(got, want) == 0;

	if (!unit_check(ok, what, file, line))
		printf("#   got:  \"%s\"\n#   want: \"%s\"\n",
		    got ? got : "(null)", want);
	return ok;
}

static inline int
unit_done(void)
{
	printf("1..%d\n", unit_n);
	return unit_failed ? 1 : 0;
}

#endif
