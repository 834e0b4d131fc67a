// A task's seccomp state in the simulator: installing filters as seccomp(2)/prctl(2) do
// (kernel/seccomp.c seccomp_set_mode_filter, seccomp_prepare_filter, seccomp_attach_filter,
// seccomp_set_mode_strict), evaluating the stack for one syscall entry (seccomp_run_filters)
// and turning the winning value into what the entry path does next (__seccomp_filter).
// The kernel layer calls evaluate()/decide() from its syscall_trace_enter model, after the
// ptrace entry stop and before dispatch, and re-reads nr afterwards (PT-05, PT-08).

import type { Abi } from '../../../abi/constants.js';
import { AUDIT_ARCH, ERRNO, MAX_ERRNO, SI_CODES, SIGNALS, X32_SYSCALL_BIT } from '../../../abi/constants.js';
import type { BpfInsn, SeccompSetup } from '../../../harness/contracts.js';
import {
  ACTION_VALUE, actionOf, actionRank, BPF_MAXINSNS, MAX_INSNS_PER_PATH, SECCOMP_FILTER_FLAG, SECCOMP_RET,
  SECCOMP_RET_ACTION, SECCOMP_RET_DATA, type SeccompAction,
} from '../../../harness/seccomp/uapi.js';
import { versionAtLeast } from '../../profiles.js';
import { checkFilter, runFilter, seccompWords, type CheckedFilter, type SeccompData } from './bpf.js';
import type { NotifySupervisor } from './notify.js';

export { seccompData, type SeccompData } from './bpf.js';

/** What the whole stack returned for one syscall. */
export interface SeccompVerdict {
  action: SeccompAction;
  /** ERRNO: the errno the call returns (capped at MAX_ERRNO); others: the 16 data bits. */
  data: number;
  /** The 32-bit value that won (for strict mode: ALLOW or KILL_THREAD as a stand-in). */
  raw: number;
  /** Install-order index (0 = oldest) of the filter whose value won; -1 when none did (ALLOW). */
  filterIndex: number;
  /** The winning value's action is not one the kernel knows (handled as KILL_PROCESS). */
  unknown: boolean;
  mode: 'disabled' | 'strict' | 'filter';
}

/** What the syscall entry does after seccomp (the branches of __seccomp_filter). */
export type SeccompOutcome =
  /** The call runs. `log`: an audit record is written (RET_LOG). */
  | { kind: 'run'; verdict: SeccompVerdict; log: boolean }
  /** The call is skipped and returns `ret` (a negative errno, or 0 for ERRNO|0). */
  | { kind: 'skip'; verdict: SeccompVerdict; ret: number; why: 'errno' | 'no_tracer' | 'no_listener' }
  /** Skipped, registers rolled back (saved rax = orig_rax), SIGSYS forced with this siginfo. */
  | { kind: 'trap'; verdict: SeccompVerdict; siginfo: SeccompSiginfo }
  /** PTRACE_EVENT_SECCOMP stop, GETEVENTMSG = msg. Afterwards: nr < 0 → skip; else re-run
   *  decide() on fresh data with recheckAfterTrace (a TRACE result then means run). */
  | { kind: 'trace_stop'; verdict: SeccompVerdict; msg: number }
  /** A listener exists on the winning filter: the supervisor decides (not modelled here). */
  | { kind: 'notify'; verdict: SeccompVerdict }
  /** The task dies. Filter kills: SIGSYS with siginfo, core dump, rollback; strict: SIGKILL. */
  | { kind: 'kill'; verdict: SeccompVerdict; signal: number; scope: 'thread' | 'process'; coreDump: boolean; siginfo?: SeccompSiginfo };

/** The SIGSYS force_sig_seccomp() sends. */
export interface SeccompSiginfo {
  signo: number;
  code: number;
  /** si_errno = the filter's 16 data bits. */
  errno: number;
  syscall: number;
  arch: number;
  /** si_call_addr = regs->ip, the address after the entry instruction. */
  callAddr: bigint;
}

/** Who asks to install: task_no_new_privs() and ns_capable(CAP_SYS_ADMIN). */
export interface InstallCreds {
  noNewPrivs: boolean;
  capSysAdmin: boolean;
}

export type InstallRequest =
  | { mode: 'strict'; flags?: number }
  /** program null models a NULL/unreadable sock_fprog pointer (→ EFAULT, how libseccomp probes flags). */
  | { mode: 'filter'; program: readonly BpfInsn[] | null; flags?: number };

