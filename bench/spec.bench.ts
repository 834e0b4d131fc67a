// Speed of the spec side of the harness: loading + validating + expanding the whole specs/
// tree (what `sysabi lint` and every run pay up front), and check() per case against a
// fabricated passing Observation. Run: node --import tsx bench/spec.bench.ts

import { loadSpecs } from '../harness/spec/load.js';
import { expandSpec, type ExpandedCase } from '../harness/spec/expand.js';
import { check } from '../harness/check.js';
import type { Observation } from '../harness/contracts.js';
import { median } from './lib.js';


const tImport = performance.now();
let r = await loadSpecs(['specs']);
const first = performance.now() - tImport;
if (r.errors.length) console.log(`# note: ${r.errors.length} spec errors in the tree (others' work in progress)`);

const loads: number[] = [];
for (let i = 0; i < 5; i++) {
  const t0 = performance.now();
  r = await loadSpecs(['specs']);
  loads.push(performance.now() - t0);
}
let cases: ExpandedCase[] = [];
const exps: number[] = [];
for (let i = 0; i < 5; i++) {
  const t0 = performance.now();
  cases = r.specs.flatMap((s) => expandSpec(s));
  exps.push(performance.now() - t0);
}

// A passing-shaped Observation: every register the same before and after, env filled in.
const regs = Object.fromEntries(['rax', 'rbx', 'rcx', 'rdx', 'rsi', 'rdi', 'rbp', 'rsp', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15', 'rflags', 'cs', 'ss'].map((k, i) => [k, BigInt(i)]));
const obs = (c: ExpandedCase): Observation => ({ id: c.case.id, outcome: 'returned', before: regs, after: regs, env: { pid: 1n, tid: 1n, next_ip: 2n } });
const observations = cases.map(obs);
const N = 20;
const checks: number[] = [];
for (let i = 0; i < 5; i++) {
  const t0 = performance.now();
  for (let k = 0; k < N; k++) for (let j = 0; j < cases.length; j++) check(cases[j]!, observations[j]!, 'bench');
  checks.push((performance.now() - t0) / (N * cases.length));
}

console.log(`specs: ${r.specs.length} files, ${cases.length} cases`);
console.log(`first loadSpecs (cold, incl. module warm-up): ${first.toFixed(1)} ms`);
console.log(`loadSpecs(specs/) warm, median of 5: ${median(loads).toFixed(1)} ms (${(median(loads) / Math.max(1, r.specs.length)).toFixed(2)} ms/file)`);
console.log(`expandSpec all, median of 5: ${median(exps).toFixed(1)} ms (${((median(exps) * 1000) / Math.max(1, cases.length)).toFixed(1)} µs/case)`);
console.log(`check() per case, median of 5: ${(median(checks) * 1000).toFixed(2)} µs`);
