/* Every .pyc that a staged install would commit, checked against its
 * source by the environment's own interpreter (docs/staging.md, "Bytecode").
 * pip lists the .pyc files it compiles in RECORD without a hash, so a
 * process that rewrites one (a daemon a build left behind) would plant code
 * that runs at the next import while the .py looks untouched.
 *
 * After the import check, while the jail still stands and no process of it
 * is alive (init kills what each command leaves), the supervisor lists the
 * upper layer's .pyc files (in __pycache__) into the jail's /tmp and asks init
 * to run PYC_CHECK_CODE with the interpreter resolved before the run
 * (-I -S -B: no .pth, no site, no user code, no bytecode written).  For each
 * file it compiles the committed source and compares, and writes one
 * verdict with the sha256 of the bytes it checked; the staging check then
 * holds every committed .pyc to a verdict for exactly its bytes. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "run/internal.h"
#include "stage/stage.h"
#include "base/base.h"

#define PYC_RESULTS_MAX  (256u << 20)

/* The checker.  Its first line is the import check's marker (role import,
 * no package); it runs no code of the environment.  A marshal stream is
 * compared without its FLAG_REF bits and back-references (marshal sets
 * them from the compiling process's reference counts, so two compiles of
 * one source differ there), with the items of a set in a fixed order
 * (marshal writes them in the order of their hashes, which are salted per
 * process), without the interned flag of strings (a
 * one-character string is shared by the whole process: whether it is
 * interned depends on what else the process loaded) and without the code
 * objects' file names (the path the compiler was given); everything else,
 * the bytecode and its inline caches included, must be equal byte for
 * byte.  The stream of the
 * .pyc is parsed by this code, never handed to marshal.loads. */
