/*
 * consume: write message frames (lakepipe-frames(5)) on stdout, from a
 * Pulsar topic or replayed from files, and acknowledge what the ack
 * channel reports as stored; or check the cluster (--probe), remove the
 * subscription (--unsubscribe), publish (--produce).  See consume(1).
 *
 * main() parses everything into struct args, picks one mode, checks all
 * that can be checked without the network (a bad setting is exit status 2
 * before anything connects; --check stops there), then runs the mode.
 */
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "buf.h"
#include "checkpoint.h"
#include "log.h"
#include "metrics.h"
#include "net.h"
#include "opt.h"
#include "probe.h"
#include "produce.h"
#include "pump.h"
#include "source.h"
#include "topic.h"

#define DEFAULT_MAX_SIZE	(64 * 1024 * 1024)
#define DEFAULT_MAX_UNACKED	1000000
#define DEFAULT_QUEUE		1000
#define DEFAULT_MAX_PENDING	1000

#define SYNOPSIS "consume [-qvP] [options] --url URL --topic TOPIC " \
	"--subscription NAME | --lines FILE... | --frames FILE... | " \
	"--lake DESTINATION"

static void usage(void) __attribute__((noreturn));

static void
usage(void)
{
	printf(
"usage: consume [options] --lines FILE... | --frames FILE...\n"
"       consume [options] --url URL --topic TOPIC --subscription NAME\n"
"       consume [options] --lake DESTINATION\n"
"       consume --probe | --unsubscribe [options] --url URL --topic TOPIC\n"
"               --subscription NAME\n"
"       consume --produce [options] --url URL --topic TOPIC [FILE...]\n"
"\n"
"Write message frames on stdout, replayed from files, read from Pulsar or\n"
"restored from a lake.\n"
"\n"
"Replay (FILE - is stdin; more FILE operands take the last mode):\n"
"  --lines FILE           one message per line\n"
"  --frames FILE          a frame file: messages get fresh seqs\n"
"  --topic TOPIC          topic of replayed lines (default: replay, that is\n"
"                         persistent://public/default/replay)\n"
"  --publish-time MS      publish time of every line (default: the file's\n"
"                         mtime, now for stdin)\n"
"  --max-size SIZE        longest line or frame body (default 64M)\n"
"\n"
"Restore (the messages a lake holds, oldest first per partition):\n"
"  --lake DESTINATION     read back what deliver stored there (file://,\n"
"                         s3://, cos://; credentials from the environment)\n"
"  --topic TOPIC          only this topic (and its partitions)\n"
"  --deliver, --deliver-option  as with --exactly-once, below\n"
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
"  --insecure             do not verify the broker's TLS certificate\n"
"  --stop-at-end          stop when the backlog is drained\n"
"  --receiver-queue N     permits per consumer (default 1000)\n"
"  --give-up DURATION     fail after this long failing to reconnect\n"
"                         (default: retry for ever; 0.1 s doubling to 30 s)\n"
"  --exactly-once DEST    ack, not emit, what the lake at DEST holds (read\n"
"                         with deliver --ranges at each subscription);\n"
"                         exclusive or failover, with --acks\n"
"  --deliver PATH         the deliver program (default: beside consume)\n"
"  --deliver-option OPT   an option for it, e.g. --deliver-option=--endpoint=URL\n"
"  (bucket and prefix are deliver's options)\n"
"\n"
"Other modes, with the Pulsar options:\n"
"  --probe                check url, token-file, topic, subscription: one\n"
"                         ok/fail line each (at most 5 s each), exit 0 or 1\n"
"  --unsubscribe          remove the subscription on every partition\n"
"  --produce              publish the lines or frames of FILE... (default\n"
"                         stdin) to --topic\n"
"  --max-pending N        --produce: messages without a receipt (1000)\n"
"  --print-ids            --produce: SEQ<TAB>ID per receipt on stdout\n"
"\n"
"Acks, output, logs:\n"
"  --acks FILE            the ack channel (a FIFO from pipeline.sh, or a file)\n"
"  --max-unacked N        stop reading above N unacked messages (1000000)\n"
"  --ack-timeout DURATION at the end, wait at most this long for acks\n"
"                         (default: until all are acked or the channel ends)\n"
"  --metrics-file FILE    Prometheus text file, rewritten every %d s\n"
"  -q, --quiet            warnings and errors only\n"
"  -v, --verbose          debug lines too\n"
"  -P, --progress         a progress line every second\n"
"  --check                check the options and exit (0 ok, 2 not)\n"
"  --list-options         the long options, one per line\n"
"  -h, --help             this help\n"
"SIZE: bytes or with k, M, G; DURATION: seconds or with ms, s, m, h, d.\n"
"SIGINT or SIGTERM: stop reading, send the acks of what was acked, exit 0;\n"
"a second one exits 1 at once.  Exit status: 0 ok, 1 failure, 2 usage.\n"
"See consume(1).\n", METRICS_INTERVAL);
	exit(EXIT_OK);
}

