// Benchmark of the simulator's CPU layer: simulated SYSCALL + SYSRET pairs per second with
// tracing off (target ≥ 1,000,000/s on one core), plus INT 0x80 + IRETQ pairs and the cost of
// tracing. Run: node --import tsx bench/sim-cpu.bench.ts   (figures go in bench/RESULTS.md).

import { Cpu } from '../sim/cpu/state.js';
import { INTEL, AMD } from '../sim/cpu/vendors.js';
import { bootCpu, userState, LINUX_KERNEL_STACK } from '../sim/cpu/linux.js';
import { PagedMemory } from '../sim/cpu/memory.js';
import { syscall } from '../sim/cpu/syscall.js';
import { sysret } from '../sim/cpu/sysret.js';
import { intn } from '../sim/cpu/interrupt.js';
import { iret } from '../sim/cpu/iret.js';
import type { CpuVendorTraits } from '../sim/cpu/api.js';

function setup(traits: CpuVendorTraits): Cpu {
  const mem = new PagedMemory();
  mem.map(LINUX_KERNEL_STACK - 0x10000n, 0x30000, { user: false, writable: true });
  const cpu = new Cpu(traits, mem);
  bootCpu(cpu, { kernel: '6.8', ia32: true, lstar: 0xffffffff81a00000n, cstar: 0xffffffff81a00100n,
    sysenterEip: 0xffffffff81a00200n, sysenterEsp: 0xfffffe0000001000n, cstarIgnore: 0xffffffff81a00300n });
  userState(cpu, '64');
  cpu.rip = 0x401000n;
  cpu.rflags = 0x246n;
  return cpu;
}

/** Median ops/s over `rounds` rounds of n pairs; throws if a pair ever faults. */
function measure(name: string, n: number, rounds: number, pair: (cpu: Cpu) => boolean, cpu: Cpu): number {
  const rates: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) {
      cpu.rip = 0x401000n;
      if (!pair(cpu)) throw new Error(`${name}: a simulated pair faulted`);
    }
    const ns = Number(process.hrtime.bigint() - t0);
    rates.push(n / (ns / 1e9));
  }
  rates.sort((a, b) => a - b);
  const med = rates[Math.floor(rates.length / 2)]!;
  console.log(`${name.padEnd(44)} ${Math.round(med).toLocaleString('en-US').padStart(12)} pairs/s  (${(1e9 / med).toFixed(0)} ns/pair)`);
  return med;
}

const sysPair = (cpu: Cpu) => syscall(cpu).ok && sysret(cpu, true).ok;
const intPair = (cpu: Cpu) => intn(cpu, 0x80).ok && iret(cpu, 64).ok;

const N = Number(process.env.BENCH_N ?? 500_000);
const ROUNDS = 5;
// Warm up so the figures measure optimised code.
measure('warm-up', 100_000, 1, sysPair, setup(INTEL));

const intel = measure('SYSCALL+SYSRETQ, Intel, trace off', N, ROUNDS, sysPair, setup(INTEL));
measure('SYSCALL+SYSRETQ, AMD, trace off', N, ROUNDS, sysPair, setup(AMD));
const traced = setup(INTEL);
measure('SYSCALL+SYSRETQ, Intel, trace on (cleared)', N / 10, ROUNDS, (cpu) => {
  cpu.trace = [];
  return sysPair(cpu);
}, traced);
measure('INT 0x80 + IRETQ, Intel, trace off', N / 10, ROUNDS, intPair, setup(INTEL));

const target = 1_000_000;
console.log(intel >= target ? `OK: ≥ ${target.toLocaleString('en-US')}/s target met` : `BELOW TARGET: ${Math.round(intel)} < ${target}/s`);
