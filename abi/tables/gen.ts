// Generator for sysabi's syscall tables: reads the kernel's syscall_64.tbl and syscall_32.tbl
// (abi/tables/data/ by default, or any kernel tree's arch/x86/entry/syscalls with --from) and
// writes abi/tables/generated/{x86_64,i386,x32}.ts and probes/include/sysabi_nr.h, the way
// the kernel's scripts/syscallhdr.sh and syscalltbl.sh derive unistd_*.h from the same files.
//
//   node --import tsx abi/tables/gen.ts                 regenerate from abi/tables/data/
//   node --import tsx abi/tables/gen.ts --from DIR      import DIR's tables into abi/tables/data/, regenerate
//   node --import tsx abi/tables/gen.ts --check         exit 1 if the committed outputs are stale
// Options: --version vX.Y (label for --from when no kernel Makefile is found), --out ROOT
// (write under ROOT instead of the repository; used by the tests).

import { existsSync, mkdirSync, readFileSync, writeFileSync, copyFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ABIS, type Abi } from '../constants.js';
import { gitBlobId, nrSyscalls, parseTbl, rowsForAbi, X32_BIT } from './parse.js';
import type { SyscallRow, TableSourceInfo } from './types.js';

const HERE = dirname(fileURLToPath(import.meta.url));
/** Repository root (abi/tables/ is two levels down). */
export const REPO_ROOT = resolve(HERE, '..', '..');
export const DATA_DIR_REL = 'abi/tables/data';
export const TABLE_FILES = { '64': 'syscall_64.tbl', '32': 'syscall_32.tbl' } as const;

/** The tables read from disk, with their provenance. */
export interface TableInput {
  text64: string;
  text32: string;
  blob64: string;
  blob32: string;
  version: string;
  /** Where the tables were read from, for messages. */
  dir: string;
}

export class GenError extends Error {
  override name = 'GenError';
}

/** Version named in a SOURCE.txt ("Mainline Linux v7.0 content: ..."). */
export function versionFromSourceTxt(text: string): string | undefined {
  return /\bLinux (v\d+\.\d+(?:\.\d+)?(?:-rc\d+)?|unknown)\b/.exec(text)?.[1];
}

/** Blob ids recorded in a SOURCE.txt ("syscall_64.tbl  <40 hex>"). */
export function blobsFromSourceTxt(text: string): Partial<Record<'64' | '32', string>> {
  const out: Partial<Record<'64' | '32', string>> = {};
  for (const bits of ['64', '32'] as const) {
    const m = new RegExp(`syscall_${bits}\\.tbl\\s+([0-9a-f]{40})\\b`).exec(text);
    if (m) out[bits] = m[1]!;
  }
  return out;
}

/**
 * Version of the kernel tree that holds DIR = <tree>/arch/x86/entry/syscalls, from the
 * tree's top-level Makefile (VERSION / PATCHLEVEL / SUBLEVEL / EXTRAVERSION).
 */
export function versionFromKernelTree(dir: string): string | undefined {
  const mk = join(dir, '..', '..', '..', '..', 'Makefile');
  if (!existsSync(mk)) return undefined;
  const text = readFileSync(mk, 'utf8');
  const get = (k: string) => new RegExp(`^${k}\\s*=\\s*(\\S*)`, 'm').exec(text)?.[1];
  const v = get('VERSION');
  const p = get('PATCHLEVEL');
  if (!v || !p) return undefined;
  const s = get('SUBLEVEL');
  return `v${v}.${p}${s && s !== '0' ? `.${s}` : ''}${get('EXTRAVERSION') ?? ''}`;
}

function readTables(dir: string): { text64: string; text32: string; blob64: string; blob32: string } {
  const read = (f: string) => {
    const p = join(dir, f);
    if (!existsSync(p)) throw new GenError(`${p}: not found (expected the kernel's ${f}, as in arch/x86/entry/syscalls/)`);
    return readFileSync(p);
  };
  const b64 = read(TABLE_FILES['64']);
  const b32 = read(TABLE_FILES['32']);
  return { text64: b64.toString('utf8'), text32: b32.toString('utf8'), blob64: gitBlobId(b64), blob32: gitBlobId(b32) };
}

/**
 * The project's own copy (abi/tables/data/). Its SOURCE.txt must name the version and
 * record blob ids equal to the files' ids, so the provenance stays true.
 */
