"""Unix sockets and the jail (issue 14, item 5): a host pathname unix socket
in a directory the jail shows (the current directory, /var/lib, ...) is
never reached, whatever name a package gives it; the jail's own sockets
(its /tmp, /dev/shm, $HOME, abstract ones) work and are no violation.

With the unix-socket guard (cgroup connect_unix/sendmsg_unix programs,
Linux 6.7: host.unix_guard_hooks() probes the kernel here, outside
pipjail) the kernel refuses a name outside the jail's own trees before it
looks it up (EPERM), and a name in them is looked up in a read-only,
nosymfollow mirror, so a symlink planted in /tmp leads nowhere (ELOOP).
Without the hooks pipjail hides known socket directories, and these tests
expect what that kernel offers.  The attacks through pip are
tests/attacks/esc_unix_socket_host and esc_unix_socket_symlink; the benign
build twin (multiprocessing's forkserver) is in test_trustline.py.
"""
import json
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
import threading
import time

import pytest

from lib import host
from lib.pj import assert_clean, report_text, violations
from test_attacks import UnixListeners

GUARD = host.unix_guard_hooks()

# Every way of naming a host socket that the jail controls; run in the jail
# as `python3 TRICKS HOSTDIR`.  Each attempt prints {"what", "errno"} (errno
# "OK" when it got through).
TRICKS = r'''
import errno, json, os, socket, sys, tempfile
host = sys.argv[1]
stream, dgram = host + "/agent.sock", host + "/log.dgram"
t = tempfile.mkdtemp()
home = os.path.expanduser("~")

def attempt(what, fn):
    try:
        fn()
        e = "OK"
    except OSError as x:
        e = errno.errorcode.get(x.errno, str(x.errno))
    print(json.dumps({"what": what, "errno": e}), flush=True)

def connect(path, cwd=None):
    def go():
        if cwd:
            os.chdir(cwd)
        try:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(path)
            s.sendall(b"reached")
        finally:
            os.chdir("/")
    return go

def sendto(path):
    return lambda: socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM).sendto(b"reached", path)

def dgram_connect(path):
    def go():
        d = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        d.connect(path)
        d.send(b"reached")
    return go

def sendmsg(path):
    return lambda: socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM).sendmsg([b"reached"], [], 0, path)

def link(target, name):
    os.symlink(target, name)
    return name

# names the guard refuses (EPERM)
attempt("direct", connect(stream))
attempt("sendto", sendto(dgram))
attempt("sendmsg", sendmsg(dgram))
attempt("dgram connect", dgram_connect(dgram))
attempt("dotdot", connect("/tmp/.." + stream))
attempt("slashes", connect("/" + stream.replace("/", "//")))
attempt("var run alias", connect("/var/run/../.." + stream))
attempt("proc root", connect("/proc/self/root" + stream))
attempt("proc cwd", connect("/proc/self/cwd/agent.sock", cwd=host))
attempt("relative", connect("agent.sock", cwd=host))
attempt("relative dotdot", connect("../" + os.path.basename(host) + "/agent.sock", cwd=host))
attempt("cwd through a link", connect("agent.sock", cwd=link(host, t + "/cwdlink")))
attempt("a mirror's name", connect("/dev/.u0" + stream))
# names in the jail's own trees that lead out through a symlink (ELOOP)
attempt("tmp link", connect(link(host, t + "/dir") + "/agent.sock"))
attempt("tmp link to the socket", connect(link(stream, t + "/sock")))
attempt("two links", connect(link(t + "/dir", t + "/hop") + "/agent.sock"))
attempt("home link", connect(link(stream, home + "/.agent")))
attempt("shm link", sendto(link(host, "/dev/shm/" + os.path.basename(t)) + "/log.dgram"))
attempt("relative link", connect("dir/agent.sock", cwd=t))
own = t + "/own"
os.mkdir(own)
socket.socket(socket.AF_UNIX, socket.SOCK_STREAM).bind(own + "/agent.sock")
os.rename(own, t + "/was-own")
attempt("swapped dir", connect(link(host, own) + "/agent.sock"))
# a hard link to the socket: another mount (EXDEV)
attempt("hard link", lambda: os.link(stream, t + "/hard"))
'''

