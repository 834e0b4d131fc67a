// The report formats, parsed back: TAP 14 through tap-parser (counts at every level, SKIP and
// TODO directives, YAML diagnostics), KTAP's shape line by line, junit.xml through a small
// XML reader, and results.json through fromJson (bigints come back).

import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { Parser } from 'tap-parser';
import { fromJson } from '../../harness/json.js';
import { renderJson } from '../../harness/report/json.js';
import { renderJunit } from '../../harness/report/junit.js';
import { ktapExitCode, renderKtap } from '../../harness/report/ktap.js';
import { caseIndex, type ReportInput } from '../../harness/report/model.js';
import { renderTap, renderTargetTap } from '../../harness/report/tap.js';
import { writeReportDir } from '../../harness/report/write.js';
import { runAll, type RunReport } from '../../harness/run.js';
import { createFakeTarget } from '../../harness/targets/fake.js';
import { makeCase, returned, testApi } from '../run/fixtures/cases.js';
import { parseXml, type XmlNode } from './fixtures/xml.js';

const noExp = mkdtempSync(join(tmpdir(), 'sysabi-noexp-'));

/** A run with every status: pass, fail, skip, xfail, xpass, error, on two targets. */
async function mixedRun(): Promise<ReportInput> {
  const cases = [
    makeCase('entry.one', 'ok', 'x86_64'),
    makeCase('entry.one', 'bad-rax', 'x86_64', { ret: 0x1234n }),
    makeCase('entry.one', 'ok', 'x32'),
    makeCase('entry.two', 'crash', 'i386'),
    makeCase('entry.two', 'slow', 'i386'),
    makeCase('entry.two', 'has # hash', 'x86_64', { skipReason: 'not on x86_64 # really' }),
  ];
  const dir = mkdtempSync(join(tmpdir(), 'sysabi-exp-'));
  const { writeFileSync } = await import('node:fs');
  writeFileSync(
    join(dir, 'emu.yaml'),
    '- { case: entry.one/bad-rax@x86_64, expect: fail, reason: emu returns 0 }\n- { case: entry.one/ok@x86_64, expect: fail, reason: was broken }\n',
  );
  const script = (c: { id: string }) =>
    c.id === 'entry.two/crash@i386'
      ? { throw: 'probe crashed' }
      : c.id === 'entry.two/slow@i386'
        ? { ...returned(0n), outcome: 'timeout' as const, reason: 'killed after 5000 ms' }
        : returned(0n);
  const report = await runAll(cases, {
    targets: [createFakeTarget({ name: 'ref', noAbi: { x32: 'no x32' }, script }), createFakeTarget({ name: 'emu', script })],
    api: testApi,
    expectationsDir: dir,
    batchSize: 1,
  });
  return { report, cases: caseIndex(cases) };
}

interface Point {
  depth: number;
  ok: boolean;
  name: string;
  skip: boolean | string;
  todo: boolean | string;
  diag: Record<string, unknown> | null;
}

function parseTap(text: string): Promise<{ points: Point[]; ok: boolean; failures: unknown[] }> {
  return new Promise((resolve) => {
    const points: Point[] = [];
    const watch = (p: Parser, depth: number) => {
      p.on('assert', (r: Point) => points.push({ depth, ok: r.ok, name: r.name, skip: r.skip, todo: r.todo, diag: r.diag }));
      p.on('child', (c: Parser) => watch(c, depth + 1));
    };
    const parser = new Parser({ strict: true }, (res) => resolve({ points, ok: res.ok, failures: res.failures }));
    watch(parser, 0);
    parser.end(text);
  });
}

