/* pipjail in CI: requirements files, GitHub Actions workflow commands and
 * step summary, and the --sarif/--baseline/--write-baseline wiring. */
#include "report/ci.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "report/baseline.h"
#include "decide/engine.h"
#include "report/report.h"
#include "report/sarif.h"
#include "base/base.h"

#define REQ_MAX_BYTES (1u << 20)
#define REQ_MAX_FILES 32
#define REQ_MAX_DEPTH 8
#define SUMMARY_EVIDENCE_MAX 300

/* ---- names and escaping ------------------------------------------------------ */

char *ci_normalize_name(const char *name)
{
	size_t n = strlen(name), o = 0;
	char *out = xmalloc(n + 1);

	for (size_t i = 0; i < n; i++) {
		if (name[i] == '-' || name[i] == '_' || name[i] == '.') {
			if (!o || out[o - 1] != '-')
				out[o++] = '-';
		} else {
			out[o++] = (char)tolower((unsigned char)name[i]);
		}
	}
	out[o] = '\0';
	return out;
}

static char *escape(const char *s, bool property)
{
	size_t n = strlen(s), o = 0;
	char *out = xmalloc(3 * n + 1);

	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (c == '%' || c == '\r' || c == '\n' || (property && (c == ':' || c == ','))) {
			snprintf(out + o, 4, "%%%02X", (unsigned char)c);
			o += 3;
		} else {
			out[o++] = c;
		}
	}
	out[o] = '\0';
	return out;
}

char *ci_escape_data(const char *s)
{
	return escape(s ? s : "", false);
}

char *ci_escape_property(const char *s)
{
	return escape(s ? s : "", true);
}

bool ci_github_actions(void)
{
	const char *v = getenv("GITHUB_ACTIONS");

	return v && !strcmp(v, "true");
}

/* ---- the rules ---------------------------------------------------------------- */

#define UNWANTED " If you have reviewed the package and accept this, record the finding in a " \
		 "baseline (pipjail --write-baseline FILE, then --baseline FILE): it is then " \
		 "reported but not counted."

