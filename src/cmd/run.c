/* pipjail [OPTIONS] [--] COMMAND [ARG...]: the command line of a run,
 * turned into what crosses into the jail (struct jail_config) and what the
 * supervisor keeps (struct run_opts), then jail_run(). */
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "base/base.h"
#include "cmd/cmd.h"
#include "cmd/show.h"
#include "jail/jail.h"
#include "pip/pip.h"
#include "run/run.h"

static void usage(FILE *out)
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

static void parse(int argc, char **argv, char **envp, struct jail_config *cfg, struct run_opts *opt)
{
	struct str_list keep = { 0 }, set = { 0 }, rw = { 0 }, ro = { 0 }, hosts = { 0 };
	const char *net_arg = NULL;
	bool write_cwd = false;
	char *venv, cwd[PATH_MAX];
	size_t n_env;
	int c;

	jail_config_init(cfg);
	run_opts_init(opt);
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:vh", long_opts, NULL)) != -1) {
		switch (c) {
		case OPT_TIMEOUT:    opt->timeout_s = num_arg("--timeout", optarg, 1, 7 * 86400); break;
		case OPT_RW:         list_push(&rw, optarg); break;
		case OPT_RO:         list_push(&ro, optarg); break;
		case OPT_WRITE_CWD:  write_cwd = true; break;
		case OPT_TRACE:      opt->trace_path = optarg; break;
		case OPT_BUFFER_MB:
			opt->buffer_mb = num_arg("--buffer-mb", optarg, 1, 1024);
			if (opt->buffer_mb & (opt->buffer_mb - 1))
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
		case OPT_PROFILE:    opt->profile_name = optarg; break;
		case OPT_AUDIT:      opt->audit = true; break;
		case OPT_REPORT:     opt->report_path = optarg; break;
		case OPT_SARIF:      opt->sarif_path = optarg; break;
		case OPT_BASELINE:   opt->baseline_path = optarg; break;
		case OPT_WRITE_BASELINE: opt->write_baseline_path = optarg; break;
		case OPT_NET:        net_arg = optarg; break;
		case OPT_ALLOW_HOST: list_push(&hosts, optarg); break;
		case OPT_DRY_RUN:    opt->dry_run = true; break;
		case OPT_NO_IMPORT_CHECK: opt->import_check = false; break;
		case 'v':            pj_verbose++; break;
		case OPT_VERSION:    printf("pipjail %s\n", PIPJAIL_VERSION); exit(0);
		case 'h':            usage(stdout); exit(0);
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
	/* pip, pip3, pip3.11, python -m pip: the rule the kernel and the
	 * engine follow too (src/pip/command.c); not pipx, not pipenv. */
	opt->is_pip = pip_argv_is_pip((const char *const *)cfg->argv);
	cfg->net = parse_net(net_arg, opt->is_pip);
	opt->allow_hosts = hosts.v;
	opt->n_allow_hosts = hosts.n;

	for (size_t i = 0; i < rw.n; i++)
		jail_config_bind(cfg, "--rw", rw.v[i], true);
	for (size_t i = 0; i < ro.n; i++)
		jail_config_bind(cfg, "--ro", ro.v[i], false);
	venv = opt->is_pip ? pip_target_option((const char *const *)cfg->argv, cfg->user.home) : NULL;
	if (!venv)
		venv = pip_env_of_command(cfg->argv[0]);
	if (venv) {
		/* The environment is staged (an overlay), never bound writable:
		 * whatever runs from it (pip, or `python setup.py install`) is
		 * held against the RECORDs before anything reaches it.  See
		 * src/install.c. */
		char real[PATH_MAX];

		if (!realpath(venv, real))
			die("the install target %s: %s", venv, strerror(errno));
		debugx(1, "target environment %s: staged", real);
		opt->target_env = xstrdup(real);
		free(venv);
	}
	if (!getcwd(cwd, sizeof(cwd)))
		die_errno("the current directory");
	cfg->cwd = xstrdup(cwd);
	cfg->pip_cache = pip_cache_dir(&cfg->user);
	decoys_generate(&cfg->decoys);
	jail_config_identity(cfg);
	cfg->env = env_build(envp, keep.v, keep.n, set.v, set.n, cfg->user.home, cfg->user.name, &n_env);
	/* the current directory, what pip's command line names, the
	 * interpreter, the toolchains, and decoys over their secrets */
	show_for_run(cfg, opt, cwd, write_cwd);
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

int cmd_run(int argc, char **argv, char **envp)
{
	struct jail_config cfg = { 0 };
	struct run_opts opt = { 0 };
	int code;

	parse(argc, argv, envp, &cfg, &opt);
	if (!cmd_privileged())
		die("pipjail needs root to build the jail: run it with sudo, or install it with "
		    "'make install', which gives it the capabilities it needs");
	code = jail_run(&cfg, &opt);
	free((char *)opt.target_env);
	free(opt.allow_hosts);
	jail_config_free(&cfg);
	return code;
}
