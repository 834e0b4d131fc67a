// Run orchestration: load → expand → filter (paths/ids, ABI, --grep, --tag, --shard) → for
// each target: describe, decide SKIPs (requirements, ABI availability, expectation file),
// run the rest in batches, check each Observation, apply the expectation file → Results.
// A target that throws or answers garbage turns its cases into `error` results; the run goes on.

import { existsSync, readFileSync, statSync } from 'node:fs';
import { availableParallelism, cpus, release } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Abi, Case, Observation, Result, Status, Target, TargetInfo } from './contracts.js';
import { loadExpectations, type ExpectationError, type ExpectationSet } from './expectations.js';
import { createTarget, parseTargetSpec, type TargetContext } from './targets/registry.js';

const OUTCOMES = new Set(['returned', 'signal', 'exited', 'killed', 'timeout', 'error', 'unsupported']);

/**
 * The part of an expanded case (harness/spec/expand.ts ExpandedCase) the runner and the
 * reports use. Declared structurally so this file does not depend on the schema's types.
 */
export interface RunnableCase {
  case: Case;
  /** The spec's `requires` merged with the case's (opaque here; harness/requires.ts reads it). */
  requires: unknown;
  /** Set by expansion for a `skip:` entry (this case does not apply to this ABI). */
  skipReason?: string;
  spec: {
    id: string;
    title: string;
    description?: string;
    /** `{kind, text}` from the loader (harness/spec/types.ts SpecMeta), or one-key maps. */
    refs: ({ kind: string; text: string } | Record<string, string>)[];
    tags: string[];
    covers?: string[];
    file: string;
  };
  name: string;
  line: number;
}

/** The functions the runner needs from the spec side (part A). Injected in tests. */
export interface SpecApi<C extends RunnableCase = RunnableCase> {
  unmetRequirement(req: never, info: TargetInfo, abi: Abi): string | null;
  check(ec: C, obs: Observation, target: string): Result;
}

export interface SpecLoadError {
  file: string;
  line: number;
  col: number;
  message: string;
}

/** Repository root (where package.json is), found from this module's own location. */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'specs'))) return dir;
    const up = dirname(dir);
    if (up === dir) return resolve(dirname(fileURLToPath(import.meta.url)), '..');
    dir = up;
  }
}

