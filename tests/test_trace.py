"""The event trace (issue 3), read back and checked field by field.

build/helpers/actions performs a fixed list of known actions in the jail
(tests/helpers/actions.c); each must appear in the trace with the right
fields and result.  Then: trace-check on a good and a corrupted copy, a
ring buffer too small for a storm of events (the loss is counted, the run
is incomplete, exit 102), two jails at once (each trace holds only its own
processes), and a real pip install that a reader can follow process by
process.  Format: docs/trace-format.md."""
import datetime
import json
import os
import secrets
import threading

import pytest

from lib import host, pyproj
from lib.pj import helper, runuser
from lib.sdist import make_sdist

COMMON = ("t_mono", "t_wall", "pid", "tid", "ppid", "hpid", "htid", "hppid", "uid", "gid",
          "comm", "exe")
MISSING = "/nonexistent-pipjail/missing-file"
LONG_NAME = ("exfiltrated-0123456789abcdef0123456789abcdef-data.a-rather-long-label-for-tests"
             ".pipjail-test.example")
ACTION_LINES = ("open-decoy", "open-missing", "scratch", "exec-echo", "connect", "dns",
                "exit7", "memfd", "ptrace")


def wall(s):
    return datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
        tzinfo=datetime.timezone.utc).timestamp()


def user_dir(session_dir, user, name):
    d = os.path.join(session_dir, f"{name}.{secrets.token_hex(4)}")
    os.mkdir(d, 0o755)
    os.chown(d, user.uid, user.gid)
    return d


# ---------------------------------------------------------------- the actions run

class ActionsRun:
    """One run of `actions` with --trace, shared by the tests below."""

    def __init__(self, pj, session_dir):
        self.dir = user_dir(session_dir, pj.user, "actions")
        self.helper = helper("actions", self.dir)
        self.decoy = os.path.join(pj.user.home, ".ssh", "id_rsa")
        self.trace_path = os.path.join(self.dir, "t.jsonl")
        self.result = pj.run("--trace", self.trace_path, "--", self.helper, self.decoy, "/tmp",
                             cwd=self.dir)
        self.trace = pyproj.read_trace(self.trace_path)
        self.events = pyproj.events(self.trace)
        execs = [e for e in self.events if e["kind"] == "exec" and e.get("path") == self.helper]
        assert len(execs) == 1, f"exec of {self.helper} not traced once\n{self.result}"
        self.exec = execs[0]
        self.hpid = self.exec["hpid"]
        self.pid = self.exec["pid"]
        # the helper's own events (not its children's)
        self.mine = [e for e in self.events if e["hpid"] == self.hpid]

    def of_kind(self, kind, **fields):
        return [e for e in self.mine if e["kind"] == kind
                and all(e.get(k) == v for k, v in fields.items())]


@pytest.fixture(scope="module")
def actions(pj, session_dir):
    return ActionsRun(pj, session_dir)


def test_actions_ran_and_each_action_behaved(actions):
    r = actions.result
    # The helper reads a decoy and tries the network: violations of the
    # default profile's pip role (which only reports), so exit 100.
    assert r.returncode == 100, str(r)
    for name in ACTION_LINES:
        assert f"{name} ok" in r.stdout, f"action {name} did not behave\n{r}"


def test_every_event_carries_the_common_fields(actions, test_user):
    assert actions.events, "no event in the trace"
    for e in actions.events:
        missing = [f for f in COMMON if f not in e]
        assert not missing, f"event without {missing}: {e}"
        assert isinstance(e["t_mono"], float) and e["t_mono"] > 0, e
        assert isinstance(e["comm"], str) and 0 < len(e["comm"]) <= 15, e
        for f in ("pid", "tid", "ppid", "hpid", "htid", "hppid", "uid", "gid"):
            assert isinstance(e[f], int) and e[f] >= 0, e
    # everything the helper itself did: its ids, its program
    for e in actions.mine:
        assert e["pid"] == actions.pid and e["tid"] == actions.pid, e
        assert e["uid"] == test_user.uid and e["gid"] == test_user.gid, e
        assert e["comm"] == "actions", e
        assert e["exe"] == actions.helper, e
    assert actions.pid > 0 and actions.pid < 100, actions.exec  # a jail pid
    assert actions.hpid != actions.pid, actions.exec


