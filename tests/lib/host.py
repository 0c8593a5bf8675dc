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


def _status(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            return dict(line.split(":", 1) for line in f.read().splitlines() if ":" in line)
    except OSError:
        return {}


def _pipjail_cgroup_pids(pid):
    """The pids N of the pipjail.<N>.* cgroups this process is in (any
    hierarchy, v1 or v2)."""
    try:
        with open(f"/proc/{pid}/cgroup") as f:
            text = f.read()
    except OSError:
        return set()
    return {int(n) for n in re.findall(r"/pipjail\.(\d+)\.", text)}


def process_is_ours(p, pid, new):
    """Can the new process p be a leftover of the pipjail run with this pid
    (None: of any run)?  Other engineers' test runs and benchmarks run as
    the same user at the same time; a process is theirs, provably, when
    it sits in another pipjail's cgroup (pipjail.<other pid>.*), or when it
    still has a live ancestor that is neither init nor a process new since
    the snapshot (a leftover of ours is an orphan: pipjail, its only link
    to us, has exited).  Anything else counts as ours: the check stays as
    strict as before for every process that could have come from this run."""
    if pid is None:
        return True
    cg = _pipjail_cgroup_pids(p)
    if pid in cg:
        return True
    if cg:
        return False
    seen = set()
    q = p
    while q > 1 and q not in seen:
        seen.add(q)
        fields = _status(q)
        if not fields:
            return True  # raced with its exit: judge it as ours
        ppid = int(fields.get("PPid", "0").strip() or 0)
        if ppid == pid:
            return True
        if ppid > 1 and ppid not in new:
            return False  # a live parent that existed before, or not the user's
        q = ppid
    return True


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
            new = processes_of(self.uid) - self.procs
            for p in sorted(new):
                if process_is_ours(p, pid, new):
                    found.append(f"process left: {p} {cmdline(p)!r}")
        return found


def accepted(listener):
    """Did a connection reach this non-blocking listening socket?  (It is
    accepted and closed.)"""
    try:
        conn, _ = listener.accept()
    except BlockingIOError:
        return False
    conn.close()
    return True


# ---------------------------------------------------------------- the kernel

INT80_GETPID = (
    "import ctypes, mmap, os\n"
    "buf = mmap.mmap(-1, 4096, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)\n"
    "buf.write(bytes([0xb8, 20, 0, 0, 0, 0xcd, 0x80, 0xc3]))\n"  # mov eax, 20 (getpid); int 0x80; ret
    "addr = ctypes.addressof(ctypes.c_char.from_buffer(buf))\n"
    "print(ctypes.CFUNCTYPE(ctypes.c_int)(addr)(), os.getpid())\n"
)
_ia32 = None


def ia32_emulation():
    """Whether this kernel runs i386 system calls (`int 0x80`) made by a
    64-bit process: CONFIG_IA32_EMULATION, and not turned off with
    ia32_emulation=0 (or CONFIG_IA32_EMULATION_DEFAULT_DISABLED).  Probed by
    doing it, once, outside any jail, rather than read from a kernel config
    that may not be there: getpid through int 0x80 returns the pid where
    the kernel offers the i386 entry; where it does not, the interrupt gate
    is absent and the CPU's #GP kills the process with SIGSEGV before any
    system call starts (so no seccomp filter and no syscall tracepoint ever
    sees it)."""
    global _ia32
    if _ia32 is None:
        import signal
        import subprocess
        p = subprocess.run(["/usr/bin/python3", "-c", INT80_GETPID], capture_output=True,
                           text=True, timeout=60)
        if p.returncode == 0:
            got, pid = p.stdout.split()
            assert got == pid, f"int 0x80 getpid returned {got}, not the pid {pid}"
            _ia32 = True
        elif p.returncode == -signal.SIGSEGV:
            _ia32 = False
        else:
            raise AssertionError(f"the int 0x80 probe neither ran nor faulted: exit "
                                 f"{p.returncode}\n{p.stdout}{p.stderr}")
    return _ia32


_unix_guard = None


def unix_guard_hooks():
    """Whether this kernel has the hooks of pipjail's unix-socket guard
    (cgroup programs of attach type BPF_CGROUP_UNIX_CONNECT, Linux 6.7):
    probed by loading the smallest such program with bpf(2) here, outside
    pipjail, rather than trusting a kernel version or pipjail's own word.
    Needs root."""
    global _unix_guard
    if _unix_guard is None:
        import ctypes
        import struct
        libc = ctypes.CDLL(None, use_errno=True)
        # r0 = 1; exit
        insns = ctypes.create_string_buffer(struct.pack("<BBhiBBhi", 0xb7, 0, 0, 1, 0x95, 0, 0, 0), 16)
        license = ctypes.create_string_buffer(b"GPL")
        attr = ctypes.create_string_buffer(128)
        # union bpf_attr, BPF_PROG_LOAD: prog_type 18 (CGROUP_SOCK_ADDR),
        # insn_cnt, insns, license, ..., expected_attach_type 49 at 68
        struct.pack_into("<IIQQ", attr, 0, 18, 2, ctypes.addressof(insns), ctypes.addressof(license))
        struct.pack_into("<I", attr, 68, 49)
        fd = libc.syscall(321, 5, attr, 128)   # SYS_bpf (x86-64), BPF_PROG_LOAD
        _unix_guard = fd >= 0
        if fd >= 0:
            os.close(fd)
    return _unix_guard
