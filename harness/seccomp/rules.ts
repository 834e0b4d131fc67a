// The rule-list form of a seccomp filter in specs ({syscall: getppid, action: errno(EPERM)},
// {arch: i386, action: kill_process}, {default: allow}) and its compiler to classic BPF.
// The program checks the arch first (Documentation/userspace-api/seccomp_filter.rst: syscall
// numbers mean different things per arch), covers every x86 ABI at once — so a Case gets the
// same program whatever its ABI and target — and is deterministic and small.
// evaluateRules() is the direct meaning of a rule list; tests hold the compiled program to it.

import { ABIS, AUDIT_ARCH, ERRNO, MAX_ERRNO, X32_SYSCALL_BIT, type Abi } from '../../abi/constants.js';
import { lookupName } from '../../abi/tables/index.js';
import {
  BPF_ABS, BPF_ALU, BPF_AND, BPF_JA, BPF_JEQ, BPF_JGE, BPF_JGT, BPF_JMP, BPF_JSET, BPF_K, BPF_LD,
  BPF_RET, BPF_W, SECCOMP_DATA, SECCOMP_RET, SECCOMP_RET_DATA, argOffset, insn, type BpfInsn,
} from './uapi.js';

export type RuleArch = Abi | 'other';
export type ArgValue = number | bigint | string;
/** One comparison of a syscall argument (unsigned; exactly one key). */
export interface ArgCmp {
  eq?: ArgValue;
  ne?: ArgValue;
  lt?: ArgValue;
  le?: ArgValue;
  gt?: ArgValue;
  ge?: ArgValue;
  /** [mask, value]: (arg & mask) == value. */
  masked_eq?: readonly [ArgValue, ArgValue];
  /** Any of these bits set: (arg & mask) != 0. */
  set?: ArgValue;
}
export interface Rule {
  /** A name (looked up per ABI), a number (as the filter sees nr), or a list of them. */
  syscall?: string | number | readonly (string | number)[];
  /** Which ABIs the rule applies to (default: x86_64, i386 and x32); 'other': any other arch. */
  arch?: RuleArch | readonly RuleArch[];
  /** Argument index (0..5) → comparison(s); all must hold. */
  args?: Readonly<Record<string | number, ArgCmp | readonly ArgCmp[]>>;
  action: string | number;
}
export interface DefaultRule {
  default: string | number;
}
export type RuleList = readonly (Rule | DefaultRule)[];

/** A malformed rule list: which rule (0-based) and what is wrong. */
export class RuleError extends Error {
  constructor(
    readonly index: number,
    readonly detail: string,
  ) {
    super(`rule ${index}: ${detail}`);
    this.name = 'RuleError';
  }
}

const OPS = ['eq', 'ne', 'lt', 'le', 'gt', 'ge', 'masked_eq', 'set'] as const;
type Op = (typeof OPS)[number];
const ARCHS: readonly RuleArch[] = [...ABIS, 'other'];
const X32_BIT = Number(X32_SYSCALL_BIT);
const U64 = (1n << 64n) - 1n;

// ------------------------------------------------------------------ actions

/**
 * An action as specs write it → the 32-bit filter return: allow, log, kill_process,
 * kill_thread (kill), trap(N), errno(EPERM | N), trace(N), user_notif; a number or "0x…"
 * is a raw return value (for unknown-action cases). Data must fit SECCOMP_RET_DATA (16 bits).
 */
