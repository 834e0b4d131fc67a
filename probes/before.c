/* Case.before (docs/probe-protocol.md `before`): RDFSBASE, RDGSBASE, WRFSBASE and WRGSBASE
 * run right before the entry instruction, with the case's registers and RFLAGS (TF too)
 * already loaded. The trampoline jumps to sysabi_ctl.target; for such a case that is a page
 * generated here: the instructions, then an indirect jump to the entry stub, so $entry_ip and
 * $next_ip stay the stub's. A #UD (CR4.FSGSBASE clear: SIGILL) or #GP (non-canonical base:
 * SIGSEGV) from one of them is the case's signal outcome, like any fault of the case. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "before.h"

#ifdef __x86_64__
static const char *const OPS[4] = { "rdfsbase", "rdgsbase", "wrfsbase", "wrgsbase" };
static const char *const REGS[16] = {
	"rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "rsp",
	"r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15",
};
#endif

const char *sysabi_before_parse(struct before_req **b, char **t, int nt)
{
	if (nt < 1 || strcmp(t[0], "before") != 0)
		return 0;
	if (nt != 4)
		return "before: expected `before INSN reg NAME` or `before INSN val 0xV`";
#ifndef __x86_64__
	(void)b;
	return "before: the FSGSBASE instructions exist only in 64-bit mode, not in an i386 process";
#else
	int op = -1;
	for (int i = 0; i < 4; i++)
		if (strcmp(t[1], OPS[i]) == 0)
			op = i;
	if (op < 0)
		return "before: unknown instruction (rdfsbase, rdgsbase, wrfsbase, wrgsbase)";
	if (!*b) {
		*b = calloc(1, sizeof **b);
		if (!*b)
			return "before: out of memory";
	}
	if ((*b)->n >= BEFORE_MAX)
		return "before: too many instructions";
	struct before_insn *in = &(*b)->insn[(*b)->n];
	in->op = op;
	in->reg = -1;
	if (strcmp(t[2], "reg") == 0) {
		for (int i = 0; i < 16; i++)
			if (strcmp(t[3], REGS[i]) == 0)
				in->reg = i;
		if (in->reg < 0)
			return "before: unknown register";
	} else if (strcmp(t[2], "val") == 0 && op >= 2) {
		char *end;
		errno = 0;
		in->val = strtoull(t[3], &end, 0);
		if (errno || *end || end == t[3])
			return "before: bad value";
	} else {
		return "before: the operand is `reg NAME`, or `val 0xV` for wrfsbase/wrgsbase";
	}
	(*b)->n++;
	return "";
#endif
}

void sysabi_before_free(struct before_req *b)
{
	free(b);
}

#ifdef __x86_64__
/* The probe's FS base, saved when a case may write it (ARCH_GET_FS 0x1003). */
static uint64_t g_saved_fs;
static volatile int g_fs_saved;
/* Values staged for `val` operands, and where RAX waits meanwhile: the generated code reads
 * and writes them with absolute moffs MOVs, which change neither flags nor the stack (the case
 * may have any RSP, and TF makes every instruction trap, so nothing may touch its stack). */
static uint64_t g_vals[BEFORE_MAX];
static uint64_t g_rax_save;
static uint8_t *g_page;

/* Hardware register numbers of the harness order (Intel SDM Vol. 2A Table 2-2). */
static const uint8_t HW[16] = { 0, 3, 1, 2, 6, 7, 5, 4, 8, 9, 10, 11, 12, 13, 14, 15 };

static size_t emit_fsgs(uint8_t *p, int op, int hw)
{
	/* F3 REX.W(+B) 0F AE /op, ModRM mod=11: the 64-bit operand forms (SDM Vol. 2A RDFSBASE,
	 * Vol. 2D WRFSBASE). */
	p[0] = 0xf3;
	p[1] = (uint8_t)(0x48 | (hw >> 3));
	p[2] = 0x0f;
	p[3] = 0xae;
	p[4] = (uint8_t)(0xc0 | (op << 3) | (hw & 7));
	return 5;
}

static size_t emit_moffs(uint8_t *p, uint8_t opc, const void *addr)
{
	/* REX.W A1 / A3 imm64: mov moffs64 <-> rax. */
	uint64_t a = (uint64_t)(uintptr_t)addr;
	p[0] = 0x48;
	p[1] = opc;
	memcpy(p + 2, &a, 8);
	return 10;
}

int sysabi_before_prepare(const struct before_req *b, uint64_t *target, char *why, size_t whylen)
{
	long ps = sysconf(_SC_PAGESIZE);
	if (!g_page) {
		void *m = mmap(0, (size_t)ps, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (m == MAP_FAILED) {
			snprintf(why, whylen, "before: cannot map a page for the instructions: %s", strerror(errno));
			return -1;
		}
		g_page = m;
	} else if (mprotect(g_page, (size_t)ps, PROT_READ | PROT_WRITE) < 0) {
		snprintf(why, whylen, "before: mprotect: %s", strerror(errno));
		return -1;
	}
	uint8_t *p = g_page;
	int writes_fs = 0;
	for (int i = 0; i < b->n; i++) {
		const struct before_insn *in = &b->insn[i];
		writes_fs |= in->op == 2;
		if (in->reg >= 0) {
			p += emit_fsgs(p, in->op, HW[in->reg]);
			continue;
		}
		g_vals[i] = in->val;
		p += emit_moffs(p, 0xa3, &g_rax_save);
		p += emit_moffs(p, 0xa1, &g_vals[i]);
		p += emit_fsgs(p, in->op, 0);
		p += emit_moffs(p, 0xa1, &g_rax_save);
	}
	/* jmp *0(%rip), then the stub's address: back to the entry instruction. */
	static const uint8_t jmp[6] = { 0xff, 0x25, 0, 0, 0, 0 };
	memcpy(p, jmp, 6);
	memcpy(p + 6, target, 8);
	if (mprotect(g_page, (size_t)ps, PROT_READ | PROT_EXEC) < 0) {
		snprintf(why, whylen, "before: mprotect: %s", strerror(errno));
		return -1;
	}
	if (writes_fs && !g_fs_saved) {
		syscall(SYS_arch_prctl, 0x1003 /* ARCH_GET_FS */, &g_saved_fs);
		g_fs_saved = 1;
	}
	*target = (uint64_t)(uintptr_t)g_page;
	return 0;
}

void sysabi_before_fault(void)
{
	if (!g_fs_saved)
		return;
	long r;
	__asm__ volatile("syscall" : "=a"(r) : "0"((long)SYS_arch_prctl), "D"(0x1002L /* ARCH_SET_FS */), "S"(g_saved_fs) : "rcx", "r11", "memory");
	(void)r;
}
#else
int sysabi_before_prepare(const struct before_req *b, uint64_t *target, char *why, size_t whylen)
{
	(void)b;
	(void)target;
	snprintf(why, whylen, "before: the FSGSBASE instructions exist only in 64-bit mode");
	return -1;
}

void sysabi_before_fault(void)
{
}
#endif
