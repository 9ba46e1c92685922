/* Object key templates; see key.h and transform(1). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "key.h"
#include "utctime.h"

static const struct {
	const char	*name;
	enum key_var	 var;
} vars[] = {
	{ "topic", KV_TOPIC }, { "tenant", KV_TENANT },
	{ "namespace", KV_NAMESPACE }, { "name", KV_NAME },
	{ "partition", KV_PARTITION }, { "yyyy", KV_YYYY }, { "mm", KV_MM },
	{ "dd", KV_DD }, { "hh", KV_HH }, { "mi", KV_MI }, { "ss", KV_SS },
	{ "date", KV_DATE }, { "first_id", KV_FIRST_ID }, { "seq_id", KV_SEQ_ID },
	{ "ext", KV_EXT },
};

static int
key_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' ||
	    c == '=' || c == '/';
}

static int
dot_segment(const char *s, size_t n)
{
	return (n == 1 && s[0] == '.') ||
	    (n == 2 && s[0] == '.' && s[1] == '.');
}

int
key_is_safe(const char *k, size_t n)
{
	size_t i, seg = 0;

	if (n == 0 || n > KEY_MAX)
		return 0;
	for (i = 0; i <= n; i++) {
		if (i == n || k[i] == '/') {
			if (i == seg || dot_segment(k + seg, i - seg))
				return 0;
			seg = i + 1;
		} else if (!key_char((unsigned char)k[i]))
			return 0;
	}
	return 1;
}

static void
add_part(struct key_tmpl *t, enum key_var var, const char *lit, size_t len)
{
	t->parts = xreallocarray(t->parts, t->n + 1, sizeof(*t->parts));
	t->parts[t->n].var = var;
	t->parts[t->n].lit = lit;
	t->parts[t->n].len = len;
	t->n++;
}

static enum key_unit
unit_of(enum key_var v)
{
	switch (v) {
	case KV_YYYY: return KU_YEAR;
	case KV_MM: return KU_MONTH;
	case KV_DD: case KV_DATE: return KU_DAY;
	case KV_HH: return KU_HOUR;
	case KV_MI: return KU_MINUTE;
	case KV_SS: return KU_SECOND;
	default: return KU_NONE;
	}
}

uint64_t
key_bucket(const struct key_tmpl *t, const struct utc *tm)
{
	uint64_t b = 0;

	/* mixed radix, each field kept only down to the unit */
	if (t->unit >= KU_YEAR)
		b = (uint64_t)tm->year;
	b = b * 13 + (t->unit >= KU_MONTH ? (uint64_t)tm->mon : 0);
	b = b * 32 + (t->unit >= KU_DAY ? (uint64_t)tm->day : 0);
	b = b * 24 + (t->unit >= KU_HOUR ? (uint64_t)tm->hour : 0);
	b = b * 60 + (t->unit >= KU_MINUTE ? (uint64_t)tm->min : 0);
	b = b * 60 + (t->unit >= KU_SECOND ? (uint64_t)tm->sec : 0);
	return b;
}

/* Check the segment that ends at a '/' or at the end of the template. */
static int
check_segment(const char *seg, size_t len, int has_var, char *why,
    size_t whylen)
{
	if (len == 0) {
		snprintf(why, whylen, "key template has an empty path segment "
		    "(leading, trailing or doubled '/')");
		return -1;
	}
	if (!has_var && dot_segment(seg, len)) {
		snprintf(why, whylen, "key template has a '.' or '..' path "
		    "segment");
		return -1;
	}
	return 0;
}

int
key_field_path_ok(const char *path, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (path[i] <= ' ' || path[i] >= 0x7f || path[i] == '{' ||
		    (path[i] == '.' && (i == 0 || i + 1 == n ||
		    path[i + 1] == '.')))
			return 0;
	return n > 0;
}

