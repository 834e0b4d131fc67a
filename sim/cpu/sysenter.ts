// SYSENTER / SYSEXIT — fast system call and return through the IA32_SYSENTER_* MSRs
// (Intel SDM Vol. 2B "SYSENTER", "SYSEXIT", Operation; Vol. 3A §5.8.7; AMD APM Vol. 3, which
// makes both #UD in long mode). SYSENTER saves nothing: no return RIP, no RSP, no RFLAGS;
// it clears IF and VM but not TF. Caches are fixed values, not read from the GDT.

import { RFLAGS } from '../../abi/constants.js';
import type { InsnResult } from './api.js';
import { FRED_VECTOR_SYSENTER, fredEnterFromUser } from './fred.js';
import { Cpu, OK, fail, hx, setFlatCode, setFlatStack } from './state.js';

const MASK32 = 0xffffffffn;
const VM_IF_RF = RFLAGS.VM | RFLAGS.IF | RFLAGS.RF;

/**
 * Execute SYSENTER. Faults: #UD in long mode on AMD (traits.sysenterInLongMode = 'ud');
 * #GP(0) when IA32_SYSENTER_CS[15:2] = 0 (a NULL kernel CS — what Linux programs when ia32
 * emulation is off, ABI-FACTS §3.1). With FRED it is delivered as a FRED event (vector 2).
 */
export function sysenter(cpu: Cpu, insnLen = 2): InsnResult {
  const t = cpu.traits;
  const ia32e = cpu.efer.lma;
  if (ia32e && t.sysenterInLongMode === 'ud') {
    return fail(cpu, 'SYSENTER', 'UD', 0, cpu.cpl, 'SYSENTER in long mode on AMD (APM Vol. 3: #UD in long mode)');
  }
  // With FRED, SYSENTER from ring 3 is an event delivered through the FRED entry point and the
  // SYSENTER MSRs play no part: Linux leaves IA32_SYSENTER_CS unprogrammed on FRED systems
  // (arch/x86/kernel/cpu/common.c syscall_init: only STAR is written) and still handles
  // SYSENTER there (arch/x86/entry/entry_fred.c fred_other, FRED_SYSENTER). So the NULL-CS
  // #GP below cannot apply before the FRED delivery.
  if (t.fred) return fredEnterFromUser(cpu, 'SYSENTER', FRED_VECTOR_SYSENTER, insnLen);
  const sysCs = Number(cpu.msr.SYSENTER_CS & 0xffffn);
  if ((sysCs & 0xfffc) === 0) {
    return fail(cpu, 'SYSENTER', 'GP', 0, cpu.cpl, `SYSENTER with IA32_SYSENTER_CS[15:2] = 0 (MSR = ${hx(sysCs)})`);
  }

  const csSel = sysCs & 0xfffc;
  const ssSel = (csSel + 8) & 0xffff;
  // IF and VM cleared by the SDM's Operation; RF because the instruction completes. TF stays set,
  // which is why Linux's entry_SYSENTER_compat must cope with a single-step trap in the kernel.
  cpu.rflags = (cpu.rflags & ~VM_IF_RF) | RFLAGS.FIXED1;
  if (ia32e) {
    cpu.gpr.rsp = cpu.msr.SYSENTER_ESP;
    cpu.rip = cpu.msr.SYSENTER_EIP;
  } else {
    cpu.gpr.rsp = (cpu.gpr.rsp & ~MASK32) | (cpu.msr.SYSENTER_ESP & MASK32);
    cpu.rip = cpu.msr.SYSENTER_EIP & MASK32;
  }
  setFlatCode(cpu.seg.cs, csSel, 0, ia32e);
  setFlatStack(cpu.seg.ss, ssSel, 0);
  cpu.cpl = 0;
  cpu.mode = ia32e ? 'long64' : 'protected32';
  if (cpu.trace) {
    cpu.note('SYSENTER', `RFLAGS ← ${hx(cpu.rflags)} (IF and VM cleared; TF kept)`);
    cpu.note('SYSENTER', `RSP ← ${hx(cpu.gpr.rsp)} from IA32_SYSENTER_ESP; RIP ← ${hx(cpu.rip)} from IA32_SYSENTER_EIP`);
    cpu.note('SYSENTER', `CS ← ${hx(csSel)} from IA32_SYSENTER_CS (RPL forced to 0; fixed cache, ${ia32e ? '64-bit' : '32-bit'} code), SS ← ${hx(ssSel)} (CS + 8)`);
    cpu.note('SYSENTER', 'CPL ← 0 (no return address or flags saved)');
  }
  return OK;
}