export function parseAction(a: string | number): number {
  if (typeof a === 'number') {
    if (!Number.isInteger(a) || a < 0 || a > 0xffffffff) throw new Error(`action ${a} is not a 32-bit value`);
    return a >>> 0;
  }
  const s = a.trim();
  if (/^(0x[0-9a-f]+|[0-9]+)$/i.test(s)) return parseAction(Number(s));
  const m = /^([a-z_]+)\s*(?:\(\s*([A-Za-z0-9_]+)\s*\))?$/i.exec(s);
  if (!m) throw new Error(`expected an action such as allow, errno(EPERM), trap(1), trace(7), kill_process; found "${a}"`);
  const name = m[1]!.toLowerCase();
  const base: Record<string, number> = {
    allow: SECCOMP_RET.ALLOW, log: SECCOMP_RET.LOG, kill_process: SECCOMP_RET.KILL_PROCESS,
    kill_thread: SECCOMP_RET.KILL_THREAD, kill: SECCOMP_RET.KILL_THREAD, trap: SECCOMP_RET.TRAP,
    errno: SECCOMP_RET.ERRNO, trace: SECCOMP_RET.TRACE, user_notif: SECCOMP_RET.USER_NOTIF,
  };
  const v = base[name];
  if (v === undefined) throw new Error(`unknown action "${m[1]}" (expected allow, log, kill_process, kill_thread, trap, errno, trace or user_notif)`);
  const arg = m[2];
  if (arg === undefined) {
    if (name === 'errno') throw new Error('errno needs a value: errno(EPERM) or errno(1)');
    return v >>> 0;
  }
  if (!['errno', 'trap', 'trace'].includes(name)) throw new Error(`action ${name} takes no data`);
  let data: number;
  if (/^[0-9]+$/.test(arg) || /^0x[0-9a-f]+$/i.test(arg)) data = Number(arg);
  else if (name === 'errno' && arg in ERRNO) data = ERRNO[arg as keyof typeof ERRNO];
  else throw new Error(`expected a number${name === 'errno' ? ' or an errno name' : ''} in ${name}(…), found "${arg}"`);
  if (data > SECCOMP_RET_DATA) throw new Error(`${name}(${arg}): data ${data} does not fit in 16 bits`);
  return (v | data) >>> 0;
}

// ------------------------------------------------------------------ normalised rules

interface Cmp {
  arg: number;
  op: Op;
  /** The constant (u64); for masked_eq the value, with the mask in `mask`. */
  v: bigint;
  mask: bigint;
}
interface NRule {
  index: number;
  archs: Set<RuleArch>;
  /** Per-ABI numbers the rule matches; undefined = any number. */
  nrs?: Partial<Record<Abi, number[]>>;
  cmps: Cmp[];
  ret: number;
}
interface Normalised {
  rules: NRule[];
  defaultRet: number;
}

function parseValue(v: ArgValue, index: number, where: string): bigint {
  let b: bigint;
  if (typeof v === 'bigint') b = v;
  else if (typeof v === 'number') {
    if (!Number.isSafeInteger(v)) throw new RuleError(index, `${where}: ${v} is not an exact integer (write large values as strings)`);
    b = BigInt(v);
  } else {
    const s = v.trim().replace(/_/g, '');
    if (!/^-?(0x[0-9a-f]+|[0-9]+)$/i.test(s)) throw new RuleError(index, `${where}: expected an integer, found "${v}"`);
    b = s.startsWith('-') ? -BigInt(s.slice(1)) : BigInt(s);
  }
  // Negative values mean the 64-bit two's complement (-1 = 0xffff_ffff_ffff_ffff).
  if (b < -(1n << 63n) || b > U64) throw new RuleError(index, `${where}: ${v} does not fit in 64 bits`);
  return BigInt.asUintN(64, b);
}

