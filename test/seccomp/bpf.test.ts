// Tests of the simulator's cBPF engine (sim/kernel/seccomp/bpf.ts): every seccomp opcode's
// effect, and every install-time refusal of bpf_check_classic / seccomp_check_filter with its
// errno. Expected values come from the documented semantics (Documentation/networking/filter.rst,
// include/uapi/linux/filter.h numbers written out literally), not from running the interpreter.

import t from 'tap';
import { checkFilter, runFilter, runProgram, seccompData, seccompWords } from '../../sim/kernel/seccomp/bpf.js';
import type { BpfInsn } from '../../harness/contracts.js';

const EINVAL = 22;
const I = (code: number, k = 0, jt = 0, jf = 0): BpfInsn => ({ code, jt, jf, k: k >>> 0 });
// Opcodes as the kernel's uapi headers number them (BPF_CLASS | BPF_SIZE | BPF_MODE | BPF_OP | BPF_SRC).
const LD_ABS = 0x20, LD_LEN = 0x80, LDX_LEN = 0x81, LD_IMM = 0x00, LDX_IMM = 0x01, LD_MEM = 0x60, LDX_MEM = 0x61;
const ST = 0x02, STX = 0x03, TAX = 0x07, TXA = 0x87, RET_K = 0x06, RET_A = 0x16, JA = 0x05;
const ALU = { add: 0x04, sub: 0x14, mul: 0x24, div: 0x34, or: 0x44, and: 0x54, lsh: 0x64, rsh: 0x74, neg: 0x84, mod: 0x94, xor: 0xa4 };
const X = 0x08;
const JEQ = 0x15, JGT = 0x25, JGE = 0x35, JSET = 0x45;

const d0 = seccompData('x86_64', 0);
/** A ← a, X ← x, then `op`, then return A. */
function alu(op: BpfInsn, a: number, x = 0): number {
  return runProgram([I(LD_IMM, a), I(LDX_IMM, x), op, I(RET_A)], d0);
}

t.test('seccomp_data layout: little-endian 32-bit words (SC-01)', async (t) => {
  const d = seccompData(0xc000003e, 0x4000006e, 0x1122334455667788n, [0xaabbccdd00112233n, 1n, 2n, 3n, 4n, 0xffffffffffffffffn]);
  const w = seccompWords(d);
  t.equal(w.length, 16, '64 bytes');
  t.equal(w[0], 0x4000006e, 'nr at 0');
  t.equal(w[1], 0xc000003e, 'arch at 4');
  t.equal(w[2], 0x55667788, 'ip low half at 8');
  t.equal(w[3], 0x11223344, 'ip high half at 12');
  t.equal(w[4], 0x00112233, 'args[0] low at 16');
  t.equal(w[5], 0xaabbccdd, 'args[0] high at 20');
  t.equal(w[15], 0xffffffff, 'args[5] high at 60');
  for (const [off, want] of [[0, 0x4000006e], [4, 0xc000003e], [12, 0x11223344], [60, 0xffffffff]] as const) {
    t.equal(runProgram([I(LD_ABS, off), I(RET_A)], d), want, `ld [${off}]`);
  }
  t.equal(seccompData('x86_64', -1n).nr, -1, 'nr is (int) of the low 32 bits');
  t.equal(seccompData('i386', 0xffffffff00000014n).nr, 20, 'upper bits of a 64-bit rax do not reach nr');
  t.equal(seccompData('i386', 1).arch, 0x40000003, 'i386 → AUDIT_ARCH_I386');
  t.equal(seccompData('x32', 0x40000000).arch, 0xc000003e, 'x32 → AUDIT_ARCH_X86_64 (SC-02)');
});

t.test('loads, stores and moves', async (t) => {
  t.equal(runProgram([I(LD_IMM, 0xdeadbeef), I(RET_A)], d0), 0xdeadbeef, 'ld #k');
  t.equal(runProgram([I(LDX_IMM, 7), I(TXA), I(RET_A)], d0), 7, 'ldx #k; txa');
  t.equal(runProgram([I(LD_IMM, 9), I(TAX), I(LD_IMM, 0), I(TXA), I(RET_A)], d0), 9, 'tax keeps A in X');
  t.equal(runProgram([I(LD_LEN), I(RET_A)], d0), 64, 'ld #len is sizeof(struct seccomp_data)');
  t.equal(runProgram([I(LDX_LEN), I(TXA), I(RET_A)], d0), 64, 'ldx #len is 64 too');
  t.equal(runProgram([I(LD_IMM, 5), I(ST, 3), I(LD_IMM, 0), I(LD_MEM, 3), I(RET_A)], d0), 5, 'st M[3]; ld M[3]');
  t.equal(runProgram([I(LDX_IMM, 6), I(STX, 15), I(LDX_MEM, 15), I(TXA), I(RET_A)], d0), 6, 'stx M[15]; ldx M[15]');
  t.equal(runProgram([I(TXA), I(RET_A)], d0), 0, 'X starts at 0');
  t.equal(runProgram([I(RET_A)], d0), 0, 'A starts at 0');
  t.equal(runProgram([I(RET_K, 0x7fff0000)], d0), 0x7fff0000, 'ret #k');
});

