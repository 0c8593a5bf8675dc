/* The HTML report (see html.h).  Every string from the trace is the
 * package's doing and is escaped; the page has inline CSS only. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "report/html.h"
#include "report/html_parts.h"
#include "base/base.h"

#define MAX_FILE_BYTES  (512u << 20)
#define MAX_TIMELINE    4000
#define MAX_FILES       1500
#define MAX_PROCS       3000
#define MAX_DATA_SHOWN  (64u * 1024)

void html_esc(FILE *f, const char *s)
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

void html_esc_opt(FILE *f, const char *sep, const char *s)
{
	if (!s)
		return;
	fputs(sep, f);
	html_esc(f, s);
}

/* The first n bytes of s escaped (a long command or payload is cut). */
static void esc_cut(FILE *f, const char *s, size_t n)
{
	autofree char *cut = s && strlen(s) > n ? xmalloc(n + 1) : NULL;

	if (cut) {
		memcpy(cut, s, n);
		cut[n] = '\0';
	}
	html_esc(f, cut ? cut : s);
}

void html_next_cell(FILE *f, const char *s)
{
	fputs("</td><td>", f);
	html_esc(f, s);
}

const char *html_str(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

double html_num(const cJSON *o, const char *k)
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
	html_esc(f, role ? role : "init");
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
		const char *type = o ? html_str(o, "type") : NULL;

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
	const char *t = html_str(o, "type"), *k = html_str(o, "kind");

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
			parent = proc_get(P, html_num(o, "hpid"));
			p = proc_get(P, html_num(o, "child_hpid"));
			if (!p || !parent)
				continue;
			parent = proc_get(P, html_num(o, "hpid")); /* the array may have moved */
			if (!parent->comm)
				parent->comm = html_str(o, "comm");
			p->parent = html_num(o, "hpid");
			p->role = parent->role;
			p->package = parent->package;
			p->comm = parent->comm;
			free(p->cmd);
			p->cmd = parent->cmd ? xstrdup(parent->cmd) : NULL;
		} else if (is_kind(o, "event", "exec") && cJSON_GetObjectItemCaseSensitive(o, "argv")) {
			p = proc_get(P, html_num(o, "hpid"));
			if (!p)
				continue;
			if (p->parent < 0 && html_num(o, "hppid"))
				p->parent = html_num(o, "hppid");
			p->role = html_str(o, "role");
			p->package = html_str(o, "package") ? html_str(o, "package") : p->package;
			p->comm = html_str(o, "comm");
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
		html_esc(f, p->package);
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
	const char *verdict = rep ? html_str(rep, "verdict") : NULL;
	const cJSON *vs = rep ? cJSON_GetObjectItemCaseSensitive(rep, "violations") : NULL;
	const cJSON *ex = rep ? cJSON_GetObjectItemCaseSensitive(rep, "exit") : NULL;
	const cJSON *v;

	fprintf(f, "<div class=\"verdict v-%s\" id=\"verdict\">Verdict: <b>",
		verdict && strcmp(verdict, "clean") == 0 ? "clean" : "bad");
	html_esc(f, verdict ? verdict : "unknown (no report)");
	fprintf(f, "</b> — %d violation%s; exit %.0f</div>\n", cJSON_GetArraySize(vs),
		cJSON_GetArraySize(vs) == 1 ? "" : "s", html_num(ex, "code"));
	fputs("<h2 id=\"violations\">Violations</h2>\n", f);
	if (cJSON_GetArraySize(vs) == 0) {
		fputs("<p>None.</p>\n", f);
		return;
	}
	fputs("<table class=\"violations\"><tr><th>rule</th><th>package</th><th>role</th>"
	      "<th>evidence</th><th>why</th><th>chain</th><th>outcome</th></tr>\n", f);
	cJSON_ArrayForEach(v, vs) {
		fputs("<tr class=\"violation\"><td><b>", f);
		html_esc(f, html_str(v, "rule"));
		fputs("</b></td><td>", f);
		html_esc(f, html_str(v, "package") ? html_str(v, "package") : "—");
		html_esc_opt(f, " ", html_str(v, "version"));
		fputs("</td><td>", f);
		role_badge(f, html_str(v, "role"));
		fputs("</td><td class=\"ev\">", f);
		html_esc(f, html_str(v, "evidence"));
		html_next_cell(f, html_str(v, "detail"));
		html_next_cell(f, html_str(v, "chain"));
		html_next_cell(f, html_str(v, "outcome"));
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
		const char *fam = html_str(o, "family");

		if (!cap && !ev)
			continue;
		if (ev && fam && strcmp(fam, "AF_UNIX") == 0)
			continue;
		shown++;
		fprintf(f, "<tr class=\"%s\"><td>%.3f</td><td>", cap ? "capture" : "attempt",
			html_num(o, "t_mono"));
		role_badge(f, html_str(o, "role"));
		html_esc_opt(f, " ", html_str(o, "package"));
		if (html_str(o, "comm")) {
			fputs(" <code>", f);
			html_esc(f, html_str(o, "comm"));
			fputs("</code>", f);
		}
		html_next_cell(f, cap ? (html_str(o, "dns_query") ? "DNS query (sinkhole)" : "TCP capture (sinkhole)")
				 : html_str(o, "kind"));
		html_next_cell(f, html_str(o, "addr"));
		fprintf(f, ":%.0f", html_num(o, "port"));
		fputs("</td><td>", f);
		if (html_str(o, "dns_query")) {
			fputs("<code class=\"dns\">", f);
			html_esc(f, html_str(o, "dns_qtype"));
			html_esc_opt(f, " ", html_str(o, "dns_query"));
			fputs("</code>", f);
		}
		if (cap && html_str(o, "data")) {
			fprintf(f, "<details open><summary>%.0f bytes%s%s%s</summary><pre class=\"payload\">",
				html_num(o, "bytes"), cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "truncated"))
				? " (cut at the bound)" : "", html_str(o, "payload_file") ? " — " : "",
				html_str(o, "payload_file") ? html_str(o, "payload_file") : "");
			esc_cut(f, html_str(o, "data"), MAX_DATA_SHOWN);
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
	const char *k = html_str(o, "kind"), *fl = html_str(o, "flags");

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
		const char *p, *k = html_str(o, "kind");
		bool dup = false;

		if (!html_str(o, "type") || strcmp(html_str(o, "type"), "event") != 0 || !k)
			continue;
		if (writes ? !is_write(o) : (strcmp(k, "open") != 0 || is_write(o)))
			continue;
		p = html_str(o, "abs") ? html_str(o, "abs") : html_str(o, "file");
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
		html_esc(f, p);
		html_esc_opt(f, " → ", html_str(o, "abs2"));
		fputs("</code></td><td>", f);
		role_badge(f, html_str(o, "role"));
		fputs(" ", f);
		html_esc(f, html_str(o, "package"));
		fputs(" <code>", f);
		html_esc(f, html_str(o, "comm"));
		fputs("</code></td><td>", f);
		html_esc(f, k);
		html_esc_opt(f, " ", html_str(o, "flags"));
		html_next_cell(f, html_str(o, "errno") ? html_str(o, "errno") : "ok");
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
	const char *t = html_str(o, "type"), *k = html_str(o, "kind");

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
		const char *p = html_str(o, "abs");

		return !p || (!strstr(p, "/site-packages/") && !strstr(p, "__pycache__") &&
			      strncmp(p, "/tmp/pip-", 9) != 0);
	}
	if (strcmp(k, "open") == 0) {
		const char *p = html_str(o, "abs");

		return p && !boring_read(p) && strncmp(p, "/tmp/", 5) != 0;
	}
	return false;
}

