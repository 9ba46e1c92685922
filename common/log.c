/* logfmt lines, the err(3) family on top of them, progress; see log.h. */
#include <ctype.h>
#include <err.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "log.h"

int log_level = LOG_LVL_INFO;

static const char *log_prog;	/* NULL: getprogname() */
static struct progress *live;	/* the progress drawn on the terminal */

static const char *const level_names[] = { "error", "warn", "info",
    "debug" };

void
log_init(const char *prog)
{
	const char *slash = strrchr(prog, '/');

	log_prog = slash != NULL ? slash + 1 : prog;
}

static const char *
prog_name(void)
{
	return log_prog != NULL ? log_prog : getprogname();
}

/* Bytes that force quoting: blanks, '=', '"', '\\' and controls. */
static int
needs_quote(const char *s, size_t n)
{
	size_t i;

	if (n == 0)
		return 1;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c <= ' ' || c == '=' || c == '"' || c == '\\' || c == 0x7f)
			return 1;
	}
	return 0;
}

static void
quote_n(struct buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t i;

	if (!needs_quote(s, n)) {
		buf_add(b, s, n);
		return;
	}
	buf_addch(b, '"');
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		switch (c) {
		case '"': buf_addstr(b, "\\\""); break;
		case '\\': buf_addstr(b, "\\\\"); break;
		case '\n': buf_addstr(b, "\\n"); break;
		case '\r': buf_addstr(b, "\\r"); break;
		case '\t': buf_addstr(b, "\\t"); break;
		default:
			if (c < ' ' || c == 0x7f) {
				buf_addstr(b, "\\x");
				buf_addch(b, hex[c >> 4]);
				buf_addch(b, hex[c & 15]);
			} else
				buf_addch(b, (char)c);
		}
	}
	buf_addch(b, '"');
}

void
log_quote(struct buf *b, const char *value)
{
	quote_n(b, value, strlen(value));
}

/*
 * One conversion of kvfmt at *fp (just past the '%'): its arguments are
 * taken from ap, %s values quoted, the rest through snprintf.
 */
static void
convert(struct buf *b, const char **fp, va_list *ap)
{
	char spec[32];
	const char *f = *fp;
	size_t n = 0;
	int lng = 0, prec = -1;

	spec[n++] = '%';
	while (*f != '\0' && strchr("-+ #0", *f) != NULL && n < 8)
		spec[n++] = *f++;
	while (*f == '*' || isdigit((unsigned char)*f)) {
		if (*f == '*') {
			n += (size_t)snprintf(spec + n, sizeof(spec) - n, "%d",
			    va_arg(*ap, int));
			f++;
		} else if (n < 20)
			spec[n++] = *f++;
		else
			f++;
	}
	if (*f == '.') {
		spec[n++] = *f++;
		prec = 0;
		if (*f == '*') {
			prec = va_arg(*ap, int);
			n += (size_t)snprintf(spec + n, sizeof(spec) - n, "%d",
			    prec);
			f++;
		} else
			for (; isdigit((unsigned char)*f); f++) {
				prec = prec * 10 + (*f - '0');
				if (n < 26)
					spec[n++] = *f;
			}
	}
	for (; *f != '\0' && strchr("hlzjtL", *f) != NULL; f++) {
		if (*f == 'l' && lng == 'l')
			lng = 'q';	/* ll */
		else if (*f != 'h')
			lng = *f;	/* h and hh: promoted to int */
		if (n < sizeof(spec) - 2)
			spec[n++] = *f;
	}
	spec[n++] = *f;
	spec[n] = '\0';
	switch (*f) {
	case 's': {
		const char *s = va_arg(*ap, const char *);

		if (s == NULL)
			s = "(null)";
		quote_n(b, s, prec >= 0 ? strnlen(s, (size_t)prec) : strlen(s));
		break;
	}
	case 'd': case 'i':
		if (lng == 'q')
			buf_addf(b, spec, va_arg(*ap, long long));
		else if (lng == 'l')
			buf_addf(b, spec, va_arg(*ap, long));
		else if (lng == 'z' || lng == 't')
			buf_addf(b, spec, va_arg(*ap, ssize_t));
		else if (lng == 'j')
			buf_addf(b, spec, va_arg(*ap, intmax_t));
		else
			buf_addf(b, spec, va_arg(*ap, int));
		break;
	case 'u': case 'x': case 'X': case 'o':
		if (lng == 'q')
			buf_addf(b, spec, va_arg(*ap, unsigned long long));
		else if (lng == 'l')
			buf_addf(b, spec, va_arg(*ap, unsigned long));
		else if (lng == 'z' || lng == 't')
			buf_addf(b, spec, va_arg(*ap, size_t));
		else if (lng == 'j')
			buf_addf(b, spec, va_arg(*ap, uintmax_t));
		else
			buf_addf(b, spec, va_arg(*ap, unsigned));
		break;
	case 'c':
		buf_addf(b, spec, va_arg(*ap, int));
		break;
	case 'e': case 'E': case 'f': case 'F': case 'g': case 'G':
	case 'a': case 'A':
		if (lng == 'L')
			buf_addf(b, spec, va_arg(*ap, long double));
		else
			buf_addf(b, spec, va_arg(*ap, double));
		break;
	case 'p':
		buf_addf(b, spec, va_arg(*ap, void *));
		break;
	case '%':
		buf_addch(b, '%');
		break;
	default:		/* unknown: show it, take nothing */
		buf_addstr(b, spec);
		if (*f == '\0')
			f--;
	}
	*fp = f + 1;
}

