// The probe's ptrace tracer (probes/ptrace.c) on the real kernel: the stops of the case's own
// call only, their register views (PT-01), the tracer's manual restart under SYSEMU (PT-06),
// the kernel's restart of an interrupted call under ptrace (PT-07), and the runner's strict
// reading of reported events. Expected values come from ABI-FACTS §8.6 and from what the
// probe saw itself (ppid, next_ip), not from hard-coded addresses.

import t from 'tap';
import { AUDIT_ARCH, ERRNO, SIGNALS, errnoReturn } from '../../abi/constants.js';
import { numberOf } from '../../abi/tables/index.js';
import type { Case, Observation, PtraceScript, PtraceStopEvent } from '../../harness/contracts.js';
import { decodeObservation, encodeCase, ProtocolError, probePath, runProbeSession } from '../../harness/targets/probe-runner.js';
import { mkCase, nativeSkip, PROBE_DIR } from './helpers.js';

const skip = nativeSkip('x86_64');
const stops = (o: Observation): PtraceStopEvent[] => (o.events ?? []) as PtraceStopEvent[];
const traced = (call: string, ptrace: PtraceScript, extra: Partial<Case> = {}): Case =>
  mkCase({ call, ptrace, isolate: true, ...extra });
const run = async (...cs: Case[]): Promise<Observation[]> => runProbeSession([probePath(PROBE_DIR, 'x86_64')], cs);

t.test('PT-01: only the case call is recorded, with the entry and exit register views', { skip }, async (t) => {
  const args = [0x11n, 0x22n, 0x33n, 0x44n, 0x55n, 0x66n];
  const regs = { rdi: { lit: args[0] }, rsi: { lit: args[1] }, rdx: { lit: args[2] }, r10: { lit: args[3] }, r8: { lit: args[4] }, r9: { lit: args[5] } };
  const [o] = await run(traced('getppid', { options: ['tracesysgood'], mode: 'syscall', at: [] }, { regs }));
  t.equal(o!.outcome, 'returned', o!.reason ?? '');
  const ev = stops(o!);
  t.same(ev.map((e) => e.stop), ['entry', 'exit'], 'exactly one entry and one exit stop: no set-up or tear-down syscalls');
  const [en, ex] = ev;
  const nr = BigInt(numberOf('x86_64', 'getppid'));
  t.equal(en!.sig, SIGNALS.SIGTRAP | 0x80, 'TRACESYSGOOD: SIGTRAP|0x80');
  t.equal(en!.orig_rax, nr, 'orig_rax = the number');
  t.equal(en!.rax, errnoReturn('ENOSYS', 64), 'rax = -ENOSYS at entry');
  t.equal(en!.rip, o!.env.next_ip, 'rip = the instruction after SYSCALL');
  t.same(en!.args, args, 'the six argument registers');
  t.equal(en!.eventmsg, 1n, 'GETEVENTMSG 1 at entry (v5.3)');
  t.equal(en!.info?.op, 1, 'GET_SYSCALL_INFO op entry');
  t.equal(en!.info?.arch, AUDIT_ARCH.X86_64);
  t.equal(en!.info?.nr, nr);
  t.equal(ex!.rax, o!.env.ppid, 'exit stop: rax = the result');
  t.equal(ex!.eventmsg, 2n, 'GETEVENTMSG 2 at exit');
  t.equal(ex!.info?.rval, o!.env.ppid);
  t.equal(o!.after?.rax, o!.env.ppid, 'the tracee saw the result');
});

t.test('PT-06: a tracer restarts a call under SYSEMU by rip -= 2', { skip }, async (t) => {
  const gettid = BigInt(numberOf('x86_64', 'gettid'));
  const getpid = BigInt(numberOf('x86_64', 'getpid'));
  const regs = { rdi: { lit: 10n }, rsi: { lit: 11n }, rdx: { lit: 12n }, r10: { lit: 13n }, r8: { lit: 14n }, r9: { lit: 15n } };
  const [o] = await run(traced('gettid', {
    options: ['tracesysgood'], mode: 'sysemu', at: [
      { stop: 'entry', n: 1, set: {}, rewind: true },
      { stop: 'entry', n: 2, set: { orig_rax: getpid, rdi: 20n, rsi: 21n, rdx: 22n, r10: 23n, r8: 24n, r9: 25n }, rewind: true },
      { stop: 'entry', n: 3, set: { rax: 45000n } },
    ],
  }, { regs }));
  t.equal(o!.outcome, 'returned', o!.reason ?? '');
  const ev = stops(o!);
  t.same(ev.map((e) => e.stop), ['entry', 'entry', 'entry'], 'SYSEMU: entry stops only, one per (re)start');
  t.equal(ev[1]!.orig_rax, gettid, 'the same number seen again after the restart');
  t.same(ev[1]!.args, [10n, 11n, 12n, 13n, 14n, 15n], 'and the same arguments');
  t.equal(ev[1]!.rip, o!.env.next_ip, 'rip back after the SYSCALL instruction');
  // rax = orig_rax was written with the new number: the restarted SYSCALL loads it.
  t.equal(ev[2]!.orig_rax, getpid, 'the changed number is what the restarted call carries');
  t.same(ev[2]!.args, [20n, 21n, 22n, 23n, 24n, 25n], 'the changed arguments too');
  t.equal(o!.after?.rax, 45000n, 'the tracee sees the last stop\'s rax (SYSEMU ran nothing)');
});

