// SA_RESTART in cases (signals: {SIG: {action, restart}}): the spec language's form and its
// errors, the probe line, and what the flag changes — per restart code, as arch/x86/kernel/
// signal.c handle_signal decides it — in the simulator and, where the probes run, natively.
// Signals reach the sleeping call through the tracer's kill at the entry stop (PT-07).
import t from 'tap';
import { parseSpecText } from '../../harness/spec/load.js';
import { expandChecked, type ExpandedCase } from '../../harness/spec/expand.js';
import type { SpecError } from '../../harness/spec/errors.js';
import { encodeCase, probePath, runProbeSession } from '../../harness/targets/probe-runner.js';
import { runCase } from '../../sim/kernel/run.js';
import { getProfile } from '../../sim/profiles.js';
import { ERRNO, SIGNALS, X32_SYSCALL_BIT, type Abi } from '../../abi/constants.js';
import { numberOf } from '../../abi/tables/index.js';
import type { Case, Observation, PtraceAction, PtraceStopEvent } from '../../harness/contracts.js';
import { mkCase, nativeSkip, PROBE_DIR } from '../native/helpers.js';

const USR1 = SIGNALS.SIGUSR1;
const USR2 = SIGNALS.SIGUSR2;

function inline(body: string): { cases: ExpandedCase[]; errors: SpecError[] } {
  const text = `id: t.sa_restart\ntitle: t\ndescription: d\nrefs: [{kernel: k}]\ntags: [signals]\nabi: x86_64\n${body}`;
  const r = parseSpecText('inline.yaml', text);
  if (!r.spec) return { cases: [], errors: r.errors };
  const errors: SpecError[] = [];
  return { cases: expandChecked(r.spec, errors), errors };
}

t.test('spec: the map form sets Case.signals.restart; the scalar form and restart: false do not', async (t) => {
  const { cases, errors } = inline(`cases:
  - name: a
    call: pause
    signals:
      SIGUSR1: { action: record, restart: true }
      SIGUSR2: { action: record, restart: false }
      SIGALRM: { action: ignore, restart: true }
      SIGHUP: record
    expect: { errno: EINTR }
`);
  t.same(errors, []);
  const s = cases[0]!.case.signals;
  t.same(s.actions, { [USR1]: 'record', [USR2]: 'record', [SIGNALS.SIGALRM]: 'ignore', [SIGNALS.SIGHUP]: 'record' });
  t.same([...(s.restart ?? [])].sort((a, b) => a - b), [SIGNALS.SIGALRM, USR1].sort((a, b) => a - b));
  t.equal(cases[0]!.case.isolate, true, 'signal set-up isolates the case');
  const plain = inline(`cases:\n  - { name: b, call: pause, signals: { SIGUSR1: record }, expect: { errno: EINTR } }\n`);
  t.notOk('restart' in plain.cases[0]!.case.signals, 'no restart key without SA_RESTART (old Case shape)');
});

t.test('spec: restart varies with a placeholder', async (t) => {
  const { cases, errors } = inline(`cases:
  - name: p {r}
    vary: { r: [false, true] }
    call: pause
    signals: { SIGUSR1: { action: record, restart: "{r}" } }
    expect: { errno: EINTR }
`);
  t.same(errors, []);
  t.same(cases.map((c) => [c.name, c.case.signals.restart ?? []]), [['p false', []], ['p true', [USR1]]]);
});

t.test('spec: bad restart set-ups are refused at their line and column', async (t) => {
  const onDefault = inline(`cases:
  - name: a
    call: pause
    signals: { SIGUSR1: { action: default, restart: true } }
    expect: { errno: EINTR }
`);
  t.equal(onDefault.errors.length, 1);
  t.match(onDefault.errors[0]!, { line: 10, message: /restart: true needs action record.*SIGUSR1 is left at its default action/ });
  const typo = inline(`cases:
  - name: a
    call: pause
    signals: { SIGUSR1: { action: record, restrat: true } }
    expect: { errno: EINTR }
`);
  t.match(typo.errors.map((e) => e.message).join('\n'), /unknown key "restrat".*did you mean "restart"/);
  const noAction = inline(`cases:
  - name: a
    call: pause
    signals: { SIGUSR1: { restart: true } }
    expect: { errno: EINTR }
`);
  t.match(noAction.errors.map((e) => e.message).join('\n'), /missing required key "action"/);
  const badName = inline(`cases:
  - name: a
    call: pause
    signals: { SIGUSR1: { action: recrod, restart: true } }
    expect: { errno: EINTR }
`);
  t.match(badName.errors.map((e) => e.message).join('\n'), /"recrod".*did you mean "record"/);
  const kill = inline(`cases:
  - name: a
    call: pause
    signals: { SIGKILL: { action: record, restart: true } }
    expect: { errno: EINTR }
`);
  t.match(kill.errors.map((e) => e.message).join('\n'), /SIGKILL cannot be caught or ignored/);
});

