/*
 * utctime: milliseconds since the epoch to a UTC calendar date and back,
 * without gmtime(3)'s locking and time zone machinery (it runs once per
 * record), and RFC 3339 text to milliseconds (transform's timestamp casts,
 * consume --lake's time columns).
 */
#ifndef COMMON_UTCTIME_H
#define COMMON_UTCTIME_H

#include <stddef.h>
#include <stdint.h>

struct buf;

struct utc {
	int	year, mon, day, hour, min, sec, ms;
};

void	utc_from_ms(struct utc *, uint64_t ms);
/* The inverse: milliseconds since the epoch of a date from 1970 on. */
uint64_t utc_to_ms(const struct utc *);
/*
 * Milliseconds since the epoch (negative before 1970) from an RFC 3339
 * date-time: "T", "t" or a space between date and time, a fraction of
 * any length (cut to milliseconds), "Z", "z" or an offset "+HH:MM"; a
 * leap second is its minute's last millisecond.  0, or -1 if it is not
 * one.
 */
int	rfc3339_ms(const char *s, size_t n, int64_t *ms);
/* Append "YYYY-MM-DDTHH:MM:SS.mmmZ" (ISO 8601, RFC 3339). */
void	utc_add_iso(struct buf *, uint64_t ms);
/* Append v as exactly two decimal digits (v < 100), or four. */
void	utc_add_2d(struct buf *, int v);
void	utc_add_4d(struct buf *, int v);

/*
 * The time zone of the key placeholders (--timezone): UTC, a fixed offset
 * ("+08:00"), or an IANA name read through the C library's TZ rules
 * (tzset(3) once, then localtime_r(3) per second: the last second is
 * cached, as runs of records share it).
 */
enum tz_kind { TZ_UTC, TZ_FIXED, TZ_NAMED };

struct tzone {
	enum tz_kind	 kind;
	int		 off_s;		/* TZ_FIXED: east of UTC */
	int64_t		 last_s;	/* TZ_NAMED: the cached second */
	struct utc	 last;
	int		 has_last;
};

/* "UTC", "+08:00", "-0530", "Asia/Shanghai"; 0, or -1 with why set. */
int	tz_parse(struct tzone *, const char *s, char *why, size_t whylen);
/* The local calendar time of ms in the zone. */
void	tz_local(struct tzone *, uint64_t ms, struct utc *);

#endif
