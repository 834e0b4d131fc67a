// `sysabi tables [--abi ABI]... [--json] [--kernel-bits 64|32] [name|number ...]`: prints rows
// of the generated syscall tables (abi/tables/), for people writing specs who need a number,
// an entry point or to know whether a number is implemented. Exit 0, or 2 for bad usage or a
// name no selected table has.

import { ABIS, type Abi } from '../../abi/constants.js';
import {
  effectiveEntry,
  isIa32Wrapper,
  isImplemented,
  lookupName,
  lookupNumber,
  NI_SYSCALL,
  NR_SYSCALLS,
  rows,
  TABLE_SOURCE,
  type SyscallRow,
} from '../../abi/tables/index.js';

const X32_BIT = 0x40000000;

export const TABLES_USAGE = `usage: sysabi tables [--abi x86_64|i386|x32]... [--json] [--kernel-bits 64|32] [name|number ...]
  Print syscall table rows (all rows when no name or number is given).
  --abi          table to search (repeatable or comma-separated; default: all three)
  --json         one JSON array of rows instead of aligned text
  --kernel-bits  kernel the "implemented" verdict is for (default 64: i386 uses the compat entry)
  numbers are decimal or 0x-hex, exactly as the dispatcher indexes them (x32 with 0x40000000)`;

/** One printed row; a number with no table row has name/column/entries null. */
export interface TableLine {
  abi: Abi;
  nr: number;
  hex: string;
  name: string | null;
  column: SyscallRow['column'] | null;
  entry: string | null;
  compatEntry: string | null;
  noreturn: boolean;
  compatDiffers: boolean;
  /** i386: the entry on a 64-bit kernel is a sys_ia32_* / compat_sys_ia32_* wrapper. */
  ia32Wrapper: boolean;
  /** The entry the given kernel runs (i386 on 64-bit: compat when present). */
  effectiveEntry: string | null;
  implemented: boolean;
  note: string;
}

class UsageError extends Error {}

function parseNumber(s: string): number | undefined {
  if (/^\d+$/.test(s)) return Number(s);
  if (/^0x[0-9a-f]+$/i.test(s)) return Number.parseInt(s.slice(2), 16);
  return undefined;
}

function lineFor(abi: Abi, row: SyscallRow, bits: 64 | 32): TableLine {
  const eff = effectiveEntry(row, bits);
  const implemented = isImplemented(abi, row.nr, bits);
  let note = '';
  if (row.entry === null) note = '-ENOSYS: no entry point';
  else if (eff === null) note = `-ENOSYS: no ${abi} ABI on a ${bits}-bit kernel`;
  else if (eff === NI_SYSCALL) note = row.entry === NI_SYSCALL ? '-ENOSYS: sys_ni_syscall' : `-ENOSYS on a ${bits}-bit kernel (compat entry sys_ni_syscall)`;
  else if (row.compatDiffers) note = bits === 64 ? 'compat entry differs (ia32 tasks run it)' : 'compat entry differs';
  if (implemented && isIa32Wrapper(row)) note = `${note ? `${note}; ` : ''}ia32 wrapper (arguments rebuilt from 32-bit registers)`;
  return {
    abi,
    nr: row.nr,
    hex: `0x${row.nr.toString(16)}`,
    name: row.name,
    column: row.column,
    entry: row.entry,
    compatEntry: row.compatEntry,
    noreturn: row.noreturn,
    compatDiffers: row.compatDiffers,
    ia32Wrapper: isIa32Wrapper(row),
    effectiveEntry: eff,
    implemented,
    note,
  };
}

function missingLine(abi: Abi, nr: number): TableLine {
  const base = abi === 'x32' ? X32_BIT : 0;
  let note: string;
  if (abi === 'x32' && nr < X32_BIT) {
    const withBit = lookupNumber('x32', nr + X32_BIT);
    note = `-ENOSYS: x32 numbers carry 0x40000000${withBit ? ` (0x${(nr + X32_BIT).toString(16)} is ${withBit.name})` : ''}`;
  } else if (nr - base >= NR_SYSCALLS[abi]) {
    note = `-ENOSYS: past the end of the table (${abi} has ${NR_SYSCALLS[abi]} slots)`;
  } else {
    const other = abi === 'x32' ? lookupNumber('x86_64', nr - X32_BIT) : abi === 'x86_64' ? lookupNumber('x32', nr + X32_BIT) : undefined;
    note = other
      ? `-ENOSYS: ${other.name} (${other.column}) is ${abi === 'x32' ? 'x86_64' : 'x32'}-only`
      : '-ENOSYS: unassigned number';
  }
  return {
    abi, nr, hex: `0x${nr.toString(16)}`, name: null, column: null, entry: null, compatEntry: null,
    noreturn: false, compatDiffers: false, ia32Wrapper: false, effectiveEntry: null, implemented: false, note,
  };
}

