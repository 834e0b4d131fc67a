/*
 * Entry trampoline for 32-bit code (the i386 probe, running in compatibility mode on a
 * 64-bit kernel). Same job as enter_x86_64.S with the eight 32-bit registers: load them
 * and EFLAGS from sysabi_ctl.in, jump to a stub holding one entry instruction, store
 * everything on the way back. The probe is linked non-PIE, so control-block accesses use
 * absolute addresses and no register is tied up as a base pointer.
 */
#include "probe.h"
#include "include/sysabi_nr.h"

	.text
	.globl sysabi_enter
	.type sysabi_enter, @function
sysabi_enter:
	/* cdecl: ebx, esi, edi, ebp belong to the caller; the case overwrites them. */
	pushl %ebp
	pushl %ebx
	pushl %esi
	pushl %edi
	movl %esp, sysabi_ctl+CTL_HOSTSP

	movw %cs, sysabi_ctl+CTL_BEFORE+FR_CS
	movw %ss, sysabi_ctl+CTL_BEFORE+FR_SS
	movw %ds, sysabi_ctl+CTL_BEFORE+FR_DS
	movw %es, sysabi_ctl+CTL_BEFORE+FR_ES
	movw %fs, sysabi_ctl+CTL_BEFORE+FR_FS
	movw %gs, sysabi_ctl+CTL_BEFORE+FR_GS

	testl $CTL_F_STACKARGS, sysabi_ctl+CTL_FLAGS
	jz 2f
	/* vdso_fn: vDSO functions take cdecl stack arguments. Align so esp is 16-byte aligned
	 * at the call (i386 psABI as gcc uses it): 24 bytes of arguments follow. */
	andl $-16, %esp
	subl $8, %esp
	pushl sysabi_ctl+CTL_IN+FR_RBP
	pushl sysabi_ctl+CTL_IN+FR_RDI
	pushl sysabi_ctl+CTL_IN+FR_RSI
	pushl sysabi_ctl+CTL_IN+FR_RDX
	pushl sysabi_ctl+CTL_IN+FR_RCX
	pushl sysabi_ctl+CTL_IN+FR_RBX
2:
	testl $CTL_F_RSP, sysabi_ctl+CTL_FLAGS
	jnz 1f
	movl %esp, sysabi_ctl+CTL_IN+FR_RSP
1:
	movl sysabi_ctl+CTL_IN+FR_RBX, %ebx
	movl sysabi_ctl+CTL_IN+FR_RCX, %ecx
	movl sysabi_ctl+CTL_IN+FR_RDX, %edx
	movl sysabi_ctl+CTL_IN+FR_RSI, %esi
	movl sysabi_ctl+CTL_IN+FR_RDI, %edi
	movl sysabi_ctl+CTL_IN+FR_RBP, %ebp
	/* POPF late (TF single-steps from here), then PUSHF to record what EFLAGS holds. */
	pushl sysabi_ctl+CTL_IN+FR_RFLAGS
	popfl
	pushfl
	popl sysabi_ctl+CTL_BEFORE+FR_RFLAGS
	movl sysabi_ctl+CTL_IN+FR_RSP, %esp
	movl sysabi_ctl+CTL_IN+FR_RAX, %eax
	jmp *sysabi_ctl+CTL_TARGET
	.size sysabi_enter, .-sysabi_enter

	.globl sysabi_resume
	.type sysabi_resume, @function
sysabi_resume:
	/* MOVs leave EFLAGS alone, so PUSHF sees the flags the entry returned with. */
	movl %esp, sysabi_ctl+CTL_AFTER+FR_RSP
	movl sysabi_ctl+CTL_HOSTSP, %esp
	pushfl
	popl sysabi_ctl+CTL_AFTER+FR_RFLAGS
	movl %eax, sysabi_ctl+CTL_AFTER+FR_RAX
	movl %ebx, sysabi_ctl+CTL_AFTER+FR_RBX
	movl %ecx, sysabi_ctl+CTL_AFTER+FR_RCX
	movl %edx, sysabi_ctl+CTL_AFTER+FR_RDX
	movl %esi, sysabi_ctl+CTL_AFTER+FR_RSI
	movl %edi, sysabi_ctl+CTL_AFTER+FR_RDI
	movl %ebp, sysabi_ctl+CTL_AFTER+FR_RBP
	movw %cs, sysabi_ctl+CTL_AFTER+FR_CS
	movw %ss, sysabi_ctl+CTL_AFTER+FR_SS
	movw %ds, sysabi_ctl+CTL_AFTER+FR_DS
	movw %es, sysabi_ctl+CTL_AFTER+FR_ES
	movw %fs, sysabi_ctl+CTL_AFTER+FR_FS
	movw %gs, sysabi_ctl+CTL_AFTER+FR_GS
	/* glibc's TLS lives behind %gs: give back the selector the probe ran with. */
	movw sysabi_ctl+CTL_BEFORE+FR_GS, %ax
	movw %ax, %gs
	pushl $0x202		/* IF and bit 1 only: no DF/AC/TF/NT left for the C code */
	popfl
	/* A child made by the case (fork/vfork/clone, eax 0) leaves without running C code. */
	testl $CTL_F_MAYFORK, sysabi_ctl+CTL_FLAGS
	jz 2f
	cmpl $0, sysabi_ctl+CTL_AFTER+FR_RAX
	jne 2f
	movl $SYSABI_NR_getpid, %eax
	int $0x80
	cmpl sysabi_self_pid, %eax
	je 2f
	movl $SYSABI_NR_exit, %eax
	xorl %ebx, %ebx
	int $0x80
2:
	popl %edi
	popl %esi
	popl %ebx
	popl %ebp
	ret
	.size sysabi_resume, .-sysabi_resume

	.globl sysabi_stub_syscall, sysabi_stub_syscall_end
sysabi_stub_syscall:
	syscall			/* compat mode: #UD on Intel, SYSCALL32 (CSTAR) on AMD */
sysabi_stub_syscall_end:
	jmp sysabi_resume

	.globl sysabi_stub_int80, sysabi_stub_int80_end
sysabi_stub_int80:
	int $0x80		/* the always-available 32-bit entry */
sysabi_stub_int80_end:
	jmp sysabi_resume

	.globl sysabi_stub_sysenter, sysabi_stub_sysenter_end
sysabi_stub_sysenter:
	sysenter		/* raw: returns (if at all) to the vDSO landing pad, not here */
sysabi_stub_sysenter_end:
	jmp sysabi_resume

	.globl sysabi_stub_call, sysabi_stub_call_end
sysabi_stub_call:
	call *sysabi_ctl+CTL_CALL	/* ff 15 abs32: __kernel_vsyscall or a vDSO function */
sysabi_stub_call_end:
	jmp sysabi_resume

	.globl sysabi_stub_int3, sysabi_stub_int3_end
sysabi_stub_int3:
	int3
sysabi_stub_int3_end:
	jmp sysabi_resume

	.globl sysabi_stub_nop, sysabi_stub_nop_end
sysabi_stub_nop:
	nop			/* entry none (RT-03): no system call; under TF one #DB follows it */
sysabi_stub_nop_end:
	jmp sysabi_resume

	.section .note.GNU-stack,"",@progbits
