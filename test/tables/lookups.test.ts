// Tests of the syscall table lookups (abi/tables/index.ts) against the kernel's .tbl files,
// which this test reads with its own minimal reader (not the generator's parser), and
// against the numbering facts of ABI-FACTS §1 and §4.

import t from 'tap';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { ABIS, type Abi } from '../../abi/constants.js';
import {
  effectiveEntry,
  isIa32Wrapper,
  isImplemented,
  lookupName,
  lookupNumber,
  NR_SYSCALLS,
  numberOf,
  rows,
  syscallNames,
  TABLE_SOURCE,
} from '../../abi/tables/index.js';
import { gitBlobId } from '../../abi/tables/parse.js';

const ROOT = join(import.meta.dirname, '..', '..');
const DATA = join(ROOT, 'abi', 'tables', 'data');
const BIT = 0x40000000;

/** Data lines of a .tbl file, split on blanks: [nr, abi, name, entry?, compat?, noreturn?]. */
function tblFields(file: string): string[][] {
  return readFileSync(join(DATA, file), 'utf8')
    .split('\n')
    .filter((l) => /^\s*\d/.test(l))
    .map((l) => l.trim().split(/\s+/));
}
const T64 = tblFields('syscall_64.tbl');
const T32 = tblFields('syscall_32.tbl');
const EXPECTED_FIELDS: Record<Abi, string[][]> = {
  x86_64: T64.filter((f) => f[1] === 'common' || f[1] === '64'),
  x32: T64.filter((f) => f[1] === 'common' || f[1] === 'x32'),
  i386: T32,
};

t.test('row counts and table sizes equal the .tbl files', async (t) => {
  t.ok(T64.length > 300 && T32.length > 300, 'the test read both tables');
  for (const abi of ABIS) {
    const exp = EXPECTED_FIELDS[abi];
    t.equal(rows(abi).length, exp.length, `${abi}: ${exp.length} rows`);
    t.equal(syscallNames(abi).length, exp.length, `${abi}: as many names as rows`);
    const max = Math.max(...exp.map((f) => Number(f[0])));
    t.equal(NR_SYSCALLS[abi], max + 1, `${abi}: NR_SYSCALLS = highest number + 1 = ${max + 1}`);
  }
  t.equal(NR_SYSCALLS.x86_64, 472, '__NR_syscalls on v7.0');
  t.equal(NR_SYSCALLS.i386, 472, 'IA32_NR_syscalls on v7.0');
});

t.test('every .tbl row appears with its fields', async (t) => {
  for (const abi of ABIS) {
    let bad = 0;
    for (const f of EXPECTED_FIELDS[abi]) {
      const nr = Number(f[0]) + (abi === 'x32' ? BIT : 0);
      const r = lookupNumber(abi, nr);
      const compat = f[4] === undefined || f[4] === '-' ? null : f[4];
      const ok =
        r !== undefined && r.name === f[2] && r.column === f[1] && r.entry === (f[3] ?? null) &&
        r.compatEntry === compat && r.noreturn === (f[5] === 'noreturn') && r.abi === abi;
      if (!ok) {
        bad++;
        t.fail(`${abi} ${f.join(' ')}: row is ${JSON.stringify(r)}`);
      }
    }
    t.equal(bad, 0, `${abi}: all rows match`);
  }
});

t.test('lookups agree with each other; rows ascend', async (t) => {
  for (const abi of ABIS) {
    const rs = rows(abi);
    let prev = -1;
    let bad = 0;
    for (const r of rs) {
      if (r.nr <= prev || lookupName(abi, r.name) !== r || lookupNumber(abi, r.nr) !== r || lookupNumber(abi, BigInt(r.nr)) !== r) bad++;
      prev = r.nr;
    }
    t.equal(bad, 0, `${abi}: name and number lookups return the same row, ascending`);
    t.same(syscallNames(abi), rs.map((r) => r.name), `${abi}: syscallNames in number order`);
    t.ok(Object.isFrozen(rs) && Object.isFrozen(rs[0]), `${abi}: rows are frozen`);
  }
});

