// Speed of sysabi fuzz (harness/fuzz.ts): cases per second for generation alone, for
// generation + loading + the simulator (sim:host), and end to end against the native probes
// (native vs sim:host, comparison included), with the session-2 feature templates on and off.
// Run: node --import tsx bench/fuzz.bench.ts
import { ABIS } from '../abi/constants.js';
import { expandText, generateCase, runFuzz, runSpecText, type FuzzFeature, type FuzzSide } from '../harness/fuzz.js';
import { createTarget, parseTargetSpec } from '../harness/targets/registry.js';
import '../harness/targets/emulators.js';

const ENTRIES = ['syscall', 'int80'] as const;
const N = 4000;
const ctx = { simProfile: 'host', cwd: process.cwd() };
const side = async (t: string): Promise<FuzzSide> => {
  const c = await createTarget(parseTargetSpec(t, ctx), ctx);
  if (!c.ok) throw new Error(`bench: target ${t} is not available: ${c.reason}`);
  return { name: c.name, target: c.target, info: await c.target.describe() };
};
const rate = (n: number, t0: bigint) => (n / (Number(process.hrtime.bigint() - t0) / 1e9)).toFixed(0);

const sim = await side('sim');
for (const [label, features] of [['features on', undefined], ['features off', [] as FuzzFeature[]]] as const) {
  for (const abi of ['x86_64', 'i386'] as const) {
    let t0 = process.hrtime.bigint();
    const cases = Array.from({ length: N }, (_, i) => generateCase('9', abi, i, ENTRIES, features)!);
    const gen = rate(N, t0);
    t0 = process.hrtime.bigint();
    const ecs = expandText('<bench>', runSpecText('fuzz.bench', cases.map((c) => ({ name: `c${c.index}`, abi, body: c.body }))));
    await sim.target.run(ecs.map((e) => e.case));
    console.log(`${label} ${abi}: generate ${gen} cases/s; load + sim:host ${rate(N, t0)} cases/s`);
  }
}
// End to end: both sides, comparison, no findings expected (max-findings 0 keeps minimising out).
const native = await side('native');
for (const [label, features] of [['features on', undefined], ['features off', [] as FuzzFeature[]]] as const) {
  const t0 = process.hrtime.bigint();
  const rep = await runFuzz([native, sim], { seed: '9', count: N, abis: ABIS.filter((a) => a !== 'x32'), entries: [...ENTRIES], features, maxFindings: 0 });
  const n = rep.stats.reduce((s, x) => s + x.generated, 0);
  console.log(`${label}: native vs sim:host end to end ${rate(n, t0)} cases/s (${n} cases, ${rep.stats.reduce((s, x) => s + x.differing, 0)} disagreeing)`);
}
await native.target.close?.();
await sim.target.close?.();