t.test('ALU: 32-bit unsigned, K and X forms', async (t) => {
  t.equal(alu(I(ALU.add, 1), 0xffffffff), 0, 'add wraps at 2^32');
  t.equal(alu(I(ALU.add | X), 2, 3), 5, 'add x');
  t.equal(alu(I(ALU.sub, 1), 0), 0xffffffff, 'sub wraps below 0');
  t.equal(alu(I(ALU.sub | X), 10, 4), 6, 'sub x');
  t.equal(alu(I(ALU.mul, 0x10000), 0x10001), 0x10000, 'mul keeps the low 32 bits');
  t.equal(alu(I(ALU.mul | X), 6, 7), 42, 'mul x');
  t.equal(alu(I(ALU.div, 2), 0xffffffff), 0x7fffffff, 'div is unsigned');
  t.equal(alu(I(ALU.div | X), 100, 7), 14, 'div x truncates');
  t.equal(alu(I(ALU.div | X), 100, 0), 0, 'div by X = 0 ends the program returning 0');
  t.equal(alu(I(ALU.and, 0xf0), 0xff), 0xf0, 'and');
  t.equal(alu(I(ALU.and | X), 0xff, 0x0f), 0x0f, 'and x');
  t.equal(alu(I(ALU.or, 0x80000000), 1), 0x80000001, 'or');
  t.equal(alu(I(ALU.or | X), 1, 2), 3, 'or x');
  t.equal(alu(I(ALU.xor, 0xffffffff), 0x0f0f0f0f), 0xf0f0f0f0, 'xor');
  t.equal(alu(I(ALU.xor | X), 5, 5), 0, 'xor x');
  t.equal(alu(I(ALU.lsh, 31), 3), 0x80000000, 'lsh drops bits past 32');
  t.equal(alu(I(ALU.lsh | X), 1, 4), 16, 'lsh x');
  t.equal(alu(I(ALU.lsh | X), 1, 33), 2, 'lsh by X ≥ 32 uses X & 31 (kernel/bpf/core.c masks register shifts)');
  t.equal(alu(I(ALU.rsh, 4), 0x80000000), 0x08000000, 'rsh is logical');
  t.equal(alu(I(ALU.rsh | X), 0x100, 4), 0x10, 'rsh x');
  t.equal(alu(I(ALU.rsh | X), 0x80000000, 63), 1, 'rsh by X = 63 shifts by 31');
  t.equal(alu(I(ALU.neg), 1), 0xffffffff, 'neg is two\'s complement on 32 bits');
  t.equal(alu(I(ALU.neg), 0), 0, 'neg 0');
});

t.test('jumps: forward, unsigned 32-bit comparisons', async (t) => {
  // ld #a; ldx #x; J; ret #2 (false); ret #1 (true)
  const j = (code: number, a: number, k: number, x = 0): number =>
    runProgram([I(LD_IMM, a), I(LDX_IMM, x), I(code, k, 1, 0), I(RET_K, 2), I(RET_K, 1)], d0);
  t.equal(j(JEQ, 5, 5), 1, 'jeq taken');
  t.equal(j(JEQ, 5, 6), 2, 'jeq not taken');
  t.equal(j(JEQ | X, 5, 0, 5), 1, 'jeq x');
  t.equal(j(JGT, 0xffffffff, 1), 1, 'jgt is unsigned (0xffffffff > 1)');
  t.equal(j(JGT, 1, 1), 2, 'jgt is strict');
  t.equal(j(JGT | X, 3, 0, 2), 1, 'jgt x');
  t.equal(j(JGE, 1, 1), 1, 'jge equal');
  t.equal(j(JGE, 0, 0x80000000), 2, 'jge with a "negative" immediate compares unsigned');
  t.equal(j(JGE | X, 1, 0, 2), 2, 'jge x');
  t.equal(j(JSET, 0b1010, 0b0010), 1, 'jset any common bit');
  t.equal(j(JSET, 0b1010, 0b0101), 2, 'jset no common bit');
  t.equal(j(JSET | X, 0x40000027, 0, 0x40000000), 1, 'jset x');
  t.equal(runProgram([I(JA, 1), I(RET_K, 2), I(RET_K, 3)], d0), 3, 'ja skips k instructions');
  t.equal(runProgram([I(LD_IMM, 1), I(JEQ, 1, 0, 1), I(RET_K, 4), I(RET_K, 5)], d0), 4, 'jt 0 falls through');
});

