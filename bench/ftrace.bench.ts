// Benchmark of ftrace syscall events (issue 7): the simulator's cost of tracing a call, the
// trace parser, and (as root with tracefs) native capture in one run, before and after:
// - before: the per-case shape (a fresh instance with every syscall event per case, its own
//   probe start, `trace` read, instance removed), rebuilt here from capture.ts withInstance;
// - after: the native target's run-wide instance (harness/ftrace/capture.ts openTraceRun): a
//   batch in one probe session, only the events the cases need, trace_pipe consumed.
// Run: node --import tsx bench/ftrace.bench.ts
import { performance } from 'node:perf_hooks';
import { runCase } from '../sim/kernel/run.js';
import { getProfile } from '../sim/profiles.js';
import { caseEvents, parseTrace } from '../harness/ftrace/parse.js';
import { withInstance } from '../harness/ftrace/capture.js';
import { probePath, defaultProbeDir, runProbeSession } from '../harness/targets/probe-runner.js';
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
  const mk = (n: number, ftrace: boolean, tag: string): Case[] =>
    Array.from({ length: n }, (_, i) => ({ ...base, id: `bench/${tag}${i}@x86_64`, ...(ftrace ? { ftrace: true } : {}) }));
  const ok = (obs: { outcome: string; reason?: string; events?: unknown[] }[], traced: boolean): void => {
    const bad = obs.find((o) => o.outcome !== 'returned' || (traced && (o.events?.length ?? 0) !== 2));
    if (bad) throw new Error(`native: ${bad.outcome} ${bad.reason ?? ''} (${bad.events?.length ?? 0} events)`);
  };

  const plainT = createNativeTarget();
  await plainT.describe();
  let best = Infinity;
  for (let r = 0; r < 3; r++) {
    const t0 = performance.now();
    const obs = await plainT.run(mk(20, false, 'p'));
    best = Math.min(best, (performance.now() - t0) / 20);
    ok(obs, false);
  }
  console.log(`native isolated getpid without capture: ${best.toFixed(2)} ms/case (best of 3 × 20)`);

  // Before: one instance, one probe start and one trace read per case.
  const probe = probePath(defaultProbeDir(), 'x86_64');
  best = Infinity;
  for (let r = 0; r < 2; r++) {
    const n = 8;
    const t0 = performance.now();
    for (const c of mk(n, true, 'b')) {
      const cap = await withInstance(st.dir, (inst) => runProbeSession(inst.wrap([probe]), [c]));
      const o = cap.value[0]!;
      ok([{ ...o, events: caseEvents(parseTrace(cap.text), Number(o.env.pid), o.env.next_ip) }], true);
    }
    best = Math.min(best, (performance.now() - t0) / n);
  }
  console.log(`before (instance per case, all events): ${best.toFixed(2)} ms/case (best of 2 × 8)`);

  // After: a fresh target per round; the first batch makes the instance, the second reuses it,
  // close() removes it.
  const n = 20;
  const first: number[] = [];
  const next: number[] = [];
  const close: number[] = [];
  for (let r = 0; r < 3; r++) {
    const nat = createNativeTarget();
    await nat.describe();
    let t0 = performance.now();
    ok(await nat.run(mk(n, true, 'a')), true);
    first.push(performance.now() - t0);
    t0 = performance.now();
    ok(await nat.run(mk(n, true, 'c')), true);
    next.push(performance.now() - t0);
    t0 = performance.now();
    await nat.close?.();
    close.push(performance.now() - t0);
  }
  const min = (a: number[]) => Math.min(...a);
  console.log(`after, first batch of ${n} (makes the instance): ${min(first).toFixed(1)} ms = ${(min(first) / n).toFixed(2)} ms/case`);
  console.log(`after, next batch of ${n} (instance reused): ${min(next).toFixed(1)} ms = ${(min(next) / n).toFixed(2)} ms/case`);
  console.log(`after, close() (instance removed): ${min(close).toFixed(1)} ms once per run`);
  console.log(`after, a run of 2 × ${n} cases all told: ${((min(first) + min(next) + min(close)) / (2 * n)).toFixed(2)} ms/case (best of 3 per part)`);
}
