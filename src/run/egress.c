/* The run's way out: with --net index, pip reaches its index through the
 * egress proxy (src/net/proxy.c), which listens inside the jail's own
 * network namespace and forwards only for processes the engine calls pip,
 * and only requests that carry no decoy token of the run (the matching is
 * decide/'s; net/ asks through find_token). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>

#include "decide/engine.h"
#include "observe/monitor.h"
#include "net/net.h"
#include "run/internal.h"
#include "base/base.h"

static int open_user(const char *path, void *ctx)
{
	struct run *r = ctx;

	return open_as_user(&r->cfg->user, path, O_RDONLY, 0);
}

/* The client's socket → its process (cgroup members only) → its role.
 * The engine learns roles from exec events: drain the monitor first, so a
 * pip that just started is known. */
static int who(uint16_t port, uint32_t *hpid, const char **role, void *ctx)
{
	struct run *r = ctx;
	const struct proc_info *pi;

	if (sock_owner(r->init, r->cg.v2_path, port, hpid) < 0)
		return PROXY_CLIENT_UNKNOWN;
	if (r->mon)
		monitor_consume(r->mon);
	pi = engine_proc(r->engine, *hpid);
	if (!pi || pi->role == ROLE_NONE)
		return PROXY_CLIENT_UNKNOWN;
	*role = role_name(pi->role);
	return pi->role == ROLE_PIP ? PROXY_CLIENT_PIP : PROXY_CLIENT_OTHER;
}

static void describe(uint32_t hpid, char *buf, size_t len, void *ctx)
{
	struct run *r = ctx;
	const struct proc_info *pi = engine_proc(r->engine, hpid);

	if (pi && pi->package)
		snprintf(buf, len, "%s%s%s%s%s", pi->package, pi->version ? " " : "",
			 pi->version ? pi->version : "", pi->hook ? " " : "", pi->hook ? pi->hook : "");
}

/* Does a request carry a decoy token of the run (net/ asks; the matching
 * is decide/'s)?  The scanner was made once, at egress_prepare. */
static bool find_token(const char *data, size_t n, char *what, size_t whatlen, void *ctx)
{
	struct run *r = ctx;
	const char *how = NULL, *where = NULL;
	int d = decoy_scanner_find(r->decoy_scan, (const unsigned char *)data, n, false, &how);

	if (d < 0)
		return false;
	engine_decoy(r->engine, (size_t)d, &where);
	snprintf(what, whatlen, "the value of the decoy %s (%s)", where ? where : "?", how ? how : "?");
	return true;
}

/* The distribution that made pip send a decoy token, when the engine can
 * tell.  A decoy token is random per run: no wheel, index page or
 * requirements file can hold it, only what code run in this run made
 * (metadata a build prepared, or a build that changed what pip runs, or
 * code inside pip's own process such as a .pth of the environment).  When
 * exactly one distribution was built so far, that is it; else NULL, and
 * *built lists them. */
static const struct pkg *token_source(struct run *r, char *built, size_t len)
{
	const struct pkg *only = NULL;
	size_t n = 0, o = 0;

	built[0] = '\0';
	for (size_t i = 0; i < engine_n_pkgs(r->engine); i++) {
		const struct pkg *k = engine_pkg(r->engine, i);
		int w;

		if (!k->processes[ROLE_BUILD])
			continue;
		n++;
		only = k;
		w = snprintf(built + o, len - o, "%s%s%s%s", o ? ", " : "", k->name,
			     k->version ? " " : "", k->version ? k->version : "");
		if (w > 0 && (size_t)w < len - o)
			o += (size_t)w;
	}
	return n == 1 && strcmp(only->name, "(unknown)") != 0 ? only : NULL;
}

/* pip was refused a request that carries a decoy token: rule proxy-token,
 * refused (pip itself is not at fault), attributed to the distribution
 * that led pip there when the engine can tell. */
static void report_token(struct run *r, const struct proxy_log *l)
{
	const struct proc_info *pi = engine_proc(r->engine, l->hpid);
	char built[400] = "", evidence[512], detail[1024];
	const struct pkg *src = NULL;
	bool v6 = l->host && strchr(l->host, ':');
	struct violation v = {
		.rule = "proxy-token", .kind = "network", .evidence = evidence, .detail = detail,
		.hpid = l->hpid, .action = ACTION_REFUSED, .t_mono_ns = now_ns(),
	};

	snprintf(evidence, sizeof(evidence), "%s %s%s%s%s:%u%.300s", l->method ? l->method : "?",
		 l->path ? "http://" : "", v6 ? "[" : "", l->host ? l->host : "?", v6 ? "]" : "", l->port,
		 l->path ? l->path : "");
	/* A build's own request was refused for its role before this. */
	if (!pi || !pi->package)
		src = token_source(r, built, sizeof(built));
	if (src) {
		v.package = src->name;
		v.version = src->version;
		snprintf(detail, sizeof(detail), "%s; a decoy token is new in each run, so only code run in "
			 "it can have named this URL (a requirement in metadata a build made, say): %s%s%s is "
			 "the only distribution built so far", l->reason, src->name, src->version ? " " : "",
			 src->version ? src->version : "");
	} else if (built[0]) {
		snprintf(detail, sizeof(detail), "%s; a decoy token is new in each run, so only code run in "
			 "it can have named this URL (a requirement in metadata a build made, say); built so "
			 "far: %s", l->reason, built);
	} else {
		snprintf(detail, sizeof(detail), "%s", l->reason);
	}
	engine_report(r->engine, &v);
}

