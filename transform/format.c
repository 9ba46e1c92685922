/* The table of output formats; see format.h. */
#include <string.h>

#include "format.h"

/* Every --format. */
static const struct fmt_ops *const formats[] = {
	&fmt_jsonl, &fmt_raw, &fmt_csv, &fmt_parquet,
};

const char format_names[] = "jsonl, raw, csv or parquet";

const struct fmt_ops *
format_find(const char *s)
{
	size_t i;

	for (i = 0; i < sizeof(formats) / sizeof(formats[0]); i++)
		if (strcmp(formats[i]->name, s) == 0)
			return formats[i];
	return NULL;
}

void
fmt_nothing(void *state, struct buf *out)
{
}
