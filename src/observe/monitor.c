/* The eBPF monitor, user side: loads and attaches bpf/monitor.bpf.c (its
 * skeleton) with the capture plan (plan.c) in its read-only data, hands
 * the ring buffer's records to the decoder (decode.c), reads the
 * counters, and fills the kernel rules' maps. */
#include "observe/monitor.h"

#include <errno.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "events.h"
#include "monitor.skel.h"
#include "observe/decode.h"
#include "observe/plan.h"
#include "base/base.h"

struct monitor {
	struct monitor_bpf *skel;
	struct ring_buffer *rb;
	struct decoder dec;           /* the records' reader (decode.c) */
	uint64_t load_ns;
	uint64_t t_start, t_open, t_load;  /* -v: where the load time goes */
	unsigned long buffer_bytes;
	uint64_t cgroup_id;
	bool adopted;                 /* init_fork is to be delivered at attach */
	bool unix_guard;              /* the unix-socket guard's programs are loaded */
	int unix_links[2];            /* and attached (monitor_unix_guard), -1: not */
	struct ev_record init_fork;   /* the fork pj_fork did not see (monitor_adopt_init) */
};

/* ---- lifecycle ------------------------------------------------------------- */

static bool pow2(unsigned long x)
{
	return x && !(x & (x - 1));
}

int monitor_cgroup_id(const char *cgroup_dir, uint64_t *id)
{
	struct stat st;

	if (stat(cgroup_dir, &st) < 0)
		return -1;
	*id = st.st_ino;
	return 0;
}

static int libbpf_quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_WARN || pj_verbose >= 2)
		return vfprintf(stderr, fmt, ap);
	return 0;
}

/* -vvv: the verifier's own statistics per program (time, instructions
 * processed, states), to see what the load time is spent on. */
#define VSTAT_LOG 4096
static char *verifier_stats_setup(struct monitor_bpf *skel)
{
	struct bpf_program *prog;
	char *logs;
	size_t i = 0, n = 0;

	if (pj_verbose < 3)
		return NULL;
	bpf_object__for_each_program(prog, skel->obj)
		n++;
	logs = xcalloc(n, VSTAT_LOG);
	bpf_object__for_each_program(prog, skel->obj) {
		bpf_program__set_log_level(prog, 4 /* BPF_LOG_STATS */);
		bpf_program__set_log_buf(prog, logs + i++ * VSTAT_LOG, VSTAT_LOG);
	}
	return logs;
}

static void verifier_stats_print(struct monitor_bpf *skel, char *logs)
{
	struct bpf_program *prog;
	size_t i = 0;

	if (!logs)
		return;
	bpf_object__for_each_program(prog, skel->obj) {
		const char *l = logs + i++ * VSTAT_LOG, *t = strstr(l, "verification time"),
			   *pr = strstr(l, "processed");

		debugx(3, "monitor: %-14s %.*s; %.*s", bpf_program__name(prog),
		       t ? (int)strcspn(t, "\n") : 0, t ? t : "",
		       pr ? (int)strcspn(pr, "\n") : 0, pr ? pr : "");
	}
	free(logs);
}

/* The unix-socket guard's programs: loaded only when the kernel has their
 * hooks, as the attach types they are (their sections cannot say it to
 * libbpf 1.1), and attached by monitor_unix_guard, not by the skeleton. */
static void unix_guard_setup(struct monitor *m)
{
	struct bpf_program *p[2] = { m->skel->progs.pj_unix_connect, m->skel->progs.pj_unix_sendmsg };

	for (size_t i = 0; i < ARRAY_SIZE(p); i++) {
		bpf_program__set_autoload(p[i], m->unix_guard);
		bpf_program__set_autoattach(p[i], false);
		bpf_program__set_expected_attach_type(p[i], (enum bpf_attach_type)unixguard_attach_types[i]);
	}
}

