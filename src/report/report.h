/* Reports of a run (or a replay): a human summary for stderr, and a JSON
 * document for machines (schema: docs/report-format.md). */
#ifndef PIPJAIL_REPORT_H
#define PIPJAIL_REPORT_H

#include <stdbool.h>
#include <stdio.h>

#include <cjson/cJSON.h>

#include "decide/engine.h"

#define REPORT_FORMAT         "pipjail-report"
#define REPORT_FORMAT_VERSION 1

/* Colour on fd: a terminal, and NO_COLOR unset (https://no-color.org). */
bool report_use_color(int fd);

/* The human summary: per package its verdict, each violation with the
 * rule, the evidence, the process chain and what was done; one line for a
 * clean run.  exit_code is pipjail's exit code (engine_exit_code). */
void report_print(const struct engine *e, FILE *out, bool color, int exit_code);

/* The one line a CI log ends with (always printed last):
 *   pipjail: verdict: clean|violation|incomplete (N violations in M packages[, K baselined]; exit X)
 * "clean, pip failed (...)" (", the command failed" when it is not pip) when
 * nothing was found but the command itself ended with a status other than 0.
 * N and M count the violations that count (not baselined); no pids, no times. */
void report_verdict_line(const struct engine *e, FILE *out, int exit_code);

/* The report as JSON (caller frees). */
cJSON *report_json(const struct engine *e, int exit_code);
/* Write it to fd (opened by the caller with the user's rights; not closed).
 * 0, or -1 with errno. */
int report_write_json_fd(const struct engine *e, int fd, int exit_code);

/* pipjail's exit code in words: "a violator was killed", ... */
const char *report_exit_meaning(int code);

/* What was done about one violation: "killed", "reported (audit: would kill)", ... */
const char *report_outcome(const struct engine *e, const struct violation_record *v,
			   char *buf, size_t len);

/* The rest of the layer's public side. */
#include "report/baseline.h"
#include "report/ci.h"
#include "report/findings.h"
#include "report/html.h"
#include "report/origins.h"
#include "report/sarif.h"

#endif
