/* The sinkhole of --net sinkhole (pipjail analyze): glue between the
 * supervisor and src/net/sinkhole.c.  Every connection the jail makes is
 * answered locally; each capture is written to the trace, saved under the
 * analysis's --out folder, and searched for the run's decoy tokens (a hit
 * is an "exfiltration" violation).  Runs on the supervisor's side. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "base/base.h"
#include "decide/engine.h"
#include "net/net.h"
#include "observe/monitor.h"
#include "run/internal.h"

#define MAX_SLEEP_NOTES 64

/* What the sinkhole glue needs beyond struct run: one run per process. */
static struct sink_state {
	unsigned captures;
	unsigned long sleeps;
	unsigned long connects;
	int notify_child;             /* the jail's end of the listener socketpair */
} an = { .notify_child = -1 };

static int who(uint16_t port, uint32_t *hpid, void *ctx)
{
	struct run *r = ctx;

	if (sock_owner(r->init, r->cg.v2_path, port, hpid) < 0)
		return -1;
	if (r->mon)
		monitor_consume(r->mon); /* the engine must know the process */
	return 0;
}

/* Printable text of captured bytes for the trace and the report. */
static char *printable(const unsigned char *b, size_t n)
{
	char *s = xmalloc(n + 1);

	for (size_t i = 0; i < n; i++)
		s[i] = (b[i] >= 0x20 && b[i] < 0x7f) || b[i] == '\n' || b[i] == '\r' || b[i] == '\t'
		       ? (char)b[i] : '.';
	s[n] = '\0';
	return s;
}

/* payloads/NNN-tcp-ADDR-PORT.bin, payloads/dns.txt */
static char *save_payload(const struct run *r, const struct sink_capture *c, unsigned n)
{
	autofree char *path = NULL;
	autoclose int fd = -1;
	char *name;

	if (!r->opt->sink_out)
		return NULL;
	if (strcmp(c->proto, "dns") == 0) {
		autofree char *line = xasprintf("%s %s %s\n", c->addr, c->dns_qtype, c->dns_name);

		path = xasprintf("%s/payloads/dns.txt", r->opt->sink_out);
		fd = open_as_user(&r->cfg->user, path, O_WRONLY | O_CREAT | O_APPEND, 0644);
		if (fd < 0 || write_all(fd, line, strlen(line)) < 0)
			warn_errno("%s", path);
		return xstrdup("payloads/dns.txt");
	}
	name = xasprintf("payloads/%03u-tcp-%s-%u.bin", n, c->addr, c->port);
	for (char *p = name + 9; *p; p++)
		if (*p == ':')
			*p = '_';
	path = xasprintf("%s/%s", r->opt->sink_out, name);
	fd = open_as_user(&r->cfg->user, path, O_WRONLY | O_CREAT | O_EXCL, 0644);
	if (fd < 0 || write_all(fd, c->data, c->len) < 0)
		warn_errno("%s", path);
	return name;
}

static void on_capture(const struct sink_capture *c, void *ctx)
{
	struct run *r = ctx;
	bool dns = strcmp(c->proto, "dns") == 0;
	unsigned n = ++an.captures;
	autofree char *file = save_payload(r, c, n);
	autofree char *text = NULL, *squeezed = NULL;
	const struct proc_info *pi = c->hpid ? engine_proc(r->engine, c->hpid) : NULL;
	const char *how = NULL;
	int d;

	if (r->trace) {
		cJSON *f = cJSON_CreateObject();

		cJSON_AddStringToObject(f, "proto", c->proto);
		cJSON_AddStringToObject(f, "addr", c->addr);
		cJSON_AddNumberToObject(f, "port", c->port);
		if (c->hpid)
			cJSON_AddNumberToObject(f, "hpid", c->hpid);
		if (pi) {
			cJSON_AddNumberToObject(f, "pid", pi->pid);
			cJSON_AddStringToObject(f, "role", role_name(pi->role));
			if (pi->package)
				cJSON_AddStringToObject(f, "package", pi->package);
		}
		if (dns) {
			cJSON_AddStringToObject(f, "dns_query", c->dns_name);
			cJSON_AddStringToObject(f, "dns_qtype", c->dns_qtype);
		} else {
			text = printable(c->data, c->len);
			cJSON_AddNumberToObject(f, "bytes", (double)c->len);
			cJSON_AddBoolToObject(f, "truncated", c->truncated);
			cJSON_AddStringToObject(f, "data", text);
		}
		if (file)
			cJSON_AddStringToObject(f, "payload_file", file);
		trace_write_note(r->trace, "sinkhole", f);
		cJSON_Delete(f);
	}
	if (dns) {
		/* Tunnelled data is split into labels: look at it without the dots. */
		size_t o = 0;

		squeezed = xstrdup(c->dns_name);
		for (const char *p = c->dns_name; *p; p++)
			if (*p != '.')
				squeezed[o++] = *p;
		squeezed[o] = '\0';
		d = engine_find_decoy(r->engine, (const unsigned char *)squeezed, o, true, &how);
	} else {
		d = engine_find_decoy(r->engine, c->data, c->len, false, &how);
	}
	if (d >= 0) {
		const char *where;
		char evidence[1024], detail[256];
		autofree char *first = NULL;
		struct violation v = { .rule = "exfiltration", .kind = "network", .evidence = evidence,
				       .detail = detail, .hpid = c->hpid, .action = ACTION_REPORT,
				       .t_mono_ns = now_ns() };

		engine_decoy(r->engine, (size_t)d, &where);
		if (dns) {
			snprintf(evidence, sizeof(evidence), "DNS %s query to %s: %s", c->dns_qtype, c->addr,
				 c->dns_name);
		} else {
			size_t l = strcspn(text ? text : "", "\r\n");

			first = xasprintf("%.*s", (int)(l > 200 ? 200 : l), text ? text : "");
			snprintf(evidence, sizeof(evidence), "TCP %s port %u: %s (%zu bytes%s%s)", c->addr,
				 c->port, first, c->len, file ? ", " : "", file ? file : "");
		}
		snprintf(detail, sizeof(detail), "the sinkhole captured the decoy %s (%s) in what was sent",
			 where, how);
		engine_report(r->engine, &v);
	}
}

