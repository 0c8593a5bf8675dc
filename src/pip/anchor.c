/* Is an exec pip's own?  The one rule of trust (role pip) that the kernel
 * (bpf/helpers/trust.bpf.h, pj_exec_is_pip) and the jail's preload library
 * (src/preload/) both follow, from the same anchors: the environment's
 * interpreters and pip's helper programs by (device, inode), pip's entry
 * points by absolute path.  The cases both sides must agree on are in
 * tests/unit/pip/pip_exec_cases.txt.
 *
 * Plain libc only, no allocation: the preload library links this file and
 * runs it in every process pip starts, before the process's own code. */
#include <stdio.h>
#include <string.h>

#include "pip/pip.h"

static bool file_in(const struct pip_file *v, size_t n, dev_t dev, ino_t ino)
{
	for (size_t i = 0; i < n; i++)
		if (v[i].dev == dev && v[i].ino == ino)
			return true;
	return false;
}

bool pip_exec_is_pip(const struct pip_anchors *a, dev_t dev, ino_t ino, char *const *argv)
{
	if (file_in(a->tools, a->n_tools, dev, ino))
		return true;
	if (!file_in(a->interps, a->n_interps, dev, ino) || !argv || !argv[0] || !argv[1])
		return false;
	if (!strcmp(argv[1], "-m") && argv[2] && !strcmp(argv[2], "pip"))
		return true;
	for (size_t i = 0; i < a->n_entries && i < PIP_ANCHOR_ENTRIES; i++)
		if (!strcmp(argv[1], a->entries[i]))
			return true;
	return false;
}

/* One line a fact:
 *   interp DEV INO | tool DEV INO | entry PATH | rw PATH | buildpath PATH
 * DEV as stat(2)'s st_dev, decimal.  Paths may hold no newline. */
static int put_files(FILE *f, const char *kind, const struct pip_file *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (fprintf(f, "%s %llu %llu\n", kind, (unsigned long long)v[i].dev,
			    (unsigned long long)v[i].ino) < 0)
			return -1;
	return 0;
}

int pip_anchors_write(const struct pip_anchors *a, FILE *f)
{
	if (put_files(f, "interp", a->interps, a->n_interps) < 0 ||
	    put_files(f, "tool", a->tools, a->n_tools) < 0)
		return -1;
	for (size_t i = 0; i < a->n_entries && i < PIP_ANCHOR_ENTRIES; i++)
		if (strchr(a->entries[i], '\n') || fprintf(f, "entry %s\n", a->entries[i]) < 0)
			return -1;
	for (size_t i = 0; i < a->n_rw && i < PIP_ANCHOR_RW; i++)
		if (strchr(a->rw[i], '\n') || fprintf(f, "rw %s\n", a->rw[i]) < 0)
			return -1;
	if (a->build_path && (strchr(a->build_path, '\n') ||
			      fprintf(f, "buildpath %s\n", a->build_path) < 0))
		return -1;
	return 0;
}

static int get_file(const char *s, struct pip_file *v, size_t *n, size_t max)
{
	unsigned long long dev, ino;
	char end;

	if (*n >= max || sscanf(s, "%llu %llu%c", &dev, &ino, &end) != 2)
		return -1;
	v[*n].dev = (dev_t)dev;
	v[*n].ino = (ino_t)ino;
	(*n)++;
	return 0;
}

/* text is changed in place: the paths of *a point into it. */
int pip_anchors_parse(char *text, struct pip_anchors *a)
{
	memset(a, 0, sizeof(*a));
	for (char *line = text, *next; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		if (!strncmp(line, "interp ", 7)) {
			if (get_file(line + 7, a->interps, &a->n_interps, PIP_ANCHOR_INTERPS) < 0)
				return -1;
		} else if (!strncmp(line, "tool ", 5)) {
			if (get_file(line + 5, a->tools, &a->n_tools, PIP_ANCHOR_TOOLS) < 0)
				return -1;
		} else if (!strncmp(line, "entry /", 7) && a->n_entries < PIP_ANCHOR_ENTRIES) {
			a->entries[a->n_entries++] = line + 6;
		} else if (!strncmp(line, "rw /", 4) && a->n_rw < PIP_ANCHOR_RW) {
			a->rw[a->n_rw++] = line + 3;
		} else if (!strncmp(line, "buildpath /", 11)) {
			a->build_path = line + 10;
		} else if (line[0]) {
			return -1;
		}
	}
	return 0;
}
