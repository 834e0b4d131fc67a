// Assembler and disassembler for the classic-BPF mnemonics that specs use to write seccomp
// filters (the syntax of the kernel's tools/bpf/bpf_asm, Documentation/networking/filter.rst,
// plus seccomp names: `ld [arch]`, `ret #ERRNO|EPERM`, `#__NR_getppid@x86_64`).
// The harness assembles once; every target receives the same struct sock_filter array.
// See docs/seccomp.md for the syntax.

import { AUDIT_ARCH, ERRNO, X32_SYSCALL_BIT, ABIS, type Abi } from '../../abi/constants.js';
import { lookupName } from '../../abi/tables/index.js';
import {
  BPF_A, BPF_ABS, BPF_ADD, BPF_ALU, BPF_AND, BPF_B, BPF_DIV, BPF_H, BPF_IMM, BPF_IND, BPF_JA,
  BPF_JEQ, BPF_JGE, BPF_JGT, BPF_JMP, BPF_JSET, BPF_K, BPF_LD, BPF_LDX, BPF_LEN, BPF_LSH,
  BPF_MEM, BPF_MISC, BPF_MOD, BPF_MSH, BPF_MUL, BPF_NEG, BPF_OR, BPF_RET, BPF_RSH, BPF_ST,
  BPF_STX, BPF_SUB, BPF_TAX, BPF_TXA, BPF_W, BPF_X, BPF_XOR, SECCOMP_DATA, SECCOMP_RET,
  SECCOMP_RET_ACTION_FULL, SECCOMP_RET_DATA, argOffset, insn, type BpfInsn,
} from './uapi.js';

/** A refused source line: where (1-based line and column) and what was expected. */
export class BpfAsmError extends Error {
  constructor(
    readonly line: number,
    readonly col: number,
    readonly detail: string,
  ) {
    super(`${line}:${col}: ${detail}`);
    this.name = 'BpfAsmError';
  }
}

export interface AsmOptions {
  /** ABI for `__NR_name` written without `@abi`; without it such names are refused. */
  abi?: Abi;
}

export interface AsmResult {
  insns: BpfInsn[];
  /** Source line (1-based) of each instruction. */
  lines: number[];
  /** Label → instruction index. */
  labels: Record<string, number>;
}

// ---------------------------------------------------------------- lexer

type TokKind = 'id' | 'num' | 'p' | 'end';
interface Tok {
  kind: TokKind;
  text: string;
  col: number;
  value?: number;
}

const ID_START = /[A-Za-z_%]/;
const ID_CHAR = /[A-Za-z0-9_]/;

function lex(src: string, line: number): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < src.length) {
    const ch = src[i]!;
    if (ch === ' ' || ch === '\t' || ch === '\r') { i++; continue; }
    if (ch === ';' || (ch === '/' && src[i + 1] === '/')) break; // comment to end of line
    const col = i + 1;
    if (/[0-9]/.test(ch)) {
      let j = i + 1;
      while (j < src.length && /[0-9A-Za-z_]/.test(src[j]!)) j++;
      const text = src.slice(i, j);
      const clean = text.replace(/_/g, '');
      const v = /^0x[0-9a-f]+$/i.test(clean) ? parseInt(clean.slice(2), 16)
        : /^0b[01]+$/i.test(clean) ? parseInt(clean.slice(2), 2)
        : /^[0-9]+$/.test(clean) ? Number(clean) : NaN;
      if (!Number.isFinite(v)) throw new BpfAsmError(line, col, `expected a number (decimal, 0x hex or 0b binary), found "${text}"`);
      out.push({ kind: 'num', text, col, value: v });
      i = j;
      continue;
    }
    if (ID_START.test(ch)) {
      let j = i + 1;
      while (j < src.length && ID_CHAR.test(src[j]!)) j++;
      out.push({ kind: 'id', text: src.slice(i, j), col });
      i = j;
      continue;
    }
    if ('#[](),:+-|*&@.~'.includes(ch)) {
      out.push({ kind: 'p', text: ch, col });
      i++;
      continue;
    }
    throw new BpfAsmError(line, col, `unexpected character "${ch}"`);
  }
  out.push({ kind: 'end', text: 'end of line', col: src.length + 1 });
  return out;
}

// ---------------------------------------------------------------- symbols

