// Merging results.json documents (harness/merge.ts) and rewriting an expectation file from a
// run (harness/commands/expectations.ts): counts recomputed, conflicts refused, reasons kept.

import t from 'tap';
import type { Result, Status } from '../../harness/contracts.js';
import { mergeResults, type ResultsDoc } from '../../harness/merge.js';
import { updateExpectationsText, UNEXPLAINED } from '../../harness/commands/expectations.js';

const r = (slug: string, status: Status, target = 'qemu'): Result => ({ caseId: `entry.a/${slug}@x86_64`, specId: 'entry.a', abi: 'x86_64', target, status, reason: `${status} because`, diffs: [] });
const doc = (id: string, results: Result[], unused: string[] = []): ResultsDoc => ({
  format: 'sysabi-results', formatVersion: 1, run: { id, started: `2025-01-0${id}T00:00:00Z`, argv: [], host: {}, sysabi: '0' },
  targets: [{ name: 'qemu', available: true, version: '7.2', expectationsFile: null, unusedExpectations: unused.map((c) => ({ case: c, file: 'f', line: 1 })), counts: { pass: 0, fail: 0, skip: 0, xfail: 0, xpass: 0, error: 0 }, durationMs: 5 }],
  specs: {}, results,
});

t.test('merging shards', async (t) => {
  const m = mergeResults([doc('1', [r('a', 'pass'), r('b', 'fail')], ['x', 'y']), doc('2', [r('c', 'xfail')], ['y'])]);
  t.equal(m.results.length, 3);
  t.same(m.targets[0]!.counts, { pass: 1, fail: 1, skip: 0, xfail: 1, xpass: 0, error: 0 });
  t.same(m.targets[0]!.unusedExpectations.map((u) => u.case), ['y'], 'unused only if no shard used it');
  t.equal(m.targets[0]!.durationMs, 10);
  t.throws(() => mergeResults([doc('1', [r('a', 'pass')]), doc('2', [r('a', 'fail')])]), /disagree on 1 case/);
});

t.test('expectations update keeps reasons, adds new failures, drops fixed ones', async (t) => {
  const old = `expectations:\n  - case: entry.a/b@x86_64\n    expect: fail\n    reason: qemu does X\n    link: https://example.invalid/1\n  - case: entry.a/fixed@x86_64\n    expect: fail\n    reason: was broken\n`;
  const res = updateExpectationsText(old, doc('1', [r('a', 'pass'), r('b', 'xfail'), r('new', 'fail'), r('fixed', 'pass')]), 'qemu');
  t.equal(res.kept, 1);
  t.equal(res.added, 1);
  t.same(res.removed, ['entry.a/fixed@x86_64']);
  t.match(res.text, /reason: qemu does X\n\s+link: https:\/\/example.invalid\/1/);
  t.match(res.text, `reason: "${UNEXPLAINED} fail because"`);
  t.notMatch(res.text, /fixed@/);
  t.throws(() => updateExpectationsText(undefined, doc('1', []), 'valgrind'), /target "valgrind" is not in the results/);
});
