/* Allow rules for the egress proxy: HOST[:PORT] parsing and matching, URL
 * hosts, and the hosts of pip's index configuration (argv, environment,
 * pip.conf files, requirements files), with the error messages a user
 * reads when a value is bad. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "net/hostrule.h"
#include "../unit.h"
#include "base/base.h"

static bool allowed(const struct hostrules *rs, const char *host, uint16_t port)
{
	return hostrules_match(rs, host, port) != NULL;
}

static void test_parse_good(void)
{
	struct hostrule r;
	char err[512];

	CHECK_INT_EQ(hostrule_parse("Example.ORG", "--allow-host", &r, err, sizeof(err)), 0);
	CHECK_STR_EQ(r.host, "example.org");
	CHECK_INT_EQ(r.port, 0);
	CHECK(!r.wildcard, "a plain name is not a wildcard");
	CHECK_STR_EQ(r.source, "--allow-host");
	hostrule_clear(&r);

	CHECK_INT_EQ(hostrule_parse("*.example.org:8443", "x", &r, err, sizeof(err)), 0);
	CHECK(r.wildcard && !r.any_host, "*.example.org is a wildcard");
	CHECK_INT_EQ(r.port, 8443);
	hostrule_clear(&r);

	CHECK_INT_EQ(hostrule_parse("[::1]:8080", "x", &r, err, sizeof(err)), 0);
	CHECK_STR_EQ(r.host, "::1");
	CHECK_INT_EQ(r.port, 8080);
	hostrule_clear(&r);

	CHECK_INT_EQ(hostrule_parse("fe80::1", "x", &r, err, sizeof(err)), 0);
	CHECK_INT_EQ(r.port, 0);
	hostrule_clear(&r);

	CHECK_INT_EQ(hostrule_parse("127.0.0.1:*", "x", &r, err, sizeof(err)), 0);
	CHECK_INT_EQ(r.port, 0);
	hostrule_clear(&r);

	CHECK_INT_EQ(hostrule_parse("*", "x", &r, err, sizeof(err)), 0);
	CHECK(r.any_host, "* is any host");
	hostrule_clear(&r);
}

static void test_parse_bad(void)
{
	static const struct { const char *spec, *why; } bad[] = {
		{ "", "empty" },
		{ "exa mple.org", "space" },
		{ "foo*.org", "wildcard" },
		{ "a.*.org", "wildcard" },
		{ "example.org:0", "port" },
		{ "example.org:65536", "port" },
		{ "example.org:http", "port" },
		{ "example.org:", "port" },
		{ "[::1", "not closed" },
		{ "[nothex]:80", "not an IPv6" },
		{ "[::1]x", "after ']'" },
		{ "1:2:x", "too many ':'" },
		{ "a..b", "empty label" },
		{ "a..", "empty label" },
		{ "ex%61mple.org", "character" },
		{ "http://example.org/", "" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct hostrule r;
		char err[512] = "";

		CHECK_INT_EQ(hostrule_parse(bad[i].spec, "--allow-host", &r, err, sizeof(err)), -1);
		CHECK(strstr(err, "--allow-host") && strstr(err, "expected HOST[:PORT]"),
		      "the message for '%s' names the option and the form: %s", bad[i].spec, err);
		CHECK(strstr(err, bad[i].why), "the message for '%s' says '%s': %s", bad[i].spec,
		      bad[i].why, err);
		if (bad[i].spec[0])
			CHECK(strstr(err, bad[i].spec), "the message quotes '%s': %s", bad[i].spec, err);
	}
}

static void test_match(void)
{
	struct hostrules rs = { 0 };
	char err[512], desc[512];

	CHECK_INT_EQ(hostrules_add(&rs, "*.example.org", "--allow-host", err, sizeof(err)), 0);
	CHECK_INT_EQ(hostrules_add(&rs, "index.test:8080", "--allow-host", err, sizeof(err)), 0);
	CHECK_INT_EQ(hostrules_add(&rs, "[::1]:9000", "--allow-host", err, sizeof(err)), 0);
	CHECK_INT_EQ(hostrules_add(&rs, "127.0.0.1:3000", "--allow-host", err, sizeof(err)), 0);

	CHECK(allowed(&rs, "a.example.org", 443), "a subdomain matches");
	CHECK(allowed(&rs, "a.b.EXAMPLE.org", 80), "a deep subdomain matches, any case");
	CHECK(allowed(&rs, "a.example.org.", 443), "a trailing dot is the same name");
	CHECK(!allowed(&rs, "example.org", 443), "the apex is not a subdomain");
	CHECK(!allowed(&rs, "evilexample.org", 443), "a suffix without the dot does not match");
	CHECK(!allowed(&rs, "example.org.evil.net", 443), "a prefix does not match");
	CHECK(allowed(&rs, "index.test", 8080), "host:port matches");
	CHECK(!allowed(&rs, "index.test", 8081), "another port does not");
	CHECK(allowed(&rs, "0:0::1", 9000), "IPv6 matches by address");
	CHECK(!allowed(&rs, "::2", 9000), "another IPv6 address does not");
	CHECK(allowed(&rs, "127.0.0.1", 3000), "IPv4 literal");
	CHECK(!allowed(&rs, "127.0.0.1", 3001), "IPv4 literal, other port");
	CHECK(!allowed(&rs, "127.0.0.2", 3000), "another IPv4 address");
	CHECK(!allowed(&rs, "2130706433", 3000), "the integer form of 127.0.0.1 is another host text");
	CHECK(!allowed(&rs, "", 3000), "an empty host never matches");

	hostrules_describe(&rs, desc, sizeof(desc));
	CHECK(strstr(desc, "*.example.org (--allow-host)") && strstr(desc, "[::1]:9000"),
	      "the description lists rules and sources: %s", desc);
	hostrules_describe(&rs, desc, 40);
	CHECK(strlen(desc) < 40 && strstr(desc, "..."), "a short buffer is cut with ...: %s", desc);
	hostrules_free(&rs);

	CHECK_INT_EQ(hostrules_add(&rs, "*:443", "profile", err, sizeof(err)), 0);
	CHECK(allowed(&rs, "anything.net", 443), "*:443 allows any host on 443");
	CHECK(!allowed(&rs, "anything.net", 80), "*:443 does not allow port 80");
	hostrules_free(&rs);
	hostrules_describe(&rs, desc, sizeof(desc));
	CHECK_STR_EQ(desc, "none");
}

static void test_urls(void)
{
	struct hostrules rs = { 0 };
	char err[512];

	CHECK_INT_EQ(hostrules_add_url(&rs, "https://user:s3cret@Pypi.ORG/simple", "--index-url", err, sizeof(err)), 0);
	CHECK_INT_EQ(hostrules_add_url(&rs, "http://127.0.0.1:8080/simple/", "--index-url", err, sizeof(err)), 0);
	CHECK_INT_EQ(hostrules_add_url(&rs, "HTTP://[::1]:9000?x#y", "--index-url", err, sizeof(err)), 0);
	CHECK_INT_EQ(hostrules_add_url(&rs, "http://plain.test", "--index-url", err, sizeof(err)), 0);
	CHECK_INT_EQ(rs.n, 4);
	CHECK(allowed(&rs, "pypi.org", 443) && !allowed(&rs, "pypi.org", 80), "https gives port 443 only");
	CHECK(allowed(&rs, "127.0.0.1", 8080) && !allowed(&rs, "127.0.0.1", 80), "explicit port");
	CHECK(allowed(&rs, "::1", 9000), "IPv6 URL");
	CHECK(allowed(&rs, "plain.test", 80), "http gives port 80");
	for (size_t i = 0; i < rs.n; i++)
		CHECK(!strstr(rs.v[i].text, "s3cret") && !strstr(rs.v[i].text, "user"),
		      "credentials are not kept: %s", rs.v[i].text);

	/* Read from disk by pip: nothing to allow. */
	CHECK_INT_EQ(hostrules_add_url(&rs, "file:///srv/wheels", "--find-links", err, sizeof(err)), 0);
	CHECK_INT_EQ(hostrules_add_url(&rs, "/srv/wheels", "--find-links", err, sizeof(err)), 0);
	CHECK_INT_EQ(hostrules_add_url(&rs, "./wheels", "--find-links", err, sizeof(err)), 0);
	CHECK_INT_EQ(rs.n, 4);

	static const struct { const char *url, *why; } bad[] = {
		{ "ftp://mirror.test/simple", "only http:// and https://" },
		{ "http:/one-slash.test/", "SCHEME://HOST" },
		{ "http:///simple", "empty" },
		{ "http://host.test:99999/", "port" },
		{ "https://exa mple.test/", "space" },
		{ "http://[::1/simple", "not closed" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		err[0] = '\0';
		CHECK_INT_EQ(hostrules_add_url(&rs, bad[i].url, "PIP_INDEX_URL", err, sizeof(err)), -1);
		CHECK(strncmp(err, "PIP_INDEX_URL: ", 15) == 0 && strstr(err, bad[i].url) &&
		      strstr(err, bad[i].why), "'%s' gives a clear message (%s): %s", bad[i].url,
		      bad[i].why, err);
	}
	CHECK_INT_EQ(hostrules_add_url(&rs, "https://me:hunter2@bad host/", "--index-url", err, sizeof(err)), -1);
	CHECK(!strstr(err, "hunter2") && strstr(err, "--index-url"),
	      "a bad URL with a password is reported without it: %s", err);
	CHECK_INT_EQ(rs.n, 4);
	hostrules_free(&rs);
}