t.test('probe line: `sig N D restart` only for the signals with SA_RESTART', async (t) => {
  const c = mkCase({ call: 'pause', isolate: true, signals: { actions: { [USR1]: 'record', [USR2]: 'ignore', [SIGNALS.SIGHUP]: 'record' }, blocked: [], restart: [USR1, USR2] } });
  const lines = encodeCase(c).split('\n').filter((l) => l.startsWith('sig '));
  t.same(lines.sort(), [`sig ${SIGNALS.SIGHUP} record`, `sig ${USR1} record restart`, `sig ${USR2} ignore restart`].sort());
});

// ---- behaviour: the same scenario in the simulator and natively --------------------------

const neg = (e: number, bits: 32 | 64): bigint => BigInt.asUintN(bits, -BigInt(e));
const stops = (o: Observation) => (o.events ?? []) as PtraceStopEvent[];
const act = (n: number, extra: Partial<PtraceAction>): PtraceAction => ({ stop: 'entry', n, set: {}, ...extra });
const nrOf = (abi: Abi, name: string): bigint => BigInt(numberOf(abi, name)) | (abi === 'x32' ? X32_SYSCALL_BIT : 0n);

/** read(p.r, b, 8) on an empty pipe; SIGUSR1 sent at the entry stop, then `more` actions. */
function pipeRead(abi: Abi, restart: number[], more: PtraceAction[] = [], actions: Case['signals']['actions'] = { [USR1]: 'record' }): Case {
  const argRegs = abi === 'i386' ? (['rbx', 'rcx', 'rdx'] as const) : (['rdi', 'rsi', 'rdx'] as const);
  return mkCase({
    abi, nr: nrOf(abi, 'read'), callName: 'read', isolate: true,
    fds: [{ name: 'p', kind: 'pipe', hex: '' }],
    memory: [{ name: 'b', size: 8, hex: '', fill: 0, prot: 'rw', place: abi === 'x86_64' ? 'anywhere' : 'low32', readback: false }],
    regs: { rax: { lit: nrOf(abi, 'read') }, [argRegs[0]]: { ref: 'fd', name: 'p.r' }, [argRegs[1]]: { ref: 'buf', name: 'b' }, [argRegs[2]]: { lit: 8n } },
    signals: { actions, blocked: [], ...(restart.length ? { restart } : {}) },
    ptrace: { options: ['tracesysgood'], mode: 'syscall', at: [act(1, { kill: USR1 }), ...more] },
  });
}

type T = Pick<typeof t, "equal" | "same">;

/** What both the sim and the kernel must show for the three pipe-read scenarios. */
function checkPipeRead(t: T, abi: Abi, o: { without: Observation; restarted: Observation; skipped: Observation }): void {
  // An i386 program's tracer is 32-bit: its registers compare at 32 bits.
  const bits = abi === 'i386' ? 32 : 64;
  const m = (v: bigint | undefined): bigint | undefined => (v === undefined ? v : BigInt.asUintN(bits, v));
  const read = nrOf(abi, 'read');
  const sigret = nrOf(abi, 'rt_sigreturn');
  const w = o.without;
  t.equal(w.outcome, 'returned', w.reason ?? '');
  t.equal(m(w.after?.rax), neg(ERRNO.EINTR, bits), 'no SA_RESTART: -ERESTARTSYS becomes -EINTR');
  t.same(stops(w).map((e) => m(e.orig_rax)), [read, read, sigret, BigInt.asUintN(bits, -1n)], 'read, its exit, the handler\'s rt_sigreturn');
  t.equal(m(stops(w)[1]!.rax), neg(ERRNO.ERESTARTSYS, bits), 'the exit stop shows the raw -ERESTARTSYS');

  const r = o.restarted;
  t.equal(r.outcome, 'returned', r.reason ?? '');
  t.equal(m(r.after?.rax), neg(ERRNO.EINTR, bits), 'the second signal\'s handler has no SA_RESTART: -EINTR at last');
  t.same((r.delivered ?? []).map((d) => d.signo), [USR1, USR2]);
  const ev = stops(r);
  t.same(ev.map((e) => e.stop), ['entry', 'exit', 'entry', 'exit', 'entry', 'exit', 'entry', 'exit']);
  t.equal(m(ev[3]!.rip), m(r.env.entry_ip), 'after SA_RESTART, rt_sigreturn lands on the entry instruction again');
  t.equal(m(ev[3]!.rax), read, '... with the number back in ax');
  t.equal(m(ev[4]!.orig_rax), read, 'the next entry stop is read again');
  t.same(ev[4]!.args.slice(0, 3).map(m), ev[0]!.args.slice(0, 3).map(m), 'with the same arguments');
  t.equal(m(ev[5]!.rax), neg(ERRNO.ERESTARTSYS, bits));

  const s = o.skipped;
  t.equal(s.outcome, 'returned', s.reason ?? '');
  t.equal(m(s.after?.rax), 0x77n, 'the restarted read was there to be skipped by the tracer');
  t.same((s.delivered ?? []).map((d) => d.signo), [USR1]);
}

