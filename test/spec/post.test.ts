// The after-call steps of the spec language (docs/spec-language.md: case keys `segs:` and
// `peek:`, expectations `peek:`/`segs:` and `signal.err`): how they load and expand into
// Case.segs/Case.peek, the errors a malformed spec gets, and how check() judges
// Observation.post and the signal's error code.
import t from 'tap';
import { parseSpecText } from '../../harness/spec/load.js';
import { expandChecked } from '../../harness/spec/expand.js';
import type { SpecError } from '../../harness/spec/errors.js';
import { check } from '../../harness/check.js';
import type { Observation } from '../../harness/contracts.js';
import { inlineCase, oneCase } from './inline.js';

const inline = (abi: string, caseYaml: string) => inlineCase('segments', abi, caseYaml);
const one = (abi: string, caseYaml: string) => oneCase('segments', abi, caseYaml);
function errs(abi: string, caseYaml: string): SpecError[] {
  return inline(abi, caseYaml).errors;
}

t.test('segs: selectors expand to Case.segs as 16-bit bigints, only the ones named', async (t) => {
  const c = one('i386', 'call: getpid\nsegs: { fs: 0x6b, es: 43 }\nexpect: { segs: { fs: 0x6b } }').case;
  t.same(c.segs, { fs: 0x6bn, es: 43n });
  t.equal(c.peek, undefined, 'no peek without peek:');
  const plain = one('x86_64', 'call: getpid\nexpect: { ret: $pid }').case;
  t.notOk('segs' in plain, 'a case without segs: has no Case.segs');
  t.notOk('peek' in plain, 'nor Case.peek');
});

t.test('peek: a plain value, a buf: operand, or {seg, at}', async (t) => {
  const a = one('x86_64', 'call: getppid\npeek: 0xffffffffff600000\nexpect: { peek: 0 }').case;
  t.same(a.peek, { addr: { lit: 0xffffffffff600000n } });
  const b = one('x86_64', 'call: getppid\nmemory: { m: { size: 16 } }\npeek: buf:m+8\nexpect: { peek: 0 }').case;
  t.same(b.peek, { addr: { ref: 'buf', name: 'm', add: 8n } });
  const s = one('x86_64', 'call: getppid\nsegs: { gs: 0x6b }\npeek: { seg: gs, at: 0 }\nexpect: { peek: 0 }').case;
  t.same(s.peek, { seg: 'gs', addr: { lit: 0n } });
  // A literal in 32-bit code is truncated to the register width, as for every input value.
  const i = one('i386', 'call: getpid\npeek: 0x1_0000_0010\nexpect: { peek: 0 }').case;
  t.same(i.peek, { addr: { lit: 0x10n } });
});

t.test('vary and per_abi reach segs/peek', async (t) => {
  // The inline helper names its case `c`: with two combinations the ids would collide.
  const collide = errs('x86_64', 'vary: { o: [0, 8] }\ncall: getpid\npeek: { seg: gs, at: "{o}" }\nexpect: { peek: 1 }');
  t.ok(collide.some((e) => /placeholder/i.test(e.message)), 'vary without a placeholder in the name is refused');
  const text = 'id: t.v\ntitle: t\ndescription: d\nrefs: [{kernel: k}]\ntags: [segments]\nabi: [i386, x86_64]\ncases:\n' +
    '  - name: at {o}\n    vary: { o: [0, 8] }\n    call: getpid\n    per_abi:\n' +
    '      i386: { segs: { fs: 0x6b }, peek: { seg: fs, at: "{o}" } }\n      x86_64: { segs: { gs: 0x6b }, peek: { seg: gs, at: "{o}" } }\n' +
    '    expect: { peek: 1 }\n';
  const r = parseSpecText('v.yaml', text);
  const e2: SpecError[] = [];
  const cs = expandChecked(r.spec!, e2);
  t.same(e2, []);
  const by = new Map(cs.map((c) => [c.case.id, c.case]));
  t.same(by.get('t.v/at-8@i386')?.peek, { seg: 'fs', addr: { lit: 8n } });
  t.same(by.get('t.v/at-0@x86_64')?.segs, { gs: 0x6bn });
  t.equal(cs.length, 4);
});

t.test('malformed segs/peek are refused with what was expected', async (t) => {
  t.ok(errs('x86_64', 'call: getpid\nsegs: { gs: 0x10000 }\nexpect: { ret: 0 }').some((e) => /16 bits/.test(e.message)), 'selector above 0xffff');
  t.ok(errs('x86_64', 'call: getpid\nsegs: { gs: -1 }\nexpect: { ret: 0 }').some((e) => /16 bits/.test(e.message)), 'negative selector');
  t.ok(errs('x86_64', 'call: getpid\nsegs: { cs: 0x23 }\nexpect: { ret: 0 }').length > 0, 'cs is not a data segment');
  t.ok(errs('x86_64', 'call: getpid\npeek: { seg: ss, at: 0 }\nexpect: { ret: 0 }').length > 0, 'ss is not a peek segment');
  t.ok(errs('x86_64', 'call: getpid\npeek: { seg: gs }\nexpect: { ret: 0 }').length > 0, 'peek without at');
  t.ok(errs('x86_64', 'call: getpid\npeek: buf:nosuch\nexpect: { ret: 0 }').some((e) => /peek/.test(e.message)), 'undeclared region');
  const noPeek = errs('x86_64', 'call: getpid\nexpect: { peek: 1 }');
  t.ok(noPeek.some((e) => /has no peek/.test(e.message)), 'expect.peek without a peek: step');
  const notLoaded = errs('x86_64', 'call: getpid\nsegs: { es: 0x2b }\nexpect: { segs: { gs: 0x6b } }');
  t.ok(notLoaded.some((e) => /loads only es/.test(e.message)), 'expect.segs of a selector the case does not load');
  const absent = errs('x86_64', 'call: getpid\nexpect: { segs: { gs: 0x6b } }');
  t.ok(absent.some((e) => /is absent/.test(e.message)), 'expect.segs without segs:');
  // The errors point into the file.
  const e = noPeek.find((x) => /has no peek/.test(x.message))!;
  t.ok(e.line > 0 && e.col > 0, `position ${e.line}:${e.col}`);
});

