"""pipjail on a Slurm cluster (scripts/slurm/): a LIST becomes a job array of
`pipjail analyze --batch --shard I/N` tasks and a merge job that runs after
all of them.  The cluster is a real one-node Slurm started by the test from
Debian's packages (tests/lib/slurm.py).

test_array_runs_every_shard_then_merge runs the scripts with a stand-in for
pipjail (PIPJAIL=a small script that writes each package's result files),
so that it checks the scripts and the scheduling, not the analysis.
test_slurm_batch_matches_local runs the real pipjail over attack and benign
packages and compares with a local --batch run (skipped for a pipjail
without `analyze --batch`)."""
import json
import os
import subprocess
import time

import pytest

from lib.pj import REPO
from lib.fixtures import attack_sdist
from lib.sdist import make_sdist
from lib.slurm import Cluster, slurm_cluster  # noqa: F401  (slurm_cluster: the fixture)

SUBMIT = os.path.join(REPO, "scripts", "slurm", "submit.sh")
MERGE = os.path.join(REPO, "scripts", "slurm", "merge.sh")

# The stand-in for pipjail: what the array's tasks and the merge job run.
# It follows the interface of `pipjail analyze --batch` (docs/fleet.md) and
# records who ran what, and when, in OUT/runs/.
FAKE_PIPJAIL = r'''#!/usr/bin/python3
import hashlib, json, os, re, socket, sys, time

def die(msg):
    print("fake-pipjail: " + msg, file=sys.stderr)
    sys.exit(125)

args = sys.argv[1:]
if not args or args[0] != "analyze":
    die("expected analyze, got %r" % args)
opts, i = {}, 1
while i < len(args):
    a = args[i]
    if a == "--merge":
        opts["merge"] = True; i += 1
    elif a in ("--batch", "--out", "--jobs", "--shard"):
        if i + 1 >= len(args):
            die(a + " needs a value")
        opts[a[2:]] = args[i + 1]; i += 2
    else:
        die("unknown option " + a)
if "batch" not in opts or "out" not in opts:
    die("--batch LIST and --out DIR are required: %r" % args)
out = opts["out"]
entries = []
with open(opts["batch"]) as f:
    for line in f:
        s = line.strip()
        if s and not s.startswith("#"):
            entries.append(s)
runs = os.path.join(out, "runs")
os.makedirs(runs, exist_ok=True)
job = os.environ.get("SLURM_JOB_ID", "local")
task = os.environ.get("SLURM_ARRAY_TASK_ID")

def write(path, obj):
    tmp = "%s.tmp%d" % (path, os.getpid())
    with open(tmp, "w") as f:
        json.dump(obj, f)
    os.rename(tmp, path)

def key(line):
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", os.path.basename(line))[:40]
    return safe + "-" + hashlib.sha256(line.encode()).hexdigest()[:8]

def merge():
    """summary.json and index.html from every complete package"""
    pkgs = os.path.join(out, "pkgs")
    recs = []
    for k in sorted(os.listdir(pkgs)) if os.path.isdir(pkgs) else []:
        p = os.path.join(pkgs, k, "result.json")
        if os.path.exists(p):
            with open(p) as f:
                recs.append(json.load(f))
    write(os.path.join(out, "summary.json"), {"packages": recs})
    tmp = os.path.join(out, "index.html.tmp%d" % os.getpid())
    with open(tmp, "w") as f:
        f.write("<html><body>%d packages</body></html>\n" % len(recs))
    os.rename(tmp, os.path.join(out, "index.html"))
    return recs

start = time.time()
if opts.get("merge"):
    recs = merge()
    write(os.path.join(runs, "merge-%s.json" % job),
          {"job": job, "start": start, "end": time.time(), "packages": len(recs)})
    sys.exit(0)

n_shards, shard = 1, 0
if "shard" in opts:
    m = re.fullmatch(r"(\d+)/(\d+)", opts["shard"])
    if not m or int(m.group(1)) >= int(m.group(2)):
        die("--shard I/N: got %r" % opts["shard"])
    shard, n_shards = int(m.group(1)), int(m.group(2))
done, skipped = [], []
for idx, line in enumerate(entries):
    if idx % n_shards != shard:
        continue
    d = os.path.join(out, "pkgs", key(line))
    if os.path.exists(os.path.join(d, "result.json")):
        skipped.append(idx)
        continue
    os.makedirs(d, exist_ok=True)
    for name in ("report.json", "trace.jsonl", "report.html"):
        with open(os.path.join(d, name), "w") as f:
            f.write("{}\n")
    time.sleep(0.3)
    write(os.path.join(d, "result.json"),
          {"line": line, "index": idx, "verdict": "clean", "job": job, "task": task})
    done.append(idx)
write(os.path.join(runs, "task-%s-%s.json" % (job, task)),
      {"job": job, "task": task, "shard": opts.get("shard"), "jobs": opts.get("jobs"),
       "host": socket.gethostname(), "start": start, "end": time.time(),
       "done": done, "skipped": skipped})
merge()
sys.exit(100 if any("evil" in entries[i] for i in done) else 0)
'''


