// Process-level syscalls: ids (with i386's 16-bit variants), uname/olduname, personality,
// sched_yield, prctl (option and argument validation), getrandom (flag validation),
// kill/tgkill/tkill, exit/exit_group, rt_sigaction, rt_sigprocmask, sigaltstack, uretprobe.
// Sources: kernel/sys.c, kernel/uid16.c, kernel/signal.c, kernel/exit.c,
// drivers/char/random.c, arch/x86/kernel/uprobes.c.

import { err, get, put, le, rdLe, concat, NotModelled, type SyscallImpl, type SysCtx } from './types.js';
import { SIGNALS, SI_CODES } from '../../../abi/constants.js';
import { SS_AUTODISARM, SS_DISABLE, SS_ONSTACK, SIG_IGN, type SigAction } from '../process.js';

const NSIG = 64n;
const SIGKILL = BigInt(SIGNALS.SIGKILL);
const SIGSTOP = BigInt(SIGNALS.SIGSTOP);
/** sizeof(sigset_t) on x86 (64 signals). */
const SIGSET_SIZE = 8n;
/** Overflow uid/gid the 16-bit calls report for ids above 65535 (kernel/uid16.c high2lowuid). */
const OVERFLOW_ID = 65534n;
/** MINSIGSTKSZ on x86 (arch/x86/include/uapi/asm/signal.h). */
const MINSIGSTKSZ = 2048n;

function uid16(v: bigint): bigint {
  return v > 0xffffn ? OVERFLOW_ID : v;
}

function utsField(s: string, len: number): Uint8Array {
  const b = new Uint8Array(len);
  b.set(new TextEncoder().encode(s).subarray(0, len - 1));
  return b;
}

/** The utsname strings of the simulated machine. */
function uts(c: SysCtx): string[] {
  // override_architecture (kernel/sys.c): PER_LINUX32 tasks see "i686".
  const machine = (c.p.personality & 0xffn) === 0x08n ? 'i686' : 'x86_64';
  return ['Linux', 'sysabi-sim', `${c.profile.kernel}.0-sysabi-sim`, '#1 SMP PREEMPT_DYNAMIC sysabi', machine, '(none)'];
}

function validSig(sig: bigint): boolean {
  return sig >= 0n && sig <= NSIG;
}

/** Queue a signal to ourselves (kill/tgkill to the caller): pending until the exit path. */
function sendSelf(c: SysCtx, sig: bigint, code?: number): void {
  if (sig === 0n) return;
  const act = c.p.actions.get(Number(sig));
  // sig_ignored(): an ignored, unblocked signal is dropped at send time (kernel/signal.c).
  const blocked = (c.p.blocked >> (sig - 1n)) & 1n;
  if (act && act.handler === SIG_IGN && !blocked) return;
  if (code !== undefined && !c.p.pending.includes(Number(sig))) c.p.pendingCodes.set(Number(sig), code);
  c.p.pending.push(Number(sig));
}

function killTarget(c: SysCtx, pid: bigint): 'self' | 'other' | 'none' {
  if (pid === c.p.pid || pid === 0n || pid === -c.p.pgid) return 'self';
  if (pid === c.p.ppid) return 'other';
  return 'none';
}

// prctl options (include/uapi/linux/prctl.h) that exist on x86 kernels but are not modelled:
// they are reported as 'not modelled' rather than answered with a made-up value.
const PRCTL_KNOWN_UNMODELLED = new Set<number>([
  8, 13, 14, 22, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 40, 41, 42, 47, 48, 49,
  52, 53, 57, 58, 59, 61, 64, 65, 66, 67, 71, 72, 73, 74, 75, 76, 77, 78, 79, 80, 81,
  0x53564d41, 0x59616d61,
]);
// Options that exist only on other architectures: the generic default is -EINVAL on x86
// (SET_UNALIGN, FPEMU, FPEXC, ENDIAN, FP_MODE, SVE, PAC, tagged addr, SME, RISC-V V, ...).
// Anything else is unknown → -EINVAL.

