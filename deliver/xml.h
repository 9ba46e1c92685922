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

#endif