t.test('handy numbers (ABI-FACTS §1)', async (t) => {
  t.equal(lookupName('x86_64', 'getpid')?.nr, 39);
  t.equal(lookupName('i386', 'getpid')?.nr, 20);
  t.equal(lookupName('x32', 'getpid')?.nr, 0x40000027);
  t.equal(lookupName('x32', 'readv')?.nr, 515 | BIT, 'x32 readv is 515 with the bit');
  t.equal(lookupName('x32', 'readv')?.column, 'x32');
  t.equal(lookupName('x86_64', 'readv')?.nr, 19);
  t.equal(lookupNumber('x86_64', 335)?.name, 'uretprobe');
  t.equal(lookupNumber('x86_64', 336)?.name, 'uprobe');
  t.equal(lookupName('i386', 'uretprobe'), undefined, 'no uretprobe on i386');
  t.equal(lookupNumber('i386', 335)?.name === 'uretprobe', false);
  for (const abi of ['x86_64', 'i386'] as const) t.equal(lookupNumber(abi, 471)?.name, 'rseq_slice_yield', `${abi} 471`);
  t.equal(lookupNumber('x32', 471 | BIT)?.name, 'rseq_slice_yield', 'x32 471|bit (common row)');
  const pairs: [string, number, number][] = [
    ['read', 0, 3], ['write', 1, 4], ['exit', 60, 1], ['exit_group', 231, 252], ['gettid', 186, 224],
    ['kill', 62, 37], ['rt_sigreturn', 15, 173], ['restart_syscall', 219, 0], ['seccomp', 317, 354],
    ['arch_prctl', 158, 384], ['openat', 257, 295], ['ptrace', 101, 26], ['execve', 59, 11],
  ];
  for (const [name, n64, n32] of pairs) {
    t.equal(lookupName('x86_64', name)?.nr, n64, `x86_64 ${name}`);
    t.equal(lookupName('i386', name)?.nr, n32, `i386 ${name}`);
  }
  t.equal(lookupName('i386', 'sigreturn')?.nr, 119);
  t.equal(lookupName('x86_64', 'sigreturn'), undefined);
  t.equal(lookupName('i386', 'clock_gettime64')?.nr, 403);
  t.equal(numberOf('x32', 'getpid'), 0x40000027);
  t.throws(() => numberOf('i386', 'uretprobe'), /no syscall "uretprobe" in the i386 table \(it exists on x86_64, x32\)/);
});

t.test('x32 numbering rule (ABI-FACTS §4.1)', async (t) => {
  for (let n = 512; n <= 547; n++) {
    t.equal(lookupNumber('x86_64', n), undefined, `x86_64 ${n} does not exist`);
    t.equal(isImplemented('x86_64', n), false);
    t.equal(lookupNumber('x32', n), undefined, `x32 ${n} without the bit does not exist`);
    t.equal(lookupNumber('x32', n | BIT)?.column, 'x32', `x32 ${n}|bit is an x32 row`);
  }
  for (const n of [16, 19, 20]) {
    t.equal(lookupNumber('x32', n | BIT), undefined, `${n}|bit (64-only) does not exist on x32`);
    t.equal(isImplemented('x32', n | BIT), false);
  }
  // Every 64-only name is absent from x32 and every x32-only name from x86_64.
  const only64 = rows('x86_64').filter((r) => r.column === '64');
  const onlyX32 = rows('x32').filter((r) => r.column === 'x32');
  t.ok(only64.length > 0 && onlyX32.length > 0);
  t.ok(only64.every((r) => lookupNumber('x32', r.nr | BIT) === undefined), '64-only numbers vanish with the bit');
  t.ok(onlyX32.every((r) => lookupNumber('x86_64', r.nr - BIT) === undefined), 'x32-only numbers vanish without the bit');
  t.ok(rows('x32').every((r) => r.nr >= BIT && r.nr - BIT < NR_SYSCALLS.x32), 'every x32 number carries the bit');
  t.equal(NR_SYSCALLS.x32, 548, 'X32_NR_syscalls on v7.0 covers 0..547');
});

