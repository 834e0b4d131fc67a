// Parsers for the value syntaxes of docs/spec-language.md: integers written as YAML ints or
// strings ("0x5a5a_0000"), input values (buf:NAME+8, fd:p.r, pid, `| 0xHIGH`) that become
// contract Operands, and expected values ($next_ip+2, {errno: EFAULT}, {range: [..]}) that
// become Matchers. Each parser returns a value or an error message; the caller knows where.

import type { Operand } from '../contracts.js';
import { ERRNO } from '../../abi/constants.js';
import { didYouMean, oneOf } from './errors.js';
import { AUXV_NAMES } from './maps.js';
import type { ExpVal, Matcher, SymName } from './types.js';
import type { MatcherInput } from './schema.js';
import { parseCallRet, parseMemRef } from './results.js';

export type Parsed<T> = { ok: true; v: T } | { ok: false; msg: string };
const ok = <T>(v: T): Parsed<T> => ({ ok: true, v });
const bad = (msg: string): Parsed<never> => ({ ok: false, msg });

const INT_RE = /^[+-]?(0x[0-9a-f_]+|0o[0-7_]+|0b[01_]+|[0-9][0-9_]*)$/i;

/** An integer from a YAML int (bigint) or a string such as "0x5a5a_0000_0000_0000" or "-1". */
export function parseInt64(v: unknown): Parsed<bigint> {
  if (typeof v === 'bigint') return ok(v);
  if (typeof v === 'number' && Number.isSafeInteger(v)) return ok(BigInt(v));
  if (typeof v === 'string') {
    const s = v.trim();
    if (INT_RE.test(s)) {
      const neg = s.startsWith('-');
      const body = s.replace(/^[+-]/, '').replace(/_/g, '');
      const n = BigInt(body);
      return ok(neg ? -n : n);
    }
    return bad(`expected an integer (decimal or 0x hex), found the string "${v}"`);
  }
  return bad(`expected an integer, found ${typeof v === 'object' ? (Array.isArray(v) ? 'a list' : 'a map') : String(v)}`);
}

/** Input-value references without `$` (docs/spec-language.md "Input values"). */
const INPUT_REFS = ['pid', 'tid', 'ppid', 'uid', 'gid', 'rflags_in', 'unmapped'] as const;

/** Names the case declares, for checking buf:/fd: references. */
export interface Decls {
  bufs: Set<string>;
  /** fd names: declared files/closed fds, `<pipe>.r`/`<pipe>.w`, and `null`. */
  fds: Set<string>;
}

/** An input value → Operand (literal values truncated to `bits`). */
export function parseInput(v: unknown, bits: 32 | 64, decls: Decls): Parsed<Operand> {
  if (typeof v === 'bigint') return ok({ lit: BigInt.asUintN(bits, v) });
  if (typeof v !== 'string') return bad(`expected an integer or a value such as buf:NAME, fd:null, pid, unmapped; found ${Array.isArray(v) ? 'a list' : typeof v === 'object' ? 'a map' : String(v)}`);
  let s = v.trim();
  let or: bigint | undefined;
  const bar = s.indexOf('|');
  if (bar >= 0) {
    const hi = parseInt64(s.slice(bar + 1));
    if (!hi.ok) return bad(`after "|" ${hi.msg}`);
    or = BigInt.asUintN(64, hi.v);
    s = s.slice(0, bar).trim();
  }
  const withOr = (o: Operand): Parsed<Operand> => ok(or === undefined ? o : { ...o, or });
  const lit = parseInt64(s);
  if (lit.ok) return withOr({ lit: BigInt.asUintN(bits, or === undefined ? lit.v : lit.v | or) });
  if (s.startsWith('$')) {
    // Only the run-time references below exist as inputs; $next_ip, $entry_ip and the other
    // expectation symbols are known only once the target placed the entry.
    const name = s.slice(1);
    if ((INPUT_REFS as readonly string[]).includes(name)) return bad(`input values name their symbols without "$": write "${name}"`);
    return bad(`"${s}" is an expectation symbol, not an input value (inputs are integers, buf:NAME[+N], fd:NAME, unmapped, pid, tid, ppid, uid, gid or rflags_in)`);
  }
  let m = /^buf:([A-Za-z_][A-Za-z0-9_]*)\s*(?:([+-])\s*(\S+))?$/.exec(s);
  if (m) {
    const name = m[1]!;
    if (!decls.bufs.has(name)) {
      return bad(`buf:${name} names no memory region${didYouMean(name, decls.bufs)}; declared: ${decls.bufs.size ? oneOf([...decls.bufs]) : 'none (add it under memory:)'}`);
    }
    let add: bigint | undefined;
    if (m[2]) {
      const n = parseInt64(m[3]);
      if (!n.ok) return bad(`offset in "${s}": ${n.msg}`);
      add = m[2] === '-' ? -n.v : n.v;
    }
    return withOr(add === undefined ? { ref: 'buf', name } : { ref: 'buf', name, add });
  }
  m = /^fd:([A-Za-z_][A-Za-z0-9_]*(?:\.[rw])?)$/.exec(s);
  if (m) {
    const name = m[1]!;
    if (!decls.fds.has(name)) {
      return bad(`fd:${name} names no descriptor${didYouMean(name, decls.fds)}; available: ${oneOf([...decls.fds])}`);
    }
    return withOr({ ref: 'fd', name });
  }
  if ((INPUT_REFS as readonly string[]).includes(s)) return withOr({ ref: s as Operand['ref'] });
  return bad(`unknown input value "${v}"${didYouMean(s, [...INPUT_REFS, 'buf:', 'fd:'])}; expected an integer, buf:NAME[+N], fd:NAME, unmapped, pid, tid, ppid, uid, gid or rflags_in (optionally "| 0xHIGH")`);
}

