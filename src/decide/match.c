/* Holding one event against the rules of its role.
 *
 * Which events are judged, and by which rules:
 *   open (read)                 -> read rules; decoy files
 *   open (write/create/trunc), unlink, rmdir, mkdir, rename, link, symlink,
 *   chmod, chown, truncate, mknod -> write rules; decoy files
 *   exec (done, or failed)      -> exec rules of the role that called exec;
 *                                  decoy tokens in argv and the environment
 *   connect, send (to an address), bind -> network rules (a unix socket of
 *                                  the jail's own is none: engine_set_unix_trees)
 *   seccomp_refused             -> dangerous kinds always; probes when the
 *                                  profile says so; a 32-bit call always
 *   exit by SIGSYS              -> non-native ABI, always
 * Files are judged on the file the kernel reached (reached_file(); a
 * path-only call's name through links.c), not on the name used: a path a
 * "deny" pattern names, either way, is a violation whatever the call
 * returned (the attempt is the evidence); an "allow" pattern must name the
 * file reached.  A path that no pattern names, under "default": "deny", is
 * one unless the call failed with ENOENT/ENOTDIR (a search along a path
 * list: nothing was there). */
#include "decide/engine_priv.h"
#include "decide/profile_priv.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "base/base.h"

/* ---- compiling the profile ------------------------------------------------------ */

static bool uses_src(const char *text)
{
	return strstr(text, "$SRC") || strstr(text, "${SRC}");
}

static void compile_one(struct engine *e, struct cpat *c, const struct pattern *src, const char *text,
			bool exec)
{
	char buf[GLOB_MAX * 2], err[128];

	c->src = src;
	c->basename = exec && !strchr(text, '/');
	if (uses_src(text)) {
		c->tmpl = xstrdup(text);
		return;
	}
	if (profile_expand(e->p, text, NULL, true, buf, sizeof(buf)) != 0)
		return;  /* an unset variable: the pattern matches nothing */
	c->g = glob_compile(buf, err, sizeof(err));
}

static void compile_list(struct engine *e, struct cpat_list *out, const struct pattern_list *in, bool exec)
{
	out->v = xcalloc(in->n ? in->n : 1, sizeof(*out->v));
	out->n = in->n;
	for (size_t i = 0; i < in->n; i++)
		compile_one(e, &out->v[i], &in->v[i], in->v[i].text, exec);
}

static void add_endpoint(struct engine *e, struct cpat_list *l, const struct pattern *src,
			 const char *host, const char *port, const char *unix_path)
{
	char buf[GLOB_MAX * 2], err[128];
	struct cpat *c;

	l->v = xrealloc(l->v, (l->n + 1) * sizeof(*l->v));
	c = &l->v[l->n++];
	memset(c, 0, sizeof(*c));
	c->src = src;
	if (unix_path) {
		c->is_unix = true;
		if (profile_expand(e->p, unix_path, NULL, true, buf, sizeof(buf)) == 0)
			c->g = glob_compile(buf, err, sizeof(err));
		return;
	}
	if (profile_expand(e->p, host, NULL, true, buf, sizeof(buf)) != 0)
		return;
	c->g = glob_compile(buf, err, sizeof(err));
	if (profile_expand(e->p, port, NULL, false, buf, sizeof(buf)) != 0) {
		glob_free(c->g);
		c->g = NULL;
		return;
	}
	c->port = glob_compile(buf, err, sizeof(err));
	if (!c->port) {
		glob_free(c->g);
		c->g = NULL;
	}
}

static void compile_net(struct engine *e, struct cnet *out, const struct net_rules *in)
{
	out->src = in;
	out->any = in->any;
	for (size_t i = 0; i < in->allow.n; i++) {
		const struct pattern *pt = &in->allow.v[i];
		const char *s = pt->text;

		if (!strcmp(s, "proxy")) {
			add_endpoint(e, &out->allow, pt, "127.0.0.1", "$PROXY", NULL);
		} else if (!strcmp(s, "loopback")) {
			add_endpoint(e, &out->allow, pt, "127.*", "*", NULL);
			add_endpoint(e, &out->allow, pt, "::1", "*", NULL);
		} else if (!strncmp(s, "unix:", 5)) {
			add_endpoint(e, &out->allow, pt, NULL, NULL, s + 5);
		} else if (s[0] == '[') {
			const char *close = strchr(s, ']');
			autofree char *host = close ? xasprintf("%.*s", (int)(close - s - 1), s + 1) : NULL;

			if (host && close[1] == ':')
				add_endpoint(e, &out->allow, pt, host, close + 2, NULL);
		} else {
			const char *colon = strrchr(s, ':');
			autofree char *host = colon ? xasprintf("%.*s", (int)(colon - s), s) : NULL;

			if (host)
				add_endpoint(e, &out->allow, pt, host, colon + 1, NULL);
		}
	}
}

