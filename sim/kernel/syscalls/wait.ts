// Calls that sleep: pause() (kernel/signal.c sys_pause), rt_sigsuspend (kernel/signal.c
// sigsuspend), nanosleep/clock_nanosleep and restart_syscall (kernel/time/hrtimer.c
// do_nanosleep/hrtimer_nanosleep, kernel/time/posix-timers.c, kernel/signal.c
// sys_restart_syscall). A timed sleep completes on the virtual clock, switching the task out
// and back in (sim/kernel/sched.ts); a sleep that only a signal could end, with none pending,
// is a WouldBlock (the case times out, as it would natively). With a signal pending each
// returns its restart code and the exit path decides (sim/kernel/restart.ts).

import { ERRNO, SIGNALS } from '../../../abi/constants.js';
import { signalPending } from '../restart.js';
import type { RestartBlock } from '../process.js';
import { WouldBlock } from './io.js';
import { err, get, put, le, rdLe, concat, NotModelled, type SyscallImpl, type SysCtx } from './types.js';

const NS = 1_000_000_000n;
const TAI_OFFSET = 37n * NS;
const TIMER_ABSTIME = 1n;
/** Clocks with a common_nsleep (kernel/time/posix-timers.c): REALTIME, MONOTONIC, BOOTTIME, TAI. */
const NSLEEP_CLOCKS = new Set([0n, 1n, 7n, 11n]);
/** Valid clocks without .nsleep: MONOTONIC_RAW, REALTIME_COARSE, MONOTONIC_COARSE → -EOPNOTSUPP. */
const NO_NSLEEP_CLOCKS = new Set([4n, 5n, 6n]);
/** Valid clocks whose nsleep the model leaves out: the CPU-time clocks (posix_cpu_nsleep) and
 *  the alarm clocks (alarm_timer_nsleep, CAP_WAKE_ALARM). */
const UNMODELLED_CLOCKS = new Set([2n, 3n, 8n, 9n]);
/** current->timer_slack_ns of a normal (not RT/deadline) task: init_task's 50 µs
 *  (init/init_task.c), inherited over fork. */
export const TIMER_SLACK_NS = 50_000n;
const RESTART_BLOCK = -BigInt(ERRNO.ERESTART_RESTARTBLOCK);
const RESTARTNOHAND = -BigInt(ERRNO.ERESTARTNOHAND);

type TimeLayout = 'native' | 'compat';

/** The clock an hrtimer on `clockid` runs on, read without advancing it. */
function clockNow(c: SysCtx, clockid: bigint): bigint {
  if (clockid === 0n) return c.p.realNs;
  if (clockid === 11n) return c.p.realNs + TAI_OFFSET;
  return c.p.monoNs; // MONOTONIC, BOOTTIME (no suspend in the model)
}

/** get_timespec64 / get_old_timespec32 (kernel/time/time.c): null on a fault. A compat caller's
 *  64-bit tv_nsec has its upper half ignored ("Zero out the padding in compat mode"). */
function getTimespec(c: SysCtx, addr: bigint, layout: TimeLayout): { sec: bigint; nsec: bigint } | null {
  if (layout === 'compat') {
    const b = get(c, addr, 8);
    if (!b) return null;
    return { sec: BigInt.asIntN(32, rdLe(b, 0, 4)), nsec: BigInt.asIntN(32, rdLe(b, 4, 4)) };
  }
  const b = get(c, addr, 16);
  if (!b) return null;
  const nsec = rdLe(b, 8, 8);
  return { sec: BigInt.asIntN(64, rdLe(b, 0, 8)), nsec: c.compat ? BigInt.asUintN(32, nsec) : BigInt.asIntN(64, nsec) };
}

/** timespec64_valid: tv_sec ≥ 0 and 0 ≤ tv_nsec < NSEC_PER_SEC (include/linux/time64.h). */
function validTimespec(t: { sec: bigint; nsec: bigint }): boolean {
  return t.sec >= 0n && t.nsec >= 0n && t.nsec < NS;
}

/** nanosleep_copyout (kernel/time/hrtimer.c): the remaining time in the caller's layout. */
function copyoutRemaining(c: SysCtx, blk: Extract<RestartBlock, { fn: 'nanosleep' }>, rem: bigint): bigint {
  const s = rem / NS;
  const n = rem % NS;
  const bytes = blk.type === 'compat' ? concat(le(s, 4), le(n, 4)) : concat(le(s, 8), le(n, 8));
  if (!put(c, blk.rmtp, bytes)) return err('EFAULT');
  c.note(`nanosleep_copyout: ${s} s ${n} ns remaining written to 0x${blk.rmtp.toString(16)}`);
  return RESTART_BLOCK;
}

