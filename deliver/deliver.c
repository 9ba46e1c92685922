/*
 * deliver: read object frames on stdin, store each object in a local
 * directory, Tencent Cloud COS or an S3-compatible store, and print an ack
 * line on stdout for each once the store has confirmed it.  See deliver(1).
 */
#include <err.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "creds.h"
#include "deliver.h"
#include "dest.h"
#include "index.h"
#include "log.h"
#include "metrics.h"
#include "object.h"
#include "opt.h"

#define SYNOPSIS "deliver [-qvP] [-j N] [--endpoint URL] " \
	"[--credentials FILE] [--exactly-once] [options] DESTINATION | " \
	"--probe | --list | --cat KEY | --index | --audit DESTINATION"

enum {
	OPT_ENDPOINT = 256, OPT_PATH_STYLE, OPT_CREDENTIALS, OPT_STORAGE_CLASS,
	OPT_PART_SIZE, OPT_MULTIPART_THRESHOLD, OPT_RETRIES, OPT_TIMEOUT,
	OPT_MAX_MEMORY, OPT_METRICS, OPT_CHECK, OPT_LIST_OPTIONS, OPT_PROBE,
	OPT_LIST, OPT_CAT, OPT_EXACTLY_ONCE, OPT_INDEX, OPT_AUDIT, OPT_TOPIC,
	OPT_RANGES, OPT_ORPHAN_AGE, OPT_INSECURE, OPT_MARKERS, OPT_PARTITIONS,
	OPT_MARKER_IDLE
};

static const struct option longopts[] = {
	{ "endpoint",		required_argument, NULL, OPT_ENDPOINT },
	{ "path-style",		no_argument,	   NULL, OPT_PATH_STYLE },
	{ "credentials",	required_argument, NULL, OPT_CREDENTIALS },
	{ "insecure",		no_argument,	   NULL, OPT_INSECURE },
	{ "storage-class",	required_argument, NULL, OPT_STORAGE_CLASS },
	{ "jobs",		required_argument, NULL, 'j' },
	{ "part-size",		required_argument, NULL, OPT_PART_SIZE },
	{ "multipart-threshold", required_argument, NULL,
	    OPT_MULTIPART_THRESHOLD },
	{ "retries",		required_argument, NULL, OPT_RETRIES },
	{ "timeout",		required_argument, NULL, OPT_TIMEOUT },
	{ "max-memory",		required_argument, NULL, OPT_MAX_MEMORY },
	{ "metrics-file",	required_argument, NULL, OPT_METRICS },
	{ "check",		no_argument,	   NULL, OPT_CHECK },
	{ "list-options",	no_argument,	   NULL, OPT_LIST_OPTIONS },
	{ "probe",		no_argument,	   NULL, OPT_PROBE },
	{ "list",		no_argument,	   NULL, OPT_LIST },
	{ "cat",		required_argument, NULL, OPT_CAT },
	{ "exactly-once",	no_argument,	   NULL, OPT_EXACTLY_ONCE },
	{ "index",		no_argument,	   NULL, OPT_INDEX },
	{ "ranges",		no_argument,	   NULL, OPT_RANGES },
	{ "orphan-age",		required_argument, NULL, OPT_ORPHAN_AGE },
	{ "markers",		no_argument,	   NULL, OPT_MARKERS },
	{ "partitions",		required_argument, NULL, OPT_PARTITIONS },
	{ "marker-idle",	required_argument, NULL, OPT_MARKER_IDLE },
	{ "audit",		no_argument,	   NULL, OPT_AUDIT },
	{ "topic",		required_argument, NULL, OPT_TOPIC },
	{ "progress",		no_argument,	   NULL, 'P' },
	{ "quiet",		no_argument,	   NULL, 'q' },
	{ "verbose",		no_argument,	   NULL, 'v' },
	{ "help",		no_argument,	   NULL, 'h' },
	{ NULL,			0,		   NULL, 0 }
};

