"""pipjail in CI: a job that installs a requirements file under pipjail
fails on the package that misbehaves, and says so where reviewers look:
SARIF for code scanning (validated against a schema), GitHub Actions
::error annotations at the requirements line, the step summary, a last
verdict line and the documented exit code.  A baseline accepts a known
finding (the run passes) and still fails on a new one.  The jailed
command's own output cannot forge or silence the annotations."""
import json
import os
import re
import shutil
import subprocess

import pytest

from lib.pj import REPO, runuser
from lib.sdist import make_sdist

SCHEMA = os.path.join(REPO, "tests", "data", "sarif-2.1.0-subset.schema.json")
WHEELS = "/usr/share/python-wheels"
VERDICT = re.compile(r"^pipjail: verdict: (clean|violation|incomplete) "
                     r"\((\d+) violations? in (\d+) packages?(?:, (\d+) baselined)?; exit (\d+)\)$")

# A build that steals: it reads the SSH key, and passes the GitHub token on
# to a program together with what changes from run to run (its temp source
# directory, its pid): a baseline must still recognise the finding.
EVIL_SETUP = '''
import os, subprocess
from setuptools import setup
with open(os.path.expanduser("~/.ssh/id_rsa")) as f:
    f.read()
subprocess.run(["/bin/true", os.environ.get("GITHUB_TOKEN", ""), os.getcwd(),
                "/proc/%d/status" % os.getpid()])
setup(name="Evil.Pkg", version="2.0", packages=["evil_pkg"])
'''

# Another stealer, not in any baseline.
SNEAKY_SETUP = '''
import os
from setuptools import setup
with open(os.path.expanduser("~/.aws/credentials")) as f:
    f.read()
setup(name="sneaky", version="1.0", packages=["sneaky"])
'''


def chown_tree(path, user):
    for root, dirs, files in os.walk(path):
        os.chown(root, user.uid, user.gid)
        for name in files:
            os.lchown(os.path.join(root, name), user.uid, user.gid)


@pytest.fixture(scope="session")
def ci_base(session_dir, test_user):
    """A venv and the sdists, made once; tests copy them."""
    base = os.path.join(session_dir, "ci-base")
    os.mkdir(base)
    dist = os.path.join(base, "dist")
    os.mkdir(dist)
    make_sdist(dist, "goodpkg", "1.0", {"goodpkg/__init__.py": "VALUE = 1\n"})
    make_sdist(dist, "Evil.Pkg", "2.0", {"evil_pkg/__init__.py": "", "setup.py": EVIL_SETUP})
    make_sdist(dist, "sneaky", "1.0", {"sneaky/__init__.py": "", "setup.py": SNEAKY_SETUP})
    subprocess.run(["/usr/bin/python3", "-m", "venv", os.path.join(base, "venv")], check=True)
    chown_tree(base, test_user)
    return base


@pytest.fixture
def project(ci_base, workdir, test_user):
    """A checkout: its own venv and dist, owned by the test user."""
    for name in ("venv", "dist"):
        subprocess.run(["cp", "-a", os.path.join(ci_base, name), os.path.join(workdir, name)],
                       check=True)
    chown_tree(workdir, test_user)
    return workdir


def write_user_file(path, text, user):
    with open(path, "w") as f:
        f.write(text)
    os.chown(path, user.uid, user.gid)


def pip_install(pj, project, *opts, env=None, reqs="requirements.txt"):
    # --rw: the venv is inside the project directory, which the jail shows
    # read-only otherwise (see the report: staging into it fails then).
    # python -m pip: the copied venv's bin/pip still names the base venv
    return pj.run(*opts, "--rw", project, "--",
                  os.path.join(project, "venv", "bin", "python"), "-m", "pip", "install",
                  "--no-index",
                  "--find-links", WHEELS, "--find-links", os.path.join(project, "dist"),
                  "-r", reqs, cwd=project, env=env, timeout=900)


def installed(project, module):
    site = os.path.join(project, "venv", "lib")
    for root, dirs, files in os.walk(site):
        if module in dirs and root.endswith("site-packages"):
            return True
    return False


def verdict_line(res):
    last = [l for l in res.stderr.splitlines() if l.strip()][-1]
    m = VERDICT.match(last)
    assert m, f"the last line on stderr is not the verdict line: {last!r}\n{res}"
    return m


