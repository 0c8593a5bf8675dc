/* The door of src/cmd/: one function per subcommand, each taking the
 * arguments after the subcommand's name (argv[0] is the name).  Each
 * returns pipjail's exit code. */
#ifndef PIPJAIL_CMD_H
#define PIPJAIL_CMD_H

#include <stdbool.h>

/* run.c: pipjail [OPTIONS] [--] COMMAND [ARG...] (argv[0] is "pipjail") */
int cmd_run(int argc, char **argv, char **envp);
/* analyze.c: pipjail analyze PATH [--import] [--out DIR] [--fast-time] (or a batch) */
int cmd_analyze(int argc, char **argv);
/* batch.c: pipjail analyze --batch LIST --out DIR [--jobs N] [--shard I/N],
 * pipjail analyze --merge --batch LIST --out DIR (cmd_analyze hands these
 * over; argv[0] is "analyze") */
int cmd_batch(int argc, char **argv);
/* replay.c: pipjail replay TRACE.jsonl [--profile P] [--report F] */
int cmd_replay(int argc, char **argv);
/* recover.c: pipjail recover [--rollback] [TARGET] */
int cmd_recover(int argc, char **argv);
/* doctor.c: pipjail doctor */
int cmd_doctor(int argc, char **argv);
/* profile.c: pipjail profile check FILE|NAME, pipjail profile list */
int cmd_profile(int argc, char **argv);
/* trace_check.c: pipjail trace-check FILE */
int cmd_trace_check(int argc, char **argv);

/* privileges.c: root, or the file capabilities `make install` grants
 * (scripts/setcap.sh), raised into the effective set; true when
 * CAP_SYS_ADMIN is there. */
bool cmd_privileged(void);
/* privileges.c: give up capabilities (when not root): subcommands that
 * only read the user's files run with the user's rights. */
void cmd_drop_privileges(void);

#endif