static void describe(FILE *f, const cJSON *o)
{
	const char *k = html_str(o, "kind");

	if (strcmp(html_str(o, "type"), "note") == 0) {
		const char *keys[] = { "rule", "evidence", "what", "dns_query", "addr", "package", "hook",
				       "call", "detail", "action" };
		bool first = true;

		for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
			const char *v = html_str(o, keys[i]);

			if (!v)
				continue;
			fprintf(f, "%s<i>%s</i> ", first ? "" : "; ", keys[i]);
			html_esc(f, v);
			first = false;
		}
		if (cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(o, "port")))
			fprintf(f, " port %.0f", html_num(o, "port"));
		return;
	}
	if (strcmp(k, "exec") == 0 && cJSON_GetObjectItemCaseSensitive(o, "argv")) {
		autofree char *a = argv_text(cJSON_GetObjectItemCaseSensitive(o, "argv"));

		esc_cut(f, a, 400);
		return;
	}
	if (html_str(o, "addr")) {
		html_esc(f, html_str(o, "addr"));
		fprintf(f, ":%.0f", html_num(o, "port"));
		html_esc_opt(f, " DNS ", html_str(o, "dns_query"));
		return;
	}
	html_esc(f, html_str(o, "abs") ? html_str(o, "abs") : html_str(o, "path"));
	html_esc_opt(f, " → ", html_str(o, "abs2"));
	if (strcmp(k, "seccomp_refused") == 0)
		html_esc_opt(f, " ", html_str(o, "syscall"));
}

