// Fuzz mode (`sysabi fuzz`, issue 8): random but safe Cases — random register states, RFLAGS
// bits, and syscall numbers from a harmless set — run on two targets, their Observations
// compared with harness/diff.ts, and every disagreement minimised and written out as a
// spec file the loader accepts (docs/fuzz.md). Everything is a pure function of the seed:
// case i of ABI a is drawn from its own PRNG stream "seed/a/i", so shards and reruns agree.
//
// Cases are generated as spec-language case bodies and turned into Cases by the real loader
// (harness/spec/load.ts + expand.ts), so the YAML written for a finding is exactly what ran.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ABIS, ERRNO, MAX_ERRNO, SETTABLE_FLAGS, SIGNALS, X32_SYSCALL_BIT, type Abi, type SettableFlag } from '../abi/constants.js';
import { isImplemented, lookupName, NR_SYSCALLS } from '../abi/tables/index.js';
import type { Case, Gpr, Observation, RegName, Target, TargetInfo } from './contracts.js';
import { GPRS32, GPRS64 } from './contracts.js';
import { check } from './check.js';
import { compareObservations, type FieldDiff } from './diff.js';
import { hex } from './json.js';
import { unmetRequirement } from './requires.js';
import { expandChecked } from './spec/expand.js';
import { formatSpecError, parseSpecText, type SpecError } from './spec/load.js';
import type { ExpandedCase } from './spec/types.js';

// ------------------------------------------------------------------ the PRNG

/** cyrb128: a string → four 32-bit seeds (a well-mixed hash; not cryptographic). */
function hash128(s: string): [number, number, number, number] {
  let h1 = 1779033703, h2 = 3144134277, h3 = 1013904242, h4 = 2773480762;
  for (let i = 0; i < s.length; i++) {
    const k = s.charCodeAt(i);
    h1 = h2 ^ Math.imul(h1 ^ k, 597399067);
    h2 = h3 ^ Math.imul(h2 ^ k, 2869860233);
    h3 = h4 ^ Math.imul(h3 ^ k, 951274213);
    h4 = h1 ^ Math.imul(h4 ^ k, 2716044179);
  }
  h1 = Math.imul(h3 ^ (h1 >>> 18), 597399067);
  h2 = Math.imul(h4 ^ (h2 >>> 22), 2869860233);
  h3 = Math.imul(h1 ^ (h3 >>> 17), 951274213);
  h4 = Math.imul(h2 ^ (h4 >>> 19), 2716044179);
  return [(h1 ^ h2 ^ h3 ^ h4) >>> 0, (h2 ^ h1) >>> 0, (h3 ^ h1) >>> 0, (h4 ^ h1) >>> 0];
}

/** sfc32, a small fast PRNG with a 128-bit state; same seed text → same sequence everywhere. */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  constructor(seedText: string) {
    [this.a, this.b, this.c, this.d] = hash128(seedText);
    for (let i = 0; i < 12; i++) this.u32(); // let the state mix before the first draw
  }
  u32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }
  /** An integer in [0, n). */
  below(n: number): number {
    return Math.floor((this.u32() / 0x1_0000_0000) * n);
  }
  chance(p: number): boolean {
    return this.u32() / 0x1_0000_0000 < p;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.below(xs.length)]!;
  }
  u64(): bigint {
    return (BigInt(this.u32()) << 32n) | BigInt(this.u32());
  }
}

// ------------------------------------------------------------------ case bodies

/** A value in a case body: a literal (written as hex) or a spec-language operand ("fd:null"). */
export type Val = bigint | string;
export type FuzzEntry = 'syscall' | 'int80';
export const FUZZ_ENTRIES: readonly FuzzEntry[] = ['syscall', 'int80'];

/** A case as the spec language writes it (docs/spec-language.md "Case keys"), minus expect. */
export interface FuzzBody {
  entry: FuzzEntry;
  call?: string;
  nr?: bigint;
  nr_high?: bigint;
  args?: Val[];
  sentinel?: boolean;
  regs?: Partial<Record<Gpr, bigint>>;
  flags?: SettableFlag[];
  memory?: Record<string, { text: string }>;
  fds?: Record<string, { closed: true } | { pipe: string }>;
  requires?: { ia32: true };
}

export interface FuzzCase {
  abi: Abi;
  index: number;
  /** Which template drew it (id calls, close of a closed fd, ENOSYS numbers, ...). */
  kind: string;
  body: FuzzBody;
}

const MASK64 = (1n << 64n) - 1n;
/** Calls without side effects whatever their arguments (ids, sched_yield). */
const ID_CALLS = ['getpid', 'getppid', 'gettid', 'getuid', 'getgid', 'geteuid', 'getegid', 'sched_yield'];
/** Flags drawn independently; TF is rarer since every trap costs a signal round trip. */
const FLAG_POOL = SETTABLE_FLAGS.filter((f) => f !== 'TF');

/** Entries an ABI's fuzz cases can use. A raw SYSCALL from 32-bit code has no stable ABI
 *  (it returns to the vDSO landing pad, arch/x86/entry/entry_64_compat.S), so i386 uses int80. */
export function entriesFor(abi: Abi, wanted: readonly FuzzEntry[]): FuzzEntry[] {
  return wanted.filter((e) => (abi === 'i386' ? e === 'int80' : true));
}

