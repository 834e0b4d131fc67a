// Differential mode (`sysabi diff --targets a,b`): the same cases on two targets, their
// Observations compared field by field whatever the specs say, so a difference shows up even
// where both sides pass. Values that are legitimately target-specific (pid, tid, addresses of
// buffers, next_ip, fd numbers) are compared through each side's own env facts: RCX equal to
// each side's $next_ip is the same answer, whatever the two addresses are.

import type { Case, Observation, RegFile, RegName, Result, SignalInfo, Status, Target } from './contracts.js';
import { REG_NAMES } from './contracts.js';
import { hex } from './json.js';
import { runOnTarget, type RunnableCase, type RunOptions } from './run.js';

export interface FieldDiff {
  /** e.g. "outcome", "after.rcx", "signal.addr", "memory.buf", "exit.code". */
  field: string;
  a: string;
  b: string;
}

export interface CaseDiff {
  caseId: string;
  /** Each side's verdict against the spec, for context (a difference may be a pass on both). */
  status: [Status, Status];
  diffs: FieldDiff[];
}

export interface DiffReport {
  targets: [string, string];
  compared: number;
  /** Cases not compared, with why (skipped or unsupported on a side, target unavailable). */
  notCompared: { caseId: string; why: string }[];
  differing: CaseDiff[];
}

// ------------------------------------------------------------------ naming values by facts

/**
 * The names a side's env facts give a value: `$pid`, `$next_ip`, `$buf.data+0x10`,
 * `$fd.c`, `before.rbx` (unchanged). Two sides agree on a value when the raw values are equal
 * or when some name is common to both.
 */
export function factNames(v: bigint, o: Observation, c: Case | undefined, reg?: RegName): Set<string> {
  const names = new Set<string>();
  const e = o.env;
  for (const k of ['pid', 'tid', 'ppid', 'uid', 'gid', 'entry_ip', 'next_ip', 'unmapped'] as const) {
    const f = e[k];
    if (f !== undefined && f === v) names.add(`$${k}`);
  }
  // An address inside a region is named by its offset, so a fault at buf+8 matches buf+8.
  for (const [name, base] of Object.entries(e.bufs ?? {})) {
    const size = BigInt(c?.memory.find((m) => m.name === name)?.size ?? 0);
    if (v === base) names.add(`$buf.${name}`);
    else if (v > base && v < base + (size > 0n ? size : 1n)) names.add(`$buf.${name}+${hex(v - base)}`);
    // One past the end is a common fault address (end_of_page regions).
    if (size > 0n && v === base + size) names.add(`$buf.${name}+${hex(size)}`);
  }
  for (const [name, fd] of Object.entries(e.fds ?? {})) if (fd === v) names.add(`$fd.${name}`);
  for (const [name, x] of Object.entries(e.extra ?? {})) if (x === v) names.add(`$${name}`);
  if (reg !== undefined && o.before[reg] !== undefined && o.before[reg] === v) names.add(`before.${reg}`);
  // The FS/GS bases of a process are its own TLS addresses (set up by its libc, or by the
  // emulator), unknown to the case: any non-zero base names "the process's base".
  if ((reg === 'fs_base' || reg === 'gs_base') && o.before[reg] === undefined && v !== 0n) names.add(`$own_${reg}`);
  return names;
}

function show(v: bigint | undefined, names?: Set<string>): string {
  if (v === undefined) return '(absent)';
  const n = names && names.size ? ` (${[...names].join(', ')})` : '';
  return `${hex(v)}${n}`;
}

function compareValue(field: string, va: bigint | undefined, vb: bigint | undefined, a: Observation, b: Observation, c: Case | undefined, reg: RegName | undefined, out: FieldDiff[]) {
  if (va === vb) return;
  if (va === undefined || vb === undefined) {
    out.push({ field, a: show(va), b: show(vb) });
    return;
  }
  const na = factNames(va, a, c, reg);
  const nb = factNames(vb, b, c, reg);
  for (const n of na) if (nb.has(n)) return; // the same fact on each side
  out.push({ field, a: show(va, na), b: show(vb, nb) });
}

