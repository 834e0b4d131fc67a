// SYSCALL — fast system call (Intel SDM Vol. 2B "SYSCALL—Fast System Call", Operation;
// AMD APM Vol. 3 "SYSCALL", SYSCALL_LONG_MODE / SYSCALL_LEGACY_MODE). The CPU saves the return
// RIP in RCX and RFLAGS in R11, masks RFLAGS with SFMASK, and loads CS/SS from STAR[47:32]
// with *fixed* descriptor caches (the GDT is not read). RSP is not changed.

import { RFLAGS } from '../../abi/constants.js';
import type { InsnResult } from './api.js';
import { FRED_VECTOR_SYSCALL, fredEnterFromUser } from './fred.js';
import { Cpu, EFER_SCE, OK, fail, hx, setFlatCode, setFlatStack } from './state.js';

const MASK64 = (1n << 64n) - 1n;
const MASK32 = 0xffffffffn;
const RF = RFLAGS.RF;
const NOT_RF = MASK64 ^ RF;
const VM_IF_RF = RFLAGS.VM | RFLAGS.IF | RFLAGS.RF;

/**
 * Execute SYSCALL at cpu.rip (the instruction is insnLen bytes long; 0F 05 is 2).
 * Faults: #UD if EFER.SCE = 0; #UD outside 64-bit mode on Intel (CS.L ≠ 1), while AMD allows
 * compatibility mode (RIP ← CSTAR) and legacy mode (EIP ← STAR[31:0]).
 */
export function syscall(cpu: Cpu, insnLen = 2): InsnResult {
  const t = cpu.traits;
  if ((cpu.msr.EFER & EFER_SCE) === 0n) {
    return fail(cpu, 'SYSCALL', 'UD', 0, cpu.cpl, 'SYSCALL with EFER.SCE = 0 (SDM Vol. 2B SYSCALL; APM Vol. 3 SYSCALL)');
  }
  const mode = cpu.mode;
  if (mode === 'compat' && t.syscallInCompat === 'ud') {
    return fail(cpu, 'SYSCALL', 'UD', 0, cpu.cpl, 'SYSCALL in compatibility mode on Intel: the SDM requires CS.L = 1 and EFER.LMA = 1');
  }
  if (mode === 'protected32' && (t.syscallInLegacy ?? (t.vendor === 'amd' ? 'star-eip' : 'ud')) === 'ud') {
    return fail(cpu, 'SYSCALL', 'UD', 0, cpu.cpl, 'SYSCALL in legacy protected mode on Intel (not in 64-bit mode)');
  }
  if (t.fred) return fredEnterFromUser(cpu, 'SYSCALL', FRED_VECTOR_SYSCALL, insnLen);

  const star = cpu.msr.STAR;
  const csSel = Number((star >> 32n) & 0xfffcn); // RPL forced to 0
  const ssSel = (Number((star >> 32n) & 0xffffn) + 8) & 0xffff; // "SS just above CS"
  const flags = cpu.rflags;
  const tr = cpu.trace;

  if (mode !== 'protected32') {
    // IA-32e mode. In compatibility mode the next EIP is a 32-bit address, zero-extended in RCX.
    const next = mode === 'long64' ? (cpu.rip + BigInt(insnLen)) & MASK64 : (cpu.rip + BigInt(insnLen)) & MASK32;
    const target = mode === 'long64' ? cpu.msr.LSTAR : cpu.msr.CSTAR;
    cpu.gpr.rcx = next;
    cpu.gpr.r11 = flags & NOT_RF; // R11 ← RFLAGS with RF clear (APM: "with rf cleared")
    cpu.rflags = (flags & ~cpu.msr.SFMASK & NOT_RF) | RFLAGS.FIXED1;
    setFlatCode(cpu.seg.cs, csSel, 0, true);
    setFlatStack(cpu.seg.ss, ssSel, 0);
    cpu.cpl = 0;
    cpu.mode = 'long64';
    cpu.rip = target;
    if (tr) {
      cpu.note('SYSCALL', `RCX ← ${hx(next)} (next RIP)`);
      cpu.note('SYSCALL', `R11 ← ${hx(flags & NOT_RF)} (RFLAGS, RF clear)`);
      cpu.note('SYSCALL', `RFLAGS ← ${hx(cpu.rflags)} (RFLAGS & ~SFMASK ${hx(cpu.msr.SFMASK)})`);
      cpu.note('SYSCALL', `CS ← ${hx(csSel)} from STAR[47:32] (RPL forced to 0; fixed cache: flat 64-bit code, DPL 0)`);
      cpu.note('SYSCALL', `SS ← ${hx(ssSel)} from STAR[47:32] + 8 (fixed cache: flat data, DPL 0)`);
      cpu.note('SYSCALL', `CPL ← 0; RIP ← ${hx(target)} from ${mode === 'long64' ? 'LSTAR' : 'CSTAR (compatibility mode)'}`);
    }
    return OK;
  }

  // AMD legacy mode (APM SYSCALL_LEGACY_MODE): ECX ← next EIP, EIP ← STAR[31:0],
  // 32-bit flat CS/SS, and RFLAGS.VM, IF, RF cleared (SFMASK is not used; R11 does not exist).
  const next = (cpu.rip + BigInt(insnLen)) & MASK32;
  const target = star & MASK32;
  cpu.gpr.rcx = next;
  cpu.rflags = (flags & ~VM_IF_RF) | RFLAGS.FIXED1;
  setFlatCode(cpu.seg.cs, csSel, 0, false);
  setFlatStack(cpu.seg.ss, ssSel, 0);
  cpu.cpl = 0;
  cpu.rip = target;
  if (tr) {
    cpu.note('SYSCALL', `ECX ← ${hx(next)} (next EIP)`);
    cpu.note('SYSCALL', `EFLAGS ← ${hx(cpu.rflags)} (VM, IF, RF cleared; legacy mode ignores SFMASK)`);
    cpu.note('SYSCALL', `CS ← ${hx(csSel)} from STAR[47:32], SS ← ${hx(ssSel)} (fixed flat 32-bit caches, DPL 0)`);
    cpu.note('SYSCALL', `CPL ← 0; EIP ← ${hx(target)} from STAR[31:0]`);
  }
  return OK;
}