def test_t_wall_is_t_mono_on_the_wall_clock(actions):
    h = pyproj.header(actions.trace)
    offset = wall(h["start_wall"]) - h["start_mono"]
    for e in actions.events:
        assert abs(wall(e["t_wall"]) - (e["t_mono"] + offset)) < 0.001, e
        assert e["t_mono"] >= h["start_mono"] - 0.001, e
    s = pyproj.summary(actions.trace)
    assert s["t_mono"] >= max(e["t_mono"] for e in actions.events), s


def test_header(actions, test_user):
    h = pyproj.header(actions.trace)
    assert actions.trace[0][0] == 1 and h["type"] == "header", h
    assert h["format"] == "pipjail-trace" and h["format_version"] == 1, h
    assert h["kernel"] == os.uname().release, h
    assert h["argv"] == [actions.helper, actions.decoy, "/tmp"], h
    assert isinstance(h["options"], dict) and h["options"], h
    assert all(isinstance(v, str) for v in h["options"].values()), h
    assert h["options"].get("buffer_mb") == "16", h
    assert isinstance(h["cgroup_id"], int) and h["cgroup_id"] > 0, h
    assert isinstance(h["start_mono"], float), h
    # the decoys of this run: the decoy file the helper read has its token
    with open(actions.trace_path) as f:
        text = f.read()
    decoys = h.get("decoys")
    assert decoys and all(d.get("token") for d in decoys), h
    assert any(d["where"] == "~/.ssh/id_rsa" for d in decoys), h
    # a token of this run appears in the trace only in the header
    for d in decoys:
        assert text.count(d["token"]) == 1, f"token of {d['where']} outside the header"


def test_exec_of_the_helper(actions):
    e = actions.exec
    assert e["argv"] == [actions.helper, actions.decoy, "/tmp"], e
    assert e["argv_truncated"] is False, e
    assert e["abs"] == actions.helper and e["file"] == actions.helper, e
    assert e["cwd"] == os.path.dirname(actions.helper), e
    assert isinstance(e["ino"], int) and e["ino"] == os.stat(actions.helper).st_ino, e
    st = os.stat(actions.helper)
    assert e["dev"] == f"{os.major(st.st_dev)}:{os.minor(st.st_dev)}", e


def test_open_of_the_decoy(actions):
    opens = actions.of_kind("open", path=actions.decoy)
    assert len(opens) == 1, opens
    e = opens[0]
    assert e["abs"] == actions.decoy and e["file"] == actions.decoy, e
    assert e["syscall"] in ("open", "openat") and isinstance(e["nr"], int), e
    assert set(e["flags"].split("|")) >= {"O_RDONLY", "O_CLOEXEC"}, e
    assert "O_WRONLY" not in e["flags"] and "O_CREAT" not in e["flags"], e
    assert isinstance(e["ret"], int) and e["ret"] >= 3 and e["errno"] is None, e
    assert isinstance(e["ino"], int) and ":" in e["dev"], e
    assert "mode" not in e, e  # no O_CREAT: no mode


def test_failed_open_of_a_missing_file(actions):
    opens = actions.of_kind("open", path=MISSING)
    assert len(opens) == 1, opens
    e = opens[0]
    assert e["abs"] == MISSING, e
    assert e["ret"] == -1 and e["errno"] == "ENOENT", e
    assert "file" not in e and "ino" not in e, e


