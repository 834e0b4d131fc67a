/* Single-step trap log and the flags a signal handler ran with (probes/traps.c): where each
 * TF trap of a case hit (Observation.trap_log) and the RFLAGS every handler saw on entry
 * (SignalInfo.handler_rflags, SS-02). */
#ifndef SYSABI_TRAPS_H
#define SYSABI_TRAPS_H
#include <signal.h>
#include <stddef.h>
#include <stdint.h>

/* How many traps are logged (harness/contracts.ts TRAP_LOG_MAX); the count goes on past it. */
#define TRAP_LOG_MAX 64

/* The handler's entry point for sigaction: PUSHF as its very first instruction into
 * sysabi_handler_flags, then a jump to sysabi_sig_next (the probe's C handler), with the
 * arguments and stack exactly as the kernel built them. */
void sysabi_sig_entry(int sig, siginfo_t *si, void *uc);
extern uint64_t sysabi_sig_next;
#ifdef __x86_64__
extern uint64_t sysabi_handler_flags;
#else
extern uint32_t sysabi_handler_flags;
#endif

/* Record trap number n (from 0; the case's count before this trap) at ip with the handler's flags. */
void sysabi_trap_log(long n, uint64_t ip, uint64_t hflags);
/* The log as JSON `,"trap_log":[{"ip":"0x..","hflags":"0x.."},...]` for `count` traps
 * (at most TRAP_LOG_MAX of them); "" when count is 0. Returns the length written. */
size_t sysabi_trap_log_json(char *out, size_t cap, long count, int code64);
/* Size in bytes of the vDSO image at `base` (its PT_LOAD segments, page-rounded); 0 if none. */
uint64_t sysabi_vdso_size(uint64_t base);

#endif
