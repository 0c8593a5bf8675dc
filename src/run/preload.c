/* The jail's preload library (src/preload/), built before pipjail and
 * carried inside it, so that a run never depends on finding a file next
 * to the binary: the supervisor writes these bytes into the jail's
 * /run/pipjail (root's) once the jail is built (src/run/anchors.c). */
#include "run/internal.h"

#ifndef PIPJAIL_PRELOAD_SO
#error "PIPJAIL_PRELOAD_SO: the path of the built preload library (the Makefile sets it)"
#endif

__asm__(".section .rodata\n"
	".global pj_preload_so\n"
	".type pj_preload_so, @object\n"
	".balign 16\n"
	"pj_preload_so:\n"
	".incbin \"" PIPJAIL_PRELOAD_SO "\"\n"
	".global pj_preload_so_end\n"
	"pj_preload_so_end:\n"
	".previous\n");
