"""Rules judge what a process reached and passed on, not the names it used
(issue 14, items 7 to 9), beyond the attack cases in tests/attacks/
(evade_proc_self_root, evade_symlink_tmp_read, env_token_argv_long,
env_token_argv_many, evade_meson_sitecustomize) and their twins in
tests/test_trustline.py:

- a path-only call (rename) through a symlink the build made is judged on
  where the name leads;
- a decoy token in an exec's environment, under another name, and one past
  a megabyte of arguments, is found; a build whose execs carry a large
  environment stays clean and complete (nothing of it is lost on the way);
- meson's ~/.netrc exception: Debian's meson, run by a build on a real
  project, reads ~/.netrc and the build stays clean; the same meson after
  a usercustomize.py of the (writable) home ran in it is not exempt;
- replay judges the traces of these runs as the live run did.
"""
import json
import os
import subprocess

import pytest

from test_trustline import SETUPTOOLS_PYPROJECT, assert_caught, assert_installed_clean, install, setup_py  # noqa: F401

MESON = "/usr/bin/meson"


def trace_events(inst):
    with open(inst.trace) as f:
        return [json.loads(line) for line in f if '"type":"event"' in line]


def replay_verdict(inst):
    r = inst.pj.run("replay", inst.trace, sudo=False, check_leftovers=False)
    return r.returncode, r.stderr.strip().splitlines()[-1] if r.stderr.strip() else ""


def build_running(inst, name, body, **pip_kw):
    """pip installs package `name`, whose setup.py runs body first."""
    mod = name.replace("-", "_")
    inst.sdist(name, {"pyproject.toml": SETUPTOOLS_PYPROJECT, "setup.py": setup_py(name, body),
                      f"{mod}/__init__.py": "OK = 1\n"})
    return inst.pip(name, **pip_kw)


# ---------------------------------------------------------------- path-only calls

@pytest.mark.corpus
def test_rename_through_a_symlink_is_judged_where_it_leads(install):
    """A build renames a file onto /tmp/l/.bashrc, where /tmp/l is its own
    symlink to the home: the name is under /tmp (allowed), the file it
    writes is ~/.bashrc (denied)."""
    inst = install()
    body = ('import os\n'
            'link = "/tmp/.pjnames-home"\n'
            'if not os.path.islink(link):\n'
            '    os.symlink(os.path.expanduser("~"), link)\n'
            'with open("/tmp/.pjnames-rc", "w") as f:\n'
            '    f.write("echo hi\\n")\n'
            'os.rename("/tmp/.pjnames-rc", link + "/.bashrc")\n')
    r = build_running(inst, "pjnames-rename", body)
    assert_caught(inst, r, rules_any=["file-write"], exits=(101,))
    v = [v for v in inst.violations() if v["rule"] == "file-write"]
    assert any(".bashrc" in x["detail"] and "/tmp/.pjnames-home/.bashrc" in x["evidence"] for x in v), v
    assert replay_verdict(inst)[0] == 100


# ---------------------------------------------------------------- argv and environment

@pytest.mark.corpus
def test_token_in_another_variable_and_past_a_megabyte(install):
    """Two execs: one with the GITHUB_TOKEN decoy copied into a variable of
    another name, one with the token at the end of ten arguments of 100 kB
    (past the first record and several pieces).  Both are found; replay
    finds them too."""
    inst = install()
    body = ('import os, subprocess\n'
            'tok = os.environ["GITHUB_TOKEN"]\n'
            'subprocess.run(["/bin/true"], env=dict(os.environ, CI_AUTH="bearer " + tok))\n'
            'subprocess.run(["/bin/true"] + ["y" * 100000] * 10 + ["--auth=" + tok])\n')
    r = build_running(inst, "pjnames-env", body, opts=("--audit",))
    assert_caught(inst, r, rules_any=["decoy-token"], exits=(100,))
    toks = [v for v in inst.violations() if v["rule"] == "decoy-token"]
    assert any("CI_AUTH=bearer" in v["evidence"] and "environment" in v["detail"] for v in toks), toks
    assert any("--auth=" in v["evidence"] and "argv" in v["detail"] for v in toks), toks
    assert not inst.rep["incomplete"], inst.rep
    # the trace keeps the variable that carries the token, not the others
    envs = [e.get("env") for e in trace_events(inst) if e["kind"] == "exec" and "env" in e]
    assert any(any(x.startswith("CI_AUTH=") for x in env) for env in envs), envs[:3]
    assert not any(any(x.startswith("PATH=") for x in env) for env in envs), envs[:3]
    code, line = replay_verdict(inst)
    live = r.stderr.strip().splitlines()[-1]
    assert code == 100 and line.split("(")[1].split(";")[0] == live.split("(")[1].split(";")[0], \
        (line, live)