t.test('unimplemented numbers return -ENOSYS (ABI-FACTS §1)', async (t) => {
  const range = (a: number, b: number) => Array.from({ length: b - a + 1 }, (_, i) => a + i);
  const noEntry64 = [134, 174, 177, 178, ...range(180, 185), 205, 211, 212, 214, 215, 236];
  const noEntry32 = [17, 31, 32, 35, 44, 53, 56, 58, 98, 112, 127, 130, 137, 167, 169, 188, 189, 253, 273];
  for (const n of noEntry64) {
    t.ok(lookupNumber('x86_64', n) !== undefined && lookupNumber('x86_64', n)!.entry === null, `x86_64 ${n} is a row without entry`);
    t.equal(isImplemented('x86_64', n), false, `x86_64 ${n} not implemented`);
  }
  for (const n of noEntry32) {
    t.equal(lookupNumber('i386', n)?.entry, null, `i386 ${n} is a row without entry`);
    t.equal(isImplemented('i386', n), false, `i386 ${n}`);
    t.equal(isImplemented('i386', n, 32), false, `i386 ${n} on a 32-bit kernel`);
  }
  for (const n of range(337, 423)) t.equal(lookupNumber('x86_64', n), undefined, `x86_64 ${n} unassigned`);
  for (const n of [222, 223, 251, 285, ...range(387, 392), 415]) {
    t.equal(lookupNumber('i386', n), undefined, `i386 ${n} is a gap`);
    t.equal(isImplemented('i386', n), false);
  }
  // Entries that are sys_ni_syscall.
  t.equal(lookupNumber('x86_64', 156)?.name, '_sysctl');
  t.equal(isImplemented('x86_64', 156), false, 'x86_64 _sysctl → sys_ni_syscall');
  for (const n of [134, 149]) t.equal(isImplemented('i386', n), false, `i386 ${n} → sys_ni_syscall`);
  // vm86old/vm86: real on a 32-bit kernel, sys_ni_syscall for ia32 tasks on a 64-bit one.
  for (const [n, name] of [[113, 'vm86old'], [166, 'vm86']] as const) {
    const r = lookupNumber('i386', n)!;
    t.equal(r.name, name);
    t.equal(effectiveEntry(r, 64), 'sys_ni_syscall');
    t.equal(effectiveEntry(r, 32), `sys_${name}`);
    t.equal(isImplemented('i386', n), false, `${name} not implemented on a 64-bit kernel (default)`);
    t.equal(isImplemented('i386', n, 64), false);
    t.equal(isImplemented('i386', n, 32), true, `${name} implemented on a 32-bit kernel`);
  }
  // Past the end, negative, non-integers, huge bigints.
  for (const abi of ABIS) {
    const end = NR_SYSCALLS[abi] + (abi === 'x32' ? BIT : 0);
    t.equal(isImplemented(abi, end), false, `${abi} ${end} is past the end`);
    t.equal(isImplemented(abi, end - 1), true, `${abi} last number is implemented`);
  }
  for (const bad of [-1, -1n, 1.5, Number.NaN, 2 ** 53, 1n << 64n, (1n << 32n) | 39n]) {
    t.equal(lookupNumber('x86_64', bad), undefined, `x86_64 ${String(bad)} finds no row`);
  }
  t.equal(isImplemented('i386', 20), true);
  t.equal(isImplemented('x86_64', 39n), true, 'bigint numbers work');
  t.equal(isImplemented('x86_64', 39, 32), false, 'no x86_64 ABI on a 32-bit kernel');
});

