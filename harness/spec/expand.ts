// Expansion of a loaded spec into ExpandedCases: the ABI matrix (spec abi ∩ case abi),
// `defaults` and `per_abi` merging, `vary` (cartesian), syscall names → numbers through the
// right table, args → the ABI's argument registers, sentinels, flags → RFLAGS, memory/fds/
// signals → Case shapes, `isolate`, and the expectation resolved for check().
// Every mistake found on the way is reported with the position of the node that caused it
// (expandChecked); expandSpec() is the error-free path used after loadSpecs() succeeded.

import { ABIS, ERRNO, RFLAGS, RFLAGS_USER_DEFAULT, SIGNALS, SI_CODES, AUDIT_ARCH, VSYSCALL_ADDR,
  type Abi, type FlagName, type SettableFlag } from '../../abi/constants.js';
import { lookupName, lookupNumber, syscallNames } from '../../abi/tables/index.js';
import { ARG_REGS, GPRS32, GPRS64, REG32_ALIASES, SEGS,
  type Case, type CodeMode, type DataSeg, type Entry, type FdSpec, type Gpr, type MemRegion, type Operand, type RegName } from '../contracts.js';
import { errorAt, zodErrors, type LoadedSpec, type Path } from './doc.js';
import { didYouMean, formatSpecError, oneOf, type SpecError } from './errors.js';
import { ALL_REG_KEYS, CasePartialSchema, PLACEHOLDER_RE, type CaseInput, type ExpectAltInput,
  type MatcherInput, type RequiresInput } from './schema.js';
import { loadTags } from './tags.js';
import { buildSeccomp } from './seccomp.js';
import { parseNotificationExpect } from './notify.js';
import { buildPtrace, parsePtraceEvents } from './ptrace.js';
import { parseFtraceExpect } from './ftrace.js';
import { buildThread } from './thread.js';
import { buildSetup, setupNeedsIa32 } from './setup.js';
import { refuseThreadPointerCalls } from './tls-guard.js';
import { MEM_VIEWS, viewBytes } from './results.js';
import { buildBefore } from './before.js';
import { observeNeeds, parseAuxvExpect, parseMapsExpect } from './maps.js';
import type { Expectation, ExpandedCase, KernelOp, Matcher, RegCheck, Requires, SignalField, SpecMeta, TrapRange } from './types.js';
import { normHex, parseInput, parseInt64, parseMatcher, textToHex, type Decls, type ExpectCtx, type NameSpace } from './values.js';

/** The SysV x86_64 C calling convention's argument registers (vdso_fn calls). */
const C_ARG_REGS_64: readonly Gpr[] = ['rdi', 'rsi', 'rdx', 'rcx', 'r8', 'r9'];

export type { ExpandedCase, Expectation, Matcher, Requires, SpecMeta } from './types.js';

/** Per-case time limit when the spec gives none (docs/spec-language.md). */
export const DEFAULT_TIMEOUT_MS = 5000;
/** Region size when neither size nor contents are given: one page. */
const DEFAULT_REGION_SIZE = 4096;

/** Expand a spec that loadSpecs() accepted. Throws (with positions) only if it was not. */
export function expandSpec(spec: LoadedSpec): ExpandedCase[] {
  // loadSpecs() already expanded the spec to validate it; reuse that work.
  const cached = EXPANDED.get(spec);
  if (cached) return [...cached];
  const errors: SpecError[] = [];
  const out = expandChecked(spec, errors);
  if (errors.length > 0) throw new Error(errors.map(formatSpecError).join('\n'));
  EXPANDED.set(spec, out);
  return [...out];
}

/** Expansions of error-free specs, by spec (filled by expandChecked). */
const EXPANDED = new WeakMap<LoadedSpec, ExpandedCase[]>();

/** The case slug: lowercase, runs of non-alphanumerics → "-". */
export function slugify(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '') || 'case';
}

/** Sentinel value of the register at `index` in rax,rbx,...,r15 (docs/spec-language.md). */
export function sentinelValue(index: number, bits: 32 | 64): bigint {
  const i = BigInt(index);
  return bits === 64 ? 0x5a5a_0000_0000_0000n | (i << 8n) | i : 0x5a00_0000n | (i << 8n) | i;
}

const MERGE_ONE_LEVEL = new Set(['regs', 'memory', 'fds', 'signals', 'expect', 'requires', 'sigreturn']);
const NEEDS_NUMBER: readonly Entry[] = ['syscall', 'int80', 'sysenter', 'vdso'];
const AUDIT_NAMES: Record<string, number> = { AUDIT_ARCH_X86_64: AUDIT_ARCH.X86_64, AUDIT_ARCH_I386: AUDIT_ARCH.I386 };
const isObj = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

type Origin = { path: Path; sub?: Map<string, Path> };

/** A case after defaults/per_abi merging, with where each of its keys came from. */
class Merged {
  body: Record<string, unknown> = {};
  origins = new Map<string, Origin>();
  constructor(readonly casePath: Path) {}

  layer(src: Record<string, unknown> | undefined, base: Path): void {
    if (!src) return;
    for (const [k, raw] of Object.entries(src)) {
      if (raw === undefined) continue;
      const v = k === 'regs' && raw === 'sentinel' ? { sentinel: true } : raw;
      const prev = this.body[k];
      if (MERGE_ONE_LEVEL.has(k) && isObj(v) && isObj(prev)) {
        const o = this.origins.get(k)!;
        this.body[k] = { ...prev, ...v };
        o.sub ??= new Map(Object.keys(prev).map((s) => [s, [...o.path, s]]));
        for (const s of Object.keys(v)) o.sub.set(s, [...base, k, s]);
      } else {
        this.body[k] = v;
        this.origins.set(k, { path: [...base, k] });
      }
    }
  }

  /** Document path of a path inside the merged case. */
  doc(p: Path): Path {
    if (p.length === 0) return this.casePath;
    const o = this.origins.get(String(p[0]));
    if (!o) return this.casePath;
    const sub = p.length > 1 ? o.sub?.get(String(p[1])) : undefined;
    return sub ? [...sub, ...p.slice(2)] : [...o.path, ...p.slice(1)];
  }
}

/** Parse a kernel range such as ">=5.4 <6.7" into ANDed constraints. */
export function parseKernelRange(s: string): { op: KernelOp; version: [number, number, number]; text: string }[] | string {
  const out: { op: KernelOp; version: [number, number, number]; text: string }[] = [];
  const re = /\s*(>=|<=|>|<|=)?\s*(\d+)(?:\.(\d+))?(?:\.(\d+))?\s*/y;
  let i = 0;
  const t = s.trim();
  if (t === '') return 'an empty kernel range';
  while (i < t.length) {
    re.lastIndex = i;
    const m = re.exec(t);
    if (!m || m[0].length === 0) return `cannot read "${t.slice(i)}"`;
    const op = (m[1] ?? '>=') as KernelOp;
    const v: [number, number, number] = [Number(m[2]), Number(m[3] ?? 0), Number(m[4] ?? 0)];
    out.push({ op, version: v, text: `${op}${m[2]}${m[3] !== undefined ? '.' + m[3] : ''}${m[4] !== undefined ? '.' + m[4] : ''}` });
    i = re.lastIndex;
  }
  return out;
}

