#include "jail/decoys.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "base/base.h"

/* Each decoy: where it lives, how its token looks, and the file around it.
 * Tokens look like the real thing (prefixes that secret scanners and thieves
 * grep for) so that a package that filters by format still takes them. */
struct decoy_kind {
	const char *where;     /* "~/..." file or "$NAME" variable */
	const char *prefix;    /* token prefix */
	size_t hexlen;         /* random hex characters after it */
	const char *file_fmt;  /* file content, %s is the token; NULL for variables */
};

static const struct decoy_kind kinds[] = {
	{ "~/.ssh/id_rsa", "PIPJAIL", 48,
	  "-----BEGIN OPENSSH PRIVATE KEY-----\n"
	  "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n"
	  "%s\n"
	  "-----END OPENSSH PRIVATE KEY-----\n" },
	{ "~/.aws/credentials", "", 40,
	  "[default]\naws_access_key_id = AKIAPIPJAILDECOY0001\naws_secret_access_key = %s\n" },
	{ "~/.pypirc", "pypi-AgEIcHlwaS5vcmc", 48,
	  "[distutils]\nindex-servers = pypi\n\n[pypi]\nusername = __token__\npassword = %s\n" },
	{ "~/.netrc", "", 32,
	  "machine pypi.example.invalid\nlogin deploy\npassword %s\n" },
	{ "~/.git-credentials", "ghp_", 36,
	  "https://deploy:%s@git.example.invalid\n" },
	{ "~/.docker/config.json", "", 40,
	  "{\"auths\":{\"registry.example.invalid\":{\"auth\":\"%s\"}}}\n" },
	{ "~/.kube/config", "", 48,
	  "apiVersion: v1\nkind: Config\nusers:\n- name: admin\n  user:\n    token: %s\n" },
	{ "~/.config/gh/hosts.yml", "gho_", 36,
	  "github.com:\n    user: deploy\n    oauth_token: %s\n    git_protocol: https\n" },
	{ "$GITHUB_TOKEN", "ghp_", 36, NULL },
	{ "$AWS_ACCESS_KEY_ID", "AKIA", 16, NULL },
	{ "$AWS_SECRET_ACCESS_KEY", "", 40, NULL },
	{ "$PYPI_TOKEN", "pypi-AgEIcHlwaS5vcmc", 48, NULL },
	{ "$NPM_TOKEN", "npm_", 36, NULL },
	{ "$GITLAB_TOKEN", "glpat-", 20, NULL },
};

void decoys_generate(struct decoys *d)
{
	char hex[80];

	memset(d, 0, sizeof(*d));
	for (size_t i = 0; i < ARRAY_SIZE(kinds) && i < DECOY_MAX; i++) {
		d->items[i].bind = -1;
		random_hex(hex, kinds[i].hexlen);
		d->items[i].where = kinds[i].where;
		snprintf(d->items[i].token, sizeof(d->items[i].token), "%s%s", kinds[i].prefix, hex);
		d->n++;
	}
}

static int write_decoy_file(const char *path, const char *content, uid_t uid, gid_t gid)
{
	autoclose int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);

	if (fd < 0 || write_all(fd, content, strlen(content)) < 0 || fchown(fd, uid, gid) < 0)
		return -1;
	return 0;
}

int decoys_write_home(const struct decoys *d, const char *home, uid_t uid, gid_t gid,
		      char *err, size_t errlen)
{
	for (size_t i = 0; i < d->n && i < ARRAY_SIZE(kinds); i++) {
		const struct decoy_kind *k = &kinds[i];
		autofree char *path = NULL;
		autofree char *content = NULL;
		const char *rel;

		if (!k->file_fmt)
			continue;
		rel = k->where + 2; /* skip "~/" */
		if (mkdir_parents_owned(home, rel, uid, gid) < 0) {
			snprintf(err, errlen, "decoy %s: creating its directory: %s", k->where,
				 strerror(errno));
			return -1;
		}
		path = xasprintf("%s/%s", home, rel);
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
		content = xasprintf(k->file_fmt, d->items[i].token);
#pragma GCC diagnostic pop
		if (write_decoy_file(path, content, uid, gid) < 0) {
			snprintf(err, errlen, "decoy %s: %s", path, strerror(errno));
			return -1;
		}
	}
	return 0;
}

