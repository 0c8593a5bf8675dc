/* The options of one analysis: `pipjail analyze PATH` takes them, and a
 * batch (batch.c) takes the same and passes them on to each of its
 * analyses.  Internal to src/cmd/. */
#ifndef PIPJAIL_CMD_ANALYZE_H
#define PIPJAIL_CMD_ANALYZE_H

#include <getopt.h>
#include <stdbool.h>

#define ANALYZE_TIMEOUT_S 300

struct analyze_opts {
	const char *path;            /* the package (a batch has none) */
	const char *out;
	const char *index_url;
	bool import;
	bool fast_time;
	unsigned long long timeout_s;
	int verbose;
};

enum { ANALYZE_O_IMPORT = 256, ANALYZE_O_OUT, ANALYZE_O_FAST, ANALYZE_O_TIMEOUT, ANALYZE_O_INDEX,
       ANALYZE_O_NEXT /* the first value free for a caller's own options */ };

/* Their entries of a struct option table (getopt_long). */
#define ANALYZE_OPTIONS                                                       \
	{ "import", no_argument, NULL, ANALYZE_O_IMPORT },                    \
	{ "out", required_argument, NULL, ANALYZE_O_OUT },                    \
	{ "fast-time", no_argument, NULL, ANALYZE_O_FAST },                   \
	{ "timeout", required_argument, NULL, ANALYZE_O_TIMEOUT },            \
	{ "index-url", required_argument, NULL, ANALYZE_O_INDEX },            \
	{ "verbose", no_argument, NULL, 'v' }

/* getopt_long's c (and optarg) applied to o when it is one of them: true;
 * false for any other c.  Dies on a bad value. */
bool analyze_option(int c, const char *arg, struct analyze_opts *o);

#endif
