// The spec side of set-up calls (harness/spec/setup.ts): `setup:` expands to Case.setup with
// numbers from the case ABI's own table, operands, errno numbers and forced isolation, and every
// mistake is refused at its file:line:col with what was expected (docs/spec-language.md).
import t from 'tap';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ERRNO } from '../../abi/constants.js';
import { loadSpecs, formatSpecError } from '../../harness/spec/load.js';
import { expandSpec } from '../../harness/spec/expand.js';
import { setupErrno, setupFailure } from '../../harness/spec/setup.js';

const dir = mkdtempSync(join(tmpdir(), 'sysabi-setup-'));
let n = 0;
/** A spec file around `cases` (YAML text, indented as a list under `cases:`). */
function spec(body: string, abi = '[x86_64, i386, x32]'): string {
  const f = join(dir, `s${++n}.yaml`);
  writeFileSync(f, `id: test.setup.s${n}
title: t
description: t
refs: [{kernel: arch/x86/kernel/ldt.c}]
tags: [segments]
abi: ${abi}
cases:
${body}`);
  return f;
}

t.test('setup expands per ABI: the ABI table, operands, errno, isolate', async (t) => {
  const f = spec(`  - name: read back
    memory: { u: { size: 16 }, o: { size: 8 } }
    setup:
      - { call: modify_ldt, args: [0x11, buf:u, 16] }
      - { call: modify_ldt, args: [1, buf:u, 15], expect_errno: EINVAL }
    call: getpid
    expect: { outcome: returned }
`);
  const { specs, errors } = await loadSpecs([f]);
  t.same(errors.map(formatSpecError), []);
  const cases = expandSpec(specs[0]!);
  const by = Object.fromEntries(cases.map((c) => [c.case.abi, c.case]));
  // modify_ldt: x86_64 154, i386 123, x32 154 | __X32_SYSCALL_BIT (arch/x86/entry/syscalls/*.tbl).
  t.equal(by.x86_64!.setup![0]!.nr, 154n);
  t.equal(by.i386!.setup![0]!.nr, 123n);
  t.equal(by.x32!.setup![0]!.nr, 0x4000009an);
  t.same(by.x86_64!.setup![0]!.args, [{ lit: 0x11n }, { ref: 'buf', name: 'u' }, { lit: 16n }]);
  t.equal(by.x86_64!.setup![0]!.expectErrno, undefined, 'no expect_errno: must succeed');
  t.equal(by.i386!.setup![1]!.expectErrno, ERRNO.EINVAL);
  t.equal(by.x86_64!.setup![0]!.name, 'modify_ldt');
  for (const c of cases) t.equal(c.case.isolate, true, `${c.case.abi}: set-up calls isolate the case`);
});

t.test('entry int80 uses the i386 table from 64-bit code and requires ia32', async (t) => {
  const f = spec(`  - name: tls
    memory: { u: { size: 16 } }
    setup: [ { call: set_thread_area, entry: int80, args: [buf:u] } ]
    call: getpid
    expect: { outcome: returned }
`, '[x86_64]');
  const { specs, errors } = await loadSpecs([f]);
  t.same(errors.map(formatSpecError), []);
  const [c] = expandSpec(specs[0]!);
  t.equal(c!.case.setup![0]!.nr, 243n, 'i386 set_thread_area');
  t.equal(c!.case.setup![0]!.entry, 'int80');
  t.equal(c!.requires.ia32, true, 'int $0x80 from 64-bit code needs ia32 emulation');
});

/** The single error a one-case spec gives, formatted. */
async function oneError(body: string, abi?: string): Promise<string> {
  const f = spec(body, abi);
  const { errors } = await loadSpecs([f]);
  t.equal(errors.length, 1, errors.map(formatSpecError).join(' | '));
  return errors[0] ? formatSpecError(errors[0]) : '';
}

