"""A one-node Slurm cluster for the tests, from Debian's packages (slurm-wlm,
munge), configured entirely in a temporary directory: its own slurm.conf,
munge key and socket, state, spool and log directories, ports chosen free
on 127.0.0.1, the node named after this host.  munged, slurmctld and slurmd
run in the foreground as children of the test, so that the fixture knows
their pids; at teardown every job is cancelled, the daemons are stopped,
whatever still carries the cluster's mark (slurmstepd, a job's processes)
is killed by pid, and the directory is removed.  The daemons also get
SIGTERM if the test process itself dies (PR_SET_PDEATHSIG).

Choices that work in this container (Debian 12, Slurm 22.05, cgroup v1
hybrid with the v2 hierarchy at /sys/fs/cgroup/unified):
  ProctrackType=proctrack/linuxproc, TaskPlugin=task/none (default here).
  proctrack/cgroup with task/cgroup works too (cgroup/v1), but it creates
  /sys/fs/cgroup/{freezer,cpuset,memory}/slurm_<node> on the host, left
  behind by slurmd, shared by two clusters with the same node name, and
  seen by the other tests' leftover checks: the fixture removes them only
  when it was the one that created them (cgroup=True).
  SelectType=select/cons_tres with CR_Core_Memory; root as SlurmUser and
  SlurmdUser; AuthType=auth/munge with AuthInfo=socket=<our munged>.
"""
import ctypes
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import pytest

SBIN = "/usr/sbin"
PACKAGES = ("slurm-wlm", "munge")
BINARIES = ("munged", "munge", "slurmctld", "slurmd", "sbatch", "squeue", "scontrol", "sinfo",
            "scancel")
SAFE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
MARK = "PIPJAIL_TEST_SLURM"   # in the daemons' environment, hence slurmstepd's
TERMINAL = {"COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "NODE_FAIL", "OUT_OF_MEMORY",
            "PREEMPTED", "BOOT_FAIL", "DEADLINE"}
PR_SET_PDEATHSIG = 1
CGROUP_V1 = ("freezer", "cpuset", "memory", "cpuacct", "devices")


class SlurmError(Exception):
    pass


def ensure_installed():
    """Install slurm-wlm and munge with apt-get when a binary is missing
    (scripts/deps.sh lists them too)."""
    if all(shutil.which(b, path=SAFE_PATH) for b in BINARIES):
        return
    if os.geteuid() != 0:
        raise SlurmError("slurm-wlm and munge are missing: run scripts/deps.sh as root")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive", PATH=SAFE_PATH)
    cmd = ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *PACKAGES]
    r = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if r.returncode != 0:
        subprocess.run(["apt-get", "update", "-qq"], env=env, capture_output=True)
        r = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if r.returncode != 0:
        raise SlurmError(f"apt-get install {' '.join(PACKAGES)} failed:\n{r.stdout}{r.stderr}")
    missing = [b for b in BINARIES if not shutil.which(b, path=SAFE_PATH)]
    if missing:
        raise SlurmError(f"installed {PACKAGES}, still missing: {missing}")


def free_ports(n):
    """n distinct TCP ports free on every address (slurmctld and slurmd bind
    the wildcard address), found by binding port 0."""
    socks, ports = [], []
    try:
        while len(ports) < n:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("", 0))
            socks.append(s)
            ports.append(s.getsockname()[1])
    finally:
        for s in socks:
            s.close()
    return ports


def node_hardware():
    """slurmd -C's node line without its NodeName: CPUs, sockets, cores,
    threads, RealMemory of this host."""
    r = subprocess.run([os.path.join(SBIN, "slurmd"), "-C"], capture_output=True, text=True,
                       env={"PATH": SAFE_PATH})
    line = next((ln for ln in r.stdout.splitlines() if ln.startswith("NodeName=")), None)
    if r.returncode != 0 or not line:
        raise SlurmError(f"slurmd -C failed ({r.returncode}): {r.stdout}{r.stderr}")
    return " ".join(f for f in line.split() if not f.startswith("NodeName="))


def parse_record(line):
    """One `scontrol -o show job` record as a dict (values may hold spaces
    only in fields we do not read)."""
    out = {}
    for m in re.finditer(r"(\w[\w:/]*)=(\S*)", line):
        out.setdefault(m.group(1), m.group(2))
    return out


