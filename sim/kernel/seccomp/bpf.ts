// The simulator's classic-BPF engine for seccomp: the checks the kernel runs when a filter is
// installed (net/core/filter.c bpf_check_classic + check_load_and_stores, then
// kernel/seccomp.c seccomp_check_filter) and an interpreter over struct seccomp_data with the
// semantics of the kernel's cBPF→eBPF translation (net/core/filter.c bpf_convert_filter).

import type { Abi } from '../../../abi/constants.js';
import { AUDIT_ARCH, ERRNO } from '../../../abi/constants.js';
import {
  BPF_A, BPF_ABS, BPF_ADD, BPF_ALU, BPF_AND, BPF_B, BPF_DIV, BPF_H, BPF_IMM, BPF_IND, BPF_JA,
  BPF_JEQ, BPF_JGE, BPF_JGT, BPF_JMP, BPF_JSET, BPF_K, BPF_LD, BPF_LDX, BPF_LEN, BPF_LSH,
  BPF_MAXINSNS, BPF_MEM, BPF_MEMWORDS, BPF_MISC, BPF_MOD, BPF_MSH, BPF_MUL, BPF_NEG, BPF_OR,
  BPF_RET, BPF_RSH, BPF_ST, BPF_STX, BPF_SUB, BPF_TAX, BPF_TXA, BPF_W, BPF_X, BPF_XOR,
  SECCOMP_DATA, SKF_AD_CODES, SKF_AD_OFF, type BpfInsn,
} from '../../../harness/seccomp/uapi.js';

/** struct seccomp_data as populate_seccomp_data() fills it (SC-01). */
export interface SeccompData {
  /** syscall_get_nr(): the (int) orig_ax, x32 numbers with bit 30. */
  nr: number;
  /** syscall_get_arch(): AUDIT_ARCH_I386 for any 32-bit entry, else AUDIT_ARCH_X86_64 (u32). */
  arch: number;
  /** regs->ip: the address after the entry instruction (u64). */
  instruction_pointer: bigint;
  /** syscall_get_arguments(): six u64 values. */
  args: readonly [bigint, bigint, bigint, bigint, bigint, bigint];
}

/**
 * Build a seccomp_data. `arch` is an AUDIT_ARCH value, or an ABI name: i386 → I386;
 * x86_64 and x32 → X86_64 (x32 is told apart only by bit 30 of nr, SC-02). `nr` is taken as
 * the kernel does, (int) of its low 32 bits; pass x32 numbers with the bit. Missing args are 0.
 */
export function seccompData(
  arch: number | Abi,
  nr: number | bigint,
  ip: bigint = 0n,
  args: readonly bigint[] = [],
): SeccompData {
  const a = typeof arch === 'number' ? arch >>> 0 : arch === 'i386' ? AUDIT_ARCH.I386 : AUDIT_ARCH.X86_64;
  const n = typeof nr === 'bigint' ? Number(BigInt.asIntN(32, nr)) : nr | 0;
  if (args.length > 6) throw new RangeError(`seccomp_data has 6 args, got ${args.length}`);
  const six = [0, 1, 2, 3, 4, 5].map((i) => BigInt.asUintN(64, args[i] ?? 0n)) as unknown as SeccompData['args'];
  return { nr: n, arch: a, instruction_pointer: BigInt.asUintN(64, ip), args: six };
}

/**
 * The 16 little-endian 32-bit words a filter can load (`ld [k]` reads word k/4): nr, arch,
 * ip low, ip high, then args[i] low, high. x86 is little-endian, so the low half of each u64
 * is at the lower offset (seccomp_data is read in place by BPF_LDX_MEM).
 */
export function seccompWords(d: SeccompData): Uint32Array {
  const w = new Uint32Array(SECCOMP_DATA.size / 4);
  w[0] = d.nr >>> 0;
  w[1] = d.arch >>> 0;
  w[2] = Number(d.instruction_pointer & 0xffffffffn);
  w[3] = Number((d.instruction_pointer >> 32n) & 0xffffffffn);
  for (let i = 0; i < 6; i++) {
    const v = d.args[i]!;
    w[4 + 2 * i] = Number(v & 0xffffffffn);
    w[5 + 2 * i] = Number((v >> 32n) & 0xffffffffn);
  }
  return w;
}

/** Why the kernel refused a program: always EINVAL from these checks, with the first reason. */
export type FilterCheck =
  | { ok: true; prog: CheckedFilter }
  | { ok: false; errno: number; reason: string; pc?: number };

