/* pipjail analyze PATH: forensic analysis of a suspicious package.
 *
 * The package is installed, offline, into a throwaway virtual environment
 * in a fresh temporary directory, in a jail with the forensic profile in
 * audit mode (nothing killed, everything recorded), with the sinkhole
 * (src/sinkhole.c) in place of the network: DNS answered, every TCP port
 * accepted, what was sent captured and searched for the decoy tokens.
 * With --import every top-level module is imported afterwards (role
 * import); with --fast-time sleeps return at once.  The install is a dry
 * run: the staged environment is discarded, and the temporary directory
 * is removed whatever happens.  Only --out DIR is left on the host.
 *
 * Layout of the temporary directory (root-owned 0711: the user can reach
 * work/ but not list or replace anything at the top):
 *   /var/tmp/pipjail-analyze.XXXXXX/work        the user's, 0700
 *                                  work/in/    a copy of PATH (bound rw)
 *                                  work/venv/  the environment (staged)
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "cli.h"
#include "commands.h"
#include "engine.h"
#include "environ.h"
#include "html.h"
#include "journal.h"
#include "monitor.h"
#include "run.h"
#include "sinkhole.h"
#include "sockowner.h"
#include "trace.h"
#include "useropen.h"
#include "util.h"

extern char **environ;

#define ANALYZE_TMP_PARENT "/var/tmp"
#define WHEELS_DIR         "/usr/share/python-wheels"
#define MAX_SLEEP_NOTES    64

/* What the sinkhole glue needs beyond struct run: one analysis per process. */
static struct analysis {
	const char *out;              /* --out DIR, or NULL */
	const struct jail_user *user;
	unsigned captures;
	unsigned long sleeps;
	unsigned long connects;
	int notify_child;             /* the jail's end of the listener socketpair */
} an = { .notify_child = -1 };

static void usage(FILE *f)
{
	fputs("usage: pipjail analyze PATH [--import] [--out DIR] [--fast-time] [--timeout SEC]\n"
	      "                       [--index-url URL] [-v]\n"
	      "\n"
	      "Installs PATH (an sdist, a wheel, a source directory, or NAME==VERSION from\n"
	      "--index-url) offline into a throwaway environment, in a jail that records\n"
	      "everything and kills nothing; DNS and every TCP port answer from a sinkhole\n"
	      "inside the jail, so what the package tries to send is captured.  Nothing\n"
	      "persists on the host but --out DIR.\n"
	      "\n"
	      "  --import        import every top-level module afterwards (role import)\n"
	      "  --out DIR       write trace.jsonl, report.json, payloads/, report.html\n"
	      "                  (DIR must not exist or be empty)\n"
	      "  --fast-time     sleeps return at once (delayed payloads show their hand)\n"
	      "  --timeout SEC   kill the jail after SEC seconds (default 300)\n"
	      "  --index-url URL a local package index for NAME==VERSION (pip alone may\n"
	      "                  reach it, through pipjail's proxy)\n"
	      "\n"
	      "Exit: 100 when something was found, 0 when clean, 102 incomplete, 124 timeout,\n"
	      "125 pipjail error.\n", f);
}

/* --- doing things as the invoking user ---------------------------------- */

static void become_user(const struct jail_user *u)
{
	cap_t none = cap_init();

	if (setgroups((size_t)u->n_groups, u->groups) < 0 || setresgid(u->gid, u->gid, u->gid) < 0 ||
	    setresuid(u->uid, u->uid, u->uid) < 0 || !none || cap_set_proc(none) < 0) {
		fprintf(stderr, "pipjail: analyze: becoming user %u: %s\n", u->uid, strerror(errno));
		_exit(EXIT_PIPJAIL_ERROR);
	}
	cap_free(none);
}