int engine_compile(struct engine *e)
{
	for (int r = 0; r < ROLE_COUNT; r++) {
		struct crole *cr = &e->roles[r];
		const struct role_policy *rp = e->p ? &e->p->roles[r] : NULL;

		if (!rp) {
			cr->connect.any = cr->bind.any = true;
			cr->action = ACTION_REPORT;
			continue;
		}
		cr->read.src = &rp->read;
		cr->write.src = &rp->write;
		cr->exec.src = &rp->exec;
		compile_list(e, &cr->read.allow, &rp->read.allow, false);
		compile_list(e, &cr->read.deny, &rp->read.deny, false);
		compile_list(e, &cr->write.allow, &rp->write.allow, false);
		compile_list(e, &cr->write.deny, &rp->write.deny, false);
		compile_list(e, &cr->exec.allow, &rp->exec.allow, true);
		compile_list(e, &cr->exec.deny, &rp->exec.deny, true);
		compile_net(e, &cr->connect, &rp->connect);
		compile_net(e, &cr->bind, &rp->bind);
		cr->action = rp->on_violation;
	}
	return 0;
}

static void free_list(struct cpat_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		glob_free(l->v[i].g);
		glob_free(l->v[i].port);
		free(l->v[i].tmpl);
		free(l->v[i].cached_src);
	}
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

void engine_compiled_free(struct engine *e)
{
	for (int r = 0; r < ROLE_COUNT; r++) {
		struct crole *cr = &e->roles[r];

		free_list(&cr->read.allow);
		free_list(&cr->read.deny);
		free_list(&cr->write.allow);
		free_list(&cr->write.deny);
		free_list(&cr->exec.allow);
		free_list(&cr->exec.deny);
		free_list(&cr->connect.allow);
		free_list(&cr->bind.allow);
	}
}

/* ---- matching ----------------------------------------------------------------------- */

/* The glob of c for this process's source tree ($SRC patterns). */
static const struct glob *glob_for(struct engine *e, struct cpat *c, const char *srcdir)
{
	char buf[GLOB_MAX * 2], err[128];

	if (!c->tmpl)
		return c->g;
	if (!srcdir)
		return NULL;
	if (c->cached_src && !strcmp(c->cached_src, srcdir))
		return c->g;
	glob_free(c->g);
	c->g = NULL;
	free(c->cached_src);
	c->cached_src = xstrdup(srcdir);
	if (profile_expand(e->p, c->tmpl, srcdir, true, buf, sizeof(buf)) == 0)
		c->g = glob_compile(buf, err, sizeof(err));
	return c->g;
}

static const char *base_of(const char *p)
{
	const char *s = p ? strrchr(p, '/') : NULL;

	return s ? s + 1 : p;
}

/* "roles.build.exec.deny[0] \"curl\"", with the role it was copied to
 * ("same_as") when that is not where it is written. */
static void rule_text(char *out, size_t len, enum role role, const char *what, const struct cpat *c)
{
	char prefix[64];

	snprintf(prefix, sizeof(prefix), "roles.%s.", role_name(role));
	if (strncmp(c->src->origin, prefix, strlen(prefix)))
		snprintf(out, len, "roles.%s.%s (same_as): %s \"%s\"", role_name(role), what,
			 c->src->origin, c->src->text);
	else
		snprintf(out, len, "%s \"%s\"", c->src->origin, c->src->text);
}

/* The first pattern of l that matches any of the candidates (NULLs skipped). */
static struct cpat *match_list(struct engine *e, struct cpat_list *l, const char *srcdir,
			       const char *a, const char *b)
{
	for (size_t i = 0; i < l->n; i++) {
		struct cpat *c = &l->v[i];
		const struct glob *g = glob_for(e, c, srcdir);

		if (!g)
			continue;
		if (c->basename) {
			if ((a && glob_match_compiled(g, base_of(a))) || (b && glob_match_compiled(g, base_of(b))))
				return c;
		} else if ((a && glob_match_compiled(g, a)) || (b && glob_match_compiled(g, b))) {
			return c;
		}
	}
	return NULL;
}

