// The metadata rules of `sysabi lint` (harness/spec/metadata.ts): each rule refuses what it
// should with file:line:col, the corpus under specs/ passes all of them, and the lint command
// reports them.

import t from 'tap';
import { join } from 'node:path';
import { parseSpecText, loadSpecs, formatSpecError } from '../../harness/spec/load.js';
import { checkMetadata, areaOf, DESCRIPTION_MIN, TITLE_MAX } from '../../harness/spec/metadata.js';
import { lintCommand } from '../../harness/commands/lint.js';

const ROOT = join(import.meta.dirname, '..', '..');
const DESC = 'The kernel returns the process id in RAX; SYSCALL saved the return address in RCX and ' +
  'RFLAGS in R11 (arch/x86/entry/entry_64.S). The cases vary nothing but the ABI, so this is filler.';

/** A minimal valid spec, with overridable top-level lines. */
function spec(o: { head?: string; id?: string; title?: string; description?: string; refs?: string; tags?: string; covers?: string } = {}): string {
  return [
    '# yaml-language-server: $schema=../schema.json',
    o.head ?? '# getpid returns the pid.',
    `id: ${o.id ?? 'entry.meta_test'}`,
    `title: ${o.title ?? 'getpid returns the pid'}`,
    `description: ${o.description ?? DESC}`,
    o.covers ?? 'covers: [RG-01]',
    'refs:',
    o.refs ?? '  - kernel: arch/x86/entry/entry_64.S (entry_SYSCALL_64)',
    `tags: ${o.tags ?? '[entry]'}`,
    'abi: [x86_64]',
    'cases:',
    '  - name: getpid',
    '    call: getpid',
    '    expect: { ret: $pid }',
    '',
  ].join('\n');
}

function lint(text: string, file = 'specs/entry/meta.yaml'): string[] {
  const r = parseSpecText(file, text);
  if (!r.spec) throw new Error('fixture does not load: ' + r.errors.map(formatSpecError).join('; '));
  return checkMetadata(r.spec).map(formatSpecError);
}

t.test('a well-formed spec has no metadata errors', async (t) => {
  t.same(lint(spec()), []);
});

t.test('opening comment line', async (t) => {
  const e = lint(spec({ head: '' }));
  t.equal(e.length, 1);
  t.match(e[0], /^specs\/entry\/meta\.yaml:2:1: error: a spec opens with a comment line/);
  t.match(lint(spec({ head: 'id: x.y' }).replace(/^id: entry\.meta_test\n/m, ''))[0], /:2:1: .*found "id: x\.y"/);
});

t.test('title: one line, no full stop, bounded', async (t) => {
  t.match(lint(spec({ title: 'getpid returns the pid.' })), [/:4:8: error: the title ends without a full stop/]);
  t.match(lint(spec({ title: '"a\\nb"' })), [/:4:8: error: the title is one line/]);
  const long = 'x'.repeat(TITLE_MAX + 1);
  t.match(lint(spec({ title: long })), [new RegExp(`:4:8: error: the title is ${TITLE_MAX + 1} characters, at most ${TITLE_MAX}`)]);
  t.same(lint(spec({ title: 'x'.repeat(TITLE_MAX) })), []);
});

t.test('a plain title or case name cut by a " #" comment', async (t) => {
  t.match(lint(spec({ title: 'flags of a fault (#PF, #NP) have RF set' })), [/:4:8: error: the title is cut at "#NP\) have RF set": " #" starts a YAML comment; quote the title/]);
  t.same(lint(spec({ title: "'flags of a fault (#PF, #NP) have RF set'" })), [], 'quoted, the # is text');
  const named = spec().replace('  - name: getpid\n', '  - name: faults with #NP - SIGBUS\n');
  t.match(lint(named), [/:12:11: error: cases\[0\] name is cut at "#NP - SIGBUS": .*quote the name/]);
  t.same(lint(spec().replace('  - name: getpid\n', '  - name: getpid\n    # a comment on its own line is fine\n')), []);
  t.same(lint(spec().replace('title: getpid returns the pid', 'title: getpid returns the pid#1')), [], 'a # without a blank before it is text');
});

t.test('description length', async (t) => {
  const short = 'x'.repeat(DESCRIPTION_MIN - 1);
  t.match(lint(spec({ description: short })), [new RegExp(`:5:14: error: the description is ${DESCRIPTION_MIN - 1} characters, at least ${DESCRIPTION_MIN}`)]);
  t.match(lint(spec({ description: 'y'.repeat(5000) })), [/the description is 5000 characters, at most \d+: one behaviour per spec/]);
});

