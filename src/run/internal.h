/* Inside src/run/: one run of a command in the jail, as the supervisor
 * holds it, shared by the supervisor's files (supervisor.c: lifecycle and
 * event loop; policy.c: profile, engine, kills and reports; egress.c: the
 * proxy; install.c: the staged install and the import check; sink.c: the
 * analyze sinkhole; pty.c: the command's pseudo-terminal; guard.c: the
 * guardian).  Everything here runs on the supervisor's side. */
#ifndef PIPJAIL_RUN_INTERNAL_H
#define PIPJAIL_RUN_INTERNAL_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "net/net.h"
#include "run/run.h"

struct monitor;
struct trace_writer;
struct engine;
struct profile;
struct proxy;
struct stage;
struct ci_run;
struct pty;

struct run {
	struct jail_config *cfg;
	const struct run_opts *opt;
	struct jail_cgroup cg;
	struct monitor *mon;
	struct trace_writer *trace;
	struct profile *profile;
	struct engine *engine;
	struct proxy *proxy;
	struct hostrules hosts;
	struct decoy_scanner *decoy_scan;  /* the decoys' forms, for the proxy (egress.c) */
	struct stage *stage;
	sigset_t orig_mask;
	int sfd, tfd, epfd;
	int ctl;                 /* control socket to the jail's init */
	int report_fd;           /* --report, opened with the user's rights at start */
	struct ci_run *ci;       /* --sarif, --baseline, GitHub Actions (src/ci.c) */
	struct sinkhole *sink;   /* --net sinkhole: pipjail analyze (sink.c) */
	struct pty *pty;         /* the command's terminal, when stdio is one (pty.c) */
	int runs;                /* commands init has finished */
	size_t running;          /* commands init runs now */
	int command_code;        /* the command's exit code, once it ran */
	struct install *inst;    /* the staged install's run-time side (install.c) */
	pid_t init;
	int init_status;
	pid_t guard;             /* the guardian (guard.c), -1: none */
	int guard_fd;            /* its socket */
	bool timed_out;
	int interrupts;
	/* SIGINT/SIGTERM came while the import or bytecode check ran (after a
	 * command that succeeded): the checks did not complete, so the run is
	 * cut short like an interrupted command -- incomplete, 128+N, nothing
	 * committed. */
	bool checks_cut;
	bool env_lacks_wheel;    /* the target environment has no `wheel` (anchors.c) */
	bool builds_lack_wheel;  /* nor can PEP 517 builds get one: a hint if pip fails */
	/* -v: the verdict line again, printed after the timing line so that
	 * the verdict stays pipjail's last line (policy_finish) */
	char *verdict_again;
};

/* policy.c */
void policy_load(struct run *r);            /* profile + engine; dies on a bad profile */
void policy_arm_kernel(struct run *r);      /* in-kernel kill rules, once the jail is built */
void policy_finish(struct run *r, int code); /* outcome, report on stderr and --report */
void policy_free(struct run *r);

/* egress.c */
void egress_prepare(struct run *r);         /* allow rules + proxy (--net index) */
int egress_listen(struct run *r);           /* after clone, before "go"; -1 on failure */
void egress_free(struct run *r);

/* install.c */
void install_prepare(struct run *r);        /* the staging dir, before clone */
/* After the jailed command (which succeeded): the next check of a staged
 * install to start in the jail, with the id init will answer with, or NULL
 * for none now (running: how many run; the bytecode check waits until no
 * other does).  The import check of each distribution the install added
 * and the start-up probe may run at once; then the bytecode check
 * (bytecode.c).  The argv stays install.c's. */
