// The simulator's syscall_trace_enter (kernel/entry/common.c): the work done on the way in
// before dispatch when a task has SYSCALL_WORK bits set. Order, as in the kernel: ptrace's
// entry stop first, then seccomp (__secure_computing, kernel/seccomp.c), and the number is
// re-read from orig_ax after each (syscall_get_nr), so a tracer's change is what seccomp sees
// (PT-08, v4.8) and seccomp's skip is what dispatch sees. Audit and tracepoints come after
// and change nothing a user can observe here.

import { AUDIT_ARCH, SIGNALS } from '../../abi/constants.js';
import { ARG_REGS } from '../../harness/contracts.js';
import { seccompData } from './seccomp/filter.js';
import type { PtRegs } from './dispatch.js';
import type { Kernel } from './kernel.js';
import { ptraceEntry, tracerOf } from './ptrace.js';

/**
 * Returns false when the syscall must not run (nr became -1): dispatch then leaves rax as
 * the tracer or seccomp set it. `compat` is TS_COMPAT: every 32-bit entry, including
 * int $0x80 from 64-bit code (arch/x86/include/asm/syscall.h syscall_get_arch).
 */
export function syscallTraceEnter(k: Kernel, regs: PtRegs, compat: boolean): boolean {
  // ptrace first (SYSCALL_WORK_SYSCALL_TRACE/EMU): the entry stop may change orig_ax.
  if (!ptraceEntry(k, regs, compat)) return false;
  return secureComputing(k, regs, compat);
}

/**
 * __secure_computing() on its own: the filters (and a SECCOMP_RET_TRACE stop) for the number in
 * orig_ax. Returns false when the call must be skipped. Besides syscallTraceEnter, the vsyscall
 * emulation calls it directly (arch/x86/entry/vsyscall/vsyscall_64.c emulate_vsyscall), with
 * no ptrace syscall stops around it.
 */
export function secureComputing(k: Kernel, regs: PtRegs, compat: boolean): boolean {
  const sc = k.seccomp;
  if (!sc) return true;
  const tracer = tracerOf(k);
  // syscall_get_nr(): (int)orig_ax; x32 numbers keep bit 30 (SC-02).
  const nr = Number(BigInt.asIntN(32, regs.orig_ax));
  // A tracer's orig_rax = -1 does not bypass seccomp: __secure_computing() reads the number
  // afresh and the filters run on nr -1 too; only afterwards does dispatch skip it.
  const arch = compat ? AUDIT_ARCH.I386 : AUDIT_ARCH.X86_64;
  // syscall_get_arguments(): the compat order bx cx dx si di bp, else di si dx r10 r8 r9.
  const args = ARG_REGS[compat ? '32' : '64'].map((r) => regs[r]);
  // populate_seccomp_data: instruction_pointer = regs->ip, the address after the entry insn.
  const data = seccompData(arch, nr, regs.ip, args);
  let out = sc.decide(data, { traceSeccomp: tracer?.traceSeccomp ?? false, liveThreads: k.liveThreads });
  if (out.kind === 'trace_stop' && tracer) {
    // SECCOMP_RET_TRACE with PTRACE_O_TRACESECCOMP: ptrace_event(PTRACE_EVENT_SECCOMP, data),
    // then re-read the number (the tracer may have changed it): < 0 skips, else the filters
    // run again on fresh seccomp_data with recheck_after_trace (kernel/seccomp.c).
    tracer.stop(k, regs, 'seccomp', compat, out.msg);
    const nr2 = Number(BigInt.asIntN(32, regs.orig_ax));
    if (nr2 < 0) {
      k.note('after the seccomp stop orig_rax < 0: the call is skipped, rax as the tracer left it');
      return false;
    }
    const args2 = ARG_REGS[compat ? '32' : '64'].map((r) => regs[r]);
    out = sc.decide(seccompData(arch, nr2, regs.ip, args2), { traceSeccomp: true, recheckAfterTrace: true });
  }
  k.note(`seccomp: nr ${nr}, arch 0x${arch.toString(16)}, ip 0x${regs.ip.toString(16)} → ${out.verdict.action}` +
    `${out.verdict.data ? `(${out.verdict.data})` : ''} (raw 0x${(out.verdict.raw >>> 0).toString(16)}, filter ${out.verdict.filterIndex})`);
  switch (out.kind) {
    case 'run':
      return true;
    case 'skip':
      // syscall_set_return_value(): regs->ax = (long)-errno; then nr = -1 skips dispatch.
      regs.rax = BigInt.asUintN(64, BigInt(out.ret));
      k.note(`seccomp skips the call (${out.why}): rax = ${out.ret}`);
      return false;
    case 'trap':
      // SECCOMP_RET_TRAP: syscall_rollback() puts orig_ax back in ax, then force_sig_seccomp()
      // queues SIGSYS with si_code SYS_SECCOMP; it is delivered on the way out.
      regs.rax = regs.orig_ax;
      k.forced = {
        signo: out.siginfo.signo, code: out.siginfo.code, addr: out.siginfo.callAddr,
        errno: out.siginfo.errno, syscall: out.siginfo.syscall, arch: out.siginfo.arch,
      };
      k.note(`seccomp TRAP: rax rolled back to orig_ax; SIGSYS (si_errno ${out.siginfo.errno}) on return`);
      return false;
    case 'notify': {
      // seccomp_do_user_notification (SC-04): the task sleeps until the supervisor answers; the
      // notification carries the seccomp_data of this pass (a TRACE recheck built it afresh).
      const nr3 = Number(BigInt.asIntN(32, regs.orig_ax));
      const d = seccompData(arch, nr3, regs.ip, ARG_REGS[compat ? '32' : '64'].map((r) => regs[r]));
      const a = sc.supervisor ? sc.supervisor.deliver(d, k.p.pid) : { kind: 'wait' as const, why: 'a listener exists but no supervisor reads it: the call sleeps' };
      if (a.kind === 'run') {
        k.note('seccomp USER_NOTIF: the supervisor answered CONTINUE, the call runs');
        return true;
      }
      if (a.kind === 'ret') {
        regs.rax = BigInt.asUintN(64, a.ret);
        k.note(`seccomp USER_NOTIF: the supervisor answered, rax = ${a.ret}`);
        return false;
      }
      k.stop = { kind: 'timeout', reason: a.why };
      return false;
    }
    case 'trace_stop':
      // Only reachable with a tracer, and handled above.
      regs.rax = BigInt.asUintN(64, -38n);
      return false;
    case 'kill':
      // Filter kills: rollback and a forced SIGSYS the task cannot survive (SIGSYS has a core
      // dump default); strict mode: do_exit(SIGKILL).
      regs.rax = regs.orig_ax;
      k.note(`seccomp kills the ${out.scope === 'process' ? 'process' : 'thread'} with signal ${out.signal}`);
      // KILL_THREAD with another thread alive (and strict mode's kill) is do_exit of this task
      // alone: no signal reaches the group, the other threads live on (kernel/seccomp.c
      // __seccomp_filter, __secure_computing_strict).
      if (k.liveThreads > 1 && out.scope === 'thread' && !out.coreDump) k.threadExited = true;
      k.stop = { kind: 'killed', signal: out.signal === SIGNALS.SIGKILL ? SIGNALS.SIGKILL : SIGNALS.SIGSYS };
      return false;
  }
}