function compareRegs(prefix: string, ra: RegFile | undefined, rb: RegFile | undefined, a: Observation, b: Observation, c: Case | undefined, only: readonly RegName[] | undefined, out: FieldDiff[]) {
  if (!ra && !rb) return;
  for (const r of only ?? REG_NAMES) {
    const va = ra?.[r];
    const vb = rb?.[r];
    if (va === undefined && vb === undefined) continue;
    // A `before` value is not named by itself (everything would equal its own before).
    compareValue(`${prefix}.${r}`, va, vb, a, b, c, prefix === 'before' ? undefined : r, out);
  }
}

function compareSignal(prefix: string, sa: SignalInfo | undefined, sb: SignalInfo | undefined, a: Observation, b: Observation, c: Case | undefined, out: FieldDiff[]) {
  if (!sa && !sb) return;
  if (!sa || !sb) {
    out.push({ field: prefix, a: sa ? `signo ${sa.signo}` : '(none)', b: sb ? `signo ${sb.signo}` : '(none)' });
    return;
  }
  for (const k of ['signo', 'code', 'errno', 'syscall', 'arch', 'trapno'] as const) {
    if (sa[k] !== sb[k]) out.push({ field: `${prefix}.${k}`, a: String(sa[k] ?? '(absent)'), b: String(sb[k] ?? '(absent)') });
  }
  compareValue(`${prefix}.addr`, sa.addr, sb.addr, a, b, c, undefined, out);
  compareValue(`${prefix}.err`, sa.err, sb.err, a, b, c, undefined, out);
  compareRegs(`${prefix}.regs`, sa.regs, sb.regs, a, b, c, undefined, out);
}

/**
 * Every field in which two Observations of the same case differ. `c` (the Case) lets region
 * sizes name addresses inside buffers and limits the `before` comparison to what the case set.
 */
export function compareObservations(a: Observation, b: Observation, c?: Case): FieldDiff[] {
  const out: FieldDiff[] = [];
  if (a.outcome !== b.outcome) out.push({ field: 'outcome', a: a.outcome, b: b.outcome });
  // Inputs: what the case set (and RFLAGS as read back) must be the same on both sides;
  // the rest of `before` (the stack pointer, say) is each target's own.
  const inputs: RegName[] = c ? [...(Object.keys(c.regs) as RegName[]), 'rflags'] : ['rflags'];
  compareRegs('before', a.before, b.before, a, b, c, inputs, out);
  compareRegs('after', a.after, b.after, a, b, c, undefined, out);
  compareSignal('signal', a.signal, b.signal, a, b, c, out);
  if ((a.traps ?? 0) !== (b.traps ?? 0)) out.push({ field: 'traps', a: String(a.traps ?? 0), b: String(b.traps ?? 0) });
  const da = a.delivered ?? [];
  const db = b.delivered ?? [];
  if (da.length !== db.length) out.push({ field: 'delivered', a: da.map((s) => s.signo).join(',') || '(none)', b: db.map((s) => s.signo).join(',') || '(none)' });
  else da.forEach((s, i) => compareSignal(`delivered[${i}]`, s, db[i], a, b, c, out));
  for (const k of ['code', 'signal'] as const) {
    if (a.exit?.[k] !== b.exit?.[k]) out.push({ field: `exit.${k}`, a: String(a.exit?.[k] ?? '(absent)'), b: String(b.exit?.[k] ?? '(absent)') });
  }
  const regions = new Set([...Object.keys(a.memory ?? {}), ...Object.keys(b.memory ?? {})]);
  for (const r of regions) {
    const ma = a.memory?.[r];
    const mb = b.memory?.[r];
    if (ma !== mb) out.push({ field: `memory.${r}`, ...memDiff(ma, mb) });
  }
  const ka = (a.events ?? []).map((e) => e.kind).join(',');
  const kb = (b.events ?? []).map((e) => e.kind).join(',');
  if (ka !== kb) out.push({ field: 'events', a: ka || '(none)', b: kb || '(none)' });
  return out;
}

