// What a hardware-breakpoint case (RT-04, Case.breakpoint) costs: natively the probe's
// perf_event_open + close around the call in a forked child, against the same isolated getpid
// without it; in the simulator the breakpoint check on the way back to user mode.
// Run: node --import tsx bench/rt04.bench.ts
import { runCase } from '../sim/kernel/run.js';
import { getProfile } from '../sim/profiles.js';
import { createNativeTarget } from '../harness/targets/native.js';
import { defaultProbeDir } from '../harness/targets/probe-runner.js';
import type { Case } from '../harness/contracts.js';
import { median, nativeMsPerCase } from './lib.js';

const plain: Case = {
  id: 'bench/rt04@x86_64', spec: 'bench', abi: 'x86_64', entry: 'syscall', code: '64', nr: 39n,
  regs: { rax: { lit: 39n } }, rflags: 0x202n, flags: [], fds: [], memory: [],
  signals: { actions: {}, blocked: [] }, isolate: true, timeoutMs: 5000,
};
const bp: Case = { ...plain, breakpoint: { at: 'next_ip' } };


// Simulator: per-case time, median of 5 rounds of 2000 cases.
const prof = getProfile('linux-7.0-intel');
for (const [name, c] of [['sim getpid (isolated)', plain], ['sim getpid + breakpoint (SIGTRAP)', bp]] as const) {
  for (let i = 0; i < 200; i++) runCase(c, prof);
  const rounds: number[] = [];
  for (let r = 0; r < 5; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < 2000; i++) runCase(c, prof);
    rounds.push(Number(process.hrtime.bigint() - t0) / 2000 / 1000);
  }
  console.log(`${name}: ${median(rounds).toFixed(1)} µs/case`);
}

// Native: batches of 100 cases through one probe, median of 5 batches.
if (process.platform === 'linux' && process.arch === 'x64') {
  const target = createNativeTarget({ probeDir: defaultProbeDir() });
  try {
    for (const [name, c] of [['native getpid (forked child)', plain], ['native getpid + breakpoint (forked child, SIGTRAP)', bp]] as const) {
      const ms = await nativeMsPerCase(target, name, c, (o) => o.outcome !== 'error');
      console.log(`${name}: ${ms.toFixed(3)} ms/case`);
    }
  } finally {
    await target.close?.();
  }
}
