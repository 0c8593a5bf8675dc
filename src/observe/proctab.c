/* The decoder's tables keyed by a host id (see proctab.h): the exe per
 * process and the fold base per thread, on one small chained hash table. */
#include "observe/proctab.h"

#include <string.h>

#include "events.h"
#include "base/base.h"

/* ---- the table ---------------------------------------------------------- */

static struct id_entry **id_slot(struct id_table *t, uint32_t id)
{
	struct id_entry **pp = &t->bucket[id % ID_BUCKETS];

	while (*pp && (*pp)->id != id)
		pp = &(*pp)->next;
	return pp;
}

static void id_put(struct id_table *t, struct id_entry *e, uint32_t id)
{
	e->id = id;
	e->next = t->bucket[id % ID_BUCKETS];
	t->bucket[id % ID_BUCKETS] = e;
}

/* The entry of id, taken out of t (the caller frees it); NULL: none. */
static struct id_entry *id_take(struct id_table *t, uint32_t id)
{
	struct id_entry **pp = id_slot(t, id), *e = *pp;

	if (e)
		*pp = e->next;
	return e;
}

/* Take the entry of id out of t and free it (nothing when there is none). */
static void id_drop(struct id_table *t, uint32_t id, void (*free_entry)(struct id_entry *e))
{
	struct id_entry *e = id_take(t, id);

	if (e)
		free_entry(e);
}

static void id_clear(struct id_table *t, void (*free_entry)(struct id_entry *e))
{
	for (size_t i = 0; i < ID_BUCKETS; i++) {
		while (t->bucket[i]) {
			struct id_entry *e = t->bucket[i];

			t->bucket[i] = e->next;
			free_entry(e);
		}
	}
}

/* ---- host pid -> exe ------------------------------------------------------ */

struct proc {
	struct id_entry e;  /* first: a struct id_entry * is a struct proc * */
	char *exe;
};

static void proc_free(struct id_entry *e)
{
	free(((struct proc *)e)->exe);
	free(e);
}

const char *proc_exe(struct id_table *procs, uint32_t hpid)
{
	struct proc *p = (struct proc *)*id_slot(procs, hpid);

	return p ? p->exe : NULL;
}

void proc_set_exe(struct id_table *procs, uint32_t hpid, const char *exe)
{
	struct proc *p = (struct proc *)*id_slot(procs, hpid);
	/* copied before the old one is freed: exe may be it (a fork record
	 * that names its own process as the child) */
	char *copy = exe ? xstrdup(exe) : NULL;

	if (!p) {
		p = xcalloc(1, sizeof(*p));
		id_put(procs, &p->e, hpid);
	}
	free(p->exe);
	p->exe = copy;
}

void proc_drop(struct id_table *procs, uint32_t hpid)
{
	id_drop(procs, hpid, proc_free);
}

void procs_clear(struct id_table *procs)
{
	id_clear(procs, proc_free);
}

/* ---- host tid -> fold base -------------------------------------------------- */

/* Per thread: a copy of its last record that identical failed lookups may
 * be folded into; an EV_REPEAT record is written as that event again, with
 * the count and the time of the last folded call. */
struct fold_base {
	struct id_entry e;  /* first, as in struct proc */
	size_t size;
	unsigned char rec[];
};

static void fold_free(struct id_entry *e)
{
	free(e);
}

struct ev_record *fold_base(struct id_table *folds, uint32_t htid, size_t *size)
{
	struct fold_base *f = (struct fold_base *)*id_slot(folds, htid);

	if (!f)
		return NULL;
	*size = f->size;
	return (struct ev_record *)f->rec;
}

void fold_save(struct id_table *folds, const struct ev_record *r, size_t size)
{
	struct fold_base *f = (struct fold_base *)*id_slot(folds, r->htid);

	if (f && f->size < size) {
		fold_drop(folds, r->htid);
		f = NULL;
	}
	if (!f) {
		f = xmalloc(sizeof(*f) + (size < 1024 ? 1024 : size));
		id_put(folds, &f->e, r->htid);
	}
	f->size = size;
	memcpy(f->rec, r, size);
}

void fold_drop(struct id_table *folds, uint32_t htid)
{
	id_drop(folds, htid, fold_free);
}

void folds_clear(struct id_table *folds)
{
	id_clear(folds, fold_free);
}