static void
add_kv(struct buf *b, const char *kvfmt, va_list ap)
{
	const char *f = kvfmt, *pct;
	va_list cp;

	va_copy(cp, ap);
	while ((pct = strchr(f, '%')) != NULL) {
		buf_add(b, f, (size_t)(pct - f));
		f = pct + 1;
		convert(b, &f, &cp);
	}
	buf_addstr(b, f);
	va_end(cp);
}

static void
add_timestamp(struct buf *b)
{
	struct timespec ts;
	struct tm tm;
	char t[32];

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(t, sizeof(t), "%Y-%m-%dT%H:%M:%S", &tm);
	buf_addf(b, "ts=%s.%03ldZ", t, ts.tv_nsec / 1000000);
}

/* Write the line at once: lines of several programs share one pipe. */
static void
emit(struct buf *b)
{
	int saved = errno;

	if (live != NULL && live->drawn) {
		(void)write_all(STDERR_FILENO, "\r\033[K", 4);
		live->drawn = 0;
	}
	buf_addch(b, '\n');
	(void)write_all(STDERR_FILENO, b->data, b->len);
	errno = saved;
}

static void
begin_line(struct buf *b, int level, const char *msg)
{
	add_timestamp(b);
	buf_addf(b, " level=%s prog=", level_names[level]);
	log_quote(b, prog_name());
	buf_addstr(b, " msg=");
	/* msg is always quoted, so that it reads as one field */
	if (needs_quote(msg, strlen(msg)))
		log_quote(b, msg);
	else {
		buf_addch(b, '"');
		buf_addstr(b, msg);
		buf_addch(b, '"');
	}
}

void
log_event(int level, const char *msg, const char *kvfmt, va_list ap)
{
	struct buf b = BUF_INIT;

	if (level > log_level)
		return;
	begin_line(&b, level, msg);
	if (kvfmt != NULL && *kvfmt != '\0') {
		buf_addch(&b, ' ');
		add_kv(&b, kvfmt, ap);
	}
	emit(&b);
	buf_release(&b);
}

#define LOG_AT(name, level)						\
void									\
name(const char *msg, const char *kvfmt, ...)				\
{									\
	va_list ap;							\
									\
	va_start(ap, kvfmt);						\
	log_event(level, msg, kvfmt, ap);				\
	va_end(ap);							\
}

void
log_at(int level, const char *msg, const char *kvfmt, ...)
{
	va_list ap;

	va_start(ap, kvfmt);
	log_event(level, msg, kvfmt, ap);
	va_end(ap);
}

