// Parser for the kernel's x86 syscall tables (arch/x86/entry/syscalls/syscall_{64,32}.tbl).
// Format, from the tables' own header comment:
//   <number> <abi> <name> <entry point> [<compat entry point> [noreturn]]
// Fields are separated by any run of blanks (the v7.0 table has "462 \tcommon  mseal"),
// '#' starts a comment line, "-" as compat entry means "none" (it only holds the place
// for the noreturn field). Malformed input is refused with file:line and what was expected.

import { createHash } from 'node:crypto';
import type { Abi } from '../constants.js';
import type { SyscallRow, TableColumn } from './types.js';

/** x32 callers add this bit to every number (arch/x86/include/uapi/asm/unistd.h __X32_SYSCALL_BIT). */
export const X32_BIT = 0x40000000;

/** One raw line of a .tbl file, before it is split into ABIs. */
export interface TblRow {
  line: number;
  nr: number;
  column: TableColumn;
  name: string;
  entry: string | null;
  compatEntry: string | null;
  noreturn: boolean;
}

export class TableParseError extends Error {
  constructor(file: string, line: number, message: string) {
    super(`${file}:${line}: ${message}`);
    this.name = 'TableParseError';
  }
}

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Parse one table. `columns` is the set of ABI column values the file may use:
 * syscall_64.tbl uses common/64/x32, syscall_32.tbl uses i386 only.
 */
export function parseTbl(text: string, file: string, columns: readonly TableColumn[]): TblRow[] {
  const rows: TblRow[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    const raw = lines[i]!.trim();
    if (raw === '' || raw.startsWith('#')) continue;
    const f = raw.split(/\s+/);
    if (f.length < 3 || f.length > 6) {
      throw new TableParseError(file, lineNo, `expected 3 to 6 fields "<number> <abi> <name> [<entry> [<compat> [noreturn]]]", found ${f.length}: "${raw}"`);
    }
    const [nrText, column, name, entry, compat, flag] = f as [string, string, string, string?, string?, string?];
    if (!/^\d+$/.test(nrText)) {
      throw new TableParseError(file, lineNo, `expected a decimal syscall number, found "${nrText}"`);
    }
    const nr = Number(nrText);
    if (nr >= X32_BIT) {
      throw new TableParseError(file, lineNo, `syscall number ${nr} is not below the x32 bit 0x40000000`);
    }
    if (!(columns as readonly string[]).includes(column)) {
      throw new TableParseError(file, lineNo, `expected abi ${columns.join(' / ')}, found "${column}"`);
    }
    if (!IDENT.test(name)) {
      throw new TableParseError(file, lineNo, `expected a C identifier as syscall name, found "${name}"`);
    }
    for (const [what, v] of [['entry point', entry], ['compat entry point', compat]] as const) {
      if (v !== undefined && v !== '-' && !IDENT.test(v)) {
        throw new TableParseError(file, lineNo, `expected a C identifier or "-" as ${what}, found "${v}"`);
      }
    }
    if (entry === '-') {
      throw new TableParseError(file, lineNo, `the native entry point cannot be "-" (leave the field out for an unimplemented number)`);
    }
    if (flag !== undefined && flag !== 'noreturn') {
      throw new TableParseError(file, lineNo, `expected "noreturn" as 6th field, found "${flag}"`);
    }
    rows.push({
      line: lineNo,
      nr,
      column: column as TableColumn,
      name,
      entry: entry ?? null,
      compatEntry: compat === undefined || compat === '-' ? null : compat,
      noreturn: flag === 'noreturn',
    });
  }
  return rows;
}

/** Which .tbl columns make up each ABI's table (arch/x86/entry/syscalls/Makefile abi lists). */
export const ABI_COLUMNS: Record<Abi, readonly TableColumn[]> = {
  x86_64: ['common', '64'],
  x32: ['common', 'x32'],
  i386: ['i386'],
};

/**
 * The rows of one ABI, sorted by number, numbers as the dispatcher indexes them
 * (x32 with the bit). Refuses two rows with the same number or name in one ABI, which
 * the kernel's generated headers could not express either.
 */
export function rowsForAbi(abi: Abi, tbl: readonly TblRow[], file: string): SyscallRow[] {
  const cols = ABI_COLUMNS[abi];
  const byNr = new Map<number, TblRow>();
  const byName = new Map<string, TblRow>();
  const out: SyscallRow[] = [];
  for (const r of tbl) {
    if (!cols.includes(r.column)) continue;
    const prevNr = byNr.get(r.nr);
    if (prevNr) throw new TableParseError(file, r.line, `${abi}: number ${r.nr} already used by "${prevNr.name}" on line ${prevNr.line}`);
    const prevName = byName.get(r.name);
    if (prevName) throw new TableParseError(file, r.line, `${abi}: name "${r.name}" already used on line ${prevName.line}`);
    byNr.set(r.nr, r);
    byName.set(r.name, r);
    out.push({
      abi,
      nr: abi === 'x32' ? r.nr + X32_BIT : r.nr,
      name: r.name,
      column: r.column,
      entry: r.entry,
      compatEntry: r.compatEntry,
      noreturn: r.noreturn,
      compatDiffers: r.compatEntry !== null && r.compatEntry !== r.entry,
    });
  }
  out.sort((a, b) => a.nr - b.nr);
  return out;
}

/**
 * __NR_syscalls / IA32_NR_syscalls / X32_NR_syscalls: highest number in the ABI's table
 * (without the x32 bit) plus one, as scripts/syscallhdr.sh computes it.
 */
export function nrSyscalls(abi: Abi, rows: readonly SyscallRow[]): number {
  let max = -1;
  for (const r of rows) max = Math.max(max, abi === 'x32' ? r.nr - X32_BIT : r.nr);
  return max + 1;
}

/** The git blob id of a file's bytes (what `git hash-object` prints): sha1("blob <len>\0" + bytes). */
export function gitBlobId(bytes: Uint8Array): string {
  const h = createHash('sha1');
  h.update(`blob ${bytes.length}\0`);
  h.update(bytes);
  return h.digest('hex');
}
