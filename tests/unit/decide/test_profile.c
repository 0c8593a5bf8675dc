/* Profiles: the bundled ones load, extends/inherit/same_as merge as
 * documented, and every kind of mistake gets one message that names the
 * file, the JSON path, what was found and what was expected. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "decide/engine_priv.h"
#include "decide/profile_priv.h"
#include "../unit.h"
#include "../engine_fixture.h"
#include "base/base.h"

static void write_text(const char *name, const char *text)
{
	char path[PATH_MAX * 2];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	f = fopen(path, "w");
	if (!f || fputs(text, f) < 0 || fclose(f) != 0) {
		perror(path);
		exit(1);
	}
}

static struct profile *load_tmp(const char *name, char *err, size_t len)
{
	char path[PATH_MAX * 2];
	struct profile_source src = { .dir = bundled };

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	return profile_load(path, &src, err, len);
}

/* A profile that must fail, with every listed piece in its message. */
static void expect_error(const char *name, const char *text, const char *const *parts)
{
	char err[1024] = "", file[PATH_MAX * 2];
	struct profile *p;

	write_text(name, text);
	p = load_tmp(name, err, sizeof(err));
	CHECK(p == NULL, "%s should be refused", name);
	profile_free(p);
	snprintf(file, sizeof(file), "profile %s/%s: ", tmpdir, name);
	CHECK(!strncmp(err, file, strlen(file)) || strstr(err, tmpdir),
	      "the message for %s names the file: \"%s\"", name, err);
	for (size_t i = 0; parts[i]; i++)
		CHECK(strstr(err, parts[i]) != NULL, "the message for %s: \"%s\" should contain \"%s\"",
		      name, err, parts[i]);
}