@pytest.mark.corpus
def test_large_environment_stays_clean_and_complete(install):
    """Twin: 200 execs that each pass 32 kB of harmless environment and 16
    kB of arguments: clean, nothing lost, every exec's environment known."""
    inst = install()
    body = ('import os, subprocess\n'
            'env = dict(os.environ)\n'
            'for i in range(64):\n'
            '    env["PJ_PAD_%d" % i] = "v" * 500\n'
            'for i in range(200):\n'
            '    subprocess.run(["/bin/true"] + ["-DX%d=1" % k for k in range(2000)], env=env,\n'
            '                   check=True)\n')
    r = build_running(inst, "pjnames-bigenv", body)
    assert_installed_clean(inst, r, "pjnames_bigenv")
    execs = [e for e in trace_events(inst) if e["kind"] == "exec" and e.get("comm") == "true"]
    assert len(execs) >= 400, len(execs)  # (each of the two builds: metadata and wheel)
    assert all("env" in e and not e["argv_truncated"] and len(e["argv"]) == 2001 for e in execs), \
        [e for e in execs if "env" not in e or e["argv_truncated"]][:1]


# ---------------------------------------------------------------- meson's exception

MESON_PROJECT = "project('pjnames', version: '1.0')\nmessage('configured')\n"


@pytest.mark.corpus
@pytest.mark.skipif(not os.path.exists(MESON), reason="Debian's meson is not installed")
def test_system_meson_setup_reads_netrc_and_stays_clean(install):
    """Twin of evade_meson_sitecustomize with the real thing: a build runs
    Debian's `meson setup` on a project of its own; meson reads ~/.netrc
    (its wrap resolver) and the build is clean."""
    inst = install()
    body = ('import os, subprocess, tempfile\n'
            'd = tempfile.mkdtemp()\n'
            'with open(os.path.join(d, "meson.build"), "w") as f:\n'
            f'    f.write({MESON_PROJECT!r})\n'
            'r = subprocess.run(["meson", "setup", os.path.join(d, "b"), d], capture_output=True,\n'
            '                   text=True)\n'
            'assert r.returncode == 0 and "configured" in r.stdout, r\n')
    r = build_running(inst, "pjnames-meson", body)
    assert_installed_clean(inst, r, "pjnames_meson")
    reads = [e for e in trace_events(inst)
             if e["kind"] == "open" and (e.get("file") or "").endswith("/.netrc")]
    assert reads and all(e["comm"] == "meson" for e in reads), \
        f"meson's exception was not exercised: {[(e['comm'], e.get('file')) for e in reads]}"
    assert replay_verdict(inst)[0] == 0


@pytest.mark.corpus
@pytest.mark.skipif(not os.path.exists(MESON), reason="Debian's meson is not installed")
def test_system_meson_after_a_usercustomize_is_not_exempt(install):
    """No variable at all: a usercustomize.py in the home's user site runs
    inside Debian's meson (Python loads it at start) and reads ~/.netrc.
    Writing it is already a file-write (the home's .local); in --audit the
    read by meson is a decoy-read as well, naming the code that ran."""
    inst = install()
    body = ('import os, subprocess, sys\n'
            'site = os.path.expanduser("~/.local/lib/python%d.%d/site-packages" % sys.version_info[:2])\n'
            'os.makedirs(site, exist_ok=True)\n'
            'with open(os.path.join(site, "usercustomize.py"), "w") as f:\n'
            '    f.write("import os\\nopen(os.path.expanduser(\'~/.netrc\')).read()\\n")\n'
            'env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}\n'
            'subprocess.run(["meson", "--version"], env=env, capture_output=True)\n')
    r = build_running(inst, "pjnames-usersite", body, opts=("--audit",))
    assert_caught(inst, r, rules_any=["decoy-read"], exits=(100,))
    reads = [v for v in inst.violations() if v["rule"] == "decoy-read"]
    assert any("usercustomize.py" in v["detail"] for v in reads), reads
    assert replay_verdict(inst)[0] == 100