export function readDataDir(dataDir: string): TableInput {
  const t = readTables(dataDir);
  const srcPath = join(dataDir, 'SOURCE.txt');
  if (!existsSync(srcPath)) throw new GenError(`${srcPath}: not found (the tables' provenance and licence must stay with them)`);
  const src = readFileSync(srcPath, 'utf8');
  const version = versionFromSourceTxt(src);
  if (!version) throw new GenError(`${srcPath}: no "Linux vX.Y" version found`);
  const blobs = blobsFromSourceTxt(src);
  for (const [bits, actual] of [['64', t.blob64], ['32', t.blob32]] as const) {
    if (blobs[bits] !== actual) {
      throw new GenError(
        `${join(dataDir, TABLE_FILES[bits])}: git blob id is ${actual} but SOURCE.txt records ${blobs[bits] ?? 'none'}; ` +
          `the data no longer matches its provenance (re-import with --from, or fix SOURCE.txt)`,
      );
    }
  }
  return { ...t, version, dir: dataDir };
}

/** Tables from any directory (a kernel tree's arch/x86/entry/syscalls, or a copy). */
export function readForeignDir(dir: string, versionOverride?: string): TableInput {
  const t = readTables(dir);
  const srcPath = join(dir, 'SOURCE.txt');
  const version =
    versionOverride ??
    versionFromKernelTree(dir) ??
    (existsSync(srcPath) ? versionFromSourceTxt(readFileSync(srcPath, 'utf8')) : undefined) ??
    'unknown';
  return { ...t, version, dir };
}

export interface Generated {
  /** Output path relative to the repository root → file contents. */
  files: Map<string, string>;
  rows: Record<Abi, SyscallRow[]>;
}

const ABI_FILE: Record<Abi, string> = { x86_64: 'x86_64', i386: 'i386', x32: 'x32' };
const ABI_MACRO: Record<Abi, string> = { x86_64: 'X86_64', i386: 'I386', x32: 'X32' };

function sourceOf(abi: Abi, input: TableInput): TableSourceInfo {
  const bits = abi === 'i386' ? '32' : '64';
  return { table: TABLE_FILES[bits], version: input.version, blob: bits === '32' ? input.blob32 : input.blob64 };
}

function genHeaderLines(abi: Abi, src: TableSourceInfo): string[] {
  return [
    `GENERATED by abi/tables/gen.ts from ${DATA_DIR_REL}/${src.table}`,
    `(arch/x86/entry/syscalls/${src.table}), Linux ${src.version}, git blob ${src.blob}.`,
    `Do not edit: run \`make tables\` (see abi/tables/README.md).`,
    abi === 'x32'
      ? `x32: the "common" and "x32" rows; every number carries __X32_SYSCALL_BIT (0x40000000).`
      : abi === 'x86_64'
        ? `x86_64: the "common" and "64" rows.`
        : `i386 (native and ia32-compat): every row; the compat entry is what ia32 tasks run on a 64-bit kernel.`,
  ];
}

function tsString(s: string | null): string {
  return s === null ? 'null' : `'${s}'`;
}

function genTs(abi: Abi, rows: readonly SyscallRow[], input: TableInput): string {
  const src = sourceOf(abi, input);
  const out: string[] = genHeaderLines(abi, src).map((l) => `// ${l}`);
  out.push(`import type { SyscallRow, TableSourceInfo } from '../types.js';`, '');
  out.push(`export const SOURCE: TableSourceInfo = { table: '${src.table}', version: '${src.version}', blob: '${src.blob}' };`);
  out.push(`/** ${abi === 'i386' ? 'IA32_NR_syscalls' : abi === 'x32' ? 'X32_NR_syscalls' : '__NR_syscalls'}: highest number${abi === 'x32' ? ' (without the x32 bit)' : ''} + 1. */`);
  out.push(`export const NR_SYSCALLS = ${nrSyscalls(abi, rows)};`, '');
  out.push(`export const ROWS: readonly SyscallRow[] = [`);
  for (const r of rows) {
    const nr = abi === 'x32' ? `0x${r.nr.toString(16)}` : String(r.nr);
    out.push(
      `  { abi: '${abi}', nr: ${nr}, name: '${r.name}', column: '${r.column}', entry: ${tsString(r.entry)}, ` +
        `compatEntry: ${tsString(r.compatEntry)}, noreturn: ${r.noreturn}, compatDiffers: ${r.compatDiffers} },`,
    );
  }
  out.push('];', '');
  return out.join('\n');
}

