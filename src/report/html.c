/* The HTML report (see html.h).  Every string from the trace is the
 * package's doing and is escaped; the page has inline CSS only. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "report/html.h"
#include "base/base.h"

#define MAX_FILE_BYTES  (512u << 20)
#define MAX_TIMELINE    4000
#define MAX_FILES       1500
#define MAX_PROCS       3000
#define MAX_DATA_SHOWN  (64u * 1024)

static void esc(FILE *f, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '<':  fputs("&lt;", f); break;
		case '>':  fputs("&gt;", f); break;
		case '&':  fputs("&amp;", f); break;
		case '"':  fputs("&quot;", f); break;
		case '\'': fputs("&#39;", f); break;
		default:
			if ((unsigned char)*s < 0x20 && *s != '\n' && *s != '\t')
				fputc('.', f);
			else
				fputc(*s, f);
		}
	}
}

/* sep and s escaped, when there is an s. */
static void esc_opt(FILE *f, const char *sep, const char *s)
{
	if (!s)
		return;
	fputs(sep, f);
	esc(f, s);
}

/* The first n bytes of s escaped (a long command or payload is cut). */
static void esc_cut(FILE *f, const char *s, size_t n)
{
	autofree char *cut = s && strlen(s) > n ? xmalloc(n + 1) : NULL;

	if (cut) {
		memcpy(cut, s, n);
		cut[n] = '\0';
	}
	esc(f, cut ? cut : s);
}

/* The end of a table cell, and the next one with s. */
static void next_cell(FILE *f, const char *s)
{
	fputs("</td><td>", f);
	esc(f, s);
}

