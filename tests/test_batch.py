"""pipjail analyze --batch LIST --out DIR: every package of LIST analysed
in its own jail (a `pipjail analyze` child each), into DIR/pkgs/<key>/,
with result.json written last; DIR/summary.json and DIR/index.html at the
end.  Real jails and real pip, attack and benign fixtures packed by the
tests (tests/lib/fixtures.py).

What a user relies on: the verdict per package (a bad line, a corrupt or
missing archive is that package's failure, never the batch's); the same
summary whatever --jobs; a re-run that skips what is done and redoes what
was cut short (SIGKILL of the batch, SIGTERM as Slurm's scancel sends);
two batches on one DIR never doing a package twice; summary.json as
docs/report-format.md says; an index page that opens in Chromium with
working links."""
import glob
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time

import pytest

from lib import host
from lib.fixtures import attack_sdist, benign_sdist
from lib.index import IndexServer
from lib.pj import REPO, SANITIZER_MARKS, runuser
from lib.sdist import make_sdist

BATCH_TIMEOUT = 1800
DOCS = os.path.join(REPO, "docs", "report-format.md")
MERGE = os.path.join(REPO, "scripts", "slurm", "merge.sh")
SLEEPER_SETUP = ("import time\ntime.sleep(600)\nfrom setuptools import setup\n"
                 "setup(name='pjsleeper', version='1.0', py_modules=['pjsleeper'])\n")
SEVERITY = ["violation", "incomplete", "error", "pending", "clean"]


# ---------------------------------------------------------------- helpers

def own(path, user):
    for root, dirs, files in os.walk(path):
        for n in dirs + files:
            os.lchown(os.path.join(root, n), user.uid, user.gid)
    os.lchown(path, user.uid, user.gid)


def write_list(d, lines, user, name="list.txt"):
    path = os.path.join(d, name)
    with open(path, "w") as f:
        f.write("".join(line + "\n" for line in lines))
    own(d, user)
    return path


def calm(d, name):
    return make_sdist(d, name, "1.0", {f"{name}/__init__.py": "VALUE = 42\n"})


def sleeper(d):
    return make_sdist(d, "pjsleeper", "1.0", {"setup.py": SLEEPER_SETUP, "pjsleeper.py": "X = 1\n"})


def analyze_dirs(uid):
    """The temporary directories of analyses run for uid (their work/ is
    the user's): other people's runs on this machine are left aside."""
    found = set()
    for d in glob.glob("/var/tmp/pipjail-analyze.*"):
        try:
            if os.stat(os.path.join(d, "work")).st_uid == uid:
                found.add(d)
        except OSError:
            pass
    return found


def check_logs(out):
    """The analyses' own output (their stderr) holds no sanitizer report."""
    for log in glob.glob(os.path.join(out, "pkgs", "*.log")) + \
            glob.glob(os.path.join(out, "pkgs", "*", "analyze.log")):
        with open(log, errors="replace") as f:
            text = f.read()
        bad = [m for m in SANITIZER_MARKS if m in text]
        assert not bad, f"sanitizer report in {log}:\n{text[-5000:]}"


def batch(pj, lst, out, *opts, cwd=None, timeout=BATCH_TIMEOUT):
    before = analyze_dirs(pj.user.uid)
    res = pj.run("analyze", "--batch", lst, "--out", out, *opts, cwd=cwd, timeout=timeout)
    assert analyze_dirs(pj.user.uid) <= before, f"an analysis left its temporary directory\n{res}"
    check_logs(out)
    return res


def load(path):
    with open(path) as f:
        return json.load(f)


def by_line(summary):
    return {r["line"]: r for r in summary["packages"]}


def outcome(summary):
    """{line: (verdict, exit, {rule: n})}: what must not depend on --jobs
    or on the machine (test_slurm.py compares the same)."""
    return {r["line"]: (r["verdict"], r["exit"], r["violations_by_rule"])
            for r in summary["packages"]}


def timeless(summary):
    """The summary without its times."""
    s = json.loads(json.dumps(summary))
    s.pop("generated")
    s["totals"].pop("duration_s")
    for r in s["packages"]:
        r.pop("duration_s")
        r.pop("started")
    return s


