/* A finding (one violation) as CI tools show it: what each pipjail rule
 * means (for readers and SARIF viewers), the finding's message, and the
 * findings of a run in a stable order. */
#ifndef PIPJAIL_FINDINGS_H
#define PIPJAIL_FINDINGS_H

#include <stddef.h>

#include "decide/engine.h"
#include "report/origins.h"

/* What a reader (and a SARIF viewer) is told about each pipjail rule. */
struct finding_rule {
	const char *id;           /* "decoy-read" */
	const char *name;         /* "DecoyRead" */
	const char *title;        /* "read a decoy secret" (after a package name) */
	const char *description;  /* what it means, in full */
	const char *help;         /* how to fix it, or allow it */
	const char *severity;     /* GitHub's security-severity, "0.0" .. "10.0" */
};
/* Every rule pipjail knows, in a fixed order. */
const struct finding_rule *finding_rules(size_t *n);
/* The rule of that id, NULL when unknown. */
const struct finding_rule *finding_rule(const char *id);
/* The texts for a rule id pipjail does not describe (id is NULL). */
extern const struct finding_rule finding_rule_unknown;

/* "evil 1.0 (build_wheel) read a decoy secret: EVIDENCE", then lines for
 * the chain, the profile rule, what was done, and where it came from
 * (malloc'd; no pids, no times).  loc may be NULL. */
char *finding_message(const struct engine *e, const struct violation_record *v,
		      const struct origin *loc);

/* The violations in a stable order: package, rule, normalised evidence
 * (the order events arrive in differs between runs).  malloc'd indices
 * for engine_violation(), *n set. */
size_t *findings_sorted(const struct engine *e, size_t *n);

#endif