REFUSED = ["direct", "sendto", "sendmsg", "dgram connect", "dotdot", "slashes", "var run alias",
           "proc root", "proc cwd", "relative", "relative dotdot", "cwd through a link"]
NOT_FOLLOWED = ["tmp link", "tmp link to the socket", "two links", "home link", "shm link",
                "relative link", "swapped dir"]


@pytest.fixture
def listeners():
    """Host sockets in a short host directory the jail shows (under
    /var/lib, as the session's; short, so that every trick's name fits in
    a socket address)."""
    d = tempfile.mkdtemp(prefix="pjus.", dir="/var/lib")
    os.chmod(d, 0o755)
    unix = UnixListeners(os.path.join(d, "run"))
    yield unix
    unix.close()
    shutil.rmtree(d, ignore_errors=True)


def run_script(pj, workdir, script, *args, opts=()):
    path = os.path.join(workdir, "script.py")
    with open(path, "w") as f:
        f.write(script)
    trace = os.path.join(workdir, "trace.jsonl")
    r = pj.run(*opts, "--trace", trace, "--", "/usr/bin/python3", path, *args, cwd=workdir,
               timeout=120)
    results = {}
    for line in r.stdout.splitlines():
        if line.startswith("{"):
            o = json.loads(line)
            results[o["what"]] = o["errno"]
    with open(trace) as f:
        header = json.loads(f.readline())
    return r, results, header


def test_no_name_of_a_host_socket_reaches_it(pj, workdir, listeners):
    """Attack: every name a package controls for a host stream and datagram
    socket in a directory the jail shows (under /var/lib, like the session
    directory): absolute, relative, "..", "//", /proc/self/root, symlinks
    planted in /tmp, $HOME and /dev/shm, a directory swapped for a symlink,
    a datagram sent with sendto and sendmsg or after a connect.  --audit, so
    that nothing is killed and every one is tried.  Nothing arrives; the
    names outside the jail's trees are refused in the kernel (EPERM) and
    reported as network violations; the symlinks are not followed (ELOOP)."""
    unix = listeners
    r, got, header = run_script(pj, workdir, TRICKS, os.path.dirname(unix.stream_path),
                                opts=("--audit",))
    assert set(got) >= set(REFUSED + NOT_FOLLOWED), f"not every attempt ran: {got}\n{r}"
    assert header["unix_sockets"]["guard"] == ("kernel" if GUARD else "hidden"), header
    if not GUARD:
        # hiding cannot cover a directory it does not know: what this
        # kernel offers is the report, after the fact
        assert r.returncode == 100, r
        assert any("agent.sock" in v["text"] for v in violations(report_text(r))), r
        return
    assert not unix.received(), f"the host's sockets were reached: {unix.received()}\n{r}"
    assert not [w for w, e in got.items() if e == "OK"], f"got through: {got}\n{r}"
    for what in REFUSED:
        assert got[what] == "EPERM", f"{what}: {got[what]}, not refused by the guard\n{r}"
    for what in NOT_FOLLOWED:
        assert got[what] == "ELOOP", f"{what}: {got[what]}, the symlink was followed?\n{r}"
    assert got["hard link"] == "EXDEV", got
    assert got["a mirror's name"] == "ENOENT", got
    assert r.returncode == 100, r
    text = report_text(r)
    network = [v["text"] for v in violations(text) if v["rule"] == "network"]
    assert network and all("refused in the kernel" in v for v in network), r
    for name in ("unix:" + unix.stream_path, "unix:" + unix.dgram_path, "unix:agent.sock",
                 "unix:/proc/self/root" + unix.stream_path):
        assert any(name in v for v in network), f"no violation names {name}\n{r}"
    # nothing the symlinks did is a violation: nothing left the jail
    assert not any("/dir/agent.sock" in v or ".agent" in v for v in network), r
    # replay judges the trace the same way
    rep = pj.run("replay", os.path.join(workdir, "trace.jsonl"), sudo=False)
    assert rep.returncode == 100, rep
    assert len([v for v in violations(report_text(rep)) if v["rule"] == "network"]) == len(network), \
        f"replay:\n{rep}\nlive:\n{r}"


