"""Run pipjail the way a user does, and check what every run must satisfy:
no sanitizer report, nothing left on the host."""
import fcntl
import os
import pty
import re
import select
import shutil
import signal
import subprocess
import termios
import time
from dataclasses import dataclass

from . import host

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HELPERS = os.path.join(REPO, "build", "helpers")
SAFE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
SANITIZER_MARKS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer",
                   "runtime error:", "SUMMARY: UndefinedBehaviorSanitizer")


@dataclass
class Result:
    args: list
    returncode: int
    stdout: str
    stderr: str
    elapsed: float
    pid: int = None

    def __str__(self):
        return (f"$ {' '.join(map(str, self.args))}\n-> exit {self.returncode} "
                f"after {self.elapsed:.1f}s\n--- stdout\n{self.stdout}--- stderr\n{self.stderr}")


@dataclass
class User:
    name: str
    uid: int
    gid: int
    home: str


def helper(name, into):
    """Copy build/helpers/<name> into the directory `into` (visible in the
    jail wherever the repository is: /home and /root are hidden there)."""
    path = os.path.join(HELPERS, name)
    assert os.access(path, os.X_OK), \
        f"{path} is missing: build it with `make {os.path.relpath(path, REPO)}` (make check does)"
    copy = os.path.join(into, name)
    shutil.copy(path, copy)
    os.chmod(copy, 0o755)
    return copy


class Pipjail:
    """One pipjail binary, run as root on behalf of `user` (SUDO_UID/SUDO_GID)."""

    def __init__(self, binary, user):
        self.binary = binary
        self.user = user
        self.name = os.path.basename(binary)

    def env(self, sudo=True, extra=None):
        env = {"PATH": SAFE_PATH, "LANG": "C.UTF-8", "HOME": "/root", "TERM": "dumb"}
        if sudo:
            env.update(SUDO_UID=str(self.user.uid), SUDO_GID=str(self.user.gid),
                       SUDO_USER=self.user.name, SUDO_COMMAND="/bin/sh")
        if self.name.endswith("-san"):
            # Report every finding; leaks matter as much as overflows.
            env["ASAN_OPTIONS"] = "detect_leaks=1:abort_on_error=0"
            env["UBSAN_OPTIONS"] = "print_stacktrace=1"
        env.update(extra or {})
        return env

    def check_run(self, res, snap):
        # Under a pty, pipjail's stderr is in res.stdout.
        bad = [m for m in SANITIZER_MARKS if m in res.stderr or m in res.stdout]
        assert not bad, f"sanitizer report from {self.name}:\n{res}"
        left = snap.leftovers(res.pid)
        assert not left, "pipjail left things behind:\n  " + "\n  ".join(left) + f"\n{res}"

    def run(self, *args, sudo=True, env=None, cwd=None, timeout=60, input=None,
            prefix=(), check_leftovers=True, binary=None, pass_fds=()):
        """Run `prefix... pipjail args...`; returns a Result.

        sudo=True: as root with SUDO_UID/SUDO_GID of the test user (the
        command must run as that user); sudo=False: plain root.
        pass_fds: descriptors of the caller that pipjail inherits (at the
        same numbers), as from a shell or a CI runner that leaks some.
        """
        argv = list(prefix) + [binary or self.binary] + [str(a) for a in args]
        snap = host.Snapshot(self.user.uid)
        t0 = time.monotonic()
        proc = subprocess.Popen(argv, env=self.env(sudo, env), cwd=cwd or "/",
                                stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                errors="replace", pass_fds=tuple(pass_fds))
        try:
            out, err = proc.communicate(input, timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
            raise AssertionError(f"pipjail did not return within {timeout}s: {argv}\n"
                                 f"stdout: {out!r}\nstderr: {err!r}")
        res = Result(argv, proc.returncode, out, err, time.monotonic() - t0, proc.pid)
        if check_leftovers:
            self.check_run(res, snap)
        return res

    def run_pty(self, *args, sudo=True, env=None, cwd=None, timeout=60, respond=(),
                check_leftovers=True):
        """Run pipjail with a pty as its controlling terminal and its stdin,
        stdout and stderr, as in an interactive shell.  Returns a Result whose
        stdout holds everything written to the terminal.  respond: what the
        user types (see pty_run)."""
        argv = [self.binary] + [str(a) for a in args]
        snap = host.Snapshot(self.user.uid)
        res = pty_run(argv, env=self.env(sudo, {"TERM": "xterm", **(env or {})}), cwd=cwd,
                      timeout=timeout, respond=respond)
        if check_leftovers:
            self.check_run(res, snap)
        return res


def pty_run(argv, env, cwd=None, timeout=60, respond=()):
    """Run argv in a new session whose controlling terminal (and stdin,
    stdout, stderr) is a fresh pty; collect everything written to it.
    respond: [(trigger, reply)] bytes: once the terminal has shown trigger,
    reply is typed into it (once each), as a user answering a prompt."""
    pending = [(bytes(t), bytes(a)) for t, a in respond]
    master, slave = pty.openpty()

    def take_terminal():
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)

    t0 = time.monotonic()
    proc = subprocess.Popen(argv, env=env, cwd=cwd or "/", stdin=slave, stdout=slave,
                            stderr=slave, start_new_session=True, preexec_fn=take_terminal)
    os.close(slave)
    out = b""
    deadline = t0 + timeout
    try:
        while True:
            if time.monotonic() > deadline:
                proc.kill()
                raise AssertionError(f"{argv} did not return within {timeout}s under a pty\n"
                                     f"output: {out!r}")
            r, _, _ = select.select([master], [], [], 0.2)
            if r:
                try:
                    chunk = os.read(master, 65536)
                except OSError:  # EIO: every holder of the slave closed it
                    break
                if not chunk:
                    break
                out += chunk
                for t, a in list(pending):
                    if t in out:
                        os.write(master, a)
                        pending.remove((t, a))
            elif proc.poll() is not None:
                break
        rc = proc.wait(timeout=10)
    finally:
        os.close(master)
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    text = out.decode(errors="replace").replace("\r\n", "\n")
    return Result(argv, rc, text, "", time.monotonic() - t0, proc.pid)


