// Throughput of the sim target for register-effect cases: getpid via SYSCALL, trace off,
// one core. Run: node --import tsx bench/sim-kernel.bench.ts [seconds]
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
const t0 = process.hrtime.bigint();
const end = t0 + BigInt(Math.round(seconds * 1e9));
while (process.hrtime.bigint() < end) {
  for (let i = 0; i < 200; i++) runCase(c, profile);
  n += 200;
}
const dt = Number(process.hrtime.bigint() - t0) / 1e9;
console.log(`sim-kernel: ${n} getpid cases in ${dt.toFixed(2)} s = ${Math.round(n / dt).toLocaleString('en')} cases/s (one core, trace off)`);
