/* Subcommands other than running a command in the jail. */
#ifndef PIPJAIL_COMMANDS_H
#define PIPJAIL_COMMANDS_H

int cmd_doctor(int argc, char **argv);
int cmd_trace_check(int argc, char **argv);

#endif