/** `$symbols` an expected value may name. */
export const EXPECT_SYMS: readonly SymName[] = [
  'pid', 'tid', 'ppid', 'uid', 'gid', 'next_ip', 'entry_ip', 'rflags_in', 'unmapped', 'buf', 'fd', 'in', 'extra', 'auxv',
  'thread_tid', 'setup', 'after', 'mem',
];
const NEEDS_NAME: readonly SymName[] = ['buf', 'fd', 'extra', 'auxv', 'setup', 'after', 'mem'];

/** How the field names things, for expected values: a name → number resolver. */
export interface NameSpace {
  what: string;
  lookup(name: string): bigint | undefined;
  names(): Iterable<string>;
}

export interface ExpectCtx {
  decls: Decls;
  /** Register names `$in.REG` may use. */
  regs: readonly string[];
  /** Names this field accepts (signal names for signo, ...), if any. */
  names?: NameSpace;
  /** The case has `thread:` ($thread_tid names its second thread); unset: not known here. */
  hasThread?: boolean;
  /** How many set-up calls and after-calls the case makes ($setup.N.ret / $after.N.ret); unset:
   *  not known here. */
  calls?: { setup: number; after: number };
  /** Called for each region a `$mem.NAME...` names (the case must then read it back). */
  useRegion?: (name: string) => void;
}

/** An expected scalar: integer, `$sym[.name][+-N]`, or a name of the field's namespace. */
export function parseExpVal(v: unknown, ctx: ExpectCtx): Parsed<ExpVal> {
  const n = parseInt64(v);
  if (n.ok) return ok({ lit: n.v });
  if (typeof v !== 'string') return bad(n.msg);
  const s = v.trim();
  if (s.startsWith('$')) {
    const m = /^\$([a-z_]+)(?:\.([A-Za-z0-9_.]+))?\s*(?:([+-])\s*(\S+))?$/.exec(s);
    if (!m) return bad(`cannot read "${s}": expected $symbol, $symbol.NAME, optionally followed by +N or -N`);
    const sym = m[1]!;
    if (!(EXPECT_SYMS as readonly string[]).includes(sym)) {
      return bad(`unknown symbol "$${sym}"${didYouMean('$' + sym, EXPECT_SYMS.map((x) => '$' + x))}; expected one of: ${EXPECT_SYMS.map((x) => '$' + x).join(', ')}`);
    }
    const name = m[2];
    const ss = sym as SymName;
    if (NEEDS_NAME.includes(ss) && !name) return bad(`"$${sym}" needs a name: $${sym}.NAME`);
    if (!NEEDS_NAME.includes(ss) && ss !== 'in' && name) return bad(`"$${sym}" takes no name (found "$${sym}.${name}")`);
    if (ss === 'thread_tid' && ctx.hasThread === false) return bad('$thread_tid is the id of the case\'s second thread, but this case has no thread: (add thread: true)');
    if (ss === 'buf' && !ctx.decls.bufs.has(name!)) {
      return bad(`$buf.${name} names no memory region${didYouMean(name!, ctx.decls.bufs)}; declared: ${ctx.decls.bufs.size ? oneOf([...ctx.decls.bufs]) : 'none'}`);
    }
    if (ss === 'fd' && !ctx.decls.fds.has(name!)) {
      return bad(`$fd.${name} names no descriptor${didYouMean(name!, ctx.decls.fds)}; available: ${oneOf([...ctx.decls.fds])}`);
    }
    if (ss === 'auxv' && !(AUXV_NAMES as readonly string[]).includes(name!)) {
      return bad(`$auxv.${name} names no auxiliary-vector entry${didYouMean(name!, AUXV_NAMES)}; expected an AT_* name such as AT_SYSINFO_EHDR`);
    }
    if (ss === 'setup' || ss === 'after') {
      const r = parseCallRet(ss, name, ctx.calls?.[ss]);
      if ('msg' in r) return bad(r.msg);
    }
    if (ss === 'mem') {
      const r = parseMemRef(name);
      if ('msg' in r) return bad(r.msg);
      if (!ctx.decls.bufs.has(r.region)) {
        return bad(`$mem.${name} names no memory region "${r.region}"${didYouMean(r.region, ctx.decls.bufs)}; declared: ${ctx.decls.bufs.size ? oneOf([...ctx.decls.bufs]) : 'none'}`);
      }
      ctx.useRegion?.(r.region);
    }
    if (ss === 'in' && name && !ctx.regs.includes(name)) {
      return bad(`$in.${name}: unknown register "${name}"${didYouMean(name, ctx.regs)}`);
    }
    let add = 0n;
    if (m[3]) {
      const k = parseInt64(m[4]);
      if (!k.ok) return bad(`offset in "${s}": ${k.msg}`);
      add = m[3] === '-' ? -k.v : k.v;
    }
    return ok(name ? { sym: ss, name, add, text: s } : { sym: ss, add, text: s });
  }
  if (ctx.names) {
    const val = ctx.names.lookup(s);
    if (val !== undefined) return ok({ lit: val, name: s });
    return bad(`unknown ${ctx.names.what} "${s}"${didYouMean(s, ctx.names.names())}`);
  }
  return bad(`expected an integer or a $symbol ($pid, $next_ip, $in, $buf.NAME, ...), found the string "${s}"`);
}

