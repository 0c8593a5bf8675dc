/* Where each package of a run came from, for CI output (annotations, the
 * step summary, SARIF locations): the requirements file and line that
 * names it, or the sdist or wheel named on pip's command line, else the
 * first requirements file (a dependency).  The files are read as pip reads
 * them (src/pip/). */
#ifndef PIPJAIL_ORIGINS_H
#define PIPJAIL_ORIGINS_H

#include <stdbool.h>

/* Opens a file the user named, with the user's rights: fd or -1 (errno). */
typedef int (*origins_open_fn)(const char *path, void *ctx);

struct origins;

/* Read the requirements files of a pip command line (-r/--requirement
 * after "install", and the -r lines inside them, relative to the file
 * that names them), and note the sdists and wheels it names.  Paths are
 * shown relative to base (the repository: $GITHUB_WORKSPACE,
 * $CI_PROJECT_DIR, else cwd) when under it.  A file that cannot be read is
 * skipped: pip says why.  Never NULL. */
struct origins *origins_new(const char *const *argv, const char *cwd, origins_open_fn open_fn,
			    void *ctx);
/* The same from the text of one requirements file (tests); nested files
 * are not read. */
struct origins *origins_from_text(const char *file, const char *text);
void origins_free(struct origins *o);
/* The directory paths are shown relative to (absolute). */
const char *origins_base(const struct origins *o);

struct origin {
	const char *file;         /* relative to the base when under it, else absolute; NULL: none */
	unsigned line;            /* 1-based; 0: the file as a whole */
	bool requirement;         /* file:line is the requirement that names the package */
	bool transitive;          /* not named anywhere: file is the first requirements file */
};
/* Where package (any spelling) came from: the first requirement line that
 * names it, else a local sdist/wheel named on the command line, else the
 * first requirements file (it came in as a dependency).  false: nothing. */
bool origins_locate(const struct origins *o, const char *package, struct origin *loc);

#endif
