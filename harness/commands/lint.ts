// `sysabi lint [paths]`: load and expand every spec without running anything, then apply the
// metadata rules (harness/spec/metadata.ts); print every error as file:line:col and a summary.
// Exit 0 when clean, 2 on any spec error.

import { expandSpec } from '../spec/expand.js';
import { formatSpecError, loadSpecs } from '../spec/load.js';
import { resolve, sep } from 'node:path';
import { checkMetadata } from '../spec/metadata.js';
import { repoRoot } from '../spec/paths.js';

/** Something to print lines to (process.stdout, a test buffer). */
export interface Out {
  write(s: string): unknown;
}

export interface LintOptions {
  /** Apply the metadata rules to every spec, not only to the corpus under this repository's
   *  specs/ (`sysabi lint --strict`: a user's own specs held to the house style). */
  strict?: boolean;
}

export async function lintCommand(paths: string[], out: Out, err: Out, opts: LintOptions = {}): Promise<number> {
  const { specs, errors } = await loadSpecs(paths.length > 0 ? paths : ['specs']);
  const flawed = new Set<string>();
  // The metadata rules are the corpus's house style: they apply to the specs under this
  // repository's specs/, not to a user's own spec files or test fixtures elsewhere.
  const corpus = resolve(repoRoot(), 'specs') + sep;
  for (const s of specs) {
    if (!opts.strict && !resolve(s.file).startsWith(corpus)) continue;
    const m = checkMetadata(s);
    if (m.length > 0) flawed.add(s.file);
    errors.push(...m);
  }
  for (const e of errors) err.write(formatSpecError(e) + '\n');
  let cases = 0;
  const ok = specs.filter((s) => !flawed.has(s.file));
  for (const s of ok) cases += expandSpec(s).length;
  const files = new Set(errors.map((e) => e.file)).size;
  if (errors.length > 0) {
    err.write(`lint: ${errors.length} error${errors.length === 1 ? '' : 's'} in ${files} file${files === 1 ? '' : 's'}; ${ok.length} spec${ok.length === 1 ? '' : 's'} (${cases} cases) ok\n`);
    return 2;
  }
  out.write(`lint: ${specs.length} spec${specs.length === 1 ? '' : 's'}, ${cases} cases, no errors\n`);
  return 0;
}
