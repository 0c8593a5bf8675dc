/* Path globs: compile to a token list, match by NFA simulation (see glob.h). */
#include "decide/glob.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "base/base.h"

enum tok_type { T_LIT, T_ANY, T_CLASS, T_STAR, T_DSTAR };

struct tok {
	uint8_t type;
	uint8_t c;          /* T_LIT */
	uint16_t cls;       /* T_CLASS: index into classes */
};

struct glob {
	size_t n;
	struct tok *toks;
	uint8_t (*classes)[32];  /* 256-bit sets */
	size_t n_classes;
	char *prefix;            /* literal prefix */
	size_t prefix_len;
};

static bool is_magic(char c)
{
	return c == '*' || c == '?' || c == '[' || c == '\\';
}

bool glob_has_magic(const char *s)
{
	for (; *s; s++)
		if (is_magic(*s))
			return true;
	return false;
}

bool glob_escape(const char *s, char *out, size_t outlen)
{
	size_t o = 0;

	for (; *s; s++) {
		if (is_magic(*s)) {
			if (o + 1 >= outlen)
				return false;
			out[o++] = '\\';
		}
		if (o + 1 >= outlen)
			return false;
		out[o++] = *s;
	}
	if (o >= outlen)
		return false;
	out[o] = '\0';
	return true;
}

size_t glob_literal_prefix(const char *pattern)
{
	size_t i = 0;

	while (pattern[i] && !is_magic(pattern[i]))
		i++;
	return i;
}

static void set_bit(uint8_t *set, unsigned char c)
{
	set[c >> 3] |= (uint8_t)(1u << (c & 7));
}

static bool has_bit(const uint8_t *set, unsigned char c)
{
	return set[c >> 3] & (1u << (c & 7));
}

/* One character of a class at p[*j] into *c (a '\' before it makes it
 * literal), *j past it; -1 when that '\' ends the pattern. */
static int class_char(const char *p, size_t *j, size_t start, unsigned char *c, char *err,
		      size_t errlen)
{
	if (p[*j] == '\\') {
		if (!p[*j + 1]) {
			snprintf(err, errlen, "a '\\' ends the pattern inside '[' at offset %zu", start);
			return -1;
		}
		(*j)++;
	}
	*c = (unsigned char)p[(*j)++];
	return 0;
}

/* Parse "[...]" starting at p[*i] == '['; on success *i is past the ']'. */
static int parse_class(const char *p, size_t *i, uint8_t *set, char *err, size_t errlen)
{
	size_t start = *i, j = *i + 1;
	bool negate = false, first = true;

	memset(set, 0, 32);
	if (p[j] == '!' || p[j] == '^') {
		negate = true;
		j++;
	}
	for (;; first = false) {
		unsigned char lo, hi;

		if (!p[j]) {
			snprintf(err, errlen, "unterminated '[' at offset %zu", start);
			return -1;
		}
		if (p[j] == ']' && !first)
			break;
		if (class_char(p, &j, start, &lo, err, errlen) < 0)
			return -1;
		hi = lo;
		if (p[j] == '-' && p[j + 1] && p[j + 1] != ']') {
			j++;
			if (class_char(p, &j, start, &hi, err, errlen) < 0)
				return -1;
			if (hi < lo) {
				snprintf(err, errlen, "reversed range '%c-%c' in '[' at offset %zu", lo, hi, start);
				return -1;
			}
		}
		for (unsigned c = lo; c <= hi; c++)
			set_bit(set, (unsigned char)c);
	}
	if (negate)
		for (int k = 0; k < 32; k++)
			set[k] = (uint8_t)~set[k];
	/* A class never matches the separator: '*' and '?' do not either. */
	set['/' >> 3] &= (uint8_t)~(1u << ('/' & 7));
	set[0] &= (uint8_t)~1u;
	*i = j + 1;
	return 0;
}

void glob_free(struct glob *g)
{
	if (!g)
		return;
	free(g->toks);
	free(g->classes);
	free(g->prefix);
	free(g);
}

struct glob *glob_compile(const char *p, char *err, size_t errlen)
{
	size_t len = strlen(p), i = 0;
	struct glob *g;