export type InstallResult =
  | { ok: true; listener?: boolean }
  /** `ret`: a TSYNC refusal returns a sibling's tid (positive, errno 0) instead of -1. */
  | { ok: false; errno: number; reason: string; ret?: number };

/**
 * A sibling thread as a TSYNC install sees it (kernel/seccomp.c seccomp_can_sync_threads,
 * seccomp_sync_threads): its id, its own filter state, and how to set its NO_NEW_PRIVS.
 */
export interface TsyncPeer {
  tid: bigint;
  seccomp: SeccompState;
  setNoNewPrivs(): void;
}

export interface DecideContext {
  /** ptrace_event_enabled(PTRACE_EVENT_SECCOMP): a tracer set PTRACE_O_TRACESECCOMP. */
  traceSeccomp?: boolean;
  /** The second pass after a PTRACE_EVENT_SECCOMP stop (__seccomp_filter(nr, true)). */
  recheckAfterTrace?: boolean;
  /** Live threads in the process (KILL_THREAD kills only the thread when > 1). Default 1. */
  liveThreads?: number;
}

export interface SeccompOptions {
  /** Kernel version the state behaves as ("major.minor"); default 7.0. */
  kernel?: string;
}

interface Installed {
  prog: CheckedFilter;
  flags: number;
  listener: boolean;
  log: boolean;
}

/**
 * The length of a (valid seccomp) classic program after net/core/filter.c bpf_convert_filter,
 * which is what prog->len holds once bpf_prepare_filter → bpf_migrate_filter has run: a 3-insn
 * prologue (A = 0, X = 0, CTX = ARG1); `ret #k` becomes mov r0 + exit (2), `ret a` exit (1);
 * a conditional jump is one eBPF jump when jf is 0 or (for jeq/jgt/jge) jt is 0, else a jump
 * and a ja (2), plus a mov into a temporary when its constant is negative as an s32 (eBPF
 * immediates are sign-extended); div/mod by X get a 4-insn "X == 0 → return 0" guard (v4.15,
 * commit f6b1b3bf0d5f, from memory); everything else maps one to one. Describes current
 * kernels; older ones differ in the prologue (not verified against old tags).
 */
export function ebpfLength(prog: readonly BpfInsn[]): number {
  let n = 3;
  for (const i of prog) {
    const cls = i.code & 0x07;
    if (cls === 0x06) { n += (i.code & 0x18) === 0x00 ? 2 : 1; continue; } // BPF_RET: K or A
    if (cls === 0x04) { // BPF_ALU
      const op = i.code & 0xf0;
      n += (op === 0x30 || op === 0x90) && (i.code & 0x08) ? 5 : 1; // DIV/MOD by X
      continue;
    }
    if (cls === 0x05) { // BPF_JMP
      const op = i.code & 0xf0;
      if (op === 0x00) { n += 1; continue; } // JA
      const negK = (i.code & 0x08) === 0 && (i.k | 0) < 0;
      const one = i.jf === 0 || (i.jt === 0 && op !== 0x40); // JSET has no negation
      n += (negK ? 1 : 0) + (one ? 1 : 2);
      continue;
    }
    n += 1;
  }
  return n;
}

/** Filter flags and the release that introduced each (include/uapi/linux/seccomp.h history). */
const FLAG_SINCE: readonly [number, string][] = [
  [SECCOMP_FILTER_FLAG.TSYNC, '3.17'],
  [SECCOMP_FILTER_FLAG.LOG, '4.14'],
  [SECCOMP_FILTER_FLAG.SPEC_ALLOW, '4.17'],
  [SECCOMP_FILTER_FLAG.NEW_LISTENER, '5.0'],
  [SECCOMP_FILTER_FLAG.TSYNC_ESRCH, '5.7'],
  [SECCOMP_FILTER_FLAG.WAIT_KILLABLE_RECV, '6.0'],
];

/**
 * uretprobe (x86_64 335) is let through without running filters (seccomp_is_const_allow's
 * "single exception", so the action cache always allows it) and is on the strict list.
 * Upstream commit "seccomp: passthrough uretprobe systemcall without filtering" (v2 posted
 * 2025-01-29, Cc: stable): mainline v6.14. Checked against the stable-rc push logs: it was
 * queued for linux-6.12.y (2025-02-11) and linux-6.13.y (2025-02-14), so 6.12.x/6.13.x point
 * releases from then on behave like 6.14; a version gate on the release alone cannot tell
 * those from earlier 6.12/6.13 point releases (uretprobe itself is v6.11).
 */
