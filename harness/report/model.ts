// Shared pieces of every report format: grouping results target → spec → case, the counts
// line, the one-line command that reproduces a case alone, and the diagnostic record a
// failure carries (expected vs observed per register in hex, the spec's refs).

import { readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RegName, Result, Status } from '../contracts.js';
import { REG_NAMES } from '../contracts.js';
import { hex } from '../json.js';
import { countResults, type Counts, type RunnableCase, type RunReport, type TargetRun } from '../run.js';

/** Everything a report renderer needs: the run and the cases' spec metadata by case id. */
export interface ReportInput {
  report: RunReport;
  cases: ReadonlyMap<string, RunnableCase>;
}

export function caseIndex(cases: readonly RunnableCase[]): Map<string, RunnableCase> {
  return new Map(cases.map((c) => [c.case.id, c]));
}

export interface SpecGroup {
  specId: string;
  results: Result[];
}

/** Group a target's results by spec, keeping the order specs first appear in. */
export function groupBySpec(results: readonly Result[]): SpecGroup[] {
  const m = new Map<string, Result[]>();
  for (const r of results) {
    const l = m.get(r.specId) ?? [];
    l.push(r);
    m.set(r.specId, l);
  }
  return [...m].map(([specId, results]) => ({ specId, results }));
}

/** The case's name within its spec: `getpid-with-sentinel@x86_64`. */
export function shortName(r: Result): string {
  return r.caseId.startsWith(r.specId + '/') ? r.caseId.slice(r.specId.length + 1) : r.caseId;
}

export function isUnexpected(s: Status): boolean {
  return s === 'fail' || s === 'xpass' || s === 'error';
}

/** A group is skipped when every result in it is skipped (and it has any). */
export function allSkipped(results: readonly Result[]): boolean {
  return results.length > 0 && results.every((r) => r.status === 'skip');
}

export function countsLine(c: Counts): string {
  return `pass ${c.pass} fail ${c.fail} skip ${c.skip} xfail ${c.xfail} xpass ${c.xpass} error ${c.error}`;
}

export function totalCounts(report: RunReport): Counts {
  return countResults(report.targets.flatMap((t) => t.results));
}

/** Quote for a POSIX shell when needed. */
export function shellQuote(s: string): string {
  return /^[A-Za-z0-9_.,:/@%+=-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** The package's specs/ directory (what `sysabi run` loads when given no spec path). */
let packageSpecs: string | undefined;
function packageSpecsDir(): string {
  if (packageSpecs !== undefined) return packageSpecs;
  // harness/report/model.ts or dist/harness/report/model.js → the directory of package.json.
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++, dir = dirname(dir)) {
    try {
      if ((JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string }).name === 'sysabi') return (packageSpecs = join(dir, 'specs'));
    } catch {
      /* keep walking up */
    }
  }
  return (packageSpecs = '');
}

/**
 * One command that runs this case alone on this target, as it would be pasted in the
 * directory the run started in: the spec file is named when it is not one of the package's
 * specs (an id alone is looked up in specs/ only), and `--destructive` is added for a case
 * that needs it (it would be a SKIP otherwise).
 */
export function reproduceCommand(r: Result, ec?: RunnableCase): string {
  const words = ['npx', 'sysabi', 'run', '--target', r.target];
  if ((ec?.requires as { destructive?: boolean } | undefined)?.destructive) words.push('--destructive');
  if (ec?.spec.file) {
    const rel = relative(packageSpecsDir(), resolve(ec.spec.file));
    if (!packageSpecsDir() || rel.startsWith('..') || resolve(rel) === rel) words.push(ec.spec.file);
  }
  words.push(r.caseId);
  return words.map(shellQuote).join(' ');
}

/** Strip newlines and the TAP directive character from free text on a result line. */
export function oneLine(s: string): string {
  return s.replace(/\s*\n\s*/g, ' ').trim();
}

/** A spec ref as one line, `kernel: arch/x86/entry/entry_64.S`, whichever shape the loader gives. */
export function refText(ref: Record<string, string> | { kind: string; text: string }): string {
  const r = ref as Record<string, string>;
  if (typeof r.kind === 'string' && typeof r.text === 'string') return `${r.kind}: ${r.text}`;
  return Object.entries(r).map(([k, v]) => `${k}: ${v}`).join('; ');
}

const REGS = new Set<string>(REG_NAMES);

/** A register a diff field names (`rcx`, `preserved rbx`, `signal.rip`), if any. */
function diffRegister(field: string): RegName | undefined {
  const last = field.split(/[ .]/).pop() ?? '';
  return REGS.has(last) ? (last as RegName) : undefined;
}

/**
 * The YAML diagnostic of a result that is not a plain pass or skip: why it failed, each
 * differing field expected vs observed (hex from the checker), the registers involved before
 * and after in hex, the spec's refs and where it is, and the command to run it alone.
 */
export function diagnostic(r: Result, ec: RunnableCase | undefined, t?: TargetRun): Record<string, unknown> {
  const d: Record<string, unknown> = {};
  d.status = r.status;
  if (r.reason) d.message = r.reason;
  d.case = r.caseId;
  if (ec) {
    d.name = ec.name;
    d.spec = `${ec.spec.id} — ${ec.spec.title}`;
    d.at = `${ec.spec.file}:${ec.line}`;
  }
  d.target = t?.info ? `${r.target} (profile ${t.info.profile.name}: kernel ${t.info.profile.kernel}, ${t.info.profile.vendor}; ${t.info.version})` : r.target;
  const o = r.observation;
  if (o) {
    d.outcome = o.outcome + (o.reason ? ` (${o.reason})` : '');
    if (o.signal) {
      d.signal = { signo: o.signal.signo, code: o.signal.code, ...(o.signal.addr !== undefined ? { addr: hex(o.signal.addr) } : {}) };
    }
    if (o.exit) d.exit = o.exit;
  }
  if (r.diffs.length) {
    d.diffs = r.diffs.map((x) => ({ field: x.field, expected: x.expected, observed: x.observed, ...(x.note ? { note: x.note } : {}) }));
    const regs: Record<string, { before?: string; after?: string }> = {};
    for (const x of r.diffs) {
      const reg = diffRegister(x.field);
      if (!reg || !o || regs[reg]) continue;
      const before = o.before?.[reg];
      const after = o.after?.[reg];
      if (before === undefined && after === undefined) continue;
      regs[reg] = { ...(before !== undefined ? { before: hex(before) } : {}), ...(after !== undefined ? { after: hex(after) } : {}) };
    }
    if (Object.keys(regs).length) d.registers = regs;
  }
  if (ec?.spec.refs.length) d.refs = ec.spec.refs.map(refText);
  d.reproduce = reproduceCommand(r, ec);
  return d;
}
