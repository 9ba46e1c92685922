/*
 * deliver: read object frames on stdin, store each object in a local
 * directory, Tencent Cloud COS or an S3-compatible store, and print an ack
 * line on stdout for each once the store has confirmed it.  See deliver(1).
 */
#include <err.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "deliver.h"
#include "dest.h"
#include "log.h"

enum {
	OPT_ENDPOINT = 256, OPT_PATH_STYLE, OPT_CREDENTIALS, OPT_STORAGE_CLASS,
	OPT_PART_SIZE, OPT_MULTIPART_THRESHOLD, OPT_RETRIES, OPT_TIMEOUT,
	OPT_MAX_MEMORY
};

static const struct option longopts[] = {
	{ "endpoint",		required_argument, NULL, OPT_ENDPOINT },
	{ "path-style",		no_argument,	   NULL, OPT_PATH_STYLE },
	{ "credentials",	required_argument, NULL, OPT_CREDENTIALS },
	{ "storage-class",	required_argument, NULL, OPT_STORAGE_CLASS },
	{ "jobs",		required_argument, NULL, 'j' },
	{ "part-size",		required_argument, NULL, OPT_PART_SIZE },
	{ "multipart-threshold", required_argument, NULL,
	    OPT_MULTIPART_THRESHOLD },
	{ "retries",		required_argument, NULL, OPT_RETRIES },
	{ "timeout",		required_argument, NULL, OPT_TIMEOUT },
	{ "max-memory",		required_argument, NULL, OPT_MAX_MEMORY },
	{ "progress",		no_argument,	   NULL, 'P' },
	{ "verbose",		no_argument,	   NULL, 'v' },
	{ "help",		no_argument,	   NULL, 'h' },
	{ NULL,			0,		   NULL, 0 }
};

static const char usage_text[] =
"usage: deliver [-Pv] [-j N] [--endpoint URL] [--path-style]\n"
"               [--credentials FILE] [--storage-class CLASS]\n"
"               [--part-size SIZE] [--multipart-threshold SIZE]\n"
"               [--retries N] [--timeout SECONDS] [--max-memory SIZE]\n"
"               DESTINATION\n"
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
"                        https); the bucket goes in front of its host\n"
"  --path-style          put the bucket in the path, not the host name\n"
"  --credentials FILE    read credentials from FILE (KEY=VALUE lines with\n"
"                        the variable names below)\n"
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
"  --timeout SECONDS     a transfer below 1 KB/s for this long is\n"
"                        stalled and retried, default 30\n"
"  --max-memory SIZE     object bytes held in flight, default 256M\n"
"  -P, --progress        a progress line on stderr every second\n"
"  -v, --verbose         say what happens on stderr\n"
"  -h, --help            this text\n"
"SIZE takes a K, M or G suffix (powers of 1024).\n"
"\n"
"Credentials, from the environment (never from the command line):\n"
"  cos://  TENCENTCLOUD_SECRET_ID, TENCENTCLOUD_SECRET_KEY,\n"
"          TENCENTCLOUD_SESSION_TOKEN (or COS_SECRET_ID, COS_SECRET_KEY)\n"
"  s3://   AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN\n"
"\n"
"Exit status: 0 all objects stored and acked, 1 failure, 2 usage.\n";

static void __attribute__((noreturn))
usage(int status)
{
	if (status == EXIT_OK) {
		fputs(usage_text, stdout);
		exit(EXIT_OK);
	}
	fprintf(stderr, "usage: deliver [options] DESTINATION "
	    "(deliver --help for more)\n");
	exit(EXIT_USAGE);
}

/* A size with an optional K, M or G suffix; exits 2 when malformed. */
static unsigned long long
parse_size(const char *s, const char *opt, unsigned long long min,
    unsigned long long max)
{
	unsigned long long v, mul = 1;
	char *end;

	v = strtoull(s, &end, 10);
	if (end != s && *end != '\0' && end[1] == '\0') {
		switch (*end) {
		case 'k': case 'K': mul = 1ULL << 10; end++; break;
		case 'm': case 'M': mul = 1ULL << 20; end++; break;
		case 'g': case 'G': mul = 1ULL << 30; end++; break;
		}
	}
	if (end == s || *end != '\0' || s[0] == '-' || v > max / mul ||
	    v * mul < min) {
		warnx("%s: bad size \"%s\" (%llu to %llu, suffix K, M or G)",
		    opt, s, min, max);
		exit(EXIT_USAGE);
	}
	return v * mul;
}

