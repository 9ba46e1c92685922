/* unit: transform/json_valid.c transform/json_get.c transform/json_write.c */
/*
 * fuzz-json: a message payload through transform's JSON toolkit: the
 * validator that decides whether it is embedded verbatim
 * (json_is_container), the UTF-8 checks, string escaping and base64.
 * Properties checked: strict escaping succeeds exactly when the payload
 * is valid UTF-8 without NUL; an escaped string (strict or not) is
 * valid JSON, with no CR or LF; a container the validator took is still
 * one inside an array (below the depth limit); base64 has its length.
 */
#include <string.h>

#include "buf.h"
#include "fuzz.h"
#include "../transform/json.h"

/* "[" s "]" is a JSON container. */
static int
in_array(const char *s, size_t n)
{
	struct buf b = BUF_INIT;
	int ok;

	buf_addch(&b, '[');
	buf_add(&b, s, n);
	buf_addch(&b, ']');
	ok = json_is_container(b.data, b.len);
	buf_release(&b);
	return ok;
}

static size_t
depth_of(const char *s, size_t n)
{
	size_t i, d = 0, max = 0;
	int str = 0;

	for (i = 0; i < n; i++) {
		if (str) {
			if (s[i] == '\\')
				i++;
			else if (s[i] == '"')
				str = 0;
		} else if (s[i] == '"')
			str = 1;
		else if (s[i] == '{' || s[i] == '[') {
			if (++d > max)
				max = d;
		} else if (s[i] == '}' || s[i] == ']')
			d--;
	}
	return max;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	struct buf b = BUF_INIT;
	int valid, strict;

	valid = utf8_valid_nonul(s, size);
	strict = json_add_string(&b, s, size, 1) == 0;
	fuzz_check(valid == strict);
	fuzz_check(strict || b.len == 0);
	if (strict) {
		fuzz_check(memchr(b.data, '\n', b.len) == NULL &&
		    memchr(b.data, '\r', b.len) == NULL);
		fuzz_check(in_array(b.data, b.len));
	}
	buf_reset(&b);
	fuzz_check(json_add_string(&b, s, size, 0) == 0);
	fuzz_check(utf8_valid_nonul(b.data, b.len));
	fuzz_check(in_array(b.data, b.len));

	if (json_is_container(s, size)) {
		fuzz_check(memchr(s, '\n', size) == NULL &&
		    memchr(s, '\r', size) == NULL && valid);
		if (depth_of(s, size) < JSON_MAX_DEPTH)
			fuzz_check(in_array(s, size));
	}

	buf_reset(&b);
	base64_add(&b, s, size);
	fuzz_check(b.len == (size + 2) / 3 * 4);
	buf_release(&b);
	return 0;
}