t.test('errors point at the set-up call with what was expected', async (t) => {
  const typo = await oneError(`  - name: typo
    setup: [ { call: modfy_ldt, args: [0, 0, 0] } ]
    call: getpid
    expect: { outcome: returned }
`, '[x86_64]');
  t.match(typo, /s\d+\.yaml:9:22: error: set-up call 1: unknown syscall "modfy_ldt" in the x86_64 table/);
  t.match(typo, /did you mean "modify_ldt"\?/);

  const count = await oneError(`  - name: count
    memory: { u: { size: 16 } }
    setup: [ { call: modify_ldt, args: [1, buf:u] } ]
    call: getpid
    expect: { outcome: returned }
`, '[x86_64]');
  t.match(count, /:10:40: error: set-up call 1: modify_ldt takes 3 arguments \(func, ptr, bytecount\), found 2/);

  const table = await oneError(`  - name: table
    memory: { u: { size: 16 } }
    setup: [ { call: set_thread_area, args: [buf:u] } ]
    call: getpid
    expect: { outcome: returned }
`, '[x32]');
  t.match(table, /unknown syscall "set_thread_area" in the x32 table .*it exists on x86_64, i386/);

  const buf = await oneError(`  - name: buf
    setup: [ { call: modify_ldt, args: [1, buf:nope, 16] } ]
    call: getpid
    expect: { outcome: returned }
`, '[x86_64]');
  t.match(buf, /:9:44: error: set-up call 1 \(modify_ldt\) args\[1\]: .*nope/);

  const i386 = await oneError(`  - name: i386 int80
    memory: { u: { size: 16 } }
    setup: [ { call: set_thread_area, entry: int80, args: [buf:u] } ]
    call: getpid
    expect: { outcome: returned }
`, '[i386]');
  t.match(i386, /:10:39: error: set-up call 1: entry int80 is for x86_64 and x32 processes/);

  const exec = await oneError(`  - name: exec
    entry: exec
    setup: [ { call: getpid } ]
    expect: { outcome: returned }
`, '[x86_64]');
  t.match(exec, /:10:5: error: setup: an exec case starts a fresh program/);

  const iso = await oneError(`  - name: not isolated
    isolate: false
    setup: [ { call: getpid } ]
    call: getpid
    expect: { outcome: returned }
`, '[x86_64]');
  t.match(iso, /isolate: false is not possible here: it makes set-up calls/);

  const key = await oneError(`  - name: unknown key
    setup: [ { call: getpid, arg: [] } ]
    call: getpid
    expect: { outcome: returned }
`, '[x86_64]');
  t.match(key, /:9:30: error: unknown key "arg" in setup \(did you mean "args"\?\)/);
});

t.test('set-up results: what counts as -errno, and the error text every target gives', async (t) => {
  t.equal(setupErrno(0n, 64), 0);
  t.equal(setupErrno(BigInt.asUintN(64, -22n), 64), ERRNO.EINVAL, 'sign-extended -EINVAL');
  // modify_ldt's (unsigned int)ret: -EINVAL zero-extended (arch/x86/kernel/ldt.c).
  t.equal(setupErrno(0xffffffean, 64), ERRNO.EINVAL, 'zero-extended -EINVAL');
  t.equal(setupErrno(0xffffffean, 32), ERRNO.EINVAL, '32-bit -EINVAL');
  t.equal(setupErrno(0x1_ffff_ffeen, 64), 0, 'high bits neither 0 nor all ones: a value, not an error');
  t.equal(setupErrno(0xfffff000n, 32), 0, '-4096 is not an errno (the kernel never returns it as one)');
  t.equal(setupErrno(0x7f00_0000_0000n, 64), 0, 'an address');
  const call = { name: 'modify_ldt', nr: 154n, args: [] };
  t.equal(setupFailure(call, 0, 0n, 64), null);
  t.equal(setupFailure(call, 2, 0xffffffean, 64), 'set-up call 3 (modify_ldt) returned -EINVAL');
  t.equal(setupFailure({ ...call, expectErrno: ERRNO.EPERM }, 1, 0n, 64), 'set-up call 2 (modify_ldt) returned 0x0, expected -EPERM');
  t.equal(setupFailure({ ...call, expectErrno: ERRNO.EPERM }, 1, BigInt.asUintN(64, -1n), 64), null);
});
