// RG-06 cost on the native target (probes/contend.c): one isolated case with and without
// contention, and per round of nanosleep(1 µs) + compat push/pop. Run:
//   node --import tsx bench/contend.bench.ts
import { performance } from 'node:perf_hooks';
import { createNativeTarget } from '../harness/targets/native.js';
import { mkCase, nativeSkip, PROBE_DIR } from '../test/native/helpers.js';

const why = nativeSkip('x86_64');
if (why) { console.log(`skip: ${why}`); process.exit(0); }
const target = createNativeTarget({ probeDir: PROBE_DIR });
const ts = { name: 'ts', size: 16, hex: '0000000000000000e803000000000000', fill: 0, prot: 'rw' as const, place: 'anywhere' as const, readback: false };
const sleepCase = (rounds?: number) => mkCase({ call: 'nanosleep', regs: { rdi: { ref: 'buf', name: 'ts' }, rsi: { lit: 0n } }, memory: [ts], isolate: true, compatStack: 0x5a5a1234n, ...(rounds ? { contend: { repeat: rounds } } : {}) });
async function time(label: string, mk: () => ReturnType<typeof sleepCase>, n: number): Promise<number> {
  await target.run([mk()]); // warm-up
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const [o] = await target.run([mk()]);
    if (o!.outcome !== 'returned') throw new Error(`${label}: ${o!.outcome} ${o!.reason ?? ''}`);
  }
  const ms = (performance.now() - t0) / n;
  console.log(`${label}: ${ms.toFixed(2)} ms/case`);
  return ms;
}
const base = await time('isolated nanosleep + compat_stack, no contention', () => sleepCase(), 10);
const c300 = await time('same, contend 300 rounds', () => sleepCase(300), 5);
console.log(`per contended round: ${((c300 - base) / 299 * 1000).toFixed(1)} µs`);
await target.close?.();