	if (len == 0) {
		snprintf(err, errlen, "the pattern is empty");
		return NULL;
	}
	if (len > GLOB_MAX) {
		snprintf(err, errlen, "the pattern is longer than %d bytes", GLOB_MAX);
		return NULL;
	}
	g = xcalloc(1, sizeof(*g));
	g->toks = xcalloc(len, sizeof(*g->toks));
	while (i < len) {
		struct tok *t = &g->toks[g->n];

		switch (p[i]) {
		case '\\':
			if (i + 1 >= len) {
				snprintf(err, errlen, "a '\\' ends the pattern (escape nothing)");
				goto fail;
			}
			t->type = T_LIT;
			t->c = (uint8_t)p[i + 1];
			i += 2;
			break;
		case '?':
			t->type = T_ANY;
			i++;
			break;
		case '*':
			if (p[i + 1] == '*') {
				bool seg_start = i == 0 || p[i - 1] == '/';
				bool seg_end = p[i + 2] == '\0' || p[i + 2] == '/';

				if (!seg_start || !seg_end) {
					snprintf(err, errlen, "'**' at offset %zu is not a whole path segment "
						 "(write /" "**" "/ or end with /" "**; '*' matches within a segment)", i);
					goto fail;
				}
				t->type = T_DSTAR;
				i += 2;
			} else {
				t->type = T_STAR;
				i++;
			}
			break;
		case '[':
			if (g->n_classes >= UINT16_MAX) {
				snprintf(err, errlen, "too many '[...]' sets");
				goto fail;
			}
			g->classes = xrealloc(g->classes, (g->n_classes + 1) * sizeof(*g->classes));
			if (parse_class(p, &i, g->classes[g->n_classes], err, errlen) < 0)
				goto fail;
			t->type = T_CLASS;
			t->cls = (uint16_t)g->n_classes++;
			break;
		default:
			t->type = T_LIT;
			t->c = (uint8_t)p[i++];
		}
		g->n++;
	}
	g->prefix_len = glob_literal_prefix(p);
	/* "/usr/" + "**" also matches "/usr": the prefix check stops before the '/'. */
	if (g->prefix_len && p[g->prefix_len - 1] == '/' && p[g->prefix_len] == '*' &&
	    p[g->prefix_len + 1] == '*')
		g->prefix_len--;
	g->prefix = xmalloc(g->prefix_len + 1);
	memcpy(g->prefix, p, g->prefix_len);
	g->prefix[g->prefix_len] = '\0';
	return g;
fail:
	glob_free(g);
	return NULL;
}

int glob_check(const char *pattern, char *err, size_t errlen)
{
	struct glob *g = glob_compile(pattern, err, errlen);

	if (!g)
		return -1;
	glob_free(g);
	return 0;
}

/* Add state i and everything reachable from it without consuming input.
 * Epsilon edges only go forward, so one call per state in ascending order
 * closes the set. */
static void add_state(const struct glob *g, uint8_t *set, size_t i)
{
	if (set[i])
		return;
	set[i] = 1;
	if (i >= g->n)
		return;
	switch (g->toks[i].type) {
	case T_STAR:
		add_state(g, set, i + 1);
		break;
	case T_DSTAR:
		add_state(g, set, i + 1);
		break;
	case T_LIT:
		if (g->toks[i].c != '/' || i + 1 >= g->n || g->toks[i + 1].type != T_DSTAR)
			break;
		// A trailing "/**" also matches the directory itself; "/**/" may
		// match one '/' alone: "/a/**/b" matches "/a/b".  The edge leaves
		// the '/' before "**", so it is taken only before "**" consumed
		// anything.
		if (i + 2 == g->n)
			add_state(g, set, g->n);
		else if (g->toks[i + 2].type == T_LIT && g->toks[i + 2].c == '/')
			add_state(g, set, i + 2);
		break;
	default:
		break;
	}
}

bool glob_match_compiled(const struct glob *g, const char *path)
{
	uint8_t small[2][256], *cur, *next, *big = NULL;
	size_t n = g->n + 1;
	bool any = true, matched;

	if (strncmp(path, g->prefix, g->prefix_len) != 0)
		return false;
	if (n <= sizeof(small[0])) {
		cur = small[0];
		next = small[1];
	} else {
		big = xmalloc(2 * n);
		cur = big;
		next = big + n;
	}
	memset(cur, 0, n);
	add_state(g, cur, 0);
	// A leading "**/" may match nothing: "**/setup.py" matches "setup.py".
	if (g->n >= 2 && g->toks[0].type == T_DSTAR && g->toks[1].type == T_LIT && g->toks[1].c == '/')
		add_state(g, cur, 2);
	for (const unsigned char *s = (const unsigned char *)path; *s; s++) {
		memset(next, 0, n);
		any = false;
		for (size_t i = 0; i < g->n; i++) {
			const struct tok *t = &g->toks[i];

			if (!cur[i])
				continue;
			switch (t->type) {
			case T_LIT:
				if (*s == t->c) {
					add_state(g, next, i + 1);
					any = true;
				}
				break;
			case T_ANY:
				if (*s != '/') {
					add_state(g, next, i + 1);
					any = true;
				}
				break;
			case T_CLASS:
				if (has_bit(g->classes[t->cls], *s)) {
					add_state(g, next, i + 1);
					any = true;
				}
				break;
			case T_STAR:
				if (*s != '/') {
					add_state(g, next, i);
					any = true;
				}
				break;
			case T_DSTAR:
				add_state(g, next, i);
				any = true;
				break;
			}
		}
		uint8_t *tmp = cur;

		cur = next;
		next = tmp;
		if (!any)
			break;
	}
	/* When the loop stopped early (no state left), cur is the empty set. */
	matched = cur[g->n];
	free(big);
	return matched;
}

bool glob_match(const char *pattern, const char *path)
{
	char err[128];
	struct glob *g = glob_compile(pattern, err, sizeof(err));
	bool m;

	if (!g)
		return false;
	m = glob_match_compiled(g, path);
	glob_free(g);
	return m;
}
