/* The insides of profiles, shared by the files that implement profile.h:
 *   profile_load.c     the files: names and paths, the extends chain, the project's own
 *   profile_parse.c    one file's JSON, checked key by key, applied onto a profile
 *   profile_vars.c     run-time variables: their names and values, and patterns expanded
 *   profile_classes.c  the built-in syscall classes
 * and with match.c, which expands patterns before it compiles them.  Not
 * for other layers: their door is decide/engine.h. */
#ifndef PIPJAIL_PROFILE_PRIV_H
#define PIPJAIL_PROFILE_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <cjson/cJSON.h>

#include "decide/profile.h"

/* A file of the extends chain being loaded: meeting it again is a loop. */
struct chain_link {
	dev_t dev;
	ino_t ino;
	char *name;
};

/* One profile_load(): where its one error goes and how far it got. */
struct loadctx {
	const struct profile_source *src;
	char *err;
	size_t errlen;
	const char *file;          /* the file being applied (owned by the profile) */
	struct chain_link chain[PROFILE_MAX_DEPTH + 1];
	int depth;
	bool failed;
};

/* ---- profile_parse.c -------------------------------------------------------- */

/* The load's error, "profile FILE: JSON.PATH: MESSAGE" (the first one only:
 * later problems follow from it). */
void profile_fail_at(struct loadctx *c, const char *jpath, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* "found <what v is>; expected <expected>" at jpath. */
void profile_wrong_type(struct loadctx *c, const char *jpath, const cJSON *v, const char *expected);
/* Text cJSON could not parse: where it stopped, as "line L, column C". */
void profile_json_error(struct loadctx *c, const char *text, size_t len);
/* One file's top-level object onto p (after the parents of its extends).
 * false after profile_fail_at. */
bool profile_apply_top(struct loadctx *c, const cJSON *obj, struct profile *p);
void pattern_list_clear(struct pattern_list *l);

/* ---- profile_vars.c --------------------------------------------------------- */

/* The variable a '$' at s names ("$NAME" or "${NAME}"): its enum
 * profile_var, or -1 when the name is none.  *len is the name's length (0:
 * no name); *next is past it, and past the '}' that closes a braced name. */
int profile_var_at(const char *s, size_t *len, const char **next);

/* Expand the variables of text into out; 1 when a variable is unset,
 * -1 when out is too small.  $SRC is srcdir; with escape, a value that is
 * not a glob itself is escaped (a home named "we[ir]d" stays literal). */
int profile_expand(const struct profile *p, const char *text, const char *srcdir, bool escape,
		   char *out, size_t outlen);

#endif
