/* `pipjail profile check FILE|NAME`: load a profile exactly as a run would,
 * and say what is wrong with it (one line naming the file, the JSON path,
 * what was found and what was expected) or what it holds.
 * `pipjail profile list`: the named profiles and where they live. */
#include <dirent.h>
#include <stdio.h>
#include <string.h>

#include "cmd/cmd.h"
#include "decide/engine.h"
#include "base/base.h"

static void usage(FILE *out)
{
	fprintf(out,
		"usage: pipjail profile check FILE|NAME   validate a profile (exit 0 valid, %d not)\n"
		"       pipjail profile list              the named profiles (%s)\n",
		EXIT_PIPJAIL_ERROR, profile_dir());
}

static void print_rules(const char *role, const char *what, const struct file_rules *fr)
{
	printf("  %s.%s: default %s", role, what, fr->dflt == RULE_DENY ? "deny" : "allow");
	printf(", %zu allow, %zu deny\n", fr->allow.n, fr->deny.n);
}

static void print_net(const char *role, const char *what, const struct net_rules *nr)
{
	printf("  %s.network.%s: ", role, what);
	if (nr->any) {
		printf("any\n");
		return;
	}
	if (!nr->allow.n) {
		printf("none\n");
		return;
	}
	for (size_t i = 0; i < nr->allow.n; i++)
		printf("%s%s", i ? ", " : "", nr->allow.v[i].text);
	putchar('\n');
}

static int check(const char *spec)
{
	char err[1024];
	struct profile *p = profile_load(spec, NULL, err, sizeof(err));

	if (!p) {
		fprintf(stderr, "pipjail: %s\n", err);
		return EXIT_PIPJAIL_ERROR;
	}
	printf("profile %s: valid\n", p->path);
	printf("  name: %s\n", p->name);
	if (p->description)
		printf("  description: %s\n", p->description);
	printf("  files:");
	for (size_t i = 0; i < p->n_files; i++)
		printf("%s%s", i ? " → " : " ", p->files[i]);
	printf("\n  probe refusals: %s\n", p->probes_are_violations ? "violation" : "record");
	for (int r = ROLE_PIP; r < ROLE_COUNT; r++) {
		const struct role_policy *rp = &p->roles[r];

		print_rules(role_name(r), "read", &rp->read);
		print_rules(role_name(r), "write", &rp->write);
		print_rules(role_name(r), "exec", &rp->exec);
		print_net(role_name(r), "connect", &rp->connect);
		print_net(role_name(r), "bind", &rp->bind);
		printf("  %s.on_violation: %s\n", role_name(r), action_name(rp->on_violation));
	}
	profile_free(p);
	return 0;
}

static int list(void)
{
	const char *dir = profile_dir();
	DIR *d = opendir(dir);
	struct dirent *de;

	if (!d) {
		warn_errno("profile list: %s", dir);
		return EXIT_PIPJAIL_ERROR;
	}
	printf("profiles in %s:\n", dir);
	while ((de = readdir(d))) {
		size_t n = strlen(de->d_name);

		if (n > 5 && de->d_name[0] != '.' && !strcmp(de->d_name + n - 5, ".json"))
			printf("  %.*s\n", (int)(n - 5), de->d_name);
	}
	closedir(d);
	return 0;
}

int cmd_profile(int argc, char **argv)
{
	cmd_drop_privileges();
	if (argc >= 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		usage(stdout);
		return 0;
	}
	if (argc == 3 && !strcmp(argv[1], "check"))
		return check(argv[2]);
	if (argc == 2 && !strcmp(argv[1], "list"))
		return list();
	usage(stderr);
	return EXIT_PIPJAIL_ERROR;
}
