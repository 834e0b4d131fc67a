// The simulated CPU's architectural state: GPRs, RIP, RFLAGS, CPL and mode, segment registers
// with their hidden descriptor caches, GDT/LDT/IDT, TSS stacks and the MSRs the entry and exit
// instructions read. Instructions live one per file (syscall.ts, sysret.ts, ...) and change
// this state in place; sim/kernel/ programs it (linux.ts holds the Linux boot values).

import { GPRS64, SEGS, type Gpr, type Seg } from '../../harness/contracts.js';
import { RFLAGS, type FlagName } from '../../abi/constants.js';
import type {
  CpuFault, CpuMode, CpuVendorTraits, Descriptor, FredState, IdtGate, InsnResult, MemoryBus,
  MsrName, SegmentCache, TraceStep, TssState,
} from './api.js';

/** EFER bits (Intel SDM Vol. 3A §2.2.1, Table 2-1 / AMD APM Vol. 2 §3.1.7). */
export const EFER_SCE = 1n << 0n;
export const EFER_LME = 1n << 8n;
export const EFER_LMA = 1n << 10n;
export const EFER_NXE = 1n << 11n;

/** Shared success result: the hot path returns this instead of allocating one per call. */
export const OK: InsnResult = Object.freeze({ ok: true }) as InsnResult;

const MASK64 = (1n << 64n) - 1n;
const MASK32 = 0xffffffffn;

/** "0x…" for trace text. */
export function hx(v: bigint | number): string {
  return '0x' + v.toString(16);
}

/** A fresh, unusable (NULL-loaded) segment cache. */
export function nullCache(selector = 0): SegmentCache {
  return {
    selector, base: 0n, limit: 0, type: 0, s: false, dpl: selector & 3, present: false,
    l: false, db: false, g: false, unusable: true,
  };
}

/** Byte-granular limit of a descriptor: G=1 scales the 20-bit field by 4 KiB (SDM Vol. 3A §3.4.5). */
export function effectiveLimit(d: Pick<Descriptor, 'limit' | 'g'>): number {
  return d.g ? ((d.limit & 0xfffff) * 0x1000 + 0xfff) >>> 0 : d.limit & 0xfffff;
}

/** True for a code-segment descriptor whose type has the conforming bit (type bit 2). */
export function isConforming(d: Descriptor): boolean {
  return d.kind === 'code' && (d.type & 0x4) !== 0;
}

/**
 * Build a CpuFault. Allocation is fine here: faults are off the hot path.
 * Vectors with error codes take one; #UD and #DB always carry 0.
 */
export function makeFault(
  vector: CpuFault['vector'], errorCode: number, cpl: number, why: string, address?: bigint,
): CpuFault {
  const f: CpuFault = { vector, errorCode, cpl, why };
  if (address !== undefined) f.address = address;
  return f;
}

/** Which table a selector names and its descriptor; or the reason it names none. */
export type DescriptorLookup =
  | { ok: true; desc: Descriptor; table: 'gdt' | 'ldt'; index: number }
  | { ok: false; why: string };

export class Cpu {
  traits: CpuVendorTraits;
  mem: MemoryBus;

  /** Always full 64-bit unsigned values; 32-bit writes go through set32 (which zero-extends). */
  gpr: Record<Gpr, bigint>;
  rip = 0n;
  /** RFLAGS as a 64-bit value; bit 1 always reads as 1 (SDM Vol. 1 §3.4.3). */
  rflags = 2n;
  cpl = 0;
  mode: CpuMode = 'long64';
  seg: Record<Seg, SegmentCache>;
  gdt: Descriptor[] = [];
  ldt: Descriptor[] = [];
  idt: IdtGate[] = [];
  /**
   * MSRs by name. EFER is the single source of truth for SCE/LME/LMA (the `efer` view reads
   * and writes its bits). FS_BASE and GS_BASE are the hidden bases of FS and GS (SDM Vol. 3A
   * §3.4.4.1: the MSRs *are* those cache fields), so they are accessors onto seg.fs/seg.gs.
   */
  msr: Record<MsrName, bigint>;
  /** A view of msr.EFER's bits (not separate state). */
  readonly efer: { sce: boolean; lma: boolean; lme: boolean };
  /** Ring stacks and IST pointers for interrupt delivery. */
  tss: TssState = { rsp: [0n, 0n, 0n], ist: [0n, 0n, 0n, 0n, 0n, 0n, 0n, 0n], ss0: 0 };
  /** FRED configuration, used when traits.fred (FRED spec §5.1). */
  fred: FredState = { config: 0n, rsp0: 0n };
  /** CR2: the faulting linear address of the last #PF delivered. */
  cr2 = 0n;
  /** Linear-address width: 48 (4-level paging) or 57 (LA57). */
  vaBits: 48 | 57 = 48;
  /** When non-null, every state change appends a step. */
  trace: TraceStep[] | null = null;

