// `sysabi expectations update --target T --from reports/<run>/results.json`: rewrite the
// target's expectation file (suites/expectations/<target>[-<version>].yaml) from a run.
// Every case that failed or errored is listed; an entry that already explained a case
// keeps its reason and link (a glob entry stays while it still matches a failing case);
// entries for cases that now pass are dropped; `skip` entries are kept as they are.
// New entries get a reason starting with "UNEXPLAINED:" that the run refuses to accept
// as an explanation only in spirit: a reviewer sees them at once in the diff.

import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { stringify } from 'yaml';
import { expectationFileNames, globToRegExp, parseExpectations, type ExpectationEntry } from '../expectations.js';
import { readResultsFile, type ResultsDoc } from '../merge.js';

export const UNEXPLAINED = 'UNEXPLAINED:';

export interface UpdateOutcome {
  text: string;
  kept: number;
  added: number;
  removed: string[];
}

interface OutEntry {
  case: string;
  expect: 'fail' | 'skip';
  reason: string;
  link?: string;
}

/**
 * The new file text for `target` from a results document. `oldText` is the current file
 * (or undefined). Entries come out sorted by case id, skips first, so diffs stay small.
 */
export function updateExpectationsText(oldText: string | undefined, doc: ResultsDoc, target: string, file = 'expectations.yaml'): UpdateOutcome {
  const old: ExpectationEntry[] = [];
  if (oldText !== undefined) {
    const p = parseExpectations(oldText, file);
    if (p.errors.length || !p.set) throw new Error(p.errors.map((e) => `${e.file}:${e.line}:${e.col}: ${e.message}`).join('\n'));
    old.push(...p.set.entries);
  }
  const t = doc.targets.find((x) => x.name === target);
  if (!t) throw new Error(`target "${target}" is not in the results (it has ${doc.targets.map((x) => `"${x.name}"`).join(', ') || 'no targets'})`);
  const results = doc.results.filter((r) => r.target === target);
  const failing = results.filter((r) => r.status === 'fail' || r.status === 'error' || r.status === 'xfail');
  const exact = new Map(old.filter((e) => !/[*?]/.test(e.case)).map((e) => [e.case, e]));
  const globs = old.filter((e) => /[*?]/.test(e.case)).map((e) => ({ e, re: globToRegExp(e.case) }));
  const out = new Map<string, OutEntry>();
  let kept = 0;
  let added = 0;
  for (const e of old) if (e.expect === 'skip') out.set(e.case, strip(e));
  for (const r of failing) {
    const ex = exact.get(r.caseId);
    if (ex && ex.expect === 'fail') {
      if (!out.has(ex.case)) kept++;
      out.set(ex.case, strip(ex));
      continue;
    }
    const g = globs.find((x) => x.re.test(r.caseId));
    if (g && g.e.expect === 'fail') {
      if (!out.has(g.e.case)) kept++;
      out.set(g.e.case, strip(g.e));
      continue;
    }
    if (ex?.expect === 'skip' || g?.e.expect === 'skip') continue;
    // The run's own one-line summary is the evidence a reviewer starts from.
    const why = (r.reason ?? r.diffs.map((d) => `${d.field}: expected ${d.expected}, observed ${d.observed}`).join('; ')).replace(/\s*\[[^\]]*\.yaml:\d+\]$/, '');
    out.set(r.caseId, { case: r.caseId, expect: 'fail', reason: `${UNEXPLAINED} ${why || r.status}` });
    added++;
  }
  const removed = old.filter((e) => e.expect === 'fail' && !out.has(e.case)).map((e) => e.case);
  const entries = [...out.values()].sort((a, b) => (a.expect === b.expect ? (a.case < b.case ? -1 : a.case > b.case ? 1 : 0) : a.expect === 'skip' ? -1 : 1));
  const header =
    `# Expected failures of ${target}${t.version ? ` ${t.version}` : ''} (suites/expectations/README.md).\n` +
    `# Each reason says whether the emulator, the spec or the probe under emulation is at fault.\n`;
  const body = stringify({ target, ...(t.version ? { version: t.version } : {}), expectations: entries }, { lineWidth: 100 });
  return { text: header + body, kept, added, removed };
}

function strip(e: ExpectationEntry): OutEntry {
  return { case: e.case, expect: e.expect, reason: e.reason.trim(), ...(e.link ? { link: e.link } : {}) };
}

const HELP = `Usage: sysabi expectations update --target T --from reports/<run>/results.json [--dir D] [--file F] [--dry-run]

Rewrites the expectation file of target T from a run: every failing case listed, existing
reasons and links kept, entries of cases that now pass dropped. New entries say
"${UNEXPLAINED} <what was observed>" until someone writes why.
  --dir D      expectation directory (default suites/expectations)
  --file F     write this file instead of <dir>/<target>-<version>.yaml (or the existing one)
  --dry-run    print the new file instead of writing it
`;

export async function expectationsCommand(args: string[], root: string, out: (s: string) => void, err: (s: string) => void): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === undefined || sub === '--help' || sub === '-h') return out(HELP), sub === undefined ? 2 : 0;
  if (sub !== 'update') return err(`sysabi expectations: unknown subcommand "${sub}" (expected update)\n\n${HELP}`), 2;
  let v;
  try {
    v = parseArgs({ args: rest, options: { target: { type: 'string', short: 't' }, from: { type: 'string' }, dir: { type: 'string' }, file: { type: 'string' }, 'dry-run': { type: 'boolean' }, help: { type: 'boolean', short: 'h' } }, strict: true }).values;
  } catch (e) {
    return err(`sysabi expectations update: ${(e as Error).message}\n\n${HELP}`), 2;
  }
  if (v.help) return out(HELP), 0;
  if (!v.target || !v.from) return err(`sysabi expectations update: --target and --from are required\n\n${HELP}`), 2;
  let doc: ResultsDoc;
  try {
    doc = readResultsFile(v.from);
  } catch (e) {
    return err(`sysabi expectations update: ${(e as Error).message}`), 2;
  }
  const t = doc.targets.find((x) => x.name === v.target);
  const dir = v.dir ?? join(root, 'suites', 'expectations');
  const candidates = expectationFileNames(v.target, t?.version).map((n) => join(dir, n));
  const file = v.file ?? candidates.find((c) => existsSync(c)) ?? candidates[0]!;
  let res: UpdateOutcome;
  try {
    res = updateExpectationsText(existsSync(file) ? readFileSync(file, 'utf8') : undefined, doc, v.target, file);
  } catch (e) {
    return err(`sysabi expectations update: ${(e as Error).message}`), 2;
  }
  if (v['dry-run']) out(res.text);
  else writeFileSync(file, res.text);
  err(`sysabi: ${v['dry-run'] ? 'would write' : 'wrote'} ${file}: ${res.kept} kept, ${res.added} new${res.added ? ` (reasons start with "${UNEXPLAINED}": explain them)` : ''}, ${res.removed.length} removed${res.removed.length ? ` (${res.removed.join(', ')})` : ''}`);
  return 0;
}
