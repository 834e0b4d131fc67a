// Expectation files: what a valid file means (exact ids beat globs) and how each kind of
// mistake is refused, with the line and column of the mistake.

import t from 'tap';
import { expectationFileNames, formatExpectationError, globToRegExp, parseExpectations } from '../../harness/expectations.js';

const err = (text: string) => parseExpectations(text, 'x.yaml').errors.map(formatExpectationError);

t.test('lookups: an exact id wins over a glob, globs in order', async (t) => {
  const { set, errors } = parseExpectations(
    `target: qemu
version: "7.2"
expectations:
  - { case: "a.b/*", expect: skip, reason: glob one }
  - { case: "a.*@i386", expect: fail, reason: glob two }
  - { case: a.b/c@i386, expect: fail, reason: exact, link: https://x }
`,
    'x.yaml',
  );
  t.same(errors, []);
  t.equal(set!.lookup('a.b/c@i386')!.reason, 'exact');
  t.equal(set!.lookup('a.b/d@i386')!.reason, 'glob one');
  t.equal(set!.lookup('a.c/d@i386')!.reason, 'glob two');
  t.equal(set!.lookup('a.c/d@x86_64'), undefined);
  t.equal(set!.entries[2]!.line, 6);
  t.ok(globToRegExp('a.b/x?y').test('a.b/xzy'));
  t.notOk(globToRegExp('a.b/x?y').test('a.bxx/xzy'), 'dots are literal');
});

t.test('mistakes are refused with file:line:col', async (t) => {
  t.match(err('- { case: a.b/c@i386, expect: fail, reason: x\n')[0], /^x\.yaml:\d+:\d+: YAML: /);
  t.same(err('- case: a.b/c@i386\n  expect: fial\n  reason: x\n'), ['x.yaml:2:11: 0.expect: expected one of "fail", "skip"']);
  t.same(err('- case: a.b/c@i386\n  expect: fail\n  reason: x\n  reson: y\n'), ['x.yaml:4:3: unknown key "reson" at 0 (expected case, expect, reason, link)']);
  t.same(err('- case: a.b/c@i386\n  expect: fail\n'), ['x.yaml:1:3: 0.reason: expected string, but it is missing']);
  t.same(err('- case: a.b/c@i386\n  expect: fail\n  reason: "  "\n'), ['x.yaml:3:11: 0.reason: a reason saying why (evidence, not a shrug)']);
  t.same(err('- case: getpid\n  expect: fail\n  reason: x\n'), ['x.yaml:1:9: case "getpid" is not a case id (expected <spec id>/<case slug>@<x86_64|i386|x32>, or a glob with * or ?)']);
  t.same(err('- { case: a.b/c@i386, expect: fail, reason: x }\n- { case: a.b/c@i386, expect: skip, reason: y }\n'), ['x.yaml:2:11: case "a.b/c@i386" is listed twice (first at line 1)']);
  t.same(err('expectations:\n  - { case: a.b/c@i386, expect: fail, reason: x }\nextra: 1\n'), ['x.yaml:3:1: unknown key "extra" at (top level) (expected case, expect, reason, link)']);
  t.same(err('a: 1\na: 2\n'), ['x.yaml:2:1: YAML: Map keys must be unique']);
  t.same(err('42\n'), ['x.yaml:1:1: (top level): expected a list of entries, or a map with "expectations:" (and optional "target", "version")']);
  t.same(err('expectations: 3\n'), ['x.yaml:1:15: expectations: expected array']);
});

t.test('file names: version-specific first, ":" becomes "-"', async (t) => {
  t.same(expectationFileNames('sim:linux-7.0-amd'), ['sim-linux-7.0-amd.yaml']);
  t.same(expectationFileNames('qemu', '7.2.0'), ['qemu-7.2.0.yaml', 'qemu.yaml']);
  t.same(expectationFileNames('exec:qemu-x86_64 {probe}'), ['exec-qemu-x86_64-probe.yaml']);
});
