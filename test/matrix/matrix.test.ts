// The conformance matrix (harness/report/matrix.ts): cell counts and colours from results,
// area totals, hover reasons, links to failure diagnostics; and the HTML rendered by a real
// headless Chromium has the whole table (skipped with the reason when chromium is absent).

import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import type { Result, Status } from '../../harness/contracts.js';
import type { ResultsDoc } from '../../harness/merge.js';
import { buildMatrix, cellStatus, failureAnchor, renderMatrixHtml, renderMatrixMd } from '../../harness/report/matrix.js';

function res(specId: string, slug: string, target: string, status: Status, reason?: string): Result {
  return { caseId: `${specId}/${slug}@x86_64`, specId, abi: 'x86_64', target, status, reason, diffs: status === 'fail' ? [{ field: 'rax', expected: '0x1', observed: '0x2' }] : [] };
}

function doc(results: Result[], targets: string[]): ResultsDoc {
  return {
    format: 'sysabi-results', formatVersion: 1,
    run: { id: 'R1', started: '2025-01-01T00:00:00Z', argv: [], host: { kernel: '6.18' }, sysabi: '0' },
    targets: targets.map((name) => ({ name, available: true, version: '1', expectationsFile: null, unusedExpectations: [], counts: { pass: 0, fail: 0, skip: 0, xfail: 0, xpass: 0, error: 0 }, durationMs: 0 })),
    specs: { 'entry.a': { title: 'Entry <A> & co', file: 'x', refs: [], tags: [], covers: [] } },
    results,
  };
}

const results = [
  res('entry.a', 'one', 'native', 'pass'), res('entry.a', 'two', 'native', 'pass'),
  res('entry.a', 'one', 'qemu', 'fail', 'ret: expected 0x1, observed 0x2'), res('entry.a', 'two', 'qemu', 'xfail', 'qemu decodes int80 with the 64-bit table'),
  res('entry.b', 'one', 'native', 'skip', 'needs ia32'), res('entry.b', 'one', 'qemu', 'pass'),
  res('flags.c', 'one', 'native', 'pass'),
];
const d = doc(results, ['native', 'qemu']);

t.test('cells and areas count what the results say', async (t) => {
  const m = buildMatrix(d);
  t.same([...m.areas.keys()], ['entry', 'flags']);
  t.same(m.areas.get('entry'), ['entry.a', 'entry.b']);
  t.same(m.cell('entry.a', 'qemu')!.counts, { fail: 1, xfail: 1 });
  t.equal(cellStatus(m.cell('entry.a', 'qemu')!.counts), 'fail', 'the worst status colours the cell');
  t.equal(cellStatus(m.cell('entry.a', 'native')!.counts), 'pass');
  t.same(m.areaCounts('entry', 'native'), { pass: 2, skip: 1 });
  t.equal(m.cell('flags.c', 'qemu'), undefined, 'a spec a target did not run has no cell');
});

t.test('HTML is self-contained, escapes text, links failures and carries reasons on hover', async (t) => {
  const html = renderMatrixHtml(d);
  t.notMatch(html, /<script|<link|src=|https?:\/\//, 'no scripts, no external assets');
  t.match(html, 'Entry &lt;A&gt; &amp; co');
  const fail = results[2]!;
  t.match(html, `href="#${failureAnchor(fail)}"`);
  t.match(html, `id="${failureAnchor(fail)}"`);
  t.match(html, /title="FAIL one@x86_64: ret: expected 0x1, observed 0x2\nXFAIL two@x86_64: qemu decodes int80/);
  t.match(html, 'rax: expected 0x1, observed 0x2');
});

t.test('Markdown has one row per spec and a bold row per area', async (t) => {
  const md = renderMatrixMd(d);
  t.match(md, '| spec | native | qemu |');
  t.match(md, '| `entry.a` | 2 pass | 1 fail, 1 xfail |');
  t.match(md, '| **entry** | **1 skip, 2 pass** | **1 fail, 1 xfail, 1 pass** |');
  t.match(md, '| `flags.c` | 1 pass | — |');
});

const chromium = ['chromium', 'chromium-browser', 'google-chrome'].find((c) => spawnSync('sh', ['-c', `command -v ${c}`]).status === 0);
t.test('headless Chromium renders the whole table', { skip: chromium ? false : 'chromium is not installed (Debian package chromium)' }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sysabi-matrix-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'matrix.html');
  writeFileSync(file, renderMatrixHtml(d));
  const r = spawnSync(chromium!, [
    '--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', `--user-data-dir=${join(dir, 'profile')}`, '--dump-dom', `file://${file}`,
  ], { encoding: 'utf8', timeout: 60_000 });
  t.equal(r.status, 0, r.status === 0 ? "chromium exited 0" : `chromium exited ${r.status}: ${r.stderr?.slice(-300)}`);
  const dom = r.stdout;
  const table = /<table id="matrix">([\s\S]*?)<\/table>/.exec(dom)?.[1] ?? '';
  t.ok(table, 'the matrix table is in the rendered DOM');
  const rows = table.match(/<tr data-spec="[^"]+">/g) ?? [];
  t.equal(rows.length, 3, 'one row per spec');
  const cells = table.match(/<td class="(pass|fail|error|xpass|xfail|skip|none)"/g) ?? [];
  t.equal(cells.length, 3 * 2, 'one cell per spec and target');
  t.match(table, /class="fail" data-status="fail"/);
});
