// KTAP version 1 (Documentation/dev-tools/ktap.rst; ABI-FACTS §10.4), for kernel tooling:
// every level opens with its own version line and plan, subtests are indented two spaces,
// descriptions carry no `#`, directives are SKIP, XFAIL, TIMEOUT and ERROR, and diagnostics
// are `# ` lines before the result. The totals line follows kselftest.h ksft_print_cnts().

import type { Result } from '../contracts.js';
import { countResults, type RunnableCase, type RunReport, type TargetRun } from '../run.js';
import { allSkipped, groupBySpec, isUnexpected, oneLine, reproduceCommand, shortName, totalCounts, type ReportInput } from './model.js';

/** KTAP forbids `#` in descriptions; keep ids readable otherwise. */
function desc(s: string): string {
  return oneLine(s).replace(/#/g, '');
}

function resultLine(n: number, r: Result): string {
  const why = oneLine(r.reason ?? '');
  const timedOut = r.observation?.outcome === 'timeout';
  switch (r.status) {
    case 'pass':
      return `ok ${n} ${desc(shortName(r))}`;
    case 'skip':
      return `ok ${n} ${desc(shortName(r))} # SKIP ${why}`.trimEnd();
    case 'xfail':
      // kselftest's ksft_test_result_xfail(): "ok N # XFAIL reason".
      return `ok ${n} ${desc(shortName(r))} # XFAIL ${why}`.trimEnd();
    case 'error':
      return `not ok ${n} ${desc(shortName(r))} # ${timedOut ? 'TIMEOUT' : 'ERROR'} ${why}`.trimEnd();
    case 'fail':
      return timedOut ? `not ok ${n} ${desc(shortName(r))} # TIMEOUT ${why}`.trimEnd() : `not ok ${n} ${desc(shortName(r))}`;
    case 'xpass':
      return `not ok ${n} ${desc(shortName(r))}`;
  }
}

/** Diagnostic lines before a failing result: what differed and how to run it alone. */
function diagLines(r: Result, ec: RunnableCase | undefined): string[] {
  const out: string[] = [];
  if (r.status === 'xpass') out.push(`XPASS: ${oneLine(r.reason ?? '')}`);
  const diffs = r.diffs.map((d) => `${d.field}: expected ${d.expected}, observed ${d.observed}${d.note ? ` (${d.note})` : ''}`);
  // The checker's one-line reason often is the first diff; say it once.
  if (r.status === 'fail' && r.reason && !diffs.includes(oneLine(r.reason))) out.push(oneLine(r.reason));
  out.push(...diffs);
  out.push(`reproduce: ${reproduceCommand(r, ec)}`);
  return out;
}

function targetLines(t: TargetRun, pad: string, cases: ReportInput['cases']): string[] {
  const groups = groupBySpec(t.results);
  const out = [`${pad}KTAP version 1`, `${pad}1..${groups.length}`];
  groups.forEach((g, gi) => {
    const inner = pad + '  ';
    out.push(`${inner}KTAP version 1`, `${inner}1..${g.results.length}`);
    g.results.forEach((r, ri) => {
      if (r.status === 'fail' || r.status === 'xpass' || r.status === 'error') out.push(...diagLines(r, cases.get(r.caseId)).map((l) => `${inner}# ${l}`));
      out.push(inner + resultLine(ri + 1, r));
    });
    const bad = g.results.some((r) => isUnexpected(r.status));
    out.push(`${pad}${bad ? 'not ok' : 'ok'} ${gi + 1} ${desc(g.specId)}${!bad && allSkipped(g.results) ? ' # SKIP' : ''}`);
  });
  return out;
}

export function renderKtap(input: ReportInput): string {
  const { report } = input;
  const out = ['KTAP version 1', `1..${report.targets.length}`];
  report.targets.forEach((t, i) => {
    if (t.unavailable) out.push(`# ${t.name}: ${oneLine(t.unavailable)}`);
    out.push(...targetLines(t, '  ', input.cases));
    const bad = t.results.some((r) => isUnexpected(r.status));
    out.push(`${bad ? 'not ok' : 'ok'} ${i + 1} ${desc(t.name)}${!bad && allSkipped(t.results) ? ` # SKIP${t.unavailable ? ' ' + oneLine(t.unavailable) : ''}` : ''}`);
  });
  const c = totalCounts(report);
  for (const t of report.targets) {
    const k = countResults(t.results);
    out.push(`# ${desc(t.name)}: pass:${k.pass} fail:${k.fail} xfail:${k.xfail} xpass:${k.xpass} skip:${k.skip} error:${k.error}`);
  }
  out.push(`# Totals: pass:${c.pass} fail:${c.fail} xfail:${c.xfail} xpass:${c.xpass} skip:${c.skip} error:${c.error}`);
  return out.join('\n') + '\n';
}

/**
 * kselftest exit codes (tools/testing/selftests/kselftest.h): 0 pass (KSFT_PASS), 1 fail
 * (KSFT_FAIL), 4 when every case was skipped (KSFT_SKIP).
 */
export function ktapExitCode(report: RunReport): number {
  const all = report.targets.flatMap((t) => t.results);
  if (all.some((r) => isUnexpected(r.status))) return 1;
  if (all.length === 0 || all.every((r) => r.status === 'skip')) return 4;
  return 0;
}
