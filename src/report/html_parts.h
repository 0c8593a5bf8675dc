/* The pieces of report/html.c that the other pages of report/ (the batch
 * index, index.c) share with the single report: escaping, cells, JSON
 * look-ups and the page's head with its CSS.  Internal to report/. */
#ifndef PIPJAIL_HTML_PARTS_H
#define PIPJAIL_HTML_PARTS_H

#include <stdio.h>

#include <cjson/cJSON.h>

/* s escaped for HTML text and attribute values (control bytes shown as '.'). */
void html_esc(FILE *f, const char *s);
/* sep and s escaped, when there is an s. */
void html_esc_opt(FILE *f, const char *sep, const char *s);
/* The end of a table cell, and the next one with s. */
void html_next_cell(FILE *f, const char *s);
/* o[k] when it is a string (else NULL), when it is a number (else 0). */
const char *html_str(const cJSON *o, const char *k);
double html_num(const cJSON *o, const char *k);
/* From <!DOCTYPE> to the page's <h1>title</h1>: no external asset (a CSP
 * that forbids any), the report's CSS and extra_css inline. */
void html_page_start(FILE *f, const char *title, const char *extra_css);

#endif
