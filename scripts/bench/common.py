"""What every section of `make bench` shares: the knobs (environment),
running a command with its wall time, CPU and the supervisor's peak RSS,
reading pipjail's -v timing line and traces, medians, the machine line."""
import datetime
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time


HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
PJ = os.path.join(REPO, "pipjail")
SAFE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
WHEELS = "/usr/share/python-wheels"
STRACE_ARGS = ["strace", "-f", "-e", "trace=file,network,process"]
NS_ARGS = ["unshare", "--mount", "--pid", "--net", "--ipc", "--uts", "--cgroup", "--fork"]
TIMING_RE = re.compile(
    r"timing: profile\+options ([\d.]+) ms, staging\+cgroup ([\d.]+) ms, jail start ([\d.]+) ms "
    r"\(monitor load\+attach ([\d.]+) ms in parallel with building the jail ([\d.]+) ms\), "
    r"command \(incl\. mounts\) ([\d.]+) ms, verdict\+commit\+cleanup ([\d.]+) ms")
PHASES = ["profile+options", "staging+cgroup", "jail start", "monitor load+attach",
          "building the jail", "command (incl. mounts)", "verdict+commit+cleanup"]
MONITOR_RE = re.compile(r"monitor: loaded and attached in ([\d.]+) ms")
# the steps after the command (src/run/install.c, -v)
AFTER_RE = re.compile(
    r"timing: (import check|start-up probe|bytecode check|staging scan\+check) ([\d.]+) ms")
# how many of the import checks and the start-up probe ran at once (-v)
AT_ONCE_RE = re.compile(r"timing: import check [\d.]+ ms \(.*?(\d+) at once\)")

PAIRS = int(os.environ.get("BENCH_PAIRS", "5"))
STARTUP_ROUNDS = int(os.environ.get("BENCH_STARTUP_ROUNDS", "21"))
KILL_TRIES = int(os.environ.get("BENCH_KILL_TRIES", "120"))
MANY_FILES = int(os.environ.get("BENCH_MANY_FILES", "5000"))
STORM_SCALE = float(os.environ.get("BENCH_STORM_SCALE", "1"))
BATCH_PKGS = int(os.environ.get("BENCH_BATCH_PKGS", "8"))
BATCH_JOBS = (1, 2, 4)
SECTIONS = set((os.environ.get("BENCH_SECTIONS") or
                "install,realworld,startup,storm,concurrency,kill,proxy,batch").split(","))
MIB = 1024 * 1024


def log(msg):
    print(f"bench: {msg}", file=sys.stderr, flush=True)


def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def pct(xs, p):
    xs = sorted(x for x in xs if x is not None)
    if not xs:
        return None
    k = min(len(xs) - 1, max(0, int(round(p / 100.0 * (len(xs) - 1)))))
    return xs[k]


def fmt(x, spec=".2f", none="n/a"):
    return none if x is None else format(x, spec)


# ------------------------------------------------------------------ running

class RssWatch(threading.Thread):
    """Polls VmHWM of one pid (the pipjail supervisor itself, not its
    children) until stopped; keeps the last value read: VmHWM only grows."""

    def __init__(self, pid):
        super().__init__(daemon=True)
        self.pid, self.kib, self.stop = pid, None, threading.Event()

    def run(self):
        path = f"/proc/{self.pid}/status"
        while not self.stop.is_set():
            try:
                with open(path) as f:
                    for line in f:
                        if line.startswith("VmHWM:"):
                            self.kib = int(line.split()[1])
                            break
            except OSError:
                return
            self.stop.wait(0.01)


def run(argv, env, out_path=None, rss=False, cwd="/"):
    """Run argv; return wall seconds, CPU seconds of it and every child it
    waited for (rusage of wait4), exit status, peak RSS (optional), output."""
    out = open(out_path or os.devnull, "wb")
    err = tempfile.TemporaryFile()
    t0 = time.monotonic()
    p = subprocess.Popen(argv, env=env, stdout=out, stderr=err, cwd=cwd)
    w = None
    if rss:
        w = RssWatch(p.pid)
        w.start()
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.monotonic() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    if w:
        w.stop.set()
        w.join()
    out.close()
    err.seek(0)
    stderr = err.read().decode(errors="replace")
    err.close()
    stdout = ""
    if out_path:
        with open(out_path, "rb") as f:
            stdout = f.read(1 << 20).decode(errors="replace")
    return {"wall": wall, "cpu": ru.ru_utime + ru.ru_stime, "rc": p.returncode,
            "rss_kib": w.kib if w else None, "stderr": stderr, "stdout": stdout}


