/* The run's policy: which profile, the engine that holds every event
 * against it, how a violator is killed, and what the user is told. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "report/report.h"
#include "decide/engine.h"
#include "observe/monitor.h"
#include "run/internal.h"
#include "pip/pip.h"
#include "base/base.h"

static int open_user(const char *path, void *ctx)
{
	const struct jail_user *u = ctx;

	return open_as_user(u, path, O_RDONLY, 0);
}

/* --profile, else the project's .pipjail.json, else "default".  A bad one
 * stops the run before anything is built. */
static void load_profile(struct run *r)
{
	struct jail_config *cfg = r->cfg;
	struct profile_source src = { .open_user = open_user, .ctx = &cfg->user };
	autofree char *project = NULL;
	const char *name = r->opt->profile_name;
	char err[1024];

	if (!name) {
		project = profile_find_project(cfg->cwd, cfg->user.home);
		name = project ? project : "default";
	}
	r->profile = profile_load(name, &src, err, sizeof(err));
	if (!r->profile)
		die("%s", err);
	r->profile->project = project != NULL;
	if (project)
		warnx_("using the project's profile %s", project);
	profile_set_defaults(r->profile, cfg->user.home, cfg->cwd, r->opt->target_env);
	/* cargo's and rustup's homes (src/cmd/show.c shows them below a
	 * throwaway layer; the default ones are in the decoy home) */
	{
		static const struct { enum profile_var v; const char *name, *dflt; } homes[] = {
			{ VAR_CARGO_HOME, "CARGO_HOME", ".cargo" },
			{ VAR_RUSTUP_HOME, "RUSTUP_HOME", ".rustup" },
		};

		for (size_t i = 0; i < ARRAY_SIZE(homes); i++) {
			const char *v = pip_env_get(cfg->env, homes[i].name);
			autofree char *dflt = xasprintf("%s/%s", cfg->user.home, homes[i].dflt);

			profile_set_var_id(r->profile, homes[i].v, v && v[0] == '/' ? v : dflt);
		}
	}
	if (cfg->net == NET_INDEX || (cfg->net == NET_SINKHOLE && r->opt->sink_proxy)) {
		char port[8];

		snprintf(port, sizeof(port), "%d", PIPJAIL_PROXY_PORT);
		profile_set_var_id(r->profile, VAR_PROXY, port);
	}
}

/* Kill a process of the jail, or the whole jail.  The pid comes from an
 * event of this jail's cgroup; a pidfd taken and checked against the cgroup
 * before the signal makes sure a recycled pid is never hit. */
static int kill_in_jail(uint32_t hpid, bool whole_jail, void *ctx)
{
	struct run *r = ctx;
	autoclose int pidfd = -1;
	char path[64], line[512] = "";
	FILE *f;
	bool member = false;

	if (whole_jail || hpid == 0)
		return kill(r->init, SIGKILL);
	pidfd = (int)syscall(SYS_pidfd_open, (pid_t)hpid, 0);
	if (pidfd < 0)
		return -1;
	snprintf(path, sizeof(path), "/proc/%u/cgroup", hpid);
	f = fopen(path, "re");
	while (f && fgets(line, sizeof(line), f)) {
		const char *cg = strrchr(r->cg.v2_path, '/');

		/* The jail's tasks see their cgroup namespace root as "/"; from the
		 * host, their v2 line ends in our cgroup's name. */
		if (strncmp(line, "0::", 3) == 0 && cg && strstr(line, cg))
			member = true;
	}
	if (f)
		fclose(f);
	if (!member)
		return -1;
	return (int)syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
}

