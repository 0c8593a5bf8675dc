/* The words for roles and actions, as profiles, traces and reports spell
 * them ("build", "kill-process").  Apart from the engine so that the
 * profile parser can read them without the engine. */
#include "decide/engine.h"

#include <string.h>

#include "base/base.h"

static const char *const role_names[ROLE_COUNT] = {
	[ROLE_NONE] = "none", [ROLE_PIP] = "pip", [ROLE_BUILD] = "build", [ROLE_TOOL] = "tool",
	[ROLE_IMPORT] = "import",
};

const char *role_name(enum role r)
{
	return r < ROLE_COUNT ? role_names[r] : "?";
}

enum role role_from_name(const char *name)
{
	for (int r = ROLE_PIP; r < ROLE_COUNT; r++)
		if (name && !strcmp(name, role_names[r]))
			return (enum role)r;
	return ROLE_NONE;
}

static const char *const action_names[] = {
	[ACTION_REPORT] = "report", [ACTION_REFUSED] = "refused",
	[ACTION_KILL_PROCESS] = "kill-process", [ACTION_KILL_JAIL] = "kill-jail",
};

const char *action_name(enum action a)
{
	return (unsigned)a < ARRAY_SIZE(action_names) ? action_names[a] : "?";
}

int action_from_name(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(action_names); i++)
		if (name && !strcmp(name, action_names[i]))
			return (int)i;
	return -1;
}