static const char *errno_str(int e)
{
	const char *n = e ? strerrorname_np(e) : NULL;

	return n ? n : (e ? "error" : NULL);
}

static void add(struct engine *e, struct proc *pr, const struct trace_event *ev, enum role role,
		const char *rule, const char *kind, const char *evidence, const char *detail,
		const char *file, const char *dedupe)
{
	int er = ev_errno(ev);
	struct violation_in v = {
		.rule = rule, .kind = kind, .evidence = evidence, .detail = detail, .profile_file = file,
		.dedupe = dedupe, .ev = ev, .action = e->roles[role].action, .role = (int)role,
		.call_failed = er != 0 || ev->refused, .call_errno = errno_str(er),
	};

	verdict_add(e, pr, &v);
}

/* Judge a file against read/write rules.  Returns true when it broke one.
 * name is the path as the process wrote it (made absolute), reached the
 * file the call actually reached (reached_file(): NULL when none): a deny
 * pattern matching either is a violation (the attempt is the evidence); an
 * allow pattern must name the file reached, so that another name for a
 * file (/proc/self/root/..., a symlink, a bind) allows nothing. */
static bool judge(struct engine *e, struct proc *pr, const struct trace_event *ev, enum role role,
		  struct crules *cr, const char *what, const char *rule, const char *kind,
		  const char *name, const char *reached, const char *evidence)
{
	struct cpat *c;
	char detail[1024];
	int er = ev_errno(ev);
	bool allowed;

	if (!cr->src || !(name || reached))
		return false;
	c = match_list(e, &cr->deny, pr->srcdir, name, reached);
	if (c) {
		rule_text(detail, sizeof(detail), role, what, c);
		add(e, pr, ev, role, rule, kind, evidence, detail, c->src->file, NULL);
		return true;
	}
	if (cr->src->dflt != RULE_DENY)
		return false;
	/* A kernel walk cut short (a tree deeper than the walk goes) is only a
	 * tail of the path: the name must then be allowed as well. */
	allowed = match_list(e, &cr->allow, pr->srcdir, reached ? reached : name, NULL) &&
		  (!reached || !ev->truncated || !name || match_list(e, &cr->allow, pr->srcdir, name, NULL));
	if (allowed)
		return false;
	/* EEXIST: a write that changed nothing (`mkdir -p` walking down from
	 * /home to the directory it makes; O_CREAT|O_EXCL on a file there) */
	if (er == ENOENT || er == ENOTDIR || (!strcmp(what, "write") && er == EEXIST))
		return false;
	snprintf(detail, sizeof(detail), "roles.%s.%s: not named by any allow pattern and %s is \"deny\"",
		 role_name(role), what, cr->src->dflt_origin ? cr->src->dflt_origin : "the default");
	add(e, pr, ev, role, rule, kind, evidence, detail, cr->src->dflt_file, NULL);
	return true;
}

/* ---- the file reached ------------------------------------------------------------ */

/* The file a call reached, as the kernel resolved it: the path of the
 * opened struct file (or the fd's, or the program run), walked in the
 * kernel from the task's root after the kernel's own lookup followed every
 * symlink, "..", /proc/self/root and bind mount.  Nothing the process
 * wrote enters it, so another name for a file is the same file here.  NULL
 * when there is none (a path-only call, a failed open) or it has no path
 * (pipe:[N], memfd:..., a socket; "(unreachable)/..." outside the task's
 * root).  The process's own /proc/PID is /proc/self, as the rules name it. */
static const char *reached_file(const struct trace_event *ev, char *buf, size_t len)
{
	const char *f = ev->file;
	char own[32];
	int n;

	if (!f || f[0] != '/')
		return NULL;
	n = snprintf(own, sizeof(own), "/proc/%u", ev->pid);
	if (ev->pid && !strncmp(f, own, (size_t)n) && (f[n] == '/' || !f[n])) {
		snprintf(buf, len, "/proc/self%s", f + n);
		return buf;
	}
	return f;
}

/* ---- decoys ------------------------------------------------------------------------ */

/* The decoy a file is: by the name used, by the file reached, or by its
 * inode (a hard link: the decoys live on the jail's own tmpfs). */
static const struct edecoy *decoy_file(const struct engine *e, const char *path, const struct trace_event *ev)
{
	for (size_t i = 0; i < e->n_decoys; i++) {
		const struct edecoy *d = &e->decoys[i];

		if (path && d->path && !strcmp(d->path, path))
			return d;
		if (!path && ev && ev->file_valid && d->has_ino && d->dev == ev->dev && d->ino == ev->ino)
			return d;
	}
	return NULL;
}

