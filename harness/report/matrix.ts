// The conformance matrix: specs × targets from a results.json document, as one
// self-contained HTML file (no server, no external assets: inline CSS, no script) and as
// Markdown. Each cell counts its cases by status; its title (hover) gives the reasons of
// the cases that did not pass; failures link to their diagnostics further down the page.

import type { Result, Status } from '../contracts.js';
import type { ResultsDoc } from '../merge.js';

const ORDER: Status[] = ['fail', 'error', 'xpass', 'xfail', 'skip', 'pass'];
const BAD: ReadonlySet<Status> = new Set(['fail', 'error', 'xpass']);

export interface MatrixCell {
  counts: Partial<Record<Status, number>>;
  results: Result[];
}

export interface Matrix {
  targets: string[];
  /** area → spec ids, areas and specs in sorted order. */
  areas: Map<string, string[]>;
  cell(spec: string, target: string): MatrixCell | undefined;
  areaCounts(area: string, target: string): Partial<Record<Status, number>>;
}

/** The spec's area: the first part of its id (`entry.syscall64.clobbers` → `entry`). */
export function areaOf(specId: string): string {
  return specId.split('.')[0] ?? specId;
}

export function buildMatrix(doc: ResultsDoc): Matrix {
  const targets = doc.targets.map((t) => t.name);
  for (const r of doc.results) if (!targets.includes(r.target)) targets.push(r.target);
  const cells = new Map<string, MatrixCell>();
  const specs = new Set<string>();
  for (const r of doc.results) {
    specs.add(r.specId);
    const k = `${r.specId}\u0000${r.target}`;
    const c = cells.get(k) ?? { counts: {}, results: [] };
    c.counts[r.status] = (c.counts[r.status] ?? 0) + 1;
    c.results.push(r);
    cells.set(k, c);
  }
  const areas = new Map<string, string[]>();
  for (const s of [...specs].sort()) {
    const a = areaOf(s);
    areas.set(a, [...(areas.get(a) ?? []), s]);
  }
  return {
    targets,
    areas: new Map([...areas].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))),
    cell: (spec, target) => cells.get(`${spec}\u0000${target}`),
    areaCounts(area, target) {
      const out: Partial<Record<Status, number>> = {};
      for (const s of areas.get(area) ?? []) {
        const c = cells.get(`${s}\u0000${target}`);
        if (c) for (const [k, n] of Object.entries(c.counts)) out[k as Status] = (out[k as Status] ?? 0) + n;
      }
      return out;
    },
  };
}

/** The status that colours a cell: the worst one present. */
export function cellStatus(counts: Partial<Record<Status, number>>): Status | 'none' {
  return ORDER.find((s) => (counts[s] ?? 0) > 0) ?? 'none';
}