BENIGN = r'''
import multiprocessing, os, socket, tempfile, threading

def serve(path, kind=socket.SOCK_STREAM):
    srv = socket.socket(socket.AF_UNIX, kind)
    srv.bind(path)
    if kind == socket.SOCK_STREAM:
        srv.listen(8)
        def loop():
            while True:
                c, _ = srv.accept()
                c.sendall(c.recv(64).upper())
                c.close()
        threading.Thread(target=loop, daemon=True).start()
    return srv

def ask(path, cwd="/"):
    os.chdir(cwd)
    c = socket.socket(socket.AF_UNIX)
    c.connect(path)
    c.sendall(b"ping")
    assert c.recv(64) == b"PING", path
    os.chdir("/")

def main():
    t = tempfile.mkdtemp()
    serve(t + "/s")
    ask(t + "/s")
    ask("s", cwd=t)
    ask("./s", cwd=t)
    ask("../" + os.path.basename(t) + "/s", cwd=t)
    ask("/tmp/../" + t + "/s")
    ask("/" + t + "//s")
    home = os.path.expanduser("~")
    serve(home + "/agent")
    ask(home + "/agent")
    serve("/dev/shm/pj-" + os.path.basename(t))
    ask("/dev/shm/pj-" + os.path.basename(t))
    d = serve(t + "/d", socket.SOCK_DGRAM)
    socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM).sendto(b"x", t + "/d")
    assert d.recv(8) == b"x"
    a = socket.socket(socket.AF_UNIX)
    a.bind("\0pj-own-" + os.path.basename(t))
    a.listen(1)
    socket.socket(socket.AF_UNIX).connect("\0pj-own-" + os.path.basename(t))
    with multiprocessing.get_context("forkserver").Pool(2) as pool:
        assert pool.map(abs, range(-3, 1)) == [3, 2, 1, 0]
    try:
        socket.socket(socket.AF_UNIX).connect("/var/run/nscd/socket")
    except FileNotFoundError:
        pass
    print("all good")


if __name__ == "__main__":  # multiprocessing's forkserver imports this file
    main()
'''


def test_benign_sockets_of_the_jail_own_work_and_are_clean(pj, workdir):
    """Twin: sockets of the jail's own by every name (absolute, relative,
    "./", "..", "//", in /tmp, $HOME and /dev/shm, a datagram, an abstract
    socket, multiprocessing's forkserver; glibc's nscd socket, absent):
    they work and the run is clean."""
    r, _, header = run_script(pj, workdir, BENIGN)
    assert_clean(r)
    assert "all good" in r.stdout, r
    own = {t["path"] for t in header["unix_sockets"]["trees"] if t["own"]}
    assert {"/tmp", "/dev/shm"} <= own, header["unix_sockets"]
    assert workdir in {t["path"] for t in header["unix_sockets"]["trees"] if not t["own"]}, \
        "the current directory, shown read-only, is not the jail's own"


ABSTRACT = r'''
import errno, socket, sys, time
# sys.argv[1]: the name; sys.argv[2]: a mark the test finds this process by
end = time.time() + float(sys.argv[3])
while True:
    try:
        socket.socket(socket.AF_UNIX).connect("\0" + sys.argv[1])
        print("REACHED", flush=True)
        break
    except OSError as e:
        if e.errno != errno.ECONNREFUSED or time.time() > end:
            print(errno.errorcode[e.errno], flush=True)
            break
    time.sleep(0.1)
'''


class AbstractListener:
    """An abstract unix socket that keeps what connects to it."""

    def __init__(self, name, netns_of=None):
        self.name, self.hits = name, []
        if netns_of:
            # bound in the jail's own net namespace by a process outside the
            # jail's Landlock domain (nsenter, as root)
            code = ("import socket, sys, time\n"
                    "s = socket.socket(socket.AF_UNIX); s.bind('\\0' + sys.argv[1]); s.listen(4)\n"
                    "s.settimeout(8)\n"
                    "try:\n    s.accept(); print('HIT', flush=True)\nexcept OSError:\n    pass\n")
            self.proc = subprocess.Popen(["nsenter", f"--net=/proc/{netns_of}/ns/net", "/usr/bin/python3",
                                          "-c", code, name], stdout=subprocess.PIPE, text=True)
            return
        self.proc = None
        self.srv = socket.socket(socket.AF_UNIX)
        self.srv.bind("\0" + name)
        self.srv.listen(4)
        self.srv.settimeout(0.2)
        self.t = threading.Thread(target=self._watch)
        self.t.start()

    def _watch(self):
        for _ in range(40):
            try:
                self.hits.append(self.srv.accept())
            except OSError:
                pass

    def close(self):
        if self.proc:
            out, _ = self.proc.communicate(timeout=30)
            return "HIT" in out
        self.t.join()
        self.srv.close()
        return bool(self.hits)