/* DNS names are case-insensitive (a resolver may change the case); argv and
 * paths are compared exactly.  *at: where its plain form starts, else 0. */
static const struct edecoy *decoy_token_in(struct engine *e, const char *s, bool nocase, size_t *at)
{
	int i;

	if (!s)
		return NULL;
	if (!e->scanner)
		e->scanner = engine_decoy_scanner(e);
	i = decoy_scanner_find(e->scanner, (const unsigned char *)s, strlen(s), nocase, NULL);
	if (i < 0)
		return NULL;
	if (at) {
		const char *p = strstr(s, e->decoys[i].token);

		*at = p ? (size_t)(p - s) : 0;
	}
	return &e->decoys[i];
}

/* res, res2: the names resolved (links_resolve), NULL when as written. */
static bool check_decoy_files(struct engine *e, struct proc *pr, const struct trace_event *ev,
			      enum role role, bool is_read, const char *res, const char *res2)
{
	const char *cands[] = { ev->abs, ev->file, ev->abs2, res, res2, NULL };

	for (size_t i = 0; i < ARRAY_SIZE(cands); i++) {
		const struct edecoy *d = decoy_file(e, cands[i], i == ARRAY_SIZE(cands) - 1 ? ev : NULL);
		char evidence[1200], detail[256];

		const char *why;

		if (!d || interp_may_read_decoy(d->where, pr, role, is_read))
			continue;
		snprintf(evidence, sizeof(evidence), "%s %s%s%s", ev->syscall ? ev->syscall : ev->kind,
			 ev->abs ? ev->abs : "?", ev->file && ev->abs && strcmp(ev->file, ev->abs) ?
			 " → " : "", ev->file && ev->abs && strcmp(ev->file, ev->abs) ? ev->file : "");
		why = interp_why_not(pr, d->where);
		snprintf(detail, sizeof(detail), "%s is a decoy secret: no install step has a reason to "
			 "touch it%s%s%s", d->where, why ? " (meson's exception does not hold: " : "",
			 why ? why : "", why ? ")" : "");
		add(e, pr, ev, role, is_read ? "decoy-read" : "decoy-access", "file", evidence, detail,
		    NULL, d->where);
		return true;
	}
	return false;
}

/* An environment entry exactly as pipjail set it for a decoy variable. */
static bool own_env_entry(const struct engine *e, const char *s)
{
	for (size_t i = 0; i < e->n_decoys; i++)
		if (e->decoys[i].env_entry && !strcmp(e->decoys[i].env_entry, s))
			return true;
	return false;
}

/* Does an exec's environment entry carry a decoy token (but a decoy
 * variable's own entry)?  Entries found clean are remembered (envseen.c):
 * most of every exec's environment is its parent's. */
static const struct edecoy *env_token(struct engine *e, const char *entry, size_t *at)
{
	const struct edecoy *d;

	if (envseen_clean(e, entry))
		return NULL;
	d = decoy_token_in(e, entry, false, at);
	if (d && !own_env_entry(e, entry))
		return d;
	envseen_add(e, entry);
	return NULL;
}

bool match_env_entry_matters(struct engine *e, const char *entry)
{
	return interp_env_loads_code(entry) || env_token(e, entry, NULL);
}

/* text with the token found at `at` in view: up to 1000 bytes around it. */
static void token_window(char *out, size_t len, const char *text, size_t at)
{
	size_t n = strlen(text), from = at > 400 ? at - 400 : 0;

	snprintf(out, len, "%s%.900s%s", from ? "..." : "", text + from, n - from > 900 ? "..." : "");
}

static void check_tokens(struct engine *e, struct proc *pr, const struct trace_event *ev,
			 enum role role, const char *where, const char *text)
{
	size_t at = 0;
	const struct edecoy *d = decoy_token_in(e, text, where[0] == 'D', &at);
	char detail[256], evidence[1200], shown[1000];

	if (!d)
		return;
	token_window(shown, sizeof(shown), text, at);
	snprintf(evidence, sizeof(evidence), "%s: %s", where, shown);
	snprintf(detail, sizeof(detail), "the value of the decoy %s left in %s", d->where, where);
	add(e, pr, ev, role, "decoy-token", where[0] == 'D' ? "network" : "exec", evidence, detail,
	    NULL, d->where);
}

/* ---- events --------------------------------------------------------------------------- */