const ACTION_SYMBOLS: Record<string, number> = {};
for (const [name, v] of Object.entries(SECCOMP_RET)) {
  ACTION_SYMBOLS[name] = v;
  ACTION_SYMBOLS[`SECCOMP_RET_${name}`] = v;
}
ACTION_SYMBOLS.KILL = SECCOMP_RET.KILL_THREAD;
ACTION_SYMBOLS.SECCOMP_RET_KILL = SECCOMP_RET.KILL_THREAD;

const CONST_SYMBOLS: Record<string, number> = {
  ...ACTION_SYMBOLS,
  ...(ERRNO as Record<string, number>),
  AUDIT_ARCH_X86_64: AUDIT_ARCH.X86_64,
  AUDIT_ARCH_I386: AUDIT_ARCH.I386,
  X32_SYSCALL_BIT: Number(X32_SYSCALL_BIT),
  __X32_SYSCALL_BIT: Number(X32_SYSCALL_BIT),
  SECCOMP_RET_DATA: SECCOMP_RET_DATA,
  SECCOMP_RET_ACTION_FULL: SECCOMP_RET_ACTION_FULL,
};

/** seccomp_data field names usable inside `[ ]` (SC-01). */
const FIELD_SYMBOLS: Record<string, number> = {
  nr: SECCOMP_DATA.nr,
  arch: SECCOMP_DATA.arch,
  ip: SECCOMP_DATA.instruction_pointer,
  instruction_pointer: SECCOMP_DATA.instruction_pointer,
};

// ---------------------------------------------------------------- parser

interface LineCtx {
  toks: Tok[];
  pos: number;
  line: number;
  opts: AsmOptions;
}

function peek(c: LineCtx): Tok {
  return c.toks[c.pos]!;
}
function next(c: LineCtx): Tok {
  return c.toks[c.pos++]!;
}
function describe(t: Tok): string {
  return t.kind === 'end' ? 'end of line' : `"${t.text}"`;
}
function err(c: LineCtx, t: Tok, expected: string): never {
  throw new BpfAsmError(c.line, t.col, `expected ${expected}, found ${describe(t)}`);
}
function expectP(c: LineCtx, p: string, what = `"${p}"`): Tok {
  const t = next(c);
  if (t.kind !== 'p' || t.text !== p) err(c, t, what);
  return t;
}
function isP(t: Tok, p: string): boolean {
  return t.kind === 'p' && t.text === p;
}

/** expr := unary (('|' | '+' | '-' | '&') unary)* ; evaluated on 32-bit unsigned values. */
function expr(c: LineCtx, inBrackets: boolean): number {
  let v = unary(c, inBrackets);
  for (;;) {
    const t = peek(c);
    if (t.kind !== 'p' || !'|+-&'.includes(t.text)) return v;
    next(c);
    const r = unary(c, inBrackets);
    v = t.text === '|' ? (v | r) >>> 0 : t.text === '&' ? (v & r) >>> 0 : t.text === '+' ? (v + r) >>> 0 : (v - r) >>> 0;
  }
}

function unary(c: LineCtx, inBrackets: boolean): number {
  const t = peek(c);
  if (isP(t, '-')) { next(c); return -unary(c, inBrackets) >>> 0; }
  if (isP(t, '~')) { next(c); return ~unary(c, inBrackets) >>> 0; }
  return primary(c, inBrackets);
}

function primary(c: LineCtx, inBrackets: boolean): number {
  const t = next(c);
  if (t.kind === 'num') {
    if (t.value! > 0xffffffff) throw new BpfAsmError(c.line, t.col, `number ${t.text} does not fit in 32 bits`);
    return t.value! >>> 0;
  }
  if (isP(t, '(')) {
    const v = expr(c, inBrackets);
    expectP(c, ')');
    return v;
  }
  if (t.kind !== 'id') err(c, t, 'a number or a symbol');
  if (inBrackets && t.text === 'args') {
    expectP(c, '[', '"[" after args');
    const it = next(c);
    if (it.kind !== 'num' || it.value! > 5) err(c, it, 'an argument index 0..5');
    expectP(c, ']');
    return argOffset(it.value!) + halfSuffix(c);
  }
  if (inBrackets && t.text in FIELD_SYMBOLS) {
    const base = FIELD_SYMBOLS[t.text]!;
    return base + (base === SECCOMP_DATA.instruction_pointer ? halfSuffix(c) : 0);
  }
  if (t.text.startsWith('__NR_')) return syscallNumber(c, t);
  const v = CONST_SYMBOLS[t.text];
  if (v === undefined) {
    const fields = inBrackets ? ', nr, arch, ip, args[0..5]' : '';
    throw new BpfAsmError(c.line, t.col, `unknown symbol "${t.text}" (expected a number, an action such as ALLOW or ERRNO, an errno name, AUDIT_ARCH_X86_64/I386, __NR_name@abi${fields})`);
  }
  return v >>> 0;
}

