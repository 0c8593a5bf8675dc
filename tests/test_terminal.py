"""The command's terminal: when pipjail runs on a terminal, the command gets
a pseudo-terminal of pipjail's own (src/run/pty.c), never the user's; bytes
pass both ways, the window size follows, Ctrl-C reaches the command as
without a terminal, and the user's terminal is given back exactly as it was
however the run ends.  Taking another process's descriptors (pidfd_getfd)
is refused.  The attacks on the terminal through a build are in
test_trustline.py; TIOCSTI and the first tty checks in test_jail.py."""
import fcntl
import os
import pty
import re
import select
import signal
import struct
import subprocess
import termios
import time

import pytest

from lib import host
from lib.pj import Result, assert_clean, assert_violation, runuser, verdict_line


def sh(script):
    return ["/bin/sh", "-c", script]


class TtySession:
    """pipjail on a pty of the test's own, as in an interactive shell: the
    test reads what the terminal shows, types, resizes the window, and
    reads the terminal's settings before, during and after the run."""

    def __init__(self, pj, *args, rows=24, cols=80, env=None, prefix=()):
        self.pj = pj
        self.master, self.slave = pty.openpty()
        self.resize(rows, cols)
        self.before = termios.tcgetattr(self.slave)
        self.snap = host.Snapshot(pj.user.uid)
        self.argv = [*prefix, pj.binary, *map(str, args)]
        self.t0 = time.monotonic()
        self.proc = subprocess.Popen(
            self.argv, env=pj.env(True, {"TERM": "xterm", **(env or {})}), cwd="/", stdin=self.slave,
            stdout=self.slave, stderr=self.slave, start_new_session=True,
            preexec_fn=lambda: fcntl.ioctl(0, termios.TIOCSCTTY, 0))
        self.out = b""

    def _read(self, timeout):
        r, _, _ = select.select([self.master], [], [], timeout)
        if r:
            self.out += os.read(self.master, 65536)
        return bool(r)

    def expect(self, needle, timeout=30):
        deadline = time.monotonic() + timeout
        while needle not in self.out:
            assert time.monotonic() < deadline, f"{needle!r} never shown: {self.out!r}"
            self._read(0.2)

    def type(self, data):
        os.write(self.master, data)

    def resize(self, rows, cols):
        fcntl.ioctl(self.master, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))

    def lflag(self):
        return termios.tcgetattr(self.slave)[3]

    def wait(self, timeout=60, check=True):
        """Wait for pipjail's end, read what is left; returns a Result whose
        stdout is everything the terminal showed (CR-LF as LF)."""
        deadline = time.monotonic() + timeout
        while self.proc.poll() is None:
            if time.monotonic() > deadline:
                self.proc.kill()
                raise AssertionError(f"pipjail did not end under a pty: {self.out!r}")
            self._read(0.2)
        rc = self.proc.returncode
        while self._read(0.3):
            pass
        text = self.out.decode(errors="replace").replace("\r\n", "\n")
        res = Result(self.argv, rc, text, "", time.monotonic() - self.t0, self.proc.pid)
        if check:
            self.pj.check_run(res, self.snap)
        return res

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        os.close(self.master)
        os.close(self.slave)


@pytest.fixture
def tty_session(pj):
    made = []

    def start(*args, **kw):
        made.append(TtySession(pj, *args, **kw))
        return made[-1]
    yield start
    for t in made:
        t.close()


JAIL_TTY = r'''
import os, sys
print("TTY", [os.isatty(i) for i in range(3)])
import fcntl, struct  # TIOCGSID: 0x5429
sid = lambda fd: struct.unpack("i", fcntl.ioctl(fd, 0x5429, bytes(4)))[0]
t = os.open("/dev/tty", os.O_RDWR)
print("CTTY", sid(t) == sid(0) == os.getsid(0))
print("FG", os.tcgetpgrp(0) == os.getpgrp())
print("RDEV", os.fstat(0).st_rdev)
print("TERM", os.environ.get("TERM"))
'''


def test_command_gets_a_terminal_of_its_own(tty_session):
    """The command runs on a pseudo-terminal of pipjail's, never on the
    user's: stdin/stdout/stderr are terminals, it is the controlling
    terminal of the command's session (/dev/tty works, the command is in
    its foreground), TERM passes; and its device is not the user's."""
    t = tty_session("--", "/usr/bin/python3", "-c", JAIL_TTY)
    r = t.wait()
    assert_clean(r)
    for line in ("TTY [True, True, True]", "CTTY True", "FG True", "TERM xterm"):
        assert line in r.stdout, r
    rdev = int(re.search(r"^RDEV (\d+)$", r.stdout, re.M).group(1))
    assert rdev != os.fstat(t.slave).st_rdev, "the command got the user's own terminal"