function normalise(list: RuleList): Normalised {
  if (!Array.isArray(list)) throw new RuleError(0, 'expected a list of rules');
  let defaultRet: number | undefined;
  const rules: NRule[] = [];
  list.forEach((r, index) => {
    if (r === null || typeof r !== 'object') throw new RuleError(index, 'expected a mapping');
    if ('default' in r) {
      const extra = Object.keys(r).filter((k) => k !== 'default');
      if (extra.length) throw new RuleError(index, `a default rule has only "default" (found ${extra.join(', ')})`);
      if (index !== list.length - 1) throw new RuleError(index, 'the default rule must come last');
      try {
        defaultRet = parseAction(r.default);
      } catch (e) {
        throw new RuleError(index, (e as Error).message);
      }
      return;
    }
    const known = ['syscall', 'arch', 'args', 'action'];
    const bad = Object.keys(r).filter((k) => !known.includes(k));
    if (bad.length) throw new RuleError(index, `unknown key ${bad.map((b) => `"${b}"`).join(', ')} (expected ${known.join(', ')} or default)`);
    if (!('action' in r)) throw new RuleError(index, 'missing "action"');
    let ret: number;
    try {
      ret = parseAction(r.action);
    } catch (e) {
      throw new RuleError(index, (e as Error).message);
    }
    const archList = r.arch === undefined ? ABIS : Array.isArray(r.arch) ? r.arch : [r.arch as RuleArch];
    for (const a of archList) {
      if (!ARCHS.includes(a)) throw new RuleError(index, `unknown arch "${String(a)}" (expected ${ARCHS.join(', ')})`);
    }
    const archs = new Set<RuleArch>(archList);
    if (archs.has('other') && (r.syscall !== undefined || r.args !== undefined)) {
      throw new RuleError(index, 'arch "other" has no syscall table: it takes no syscall or args');
    }
    let nrs: NRule['nrs'];
    if (r.syscall !== undefined) {
      const entries = Array.isArray(r.syscall) ? r.syscall : [r.syscall as string | number];
      if (entries.length === 0) throw new RuleError(index, 'empty syscall list');
      nrs = {};
      for (const abi of ABIS) {
        if (!archs.has(abi)) continue;
        const out: number[] = [];
        for (const e of entries) {
          if (typeof e === 'number') {
            if (!Number.isInteger(e) || e < -0x80000000 || e > 0xffffffff) throw new RuleError(index, `syscall number ${e} is not a 32-bit value`);
            // A number belongs to the ABI its bit 30 says (x32 numbers carry it, SC-02).
            const n = e >>> 0;
            const isX32 = abi !== 'i386' && (n & X32_BIT) !== 0;
            if (abi === 'i386' || (abi === 'x32') === isX32) out.push(n);
          } else {
            const row = lookupName(abi, e);
            if (row) out.push(row.nr >>> 0);
          }
        }
        if (out.length) nrs[abi] = [...new Set(out)];
      }
      for (const e of entries) {
        if (typeof e === 'string' && !ABIS.some((abi) => archs.has(abi) && lookupName(abi, e))) {
          const elsewhere = ABIS.filter((abi) => lookupName(abi, e));
          throw new RuleError(index, `no syscall "${e}" in the ${[...archs].join('/')} table${elsewhere.length ? ` (it exists on ${elsewhere.join(', ')})` : ''}`);
        }
      }
    }
    const cmps: Cmp[] = [];
    for (const [key, val] of Object.entries(r.args ?? {})) {
      const arg = Number(key);
      if (!/^[0-5]$/.test(key)) throw new RuleError(index, `argument index "${key}" is not 0..5`);
      const list2 = Array.isArray(val) ? val : [val as ArgCmp];
      for (const c of list2) {
        const ks = Object.keys(c ?? {});
        if (ks.length !== 1 || !OPS.includes(ks[0] as Op)) {
          throw new RuleError(index, `args.${key}: expected exactly one of ${OPS.join(', ')}, found {${ks.join(', ')}}`);
        }
        const op = ks[0] as Op;
        const where = `args.${key}.${op}`;
        if (op === 'masked_eq') {
          const pair = c.masked_eq;
          if (!Array.isArray(pair) || pair.length !== 2) throw new RuleError(index, `${where}: expected [mask, value]`);
          cmps.push({ arg, op, mask: parseValue(pair[0]!, index, where), v: parseValue(pair[1]!, index, where) });
        } else if (op === 'set') {
          cmps.push({ arg, op, mask: parseValue(c.set!, index, where), v: 0n });
        } else {
          cmps.push({ arg, op, v: parseValue(c[op] as ArgValue, index, where), mask: U64 });
        }
      }
    }
    rules.push({ index, archs, nrs, cmps, ret });
  });
  if (defaultRet === undefined) throw new RuleError(list.length, 'missing the final {default: <action>} rule');
  return { rules, defaultRet };
}