void decoys_add_env(const struct decoys *d, char ***env, size_t *n)
{
	for (size_t i = 0; i < d->n; i++) {
		if (d->items[i].path || d->items[i].where[0] != '$')
			continue;
		*env = xrealloc(*env, (*n + 2) * sizeof(char *));
		(*env)[(*n)++] = xasprintf("%s=%s", d->items[i].where + 1, d->items[i].token);
		(*env)[*n] = NULL;
	}
}

const struct decoy *decoys_find(const struct decoys *d, const char *buf, size_t len)
{
	for (size_t i = 0; i < d->n; i++) {
		if (d->items[i].token[0] && memmem(buf, len, d->items[i].token, strlen(d->items[i].token)))
			return &d->items[i];
	}
	return NULL;
}

/* ---- secret-looking files of the directories the jail shows ----------------------- */

/* Whole-file decoys: a read of one is a decoy read.  name: a glob of the
 * file's name; key: the file is one only when its text holds this (a
 * private key, not a certificate or a source file named id_map.py). */
static const struct dir_kind {
	const char *name;
	const char *key;
	const char *prefix;
	size_t hexlen;
	const char *fmt;
} dir_kinds[] = {
	{ ".env*", NULL, "", 40, "SECRET_KEY=%s\n" },
	{ ".netrc", NULL, "", 32, "machine pypi.example.invalid\nlogin deploy\npassword %s\n" },
	{ ".pypirc", NULL, "pypi-AgEIcHlwaS5vcmc", 48,
	  "[distutils]\nindex-servers = pypi\n\n[pypi]\nusername = __token__\npassword = %s\n" },
	{ ".git-credentials", NULL, "ghp_", 36, "https://deploy:%s@git.example.invalid\n" },
	{ ".npmrc", NULL, "npm_", 36, "//registry.npmjs.org/:_authToken=%s\n" },
	{ "credentials", NULL, "", 40,
	  "[default]\naws_access_key_id = AKIAPIPJAILDECOY0002\naws_secret_access_key = %s\n" },
	{ "credentials.toml", NULL, "cio", 32, "[registry]\ntoken = \"%s\"\n" },
	{ ".*_history", NULL, "", 40, "export API_TOKEN=%s\n" },
	{ "*.pem", "PRIVATE KEY-----", "PIPJAIL", 48,
	  "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n%s\n-----END PRIVATE KEY-----\n" },
	{ "*.key", "PRIVATE KEY-----", "PIPJAIL", 48,
	  "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n%s\n-----END PRIVATE KEY-----\n" },
	{ "id_*", "PRIVATE KEY-----", "PIPJAIL", 48,
	  "-----BEGIN OPENSSH PRIVATE KEY-----\n"
	  "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n"
	  "%s\n-----END OPENSSH PRIVATE KEY-----\n" },
};
/* Settings that a tool reads at every run and that may hold a credential
 * (git: a remote's password, an extraheader; cargo: a registry token):
 * shown with the credential replaced, so that git and cargo still work. */
static const char *const settings_files[] = { ".git/config", "config.toml", "config" };

#define DIR_FILE_MAX (64 * 1024)

static char *read_user_file(const struct jail_user *u, const char *path)
{
	autoclose int fd = open_as_user(u, path, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC, 0);
	char *buf;
	ssize_t n;
	struct stat st;

	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		return NULL;
	buf = xmalloc(DIR_FILE_MAX + 1);
	n = read_all(fd, buf, DIR_FILE_MAX);
	if (n < 0) {
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	return buf;
}

/* Is s (the rest of a line after "key") a credential's key: token,
 * password, passwd, secret, extraheader, _authToken, each as a whole
 * word, followed by '=' (or ':' for YAML-like files)? */
static bool credential_key(const char *line, const char **value)
{
	static const char *const keys[] = { "token", "password", "passwd", "secret", "extraheader",
					    "_authtoken", "api_key", "apikey" };
	const char *p = line + strspn(line, " \t");
	size_t n = strcspn(p, " \t=:");

	for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
		const char *q;

		if (n != strlen(keys[i]) || strncasecmp(p, keys[i], n) != 0)
			continue;
		q = p + n + strspn(p + n, " \t");
		if (*q != '=' && *q != ':')
			return false;
		q++;
		q += strspn(q, " \t\"'");
		if (!*q || *q == '\n')
			return false;
		*value = q;
		return true;
	}
	return false;
}

