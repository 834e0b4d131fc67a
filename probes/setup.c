/*
 * Set-up calls (Case.setup): the system calls a case makes before its call under test, e.g.
 * modify_ldt writing the LDT entry that the call under test reads back, or set_thread_area
 * creating the TLS entry a later selector load uses. Each goes through the ABI's native entry
 * (SYSCALL from 64-bit code for x86_64 and x32, int $0x80 for i386), with no libc wrapper in
 * between: glibc's i386 syscall() would enter through __kernel_vsyscall, and the x32 one
 * would pass 32-bit longs.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "setup.h"

#if defined(__x86_64__)
/* SYSCALL: number in RAX, arguments in RDI RSI RDX R10 R8 R9; the CPU writes RCX (return RIP)
 * and R11 (RFLAGS), arch/x86/entry/entry_64.S. Every register is 64 bits, also for x32. */
/* int $0x80 from 64-bit code: the i386 registers (arch/x86/entry/entry_64_compat.S,
 * entry_INT80_compat); RBX and RBP saved by hand (RBP may be the frame pointer). RSI carries
 * the array and is loaded last. */
uint64_t sysabi_setup_int80_64(uint64_t nr, const uint64_t *a);
__asm__(".text\n"
	".globl sysabi_setup_int80_64\n"
	".type sysabi_setup_int80_64, @function\n"
	"sysabi_setup_int80_64:\n"
	"	push %rbp\n"
	"	push %rbx\n"
	"	mov %rdi, %rax\n"
	"	mov 0(%rsi), %rbx\n"
	"	mov 8(%rsi), %rcx\n"
	"	mov 16(%rsi), %rdx\n"
	"	mov 32(%rsi), %rdi\n"
	"	mov 40(%rsi), %rbp\n"
	"	mov 24(%rsi), %rsi\n"
	"	int $0x80\n"
	"	pop %rbx\n"
	"	pop %rbp\n"
	"	ret\n"
	".size sysabi_setup_int80_64, .-sysabi_setup_int80_64\n");

static uint64_t native_call(uint64_t nr, const uint64_t *a, int int80)
{
	uint64_t ret;
	if (int80)
		return sysabi_setup_int80_64(nr, a);
	register uint64_t r10 __asm__("r10") = a[3];
	register uint64_t r8 __asm__("r8") = a[4];
	register uint64_t r9 __asm__("r9") = a[5];
	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(nr), "D"(a[0]), "S"(a[1]), "d"(a[2]), "r"(r10), "r"(r8), "r"(r9)
			 : "rcx", "r11", "memory");
	return ret;
}
#else
/* int $0x80: number in EAX, arguments in EBX ECX EDX ESI EDI EBP (arch/x86/entry/
 * entry_64_compat.S). EBP and EBX are saved by hand: the compiler may use EBP as the frame
 * pointer, so it cannot be an asm operand; the six values come from memory through EAX. */
uint32_t sysabi_setup_int80(uint32_t nr, const uint32_t *a);
__asm__(".text\n"
	".globl sysabi_setup_int80\n"
	".type sysabi_setup_int80, @function\n"
	"sysabi_setup_int80:\n"
	"	push %ebp\n"
	"	push %ebx\n"
	"	push %esi\n"
	"	push %edi\n"
	"	mov 24(%esp), %eax\n" /* a */
	"	mov 0(%eax), %ebx\n"
	"	mov 4(%eax), %ecx\n"
	"	mov 8(%eax), %edx\n"
	"	mov 12(%eax), %esi\n"
	"	mov 16(%eax), %edi\n"
	"	mov 20(%eax), %ebp\n"
	"	mov 20(%esp), %eax\n" /* nr */
	"	int $0x80\n"
	"	pop %edi\n"
	"	pop %esi\n"
	"	pop %ebx\n"
	"	pop %ebp\n"
	"	ret\n"
	".size sysabi_setup_int80, .-sysabi_setup_int80\n");

static uint64_t native_call(uint64_t nr, const uint64_t *a, int int80)
{
	(void)int80; /* an i386 process enters with int $0x80 anyway */
	uint32_t a32[6];
	for (int i = 0; i < 6; i++)
		a32[i] = (uint32_t)a[i];
	return sysabi_setup_int80((uint32_t)nr, a32);
}
#endif

static int parse_dec(const char *s, long lo, long hi, long *v)
{
	char *e;
	errno = 0;
	long r = strtol(s, &e, 10);
	if (errno || e == s || *e || r < lo || r > hi)
		return 0;
	*v = r;
	return 1;
}

/* `setup I NR NAME ERRNO NARGS` opens set-up call I (in order from 0); `setarg I J OPERAND`
 * gives its argument J. Case.after uses the same pair as `after` / `afterarg`. */