static const char usage_text[] =
"usage: deliver [-qvP] [-j N] [--endpoint URL] [--path-style]\n"
"               [--credentials FILE | instance-role[:ROLE]] [--insecure]\n"
"               [--storage-class CLASS]\n"
"               [--part-size SIZE] [--multipart-threshold SIZE]\n"
"               [--retries N] [--timeout DURATION] [--max-memory SIZE]\n"
"               [--metrics-file FILE] [--orphan-age DURATION]\n"
"               [--exactly-once] [--markers [--partitions N]\n"
"               [--marker-idle DURATION]] [--check]\n"
"               DESTINATION\n"
"       deliver --probe [options] DESTINATION\n"
"       deliver --list [options] DESTINATION\n"
"       deliver --cat KEY [options] DESTINATION\n"
"       deliver --index | --audit [--topic TOPIC]... [options] DESTINATION\n"
"       deliver --ranges --topic TOPIC... [options] DESTINATION\n"
"\n"
"Reads object frames on stdin, stores each object under DESTINATION, and\n"
"prints \"A key=KEY seqs=SEQS ...\" on stdout once it is stored.\n"
"\n"
"DESTINATION:\n"
"  file:///ABSOLUTE/DIR/                  a local directory\n"
"  cos://BUCKET-APPID/PREFIX/?region=R    Tencent Cloud COS, e.g.\n"
"      cos://lake-1250000000/backup/?region=ap-guangzhou\n"
"  s3://BUCKET/PREFIX/?region=R           an S3-compatible store\n"
"  PREFIX is empty or ends with '/'.\n"
"\n"
"Options:\n"
"  --endpoint URL        store address instead of the region's (http or\n"
"                        https); the bucket goes in front of its host,\n"
"                        or in the path if it is an IP or localhost\n"
"  --path-style          put the bucket in the path, not the host name\n"
"  --credentials FILE    read credentials from FILE (KEY=VALUE lines with\n"
"                        the variable names below), again when it changes\n"
"  --credentials instance-role[:ROLE]\n"
"                        a CVM instance role's temporary keys from the\n"
"                        metadata service, renewed before they expire\n"
"  --insecure            do not verify the store's TLS certificate\n"
"  --storage-class C     e.g. STANDARD, STANDARD_IA, ARCHIVE (COS),\n"
"                        STANDARD_IA, GLACIER (S3)\n"
"  -j, --jobs N          parallel requests (connections), default 4\n"
"  --part-size SIZE      multipart part size (default: 8M, or larger so\n"
"                        that 10000 parts hold the object)\n"
"  --multipart-threshold SIZE  objects from this size go multipart\n"
"                        (default 16M)\n"
"  --retries N           retries of one request after a transient\n"
"                        failure, default 10 (backoff: full jitter,\n"
"                        0.2 s doubling to 20 s, Retry-After honoured)\n"
"  --timeout DURATION    a transfer below 1 KB/s for this long is\n"
"                        stalled and retried, default 30s\n"
"  --max-memory SIZE     object bytes held in flight, default --jobs\n"
"                        times the part size (32M)\n"
"  --metrics-file FILE   Prometheus text file, replaced every 5 s and\n"
"                        at each object stored\n"
"  --orphan-age DURATION at start, abort multipart uploads under the\n"
"                        prefix older than this (a killed deliver's;\n"
"                        lakepipe run: 1h)\n"
"  --exactly-once        never replace an object; record each one's\n"
"                        manifest in the lake's index (_lakepipe/index/)\n"
"  --markers             write DIR/_SUCCESS (JSON: messages per partition)\n"
"                        once every partition is past a time bucket DIR\n"
"                        (from transform's bucket=; off by default)\n"
"  --partitions N        each topic has N partitions, also those not seen\n"
"                        yet (lakepipe passes the topic's)\n"
"  --marker-idle DURATION  a partition that stored nothing this long holds\n"
"                        no marker back (default 5m)\n"
"  -P, --progress        a progress line on stderr every second\n"
"  -q, --quiet           warnings and errors only\n"
"  -v, --verbose         debug lines too\n"
"  --check               check options, URL and credentials offline:\n"
"                        exit 0, or 2 with one line\n"
"  --probe               check online: credentials, bucket, region, a\n"
"                        probe object written and deleted (5 s a check)\n"
"  --list                KEY<TAB>SIZE<TAB>MTIME of each object stored\n"
"  --cat KEY             an object's bytes on stdout (KEY as --list has)\n"
"  --index               the index lines of what --exactly-once stored\n"
"  --audit               check the lake against its index: gaps,\n"
"                        overlaps, missing and damaged objects (exit 1)\n"
"  --ranges              the message id ranges stored for each --topic\n"
"                        (from the index entries' names: one listing)\n"
"  --topic TOPIC         --index, --ranges, --audit: only this topic\n"
"                        (repeatable)\n"
"  --list-options        the long options, one a line\n"
"  -h, --help            this text\n"
"SIZE: bytes or with k, M, G (1024s); DURATION: seconds or with ms, s, m.\n"
"\n"
"Credentials, from the environment (never from the command line):\n"
"  cos://  TENCENTCLOUD_SECRET_ID, TENCENTCLOUD_SECRET_KEY,\n"
"          TENCENTCLOUD_SESSION_TOKEN (or COS_SECRET_ID, COS_SECRET_KEY)\n"
"  s3://   AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN\n"
"\n"
"A first SIGINT stores and acks all input to its end; a second, or\n"
"SIGTERM, stops at once.  Exit status: 0 all objects stored and acked\n"
"(--probe: every check ok), 1 failure, 2 usage.  See deliver(1).\n";

