/* UTC calendar dates from epoch milliseconds; see utctime.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "dec.h"
#include "utctime.h"

/*
 * Days since 1970-01-01 to a proleptic Gregorian date: count in 400-year
 * eras of 146097 days that start on March 1st, so that the leap day is
 * the last day of a year.
 */
void
utc_from_ms(struct utc *t, uint64_t ms)
{
	uint64_t secs = ms / 1000, z, era, doe, yoe, doy, mp;

	t->ms = (int)(ms % 1000);
	t->sec = (int)(secs % 60);
	t->min = (int)(secs / 60 % 60);
	t->hour = (int)(secs / 3600 % 24);
	z = secs / 86400 + 719468;		/* days since 0000-03-01 */
	era = z / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	t->day = (int)(doy - (153 * mp + 2) / 5 + 1);
	t->mon = (int)(mp < 10 ? mp + 3 : mp - 9);
	t->year = (int)(yoe + era * 400 + (t->mon <= 2));
}

/* Digits of a fixed width (at most 4) at s; -1 if not digits. */
static int
digits(const char *s, int w)
{
	uint64_t v;

	return dec_u64(s, (size_t)w, 9999, &v) == 0 ? (int)v : -1;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant). */
static int64_t
days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

int
rfc3339_ms(const char *s, size_t n, int64_t *ms)
{
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31,
	    30, 31 };
	int y, mo, d, h, mi, sec, frac = 0, k, oh, om, sign;
	size_t i = 19;

	if (n < 20 || s[4] != '-' || s[7] != '-' || s[13] != ':' ||
	    s[16] != ':' || (s[10] != 'T' && s[10] != 't' && s[10] != ' '))
		return -1;
	if ((y = digits(s, 4)) < 0 || (mo = digits(s + 5, 2)) < 1 ||
	    mo > 12 || (d = digits(s + 8, 2)) < 1 || d > mdays[mo - 1] ||
	    (h = digits(s + 11, 2)) < 0 || h > 23 ||
	    (mi = digits(s + 14, 2)) < 0 || mi > 59 ||
	    (sec = digits(s + 17, 2)) < 0 || sec > 60)
		return -1;
	if (mo == 2 && d == 29 && (y % 4 != 0 || (y % 100 == 0 &&
	    y % 400 != 0)))
		return -1;
	if (s[i] == '.') {
		for (k = 0, i++; i < n && s[i] >= '0' && s[i] <= '9'; i++, k++)
			if (k < 3)
				frac = frac * 10 + (s[i] - '0');
		if (k == 0)
			return -1;
		for (; k < 3; k++)
			frac *= 10;	/* ".5" is 500 ms; beyond ms: cut */
	}
	if (i + 1 == n && (s[i] == 'Z' || s[i] == 'z'))
		oh = om = sign = 0;
	else if (i + 6 == n && (s[i] == '+' || s[i] == '-') &&
	    s[i + 3] == ':' && (oh = digits(s + i + 1, 2)) >= 0 && oh < 24 &&
	    (om = digits(s + i + 4, 2)) >= 0 && om < 60)
		sign = s[i] == '-' ? -1 : 1;
	else
		return -1;
	if (sec == 60)
		sec = 59;	/* a leap second: its last representable ms */
	*ms = ((days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 +
	    sec - sign * (oh * 3600 + om * 60)) * 1000) + frac;
	return 0;
}

/* The same eras backwards: from 1970 on, as unsigned. */
uint64_t
utc_to_ms(const struct utc *t)
{
	uint64_t days = (uint64_t)days_from_civil(t->year, t->mon, t->day);

	return ((days * 24 + (uint64_t)t->hour) * 60 + (uint64_t)t->min) *
	    60000 + (uint64_t)t->sec * 1000 + (uint64_t)t->ms;
}

/* v's last two decimal digits at p. */
static void
put_2d(char *p, int v)
{
	p[0] = (char)('0' + v / 10 % 10);
	p[1] = (char)('0' + v % 10);
}

void
utc_add_2d(struct buf *b, int v)
{
	char d[2];

	put_2d(d, v);
	buf_add(b, d, 2);
}

void
utc_add_4d(struct buf *b, int v)
{
	if (v > 9999) {
		buf_addi64(b, v);
		return;
	}
	utc_add_2d(b, v / 100);
	utc_add_2d(b, v % 100);
}

