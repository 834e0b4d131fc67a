// A ptrace event's `rax` takes a syscall name, like `orig_rax` (harness/spec/ptrace.ts
// parsePtraceEvents): resolved in the table the case's entry uses, compared at the tracer's
// width, refused with a suggestion when the table has no such call. The use that motivated it:
// after a handler with SA_RESTART, the exit stop of its rt_sigreturn shows ax = the restarted
// call's number (arch/x86/kernel/signal.c handle_signal), checked here on the simulator too.
import t from 'tap';
import { parseSpecText } from '../../harness/spec/load.js';
import { expandChecked, type ExpandedCase } from '../../harness/spec/expand.js';
import { formatSpecError, type SpecError } from '../../harness/spec/errors.js';
import { check } from '../../harness/check.js';
import { runCase } from '../../sim/kernel/run.js';
import { getProfile } from '../../sim/profiles.js';
import type { Observation, PtraceStopEvent } from '../../harness/contracts.js';

function inline(body: string): { cases: ExpandedCase[]; errors: SpecError[] } {
  const text = `id: t.ptrax\ntitle: t\ndescription: d\nrefs: [{kernel: k}]\ntags: [ptrace]\n${body}`;
  const r = parseSpecText('inline.yaml', text);
  if (!r.spec) return { cases: [], errors: r.errors };
  const errors: SpecError[] = [];
  return { cases: expandChecked(r.spec, errors), errors };
}

const raxCheck = (ec: ExpandedCase, i: number) => ec.expect.events?.[i]?.fields.find((f) => f.field === 'rax');

t.test('rax: NAME resolves per ABI table, at the tracer width', async (t) => {
  const { cases, errors } = inline(`abi: [x86_64, i386, x32]
cases:
  - name: a
    call: getppid
    ptrace: {}
    expect:
      ret: $ppid
      events:
        - { stop: exit, orig_rax: getppid, rax: read }
  - name: int80 from 64-bit code uses the i386 table
    abi: [x86_64]
    entry: int80
    call: getppid
    ptrace: {}
    expect:
      ret: $ppid
      events:
        - { stop: exit, rax: read }
`);
  t.same(errors.map(formatSpecError), []);
  const want: Record<string, [bigint, number]> = {
    'a@x86_64': [0n, 64], 'a@i386': [3n, 32], 'a@x32': [0x40000000n, 64],
    'int80-from-64-bit-code-uses-the-i386-table@x86_64': [3n, 64],
  };
  t.equal(cases.length, 4);
  for (const ec of cases) {
    const key = ec.case.id.split('/')[1]!;
    const f = raxCheck(ec, 0);
    t.ok(f, `${key}: an rax check`);
    t.same(f && f.m.kind === 'eq' && 'lit' in f.m.v ? [f.m.v.lit, f.bits] : f?.m, want[key], `${key}: read's number in the entry's table`);
  }
});

t.test('an unknown name is refused where it is written, with a suggestion', async (t) => {
  const { errors } = inline(`abi: [x86_64]
cases:
  - name: a
    call: getppid
    ptrace: {}
    expect:
      ret: $ppid
      events:
        - { stop: exit, rax: raed }
`);
  t.equal(errors.length, 1);
  t.match(formatSpecError(errors[0]!), /^inline\.yaml:14:30: error: unknown syscall name \(x86_64 table\) "raed" \(did you mean "read"\?\)/);
});

t.test('matchers keep working: errno, numbers, symbols', async (t) => {
  const { cases, errors } = inline(`abi: [x86_64]
cases:
  - name: a
    call: getppid
    ptrace: {}
    expect:
      ret: $ppid
      events:
        - { stop: entry, rax: { errno: ENOSYS } }
        - { stop: exit, rax: $ppid }
        - { stop: exit, rax: 7 }
`);
  t.same(errors.map(formatSpecError), []);
  t.equal(raxCheck(cases[0]!, 0)?.m.kind, 'errno');
  t.equal(raxCheck(cases[0]!, 2)?.m.kind, 'eq');
});

t.test('check(): rax: read passes on the number and fails on anything else', async (t) => {
  const { cases } = inline(`abi: [i386]
cases:
  - name: a
    call: getppid
    ptrace: {}
    expect:
      ret: $ppid
      events:
        - { stop: exit, rax: read }
`);
  const ec = cases[0]!;
  const stop = (rax: bigint): PtraceStopEvent => ({ kind: 'ptrace', stop: 'exit', sig: 5, event: 0, orig_rax: 64n, rax, rip: 0x1000n, rsp: 0x2000n, args: [], eventmsg: 0n });
  const obs = (rax: bigint): Observation => ({ id: ec.case.id, outcome: 'returned', before: {}, after: { rax: 7n }, env: { ppid: 7n }, events: [stop(rax)] });
  t.equal(check(ec, obs(3n), 't').status, 'pass', 'eax 3 is i386 read');
  const bad = check(ec, obs(0n), 't');
  t.equal(bad.status, 'fail', 'eax 0 (x86_64 read) is not i386 read');
  t.match(bad.diffs.map((d) => d.field).join(' '), /rax/);
  t.equal(check(ec, obs(0xffffffff00000003n), 't').status, 'pass', 'compared at the 32-bit tracer width');
});

t.test('sim: after an SA_RESTART handler, rt_sigreturn exit stop has rax = the restarted read', async (t) => {
  const { cases, errors } = inline(`abi: [x86_64, i386, x32]
requires: { features: [ptrace] }
cases:
  - name: restart
    call: read
    fds: { p: { pipe: "" } }
    memory: { b: { size: 8 } }
    args: [fd:p.r, buf:b, 8]
    signals:
      SIGUSR1: { action: record, restart: true }
      SIGUSR2: record
    ptrace:
      at:
        - { stop: entry, kill: SIGUSR1 }
        - { stop: entry, n: 3, kill: SIGUSR2 }
    expect:
      errno: EINTR
      events:
        - { stop: entry, orig_rax: read }
        - { stop: exit, orig_rax: read }
        - { stop: entry, orig_rax: rt_sigreturn }
        - { stop: exit, orig_rax: -1, rax: read, rip: $entry_ip }
`);
  t.same(errors.map(formatSpecError), []);
  for (const ec of cases) {
    const prof = getProfile(ec.case.abi === 'x32' ? 'linux-7.0-intel-x32' : 'linux-7.0-intel');
    const r = check(ec, runCase(ec.case, prof), `sim:${prof.name}`);
    t.equal(r.status, 'pass', `${ec.case.id}: ${r.reason ?? ''}`);
  }
});