  constructor(traits: CpuVendorTraits, mem: MemoryBus) {
    this.traits = traits;
    this.mem = mem;
    const g = {} as Record<Gpr, bigint>;
    for (const r of GPRS64) g[r] = 0n;
    this.gpr = g;
    const s = {} as Record<Seg, SegmentCache>;
    for (const r of SEGS) s[r] = nullCache();
    this.seg = s;

    const seg = this.seg;
    const store = { EFER: 0n, STAR: 0n, LSTAR: 0n, CSTAR: 0n, SFMASK: 0n, SYSENTER_CS: 0n,
      SYSENTER_ESP: 0n, SYSENTER_EIP: 0n, KERNEL_GS_BASE: 0n };
    const msr = store as unknown as Record<MsrName, bigint>;
    Object.defineProperty(msr, 'FS_BASE', {
      enumerable: true,
      get: () => seg.fs.base,
      set: (v: bigint) => { seg.fs.base = BigInt.asUintN(64, v); },
    });
    Object.defineProperty(msr, 'GS_BASE', {
      enumerable: true,
      get: () => seg.gs.base,
      set: (v: bigint) => { seg.gs.base = BigInt.asUintN(64, v); },
    });
    this.msr = msr;

    const bit = (b: bigint) => ({
      enumerable: true,
      get: () => (msr.EFER & b) !== 0n,
      set: (on: boolean) => { msr.EFER = on ? msr.EFER | b : msr.EFER & ~b; },
    });
    const efer = {} as { sce: boolean; lma: boolean; lme: boolean };
    Object.defineProperties(efer, { sce: bit(EFER_SCE), lme: bit(EFER_LME), lma: bit(EFER_LMA) });
    this.efer = efer;
  }

  /** Record a step when tracing. Callers guard with `if (cpu.trace)` so no string is built otherwise. */
  note(insn: string, text: string): void {
    if (this.trace) this.trace.push({ insn, text });
  }

  // --- register views (SDM Vol. 1 §3.4.1.1: 32-bit writes zero-extend, 8/16-bit writes merge) ---

  get64(r: Gpr): bigint { return this.gpr[r]; }
  set64(r: Gpr, v: bigint): void { this.gpr[r] = v & MASK64; }
  get32(r: Gpr): bigint { return this.gpr[r] & MASK32; }
  /** A 32-bit destination zero-extends into the full 64-bit register. */
  set32(r: Gpr, v: bigint): void { this.gpr[r] = v & MASK32; }
  get16(r: Gpr): bigint { return this.gpr[r] & 0xffffn; }
  set16(r: Gpr, v: bigint): void { this.gpr[r] = (this.gpr[r] & ~0xffffn) | (v & 0xffffn); }
  /** Low byte (AL, BL, ..., R15B), or with high=true the legacy high byte (AH, BH, CH, DH). */
  get8(r: Gpr, high = false): bigint { return (this.gpr[r] >> (high ? 8n : 0n)) & 0xffn; }
  set8(r: Gpr, v: bigint, high = false): void {
    const sh = high ? 8n : 0n;
    this.gpr[r] = (this.gpr[r] & ~(0xffn << sh)) | ((v & 0xffn) << sh);
  }

  // --- RFLAGS by name ---

  flag(name: FlagName): boolean { return (this.rflags & RFLAGS[name]) !== 0n; }
  setFlag(name: FlagName, on: boolean): void {
    this.rflags = on ? this.rflags | RFLAGS[name] : this.rflags & ~RFLAGS[name];
  }
  get iopl(): number { return Number((this.rflags >> 12n) & 3n); }

  // --- addresses ---

  /** Canonical: bits 63..vaBits-1 all equal bit vaBits-1 (SDM Vol. 1 §3.3.7.1). */
  canonical(addr: bigint): boolean {
    const top = addr >> BigInt(this.vaBits - 1);
    return top === 0n || top === (MASK64 >> BigInt(this.vaBits - 1));
  }

  /** The mode the current CS cache and EFER.LMA select (SDM Vol. 3A §2.2 / §5.2.1). */
  modeFromCs(): CpuMode {
    if (!this.efer.lma) return 'protected32';
    return this.seg.cs.l ? 'long64' : 'compat';
  }

  /** IA-32e mode: 64-bit or compatibility (EFER.LMA). */
  get longMode(): boolean { return this.efer.lma; }