char *decoys_sanitize(const char *text, const char *token)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	bool changed = false;

	if (!f)
		return NULL;
	for (const char *line = text; *line;) {
		size_t n = strcspn(line, "\n");
		const char *end = line + n, *value = NULL, *scheme = NULL;
		const char *at = NULL;

		/* scheme://user:password@host: the password */
		for (const char *p = line; p + 3 < end && !scheme; p++)
			if (!strncmp(p, "://", 3))
				scheme = p + 3;
		if (scheme) {
			const char *colon = NULL;

			for (const char *p = scheme; p < end && !strchr("/ \t\"'", *p); p++) {
				if (*p == ':' && !colon)
					colon = p;
				if (*p == '@')
					at = p;
			}
			if (colon && at && at > colon) {
				fprintf(f, "%.*s%s", (int)(colon + 1 - line), line, token);
				fwrite(at, 1, (size_t)(end - at), f);
				changed = true;
				goto next;
			}
		}
		if (credential_key(line, &value) && value < end) {
			const char *v_end = end;

			while (v_end > value && strchr(" \t\r\"'", v_end[-1]))
				v_end--;
			/* "extraheader = AUTHORIZATION: basic XXXX": the last word */
			for (const char *p = v_end; p > value; p--)
				if (p[-1] == ' ') {
					value = p;
					break;
				}
			fprintf(f, "%.*s%s", (int)(value - line), line, token);
			fwrite(v_end, 1, (size_t)(end - v_end), f);
			changed = true;
			goto next;
		}
		fwrite(line, 1, n, f);
next:
		if (*end == '\n')
			fputc('\n', f);
		line = *end ? end + 1 : end;
	}
	if (fclose(f) != 0 || !changed) {
		free(out);
		return NULL;
	}
	return out;
}

static struct decoy *add_dir_decoy(struct decoys *d, const char *path, int bind)
{
	struct decoy *x;

	if (d->n >= DECOY_MAX || d->n_dir >= DECOY_DIR_MAX)
		return NULL;
	x = &d->items[d->n++];
	d->n_dir++;
	memset(x, 0, sizeof(*x));
	x->path = xstrdup(path);
	x->bind = bind;
	return x;
}

/* A secret-looking file hidden behind an empty file, when the decoys are
 * all taken: no token, but nothing of it in view either. */
static void mask_file(struct decoys *d, const char *path, int bind)
{
	d->masked = xrealloc(d->masked, (d->n_masked + 1) * sizeof(*d->masked));
	d->masked[d->n_masked++] = (struct decoy_mask){ .path = xstrdup(path), .bind = bind };
	debugx(1, "decoys: %s is hidden (an empty file)", path);
}

static void whole_decoy(struct decoys *d, const struct dir_kind *k, const char *path, int bind)
{
	char hex[80];
	struct decoy *x = add_dir_decoy(d, path, bind);

	if (!x) {
		mask_file(d, path, bind);
		return;
	}
	random_hex(hex, k->hexlen);
	snprintf(x->token, sizeof(x->token), "%s%s", k->prefix, hex);
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
	x->content = xasprintf(k->fmt, x->token);
#pragma GCC diagnostic pop
	x->where = x->path;
	debugx(1, "decoys: %s is shown as a decoy", path);
}

static void settings_decoy(struct decoys *d, const struct jail_user *u, const char *path, int bind)
{
	autofree char *text = read_user_file(u, path);
	char token[96], hex[40];
	char *clean;
	struct decoy *x;

	if (!text)
		return;
	random_hex(hex, 36);
	snprintf(token, sizeof(token), "ghp_%s", hex);
	if (!(clean = decoys_sanitize(text, token)))
		return;
	if (!(x = add_dir_decoy(d, path, bind))) {
		free(clean);
		mask_file(d, path, bind);
		return;
	}
	snprintf(x->token, sizeof(x->token), "%s", token);
	x->content = clean;
	x->where_owned = xasprintf("the credential in %s", path);
	x->where = x->where_owned;
	debugx(1, "decoys: %s is shown with its credential replaced by a decoy", path);
}

