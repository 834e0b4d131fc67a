// `sysabi lint`: exit 0 and a summary on clean specs; exit 2 and every error as
// file:line:col on bad ones; explainCase() in plain words.

import t from 'tap';
import { join } from 'node:path';
import { lintCommand } from '../../harness/commands/lint.js';
import { loadSpecs } from '../../harness/spec/load.js';
import { expandSpec } from '../../harness/spec/expand.js';
import { explainCase } from '../../harness/explain.js';

const fx = join(import.meta.dirname, 'fixtures');
const sink = () => { let s = ''; return { write: (x: string) => { s += x; }, get text() { return s; } }; };

t.test('clean specs: 0 and a summary', async (t) => {
  const out = sink(); const err = sink();
  t.equal(await lintCommand([join(fx, 'good')], out, err), 0);
  t.equal(err.text, '');
  t.match(out.text, /^lint: 1 spec, 14 cases, no errors\n$/);
});

t.test('bad specs: 2, every error, a summary, no stack trace', async (t) => {
  const out = sink(); const err = sink();
  t.equal(await lintCommand([join(fx, 'errors'), join(fx, 'good')], out, err), 2);
  const lines = err.text.trim().split('\n');
  t.ok(lines.length >= 21, `one line per error, one per fixture at least (${lines.length})`);
  for (const l of lines.slice(0, -1)) t.match(l, /^\S+\.yaml:\d+:\d+: error: /);
  t.match(lines[lines.length - 1], /^lint: \d+ errors in \d+ files; 1 spec \(14 cases\) ok$/);
  t.notMatch(err.text, /\n\s+at /, 'no stack trace');
});

t.test('explainCase says what runs and what is expected', async (t) => {
  const { specs } = await loadSpecs([join(fx, 'good')]);
  const cs = expandSpec(specs[0]!);
  const i80 = explainCase(cs.find((c) => c.case.id === 'test.features/int80-from-64-bit-code@x86_64')!);
  t.match(i80, /ABI x86_64, 64-bit code, entering through int \$0x80/);
  t.match(i80, /Syscall number 0x100000014 — getpid in the i386 table \(the kernel uses the low 32 bits, 20\)/);
  t.match(i80, /rcx  = descriptor null \(\/dev\/null\) \| 0xffffffff00000000/);
  t.match(i80, /rdx  = address of buffer b \+ 0x8/);
  t.match(i80, /the return value \(rax\) is not an error/);
  t.match(i80, /Requires: kernel >=4\.17\./);
  t.match(i80, /kernel: arch\/x86\/entry\/entry_64\.S/);
  const f = explainCase(cs.find((c) => c.case.id === 'test.features/fault-at-fixed-address@i386')!);
  t.match(f, /and at least one of:\n {3}\(1\) first\n.*the signal's signo is SIGSEGV/);
  t.match(f, /the return value \(eax\) is -14 \(EFAULT\) = 0xfffffff2/);
  t.match(f, /forked child/);
  const s = explainCase(cs.find((c) => c.case.id === 'test.features/getpid@x32')!);
  t.match(s, /SKIPPED on x32: x32 is covered elsewhere/);
});