t.test('TAP 14 parses back with the right counts at every level', async (t) => {
  const input = await mixedRun();
  const tap = renderTap(input);
  t.match(tap, /^TAP version 14\n1\.\.2\n/);
  const { points, ok, failures } = await parseTap(tap);
  t.equal(ok, false, 'the document fails: there are unexpected results');
  t.same(failures.filter((f) => (f as { tapError?: string }).tapError), [], 'no TAP syntax errors');
  const top = points.filter((p) => p.depth === 0);
  t.same(top.map((p) => [p.name, p.ok]), [['ref', false], ['emu', false]]);
  const specs = points.filter((p) => p.depth === 1);
  t.equal(specs.length, 4, 'two specs under each target');
  const leaves = points.filter((p) => p.depth === 2);
  t.equal(leaves.length, 12, 'six cases under each target');
  const ref = leaves.slice(0, 6);
  t.same(ref.map((p) => p.name), ['ok@x86_64', 'bad-rax@x86_64', 'ok@x32', 'crash@i386', 'slow@i386', 'has-\\#-hash@x86_64'.replace('has-\\#-hash', 'has # hash')]);
  t.same(ref.map((p) => p.ok), [true, false, true, false, false, true]);
  t.match(ref[2]!.skip, /x32 not available on ref: no x32/);
  t.match(ref[5]!.skip, /not on x86_64/);
  const emu = leaves.slice(6);
  t.match(emu[1]!.todo, /expected failure: emu returns 0/, 'XFAIL is a TODO');
  t.equal(emu[0]!.ok, false, 'XPASS is not ok');
  t.equal(emu[0]!.diag?.status, 'xpass');
  // The failure's diagnostic: per-register hex, refs, reproduce.
  const d = ref[1]!.diag!;
  t.equal(d.status, 'fail');
  t.same(d.diffs, [{ field: 'rax', expected: '0x1234', observed: '0x0' }]);
  t.same(d.registers, { rax: { before: '0x27', after: '0x0' } });
  t.same(d.refs, ['kernel: arch/x86/entry/entry_64.S (entry_SYSCALL_64)']);
  t.equal(d.reproduce, 'npx sysabi run --target ref entry.one/bad-rax@x86_64');
  t.equal(d.at, 'specs/test/entry.one.yaml:7');
  t.match(ref[3]!.diag, { status: 'error', message: /probe crashed/ });
  t.match(ref[4]!.diag, { status: 'fail', outcome: /timeout \(killed after 5000 ms\)/ });
  t.match(tap, /\n# ref: pass 1 fail 2 skip 2 xfail 0 xpass 0 error 1\n# emu: pass 1 fail 1 skip 1 xfail 1 xpass 1 error 1\n# total: pass 2 fail 3 skip 3 xfail 1 xpass 1 error 2\n$/);
});

t.test('a target that is all skipped, and a per-target TAP file', async (t) => {
  const cases = [makeCase('a.b', 'x', 'x86_64')];
  const report = await runAll(cases, { targets: ['module:/nonexistent/t.js'], api: testApi, expectationsDir: noExp });
  const input = { report, cases: caseIndex(cases) };
  const { points, ok } = await parseTap(renderTap(input));
  t.ok(ok, 'skips do not fail');
  t.match(points.find((p) => p.depth === 0)!.skip, /target not available/);
  const single = await parseTap(renderTargetTap(report.targets[0]!, input));
  t.ok(single.ok);
  t.same(single.points.filter((p) => p.depth === 0).map((p) => p.name), ['a.b']);
  t.equal(ktapExitCode(report), 4, 'kselftest: everything skipped → 4');
});

t.test('KTAP version 1 shape', async (t) => {
  const input = await mixedRun();
  const lines = renderKtap(input).trimEnd().split('\n');
  t.same(lines.slice(0, 2), ['KTAP version 1', '1..2']);
  // Every level opens with its own version line and plan, indented two spaces per level.
  for (let i = 0; i < lines.length; i++) {
    const m = /^( *)KTAP version 1$/.exec(lines[i]!);
    if (m) t.match(lines[i + 1], new RegExp(`^${m[1]}1\\.\\.\\d+$`), `plan follows the version line at ${i + 1}`);
  }
  for (const l of lines) {
    const r = /^( *)(not ok|ok) (\d+) ([^#]*?)(?: # (.*))?$/.exec(l);
    if (!r) {
      t.match(l, /^( *)(KTAP version 1|1\.\.\d+|# .*)$/, `only versions, plans, results and diagnostics: ${l}`);
      continue;
    }
    t.equal(r[1]!.length % 2, 0, 'two spaces per level');
    if (r[5]) t.match(r[5], /^(SKIP|XFAIL|TIMEOUT|ERROR)\b/, `known directive: ${l}`);
    if (r[5]?.startsWith('TIMEOUT') || r[5]?.startsWith('ERROR')) t.equal(r[2], 'not ok', 'TIMEOUT and ERROR are not ok');
  }
  const body = lines.join('\n');
  t.match(body, /\n    not ok 1 crash@i386 # ERROR target ref failed while running this batch: probe crashed\n/);
  t.match(body, /\n    not ok 2 slow@i386 # TIMEOUT /);
  t.match(body, /\n    ok 2 bad-rax@x86_64 # XFAIL emu returns 0/);
  t.match(body, /\n    # rax: expected 0x1234, observed 0x0\n    # reproduce: npx sysabi run --target ref entry\.one\/bad-rax@x86_64\n    not ok 2 bad-rax@x86_64\n/);
  t.match(body, /\n    # XPASS: listed as expected to fail/);
  t.match(body, /ok 3 has  hash@x86_64 # SKIP/, 'no # inside a KTAP description');
  t.match(lines.at(-1), /^# Totals: pass:2 fail:3 xfail:1 xpass:1 skip:3 error:2$/);
  t.equal(ktapExitCode(input.report), 1);
});

t.test('junit.xml: one suite per target and spec, statuses mapped', async (t) => {
  const input = await mixedRun();
  const root = parseXml(renderJunit(input));
  t.equal(root.name, 'testsuites');
  const suites = root.children.filter((c) => c.name === 'testsuite');
  t.same(suites.map((s) => s.attrs.name), ['ref entry.one', 'ref entry.two', 'emu entry.one', 'emu entry.two']);
  const cases = (s: XmlNode) => s.children.filter((c) => c.name === 'testcase');
  const kind = (c: XmlNode) => c.children.find((x) => ['failure', 'error', 'skipped'].includes(x.name))?.name ?? 'pass';
  t.same(cases(suites[0]!).map(kind), ['pass', 'failure', 'skipped']);
  t.same(cases(suites[1]!).map(kind), ['error', 'failure', 'skipped']);
  t.same(cases(suites[2]!).map(kind), ['failure', 'pass', 'pass'], 'XPASS fails, XFAIL passes');
  t.equal(suites[0]!.attrs.tests, '3');
  t.equal(suites[0]!.attrs.failures, '1');
  t.equal(suites[1]!.attrs.errors, '1');
  const fail = cases(suites[0]!)[1]!;
  t.equal(fail.attrs.name, 'entry.one/bad-rax@x86_64');
  t.equal(fail.attrs.classname, 'ref.entry.one');
  const f = fail.children.find((x) => x.name === 'failure')!;
  t.match(f.attrs.message, /rax: expected 0x1234, observed 0x0/);
  t.match(f.text, /reproduce: npx sysabi run --target ref entry\.one\/bad-rax@x86_64/);
});

t.test('results.json: run info, targets, every result with its observation', async (t) => {
  const input = await mixedRun();
  const doc = fromJson<{
    format: string;
    run: RunReport['info'];
    targets: { name: string; counts: Record<string, number>; version: string; profile: { name: string }; expectationsFile: string | null }[];
    specs: Record<string, { refs: string[] }>;
    results: { caseId: string; status: string; observation?: { after?: { rax?: bigint }; env: { pid?: bigint } } }[];
  }>(renderJson(input));
  t.equal(doc.format, 'sysabi-results');
  t.equal(doc.run.host.node, process.version);
  t.type(doc.run.host.kernel, 'string');
  t.equal(doc.run.sysabi, JSON.parse(readFileSync('package.json', 'utf8')).version);
  t.same(doc.targets.map((x) => [x.name, x.counts.pass, x.profile.name, x.version]), [['ref', 1, 'fake', '1.0'], ['emu', 1, 'fake', '1.0']]);
  t.match(doc.targets[1]!.expectationsFile, /emu\.yaml$/);
  t.equal(doc.results.length, 12);
  const r = doc.results.find((x) => x.caseId === 'entry.one/bad-rax@x86_64')!;
  t.equal(r.observation!.env.pid, 1234n, 'bigints round-trip as hex strings');
  t.equal(r.observation!.after!.rax, 0n);
  t.same(doc.specs['entry.one']!.refs, ['kernel: arch/x86/entry/entry_64.S (entry_SYSCALL_64)']);
});

t.test('reports/<run>/ holds a .tap per target, results.json, junit.xml and the matrix', async (t) => {
  const input = await mixedRun();
  const out = mkdtempSync(join(tmpdir(), 'sysabi-out-'));
  const w = await writeReportDir(out, input);
  t.equal(w.dir, join(out, input.report.info.id));
  t.same(readdirSync(w.dir).sort(), ['emu.tap', 'junit.xml', 'matrix.html', 'matrix.md', 'ref.tap', 'results.json']);
  const ref = await parseTap(readFileSync(join(w.dir, 'ref.tap'), 'utf8'));
  t.equal(ref.points.filter((p) => p.depth === 1).length, 6, 'the target file has the cases one level down');
});

t.test('reproduce: names the spec file outside the package specs/, and --destructive when needed', async (t) => {
  const { reproduceCommand } = await import('../../harness/report/model.js');
  const r = { caseId: 'entry.one/bad-rax@x86_64', specId: 'entry.one', abi: 'x86_64' as const, target: 'sim:linux-7.0-amd', status: 'fail' as const, diffs: [] };
  const inPackage = makeCase('entry.one', 'bad-rax', 'x86_64');
  inPackage.spec.file = join(import.meta.dirname, '..', '..', 'specs', 'entry', 'one.yaml');
  t.equal(reproduceCommand(r, inPackage), 'npx sysabi run --target sim:linux-7.0-amd entry.one/bad-rax@x86_64', 'a package spec: the id is enough');
  const outside = makeCase('entry.one', 'bad-rax', 'x86_64');
  outside.spec.file = '/tmp/my specs/one.yaml';
  t.equal(reproduceCommand(r, outside), "npx sysabi run --target sim:linux-7.0-amd '/tmp/my specs/one.yaml' entry.one/bad-rax@x86_64", 'another file is named, shell-quoted');
  const destructive = makeCase('entry.one', 'bad-rax', 'x86_64', { requires: { destructive: true } });
  t.match(reproduceCommand(r, destructive), /^npx sysabi run --target sim:linux-7\.0-amd --destructive /, 'a destructive case would SKIP without the flag');
  t.equal(reproduceCommand(r), 'npx sysabi run --target sim:linux-7.0-amd entry.one/bad-rax@x86_64', 'without the case: the id alone');
});

t.test('TAP notes: a few unused expectation entries one by one, the rest counted per file', async (t) => {
  const input = await mixedRun();
  const emu = input.report.targets.find((x) => x.name === 'emu')!;
  const many = Array.from({ length: 8 }, (_, i) => ({ case: `gone.spec/c${i}@x86_64`, file: i < 6 ? 'suites/expectations/emu.yaml' : 'other.yaml', line: i + 1 }));
  emu.unusedExpectations = many;
  const tap = renderTap(input);
  const notes = tap.split('\n').filter((l) => l.startsWith('# note:'));
  t.equal(notes.length, 6, 'five listed, then one summary');
  t.match(notes[0], /^# note: suites\/expectations\/emu\.yaml:1: expectation for "gone\.spec\/c0@x86_64" matched no case of this run$/);
  t.match(notes[5], /^# note: 3 more entries of suites\/expectations\/emu\.yaml, other\.yaml matched no case of this run/);
  const counts = await new Promise<boolean>((resolve) => {
    const p = new Parser((res) => resolve(res.ok));
    p.end(tap);
  });
  t.equal(counts, false, 'still valid TAP (the run has failures, so not ok)');
  emu.unusedExpectations = many.slice(0, 5);
  t.equal(renderTap(input).split('\n').filter((l) => l.startsWith('# note:')).length, 5, 'five or fewer: all listed, no summary');
});