t.test('checks the kernel runs at install time (all EINVAL)', async (t) => {
  const refused = (prog: BpfInsn[], reason: RegExp, what: string): void => {
    const r = checkFilter(prog);
    t.notOk(r.ok, `${what}: refused`);
    if (!r.ok) {
      t.equal(r.errno, EINVAL, `${what}: EINVAL`);
      t.match(r.reason, reason, `${what}: reason`);
    }
  };
  const ok = (prog: BpfInsn[], what: string): void => {
    const r = checkFilter(prog);
    t.ok(r.ok, `${what}: accepted${r.ok ? '' : ` (refused: ${r.reason})`}`);
  };
  refused([], /empty/, 'empty program');
  refused(Array.from({ length: 4097 }, () => I(RET_K, 0x7fff0000)), /BPF_MAXINSNS/, '4097 instructions');
  ok(Array.from({ length: 4096 }, () => I(RET_K, 0x7fff0000)), '4096 instructions');
  refused([I(LD_ABS, 64), I(RET_A)], /outside struct seccomp_data/, 'ld [64] (args[6])');
  ok([I(LD_ABS, 60), I(RET_A)], 'ld [60] (args[5] high half)');
  refused([I(LD_ABS, 2), I(RET_A)], /not 32-bit aligned/, 'ld [2]');
  refused([I(0x28, 0), I(RET_A)], /not allowed in a seccomp filter/, 'ldh [0]');
  refused([I(0x30, 0), I(RET_A)], /not allowed in a seccomp filter/, 'ldb [0]');
  refused([I(0x40, 0), I(RET_A)], /not allowed in a seccomp filter/, 'ld [x + 0]');
  refused([I(0xb1, 0), I(RET_A)], /not allowed in a seccomp filter/, 'ldxb 4*([0]&0xf)');
  refused([I(ALU.mod, 3), I(RET_A)], /not allowed in a seccomp filter/, 'mod #3 (classic, but not seccomp)');
  refused([I(LD_ABS, 0xfffff000), I(RET_A)], /outside struct seccomp_data/, 'ancillary load SKF_AD_PROTOCOL');
  refused([I(LD_ABS, 0xfffff000 + 1000), I(RET_A)], /unknown ancillary/, 'unknown ancillary load');
  refused([I(0x0e), I(RET_A)], /not a classic BPF instruction/, 'ret x (no such code)');
  refused([I(0xff), I(RET_A)], /not a classic BPF instruction/, 'opcode 0xff');
  refused([I(ALU.div, 0), I(RET_A)], /division by the constant 0/, 'div #0');
  refused([I(ALU.mod, 0), I(RET_A)], /division by the constant 0/, 'mod #0 (caught by the classic check first)');
  ok([I(ALU.div | X), I(RET_A)], 'div x (X = 0 is a run-time return 0)');
  refused([I(ALU.lsh, 32), I(RET_A)], /shift by the constant 32/, 'lsh #32');
  refused([I(ALU.rsh, 40), I(RET_A)], /shift by the constant 40/, 'rsh #40');
  refused([I(ST, 16), I(RET_A)], /M\[16\] out of range/, 'st M[16]');
  refused([I(LD_MEM, 0), I(RET_A)], /read before it is written/, 'ld M[0] never written');
  refused([I(LD_IMM, 1), I(JEQ, 1, 0, 1), I(ST, 2), I(LD_MEM, 2), I(RET_A)], /M\[2\] is read before/, 'M[2] written on one path only');
  ok([I(ST, 2), I(LD_IMM, 1), I(JEQ, 1, 0, 1), I(LD_IMM, 3), I(LD_MEM, 2), I(RET_A)], 'M[2] written before the branch');
  refused([I(JA, 1), I(RET_A)], /past the last instruction/, 'ja past the end');
  refused([I(JA, 0xffffffff), I(RET_A)], /past the last instruction/, 'ja -1 (offsets are unsigned: no backward jumps)');
  refused([I(JEQ, 0, 1, 0), I(RET_A)], /past the last instruction/, 'jt past the end');
  refused([I(JEQ, 0, 0, 2), I(RET_A), I(RET_A)], /past the last instruction/, 'jf past the end');
  refused([I(RET_A), I(LD_IMM, 1)], /not a return/, 'does not end in a return');
  refused([I(JA, 0)], /past the last instruction|not a return/, 'a lone ja');
  ok([I(RET_A)], 'a lone ret a');
  // The order of checks: the opcode check of an earlier instruction wins over a later refusal.
  refused([I(ALU.div, 0), I(LD_ABS, 64), I(RET_A)], /insn 0: division/, 'first refusal reported');
  refused([{ code: 6, jt: 0, jf: 0, k: 2 ** 32 }], /not a u32/, 'k outside u32');
});

t.test('a checked program is frozen and independent of its source array', async (t) => {
  const prog = [I(LD_IMM, 1), I(RET_A)];
  const r = checkFilter(prog);
  t.ok(r.ok);
  if (!r.ok) return;
  prog[0]!.k = 2;
  t.equal(runFilter(r.prog, d0), 1, 'later changes to the array do not reach the checked filter');
  t.ok(Object.isFrozen(r.prog.insns), 'instructions are frozen');
});