/* Run argv as the user, with env; its exit status, or -1. */
static int run_as_user(const struct jail_user *u, char *const *argv, char *const *env, bool quiet,
		       const char *cwd)
{
	int st;
	pid_t pid = fork();

	if (pid < 0)
		return -1;
	if (pid == 0) {
		become_user(u);
		if (cwd && chdir(cwd) < 0)
			_exit(EXIT_PIPJAIL_ERROR);
		if (quiet) {
			int null = open("/dev/null", O_WRONLY | O_CLOEXEC);

			if (null >= 0)
				dup2(null, 1);
		}
		execve(argv[0], argv, env);
		fprintf(stderr, "pipjail: analyze: %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* --out DIR: created as the user (or an empty one of theirs), with payloads/. */
static void prepare_out(const struct jail_user *u, const char *out)
{
	int st;
	pid_t pid = fork();

	if (pid < 0)
		die_errno("fork");
	if (pid == 0) {
		autofree char *pl = xasprintf("%s/payloads", out);
		DIR *d;
		struct dirent *e;

		become_user(u);
		if (mkdir(out, 0755) < 0) {
			if (errno != EEXIST || !(d = opendir(out))) {
				fprintf(stderr, "pipjail: analyze: --out %s: %s\n", out, strerror(errno));
				_exit(1);
			}
			while ((e = readdir(d)))
				if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
					fprintf(stderr, "pipjail: analyze: --out %s: the directory is not "
						"empty; name a new one\n", out);
					_exit(1);
				}
			closedir(d);
		}
		if (mkdir(pl, 0755) < 0) {
			fprintf(stderr, "pipjail: analyze: %s: %s\n", pl, strerror(errno));
			_exit(1);
		}
		_exit(0);
	}
	if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
		exit(EXIT_PIPJAIL_ERROR);
}

/* A user name that looks like anyone's and is nobody's on this host. */
static char *pick_fake_user(const char *real)
{
	static const char *const names[] = {
		"alex", "sam", "jordan", "maria", "chris", "dana", "kim", "lee", "nina", "omar",
		"pat", "ravi", "sara", "tom", "yuki", "lena", "marc", "ines", "felix", "ana",
	};

	for (int tries = 0; tries < 64; tries++) {
		unsigned char r[2];
		char *n;

		random_bytes(r, sizeof(r));
		if (r[1] % 3)
			n = xstrdup(names[r[0] % ARRAY_SIZE(names)]);
		else
			n = xasprintf("%s%u", names[r[0] % ARRAY_SIZE(names)], 1u + r[1] % 99);
		if (strcmp(n, real) != 0 && !getpwnam(n))
			return n;
		free(n);
	}
	return xstrdup("devuser");
}

/* --- the sinkhole glue (hooks from src/supervisor.c) --------------------- */

static int who(uint16_t port, uint32_t *hpid, void *ctx)
{
	struct run *r = ctx;

	if (sock_owner(r->init, r->cg.v2_path, port, hpid) < 0)
		return -1;
	if (r->mon)
		monitor_consume(r->mon); /* the engine must know the process */
	return 0;
}

/* Printable text of captured bytes for the trace and the report. */
static char *printable(const unsigned char *b, size_t n)
{
	char *s = xmalloc(n + 1);

	for (size_t i = 0; i < n; i++)
		s[i] = (b[i] >= 0x20 && b[i] < 0x7f) || b[i] == '\n' || b[i] == '\r' || b[i] == '\t'
		       ? (char)b[i] : '.';
	s[n] = '\0';
	return s;
}

static void hex_encode(const char *in, char *out, bool upper)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	size_t n = strlen(in);

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[(unsigned char)in[i] >> 4];
		out[2 * i + 1] = digits[(unsigned char)in[i] & 15];
	}
	out[2 * n] = '\0';
}

static void b64_encode(const unsigned char *in, size_t n, char *out, bool urlsafe)
{
	const char *a = urlsafe ? "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
				: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t o = 0;

	for (size_t i = 0; i + 2 < n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];

		out[o++] = a[v >> 18 & 63];
		out[o++] = a[v >> 12 & 63];
		out[o++] = a[v >> 6 & 63];
		out[o++] = a[v & 63];
	}
	out[o] = '\0';
}

