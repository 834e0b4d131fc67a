// A required key left out of a map is reported as missing — at the map that lacks it, with what
// the key takes and which keys the map has — whatever the key's type. Before, a key whose value
// is a closed-set name (an enum, or a name-or-{placeholder} union) read as 'unknown value
// "undefined"' at a position that was not in the file (harness/spec/doc.ts zodErrors).
import t from 'tap';
import { formatSpecError, parseSpecText } from '../../harness/spec/load.js';

const HEAD = 'id: a.b\ntitle: t\ndescription: d\nrefs: [{kernel: k}]\ntags: [entry]\nabi: [x86_64]\n';
const errs = (body: string) => parseSpecText('x.yaml', HEAD + body).errors.map(formatSpecError);

t.test('a missing enum key: said missing, at the enclosing map, with the keys it takes', async (t) => {
  // ptrace.at item without `stop` (a plain z.enum): the flow map opens at line 12, column 11.
  t.same(errs('cases:\n  - name: a\n    call: getpid\n    ptrace:\n      at:\n        - { n: 2 }\n    expect: {ret: 1}\n'),
    ['x.yaml:12:11: error: missing required key "stop" in cases[0].ptrace.at[0] (expected one of: entry, exit, seccomp); that map takes: stop (required), n, set, rewind, kill']);
  // breakpoint: {} — the one key is required.
  t.same(errs('cases:\n  - name: a\n    call: getpid\n    breakpoint: {}\n    expect: {ret: 1}\n'),
    ['x.yaml:10:17: error: missing required key "at" in cases[0].breakpoint (expected one of: next_ip); that map takes: at (required)']);
  // An expected ptrace stop and an ftrace event, inside expect.
  t.match(errs('cases:\n  - name: a\n    call: getpid\n    ptrace: {}\n    expect:\n      ret: 1\n      events:\n        - { sig: 5 }\n')[0],
    /^x\.yaml:14:11: error: missing required key "stop" in cases\[0\]\.expect\.events\[0\] \(expected one of: entry, exit, seccomp\); that map takes: stop \(required\), sig, /);
  t.match(errs('cases:\n  - name: a\n    call: getpid\n    ftrace: true\n    expect:\n      ftrace:\n        - { name: getpid }\n')[0],
    /^x\.yaml:13:11: error: missing required key "event" in cases\[0\]\.expect\.ftrace\[0\] \(expected one of: sys_enter, sys_exit\)/);
});

t.test('a missing name-or-placeholder key inside a union of shapes picks the map shape', async (t) => {
  // seccomp_install items are 'ok', an errno name, or {errno: NAME}: an empty map is the last.
  const [e] = errs('cases:\n  - name: a\n    call: getpid\n    expect:\n      seccomp_install: [{}]\n');
  t.match(e, /^x\.yaml:11:25: error: missing required key "errno" in cases\[0\]\.expect\.seccomp_install\[0\] \(expected one of: EPERM, /);
  t.match(e, /that map takes: errno \(required\)$/);
  t.notMatch(e, /unknown value/);
});

t.test('positions follow the file the key is missing from (defaults)', async (t) => {
  t.same(errs('defaults:\n  ptrace:\n    at:\n      - { n: 2 }\ncases:\n  - name: a\n    call: getpid\n    expect: {ret: 1}\n'),
    ['x.yaml:10:9: error: missing required key "stop" in defaults.ptrace.at[0] (expected one of: entry, exit, seccomp); that map takes: stop (required), n, set, rewind, kill']);
});

t.test('other keys: a string key and the top level keep the same wording, a long key list is cut', async (t) => {
  const [e] = errs('cases:\n  - call: getpid\n    expect: {ret: 1}\n');
  t.match(e, /^x\.yaml:8:5: error: missing required key "name" in cases\[0\] \(expected a string\); that map takes: name \(required\), abi, entry, /);
  t.match(e, /\(\d+ in all\)$/, 'the case keys are many: cut with a count');
  const top = parseSpecText('x.yaml', 'id: a.b\ndescription: d\nrefs: [{kernel: k}]\ntags: [entry]\ncases: [{name: a, call: getpid, expect: {ret: 1}}]\n').errors;
  t.equal(top.length, 1);
  t.match(top[0]!.message, /^missing required key "title" in the spec \(expected a string\); that map takes: id \(required\), title \(required\)/);
  t.same([top[0]!.line, top[0]!.col], [1, 1]);
});

t.test('a key written with no value is not "missing" and not the name "null"', async (t) => {
  t.same(errs('cases:\n  - name: a\n    call: getpid\n    ptrace:\n      at:\n        - stop:\n          n: 2\n    expect: {ret: 1}\n'),
    ['x.yaml:12:16: error: cases[0].ptrace.at[0].stop: has no value; expected one of: entry, exit, seccomp']);
});

t.test('a wrong name is still an unknown name with a suggestion', async (t) => {
  t.match(errs('cases:\n  - name: a\n    call: getpid\n    ptrace:\n      at:\n        - { stop: entyr }\n    expect: {ret: 1}\n')[0],
    /cases\[0\]\.ptrace\.at\[0\]\.stop: unknown value "entyr" \(did you mean "entry"\?\)/);
});