static const struct ci_rule rules[] = {
	{ "decoy-read", "DecoyRead", "read a decoy secret",
	  "A process of the install opened a decoy secret: one of the fake credentials pipjail "
	  "puts where real ones live (~/.ssh/id_rsa, ~/.aws/credentials, ~/.pypirc, ...). "
	  "Installing a package has no reason to read credentials; credential stealers start "
	  "this way.",
	  "Treat the package as hostile: remove it (or the requirement that pulls it in), pin a "
	  "version you have reviewed, and report it to the index. No profile rule allows reading "
	  "a decoy." UNWANTED, "9.0" },
	{ "decoy-access", "DecoyAccess", "touched a decoy secret",
	  "A process of the install linked, renamed, changed or otherwise used a decoy secret "
	  "file (a fake credential pipjail puts where real ones live).",
	  "Treat the package as hostile: remove it, pin a reviewed version, report it. No profile "
	  "rule allows touching a decoy." UNWANTED, "8.0" },
	{ "decoy-token", "DecoyToken", "used the value of a decoy secret",
	  "The value of a decoy credential (a fake token pipjail puts in the environment and in "
	  "decoy files) appeared in a program's arguments, a DNS query or a path: the package "
	  "read a credential and is passing it on, usually to send it out.",
	  "Treat the package as hostile: remove it, pin a reviewed version, report it to the "
	  "index." UNWANTED, "9.5" },
	{ "file-read", "FileRead", "read a file the profile does not allow",
	  "A process of the install opened a file that the profile's read rules for its role "
	  "(pip, build, tool, import) do not allow.",
	  "If the read is legitimate (a build reading a header or a configuration file it "
	  "needs), allow the path for that role in the project's profile (.pipjail.json: "
	  "roles.ROLE.read.allow, see docs/profiles.md). Otherwise remove the package."
	  UNWANTED, "6.5" },
	{ "file-write", "FileWrite", "wrote where the profile does not allow",
	  "A process of the install created, changed or removed a file where the profile's "
	  "write rules for its role do not allow it (outside the build and temp directories).",
	  "If the write is legitimate, allow the path in the project's profile (.pipjail.json: "
	  "roles.ROLE.write.allow). A build that writes into your home or environment is "
	  "tampering with it: remove the package." UNWANTED, "7.0" },
	{ "exec", "Exec", "ran a program the profile does not allow",
	  "A process of the install started a program that the profile's exec rules for the "
	  "calling role do not allow (curl, wget, nc, a shell where none is expected, ...).",
	  "If the build needs the program (a compiler, git for a VCS requirement), allow it in "
	  "the project's profile (.pipjail.json: roles.ROLE.exec.allow). Otherwise remove the "
	  "package." UNWANTED, "7.5" },
	{ "network", "Network", "used the network",
	  "A process of the install connected (or sent a datagram) to an address the profile "
	  "does not allow. In pipjail only pip reaches its index, through pipjail's proxy; a "
	  "build that connects out is fetching or sending something.",
	  "If the package legitimately needs a service, allow the endpoint in the project's "
	  "profile (roles.ROLE.network.connect); to let pip itself reach another package host, "
	  "pass --allow-host HOST. Otherwise remove the package." UNWANTED, "8.0" },
	{ "refused-call", "RefusedCall", "made a refused system call",
	  "A process of the install made a system call that the jail refuses because it is "
	  "only useful to leave the jail or reach other processes (ptrace, mount, unshare, bpf, "
	  "keyctl, TIOCSTI, ...).",
	  "No profile allows these calls: remove the package and report it." UNWANTED, "8.5" },
	{ "non-native-abi", "NonNativeAbi", "made a 32-bit system call",
	  "A process of the install made a system call through the 32-bit (non-native) ABI, a "
	  "way to slip past system call filters.",
	  "No profile allows it: remove the package and report it." UNWANTED, "8.5" },
	{ "undeclared-file", "UndeclaredFile", "installed a file no RECORD names",
	  "The staged install holds a file that no installed distribution's RECORD lists: "
	  "something wrote into the environment beside what pip installed (a .pth file or a "
	  "changed module planted by a build). Nothing was committed.",
	  "Look at the file the evidence names. A package that writes outside its own wheel "
	  "is tampering with the environment: remove it." UNWANTED, "7.0" },
	{ "proxy", "EgressProxy", "was refused by the egress proxy",
	  "A request through pipjail's egress proxy asked for a host that is not one of pip's "
	  "configured indexes (--index-url, --extra-index-url, --find-links, pip.conf) nor "
	  "allowed with --allow-host.",
	  "If the host is a legitimate package source, add it to pip's configuration or pass "
	  "--allow-host HOST to pipjail; otherwise find which requirement names it." UNWANTED,
	  "6.0" },
	{ "staging", "Staging", "could not be checked after staging",
	  "pipjail could not read the staged install back to check it against the RECORD "
	  "files, so nothing was committed.",
	  "The evidence says what failed (disk full, permissions). Run again; report a bug if it "
	  "stays." UNWANTED, "5.0" },
};

const struct ci_rule ci_rule_unknown = {
	NULL, "PipjailRule", "broke a rule of the profile",
	"A violation of the pipjail profile the run was held against.",
	"See the evidence and the profile rule it names (docs/profiles.md); allow it in the "
	"project's profile if it is legitimate, else remove the package." UNWANTED, "7.0",
};

const struct ci_rule *ci_rules(size_t *n)
{
	*n = ARRAY_SIZE(rules);
	return rules;
}

const struct ci_rule *ci_rule(const char *id)
{
	for (size_t i = 0; id && i < ARRAY_SIZE(rules); i++)
		if (!strcmp(rules[i].id, id))
			return &rules[i];
	return NULL;
}

char *ci_message(const struct engine *e, const struct violation_record *v,
		 const struct ci_location *loc)
{
	const struct ci_rule *r = ci_rule(v->rule);
	char *buf = NULL, outcome[256];
	size_t size = 0;
	FILE *out = open_memstream(&buf, &size);

	if (!out)
		die_errno("open_memstream");
	fprintf(out, "%s%s%s", v->package ? v->package : "pip", v->version ? " " : "",
		v->version ? v->version : "");
	if (v->hook)
		fprintf(out, " (%s)", v->hook);
	fprintf(out, " %s", r ? r->title : ci_rule_unknown.title);
	if (v->evidence)
		fprintf(out, ": %s", v->evidence);
	if (v->chain)
		fprintf(out, "\nchain: %s", v->chain);
	if (v->detail)
		fprintf(out, "\nrule: %s", v->detail);
	fprintf(out, "\ndone: %s", report_outcome(e, v, outcome, sizeof(outcome)));
	if (loc && loc->file && loc->transitive && v->package)
		fprintf(out, "\n%s is not named in %s: it came in as a dependency", v->package,
			loc->file);
	if (fclose(out) != 0)
		die_errno("open_memstream");
	return buf;
}