static void argv_text(const struct trace_event *ev, char *out, size_t len)
{
	size_t o = 0;

	out[0] = '\0';
	for (size_t i = 0; ev->argv && ev->argv[i] && o + 4 < len; i++) {
		bool quote = !*ev->argv[i] || strpbrk(ev->argv[i], " \t\"'$\\;|&<>()");

		o += (size_t)snprintf(out + o, len - o, quote ? "%s'%s'" : "%s%s", i ? " " : "", ev->argv[i]);
	}
	if (o >= len - 4 || ev->argv_truncated)
		snprintf(out + (o < len - 5 ? o : len - 5), 5, " ...");
	if (!ev->argv || !ev->argv[0])
		snprintf(out, len, "%s", ev->abs ? ev->abs : ev->path ? ev->path : "?");
}

/* /proc/self/fd/N and the like name a descriptor, not a file. */
static bool is_fd_name(const char *p)
{
	return !strncmp(p, "/proc/self/fd/", 14) || !strncmp(p, "/proc/thread-self/fd/", 21) ||
	       !strncmp(p, "/dev/fd/", 8);
}

static void on_file(struct engine *e, struct proc *pr, const struct trace_event *ev, enum role role)
{
	const char *k = ev->kind, *name = ev->abs, *shown;
	bool is_open = !strcmp(k, "open"), is_write = !is_open;
	char evidence[1200], rbuf[PATH_MAX + 32], lbuf[PATH_MAX * 2], lbuf2[PATH_MAX * 2];
	const char *reached = reached_file(ev, rbuf, sizeof(rbuf));
	/* a path-only call (no file reached): its name as the jail resolves it */
	const char *res = !reached && ev->abs ? links_resolve(e, ev->abs, lbuf, sizeof(lbuf)) : NULL;
	const char *res2 = ev->abs2 ? links_resolve(e, ev->abs2, lbuf2, sizeof(lbuf2)) : NULL;
	struct crole *cr = &e->roles[role];

	if (is_open) {
		unsigned ob = trace_open_bits(ev->flags);

		if (ob & TOB_PATH)
			return;
		is_write = ob & (TOB_WRITES | TOB_TMPFILE);
	}
	if (check_decoy_files(e, pr, ev, role, is_open && !is_write, res, res2))
		return;
	/* mkdir of a directory that is there (mkdir -p of its parents, cmake's
	 * of /run/pipjail/pip-tmp's) changed nothing: judged by effects */
	if (!strcmp(k, "mkdir") && ev_errno(ev) == EEXIST)
		return;
	if (res)
		reached = res;
	/* pipjail's own files, which the loader of every process reads */
	if (!is_write && (reached || name) && (!strcmp(reached ? reached : name, JAIL_PRELOAD) ||
						!strcmp(reached ? reached : name, JAIL_ANCHORS)))
		return;
	if (is_open && !is_write)
		interp_read(pr, ev, reached);
	/* /proc/self/fd/N (glibc's fchmodat(AT_SYMLINK_NOFOLLOW) goes through
	 * it): only the file behind the descriptor counts.  When the monitor
	 * could not tell which file it is, the descriptor's own open was
	 * judged already. */
	if (name && is_fd_name(name))
		name = NULL;
	shown = name ? name : reached;
	if (!shown)
		return;
	if (ev->abs2 && (!strcmp(k, "rename") || !strcmp(k, "link"))) {
		snprintf(evidence, sizeof(evidence), "%s %s → %s", ev->syscall ? ev->syscall : k,
			 shown, ev->abs2);
		if (!strcmp(k, "rename") &&
		    judge(e, pr, ev, role, &cr->write, "write", "file-write", "file", name, reached, evidence))
			return;
		judge(e, pr, ev, role, &cr->write, "write", "file-write", "file", ev->abs2, res2, evidence);
		return;
	}
	if (name && reached && strcmp(name, reached))
		snprintf(evidence, sizeof(evidence), "%s %s (→ %s)%s%s", ev->syscall ? ev->syscall : k,
			 name, reached, ev->flags ? " " : "", ev->flags ? ev->flags : "");
	else
		snprintf(evidence, sizeof(evidence), "%s %s%s%s", ev->syscall ? ev->syscall : k, shown,
			 ev->flags ? " " : "", ev->flags ? ev->flags : "");
	/* pip's own temporary files are pip's: a write there that the Landlock
	 * layer of a process that is not pip refused (the profile's $BUILD
	 * names only the trees a build may write) is an attempt on pip's build
	 * environments, downloads or another package's tree. */
	if (is_write && role != ROLE_PIP && ev_errno(ev) == EACCES && shown &&
	    path_is_under(shown, JAIL_PIP_TMP))
		add(e, pr, ev, role, "file-write", "file", evidence,
		    "pip's temporary files: a process that is not pip may write only its own build tree "
		    "and its hook's output directories there", NULL, NULL);
	else if (is_write)
		judge(e, pr, ev, role, &cr->write, "write", "file-write", "file", name, reached, evidence);
	else
		judge(e, pr, ev, role, &cr->read, "read", "file-read", "file", name, reached, evidence);
	check_tokens(e, pr, ev, role, "a path", shown);
}