def load_sarif(path):
    import jsonschema  # Debian: python3-jsonschema (scripts/deps.sh)
    with open(path) as f:
        log = json.load(f)
    with open(SCHEMA) as f:
        schema = json.load(f)
    jsonschema.Draft7Validator.check_schema(schema)
    errors = sorted(jsonschema.Draft7Validator(schema).iter_errors(log), key=str)
    assert not errors, "SARIF does not validate:\n" + "\n".join(
        f"{list(e.absolute_path)}: {e.message}" for e in errors[:10])
    run = log["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    for r in run.get("results", []):
        # ruleIndex points at the rule with that id; URIs are valid references
        assert rules[r["ruleIndex"]]["id"] == r["ruleId"], r
        for loc in r["locations"]:
            uri = loc.get("physicalLocation", {}).get("artifactLocation", {}).get("uri", "")
            assert not re.search(r"[\s\"<>\\^`{|}]|%(?![0-9A-F]{2})", uri), uri
    for rule in rules:
        assert rule["help"]["text"] and rule["fullDescription"]["text"], rule
    return log


def results_for(log, package):
    return [r for r in log["runs"][0]["results"]
            if re.sub(r"[-_.]+", "-", r["properties"].get("package") or "").lower() == package]


def physical(result):
    p = result["locations"][0]["physicalLocation"]
    return p["artifactLocation"]["uri"], p["region"]["startLine"]


REQS = ("# the project's requirements\n"
        "goodpkg==1.0\n"
        "\n"
        "Evil_Pkg >= 1.0   # line 4 pulls in the bad one\n")


def gh_env(project, summary):
    return {"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": summary,
            "GITHUB_WORKSPACE": project}


# ---------------------------------------------------------------- a CI job

def test_ci_job_fails_on_the_bad_package_with_sarif_annotations_and_summary(pj, project, test_user):
    write_user_file(os.path.join(project, "requirements.txt"), REQS, test_user)
    summary = os.path.join(project, "step-summary.md")
    write_user_file(summary, "an earlier step's summary\n", test_user)
    sarif = os.path.join(project, "pipjail.sarif")

    r = pip_install(pj, project, "--profile", "ci", "--sarif", sarif,
                    env=gh_env(project, summary))

    assert r.returncode == 101, r
    m = verdict_line(r)
    assert m.group(1) == "violation" and m.group(3) == "1" and m.group(5) == "101", r
    assert not installed(project, "evil_pkg") and not installed(project, "goodpkg"), \
        "a failed run commits nothing"

    # SARIF: valid, written as the user, naming Evil.Pkg at requirements.txt:4
    assert os.stat(sarif).st_uid == test_user.uid
    log = load_sarif(sarif)
    evil = results_for(log, "evil-pkg")
    assert evil and all(r_["level"] == "error" for r_ in evil), log["runs"][0]["results"]
    assert {physical(x) for x in evil} == {("requirements.txt", 4)}, evil
    assert "decoy-read" in {x["ruleId"] for x in evil}, evil
    read = [x for x in evil if x["ruleId"] == "decoy-read"][0]
    assert read["properties"]["version"] == "2.0" and read["properties"]["hook"], read
    assert ".ssh/id_rsa" in read["properties"]["evidence"], read
    assert "Evil.Pkg 2.0" in read["message"]["text"], read
    assert not results_for(log, "goodpkg"), "the clean package has no result"
    assert log["runs"][0]["invocations"][0]["exitCode"] == 101

    # annotations: only after pipjail resumed workflow commands
    lines = r.stdout.splitlines()
    stop = re.fullmatch(r"::stop-commands::([0-9a-f]{32})", lines[0])
    assert stop, f"workflow commands are stopped first:\n{r.stdout}"
    resume = lines.index(f"::{stop.group(1)}::")
    errors = [l for l in lines if l.startswith("::error")]
    assert errors and all(lines.index(l) > resume for l in errors), r.stdout
    assert any(re.match(r"::error file=requirements\.txt,line=4,title=pipjail decoy-read::"
                        r"Evil\.Pkg 2\.0 \(\w+\) read a decoy secret: ", l) for l in errors), errors

    # the step summary: appended, Markdown, names the package and the line
    with open(summary) as f:
        text = f.read()
    assert text.startswith("an earlier step's summary\n"), text
    assert "### pipjail: violation" in text and "`requirements.txt:4`" in text, text
    assert re.search(r"\| `Evil\.Pkg 2\.0` \| `decoy-read in \w+` \| `requirements\.txt:4` \| "
                     r"`openat /home/[^`]*/\.ssh/id_rsa` \| killed[^|]* \|", text), text
    assert "goodpkg" not in text


def test_ci_job_in_audit_mode_exits_100_and_replay_gives_the_same_sarif(pj, project, test_user):
    write_user_file(os.path.join(project, "requirements.txt"), REQS, test_user)
    sarif = os.path.join(project, "audit.sarif")
    trace = os.path.join(project, "trace.jsonl")

    r = pip_install(pj, project, "--audit", "--sarif", sarif, "--trace", trace)

    assert r.returncode == 100, r
    m = verdict_line(r)
    assert m.group(1) == "violation" and m.group(3) == "1" and m.group(5) == "100", r
    assert not any(l.startswith("::") for l in r.stdout.splitlines()), \
        "no workflow commands outside GitHub Actions"
    log = load_sarif(sarif)
    evil = results_for(log, "evil-pkg")
    rules = {x["ruleId"] for x in evil}
    assert {"decoy-read", "decoy-token"} <= rules, rules
    assert {physical(x) for x in evil} == {("requirements.txt", 4)}
    assert all("audit" in x["properties"]["outcome"] for x in evil), evil

    # the same trace judged again, by the user, without root
    replayed = os.path.join(project, "replay.sarif")
    rr = runuser(test_user, pj.binary, "replay", trace, "--sarif", replayed, timeout=300)
    assert rr.returncode == 100, rr
    log2 = load_sarif(replayed)
    fp = lambda lg: sorted(x["partialFingerprints"]["pipjailFinding/v1"]
                           for x in lg["runs"][0]["results"])
    assert fp(log2) == fp(log), "replay finds the same findings"
    assert {physical(x) for x in results_for(log2, "evil-pkg")} == {("requirements.txt", 4)}


def test_clean_ci_job_passes_with_empty_sarif(pj, project, test_user):
    write_user_file(os.path.join(project, "requirements.txt"), "goodpkg==1.0\n", test_user)
    summary = os.path.join(project, "summary.md")
    sarif = os.path.join(project, "clean.sarif")

    r = pip_install(pj, project, "--profile", "ci", "--sarif", sarif,
                    env=gh_env(project, summary))

    assert r.returncode == 0, r
    m = verdict_line(r)
    assert m.groups() == ("clean", "0", "0", None, "0"), r
    assert installed(project, "goodpkg")
    log = load_sarif(sarif)
    assert log["runs"][0]["results"] == []
    assert not [l for l in r.stdout.splitlines() if l.startswith("::error")], r.stdout
    assert os.stat(summary).st_uid == test_user.uid, "created with the user's rights"
    with open(summary) as f:
        text = f.read()
    assert "### pipjail: clean" in text and "| package |" not in text, text


# ---------------------------------------------------------------- baselines

def test_baseline_accepts_a_known_finding_and_fails_on_a_new_one(pj, project, test_user, ci_base,
                                                                 session_dir):
    reqs = os.path.join(project, "requirements.txt")
    write_user_file(reqs, REQS, test_user)
    baseline = os.path.join(project, ".pipjail-baseline.json")

    # adopt: record what the project does today
    r = pip_install(pj, project, "--audit", "--write-baseline", baseline)
    assert r.returncode == 100, r
    assert os.stat(baseline).st_uid == test_user.uid
    with open(baseline) as f:
        text = f.read()
    b = json.loads(text)
    assert b["format"] == "pipjail-baseline" and b["format_version"] == 1, b
    assert {(x["package"], x["rule"]) for x in b["findings"]} >= {("evil-pkg", "decoy-read"),
                                                                   ("evil-pkg", "decoy-token")}, b
    # run-specific values are normalised away (decoy token, temp dir, pid)
    assert "ghp_" not in text and "/run/pipjail/pip-tmp/pip-install-*/" in text and "/proc/<pid>/" in text, text

    # the next run (new decoys, temp dirs, pids) passes: known, accepted findings
    sarif = os.path.join(project, "known.sarif")
    r = pip_install(pj, project, "--profile", "ci", "--baseline", baseline, "--sarif", sarif)
    assert r.returncode == 0, r
    m = verdict_line(r)
    assert m.group(1) == "clean" and m.group(2) == "0" and int(m.group(4) or 0) >= 2, r
    assert "baselined" in r.stderr, r
    assert installed(project, "evil_pkg"), "accepted findings do not stop the install"
    log = load_sarif(sarif)
    evil = results_for(log, "evil-pkg")
    assert evil and all(x["level"] == "note" and x["baselineState"] == "unchanged" and
                        x["suppressions"][0]["kind"] == "external" for x in evil), evil

    # a new finding still fails the job, baseline or not
    fresh = os.path.join(project, "venv2")
    subprocess.run(["cp", "-a", os.path.join(ci_base, "venv"), fresh], check=True)
    chown_tree(fresh, test_user)
    shutil.rmtree(os.path.join(project, "venv"))
    os.rename(fresh, os.path.join(project, "venv"))
    write_user_file(reqs, REQS + "sneaky==1.0\n", test_user)
    sarif = os.path.join(project, "new.sarif")
    r = pip_install(pj, project, "--profile", "ci", "--baseline", baseline, "--sarif", sarif,
                    env=gh_env(project, os.path.join(project, "s.md")))
    assert r.returncode == 101, r
    assert verdict_line(r).group(1) == "violation"
    log = load_sarif(sarif)
    sneaky = results_for(log, "sneaky")
    assert sneaky and all(x["level"] == "error" and x["baselineState"] == "new" for x in sneaky)
    assert {physical(x) for x in sneaky} == {("requirements.txt", 5)}, sneaky
    assert any(l.startswith("::error file=requirements.txt,line=5,title=pipjail decoy-read::sneaky")
               for l in r.stdout.splitlines()), r.stdout
    assert not installed(project, "sneaky")


# ---------------------------------------------------------------- workflow commands

INJECT = ('echo "::stop-commands::mine"; echo "::error::forged by the package"; '
          '/bin/true "$GITHUB_TOKEN" "$(printf "x\\n::error::injected")"; exit 0')


def test_jailed_output_cannot_forge_or_silence_annotations(pj, workdir, test_user):
    r = pj.run("--audit", "--", "/bin/sh", "-c", INJECT, cwd=workdir,
               env=gh_env(workdir, ""))
    assert r.returncode == 100, r
    lines = r.stdout.splitlines()
    stop = re.fullmatch(r"::stop-commands::([0-9a-f]{32})", lines[0])
    assert stop, r.stdout
    resume = lines.index(f"::{stop.group(1)}::")
    # the package's own lines come while commands are stopped
    assert lines.index("::error::forged by the package") < resume
    assert lines.index("::stop-commands::mine") < resume
    after = lines[resume + 1:]
    # a newline in the evidence is escaped: it cannot start a command of its own
    assert not [l for l in after if not l.startswith("::error ")], after
    token = [l for l in after if "title=pipjail decoy-token::" in l]
    assert token and "%0A::error::injected" in token[0], after
    assert verdict_line(r).group(1) == "violation"


def test_no_workflow_commands_outside_github_actions(pj, workdir):
    r = pj.run("--audit", "--", "/bin/sh", "-c", INJECT, cwd=workdir)
    assert r.returncode == 100, r
    assert r.stdout.splitlines() == ["::stop-commands::mine", "::error::forged by the package"], \
        "only the command's own output"


# ---------------------------------------------------------------- options

@pytest.mark.parametrize("opt", ["--sarif", "--write-baseline"])
def test_output_file_the_user_cannot_write_is_refused_before_the_run(pj, opt):
    target = "/etc/pipjail-ci-test.out"
    r = pj.run(opt, target, "--", "/bin/sh", "-c", "echo ran")
    assert r.returncode == 125, r
    assert "ran" not in r.stdout and opt in r.stderr
    assert not os.path.exists(target)


def test_bad_baseline_is_refused_before_the_run(pj, workdir, test_user):
    bad = os.path.join(workdir, "b.json")
    write_user_file(bad, '{"format": "pipjail-baseline", "format_version": 1, '
                         '"findings": [{"rule": "x"}]}', test_user)
    for path, why in ((bad, "findings[0]"), (os.path.join(workdir, "missing.json"), "No such file")):
        r = pj.run("--baseline", path, "--", "/bin/sh", "-c", "echo ran")
        assert r.returncode == 125, r
        assert "ran" not in r.stdout and why in r.stderr, r