size_t decoys_scan_dir(struct decoys *d, const struct jail_user *u, const char *dir, int bind)
{
	autoclose int fd = open_as_user(u, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
	size_t before = d->n;
	DIR *dh;
	struct dirent *e;

	if (fd < 0 || !(dh = fdopendir(steal_fd(&fd))))
		return 0;
	while ((e = readdir(dh))) {
		autofree char *path = NULL;
		struct stat st;

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		/* the file a name leads to: a symlink named .env is one too */
		if (fstatat(dirfd(dh), e->d_name, &st, 0) < 0 || !S_ISREG(st.st_mode))
			continue;
		path = xasprintf("%s/%s", strcmp(dir, "/") ? dir : "", e->d_name);
		for (size_t i = 0; i < ARRAY_SIZE(dir_kinds); i++) {
			const struct dir_kind *k = &dir_kinds[i];

			if (fnmatch(k->name, e->d_name, FNM_PERIOD) != 0 ||
			    (k->name[0] == 'i' && strstr(e->d_name, ".pub")))
				continue;
			if (k->key) {
				autofree char *text = read_user_file(u, path);

				if (!text || !strstr(text, k->key))
					continue;
			}
			whole_decoy(d, k, path, bind);
			break;
		}
	}
	closedir(dh);
	for (size_t i = 0; i < ARRAY_SIZE(settings_files); i++) {
		autofree char *path = xasprintf("%s/%s", strcmp(dir, "/") ? dir : "", settings_files[i]);
		bool known = false;

		for (size_t j = before; j < d->n; j++)
			known |= !strcmp(d->items[j].path, path);
		if (!known)
			settings_decoy(d, u, path, bind);
	}
	return d->n - before;
}

void decoys_free(struct decoys *d)
{
	for (size_t i = 0; i < d->n; i++) {
		free(d->items[i].path);
		free(d->items[i].content);
		free(d->items[i].where_owned);
	}
	for (size_t i = 0; i < d->n_masked; i++)
		free(d->masked[i].path);
	free(d->masked);
	memset(d, 0, sizeof(*d));
}

/* ---- where the user keeps secrets ------------------------------------------------- */

/* file: a single file that the scan of a shown directory replaces by a
 * decoy when it lies at its top (so that showing ~/.cargo is no risk). */
static const struct secret_place {
	const char *rel;
	bool file;
} secret_places[] = {
	{ ".ssh", false }, { ".aws", false }, { ".gnupg", false }, { ".docker", false },
	{ ".kube", false }, { ".config/gh", false }, { ".config/gcloud", false }, { ".azure", false },
	{ ".password-store", false }, { ".local/share/keyrings", false },
	{ ".local/share/python_keyring", false }, { ".config/pip", false }, { ".pip", false },
	{ ".pypirc", true }, { ".netrc", true }, { ".git-credentials", true }, { ".npmrc", true },
	{ ".gem/credentials", true }, { ".cargo/credentials", true },
	{ ".cargo/credentials.toml", true }, { ".bash_history", true }, { ".zsh_history", true },
	/* browsers' and mail profiles (cookies, saved passwords), other tools'
	 * tokens: a requirements file (a project's, not the user's) may name
	 * any path, and what it names is shown to builds */
	{ ".mozilla", false }, { ".thunderbird", false }, { ".config/google-chrome", false },
	{ ".config/chromium", false }, { ".config/BraveSoftware", false }, { ".config/hub", false },
	{ ".terraform.d", false }, { ".vault-token", false }, { ".config/op", false },
};

const char *decoys_secret_place(const char *home, const char *path)
{
	static char found[128];

	for (size_t i = 0; i < ARRAY_SIZE(secret_places); i++) {
		const struct secret_place *s = &secret_places[i];
		autofree char *place = xasprintf("%s/%s", strcmp(home, "/") ? home : "", s->rel);
		const char *slash = strrchr(place, '/');

		if (!path_is_under(path, place)) {
			if (!path_is_under(place, path))
				continue;
			/* a file at the top of path: its decoy hides it */
			if (s->file && (size_t)(slash - place) == strlen(path) &&
			    !strncmp(place, path, strlen(path)))
				continue;
		}
		snprintf(found, sizeof(found), "~/%s", s->rel);
		return found;
	}
	return NULL;
}