static bool contains(const unsigned char *hay, size_t n, const char *needle, bool nocase)
{
	size_t m = strlen(needle);

	if (m == 0 || m > n)
		return false;
	if (!nocase)
		return memmem(hay, n, needle, m) != NULL;
	for (size_t i = 0; i + m <= n; i++)
		if (strncasecmp((const char *)hay + i, needle, m) == 0)
			return true;
	return false;
}

/* Does data carry a decoy token: as is, in hex, or in base64 (standard or
 * URL-safe, at any of the three alignments)?  Its index, or -1; *how says
 * which encoding. */
static int find_decoy(const struct engine *e, const unsigned char *data, size_t n, bool nocase,
		      const char **how)
{
	const char *where, *tok;

	for (size_t i = 0; (tok = engine_decoy(e, i, &where)); i++) {
		size_t tl = strlen(tok);
		autofree char *hex = xmalloc(2 * tl + 1);
		autofree unsigned char *pad = xmalloc(tl + 3);
		autofree char *b64 = xmalloc(2 * tl + 8);

		if (contains(data, n, tok, nocase)) {
			*how = "as is";
			return (int)i;
		}
		hex_encode(tok, hex, false);
		if (contains(data, n, hex, true)) {
			*how = "hex";
			return (int)i;
		}
		for (size_t k = 0; k < 3; k++) {
			size_t start = k ? 4 : 0;

			memset(pad, 0, k);
			memcpy(pad + k, tok, tl);
			for (int safe = 0; safe < 2; safe++) {
				b64_encode(pad, tl + k, b64, safe);
				if (strlen(b64) > start + 12 && contains(data, n, b64 + start, false)) {
					*how = safe ? "base64url" : "base64";
					return (int)i;
				}
			}
		}
	}
	return -1;
}

/* payloads/NNN-tcp-ADDR-PORT.bin, payloads/dns.txt */
static char *save_payload(const struct sink_capture *c, unsigned n)
{
	autofree char *path = NULL;
	autoclose int fd = -1;
	char *name;

	if (!an.out)
		return NULL;
	if (strcmp(c->proto, "dns") == 0) {
		autofree char *line = xasprintf("%s %s %s\n", c->addr, c->dns_qtype, c->dns_name);

		path = xasprintf("%s/payloads/dns.txt", an.out);
		fd = open_as_user(an.user, path, O_WRONLY | O_CREAT | O_APPEND, 0644);
		if (fd < 0 || write_all(fd, line, strlen(line)) < 0)
			warn_errno("%s", path);
		return xstrdup("payloads/dns.txt");
	}
	name = xasprintf("payloads/%03u-tcp-%s-%u.bin", n, c->addr, c->port);
	for (char *p = name + 9; *p; p++)
		if (*p == ':')
			*p = '_';
	path = xasprintf("%s/%s", an.out, name);
	fd = open_as_user(an.user, path, O_WRONLY | O_CREAT | O_EXCL, 0644);
	if (fd < 0 || write_all(fd, c->data, c->len) < 0)
		warn_errno("%s", path);
	return name;
}