const ENV = { pid: 7n, next_ip: 0x401002n, entry_ip: 0x401000n };
const returned = (post: Observation['post']): Observation => ({ id: 'x', outcome: 'returned', before: {}, after: { rax: 0n }, env: ENV, ...(post ? { post } : {}) });

t.test('check: expect.peek against Observation.post.peek', async (t) => {
  const ec = one('x86_64', 'call: getppid\npeek: 0x1000\nexpect: { peek: "0x2141_5441_4453_4c54" }');
  t.equal(check(ec, returned({ peek: 0x2141544144534c54n }), 't').status, 'pass');
  const bad = check(ec, returned({ peek: 0x2141544144534c55n }), 't');
  t.equal(bad.status, 'fail');
  t.same(bad.diffs.map((d) => d.field), ['peek']);
  // A target that ran no after-call step is a target defect (error), not a failed behaviour.
  const missing = check(ec, returned(undefined), 't');
  t.equal(missing.status, 'error');
  t.match(missing.diffs[0]?.observed ?? missing.reason ?? '', /no peek value/);
  // Matchers work on the 64-bit value.
  const m = one('x86_64', 'call: getppid\npeek: 0x1000\nexpect: { peek: { mask: 0xffff, eq: 0xc748 } }');
  t.equal(check(m, returned({ peek: 0x0f00000060c0c748n }), 't').status, 'pass');
  t.equal(check(m, returned({ peek: 0x0f00000060c0c749n }), 't').status, 'fail');
});

t.test('check: expect.segs compares 16 bits per loaded selector', async (t) => {
  const ec = one('i386', 'call: getpid\nsegs: { fs: 0x6b, es: 0x2b }\nexpect: { segs: { fs: 0x6b, es: 0x2b } }');
  t.equal(check(ec, returned({ segs: { fs: 0x6bn, es: 0x2bn } }), 't').status, 'pass');
  const r = check(ec, returned({ segs: { fs: 0x63n, es: 0x2bn } }), 't');
  t.equal(r.status, 'fail');
  t.same(r.diffs.map((d) => d.field), ['segs.fs']);
  t.match(r.diffs[0]!.expected, /0x6b/);
  t.match(r.diffs[0]!.observed, /0x63/);
  const missing = check(ec, returned({ segs: { fs: 0x6bn } }), 't');
  t.equal(missing.status, 'error', 'es not reported');
  t.same(missing.diffs.map((d) => d.field), ['segs.es']);
});

t.test('check: signal.err with a faulting peek; a returned case where a fault was expected', async (t) => {
  const ec = one('x86_64', 'call: getppid\npeek: 0xffffffffff600000\nexpect: { signal: { signo: SIGSEGV, code: SEGV_MAPERR, trapno: 14, err: 0x5 } }');
  const sig = (err: bigint): Observation => ({
    id: 'x', outcome: 'signal', before: {}, env: ENV,
    signal: { signo: 11, code: 1, errno: 0, addr: 0xffffffffff600000n, regs: {}, trapno: 14, err },
  });
  t.equal(check(ec, sig(5n), 't').status, 'pass');
  const noP = check(ec, sig(4n), 't');
  t.equal(noP.status, 'fail', 'the hardware code without P is not what the kernel reports');
  t.same(noP.diffs.map((d) => d.field), ['signal.err']);
  const ret = check(ec, returned({ peek: 0n }), 't');
  t.equal(ret.status, 'fail');
  t.same(ret.diffs.map((d) => d.field), ['outcome']);
  // err as a matcher: the P bit alone.
  const p = one('x86_64', 'call: getppid\npeek: 0xffffffffff600000\nexpect: { signal: { signo: SIGSEGV, err: { mask: 1, eq: 1 } } }');
  t.equal(check(p, sig(5n), 't').status, 'pass');
  t.equal(check(p, sig(0x15n), 't').status, 'pass');
  t.equal(check(p, sig(4n), 't').status, 'fail');
});

t.test('any_of alternatives may carry their own segs', async (t) => {
  const ec = one('x86_64', 'call: getpid\nsegs: { gs: 0x6b }\nexpect:\n  any_of:\n    - { segs: { gs: 0x6b } }\n    - { segs: { gs: 0 }, why: w }');
  t.equal(check(ec, returned({ segs: { gs: 0x6bn } }), 't').status, 'pass');
  t.equal(check(ec, returned({ segs: { gs: 0n } }), 't').status, 'pass');
  t.equal(check(ec, returned({ segs: { gs: 0x63n } }), 't').status, 'fail');
});
