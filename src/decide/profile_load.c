/* Profile files: a NAME is looked up in the profile directory, a PATH is
 * the user's and is opened with the user's rights; each file's "extends"
 * is applied before the file itself (the chain, base first, bounded and
 * free of loops); and a project's own .pipjail.json is found from the
 * working directory up.  What a file says is profile_parse.c's. */
#include "decide/profile_priv.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "base/base.h"

/* ---- names and directories ----------------------------------------------------- */

static bool is_path_spec(const char *s)
{
	size_t n = strlen(s);

	return strchr(s, '/') || (n > 5 && !strcmp(s + n - 5, ".json"));
}

static bool valid_name(const char *s)
{
	if (!*s || *s == '.' || strlen(s) > 64)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
		      *s == '-' || *s == '_' || *s == '.'))
			return false;
	return true;
}

static char exe_dir_buf[PATH_MAX];

const char *profile_dir(void)
{
	const char *env = getenv("PIPJAIL_PROFILE_DIR");
	struct stat st;
	ssize_t n;
	char *slash;

	if (env && *env && getuid() == 0 && geteuid() == 0)
		return env;
	if (stat(PROFILE_INSTALLED_DIR, &st) == 0 && S_ISDIR(st.st_mode))
		return PROFILE_INSTALLED_DIR;
	n = readlink("/proc/self/exe", exe_dir_buf, sizeof(exe_dir_buf) - 16);
	if (n <= 0)
		return PROFILE_INSTALLED_DIR;
	exe_dir_buf[n] = '\0';
	slash = strrchr(exe_dir_buf, '/');
	if (!slash)
		return PROFILE_INSTALLED_DIR;
	strcpy(slash, "/profiles");
	return exe_dir_buf;
}

/* Where this load looks up names. */
static const char *names_dir(const struct loadctx *c)
{
	return c->src && c->src->dir ? c->src->dir : profile_dir();
}

/* The names of the profiles in dir, for "no such profile" messages. */
static void list_names(const char *dir, char *out, size_t len)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	size_t o = 0;

	out[0] = '\0';
	if (!d)
		return;
	while ((de = readdir(d)) && o + 1 < len) {
		size_t n = strlen(de->d_name);

		if (n > 5 && !strcmp(de->d_name + n - 5, ".json") && de->d_name[0] != '.')
			o += (size_t)snprintf(out + o, len - o, "%s%.*s", o ? ", " : "", (int)(n - 5),
					      de->d_name);
	}
	closedir(d);
}

/* A problem with a file as a whole (not at a JSON path in it). */
static void __attribute__((format(printf, 2, 3)))
fail_file(struct loadctx *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->err, c->errlen, fmt, ap);
	va_end(ap);
	c->failed = true;
}

/* ---- the extends chain ----------------------------------------------------------- */

static bool load_spec(struct loadctx *c, struct profile *p, const char *spec, const char *from_dir,
		      const char *jpath);

/* May the file (dev, ino) join the chain?  Not when it is on it already
 * (a loop), nor past PROFILE_MAX_DEPTH files; the message names the file
 * whose "extends" went too far. */
static bool chain_allows(struct loadctx *c, const char *display, dev_t dev, ino_t ino)
{
	const char *prev_file = c->file;

	for (int i = 0; i < c->depth; i++) {
		if ((dev || ino) && c->chain[i].dev == dev && c->chain[i].ino == ino) {
			char loop[1024];
			size_t o = 0;

			for (int j = i; j < c->depth; j++)
				o += (size_t)snprintf(loop + o, sizeof(loop) - o, "%s → ", c->chain[j].name);
			snprintf(loop + o, sizeof(loop) - o, "%s", display);
			c->file = c->chain[c->depth - 1].name;
			profile_fail_at(c, "extends", "found a loop (%s); expected a chain of extends that "
					"ends", loop);
			c->file = prev_file;
			return false;
		}
	}
	if (c->depth >= PROFILE_MAX_DEPTH) {
		c->file = c->chain[c->depth - 1].name;
		profile_fail_at(c, "extends", "found a chain of more than %d profiles; expected a "
				"shorter chain", PROFILE_MAX_DEPTH);
		c->file = prev_file;
		return false;
	}
	return true;
}

/* The parent a file's "extends" names, resolved from the file's directory. */
static bool apply_extends(struct loadctx *c, struct profile *p, const cJSON *ext, const char *file)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(file, '/');

	if (!cJSON_IsString(ext)) {
		profile_wrong_type(c, "extends", ext,
				   "a string (a profile name such as \"default\", or a path)");
		return false;
	}
	snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash - file) : 1, slash ? file : ".");
	if (!load_spec(c, p, ext->valuestring, dir, "extends"))
		return false;
	c->file = file;
	return true;
}

