"""pipjail's command line: exit codes, usage errors, doctor, trace-check,
and pipjail as a privileged helper (file capabilities, run by a user
without sudo)."""
import json
import os
import re
import secrets
import shutil
import subprocess

import pytest

from lib.pj import REPO, assert_clean, assert_violation, runuser

SETCAP = os.path.join(REPO, "scripts", "setcap.sh")


def one_line(stderr):
    lines = [l for l in stderr.splitlines() if l.strip()]
    assert len(lines) == 1, f"expected one line on stderr, got:\n{stderr}"
    return lines[0]


# ---------------------------------------------------------------- exit codes

@pytest.mark.parametrize("status", [0, 1, 7, 255])
def test_command_status_passes_through(pj, status):
    r = pj.run("--", "/bin/sh", "-c", f"exit {status}")
    # A clean run passes the command's own status through.
    assert_clean(r, status)


@pytest.mark.parametrize("sig", [9, 15])
def test_command_killed_by_signal_gives_128_plus_n(pj, sig):
    r = pj.run("--", "/bin/sh", "-c", f"kill -{sig} $$")
    assert_clean(r, 128 + sig)


def test_first_word_that_is_not_an_option_starts_the_command(pj):
    r = pj.run("echo", "--timeout", "x", "--bogus")
    assert_clean(r)
    assert r.stdout.strip() == "--timeout x --bogus", r


def test_command_found_through_path(pj):
    r = pj.run("--", "true")
    assert_clean(r)


@pytest.mark.parametrize("cmd", ["/nonexistent/pjtest-prog", "pjtest-no-such-command"])
def test_missing_command_gives_127(pj, cmd):
    r = pj.run("--", cmd)
    assert_clean(r, 127)
    assert cmd in r.stderr, r


def test_non_executable_file_gives_126(pj, workdir):
    path = os.path.join(workdir, "script.sh")
    with open(path, "w") as f:
        f.write("#!/bin/sh\necho ran\n")
    os.chmod(path, 0o644)
    r = pj.run("--rw", workdir, "--", path)
    assert_clean(r, 126)
    assert "ran" not in r.stdout


def test_directory_as_command_gives_126(pj, workdir):
    r = pj.run("--rw", workdir, "--", workdir)
    assert_clean(r, 126)


# ---------------------------------------------------------------- usage errors

USAGE_ERRORS = {
    "unknown-option": (["--bogus", "true"], "--bogus"),
    "no-command": ([], None),
    "only-dashdash": (["--"], None),
    "options-without-command": (["--timeout", "5"], None),
    "timeout-not-a-number": (["--timeout", "abc", "true"], "timeout"),
    "timeout-negative": (["--timeout", "-1", "true"], "timeout"),
    "timeout-trailing-junk": (["--timeout", "5x", "true"], "timeout"),
    "timeout-overflow": (["--timeout", "99999999999999999999999", "true"], "timeout"),
    "timeout-missing-value": (["--timeout"], "timeout"),
    "max-procs-not-a-number": (["--max-procs", "lots", "true"], "max-procs"),
    "rw-missing-path": (["--rw", "/nonexistent/pjtest-dir", "true"], "/nonexistent/pjtest-dir"),
    "setenv-without-equals": (["--setenv", "NOVALUE", "true"], "setenv"),
}


@pytest.mark.parametrize("case", sorted(USAGE_ERRORS))
def test_bad_usage_gives_125_and_one_line(pj, case):
    args, word = USAGE_ERRORS[case]
    r = pj.run(*args)
    assert r.returncode == 125, r
    line = one_line(r.stderr)
    if word:
        assert word in line, f"the message does not name {word!r}: {line}"


def test_help_and_version(pj):
    h = pj.run("--help")
    assert h.returncode == 0, h
    assert "--timeout" in h.stdout and "--rw" in h.stdout, h
    v = pj.run("--version")
    assert v.returncode == 0, v
    assert re.search(r"\d+\.\d+\.\d+", v.stdout), v


