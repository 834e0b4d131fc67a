/*
 * Shared layout between the probe's C code and its per-ABI assembly trampolines
 * (enter_x86_64.S, enter_i386.S): one control block holding the registers to load, the
 * registers found after the entry instruction, and the addresses the trampoline jumps to.
 * Offsets are plain numbers so the .S files can use them; probe.c checks them with
 * static asserts against offsetof().
 */
#ifndef SYSABI_PROBE_H
#define SYSABI_PROBE_H

/* A register frame: 16 GPRs in harness order (rax rbx rcx rdx rsi rdi rbp rsp r8..r15),
 * then rflags, rip, and the six selectors (cs ss ds es fs gs), every slot 8 bytes so the
 * layout is the same for -m64, -mx32 and -m32 (32-bit code fills the low half). */
#define FR_RAX 0
#define FR_RBX 8
#define FR_RCX 16
#define FR_RDX 24
#define FR_RSI 32
#define FR_RDI 40
#define FR_RBP 48
#define FR_RSP 56
#define FR_R8 64
#define FR_R9 72
#define FR_R10 80
#define FR_R11 88
#define FR_R12 96
#define FR_R13 104
#define FR_R14 112
#define FR_R15 120
#define FR_RFLAGS 128
#define FR_RIP 136
#define FR_CS 144
#define FR_SS 152
#define FR_DS 160
#define FR_ES 168
#define FR_FS 176
#define FR_GS 184
#define FR_SIZE 192

/* The control block (struct sysabi_ctl). */
#define CTL_IN 0                 /* registers to load; in.rsp is filled by the trampoline unless CTL_F_RSP */
#define CTL_BEFORE (FR_SIZE)     /* rflags as read back after POPF, selectors before the entry */
#define CTL_AFTER (2 * FR_SIZE)  /* everything right after control came back */
#define CTL_TARGET (3 * FR_SIZE) /* address of the entry stub the trampoline jumps to */
#define CTL_CALL (CTL_TARGET + 8)   /* call-based entries: the function called (vDSO, vsyscall) */
#define CTL_HOSTSP (CTL_TARGET + 16) /* the probe's own stack pointer, saved by the trampoline */
#define CTL_FLAGS (CTL_TARGET + 24)  /* CTL_F_* bits */
#define CTL_RESUME (CTL_TARGET + 32) /* address of sysabi_resume, for generated stubs */
#define CTL_SIZE (CTL_TARGET + 40)

#define CTL_F_RSP 1     /* load in.rsp (the case set rsp); otherwise keep the probe's stack */
#define CTL_F_STACKARGS 2 /* i386 vdso_fn: push ebx..ebp as six cdecl stack arguments */
#define CTL_F_MAYFORK 4  /* the call may return 0 in a new process: sysabi_resume checks the pid */

#ifndef __ASSEMBLER__
#include <stdint.h>

struct sysabi_frame {
	uint64_t gpr[16];
	uint64_t rflags;
	uint64_t rip;
	uint64_t seg[6];
};

struct sysabi_ctl {
	struct sysabi_frame in;
	struct sysabi_frame before;
	struct sysabi_frame after;
	uint64_t target;
	uint64_t call;
	uint64_t hostsp;
	uint64_t flags;
	uint64_t resume;
};

extern struct sysabi_ctl sysabi_ctl;
/* Loads ctl.in, executes the stub at ctl.target, stores ctl.after, returns. */
void sysabi_enter(void);
/* Where every stub jumps once the entry instruction completes. */
extern char sysabi_resume[];
/* Entry stubs in .text: the entry instruction at *_at, the next instruction at *_end. */
extern char sysabi_stub_syscall[], sysabi_stub_syscall_end[];
extern char sysabi_stub_int80[], sysabi_stub_int80_end[];
extern char sysabi_stub_sysenter[], sysabi_stub_sysenter_end[];
extern char sysabi_stub_call[], sysabi_stub_call_end[];
extern char sysabi_stub_int3[], sysabi_stub_int3_end[];
extern char sysabi_stub_nop[], sysabi_stub_nop_end[]; /* entry none (RT-03) */
#ifdef __x86_64__
/* code: compat from 64-bit code (enter_x86_64.S): far pointers m16:32 and the stubs. */
struct sysabi_farptr {
	uint32_t offset;
	uint16_t selector;
} __attribute__((packed));
extern struct sysabi_farptr sysabi_far32, sysabi_far64;
extern uint16_t sysabi_compat_ds;
void sysabi_to_compat(void);
extern char sysabi_stub32_syscall[], sysabi_stub32_syscall_end[];
extern char sysabi_stub32_int80[], sysabi_stub32_int80_end[];
extern char sysabi_stub32_sysenter[], sysabi_stub32_sysenter_end[];
extern char sysabi_stub32_nop[], sysabi_stub32_nop_end[];
#endif
#endif

#endif