/* ---- requirements files ------------------------------------------------------- */

struct reqline {
	char *file;               /* as shown */
	unsigned line;
	char *name;               /* PEP 503 */
};

struct ci_origins {
	char *base;
	char **files;             /* requirements files read (absolute), in order */
	char **shown;             /* the same as shown */
	size_t n_files;
	struct reqline *lines;
	size_t n_lines;
	struct reqline *artifacts;    /* sdists/wheels on the command line (line 0) */
	size_t n_artifacts;
	ci_open_fn open_fn;
	void *ctx;
};

static const char *const archive_suffixes[] = { ".whl", ".tar.gz", ".zip", ".tar.bz2", ".tgz",
						".tar.xz", ".tar" };

static bool has_suffix(const char *s, size_t n, const char *suf)
{
	size_t m = strlen(suf);

	return n >= m && !strncmp(s + n - m, suf, m);
}

/* The project name of an sdist or wheel file name (the part after the last
 * '/', before any '#' or '?'), malloc'd and normalised; NULL when it is not one. */
static char *archive_name(const char *path)
{
	const char *b = strrchr(path, '/');
	size_t n;
	char *copy, *dash;

	b = b ? b + 1 : path;
	n = strcspn(b, "#?");
	for (size_t i = 0; i < ARRAY_SIZE(archive_suffixes); i++) {
		if (!has_suffix(b, n, archive_suffixes[i]))
			continue;
		copy = xasprintf("%.*s", (int)(n - strlen(archive_suffixes[i])), b);
		/* a wheel: name-version-...; an sdist: name-version */
		dash = !strcmp(archive_suffixes[i], ".whl") ? strchr(copy, '-') : strrchr(copy, '-');
		if (!dash || dash == copy) {
			free(copy);
			return NULL;
		}
		*dash = '\0';
		{
			char *norm = ci_normalize_name(copy);

			free(copy);
			return norm;
		}
	}
	return NULL;
}