/* ---- pip configuration -------------------------------------------------- */

static char tmpdir[] = "/tmp/pipjail-test-hostrule-XXXXXX";

static char *put(const char *rel, const char *content)
{
	char *path = xasprintf("%s/%s", tmpdir, rel);
	char *dir = xstrdup(path);

	*strrchr(dir, '/') = '\0';
	if (mkdir_p(dir, 0755) < 0 || write_file(path, content) < 0)
		die_errno("writing %s", path);
	free(dir);
	return path;
}

static int opens;

static int counting_open(const char *path, void *ctx)
{
	(void)ctx;
	opens++;
	return open(path, O_RDONLY | O_CLOEXEC);
}

static void test_pip_config(void)
{
	char err[1024];
	autofree char *sysconf = put("etc/pip.conf",
		"# system\n"
		"[global]\n"
		"index-url = http://127.0.0.1:8081/simple\n"
		"timeout = 60\n"
		"\n"
		"[install]\n"
		"extra-index-url =\n"
		"    http://127.0.0.2:8082/simple\n"
		"    http://127.0.0.3:8083/\n"
		"find_links: /local/wheels\n"
		"\n"
		"[freeze]\n"
		"index-url = http://10.9.9.9/\n");
	autofree char *userconf = put("home/.config/pip/pip.conf",
		"[download]\n--find-links = https://links.test:8443/dl/\n");
	autofree char *legacy = put("home/.pip/pip.conf", "[wheel]\nIndex_URL = http://127.0.0.11:11/\n");
	autofree char *venvconf = put("venv/pip.conf", "[global]\nextra-index-url = http://127.0.0.12:12/\n");
	autofree char *req2 = put("proj/more/req2.txt", "-f http://127.0.0.13:13/links\n");
	autofree char *req = put("proj/requirements.txt",
		"requests==2.0  # a comment http://10.8.8.8/\n"
		"--extra-index-url http://127.0.0.9:6/ \\\n"
		"   # continued\n"
		"-i ${IDX}\n"
		"-r more/req2.txt\n");
	autofree char *home = xasprintf("%s/home", tmpdir);
	autofree char *venv = xasprintf("VIRTUAL_ENV=%s/venv", tmpdir);
	autofree char *cwd = xasprintf("%s/proj", tmpdir);
	const char *sys[] = { sysconf, NULL };
	char *envp[] = { "PIP_EXTRA_INDEX_URL=http://127.0.0.4:1/  http://127.0.0.5:2/",
			 "PIP_FIND_LINKS=file:///x https://links2.test/", "IDX=http://127.0.0.10:7/",
			 venv, "PATH=/usr/bin", NULL };
	char *argv[] = { "/venv/bin/pip3.11", "install", "-q", "-i", "http://127.0.0.6:3/simple",
			 "--extra-index-url=http://127.0.0.7:4/", "-fhttp://127.0.0.8:5/",
			 "-r", "requirements.txt", "pkg", "--", "--index-url", "http://10.7.7.7/", NULL };
	struct pip_config_src src = { .argv = argv, .envp = envp, .home = home, .cwd = cwd,
				      .system_files = sys, .open_file = counting_open };
	struct hostrules rs = { 0 };
	static const struct { const char *host; uint16_t port; } want[] = {
		{ "127.0.0.1", 8081 }, { "127.0.0.2", 8082 }, { "127.0.0.3", 8083 },
		{ "links.test", 8443 }, { "127.0.0.11", 11 }, { "127.0.0.12", 12 },
		{ "127.0.0.4", 1 }, { "127.0.0.5", 2 }, { "links2.test", 443 },
		{ "127.0.0.6", 3 }, { "127.0.0.7", 4 }, { "127.0.0.8", 5 }, { "127.0.0.9", 6 },
		{ "127.0.0.10", 7 }, { "127.0.0.13", 13 },
	};

	(void)userconf; (void)legacy; (void)venvconf; (void)req2; (void)req;
	CHECK_INT_EQ(hostrules_add_pip_config(&rs, &src, err, sizeof(err)), 0);
	for (size_t i = 0; i < ARRAY_SIZE(want); i++)
		CHECK(allowed(&rs, want[i].host, want[i].port), "%s:%u is allowed", want[i].host, want[i].port);
	CHECK(!allowed(&rs, "10.9.9.9", 80), "a [freeze] section is not read by pip install");
	CHECK(!allowed(&rs, "10.8.8.8", 80), "a URL in a comment is not an option");
	CHECK(!allowed(&rs, "10.7.7.7", 80), "arguments after -- are not options");
	CHECK(!allowed(&rs, "pypi.org", 443) && !rs.pypi_default, "an index-url replaces PyPI");
	CHECK(opens >= 6, "every file went through open_file (%d)", opens);
	const struct hostrule *r = hostrules_match(&rs, "127.0.0.2", 8082);

	CHECK(r && strstr(r->source, "etc/pip.conf:7 [install] extra-index-url"),
	      "the source names the file, line, section and key: %s", r ? r->source : "-");
	r = hostrules_match(&rs, "127.0.0.9", 6);
	CHECK(r && strstr(r->source, "requirements.txt:2 --extra-index-url"),
	      "a requirements file is named with its line: %s", r ? r->source : "-");
	r = hostrules_match(&rs, "127.0.0.7", 4);
	CHECK(r && strcmp(r->source, "--extra-index-url") == 0, "argv source: %s", r ? r->source : "-");
	r = hostrules_match(&rs, "127.0.0.5", 2);
	CHECK(r && strcmp(r->source, "PIP_EXTRA_INDEX_URL") == 0, "env source: %s", r ? r->source : "-");
	hostrules_free(&rs);

	/* PIP_CONFIG_FILE=/dev/null: pip reads no file at all. */
	{
		char *env2[] = { "PIP_CONFIG_FILE=/dev/null", venv, NULL };
		char *argv2[] = { "python3", "-m", "pip", "install", "--index-url", "http://127.0.0.20:20/", NULL };
		struct pip_config_src s2 = { .argv = argv2, .envp = env2, .home = home, .system_files = sys };

		CHECK_INT_EQ(hostrules_add_pip_config(&rs, &s2, err, sizeof(err)), 0);
		CHECK_INT_EQ(rs.n, 1);
		CHECK(allowed(&rs, "127.0.0.20", 20), "python3 -m pip options are read");
		hostrules_free(&rs);
	}
	/* Nothing configured: PyPI and its file host. */
	{
		const char *nosys[] = { NULL };
		char *argv3[] = { "pip", "install", "demo", NULL };
		struct pip_config_src s3 = { .argv = argv3, .system_files = nosys };

		CHECK_INT_EQ(hostrules_add_pip_config(&rs, &s3, err, sizeof(err)), 0);
		CHECK(rs.pypi_default, "PyPI is the default");
		CHECK(allowed(&rs, "pypi.org", 443) && allowed(&rs, "files.pythonhosted.org", 443),
		      "pypi.org and files.pythonhosted.org on 443");
		CHECK(!allowed(&rs, "pypi.org", 80), "not on port 80");
		hostrules_free(&rs);
	}
	/* --no-index with local find-links: nothing at all. */
	{
		const char *nosys[] = { NULL };
		char *argv4[] = { "pip", "install", "--no-index", "--find-links", "/srv/wheels", "demo", NULL };
		struct pip_config_src s4 = { .argv = argv4, .system_files = nosys };

		CHECK_INT_EQ(hostrules_add_pip_config(&rs, &s4, err, sizeof(err)), 0);
		CHECK_INT_EQ(rs.n, 0);
		hostrules_free(&rs);
	}
	/* A bad URL names where it came from. */
	{
		autofree char *badconf = put("bad/pip.conf", "[global]\n\nindex-url = htp:/oops\n");
		const char *badsys[] = { badconf, NULL };
		const char *nosys[] = { NULL };
		char *argv5[] = { "pip", "install", NULL };
		char *env5[] = { "PIP_INDEX_URL=http://bad host/", NULL };
		char *argv6[] = { "pip", "install", "-i", "gopher://x/", NULL };
		struct pip_config_src s5 = { .argv = argv5, .system_files = badsys };
		struct pip_config_src s6 = { .argv = argv5, .envp = env5, .system_files = nosys };
		struct pip_config_src s7 = { .argv = argv6, .system_files = nosys };

		CHECK_INT_EQ(hostrules_add_pip_config(&rs, &s5, err, sizeof(err)), -1);
		CHECK(strstr(err, badconf) && strstr(err, ":3 [global] index-url") && strstr(err, "htp:/oops"),
		      "a bad pip.conf URL names file and line: %s", err);
		CHECK_INT_EQ(hostrules_add_pip_config(&rs, &s6, err, sizeof(err)), -1);
		CHECK(strncmp(err, "PIP_INDEX_URL: ", 15) == 0, "a bad env URL names the variable: %s", err);
		CHECK_INT_EQ(hostrules_add_pip_config(&rs, &s7, err, sizeof(err)), -1);
		CHECK(strncmp(err, "-i: ", 4) == 0 && strstr(err, "gopher://x/"),
		      "a bad option names it: %s", err);
		hostrules_free(&rs);
	}
}

int main(void)
{
	if (!mkdtemp(tmpdir))
		die_errno("mkdtemp");
	test_parse_good();
	test_parse_bad();
	test_match();
	test_urls();
	test_pip_config();
	{
		autofree char *cmd = xasprintf("rm -rf '%s'", tmpdir);

		if (system(cmd) != 0)
			warnx_("could not remove %s", tmpdir);
	}
	return unit_summary("test_hostrule");
}
