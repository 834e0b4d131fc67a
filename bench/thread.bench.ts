// Case.thread cost (probes/thread.c, sim/kernel/thread.ts): an isolated getppid natively with and
// without a second thread making the call (clone, a futex handshake, a CLEARTID wait in the forked
// case process), with a filter inherited and with a TSYNC install after the clone; and the same
// on the simulator per case. Run:
//   node --import tsx bench/thread.bench.ts
import { performance } from 'node:perf_hooks';
import { createNativeTarget } from '../harness/targets/native.js';
import type { Case, SeccompSetup } from '../harness/contracts.js';
import { compileRules } from '../harness/seccomp/rules.js';
import { SECCOMP_FILTER_FLAG } from '../harness/seccomp/uapi.js';
import { runCase } from '../sim/kernel/run.js';
import { getProfile } from '../sim/profiles.js';
import { mkCase, nativeSkip, PROBE_DIR } from '../test/native/helpers.js';

const prog = compileRules([{ syscall: 'getppid', action: 'errno(EDOM)' }, { default: 'allow' }]);
const inherit: SeccompSetup = { mode: 'filter', filters: [prog] };
const tsync: SeccompSetup = { mode: 'filter', filters: [prog], opts: [{ flags: SECCOMP_FILTER_FLAG.TSYNC }] };
type Kind = 'plain' | 'filter' | 'thread+filter' | 'thread+tsync';
const mk = (k: Kind): Case => {
  const c = mkCase({ call: 'getppid', isolate: true });
  const base = { ...c, regs: { rax: { lit: c.nr } } };
  if (k === 'plain') return base;
  if (k === 'filter') return { ...base, seccomp: inherit };
  if (k === 'thread+filter') return { ...base, seccomp: inherit, thread: { mainSeccomp: 'before' } };
  return { ...base, seccomp: tsync, thread: { mainSeccomp: 'after' } };
};
const KINDS: Kind[] = ['plain', 'filter', 'thread+filter', 'thread+tsync'];

const P = getProfile('linux-7.0-intel');
// Warm every path first: whichever ran first otherwise pays the JIT's warm-up.
for (const k of KINDS) for (let i = 0; i < 1000; i++) runCase(mk(k), P);
for (const k of KINDS) {
  const c = mk(k);
  const n = 3000;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) runCase(c, P);
  console.log(`sim isolated getppid, ${k}: ${((performance.now() - t0) / n * 1000).toFixed(1)} µs/case`);
}

const why = nativeSkip('x86_64');
if (why) { console.log(`native skip: ${why}`); process.exit(0); }
const target = createNativeTarget({ probeDir: PROBE_DIR });
for (const k of KINDS) {
  await target.run([mk(k)]);
  const n = 200;
  const t0 = performance.now();
  const obs = await target.run(Array.from({ length: n }, () => mk(k)));
  for (const o of obs) if (o.outcome !== 'returned') throw new Error(`${k}: ${o.outcome} ${o.reason ?? ''}`);
  console.log(`native isolated getppid, ${k}: ${((performance.now() - t0) / n).toFixed(3)} ms/case`);
}
await target.close?.();