char **install_next_command(struct run *r, size_t running, uint32_t *id);
/* init finished the check of that id with this code. */
void install_command_done(struct run *r, uint32_t id, int code);
void install_check(struct run *r);
/* What install_check_stage hands the staging check beside the engine. */
struct install_hooks {
	struct engine *engine;        /* set by install_check_stage */
	struct pyc_check *pyc;        /* the bytecode check's verdicts (bytecode.c) */
	bool check_pyc;               /* hold every .pyc to them (NULL pyc: none is checked) */
	bool probe;                   /* the start-up probe ran: hold the run's files to what it opened */
};
struct stage_check_opts;
/* stage_check with each finding reported to the engine as a violation,
 * writers, their roles and the run's decoy tokens taken from it; ih may
 * be NULL (no bytecode check).  The number of findings. */
int install_check_stage(struct stage *s, struct engine *e, const struct stage_check_opts *o,
			struct install_hooks *ih);
int install_settle(struct run *r, bool clean);  /* commit (clean) or discard; -1: commit failed */
void install_free(struct run *r);

/* bytecode.c: the .pyc files of the stage against their sources, checked
 * in the jail by the environment's interpreter (docs/staging.md). */
struct pyc_check;
/* The command that checks the stage's .pyc files, after its list is put in
 * the jail's /tmp (init alive, nothing else); NULL: none to run (*out is
 * NULL when the check could not be set up, else it says "nothing to check"). */
char **pyc_check_command(struct run *r, struct stage *s, const char *python, struct pyc_check **out);
/* It has run (init still alive): read its verdicts. */
void pyc_check_collect(struct run *r, struct stage *s, struct pyc_check *pc, int code);
/* The staging check's hook: NULL when rel's bytes (digest) were checked
 * and found to be its source's bytecode, else why not (malloc'd). */
char *pyc_check_verdict(struct pyc_check *pc, const char *rel, const uint8_t *digest);
void pyc_check_free(struct pyc_check *pc);

/* unixsock.c: pathname unix sockets (the kernel guard, or hiding) */
void unixsock_prepare(struct run *r);       /* after the cgroup, before the header and the clone */
void unixsock_header(const struct run *r, cJSON *extra);
int unixsock_attach(struct run *r);         /* monitor loaded, before the command; -1: said why */
void unixsock_finish(struct run *r);        /* after the jail: counts (-v) */

/* sink.c: the sinkhole of --net sinkhole (src/sinkhole.c); each
 * does nothing in the other net modes */
void sink_prepare(struct run *r);           /* before clone: the listener socketpair */
int sink_listen(struct run *r);             /* after clone, before "go"; -1 on failure */
void sink_handle(struct run *r, int fd);    /* an fd of the event loop was ready */
void sink_finish(struct run *r);            /* after the jail: captures into the verdict */
void sink_free(struct run *r);

/* preload.c: the preload library's bytes (src/preload/) */
extern const unsigned char pj_preload_so[], pj_preload_so_end[];

/* anchors.c: the anchors of trust and of the environment guard, once the
 * jail is built and before the command runs: registered in the kernel and
 * written into the jail with the preload library.  Dies on failure. */
void anchors_arm(struct run *r);

/* pty.c: the command's pseudo-terminal, when pipjail's stdin, stdout or
 * stderr is a terminal; each does nothing when none is */
int pty_open(struct run *r);                /* before clone: open it, fill cfg->tty_*; -1: said why */
void pty_started(struct run *r);            /* after clone: drop our slave, raw mode, start copying */
void pty_handle(struct run *r, int fd);     /* an fd of the event loop was ready */
bool pty_resize(struct run *r);             /* SIGWINCH: true when the pty took the new size */
void pty_release(struct run *r);            /* the jail is being killed: the terminal back now, so that
                                             * pipjail's own lines read right; output still copied */
void pty_finish(struct run *r);             /* the jail is gone: drain, restore the terminal; idempotent */

/* guard.c: the guardian, which cleans up after a supervisor that died
 * mid-run (verdict incomplete, nothing committed, nothing left) */
void guard_start(struct run *r);            /* once the cgroup, the stage and init exist */
void guard_disarm(struct run *r);           /* the outcome is final: the guardian leaves */
void guard_done(struct run *r);             /* reap it, at the very end */

/* supervisor.c */
void run_epoll_add(struct run *r, int fd);

#endif