/* a/b/../c -> a/c, ./ dropped; path is absolute. */
static char *lexical_clean(const char *path)
{
	autofree char *copy = xstrdup(path);
	char *out = xmalloc(strlen(path) + 2), *save = NULL;
	size_t o = 0;

	for (char *c = strtok_r(copy, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
		if (!strcmp(c, "."))
			continue;
		if (!strcmp(c, "..")) {
			while (o > 0 && out[--o] != '/')
				;
			continue;
		}
		out[o++] = '/';
		memcpy(out + o, c, strlen(c));
		o += strlen(c);
	}
	if (!o)
		out[o++] = '/';
	out[o] = '\0';
	return out;
}

static char *absolute(const char *dir, const char *path)
{
	autofree char *joined = path[0] == '/' ? xstrdup(path) : xasprintf("%s/%s", dir, path);

	return lexical_clean(joined);
}

static char *shown_path(const struct ci_origins *o, const char *abs)
{
	size_t n = strlen(o->base);

	if (!strcmp(o->base, "/"))
		return xstrdup(abs + 1);
	if (!strncmp(abs, o->base, n) && abs[n] == '/')
		return xstrdup(abs + n + 1);
	return xstrdup(abs);
}

static void add_line(struct reqline **v, size_t *n, const char *file, unsigned line, char *name)
{
	*v = xrealloc(*v, (*n + 1) * sizeof(**v));
	(*v)[(*n)++] = (struct reqline){ .file = xstrdup(file), .line = line, .name = name };
}

#define NAME_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-"

static char *normalized_prefix(const char *s, size_t n)
{
	autofree char *name = xasprintf("%.*s", (int)n, s);

	return ci_normalize_name(name);
}

/* The project a requirement line names (malloc'd, normalised), or NULL:
 * "name[extra]>=1 ; marker", "name @ url", a URL or path to an sdist or
 * wheel, "...#egg=name". */
static char *requirement_name(const char *s)
{
	const char *egg = strstr(s, "#egg=");
	size_t n = strspn(s, NAME_CHARS), end;
	autofree char *tok = NULL;

	if (egg && strspn(egg + 5, NAME_CHARS))
		return normalized_prefix(egg + 5, strspn(egg + 5, NAME_CHARS));
	/* a name, then the end, extras, a version, a marker or "@ url" */
	if (n && isalnum((unsigned char)s[0]) && (!s[n] || strchr(" \t[(<>=!~;@,", s[n])))
		return normalized_prefix(s, n);
	/* a URL or a path */
	end = strcspn(s, " \t;");
	tok = xasprintf("%.*s", (int)end, s);
	return archive_name(tok);
}

static char *read_small(int fd, size_t max)
{
	char *buf = xmalloc(max + 1);
	ssize_t n = read_all(fd, buf, max);

	if (n < 0) {
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	return buf;
}

/* "-r X", "-rX", "--requirement X", "--requirement=X" at a[*i]: the file,
 * *i moved past its value.  NULL when a[*i] is not one. */
static const char *req_option(const char *const *a, size_t *i)
{
	const char *s = a[*i];

	if ((!strcmp(s, "-r") || !strcmp(s, "--requirement")) && a[*i + 1])
		return a[++*i];
	if (!strncmp(s, "--requirement=", 14))
		return s + 14;
	if (!strncmp(s, "-r", 2) && s[2] && s[1] != '-')
		return s + 2;
	return NULL;
}

static void read_reqfile(struct ci_origins *o, const char *abs, int depth);

/* One logical line (continuations joined) of a requirements file. */
static void parse_req_line(struct ci_origins *o, const char *abs, const char *shown, char *line,
			   unsigned lineno, int depth)
{
	char *hash = line, *s = line, *end;

	/* comments: "#" at the start or after whitespace */
	while ((hash = strchr(hash, '#'))) {
		if (hash == line || isspace((unsigned char)hash[-1])) {
			*hash = '\0';
			break;
		}
		hash++;
	}
	while (isspace((unsigned char)*s))
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	if (!*s)
		return;
	if (s[0] == '-') {
		/* options: only -r matters (a nested file, relative to this one) */
		const char *f = NULL;

		if (!strncmp(s, "--requirement", 13) && (s[13] == '=' || isspace((unsigned char)s[13])))
			f = s + 14;
		else if (!strncmp(s, "-r", 2))
			f = s + 2;
		if (f) {
			autofree char *dir = xstrdup(abs);
			autofree char *nested = NULL;
			char *fend, *slash = strrchr(dir, '/');

			while (isspace((unsigned char)*f) || *f == '=')
				f++;
			fend = (char *)f + strcspn(f, " \t");
			*fend = '\0';
			if (slash)
				*slash = '\0';
			if (*f && slash) {   /* a file read from disk: abs is absolute */
				nested = absolute(*dir ? dir : "/", f);
				read_reqfile(o, nested, depth + 1);
			}
		}
		return;
	}
	{
		char *name = requirement_name(s);

		if (name)
			add_line(&o->lines, &o->n_lines, shown, lineno, name);
	}
}

/* Split text into logical lines (a trailing backslash continues a line;
 * the line number is the first one's) and parse each. */
static void parse_text(struct ci_origins *o, const char *abs, const char *shown, const char *text,
		       int depth)
{
	const char *p = text;
	unsigned lineno = 0;

	while (*p) {
		char *buf = NULL;
		size_t size = 0;
		FILE *acc = open_memstream(&buf, &size);
		unsigned first = lineno + 1;

		if (!acc)
			die_errno("open_memstream");
		for (;;) {
			size_t n = strcspn(p, "\n");
			size_t keep = n;

			lineno++;
			if (keep && p[keep - 1] == '\r')
				keep--;
			if (keep && p[keep - 1] == '\\') {
				fwrite(p, 1, keep - 1, acc);
				p += n + (p[n] == '\n');
				if (*p)
					continue;
			} else {
				fwrite(p, 1, keep, acc);
				p += n + (p[n] == '\n');
			}
			break;
		}
		if (fclose(acc) != 0)
			die_errno("open_memstream");
		parse_req_line(o, abs, shown, buf, first, depth);
		free(buf);
	}
}

static void read_reqfile(struct ci_origins *o, const char *abs, int depth)
{
	autofree char *text = NULL, *shown = NULL;
	autoclose int fd = -1;
	struct stat st;

	if (depth > REQ_MAX_DEPTH || o->n_files >= REQ_MAX_FILES || !o->open_fn)
		return;
	for (size_t i = 0; i < o->n_files; i++)
		if (!strcmp(o->files[i], abs))
			return;
	/* O_NONBLOCK: a FIFO named as a requirements file must not hang us */
	fd = o->open_fn(abs, o->ctx);
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    st.st_size > (off_t)REQ_MAX_BYTES) {
		debugx(1, "requirements file %s: not read (%s)", abs,
		       fd < 0 ? strerror(errno) : "not a regular file of at most 1 MiB");
		return;
	}
	text = read_small(fd, REQ_MAX_BYTES);
	if (!text)
		return;
	shown = shown_path(o, abs);
	o->files = xrealloc(o->files, (o->n_files + 1) * sizeof(*o->files));
	o->shown = xrealloc(o->shown, (o->n_files + 1) * sizeof(*o->shown));
	o->files[o->n_files] = xstrdup(abs);
	o->shown[o->n_files++] = xstrdup(shown);
	parse_text(o, abs, shown, text, depth);
}

static char *base_dir(const char *cwd)
{
	static const char *const vars[] = { "GITHUB_WORKSPACE", "CI_PROJECT_DIR" };

	for (size_t i = 0; i < ARRAY_SIZE(vars); i++) {
		const char *v = getenv(vars[i]);

		if (v && v[0] == '/')
			return lexical_clean(v);
	}
	return lexical_clean(cwd && cwd[0] == '/' ? cwd : "/");
}

struct ci_origins *ci_origins_new(const char *const *argv, const char *cwd, ci_open_fn open_fn,
				  void *ctx)
{
	struct ci_origins *o = xcalloc(1, sizeof(*o));
	const char *dir = cwd && cwd[0] == '/' ? cwd : "/";
	size_t i = 1;

	o->base = base_dir(cwd);
	o->open_fn = open_fn;
	o->ctx = ctx;
	/* only pip's own arguments, after "install" */
	while (argv && argv[0] && argv[i] && strcmp(argv[i], "install"))
		i++;
	for (; argv && argv[0] && argv[i]; i++) {
		const char *f = req_option(argv, &i);
		char *name;

		if (f) {
			autofree char *abs = absolute(dir, f);

			read_reqfile(o, abs, 0);
		} else if (argv[i][0] != '-' && (name = archive_name(argv[i]))) {
			autofree char *abs = NULL, *shown = NULL;

			if (strstr(argv[i], "://")) {
				shown = xstrdup(argv[i]);
			} else {
				abs = absolute(dir, argv[i]);
				shown = shown_path(o, abs);
			}
			add_line(&o->artifacts, &o->n_artifacts, shown, 0, name);
		}
	}
	return o;
}

struct ci_origins *ci_origins_from_text(const char *file, const char *text)
{
	struct ci_origins *o = xcalloc(1, sizeof(*o));

	o->base = xstrdup("/");
	o->files = xcalloc(1, sizeof(*o->files));
	o->shown = xcalloc(1, sizeof(*o->shown));
	o->files[0] = xstrdup(file);
	o->shown[0] = xstrdup(file);
	o->n_files = 1;
	parse_text(o, file, file, text, 0);
	return o;
}

static void free_lines(struct reqline *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].file);
		free(v[i].name);
	}
	free(v);
}

