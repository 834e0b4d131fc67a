/* RG-06 (AMD X86_BUG_SYSRET_SS_ATTRS; ABI-FACTS §3.2, §8.2) for the probes: contention for a
 * case's call and the compat_stack after-call step. The observable, as in the kernel's
 * selftest sysret_ss_attrs.c: a task that sleeps while another one keeps its CPU busy is
 * switched out and back in (arch/x86/kernel/process_64.c __switch_to) and returns to user
 * mode through SYSRET; on AMD, SYSRET writes SS's selector but not its hidden attributes, so
 * if SS was NULL in the kernel (as an interrupt from user mode leaves it in 64-bit mode) the
 * next stack access in compatibility mode faults, unless the kernel reloaded SS (v4.1). */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include "contend.h"

static pid_t busy_pid;

int sysabi_contend_start(char *why, size_t n)
{
	int cpu = sched_getcpu();
	if (cpu < 0) {
		snprintf(why, n, "contend: sched_getcpu failed: %s", strerror(errno));
		return -1;
	}
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof set, &set) < 0) {
		snprintf(why, n, "contend: sched_setaffinity(cpu %d) failed: %s", cpu, strerror(errno));
		return -1;
	}
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid < 0) {
		snprintf(why, n, "contend: fork of the busy sibling failed: %s", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		/* The sibling inherits the affinity (sched_setaffinity(2): a fork child keeps the
		 * mask). It must not outlive the case process if that is killed on a timeout. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(0);
		/* Spin in user mode: the timer interrupts it from CPL 3, which is what leaves a
		 * NULL SS behind in the kernel (an interrupt to CPL 0 in IA-32e mode loads SS with
		 * a NULL selector: SDM Vol. 3A 6.14.2, APM Vol. 2 8.9.3). */
		for (;;)
			__asm__ volatile("" ::: "memory");
	}
	busy_pid = pid;
	return cpu;
}

void sysabi_contend_stop(void)
{
	if (busy_pid <= 0)
		return;
	kill(busy_pid, SIGKILL);
	while (waitpid(busy_pid, 0, 0) < 0 && errno == EINTR)
		;
	busy_pid = 0;
}

#if defined(__x86_64__)
/* 32-bit code reached by a far call from 64-bit code: EDI holds the value (the 64-bit caller
 * put it there; compat code sees the low half). PUSH/POP go through SS in compat mode (SDM
 * Vol. 3A 5.4.1.1: the 64-bit mode exemption from segment checks does not apply). LRET with
 * the 32-bit operand size pops EIP then CS, the frame the far call pushed. */
__asm__(".pushsection .text\n"
	".code32\n"
	".type sysabi_cstack32, @function\n"
	"sysabi_cstack32:\n"
	"	pushl %edi\n"
	"	popl %eax\n"
	"	lret\n"
	".code64\n"
	/* uint32_t sysabi_cstack_call(uint64_t v, uint64_t stack_top, uint64_t farptr) */
	".globl sysabi_cstack_call\n"
	".type sysabi_cstack_call, @function\n"
	"sysabi_cstack_call:\n"
	"	push %rbx\n"
	"	mov %rsp, %rbx\n"
	"	mov %rsi, %rsp\n" /* a stack below 4 GiB: compat code sees only ESP */
	"	lcall *(%rdx)\n"  /* m16:32, the default operand size of a far call */
	"	mov %rbx, %rsp\n"
	"	pop %rbx\n"
	"	ret\n"
	".popsection\n");
extern void sysabi_cstack32(void);
extern uint32_t sysabi_cstack_call(uint64_t v, uint64_t stack_top, uint64_t farptr);

static char *low_stack;
#define LOW_STACK_SIZE 16384
static struct __attribute__((packed)) {
	uint32_t offset;
	uint16_t selector;
} cstack_far;

int sysabi_cstack_prepare(char *why, size_t n)
{
	if (!low_stack) {
		void *m = mmap(0, LOW_STACK_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
		if (m == MAP_FAILED) {
			snprintf(why, n, "compat_stack: cannot map a stack below 4 GiB (MAP_32BIT): %s", strerror(errno));
			return -1;
		}
		low_stack = m;
	}
	uint16_t cs;
	__asm__ volatile("mov %%cs, %0" : "=r"(cs));
	/* __USER32_CS is 16 below __USER_CS (arch/x86/include/asm/segment.h: the order SYSRET
	 * needs), with the RPL of our own CS. */
	cstack_far.selector = (uint16_t)(cs - 16);
	cstack_far.offset = (uint32_t)(uintptr_t)sysabi_cstack32;
	return 0;
}

uint32_t sysabi_cstack_run(uint32_t v)
{
	return sysabi_cstack_call(v, (uint64_t)(uintptr_t)(low_stack + LOW_STACK_SIZE - 16),
				  (uint64_t)(uintptr_t)&cstack_far);
}
#else
int sysabi_cstack_prepare(char *why, size_t n)
{
	(void)why;
	(void)n;
	return 0;
}

/* The i386 probe already runs compat code on a 64-bit kernel: push/pop on its own stack. */
uint32_t sysabi_cstack_run(uint32_t v)
{
	uint32_t out;
	__asm__ volatile("pushl %1\n\tpopl %0" : "=r"(out) : "r"(v) : "memory");
	return out;
}
#endif