/* An exec against the exec rules.  A program that is not a script is
 * judged by the file the kernel ran (reached: the executable's path walked
 * in the kernel; exec patterns without '/' match its name): another name
 * for it (a symlink in /tmp called "gcc") allows nothing.  A #! script is
 * judged by the name it was started by (the kernel runs its interpreter,
 * which is what reached is then; the script's own file is not resolved),
 * and its interpreter must not be denied.  A deny pattern matching the
 * name or the file is a violation. */
static void judge_exec(struct engine *e, struct proc *pr, const struct trace_event *ev, enum role role,
		       const char *prog, const char *evidence)
{
	struct crules *cr = &e->roles[role].exec;
	char rbuf[PATH_MAX + 32], detail[1024];
	const char *reached = reached_file(ev, rbuf, sizeof(rbuf));
	struct cpat *c = match_list(e, &cr->deny, pr->srcdir, prog, ev->file);
	int er = ev_errno(ev);

	/* Dedupe by program name: a PATH search tries the same program in
	 * several directories. */
	if (c) {
		rule_text(detail, sizeof(detail), role, "exec", c);
		add(e, pr, ev, role, "exec", "exec", evidence, detail, c->src->file, base_of(prog));
		return;
	}
	if (!cr->src || cr->src->dflt != RULE_DENY)
		return;
	if (match_list(e, &cr->allow, pr->srcdir, ev->script || !reached ? prog : reached, NULL))
		return;
	if (er == ENOENT || er == ENOTDIR || er == EACCES)
		return;
	snprintf(detail, sizeof(detail), "roles.%s.exec: not named by any allow pattern and %s is \"deny\"%s",
		 role_name(role), cr->src->dflt_origin ? cr->src->dflt_origin : "the default",
		 reached && !ev->script && strcmp(reached, prog) ? " (judged on the program run)" : "");
	add(e, pr, ev, role, "exec", "exec", evidence, detail, cr->src->dflt_file, NULL);
}

/* Decoy tokens an exec passes on, anywhere in its arguments however long
 * (the monitor copies the whole argument and environment area at the
 * exec) and in its environment, except in the decoy variables' own
 * entries as pipjail set them: a token under another name, or its own
 * variable changed, counts. */
static void exec_tokens(struct engine *e, struct proc *pr, const struct trace_event *ev, enum role role,
			const char *prog, const char *args)
{
	char evidence[1300], detail[256], shown[1000];
	const struct edecoy *d = NULL;
	const char *where = NULL;
	size_t at = 0;

	for (size_t i = 0; ev->argv && ev->argv[i] && !d; i++) {
		d = decoy_token_in(e, ev->argv[i], false, &at);
		if (d) {
			/* the command line as usual, unless the token is past what it shows */
			token_window(shown, sizeof(shown), ev->argv[i], at);
			if (strstr(args, d->token))
				snprintf(evidence, sizeof(evidence), "exec %s: %s", prog ? prog : "?", args);
			else
				snprintf(evidence, sizeof(evidence), "exec %s: argument %zu: %s", prog ? prog : "?",
					 i, shown);
			where = "an exec's argv";
		}
	}
	for (size_t i = 0; ev->env && ev->env[i] && !d; i++) {
		d = env_token(e, ev->env[i], &at);
		if (d) {
			token_window(shown, sizeof(shown), ev->env[i], at);
			snprintf(evidence, sizeof(evidence), "exec %s: environment: %s", prog ? prog : "?", shown);
			where = "an exec's environment";
		}
	}
	if (!d)
		return;
	snprintf(detail, sizeof(detail), "the value of the decoy %s left in %s", d->where, where);
	add(e, pr, ev, role, "decoy-token", "exec", evidence, detail, NULL, d->where);
}

