/* Where a unix socket path leads, decided before the kernel looks it up
 * (bpf/unixguard.bpf.c; tests/unit/observe/unix_path.bpf.c runs the same
 * code on test inputs).
 *
 * The socket path a program names is a string that the kernel resolves
 * only after the guard ran, following symlinks and "..": a string check
 * alone is defeated by a symlink in /tmp that points at a host socket.  So
 * the guard does not let the kernel resolve the name as written.  It
 *   1. makes the name absolute (the current directory, walked in the
 *      kernel, for a relative name) and lexically normal: no ".", "..",
 *      "//" (up_normalise);
 *   2. looks for the longest entry of the table (set by pipjail before the
 *      command runs, then frozen) that holds it (up_match): a tree of the
 *      jail's own (its tmpfs mounts, --rw binds) or a tree that is not
 *      (a read-only bind below one of them);
 *   3. for a tree of the jail's own, rewrites the name to the same place
 *      below that tree's mirror: a read-only, nosymfollow bind of that one
 *      mount (no submounts) that pipjail made at /dev/.uN (up_rewrite).
 * Everything else is refused (the call fails with EPERM before the kernel
 * resolved anything, so no byte moves).
 *
 * Why the rewritten name cannot leave the jail's own trees, whatever the
 * package does (even racing another task on the per-CPU state below, which
 * a preempted program shares): the final name is built and checked on this
 * program's own stack: it starts with a mirror root taken from the frozen
 * table and has no "." or ".." component; the kernel then resolves it
 * inside one mount that follows no symlink and holds no other mount, that
 * the package cannot change (mount calls are refused in the jail) and that
 * shows only a tree of the jail's own. */
#pragma once

#include "helpers/common.bpf.h"
#include "unixguard_abi.h"   /* struct up_tree, UP_OUT, UP_TREES, UP_MIRROR */

#define UP_IN         512   /* [cwd '/'] name: what is normalised (power of two) */
#define UP_DEPTH      64    /* components kept (power of two) */
#define UNIX_PATH_MAX 108

/* The work of one call (per CPU: too big for the stack). */
struct up_state {
	char out[UP_OUT];         /* the normal path */
	char in[UP_IN];
	char sun[128];            /* the rewritten name, NUL-terminated (UP_SUN) */
	__u64 hs[UP_DEPTH];       /* FNV-1a of out[0 .. ends[k]) */
	__u16 ends[UP_DEPTH];     /* end of each kept component in out; [0] = 0 */
	__u64 h;                  /* FNV-1a of out[0 .. out_len) */
	__u32 in_len, out_len, depth, comp, dots, end, bad;
	__u32 best, found;
};

/* Written by user space before attach, then frozen (BPF_MAP_FREEZE): no
 * one writes them while the jail runs.  up_trees: the entries; up_index:
 * (length, hash of the path) -> entry. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, UP_TREES);
	__type(key, __u32);
	__type(value, struct up_tree);
} up_trees SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, UP_TREES);
	__type(key, struct up_key);
	__type(value, __u32);
} up_index SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct up_state);
} up_states SEC(".maps");

static __always_inline struct up_state *up_state(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&up_states, &zero);
}

static __always_inline __u64 up_fnv(__u64 h, char c)
{
	return (h ^ (__u8)c) * UP_FNV_PRIME;
}

/* One byte of in[]: "." and ".." components are dropped (".." drops the
 * one before it too, and stays at the root); so are empty ones. */
static long up_norm_step(__u32 i, void *arg)
{
	struct up_state *s = up_state();
	char c;

	if (!s)
		return 1;
	c = i < s->in_len ? s->in[i & (UP_IN - 1)] : 0;
	if (c == 0)
		s->end = 1;
	if (c == 0 || c == '/') {
		if (s->comp) {
			if (s->comp == s->dots && s->comp <= 2) {
				if (s->comp == 2 && s->depth > 0)
					s->depth--;
				s->out_len = s->ends[s->depth & (UP_DEPTH - 1)];
			} else if (s->depth < UP_DEPTH - 1) {
				s->depth++;
				s->ends[s->depth & (UP_DEPTH - 1)] = s->out_len;
				s->hs[s->depth & (UP_DEPTH - 1)] = s->h;
			} else {
				s->bad = 1;
				return 1;
			}
			s->comp = s->dots = 0;
		}
		return s->end ? 1 : 0;
	}
	if (s->out_len >= UP_OUT - 2) {
		s->bad = 1;
		return 1;
	}
	if (!s->comp) {
		s->h = up_fnv(s->hs[s->depth & (UP_DEPTH - 1)], '/');
		s->out[s->out_len++ & (UP_OUT - 1)] = '/';
	}
	s->h = up_fnv(s->h, c);
	s->out[s->out_len++ & (UP_OUT - 1)] = c;
	s->comp++;
	if (c == '.')
		s->dots++;
	return 0;
}