export const URETPROBE_PASSTHROUGH_SINCE = '6.14';
const NR_URETPROBE_X86_64 = 335;

/** Strict mode's lists (kernel/seccomp.c mode1_syscalls; arch/x86/include/asm/seccomp.h). */
export const STRICT_SYSCALLS = {
  /** read, write, exit, rt_sigreturn. */
  native: [0, 1, 60, 15],
  /** ia32: read, write, exit, sigreturn (__NR_ia32_*). */
  compat: [3, 4, 1, 119],
} as const;

export class SeccompState {
  mode: 'disabled' | 'strict' | 'filter' = 'disabled';
  readonly kernel: string;
  /** Installed filters, oldest first (the kernel links them newest first via ->prev). */
  private readonly stack: Installed[] = [];
  /** SC-04: who reads the listener fd (sim/kernel/seccomp/notify.ts); null: nobody. */
  supervisor: NotifySupervisor | null = null;

  constructor(opts: SeccompOptions = {}) {
    this.kernel = opts.kernel ?? '7.0';
  }

  /** Number of installed filters. */
  get filterCount(): number {
    return this.stack.length;
  }

  /** The installed programs, oldest first. */
  get filters(): readonly (readonly BpfInsn[])[] {
    return this.stack.map((f) => f.prog.insns);
  }

  /** PR_GET_SECCOMP: 0 disabled, 1 strict, 2 filter. (In strict mode the prctl itself kills.) */
  get prctlValue(): number {
    return this.mode === 'disabled' ? 0 : this.mode === 'strict' ? 1 : 2;
  }

  /** is_ancestor(this task's filter, other's): this stack is a prefix of other's (same filter
   *  objects, as fork() shares them); no filter at all is the root of every tree. */
  isAncestorOf(other: SeccompState): boolean {
    return this.stack.length <= other.stack.length && this.stack.every((f, i) => other.stack[i] === f);
  }

  /** A child made by fork/clone shares the parent's filters (get_seccomp_filter in copy_seccomp). */
  fork(): SeccompState {
    const c = new SeccompState({ kernel: this.kernel });
    c.mode = this.mode;
    // The listener belongs to the filter object, which the child shares.
    c.stack.push(...this.stack);
    return c;
  }

  /** The SECCOMP_FILTER_FLAG_* this kernel version knows. */
  flagMask(): number {
    let m = 0;
    for (const [flag, since] of FLAG_SINCE) if (versionAtLeast(this.kernel, since)) m |= flag;
    return m;
  }

