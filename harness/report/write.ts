// Writes reports/<run id>/: one TAP 14 file per target, results.json and junit.xml.
// Paths are returned so the CLI can say where the reports went.

import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { targetFileName } from '../targets/registry.js';
import { renderJson, resultsDocument } from './json.js';
import { renderJunit } from './junit.js';
import { renderMatrixHtml, renderMatrixMd } from './matrix.js';
import type { ResultsDoc } from '../merge.js';
import type { ReportInput } from './model.js';
import { renderTargetTap } from './tap.js';

export async function writeReportDir(outDir: string, input: ReportInput): Promise<{ dir: string; files: string[] }> {
  const dir = join(outDir, input.report.info.id);
  await mkdir(dir, { recursive: true });
  const files: string[] = [];
  const put = async (name: string, text: string) => {
    const p = join(dir, name);
    await writeFile(p, text);
    files.push(p);
  };
  const used = new Set<string>();
  for (const t of input.report.targets) {
    // Two targets could map to one file name (`exec:a b` vs `exec:a-b`): number the second.
    let base = targetFileName(t.name) || 'target';
    for (let k = 2; used.has(base); k++) base = `${targetFileName(t.name)}-${k}`;
    used.add(base);
    await put(`${base}.tap`, renderTargetTap(t, input));
  }
  await put('results.json', renderJson(input));
  await put('junit.xml', renderJunit(input));
  // The conformance matrix reads the same document results.json holds (harness/report/matrix.ts).
  const doc = resultsDocument(input) as unknown as ResultsDoc;
  await put('matrix.html', renderMatrixHtml(doc));
  await put('matrix.md', renderMatrixMd(doc));
  return { dir, files };
}
