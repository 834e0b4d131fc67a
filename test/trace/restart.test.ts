// Restarting system calls (issue 7, PT-06/PT-07): the spec language's rewind:/kill: tracer
// actions, and the simulator's restart model checked against arch/x86/kernel/signal.c
// (arch_do_signal_or_restart with no handler, handle_signal with one), kernel/signal.c
// (sys_pause, sig_ignored for a traced task) and the tracer's manual restart of
// tools/testing/selftests/x86/ptrace_syscall.c. Numbers come from the syscall tables.
import t from 'tap';
import { parseSpecText } from '../../harness/spec/load.js';
import { expandChecked, type ExpandedCase } from '../../harness/spec/expand.js';
import type { SpecError } from '../../harness/spec/errors.js';
import { runCase } from '../../sim/kernel/run.js';
import { getProfile } from '../../sim/profiles.js';
import { ERRNO, SIGNALS } from '../../abi/constants.js';
import { numberOf } from '../../abi/tables/index.js';
import type { Case, PtraceAction, PtraceScript, PtraceStopEvent } from '../../harness/contracts.js';
import { mkCase, lit } from '../sim/kernel/helpers.js';

const P = getProfile('linux-7.0-intel');
const AMD = getProfile('linux-7.0-amd');
const neg = (e: number, bits: 32 | 64 = 64): bigint => BigInt.asUintN(bits, -BigInt(e));
const stops = (o: { events?: unknown[] }) => (o.events ?? []) as PtraceStopEvent[];
const script = (at: PtraceAction[], s: Partial<PtraceScript> = {}): PtraceScript => ({ options: ['tracesysgood'], mode: 'syscall', at, ...s });
const nr64 = (n: string) => BigInt(numberOf('x86_64', n));
const nr32 = (n: string) => BigInt(numberOf('i386', n));
const act = (stop: PtraceAction['stop'], n: number, extra: Partial<PtraceAction> = {}): PtraceAction => ({ stop, n, set: {}, ...extra });
const SKIP0 = { orig_rax: BigInt.asUintN(64, -1n), rax: 0n };
/** A pause() case with SIGUSR1 set to `disp`, traced by `at`. */
const pauseCase = (at: PtraceAction[], disp: 'ignore' | 'record' | 'default' = 'ignore', over: Partial<Case> = {}): Case => {
  const abi = over.abi ?? 'x86_64';
  const nr = abi === 'i386' ? nr32('pause') : nr64('pause');
  return mkCase({ nr, regs: { rax: lit(nr) }, ptrace: script(at), isolate: true, signals: { actions: { [SIGNALS.SIGUSR1]: disp }, blocked: [] }, ...over });
};

function inline(body: string): { cases: ExpandedCase[]; errors: SpecError[] } {
  const text = `id: t.rs\ntitle: t\ndescription: d\nrefs: [{kernel: k}]\ntags: [ptrace]\n${body}`;
  const r = parseSpecText('inline.yaml', text);
  if (!r.spec) return { cases: [], errors: r.errors };
  const errors: SpecError[] = [];
  return { cases: expandChecked(r.spec, errors), errors };
}

t.test('spec: rewind and kill map to the contract, a signal by name or number', async (t) => {
  const { cases, errors } = inline(`abi: x86_64
cases:
  - name: a
    call: pause
    ptrace: { at: [{ stop: entry, kill: SIGUSR1 }, { stop: exit, rewind: true, kill: 12 }, { stop: entry, n: 2 }] }
    expect: { ret: 0 }
`);
  t.same(errors, []);
  t.same(cases[0]!.case.ptrace!.at, [
    { stop: 'entry', n: 1, set: {}, kill: SIGNALS.SIGUSR1 },
    { stop: 'exit', n: 1, set: {}, rewind: true, kill: SIGNALS.SIGUSR2 },
    { stop: 'entry', n: 2, set: {} },
  ], 'rewind only when true, kill as a number; absent keys stay absent');
});

t.test('spec: bad kill values and stop signals are refused at their line and column', async (t) => {
  const { errors } = inline(`abi: x86_64
cases:
  - name: a
    call: pause
    ptrace: { at: [{ stop: entry, kill: SIGNOPE }, { stop: exit, kill: 65 }, { stop: entry, n: 2, kill: SIGSTOP }] }
    expect: { ret: 0 }
`);
  const msgs = errors.map((e) => e.message);
  t.ok(msgs.some((m) => /kill: expected a signal name .* found "SIGNOPE"/.test(m)), 'unknown name');
  t.ok(msgs.some((m) => /kill: expected a signal .* found "65"/.test(m)), 'out of range');
  t.ok(msgs.some((m) => /SIGSTOP is a stop signal/.test(m)), 'stop signals refused');
  const kill = errors.find((e) => /SIGNOPE/.test(e.message))!;
  t.equal(kill.line, 10, "line of the case's ptrace key (5 header lines + 5)");
  t.ok(kill.col > 20, `the column points at the action, found ${kill.col}`);
  const bad = inline(`abi: x86_64
cases:
  - name: b
    call: pause
    ptrace: { at: [{ stop: entry, rewind: yes }] }
    expect: { ret: 0 }
`);
  t.ok(bad.errors.some((e) => e.line === 10 && /rewind/.test(e.message)), 'rewind: yes (a string) is refused by the schema on its line');
});

