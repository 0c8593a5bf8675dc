/* Joining an exec's argument and environment area (see execargs.h). */
#include "observe/execargs.h"

#include <stdlib.h>
#include <string.h>

#include "events.h"
#include "observe/trace.h"
#include "base/base.h"

/* The bytes of argv the exec record itself carries. */
static uint64_t head_of(uint64_t argvlen)
{
	return argvlen < EV_ARGV_MAX ? argvlen : EV_ARGV_MAX;
}

static struct xargs_slot *slot_of(struct execargs *x, uint32_t htid)
{
	for (size_t i = 0; i < XARGS_SLOTS; i++)
		if (x->slot[i].htid == htid)
			return &x->slot[i];
	return NULL;
}

/* A slot for htid's new area: its own, a free one, or the oldest. */
static struct xargs_slot *slot_new(struct execargs *x, uint32_t htid)
{
	struct xargs_slot *s = slot_of(x, htid), *oldest = &x->slot[0];

	for (size_t i = 0; !s && i < XARGS_SLOTS; i++) {
		if (!x->slot[i].htid)
			s = &x->slot[i];
		else if (x->slot[i].used < oldest->used)
			oldest = &x->slot[i];
	}
	if (!s)
		s = oldest;  /* a thread whose exec record never came (lost) */
	s->htid = htid;
	s->have = 0;
	s->broken = false;
	return s;
}

bool execargs_piece(struct execargs *x, const struct ev_record *r)
{
	uint64_t off = r->args[0], total = r->args[1], argvlen = r->args[2], n = r->data_len;
	bool first = off == head_of(argvlen);
	struct xargs_slot *s;

	if (!r->htid || !n || total > XARGS_MAX || argvlen > total || off >= total || n > total - off ||
	    off < head_of(argvlen))
		return false;
	s = first ? slot_new(x, r->htid) : slot_of(x, r->htid);
	if (!s)
		return true;  /* the first piece was lost: the exec record will say so */
	if (first) {
		s->head = off;
		s->total = total;
		s->argvlen = argvlen;
	} else if (s->total != total || s->argvlen != argvlen || off != s->head + s->have) {
		s->broken = true;
	}
	s->used = ++x->clock;
	if (s->broken)
		return true;
	if (s->cap < total - s->head) {
		s->cap = total - s->head;
		s->buf = xrealloc(s->buf, s->cap);
	}
	memcpy(s->buf + s->have, r->data, n);
	s->have += n;
	return true;
}

/* Pointers to the NUL-terminated strings of b[0, n) (b[n] is a NUL) into
 * x->ptrs from index at, then a NULL; the index after it. */
static size_t split(struct execargs *x, char *b, size_t n, size_t at)
{
	size_t count = 0;

	for (size_t i = 0; i < n; i += strlen(b + i) + 1)
		count++;
	if (x->ptrs_cap < at + count + 1) {
		x->ptrs_cap = at + count + 1 + 64;
		x->ptrs = xrealloc(x->ptrs, x->ptrs_cap * sizeof(*x->ptrs));
	}
	for (size_t i = 0; i < n; i += strlen(b + i) + 1)
		x->ptrs[at++] = b + i;
	x->ptrs[at++] = NULL;
	return at;
}

/* A slot's exec has come or its thread is gone: free for another; a large
 * buffer goes back (a big area is rare, and slots are many). */
static void slot_release(struct xargs_slot *s)
{
	s->htid = 0;
	if (s->cap > XARGS_KEEP) {
		free(s->buf);
		s->buf = NULL;
		s->cap = 0;
	}
}

void execargs_join(struct execargs *x, const struct ev_record *r, const uint8_t *head, size_t len,
		   struct trace_event *ev)
{
	struct xargs_slot *s = slot_of(x, r->htid);
	uint64_t total = len, argvlen = len, have = len, claimed = len;
	bool whole = !(r->flags & EVF_ARGS_LOST);
	size_t at;

	if (x->shrink) {
		/* the last exec's area was large: its strings are not needed now */
		free(x->area);
		free(x->ptrs);
		x->area = NULL;
		x->ptrs = NULL;
		x->area_cap = x->ptrs_cap = 0;
		x->shrink = false;
	}

	if (r->flags & EVF_ARGS_MORE) {
		total = r->args[1];
		claimed = argvlen = r->args[2];
		if (total > XARGS_MAX || argvlen > total || total <= len || len != head_of(argvlen)) {
			total = argvlen = claimed = len;  /* malformed: the record's share alone */
			whole = false;
		} else if (s && !s->broken && s->head == len && s->total == total && s->argvlen == argvlen) {
			have = len + s->have;
		}
	}
	if (have < total)
		whole = false;
	if (x->area_cap < have + 2) {
		x->area_cap = have + 2;
		x->area = xrealloc(x->area, x->area_cap);
	}
	if (len)
		memcpy(x->area, head, len);
	if (have > len)
		memcpy(x->area + len, s->buf, have - len);
	if (argvlen > have)
		argvlen = have;
	/* argv, a NUL, the environment, a NUL: each part ends its last string */
	memmove(x->area + argvlen + 1, x->area + argvlen, have - argvlen);
	x->area[argvlen] = '\0';
	x->area[have + 1] = '\0';
	at = split(x, x->area, argvlen, 0);
	split(x, x->area + argvlen + 1, have - argvlen, at);
	ev->argv = x->ptrs;
	ev->argv_truncated = have < claimed;
	ev->env = whole ? x->ptrs + at : NULL;
	ev->script = r->flags & EVF_SCRIPT;
	if (s)
		slot_release(s);
	if (x->area_cap > XARGS_KEEP) {
		/* the strings stay valid until the next call: freed then */
		x->shrink = true;
	}
}

void execargs_drop(struct execargs *x, uint32_t htid)
{
	struct xargs_slot *s = slot_of(x, htid);

	if (s)
		slot_release(s);
}

void execargs_free(struct execargs *x)
{
	for (size_t i = 0; i < XARGS_SLOTS; i++)
		free(x->slot[i].buf);
	free(x->area);
	free(x->ptrs);
	memset(x, 0, sizeof(*x));
}
