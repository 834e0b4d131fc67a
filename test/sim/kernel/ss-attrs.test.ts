// RG-06 (AMD X86_BUG_SYSRET_SS_ATTRS): the spec language for contend:/compat_stack:, how check()
// judges expect.compat_stack, and that the simulator now computes these cases on every profile
// (task switching in sim/kernel/sched.ts, SS checks on compat stack use in sim/cpu/stack.ts;
// the model itself is tested in sched.test.ts).
import t from 'tap';
import { fileURLToPath } from 'node:url';
import { loadSpecs } from '../../../harness/spec/load.js';
import { expandChecked } from '../../../harness/spec/expand.js';
import type { SpecError } from '../../../harness/spec/errors.js';
import { check } from '../../../harness/check.js';
import type { Observation } from '../../../harness/contracts.js';
import { SIGNALS } from '../../../abi/constants.js';
import { runCase } from '../../../sim/kernel/run.js';
import { getProfile, listProfiles } from '../../../sim/profiles.js';
import { mkCase } from './helpers.js';
import { inlineCase, oneCase } from '../../spec/inline.js';

const inline = (abi: string, caseYaml: string) => inlineCase('registers', abi, caseYaml);
const one = (abi: string, caseYaml: string) => oneCase('registers', abi, caseYaml);
const errs = (abi: string, y: string): string[] => inline(abi, y).errors.map((e) => e.message);

t.test('contend: N and {repeat: N} expand to Case.contend and isolate the case', async (t) => {
  const a = one('x86_64', 'call: getpid\ncontend: 12\nexpect: { ret: $pid }').case;
  t.same(a.contend, { repeat: 12 });
  t.equal(a.isolate, true, 'a busy sibling and CPU pinning change the process: isolated');
  const b = one('x86_64', 'call: getpid\ncontend: { repeat: 3 }\nexpect: { ret: $pid }').case;
  t.same(b.contend, { repeat: 3 });
  const plain = one('x86_64', 'call: getpid\nexpect: { ret: $pid }').case;
  t.notOk('contend' in plain, 'no Case.contend without contend:');
  t.equal(plain.isolate, false);
  t.match(errs('x86_64', 'call: getpid\ncontend: 0\nexpect: { ret: $pid }').join(), /1\.\.100000/);
  t.match(errs('x86_64', 'call: getpid\ncontend: 100001\nexpect: { ret: $pid }').join(), /1\.\.100000/);
  t.match(errs('x86_64', 'call: getpid\ncontend: 2\nisolate: false\nexpect: { ret: $pid }').join(), /isolate: false is not possible.*contention/);
});

t.test('compat_stack: a 32-bit value; expect.compat_stack needs the step', async (t) => {
  const c = one('x86_64', 'call: getpid\ncompat_stack: 0x5a5a1234\nexpect: { compat_stack: 0x5a5a1234 }');
  t.equal(c.case.compatStack, 0x5a5a1234n);
  t.match(errs('x86_64', 'call: getpid\ncompat_stack: 0x100000000\nexpect: { ret: $pid }').join(), /32 bits/);
  t.match(errs('x86_64', 'call: getpid\ncompat_stack: -1\nexpect: { ret: $pid }').join(), /32 bits/);
  t.match(errs('i386', 'call: getpid\nexpect: { compat_stack: 1 }').join(), /has no compat_stack:/);
});

const ENV = { pid: 7n, next_ip: 0x401002n, entry_ip: 0x401000n };
const returned = (post: Observation['post']): Observation => ({ id: 'x', outcome: 'returned', before: {}, after: { rax: 0n }, env: ENV, ...(post ? { post } : {}) });