enum {
	OPT_LINES = 256, OPT_FRAMES, OPT_ACKS, OPT_TOPIC, OPT_PT,
	OPT_MAX_SIZE, OPT_MAX_UNACKED, OPT_ACK_TIMEOUT, OPT_URL, OPT_SUB,
	OPT_TYPE, OPT_START, OPT_TOKEN_FILE, OPT_LISTENER, OPT_CA_FILE,
	OPT_STOP_AT_END, OPT_RQ, OPT_GIVE_UP, OPT_METRICS, OPT_CHECK,
	OPT_LIST, OPT_PROBE, OPT_UNSUBSCRIBE, OPT_PRODUCE, OPT_MAX_PENDING,
	OPT_PRINT_IDS, OPT_EXACTLY_ONCE, OPT_LAKE, OPT_DELIVER,
	OPT_DELIVER_OPTION, OPT_INSECURE
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
	{ "insecure",		no_argument,	   NULL, OPT_INSECURE },
	{ "stop-at-end",	no_argument,	   NULL, OPT_STOP_AT_END },
	{ "receiver-queue",	required_argument, NULL, OPT_RQ },
	{ "give-up",		required_argument, NULL, OPT_GIVE_UP },
	{ "probe",		no_argument,	   NULL, OPT_PROBE },
	{ "unsubscribe",	no_argument,	   NULL, OPT_UNSUBSCRIBE },
	{ "produce",		no_argument,	   NULL, OPT_PRODUCE },
	{ "max-pending",	required_argument, NULL, OPT_MAX_PENDING },
	{ "print-ids",		no_argument,	   NULL, OPT_PRINT_IDS },
	{ "exactly-once",	required_argument, NULL, OPT_EXACTLY_ONCE },
	{ "lake",		required_argument, NULL, OPT_LAKE },
	{ "deliver",		required_argument, NULL, OPT_DELIVER },
	{ "deliver-option",	required_argument, NULL, OPT_DELIVER_OPTION },
	{ "metrics-file",	required_argument, NULL, OPT_METRICS },
	{ "check",		no_argument,	   NULL, OPT_CHECK },
	{ "list-options",	no_argument,	   NULL, OPT_LIST },
	{ "quiet",		no_argument,	   NULL, 'q' },
	{ "verbose",		no_argument,	   NULL, 'v' },
	{ "progress",		no_argument,	   NULL, 'P' },
	{ "help",		no_argument,	   NULL, 'h' },
	{ NULL, 0, NULL, 0 }
};

enum mode { MODE_NONE, MODE_REPLAY, MODE_PULSAR, MODE_PROBE,
	MODE_UNSUBSCRIBE, MODE_PRODUCE, MODE_LAKE };

/* Everything the command line says; main() owns it. */
struct args {
	enum mode	 mode;		/* --probe, --unsubscribe, --produce */
	int		 check;
	const char	*url, *topic, *token_file, *metrics;
	struct replay_opts ro;
	struct pump_opts po;
	struct pulsar_opts pu;
	struct lake_opts lo;
	uint32_t	 max_pending;
	int		 print_ids;
	struct produce_input *in;	/* --lines, --frames, operands */
	size_t		 nin;
	char		*token;
	struct topic	 t;		/* the replay topic */
};

