#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "environ.h"
#include "util.h"

void cli_usage(FILE *out)
{
	fputs("usage: pipjail [OPTIONS] [--] COMMAND [ARG...]\n"
	      "       pipjail doctor\n"
	      "       pipjail trace-check FILE\n"
	      "\n"
	      "Runs COMMAND (e.g. pip install foo) in a jail: no view of your files or\n"
	      "secrets, no network, no privileges, every action traced.\n"
	      "\n"
	      "  --profile NAME|PATH  rules to hold the run against (default: the project's\n"
	      "                     .pipjail.json, else 'default')\n"
	      "  --audit            record and report violations, kill nothing (exit 100)\n"
	      "  --report FILE      write the report as JSON\n"
	      "  --sarif FILE       write the findings as SARIF 2.1.0 (code scanning)\n"
	      "  --baseline FILE    known findings (from --write-baseline): reported, not\n"
	      "                     counted; fail only on new ones\n"
	      "  --write-baseline FILE  write this run's findings as a baseline\n"
	      "  --net MODE         none | index (pip's default: only pip reaches its index,\n"
	      "                     through pipjail's proxy) | host (unsafe)\n"
	      "  --allow-host H[:P] let pip reach H too (wildcards: *.example.org)\n"
	      "  --dry-run          stage and check the install, change nothing\n"
	      "  --no-import-check  skip importing what was installed before commit\n"
	      "  --timeout SEC      kill the whole jail after SEC seconds (exit 124)\n"
	      "  --rw PATH          show PATH in the jail, writable (repeatable)\n"
	      "  --ro PATH          show PATH in the jail, read-only (repeatable)\n"
	      "  --write-cwd        make the current directory writable\n"
	      "  --trace FILE       write the event trace (JSON Lines) to FILE\n"
	      "  --buffer-mb N      ring buffer size in MiB, a power of two (default 16)\n"
	      "  --max-procs N      processes in the jail (default 512)\n"
	      "  --max-mem MB       memory per process and for the jail (default 8192)\n"
	      "  --max-fsize MB     largest file written (default 8192)\n"
	      "  --max-nofile N     open files per process (default 4096)\n"
	      "  --cpu SEC          CPU seconds per process (default unlimited)\n"
	      "  --setenv VAR=VAL   set VAR in the jail\n"
	      "  --keep-env VAR     pass the host's VAR into the jail\n"
	      "  -v, --verbose      say each step (twice: more)\n"
	      "  --version, --help\n"
	      "\n"
	      "Exit: the command's status; 128+N when it was killed by signal N;\n"
	      "100 violations found (--audit); 101 a violator was killed; 102 the trace\n"
	      "is incomplete; 124 timeout; 125 pipjail error; 126 not executable;\n"
	      "127 not found.\n",
	      out);
}

enum {
	OPT_TIMEOUT = 256, OPT_RW, OPT_RO, OPT_WRITE_CWD, OPT_TRACE, OPT_BUFFER_MB,
	OPT_MAX_PROCS, OPT_MAX_MEM, OPT_MAX_FSIZE, OPT_MAX_NOFILE, OPT_CPU, OPT_SETENV,
	OPT_KEEP_ENV, OPT_VERSION, OPT_PROFILE, OPT_AUDIT, OPT_REPORT, OPT_NET, OPT_ALLOW_HOST,
	OPT_DRY_RUN, OPT_NO_IMPORT_CHECK, OPT_SARIF, OPT_BASELINE, OPT_WRITE_BASELINE,
};