t.test('sim PT-06: a SYSEMU rewind re-executes the SYSCALL with the same number and arguments', async (t) => {
  const args = { rdi: lit(10), rsi: lit(11), rdx: lit(12), r10: lit(13), r8: lit(14), r9: lit(15) };
  const o = runCase(mkCase({ nr: nr64('gettid'), regs: { rax: lit(nr64('gettid')), ...args }, isolate: true,
    ptrace: script([act('entry', 1, { rewind: true }), act('entry', 2, { set: { rax: 45000n } })], { mode: 'sysemu' }) }), P);
  t.equal(o.outcome, 'returned', o.reason ?? '');
  const ev = stops(o);
  t.same(ev.map((e) => e.stop), ['entry', 'entry']);
  t.equal(ev[1]!.orig_rax, nr64('gettid'));
  t.same(ev[1]!.args, [10n, 11n, 12n, 13n, 14n, 15n]);
  t.equal(ev[1]!.rip, o.env.next_ip, 'the re-executed SYSCALL stops with rip after it again');
  t.equal(o.after?.rax, 45000n);
});

t.test('sim PT-06: a rewind with a new number and arguments is what the next stop carries', async (t) => {
  const o = runCase(mkCase({ nr: nr64('gettid'), regs: { rax: lit(nr64('gettid')) }, isolate: true,
    ptrace: script([act('entry', 1, { set: { orig_rax: nr64('getpid'), rdi: 20n, r9: 25n }, rewind: true })], { mode: 'sysemu' }) }), P);
  const ev = stops(o);
  t.equal(ev[1]!.orig_rax, nr64('getpid'), 'rax = orig_rax carried the new number into the SYSCALL');
  t.equal(ev[1]!.args[0], 20n);
  t.equal(ev[1]!.args[5], 25n);
  t.equal(ev[1]!.info?.nr, nr64('getpid'));
  t.equal(o.after?.rax, neg(ERRNO.ENOSYS), 'SYSEMU ran nothing: -ENOSYS stays');
});

