/* Minimal XML reading for object store answers; see xml.h. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "xml.h"

/* Find "<tag>" or "<tag attr...>" in doc; return the byte after its '>'. */
static const char *
find_open(const char *doc, const char *end, const char *tag, size_t tlen)
{
	const char *p = doc;

	while (p < end && (p = memchr(p, '<', (size_t)(end - p))) != NULL) {
		p++;
		if ((size_t)(end - p) > tlen && memcmp(p, tag, tlen) == 0 &&
		    (p[tlen] == '>' || p[tlen] == ' ')) {
			const char *gt = memchr(p, '>', (size_t)(end - p));

			return gt != NULL && gt[-1] != '/' ? gt + 1 : NULL;
		}
	}
	return NULL;
}

static void
add_decoded(struct buf *out, const char *s, size_t n)
{
	static const struct { const char *ent; char c; } ents[] = {
		{ "&lt;", '<' }, { "&gt;", '>' }, { "&amp;", '&' },
		{ "&quot;", '"' }, { "&apos;", '\'' },
	};
	size_t i, k;

	for (i = 0; i < n; i++) {
		if (s[i] != '&') {
			buf_addch(out, s[i]);
			continue;
		}
		for (k = 0; k < sizeof(ents) / sizeof(ents[0]); k++) {
			size_t el = strlen(ents[k].ent);

			if (n - i >= el && memcmp(s + i, ents[k].ent, el) == 0)
				break;
		}
		if (k < sizeof(ents) / sizeof(ents[0])) {
			buf_addch(out, ents[k].c);
			i += strlen(ents[k].ent) - 1;
		} else if (n - i > 3 && s[i + 1] == '#') {
			char *semi;
			long v = s[i + 2] == 'x' ? strtol(s + i + 3, &semi, 16) :
			    strtol(s + i + 2, &semi, 10);

			if (semi < s + n && *semi == ';' && v > 0 && v < 128) {
				buf_addch(out, (int)v);
				i = (size_t)(semi - s);
			} else
				buf_addch(out, '&');
		} else
			buf_addch(out, '&');
	}
}

int
xml_text(const char *doc, size_t len, const char *tag, struct buf *out)
{
	const char *end = doc + len, *start, *p;
	size_t tlen = strlen(tag);

	if ((start = find_open(doc, end, tag, tlen)) == NULL)
		return 0;
	for (p = start; p < end && (p = memchr(p, '<', (size_t)(end - p)));
	    p++) {
		if ((size_t)(end - p) >= tlen + 3 && p[1] == '/' &&
		    memcmp(p + 2, tag, tlen) == 0 && p[2 + tlen] == '>') {
			add_decoded(out, start, (size_t)(p - start));
			return 1;
		}
	}
	return 0;
}

int
xml_root_is(const char *doc, size_t len, const char *tag)
{
	const char *p = doc, *end = doc + len;
	size_t tlen = strlen(tag);

	for (;;) {
		while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' ||
		    *p == '\n'))
			p++;
		if (end - p < 2 || *p != '<')
			return 0;
		if (p[1] != '?' && p[1] != '!')
			break;
		if ((p = memchr(p, '>', (size_t)(end - p))) == NULL)
			return 0;
		p++;
	}
	p++;
	return (size_t)(end - p) > tlen && memcmp(p, tag, tlen) == 0 &&
	    (p[tlen] == '>' || p[tlen] == ' ' || p[tlen] == '\n' ||
	    p[tlen] == '\r' || p[tlen] == '\t');
}

long long
xml_time(const char *s)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	if (strptime(s, "%Y-%m-%dT%H:%M:%S", &tm) == NULL)
		return -1;
	return (long long)timegm(&tm);
}

void
xml_each_contents(const char *doc, size_t len, size_t plen,
    xml_contents_fn *fn, void *arg)
{
	const char *p = doc, *end = doc + len, *close;
	struct buf key = BUF_INIT, size = BUF_INIT, mtime = BUF_INIT;

	while ((p = memmem(p, (size_t)(end - p), "<Contents>", 10)) != NULL &&
	    (close = memmem(p, (size_t)(end - p), "</Contents>", 11)) != NULL) {
		size_t n = (size_t)(close - p);

		buf_reset(&key);
		buf_reset(&size);
		buf_reset(&mtime);
		if (xml_text(p, n, "Key", &key) && key.len > plen &&
		    xml_text(p, n, "Size", &size) &&
		    xml_text(p, n, "LastModified", &mtime))
			fn(arg, key.data + plen, key.len - plen,
			    strtoull(size.data, NULL, 10), xml_time(mtime.data));
		p = close + 11;
	}
	buf_release(&key);
	buf_release(&size);
	buf_release(&mtime);
}