/** A program that passed the kernel's checks; only these can be run. */
export interface CheckedFilter {
  readonly insns: readonly BpfInsn[];
  /** Flat copy for the interpreter: code, jt, jf, k per instruction. */
  readonly code: Uint16Array;
  readonly jt: Uint8Array;
  readonly jf: Uint8Array;
  readonly k: Uint32Array;
}

/** Codes bpf_check_classic accepts (chk_code_allowed): classic BPF for sockets. */
const CLASSIC_CODES = new Set<number>([
  ...[BPF_ADD, BPF_SUB, BPF_MUL, BPF_DIV, BPF_MOD, BPF_AND, BPF_OR, BPF_XOR, BPF_LSH, BPF_RSH]
    .flatMap((op) => [BPF_ALU | op | BPF_K, BPF_ALU | op | BPF_X]),
  BPF_ALU | BPF_NEG,
  BPF_LD | BPF_W | BPF_ABS, BPF_LD | BPF_H | BPF_ABS, BPF_LD | BPF_B | BPF_ABS,
  BPF_LD | BPF_W | BPF_LEN,
  BPF_LD | BPF_W | BPF_IND, BPF_LD | BPF_H | BPF_IND, BPF_LD | BPF_B | BPF_IND,
  BPF_LD | BPF_IMM, BPF_LD | BPF_MEM,
  BPF_LDX | BPF_W | BPF_LEN, BPF_LDX | BPF_B | BPF_MSH, BPF_LDX | BPF_IMM, BPF_LDX | BPF_MEM,
  BPF_ST, BPF_STX,
  BPF_MISC | BPF_TAX, BPF_MISC | BPF_TXA,
  BPF_RET | BPF_K, BPF_RET | BPF_A,
  BPF_JMP | BPF_JA,
  ...[BPF_JEQ, BPF_JGE, BPF_JGT, BPF_JSET].flatMap((op) => [BPF_JMP | op | BPF_K, BPF_JMP | op | BPF_X]),
]);

/** The subset seccomp_check_filter lets through: no packet loads, no MOD, no MSH. */
const SECCOMP_CODES = new Set<number>([
  BPF_LD | BPF_W | BPF_ABS, BPF_LD | BPF_W | BPF_LEN, BPF_LDX | BPF_W | BPF_LEN,
  BPF_RET | BPF_K, BPF_RET | BPF_A,
  ...[BPF_ADD, BPF_SUB, BPF_MUL, BPF_DIV, BPF_AND, BPF_OR, BPF_XOR, BPF_LSH, BPF_RSH]
    .flatMap((op) => [BPF_ALU | op | BPF_K, BPF_ALU | op | BPF_X]),
  BPF_ALU | BPF_NEG,
  BPF_LD | BPF_IMM, BPF_LDX | BPF_IMM, BPF_MISC | BPF_TAX, BPF_MISC | BPF_TXA,
  BPF_LD | BPF_MEM, BPF_LDX | BPF_MEM, BPF_ST, BPF_STX,
  BPF_JMP | BPF_JA,
  ...[BPF_JEQ, BPF_JGE, BPF_JGT, BPF_JSET].flatMap((op) => [BPF_JMP | op | BPF_K, BPF_JMP | op | BPF_X]),
]);

const isCondJump = (code: number): boolean =>
  (code & 0x07) === BPF_JMP && code !== (BPF_JMP | BPF_JA);

function fail(reason: string, pc?: number): FilterCheck {
  return pc === undefined
    ? { ok: false, errno: ERRNO.EINVAL, reason }
    : { ok: false, errno: ERRNO.EINVAL, reason: `insn ${pc}: ${reason}`, pc };
}

const hex = (v: number): string => `0x${(v >>> 0).toString(16)}`;

function wellFormed(i: BpfInsn, pc: number): string | null {
  const ok = (v: number, max: number): boolean => Number.isInteger(v) && v >= 0 && v <= max;
  if (!ok(i.code, 0xffff)) return `insn ${pc}: code ${i.code} is not a u16`;
  if (!ok(i.jt, 0xff)) return `insn ${pc}: jt ${i.jt} is not a u8`;
  if (!ok(i.jf, 0xff)) return `insn ${pc}: jf ${i.jf} is not a u8`;
  if (!ok(i.k, 0xffffffff)) return `insn ${pc}: k ${i.k} is not a u32`;
  return null;
}

