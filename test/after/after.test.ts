// Calls after the call under test (`after:`, Case.after) and result symbols ($setup.N.ret,
// $after.N.ret, $mem.NAME.VIEW, typed memory expectations): the loader's expansion and errors,
// check() over hand-made observations, the probe protocol lines, and the same spec run on the
// simulator and (where the probes are built) the real kernel, where a deliberately wrong bound
// must fail. docs/spec-language.md "Calls after the call".
import t from 'tap';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ERRNO } from '../../abi/constants.js';
import type { Observation } from '../../harness/contracts.js';
import { check } from '../../harness/check.js';
import { loadSpecs, formatSpecError } from '../../harness/spec/load.js';
import { expandSpec } from '../../harness/spec/expand.js';
import { readView } from '../../harness/spec/results.js';
import type { ExpandedCase } from '../../harness/spec/types.js';
import { encodeCase } from '../../harness/targets/probe-runner.js';
import { createNativeTarget } from '../../harness/targets/native.js';
import { runCase } from '../../sim/kernel/run.js';
import { getProfile } from '../../sim/profiles.js';
import { nativeSkip, PROBE_DIR } from '../native/helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'sysabi-after-'));
let n = 0;
function spec(body: string, abi = '[x86_64, i386, x32]'): string {
  const f = join(dir, `s${++n}.yaml`);
  writeFileSync(f, `id: test.after.s${n}
title: t
description: t
refs: [{kernel: lib/vdso/gettimeofday.c}]
tags: [vdso]
abi: ${abi}
cases:
${body}`);
  return f;
}
async function load(body: string, abi?: string): Promise<{ cases: ExpandedCase[]; errors: string[] }> {
  const { specs, errors } = await loadSpecs([spec(body, abi)]);
  return { cases: specs.length ? expandSpec(specs[0]!) : [], errors: errors.map(formatSpecError) };
}

// __vdso_time between two time syscalls: the shape of specs/vdso/time-between-syscalls.yaml.
const TIME_CASE = (bounds: string) => `  - name: time
    memory: { t: { size: 8, fill: 0xff } }
    setup: [ { call: time, args: [0] } ]
    entry: vdso_fn
    symbol: __vdso_time
    args: [buf:t]
    after: [ { call: time, args: [0] } ]
    expect: { ret: ${bounds} }
`;

t.test('after: expands like setup: the ABI table, operands, isolate; $mem marks readback', async (t) => {
  const { cases, errors } = await load(TIME_CASE('{ min: $setup.0.ret, max: $after.0.ret, eq: $mem.t.u64 }'));
  t.same(errors, []);
  const by = Object.fromEntries(cases.map((c) => [c.case.abi, c.case]));
  // time: x86_64 201, i386 13, x32 201 | __X32_SYSCALL_BIT (arch/x86/entry/syscalls/*.tbl).
  t.equal(by.x86_64!.after![0]!.nr, 201n);
  t.equal(by.i386!.after![0]!.nr, 13n);
  t.equal(by.x32!.after![0]!.nr, 0x400000c9n);
  t.same(by.x86_64!.after![0]!.args, [{ lit: 0n }]);
  for (const c of cases) {
    t.equal(c.case.isolate, true, `${c.case.abi}: after-calls isolate the case`);
    t.equal(c.case.memory.find((r) => r.name === 't')!.readback, true, '$mem.t makes the case read t back');
  }
});