static const char *parse_calls(struct setup_req **sp, char **t, int nt, setup_parse_op_fn parse_op, int after)
{
	long i, j, e, na;
	if (strcmp(t[0], after ? "after" : "setup") == 0) {
		if (nt != 6 && !(nt == 7 && strcmp(t[6], "int80") == 0))
			return after ? "after: expected `after I NR NAME ERRNO NARGS [int80]`"
				     : "setup: expected `setup I NR NAME ERRNO NARGS [int80]`";
		if (!*sp && !(*sp = calloc(1, sizeof **sp)))
			return "setup: out of memory";
		struct setup_req *s = *sp;
		s->after = after;
		if (!parse_dec(t[1], 0, SETUP_MAX - 1, &i) || i != s->n)
			return after ? "after: calls are numbered 0, 1, ... in order (at most 8)"
				     : "setup: calls are numbered 0, 1, ... in order (at most 8)";
		struct setup_call *c = &s->call[i];
		char *end;
		errno = 0;
		c->nr = strtoull(t[2], &end, 16);
		if (strncmp(t[2], "0x", 2) != 0 || errno || *end)
			return "setup: bad number";
		if (!parse_dec(t[4], 0, 4095, &e) || !parse_dec(t[5], 0, 6, &na))
			return "setup: bad errno or argument count";
		snprintf(c->name, sizeof c->name, "%s", t[3]);
		c->expect_errno = (int)e;
		c->nargs = (int)na;
		c->int80 = nt == 7;
		c->args_set = 0;
		s->n++;
		return "";
	}
	if (strcmp(t[0], after ? "afterarg" : "setarg") == 0) {
		struct setup_req *s = *sp;
		if (nt != 8 || !s || !parse_dec(t[1], 0, s->n - 1, &i) || !parse_dec(t[2], 0, 5, &j) ||
		    j >= s->call[i].nargs || !parse_op(t + 3, nt - 3, s->call[i].op[j]))
			return after ? "afterarg: expected `afterarg I J OPERAND` after `after I ...`, J below its NARGS"
				     : "setarg: expected `setarg I J OPERAND` after `setup I ...`, J below its NARGS";
		s->call[i].args_set |= 1u << j;
		return "";
	}
	return 0;
}

const char *sysabi_setup_parse(struct setup_req **sp, char **t, int nt, setup_parse_op_fn parse_op)
{
	return parse_calls(sp, t, nt, parse_op, 0);
}

const char *sysabi_after_parse(struct setup_req **sp, char **t, int nt, setup_parse_op_fn parse_op)
{
	return parse_calls(sp, t, nt, parse_op, 1);
}

/* The same rule as harness/spec/setup.ts setupErrno: the low 32 bits are -4095..-1 and the
 * value is that int sign- or zero-extended (modify_ldt returns (unsigned int)ret on purpose,
 * arch/x86/kernel/ldt.c, so its -EINVAL reaches 64-bit code as 0x00000000ffffffea). */
static int ret_errno(uint64_t v)
{
#if defined(__x86_64__)
	uint32_t hi = (uint32_t)(v >> 32);
	if (hi != 0 && hi != 0xffffffffu)
		return 0;
#endif
	int32_t lo = (int32_t)(uint32_t)v;
	return lo >= -4095 && lo <= -1 ? -lo : 0;
}

static void errno_text(int e, char *buf, size_t cap)
{
	const char *n = strerrorname_np(e);
	if (n)
		snprintf(buf, cap, "-%s", n);
	else
		snprintf(buf, cap, "-%d", e);
}

int sysabi_setup_run(struct setup_req *s, const void *ctx, setup_resolve_fn resolve, char *why, size_t whylen)
{
	if (s)
		s->ran = 0;
	for (int i = 0; s && i < s->n; i++) {
		const struct setup_call *c = &s->call[i];
		const char *what = s->after ? "after-call" : "set-up call";
		uint64_t a[6] = { 0 };
		for (int j = 0; j < c->nargs; j++) {
			if (!(c->args_set >> j & 1)) {
				snprintf(why, whylen, "%s %d (%s): argument %d was not given", what, i + 1, c->name, j);
				return -1;
			}
			if (resolve(ctx, c->op[j], &a[j], why, whylen) < 0)
				return -1;
		}
		uint64_t r = native_call(c->nr, a, c->int80);
		/* Kept for the observation (`$setup.N.ret`, `$after.N.ret`): an i386 result is 32 bits. */
		s->ret[i] = r;
		s->ran = i + 1;
		int e = ret_errno(r);
		if (e == c->expect_errno)
			continue;
		char got[48], want[48];
		if (e)
			errno_text(e, got, sizeof got);
		else
			snprintf(got, sizeof got, "0x%llx", (unsigned long long)r);
		if (!c->expect_errno) {
			snprintf(why, whylen, "%s %d (%s) returned %s", what, i + 1, c->name, got);
		} else {
			errno_text(c->expect_errno, want, sizeof want);
			snprintf(why, whylen, "%s %d (%s) returned %s, expected %s", what, i + 1, c->name, got, want);
		}
		return -1;
	}
	return 0;
}

void sysabi_setup_json(const struct setup_req *s, char *buf, size_t cap)
{
	size_t n = 0;
	buf[0] = 0;
	if (!s || s->ran == 0)
		return;
	n += (size_t)snprintf(buf + n, cap - n, ",\"%s\":[", s->after ? "after_ret" : "setup_ret");
	for (int i = 0; i < s->ran && n < cap; i++)
		n += (size_t)snprintf(buf + n, cap - n, "%s\"0x%llx\"", i ? "," : "", (unsigned long long)s->ret[i]);
	if (n < cap)
		snprintf(buf + n, cap - n, "]");
}

void sysabi_setup_free(struct setup_req *s)
{
	free(s);
}
