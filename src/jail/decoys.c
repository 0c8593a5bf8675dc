#include "jail/decoys.h"

#include <errno.h>
#include <fcntl.h>
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
	for (size_t i = 0; i < d->n; i++) {
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
		if (d->items[i].where[0] != '$')
			continue;
		*env = xrealloc(*env, (*n + 2) * sizeof(char *));
		(*env)[(*n)++] = xasprintf("%s=%s", d->items[i].where + 1, d->items[i].token);
		(*env)[*n] = NULL;
	}
}

const struct decoy *decoys_find(const struct decoys *d, const char *buf, size_t len)
{
	for (size_t i = 0; i < d->n; i++) {
		if (memmem(buf, len, d->items[i].token, strlen(d->items[i].token)))
			return &d->items[i];
	}
	return NULL;
}
