// ptrace in the spec language and the simulator (issue 7): the `ptrace:` key and `events:`
// expectations, and the sim's stops checked against kernel/entry/common.c (syscall_trace_enter,
// syscall_exit_work), kernel/ptrace.c (ptrace_get_syscall_info) and kernel/seccomp.c
// (SECCOMP_RET_TRACE). Expected values come from the kernel source and ABI-FACTS §4.3/§8.6.
import t from 'tap';
import { parseSpecText } from '../../harness/spec/load.js';
import { expandChecked, type ExpandedCase } from '../../harness/spec/expand.js';
import type { SpecError } from '../../harness/spec/errors.js';
import { check } from '../../harness/check.js';
import { runCase } from '../../sim/kernel/run.js';
import { getProfile } from '../../sim/profiles.js';
import { AUDIT_ARCH, ERRNO, SIGNALS } from '../../abi/constants.js';
import type { PtraceScript, PtraceStopEvent } from '../../harness/contracts.js';
import { compileRules } from '../../harness/seccomp/rules.js';
import { mkCase, lit } from '../sim/kernel/helpers.js';

const P = getProfile('linux-7.0-intel');
const ENOSYS = BigInt.asUintN(64, -BigInt(ERRNO.ENOSYS));
const script = (s: Partial<PtraceScript>): PtraceScript => ({ options: [], mode: 'syscall', at: [], ...s });
const stops = (o: { events?: unknown[] }) => (o.events ?? []) as PtraceStopEvent[];

function inline(body: string): { cases: ExpandedCase[]; errors: SpecError[] } {
  const text = `id: t.pt\ntitle: t\ndescription: d\nrefs: [{kernel: k}]\ntags: [ptrace]\n${body}`;
  const r = parseSpecText('inline.yaml', text);
  if (!r.spec) return { cases: [], errors: r.errors };
  const errors: SpecError[] = [];
  return { cases: expandChecked(r.spec, errors), errors };
}

t.test('spec: ptrace builds Case.ptrace with names resolved per table, and isolates', async (t) => {
  const { cases, errors } = inline(`abi: [x86_64, i386]
cases:
  - name: a
    call: gettid
    ptrace: { options: [tracesysgood], at: [{ stop: entry, set: { nr: getppid, args: [1, 2] } }] }
    expect: { ret: 0 }
`);
  t.same(errors, []);
  const [c64, c32] = cases.map((c) => c.case);
  t.equal(c64!.isolate, true, 'a tracee stays traced: own process');
  t.same(c64!.ptrace, { options: ['tracesysgood'], mode: 'syscall', at: [{ stop: 'entry', n: 1, set: { orig_rax: 110n, rdi: 1n, rsi: 2n } }] });
  // i386: getppid is 64 and the first two arguments are ebx, ecx.
  t.same(c32!.ptrace?.at[0]?.set, { orig_rax: 64n, rbx: 1n, rcx: 2n });
});

t.test('spec: impossible stops and unknown registers are refused where they are written', async (t) => {
  const { errors } = inline(`abi: x86_64
cases:
  - name: a
    call: gettid
    ptrace: { mode: sysemu, at: [{ stop: exit, set: { rax: 1 } }, { stop: seccomp }, { stop: entry, set: { cr3: 0 } }] }
    expect: { ret: 0 }
`);
  const msgs = errors.map((e) => e.message).join('\n');
  t.match(msgs, /exit stop needs mode: syscall/);
  t.match(msgs, /seccomp stop needs options: \[traceseccomp\]/);
  t.match(msgs, /"cr3" is not a register a tracer writes/);
  t.ok(errors.every((e) => e.line >= 5), 'errors point into the case');
});

t.test('check: events are a prefix in order; a wrong value or a missing stop fails', async (t) => {
  const mk = (events: string) => inline(`abi: x86_64
cases:
  - name: a
    call: getppid
    ptrace: {}
    expect: { ret: $ppid, events: ${events} }
`).cases[0]!;
  const good = mk('[{stop: entry, rax: {errno: ENOSYS}}]');
  const obs = runCase(good.case, P);
  t.equal(check(good, obs, 'sim').status, 'pass');
  const wrongVal = check(mk('[{stop: entry, rax: 0}]'), obs, 'sim');
  t.equal(wrongVal.status, 'fail');
  t.equal(wrongVal.diffs[0]?.field, 'events.0.rax');
  const wrongOrder = check(mk('[{stop: exit}]'), obs, 'sim');
  t.equal(wrongOrder.diffs[0]?.field, 'events.0.stop');
  const tooMany = check(mk('[{stop: entry}, {stop: exit}, {stop: entry}]'), obs, 'sim');
  t.match(tooMany.reason, /only 2 stop/);
});

