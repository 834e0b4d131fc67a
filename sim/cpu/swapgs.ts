// SWAPGS — exchange GS.base with IA32_KERNEL_GS_BASE (Intel SDM Vol. 2B "SWAPGS"; AMD APM
// Vol. 3). Linux executes it on every entry from and exit to user mode
// (arch/x86/entry/entry_64.S) so that %gs addresses the per-CPU area in the kernel.

import type { InsnResult } from './api.js';
import { Cpu, OK, fail, hx } from './state.js';

/** #UD outside 64-bit mode; #GP(0) at CPL ≠ 0. The GS selector and attributes are untouched. */
export function swapgs(cpu: Cpu): InsnResult {
  if (cpu.mode !== 'long64') return fail(cpu, 'SWAPGS', 'UD', 0, cpu.cpl, `SWAPGS outside 64-bit mode (${cpu.mode})`);
  if (cpu.cpl !== 0) return fail(cpu, 'SWAPGS', 'GP', 0, cpu.cpl, `SWAPGS at CPL ${cpu.cpl} ≠ 0`);
  const gs = cpu.seg.gs.base;
  const kgs = cpu.msr.KERNEL_GS_BASE;
  cpu.seg.gs.base = kgs;
  cpu.msr.KERNEL_GS_BASE = gs;
  if (cpu.trace) cpu.note('SWAPGS', `GS.base ← ${hx(kgs)} (was KERNEL_GS_BASE); KERNEL_GS_BASE ← ${hx(gs)}`);
  return OK;
}
