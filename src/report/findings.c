/* A finding (one violation) as CI tools show it: the catalog of rules
 * (what each means, how to fix or allow it, its severity), the finding's
 * message, and the findings in a stable order.  ci.c and sarif.c both
 * call here; nothing here calls them. */
#include "report/findings.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/baseline.h"
#include "report/report.h"
#include "pip/pip.h"
#include "base/base.h"

/* ---- the rules ---------------------------------------------------------------- */

#define UNWANTED " If you have reviewed the package and accept this, record the finding in a " \
		 "baseline (pipjail --write-baseline FILE, then --baseline FILE): it is then " \
		 "reported but not counted."

static const struct finding_rule rules[] = {
	{ "decoy-read", "DecoyRead", "read a decoy secret",
	  "A process of the install opened a decoy secret: one of the fake credentials pipjail "
	  "puts where real ones live (~/.ssh/id_rsa, ~/.aws/credentials, ~/.pypirc, ...). "
	  "Installing a package has no reason to read credentials; credential stealers start "
	  "this way.",
	  "Treat the package as hostile: remove it (or the requirement that pulls it in), pin a "
	  "version you have reviewed, and report it to the index. No profile rule allows reading "
	  "a decoy." UNWANTED, "9.0" },
	{ "decoy-access", "DecoyAccess", "touched a decoy secret",
	  "A process of the install linked, renamed, changed or otherwise used a decoy secret "
	  "file (a fake credential pipjail puts where real ones live).",
	  "Treat the package as hostile: remove it, pin a reviewed version, report it. No profile "
	  "rule allows touching a decoy." UNWANTED, "8.0" },
	{ "decoy-token", "DecoyToken", "used the value of a decoy secret",
	  "The value of a decoy credential (a fake token pipjail puts in the environment and in "
	  "decoy files) appeared in a program's arguments, a DNS query or a path: the package "
	  "read a credential and is passing it on, usually to send it out.",
	  "Treat the package as hostile: remove it, pin a reviewed version, report it to the "
	  "index." UNWANTED, "9.5" },
	{ "file-read", "FileRead", "read a file the profile does not allow",
	  "A process of the install opened a file that the profile's read rules for its role "
	  "(pip, build, tool, import) do not allow.",
	  "If the read is legitimate (a build reading a header or a configuration file it "
	  "needs), allow the path for that role in the project's profile (.pipjail.json: "
	  "roles.ROLE.read.allow, see docs/profiles.md). Otherwise remove the package."
	  UNWANTED, "6.5" },
	{ "file-write", "FileWrite", "wrote where the profile does not allow",
	  "A process of the install created, changed or removed a file where the profile's "
	  "write rules for its role do not allow it (outside the build and temp directories).",
	  "If the write is legitimate, allow the path in the project's profile (.pipjail.json: "
	  "roles.ROLE.write.allow). A build that writes into your home or environment is "
	  "tampering with it: remove the package." UNWANTED, "7.0" },
	{ "exec", "Exec", "ran a program the profile does not allow",
	  "A process of the install started a program that the profile's exec rules for the "
	  "calling role do not allow (curl, wget, nc, a shell where none is expected, ...).",
	  "If the build needs the program (a compiler, git for a VCS requirement), allow it in "
	  "the project's profile (.pipjail.json: roles.ROLE.exec.allow). Otherwise remove the "
	  "package." UNWANTED, "7.5" },
	{ "network", "Network", "used the network",
	  "A process of the install connected (or sent a datagram) to an address the profile "
	  "does not allow. In pipjail only pip reaches its index, through pipjail's proxy; a "
	  "build that connects out is fetching or sending something.",
	  "If the package legitimately needs a service, allow the endpoint in the project's "
	  "profile (roles.ROLE.network.connect); to let pip itself reach another package host, "
	  "pass --allow-host HOST. Otherwise remove the package." UNWANTED, "8.0" },
	{ "refused-call", "RefusedCall", "made a refused system call",
	  "A process of the install made a system call that the jail refuses because it is "
	  "only useful to leave the jail or reach other processes (ptrace, mount, unshare, bpf, "
	  "keyctl, TIOCSTI, ...).",
	  "No profile allows these calls: remove the package and report it." UNWANTED, "8.5" },
	{ "non-native-abi", "NonNativeAbi", "made a 32-bit system call",
	  "A process of the install made a system call through the 32-bit (non-native) ABI, a "
	  "way to slip past system call filters.",
	  "No profile allows it: remove the package and report it." UNWANTED, "8.5" },
	{ "undeclared-file", "UndeclaredFile", "installed a file no RECORD names, or another distribution's",
	  "The staged install holds a file that no installed distribution's RECORD lists, or "
	  "one that stands in for another distribution's modules: something wrote into the "
	  "environment beside what pip installed (a .pth file or a changed module planted by a "
	  "build), or a wheel put a module inside or beside another distribution's package. "
	  "Nothing was committed.",
	  "Look at the file the evidence names. A package that writes outside its own wheel "
	  "is tampering with the environment: remove it." UNWANTED, "7.0" },
	{ "proxy", "EgressProxy", "was refused by the egress proxy",
	  "A request through pipjail's egress proxy asked for a host that is not one of pip's "
	  "configured indexes (--index-url, --extra-index-url, --find-links, pip.conf) nor "
	  "allowed with --allow-host.",
	  "If the host is a legitimate package source, add it to pip's configuration or pass "
	  "--allow-host HOST to pipjail; otherwise find which requirement names it." UNWANTED,
	  "6.0" },
	{ "staging", "Staging", "could not be checked after staging",
	  "pipjail could not read the staged install back to check it against the RECORD "
	  "files, so nothing was committed.",
	  "The evidence says what failed (disk full, permissions). Run again; report a bug if it "
	  "stays." UNWANTED, "5.0" },
};