/** Table that decodes the number: int $0x80 always uses the i386 one (ABI-FACTS §4.2). */
function tableOf(abi: Abi, entry: FuzzEntry): Abi {
  return entry === 'int80' ? 'i386' : abi;
}
function codeBits(abi: Abi): 32 | 64 {
  return abi === 'i386' ? 32 : 64;
}

/** Register values an ABI edge likes: sentinels, 0, all ones, sign bits, non-canonical addresses. */
function interesting(r: Rng, bits: 32 | 64): bigint {
  let v: bigint;
  switch (r.below(8)) {
    case 0: v = 0x5a5a_0000_0000_0000n | (BigInt(r.below(256)) << 8n) | BigInt(r.below(256)); break;
    case 1: v = r.pick([0n, 1n, MASK64, 1n << 63n, (1n << 63n) - 1n, 0xffff_ffffn, 0x8000_0000n, 0x7fff_ffffn, 1n << 32n, 0xffff_ffff_0000_0000n]); break;
    case 2: v = BigInt(r.u32()); break;
    case 3: v = 0xffff_ffff_0000_0000n | BigInt(r.u32()); break;
    case 4: v = 0x0000_8000_0000_0000n | (BigInt(r.u32()) << 12n); break; // non-canonical
    case 5: v = 0xffff_8000_0000_0000n | (BigInt(r.u32()) << 8n); break; // kernel half
    default: v = r.u64();
  }
  if (bits === 32) {
    v &= 0xffff_ffffn;
    if (r.chance(0.3)) v = 0x5a00_0000n | (BigInt(r.below(256)) << 8n) | BigInt(r.below(256));
  }
  return v;
}

/** A number with no implementation in `table`: a hole, past the end, or negative as an int. */
function enosysNumber(r: Rng, table: Abi, kind: 'gap' | 'range' | 'negative'): bigint {
  const nrMax = NR_SYSCALLS[table];
  const base = table === 'x32' ? Number(X32_SYSCALL_BIT) : 0;
  if (kind === 'gap') {
    const holes: number[] = [];
    for (let n = 0; n < nrMax; n++) if (!isImplemented(table, base + n)) holes.push(base + n);
    if (holes.length) return BigInt(r.pick(holes));
  }
  if (kind === 'negative') return BigInt(r.pick([0xffff_ffff, 0xffff_fffe, 0xffff_f001, 0x8000_0000, 0x8000_0000 + r.below(0x7fff_ffff)]));
  return BigInt(base + r.pick([nrMax, nrMax + 1 + r.below(500), 0x1000 + r.below(0x3fff_0000), 0x3fff_ffff, 0x7fff_ffff]));
}

/** Draw case `index` of `abi`: a pure function of (seed, abi, index, entries). */
export function generateCase(seed: string, abi: Abi, index: number, entries: readonly FuzzEntry[]): FuzzCase | undefined {
  const allowed = entriesFor(abi, entries);
  if (!allowed.length) return undefined;
  const r = new Rng(`${seed}/${abi}/${index}`);
  const entry = r.pick(allowed);
  const table = tableOf(abi, entry);
  const bits = codeBits(abi);
  const wide = bits === 64 && table !== 'i386'; // 64-bit argument registers
  const body: FuzzBody = { entry };
  if (entry === 'int80' && abi !== 'i386') body.requires = { ia32: true };
  const highBits = (sym: string): Val => (wide && r.chance(0.3) ? `${sym} | ${hex(0xffff_ffff_0000_0000n)}` : sym);
  const kinds = ['id', 'id', 'id', 'close-closed', 'write-null', 'read-badptr', 'enosys-gap', 'enosys-range', 'negative'];
  if (abi === 'x86_64' && entry === 'syscall') kinds.push('x32-bit');
  const kind = r.pick(kinds);
  switch (kind) {
    case 'id':
      body.call = r.pick(ID_CALLS.filter((c) => lookupName(table, c)));
      break;
    case 'close-closed':
      body.call = 'close';
      body.fds = { c: { closed: true } };
      body.args = [highBits('fd:c')];
      break;
    case 'write-null':
      body.call = 'write';
      body.memory = { b: { text: 'fuzz' } };
      body.args = [highBits('fd:null'), 'buf:b', BigInt(r.below(5))];
      break;
    case 'read-badptr':
      // read from a pipe holding data into an unmapped buffer: copy_to_user fails, -EFAULT.
      body.call = r.chance(0.5) ? 'read' : 'write';
      body.fds = { p: { pipe: 'data' } };
      body.args = [body.call === 'read' ? 'fd:p.r' : 'fd:p.w', 'unmapped', BigInt(1 + r.below(4))];
      break;
    case 'x32-bit':
      // The x32 bit on an x86_64 call: ENOSYS unless x32 is built (then the x32 table's row).
      body.nr = X32_SYSCALL_BIT | BigInt(lookupName('x86_64', r.pick(['getpid', 'gettid', 'getuid']))!.nr);
      break;
    default:
      body.nr = enosysNumber(r, table, kind === 'enosys-gap' ? 'gap' : kind === 'enosys-range' ? 'range' : 'negative');
  }
  // High bits in RAX: the kernel uses the low 32 bits sign-extended (ABI-FACTS §3.4).
  if (bits === 64 && r.chance(0.25)) body.nr_high = r.chance(0.5) ? 0xffff_ffffn : BigInt(r.u32());
  if (r.chance(0.5)) body.sentinel = true;
  const visible = (abi === 'i386' ? GPRS32 : GPRS64).filter((g) => g !== 'rsp' && g !== 'rax');
  const nregs = r.below(6);
  for (let i = 0; i < nregs; i++) (body.regs ??= {})[r.pick(visible)] = interesting(r, bits);
  const flags: SettableFlag[] = FLAG_POOL.filter(() => r.chance(0.12));
  if (r.chance(0.04)) flags.push('TF');
  if (flags.length) body.flags = flags;
  return { abi, index, kind, body };
}

