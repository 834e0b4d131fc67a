/* Instructions before the entry (Case.before, docs/probe-protocol.md `before` lines): the
 * FSGSBASE instructions a case runs in its own context right before its entry instruction,
 * generated into a small code page the trampoline jumps through (probes/before.c). */
#ifndef SYSABI_BEFORE_H
#define SYSABI_BEFORE_H
#include <stddef.h>
#include <stdint.h>

#define BEFORE_MAX 8

struct before_insn {
	int op;      /* 0 rdfsbase, 1 rdgsbase, 2 wrfsbase, 3 wrgsbase: the ModRM reg field (/0../3) */
	int reg;     /* harness register index (rax rbx rcx rdx rsi rdi rbp rsp r8..r15), or -1 */
	uint64_t val; /* reg == -1: the value WR*BASE writes */
};

struct before_req {
	int n;
	struct before_insn insn[BEFORE_MAX];
};

/* A `before` line: 0 if it is not one, "" when parsed, else what is wrong. */
const char *sysabi_before_parse(struct before_req **b, char **t, int nt);
/* Generate the instructions followed by a jump to *target, and point *target at them.
 * 0 on success, -1 with `why` (the case is then unsupported). */
int sysabi_before_prepare(const struct before_req *b, uint64_t *target, char *why, size_t whylen);
/* From the probe's signal handler, before it leaves the case: put back the FS base if the
 * case's instructions may have changed it (glibc's siglongjmp reads its pointer guard
 * through FS). Async-signal-safe: one raw system call. */
void sysabi_before_fault(void);
void sysabi_before_free(struct before_req *b);

#endif