static void on_capture(const struct sink_capture *c, void *ctx)
{
	struct run *r = ctx;
	bool dns = strcmp(c->proto, "dns") == 0;
	unsigned n = ++an.captures;
	autofree char *file = save_payload(c, n);
	autofree char *text = NULL, *squeezed = NULL;
	const struct proc_info *pi = c->hpid ? engine_proc(r->engine, c->hpid) : NULL;
	const char *how = NULL;
	int d;

	if (r->trace) {
		cJSON *f = cJSON_CreateObject();

		cJSON_AddStringToObject(f, "proto", c->proto);
		cJSON_AddStringToObject(f, "addr", c->addr);
		cJSON_AddNumberToObject(f, "port", c->port);
		if (c->hpid)
			cJSON_AddNumberToObject(f, "hpid", c->hpid);
		if (pi) {
			cJSON_AddNumberToObject(f, "pid", pi->pid);
			cJSON_AddStringToObject(f, "role", role_name(pi->role));
			if (pi->package)
				cJSON_AddStringToObject(f, "package", pi->package);
		}
		if (dns) {
			cJSON_AddStringToObject(f, "dns_query", c->dns_name);
			cJSON_AddStringToObject(f, "dns_qtype", c->dns_qtype);
		} else {
			text = printable(c->data, c->len);
			cJSON_AddNumberToObject(f, "bytes", (double)c->len);
			cJSON_AddBoolToObject(f, "truncated", c->truncated);
			cJSON_AddStringToObject(f, "data", text);
		}
		if (file)
			cJSON_AddStringToObject(f, "payload_file", file);
		trace_write_note(r->trace, "sinkhole", f);
		cJSON_Delete(f);
	}
	if (dns) {
		/* Tunnelled data is split into labels: look at it without the dots. */
		size_t o = 0;

		squeezed = xstrdup(c->dns_name);
		for (const char *p = c->dns_name; *p; p++)
			if (*p != '.')
				squeezed[o++] = *p;
		squeezed[o] = '\0';
		d = find_decoy(r->engine, (const unsigned char *)squeezed, o, true, &how);
	} else {
		d = find_decoy(r->engine, c->data, c->len, false, &how);
	}
	if (d >= 0) {
		const char *where;
		char evidence[1024], detail[256];
		autofree char *first = NULL;
		struct violation v = { .rule = "exfiltration", .kind = "network", .evidence = evidence,
				       .detail = detail, .hpid = c->hpid, .action = ACTION_REPORT,
				       .t_mono_ns = now_ns() };

		engine_decoy(r->engine, (size_t)d, &where);
		if (dns) {
			snprintf(evidence, sizeof(evidence), "DNS %s query to %s: %s", c->dns_qtype, c->addr,
				 c->dns_name);
		} else {
			size_t l = strcspn(text ? text : "", "\r\n");

			first = xasprintf("%.*s", (int)(l > 200 ? 200 : l), text ? text : "");
			snprintf(evidence, sizeof(evidence), "TCP %s port %u: %s (%zu bytes%s%s)", c->addr,
				 c->port, first, c->len, file ? ", " : "", file ? file : "");
		}
		snprintf(detail, sizeof(detail), "the sinkhole captured the decoy %s (%s) in what was sent",
			 where, how);
		engine_report(r->engine, &v);
	}
}

static void on_notify(const char *call, uint32_t hpid, const char *detail, void *ctx)
{
	struct run *r = ctx;
	bool sleep = strcmp(call, "sleep") == 0;
	unsigned long n = sleep ? ++an.sleeps : ++an.connects;
	cJSON *f;

	if (!r->trace || (sleep && n > MAX_SLEEP_NOTES))
		return;
	f = cJSON_CreateObject();
	cJSON_AddStringToObject(f, "call", call);
	cJSON_AddNumberToObject(f, "hpid", hpid);
	cJSON_AddStringToObject(f, "what", sleep ? "answered at once (--fast-time)"
					       : "a sinkhole listener waits on this port");
	cJSON_AddStringToObject(f, "detail", detail);
	trace_write_note(r->trace, "sinkhole-call", f);
	cJSON_Delete(f);
}

void sink_prepare(struct run *r)
{
	struct jail_config *cfg = r->cfg;
	struct sinkhole_opts o = { .fast_time = cfg->fast_time, .who = who, .on_capture = on_capture,
				   .on_notify = on_notify, .ctx = r };
	char err[512];
	int sv[2];

	if (cfg->net != NET_SINKHOLE)
		return;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		die_errno("socketpair");
	r->sink = sinkhole_new(&o, sv[0], err, sizeof(err));
	if (!r->sink)
		die("%s", err);
	cfg->notify = true;
	cfg->notify_sock = sv[1];
	an.notify_child = sv[1];
}

int sink_listen(struct run *r)
{
	char path[64], err[512];
	autoclose int ns = -1;

	if (!r->sink)
		return 0;
	/* The jail's init and its commands hold their own copy now. */
	closep(&an.notify_child);
	r->cfg->notify_sock = -1;
	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)r->init);
	ns = open(path, O_RDONLY | O_CLOEXEC);
	if (ns < 0 || sinkhole_setup_netns(r->sink, ns, err, sizeof(err)) < 0) {
		warnx_("the sinkhole: %s", ns < 0 ? strerror(errno) : err);
		return -1;
	}
	run_epoll_add(r, sinkhole_fd(r->sink));
	debugx(1, "sinkhole: every destination is local in the jail; DNS answered on port 53");
	return 0;
}