t.test('the loader refuses wrong result symbols and views at file:line:col', async (t) => {
  const one = async (bounds: string, want: RegExp, what: string) => {
    const { errors } = await load(TIME_CASE(bounds), '[x86_64]');
    t.equal(errors.length, 1, what);
    t.match(errors[0] ?? '', /s\d+\.yaml:\d+:\d+: error: /, `${what}: file:line:col`);
    t.match(errors[0] ?? '', want, what);
  };
  await one('$setup.1.ret', /the case's setup: list has 1 call \(0\.\.0\)/, 'index past the list');
  await one('$after.0', /must be \$after\.N\.ret/, 'no .ret');
  await one('$mem.nope.u32', /names no memory region "nope"/, 'unknown region');
  await one('$mem.t.u16', /must be \$mem\.NAME\.u32/, 'unknown view');
  const noAfter = await load(`  - name: x
    call: getpid
    expect: { ret: $after.0.ret }
`, '[x86_64]');
  t.match(noAfter.errors[0] ?? '', /has no after: list/, 'a case without after:');
  const tooBig = await load(`  - name: x
    memory: { t: { size: 8 } }
    call: getpid
    expect: { memory: { t: { timespec: 0 } } }
`, '[x86_64]');
  t.match(tooBig.errors[0] ?? '', /memory\.t\.timespec reads 16 bytes, but region t has 8/, 'a view larger than its region');
  const exec = await load(`  - name: x
    entry: exec
    after: [ { call: getpid } ]
    expect: { outcome: returned }
`, '[x86_64]');
  t.ok(exec.errors.some((e) => /after: an exec case/.test(e)), 'exec has nothing to run after');
});

t.test('readView: little-endian words; timespec/timeval in the ABI layout', async (t) => {
  // tv_sec 2, tv_nsec 5 as two s64 (x86_64, x32) and as two s32 (i386 old_timespec32).
  const wide = Buffer.alloc(16); wide.writeBigInt64LE(2n, 0); wide.writeBigInt64LE(5n, 8);
  const narrow = Buffer.alloc(8); narrow.writeInt32LE(2, 0); narrow.writeInt32LE(5, 4);
  t.equal(readView(wide.toString('hex'), { view: 'timespec', index: 0 }, 'x86_64'), 2_000_000_005n);
  t.equal(readView(wide.toString('hex'), { view: 'timeval', index: 0 }, 'x32'), 2_000_005n);
  t.equal(readView(narrow.toString('hex'), { view: 'timespec', index: 0 }, 'i386'), 2_000_000_005n);
  t.equal(readView(narrow.toString('hex'), { view: 'timespec', index: 0 }, 'x86_64'), undefined, '8 bytes are too short for a 64-bit timespec');
  t.equal(readView('0100000002000000', { view: 'u32', index: 1 }, 'x86_64'), 2n);
});

t.test('check(): bounds from other calls pass, fail and go missing', async (t) => {
  const { cases } = await load(TIME_CASE('{ min: $setup.0.ret, max: $after.0.ret, eq: $mem.t.u64 }'), '[x86_64]');
  const ec = cases[0]!;
  const obs = (ret: bigint, extra: Partial<Observation>): Observation => ({
    id: ec.case.id, outcome: 'returned', before: {}, after: { rax: ret }, env: {},
    memory: { t: Buffer.from(ret.toString(16).padStart(16, '0'), 'hex').reverse().toString('hex') }, ...extra,
  });
  t.equal(check(ec, obs(1000n, { setup_ret: [999n], after_ret: [1000n] }), 'x').status, 'pass');
  const late = check(ec, obs(1001n, { setup_ret: [999n], after_ret: [1000n] }), 'x');
  t.equal(late.status, 'fail', 'a value after the second reading fails');
  t.match(JSON.stringify(late.diffs), /\$after\.0\.ret/);
  t.equal(check(ec, obs(998n, { setup_ret: [999n], after_ret: [1000n] }), 'x').status, 'fail', 'before the first reading fails');
  const stored = obs(1000n, { setup_ret: [999n], after_ret: [1000n] });
  stored.memory = { t: '0000000000000000' };
  t.equal(check(ec, stored, 'x').status, 'fail', 'a return that differs from the stored value fails');
  const missing = check(ec, obs(1000n, { setup_ret: [999n] }), 'x');
  t.equal(missing.status, 'error', 'no after_ret reported is a target defect, not a pass');
});

t.test('typed memory expectations compare words and timespecs', async (t) => {
  const { cases, errors } = await load(`  - name: x
    memory: { a: { size: 16 }, b: { size: 16 } }
    call: getpid
    expect: { memory: { a: { u32: [7, $mem.b.u32.1] }, b: { timespec: { min: $mem.a.timespec } } } }
`, '[x86_64]');
  t.same(errors, []);
  const ec = cases[0]!;
  const mk = (a: string, b: string): Observation => ({ id: ec.case.id, outcome: 'returned', before: {}, after: {}, env: {}, memory: { a, b } });
  // a = {7, 9, ...}; b's second u32 is 9 too; b's tv_sec (0x9000000ff) is after a's (0x900000007).
  const a = '07000000' + '09000000' + '0000000000000000';
  const b = 'ff000000' + '09000000' + '0000000000000000';
  t.equal(check(ec, mk(a, b), 'x').status, 'pass');
  const bad = check(ec, mk('08000000' + a.slice(8), b), 'x');
  t.equal(bad.status, 'fail');
  t.same(bad.diffs.map((d) => d.field), ['memory.a.u32[0]']);
  t.equal(check(ec, mk(a, '00'.repeat(16)), 'x').status, 'fail', "b's timespec before a's fails");
});

t.test('encodeCase: after / afterarg lines mirror setup / setarg', async (t) => {
  const { cases } = await load(TIME_CASE('{ min: $setup.0.ret }'), '[x86_64]');
  const lines = encodeCase(cases[0]!.case).split('\n');
  t.ok(lines.includes('setup 0 0xc9 time 0 1'));
  const at = lines.indexOf('after 0 0xc9 time 0 1');
  t.ok(at > 0, 'the after line: number, name, must succeed, 1 argument');
  t.equal(lines[at + 1], 'afterarg 0 0 lit - 0x0 0x0 0x0');
});

t.test('sim: after-calls run through the entry path and report their results', async (t) => {
  const { cases } = await load(TIME_CASE('{ min: $setup.0.ret, max: $after.0.ret }'));
  for (const ec of cases.filter((c) => c.case.abi !== 'x32')) {
    const o = runCase(ec.case, getProfile('linux-7.0-intel'), { now: 1_700_000_000_999_999_999n });
    t.equal(o.outcome, 'returned', `${ec.case.abi}: ${o.reason ?? ''}`);
    t.equal(o.setup_ret?.length, 1);
    t.equal(o.after_ret?.length, 1);
    // The virtual clock advances on every read; the second crosses into the next second.
    t.ok(o.setup_ret![0]! >= 1_700_000_000n && o.after_ret![0]! >= o.setup_ret![0]!, `${ec.case.abi}: readings ordered`);
    t.equal(o.after?.rax, o.after?.rax !== undefined ? BigInt.asUintN(ec.case.abi === 'i386' ? 32 : 64, o.after.rax) : undefined);
    t.equal(check(ec, o, 'sim').status, 'pass', `${ec.case.abi}: the spec passes`);
  }
  // A failing after-call makes the case an error with the shared message.
  const { cases: bad } = await load(`  - name: bad
    call: getpid
    after: [ { call: close, args: [-1] } ]
    expect: { ret: $pid }
`, '[x86_64]');
  const o = runCase(bad[0]!.case, getProfile('linux-7.0-intel'));
  t.equal(o.outcome, 'error');
  t.equal(o.reason, 'after-call 1 (close) returned -EBADF');
  // expect_errno inverts it, and the call's own registers stay the observation's.
  const { cases: inv } = await load(`  - name: inv
    call: getpid
    after: [ { call: close, args: [-1], expect_errno: EBADF } ]
    expect: { ret: $pid, rcx: $next_ip }
`, '[x86_64]');
  const oi = runCase(inv[0]!.case, getProfile('linux-7.0-intel'));
  t.equal(oi.after_ret?.[0], BigInt.asUintN(64, -BigInt(ERRNO.EBADF)));
  t.equal(check(inv[0]!, oi, 'sim').status, 'pass', 'rax/rcx are the call under test\'s, not the after-call\'s');
});

t.test('native: result symbols compare the real kernel\'s calls', { skip: nativeSkip('x86_64') }, async (t) => {
  const good = await load(TIME_CASE('{ min: $setup.0.ret, max: $after.0.ret, eq: $mem.t.u64 }'), '[x86_64]');
  // A bound that cannot hold: the vDSO's time at least one second before the first syscall's.
  const wrong = await load(TIME_CASE('{ max: $setup.0.ret - 1 }'), '[x86_64]');
  const target = createNativeTarget({ probeDir: PROBE_DIR });
  const [og, ow] = await target.run([good.cases[0]!.case, wrong.cases[0]!.case]);
  t.equal(og!.outcome, 'returned', og!.reason ?? '');
  t.equal(og!.setup_ret?.length, 1, 'the probe reports the set-up call\'s result');
  t.equal(og!.after_ret?.length, 1, 'and the after-call\'s');
  t.equal(check(good.cases[0]!, og!, 'native').status, 'pass');
  t.equal(check(wrong.cases[0]!, ow!, 'native').status, 'fail', 'a wrong bound fails on the real kernel');
  const bad = await load(`  - name: bad
    call: getpid
    after: [ { call: close, args: [-1] } ]
    expect: { ret: $pid }
`, '[x86_64]');
  const [ob] = await target.run([bad.cases[0]!.case]);
  t.equal(ob!.outcome, 'error');
  t.equal(ob!.reason, 'after-call 1 (close) returned -EBADF');
});
