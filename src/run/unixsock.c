/* Pathname unix sockets for one run: is the kernel's unix-socket guard
 * there (probed on the jail's cgroup), the table of the jail's trees (the
 * jail's mirrors, the guard's table, the engine's and the trace header's
 * view of them all come from cfg->unix_trees), and the guard's lifetime. */
#include <string.h>

#include "decide/engine.h"
#include "observe/monitor.h"
#include "run/internal.h"
#include "base/base.h"

/* Before the clone and the trace header: which of the two is in force. */
void unixsock_prepare(struct run *r)
{
	struct jail_config *cfg = r->cfg;
	struct engine_unix_tree *et;
	char why[256] = "";

	cfg->unix_guard = unixguard_probe(r->cg.v2_fd, why, sizeof(why)) == 1;
	jail_unix_trees(cfg);
	et = xcalloc(cfg->n_unix_trees ? cfg->n_unix_trees : 1, sizeof(*et));
	for (size_t i = 0; i < cfg->n_unix_trees; i++)
		et[i] = (struct engine_unix_tree){ cfg->unix_trees[i].path, cfg->unix_trees[i].mirror != NULL };
	engine_set_unix_trees(r->engine, cfg->unix_guard ? ENGINE_UNIX_GUARD : ENGINE_UNIX_HIDDEN, et,
			      cfg->n_unix_trees);
	free(et);
	if (cfg->unix_guard)
		debugx(1, "unix sockets: the kernel guard (cgroup connect_unix/sendmsg_unix) lets names "
		       "reach only the jail's own trees (%zu in its table)", cfg->n_unix_trees);
	else
		debugx(1, "unix sockets: no kernel guard here (%s): known socket directories are hidden, "
		       "a connect elsewhere is only reported", why);
}

/* The trace header's "unix_sockets": {"guard": "kernel" | "hidden",
 * "trees": [{"path", "own"}, ...]}: replay judges with the same view. */
void unixsock_header(const struct run *r, cJSON *extra)
{
	const struct jail_config *cfg = r->cfg;
	cJSON *u = cJSON_AddObjectToObject(extra, "unix_sockets"), *trees;

	cJSON_AddStringToObject(u, "guard", cfg->unix_guard ? "kernel" : "hidden");
	trees = cJSON_AddArrayToObject(u, "trees");
	for (size_t i = 0; i < cfg->n_unix_trees; i++) {
		cJSON *t = cJSON_CreateObject();

		cJSON_AddStringToObject(t, "path", cfg->unix_trees[i].path);
		cJSON_AddBoolToObject(t, "own", cfg->unix_trees[i].mirror != NULL);
		cJSON_AddItemToArray(trees, t);
	}
}

/* Fill the guard's table and attach it, before the command runs (the
 * monitor is loaded).  -1: said why; nothing may run. */
int unixsock_attach(struct run *r)
{
	const struct jail_config *cfg = r->cfg;
	struct unixguard_tree *t;
	uint64_t t0 = now_ns();
	char err[512];
	int rc;

	if (!cfg->unix_guard)
		return 0;
	t = xcalloc(cfg->n_unix_trees ? cfg->n_unix_trees : 1, sizeof(*t));
	for (size_t i = 0; i < cfg->n_unix_trees; i++)
		t[i] = (struct unixguard_tree){ cfg->unix_trees[i].path, cfg->unix_trees[i].mirror };
	rc = monitor_unix_guard(r->mon, r->cg.v2_fd, t, cfg->n_unix_trees, err, sizeof(err));
	free(t);
	if (rc < 0 || failpoint("unix-guard")) {
		warnx_("%s (pipjail doctor tells whether this kernel has the hooks)",
		       rc < 0 ? err : "unix guard: failpoint unix-guard");
		return -1;
	}
	debugx(1, "unix guard: table filled and attached in %.1f ms", (now_ns() - t0) / 1e6);
	return 0;
}

/* At the end, with the monitor still there: what the guard did (-v). */
void unixsock_finish(struct run *r)
{
	uint64_t allowed, refused, abstract;

	if (!r->mon || !r->cfg->unix_guard)
		return;
	monitor_unix_counts(r->mon, &allowed, &refused, &abstract);
	debugx(1, "unix guard: %llu names let through to the jail's own trees, %llu refused, "
	       "%llu abstract", (unsigned long long)allowed, (unsigned long long)refused,
	       (unsigned long long)abstract);
}
