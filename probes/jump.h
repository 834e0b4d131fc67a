/* The probe's own setjmp/longjmp for recovering from a fault in an in-process case.
 *
 * glibc's __sigsetjmp sits in a 64 KiB stretch of text the probe's code does not share, so a
 * forked child faulted it in for every case (bench/RESULTS.md ## native), and its
 * siglongjmp demangles the saved registers with the pointer guard it reads through FS, which
 * a case's WRFSBASE may have moved. These save only what the psABI says a callee keeps
 * (x86_64/x32: rbx, rbp, r12-r15, rsp; i386: ebx, esi, edi, ebp, esp) and the return
 * address; no signal mask (the probe restores its own by hand, as with sigsetjmp(.., 0)).
 */
#ifndef SYSABI_JUMP_H
#define SYSABI_JUMP_H

struct sysabi_jb {
	unsigned long long slot[8];
};

/* Returns 0, and again the value given to sysabi_longjmp (1 if that was 0). */
int sysabi_setjmp(struct sysabi_jb *jb) __attribute__((returns_twice, noinline));
void sysabi_longjmp(struct sysabi_jb *jb, int val) __attribute__((noreturn));

#if defined(__x86_64__)
/* x86_64 and x32 (64-bit code; an x32 pointer arrives zero-extended in rdi). */
__asm__(".pushsection .text\n"
	".globl sysabi_setjmp\n.type sysabi_setjmp,@function\n"
	"sysabi_setjmp:\n"
	"\tmovq %rbx, 0(%rdi)\n"
	"\tmovq %rbp, 8(%rdi)\n"
	"\tmovq %r12, 16(%rdi)\n"
	"\tmovq %r13, 24(%rdi)\n"
	"\tmovq %r14, 32(%rdi)\n"
	"\tmovq %r15, 40(%rdi)\n"
	"\tleaq 8(%rsp), %rdx\n" /* the caller's rsp once this returns */
	"\tmovq %rdx, 48(%rdi)\n"
	"\tmovq (%rsp), %rdx\n" /* where to return to */
	"\tmovq %rdx, 56(%rdi)\n"
	"\txorl %eax, %eax\n"
	"\tret\n"
	".size sysabi_setjmp, .-sysabi_setjmp\n"
	".globl sysabi_longjmp\n.type sysabi_longjmp,@function\n"
	"sysabi_longjmp:\n"
	"\tmovq 0(%rdi), %rbx\n"
	"\tmovq 8(%rdi), %rbp\n"
	"\tmovq 16(%rdi), %r12\n"
	"\tmovq 24(%rdi), %r13\n"
	"\tmovq 32(%rdi), %r14\n"
	"\tmovq 40(%rdi), %r15\n"
	"\tmovq 48(%rdi), %rsp\n"
	"\tmovl %esi, %eax\n"
	"\ttestl %eax, %eax\n"
	"\tjnz 1f\n"
	"\tincl %eax\n"
	"1:\tjmp *56(%rdi)\n"
	".size sysabi_longjmp, .-sysabi_longjmp\n"
	".popsection");
#else
/* i386, cdecl: the arguments are on the stack. */
__asm__(".pushsection .text\n"
	".globl sysabi_setjmp\n.type sysabi_setjmp,@function\n"
	"sysabi_setjmp:\n"
	"\tmovl 4(%esp), %eax\n"
	"\tmovl %ebx, 0(%eax)\n"
	"\tmovl %esi, 8(%eax)\n"
	"\tmovl %edi, 16(%eax)\n"
	"\tmovl %ebp, 24(%eax)\n"
	"\tleal 4(%esp), %ecx\n" /* the caller's esp once this returns */
	"\tmovl %ecx, 32(%eax)\n"
	"\tmovl (%esp), %ecx\n" /* where to return to */
	"\tmovl %ecx, 40(%eax)\n"
	"\txorl %eax, %eax\n"
	"\tret\n"
	".size sysabi_setjmp, .-sysabi_setjmp\n"
	".globl sysabi_longjmp\n.type sysabi_longjmp,@function\n"
	"sysabi_longjmp:\n"
	"\tmovl 4(%esp), %edx\n"
	"\tmovl 8(%esp), %eax\n"
	"\tmovl 0(%edx), %ebx\n"
	"\tmovl 8(%edx), %esi\n"
	"\tmovl 16(%edx), %edi\n"
	"\tmovl 24(%edx), %ebp\n"
	"\tmovl 32(%edx), %esp\n"
	"\ttestl %eax, %eax\n"
	"\tjnz 1f\n"
	"\tincl %eax\n"
	"1:\tjmp *40(%edx)\n"
	".size sysabi_longjmp, .-sysabi_longjmp\n"
	".popsection");
#endif

#endif