function formatText(lines: readonly TableLine[], abis: readonly Abi[], bits: 64 | 32): string[] {
  const header = ['NR', 'HEX', 'NAME', 'COLUMN', 'ENTRY', 'COMPAT ENTRY', 'NORETURN', 'NOTE'];
  const cells = lines.map((l) => [
    String(l.nr), l.hex, l.name ?? '-', l.column ?? '-', l.entry ?? '-', l.compatEntry ?? '-',
    l.noreturn ? 'noreturn' : '', l.note,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const fmt = (c: string[]) =>
    c.map((v, i) => (i <= 1 ? v.padStart(widths[i]!) : i === c.length - 1 ? v : v.padEnd(widths[i]!))).join('  ').trimEnd();
  const src = abis.map((a) => `${a} ${a === 'i386' ? 'syscall_32.tbl' : 'syscall_64.tbl'}`).join(', ');
  const out = [`# Linux ${TABLE_SOURCE.version} tables (${src}); notes for a ${bits}-bit kernel`, fmt(header)];
  let prev: Abi | undefined;
  for (let i = 0; i < lines.length; i++) {
    if (abis.length > 1 && lines[i]!.abi !== prev) {
      prev = lines[i]!.abi;
      out.push(`## ${prev}`);
    }
    out.push(fmt(cells[i]!));
  }
  return out;
}

function parseArgs(args: readonly string[]) {
  const abis: Abi[] = [];
  let json = false;
  let bits: 64 | 32 = 64;
  const queries: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const [flag, inline] = a.startsWith('--') && a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const value = () => {
      const v = inline ?? args[++i];
      if (v === undefined) throw new UsageError(`${flag}: expected a value`);
      return v;
    };
    if (flag === '--abi') {
      for (const v of value().split(',')) {
        if (!(ABIS as readonly string[]).includes(v)) throw new UsageError(`--abi: expected one of ${ABIS.join(', ')}, found "${v}"`);
        if (!abis.includes(v as Abi)) abis.push(v as Abi);
      }
    } else if (flag === '--json') json = true;
    else if (flag === '--kernel-bits') {
      const v = value();
      if (v !== '64' && v !== '32') throw new UsageError(`--kernel-bits: expected 64 or 32, found "${v}"`);
      bits = v === '64' ? 64 : 32;
    } else if (flag === '-h' || flag === '--help') return { help: true as const };
    else if (a.startsWith('-') && !/^-\d/.test(a)) throw new UsageError(`unknown option "${a}"`);
    else queries.push(a);
  }
  return { help: false as const, abis: abis.length > 0 ? abis : [...ABIS], json, bits, queries };
}

export async function tablesCommand(args: string[], out: (s: string) => void): Promise<number> {
  let opts: ReturnType<typeof parseArgs>;
  try {
    opts = parseArgs(args);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    out(`sysabi tables: ${e.message}\n${TABLES_USAGE}`);
    return 2;
  }
  if (opts.help) {
    out(TABLES_USAGE);
    return 0;
  }
  const { abis, json, bits, queries } = opts;
  const lines: TableLine[] = [];
  const errors: string[] = [];
  if (queries.length === 0) {
    for (const abi of abis) for (const r of rows(abi)) lines.push(lineFor(abi, r, bits));
  } else {
    // Group by ABI so text output reads as one block per table, in the order queried.
    const perAbi = new Map<Abi, TableLine[]>(abis.map((a) => [a, []]));
    for (const q of queries) {
      const nr = parseNumber(q);
      if (nr === undefined && !/^[A-Za-z_][A-Za-z0-9_]*$/.test(q)) {
        errors.push(`"${q}" is neither a syscall name nor a number (decimal or 0x-hex, not negative)`);
        continue;
      }
      let found = false;
      for (const abi of abis) {
        if (nr !== undefined) {
          const row = lookupNumber(abi, nr);
          perAbi.get(abi)!.push(row ? lineFor(abi, row, bits) : missingLine(abi, nr));
          found = true;
        } else {
          const row = lookupName(abi, q);
          if (row) {
            perAbi.get(abi)!.push(lineFor(abi, row, bits));
            found = true;
          }
        }
      }
      if (!found) {
        const elsewhere = ABIS.filter((a) => !abis.includes(a) && lookupName(a, q));
        errors.push(
          `no syscall "${q}" in the ${abis.join(', ')} table${abis.length > 1 ? 's' : ''}` +
            (elsewhere.length > 0 ? ` (it exists on ${elsewhere.join(', ')})` : ''),
        );
      }
    }
    for (const abi of abis) lines.push(...perAbi.get(abi)!);
  }
  if (errors.length > 0) {
    out(errors.map((e) => `sysabi tables: ${e}`).join('\n'));
    return 2;
  }
  const shown = abis.filter((a) => lines.some((l) => l.abi === a));
  out(json ? JSON.stringify(lines, null, 2) : formatText(lines, shown.length > 0 ? shown : abis, bits).join('\n'));
  return 0;
}