function countText(counts: Partial<Record<Status, number>>): string {
  const parts = ORDER.filter((s) => counts[s]).map((s) => `${counts[s]} ${s}`);
  return parts.length ? parts.join(', ') : '—';
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** An anchor name for a failure's diagnostics. */
export function failureAnchor(r: Result): string {
  return `f-${r.target}-${r.caseId}`.replace(/[^A-Za-z0-9_.-]+/g, '-');
}

function hoverText(c: MatrixCell): string {
  const lines = c.results.filter((r) => r.status !== 'pass').map((r) => `${r.status.toUpperCase()} ${r.caseId.slice(r.specId.length + 1)}: ${r.reason ?? ''}`);
  return lines.length ? lines.join('\n') : `${c.results.length} passed`;
}

const CSS = `body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222}
table{border-collapse:collapse}th,td{border:1px solid #ccc;padding:3px 7px;text-align:left;vertical-align:top}
th{background:#f3f3f3}tr.area th{background:#e4e8f0}td.pass{background:#d9f2d9}td.fail,td.error,td.xpass{background:#f8d0d0}
td.xfail{background:#fbe9c6}td.skip{background:#eee;color:#666}td.none{background:#fff;color:#aaa}
code{font-size:90%}pre{white-space:pre-wrap;background:#f7f7f7;padding:.5em}td a{color:inherit}`;

/** One self-contained HTML page: summary per target, the matrix by area, then every failure. */
export function renderMatrixHtml(doc: ResultsDoc): string {
  const m = buildMatrix(doc);
  const h: string[] = [];
  h.push(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>sysabi conformance matrix ${esc(doc.run.id)}</title><style>${CSS}</style></head><body>`);
  h.push(`<h1>sysabi conformance matrix</h1><p>Run <code>${esc(doc.run.id)}</code>, ${esc(doc.run.started)}; host kernel ${esc(String(doc.run.host?.kernel ?? '?'))}.</p>`);
  h.push('<table id="targets"><thead><tr><th>target</th><th>version</th><th>profile</th><th>counts</th></tr></thead><tbody>');
  for (const t of doc.targets) {
    const p = t.profile as { name?: string; kernel?: string; vendor?: string } | undefined;
    const prof = p ? `${p.name ?? ''} (kernel ${p.kernel ?? '?'}, ${p.vendor ?? '?'})` : (t.reason ?? 'unavailable');
    h.push(`<tr><td>${esc(t.name)}</td><td>${esc(t.version ?? '—')}</td><td>${esc(prof)}</td><td>${esc(countText(t.counts))}</td></tr>`);
  }
  h.push('</tbody></table><h2>Specs × targets</h2>');
  h.push(`<table id="matrix"><thead><tr><th>spec</th>${m.targets.map((t) => `<th>${esc(t)}</th>`).join('')}</tr></thead><tbody>`);
  for (const [area, specs] of m.areas) {
    h.push(`<tr class="area"><th>${esc(area)} (${specs.length} specs)</th>${m.targets.map((t) => `<th title="${esc(countText(m.areaCounts(area, t)))}">${esc(countText(m.areaCounts(area, t)))}</th>`).join('')}</tr>`);
    for (const s of specs) {
      const title = doc.specs?.[s]?.title;
      h.push(`<tr data-spec="${esc(s)}"><td><code>${esc(s)}</code>${title ? `<br><small>${esc(title)}</small>` : ''}</td>`);
      for (const t of m.targets) {
        const c = m.cell(s, t);
        if (!c) {
          h.push('<td class="none">—</td>');
          continue;
        }
        const st = cellStatus(c.counts);
        const bad = c.results.find((r) => BAD.has(r.status)) ?? c.results.find((r) => r.status === 'xfail');
        const text = esc(countText(c.counts));
        h.push(`<td class="${st}" data-status="${st}" title="${esc(hoverText(c))}">${bad ? `<a href="#${failureAnchor(bad)}">${text}</a>` : text}</td>`);
      }
      h.push('</tr>');
    }
  }
  h.push('</tbody></table>');
  const failures = doc.results.filter((r) => BAD.has(r.status) || r.status === 'xfail');
  h.push(`<h2>Failures and expected failures (${failures.length})</h2>`);
  for (const r of failures) {
    const diffs = r.diffs.map((d) => `${d.field}: expected ${d.expected}, observed ${d.observed}${d.note ? ` (${d.note})` : ''}`).join('\n');
    h.push(`<section id="${failureAnchor(r)}"><h3>${esc(r.status.toUpperCase())} <code>${esc(r.caseId)}</code> on ${esc(r.target)}</h3>`);
    h.push(`<p>${esc(r.reason ?? '')}</p>${diffs ? `<pre>${esc(diffs)}</pre>` : ''}<p>Reproduce: <code>npx sysabi run --target '${esc(r.target)}' ${esc(r.caseId)}</code></p></section>`);
  }
  h.push('</body></html>\n');
  return h.join('\n');
}

/** The same matrix in Markdown (one row per spec, area rows in bold). */
export function renderMatrixMd(doc: ResultsDoc): string {
  const m = buildMatrix(doc);
  const cellMd = (c: Partial<Record<Status, number>>) => countText(c).replace(/\|/g, '\\|');
  const out: string[] = [`# sysabi conformance matrix — run ${doc.run.id}`, ''];
  out.push('| target | version | counts |', '|---|---|---|');
  for (const t of doc.targets) out.push(`| ${t.name} | ${t.version ?? '—'} | ${cellMd(t.counts)} |`);
  out.push('', `| spec | ${m.targets.join(' | ')} |`, `|---|${m.targets.map(() => '---').join('|')}|`);
  for (const [area, specs] of m.areas) {
    out.push(`| **${area}** | ${m.targets.map((t) => `**${cellMd(m.areaCounts(area, t))}**`).join(' | ')} |`);
    for (const s of specs) out.push(`| \`${s}\` | ${m.targets.map((t) => { const c = m.cell(s, t); return c ? cellMd(c.counts) : '—'; }).join(' | ')} |`);
  }
  out.push('');
  return out.join('\n');
}