/** `.hi` / `.lo` after a 64-bit field: the high half is 4 bytes further (little-endian). */
function halfSuffix(c: LineCtx): number {
  if (!isP(peek(c), '.')) return 0;
  next(c);
  const t = next(c);
  if (t.kind === 'id' && t.text === 'hi') return 4;
  if (t.kind === 'id' && t.text === 'lo') return 0;
  return err(c, t, '"hi" or "lo"');
}

function syscallNumber(c: LineCtx, t: Tok): number {
  const name = t.text.slice(5);
  let abi = c.opts.abi;
  if (isP(peek(c), '@')) {
    next(c);
    const a = next(c);
    if (a.kind !== 'id' && a.kind !== 'num') err(c, a, `an ABI (${ABIS.join(', ')})`);
    // "x86_64" lexes as one identifier; accept it and the others by name.
    if (!(ABIS as readonly string[]).includes(a.text)) err(c, a, `an ABI (${ABIS.join(', ')})`);
    abi = a.text as Abi;
  }
  if (!abi) throw new BpfAsmError(c.line, t.col, `"${t.text}" needs an ABI: write ${t.text}@x86_64, @i386 or @x32`);
  const row = lookupName(abi, name);
  if (!row) {
    const other = ABIS.filter((a) => a !== abi && lookupName(a, name));
    throw new BpfAsmError(c.line, t.col, `no syscall "${name}" in the ${abi} table${other.length ? ` (it exists on ${other.join(', ')})` : ''}`);
  }
  return row.nr >>> 0;
}

/** A jump target: a label (resolved later) or a relative offset. */
type Target = { label: string; col: number } | { rel: number; col: number };

function target(c: LineCtx): Target {
  const t = next(c);
  if (isP(t, '+')) {
    const n = next(c);
    if (n.kind !== 'num') err(c, n, 'an offset after "+"');
    return { rel: n.value!, col: t.col };
  }
  if (t.kind === 'num') return { rel: t.value!, col: t.col };
  if (t.kind === 'id' && !t.text.startsWith('%')) return { label: t.text, col: t.col };
  return err(c, t, 'a label or a forward offset');
}

interface Pending {
  insn: BpfInsn;
  line: number;
  /** Jump targets still to resolve: ja → k; conditional → jt/jf. */
  k?: Target;
  jt?: Target;
  jf?: Target;
}

const ALU_OPS: Record<string, number> = {
  add: BPF_ADD, sub: BPF_SUB, mul: BPF_MUL, div: BPF_DIV, mod: BPF_MOD, and: BPF_AND, or: BPF_OR,
  xor: BPF_XOR, lsh: BPF_LSH, rsh: BPF_RSH,
};
/** Conditional jumps: opcode and whether the true/false targets are swapped (jne, jlt, jle). */
const JUMPS: Record<string, { op: number; swap: boolean }> = {
  jeq: { op: BPF_JEQ, swap: false }, jne: { op: BPF_JEQ, swap: true }, jneq: { op: BPF_JEQ, swap: true },
  jgt: { op: BPF_JGT, swap: false }, jle: { op: BPF_JGT, swap: true },
  jge: { op: BPF_JGE, swap: false }, jlt: { op: BPF_JGE, swap: true },
  jset: { op: BPF_JSET, swap: false },
};

const isReg = (t: Tok, r: 'x' | 'a'): boolean => t.kind === 'id' && (t.text === r || t.text === `%${r}`);