/** Case indexes of a shard: round-robin like `run --shard` (harness/run.ts selectCases). */
export function shardIndexes(count: number, shard?: { index: number; count: number }): number[] {
  const out: number[] = [];
  for (let i = 0; i < count; i++) if (!shard || i % shard.count === shard.index - 1) out.push(i);
  return out;
}

// ------------------------------------------------------------------ YAML

function yval(v: Val): string {
  return typeof v === 'bigint' ? hex(BigInt.asUintN(64, v)) : JSON.stringify(v);
}

/** The body as YAML lines of a case map (without name and expect), at `ind` spaces. */
export function bodyYaml(abi: Abi, b: FuzzBody, ind: string): string[] {
  const L: string[] = [];
  L.push(`${ind}abi: ${abi}`, `${ind}entry: ${b.entry}`);
  if (b.call !== undefined) L.push(`${ind}call: ${b.call}`);
  if (b.nr !== undefined) L.push(`${ind}nr: ${hex(b.nr)}`);
  if (b.nr_high !== undefined) L.push(`${ind}nr_high: ${hex(b.nr_high)}`);
  if (b.args?.length) L.push(`${ind}args: [${b.args.map(yval).join(', ')}]`);
  const regs = Object.entries(b.regs ?? {});
  if (b.sentinel || regs.length) {
    const parts = [...(b.sentinel ? ['sentinel: true'] : []), ...regs.map(([k, v]) => `${k}: ${yval(v!)}`)];
    L.push(`${ind}regs: { ${parts.join(', ')} }`);
  }
  if (b.flags?.length) L.push(`${ind}flags: [${b.flags.join(', ')}]`);
  if (b.memory) L.push(`${ind}memory: { ${Object.entries(b.memory).map(([k, m]) => `${k}: { text: ${JSON.stringify(m.text)} }`).join(', ')} }`);
  if (b.fds) L.push(`${ind}fds: { ${Object.entries(b.fds).map(([k, f]) => `${k}: ${'closed' in f ? '{ closed: true }' : `{ pipe: ${JSON.stringify(f.pipe)} }`}`).join(', ')} }`);
  if (b.requires) L.push(`${ind}requires: { ia32: true }`);
  return L;
}

/** Load spec text through the real loader and expander; throws with file:line:col on errors. */
export function expandText(file: string, text: string): ExpandedCase[] {
  const p = parseSpecText(file, text);
  const errors: SpecError[] = [...p.errors];
  const out = p.spec ? expandChecked(p.spec, errors) : [];
  if (errors.length) throw new Error(`fuzz: generated spec ${file} does not load:\n${errors.map(formatSpecError).join('\n')}`);
  return out;
}

/** A throwaway spec holding `cases` (name → body) for running; ids `<specId>/<slug>@<abi>`. */
export function runSpecText(specId: string, cases: { name: string; abi: Abi; body: FuzzBody }[]): string {
  const L = [
    `id: ${specId}`, 'title: sysabi fuzz cases', 'description: generated by sysabi fuzz', 'refs: [{ doc: docs/fuzz.md }]', 'tags: [smoke]',
    'cases:',
  ];
  for (const c of cases) {
    L.push(`  - name: ${JSON.stringify(c.name)}`);
    L.push(...bodyYaml(c.abi, c.body, '    '));
    L.push('    expect: { outcome: returned }');
  }
  return L.join('\n') + '\n';
}

// ------------------------------------------------------------------ running two sides

export interface FuzzSide {
  name: string;
  target: Target;
  info: TargetInfo;
}

/** An Observation, or why the case was not run or not usable on that side. */
type SideResult = { obs: Observation } | { why: string };

/** Run expanded cases on one side: per ABI, in chunks, skipping what the profile rules out. */
async function runSide(side: FuzzSide, ecs: readonly ExpandedCase[], chunk = 200): Promise<SideResult[]> {
  const out: SideResult[] = new Array(ecs.length);
  const byAbi = new Map<Abi, number[]>();
  ecs.forEach((ec, i) => {
    const abi = ec.case.abi;
    const av = side.info.abis[abi];
    const why = !av?.ok ? `${abi} not available: ${av?.reason ?? 'no reason given'}` : unmetRequirement(ec.requires, side.info, abi);
    if (why) out[i] = { why };
    else byAbi.set(abi, [...(byAbi.get(abi) ?? []), i]);
  });
  for (const idx of byAbi.values()) {
    for (let k = 0; k < idx.length; k += chunk) {
      const part = idx.slice(k, k + chunk);
      let obs: Observation[] | undefined;
      let thrown: string | undefined;
      try {
        obs = await side.target.run(part.map((i) => ecs[i]!.case));
      } catch (e) {
        thrown = e instanceof Error ? e.message : String(e);
      }
      part.forEach((i, j) => {
        const o = obs?.[j];
        if (thrown !== undefined) out[i] = { why: `run failed: ${thrown}` };
        else if (!o || o.id !== ecs[i]!.case.id) out[i] = { why: 'no Observation for this case' };
        else if (o.outcome === 'unsupported' || o.outcome === 'error') out[i] = { why: `${o.outcome}: ${o.reason ?? ''}` };
        else out[i] = { obs: o };
      });
    }
  }
  return out;
}

