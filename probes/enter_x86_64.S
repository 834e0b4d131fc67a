/*
 * Entry trampoline for 64-bit code (the x86_64 probe, and the x32 probe, which runs the
 * same 64-bit instructions with 32-bit pointers). It loads every general register and
 * RFLAGS from sysabi_ctl.in, jumps to an entry stub that executes exactly one entry
 * instruction, and stores every register, RFLAGS and the selectors on the way back.
 * All control-block accesses are RIP-relative, so no register is needed as a base
 * pointer and every GPR can carry a case value across the entry instruction.
 */
#include "probe.h"
#include "include/sysabi_nr.h"

	.text
	.globl sysabi_enter
	.type sysabi_enter, @function
sysabi_enter:
	/* The SysV ABI says rbx, rbp, r12-r15 belong to our caller: the case will overwrite
	 * them, so keep them on the probe's stack and give them back in sysabi_resume. */
	pushq %rbx
	pushq %rbp
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	/* 8 (return address) + 48 pushed: one more quadword makes rsp 16-byte aligned, which a
	 * C call into the vDSO (vdso_fn) expects at the call instruction. */
	subq $8, %rsp
	movq %rsp, sysabi_ctl+CTL_HOSTSP(%rip)

	/* Selectors before the entry: 16-bit stores into slots C zeroed. */
	movw %cs, sysabi_ctl+CTL_BEFORE+FR_CS(%rip)
	movw %ss, sysabi_ctl+CTL_BEFORE+FR_SS(%rip)
	movw %ds, sysabi_ctl+CTL_BEFORE+FR_DS(%rip)
	movw %es, sysabi_ctl+CTL_BEFORE+FR_ES(%rip)
	movw %fs, sysabi_ctl+CTL_BEFORE+FR_FS(%rip)
	movw %gs, sysabi_ctl+CTL_BEFORE+FR_GS(%rip)

	/* Unless the case set rsp, it runs on this stack: record the value it will see. */
	testq $CTL_F_RSP, sysabi_ctl+CTL_FLAGS(%rip)
	jnz 1f
	movq %rsp, sysabi_ctl+CTL_IN+FR_RSP(%rip)
1:
	movq sysabi_ctl+CTL_IN+FR_RBX(%rip), %rbx
	movq sysabi_ctl+CTL_IN+FR_RCX(%rip), %rcx
	movq sysabi_ctl+CTL_IN+FR_RDX(%rip), %rdx
	movq sysabi_ctl+CTL_IN+FR_RSI(%rip), %rsi
	movq sysabi_ctl+CTL_IN+FR_RDI(%rip), %rdi
	movq sysabi_ctl+CTL_IN+FR_RBP(%rip), %rbp
	movq sysabi_ctl+CTL_IN+FR_R8(%rip), %r8
	movq sysabi_ctl+CTL_IN+FR_R9(%rip), %r9
	movq sysabi_ctl+CTL_IN+FR_R10(%rip), %r10
	movq sysabi_ctl+CTL_IN+FR_R11(%rip), %r11
	movq sysabi_ctl+CTL_IN+FR_R12(%rip), %r12
	movq sysabi_ctl+CTL_IN+FR_R13(%rip), %r13
	movq sysabi_ctl+CTL_IN+FR_R14(%rip), %r14
	movq sysabi_ctl+CTL_IN+FR_R15(%rip), %r15
	/* POPF as late as possible (a TF case single-steps from here on), then PUSHF to record
	 * what RFLAGS really holds: POPF silently drops bits user mode may not change (IOPL,
	 * VM, RF) and the CPU may refuse ID or AC. PUSHF/POP do not change flags. */
	pushq sysabi_ctl+CTL_IN+FR_RFLAGS(%rip)
	popfq
	pushfq
	popq sysabi_ctl+CTL_BEFORE+FR_RFLAGS(%rip)
	/* MOV never changes flags: the last two loads keep RFLAGS exactly as recorded. */
	movq sysabi_ctl+CTL_IN+FR_RSP(%rip), %rsp
	movq sysabi_ctl+CTL_IN+FR_RAX(%rip), %rax
	jmp *sysabi_ctl+CTL_TARGET(%rip)
	.size sysabi_enter, .-sysabi_enter

	/* Every stub jumps here right after its entry instruction. */
	.globl sysabi_resume
	.type sysabi_resume, @function