export const PROC: Record<string, SyscallImpl> = {
  sys_getpid: { args: '', run: (c) => c.p.pid },
  // gettid is task_pid_vnr(current) (kernel/sys.c): the calling task's own id, the second
  // thread's in a Case.thread case, not the thread group's.
  sys_gettid: { args: '', run: (c) => c.p.callerTid ?? c.p.tid },
  sys_getppid: { args: '', run: (c) => c.p.ppid },
  sys_getuid: { args: '', run: (c) => c.p.uid },
  sys_geteuid: { args: '', run: (c) => c.p.euid },
  sys_getgid: { args: '', run: (c) => c.p.gid },
  sys_getegid: { args: '', run: (c) => c.p.egid },
  sys_getuid16: { args: '', run: (c) => uid16(c.p.uid) },
  sys_geteuid16: { args: '', run: (c) => uid16(c.p.euid) },
  sys_getgid16: { args: '', run: (c) => uid16(c.p.gid) },
  sys_getegid16: { args: '', run: (c) => uid16(c.p.egid) },
  sys_sched_yield: { args: '', run: () => 0n },

  sys_newuname: {
    args: 'L',
    run: (c, [buf]) => (put(c, buf!, concat(...uts(c).map((s) => utsField(s, 65)))) ? 0n : err('EFAULT')),
  },
  // struct old_utsname: five 65-byte fields, no domainname.
  sys_uname: {
    args: 'L',
    run: (c, [buf]) => (put(c, buf!, concat(...uts(c).slice(0, 5).map((s) => utsField(s, 65)))) ? 0n : err('EFAULT')),
  },
  // struct oldold_utsname: five 9-byte fields (__OLD_UTS_LEN 8); a NULL pointer is -EFAULT.
  sys_olduname: {
    args: 'L',
    run: (c, [buf]) => {
      if (buf === 0n) return err('EFAULT');
      return put(c, buf!, concat(...uts(c).slice(0, 5).map((s) => utsField(s, 9)))) ? 0n : err('EFAULT');
    },
  },

  // kernel/exec_domain.c: 0xffffffff queries; anything else sets. Returns the old value.
  sys_personality: {
    args: 'u',
    run: (c, [per]) => {
      const old = c.p.personality;
      if (per !== 0xffffffffn) c.p.personality = per!;
      return old;
    },
  },

  sys_prctl: {
    args: 'iLLLL',
    run: (c, [opt, a2, a3, a4, a5]) => {
      const o = Number(opt!);
      switch (o) {
        case 1: // PR_SET_PDEATHSIG
          if (!validSig(a2!)) return err('EINVAL');
          c.p.pdeathsig = a2!;
          return 0n;
        case 2: // PR_GET_PDEATHSIG
          return put(c, a2!, le(c.p.pdeathsig, 4)) ? 0n : err('EFAULT');
        case 3: // PR_GET_DUMPABLE
          return c.p.dumpable;
        case 4: // PR_SET_DUMPABLE: only SUID_DUMP_DISABLE / SUID_DUMP_USER
          if (a2 !== 0n && a2 !== 1n) return err('EINVAL');
          c.p.dumpable = a2!;
          return 0n;
        case 7: // PR_GET_KEEPCAPS
          return 0n;
        case 15: { // PR_SET_NAME: TASK_COMM_LEN 16, truncated
          const b = get(c, a2!, 1);
          if (!b) return err('EFAULT');
          const raw = c.p.mm.peek(a2!, c.p.mm.userReadableSpan(a2!, 16));
          const z = raw.indexOf(0);
          c.p.comm = new TextDecoder().decode(raw.subarray(0, z < 0 ? Math.min(raw.length, 15) : Math.min(z, 15)));
          return 0n;
        }
        case 16: // PR_GET_NAME
          return put(c, a2!, utsField(c.p.comm, 16)) ? 0n : err('EFAULT');
        case 21: // PR_GET_SECCOMP: 0 disabled, 2 filter (strict mode is killed before it gets here; SC-06)
          return BigInt(c.p.seccompMode);
        case 38: // PR_SET_NO_NEW_PRIVS: arg2 must be 1, the rest 0
          if (a2 !== 1n || a3 !== 0n || a4 !== 0n || a5 !== 0n) return err('EINVAL');
          c.p.noNewPrivs = true;
          return 0n;
        case 39: // PR_GET_NO_NEW_PRIVS: all further args 0
          if (a2 !== 0n || a3 !== 0n || a4 !== 0n || a5 !== 0n) return err('EINVAL');
          return c.p.noNewPrivs ? 1n : 0n;
        default:
          if (PRCTL_KNOWN_UNMODELLED.has(o)) throw new NotModelled(`prctl option ${o}`);
          return err('EINVAL');
      }
    },
  },

  // drivers/char/random.c: unknown flags, or GRND_INSECURE with GRND_RANDOM, are -EINVAL.
  sys_getrandom: {
    args: 'LLu',
    run: (c, [buf, count, flags]) => {
      const NONBLOCK = 1n, RANDOM = 2n, INSECURE = 4n;
      const known = c.profile && versionHasInsecure(c) ? NONBLOCK | RANDOM | INSECURE : NONBLOCK | RANDOM;
      if ((flags! & ~known) !== 0n) return err('EINVAL');
      if ((flags! & (INSECURE | RANDOM)) === (INSECURE | RANDOM)) return err('EINVAL');
      let n = count! > 0x7fffffffn ? 0x7fffffffn : count!;
      if (n === 0n) return 0n;
      if (n > 1n << 20n) n = 1n << 20n; // the sim fills at most 1 MiB per call; still a valid short read
      const span = c.p.mm.userWritableSpan(buf!, Number(n));
      if (span === 0) return err('EFAULT');
      const bytes = new Uint8Array(span);
      crypto.getRandomValues(bytes.subarray(0, Math.min(span, 65536)));
      put(c, buf!, bytes);
      return BigInt(span);
    },
  },

  sys_kill: {
    args: 'ii',
    run: (c, [pid, sig]) => {
      if (!validSig(sig!)) return err('EINVAL');
      if (pid === -1n) throw new NotModelled('kill(-1, ...) (would signal every process)');
      const t = killTarget(c, pid!);
      if (t === 'none') return err('ESRCH');
      if (t === 'other') {
        if (sig === 0n) return 0n; // same uid: permission check passes
        throw new NotModelled('kill() of a process outside the case');
      }
      sendSelf(c, sig!);
      return 0n;
    },
  },
  sys_tgkill: {
    args: 'iii',
    run: (c, [tgid, tid, sig]) => {
      if (tgid! <= 0n || tid! <= 0n) return err('EINVAL');
      if (tid !== c.p.tid || tgid !== c.p.pid) return err('ESRCH');
      if (!validSig(sig!)) return err('EINVAL');
      // do_tkill: prepare_kill_siginfo(sig, &info, PIDTYPE_PID) → si_code SI_TKILL.
      sendSelf(c, sig!, SI_CODES.SI_TKILL);
      return 0n;
    },
  },

  // kernel/signal.c: tkill(pid, sig) is do_tkill(0, pid, sig): any task with that tid (no
  // thread-group check), si_code SI_TKILL; a pid <= 0 is EINVAL, an unknown one ESRCH, found
  // before the signal number is validated (do_send_specific → check_kill_permission).
  sys_tkill: {
    args: 'ii',
    run: (c, [tid, sig]) => {
      if (tid! <= 0n) return err('EINVAL');
      if (tid === c.p.ppid) throw new NotModelled('tkill() of a task outside the case');
      if (tid !== c.p.tid) return err('ESRCH');
      if (!validSig(sig!)) return err('EINVAL');
      sendSelf(c, sig!, SI_CODES.SI_TKILL);
      return 0n;
    },
  },

  sys_exit: { args: 'i', noreturn: true, run: (c, [code]) => ((c.p.exited = { code: Number(code! & 0xffn) }), 0n) },
  sys_exit_group: { args: 'i', noreturn: true, run: (c, [code]) => ((c.p.exited = { code: Number(code! & 0xffn) }), 0n) },

  sys_rt_sigaction: { args: 'iLLL', run: (c, a) => rtSigaction(c, a, false) },
  compat_sys_rt_sigaction: { args: 'iLLL', run: (c, a) => rtSigaction(c, a, true) },
  sys_rt_sigprocmask: { args: 'iLLL', run: (c, a) => rtSigprocmask(c, a) },
  compat_sys_rt_sigprocmask: { args: 'iLLu', run: (c, a) => rtSigprocmask(c, a) },
  sys_sigaltstack: { args: 'LL', run: (c, a) => sigaltstack(c, a, false) },
  compat_sys_sigaltstack: { args: 'LL', run: (c, a) => sigaltstack(c, a, true) },

  // arch/x86/kernel/uprobes.c (v6.11): called from anywhere but a uretprobe trampoline with a
  // pending return instance, the task gets force_sig(SIGILL) (the bpf selftest
  // uprobe_syscall.c test_uretprobe_syscall_call expects exactly that).
  sys_uretprobe: {
    args: '',
    run: (c) => {
      c.note('sys_uretprobe: not called from a uretprobe trampoline → force_sig(SIGILL)');
      c.forced = { signo: SIGNALS.SIGILL, code: SI_CODES.SI_KERNEL, addr: 0n };
      return -1n;
    },
  },
};