int monitor_load(struct monitor **out, const struct monitor_opts *opts, char *err, size_t errlen)
{
	struct monitor *m = NULL;
	unsigned long bytes;
	uint64_t t0 = now_ns();
	char *vlogs;
	int e;

	*out = NULL;
	if (!opts->cgroup_id) {
		snprintf(err, errlen, "monitor: no cgroup id given");
		return -1;
	}
	bytes = opts->buffer_bytes ? opts->buffer_bytes
				   : (unsigned long)(opts->buffer_mb ? opts->buffer_mb
								     : MONITOR_DEFAULT_BUFFER_MB) << 20;
	if (!pow2(bytes) || bytes < (unsigned long)sysconf(_SC_PAGESIZE)) {
		snprintf(err, errlen, "monitor: ring buffer size %lu is not a power of two of at least a page",
			 bytes);
		return -1;
	}
	libbpf_set_print(libbpf_quiet);

	m = xcalloc(1, sizeof(*m));
	m->t_start = t0;
	m->buffer_bytes = bytes;
	m->cgroup_id = opts->cgroup_id;
	m->dec.trace = opts->trace;
	m->dec.on_event = opts->on_event;
	m->dec.ctx = opts->ctx;
	m->unix_guard = opts->unix_guard;
	m->unix_links[0] = m->unix_links[1] = -1;

	m->skel = monitor_bpf__open();
	if (!m->skel) {
		snprintf(err, errlen, "monitor: cannot open the BPF object: %s", strerror(errno));
		goto fail;
	}
	m->skel->rodata->target_cgid = opts->cgroup_id;
	m->skel->rodata->wakeup_bytes = bytes / 4 < (2u << 20) ? bytes / 4 : (2u << 20);
	unix_guard_setup(m);
	plan_fill(m->skel->rodata->specs, m->dec.kind_of);
	decoder_name_syscalls(&m->dec);
	e = bpf_map__set_max_entries(m->skel->maps.events, bytes);
	if (e) {
		snprintf(err, errlen, "monitor: cannot size the ring buffer: %s", strerror(-e));
		goto fail;
	}
	vlogs = verifier_stats_setup(m->skel);
	m->t_open = now_ns();
	e = monitor_bpf__load(m->skel);
	m->t_load = now_ns();
	verifier_stats_print(m->skel, vlogs);
	if (e) {
		snprintf(err, errlen,
			 "monitor: cannot load the BPF programs (tp_btf, task storage, ring buffer needed; "
			 "run with -vv for the verifier log): %s", strerror(-e));
		goto fail;
	}
	*out = m;
	return 0;
fail:
	monitor_close(m);
	return -1;
}

/* The jail's init was cloned into the cgroup before the programs were
 * attached: pj_fork did not see it.  Give it the marks pj_fork gives a task
 * entering the cgroup from outside (pipjail's own, the init, its fork
 * shown), now, before anything is attached that could record its calls;
 * monitor_attach then delivers the fork record pj_fork would have sent.
 * Safe: the init runs only pipjail's code until it is sent a command, and
 * the command is sent only after monitor_attach. */
int monitor_adopt_init(struct monitor *m, int init_pidfd, pid_t init, uint64_t fork_ts)
{
	struct pending *p;
	int e;

	if (bpf_map__value_size(m->skel->maps.pend) != sizeof(*p)) {
		errno = EPROTO;  /* include/events.h and the object disagree: a build bug */
		return -1;
	}
	p = xcalloc(1, sizeof(*p));
	p->pj = PJ_OWN | PJ_INIT | PJ_SHOWN;
	e = bpf_map_update_elem(bpf_map__fd(m->skel->maps.pend), &init_pidfd, p, BPF_NOEXIST);
	free(p);
	if (e < 0)
		return -1;
	m->init_fork = (struct ev_record){
		.type = EV_FORK, .ts = fork_ts, .nr = -1,
		.uid = getuid(), .gid = getgid(),
		.htid = (uint32_t)gettid(), .hpid = (uint32_t)getpid(), .hppid = (uint32_t)getppid(),
		/* the supervisor is outside the init's pid namespace: pid 0 there */
		.args = { (uint64_t)init, (uint64_t)init, 1, 1 },
	};
	prctl(PR_GET_NAME, m->init_fork.comm);
	m->adopted = true;
	return 0;
}

int monitor_attach(struct monitor *m, char *err, size_t errlen)
{
	struct timespec rt, mono;
	uint64_t t0 = now_ns(), t_attach;
	int e;

	e = monitor_bpf__attach(m->skel);
	t_attach = now_ns();
	if (e) {
		snprintf(err, errlen, "monitor: cannot attach the tracepoint programs: %s", strerror(-e));
		return -1;
	}
	m->rb = ring_buffer__new(bpf_map__fd(m->skel->maps.events), decode_record, &m->dec, NULL);
	if (!m->rb) {
		snprintf(err, errlen, "monitor: cannot set up the ring buffer reader: %s", strerror(errno));
		return -1;
	}
	clock_gettime(CLOCK_REALTIME, &rt);
	clock_gettime(CLOCK_MONOTONIC, &mono);
	m->dec.wall_offset_ns = ((int64_t)rt.tv_sec - mono.tv_sec) * 1000000000LL + (rt.tv_nsec - mono.tv_nsec);
	m->load_ns = (m->t_load - m->t_start) + (now_ns() - t0);
	debugx(1, "monitor: loaded and attached in %.1f ms (open %.1f, load and verify %.1f, attach %.1f; "
	       "ring buffer %lu KiB, cgroup %llu)",
	       m->load_ns / 1e6, (m->t_open - m->t_start) / 1e6, (m->t_load - m->t_open) / 1e6,
	       (t_attach - t0) / 1e6, m->buffer_bytes >> 10,
	       (unsigned long long)m->cgroup_id);
	if (m->adopted)
		decode_record(&m->dec, &m->init_fork, sizeof(m->init_fork));
	return 0;
}