def fake_pipjail(d):
    path = os.path.join(d, "fake-pipjail")
    with open(path, "w") as f:
        f.write(FAKE_PIPJAIL)
    os.chmod(path, 0o755)
    return path


def write_list(d, lines, name="list.txt"):
    path = os.path.join(d, name)
    with open(path, "w") as f:
        f.write("".join(line + "\n" for line in lines))
    return path


def submit(cluster, *args, env=None, cwd):
    r = subprocess.run([SUBMIT, *map(str, args)], env=cluster.env(env), cwd=cwd,
                       capture_output=True, text=True, timeout=120)
    return r


def job_ids(r):
    ids = dict(line.split() for line in r.stdout.splitlines() if line.strip())
    assert set(ids) == {"array", "merge"} and all(v.isdigit() for v in ids.values()), r.stdout
    return ids["array"], ids["merge"]


def slurm_time(s):
    return time.mktime(time.strptime(s, "%Y-%m-%dT%H:%M:%S"))


def read_runs(out):
    runs = os.path.join(out, "runs")
    tasks, merges = [], []
    for n in sorted(os.listdir(runs)):
        with open(os.path.join(runs, n)) as f:
            (merges if n.startswith("merge-") else tasks).append(json.load(f))
    return tasks, merges


# ---------------------------------------------------------------- the fixture

def test_cluster_stop_leaves_nothing(slurm_cluster, tmp_path):
    """A second cluster beside the session's (its own ports and files):
    stopped with a job still running, it leaves no daemon, no slurmstepd,
    no job process and no file, and the session's cluster still works."""
    c = Cluster().start()
    base, ports = c.base, c.ports
    assert ports != slurm_cluster.ports and base != slurm_cluster.base
    daemons = [p.pid for p in c.procs.values()]
    r = c.cmd("sbatch", "--parsable", "--mem=100M", "-o", "/dev/null", "--wrap", "sleep 600")
    job = r.stdout.strip()
    deadline = time.monotonic() + 30
    while c.jobs(job)[0]["JobState"] != "RUNNING":
        assert time.monotonic() < deadline, c.jobs(job)
        time.sleep(0.2)
    running = c.marked_pids()
    assert len(running) > len(daemons), running   # slurmstepd and the job's sleep
    c.stop()
    print(f"\nslurm: cluster start {c.start_seconds:.2f}s, stop with a running job "
          f"{c.stop_seconds:.2f}s")
    assert not os.path.exists(base)
    alive = [p for p in running if os.path.exists(f"/proc/{p}") and
             open(f"/proc/{p}/stat").read().rsplit(")", 1)[1].split()[0] != "Z"]
    assert alive == [], alive
    assert slurm_cluster.node_state() == "idle"


# ---------------------------------------------------------------- input checks

