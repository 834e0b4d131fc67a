// The runner with the fake target: SKIP decisions, batching per ABI, a misbehaving target
// turning into errors without stopping the run, and the expectation file's XFAIL/XPASS.

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { createFakeTarget } from '../../harness/targets/fake.js';
import { ExpectationFileErrors, countResults, runAll, runFailed, runOnTarget, type RunOptions } from '../../harness/run.js';
import { makeCase, returned, testApi, type TestCase } from './fixtures/cases.js';

const noExp = mkdtempSync(join(tmpdir(), 'sysabi-noexp-'));
const opts = (o: Partial<RunOptions<TestCase>> = {}): RunOptions<TestCase> => ({ targets: [], api: testApi, expectationsDir: noExp, ...o });

t.test('pass, fail and the per-case skips', async (t) => {
  const cases = [
    makeCase('a.b', 'ok', 'x86_64'),
    makeCase('a.b', 'bad', 'x86_64', { ret: 5n }),
    makeCase('a.b', 'ok', 'x32'),
    makeCase('a.b', 'amd-only', 'i386', { requires: { vendor: 'amd' } }),
    makeCase('a.c', 'not-here', 'i386', { skipReason: 'does not apply to i386' }),
    makeCase('a.c', 'wipes', 'x86_64', { requires: { destructive: true } }),
  ];
  const fake = createFakeTarget({ noAbi: { x32: 'x32 syscalls not configured' } });
  const tr = await runOnTarget(cases, fake, opts());
  const by = Object.fromEntries(tr.results.map((r) => [r.caseId, r]));
  t.equal(by['a.b/ok@x86_64']!.status, 'pass');
  t.equal(by['a.b/bad@x86_64']!.status, 'fail');
  t.match(by['a.b/bad@x86_64']!.reason, /expected 0x5, observed 0x0/);
  t.equal(by['a.b/ok@x32']!.status, 'skip');
  t.match(by['a.b/ok@x32']!.reason, /x32 not available on fake: x32 syscalls not configured/);
  t.equal(by['a.b/amd-only@i386']!.status, 'skip');
  t.match(by['a.b/amd-only@i386']!.reason, /needs a amd CPU/);
  t.equal(by['a.c/not-here@i386']!.reason, 'does not apply to i386');
  t.match(by['a.c/wipes@x86_64']!.reason, /--destructive/);
  t.same(tr.results.map((r) => r.caseId), cases.map((c) => c.case.id), 'results keep the case order');
  t.same(fake.batches, [['a.b/ok@x86_64', 'a.b/bad@x86_64']], 'skipped cases never reach the target');
  t.ok(fake.closed, 'the target is closed after its run');

  const destructive = await runOnTarget([cases[5]!], createFakeTarget(), opts({ destructive: true }));
  t.equal(destructive.results[0]!.status, 'pass', '--destructive runs it');
});

t.test('batches are per ABI and at most batchSize long', async (t) => {
  const cases = [...Array(5)].flatMap((_, i) => [makeCase('s.t', `c${i}`, 'x86_64'), makeCase('s.t', `c${i}`, 'i386')]);
  const fake = createFakeTarget();
  const tr = await runOnTarget(cases, fake, opts({ batchSize: 2, jobs: 3 }));
  t.equal(countResults(tr.results).pass, 10);
  t.equal(fake.batches.length, 6, '3 batches of ≤2 per ABI');
  for (const b of fake.batches) {
    t.ok(b.length <= 2);
    t.equal(new Set(b.map((id) => id.split('@')[1])).size, 1, `one ABI per batch: ${b.join(' ')}`);
  }
});

t.test('a target that throws or answers garbage yields errors; the run goes on', async (t) => {
  const cases = [makeCase('g.h', 'one', 'x86_64'), makeCase('g.h', 'two', 'i386'), makeCase('g.h', 'three', 'i386'), makeCase('g.h', 'four', 'i386')];
  const fake = createFakeTarget({
    script: (c) => {
      if (c.id === 'g.h/one@x86_64') return { throw: 'probe died: SIGKILL' };
      if (c.id === 'g.h/two@i386') return { garbage: { hello: 'world' } };
      if (c.id === 'g.h/three@i386') return { ...returned(0n), outcome: 'unsupported', reason: 'no vsyscall page' };
      return { ...returned(0n), outcome: 'error', reason: 'probe printed garbage' };
    },
  });
  const tr = await runOnTarget(cases, fake, opts());
  const st = tr.results.map((r) => `${r.status}: ${r.reason}`);
  t.match(st[0], /^error: target fake failed while running this batch: probe died: SIGKILL/);
  t.match(st[1], /^error: target answered an Observation for "undefined" where "g.h\/two@i386" was expected/);
  t.match(st[2], /^skip: fake cannot run this case: no vsyscall page/);
  t.match(st[3], /^error: fake could not run the case: probe printed garbage/);
});

t.test('a short answer marks the missing cases as errors', async (t) => {
  const cases = [makeCase('g.h', 'one', 'x86_64'), makeCase('g.h', 'two', 'x86_64')];
  const tr = await runOnTarget(cases, createFakeTarget({ dropLast: 1 }), opts());
  t.same(tr.results.map((r) => r.status), ['pass', 'error']);
  t.match(tr.results[1]!.reason, /answered nothing/);
});

