// What the simulator's TF-after-return path costs (sim/kernel/run.ts afterReturn: breakpoint,
// fetch, run, then the single step with DR6.BS): an isolated x86_64 getpid with TF, with and
// without an instruction breakpoint on the return address, against the plain call. Sim only:
// the native cost of a TF case is the probe's trampoline being single-stepped, not this model.
// Run: node --import tsx bench/tf-breakpoint.bench.ts
import { runCase } from '../sim/kernel/run.js';
import { getProfile } from '../sim/profiles.js';
import type { Case } from '../harness/contracts.js';
import { median } from './lib.js';

const plain: Case = {
  id: 'bench/tf@x86_64', spec: 'bench', abi: 'x86_64', entry: 'syscall', code: '64', nr: 39n,
  regs: { rax: { lit: 39n } }, rflags: 0x202n, flags: [], fds: [], memory: [],
  signals: { actions: {}, blocked: [] }, isolate: true, timeoutMs: 5000,
};
const tf: Case = { ...plain, rflags: 0x302n, flags: ['TF'] };
const tfBp: Case = { ...tf, breakpoint: { at: 'next_ip' } };


// Per-case time, median of 5 rounds of 2000 cases after 200 warm-up runs.
const prof = getProfile('linux-7.0-intel');
for (const [name, c] of [['sim getpid', plain], ['sim getpid + TF (IRET, one step)', tf], ['sim getpid + TF + breakpoint (SIGTRAP TRAP_PERF, no step)', tfBp]] as const) {
  for (let i = 0; i < 200; i++) runCase(c, prof);
  const rounds: number[] = [];
  for (let r = 0; r < 5; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < 2000; i++) runCase(c, prof);
    rounds.push(Number(process.hrtime.bigint() - t0) / 2000 / 1000);
  }
  console.log(`${name}: ${median(rounds).toFixed(1)} µs per case`);
}