  /**
   * seccomp(SECCOMP_SET_MODE_STRICT / _FILTER) and prctl(PR_SET_SECCOMP), with the kernel's
   * order of checks: flags, then the program (length → EINVAL, NO_NEW_PRIVS or CAP_SYS_ADMIN →
   * EACCES, bpf/seccomp checks → EINVAL), then the mode (another mode already set → EINVAL),
   * a second listener (EBUSY), and the total path length (→ ENOMEM).
   */
  install(req: InstallRequest, creds: InstallCreds, peers: readonly TsyncPeer[] = []): InstallResult {
    const no = (errno: number, reason: string): InstallResult => ({ ok: false, errno, reason });
    const flags = req.flags ?? 0;
    if (req.mode === 'strict') {
      // do_seccomp: SECCOMP_SET_MODE_STRICT takes no flags and no argument.
      if (flags !== 0) return no(ERRNO.EINVAL, `SECCOMP_SET_MODE_STRICT takes no flags (got ${flags})`);
      if (this.mode !== 'disabled' && this.mode !== 'strict') {
        return no(ERRNO.EINVAL, `cannot switch from ${this.mode} mode to strict mode (seccomp_may_assign_mode)`);
      }
      this.mode = 'strict';
      return { ok: true };
    }

    if (flags & ~this.flagMask()) {
      return no(ERRNO.EINVAL, `unknown filter flags 0x${(flags & ~this.flagMask()).toString(16)} for kernel ${this.kernel}`);
    }
    const F = SECCOMP_FILTER_FLAG;
    if (flags & F.TSYNC && flags & F.NEW_LISTENER && !(flags & F.TSYNC_ESRCH)) {
      return no(ERRNO.EINVAL, 'TSYNC with NEW_LISTENER needs TSYNC_ESRCH');
    }
    if (flags & F.WAIT_KILLABLE_RECV && !(flags & F.NEW_LISTENER)) {
      return no(ERRNO.EINVAL, 'WAIT_KILLABLE_RECV needs NEW_LISTENER');
    }
    if (req.program === null) return no(ERRNO.EFAULT, 'sock_fprog pointer is not readable');
    const len = req.program.length;
    if (len === 0 || len > BPF_MAXINSNS) {
      return no(ERRNO.EINVAL, `filter length ${len} outside 1..BPF_MAXINSNS (${BPF_MAXINSNS})`);
    }
    if (!creds.noNewPrivs && !creds.capSysAdmin) {
      return no(ERRNO.EACCES, 'installing a filter needs NO_NEW_PRIVS or CAP_SYS_ADMIN');
    }
    const checked = checkFilter(req.program);
    if (!checked.ok) return no(checked.errno, checked.reason);
    if (this.mode !== 'disabled' && this.mode !== 'filter') {
      return no(ERRNO.EINVAL, `cannot switch from ${this.mode} mode to filter mode (seccomp_may_assign_mode)`);
    }
    const listener = (flags & F.NEW_LISTENER) !== 0;
    if (listener && this.stack.some((f) => f.listener)) {
      return no(ERRNO.EBUSY, 'a filter in the stack already has a listener');
    }
    // seccomp_attach_filter: every filter on the path costs its prog->len plus 4 — and prog->len
    // is the length after bpf_migrate_filter converted it to eBPF, not the classic length
    // (observed: specs/seccomp/install.yaml, native 6.18).
    let total = ebpfLength(req.program);
    for (const f of this.stack) total += ebpfLength(f.prog.insns) + 4;
    if (total > MAX_INSNS_PER_PATH) {
      return no(ERRNO.ENOMEM, `total filter path ${total} instructions exceeds MAX_INSNS_PER_PATH (${MAX_INSNS_PER_PATH})`);
    }
    // seccomp_attach_filter, after the length check: TSYNC needs every other thread either
    // without seccomp or with a filter that is an ancestor of ours (is_ancestor: NULL is the
    // root); the first that is not makes the call return its tid, or -ESRCH with TSYNC_ESRCH.
    if (flags & F.TSYNC) {
      const bad = peers.find((t) => !(t.seccomp.mode === 'disabled' || (t.seccomp.mode === 'filter' && t.seccomp.isAncestorOf(this))));
      if (bad) {
        if (flags & F.TSYNC_ESRCH) return no(ERRNO.ESRCH, `TSYNC: thread ${bad.tid} cannot be synchronised (TSYNC_ESRCH)`);
        return { ok: false, errno: 0, ret: Number(bad.tid), reason: `TSYNC: thread ${bad.tid} has a filter that is not an ancestor of the caller's` };
      }
    }
    this.stack.push({ prog: checked.prog, flags, listener, log: (flags & F.LOG) !== 0 });
    this.mode = 'filter';
    if (flags & F.TSYNC) {
      // seccomp_sync_threads: each sibling takes the caller's filter tree (and NO_NEW_PRIVS when
      // the caller has it) and enters filter mode.
      for (const t of peers) {
        t.seccomp.stack.length = 0;
        t.seccomp.stack.push(...this.stack);
        t.seccomp.mode = 'filter';
        if (creds.noNewPrivs) t.setNoNewPrivs();
      }
    }
    return listener ? { ok: true, listener: true } : { ok: true };
  }

  /** Install a Case's seccomp set-up in order; stops at the first refusal (index says which). */
  installSetup(setup: SeccompSetup, creds: InstallCreds): InstallResult & { index?: number } {
    if (setup.mode === 'strict') return this.install({ mode: 'strict' }, creds);
    for (let i = 0; i < setup.filters.length; i++) {
      const r = this.install({ mode: 'filter', program: setup.filters[i]! }, creds);
      if (!r.ok) return { ...r, index: i };
    }
    return { ok: true };
  }

