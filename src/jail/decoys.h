/* Decoy secrets: fake credentials in the jail's $HOME and environment, each
 * carrying a token unique to this run, so that a read or an exfiltration is
 * recognisable in the trace and in captured network payloads.  The same
 * for secret-looking files at the top of every directory the jail shows
 * (the current directory, a source tree, a toolchain's home): .env*,
 * .netrc, .pypirc, .git-credentials, private keys (*.pem, *.key, id_*),
 * cargo's credentials; their place in the jail holds a decoy, and a file
 * that holds a credential among settings a tool reads at every run
 * (.git/config, cargo's config.toml) is shown with the credential
 * replaced by a decoy token. */
#ifndef PIPJAIL_DECOYS_H
#define PIPJAIL_DECOYS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "base/base.h"

#define DECOY_MAX 64
/* Of those, at most this many for the files of shown directories; more
 * secret-looking files are hidden behind an empty file (no token). */
#define DECOY_DIR_MAX 40

struct decoy {
	/* "~/.ssh/id_rsa", "$GITHUB_TOKEN", the absolute path of a file of a
	 * shown directory ("/w/proj/.env": its read is a decoy read), or
	 * "the credential in /w/proj/.git/config" (only its token is
	 * judged: git reads that file at every run) */
	const char *where;
	char token[96];      /* the unique secret-looking value */
	/* Files of shown directories (decoys_scan_dir): the file's absolute
	 * path in the jail, the content shown there (NULL: an empty file,
	 * no token), the bind (struct jail_config.binds) it lies in.  NULL
	 * path: a home or environment decoy. */
	char *path;
	char *content;
	int bind;
	char *where_owned;
};

/* A secret-looking file beyond DECOY_DIR_MAX: hidden behind an empty file. */
struct decoy_mask {
	char *path;
	int bind;
};

struct decoys {
	struct decoy items[DECOY_MAX];
	size_t n;
	size_t n_dir;        /* of them, files of shown directories */
	struct decoy_mask *masked;
	size_t n_masked;
};

/* Make fresh tokens for every decoy file and variable. */
void decoys_generate(struct decoys *d);
/* Write the decoy files under home (already a fresh tmpfs), owned by uid:gid. */
int decoys_write_home(const struct decoys *d, const char *home, uid_t uid, gid_t gid,
		      char *err, size_t errlen);
/* Append NAME=token for every decoy variable to the environment vector. */
void decoys_add_env(const struct decoys *d, char ***env, size_t *n);
/* The decoy whose token occurs in buf, or NULL. */
const struct decoy *decoys_find(const struct decoys *d, const char *buf, size_t len);
/* The secret-looking files at the top of dir (and its .git/config), read
 * with u's rights, each made a decoy of bind number `bind`.  Returns how
 * many were found. */
size_t decoys_scan_dir(struct decoys *d, const struct jail_user *u, const char *dir, int bind);
/* text with every credential in it (a URL's password, a "token =",
 * "password =" or "extraheader =" value) replaced by token; NULL when it
 * holds none.  malloc'd. */
char *decoys_sanitize(const char *text, const char *token);
void decoys_free(struct decoys *d);

/* Where the user keeps secrets (~/.ssh, ~/.aws, ~/.netrc, ~/.cargo/credentials,
 * ...; home is the user's): the one that path (absolute, clean) lies in or
 * holds, as "~/.ssh", or NULL.  The jail never shows one of them. */
const char *decoys_secret_place(const char *home, const char *path);

#endif
