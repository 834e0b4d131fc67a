// Shared pieces of the benchmarks: the median they report, and the native per-case timing
// (batches of 100 copies of one case through one probe session).
import type { Case, Observation, Target } from '../harness/contracts.js';

/** The median (the upper one for an even count); NaN for no values. */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[s.length >> 1]! : NaN;
}

/**
 * Milliseconds per case for `c` on `target`: 100 copies per batch, one warm-up batch of 10,
 * median of 5 batches. Throws when an observation fails `ok` (the timing would be of
 * something else), naming the case and the observation's reason.
 */
export async function nativeMsPerCase(target: Target, name: string, c: Case, ok: (o: Observation) => boolean): Promise<number> {
  const batch = Array.from({ length: 100 }, (_, i) => ({ ...c, id: `${c.id}-${i}` }));
  await target.run(batch.slice(0, 10));
  const rounds: number[] = [];
  for (let r = 0; r < 5; r++) {
    const t0 = process.hrtime.bigint();
    const obs = await target.run(batch);
    rounds.push(Number(process.hrtime.bigint() - t0) / batch.length / 1e6);
    const bad = obs.find((o) => !ok(o));
    if (bad) throw new Error(`${name}: ${bad.outcome}: ${bad.reason ?? ''}`);
  }
  return median(rounds);
}
