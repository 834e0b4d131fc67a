// RDFSBASE, RDGSBASE, WRFSBASE, WRGSBASE (Intel SDM Vol. 2A "RDFSBASE/RDGSBASE—Read FS/GS
// Segment Base", Vol. 2D "WRFSBASE/WRGSBASE—Write FS/GS Segment Base"; AMD APM Vol. 3): user
// code reads or writes the hidden base of FS or GS directly, without a system call.
//   - #UD when CR4.FSGSBASE = 0 (Linux sets it from v5.9 when the CPU has the feature,
//     arch/x86/kernel/cpu/common.c), outside 64-bit mode, or with a LOCK prefix.
//   - WR*BASE: #GP(0) when the source is not canonical; the selector is left as it is.
// Case.before runs them right before the entry (sim/kernel/run.ts).

import type { BeforeInsnName } from '../../harness/contracts.js';
import type { CpuFault } from './api.js';
import { hx, type Cpu } from './state.js';

/** Canonical for 4-level paging: bits 63..47 all equal (SDM Vol. 1 §3.3.7.1). */
function canonical48(v: bigint): boolean {
  const top = v >> 47n;
  return top === 0n || top === 0x1ffffn;
}

export type FsgsbaseResult = { ok: true; value?: bigint } | { ok: false; fault: CpuFault };

/**
 * Execute one FSGSBASE instruction. `cr4Fsgsbase` is CR4.FSGSBASE as the kernel left it;
 * `src` is the WR*BASE source register's value (ignored for RD*BASE). A completed RD*BASE
 * returns the base in `value` (the caller writes the destination register).
 */
export function execFsgsbase(cpu: Cpu, insn: BeforeInsnName, cr4Fsgsbase: boolean, src = 0n): FsgsbaseResult {
  const ud = (why: string): FsgsbaseResult => {
    if (cpu.trace) cpu.note(insn.toUpperCase(), `#UD: ${why}`);
    return { ok: false, fault: { vector: 'UD', errorCode: 0, cpl: cpu.cpl, why } };
  };
  if (cpu.mode !== 'long64') return ud('the FSGSBASE instructions are recognised only in 64-bit mode');
  if (!cr4Fsgsbase) return ud('CR4.FSGSBASE = 0');
  const seg = insn.endsWith('fsbase') ? cpu.seg.fs : cpu.seg.gs;
  const name = insn.endsWith('fsbase') ? 'FS' : 'GS';
  if (insn.startsWith('rd')) {
    if (cpu.trace) cpu.note(insn.toUpperCase(), `dest ← ${name}.base = ${hx(seg.base)}`);
    return { ok: true, value: seg.base };
  }
  const v = BigInt.asUintN(64, src);
  if (!canonical48(v)) {
    if (cpu.trace) cpu.note(insn.toUpperCase(), `#GP(0): ${hx(v)} is not canonical`);
    return { ok: false, fault: { vector: 'GP', errorCode: 0, cpl: cpu.cpl, why: `${insn.toUpperCase()} of the non-canonical ${hx(v)}` } };
  }
  seg.base = v;
  if (cpu.trace) cpu.note(insn.toUpperCase(), `${name}.base ← ${hx(v)} (selector ${hx(BigInt(seg.selector))} unchanged)`);
  return { ok: true };
}
