/* Subcommands other than running a command in the jail. */
#ifndef PIPJAIL_COMMANDS_H
#define PIPJAIL_COMMANDS_H

int cmd_doctor(int argc, char **argv);
int cmd_trace_check(int argc, char **argv);
/* src/recover.c: pipjail recover [--rollback] [TARGET] */
int cmd_recover(int argc, char **argv);
/* src/replay.c: pipjail replay TRACE.jsonl [--profile P] [--report F] */
int cmd_replay(int argc, char **argv);
/* src/profilecheck.c: pipjail profile check FILE|NAME, pipjail profile list */
int cmd_profile(int argc, char **argv);
/* src/analyze.c: pipjail analyze PATH [--import] [--out DIR] [--fast-time] */
int cmd_analyze(int argc, char **argv);
/* src/replay.c: give up capabilities (not root): subcommands that only
 * read the user's files run with the user's rights. */
void commands_drop_privileges(void);

#endif