static const char *str(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static double num(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

static const char *role_class(const char *role)
{
	static const char *const known[] = { "pip", "build", "tool", "import" };

	for (size_t i = 0; role && i < ARRAY_SIZE(known); i++)
		if (strcmp(role, known[i]) == 0)
			return known[i];
	return "none";
}

static void role_badge(FILE *f, const char *role)
{
	fprintf(f, "<span class=\"role r-%s\">", role_class(role));
	esc(f, role ? role : "init");
	fputs("</span>", f);
}

static char *argv_text(const cJSON *argv)
{
	size_t cap = 256, len = 0;
	char *s = xmalloc(cap);
	const cJSON *a;

	s[0] = '\0';
	cJSON_ArrayForEach(a, argv) {
		size_t n;

		if (!cJSON_IsString(a))
			continue;
		n = strlen(a->valuestring);
		if (len + n + 2 > cap) {
			cap = 2 * (len + n + 2);
			s = xrealloc(s, cap);
		}
		if (len)
			s[len++] = ' ';
		memcpy(s + len, a->valuestring, n + 1);
		len += n;
	}
	return s;
}

/* --- the lines of the trace ---------------------------------------------- */

struct lines {
	cJSON **v;
	size_t n;
	cJSON *header;
	cJSON *summary;
};

static void parse_lines(const char *t, size_t len, struct lines *L)
{
	const char *p = t, *end = t + len;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		cJSON *o = cJSON_ParseWithLength(p, n);
		const char *type = o ? str(o, "type") : NULL;

		p += n + 1;
		if (!type) {
			cJSON_Delete(o);
			continue;
		}
		if (strcmp(type, "header") == 0 && !L->header) {
			L->header = o;
			continue;
		}
		if (strcmp(type, "summary") == 0) {
			cJSON_Delete(L->summary);
			L->summary = o;
			continue;
		}
		L->v = xrealloc(L->v, (L->n + 1) * sizeof(*L->v));
		L->v[L->n++] = o;
	}
}

static void free_lines(struct lines *L)
{
	for (size_t i = 0; i < L->n; i++)
		cJSON_Delete(L->v[i]);
	free(L->v);
	cJSON_Delete(L->header);
	cJSON_Delete(L->summary);
}

static bool is_kind(const cJSON *o, const char *type, const char *kind)
{
	const char *t = str(o, "type"), *k = str(o, "kind");

	return t && k && strcmp(t, type) == 0 && strcmp(k, kind) == 0;
}

/* --- the process tree ---------------------------------------------------- */

struct proc {
	double hpid, parent;
	const char *role, *package, *comm;
	char *cmd;
	bool shown;
};

struct procs {
	struct proc *v;
	size_t n;
};

static struct proc *proc_get(struct procs *P, double hpid)
{
	for (size_t i = 0; i < P->n; i++)
		if (P->v[i].hpid == hpid)
			return &P->v[i];
	if (P->n >= MAX_PROCS)
		return NULL;
	P->v = xrealloc(P->v, (P->n + 1) * sizeof(*P->v));
	P->v[P->n] = (struct proc){ .hpid = hpid, .parent = -1 };
	return &P->v[P->n++];
}

static void build_procs(const struct lines *L, struct procs *P)
{
	for (size_t i = 0; i < L->n; i++) {
		const cJSON *o = L->v[i];
		struct proc *p;

		if (is_kind(o, "event", "fork")) {
			const cJSON *th = cJSON_GetObjectItemCaseSensitive(o, "thread");
			struct proc *parent;

			if (cJSON_IsTrue(th))
				continue;
			parent = proc_get(P, num(o, "hpid"));
			p = proc_get(P, num(o, "child_hpid"));
			if (!p || !parent)
				continue;
			parent = proc_get(P, num(o, "hpid")); /* the array may have moved */
			if (!parent->comm)
				parent->comm = str(o, "comm");
			p->parent = num(o, "hpid");
			p->role = parent->role;
			p->package = parent->package;
			p->comm = parent->comm;
			free(p->cmd);
			p->cmd = parent->cmd ? xstrdup(parent->cmd) : NULL;
		} else if (is_kind(o, "event", "exec") && cJSON_GetObjectItemCaseSensitive(o, "argv")) {
			p = proc_get(P, num(o, "hpid"));
			if (!p)
				continue;
			if (p->parent < 0 && num(o, "hppid"))
				p->parent = num(o, "hppid");
			p->role = str(o, "role");
			p->package = str(o, "package") ? str(o, "package") : p->package;
			p->comm = str(o, "comm");
			free(p->cmd);
			p->cmd = argv_text(cJSON_GetObjectItemCaseSensitive(o, "argv"));
		}
	}
}

static void print_proc(FILE *f, struct procs *P, size_t idx, int depth)
{
	struct proc *p = &P->v[idx];

	p->shown = true;
	fputs("<li>", f);
	role_badge(f, p->role);
	fprintf(f, " <span class=\"pid\">%.0f</span> ", p->hpid);
	if (p->package) {
		fputs("<span class=\"pkg\">", f);
		esc(f, p->package);
		fputs("</span> ", f);
	}
	fputs("<code>", f);
	esc_cut(f, p->cmd ? p->cmd : p->comm, 300);
	if (p->cmd && strlen(p->cmd) > 300)
		fputs("…", f);
	fputs("</code>", f);
	if (depth < 64) {
		bool open = false;

		for (size_t i = 0; i < P->n; i++) {
			if (P->v[i].shown || P->v[i].parent != p->hpid)
				continue;
			if (!open)
				fputs("<ul>", f);
			open = true;
			print_proc(f, P, i, depth + 1);
		}
		if (open)
			fputs("</ul>", f);
	}
	fputs("</li>\n", f);
}

static void section_tree(FILE *f, const struct lines *L)
{
	struct procs P = { 0 };

	build_procs(L, &P);
	fputs("<h2 id=\"tree\">Process tree</h2>\n<p class=\"legend\">", f);
	role_badge(f, "pip");
	role_badge(f, "build");
	role_badge(f, "tool");
	role_badge(f, "import");
	fputs("</p>\n<ul class=\"tree\">\n", f);
	for (size_t i = 0; i < P.n; i++) {
		bool has_parent = false;

		for (size_t j = 0; j < P.n && !has_parent; j++)
			has_parent = j != i && P.v[j].hpid == P.v[i].parent;
		if (!has_parent && !P.v[i].shown && (P.v[i].cmd || P.v[i].comm))
			print_proc(f, &P, i, 0);
	}
	fputs("</ul>\n", f);
	for (size_t i = 0; i < P.n; i++)
		free(P.v[i].cmd);
	free(P.v);
}

/* --- violations and verdict ---------------------------------------------- */

static void section_verdict(FILE *f, const cJSON *rep)
{
	const char *verdict = rep ? str(rep, "verdict") : NULL;
	const cJSON *vs = rep ? cJSON_GetObjectItemCaseSensitive(rep, "violations") : NULL;
	const cJSON *ex = rep ? cJSON_GetObjectItemCaseSensitive(rep, "exit") : NULL;
	const cJSON *v;

	fprintf(f, "<div class=\"verdict v-%s\" id=\"verdict\">Verdict: <b>",
		verdict && strcmp(verdict, "clean") == 0 ? "clean" : "bad");
	esc(f, verdict ? verdict : "unknown (no report)");
	fprintf(f, "</b> — %d violation%s; exit %.0f</div>\n", cJSON_GetArraySize(vs),
		cJSON_GetArraySize(vs) == 1 ? "" : "s", num(ex, "code"));
	fputs("<h2 id=\"violations\">Violations</h2>\n", f);
	if (cJSON_GetArraySize(vs) == 0) {
		fputs("<p>None.</p>\n", f);
		return;
	}
	fputs("<table class=\"violations\"><tr><th>rule</th><th>package</th><th>role</th>"
	      "<th>evidence</th><th>why</th><th>chain</th><th>outcome</th></tr>\n", f);
	cJSON_ArrayForEach(v, vs) {
		fputs("<tr class=\"violation\"><td><b>", f);
		esc(f, str(v, "rule"));
		fputs("</b></td><td>", f);
		esc(f, str(v, "package") ? str(v, "package") : "—");
		esc_opt(f, " ", str(v, "version"));
		fputs("</td><td>", f);
		role_badge(f, str(v, "role"));
		fputs("</td><td class=\"ev\">", f);
		esc(f, str(v, "evidence"));
		next_cell(f, str(v, "detail"));
		next_cell(f, str(v, "chain"));
		next_cell(f, str(v, "outcome"));
		fputs("</td></tr>\n", f);
	}
	fputs("</table>\n", f);
}

/* --- network -------------------------------------------------------------- */

static void section_network(FILE *f, const struct lines *L)
{
	size_t shown = 0;

	fputs("<h2 id=\"network\">Network attempts and what was sent</h2>\n"
	      "<p>Every destination answers from the sinkhole inside the jail: nothing left it.</p>\n"
	      "<table class=\"net\"><tr><th>time</th><th>who</th><th>what</th><th>where</th>"
	      "<th>sent</th></tr>\n", f);
	for (size_t i = 0; i < L->n && shown < MAX_TIMELINE; i++) {
		const cJSON *o = L->v[i];
		bool cap = is_kind(o, "note", "sinkhole");
		bool ev = is_kind(o, "event", "connect") || is_kind(o, "event", "send");
		const char *fam = str(o, "family");

		if (!cap && !ev)
			continue;
		if (ev && fam && strcmp(fam, "AF_UNIX") == 0)
			continue;
		shown++;
		fprintf(f, "<tr class=\"%s\"><td>%.3f</td><td>", cap ? "capture" : "attempt",
			num(o, "t_mono"));
		role_badge(f, str(o, "role"));
		esc_opt(f, " ", str(o, "package"));
		if (str(o, "comm")) {
			fputs(" <code>", f);
			esc(f, str(o, "comm"));
			fputs("</code>", f);
		}
		next_cell(f, cap ? (str(o, "dns_query") ? "DNS query (sinkhole)" : "TCP capture (sinkhole)")
				 : str(o, "kind"));
		next_cell(f, str(o, "addr"));
		fprintf(f, ":%.0f", num(o, "port"));
		fputs("</td><td>", f);
		if (str(o, "dns_query")) {
			fputs("<code class=\"dns\">", f);
			esc(f, str(o, "dns_qtype"));
			esc_opt(f, " ", str(o, "dns_query"));
			fputs("</code>", f);
		}
		if (cap && str(o, "data")) {
			fprintf(f, "<details open><summary>%.0f bytes%s%s%s</summary><pre class=\"payload\">",
				num(o, "bytes"), cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "truncated"))
				? " (cut at the bound)" : "", str(o, "payload_file") ? " — " : "",
				str(o, "payload_file") ? str(o, "payload_file") : "");
			esc_cut(f, str(o, "data"), MAX_DATA_SHOWN);
			fputs("</pre></details>", f);
		}
		fputs("</td></tr>\n", f);
	}
	fputs("</table>\n", f);
	if (shown == 0)
		fputs("<p>No network attempt.</p>\n", f);
}