export type Compared =
  | { kind: 'same' }
  | { kind: 'not-compared'; why: string }
  | { kind: 'differ'; diffs: FieldDiff[]; a: Observation; b: Observation; ec: ExpandedCase };

/** Run on both sides and compare each case's Observations (harness/diff.ts). */
export async function runPair(sides: [FuzzSide, FuzzSide], ecs: readonly ExpandedCase[]): Promise<Compared[]> {
  const ra = await runSide(sides[0], ecs);
  const rb = await runSide(sides[1], ecs);
  return ecs.map((ec, i) => {
    const a = ra[i]!;
    const b = rb[i]!;
    if ('why' in a || 'why' in b) {
      return { kind: 'not-compared', why: [('why' in a) && `${sides[0].name}: ${a.why}`, ('why' in b) && `${sides[1].name}: ${b.why}`].filter(Boolean).join('; ') };
    }
    // The number of single-step traps depends on how many instructions the probe (or the
    // sim) runs with TF before it clears it, not on the ABI: only "traps vs none" counts.
    // An input given as an operand (`fd:c | 0xffffffff00000000`) resolves to each target's own
    // descriptor or address; diff.ts names only the plain value, so such inputs are not compared.
    const symbolic = (f: string) => f.startsWith('before.') && ec.case.regs[f.slice(7) as Gpr]?.ref !== undefined;
    const diffs = compareObservations(a.obs, b.obs, ec.case).filter((d) => !symbolic(d.field) && (d.field !== 'traps' || (a.obs.traps ?? 0) === 0 || (b.obs.traps ?? 0) === 0));
    return diffs.length ? { kind: 'differ', diffs, a: a.obs, b: b.obs, ec } : { kind: 'same' };
  });
}

/** The fields that make a disagreement; `before.*` (inputs loaded differently) is a target defect, kept apart. */
export function signature(diffs: readonly FieldDiff[]): string[] {
  return [...new Set(diffs.map((d) => d.field).filter((f) => !f.startsWith('before.')))].sort();
}

// ------------------------------------------------------------------ minimising

interface Step {
  label: string;
  apply(b: FuzzBody): FuzzBody;
}

const clone = (b: FuzzBody): FuzzBody => ({
  ...b,
  args: b.args && [...b.args],
  regs: b.regs && { ...b.regs },
  flags: b.flags && [...b.flags],
});

/** One-step simplifications of a body, most drastic first (drops before value changes). */
export function simplifications(b: FuzzBody): Step[] {
  const s: Step[] = [];
  for (const f of b.flags ?? []) {
    s.push({ label: `drop flag ${f}`, apply: (x) => { const y = clone(x); y.flags = y.flags?.filter((g) => g !== f); if (!y.flags?.length) delete y.flags; return y; } });
  }
  if (b.nr_high !== undefined) s.push({ label: 'drop nr_high', apply: (x) => { const y = clone(x); delete y.nr_high; return y; } });
  if (b.sentinel) s.push({ label: 'drop sentinel', apply: (x) => { const y = clone(x); delete y.sentinel; return y; } });
  for (const k of Object.keys(b.regs ?? {}) as Gpr[]) {
    s.push({ label: `drop ${k}`, apply: (x) => { const y = clone(x); if (y.regs) delete y.regs[k]; if (y.regs && !Object.keys(y.regs).length) delete y.regs; return y; } });
  }
  for (const [k, v] of Object.entries(b.regs ?? {}) as [Gpr, bigint][]) {
    const simpler: bigint[] = [0n];
    if (v > 0xffff_ffffn) simpler.push(v & 0xffff_ffffn, v & ~0xffff_ffffn);
    for (const w of simpler) {
      if (w !== v) s.push({ label: `${k} = ${hex(w)}`, apply: (x) => { const y = clone(x); if (y.regs && k in y.regs) y.regs[k] = w; return y; } });
    }
  }
  (b.args ?? []).forEach((a, i) => {
    if (typeof a === 'string' && a.includes('|')) {
      const plain = a.split('|')[0]!.trim();
      s.push({ label: `args[${i}] = ${plain}`, apply: (x) => { const y = clone(x); y.args![i] = plain; return y; } });
    }
  });
  if (b.nr_high !== undefined && b.nr_high !== 0xffff_ffffn && b.nr_high !== 1n) {
    s.push({ label: 'nr_high = 1', apply: (x) => { const y = clone(x); if (y.nr_high !== undefined) y.nr_high = 1n; return y; } });
  }
  return s;
}

