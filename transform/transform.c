/*
 * transform: message frames in, object frames out.  See transform(1).
 */
#include <ctype.h>
#include <err.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "batch.h"
#include "frame.h"
#include "log.h"
#include "metrics.h"
#include "opt.h"
#include "parquet.h"
#include "workq.h"

#define SYNOPSIS "transform [-qvP] [--format F] [--compress C] " \
	"[--max-messages N] [--max-bytes SIZE] [--max-age DURATION] ..."

static void
usage_text(FILE *fp)
{
	fprintf(fp,
"usage: transform [-qvP] [--format jsonl|raw|csv|parquet]\n"
"                 [--compress gzip|zstd|none] [--parquet-compression CODEC]\n"
"                 [--level N] [--max-messages N] [--max-bytes SIZE]\n"
"                 [--max-age DURATION] [--max-open N] [--key TEMPLATE]\n"
"                 [--part-size SIZE] [--parquet-row-group SIZE]\n"
"                 [--fields SPEC] [--meta SPEC] [--name-separator SEP]\n"
"                 [--csv-delimiter C] [--reject-key TEMPLATE]\n"
"                 [--partition-time publish|event|field:PATH]\n"
"                 [--timezone TZ] [--threads N] [--metrics-file FILE] [--check]\n"
"Reads message frames on stdin, writes one object frame per output file\n"
"on stdout, a batch per topic partition.  Defaults: --format jsonl\n"
"--compress gzip --level 1 --max-messages %d --max-bytes 64M\n"
"--max-age %d --max-open %d (batches open at once: the oldest is\n"
"written when another partition needs one); --max-bytes counts the\n"
"object as stored (compressed).\n"
"--part-size SIZE: an object larger than this goes out as part frames of\n"
"this size, then its object frame (default 8M, at least 5M: S3's\n"
"smallest part; at most 10000 parts an object)\n"
"--max-memory SIZE: what the open batches hold together (default 3 parts,\n"
"24M): past it the oldest batch is written out\n"
"--key '%s'\n"
"(--key v1: the earlier default, '%s')\n"
"Key placeholders: {topic} {tenant} {namespace} {name} {partition} {yyyy}\n"
"{mm} {dd} {hh} {mi} {ss} {date} {first_id} {seq_id} {ext}, and\n"
"{field:PATH}: a payload member's value, as in 'country={field:country}/'.\n"
"Each record is filed under its own time and values: a batch is cut where\n"
"the finest time placeholder or a field value of the key changes.\n"
"--partition-time publish|event|field:PATH: the time of the placeholders\n"
"(event time or the member at PATH, epoch ms or RFC 3339, falls back to\n"
"publish time; default publish)\n"
"--timezone TZ: UTC (default), an offset like +08:00, or a zone name\n"
"like Asia/Shanghai\n"
"--fields SPEC: columns from a JSON payload, path[=name][:type], comma-\n"
"separated; type int64, double, boolean, string or timestamp, e.g.\n"
"  --fields 'id:int64,user.name=user,price:double,ts:timestamp'\n"
"  --fields auto: a column per top-level member, typed from the records\n"
"--meta SPEC: the metadata columns, name[=column] or none; default all:\n"
"  message_id,topic,partition,key,publish_time,event_time,properties,\n"
"  redelivery_count\n"
"--name-separator SEP: joins a path's parts in its column name (default .)\n"
"--parquet-compression snappy|zstd|gzip|none: Parquet's page codec\n"
"(default snappy; --compress does not apply to Parquet objects).\n"
"--parquet-row-group SIZE: a row group is cut when it holds this many\n"
"bytes (default: the part size; transform holds one row group)\n"
"--csv-delimiter C: one byte, default ','; --reject-key: the key of the\n"
"objects of records that cannot be converted, default\n"
"  %s\n"
"--threads N: threads compressing beside the one building records (0 to\n"
"%d; default %d here: the CPUs this process may use, less one, at most 4)\n"
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
	    KEY_DEFAULT_TEMPLATE, KEY_V1_TEMPLATE, REJECT_KEY_DEFAULT,
	    WORKQ_MAX_THREADS, workq_default_threads(),
	    METRICS_INTERVAL);
}

enum { OPT_METRICS = 256, OPT_CHECK, OPT_LIST, OPT_FIELDS, OPT_META,
	OPT_SEP, OPT_DELIM, OPT_REJECT_KEY, OPT_PQ_CODEC, OPT_PART_TIME,
	OPT_TIMEZONE, OPT_PART_SIZE, OPT_PQ_ROW_GROUP, OPT_THREADS,
	OPT_MAX_MEMORY };