static void test_errors(void)
{
	expect_error("badjson.json",
		     "{\n  \"name\": \"x\",\n  \"roles\": { \"build\": { \"read\": } }\n}\n",
		     (const char *const[]){ "line 3, column", "found \"}", "expected valid JSON", NULL });
	expect_error("trailing.json", "{ \"name\": \"x\", }",
		     (const char *const[]){ "line 1, column", "expected valid JSON", NULL });
	expect_error("unknownkey.json",
		     "{ \"roles\": { \"build\": { \"raed\": { \"allow\": [] } } } }",
		     (const char *const[]){ ": roles.build.raed: ", "found an unknown key \"raed\"",
					    "expected one of:", "read", "write", NULL });
	expect_error("unknowntop.json", "{ \"rules\": {} }",
		     (const char *const[]){ ": rules: ", "unknown key \"rules\"", "expected one of:", "roles",
					    NULL });
	expect_error("unknownrole.json", "{ \"roles\": { \"builder\": {} } }",
		     (const char *const[]){ ": roles.builder: ", "unknown key \"builder\"", "pip, build, tool",
					    NULL });
	expect_error("wrongtype.json",
		     "{ \"roles\": { \"build\": { \"read\": { \"allow\": [\"/usr/**\", \"/lib/**\", \"/etc/**\", 42] } } } }",
		     (const char *const[]){ ": roles.build.read.allow[3]: ", "found a number (42)",
					    "expected a string (a path glob)", NULL });
	expect_error("wrongtype2.json", "{ \"roles\": { \"build\": { \"read\": { \"allow\": \"/usr/**\" } } } }",
		     (const char *const[]){ ": roles.build.read.allow: ", "found a string (\"/usr/**\")",
					    "expected an array of path globs", NULL });
	expect_error("wrongdefault.json", "{ \"roles\": { \"build\": { \"exec\": { \"default\": \"block\" } } } }",
		     (const char *const[]){ ": roles.build.exec.default: ", "found a string (\"block\")",
					    "expected \"allow\" or \"deny\"", NULL });
	expect_error("badaction.json", "{ \"roles\": { \"tool\": { \"on_violation\": \"kill\" } } }",
		     (const char *const[]){ ": roles.tool.on_violation: ", "found a string (\"kill\")",
					    "\"kill-process\", \"kill-jail\" or \"report\"", NULL });
	expect_error("badglob.json", "{ \"roles\": { \"build\": { \"write\": { \"deny\": [\"/usr/[abc\"] } } } }",
		     (const char *const[]){ ": roles.build.write.deny[0]: ", "found \"/usr/[abc\"",
					    "not a valid glob", "unterminated '['", "expected a glob", NULL });
	expect_error("badglob2.json", "{ \"roles\": { \"build\": { \"read\": { \"allow\": [\"/usr/lib**\"] } } } }",
		     (const char *const[]){ ": roles.build.read.allow[0]: ", "not a whole path segment", NULL });
	expect_error("unknownvar.json",
		     "{ \"roles\": { \"pip\": { \"read\": { \"deny\": [\"$HOME/x\", \"$VENV/bin/**\"] } } } }",
		     (const char *const[]){ ": roles.pip.read.deny[1]: ", "found an unknown variable $VENV",
					    "expected one of $HOME, $ENV, $SITE, $BUILD, $TMP, $PYTHON, $CWD", NULL });
	expect_error("badvar.json", "{ \"roles\": { \"pip\": { \"read\": { \"deny\": [\"/a/$/b\"] } } } }",
		     (const char *const[]){ ": roles.pip.read.deny[0]: ", "found a '$' not followed",
					    "expected $NAME", NULL });
	expect_error("relative.json", "{ \"roles\": { \"build\": { \"read\": { \"allow\": [\"usr/**\"] } } } }",
		     (const char *const[]){ ": roles.build.read.allow[0]: ", "found the relative pattern",
					    "expected an absolute path glob", NULL });
	expect_error("dupkey.json", "{ \"name\": \"a\", \"name\": \"b\" }",
		     (const char *const[]){ ": name: ", "found the key \"name\" twice", "expected each key once",
					    NULL });
	expect_error("badnet.json", "{ \"roles\": { \"build\": { \"network\": { \"connect\": [\"127.0.0.1\"] } } } }",
		     (const char *const[]){ ": roles.build.network.connect[0]: ", "found \"127.0.0.1\"",
					    "expected \"HOST:PORT\"", NULL });
	expect_error("badnet2.json", "{ \"roles\": { \"build\": { \"network\": { \"connect\": \"some\" } } } }",
		     (const char *const[]){ ": roles.build.network.connect: ", "found a string (\"some\")",
					    "expected \"none\", \"any\", \"proxy\"", NULL });
	expect_error("badinherit.json", "{ \"roles\": { \"build\": { \"read\": { \"inherit\": \"no\" } } } }",
		     (const char *const[]){ ": roles.build.read.inherit: ", "found a string (\"no\")",
					    "expected true or false", NULL });
	expect_error("badsame.json", "{ \"roles\": { \"tool\": { \"same_as\": \"tool\" } } }",
		     (const char *const[]){ ": roles.tool.same_as: ", "expected the name of another role", NULL });
	expect_error("notobject.json", "[1, 2]",
		     (const char *const[]){ "(top level): found an array", "expected a JSON object", NULL });
	expect_error("badextends.json", "{ \"extends\": 7 }",
		     (const char *const[]){ ": extends: found a number (7)", "expected a string", NULL });
	expect_error("noparent.json", "{ \"extends\": \"nosuchprofile\" }",
		     (const char *const[]){ ": extends: found \"nosuchprofile\"", "which is no profile in",
					    "expected one of:", "default", NULL });
	/* A loop: a -> b -> a. */
	write_text("loop_b.json", "{ \"extends\": \"loop_a.json\" }");
	expect_error("loop_a.json", "{ \"extends\": \"loop_b.json\" }",
		     (const char *const[]){ ": extends: found a loop (", "loop_a.json → ", "loop_b.json → ",
					    "expected a chain of extends that ends", NULL });
	expect_error("selfloop.json", "{ \"extends\": \"./selfloop.json\" }",
		     (const char *const[]){ ": extends: found a loop", NULL });
	/* An error in a parent names the parent's file. */
	write_text("brokenparent.json", "{ \"roles\": { \"pip\": { \"exec\": { \"allow\": [true] } } } }");
	{
		char err[1024] = "";
		struct profile *p;

		write_text("child.json", "{ \"extends\": \"brokenparent.json\" }");
		p = load_tmp("child.json", err, sizeof(err));
		CHECK(!p, "a child of a broken profile is refused");
		CHECK(strstr(err, "brokenparent.json: roles.pip.exec.allow[0]: found true") != NULL,
		      "the message names the parent file and path: \"%s\"", err);
		profile_free(p);
	}
	/* No such file; no such name. */
	{
		char err[1024] = "";
		struct profile_source src = { .dir = bundled };
		struct profile *p = profile_load("/nonexistent/x.json", &src, err, sizeof(err));

		CHECK(!p && strstr(err, "/nonexistent/x.json") && strstr(err, "No such file"),
		      "a missing file: \"%s\"", err);
		p = profile_load("nosuch", &src, err, sizeof(err));
		CHECK(!p && strstr(err, "profile \"nosuch\": no such profile in") && strstr(err, "strict"),
		      "a missing name lists the profiles: \"%s\"", err);
		p = profile_load("../etc/passwd", &src, err, sizeof(err));
		CHECK(!p, "a path-like spec is a path, not a name");
		p = profile_load("bad name", &src, err, sizeof(err));
		CHECK(!p && strstr(err, "not a valid name"), "a bad name: \"%s\"", err);
	}
}