function genCHeader(rows: Record<Abi, SyscallRow[]>, input: TableInput): string {
  const o: string[] = [];
  o.push('/*');
  o.push(` * Syscall numbers for the sysabi probes, per ABI (the kernel's __NR_* of unistd_{64,x32,32}.h).`);
  o.push(` * GENERATED by abi/tables/gen.ts from the Linux ${input.version} tables in ${DATA_DIR_REL}/:`);
  o.push(` *   ${TABLE_FILES['64']} (x86_64, x32), git blob ${input.blob64}`);
  o.push(` *   ${TABLE_FILES['32']} (i386), git blob ${input.blob32}`);
  o.push(' * Do not edit: run `make tables` (see abi/tables/README.md).');
  o.push(' *');
  o.push(' * SYSABI_NR_<ABI>_<name> exist for every ABI; SYSABI_NR_<name> and SYSABI_NR_SYSCALLS follow the');
  o.push(' * ABI this file is compiled for (x32: __x86_64__ && __ILP32__). Plain integers only, so the');
  o.push(' * header also works in preprocessed assembly (.S).');
  o.push(' */');
  o.push('#ifndef SYSABI_NR_H', '#define SYSABI_NR_H', '');
  o.push(`#define SYSABI_TABLES_VERSION "${input.version}"`);
  o.push(`#define SYSABI_TABLES_BLOB64 "${input.blob64}"`);
  o.push(`#define SYSABI_TABLES_BLOB32 "${input.blob32}"`);
  o.push('#ifndef SYSABI_X32_SYSCALL_BIT');
  o.push(`#define SYSABI_X32_SYSCALL_BIT 0x${X32_BIT.toString(16)}`);
  o.push('#endif', '');
  for (const abi of ABIS) {
    o.push(`/* Table size (highest number${abi === 'x32' ? ' without the x32 bit' : ''} + 1) and row count, ${abi}. */`);
    o.push(`#define SYSABI_NR_SYSCALLS_${ABI_MACRO[abi]} ${nrSyscalls(abi, rows[abi])}`);
    o.push(`#define SYSABI_NR_ROWS_${ABI_MACRO[abi]} ${rows[abi].length}`);
  }
  o.push('');
  const width = Math.max(...ABIS.flatMap((a) => rows[a].map((r) => r.name.length)));
  for (const abi of ABIS) {
    o.push(`/* ${abi} */`);
    for (const r of rows[abi]) {
      const nr = abi === 'x32' ? `0x${r.nr.toString(16)}` : String(r.nr);
      const note = abi === 'x32' ? ` /* ${r.nr - X32_BIT} | x32 bit */` : '';
      o.push(`#define SYSABI_NR_${ABI_MACRO[abi]}_${r.name.padEnd(width)} ${nr}${note}`);
    }
    o.push('');
  }
  const branches: [string, Abi][] = [
    ['#if defined(__x86_64__) && defined(__ILP32__)', 'x32'],
    ['#elif defined(__x86_64__)', 'x86_64'],
    ['#elif defined(__i386__)', 'i386'],
  ];
  o.push('/* The compile-time ABI\'s numbers. */');
  for (const [cond, abi] of branches) {
    o.push(cond);
    o.push(`#define SYSABI_ABI_NAME "${abi}"`);
    o.push(`#define SYSABI_NR_SYSCALLS SYSABI_NR_SYSCALLS_${ABI_MACRO[abi]}`);
    for (const r of rows[abi]) o.push(`#define SYSABI_NR_${r.name.padEnd(width)} SYSABI_NR_${ABI_MACRO[abi]}_${r.name}`);
  }
  o.push('#else');
  o.push('#error "sysabi_nr.h: unknown target ABI (expected __x86_64__, with or without __ILP32__, or __i386__)"');
  o.push('#endif', '', '#endif /* SYSABI_NR_H */', '');
  return o.join('\n');
}

/** Parse both tables and produce every output file (nothing is written). */
export function generate(input: TableInput): Generated {
  const f64 = join(input.dir, TABLE_FILES['64']);
  const f32 = join(input.dir, TABLE_FILES['32']);
  const t64 = parseTbl(input.text64, f64, ['common', '64', 'x32']);
  const t32 = parseTbl(input.text32, f32, ['i386']);
  const rows: Record<Abi, SyscallRow[]> = {
    x86_64: rowsForAbi('x86_64', t64, f64),
    x32: rowsForAbi('x32', t64, f64),
    i386: rowsForAbi('i386', t32, f32),
  };
  for (const abi of ABIS) if (rows[abi].length === 0) throw new GenError(`${abi}: the table has no rows`);
  const files = new Map<string, string>();
  for (const abi of ABIS) files.set(`abi/tables/generated/${ABI_FILE[abi]}.ts`, genTs(abi, rows[abi], input));
  files.set('probes/include/sysabi_nr.h', genCHeader(rows, input));
  return { files, rows };
}

