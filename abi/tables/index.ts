// Syscall table lookups for every part of sysabi (spec loader, simulator, CLI): name → row,
// number → row, and "does this number reach an implementation", per ABI. Built once from the
// generated tables (abi/tables/generated/, made by gen.ts from the kernel's .tbl files).
// Dispatch rules from arch/x86/entry/syscall_64.c / syscall_32.c, summarised in ABI-FACTS §4.

import { ABIS, type Abi } from '../constants.js';
import * as T64 from './generated/x86_64.js';
import * as T32 from './generated/i386.js';
import * as TX32 from './generated/x32.js';
import type { SyscallRow } from './types.js';

export type { SyscallRow, TableColumn, TableSourceInfo } from './types.js';

/** __X32_SYSCALL_BIT as a plain number (the tables hold numbers, not bigints). */
const X32_BIT = 0x40000000;
/** The entry point the kernel uses for "no such syscall" (kernel/sys_ni.c). */
export const NI_SYSCALL = 'sys_ni_syscall';

const GENERATED: Record<Abi, { ROWS: readonly SyscallRow[]; NR_SYSCALLS: number }> = {
  x86_64: T64,
  i386: T32,
  x32: TX32,
};

/**
 * Table sizes as the dispatcher bounds-checks them: __NR_syscalls (x86_64, 472 on v7.0),
 * IA32_NR_syscalls (i386, 472), X32_NR_syscalls (x32: highest x32-table number without
 * the bit, plus one — 548 on v7.0; the x32 table covers 0..547).
 */
export const NR_SYSCALLS: Record<Abi, number> = {
  x86_64: T64.NR_SYSCALLS,
  i386: T32.NR_SYSCALLS,
  x32: TX32.NR_SYSCALLS,
};

/** Which kernel tables the generated modules came from. */
export const TABLE_SOURCE: { version: string; blob64: string; blob32: string } = Object.freeze({
  version: T64.SOURCE.version,
  blob64: T64.SOURCE.blob,
  blob32: T32.SOURCE.blob,
});

interface Index {
  rows: readonly SyscallRow[];
  names: readonly string[];
  byName: Map<string, SyscallRow>;
  /** Dense by table index (x32: number minus the bit); holes are gaps. */
  byIndex: (SyscallRow | undefined)[];
}

function build(abi: Abi): Index {
  const { ROWS } = GENERATED[abi];
  const base = abi === 'x32' ? X32_BIT : 0;
  const rows = Object.freeze(ROWS.map((r) => Object.freeze({ ...r })));
  const byIndex: (SyscallRow | undefined)[] = new Array(NR_SYSCALLS[abi]).fill(undefined);
  const byName = new Map<string, SyscallRow>();
  for (const r of rows) {
    byIndex[r.nr - base] = r;
    byName.set(r.name, r);
  }
  return { rows, names: Object.freeze(rows.map((r) => r.name)), byName, byIndex };
}

const INDEX: Record<Abi, Index> = { x86_64: build('x86_64'), i386: build('i386'), x32: build('x32') };

function checkAbi(abi: Abi): Index {
  const ix = INDEX[abi];
  if (!ix) throw new TypeError(`unknown ABI "${String(abi)}" (expected one of ${ABIS.join(', ')})`);
  return ix;
}

/**
 * Row for a syscall name in one ABI's table. x32 sees only `common` and `x32` rows (with the
 * bit in nr), x86_64 only `common` and `64` rows (ABI-FACTS §4.1), i386 its own table.
 */
export function lookupName(abi: Abi, name: string): SyscallRow | undefined {
  return checkAbi(abi).byName.get(name);
}

/**
 * Row for a number exactly as the ABI's dispatcher indexes it: x86_64 and i386 0..NR-1,
 * x32 0x40000000 + 0..NR-1. So x32 numbers without the bit (512–547 included) and
 * `64`-only numbers with the bit find nothing, as on the kernel since v5.4. Callers that
 * start from a raw RAX do the kernel's (int) truncation first (ABI-FACTS §4.1).
 */
export function lookupNumber(abi: Abi, nr: number | bigint): SyscallRow | undefined {
  const ix = checkAbi(abi);
  let n: number;
  if (typeof nr === 'bigint') {
    if (nr < 0n || nr > BigInt(Number.MAX_SAFE_INTEGER)) return undefined;
    n = Number(nr);
  } else {
    if (!Number.isSafeInteger(nr)) return undefined;
    n = nr;
  }
  const i = abi === 'x32' ? n - X32_BIT : n;
  if (i < 0 || i >= ix.byIndex.length) return undefined;
  return ix.byIndex[i];
}

/**
 * The entry point the kernel runs for this row. i386 on a 64-bit kernel (ia32 emulation)
 * runs the compat column when there is one (arch/x86/entry/syscall_32.c builds the table
 * with __SYSCALL_WITH_COMPAT → compat); on a 32-bit kernel the native one. x86_64 and x32
 * rows exist only on 64-bit kernels, so for kernelBits 32 they have no entry (null).
 */
export function effectiveEntry(row: SyscallRow, kernelBits: 64 | 32): string | null {
  if (row.abi === 'i386') return kernelBits === 64 ? (row.compatEntry ?? row.entry) : row.entry;
  return kernelBits === 64 ? row.entry : null;
}

/**
 * Whether a number reaches a real implementation (anything else returns -ENOSYS): false for
 * gaps, numbers past the end, rows without an entry point and rows whose effective entry is
 * sys_ni_syscall (x86_64 _sysctl; i386 vm86/vm86old on a 64-bit kernel). kernelBits defaults
 * to 64. This is the table's view only: whether the ABI itself is enabled (x32 built,
 * ia32 emulation on) is a property of the target's Profile.
 */
export function isImplemented(abi: Abi, nr: number | bigint, kernelBits: 64 | 32 = 64): boolean {
  const row = lookupNumber(abi, nr);
  if (!row) return false;
  const e = effectiveEntry(row, kernelBits);
  return e !== null && e !== NI_SYSCALL;
}

/**
 * i386 rows whose entry on a 64-bit kernel is an ia32-specific wrapper (sys_ia32_* or
 * compat_sys_ia32_*, arch/x86/kernel/sys_ia32.c): it rebuilds arguments from 32-bit
 * registers, e.g. pread64 joins a 64-bit offset from two halves. Since the wrapper is also
 * the native entry for pread64 & co., compatDiffers alone does not find these rows.
 */
export function isIa32Wrapper(row: SyscallRow): boolean {
  const e = row.abi === 'i386' ? effectiveEntry(row, 64) : null;
  return e !== null && /^(compat_)?sys_ia32_/.test(e);
}

/** All rows of an ABI, ascending by number. */
export function rows(abi: Abi): readonly SyscallRow[] {
  return checkAbi(abi).rows;
}

/** All names of an ABI, ascending by number. */
export function syscallNames(abi: Abi): readonly string[] {
  return checkAbi(abi).names;
}

/** lookupName that throws a clear error instead of returning undefined (for loaders). */
export function numberOf(abi: Abi, name: string): number {
  const r = lookupName(abi, name);
  if (!r) {
    const other = ABIS.filter((a) => a !== abi && INDEX[a].byName.has(name));
    const hint = other.length > 0 ? ` (it exists on ${other.join(', ')})` : '';
    throw new RangeError(`no syscall "${name}" in the ${abi} table${hint}`);
  }
  return r.nr;
}