static const struct role_policy *role(const struct profile *p, enum role r)
{
	return &p->roles[r];
}

static bool has_pattern(const struct pattern_list *l, const char *text)
{
	for (size_t i = 0; i < l->n; i++)
		if (!strcmp(l->v[i].text, text))
			return true;
	return false;
}

static void test_bundled(void)
{
	static const char *const names[] = { "default", "strict", "ci", "forensic" };
	struct profile_source src = { .dir = bundled };
	char err[1024];

	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		struct profile *p = profile_load(names[i], &src, err, sizeof(err));

		CHECK(p != NULL, "bundled profile %s loads: %s", names[i], p ? "" : err);
		if (!p)
			continue;
		CHECK_STR_EQ(p->name, names[i]);
		CHECK(role(p, ROLE_BUILD)->read.dflt == RULE_DENY, "%s: builds read by allowlist", names[i]);
		/* program lists are strict's: the others judge what a program does */
		CHECK((role(p, ROLE_BUILD)->exec.dflt == RULE_DENY) == !strcmp(names[i], "strict"),
		      "%s: builds exec by allowlist only in strict", names[i]);
		CHECK(!role(p, ROLE_BUILD)->connect.any && !role(p, ROLE_BUILD)->connect.allow.n,
		      "%s: no network for builds", names[i]);
		if (!strcmp(names[i], "strict"))
			CHECK(has_pattern(&role(p, ROLE_TOOL)->exec.deny, "curl"), "strict: tools may not run curl");
		CHECK(has_pattern(&role(p, ROLE_BUILD)->read.deny, "$HOME/.ssh/**"), "%s: ~/.ssh denied",
		      names[i]);
		CHECK(has_pattern(&role(p, ROLE_PIP)->connect.allow, "proxy"), "%s: pip may use the proxy",
		      names[i]);
		if (!strcmp(names[i], "default") || !strcmp(names[i], "strict")) {
			CHECK(role(p, ROLE_BUILD)->on_violation == ACTION_KILL_PROCESS, "%s kills a build",
			      names[i]);
			CHECK(!p->probes_are_violations, "%s records probes", names[i]);
		}
		if (!strcmp(names[i], "ci"))
			for (int r = ROLE_PIP; r < ROLE_COUNT; r++)
				CHECK(role(p, r)->on_violation == ACTION_KILL_JAIL, "ci kills the jail (%s)",
				      role_name(r));
		if (!strcmp(names[i], "forensic")) {
			for (int r = ROLE_PIP; r < ROLE_COUNT; r++)
				CHECK(role(p, r)->on_violation == ACTION_REPORT, "forensic reports (%s)",
				      role_name(r));
			CHECK(p->probes_are_violations, "forensic reports probes");
		}
		if (!strcmp(names[i], "strict")) {
			/* tighter: /etc is not wholesale readable, programs by a list.
			 * git is on it: setuptools-scm runs it in every setuptools
			 * build where it is installed (a plain install must pass
			 * strict), and what git starts is judged by the list too */
			CHECK(!has_pattern(&role(p, ROLE_BUILD)->read.allow, "/etc/**"), "strict: no /etc/**");
			CHECK(has_pattern(&role(p, ROLE_BUILD)->exec.allow, "git"), "strict: git for builds");
			CHECK(has_pattern(&role(p, ROLE_TOOL)->exec.allow, "git"), "strict: tools follow builds");
			CHECK(!has_pattern(&role(p, ROLE_BUILD)->exec.allow, "curl"), "strict: no curl");
			CHECK(has_pattern(&role(p, ROLE_BUILD)->exec.deny, "curl"), "strict: curl denied");
			CHECK(has_pattern(&role(p, ROLE_BUILD)->read.deny, "$HOME/.ssh/**"),
			      "strict keeps default's denies");
			CHECK(p->n_files == 2, "strict reads two files");
		}
		profile_free(p);
	}
}