/** Parse `[k]`, `[x + k]`, `M[k]`, `#k`, `#len`, `4*([k]&0xf)` for ld/ldx. */
function loadOperand(c: LineCtx, mn: string): { mode: number; k: number; size?: number } {
  const t = peek(c);
  if (isP(t, '#')) {
    next(c);
    const l = peek(c);
    if (l.kind === 'id' && l.text === 'len') { next(c); return { mode: BPF_LEN, k: 0 }; }
    return { mode: BPF_IMM, k: expr(c, false) };
  }
  if (t.kind === 'id' && t.text === 'M') {
    next(c);
    expectP(c, '[');
    const k = expr(c, false);
    expectP(c, ']');
    return { mode: BPF_MEM, k };
  }
  if (isP(t, '[')) {
    next(c);
    if (isReg(peek(c), 'x')) {
      next(c);
      let k = 0;
      if (isP(peek(c), '+')) { next(c); k = expr(c, true); }
      expectP(c, ']');
      return { mode: BPF_IND, k };
    }
    const k = expr(c, true);
    expectP(c, ']');
    return { mode: BPF_ABS, k };
  }
  if (t.kind === 'num' && t.value === 4 && mn.startsWith('ldx')) {
    // 4*([k]&0xf): the IP-header-length idiom (BPF_MSH); classic only, refused by seccomp.
    next(c);
    expectP(c, '*');
    expectP(c, '(');
    expectP(c, '[');
    const k = expr(c, true);
    expectP(c, ']');
    expectP(c, '&');
    const m = next(c);
    if (m.kind !== 'num' || m.value !== 0xf) err(c, m, '0xf');
    expectP(c, ')');
    return { mode: BPF_MSH, k };
  }
  return err(c, t, mn.startsWith('ldx') ? '#k, #len, M[k] or 4*([k]&0xf)' : '[k], [x + k], #k, #len or M[k]');
}

function parseInsn(c: LineCtx, mnTok: Tok): Pending {
  const mn = mnTok.text.toLowerCase();
  const line = c.line;
  const P = (i: BpfInsn, extra: Partial<Pending> = {}): Pending => ({ insn: i, line, ...extra });

  switch (mn) {
    case 'ld': case 'ldh': case 'ldb': case 'ldi': {
      const op = loadOperand(c, mn);
      const size = mn === 'ldh' ? BPF_H : mn === 'ldb' ? BPF_B : BPF_W;
      if (mn === 'ldi' && op.mode !== BPF_IMM) err(c, mnTok, 'ldi #k');
      if (size !== BPF_W && op.mode !== BPF_ABS && op.mode !== BPF_IND) {
        throw new BpfAsmError(line, mnTok.col, `${mn} takes [k] or [x + k]`);
      }
      if (op.mode === BPF_IMM || op.mode === BPF_MEM) return P(insn(BPF_LD | op.mode, op.k));
      return P(insn(BPF_LD | size | op.mode, op.k));
    }
    case 'ldx': case 'ldxi': case 'ldxb': {
      const op = loadOperand(c, mn);
      if (op.mode === BPF_ABS || op.mode === BPF_IND) {
        throw new BpfAsmError(line, mnTok.col, 'ldx cannot load from seccomp_data: load into A with ld, then tax');
      }
      if (op.mode === BPF_MSH) return P(insn(BPF_LDX | BPF_B | BPF_MSH, op.k));
      if (op.mode === BPF_LEN) return P(insn(BPF_LDX | BPF_W | BPF_LEN, 0));
      return P(insn(BPF_LDX | op.mode, op.k));
    }
    case 'st': case 'stx': {
      const m = next(c);
      if (!(m.kind === 'id' && m.text === 'M')) err(c, m, 'M[k]');
      expectP(c, '[');
      const k = expr(c, false);
      expectP(c, ']');
      return P(insn(mn === 'st' ? BPF_ST : BPF_STX, k));
    }
    case 'ja': case 'jmp': {
      const t = target(c);
      return P(insn(BPF_JMP | BPF_JA), { k: t });
    }
    case 'tax': return P(insn(BPF_MISC | BPF_TAX));
    case 'txa': return P(insn(BPF_MISC | BPF_TXA));
    case 'neg': return P(insn(BPF_ALU | BPF_NEG));
    case 'ret': {
      const t = peek(c);
      if (isReg(t, 'a')) { next(c); return P(insn(BPF_RET | BPF_A)); }
      if (isReg(t, 'x')) { next(c); return P(insn(BPF_RET | BPF_X)); }
      if (!isP(t, '#')) err(c, t, '#k or a');
      next(c);
      return P(insn(BPF_RET | BPF_K, expr(c, false)));
    }
  }
  if (mn in ALU_OPS) {
    const t = peek(c);
    if (isReg(t, 'x')) { next(c); return P(insn(BPF_ALU | ALU_OPS[mn]! | BPF_X)); }
    if (!isP(t, '#')) err(c, t, '#k or x');
    next(c);
    return P(insn(BPF_ALU | ALU_OPS[mn]! | BPF_K, expr(c, false)));
  }
  const j = JUMPS[mn];
  if (j) {
    const t = peek(c);
    let code = BPF_JMP | j.op;
    let k = 0;
    if (isReg(t, 'x')) { next(c); code |= BPF_X; } else {
      if (!isP(t, '#')) err(c, t, '#k or x');
      next(c);
      k = expr(c, false);
    }
    expectP(c, ',', '"," and a jump target');
    const first = target(c);
    let second: Target | undefined;
    if (isP(peek(c), ',')) { next(c); second = target(c); }
    const zero: Target = { rel: 0, col: first.col };
    // jeq #k, Lt → false falls through; jne #k, L → true falls through, false goes to L.
    const [jt, jf] = j.swap ? [second ?? zero, first] : [first, second ?? zero];
    return P(insn(code, k), { jt, jf });
  }
  throw new BpfAsmError(line, mnTok.col, `unknown instruction "${mnTok.text}" (expected ld, ldx, st, stx, add..xor, neg, tax, txa, ja, jeq, jne, jgt, jge, jlt, jle, jset or ret)`);
}

