/* Is a command line pip? */
#include <string.h>

#include "pip/pip.h"

/* pip, pip3, pip3.11, or python -m pip. */
bool pip_command_is_pip(char *const *argv)
{
	const char *base = strrchr(argv[0], '/');

	base = base ? base + 1 : argv[0];
	if (strncmp(base, "pip", 3) == 0)
		return true;
	if (strncmp(base, "python", 6) == 0)
		for (size_t i = 1; argv[i] && argv[i + 1]; i++)
			if (strcmp(argv[i], "-m") == 0)
				return strcmp(argv[i + 1], "pip") == 0;
	return false;
}
