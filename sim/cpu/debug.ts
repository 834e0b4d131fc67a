// Debug-register instruction breakpoints and the resume flag (Intel SDM Vol. 3B §18.2 "Debug
// registers", §18.3.1.1 "Instruction-Breakpoint Exception Condition"; AMD APM Vol. 2 §13.1).
// An enabled DRn with R/W = 00 matches the linear address of an instruction about to execute
// and raises #DB *before* it runs (a fault), unless RFLAGS.RF is 1: RF suppresses instruction
// breakpoints for exactly one instruction, and the CPU clears it when that instruction
// completes. SYSRET always loads RF = 0 ((R11 & 3C7FD7H) | 2, sim/cpu/sysret.ts); IRET
// (sim/cpu/iret.ts) and FRED's ERETU (sim/cpu/fred.ts) load RF from their frame. That is how
// Linux resumes after a breakpoint: hw_breakpoint_handler sets RF in the saved flags and the
// exit must then be IRET/ERETU (do_syscall_64 refuses SYSRET when RF is set, RT-04).

import { RFLAGS } from '../../abi/constants.js';
import { hx, type Cpu } from './state.js';

/** One enabled execute breakpoint (DRn = linear address, DR7 Ln = 1, R/W n = 00, LEN n = 00). */
export interface InsnBreakpoint {
  /** Which of DR0–DR3 holds it (for DR6.Bn and the explanation). */
  dr: 0 | 1 | 2 | 3;
  addr: bigint;
}

/** What happens when the CPU is about to execute the instruction at RIP. */
export type InsnBreakpointCheck =
  | { kind: 'none' }
  /** #DB (fault class): RIP still points at the instruction; DR6.Bn set. */
  | { kind: 'hit'; bp: InsnBreakpoint; dr6: bigint }
  /** A breakpoint matched but RF = 1 suppressed it; the instruction runs. */
  | { kind: 'suppressed'; bp: InsnBreakpoint };

/** DR6 reserved bits that read as 1 (SDM §18.2.3: DR6 = FFFF0FF0H after a #DB with no status). */
const DR6_FIXED1 = 0xffff0ff0n;

/**
 * Check the instruction-breakpoint condition for the instruction at cpu.rip: the breakpoint
 * address is a linear address, compared with CS.base + RIP (CS.base is 0 in 64-bit mode and for
 * Linux's flat 32-bit code).
 */
export function checkInsnBreakpoint(cpu: Cpu, bps: readonly InsnBreakpoint[]): InsnBreakpointCheck {
  if (bps.length === 0) return { kind: 'none' };
  const linear = cpu.mode === 'long64' ? cpu.rip : (cpu.seg.cs.base + cpu.rip) & 0xffffffffn;
  const bp = bps.find((b) => b.addr === linear);
  if (!bp) return { kind: 'none' };
  if (cpu.rflags & RFLAGS.RF) {
    if (cpu.trace) cpu.note('#DB', `DR${bp.dr} matches the instruction at ${hx(linear)}, but RFLAGS.RF = 1 suppresses the instruction breakpoint for this one instruction`);
    return { kind: 'suppressed', bp };
  }
  const dr6 = DR6_FIXED1 | (1n << BigInt(bp.dr));
  if (cpu.trace) cpu.note('#DB', `instruction breakpoint: DR${bp.dr} = ${hx(bp.addr)} matches the instruction at ${hx(linear)} with RF = 0 → #DB (fault: RIP stays at the instruction), DR6 = ${hx(dr6)}`);
  return { kind: 'hit', bp, dr6 };
}

/** DR6.BS (bit 14): the #DB came from single-stepping (SDM §18.2.3). */
export const DR6_BS = 1n << 14n;

/**
 * TF was set when the instruction at RIP began and the instruction completed: a single-step #DB
 * follows it (trap class, SDM Vol. 3B §18.3.1.4), reported with DR6.BS. Its place among the
 * debug events of one instruction boundary is fixed by SDM Vol. 3A Table 6-2: an instruction
 * breakpoint on the instruction (priority 7, a fault) is raised *before* the instruction runs, so
 * when IRET/ERETU has just loaded TF (no trap follows the instruction that sets TF) a breakpoint
 * on the return address comes first, and the step exists only if the instruction then runs
 * (RF suppressed the breakpoint, or the handler resumed it with RF). BS is the highest-priority
 * debug condition: when a step trap and another condition coincide, one #DB reports BS and the
 * others' Bn bits together (§18.2.3).
 */
export function singleStepTrap(cpu: Cpu, at: bigint): bigint {
  const dr6 = DR6_FIXED1 | DR6_BS;
  if (cpu.trace) cpu.note('#DB', `TF was set while the instruction at ${hx(at)} ran → single-step #DB after it (trap: RIP = the next instruction), DR6 = ${hx(dr6)} (BS)`);
  return dr6;
}

/**
 * The instruction at RIP completed: the CPU clears RF (SDM §18.3.1.1; only IRET, POPF and task
 * switches leave it as they loaded it, and none of those is the instruction a case returns to).
 */
export function retireInstruction(cpu: Cpu): void {
  if (cpu.rflags & RFLAGS.RF) {
    cpu.rflags &= ~RFLAGS.RF;
    if (cpu.trace) cpu.note('RF', 'the instruction completed: RFLAGS.RF ← 0');
  }
}