/* Apply the bytes of one file (already read) onto p, its extends first. */
static bool apply_text(struct loadctx *c, struct profile *p, const char *text, size_t len,
		       const char *display, dev_t dev, ino_t ino)
{
	const char *prev_file = c->file;
	cJSON *root;
	const cJSON *ext;
	char *owned;
	bool ok = false, pushed = false;

	if (!chain_allows(c, display, dev, ino))
		return false;
	owned = xstrdup(display);
	c->file = owned;
	c->chain[c->depth++] = (struct chain_link){ .dev = dev, .ino = ino, .name = owned };

	root = cJSON_ParseWithLengthOpts(text, len, NULL, 0);
	if (!root) {
		profile_json_error(c, text, len);
		goto out;
	}
	if (!cJSON_IsObject(root)) {
		profile_wrong_type(c, NULL, root, "a JSON object");
		goto out;
	}
	ext = cJSON_GetObjectItemCaseSensitive(root, "extends");
	if (ext && !apply_extends(c, p, ext, owned))
		goto out;
	/* After the parents: the list runs base first. */
	p->files = xrealloc(p->files, (p->n_files + 1) * sizeof(*p->files));
	p->files[p->n_files++] = owned;
	pushed = true;
	p->hash = fnv1a(p->hash, text, len);
	ok = profile_apply_top(c, root, p);
	if (ok) {
		free(p->path);
		p->path = xstrdup(owned);
	}
out:
	cJSON_Delete(root);
	c->depth--;
	c->file = prev_file;
	if (!pushed)
		free(owned);
	return ok;
}

/* ---- files ------------------------------------------------------------------------- */

static bool read_fd(struct loadctx *c, int fd, const char *display, char **buf, size_t *len)
{
	char *b = xmalloc(PROFILE_MAX_BYTES + 1);
	ssize_t n = read_all(fd, b, PROFILE_MAX_BYTES + 1);

	if (n < 0 || (size_t)n > PROFILE_MAX_BYTES) {
		if (n < 0)
			fail_file(c, "profile %s: cannot read: %s", display, strerror(errno));
		else
			fail_file(c, "profile %s: larger than %u bytes; expected a small JSON file",
				  display, PROFILE_MAX_BYTES);
		free(b);
		return false;
	}
	b[n] = '\0';
	*buf = b;
	*len = (size_t)n;
	return true;
}

/* The file a spec names into path: a path (relative to from_dir, the
 * directory of the file that extends), or a name in the profile directory.
 * *user: the user's file, opened with the user's rights. */
static bool spec_path(struct loadctx *c, const char *spec, const char *from_dir, const char *jpath,
		      char *path, size_t len, bool *user)
{
	*user = is_path_spec(spec);
	if (*user) {
		if (spec[0] == '/' || !from_dir)
			snprintf(path, len, "%s", spec);
		else
			snprintf(path, len, "%s/%s", from_dir, spec);
		return true;
	}
	if (!valid_name(spec)) {
		if (c->file)
			profile_fail_at(c, jpath, "found the name \"%s\"; expected a profile name (letters, "
					"digits, - _ .) or a path", spec);
		else
			fail_file(c, "profile \"%s\": not a valid name; expected a profile name (letters, "
				  "digits, - _ .) or a path to a .json file", spec);
		c->failed = true;
		return false;
	}
	snprintf(path, len, "%s/%s.json", names_dir(c), spec);
	return true;
}

/* The file could not be opened (err): say so, listing the profiles there
 * when a name was not found. */
static void cannot_open(struct loadctx *c, const char *spec, const char *path, const char *jpath,
			bool user, int err)
{
	char names[512];

	if (!user && err == ENOENT) {
		list_names(names_dir(c), names, sizeof(names));
		if (c->file)
			profile_fail_at(c, jpath, "found \"%s\", which is no profile in %s; expected one "
					"of: %s", spec, names_dir(c), *names ? names : "(none there)");
		else
			fail_file(c, "profile \"%s\": no such profile in %s; expected one of: %s (or a "
				  "path to a .json file)", spec, names_dir(c), *names ? names : "(none there)");
	} else if (c->file) {
		profile_fail_at(c, jpath, "cannot open \"%s\" (%s): %s; expected a readable profile file",
				spec, path, strerror(err));
	} else {
		fail_file(c, "profile %s: cannot open: %s", path, strerror(err));
	}
	c->failed = true;
}