void sink_handle(struct run *r, int fd)
{
	if (r->sink && fd == sinkhole_fd(r->sink))
		sinkhole_handle(r->sink);
}

void sink_finish(struct run *r)
{
	if (!r->sink)
		return;
	sinkhole_flush(r->sink);
	if (r->trace && an.sleeps) {
		cJSON *f = cJSON_CreateObject();

		cJSON_AddNumberToObject(f, "sleeps_answered", (double)an.sleeps);
		cJSON_AddNumberToObject(f, "connects", (double)an.connects);
		cJSON_AddNumberToObject(f, "captures", an.captures);
		trace_write_note(r->trace, "sinkhole-summary", f);
		cJSON_Delete(f);
	}
}

void sink_free(struct run *r)
{
	sinkhole_free(r->sink);
	r->sink = NULL;
	closep(&an.notify_child);
}

/* --- the analysis -------------------------------------------------------- */

struct analyze_opts {
	const char *path;
	const char *out;
	const char *index_url;
	bool import;
	bool fast_time;
	unsigned long long timeout_s;
};

static void parse(int argc, char **argv, struct analyze_opts *o)
{
	enum { O_IMPORT = 256, O_OUT, O_FAST, O_TIMEOUT, O_INDEX };
	static const struct option opts[] = {
		{ "import", no_argument, NULL, O_IMPORT },
		{ "out", required_argument, NULL, O_OUT },
		{ "fast-time", no_argument, NULL, O_FAST },
		{ "timeout", required_argument, NULL, O_TIMEOUT },
		{ "index-url", required_argument, NULL, O_INDEX },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	o->timeout_s = 300;
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":vh", opts, NULL)) != -1) {
		switch (c) {
		case O_IMPORT: o->import = true; break;
		case O_OUT:    o->out = optarg; break;
		case O_FAST:   o->fast_time = true; break;
		case O_INDEX:  o->index_url = optarg; break;
		case O_TIMEOUT:
			if (!parse_uint(optarg, 1, 7 * 86400, &o->timeout_s))
				die("--timeout %s: expected a whole number of seconds", optarg);
			break;
		case 'v':      pj_verbose++; break;
		case 'h':      usage(stdout); exit(0);
		case ':':      die("%s: missing its value; see pipjail analyze --help", argv[optind - 1]);
		default:       die("unknown option %s; see pipjail analyze --help", argv[optind - 1]);
		}
	}
	if (optind != argc - 1) {
		usage(stderr);
		exit(EXIT_PIPJAIL_ERROR);
	}
	o->path = argv[optind];
}

/* The throwaway place: TOP (root, 0711), TOP/work (the user, 0700). */
static char *make_tmp(const struct jail_user *u, int *top_parent_fd)
{
	char tmpl[] = ANALYZE_TMP_PARENT "/pipjail-analyze.XXXXXX";
	autofree char *work = NULL;

	if (!mkdtemp(tmpl))
		die_errno("creating a temporary directory in %s", ANALYZE_TMP_PARENT);
	*top_parent_fd = open(ANALYZE_TMP_PARENT, O_PATH | O_DIRECTORY | O_CLOEXEC);
	work = xasprintf("%s/work", tmpl);
	if (*top_parent_fd < 0 || chmod(tmpl, 0711) < 0 || mkdir(work, 0700) < 0 ||
	    chown(work, u->uid, u->gid) < 0) {
		warn_errno("preparing %s", tmpl);
		if (*top_parent_fd >= 0)
			rmtree_at(*top_parent_fd, strrchr(tmpl, '/') + 1);
		exit(EXIT_PIPJAIL_ERROR);
	}
	return xstrdup(tmpl);
}