const struct finding_rule finding_rule_unknown = {
	NULL, "PipjailRule", "broke a rule of the profile",
	"A violation of the pipjail profile the run was held against.",
	"See the evidence and the profile rule it names (docs/profiles.md); allow it in the "
	"project's profile if it is legitimate, else remove the package." UNWANTED, "7.0",
};

const struct finding_rule *finding_rules(size_t *n)
{
	*n = ARRAY_SIZE(rules);
	return rules;
}

const struct finding_rule *finding_rule(const char *id)
{
	for (size_t i = 0; id && i < ARRAY_SIZE(rules); i++)
		if (!strcmp(rules[i].id, id))
			return &rules[i];
	return NULL;
}

/* ---- one finding -------------------------------------------------------------- */

char *finding_message(const struct engine *e, const struct violation_record *v,
		      const struct origin *loc)
{
	const struct finding_rule *r = finding_rule(v->rule);
	char *buf = NULL, outcome[256];
	size_t size = 0;
	FILE *out = open_memstream(&buf, &size);

	if (!out)
		die_errno("open_memstream");
	fprintf(out, "%s%s%s", v->package ? v->package : "pip", v->version ? " " : "",
		v->version ? v->version : "");
	if (v->hook)
		fprintf(out, " (%s)", v->hook);
	fprintf(out, " %s", r ? r->title : finding_rule_unknown.title);
	if (v->evidence)
		fprintf(out, ": %s", v->evidence);
	if (v->chain)
		fprintf(out, "\nchain: %s", v->chain);
	if (v->detail)
		fprintf(out, "\nrule: %s", v->detail);
	fprintf(out, "\ndone: %s", report_outcome(e, v, outcome, sizeof(outcome)));
	if (loc && loc->file && loc->transitive && v->package)
		fprintf(out, "\n%s is not named in %s: it came in as a dependency", v->package,
			loc->file);
	if (fclose(out) != 0)
		die_errno("open_memstream");
	return buf;
}

/* ---- stable order --------------------------------------------------------------- */

struct sortkey {
	char *package, *evidence;
	const char *rule;
	size_t i;
};

static int sortkey_cmp(const void *a, const void *b)
{
	const struct sortkey *x = a, *y = b;
	int c = strcmp(x->package, y->package);

	if (!c)
		c = strcmp(x->rule, y->rule);
	if (!c)
		c = strcmp(x->evidence, y->evidence);
	if (!c)
		c = x->i < y->i ? -1 : x->i > y->i;
	return c;
}

size_t *findings_sorted(const struct engine *e, size_t *n)
{
	size_t total = engine_n_violations(e);
	struct sortkey *k = xcalloc(total + 1, sizeof(*k));
	size_t *idx = xcalloc(total + 1, sizeof(*idx));

	for (size_t i = 0; i < total; i++) {
		const struct violation_record *v = engine_violation(e, i);

		k[i].package = v->package ? pip_normalize_name(v->package) : xstrdup("");
		k[i].evidence = baseline_normalize_for(e, v->evidence);
		k[i].rule = v->rule;
		k[i].i = i;
	}
	qsort(k, total, sizeof(*k), sortkey_cmp);
	for (size_t i = 0; i < total; i++) {
		idx[i] = k[i].i;
		free(k[i].package);
		free(k[i].evidence);
	}
	free(k);
	*n = total;
	return idx;
}