/** Paths (relative to root) whose contents differ from `gen`, or are missing. */
export function staleFiles(gen: Generated, root: string): string[] {
  const stale: string[] = [];
  for (const [rel, text] of gen.files) {
    const p = join(root, rel);
    if (!existsSync(p) || readFileSync(p, 'utf8') !== text) stale.push(rel);
  }
  return stale;
}

/** A fresh SOURCE.txt for tables imported with --from from a directory that has none. */
function sourceTxtFor(input: TableInput): string {
  return [
    'x86 system call tables imported by abi/tables/gen.ts --from',
    '',
    'Files',
    `  syscall_64.tbl  <- ${join(input.dir, TABLE_FILES['64'])}`,
    `  syscall_32.tbl  <- ${join(input.dir, TABLE_FILES['32'])}`,
    '',
    'Version',
    `  Linux ${input.version}`,
    '',
    'Verification (git blob object ids; `git hash-object <file>` reproduces them)',
    `  syscall_64.tbl  ${input.blob64}`,
    `  syscall_32.tbl  ${input.blob32}`,
    '',
    'License',
    '  See the SPDX-License-Identifier line at the top of each table.',
    '',
  ].join('\n');
}

interface Options {
  from?: string;
  check: boolean;
  version?: string;
  out: string;
}

function parseArgs(argv: string[]): Options {
  const o: Options = { check: false, out: REPO_ROOT };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new GenError(`${a}: expected a value`);
      return v;
    };
    if (a === '--from') o.from = resolve(value());
    else if (a === '--check') o.check = true;
    else if (a === '--version') o.version = value();
    else if (a === '--out') o.out = resolve(value());
    else throw new GenError(`unknown argument "${a}" (expected --from DIR, --check, --version vX.Y, --out ROOT)`);
  }
  if (o.version !== undefined && !o.from) throw new GenError('--version only applies with --from (abi/tables/data/SOURCE.txt names its own version)');
  return o;
}

export function main(argv: string[], log: (s: string) => void = console.log): number {
  const o = parseArgs(argv);
  const dataDir = join(o.out, DATA_DIR_REL);
  const input = o.from ? readForeignDir(o.from, o.version) : readDataDir(dataDir);
  const gen = generate(input);
  if (o.check) {
    const stale = staleFiles(gen, o.out);
    if (stale.length > 0) {
      log(`stale generated files (run \`make tables\`): ${stale.join(', ')}`);
      return 1;
    }
    log(`generated tables are up to date (Linux ${input.version}, ${ABIS.map((a) => `${a} ${gen.rows[a].length} rows`).join(', ')})`);
    return 0;
  }
  if (o.from && resolve(o.from) !== resolve(dataDir)) {
    // Keep the build inside the repository: the imported tables become the project's data.
    mkdirSync(dataDir, { recursive: true });
    for (const f of Object.values(TABLE_FILES)) copyFileSync(join(o.from, f), join(dataDir, f));
    const src = join(o.from, 'SOURCE.txt');
    const srcText = existsSync(src) ? readFileSync(src, 'utf8') : '';
    const srcBlobs = blobsFromSourceTxt(srcText);
    // A SOURCE.txt that already tells the truth about these files is kept verbatim.
    if (versionFromSourceTxt(srcText) === input.version && srcBlobs['64'] === input.blob64 && srcBlobs['32'] === input.blob32) {
      copyFileSync(src, join(dataDir, 'SOURCE.txt'));
    }
    else writeFileSync(join(dataDir, 'SOURCE.txt'), sourceTxtFor(input));
    log(`imported ${o.from} (Linux ${input.version}) into ${relative(process.cwd(), dataDir) || '.'}`);
  }
  for (const [rel, text] of gen.files) {
    const p = join(o.out, rel);
    mkdirSync(dirname(p), { recursive: true });
    writeFileSync(p, text);
  }
  log(`wrote ${[...gen.files.keys()].join(', ')} (Linux ${input.version}, ${ABIS.map((a) => `${a} ${gen.rows[a].length} rows`).join(', ')})`);
  return 0;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    process.exitCode = main(process.argv.slice(2));
  } catch (e) {
    if (e instanceof GenError || (e instanceof Error && e.name === 'TableParseError')) {
      console.error(`gen: ${e.message}`);
      process.exitCode = 2;
    } else throw e;
  }
}