/**
 * do_nanosleep: arm the timer for `blk.expires` (absolute, on blk.clockid) and sleep
 * TASK_INTERRUPTIBLE. A signal already pending makes schedule() return at once
 * (signal_pending_state in __schedule); the loop then ends with the timer still armed:
 * the remaining time goes to rmtp (when asked) and the call answers -ERESTART_RESTARTBLOCK.
 * Otherwise the task sleeps until the timer fires and the call answers 0.
 */
function doNanosleep(c: SysCtx, blk: Extract<RestartBlock, { fn: 'nanosleep' }>): bigint {
  const now = clockNow(c, blk.clockid);
  if (blk.expires <= now) {
    // An expired timer wakes the sleeper from hrtimer_start itself: t->task is NULL, no sleep.
    c.note('do_nanosleep: the expiry has passed already → 0 without sleeping');
    return 0n;
  }
  if (signalPending(c.p)) {
    c.p.tick(); // time moves on between arming the timer and reading what is left
    const rem = blk.expires - clockNow(c, blk.clockid);
    c.note(`do_nanosleep: a signal is pending, schedule() returns at once (${rem} ns left)`);
    if (blk.type !== 'none') {
      if (rem <= 0n) return 0n;
      return copyoutRemaining(c, blk, rem);
    }
    return RESTART_BLOCK;
  }
  const ns = blk.expires - now;
  c.note(`do_nanosleep: TASK_INTERRUPTIBLE until the timer fires in ${ns} ns`);
  if (c.sleep) c.sleep(ns);
  else {
    c.p.realNs += ns;
    c.p.monoNs += ns;
  }
  return 0n;
}

/**
 * hrtimer_nanosleep for a relative (or, with TIMER_ABSTIME, absolute) request. An interrupted
 * relative sleep leaves restart_block set for hrtimer_nanosleep_restart with the absolute
 * expiry; an absolute one turns -ERESTART_RESTARTBLOCK into -ERESTARTNOHAND ("Absolute timers
 * do not update the rmtp value and restart").
 */
function hrtimerNanosleep(c: SysCtx, clockid: bigint, t: { sec: bigint; nsec: bigint }, abs: boolean, rmtp: bigint, layout: TimeLayout): bigint {
  const req = t.sec * NS + t.nsec;
  c.p.tick(); // the clock is read to arm the timer: each reading is later than the last
  // hrtimer_set_expires_range_ns(&t.timer, rqtp, current->timer_slack_ns): the soft expiry is
  // the request, the hard one (node.expires) the request plus the slack. The timer fires at the
  // hard expiry on an otherwise quiet CPU, and hrtimer_expires_remaining() measures to it, so
  // the time left can exceed the request by up to the slack. The restart block keeps the hard
  // expiry (hrtimer_get_expires) and the restarted sleep has no slack on top.
  const soft = abs ? req : clockNow(c, clockid) + req;
  const blk: Extract<RestartBlock, { fn: 'nanosleep' }> = {
    fn: 'nanosleep', clockid, expires: soft + TIMER_SLACK_NS,
    rmtp, type: rmtp === 0n ? 'none' : layout,
  };
  // current->restart_block.fn = do_no_restart_syscall until the sleep is interrupted.
  c.p.restartBlock = { fn: 'none' };
  const r = doNanosleep(c, blk);
  if (r !== RESTART_BLOCK) return r;
  if (abs) return RESTARTNOHAND;
  c.p.restartBlock = blk;
  c.note('hrtimer_nanosleep: restart_block ← hrtimer_nanosleep_restart (absolute expiry kept)');
  return RESTART_BLOCK;
}

function nanosleep(c: SysCtx, rqtp: bigint, rmtp: bigint, layout: TimeLayout): bigint {
  const t = getTimespec(c, rqtp, layout);
  if (!t) return err('EFAULT');
  if (!validTimespec(t)) return err('EINVAL');
  return hrtimerNanosleep(c, 1n, t, false, rmtp, layout);
}