enum mode {
	MODE_DELIVER, MODE_PROBE, MODE_LIST, MODE_CAT, MODE_INDEX, MODE_AUDIT,
	MODE_RANGES
};

static void
set_mode(enum mode *m, enum mode want)
{
	if (*m != MODE_DELIVER && *m != want)
		errx(EXIT_USAGE, "--probe, --list, --cat, --index, --ranges and "
		    "--audit go one at a time");
	*m = want;
}

/* The storage classes each kind of store knows. */
static int
storage_class_ok(enum dest_kind kind, const char *c)
{
	static const char *const cos[] = {
		"STANDARD", "STANDARD_IA", "INTELLIGENT_TIERING", "ARCHIVE",
		"DEEP_ARCHIVE", "MAZ_STANDARD", "MAZ_STANDARD_IA",
		"MAZ_INTELLIGENT_TIERING", NULL
	};
	static const char *const s3[] = {
		"STANDARD", "STANDARD_IA", "ONEZONE_IA", "INTELLIGENT_TIERING",
		"GLACIER", "GLACIER_IR", "DEEP_ARCHIVE", "REDUCED_REDUNDANCY",
		"EXPRESS_ONEZONE", NULL
	};
	const char *const *p;

	for (p = kind == DEST_COS ? cos : s3; *p != NULL; p++)
		if (strcmp(*p, c) == 0)
			return 1;
	return 0;
}

