/* RG-06 (AMD X86_BUG_SYSRET_SS_ATTRS) support for the probes (probes/contend.c): running a
 * case's call under contention (pinned to one CPU beside a busy sibling) and the compat_stack
 * after-call step (a push/pop in 32-bit code). docs/probe-protocol.md, lines `contend`, `cstack`. */
#ifndef SYSABI_CONTEND_H
#define SYSABI_CONTEND_H
#include <stddef.h>
#include <stdint.h>

/* Pin this process to the CPU it runs on and fork a busy sibling pinned there too.
 * Returns the CPU, or -1 with the reason in why. */
int sysabi_contend_start(char *why, size_t n);
/* Kill and reap the busy sibling (the affinity stays: the case process exits soon). */
void sysabi_contend_stop(void);
/* Make the low stack the 64-bit probe's compat code uses; 0, or -1 with the reason. Called
 * before the case's call so the step itself maps nothing. */
int sysabi_cstack_prepare(char *why, size_t n);
/* Push v and pop it back in compatibility-mode code (64-bit probes: far call through
 * __USER32_CS on the low stack; i386: in place). Returns the value popped. A fault
 * (#SS → SIGBUS on an unusable SS) is caught by the probe's handler like any other. */
uint32_t sysabi_cstack_run(uint32_t v);
#endif
