/* SARIF 2.1.0 output (--sarif FILE) for code scanning (GitHub and other
 * viewers): one rule per pipjail rule id, one result per violation, at the
 * requirements line that pulled the package in when pipjail can tell.
 * docs/ci.md describes the mapping. */
#ifndef PIPJAIL_SARIF_H
#define PIPJAIL_SARIF_H

#include <stdbool.h>

#include <cjson/cJSON.h>

#include "decide/engine.h"
#include "report/origins.h"

#define SARIF_VERSION "2.1.0"
#define SARIF_SCHEMA  "https://json.schemastore.org/sarif-2.1.0.json"
/* The key of partialFingerprints: the baseline key of the finding (package,
 * rule, normalised evidence), so a viewer tracks one finding across runs. */
#define SARIF_FINGERPRINT "pipjailFinding/v1"

struct sarif_ctx {
	const struct origins *origins;     /* NULL: no requirements files known */
	const char *const *argv;           /* the jailed command, NULL: unknown */
	int exit_code;                     /* pipjail's */
	bool baseline;                     /* a baseline was used: results say new or unchanged */
};

/* The SARIF log (caller frees). */
cJSON *sarif_json(const struct engine *e, const struct sarif_ctx *ctx);
/* Write it to fd (opened by the caller with the user's rights; not
 * closed).  0, or -1 with errno. */
int sarif_write_fd(const struct engine *e, int fd, const struct sarif_ctx *ctx);

#endif
