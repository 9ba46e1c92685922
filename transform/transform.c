/*
 * transform: message frames in, object frames out.  See transform(1).
 */
#include <err.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "batch.h"
#include "log.h"
#include "metrics.h"
#include "opt.h"

#define SYNOPSIS "transform [-qvP] [--format F] [--compress C] " \
	"[--max-messages N] [--max-bytes SIZE] [--max-age DURATION] ..."

static void
usage_text(FILE *fp)
{
	fprintf(fp,
"usage: transform [-qvP] [--format jsonl|raw] [--compress gzip|zstd|none]\n"
"                 [--level N] [--max-messages N] [--max-bytes SIZE]\n"
"                 [--max-age DURATION] [--max-open N] [--key TEMPLATE]\n"
"                 [--metrics-file FILE] [--check]\n"
"Reads message frames on stdin, writes one object frame per output file\n"
"on stdout, a batch per topic partition.  Defaults: --format jsonl\n"
"--compress gzip --level 1 --max-messages %d --max-bytes 64M\n"
"--max-age %d --max-open %d (batches open at once: the oldest is\n"
"written when another partition needs one)\n"
"--key '%s'\n"
"Key placeholders: {topic} {tenant} {namespace} {name} {partition} {yyyy}\n"
"{mm} {dd} {hh} {mi} {ss} {date} {first_id} {ext}.\n"
"SIZE: bytes or with k, M, G; DURATION: seconds or with ms, s, m, h, d.\n"
"\n"
"  -q, --quiet           warnings and errors only\n"
"  -v, --verbose         a line per object too\n"
"  -P, --progress        a progress line every second\n"
"  --metrics-file FILE   Prometheus text file, rewritten every %d s\n"
"  --check               check the options and exit (0 ok, 2 not)\n"
"  --list-options        the long options, one per line\n"
"A first SIGINT finishes the input and writes every batch; a second, or\n"
"SIGTERM, stops at once.  Exit status: 0 ok, 1 failure, 2 usage.\n"
"See transform(1).\n",
	    DEFAULT_MAX_MESSAGES, DEFAULT_MAX_AGE, DEFAULT_MAX_OPEN,
	    KEY_DEFAULT_TEMPLATE, METRICS_INTERVAL);
}

enum { OPT_METRICS = 256, OPT_CHECK, OPT_LIST };

static const struct option longopts[] = {
	{ "format",		required_argument, NULL, 'f' },
	{ "compress",		required_argument, NULL, 'c' },
	{ "level",		required_argument, NULL, 'l' },
	{ "max-messages",	required_argument, NULL, 'n' },
	{ "max-bytes",		required_argument, NULL, 'b' },
	{ "max-age",		required_argument, NULL, 'a' },
	{ "max-open",		required_argument, NULL, 'o' },
	{ "key",		required_argument, NULL, 'k' },
	{ "metrics-file",	required_argument, NULL, OPT_METRICS },
	{ "check",		no_argument,	   NULL, OPT_CHECK },
	{ "list-options",	no_argument,	   NULL, OPT_LIST },
	{ "quiet",		no_argument,	   NULL, 'q' },
	{ "verbose",		no_argument,	   NULL, 'v' },
	{ "progress",		no_argument,	   NULL, 'P' },
	{ "help",		no_argument,	   NULL, 'h' },
	{ NULL, 0, NULL, 0 }
};

static enum format
format_arg(const char *s)
{
	if (strcmp(s, "jsonl") == 0)
		return FMT_JSONL;
	if (strcmp(s, "raw") == 0)
		return FMT_RAW;
	errx(EXIT_USAGE, "--format: '%s' is not jsonl or raw", s);
}

static enum codec
codec_arg(const char *s)
{
	int c;

	if ((c = codec_parse(s)) < 0)
		errx(EXIT_USAGE, "--compress: '%s' is not gzip, zstd or none",
		    s);
	return (enum codec)c;
}

/* --level is checked against the codec, known only once all are read. */
static int
level_arg(enum codec codec, const char *s)
{
	const char *errstr;
	int lv;

	if (s == NULL)
		return codec_default_level(codec);
	lv = strtonum(s, codec_min_level(codec), codec_max_level(codec),
	    &errstr);
	if (errstr != NULL)
		errx(EXIT_USAGE, "--level: '%s' is %s for --compress %s (%d "
		    "to %d)", s, errstr, codec_enc(codec) ? codec_enc(codec) :
		    "none", codec_min_level(codec), codec_max_level(codec));
	return lv;
}

int
main(int argc, char *argv[])
{
	struct options o;
	const char *level = NULL, *tmpl = KEY_DEFAULT_TEMPLATE;
	const char *metrics = NULL;
	char why[256];
	int ch, check = 0, rc;

	log_init("transform");
	memset(&o, 0, sizeof(o));
	o.format = FMT_JSONL;
	o.codec = CODEC_GZIP;
	o.max_messages = DEFAULT_MAX_MESSAGES;
	o.max_bytes = DEFAULT_MAX_BYTES;
	o.max_age = DEFAULT_MAX_AGE;
	o.max_open = DEFAULT_MAX_OPEN;
	while ((ch = opt_next(argc, argv, "a:b:c:f:hk:l:n:o:Pqv", longopts))
	    != -1) {
		switch (ch) {
		case 'f': o.format = format_arg(optarg); break;
		case 'c': o.codec = codec_arg(optarg); break;
		case 'l': level = optarg; break;
		case 'n':
			o.max_messages = (uint64_t)opt_number("--max-messages",
			    optarg, 1, 100000000);
			break;
		case 'b':
			o.max_bytes = opt_size("--max-bytes", optarg, 1,
			    1ULL << 30);
			break;
		case 'a':
			o.max_age = opt_duration("--max-age", optarg, 0,
			    7 * 86400);
			break;
		case 'o':
			o.max_open = (size_t)opt_number("--max-open", optarg, 1,
			    MAX_MAX_OPEN);
			break;
		case 'k': tmpl = optarg; break;
		case OPT_METRICS: metrics = optarg; break;
		case OPT_CHECK: check = 1; break;
		case OPT_LIST: opt_list(longopts);
		case 'q': log_level = LOG_LVL_WARN; break;
		case 'v': log_level = LOG_LVL_DEBUG; break;
		case 'P': o.progress = 1; break;
		case 'h':
			usage_text(stdout);
			exit(EXIT_OK);
		default:
			opt_usage_error(SYNOPSIS);
		}
	}
	if (optind != argc)
		errx(EXIT_USAGE, "unexpected argument '%s' (input is stdin; "
		    "see transform --help)", argv[optind]);
	o.level = level_arg(o.codec, level);
	if (key_tmpl_parse(&o.key, tmpl, why, sizeof(why)) < 0)
		errx(EXIT_USAGE, "--key: %s", why);
	if (check) {
		key_tmpl_free(&o.key);
		return EXIT_OK;
	}
	metrics_init(metrics, "transform");
	rc = transform_run(&o, STDIN_FILENO, STDOUT_FILENO);
	key_tmpl_free(&o.key);
	return rc;
}