/* in[0 .. in_len) -> out[0 .. out_len), absolute and normal (out_len 0:
 * the root), with the hash of each of its prefixes.  false: too long or
 * too deep. */
static __always_inline bool up_normalise(struct up_state *s)
{
	s->out_len = s->depth = s->comp = s->dots = s->end = s->bad = 0;
	s->ends[0] = 0;
	s->hs[0] = UP_FNV_OFFSET;
	bpf_loop(UP_IN + 1, up_norm_step, NULL, 0);
	return s->end && !s->bad;
}

/* Is the prefix of out[] that ends after component depth - i a tree?  The
 * first found is the longest. */
static long up_match_step(__u32 i, void *arg)
{
	struct up_state *s = up_state();
	struct up_key key = {};
	__u32 k, *idx;

	if (!s || i >= s->depth)
		return 1;
	k = (s->depth - i) & (UP_DEPTH - 1);
	key.len = s->ends[k];
	key.hash = s->hs[k];
	idx = bpf_map_lookup_elem(&up_index, &key);
	if (!idx)
		return 0;
	s->best = *idx;
	s->found = 1;
	return 1;
}

/* The longest tree that holds out[]; NULL: none.  By hash and length,
 * without comparing the bytes: a collision could only send a name below
 * the mirror of a tree of the jail's own (where it finds nothing); it can
 * never make a name reach anything outside those trees. */
static __always_inline struct up_tree *up_match(struct up_state *s)
{
	__u32 key;

	s->found = s->best = 0;
	bpf_loop(UP_DEPTH, up_match_step, NULL, 0);
	if (!s->found)
		return NULL;
	key = s->best;
	return bpf_map_lookup_elem(&up_trees, &key);
}

/* The rewritten name, checked where no one else can write it. */
struct up_final {
	char sun[UP_SUN];         /* NUL from its length on */
	char mirror[UP_MIRROR];   /* the entry's, from the frozen table */
	__u32 mlen, len, ok;
};

/* Byte i of f->sun, the index masked in the register really used. */
static __always_inline char up_at(const struct up_final *f, __u32 i)
{
	asm volatile("" : "+r"(i));
	return f->sun[i & (UP_SUN - 1)];
}

/* Byte j of the name: the mirror's bytes first, then '/' or the end, and
 * no "." or ".." component: a '/' followed by one or two dots and another
 * '/' or the end.  Each byte is judged alone, so the verifier's states for
 * this callback converge at once. */
static long up_check_step(__u32 j, void *arg)
{
	struct up_final *f = arg;
	char c, c1, c2, c3;

	if (j > UNIX_PATH_MAX) {
		f->ok = 0;              /* no NUL: longer than a socket name */
		return 1;
	}
	c = up_at(f, j);
	if (j < f->mlen && c != f->mirror[j & (UP_MIRROR - 1)]) {
		f->ok = 0;
		return 1;
	}
	if (j == f->mlen && c != '/' && c != 0) {
		f->ok = 0;              /* the name must go on below the mirror */
		return 1;
	}
	if (c == 0) {
		f->len = j;
		return 1;
	}
	c1 = up_at(f, j + 1);
	c2 = up_at(f, j + 2);
	c3 = up_at(f, j + 3);
	if (c == '/' && c1 == '.' && (c2 == '/' || c2 == 0 || (c2 == '.' && (c3 == '/' || c3 == 0)))) {
		f->ok = 0;              /* "." or "..": could step out of the mirror */
		return 1;
	}
	return 0;
}

/* Mirror of t + out[t->len .. out_len) into f->sun (NUL-terminated), then
 * checked in f (the stack).  false: too long for a socket name, or the
 * check failed. */
static __always_inline bool up_rewrite(struct up_state *s, struct up_tree *t, struct up_final *f)
{
	__u32 mlen = t->mlen, rest = s->out_len - t->len;

	if (mlen == 0 || mlen >= UP_MIRROR || t->len > s->out_len || mlen + rest > UNIX_PATH_MAX)
		return false;
	__builtin_memset(s->sun, 0, sizeof(s->sun));
	bpf_probe_read_kernel(s->sun, mlen & (UP_MIRROR - 1), t->mirror);
	if (rest)
		bpf_probe_read_kernel(&s->sun[mlen & (UP_MIRROR - 1)], rest & 127,
				      &s->out[t->len & (UP_OUT - 1)]);
	/* from here on, only the stack copy counts */
	bpf_probe_read_kernel(f->sun, sizeof(f->sun), s->sun);
	f->sun[UNIX_PATH_MAX] = 0;
	bpf_probe_read_kernel(f->mirror, sizeof(f->mirror), t->mirror);
	f->mlen = mlen;
	f->len = 0;
	f->ok = 1;
	bpf_loop(UNIX_PATH_MAX + 2, up_check_step, f, 0);
	return f->ok && f->len >= mlen && f->len <= UNIX_PATH_MAX;
}
