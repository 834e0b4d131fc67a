// Named ABI constants shared by the harness, the simulator and (through a generated header)
// the probes. One place, never repeated literals (DESIGN.md "Conventions").
// Sources: include/uapi/asm-generic/errno-base.h, errno.h, include/linux/errno.h,
// arch/x86/include/uapi/asm/signal.h, arch/x86/include/asm/segment.h,
// include/uapi/linux/audit.h, Intel SDM Vol. 1 §3.4.3 (EFLAGS).

export const ABIS = ['x86_64', 'i386', 'x32'] as const;
export type Abi = (typeof ABIS)[number];

/** Width of the registers the ABI's code sees (i386 runs in 32-bit/compat mode). */
export const ABI_BITS: Record<Abi, 32 | 64> = { x86_64: 64, x32: 64, i386: 32 };

/** x32 callers add this bit to every syscall number (__X32_SYSCALL_BIT). */
export const X32_SYSCALL_BIT = 0x40000000n;

/** A raw return value v "fails" iff (signed) v is in [-MAX_ERRNO, -1]. */
export const MAX_ERRNO = 4095;

export const ERRNO = {
  EPERM: 1, ENOENT: 2, ESRCH: 3, EINTR: 4, EIO: 5, ENXIO: 6, E2BIG: 7, ENOEXEC: 8, EBADF: 9,
  ECHILD: 10, EAGAIN: 11, ENOMEM: 12, EACCES: 13, EFAULT: 14, ENOTBLK: 15, EBUSY: 16,
  EEXIST: 17, EXDEV: 18, ENODEV: 19, ENOTDIR: 20, EISDIR: 21, EINVAL: 22, ENFILE: 23,
  EMFILE: 24, ENOTTY: 25, ETXTBSY: 26, EFBIG: 27, ENOSPC: 28, ESPIPE: 29, EROFS: 30,
  EMLINK: 31, EPIPE: 32, EDOM: 33, ERANGE: 34, EDEADLK: 35, ENAMETOOLONG: 36, ENOLCK: 37,
  ENOSYS: 38, ENOTEMPTY: 39, ELOOP: 40, ENOMSG: 42, EOVERFLOW: 75, EILSEQ: 84,
  ENOTSOCK: 88, EOPNOTSUPP: 95, ETIMEDOUT: 110,
  // Kernel-internal restart codes, visible to a tracer at syscall-exit-stop (include/linux/errno.h).
  ERESTARTSYS: 512, ERESTARTNOINTR: 513, ERESTARTNOHAND: 514, ENOIOCTLCMD: 515,
  ERESTART_RESTARTBLOCK: 516,
} as const;
export type ErrnoName = keyof typeof ERRNO;

export const SIGNALS = {
  SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGILL: 4, SIGTRAP: 5, SIGABRT: 6, SIGBUS: 7, SIGFPE: 8,
  SIGKILL: 9, SIGUSR1: 10, SIGSEGV: 11, SIGUSR2: 12, SIGPIPE: 13, SIGALRM: 14, SIGTERM: 15,
  SIGSTKFLT: 16, SIGCHLD: 17, SIGCONT: 18, SIGSTOP: 19, SIGTSTP: 20, SIGTTIN: 21, SIGTTOU: 22,
  SIGURG: 23, SIGXCPU: 24, SIGXFSZ: 25, SIGVTALRM: 26, SIGPROF: 27, SIGWINCH: 28, SIGIO: 29,
  SIGPWR: 30, SIGSYS: 31,
} as const;
export type SignalName = keyof typeof SIGNALS;

