// Benchmark of ftrace syscall events (issue 7): the simulator's cost of tracing a call, the
// trace parser, and (as root with tracefs) one native capture: instance set-up, a probe run
// and the read-back. Run: node --import tsx bench/ftrace.bench.ts
import { performance } from 'node:perf_hooks';
import { runCase } from '../sim/kernel/run.js';
import { getProfile } from '../sim/profiles.js';
import { parseTrace } from '../harness/ftrace/parse.js';
import { locateTracefs } from '../harness/ftrace/tracefs.js';
import { createNativeTarget } from '../harness/targets/native.js';
import type { Case } from '../harness/contracts.js';

const P = getProfile('linux-7.0-intel');
const base: Case = {
  id: 'bench/pread64@x86_64', spec: 'bench', abi: 'x86_64', entry: 'syscall', code: '64', nr: 39n,
  regs: { rax: { lit: 39n } }, rflags: 0x202n, flags: [], memory: [], fds: [], signals: { actions: {}, blocked: [] },
  isolate: true, timeoutMs: 5000,
};

function bestOf(rounds: number, n: number, f: () => void): number {
  let best = Infinity;
  for (let r = 0; r < rounds; r++) {
    const t0 = performance.now();
    for (let i = 0; i < n; i++) f();
    best = Math.min(best, (performance.now() - t0) / n);
  }
  return best;
}

const plain = bestOf(5, 2000, () => runCase(base, P));
const traced = bestOf(5, 2000, () => runCase({ ...base, ftrace: true }, P));
console.log(`sim getpid: ${(plain * 1000).toFixed(1)} µs/case plain, ${(traced * 1000).toFixed(1)} µs/case with ftrace`);

const line = (i: number) => `           probe-${i}   [001] .....  100.${String(i).padStart(6, '0')}: sys_pread64(fd: 3, buf: 0x7f0000001000, count: 7, pos: 9)\n` +
  `           probe-${i}   [001] .....  100.${String(i).padStart(6, '0')}: <user stack trace>\n =>  <0000000000401234>\n`;
const text = Array.from({ length: 1000 }, (_, i) => line(i)).join('');
const parse = bestOf(5, 20, () => parseTrace(text));
console.log(`parseTrace: ${(parse * 1000 / 1000).toFixed(2)} µs/record (1000 records with user stacks)`);

const st = locateTracefs();
if (!st.ok) console.log(`native capture: SKIP (${st.reason})`);
else {
  const nat = createNativeTarget();
  await nat.describe();
  const n = 20;
  for (const ftrace of [false, true]) {
    let best = Infinity;
    for (let r = 0; r < 3; r++) {
      const cases = Array.from({ length: n }, (_, i) => ({ ...base, id: `bench/${i}@x86_64`, ...(ftrace ? { ftrace: true } : {}) }));
      const t0 = performance.now();
      const obs = await nat.run(cases);
      best = Math.min(best, (performance.now() - t0) / n);
      if (obs.some((o) => o.outcome !== 'returned')) throw new Error(`native: ${obs.find((o) => o.outcome !== 'returned')!.reason}`);
    }
    console.log(`native isolated getpid ${ftrace ? 'with ftrace capture' : 'without capture'}: ${best.toFixed(2)} ms/case (best of 3 × ${n})`);
  }
}