static const struct option longopts[] = {
	{ "format",		required_argument, NULL, 'f' },
	{ "compress",		required_argument, NULL, 'c' },
	{ "level",		required_argument, NULL, 'l' },
	{ "max-messages",	required_argument, NULL, 'n' },
	{ "max-bytes",		required_argument, NULL, 'b' },
	{ "max-age",		required_argument, NULL, 'a' },
	{ "max-open",		required_argument, NULL, 'o' },
	{ "key",		required_argument, NULL, 'k' },
	{ "part-size",		required_argument, NULL, OPT_PART_SIZE },
	{ "max-memory",		required_argument, NULL, OPT_MAX_MEMORY },
	{ "fields",		required_argument, NULL, OPT_FIELDS },
	{ "meta",		required_argument, NULL, OPT_META },
	{ "name-separator",	required_argument, NULL, OPT_SEP },
	{ "csv-delimiter",	required_argument, NULL, OPT_DELIM },
	{ "reject-key",		required_argument, NULL, OPT_REJECT_KEY },
	{ "parquet-compression", required_argument, NULL, OPT_PQ_CODEC },
	{ "parquet-row-group",	required_argument, NULL, OPT_PQ_ROW_GROUP },
	{ "partition-time",	required_argument, NULL, OPT_PART_TIME },
	{ "timezone",		required_argument, NULL, OPT_TIMEZONE },
	{ "threads",		required_argument, NULL, OPT_THREADS },
	{ "metrics-file",	required_argument, NULL, OPT_METRICS },
	{ "check",		no_argument,	   NULL, OPT_CHECK },
	{ "list-options",	no_argument,	   NULL, OPT_LIST },
	{ "quiet",		no_argument,	   NULL, 'q' },
	{ "verbose",		no_argument,	   NULL, 'v' },
	{ "progress",		no_argument,	   NULL, 'P' },
	{ "help",		no_argument,	   NULL, 'h' },
	{ NULL, 0, NULL, 0 }
};

static const struct fmt_ops *
format_arg(const char *s)
{
	const struct fmt_ops *f;

	if ((f = format_find(s)) == NULL)
		errx(EXIT_USAGE, "--format: '%s' is not %s", s, format_names);
	return f;
}

/*
 * One byte that cannot be part of a value written unquoted: not a quote,
 * CR, LF, nor a character of numbers and times.
 */
static char
delim_arg(const char *s)
{
	if (strcmp(s, "\\t") == 0 || strcmp(s, "tab") == 0)
		return '\t';
	if (strlen(s) != 1 || strchr("\"\r\n.+-:", s[0]) != NULL ||
	    isalnum((unsigned char)s[0]) || (unsigned char)s[0] >= 0x80)
		errx(EXIT_USAGE, "--csv-delimiter: '%s' is not one byte other "
		    "than a quote, CR, LF, a letter, a digit or . + - :", s);
	return s[0];
}

