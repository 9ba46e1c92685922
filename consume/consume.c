/*
 * consume: write message frames (lakepipe-frames(5)) on stdout, from a
 * Pulsar topic or replayed from files, and acknowledge what the ack
 * channel reports as stored.  See consume(1).
 */
#include <err.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "buf.h"
#include "log.h"
#include "pump.h"
#include "source.h"
#include "topic.h"

#define DEFAULT_MAX_SIZE	(64 * 1024 * 1024)
#define DEFAULT_MAX_UNACKED	1000000
#define DEFAULT_QUEUE		1000

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

static int
sub_type(const char *s)
{
	static const char *names[] = { "exclusive", "shared", "failover",
	    "key_shared" };
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcasecmp(s, names[i]) == 0 || (i == 3 &&
		    strcasecmp(s, "key-shared") == 0))
			return (int)i;	/* the order of enum pw_sub_type */
	errx(EXIT_USAGE, "--type %s: expected exclusive, shared, failover "
	    "or key_shared", s);
}

static void
start_point(struct pulsar_opts *pu, const char *s)
{
	const char *colon = strchr(s, ':'), *e;
	char *ledger;

	if (strcmp(s, "earliest") == 0)
		pu->start = START_EARLIEST;
	else if (strcmp(s, "latest") == 0)
		pu->start = START_LATEST;
	else if (colon == NULL) {
		pu->start = START_TIME;
		pu->start_time = (uint64_t)strtonum(s, 0, 1LL << 53, &e);
		if (e != NULL)
			errx(EXIT_USAGE, "--start %s: expected earliest, "
			    "latest, TIMESTAMP_MS or LEDGER:ENTRY", s);
	} else {
		pu->start = START_ID;
		ledger = xstrndup(s, (size_t)(colon - s));
		pu->start_id.ledger = strtonum(ledger, 0, INT64_MAX, &e);
		free(ledger);
		if (e == NULL)
			pu->start_id.entry = strtonum(colon + 1, 0,
			    INT64_MAX, &e);
		if (e != NULL)
			errx(EXIT_USAGE, "--start %s: bad LEDGER:ENTRY", s);
		pu->start_id.partition = -1;
		pu->start_id.batch = -1;
	}
}

/* The token from a file (first line) or PULSAR_TOKEN; never from argv. */
static char *
read_token(const char *path)
{
	struct buf b = BUF_INIT;
	const char *env;
	char tmp[4096];
	ssize_t n;
	int fd;

	if (path == NULL) {
		env = getenv("PULSAR_TOKEN");
		return env && *env ? xstrdup(env) : NULL;
	}
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		err(EXIT_FAIL, "%s", path);
	while ((n = read(fd, tmp, sizeof(tmp))) > 0 && b.len < 1 << 20)
		buf_add(&b, tmp, (size_t)n);
	if (n < 0)
		err(EXIT_FAIL, "%s", path);
	close(fd);
	explicit_bzero(tmp, sizeof(tmp));
	/* a token is one line: drop the newline and blanks around it */
	while (b.len > 0 && strchr(" \t\r\n", b.data[b.len - 1]))
		b.data[--b.len] = '\0';
	if (b.len == 0)
		errx(EXIT_FAIL, "%s: empty token file", path);
	return buf_detach(&b, NULL);
}

static int
run_pulsar(struct pulsar_opts *pu, struct pump_opts *po, const char *url,
    const char *topic, const char *token_file)
{
	struct source *src;
	struct pump *p;
	char *token;
	int status;

	if (topic == NULL || pu->subscription == NULL ||
	    *pu->subscription == '\0')
		errx(EXIT_USAGE, "--url needs --topic and --subscription");
	token = read_token(token_file);
	pu->url = url;
	pu->topic = topic;
	pu->token = token;
	if ((src = pulsar_source_new(pu)) == NULL)
		return EXIT_USAGE;
	/* without an ack channel, a message written to stdout is done */
	po->ack_on_write = po->acks == NULL;
	p = pump_new(po);
	status = pump_run(p, src);
	pump_free(p);
	src->ops->free(src);
	if (token != NULL) {
		explicit_bzero(token, strlen(token));
		free(token);
	}
	return status;
}

int
main(int argc, char **argv)
{
	size_t nra = 0, i;
	struct replay_opts ro = { NULL, 0, 0, DEFAULT_MAX_SIZE };
	struct pump_opts po = { NULL, DEFAULT_MAX_UNACKED, 0, 0, 0, 0 };
	struct topic topic;
	struct pulsar_opts pu;
	const char *token_file = NULL;
	const char *why, *topic_arg = NULL, *url = NULL;
	enum replay_mode last = REPLAY_LINES;
	struct source *src;
	struct pump *p;
	int ch, status;

	memset(&pu, 0, sizeof(pu));
	pu.queue = DEFAULT_QUEUE;
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
		case OPT_SUB:
			pu.subscription = optarg;
			break;
		case OPT_TYPE:
			pu.sub_type = sub_type(optarg);
			break;
		case OPT_START:
			start_point(&pu, optarg);
			break;
		case OPT_TOKEN_FILE:
			token_file = optarg;
			break;
		case OPT_LISTENER:
			pu.listener = optarg;
			break;
		case OPT_CA_FILE:
			pu.ca_file = optarg;
			break;
		case OPT_STOP_AT_END:
			pu.stop_at_end = 1;
			break;
		case OPT_RQ:
			pu.queue = (uint32_t)number(optarg, 2, 1000000,
			    "--receiver-queue");
			break;
		case 'v':
			log_level = LOG_LVL_DEBUG;
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
		if (nra > 0)
			errx(EXIT_USAGE, "--url and --lines/--frames: choose one");
		return run_pulsar(&pu, &po, url, topic_arg, token_file);
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
