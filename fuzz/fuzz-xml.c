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

/* One <Contents> element: what list.c's take_page makes of it. */
static void
one_contents(const char *p, size_t n)
{
	static const char *const fields[] = { "Key", "Size", "LastModified" };
	struct buf v[3] = { BUF_INIT, BUF_INIT, BUF_INIT };
	struct tm tm;
	size_t k;

	for (k = 0; k < 3; k++) {
		if (!xml_text(p, n, fields[k], &v[k]))
			break;
		fuzz_check(v[k].len <= n);
	}
	if (k == 3) {
		(void)strtoull(v[1].data, NULL, 10);
		memset(&tm, 0, sizeof(tm));
		if (strptime(v[2].data, "%Y-%m-%dT%H:%M:%S", &tm) != NULL)
			(void)timegm(&tm);
	}
	for (k = 0; k < 3; k++)
		buf_release(&v[k]);
}

/* Every <Contents>...</Contents> in turn, as a ListObjectsV2 page. */
static void
contents(const char *doc, size_t len)
{
	const char *end = doc + len, *open, *close = doc;

	for (;;) {
		open = memmem(close, (size_t)(end - close), "<Contents>", 10);
		if (open == NULL)
			return;
		close = memmem(open, (size_t)(end - open), "</Contents>", 11);
		if (close == NULL)
			return;
		one_contents(open, (size_t)(close - open));
		close += 11;
	}
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