function versionHasInsecure(c: SysCtx): boolean {
  // GRND_INSECURE was added in v5.6.
  const [maj, min] = c.profile.kernel.split('.').map(Number) as [number, number];
  return maj > 5 || (maj === 5 && (min ?? 0) >= 6);
}

/** kernel/signal.c rt_sigaction / compat_sys_rt_sigaction. */
function rtSigaction(c: SysCtx, [sig, act, oact, size]: bigint[], compat: boolean): bigint {
  if (size !== SIGSET_SIZE) return err('EINVAL');
  const w = compat ? 4 : 8;
  const len = compat ? 20 : 32;
  let next: SigAction | null = null;
  if (act !== 0n) {
    const b = get(c, act!, len);
    if (!b) return err('EFAULT');
    next = {
      handler: rdLe(b, 0, w),
      flags: rdLe(b, w, w),
      restorer: rdLe(b, 2 * w, w),
      mask: rdLe(b, 3 * w, 8),
    };
  }
  // do_sigaction: 1..64, and SIGKILL/SIGSTOP cannot be changed.
  if (sig! < 1n || sig! > NSIG || (next && (sig === SIGKILL || sig === SIGSTOP))) return err('EINVAL');
  const old = c.p.actions.get(Number(sig)) ?? { handler: 0n, flags: 0n, restorer: 0n, mask: 0n };
  if (next) {
    next.mask &= ~((1n << (SIGKILL - 1n)) | (1n << (SIGSTOP - 1n)));
    c.p.actions.set(Number(sig), next);
    // Setting SIG_IGN discards a pending instance (kernel/signal.c do_sigaction).
    if (next.handler === SIG_IGN) c.p.pending = c.p.pending.filter((s) => s !== Number(sig));
  }
  if (oact !== 0n) {
    const b = concat(le(old.handler, w), le(old.flags, w), le(old.restorer, w), le(old.mask, 8));
    if (!put(c, oact!, b)) return err('EFAULT');
  }
  return 0n;
}

