// Case.before cost (probes/before.c, sim/kernel/before.ts): an isolated getpid natively with and
// without FSGSBASE instructions before it (the page is generated per case in the forked child),
// and the same on the simulator per case. Run:
//   node --import tsx bench/before.bench.ts
import { performance } from 'node:perf_hooks';
import { createNativeTarget } from '../harness/targets/native.js';
import type { BeforeInsn, Case } from '../harness/contracts.js';
import { runCase } from '../sim/kernel/run.js';
import { getProfile } from '../sim/profiles.js';
import { mkCase, nativeSkip, PROBE_DIR } from '../test/native/helpers.js';

const FOUR: BeforeInsn[] = [
  { insn: 'wrgsbase', value: 0x200000000n }, { insn: 'rdgsbase', reg: 'rbx' },
  { insn: 'wrgsbase', reg: 'rbx' }, { insn: 'rdgsbase', reg: 'r12' },
];
const mk = (before?: BeforeInsn[]): Case => {
  const c = mkCase({ call: 'getpid', isolate: true, ...(before ? { before } : {}) });
  return { ...c, regs: { rax: { lit: c.nr } } };
};

// Simulator: per case, with and without the four instructions.
const P = getProfile('linux-7.0-intel');
const SIM = [['sim isolated getpid', undefined], ['sim same + 4 FSGSBASE instructions', FOUR]] as const;
// Warm both paths first: whichever ran first otherwise pays the JIT's warm-up.
for (const [, b] of SIM) for (let i = 0; i < 2000; i++) runCase(mk(b as BeforeInsn[] | undefined), P);
for (const [label, b] of SIM) {
  const c = mk(b as BeforeInsn[] | undefined);
  const n = 3000;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) runCase(c, P);
  console.log(`${label}: ${((performance.now() - t0) / n * 1000).toFixed(1)} µs/case`);
}

const why = nativeSkip('x86_64');
if (why) { console.log(`native skip: ${why}`); process.exit(0); }
const target = createNativeTarget({ probeDir: PROBE_DIR });
async function time(label: string, b: BeforeInsn[] | undefined, n: number): Promise<void> {
  await target.run([mk(b)]);
  const t0 = performance.now();
  const obs = await target.run(Array.from({ length: n }, () => mk(b)));
  for (const o of obs) if (o.outcome !== 'returned') throw new Error(`${label}: ${o.outcome} ${o.reason ?? ''}`);
  console.log(`${label}: ${((performance.now() - t0) / n).toFixed(3)} ms/case`);
}
await time('native isolated getpid', undefined, 200);
await time('native same + 4 FSGSBASE instructions', FOUR, 200);
await target.close?.();
