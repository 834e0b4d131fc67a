// Syscall number decoding and dispatch, as arch/x86/entry/syscall_64.c (do_syscall_64,
// do_syscall_x64, do_syscall_x32) and syscall_32.c (do_syscall_32_irqs_on) do it — in
// arch/x86/entry/common.c before v6.15 — with the version-dependent rules of ABI-FACTS §4
// read from the profile. The table rows and entry names come from abi/tables.

import type { Abi } from '../../harness/contracts.js';
import { ARG_REGS, type Gpr } from '../../harness/contracts.js';
import { ERRNO, X32_SYSCALL_BIT } from '../../abi/constants.js';
import { lookupNumber, effectiveEntry, NR_SYSCALLS, NI_SYSCALL, type SyscallRow } from '../../abi/tables/index.js';
import { since } from '../profiles.js';
import { HANDLERS } from './syscalls/index.js';
import { NotModelled, type SysCtx } from './syscalls/types.js';
import type { Kernel } from './kernel.js';
import { syscallTraceEnter } from './trace.js';
import { ptraceExit } from './ptrace.js';
import { ftraceEnter, ftraceExit } from './ftrace.js';
import { syscallExitRestart } from './restart.js';
import { sleepAndSwitch } from './sched.js';

/** struct pt_regs: the GPRs plus orig_ax and the hardware-frame part (ip, cs, flags, sp = rsp, ss). */
export type PtRegs = Record<Gpr, bigint> & { orig_ax: bigint; ip: bigint; cs: bigint; flags: bigint; ss: bigint };

const ENOSYS = BigInt.asUintN(64, -BigInt(ERRNO.ENOSYS));
const X32_BIT = Number(X32_SYSCALL_BIT);

/** Syscalls newer than some profiles' kernels (the tables are v7.0): such a number is -ENOSYS there. */
const INTRODUCED: Record<string, string> = { uretprobe: '6.11', uprobe: '6.18', rseq_slice_yield: '7.0' };

/** do_syscall_64's number decoding and table choice, then syscall_exit_work's ptrace exit stop. */
export function doSyscall64(k: Kernel, regs: PtRegs): void {
  dispatch64(k, regs);
  // syscall_exit_work: audit, the sys_exit tracepoint, then ptrace's exit stop.
  ftraceExit(k, regs, false);
  ptraceExit(k, regs, false);
  // exit_to_user_mode_loop: a pending signal decides what an -ERESTART* result becomes.
  syscallExitRestart(k, regs, false);
}

/** The number decoding and table choice. Leaves regs.rax as the kernel does. */
function dispatch64(k: Kernel, regs: PtRegs): void {
  const prof = k.profile;
  // syscall_enter_from_user_mode → syscall_trace_enter: seccomp (and a tracer) may skip the
  // call or change orig_ax, which is re-read below.
  if (!syscallTraceEnter(k, regs, false)) return;
  // The sys_enter tracepoint closes syscall_trace_enter, after ptrace and seccomp.
  ftraceEnter(k, regs, false);
  if (since(prof, '5.14')) {
    // nr = (int)orig_ax: only the low 32 bits count (entry_64.S movslq; "treat 64-bit syscall
    // numbers as int", v5.14).
    const nr = Number(BigInt.asIntN(32, regs.orig_ax));
    const unr = nr >>> 0;
    k.note(`do_syscall_64: nr = (int)rax = ${nr}`);
    if (unr < NR_SYSCALLS.x86_64) return invoke(k, regs, 'x86_64', lookupNumber('x86_64', unr), unr);
    if (prof.x32 && ((unr - X32_BIT) >>> 0) < NR_SYSCALLS.x32) {
      k.note('do_syscall_x32: the x32 bit is set and x32 is configured');
      return invoke(k, regs, 'x32', lookupNumber('x32', unr), unr);
    }
    if (nr !== -1) {
      k.note(`nr ${nr} is in no table → sys_ni_syscall: rax = -ENOSYS`);
      regs.rax = ENOSYS;
    } else k.note('nr = -1: nothing is called; rax keeps the -ENOSYS preset');
    return;
  }
  // Before v5.14 the whole 64-bit orig_ax was compared (unsigned long nr).
  const nr = regs.orig_ax;
  k.note(`do_syscall_64 (pre-5.14): nr = rax = 0x${nr.toString(16)} (all 64 bits compared)`);
  if (!since(prof, '5.4')) {
    // One shared table: the x32 bit is masked off (__SYSCALL_MASK) and 512–547 are the x32
    // compat entries, reachable with or without the bit.
    const masked = prof.x32 ? nr & ~X32_SYSCALL_BIT : nr;
    if (masked < BigInt(NR_SYSCALLS.x32)) {
      const n = Number(masked);
      const x32 = prof.x32 && (nr & X32_SYSCALL_BIT) !== 0n;
      const row = lookupNumber('x86_64', n) ?? lookupNumber('x32', n + X32_BIT);
      return invoke(k, regs, x32 ? 'x32' : 'x86_64', row, n, x32);
    }
    k.note('nr past the table → rax = -ENOSYS');
    return;
  }
  if (nr < BigInt(NR_SYSCALLS.x86_64)) return invoke(k, regs, 'x86_64', lookupNumber('x86_64', Number(nr)), Number(nr));
  if (prof.x32 && (nr & X32_SYSCALL_BIT) !== 0n && (nr & ~X32_SYSCALL_BIT) < BigInt(NR_SYSCALLS.x32)) {
    return invoke(k, regs, 'x32', lookupNumber('x32', Number(nr)), Number(nr));
  }
  k.note('nr in no table → rax = -ENOSYS');
}