def test_scratch_file_operations(actions):
    d = "/tmp/d"
    mk = actions.of_kind("mkdir", path="d")
    assert len(mk) == 1 and mk[0]["abs"] == d and mk[0]["mode"] == "0755" and mk[0]["ret"] == 0, mk
    creat = actions.of_kind("open", path="d/f")
    assert len(creat) == 1, creat
    c = creat[0]
    assert c["abs"] == d + "/f" and c["file"] == d + "/f", str(c)
    assert set(c["flags"].split("|")) >= {"O_WRONLY", "O_CREAT", "O_EXCL"}, str(c)
    assert c["mode"] == "0600" and c["ret"] >= 3, str(c)
    ren = actions.of_kind("rename", path="d/f")
    assert len(ren) == 1, ren
    assert ren[0]["abs"] == d + "/f" and ren[0]["path2"] == "d/g" and ren[0]["abs2"] == d + "/g", ren
    sym = actions.of_kind("symlink", path="d/l")
    assert len(sym) == 1 and sym[0]["target"] == "g" and sym[0]["abs"] == d + "/l", sym
    ch = actions.of_kind("chmod", path="d/g")
    assert len(ch) == 1 and ch[0]["mode"] == "0640" and ch[0]["abs"] == d + "/g", ch
    # openat(dirfd of d, "l"): named as the link, the file reached is d/g
    via = actions.of_kind("open", path="l")
    assert len(via) == 1, via
    assert via[0]["abs"] == d + "/l" and via[0]["file"] == d + "/g", via
    for path in ("d/l", "d/g"):
        u = actions.of_kind("unlink", path=path)
        assert len(u) == 1 and u[0]["abs"] == "/tmp/" + path and u[0]["ret"] == 0, u
    rm = actions.of_kind("rmdir", path="d")
    assert len(rm) == 1 and rm[0]["abs"] == d and rm[0]["ret"] == 0, rm
    cd = actions.of_kind("chdir", path="/tmp")
    assert len(cd) == 1 and cd[0]["ret"] == 0, cd


def test_fork_and_exec_of_echo_with_three_arguments(actions):
    echo = [e for e in actions.events if e["kind"] == "exec" and e.get("path") == "/bin/echo"]
    assert len(echo) == 1, echo
    e = echo[0]
    assert e["argv"] == ["echo", "one", "two", "three"], e
    assert e["abs"] == "/bin/echo", e
    assert e["file"] == os.path.realpath("/bin/echo") and e["exe"] == e["file"], e
    assert e["comm"] == "echo" and e["cwd"] == "/tmp", e
    assert e["ppid"] == actions.pid and e["hppid"] == actions.hpid, e
    forks = actions.of_kind("fork", child_hpid=e["hpid"])
    assert len(forks) == 1, forks
    f = forks[0]
    assert f["child_pid"] == e["pid"] and f["child_tid"] == e["pid"], f
    assert f["child_htid"] == e["hpid"] and f["thread"] is False, f
    assert f["t_mono"] <= e["t_mono"], (f, e)
    exits = [x for x in actions.events if x["kind"] == "exit" and x["hpid"] == e["hpid"]]
    assert len(exits) == 1 and exits[0]["exit_code"] == 0 and exits[0]["thread"] is False, exits


def test_connect_to_the_discard_port(actions):
    c = actions.of_kind("connect", port=9)
    assert len(c) == 1, str(c)
    e = c[0]
    assert e["family"] == "AF_INET" and e["addr"] == "127.0.0.1", e
    assert e["ret"] == -1 and e["errno"] in ("ECONNREFUSED", "EACCES"), e
    sockets = actions.of_kind("socket", family="AF_INET")
    assert any(s["sock_type"].startswith("SOCK_STREAM") for s in sockets), sockets


def test_dns_query_to_port_53(actions):
    sends = actions.of_kind("send", port=53)
    assert len(sends) == 1, sends
    e = sends[0]
    assert e["addr"] == "127.0.0.1" and e["family"] == "AF_INET", e
    assert e["dns_query"] == LONG_NAME and e["dns_qtype"] == "A", e
    assert e["syscall"] == "sendto", e
    assert e.get("addr_from_socket") is not True, e
    assert any(s["sock_type"].startswith("SOCK_DGRAM") for s in actions.of_kind("socket")), \
        actions.of_kind("socket")


def test_child_exiting_with_7(actions):
    forks = actions.of_kind("fork")
    children = {f["child_hpid"] for f in forks}
    exits = [x for x in actions.events if x["kind"] == "exit" and x["hpid"] in children
             and x.get("exit_code") == 7]
    assert len(exits) == 1, [x for x in actions.events if x["kind"] == "exit"]
    x = exits[0]
    assert x["exe"] == actions.helper and x["ppid"] == actions.pid, x  # forked, never exec'd
    assert x["thread"] is False and "signal" not in x, x
    # the helper's own exit
    mine = actions.of_kind("exit")
    assert len(mine) == 1 and mine[0]["exit_code"] == 0, mine