/**
 * Execute SYSEXIT; rexW selects the 64-bit form. RIP ← RDX/EDX, RSP ← RCX/ECX,
 * CS ← SYSENTER_CS + 32 (64-bit) or + 16, SS ← + 40 or + 24, both with RPL 3.
 * Faults: #UD with FRED or in long mode on AMD; #GP(0) when SYSENTER_CS[15:2] = 0 or CPL ≠ 0;
 * #GP(0) for a 64-bit SYSEXIT with non-canonical RCX or RDX (SDM 64-bit mode exceptions).
 */
export function sysexit(cpu: Cpu, rexW: boolean): InsnResult {
  const t = cpu.traits;
  const mode = cpu.mode;
  if (rexW && mode !== 'long64') {
    throw new RangeError(`sysexit(rexW=true) in ${mode} mode: REX.W SYSEXIT is only encodable in 64-bit mode`);
  }
  if (t.fred) return fail(cpu, 'SYSEXIT', 'UD', 0, cpu.cpl, 'SYSEXIT with FRED enabled (CR4.FRED = 1)');
  const ia32e = cpu.efer.lma;
  if (ia32e && t.sysenterInLongMode === 'ud') {
    return fail(cpu, 'SYSEXIT', 'UD', 0, cpu.cpl, 'SYSEXIT in long mode on AMD');
  }
  const sysCs = Number(cpu.msr.SYSENTER_CS & 0xffffn);
  if ((sysCs & 0xfffc) === 0) return fail(cpu, 'SYSEXIT', 'GP', 0, cpu.cpl, `SYSEXIT with IA32_SYSENTER_CS[15:2] = 0 (MSR = ${hx(sysCs)})`);
  if (cpu.cpl !== 0) return fail(cpu, 'SYSEXIT', 'GP', 0, cpu.cpl, `SYSEXIT at CPL ${cpu.cpl} ≠ 0`);
  const rcx = cpu.gpr.rcx;
  const rdx = cpu.gpr.rdx;
  if (rexW && (!cpu.canonical(rcx) || !cpu.canonical(rdx))) {
    return fail(cpu, 'SYSEXIT', 'GP', 0, 0, `64-bit SYSEXIT with non-canonical ${!cpu.canonical(rdx) ? `RDX ${hx(rdx)}` : `RCX ${hx(rcx)}`}`);
  }
  const csSel = ((sysCs + (rexW ? 32 : 16)) | 3) & 0xffff;
  const ssSel = ((sysCs + (rexW ? 40 : 24)) | 3) & 0xffff;
  if (rexW) {
    cpu.gpr.rsp = rcx;
    cpu.rip = rdx;
  } else {
    cpu.gpr.rsp = rcx & MASK32; // a 32-bit destination: zero-extended in IA-32e mode
    cpu.rip = rdx & MASK32;
  }
  setFlatCode(cpu.seg.cs, csSel, 3, rexW);
  setFlatStack(cpu.seg.ss, ssSel, 3);
  cpu.cpl = 3;
  cpu.mode = rexW ? 'long64' : ia32e ? 'compat' : 'protected32';
  if (cpu.trace) {
    cpu.note('SYSEXIT', `RIP ← ${hx(cpu.rip)} from ${rexW ? 'RDX' : 'EDX'}; RSP ← ${hx(cpu.gpr.rsp)} from ${rexW ? 'RCX' : 'ECX'}`);
    cpu.note('SYSEXIT', `CS ← ${hx(csSel)} (IA32_SYSENTER_CS + ${rexW ? 32 : 16}, RPL 3), SS ← ${hx(ssSel)} (+ ${rexW ? 40 : 24}, RPL 3); fixed caches`);
    cpu.note('SYSEXIT', `CPL ← 3; mode ${cpu.mode}`);
  }
  return OK;
}