void ci_origins_free(struct ci_origins *o)
{
	if (!o)
		return;
	for (size_t i = 0; i < o->n_files; i++) {
		free(o->files[i]);
		free(o->shown[i]);
	}
	free(o->files);
	free(o->shown);
	free_lines(o->lines, o->n_lines);
	free_lines(o->artifacts, o->n_artifacts);
	free(o->base);
	free(o);
}

const char *ci_origins_base(const struct ci_origins *o)
{
	return o->base;
}

bool ci_locate(const struct ci_origins *o, const char *package, struct ci_location *loc)
{
	autofree char *norm = package ? ci_normalize_name(package) : NULL;

	memset(loc, 0, sizeof(*loc));
	if (!o)
		return false;
	for (size_t i = 0; norm && i < o->n_lines; i++) {
		if (!strcmp(o->lines[i].name, norm)) {
			loc->file = o->lines[i].file;
			loc->line = o->lines[i].line;
			loc->requirement = true;
			return true;
		}
	}
	for (size_t i = 0; norm && i < o->n_artifacts; i++) {
		if (!strcmp(o->artifacts[i].name, norm)) {
			loc->file = o->artifacts[i].file;
			return true;
		}
	}
	if (o->n_files) {
		loc->file = o->shown[0];
		loc->transitive = norm != NULL;
		return true;
	}
	return false;
}

