/*
 * The program `exec` cases start (RG-07): a static, libc-free ELF whose entry point
 * (sysabi_exec_entry, set with -Wl,-e) stores the register state the kernel handed it
 * before touching anything, writes that frame (probe.h layout) to fd 3, the report pipe
 * the probe left open, and exits. Built for x86_64 and, with -mx32, for x32.
 */
#include "probe.h"
#include "include/sysabi_nr.h"

	.bss
	.align 16
frame:	.skip FR_SIZE
bases:	.skip 16		/* fs_base, gs_base: sent right after the frame */

	.text
	.globl sysabi_exec_entry
sysabi_exec_entry:
	/* Store first: every GPR except rsp should still be what start_thread() left (0). */
	movq %rax, frame+FR_RAX(%rip)
	movq %rbx, frame+FR_RBX(%rip)
	movq %rcx, frame+FR_RCX(%rip)
	movq %rdx, frame+FR_RDX(%rip)
	movq %rsi, frame+FR_RSI(%rip)
	movq %rdi, frame+FR_RDI(%rip)
	movq %rbp, frame+FR_RBP(%rip)
	movq %rsp, frame+FR_RSP(%rip)
	movq %r8, frame+FR_R8(%rip)
	movq %r9, frame+FR_R9(%rip)
	movq %r10, frame+FR_R10(%rip)
	movq %r11, frame+FR_R11(%rip)
	movq %r12, frame+FR_R12(%rip)
	movq %r13, frame+FR_R13(%rip)
	movq %r14, frame+FR_R14(%rip)
	movq %r15, frame+FR_R15(%rip)
	pushfq			/* the initial stack has room: argc/argv live above rsp */
	popq frame+FR_RFLAGS(%rip)
	leaq sysabi_exec_entry(%rip), %rax
	movq %rax, frame+FR_RIP(%rip)
	movw %cs, frame+FR_CS(%rip)
	movw %ss, frame+FR_SS(%rip)
	movw %ds, frame+FR_DS(%rip)
	movw %es, frame+FR_ES(%rip)
	movw %fs, frame+FR_FS(%rip)
	movw %gs, frame+FR_GS(%rip)
	/* The segment bases as the kernel set them (arch_prctl ARCH_GET_FS 0x1003 / ARCH_GET_GS
	 * 0x1004, arch/x86/include/uapi/asm/prctl.h): a fresh 64-bit program has both at 0. */
	movl $SYSABI_NR_arch_prctl, %eax
	movl $0x1003, %edi
	leaq bases(%rip), %rsi
	syscall
	movl $SYSABI_NR_arch_prctl, %eax
	movl $0x1004, %edi
	leaq bases+8(%rip), %rsi
	syscall
	movl $SYSABI_NR_write, %eax
	movl $3, %edi
	leaq frame(%rip), %rsi
	movl $FR_SIZE+16, %edx	/* frame and bases are adjacent in .bss */
	syscall
	movl $SYSABI_NR_exit_group, %eax
	xorl %edi, %edi
	syscall
	hlt			/* not reached: exit_group does not return */

	.section .note.GNU-stack,"",@progbits