/** sys_clock_nanosleep (kernel/time/posix-timers.c): clock checks, then the copy and validation. */
function clockNanosleep(c: SysCtx, clockid: bigint, flags: bigint, rqtp: bigint, rmtp: bigint, layout: TimeLayout): bigint {
  if (UNMODELLED_CLOCKS.has(clockid) || clockid < 0n) throw new NotModelled(`clock_nanosleep on clock ${clockid} (CPU-time or alarm clock)`);
  if (NO_NSLEEP_CLOCKS.has(clockid)) return err('EOPNOTSUPP');
  if (!NSLEEP_CLOCKS.has(clockid)) return err('EINVAL');
  const t = getTimespec(c, rqtp, layout);
  if (!t) return err('EFAULT');
  if (!validTimespec(t)) return err('EINVAL');
  const abs = (flags & TIMER_ABSTIME) !== 0n;
  return hrtimerNanosleep(c, clockid, t, abs, abs ? 0n : rmtp, layout);
}

/** sigsuspend (kernel/signal.c): sleep with the given mask until a signal is pending, then
 *  -ERESTARTNOHAND with TIF_RESTORE_SIGMASK (the old mask returns on the way out). */
function rtSigsuspend(c: SysCtx, mask: bigint, size: bigint): bigint {
  if (size !== 8n) return err('EINVAL');
  const b = get(c, mask, 8);
  if (!b) return err('EFAULT');
  const unblockable = (1n << BigInt(SIGNALS.SIGKILL - 1)) | (1n << BigInt(SIGNALS.SIGSTOP - 1));
  const saved = c.p.blocked;
  // set_current_blocked() never blocks SIGKILL or SIGSTOP.
  c.p.blocked = rdLe(b, 0, 8) & ~unblockable;
  if (!signalPending(c.p)) {
    throw new WouldBlock(`rt_sigsuspend(mask 0x${c.p.blocked.toString(16)}) sleeps until a signal arrives, and none that it leaves unblocked is pending`);
  }
  c.p.savedSigmask = saved;
  c.note(`rt_sigsuspend: blocked ← 0x${c.p.blocked.toString(16)}, a signal is pending → -ERESTARTNOHAND (old mask saved)`);
  return RESTARTNOHAND;
}

export const WAIT: Record<string, SyscallImpl> = {
  // sys_pause: sleep TASK_INTERRUPTIBLE while !signal_pending(), then -ERESTARTNOHAND — so a
  // signal with no handler (ignored, or only seen by a tracer) restarts it (PT-07).
  sys_pause: {
    args: '',
    run: (c) => {
      if (!signalPending(c.p)) throw new WouldBlock('pause() sleeps until a signal arrives, and none is pending');
      c.note('pause: a signal is pending → -ERESTARTNOHAND');
      return RESTARTNOHAND;
    },
  },
  sys_rt_sigsuspend: { args: 'LL', run: (c, [m, n]) => rtSigsuspend(c, m!, n!) },
  compat_sys_rt_sigsuspend: { args: 'Lu', run: (c, [m, n]) => rtSigsuspend(c, m!, n!) },
  // nanosleep sleeps on CLOCK_MONOTONIC; x32 and i386's time64 calls use __kernel_timespec.
  sys_nanosleep: { args: 'LL', run: (c, [rq, rm]) => nanosleep(c, rq!, rm!, 'native') },
  sys_nanosleep_time32: { args: 'LL', run: (c, [rq, rm]) => nanosleep(c, rq!, rm!, 'compat') },
  sys_clock_nanosleep: { args: 'iiLL', run: (c, [clk, fl, rq, rm]) => clockNanosleep(c, clk!, fl!, rq!, rm!, 'native') },
  sys_clock_nanosleep_time32: { args: 'iiLL', run: (c, [clk, fl, rq, rm]) => clockNanosleep(c, clk!, fl!, rq!, rm!, 'compat') },
  // sys_restart_syscall: current->restart_block.fn(restart) — do_no_restart_syscall (-EINTR)
  // unless an interrupted sleep left hrtimer_nanosleep_restart there.
  sys_restart_syscall: {
    args: '',
    run: (c) => {
      const blk = c.p.restartBlock;
      if (blk.fn === 'none') {
        c.note('restart_syscall: restart_block.fn = do_no_restart_syscall → -EINTR');
        return err('EINTR');
      }
      c.note(`restart_syscall: hrtimer_nanosleep_restart (absolute expiry ${blk.expires} on clock ${blk.clockid})`);
      return doNanosleep(c, blk);
    },
  },
};