LOG_AT(log_error, LOG_LVL_ERROR)
LOG_AT(log_warn, LOG_LVL_WARN)
LOG_AT(log_info, LOG_LVL_INFO)
LOG_AT(log_debug, LOG_LVL_DEBUG)

/* Free text as msg=, with ": strerror" when errnum is not 0. */
static void
log_text(int level, int errnum, const char *fmt, va_list ap)
{
	struct buf text = BUF_INIT, b = BUF_INIT;

	if (level > log_level)
		return;
	if (fmt != NULL)
		buf_vaddf(&text, fmt, ap);
	if (errnum != 0)
		buf_addf(&text, "%s%s", fmt != NULL ? ": " : "",
		    strerror(errnum));
	begin_line(&b, level, text.len > 0 ? text.data : "");
	emit(&b);
	buf_release(&b);
	buf_release(&text);
}

void
log_verbose(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_text(LOG_LVL_DEBUG, 0, fmt, ap);
	va_end(ap);
}

/*
 * The err(3) family, in logfmt.  These definitions take the place of the
 * C library's in every program that links liblakepipe.a.
 */
void
vwarn(const char *fmt, va_list ap)
{
	log_text(LOG_LVL_WARN, errno, fmt, ap);
}

void
vwarnx(const char *fmt, va_list ap)
{
	log_text(LOG_LVL_WARN, 0, fmt, ap);
}

void
verr(int status, const char *fmt, va_list ap)
{
	log_text(LOG_LVL_ERROR, errno, fmt, ap);
	exit(status);
}

void
verrx(int status, const char *fmt, va_list ap)
{
	log_text(LOG_LVL_ERROR, 0, fmt, ap);
	exit(status);
}

void
warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vwarn(fmt, ap);
	va_end(ap);
}

void
warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vwarnx(fmt, ap);
	va_end(ap);
}

void
err(int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	verr(status, fmt, ap);
	va_end(ap);
}

void
errx(int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	verrx(status, fmt, ap);
	va_end(ap);
}

double
monotime(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

uint64_t
wallclock_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void
progress_init(struct progress *p, int enabled, const char *what)
{
	memset(p, 0, sizeof(*p));
	p->enabled = enabled;
	p->what = what;
	p->start = p->last = monotime();
	if (enabled && isatty(STDERR_FILENO))
		live = p;
}

int
progress_timeout_ms(const struct progress *p)
{
	double left;

	if (!p->enabled)
		return -1;
	left = p->last + 1.0 - monotime();
	return left <= 0 ? 0 : (int)(left * 1000) + 1;
}

static void
progress_print(struct progress *p, double now, const char *last, int done)
{
	double secs = now - p->start > 1e-9 ? now - p->start : 1e-9;
	double mbs = (double)p->bytes / 1e6 / secs;
	struct buf b = BUF_INIT;

	if (live == p) {
		buf_addf(&b, "\r\033[K%s: %llu %s, %.1f MB, %.1f MB/s, %.0f s",
		    prog_name(), (unsigned long long)p->count, p->what,
		    (double)p->bytes / 1e6, mbs, now - p->start);
		if (last != NULL)
			buf_addf(&b, ", last %s", last);
		if (done)
			buf_addch(&b, '\n');
		(void)write_all(STDERR_FILENO, b.data, b.len);
		p->drawn = !done;
		buf_release(&b);
		return;
	}
	log_info(done ? "done" : "progress", "%s=%llu bytes=%llu "
	    "mb_per_s=%.1f seconds=%.0f last=%s", p->what,
	    (unsigned long long)p->count, (unsigned long long)p->bytes, mbs,
	    now - p->start, last != NULL ? last : "-");
}

void
progress_tick(struct progress *p, const char *last)
{
	double now;

	if (!p->enabled)
		return;
	now = monotime();
	if (now - p->last >= 1.0) {
		p->last = now;
		progress_print(p, now, last, 0);
	}
}

void
progress_done(struct progress *p)
{
	if (p->enabled)
		progress_print(p, monotime(), NULL, 1);
	if (live == p)
		live = NULL;
}