/** Spec/case requirement maps → Requires, ANDed; conflicts are errors. */
function mergeRequires(into: Requires, r: RequiresInput | undefined, at: (k: string, msg: string) => void): void {
  if (!r) return;
  if (r.kernel !== undefined) {
    const k = parseKernelRange(r.kernel);
    if (typeof k === 'string') at('kernel', `bad kernel range "${r.kernel}": ${k}; expected constraints such as ">=5.14", "<4.17" or ">=5.4 <6.7"`);
    else into.kernel = [...(into.kernel ?? []), ...k];
  }
  for (const key of ['ia32', 'x32', 'fred', 'destructive'] as const) {
    const v = r[key];
    if (v === undefined) continue;
    if (into[key] !== undefined && into[key] !== v) at(key, `requires.${key}: ${v} contradicts the spec's requires.${key}: ${into[key]}`);
    into[key] = v;
  }
  if (r.vendor !== undefined) {
    if (into.vendor !== undefined && into.vendor !== r.vendor) at('vendor', `requires.vendor: ${r.vendor} contradicts the spec's requires.vendor: ${into.vendor}`);
    into.vendor = r.vendor;
  }
  if (r.vsyscall !== undefined) {
    const list = Array.isArray(r.vsyscall) ? r.vsyscall : [r.vsyscall];
    into.vsyscall = into.vsyscall ? into.vsyscall.filter((m) => list.includes(m)) : [...list];
    if (into.vsyscall.length === 0) at('vsyscall', `requires.vsyscall: [${list.join(', ')}] leaves no mode in common with the spec's requirement`);
  }
  if (r.features) into.features = [...new Set([...(into.features ?? []), ...r.features])];
}

const normAbis = (v: unknown): Abi[] | undefined =>
  v === undefined ? undefined : (Array.isArray(v) ? v : [v]).map(String) as Abi[];

/** Substitute vary placeholders everywhere in a value; report placeholders vary does not define. */
function substitute(v: unknown, bind: Map<string, { value: unknown }>, path: Path, bad: (p: Path, name: string) => void): unknown {
  if (typeof v === 'string') {
    const m = PLACEHOLDER_RE.exec(v);
    if (!m) return v;
    const b = bind.get(m[1]!);
    if (!b) { bad(path, m[1]!); return v; }
    return b.value;
  }
  if (Array.isArray(v)) return v.map((x, i) => substitute(x, bind, [...path, i], bad));
  if (isObj(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, substitute(x, bind, [...path, k], bad)]));
  return v;
}

function specMeta(spec: LoadedSpec): SpecMeta {
  const d = spec.data;
  return {
    id: d.id,
    title: d.title,
    description: d.description.trim(),
    refs: d.refs.map((r) => { const [kind, text] = Object.entries(r).find(([, v]) => v !== undefined)!; return { kind, text: String(text) }; }),
    tags: [...d.tags],
    covers: [...(d.covers ?? [])],
    file: spec.file,
  };
}

/** Expand and report every problem into `errors` (positions included). */
export function expandChecked(spec: LoadedSpec, errors: SpecError[]): ExpandedCase[] {
  const errorsBefore = errors.length;
  const seen = new Set<string>();
  const report = (path: Path, message: string, keyNode = false): void => {
    const e = errorAt(spec, path, message, keyNode);
    // One report per node even when several ABIs trip over it (only the register or table
    // named in the message differs between them).
    const k = formatSpecError(e).replace(/\((r[a-z0-9]+|e[a-z]{2})\)|\b(x86_64|i386|x32)\b/g, '');
    if (!seen.has(k)) { seen.add(k); errors.push(e); }
  };
  const d = spec.data;
  const meta = specMeta(spec);

  // Tags: closed vocabulary in specs/tags.yaml.
  const tags = loadTags();
  d.tags.forEach((t, i) => {
    if (!tags.has(t)) report(['tags', i], `unknown tag "${t}"${didYouMean(t, tags.keys())}; the tags are listed in specs/tags.yaml`);
  });
  const specAbis = normAbis(d.abi) ?? [...ABIS];
  const specReq: Requires = {};
  mergeRequires(specReq, d.requires, (k, msg) => report(['requires', k], msg));

  const out: ExpandedCase[] = [];
  const names = new Map<string, number>();
  const ids = new Map<string, string>();

  d.cases.forEach((c: CaseInput, ci) => {
    const cpath: Path = ['cases', ci];
    const caseNode = errorAt(spec, cpath, '');
    if (names.has(c.name)) {
      report([...cpath, 'name'], `duplicate case name "${c.name}" (first used by cases[${names.get(c.name)}]); case names are unique in a spec`);
      return;
    }
    names.set(c.name, ci);

    let abis = normAbis(c.abi) ?? specAbis;
    const outside = abis.filter((a) => !specAbis.includes(a));
    if (outside.length > 0) {
      report([...cpath, 'abi'], `case abi ${outside.join(', ')} is not in the spec's abi list [${specAbis.join(', ')}]`);
      abis = abis.filter((a) => specAbis.includes(a));
    }
    for (const a of abis) if (PLACEHOLDER_RE.test(a)) report([...cpath, 'abi'], 'abi cannot be varied; list the ABIs (and use per_abi for differences)');
    for (const a of Object.keys(c.per_abi ?? {})) {
      if (!abis.includes(a as Abi)) report([...cpath, 'per_abi', a], `per_abi.${a}: this case does not run on ${a} (its ABIs: ${abis.join(', ')})`, true);
    }
    for (const a of Object.keys(c.skip ?? {})) {
      if (!abis.includes(a as Abi)) report([...cpath, 'skip', a], `skip.${a}: this case does not run on ${a} (its ABIs: ${abis.join(', ')})`, true);
    }

    // vary: cartesian product of the lists, each value kept with its source spelling.
    const varyKeys = Object.keys(c.vary ?? {});
    const nameRefs = [...c.name.matchAll(/\{([A-Za-z_][A-Za-z0-9_]*)\}/g)].map((m) => m[1]!);
    for (const r of nameRefs) {
      if (!varyKeys.includes(r)) report([...cpath, 'name'], `the name uses {${r}} but vary defines ${varyKeys.length ? varyKeys.map((k) => `{${k}}`).join(', ') : 'no placeholders'}`);
    }
    let bindings: Map<string, { value: unknown; text: string }>[] = [new Map()];
    for (const k of varyKeys) {
      const list = c.vary![k]!;
      const next: typeof bindings = [];
      for (const b of bindings) {
        list.forEach((value, vi) => {
          const n = nodeText(spec, [...cpath, 'vary', k, vi]) ?? String(value);
          next.push(new Map([...b, [k, { value, text: n }]]));
        });
      }
      bindings = next;
    }
    if (varyKeys.length > 0 && nameRefs.length === 0 && bindings.length > 1) {
      report([...cpath, 'name'], `vary gives ${bindings.length} combinations but the name has no {placeholder}, so their names would collide; put ${varyKeys.map((k) => `{${k}}`).join(' and ')} in the name`);
      return;
    }

    const body: Record<string, unknown> = { ...c };
    for (const k of ['name', 'abi', 'vary', 'per_abi', 'skip']) delete body[k];

    for (const abi of abis) {
      for (const bind of bindings) {
        const mg = new Merged(cpath);
        mg.layer(d.defaults as Record<string, unknown> | undefined, ['defaults']);
        mg.layer(body, cpath);
        mg.layer(c.per_abi?.[abi] as Record<string, unknown> | undefined, [...cpath, 'per_abi', abi]);
        const note = bind.size > 0 ? ` (with ${[...bind].map(([k, v]) => `${k}=${v.text}`).join(', ')})` : '';
        let ok = true;
        const subst = substitute(mg.body, bind, [], (p, name) => {
          ok = false;
          report(mg.doc(p), `unknown placeholder {${name}}: vary defines ${varyKeys.length ? varyKeys.map((k) => `{${k}}`).join(', ') : 'nothing'}`);
        }) as Record<string, unknown>;
        if (!ok) continue;
        if (bind.size > 0) {
          const r = CasePartialSchema.safeParse(subst);
          if (!r.success) {
            for (const e of zodErrors(spec, CasePartialSchema, subst, r.error.issues, (p) => mg.doc(p), note)) {
              const k = formatSpecError(e);
              if (!seen.has(k)) { seen.add(k); errors.push(e); }
            }
            continue;
          }
        }
        let name = c.name;
        for (const [k, v] of bind) name = name.split(`{${k}}`).join(v.text);
        const ec = buildCase(spec, meta, specReq, abi, name, subst, mg, (p, msg, key) => report(mg.doc(p), msg + note, key));
        if (!ec) continue;
        ec.line = caseNode.line;
        const skip = c.skip?.[abi];
        if (skip !== undefined) ec.skipReason = skip;
        if (bind.size > 0) ec.vary = Object.fromEntries([...bind].map(([k, v]) => [k, v.text]));
        const prev = ids.get(ec.case.id);
        if (prev !== undefined) {
          report([...cpath, 'name'], `case id ${ec.case.id} is produced twice (also by "${prev}"); make the names differ in more than punctuation or case`);
          continue;
        }
        ids.set(ec.case.id, name);
        out.push(ec);
      }
    }
  });
  if (errors.length === errorsBefore) EXPANDED.set(spec, out);
  return out;
}