/* File scope: still reachable when errx(3) exits (LeakSanitizer). */
static struct args a;

static void
add_input(enum replay_mode mode, const char *path)
{
	a.in = xreallocarray(a.in, a.nin + 1, sizeof(*a.in));
	a.in[a.nin].mode = mode;
	a.in[a.nin].path = path;
	a.nin++;
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
	errx(EXIT_USAGE, "--type: '%s' is not exclusive, shared, failover "
	    "or key_shared", s);
}

static void
start_point(struct pulsar_opts *pu, const char *s)
{
	const char *colon = strchr(s, ':'), *e = NULL;
	char *ledger;

	if (strcmp(s, "earliest") == 0)
		pu->start = START_EARLIEST;
	else if (strcmp(s, "latest") == 0)
		pu->start = START_LATEST;
	else if (colon == NULL) {
		pu->start = START_TIME;
		pu->start_time = (uint64_t)strtonum(s, 0, 1LL << 53, &e);
	} else {
		pu->start = START_ID;
		ledger = xstrndup(s, (size_t)(colon - s));
		pu->start_id.ledger = strtonum(ledger, 0, INT64_MAX, &e);
		free(ledger);
		if (e == NULL)
			pu->start_id.entry = strtonum(colon + 1, 0,
			    INT64_MAX, &e);
		pu->start_id.partition = -1;
		pu->start_id.batch = -1;
	}
	if (e != NULL)
		errx(EXIT_USAGE, "--start: '%s' is not earliest, latest, "
		    "TIMESTAMP_MS or LEDGER:ENTRY", s);
}

/* Set the mode once: two of them is a usage error. */
static void
set_mode(enum mode m, const char *opt)
{
	if (a.mode != MODE_NONE && a.mode != m)
		errx(EXIT_USAGE, "%s: one of --probe, --unsubscribe and "
		    "--produce at a time", opt);
	a.mode = m;
}