static const char PYC_CHECK_CODE[] =
	"# pipjail-import-check: - -\n"
	"# pipjail-pyc-check: is each .pyc what this interpreter compiles from its source?\n"
	"import sys, os, marshal, hashlib, importlib.util\n"
	"sys.setrecursionlimit(20000)\n"
	"TAG = sys.implementation.cache_tag\n"
	"NEW = sys.version_info >= (3, 11)\n"
	"class Bad(Exception):\n"
	"    pass\n"
	"def canon(b):\n"
	"    refs = []\n"
	"    pos = 0\n"
	"    def rd(n):\n"
	"        nonlocal pos\n"
	"        if n < 0 or pos + n > len(b):\n"
	"            raise Bad('its code is truncated or malformed')\n"
	"        s = b[pos:pos + n]\n"
	"        pos += n\n"
	"        return s\n"
	"    def u32():\n"
	"        return int.from_bytes(rd(4), 'little')\n"
	"    def obj(depth):\n"
	"        if depth > 5000:\n"
	"            raise Bad('its code is nested too deep')\n"
	"        c = rd(1)[0]\n"
	"        t = chr(c & 0x7f)\n"
	"        if t == 'r':\n"
	"            i = u32()\n"
	"            if i >= len(refs) or refs[i] is None:\n"
	"                raise Bad('its code has a bad reference')\n"
	"            return refs[i]\n"
	"        slot = None\n"
	"        if c & 0x80:\n"
	"            slot = len(refs)\n"
	"            refs.append(None)\n"
	"        o = [{'A': b'a', 'Z': b'z', 't': b'u'}.get(t, t.encode())]\n"
	"        if t in '0NFTS.':\n"
	"            pass\n"
	"        elif t == 'i':\n"
	"            o.append(rd(4))\n"
	"        elif t == 'g':\n"
	"            o.append(rd(8))\n"
	"        elif t == 'y':\n"
	"            o.append(rd(16))\n"
	"        elif t == 'f':\n"
	"            n = rd(1)\n"
	"            o += [n, rd(n[0])]\n"
	"        elif t == 'x':\n"
	"            for _ in range(2):\n"
	"                n = rd(1)\n"
	"                o += [n, rd(n[0])]\n"
	"        elif t == 'l':\n"
	"            n = rd(4)\n"
	"            o += [n, rd(2 * abs(int.from_bytes(n, 'little', signed=True)))]\n"
	"        elif t in 'stuaA':\n"
	"            n = rd(4)\n"
	"            o += [n, rd(int.from_bytes(n, 'little'))]\n"
	"        elif t in 'zZ':\n"
	"            n = rd(1)\n"
	"            o += [n, rd(n[0])]\n"
	"        elif t in '([<>)':\n"
	"            n = rd(1) if t == ')' else rd(4)\n"
	"            items = [obj(depth + 1) for _ in range(int.from_bytes(n, 'little'))]\n"
	"            o += [n] + (sorted(items) if t in '<>' else items)\n"
	"        elif t == '{':\n"
	"            while True:\n"
	"                k = obj(depth + 1)\n"
	"                o.append(k)\n"
	"                if k == b'0':\n"
	"                    break\n"
	"                o.append(obj(depth + 1))\n"
	"        elif t == 'c':\n"
	"            o.append(rd(20 if NEW else 24))\n"
	"            for k in range(8 if NEW else 8):\n"
	"                x = obj(depth + 1)\n"
	"                o.append(b'F' if k == (5 if NEW else 6) else x)\n"
	"            o.append(rd(4))\n"
	"            for k in range(2 if NEW else 1):\n"
	"                o.append(obj(depth + 1))\n"
	"        else:\n"
	"            raise Bad('its code holds an object marshal does not write (%r)' % t)\n"
	"        r = b''.join(o)\n"
	"        if slot is not None:\n"
	"            refs[slot] = r\n"
	"        return r\n"
	"    r = obj(0)\n"
	"    if pos != len(b):\n"
	"        raise Bad('its code is followed by other bytes')\n"
	"    return r\n"
	"def check(path):\n"
	"    d, name = os.path.split(path)\n"
	"    parts = name.split(b'.')\n"
	"    opt = 0\n"
	"    if len(parts) >= 4 and parts[-2].startswith(b'opt-'):\n"
	"        if parts[-2] not in (b'opt-1', b'opt-2'):\n"
	"            raise Bad('not a bytecode file name')\n"
	"        opt = int(parts[-2][4:])\n"
	"        tag, base = parts[-3], b'.'.join(parts[:-3])\n"
	"    elif len(parts) >= 3:\n"
	"        tag, base = parts[-2], b'.'.join(parts[:-2])\n"
	"    else:\n"
	"        raise Bad('not a bytecode file name')\n"
	"    if os.path.basename(d) != b'__pycache__' or parts[-1] != b'pyc' or not base:\n"
	"        raise Bad('not a bytecode file name')\n"
	"    if tag != TAG.encode():\n"
	"        raise Bad('compiled for another interpreter (%s; this environment runs %s)' % (tag.decode('ascii', 'replace'), TAG))\n"
	"    src = os.path.join(os.path.dirname(d), base + b'.py')\n"
	"    with open(path, 'rb') as f:\n"
	"        if os.fstat(f.fileno()).st_size > 64 << 20:\n"
	"            raise Bad('it is too large to check')\n"
	"        data = f.read()\n"
	"    digest = hashlib.sha256(data).hexdigest()\n"
	"    try:\n"
	"        with open(src, 'rb') as f:\n"
	"            st = os.fstat(f.fileno())\n"
	"            source = f.read()\n"
	"    except OSError as e:\n"
	"        raise Bad('its source %s cannot be read: %s' % (os.fsdecode(src), e.strerror))\n"
	"    if len(data) < 16 or data[:4] != importlib.util.MAGIC_NUMBER:\n"
	"        raise Bad('it is not bytecode of this environment\\'s interpreter (magic number)')\n"
	"    flags = int.from_bytes(data[4:8], 'little')\n"
	"    if flags == 0:\n"
	"        if (int.from_bytes(data[8:12], 'little') != int(st.st_mtime) & 0xFFFFFFFF or\n"
	"                int.from_bytes(data[12:16], 'little') != st.st_size & 0xFFFFFFFF):\n"
	"            raise Bad('its header does not match its source (modification time, size)')\n"
	"    elif flags in (1, 3):\n"
	"        if data[8:16] != importlib.util.source_hash(source):\n"
	"            raise Bad('its header does not match its source (source hash)')\n"
	"    else:\n"
	"        raise Bad('its header has unknown flags (%d)' % flags)\n"
	"    try:\n"
	"        code = compile(source, os.fsdecode(src), 'exec', dont_inherit=True, optimize=opt)\n"
	"    except (SyntaxError, ValueError) as e:\n"
	"        raise Bad('its source does not compile (%s)' % type(e).__name__)\n"
	"    fresh = marshal.dumps(code)\n"
	"    if data[16:] != fresh and canon(data[16:]) != canon(fresh):\n"
	"        raise Bad('its code is not what this environment\\'s interpreter compiles from %s' % os.fsdecode(src))\n"
	"    return digest\n"
	"out = []\n"
	"with open(sys.argv[1], 'rb') as f:\n"
	"    paths = [p for p in f.read().split(b'\\0') if p]\n"
	"for p in paths:\n"
	"    try:\n"
	"        out += [b'OK', check(p).encode()]\n"
	"    except Bad as e:\n"
	"        out += [b'BAD', str(e).encode('utf-8', 'replace')]\n"
	"    except (OSError, MemoryError, RecursionError, OverflowError) as e:\n"
	"        out += [b'BAD', ('it cannot be checked: %s' % type(e).__name__).encode()]\n"
	"    out.append(p)\n"
	"with open(sys.argv[2], 'xb') as f:\n"
	"    f.write(b'\\0'.join(out) + b'\\0')\n";