export function sysabiVersion(): string {
  try {
    return (JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

// ---------------------------------------------------------------- selection

export interface Selection {
  /** Case ids, spec ids or globs over case ids; empty → everything loaded. */
  ids?: string[];
  abis?: Abi[];
  grep?: RegExp;
  tags?: string[];
  /** 1-based shard index and count (`--shard 2/4`). */
  shard?: { index: number; count: number };
}

/** Parse `i/n` (1 ≤ i ≤ n); throws a usage message. */
export function parseShard(s: string): { index: number; count: number } {
  const m = /^(\d+)\/(\d+)$/.exec(s.trim());
  const index = m ? Number(m[1]) : NaN;
  const count = m ? Number(m[2]) : NaN;
  if (!m || count < 1 || index < 1 || index > count) {
    throw new Error(`--shard "${s}": expected i/n with 1 <= i <= n, e.g. 1/4`);
  }
  return { index, count };
}

function idMatcher(pattern: string): (c: RunnableCase) => boolean {
  if (/[*?]/.test(pattern)) {
    const re = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`);
    return (c) => re.test(c.case.id);
  }
  if (pattern.includes('@')) return (c) => c.case.id === pattern;
  if (pattern.includes('/')) return (c) => c.case.id.slice(0, c.case.id.lastIndexOf('@')) === pattern;
  // A spec id, or a prefix of spec ids at a dot boundary (`entry` selects entry.*).
  return (c) => c.spec.id === pattern || c.spec.id.startsWith(pattern + '.');
}

/**
 * Filter expanded cases. Ids that select nothing are returned in `unmatched` so the CLI can
 * refuse a typo instead of running nothing and passing. Sharding is round-robin over the
 * filtered list, so shards are disjoint, cover everything, and differ in size by at most one.
 */
export function selectCases<C extends RunnableCase>(all: C[], sel: Selection): { cases: C[]; unmatched: string[] } {
  let cases = all;
  const unmatched: string[] = [];
  if (sel.ids?.length) {
    const ms = sel.ids.map((p) => ({ p, m: idMatcher(p), hit: false }));
    cases = cases.filter((c) => {
      let any = false;
      for (const x of ms) if (x.m(c)) x.hit = any = true;
      return any;
    });
    unmatched.push(...ms.filter((x) => !x.hit).map((x) => x.p));
  }
  if (sel.abis?.length) cases = cases.filter((c) => sel.abis!.includes(c.case.abi));
  if (sel.grep) cases = cases.filter((c) => sel.grep!.test(c.case.id));
  if (sel.tags?.length) cases = cases.filter((c) => c.spec.tags.some((t) => sel.tags!.includes(t)));
  if (sel.shard) {
    const { index, count } = sel.shard;
    cases = cases.filter((_, i) => i % count === index - 1);
  }
  return { cases, unmatched };
}

/** Split command-line operands into paths (existing files/dirs) and ids. */
export function splitOperands(operands: string[], cwd = process.cwd()): { paths: string[]; ids: string[] } {
  const paths: string[] = [];
  const ids: string[] = [];
  for (const o of operands) {
    const p = resolve(cwd, o);
    // An existing directory or YAML file is a path; anything else is an id (ids never end in .yaml).
    const isPath = existsSync(p) && (statSync(p).isDirectory() || (statSync(p).isFile() && /\.ya?ml$/.test(o)));
    if (isPath) paths.push(p);
    else ids.push(o);
  }
  return { paths, ids };
}

// ---------------------------------------------------------------- running

export interface Counts {
  pass: number;
  fail: number;
  skip: number;
  xfail: number;
  xpass: number;
  error: number;
}

export function countResults(results: readonly Result[]): Counts {
  const c: Counts = { pass: 0, fail: 0, skip: 0, xfail: 0, xpass: 0, error: 0 };
  for (const r of results) c[r.status]++;
  return c;
}

/** Statuses that make a run fail: something nobody expected. */
export const UNEXPECTED: ReadonlySet<Status> = new Set(['fail', 'xpass', 'error']);

export interface TargetRun {
  /** Canonical target name (`sim:linux-7.0-intel`). */
  name: string;
  info?: TargetInfo;
  /** Why the whole target was skipped or errored (module missing, describe() threw). */
  unavailable?: string;
  expectationsFile?: string;
  /** Expectation entries that matched no case of this run (possibly stale). */
  unusedExpectations: { case: string; file: string; line: number }[];
  results: Result[];
  durationMs: number;
}

export interface RunOptions<C extends RunnableCase = RunnableCase> {
  /** Target specs (`sim`, `sim:linux-7.0-amd`, `native`, `module:PATH`) or ready Targets. */
  targets: (string | Target)[];
  targetContext?: TargetContext;
  /** Directory of <target>.yaml expectation files; default suites/expectations of the package. */
  expectationsDir?: string;
  /** Cases per target.run() call (per ABI). */
  batchSize?: number;
  /** Batches in flight at once per target. */
  jobs?: number;
  /** Run cases whose requirements say `destructive: true`. */
  destructive?: boolean;
  /** Ask targets to fill Observation.steps. */
  explain?: boolean;
  signal?: AbortSignal;
  /** The spec-side functions; default: harness/requires.ts and harness/check.ts. */
  api?: SpecApi<C>;
  /** Called as each target starts and as results arrive (progress display). */
  onTargetStart?(name: string, total: number): void;
  onResult?(r: Result, target: string): void;
}

export class ExpectationFileErrors extends Error {
  constructor(readonly errors: ExpectationError[]) {
    super(errors.map((e) => `${e.file}:${e.line}:${e.col}: ${e.message}`).join('\n'));
  }
}

/** Lazily bind the spec-side functions (loaded on first run, not at CLI start). */
export async function defaultSpecApi(): Promise<SpecApi> {
  const [req, chk] = await Promise.all([
    import(new URL('./requires.js', import.meta.url).href) as Promise<{ unmetRequirement: SpecApi['unmetRequirement'] }>,
    import(new URL('./check.js', import.meta.url).href) as Promise<{ check: SpecApi['check'] }>,
  ]);
  return { unmetRequirement: req.unmetRequirement, check: chk.check };
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function baseResult(ec: RunnableCase, target: string, status: Status, reason?: string): Result {
  return { caseId: ec.case.id, specId: ec.spec.id, abi: ec.case.abi, target, status, reason, diffs: [] };
}

/** Why an Observation cannot be used, or null when it has the contract's shape. */
export function observationProblem(o: unknown, c: Case): string | null {
  if (!o || typeof o !== 'object') return `target answered ${o === undefined ? 'nothing' : JSON.stringify(o)} instead of an Observation`;
  const ob = o as Partial<Observation>;
  if (ob.id !== c.id) return `target answered an Observation for "${String(ob.id)}" where "${c.id}" was expected (out of order or missing)`;
  if (typeof ob.outcome !== 'string' || !OUTCOMES.has(ob.outcome)) return `Observation.outcome is ${JSON.stringify(ob.outcome)}; expected one of ${[...OUTCOMES].join(', ')}`;
  if (!ob.before || typeof ob.before !== 'object') return 'Observation.before is missing';
  if (!ob.env || typeof ob.env !== 'object') return 'Observation.env is missing';
  if (ob.outcome === 'returned' && (!ob.after || typeof ob.after !== 'object')) return 'Observation.after is missing for a returned case';
  return null;
}

/** Apply the target's expectation entry to a checked result. */
function applyExpectation(r: Result, set: ExpectationSet | undefined, used: Set<string>): Result {
  const e = set?.lookup(r.caseId);
  if (!e || e.expect !== 'fail') return r;
  used.add(e.case);
  const where = `${e.file}:${e.line}`;
  if (r.status === 'fail' || r.status === 'error') {
    // The reason becomes the expectation's; the diffs keep what actually differed.
    return { ...r, status: 'xfail', reason: `${e.reason}${e.link ? ` (${e.link})` : ''} [${where}]` };
  }
  if (r.status === 'pass') {
    return { ...r, status: 'xpass', reason: `listed as expected to fail in ${where} ("${e.reason}") but passed: the expectation is stale, remove it` };
  }
  return r;
}

async function pool<T>(items: T[], n: number, fn: (t: T) => Promise<void>): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.max(1, Math.min(n, items.length)) }, async () => {
    while (next < items.length) await fn(items[next++]!);
  });
  await Promise.all(workers);
}

/** Run the selected cases on one target. */
export async function runOnTarget<C extends RunnableCase>(
  cases: readonly C[],
  targetSpec: string | Target,
  opts: RunOptions<C>,
): Promise<TargetRun> {
  const t0 = performance.now();
  const ctx = opts.targetContext ?? {};
  let name: string;
  let target: Target | undefined;
  let unavailable: string | undefined;
  let unavailableStatus: Status = 'skip';
  if (typeof targetSpec === 'string') {
    const parsed = parseTargetSpec(targetSpec, ctx);
    name = parsed.name;
    const made = await createTarget(parsed, ctx);
    if (made.ok) target = made.target;
    else {
      unavailable = made.reason;
      unavailableStatus = made.unavailable ? 'skip' : 'error';
    }
  } else {
    target = targetSpec;
    name = targetSpec.name;
  }
  opts.onTargetStart?.(name, cases.length);
  const tr: TargetRun = { name, unusedExpectations: [], results: [], durationMs: 0 };
  const emit = (r: Result) => opts.onResult?.(r, name);
  let info: TargetInfo | undefined;
  if (target) {
    try {
      info = await target.describe();
      if (!info || typeof info !== 'object' || !info.profile || !info.abis) throw new Error('describe() returned no profile/abis');
      tr.info = info;
    } catch (e) {
      unavailable = `describe() failed: ${messageOf(e)}`;
      unavailableStatus = 'error';
    }
  }
  if (unavailable !== undefined || !info || !target) {
    tr.unavailable = unavailable;
    for (const ec of cases) {
      const r = baseResult(ec, name, unavailableStatus, unavailable);
      tr.results.push(r);
      emit(r);
    }
    await target?.close?.().catch(() => undefined);
    tr.durationMs = performance.now() - t0;
    return tr;
  }
  const expDir = opts.expectationsDir ?? join(packageRoot(), 'suites', 'expectations');
  const exp = await loadExpectations(expDir, name, info.version);
  if (exp.errors.length) {
    await target.close?.().catch(() => undefined);
    throw new ExpectationFileErrors(exp.errors);
  }
  tr.expectationsFile = exp.set?.file;
  const used = new Set<string>();
  const api = opts.api ?? ((await defaultSpecApi()) as unknown as SpecApi<C>);

  // Decide skips first; everything else is run, batched per ABI (one probe process per ABI).
  const slots: (Result | undefined)[] = new Array(cases.length);
  const toRun = new Map<Abi, number[]>();
  cases.forEach((ec, i) => {
    const abi = ec.case.abi;
    let skip: string | null | undefined = ec.skipReason;
    if (!skip && !info.abis[abi]?.ok) skip = `${abi} not available on ${name}: ${info.abis[abi]?.reason ?? 'no reason given'}`;
    if (!skip && (ec.requires as { destructive?: boolean } | undefined)?.destructive && !opts.destructive) {
      skip = 'destructive case: run with --destructive';
    }
    if (!skip) {
      try {
        skip = api.unmetRequirement(ec.requires as never, info, abi);
      } catch (e) {
        slots[i] = baseResult(ec, name, 'error', `requirement check failed: ${messageOf(e)}`);
        return;
      }
    }
    const e = exp.set?.lookup(ec.case.id);
    if (!skip && e?.expect === 'skip') {
      used.add(e.case);
      skip = `${e.reason}${e.link ? ` (${e.link})` : ''} [${e.file}:${e.line}]`;
    }
    if (skip) {
      slots[i] = baseResult(ec, name, 'skip', skip);
      return;
    }
    const list = toRun.get(abi) ?? [];
    list.push(i);
    toRun.set(abi, list);
  });
  for (let i = 0; i < cases.length; i++) if (slots[i]) emit(slots[i]!);

  const batchSize = Math.max(1, opts.batchSize ?? 256);
  const batches: number[][] = [];
  for (const idx of toRun.values()) for (let k = 0; k < idx.length; k += batchSize) batches.push(idx.slice(k, k + batchSize));

  await pool(batches, opts.jobs ?? 1, async (batch) => {
    const bt0 = performance.now();
    let obs: unknown;
    let thrown: string | undefined;
    if (opts.signal?.aborted) thrown = 'run aborted';
    else {
      try {
        obs = await target.run(batch.map((i) => cases[i]!.case), { signal: opts.signal, explain: opts.explain });
        // A short or long array is judged per position below: missing ones become errors.
        if (!Array.isArray(obs)) thrown = `run() returned ${typeof obs} instead of an array of Observations`;
      } catch (e) {
        thrown = `target ${name} failed while running this batch: ${messageOf(e)}`;
      }
    }
    const per = (performance.now() - bt0) / batch.length;
    batch.forEach((ci, k) => {
      const ec = cases[ci]!;
      let r: Result;
      if (thrown !== undefined) r = baseResult(ec, name, 'error', thrown);
      else {
        const o = (obs as unknown[])[k];
        const problem = observationProblem(o, ec.case);
        if (problem) r = baseResult(ec, name, 'error', problem);
        else {
          const ob = o as Observation;
          if (ob.outcome === 'unsupported') r = { ...baseResult(ec, name, 'skip', `${name} cannot run this case: ${ob.reason ?? 'no reason given'}`), observation: ob };
          else if (ob.outcome === 'error') r = { ...baseResult(ec, name, 'error', `${name} could not run the case: ${ob.reason ?? 'no reason given'}`), observation: ob };
          else {
            try {
              r = api.check(ec, ob, name);
              if (!r.observation) r = { ...r, observation: ob };
            } catch (e) {
              r = { ...baseResult(ec, name, 'error', `check failed: ${messageOf(e)}`), observation: ob };
            }
          }
        }
      }
      r = applyExpectation({ ...r, target: name, durationMs: r.durationMs ?? per }, exp.set, used);
      slots[ci] = r;
      emit(r);
    });
  });
  // Skipped cases listed as `fail` still count as using their entry (the case exists).
  for (const ec of cases) {
    const e = exp.set?.lookup(ec.case.id);
    if (e) used.add(e.case);
  }
  tr.unusedExpectations = (exp.set?.entries ?? []).filter((e) => !used.has(e.case)).map((e) => ({ case: e.case, file: e.file, line: e.line }));
  tr.results = slots.map((r, i) => r ?? baseResult(cases[i]!, name, 'error', 'internal: case was never run'));
  await target.close?.().catch(() => undefined);
  tr.durationMs = performance.now() - t0;
  return tr;
}

// ---------------------------------------------------------------- the whole run

export interface HostInfo {
  kernel: string;
  cpuVendor: string;
  cpuModel: string;
  platform: string;
  arch: string;
  node: string;
  cpus: number;
}

export interface RunInfo {
  id: string;
  sysabi: string;
  started: string;
  finished?: string;
  durationMs?: number;
  argv: string[];
  host: HostInfo;
}

export interface RunReport {
  info: RunInfo;
  targets: TargetRun[];
}

export function hostInfo(): HostInfo {
  let cpuVendor = 'unknown';
  try {
    const m = /^vendor_id\s*:\s*(\S+)/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (m) cpuVendor = m[1]!;
  } catch {
    /* not Linux: leave unknown */
  }
  const cs = cpus();
  return {
    kernel: release(),
    cpuVendor,
    cpuModel: cs[0]?.model ?? 'unknown',
    platform: process.platform,
    arch: process.arch,
    node: process.version,
    cpus: availableParallelism(),
  };
}

/** Run id: a UTC timestamp usable as a directory name, e.g. 20250101T120000Z-123. */
export function runId(d = new Date()): string {
  return d.toISOString().replace(/[-:]/g, '').replace(/\.(\d+)Z$/, 'Z-$1');
}

/** Run cases on every target in turn (targets one after another: they share 2 cores). */
export async function runAll<C extends RunnableCase>(cases: readonly C[], opts: RunOptions<C>, argv: string[] = []): Promise<RunReport> {
  const start = new Date();
  const info: RunInfo = { id: runId(start), sysabi: sysabiVersion(), started: start.toISOString(), argv, host: hostInfo() };
  const targets: TargetRun[] = [];
  for (const t of opts.targets) targets.push(await runOnTarget(cases, t, opts));
  info.finished = new Date().toISOString();
  info.durationMs = Date.now() - start.getTime();
  return { info, targets };
}

/** Exit status per the CLI contract: 0 nothing unexpected, 1 something unexpected. */
export function runFailed(report: RunReport): boolean {
  return report.targets.some((t) => t.results.some((r) => UNEXPECTED.has(r.status)));
}

// ---------------------------------------------------------------- loading specs

export interface Loaded<C extends RunnableCase = RunnableCase> {
  cases: C[];
  errors: SpecLoadError[];
  format(e: SpecLoadError): string;
}

/**
 * Load and expand specs with the spec side's loader (harness/spec/), imported on first use
 * so `sysabi --version` and `--help` never pay for zod and yaml.
 */
export async function loadCases(paths: string[]): Promise<Loaded> {
  const load = (await import(new URL('./spec/load.js', import.meta.url).href)) as {
    loadSpecs(p: string[]): Promise<{ specs: unknown[]; errors: SpecLoadError[] }>;
    formatSpecError(e: SpecLoadError): string;
  };
  const expand = (await import(new URL('./spec/expand.js', import.meta.url).href)) as { expandSpec(s: unknown): RunnableCase[] };
  const { specs, errors } = await load.loadSpecs(paths);
  const cases: RunnableCase[] = [];
  if (!errors.length) for (const s of specs) cases.push(...expand.expandSpec(s));
  // Two specs expanding to one case id would make results ambiguous: refuse like a spec error.
  const seen = new Map<string, RunnableCase>();
  for (const c of cases) {
    const prev = seen.get(c.case.id);
    if (prev) errors.push({ file: c.spec.file, line: c.line, col: 1, message: `case id "${c.case.id}" is also produced by ${prev.spec.file}:${prev.line}` });
    seen.set(c.case.id, c);
  }
  return { cases, errors, format: load.formatSpecError };
}