static void on_exec(struct engine *e, struct proc *pr, const struct trace_event *ev, enum role role)
{
	char args[1100], evidence[1300];
	const char *prog = ev->abs ? ev->abs : ev->path;

	argv_text(ev, args, sizeof(args));
	if (ev_errno(ev))
		snprintf(evidence, sizeof(evidence), "exec %s (failed: %s): %s", prog ? prog : "?",
			 errno_str(ev_errno(ev)), args);
	else
		snprintf(evidence, sizeof(evidence), "exec %s: %s", prog ? prog : "?", args);
	/* Whatever the profile: a program held in memory alone (a memfd, a
	 * file of no directory) never touched a disk, so nothing can judge
	 * what it is; a build has no reason to run one. */
	if (role != ROLE_PIP && ev->pseudo && !ev_errno(ev))
		add(e, pr, ev, role, "exec", "exec", evidence,
		    "a program held in memory alone (no file on any disk: a downloaded payload)", NULL,
		    "memory");
	else if (prog)
		judge_exec(e, pr, ev, role, prog, evidence);
	exec_tokens(e, pr, ev, role, prog, args);
	if (!ev->has_ret)
		interp_exec(pr, ev);
}

/* ---- network --------------------------------------------------------------------- */

static void on_net(struct engine *e, struct proc *pr, const struct trace_event *ev, enum role role)
{
	const char *k = ev->kind;
	bool is_bind = !strcmp(k, "bind");
	struct cnet *cn = is_bind ? &e->roles[role].bind : &e->roles[role].connect;
	char ep[300], evidence[700], detail[512];
	bool is_unix, allowed = cn->any, guarded = false;

	if (ev->dns_query)
		check_tokens(e, pr, ev, role, "DNS query", ev->dns_query);
	if (!ev->family || !ev->addr)
		return;
	if (!strcmp(k, "send") && ev->addr_from_socket)
		return;  /* judged at its connect */
	is_unix = !strcmp(ev->family, "AF_UNIX");
	if (!is_unix && strcmp(ev->family, "AF_INET") && strcmp(ev->family, "AF_INET6"))
		return;
	if (is_unix && (is_bind || ev_errno(ev) == ENOENT))
		return;  /* its own socket; or nothing listens there */
	if (is_unix && unix_inside(e, ev, &guarded))
		return;  /* a socket of the jail's own */
	if (is_unix)
		snprintf(ep, sizeof(ep), "unix:%s", ev->addr);
	else if (strchr(ev->addr, ':'))
		snprintf(ep, sizeof(ep), "[%s]:%d", ev->addr, ev->port);
	else
		snprintf(ep, sizeof(ep), "%s:%d", ev->addr, ev->port);
	if (!cn->src && !cn->any)
		return;
	for (size_t i = 0; !allowed && i < cn->allow.n; i++) {
		struct cpat *c = &cn->allow.v[i];
		char port[16];

		if (!c->g || c->is_unix != is_unix)
			continue;
		if (is_unix) {
			allowed = glob_match_compiled(c->g, ev->addr);
			continue;
		}
		snprintf(port, sizeof(port), "%d", ev->port);
		allowed = glob_match_compiled(c->g, ev->addr) && c->port && glob_match_compiled(c->port, port);
	}
	if (allowed)
		return;
	snprintf(evidence, sizeof(evidence), "%s %s%s%s%s%s", ev->syscall ? ev->syscall : k, ep,
		 ev->dns_query ? " (DNS query " : "", ev->dns_query ? ev->dns_query : "",
		 ev->dns_query ? ")" : "", ev_errno(ev) ? " [failed]" : "");
	if (cn->src && cn->src->origin)
		snprintf(detail, sizeof(detail), "%s allows no such endpoint", cn->src->origin);
	else
		snprintf(detail, sizeof(detail), "roles.%s.network.%s allows no such endpoint",
			 role_name(role), is_bind ? "bind" : "connect");
	if (guarded) {
		size_t n = strlen(detail);

		snprintf(detail + n, sizeof(detail) - n, "; refused in the kernel before the lookup: "
			 "not a socket of the jail's own");
	}
	add(e, pr, ev, role, "network", "network", evidence, detail, cn->src ? cn->src->file : NULL, ep);
}

