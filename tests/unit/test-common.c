/* unit: */
/* Unit tests of common/log.c, opt.c and metrics.c. */
#include <err.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "log.h"
#include "metrics.h"
#include "opt.h"
#include "unit.h"

/* What the calls in fn print on stderr, with the ts= field cut off. */
static char *
capture(void (*fn)(void))
{
	char path[] = "/tmp/test-common.XXXXXX", tmp[4096], *sp;
	int fd = mkstemp(path), saved = dup(STDERR_FILENO);
	ssize_t n;

	dup2(fd, STDERR_FILENO);
	fn();
	dup2(saved, STDERR_FILENO);
	close(saved);
	n = pread(fd, tmp, sizeof(tmp) - 1, 0);
	close(fd);
	unlink(path);
	tmp[n > 0 ? n : 0] = '\0';
	sp = strchr(tmp, ' ');
	return strdup(sp != NULL ? sp + 1 : tmp);
}

static void
say_kv(void)
{
	log_info("stored", "key=%s n=%llu why=%s size=%zu r=%.1f pct=%d%%",
	    "a/b.gz", 12ULL, "max age", (size_t)7, 1.25, 5);
}

static void
say_quotes(void)
{
	log_warn("odd value", "v=%s e=%s w=%.3s", "say \"hi\"\n\\", "",
	    "abcdef");
}

static void
say_warnx(void)
{
	warnx("%s: bad thing", "file name");
	log_debug("hidden", "");
}

static void
test_log(void)
{
	char *s;

	log_init("/usr/bin/prog");
	s = capture(say_kv);
	CHECK_STR(s, "level=info prog=prog msg=\"stored\" key=a/b.gz n=12 "
	    "why=\"max age\" size=7 r=1.2 pct=5%\n", "log_info key values");
	free(s);
	s = capture(say_quotes);
	CHECK_STR(s, "level=warn prog=prog msg=\"odd value\" "
	    "v=\"say \\\"hi\\\"\\n\\\\\" e=\"\" w=abc\n", "quoting, escapes");
	free(s);
	s = capture(say_warnx);
	CHECK_STR(s, "level=warn prog=prog msg=\"file name: bad thing\"\n",
	    "warnx is a logfmt line; debug hidden at info");
	free(s);
}

static void
test_opt(void)
{
	uint64_t v = 0;
	double d = 0;

	CHECK(parse_size("8M", &v) == 0 && v == 8ULL << 20, "size 8M");
	CHECK(parse_size("4k", &v) == 0 && v == 4096, "size 4k");
	CHECK(parse_size("1GB", &v) == 0 && v == 1ULL << 30, "size 1GB");
	CHECK(parse_size("12", &v) == 0 && v == 12, "size 12");
	CHECK(parse_size("-1", &v) < 0, "size -1 refused");
	CHECK(parse_size("8X", &v) < 0, "size 8X refused");
	CHECK(parse_size("", &v) < 0, "size empty refused");
	CHECK(parse_size("99999999999999999999", &v) < 0, "size overflow");
	CHECK(parse_size("20000000T", &v) < 0, "size overflow by unit");
	CHECK(parse_duration("30", &d) == 0 && d == 30, "duration 30");
	CHECK(parse_duration("250ms", &d) == 0 && d == 0.25, "duration 250ms");
	CHECK(parse_duration("5m", &d) == 0 && d == 300, "duration 5m");
	CHECK(parse_duration("1.5h", &d) == 0 && d == 5400, "duration 1.5h");
	CHECK(parse_duration("1d", &d) == 0 && d == 86400, "duration 1d");
	CHECK(parse_duration("5x", &d) < 0, "duration 5x refused");
	CHECK(parse_duration("-5", &d) < 0, "duration -5 refused");
	CHECK(parse_duration("nan", &d) < 0, "duration nan refused");
}

static void
test_metrics(void)
{
	char path[] = "/tmp/test-metrics.XXXXXX", tmp[4096];
	uint64_t *c;
	double *g;
	ssize_t n;
	int fd = mkstemp(path);

	metrics_init(path, "unit");
	c = metrics_counter("messages_total", "Messages.");
	CHECK(metrics_counter("messages_total", "x") == c, "same counter");
	*c = 42;
	g = metrics_gauge("backlog_messages{partition=\"0\"}", "Backlog.");
	*g = 3;
	*metrics_gauge("backlog_messages{partition=\"1\"}", "Backlog.") = 0.5;
	metrics_info("last_object_info", "Last.", "key", "old");
	metrics_info("last_object_info", "Last.", "key", "a\"b");
	CHECK(metrics_flush() == 0, "metrics written");
	close(fd);
	/* the file was replaced: read it by name */
	fd = open(path, O_RDONLY);
	n = read(fd, tmp, sizeof(tmp) - 1);
	tmp[n > 0 ? n : 0] = '\0';
	close(fd);
	unlink(path);
	CHECK_STR(tmp,
	    "# HELP lakepipe_unit_messages_total Messages.\n"
	    "# TYPE lakepipe_unit_messages_total counter\n"
	    "lakepipe_unit_messages_total 42\n"
	    "# HELP lakepipe_unit_backlog_messages Backlog.\n"
	    "# TYPE lakepipe_unit_backlog_messages gauge\n"
	    "lakepipe_unit_backlog_messages{partition=\"0\"} 3\n"
	    "lakepipe_unit_backlog_messages{partition=\"1\"} 0.5\n"
	    "# HELP lakepipe_unit_last_object_info Last.\n"
	    "# TYPE lakepipe_unit_last_object_info gauge\n"
	    "lakepipe_unit_last_object_info{key=\"a\\\"b\"} 1\n",
	    "Prometheus text");
}

int
main(void)
{
	test_log();
	test_opt();
	test_metrics();
	return unit_done();
}
