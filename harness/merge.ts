// Reading results.json files (harness/report/json.ts writes them) and merging several into
// one: the shards of a CI run spread over runners (`--shard i/n`), or runs of different
// targets. Merged counts are recomputed from the results; an expectation entry is "unused"
// only if no shard used it; the same case reported twice with different statuses is an error.

import { readFileSync } from 'node:fs';
import type { Result, Status } from './contracts.js';
import { fromJson } from './json.js';

export const RESULTS_FORMAT = 'sysabi-results';

export interface ResultsTarget {
  name: string;
  available: boolean;
  reason?: string;
  version?: string;
  profile?: Record<string, unknown>;
  abis?: Record<string, { ok: boolean; reason?: string }>;
  expectationsFile: string | null;
  unusedExpectations: { case: string; file: string; line: number }[];
  counts: Record<Status, number>;
  durationMs: number;
}

export interface ResultsDoc {
  format: string;
  formatVersion: number;
  run: { id: string; started: string; finished?: string; durationMs?: number; argv: string[]; host: Record<string, unknown>; sysabi: string; merged?: string[] };
  targets: ResultsTarget[];
  specs: Record<string, { title: string; file: string; refs: string[]; tags: string[]; covers: string[] }>;
  results: Result[];
}

/** Check the shape enough to use it; the message says which file and what is wrong. */
export function parseResults(text: string, where: string): ResultsDoc {
  let v: unknown;
  try {
    v = fromJson(text);
  } catch (e) {
    throw new Error(`${where}: not JSON (${(e as Error).message})`);
  }
  const d = v as Partial<ResultsDoc> | null;
  if (!d || typeof d !== 'object' || d.format !== RESULTS_FORMAT) throw new Error(`${where}: not a sysabi results.json (expected "format": "${RESULTS_FORMAT}", found ${JSON.stringify(d && (d as { format?: unknown }).format)})`);
  if (!Array.isArray(d.targets) || !Array.isArray(d.results) || !d.run) throw new Error(`${where}: results.json lacks "run", "targets" or "results"`);
  return { specs: {}, ...d } as ResultsDoc;
}

export function readResultsFile(path: string): ResultsDoc {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new Error(`cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  return parseResults(text, path);
}

function counts(results: readonly Result[]): Record<Status, number> {
  const c: Record<Status, number> = { pass: 0, fail: 0, skip: 0, xfail: 0, xpass: 0, error: 0 };
  for (const r of results) c[r.status]++;
  return c;
}

/** Merge results documents; throws when one case has two different statuses on one target. */
export function mergeResults(docs: readonly ResultsDoc[]): ResultsDoc {
  if (!docs.length) throw new Error('nothing to merge');
  const byKey = new Map<string, Result>();
  const conflicts: string[] = [];
  for (const d of docs) {
    for (const r of d.results) {
      const k = `${r.target}\u0000${r.caseId}`;
      const prev = byKey.get(k);
      if (prev && prev.status !== r.status) conflicts.push(`${r.caseId} on ${r.target}: ${prev.status} in one file, ${r.status} in another`);
      if (!prev) byKey.set(k, r);
    }
  }
  if (conflicts.length) throw new Error(`the files disagree on ${conflicts.length} case(s):\n  ${conflicts.slice(0, 20).join('\n  ')}`);
  const results = [...byKey.values()];
  const targets = new Map<string, ResultsTarget>();
  const unusedSets = new Map<string, Set<string>[]>();
  for (const d of docs) {
    for (const t of d.targets) {
      const prev = targets.get(t.name);
      if (!prev) targets.set(t.name, { ...t, unusedExpectations: [...t.unusedExpectations] });
      else {
        prev.durationMs += t.durationMs;
        prev.available ||= t.available;
        if (prev.version !== t.version && t.version) prev.version = prev.version ? `${prev.version}, ${t.version}` : t.version;
        prev.profile ??= t.profile;
        prev.abis ??= t.abis;
        prev.expectationsFile ??= t.expectationsFile;
        prev.unusedExpectations.push(...t.unusedExpectations.filter((u) => !prev.unusedExpectations.some((p) => p.case === u.case)));
      }
      const l = unusedSets.get(t.name) ?? [];
      l.push(new Set(t.unusedExpectations.map((u) => u.case)));
      unusedSets.set(t.name, l);
    }
  }
  for (const t of targets.values()) {
    // Unused in the merge = unused in every file that ran this target.
    const sets = unusedSets.get(t.name)!;
    t.unusedExpectations = t.unusedExpectations.filter((u) => sets.every((s) => s.has(u.case)));
    t.counts = counts(results.filter((r) => r.target === t.name));
  }
  const started = docs.map((d) => d.run.started).sort()[0]!;
  const finished = docs.map((d) => d.run.finished ?? d.run.started).sort().at(-1)!;
  const first = docs[0]!;
  return {
    format: RESULTS_FORMAT,
    formatVersion: first.formatVersion,
    run: {
      ...first.run,
      id: docs.length === 1 ? first.run.id : `merged-${first.run.id}`,
      started,
      finished,
      durationMs: docs.reduce((s, d) => s + (d.run.durationMs ?? 0), 0),
      merged: docs.map((d) => d.run.id),
    },
    targets: [...targets.values()],
    specs: Object.assign({}, ...docs.map((d) => d.specs)),
    results,
  };
}