def stamps(out):
    found = {}
    for p in glob.glob(os.path.join(out, "pkgs", "*", "result.json")):
        st = os.stat(p)
        found[p] = (st.st_ino, st.st_mtime_ns)
    return found


def wait_for(cond, timeout, what):
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, f"waited {timeout}s for {what}"
        time.sleep(0.2)


def children_of(out):
    """The `pipjail analyze --out OUT/pkgs/...` processes still alive."""
    return host.processes_matching(f"--out {out}/pkgs/")


# ---------------------------------------------------------------- the docs

TYPES = {"string": str, "number": (int, float), "object": dict, "array": list, "bool": bool,
         "null": type(None)}


def documented_fields():
    """The field tables of docs/report-format.md's batch section:
    {table: {field: (types...)}}, tables named 'top', 'record', 'totals',
    'result'."""
    with open(DOCS) as f:
        text = f.read()
    section = text[text.index("## A batch: result.json and summary.json"):]
    tables, cur, names = {}, None, iter(["top", "record", "totals", "result"])
    for line in section.splitlines():
        if line.startswith("| field | type |"):
            cur = tables.setdefault(next(names), {})
            continue
        if not line.startswith("| `") or cur is None:
            if not line.startswith("|"):
                cur = None
            continue
        cells = [c.strip() for c in line.strip("|").split("|")]
        fields = re.findall(r"`([a-z_]+)`", cells[0])
        kinds = [k.strip() for k in cells[1].split(",")]
        if len(kinds) != len(fields):
            kinds = kinds[:1] * len(fields)
        for fname, kind in zip(fields, kinds):
            cur[fname] = tuple(t for w in kind.split(" or ") for t in
                               (TYPES[w.strip()] if isinstance(TYPES[w.strip()], tuple)
                                else (TYPES[w.strip()],)))
    assert set(tables) == {"top", "record", "totals", "result"}, tables.keys()
    return tables


def check_fields(obj, table, where):
    assert set(obj) == set(table), f"{where}: fields {sorted(obj)} != documented {sorted(table)}"
    for k, types in table.items():
        assert isinstance(obj[k], types) and not (isinstance(obj[k], bool) and bool not in types), \
            f"{where}: {k} = {obj[k]!r} is not {types}"


def check_summary(summary, out):
    """summary.json is what docs/report-format.md says, its paths lead to
    files in DIR, and each complete record is its package's result.json."""
    docs = documented_fields()
    check_fields(summary, docs["top"], "summary.json")
    assert summary["format"] == "pipjail-batch-summary" and summary["format_version"] == 1
    check_fields(summary["totals"], docs["totals"], "totals")
    result_fields = {k: v for k, v in docs["record"].items() if k != "result"}
    result_fields.update(docs["result"])
    counts = dict.fromkeys(SEVERITY, 0)
    for i, r in enumerate(summary["packages"]):
        check_fields(r, docs["record"], f"packages[{i}]")
        assert r["verdict"] in SEVERITY, r
        assert r["index"] == i, r
        counts[r["verdict"]] += 1
        assert r["violations"] == sum(r["violations_by_rule"].values()), r
        for f in ("report", "trace", "html", "payloads", "log", "result"):
            if r[f] is not None:
                assert os.path.exists(os.path.join(out, r[f])), (f, r)
                assert r[f].startswith(f"pkgs/{r['key']}/"), r
        if r["verdict"] == "pending":
            assert r["result"] is None and r["exit"] is None, r
            continue
        res = load(os.path.join(out, r["result"]))
        check_fields(res, result_fields, r["result"])
        assert res["format"] == "pipjail-batch-result", res
        for k in r:
            if k != "result":
                assert res[k] == r[k], (k, res[k], r[k])
    assert summary["totals"]["verdicts"] == counts
    assert summary["totals"]["packages"] == len(summary["packages"])
    assert summary["totals"]["violations"] == sum(r["violations"] for r in summary["packages"])


# ---------------------------------------------------------------- one corpus, several checks

class Corpus:
    pass


