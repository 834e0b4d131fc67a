// Runs every bench/*.bench.ts in turn (one process each, never in parallel: the machine's
// cores are shared), printing each one's output and a timing line; `make bench` calls this.
// Usage: node --import tsx bench/run.ts [name-filter]

import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

const dir = import.meta.dirname;
const filter = process.argv[2];
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.bench.ts') && (!filter || f.includes(filter)))
  .sort();
if (!files.length) {
  console.error(`bench: no bench/*.bench.ts${filter ? ` matching "${filter}"` : ''}`);
  process.exit(2);
}
const failed: string[] = [];
for (const f of files) {
  console.log(`\n## ${f}`);
  const t0 = performance.now();
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(dir, f)], { stdio: 'inherit', cwd: join(dir, '..') });
  const s = ((performance.now() - t0) / 1000).toFixed(1);
  if (r.status !== 0) failed.push(f);
  console.log(`# ${f}: ${r.status === 0 ? 'ok' : `FAILED (exit ${r.status ?? r.signal})`} in ${s} s`);
}
if (failed.length) {
  console.error(`bench: ${failed.length} failed: ${failed.join(', ')}`);
  process.exit(1);
}
