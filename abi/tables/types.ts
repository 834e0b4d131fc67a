// The row type shared by the generated per-ABI tables (abi/tables/generated/*.ts) and the
// lookups in abi/tables/index.ts. Kept apart from index.ts so generated modules import a
// type only and never form an import cycle with the code that loads them.

import type { Abi } from '../constants.js';

/** Which column of the kernel table a row came from (arch/x86/entry/syscalls/*.tbl). */
export type TableColumn = 'common' | '64' | 'x32' | 'i386';

/** One row of one ABI's syscall table. */
export interface SyscallRow {
  abi: Abi;
  /** The number as the dispatcher indexes it: x32 numbers carry 0x40000000 (__X32_SYSCALL_BIT). */
  nr: number;
  name: string;
  column: TableColumn;
  /** Native entry point (4th .tbl field), e.g. sys_getpid; null for a row without one (-ENOSYS). */
  entry: string | null;
  /** Compat entry point (5th .tbl field; "-" means none): what an ia32 task on a 64-bit kernel runs. */
  compatEntry: string | null;
  /** The table marks the call as never returning (exit, exit_group; v6.11+ format). */
  noreturn: boolean;
  /** compatEntry is present and differs from entry (e.g. pread64 → an ia32 wrapper joining 32-bit halves). */
  compatDiffers: boolean;
}

/** Where a generated table came from; written into every generated file. */
export interface TableSourceInfo {
  /** File name of the kernel table, e.g. syscall_64.tbl. */
  table: string;
  /** Kernel version the table is from, e.g. v7.0 ("unknown" when it could not be established). */
  version: string;
  /** git blob id of the table file (`git hash-object`). */
  blob: string;
}
