// The simulator's ftrace syscall events (issue 7, docs/ftrace.md): the sys_enter/sys_exit
// tracepoints of kernel/entry/common.c as kernel/trace/trace_syscalls.c turns them into
// events/syscalls/sys_{enter,exit}_<name> records.
//  - sys_enter fires in syscall_trace_enter after ptrace and seccomp (a call they skip has
//    none); sys_exit fires in syscall_exit_work for every call that went through the entry
//    work, with the number re-read from orig_ax (so a seccomp-refused call has an exit event).
//  - The number is trace_get_syscall_nr(): -1 when arch_trace_is_compat_syscall(), which on x86
//    is in_32bit_syscall() = in_ia32_syscall() || in_x32_syscall() (arch/x86/include/asm/ftrace.h,
//    compat.h): i386 calls, int $0x80 from 64-bit code, and x32 calls (bit 30) emit nothing.
//    Otherwise syscall_get_nr() = (int)orig_ax, and numbers outside [0, NR_syscalls) or without
//    metadata (syscall_nr_to_meta) emit nothing either (an x32 number on a kernel without x32
//    is out of range, so it emits nothing too).
//  - sys_enter records sys_data->nb_args arguments from syscall_get_arguments(): di si dx r10
//    r8 r9, full 64-bit registers (no conversion to the C type); sys_exit records regs->ax.
// The state hangs off the Kernel through a WeakMap, like the ptrace tracer.

import { X32_SYSCALL_BIT } from '../../abi/constants.js';
import { metaOfX64Nr } from '../../abi/metadata/index.js';
import { NR_SYSCALLS } from '../../abi/tables/index.js';
import { ARG_REGS, type FtraceEvent } from '../../harness/contracts.js';
import type { PtRegs } from './dispatch.js';
import type { Kernel } from './kernel.js';

class FtraceState {
  readonly events: FtraceEvent[] = [];
}

const STATES = new WeakMap<Kernel, FtraceState>();

/** Turn the syscall events on for this kernel's task (the case asked for ftrace). */
export function attachFtrace(k: Kernel): void {
  STATES.set(k, new FtraceState());
}

/** The events recorded so far, or undefined when tracing is off. */
export function ftraceEvents(k: Kernel): FtraceEvent[] | undefined {
  return STATES.get(k)?.events;
}

/**
 * trace_get_syscall_nr() and syscall_nr_to_meta(): the number and metadata an event would
 * carry, or why there is no event. Exported for the tests.
 */
export function traceNr(regs: { orig_ax: bigint }, compat: boolean, x32Configured: boolean): { nr: number; name: string; nargs: number } | { none: string } {
  if (compat) return { none: 'a 32-bit (ia32) syscall: arch_trace_is_compat_syscall() → no event' };
  const nr = Number(BigInt.asIntN(32, regs.orig_ax));
  if (x32Configured && (BigInt(nr) & X32_SYSCALL_BIT) !== 0n) return { none: 'an x32 syscall (in_x32_syscall()): arch_trace_is_compat_syscall() → no event' };
  if (nr < 0 || nr >= NR_SYSCALLS.x86_64) return { none: `nr ${nr} is outside [0, NR_syscalls): no event` };
  const meta = metaOfX64Nr(nr);
  if (!meta) return { none: `nr ${nr} has no syscall metadata: no event` };
  return { nr, name: meta.name, nargs: meta.args.length };
}

/** The sys_enter tracepoint (after ptrace and seccomp let the call through). */
export function ftraceEnter(k: Kernel, regs: PtRegs, compat: boolean): void {
  const st = STATES.get(k);
  if (!st) return;
  const t = traceNr(regs, compat, k.profile.x32);
  if ('none' in t) { k.note(`ftrace sys_enter: ${t.none}`); return; }
  const args = ARG_REGS['64'].slice(0, t.nargs).map((r) => BigInt.asUintN(64, regs[r]));
  st.events.push({ kind: 'ftrace', event: 'sys_enter', name: t.name, nr: t.nr, args });
  k.note(`ftrace: sys_${t.name}(${args.map((a) => '0x' + a.toString(16)).join(', ')})`);
}

/** The sys_exit tracepoint (syscall_exit_work), with the number re-read from orig_ax. */
export function ftraceExit(k: Kernel, regs: PtRegs, compat: boolean): void {
  const st = STATES.get(k);
  if (!st || k.stop) return; // a task killed on the way (seccomp KILL) never reaches the exit work
  const t = traceNr(regs, compat, k.profile.x32);
  if ('none' in t) { k.note(`ftrace sys_exit: ${t.none}`); return; }
  const ret = BigInt.asIntN(64, regs.rax);
  st.events.push({ kind: 'ftrace', event: 'sys_exit', name: t.name, nr: t.nr, ret });
  k.note(`ftrace: sys_${t.name} -> ${ret < 0n ? ret.toString() : '0x' + ret.toString(16)}`);
}