t.test('a target whose describe() throws errors every case; a missing module skips', async (t) => {
  const cases = [makeCase('g.h', 'one', 'x86_64')];
  const broken = await runOnTarget(cases, createFakeTarget({ describeThrows: 'cannot read /proc/cpuinfo' }), opts());
  t.equal(broken.results[0]!.status, 'error');
  t.match(broken.unavailable, /describe\(\) failed: cannot read \/proc\/cpuinfo/);
  const missing = await runOnTarget(cases, 'module:/nonexistent/target.js', opts());
  t.equal(missing.name, 'module:/nonexistent/target.js');
  t.equal(missing.results[0]!.status, 'skip');
  t.match(missing.unavailable, /target not available/);
});

t.test('runAll: every target in turn, one failing does not hide the others', async (t) => {
  const cases = [makeCase('a.b', 'ok', 'x86_64')];
  const report = await runAll(cases, opts({ targets: [createFakeTarget({ name: 'one' }), createFakeTarget({ name: 'two', script: () => ({ throw: 'boom' }) })] }));
  t.same(report.targets.map((x) => [x.name, x.results[0]!.status]), [['one', 'pass'], ['two', 'error']]);
  t.ok(runFailed(report));
  t.match(report.info.id, /^\d{8}T\d{6}Z-\d{3}$/);
  t.equal(report.info.host.node, process.version);
});

function expDir(name: string, text: string): string {
  const d = mkdtempSync(join(tmpdir(), 'sysabi-exp-'));
  writeFileSync(join(d, name), text);
  return d;
}

t.test('expectation file: XFAIL, XPASS, skip entries, globs, unused entries', async (t) => {
  const cases = [
    makeCase('a.b', 'known-bad', 'x86_64', { ret: 1n }),
    makeCase('a.b', 'fixed-now', 'x86_64'),
    makeCase('a.b', 'glob-bad', 'i386', { ret: 2n }),
    makeCase('a.b', 'slow', 'x86_64'),
  ];
  const dir = expDir(
    'fake-emu.yaml',
    `expectations:
  - case: a.b/known-bad@x86_64
    expect: fail
    reason: emulator returns 0 here
    link: https://bugs.example/1
  - case: a.b/fixed-now@x86_64
    expect: fail
    reason: was broken in 1.0
  - case: "a.b/glob-*@i386"
    expect: fail
    reason: i386 is unfinished
  - case: a.b/slow@x86_64
    expect: skip
    reason: hangs the emulator
  - case: z.z/gone@x86_64
    expect: fail
    reason: a case that no longer exists
`,
  );
  const fake = createFakeTarget({ name: 'fake:emu' });
  const tr = await runOnTarget(cases, fake, opts({ expectationsDir: dir }));
  const st = Object.fromEntries(tr.results.map((r) => [r.caseId, r]));
  t.equal(st['a.b/known-bad@x86_64']!.status, 'xfail');
  t.match(st['a.b/known-bad@x86_64']!.reason, /emulator returns 0 here \(https:\/\/bugs.example\/1\) \[.*fake-emu.yaml:2\]/);
  t.equal(st['a.b/known-bad@x86_64']!.diffs[0]!.field, 'rax', 'the real difference is kept');
  t.equal(st['a.b/fixed-now@x86_64']!.status, 'xpass');
  t.match(st['a.b/fixed-now@x86_64']!.reason, /stale/);
  t.equal(st['a.b/glob-bad@i386']!.status, 'xfail');
  t.equal(st['a.b/slow@x86_64']!.status, 'skip');
  t.notOk(fake.batches.flat().includes('a.b/slow@x86_64'), 'an expected skip is not run');
  t.same(tr.unusedExpectations.map((u) => u.case), ['z.z/gone@x86_64']);
  t.match(tr.expectationsFile, /fake-emu\.yaml$/);
  t.ok(runFailed({ info: {} as never, targets: [tr] }), 'an XPASS fails the run');
});

t.test('expectation file: version-specific file wins; a bad file refuses the run', async (t) => {
  const d = mkdtempSync(join(tmpdir(), 'sysabi-exp-'));
  writeFileSync(join(d, 'fake.yaml'), '- { case: a.b/x@x86_64, expect: skip, reason: generic }\n');
  writeFileSync(join(d, 'fake-2.5.yaml'), '- { case: a.b/x@x86_64, expect: skip, reason: only 2.5 }\n');
  const tr = await runOnTarget([makeCase('a.b', 'x', 'x86_64')], createFakeTarget({ version: '2.5' }), opts({ expectationsDir: d }));
  t.match(tr.results[0]!.reason, /only 2\.5/);
  const bad = expDir('fake.yaml', '- case: a.b/x@x86_64\n  expect: maybe\n  reason: x\n');
  const e = await runOnTarget([makeCase('a.b', 'x', 'x86_64')], createFakeTarget(), opts({ expectationsDir: bad })).catch((x: unknown) => x);
  t.ok(e instanceof ExpectationFileErrors, 'refused with ExpectationFileErrors');
  t.match((e as Error).message, /fake\.yaml:2:11: 0\.expect: expected one of "fail", "skip"/);
});