def copy_profiles(d):
    """Put the repository's profiles/ next to a copy of pipjail in d."""
    dest = os.path.join(d, "profiles")
    if os.path.exists(dest):
        shutil.rmtree(dest)
    shutil.copytree(os.path.join(REPO, "profiles"), dest)
    for root, dirs, files in os.walk(dest):
        os.chmod(root, 0o755)
        for f in files:
            os.chmod(os.path.join(root, f), 0o644)


def test_not_root_without_capabilities_gives_125(pj, session_dir, test_user):
    d = os.path.join(session_dir, "nocaps-" + pj.name)
    os.makedirs(d, mode=0o755, exist_ok=True)
    copy = os.path.join(d, "pipjail")
    shutil.copy(pj.binary, copy)
    os.chmod(copy, 0o755)
    # With its profiles, so that the 125 is about privileges, not profiles.
    copy_profiles(d)
    r = runuser(test_user, copy, "--", "true")
    assert r.returncode == 125, r
    line = one_line(r.stderr)
    assert "profile" not in line, f"failed on profiles, not on privileges: {line}"


# ---------------------------------------------------------------- doctor, trace-check

DOCTOR_FEATURES = ["BTF", "tracepoint", "ring buffer", "bpf_send_signal", "fentry", "LSM",
                   "seccomp", "Landlock", "connect_unix", "namespace", "overlay", "cgroup"]


def test_doctor_reports_every_feature(pj):
    r = pj.run("doctor")
    assert r.returncode == 0, r
    lines = r.stdout.lower().splitlines()
    verdict = re.compile(r"\b(available|unavailable|missing|yes|no|ok|not)\b")
    for feature in DOCTOR_FEATURES:
        about = [l for l in lines if feature.lower() in l]
        assert about, f"doctor says nothing about {feature}\n{r}"
        assert any(verdict.search(l) for l in about), \
            f"doctor does not say whether {feature} is available\n{r}"


def test_trace_is_jsonl_and_passes_trace_check(pj, workdir):
    trace = os.path.join(workdir, "t.jsonl")
    r = pj.run("--trace", trace, "--", "/bin/sh", "-c", "echo hi > /dev/null")
    assert_clean(r)
    with open(trace) as f:
        lines = [l for l in f if l.strip()]
    assert len(lines) >= 2, "a trace has at least a header and a summary"
    for line in lines:
        json.loads(line)
    c = pj.run("trace-check", trace)
    assert c.returncode == 0, c


def test_trace_check_rejects_a_broken_trace(pj, workdir):
    bad = os.path.join(workdir, "bad.jsonl")
    with open(bad, "w") as f:
        f.write('{"not": "a header"\n')
    c = pj.run("trace-check", bad)
    assert c.returncode != 0, c


def test_trace_is_opened_with_the_invoking_users_rights(pj, test_user):
    # Run by root for SUDO_UID=test user: the trace is the user's file.
    target = f"/etc/pipjail-x-{secrets.token_hex(6)}"
    try:
        r = pj.run("--trace", target, "--", "true")
        assert r.returncode == 125, r
        assert not os.path.exists(target)
    finally:
        if os.path.exists(target):
            os.unlink(target)


# ---------------------------------------------------------------- privileged helper

@pytest.fixture(scope="session")
def capbin(pj, session_dir):
    """A copy of pipjail with the file capabilities that `make install` gives."""
    if not os.path.exists(SETCAP):
        pytest.skip("scripts/setcap.sh is missing: cannot test pipjail as a privileged helper")
    d = os.path.join(session_dir, "capbin-" + pj.name)
    os.makedirs(d, mode=0o755, exist_ok=True)
    copy = os.path.join(d, "pipjail")
    shutil.copy(pj.binary, copy)
    os.chmod(copy, 0o755)
    # A setcap'd pipjail ignores PIPJAIL_PROFILE_DIR: it finds its profiles
    # next to itself (or in /usr/local/share/pipjail/profiles).
    copy_profiles(d)
    r = subprocess.run([SETCAP, copy], capture_output=True, text=True)
    assert r.returncode == 0, f"scripts/setcap.sh failed:\n{r.stdout}{r.stderr}"
    caps = subprocess.run(["getcap", copy], capture_output=True, text=True).stdout
    assert "cap_" in caps, f"no file capabilities on {copy}: {caps!r}"
    return copy


