// The simulator's ptrace tracer for a case (issue 7; ABI-FACTS §4.3, §8.6 PT-01..PT-08):
// the syscall-entry and -exit stops of kernel/entry/common.c (syscall_trace_enter,
// syscall_exit_work → ptrace_report_syscall_*), the PTRACE_EVENT_SECCOMP stop of
// kernel/seccomp.c (__seccomp_filter, SECCOMP_RET_TRACE), and what a tracer reads at each
// (PTRACE_GETREGS, PTRACE_GETEVENTMSG, PTRACE_GET_SYSCALL_INFO of kernel/ptrace.c) and writes
// (PTRACE_SETREGS, arch/x86/kernel/ptrace.c putreg). The tracer is attached to the Kernel
// through a WeakMap so the kernel object itself needs no field for it.

import { AUDIT_ARCH, ERRNO, SIGNALS } from '../../abi/constants.js';
import { ARG_REGS, type Gpr, type PtraceScript, type PtraceStopEvent, type PtraceStopKind } from '../../harness/contracts.js';
import { since } from '../profiles.js';
import type { PtRegs } from './dispatch.js';
import type { Kernel } from './kernel.js';
import { tracerKill } from './restart.js';
import { VDSO32 } from './entry_compat.js';
import { lookupName } from '../../abi/tables/index.js';
import { NotModelled } from './syscalls/types.js';

/** include/uapi/linux/ptrace.h */
export const PTRACE_EVENT_SECCOMP = 7;
export const PTRACE_EVENTMSG_SYSCALL_ENTRY = 1n;
export const PTRACE_EVENTMSG_SYSCALL_EXIT = 2n;
export const PTRACE_SYSCALL_INFO = { NONE: 0, ENTRY: 1, EXIT: 2, SECCOMP: 3 } as const;
const MAX_ERRNO = 4095n;

export class Tracer {
  readonly script: PtraceScript;
  readonly events: PtraceStopEvent[] = [];
  /** task->ptrace_message: GETEVENTMSG reads whatever the last stop left there. */
  message = 0n;
  private seen: Record<PtraceStopKind, number> = { entry: 0, exit: 0, seccomp: 0 };
  constructor(script: PtraceScript) {
    this.script = script;
  }
  get sysgood(): boolean {
    return this.script.options.includes('tracesysgood');
  }
  /** ptrace_event_enabled(PTRACE_EVENT_SECCOMP). */
  get traceSeccomp(): boolean {
    return this.script.options.includes('traceseccomp');
  }
  /** SYSCALL_WORK_SYSCALL_TRACE (set by PTRACE_SYSCALL, cleared by other resumes: ptrace_resume). */
  get syscallTrace(): boolean {
    return this.script.mode === 'syscall';
  }
  /** SYSCALL_WORK_SYSCALL_EMU (PTRACE_SYSEMU). */
  get sysemu(): boolean {
    return this.script.mode === 'sysemu';
  }

  /**
   * The tracee is stopped: record what the tracer reads, then apply the script's writes.
   * `compat` selects the argument registers and the AUDIT_ARCH (syscall_get_arch).
   */
  stop(k: Kernel, regs: PtRegs, kind: PtraceStopKind, compat: boolean, seccompData = 0): void {
    const n = ++this.seen[kind];
    // ptrace_report_syscall() stores PTRACE_EVENTMSG_SYSCALL_{ENTRY,EXIT} since v5.3
    // (commit 201766a20e30); ptrace_event() stores the filter's data for seccomp stops.
    const modern = since(k.profile, '5.3');
    if (kind === 'seccomp') this.message = BigInt(seccompData);
    else if (modern) this.message = kind === 'entry' ? PTRACE_EVENTMSG_SYSCALL_ENTRY : PTRACE_EVENTMSG_SYSCALL_EXIT;
    const args = ARG_REGS[compat ? '32' : '64'].map((r) => regs[r]);
    const sig = kind !== 'seccomp' && this.sysgood ? SIGNALS.SIGTRAP | 0x80 : SIGNALS.SIGTRAP;
    const ev: PtraceStopEvent = {
      kind: 'ptrace', stop: kind, sig, event: kind === 'seccomp' ? PTRACE_EVENT_SECCOMP : 0,
      orig_rax: regs.orig_ax, rax: regs.rax, rip: regs.ip, rsp: regs.rsp, args, eventmsg: this.message,
    };
    if (modern) ev.info = syscallInfo(regs, kind, compat, this.message, this.sysgood);
    this.events.push(ev);
    k.note(`ptrace ${kind} stop #${n}: signal 0x${sig.toString(16)}, orig_rax 0x${regs.orig_ax.toString(16)}, rax 0x${regs.rax.toString(16)}, eventmsg ${this.message}`);
    const act = this.script.at.find((a) => a.stop === kind && a.n === n);
    if (!act) return;
    // PTRACE_SETREGS: a 64-bit tracer's putreg writes each GPR and orig_ax as given; rip is
    // written as is too (a non-canonical value only matters on the way out, §3.5).
    for (const [name, v] of Object.entries(act.set) as [string, bigint][]) {
      if (name === 'orig_rax') regs.orig_ax = v;
      else if (name === 'rip') regs.ip = v;
      else if (name === 'rflags') regs.flags = v;
      else regs[name as Gpr] = v;
    }
    k.note(`tracer SETREGS: ${Object.entries(act.set).map(([r, v]) => `${r} = 0x${BigInt.asUintN(64, v).toString(16)}`).join(', ') || '(unchanged write-back)'}`);
    if (act.rewind) {
      // PT-06, the tracer's own restart (ptrace_syscall.c test_ptrace_syscall_restart): back
      // over the 2-byte entry instruction with the number in ax, in the same SETREGS. The
      // exit path then returns to it (IRET: ip no longer equals rcx) and it runs again. A
      // 32-bit (i386) process's tracer writes eip/eax, which putreg32 zero-extends.
      const is32 = k.p.is32;
      regs.ip = BigInt.asUintN(is32 ? 32 : 64, regs.ip - 2n);
      regs.rax = is32 ? BigInt.asUintN(32, regs.orig_ax) : regs.orig_ax;
      k.note(`tracer rewind: rip -= 2 → 0x${regs.ip.toString(16)}, rax = orig_rax = 0x${regs.rax.toString(16)}`);
    }
    // PT-07: kill(tracee, sig) while it is stopped; the tracee sees it when it resumes.
    if (act.kill !== undefined) tracerKill(k, act.kill);
  }
}

