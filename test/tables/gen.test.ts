// Tests of the table generator (abi/tables/gen.ts): the committed outputs are not stale,
// --check notices a stale file, --from imports another tree's tables (with its version),
// and malformed tables are refused with file:line.

import t from 'tap';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { main, GenError, versionFromKernelTree } from '../../abi/tables/gen.js';
import { parseTbl, TableParseError } from '../../abi/tables/parse.js';

const ROOT = join(import.meta.dirname, '..', '..');
const DATA = join(ROOT, 'abi', 'tables', 'data');

/** A scratch repository root holding a copy of the data and the committed outputs. */
function scratch(t: { teardown(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'sysabi-tables-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  cpSync(DATA, join(dir, 'abi/tables/data'), { recursive: true });
  cpSync(join(ROOT, 'abi/tables/generated'), join(dir, 'abi/tables/generated'), { recursive: true });
  mkdirSync(join(dir, 'probes/include'), { recursive: true });
  cpSync(join(ROOT, 'probes/include/sysabi_nr.h'), join(dir, 'probes/include/sysabi_nr.h'));
  return dir;
}

function run(argv: string[]): { rc: number; log: string } {
  const lines: string[] = [];
  const rc = main(argv, (s) => lines.push(s));
  return { rc, log: lines.join('\n') };
}

t.test('committed outputs are up to date (gen.ts --check, as make/CI run it)', async (t) => {
  let rc = 0;
  let outText = '';
  try {
    outText = execFileSync(process.execPath, ['--import', 'tsx', join(ROOT, 'abi/tables/gen.ts'), '--check'], {
      cwd: ROOT,
      encoding: 'utf8',
    });
  } catch (e) {
    const err = e as { status: number; stdout: string; stderr: string };
    rc = err.status;
    outText = err.stdout + err.stderr;
  }
  t.equal(rc, 0, `gen.ts --check exits 0 (output: ${outText.trim()})`);
  t.match(outText, /up to date \(Linux v7\.0/);
});

t.test('--check reports a stale or missing output and exits 1', async (t) => {
  const dir = scratch(t);
  t.equal(run(['--check', '--out', dir]).rc, 0, 'fresh copy passes');
  const f = join(dir, 'abi/tables/generated/i386.ts');
  writeFileSync(f, readFileSync(f, 'utf8').replace("name: 'getpid'", "name: 'getpid2'"));
  const r = run(['--check', '--out', dir]);
  t.equal(r.rc, 1);
  t.match(r.log, /stale generated files.*abi\/tables\/generated\/i386\.ts/);
  t.notMatch(r.log, /x86_64\.ts/, 'only the edited file is reported');
  rmSync(join(dir, 'probes/include/sysabi_nr.h'));
  t.match(run(['--check', '--out', dir]).log, /sysabi_nr\.h/, 'a missing header is stale');
  t.equal(run(['--out', dir]).rc, 0, 'regenerating');
  t.equal(run(['--check', '--out', dir]).rc, 0, 'fixes it');
  t.equal(readFileSync(join(dir, 'probes/include/sysabi_nr.h'), 'utf8'), readFileSync(join(ROOT, 'probes/include/sysabi_nr.h'), 'utf8'), 'byte-identical to the committed header');
});

t.test('data that no longer matches SOURCE.txt is refused', async (t) => {
  const dir = scratch(t);
  const f = join(dir, 'abi/tables/data/syscall_32.tbl');
  writeFileSync(f, readFileSync(f, 'utf8') + '472\ti386\tnew_call\t\tsys_new_call\n');
  t.throws(() => run(['--out', dir]), { name: 'GenError', message: /syscall_32\.tbl: git blob id is [0-9a-f]{40} but SOURCE\.txt records f832ebd2/ });
});

t.test('--from imports a kernel tree: tables, version from its Makefile, fresh SOURCE.txt', async (t) => {
  const dir = scratch(t);
  const tree = join(dir, 'linux');
  const tbl = join(tree, 'arch/x86/entry/syscalls');
  mkdirSync(tbl, { recursive: true });
  writeFileSync(join(tree, 'Makefile'), 'VERSION = 7\nPATCHLEVEL = 1\nSUBLEVEL = 0\nEXTRAVERSION = -rc2\nNAME = test\n');
  t.equal(versionFromKernelTree(tbl), 'v7.1-rc2');
  writeFileSync(join(tbl, 'syscall_64.tbl'), readFileSync(join(DATA, 'syscall_64.tbl'), 'utf8') + '472\tcommon\tnew_call\t\tsys_new_call\n');
  cpSync(join(DATA, 'syscall_32.tbl'), join(tbl, 'syscall_32.tbl'));
  const r = run(['--from', tbl, '--out', dir]);
  t.equal(r.rc, 0, r.log);
  const x64 = readFileSync(join(dir, 'abi/tables/generated/x86_64.ts'), 'utf8');
  t.match(x64, /Linux v7\.1-rc2/, 'header names the version');
  t.match(x64, /NR_SYSCALLS = 473;/);
  t.match(x64, /nr: 472, name: 'new_call', column: 'common'/);
  t.match(readFileSync(join(dir, 'abi/tables/generated/x32.ts'), 'utf8'), /nr: 0x400001d8, name: 'new_call'/, 'x32 gets the common row with the bit');
  t.match(readFileSync(join(dir, 'probes/include/sysabi_nr.h'), 'utf8'), /#define SYSABI_NR_X86_64_new_call\s+472\n/);
  const src = readFileSync(join(dir, 'abi/tables/data/SOURCE.txt'), 'utf8');
  t.match(src, /Linux v7\.1-rc2/);
  t.equal(readFileSync(join(dir, 'abi/tables/data/syscall_64.tbl'), 'utf8'), readFileSync(join(tbl, 'syscall_64.tbl'), 'utf8'), 'table copied verbatim');
  t.equal(run(['--check', '--out', dir]).rc, 0, 'the imported data regenerates the same outputs (provenance consistent)');
  t.throws(() => run(['--version', 'v1.0']), GenError, '--version without --from is refused');
  t.throws(() => run(['--bogus']), /unknown argument "--bogus"/);
  t.throws(() => run(['--from', join(dir, 'nowhere'), '--out', dir]), /nowhere\/syscall_64\.tbl: not found/);
});

t.test('--from keeps a SOURCE.txt that tells the truth (the shared v7.0 copy)', async (t) => {
  const dir = scratch(t);
  const shared = join(dir, 'shared');
  cpSync(DATA, shared, { recursive: true });
  writeFileSync(join(dir, 'abi/tables/data/SOURCE.txt'), 'garbage');
  t.equal(run(['--from', shared, '--out', dir]).rc, 0);
  t.equal(readFileSync(join(dir, 'abi/tables/data/SOURCE.txt'), 'utf8'), readFileSync(join(DATA, 'SOURCE.txt'), 'utf8'));
  t.ok(existsSync(join(dir, 'abi/tables/generated/i386.ts')));
});

t.test('malformed tables are refused with file:line and what was expected', async (t) => {
  const cols64 = ['common', '64', 'x32'] as const;
  const cases: [string, RegExp][] = [
    ['0\tcommon\tread\tsys_read\n1\tbogus\twrite\tsys_write\n', /^f\.tbl:2: expected abi common \/ 64 \/ x32, found "bogus"/],
    ['x1\tcommon\tread\tsys_read\n', /^f\.tbl:1: expected a decimal syscall number, found "x1"/],
    ['0\tcommon\n', /^f\.tbl:1: expected 3 to 6 fields/],
    ['0\tcommon\tread\tsys_read\t-\tnoret\n', /^f\.tbl:1: expected "noreturn" as 6th field, found "noret"/],
    ['0\tcommon\tre-ad\tsys_read\n', /expected a C identifier as syscall name, found "re-ad"/],
    ['1073741824\tcommon\tread\tsys_read\n', /not below the x32 bit/],
  ];
  for (const [text, re] of cases) {
    t.throws(() => parseTbl(text, 'f.tbl', cols64), re, JSON.stringify(text));
  }
  t.throws(() => parseTbl('0\ti386\tread\tsys_read\n', 'f.tbl', cols64), TableParseError);
  const ok = parseTbl('# c\n\n462 \tcommon  mseal\t\t\tsys_mseal\n60\tcommon\texit\tsys_exit\t-\tnoreturn\n', 'f.tbl', cols64);
  t.same(ok.map((r) => [r.nr, r.name, r.entry, r.compatEntry, r.noreturn]), [[462, 'mseal', 'sys_mseal', null, false], [60, 'exit', 'sys_exit', null, true]], 'odd blanks, "-" placeholder, noreturn');
});

t.test('duplicate numbers or names in one ABI are refused', async (t) => {
  const dir = scratch(t);
  const tree = join(dir, 'dup');
  mkdirSync(tree);
  cpSync(join(DATA, 'syscall_64.tbl'), join(tree, 'syscall_64.tbl'));
  writeFileSync(join(tree, 'syscall_32.tbl'), readFileSync(join(DATA, 'syscall_32.tbl'), 'utf8') + '20\ti386\tgetpid_again\tsys_getpid\n');
  t.throws(() => run(['--from', tree, '--out', dir, '--check']), /syscall_32\.tbl:\d+: i386: number 20 already used by "getpid"/);
  // x86_64 and x32 may share a name only through different columns (common vs 64/x32).
  writeFileSync(join(tree, 'syscall_32.tbl'), readFileSync(join(DATA, 'syscall_32.tbl')));
  writeFileSync(join(tree, 'syscall_64.tbl'), readFileSync(join(DATA, 'syscall_64.tbl'), 'utf8') + '500\tx32\treadv\tsys_readv\n');
  t.throws(() => run(['--from', tree, '--out', dir, '--check']), /x32: name "readv" already used/);
});
