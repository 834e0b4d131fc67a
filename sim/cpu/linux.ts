// How Linux (x86-64 kernel) programs the CPU: its GDT layout (arch/x86/include/asm/segment.h,
// arch/x86/kernel/cpu/common.c gdt_page), the syscall MSRs (common.c syscall_init /
// idt_syscall_init), and the IDT gates the entry paths rely on (arch/x86/kernel/idt.c).
// ONE place for these values (ABI-FACTS §2, §3.1); sim/kernel/ boots the CPU through bootCpu.

import { RFLAGS, SELECTORS, GDT_ENTRY_TLS_MIN, GDT_ENTRY_TLS_ENTRIES } from '../../abi/constants.js';
import type { Descriptor, IdtGate, SegmentCache } from './api.js';
import { Cpu, EFER_LMA, EFER_LME, EFER_NXE, EFER_SCE, hx, nullCache } from './state.js';

/** STAR = (__USER32_CS << 48) | (__KERNEL_CS << 32): SYSCALL CS 0x10/SS 0x18; SYSRET CS 0x23 or 0x33, SS 0x2b. */
export const LINUX_STAR = 0x0023001000000000n;

/** GDT indices (segment.h, 64-bit). */
export const GDT_INDEX = {
  KERNEL32_CS: 1, KERNEL_CS: 2, KERNEL_DS: 3, USER32_CS: 4, USER_DS: 5, USER_CS: 6,
  TSS: 8, LDT: 10, TLS_MIN: GDT_ENTRY_TLS_MIN, CPUNODE: 15,
} as const;
export const GDT_ENTRIES = 16;

/** FMASK since v5.14: CF|PF|AF|ZF|SF|TF|IF|DF|OF|IOPL|NT|RF|AC|ID. */
export const SFMASK_5_14 = 0x257fd5n;
/** FMASK before v5.14: TF|DF|IF|IOPL|AC|NT. */
export const SFMASK_PRE_5_14 = 0x47700n;

/** Vectors of the gates the simulator installs (arch/x86/include/asm/trapnr.h, irq_vectors.h). */
export const LINUX_VECTORS = { DB: 1, BP: 3, OF: 4, UD: 6, NP: 11, SS: 12, GP: 13, PF: 14, IA32_SYSCALL: 0x80 } as const;

/** IST slot Linux gives #DB (ESTACK_DB = 2, IST index = ESTACK + 1; asm/page_64_types.h). */
export const IST_INDEX_DB = 3;

/**
 * Synthetic kernel addresses for gate handlers and stacks when the kernel layer does not pass
 * its own. They only need to be canonical kernel-half addresses; nothing reads code there.
 */
export const LINUX_KERNEL_TEXT = 0xffffffff81000000n;
export const LINUX_PERCPU_BASE = 0xffff88807fc00000n;
export const LINUX_KERNEL_STACK = 0xffffc90000008000n;
/** Handler address used for vector v when none is given: text base + v·0x40. */
export function defaultHandler(vector: number): bigint {
  return LINUX_KERNEL_TEXT + BigInt(vector) * 0x40n;
}

/** Parse "major.minor[.patch]" and compare with a version. */
function atLeast(kernel: string, major: number, minor: number): boolean {
  const m = /^(\d+)\.(\d+)/.exec(kernel.trim());
  if (!m) throw new Error(`kernel version "${kernel}" is not "major.minor[.patch]"`);
  const [a, b] = [Number(m[1]), Number(m[2])];
  return a > major || (a === major && b >= minor);
}

/** SFMASK (MSR_SYSCALL_MASK) Linux writes: 0x257FD5 since v5.14, 0x47700 before (ABI-FACTS §3.1). */
export function sfmaskFor(kernelVersion: string): bigint {
  return atLeast(kernelVersion, 5, 14) ? SFMASK_5_14 : SFMASK_PRE_5_14;
}

const flat = (kind: 'code' | 'data', dpl: number, long: boolean): Descriptor => ({
  kind, base: 0n, limit: 0xfffff, type: kind === 'code' ? 0xb : 0x3, dpl, present: true,
  l: long, db: !long || kind === 'data', g: true,
});
const empty = (): Descriptor => ({ kind: 'null', base: 0n, limit: 0, type: 0, dpl: 0, present: false, l: false, db: false, g: false });

