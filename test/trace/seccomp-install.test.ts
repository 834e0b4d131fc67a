// SC-06 install results in the spec language and check(): generate/program:null/no_new_privs/
// flags/repeat/strict become Case.seccomp; expect.seccomp_install is checked item by item, and
// a refusal the spec did not expect is an error, not a pass.
import t from 'tap';
import { parseSpecText } from '../../harness/spec/load.js';
import { expandChecked, type ExpandedCase } from '../../harness/spec/expand.js';
import type { SpecError } from '../../harness/spec/errors.js';
import { check } from '../../harness/check.js';
import type { Observation } from '../../harness/contracts.js';
import { runCase } from '../../sim/kernel/run.js';
import { getProfile } from '../../sim/profiles.js';

function inline(body: string): { cases: ExpandedCase[]; errors: SpecError[] } {
  const text = `id: t.sci\ntitle: t\ndescription: d\nrefs: [{kernel: k}]\ntags: [seccomp]\nabi: x86_64\n${body}`;
  const r = parseSpecText('inline.yaml', text);
  if (!r.spec) return { cases: [], errors: r.errors };
  const errors: SpecError[] = [];
  return { cases: expandChecked(r.spec, errors), errors };
}

t.test('install forms become Case.seccomp with per-filter opts and thenStrict', async (t) => {
  const { cases, errors } = inline(`cases:
  - name: a
    call: getppid
    seccomp:
      - { generate: 3, repeat: 2 }
      - { program: null, no_new_privs: false }
      - { generate: 0, flags: [tsync, log] }
      - strict
    expect: { seccomp_install: [ok, ok, EFAULT, {errno: EINVAL}, EINVAL] }
`);
  t.same(errors, []);
  const sc = cases[0]!.case.seccomp!;
  t.equal(sc.filters.length, 4, 'repeat 2 makes two installs');
  t.same(sc.filters[0]!.map((i) => i.code), [0x20, 0x20, 0x06], 'two ld [nr] and a ret');
  t.same(sc.filters[3], [], 'generate: 0 is an empty program');
  t.same(sc.opts, [undefined, undefined, { noNewPrivs: false, nullProgram: true }, { flags: 3 }]);
  t.equal(sc.thenStrict, true);
  t.same(cases[0]!.expect.seccompInstall!.map((w) => w.errno), [0, 0, 14, 22, 22]);
});

t.test('a seccomp_install list of the wrong length, or without installs, is refused', async (t) => {
  const a = inline(`cases:
  - name: a
    seccomp: [{ generate: 1 }]
    expect: { seccomp_install: [ok, ok] }
`);
  t.match(a.errors.map((e) => e.message).join('\n'), /lists 2 result\(s\), but the case's seccomp: makes 1 install/);
  const b = inline(`cases:
  - name: a
    expect: { seccomp_install: [ok] }
`);
  t.match(b.errors.map((e) => e.message).join('\n'), /installs none/);
  const c = inline(`cases:
  - name: a
    seccomp: [strict, { generate: 1 }]
    expect: { outcome: returned }
`);
  t.match(c.errors.map((e) => e.message).join('\n'), /strict may only be the last item/);
});

t.test('check: results compared in order; an unexpected refusal is an error', async (t) => {
  const { cases } = inline(`cases:
  - name: expects
    call: getppid
    seccomp: [{ generate: 4097 }]
    expect: { seccomp_install: [EINVAL] }
  - name: does not expect
    call: getppid
    seccomp: [{ generate: 4097 }]
    expect: { outcome: returned }
`);
  const obs = (r: { ret: number; errno: number }[]): Observation => ({ id: 'x', outcome: 'returned', before: {}, after: { rax: 1n }, env: {}, seccomp_install: r });
  t.equal(check(cases[0]!, obs([{ ret: -1, errno: 22 }]), 't').status, 'pass');
  const f = check(cases[0]!, obs([{ ret: 0, errno: 0 }]), 't');
  t.equal(f.status, 'fail');
  t.match(f.reason, /seccomp_install.0: expected -1, EINVAL \(22\), observed ok/);
  t.equal(check(cases[0]!, { ...obs([]), seccomp_install: undefined }, 't').status, 'error', 'a target that reports nothing is not judged');
  const e = check(cases[1]!, obs([{ ret: -1, errno: 22 }]), 't');
  t.equal(e.status, 'error');
  t.match(e.reason, /seccomp install 0 was refused: EINVAL/);
  t.equal(check(cases[1]!, obs([{ ret: 0, errno: 0 }]), 't').status, 'pass');
});

t.test('the sim reports every install and runs the call after a refusal', async (t) => {
  const { cases, errors } = inline(`cases:
  - name: a
    call: getppid
    seccomp:
      - { bpf: ["ld [64]", "ret #ERRNO|EDOM"] }
      - { rules: [{ default: errno(EPERM) }], no_new_privs: false }
      - { rules: [{ default: errno(EDOM) }] }
      - strict
    expect: { seccomp_install: [EINVAL, ok, ok, EINVAL], errno: EDOM }
`);
  t.same(errors, []);
  const o = runCase(cases[0]!.case, getProfile('linux-7.0-intel'));
  // NO_NEW_PRIVS was set before the first install, refused or not, and stays set (sticky).
  t.same(o.seccomp_install, [{ ret: -1, errno: 22 }, { ret: 0, errno: 0 }, { ret: 0, errno: 0 }, { ret: -1, errno: 22 }]);
  t.equal(check(cases[0]!, o, 'sim').status, 'pass', 'the newest filter wins the ERRNO tie (EDOM)');
});