@pytest.fixture(scope="module")
def corpus(pj, session_dir):
    """Attack and benign fixtures, a corrupt archive, a missing file and a
    requirement without --index-url, in one LIST (with comments, a blank
    line and a relative path), analysed with --jobs 2."""
    c = Corpus()
    c.dir = d = tempfile.mkdtemp(prefix="batch-corpus.", dir=session_dir)
    os.chmod(d, 0o755)
    c.secrets = attack_sdist(d, "secrets_aws")
    c.token = attack_sdist(d, "env_token_url")
    c.benign = os.path.basename(benign_sdist(d, "setuptools-pure"))   # relative to cwd
    c.calm = calm(d, "pjcalm")
    c.corrupt = os.path.join(d, "pjcorrupt-1.0.tar.gz")
    with open(c.corrupt, "wb") as f:
        f.write(b"\x1f\x8b\x08\x00 this is not a gzip stream")
    c.missing = "/nonexistent/pjtest-missing-1.0.tar.gz"
    c.req = "pjnoindex==1.0"
    c.list = write_list(d, ["# attack, benign and broken packages",
                            c.secrets,
                            c.token + "   # decoy tokens in a URL",
                            "",
                            c.benign,
                            c.calm,
                            c.corrupt,
                            c.missing,
                            "   " + c.req], pj.user)
    c.lines = [c.secrets, c.token, c.benign, c.calm, c.corrupt, c.missing, c.req]
    c.out = os.path.join(d, "out")
    c.res = batch(pj, c.list, c.out, "--jobs", "2", cwd=d)
    c.summary = load(os.path.join(c.out, "summary.json"))
    yield c
    shutil.rmtree(d, ignore_errors=True)


@pytest.mark.corpus
def test_batch_verdict_per_package(corpus):
    c = corpus
    assert c.res.returncode == 100, c.res
    got = by_line(c.summary)
    assert list(got) == c.lines, list(got)
    v = {line: got[line]["verdict"] for line in c.lines}
    assert v == {c.secrets: "violation", c.token: "violation", c.benign: "clean",
                 c.calm: "clean", c.corrupt: "error", c.missing: "error", c.req: "error"}, v
    assert "decoy-read" in got[c.secrets]["violations_by_rule"], got[c.secrets]
    assert "exfiltration" in got[c.token]["violations_by_rule"], got[c.token]
    for line in (c.benign, c.calm):
        assert got[line]["exit"] == 0 and got[line]["violations_by_rule"] == {}, got[line]
    assert got[c.benign]["spec"] == os.path.join(c.dir, c.benign), got[c.benign]
    assert got[c.corrupt]["exit"] not in (0, 100, 125), got[c.corrupt]
    assert "did not complete" in got[c.corrupt]["reason"], got[c.corrupt]
    assert got[c.missing]["exit"] == 125 and "cannot be read" in got[c.missing]["reason"]
    assert got[c.req]["exit"] == 125 and "needs --index-url" in got[c.req]["reason"]
    # a bad line is reported with LIST:LINE, and the batch went on
    assert f"{c.list}:8: {c.missing}: " in c.res.stderr, c.res
    assert f"{c.list}:9: {c.req}: " in c.res.stderr, c.res
    assert "7 of 7 done (7 analysed now)" in c.res.stderr, c.res


@pytest.mark.corpus
def test_batch_summary_as_documented(corpus):
    check_summary(corpus.summary, corpus.out)
    assert corpus.summary["list"] == corpus.list
    rules = corpus.summary["totals"]["rules"]
    assert rules["decoy-read"]["packages"] == 1, rules


@pytest.mark.corpus
def test_batch_jobs_1_gives_the_same_summary(pj, corpus):
    out1 = os.path.join(corpus.dir, "out-jobs1")
    res = batch(pj, corpus.list, out1, "--jobs", "1", cwd=corpus.dir)
    assert res.returncode == 100, res
    one = load(os.path.join(out1, "summary.json"))
    two = corpus.summary
    assert outcome(one) == outcome(two)
    assert timeless(one)["packages"] == timeless(two)["packages"]
    assert timeless(one)["totals"] == timeless(two)["totals"]


@pytest.mark.corpus
def test_batch_rerun_redoes_nothing(pj, corpus):
    before = stamps(corpus.out)
    assert len(before) == 7, before
    res = batch(pj, corpus.list, corpus.out, "--jobs", "2", cwd=corpus.dir)
    assert res.returncode == 100, res
    assert "7 with a result already, 0 to analyse" in res.stderr, res
    assert stamps(corpus.out) == before
    assert outcome(load(os.path.join(corpus.out, "summary.json"))) == outcome(corpus.summary)