t.test('sim PT-06: i386 fast syscalls restart through the int $0x80 before the vDSO landing pad', async (t) => {
  for (const prof of [P, AMD]) {
    const o = runCase(mkCase({ abi: 'i386', entry: 'vdso', nr: nr32('gettid'), regs: { rax: lit(nr32('gettid')), rbx: lit(10) }, isolate: true,
      ptrace: script([act('entry', 1, { rewind: true }), act('entry', 2, { set: { rax: 45002n } })], { mode: 'sysemu' }) }), prof, { explain: true });
    t.equal(o.outcome, 'returned', `${prof.name}: ${o.reason ?? ''}`);
    const ev = stops(o);
    t.equal(ev.length, 2, `${prof.name}: two entry stops`);
    t.equal(ev[0]!.rip, ev[1]!.rip, 'both stops at the landing pad (int $0x80 returns there too)');
    t.equal(ev[1]!.args[0], 10n, 'ebx survives the restart');
    t.equal(o.after?.rax, 45002n);
    t.equal(o.after?.rip, o.env.next_ip, 'the landing pad returned to the caller');
    t.ok(o.steps!.some((s) => /vDSO's int \$0x80 .* runs again/.test(s)), 'explained as the vDSO int $0x80');
  }
});

t.test('sim PT-07: pause with an ignored signal: -ERESTARTNOHAND at the exit stop, then pause again', async (t) => {
  for (const abi of ['x86_64', 'i386'] as const) {
    const bits = abi === 'i386' ? 32 : 64;
    const pause = abi === 'i386' ? nr32('pause') : nr64('pause');
    const o = runCase(pauseCase([act('entry', 1, { kill: SIGNALS.SIGUSR1 }), act('entry', 2, { set: SKIP0 })], 'ignore', { abi }), P);
    t.equal(o.outcome, 'returned', o.reason ?? '');
    const ev = stops(o);
    t.same(ev.map((e) => e.stop), ['entry', 'exit', 'entry', 'exit'], `${abi}: the call is entered twice`);
    t.equal(ev[1]!.orig_rax, pause, 'exit stop: the number unchanged');
    t.equal(BigInt.asUintN(bits, ev[1]!.rax), neg(ERRNO.ERESTARTNOHAND, bits), 'exit stop: -ERESTARTNOHAND, before the exit path converts it');
    t.equal(ev[2]!.orig_rax, pause, 'the kernel restarted pause (ax = orig_ax)');
    t.equal(ev[2]!.rip, o.env.next_ip, 'and ip -= 2 re-executed the same entry instruction');
    t.equal(BigInt.asUintN(bits, ev[2]!.rax), neg(ERRNO.ENOSYS, bits), 'a fresh entry: ax = -ENOSYS again');
    t.equal(o.after?.rax, 0n, 'the skipped restart returned the tracer\'s 0');
    t.notOk(o.delivered, 'an ignored signal reaches no handler');
  }
});

t.test('sim PT-07: with a handler, -ERESTARTNOHAND becomes -EINTR and rt_sigreturn has its stops', async (t) => {
  const o = runCase(pauseCase([act('entry', 1, { kill: SIGNALS.SIGUSR1 })], 'record'), P);
  t.equal(o.outcome, 'returned', o.reason ?? '');
  t.equal(o.after?.rax, neg(ERRNO.EINTR), 'handle_signal: ERESTARTNOHAND → -EINTR');
  t.same(o.delivered?.map((d) => d.signo), [SIGNALS.SIGUSR1]);
  const ev = stops(o);
  t.same(ev.map((e) => e.stop), ['entry', 'exit', 'entry', 'exit']);
  t.equal(ev[2]!.orig_rax, nr64('rt_sigreturn'), 'the restorer\'s rt_sigreturn is stopped at');
  t.equal(ev[3]!.orig_rax, BigInt.asUintN(64, -1n), 'restore_sigcontext: orig_ax = -1');
  t.equal(ev[3]!.rax, neg(ERRNO.EINTR), 'and ax as the interrupted call returned');
  t.equal(ev[3]!.rip, o.env.next_ip);
});

t.test('sim PT-07: the restart reads the registers the tracer left at the exit stop', async (t) => {
  const changed = runCase(pauseCase([act('entry', 1, { kill: SIGNALS.SIGUSR1 }), act('exit', 1, { set: { rax: 7n } })]), P);
  t.equal(changed.after?.rax, 7n, 'no -ERESTART* left: no restart');
  t.equal(stops(changed).length, 2);
  const hidden = runCase(pauseCase([act('entry', 1, { kill: SIGNALS.SIGUSR1 }), act('exit', 1, { set: { orig_rax: BigInt.asUintN(64, -1n) } })]), P);
  t.equal(hidden.after?.rax, neg(ERRNO.ERESTARTNOHAND), 'orig_ax -1: "not from a syscall", the raw -514 reaches user space');
  t.equal(stops(hidden).length, 2);
});

t.test('sim: pause with nothing pending sleeps (timeout); a blocked signal does not wake it', async (t) => {
  const o = runCase(pauseCase([]), P);
  t.equal(o.outcome, 'timeout');
  t.match(o.reason ?? '', /pause\(\) sleeps until a signal arrives/);
  const blocked = runCase(pauseCase([act('entry', 1, { kill: SIGNALS.SIGUSR1 })], 'ignore', { signals: { actions: { [SIGNALS.SIGUSR1]: 'ignore' }, blocked: [SIGNALS.SIGUSR1] } }), P);
  t.equal(blocked.outcome, 'timeout', 'signal_pending() ignores blocked signals');
});

t.test('sim: a default-fatal signal from the tracer kills the tracee; SIGKILL at a stop ends it there', async (t) => {
  const fatal = runCase(pauseCase([act('entry', 1, { kill: SIGNALS.SIGUSR1 })], 'default'), P);
  t.equal(fatal.outcome, 'killed');
  t.equal(fatal.exit?.signal, SIGNALS.SIGUSR1);
  t.same(stops(fatal).map((e) => e.stop), ['entry', 'exit'], 'the exit stop comes before the signal is acted on');
  const k9 = runCase(pauseCase([act('entry', 1, { kill: SIGNALS.SIGKILL })]), P);
  t.equal(k9.outcome, 'killed');
  t.equal(k9.exit?.signal, SIGNALS.SIGKILL);
  t.same(stops(k9).map((e) => e.stop), ['entry'], 'no stop after SIGKILL (ptrace_stop gives up on a fatal signal)');
});

t.test('sim: a call restarted for ever is bounded', async (t) => {
  // Rewinding at every exit stop re-runs gettid without end.
  const at = Array.from({ length: 16 }, (_, i) => act('exit', i + 1, { rewind: true }));
  const o = runCase(mkCase({ nr: nr64('gettid'), regs: { rax: lit(nr64('gettid')) }, isolate: true, ptrace: script(at) }), P);
  t.equal(o.outcome, 'returned', 'the 17th round is not rewound and returns');
  t.equal(stops(o).length, 34);
  const forever = Array.from({ length: 17 }, (_, i) => act('exit', i + 1, { rewind: true }));
  const o2 = runCase(mkCase({ nr: nr64('gettid'), regs: { rax: lit(nr64('gettid')) }, isolate: true, ptrace: script(forever) }), P);
  t.equal(o2.outcome, 'timeout');
  t.match(o2.reason ?? '', /restarted 16 times/);
});
