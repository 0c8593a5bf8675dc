/* libFuzzer target for the pip.conf reader (src/pip/config.c): the files
 * are the user's and the system's, read before the jail exists, and the
 * index settings drawn from them name the hosts pip may reach.  Checks
 * that every item has a line within the file, a bounded section and key,
 * and a value.
 *
 *   make fuzz FUZZ_TIME=60   (corpus and crash inputs: tests/fuzz/corpus/config/)
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pip/pip.h"

static unsigned max_line;

static int on_item(void *ctx, const struct pip_config_item *it)
{
	(void)ctx;
	if (!it->file || !it->section || !it->key || !it->value)
		abort();
	if (it->line == 0 || it->line > max_line || strlen(it->section) > 63 || strlen(it->key) > 63)
		abort();
	/* what index.c asks of every item */
	(void)pip_option_name(pip_option_by_name(it->key));
	(void)pip_config_truthy(it->value);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	max_line = (unsigned)size + 1;
	pip_config_parse("/etc/pip.conf", (const char *)data, size, on_item, NULL);
	return 0;
}