/* A {field:PATH} placeholder. */
static int
add_field(struct key_tmpl *t, const char *path, size_t n, char *why,
    size_t whylen)
{
	if (t->nfields == KEY_FIELDS_MAX) {
		snprintf(why, whylen, "key template: more than %d {field:...} "
		    "placeholders", KEY_FIELDS_MAX);
		return -1;
	}
	if (!key_field_path_ok(path, n)) {
		snprintf(why, whylen, "key template: {field:%.*s}: the path "
		    "must be member names joined by '.', like {field:user.city}",
		    (int)(n > 40 ? 40 : n), path);
		return -1;
	}
	add_part(t, KV_FIELD, path, n);
	t->nfields++;
	return 0;
}

int
key_tmpl_parse(struct key_tmpl *t, const char *s, char *why, size_t whylen)
{
	const char *p = s, *seg = s, *close;
	int has_var = 0, has_first = 0, has_time = 0;
	size_t i, n;

	t->parts = NULL;
	t->n = 0;
	t->unit = KU_NONE;
	t->nfields = 0;
	t->bucket_end = 0;
	for (;;) {
		if (*p == '\0' || *p == '/') {
			if (check_segment(seg, (size_t)(p - seg), has_var,
			    why, whylen) < 0)
				goto fail;
			if (*p == '\0')
				break;
			if (has_time)
				t->bucket_end = t->n;
			has_time = 0;
			add_part(t, KV_LITERAL, p, 1);
			seg = ++p;
			has_var = 0;
			continue;
		}
		if (*p == '{') {
			if ((close = strchr(p, '}')) == NULL) {
				snprintf(why, whylen, "key template: '{' "
				    "without '}'");
				goto fail;
			}
			n = (size_t)(close - p - 1);
			if (n >= 6 && memcmp(p + 1, "field:", 6) == 0) {
				if (add_field(t, p + 7, n - 6, why, whylen) < 0)
					goto fail;
				has_var = 1;
				p = close + 1;
				continue;
			}
			for (i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
				if (strlen(vars[i].name) == n &&
				    memcmp(vars[i].name, p + 1, n) == 0)
					break;
			if (i == sizeof(vars) / sizeof(vars[0])) {
				snprintf(why, whylen, "key template: unknown "
				    "placeholder {%.*s}",
				    (int)(n > 40 ? 40 : n), p + 1);
				goto fail;
			}
			add_part(t, vars[i].var, NULL, 0);
			has_first |= vars[i].var == KV_FIRST_ID ||
			    vars[i].var == KV_SEQ_ID;
			if (unit_of(vars[i].var) > t->unit)
				t->unit = unit_of(vars[i].var);
			has_time |= unit_of(vars[i].var) != KU_NONE;
			has_var = 1;
			p = close + 1;
			continue;
		}
		if (!key_char((unsigned char)*p)) {
			snprintf(why, whylen, "key template: byte 0x%02x "
			    "('%c') not allowed (only A-Z a-z 0-9 - _ . = / "
			    "and {placeholders})", (unsigned char)*p,
			    *p > 0x20 && *p < 0x7f ? *p : '?');
			goto fail;
		}
		for (n = 0; key_char((unsigned char)p[n]) && p[n] != '/'; n++)
			;
		add_part(t, KV_LITERAL, p, n);
		p += n;
	}
	if (has_time)		/* in the final segment: no directory */
		t->bucket_end = 0;
	if (!has_first) {
		snprintf(why, whylen, "key template must contain {first_id} "
		    "or {seq_id}, or objects would overwrite each other");
		goto fail;
	}
	return 0;
fail:
	key_tmpl_free(t);
	return -1;
}

void
key_tmpl_free(struct key_tmpl *t)
{
	free(t->parts);
	t->parts = NULL;
	t->n = 0;
}

/* Append one path segment made safe: never empty, "." or "..". */
static void
add_sanitized(struct buf *b, const char *s, size_t n, int hive)
{
	size_t i;

	if (n == 0 || dot_segment(s, n)) {
		for (i = 0; i < n + (n == 0); i++)
			buf_addch(b, '_');
		return;
	}
	for (i = 0; i < n; i++)
		buf_addch(b, key_char((unsigned char)s[i]) && s[i] != '/' &&
		    (!hive || s[i] != '=') ? s[i] : '_');
}

void
key_field_add(struct buf *b, const char *s, size_t n)
{
	if (s == NULL) {
		buf_addstr(b, KEY_FIELD_NULL "/");
		return;
	}
	add_sanitized(b, s, n > KEY_FIELD_MAX ? KEY_FIELD_MAX : n, 1);
	buf_addch(b, '/');
}

/* Append the next of the values v->fields holds, from *off on. */
static void
add_field_value(struct buf *out, const struct key_vars *v, size_t *off)
{
	const char *p, *end;

	p = v->fields != NULL ? v->fields + *off : NULL;
	end = p != NULL ? memchr(p, '/', v->fieldslen - *off) : NULL;
	if (end == NULL) {		/* not given: as a missing member */
		buf_addstr(out, KEY_FIELD_NULL);
		return;
	}
	buf_add(out, p, (size_t)(end - p));
	*off += (size_t)(end - p) + 1;
}

/*
 * The topic without scheme and partition suffix, as tenant/ns/name: a
 * bare name is Pulsar's short form of persistent://public/default/name.
 */
static void
normalize_topic(struct buf *out, const char *t, size_t n)
{
	const char *p, *end = t + n, *last;
	size_t d;

	for (p = t; p + 3 <= end; p++)
		if (memcmp(p, "://", 3) == 0) {
			n -= (size_t)(p + 3 - t);
			t = p + 3;
			break;
		}
	/* "-partition-N": the partitions of a topic share its directory */
	for (d = 0; d < n && t[n - 1 - d] >= '0' && t[n - 1 - d] <= '9'; d++)
		;
	if (d > 0 && n - d >= 11 && memcmp(t + n - d - 11, "-partition-",
	    11) == 0)
		n -= d + 11;
	last = memchr(t, '/', n);
	if (last == NULL)
		buf_addstr(out, "public/default/");
	buf_add(out, t, n);
}

/* Append the segments [from, to) of a normalized topic, '/'-joined. */
static void
add_segments(struct buf *b, const char *t, size_t n, size_t from, size_t to)
{
	size_t i, seg = 0, k = 0;

	for (i = 0; i <= n; i++) {
		if (i < n && t[i] != '/')
			continue;
		if (k >= from && k < to) {
			if (k > from)
				buf_addch(b, '/');
			add_sanitized(b, t + seg, i - seg, 0);
		}
		k++;
		seg = i + 1;
	}
}

static size_t
count_segments(const char *t, size_t n)
{
	size_t i, k = 1;

	for (i = 0; i < n; i++)
		k += t[i] == '/';
	return k;
}

int
key_render(const struct key_tmpl *t, const struct key_vars *v,
    struct buf *out)
{
	return key_render_bucket(t, v, out, NULL);
}

int
key_render_bucket(const struct key_tmpl *t, const struct key_vars *v,
    struct buf *out, size_t *dirlen)
{
	struct buf topic = BUF_INIT;
	struct utc tm;
	size_t i, start = out->len, nseg, dir = 0, foff = 0;
	int ok;

	if (v->tz != NULL)
		tz_local(v->tz, v->pt_ms, &tm);
	else
		utc_from_ms(&tm, v->pt_ms);
	normalize_topic(&topic, v->topic, v->topiclen);
	nseg = count_segments(topic.data, topic.len);
	for (i = 0; i < t->n; i++) {
		if (t->bucket_end > 0 && i == t->bucket_end)
			dir = out->len - start;
		switch (t->parts[i].var) {
		case KV_LITERAL:
			buf_add(out, t->parts[i].lit, t->parts[i].len);
			break;
		case KV_TOPIC:
			add_segments(out, topic.data, topic.len, 0, nseg);
			break;
		case KV_TENANT:
			add_segments(out, topic.data, topic.len, 0, 1);
			break;
		case KV_NAMESPACE:
			/* between tenant and name: "ns", or legacy "cl/ns" */
			if (nseg < 3)
				buf_addch(out, '_');
			add_segments(out, topic.data, topic.len, 1, nseg - 1);
			break;
		case KV_NAME:
			add_segments(out, topic.data, topic.len, nseg - 1,
			    nseg);
			break;
		case KV_PARTITION:
			buf_addi64(out, v->partition);
			break;
		case KV_YYYY:
			utc_add_4d(out, tm.year);
			break;
		case KV_MM:
			utc_add_2d(out, tm.mon);
			break;
		case KV_DD:
			utc_add_2d(out, tm.day);
			break;
		case KV_HH:
			utc_add_2d(out, tm.hour);
			break;
		case KV_MI:
			utc_add_2d(out, tm.min);
			break;
		case KV_SS:
			utc_add_2d(out, tm.sec);
			break;
		case KV_DATE:
			utc_add_4d(out, tm.year);
			buf_addch(out, '-');
			utc_add_2d(out, tm.mon);
			buf_addch(out, '-');
			utc_add_2d(out, tm.day);
			break;
		case KV_FIRST_ID:
			buf_addf(out, "%lld-%lld-%ld-%ld", (long long)v->ledger,
			    (long long)v->entry, (long)v->partition,
			    (long)v->batch);
			break;
		case KV_SEQ_ID:
			/* as deliver's index names: sorts in id order */
			buf_addf(out, "%020lld.%020lld.%010lld",
			    (long long)v->ledger, (long long)v->entry,
			    (long long)v->batch + 1);
			break;
		case KV_EXT:
			add_sanitized(out, v->ext, strlen(v->ext), 0);
			break;
		case KV_FIELD:
			add_field_value(out, v, &foff);
			break;
		}
	}
	buf_release(&topic);
	ok = key_is_safe(out->data + start, out->len - start);
	if (!ok)
		buf_setlen(out, start);
	if (dirlen != NULL)
		*dirlen = ok ? dir : 0;
	return ok ? 0 : -1;
}

/* Local time t truncated to the unit, and one unit later. */
static void
unit_bounds(enum key_unit u, const struct utc *t, struct utc *s,
    struct utc *e)
{
	static const uint64_t step[] = {
		[KU_DAY] = 86400000, [KU_HOUR] = 3600000, [KU_MINUTE] = 60000,
		[KU_SECOND] = 1000
	};

	*s = *t;
	s->ms = 0;
	if (u < KU_SECOND)
		s->sec = 0;
	if (u < KU_MINUTE)
		s->min = 0;
	if (u < KU_HOUR)
		s->hour = 0;
	if (u < KU_DAY)
		s->day = 1;
	if (u < KU_MONTH)
		s->mon = 1;
	*e = *s;
	if (u == KU_YEAR)
		e->year++;
	else if (u == KU_MONTH && ++e->mon > 12) {
		e->mon = 1;
		e->year++;
	} else if (u >= KU_DAY)
		utc_from_ms(e, utc_to_ms(s) + step[u]);
}

/* The UTC milliseconds of the local time l in tz, near the instant ms. */
static uint64_t
local_to_utc(struct tzone *tz, const struct utc *l, uint64_t near)
{
	struct utc tm;
	int64_t off, lms = (int64_t)utc_to_ms(l), guess;

	tz_local(tz, near, &tm);
	off = (int64_t)utc_to_ms(&tm) - (int64_t)near;
	guess = lms - off > 0 ? lms - off : 0;
	/* across a daylight saving change: the offset of that instant */
	tz_local(tz, (uint64_t)guess, &tm);
	off = (int64_t)utc_to_ms(&tm) - guess;
	return lms - off > 0 ? (uint64_t)(lms - off) : 0;
}

void
key_bucket_range(const struct key_tmpl *t, struct tzone *tz, uint64_t ms,
    uint64_t *start, uint64_t *end)
{
	struct tzone utc = { .kind = TZ_UTC };
	struct utc tm, s, e;

	if (tz == NULL)
		tz = &utc;
	tz_local(tz, ms, &tm);
	unit_bounds(t->unit, &tm, &s, &e);
	*start = local_to_utc(tz, &s, ms);
	*end = local_to_utc(tz, &e, ms);
}