void policy_load(struct run *r)
{
	struct jail_config *cfg = r->cfg;

	load_profile(r);
	r->engine = engine_new(r->profile, !r->opt->audit);
	engine_set_live(r->engine, true);
	engine_set_command(r->engine, (const char *const *)cfg->argv);
	engine_set_home(r->engine, cfg->user.home);
	for (size_t i = 0; i < cfg->decoys.n; i++)
		engine_add_decoy(r->engine, cfg->decoys.items[i].where, cfg->decoys.items[i].token);
	engine_set_kill(r->engine, kill_in_jail, r);
	/* Opened now, so that a bad path fails before anything runs. */
	if (r->opt->report_path) {
		r->report_fd = open_as_user(&cfg->user, r->opt->report_path,
					    O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (r->report_fd < 0)
			die_errno("--report %s", r->opt->report_path);
	}
	{
		struct ci_options co = { .sarif_path = r->opt->sarif_path, .baseline_path = r->opt->baseline_path,
					 .write_baseline_path = r->opt->write_baseline_path,
					 .user = &cfg->user, .live = true };
		char err[1024];

		r->ci = ci_run_start(&co, r->engine, err, sizeof(err));
		if (!r->ci)
			die("%s", err);
	}
}

/* Program names the build role may never run, resolved to the files the
 * jail would run for them (same inodes: the jail sees the host's root). */
static void deny_execs(struct run *r)
{
	static const char *const dirs[] = {
		"/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin",
	};
	const struct pattern_list *deny = &r->profile->roles[ROLE_BUILD].exec.deny;

	for (size_t i = 0; i < deny->n; i++) {
		const char *name = deny->v[i].text;

		if (strpbrk(name, "*?[$"))
			continue; /* a glob: judged in user space */
		if (name[0] == '/') {
			monitor_deny_exec(r->mon, name);
			continue;
		}
		for (size_t d = 0; d < ARRAY_SIZE(dirs); d++) {
			autofree char *path = xasprintf("%s/%s", dirs[d], name);

			if (access(path, F_OK) == 0)
				monitor_deny_exec(r->mon, path);
		}
	}
}

/* The rules the kernel decides on return from the call, before the process
 * can use the result: a process that is not pip opening a decoy secret or
 * pip's own configuration, or running a denied program.  The decoys exist
 * only inside the jail: they are marked through /proc/<init>/root once
 * init has built it, before the command starts. */
void policy_arm_kernel(struct run *r)
{
	static const char *const pip_conf[] = { "/etc/pip.conf", "/etc/xdg/pip/pip.conf" };
	const struct jail_config *cfg = r->cfg;

	/* A --baseline that accepts such findings needs them decided in user
	 * space, where a known finding can be told from a new one. */
	bool decoys_known = ci_run_baselines(r->ci, "decoy-read") ||
			    ci_run_baselines(r->ci, "decoy-access");

	if (!r->mon)
		return;
	for (size_t i = 0; i < cfg->decoys.n; i++) {
		const char *where = cfg->decoys.items[i].where;
		autofree char *path = NULL;

		struct stat st;

		if (strncmp(where, "~/", 2) != 0)
			continue;
		path = xasprintf("/proc/%d/root%s/%s", (int)r->init, cfg->user.home, where + 2);
		/* The decoy by inode, for the engine: any other name of it (a
		 * hard link) is the decoy too. */
		if (stat(path, &st) == 0)
			engine_set_decoy_file(r->engine, where, st.st_dev, st.st_ino);
		/* ~/.netrc is judged in user space: pip and Debian's meson read it
		 * (decide/interp.c), and the kernel cannot tell them apart. */
		if (decoys_known || !strcmp(where, "~/.netrc"))
			continue;
		if (monitor_protect_path(r->mon, path) < 0)
			warn_errno("marking the decoy %s for the monitor", where);
	}
	for (size_t i = 0; i < ARRAY_SIZE(pip_conf); i++)
		if (access(pip_conf[i], F_OK) == 0)
			monitor_protect_path(r->mon, pip_conf[i]);
	/* The terminal (the command's pseudo-terminal, /dev/tty in the jail):
	 * only pip may open it, so package code can neither forge lines on it
	 * nor read what the user types (a build's stdin is not the terminal:
	 * pip closes it); killed on the open's return, before a byte moves. */
	{
		autofree char *tty = xasprintf("/proc/%d/root/dev/tty", (int)r->init);

		if (monitor_protect_path(r->mon, tty) < 0 && errno != ENOENT)
			warn_errno("marking the terminal for the monitor");
	}
	/* The target environment's own pip.conf (pip reads $VIRTUAL_ENV/pip.conf),
	 * as the jail sees it: through the staging overlay. */
	if (r->opt->target_env) {
		autofree char *conf = xasprintf("/proc/%d/root%s/pip.conf", (int)r->init,
						r->opt->target_env);

		if (access(conf, F_OK) == 0)
			monitor_protect_path(r->mon, conf);
	}
	if (!ci_run_baselines(r->ci, "exec"))
		deny_execs(r);
	monitor_set_enforce(r->mon, !r->opt->audit);
}

void policy_finish(struct run *r, int code)
{
	struct jail_config *cfg = r->cfg;

	report_print(r->engine, stderr, report_use_color(2), code);
	if (r->report_fd >= 0 && report_write_json_fd(r->engine, r->report_fd, code) < 0)
		warn_errno("--report %s", r->opt->report_path);
	closep(&r->report_fd);
	ci_run_finish(r->ci, r->engine, (const char *const *)cfg->argv, cfg->cwd, code);
	/* pip's own error ("invalid command 'bdist_wheel'", or no setuptools
	 * and wheel for an isolated build from --no-index) never passes
	 * through pipjail; what pipjail knows is that the environment has no
	 * `wheel` (src/run/anchors.c, add_build_wheel) and that nothing was
	 * refused (a kill explains itself). */
	if (r->env_lacks_wheel && r->opt->is_pip && r->command_code != 0 &&
	    !engine_n_violations(r->engine))   /* pip failed for no reason of pipjail's */
		fprintf(stderr, "pipjail: hint: the environment has no `wheel`; pipjail builds every "
			"sdist into a wheel (plain pip would run `setup.py install`, which has package "
			"code write the environment): %s\n", r->builds_lack_wheel ?
			"if a build failed with \"invalid command 'bdist_wheel'\", install `wheel` "
			"into the environment" :
			"if pip could not install the build dependencies setuptools and wheel, give "
			"pip an index or --find-links that has them, or use --no-build-isolation");
	/* -v: the verdict is printed once, after the timing line, so that it
	 * stays pipjail's last line (supervisor.c) */
	if (pj_verbose) {
		size_t len = 0;
		FILE *f = open_memstream(&r->verdict_again, &len);

		if (f) {
			report_verdict_line(r->engine, f, code);
			fclose(f);
			return;
		}
	}
	report_verdict_line(r->engine, stderr, code);
}

void policy_free(struct run *r)
{
	closep(&r->report_fd);
	ci_run_free(r->ci);
	r->ci = NULL;
	engine_free(r->engine);
	r->engine = NULL;
	profile_free(r->profile);
	r->profile = NULL;
}
