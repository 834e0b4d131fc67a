// Trap log and handler flags (Observation.trap_log, SignalInfo.handler_rflags): the sim's
// single-step model, the probe line decode, and check()'s traps_in / trap_handler_flags /
// delivered handler_flags matchers — each assertion fails if the feature is wrong.
import t from 'tap';
import { runCase } from '../../sim/kernel/run.js';
import { getProfile } from '../../sim/profiles.js';
import { handlerRflags } from '../../sim/kernel/kernel.js';
import { decodeObservation } from '../../harness/targets/probe-runner.js';
import { mkCase } from '../sim/kernel/helpers.js';
import { createNativeTarget } from '../../harness/targets/native.js';
import { mkCase as nativeCase, nativeSkip, PROBE_DIR } from '../native/helpers.js';

const TF = 0x100n, DF = 0x400n, RF = 0x10000n;

t.test('handle_signal clears DF, RF and TF only', async (t) => {
  t.equal(handlerRflags(0x202n | TF | DF | RF), 0x202n);
  t.equal(handlerRflags(0x40ad7n), 0x40ad7n & ~(TF | DF | RF), 'AC, NT and arithmetic flags carry over');
});

t.test('sim: __kernel_vsyscall with TF logs the pushes, the pad and one trap at next_ip', async (t) => {
  const c = mkCase({ abi: 'i386', entry: 'vdso', code: 'compat', nr: 20n, rflags: 0x202n | TF, flags: ['TF'] });
  const o = runCase(c, getProfile('linux-7.0-intel'));
  t.equal(o.outcome, 'returned');
  const log = o.trap_log ?? [];
  t.equal(o.traps, log.length, 'every trap is logged (fewer than 64)');
  const next = o.env.next_ip!;
  t.equal(log.filter((h) => h.ip === next).length, 1, 'the RET traps at the return address');
  const base = o.env.extra!.vdso!;
  t.equal(log.filter((h) => h.ip !== undefined && h.ip >= base && h.ip < base + 0x2000n).length, 8, '4 before the fast instruction, 3 in the pad... and the call');
  t.ok(log.every((h) => h.handler_rflags !== undefined && (h.handler_rflags & (TF | DF)) === 0n), 'handlers run without TF/DF');
});

t.test('sim: SYSCALL with TF never traps at next_ip; a vsyscall call traps once in the page', async (t) => {
  const o = runCase(mkCase({ nr: 39n, rflags: 0x202n | TF, flags: ['TF'] }), getProfile('linux-7.0-intel'));
  t.equal(o.traps, 1);
  t.equal(o.trap_log?.[0]?.ip, undefined, 'the trap after the instruction at next_ip has no known ip');
  const v = runCase(mkCase({ entry: 'vsyscall', vsyscallAddr: 0xffffffffff600400n, rflags: 0x202n | TF, flags: ['TF'] }), getProfile('linux-7.0-intel-vsyscall-emulate'));
  t.equal(v.trap_log?.filter((h) => h.ip === 0xffffffffff600400n).length, 1);
});

t.test('decode: trap_log and hflags, and refusals', async (t) => {
  const c = nativeCase({ call: 'getpid' });
  const line = (extra: string) => `{"id":${JSON.stringify(c.id)},"outcome":"returned","before":{},"after":{},"traps":2${extra},"env":{}}`;
  const o = decodeObservation(line(',"trap_log":[{"ip":"0x10","hflags":"0x202"},{"ip":"0x20","hflags":"0x302"}]'), c);
  t.same(o.trap_log, [{ ip: 0x10n, handler_rflags: 0x202n }, { ip: 0x20n, handler_rflags: 0x302n }]);
  t.throws(() => decodeObservation(line(',"trap_log":{}'), c), /trap_log: expected an array/);
  t.throws(() => decodeObservation(line(`,"trap_log":[${Array(65).fill('{}').join(',')}]`), c), /at most 64/);
});

t.test('native: the probe handler sees TF and DF clear; trap ips are real', { skip: nativeSkip() }, async (t) => {
  const target = createNativeTarget({ probeDir: PROBE_DIR });
  try {
    const [o] = await target.run([nativeCase({ call: 'getpid', rflags: 0x202n | TF | DF, flags: ['TF', 'DF'] })]);
    t.equal(o!.outcome, 'returned');
    const log = o!.trap_log ?? [];
    t.ok(log.length > 0 && log.length === Math.min(64, o!.traps ?? 0));
    t.ok(log.every((h) => (h.handler_rflags! & (TF | DF)) === 0n), 'kernel cleared TF and DF for the handler');
    t.equal(log.filter((h) => h.ip === o!.env.entry_ip).length, 1, 'the probe jumps to the entry instruction: one trap there');
    t.equal(log.filter((h) => h.ip === o!.env.next_ip).length, 0, 'SYSCALL itself does not trap');
    t.ok((o!.env.extra?.vdso_size ?? 0n) >= 0x1000n, 'vDSO size reported');
  } finally {
    await target.close?.();
  }
});