function rtSigprocmask(c: SysCtx, [how, set, oset, size]: bigint[]): bigint {
  if (size !== SIGSET_SIZE) return err('EINVAL');
  const old = c.p.blocked;
  if (set !== 0n) {
    const b = get(c, set!, 8);
    if (!b) return err('EFAULT');
    const m = rdLe(b, 0, 8) & ~((1n << (SIGKILL - 1n)) | (1n << (SIGSTOP - 1n)));
    if (how === 0n) c.p.blocked |= m; // SIG_BLOCK
    else if (how === 1n) c.p.blocked &= ~m; // SIG_UNBLOCK
    else if (how === 2n) c.p.blocked = m; // SIG_SETMASK
    else return err('EINVAL');
  }
  if (oset !== 0n && !put(c, oset!, le(old, 8))) return err('EFAULT');
  return 0n;
}

/** kernel/signal.c do_sigaltstack (the task is never on its alternate stack in a case). */
function sigaltstack(c: SysCtx, [ss, oss]: bigint[], compat: boolean): bigint {
  const w = compat ? 4 : 8;
  const len = compat ? 12 : 24;
  const old = c.p.altstack;
  if (ss !== 0n) {
    const b = get(c, ss!, len);
    if (!b) return err('EFAULT');
    const sp = rdLe(b, 0, w);
    const flags = Number(BigInt.asIntN(32, rdLe(b, w, 4)));
    const size = rdLe(b, compat ? 8 : 16, w);
    const mode = flags & ~SS_AUTODISARM;
    if (mode !== SS_DISABLE && mode !== SS_ONSTACK && mode !== 0) return err('EINVAL');
    if (mode === SS_DISABLE) c.p.altstack = { sp: 0n, flags: SS_DISABLE, size: 0n };
    else {
      if (size < MINSIGSTKSZ) return err('ENOMEM');
      c.p.altstack = { sp, flags, size };
    }
  }
  if (oss !== 0n) {
    const b = concat(le(old.sp, w), le(BigInt(old.flags), 4), compat ? new Uint8Array(0) : new Uint8Array(4), le(old.size, w));
    if (!put(c, oss!, b)) return err('EFAULT');
  }
  return 0n;
}