t.test('check: expect.compat_stack against Observation.post.compat_stack', async (t) => {
  const ec = one('x86_64', 'call: getpid\ncompat_stack: 0x5a5a1234\nexpect: { compat_stack: 0x5a5a1234 }');
  t.equal(check(ec, returned({ compat_stack: 0x5a5a1234n }), 't').status, 'pass');
  const bad = check(ec, returned({ compat_stack: 0x5a5a1235n }), 't');
  t.equal(bad.status, 'fail');
  t.same(bad.diffs.map((d) => d.field), ['compat_stack']);
  // A target that did not run the step is a target defect (error), not a failed behaviour.
  const missing = check(ec, returned(undefined), 't');
  t.equal(missing.status, 'error');
  t.match(missing.diffs[0]?.observed ?? missing.reason ?? '', /no compat_stack value/);
  // The #SS of the erratum: SIGBUS instead of a return fails the survival expectation.
  const sigbus: Observation = { id: 'x', outcome: 'signal', before: {}, env: ENV, signal: { signo: SIGNALS.SIGBUS, code: 0x80, errno: 0, trapno: 12, regs: {} } };
  t.equal(check(ec, sigbus, 't').status, 'fail');
});

t.test('sim: contend and compat_stack cases run on every profile and give a computed answer', async (t) => {
  for (const name of listProfiles().filter((n) => n !== 'host')) {
    const prof = getProfile(name);
    const o = runCase(mkCase({ nr: 35n, contend: { repeat: 10 }, compatStack: 1n, isolate: true,
      memory: [{ name: 'ts', size: 16, hex: '0000000000000000e803000000000000', fill: 0, prot: 'rw', place: 'anywhere', readback: false }],
      regs: { rax: { lit: 35n }, rdi: { ref: 'buf', name: 'ts' }, rsi: { lit: 0n } } }), prof);
    t.not(o.outcome, 'unsupported', `${name}: modelled (${o.reason ?? ''})`);
    // Only the pre-4.1 AMD kernel leaves SS unusable; everywhere else the push/pop survives.
    if (name === 'linux-4.0-amd') {
      t.equal(o.outcome, 'signal', `${name}: #SS in compat code`);
      t.equal(o.signal?.signo, SIGNALS.SIGBUS);
    } else {
      t.equal(o.outcome, 'returned', `${name}: returned`);
      t.equal(o.post?.compat_stack, 1n, `${name}: the value came back`);
      t.equal(o.env.extra?.contend_rounds, 10n, `${name}: all rounds ran`);
    }
  }
});

t.test('the shipped spec: fixed kernels expect survival, pre-4.1 AMD allows SIGBUS', async (t) => {
  const file = fileURLToPath(new URL('../../../specs/registers/sysret-ss-attrs.yaml', import.meta.url));
  const { specs, errors } = await loadSpecs([file]);
  t.same(errors, []);
  const errors2: SpecError[] = [];
  const cases = expandChecked(specs[0]!, errors2);
  t.same(errors2, []);
  t.ok(cases.every((c) => c.case.contend && c.case.compatStack !== undefined && c.case.isolate), 'every case contends and pushes in compat code');
  t.ok(cases.every((c) => c.requires.ia32 === true), 'requires ia32 (compat code)');
  t.same(cases.map((c) => c.case.abi).sort(), ['i386', 'x86_64', 'x86_64']);
  const pre = cases.find((c) => c.requires.vendor !== undefined)!;
  t.ok(pre, 'a pre-4.1 AMD case exists');
  // On the old AMD kernel a SIGBUS (#SS) passes and so does a survived run (timing).
  const sigbus: Observation = { id: 'x', outcome: 'signal', before: {}, env: ENV, signal: { signo: SIGNALS.SIGBUS, code: 0x80, errno: 0, trapno: 12, regs: {} } };
  t.equal(check(pre, sigbus, 't').status, 'pass');
  const fixed = cases.find((c) => c.case.abi === 'x86_64' && c.requires.vendor === undefined)!;
  t.equal(check(fixed, sigbus, 't').status, 'fail', 'a fixed kernel must not SIGBUS');
});