BAD_INPUT = [
    ("missing", None, "LIST", "no such file"),
    ("empty", ["# only a comment", "", "   "], "", "names no package"),
    ("bad-line", ["pkg==1.0", "/nonexistent/evil-1.0.tar.gz"], "",
     "list.txt:2: /nonexistent/evil-1.0.tar.gz: no such readable file"),
    ("bad-per-task", ["pkg==1.0"], "--per-task 0", "expected a positive whole number"),
    ("bad-mem", ["pkg==1.0"], "--mem lots", "expected a size"),
    ("outdir-is-file", ["pkg==1.0"], "OUTFILE", "is not a directory"),
    ("array-option", ["pkg==1.0"], "SBATCH --array=1-9", "submit.sh sets it"),
]


@pytest.mark.parametrize("case,lines,how,message", BAD_INPUT, ids=[c[0] for c in BAD_INPUT])
def test_submit_rejects_bad_input(tmp_path, case, lines, how, message):
    """Bad input is refused with a message naming the problem, exit 2, and
    nothing is submitted (sbatch is a recorder here: it must not be called)."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    calls = tmp_path / "sbatch-calls"
    for tool in ("sbatch", "squeue", "scontrol"):
        p = bindir / tool
        p.write_text(f"#!/bin/sh\necho {tool} \"$@\" >> {calls}\necho 999\n")
        p.chmod(0o755)
    lst = str(tmp_path / "list.txt")
    if lines is not None:
        write_list(str(tmp_path), lines)
    out = str(tmp_path / "out")
    pre, post = [], []
    if how.startswith("--"):
        pre = how.split()
    elif how == "OUTFILE":
        out = str(tmp_path / "afile")
        open(out, "w").close()
    elif how.startswith("SBATCH"):
        post = how.split()[1:]
    env = {"PATH": f"{bindir}:/usr/bin:/bin", "LANG": "C.UTF-8", "PIPJAIL": "/bin/true"}
    r = subprocess.run([SUBMIT, *pre, lst, out, *post], env=env, cwd=str(tmp_path),
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)
    assert message in r.stderr, r.stderr
    assert r.stdout == ""
    assert not calls.exists() or "sbatch" not in calls.read_text(), calls.read_text()


# ---------------------------------------------------------------- the array

def test_array_runs_every_shard_then_merge(slurm_cluster, tmp_path):
    """10 packages at 3 a task: a 4-task array, one task at a time
    (--max-running 1), so that a CPU of the 2-CPU node is free all along and
    a merge job not held by its dependency would start at once.  Each task
    runs the stand-in on its own shard with --jobs = its CPUs, every package
    is done exactly once by the task whose shard holds it, the merge job
    starts only after the last task ended and sees all 10; a second
    submission while the first is queued is refused."""
    c = slurm_cluster
    d = str(tmp_path)
    os.chmod(d, 0o755)
    fake = fake_pipjail(d)
    pkgs = [f"pkg{i}==1.{i}" for i in range(9)] + ["evil-1.0.tar.gz  # a local archive"]
    open(os.path.join(d, "evil-1.0.tar.gz"), "wb").close()
    lst = write_list(d, ["# ten packages", *pkgs[:5], "", *pkgs[5:]])
    out = os.path.join(d, "out")
    env = {"PIPJAIL": fake}

    t0 = time.monotonic()
    r = submit(c, "--per-task", 3, "--cpus-per-task", 1, "--mem", "200M", "--time", "5",
               "--merge-time", "5", "--max-running", 1, lst, out, env=env, cwd=d)
    assert r.returncode == 0, r.stderr
    array, merge = job_ids(r)
    assert "10 packages in 4 tasks of up to 3" in r.stderr, r.stderr

    again = submit(c, lst, out, env=env, cwd=d)
    assert again.returncode == 2 and array in again.stderr and merge in again.stderr, again.stderr
    assert "still queued or running" in again.stderr

    recs = c.wait_jobs([array, merge], timeout=120)
    turnaround = time.monotonic() - t0
    print(f"\nslurm: 4-task array (one at a time) + merge turnaround {turnaround:.1f}s "
          f"(cluster start {c.start_seconds:.1f}s)")

    tasks = recs[array]
    assert sorted(int(t["ArrayTaskId"]) for t in tasks) == [0, 1, 2, 3], tasks
    for t in tasks:
        assert t["JobState"] == "COMPLETED" and t["ExitCode"] == "0:0", t
    (m,) = recs[merge]
    assert m["JobState"] == "COMPLETED" and m["ExitCode"] == "0:0", m
    assert slurm_time(m["StartTime"]) >= max(slurm_time(t["EndTime"]) for t in tasks), \
        (m["StartTime"], [t["EndTime"] for t in tasks])

    runs, merges = read_runs(out)
    assert sorted(int(x["task"]) for x in runs) == [0, 1, 2, 3], runs
    task_job = {t["ArrayTaskId"]: t["JobId"] for t in tasks}
    for x in runs:
        i = int(x["task"])
        assert x["job"] == task_job[x["task"]], (x, task_job)
        assert x["shard"] == f"{i}/4" and x["jobs"] == "1", x
        assert x["done"] == [k for k in range(10) if k % 4 == i] and x["skipped"] == [], x
    spans = sorted((x["start"], x["end"]) for x in runs)
    assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:])), f"tasks overlapped: {spans}"
    (mg,) = merges
    assert mg["job"] == merge and mg["packages"] == 10, mg
    assert mg["start"] >= max(x["end"] for x in runs), (mg, runs)

    with open(os.path.join(out, "summary.json")) as f:
        summary = json.load(f)
    assert sorted(p["index"] for p in summary["packages"]) == list(range(10))
    # the task that analysed evil-1.0.tar.gz exited 100 (found something):
    # the task counts as done, not failed
    assert any(p["line"].startswith("evil-1.0.tar.gz") for p in summary["packages"])
    logs = sorted(os.listdir(os.path.join(out, "slurm")))
    assert logs == sorted([f"{array}_{i}.out" for i in range(4)] + [f"merge-{merge}.out"]), logs
    with open(os.path.join(out, "slurm", f"merge-{merge}.out")) as f:
        assert "10 of 10 packages complete" in f.read()


def test_merge_by_hand(tmp_path):
    """merge.sh alone: runs `pipjail analyze --merge --batch LIST --out DIR`
    and says how much of LIST is complete."""
    d = str(tmp_path)
    fake = fake_pipjail(d)
    lst = write_list(d, ["a==1", "# c", "b==2", "c==3"])
    out = os.path.join(d, "out")
    env = {"PATH": "/usr/bin:/bin", "PIPJAIL": fake}
    r = subprocess.run([fake, "analyze", "--batch", lst, "--out", out, "--shard", "0/2"],
                       env=env, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    r = subprocess.run([MERGE, lst, out], env=env, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert "2 of 3 packages complete" in r.stdout, r.stdout
    assert "1 package(s) have no result yet" in r.stderr, r.stderr
    with open(os.path.join(out, "summary.json")) as f:
        assert len(json.load(f)["packages"]) == 2
    r = subprocess.run([MERGE, lst, os.path.join(d, "nowhere")], env=env, capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 2 and "is not a directory" in r.stderr, r.stderr


# ---------------------------------------------------------------- the real thing

def batch_supported(binary):
    """Whether this pipjail has `analyze --batch` (and --shard, --merge)."""
    r = subprocess.run([binary, "analyze", "--help"], capture_output=True, text=True,
                       timeout=30)
    text = r.stdout + r.stderr
    return r.returncode == 0 and all(o in text for o in ("--batch", "--shard", "--merge"))


ATTACK_CASES = ["secrets_aws", "env_token_url", "persist_pth_setup"]


def summary_by_line(path):
    """{LIST line: (verdict, exit, {rule: count})} from a summary.json
    (docs/report-format.md)."""
    with open(path) as f:
        data = json.load(f)
    return {r["line"]: (r["verdict"], r["exit"], r["violations_by_rule"])
            for r in data["packages"]}


def slurm_logs(out):
    logs = os.path.join(out, "slurm")
    text = ""
    for n in sorted(os.listdir(logs)):
        with open(os.path.join(logs, n), errors="replace") as f:
            text += f"--- {n}\n{f.read()[-3000:]}"
    return text


def result_stamps(out):
    stamps = {}
    pkgs = os.path.join(out, "pkgs")
    for k in os.listdir(pkgs):
        if not os.path.isdir(os.path.join(pkgs, k)):
            continue   # <key>.lock: the batch's lock on the package
        st = os.stat(os.path.join(pkgs, k, "result.json"))
        stamps[k] = (st.st_ino, st.st_mtime_ns)
    return stamps


@pytest.mark.corpus
def test_slurm_batch_matches_local(pj, slurm_cluster, workdir):
    """Attack and benign packages and a corrupt archive, analysed by a local
    `pipjail analyze --batch` and through Slurm (submit.sh: a 3-task array,
    then the merge): the same verdicts, exits and violations per package;
    submitting the same LIST and OUTDIR again redoes nothing."""
    if not batch_supported(pj.binary):
        pytest.skip("pipjail analyze --batch is not implemented yet (the C side of issue 18)")
    c = slurm_cluster
    d = workdir
    lines = [attack_sdist(d, n) for n in ATTACK_CASES]
    lines.append(make_sdist(d, "calmpkg", "1.0", {"calmpkg/__init__.py": "VALUE = 42\n"}))
    lines.append(make_sdist(d, "plainmod", "2.0", {"plainmod.py": "def f():\n    return 1\n"}))
    corrupt = os.path.join(d, "corrupt-1.0.tar.gz")
    with open(corrupt, "wb") as f:
        f.write(b"\x1f\x8b\x08\x00 this is not a gzip stream")
    lines.append(corrupt)
    lst = write_list(d, ["# attack, benign and corrupt packages", *lines])
    for root, dirs, files in os.walk(d):
        for n in dirs + files:
            os.lchown(os.path.join(root, n), pj.user.uid, pj.user.gid)

    local = os.path.join(d, "local")
    res = pj.run("analyze", "--batch", lst, "--out", local, "--jobs", "2", timeout=1800)
    assert res.returncode in (0, 100), res
    want = summary_by_line(os.path.join(local, "summary.json"))
    assert set(want) == set(lines), want

    out = os.path.join(d, "slurm")
    os.mkdir(out)
    os.chown(out, pj.user.uid, pj.user.gid)
    env = dict(pj.env(), PIPJAIL=pj.binary)   # the jobs inherit SUDO_UID...: as the local run
    opts = ["--per-task", 2, "--cpus-per-task", 1, "--mem", "4G", "--time", "30"]
    r = submit(c, *opts, lst, out, env=env, cwd=d)
    assert r.returncode == 0, r.stderr
    array, merge = job_ids(r)
    recs = c.wait_jobs([array, merge], timeout=1800)
    bad = [t for t in recs[array] + recs[merge]
           if t["JobState"] != "COMPLETED" or t["ExitCode"] != "0:0"]
    assert not bad, (bad, slurm_logs(out))
    got = summary_by_line(os.path.join(out, "summary.json"))
    assert got == want
    assert os.path.getsize(os.path.join(out, "index.html")) > 0

    # resume: nothing is complete-and-redone
    before = result_stamps(out)
    assert len(before) == len(lines), before
    r = submit(c, *opts, lst, out, env=env, cwd=d)
    assert r.returncode == 0, r.stderr
    array, merge = job_ids(r)
    recs = c.wait_jobs([array, merge], timeout=600)
    assert all(t["JobState"] == "COMPLETED" for t in recs[array] + recs[merge]), recs
    assert result_stamps(out) == before
    assert summary_by_line(os.path.join(out, "summary.json")) == want