static void
parse(int argc, char **argv)
{
	enum replay_mode last = REPLAY_LINES;
	int ch;

	while ((ch = opt_next(argc, argv, "-hPqv", longopts)) != -1) {
		switch (ch) {
		case OPT_LINES:
		case OPT_FRAMES:
			last = ch == OPT_LINES ? REPLAY_LINES : REPLAY_FRAMES;
			add_input(last, optarg);
			break;
		case 1:		/* an operand, in order: the last mode */
			add_input(last, optarg);
			break;
		case OPT_ACKS: a.po.acks = optarg; break;
		case OPT_TOPIC: a.topic = optarg; break;
		case OPT_PT:
			a.ro.pt = (uint64_t)opt_number("--publish-time", optarg,
			    0, 1LL << 53);
			a.ro.has_pt = 1;
			break;
		case OPT_MAX_SIZE:
			a.ro.max_size = (size_t)opt_size("--max-size", optarg,
			    1, 1ULL << 30);
			break;
		case OPT_MAX_UNACKED:
			a.po.max_unacked = (uint64_t)opt_number("--max-unacked",
			    optarg, 1, 1LL << 30);
			break;
		case OPT_ACK_TIMEOUT:
			a.po.ack_timeout = opt_duration("--ack-timeout", optarg,
			    0, 365 * 86400.0);
			break;
		case OPT_URL: a.url = optarg; break;
		case OPT_SUB: a.pu.subscription = optarg; break;
		case OPT_TYPE: a.pu.sub_type = sub_type(optarg); break;
		case OPT_START: start_point(&a.pu, optarg); break;
		case OPT_TOKEN_FILE: a.token_file = optarg; break;
		case OPT_LISTENER: a.pu.listener = optarg; break;
		case OPT_CA_FILE: a.pu.ca_file = optarg; break;
		case OPT_INSECURE: net_insecure = 1; break;
		case OPT_STOP_AT_END: a.pu.stop_at_end = 1; break;
		case OPT_RQ:
			a.pu.queue = (uint32_t)opt_number("--receiver-queue",
			    optarg, 2, 1000000);
			break;
		case OPT_GIVE_UP:
			a.pu.give_up = opt_duration("--give-up", optarg, 0.001,
			    365 * 86400.0);
			break;
		case OPT_PROBE: set_mode(MODE_PROBE, "--probe"); break;
		case OPT_UNSUBSCRIBE:
			set_mode(MODE_UNSUBSCRIBE, "--unsubscribe");
			break;
		case OPT_PRODUCE: set_mode(MODE_PRODUCE, "--produce"); break;
		case OPT_MAX_PENDING:
			a.max_pending = (uint32_t)opt_number("--max-pending",
			    optarg, 1, 1000000);
			break;
		case OPT_PRINT_IDS: a.print_ids = 1; break;
		case OPT_LAKE: a.lo.dest = optarg; break;
		case OPT_EXACTLY_ONCE: a.pu.lake = optarg; break;
		case OPT_DELIVER: a.pu.deliver = optarg; break;
		case OPT_DELIVER_OPTION:
			if (optarg[0] != '-')
				errx(EXIT_USAGE, "--deliver-option: '%.100s' is "
				    "not an option of deliver", optarg);
			a.pu.deliver_opts = xreallocarray(a.pu.deliver_opts,
			    a.pu.ndeliver_opts + 1, sizeof(char *));
			a.pu.deliver_opts[a.pu.ndeliver_opts++] = optarg;
			break;
		case OPT_METRICS: a.metrics = optarg; break;
		case OPT_CHECK: a.check = 1; break;
		case OPT_LIST: opt_list(longopts);
		case 'q': log_level = LOG_LVL_WARN; break;
		case 'v': log_level = LOG_LVL_DEBUG; break;
		case 'P': a.po.progress = 1; break;
		case 'h': usage();
		default: opt_usage_error(SYNOPSIS);
		}
	}
}

/*
 * The token from a file (first line) or PULSAR_TOKEN; never from argv.
 * A file that cannot be read is a setting to fix: exit 2.
 */
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
		errx(EXIT_USAGE, "--token-file: '%s': %s", path,
		    strerror(errno));
	while ((n = read(fd, tmp, sizeof(tmp))) > 0 && b.len < 1 << 20)
		buf_add(&b, tmp, (size_t)n);
	if (n < 0)
		errx(EXIT_USAGE, "--token-file: '%s': %s", path,
		    strerror(errno));
	close(fd);
	explicit_bzero(tmp, sizeof(tmp));
	/* a token is one line: drop the newline and blanks around it */
	while (b.len > 0 && strchr(" \t\r\n", b.data[b.len - 1]))
		b.data[--b.len] = '\0';
	if (b.len == 0)
		errx(EXIT_USAGE, "--token-file: '%s' is empty", path);
	return buf_detach(&b, NULL);
}

static void
check_readable(const char *opt, const char *path)
{
	if (strcmp(path, "-") != 0 && access(path, R_OK) < 0)
		errx(EXIT_USAGE, "%s: '%s': %s", opt, path, strerror(errno));
}

static void
check_inputs(void)
{
	size_t i;

	for (i = 0; i < a.nin; i++)
		check_readable(a.in[i].mode == REPLAY_LINES ? "--lines" :
		    "--frames", a.in[i].path);
}

/* The settings of every mode that talks to Pulsar. */
static void
check_pulsar(int need_subscription)
{
	struct url u;
	struct topic t;
	const char *why;

	if (url_parse(&u, a.url, &why) < 0)
		errx(EXIT_USAGE, "--url: '%s': %s", a.url, why);
	url_free(&u);
	if (a.topic == NULL)
		errx(EXIT_USAGE, "--url needs --topic");
	if (topic_parse(&t, a.topic, &why) < 0)
		errx(EXIT_USAGE, "--topic: '%s': %s", a.topic, why);
	topic_free(&t);
	if (need_subscription && (a.pu.subscription == NULL ||
	    *a.pu.subscription == '\0'))
		errx(EXIT_USAGE, "--url needs --subscription (never "
		    "invented: name the backup's own)");
	if (a.pu.ca_file != NULL)
		check_readable("--ca-file", a.pu.ca_file);
	a.token = read_token(a.token_file);
	a.pu.url = a.url;
	a.pu.topic = a.topic;
	a.pu.token = a.token;
}