static void on_refused(struct engine *e, struct proc *pr, const struct trace_event *ev, enum role role)
{
	const char *sc = ev->syscall;
	char evidence[600], detail[256];
	int er = ev_errno(ev);

	e->refused++;
	/* nr -1 at sys_exit is a call the kernel itself aborted (a syscall
	 * interrupted by a signal and not restarted, for one): no call was
	 * refused by anything of ours, and there is nothing to judge. */
	if (!sc && ev->nr < 0)
		return;
	if (!sc) {
		snprintf(evidence, sizeof(evidence), "a 32-bit (non-native ABI) system call, number %ld",
			 ev->nr);
		add(e, pr, ev, role, "non-native-abi", "process", evidence,
		    "32-bit system calls bypass filters written for x86_64 numbers", NULL, "abi");
		return;
	}
	if (profile_syscall_is_probe(sc) && !profile_syscall_is_dangerous(sc)) {
		e->probes++;
		if (!e->probes_are_violations)
			return;
		snprintf(evidence, sizeof(evidence), "%s refused (%s)", sc, errno_str(er) ? errno_str(er) : "?");
		add(e, pr, ev, role, "refused-call", "process", evidence,
		    "probe_refusals is \"violation\"", e->p ? e->p->path : NULL, sc);
		return;
	}
	if (!profile_syscall_is_dangerous(sc))
		return;
	snprintf(evidence, sizeof(evidence), "%s%s%s%s%s%s refused (%s)", sc,
		 ev->request ? " " : "", ev->request ? ev->request : "",
		 ev->abs ? " " : "", ev->abs ? ev->abs : "",
		 ev->flags ? "" : "", errno_str(er) ? errno_str(er) : "?");
	if (ev->target_pid >= 0) {
		size_t n = strlen(evidence);

		snprintf(evidence + n, sizeof(evidence) - n, ", target pid %lld", (long long)ev->target_pid);
	}
	snprintf(detail, sizeof(detail), "%s is refused in the jail; calling it is an attempt to leave "
		 "or weaken the jail", sc);
	add(e, pr, ev, role, "refused-call", "process", evidence, detail, NULL, sc);
}

static bool is_file_kind(const char *k)
{
	static const char *const kinds[] = {
		"open", "unlink", "rmdir", "mkdir", "rename", "link", "symlink", "chmod", "chown",
		"truncate", "mknod",
	};

	for (size_t i = 0; i < ARRAY_SIZE(kinds); i++)
		if (!strcmp(k, kinds[i]))
			return true;
	return false;
}

void match_event(struct engine *e, struct proc *pr, const struct trace_event *ev, enum role role)
{
	const char *k = ev->kind;

	/* The jail's own init and the moments before the command starts are
	 * pipjail's doing, not the command's. */
	if (!k || role == ROLE_NONE || role >= ROLE_COUNT)
		return;
	/* A program pip started outside any build (lsb_release for its user
	 * agent) is not pip: pip's rules are for what the kernel trusts as pip
	 * (pip itself and its helpers, git: helpers/trust.bpf.h), and a tool
	 * answers to a tool's rules whoever started it. */
	size_t before = e->n_viols;

	if (ev->refused || !strcmp(k, "seccomp_refused")) {
		on_refused(e, pr, ev, role);
		return;
	}
	if (is_file_kind(k))
		on_file(e, pr, ev, role);
	else if (!strcmp(k, "exec"))
		on_exec(e, pr, ev, role);
	else if (!strcmp(k, "connect") || !strcmp(k, "send") || !strcmp(k, "bind"))
		on_net(e, pr, ev, role);
	else if (!strcmp(k, "exit") && ev->signal && !strcmp(ev->signal, "SIGSYS") && !ev->thread) {
		/* seccomp's KILL_PROCESS already killed it: the action is done. */
		struct trace_event killed = *ev;

		killed.killed_in_kernel = true;
		add(e, pr, &killed, role, "non-native-abi", "process", "killed by SIGSYS",
		    "seccomp kills a process that makes a 32-bit (non-native ABI) system call", NULL, "abi");
	}
	/* A kill by the kernel is never silent: when no profile rule named the
	 * event, the kernel's own rule is the violation. */
	if (ev->kernel_rule && e->n_viols == before) {
		char evidence[600];

		snprintf(evidence, sizeof(evidence), "%s %s", ev->syscall ? ev->syscall : k,
			 ev->file ? ev->file : ev->abs ? ev->abs : ev->path ? ev->path : "?");
		add(e, pr, ev, role, "kernel-rule", "file", evidence,
		    !strcmp(ev->kernel_rule, "denied_exec") ? "a denied program, by inode (in the kernel)"
							     : "a file only pip may open, by inode (in the kernel)",
		    NULL, NULL);
	}
}