  // --- descriptor tables ---

  /** The descriptor a selector names (TI picks GDT or LDT). Index 0 of the GDT is the NULL selector. */
  lookup(selector: number): DescriptorLookup {
    const index = selector >> 3;
    const ti = (selector & 4) !== 0;
    const table = ti ? this.ldt : this.gdt;
    if (index >= table.length) {
      return { ok: false, why: `selector ${hx(selector)}: index ${index} beyond the ${ti ? 'LDT' : 'GDT'} limit (${table.length} entries)` };
    }
    const desc = table[index]!;
    return { ok: true, desc, table: ti ? 'ldt' : 'gdt', index };
  }

  /** Fill a segment cache from a descriptor, as a segment load does (SDM Vol. 3A §3.4.3). */
  fillCache(c: SegmentCache, selector: number, d: Descriptor): void {
    c.selector = selector & 0xffff;
    c.base = d.base;
    c.limit = effectiveLimit(d);
    c.type = d.type;
    c.s = d.kind === 'code' || d.kind === 'data';
    c.dpl = d.dpl;
    c.present = d.present;
    c.l = d.l;
    c.db = d.db;
    c.g = d.g;
    c.unusable = false;
  }

  /**
   * Load a segment register through the GDT/LDT with the manual's checks
   * (Intel SDM Vol. 2B MOV "Operation" for DS/ES/FS/GS/SS; for CS the far-JMP rules of
   * Vol. 3A §5.8.1, since MOV cannot load CS). Returns #GP(selector), #SS(selector) or
   * #NP(selector) like the hardware, leaving the register unchanged on a fault.
   */
  loadSegment(seg: Seg, selector: number): InsnResult {
    const sel = selector & 0xffff;
    const err = sel & 0xfffc;
    const cpl = this.cpl;
    const rpl = sel & 3;
    const insn = `MOV ${seg.toUpperCase()}`;
    const fault = (v: CpuFault['vector'], code: number, why: string): InsnResult => {
      const f = makeFault(v, code, cpl, why);
      if (this.trace) this.note(insn, `#${v}(${hx(code)}): ${why}`);
      return { ok: false, fault: f };
    };
    const isNull = (sel & 0xfffc) === 0; // index 0 in the GDT (TI=0)

    if (isNull) {
      if (seg === 'cs') return fault('GP', 0, 'NULL selector cannot be loaded into CS');
      if (seg === 'ss') {
        // SDM MOV: a NULL SS is allowed only in 64-bit mode at CPL < 3 with RPL = CPL.
        if (!(this.mode === 'long64' && cpl !== 3 && rpl === cpl)) {
          return fault('GP', 0, 'NULL selector loaded into SS outside 64-bit mode, at CPL 3, or with RPL ≠ CPL');
        }
      }
      const c = this.seg[seg];
      const clearBase = this.traits.nullSelectorClearsBase ?? this.traits.vendor === 'intel';
      c.selector = sel;
      c.unusable = true;
      c.present = false;
      c.dpl = rpl;
      // AMD keeps the old hidden base on a NULL load unless NullSelectorClearsBase (Linux X86_BUG_NULL_SEG).
      if (clearBase) c.base = 0n;
      if (this.trace) this.note(insn, `${seg.toUpperCase()} ← ${hx(sel)} (NULL: cache unusable${clearBase ? ', base 0' : ', base kept'})`);
      return OK;
    }

    const look = this.lookup(sel);
    if (!look.ok) return fault('GP', err, look.why);
    const d = look.desc;

    if (seg === 'ss') {
      if (rpl !== cpl) return fault('GP', err, `SS selector ${hx(sel)} RPL ${rpl} ≠ CPL ${cpl}`);
      if (d.kind !== 'data' || (d.type & 0x2) === 0) return fault('GP', err, `SS selector ${hx(sel)} does not name a writable data segment (${d.kind}, type ${hx(d.type)})`);
      if (d.dpl !== cpl) return fault('GP', err, `SS descriptor DPL ${d.dpl} ≠ CPL ${cpl}`);
      if (!d.present) return fault('SS', err, `SS descriptor ${hx(sel)} not present`);
    } else if (seg === 'cs') {
      if (d.kind !== 'code') return fault('GP', err, `CS selector ${hx(sel)} does not name a code segment (${d.kind})`);
      if (isConforming(d) ? d.dpl > cpl : (rpl > cpl || d.dpl !== cpl)) {
        return fault('GP', err, `CS ${hx(sel)}: DPL ${d.dpl}, RPL ${rpl} not allowed at CPL ${cpl}`);
      }
      if (!d.present) return fault('NP', err, `code descriptor ${hx(sel)} not present`);
    } else {
      const readableCode = d.kind === 'code' && (d.type & 0x2) !== 0;
      if (d.kind !== 'data' && !readableCode) return fault('GP', err, `${seg.toUpperCase()} selector ${hx(sel)} names neither a data segment nor readable code (${d.kind})`);
      if ((d.kind === 'data' || !isConforming(d)) && (rpl > d.dpl || cpl > d.dpl)) {
        return fault('GP', err, `${seg.toUpperCase()} ${hx(sel)}: DPL ${d.dpl} < max(RPL ${rpl}, CPL ${cpl})`);
      }
      if (!d.present) return fault('NP', err, `descriptor ${hx(sel)} not present`);
    }

    const c = this.seg[seg];
    this.fillCache(c, sel, d);
    // In 64-bit mode a selector load writes only the low 32 bits of the FS/GS base from the
    // descriptor, zero-extended (SDM Vol. 3A §3.4.4.1) — that is what fillCache did.
    if (seg === 'cs') this.mode = this.modeFromCs();
    if (this.trace) this.note(insn, `${seg.toUpperCase()} ← ${hx(sel)} from ${look.table.toUpperCase()}[${look.index}] (base ${hx(c.base)}, limit ${hx(c.limit)}, type ${hx(c.type)}, DPL ${c.dpl}${c.l ? ', L' : ''}${c.db ? ', D/B' : ''})`);
    return OK;
  }

