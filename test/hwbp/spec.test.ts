// The spec language's `breakpoint:` key (RT-04; docs/spec-language.md): how it expands into
// Case.breakpoint, what it implies (isolate), what it refuses, and how the probe protocol
// carries it ('hwbp next_ip', probes/probe.c).
import t from 'tap';
import { parseSpecText } from '../../harness/spec/load.js';
import { expandChecked, type ExpandedCase } from '../../harness/spec/expand.js';
import type { SpecError } from '../../harness/spec/errors.js';
import { encodeCase } from '../../harness/targets/probe-runner.js';

function inline(abi: string, caseYaml: string, entry = ''): { cases: ExpandedCase[]; errors: SpecError[] } {
  const text = `id: t.bp\ntitle: t\ndescription: d\nrefs: [{kernel: k}]\ntags: [return-path]\nabi: [${abi}]\n${entry}cases:\n  - name: c\n${caseYaml.replace(/^/gm, '    ')}\n`;
  const r = parseSpecText('inline.yaml', text);
  if (!r.spec) return { cases: [], errors: r.errors };
  const errors: SpecError[] = [];
  return { cases: expandChecked(r.spec, errors), errors };
}

t.test('breakpoint: {at: next_ip} expands to Case.breakpoint and isolates the case', async (t) => {
  const { cases, errors } = inline('x86_64', 'call: getpid\nbreakpoint: { at: next_ip }\nexpect: { signal: SIGTRAP }');
  t.same(errors.map((e) => e.message), []);
  t.same(cases[0]!.case.breakpoint, { at: 'next_ip' });
  t.equal(cases[0]!.case.isolate, true, 'implied isolate');
  const plain = inline('x86_64', 'call: getpid\nexpect: { ret: $pid }').cases[0]!.case;
  t.notOk('breakpoint' in plain, 'no breakpoint unless asked');
  t.equal(plain.isolate, false);
});

t.test('isolate: false next to a breakpoint is refused with the reason', async (t) => {
  const { errors } = inline('x86_64', 'call: getpid\nbreakpoint: { at: next_ip }\nisolate: false\nexpect: { signal: SIGTRAP }');
  t.equal(errors.length, 1);
  t.match(errors[0]!.message, /isolate: false is not possible here: .*hardware breakpoint/);
});

t.test('only next_ip is a breakpoint place; unknown keys are refused', async (t) => {
  const a = inline('x86_64', 'call: getpid\nbreakpoint: { at: entry_ip }\nexpect: { signal: SIGTRAP }');
  t.ok(a.errors.length >= 1, 'entry_ip refused');
  t.match(a.errors.map((e) => e.message).join('\n'), /next_ip/);
  const b = inline('x86_64', 'call: getpid\nbreakpoint: { at: next_ip, len: 4 }\nexpect: { signal: SIGTRAP }');
  t.ok(b.errors.some((e) => /len/.test(e.message)), 'unknown key len refused');
  const c = inline('x86_64', 'call: getpid\nbreakpoint: next_ip\nexpect: { signal: SIGTRAP }');
  t.ok(c.errors.length >= 1, 'a bare string is not the form');
});

t.test('an exec case cannot have a breakpoint', async (t) => {
  const { errors } = inline('x86_64', 'breakpoint: { at: next_ip }\nexpect: { rip: 0 }', 'entry: exec\n');
  t.ok(errors.some((e) => /exec case has no instruction after an entry/.test(e.message)), errors.map((e) => e.message).join('; '));
});

t.test('the probe protocol carries it as one hwbp line', async (t) => {
  const c = inline('i386', 'call: getpid\nbreakpoint: { at: next_ip }\nexpect: { signal: SIGTRAP }').cases[0]!.case;
  const lines = encodeCase(c).split('\n');
  t.ok(lines.includes('hwbp next_ip'), lines.join(' | '));
  const plain = inline('i386', 'call: getpid\nexpect: { ret: $pid }').cases[0]!.case;
  t.notOk(encodeCase(plain).split('\n').some((l) => l.startsWith('hwbp')), 'no line without a breakpoint');
});