def chromium_dom(path):
    chromium = shutil.which("chromium")
    if not chromium:
        pytest.fail("chromium is missing: scripts/deps.sh installs it")
    profile = tempfile.mkdtemp(prefix="pjtest-chromium.")
    try:
        r = subprocess.run(
            [chromium, "--headless", "--no-sandbox", "--disable-gpu",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--no-first-run", f"--user-data-dir={profile}", "--dump-dom", "file://" + path],
            capture_output=True, text=True, timeout=120)
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    assert r.returncode == 0, r.stderr
    return r.stdout


@pytest.mark.corpus
def test_batch_index_in_chromium(corpus):
    index = os.path.join(corpus.out, "index.html")
    with open(index) as f:
        html = f.read()
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//)""", html, re.I), \
        "the index refers to external assets"
    assert "<script" not in html.lower()
    dom = chromium_dom(index)
    rows = re.findall(r'<tr class="pkg v-([a-z]+)" id="pkg-([^"]+)">(.*?)</tr>', dom, re.S)
    assert len(rows) == 7, dom[:3000]
    ranks = [SEVERITY.index(v) for v, _, _ in rows]
    assert ranks == sorted(ranks), [v for v, _, _ in rows]
    got = by_line(corpus.summary)
    for verdict, key, row in rows:
        rec = next(r for r in got.values() if r["key"] == key)
        assert rec["verdict"] == verdict, (rec, row)
        links = re.findall(r'<a href="([^"]+)">', row)
        for href in links:
            assert os.path.exists(os.path.join(corpus.out, href)), (href, row)
        if rec["html"]:
            assert rec["html"] in links, row
    counts = re.search(r'<p class="counts">(.*?)</p>', dom, re.S).group(1)
    assert "2 violation" in counts and "3 error" in counts and "2 clean" in counts, counts
    assert re.search(r'<tr class="rule"><td><b>decoy-read</b></td><td class="n">1</td>', dom), dom
    # a link followed: the violating package's own report opens
    first = next(r for r in got.values() if r["verdict"] == "violation")
    report = chromium_dom(os.path.join(corpus.out, first["html"]))
    assert "Verdict: <b>violation</b>" in report, report[:2000]


# ---------------------------------------------------------------- cut short, resumed

def start_batch(pj, lst, out, *opts):
    return subprocess.Popen([pj.binary, "analyze", "--batch", lst, "--out", out, *opts],
                            env=pj.env(), cwd="/", stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def pkg_dir(out, name):
    found = [p for p in glob.glob(os.path.join(out, "pkgs", f"{name}*")) if os.path.isdir(p)]
    return found[0] if found else None


def test_batch_sigkill_then_rerun(pj, workdir):
    """A batch killed with SIGKILL while a package is in its jail: the
    finished package keeps its result, the cut one has none and leaves
    nothing on the host; the re-run does not touch the finished one and
    analyses the cut one (with --timeout 20: its sleep makes it a timeout,
    recorded as incomplete)."""
    d = workdir
    lst = write_list(d, [calm(d, "pjquick"), sleeper(d)], pj.user)
    out = os.path.join(d, "out")
    snap = host.Snapshot(pj.user.uid)
    before = analyze_dirs(pj.user.uid)
    p = start_batch(pj, lst, out, "--jobs", "2")
    try:
        wait_for(lambda: pkg_dir(out, "pjquick") and
                 os.path.exists(os.path.join(pkg_dir(out, "pjquick"), "result.json")),
                 600, "the quick package's result")
        # the sleeper's jail has started: its trace is being written
        wait_for(lambda: pkg_dir(out, "pjsleeper") and
                 os.path.exists(os.path.join(pkg_dir(out, "pjsleeper"), "trace.jsonl")),
                 600, "the sleeper's analysis")
        time.sleep(2)
        kids = children_of(out)
        assert kids, "no pipjail analyze child is running"
        p.kill()
        p.communicate()
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    wait_for(lambda: not children_of(out), 120, "the analyses to end after the batch's death")
    left = [x for k in kids for x in snap.leftovers(k)]
    assert not left, left
    assert analyze_dirs(pj.user.uid) <= before
    check_logs(out)
    quick, slow = pkg_dir(out, "pjquick"), pkg_dir(out, "pjsleeper")
    assert not os.path.exists(os.path.join(slow, "result.json"))
    done = stamps(out)
    assert list(done) == [os.path.join(quick, "result.json")], done

    res = batch(pj, lst, out, "--jobs", "2", "--timeout", "20")
    assert res.returncode == 0, res
    assert "1 with a result already, 1 to analyse" in res.stderr, res
    after = stamps(out)
    assert after[os.path.join(quick, "result.json")] == done[os.path.join(quick, "result.json")]
    r = load(os.path.join(slow, "result.json"))
    assert r["verdict"] == "incomplete" and r["exit"] == 124, r
    assert r["reason"].startswith("timeout"), r
    s = load(os.path.join(out, "summary.json"))
    check_summary(s, out)
    assert [x["verdict"] for x in s["packages"]] == ["clean", "incomplete"], s


def test_batch_sigterm_stops_without_results(pj, workdir):
    """SIGTERM (what Slurm's scancel sends): the batch stops its analyses,
    records none of them, writes the summary (the package pending) and
    exits 143; the stopped analysis's own report says incomplete, never
    clean."""
    d = workdir
    lst = write_list(d, [sleeper(d)], pj.user)
    out = os.path.join(d, "out")
    snap = host.Snapshot(pj.user.uid)
    p = start_batch(pj, lst, out, "--jobs", "1")
    try:
        wait_for(lambda: pkg_dir(out, "pjsleeper") and
                 os.path.exists(os.path.join(pkg_dir(out, "pjsleeper"), "trace.jsonl")),
                 600, "the sleeper's analysis")
        time.sleep(3)
        kids = children_of(out)
        p.send_signal(signal.SIGTERM)
        _, err = p.communicate(timeout=120)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    assert p.returncode == 143, err
    assert "stopping" in err and "cut short" in err, err
    left = [x for k in kids for x in snap.leftovers(k)] + snap.leftovers(p.pid)
    assert not left, left
    check_logs(out)
    slow = pkg_dir(out, "pjsleeper")
    assert not os.path.exists(os.path.join(slow, "result.json"))
    rep = load(os.path.join(slow, "report.json"))
    assert rep["verdict"] == "incomplete" and rep["incomplete"] is True, rep["verdict"]
    assert rep["exit"]["code"] == 143, rep["exit"]
    s = load(os.path.join(out, "summary.json"))
    check_summary(s, out)
    assert s["packages"][0]["verdict"] == "pending", s


# ---------------------------------------------------------------- two batches, one DIR

def test_two_batches_on_one_dir(pj, workdir):
    """Two batches of the same LIST on the same DIR at once (shards that
    overlap, a second submission): every package is analysed once, by one
    of them; then --merge as the user (no root) rebuilds the summary, and
    shows a package whose result is gone as pending."""
    d = workdir
    lines = [calm(d, f"pjtwin{i}") for i in range(3)]
    lst = write_list(d, lines, pj.user)
    out = os.path.join(d, "out")
    a = start_batch(pj, lst, out, "--jobs", "1")
    time.sleep(0.5)
    b = start_batch(pj, lst, out, "--jobs", "1")
    errs = []
    for p in (a, b):
        try:
            errs.append(p.communicate(timeout=BATCH_TIMEOUT)[1])
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
    assert a.returncode == 0 and b.returncode == 0, errs
    check_logs(out)
    assert not [m for m in SANITIZER_MARKS for e in errs if m in e], errs
    analysed = [int(re.search(r"\((\d+) analysed now\)", e).group(1)) for e in errs]
    assert sum(analysed) == 3, errs
    assert sum(len(re.findall(r"\] clean, exit 0", e)) for e in errs) == 3, errs
    assert len(stamps(out)) == 3
    full = load(os.path.join(out, "summary.json"))
    check_summary(full, out)
    assert [r["verdict"] for r in full["packages"]] == ["clean"] * 3

    gone = os.path.join(out, full["packages"][1]["result"])
    os.unlink(gone)
    r = runuser(pj.user, pj.binary, "analyze", "--merge", "--batch", lst, "--out", out)
    assert r.returncode == 0, r
    s = load(os.path.join(out, "summary.json"))
    check_summary(s, out)
    assert [x["verdict"] for x in s["packages"]] == ["clean", "pending", "clean"], s
    assert os.stat(os.path.join(out, "summary.json")).st_uid == pj.user.uid
    m = runuser(pj.user, MERGE, lst, out, env={"PIPJAIL": pj.binary})
    assert m.returncode == 0 and "2 of 3 packages complete" in m.stdout, m


# ---------------------------------------------------------------- options, terminal, usage

def test_batch_index_url_progress_and_retry(pj, workdir):
    """NAME==VERSION lines with --index-url (passed through to each
    analysis: pip reaches the index through the proxy); on a terminal the
    progress line counts done/total and shows an ETA; --retry-errors
    analyses the package whose result is an error again, and only it."""
    d = workdir
    dist = os.path.join(d, "dist")
    os.mkdir(dist)
    calm(dist, "pjfromindex")
    lst = write_list(d, ["pjfromindex==1.0", "pjnotthere==1.0"], pj.user)
    out = os.path.join(d, "out")
    with IndexServer(dist) as index:
        res = pj.run_pty("analyze", "--batch", lst, "--out", out, "--jobs", "2",
                         "--index-url", index.url, timeout=BATCH_TIMEOUT)
        assert any("pjfromindex" in p for p in index.paths()), index.paths()
    assert res.returncode == 0, res
    s = load(os.path.join(out, "summary.json"))
    check_summary(s, out)
    got = by_line(s)
    assert got["pjfromindex==1.0"]["verdict"] == "clean", got
    assert got["pjnotthere==1.0"]["verdict"] == "error", got
    r = load(os.path.join(out, got["pjfromindex==1.0"]["result"]))
    assert r["options"]["index_url"] == index.url, r
    assert re.search(r"pipjail: batch: 1/2 done, \d running, 0 with violations, ETA \d+m\d\ds",
                     res.stdout), res.stdout[-3000:]
    assert "\033[K" in res.stdout
    # --retry-errors: the error again, the clean one left as it is
    before = stamps(out)
    with IndexServer(dist) as index:
        res = batch(pj, lst, out, "--retry-errors", "--index-url", index.url)
    assert res.returncode == 0 and "1 with a result already, 1 to analyse" in res.stderr, res
    after = stamps(out)
    clean_res = os.path.join(out, got["pjfromindex==1.0"]["result"])
    error_res = os.path.join(out, got["pjnotthere==1.0"]["result"])
    assert after[clean_res] == before[clean_res] and after[error_res] != before[error_res]


@pytest.mark.parametrize("args,message", [
    (["--batch", "LIST"], "--out DIR are both needed"),
    (["--batch", "LIST", "--out", "OUT", "--shard", "2/2"], "--shard: expected I/N"),
    (["--batch", "LIST", "--out", "OUT", "--jobs", "0"], "--jobs 0"),
    (["--merge", "--batch", "LIST", "--out", "OUT", "--jobs", "2"], "--merge analyses nothing"),
    (["--batch", "LIST", "--out", "OUT", "extra.tar.gz"], "not from the command line"),
    (["--batch", "NOLIST", "--out", "OUT"], "NOLIST"),
], ids=["no-out", "shard", "jobs", "merge-jobs", "extra", "no-list"])
def test_batch_usage_errors(pj, workdir, args, message):
    lst = write_list(workdir, ["pjx==1.0"], pj.user)
    subst = {"LIST": lst, "OUT": os.path.join(workdir, "out"),
             "NOLIST": os.path.join(workdir, "nolist.txt")}
    res = pj.run("analyze", *[subst.get(a, a) for a in args])
    assert res.returncode == 125, res
    assert message.replace("NOLIST", subst["NOLIST"]) in res.stderr, res
    assert not os.path.exists(os.path.join(workdir, "out", "pkgs")), res


def test_analyze_help_names_the_batch(pj):
    """What scripts/slurm and test_slurm.py look for, without root."""
    r = runuser(pj.user, pj.binary, "analyze", "--help")
    assert r.returncode == 0, r
    for opt in ("--batch", "--shard", "--merge", "--jobs"):
        assert opt in r.stdout, r