/* --- files ---------------------------------------------------------------- */

static bool is_write(const cJSON *o)
{
	const char *k = str(o, "kind"), *fl = str(o, "flags");

	if (!k)
		return false;
	if (strcmp(k, "open") == 0)
		return fl && (strstr(fl, "O_WRONLY") || strstr(fl, "O_RDWR") || strstr(fl, "O_CREAT") ||
			      strstr(fl, "O_TRUNC"));
	return strcmp(k, "unlink") == 0 || strcmp(k, "rmdir") == 0 || strcmp(k, "rename") == 0 ||
	       strcmp(k, "mkdir") == 0 || strcmp(k, "symlink") == 0 || strcmp(k, "link") == 0 ||
	       strcmp(k, "chmod") == 0 || strcmp(k, "truncate") == 0;
}

static bool boring_read(const char *p)
{
	static const char *const prefixes[] = { "/usr/", "/lib", "/proc/", "/sys/", "/dev/",
						"/etc/ld.so", "/bin/", "/sbin/" };

	for (size_t i = 0; i < ARRAY_SIZE(prefixes); i++)
		if (strncmp(p, prefixes[i], strlen(prefixes[i])) == 0)
			return true;
	return strstr(p, "/site-packages/") || strstr(p, "__pycache__");
}

static void file_table(FILE *f, const struct lines *L, bool writes)
{
	const char **seen = NULL;
	size_t n = 0, more = 0;

	fputs("<table class=\"files\"><tr><th>path</th><th>who</th><th>how</th><th>result</th></tr>\n", f);
	for (size_t i = 0; i < L->n; i++) {
		const cJSON *o = L->v[i];
		const char *p, *k = str(o, "kind");
		bool dup = false;

		if (!str(o, "type") || strcmp(str(o, "type"), "event") != 0 || !k)
			continue;
		if (writes ? !is_write(o) : (strcmp(k, "open") != 0 || is_write(o)))
			continue;
		p = str(o, "abs") ? str(o, "abs") : str(o, "file");
		if (!p || (!writes && boring_read(p)))
			continue;
		for (size_t j = 0; j < n && !dup; j++)
			dup = strcmp(seen[j], p) == 0;
		if (dup)
			continue;
		if (n >= MAX_FILES) {
			more++;
			continue;
		}
		seen = xrealloc(seen, (n + 1) * sizeof(*seen));
		seen[n++] = p;
		fputs("<tr><td><code>", f);
		esc(f, p);
		esc_opt(f, " → ", str(o, "abs2"));
		fputs("</code></td><td>", f);
		role_badge(f, str(o, "role"));
		fputs(" ", f);
		esc(f, str(o, "package"));
		fputs(" <code>", f);
		esc(f, str(o, "comm"));
		fputs("</code></td><td>", f);
		esc(f, k);
		esc_opt(f, " ", str(o, "flags"));
		next_cell(f, str(o, "errno") ? str(o, "errno") : "ok");
		fputs("</td></tr>\n", f);
	}
	fputs("</table>\n", f);
	if (more)
		fprintf(f, "<p>… and %zu more.</p>\n", more);
	free(seen);
}

