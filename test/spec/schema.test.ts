// specs/schema.json must match the zod schema it is generated from (a stale schema would
// make editors accept or refuse the wrong things), and spec files carry the modeline.

import t from 'tap';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { renderSchema } from '../../harness/spec/gen-schema.js';
import { repoRoot } from '../../harness/spec/paths.js';

t.test('committed specs/schema.json is up to date', async (t) => {
  const committed = readFileSync(join(repoRoot(), 'specs', 'schema.json'), 'utf8');
  t.ok(committed === renderSchema(), 'specs/schema.json is stale: run node --import tsx harness/spec/gen-schema.ts');
});

t.test('schema is strict and carries the closed vocabularies', async (t) => {
  const s = JSON.parse(renderSchema());
  t.equal(s.additionalProperties, false, 'unknown top-level keys refused');
  t.same(s.required.sort(), ['cases', 'description', 'id', 'refs', 'tags', 'title']);
  t.ok(s.properties.tags.items.enum.includes('registers'), 'tags from specs/tags.yaml');
  t.ok(JSON.stringify(s).includes('"SEGV_MAPERR"') || JSON.stringify(s).includes('EFAULT'), 'names are enums');
});

t.test('every spec under specs/ carries the yaml-language-server modeline', async (t) => {
  const root = join(repoRoot(), 'specs');
  const files: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d)) {
      const p = join(d, e);
      if (statSync(p).isDirectory()) walk(p);
      else if (p.endsWith('.yaml') && e !== 'tags.yaml') files.push(p);
    }
  };
  walk(root);
  for (const f of files) {
    const depth = f.slice(root.length + 1).split('/').length - 1;
    const want = `# yaml-language-server: $schema=${'../'.repeat(depth) || './'}schema.json`;
    t.ok(readFileSync(f, 'utf8').startsWith(want), `${f.slice(root.length + 1)} starts with "${want}"`);
  }
});
