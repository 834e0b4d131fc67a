// Time syscalls: time, gettimeofday, clock_gettime (+ the i386 time32 and time64 variants),
// clock_getres, getcpu. Values come from the process's virtual clock, which the vDSO model
// (sim/kernel/vdso.ts) reads too, so the two agree (ABI-FACTS VD-03).
// Sources: kernel/time/time.c, kernel/time/posix-timers.c, kernel/sys.c (getcpu).

import { err, put, le, concat, type SyscallImpl, type SysCtx } from './types.js';

const NS = 1_000_000_000n;
/** Clock ids (include/uapi/linux/time.h). 10 (CLOCK_SGI_CYCLE) is gone and invalid. */
const VALID_CLOCKS = new Set([0n, 1n, 2n, 3n, 4n, 5n, 6n, 7n, 8n, 9n, 11n]);
const COARSE = new Set([5n, 6n]);
/** TICK_NSEC for HZ=250, the common distribution setting (coarse clocks' resolution). */
export const TICK_NSEC = 4_000_000n;

/** The value a clock reads now, in ns; or null for an invalid clock id. */
export function clockRead(c: SysCtx, clk: bigint): bigint | null {
  if (clk < 0n) {
    // CPU-time clocks encode a pid (kernel/time/posix-cpu-timers.c): which = clk & 3 (3 invalid),
    // pid = ~(clk >> 3); 0 means the caller.
    if ((clk & 3n) === 3n) return null;
    const pid = ~(clk >> 3n);
    if (pid !== 0n && pid !== c.p.pid && pid !== c.p.tid) return null;
    c.p.tick();
    return c.p.cpuNs;
  }
  if (!VALID_CLOCKS.has(clk)) return null;
  c.p.tick();
  switch (clk) {
    case 0n: case 5n: case 8n: return c.p.realNs;
    case 11n: return c.p.realNs + 37n * NS; // TAI = UTC + 37 s
    case 2n: case 3n: return c.p.cpuNs;
    default: return c.p.monoNs;
  }
}

export function clockRes(clk: bigint): bigint {
  return COARSE.has(clk) ? TICK_NSEC : 1n;
}

/** A timespec as the caller's ABI lays it out: 64-bit {s64, long}; old 32-bit {s32, s32}. */
function timespec(ns: bigint, wide: boolean): Uint8Array {
  const s = ns / NS;
  const r = ns % NS;
  return wide ? concat(le(s, 8), le(r, 8)) : concat(le(s, 4), le(r, 4));
}

function clockGettime(c: SysCtx, clk: bigint, tp: bigint, wide: boolean): bigint {
  const v = clockRead(c, clk);
  if (v === null) return err('EINVAL');
  return put(c, tp, timespec(v, wide)) ? 0n : err('EFAULT');
}

function clockGetres(c: SysCtx, clk: bigint, tp: bigint, wide: boolean): bigint {
  if (clockReadable(c, clk) === false) return err('EINVAL');
  if (tp === 0n) return 0n;
  return put(c, tp, timespec(clockRes(clk), wide)) ? 0n : err('EFAULT');
}

function clockReadable(c: SysCtx, clk: bigint): boolean {
  if (clk < 0n) {
    const pid = ~(clk >> 3n);
    return (clk & 3n) !== 3n && (pid === 0n || pid === c.p.pid || pid === c.p.tid);
  }
  return VALID_CLOCKS.has(clk);
}

export const TIME: Record<string, SyscallImpl> = {
  // time(): the value is returned and, with a pointer, stored (a bad pointer is -EFAULT).
  sys_time: {
    args: 'L',
    run: (c, [t]) => {
      c.p.tick();
      const s = c.p.realNs / NS;
      if (t !== 0n && !put(c, t!, le(s, 8))) return err('EFAULT');
      return s;
    },
  },
  sys_time32: {
    args: 'L',
    run: (c, [t]) => {
      c.p.tick();
      const s = c.p.realNs / NS;
      if (t !== 0n && !put(c, t!, le(s, 4))) return err('EFAULT');
      return BigInt.asIntN(32, s);
    },
  },
  sys_gettimeofday: { args: 'LL', run: (c, [tv, tz]) => gettimeofday(c, tv!, tz!, 8) },
  compat_sys_gettimeofday: { args: 'LL', run: (c, [tv, tz]) => gettimeofday(c, tv!, tz!, 4) },
  sys_clock_gettime: { args: 'iL', run: (c, [clk, tp]) => clockGettime(c, clk!, tp!, true) },
  sys_clock_gettime32: { args: 'iL', run: (c, [clk, tp]) => clockGettime(c, clk!, tp!, false) },
  sys_clock_getres: { args: 'iL', run: (c, [clk, tp]) => clockGetres(c, clk!, tp!, true) },
  sys_clock_getres_time32: { args: 'iL', run: (c, [clk, tp]) => clockGetres(c, clk!, tp!, false) },
  sys_getcpu: {
    args: 'LLL',
    run: (c, [cpu, node]) => {
      if (cpu !== 0n && !put(c, cpu!, le(c.p.cpu, 4))) return err('EFAULT');
      if (node !== 0n && !put(c, node!, le(c.p.node, 4))) return err('EFAULT');
      return 0n;
    },
  },
};

function gettimeofday(c: SysCtx, tv: bigint, tz: bigint, w: number): bigint {
  if (tv !== 0n) {
    c.p.tick();
    const us = c.p.realNs / 1000n;
    if (!put(c, tv, concat(le(us / 1_000_000n, w), le(us % 1_000_000n, w)))) return err('EFAULT');
  }
  // sys_tz is all zeros unless settimeofday set it.
  if (tz !== 0n && !put(c, tz, new Uint8Array(8))) return err('EFAULT');
  return 0n;
}