  /**
   * Run every filter, newest first, and keep the value whose ACTION_ONLY is lowest (signed):
   * on a tie the first seen — the most recently installed — keeps it (SC-05). Strict mode
   * checks the fixed list instead.
   */
  evaluate(data: SeccompData): SeccompVerdict {
    const k = this.kernel;
    if (this.mode === 'disabled') return verdict('disabled', SECCOMP_RET.ALLOW, -1, k);
    if (this.mode === 'strict') {
      return verdict('strict', this.strictAllows(data) ? SECCOMP_RET.ALLOW : SECCOMP_RET.KILL_THREAD, -1, k);
    }
    if (this.uretprobePassthrough(data)) return verdict('filter', SECCOMP_RET.ALLOW, -1, k);
    const words = seccompWords(data);
    let ret = SECCOMP_RET.ALLOW as number;
    let match = -1;
    // Before v4.14 ("seccomp: Implement SECCOMP_RET_KILL_PROCESS action") the
    // order key was ret & SECCOMP_RET_ACTION (0x7fff0000): bit 31 masked off, so 0x80000000
    // ranked as 0, tied with SECCOMP_RET_KILL.
    const rank = versionAtLeast(k, KILL_PROCESS_SINCE) ? actionRank : (r: number) => (r & SECCOMP_RET_ACTION) >>> 0;
    for (let i = this.stack.length - 1; i >= 0; i--) {
      const cur = runFilter(this.stack[i]!.prog, words);
      if (rank(cur) < rank(ret)) {
        ret = cur;
        match = i;
      }
    }
    return verdict('filter', ret, match, k);
  }

  /** evaluate() plus what the syscall entry does with the verdict (__seccomp_filter). */
  decide(data: SeccompData, ctx: DecideContext = {}): SeccompOutcome {
    const v = this.evaluate(data);
    if (v.mode === 'strict') {
      if (v.action === 'allow') return { kind: 'run', verdict: v, log: false };
      // __secure_computing_strict: do_exit(SIGKILL), no siginfo, no core.
      return { kind: 'kill', verdict: v, signal: SIGNALS.SIGKILL, scope: 'thread', coreDump: false };
    }
    const siginfo = (): SeccompSiginfo => ({
      signo: SIGNALS.SIGSYS,
      code: SI_CODES.SYS_SECCOMP,
      errno: v.raw & SECCOMP_RET_DATA,
      syscall: data.nr,
      arch: data.arch,
      callAddr: data.instruction_pointer,
    });
    switch (v.action) {
      case 'allow':
        return { kind: 'run', verdict: v, log: false };
      case 'log':
        return { kind: 'run', verdict: v, log: true };
      case 'errno':
        return { kind: 'skip', verdict: v, ret: -v.data, why: 'errno' };
      case 'trap':
        return { kind: 'trap', verdict: v, siginfo: siginfo() };
      case 'trace':
        if (ctx.recheckAfterTrace) return { kind: 'run', verdict: v, log: false };
        if (!ctx.traceSeccomp) return { kind: 'skip', verdict: v, ret: -ERRNO.ENOSYS, why: 'no_tracer' };
        return { kind: 'trace_stop', verdict: v, msg: v.data };
      case 'user_notif':
        if (!this.stack[v.filterIndex]?.listener) return { kind: 'skip', verdict: v, ret: -ERRNO.ENOSYS, why: 'no_listener' };
        return { kind: 'notify', verdict: v };
      case 'kill_thread':
      case 'kill_process': {
        // Only a KILL_THREAD in a multi-threaded process exits quietly (do_exit(SIGSYS));
        // otherwise force_sig_seccomp(..., force_coredump=true) after syscall_rollback.
        const threads = ctx.liveThreads ?? 1;
        if (v.action === 'kill_thread' && threads > 1) {
          return { kind: 'kill', verdict: v, signal: SIGNALS.SIGSYS, scope: 'thread', coreDump: false };
        }
        return {
          kind: 'kill', verdict: v, signal: SIGNALS.SIGSYS,
          scope: v.action === 'kill_thread' ? 'thread' : 'process', coreDump: true, siginfo: siginfo(),
        };
      }
    }
  }

  /**
   * SECCOMP_GET_ACTION_AVAIL: 0 when this kernel knows the action, else -EOPNOTSUPP.
   * (KILL_PROCESS and LOG came in 4.14, USER_NOTIF in 5.0.)
   */
  actionAvail(action: number): number {
    const since: Record<number, string> = {
      [SECCOMP_RET.KILL_PROCESS]: '4.14', [SECCOMP_RET.KILL_THREAD]: '4.14', [SECCOMP_RET.TRAP]: '4.14',
      [SECCOMP_RET.ERRNO]: '4.14', [SECCOMP_RET.USER_NOTIF]: '5.0', [SECCOMP_RET.TRACE]: '4.14',
      [SECCOMP_RET.LOG]: '4.14', [SECCOMP_RET.ALLOW]: '4.14',
    };
    const v = since[action >>> 0];
    return v !== undefined && versionAtLeast(this.kernel, v) ? 0 : -ERRNO.EOPNOTSUPP;
  }