/* --- timeline ------------------------------------------------------------- */

static bool timeline_worthy(const cJSON *o)
{
	const char *t = str(o, "type"), *k = str(o, "kind");

	if (!t || !k)
		return false;
	if (strcmp(t, "note") == 0)
		return true;
	if (strcmp(k, "exec") == 0 || strcmp(k, "connect") == 0 || strcmp(k, "send") == 0 ||
	    strcmp(k, "bind") == 0 || strcmp(k, "seccomp_refused") == 0 || strcmp(k, "kill") == 0 ||
	    strcmp(k, "ptrace") == 0 || strcmp(k, "memfd") == 0)
		return true;
	if (cJSON_GetObjectItemCaseSensitive(o, "kernel_rule"))
		return true;
	if (is_write(o)) {
		const char *p = str(o, "abs");

		return !p || (!strstr(p, "/site-packages/") && !strstr(p, "__pycache__") &&
			      strncmp(p, "/tmp/pip-", 9) != 0);
	}
	if (strcmp(k, "open") == 0) {
		const char *p = str(o, "abs");

		return p && !boring_read(p) && strncmp(p, "/tmp/", 5) != 0;
	}
	return false;
}

static void describe(FILE *f, const cJSON *o)
{
	const char *k = str(o, "kind");

	if (strcmp(str(o, "type"), "note") == 0) {
		const char *keys[] = { "rule", "evidence", "what", "dns_query", "addr", "package", "hook",
				       "call", "detail", "action" };
		bool first = true;

		for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
			const char *v = str(o, keys[i]);

			if (!v)
				continue;
			fprintf(f, "%s<i>%s</i> ", first ? "" : "; ", keys[i]);
			esc(f, v);
			first = false;
		}
		if (cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(o, "port")))
			fprintf(f, " port %.0f", num(o, "port"));
		return;
	}
	if (strcmp(k, "exec") == 0 && cJSON_GetObjectItemCaseSensitive(o, "argv")) {
		autofree char *a = argv_text(cJSON_GetObjectItemCaseSensitive(o, "argv"));

		esc_cut(f, a, 400);
		return;
	}
	if (str(o, "addr")) {
		esc(f, str(o, "addr"));
		fprintf(f, ":%.0f", num(o, "port"));
		esc_opt(f, " DNS ", str(o, "dns_query"));
		return;
	}
	esc(f, str(o, "abs") ? str(o, "abs") : str(o, "path"));
	esc_opt(f, " → ", str(o, "abs2"));
	if (strcmp(k, "seccomp_refused") == 0)
		esc_opt(f, " ", str(o, "syscall"));
}

