// Regenerates the two tables of docs/coverage.md (specs and cases per area and ABI; specs per
// ABI-FACTS catalogue id) from the spec corpus, between their `<!-- generated: NAME -->` and
// `<!-- /generated -->` markers; the prose around them is written by hand. `--check` exits 1
// when the committed tables are stale instead of writing them (make test runs it).
//   node --import tsx harness/spec/gen-coverage.ts [--check]

import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { CATALOGUE } from './catalogue.js';
import { expandSpec } from './expand.js';
import { loadSpecs } from './load.js';
import { repoRoot } from './paths.js';

const ABIS = ['x86_64', 'i386', 'x32'] as const;

export const coverageDoc = (): string => join(repoRoot(), 'docs', 'coverage.md');

/** Every spec file under specs/, sorted (the corpus `make check` runs). */
function specFiles(): string[] {
  const root = join(repoRoot(), 'specs');
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(d, e.name));
      else if (e.name.endsWith('.yaml') && e.name !== 'tags.yaml') out.push(join(d, e.name));
    }
  };
  walk(root);
  return out.sort();
}

/** RG-02 before RG-10; areas alphabetically. */
function byCatalogueOrder(a: string, b: string): number {
  const [pa, na] = [a.replace(/-\d+$/, ''), Number(a.replace(/^.*-/, ''))];
  const [pb, nb] = [b.replace(/-\d+$/, ''), Number(b.replace(/^.*-/, ''))];
  return pa === pb ? na - nb : pa < pb ? -1 : 1;
}

/** The generated tables, by marker name. */
export async function renderTables(): Promise<Record<'areas' | 'catalogue', string>> {
  const { specs, errors } = await loadSpecs(specFiles());
  if (errors.length) throw new Error(`the spec corpus has errors (run sysabi lint): ${errors.length}`);
  const root = repoRoot();
  const areas = new Map<string, { specs: number; cases: number; abi: Record<string, number> }>();
  const covers = new Map<string, string[]>();
  for (const s of specs) {
    const area = relative(join(root, 'specs'), s.file).split('/')[0]! + '/';
    const a = areas.get(area) ?? { specs: 0, cases: 0, abi: { x86_64: 0, i386: 0, x32: 0 } };
    a.specs++;
    for (const c of expandSpec(s)) {
      a.cases++;
      a.abi[c.case.abi] = (a.abi[c.case.abi] ?? 0) + 1;
    }
    areas.set(area, a);
    for (const k of s.data.covers ?? []) covers.set(k, [...(covers.get(k) ?? []), s.id]);
  }
  const rows = [...areas.entries()].sort(([x], [y]) => (x < y ? -1 : 1));
  const total = rows.reduce((t, [, a]) => ({ specs: t.specs + a.specs, cases: t.cases + a.cases, abi: Object.fromEntries(ABIS.map((b) => [b, t.abi[b]! + a.abi[b]!])) }), { specs: 0, cases: 0, abi: { x86_64: 0, i386: 0, x32: 0 } as Record<string, number> });
  const areaTable = [
    '| area | specs | cases | x86_64 | i386 | x32 |',
    '|---|---:|---:|---:|---:|---:|',
    ...rows.map(([n, a]) => `| ${n} | ${a.specs} | ${a.cases} | ${ABIS.map((b) => a.abi[b]).join(' | ')} |`),
    `| **total** | **${total.specs}** | **${total.cases}** | ${ABIS.map((b) => `**${total.abi[b]}**`).join(' | ')} |`,
  ].join('\n');
  const ids = Object.keys(CATALOGUE).sort(byCatalogueOrder);
  const catTable = [
    '| id | behaviour | specs |',
    '|---|---|---|',
    ...ids.map((k) => `| ${k} | ${CATALOGUE[k as keyof typeof CATALOGUE]} | ${(covers.get(k) ?? []).sort().map((s) => `\`${s}\``).join(', ') || '**not covered**'} |`),
    '',
    `${ids.filter((k) => covers.has(k)).length} of ${ids.length} catalogue ids covered.`,
  ].join('\n');
  return { areas: areaTable, catalogue: catTable };
}

/** The document with its generated blocks replaced. */
export function splice(doc: string, tables: Record<string, string>): string {
  let out = doc;
  for (const [name, body] of Object.entries(tables)) {
    const re = new RegExp(`(<!-- generated: ${name} -->\\n)[\\s\\S]*?(\\n<!-- /generated -->)`);
    if (!re.test(out)) throw new Error(`docs/coverage.md has no <!-- generated: ${name} --> … <!-- /generated --> block`);
    out = out.replace(re, (_m, a: string, b: string) => a + body + b);
  }
  return out;
}

async function main(): Promise<number> {
  const check = process.argv.includes('--check');
  const file = coverageDoc();
  const doc = readFileSync(file, 'utf8');
  const next = splice(doc, await renderTables());
  if (check) {
    if (next !== doc) {
      process.stderr.write('docs/coverage.md: the generated tables are stale; run `make coverage-doc`\n');
      return 1;
    }
    return 0;
  }
  if (next !== doc) writeFileSync(file, next);
  return 0;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) process.exitCode = await main();
