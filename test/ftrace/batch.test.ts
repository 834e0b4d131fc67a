// The run-wide ftrace capture (harness/ftrace/capture.ts openTraceRun, the native target's
// batch path): which events a case needs (harness/ftrace/events.ts), user stacks attached per
// CPU, and, as root with tracefs, sessions that record only while they run and only the events
// switched on, global tracing files untouched, one instance per target removed by close(), on
// failure and on a fatal signal, and a batch of traced cases in one probe session each getting
// exactly its own call's events.
import t from 'tap';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { eventsForCase, eventsForCases } from '../../harness/ftrace/events.js';
import { parseTrace } from '../../harness/ftrace/parse.js';
import { liveInstances, openTraceRun } from '../../harness/ftrace/capture.js';
import { locateTracefs } from '../../harness/ftrace/tracefs.js';
import { createNativeTarget } from '../../harness/targets/native.js';
import { probeBuilt, defaultProbeDir } from '../../harness/targets/probe-runner.js';
import type { FtraceEvent, Observation } from '../../harness/contracts.js';
import { mkCase, lit } from '../sim/kernel/helpers.js';

const need = (c: Parameters<typeof eventsForCase>[0]) => {
  const n = eventsForCase(c);
  return n.all ? 'all' : n.names;
};

t.test('events: a case needs the events of every x86_64 number its call can be taken for', async (t) => {
  t.same(need(mkCase({ nr: 39n })), ['getpid']);
  t.same(need(mkCase({ nr: 0xffffffff_00000027n })), ['getpid'], 'the high half of RAX is not part of the number');
  // int $0x80 getpid (20): the i386 meaning, and writev, the event a kernel tracing compat calls
  // by their x86_64 number would record.
  t.same(need(mkCase({ nr: 20n, entry: 'int80', code: '64' })), ['getpid', 'writev']);
  t.same(need(mkCase({ abi: 'i386', nr: 20n })), ['getpid', 'writev']);
  t.same(need(mkCase({ abi: 'x32', nr: 0x40000027n })), ['getpid'], 'x32: the number without the x32 bit');
  t.same(need(mkCase({ nr: 1000n })), [], 'no syscall has this number: no event to switch on');
  t.equal(need(mkCase({ entry: 'vdso_fn', symbol: '__vdso_getpid', nr: 0n })), 'all');
  const ptraced = mkCase({ nr: 39n, ptrace: { options: [], mode: 'syscall', at: [{ stop: 'entry', n: 1, set: { orig_rax: 110n } }] } });
  t.match(eventsForCase(ptraced), { all: true, why: /tracer may change/ });
  t.same(need(mkCase({ nr: 39n, ptrace: { options: [], mode: 'syscall', at: [{ stop: 'exit', n: 1, set: { rdi: 1n } }] } })), ['getpid'],
    'a tracer that leaves the number alone needs nothing more');
  const u = eventsForCases([mkCase({ nr: 39n }), mkCase({ nr: 17n }), mkCase({ nr: 39n })]);
  t.same(u, { all: false, nrs: [17, 39], names: ['getpid', 'pread64'] });
  t.match(eventsForCases([mkCase({ nr: 39n }), { ...ptraced, id: 'p' }]), { all: true, why: /^p: / });
});

t.test('parse: a user stack belongs to the last event of its own CPU', async (t) => {
  const text = [
    '  probe-10  [000] .....  1.000001: sys_getpid()',
    '  probe-11  [001] .....  1.000002: sys_getppid()',
    '  probe-10  [000] .....  1.000003: <user stack trace>',
    ' =>  <0000000000401000>',
    '  probe-11  [001] .....  1.000004: <user stack trace>',
    ' =>  <0000000000402000>',
    '  probe-10  [000] .....  1.000005: <user stack trace>',
    ' =>  <0000000000409999>',
  ].join('\n');
  const r = parseTrace(text);
  t.same(r.map((x) => [x.pid, x.name, x.ustack]), [[10, 'getpid', [0x401000n]], [11, 'getppid', [0x402000n]]],
    'interleaved CPUs keep their stacks; a second stack on CPU 0 attaches to nothing');
});

