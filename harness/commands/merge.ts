// `sysabi merge [-o DIR] results.json...`: one results.json (plus matrix.html and matrix.md)
// from the results of several runs, e.g. the shards of a CI job (`--shard i/n`). Exit 1 when
// the merged run has an unexpected result (fail, xpass, error), like `sysabi run`.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { toJson } from '../json.js';
import { mergeResults, readResultsFile, type ResultsDoc } from '../merge.js';
import { renderMatrixHtml, renderMatrixMd } from '../report/matrix.js';

const HELP = `Usage: sysabi merge [-o DIR] results.json ...

Merges results.json files (shards of one run, or runs of different targets) into
DIR/<merged id>/results.json, matrix.html and matrix.md (default DIR: reports). Without -o
the merged results.json goes to stdout. A case reported with two different statuses is an
error (exit 2); an unexpected result in the merge exits 1.
`;

export async function mergeCommand(args: string[], out: (s: string) => void, err: (s: string) => void): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args, options: { out: { type: 'string', short: 'o' }, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true });
  } catch (e) {
    return err(`sysabi merge: ${(e as Error).message}\n\n${HELP}`), 2;
  }
  const { values: v, positionals: files } = parsed;
  if (v.help) return out(HELP), 0;
  if (!files.length) return err(`sysabi merge: name at least one results.json\n\n${HELP}`), 2;
  let merged: ResultsDoc;
  try {
    merged = mergeResults(files.map(readResultsFile));
  } catch (e) {
    return err(`sysabi merge: ${(e as Error).message}`), 2;
  }
  const json = toJson(merged, 2) + '\n';
  if (v.out) {
    const dir = join(v.out, merged.run.id);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'results.json'), json);
    writeFileSync(join(dir, 'matrix.html'), renderMatrixHtml(merged));
    writeFileSync(join(dir, 'matrix.md'), renderMatrixMd(merged));
    err(`sysabi: merged ${files.length} file(s), ${merged.results.length} results, into ${dir}`);
  } else out(json);
  return merged.results.some((r) => r.status === 'fail' || r.status === 'xpass' || r.status === 'error') ? 1 : 0;
}