static const char *const host_env[] = {
	"PATH=/usr/local/bin:/usr/bin:/bin", "LANG=C.UTF-8", "PIP_NO_CACHE_DIR=1",
	"PIP_DISABLE_PIP_VERSION_CHECK=1", "PYTHONDONTWRITEBYTECODE=1", NULL,
};

/* The environment, with pip and wheel from Debian's wheels (so that a
 * setup.py project builds a wheel, the PEP 517 way).  The wheels are pure
 * Python: unpacking them into site-packages installs them, in a fraction
 * of the time ensurepip takes.  Trusted code only: nothing of the package
 * runs here. */
#define UNPACK_WHEELS                                                                  \
	"import glob, sys, sysconfig, zipfile\n"                                        \
	"sp = sysconfig.get_paths()['purelib']\n"                                       \
	"for name in ('pip', 'wheel'):\n"                                               \
	"    found = sorted(glob.glob(sys.argv[1] + '/' + name + '-*-py3-none-any.whl'))\n" \
	"    if not found:\n"                                                           \
	"        sys.exit('no ' + name + ' wheel in ' + sys.argv[1])\n"                 \
	"    zipfile.ZipFile(found[-1]).extractall(sp)\n"

static int make_venv(const struct jail_user *u, const char *venv)
{
	autofree char *py = xasprintf("%s/bin/python", venv);
	char *mk[] = { "/usr/bin/python3", "-m", "venv", "--without-pip", (char *)venv, NULL };
	char *unpack[] = { py, "-I", "-c", UNPACK_WHEELS, WHEELS_DIR, NULL };

	if (run_as_user(u, mk, (char *const *)host_env, true, "/") != 0 ||
	    run_as_user(u, unpack, (char *const *)host_env, false, "/") != 0) {
		warnx_("creating the environment %s failed", venv);
		return -1;
	}
	return 0;
}

/* PATH copied into work/in as the user: the jail never sees the original,
 * and an in-tree build writes into the copy.  Returns the copy's path, or
 * NULL when PATH is a requirement (NAME==VERSION). */
static char *copy_input(const struct jail_user *u, const char *path, const char *work,
			const struct analyze_opts *o)
{
	autofree char *in = xasprintf("%s/in", work);
	char *mkin[] = { "/bin/mkdir", "-p", in, NULL };
	const char *base;
	char *dst;

	if (run_as_user(u, mkin, (char *const *)host_env, false, "/") != 0)
		die("creating %s failed", in);
	if (access(path, F_OK) < 0 && strstr(path, "==") && !strchr(path, '/')) {
		if (!o->index_url)
			die("%s: not a file; a NAME==VERSION requirement needs --index-url", path);
		return NULL;
	}
	base = strrchr(path, '/');
	base = base && base[1] ? base + 1 : path;
	if (strcmp(base, ".") == 0 || strcmp(base, "..") == 0 || base[0] == '\0')
		base = "src";
	dst = xasprintf("%s/%s", in, base);
	{
		char *cp[] = { "/bin/cp", "-R", "-P", "--", (char *)path, dst, NULL };

		if (run_as_user(u, cp, (char *const *)host_env, false, NULL) != 0)
			die("%s: cannot be read (as user %s)", path, u->name);
	}
	return dst;
}

static char **build_argv(const char *venv, const char *target, const char *spec,
			 const struct analyze_opts *o)
{
	char **a = xcalloc(16, sizeof(char *));
	size_t n = 0;

	a[n++] = xasprintf("%s/bin/python", venv);
	a[n++] = xstrdup("-m");
	a[n++] = xstrdup("pip");
	a[n++] = xstrdup("install");
	a[n++] = xstrdup("--no-input");
	a[n++] = xstrdup("--disable-pip-version-check");
	if (o->index_url) {
		a[n++] = xstrdup("--index-url");
		a[n++] = xstrdup(o->index_url);
	} else {
		a[n++] = xstrdup("--no-index");
	}
	a[n++] = xstrdup("--find-links");
	a[n++] = xstrdup(WHEELS_DIR);
	a[n++] = xstrdup(target ? target : spec);
	return a;
}

