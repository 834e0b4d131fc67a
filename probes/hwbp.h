/* Hardware instruction breakpoints for RT-04 (probes/hwbp.c): arm one on this thread right
 * before a case's entry, remove it after. */
#ifndef SYSABI_HWBP_H
#define SYSABI_HWBP_H
#include <stddef.h>
#include <stdint.h>

/* si_code of a perf event's SIGTRAP (include/uapi/asm-generic/siginfo.h, v5.13); glibc 2.36
 * does not name it yet. */
#ifndef TRAP_PERF
#define TRAP_PERF 6
#endif

/* Arm an execute breakpoint at `addr` on the calling thread: a hit raises SIGTRAP with
 * si_code TRAP_PERF and si_addr = addr. Returns the perf event's fd, or -1 with `why` saying
 * why this kernel (or emulator) cannot do it: the case is then `unsupported`. */
int sysabi_hwbp_arm(uint64_t addr, char *why, size_t whylen);
/* Remove it (fd < 0: nothing armed). */
void sysabi_hwbp_disarm(int fd);

#endif
