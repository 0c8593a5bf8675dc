/* Environment entries already known to carry no decoy token.  Every exec's
 * whole environment is looked at, and from one exec to the next it is
 * nearly always the same (a build's processes inherit it): an entry seen
 * clean before is not scanned again.  Entries are compared whole (the hash
 * only finds the slot), so no entry can pass for another.  A table of
 * ENVSEEN_SLOTS entries and ENVSEEN_BYTES of text, emptied when full. */
#include "decide/engine_priv.h"

#include <string.h>

#include "base/base.h"

#define ENVSEEN_SLOTS 8192          /* a power of two; at most half used */
#define ENVSEEN_BYTES (4u << 20)

struct envseen {
	uint64_t hash[ENVSEEN_SLOTS];
	char *s[ENVSEEN_SLOTS];
	size_t n, bytes;
};

static void clear(struct envseen *t)
{
	for (size_t i = 0; i < ENVSEEN_SLOTS; i++) {
		free(t->s[i]);
		t->s[i] = NULL;
	}
	t->n = t->bytes = 0;
}

/* The slot of entry s: where it is, or the free one where it would go. */
static size_t slot_of(const struct envseen *t, const char *s, size_t len, uint64_t h)
{
	size_t i = h & (ENVSEEN_SLOTS - 1);

	while (t->s[i] && (t->hash[i] != h || strncmp(t->s[i], s, len + 1)))
		i = (i + 1) & (ENVSEEN_SLOTS - 1);
	return i;
}

bool envseen_clean(const struct engine *e, const char *s)
{
	size_t len = strlen(s);
	uint64_t h = fnv1a(FNV1A_INIT, s, len);

	return e->envseen && e->envseen->s[slot_of(e->envseen, s, len, h)];
}

void envseen_add(struct engine *e, const char *s)
{
	size_t len = strlen(s), i;
	uint64_t h = fnv1a(FNV1A_INIT, s, len);
	struct envseen *t = e->envseen;

	if (!t)
		t = e->envseen = xcalloc(1, sizeof(*t));
	if (t->n >= ENVSEEN_SLOTS / 2 || t->bytes + len > ENVSEEN_BYTES)
		clear(t);
	i = slot_of(t, s, len, h);
	if (t->s[i])
		return;
	t->s[i] = xstrdup(s);
	t->hash[i] = h;
	t->n++;
	t->bytes += len;
}

void envseen_free(struct engine *e)
{
	if (!e->envseen)
		return;
	clear(e->envseen);
	free(e->envseen);
	e->envseen = NULL;
}