void
utc_add_iso(struct buf *b, uint64_t ms)
{
	struct utc t;
	char s[20];

	utc_from_ms(&t, ms);
	utc_add_4d(b, t.year);	/* more digits after 9999: never truncated */
	memcpy(s, "-MM-DDTHH:MM:SS.mmmZ", sizeof(s));
	put_2d(s + 1, t.mon);
	put_2d(s + 4, t.day);
	put_2d(s + 7, t.hour);
	put_2d(s + 10, t.min);
	put_2d(s + 13, t.sec);
	s[16] = (char)('0' + t.ms / 100);
	put_2d(s + 17, t.ms);
	buf_add(b, s, sizeof(s));
}

/* "+HH:MM", "+HHMM" or "+HH" (or '-'), up to 14 hours; 0, or -1. */
static int
parse_offset(const char *s, int *off)
{
	int sign, h, m = 0;

	if ((s[0] != '+' && s[0] != '-') || s[1] < '0' || s[1] > '9' ||
	    s[2] < '0' || s[2] > '9')
		return -1;
	sign = s[0] == '-' ? -1 : 1;
	h = (s[1] - '0') * 10 + (s[2] - '0');
	s += 3;
	if (*s == ':')
		s++;
	if (*s != '\0') {
		if (s[0] < '0' || s[0] > '5' || s[1] < '0' || s[1] > '9' ||
		    s[2] != '\0')
			return -1;
		m = (s[0] - '0') * 10 + (s[1] - '0');
	}
	if (h > 14 || (h == 14 && m > 0))
		return -1;
	*off = sign * (h * 3600 + m * 60);
	return 0;
}

/* An IANA name the system has a file for (tzset(3) silently takes UTC). */
static int
zone_exists(const char *s)
{
	const char *dir = getenv("TZDIR");
	char path[1024];

	if (s[0] == '/' || strstr(s, "..") != NULL || strlen(s) > 200)
		return 0;
	snprintf(path, sizeof(path), "%s/%s", dir != NULL && *dir != '\0' ?
	    dir : "/usr/share/zoneinfo", s);
	return access(path, R_OK) == 0;
}

int
tz_parse(struct tzone *z, const char *s, char *why, size_t whylen)
{
	int off;

	memset(z, 0, sizeof(*z));
	if (strcmp(s, "UTC") == 0 || strcmp(s, "Z") == 0 ||
	    strcmp(s, "utc") == 0)
		return 0;
	if (s[0] == '+' || s[0] == '-') {
		if (parse_offset(s, &off) < 0) {
			snprintf(why, whylen, "'%s' is not an offset +HH:MM "
			    "(up to +14:00)", s);
			return -1;
		}
		z->kind = TZ_FIXED;
		z->off_s = off;
		return 0;
	}
	if (!zone_exists(s)) {
		snprintf(why, whylen, "'%s' is not UTC, an offset like +08:00 "
		    "or a time zone of the system (e.g. Asia/Shanghai)",
		    s[0] != '\0' ? s : "");
		return -1;
	}
	if (setenv("TZ", s, 1) < 0) {
		snprintf(why, whylen, "setenv TZ failed");
		return -1;
	}
	tzset();
	z->kind = TZ_NAMED;
	return 0;
}

void
tz_local(struct tzone *z, uint64_t ms, struct utc *t)
{
	struct tm tm;
	time_t secs;

	switch (z->kind) {
	case TZ_UTC:
		utc_from_ms(t, ms);
		return;
	case TZ_FIXED:
		/* before the epoch by the offset: clamp, it is no real time */
		if (z->off_s < 0 && ms < (uint64_t)-z->off_s * 1000)
			ms = 0;
		else
			ms += (int64_t)z->off_s * 1000;
		utc_from_ms(t, ms);
		return;
	case TZ_NAMED:
		break;
	}
	secs = (time_t)(ms / 1000);
	if (!z->has_last || z->last_s != (int64_t)secs) {
		if (localtime_r(&secs, &tm) == NULL) {
			utc_from_ms(t, ms);
			return;
		}
		z->last.year = tm.tm_year + 1900;
		z->last.mon = tm.tm_mon + 1;
		z->last.day = tm.tm_mday;
		z->last.hour = tm.tm_hour;
		z->last.min = tm.tm_min;
		z->last.sec = tm.tm_sec > 59 ? 59 : tm.tm_sec;
		z->last_s = (int64_t)secs;
		z->has_last = 1;
	}
	*t = z->last;
	t->ms = (int)(ms % 1000);
}