/** An expected value or matcher map → Matcher. `at` reports the sub-path of an error. */
export function parseMatcher(v: MatcherInput, ctx: ExpectCtx, err: (sub: (string | number)[], msg: string) => void): Matcher | undefined {
  if (typeof v === 'bigint' || typeof v === 'string') {
    const r = parseExpVal(v, ctx);
    if (!r.ok) { err([], r.msg); return undefined; }
    return { kind: 'eq', v: r.v };
  }
  const parts: Matcher[] = [];
  let failed = false;
  const val = (x: unknown, sub: (string | number)[]): ExpVal | undefined => {
    const r = parseExpVal(x, ctx);
    if (!r.ok) { err(sub, r.msg); failed = true; return undefined; }
    return r.v;
  };
  if (v.errno !== undefined) {
    if (typeof v.errno === 'bigint') {
      parts.push({ kind: 'errno', name: String(v.errno), n: Number(v.errno) });
    } else {
      const n = (ERRNO as Record<string, number>)[v.errno];
      if (n === undefined) { err(['errno'], `unknown errno name "${v.errno}"${didYouMean(v.errno, Object.keys(ERRNO))}`); failed = true; }
      else parts.push({ kind: 'errno', name: v.errno, n });
    }
  }
  if (v.ok) parts.push({ kind: 'ok' });
  if (v.one_of) {
    const of: Matcher[] = [];
    v.one_of.forEach((x, i) => {
      const m = parseMatcher(x, ctx, (sub, msg) => err(['one_of', i, ...sub], msg));
      if (m) of.push(m); else failed = true;
    });
    parts.push({ kind: 'one_of', of });
  }
  if (v.not !== undefined) {
    const m = parseMatcher(v.not, ctx, (sub, msg) => err(['not', ...sub], msg));
    if (m) parts.push({ kind: 'not', m }); else failed = true;
  }
  if (v.range) {
    const lo = val(v.range[0], ['range', 0]);
    const hi = val(v.range[1], ['range', 1]);
    if (lo && hi) parts.push({ kind: 'range', lo, hi });
  }
  if (v.min !== undefined) { const x = val(v.min, ['min']); if (x) parts.push({ kind: 'min', v: x }); }
  if (v.max !== undefined) { const x = val(v.max, ['max']); if (x) parts.push({ kind: 'max', v: x }); }
  if (v.mask !== undefined || v.eq !== undefined) {
    if (v.mask !== undefined) {
      const mk = parseInt64(v.mask);
      const eq = parseInt64(v.eq ?? 0n);
      if (!mk.ok) { err(['mask'], mk.msg); failed = true; }
      else if (!eq.ok) { err(['eq'], eq.msg); failed = true; }
      else if (v.eq === undefined) { err(['mask'], 'mask needs eq: {mask: M, eq: V} checks (x & M) == V'); failed = true; }
      else parts.push({ kind: 'mask', mask: mk.v, eq: eq.v });
    } else {
      const x = val(v.eq, ['eq']);
      if (x) parts.push({ kind: 'eq', v: x });
    }
  }
  if (failed) return undefined;
  if (parts.length === 0) { err([], 'an empty matcher map checks nothing: use errno, ok, one_of, not, range, min, max, or mask+eq'); return undefined; }
  return parts.length === 1 ? parts[0] : { kind: 'all', of: parts };
}

/** Bytes of `text` (UTF-8) as lowercase hex. */
export function textToHex(text: string): string {
  return Buffer.from(text, 'utf8').toString('hex');
}

/** Validate and normalise a hex byte string ("de ad be ef", "0xdeadbeef", "de_ad"). */
export function normHex(s: string): Parsed<string> {
  const t = s.replace(/^0x/i, '').replace(/[\s_:]/g, '').toLowerCase();
  if (!/^[0-9a-f]*$/.test(t)) return bad(`expected hex bytes such as "de ad be ef", found "${s}"`);
  if (t.length % 2) return bad(`hex bytes need an even number of digits, found ${t.length} in "${s}"`);
  return ok(t);
}