@pytest.fixture
def capbin_runs(capbin, test_user):
    """The capability-enabled copy, checked to start for the user at all."""
    r = runuser(test_user, capbin, "--version")
    assert r.returncode == 0, \
        f"a user cannot even start the setcap'd pipjail (caps: {caps_of(capbin)}):\n{r}"
    return capbin


def caps_of(path):
    return subprocess.run(["getcap", path], capture_output=True, text=True).stdout.strip()


def test_user_without_sudo_runs_the_jail(capbin_runs, test_user, probe):
    r = runuser(test_user, capbin_runs, "--", probe, "id")
    assert_clean(r)
    assert f"uid={test_user.uid} " in r.stdout, r
    assert re.search(r"CapEff:\s+0+\n", r.stdout), r


def test_user_cannot_claim_another_uid_with_sudo_vars(capbin_runs, test_user, probe):
    r = runuser(test_user, capbin_runs, "--", probe, "id",
                env={"SUDO_UID": "0", "SUDO_GID": "0", "SUDO_USER": "root"})
    assert r.returncode in (0, 125), r
    if r.returncode == 0:
        assert f"uid={test_user.uid} " in r.stdout, r
        assert_clean(r)


def test_user_trace_to_own_dir_works(capbin_runs, test_user, workdir):
    trace = os.path.join(workdir, "trace.jsonl")
    r = runuser(test_user, capbin_runs, "--trace", trace, "--", "true")
    assert_clean(r)
    assert os.stat(trace).st_uid == test_user.uid


def test_user_cannot_create_trace_in_etc(capbin_runs, test_user):
    target = f"/etc/pipjail-x-{secrets.token_hex(6)}"
    try:
        r = runuser(test_user, capbin_runs, "--trace", target, "--", "true")
        assert r.returncode == 125, r
        one_line(r.stderr)
        assert not os.path.exists(target)
    finally:
        if os.path.exists(target):
            os.unlink(target)


def test_user_cannot_overwrite_root_file_through_trace_symlink(capbin_runs, test_user, workdir):
    victim = f"/etc/pipjail-victim-{secrets.token_hex(6)}"
    with open(victim, "w") as f:
        f.write("root's data\n")
    os.chmod(victim, 0o644)
    link = os.path.join(workdir, "trace.jsonl")
    os.symlink(victim, link)
    try:
        before = os.stat(victim)
        r = runuser(test_user, capbin_runs, "--trace", link, "--", "true")
        assert r.returncode == 125, r
        with open(victim) as f:
            assert f.read() == "root's data\n"
        after = os.stat(victim)
        assert (after.st_uid, after.st_mode, after.st_size) == \
            (before.st_uid, before.st_mode, before.st_size)
    finally:
        os.unlink(victim)


def test_user_cannot_make_a_root_dir_writable(capbin_runs, test_user):
    target = f"/etc/pjtest-{secrets.token_hex(6)}"
    try:
        r = runuser(test_user, capbin_runs, "--rw", "/etc", "--", "/bin/sh", "-c",
                    f"echo x > {target}")
        assert not os.path.exists(target)
        if r.returncode != 125:  # refusing --rw /etc outright is fine too
            assert "cannot create" in r.stderr, r
            assert_violation(r, 100, "file-write", target)
    finally:
        if os.path.exists(target):
            os.unlink(target)