const st = locateTracefs();
const top = st.ok ? st.dir : '';
/** The global files a capture must never change. */
const globals = () => ['tracing_on', 'set_event', 'set_event_pid', 'options/userstacktrace', 'options/event-fork', 'current_tracer']
  .map((f) => { try { return `${f}=${readFileSync(join(top, f), 'utf8')}`; } catch { return `${f}: unreadable`; } });
const ours = () => readdirSync(join(top, 'instances')).filter((d) => d.startsWith(`sysabi-${process.pid}-`));

t.test('live run-wide instance: sessions, event switches, global state', { skip: st.ok ? false : `no usable tracefs: ${st.ok ? '' : st.reason}` }, async (t) => {
  const g0 = globals();
  const run = openTraceRun(top);
  t.teardown(() => run.close());
  t.same(ours(), [run.dir.split('/').pop()], 'one instance of this process');
  t.equal(readFileSync(join(run.dir, 'tracing_on'), 'utf8').trim(), '0', 'recording is off outside sessions');
  run.enable({ all: false, nrs: [0], names: ['read'] });
  const on = readFileSync(join(run.dir, 'set_event'), 'utf8').split('\n').filter(Boolean).sort();
  t.same(on, ['syscalls:sys_enter_execve', 'syscalls:sys_enter_read', 'syscalls:sys_exit_execve', 'syscalls:sys_exit_read'],
    'only the events asked for, and the execve canary');

  const cat = async (wrap: (a: string[]) => string[]) => {
    const argv = wrap(['/bin/sh', '-c', 'exec cat /proc/self/stat']);
    const r = await execa(argv[0]!, argv.slice(1));
    return Number(r.stdout.split(' ')[0]);
  };
  const s1 = await run.session(cat);
  const r1 = parseTrace(s1.text);
  t.ok(r1.some((r) => r.pid === s1.value && r.name === 'read' && r.event === 'sys_enter' && r.ustack.length > 0), 'the child\'s reads, with user IPs, without a per-start filter write');
  t.notOk(r1.some((r) => r.name === 'write'), 'cat\'s write is not recorded: that event is off');
  t.ok(r1.some((r) => r.name === 'execve' && r.event === 'sys_enter'), 'the probe start canary');
  t.equal(s1.lost, 0);

  const outside = await cat((a) => a); // recording is off between sessions
  const s2 = await run.session(async () => 0);
  t.notOk(parseTrace(s2.text).some((r) => r.pid === s1.value || r.pid === outside), 'a session holds neither an earlier session\'s events nor events from between sessions');

  // Sessions are serialized: the second body starts after the first ends.
  const order: string[] = [];
  const slow = run.session(async () => { order.push('a<'); await new Promise((r) => setTimeout(r, 30)); order.push('a>'); });
  const fast = run.session(async () => { order.push('b<'); order.push('b>'); });
  await Promise.all([slow, fast]);
  t.same(order, ['a<', 'a>', 'b<', 'b>']);

  await t.rejects(run.session(async () => { throw new Error('boom'); }), /boom/);
  t.ok(existsSync(run.dir), 'a failed session leaves the run\'s instance usable');
  t.equal(readFileSync(join(run.dir, 'tracing_on'), 'utf8').trim(), '0', 'and recording off');
  run.close();
  t.notOk(existsSync(run.dir), 'close() removes it');
  t.same(liveInstances(), []);
  t.same(globals(), g0, 'the global tracing files are as they were');
});

