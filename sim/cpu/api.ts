// The boundary between the simulator's CPU layer (sim/cpu/) and its kernel layer (sim/kernel/):
// the types the kernel layer programs the CPU with and receives back. The CPU layer models
// architectural effects only (Intel SDM Vol. 2B/3A, AMD APM Vol. 2/3); Linux lives above it.

/** A segment register: the visible selector and the hidden descriptor cache. */
export interface SegmentCache {
  selector: number;
  base: bigint;
  /**
   * The effective limit in bytes, as the hidden cache holds it (G already applied:
   * raw 0xFFFFF with G=1 is 0xFFFFFFFF here). Descriptor.limit, by contrast, is the raw
   * 20-bit field as stored in the table.
   */
  limit: number;
  /** Descriptor type nibble (e.g. 0xB execute/read accessed code, 0x3 read/write accessed data). */
  type: number;
  /** S bit: code/data (true) vs system. */
  s: boolean;
  dpl: number;
  present: boolean;
  /** L (64-bit code), D/B (default size), G (granularity). */
  l: boolean;
  db: boolean;
  g: boolean;
  /** An unusable (null-loaded) cache, as after loading a NULL selector. */
  unusable: boolean;
}

/** A GDT/LDT descriptor as stored in the table (8-byte code/data; system descriptors use kind). */
export interface Descriptor {
  kind: 'code' | 'data' | 'tss' | 'ldt' | 'null';
  base: bigint;
  /** The raw 20-bit limit field (units of 4 KiB when g is set). */
  limit: number;
  type: number;
  dpl: number;
  present: boolean;
  l: boolean;
  db: boolean;
  g: boolean;
}

/** An IDT gate (64-bit interrupt/trap gate). */
export interface IdtGate {
  kind: 'interrupt' | 'trap';
  selector: number;
  offset: bigint;
  dpl: number;
  present: boolean;
  ist: number;
}

export type CpuMode = 'long64' | 'compat' | 'protected32';

export type MsrName =
  | 'EFER' | 'STAR' | 'LSTAR' | 'CSTAR' | 'SFMASK'
  | 'SYSENTER_CS' | 'SYSENTER_ESP' | 'SYSENTER_EIP'
  | 'FS_BASE' | 'GS_BASE' | 'KERNEL_GS_BASE';

/** MSR numbers (arch/x86/include/asm/msr-index.h). */
export const MSR_NUMBERS: Record<MsrName, number> = {
  EFER: 0xc0000080, STAR: 0xc0000081, LSTAR: 0xc0000082, CSTAR: 0xc0000083,
  SFMASK: 0xc0000084, FS_BASE: 0xc0000100, GS_BASE: 0xc0000101, KERNEL_GS_BASE: 0xc0000102,
  SYSENTER_CS: 0x174, SYSENTER_ESP: 0x175, SYSENTER_EIP: 0x176,
};

/**
 * Vendor differences as data (DESIGN.md principle 3), not scattered if-statements.
 * Each field names the manual rule it models.
 */
export interface CpuVendorTraits {
  vendor: 'intel' | 'amd';
  /** SYSCALL in compatibility mode: Intel #UD; AMD enters through CSTAR. */
  syscallInCompat: 'ud' | 'cstar';
  /** SYSENTER/SYSEXIT in long mode (64-bit or compat): Intel valid; AMD #UD. */
  sysenterInLongMode: 'valid' | 'ud';
  /** SYSRET to a non-canonical RCX: Intel #GP(0) at CPL0; AMD completes, faults at CPL3. */
  sysretNonCanonical: 'gp-cpl0' | 'user-fault';
  /** AMD X86_BUG_SYSRET_SS_ATTRS: SYSRET leaves SS's hidden attributes as they were. */
  sysretKeepsSsAttrs: boolean;
  /** FRED: SYSCALL/SYSENTER are events; RCX/R11 not written; SYSRET/SYSEXIT #UD. */
  fred: boolean;
  /**
   * SYSCALL in legacy (non-long) protected mode: Intel #UD; AMD enters at STAR[31:0]
   * (AMD APM Vol. 3, SYSCALL "SYSCALL_LEGACY_MODE"). Absent means the vendor default.
   */
  syscallInLegacy?: 'ud' | 'star-eip';
  /**
   * Loading a NULL selector into DS/ES/FS/GS clears the hidden base (Intel; AMD only with
   * CPUID NullSelectorClearsBase — Linux X86_BUG_NULL_SEG). Absent means the vendor default.
   */
  nullSelectorClearsBase?: boolean;
  /**
   * SYSRET executed outside 64-bit mode (compatibility or legacy mode, CPL 0): Intel #UD
   * (the SDM requires CS.L = 1); AMD performs it (APM SYSRET, "SYSRET_LEGACY_MODE" and the
   * long-mode path). Absent means: 'ud' when syscallInCompat is 'ud', else 'valid'.
   */
  sysretOutside64?: 'ud' | 'valid';
}

/**
 * The parts of the 64-bit TSS that interrupt delivery reads (Intel SDM Vol. 3A §8.7 /
 * §7.14.5 IST): the ring stacks RSP0–RSP2 and the seven IST pointers (index 1..7; 0 unused).
 * ss0 is used only in legacy protected mode, where SS0:ESP0 come from the 32-bit TSS.
 */
export interface TssState {
  rsp: [bigint, bigint, bigint];
  ist: bigint[];
  ss0: number;
}

/** FRED state (Intel FRED spec §5): where ring-3 events land. Not an MSR in MsrName. */
export interface FredState {
  /** IA32_FRED_CONFIG: bits 63:12 are the entry page; ring-3 events enter at its start. */
  config: bigint;
  /** IA32_FRED_RSP0: the stack for events from ring 3 (stack level 0). */
  rsp0: bigint;
}

/** A fault raised by an instruction instead of completing it. */
export interface CpuFault {
  vector: 'UD' | 'GP' | 'PF' | 'SS' | 'NP' | 'DB';
  /** Error code (#GP(selector), #PF error bits); 0 when the manual says #GP(0). */
  errorCode: number;
  /** CPL at which the fault is taken (a SYSRET #GP on Intel is taken at CPL0). */
  cpl: number;
  /** Faulting linear address for #PF (CR2). */
  address?: bigint;
  /** The manual's reason, one line ("SYSCALL with EFER.SCE = 0"). */
  why: string;
}

/** One recorded state change, for `sysabi explain --trace`. */
export interface TraceStep {
  insn: string;
  /** "RCX ← 0x401005 (next RIP)" */
  text: string;
}

/** The result of executing one instruction: the state changed in place, or a fault. */
export type InsnResult =
  | {
      ok: true;
      /**
       * The instruction completed, but the next instruction fetch faults (AMD SYSRET to a
       * non-canonical RCX: the #GP is taken at CPL3, with user state already loaded).
       */
      pending?: CpuFault;
    }
  | { ok: false; fault: CpuFault };

/**
 * Memory as the CPU sees it (linear addresses, paging is the kernel layer's business).
 * INT n and IRET push and pop their frames through this; a failing access reports
 * the page-fault error bits (P=1, W=2, U=4, I=16) the way the MMU would.
 */
export interface MemoryBus {
  read(addr: bigint, len: number, cpl: number): Uint8Array | { fault: 'PF'; errorCode: number };
  write(addr: bigint, bytes: Uint8Array, cpl: number): true | { fault: 'PF'; errorCode: number };
}
