// The kernel side of a user instruction breakpoint armed through perf (RT-04): the #DB handler
// (arch/x86/kernel/traps.c exc_debug_user → notify_debug → hw_breakpoint_handler in
// arch/x86/kernel/hw_breakpoint.c) finds the perf event behind DR6.Bn, counts it
// (perf_bp_event), and sets X86_EFLAGS_RF in regs->flags so that returning to the instruction
// does not hit the breakpoint again. With attr.sigtrap (v5.13, kernel/events/core.c) the
// overflow queues a SIGTRAP for the task: force_sig_perf(si_addr = bp_addr, si_perf_type =
// PERF_TYPE_BREAKPOINT) with si_code TRAP_PERF, delivered on the way back to user mode. The
// signal frame therefore holds RIP = the breakpoint address and RFLAGS with RF set.

import { RFLAGS, SIGNALS, SI_CODES } from '../../abi/constants.js';
import { checkInsnBreakpoint, type InsnBreakpoint } from '../cpu/debug.js';
import { since } from '../profiles.js';
import type { Kernel } from './kernel.js';

/** Why this kernel cannot arm the case's breakpoint, or null (what perf_event_open would say). */
export function hwBreakpointUnsupported(k: Kernel): string | null {
  // Before v5.13 attr.sigtrap is a reserved bit: perf_event_open refuses it with EINVAL.
  if (!since(k.profile, '5.13')) {
    return `cannot arm a hardware instruction breakpoint: perf_event_attr.sigtrap needs Linux 5.13+ (profile ${k.profile.name} is ${k.profile.kernel}: EINVAL)`;
  }
  return null;
}

/**
 * The CPU is back in user mode and about to execute the instruction at RIP. If an armed
 * breakpoint matches with RF = 0, raise the perf SIGTRAP and return true (the case stops
 * there); a match suppressed by RF, or no match, returns false and the instruction runs.
 */
export function userInsnBreakpoint(k: Kernel, bps: readonly InsnBreakpoint[]): boolean {
  const cpu = k.cpu;
  const r = checkInsnBreakpoint(cpu, bps);
  k.flushCpuTrace();
  if (r.kind === 'none') return false;
  if (r.kind === 'suppressed') {
    k.note(`the instruction at 0x${cpu.rip.toString(16)} runs: RF came back set from the exit's frame, so the breakpoint on it is skipped once`);
    return false;
  }
  // hw_breakpoint_handler: "Set up resume flag to avoid breakpoint recursion when returning back to origin".
  cpu.rflags |= RFLAGS.RF;
  k.note(`hw_breakpoint_handler: perf_bp_event for DR${r.bp.dr}; regs->flags |= X86_EFLAGS_RF; sigtrap → SIGTRAP (TRAP_PERF, si_addr 0x${r.bp.addr.toString(16)})`);
  // The sigcontext's trapno/err are whatever thread.trap_nr/error_code held (the signal comes
  // from task work, not from the trap itself), so none are reported.
  k.raise(SIGNALS.SIGTRAP, SI_CODES.TRAP_PERF, r.bp.addr);
  return true;
}
