/* pip's configuration: pip.conf files as configparser reads them, the files
 * pip reads and their order, and every index setting of files,
 * environment, command line and requirements files, with where each came
 * from. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pip/pip.h"
#include "../unit.h"
#include "base/base.h"

static char tmpdir[] = "/tmp/pipjail-test-config-XXXXXX";

static void append(char **acc, char *line)
{
	char *n = xasprintf("%s%s\n", *acc ? *acc : "", line);

	free(*acc);
	free(line);
	*acc = n;
}

static const char *rel(const char *path)
{
	size_t n = strlen(tmpdir);

	return !strncmp(path, tmpdir, n) && path[n] == '/' ? path + n + 1 : path;
}

static int on_item(void *ctx, const struct pip_config_item *it)
{
	append(ctx, xasprintf("%s:%u [%s] %s=%s", rel(it->file), it->line, it->section, it->key,
			      it->value));
	return 0;
}

static void test_parse(void)
{
	const char *text =
		"# comment\n"
		"; another\n"
		"[Global]\n"
		"index-url = http://a/\n"
		"timeout: 60\n"
		"extra-index-url =\n"
		"    http://b/\n"
		"\thttp://c/\n"
		"  # not a continuation\n"
		"\n"
		"not a key line\n"
		"[install]\n"
		"no-index=yes\n"
		"last = x";
	autofree char *got = NULL;

	CHECK_INT_EQ(pip_config_parse("p.conf", text, strlen(text), on_item, &got), 0);
	CHECK_STR_EQ(got, "p.conf:4 [global] index-url=http://a/\np.conf:5 [global] timeout=60\n"
			  "p.conf:6 [global] extra-index-url=http://b/ http://c/\n"
			  "p.conf:13 [install] no-index=yes\np.conf:14 [install] last=x\n");
	CHECK(pip_config_truthy("Yes") && pip_config_truthy("on") && !pip_config_truthy("0") &&
	      !pip_config_truthy(NULL), "truthy values");
}

static char *put(const char *rel_path, const char *text)
{
	char *p = xasprintf("%s/%s", tmpdir, rel_path);
	autofree char *d = xstrdup(p);

	*strrchr(d, '/') = '\0';
	CHECK(mkdir_p(d, 0755) == 0 && write_file(p, text) == 0, "writing %s", p);
	return p;
}

static void test_files(void)
{
	autofree char *sys = put("etc/pip.conf", "[global]\nk = sys\n");
	autofree char *cf = put("cf.conf", "[global]\nk = PIP_CONFIG_FILE\n");
	autofree char *leg = put("home/.pip/pip.conf", "[global]\nk = legacy\n");
	autofree char *usr = put("home/.config/pip/pip.conf", "[global]\nk = user\n");
	autofree char *xdg = put("xdg/pip/pip.conf", "[global]\nk = xdg\n");
	autofree char *venv = put("venv/pip.conf", "[global]\nk = venv\n");
	autofree char *home = xasprintf("%s/home", tmpdir);
	autofree char *e_cf = xasprintf("PIP_CONFIG_FILE=%s", cf);
	autofree char *e_xdg = xasprintf("XDG_CONFIG_HOME=%s/xdg", tmpdir);
	autofree char *e_venv = xasprintf("VIRTUAL_ENV=%s/venv", tmpdir);
	const char *sysv[] = { sys, "/nonexistent/pip.conf", NULL };
	char *env1[] = { e_cf, e_venv, NULL };
	char *env2[] = { e_xdg, NULL };
	char *env3[] = { "PIP_CONFIG_FILE=/dev/null", e_venv, NULL };
	struct pip_config_src s1 = { .envp = env1, .home = home, .system_files = sysv };
	struct pip_config_src s2 = { .envp = env2, .home = home, .system_files = sysv };
	struct pip_config_src s3 = { .envp = env3, .home = home, .system_files = sysv };
	autofree char *g1 = NULL, *g2 = NULL, *g3 = NULL;

	CHECK_INT_EQ(pip_config_read(&s1, on_item, &g1), 0);
	CHECK_STR_EQ(g1, "cf.conf:2 [global] k=PIP_CONFIG_FILE\netc/pip.conf:2 [global] k=sys\n"
			 "home/.pip/pip.conf:2 [global] k=legacy\n"
			 "home/.config/pip/pip.conf:2 [global] k=user\nvenv/pip.conf:2 [global] k=venv\n");
	CHECK_INT_EQ(pip_config_read(&s2, on_item, &g2), 0);
	CHECK_STR_EQ(g2, "etc/pip.conf:2 [global] k=sys\nhome/.pip/pip.conf:2 [global] k=legacy\n"
			 "xdg/pip/pip.conf:2 [global] k=xdg\n");
	CHECK_INT_EQ(pip_config_read(&s3, on_item, &g3), 0);
	CHECK(g3 == NULL, "PIP_CONFIG_FILE=/dev/null: no file at all (%s)", g3 ? g3 : "");
}

static int on_setting(void *ctx, const struct pip_index_setting *s)
{
	append(ctx, xasprintf("%s=%s @ %s", pip_option_name(s->opt), s->value ? s->value : "-",
			      rel(s->where)));
	return 0;
}

static void test_index(void)
{
	autofree char *sys = put("idx/etc/pip.conf",
		"[global]\nindex-url = http://conf/\n[freeze]\nindex-url = http://freeze/\n"
		"[wheel]\nfind_links = /w\ntimeout = 5\n");
	autofree char *req = put("idx/proj/req.txt",
		"pkg --hash=sha256:00 -i http://not-an-option-line/\n"
		"--pre --extra-index-url http://req/ -f ${LINKS}\n-c sub/c.txt\n");
	autofree char *cons = put("idx/proj/sub/c.txt", "--no-index\n");
	autofree char *cwd = xasprintf("%s/idx/proj", tmpdir);
	const char *sysv[] = { sys, NULL };
	char *envp[] = { "PIP_EXTRA_INDEX_URL=http://e1/ http://e2/", "LINKS=http://links/",
			 "PIP_NO_INDEX=0", NULL };
	char *argv[] = { "/venv/bin/python3", "-m", "pip", "-q", "install", "-ihttp://argv/",
			 "-r", "req.txt", "--no-index", "x", "--", "--index-url", "http://after/", NULL };
	struct pip_config_src src = { .argv = argv, .envp = envp, .cwd = cwd, .system_files = sysv };
	autofree char *got = NULL;

	(void)req;
	(void)cons;
	CHECK_INT_EQ(pip_index_settings(&src, on_setting, &got), 0);
	CHECK_STR_EQ(got, "index-url=http://conf/ @ idx/etc/pip.conf:2 [global] index-url\n"
			  "find-links=/w @ idx/etc/pip.conf:6 [wheel] find-links\n"
			  "extra-index-url=http://e1/ http://e2/ @ PIP_EXTRA_INDEX_URL\n"
			  "no-index=0 @ PIP_NO_INDEX\n"
			  "index-url=http://argv/ @ -i\n"
			  "extra-index-url=http://req/ @ idx/proj/req.txt:2 --extra-index-url\n"
			  "find-links=http://links/ @ idx/proj/req.txt:2 -f\n"
			  "no-index=- @ idx/proj/sub/c.txt:1 --no-index\n"
			  "no-index=- @ --no-index\n");
	/* not pip: no command line options */
	{
		char *argv2[] = { "pipx", "install", "-i", "http://x/", NULL };
		const char *nosys[] = { NULL };
		struct pip_config_src s2 = { .argv = argv2, .system_files = nosys };
		autofree char *g2 = NULL;

		CHECK_INT_EQ(pip_index_settings(&s2, on_setting, &g2), 0);
		CHECK(g2 == NULL, "pipx's options are not pip's (%s)", g2 ? g2 : "");
	}
}

int main(void)
{
	if (!mkdtemp(tmpdir))
		die_errno("mkdtemp");
	test_parse();
	test_files();
	test_index();
	{
		autofree char *cmd = xasprintf("rm -rf '%s'", tmpdir);

		if (system(cmd) != 0)
			warnx_("could not remove %s", tmpdir);
	}
	return unit_summary("test_config");
}
