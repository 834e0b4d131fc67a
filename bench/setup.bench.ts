// What set-up calls (Case.setup) cost: in the simulator, one modify_ldt write made through the
// kernel's entry path before the case's own call (here the modify_ldt read it unlocks), against
// the same isolated read without it; natively, the same pair in forked probe children (the
// set-up call is one more SYSCALL in the child; both cases fork because set-up forces isolate).
// Run: node --import tsx bench/setup.bench.ts
import { runCase } from '../sim/kernel/run.js';
import { getProfile } from '../sim/profiles.js';
import { createNativeTarget } from '../harness/targets/native.js';
import { defaultProbeDir } from '../harness/targets/probe-runner.js';
import type { Case, MemRegion } from '../harness/contracts.js';
import { median, nativeMsPerCase } from './lib.js';

const region = (name: string, size: number, hex = ''): MemRegion =>
  ({ name, size, hex, fill: 0, prot: 'rw', place: 'low32', readback: true });
const read: Case = {
  id: 'bench/setup@x86_64', spec: 'bench', abi: 'x86_64', entry: 'syscall', code: '64', nr: 154n,
  regs: { rax: { lit: 154n }, rdi: { lit: 0n }, rsi: { ref: 'buf', name: 'out' }, rdx: { lit: 16n } },
  rflags: 0x202n, flags: [], fds: [],
  memory: [region('u', 16, '0100000078563412debc0a0051000000'), region('out', 16)],
  signals: { actions: {}, blocked: [] }, isolate: true, timeoutMs: 5000,
};
const withSetup: Case = { ...read, setup: [{ name: 'modify_ldt', nr: 154n, args: [{ lit: 0x11n }, { ref: 'buf', name: 'u' }, { lit: 16n }] }] };
const cases = [['modify_ldt read, no LDT (isolated)', read], ['modify_ldt write (set-up) + read', withSetup]] as const;


// Simulator: per-case time, median of 5 rounds of 2000 cases, after a warm-up.
const prof = getProfile('linux-7.0-intel');
for (const [name, c] of cases) {
  for (let i = 0; i < 200; i++) runCase(c, prof);
  const rounds: number[] = [];
  for (let r = 0; r < 5; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < 2000; i++) runCase(c, prof);
    rounds.push(Number(process.hrtime.bigint() - t0) / 2000 / 1000);
  }
  console.log(`sim ${name}: ${median(rounds).toFixed(1)} µs/case`);
}

// Native: batches of 100 cases through one probe, median of 5 batches.
if (process.platform === 'linux' && process.arch === 'x64') {
  const target = createNativeTarget({ probeDir: defaultProbeDir() });
  try {
    for (const [name, c] of cases) {
      const ms = await nativeMsPerCase(target, name, c, (o) => o.outcome === 'returned');
      console.log(`native ${name}: ${ms.toFixed(3)} ms/case`);
    }
  } finally {
    await target.close?.();
  }
}