WINCH = r'''
import fcntl, signal, struct, termios, time
size = lambda: struct.unpack("HHHH", fcntl.ioctl(1, termios.TIOCGWINSZ, bytes(8)))[:2]
got = []
signal.signal(signal.SIGWINCH, lambda *a: got.append(1))
print("SIZE %d %d" % size(), flush=True)
deadline = time.monotonic() + 20
while not got and time.monotonic() < deadline:
    time.sleep(0.05)
print("WINCH %d %d" % size() if got else "NO-WINCH")
'''


def test_window_size_follows_the_users_terminal(tty_session):
    t = tty_session("--", "/usr/bin/python3", "-c", WINCH, rows=30, cols=100)
    t.expect(b"SIZE 30 100")
    t.resize(41, 123)
    r = t.wait()
    assert_clean(r)
    assert "WINCH 41 123" in r.stdout, r


def test_colours_and_progress_bars_pass_through(tty_session):
    """What the command writes reaches the terminal byte for byte (escape
    sequences, carriage returns), and pip colours its messages as on the
    user's own terminal (it sees a terminal and TERM)."""
    t = tty_session("--", *sh(r"printf '\033[31mred\033[0m\n'; printf ' 10%%\r 50%%\r100%%\n'; "
                              "/usr/bin/python3 -m pip download --no-index -d /tmp "
                              "--disable-pip-version-check pjnothere-xyz"))
    r = t.wait()
    assert b"\x1b[31mred\x1b[0m\r\n 10%\r 50%\r100%\r\n" in t.out, r
    assert re.search(r"\x1b\[[0-9;]*m\s*ERROR", r.stdout), f"pip did not colour its error\n{r}"


def test_typed_input_reaches_the_command(tty_session):
    """What the user types goes to the command through its terminal, echoed
    by it; meanwhile the user's terminal is in raw mode (pipjail's)."""
    t = tty_session("--", *sh("echo READY; read line; echo \"got:$line\""))
    t.expect(b"READY")
    assert not t.lflag() & termios.ICANON, "the user's terminal is not in raw mode"
    assert t.lflag() & termios.ISIG, "Ctrl-C must still signal pipjail"
    t.type(b"hello\r")
    r = t.wait()
    assert_clean(r)
    assert "hello\ngot:hello\n" in r.stdout, r


# how -> (the command, what the test does once it runs, pipjail's exit)
RESTORED = {
    "normal": (sh("echo READY; sleep 0.5; for i in $(seq 3000); do echo line-$i; done"),
               None, 0),
    "killed": (sh("echo READY; sleep 0.5; kill -9 $$"), None, 128 + signal.SIGKILL),
    "violator-killed": (sh('echo READY; sleep 0.5; cat "$HOME/.ssh/id_rsa"'), None, 101),
    "sigint": (sh('trap "echo GOT-INT; exit 7" INT; echo READY; sleep 30 & wait'),
               b"\x03", 7),
    "sigint-twice": (sh('trap "" INT; echo READY; sleep 30'), b"\x03", 128 + signal.SIGINT),
    "timeout": (["--timeout", "3", "--", *sh("echo READY; sleep 30")], None, 124),
}


@pytest.mark.parametrize("how", sorted(RESTORED))
def test_terminal_settings_are_restored(tty_session, how):
    """The user's terminal is raw while the command runs and exactly as it
    was once pipjail ends, however the command ends (Ctrl-C reaches it as
    SIGINT through pipjail; a second one kills the jail), and the
    command's last output comes before pipjail's report."""
    cmd, key, code = RESTORED[how]
    t = tty_session(*(cmd if cmd[0] == "--timeout" else ["--", *cmd]))
    t.expect(b"READY")
    assert not t.lflag() & termios.ICANON, "the user's terminal is not in raw mode"
    if key:
        t.type(key)
        if how == "sigint-twice":
            time.sleep(1)
            t.type(key)
    r = t.wait()
    assert r.returncode == code, r
    assert termios.tcgetattr(t.slave) == t.before, "the terminal's settings were not restored"
    verdict_line(r)   # pipjail's verdict is the terminal's last line
    # every line starts at the left margin: no line feed of pipjail's own
    # (a timeout, a second Ctrl-C) reached the terminal while it was raw
    assert not re.search(rb"[^\r]\n", t.out), t.out[-500:]
    if how == "normal":
        assert r.stdout.index("line-3000\n") < r.stdout.index("pipjail: verdict:"), r
    if how == "sigint":
        assert "GOT-INT" in r.stdout, r


