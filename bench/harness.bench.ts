// Benchmark of the harness around the targets: CLI start-up (`sysabi --version` from the
// compiled JS), loading + expanding the repository's specs, the runner's per-case overhead
// (with the in-process fake target, so only the harness is measured), and rendering each
// report format. Run: node --import tsx bench/harness.bench.ts  (figures: bench/RESULTS.md).

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Observation, Result } from '../harness/contracts.js';
import { renderJson } from '../harness/report/json.js';
import { renderJunit } from '../harness/report/junit.js';
import { renderKtap } from '../harness/report/ktap.js';
import { caseIndex } from '../harness/report/model.js';
import { renderTap } from '../harness/report/tap.js';
import { loadCases, runAll, type RunnableCase, type SpecApi } from '../harness/run.js';
import { createFakeTarget } from '../harness/targets/fake.js';

const ROOT = join(import.meta.dirname, '..');

/** Median of `rounds` timings of fn, in ms. */
async function median(rounds: number, fn: () => unknown): Promise<number> {
  const ts: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const t0 = performance.now();
    await fn();
    ts.push(performance.now() - t0);
  }
  return ts.sort((a, b) => a - b)[Math.floor(rounds / 2)]!;
}

const rows: [string, string][] = [];

// 1. CLI start-up from the compiled JS (what `npx sysabi --version` runs).
const cli = join(ROOT, 'dist/harness/cli.js');
if (existsSync(cli)) {
  const ms = await median(5, () => spawnSync(process.execPath, [cli, '--version']));
  const node = await median(5, () => spawnSync(process.execPath, ['-e', '0']));
  rows.push(['`sysabi --version` (node dist/harness/cli.js), whole process', `${ms.toFixed(0)} ms (bare \`node -e 0\`: ${node.toFixed(0)} ms)`]);
} else rows.push(['`sysabi --version`', 'skipped: run `make build` first']);

// 2. Loading and expanding every spec in specs/.
let cases: RunnableCase[] = [];
let specErrors = 0;
const loadMs = await median(3, async () => {
  const l = await loadCases([join(ROOT, 'specs')]);
  cases = l.cases;
  specErrors = l.errors.length;
});
rows.push([`load + validate + expand specs/ (${cases.length} cases${specErrors ? `, ${specErrors} spec errors` : ''})`, `${loadMs.toFixed(0)} ms`]);
// With spec errors nothing expands; measure the runner on synthetic cases instead.
if (!cases.length) cases = [synthetic(0), synthetic(1)];

function synthetic(i: number): RunnableCase {
  return {
    case: {
      id: `bench.synthetic/case-${i}@x86_64`, spec: 'bench.synthetic', abi: 'x86_64', entry: 'syscall', code: '64', nr: 39n,
      regs: {}, rflags: 0x202n, flags: [], memory: [], fds: [], signals: { actions: {}, blocked: [] }, isolate: false, timeoutMs: 5000,
    },
    requires: {},
    spec: { id: 'bench.synthetic', title: 'synthetic', refs: [{ kind: 'doc', text: 'bench' }], tags: ['smoke'], file: 'bench' },
    name: `case ${i}`,
    line: 1,
  };
}

// 3. Runner overhead per case: the fake target answers at once and the check is trivial.
const N = 20000;
const many: RunnableCase[] = Array.from({ length: N }, (_, i) => {
  const base = cases[i % Math.max(1, cases.length)];
  return base ? { ...base, case: { ...base.case, id: `${base.case.id}#${i}` } } : (undefined as never);
}).filter(Boolean);
const api: SpecApi = {
  unmetRequirement: () => null,
  check: (ec, obs: Observation, target): Result => ({ caseId: ec.case.id, specId: ec.spec.id, abi: ec.case.abi, target, status: 'pass', diffs: [], observation: obs }),
};
const noExp = mkdtempSync(join(tmpdir(), 'sysabi-bench-'));
let report = await runAll(many, { targets: [createFakeTarget()], api, expectationsDir: noExp });
const runMs = await median(3, async () => {
  report = await runAll(many, { targets: [createFakeTarget()], api, expectationsDir: noExp });
});
rows.push([`runner overhead, ${many.length} cases on the fake target (skip decisions, batching, check, expectations)`, `${((runMs * 1000) / many.length).toFixed(2)} µs/case`]);

// 4. Rendering each format for those results.
const input = { report, cases: caseIndex(many) };
for (const [name, f] of [['TAP 14', renderTap], ['KTAP', renderKtap], ['results.json', renderJson], ['junit.xml', renderJunit]] as const) {
  const ms = await median(3, () => f(input));
  rows.push([`render ${name} for ${many.length} results`, `${ms.toFixed(0)} ms (${((ms * 1000) / many.length).toFixed(1)} µs/result)`]);
}

console.log('| what | figure |\n|---|---|');
for (const [k, v] of rows) console.log(`| ${k} | ${v} |`);