/** do_syscall_32_irqs_on / do_int80_emulation dispatch: nr = (int)orig_ax (eax zero-extended). */
export function doSyscall32(k: Kernel, regs: PtRegs): void {
  dispatch32(k, regs);
  ftraceExit(k, regs, true);
  ptraceExit(k, regs, true);
  syscallExitRestart(k, regs, true);
}

function dispatch32(k: Kernel, regs: PtRegs): void {
  if (!syscallTraceEnter(k, regs, true)) return;
  ftraceEnter(k, regs, true);
  const nr = Number(BigInt.asIntN(32, regs.orig_ax));
  const unr = nr >>> 0;
  k.note(`do_syscall_32: nr = (int)orig_ax = ${nr} (i386 table)`);
  if (unr < NR_SYSCALLS.i386) return invoke(k, regs, 'i386', lookupNumber('i386', unr), unr);
  if (nr !== -1) {
    k.note(`nr ${nr} past IA32_NR_syscalls → eax = -ENOSYS`);
    regs.rax = ENOSYS;
  }
}

/** Convert a register to the declared C type (include/linux/syscalls.h __SC_LONG/__SC_CAST;
 *  for ia32: truncation to 32 bits, then zero- or, for `long` since v6.8, sign-extension). */
function convert(k: Kernel, v: bigint, kind: string, ia32: boolean): bigint {
  if (ia32) {
    const w = BigInt.asUintN(32, v);
    switch (kind) {
      case 'i': return BigInt.asIntN(32, w);
      case 'l': return since(k.profile, '6.8') ? BigInt.asIntN(32, w) : w;
      default: return w;
    }
  }
  switch (kind) {
    case 'i': return BigInt.asIntN(32, v);
    case 'u': return BigInt.asUintN(32, v);
    case 'l': return BigInt.asIntN(64, v);
    default: return BigInt.asUintN(64, v);
  }
}

function invoke(k: Kernel, regs: PtRegs, abi: Abi, row: SyscallRow | undefined, nr: number, x32Flag?: boolean): void {
  const ia32 = abi === 'i386';
  const entry = row ? effectiveEntry(row, 64) : null;
  if (!row || !entry || entry === NI_SYSCALL) {
    k.note(`${abi} nr ${nr}: ${row ? `${row.name} has no entry point` : 'no table row'} → -ENOSYS`);
    regs.rax = ENOSYS;
    return;
  }
  const since0 = INTRODUCED[row.name];
  if (since0 && !since(k.profile, since0)) {
    k.note(`${row.name} was added in v${since0}; kernel ${k.profile.kernel} has no such syscall → -ENOSYS`);
    regs.rax = ENOSYS;
    return;
  }
  const impl = HANDLERS[entry];
  if (!impl) throw new NotModelled(`not modelled: ${row.name} (${entry})`);
  const x32 = x32Flag ?? abi === 'x32';
  const src = ARG_REGS[ia32 ? '32' : '64'];
  const args = [...impl.args].map((kind, i) => convert(k, regs[src[i]!], kind, ia32));
  k.note(`→ ${entry}(${args.map((a) => (a < 0n ? a.toString() : '0x' + a.toString(16))).join(', ')})`);
  const ctx: SysCtx = {
    p: k.p,
    profile: k.profile,
    compat: ia32 || x32,
    ia32,
    x32,
    ip: regs.ip,
    forced: null,
    note: (t) => k.note(t),
    sleep: (ns) => sleepAndSwitch(k, ns),
    regs,
    cpu: k.cpu,
  };
  const r = impl.run(ctx, args);
  if (ctx.forced) k.forced = ctx.forced;
  regs.rax = BigInt.asUintN(64, r);
  k.note(`${entry} returned ${r < 0n && r >= -4095n ? `${r} (-errno)` : '0x' + BigInt.asUintN(64, r).toString(16)}`);
}