/**
 * `.word code, jt, jf, k`: a raw struct sock_filter, for programs no mnemonic can express
 * (packet loads, unknown opcodes) — e.g. to check that the kernel refuses them.
 */
function parseWord(c: LineCtx): Pending {
  const w = next(c);
  if (!(w.kind === 'id' && w.text === 'word')) err(c, w, '"word" after "."');
  const field = (max: number, what: string): number => {
    const t = peek(c);
    const v = expr(c, false);
    if (v > max) throw new BpfAsmError(c.line, t.col, `${what} ${v} does not fit (at most ${max})`);
    return v;
  };
  const code = field(0xffff, 'code');
  expectP(c, ',');
  const jt = field(255, 'jt');
  expectP(c, ',');
  const jf = field(255, 'jf');
  expectP(c, ',');
  const k = field(0xffffffff, 'k');
  return { insn: { code, jt, jf, k }, line: c.line };
}

/** Assemble source text (or a list of lines, as YAML gives it) into instructions and a line map. */
export function assembleProgram(src: string | readonly string[], opts: AsmOptions = {}): AsmResult {
  const lines = typeof src === 'string' ? src.split('\n') : src;
  const pending: Pending[] = [];
  const labels = new Map<string, { index: number; line: number }>();
  for (let li = 0; li < lines.length; li++) {
    const line = li + 1;
    const c: LineCtx = { toks: lex(lines[li]!, line), pos: 0, line, opts };
    // Leading labels ("name:") and disassembler line numbers ("12:") before the instruction.
    for (;;) {
      const t = peek(c);
      const after = c.toks[c.pos + 1];
      if (!after || !isP(after, ':')) break;
      if (t.kind === 'num') {
        if (t.value !== pending.length) {
          throw new BpfAsmError(line, t.col, `line number ${t.text} does not match the instruction index ${pending.length}`);
        }
      } else if (t.kind === 'id' && !t.text.startsWith('%')) {
        const prev = labels.get(t.text);
        if (prev) throw new BpfAsmError(line, t.col, `label "${t.text}" already defined on line ${prev.line}`);
        labels.set(t.text, { index: pending.length, line });
      } else break;
      c.pos += 2;
    }
    const mn = next(c);
    if (mn.kind === 'end') continue;
    let p: Pending;
    if (isP(mn, '.')) p = parseWord(c);
    else if (mn.kind !== 'id') err(c, mn, 'an instruction');
    else p = parseInsn(c, mn);
    const rest = peek(c);
    if (rest.kind !== 'end') err(c, rest, 'end of line');
    pending.push(p);
  }

  const resolve = (t: Target, pc: number, line: number, max: number, what: string): number => {
    let rel: number;
    if ('rel' in t) rel = t.rel;
    else {
      const l = labels.get(t.label);
      if (!l) throw new BpfAsmError(line, t.col, `undefined label "${t.label}"`);
      rel = l.index - pc - 1;
      if (rel < 0) throw new BpfAsmError(line, t.col, `label "${t.label}" is behind this instruction: cBPF jumps go forward only`);
    }
    if (rel > max) {
      throw new BpfAsmError(line, t.col, `${what} offset ${rel} does not fit (at most ${max}${max === 255 ? '; jump to a "ja" instead' : ''})`);
    }
    return rel;
  };
  const insns = pending.map((p, pc) => {
    const i = { ...p.insn };
    if (p.k) i.k = resolve(p.k, pc, p.line, 0xffffffff, 'ja');
    if (p.jt) i.jt = resolve(p.jt, pc, p.line, 255, 'true-branch');
    if (p.jf) i.jf = resolve(p.jf, pc, p.line, 255, 'false-branch');
    return i;
  });
  return {
    insns,
    lines: pending.map((p) => p.line),
    labels: Object.fromEntries([...labels].map(([k, v]) => [k, v.index])),
  };
}

