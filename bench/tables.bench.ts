// Benchmark of the syscall tables (abi/tables/): cost of loading the module (maps are built
// once at import), of the lookups the spec loader and simulator call per case, and of a full
// regeneration. Run: node --import tsx bench/tables.bench.ts   (figures go to bench/RESULTS.md).

import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '..');

const t0 = performance.now();
const tables = await import(pathToFileURL(join(ROOT, 'abi/tables/index.ts')).href);
const loadMs = performance.now() - t0;
const { lookupName, lookupNumber, isImplemented, rows } = tables as typeof import('../abi/tables/index.js');
const gen = (await import(pathToFileURL(join(ROOT, 'abi/tables/gen.ts')).href)) as typeof import('../abi/tables/gen.js');

/** ns per operation, median of 5 rounds of `n` calls of fn(i). */
function bench(n: number, fn: (i: number) => unknown): number {
  const rounds: number[] = [];
  let sink = 0;
  for (let r = 0; r < 5; r++) {
    const s = performance.now();
    for (let i = 0; i < n; i++) if (fn(i)) sink++;
    rounds.push(((performance.now() - s) * 1e6) / n);
  }
  if (sink < 0) console.log(sink);
  return rounds.sort((a, b) => a - b)[2]!;
}

const names = rows('x86_64').map((r) => r.name);
const nrs = Array.from({ length: 600 }, (_, i) => i);
const N = 200_000;
const results: [string, string][] = [
  ['import abi/tables/index.ts (3 tables, maps built), first load incl. tsx', `${loadMs.toFixed(1)} ms`],
  ['lookupName(x86_64, name)', `${bench(N, (i) => lookupName('x86_64', names[i % names.length]!)).toFixed(1)} ns/op`],
  ['lookupNumber(i386, n), n in 0..599 (hits and misses)', `${bench(N, (i) => lookupNumber('i386', nrs[i % 600]!)).toFixed(1)} ns/op`],
  ['lookupNumber(x32, bigint with bit)', `${bench(N, (i) => lookupNumber('x32', 0x40000000n + BigInt(i % 600))).toFixed(1)} ns/op`],
  ['isImplemented(i386, n)', `${bench(N, (i) => isImplemented('i386', nrs[i % 600]!)).toFixed(1)} ns/op`],
];
const input = gen.readDataDir(join(ROOT, gen.DATA_DIR_REL));
const genRounds: number[] = [];
for (let r = 0; r < 5; r++) {
  const s = performance.now();
  gen.generate(input);
  genRounds.push(performance.now() - s);
}
results.push(['generate() all 4 outputs in memory (parse + render)', `${genRounds.sort((a, b) => a - b)[2]!.toFixed(1)} ms`]);

const w = Math.max(...results.map(([k]) => k.length));
for (const [k, v] of results) console.log(`${k.padEnd(w)}  ${v}`);
