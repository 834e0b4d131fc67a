// Cost of the simulator's task-switching model (sim/kernel/sched.ts): one RG-06 case of 300
// contended nanosleep rounds with the compat push/pop after each, and, for scale, the same
// case alone on its CPU and a plain getpid. Run: node --import tsx bench/sched.bench.ts
import { runCase } from '../sim/kernel/run.js';
import { getProfile } from '../sim/profiles.js';
import type { Case } from '../harness/contracts.js';
import { median } from './lib.js';

const base: Case = {
  id: 'bench/sched@x86_64', spec: 'bench', abi: 'x86_64', entry: 'syscall', code: '64', nr: 35n,
  regs: { rax: { lit: 35n }, rdi: { ref: 'buf', name: 'ts' }, rsi: { lit: 0n } },
  rflags: 0x202n, flags: [], fds: [], signals: { actions: {}, blocked: [] },
  memory: [{ name: 'ts', size: 16, hex: '0000000000000000e803000000000000', fill: 0, prot: 'rw', place: 'anywhere', readback: false }],
  isolate: true, timeoutMs: 20000,
};
const variants: [string, Case][] = [
  ['RG-06 case: contend 300 + compat_stack', { ...base, contend: { repeat: 300 }, compatStack: 0x5a5a1234n }],
  ['one nanosleep, idle CPU', base],
  ['getpid', { ...base, nr: 39n, regs: { rax: { lit: 39n } }, memory: [] }],
];


for (const prof of ['linux-7.0-amd', 'linux-4.0-amd']) {
  const p = getProfile(prof);
  for (const [name, c] of variants) {
    for (let i = 0; i < 20; i++) runCase(c, p); // warm-up
    const rounds: number[] = [];
    for (let r = 0; r < 7; r++) {
      const n = 50;
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < n; i++) runCase(c, p);
      rounds.push(Number(process.hrtime.bigint() - t0) / n / 1000);
    }
    const o = runCase(c, p);
    console.log(`${prof.padEnd(14)} ${name.padEnd(42)} ${median(rounds).toFixed(1).padStart(8)} µs/case  (outcome ${o.outcome})`);
  }
}