/** What an unmatched call of an arch no rule names gets, unless a rule says {arch: other}. */
export const OTHER_ARCH_DEFAULT = SECCOMP_RET.KILL_PROCESS;

// ------------------------------------------------------------------ direct meaning

function classify(arch: number, nr: number): Abi | null {
  if (arch >>> 0 === AUDIT_ARCH.I386) return 'i386';
  if (arch >>> 0 === AUDIT_ARCH.X86_64) return (nr & X32_BIT) !== 0 ? 'x32' : 'x86_64';
  return null;
}

function cmpHolds(c: Cmp, value: bigint, bits: 32 | 64): boolean {
  const w = (x: bigint): bigint => BigInt.asUintN(bits, x);
  const v = w(value);
  const k = w(c.v);
  switch (c.op) {
    case 'eq': return v === k;
    case 'ne': return v !== k;
    case 'lt': return v < k;
    case 'le': return v <= k;
    case 'gt': return v > k;
    case 'ge': return v >= k;
    case 'masked_eq': return (v & w(c.mask)) === k;
    case 'set': return (v & w(c.mask)) !== 0n;
  }
}

/**
 * The rule list's meaning for one seccomp_data: the first rule that matches gives the
 * return value, else the default. The ABI is told by arch and, under X86_64, bit 30 of nr.
 * A rule matches when its arch includes the call's ABI, nr is one of its syscalls as that
 * ABI numbers them, and every argument comparison holds — unsigned, on 64 bits, or on the
 * low 32 bits for i386 (the width a compat syscall reads). A call from an arch that is none
 * of these matches only {arch: other} rules; failing those it gets OTHER_ARCH_DEFAULT.
 */
export function evaluateRules(
  list: RuleList,
  data: { nr: number; arch: number; args: readonly bigint[] },
): number {
  const { rules, defaultRet } = normalise(list);
  return evalNormalised(rules, defaultRet, data);
}

function evalNormalised(rules: NRule[], defaultRet: number, data: { nr: number; arch: number; args: readonly bigint[] }): number {
  const abi = classify(data.arch, data.nr);
  const nr = data.nr >>> 0;
  for (const r of rules) {
    if (abi === null) {
      if (r.archs.has('other')) return r.ret;
      continue;
    }
    if (!r.archs.has(abi)) continue;
    if (r.nrs && !(r.nrs[abi] ?? []).includes(nr)) continue;
    const bits = abi === 'i386' ? 32 : 64;
    if (r.cmps.every((c) => cmpHolds(c, data.args[c.arg] ?? 0n, bits))) return r.ret;
  }
  return abi === null ? OTHER_ARCH_DEFAULT : defaultRet;
}

// ------------------------------------------------------------------ code generation

type Label = number;
type Item =
  | { t: 'label'; l: Label }
  | { t: 'op'; code: number; k: number }
  | { t: 'ja'; to: Label }
  | { t: 'jc'; code: number; k: number; jt: Label; jf: Label };

/**
 * Builds the program with symbolic labels. Since cBPF jumps only go forward, every jump to a
 * label is emitted before the label is placed; the emitter records which seccomp_data word A
 * holds on each incoming edge, so a load of a word A already holds on every path is skipped.
 */
class Emitter {
  items: Item[] = [];
  private n = 0;
  /** Shared return instructions, emitted once at the very end (first use decides order). */
  private rets = new Map<number, Label>();
  /** Offset of the seccomp_data word in A, or null when unknown. */
  private a: number | null = null;
  /** Whether the next instruction can be reached by falling through. */
  private live = true;
  private incoming = new Map<Label, (number | null)[]>();

