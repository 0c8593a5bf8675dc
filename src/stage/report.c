/* Staged install: what the user reads of a scanned and checked stage, as
 * text (the report section, --dry-run) and as JSON (--report). */
#include <stdio.h>

#include "stage/internal.h"

const char *stage_what_name(enum stage_what w)
{
	return w == STAGE_ADDED ? "added" : w == STAGE_CHANGED ? "changed" : "removed";
}

void stage_report_text(const struct stage *s, FILE *f, const struct stage_hooks *h)
{
	const struct stage_result *r = &s->res;
	size_t unowned = 0;

	fprintf(f, "staged install into %s: %zu file(s) changed%s\n", s->target, r->n_files,
		s->committed ? ", committed" : "");
	for (size_t d = 0; d < r->n_dists; d++) {
		const struct stage_dist *sd = &r->dists[d];

		if (sd->record_bad) {
			fprintf(f, "  RECORD unreadable: %s\n", sd->record_error);
			continue;
		}
		fprintf(f, "  %s %s (%s%s): %zu added, %zu changed, %zu removed\n", sd->name, sd->version,
			sd->installed && sd->removed ? "reinstalled" : sd->installed ? "installed" : "removed",
			sd->legacy ? ", legacy setup.py install: files listed, no hashes" : "",
			sd->n_added, sd->n_changed, sd->n_removed);
		if (pj_verbose < 1)
			continue;
		for (size_t i = 0; i < r->n_files; i++)
			if (r->files[i].dist == (int)d)
				fprintf(f, "    %-7s %s\n", stage_what_name(r->files[i].what), r->files[i].path);
	}
	for (size_t i = 0; i < r->n_files; i++)
		if (r->files[i].dist < 0)
			unowned++;
	if (unowned) {
		fprintf(f, "  no distribution: %zu file(s)\n", unowned);
		for (size_t i = 0; i < r->n_files; i++)
			if (r->files[i].dist < 0)
				fprintf(f, "    %-7s %s\n", stage_what_name(r->files[i].what), r->files[i].path);
	}
	if (r->n_violations)
		fprintf(f, "  findings: %zu\n", r->n_violations);
	for (size_t i = 0; i < r->n_files; i++) {
		const struct stage_file *sf = &r->files[i];
		char who[512] = "writer unknown";

		if (!sf->reason)
			continue;
		if (sf->writer && h && h->describe)
			h->describe(h->ctx, sf->writer, who, sizeof(who));
		else if (sf->writer)
			snprintf(who, sizeof(who), "written by pid %u", sf->writer);
		fprintf(f, "    %s %s: %s: %s [%s]\n", stage_what_name(sf->what), sf->path, sf->rule, sf->reason,
			who);
		if (sf->extra)
			fprintf(f, "    %s %s: %s: %s [%s]\n", stage_what_name(sf->what), sf->path,
				STAGE_RULE_TOKEN, sf->extra, who);
	}
}

void stage_report_json(const struct stage *s, cJSON *obj)
{
	const struct stage_result *r = &s->res;
	cJSON *st = cJSON_AddObjectToObject(obj, "staging"), *dists, *und;

	if (!st)
		return;
	cJSON_AddStringToObject(st, "target", s->target);
	cJSON_AddBoolToObject(st, "committed", s->committed);
	dists = cJSON_AddArrayToObject(st, "distributions");
	for (size_t d = 0; dists && d < r->n_dists; d++) {
		const struct stage_dist *sd = &r->dists[d];
		cJSON *o = cJSON_CreateObject(), *lists[3];

		if (!o)
			break;
		cJSON_AddItemToArray(dists, o);
		if (sd->record_bad) {
			cJSON_AddStringToObject(o, "record_error", sd->record_error);
			continue;
		}
		cJSON_AddStringToObject(o, "name", sd->name);
		cJSON_AddStringToObject(o, "version", sd->version);
		cJSON_AddStringToObject(o, "dist_info", sd->dist_info);
		cJSON_AddStringToObject(o, "manifest", sd->legacy ? EGG_MANIFEST : "RECORD");
		cJSON_AddBoolToObject(o, "installed", sd->installed);
		cJSON_AddBoolToObject(o, "removed", sd->removed);
		lists[0] = cJSON_AddArrayToObject(o, "added");
		lists[1] = cJSON_AddArrayToObject(o, "changed");
		lists[2] = cJSON_AddArrayToObject(o, "removed_files");
		for (size_t i = 0; i < r->n_files; i++)
			if (r->files[i].dist == (int)d && lists[r->files[i].what])
				cJSON_AddItemToArray(lists[r->files[i].what], cJSON_CreateString(r->files[i].path));
	}
	und = cJSON_AddArrayToObject(st, "undeclared");
	for (size_t i = 0; und && i < r->n_files; i++) {
		const struct stage_file *sf = &r->files[i];
		cJSON *o;

		if (!sf->reason || !(o = cJSON_CreateObject()))
			continue;
		cJSON_AddItemToArray(und, o);
		cJSON_AddStringToObject(o, "path", sf->path);
		cJSON_AddStringToObject(o, "change", stage_what_name(sf->what));
		cJSON_AddStringToObject(o, "rule", sf->rule);
		cJSON_AddStringToObject(o, "reason", sf->reason);
		if (sf->extra)
			cJSON_AddStringToObject(o, "also", sf->extra);
		cJSON_AddNumberToObject(o, "writer_hpid", sf->writer);
	}
}
