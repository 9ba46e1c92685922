/*
 * transform: message frames in, object frames out.  See transform(1).
 */
#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "batch.h"
#include "log.h"

static void
usage_text(FILE *fp)
{
	fprintf(fp,
"usage: transform [-vP] [--format jsonl|raw] [--compress gzip|zstd|none]\n"
"                 [--level N] [--max-messages N] [--max-bytes N[k|M|G]]\n"
"                 [--max-age SECONDS] [--max-open N] [--key TEMPLATE]\n"
"Reads message frames on stdin, writes one object frame per output file\n"
"on stdout, a batch per topic partition.  Defaults: --format jsonl\n"
"--compress gzip --level 1 --max-messages %d --max-bytes 64M\n"
"--max-age %d --max-open %d (batches open at once: the oldest is\n"
"written when another partition needs one)\n"
"--key '%s'\n"
"Key placeholders: {topic} {tenant} {namespace} {name} {partition} {yyyy}\n"
"{mm} {dd} {hh} {mi} {ss} {date} {first_id} {ext}.  See transform(1).\n",
	    DEFAULT_MAX_MESSAGES, DEFAULT_MAX_AGE, DEFAULT_MAX_OPEN,
	    KEY_DEFAULT_TEMPLATE);
}

static void __attribute__((noreturn))
usage(void)
{
	usage_text(stderr);
	exit(EXIT_USAGE);
}

/* A byte count with an optional binary suffix k, M or G. */
static uint64_t
parse_size(const char *s, const char *opt)
{
	char *end;
	unsigned long long v;
	uint64_t mult = 1;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (end == s || errno != 0 || *s == '-')
		goto bad;
	switch (*end) {
	case '\0':
		break;
	case 'k': case 'K':
		mult = 1024;
		break;
	case 'm': case 'M':
		mult = 1024 * 1024;
		break;
	case 'g': case 'G':
		mult = 1024 * 1024 * 1024;
		break;
	default:
		goto bad;
	}
	if (*end != '\0' && end[1] != '\0')
		goto bad;
	if (v == 0 || v > (1ULL << 30) / mult)
		goto bad;
	return v * mult;
bad:
	errx(EXIT_USAGE, "%s: bad size '%s' (1 to 1G bytes; suffix k, M or "
	    "G)", opt, s);
}

static double
parse_age(const char *s)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (end == s || *end != '\0' || errno != 0 || !isfinite(v) || v < 0 ||
	    v > 7 * 86400)
		errx(EXIT_USAGE, "--max-age: bad number of seconds '%s' (0 to "
		    "604800; 0: no age limit)", s);
	return v;
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "format",		required_argument, NULL, 'f' },
		{ "compress",		required_argument, NULL, 'c' },
		{ "level",		required_argument, NULL, 'l' },
		{ "max-messages",	required_argument, NULL, 'n' },
		{ "max-bytes",		required_argument, NULL, 'b' },
		{ "max-age",		required_argument, NULL, 'a' },
		{ "max-open",		required_argument, NULL, 'o' },
		{ "key",		required_argument, NULL, 'k' },
		{ "verbose",		no_argument,	   NULL, 'v' },
		{ "progress",		no_argument,	   NULL, 'P' },
		{ "help",		no_argument,	   NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct options o;
	const char *errstr, *level = NULL, *tmpl = KEY_DEFAULT_TEMPLATE;
	char why[256];
	int ch, c, rc;

	memset(&o, 0, sizeof(o));
	o.format = FMT_JSONL;
	o.codec = CODEC_GZIP;
	o.max_messages = DEFAULT_MAX_MESSAGES;
	o.max_bytes = DEFAULT_MAX_BYTES;
	o.max_age = DEFAULT_MAX_AGE;
	o.max_open = DEFAULT_MAX_OPEN;
	while ((ch = getopt_long(argc, argv, "a:b:c:f:hk:l:n:o:Pv", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'f':
			if (strcmp(optarg, "jsonl") == 0)
				o.format = FMT_JSONL;
			else if (strcmp(optarg, "raw") == 0)
				o.format = FMT_RAW;
			else
				errx(EXIT_USAGE, "--format: '%s' is not jsonl "
				    "or raw", optarg);
			break;
		case 'c':
			if ((c = codec_parse(optarg)) < 0)
				errx(EXIT_USAGE, "--compress: '%s' is not "
				    "gzip, zstd or none", optarg);
			o.codec = (enum codec)c;
			break;
		case 'l':
			level = optarg;
			break;
		case 'n':
			o.max_messages = strtonum(optarg, 1, 100000000,
			    &errstr);
			if (errstr != NULL)
				errx(EXIT_USAGE, "--max-messages: '%s' is %s "
				    "(1 to 100000000)", optarg, errstr);
			break;
		case 'b':
			o.max_bytes = parse_size(optarg, "--max-bytes");
			break;
		case 'a':
			o.max_age = parse_age(optarg);
			break;
		case 'o':
			o.max_open = strtonum(optarg, 1, MAX_MAX_OPEN, &errstr);
			if (errstr != NULL)
				errx(EXIT_USAGE, "--max-open: '%s' is %s (1 to "
				    "%d)", optarg, errstr, MAX_MAX_OPEN);
			break;
		case 'k':
			tmpl = optarg;
			break;
		case 'v':
			log_verbosity++;
			break;
		case 'P':
			o.progress = 1;
			break;
		case 'h':
			usage_text(stdout);
			exit(EXIT_OK);
		default:
			usage();
		}
	}
	if (optind != argc) {
		warnx("unexpected argument '%s' (input is stdin)",
		    argv[optind]);
		usage();
	}
	o.level = codec_default_level(o.codec);
	if (level != NULL) {
		o.level = strtonum(level, codec_min_level(o.codec),
		    codec_max_level(o.codec), &errstr);
		if (errstr != NULL)
			errx(EXIT_USAGE, "--level: '%s' is %s for --compress "
			    "%s (%d to %d)", level, errstr, codec_enc(o.codec) ?
			    codec_enc(o.codec) : "none",
			    codec_min_level(o.codec), codec_max_level(o.codec));
	}
	if (key_tmpl_parse(&o.key, tmpl, why, sizeof(why)) < 0)
		errx(EXIT_USAGE, "--key: %s", why);
	rc = transform_run(&o, STDIN_FILENO, STDOUT_FILENO);
	key_tmpl_free(&o.key);
	return rc;
}