/* The schema, when --fields, --meta or the format asks for rows. */
static void
schema_args(struct options *o, const char *fields, const char *meta,
    const char *sep)
{
	char why[256];

	if (o->format == &fmt_raw && (fields != NULL || meta != NULL))
		errx(EXIT_USAGE, "--fields and --meta do not apply to "
		    "--format raw (payloads as they are)");
	o->rows = fields != NULL || meta != NULL || o->format->needs_row;
	if (!o->rows)
		return;
	if (schema_parse(&o->schema, meta, fields, sep, fields == NULL, why,
	    sizeof(why)) < 0)
		errx(EXIT_USAGE, "%s", why);
	o->conf.schema = &o->schema;
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

/* publish, event or field:PATH (a path as {field:PATH}'s, key.h) */
static void
part_time_arg(struct keytime *kt, const char *s)
{
	memset(kt, 0, sizeof(*kt));
	if (strcmp(s, "publish") == 0)
		return;
	if (strcmp(s, "event") == 0) {
		kt->event = 1;
		return;
	}
	if (strncmp(s, "field:", 6) != 0)
		errx(EXIT_USAGE, "--partition-time: '%s' is not publish, event "
		    "or field:PATH", s);
	if (!key_field_path_ok(s + 6, strlen(s + 6)))
		errx(EXIT_USAGE, "--partition-time: '%s' is not field:PATH with "
		    "PATH member names joined by '.', like field:ts", s);
	kt->path = s + 6;
	kt->pathlen = strlen(kt->path);
}

/*
 * An object is at most 10000 parts (S3's limit, and so lakepipe's for
 * every destination); the row group defaults to the part size, so that
 * transform holds one row group and one part of a Parquet object, and
 * --max-memory to MEMORY_PARTS parts, so that one object goes out in
 * parts however many are open beside it.
 */
static void
parts_args(struct options *o)
{
	if (o->max_bytes / o->part_size >= MAX_PARTS)
		errx(EXIT_USAGE, "--max-bytes: %llu bytes would be more than "
		    "%d parts of --part-size %zu: raise --part-size",
		    (unsigned long long)o->max_bytes, MAX_PARTS,
		    o->part_size);
	if (o->conf.parquet_row_group == 0)
		o->conf.parquet_row_group = o->part_size;
	if (o->max_memory == 0)
		o->max_memory = MEMORY_PARTS * o->part_size;
}

int
main(int argc, char *argv[])
{
	static struct tzone tz;
	struct options o;
	const char *level = NULL, *tmpl = KEY_DEFAULT_TEMPLATE;
	const char *metrics = NULL, *rtmpl = REJECT_KEY_DEFAULT;
	const char *fields = NULL, *meta = NULL, *sep = ".";
	char why[256];
	int ch, check = 0, rc;

	log_init("transform");
	memset(&o, 0, sizeof(o));
	o.format = &fmt_jsonl;
	o.conf.csv_delim = ',';
	o.conf.parquet_codec = PQ_SNAPPY;
	o.codec = CODEC_GZIP;
	o.max_messages = DEFAULT_MAX_MESSAGES;
	o.max_bytes = DEFAULT_MAX_BYTES;
	o.part_size = DEFAULT_PART_SIZE;
	o.max_age = DEFAULT_MAX_AGE;
	o.max_open = DEFAULT_MAX_OPEN;
	o.tz = &tz;		/* zeroed: UTC */
	o.threads = workq_default_threads();
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
			    MAX_MAX_BYTES);
			break;
		case OPT_PART_SIZE:
			o.part_size = (size_t)opt_size("--part-size", optarg,
			    MIN_PART_SIZE, FRAME_DEFAULT_MAX_BODY);
			break;
		case OPT_MAX_MEMORY:
			o.max_memory = (size_t)opt_size("--max-memory", optarg,
			    1 << 20, SIZE_MAX / 2);
			break;
		case OPT_PQ_ROW_GROUP:
			o.conf.parquet_row_group = (size_t)opt_size(
			    "--parquet-row-group", optarg, 64 * 1024,
			    FRAME_DEFAULT_MAX_BODY);
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
		case OPT_FIELDS: fields = optarg; break;
		case OPT_META: meta = optarg; break;
		case OPT_SEP: sep = optarg; break;
		case OPT_DELIM: o.conf.csv_delim = delim_arg(optarg); break;
		case OPT_REJECT_KEY: rtmpl = optarg; break;
		case OPT_PQ_CODEC:
			if ((o.conf.parquet_codec = pq_codec_parse(optarg)) < 0)
				errx(EXIT_USAGE, "--parquet-compression: '%s' "
				    "is not snappy, zstd, gzip or none", optarg);
			break;
		case OPT_PART_TIME: part_time_arg(&o.ktime, optarg); break;
		case OPT_TIMEZONE:
			if (tz_parse(&tz, optarg, why, sizeof(why)) < 0)
				errx(EXIT_USAGE, "--timezone: %s", why);
			break;
		case OPT_THREADS:
			o.threads = (int)opt_number("--threads", optarg, 0,
			    WORKQ_MAX_THREADS);
			break;
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
	parts_args(&o);
	if (strcmp(tmpl, "v1") == 0)
		tmpl = KEY_V1_TEMPLATE;
	if (key_tmpl_parse(&o.key, tmpl, why, sizeof(why)) < 0)
		errx(EXIT_USAGE, "--key: %s", why);
	if (key_tmpl_parse(&o.reject_key, rtmpl, why, sizeof(why)) < 0)
		errx(EXIT_USAGE, "--reject-key: %s", why);
	schema_args(&o, fields, meta, sep);
	if (!check) {
		metrics_init(metrics, "transform");
		rc = transform_run(&o, STDIN_FILENO, STDOUT_FILENO);
	} else
		rc = EXIT_OK;
	key_tmpl_free(&o.key);
	key_tmpl_free(&o.reject_key);
	schema_free(&o.schema);
	return rc;
}