static void test_merge(void)
{
	char err[1024];
	struct profile *p;

	write_text("base.json",
		   "{ \"on_violation\": \"kill-process\",\n"
		   "  \"roles\": { \"build\": { \"read\": { \"default\": \"deny\", \"allow\": [\"/usr/**\"],\n"
		   "                                   \"deny\": [\"/usr/secret\"] } },\n"
		   "             \"tool\": { \"same_as\": \"build\" } } }");
	write_text("add.json",
		   "{ \"extends\": \"base.json\", \"roles\": { \"build\": { \"read\": { \"allow\": [\"/opt/**\"], "
		   "\"deny\": [\"/opt/x\"] } } } }");
	write_text("reset.json",
		   "{ \"extends\": \"base.json\", \"roles\": { \"build\": { \"read\": { \"inherit\": false, "
		   "\"default\": \"deny\", \"allow\": [\"/opt/**\"] } }, \"pip\": { \"on_violation\": \"report\" } },"
		   " \"on_violation\": \"kill-jail\" }");
	p = load_tmp("add.json", err, sizeof(err));
	CHECK(p != NULL, "add.json loads: %s", p ? "" : err);
	if (p) {
		CHECK(has_pattern(&p->roles[ROLE_BUILD].read.allow, "/usr/**") &&
		      has_pattern(&p->roles[ROLE_BUILD].read.allow, "/opt/**"), "allow lists add up");
		CHECK(has_pattern(&p->roles[ROLE_BUILD].read.deny, "/usr/secret") &&
		      has_pattern(&p->roles[ROLE_BUILD].read.deny, "/opt/x"), "deny lists add up");
		CHECK(has_pattern(&p->roles[ROLE_TOOL].read.allow, "/usr/**"), "same_as copies");
		CHECK(p->roles[ROLE_BUILD].read.dflt == RULE_DENY, "default inherited");
		CHECK(p->roles[ROLE_PIP].on_violation == ACTION_KILL_PROCESS, "top-level action for all");
		CHECK(p->n_files == 2 && strstr(p->files[0], "base.json"), "files, base first");
		CHECK_STR_EQ(p->name, "add");
		/* each pattern remembers where it came from */
		for (size_t i = 0; i < p->roles[ROLE_BUILD].read.allow.n; i++) {
			const struct pattern *pt = &p->roles[ROLE_BUILD].read.allow.v[i];

			if (!strcmp(pt->text, "/opt/**")) {
				CHECK_STR_EQ(pt->origin, "roles.build.read.allow[0]");
				CHECK(strstr(pt->file, "add.json") != NULL, "origin file %s", pt->file);
			}
		}
	}
	profile_free(p);
	p = load_tmp("reset.json", err, sizeof(err));
	CHECK(p != NULL, "reset.json loads: %s", p ? "" : err);
	if (p) {
		CHECK(!has_pattern(&p->roles[ROLE_BUILD].read.allow, "/usr/**"), "inherit false drops allows");
		CHECK(has_pattern(&p->roles[ROLE_BUILD].read.deny, "/usr/secret"), "denies always carry over");
		CHECK(p->roles[ROLE_BUILD].on_violation == ACTION_KILL_JAIL, "top-level on_violation");
		CHECK(p->roles[ROLE_PIP].on_violation == ACTION_REPORT, "a role's own beats the top level");
	}
	profile_free(p);
}

