// The probe runner's promise (DESIGN.md principle 6): a hang, a crash, an early exit,
// garbage or an oversized line becomes a failed Observation for the case in flight, the
// probe is restarted, and every later case still runs.

import t from 'tap';
import { numberOf } from '../../abi/tables/index.js';
import { SIGNALS } from '../../abi/constants.js';
import { detectHostFacts } from '../../harness/host.js';
import { createProbeTarget, decodeObservation, encodeCase, ProtocolError, runProbeSession } from '../../harness/targets/probe-runner.js';
import { mkCase, nativeSkip, PROBE_DIR } from './helpers.js';

const skip = nativeSkip('x86_64');
const PAUSE = BigInt(numberOf('x86_64', 'pause'));

t.test('an isolated case that hangs is killed by the probe and reported as timeout', { skip }, async (t) => {
  const target = createProbeTarget({ name: 'native-test', probeDir: PROBE_DIR });
  const [hang, next] = await target.run([mkCase({ nr: PAUSE, isolate: true, timeoutMs: 300 }), mkCase({ call: 'getpid' })]);
  t.equal(hang!.outcome, 'timeout');
  t.match(hang!.reason, /300 ms/, 'the reason names the limit');
  t.equal(next!.outcome, 'returned');
});

t.test('an in-process hang is caught by the harness watchdog; the probe restarts', { skip }, async (t) => {
  const target = createProbeTarget({ name: 'native-test', probeDir: PROBE_DIR, graceMs: 200 });
  const [a, hang, b] = await target.run([mkCase({ call: 'getpid' }), mkCase({ nr: PAUSE, timeoutMs: 200 }), mkCase({ call: 'getpid' })]);
  t.equal(a!.outcome, 'returned');
  t.equal(hang!.outcome, 'timeout');
  t.match(hang!.reason, /no answer within 400 ms/);
  t.equal(b!.outcome, 'returned', 'later case answered by a fresh probe');
  t.not(b!.env.pid, a!.env.pid, 'by a different probe process');
});

t.test('a case that kills the probe becomes an error; later cases still run', { skip }, async (t) => {
  const target = createProbeTarget({ name: 'native-test', probeDir: PROBE_DIR });
  const exitGroup = mkCase({ call: 'exit_group', regs: { rdi: { lit: 7n } } }); // not isolated: ends the probe
  const kill9 = mkCase({ call: 'kill', regs: { rdi: { ref: 'pid' }, rsi: { lit: BigInt(SIGNALS.SIGKILL) } } });
  const obs = await target.run([mkCase({ call: 'getpid' }), exitGroup, mkCase({ call: 'getpid' }), kill9, mkCase({ call: 'getpid' })]);
  t.same(obs.map((o) => o.outcome), ['returned', 'error', 'returned', 'error', 'returned']);
  t.match(obs[1]!.reason, /exited with code 7 before answering/);
  t.match(obs[3]!.reason, /killed by SIGKILL/);
});

t.test('the same case isolated reports exited / killed instead', { skip }, async (t) => {
  const target = createProbeTarget({ name: 'native-test', probeDir: PROBE_DIR });
  const [ex, kd] = await target.run([
    mkCase({ call: 'exit_group', regs: { rdi: { lit: 7n } }, isolate: true }),
    mkCase({ call: 'kill', regs: { rdi: { ref: 'pid' }, rsi: { lit: BigInt(SIGNALS.SIGKILL) } }, isolate: true }),
  ]);
  t.equal(ex!.outcome, 'exited');
  t.equal(ex!.exit?.code, 7);
  t.equal(kd!.outcome, 'killed');
  t.equal(kd!.exit?.signal, SIGNALS.SIGKILL);
});

t.test('garbage, early exit and oversized output from a wrapped probe', { skip }, async (t) => {
  const cases = [mkCase({ call: 'getpid' }), mkCase({ call: 'getpid' })];
  // A wrapper that prints a line of garbage before the probe's own output.
  const garbage = await runProbeSession(['/bin/sh', '-c', 'echo "hello from an emulator"; exec "$0"', `${PROBE_DIR}/probe-x86_64`], cases);
  t.same(garbage.map((o) => o.outcome), ['error', 'error'], 'every restart prints garbage again: each case fails once, the run ends');
  t.match(garbage[0]!.reason, /garbage: not JSON: "hello from an emulator"/);
  const early = await runProbeSession(['/bin/sh', '-c', 'echo oops >&2; exit 3'], cases);
  t.match(early[0]!.reason, /exited with code 3 before answering this case; stderr: oops/);
  const big = await runProbeSession([`${PROBE_DIR}/probe-x86_64`], cases, { maxLineBytes: 100 });
  t.match(big[0]!.reason, /exceeds the 100-byte limit/);
  // Valid answers for the wrong case are garbage too: the id must match.
  t.throws(() => decodeObservation(JSON.stringify({ id: 'other', outcome: 'returned', before: {}, env: {} }), cases[0]!), ProtocolError);
});

