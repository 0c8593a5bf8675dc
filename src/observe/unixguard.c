/* The unix-socket guard, user side (observe/unixguard.h): probes for the
 * kernel's hooks; fills the table of the jail's trees into the monitor's
 * maps, freezes it and attaches the two programs to the jail's cgroup. */
#include "observe/unixguard.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "unixguard_abi.h"  /* struct up_tree: the table, shared with the BPF side */
#include "base/base.h"

/* enum bpf_attach_type of Linux 6.7 (the uapi headers of Debian 12 stop
 * before them); fixed numbers of the kernel's ABI. */
#define PJ_BPF_CGROUP_UNIX_CONNECT 49
#define PJ_BPF_CGROUP_UNIX_SENDMSG 50

const int unixguard_attach_types[2] = { PJ_BPF_CGROUP_UNIX_CONNECT, PJ_BPF_CGROUP_UNIX_SENDMSG };

static const struct {
	int type;
	const char *name;
} hooks[2] = {
	{ PJ_BPF_CGROUP_UNIX_CONNECT, "connect_unix" },
	{ PJ_BPF_CGROUP_UNIX_SENDMSG, "sendmsg_unix" },
};

int unixguard_probe(int cgroup_fd, char *why, size_t whylen)
{
	/* r0 = 1 (let it through); exit */
	static const struct bpf_insn allow[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 1 },
		{ .code = BPF_JMP | BPF_EXIT },
	};

	for (size_t i = 0; i < ARRAY_SIZE(hooks); i++) {
		LIBBPF_OPTS(bpf_prog_load_opts, o, .expected_attach_type = (enum bpf_attach_type)hooks[i].type);
		int fd = bpf_prog_load(BPF_PROG_TYPE_CGROUP_SOCK_ADDR, "pj_probe", "GPL", allow,
				       ARRAY_SIZE(allow), &o), link;

		if (fd < 0) {
			snprintf(why, whylen, "cgroup/%s does not load: %s", hooks[i].name, strerror(errno));
			return 0;
		}
		link = bpf_link_create(fd, cgroup_fd, (enum bpf_attach_type)hooks[i].type, NULL);
		close(fd);
		if (link < 0) {
			snprintf(why, whylen, "cgroup/%s does not attach: %s", hooks[i].name, strerror(errno));
			return 0;
		}
		close(link);
	}
	return 1;
}

static int check_tree(const struct unixguard_tree *t, char *err, size_t errlen)
{
	size_t len = t->path ? strlen(t->path) : 0;

	if (!len || t->path[0] != '/' || len == 1 || len > UNIXGUARD_MAX_PATH || t->path[len - 1] == '/' ||
	    strstr(t->path, "//") || strstr(t->path, "/./") || strstr(t->path, "/../") ||
	    !strcmp(t->path + len - 2, "/.") || (len >= 3 && !strcmp(t->path + len - 3, "/.."))) {
		snprintf(err, errlen, "unix guard: %s: not an absolute, normal path of at most %d bytes",
			 t->path ? t->path : "(none)", UNIXGUARD_MAX_PATH);
		return -1;
	}
	if (t->mirror && (t->mirror[0] != '/' || strlen(t->mirror) > UNIXGUARD_MAX_MIRROR ||
			  strlen(t->mirror) < 2)) {
		snprintf(err, errlen, "unix guard: the mirror %s of %s is not an absolute path of at most %d bytes",
			 t->mirror, t->path, UNIXGUARD_MAX_MIRROR);
		return -1;
	}
	return 0;
}

/* FNV-1a of a path, as up_norm_step computes it. */
static uint64_t fnv(const char *p, size_t len)
{
	uint64_t h = UP_FNV_OFFSET;

	for (size_t i = 0; i < len; i++)
		h = (h ^ (uint8_t)p[i]) * UP_FNV_PRIME;
	return h;
}

static int fill(int fd, int ifd, const struct unixguard_tree *trees, size_t n, char *err, size_t errlen)
{
	for (__u32 i = 0; i < n; i++) {
		struct up_tree v = { 0 };
		struct up_key k = { 0 };

		v.len = (__u32)strlen(trees[i].path);
		memcpy(v.path, trees[i].path, v.len);
		if (trees[i].mirror) {
			v.mlen = (__u32)strlen(trees[i].mirror);
			memcpy(v.mirror, trees[i].mirror, v.mlen);
		}
		k.len = v.len;
		k.hash = fnv(v.path, v.len);
		if (bpf_map_update_elem(fd, &i, &v, BPF_ANY) < 0 ||
		    bpf_map_update_elem(ifd, &k, &i, BPF_NOEXIST) < 0) {
			snprintf(err, errlen, "unix guard: cannot fill its table with %s: %s", v.path,
				 strerror(errno));
			return -1;
		}
	}
	/* From here on no one writes the table: not user space, not the
	 * programs (they only read it). */
	if (bpf_map_freeze(fd) < 0 || bpf_map_freeze(ifd) < 0) {
		snprintf(err, errlen, "unix guard: cannot freeze its table: %s", strerror(errno));
		return -1;
	}
	return 0;
}

int unixguard_fill(int trees_fd, int index_fd, const struct unixguard_tree *trees, size_t n,
		   char *err, size_t errlen)
{
	if (n > UNIXGUARD_MAX_TREES) {
		snprintf(err, errlen, "unix guard: %zu trees, at most %d", n, UNIXGUARD_MAX_TREES);
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		if (check_tree(&trees[i], err, errlen) < 0)
			return -1;
	return fill(trees_fd, index_fd, trees, n, err, errlen);
}

int unixguard_attach(const int prog_fds[2], int cgroup_fd, int links[2], char *err, size_t errlen)
{
	for (size_t i = 0; i < ARRAY_SIZE(hooks); i++) {
		links[i] = bpf_link_create(prog_fds[i], cgroup_fd, (enum bpf_attach_type)hooks[i].type, NULL);
		if (links[i] < 0) {
			snprintf(err, errlen, "unix guard: cannot attach cgroup/%s to the jail's cgroup: %s",
				 hooks[i].name, strerror(errno));
			return -1;
		}
	}
	return 0;
}
