/* Syscall numbers newer than Debian 12's headers (Linux 6.1), x86_64. */
#ifndef PIPJAIL_MONITOR_SYSNR_H
#define PIPJAIL_MONITOR_SYSNR_H

#include <sys/syscall.h>

#ifndef SYS_fchmodat2
#if defined(__x86_64__)
#define SYS_fchmodat2 452
#else
#define SYS_fchmodat2 -1  /* unknown here: never matched */
#endif
#endif

#endif