/* Everything that can be checked offline; exits 2 with one line. */
static void
check_dest(struct dest *d, const struct options *opt, enum mode mode)
{
	char why[1024];

	if (d->kind == DEST_FILE) {
		if (opt->endpoint != NULL || opt->path_style ||
		    opt->storage_class != NULL || opt->credentials != NULL)
			errx(EXIT_USAGE, "--endpoint, --path-style, "
			    "--storage-class and --credentials are for cos:// "
			    "and s3:// destinations");
		/* --insecure is not refused: a rule gives it to consume too */
		return;
	}
	if (opt->storage_class != NULL &&
	    !storage_class_ok(d->kind, opt->storage_class))
		errx(EXIT_USAGE, "--storage-class: unknown %s storage class "
		    "'%s' (see deliver(1))", d->kind == DEST_COS ? "COS" : "S3",
		    opt->storage_class);
	if (dest_endpoint(d, opt->endpoint, opt->path_style, why,
	    sizeof(why)) < 0)
		errx(EXIT_USAGE, "%s", why);
	if (d->auto_path_style)
		log_debug("path-style addressing", "endpoint=%s base=%s "
		    "why=%s", opt->endpoint, d->base, "an IP address or "
		    "localhost has no bucket names below it");
	/* --probe says so as one of its checks */
	if (mode != MODE_PROBE) {
		if (creds_check(d->kind, opt->credentials, why,
		    sizeof(why)) < 0)
			errx(EXIT_USAGE, "%s", why);
	}
	if (opt->insecure)
		log_warn("TLS certificates are not verified (--insecure): "
		    "anyone on the way can read and change what is stored",
		    "host=%s", d->host);
}

static int
run(const struct dest *d, const struct options *opt, enum mode mode,
    const char *key)
{
	switch (mode) {
	case MODE_PROBE:
		return deliver_probe(d, opt);
	case MODE_LIST:
		return deliver_list(d, opt);
	case MODE_CAT:
		return deliver_cat(d, opt, key);
	case MODE_INDEX:
		return deliver_index(d, opt);
	case MODE_AUDIT:
		return deliver_audit(d, opt);
	case MODE_RANGES:
		return deliver_ranges(d, opt);
	default:
		break;
	}
	metrics_init(opt->metrics_file, "deliver");
	return d->kind == DEST_FILE ? deliver_local(d, opt) :
	    deliver_remote(d, opt);
}