/**
 * The 64-bit kernel's GDT (common.c gdt_page; desc_defs.h DESC_CODE32/CODE64/DATA64: type
 * 0xB code or 0x3 data, accessed, base 0, limit 0xFFFFF with G=1). Entry 7 is unused; 8–9 hold
 * the 16-byte TSS descriptor (its upper half is a 'null' slot here); 10–11 the LDT descriptor
 * (absent until a process uses modify_ldt); 12–14 TLS (empty until set_thread_area);
 * 15 CPUNODE (read-only expand-down data, DPL 3, limit = cpu | node << 12, read by LSL in the
 * vDSO's getcpu).
 */
export function linuxGdt(opts: { cpu?: number; node?: number; tssBase?: bigint } = {}): Descriptor[] {
  const g: Descriptor[] = [];
  for (let i = 0; i < GDT_ENTRIES; i++) g.push(empty());
  g[GDT_INDEX.KERNEL32_CS] = flat('code', 0, false);
  g[GDT_INDEX.KERNEL_CS] = flat('code', 0, true);
  g[GDT_INDEX.KERNEL_DS] = flat('data', 0, false);
  g[GDT_INDEX.USER32_CS] = flat('code', 3, false);
  g[GDT_INDEX.USER_DS] = flat('data', 3, false);
  g[GDT_INDEX.USER_CS] = flat('code', 3, true);
  // Busy 64-bit TSS (type 0xB) after LTR; the limit is nominal (the I/O bitmap is not modelled).
  g[GDT_INDEX.TSS] = { kind: 'tss', base: opts.tssBase ?? 0xfffffe0000003000n, limit: 0x67, type: 0xb, dpl: 0, present: true, l: false, db: false, g: false };
  const cpu = opts.cpu ?? 0;
  const node = opts.node ?? 0;
  g[GDT_INDEX.CPUNODE] = { kind: 'data', base: 0n, limit: (cpu & 0xfff) | ((node & 0xff) << 12), type: 0x5, dpl: 3, present: true, l: false, db: true, g: false };
  for (let i = 0; i < GDT_ENTRY_TLS_ENTRIES; i++) g[GDT_ENTRY_TLS_MIN + i] = empty();
  return g;
}

/** A 64-bit interrupt gate to __KERNEL_CS. */
function gate(offset: bigint, dpl: number, ist = 0): IdtGate {
  return { kind: 'interrupt', selector: SELECTORS.KERNEL_CS, offset, dpl, present: true, ist };
}

export interface BootOptions {
  /** Kernel version, "major.minor[.patch]": picks SFMASK. */
  kernel: string;
  /** ia32 emulation on: CSTAR/SYSENTER_* point at the compat entries and gate 0x80 has DPL 3. */
  ia32: boolean;
  lstar: bigint;
  cstar: bigint;
  sysenterEip: bigint;
  sysenterEsp: bigint;
  /** entry_SYSCALL32_ignore: CSTAR when ia32 emulation is off (returns -ENOSYS via SYSRETL). */
  cstarIgnore: bigint;
  /** Handler address per vector (defaults: defaultHandler(v)). */
  idtHandlers?: Partial<Record<number, bigint>>;
  /** TSS.RSP0 (top of the task's kernel stack) and IST stacks; defaults are synthetic. */
  kernelStack?: bigint;
  istStacks?: bigint[];
  /** GS base in the kernel (the per-CPU area). */
  percpuBase?: bigint;
  cpu?: number;
  node?: number;
  /** Linear-address width (57 with LA57). */
  vaBits?: 48 | 57;
}

/**
 * Program the CPU as Linux's boot does (syscall_init, idt_setup_*), leaving it in 64-bit
 * kernel mode at CPL 0 with CS 0x10, SS 0x18 and GS.base = the per-CPU area.
 * EFER: SCE | LME | LMA | NXE. STAR = LINUX_STAR. LSTAR = entry_SYSCALL_64. With ia32
 * emulation: CSTAR = entry_SYSCALL_compat, SYSENTER_CS = __KERNEL_CS, SYSENTER_ESP/EIP as given,
 * IDT gate 0x80 with DPL 3. Without: CSTAR = entry_SYSCALL32_ignore, SYSENTER_CS/ESP/EIP = 0
 * (so SYSENTER raises #GP), and no gate 0x80 (so int $0x80 raises #GP(0x402)).
 * Exceptions get DPL-0 interrupt gates, #DB on its IST stack; #BP and #OF have DPL 3 (int3,
 * into from user mode). With FRED traits only STAR is written (ABI-FACTS §3.1).
 */