/**
 * The kernel's install-time checks for a seccomp filter, in its order:
 * seccomp_prepare_filter (length 1..BPF_MAXINSNS), bpf_check_classic (allowed codes, division
 * by a zero constant, constant shifts ≥ 32, M[] index, jump ranges, ancillary loads, last
 * instruction a return), check_load_and_stores (no M[k] read before a write on every path),
 * seccomp_check_filter (only seccomp's opcodes; loads only from aligned words of
 * seccomp_data). Every refusal is -EINVAL; the reason names the first failing rule.
 * Instructions outside the struct's field ranges (k not a u32, ...) are refused as a
 * contract error, which the C struct cannot even express.
 */
export function checkFilter(prog: readonly BpfInsn[]): FilterCheck {
  const flen = prog.length;
  if (flen === 0) return fail('empty program (len 0): seccomp_prepare_filter wants 1..4096 instructions');
  if (flen > BPF_MAXINSNS) return fail(`program of ${flen} instructions: more than BPF_MAXINSNS (${BPF_MAXINSNS})`);
  for (let pc = 0; pc < flen; pc++) {
    const bad = wellFormed(prog[pc]!, pc);
    if (bad) return { ok: false, errno: ERRNO.EINVAL, reason: bad, pc };
  }

  // bpf_check_classic: per instruction.
  for (let pc = 0; pc < flen; pc++) {
    const { code, k, jt, jf } = prog[pc]!;
    if (!CLASSIC_CODES.has(code)) return fail(`opcode ${hex(code)} is not a classic BPF instruction`, pc);
    switch (code) {
      case BPF_ALU | BPF_DIV | BPF_K:
      case BPF_ALU | BPF_MOD | BPF_K:
        if (k === 0) return fail('division by the constant 0', pc);
        break;
      case BPF_ALU | BPF_LSH | BPF_K:
      case BPF_ALU | BPF_RSH | BPF_K:
        if (k >= 32) return fail(`shift by the constant ${k} (must be < 32)`, pc);
        break;
      case BPF_LD | BPF_MEM:
      case BPF_LDX | BPF_MEM:
      case BPF_ST:
      case BPF_STX:
        if (k >= BPF_MEMWORDS) return fail(`scratch cell M[${k}] out of range (M[0]..M[${BPF_MEMWORDS - 1}])`, pc);
        break;
      case BPF_JMP | BPF_JA:
        // k is unsigned: there are no backward jumps; the target must be inside the program.
        if (k >= flen - pc - 1) return fail(`ja +${k} jumps to ${pc + 1 + k}, past the last instruction ${flen - 1}`, pc);
        break;
      case BPF_LD | BPF_W | BPF_ABS:
      case BPF_LD | BPF_H | BPF_ABS:
      case BPF_LD | BPF_B | BPF_ABS:
        if (k >= SKF_AD_OFF && !SKF_AD_CODES.includes(k - SKF_AD_OFF)) {
          return fail(`unknown ancillary load SKF_AD_OFF+${k - SKF_AD_OFF}`, pc);
        }
        break;
      default:
        if (isCondJump(code) && (pc + jt + 1 >= flen || pc + jf + 1 >= flen)) {
          return fail(`conditional jump to ${pc + 1 + jt}/${pc + 1 + jf}, past the last instruction ${flen - 1}`, pc);
        }
    }
  }
  const last = prog[flen - 1]!.code;
  if (last !== (BPF_RET | BPF_K) && last !== (BPF_RET | BPF_A)) {
    return fail(`the last instruction (${flen - 1}) is not a return`);
  }

  // check_load_and_stores: a bit per cell; a jump narrows its targets' masks to what is
  // written on every path that reaches them. Note the kernel does not reset the mask after a
  // RET, so the instruction after a RET inherits it; reproduced as is.
  const masks = new Uint16Array(flen).fill(0xffff);
  let memvalid = 0;
  for (let pc = 0; pc < flen; pc++) {
    memvalid &= masks[pc]!;
    const { code, k, jt, jf } = prog[pc]!;
    if (code === BPF_ST || code === BPF_STX) memvalid |= 1 << k;
    else if (code === (BPF_LD | BPF_MEM) || code === (BPF_LDX | BPF_MEM)) {
      if (!(memvalid & (1 << k))) return fail(`M[${k}] is read before it is written on some path`, pc);
    } else if (code === (BPF_JMP | BPF_JA)) {
      masks[pc + 1 + k]! &= memvalid;
      memvalid = 0xffff;
    } else if (isCondJump(code)) {
      masks[pc + 1 + jt]! &= memvalid;
      masks[pc + 1 + jf]! &= memvalid;
      memvalid = 0xffff;
    }
  }

  // seccomp_check_filter: seccomp's own whitelist and the seccomp_data bounds.
  for (let pc = 0; pc < flen; pc++) {
    const { code, k } = prog[pc]!;
    if (!SECCOMP_CODES.has(code)) return fail(`opcode ${hex(code)} (${opcodeName(code)}) is not allowed in a seccomp filter`, pc);
    if (code === (BPF_LD | BPF_W | BPF_ABS) && (k >= SECCOMP_DATA.size || k & 3)) {
      return fail(
        k >= SECCOMP_DATA.size
          ? `ld [${k}] is outside struct seccomp_data (size ${SECCOMP_DATA.size})`
          : `ld [${k}] is not 32-bit aligned`,
        pc,
      );
    }
  }

  const frozen = Object.freeze(prog.map((i) => Object.freeze({ code: i.code, jt: i.jt, jf: i.jf, k: i.k })));
  return {
    ok: true,
    prog: {
      insns: frozen,
      code: Uint16Array.from(prog, (i) => i.code),
      jt: Uint8Array.from(prog, (i) => i.jt),
      jf: Uint8Array.from(prog, (i) => i.jf),
      k: Uint32Array.from(prog, (i) => i.k),
    },
  };
}

