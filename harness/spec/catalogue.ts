// The closed list of behaviour-catalogue ids from ABI-FACTS.md §8, with a one-line title each.
// A spec's `covers:` may name only these; the loader refuses anything else (docs/spec-language.md).

export const CATALOGUE = {
  // §8.1 numbering / dispatch
  'SN-01': 'upper 32 bits of RAX ignored by 64-bit SYSCALL (v5.14+)',
  'SN-02': 'negative syscall numbers return -ENOSYS; nr -1 executes nothing',
  'SN-03': 'out-of-range positive numbers return -ENOSYS',
  'SN-04': 'x32 bit + getpid returns the pid iff x32 is configured',
  'SN-05': 'x32 configured: x32-only rows need the bit, 64-only rows refuse it',
  'SN-06': 'x32 not configured: every number with the x32 bit returns -ENOSYS',
  'SN-07': 'int $0x80 from 64-bit code uses i386 numbering',
  'SN-08': 'high half of RAX ignored for int $0x80',
  // §8.2 register effects
  'RG-01': '64-bit SYSCALL clobbers only rax, rcx, r11',
  'RG-02': 'int $0x80 from 64-bit code preserves r8-r15 (v4.17+)',
  'RG-03': '32-bit fast syscall may zero r8-r15 and load r11',
  'RG-04': '32-bit flags survive a syscall',
  'RG-05': 'arguments and registers preserved under ptrace',
  'RG-06': 'SS attributes valid after SYSRET (AMD erratum)',
  'RG-07': 'execve initial register state: GPRs 0, RFLAGS 0x202',
  // §8.3 return path
  'RT-01': 'non-canonical return RIP via sigreturn goes through IRET and faults in user mode',
  'RT-02': 'syscall whose fall-through RIP is non-canonical faults in user mode',
  'RT-03': 'TF forces IRET and is preserved',
  'RT-04': 'RF is never returned through SYSRET',
  // §8.4 flags
  'FL-01': 'NT, AC, TF, DF preserved across a syscall',
  'FL-02': 'the kernel runs with FMASK flags cleared',
  'FL-03': 'IF always set on return',
  // §8.5 single-step and fast-syscall corner cases
  'SS-01': 'TF over int $0x80 yields SIGTRAP, TF kept',
  'SS-02': 'TF over a 32-bit fast syscall yields SIGTRAP, TF kept',
  'SS-03': 'forced SYSENTER with TF and ebp=0',
  'SS-04': 'fast syscalls from an invalid register state',
  // §8.6 ptrace
  'PT-01': 'register view at a syscall-entry stop',
  'PT-02': 'GETREGS/SETREGS writeback is harmless',
  'PT-03': 'tracer changes rax at entry',
  'PT-04': 'tracer clobbers the upper half of orig_rax',
  'PT-05': 'tracer skips or redirects a syscall',
  'PT-06': 'PTRACE_SYSEMU and manual restart',
  'PT-07': 'kernel restart under ptrace',
  'PT-08': 'ptrace runs before seccomp; seccomp re-checks tracer changes',
  // §8.7 seccomp
  'SC-01': 'seccomp_data layout',
  'SC-02': 'seccomp arch values per entry',
  'SC-03': 'seccomp instruction_pointer is the address after the entry',
  'SC-04': 'seccomp return actions',
  'SC-05': 'seccomp filter precedence',
  'SC-06': 'seccomp install rules',
  'SC-07': 'seccomp strict mode',
  // §8.8 audit
  'AU-01': 'audit syscall-entry arch and arguments',
  // §8.9 configuration
  'CF-01': 'ia32 emulation disabled',
  'CF-02': 'x32 not built',
  // §8.10 vDSO and vsyscall
  'VD-01': 'vDSO discovery through the auxiliary vector',
  'VD-02': 'vDSO exported symbols per ABI',
  'VD-03': 'vDSO results agree with the syscalls',
  'VD-04': 'vsyscall page modes and emulation',
} as const;

export type CatalogueId = keyof typeof CATALOGUE;
export const CATALOGUE_IDS = Object.keys(CATALOGUE) as [CatalogueId, ...CatalogueId[]];