int cmd_analyze(int argc, char **argv)
{
	struct analyze_opts o = { 0 };
	struct jail_config cfg = { 0 };
	autofree char *top = NULL, *work = NULL, *venv = NULL, *target = NULL, *real_home = NULL;
	autofree char *trace = NULL, *report = NULL;
	autoclose int top_parent = -1;
	const char *set[4];
	char proxy[2][64];
	size_t n_set = 0, n_env;
	char **cmd;
	int code;

	parse(argc, argv, &o);
	cli_config_base(&cfg);
	an.user = &cfg.user;
	if (o.out) {
		prepare_out(&cfg.user, o.out);
		an.out = o.out;
		trace = xasprintf("%s/trace.jsonl", o.out);
		report = xasprintf("%s/report.json", o.out);
	}
	top = make_tmp(&cfg.user, &top_parent);
	work = xasprintf("%s/work", top);
	venv = xasprintf("%s/venv", work);
	if (make_venv(&cfg.user, venv) < 0) {
		code = EXIT_PIPJAIL_ERROR;
		goto cleanup;
	}
	target = copy_input(&cfg.user, o.path, work, &o);

	cmd = build_argv(venv, target, o.path, &o);
	cfg.argv = cmd;
	cfg.is_pip = true;
	cfg.cwd = xasprintf("%s/in", work);
	cfg.target_env = xstrdup(venv);
	cli_config_bind(&cfg, "the analysis input", cfg.cwd, true);
	cli_config_identity(&cfg);
	decoys_generate(&cfg.decoys);
	/* A name and a home of this run: the invoker's own would say whose
	 * machine this is, and a fixed one would say "sandbox". */
	cfg.fake_user = pick_fake_user(cfg.user.name);
	real_home = cfg.user.home;
	cfg.user.home = xasprintf("/home/%s", cfg.fake_user);
	if (o.index_url) {
		snprintf(proxy[0], sizeof(proxy[0]), "HTTP_PROXY=http://127.0.0.1:%d", PIPJAIL_PROXY_PORT);
		snprintf(proxy[1], sizeof(proxy[1]), "HTTPS_PROXY=http://127.0.0.1:%d", PIPJAIL_PROXY_PORT);
		set[n_set++] = proxy[0];
		set[n_set++] = proxy[1];
	}
	cfg.env = env_build((char *const *)host_env, NULL, 0, set, n_set, cfg.user.home, cfg.fake_user,
			    &n_env);
	decoys_add_env(&cfg.decoys, &cfg.env, &n_env);
	cfg.net = NET_SINKHOLE;
	cfg.fast_time = o.fast_time;
	cfg.notify_sock = -1;
	cfg.audit = true;
	cfg.dry_run = true;
	cfg.import_check = o.import;
	cfg.profile_name = "forensic";
	cfg.timeout_s = o.timeout_s;
	cfg.trace_path = trace;
	cfg.report_path = report;
	/* pip alone reaches the index, through the egress proxy (src/egress.c),
	 * which takes its allowed hosts from pip's --index-url. */
	cfg.sink_proxy = o.index_url != NULL;
	debugx(1, "analyze: %s in %s as user '%s' on host '%s'", o.path, work, cfg.fake_user,
	       cfg.hostname);

	code = jail_run(&cfg);

	if (o.out) {
		autofree char *html = xasprintf("%s/report.html", o.out);
		char err[512];

		if (html_report(&cfg.user, trace, report, html, err, sizeof(err)) < 0)
			warnx_("report.html: %s", err);
		else
			fprintf(stderr, "pipjail: analyze: report in %s/report.html\n", o.out);
	}
	for (size_t i = 0; cmd[i]; i++)
		free(cmd[i]);
	free(cmd);
	cfg.argv = NULL;
	free(cfg.fake_user);
	free(cfg.user.home);
	cfg.user.home = xstrdup(real_home);
cleanup:
	/* Whatever happened: nothing of the analysis stays. */
	if (rmtree_at(top_parent, strrchr(top, '/') + 1) < 0)
		warn_errno("removing %s", top);
	jail_config_free(&cfg);
	return code;
}