/** A short name for an opcode, for refusal messages. */
export function opcodeName(code: number): string {
  const cls = ['ld', 'ldx', 'st', 'stx', 'alu', 'jmp', 'ret', 'misc'][code & 7]!;
  if ((code & 7) === BPF_LD || (code & 7) === BPF_LDX) {
    const size = { [BPF_W]: 'w', [BPF_H]: 'h', [BPF_B]: 'b' }[code & 0x18] ?? '?';
    const mode = { [BPF_IMM]: 'imm', [BPF_ABS]: 'abs', [BPF_IND]: 'ind', [BPF_MEM]: 'mem', [BPF_LEN]: 'len', [BPF_MSH]: 'msh' }[code & 0xe0] ?? '?';
    return `${cls}|${size}|${mode}`;
  }
  if ((code & 7) === BPF_ALU) {
    const op = ['add', 'sub', 'mul', 'div', 'or', 'and', 'lsh', 'rsh', 'neg', 'mod', 'xor'][(code & 0xf0) >> 4] ?? '?';
    return `alu|${op}|${code & BPF_X ? 'x' : 'k'}`;
  }
  if ((code & 7) === BPF_JMP) {
    const op = ['ja', 'jeq', 'jgt', 'jge', 'jset'][(code & 0xf0) >> 4] ?? '?';
    return `jmp|${op}|${code & BPF_X ? 'x' : 'k'}`;
  }
  return cls;
}

/**
 * Run a checked filter over seccomp_data and return its 32-bit result, as the kernel's
 * translated program computes it:
 * - A and X start at 0 (bpf_convert_filter's prologue);
 * - ALU is 32-bit, unsigned; division by X = 0 ends the program returning 0 (the prologue
 *   it inserts before DIV|X: "for cBPF programs, this was always return 0"), which seccomp
 *   reads as KILL_THREAD;
 * - shifts by X use X & 31 (kernel/bpf/core.c masks them; x86 SHL/SHR do the same);
 * - comparisons are unsigned 32-bit (negative immediates are zero-extended);
 * - `ld [k]` is a native (little-endian) u32 load from seccomp_data; `ld #len` is 64.
 */
