// Throughput of the sim target for register-effect cases: getpid via SYSCALL, trace off,
// one core. Run: node --import tsx bench/sim-kernel.bench.ts [seconds]
import os from 'node:os';
import { runCase } from '../sim/kernel/run.js';
import { getProfile } from '../sim/profiles.js';
import type { Case } from '../harness/contracts.js';

const profile = getProfile('linux-7.0-intel');
const regs: Case['regs'] = { rax: { lit: 39n } };
for (const [i, r] of (['rbx', 'rdx', 'rsi', 'rdi', 'rbp', 'r8', 'r9', 'r10', 'r12', 'r13', 'r14', 'r15'] as const).entries()) {
  regs[r] = { lit: 0x5a5a000000000000n | BigInt(i) };
}
const c: Case = {
  id: 'bench/getpid@x86_64', spec: 'bench', abi: 'x86_64', entry: 'syscall', code: '64', nr: 39n, regs,
  rflags: 0x202n, flags: [], memory: [], fds: [], signals: { actions: {}, blocked: [] }, isolate: false, timeoutMs: 5000,
};
const seconds = Number(process.argv[2] ?? 3);
for (let i = 0; i < 2000; i++) runCase(c, profile); // warm-up
let n = 0;
// The machine is shared: report per CPU-second of this process (user+system) as well as per
// wall-clock second, since other load inflates wall time.
const cpu0 = process.cpuUsage();
const t0 = process.hrtime.bigint();
const end = t0 + BigInt(Math.round(seconds * 1e9));
while (process.hrtime.bigint() < end) {
  for (let i = 0; i < 200; i++) runCase(c, profile);
  n += 200;
}
const dt = Number(process.hrtime.bigint() - t0) / 1e9;
const cu = process.cpuUsage(cpu0);
const cpuS = (cu.user + cu.system) / 1e6;
const fmt = (x: number) => Math.round(x).toLocaleString('en');
console.log(`sim-kernel: ${n} getpid cases (SYSCALL, trace off) in ${dt.toFixed(2)} s wall / ${cpuS.toFixed(2)} s CPU`);
console.log(`  ${fmt(n / cpuS)} cases per CPU-second (one core); ${fmt(n / dt)} cases per wall second; load ${os.loadavg()[0]!.toFixed(2)}`);
