/*
 * The command-line layer every program shares: one parser for numbers,
 * sizes and durations, one shape of error for a bad value
 *
 *	--max-age: '5x' is not a duration (0 to 7d; e.g. 30, 30s, 5m)
 *
 * (one logfmt line, exit status 2), one short usage line on a usage
 * error, and --list-options for lakepipe's rule files.
 */
#ifndef LAKEPIPE_OPT_H
#define LAKEPIPE_OPT_H

#include <getopt.h>
#include <stdint.h>

/* An integer from min to max. */
long long opt_number(const char *opt, const char *arg, long long min,
	    long long max);
/* Bytes: 123, 4k, 8M, 1G (powers of 1024, either case), min to max. */
uint64_t opt_size(const char *opt, const char *arg, uint64_t min,
	    uint64_t max);
/* Seconds: 1.5, 30s, 250ms, 5m, 2h, 1d; min to max seconds. */
double	opt_duration(const char *opt, const char *arg, double min,
	    double max);

/* Parsers that say why instead of exiting; 0 or -1. */
int	parse_size(const char *s, uint64_t *v);
int	parse_duration(const char *s, double *v);

/*
 * getopt_long(3), but a bad option is one line naming it (and the long
 * option meant, for a near miss) and exit status 2; shortopts as for
 * getopt_long, without a leading ':' (added here).
 */
int	opt_next(int argc, char *const argv[], const char *shortopts,
	    const struct option *);

/* "usage: SYNOPSIS (PROG --help for more)" as one line, exit 2. */
void	opt_usage_error(const char *synopsis) __attribute__((noreturn));
/* --list-options: each long option on a line, "name=" if it takes one. */
void	opt_list(const struct option *) __attribute__((noreturn));

#endif
