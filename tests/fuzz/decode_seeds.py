#!/usr/bin/python3
"""Seeds for the record decoder's fuzz targets (tests/fuzz/records.h):
records as bpf/monitor.bpf.c sends them (struct ev_record of
include/events.h, little-endian x86-64), each prefixed by its 16-bit
length.  Writes tests/fuzz/corpus/decode/seed-* and the same files into
tests/fuzz/corpus/decode_engine/.

    tests/fuzz/decode_seeds.py
"""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))

EV_SYSCALL, EV_FORK, EV_EXEC, EV_EXIT, EV_REPEAT = 1, 2, 3, 4, 5
SLOT_PATH, SLOT_PATH2, SLOT_STR, SLOT_ADDR, SLOT_PAYLOAD, SLOT_DIR, SLOT_DIR2, SLOT_FILE = range(8)
EVF_ENTERED, EVF_REFUSED, EVF_TRUNC, EVF_ARGV_TRUNC = 1, 2, 4, 8
EVF_FILE_VALID, EVF_THREAD, EVF_ADDR_SOCK, EVF_COMPAT = 16, 32, 64, 256
EVF_TRUSTED, EVF_FOLD_BASE = 1 << 12, 1 << 13
SF_PSEUDO, SF_UNREACH = 1, 2
HEAD = 204      # offsetof(struct ev_record, data)
SIZEOF = 208    # sizeof(struct ev_record): the decoder's bound for slots

INIT, PIP, HOOK, TOOL = 5000, 5001, 5002, 5003
clock = [1_000_000_000]


def rec(type_, hpid, *, htid=None, nr=-1, flags=EVF_ENTERED, ret=0, args=(0,) * 6, comm=b"python3",
        slots=None, sflags=None, dev=0, ino=0, i_mode=0, repeat=0, ts=None, ts_enter=0, pid=None,
        hppid=0):
    """One record: slots {slot: bytes} are laid out in data[] in order."""
    clock[0] += 1000
    data, off, ln = b"", [0] * 8, [0] * 8
    for s, b in (slots or {}).items():
        off[s], ln[s] = len(data), len(b)
        data += b
    sf = [0] * 8
    for s, f in (sflags or {}).items():
        sf[s] = f
    htid = hpid if htid is None else htid
    jpid = (hpid - INIT + 1) if pid is None else pid
    head = struct.pack("<QQIIiIIIIIIII", clock[0] if ts is None else ts, ts_enter, type_, flags, nr,
                       hpid, htid, hppid, jpid, jpid, max(jpid - 1, 0), 1000, 1000)
    head += b"\0" * 4 + struct.pack("<q6QQQI", ret, *args, dev, ino, i_mode)
    head += struct.pack("<8H8H", *off, *ln) + comm.ljust(16, b"\0")[:16]
    head += struct.pack("<I8BI", len(data), *sf, repeat)
    assert len(head) == HEAD, len(head)
    body = head + data
    body += b"\0" * (SIZEOF + len(data) - len(body))
    return struct.pack("<H", len(body)) + body


def z(s):
    return s.encode() + b"\0"


def argv(*a):
    return b"".join(z(x) for x in a)


def fork(parent, child, thread=False):
    return rec(EV_FORK, parent, args=(child, parent if thread else child, child - INIT + 1,
                                      (parent if thread else child) - INIT + 1, 0, 0),
               flags=EVF_THREAD if thread else 0)


def exec_(hpid, path, args, cwd="/work", trusted=False, exe=None):
    return rec(EV_EXEC, hpid, flags=(EVF_TRUSTED if trusted else 0) | EVF_FILE_VALID,
               slots={SLOT_PATH: z(path), SLOT_STR: argv(*args), SLOT_DIR: z(cwd),
                      SLOT_FILE: z(exe or path)}, dev=(8 << 20) | 1, ino=1234)


