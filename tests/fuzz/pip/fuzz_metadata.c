/* libFuzzer target for the metadata readers (src/pip/metadata.c and
 * names.c): PKG-INFO/METADATA, pyproject.toml, setup.cfg, setup.py, pip's
 * directory names, written metadata paths, requirement lines and archive
 * names all come from the package being installed.  Checks that a name or
 * version that comes out is what pip_meta_value promises: bounded,
 * printable ASCII without blanks, quotes or backslashes; a success names
 * the project.
 *
 *   make fuzz FUZZ_TIME=60   (corpus and crash inputs: tests/fuzz/corpus/metadata/)
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pip/pip.h"

static void check_value(const char *v, size_t cap)
{
	size_t n = strnlen(v, cap);

	if (n >= cap)
		abort();
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)v[i] <= 0x20 || (unsigned char)v[i] >= 0x7f || v[i] == '"' ||
		    v[i] == '\'' || v[i] == '\\')
			abort();
}

static void check(int rc, const struct pip_meta *m)
{
	check_value(m->name, sizeof(m->name));
	check_value(m->version, sizeof(m->version));
	if (rc == 0 && !m->name[0])
		abort();
	if (!m->source)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	struct pip_meta m;

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	check(pip_meta_from_pkginfo(text, &m), &m);
	check(pip_meta_from_pyproject(text, &m), &m);
	check(pip_meta_from_setupcfg(text, &m), &m);
	check(pip_meta_from_setuppy(text, &m), &m);
	check(pip_meta_from_dirname(text, &m), &m);
	check(pip_meta_from_written(text, &m), &m);
	check(pip_requirement_meta(text, &m) ? 0 : -1, &m);
	check(pip_archive_meta(text, &m) ? 0 : -1, &m);
	{
		char *norm = pip_normalize_name(text);

		if (strlen(norm) > strlen(text))
			abort();
		free(norm);
	}
	free(text);
	return 0;
}