/** Assemble; throws BpfAsmError with line:col on bad input. */
export function assemble(src: string | readonly string[], opts: AsmOptions = {}): BpfInsn[] {
  return assembleProgram(src, opts).insns;
}

// ---------------------------------------------------------------- disassembler

const hex = (v: number): string => `0x${(v >>> 0).toString(16)}`;

/** A 32-bit constant as a spec author would write it; arch names only where A holds arch. */
function constText(k: number, archInA = false): string {
  if (archInA && k === AUDIT_ARCH.X86_64) return 'AUDIT_ARCH_X86_64';
  // 0x40000003 is both AUDIT_ARCH_I386 and x32 close: only the context tells them apart.
  if (archInA && k === AUDIT_ARCH.I386) return 'AUDIT_ARCH_I386';
  return k < 4096 ? String(k) : hex(k);
}

/** A return value: known actions by name with their data, anything else in hex. */
export function retText(k: number): string {
  const full = (k & SECCOMP_RET_ACTION_FULL) >>> 0;
  const name = (Object.keys(SECCOMP_RET) as (keyof typeof SECCOMP_RET)[]).find((n) => SECCOMP_RET[n] === full);
  if (!name) return hex(k);
  const data = k & SECCOMP_RET_DATA;
  return data ? `${name}|${data}` : name;
}

/** A seccomp_data offset by field name where it is one (aligned, inside the struct). */
function fieldText(k: number): string {
  if (k >= SECCOMP_DATA.size || k & 3) return String(k);
  if (k === 0) return 'nr';
  if (k === 4) return 'arch';
  if (k === 8) return 'ip';
  if (k === 12) return 'ip.hi';
  const i = (k - 16) >> 3;
  return k & 4 ? `args[${i}].hi` : `args[${i}]`;
}

/** The load encodings that have a mnemonic (any other LD/LDX code prints as .word). */
const LOAD_CODES = new Set<number>([
  BPF_LD | BPF_W | BPF_ABS, BPF_LD | BPF_H | BPF_ABS, BPF_LD | BPF_B | BPF_ABS,
  BPF_LD | BPF_W | BPF_IND, BPF_LD | BPF_H | BPF_IND, BPF_LD | BPF_B | BPF_IND,
  BPF_LD | BPF_IMM, BPF_LDX | BPF_IMM, BPF_LD | BPF_MEM, BPF_LDX | BPF_MEM,
  BPF_LD | BPF_W | BPF_LEN, BPF_LDX | BPF_W | BPF_LEN, BPF_LDX | BPF_B | BPF_MSH,
]);

