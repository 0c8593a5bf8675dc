/* The run's way out: with --net index, pip reaches its index through the
 * egress proxy (src/proxy.c), which listens inside the jail's own network
 * namespace and forwards only for processes the engine calls pip. */
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

/* A process that is not pip used the proxy, or pip asked for a host the
 * rules do not allow: a violation of the network rules. */
static void on_refused(const struct proxy_log *l, void *ctx)
{
	struct run *r = ctx;
	char evidence[512];
	struct violation v = {
		.rule = "proxy", .kind = "network", .evidence = evidence, .detail = l->reason,
		.hpid = l->hpid, .t_mono_ns = now_ns(),
	};

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
		.on_request = on_request, .ctx = r,
	};
	char err[1024];

	if (cfg->net != NET_INDEX && !(cfg->net == NET_SINKHOLE && r->opt->sink_proxy))
		return;
	for (size_t i = 0; i < r->opt->n_allow_hosts; i++)
		if (hostrules_add(&r->hosts, r->opt->allow_hosts[i], "--allow-host", err, sizeof(err)) < 0)
			die("%s", err);
	if (hostrules_add_pip_config(&r->hosts, &src, err, sizeof(err)) < 0)
		die("%s", err);
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
	hostrules_free(&r->hosts);
}