def runuser(user, *argv, env=None, cwd=None, timeout=60):
    """Run argv as `user` (no capabilities, as a user without sudo would)."""
    full = ["runuser", "-u", user.name, "--"] + [str(a) for a in argv]
    base = {"PATH": SAFE_PATH, "LANG": "C.UTF-8", "HOME": user.home, "USER": user.name}
    base.update(env or {})
    t0 = time.monotonic()
    p = subprocess.run(full, env=base, cwd=cwd or "/", capture_output=True, text=True,
                       errors="replace", timeout=timeout)
    return Result(full, p.returncode, p.stdout, p.stderr, time.monotonic() - t0)


def kill_quietly(pid):
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


# ---------------------------------------------------------------- the verdict
#
# Every run is held against a profile (default: `default`); pipjail prints
# its report on stderr and ends with one line "pipjail: verdict: ...".
# Exit 100: violations found (the action was report, or --audit); 101: a
# violator was killed.

ANSI_SGR = re.compile(r"\x1b\[[0-9;]*m")


def report_text(res):
    """pipjail's report: stderr, or under a pty everything (stdout), where
    pipjail colours it: the colours are stripped."""
    return ANSI_SGR.sub("", res.stderr or res.stdout)


def violations(text):
    """The violations of a report: [{'rule': 'refused-call', 'text': the
    violation's lines (title, evidence, rule, chain, done)}]."""
    found = []
    cur = None
    for line in text.splitlines():
        m = re.match(r"^(\s*)✗ ([a-z0-9-]+):", line)
        if m:
            cur = {"rule": m.group(2), "indent": len(m.group(1)), "text": line + "\n"}
            found.append(cur)
        elif cur is not None and line.startswith(" " * (cur["indent"] + 1)):
            cur["text"] += line + "\n"
        else:
            cur = None
    return found


def verdict_line(res):
    lines = [l for l in report_text(res).splitlines() if l.startswith("pipjail: verdict: ")]
    assert lines, f"no verdict line from pipjail\n{res}"
    last = [l for l in report_text(res).splitlines() if l.strip()][-1]
    assert last == lines[-1], f"the verdict is not pipjail's last line\n{res}"
    return lines[-1]


def assert_clean(res, status=0):
    """A clean run: the command's own status, verdict clean, no violation."""
    assert res.returncode == status, f"expected exit {status} (a clean run)\n{res}"
    assert verdict_line(res).startswith("pipjail: verdict: clean"), res
    assert "pipjail: VIOLATION" not in report_text(res), res
    assert not violations(report_text(res)), res


def assert_violation(res, code, rule, *evidence):
    """The run ended with exit `code` (100 or 101) and its report names a
    violation of `rule` whose lines contain every string in `evidence`.
    Returns that violation's text."""
    assert res.returncode == code, f"expected pipjail's exit {code} for a {rule} violation\n{res}"
    text = report_text(res)
    assert "pipjail: VIOLATION" in text, res
    assert verdict_line(res).startswith("pipjail: verdict: violation"), res
    found = [v for v in violations(text) if v["rule"] == rule]
    assert found, f"the report names no {rule} violation\n{res}"
    good = [v for v in found if all(e in v["text"] for e in evidence)]
    assert good, f"no {rule} violation mentions {evidence}\n{res}"
    if code == 101:
        assert any("killed" in v["text"] for v in good), \
            f"exit 101 but the {rule} violation does not say the violator was killed\n{res}"
    return good[0]["text"]