  /** A plain copy of the visible state (for tests and explain output). */
  snapshot(): { gpr: Record<Gpr, bigint>; rip: bigint; rflags: bigint; cpl: number; mode: CpuMode; seg: Record<Seg, SegmentCache> } {
    const seg = {} as Record<Seg, SegmentCache>;
    for (const s of SEGS) seg[s] = { ...this.seg[s] };
    return { gpr: { ...this.gpr }, rip: this.rip, rflags: this.rflags, cpl: this.cpl, mode: this.mode, seg };
  }
}

// --- fixed descriptor-cache values loaded by SYSCALL/SYSRET/SYSENTER/SYSEXIT ---
// Those instructions do not read the GDT: the manuals' Operation sections set every cache
// field to a constant (base 0, limit FFFFFH with G=1, type 11 code / 3 data, S=1, P=1).

/** Flat code: type 0xB (execute/read, accessed), base 0, 4 GiB limit, G=1. */
export function setFlatCode(c: SegmentCache, selector: number, dpl: number, long: boolean): void {
  c.selector = selector & 0xffff;
  c.base = 0n;
  c.limit = 0xffffffff;
  c.type = 0xb;
  c.s = true;
  c.dpl = dpl;
  c.present = true;
  c.l = long;
  c.db = !long;
  c.g = true;
  c.unusable = false;
}

/** Flat stack: type 0x3 (read/write, accessed), base 0, 4 GiB limit, B=1, G=1. */
export function setFlatStack(c: SegmentCache, selector: number, dpl: number): void {
  c.selector = selector & 0xffff;
  c.base = 0n;
  c.limit = 0xffffffff;
  c.type = 0x3;
  c.s = true;
  c.dpl = dpl;
  c.present = true;
  c.l = false;
  c.db = true;
  c.g = true;
  c.unusable = false;
}

/** Little-endian encode of the low `len` bytes of v. */
export function leBytes(v: bigint, len: number): Uint8Array {
  const b = new Uint8Array(len);
  for (let i = 0; i < len; i++) b[i] = Number((v >> BigInt(8 * i)) & 0xffn);
  return b;
}

/** Little-endian decode. */
export function fromLe(b: Uint8Array): bigint {
  let v = 0n;
  for (let i = b.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]!);
  return v;
}

/**
 * Return a fault from an instruction (state untouched), recording it in the trace.
 * `why` names the manual's rule so a reader sees which check fired.
 */
export function fail(
  cpu: Cpu, insn: string, vector: CpuFault['vector'], errorCode: number, cpl: number, why: string,
  address?: bigint,
): InsnResult {
  const fault = makeFault(vector, errorCode, cpl, why, address);
  if (cpu.trace) {
    const code = vector === 'UD' ? '' : `(${hx(errorCode)})`;
    cpu.note(insn, `#${vector}${code} at CPL ${cpl}: ${why}`);
  }
  return { ok: false, fault };
}

/** "Instruction completion clears RF" (SDM Vol. 3A §18.3.1.1): applied where an instruction completes. */
export const RF_BIT = RFLAGS.RF;