export interface Minimised {
  body: FuzzBody;
  /** The final case's comparison (fields, both Observations, the expanded case). */
  result: Extract<Compared, { kind: 'differ' }>;
  steps: string[];
  /** Candidate cases run while minimising (each on both targets). */
  tried: number;
  /** The disagreement did not reproduce on a rerun: the finding is not deterministic. */
  flaky: boolean;
}

const keeps = (c: Compared | undefined, sig: readonly string[]): c is Extract<Compared, { kind: 'differ' }> => {
  if (c?.kind !== 'differ') return false;
  const now = new Set(signature(c.diffs));
  return sig.every((f) => now.has(f));
};

/**
 * Greedy minimisation: each round runs every one-step simplification of the current body (one
 * batch per target), then tries all the steps that kept the disagreement together, else the
 * first one. A step "keeps" the disagreement when every field of the original signature still
 * differs. Ends at a fixpoint or after `maxRounds`. The first round also reruns the body as is.
 */
export async function minimise(sides: [FuzzSide, FuzzSide], abi: Abi, body: FuzzBody, sig: readonly string[], specId: string, maxRounds = 25): Promise<Minimised | undefined> {
  let cur = body;
  let curRes: Extract<Compared, { kind: 'differ' }> | undefined;
  const steps: string[] = [];
  let tried = 0;
  let n = 0;
  const runBodies = async (bodies: FuzzBody[]): Promise<Compared[]> => {
    if (!bodies.length) return [];
    const named = bodies.map((b) => ({ name: `m${n++}`, abi, body: b }));
    tried += bodies.length;
    return runPair(sides, expandText(`<fuzz ${specId}>`, runSpecText(specId, named)));
  };
  for (let round = 0; round < maxRounds; round++) {
    const cand = simplifications(cur);
    const bodies = cand.map((c) => c.apply(cur));
    const res = await runBodies(round === 0 ? [cur, ...bodies] : bodies);
    if (round === 0) {
      const first = res.shift();
      if (!keeps(first, sig)) return undefined; // not reproducible
      curRes = first;
    }
    const good = cand.map((_, i) => i).filter((i) => keeps(res[i], sig));
    if (!good.length) break;
    if (good.length > 1) {
      const all = good.reduce((b, i) => cand[i]!.apply(b), cur);
      const [r] = await runBodies([all]);
      if (keeps(r, sig)) {
        // Label only the steps that changed something once the earlier ones were applied
        // ("drop r10" makes a later "r10 = 0" moot).
        let b = cur;
        for (const i of good) {
          const next = cand[i]!.apply(b);
          if (bodyYaml(abi, next, '').join() !== bodyYaml(abi, b, '').join()) steps.push(cand[i]!.label);
          b = next;
        }
        cur = all;
        curRes = r;
        continue;
      }
    }
    const i = good[0]!;
    cur = bodies[i]!;
    curRes = res[i] as Extract<Compared, { kind: 'differ' }>;
    steps.push(cand[i]!.label);
  }
  // Confirm: two more runs of the final body must disagree the same way.
  const again = await runBodies([cur, cur]);
  const flaky = !again.every((c) => keeps(c, sig));
  return { body: cur, result: curRes!, steps, tried, flaky };
}

// ------------------------------------------------------------------ writing a finding

const ERRNO_NAME = new Map<number, string>(Object.entries(ERRNO).map(([k, v]) => [v, k]));
const SIGNAL_NAME = new Map<number, string>(Object.entries(SIGNALS).map(([k, v]) => [v, k]));
const E_NAMES: Partial<Record<RegName, string>> = { rax: 'eax', rbx: 'ebx', rcx: 'ecx', rdx: 'edx', rsi: 'esi', rdi: 'edi', rbp: 'ebp', rsp: 'esp', rip: 'eip', rflags: 'eflags' };

/** An expected value for `v` as the reference observed it, by the fact it equals where one does. */
function expectedValue(v: bigint, reg: RegName | undefined, o: Observation, bits: 32 | 64, call?: string): string {
  const u = (x: bigint) => BigInt.asUintN(bits, x);
  const w = u(v);
  if (reg === 'rax') {
    const s = BigInt.asIntN(bits, w);
    if (s < 0n && s >= -BigInt(MAX_ERRNO)) return `{ errno: ${ERRNO_NAME.get(Number(-s)) ?? String(-s)} }`;
  }
  // A register that came back as it went in is "preserved", whatever its value.
  if (reg && reg !== 'rax' && o.before[reg] !== undefined && u(o.before[reg]!) === w) return '$in';
  // Small values are literal (uid 0 is not "$uid" in a spec that should read 0).
  if (w >= 0x100n) {
    const e = o.env;
    // In a single-threaded probe tid == pid: gettid's result reads better as $tid.
    const ids = call === 'gettid' ? (['tid', 'pid'] as const) : (['pid', 'tid'] as const);
    for (const k of ['next_ip', 'entry_ip', ...ids, 'ppid'] as const) if (e[k] !== undefined && u(e[k]!) === w) return `$${k}`;
    if (o.before.rflags !== undefined && u(o.before.rflags) === w) return '$rflags_in';
    for (const [name, base] of Object.entries(e.bufs ?? {})) if (u(base) === w) return `$buf.${name}`;
    if (e.unmapped !== undefined && u(e.unmapped) === w) return '$unmapped';
  }
  return hex(w);
}