def timing_of(stderr):
    m = TIMING_RE.search(stderr)
    t = dict(zip(PHASES, map(float, m.groups()))) if m else {}
    m = MONITOR_RE.search(stderr)
    if m:
        t["monitor line"] = float(m.group(1))
    for m in AFTER_RE.finditer(stderr):
        t[m.group(1)] = float(m.group(2))
    m = AT_ONCE_RE.search(stderr)
    if m:
        t["checks at once"] = float(m.group(1))
    return t


def calls_in(trace, kind):
    """Calls of one kind a trace records: its lines of that kind, plus the
    calls that folded lines stand for ("repeat": N is N calls)."""
    tag = f'"kind":"{kind}"'.encode()
    lines = calls = 0
    errnos = set()
    rep = re.compile(rb'"repeat":(\d+)')
    ern = re.compile(rb'"errno":("[A-Z0-9]+"|null)')
    with open(trace, "rb") as f:
        for line in f:
            if tag in line and line.startswith(b'{"type":"event"'):
                lines += 1
                if len(errnos) < 4:
                    m = ern.search(line)
                    errnos.add(m.group(1).decode().strip('"') if m else "-")
                m = rep.search(line) if b'"repeat"' in line else None
                calls += int(m.group(1)) if m else 1
    return lines, calls, sorted(errnos)


def summary_of(trace):
    """The summary line (last line) of a trace, or None."""
    try:
        with open(trace, "rb") as f:
            f.seek(0, 2)
            size = f.tell()
            f.seek(max(0, size - 65536))
            last = f.read().rstrip(b"\n").rsplit(b"\n", 1)[-1]
        s = json.loads(last)
        return s if s.get("type") == "summary" else None
    except (OSError, ValueError):
        return None

# ---------------------------------------------------------------- report

def machine():
    def first(path, key):
        try:
            with open(path) as f:
                for line in f:
                    if line.startswith(key):
                        return line.split(":", 1)[1].strip()
        except OSError:
            pass
        return "?"
    mem_kib = int(first("/proc/meminfo", "MemTotal").split()[0])
    rev = subprocess.run(["git", "-C", REPO, "rev-parse", "--short", "HEAD"],
                         capture_output=True, text=True).stdout.strip() or "?"
    # the files a run writes itself (docs/) do not make the tree measured dirty
    dirty = subprocess.run(["git", "-C", REPO, "status", "--porcelain", "--untracked-files=no",
                            "--", ".", ":!docs"], capture_output=True, text=True).stdout.strip()
    pyver = subprocess.run(["/usr/bin/python3", "--version"], capture_output=True,
                           text=True).stdout.strip()
    return {"nproc": os.cpu_count(), "mem": f"{mem_kib / MIB:.1f} GiB",
            "cpu": first("/proc/cpuinfo", "model name"), "kernel": platform.release(),
            "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "rev": rev + (" (+ uncommitted changes)" if dirty else ""),
            "python": pyver, "strace": subprocess.run(["strace", "-V"], capture_output=True,
                                                       text=True).stdout.split("\n")[0]}


def met(ok, reason=""):
    if ok is None:
        return "not measured" + (f": {reason}" if reason else "")
    return "met" if ok else "NOT met" + (f": {reason}" if reason else "")


def histogram_svg(svg, title, header, rows, plots, size="860,420", font=12, xtics="nomirror"):
    """A clustered histogram of ratios against plain pip, drawn by gnuplot
    into svg: header names the data columns, rows are (label, values...),
    plots the gnuplot plot clauses after the data's own (columns from 2).
    True when gnuplot drew it."""
    data = svg + ".dat"
    with open(data, "w") as f:
        f.write(header + "\n")
        for label, *vals in rows:
            f.write(f"\"{label}\" " + " ".join(f"{v:.4f}" for v in vals) + "\n")
    gp = f"""
set terminal svg size {size} dynamic font "sans,{font}" background rgb "white"
set output "{svg}"
set title "{title}"
set ylabel "x plain pip"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set yrange [0:*]
set grid ytics
set key top left
set xtics {xtics}
plot "{data}" {plots}
"""
    r = subprocess.run(["gnuplot"], input=gp, text=True, capture_output=True)
    os.unlink(data)
    if r.returncode != 0:
        log(f"gnuplot failed: {r.stderr.strip()}")
        return False
    return True