int monitor_open(struct monitor **out, const struct monitor_opts *opts, char *err, size_t errlen)
{
	if (monitor_load(out, opts, err, errlen) < 0)
		return -1;
	if (monitor_attach(*out, err, errlen) < 0) {
		monitor_close(*out);
		*out = NULL;
		return -1;
	}
	return 0;
}

uint64_t monitor_load_ns(const struct monitor *m)
{
	return m ? m->load_ns : 0;
}

int monitor_fd(const struct monitor *m)
{
	return ring_buffer__epoll_fd(m->rb);
}

int monitor_consume(struct monitor *m)
{
	uint64_t before = m->dec.events;
	int n;

	if (!m->rb)
		return 0;  /* loaded, never attached: nothing was recorded */
	n = ring_buffer__consume(m->rb);

	if (n < 0) {
		errno = -n;
		return -1;
	}
	return (int)(m->dec.events - before);
}

static int prog_info(const struct bpf_program *p, struct bpf_prog_info *info)
{
	__u32 len = sizeof(*info);

	memset(info, 0, sizeof(*info));
#if LIBBPF_MAJOR_VERSION > 1 || (LIBBPF_MAJOR_VERSION == 1 && LIBBPF_MINOR_VERSION >= 2)
	return bpf_prog_get_info_by_fd(bpf_program__fd(p), info, &len);
#else
	return bpf_obj_get_info_by_fd(bpf_program__fd(p), info, &len);
#endif
}

void monitor_stats(const struct monitor *m, struct monitor_stats *st)
{
	int ncpu = libbpf_num_possible_cpus();
	struct bpf_program *p;

	memset(st, 0, sizeof(*st));
	st->events = m->dec.events;
	st->bad_records = m->dec.bad_records;
	/* a record that did not decode is an event that was not judged */
	st->lost = st->bad_records;
	st->load_ns = m->load_ns;
	if (ncpu <= 0)
		return;
	uint64_t vals[ncpu];
	for (__u32 k = 0; k < CNT_N; k++) {
		uint64_t sum = 0;

		if (bpf_map_lookup_elem(bpf_map__fd(m->skel->maps.drops), &k, vals))
			continue;
		for (int c = 0; c < ncpu; c++)
			sum += vals[c];
		if (k < CNT_LOST_N)
			st->lost += sum;
		switch (k) {
		case CNT_RINGBUF_FULL: st->lost_ringbuf = sum; break;
		case CNT_SUPPRESSED: st->suppressed = sum; break;
		case CNT_KILLS: st->kills = sum; break;
		case CNT_FOLDED: st->folded = sum; break;
		}
	}
	bpf_object__for_each_program(p, m->skel->obj) {
		struct bpf_prog_info info;

		if (prog_info(p, &info))
			continue;
		st->lost += info.recursion_misses;
		st->bpf_run_ns += info.run_time_ns;
		st->bpf_run_cnt += info.run_cnt;
	}
}

/* ---- kernel rules ------------------------------------------------------------ */

/* The kernel's dev_t encoding (s_dev: major << 20 | minor) of a stat. */
static struct pj_inode inode_key(const struct stat *st)
{
	struct pj_inode k = {
		.dev = ((uint64_t)major(st->st_dev) << 20) | minor(st->st_dev),
		.ino = st->st_ino,
	};

	return k;
}

static int rule_add(struct monitor *m, struct bpf_map *map, __u32 *count, const char *path,
		    bool want_exec)
{
	struct stat st;
	struct pj_inode k;
	__u32 one = 1;

	if (stat(path, &st) < 0)
		return -1;
	if (!S_ISREG(st.st_mode) || (want_exec && !(st.st_mode & 0111))) {
		errno = want_exec ? EACCES : EINVAL;
		return -1;
	}
	k = inode_key(&st);
	if (bpf_map_update_elem(bpf_map__fd(map), &k, &one, BPF_NOEXIST) < 0) {
		if (errno == EEXIST)
			return 0;
		return -1;
	}
	/* the count lets the programs skip the lookup while a map is empty */
	__atomic_add_fetch(count, 1, __ATOMIC_SEQ_CST);
	debugx(1, "monitor: %s %s (dev %llu:%llu ino %llu)", want_exec ? "deny exec of" : "pip only:",
	       path, (unsigned long long)major(st.st_dev), (unsigned long long)minor(st.st_dev),
	       (unsigned long long)st.st_ino);
	(void)m;
	return 0;
}

