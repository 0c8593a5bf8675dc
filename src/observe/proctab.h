/* The decoder's two tables keyed by a host id, inside the observe layer:
 * the exe of each process (host pid -> the path of its last exec, given to
 * its forks), and per thread (host tid) a copy of the record that
 * identical failed lookups were folded into (EV_REPEAT).  Chained hash
 * tables with a fixed number of buckets: an entry is allocated per
 * process or thread, never per event. */
#ifndef PIPJAIL_OBSERVE_PROCTAB_H
#define PIPJAIL_OBSERVE_PROCTAB_H

#include <stddef.h>
#include <stdint.h>

#define ID_BUCKETS 1024

struct id_entry {
	struct id_entry *next;
	uint32_t id;
};

struct id_table {
	struct id_entry *bucket[ID_BUCKETS];
};

/* host pid -> exe (NULL: none known) */
const char *proc_exe(struct id_table *procs, uint32_t hpid);
void proc_set_exe(struct id_table *procs, uint32_t hpid, const char *exe);
void proc_drop(struct id_table *procs, uint32_t hpid);
void procs_clear(struct id_table *procs);

/* host tid -> the record (size bytes) its repeats fold into (NULL: none) */
struct ev_record;
struct ev_record *fold_base(struct id_table *folds, uint32_t htid, size_t *size);
void fold_save(struct id_table *folds, const struct ev_record *r, size_t size);
void fold_drop(struct id_table *folds, uint32_t htid);
void folds_clear(struct id_table *folds);

#endif