  label(): Label {
    return this.n++;
  }
  place(l: Label): void {
    const states = this.incoming.get(l) ?? [];
    if (this.live) states.push(this.a);
    this.a = states.length > 0 && states.every((s) => s === states[0]) ? states[0]! : null;
    this.live = true;
    this.items.push({ t: 'label', l });
  }
  private edge(l: Label): void {
    const list = this.incoming.get(l) ?? [];
    list.push(this.a);
    this.incoming.set(l, list);
  }
  /** `ld [off]`, unless A already holds that word on every path reaching here. */
  ld(off: number): void {
    if (this.live && this.a === off) return;
    this.items.push({ t: 'op', code: BPF_LD | BPF_W | BPF_ABS, k: off });
    this.a = off;
    this.live = true;
  }
  op(code: number, k = 0): void {
    this.items.push({ t: 'op', code, k: k >>> 0 });
    this.a = null;
    if ((code & 7) === BPF_RET) this.live = false;
  }
  ret(v: number): void {
    this.op(BPF_RET | BPF_K, v);
  }
  /** Conditional jump; `null` means the next instruction. */
  jc(code: number, k: number, jt: Label | null, jf: Label | null): void {
    const next = jt === null || jf === null ? this.label() : -1;
    const t = jt ?? next;
    const f = jf ?? next;
    this.edge(t);
    if (f !== t) this.edge(f);
    this.items.push({ t: 'jc', code, k: k >>> 0, jt: t, jf: f });
    this.live = false;
    if (next >= 0) this.place(next);
  }
  retLabel(v: number): Label {
    let l = this.rets.get(v);
    if (l === undefined) {
      l = this.label();
      this.rets.set(v, l);
    }
    return l;
  }
  finish(): BpfInsn[] {
    for (const [v, l] of this.rets) {
      this.place(l);
      this.ret(v);
    }
    return layout(this.items, this.n);
  }
}

/**
 * Resolve labels into relative offsets. Conditional jumps reach at most 255 instructions;
 * a farther target gets a `ja` trampoline right after the jump (ja has a 32-bit offset),
 * repeated until everything fits.
 */
function layout(input: Item[], labelCount: number): BpfInsn[] {
  let items = input;
  let next = labelCount;
  for (;;) {
    const pos = new Map<Label, number>();
    let pc = 0;
    for (const it of items) {
      if (it.t === 'label') pos.set(it.l, pc);
      else pc++;
    }
    const out: BpfInsn[] = [];
    const fixed: Item[] = [];
    let changed = false;
    pc = 0;
    for (const it of items) {
      if (it.t === 'label') { fixed.push(it); continue; }
      if (it.t === 'op') out.push(insn(it.code, it.k));
      else if (it.t === 'ja') out.push(insn(BPF_JMP | BPF_JA, pos.get(it.to)! - pc - 1));
      else {
        const jt = pos.get(it.jt)! - pc - 1;
        const jf = pos.get(it.jf)! - pc - 1;
        if (jt > 255 || jf > 255) {
          changed = true;
          const tramp: Item[] = [];
          const c = { ...it };
          if (jt > 255) {
            const l = next++;
            tramp.push({ t: 'label', l }, { t: 'ja', to: it.jt });
            c.jt = l;
          }
          if (jf > 255) {
            const l = next++;
            tramp.push({ t: 'label', l }, { t: 'ja', to: it.jf });
            c.jf = l;
          }
          fixed.push(c, ...tramp);
          pc++;
          continue;
        }
        out.push(insn(it.code, it.k, jt, jf));
      }
      fixed.push(it);
      pc++;
    }
    if (!changed) return out;
    items = fixed;
  }
}

const ldArg = (e: Emitter, off: number): void => e.ld(off);

/**
 * Emit one comparison: fall through when it holds, jump to `fail` when it does not.
 * On i386 only the low word counts; on 64-bit ABIs the high word decides first.
 */
