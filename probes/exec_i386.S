/*
 * The program `exec` cases start, 32-bit: stores the initial register state (RG-07: all
 * zero but esp, EFLAGS 0x202) into a probe.h frame, writes it to fd 3 and exits.
 */
#include "probe.h"
#include "include/sysabi_nr.h"

	.bss
	.align 16
frame:	.skip FR_SIZE

	.text
	.globl sysabi_exec_entry
sysabi_exec_entry:
	movl %eax, frame+FR_RAX
	movl %ebx, frame+FR_RBX
	movl %ecx, frame+FR_RCX
	movl %edx, frame+FR_RDX
	movl %esi, frame+FR_RSI
	movl %edi, frame+FR_RDI
	movl %ebp, frame+FR_RBP
	movl %esp, frame+FR_RSP
	pushfl
	popl frame+FR_RFLAGS
	movl $sysabi_exec_entry, frame+FR_RIP
	movw %cs, frame+FR_CS
	movw %ss, frame+FR_SS
	movw %ds, frame+FR_DS
	movw %es, frame+FR_ES
	movw %fs, frame+FR_FS
	movw %gs, frame+FR_GS
	movl $SYSABI_NR_write, %eax
	movl $3, %ebx
	movl $frame, %ecx
	movl $FR_SIZE, %edx
	int $0x80
	movl $SYSABI_NR_exit_group, %eax
	xorl %ebx, %ebx
	int $0x80
	hlt

	.section .note.GNU-stack,"",@progbits
