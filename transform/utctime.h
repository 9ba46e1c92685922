/*
 * utctime: milliseconds since the epoch to a UTC calendar date, without
 * gmtime(3)'s locking and time zone machinery (it runs once per record).
 */
#ifndef TRANSFORM_UTCTIME_H
#define TRANSFORM_UTCTIME_H

#include <stdint.h>

struct buf;

struct utc {
	int	year, mon, day, hour, min, sec, ms;
};

void	utc_from_ms(struct utc *, uint64_t ms);
/* Append "YYYY-MM-DDTHH:MM:SS.mmmZ" (ISO 8601, RFC 3339). */
void	utc_add_iso(struct buf *, uint64_t ms);
/* Append v as exactly two decimal digits (v < 100), or four. */
void	utc_add_2d(struct buf *, int v);
void	utc_add_4d(struct buf *, int v);

#endif
