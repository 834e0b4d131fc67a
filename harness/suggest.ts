// "Did you mean" for case ids on the command line: the ids closest to one that matched
// nothing, so a typo in `sysabi run <id>` or `sysabi explain <id>` ends with the right id
// to paste instead of a trip through `sysabi list`.

import { editDistance } from './spec/errors.js';

interface Parts {
  spec: string;
  slug: string;
  abi: string;
}

function parts(id: string): Parts {
  const l = id.toLowerCase();
  const slash = l.indexOf('/');
  const spec = slash < 0 ? l : l.slice(0, slash);
  const rest = slash < 0 ? '' : l.slice(slash + 1);
  const at = rest.lastIndexOf('@');
  return at < 0 ? { spec, slug: rest, abi: '' } : { spec, slug: rest.slice(0, at), abi: rest.slice(at + 1) };
}

/** How far apart two names may be and still look like a typo of each other. */
const budget = (s: string, per: number) => Math.max(2, Math.floor(s.length / per));

/** Slug closeness: 0 same, 0.5 a prefix of it (a partial slug such as `getpid`), else the distance within budget. */
function slugScore(wanted: string, cand: string): number {
  if (wanted === cand) return 0;
  if (wanted && cand.startsWith(wanted)) return 0.5;
  const d = editDistance(wanted, cand);
  return d <= budget(wanted, 4) ? d : Infinity;
}

/**
 * Up to `max` known ids close to `wanted`, best first. For a case id (with a `/`) the spec
 * part and the slug are compared separately, so a typo in either still finds the case, a
 * partial slug finds the cases it starts, and a case asked for an ABI it does not run on
 * offers the ABIs it has. Results keep `wanted`'s shape: with `@abi` when it has one. A spec
 * id or prefix (no `/`) is compared with spec ids; a bare word matching none (`getpid`)
 * finds the case ids containing it.
 */
export function nearestIds(wanted: string, caseIds: readonly string[], max = 5): string[] {
  const w = parts(wanted);
  const hasSlash = wanted.includes('/');
  const scored = new Map<string, number>();
  const offer = (id: string, score: number) => {
    if (score < (scored.get(id) ?? Infinity)) scored.set(id, score);
  };
  if (hasSlash) {
    const shape = (id: string) => (w.abi ? id : id.replace(/@[^@]*$/, ''));
    for (const id of caseIds) {
      const c = parts(id);
      const ds = editDistance(w.spec, c.spec);
      if (ds > budget(w.spec, 6)) continue;
      const sl = slugScore(w.slug, c.slug);
      if (sl === Infinity) continue;
      offer(shape(id), ds + sl + (w.abi && c.abi !== w.abi ? 0.25 : 0));
    }
    // The slug exists, but under another spec: offer those.
    if (!scored.size) for (const id of caseIds) if (parts(id).slug === w.slug) offer(shape(id), 0);
  } else {
    for (const id of caseIds) {
      const spec = parts(id).spec;
      const d = editDistance(w.spec, spec);
      if (d <= budget(w.spec, 5)) offer(spec, d);
      else if (spec.startsWith(w.spec + '.') || spec.startsWith(w.spec)) offer(spec, budget(w.spec, 5) + 1);
    }
    if (!scored.size) for (const id of caseIds) if (id.toLowerCase().includes(w.spec)) offer(id, 0);
  }
  return [...scored]
    .sort((a, b) => a[1] - b[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .slice(0, max)
    .map(([id]) => id);
}

/** The message for ids that matched no case, with the closest ids when there are any. */
export function noMatchMessage(unmatched: readonly string[], caseIds: readonly string[]): string {
  const lines = unmatched.map((u) => {
    const near = nearestIds(u, caseIds);
    return near.length ? `no case matches "${u}"; did you mean:\n${near.map((n) => `  ${n}`).join('\n')}` : `no case matches "${u}"`;
  });
  return `${lines.join('\n')}\n(\`sysabi list\` prints every id; ids look like spec.id/case-slug@abi)`;
}