class Cluster:
    """One-node Slurm in a temporary directory.  start(), then env() for
    the client commands (sbatch, squeue, scontrol...), stop() at the end."""

    def __init__(self, cgroup=False, base=None):
        self.cgroup = cgroup
        self.base = None
        self._base_parent = base
        self.node = socket.gethostname().split(".")[0]
        self.partition = "pjtest"
        self.procs = {}
        self.cg_created = []
        self.start_seconds = None
        self.stop_seconds = None

    # ------------------------------------------------------------ set up
    def _path(self, *p):
        return os.path.join(self.base, *p)

    def _write_config(self):
        ctld_port, slurmd_port = free_ports(2)
        self.ports = (ctld_port, slurmd_port)
        if self.cgroup:
            plugins = "ProctrackType=proctrack/cgroup\nTaskPlugin=task/cgroup\n"
        else:
            plugins = "ProctrackType=proctrack/linuxproc\nTaskPlugin=task/none\n"
        conf = f"""\
# written by tests/lib/slurm.py for one test session
ClusterName=pjtest
SlurmctldHost={self.node}(127.0.0.1)
SlurmctldPort={ctld_port}
SlurmdPort={slurmd_port}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket={self.munge_socket}
StateSaveLocation={self._path('state')}
SlurmdSpoolDir={self._path('spool')}
SlurmctldPidFile={self._path('run', 'slurmctld.pid')}
SlurmdPidFile={self._path('run', 'slurmd.pid')}
SlurmctldLogFile={self._path('log', 'slurmctld.log')}
SlurmdLogFile={self._path('log', 'slurmd.log')}
SlurmctldDebug=info
SlurmdDebug=info
{plugins}JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=256
ReturnToService=2
MinJobAge=3600
KillWait=5
InactiveLimit=0
SlurmdTimeout=60
NodeName={self.node} NodeAddr=127.0.0.1 {node_hardware()} State=UNKNOWN
PartitionName={self.partition} Nodes={self.node} Default=YES MaxTime=INFINITE State=UP
"""
        with open(self.conf, "w") as f:
            f.write(conf)
        if self.cgroup:
            with open(self._path("cgroup.conf"), "w") as f:
                f.write("CgroupPlugin=autodetect\nConstrainCores=yes\nConstrainRAMSpace=yes\n")

    @staticmethod
    def _die_with_us():
        """In the daemon, before exec: SIGTERM when the test process dies,
        so that a killed test run does not leave a cluster behind."""
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)

    def _spawn(self, name, argv):
        log = open(self._path("log", name + ".out"), "ab")
        env = {"PATH": SAFE_PATH, "LANG": "C.UTF-8", "SLURM_CONF": self.conf, MARK: self.base}
        try:
            self.procs[name] = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log,
                                                stderr=subprocess.STDOUT, env=env,
                                                cwd=self.base, start_new_session=True,
                                                preexec_fn=self._die_with_us)
        finally:
            log.close()

    def _log(self, name):
        out = []
        for fn in (name + ".out", name + ".log", "munged.log"):
            p = self._path("log", fn)
            if fn.startswith(name) and os.path.exists(p):
                with open(p, errors="replace") as f:
                    out.append(f"--- {fn}\n" + "".join(f.readlines()[-30:]))
        return "\n".join(out)

    def _alive(self, name):
        p = self.procs.get(name)
        if p is None or p.poll() is not None:
            raise SlurmError(f"{name} exited ({p.returncode if p else '?'}) during start-up:\n"
                             + self._log(name))

    def start(self, timeout=60):
        ensure_installed()
        t0 = time.monotonic()
        self.base = tempfile.mkdtemp(prefix="pjslurm.", dir=self._base_parent)
        # munged wants every directory up to its socket searchable by all,
        # and none writable by others.
        os.chmod(self.base, 0o755)
        for d, mode in (("munge", 0o700), ("run", 0o755), ("state", 0o700), ("spool", 0o755),
                        ("log", 0o755)):
            os.mkdir(self._path(d), mode)
        self.conf = self._path("slurm.conf")
        self.munge_socket = self._path("run", "munge.socket")
        key = self._path("munge", "munge.key")
        fd = os.open(key, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o400)
        os.write(fd, os.urandom(1024))
        os.close(fd)
        if self.cgroup:
            self.cg_before = {c: os.path.exists(f"/sys/fs/cgroup/{c}/slurm_{self.node}")
                              for c in CGROUP_V1}
        self._write_config()
        try:
            self._spawn("munged", [os.path.join(SBIN, "munged"), "--foreground",
                                   "--socket", self.munge_socket, "--key-file", key,
                                   "--log-file", self._path("log", "munged.log"),
                                   "--pid-file", self._path("run", "munged.pid"),
                                   "--seed-file", self._path("munge", "munged.seed")])
            self._wait(lambda: os.path.exists(self.munge_socket), 10, "munged's socket",
                       "munged")
            self._spawn("slurmctld", [os.path.join(SBIN, "slurmctld"), "-D", "-i",
                                      "-f", self.conf])
            self._spawn("slurmd", [os.path.join(SBIN, "slurmd"), "-D", "-f", self.conf,
                                   "-N", self.node])
            self._wait(lambda: self.node_state() == "idle", timeout, "the node to be idle",
                       "slurmctld", "slurmd")
        except BaseException:
            self.stop()
            raise
        self.start_seconds = time.monotonic() - t0
        return self

    def _wait(self, cond, timeout, what, *daemons):
        deadline = time.monotonic() + timeout
        while not cond():
            for d in daemons:
                self._alive(d)
            if time.monotonic() > deadline:
                raise SlurmError(f"timed out after {timeout}s waiting for {what}:\n"
                                 + "\n".join(self._log(d) for d in daemons))
            time.sleep(0.1)

    # ------------------------------------------------------------ use
    def env(self, extra=None):
        """An environment for Slurm's client commands (and for the jobs,
        which inherit the submitter's environment): SLURM_CONF and the mark."""
        env = {"PATH": SAFE_PATH, "LANG": "C.UTF-8", "HOME": "/root",
               "SLURM_CONF": self.conf, MARK: self.base}
        env.update(extra or {})
        return env

    def cmd(self, *argv, check=True, timeout=30):
        r = subprocess.run([str(a) for a in argv], env=self.env(), capture_output=True,
                           text=True, timeout=timeout, cwd="/")
        if check and r.returncode != 0:
            raise SlurmError(f"{' '.join(map(str, argv))} -> {r.returncode}\n{r.stdout}{r.stderr}")
        return r

    def node_state(self):
        r = self.cmd("sinfo", "-h", "-N", "-n", self.node, "-o", "%T", check=False, timeout=10)
        return r.stdout.strip() if r.returncode == 0 else None

    def jobs(self, jobid):
        """The records of job `jobid` (an array job: one per task, or one for
        the tasks not yet started, ArrayTaskId=2-3), as dicts."""
        r = self.cmd("scontrol", "-o", "show", "job", jobid, check=False)
        if r.returncode != 0:
            raise SlurmError(f"scontrol show job {jobid}: {r.stdout}{r.stderr}")
        return [parse_record(ln) for ln in r.stdout.splitlines() if ln.strip()]

    def wait_jobs(self, jobids, timeout):
        """Wait until every job (every task of an array) is in a terminal
        state; returns {jobid: [records]}."""
        deadline = time.monotonic() + timeout
        while True:
            recs = {j: self.jobs(j) for j in jobids}
            if all(r["JobState"] in TERMINAL for rs in recs.values() for r in rs):
                return recs
            if time.monotonic() > deadline:
                states = {j: [(r.get("ArrayTaskId"), r["JobState"], r.get("Reason"))
                              for r in rs] for j, rs in recs.items()}
                raise SlurmError(f"jobs not done after {timeout}s: {states}\n"
                                 + self._log("slurmctld") + self._log("slurmd"))
            time.sleep(0.25)

    # ------------------------------------------------------------ tear down
    def marked_pids(self):
        """Processes carrying this cluster's mark or its SLURM_CONF in their
        environment: the daemons, slurmstepd, and jobs submitted with env()."""
        own = os.getpid()
        needles = (f"{MARK}={self.base}\0".encode(), f"SLURM_CONF={self.conf}\0".encode())
        pids = []
        for e in os.listdir("/proc"):
            if not e.isdigit() or int(e) == own:
                continue
            try:
                with open(f"/proc/{e}/environ", "rb") as f:
                    envb = f.read()
                with open(f"/proc/{e}/stat") as f:
                    if f.read().rsplit(")", 1)[1].split()[0] == "Z":
                        continue
            except OSError:
                continue
            if any(n in envb for n in needles):
                pids.append(int(e))
        return pids

    def stop(self):
        if self.base is None:
            return
        t0 = time.monotonic()
        problems = []
        ctld = self.procs.get("slurmctld")
        if ctld and ctld.poll() is None:
            r = self.cmd("squeue", "-h", "-o", "%A", check=False)
            if r.stdout.split():
                self.cmd("scancel", "--partition", self.partition, check=False)
                end = time.monotonic() + 30
                while time.monotonic() < end and \
                        self.cmd("squeue", "-h", "-o", "%A", check=False).stdout.split():
                    time.sleep(0.2)
        for name in ("slurmd", "slurmctld", "munged"):
            p = self.procs.get(name)
            if p is None or p.poll() is not None:
                continue
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(20)
            except subprocess.TimeoutExpired:
                problems.append(f"{name} ignored SIGTERM for 20s: killed")
                p.kill()
                p.wait(5)
        left = self.marked_pids()
        for pid in left:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        end = time.monotonic() + 10
        while left and time.monotonic() < end:
            left = [p for p in left if os.path.exists(f"/proc/{p}")]
            time.sleep(0.1)
        if self.cgroup:
            for c, existed in self.cg_before.items():
                top = f"/sys/fs/cgroup/{c}/slurm_{self.node}"
                if existed or not os.path.isdir(top):
                    continue
                for dirpath, _, _ in sorted(os.walk(top), key=lambda w: -len(w[0])):
                    try:
                        os.rmdir(dirpath)
                    except OSError as e:
                        problems.append(f"rmdir {dirpath}: {e}")
        shutil.rmtree(self.base, ignore_errors=True)
        self.base = None
        self.stop_seconds = time.monotonic() - t0
        if left:
            problems.append(f"processes survived SIGKILL: {left}")
        if problems:
            raise SlurmError("; ".join(problems))


@pytest.fixture(scope="session")
def slurm_cluster():
    """A running one-node Slurm cluster (session-wide); stopped and removed
    at the end, nothing left running."""
    if os.geteuid() != 0:
        pytest.fail("the Slurm tests start slurmctld and slurmd and need root")
    c = Cluster()
    c.start()
    yield c
    c.stop()