t.test('noreturn, compat entries and ia32 wrappers', async (t) => {
  for (const abi of ABIS) {
    const nr = rows(abi).filter((r) => r.noreturn).map((r) => r.name).sort();
    t.same(nr, ['exit', 'exit_group'], `${abi}: exit and exit_group are noreturn`);
  }
  const expectDiff = T32.filter((f) => f[4] !== undefined && f[4] !== '-' && f[4] !== f[3]).map((f) => f[2]).sort();
  t.ok(expectDiff.length > 50, 'the i386 table has many compat entries');
  t.same(rows('i386').filter((r) => r.compatDiffers).map((r) => r.name).sort(), expectDiff, 'compatDiffers exactly where the compat column differs');
  t.equal(lookupName('i386', 'getsockopt')?.compatDiffers, false, 'compat entry equal to the native one does not count');
  t.equal(lookupName('i386', 'mmap')?.compatDiffers, true);
  t.ok(rows('x86_64').every((r) => !r.compatDiffers) && rows('x32').every((r) => !r.compatDiffers), 'no compat column in the 64-bit table on v7.0');
  const pread = lookupName('i386', 'pread64')!;
  t.equal(effectiveEntry(pread, 64), 'sys_ia32_pread64');
  t.ok(isIa32Wrapper(pread), 'pread64 goes through an ia32 wrapper joining two 32-bit halves');
  t.notOk(isIa32Wrapper(lookupName('i386', 'getpid')!));
  t.notOk(isIa32Wrapper(lookupName('x86_64', 'pread64')!));
  t.equal(effectiveEntry(lookupName('i386', 'stat64')!, 64), 'compat_sys_ia32_stat64');
  t.equal(effectiveEntry(lookupName('i386', 'stat64')!, 32), 'sys_stat64');
});

t.test('TABLE_SOURCE matches the data and SOURCE.txt', async (t) => {
  const src = readFileSync(join(DATA, 'SOURCE.txt'), 'utf8');
  t.equal(TABLE_SOURCE.version, 'v7.0');
  for (const [bits, blob] of [['64', TABLE_SOURCE.blob64], ['32', TABLE_SOURCE.blob32]] as const) {
    const file = join(DATA, `syscall_${bits}.tbl`);
    t.match(src, new RegExp(`syscall_${bits}\\.tbl\\s+${blob}`), `SOURCE.txt records ${blob}`);
    t.equal(gitBlobId(readFileSync(file)), blob, `blob id of syscall_${bits}.tbl`);
    let gitSays: string | undefined;
    try {
      gitSays = execFileSync('git', ['hash-object', file], { encoding: 'utf8' }).trim();
    } catch {
      t.comment('git not available; blob id checked with the built-in hash only');
    }
    if (gitSays !== undefined) t.equal(gitSays, blob, `git hash-object syscall_${bits}.tbl`);
  }
  t.match(src, /SPDX-License-Identifier: GPL-2\.0 WITH Linux-syscall-note/, 'licence line kept');
  for (const f of ['syscall_64.tbl', 'syscall_32.tbl']) {
    t.match(readFileSync(join(DATA, f), 'utf8'), /^# SPDX-License-Identifier: GPL-2\.0 WITH Linux-syscall-note/, `${f} keeps its SPDX line`);
  }
});

t.test('property: a number finds a row iff the .tbl has it (any 32-bit value, both signs)', async (t) => {
  const known: Record<Abi, Set<number>> = {
    x86_64: new Set(EXPECTED_FIELDS.x86_64.map((f) => Number(f[0]))),
    x32: new Set(EXPECTED_FIELDS.x32.map((f) => Number(f[0]) + BIT)),
    i386: new Set(EXPECTED_FIELDS.i386.map((f) => Number(f[0]))),
  };
  // Bias towards the interesting region (near 0 and near the x32 bit) as well as anywhere.
  const nr = fc.oneof(fc.integer({ min: -16, max: 1100 }), fc.integer({ min: BIT - 16, max: BIT + 1100 }), fc.integer({ min: -(2 ** 31), max: 2 ** 32 }));
  fc.assert(
    fc.property(fc.constantFrom(...ABIS), nr, (abi, n) => {
      const r = lookupNumber(abi, n);
      if ((r !== undefined) !== known[abi].has(n)) return false;
      if (isImplemented(abi, n) && (r === undefined || r.entry === null)) return false;
      return lookupNumber(abi, BigInt(n)) === r;
    }),
    { numRuns: 5000 },
  );
  t.pass('5000 random numbers agree with the .tbl contents');
});