/* ---- stable order --------------------------------------------------------------- */

struct sortkey {
	char *package, *evidence;
	const char *rule;
	size_t i;
};

static int sortkey_cmp(const void *a, const void *b)
{
	const struct sortkey *x = a, *y = b;
	int c = strcmp(x->package, y->package);

	if (!c)
		c = strcmp(x->rule, y->rule);
	if (!c)
		c = strcmp(x->evidence, y->evidence);
	if (!c)
		c = x->i < y->i ? -1 : x->i > y->i;
	return c;
}

size_t *ci_sorted_violations(const struct engine *e, size_t *n)
{
	size_t total = engine_n_violations(e);
	struct sortkey *k = xcalloc(total + 1, sizeof(*k));
	size_t *idx = xcalloc(total + 1, sizeof(*idx));

	for (size_t i = 0; i < total; i++) {
		const struct violation_record *v = engine_violation(e, i);

		k[i].package = v->package ? ci_normalize_name(v->package) : xstrdup("");
		k[i].evidence = baseline_normalize_for(e, v->evidence);
		k[i].rule = v->rule;
		k[i].i = i;
	}
	qsort(k, total, sizeof(*k), sortkey_cmp);
	for (size_t i = 0; i < total; i++) {
		idx[i] = k[i].i;
		free(k[i].package);
		free(k[i].evidence);
	}
	free(k);
	*n = total;
	return idx;
}

/* ---- GitHub Actions ------------------------------------------------------------- */

void ci_annotations_print(const struct engine *e, const struct ci_origins *o, FILE *out)
{
	size_t n;
	autofree size_t *idx = ci_sorted_violations(e, &n);

	for (size_t j = 0; j < n; j++) {
		const struct violation_record *v = engine_violation(e, idx[j]);
		struct ci_location loc;
		autofree char *msg = NULL, *emsg = NULL, *title = NULL, *etitle = NULL;

		ci_locate(o, v->package, &loc);
		msg = ci_message(e, v, &loc);
		emsg = ci_escape_data(msg);
		title = xasprintf("pipjail %s%s", v->rule, v->baselined ? " (baselined)" : "");
		etitle = ci_escape_property(title);
		fprintf(out, "::%s ", v->baselined ? "notice" : "error");
		if (loc.file) {
			autofree char *f = ci_escape_property(loc.file);

			fprintf(out, "file=%s,", f);
			if (loc.line)
				fprintf(out, "line=%u,", loc.line);
		}
		fprintf(out, "title=%s::%s\n", etitle, emsg);
	}
	if (!strcmp(engine_verdict(e), "incomplete"))
		fprintf(out, "::warning title=pipjail incomplete::the trace is incomplete (events were "
			"lost): no violation was seen, but the run cannot be called clean\n");
}

/* `text` as a Markdown code span: literal whatever it holds (a package's
 * name and evidence are the package's to choose).  In a table cell a "|"
 * must be escaped even there. */
static void md_code(FILE *out, const char *text, bool in_table, size_t max)
{
	size_t run = 0, longest = 0, n = strlen(text);
	bool pad;

	if (n > max) {
		n = max;
		while (n && ((unsigned char)text[n] & 0xC0) == 0x80)
			n--;   /* not in the middle of a UTF-8 sequence */
	}
	for (size_t i = 0; i < n; i++) {
		run = text[i] == '`' ? run + 1 : 0;
		if (run > longest)
			longest = run;
	}
	/* a space inside the fence only where CommonMark needs one: content
	 * that starts or ends with a backtick or a space */
	pad = n && (strchr("` ", text[0]) || strchr("` ", text[n - 1]));
	for (size_t i = 0; i <= longest; i++)
		fputc('`', out);
	if (pad)
		fputc(' ', out);
	for (size_t i = 0; i < n; i++) {
		char c = text[i];

		if (c == '\n' || c == '\r' || c == '\t')
			fputc(' ', out);
		else if (c == '|' && in_table)
			fputs("\\|", out);
		else
			fputc(c, out);
	}
	if (n < strlen(text))
		fputs("…", out);
	if (pad)
		fputc(' ', out);
	for (size_t i = 0; i <= longest; i++)
		fputc('`', out);
}