int
main(int argc, char *argv[])
{
	struct options opt = {
		.jobs = 4, .multipart_threshold = 16ULL << 20, .retries = 10,
		.timeout = 30, .orphan_age = -1,
		.marker_idle = 300,
	};
	struct dest d;
	enum mode mode = MODE_DELIVER;
	const char *key = NULL, *kwhy, *marker_opt = NULL;
	char why[1024];
	int ch, check = 0, status;

	log_init("deliver");
	signal(SIGPIPE, SIG_IGN);	/* a closed stdout is an error */
	while ((ch = opt_next(argc, argv, "hj:Pqv", longopts)) != -1) {
		switch (ch) {
		case OPT_ENDPOINT: opt.endpoint = optarg; break;
		case OPT_PATH_STYLE: opt.path_style = 1; break;
		case OPT_CREDENTIALS: opt.credentials = optarg; break;
		case OPT_INSECURE: opt.insecure = 1; break;
		case OPT_STORAGE_CLASS: opt.storage_class = optarg; break;
		case 'j':
			opt.jobs = (int)opt_number("--jobs", optarg, 1, 64);
			break;
		case OPT_PART_SIZE:
			opt.part_size = opt_size("--part-size", optarg,
			    1ULL << 20, 5ULL << 30);
			break;
		case OPT_MULTIPART_THRESHOLD:
			opt.multipart_threshold = opt_size(
			    "--multipart-threshold", optarg, 1ULL << 20,
			    5ULL << 30);
			break;
		case OPT_RETRIES:
			opt.retries = (int)opt_number("--retries", optarg, 0,
			    100);
			break;
		case OPT_TIMEOUT:
			/* libcurl counts whole seconds */
			opt.timeout = (long)ceil(opt_duration("--timeout",
			    optarg, 1, 3600));
			break;
		case OPT_MAX_MEMORY:
			opt.max_memory = opt_size("--max-memory", optarg,
			    1ULL << 20, 1ULL << 40);
			break;
		case OPT_METRICS: opt.metrics_file = optarg; break;
		case OPT_CHECK: check = 1; break;
		case OPT_LIST_OPTIONS: opt_list(longopts);
		case OPT_PROBE: set_mode(&mode, MODE_PROBE); break;
		case OPT_LIST: set_mode(&mode, MODE_LIST); break;
		case OPT_CAT:
			set_mode(&mode, MODE_CAT);
			key = optarg;
			break;
		case OPT_EXACTLY_ONCE: opt.exactly_once = 1; break;
		case OPT_INDEX: set_mode(&mode, MODE_INDEX); break;
		case OPT_RANGES: set_mode(&mode, MODE_RANGES); break;
		case OPT_ORPHAN_AGE:
			opt.orphan_age = opt_duration("--orphan-age", optarg, 0,
			    365 * 86400.0);
			break;
		case OPT_AUDIT: set_mode(&mode, MODE_AUDIT); break;
		case OPT_MARKERS: opt.markers = 1; break;
		case OPT_PARTITIONS:
			opt.partitions = (long)opt_number("--partitions", optarg,
			    1, 100000);
			marker_opt = "--partitions";
			break;
		case OPT_MARKER_IDLE:
			opt.marker_idle = opt_duration("--marker-idle", optarg,
			    0.1, 30 * 86400.0);
			marker_opt = "--marker-idle";
			break;
		case OPT_TOPIC:
			opt.topics = xreallocarray(opt.topics, opt.ntopics + 1,
			    sizeof(*opt.topics));
			opt.topics[opt.ntopics++] = optarg;
			break;
		case 'P': opt.progress = 1; break;
		case 'q': log_level = LOG_LVL_WARN; break;
		case 'v': log_level = LOG_LVL_DEBUG; break;
		case 'h':
			fputs(usage_text, stdout);
			return EXIT_OK;
		default:
			opt_usage_error(SYNOPSIS);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc == 0)
		errx(EXIT_USAGE, "no DESTINATION (file:///DIR/, "
		    "cos://BUCKET-APPID/PREFIX/?region=R or "
		    "s3://BUCKET/PREFIX/?region=R)");
	if (argc > 1)
		errx(EXIT_USAGE, "unexpected argument '%.100s' after the "
		    "DESTINATION (see deliver --help)", argv[1]);
	if (dest_parse(&d, argv[0], why, sizeof(why)) < 0)
		errx(EXIT_USAGE, "%s", why);
	/*
	 * A body of the part size uploading on each connection: reading
	 * further ahead adds no speed, a slow store only fills memory
	 * (256M as the default held 278 MB against a store that answered
	 * each PUT a second late, 32M 51 MB, in the same 20 s).
	 */
	if (opt.max_memory == 0)
		opt.max_memory = (uint64_t)opt.jobs * (opt.part_size >
		    DEFAULT_PART_SIZE ? opt.part_size : DEFAULT_PART_SIZE);
	check_dest(&d, &opt, mode);
	if (mode == MODE_CAT && (kwhy = object_key_check(key, strlen(key))) !=
	    NULL)
		errx(EXIT_USAGE, "--cat: bad key '%.200s': %s", key, kwhy);
	/*
	 * Ceph's RGW ignores the no-overwrite condition on
	 * CompleteMultipartUpload (a single PUT honours it): exactly once,
	 * objects go as one PUT up to S3's limit of 5 GiB.
	 */
	if (opt.exactly_once)
		opt.multipart_threshold = 5ULL << 30;
	if (opt.ntopics > 0 && mode != MODE_INDEX && mode != MODE_AUDIT &&
	    mode != MODE_RANGES)
		errx(EXIT_USAGE, "--topic goes with --index, --ranges or --audit");
	if (marker_opt != NULL && !opt.markers)
		errx(EXIT_USAGE, "%s goes with --markers", marker_opt);
	if (mode == MODE_RANGES && opt.ntopics == 0)
		errx(EXIT_USAGE, "--ranges needs --topic TOPIC");
	status = check ? EXIT_OK : run(&d, &opt, mode, key);
	free(opt.topics);
	dest_release(&d);
	return status;
}