function emitCmp(e: Emitter, c: Cmp, wide: boolean, fail: Label): void {
  const J = (op: number): number => BPF_JMP | op | BPF_K;
  const lo = (x: bigint): number => Number(x & 0xffffffffn);
  const hi = (x: bigint): number => Number((x >> 32n) & 0xffffffffn);
  const loOff = argOffset(c.arg);
  const hiOff = loOff + 4;
  const after = e.label();
  switch (c.op) {
    case 'eq':
      if (wide) {
        ldArg(e, hiOff);
        e.jc(J(BPF_JEQ), hi(c.v), null, fail);
      }
      ldArg(e, loOff);
      e.jc(J(BPF_JEQ), lo(c.v), null, fail);
      break;
    case 'ne':
      if (wide) {
        ldArg(e, hiOff);
        e.jc(J(BPF_JEQ), hi(c.v), null, after);
      }
      ldArg(e, loOff);
      e.jc(J(BPF_JEQ), lo(c.v), fail, null);
      break;
    case 'gt':
    case 'ge':
      // v > c: hi > ch, or hi == ch and lo > cl (>= for ge).
      if (wide) {
        ldArg(e, hiOff);
        e.jc(J(BPF_JGT), hi(c.v), after, null);
        e.jc(J(BPF_JEQ), hi(c.v), null, fail);
      }
      ldArg(e, loOff);
      e.jc(J(c.op === 'gt' ? BPF_JGT : BPF_JGE), lo(c.v), null, fail);
      break;
    case 'lt':
    case 'le':
      // v < c is not (v >= c); v <= c is not (v > c).
      if (wide) {
        ldArg(e, hiOff);
        e.jc(J(BPF_JGT), hi(c.v), fail, null);
        e.jc(J(BPF_JEQ), hi(c.v), null, after);
      }
      ldArg(e, loOff);
      e.jc(J(c.op === 'lt' ? BPF_JGE : BPF_JGT), lo(c.v), fail, null);
      break;
    case 'masked_eq':
      if (wide) {
        ldArg(e, hiOff);
        if (hi(c.mask) !== 0xffffffff) e.op(BPF_ALU | BPF_AND | BPF_K, hi(c.mask));
        e.jc(J(BPF_JEQ), hi(c.v), null, fail);
      }
      ldArg(e, loOff);
      if (lo(c.mask) !== 0xffffffff) e.op(BPF_ALU | BPF_AND | BPF_K, lo(c.mask));
      e.jc(J(BPF_JEQ), lo(c.v), null, fail);
      break;
    case 'set':
      if (wide) {
        ldArg(e, hiOff);
        e.jc(J(BPF_JSET), hi(c.mask), after, null);
      }
      ldArg(e, loOff);
      e.jc(J(BPF_JSET), lo(c.mask), null, fail);
      break;
  }
  e.place(after);
}

interface Clause {
  /** Numbers to compare nr with (any of them); undefined = no nr test. */
  nrs?: number[];
  /** Under X86_64: test bit 30 of nr ('x32' wants it set, 'x86_64' clear). */
  abiTest?: 'x32' | 'x86_64';
  cmps: Cmp[];
  ret: number;
}

/** The clauses of one arch section, with dead ones removed. */
function sectionClauses(rules: NRule[], abis: Abi[], defaultRet: number): Clause[] {
  const out: Clause[] = [];
  const decided = new Set<number>();
  const decidedAbi = new Set<Abi>();
  for (const r of rules) {
    const mine = abis.filter((a) => r.archs.has(a) && !decidedAbi.has(a));
    if (mine.length === 0) continue;
    let nrs: number[] | undefined;
    if (r.nrs) {
      nrs = mine.flatMap((a) => r.nrs![a] ?? []).filter((n) => !decided.has(n));
      nrs = [...new Set(nrs)];
      if (nrs.length === 0) continue;
    }
    // An arch test is needed only when the rule covers some, not all, of the ABIs still reaching it.
    const undecided = abis.filter((a) => !decidedAbi.has(a));
    const abiTest = !r.nrs && mine.length < undecided.length ? (mine[0] as 'x32' | 'x86_64') : undefined;
    out.push({ nrs, abiTest, cmps: r.cmps, ret: r.ret });
    if (r.cmps.length === 0) {
      if (nrs) nrs.forEach((n) => decided.add(n));
      else {
        mine.forEach((a) => decidedAbi.add(a));
        if (decidedAbi.size === abis.length) break; // everything after is unreachable
      }
    }
  }
  // A trailing clause that returns what the default returns changes nothing.
  while (out.length && out[out.length - 1]!.ret === defaultRet) out.pop();
  return out;
}