struct pyc_verdict {
	char *rel;
	bool ok;
	char *text;            /* ok: the sha256 in hex; else why not */
};

struct pyc_check {
	char tmpname[64];      /* the job's files in the jail's /tmp: <name>.list, <name>.out */
	char **argv;
	bool ran;              /* its results were read */
	struct pyc_verdict *v;
	size_t n;
	size_t listed;
};

/* The files are listed while the jail stands: the upper layer is read
 * from the host's side (nothing in the jail is alive to change it). */
static struct {
	char **v;
	size_t n;
	size_t skip;           /* length of the upper layer's path + 1 */
} walk_list;

static int on_upper_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	const char *rel = path + walk_list.skip;
	const char *base = path + ftw->base;
	size_t len = strlen(base);

	(void)st;
	if (type != FTW_F || !S_ISREG(st->st_mode) || len < 5 || strcmp(base + len - 4, ".pyc") ||
	    ftw->base < 12 || strncmp(path + ftw->base - 12, "__pycache__/", 12))
		return 0;
	walk_list.v = xrealloc(walk_list.v, (walk_list.n + 1) * sizeof(char *));
	walk_list.v[walk_list.n++] = xstrdup(rel);
	return 0;
}

/* An O_PATH descriptor of the jail's /tmp, seen from the host. */
static int jail_tmp(pid_t init)
{
	char p[64];

	snprintf(p, sizeof(p), "/proc/%d/root/tmp", (int)init);
	return open(p, O_PATH | O_DIRECTORY | O_CLOEXEC);
}