def openat(hpid, path, flags=0, ret=3, dirpath=None, file=None, dirflags=0, fold=False):
    slots = {SLOT_PATH: z(path)}
    if dirpath is not None:
        slots[SLOT_DIR] = z(dirpath)
    if file is not None:
        slots[SLOT_FILE] = z(file)
    f = EVF_ENTERED | (EVF_FILE_VALID if file and not file.startswith(("pipe", "anon")) else 0)
    return rec(EV_SYSCALL, hpid, nr=257, ret=ret, args=(0xffffff9c, 0, flags, 0o644, 0, 0),
               flags=f | (EVF_FOLD_BASE if fold else 0), slots=slots,
               sflags={SLOT_DIR: dirflags}, dev=(8 << 20) | 1, ino=99)


def exit_(hpid, status=0, thread=False):
    return rec(EV_EXIT, hpid, ret=status, flags=EVF_THREAD if thread else 0)


def install():
    """init -> pip (trusted) -> build hook -> gcc; the hook reads the decoy."""
    hook_argv = ("/venv/bin/python3", "/venv/lib/python3.11/site-packages/pip/_vendor/"
                 "pyproject_hooks/_in_process/_in_process.py", "build_wheel", "/tmp/tmpq1w2e3")
    src = "/tmp/pip-install-k2j3/demo_0123456789abcdef0123456789abcdef"
    out = fork(INIT, PIP)
    out += exec_(PIP, "/venv/bin/python3", ("/venv/bin/python3", "-m", "pip", "install", "demo"),
                 trusted=True)
    out += openat(PIP, "/venv/lib/python3.11/site-packages/x.py", flags=0o1101, file="/venv/lib/x.py")
    out += fork(PIP, HOOK)
    out += exec_(HOOK, "/venv/bin/python3", hook_argv, cwd=src)
    out += openat(HOOK, "setup.py", dirpath=src, file=src + "/setup.py")
    out += openat(HOOK, "/home/u/.ssh/id_rsa", file="/home/u/.ssh/id_rsa")
    out += fork(HOOK, TOOL)
    out += exec_(TOOL, "/usr/bin/gcc", ("gcc", "-c", "demo.c", "-o", "/venv/bin/evil"), cwd=src)
    out += openat(TOOL, "/venv/bin/evil", flags=0o1101, file="/venv/bin/evil")
    out += exit_(TOOL)
    out += exit_(HOOK, 9)
    out += exit_(PIP)
    return out


def folds():
    """A failed lookup, its repeat count (naming the base by its ts), a
    second count of the same base, and one whose base was lost."""
    base_ts = clock[0] + 5000
    out = fork(INIT, PIP)
    out += rec(EV_SYSCALL, PIP, nr=257, ret=-2, ts=base_ts, flags=EVF_ENTERED | EVF_FOLD_BASE,
               args=(0xffffff9c, 0, 0, 0, 0, 0), slots={SLOT_PATH: z("inc/a.h"), SLOT_DIR: z("/usr")})
    out += rec(EV_REPEAT, PIP, nr=257, ts=base_ts + 900, ts_enter=base_ts, repeat=7, flags=0)
    out += rec(EV_REPEAT, PIP, nr=257, ts=base_ts + 990, ts_enter=base_ts, repeat=2, flags=0)
    out += rec(EV_REPEAT, PIP, nr=257, ts=base_ts + 999, ts_enter=base_ts + 1, repeat=3, flags=0)
    out += exit_(PIP)
    return out


def pseudo():
    """Descriptors that are no directory: dirfd of openat, fchmod, AT_EMPTY_PATH."""
    out = fork(INIT, PIP)
    for name in ("pipe:[123]", "anon_inode:[eventfd]", "socket:[9]", "memfd:x", "nsfs:[4026531840]"):
        out += openat(PIP, "x", ret=-20, dirpath=name, dirflags=SF_PSEUDO)
        out += openat(PIP, "", ret=-2, dirpath=name, dirflags=SF_PSEUDO)
        out += rec(EV_SYSCALL, PIP, nr=91, args=(3, 0o600, 0, 0, 0, 0), flags=EVF_ENTERED | EVF_FILE_VALID,
                   slots={SLOT_FILE: z(name)}, sflags={SLOT_FILE: SF_PSEUDO})
    out += openat(PIP, "etc/passwd", dirpath="/", dirflags=SF_UNREACH, file="/etc/passwd")
    out += openat(PIP, "../../../../x", dirpath="/a/b", file="/x")
    out += exit_(PIP)
    return out