/** One instruction's text; jumps as relative offsets (the form assemble() reads back). */
export function disasmInsn(i: BpfInsn, archInA = false): string {
  const { code, k, jt, jf } = i;
  const word = `.word ${hex(code)}, ${jt}, ${jf}, ${hex(k)}`;
  // Only exact encodings get a mnemonic; stray bits (which the kernel refuses) stay visible.
  if (code > 0xff) return word;
  const src = code & BPF_X ? 'x' : `#${constText(k, archInA)}`;
  switch (code & 7) {
    case BPF_LD:
    case BPF_LDX: {
      if (!LOAD_CODES.has(code)) return word;
      const x = (code & 7) === BPF_LDX ? 'x' : '';
      const mode = code & 0xe0;
      const sz = (code & 0x18) === BPF_H ? 'h' : (code & 0x18) === BPF_B ? 'b' : '';
      if (mode === BPF_IMM) return `ld${x} #${constText(k)}`;
      if (mode === BPF_MEM) return `ld${x} M[${k}]`;
      if (mode === BPF_LEN) return `ld${x} #len`;
      if (mode === BPF_ABS && !x) return `ld${sz} [${fieldText(k)}]`;
      if (mode === BPF_IND && !x) return `ld${sz} [x + ${k}]`;
      if (mode === BPF_MSH && x) return `ldxb 4*([${k}]&0xf)`;
      return word;
    }
    case BPF_ST: return code === BPF_ST ? `st M[${k}]` : word;
    case BPF_STX: return code === BPF_STX ? `stx M[${k}]` : word;
    case BPF_ALU: {
      const op = (code & 0xf0) as number;
      if (op === BPF_NEG) return code === (BPF_ALU | BPF_NEG) ? 'neg' : word;
      const name = Object.keys(ALU_OPS).find((n) => ALU_OPS[n] === op);
      return name ? `${name} ${src}` : `.word ${hex(code)}, ${jt}, ${jf}, ${hex(k)}`;
    }
    case BPF_JMP: {
      const op = code & 0xf0;
      if (op === BPF_JA) return code === (BPF_JMP | BPF_JA) ? `ja ${k}` : word;
      const name = { [BPF_JEQ]: 'jeq', [BPF_JGT]: 'jgt', [BPF_JGE]: 'jge', [BPF_JSET]: 'jset' }[op];
      return name ? `${name} ${src}, ${jt}, ${jf}` : `.word ${hex(code)}, ${jt}, ${jf}, ${hex(k)}`;
    }
    case BPF_RET: {
      if (code & 0xe0) return word;
      const r = code & 0x18;
      if (r === BPF_A) return 'ret a';
      if (r === BPF_X) return 'ret x';
      return `ret #${retText(k)}`;
    }
    case BPF_MISC:
      if (code === (BPF_MISC | BPF_TAX)) return 'tax';
      if (code === (BPF_MISC | BPF_TXA)) return 'txa';
  }
  return `.word ${hex(code)}, ${jt}, ${jf}, ${hex(k)}`;
}

/**
 * Disassemble for reports and `sysabi explain`: one line per instruction, "N: text", with the
 * absolute targets of jumps in a comment. The text (without comments) assembles back to the
 * same instructions, line numbers included. Opcodes with no mnemonic print as `.word code, jt, jf, k`.
 */
export function disasm(prog: readonly BpfInsn[]): string[] {
  const w = String(Math.max(0, prog.length - 1)).length;
  // Whether A holds seccomp_data.arch at each instruction: a forward pass over the flow
  // graph (cBPF jumps only go forward), true only if true on every incoming edge.
  const inc: (boolean | undefined)[] = new Array(prog.length + 1);
  const join = (pc: number, v: boolean): void => {
    if (pc < inc.length) inc[pc] = inc[pc] === undefined ? v : inc[pc]! && v;
  };
  join(0, false);
  return prog.map((i, pc) => {
    const archInA = inc[pc] ?? false;
    const text = disasmInsn(i, archInA);
    let out = archInA;
    if ((i.code & 7) === BPF_LD || (i.code & 7) === BPF_ALU || i.code === (BPF_MISC | BPF_TXA)) {
      out = i.code === (BPF_LD | BPF_W | BPF_ABS) && i.k === SECCOMP_DATA.arch;
    }
    if ((i.code & 7) === BPF_JMP) {
      if ((i.code & 0xf0) === BPF_JA) join(pc + 1 + i.k, out);
      else {
        join(pc + 1 + i.jt, out);
        join(pc + 1 + i.jf, out);
      }
    } else if ((i.code & 7) !== BPF_RET) join(pc + 1, out);
    let note = '';
    if ((i.code & 7) === BPF_JMP) {
      note = (i.code & 0xf0) === BPF_JA ? `  ; -> ${pc + 1 + i.k}` : `  ; -> ${pc + 1 + i.jt}, else ${pc + 1 + i.jf}`;
    }
    return `${String(pc).padStart(w)}: ${text}${note}`;
  });
}
