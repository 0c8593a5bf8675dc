/* Decoy secrets: fake credentials in the jail's $HOME and environment, each
 * carrying a token unique to this run, so that a read or an exfiltration is
 * recognisable in the trace and in captured network payloads. */
#ifndef PIPJAIL_DECOYS_H
#define PIPJAIL_DECOYS_H

#include <stddef.h>
#include <sys/types.h>

#define DECOY_MAX 24

struct decoy {
	const char *where;   /* "~/.ssh/id_rsa" or "$GITHUB_TOKEN" */
	char token[96];      /* the unique secret-looking value */
};

struct decoys {
	struct decoy items[DECOY_MAX];
	size_t n;
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

#endif