sysabi_resume:
	/* rsp first, then back to the probe's stack; neither MOV touches RFLAGS, so the PUSHF
	 * that follows records the flags exactly as the entry left them. */
	movq %rsp, sysabi_ctl+CTL_AFTER+FR_RSP(%rip)
	movq sysabi_ctl+CTL_HOSTSP(%rip), %rsp
	pushfq
	popq sysabi_ctl+CTL_AFTER+FR_RFLAGS(%rip)
	movq %rax, sysabi_ctl+CTL_AFTER+FR_RAX(%rip)
	movq %rbx, sysabi_ctl+CTL_AFTER+FR_RBX(%rip)
	movq %rcx, sysabi_ctl+CTL_AFTER+FR_RCX(%rip)
	movq %rdx, sysabi_ctl+CTL_AFTER+FR_RDX(%rip)
	movq %rsi, sysabi_ctl+CTL_AFTER+FR_RSI(%rip)
	movq %rdi, sysabi_ctl+CTL_AFTER+FR_RDI(%rip)
	movq %rbp, sysabi_ctl+CTL_AFTER+FR_RBP(%rip)
	movq %r8, sysabi_ctl+CTL_AFTER+FR_R8(%rip)
	movq %r9, sysabi_ctl+CTL_AFTER+FR_R9(%rip)
	movq %r10, sysabi_ctl+CTL_AFTER+FR_R10(%rip)
	movq %r11, sysabi_ctl+CTL_AFTER+FR_R11(%rip)
	movq %r12, sysabi_ctl+CTL_AFTER+FR_R12(%rip)
	movq %r13, sysabi_ctl+CTL_AFTER+FR_R13(%rip)
	movq %r14, sysabi_ctl+CTL_AFTER+FR_R14(%rip)
	movq %r15, sysabi_ctl+CTL_AFTER+FR_R15(%rip)
	movw %cs, sysabi_ctl+CTL_AFTER+FR_CS(%rip)
	movw %ss, sysabi_ctl+CTL_AFTER+FR_SS(%rip)
	movw %ds, sysabi_ctl+CTL_AFTER+FR_DS(%rip)
	movw %es, sysabi_ctl+CTL_AFTER+FR_ES(%rip)
	movw %fs, sysabi_ctl+CTL_AFTER+FR_FS(%rip)
	movw %gs, sysabi_ctl+CTL_AFTER+FR_GS(%rip)
	/* Back to the flags a process starts with (IF and bit 1): the C code that follows must
	 * not run with DF (string ops backwards), AC (unaligned accesses fault) or TF set. */
	pushq $0x202
	popfq
	/* A case that forked returns here twice (CTL_F_MAYFORK: the C side knows which calls can).
	 * The new process (rax 0) must not run the
	 * probe's C code: after vfork it would scribble on the stack the suspended parent is
	 * about to use. Registers are stored, so rax/rcx/r11 are free for a getpid. */
	testl $CTL_F_MAYFORK, sysabi_ctl+CTL_FLAGS(%rip)
	jz 2f
	cmpq $0, sysabi_ctl+CTL_AFTER+FR_RAX(%rip)
	jne 2f
	movl $SYSABI_NR_getpid, %eax
	syscall
	cmpq sysabi_self_pid(%rip), %rax
	je 2f
	movl $SYSABI_NR_exit, %eax	/* exit, not exit_group: a CLONE_THREAD child leaves alone */
	xorl %edi, %edi
	syscall