export function bootCpu(cpu: Cpu, opts: BootOptions): void {
  const fred = cpu.traits.fred;
  cpu.vaBits = opts.vaBits ?? 48;
  cpu.msr.EFER = EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE;
  cpu.msr.STAR = LINUX_STAR;
  if (fred) {
    cpu.msr.LSTAR = 0n; cpu.msr.CSTAR = 0n; cpu.msr.SFMASK = 0n;
    cpu.msr.SYSENTER_CS = 0n; cpu.msr.SYSENTER_ESP = 0n; cpu.msr.SYSENTER_EIP = 0n;
    // The ring-3 FRED entry point (asm_fred_entrypoint_user) starts the entry page; lstar names it.
    cpu.fred.config = opts.lstar & ~0xfffn;
    cpu.fred.rsp0 = opts.kernelStack ?? LINUX_KERNEL_STACK;
  } else {
    cpu.msr.LSTAR = opts.lstar;
    cpu.msr.CSTAR = opts.ia32 ? opts.cstar : opts.cstarIgnore;
    cpu.msr.SFMASK = sfmaskFor(opts.kernel);
    cpu.msr.SYSENTER_CS = opts.ia32 ? BigInt(SELECTORS.KERNEL_CS) : 0n;
    cpu.msr.SYSENTER_ESP = opts.ia32 ? opts.sysenterEsp : 0n;
    cpu.msr.SYSENTER_EIP = opts.ia32 ? opts.sysenterEip : 0n;
  }
  cpu.gdt = linuxGdt({ cpu: opts.cpu ?? 0, node: opts.node ?? 0 });
  cpu.ldt = [];

  const h = (v: number) => opts.idtHandlers?.[v] ?? defaultHandler(v);
  const idt: IdtGate[] = [];
  const V = LINUX_VECTORS;
  idt[V.DB] = gate(h(V.DB), 0, IST_INDEX_DB);
  idt[V.BP] = gate(h(V.BP), 3);
  idt[V.OF] = gate(h(V.OF), 3);
  for (const v of [V.UD, V.NP, V.SS, V.GP, V.PF]) idt[v] = gate(h(v), 0);
  if (opts.ia32) idt[V.IA32_SYSCALL] = gate(h(V.IA32_SYSCALL), 3);
  // Fill the rest of the 256 vectors with DPL-0 gates (device interrupts, spurious, ...), so a
  // user `int $n` for them faults on the DPL check, as on Linux, rather than on the IDT limit.
  for (let v = 0; v < 256; v++) if (!idt[v]) idt[v] = gate(h(v), 0);
  cpu.idt = idt;

  const stack = opts.kernelStack ?? LINUX_KERNEL_STACK;
  cpu.tss.rsp = [stack, 0n, 0n];
  const ist = [0n];
  for (let i = 1; i <= 7; i++) ist.push(opts.istStacks?.[i - 1] ?? stack + BigInt(i) * 0x2000n);
  cpu.tss.ist = ist;
  cpu.tss.ss0 = 0;

  // Kernel mode: CS/SS through the GDT; DS/ES/FS NULL; GS NULL selector with the per-CPU base.
  cpu.cpl = 0;
  cpu.mode = 'long64';
  cpu.fillCache(cpu.seg.cs, SELECTORS.KERNEL_CS, cpu.gdt[GDT_INDEX.KERNEL_CS]!);
  cpu.fillCache(cpu.seg.ss, SELECTORS.KERNEL_DS, cpu.gdt[GDT_INDEX.KERNEL_DS]!);
  for (const s of ['ds', 'es', 'fs', 'gs'] as const) Object.assign(cpu.seg[s], nullCache());
  cpu.seg.gs.base = opts.percpuBase ?? LINUX_PERCPU_BASE;
  cpu.msr.KERNEL_GS_BASE = 0n;
  cpu.rflags = RFLAGS.FIXED1;
  if (cpu.trace) {
    cpu.note('boot', `EFER ← ${hx(cpu.msr.EFER)} (SCE, LME, LMA, NXE); STAR ← ${hx(LINUX_STAR)}`);
    if (fred) cpu.note('boot', `FRED: only STAR written; FRED_CONFIG ← ${hx(cpu.fred.config)}, FRED_RSP0 ← ${hx(cpu.fred.rsp0)}`);
    else {
      cpu.note('boot', `LSTAR ← ${hx(cpu.msr.LSTAR)}; CSTAR ← ${hx(cpu.msr.CSTAR)} (${opts.ia32 ? 'entry_SYSCALL_compat' : 'entry_SYSCALL32_ignore'}); SFMASK ← ${hx(cpu.msr.SFMASK)} (kernel ${opts.kernel})`);
      cpu.note('boot', `SYSENTER_CS ← ${hx(cpu.msr.SYSENTER_CS)}, SYSENTER_ESP ← ${hx(cpu.msr.SYSENTER_ESP)}, SYSENTER_EIP ← ${hx(cpu.msr.SYSENTER_EIP)}`);
    }
    cpu.note('boot', opts.ia32 ? 'IDT[0x80] ← interrupt gate, DPL 3 (ia32 emulation on)' : 'IDT[0x80]: DPL-0 gate only (ia32 emulation off)');
  }
}