const isUnconditional = (c: Clause): boolean => !c.nrs && !c.abiTest && c.cmps.length === 0;

/** Emit an arch section: its clauses in order, then the default return. */
function emitSection(e: Emitter, clauses: Clause[], defaultRet: number, wide: boolean): void {
  for (const c of clauses) {
    if (isUnconditional(c)) {
      e.ret(c.ret);
      return;
    }
    if (c.nrs || c.abiTest) ldArg(e, SECCOMP_DATA.nr);
    const next = e.label();
    const match = c.cmps.length ? null : e.retLabel(c.ret);
    if (c.abiTest) {
      // Without comparisons the test itself decides; with them it only guards them.
      const pass = c.cmps.length === 0 ? match : null;
      if (c.abiTest === 'x32') e.jc(BPF_JMP | BPF_JSET | BPF_K, X32_BIT, pass, next);
      else e.jc(BPF_JMP | BPF_JSET | BPF_K, X32_BIT, next, pass);
    }
    if (c.nrs) {
      const body = c.cmps.length ? e.label() : match!;
      c.nrs.forEach((n, i) => {
        const lastNr = i === c.nrs!.length - 1;
        e.jc(BPF_JMP | BPF_JEQ | BPF_K, n, lastNr && c.cmps.length ? null : body, lastNr ? next : null);
      });
      if (c.cmps.length && body !== null) e.place(body);
    }
    for (const cmp of c.cmps) emitCmp(e, cmp, wide, next);
    if (c.cmps.length) e.ret(c.ret);
    e.place(next);
  }
  e.ret(defaultRet);
}

/**
 * Compile a rule list to one cBPF program for all x86 ABIs:
 *   ld [arch]; X86_64 → the x86_64 + x32 section (x32 told apart by bit 30 of nr);
 *   I386 → the i386 section; anything else → the {arch: other} action or KILL_PROCESS.
 * Within a section the rules keep their order (first match wins); equal outcomes share one
 * return instruction at the end. Throws RuleError for a malformed list.
 */
export function compileRules(list: RuleList): BpfInsn[] {
  const { rules, defaultRet } = normalise(list);
  const other = rules.find((r) => r.archs.has('other'))?.ret ?? OTHER_ARCH_DEFAULT;
  const e = new Emitter();
  const x64 = sectionClauses(rules, ['x86_64', 'x32'], defaultRet);
  const i386 = sectionClauses(rules, ['i386'], defaultRet);

  ldArg(e, SECCOMP_DATA.arch);
  const not64 = e.label();
  e.jc(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH.X86_64, null, not64);
  emitSection(e, x64, defaultRet, true);
  e.place(not64);
  // When i386 and unknown arches end the same way, the I386 test is not needed.
  const i386Trivial = i386.length === 0 || isUnconditional(i386[0]!);
  const i386Ret = i386.length === 0 ? defaultRet : i386[0]!.ret;
  if (i386Trivial && i386Ret === other) {
    e.ret(other);
  } else {
    const otherL = e.label();
    e.jc(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH.I386, null, otherL);
    emitSection(e, i386, defaultRet, false);
    e.place(otherL);
    e.ret(other);
  }
  return e.finish();
}

/** Check a rule list without compiling it (for the spec loader): null or the error. */
export function checkRules(list: RuleList): RuleError | null {
  try {
    normalise(list);
    return null;
  } catch (e) {
    if (e instanceof RuleError) return e;
    throw e;
  }
}

export { MAX_ERRNO };