def test_memfd_create(actions):
    m = actions.of_kind("memfd")
    assert len(m) == 1, m
    e = m[0]
    assert e["name"] == "pipjail-memfd" and e["flags"] == "MFD_CLOEXEC", e
    # a memfd is in no directory: named as /proc/PID/fd shows it, never as a file
    assert e["pseudo"] == "memfd:pipjail-memfd" and "file" not in e, e
    assert e["ret"] >= 3 and e["errno"] is None, e


def test_ptrace_is_refused_and_recorded(actions):
    refused = actions.of_kind("seccomp_refused", syscall="ptrace")
    assert len(refused) == 1, refused
    e = refused[0]
    assert e["refused"] is True and e["ret"] == -1 and e["errno"] == "EPERM", e
    assert e["request"] == "PTRACE_ATTACH" and e["nr"] == 101, e
    assert e["target_pid"] == actions.exec["ppid"], e  # the helper's parent, in jail pids
    assert isinstance(e["args"], list) and len(e["args"]) == 6 and e["args"][0] == 16, e
    assert not actions.of_kind("ptrace"), "a refused ptrace must not look like one that ran"


def test_summary_matches_the_lines(actions):
    s = pyproj.summary(actions.trace)
    assert s["type"] == "summary", s
    kinds = {}
    for e in actions.events:
        kinds[e["kind"]] = kinds.get(e["kind"], 0) + 1
    assert s["events"] == len(actions.events), s
    assert s["by_kind"] == kinds, s
    assert s["notes"] == len(pyproj.notes(actions.trace)), s
    assert s["lost"] == 0 and s["verdict"] == "complete", s
    assert s["exit"] == {"status": "exited", "code": 0}, s
    h = pyproj.header(actions.trace)
    assert abs(s["duration_s"] - (s["t_mono"] - h["start_mono"])) < 0.001, s
    types = [o["type"] for _, o in actions.trace]
    assert types.count("header") == 1 and types.count("summary") == 1, types[:3]
    assert set(types) <= {"header", "event", "note", "summary"}, set(types)


def test_trace_check_accepts_the_trace_and_prints_the_summary(pj, actions):
    r = pj.run("trace-check", actions.trace_path)
    assert r.returncode == 0, str(r)
    s = pyproj.summary(actions.trace)
    out = r.stdout + r.stderr
    assert "valid" in out and f"{len(actions.trace)} lines" in out, str(r)
    assert f"events:    {s['events']}" in out or f"{s['events']} (" in out, str(r)
    assert "lost:      0" in out and "complete" in out, str(r)