static long long
parse_num(const char *s, const char *opt, long long min, long long max)
{
	const char *errstr;
	long long v = strtonum(s, min, max, &errstr);

	if (errstr != NULL) {
		warnx("%s: \"%s\" is %s (%lld to %lld)", opt, s, errstr, min,
		    max);
		exit(EXIT_USAGE);
	}
	return v;
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

int
main(int argc, char *argv[])
{
	struct options opt = {
		.jobs = 4, .multipart_threshold = 16ULL << 20, .retries = 10,
		.timeout = 30, .max_memory = 256ULL << 20,
	};
	struct dest d;
	char why[1024];
	int ch, status;

	signal(SIGPIPE, SIG_IGN);	/* a closed stdout is an error */
	while ((ch = getopt_long(argc, argv, "hj:Pv", longopts, NULL)) != -1) {
		switch (ch) {
		case OPT_ENDPOINT: opt.endpoint = optarg; break;
		case OPT_PATH_STYLE: opt.path_style = 1; break;
		case OPT_CREDENTIALS: opt.credentials = optarg; break;
		case OPT_STORAGE_CLASS: opt.storage_class = optarg; break;
		case 'j':
			opt.jobs = (int)parse_num(optarg, "--jobs", 1, 64);
			break;
		case OPT_PART_SIZE:
			opt.part_size = parse_size(optarg, "--part-size",
			    1ULL << 20, 5ULL << 30);
			break;
		case OPT_MULTIPART_THRESHOLD:
			opt.multipart_threshold = parse_size(optarg,
			    "--multipart-threshold", 1ULL << 20, 5ULL << 30);
			break;
		case OPT_RETRIES:
			opt.retries = (int)parse_num(optarg, "--retries", 0,
			    100);
			break;
		case OPT_TIMEOUT:
			opt.timeout = (long)parse_num(optarg, "--timeout", 1,
			    3600);
			break;
		case OPT_MAX_MEMORY:
			opt.max_memory = parse_size(optarg, "--max-memory",
			    1ULL << 20, 1ULL << 40);
			break;
		case 'P': opt.progress = 1; break;
		case 'v': log_level = LOG_LVL_DEBUG; break;
		case 'h': usage(EXIT_OK);
		default: usage(EXIT_USAGE);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != 1)
		usage(EXIT_USAGE);
	if (dest_parse(&d, argv[0], why, sizeof(why)) < 0) {
		warnx("%s", why);
		dest_release(&d);
		return EXIT_USAGE;
	}
	if (d.kind == DEST_FILE) {
		if (opt.endpoint != NULL || opt.path_style ||
		    opt.storage_class != NULL || opt.credentials != NULL) {
			warnx("--endpoint, --path-style, --storage-class and "
			    "--credentials are for cos:// and s3:// "
			    "destinations");
			dest_release(&d);
			return EXIT_USAGE;
		}
		status = deliver_local(&d, &opt);
	} else {
		if (opt.storage_class != NULL &&
		    !storage_class_ok(d.kind, opt.storage_class)) {
			warnx("--storage-class: unknown %s storage class \"%s\" "
			    "(see deliver(1))", d.kind == DEST_COS ? "COS" :
			    "S3", opt.storage_class);
			dest_release(&d);
			return EXIT_USAGE;
		}
		if (dest_endpoint(&d, opt.endpoint, opt.path_style, why,
		    sizeof(why)) < 0) {
			warnx("%s", why);
			dest_release(&d);
			return EXIT_USAGE;
		}
		status = deliver_remote(&d, &opt);
	}
	dest_release(&d);
	return status;
}
