// Tests of `sysabi tables` (harness/commands/tables.ts): the rows it prints, its alignment,
// --json, and clear errors with exit code 2 for unknown names and bad options.

import t from 'tap';
import { tablesCommand, type TableLine } from '../../harness/commands/tables.js';
import { rows } from '../../abi/tables/index.js';

async function run(...args: string[]): Promise<{ rc: number; text: string }> {
  const chunks: string[] = [];
  const rc = await tablesCommand(args, (s) => chunks.push(s));
  return { rc, text: chunks.join('\n') };
}

t.test('--abi i386 getpid prints one aligned row with the table version', async (t) => {
  const { rc, text } = await run('--abi', 'i386', 'getpid');
  t.equal(rc, 0);
  const lines = text.split('\n');
  t.match(lines[0], /^# Linux v7\.0 tables \(i386 syscall_32\.tbl\)/);
  t.match(lines[1], /NR\s+HEX\s+NAME\s+COLUMN\s+ENTRY\s+COMPAT ENTRY\s+NORETURN\s+NOTE/);
  t.equal(lines.length, 3, 'header, column titles, one row');
  t.match(lines[2], /^\s*20\s+0x14\s+getpid\s+i386\s+sys_getpid\s+-$/);
  t.equal(lines[2]!.indexOf('getpid'), lines[1]!.indexOf('NAME'), 'NAME column aligned');
  t.equal(lines[2]!.indexOf('sys_getpid'), lines[1]!.indexOf('ENTRY'), 'ENTRY column aligned');
});

t.test('numbers: decimal, hex, gaps, past the end, x32 without the bit', async (t) => {
  const { rc, text } = await run('--abi', 'i386', '0x14', '222', '500', '166', 'exit');
  t.equal(rc, 0);
  t.match(text, /\n\s*20\s+0x14\s+getpid\b/);
  t.match(text, /\n\s*222\s+0xde\s+-\s.*-ENOSYS: unassigned number/);
  t.match(text, /\n\s*500\s+0x1f4\s.*-ENOSYS: past the end of the table \(i386 has 472 slots\)/);
  t.match(text, /\n\s*166\s+0xa6\s+vm86\s+i386\s+sys_vm86\s+sys_ni_syscall\s+-ENOSYS on a 64-bit kernel/);
  t.match(text, /\n\s*1\s+0x1\s+exit\s+i386\s+sys_exit\s+-\s+noreturn$/m);
  const x32 = await run('--abi', 'x32', '515', '0x40000203', '0x40000010');
  t.match(x32.text, /515\s+0x203\s.*-ENOSYS: x32 numbers carry 0x40000000 \(0x40000203 is readv\)/);
  t.match(x32.text, /0x40000203\s+readv\s+x32\s+sys_readv/);
  t.match(x32.text, /0x40000010\s.*-ENOSYS: ioctl \(64\) is x86_64-only/);
  const k32 = await run('--abi', 'i386', '--kernel-bits', '32', 'vm86');
  t.notMatch(k32.text, /ENOSYS/, 'vm86 is real on a 32-bit kernel');
});

t.test('all ABIs by default, one block each; all rows without a query', async (t) => {
  const { rc, text } = await run('getpid');
  t.equal(rc, 0);
  t.match(text, /## x86_64\n\s*39\s+0x27\s+getpid\s+common/);
  t.match(text, /## i386\n\s*20\s+0x14\s+getpid\s+i386/);
  t.match(text, /## x32\n\s*1073741863\s+0x40000027\s+getpid\s+common/);
  const all = await run('--abi', 'x86_64');
  t.equal(all.text.split('\n').length, 2 + rows('x86_64').length, 'every x86_64 row');
  const some = await run('--abi=x86_64,x32', 'uretprobe');
  t.equal(some.rc, 0);
  t.match(some.text, /## x86_64[\s\S]*## x32/);
  t.notMatch(some.text, /## i386/);
});

t.test('--json gives machine-readable rows', async (t) => {
  const { rc, text } = await run('--abi', 'i386', '--json', 'pread64', 'mmap', '222');
  t.equal(rc, 0);
  const lines = JSON.parse(text) as TableLine[];
  t.equal(lines.length, 3);
  t.match(lines[0], { abi: 'i386', nr: 180, hex: '0xb4', name: 'pread64', entry: 'sys_ia32_pread64', compatEntry: null, ia32Wrapper: true, implemented: true });
  t.match(lines[1], { name: 'mmap', compatEntry: 'compat_sys_ia32_mmap', compatDiffers: true, effectiveEntry: 'compat_sys_ia32_mmap' });
  t.match(lines[2], { nr: 222, name: null, implemented: false });
});

t.test('errors: unknown name, bad ABI, bad option, bad number → exit 2 with a clear message', async (t) => {
  const unknown = await run('--abi', 'i386', 'uretprobe');
  t.equal(unknown.rc, 2);
  t.match(unknown.text, /no syscall "uretprobe" in the i386 table \(it exists on x86_64, x32\)/);
  const none = await run('no_such_call');
  t.equal(none.rc, 2);
  t.match(none.text, /no syscall "no_such_call" in the x86_64, i386, x32 tables/);
  t.equal((await run('--abi', 'arm64')).rc, 2);
  t.match((await run('--abi', 'arm64')).text, /--abi: expected one of x86_64, i386, x32, found "arm64"/);
  t.match((await run('--frobnicate')).text, /unknown option "--frobnicate"[\s\S]*usage: sysabi tables/);
  t.match((await run('--abi')).text, /--abi: expected a value/);
  const neg = await run('-1');
  t.equal(neg.rc, 2);
  t.match(neg.text, /"-1" is neither a syscall name nor a number/);
  t.equal((await run('--kernel-bits', '16')).rc, 2);
  const help = await run('--help');
  t.equal(help.rc, 0);
  t.match(help.text, /^usage: sysabi tables/);
});