const scenarios = (abi: Abi) => ({
  without: pipeRead(abi, []),
  restarted: pipeRead(abi, [USR1], [act(3, { kill: USR2 })], { [USR1]: 'record', [USR2]: 'record' }),
  skipped: pipeRead(abi, [USR1], [act(3, { set: { orig_rax: BigInt.asUintN(64, -1n), rax: 0x77n } })]),
});

for (const [abi, profile] of [['x86_64', 'linux-7.0-intel'], ['i386', 'linux-7.0-amd'], ['x32', 'linux-7.0-intel-x32']] as const) {
  t.test(`sim ${abi}: SA_RESTART restarts a -ERESTARTSYS read after the handler, without it -EINTR`, async (t) => {
    const P = getProfile(profile);
    const sc = scenarios(abi);
    checkPipeRead(t, abi, { without: runCase(sc.without, P), restarted: runCase(sc.restarted, P), skipped: runCase(sc.skipped, P) });
  });
}

t.test('sim: SA_RESTART changes nothing for -ERESTARTNOHAND (pause) or -ERESTART_RESTARTBLOCK (nanosleep)', async (t) => {
  const P = getProfile('linux-7.0-intel');
  for (const restart of [[], [USR1]]) {
    const pause = runCase(mkCase({ nr: nrOf('x86_64', 'pause'), regs: { rax: { lit: nrOf('x86_64', 'pause') } }, isolate: true, signals: { actions: { [USR1]: 'record' }, blocked: [], restart },
      ptrace: { options: [], mode: 'syscall', at: [act(1, { kill: USR1 })] } }), P);
    t.equal(pause.after?.rax, neg(ERRNO.EINTR, 64), `pause, restart ${JSON.stringify(restart)}: -EINTR`);
    t.equal(stops(pause)[1]!.rax, neg(ERRNO.ERESTARTNOHAND, 64));
    const sleep = runCase(mkCase({ nr: nrOf('x86_64', 'nanosleep'), isolate: true,
      memory: [{ name: 'ts', size: 16, hex: '0200000000000000', fill: 0, prot: 'rw', place: 'anywhere', readback: false }],
      regs: { rax: { lit: nrOf('x86_64', 'nanosleep') }, rdi: { ref: 'buf', name: 'ts' } },
      signals: { actions: { [USR1]: 'record' }, blocked: [], restart },
      ptrace: { options: [], mode: 'syscall', at: [act(1, { kill: USR1 })] } }), P);
    t.equal(sleep.after?.rax, neg(ERRNO.EINTR, 64), `nanosleep, restart ${JSON.stringify(restart)}: -EINTR`);
    t.equal(stops(sleep)[1]!.rax, neg(ERRNO.ERESTART_RESTARTBLOCK, 64));
  }
});

for (const abi of ['x86_64', 'i386'] as const) {
  const skip = nativeSkip(abi);
  t.test(`native ${abi}: the kernel agrees (SA_RESTART set by the probe)`, { skip }, async (t) => {
    const sc = scenarios(abi);
    const [without, restarted, skipped] = await runProbeSession([probePath(PROBE_DIR, abi)], [sc.without, sc.restarted, sc.skipped]);
    if (without!.outcome === 'unsupported') { t.skip(`ptrace not available: ${without!.reason}`, async () => {}); return; }
    checkPipeRead(t, abi, { without: without!, restarted: restarted!, skipped: skipped! });
  });
}

t.test('native: the probe refuses restart with a default action or an unknown flag, case by case', { skip: nativeSkip('x86_64') }, async (t) => {
  const { execa } = await import('execa');
  const ok = encodeCase(mkCase({ call: 'getpid', isolate: true, signals: { actions: { [USR1]: 'record' }, blocked: [], restart: [USR1] } }));
  const input = ['default restart', 'record sometimes'].map((d, i) => `case bad-${i}\nsig ${USR1} ${d}\nend\n`).join('') + ok;
  const r = await execa(probePath(PROBE_DIR, 'x86_64'), { input, reject: false });
  const lines = r.stdout.trim().split('\n');
  t.equal(lines.length, 3);
  t.match(lines[0]!, /"outcome":"error".*bad signal disposition/);
  t.match(lines[1]!, /"outcome":"error".*bad signal disposition/);
  t.match(lines[2]!, /"outcome":"returned"/, 'a well-formed restart line runs');
});