/** `expect:` lines for the fields of the signature, from the reference Observation `a`. */
export function expectYaml(sig: readonly string[], a: Observation, abi: Abi, ind: string, call?: string): { lines: string[]; unexpressed: string[] } {
  const bits = codeBits(abi);
  const lines: string[] = [];
  const unexpressed: string[] = [];
  const key = (r: RegName) => (bits === 32 ? (E_NAMES[r] ?? r) : r);
  const sigFields: string[] = [];
  for (const f of sig) {
    if (f === 'outcome') {
      if (a.outcome === 'returned') lines.push(`${ind}outcome: returned`);
      else if (a.outcome === 'signal' && a.signal) sigFields.push('signal.signo');
      else unexpressed.push(`outcome ${a.outcome}`);
    } else if (f.startsWith('after.')) {
      const r = f.slice(6) as RegName;
      const v = a.after?.[r];
      if (v === undefined) unexpressed.push(`${f} (absent on the reference)`);
      else if (r === 'rax') {
        const ev = expectedValue(v, r, a, bits, call);
        lines.push(ev.startsWith('{ errno:') ? `${ind}errno: ${ev.slice(9, -2)}` : `${ind}ret: ${ev}`);
      } else lines.push(`${ind}${key(r)}: ${expectedValue(v, r, a, (['cs', 'ss', 'ds', 'es', 'fs', 'gs', 'fs_base', 'gs_base'] as string[]).includes(r) ? 64 : bits)}`);
    } else if (f.startsWith('signal')) sigFields.push(f);
    else if (f === 'traps') lines.push(`${ind}traps: ${a.traps ? '{ min: 1 }' : 0}`);
    else if (f.startsWith('memory.')) {
      const m = a.memory?.[f.slice(7)];
      if (m === undefined) unexpressed.push(f);
      else lines.push(`${ind}memory: { ${f.slice(7)}: { hex: "${m}" } }`);
    } else unexpressed.push(f);
  }
  if (sigFields.length) {
    const s = a.signal;
    if (!s) unexpressed.push(...sigFields);
    else {
      const parts = [`signo: ${SIGNAL_NAME.get(s.signo) ?? s.signo}`];
      for (const f of sigFields) {
        const k = f.slice('signal.'.length);
        if (k === 'code' || k === 'errno' || k === 'trapno' || k === 'syscall' || k === 'arch') {
          const v = s[k as 'code'];
          if (v !== undefined) parts.push(`${k}: ${v}`);
        } else if (k === 'addr' && s.addr !== undefined) parts.push(`addr: ${expectedValue(s.addr, undefined, a, 64)}`);
        else if (k.startsWith('regs.')) {
          const r = k.slice(5) as RegName;
          const v = s.regs[r];
          if (v !== undefined) parts.push(`${key(r)}: ${expectedValue(v, undefined, a, bits)}`);
        } else if (k !== 'signo' && k !== '') unexpressed.push(f);
      }
      lines.push(`${ind}signal: { ${parts.join(', ')} }`);
    }
  }
  if (!lines.length) lines.push(`${ind}outcome: ${a.outcome === 'signal' ? 'signal' : 'returned'}`);
  return { lines, unexpressed };
}

export interface Finding {
  abi: Abi;
  /** Index of the generated case that first showed it. */
  index: number;
  kind: string;
  signature: string[];
  /** How many generated cases fell in this bucket (same ABI, entry, template, fields). */
  hits: number;
  original: FuzzBody;
  minimised?: Minimised;
  /** The written spec file, its spec id, and what the check says about it on each side. */
  file?: string;
  specId?: string;
  verdict?: [string, string];
  /** Fields the spec language cannot state (left as comments). */
  unexpressed?: string[];
  duplicateOf?: string;
}

function tagsFor(sig: readonly string[], b: FuzzBody, abi: Abi): string[] {
  const t = new Set<string>(['entry']);
  if (sig.some((f) => /^after\.r(?!ip|flags)|^after\.e|^after\.r\d/.test(f))) t.add('registers');
  if (sig.some((f) => f.includes('rflags') || f === 'traps')) t.add('flags');
  if (sig.includes('after.rax')) t.add('errno');
  if (sig.some((f) => f.startsWith('signal') || f === 'outcome')) t.add('fault');
  if (b.flags?.includes('TF')) t.add('single-step');
  if (b.entry === 'int80' || abi === 'i386') t.add('compat');
  if (abi === 'x32') t.add('x32');
  return [...t];
}

const REFS: Record<string, string> = {
  syscall: 'arch/x86/entry/entry_64.S (entry_SYSCALL_64); arch/x86/entry/syscall_64.c (do_syscall_64)',
  int80: 'arch/x86/entry/syscall_32.c (do_int80_emulation)',
};

