// The `seccomp:` key of the spec language: compiled at expansion time into Case.seccomp,
// isolation forced, and bad programs refused at the file position of the offending item.
import t from 'tap';
import { parseSpecText } from '../../harness/spec/load.js';
import { expandChecked, type ExpandedCase } from '../../harness/spec/expand.js';
import type { SpecError } from '../../harness/spec/errors.js';
import { assemble } from '../../harness/seccomp/asm.js';
import { compileRules } from '../../harness/seccomp/rules.js';

function inline(body: string): { cases: ExpandedCase[]; errors: SpecError[] } {
  const text = `id: t.sc\ntitle: t\ndescription: d\nrefs: [{kernel: k}]\ntags: [seccomp]\n${body}`;
  const r = parseSpecText('inline.yaml', text);
  if (!r.spec) return { cases: [], errors: r.errors };
  const errors: SpecError[] = [];
  return { cases: expandChecked(r.spec, errors), errors };
}

t.test('bpf mnemonics become the assembler output; the case is isolated', async (t) => {
  const { cases, errors } = inline(`abi: x86_64
cases:
  - name: a
    call: getppid
    seccomp:
      - bpf: ["ld [4]", "jeq #AUDIT_ARCH_X86_64, 0, 1", "ret #ERRNO|EPERM", "ret #ALLOW"]
    expect: { errno: EPERM }
`);
  t.same(errors, []);
  const c = cases[0]!.case;
  t.equal(c.isolate, true, 'a filter cannot be removed: the case runs in its own process');
  t.equal(c.seccomp?.mode, 'filter');
  t.same(c.seccomp?.filters, [assemble(['ld [4]', 'jeq #AUDIT_ARCH_X86_64, 0, 1', 'ret #ERRNO|EPERM', 'ret #ALLOW'])]);
  // Hand-checked against include/uapi/linux/filter.h: BPF_LD|BPF_W|BPF_ABS = 0x20, k = offsetof(arch) = 4.
  t.same(c.seccomp!.filters[0]![0], { code: 0x20, jt: 0, jf: 0, k: 4 });
  t.same(c.seccomp!.filters[0]![2], { code: 0x06, jt: 0, jf: 0, k: 0x00050001 }, 'ret #ERRNO|EPERM = 0x00050000 | 1');
});

t.test('rule lists compile with the shared compiler; several filters keep their order', async (t) => {
  const { cases, errors } = inline(`abi: [x86_64, i386]
cases:
  - name: a
    call: getppid
    seccomp:
      - rules: [{ syscall: getppid, action: errno(11) }, { default: allow }]
      - rules: [{ syscall: getppid, action: errno(12) }, { default: allow }]
    expect: { ret: -12 }
`);
  t.same(errors, []);
  t.equal(cases.length, 2);
  const want = [
    compileRules([{ syscall: 'getppid', action: 'errno(11)' }, { default: 'allow' }]),
    compileRules([{ syscall: 'getppid', action: 'errno(12)' }, { default: 'allow' }]),
  ];
  for (const e of cases) t.same(e.case.seccomp?.filters, want, `${e.case.abi}: same program whatever the ABI`);
});

t.test('strict mode', async (t) => {
  const { cases, errors } = inline(`abi: x86_64
cases:
  - name: a
    call: getppid
    seccomp: strict
    expect: { killed: SIGKILL }
`);
  t.same(errors, []);
  t.same(cases[0]!.case.seccomp, { mode: 'strict', filters: [] });
});

t.test('a bad instruction is reported at its list item with the column inside it', async (t) => {
  const { errors } = inline(`abi: x86_64
cases:
  - name: a
    call: getppid
    seccomp:
      - bpf:
          - "ld [4]"
          - "jeq #NOPE, 0, 1"
          - "ret #ALLOW"
    expect: { ret: 0 }
`);
  t.equal(errors.length, 1);
  t.equal(errors[0]!.line, 13, 'line of the second item (the 6-line head comes first)');
  t.match(errors[0]!.message, /filter 0, instruction 2, column \d+: .*NOPE/);
});

t.test('a bad rule is reported at the rule', async (t) => {
  const { errors } = inline(`abi: x86_64
cases:
  - name: a
    call: getppid
    seccomp:
      - rules:
          - { syscall: getppid, action: errno(EPERM) }
          - { syscall: no_such_call, action: allow }
    expect: { ret: 0 }
`);
  t.equal(errors.length, 1);
  t.equal(errors[0]!.line, 13);
  t.match(errors[0]!.message, /filter 0, rule 1: .*no_such_call/);
});

t.test('unknown keys in a filter are refused by the schema', async (t) => {
  const { errors } = inline(`abi: x86_64
cases:
  - name: a
    call: getppid
    seccomp: [{ bfp: ["ret #ALLOW"] }]
    expect: { ret: 0 }
`);
  t.ok(errors.length >= 1);
});