t.test('protocol decoding is strict', async (t) => {
  const c = mkCase({ call: 'getpid' });
  const ok = { id: c.id, outcome: 'returned', before: { rax: '0x27' }, after: { rax: '0x10' }, env: { pid: '0x10' } };
  const o = decodeObservation(JSON.stringify(ok), c);
  t.equal(o.after?.rax, 0x10n, 'hex strings become bigint');
  const bad: [string, unknown][] = [
    ['unknown outcome', { ...ok, outcome: 'fine' }],
    ['bad hex', { ...ok, after: { rax: '16' } }],
    ['unknown register', { ...ok, after: { eax: '0x1' } }],
    ['env missing', { ...ok, env: undefined }],
    ['signal without signo', { ...ok, outcome: 'signal', signal: { code: 1, errno: 0 } }],
    ['memory not hex', { ...ok, memory: { b: 'zz' } }],
  ];
  for (const [what, v] of bad) t.throws(() => decodeObservation(JSON.stringify(v), c), ProtocolError, what);
  t.throws(() => decodeObservation('[1,2]', c), /expected a JSON object/);
});

t.test('case encoding: ids and names are percent-encoded, values are 64-bit hex', async (t) => {
  const c = mkCase({ nr: -1n, regs: { rdi: { ref: 'fd', name: 'my fd', add: 1n, or: 0xffffffff00000000n } } });
  c.id = 'a b%c@x86_64';
  const text = encodeCase(c);
  t.match(text, /^case a%20b%25c@x86_64\n/);
  t.match(text, /\nnr 0xffffffffffffffff\n/);
  t.match(text, /\nreg rdi fd my%20fd 0x0 0x1 0xffffffff00000000\n/);
  t.ok(text.endsWith('end\n'));
});

t.test('an id with spaces and quotes survives the round trip through the probe', { skip }, async (t) => {
  const c = mkCase({ call: 'getpid' });
  c.id = 'spec/with "quotes" and spaces é@x86_64';
  const [o] = await runProbeSession([`${PROBE_DIR}/probe-x86_64`], [c]);
  t.equal(o!.outcome, 'returned', o!.reason ?? '');
  t.equal(o!.id, c.id);
});

t.test('env reaches the probe: SYSABI_EXEC_WRAPPER is put in front of the exec program', { skip }, async (t) => {
  const target = createProbeTarget({ name: 'native-test', probeDir: PROBE_DIR, env: () => ({ SYSABI_EXEC_WRAPPER: '/nonexistent/emulator --flag' }) });
  const [o] = await target.run([mkCase({ entry: 'exec', isolate: true })]);
  t.equal(o!.outcome, 'unsupported');
  t.match(o!.reason, /execve \/nonexistent\/emulator … .*probe-exec-x86_64 failed: No such file or directory/);
});

t.test('a case that forks in-process: only the probe answers, the child leaves quietly', { skip }, async (t) => {
  const target = createProbeTarget({ name: 'native-test', probeDir: PROBE_DIR });
  const obs = await target.run([mkCase({ call: 'fork' }), mkCase({ call: 'getpid' }), mkCase({ call: 'vfork' }), mkCase({ call: 'getpid' })]);
  t.same(obs.map((o) => o.outcome), ['returned', 'returned', 'returned', 'returned'], 'one answer per case, no error');
  const pid = obs[1]!.env.pid!;
  for (const i of [0, 2]) {
    const child = obs[i]!.after!.rax!;
    t.ok(child > 0n && child !== pid, `${obs[i]!.id}: rax is the new process's pid (${child})`);
  }
  t.equal(obs[3]!.after?.rax, pid, 'still the same probe process after vfork');
});

// Only meaningful where x32 programs cannot start; whether they can is detected.
const x32Facts = nativeSkip('x32') ? undefined : await detectHostFacts({ probeDir: PROBE_DIR });
const skipRefused = nativeSkip('x32') || (x32Facts?.profile.x32 ? 'x32 programs run here: nothing is refused' : false);

t.test('a probe the kernel refuses to execute is reported as such', { skip: skipRefused }, async (t) => {
  const [o] = await runProbeSession([`${PROBE_DIR}/probe-x32`], [mkCase({ abi: 'x32', nr: 0x40000027n })]);
  t.equal(o!.outcome, 'error');
  t.match(o!.reason, /probe could not be executed: the kernel refused .*probe-x32 \(Exec format error/);
});
