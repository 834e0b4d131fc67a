// Every class of spec error is refused with the exact file:line:col of the offending node.
// Each fixture under test/spec/fixtures/errors/ declares its expected errors in
// `# expect-error: LINE:COL text` comments; this test holds the loader to them.

import t from 'tap';
import { readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { loadSpecs, formatSpecError, parseSpecText } from '../../harness/spec/load.js';

const dir = join(import.meta.dirname, 'fixtures');

function expected(file: string): { line: number; col: number; text: string }[] {
  return readFileSync(file, 'utf8').split('\n').flatMap((l) => {
    const m = /^# expect-error: (\d+):(\d+) (.*)$/.exec(l);
    return m ? [{ line: Number(m[1]), col: Number(m[2]), text: m[3]! }] : [];
  });
}

const files = readdirSync(join(dir, 'errors')).filter((f) => f.endsWith('.yaml')).sort();

t.test('each error fixture yields exactly its declared errors', async (t) => {
  t.ok(files.length >= 20, `enough error fixtures (${files.length})`);
  for (const f of files) {
    const path = join(dir, 'errors', f);
    const want = expected(path);
    t.ok(want.length > 0, `${f} declares its errors`);
    const { specs, errors } = await loadSpecs([path]);
    t.equal(specs.length, 0, `${f}: a spec with errors is not returned`);
    t.equal(errors.length, want.length, `${f}: ${errors.map(formatSpecError).join(' | ')}`);
    for (let i = 0; i < want.length; i++) {
      const e = errors[i];
      const w = want[i]!;
      t.same(e && [e.line, e.col], [w.line, w.col], `${f}: position of "${w.text}"`);
      t.ok(e?.message.includes(w.text), `${f}: message has "${w.text}" (got: ${e?.message})`);
      t.equal(e?.file, relative(process.cwd(), path), `${f}: error names its file (relative to the working directory)`);
    }
  }
});

t.test('duplicate spec id across files points at the second id and names the first', async (t) => {
  const { errors, specs } = await loadSpecs([join(dir, 'dup-id')]);
  t.equal(errors.length, 1);
  const e = errors[0]!;
  t.match(e.file, /b\.yaml$/);
  t.same([e.line, e.col], [2, 5]);
  t.match(e.message, /duplicate spec id "test\.dup" \(first defined at .*a\.yaml:1:5\)/);
  t.equal(specs.length, 1, 'the first spec still loads');
});

t.test('errors from every file are collected, not just the first', async (t) => {
  const { errors } = await loadSpecs([join(dir, 'errors')]);
  const withErrors = new Set(errors.map((e) => e.file.split('/').pop()));
  t.equal(withErrors.size, files.length, 'one or more errors from each fixture');
});

t.test('formatSpecError is file:line:col: error: message', async (t) => {
  t.equal(formatSpecError({ file: 'a.yaml', line: 3, col: 7, message: 'boom' }), 'a.yaml:3:7: error: boom');
});

t.test('a missing path is an error, not an exception', async (t) => {
  const { errors } = await loadSpecs([join(dir, 'no-such-dir')]);
  t.equal(errors.length, 1);
  t.match(errors[0]!.message, /no such file or directory/);
});

t.test('structure errors a spec author will hit', async (t) => {
  const head = 'id: a.b\ntitle: t\ndescription: d\nrefs: [{kernel: k}]\ntags: [entry]\n';
  const cases = [
    // [yaml body, expected line:col, message fragment]
    ['', '1:1', 'empty file'],
    ['- 1\n', '1:1', 'found a list'],
    [head + 'cases: []\n', '6:8', 'needs at least 1 item'],
    [head + 'cases: [{name: a, call: getpid, expect: {ret: 1}}]\n---\nid: x\n', '7:1', 'one YAML document'],
    ['id: A.B\ntitle: t\ndescription: d\nrefs: [{kernel: k}]\ntags: [entry]\ncases: [{name: a, expect: {ret: 1}}]\n', '1:5', 'dotted lowercase id'],
    [head.replace('[{kernel: k}]', '[{kernel: k, url: u}]') + 'cases: [{name: a, call: getpid, expect: {ret: 1}}]\n', '4:8', 'one-key map'],
    [head + 'cases: [{name: a, call: getpid, expect: {ret: {errno: EFAULT, rangee: [1, 2]}}}]\n', '6:63', 'unknown key "rangee" in ret (did you mean "range"?)'],
    [head + 'cases: [{name: a, call: getpid, expect: {preserved: [rax, r99]}}]\n', '6:59', 'unknown register name "r99"'],
    [head + 'cases: [{name: a, call: getpid, timeout_ms: [1], expect: {ret: 1}}]\n', '6:45', 'expected an integer or a string, found a list'],
  ] as const;
  for (const [text, pos, frag] of cases) {
    const r = parseSpecText('x.yaml', text);
    const e = r.errors[0];
    t.ok(e, `an error for: ${frag}`);
    if (!e) continue;
    t.equal(`${e.line}:${e.col}`, pos, `position for "${frag}" (${e.message})`);
    t.ok(e.message.includes(frag), `"${frag}" in: ${e.message}`);
  }
});