/** The source text of a scalar node (so 0x40000027 stays hex in names). */
function nodeText(spec: LoadedSpec, path: Path): string | undefined {
  const loc = spec.doc.getIn(path as (string | number)[], true) as { range?: [number, number, number] } | undefined;
  if (!loc?.range) return undefined;
  return spec.text.slice(loc.range[0], loc.range[1]).replace(/^["']|["']$/g, '');
}

type Err = (p: Path, msg: string, keyNode?: boolean) => void;

function buildCase(
  spec: LoadedSpec, meta: SpecMeta, specReq: Requires, abi: Abi, name: string,
  m: Record<string, unknown>, mg: Merged, err: Err,
): ExpandedCase | undefined {
  let failed = false;
  const fail: Err = (p, msg, key) => { failed = true; err(p, msg, key); };

  const entry = (m.entry as Entry | undefined) ?? spec.data.entry ?? (abi === 'i386' ? 'int80' : 'syscall');
  let code: CodeMode = abi === 'i386' ? 'compat' : '64';
  if (m.code !== undefined) code = m.code === 'compat' ? 'compat' : '64';
  if (m.code !== undefined && m.code !== 'compat' && m.code !== '64' && m.code !== 64n) fail(['code'], `code must be 64 or compat, found ${String(m.code)}`);
  if (abi === 'i386' && code === '64') fail(['code'], 'an i386 process runs 32-bit (compat) code; code: 64 applies to x86_64 and x32 only');
  const bits: 32 | 64 = code === 'compat' ? 32 : 64;
  // int $0x80, SYSENTER and 32-bit code are decoded with the i386 table (ABI-FACTS §4.2).
  const tableAbi: Abi = entry === 'int80' || entry === 'sysenter' || entry === 'vdso' || code === 'compat' ? 'i386' : abi;
  // A 64-bit vdso_fn is a C call: SysV passes the 4th argument in RCX, where the syscall
  // convention uses R10 (SYSCALL itself overwrites RCX). The i386 probe pushes ebx..ebp as
  // the cdecl arguments, so the 32-bit list already is the C order.
  const argRegs = tableAbi === 'i386' ? ARG_REGS['32'] : entry === 'vdso_fn' ? C_ARG_REGS_64 : ARG_REGS['64'];
  const visible: readonly Gpr[] = abi === 'i386' ? GPRS32 : GPRS64;
  const widthOf = (r: RegName): 16 | 32 | 64 =>
    (SEGS as readonly string[]).includes(r) ? 16 : r === 'fs_base' || r === 'gs_base' ? 64
      : code === 'compat' && (GPRS32.includes(r as Gpr) || r === 'rip' || r === 'rflags') ? 32 : 64;
  const width32or64 = (r: RegName): 32 | 64 => (widthOf(r) === 64 ? 64 : 32);

  // Entry-specific keys.
  if (entry === 'vsyscall' && (abi === 'i386' || code === 'compat')) fail(['entry'], 'the vsyscall page exists only for 64-bit code (x86_64)');
  if (entry === 'vdso' && abi !== 'i386' && code !== 'compat') fail(['entry'], 'entry vdso is the i386 __kernel_vsyscall; from 64-bit code use vdso_fn with a symbol');
  if (entry === 'vdso_fn' && m.symbol === undefined) fail(['entry'], 'entry vdso_fn needs symbol: (the vDSO function to call, e.g. __vdso_getcpu)');
  if (m.symbol !== undefined && entry !== 'vdso_fn') fail(['symbol'], `symbol: applies to entry vdso_fn only (this case's entry is ${entry})`, true);
  if (m.vsyscall !== undefined && entry !== 'vsyscall') fail(['vsyscall'], `vsyscall: applies to entry vsyscall only (this case's entry is ${entry})`, true);
  if (m.sigreturn !== undefined && entry !== 'sigreturn') fail(['sigreturn'], `sigreturn: applies to entry sigreturn only (this case's entry is ${entry})`, true);

  // The number.
  let nr: bigint | undefined;
  let callName: string | undefined;
  if (m.call !== undefined && m.nr !== undefined) fail(['nr'], 'give either call: NAME or nr: NUMBER, not both', true);
  if (m.call !== undefined) {
    const c = String(m.call);
    const row = lookupName(tableAbi, c);
    if (!row) {
      const why = tableAbi !== abi ? ` (used because entry ${entry}${code === 'compat' ? ' from 32-bit code' : ''} is decoded with it)` : '';
      const elsewhere = ABIS.filter((a) => a !== tableAbi && lookupName(a, c));
      fail(['call'], `unknown syscall "${c}" in the ${tableAbi} table${why}${didYouMean(c, syscallNames(tableAbi))}${elsewhere.length ? `; it exists on ${elsewhere.join(', ')}` : ''}`);
    } else {
      nr = BigInt(row.nr);
      callName = c;
    }
  } else if (m.nr !== undefined) {
    const r = parseInt64(m.nr);
    if (!r.ok) fail(['nr'], `nr: ${r.msg}`); else nr = r.v;
  } else if (NEEDS_NUMBER.includes(entry)) {
    fail([], `case "${name}" needs call: NAME or nr: NUMBER (entry ${entry} loads a syscall number)`);
  }
  if (m.nr_high !== undefined) {
    const r = parseInt64(m.nr_high);
    if (code === 'compat') fail(['nr_high'], 'nr_high sets bits 63..32 of RAX, which 32-bit code cannot load');
    else if (!r.ok) fail(['nr_high'], `nr_high: ${r.msg}`);
    else if (nr !== undefined) nr = (BigInt.asUintN(32, nr)) | (BigInt.asUintN(32, r.v) << 32n);
  }
  if (nr !== undefined) nr = BigInt.asUintN(bits, nr);
  // The row the number reaches (for isolate and display), decoded as the kernel does: (int)nr.
  const row = nr !== undefined ? lookupNumber(tableAbi, BigInt.asIntN(32, BigInt.asUintN(32, nr))) : undefined;

  // Memory regions and descriptors first: values may refer to them.
  const memory: MemRegion[] = [];
  for (const [rn, r] of Object.entries((m.memory ?? {}) as Record<string, Record<string, unknown>>)) {
    const p = ['memory', rn];
    let hex = '';
    if (r.text !== undefined && r.hex !== undefined) fail([...p, 'hex'], 'give text: or hex:, not both', true);
    if (r.text !== undefined) hex = textToHex(String(r.text));
    if (r.hex !== undefined) { const h = normHex(String(r.hex)); if (!h.ok) fail([...p, 'hex'], h.msg); else hex = h.v; }
    let size = hex.length / 2 || DEFAULT_REGION_SIZE;
    if (r.size !== undefined) {
      const s = parseInt64(r.size);
      if (!s.ok) fail([...p, 'size'], `size: ${s.msg}`);
      else if (s.v <= 0n || s.v > 1n << 30n) fail([...p, 'size'], `size must be between 1 and 2^30 bytes, found ${s.v}`);
      else size = Number(s.v);
    }
    if (hex.length / 2 > size) fail([...p, 'size'], `the contents are ${hex.length / 2} bytes but size is ${size}`);
    let fill = 0;
    if (r.fill !== undefined) {
      const f = parseInt64(r.fill);
      if (!f.ok || f.v < 0n || f.v > 255n) fail([...p, 'fill'], `fill is one byte value 0..255, found ${String(r.fill)}`);
      else fill = Number(f.v);
    }
    const region: MemRegion = {
      name: rn, size, hex, fill,
      prot: (r.prot as MemRegion['prot'] | undefined) ?? 'rw',
      place: (r.place as MemRegion['place'] | undefined) ?? 'anywhere',
      readback: r.readback === true,
    };
    if (r.at !== undefined) {
      const a = parseInt64(r.at);
      if (!a.ok) fail([...p, 'at'], `at: ${a.msg}`);
      else if (a.v % 4096n !== 0n) fail([...p, 'at'], `at must be page-aligned (a multiple of 0x1000), found 0x${a.v.toString(16)}`);
      else region.at = BigInt.asUintN(64, a.v);
    }
    memory.push(region);
  }
  const fds: FdSpec[] = [];
  const decls: Decls = { bufs: new Set(memory.map((r) => r.name)), fds: new Set(['null']) };
  for (const [fn, f] of Object.entries((m.fds ?? {}) as Record<string, Record<string, unknown>>)) {
    const keys = Object.keys(f).filter((k) => f[k] !== undefined);
    if (fn === 'null') { fail(['fds', fn], 'fd name "null" is reserved for /dev/null, which needs no declaration', true); continue; }
    if (keys.length !== 1) { fail(['fds', fn], `fd "${fn}" needs exactly one of file, file_hex, pipe, closed (found ${keys.length ? keys.join(', ') : 'none'})`); continue; }
    const k = keys[0]!;
    let hex = '';
    if (k === 'file' || k === 'pipe') hex = textToHex(String(f[k]));
    if (k === 'file_hex') { const h = normHex(String(f[k])); if (!h.ok) fail(['fds', fn, k], h.msg); else hex = h.v; }
    const kind: FdSpec['kind'] = k === 'pipe' ? 'pipe' : k === 'closed' ? 'closed' : 'file';
    fds.push({ name: fn, kind, hex });
    if (kind === 'pipe') { decls.fds.add(`${fn}.r`); decls.fds.add(`${fn}.w`); } else decls.fds.add(fn);
  }

  // Registers: sentinels, then explicit values, then args, then the number.
  const regs: Partial<Record<Gpr, Operand>> = {};
  const regsIn = m.regs as Record<string, unknown> | undefined;
  if (regsIn?.sentinel === true) {
    GPRS64.forEach((r, i) => { if (r !== 'rsp' && visible.includes(r)) regs[r] = { lit: sentinelValue(i, width32or64(r)) }; });
  }
  for (const [k, v] of Object.entries(regsIn ?? {})) {
    if (k === 'sentinel' || v === undefined) continue;
    const r = (REG32_ALIASES[k] ?? k) as Gpr;
    if (!visible.includes(r)) { fail(['regs', k], `${k} does not exist for ${abi} code (it sees ${visible.join(', ')})`, true); continue; }
    const bitsR = k.startsWith('e') ? 32 : width32or64(r);
    const o = parseInput(v, bitsR, decls);
    if (!o.ok) fail(['regs', k], `regs.${k}: ${o.msg}`); else regs[r] = o.v;
  }
  ((m.args ?? []) as unknown[]).forEach((v, i) => {
    const r = argRegs[i]!;
    const o = parseInput(v, width32or64(r), decls);
    if (!o.ok) fail(['args', i], `args[${i}] (${r}): ${o.msg}`); else regs[r] = o.v;
  });
  if (nr !== undefined) regs.rax = { lit: nr };

  // Flags.
  const flags = ((m.flags ?? []) as SettableFlag[]);
  let rflags = RFLAGS_USER_DEFAULT;
  for (const f of flags) rflags |= RFLAGS[f];

  // Signals.
  const actions: Record<number, 'default' | 'ignore' | 'record'> = {};
  const restart: number[] = [];
  type SigIn = string | { action: string; restart?: boolean | string };
  for (const [sn, v] of Object.entries((m.signals ?? {}) as Record<string, SigIn>)) {
    const n = SIGNALS[sn as keyof typeof SIGNALS];
    const act = typeof v === 'string' ? v : v.action;
    if ((sn === 'SIGKILL' || sn === 'SIGSTOP') && act !== 'default') fail(['signals', sn], `${sn} cannot be caught or ignored`, true);
    actions[n] = act as 'default' | 'ignore' | 'record';
    if (typeof v !== 'string' && v.restart === true) {
      // SA_RESTART is a sigaction flag: the probes set it with a handler or SIG_IGN; for the
      // default action there is nothing to install it with (and nothing it would change).
      if (act === 'default') fail(['signals', sn, 'restart'], `restart: true needs action record (a handler) or ignore; ${sn} is left at its default action, which SA_RESTART does not change`);
      else restart.push(n);
    }
  }
  const blocked: number[] = [];
  ((m.blocked ?? []) as string[]).forEach((sn, i) => {
    if (sn === 'SIGKILL' || sn === 'SIGSTOP') fail(['blocked', i], `${sn} cannot be blocked`);
    blocked.push(SIGNALS[sn as keyof typeof SIGNALS]);
  });

  // Entry-specific inputs.
  let vsyscallAddr: bigint | undefined;
  if (entry === 'vsyscall') {
    const v = m.vsyscall;
    if (v === undefined) vsyscallAddr = VSYSCALL_ADDR;
    else if (typeof v === 'string' && v.trim().startsWith('+')) {
      const r = parseInt64(v.trim().slice(1));
      if (!r.ok) fail(['vsyscall'], `vsyscall: ${r.msg}`); else vsyscallAddr = VSYSCALL_ADDR + r.v;
    } else {
      const r = parseInt64(v);
      if (!r.ok) fail(['vsyscall'], `vsyscall: ${r.msg}`); else vsyscallAddr = BigInt.asUintN(64, r.v);
    }
  }
  let placeNextIp: bigint | undefined;
  if (m.place_next_ip !== undefined) {
    const r = parseInt64(m.place_next_ip);
    if (!r.ok) fail(['place_next_ip'], `place_next_ip: ${r.msg}`); else placeNextIp = BigInt.asUintN(64, r.v);
  }
  let sigreturn: Partial<Record<RegName, Operand>> | undefined;
  if (m.sigreturn !== undefined) {
    sigreturn = {};
    for (const [k, v] of Object.entries(m.sigreturn as Record<string, unknown>)) {
      if (v === undefined) continue;
      const r = (REG32_ALIASES[k] ?? k) as RegName;
      const o = parseInput(v, k.startsWith('e') ? 32 : width32or64(r), decls);
      if (!o.ok) fail(['sigreturn', k], `sigreturn.${k}: ${o.msg}`); else sigreturn[r] = o.v;
    }
  }
  // After-call steps (issue 6): selectors to load, then an 8-byte read.
  let segs: Partial<Record<DataSeg, bigint>> | undefined;
  if (m.segs !== undefined) {
    segs = {};
    for (const [sg, v] of Object.entries(m.segs as Record<string, unknown>)) {
      if (v === undefined) continue;
      const r = parseInt64(v);
      if (!r.ok || r.v < 0n || r.v > 0xffffn) fail(['segs', sg], `segs.${sg}: a selector is 16 bits (0..0xffff), found ${String(v)}`);
      else segs[sg as DataSeg] = r.v;
    }
    // glibc keeps its thread pointer in GS for i386 code (FS for 64-bit code): the target
    // must put it back before any libc code runs, which it does; the spec language allows all four.
  }
  let peek: Case['peek'];
  if (m.peek !== undefined) {
    const pv = m.peek as unknown;
    const form = isObj(pv) ? pv as { seg?: DataSeg; at: unknown } : { at: pv };
    const p: Path = isObj(pv) ? ['peek', 'at'] : ['peek'];
    const o = parseInput(form.at, bits, decls);
    if (!o.ok) fail(p, `peek: ${o.msg}`);
    else peek = { ...(form.seg !== undefined ? { seg: form.seg } : {}), addr: o.v };
  }
  // RG-06 (issue 6): a push/pop in compat code after the call, and contention around the call.
  let compatStack: bigint | undefined;
  if (m.compat_stack !== undefined) {
    const r = parseInt64(m.compat_stack);
    if (!r.ok || r.v < 0n || r.v > 0xffffffffn) fail(['compat_stack'], `compat_stack: the value pushed is 32 bits (0..0xffffffff), found ${String(m.compat_stack)}`);
    else compatStack = r.v;
  }
  let contend: Case['contend'];
  if (m.contend !== undefined) {
    const cv = m.contend as unknown;
    const raw = isObj(cv) ? (cv as { repeat: unknown }).repeat : cv;
    const p: Path = isObj(cv) ? ['contend', 'repeat'] : ['contend'];
    const r = parseInt64(raw);
    // Bounded: each round is a call that sleeps; the selftest uses 1000 rounds of usleep(2).
    if (!r.ok || r.v < 1n || r.v > 100_000n) fail(p, `contend: the number of rounds is 1..100000, found ${String(raw)}`);
    else contend = { repeat: Number(r.v) };
  }
  // RT-04: an instruction breakpoint on the return address (the only place the schema offers).
  let breakpoint: Case['breakpoint'];
  if (m.breakpoint !== undefined) {
    const at = (m.breakpoint as { at: 'next_ip' }).at;
    if (entry === 'exec') fail(['breakpoint'], 'breakpoint: an exec case has no instruction after an entry to break on (the new program replaces the probe, and remove_on_exec drops the breakpoint)');
    else breakpoint = { at };
  }
  // System calls made before the call under test (harness/spec/setup.ts).
  const setup = buildSetup(m.setup, abi, entry, decls, fail);
  // System calls made right after the call under test returned (the same builder).
  const after = buildSetup(m.after, abi, entry, decls, fail, 'after');
  // Calls that would move the native probe's libc thread pointer (harness/spec/tls-guard.ts).
  refuseThreadPointerCalls(setup, 'setup', abi, memory, fail);
  refuseThreadPointerCalls(after, 'after', abi, memory, fail);
  // FSGSBASE instructions right before the entry (harness/spec/before.ts).
  const before = buildBefore(m.before, abi, code, entry, fail);
  let timeoutMs = DEFAULT_TIMEOUT_MS;
  if (m.timeout_ms !== undefined) {
    const r = parseInt64(m.timeout_ms);
    if (!r.ok || r.v <= 0n || r.v > 600_000n) fail(['timeout_ms'], `timeout_ms must be 1..600000 milliseconds, found ${String(m.timeout_ms)}`);
    else timeoutMs = Number(r.v);
  }

  // Requirements.
  const requires: Requires = {
    ...specReq,
    ...(specReq.kernel ? { kernel: [...specReq.kernel] } : {}),
    ...(specReq.vsyscall ? { vsyscall: [...specReq.vsyscall] } : {}),
    ...(specReq.features ? { features: [...specReq.features] } : {}),
  };
  mergeRequires(requires, m.requires as RequiresInput | undefined, (k, msg) => fail(['requires', k], msg));
  // int $0x80 from 64-bit code needs ia32 emulation: without it the case is a SKIP, not an error.
  if (setupNeedsIa32(setup)) {
    if (requires.ia32 === false) fail(['setup'], 'a set-up call uses entry int80, which needs ia32 emulation, but the case requires ia32: false');
    else requires.ia32 = true;
  }
  if (setupNeedsIa32(after)) {
    if (requires.ia32 === false) fail(['after'], 'an after-call uses entry int80, which needs ia32 emulation, but the case requires ia32: false');
    else requires.ia32 = true;
  }

  // Expectation.
  if (m.expect === undefined) {
    fail([], `case "${name}" has no expect: (say what must hold; {outcome: returned} at the least)`);
  }
  const syscallNs: NameSpace = {
    what: `syscall name (${tableAbi} table)`,
    lookup: (s) => { const r = lookupName(tableAbi, s); return r ? BigInt(r.nr) : undefined; },
    names: () => syscallNames(tableAbi),
  };
  // seccomp filters (issue 7), compiled once here so every target installs the same program
  // (before the expectation: expect.seccomp_install is checked against the installs' count).
  const seccomp = buildSeccomp(m.seccomp, tableAbi, fail);
  const seccompInstalls = seccomp ? (seccomp.mode === 'strict' ? 1 : seccomp.filters.length + (seccomp.thenStrict ? 1 : 0)) : 0;
  // SC-04/05/06: the call runs in a second thread (harness/spec/thread.ts).
  const thread = buildThread(m.thread, tableAbi, { ...m, entry }, fail);
  const expect = m.expect !== undefined
    ? parseExpectation(m.expect as ExpectAltInput & { any_of?: ExpectAltInput[] }, ['expect'], {
        decls, visible, code, widthOf, syscallNs, fail, regionsForReadback: memory, tracerBits: abi === 'i386' ? 32 : 64,
        hasPeek: peek !== undefined, loadedSegs: Object.keys(segs ?? {}) as DataSeg[],
        hasCompatStack: compatStack !== undefined, seccompInstalls, hasThread: thread !== undefined,
        hasNotify: seccomp?.notify !== undefined,
        calls: { setup: setup?.length ?? 0, after: after?.length ?? 0 }, abi,
      })
    : { regs: [] };

  // ptrace tracer script (issue 7): names resolved in the entry's table.
  const ptrace = buildPtrace(m.ptrace, tableAbi, syscallNs, fail, SIGNAL_NS);

  // isolate: the documented automatic rules (docs/spec-language.md, Case keys).
  const autoWhy: string[] = [];
  // A filter or strict mode stays on the process for good (seccomp(2): it cannot be removed).
  if (m.seccomp !== undefined) autoWhy.push('it installs seccomp filters');
  // The case's process becomes a tracee of its parent (PTRACE_TRACEME) for good.
  if (m.ptrace !== undefined) autoWhy.push('it runs under a ptrace tracer');
  // A second thread, and possibly a process that dies with it (probes/thread.c).
  if (thread !== undefined) autoWhy.push('its call runs in a second thread');
  // ftrace (issue 7): the events are told apart by the case process's pid (docs/ftrace.md).
  const wantsFtrace = [expect, ...(expect.anyOf ?? []).map((a) => a.exp)].some((e) => e.ftrace !== undefined);
  if (m.ftrace === false && wantsFtrace) fail(['ftrace'], 'ftrace: false, but expect has ftrace: events to check (which need the capture)');
  const ftrace = m.ftrace === true || wantsFtrace;
  if (ftrace) {
    autoWhy.push('it captures ftrace events');
    // Only a target that can capture syscall events runs it; others SKIP with the reason.
    requires.features = [...new Set([...(requires.features ?? []), 'ftrace'])];
  }
  if (entry === 'exec' || entry === 'sigreturn') autoWhy.push(`entry ${entry}`);
  const alts = [expect, ...(expect.anyOf ?? []).map((a) => a.exp)];
  if (alts.some((e) => e.killed || e.exitCode || e.outcome === 'killed' || e.outcome === 'exited')) autoWhy.push('the case expects its process to die or exit');
  if (row && (row.name === 'exit' || row.name === 'exit_group')) autoWhy.push(`it calls ${row.name}`);
  if (Object.keys(actions).length > 0 || blocked.length > 0) autoWhy.push('it sets up signals');
  if (memory.some((r) => r.at !== undefined)) autoWhy.push('it maps memory at a fixed address');
  // The case process pins itself to one CPU and starts a busy sibling (RG-06).
  if (contend !== undefined) autoWhy.push('it runs under contention (CPU pinning, a busy sibling)');
  // A hit is a SIGTRAP raised from the perf event's task work; a fresh process keeps a stray
  // one (or a debug register left armed) away from the cases that follow.
  if (breakpoint !== undefined) autoWhy.push('it arms a hardware breakpoint');
  // An LDT, a TLS entry or a base written by a set-up call would outlive the case.
  if (setup !== undefined) autoWhy.push('it makes set-up calls, which change the process');
  if (after !== undefined) autoWhy.push('it makes calls after the call under test, which may change the process');
  // A base written by WRFSBASE/WRGSBASE outlives the case; FS holds glibc's thread pointer.
  if (before !== undefined) autoWhy.push('it runs instructions before the entry that may change the FS/GS bases');
  let isolate = autoWhy.length > 0;
  if (m.isolate === true) isolate = true;
  if (m.isolate === false && autoWhy.length > 0) fail(['isolate'], `isolate: false is not possible here: ${autoWhy.join('; ')}`);

  // Reading the auxv or /proc/self/maps only for the cases whose expectation needs them.
  const observe = observeNeeds(expect);

  if (failed) return undefined;
  const kase: Case = {
    id: `${meta.id}/${slugify(name)}@${abi}`,
    spec: meta.id,
    abi,
    entry,
    code,
    nr: nr ?? 0n,
    ...(callName !== undefined ? { callName } : {}),
    regs,
    rflags,
    flags: [...flags],
    memory,
    fds,
    signals: { actions, blocked, ...(restart.length > 0 ? { restart } : {}) },
    ...(m.symbol !== undefined ? { symbol: String(m.symbol) } : {}),
    ...(vsyscallAddr !== undefined ? { vsyscallAddr } : {}),
    ...(placeNextIp !== undefined ? { placeNextIp } : {}),
    ...(observe.length > 0 ? { observe } : {}),
    ...(sigreturn !== undefined ? { sigreturn } : {}),
    ...(seccomp !== undefined ? { seccomp } : {}),
    ...(ptrace !== undefined ? { ptrace } : {}),
    ...(thread !== undefined ? { thread } : {}),
    ...(ftrace ? { ftrace: true } : {}),
    ...(segs !== undefined ? { segs } : {}),
    ...(peek !== undefined ? { peek } : {}),
    ...(compatStack !== undefined ? { compatStack } : {}),
    ...(contend !== undefined ? { contend } : {}),
    ...(breakpoint !== undefined ? { breakpoint } : {}),
    ...(setup !== undefined ? { setup } : {}),
    ...(after !== undefined ? { after } : {}),
    ...(before !== undefined ? { before } : {}),
    isolate,
    timeoutMs,
  };
  return { case: kase, expect, requires, spec: meta, name, line: 0 };
}

interface ExpectBuild {
  decls: Decls;
  visible: readonly Gpr[];
  code: CodeMode;
  widthOf(r: RegName): 16 | 32 | 64;
  syscallNs: NameSpace;
  fail: Err;
  regionsForReadback: MemRegion[];
  /** Width of the registers the case's ptrace tracer reads (a 32-bit program's tracer: 32). */
  tracerBits: 32 | 64;
  /** The case's after-call steps, so expect.peek/segs can refuse checks of steps it lacks. */
  hasPeek: boolean;
  loadedSegs: readonly DataSeg[];
  hasCompatStack: boolean;
  /** How many seccomp installs the case makes (filters after repeat, plus a final strict). */
  seccompInstalls: number;
  /** The case has `thread:` (expect.thread / process / seccomp_install thread_tid need it). */
  hasThread: boolean;
  /** The case has a notify supervisor (Case.seccomp.notify, SC-04). */
  hasNotify: boolean;
  /** How many set-up calls and after-calls the case makes (result symbols). */
  calls: { setup: number; after: number };
  abi: Abi;
}

const ns = (what: string, table: Record<string, number>): NameSpace => ({
  what, lookup: (s) => (s in table ? BigInt(table[s]!) : undefined), names: () => Object.keys(table),
});
const SIGNAL_NS = ns('signal name', SIGNALS);
const SI_CODE_NS = ns('si_code name', SI_CODES);
const ERRNO_NS = ns('errno name', ERRNO);
const AUDIT_NS = ns('AUDIT_ARCH name', AUDIT_NAMES);

function parseExpectation(
  e: ExpectAltInput & { any_of?: ExpectAltInput[] }, base: Path, b: ExpectBuild,
): Expectation {
  const out: Expectation = { regs: [] };
  // `$mem.NAME...` anywhere in the expectation makes the case read NAME back.
  const useRegion = (rn: string): void => { const r = b.regionsForReadback.find((x) => x.name === rn); if (r) r.readback = true; };
  const ctx = (names?: NameSpace): ExpectCtx => ({ decls: b.decls, regs: ALL_REG_KEYS, hasThread: b.hasThread, calls: b.calls, useRegion, ...(names ? { names } : {}) });
  const matcher = (v: MatcherInput, p: Path, names?: NameSpace): Matcher | undefined =>
    parseMatcher(v, ctx(names), (sub, msg) => b.fail([...p, ...sub], msg));
  const regCheck = (field: string, v: MatcherInput, p: Path): RegCheck | undefined => {
    const reg = (field === 'ret' ? 'rax' : REG32_ALIASES[field] ?? field) as RegName;
    if ((GPRS64 as readonly string[]).includes(reg) && !b.visible.includes(reg as Gpr)) {
      b.fail(p, `${field} does not exist for 32-bit (i386) code; it sees ${b.visible.join(', ')}`, true);
      return undefined;
    }
    const bits = field in REG32_ALIASES ? 32 : b.widthOf(reg);
    const m = matcher(v, p);
    return m ? { field, reg, bits, m } : undefined;
  };

  if (e.outcome !== undefined) out.outcome = e.outcome as Expectation['outcome'];
  if (e.ret !== undefined && e.errno !== undefined) b.fail([...base, 'errno'], 'give ret: or errno:, not both (errno: X means ret: {errno: X})', true);
  if (e.errno !== undefined) {
    out.regs.push({ field: 'ret', reg: 'rax', bits: b.widthOf('rax') === 64 ? 64 : 32, m: { kind: 'errno', name: e.errno, n: ERRNO[e.errno as keyof typeof ERRNO] } });
  }
  const rec = e as unknown as Record<string, unknown>;
  for (const k of ['ret', ...ALL_REG_KEYS]) {
    if (rec[k] === undefined) continue;
    const rc = regCheck(k, rec[k] as MatcherInput, [...base, k]);
    if (rc) out.regs.push(rc);
  }
  if (e.preserved !== undefined) {
    const pv = e.preserved;
    const all: readonly Gpr[] = b.code === 'compat' ? GPRS32 : b.visible;
    const toReg = (n: string) => (REG32_ALIASES[n] ?? n) as Gpr;
    let list: Gpr[];
    let text: string;
    if (pv === 'all') { list = [...all]; text = 'all'; }
    else if (Array.isArray(pv)) { list = pv.map(toReg); text = pv.join(', '); }
    else { const but = pv.all_but.map(toReg); list = all.filter((r) => !but.includes(r)); text = `all but ${pv.all_but.join(', ')}`; }
    // 32-bit code sees only eax..esp: naming r8-r15 there (typically a 64-bit `all_but [rax,
    // rcx, r11]` inherited by an i386 case) would silently drop ECX from the check.
    const named = pv === 'all' ? [] : (Array.isArray(pv) ? pv : pv.all_but).map(toReg);
    const unseen = b.code === 'compat' ? named.filter((r) => (GPRS64 as readonly string[]).includes(r) && !GPRS32.includes(r)) : [];
    if (unseen.length > 0) {
      b.fail([...base, 'preserved'], `32-bit code cannot see ${unseen.join(', ')}: give this ABI its own preserved set (per_abi), e.g. { all_but: [eax] }`);
    }
    const bad = list.filter((r) => !(GPRS64 as readonly string[]).includes(r));
    if (bad.length > 0) b.fail([...base, 'preserved'], `preserved lists general registers only; ${bad.join(', ')} is not one (check rip/rflags/selectors with their own keys)`);
    out.preserved = { regs: list, bits: b.code === 'compat' ? 32 : 64, text };
  }
  if (e.flags !== undefined) {
    out.flags = { set: (e.flags.set ?? []) as FlagName[], clear: (e.flags.clear ?? []) as FlagName[] };
    const both = out.flags.set.filter((f) => out.flags!.clear.includes(f));
    if (both.length) b.fail([...base, 'flags'], `flags ${both.join(', ')} cannot be both set and clear`);
  }
  if (e.signal !== undefined) {
    const sp = [...base, 'signal'];
    const sig: NonNullable<Expectation['signal']> = { fields: [], regs: [] };
    if (typeof e.signal === 'string') {
      sig.fields.push({ field: 'signo', m: { kind: 'eq', v: { lit: BigInt(SIGNALS[e.signal as keyof typeof SIGNALS]), name: e.signal } } });
    } else {
      const s = e.signal as Record<string, MatcherInput | undefined>;
      const fieldNs: Record<SignalField, NameSpace | undefined> = {
        signo: SIGNAL_NS, code: SI_CODE_NS, errno: ERRNO_NS, addr: undefined, syscall: b.syscallNs, arch: AUDIT_NS, trapno: undefined, err: undefined,
      };
      for (const [k, v] of Object.entries(s)) {
        if (v === undefined) continue;
        if (k in fieldNs) {
          const mm = matcher(v, [...sp, k], fieldNs[k as SignalField]);
          if (mm) sig.fields.push({ field: k as SignalField, m: mm });
        } else {
          const rc = regCheck(k, v, [...sp, k]);
          if (rc) sig.regs.push(rc);
        }
      }
    }
    out.signal = sig;
  }
  if (e.killed !== undefined) out.killed = { signo: SIGNALS[e.killed as keyof typeof SIGNALS], name: e.killed };
  if (e.exit_code !== undefined) { const mm = matcher(e.exit_code, [...base, 'exit_code']); if (mm) out.exitCode = mm; }
  if (e.traps !== undefined) { const mm = matcher(e.traps, [...base, 'traps']); if (mm) out.traps = mm; }
  if (e.traps_in !== undefined) {
    out.trapsIn = [];
    for (const [range, v] of Object.entries(e.traps_in)) {
      if (v === undefined) continue;
      const mm = matcher(v, [...base, 'traps_in', range]);
      if (mm) out.trapsIn.push({ range: range as TrapRange, m: mm });
    }
  }
  const flagPair = (f: { set?: string[]; clear?: string[] }, where: (string | number)[]) => {
    const r = { set: (f.set ?? []) as FlagName[], clear: (f.clear ?? []) as FlagName[] };
    const both = r.set.filter((x) => r.clear.includes(x));
    if (both.length) b.fail(where, `flags ${both.join(', ')} cannot be both set and clear`);
    return r;
  };
  if (e.trap_handler_flags !== undefined) out.trapHandlerFlags = flagPair(e.trap_handler_flags, [...base, 'trap_handler_flags']);
  if (e.delivered !== undefined) {
    out.delivered = e.delivered.map((d, i) => {
      if (typeof d === 'string') return { signo: SIGNALS[d as keyof typeof SIGNALS], name: d };
      const item: NonNullable<Expectation['delivered']>[number] = { signo: SIGNALS[d.signo as keyof typeof SIGNALS], name: d.signo };
      if (d.handler_flags) item.handlerFlags = flagPair(d.handler_flags, [...base, 'delivered', i, 'handler_flags']);
      if (d.flags) item.flags = flagPair(d.flags, [...base, 'delivered', i, 'flags']);
      if (d.code !== undefined) { const mm = matcher(d.code, [...base, 'delivered', i, 'code'], SI_CODE_NS); if (mm) item.code = mm; }
      return item;
    });
  }
  if (e.memory !== undefined) {
    out.memory = [];
    for (const [rn, mv] of Object.entries(e.memory)) {
      const p = [...base, 'memory', rn];
      const region = b.regionsForReadback.find((r) => r.name === rn);
      if (!region) { b.fail(p, `expected memory "${rn}" is not a region of this case${didYouMean(rn, b.decls.bufs)}; declared: ${b.decls.bufs.size ? oneOf([...b.decls.bufs]) : 'none'}`, true); continue; }
      // Reading a region back is implied by expecting its contents.
      region.readback = true;
      const views = MEM_VIEWS.filter((v) => mv[v] !== undefined);
      if (mv.text !== undefined && mv.hex !== undefined) { b.fail(p, `expected memory "${rn}" takes text: or hex:, not both`); continue; }
      if (mv.text === undefined && mv.hex === undefined && views.length === 0) { b.fail(p, `expected memory "${rn}" needs text:, hex:, or a typed view (${MEM_VIEWS.join(', ')})`); continue; }
      if (mv.text !== undefined) out.memory.push({ name: rn, hex: textToHex(mv.text), text: mv.text });
      else if (mv.hex !== undefined) { const h = normHex(mv.hex); if (!h.ok) b.fail([...p, 'hex'], h.msg); else out.memory.push({ name: rn, hex: h.v }); }
      // Typed views (harness/spec/results.ts): each item an expected value over the read-back bytes.
      for (const view of views) {
        const items = view === 'u32' || view === 'u64' ? (mv[view] as MatcherInput[]) : [mv[view] as MatcherInput];
        items.forEach((item, index) => {
          const vp = view === 'u32' || view === 'u64' ? [...p, view, index] : [...p, view];
          if (viewBytes(view, index, b.abi) > region.size) {
            b.fail(vp, `memory.${rn}.${view}${view === 'u32' || view === 'u64' ? `[${index}]` : ''} reads ${viewBytes(view, index, b.abi)} bytes, but region ${rn} has ${region.size}`);
            return;
          }
          const mm = matcher(item, vp);
          if (mm) (out.memWords ??= []).push({ name: rn, view, index, m: mm });
        });
      }
    }
  }
  if (e.events !== undefined) {
    out.events = parsePtraceEvents(e.events as Parameters<typeof parsePtraceEvents>[0], [...base, 'events'], b.tracerBits,
      { syscall: b.syscallNs, signal: SIGNAL_NS, arch: AUDIT_NS }, matcher);
  }
  if (e.event_count !== undefined) { const mm = matcher(e.event_count, [...base, 'event_count']); if (mm) out.eventCount = mm; }
  if (e.ftrace !== undefined) {
    out.ftrace = parseFtraceExpect(e.ftrace as Parameters<typeof parseFtraceExpect>[0], [...base, 'ftrace'], b.fail, matcher);
  }
  // After-call steps (issue 6): only meaningful when the case asks for them.
  if (e.peek !== undefined) {
    if (!b.hasPeek) b.fail([...base, 'peek'], 'expect.peek checks the value read by the case\'s peek: step, but this case has no peek:', true);
    const mm = matcher(e.peek, [...base, 'peek']);
    if (mm) out.peek = mm;
  }
  if (e.compat_stack !== undefined) {
    if (!b.hasCompatStack) b.fail([...base, 'compat_stack'], 'expect.compat_stack checks the value popped by the case\'s compat_stack: step, but this case has no compat_stack:', true);
    const mm = matcher(e.compat_stack, [...base, 'compat_stack']);
    if (mm) out.compatStack = mm;
  }
  // VD-01/VD-04: the auxv and the special mappings (harness/spec/maps.ts).
  if (e.auxv !== undefined) out.auxv = parseAuxvExpect(e.auxv as Record<string, unknown>, base, matcher as never);
  if (e.maps !== undefined) out.maps = parseMapsExpect(e.maps as Record<string, unknown>, base, matcher as never, (p, msg) => b.fail(p, msg));
  if (e.segs !== undefined) {
    out.segs = [];
    for (const [sg, v] of Object.entries(e.segs)) {
      if (v === undefined) continue;
      if (!b.loadedSegs.includes(sg as DataSeg)) {
        b.fail([...base, 'segs', sg], `expect.segs.${sg} checks a selector the case loads after its call, but its segs: ${b.loadedSegs.length ? `loads only ${b.loadedSegs.join(', ')}` : 'is absent'} (the selector right after the call is expect.${sg})`, true);
        continue;
      }
      const mm = matcher(v as MatcherInput, [...base, 'segs', sg]);
      if (mm) out.segs.push({ seg: sg as DataSeg, m: mm });
    }
  }
  // SC-06: the seccomp installs' results, in order; only a case that installs something.
  // SC-04: what the supervisor received; only a case that has one.
  if (e.notification !== undefined) {
    if (!b.hasNotify) b.fail([...base, 'notification'], 'expect.notification checks what the supervisor received, but this case has no seccomp: notify: script', true);
    else out.notification = parseNotificationExpect(e.notification, [...base, 'notification'], { syscall: b.syscallNs, arch: AUDIT_NS }, matcher);
  }
  if (e.seccomp_install !== undefined) {
    if (b.seccompInstalls === 0) b.fail([...base, 'seccomp_install'], 'expect.seccomp_install checks the results of the case\'s seccomp: installs, but this case installs none', true);
    else if (e.seccomp_install.length !== b.seccompInstalls) {
      b.fail([...base, 'seccomp_install'], `expect.seccomp_install lists ${e.seccomp_install.length} result(s), but the case's seccomp: makes ${b.seccompInstalls} install(s) (after repeat, and a final strict counts)`);
    }
    out.seccompInstall = e.seccomp_install.map((w, i) => {
      const name = typeof w === 'string' ? w : w.errno;
      if (name === 'thread_tid') {
        // TSYNC's failure value: the id of the sibling that cannot be synced (seccomp_can_sync_threads).
        if (!b.hasThread) b.fail([...base, 'seccomp_install', i], 'thread_tid is the id of the case\'s second thread, but this case has no thread:');
        return { errno: 0, name, threadTid: true };
      }
      return name === 'ok' ? { errno: 0, name: 'ok' } : { errno: ERRNO[name as keyof typeof ERRNO], name };
    });
  }
  // Case.thread: the second thread's end and whether the process lived on.
  for (const k of ['thread', 'process'] as const) {
    if (e[k] !== undefined && !b.hasThread) b.fail([...base, k], `expect.${k} is about the case's second thread, but this case has no thread: (add thread: true)`, true);
  }
  if (e.thread !== undefined) out.threadEnded = e.thread;
  if (e.process !== undefined) out.process = e.process;
  if (out.process === 'alive' && out.killed) b.fail([...base, 'process'], `process: alive contradicts killed: ${out.killed.name} (the process died of it)`);
  if (out.threadEnded && out.threadEnded !== 'killed' && out.process === 'killed') b.fail([...base, 'thread'], `thread: ${out.threadEnded} contradicts process: killed (the report comes from the main thread, which died)`);
  // A stated outcome must agree with the keys that imply one.
  const implied = out.signal ? 'signal' : out.killed ? 'killed' : out.exitCode ? 'exited'
    : out.threadEnded ? (out.threadEnded === 'returned' ? undefined : out.threadEnded) : out.process === 'killed' ? 'killed' : undefined;
  if (out.outcome && implied && out.outcome !== implied) {
    b.fail([...base, 'outcome'], `outcome: ${out.outcome} contradicts ${implied === 'signal' ? 'signal:' : implied === 'killed' ? 'killed:' : 'exit_code:'} (which means outcome ${implied})`);
  }
  if (e.any_of !== undefined) {
    out.anyOf = e.any_of.map((alt, i) => {
      const exp = parseExpectation(alt, [...base, 'any_of', i], b);
      return alt.why !== undefined ? { why: alt.why, exp } : { exp };
    });
  }
  return out;
}