def network():
    """socket, connect (inet, inet6, unix, abstract), a DNS query, memfd, kill, compat."""
    sin = struct.pack("<H", 2) + struct.pack(">H", 443) + bytes([10, 0, 0, 1]) + b"\0" * 8
    sin6 = struct.pack("<H", 10) + struct.pack(">H", 80) + b"\0" * 4 + b"\0" * 15 + b"\1" + b"\0" * 4
    sun = struct.pack("<H", 1) + b"/run/docker.sock\0"
    abstract = struct.pack("<H", 1) + b"\0abstract\x01name"
    dns = struct.pack(">HHHHHH", 0x1234, 0x0100, 1, 0, 0, 0) + b"\x06pypjtk\x07example\x03com\0" + \
        struct.pack(">HH", 16, 1)
    out = fork(INIT, PIP)
    out += rec(EV_SYSCALL, PIP, nr=41, args=(2, 0x80801, 0, 0, 0, 0), ret=4)
    for a in (sin, sin6, sun, abstract):
        out += rec(EV_SYSCALL, PIP, nr=42, args=(4, 0, len(a), 0, 0, 0), ret=-111, slots={SLOT_ADDR: a})
    out += rec(EV_SYSCALL, PIP, nr=44, args=(4, 0, len(dns), 0, 0, 0), ret=len(dns),
               slots={SLOT_ADDR: struct.pack("<H", 2) + struct.pack(">H", 53) + bytes([127, 0, 0, 53]) +
                      b"\0" * 8, SLOT_PAYLOAD: dns})
    out += rec(EV_SYSCALL, PIP, nr=319, args=(0, 1, 0, 0, 0, 0), ret=5, slots={SLOT_STR: z("pj")},
               flags=EVF_ENTERED | EVF_FILE_VALID, sflags={SLOT_FILE: SF_PSEUDO})
    out += rec(EV_SYSCALL, PIP, nr=62, args=(1, 9, 0, 0, 0, 0), ret=-1)
    out += rec(EV_SYSCALL, PIP, nr=101, args=(16, 1, 0, 0, 0, 0), ret=-1, flags=EVF_REFUSED)
    out += rec(EV_SYSCALL, PIP, nr=263, args=(0xffffff9c, 0, 0x200, 0, 0, 0), flags=EVF_ENTERED | EVF_COMPAT)
    out += rec(EV_SYSCALL, PIP, nr=316, args=(0xffffff9c, 0, 0xffffff9c, 0, 1, 0),
               slots={SLOT_PATH: z("a"), SLOT_PATH2: z("/venv/b"), SLOT_DIR: z("/tmp")})
    out += exit_(PIP, 9)
    return out


def argv_long():
    """An exec whose argv fills EV_ARGV_MAX: many empty arguments, then a token."""
    a = b"\0" * 4000 + b"PIPJAILfuzz0123456789abcdef0123456789abcdef0123\0"
    a = a[:4096]
    out = fork(INIT, PIP)
    out += rec(EV_EXEC, PIP, flags=EVF_ARGV_TRUNC, slots={SLOT_PATH: z("/bin/echo"), SLOT_STR: a,
                                                          SLOT_DIR: z("/work"), SLOT_FILE: z("/usr/bin/echo")})
    out += fork(PIP, PIP + 10, thread=True)
    out += exit_(PIP + 10, thread=True)
    out += exit_(PIP)
    return out


SEEDS = {"install": install, "folds": folds, "pseudo": pseudo, "network": network,
         "argv-long": argv_long}


def main():
    for d in ("decode", "decode_engine"):
        path = os.path.join(HERE, "corpus", d)
        os.makedirs(path, exist_ok=True)
        for name, make in SEEDS.items():
            clock[0] = 1_000_000_000
            with open(os.path.join(path, "seed-" + name), "wb") as f:
                f.write(make())


if __name__ == "__main__":
    main()
