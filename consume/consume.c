/*
 * consume: write message frames (lakepipe-frames(5)) on stdout, from a
 * Pulsar topic or replayed from files, and acknowledge what the ack
 * channel reports as stored.  See consume(1).
 */
#include <err.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "log.h"
#include "pump.h"
#include "source.h"
#include "topic.h"

#define DEFAULT_MAX_SIZE	(64 * 1024 * 1024)
#define DEFAULT_MAX_UNACKED	1000000

#define SYNOPSIS \
"usage: consume [options] --lines FILE... | --frames FILE...\n" \
"       consume [options] --url URL --topic TOPIC --subscription NAME\n"

/* The synopsis on a usage error, everything for --help. */
static void
usage(FILE *fp, int status)
{
	if (status != EXIT_OK) {
		fputs(SYNOPSIS, fp);
		exit(status);
	}
	fputs(SYNOPSIS
"\n"
"Write message frames on stdout, replayed from files or read from Pulsar.\n"
"\n"
"Replay (FILE - is stdin; more FILE operands take the last mode):\n"
"  --lines FILE           one message per line\n"
"  --frames FILE          a frame file: messages get fresh seqs\n"
"  --topic TOPIC          topic of replayed lines (default: replay, that is\n"
"                         persistent://public/default/replay)\n"
"  --publish-time MS      publish time of every line (default: the file's\n"
"                         mtime, now for stdin)\n"
"  --max-size BYTES       longest line or frame body (default 64 MiB)\n"
"\n"
"Pulsar (TDMQ console backup form -> option):\n"
"  --url URL              access address: pulsar://HOST:6650,\n"
"                         pulsar+ssl://HOST:6651, http://HOST:8080, https://\n"
"  --topic TOPIC          cluster/namespace/topic, e.g. pulsar-xxxx/ns/topic,\n"
"                         or persistent://TENANT/NS/TOPIC\n"
"  --subscription NAME    subscription (required; never invented)\n"
"  --type TYPE            exclusive (default), shared, failover, key_shared\n"
"  --start POS            start point: earliest (default), latest,\n"
"                         TIMESTAMP_MS, or LEDGER:ENTRY\n"
"  --token-file FILE      role key (token); or env PULSAR_TOKEN\n"
"  --listener NAME        advertised listener name\n"
"  --ca-file FILE         CA certificates for TLS\n"
"  --stop-at-end          stop when the backlog is drained\n"
"  --receiver-queue N     permits per consumer (default 1000)\n"
"  (bucket and prefix are deliver's options)\n"
"\n"
"Acks and output:\n"
"  --acks FILE            the ack channel (a FIFO from pipeline.sh, or a file)\n"
"  --max-unacked N        stop reading above N unacked messages (1000000)\n"
"  --ack-timeout SECONDS  at the end, wait at most this long for acks\n"
"                         (default: until the ack channel's end of file)\n"
"  -v, --verbose          say more on stderr\n"
"  -P, --progress         progress lines on stderr\n"
"  -h, --help             this help\n", fp);
	exit(status);
}

enum {
	OPT_LINES = 256, OPT_FRAMES, OPT_ACKS, OPT_TOPIC, OPT_PT,
	OPT_MAX_SIZE, OPT_MAX_UNACKED, OPT_ACK_TIMEOUT, OPT_URL, OPT_SUB,
	OPT_TYPE, OPT_START, OPT_TOKEN_FILE, OPT_LISTENER, OPT_CA_FILE,
	OPT_STOP_AT_END, OPT_RQ
};

static const struct option longopts[] = {
	{ "lines",		required_argument, NULL, OPT_LINES },
	{ "frames",		required_argument, NULL, OPT_FRAMES },
	{ "acks",		required_argument, NULL, OPT_ACKS },
	{ "topic",		required_argument, NULL, OPT_TOPIC },
	{ "publish-time",	required_argument, NULL, OPT_PT },
	{ "max-size",		required_argument, NULL, OPT_MAX_SIZE },
	{ "max-unacked",	required_argument, NULL, OPT_MAX_UNACKED },
	{ "ack-timeout",	required_argument, NULL, OPT_ACK_TIMEOUT },
	{ "url",		required_argument, NULL, OPT_URL },
	{ "subscription",	required_argument, NULL, OPT_SUB },
	{ "type",		required_argument, NULL, OPT_TYPE },
	{ "start",		required_argument, NULL, OPT_START },
	{ "token-file",		required_argument, NULL, OPT_TOKEN_FILE },
	{ "listener",		required_argument, NULL, OPT_LISTENER },
	{ "ca-file",		required_argument, NULL, OPT_CA_FILE },
	{ "stop-at-end",	no_argument,	   NULL, OPT_STOP_AT_END },
	{ "receiver-queue",	required_argument, NULL, OPT_RQ },
	{ "verbose",		no_argument,	   NULL, 'v' },
	{ "progress",		no_argument,	   NULL, 'P' },
	{ "help",		no_argument,	   NULL, 'h' },
	{ NULL, 0, NULL, 0 }
};

