"""What a pipjail run may leave on the host: mounts, cgroups, temporary
directories, processes.  snapshot() before a run, leftovers() after it."""
import glob
import os
import re

CGROUP_ROOT = "/sys/fs/cgroup"
# systemd creates and removes these on its own.
SYSTEMD_SUFFIXES = (".scope", ".service", ".slice", ".mount", ".socket", ".swap")


def mounts():
    """The host's mount table, without the ids that differ between reads."""
    out = set()
    with open("/proc/self/mountinfo") as f:
        for line in f:
            fields = line.split()
            sep = fields.index("-")
            # root, mount point, fstype, source
            out.add((fields[3], fields[4], fields[sep + 1], fields[sep + 2]))
    return out


def cgroup_dirs():
    out = set()
    for top in sorted(glob.glob(CGROUP_ROOT + "/*")):
        if not os.path.isdir(top) or os.path.islink(top):
            continue
        for dirpath, dirnames, _ in os.walk(top):
            for d in dirnames:
                if not d.endswith(SYSTEMD_SUFFIXES):
                    out.add(os.path.join(dirpath, d))
    return out


def tmp_dirs():
    return set(glob.glob("/tmp/pipjail*"))


def processes_of(uid):
    """Pids of the live (non-zombie) processes whose real uid is uid."""
    pids = set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/status") as f:
                status = f.read()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        if fields.get("State", "").strip().startswith("Z"):
            continue
        if int(fields.get("Uid", "-1 ").split()[0]) == uid:
            pids.add(int(entry))
    return pids


def cmdline(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def processes_matching(text):
    return {int(p) for p in os.listdir("/proc")
            if p.isdigit() and int(p) != os.getpid() and text in cmdline(p)}


def _ours(path, pid):
    """Can this leftover be from the pipjail run with this pid?  Other
    pipjail runs (and other test suites) may run on the machine at the same
    time: names that carry another pipjail's pid ("pipjail.<pid>.<random>")
    are theirs; test fixtures of other suites ("pipjail-test-*") too."""
    base = os.path.basename(path)
    if base.startswith("pipjail-test"):
        return False
    m = re.match(r"pipjail[._-](\d+)\b", base)
    return not (m and pid is not None and int(m.group(1)) != pid)


class Snapshot:
    def __init__(self, uid=None):
        self.uid = uid
        self.mounts = mounts()
        self.cgroups = cgroup_dirs()
        self.tmp = tmp_dirs()
        self.procs = processes_of(uid) if uid is not None else set()

    def leftovers(self, pid=None):
        """A list of human-readable leftovers of the pipjail run with this
        pid (None: of any run); empty when the host is clean."""
        found = []
        for m in sorted(mounts() - self.mounts):
            found.append(f"mount left: {m[1]} ({m[2]} from {m[3]}, root {m[0]})")
        for d in sorted(cgroup_dirs() - self.cgroups):
            if "pipjail" in os.path.basename(d) and _ours(d, pid):
                found.append(f"cgroup left: {d}")
        for d in sorted(tmp_dirs() - self.tmp):
            if _ours(d, pid):
                found.append(f"temporary directory left: {d}")
        if self.uid is not None:
            for p in sorted(processes_of(self.uid) - self.procs):
                found.append(f"process left: {p} {cmdline(p)!r}")
        return found