  /**
   * __secure_computing_strict: in_compat_syscall() picks the ia32 list; on x86 that is true for
   * 32-bit entries and for x32 calls, so an x32 call (nr with bit 30) never matches either list
   * and is killed — derived from the source (asm/compat.h in_compat_syscall), not observed.
   */
  strictAllows(data: SeccompData): boolean {
    const compat = data.arch === AUDIT_ARCH.I386 || (data.nr & Number(X32_SYSCALL_BIT)) !== 0;
    const list: readonly number[] = compat ? STRICT_SYSCALLS.compat : STRICT_SYSCALLS.native;
    if (list.includes(data.nr)) return true;
    return !compat && data.nr === NR_URETPROBE_X86_64 && versionAtLeast(this.kernel, URETPROBE_PASSTHROUGH_SINCE);
  }

  private uretprobePassthrough(data: SeccompData): boolean {
    return data.arch === AUDIT_ARCH.X86_64 && data.nr === NR_URETPROBE_X86_64 &&
      versionAtLeast(this.kernel, URETPROBE_PASSTHROUGH_SINCE);
  }
}

/** SECCOMP_RET_KILL_PROCESS, SECCOMP_RET_LOG and the ACTION_FULL switch: v4.14. */
const KILL_PROCESS_SINCE = '4.14';
/** SECCOMP_RET_USER_NOTIF: v5.0 ("seccomp: add a return code to trap to userspace"). */
const USER_NOTIF_SINCE = '5.0';

/**
 * The action __seccomp_filter takes for a 32-bit filter value on kernel `k`. Since v4.14 it
 * switches on ret & SECCOMP_RET_ACTION_FULL and an unknown value is KILL_PROCESS (actionOf);
 * before, on ret & SECCOMP_RET_ACTION, with `case SECCOMP_RET_KILL: default:` ending the
 * calling thread alone (do_exit(SIGSYS)): 0x80000000 and RET_LOG were unknown then and killed
 * the thread only. From 4.14 to 4.20 RET_USER_NOTIF was unknown too: KILL_PROCESS.
 */
function actionFor(r: number, k: string): { action: SeccompAction; known: boolean } {
  if (versionAtLeast(k, KILL_PROCESS_SINCE)) {
    const a = actionOf(r);
    if (a.action === 'user_notif' && !versionAtLeast(k, USER_NOTIF_SINCE)) return { action: 'kill_process', known: false };
    return a;
  }
  const masked = (r & SECCOMP_RET_ACTION) >>> 0;
  const OLD: readonly SeccompAction[] = ['kill_thread', 'trap', 'errno', 'trace', 'allow'];
  const a = OLD.find((x) => ACTION_VALUE[x] === masked);
  return a !== undefined ? { action: a, known: true } : { action: 'kill_thread', known: false };
}

function verdict(mode: SeccompVerdict['mode'], raw: number, filterIndex: number, kernel: string): SeccompVerdict {
  const r = raw >>> 0;
  const { action, known } = actionFor(r, kernel);
  let data = r & SECCOMP_RET_DATA;
  // __seccomp_filter: "Set low-order bits as an errno, capped at MAX_ERRNO."
  if (action === 'errno' && data > MAX_ERRNO) data = MAX_ERRNO;
  return { action, data, raw: r, filterIndex, unknown: !known, mode };
}

/** The return value for an action name plus 16 data bits. */
export function actionValue(action: SeccompAction, data = 0): number {
  return (ACTION_VALUE[action] | (data & SECCOMP_RET_DATA)) >>> 0;
}

/** The ABI a seccomp_data belongs to, as the rule compiler sees it (SC-02). */
export function abiOfData(d: SeccompData): Abi | null {
  if (d.arch === AUDIT_ARCH.I386) return 'i386';
  if (d.arch === AUDIT_ARCH.X86_64) return (d.nr & Number(X32_SYSCALL_BIT)) !== 0 ? 'x32' : 'x86_64';
  return null;
}
