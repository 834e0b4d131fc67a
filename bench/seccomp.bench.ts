// Benchmark of the seccomp pieces: assembling spec mnemonics, compiling rule lists, the
// kernel's install-time checks and the interpreter the simulator runs on every syscall entry
// of a filtered case. Run: node --import tsx bench/seccomp.bench.ts (figures go to bench/RESULTS.md).

import { performance } from 'node:perf_hooks';
import { assemble, disasm } from '../harness/seccomp/asm.js';
import { compileRules, type RuleList } from '../harness/seccomp/rules.js';
import { checkFilter, runFilter, seccompData, seccompWords } from '../sim/kernel/seccomp/bpf.js';
import { SeccompState } from '../sim/kernel/seccomp/filter.js';

/** ns per operation, median of 5 rounds of `n` calls of fn(i). */
function bench(n: number, fn: (i: number) => unknown): number {
  const rounds: number[] = [];
  let sink = 0;
  for (let r = 0; r < 5; r++) {
    const s = performance.now();
    for (let i = 0; i < n; i++) if (fn(i)) sink++;
    rounds.push(((performance.now() - s) * 1e6) / n);
  }
  if (sink < 0) console.log(sink);
  return rounds.sort((a, b) => a - b)[2]!;
}
const fmt = (ns: number): string => (ns >= 1e6 ? `${(ns / 1e6).toFixed(2)} ms/op` : ns >= 1e3 ? `${(ns / 1e3).toFixed(1)} µs/op` : `${ns.toFixed(0)} ns/op`);

const SRC = `
  ld [arch]
  jeq #AUDIT_ARCH_X86_64, native, bad
native:
  ld [nr]
  jset #X32_SYSCALL_BIT, bad
  jeq #__NR_getppid@x86_64, deny
  jeq #__NR_close@x86_64, 0, allow
  ld [args[0]]
  jeq #3, trace, allow
allow: ret #ALLOW
trace: ret #TRACE|7
deny: ret #ERRNO|EPERM
bad: ret #KILL_PROCESS
`;
const EXAMPLE: RuleList = [
  { syscall: 'getppid', action: 'errno(EPERM)' },
  { syscall: 'close', args: { 0: { eq: 3 } }, action: 'trace(7)' },
  { arch: 'i386', action: 'kill_process' },
  { default: 'allow' },
];
const names = ['read', 'write', 'open', 'close', 'stat', 'fstat', 'lstat', 'poll', 'lseek', 'mmap', 'mprotect', 'munmap', 'brk'];
const LONG: RuleList = [
  ...Array.from({ length: 300 }, (_, i) => ({ syscall: 1000 + i, arch: 'x86_64' as const, action: 'errno(1)' })),
  ...names.map((n) => ({ syscall: n, action: 'errno(2)' })),
  { default: 'allow' },
];

const asmProg = assemble(SRC);
const exProg = compileRules(EXAMPLE);
const longProg = compileRules(LONG);
const big = Array.from({ length: 4096 }, (_, i) => (i === 4095 ? { code: 0x06, jt: 0, jf: 0, k: 0x7fff0000 } : { code: 0x04, jt: 0, jf: 0, k: 1 }));
const checked = (p: typeof asmProg) => {
  const c = checkFilter(p);
  if (!c.ok) throw new Error(c.reason);
  return c.prog;
};
const exChecked = checked(exProg);
const longChecked = checked(longProg);
const datas = [39, 110, 3, 0x4000006e, 1299].map((nr, i) => seccompData(i === 4 ? 'i386' : 'x86_64', nr, 0x401000n, [3n, 0n, 0n, 0n, 0n, 0n]));
const words = datas.map(seccompWords);

const state = new SeccompState();
for (const p of [exProg, asmProg, longProg]) state.install({ mode: 'filter', program: p }, { noNewPrivs: true, capSysAdmin: false });

const N = 100_000;
const results: [string, string][] = [
  [`assemble() a ${asmProg.length}-instruction program (13 source lines)`, fmt(bench(5_000, () => assemble(SRC).length))],
  [`disasm() of it`, fmt(bench(20_000, () => disasm(asmProg).length))],
  [`compileRules() issue example (4 rules → ${exProg.length} insns)`, fmt(bench(5_000, () => compileRules(EXAMPLE).length))],
  [`compileRules() 314 rules → ${longProg.length} insns (ja trampolines)`, fmt(bench(50, () => compileRules(LONG).length))],
  [`checkFilter() ${exProg.length} insns`, fmt(bench(20_000, () => checkFilter(exProg).ok))],
  ['checkFilter() 4096 insns', fmt(bench(200, () => checkFilter(big).ok))],
  ['seccompWords() (seccomp_data → 16 words)', fmt(bench(N, (i) => seccompWords(datas[i % 5]!).length))],
  [`runFilter() example (${exProg.length} insns), words given`, fmt(bench(N, (i) => runFilter(exChecked, words[i % 5]!)))],
  [`runFilter() 314-rule program (${longProg.length} insns), words given`, fmt(bench(N, (i) => runFilter(longChecked, words[i % 5]!)))],
  ['SeccompState.decide() with 3 stacked filters', fmt(bench(N, (i) => state.decide(datas[i % 5]!).kind))],
];
const w = Math.max(...results.map(([k]) => k.length));
for (const [k, v] of results) console.log(`${k.padEnd(w)}  ${v}`);
