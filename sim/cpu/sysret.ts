// SYSRET — return from fast system call (Intel SDM Vol. 2B "SYSRET—Return From Fast System
// Call", Operation; AMD APM Vol. 3 "SYSRET"). RIP ← RCX (ECX without REX.W), RFLAGS ←
// (R11 & 3C7FD7H) | 2, CS ← STAR[63:48] (+16 for a 64-bit return) | 3, SS ← STAR[63:48] + 8 | 3,
// with fixed descriptor caches — except on AMD, where SS's hidden attributes are left as they
// were (Linux X86_BUG_SYSRET_SS_ATTRS). RSP is not changed.

import { RFLAGS } from '../../abi/constants.js';
import type { InsnResult } from './api.js';
import { Cpu, EFER_SCE, OK, fail, hx, makeFault, setFlatCode, setFlatStack } from './state.js';

const MASK32 = 0xffffffffn;
/** RFLAGS bits SYSRET takes from R11: everything but RF (16), VM (17) and the reserved bits. */
export const SYSRET_RFLAGS_MASK = 0x3c7fd7n;

/**
 * Execute SYSRET; rexW selects the 64-bit form (sysretq). Faults, in the manuals' order:
 * #UD when FRED is on (SYSRET is not used with FRED), when EFER.SCE = 0, or (Intel) outside
 * 64-bit mode; #GP(0) when CPL ≠ 0; Intel #GP(0) *at CPL 0* when the 64-bit RCX is not
 * canonical. On AMD a non-canonical RCX completes the return and the fetch faults at CPL 3:
 * the result is ok with `pending` set to that #GP(0).
 */
export function sysret(cpu: Cpu, rexW: boolean): InsnResult {
  const t = cpu.traits;
  const mode = cpu.mode;
  if (rexW && mode !== 'long64') {
    // A REX prefix only exists in 64-bit mode; elsewhere 48h decodes as DEC EAX.
    throw new RangeError(`sysret(rexW=true) in ${mode} mode: REX.W SYSRET is only encodable in 64-bit mode`);
  }
  if (t.fred) return fail(cpu, 'SYSRET', 'UD', 0, cpu.cpl, 'SYSRET with FRED enabled (CR4.FRED = 1): returns use ERETU');
  if ((cpu.msr.EFER & EFER_SCE) === 0n) return fail(cpu, 'SYSRET', 'UD', 0, cpu.cpl, 'SYSRET with EFER.SCE = 0');
  // Intel: #UD unless CS.L = 1 and EFER.LMA = 1. AMD allows SYSRET from compatibility and legacy mode.
  if (mode !== 'long64' && (t.sysretOutside64 ?? (t.syscallInCompat === 'ud' ? 'ud' : 'valid')) === 'ud') {
    return fail(cpu, 'SYSRET', 'UD', 0, cpu.cpl, 'SYSRET outside 64-bit mode on Intel (CS.L ≠ 1 or EFER.LMA ≠ 1)');
  }
  if (cpu.cpl !== 0) return fail(cpu, 'SYSRET', 'GP', 0, cpu.cpl, `SYSRET at CPL ${cpu.cpl} ≠ 0`);

  const rcx = cpu.gpr.rcx;
  let pending = false;
  if (rexW && !cpu.canonical(rcx)) {
    if (t.sysretNonCanonical === 'gp-cpl0') {
      // Intel raises #GP(0) before leaving ring 0, with whatever RSP the kernel loaded (the
      // user's, in Linux's exit path): the CVE-2012-0217 class. Linux avoids it in do_syscall_64.
      return fail(cpu, 'SYSRET', 'GP', 0, 0, `SYSRET to non-canonical RCX ${hx(rcx)}: Intel raises #GP(0) at CPL 0`);
    }
    pending = true;
  }

  const star = cpu.msr.STAR;
  const base = Number((star >> 48n) & 0xffffn);
  const csSel = ((rexW ? base + 16 : base) | 3) & 0xffff;
  const ssSel = ((base + 8) | 3) & 0xffff;
  const r11 = cpu.gpr.r11;
  const legacy = mode === 'protected32'; // AMD SYSRET_LEGACY_MODE

  cpu.rip = rexW ? rcx : rcx & MASK32;
  if (legacy) {
    // APM legacy mode: only IF is set; the other flags stay (R11 does not exist there).
    cpu.rflags = cpu.rflags | RFLAGS.IF;
  } else {
    cpu.rflags = (r11 & SYSRET_RFLAGS_MASK) | RFLAGS.FIXED1;
  }
  setFlatCode(cpu.seg.cs, csSel, 3, rexW);
  const ss = cpu.seg.ss;
  if (t.sysretKeepsSsAttrs) {
    // AMD: "SS selector changed, SS attributes not changed" — a NULL SS from an interrupt
    // taken in the kernel stays unusable behind selector 0x2b (arch/x86/kernel/process_64.c).
    ss.selector = ssSel;
  } else {
    setFlatStack(ss, ssSel, 3);
  }
  cpu.cpl = 3;
  cpu.mode = rexW ? 'long64' : legacy ? 'protected32' : 'compat';

  if (cpu.trace) {
    cpu.note('SYSRET', `RIP ← ${hx(cpu.rip)} from ${rexW ? 'RCX' : 'ECX'}`);
    cpu.note('SYSRET', legacy
      ? `EFLAGS ← ${hx(cpu.rflags)} (legacy mode: IF set)`
      : `RFLAGS ← ${hx(cpu.rflags)} (R11 ${hx(r11)} & 0x3C7FD7 | 2: RF and VM cleared)`);
    cpu.note('SYSRET', `CS ← ${hx(csSel)} from STAR[63:48]${rexW ? ' + 16' : ''} | 3 (RPL forced to 3; fixed cache: flat ${rexW ? '64-bit' : '32-bit'} code, DPL 3)`);
    cpu.note('SYSRET', t.sysretKeepsSsAttrs
      ? `SS ← ${hx(ssSel)} from STAR[63:48] + 8 | 3 (AMD: hidden attributes unchanged${ss.unusable ? ' — still unusable' : ''})`
      : `SS ← ${hx(ssSel)} from STAR[63:48] + 8 | 3 (fixed cache: flat data, DPL 3)`);
    cpu.note('SYSRET', `CPL ← 3; mode ${cpu.mode}`);
  }
  if (pending) {
    const f = makeFault('GP', 0, 3, `instruction fetch at non-canonical RIP ${hx(rcx)} after AMD SYSRET (fault taken in user mode)`);
    if (cpu.trace) cpu.note('SYSRET', `#GP(0) pending at CPL 3: ${f.why}`);
    return { ok: true, pending: f };
  }
  return OK;
}
