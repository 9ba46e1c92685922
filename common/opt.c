/* Numbers, sizes, durations and usage errors; see opt.h. */
#include <err.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "opt.h"

long long
opt_number(const char *opt, const char *arg, long long min, long long max)
{
	const char *errstr;
	long long v = strtonum(arg, min, max, &errstr);

	if (errstr != NULL)
		errx(EXIT_USAGE, "%s: '%s' is %s (%lld to %lld)", opt, arg,
		    strcmp(errstr, "invalid") == 0 ? "not a number" : errstr,
		    min, max);
	return v;
}

int
parse_size(const char *s, uint64_t *v)
{
	unsigned long long n;
	uint64_t mul = 1;
	char *end;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	n = strtoull(s, &end, 10);
	if (errno != 0)
		return -1;
	switch (*end) {
	case '\0': break;
	case 'k': case 'K': mul = 1ULL << 10; end++; break;
	case 'm': case 'M': mul = 1ULL << 20; end++; break;
	case 'g': case 'G': mul = 1ULL << 30; end++; break;
	case 't': case 'T': mul = 1ULL << 40; end++; break;
	default: return -1;
	}
	if ((*end == 'b' || *end == 'B') && mul > 1)
		end++;		/* 8MB, 8mb */
	if (*end != '\0' || n > UINT64_MAX / mul)
		return -1;
	*v = n * mul;
	return 0;
}

/* A size for messages: 1G rather than 1073741824. */
static void
size_text(char *t, size_t n, uint64_t v)
{
	static const char units[] = "kMGT";
	int u = -1;

	while (v >= 1024 && v % 1024 == 0 && u < 3) {
		v /= 1024;
		u++;
	}
	if (u < 0)
		snprintf(t, n, "%llu", (unsigned long long)v);
	else
		snprintf(t, n, "%llu%c", (unsigned long long)v, units[u]);
}

uint64_t
opt_size(const char *opt, const char *arg, uint64_t min, uint64_t max)
{
	char lo[32], hi[32];
	uint64_t v;

	if (parse_size(arg, &v) < 0 || v < min || v > max) {
		size_text(lo, sizeof(lo), min);
		size_text(hi, sizeof(hi), max);
		errx(EXIT_USAGE, "%s: '%s' is not a size from %s to %s "
		    "(bytes, or with k, M or G)", opt, arg, lo, hi);
	}
	return v;
}

int
parse_duration(const char *s, double *v)
{
	static const struct { const char *unit; double secs; } units[] = {
		{ "", 1 }, { "s", 1 }, { "ms", 0.001 }, { "m", 60 },
		{ "min", 60 }, { "h", 3600 }, { "d", 86400 },
	};
	char *end;
	double n;
	size_t i;

	if ((*s < '0' || *s > '9') && *s != '.')
		return -1;
	errno = 0;
	n = strtod(s, &end);
	if (errno != 0 || !isfinite(n) || end == s)
		return -1;
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (strcmp(end, units[i].unit) == 0) {
			*v = n * units[i].secs;
			return 0;
		}
	return -1;
}

/* A duration for messages: 7d rather than 604800. */
static void
duration_text(char *t, size_t n, double v)
{
	if (v >= 86400 && fmod(v, 86400) == 0)
		snprintf(t, n, "%gd", v / 86400);
	else if (v >= 3600 && fmod(v, 3600) == 0)
		snprintf(t, n, "%gh", v / 3600);
	else if (v >= 60 && fmod(v, 60) == 0)
		snprintf(t, n, "%gm", v / 60);
	else
		snprintf(t, n, "%gs", v);
}

double
opt_duration(const char *opt, const char *arg, double min, double max)
{
	char lo[32], hi[32];
	double v;

	if (parse_duration(arg, &v) < 0 || v < min || v > max) {
		duration_text(lo, sizeof(lo), min);
		duration_text(hi, sizeof(hi), max);
		errx(EXIT_USAGE, "%s: '%s' is not a duration from %s to %s "
		    "(seconds, or with ms, s, m, h or d)", opt, arg, lo, hi);
	}
	return v;
}

/* Edit distance, for "did you mean"; small strings only. */
static size_t
distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j, d[64];
	size_t diag, up;

	if (la >= 64 || lb >= 64)
		return 64;
	for (j = 0; j <= lb; j++)
		d[j] = j;
	for (i = 1; i <= la; i++) {
		diag = d[0];
		d[0] = i;
		for (j = 1; j <= lb; j++) {
			up = d[j];
			d[j] = a[i - 1] == b[j - 1] ? diag : 1 + (diag < up ?
			    (diag < d[j - 1] ? diag : d[j - 1]) :
			    (up < d[j - 1] ? up : d[j - 1]));
			diag = up;
		}
	}
	return d[lb];
}

static void __attribute__((noreturn))
bad_option(const char *arg, int missing, const struct option *lo)
{
	const struct option *best = NULL;
	size_t len = strcspn(arg, "="), d, bestd = 3;
	char name[64];

	if (missing)
		errx(EXIT_USAGE, "option '%s' needs a value (see %s --help)",
		    arg, getprogname());
	if (arg[0] == '-' && arg[1] == '-' && len - 2 < sizeof(name)) {
		memcpy(name, arg + 2, len - 2);
		name[len - 2] = '\0';
		for (; lo->name != NULL; lo++)
			if ((d = distance(name, lo->name)) < bestd) {
				bestd = d;
				best = lo;
			}
	}
	if (best != NULL)
		errx(EXIT_USAGE, "unknown option '%.*s' (did you mean --%s?)",
		    (int)len, arg, best->name);
	errx(EXIT_USAGE, "unknown option '%.*s' (see %s --help)", (int)len,
	    arg, getprogname());
}

int
opt_next(int argc, char *const argv[], const char *shortopts,
    const struct option *lo)
{
	char spec[128], shortopt[3] = "-?";
	int ch, lead = *shortopts == '-' || *shortopts == '+';

	if (strlen(shortopts) + 2 > sizeof(spec))
		errx(EXIT_FAIL, "opt_next: option string too long");
	/* "-" or "+" stays first, then ':' for the missing-value case */
	snprintf(spec, sizeof(spec), "%.*s:%s", lead, shortopts,
	    shortopts + lead);
	opterr = 0;
	ch = getopt_long(argc, argv, spec, lo, NULL);
	if (ch != '?' && ch != ':')
		return ch;
	if (optopt != 0) {
		shortopt[1] = (char)optopt;
		/* a long option's missing value also sets optopt */
		bad_option(optind > 0 && optind <= argc &&
		    strncmp(argv[optind - 1], "--", 2) == 0 ?
		    argv[optind - 1] : shortopt, ch == ':', lo);
	}
	bad_option(argv[optind - 1], ch == ':', lo);
}

void
opt_usage_error(const char *synopsis)
{
	errx(EXIT_USAGE, "usage: %s (%s --help for more)", synopsis,
	    getprogname());
}

void
opt_list(const struct option *o)
{
	for (; o->name != NULL; o++)
		printf("%s%s\n", o->name, o->has_arg == required_argument ?
		    "=" : o->has_arg == optional_argument ? "[=]" : "");
	exit(fflush(stdout) == 0 ? EXIT_OK : EXIT_FAIL);
}
