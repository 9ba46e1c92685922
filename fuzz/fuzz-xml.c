/* unit: deliver/xml.c */
/*
 * fuzz-xml: an object store's answer body as deliver reads it: every
 * element deliver asks xml_text for (ListObjectsV2's IsTruncated and
 * NextContinuationToken, and Key, Size, LastModified inside each
 * <Contents> as xml_each_contents() walks them; an error's Code, Message,
 * RequestId, Region; InitiateMultipartUpload's UploadId;
 * CompleteMultipartUpload's ETag) and the root element checks.  The body
 * is in an allocation of exactly its size (a store's answer need not end
 * where a C string would).  Checked: decoding never makes text longer
 * than the element's bytes.
 */
#include <stdlib.h>
#include <string.h>

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

/* One <Contents> as deliver's listing takes it. */
static void
one_contents(void *arg, const char *key, size_t keylen,
    unsigned long long size, long long mtime)
{
	size_t len = *(const size_t *)arg;

	fuzz_check(keylen <= len);
	(void)key;
	(void)size;
	(void)mtime;
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
	xml_each_contents(doc, size, 0, one_contents, &size);
	buf_release(&t);
	return 0;
}