export function runFilter(f: CheckedFilter, data: SeccompData | Uint32Array): number {
  const w = data instanceof Uint32Array ? data : seccompWords(data);
  const { code, jt, jf, k } = f;
  const mem = new Uint32Array(BPF_MEMWORDS);
  let A = 0;
  let X = 0;
  for (let pc = 0; ; pc++) {
    const c = code[pc]!;
    const K = k[pc]!;
    switch (c) {
      case BPF_LD | BPF_W | BPF_ABS: A = w[K >>> 2]!; break;
      case BPF_LD | BPF_W | BPF_LEN: A = SECCOMP_DATA.size; break;
      case BPF_LDX | BPF_W | BPF_LEN: X = SECCOMP_DATA.size; break;
      case BPF_LD | BPF_IMM: A = K; break;
      case BPF_LDX | BPF_IMM: X = K; break;
      case BPF_LD | BPF_MEM: A = mem[K]!; break;
      case BPF_LDX | BPF_MEM: X = mem[K]!; break;
      case BPF_ST: mem[K] = A; break;
      case BPF_STX: mem[K] = X; break;
      case BPF_MISC | BPF_TAX: X = A; break;
      case BPF_MISC | BPF_TXA: A = X; break;
      case BPF_ALU | BPF_ADD | BPF_K: A = (A + K) >>> 0; break;
      case BPF_ALU | BPF_ADD | BPF_X: A = (A + X) >>> 0; break;
      case BPF_ALU | BPF_SUB | BPF_K: A = (A - K) >>> 0; break;
      case BPF_ALU | BPF_SUB | BPF_X: A = (A - X) >>> 0; break;
      case BPF_ALU | BPF_MUL | BPF_K: A = Math.imul(A, K) >>> 0; break;
      case BPF_ALU | BPF_MUL | BPF_X: A = Math.imul(A, X) >>> 0; break;
      case BPF_ALU | BPF_DIV | BPF_K: A = Math.floor(A / K) >>> 0; break;
      case BPF_ALU | BPF_DIV | BPF_X:
        if (X === 0) return 0;
        A = Math.floor(A / X) >>> 0;
        break;
      case BPF_ALU | BPF_MOD | BPF_K: A = (A % K) >>> 0; break;
      case BPF_ALU | BPF_MOD | BPF_X:
        if (X === 0) return 0;
        A = (A % X) >>> 0;
        break;
      case BPF_ALU | BPF_AND | BPF_K: A = (A & K) >>> 0; break;
      case BPF_ALU | BPF_AND | BPF_X: A = (A & X) >>> 0; break;
      case BPF_ALU | BPF_OR | BPF_K: A = (A | K) >>> 0; break;
      case BPF_ALU | BPF_OR | BPF_X: A = (A | X) >>> 0; break;
      case BPF_ALU | BPF_XOR | BPF_K: A = (A ^ K) >>> 0; break;
      case BPF_ALU | BPF_XOR | BPF_X: A = (A ^ X) >>> 0; break;
      case BPF_ALU | BPF_LSH | BPF_K: A = (A << K) >>> 0; break;
      case BPF_ALU | BPF_LSH | BPF_X: A = (A << (X & 31)) >>> 0; break;
      case BPF_ALU | BPF_RSH | BPF_K: A = A >>> K; break;
      case BPF_ALU | BPF_RSH | BPF_X: A = A >>> (X & 31); break;
      case BPF_ALU | BPF_NEG: A = -A >>> 0; break;
      case BPF_JMP | BPF_JA: pc += K; break;
      case BPF_JMP | BPF_JEQ | BPF_K: pc += A === K ? jt[pc]! : jf[pc]!; break;
      case BPF_JMP | BPF_JEQ | BPF_X: pc += A === X ? jt[pc]! : jf[pc]!; break;
      case BPF_JMP | BPF_JGT | BPF_K: pc += A > K ? jt[pc]! : jf[pc]!; break;
      case BPF_JMP | BPF_JGT | BPF_X: pc += A > X ? jt[pc]! : jf[pc]!; break;
      case BPF_JMP | BPF_JGE | BPF_K: pc += A >= K ? jt[pc]! : jf[pc]!; break;
      case BPF_JMP | BPF_JGE | BPF_X: pc += A >= X ? jt[pc]! : jf[pc]!; break;
      case BPF_JMP | BPF_JSET | BPF_K: pc += (A & K) !== 0 ? jt[pc]! : jf[pc]!; break;
      case BPF_JMP | BPF_JSET | BPF_X: pc += (A & X) !== 0 ? jt[pc]! : jf[pc]!; break;
      case BPF_RET | BPF_K: return K;
      case BPF_RET | BPF_A: return A;
      default:
        // checkFilter lets nothing else through; reaching this is a bug in the simulator.
        throw new Error(`runFilter: opcode ${hex(c)} at ${pc} in a checked filter`);
    }
  }
}

/** Check then run, for one-off use (tests, `sysabi explain`). Throws on a refused program. */
export function runProgram(prog: readonly BpfInsn[], data: SeccompData): number {
  const c = checkFilter(prog);
  if (!c.ok) throw new Error(`filter refused (errno ${c.errno}): ${c.reason}`);
  return runFilter(c.prog, data);
}