static void section_timeline(FILE *f, const struct lines *L)
{
	size_t shown = 0, more = 0;
	double t0 = L->header ? num(L->header, "start_mono") : 0;

	fputs("<h2 id=\"timeline\">Timeline</h2>\n<table class=\"timeline\"><tr><th>+s</th><th>who</th>"
	      "<th>what</th><th>detail</th><th>result</th></tr>\n", f);
	for (size_t i = 0; i < L->n; i++) {
		const cJSON *o = L->v[i];
		bool note;

		if (!timeline_worthy(o))
			continue;
		if (shown >= MAX_TIMELINE) {
			more++;
			continue;
		}
		shown++;
		note = strcmp(str(o, "type"), "note") == 0;
		fprintf(f, "<tr class=\"%s%s\"><td>%.3f</td><td>", note ? "note" : "event",
			is_kind(o, "note", "violation") ? " violation-note" : "",
			num(o, "t_mono") ? num(o, "t_mono") - t0 : 0.0);
		role_badge(f, str(o, "role"));
		fprintf(f, " <span class=\"pid\">%.0f</span> ", num(o, "pid"));
		esc(f, str(o, "package"));
		next_cell(f, note ? "note: " : "");
		esc(f, str(o, "kind"));
		fputs("</td><td>", f);
		describe(f, o);
		fputs("</td><td>", f);
		if (!note)
			esc(f, str(o, "errno") ? str(o, "errno") : "ok");
		fputs("</td></tr>\n", f);
	}
	fputs("</table>\n", f);
	if (more)
		fprintf(f, "<p>… and %zu more lines (see trace.jsonl).</p>\n", more);
}

static const char css[] =
	"body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222;background:#fff}"
	"h1{font-size:1.5em}h2{border-bottom:1px solid #ccc;margin-top:1.8em}"
	"table{border-collapse:collapse;width:100%;margin:.5em 0}"
	"td,th{border:1px solid #ddd;padding:3px 6px;vertical-align:top;text-align:left}"
	"th{background:#f3f3f3}code,pre{font:12px/1.3 ui-monospace,monospace}"
	"pre.payload{background:#fff8e6;border:1px solid #e0c070;padding:6px;white-space:pre-wrap;"
	"word-break:break-all;max-height:30em;overflow:auto}"
	".verdict{font-size:1.3em;padding:.6em 1em;border-radius:6px;margin:1em 0}"
	".v-bad{background:#fde2e1;border:2px solid #c0392b}.v-clean{background:#e3f7e3;border:2px solid #2e8b57}"
	"tr.violation td{background:#fff0f0}.ev{font-family:ui-monospace,monospace;word-break:break-all}"
	".role{display:inline-block;border-radius:3px;padding:0 5px;margin-right:3px;color:#fff;font-size:12px}"
	".r-pip{background:#2c6fbb}.r-build{background:#d9822b}.r-tool{background:#8e44ad}"
	".r-import{background:#27ae60}.r-none{background:#888}"
	".pid{color:#888;font-size:12px}.pkg{font-weight:bold}"
	"ul.tree,ul.tree ul{list-style:none;padding-left:1.2em;border-left:1px dotted #bbb}"
	"tr.capture td{background:#fffbea}tr.violation-note td{background:#fff0f0}"
	"nav a{margin-right:1em}.dns{word-break:break-all}";