static bool load_spec(struct loadctx *c, struct profile *p, const char *spec, const char *from_dir,
		      const char *jpath)
{
	char path[PATH_MAX];
	autoclose int fd = -1;
	autofree char *buf = NULL;
	size_t len;
	struct stat st;
	bool user;

	if (!spec_path(c, spec, from_dir, jpath, path, sizeof(path), &user))
		return false;
	if (user && c->src && c->src->open_user)
		fd = c->src->open_user(path, c->src->ctx);
	else
		fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		cannot_open(c, spec, path, jpath, user, errno);
		return false;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		fail_file(c, "profile %s: not a regular file; expected a JSON file", path);
		return false;
	}
	if (!read_fd(c, fd, path, &buf, &len))
		return false;
	return apply_text(c, p, buf, len, path, st.st_dev, st.st_ino);
}

/* ---- profiles --------------------------------------------------------------------- */

static void role_defaults(struct role_policy *rp)
{
	rp->read.dflt = RULE_ALLOW;
	rp->write.dflt = RULE_ALLOW;
	rp->exec.dflt = RULE_ALLOW;
	rp->connect.any = true;
	rp->bind.any = true;
	rp->on_violation = ACTION_REPORT;
}

static struct profile *profile_empty(void)
{
	struct profile *p = xcalloc(1, sizeof(*p));

	for (int r = 0; r < ROLE_COUNT; r++)
		role_defaults(&p->roles[r]);
	p->hash = FNV1A_INIT;
	return p;
}

/* The top profile's "name" may come from a parent: a file is known by its
 * own name unless it sets one. */
static struct profile *finish_load(struct profile *p, bool ok)
{
	if (!ok) {
		profile_free(p);
		return NULL;
	}
	if (!p->name && p->path) {
		const char *b = strrchr(p->path, '/');
		size_t n;

		b = b ? b + 1 : p->path;
		n = strlen(b);
		p->name = xasprintf("%.*s", (int)(n > 5 && !strcmp(b + n - 5, ".json") ? n - 5 : n), b);
	}
	return p;
}

struct profile *profile_load(const char *spec, const struct profile_source *src, char *err,
			     size_t errlen)
{
	struct loadctx c = { .src = src, .err = err, .errlen = errlen };
	struct profile *p = profile_empty();

	return finish_load(p, load_spec(&c, p, spec, NULL, NULL));
}

struct profile *profile_load_buffer(const char *text, size_t len, const char *filename,
				    const struct profile_source *src, char *err, size_t errlen)
{
	struct loadctx c = { .src = src, .err = err, .errlen = errlen };
	struct profile *p = profile_empty();

	return finish_load(p, apply_text(&c, p, text, len, filename ? filename : "(buffer)", 0, 0));
}

static void file_rules_free(struct file_rules *fr)
{
	pattern_list_clear(&fr->allow);
	pattern_list_clear(&fr->deny);
	free(fr->dflt_origin);
}

void profile_free(struct profile *p)
{
	if (!p)
		return;
	for (int r = 0; r < ROLE_COUNT; r++) {
		struct role_policy *rp = &p->roles[r];

		file_rules_free(&rp->read);
		file_rules_free(&rp->write);
		file_rules_free(&rp->exec);
		pattern_list_clear(&rp->connect.allow);
		pattern_list_clear(&rp->bind.allow);
		free(rp->connect.origin);
		free(rp->bind.origin);
		free(rp->action_origin);
	}
	pattern_list_clear(&p->build_servers);
	for (size_t i = 0; i < p->n_files; i++)
		free(p->files[i]);
	free(p->files);
	for (int v = 0; v < VAR_COUNT; v++)
		free(p->vars[v]);
	free(p->name);
	free(p->path);
	free(p->description);
	free(p);
}

/* ---- the project's profile ------------------------------------------------------- */

char *profile_find_project(const char *cwd, const char *home)
{
	char dir[PATH_MAX];
	bool stop_at_home = home && *home && strcmp(home, "/") && path_is_under(cwd, home);

	if (!cwd || cwd[0] != '/' || strlen(cwd) >= sizeof(dir))
		return NULL;
	snprintf(dir, sizeof(dir), "%s", cwd);
	for (;;) {
		char *cand = xasprintf("%s/%s", strcmp(dir, "/") ? dir : "", PROFILE_PROJECT_FILE);
		struct stat st;
		char *slash;

		if (lstat(cand, &st) == 0 && S_ISREG(st.st_mode))
			return cand;
		free(cand);
		if (!strcmp(dir, "/") || (stop_at_home && !strcmp(dir, home)))
			return NULL;
		slash = strrchr(dir, '/');
		if (slash == dir)
			strcpy(dir, "/");
		else
			*slash = '\0';
	}
}