t.test('live: a signal removes the instance at once, and then kills or not as without us', { skip: st.ok ? false : 'no usable tracefs' }, async (t) => {
  const helper = join(new URL('./fixtures/', import.meta.url).pathname, 'hold-instance.ts');
  const start = async (mode: string) => {
    // Under the test runner the helper also has signal-exit's listener (it re-raises when it is
    // alone): the signal must still kill, which checks that ours steps aside.
    const p = execa(process.execPath, ['--import', 'tsx', helper, mode], { reject: false, timeout: 20000, forceKillAfterDelay: 3000 });
    t.teardown(() => { if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL'); });
    const dir = await new Promise<string>((res, rej) => {
      p.stdout!.once('data', (d: Buffer) => res(d.toString().trim().split('\n')[0]!));
      p.catch(rej);
    });
    return { p, dir };
  };
  for (const sig of ['SIGTERM', 'SIGINT'] as const) {
    const { p, dir } = await start('plain');
    t.ok(existsSync(dir), `${sig}: the helper holds ${dir}`);
    p.kill(sig);
    const r = await p;
    t.equal(r.signal, sig, `${sig}: the process still dies of the signal`);
    t.notOk(existsSync(dir), `${sig}: the instance is gone`);
  }
  const { p, dir } = await start('listener');
  p.kill('SIGINT');
  const r = await p;
  t.match(r.stdout, /handled/, 'the program\'s own SIGINT listener ran');
  t.equal(r.exitCode, 0);
  t.notOk(existsSync(dir), 'the instance is gone (removed at the signal; the owner\'s close() is a no-op)');
});

const probes = probeBuilt(defaultProbeDir(), 'x86_64').ok;
t.test('live native batch: traced cases share one probe session and one instance', { skip: !st.ok ? 'no usable tracefs' : !probes ? 'probes not built (make probes)' : false }, async (t) => {
  const nat = createNativeTarget();
  const info = await nat.describe();
  const tc = (id: string, nr: bigint, extra = {}) => mkCase({ id, nr, regs: { rax: lit(nr) }, isolate: true, ftrace: true, ...extra });
  const cases = [
    tc('b/getpid1@x86_64', 39n),
    mkCase({ id: 'b/plain@x86_64', nr: 39n, regs: { rax: lit(39) } }),
    tc('b/getppid@x86_64', 110n),
    tc('b/getpid2@x86_64', 39n),
    tc('b/none@x86_64', 1000n),
    ...(info.abis.i386.ok ? [tc('b/getpid@i386', 20n, { abi: 'i386', entry: 'int80', code: 'compat' })] : []),
  ];
  const seen: string[] = [];
  const obs = await nat.run(cases, { onObservation: (o) => seen.push(o.id) });
  t.same(new Set(seen), new Set(cases.map((c) => c.id)), 'every case is reported once through onObservation');
  const fev = (o: Observation) => (o.events ?? []).filter((e) => e.kind === 'ftrace') as FtraceEvent[];
  const by = new Map(obs.map((o) => [o.id, o]));
  for (const id of ['b/getpid1@x86_64', 'b/getpid2@x86_64', 'b/getppid@x86_64']) {
    const o = by.get(id)!;
    t.equal(o.outcome, 'returned', `${id}: ${o.reason ?? ''}`);
    const ev = fev(o);
    const name = id.includes('getppid') ? 'getppid' : 'getpid';
    t.same(ev.map((e) => `${e.event} ${e.name}`), [`sys_enter ${name}`, `sys_exit ${name}`], `${id}: exactly its own call's two events`);
    t.equal(ev[1]?.ret, o.after?.rax, `${id}: sys_exit records the value the case saw`);
  }
  t.not(by.get('b/getpid1@x86_64')!.env.pid, by.get('b/getpid2@x86_64')!.env.pid, 'each traced case ran in its own process');
  t.same(fev(by.get('b/none@x86_64')!), [], 'nr 1000: no event');
  t.same(fev(by.get('b/plain@x86_64')!), [], 'a case without ftrace gets no events');
  if (info.abis.i386.ok) t.same(fev(by.get('b/getpid@i386')!), [], 'an i386 getpid: no event (compat calls are not traced)');
  t.equal(ours().length, 1, 'one instance for the target, kept for the next batch');
  const again = await nat.run([tc('b/again@x86_64', 39n)]);
  t.equal(fev(again[0]!).length, 2, 'a second batch reuses the instance');
  t.equal(ours().length, 1);
  await nat.close?.();
  t.same(ours(), [], 'close() removes it');
});