struct replay_arg {
	enum replay_mode mode;
	const char	*path;
};

/* File scope: still reachable when errx(3) exits (LeakSanitizer). */
static struct replay_arg *ra;

static struct replay_arg *
add_input(struct replay_arg *a, size_t n, enum replay_mode mode,
    const char *path)
{
	a = xreallocarray(a, n + 1, sizeof(*a));
	a[n].mode = mode;
	a[n].path = path;
	return a;
}

static long long
number(const char *s, long long min, long long max, const char *what)
{
	const char *e;
	long long v = strtonum(s, min, max, &e);

	if (e != NULL)
		errx(EXIT_USAGE, "%s %s: %s", what, s, e);
	return v;
}

int
main(int argc, char **argv)
{
	size_t nra = 0, i;
	struct replay_opts ro = { NULL, 0, 0, DEFAULT_MAX_SIZE };
	struct pump_opts po = { NULL, DEFAULT_MAX_UNACKED, 0, 0, 0, 0 };
	struct topic topic;
	const char *why, *topic_arg = NULL, *url = NULL;
	enum replay_mode last = REPLAY_LINES;
	struct source *src;
	struct pump *p;
	int ch, status;

	while ((ch = getopt_long(argc, argv, "-vPh", longopts, NULL)) != -1) {
		switch (ch) {
		case OPT_LINES:
		case OPT_FRAMES:
			last = ch == OPT_LINES ? REPLAY_LINES : REPLAY_FRAMES;
			ra = add_input(ra, nra++, last, optarg);
			break;
		case 1:		/* an operand, in order: the last mode */
			if (nra == 0)
				errx(EXIT_USAGE, "%s: give --lines or --frames "
				    "before files", optarg);
			ra = add_input(ra, nra++, last, optarg);
			break;
		case OPT_ACKS:
			po.acks = optarg;
			break;
		case OPT_TOPIC:
			topic_arg = optarg;
			break;
		case OPT_PT:
			ro.pt = (uint64_t)number(optarg, 0, 1LL << 53,
			    "--publish-time");
			ro.has_pt = 1;
			break;
		case OPT_MAX_SIZE:
			ro.max_size = (size_t)number(optarg, 1, 1LL << 30,
			    "--max-size");
			break;
		case OPT_MAX_UNACKED:
			po.max_unacked = (uint64_t)number(optarg, 1,
			    1LL << 30, "--max-unacked");
			break;
		case OPT_ACK_TIMEOUT:
			po.ack_timeout = (double)number(optarg, 0, 1LL << 30,
			    "--ack-timeout");
			break;
		case OPT_URL:
			url = optarg;
			break;
		case OPT_SUB: case OPT_TYPE: case OPT_START:
		case OPT_TOKEN_FILE: case OPT_LISTENER: case OPT_CA_FILE:
		case OPT_STOP_AT_END: case OPT_RQ:
			break;
		case 'v':
			log_verbosity++;
			break;
		case 'P':
			po.progress = 1;
			break;
		case 'h':
			usage(stdout, EXIT_OK);
			break;
		default:
			usage(stderr, EXIT_USAGE);
		}
	}
	if (url != NULL) {
		warnx("--url: the Pulsar source is not built yet");
		return EXIT_FAIL;
	}
	if (nra == 0)
		errx(EXIT_USAGE, "nothing to read: give --lines, --frames or "
		    "--url (see --help)");
	if (topic_parse(&topic, topic_arg ? topic_arg : "replay", &why) < 0)
		errx(EXIT_USAGE, "--topic %s: %s", topic_arg, why);
	ro.topic = topic.full;
	src = replay_source_new(&ro);
	for (i = 0; i < nra; i++)
		replay_source_add(src, ra[i].mode, ra[i].path);
	po.must_ack_all = 1;
	p = pump_new(&po);
	status = pump_run(p, src);
	pump_free(p);
	src->ops->free(src);
	topic_free(&topic);
	free(ra);
	return status;
}