static const struct option long_opts[] = {
	{ "timeout",    required_argument, NULL, OPT_TIMEOUT },
	{ "rw",         required_argument, NULL, OPT_RW },
	{ "ro",         required_argument, NULL, OPT_RO },
	{ "write-cwd",  no_argument,       NULL, OPT_WRITE_CWD },
	{ "trace",      required_argument, NULL, OPT_TRACE },
	{ "buffer-mb",  required_argument, NULL, OPT_BUFFER_MB },
	{ "max-procs",  required_argument, NULL, OPT_MAX_PROCS },
	{ "max-mem",    required_argument, NULL, OPT_MAX_MEM },
	{ "max-fsize",  required_argument, NULL, OPT_MAX_FSIZE },
	{ "max-nofile", required_argument, NULL, OPT_MAX_NOFILE },
	{ "cpu",        required_argument, NULL, OPT_CPU },
	{ "setenv",     required_argument, NULL, OPT_SETENV },
	{ "keep-env",   required_argument, NULL, OPT_KEEP_ENV },
	{ "profile",    required_argument, NULL, OPT_PROFILE },
	{ "audit",      no_argument,       NULL, OPT_AUDIT },
	{ "report",     required_argument, NULL, OPT_REPORT },
	{ "net",        required_argument, NULL, OPT_NET },
	{ "allow-host", required_argument, NULL, OPT_ALLOW_HOST },
	{ "dry-run",    no_argument,       NULL, OPT_DRY_RUN },
	{ "no-import-check", no_argument,  NULL, OPT_NO_IMPORT_CHECK },
	{ "sarif",      required_argument, NULL, OPT_SARIF },
	{ "baseline",   required_argument, NULL, OPT_BASELINE },
	{ "write-baseline", required_argument, NULL, OPT_WRITE_BASELINE },
	{ "verbose",    no_argument,       NULL, 'v' },
	{ "version",    no_argument,       NULL, OPT_VERSION },
	{ "help",       no_argument,       NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

struct str_list {
	const char **v;
	size_t n;
};

static void list_push(struct str_list *l, const char *s)
{
	l->v = xrealloc(l->v, (l->n + 1) * sizeof(*l->v));
	l->v[l->n++] = s;
}

static unsigned long long num_arg(const char *opt, const char *val,
				  unsigned long long min, unsigned long long max)
{
	unsigned long long v;

	if (!parse_uint(val, min, max, &v))
		die("%s %s: expected a whole number from %llu to %llu", opt, val, min, max);
	return v;
}

/* The invoker: the real uid; when root ran us through sudo, the sudo user.
 * SUDO_* is believed only from root: a user running a setcap'd pipjail
 * could otherwise claim to be anyone. */
static void find_user(struct jail_user *u)
{
	const char *sudo_uid = getenv("SUDO_UID");
	unsigned long long v;
	struct passwd *pw;
	int n = 0;

	u->uid = getuid();
	u->gid = getgid();
	if (u->uid == 0 && sudo_uid) {
		if (!parse_uint(sudo_uid, 0, UINT32_MAX - 1, &v))
			die("SUDO_UID=%s: not a user id", sudo_uid);
		u->uid = (uid_t)v;
	}
	pw = getpwuid(u->uid);
	if (!pw)
		die("user id %u has no entry in the password database", u->uid);
	u->name = xstrdup(pw->pw_name);
	u->home = xstrdup(pw->pw_dir && pw->pw_dir[0] == '/' ? pw->pw_dir : "/nonexistent");
	if (u->uid != getuid()) {
		const char *sudo_gid = getenv("SUDO_GID");

		u->gid = pw->pw_gid;
		if (sudo_gid && !parse_uint(sudo_gid, 0, UINT32_MAX - 1, &v))
			die("SUDO_GID=%s: not a group id", sudo_gid);
		if (sudo_gid)
			u->gid = (gid_t)v;
	}
	getgrouplist(u->name, u->gid, NULL, &n);
	u->groups = xcalloc((size_t)n + 1, sizeof(gid_t));
	if (getgrouplist(u->name, u->gid, u->groups, &n) < 0)
		n = 0;
	u->n_groups = n;
}

static void add_bind(struct jail_config *cfg, const char *opt, const char *path, bool writable)
{
	char real[PATH_MAX];
	struct stat st;

	if (!realpath(path, real))
		die("%s %s: %s", opt, path, strerror(errno));
	if (stat(real, &st) < 0)
		die("%s %s: %s", opt, path, strerror(errno));
	if (strcmp(real, "/") == 0 || path_is_under(real, "/proc") || path_is_under(real, "/sys") ||
	    path_is_under(real, "/dev"))
		die("%s %s: refusing to expose %s in the jail; name a project directory instead",
		    opt, path, real);
	if (path_is_under(cfg->user.home, real))
		die("%s %s: refusing to expose your home directory (and its real secrets) in the jail; "
		    "name a directory inside it instead", opt, path);
	for (size_t i = 0; i < cfg->n_binds; i++) {
		if (strcmp(cfg->binds[i].path, real) == 0) {
			cfg->binds[i].writable |= writable;
			return;
		}
	}
	cfg->binds = xrealloc(cfg->binds, (cfg->n_binds + 1) * sizeof(*cfg->binds));
	cfg->binds[cfg->n_binds++] = (struct jail_bind){
		.path = xstrdup(real), .writable = writable, .is_dir = S_ISDIR(st.st_mode), .fd = -1,
	};
}

/* The environment pip will install into: a venv whose bin/ holds the
 * command, or $VIRTUAL_ENV.  It is writable in the jail (until staging
 * lands, see DESIGN.md). */
static char *venv_of_dir(const char *bindir)
{
	autofree char *cfgfile = NULL;
	char *root = xstrdup(bindir);
	char *slash = strrchr(root, '/');

	if (!slash || strcmp(slash, "/bin") != 0) {
		free(root);
		return NULL;
	}
	*slash = '\0';
	cfgfile = xasprintf("%s/pyvenv.cfg", root);
	if (root[0] == '\0' || access(cfgfile, F_OK) < 0) {
		free(root);
		return NULL;
	}
	return root;
}

static char *find_in_path(const char *cmd, const char *path)
{
	autofree char *copy = xstrdup(path ? path : "/usr/bin:/bin");
	char *save = NULL;

	for (char *dir = strtok_r(copy, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
		char *cand = xasprintf("%s/%s", *dir ? dir : ".", cmd);

		if (access(cand, X_OK) == 0)
			return cand;
		free(cand);
	}
	return NULL;
}

/* The venv of the directory holding path ("/v/bin/pip" -> "/v"), or NULL. */
static char *venv_of_program(const char *path)
{
	autofree char *dir = xstrdup(path);
	char *slash = strrchr(dir, '/');
	char real[PATH_MAX];

	if (!slash || slash == dir)
		return NULL;
	*slash = '\0';
	return realpath(dir, real) ? venv_of_dir(real) : NULL;
}

/* pip installs into the environment of the interpreter that runs it: for a
 * script (bin/pip), the one its #! line names, which is not always the
 * venv the script sits in (a copied venv keeps the old #!). */
static char *venv_of_interpreter(const char *script)
{
	char line[PATH_MAX + 3] = "", *end;
	FILE *f = fopen(script, "re");

	if (!f)
		return NULL;
	if (!fgets(line, sizeof(line), f) || strncmp(line, "#!", 2) != 0) {
		fclose(f);
		return NULL;
	}
	fclose(f);
	end = line + 2 + strcspn(line + 2, " \t\n");
	*end = '\0';
	return line[2] == '/' ? venv_of_program(line + 2) : NULL;
}

static char *detect_target_env(const char *cmd)
{
	autofree char *exe = strchr(cmd, '/') ? xstrdup(cmd) : find_in_path(cmd, getenv("PATH"));
	char *venv = NULL;
	const char *ve;

	if (exe) {
		venv = venv_of_interpreter(exe);
		if (!venv)
			venv = venv_of_program(exe);
	}
	ve = getenv("VIRTUAL_ENV");
	if (!venv && ve && *ve) {
		autofree char *bin = xasprintf("%s/bin", ve);
		char real[PATH_MAX];

		if (realpath(bin, real))
			venv = venv_of_dir(real);
	}
	return venv;
}

/* The user's pip cache, when there is one the user owns.  Taken from the
 * password database's home, never from PIP_CACHE_DIR: pipjail's init opens
 * it as root, and a variable could name someone else's directory. */
static char *find_pip_cache(const struct jail_user *u)
{
	char *path = xasprintf("%s/.cache/pip", u->home);
	struct stat st;

	if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == u->uid)
		return path;
	free(path);
	return NULL;
}

/* pip, pip3, pip3.11, or python -m pip. */
static bool is_pip_command(char **argv)
{
	const char *base = strrchr(argv[0], '/');

	base = base ? base + 1 : argv[0];
	if (strncmp(base, "pip", 3) == 0)
		return true;
	if (strncmp(base, "python", 6) == 0)
		for (size_t i = 1; argv[i] && argv[i + 1]; i++)
			if (strcmp(argv[i], "-m") == 0)
				return strcmp(argv[i + 1], "pip") == 0;
	return false;
}

/* --net: index for pip (the proxy to its index), none for anything else. */
static enum net_mode parse_net(const char *arg, bool is_pip)
{
	if (!arg)
		return is_pip ? NET_INDEX : NET_NONE;
	if (strcmp(arg, "none") == 0)
		return NET_NONE;
	if (strcmp(arg, "index") == 0)
		return NET_INDEX;
	if (strcmp(arg, "host") == 0) {
		warnx_("--net host: the jail shares the host's network; packages can reach anything "
		       "(still traced). Use only where the proxy cannot work.");
		return NET_HOST;
	}
	die("--net %s: expected none, index or host", arg);
}

/* pip's own --target/-t, --prefix, --root and --user name where it
 * installs; they win over the venv of the interpreter. */
static char *pip_target_dir(const struct jail_config *cfg)
{
	char **a = cfg->argv;

	for (size_t i = 1; a[i]; i++) {
		static const char *const opts[] = { "--target", "-t", "--prefix", "--root" };

		if (strcmp(a[i], "--user") == 0)
			return xasprintf("%s/.local", cfg->user.home);
		for (size_t j = 0; j < ARRAY_SIZE(opts); j++) {
			size_t n = strlen(opts[j]);

			if (strcmp(a[i], opts[j]) == 0 && a[i + 1]) {
				if (access(a[i + 1], F_OK) < 0)
					die("%s %s: the directory does not exist; create it first so that "
					    "pipjail can stage the install into it", opts[j], a[i + 1]);
				return xstrdup(a[i + 1]);
			}
			if (strncmp(a[i], opts[j], n) == 0 && a[i][n] == '=' && opts[j][1] == '-')
				return xstrdup(a[i] + n + 1);
		}
	}
	return NULL;
}

static void set_defaults(struct jail_config *cfg)
{
	cfg->limits = (struct jail_limits){
		.max_procs = 512, .max_mem_mb = 8192, .max_fsize_mb = 8192, .max_nofile = 4096,
	};
	cfg->buffer_mb = 16;
	cfg->import_check = true;
}

static void bind_cwd(struct jail_config *cfg)
{
	char buf[PATH_MAX];

	if (!getcwd(buf, sizeof(buf)))
		die_errno("the current directory");
	cfg->cwd = xstrdup(buf);
	/* These are fresh and empty in the jail; binding the host's would show
	 * every other user's temp files and sockets.  Start in the jail's own. */
	static const char *const jail_owned_dirs[] = { "/tmp", "/var/tmp", "/run", "/dev/shm", "/home" };
	for (size_t i = 0; i < ARRAY_SIZE(jail_owned_dirs); i++) {
		if (strcmp(buf, jail_owned_dirs[i]) == 0) {
			if (cfg->write_cwd)
				die("--write-cwd: %s is the jail's own, fresh directory; run pipjail from a "
				    "project directory", buf);
			return;
		}
	}
	/* The home directory (or an ancestor of it) would bring the real
	 * secrets back into view: start in the jail's decoy home instead. */
	if (path_is_under(cfg->user.home, buf)) {
		if (cfg->write_cwd)
			die("--write-cwd: the current directory %s holds your home directory; "
			    "run pipjail from a project directory", buf);
		if (strcmp(buf, "/") != 0)
			warnx_("the current directory %s holds your home directory: it is not shown in "
			       "the jail, the command starts in the jail's home", buf);
		free(cfg->cwd);
		cfg->cwd = xstrdup(cfg->user.home);
		return;
	}
	add_bind(cfg, cfg->write_cwd ? "--write-cwd" : "the current directory", buf, cfg->write_cwd);
}

/* A hostname like ordinary machines have ("dev-3fa9", "build-07c2") and a
 * machine id, new each run. */
static void jail_identity(struct jail_config *cfg)
{
	static const char *const words[] = { "dev", "build", "ws", "laptop", "desktop", "runner", "node" };
	unsigned char pick;
	char hex[5];

	random_bytes(&pick, 1);
	random_hex(hex, 4);
	snprintf(cfg->hostname, sizeof(cfg->hostname), "%s-%s", words[pick % ARRAY_SIZE(words)], hex);
	random_hex(cfg->machine_id, 32);
}

void cli_parse_run(int argc, char **argv, char **envp, struct jail_config *cfg)
{
	struct str_list keep = { 0 }, set = { 0 }, rw = { 0 }, ro = { 0 }, hosts = { 0 };
	const char *net_arg = NULL;
	char *venv;
	size_t n_env;
	int c;

	set_defaults(cfg);
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:vh", long_opts, NULL)) != -1) {
		switch (c) {
		case OPT_TIMEOUT:    cfg->timeout_s = num_arg("--timeout", optarg, 1, 7 * 86400); break;
		case OPT_RW:         list_push(&rw, optarg); break;
		case OPT_RO:         list_push(&ro, optarg); break;
		case OPT_WRITE_CWD:  cfg->write_cwd = true; break;
		case OPT_TRACE:      cfg->trace_path = optarg; break;
		case OPT_BUFFER_MB:
			cfg->buffer_mb = num_arg("--buffer-mb", optarg, 1, 1024);
			if (cfg->buffer_mb & (cfg->buffer_mb - 1))
				die("--buffer-mb %s: expected a power of two (1, 2, 4, ... 1024)", optarg);
			break;
		case OPT_MAX_PROCS:  cfg->limits.max_procs = num_arg("--max-procs", optarg, 1, 1000000); break;
		case OPT_MAX_MEM:    cfg->limits.max_mem_mb = num_arg("--max-mem", optarg, 16, 1ull << 30); break;
		case OPT_MAX_FSIZE:  cfg->limits.max_fsize_mb = num_arg("--max-fsize", optarg, 1, 1ull << 30); break;
		case OPT_MAX_NOFILE: cfg->limits.max_nofile = num_arg("--max-nofile", optarg, 16, 1 << 20); break;
		case OPT_CPU:        cfg->limits.cpu_s = num_arg("--cpu", optarg, 1, 1ull << 30); break;
		case OPT_SETENV:
			if (!strchr(optarg, '=') || optarg[0] == '=')
				die("--setenv %s: expected VAR=VALUE", optarg);
			list_push(&set, optarg);
			break;
		case OPT_KEEP_ENV:
			if (!*optarg || strchr(optarg, '='))
				die("--keep-env %s: expected a variable name", optarg);
			list_push(&keep, optarg);
			break;
		case OPT_PROFILE:    cfg->profile_name = optarg; break;
		case OPT_AUDIT:      cfg->audit = true; break;
		case OPT_REPORT:     cfg->report_path = optarg; break;
		case OPT_SARIF:      cfg->sarif_path = optarg; break;
		case OPT_BASELINE:   cfg->baseline_path = optarg; break;
		case OPT_WRITE_BASELINE: cfg->write_baseline_path = optarg; break;
		case OPT_NET:        net_arg = optarg; break;
		case OPT_ALLOW_HOST: list_push(&hosts, optarg); break;
		case OPT_DRY_RUN:    cfg->dry_run = true; break;
		case OPT_NO_IMPORT_CHECK: cfg->import_check = false; break;
		case 'v':            pj_verbose++; break;
		case OPT_VERSION:    printf("pipjail %s\n", PIPJAIL_VERSION); exit(0);
		case 'h':            cli_usage(stdout); exit(0);
		case ':':
			die("%s: missing its value; see pipjail --help", argv[optind - 1]);
		default:
			if (optopt)
				die("unknown option -%c; see pipjail --help", optopt);
			die("unknown option %s; see pipjail --help", argv[optind - 1]);
		}
	}
	if (optind >= argc)
		die("no command given: pipjail [OPTIONS] -- COMMAND [ARG...], e.g. pipjail pip install foo");
	cfg->argv = argv + optind;
	cfg->is_pip = is_pip_command(cfg->argv);
	cfg->net = parse_net(net_arg, cfg->is_pip);
	cfg->allow_hosts = hosts.v;
	cfg->n_allow_hosts = hosts.n;

	find_user(&cfg->user);
	for (size_t i = 0; i < rw.n; i++)
		add_bind(cfg, "--rw", rw.v[i], true);
	for (size_t i = 0; i < ro.n; i++)
		add_bind(cfg, "--ro", ro.v[i], false);
	venv = cfg->is_pip ? pip_target_dir(cfg) : NULL;
	if (!venv)
		venv = detect_target_env(cfg->argv[0]);
	if (venv) {
		/* The environment is staged (an overlay), never bound writable:
		 * whatever runs from it (pip, or `python setup.py install`) is
		 * held against the RECORDs before anything reaches it.  See
		 * src/install.c. */
		char real[PATH_MAX];

		if (!realpath(venv, real))
			die("the install target %s: %s", venv, strerror(errno));
		debugx(1, "target environment %s: staged", real);
		cfg->target_env = xstrdup(real);
		free(venv);
	}
	bind_cwd(cfg);
	cfg->pip_cache = find_pip_cache(&cfg->user);
	decoys_generate(&cfg->decoys);
	jail_identity(cfg);
	cfg->env = env_build(envp, keep.v, keep.n, set.v, set.n, cfg->user.home, cfg->user.name, &n_env);
	decoys_add_env(&cfg->decoys, &cfg->env, &n_env);
	if (cfg->net == NET_INDEX) {
		static const char *const proxy_vars[] = {
			"HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "PIP_PROXY",
		};

		for (size_t i = 0; i < ARRAY_SIZE(proxy_vars); i++) {
			cfg->env = xrealloc(cfg->env, (n_env + 2) * sizeof(char *));
			cfg->env[n_env++] = xasprintf("%s=http://127.0.0.1:%d", proxy_vars[i],
						      PIPJAIL_PROXY_PORT);
			cfg->env[n_env] = NULL;
		}
	}
	free(keep.v);
	free(set.v);
	free(rw.v);
	free(ro.v);
}

void jail_config_free(struct jail_config *cfg)
{
	for (size_t i = 0; cfg->env && cfg->env[i]; i++)
		free(cfg->env[i]);
	free(cfg->env);
	for (size_t i = 0; i < cfg->n_binds; i++) {
		free(cfg->binds[i].path);
		closep(&cfg->binds[i].fd);
	}
	free(cfg->binds);
	free(cfg->user.name);
	free(cfg->user.home);
	free(cfg->user.groups);
	free(cfg->cwd);
	free(cfg->pip_cache);
	free(cfg->target_env);
	free(cfg->stage_target);
	free(cfg->stage_upper);
	free(cfg->stage_work);
	free(cfg->allow_hosts);
	memset(cfg, 0, sizeof(*cfg));
}

/* For subcommands that build their own jail (src/analyze.c). */
void cli_config_base(struct jail_config *cfg)
{
	set_defaults(cfg);
	find_user(&cfg->user);
}

void cli_config_bind(struct jail_config *cfg, const char *opt, const char *path, bool writable)
{
	add_bind(cfg, opt, path, writable);
}

void cli_config_identity(struct jail_config *cfg)
{
	jail_identity(cfg);
}
