/* The capture plan, inside the observe layer: for each native syscall
 * number, what the BPF program copies at entry and resolves at exit
 * (struct sc_spec, include/events.h) and the event kind it becomes. */
#ifndef PIPJAIL_OBSERVE_PLAN_H
#define PIPJAIL_OBSERVE_PLAN_H

#include <stdbool.h>

#include "events.h"

/* Fill the program's read-only specs (before load) and the kind of each
 * traced number (NULL for the others). */
void plan_fill(struct sc_spec specs[SC_NR_MAX], const char *kind_of[SC_NR_MAX]);

/* Kinds whose raw arguments go into the trace (the others are decoded). */
bool plan_kind_writes_args(const char *kind);

#endif