static void section_timeline(FILE *f, const struct lines *L)
{
	size_t shown = 0, more = 0;
	double t0 = L->header ? html_num(L->header, "start_mono") : 0;

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
		note = strcmp(html_str(o, "type"), "note") == 0;
		fprintf(f, "<tr class=\"%s%s\"><td>%.3f</td><td>", note ? "note" : "event",
			is_kind(o, "note", "violation") ? " violation-note" : "",
			html_num(o, "t_mono") ? html_num(o, "t_mono") - t0 : 0.0);
		role_badge(f, html_str(o, "role"));
		fprintf(f, " <span class=\"pid\">%.0f</span> ", html_num(o, "pid"));
		html_esc(f, html_str(o, "package"));
		html_next_cell(f, note ? "note: " : "");
		html_esc(f, html_str(o, "kind"));
		fputs("</td><td>", f);
		describe(f, o);
		fputs("</td><td>", f);
		if (!note)
			html_esc(f, html_str(o, "errno") ? html_str(o, "errno") : "ok");
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

void html_page_start(FILE *f, const char *title, const char *extra_css)
{
	fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
	      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
	      "style-src 'unsafe-inline'\">\n<title>", f);
	html_esc(f, title);
	fprintf(f, "</title>\n<style>%s%s</style>\n</head><body>\n<h1>", css, extra_css);
	html_esc(f, title);
	fputs("</h1>\n", f);
}

void html_render(FILE *f, const char *trace, size_t trace_len, const char *report_json)
{
	struct lines L = { 0 };
	cJSON *rep = report_json ? cJSON_Parse(report_json) : NULL;
	const cJSON *argv;

	if (trace)
		parse_lines(trace, trace_len, &L);
	argv = L.header ? cJSON_GetObjectItemCaseSensitive(L.header, "argv") : NULL;
	html_page_start(f, "pipjail analysis", "");
	fputs("<p>Command in the jail: <code>", f);
	if (argv) {
		autofree char *a = argv_text(argv);

		html_esc(f, a);
	}
	fputs("</code><br>Started ", f);
	html_esc(f, L.header ? html_str(L.header, "start_wall") : "?");
	if (L.header) {
		const cJSON *opts = cJSON_GetObjectItemCaseSensitive(L.header, "options");

		fputs(" on host <code>", f);
		html_esc(f, html_str(opts, "hostname"));
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
			html_num(L.summary, "events"), html_num(L.summary, "lost"),
			html_str(L.summary, "verdict") ? html_str(L.summary, "verdict") : "?");
	fputs("</body></html>\n", f);
	free_lines(&L);
	cJSON_Delete(rep);
}

int html_report(const struct jail_user *u, const char *trace_path, const char *report_path,
		const char *out_path, char *err, size_t errlen)
{
	size_t tlen = 0, rlen = 0;
	autofree char *trace = read_file_as_user(u, trace_path, MAX_FILE_BYTES, &tlen);
	autofree char *rep = read_file_as_user(u, report_path, MAX_FILE_BYTES, &rlen);
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