static void on_notify(const char *call, uint32_t hpid, const char *detail, void *ctx)
{
	struct run *r = ctx;
	bool sleep = strcmp(call, "sleep") == 0;
	unsigned long n = sleep ? ++an.sleeps : ++an.connects;
	cJSON *f;

	if (!r->trace || (sleep && n > MAX_SLEEP_NOTES))
		return;
	f = cJSON_CreateObject();
	cJSON_AddStringToObject(f, "call", call);
	cJSON_AddNumberToObject(f, "hpid", hpid);
	cJSON_AddStringToObject(f, "what", sleep ? "answered at once (--fast-time)"
					       : "a sinkhole listener waits on this port");
	cJSON_AddStringToObject(f, "detail", detail);
	trace_write_note(r->trace, "sinkhole-call", f);
	cJSON_Delete(f);
}

void sink_prepare(struct run *r)
{
	struct jail_config *cfg = r->cfg;
	struct sinkhole_opts o = { .fast_time = cfg->fast_time, .who = who, .on_capture = on_capture,
				   .on_notify = on_notify, .ctx = r };
	char err[512];
	int sv[2];

	if (cfg->net != NET_SINKHOLE)
		return;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		die_errno("socketpair");
	r->sink = sinkhole_new(&o, sv[0], err, sizeof(err));
	if (!r->sink)
		die("%s", err);
	cfg->notify = true;
	cfg->notify_sock = sv[1];
	an.notify_child = sv[1];
}

int sink_listen(struct run *r)
{
	char path[64], err[512];
	autoclose int ns = -1;

	if (!r->sink)
		return 0;
	/* The jail's init and its commands hold their own copy now. */
	closep(&an.notify_child);
	r->cfg->notify_sock = -1;
	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)r->init);
	ns = open(path, O_RDONLY | O_CLOEXEC);
	if (ns < 0 || sinkhole_setup_netns(r->sink, ns, err, sizeof(err)) < 0) {
		warnx_("the sinkhole: %s", ns < 0 ? strerror(errno) : err);
		return -1;
	}
	run_epoll_add(r, sinkhole_fd(r->sink));
	debugx(1, "sinkhole: every destination is local in the jail; DNS answered on port 53");
	return 0;
}

void sink_handle(struct run *r, int fd)
{
	if (r->sink && fd == sinkhole_fd(r->sink))
		sinkhole_handle(r->sink);
}

void sink_finish(struct run *r)
{
	if (!r->sink)
		return;
	sinkhole_flush(r->sink);
	if (r->trace && an.sleeps) {
		cJSON *f = cJSON_CreateObject();

		cJSON_AddNumberToObject(f, "sleeps_answered", (double)an.sleeps);
		cJSON_AddNumberToObject(f, "connects", (double)an.connects);
		cJSON_AddNumberToObject(f, "captures", an.captures);
		trace_write_note(r->trace, "sinkhole-summary", f);
		cJSON_Delete(f);
	}
}

void sink_free(struct run *r)
{
	sinkhole_free(r->sink);
	r->sink = NULL;
	closep(&an.notify_child);
}
