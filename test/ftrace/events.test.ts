// ftrace syscall events: the spec language (`ftrace:` case key and expectation), check(),
// the simulator's model against kernel/trace/trace_syscalls.c and arch/x86/include/asm/ftrace.h
// (compat and x32 calls emit nothing: arch_trace_is_compat_syscall = in_32bit_syscall), the
// trace-text parser against a saved trace of a real kernel, and (as root with tracefs) a live
// capture that must leave no tracing instance behind.
import t from 'tap';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseSpecText } from '../../harness/spec/load.js';
import { expandChecked, type ExpandedCase } from '../../harness/spec/expand.js';
import type { SpecError } from '../../harness/spec/errors.js';
import { check } from '../../harness/check.js';
import { runCase } from '../../sim/kernel/run.js';
import { getProfile } from '../../sim/profiles.js';
import { traceNr } from '../../sim/kernel/ftrace.js';
import { caseEvents, parseTrace } from '../../harness/ftrace/parse.js';
import { locateTracefs } from '../../harness/ftrace/tracefs.js';
import { withInstance } from '../../harness/ftrace/capture.js';
import type { FtraceEvent, Observation } from '../../harness/contracts.js';
import { mkCase, lit } from '../sim/kernel/helpers.js';

const P = getProfile('linux-7.0-intel');
const PX32 = getProfile('linux-7.0-intel-x32');

function inline(body: string): { cases: ExpandedCase[]; errors: SpecError[] } {
  const text = `id: t.ft\ntitle: t\ndescription: d\nrefs: [{kernel: k}]\ntags: [ftrace]\n${body}`;
  const r = parseSpecText('inline.yaml', text);
  if (!r.spec) return { cases: [], errors: r.errors };
  const errors: SpecError[] = [];
  return { cases: expandChecked(r.spec, errors), errors };
}
const fev = (o: Observation) => (o.events ?? []).filter((e) => e.kind === 'ftrace') as FtraceEvent[];

t.test('spec: expect ftrace sets Case.ftrace, isolates, requires the ftrace feature', async (t) => {
  const { cases, errors } = inline(`abi: x86_64
cases:
  - name: a
    call: getppid
    expect: { ftrace: [{ event: sys_enter, name: getppid, nr: getppid }, { event: sys_exit, ret: $ppid }] }
`);
  t.same(errors, []);
  const ec = cases[0]!;
  t.equal(ec.case.ftrace, true);
  t.equal(ec.case.isolate, true);
  t.ok(ec.requires.features?.includes('ftrace'));
  t.equal(ec.expect.ftrace!.length, 2);
});

t.test('spec: mistakes are refused at their position', async (t) => {
  const { errors } = inline(`abi: x86_64
cases:
  - name: a
    call: getpid
    ftrace: false
    expect: { ftrace: [{ event: sys_enter, name: getpidd, ret: 1 }, { event: sys_exit, args: [1] }] }
`);
  const msgs = errors.map((e) => e.message).join('\n');
  t.match(msgs, /ftrace: false, but expect has ftrace/);
  t.match(msgs, /"getpidd" is not a syscall with ftrace metadata.*did you mean "getpid"/);
  t.match(msgs, /ret: belongs to a sys_exit event/);
  t.match(msgs, /args: belongs to a sys_enter event/);
});

t.test('sim: a 64-bit call records nr, the declared number of full registers, and ret', async (t) => {
  const c = mkCase({ nr: 17n, ftrace: true, isolate: true, regs: { rax: lit(17), rdi: lit(0xffffffff00000003n), rsi: lit(0x1000), rdx: lit(0), r10: lit(9), r8: lit(0x88), r9: lit(0x99) } });
  const o = runCase(c, P);
  const ev = fev(o);
  t.equal(ev.length, 2);
  t.same(ev[0], { kind: 'ftrace', event: 'sys_enter', name: 'pread64', nr: 17, args: [0xffffffff00000003n, 0x1000n, 0n, 9n] },
    'pread64 declares 4 arguments: r8/r9 are not recorded; rdi keeps its high half');
  t.equal(ev[1]!.event, 'sys_exit');
  t.equal(ev[1]!.ret, o.after!.rax === undefined ? undefined : BigInt.asIntN(64, o.after!.rax), 'ret is the rax the caller sees, signed');
});

t.test('sim: the compat rule (in_32bit_syscall) and the range checks', async (t) => {
  t.same(traceNr({ orig_ax: 39n }, false, false), { nr: 39, name: 'getpid', nargs: 0 });
  t.match(traceNr({ orig_ax: 20n }, true, false), { none: /ia32/ }, 'int $0x80 / i386: no event');
  t.match(traceNr({ orig_ax: 0x40000027n }, false, true), { none: /x32/ }, 'x32 configured: in_x32_syscall');
  t.match(traceNr({ orig_ax: 0x40000027n }, false, false), { none: /outside/ }, 'x32 not configured: out of range');
  t.match(traceNr({ orig_ax: BigInt.asUintN(64, -1n) }, false, false), { none: /outside/ });
  // (int)orig_ax: the high half of RAX does not change the event's number.
  t.same(traceNr({ orig_ax: 0x1_0000_0027n }, false, false), { nr: 39, name: 'getpid', nargs: 0 });
  const i = runCase(mkCase({ abi: 'i386', nr: 20n, ftrace: true, isolate: true, regs: { rax: lit(20) } }), P);
  t.equal(i.outcome, 'returned');
  t.same(fev(i), [], 'an i386 getpid emits nothing');
  const x = runCase(mkCase({ abi: 'x32', nr: 0x40000027n, ftrace: true, isolate: true, regs: { rax: lit(0x40000027) } }), PX32);
  t.equal(x.after?.rax, 4242n, 'the x32 call ran');
  t.same(fev(x), [], 'an x32 getpid emits nothing');
  const off = runCase(mkCase({ nr: 39n, regs: { rax: lit(39) } }), P);
  t.equal(off.events, undefined, 'no capture asked: no events');
});

