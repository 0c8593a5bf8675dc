"""`make bench`, the real-world section (issue 17): every project of the
real-world corpus (../shared/realworld, see its README.md), each installed
into a fresh venv as its README says a user would, with plain pip, with
pipjail (enforce mode, the default profile) and with `strace -f`; then one
pure-Python package (six) alone, plain pip against pipjail, more rounds.

Each run: a fresh venv (hard-linked copy, at the same path, of one `python3 -m venv
--system-site-packages` made there as the bench user at the start, as
tests/test_realworld.py does), an empty working directory of that user,
`sync`, then the timed command

    VENV/bin/pip install --no-index --no-build-isolation --no-cache-dir \\
        --find-links /usr/share/python-wheels ARCHIVE

as the user (plain, strace) or as `pipjail -v -- ...` for that user
(SUDO_UID).  Rounds: in each round the projects run in a shuffled order and,
for each project, the three modes in a shuffled order; a ratio is the
median over the rounds of (mode / plain of the same round).

Knobs: BENCH_ROUNDS (5), BENCH_SIX_ROUNDS (15), BENCH_REALWORLD (a comma
list of archive names, to run a few), PIPJAIL_REALWORLD (the corpus).
"""
import os
import random
import re
import shutil
import subprocess

from common import (PJ, REPO, SAFE_PATH, STRACE_ARGS, WHEELS, fmt, histogram_svg, log, med, met, run,
                    timing_of)

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "5"))
SIX_ROUNDS = int(os.environ.get("BENCH_SIX_ROUNDS", "15"))
MODES = ["plain", "enforce", "strace"]
# What a user must set to build an archive at all, with plain pip as with
# pipjail (tests/test_realworld.py: filelock's version comes from git).
PROJECT_ENV = {"filelock-3.9.0": {"SETUPTOOLS_SCM_PRETEND_VERSION": "3.9.0"}}
# The issue's targets, and why a target is not met where it is not (the
# measured figure stands in the table beside it; docs/benchmarks.md).
T_SET, T_PROJECT, T_SIX_MS, T_RSS_MIB = 1.05, 1.15, 150, 48
WHY = {"set": "", "six": "", "rss": ""}
# the steps of a run that pipjail -v times apart from the command itself
FIXED_STEPS = ("jail start", "import check", "bytecode check", "verdict+commit+cleanup",
               "profile+options", "staging+cgroup")


def corpus_dir():
    """PIPJAIL_REALWORLD, else shared/realworld beside the repository (or
    beside the directory of worktrees that holds it)."""
    if os.environ.get("PIPJAIL_REALWORLD"):
        return os.environ["PIPJAIL_REALWORLD"]
    up = os.path.dirname(REPO)
    for d in (up, os.path.dirname(up)):
        cand = os.path.join(d, "shared", "realworld")
        if os.path.isdir(cand):
            return cand
    return os.path.join(up, "shared", "realworld")


