/* The self-contained HTML report of `pipjail analyze --out DIR`: one page,
 * no external assets and no script, built from the run's trace and JSON
 * report; and the index of a batch of them. */
#ifndef PIPJAIL_HTML_H
#define PIPJAIL_HTML_H

#include <stddef.h>
#include <stdio.h>

#include "base/base.h"

/* Read trace_path and report_path and write out_path, each with the
 * user's rights.  0, or -1 with a reason in err. */
int html_report(const struct jail_user *u, const char *trace_path, const char *report_path,
		const char *out_path, char *err, size_t errlen);

/* The page to out from the trace's text and the report's JSON (either may
 * be NULL): exposed for the unit tests. */
void html_render(FILE *out, const char *trace, size_t trace_len, const char *report_json);

/* The index page of a batch (report/index.c) from its summary.json
 * document (docs/report-format.md): the packages, most severe first, each
 * linking to its own report.html; the violations per rule. */
struct cJSON;
void html_batch_index(FILE *out, const struct cJSON *summary);

#endif