/**
 * ptrace_get_syscall_info() (kernel/ptrace.c): the op comes from ptrace_message at syscall
 * stops (ENTRY/EXIT) and is SECCOMP at the event stop; arch = syscall_get_arch() (I386 for
 * every TS_COMPAT entry), nr = syscall_get_nr() (a long from (int)orig_ax... as the kernel's
 * unsigned long field: orig_ax as stored), args from syscall_get_arguments(), rval/is_error
 * from syscall_get_return_value()/syscall_get_error().
 */
function syscallInfo(regs: PtRegs, kind: PtraceStopKind, compat: boolean, message: bigint, sysgood: boolean): NonNullable<PtraceStopEvent['info']> {
  const base = {
    arch: compat ? AUDIT_ARCH.I386 : AUDIT_ARCH.X86_64,
    instruction_pointer: regs.ip,
    stack_pointer: regs.rsp,
  };
  const args = ARG_REGS[compat ? '32' : '64'].map((r) => regs[r]);
  // ptrace_get_syscall_info_entry: info->entry.nr = syscall_get_nr(child, regs) — an int,
  // sign-extended into the __u64 field.
  const nr = BigInt.asUintN(64, BigInt.asIntN(32, regs.orig_ax));
  if (kind === 'seccomp') return { op: PTRACE_SYSCALL_INFO.SECCOMP, ...base, nr, args, ret_data: Number(message) };
  // ptrace_get_syscall_info() picks the op from the stop's si_code: only SIGTRAP|0x80 (a
  // syscall stop with PTRACE_O_TRACESYSGOOD) is read as entry/exit; a plain SIGTRAP stop is
  // indistinguishable from a signal, so the op is NONE with only arch, ip and sp filled
  // (confirmed natively: SYSEMU without tracesysgood reports op 0).
  if (!sysgood) return { op: PTRACE_SYSCALL_INFO.NONE, ...base };
  if (kind === 'entry') return { op: PTRACE_SYSCALL_INFO.ENTRY, ...base, nr, args };
  // syscall_get_error(): for a compat task only the low 32 bits are sign-extended
  // (asm/syscall.h: `error = regs->ax; if (in_ia32_syscall) error = (long)(int)error;`).
  const ax = compat ? BigInt.asIntN(32, regs.rax) : BigInt.asIntN(64, regs.rax);
  const isErr = ax < 0n && ax >= -MAX_ERRNO;
  return { op: PTRACE_SYSCALL_INFO.EXIT, ...base, rval: BigInt.asUintN(64, isErr ? ax : regs.rax), is_error: isErr ? 1 : 0 };
}

const TRACERS = new WeakMap<Kernel, Tracer>();

/** Attach a tracer to a case's kernel (the probe's PTRACE_TRACEME + SETOPTIONS). */
export function attachTracer(k: Kernel, script: PtraceScript): Tracer {
  const t = new Tracer(script);
  TRACERS.set(k, t);
  k.onHandlerReturn = () => handlerSigreturnStops(k, t);
  return t;
}

/** Where the simulated handlers' restorers make their rt_sigreturn call: the probe's own
 *  restorer in its handler page (64-bit), __kernel_rt_sigreturn in the vdso32 (i386). */
const RESTORER64_NEXT_IP = 0x500102n;

/**
 * A handler ran and returned through its restorer's rt_sigreturn, which is a syscall like any
 * other: under PTRACE_SYSCALL it has an entry stop (the restorer's number, ip in the restorer)
 * and an exit stop after restore_sigcontext (arch/x86/kernel/signal_64.c, signal_32.c) put the
 * interrupted registers back — with orig_ax = -1 ("disable syscall checks", so the exit path
 * does not restart anything) and ax as the interrupted call returned it (e.g. -EINTR).
 */