def test_abstract_sockets_of_the_host_are_out_of_reach(pj, workdir):
    """Attack: an abstract unix socket of the host (a desktop session's, an
    X server's).  The jail has a network namespace of its own: there is
    none to find (ECONNREFUSED), nothing to report."""
    name = "pjtest-" + secrets.token_hex(6)
    lis = AbstractListener(name)
    try:
        r, _, _ = run_script(pj, workdir, ABSTRACT, name, "-", "0")
    finally:
        reached = lis.close()
    assert not reached, f"the host's abstract socket was reached\n{r}"
    assert r.stdout.strip() == "ECONNREFUSED", r
    assert_clean(r)


def _netns(pid):
    try:
        return os.readlink(f"/proc/{pid}/ns/net")
    except OSError:
        return None


def test_abstract_sockets_of_another_domain_are_refused(pj, workdir):
    """Attack: an abstract socket in the jail's own network namespace that
    belongs to a process outside the jail (pipjail's own proxy lives
    there).  Landlock's scope (ABI 6) refuses the connect (EPERM), a
    network violation; nothing arrives."""
    if not any(f"ABI {n}" in pj.run("doctor", sudo=False).stdout for n in range(6, 100)):
        pytest.skip("Landlock before ABI 6 does not scope abstract sockets")
    name, mark = "pjtest-" + secrets.token_hex(6), "pjmark" + secrets.token_hex(6)
    path = os.path.join(workdir, "script.py")
    with open(path, "w") as f:
        f.write(ABSTRACT)
    trace = os.path.join(workdir, "trace.jsonl")
    proc = subprocess.Popen([pj.binary, "--audit", "--trace", trace, "--", "/usr/bin/python3", path,
                             name, mark, "20"], env=pj.env(), cwd=workdir, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    lis = None
    try:
        ours = os.readlink("/proc/self/ns/net")
        for _ in range(200):
            pids = [p for p in host.processes_matching(mark) if _netns(p) not in (None, ours)]
            if pids:
                lis = AbstractListener(name, netns_of=pids[0])
                break
            time.sleep(0.05)
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
        reached = lis.close() if lis else None
    assert lis, f"the jail's process never showed up\n{out}{err}"
    assert not reached, "the abstract socket of a process outside the jail was reached"
    assert out.strip() == "EPERM", f"{out}\n{err}"
    assert proc.returncode == 100, err
    assert "@" + name in err and "network" in err, err


def test_which_unix_socket_wall_is_in_force_is_said(pj, workdir):
    """-v and the trace header say whether the kernel guard or hiding is in
    force, as the kernel offers; doctor says whether it has the hooks."""
    trace = os.path.join(workdir, "t.jsonl")
    r = pj.run("-v", "--trace", trace, "--", "/bin/true", cwd=workdir)
    assert r.returncode == 0 and "pipjail: verdict: clean" in r.stderr, r
    with open(trace) as f:
        header = json.loads(f.readline())
    doctor = [l for l in pj.run("doctor", sudo=False).stdout.splitlines() if "unix-socket guard" in l]
    assert doctor, "doctor says nothing of the unix-socket guard"
    if GUARD:
        assert header["unix_sockets"]["guard"] == "kernel", header
        assert "unix sockets: the kernel guard" in r.stderr, r
        assert "NOT available" not in doctor[0] and "available" in doctor[0], doctor
    else:
        assert header["unix_sockets"]["guard"] == "hidden", header
        assert "known socket directories are hidden" in r.stderr, r
        assert "NOT available" in doctor[0], doctor
