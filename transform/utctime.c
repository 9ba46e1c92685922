/* UTC calendar dates from epoch milliseconds; see utctime.h. */
#include "buf.h"
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

void
utc_add_2d(struct buf *b, int v)
{
	char d[2] = { (char)('0' + v / 10 % 10), (char)('0' + v % 10) };

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
	s[0] = '-';
	s[1] = (char)('0' + t.mon / 10);
	s[2] = (char)('0' + t.mon % 10);
	s[3] = '-';
	s[4] = (char)('0' + t.day / 10);
	s[5] = (char)('0' + t.day % 10);
	s[6] = 'T';
	s[7] = (char)('0' + t.hour / 10);
	s[8] = (char)('0' + t.hour % 10);
	s[9] = ':';
	s[10] = (char)('0' + t.min / 10);
	s[11] = (char)('0' + t.min % 10);
	s[12] = ':';
	s[13] = (char)('0' + t.sec / 10);
	s[14] = (char)('0' + t.sec % 10);
	s[15] = '.';
	s[16] = (char)('0' + t.ms / 100);
	s[17] = (char)('0' + t.ms / 10 % 10);
	s[18] = (char)('0' + t.ms % 10);
	s[19] = 'Z';
	buf_add(b, s, sizeof(s));
}