/** nullCache(0)'s fields, except that the base is kept. */
function nullKeepBase(c: SegmentCache): void {
  c.selector = 0;
  c.limit = 0;
  c.type = 0;
  c.s = false;
  c.dpl = 0;
  c.present = false;
  c.l = false;
  c.db = false;
  c.g = false;
  c.unusable = true;
}

/**
 * Put the CPU in user mode the way Linux runs a process: CPL 3, CS 0x33 (64-bit) or 0x23
 * (compat), SS/DS/ES 0x2b, FS/GS NULL selectors; caches as the GDT says. Called at CPL 0 it
 * also exchanges GS.base and KERNEL_GS_BASE, as the kernel's exit path does with SWAPGS.
 * RIP, RSP, RFLAGS and the GPRs are left to the caller.
 */
export function userState(cpu: Cpu, mode: '64' | 'compat'): void {
  if (!cpu.gdt[GDT_INDEX.USER_CS]) throw new Error('userState: the GDT is empty; call bootCpu (or set cpu.gdt = linuxGdt()) first');
  if (cpu.cpl === 0) {
    const gs = cpu.seg.gs.base;
    cpu.seg.gs.base = cpu.msr.KERNEL_GS_BASE;
    cpu.msr.KERNEL_GS_BASE = gs;
  }
  const csSel = mode === '64' ? SELECTORS.USER_CS : SELECTORS.USER32_CS;
  const csIdx = mode === '64' ? GDT_INDEX.USER_CS : GDT_INDEX.USER32_CS;
  const ds = cpu.gdt[GDT_INDEX.USER_DS]!;
  cpu.fillCache(cpu.seg.cs, csSel, cpu.gdt[csIdx]!);
  // Unrolled (no per-call arrays or nullCache objects): this runs once per simulated case.
  cpu.fillCache(cpu.seg.ss, SELECTORS.USER_DS, ds);
  cpu.fillCache(cpu.seg.ds, SELECTORS.USER_DS, ds);
  cpu.fillCache(cpu.seg.es, SELECTORS.USER_DS, ds);
  // A 64-bit process's FS/GS bases live on behind NULL selectors (arch_prctl), so only the
  // rest of the cache is reset to what nullCache() holds.
  nullKeepBase(cpu.seg.fs);
  nullKeepBase(cpu.seg.gs);
  cpu.cpl = 3;
  cpu.mode = mode === '64' ? 'long64' : 'compat';
  if (cpu.trace) cpu.note('user', `CPL 3, CS ${hx(csSel)}, SS/DS/ES ${hx(SELECTORS.USER_DS)} (${cpu.mode})`);
}
