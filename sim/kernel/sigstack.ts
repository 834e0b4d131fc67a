// Where the kernel would write the signal frame of a recorded signal, and whether it can:
// get_sigframe (arch/x86/kernel/signal.c) picks the alternate signal stack for an SA_ONSTACK
// handler when one is enabled and the task is not already on it (sigsp), else the interrupted
// stack below the 128-byte red zone (64-bit only). When the frame cannot be written,
// handle_signal → signal_setup_done(failed) → force_sigsegv: SIGSEGV at SIG_DFL, the process
// dies. The native probe's handlers are SA_ONSTACK and the probe sets up its own 64 KiB stack
// (probes/probe.c setup_signals), which the model treats as always usable; a case's set-up
// sigaltstack replaces it for the case's user code (sim/kernel/syscalls/proc.ts).

import type { AddressSpace } from './mm.js';
import { SS_DISABLE, type AltStack } from './process.js';

/** A lower bound on an rt_sigframe with its xsave area (the kernel's is larger with AVX-512). */
const FRAME_MIN = 1024n;

/**
 * Whether a handler's frame fits where get_sigframe puts it. `sp`: the interrupted stack pointer
 * (32-bit for an ia32 task). The alternate stack's own memory is checked just below its top,
 * the interrupted stack below the red zone; either must be writable user memory.
 */
export function frameFits(mm: AddressSpace, alt: AltStack, sp: bigint, is32: boolean): { ok: boolean; where: string } {
  if (alt.flags !== SS_DISABLE && !(sp > alt.sp && sp - alt.sp <= alt.size)) {
    if (alt.probe) return { ok: true, where: "the probe's alternate signal stack" };
    const top = alt.sp + alt.size;
    return { ok: mm.userWritableSpan(top - FRAME_MIN, Number(FRAME_MIN)) === Number(FRAME_MIN), where: `the alternate signal stack at 0x${alt.sp.toString(16)}` };
  }
  // x86_64 and x32 skip the red zone (signal.c: sp -= 128 for a 64-bit frame).
  const below = (is32 ? sp & 0xffffffffn : sp - 128n) - FRAME_MIN;
  if (below < 0n) return { ok: false, where: `the interrupted stack (sp 0x${sp.toString(16)})` };
  return { ok: mm.userWritableSpan(below, Number(FRAME_MIN)) === Number(FRAME_MIN), where: `the interrupted stack (sp 0x${sp.toString(16)})` };
}