t.test('sim: a seccomp-refused call has a sys_exit but no sys_enter (exit work still runs)', async (t) => {
  const { cases, errors } = inline(`abi: x86_64
cases:
  - name: a
    call: getppid
    seccomp: [{ rules: [{ syscall: getppid, action: errno(EPERM) }, { default: allow }] }]
    expect: { errno: EPERM, ftrace: [{ event: sys_exit, name: getppid, ret: { errno: EPERM } }] }
`);
  t.same(errors, []);
  const r = check(cases[0]!, runCase(cases[0]!.case, P), 'sim');
  t.equal(r.status, 'pass', r.reason ?? '');
});

t.test('check: wrong count, name, argument and ret are each reported', async (t) => {
  const { cases } = inline(`abi: x86_64
cases:
  - name: a
    call: write
    args: [1, 2, 3]
    expect: { ftrace: [{ event: sys_enter, name: write, args: [1, 2, 4] }, { event: sys_exit, ret: 3 }] }
`);
  const ec = cases[0]!;
  const base: Observation = { id: ec.case.id, outcome: 'returned', before: {}, after: { rax: 3n }, env: {} };
  const good: FtraceEvent[] = [
    { kind: 'ftrace', event: 'sys_enter', name: 'write', nr: 1, args: [1n, 2n, 4n] },
    { kind: 'ftrace', event: 'sys_exit', name: 'write', nr: 1, ret: 3n },
  ];
  t.equal(check(ec, { ...base, events: good }, 'x').status, 'pass');
  const bad = check(ec, { ...base, events: [{ ...good[0]!, name: 'read', args: [1n, 2n, 5n] }, { ...good[1]!, ret: -9n }] }, 'x');
  t.equal(bad.status, 'fail');
  t.same(bad.diffs.map((d) => d.field), ['ftrace.0.name', 'ftrace.0.args.2', 'ftrace.1.ret']);
  const short = check(ec, { ...base, events: [good[0]!] }, 'x');
  t.match(short.diffs[0]!, { field: 'ftrace', observed: /^1: sys_enter write/ });
  const none = check(ec, { ...base }, 'x');
  t.equal(none.status, 'error', 'a target that reports no events at all is a target defect');
});

t.test('parse: a saved trace of a real kernel (6.18) with user stacks', async (t) => {
  const text = readFileSync(join(new URL('./fixtures/', import.meta.url).pathname, 'trace-userstack.txt'), 'utf8');
  const recs = parseTrace(text);
  t.equal(recs.length, 5);
  t.match(recs[1], { task: 'python3', pid: 16135, event: 'sys_enter', name: 'pread64', args: [{ name: 'fd', value: 3n }, { name: 'buf', value: 0x7f4757511a30n }, { name: 'count', value: 7n }, { name: 'pos', value: 1n }] });
  t.equal(recs[1]!.ustack[0], 0x7f47577143d3n);
  t.equal(recs[4]!.ret, -9n, '0xfffffffffffffff7 is -EBADF');
  t.equal(recs[3]!.args![0]!.value, 0x4dn, 'hex values');
  // The case's call is picked by pid and user IP.
  const ev = caseEvents(recs, 16135, 0x7f47577169f0n);
  t.same(ev.map((e) => `${e.event} ${e.name} ${e.nr}`), ['sys_exit close 3', 'sys_enter close 3', 'sys_exit close 3']);
  t.same(caseEvents(recs, 1, undefined), [], 'another pid: nothing');
});

t.test('live capture (root with tracefs): events of a child, instance removed', async (t) => {
  const st = locateTracefs();
  if (!st.ok) { t.skip(`no usable tracefs: ${st.reason}`, () => {}); return; }
  const { execa } = await import('execa');
  const before = readdirSync(join(st.dir, 'instances'));
  const cap = await withInstance(st.dir, async (inst) => {
    const r = await execa(inst.wrap(['/bin/sh', '-c', 'exec cat /proc/self/stat'])[0]!, inst.wrap(['/bin/sh', '-c', 'exec cat /proc/self/stat']).slice(1));
    return Number(r.stdout.split(' ')[0]);
  });
  const recs = parseTrace(cap.text);
  t.ok(recs.some((r) => r.pid === cap.value && r.name === 'read' && r.event === 'sys_enter'), 'cat\'s own reads were recorded through the pid filter');
  t.ok(recs.filter((r) => r.pid === cap.value && r.name === 'read').every((r) => r.ustack.length > 0), 'the reads carry their user IP');
  t.same(readdirSync(join(st.dir, 'instances')), before, 'the instance is gone');
  await t.rejects(withInstance(st.dir, async () => { throw new Error('boom'); }), /boom/);
  t.same(readdirSync(join(st.dir, 'instances')), before, 'removed after a failure too');
});