static void summary_table(const struct engine *e, const struct ci_origins *o, FILE *out,
			  const size_t *idx, size_t n, bool baselined)
{
	char outcome[256];

	fputs("| package | rule | from | evidence | done |\n| --- | --- | --- | --- | --- |\n", out);
	for (size_t j = 0; j < n; j++) {
		const struct violation_record *v = engine_violation(e, idx[j]);
		struct ci_location loc;
		autofree char *label = xasprintf("%s%s%s", v->package ? v->package : "pip",
						 v->version ? " " : "", v->version ? v->version : "");
		autofree char *rule = xasprintf("%s%s%s", v->rule, v->hook ? " in " : "",
						v->hook ? v->hook : "");

		if (v->baselined != baselined)
			continue;
		ci_locate(o, v->package, &loc);
		fputs("| ", out);
		md_code(out, label, true, 200);
		fputs(" | ", out);
		md_code(out, rule, true, 200);
		fputs(" | ", out);
		if (loc.file) {
			autofree char *where = loc.line ? xasprintf("%s:%u", loc.file, loc.line)
							: xstrdup(loc.file);

			md_code(out, where, true, 200);
			if (loc.transitive)
				fputs(" (a dependency)", out);
		} else {
			fputs("—", out);
		}
		fputs(" | ", out);
		md_code(out, v->evidence ? v->evidence : "", true, SUMMARY_EVIDENCE_MAX);
		fprintf(out, " | %s |\n", report_outcome(e, v, outcome, sizeof(outcome)));
	}
}

void ci_summary_print(const struct engine *e, const struct ci_origins *o, FILE *out,
		      int exit_code)
{
	const struct profile *p = engine_profile(e);
	const char *verdict = engine_verdict(e);
	size_t n, counted = engine_n_violations(e) - engine_n_baselined(e);
	autofree size_t *idx = ci_sorted_violations(e, &n);

	fprintf(out, "### pipjail: %s %s\n\n", verdict,
		!strcmp(verdict, "clean") ? "✓" : !strcmp(verdict, "violation") ? "✗" : "⚠");
	fprintf(out, "Profile ");
	md_code(out, p && p->name ? p->name : "built-in rules", false, 200);
	if (p && p->project)
		fputs(" (the project's)", out);
	fprintf(out, ", %s: **%zu violation%s**", !engine_enforcing(e) ? "audit" : "enforce",
		counted, counted == 1 ? "" : "s");
	if (engine_n_baselined(e))
		fprintf(out, ", %zu baselined", engine_n_baselined(e));
	fprintf(out, "; exit %d (%s).\n\n", exit_code, report_exit_meaning(exit_code));
	if (!strcmp(verdict, "incomplete"))
		fputs("The trace is incomplete (events were lost): nothing bad was seen, but the run "
		      "cannot be called clean.\n\n", out);
	if (counted)
		summary_table(e, o, out, idx, n, false);
	if (engine_n_baselined(e)) {
		fprintf(out, "\n<details><summary>%zu baselined finding%s (known, not counted)"
			"</summary>\n\n", engine_n_baselined(e), engine_n_baselined(e) == 1 ? "" : "s");
		summary_table(e, o, out, idx, n, true);
		fputs("\n</details>\n", out);
	}
	fputc('\n', out);
}

/* ---- a run ---------------------------------------------------------------------- */

struct ci_run {
	struct ci_options opts;
	int sarif_fd, write_fd, summary_fd;
	struct baseline *baseline;
	char stop_token[33];
	bool stopped;
};

static int open_file(const struct jail_user *u, const char *path, int flags, mode_t mode)
{
	return u ? open_as_user(u, path, flags, mode) : open(path, flags | O_CLOEXEC, mode);
}

static int open_reqfile(const char *path, void *ctx)
{
	return open_file(ctx, path, O_RDONLY | O_NONBLOCK, 0);
}

static void resume_commands(struct ci_run *c)
{
	if (!c->stopped)
		return;
	fflush(stdout);
	printf("::%s::\n", c->stop_token);
	fflush(stdout);
	c->stopped = false;
}