function handlerSigreturnStops(k: Kernel, t: Tracer): void {
  // Under PTRACE_SYSEMU the restorer's rt_sigreturn would itself be emulated away, and the
  // handler would return into whatever follows its restorer: not modelled.
  if (t.sysemu) throw new NotModelled('a signal handler under PTRACE_SYSEMU (its rt_sigreturn is not executed)');
  if (!t.syscallTrace || k.stop) return;
  const cpu = k.cpu;
  const is32 = k.p.is32;
  const abi = is32 ? 'i386' : k.p.abi === 'x32' ? 'x32' : 'x86_64';
  const nr = BigInt(lookupName(abi, 'rt_sigreturn')!.nr);
  const n = t.events.filter((e) => e.stop === 'entry').length + 1;
  if (t.script.at.some((a) => (a.stop === 'entry' && a.n === n) || (a.stop === 'exit' && a.n === t.events.filter((e) => e.stop === 'exit').length + 1))) {
    throw new NotModelled('tracer actions at the rt_sigreturn stops of a signal handler');
  }
  const M = is32 ? 0xffffffffn : 0xffffffffffffffffn;
  const g = cpu.gpr;
  const user: PtRegs = {
    rax: g.rax & M, rbx: g.rbx & M, rcx: g.rcx & M, rdx: g.rdx & M, rsi: g.rsi & M, rdi: g.rdi & M, rbp: g.rbp & M, rsp: g.rsp & M,
    r8: g.r8, r9: g.r9, r10: g.r10, r11: g.r11, r12: g.r12, r13: g.r13, r14: g.r14, r15: g.r15,
    orig_ax: BigInt.asUintN(64, -1n), ip: cpu.rip, cs: 0n, flags: cpu.rflags, ss: 0n,
  };
  // The entry stop: the handler's registers are the simulator's (the interrupted ones; the
  // real handler leaves its own scratch values), the number in orig_ax, -ENOSYS in ax.
  const at = is32 && k.vdso32Base !== null ? k.vdso32Base + VDSO32.rtSigreturn + 7n : RESTORER64_NEXT_IP;
  t.stop(k, { ...user, orig_ax: nr, rax: ENOSYS64 & M, ip: at }, 'entry', is32);
  // The exit stop: the frame's registers are back in pt_regs.
  t.stop(k, user, 'exit', is32);
}

export function tracerOf(k: Kernel): Tracer | undefined {
  return TRACERS.get(k);
}

/**
 * syscall_trace_enter's ptrace part: with SYSCALL_WORK_SYSCALL_TRACE or _EMU set,
 * ptrace_report_syscall_entry(); with SYSEMU the call is then skipped (`return -1`) and the
 * registers stay as the tracer left them. Returns false when the call must not run.
 */
export function ptraceEntry(k: Kernel, regs: PtRegs, compat: boolean): boolean {
  const t = TRACERS.get(k);
  if (!t || (!t.syscallTrace && !t.sysemu)) return true;
  t.stop(k, regs, 'entry', compat);
  // ptrace_report_syscall() returns fatal_signal_pending(): a tracer's SIGKILL at the entry
  // stop makes syscall_trace_enter skip the call.
  if (k.stop) return false;
  if (t.sysemu) {
    k.note('PTRACE_SYSEMU: the call is not executed; rax is what the tracer left (-ENOSYS unless changed)');
    return false;
  }
  return true;
}

/** syscall_exit_work: ptrace_report_syscall_exit() when SYSCALL_TRACE is set (not for SYSEMU). */
export function ptraceExit(k: Kernel, regs: PtRegs, compat: boolean): void {
  const t = TRACERS.get(k);
  if (!t || !t.syscallTrace) return;
  if (k.p.exited) return;
  // A task already dead (do_exit: strict mode's SIGKILL, exit) reports no exit stop. A seccomp
  // filter's KILL_* is different since v5.15 (commit 307d522f5eb8, "signal/seccomp: Refactor
  // seccomp signal and coredump generation", pushed with the v5.15 merge-window branches on
  // 2021-08-31; its SA_IMMUTABLE follow-up fixed 5.15 through stable): __seccomp_filter rolls the registers back, forces
  // SIGSYS and returns -1, so the skipped call goes through syscall_exit_work — exit stop with
  // rax = orig_rax — and the task dies on the way out (SA_IMMUTABLE: no signal stop).
  if (k.stop && !(k.stop.kind === 'killed' && k.stop.signal === SIGNALS.SIGSYS && k.seccomp?.mode === 'filter' && since(k.profile, '5.15'))) return;
  t.stop(k, regs, 'exit', compat);
}

/** -ENOSYS as pt_regs holds it, for callers that need the preset. */
export const ENOSYS64 = BigInt.asUintN(64, -BigInt(ERRNO.ENOSYS));