void html_render(FILE *f, const char *trace, size_t trace_len, const char *report_json)
{
	struct lines L = { 0 };
	cJSON *rep = report_json ? cJSON_Parse(report_json) : NULL;
	const cJSON *argv;

	if (trace)
		parse_lines(trace, trace_len, &L);
	argv = L.header ? cJSON_GetObjectItemCaseSensitive(L.header, "argv") : NULL;
	fprintf(f, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
		"<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
		"style-src 'unsafe-inline'\">\n<title>pipjail analysis</title>\n<style>%s</style>\n"
		"</head><body>\n<h1>pipjail analysis</h1>\n", css);
	fputs("<p>Command in the jail: <code>", f);
	if (argv) {
		autofree char *a = argv_text(argv);

		esc(f, a);
	}
	fputs("</code><br>Started ", f);
	esc(f, L.header ? str(L.header, "start_wall") : "?");
	if (L.header) {
		const cJSON *opts = cJSON_GetObjectItemCaseSensitive(L.header, "options");

		fputs(" on host <code>", f);
		esc(f, str(opts, "hostname"));
		fputs("</code>", f);
	}
	fputs(".</p>\n<nav><a href=\"#violations\">Violations</a><a href=\"#network\">Network</a>"
	      "<a href=\"#tree\">Processes</a><a href=\"#files\">Files</a>"
	      "<a href=\"#timeline\">Timeline</a></nav>\n", f);
	section_verdict(f, rep);
	section_network(f, &L);
	section_tree(f, &L);
	fputs("<h2 id=\"files\">Files written</h2>\n", f);
	file_table(f, &L, true);
	fputs("<h2>Files read</h2>\n<p>System files (/usr, /lib, /proc, /sys, /dev) and installed "
	      "packages are left out.</p>\n", f);
	file_table(f, &L, false);
	section_timeline(f, &L);
	if (L.summary)
		fprintf(f, "<p class=\"summary\">%.0f events, %.0f lost; trace: %s.</p>\n",
			num(L.summary, "events"), num(L.summary, "lost"),
			str(L.summary, "verdict") ? str(L.summary, "verdict") : "?");
	fputs("</body></html>\n", f);
	free_lines(&L);
	cJSON_Delete(rep);
}

static char *slurp_as_user(const struct jail_user *u, const char *path, size_t *len)
{
	autoclose int fd = open_as_user(u, path, O_RDONLY, 0);
	size_t cap = 1 << 16, n = 0;
	char *buf;

	if (fd < 0)
		return NULL;
	buf = xmalloc(cap + 1);
	for (;;) {
		ssize_t r;

		if (n == cap) {
			if (cap >= MAX_FILE_BYTES)
				break;
			cap *= 2;
			buf = xrealloc(buf, cap + 1);
		}
		r = read(fd, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	buf[n] = '\0';
	*len = n;
	return buf;
}

int html_report(const struct jail_user *u, const char *trace_path, const char *report_path,
		const char *out_path, char *err, size_t errlen)
{
	size_t tlen = 0, rlen = 0;
	autofree char *trace = slurp_as_user(u, trace_path, &tlen);
	autofree char *rep = slurp_as_user(u, report_path, &rlen);
	int fd = open_as_user(u, out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	FILE *f;

	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", out_path, strerror(errno));
		return -1;
	}
	f = fdopen(fd, "w");
	if (!f) {
		close(fd);
		snprintf(err, errlen, "%s: %s", out_path, strerror(errno));
		return -1;
	}
	html_render(f, trace, tlen, rep);
	if (fclose(f) != 0) {
		snprintf(err, errlen, "writing %s: %s", out_path, strerror(errno));
		return -1;
	}
	return 0;
}