/** si_code values (include/uapi/asm-generic/siginfo.h). Names are unique across signals. */
export const SI_CODES = {
  SI_USER: 0, SI_KERNEL: 0x80, SI_QUEUE: -1, SI_TKILL: -6,
  ILL_ILLOPC: 1, ILL_ILLOPN: 2, ILL_ILLADR: 3, ILL_ILLTRP: 4, ILL_PRVOPC: 5, ILL_PRVREG: 6,
  ILL_COPROC: 7, ILL_BADSTK: 8,
  SEGV_MAPERR: 1, SEGV_ACCERR: 2, SEGV_BNDERR: 3, SEGV_PKUERR: 4,
  BUS_ADRALN: 1, BUS_ADRERR: 2, BUS_OBJERR: 3,
  TRAP_BRKPT: 1, TRAP_TRACE: 2, TRAP_BRANCH: 3, TRAP_HWBKPT: 4, TRAP_UNK: 5, TRAP_PERF: 6,
  SYS_SECCOMP: 1, SYS_USER_DISPATCH: 2,
} as const;
export type SiCodeName = keyof typeof SI_CODES;

/** RFLAGS bits (Intel SDM Vol. 1 §3.4.3). */
export const RFLAGS = {
  CF: 1n << 0n, FIXED1: 1n << 1n, PF: 1n << 2n, AF: 1n << 4n, ZF: 1n << 6n, SF: 1n << 7n,
  TF: 1n << 8n, IF: 1n << 9n, DF: 1n << 10n, OF: 1n << 11n, IOPL: 3n << 12n, NT: 1n << 14n,
  RF: 1n << 16n, VM: 1n << 17n, AC: 1n << 18n, VIF: 1n << 19n, VIP: 1n << 20n, ID: 1n << 21n,
} as const;
export type FlagName = Exclude<keyof typeof RFLAGS, 'FIXED1'>;
export const FLAG_NAMES = Object.keys(RFLAGS).filter((k) => k !== 'FIXED1') as FlagName[];
/** Flags a case may ask to be set before the entry instruction (user-settable via POPF). */
export const SETTABLE_FLAGS = ['CF', 'PF', 'AF', 'ZF', 'SF', 'TF', 'DF', 'OF', 'NT', 'AC', 'ID'] as const;
export type SettableFlag = (typeof SETTABLE_FLAGS)[number];
/** RFLAGS as a process starts (IF plus the always-one bit 1): ABI-FACTS §7. */
export const RFLAGS_USER_DEFAULT = 0x202n;

/** Linux GDT selectors on a 64-bit kernel (arch/x86/include/asm/segment.h). */
export const SELECTORS = {
  KERNEL32_CS: 0x08, KERNEL_CS: 0x10, KERNEL_DS: 0x18,
  USER32_CS: 0x23, USER_DS: 0x2b, USER32_DS: 0x2b, USER_CS: 0x33,
  TLS0: 0x63, TLS1: 0x6b, TLS2: 0x73, CPUNODE: 0x7b,
} as const;
/** GDT index of the first TLS entry on 64-bit kernels (GDT_ENTRY_TLS_MIN). */
export const GDT_ENTRY_TLS_MIN = 12;
export const GDT_ENTRY_TLS_ENTRIES = 3;

/** AUDIT_ARCH_* (include/uapi/linux/audit.h): EM_* | __AUDIT_ARCH_64BIT | __AUDIT_ARCH_LE. */
export const AUDIT_ARCH = { X86_64: 0xc000003e, I386: 0x40000003 } as const;

/** vsyscall page (arch/x86/entry/vsyscall/vsyscall_64.c): fixed address, 0x400 per slot. */
export const VSYSCALL_ADDR = 0xffffffffff600000n;

/** Sign-extend the low `bits` of v to a signed bigint. */
export function signed(v: bigint, bits: 32 | 64): bigint {
  return BigInt.asIntN(bits, v);
}
/** Truncate to an unsigned value of `bits` bits. */
export function unsigned(v: bigint, bits: 32 | 64): bigint {
  return BigInt.asUintN(bits, v);
}
/** The raw register value a syscall returns for -errno, in a register of `bits` bits. */
export function errnoReturn(name: ErrnoName | number, bits: 32 | 64): bigint {
  const n = typeof name === 'number' ? name : ERRNO[name];
  return BigInt.asUintN(bits, -BigInt(n));
}