def test_trace_check_rejects_a_broken_line_naming_it(pj, actions):
    d = os.path.dirname(actions.trace_path)
    with open(actions.trace_path) as f:
        lines = f.readlines()
    broken = os.path.join(d, "broken.jsonl")
    lines[4] = lines[4][: len(lines[4]) // 2] + "\n"   # line 5 cut in the middle
    with open(broken, "w") as f:
        f.writelines(lines)
    r = pj.run("trace-check", broken)
    assert r.returncode == 125, str(r)
    assert "line 5" in r.stderr and "broken.jsonl" in r.stderr, str(r)
    # a valid JSON line that breaks the schema: the kind of an event removed
    with open(actions.trace_path) as f:
        lines = f.readlines()
    obj = json.loads(lines[4])
    assert obj["type"] in ("event", "note"), obj
    del obj["kind"]
    lines[4] = json.dumps(obj) + "\n"
    with open(broken, "w") as f:
        f.writelines(lines)
    r = pj.run("trace-check", broken)
    assert r.returncode == 125, str(r)
    assert "line 5" in r.stderr and "kind" in r.stderr, str(r)
    # a trace cut short (no summary)
    with open(actions.trace_path) as f:
        lines = f.readlines()
    with open(broken, "w") as f:
        f.writelines(lines[:-1])
    r = pj.run("trace-check", broken)
    assert r.returncode == 125, str(r)
    # a summary that does not match the events
    with open(actions.trace_path) as f:
        lines = f.readlines()
    s = json.loads(lines[-1])
    s["events"] += 1
    lines[-1] = json.dumps(s) + "\n"
    with open(broken, "w") as f:
        f.writelines(lines)
    r = pj.run("trace-check", broken)
    assert r.returncode == 125, str(r)
    assert f"line {len(lines)}" in r.stderr or "events" in r.stderr, str(r)


# ---------------------------------------------------------------- loss

STORM = 100000
STORM_PREFIX = "/nonexistent-pipjail-storm/" + "x" * 3000 + "-"
# Every path differs: identical failed lookups in a row are folded in the
# kernel into one line with a count (docs/trace-format.md, Folded lookups),
# distinct ones never are.
STORM_CODE = (f"import os\np = {STORM_PREFIX!r}\n"
              f"for i in range({STORM}):\n"
              "    try:\n        os.open(p + str(i), os.O_RDONLY)\n"
              "    except OSError:\n        pass\n")


def storm_calls(trace):
    """Calls of the storm the trace accounts for (a line with `repeat`
    stands for that many calls)."""
    return sum(e.get("repeat", 1) for e in pyproj.events(trace)
               if e["kind"] == "open" and e.get("path", "").startswith(STORM_PREFIX))


def test_tiny_buffer_loses_events_counts_them_and_exits_102(pj, session_dir):
    d = user_dir(session_dir, pj.user, "storm")
    trace = os.path.join(d, "t.jsonl")
    report = os.path.join(d, "r.json")
    # 100000 opens of a 3000-byte path, as fast as Python goes: far more
    # than a 1 MiB ring buffer holds between two reads.
    r = pj.run("--buffer-mb", "1", "--trace", trace, "--report", report, "--",
               "/usr/bin/python3", "-c", STORM_CODE, timeout=300)
    assert r.returncode == 102, str(r)
    assert "incomplete" in r.stderr and "lost" in r.stderr, str(r)
    assert "clean" not in r.stderr.replace("cannot be called clean", ""), str(r)
    t = pyproj.read_trace(trace)
    s = pyproj.summary(t)
    assert s["lost"] > 0 and s["verdict"] == "incomplete", s
    assert pyproj.header(t)["options"]["buffer_mb"] == "1", pyproj.header(t)
    recorded = storm_calls(t)
    assert recorded < STORM, "nothing was lost: the storm is too small to test loss"
    # recorded + lost = what happened (the other calls of the run are few)
    assert STORM <= recorded + s["lost"] <= STORM + 2000, (recorded, s)
    # every recorded storm open is whole (no half-written records)
    for e in pyproj.events(t):
        if e["kind"] == "open" and e.get("path", "").startswith(STORM_PREFIX):
            assert e["errno"] == "ENOENT" and e.get("truncated") is not True, e
            assert int(e["path"][len(STORM_PREFIX):]) < STORM, e
    c = pj.run("trace-check", trace)
    assert c.returncode == 0 and "incomplete" in c.stdout + c.stderr, str(c)
    with open(report) as f:
        rep = json.load(f)
    assert rep["verdict"] == "incomplete" and rep["incomplete"] is True, rep
    assert rep["lost"] == s["lost"] and rep["exit"]["code"] == 102, rep


def test_tiny_buffer_with_a_small_run_loses_nothing(pj, session_dir):
    # Benign twin: the same 1 MiB buffer, 200 opens: complete, exit 0.
    d = user_dir(session_dir, pj.user, "calm")
    trace = os.path.join(d, "t.jsonl")
    code = STORM_CODE.replace(f"range({STORM})", "range(200)")
    r = pj.run("--buffer-mb", "1", "--trace", trace, "--", "/usr/bin/python3", "-c", code)
    assert r.returncode == 0, str(r)
    t = pyproj.read_trace(trace)
    s = pyproj.summary(t)
    assert s["lost"] == 0 and s["verdict"] == "complete", s
    assert storm_calls(t) == 200
    paths = {e["path"] for e in pyproj.events(t) if e["kind"] == "open"
             and e.get("path", "").startswith(STORM_PREFIX)}
    assert len(paths) == 200, "a distinct path is missing from the trace"


def test_identical_failed_lookups_are_counted_exactly(pj, session_dir):
    # 1000 opens of one missing path: folded or not, the trace accounts
    # for every call.
    d = user_dir(session_dir, pj.user, "fold")
    trace = os.path.join(d, "t.jsonl")
    code = STORM_CODE.replace(f"range({STORM})", "range(1000)").replace("p + str(i)", "p + 'same'")
    r = pj.run("--trace", trace, "--", "/usr/bin/python3", "-c", code)
    assert r.returncode == 0, str(r)
    t = pyproj.read_trace(trace)
    assert pyproj.summary(t)["lost"] == 0, pyproj.summary(t)
    assert storm_calls(t) == 1000
    c = pj.run("trace-check", trace)
    assert c.returncode == 0, str(c)


def test_buffer_mb_must_be_a_power_of_two(pj):
    r = pj.run("--buffer-mb", "3", "--", "true")
    assert r.returncode == 125 and "power of two" in r.stderr, str(r)


# ---------------------------------------------------------------- two jails at once

def test_two_concurrent_jails_each_trace_only_its_own_processes(pj, session_dir):
    d = user_dir(session_dir, pj.user, "pair")
    markers = {k: f"pjmark-{k}-{secrets.token_hex(6)}" for k in "ab"}
    results = {}
    # Each run's own leftover check would take the other jail's processes
    # (same user) for its leftovers: one check around both.
    snap = host.Snapshot(pj.user.uid)

    def run(k):
        script = (f'i=0; while [ $i -lt 60 ]; do cat /nonexistent-pipjail/{markers[k]} '
                  '2>/dev/null; sleep 0.02; i=$((i+1)); done; true')
        try:
            results[k] = pj.run("--trace", os.path.join(d, f"{k}.jsonl"), "--", "/bin/sh", "-c",
                                script, timeout=120, check_leftovers=False)
        except Exception as e:  # reported below, in the test's thread
            results[k] = e

    threads = [threading.Thread(target=run, args=(k,)) for k in "ab"]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for k in "ab":
        assert not isinstance(results[k], Exception), results[k]
        pj.check_run(results[k], snap)   # sanitizer reports; what this run left
    traces = {}
    for k in "ab":
        assert results[k].returncode == 0, str(results[k])
        traces[k] = pyproj.read_trace(os.path.join(d, f"{k}.jsonl"))
    ev = {k: pyproj.events(traces[k]) for k in "ab"}
    # they really ran at the same time
    span = {k: (min(e["t_mono"] for e in ev[k]), max(e["t_mono"] for e in ev[k])) for k in "ab"}
    assert span["a"][0] < span["b"][1] and span["b"][0] < span["a"][1], \
        f"the two jails did not overlap: {span}"
    hpids = {k: {e["hpid"] for e in ev[k]} | {e["child_hpid"] for e in ev[k] if e["kind"] == "fork"}
             for k in "ab"}
    assert not hpids["a"] & hpids["b"], f"processes in both traces: {hpids['a'] & hpids['b']}"
    assert pyproj.header(traces["a"])["cgroup_id"] != pyproj.header(traces["b"])["cgroup_id"]
    for k, other in (("a", "b"), ("b", "a")):
        mine = [e for e in ev[k] if e["kind"] == "open" and markers[k] in e.get("path", "")]
        assert len(mine) == 60, f"trace {k} has {len(mine)} opens of its marker"
        with open(os.path.join(d, f"{k}.jsonl")) as f:
            assert markers[other] not in f.read(), f"trace {k} holds jail {other}'s opens"
        assert pyproj.summary(traces[k])["lost"] == 0


# ---------------------------------------------------------------- a real pip install

def test_pip_install_trace_can_be_followed(pj, session_dir, test_user):
    d = user_dir(session_dir, test_user, "pipinstall")
    dist = os.path.join(d, "dist")
    os.mkdir(dist)
    value = secrets.token_hex(6)
    make_sdist(dist, "traced-pkg", "1.0", {"traced_pkg/__init__.py": f"VALUE = {value!r}\n"})
    venv = pyproj.copy_venv(pyproj.base_venv(session_dir, test_user), os.path.join(d, "venv"),
                            test_user)
    pyproj.chown_tree(d, test_user)
    trace = os.path.join(d, "t.jsonl")
    r = pj.run("--trace", trace, "--", *pyproj.pip_args(venv, dist), "traced-pkg", timeout=600)
    assert r.returncode == 0, str(r)
    out = runuser(test_user, f"{venv}/bin/python", "-c", "import traced_pkg; print(traced_pkg.VALUE)")
    assert out.stdout.strip() == value, str(out)
    t = pyproj.read_trace(trace)
    ev = pyproj.events(t)
    s = pyproj.summary(t)
    assert s["lost"] == 0 and s["verdict"] == "complete", s
    # Every process can be followed: each one (but the jail's init) was
    # created by a fork recorded in the trace, by a process of the trace.
    forked = {e["child_hpid"]: e for e in ev if e["kind"] == "fork"}
    procs = {e["hpid"] for e in ev}
    init = [e for e in ev if e["ppid"] == 0 and e["pid"] == 1]
    assert init, "no event of the jail's init"
    for hpid in procs - {init[0]["hpid"]}:
        if hpid in forked:
            continue
        first = min((e for e in ev if e["hpid"] == hpid), key=lambda e: e["t_mono"])
        assert first["pid"] == 0, f"process {hpid} appears without a fork: {first}"
    for child, f in forked.items():
        if not f["thread"]:
            assert f["hpid"] in procs, f
    # every exec'd program has an exit
    exited = {e["hpid"] for e in ev if e["kind"] == "exit" and not e["thread"]}
    for e in ev:
        if e["kind"] == "exec":
            assert e["hpid"] in exited, f"no exit for {e['argv']}"
    # pip, then the build of the package with its hooks
    pip_execs = [e for e in ev if e["kind"] == "exec" and e.get("role") == "pip"]
    assert pip_execs and pip_execs[0]["argv"][:3] == [f"{venv}/bin/python", "-m", "pip"], pip_execs[:1]
    packages = pyproj.notes(t, "package")
    mine = [n for n in packages if n["package"] == "traced-pkg" or n["package"] == "traced_pkg"]
    assert mine, f"no package note for traced-pkg: {packages}"
    hooks = {n["hook"] for n in mine}
    assert "build_wheel" in hooks, hooks
    for n in mine:
        assert n["version"] == "1.0" and n["source_dir"].startswith("/tmp/pip-"), n
        builds = [e for e in ev if e["kind"] == "exec" and e["hpid"] == n["hpid"]]
        assert len(builds) == 1, n
        b = builds[0]
        assert b["role"] == "build" and b["hook"] == n["hook"], b
        assert b["package"] == n["package"], b
        assert "_in_process.py" in " ".join(b["argv"]), b
    # the build of the wheel: its processes, files and results are there,
    # attributed to the package and hook
    bw = next(n for n in mine if n["hook"] == "build_wheel")
    started = next(e for e in ev if e["kind"] == "exec" and e["hpid"] == bw["hpid"])["t_mono"]
    tree = {bw["hpid"]}
    for e in sorted(ev, key=lambda e: e["t_mono"]):
        if e["kind"] == "fork" and e["hpid"] in tree and e["t_mono"] >= started:
            tree.add(e["child_hpid"])
    # from the hook's exec on (before it, the forked child was still pip)
    build_events = [e for e in ev if e["hpid"] in tree and e["t_mono"] >= started]
    stray = [e for e in build_events
             if e.get("package") != bw["package"] or e.get("hook") != "build_wheel"]
    assert not stray, stray[:3]
    written = [e for e in build_events if e["kind"] == "open" and "O_CREAT" in e.get("flags", "")]
    assert any(e["abs"].endswith(".whl") for e in written) or \
        any(e["kind"] == "rename" and e.get("abs2", "").endswith(".whl") for e in build_events), \
        "the wheel written by build_wheel is not in the trace"
    assert any(e["kind"] == "open" and e.get("abs", "").endswith("traced_pkg/__init__.py")
               for e in build_events), "the build's read of its source is not in the trace"
    # and pip installing it into the venv
    site = pyproj.site_packages(venv)
    assert any(e["kind"] == "open" and e.get("role") == "pip"
               and e.get("abs", "").startswith(site + "/traced_pkg/") for e in ev), \
        "pip's write of the package into the venv is not in the trace"
