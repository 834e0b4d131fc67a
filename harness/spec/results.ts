// Result symbols (docs/spec-language.md "Calls after the call" and "Result symbols"): an expected
// value may name what another call of the same case produced — `$setup.N.ret` / `$after.N.ret`
// (the raw return of set-up call / after-call N, 0-based) and `$mem.NAME.VIEW` (a word of
// memory region NAME as read back after the case: u32[.I], u64[.I], timespec, timeval). This file
// parses those names and reads the views out of the read-back bytes; check.ts resolves them.

import type { Abi } from '../contracts.js';

/** Typed views of a region's read-back bytes. */
export const MEM_VIEWS = ['u32', 'u64', 'timespec', 'timeval'] as const;
export type MemView = (typeof MEM_VIEWS)[number];

/** A parsed `$mem.NAME.VIEW` reference. */
export interface MemRef {
  region: string;
  view: MemView;
  /** Word index for u32/u64; 0 for the struct views. */
  index: number;
}

/** `$setup.N.ret` / `$after.N.ret`: the name part after the symbol ("0.ret") → N, or an error. */
export function parseCallRet(sym: 'setup' | 'after', name: string | undefined, count: number | undefined): { n: number } | { msg: string } {
  const list = sym === 'setup' ? 'setup:' : 'after:';
  const m = /^(\d+)\.ret$/.exec(name ?? '');
  if (!m) return { msg: `"$${sym}${name ? '.' + name : ''}" must be $${sym}.N.ret: the raw return value of call N (0-based) of the case's ${list} list` };
  const n = Number(m[1]);
  if (count !== undefined && n >= count) {
    return { msg: count === 0
      ? `$${sym}.${n}.ret names a call of ${list}, but this case has no ${list} list`
      : `$${sym}.${n}.ret: the case's ${list} list has ${count} call${count === 1 ? '' : 's'} (0..${count - 1})` };
  }
  return { n };
}

/** `$mem.NAME.VIEW` name part ("t.u64", "tz.u32.1", "ts.timespec") → MemRef, or an error. */
export function parseMemRef(name: string | undefined): MemRef | { msg: string } {
  // The index is written after a dot ("u32.1"): brackets would need quotes in YAML flow lists.
  const m = /^([A-Za-z_][A-Za-z0-9_]*)\.(u32|u64)(?:\.(\d+))?$/.exec(name ?? '') ?? /^([A-Za-z_][A-Za-z0-9_]*)\.(timespec|timeval)$/.exec(name ?? '');
  if (!m) return { msg: `"$mem${name ? '.' + name : ''}" must be $mem.NAME.u32[.I], $mem.NAME.u64[.I] (word I, default 0), $mem.NAME.timespec or $mem.NAME.timeval (NAME a memory region)` };
  return { region: m[1]!, view: m[2] as MemView, index: m[3] !== undefined ? Number(m[3]) : 0 };
}

/** How many bytes a view needs from the region's start (for load-time size checks). */
export function viewBytes(view: MemView, index: number, abi: Abi): number {
  switch (view) {
    case 'u32': return 4 * (index + 1);
    case 'u64': return 8 * (index + 1);
    // i386: old_timespec32 / old_timeval32 (two s32); x86_64 and x32: two s64 (x32 has a
    // 64-bit __kernel_long_t, include/uapi/asm-generic/posix_types.h via arch/x86's x32 types).
    case 'timespec': case 'timeval': return abi === 'i386' ? 8 : 16;
  }
}

/**
 * The value of a view over `hex` (lowercase hex of the read-back bytes, little-endian), or
 * undefined when the bytes are too short. timespec is tv_sec * 1e9 + tv_nsec (nanoseconds),
 * timeval tv_sec * 1e6 + tv_usec (microseconds), both fields signed, so two readings order
 * the way the clock does.
 */
export function readView(hex: string, ref: Pick<MemRef, 'view' | 'index'>, abi: Abi): bigint | undefined {
  const bytes = Buffer.from(hex, 'hex');
  const need = viewBytes(ref.view, ref.index, abi);
  if (bytes.length < need) return undefined;
  switch (ref.view) {
    case 'u32': return BigInt(bytes.readUInt32LE(4 * ref.index));
    case 'u64': return bytes.readBigUInt64LE(8 * ref.index);
    case 'timespec': case 'timeval': {
      const scale = ref.view === 'timespec' ? 1_000_000_000n : 1_000_000n;
      const [sec, frac] = abi === 'i386'
        ? [BigInt(bytes.readInt32LE(0)), BigInt(bytes.readInt32LE(4))]
        : [bytes.readBigInt64LE(0), bytes.readBigInt64LE(8)];
      return sec * scale + frac;
    }
  }
}