t.test('sim PT-01: entry stop view for SYSCALL (full RAX in orig_rax) and int $0x80 (eax zero-extended)', async (t) => {
  const rax = (0xdeadn << 32n) | 110n;
  const o = runCase(mkCase({ nr: 110n, regs: { rax: lit(rax), rdi: lit(5), r10: lit(7) }, ptrace: script({ options: ['tracesysgood'] }), isolate: true }), P);
  const [en, ex] = stops(o);
  t.equal(en?.stop, 'entry');
  t.equal(en?.sig, SIGNALS.SIGTRAP | 0x80, 'TRACESYSGOOD: SIGTRAP|0x80');
  t.equal(en?.orig_rax, rax, 'entry_SYSCALL_64 pushes all of RAX as orig_ax');
  t.equal(en?.rax, ENOSYS, 'pt_regs->ax is preset to -ENOSYS');
  t.equal(en?.args[0], 5n);
  t.equal(en?.args[3], 7n, 'the fourth argument is r10');
  t.equal(en?.eventmsg, 1n, 'PTRACE_EVENTMSG_SYSCALL_ENTRY');
  t.equal(en?.info?.nr, 110n, 'syscall_get_nr is (int)orig_ax');
  t.equal(en?.info?.arch, AUDIT_ARCH.X86_64);
  t.equal(ex?.stop, 'exit');
  t.equal(ex?.eventmsg, 2n, 'PTRACE_EVENTMSG_SYSCALL_EXIT');
  t.equal(ex?.rax, o.env.ppid, 'exit stop sees the result');
  t.equal(ex?.info?.op, 2);
  const i80 = runCase(mkCase({ entry: 'int80', nr: 64n, regs: { rax: lit(64n) }, ptrace: script({}), isolate: true }), P);
  t.equal(stops(i80)[0]?.orig_rax, 64n);
  t.equal(stops(i80)[0]?.sig, SIGNALS.SIGTRAP, 'no TRACESYSGOOD: plain SIGTRAP');
  t.equal(stops(i80)[0]?.info?.arch, AUDIT_ARCH.I386, 'TS_COMPAT → AUDIT_ARCH_I386');
});

t.test('sim PT-03/05: nr -1 keeps the tracer rax; a valid call overwrites it', async (t) => {
  const skip = runCase(mkCase({ nr: 186n, regs: { rax: lit(186) }, ptrace: script({ at: [{ stop: 'entry', n: 1, set: { orig_rax: BigInt.asUintN(64, -1n), rax: 45000n } }] }), isolate: true }), P);
  t.equal(skip.after?.rax, 45000n);
  const valid = runCase(mkCase({ nr: 110n, regs: { rax: lit(110) }, ptrace: script({ at: [{ stop: 'entry', n: 1, set: { rax: BigInt.asUintN(64, -9999n) } }] }), isolate: true }), P);
  t.equal(valid.after?.rax, valid.env.ppid);
});

t.test('sim PT-06: SYSEMU gives one stop and runs nothing', async (t) => {
  const o = runCase(mkCase({ nr: 186n, regs: { rax: lit(186) }, ptrace: script({ mode: 'sysemu' }), isolate: true }), P);
  t.equal(stops(o).length, 1);
  t.equal(o.after?.rax, ENOSYS);
});

t.test('sim PT-08: ptrace before seccomp; SECCOMP_RET_TRACE stop carries the data', async (t) => {
  const deny = { mode: 'filter' as const, filters: [compileRules([{ syscall: 'getppid', action: 'errno(EPERM)' }, { default: 'allow' }])] };
  const o = runCase(mkCase({ nr: 186n, regs: { rax: lit(186) }, seccomp: deny, ptrace: script({ at: [{ stop: 'entry', n: 1, set: { orig_rax: 110n } }] }), isolate: true }), P);
  t.equal(o.after?.rax, BigInt.asUintN(64, -BigInt(ERRNO.EPERM)), 'the filter saw the redirected getppid');
  const trace = { mode: 'filter' as const, filters: [compileRules([{ syscall: 'gettid', action: 'trace(0x42)' }, { default: 'allow' }])] };
  const s = runCase(mkCase({ nr: 186n, regs: { rax: lit(186) }, seccomp: trace, ptrace: script({ mode: 'cont', options: ['traceseccomp'] }), isolate: true }), P);
  t.equal(stops(s).length, 1, 'PTRACE_CONT: only the event stop');
  t.equal(stops(s)[0]?.event, 7, 'PTRACE_EVENT_SECCOMP');
  t.equal(stops(s)[0]?.eventmsg, 0x42n);
  t.equal(s.after?.rax, s.env.tid, 'after the stop the recheck allows the call');
  const noOpt = runCase(mkCase({ nr: 186n, regs: { rax: lit(186) }, seccomp: trace, ptrace: script({ mode: 'cont' }), isolate: true }), P);
  t.equal(noOpt.after?.rax, ENOSYS, 'TRACE without PTRACE_O_TRACESECCOMP: -ENOSYS');
});