/** Where two hex dumps first differ, shown around that byte. */
function memDiff(ma: string | undefined, mb: string | undefined): { a: string; b: string } {
  if (ma === undefined || mb === undefined) return { a: ma === undefined ? '(absent)' : `${ma.length / 2} bytes`, b: mb === undefined ? '(absent)' : `${mb.length / 2} bytes` };
  let i = 0;
  while (i < ma.length && i < mb.length && ma.slice(i, i + 2) === mb.slice(i, i + 2)) i += 2;
  const at = i / 2;
  const win = (s: string) => `${s.slice(i, i + 16) || '(end)'}… at byte ${at} of ${s.length / 2}`;
  return { a: win(ma), b: win(mb) };
}

// ------------------------------------------------------------------ running both sides

/** Why a result has nothing to compare, or null when it has an Observation to compare. */
function notComparable(r: Result | undefined): string | null {
  if (!r) return 'no result';
  const o = r.observation;
  if (!o) return `${r.status}${r.reason ? `: ${r.reason}` : ''}`;
  if (o.outcome === 'unsupported') return `unsupported: ${o.reason ?? ''}`;
  return null;
}

/** Pair the results of the two sides by case id and compare what both observed. */
export function diffResults(targets: [string, string], cases: readonly { case: Case }[], ra: readonly Result[], rb: readonly Result[]): DiffReport {
  const byA = new Map(ra.map((r) => [r.caseId, r]));
  const byB = new Map(rb.map((r) => [r.caseId, r]));
  const rep: DiffReport = { targets, compared: 0, notCompared: [], differing: [] };
  for (const ec of cases) {
    const id = ec.case.id;
    const a = byA.get(id);
    const b = byB.get(id);
    const wa = notComparable(a);
    const wb = notComparable(b);
    if (wa || wb) {
      rep.notCompared.push({ caseId: id, why: [wa && `${targets[0]}: ${wa}`, wb && `${targets[1]}: ${wb}`].filter(Boolean).join('; ') });
      continue;
    }
    rep.compared++;
    const diffs = compareObservations(a!.observation!, b!.observation!, ec.case);
    if (diffs.length) rep.differing.push({ caseId: id, status: [a!.status, b!.status], diffs });
  }
  return rep;
}

/** Run `cases` on both targets (one after the other) and diff them. */
export async function runDiff<C extends RunnableCase>(cases: readonly C[], targets: [string | Target, string | Target], opts: Omit<RunOptions<C>, 'targets'>): Promise<DiffReport & { unavailable: string[] }> {
  const [ta, tb] = [await runOnTarget(cases, targets[0], { ...opts, targets: [] }), await runOnTarget(cases, targets[1], { ...opts, targets: [] })];
  const rep = diffResults([ta.name, tb.name], cases, ta.results, tb.results);
  const unavailable = [ta, tb].filter((t) => t.unavailable).map((t) => `${t.name}: ${t.unavailable}`);
  return { ...rep, unavailable };
}

/** The report as text: one block per differing case, then the counts. */
export function renderDiffText(rep: DiffReport & { unavailable?: string[] }, verbose = false): string {
  const [A, B] = rep.targets;
  const lines: string[] = [`# sysabi diff: a = ${A}, b = ${B}`];
  for (const u of rep.unavailable ?? []) lines.push(`# target unavailable: ${u}`);
  for (const d of rep.differing) {
    lines.push(`${d.caseId}  (spec: a ${d.status[0]}, b ${d.status[1]})`);
    for (const f of d.diffs) lines.push(`  ${f.field}: a ${f.a}  |  b ${f.b}`);
  }
  if (verbose) for (const n of rep.notCompared) lines.push(`# not compared: ${n.caseId}: ${n.why}`);
  const both = rep.differing.filter((d) => d.status[0] === 'pass' && d.status[1] === 'pass').length;
  lines.push(`# ${rep.compared} compared, ${rep.differing.length} differ (${both} of them pass the spec on both), ${rep.notCompared.length} not compared${verbose || !rep.notCompared.length ? '' : ' (--verbose lists them)'}`);
  return lines.join('\n') + '\n';
}