t.test('the id starts with the area directory', async (t) => {
  t.equal(areaOf('specs/return-path/x.yaml'), 'return_path');
  t.equal(areaOf('/a/b/specs/entry/x.yaml'), 'entry');
  t.equal(areaOf('test/spec/fixtures/good/x.yaml'), undefined, 'outside specs/<area>/ no rule applies');
  t.match(lint(spec({ id: 'flags.meta_test' })), [/:3:5: error: the id of a spec in specs\/entry\/ starts with "entry\."; found "flags\.meta_test"/]);
  t.same(lint(spec({ id: 'return_path.meta' }), 'specs/return-path/m.yaml'), []);
  t.same(lint(spec({ id: 'whatever.meta' }), 'elsewhere/m.yaml'), []);
});

t.test('refs have a checkable shape', async (t) => {
  const refs = (r: string) => lint(spec({ refs: r }));
  t.match(refs('  - kernel: entry_64.S (entry_SYSCALL_64)'), [/:8:13: error: a kernel ref starts with a path in the kernel tree .*found "entry_64\.S"/]);
  t.match(refs('  - kernel: linux/arch/x86/entry/entry_64.S'), [/found "linux\/arch/]);
  t.same(refs('  - kernel: Documentation/arch/x86/entry_64.rst'), []);
  t.match(refs('  - selftest: x86/sysret_rip.c'), [/a selftest ref starts with its path under tools\/testing\/selftests\//]);
  t.same(refs('  - selftest: tools/testing/selftests/x86/sysret_rip.c (test_sigreturn_to)'), []);
  t.match(refs('  - commit: the x32 split'), [/a commit ref gives the commit id \(12\+ hex digits\) or its quoted subject line/]);
  t.match(refs('  - commit: 6365b84 "x"'.replace(' "x"', '')), [/commit id/], 'a 7-digit id is too short to check');
  t.same(refs(`  - commit: '6365b842aae4 "x86/syscalls: Split the x32 syscalls into their own table"'`), []);
  t.same(refs(`  - commit: '"x86/entry/64/compat: Preserve r8-r11 in int $0x80" (v4.17)'`), []);
  t.match(refs('  - manual: SYSCALL instruction'), [/a manual ref names the manual/]);
  t.same(refs('  - manual: AMD APM Vol. 3, SYSCALL'), []);
  t.match(refs('  - url: see the mailing list'), [/a url ref is one http\(s\) address/]);
  const two = refs('  - kernel: arch/x86/entry/entry_64.S\n  - kernel: arch/x86/entry/entry_64.S');
  t.match(two, [/:9:5: error: refs\[1\] repeats refs\[0\]/]);
});

t.test('no duplicate tags or covers', async (t) => {
  t.match(lint(spec({ tags: '[entry, flags, entry]' })), [/:9:22: error: tags lists "entry" twice \(tags\[0\] and tags\[2\]\)/]);
  t.match(lint(spec({ covers: 'covers: [RG-01, RG-01]' })), [/covers lists "RG-01" twice/]);
});

t.test('every spec under specs/ meets the metadata rules', async (t) => {
  const { specs } = await loadSpecs([join(ROOT, 'specs')]);
  t.ok(specs.length > 100, `the corpus loads (${specs.length} specs)`);
  const errs = specs.flatMap((s) => checkMetadata(s)).map(formatSpecError);
  t.same(errs, [], 'no metadata errors');
});

t.test('the lint command reports metadata errors and counts the spec as not ok', async (t) => {
  const { mkdtemp, mkdir, writeFile, rm } = await import('node:fs/promises');
  const { tmpdir } = await import('node:os');
  const dir = await mkdtemp(join(tmpdir(), 'sysabi-meta-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await mkdir(join(dir, 'specs', 'entry'), { recursive: true });
  await writeFile(join(dir, 'specs', 'entry', 'a.yaml'), spec({ title: 'getpid returns the pid.' }));
  await writeFile(join(dir, 'specs', 'entry', 'b.yaml'), spec({ id: 'entry.other' }));
  let out = ''; let err = '';
  const code = await lintCommand([join(dir, 'specs')], { write: (s: string) => { out += s; } }, { write: (s: string) => { err += s; } }, { strict: true });
  t.equal(code, 2);
  t.equal(out, '');
  t.match(err, /a\.yaml:4:8: error: the title ends without a full stop/);
  t.match(err, /lint: 1 error in 1 file; 1 spec \(1 cases\) ok\n$/);
});

t.test('without --strict the metadata rules leave specs outside the corpus alone', async (t) => {
  const { mkdtemp, mkdir, writeFile, rm } = await import('node:fs/promises');
  const { tmpdir } = await import('node:os');
  const dir = await mkdtemp(join(tmpdir(), 'sysabi-meta-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await mkdir(join(dir, 'specs', 'entry'), { recursive: true });
  await writeFile(join(dir, 'specs', 'entry', 'a.yaml'), spec({ title: 'getpid returns the pid.' }));
  let out = ''; let err = '';
  const code = await lintCommand([join(dir, 'specs')], { write: (s: string) => { out += s; } }, { write: (s: string) => { err += s; } });
  t.equal(code, 0, err);
  t.match(out, /lint: 1 spec, 1 cases, no errors/);
});