/*
 * consume --lake: the destination is deliver's to check (it runs as the
 * child that reads the lake); what is consume's is checked here.
 */
static void
check_lake(void)
{
	const char *why;
	int st;

	if (a.url != NULL || a.nin > 0 || a.pu.lake != NULL)
		errx(EXIT_USAGE, "--lake and --url, --lines, --frames or "
		    "--exactly-once: choose one");
	if (*a.lo.dest == '\0')
		errx(EXIT_USAGE, "--lake: an empty destination");
	if (a.pu.deliver != NULL && strchr(a.pu.deliver, '/') != NULL &&
	    access(a.pu.deliver, X_OK) < 0)
		errx(EXIT_USAGE, "--deliver: '%s': %s", a.pu.deliver,
		    strerror(errno));
	if (a.topic != NULL) {
		if (topic_parse(&a.t, a.topic, &why) < 0)
			errx(EXIT_USAGE, "--topic: '%s': %s", a.topic, why);
		a.lo.topic = a.t.full;
	}
	a.lo.deliver = deliver_program(a.pu.deliver);
	a.lo.dargs = (const char *const *)a.pu.deliver_opts;
	a.lo.ndargs = a.pu.ndeliver_opts;
	if ((st = lake_check(&a.lo)) != 0)
		exit(st == EXIT_USAGE ? EXIT_USAGE : EXIT_FAIL);
	/* a record is its payload escaped (up to 6 bytes a byte) and more */
	a.lo.max_size = a.ro.max_size > SIZE_MAX / 8 ? SIZE_MAX :
	    a.ro.max_size * 8;
}

/* Which mode, and is everything there for it (exit 2 if not). */
/* --exactly-once keeps to what it can promise. */
static void
check_exactly_once(void)
{
	if (a.pu.lake == NULL)
		return;
	if (a.mode != MODE_PULSAR)
		errx(EXIT_USAGE, "--exactly-once goes with --url (consuming)");
	if (a.pu.sub_type != PW_SUB_EXCLUSIVE &&
	    a.pu.sub_type != PW_SUB_FAILOVER)
		errx(EXIT_USAGE, "--exactly-once needs --type exclusive or "
		    "failover (shared subscriptions deliver out of order: "
		    "at-least-once, de-duplicate by message_id)");
	if (a.po.acks == NULL)
		errx(EXIT_USAGE, "--exactly-once needs --acks (what is stored "
		    "is known from deliver's acks)");
	a.pu.deliver = deliver_program(a.pu.deliver);
}

static void
check(void)
{
	const char *why;

	if (a.mode == MODE_NONE)
		a.mode = a.lo.dest != NULL ? MODE_LAKE : a.url != NULL ?
		    MODE_PULSAR : MODE_REPLAY;
	else if (a.lo.dest != NULL)
		errx(EXIT_USAGE, "--lake: not with --probe, --unsubscribe or "
		    "--produce");
	if (a.mode != MODE_LAKE && a.pu.lake == NULL && (a.pu.deliver ||
	    a.pu.ndeliver_opts))
		errx(EXIT_USAGE, "--deliver and --deliver-option go with "
		    "--lake or --exactly-once");
	if (a.mode != MODE_PRODUCE && (a.max_pending || a.print_ids))
		errx(EXIT_USAGE, "--max-pending and --print-ids go with "
		    "--produce");
	switch (a.mode) {
	case MODE_REPLAY:
		if (a.nin == 0)
			errx(EXIT_USAGE, "nothing to read: give --lines, "
			    "--frames or --url (see --help)");
		check_inputs();
		if (topic_parse(&a.t, a.topic ? a.topic : "replay", &why) < 0)
			errx(EXIT_USAGE, "--topic: '%s': %s", a.topic, why);
		a.ro.topic = a.t.full;
		break;
	case MODE_PULSAR:
	case MODE_PROBE:
	case MODE_UNSUBSCRIBE:
		if (a.url == NULL)
			errx(EXIT_USAGE, "--probe and --unsubscribe need --url");
		if (a.nin > 0)
			errx(EXIT_USAGE, "--url and --lines/--frames: choose "
			    "one (or --produce to publish them)");
		check_pulsar(1);
		check_exactly_once();
		break;
	case MODE_PRODUCE:
		if (a.url == NULL)
			errx(EXIT_USAGE, "--produce needs --url and --topic");
		check_inputs();
		check_pulsar(0);
		break;
	case MODE_LAKE:
		check_lake();
		break;
	case MODE_NONE:
		break;
	}
}

