/*
 * xml: just enough XML for object store answers, which are small, flat
 * and machine-written: the text of the first <TAG>...</TAG>, with the five
 * predefined entities and numeric references decoded.
 */
#ifndef DELIVER_XML_H
#define DELIVER_XML_H

#include <stddef.h>

struct buf;

/* 1 and the text appended to out, or 0 if there is no such element. */
int	xml_text(const char *doc, size_t len, const char *tag, struct buf *out);
/* Nonzero if the document's root element is <tag> (after any <?xml?>). */
int	xml_root_is(const char *doc, size_t len, const char *tag);

/*
 * Each <Contents> of a ListObjectsV2 page that has a Key longer than
 * plen bytes (the prefix, cut off), a Size and a LastModified: fn(arg,
 * key, keylen, size, mtime in seconds since the epoch or -1).
 */
typedef void xml_contents_fn(void *, const char *key, size_t keylen,
	    unsigned long long size, long long mtime);
void	xml_each_contents(const char *doc, size_t len, size_t plen,
	    xml_contents_fn *fn, void *arg);
/* "2026-12-01T08:00:00.000Z" as seconds since the epoch; -1 if not. */
long long xml_time(const char *);

#endif