/* A process that is not pip used the proxy, pip asked for a host the
 * rules do not allow, or pip's request carried a decoy token: a violation
 * of the network rules. */
static void on_refused(const struct proxy_log *l, void *ctx)
{
	struct run *r = ctx;
	char evidence[512];
	struct violation v = {
		.rule = "proxy", .kind = "network", .evidence = evidence, .detail = l->reason,
		.hpid = l->hpid, .t_mono_ns = now_ns(),
	};

	if (l->outcome == PROXY_REFUSED_TOKEN) {
		report_token(r, l);
		return;
	}
	snprintf(evidence, sizeof(evidence), "%s %s:%u%s%s", l->method ? l->method : "?",
		 l->host ? l->host : "?", l->port, l->hint ? " — " : "", l->hint ? l->hint : "");
	/* A build reaching for the network is killed as its role's rules say;
	 * pip asking for an unlisted host is refused and reported. */
	v.action = l->outcome == PROXY_REFUSED_ROLE ? ACTION_KILL_PROCESS : ACTION_REFUSED;
	if (l->outcome == PROXY_REFUSED_ROLE && r->profile) {
		const struct proc_info *pi = engine_proc(r->engine, l->hpid);

		if (pi)
			v.action = r->profile->roles[pi->role].on_violation;
	}
	engine_report(r->engine, &v);
}

static void on_request(const struct proxy_log *l, void *ctx)
{
	struct run *r = ctx;
	cJSON *fields;

	if (!r->trace)
		return;
	fields = proxy_log_json(l);
	trace_write_note(r->trace, "proxy", fields);
	cJSON_Delete(fields);
}

void egress_prepare(struct run *r)
{
	struct jail_config *cfg = r->cfg;
	struct pip_config_src src = {
		.argv = cfg->argv, .envp = cfg->env, .home = cfg->user.home, .cwd = cfg->cwd,
		.open_file = open_user, .ctx = r,
	};
	struct proxy_opts po = {
		.allow = &r->hosts, .who = who, .describe = describe, .on_refused = on_refused,
		.on_request = on_request, .find_token = find_token, .ctx = r,
	};
	char err[1024];

	if (cfg->net != NET_INDEX && !(cfg->net == NET_SINKHOLE && r->opt->sink_proxy))
		return;
	for (size_t i = 0; i < r->opt->n_allow_hosts; i++)
		if (hostrules_add(&r->hosts, r->opt->allow_hosts[i], "--allow-host", err, sizeof(err)) < 0)
			die("%s", err);
	if (hostrules_add_pip_config(&r->hosts, &src, err, sizeof(err)) < 0)
		die("%s", err);
	/* Every form of every decoy token, made once: the proxy asks at each
	 * request (policy_load added the decoys). */
	r->decoy_scan = engine_decoy_scanner(r->engine);
	r->proxy = proxy_new(&po, err, sizeof(err));
	if (!r->proxy)
		die("the egress proxy: %s", err);
}

int egress_listen(struct run *r)
{
	char path[64], err[512];
	autoclose int ns = -1;

	if (!r->proxy)
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)r->init);
	ns = open(path, O_RDONLY | O_CLOEXEC);
	if (ns < 0 || proxy_listen_in_netns(r->proxy, ns, PIPJAIL_PROXY_PORT, err, sizeof(err)) < 0) {
		warnx_("the egress proxy: %s", ns < 0 ? strerror(errno) : err);
		return -1;
	}
	run_epoll_add(r, proxy_fd(r->proxy));
	if (pj_verbose) {
		char rules[512];

		hostrules_describe(&r->hosts, rules, sizeof(rules));
		debugx(1, "egress proxy on 127.0.0.1:%d in the jail; allowed: %s", PIPJAIL_PROXY_PORT, rules);
	}
	return 0;
}

void egress_free(struct run *r)
{
	proxy_free(r->proxy);
	r->proxy = NULL;
	decoy_scanner_free(r->decoy_scan);
	r->decoy_scan = NULL;
	hostrules_free(&r->hosts);
}
