// docs/coverage.md's tables are generated from the corpus (harness/spec/gen-coverage.ts): the
// committed ones must be current, and the splicer must keep the hand-written prose around them.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { coverageDoc, renderTables, splice } from '../../harness/spec/gen-coverage.js';

t.test('docs/coverage.md tables are current (run `make coverage-doc` after changing specs)', async (t) => {
  const doc = readFileSync(coverageDoc(), 'utf8');
  const tables = await renderTables();
  t.equal(splice(doc, tables), doc);
  t.match(tables.catalogue, /\d+ of \d+ catalogue ids covered\./);
  t.match(tables.areas, /^\| area \| specs \| cases \| x86_64 \| i386 \| x32 \|/);
});

t.test('splice replaces only the marked blocks and refuses a document without them', async (t) => {
  const doc = 'intro\n<!-- generated: areas -->\nold\n<!-- /generated -->\nmiddle\n<!-- generated: catalogue -->\nold\n<!-- /generated -->\nend';
  t.equal(splice(doc, { areas: 'A', catalogue: 'C' }), 'intro\n<!-- generated: areas -->\nA\n<!-- /generated -->\nmiddle\n<!-- generated: catalogue -->\nC\n<!-- /generated -->\nend');
  t.throws(() => splice('no markers', { areas: 'A' }), /no <!-- generated: areas -->/);
});