def canonical(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def projects(corpus):
    names = sorted(n[:-len(".tar.gz")] for n in os.listdir(corpus) if n.endswith(".tar.gz"))
    only = [n for n in (os.environ.get("BENCH_REALWORLD") or "").split(",") if n]
    return [n for n in names if not only or n in only]


def installed(venv, stem):
    """The project's own distribution is in the venv (dist-info or
    egg-info under its canonical name)."""
    want = canonical(stem.rsplit("-", 1)[0])
    for d in os.listdir(os.path.join(venv, "lib")):
        sp = os.path.join(venv, "lib", d, "site-packages")
        if not os.path.isdir(sp):
            continue
        for e in os.listdir(sp):
            if e.endswith((".dist-info", ".egg-info")) and canonical(e.split("-")[0]) == want:
                return True
    return False


class RealWorld:
    def __init__(self, b):
        self.b = b
        self.corpus = corpus_dir()
        self.base = b.path("rw-base")
        self.venv = b.path("rw-venv")
        self.cwd = b.path("rw-cwd")

    def prepare(self):
        # As the user, like the test, and at the path every run uses: a
        # venv's scripts name their interpreter by its absolute path, so a
        # copy elsewhere would install into the original.  Then kept aside.
        subprocess.run(self.b.as_user() + ["/usr/bin/python3", "-m", "venv",
                                           "--system-site-packages", self.venv],
                       check=True, cwd="/", env=self.b.user_env())
        os.rename(self.venv, self.base)
        self.base_listing = self.listing()

    def listing(self):
        out = []
        for root, dirs, files in os.walk(self.base):
            for f in files:
                st = os.lstat(os.path.join(root, f))
                out.append((root, f, st.st_size, st.st_mtime_ns))
        return sorted(out)

    def fresh(self):
        for p in (self.venv, self.cwd):
            shutil.rmtree(p, ignore_errors=True)
        subprocess.run(["cp", "-al", self.base, self.venv], check=True)
        os.mkdir(self.cwd, 0o755)
        os.chown(self.cwd, self.b.user.pw_uid, self.b.user.pw_gid)
        subprocess.run(["sync"], check=True)

    def argv(self, mode, stem):
        pip = [os.path.join(self.venv, "bin", "pip"), "install", "--no-index",
               "--no-build-isolation", "--no-cache-dir", "--find-links", WHEELS,
               os.path.join(self.corpus, stem + ".tar.gz")]
        extra = PROJECT_ENV.get(stem, {})
        if mode == "enforce":
            return [PJ, "-v", "--"] + pip, {**self.b.sudo_env(), **extra}
        env = [f"{k}={v}" for k, v in {**self.b.user_env(), **extra}.items()]
        strace = STRACE_ARGS + ["-o", self.b.path("rw-strace.out")] if mode == "strace" else []
        return self.b.as_user() + ["env", "-i"] + env + strace + pip, {"PATH": SAFE_PATH}

    def once(self, mode, stem):
        self.fresh()
        argv, env = self.argv(mode, stem)
        r = run(argv, env, rss=mode == "enforce", cwd=self.cwd)
        r["ok"] = r["rc"] == 0 and installed(self.venv, stem)
        r["timing"] = timing_of(r["stderr"])
        lines = [ln for ln in r["stderr"].strip().splitlines() if ln.strip()]
        r["last"] = (lines[-1] if lines else "")[:240]
        if r["rc"] == 0 and not r["ok"]:
            r["last"] = f"exit 0, but no {stem.rsplit('-', 1)[0]} dist-info in the venv"
        for k in ("stderr", "stdout"):
            r.pop(k)
        st = self.b.path("rw-strace.out")
        if os.path.exists(st):
            os.unlink(st)
        return r

    def bench(self):
        if not os.path.isdir(self.corpus):
            log(f"real-world: no corpus at {self.corpus} (PIPJAIL_REALWORLD): skipped")
            return {"missing": self.corpus}
        names = projects(self.corpus)
        self.prepare()
        # Warm-up (untimed): the page cache holds pip, the compilers, the corpus.
        for m in MODES:
            self.once(m, "six-1.16.0" if "six-1.16.0" in names else names[0])
        res = {n: {m: [] for m in MODES} for n in names}
        rng = random.Random(17)
        for rnd in range(ROUNDS):
            order = list(names)
            rng.shuffle(order)
            for n in order:
                ms = list(MODES)
                rng.shuffle(ms)
                for m in ms:
                    res[n][m].append(self.once(m, n))
                log(f"real-world round {rnd + 1}/{ROUNDS} {n}: " + ", ".join(
                    f"{m} {res[n][m][-1]['wall']:.2f}s{'' if res[n][m][-1]['ok'] else ' FAILED'}"
                    for m in MODES))
        six = {"plain": [], "enforce": []}
        if "six-1.16.0" in names:
            for rnd in range(SIX_ROUNDS):
                ms = ["plain", "enforce"]
                rng.shuffle(ms)
                for m in ms:
                    six[m].append(self.once(m, "six-1.16.0"))
            log("six: added " + fmt(med([e["wall"] - p["wall"] for p, e in
                                         zip(six["plain"], six["enforce"])]) * 1e3, ".0f") + " ms")
        shutil.rmtree(self.venv, ignore_errors=True)
        if self.listing() != self.base_listing:
            raise SystemExit("bench: the real-world base venv changed during the runs (a hard "
                             "link written in place?): its figures are not valid")
        return {"corpus": self.corpus, "projects": names, "runs": res, "six": six,
                "rounds": ROUNDS}


def ratios(runs, mode, key):
    """Per-round ratios of mode against the plain run of the same round
    (rounds where both succeeded)."""
    return [x[key] / p[key] for x, p in zip(runs[mode], runs["plain"])
            if x["ok"] and p["ok"] and p[key] > 0]


def failure(runs):
    """Why a project has no ratio: the first failed run of each mode."""
    out = []
    for m in MODES:
        bad = [x for x in runs[m] if not x["ok"]]
        if bad:
            out.append(f"{m} failed {len(bad)}/{len(runs[m])}: exit {bad[0]['rc']}: "
                       f"`{bad[0]['last'].replace('|', '/')}`")
    return "; ".join(out)


def six_why(ph, added):
    """Where the added time of six went, from pipjail -v's medians."""
    parts = [(k, med(ph[k])) for k in FIXED_STEPS if k in ph]
    if not parts:
        return ""
    known = sum(v for _, v in parts)
    return ("of the " + f"{added:.0f} ms, pipjail -v counts " +
            ", ".join(f"{k} {v:.0f} ms" for k, v in parts) +
            f"; the other {max(0.0, added - known):.0f} ms are pip itself running slower in the "
            "jail (the per-event cost: the monitor's programs on every call, the supervisor "
            "reading the ring buffer on the same CPUs)")


def set_why(r, per):
    """The set's reason: the fixed costs of a run against what pip itself
    lost in the jail, medians over the projects with a ratio."""
    fixed, added = [], []
    for n in per:
        runs = r["runs"][n]
        for e, p in zip(runs["enforce"], runs["plain"]):
            if not (e["ok"] and p["ok"]):
                continue
            t = e["timing"]
            fixed.append(sum(t.get(k, 0) for k in FIXED_STEPS))
            added.append((e["wall"] - p["wall"]) * 1e3)
    if not added:
        return ""
    return (f"per run, pipjail added {med(added):.0f} ms (median over the projects' runs), of "
            f"which the fixed steps pipjail -v counts (start-up, import check, staging, commit) "
            f"{med(fixed):.0f} ms; the rest is the build itself running slower in the jail "
            "(the monitor's programs on every call, the supervisor decoding events on the same "
            "2 CPUs), and the noise of a shared machine")


def worst_why(r, name):
    """The slowest project: how long plain pip takes and how much of the
    added time the fixed steps are."""
    runs = r["runs"][name]
    plain = med([p["wall"] for p in runs["plain"] if p["ok"]])
    added = med([(e["wall"] - p["wall"]) * 1e3 for e, p in zip(runs["enforce"], runs["plain"])
                 if e["ok"] and p["ok"]])
    fixed = med([sum(e["timing"].get(k, 0) for k in FIXED_STEPS) for e in runs["enforce"] if e["ok"]])
    if plain is None or added is None:
        return ""
    return (f"a short install (plain pip {plain:.2f} s): pipjail added {added:.0f} ms, of which "
            f"the fixed steps {fmt(fixed, '.0f')} ms; with {r['rounds']} rounds on a loaded "
            "machine, one slow run moves the median")


def report(rep, r):
    """Rows of the main table and the section's detail (report.Report)."""
    if not r:
        return
    if "missing" in r:
        rep.row("real-world", "the real-world set", "n/a", "", met(None, f"no corpus at {r['missing']}"))
        return
    lines = ["| project | plain wall | enforce | added | strace | plain CPU | enforce CPU | "
             "strace CPU | import check | peak RSS | status |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |"]
    per = {}
    rss_all = 0
    for n in r["projects"]:
        runs = r["runs"][n]
        w = {m: med(ratios(runs, m, "wall")) for m in ("enforce", "strace")}
        c = {m: med(ratios(runs, m, "cpu")) for m in ("enforce", "strace")}
        added = med([(e["wall"] - p["wall"]) * 1e3 for e, p in zip(runs["enforce"], runs["plain"])
                     if e["ok"] and p["ok"]])
        rss = max([x["rss_kib"] or 0 for x in runs["enforce"]] or [0])
        rss_all = max(rss_all, rss)
        imp = med([x["timing"].get("import check") for x in runs["enforce"]])
        bad = failure(runs)
        ok = w["enforce"] is not None and not bad
        if ok:
            per[n] = (w["enforce"], c["enforce"], w["strace"])
        status = "ok" if not bad else bad
        if ok and w["enforce"] > T_PROJECT:
            status = f"above {T_PROJECT:.2f}x"
        lines.append(
            f"| {n} | {fmt(med([p['wall'] for p in runs['plain'] if p['ok']]), '.2f')} s | "
            f"{fmt(w['enforce'], '.3f')}x | {fmt(added, '.0f')} ms | {fmt(w['strace'], '.3f')}x | "
            f"{fmt(med([p['cpu'] for p in runs['plain'] if p['ok']]), '.2f')} s | "
            f"{fmt(c['enforce'], '.3f')}x | {fmt(c['strace'], '.3f')}x | "
            f"{fmt(imp, '.0f')} ms | {rss / 1024:.1f} MiB | {status} |")
    rep.rw_chart_rows = [(n, v[0], v[2]) for n, v in per.items()]
    setw = med([v[0] for v in per.values()])
    setc = med([v[1] for v in per.values()])
    sets = med([v[2] for v in per.values()])
    worst = max(per.items(), key=lambda kv: kv[1][0]) if per else None
    nfail = len(r["projects"]) - len(per)
    why = WHY["set"] or set_why(r, per)
    rep.row("real-world", f"{len(per)} projects, median of enforce / plain pip (wall)",
            f"{fmt(setw, '.3f')}x", f"<= {T_SET:.2f}x",
            met(None if setw is None else setw <= T_SET, why))
    rep.row("real-world", "same, CPU (user+system of every process)", f"{fmt(setc, '.3f')}x",
            f"<= {T_SET:.2f}x", met(None if setc is None else setc <= T_SET,
                                    "as for wall time, above" if why else ""))
    if worst:
        rep.row("real-world", "the slowest project, enforce / plain pip (wall)",
                f"{worst[0]}: {worst[1][0]:.3f}x", f"<= {T_PROJECT:.2f}x",
                met(worst[1][0] <= T_PROJECT, worst_why(r, worst[0])))
    rep.row("real-world", "median of strace -f / plain pip (wall)", f"{fmt(sets, '.3f')}x",
            "(for comparison)", "")
    if nfail:
        rep.row("real-world", "projects without a ratio (a run failed)", str(nfail), "0",
                "NOT met: see the real-world table")
    rep.row("memory", "pipjail peak RSS, real-world set", f"{rss_all / 1024:.1f} MiB",
            f"<= {T_RSS_MIB} MiB", met(rss_all / 1024 <= T_RSS_MIB,
                                       WHY["rss"]))
    six = r.get("six") or {}
    pairs = [(p, e) for p, e in zip(six.get("plain", []), six.get("enforce", []))
             if p["ok"] and e["ok"]]
    six_txt = ""
    if pairs:
        added = med([(e["wall"] - p["wall"]) * 1e3 for p, e in pairs])
        added_cpu = med([(e["cpu"] - p["cpu"]) * 1e3 for p, e in pairs])
        ph = {}
        for _, e in pairs:
            for k, v in e["timing"].items():
                ph.setdefault(k, []).append(v)
        rep.row("six", "one pure-Python package (six): added wall time (median of pairs)",
                f"{added:.0f} ms", f"<= {T_SIX_MS} ms",
                met(added <= T_SIX_MS, WHY["six"] or six_why(ph, added)))
        rep.row("six", "... added CPU time", f"{added_cpu:.0f} ms", "", "")
        if "import check" in ph:
            rep.row("import", "import check of one distribution and the start-up probe, side by "
                    "side (six; pipjail -v)", f"{med(ph['import check']):.0f} ms", "", "")
        if "start-up probe" in ph:
            rep.row("import", "... of which the start-up probe (six; pipjail -v)",
                    f"{med(ph['start-up probe']):.0f} ms", "", "")
        six_txt = (
            f"\n\nsix alone, {len(pairs)} pairs (plain, enforce; shuffled in each pair): plain "
            f"{med([p['wall'] for p, _ in pairs]):.2f} s, pipjail "
            f"{med([e['wall'] for _, e in pairs]):.2f} s, added {added:.0f} ms wall, "
            f"{added_cpu:.0f} ms CPU (medians of the pairs). pipjail -v, medians: " +
            ", ".join(f"{k} {med(v):.0f}" + ("" if k == "checks at once" else " ms")
                      for k, v in ph.items()) + ".")
    at_once = [x["timing"]["checks at once"] for n in r["projects"] for x in r["runs"][n]["enforce"]
               if "checks at once" in x["timing"]]
    rep.row("import", "import check of a run: distributions checked in parallel, the "
            "interpreter's start-up paid once",
            f"up to {max(at_once):.0f} at once (the import checks and the start-up probe), one "
            "start-up per distribution" if at_once else "no run of this bench printed it",
            "parallel where cores allow",
            met(False, "parallel: met (as many at once as pipjail has CPUs); start-up once: not "
                       "done: each distribution's check starts the interpreter with the other "
                       "distributions' .pth code left out (so that what a .pth does lands on "
                       "its own distribution) and is attributed by the marker of its own "
                       "command line, which a process forked from a shared interpreter would "
                       "not have"))
    rep.detail.append(
        "## Real world (issue 17)\n\n"
        f"Every project of the real-world corpus (`{r['corpus']}`, release sources of real "
        "projects, see its README.md), each into a fresh venv (a hard-linked copy, at the same "
        "path, of one `python3 -m venv --system-site-packages` made there as the user) from an "
        "empty working "
        "directory, with the corpus' own command: `VENV/bin/pip install --no-index "
        "--no-build-isolation --no-cache-dir --find-links /usr/share/python-wheels ARCHIVE`. "
        "plain: pip as the user; enforce: `pipjail -v -- ...` (default profile, enforce mode); "
        "strace: `strace -f -e trace=file,network,process -o FILE` as the user. filelock gets "
        "SETUPTOOLS_SCM_PRETEND_VERSION=3.9.0 in every mode, as in tests/test_realworld.py. "
        f"{r['rounds']} rounds; in each the projects, and for each the three modes, run in a "
        "shuffled order, with `sync` before each run; a ratio is the median over the rounds of "
        "mode / plain of the same round; added is the median of enforce minus plain (wall). "
        "CPU is user+system of the command and every process it waited for. import check: the "
        "median of pipjail -v's `timing: import check`. Peak RSS: VmHWM of the pipjail process "
        "(the supervisor). A project with a failed run has no ratio: its status says which "
        "mode failed and how. The set's figure is the median over the projects of their "
        "ratios.\n\n" + "\n".join(lines) + six_txt + "\n\n"
        "![real-world set](bench-realworld.svg)\n")


def chart(rep, svg):
    """docs/bench-realworld.svg: per project, pipjail and strace -f against
    plain pip (wall, median of the rounds' ratios)."""
    rows = getattr(rep, "rw_chart_rows", None)
    if not rows:
        return False
    rounds = rep.r["realworld"]["rounds"]
    return histogram_svg(
        svg, f"real-world set: wall time against plain pip (median of {rounds} paired rounds)",
        "project enforce strace",
        [(n.rsplit("-", 1)[0], w, st if st is not None else 0) for n, w, st in rows],
        f'using 2:xtic(1) title "pipjail (enforce)", "" using 3 title "strace -f", \\\n'
        f'     {T_SET} with lines dashtype 2 lc rgb "red" title "target {T_SET:.2f}x", \\\n'
        f'     {T_PROJECT} with lines dashtype 3 lc rgb "black" title "no project above '
        f'{T_PROJECT:.2f}x"',
        size="960,440", font=11, xtics="nomirror rotate by -35")