/** The finding as a spec file (one case), ready for review and a move to specs/<area>/. */
export function findingSpecText(f: Finding, run: { seed: string; targets: [string, string]; command: string }): { specId: string; text: string; unexpressed: string[] } {
  const m = f.minimised!;
  const specId = `fuzz.s${run.seed}.${f.abi}_${f.index}`;
  const a = m.result.a;
  const ex = expectYaml(f.signature, a, f.abi, '      ', f.minimised!.body.call);
  const what = m.body.call ?? `nr ${hex(m.body.nr ?? 0n)}`;
  const settings = [...(m.body.flags ?? []).map((x) => `${x} set`), ...Object.keys(m.body.regs ?? {}).map((r) => `${r} set`), ...(m.body.nr_high !== undefined ? ['high bits in rax'] : [])];
  const name = `${what} via ${m.body.entry}${settings.length ? ` with ${settings.join(', ')}` : ''}`;
  const L: string[] = [
    '# yaml-language-server: $schema=../schema.json',
    `# Found by: ${run.command}`,
    `# seed ${run.seed}, ${f.abi} case ${f.index} (template ${f.kind}); ${f.hits} generated case(s) disagreed the same way.`,
    `# ${run.targets[0]} (the reference; the expectations below are what it observed) vs ${run.targets[1]}:`,
    ...m.result.diffs.map((d) => `#   ${d.field}: ${run.targets[0]} ${d.a} | ${run.targets[1]} ${d.b}`),
    `# Minimised in ${m.tried} runs: ${m.steps.length ? m.steps.join('; ') : 'nothing could be dropped'}.${m.flaky ? ' WARNING: did not reproduce on every rerun.' : ''}`,
    '# Before committing: give it a real id and area, say which rule this is, and cite its source.',
    ...(ex.unexpressed.length ? [`# Not expressible as expectations: ${ex.unexpressed.join(', ')}`] : []),
    `id: ${specId}`,
    `title: ${JSON.stringify(`${run.targets[0]} and ${run.targets[1]} disagree on ${f.signature.join(', ')} (${what}, ${f.abi})`)}`,
    `description: ${JSON.stringify(`Found by sysabi fuzz (seed ${run.seed}) and minimised: ${name}. The expectations are what ${run.targets[0]} observed.`)}`,
    'refs:',
    `  - kernel: ${JSON.stringify(REFS[m.body.entry]!)}`,
    `  - doc: ${JSON.stringify(`docs/fuzz.md (sysabi fuzz --seed ${run.seed})`)}`,
    `tags: [${tagsFor(f.signature, m.body, f.abi).join(', ')}]`,
    `abi: [${f.abi}]`,
    'cases:',
    `  - name: ${JSON.stringify(name)}`,
    ...bodyYaml(f.abi, m.body, '    ').filter((l) => !l.trimStart().startsWith('abi:')),
    '    expect:',
    ...ex.lines,
  ];
  return { specId, text: L.join('\n') + '\n', unexpressed: ex.unexpressed };
}

// ------------------------------------------------------------------ the whole fuzz run

export interface FuzzOptions {
  /** Decimal seed (the spec ids of findings carry it). */
  seed: string;
  /** Cases per ABI (before sharding). */
  count: number;
  abis: Abi[];
  entries: FuzzEntry[];
  shard?: { index: number; count: number };
  /** Where findings are written (created when there is one). */
  outDir?: string;
  /** Buckets minimised at most (the rest are counted only). */
  maxFindings?: number;
  /** The command line, for the files' comments. */
  command?: string;
  /** Progress messages. */
  log?(s: string): void;
}

export interface FuzzAbiStats {
  abi: Abi;
  generated: number;
  compared: number;
  notCompared: number;
  differing: number;
  /** A reason cases were not compared (the first seen), e.g. ABI not available. */
  notComparedWhy?: string;
}

export interface FuzzReport {
  seed: string;
  targets: [string, string];
  stats: FuzzAbiStats[];
  findings: Finding[];
  /** Cases whose inputs were loaded differently (a target defect), by case. */
  inputMismatches: { abi: Abi; index: number; fields: string[] }[];
}

