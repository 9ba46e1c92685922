/* unit: deliver/xml.c */
/*
 * fuzz-xml: an object store's answer body as deliver reads it: every
 * element deliver asks xml_text for (ListObjectsV2's IsTruncated and
 * NextContinuationToken, and Key, Size, LastModified inside each
 * <Contents> as list.c's take_page walks them; an error's Code, Message,
 * RequestId, Region; InitiateMultipartUpload's UploadId;
 * CompleteMultipartUpload's ETag) and the root element checks.  The body
 * is in an allocation of exactly its size (a store's answer need not end
 * where a C string would).  Checked: decoding never makes text longer
 * than the element's bytes.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "fuzz.h"
#include "../deliver/xml.h"

static const char *const tags[] = {
	"IsTruncated", "NextContinuationToken", "Code", "Message",
	"RequestId", "Region", "UploadId", "ETag", "Key", "Bucket",
};

static const char *const roots[] = {
	"Error", "ListBucketResult", "InitiateMultipartUploadResult",
	"CompleteMultipartUploadResult",
};

/* As list.c's take_page: the <Contents> elements, one at a time. */
static void
contents(const char *doc, size_t len)
{
	const char *p = doc, *end = doc + len, *close;
	struct buf key = BUF_INIT, size = BUF_INIT, mtime = BUF_INIT;
	struct tm tm;

	while ((p = memmem(p, (size_t)(end - p), "<Contents>", 10)) != NULL &&
	    (close = memmem(p, (size_t)(end - p), "</Contents>", 11)) != NULL) {
		size_t n = (size_t)(close - p);

		buf_reset(&key);
		buf_reset(&size);
		buf_reset(&mtime);
		if (xml_text(p, n, "Key", &key) &&
		    xml_text(p, n, "Size", &size) &&
		    xml_text(p, n, "LastModified", &mtime)) {
			fuzz_check(key.len <= n && size.len <= n &&
			    mtime.len <= n);
			(void)strtoull(size.data, NULL, 10);
			memset(&tm, 0, sizeof(tm));
			if (strptime(mtime.data, "%Y-%m-%dT%H:%M:%S", &tm))
				(void)timegm(&tm);
		}
		p = close + 11;
	}
	buf_release(&key);
	buf_release(&size);
	buf_release(&mtime);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *doc = (const char *)data;
	struct buf t = BUF_INIT;
	size_t i;

	for (i = 0; i < sizeof(tags) / sizeof(tags[0]); i++) {
		buf_reset(&t);
		if (xml_text(doc, size, tags[i], &t))
			fuzz_check(t.len <= size);
		else
			fuzz_check(t.len == 0);
	}
	for (i = 0; i < sizeof(roots) / sizeof(roots[0]); i++)
		(void)xml_root_is(doc, size, roots[i]);
	contents(doc, size);
	buf_release(&t);
	return 0;
}