t.test('PT-07: pause() interrupted under ptrace exits with -ERESTARTNOHAND and is restarted', { skip }, async (t) => {
  const pause = BigInt(numberOf('x86_64', 'pause'));
  const [o] = await run(traced('pause', {
    options: ['tracesysgood'], mode: 'syscall', at: [
      // SIGUSR1 is ignored, yet queued for a traced task (sig_ignored() lets tracers see it).
      { stop: 'entry', n: 1, set: {}, kill: SIGNALS.SIGUSR1 },
      // The restarted pause would sleep for good: skip it with the result 0.
      { stop: 'entry', n: 2, set: { orig_rax: BigInt.asUintN(64, -1n), rax: 0n } },
    ],
  }, { signals: { actions: { [SIGNALS.SIGUSR1]: 'ignore' }, blocked: [] } }));
  t.equal(o!.outcome, 'returned', o!.reason ?? '');
  const ev = stops(o!);
  t.same(ev.map((e) => e.stop), ['entry', 'exit', 'entry', 'exit'], 'entry, exit, then the restarted call');
  t.equal(ev[0]!.orig_rax, pause);
  t.equal(ev[1]!.orig_rax, pause, 'exit stop: number unchanged');
  t.equal(ev[1]!.rax, errnoReturn(ERRNO.ERESTARTNOHAND, 64), 'exit stop: rax = -ERESTARTNOHAND (-514)');
  t.equal(ev[2]!.orig_rax, pause, 'the kernel restarted pause (ip -= 2, ax = orig_ax)');
  t.equal(ev[2]!.rip, o!.env.next_ip, 'the restart re-executed the same SYSCALL');
  t.equal(o!.after?.rax, 0n, 'the tracee got the skipped call\'s 0');
});

t.test('a seccomp kill after a redirect: killed, stops before it reported', { skip }, async (t) => {
  // RET_KILL_PROCESS for every getppid; the tracer redirects gettid to it (PT-08).
  const getppid = numberOf('x86_64', 'getppid');
  const filter = [
    { code: 0x20, jt: 0, jf: 0, k: 0 }, // ld [0] (nr)
    { code: 0x15, jt: 0, jf: 1, k: getppid }, // jeq #getppid
    { code: 0x06, jt: 0, jf: 0, k: 0x80000000 }, // ret KILL_PROCESS
    { code: 0x06, jt: 0, jf: 0, k: 0x7fff0000 }, // ret ALLOW
  ];
  const [o, next] = await run(
    traced('gettid', { options: [], mode: 'syscall', at: [{ stop: 'entry', n: 1, set: { orig_rax: BigInt(getppid) } }] },
      { seccomp: { mode: 'filter', filters: [filter] } }),
    mkCase({ call: 'getpid' }),
  );
  t.equal(o!.outcome, 'killed');
  t.equal(o!.exit?.signal, SIGNALS.SIGSYS);
  t.ok(stops(o!).length >= 1 && stops(o!)[0]!.stop === 'entry', 'the entry stop is in the killed case\'s observation');
  t.equal(next!.outcome, 'returned', 'the probe goes on');
});

t.test('a malformed ptrace line is an error for that case only', { skip }, async (t) => {
  const c = traced('getpid', { options: [], mode: 'syscall', at: [] });
  const text = encodeCase(c).replace('ptrace - syscall', 'ptrace - sideways');
  const { execa } = await import('execa');
  const r = await execa(probePath(PROBE_DIR, 'x86_64'), { input: text + encodeCase(mkCase({ call: 'getpid' })), reject: false });
  const lines = r.stdout.trim().split('\n');
  t.equal(lines.length, 2);
  t.match(lines[0]!, /"outcome":"error".*ptrace mode must be syscall, sysemu or cont/);
  t.match(lines[1]!, /"outcome":"returned"/);
});

t.test('the runner reads events strictly', async (t) => {
  const c = traced('getpid', { options: [], mode: 'syscall', at: [] });
  const base = { id: c.id, outcome: 'returned', before: {}, env: {} };
  const good = { kind: 'ptrace', stop: 'entry', sig: 5, event: 0, orig_rax: '0x27', rax: '0x0', rip: '0x1', rsp: '0x2', args: ['0x0'], eventmsg: '0x1', info: { op: 0, arch: 1, instruction_pointer: '0x1', stack_pointer: '0x2' } };
  const o = decodeObservation(JSON.stringify({ ...base, events: [good] }), c);
  t.equal((o.events![0] as PtraceStopEvent).orig_rax, 0x27n, 'hex values become bigints');
  t.throws(() => decodeObservation(JSON.stringify({ ...base, events: [{ ...good, stop: 'middle' }] }), c), ProtocolError);
  t.throws(() => decodeObservation(JSON.stringify({ ...base, events: [{ ...good, rax: 12 }] }), c), ProtocolError);
  t.throws(() => decodeObservation(JSON.stringify({ ...base, events: {} }), c), ProtocolError);
  t.same(decodeObservation(JSON.stringify(base), c).events, [], 'a traced case that ran with no stop has an empty list');
});

t.test('encodeCase writes the script as ptrace lines', async (t) => {
  const text = encodeCase(traced('getpid', {
    options: ['tracesysgood', 'traceseccomp'], mode: 'sysemu',
    at: [{ stop: 'entry', n: 2, set: { orig_rax: BigInt.asUintN(64, -1n) }, rewind: true, kill: 10 }],
  }));
  t.match(text, /\nptrace sysgood,seccomp sysemu\n/);
  t.match(text, /\nptact entry 2\nptset entry 2 orig_rax 0xffffffffffffffff\nptrewind entry 2\nptkill entry 2 10\n/);
});