def test_ctrl_z_gives_the_terminal_back_while_pipjail_is_stopped(tty_session):
    """Ctrl-Z stops pipjail (not the jail) as without a terminal: while it
    is stopped the shell has its terminal as it was; `fg` (SIGCONT) makes
    it raw again and the run goes on to its end."""
    t = tty_session("--", *sh("echo READY; read line; echo \"got:$line\""))
    t.expect(b"READY")
    assert not t.lflag() & termios.ICANON
    t.type(b"\x1a")
    deadline = time.monotonic() + 10
    while not open(f"/proc/{t.proc.pid}/stat").read().split(")")[1].split()[0] == "T":
        assert time.monotonic() < deadline, "Ctrl-Z did not stop pipjail"
        time.sleep(0.05)
    assert termios.tcgetattr(t.slave) == t.before, "the terminal is raw while pipjail is stopped"
    t.proc.send_signal(signal.SIGCONT)
    deadline = time.monotonic() + 10
    while t.lflag() & termios.ICANON:
        assert time.monotonic() < deadline, "not raw again after SIGCONT"
        time.sleep(0.05)
    t.type(b"back\r")
    r = t.wait()
    assert_clean(r)
    assert "got:back" in r.stdout, r
    assert termios.tcgetattr(t.slave) == t.before


# A shell's background job: its own process group, not the terminal's
# foreground one (which stays with this wrapper, the session leader).
BACKGROUND = ["/usr/bin/python3", "-c", "import subprocess, sys; "
              "sys.exit(subprocess.Popen(sys.argv[1:], process_group=0).wait())"]


def test_background_run_leaves_the_terminal_alone(tty_session):
    """pipjail started with & neither stops (SIGTTOU, SIGTTIN) nor changes
    the terminal: the command's output is copied, nothing is read."""
    t = tty_session("--", *sh("echo READY; sleep 1; echo BG-OK"), prefix=BACKGROUND)
    t.expect(b"READY")
    assert termios.tcgetattr(t.slave) == t.before, "a background pipjail changed the terminal"
    t.type(b"typed\r")
    r = t.wait()
    assert_clean(r)
    assert "BG-OK" in r.stdout, r
    assert termios.tcgetattr(t.slave) == t.before


@pytest.mark.parametrize("sig", [signal.SIGSEGV, signal.SIGABRT])
def test_terminal_settings_are_restored_when_pipjail_crashes(pj, tty_session, sig):
    """pipjail itself dies of a fatal signal (as from a crash, sent here):
    the terminal is given back before it dies (a sanitizer build still
    reports it); what it leaves on the host is not this test's matter (the
    next run collects its cgroup)."""
    t = tty_session("--", *sh("echo READY; sleep 30"))
    t.expect(b"READY")
    assert not t.lflag() & termios.ICANON, "the user's terminal is not in raw mode"
    t.proc.send_signal(sig)
    r = t.wait(check=False)
    assert r.returncode in (-sig, 1), r   # 1: a sanitizer's report and exit
    assert termios.tcgetattr(t.slave) == t.before, "the terminal's settings were not restored"
    pj.run("--", "true", check_leftovers=False)


@pytest.mark.parametrize("failpoint", ["jail-build", "monitor-load"])
def test_terminal_settings_are_restored_when_pipjail_fails(tty_session, failpoint):
    """pipjail's own failure after the terminal went raw (the jail could not
    be built, the monitor could not start): the terminal is given back, and
    what the jail's init said reaches it before pipjail's last words."""
    t = tty_session("--", "true", env={"PIPJAIL_FAILPOINT": failpoint})
    r = t.wait()
    assert r.returncode == 125, r
    assert f"failpoint {failpoint}" in r.stdout, r
    assert termios.tcgetattr(t.slave) == t.before, "the terminal's settings were not restored"


def test_pidfd_getfd_is_refused(pj):
    """Taking another process's descriptor (here: the command's own child's
    stdin) is refused and is a refused-call violation."""
    r = pj.run("--", "/usr/bin/python3", "-c", PIDFD_GETFD)
    assert "pidfd_getfd: refused EPERM" in r.stdout, r
    assert_violation(r, 100, "refused-call", "pidfd_getfd")


def test_pidfd_getfd_works_outside(test_user):
    # Benign twin: the same code takes the descriptor outside the jail.
    r = runuser(test_user, "/usr/bin/python3", "-c", PIDFD_GETFD)
    if "pidfd_getfd: refused EPERM" in r.stdout and os.path.exists("/proc/sys/kernel/yama"):
        pytest.skip(f"Yama refuses it outside too: {r.stdout}")
    assert "pidfd_getfd: took fd" in r.stdout, r


PIDFD_GETFD = r'''
import ctypes, errno, os, subprocess
libc = ctypes.CDLL(None, use_errno=True)
child = subprocess.Popen(["sleep", "5"], stdin=subprocess.PIPE)
pidfd = os.pidfd_open(child.pid)
fd = libc.syscall(438, pidfd, 0, 0)
e = ctypes.get_errno()
print("pidfd_getfd: took fd" if fd >= 0 else "pidfd_getfd: refused " + errno.errorcode[e])
child.kill()
child.wait()
'''
