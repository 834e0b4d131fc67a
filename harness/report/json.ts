// results.json (and `--format json`): the run's facts (host kernel, CPU vendor, versions),
// each target's description (profile, implementation version, expectation file) and every
// result with its Observation. 64-bit values are "0x…" strings (harness/json.ts), so
// fromJson() gives back bigints; later tools (merge, matrix, expectations update) read this.

import { toJson } from '../json.js';
import { countResults } from '../run.js';
import { refText, type ReportInput } from './model.js';

export const RESULTS_FORMAT = 'sysabi-results';
export const RESULTS_FORMAT_VERSION = 1;

export function resultsDocument(input: ReportInput): Record<string, unknown> {
  const { report, cases } = input;
  const specs: Record<string, { title: string; file: string; refs: string[]; tags: string[]; covers: string[] }> = {};
  for (const t of report.targets) {
    for (const r of t.results) {
      const ec = cases.get(r.caseId);
      if (ec && !specs[ec.spec.id]) {
        specs[ec.spec.id] = { title: ec.spec.title, file: ec.spec.file, refs: ec.spec.refs.map(refText), tags: ec.spec.tags, covers: ec.spec.covers ?? [] };
      }
    }
  }
  return {
    format: RESULTS_FORMAT,
    formatVersion: RESULTS_FORMAT_VERSION,
    run: report.info,
    targets: report.targets.map((t) => ({
      name: t.name,
      available: !t.unavailable,
      ...(t.unavailable ? { reason: t.unavailable } : {}),
      ...(t.info ? { version: t.info.version, profile: t.info.profile, abis: t.info.abis } : {}),
      expectationsFile: t.expectationsFile ?? null,
      unusedExpectations: t.unusedExpectations,
      counts: countResults(t.results),
      durationMs: Math.round(t.durationMs),
    })),
    specs,
    results: report.targets.flatMap((t) => t.results),
  };
}

export function renderJson(input: ReportInput): string {
  return toJson(resultsDocument(input), 2) + '\n';
}
