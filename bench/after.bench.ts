// Case.after cost (probes/setup.c after-calls, sim/kernel/run.ts runAfter): an isolated
// __vdso_time natively and on the simulator, plain, with a set-up time syscall, and with a
// set-up plus an after-call (the shape of specs/vdso/time-between-syscalls.yaml), and what
// check() pays to resolve the result symbols. Run:
//   node --import tsx bench/after.bench.ts
import { performance } from 'node:perf_hooks';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Case } from '../harness/contracts.js';
import { check } from '../harness/check.js';
import { loadSpecs } from '../harness/spec/load.js';
import { expandSpec } from '../harness/spec/expand.js';
import { createNativeTarget } from '../harness/targets/native.js';
import { runCase } from '../sim/kernel/run.js';
import { getProfile } from '../sim/profiles.js';
import { nativeSkip, PROBE_DIR } from '../test/native/helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'sysabi-after-bench-'));
const f = join(dir, 'b.yaml');
const one = (name: string, extra: string) => `  - name: ${name}
    isolate: true
    memory: { t: { size: 8, fill: 0xff } }
    entry: vdso_fn
    symbol: __vdso_time
    args: [buf:t]
${extra}`;
writeFileSync(f, `id: bench.after
title: t
description: t
refs: [{kernel: lib/vdso/gettimeofday.c}]
tags: [vdso]
abi: [x86_64]
cases:
${one('plain', '    expect: { ret: { min: 1 } }\n')}
${one('setup', '    setup: [ { call: time, args: [0] } ]\n    expect: { ret: { min: $setup.0.ret } }\n')}
${one('setup+after', '    setup: [ { call: time, args: [0] } ]\n    after: [ { call: time, args: [0] } ]\n    expect: { ret: { min: $setup.0.ret, max: $after.0.ret, eq: $mem.t.u64 } }\n')}
`);
const { specs } = await loadSpecs([f]);
const ecs = expandSpec(specs[0]!);

const P = getProfile('linux-7.0-intel');
for (const ec of ecs) for (let i = 0; i < 500; i++) runCase(ec.case, P);
for (const ec of ecs) {
  const n = 3000;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) runCase(ec.case, P);
  const o = runCase(ec.case, P);
  const t1 = performance.now();
  for (let i = 0; i < n; i++) check(ec, o, 'sim');
  const t2 = performance.now();
  console.log(`sim __vdso_time, ${ec.name}: ${((t1 - t0) / n * 1000).toFixed(1)} µs/case; check ${((t2 - t1) / n * 1000).toFixed(1)} µs`);
}

const why = nativeSkip('x86_64');
if (why) { console.log(`native skip: ${why}`); process.exit(0); }
const target = createNativeTarget({ probeDir: PROBE_DIR });
for (const ec of ecs) {
  await target.run([ec.case]);
  const n = 200;
  const cases: Case[] = Array.from({ length: n }, () => ec.case);
  const t0 = performance.now();
  const obs = await target.run(cases);
  for (const o of obs) if (check(ec, o, 'native').status !== 'pass') throw new Error(`${ec.name}: ${o.outcome} ${o.reason ?? ''}`);
  console.log(`native isolated __vdso_time, ${ec.name}: ${((performance.now() - t0) / n).toFixed(3)} ms/case`);
}
await target.close?.();