struct ci_run *ci_run_start(const struct ci_options *opts, struct engine *e, char *err,
			    size_t errlen)
{
	struct ci_run *c = xcalloc(1, sizeof(*c));
	const char *summary = getenv("GITHUB_STEP_SUMMARY");

	c->opts = *opts;
	c->sarif_fd = c->write_fd = c->summary_fd = -1;
	/* The baseline is read before --write-baseline opens (it may be the same file). */
	if (opts->baseline_path) {
		autoclose int fd = open_file(opts->user, opts->baseline_path, O_RDONLY | O_NONBLOCK, 0);

		if (fd < 0) {
			snprintf(err, errlen, "--baseline %s: %s", opts->baseline_path, strerror(errno));
			goto fail;
		}
		c->baseline = baseline_read_fd(fd, opts->baseline_path, err, errlen);
		if (!c->baseline)
			goto fail;
		engine_set_baseline(e, baseline_match, c->baseline);
	}
	if (opts->sarif_path) {
		c->sarif_fd = open_file(opts->user, opts->sarif_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (c->sarif_fd < 0) {
			snprintf(err, errlen, "--sarif %s: %s", opts->sarif_path, strerror(errno));
			goto fail;
		}
	}
	/* Not truncated yet: a run that fails before its verdict keeps the old file. */
	if (opts->write_baseline_path) {
		c->write_fd = open_file(opts->user, opts->write_baseline_path, O_WRONLY | O_CREAT, 0644);
		if (c->write_fd < 0) {
			snprintf(err, errlen, "--write-baseline %s: %s", opts->write_baseline_path,
				 strerror(errno));
			goto fail;
		}
	}
	if (ci_github_actions() && summary && *summary) {
		c->summary_fd = open_file(opts->user, summary, O_WRONLY | O_CREAT | O_APPEND, 0644);
		if (c->summary_fd < 0)
			warn_errno("GITHUB_STEP_SUMMARY %s: no step summary", summary);
	}
	/* The jailed command's output goes to the same log as our annotations:
	 * a package could print "::stop-commands::x" to silence them, or forge
	 * its own.  Workflow commands stay off, under a token only this process
	 * knows, until ci_run_finish. */
	if (ci_github_actions() && opts->live) {
		random_hex(c->stop_token, 32);
		fflush(stdout);
		printf("::stop-commands::%s\n", c->stop_token);
		fflush(stdout);
		c->stopped = true;
	}
	return c;
fail:
	ci_run_free(c);
	return NULL;
}

static void write_summary(const struct ci_run *c, const struct engine *e,
			  const struct ci_origins *o, int code)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *out = open_memstream(&buf, &size);

	if (!out)
		die_errno("open_memstream");
	ci_summary_print(e, o, out, code);
	if (fclose(out) != 0)
		die_errno("open_memstream");
	if (write_all(c->summary_fd, buf, size) < 0)
		warn_errno("writing the step summary (GITHUB_STEP_SUMMARY)");
	free(buf);
}

void ci_run_finish(struct ci_run *c, const struct engine *e, const char *const *argv,
		   const char *cwd, int exit_code)
{
	struct ci_origins *o;

	if (!c)
		return;
	o = ci_origins_new(argv, cwd, open_reqfile, (void *)c->opts.user);
	resume_commands(c);
	if (ci_github_actions()) {
		fflush(stdout);
		ci_annotations_print(e, o, stdout);
		fflush(stdout);
	}
	if (c->summary_fd >= 0)
		write_summary(c, e, o, exit_code);
	if (c->sarif_fd >= 0) {
		struct sarif_ctx sc = { .origins = o, .argv = argv, .exit_code = exit_code,
					.baseline = c->baseline != NULL };

		if (sarif_write_fd(e, c->sarif_fd, &sc) < 0)
			warn_errno("--sarif %s", c->opts.sarif_path);
	}
	if (c->write_fd >= 0 && baseline_write_fd(e, c->write_fd) < 0)
		warn_errno("--write-baseline %s", c->opts.write_baseline_path);
	ci_origins_free(o);
}

bool ci_run_baselines(const struct ci_run *c, const char *rule)
{
	return c && baseline_has_rule(c->baseline, rule);
}

void ci_run_free(struct ci_run *c)
{
	if (!c)
		return;
	resume_commands(c);
	closep(&c->sarif_fd);
	closep(&c->write_fd);
	closep(&c->summary_fd);
	baseline_free(c->baseline);
	free(c);
}