export async function runFuzz(sides: [FuzzSide, FuzzSide], o: FuzzOptions): Promise<FuzzReport> {
  const log = o.log ?? (() => {});
  const rep: FuzzReport = { seed: o.seed, targets: [sides[0].name, sides[1].name], stats: [], findings: [], inputMismatches: [] };
  const buckets = new Map<string, Finding>();
  const specId = `fuzz.s${o.seed}`;
  for (const abi of ABIS.filter((a) => o.abis.includes(a))) {
    const idx = shardIndexes(o.count, o.shard);
    const cases = idx.map((i) => generateCase(o.seed, abi, i, o.entries)).filter((c): c is FuzzCase => c !== undefined);
    const st: FuzzAbiStats = { abi, generated: cases.length, compared: 0, notCompared: 0, differing: 0 };
    rep.stats.push(st);
    if (!cases.length) continue;
    log(`fuzz: ${abi}: ${cases.length} cases`);
    // Chunks keep memory flat and progress visible; each chunk is one spec through the loader.
    for (let k = 0; k < cases.length; k += 500) {
      const part = cases.slice(k, k + 500);
      const ecs = expandText(`<fuzz ${specId}>`, runSpecText(specId, part.map((c) => ({ name: `case ${c.index}`, abi, body: c.body }))));
      const res = await runPair(sides, ecs);
      res.forEach((r, j) => {
        const c = part[j]!;
        if (r.kind === 'not-compared') {
          st.notCompared++;
          st.notComparedWhy ??= r.why;
          return;
        }
        st.compared++;
        if (r.kind === 'same') return;
        const before = r.diffs.filter((d) => d.field.startsWith('before.')).map((d) => d.field);
        if (before.length) rep.inputMismatches.push({ abi, index: c.index, fields: before });
        const sig = signature(r.diffs);
        if (!sig.length) return;
        st.differing++;
        const key = `${abi}|${c.body.entry}|${sig.join(',')}`;
        const b = buckets.get(key);
        if (b) b.hits++;
        else buckets.set(key, { abi, index: c.index, kind: c.kind, signature: sig, hits: 1, original: c.body });
      });
    }
  }
  const max = o.maxFindings ?? 25;
  const written = new Map<string, string>();
  let n = 0;
  // The most frequent disagreements first: with --max-findings those are the ones minimised.
  for (const f of [...buckets.values()].sort((x, y) => y.hits - x.hits)) {
    rep.findings.push(f);
    // Fewer fields of a disagreement already written (same ABI and entry) are most likely the
    // same rule with fewer registers set (a zero register cannot show a clobber to zero).
    const cover = rep.findings.find((g) => g !== f && g.specId && g.abi === f.abi && g.original.entry === f.original.entry && f.signature.every((x) => g.signature.includes(x)));
    if (cover) {
      f.duplicateOf = cover.specId;
      continue;
    }
    if (n++ >= max) continue;
    log(`fuzz: minimising ${f.abi} case ${f.index} (${f.signature.join(', ')})`);
    const m = await minimise(sides, f.abi, f.original, f.signature, specId);
    if (!m) {
      f.unexpressed = ['did not reproduce when rerun'];
      continue;
    }
    f.minimised = m;
    // Findings that differ in the same fields and need the same inputs (flags, registers,
    // high bits) on the same ABI and entry are one rule met through different calls.
    const b = m.body;
    const dedupe = [f.abi, b.entry, f.signature.join(','), (b.flags ?? []).join(','), Object.keys(b.regs ?? {}).sort().join(','), b.nr_high !== undefined, b.sentinel === true].join('|');
    const prev = written.get(dedupe);
    if (prev) {
      f.duplicateOf = prev;
      continue;
    }
    const { specId: sid, text, unexpressed } = findingSpecText(f, { seed: o.seed, targets: rep.targets, command: o.command ?? `sysabi fuzz --seed ${o.seed}` });
    f.specId = sid;
    f.unexpressed = unexpressed;
    // Prove the file loads, and say how each side fares against it.
    const [ec] = expandText(`${sid}.yaml`, text);
    const obsA = { ...m.result.a, id: ec!.case.id };
    const obsB = { ...m.result.b, id: ec!.case.id };
    f.verdict = [check(ec!, obsA, rep.targets[0]).status, check(ec!, obsB, rep.targets[1]).status];
    if (o.outDir) {
      mkdirSync(o.outDir, { recursive: true });
      f.file = join(o.outDir, `${sid.replace(/\./g, '-')}.yaml`);
      writeFileSync(f.file, text);
    }
    written.set(dedupe, sid);
  }
  return rep;
}

/** The report as text: per-ABI counts, then one line per finding. */
export function renderFuzzText(rep: FuzzReport): string {
  const [A, B] = rep.targets;
  const L = [`# sysabi fuzz: seed ${rep.seed}, a = ${A} (reference), b = ${B}`];
  for (const s of rep.stats) {
    L.push(`# ${s.abi}: ${s.generated} generated, ${s.compared} compared, ${s.differing} disagree, ${s.notCompared} not compared${s.notComparedWhy ? ` (e.g. ${s.notComparedWhy})` : ''}`);
  }
  for (const f of rep.findings) {
    const m = f.minimised;
    const head = `${f.abi} case ${f.index} [${f.kind}] x${f.hits}: ${f.signature.join(', ')}`;
    if (!m && f.duplicateOf) L.push(`${head} — fields covered by ${f.duplicateOf}`);
    else if (!m) L.push(`${head}${f.unexpressed ? ` — ${f.unexpressed.join('; ')}` : ' — not minimised (over --max-findings)'}`);
    else if (f.duplicateOf) L.push(`${head} — minimises to the same case as ${f.duplicateOf}`);
    else {
      L.push(`${head} → ${f.file ?? f.specId} (${A} ${f.verdict?.[0]}, ${B} ${f.verdict?.[1]}${m.flaky ? ', FLAKY' : ''})`);
      for (const d of m.result.diffs) L.push(`    ${d.field}: a ${d.a} | b ${d.b}`);
    }
  }
  if (rep.inputMismatches.length) L.push(`# ${rep.inputMismatches.length} case(s) where the targets loaded different inputs (a target defect): e.g. ${rep.inputMismatches[0]!.abi} case ${rep.inputMismatches[0]!.index}: ${rep.inputMismatches[0]!.fields.join(', ')}`);
  const total = rep.stats.reduce((s, x) => s + x.differing, 0);
  L.push(`# ${total} disagreeing case(s) in ${rep.findings.length} bucket(s); ${rep.findings.filter((f) => f.file).length} file(s) written`);
  return L.join('\n') + '\n';
}
