// Case.observe cost (probes/maps.c, sim/kernel/auxv.ts): a getpid natively in-process with and
// without `observe auxv,maps` (the maps file is opened, read and parsed after the call), and
// the same on the simulator per case. Run:
//   node --import tsx bench/maps.bench.ts
import { performance } from 'node:perf_hooks';
import { createNativeTarget } from '../harness/targets/native.js';
import type { Case, ObserveWhat } from '../harness/contracts.js';
import { runCase } from '../sim/kernel/run.js';
import { getProfile } from '../sim/profiles.js';
import { mkCase, nativeSkip, PROBE_DIR } from '../test/native/helpers.js';

const mk = (observe?: ObserveWhat[]): Case => mkCase({ call: 'getpid', ...(observe ? { observe } : {}) });
const VARIANTS = [['getpid', undefined], ['getpid + observe auxv', ['auxv']], ['getpid + observe auxv,maps', ['auxv', 'maps']]] as const;

const P = getProfile('linux-7.0-intel');
for (const [, o] of VARIANTS) for (let i = 0; i < 2000; i++) runCase(mk(o as ObserveWhat[] | undefined), P);
for (const [label, o] of VARIANTS) {
  const c = mk(o as ObserveWhat[] | undefined);
  const n = 3000;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) runCase(c, P);
  console.log(`sim ${label}: ${((performance.now() - t0) / n * 1000).toFixed(1)} µs/case`);
}

const why = nativeSkip('x86_64');
if (why) { console.log(`native skip: ${why}`); process.exit(0); }
const target = createNativeTarget({ probeDir: PROBE_DIR });
for (const [label, o] of VARIANTS) {
  const obs = (n: number) => target.run(Array.from({ length: n }, () => mk(o as ObserveWhat[] | undefined)));
  await obs(50);
  const n = 1000;
  const t0 = performance.now();
  const r = await obs(n);
  const ms = performance.now() - t0;
  if (r.some((x) => x.outcome !== 'returned')) throw new Error(`${label}: a case did not return`);
  console.log(`native ${label}: ${(ms / n * 1000).toFixed(1)} µs/case (${n} cases in one batch)`);
}
await target.close?.();