int monitor_protect_path(struct monitor *m, const char *path)
{
	return rule_add(m, m->skel->maps.pip_only, &m->skel->bss->n_pip_only, path, false);
}

int monitor_deny_exec(struct monitor *m, const char *path)
{
	return rule_add(m, m->skel->maps.denied_exec, &m->skel->bss->n_denied_exec, path, true);
}

int monitor_set_enforce(struct monitor *m, bool on)
{
	__atomic_store_n(&m->skel->bss->enforce, on ? 1 : 0, __ATOMIC_SEQ_CST);
	return 0;
}

static int inode_set_add(struct bpf_map *map, __u32 *count, const struct stat *v, size_t n)
{
	__u32 one = 1;

	for (size_t i = 0; i < n; i++) {
		struct pj_inode k = inode_key(&v[i]);

		if (bpf_map_update_elem(bpf_map__fd(map), &k, &one, BPF_ANY) < 0)
			return -1;
	}
	/* the count lets the programs skip the lookup while a map is empty */
	__atomic_add_fetch(count, (__u32)n, __ATOMIC_SEQ_CST);
	return 0;
}

_Static_assert(MONITOR_ENTRY_MAX == PIP_ENTRY_MAX, "monitor.h and events.h agree");

int monitor_set_anchors(struct monitor *m, const struct monitor_anchors *a)
{
	struct monitor_bpf *sk = m->skel;
	__u32 one = 1;

	for (size_t i = 0; i < a->n_entries; i++) {
		struct pj_entry k = { 0 };

		if (strlen(a->entries[i]) >= sizeof(k.path)) {
			errno = ENAMETOOLONG;
			return -1;
		}
		memcpy(k.path, a->entries[i], strlen(a->entries[i]));
		if (bpf_map_update_elem(bpf_map__fd(sk->maps.pip_entry), &k, &one, BPF_ANY) < 0)
			return -1;
		debugx(1, "monitor: pip's entry point %s", a->entries[i]);
	}
	if (inode_set_add(sk->maps.pip_tool, &sk->bss->n_pip_tool, a->tools, a->n_tools) < 0 ||
	    inode_set_add(sk->maps.pip_interp, &sk->bss->n_pip_interp, a->interps, a->n_interps) < 0)
		return -1;
	if (a->env_path && a->env_dev) {
		size_t n = strlen(a->env_path);

		if (n >= sizeof(sk->bss->env_path)) {
			errno = ENAMETOOLONG;
			return -1;
		}
		memcpy(sk->bss->env_path, a->env_path, n + 1);
		sk->bss->env_path_len = (__u32)n;
		__atomic_store_n(&sk->bss->env_dev,
				 ((uint64_t)major(a->env_dev) << 20) | minor(a->env_dev), __ATOMIC_SEQ_CST);
	}
	debugx(1, "monitor: %zu interpreter(s), %zu helper program(s) of pip; environment guard %s",
	       a->n_interps, a->n_tools, a->env_dev ? a->env_path : "off");
	return 0;
}

int monitor_unix_guard(struct monitor *m, int cgroup_fd, const struct unixguard_tree *trees, size_t n,
		       char *err, size_t errlen)
{
	int progs[2] = { bpf_program__fd(m->skel->progs.pj_unix_connect),
			 bpf_program__fd(m->skel->progs.pj_unix_sendmsg) };

	if (!m->unix_guard || progs[0] < 0 || progs[1] < 0) {
		snprintf(err, errlen, "unix guard: its programs were not loaded");
		return -1;
	}
	if (unixguard_fill(bpf_map__fd(m->skel->maps.up_trees), bpf_map__fd(m->skel->maps.up_index), trees,
			   n, err, errlen) < 0)
		return -1;
	return unixguard_attach(progs, cgroup_fd, m->unix_links, err, errlen);
}

void monitor_unix_counts(const struct monitor *m, uint64_t *allowed, uint64_t *refused, uint64_t *abstract)
{
	*allowed = __atomic_load_n(&m->skel->bss->unix_allowed, __ATOMIC_RELAXED);
	*refused = __atomic_load_n(&m->skel->bss->unix_refused, __ATOMIC_RELAXED);
	*abstract = __atomic_load_n(&m->skel->bss->unix_abstract, __ATOMIC_RELAXED);
}

void monitor_close(struct monitor *m)
{
	if (!m)
		return;
	closep(&m->unix_links[0]);
	closep(&m->unix_links[1]);
	ring_buffer__free(m->rb);
	monitor_bpf__destroy(m->skel);
	decoder_fini(&m->dec);
	free(m);
}