2:
	addq $8, %rsp
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %rbp
	popq %rbx
	ret
	.size sysabi_resume, .-sysabi_resume

	/* The stubs: one entry instruction each, then straight back. Their first and second
	 * labels are the case's $entry_ip and $next_ip. */
	.globl sysabi_stub_syscall, sysabi_stub_syscall_end
sysabi_stub_syscall:
	syscall			/* RCX <- next RIP, R11 <- RFLAGS (Intel SDM Vol. 2B SYSCALL) */
sysabi_stub_syscall_end:
	jmp sysabi_resume

	.globl sysabi_stub_int80, sysabi_stub_int80_end
sysabi_stub_int80:
	int $0x80		/* from 64-bit code: the ia32 gate, i386 numbering (ABI-FACTS §4.2) */
sysabi_stub_int80_end:
	jmp sysabi_resume

	.globl sysabi_stub_sysenter, sysabi_stub_sysenter_end
sysabi_stub_sysenter:
	sysenter		/* #UD on AMD in long mode, #GP if SYSENTER_CS is 0 (ia32 off) */
sysabi_stub_sysenter_end:
	jmp sysabi_resume

	.globl sysabi_stub_call, sysabi_stub_call_end
sysabi_stub_call:
	/* vdso_fn and vsyscall: an absolute indirect call (ff 14 25 disp32), the same bytes
	 * the probe writes when it places a stub elsewhere. */
	call *(sysabi_ctl+CTL_CALL)
sysabi_stub_call_end:
	jmp sysabi_resume

	.globl sysabi_stub_int3, sysabi_stub_int3_end
sysabi_stub_int3:
	int3			/* sigreturn cases: the SIGTRAP handler rewrites the frame */
sysabi_stub_int3_end:
	jmp sysabi_resume

	.globl sysabi_stub_nop, sysabi_stub_nop_end
sysabi_stub_nop:
	nop			/* entry none (RT-03): no system call; under TF one #DB follows it */
sysabi_stub_nop_end:
	jmp sysabi_resume

	/* code: compat — 32-bit code in a 64-bit process (ABI-FACTS §1 last row, RG-03).
	 * Every GPR is already loaded (r8-r15 keep their values across the mode switch, which
	 * is what the compat entry paths are checked for). DS and ES must hold a usable data
	 * selector in compatibility mode (a null selector faults on the first memory access),
	 * so they get the process's SS value; then a far jump through sysabi_far32 (offset of
	 * the 32-bit stub, selector __USER32_CS) switches the CPU to compatibility mode.
	 * Neither a segment load nor a far jump changes RFLAGS. */
	.globl sysabi_to_compat
sysabi_to_compat:
	movw sysabi_compat_ds(%rip), %ds
	movw sysabi_compat_ds(%rip), %es
	ljmpl *sysabi_far32(%rip)

	/* The 32-bit stubs: one entry instruction, then a far jump back to 64-bit code through
	 * sysabi_far64 (sysabi_resume, __USER_CS). probe.c fills both far pointers from the
	 * selectors the probe really runs with. */
	.code32
	.globl sysabi_stub32_syscall, sysabi_stub32_syscall_end
sysabi_stub32_syscall:
	syscall			/* SYSCALL from compatibility mode: #UD on Intel, CSTAR path on AMD */
sysabi_stub32_syscall_end:
	ljmpl *sysabi_far64

	.globl sysabi_stub32_int80, sysabi_stub32_int80_end
sysabi_stub32_int80:
	int $0x80
sysabi_stub32_int80_end:
	ljmpl *sysabi_far64

	.globl sysabi_stub32_sysenter, sysabi_stub32_sysenter_end
sysabi_stub32_sysenter:
	sysenter
sysabi_stub32_sysenter_end:
	ljmpl *sysabi_far64

	.globl sysabi_stub32_nop, sysabi_stub32_nop_end
sysabi_stub32_nop:
	nop
sysabi_stub32_nop_end:
	ljmpl *sysabi_far64
	.code64

	.section .note.GNU-stack,"",@progbits
