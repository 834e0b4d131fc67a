// TAP 14 (testanything.org/tap-version-14-specification.html): nested subtests
// target → spec → case, `# SKIP reason`, YAML diagnostics for anything unexpected, and a
// counts summary per target at the end. XFAIL has no TAP 14 directive: it is `not ok … # TODO`,
// which TAP consumers count as not failing; XPASS and ERROR are plain `not ok`.

import { stringify } from 'yaml';
import type { Result } from '../contracts.js';
import { countResults, type TargetRun } from '../run.js';
import { allSkipped, countsLine, diagnostic, groupBySpec, isUnexpected, oneLine, shortName, totalCounts, type ReportInput } from './model.js';

const INDENT = '    ';

/** Escape a test point description (TAP 14: `\` and `#` are escaped). */
export function tapDescription(s: string): string {
  return oneLine(s).replace(/\\/g, '\\\\').replace(/#/g, '\\#');
}

function yamlBlock(obj: Record<string, unknown>, pad: string): string[] {
  const body = stringify(obj, { lineWidth: 0, indent: 2 }).replace(/\n$/, '');
  return [`${pad}  ---`, ...body.split('\n').map((l) => `${pad}  ${l}`), `${pad}  ...`];
}

function caseLine(n: number, r: Result): { ok: boolean; directive: string } {
  switch (r.status) {
    case 'pass':
      return { ok: true, directive: '' };
    case 'skip':
      return { ok: true, directive: ` # SKIP ${oneLine(r.reason ?? '')}`.trimEnd() };
    case 'xfail':
      return { ok: false, directive: ` # TODO expected failure: ${oneLine(r.reason ?? '')}` };
    default:
      return { ok: false, directive: '' };
  }
}

/** The lines of one target's subtest body (its plan, spec subtests, and their result lines). */
function targetBody(t: TargetRun, input: ReportInput, pad: string): string[] {
  const out: string[] = [];
  const groups = groupBySpec(t.results);
  if (t.unavailable && groups.length === 0) {
    out.push(`${pad}1..0 # SKIP ${oneLine(t.unavailable)}`);
    return out;
  }
  out.push(`${pad}1..${groups.length}`);
  groups.forEach((g, gi) => {
    const inner = pad + INDENT;
    out.push(`${pad}# Subtest: ${g.specId}`);
    out.push(`${inner}1..${g.results.length}`);
    g.results.forEach((r, ri) => {
      const { ok, directive } = caseLine(ri + 1, r);
      out.push(`${inner}${ok ? 'ok' : 'not ok'} ${ri + 1} - ${tapDescription(shortName(r))}${directive}`);
      if (r.status !== 'pass' && r.status !== 'skip') out.push(...yamlBlock(diagnostic(r, input.cases.get(r.caseId), t), inner));
    });
    const bad = g.results.some((r) => isUnexpected(r.status));
    const title = input.cases.get(g.results[0]!.caseId)?.spec.title;
    const skip = allSkipped(g.results) ? ` # SKIP ${oneLine(sameReason(g.results) ?? 'every case skipped')}` : '';
    out.push(`${pad}${bad ? 'not ok' : 'ok'} ${gi + 1} - ${tapDescription(g.specId)}${skip}`);
    if (bad && title) out.push(`${pad}# ${oneLine(title)}`);
  });
  return out;
}

function sameReason(rs: readonly Result[]): string | undefined {
  const first = rs[0]?.reason;
  return rs.every((r) => r.reason === first) ? first : undefined;
}

function targetResultLine(t: TargetRun, n: number, pad: string): string {
  const bad = t.results.some((r) => isUnexpected(r.status));
  const skip = t.unavailable && !bad ? ` # SKIP ${oneLine(t.unavailable)}` : allSkipped(t.results) ? ' # SKIP every case skipped' : '';
  return `${pad}${bad ? 'not ok' : 'ok'} ${n} - ${tapDescription(t.name)}${skip}`;
}

/** How many unused expectation entries are listed one by one before they are summed up. */
const NOTES_SHOWN = 5;

/**
 * Notes after a target: stale-looking expectation entries. Running a selection leaves most
 * entries of an emulator's file unused, so past a few they are counted per file instead of
 * burying the results (results.json keeps every one under unusedExpectations).
 */
function targetNotes(t: TargetRun): string[] {
  const u = t.unusedExpectations;
  const notes = u.slice(0, NOTES_SHOWN).map((e) => `# note: ${e.file}:${e.line}: expectation for "${e.case}" matched no case of this run`);
  if (u.length > NOTES_SHOWN) {
    const files = [...new Set(u.slice(NOTES_SHOWN).map((e) => e.file))].join(', ');
    notes.push(`# note: ${u.length - NOTES_SHOWN} more entries of ${files} matched no case of this run (expected when running a selection; results.json lists them all)`);
  }
  return notes;
}

/** The full TAP 14 document for a run: one top-level subtest per target. */
export function renderTap(input: ReportInput): string {
  const out = ['TAP version 14', `1..${input.report.targets.length}`];
  input.report.targets.forEach((t, i) => {
    out.push(`# Subtest: ${t.name}`);
    out.push(...targetBody(t, input, INDENT));
    out.push(targetResultLine(t, i + 1, ''));
    out.push(...targetNotes(t));
  });
  out.push(...summaryLines(input));
  return out.join('\n') + '\n';
}

/** One target alone (reports/<run>/<target>.tap): its specs are the top-level tests. */
export function renderTargetTap(t: TargetRun, input: ReportInput): string {
  const out = ['TAP version 14', `# target: ${t.name}${t.info ? ` (profile ${t.info.profile.name}, version ${t.info.version})` : ''}`];
  out.push(...targetBody(t, input, ''));
  out.push(...targetNotes(t));
  out.push(`# ${t.name}: ${countsLine(countResults(t.results))}`);
  return out.join('\n') + '\n';
}

/** `# <target>: pass N fail N …` per target, then the total. */
export function summaryLines(input: ReportInput): string[] {
  const lines = input.report.targets.map((t) => `# ${t.name}: ${countsLine(countResults(t.results))}`);
  lines.push(`# total: ${countsLine(totalCounts(input.report))}`);
  return lines;
}
