// The spec side of `before:` (harness/spec/before.ts) and of entry `none`: what Case.before the
// loader builds, that such cases are isolated, how the probe protocol encodes them, and that each
// mistake is refused at its file:line:col with what was expected (docs/spec-language.md).
import t from 'tap';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadSpecs, formatSpecError } from '../../harness/spec/load.js';
import { expandSpec } from '../../harness/spec/expand.js';
import { encodeCase } from '../../harness/targets/probe-runner.js';

const dir = mkdtempSync(join(tmpdir(), 'sysabi-before-'));
let n = 0;
function spec(body: string, abi = '[x86_64, x32]'): string {
  const f = join(dir, `s${++n}.yaml`);
  writeFileSync(f, `id: test.before.s${n}
title: t
description: t
refs: [{manual: "Intel SDM Vol. 2D, WRGSBASE"}]
tags: [segments]
abi: ${abi}
cases:
${body}`);
  return f;
}

t.test('before: values and registers, in order, isolated, encoded for the probe', async (t) => {
  const f = spec(`  - name: w
    call: getpid
    regs: { rbx: 0x1000 }
    before: [ { wrgsbase: 0xffffffffffff0000 }, { wrgsbase: rbx }, { rdgsbase: r12 }, { rdfsbase: rax }, { wrfsbase: "0x7fff_0000" } ]
    expect: { outcome: returned }
`);
  const { specs, errors } = await loadSpecs([f]);
  t.same(errors.map(formatSpecError), []);
  const cases = expandSpec(specs[0]!);
  t.equal(cases.length, 2);
  for (const c of cases) {
    t.same(c.case.before, [
      { insn: 'wrgsbase', value: 0xffffffffffff0000n },
      { insn: 'wrgsbase', reg: 'rbx' },
      { insn: 'rdgsbase', reg: 'r12' },
      { insn: 'rdfsbase', reg: 'rax' },
      { insn: 'wrfsbase', value: 0x7fff0000n },
    ], `${c.case.abi}: the list as written`);
    t.equal(c.case.isolate, true, `${c.case.abi}: before forces isolate`);
  }
  const lines = encodeCase(cases[0]!.case).split('\n').filter((l) => l.startsWith('before '));
  t.same(lines, [
    'before wrgsbase val 0xffffffffffff0000',
    'before wrgsbase reg rbx',
    'before rdgsbase reg r12',
    'before rdfsbase reg rax',
    'before wrfsbase val 0x7fff0000',
  ]);
});

t.test('isolate: false with before is refused', async (t) => {
  const f = spec(`  - name: w
    call: getpid
    isolate: false
    before: [ { wrgsbase: 1 } ]
    expect: { outcome: returned }
`);
  const { specs, errors } = await loadSpecs([f]);
  const all = [...errors, ...(specs.length ? [] : [])].map(formatSpecError).join('\n');
  let msg = all;
  if (specs.length) {
    try { expandSpec(specs[0]!); } catch (e) { msg += String(e); }
  }
  t.match(msg, /isolate: false is not possible here: .*instructions before the entry/);
});

/** Every formatted error of a one-spec file (load and expand). */
async function errorsOf(body: string, abi?: string): Promise<string[]> {
  const f = spec(body, abi);
  const { errors } = await loadSpecs([f]);
  return errors.map(formatSpecError);
}

t.test('mistakes are refused at their place with what was expected', async (t) => {
  const i386 = await errorsOf(`  - name: w
    call: getpid
    before: [ { wrgsbase: 1 } ]
    expect: { outcome: returned }
`, '[i386]');
  t.equal(i386.length, 1, i386.join(' | '));
  t.match(i386[0], /s\d+\.yaml:10:5: error: .*before: the FSGSBASE instructions exist only in 64-bit mode; this case runs an i386 process/);

  const compat = await errorsOf(`  - name: w
    call: getpid
    code: compat
    before: [ { wrgsbase: 1 } ]
    expect: { outcome: returned }
`, '[x86_64]');
  t.match(compat.join('\n'), /this case runs compat code/);

  const rdval = await errorsOf(`  - name: w
    call: getpid
    before: [ { rdgsbase: 0x10 } ]
    expect: { outcome: returned }
`, '[x86_64]');
  t.match(rdval.join('\n'), /:10:27: error: rdgsbase writes a register: name one of rax, rbx/);

  const typo = await errorsOf(`  - name: w
    call: getpid
    before: [ { wrgsbase: rbz } ]
    expect: { outcome: returned }
`, '[x86_64]');
  t.match(typo.join('\n'), /wrgsbase: "rbz" is not a general register; .*did you mean "rb[xp]"/);

  const e32 = await errorsOf(`  - name: w
    call: getpid
    before: [ { wrgsbase: ebx } ]
    expect: { outcome: returned }
`, '[x86_64]');
  t.match(e32.join('\n'), /64-bit register here: write its 64-bit name/);

  const two = await errorsOf(`  - name: w
    call: getpid
    before: [ { wrgsbase: 1, rdgsbase: rax } ]
    expect: { outcome: returned }
`, '[x86_64]');
  t.match(two.join('\n'), /:10:15: error: .*one-key map: one of wrfsbase, wrgsbase, rdfsbase, rdgsbase/);

  const unknown = await errorsOf(`  - name: w
    call: getpid
    before: [ { wrmsr: 1 } ]
    expect: { outcome: returned }
`, '[x86_64]');
  t.ok(unknown.some((e) => /wrmsr/.test(e)), unknown.join(' | '));

  const exec = await errorsOf(`  - name: w
    entry: exec
    before: [ { wrgsbase: 1 } ]
    expect: { outcome: returned }
`, '[x86_64]');
  t.match(exec.join('\n'), /an exec case starts a fresh program/);

  const many = await errorsOf(`  - name: w
    call: getpid
    before: [ ${Array.from({ length: 9 }, () => '{ wrgsbase: 1 }').join(', ')} ]
    expect: { outcome: returned }
`, '[x86_64]');
  t.ok(many.length >= 1 && many.some((e) => /8/.test(e)), many.join(' | '));
});

t.test('entry none: no number needed, a 1-byte nop everywhere', async (t) => {
  const f = spec(`  - name: nop
    entry: none
    flags: [TF]
    expect: { outcome: returned }
`, '[x86_64, i386, x32]');
  const { specs, errors } = await loadSpecs([f]);
  t.same(errors.map(formatSpecError), []);
  const cases = expandSpec(specs[0]!);
  t.same(cases.map((c) => [c.case.abi, c.case.entry, c.case.nr]), [['x86_64', 'none', 0n], ['i386', 'none', 0n], ['x32', 'none', 0n]]);
  t.match(encodeCase(cases[0]!.case), /^entry none$/m);
});