static int
run_source(struct source *src)
{
	struct pump *p;
	int status;

	if (src == NULL)
		return EXIT_USAGE;
	p = pump_new(&a.po);
	status = pump_run(p, src);
	if (metrics_flush() < 0 && status == EXIT_OK)
		status = EXIT_FAIL;
	pump_free(p);
	src->ops->free(src);
	return status;
}

static int
replay_main(void)
{
	struct source *src = replay_source_new(&a.ro);
	size_t i;

	for (i = 0; i < a.nin; i++)
		replay_source_add(src, a.in[i].mode, a.in[i].path);
	a.po.must_ack_all = 1;
	return run_source(src);
}

static int
lake_main(void)
{
	/* with an ack channel (a lake-to-lake copy), all must be acked */
	a.po.must_ack_all = a.po.acks != NULL;
	return run_source(lake_source_new(&a.lo));
}

static int
pulsar_main(void)
{
	/* without an ack channel, a message written to stdout is done */
	a.po.ack_on_write = a.po.acks == NULL;
	return run_source(pulsar_source_new(&a.pu));
}

static int
produce(void)
{
	struct produce_opts o;

	memset(&o, 0, sizeof(o));
	pulsar_pool_opts(&o.pulsar, &a.pu, 0);
	o.topic = a.topic;
	o.inputs = a.in;
	o.ninputs = a.nin;
	o.max_size = a.ro.max_size;
	o.max_pending = a.max_pending ? a.max_pending : DEFAULT_MAX_PENDING;
	o.give_up = a.pu.give_up;
	o.print_ids = a.print_ids;
	o.progress = a.po.progress;
	return produce_main(&o);
}

int
main(int argc, char **argv)
{
	int status = EXIT_FAIL;

	log_init("consume");
	a.ro.max_size = DEFAULT_MAX_SIZE;
	a.po.max_unacked = DEFAULT_MAX_UNACKED;
	a.pu.queue = DEFAULT_QUEUE;
	parse(argc, argv);
	check();
	if (net_insecure && a.mode != MODE_REPLAY)
		log_warn("TLS certificates are not verified (--insecure): "
		    "anyone on the way can read the token and the messages",
		    "url=%s", a.url);
	if (a.check)
		goto done;
	metrics_init(a.metrics, "consume");
	switch (a.mode) {
	case MODE_REPLAY:
		status = replay_main();
		break;
	case MODE_PULSAR:
		status = pulsar_main();
		break;
	case MODE_PROBE:
		status = probe_main(&a.pu);
		break;
	case MODE_UNSUBSCRIBE:
		status = unsubscribe_main(&a.pu);
		break;
	case MODE_PRODUCE:
		status = produce();
		break;
	case MODE_LAKE:
		status = lake_main();
		break;
	case MODE_NONE:
		break;
	}
done:
	if (a.token != NULL) {
		explicit_bzero(a.token, strlen(a.token));
		free(a.token);
	}
	if (a.mode == MODE_REPLAY || (a.mode == MODE_LAKE && a.topic))
		topic_free(&a.t);
	free(a.in);
	return a.check ? EXIT_OK : status;
}
