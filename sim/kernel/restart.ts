// Interrupted system calls and their restart (ABI-FACTS §7, §8.6 PT-07): what the exit path
// does with a -ERESTART* result when a signal is pending, as arch/x86/kernel/signal.c does it
// (arch_do_signal_or_restart when no handler runs, handle_signal when one does), and the
// signals a tracer sends while its tracee is stopped. Delivery itself stays in
// Kernel.deliverPending; this file only decides the registers the call returns with.

import { ERRNO, SIGNALS, X32_SYSCALL_BIT } from '../../abi/constants.js';
import { lookupName } from '../../abi/tables/index.js';
import type { PtRegs } from './dispatch.js';
import { DEFAULT_IGNORED, type Kernel } from './kernel.js';
import { SIG_DFL, SIG_IGN, type Process } from './process.js';

/** sa_flags bits: include/uapi/asm-generic/signal-defs.h (SA_RESTART), arch/x86/include/uapi/
 *  asm/signal.h (SA_SIGINFO, SA_RESTORER). */
export const SA_RESTART = 0x10000000n;
export const SA_SIGINFO = 0x4n;
export const SA_RESTORER = 0x04000000n;
const RESTART = {
  SYS: -BigInt(ERRNO.ERESTARTSYS),
  NOINTR: -BigInt(ERRNO.ERESTARTNOINTR),
  NOHAND: -BigInt(ERRNO.ERESTARTNOHAND),
  BLOCK: -BigInt(ERRNO.ERESTART_RESTARTBLOCK),
} as const;

const isBlocked = (p: Process, sig: number): boolean => ((p.blocked >> BigInt(sig - 1)) & 1n) === 1n;

/** signal_pending(): TIF_SIGPENDING is set for a queued signal the task does not block
 *  (kernel/signal.c recalc_sigpending). What pause() and every interruptible sleep test. */
export function signalPending(p: Process): boolean {
  return p.pending.some((s) => !isBlocked(p, s));
}

/**
 * The tracer's kill(tracee, sig) while the tracee sits in a ptrace stop (PT-07). Unlike the
 * task's own kill(), an ignored signal is queued too: sig_ignored() (kernel/signal.c) answers
 * false for a ptraced task, so the tracer gets its signal-delivery-stop. Legacy signals
 * (below SIGRTMIN) are queued once (legacy_queue). SIGKILL wakes the tracee from the stop and
 * it dies without another stop (ptrace_stop gives up when a fatal signal is pending).
 */
export function tracerKill(k: Kernel, sig: number): void {
  const p = k.p;
  if (sig === SIGNALS.SIGKILL) {
    k.note('tracer kill(SIGKILL): the tracee dies; no further ptrace stop (fatal signal pending)');
    k.stop = { kind: 'killed', signal: SIGNALS.SIGKILL };
    return;
  }
  if (sig < 32 && p.pending.includes(sig)) {
    k.note(`tracer kill(${sig}): already pending (legacy signals queue once)`);
    return;
  }
  p.pending.push(sig);
  k.note(`tracer kill(${sig}): queued${isBlocked(p, sig) ? ' (blocked)' : ''}; a traced task queues even ignored signals (sig_ignored)`);
}

/** get_nr_restart_syscall() (arch/x86/kernel/signal.c): the number ERESTART_RESTARTBLOCK puts
 *  back in ax — the compat table's for a TS_COMPAT call, with the x32 bit for an x32 one. */
function restartSyscallNr(compat: boolean, x32: boolean): bigint {
  if (compat) return BigInt(lookupName('i386', 'restart_syscall')!.nr);
  const nr = BigInt(lookupName('x86_64', 'restart_syscall')!.nr);
  return x32 ? nr | X32_SYSCALL_BIT : nr;
}

/**
 * exit_to_user_mode_loop → arch_do_signal_or_restart, for the registers only. Runs after the
 * exit stop (syscall_exit_work comes first), so a tracer sees the raw -ERESTART* there.
 * Only with a signal pending: without TIF_SIGPENDING the loop never calls it and the value
 * would reach user space as is.
 */
export function syscallExitRestart(k: Kernel, regs: PtRegs, compat: boolean): void {
  const p = k.p;
  if (k.stop || p.exited || !signalPending(p)) return;
  // "Did we come from a system call?": syscall_get_nr(regs) != -1, i.e. orig_ax.
  const nr = compat ? BigInt.asIntN(32, regs.orig_ax) : BigInt.asIntN(64, regs.orig_ax);
  if (nr === -1n) return;
  // syscall_get_error(): a compat task's error is the sign-extended low 32 bits (asm/syscall.h).
  const e = compat ? BigInt.asIntN(32, regs.rax) : BigInt.asIntN(64, regs.rax);
  if (e !== RESTART.SYS && e !== RESTART.NOINTR && e !== RESTART.NOHAND && e !== RESTART.BLOCK) return;
  const x32 = !compat && (regs.orig_ax & X32_SYSCALL_BIT) !== 0n;
  // get_signal(): take the pending, unblocked signals in turn. A traced task first reports
  // each in a signal-delivery-stop (ptrace_signal); the probe's tracer passes it on unchanged.
  // Ignored ones are dropped there and the next is taken; a default-fatal one kills the task
  // (no restart matters then); the first with a handler goes to handle_signal.
  for (const sig of p.pending) {
    if (isBlocked(p, sig)) continue;
    const act = p.actions.get(sig);
    const h = act?.handler ?? SIG_DFL;
    if (h === SIG_IGN || (h === SIG_DFL && DEFAULT_IGNORED.has(sig))) continue;
    if (h === SIG_DFL) return;
    // handle_signal(): ERESTART_RESTARTBLOCK and ERESTARTNOHAND become -EINTR; ERESTARTSYS
    // restarts only with SA_RESTART; ERESTARTNOINTR always restarts. The frame then saves
    // the adjusted registers, so the handler's sigreturn lands on them.
    if (e === RESTART.BLOCK || e === RESTART.NOHAND || (e === RESTART.SYS && ((act?.flags ?? 0n) & SA_RESTART) === 0n)) {
      regs.rax = BigInt.asUintN(64, -BigInt(ERRNO.EINTR));
      k.note(`handle_signal(${sig}): the call's ${e} becomes -EINTR (a handler runs${e === RESTART.SYS ? ', no SA_RESTART' : ''})`);
      return;
    }
    rewind(k, regs, regs.orig_ax, `handle_signal(${sig}): ${e === RESTART.SYS ? 'SA_RESTART, ' : ''}restart after the handler`);
    return;
  }
  // No handler ran: arch_do_signal_or_restart restarts every kind; RESTARTBLOCK through
  // restart_syscall, which continues the call from current->restart_block.
  if (e === RESTART.BLOCK) rewind(k, regs, restartSyscallNr(compat, x32), 'no handler: restart through restart_syscall');
  else rewind(k, regs, regs.orig_ax, 'no handler: the call is restarted');
}

/** ax = the number again, ip back over the 2-byte entry instruction (syscall, int $0x80, or
 *  the vDSO's int $0x80 just before its landing pad, for SYSENTER/compat SYSCALL). */
function rewind(k: Kernel, regs: PtRegs, ax: bigint, why: string): void {
  regs.rax = ax;
  regs.ip = BigInt.asUintN(64, regs.ip - 2n);
  k.note(`${why}: ax = 0x${ax.toString(16)}, ip -= 2 → 0x${regs.ip.toString(16)}`);
}