static void test_vars(void)
{
	char err[1024], out[512];
	struct profile *p;

	write_text("vars.json", "{ \"roles\": { \"build\": { \"read\": { \"deny\": [\"~/.ssh/**\", "
		   "\"${ENV}/x\", \"$SITE/*.pth\"] } } } }");
	p = load_tmp("vars.json", err, sizeof(err));
	CHECK(p != NULL, "vars.json loads: %s", p ? "" : err);
	if (!p)
		return;
	profile_set_defaults(p, "/home/we[ir]d", "/work", NULL);
	CHECK(profile_expand(p, "~/.ssh/**", NULL, true, out, sizeof(out)) == 0, "expands ~");
	CHECK(glob_match(out, "/home/we[ir]d/.ssh/id_rsa"), "a home with glob characters is literal: %s", out);
	CHECK(!glob_match(out, "/home/wei/.ssh/id_rsa"), "and only literal: %s", out);
	CHECK(profile_expand(p, "${ENV}/x", NULL, true, out, sizeof(out)) == 1,
	      "an unset variable: the pattern is dropped");
	CHECK(profile_expand(p, "$BUILD/**", NULL, true, out, sizeof(out)) == 0 &&
	      glob_match(out, JAIL_PIP_TMP "/pip-install-x/demo/setup.py"), "$BUILD is a glob: %s", out);
	CHECK(profile_expand(p, "$SRC/**", "/tmp/pip-req-build-1", true, out, sizeof(out)) == 0 &&
	      glob_match(out, "/tmp/pip-req-build-1/a.c"), "$SRC per process");
	CHECK(profile_set_var(p, "NOPE", "x") < 0, "unknown variable refused");
	CHECK(profile_set_var(p, "PROXY", "3128") == 0, "PROXY set");
	{
		cJSON *j = profile_to_json(p);
		const cJSON *vars = cJSON_GetObjectItemCaseSensitive(j, "vars");

		CHECK_STR_EQ(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(vars, "PROXY")), "3128");
		CHECK_STR_EQ(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(vars, "HOME")), "/home/we[ir]d");
		cJSON_Delete(j);
	}
	profile_free(p);
}

static void test_project(void)
{
	char a[PATH_MAX * 2], deep[PATH_MAX * 2], home[PATH_MAX * 2], want[PATH_MAX * 3];
	char *found;

	snprintf(a, sizeof(a), "%s/proj", tmpdir);
	snprintf(home, sizeof(home), "%s/proj/sub", tmpdir);
	snprintf(deep, sizeof(deep), "%s/proj/sub/deeper/x", tmpdir);
	CHECK(mkdir_p(deep, 0755) == 0, "mkdir %s", deep);
	write_text("proj/.pipjail.json", "{ \"extends\": \"default\" }");
	found = profile_find_project(deep, NULL);
	snprintf(want, sizeof(want), "%s/.pipjail.json", a);
	CHECK_STR_EQ(found, want);
	free(found);
	found = profile_find_project(deep, home);
	CHECK(found == NULL, "the search stops at the home directory: %s", found ? found : "");
	free(found);
	found = profile_find_project("/", NULL);
	CHECK(found == NULL || access(found, F_OK) == 0, "/ has none (or a real one)");
	free(found);
}

static int opener_calls;

static int count_open(const char *path, void *ctx)
{
	(void)ctx;
	opener_calls++;
	return open(path, O_RDONLY | O_CLOEXEC);
}

static void test_opener(void)
{
	char err[1024], path[PATH_MAX * 2];
	struct profile_source src = { .open_user = count_open, .dir = bundled };
	struct profile *p;

	write_text("user.json", "{ \"extends\": \"strict\", \"name\": \"mine\" }");
	snprintf(path, sizeof(path), "%s/user.json", tmpdir);
	p = profile_load(path, &src, err, sizeof(err));
	CHECK(p != NULL, "user.json loads: %s", p ? "" : err);
	CHECK_INT_EQ(opener_calls, 1);  /* the user's file through the user opener, bundled ones not */
	if (p)
		CHECK_STR_EQ(p->name, "mine");
	profile_free(p);
}

static void test_buffer(void)
{
	char err[1024];
	struct profile_source src = { .dir = bundled };
	const char *text = "{ \"roles\": { \"build\": { \"exec\": { \"deny\": [\"curl\"] } } } }";
	struct profile *p = profile_load_buffer(text, strlen(text), "mem.json", &src, err, sizeof(err));

	CHECK(p != NULL, "a buffer loads: %s", p ? "" : err);
	profile_free(p);
	p = profile_load_buffer("{", 1, "mem.json", &src, err, sizeof(err));
	CHECK(!p && strstr(err, "profile mem.json: line 1, column "), "buffer error: %s", err);
}

int main(void)
{
	if (!fixture_begin("profile"))
		return 1;
	test_errors();
	test_bundled();
	test_merge();
	test_vars();
	test_project();
	test_opener();
	test_buffer();
	fixture_end();
	return unit_summary("test_profile");
}