char **pyc_check_command(struct run *r, struct stage *s, const char *python, struct pyc_check **out)
{
	struct pyc_check *pc;
	autoclose int tmp = -1, fd = -1;
	autofree char *list = NULL;
	char hex[17];
	size_t len = 0;

	*out = NULL;
	walk_list.v = NULL;
	walk_list.n = 0;
	walk_list.skip = strlen(stage_upper(s)) + 1;
	if (nftw(stage_upper(s), on_upper_entry, 32, FTW_PHYS) != 0) {
		warnx_("the bytecode check: cannot read the stage: %s", strerror(errno));
		return NULL;
	}
	pc = xcalloc(1, sizeof(*pc));
	*out = pc;
	pc->listed = walk_list.n;
	if (!walk_list.n) {
		pc->ran = true;
		free(walk_list.v);
		return NULL;
	}
	random_hex(hex, sizeof(hex) - 1);
	snprintf(pc->tmpname, sizeof(pc->tmpname), ".pipjail-pyc-%s", hex);
	for (size_t i = 0; i < walk_list.n; i++) {
		autofree char *abs = xasprintf("%s/%s", stage_target(s), walk_list.v[i]);
		size_t n = strlen(abs) + 1;

		list = xrealloc(list, len + n);
		memcpy(list + len, abs, n);
		len += n;
		free(walk_list.v[i]);
	}
	free(walk_list.v);
	tmp = jail_tmp(r->init);
	if (tmp >= 0) {
		autofree char *name = xasprintf("%s.list", pc->tmpname);

		fd = openat(tmp, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	}
	if (fd < 0 || write_all(fd, list, len) < 0) {
		warnx_("the bytecode check: cannot hand the jail its list: %s", strerror(errno));
		return NULL;
	}
	pc->argv = xcalloc(8, sizeof(char *));
	pc->argv[0] = xstrdup(python);
	pc->argv[1] = xstrdup("-I");
	pc->argv[2] = xstrdup("-S");
	pc->argv[3] = xstrdup("-B");
	pc->argv[4] = xstrdup("-c");
	pc->argv[5] = xstrdup(PYC_CHECK_CODE);
	pc->argv[6] = xasprintf("/tmp/%s.list", pc->tmpname);
	pc->argv[7] = xasprintf("/tmp/%s.out", pc->tmpname);
	pc->argv = xrealloc(pc->argv, 9 * sizeof(char *));
	pc->argv[8] = NULL;
	debugx(1, "bytecode check: %zu .pyc files", walk_list.n);
	return pc->argv;
}

static int cmp_verdict(const void *a, const void *b)
{
	return strcmp(((const struct pyc_verdict *)a)->rel, ((const struct pyc_verdict *)b)->rel);
}

void pyc_check_collect(struct run *r, struct stage *s, struct pyc_check *pc, int code)
{
	struct open_how how = {
		.flags = O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
	};
	autofree char *name = xasprintf("%s.out", pc->tmpname), *buf = NULL;
	autoclose int tmp = jail_tmp(r->init), fd = -1;
	const char *target = stage_target(s);
	size_t tlen = strlen(target);
	struct stat st;
	ssize_t n;

	pc->ran = true;
	if (tmp >= 0)
		fd = (int)syscall(SYS_openat2, tmp, name, &how, sizeof(how));
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_size > PYC_RESULTS_MAX) {
		warnx_("the bytecode check gave no results (exit %d): no .pyc file is taken as checked", code);
		return;
	}
	buf = xmalloc((size_t)st.st_size + 1);
	n = read_all(fd, buf, (size_t)st.st_size);
	if (n < 0)
		return;
	buf[n] = '\0';
	for (char *p = buf; p < buf + n;) {
		char *verdict = p, *text = verdict + strlen(verdict) + 1, *path;

		if (text >= buf + n)
			break;
		path = text + strlen(text) + 1;
		if (path >= buf + n)
			break;
		p = path + strlen(path) + 1;
		if (!path_is_under(path, target) || path[tlen] != '/')
			continue;
		pc->v = xrealloc(pc->v, (pc->n + 1) * sizeof(*pc->v));
		pc->v[pc->n].rel = xstrdup(path + tlen + 1);
		pc->v[pc->n].ok = !strcmp(verdict, "OK");
		pc->v[pc->n].text = xstrdup(text);
		pc->n++;
	}
	qsort(pc->v, pc->n, sizeof(*pc->v), cmp_verdict);
	debugx(1, "bytecode check: %zu verdicts for %zu files (exit %d)", pc->n, pc->listed, code);
}

char *pyc_check_verdict(struct pyc_check *pc, const char *rel, const uint8_t *digest)
{
	struct pyc_verdict key = { .rel = (char *)rel }, *v;
	char hex[2 * SHA256_DIGEST_LEN + 1];

	if (!pc->ran)
		return xstrdup("a .pyc that was not checked against its source (the check did not run)");
	v = pc->n ? bsearch(&key, pc->v, pc->n, sizeof(*pc->v), cmp_verdict) : NULL;
	if (!v)
		return xstrdup("a .pyc that was not checked against its source (written after the check, "
			       "or the check failed)");
	if (!v->ok)
		return xasprintf("a .pyc that is not its source's bytecode: %s", v->text);
	for (size_t i = 0; i < SHA256_DIGEST_LEN; i++)
		snprintf(hex + 2 * i, 3, "%02x", digest[i]);
	if (strcmp(hex, v->text))
		return xstrdup("a .pyc that changed after it was checked against its source");
	return NULL;
}

void pyc_check_free(struct pyc_check *pc)
{
	if (!pc)
		return;
	for (size_t i = 0; pc->argv && pc->argv[i]; i++)
		free(pc->argv[i]);
	free(pc->argv);
	for (size_t i = 0; i < pc->n; i++) {
		free(pc->v[i].rel);
		free(pc->v[i].text);
	}
	free(pc->v);
	free(pc);
}
