// RG-06's native machinery (probes/contend.c) on the real kernel: `contend` pins the case to
// one CPU beside a live busy sibling and runs the call and steps N rounds, stopping at the first
// that does not return; `compat_stack` round-trips values through a push/pop in 32-bit code.
// What the host supports (ia32 emulation, the probes) is detected, never assumed.
import t from 'tap';
import fc from 'fast-check';
import { ERRNO, SIGNALS } from '../../abi/constants.js';
import type { MemRegion, Operand } from '../../harness/contracts.js';
import { detectHostFacts } from '../../harness/host.js';
import { createNativeTarget } from '../../harness/targets/native.js';
import { mkCase, nativeSkip, PROBE_DIR } from './helpers.js';

const lit = (v: bigint): Operand => ({ lit: v });
const buf = (name: string): Operand => ({ ref: 'buf', name });
const WNOHANG = 1n; // include/uapi/linux/wait.h

t.test('x86_64: contend pins the case and keeps a busy sibling alive during the call', { skip: nativeSkip('x86_64') }, async (t) => {
  const target = createNativeTarget({ probeDir: PROBE_DIR });
  const mask: MemRegion = { name: 'm', size: 128, hex: '', fill: 0, prot: 'rw', place: 'anywhere', readback: true };
  const [aff, kids, alone, rounds] = await target.run([
    // sched_getaffinity(0, 128, m): the mask the case runs with (kernel/sched/syscalls.c).
    mkCase({ call: 'sched_getaffinity', regs: { rdi: lit(0n), rsi: lit(128n), rdx: buf('m') }, memory: [mask], isolate: true, contend: { repeat: 1 } }),
    // wait4(-1, NULL, WNOHANG, NULL): 0 while a child is alive, -ECHILD with none (kernel/exit.c).
    mkCase({ call: 'wait4', regs: { rdi: lit(-1n), rsi: lit(0n), rdx: lit(WNOHANG), r10: lit(0n) }, isolate: true, contend: { repeat: 3 } }),
    mkCase({ call: 'wait4', regs: { rdi: lit(-1n), rsi: lit(0n), rdx: lit(WNOHANG), r10: lit(0n) }, isolate: true }),
    mkCase({ call: 'getpid', isolate: true, contend: { repeat: 7 } }),
  ]);
  t.equal(aff!.outcome, 'returned', aff!.reason ?? '');
  const cpu = aff!.env.extra?.contend_cpu;
  t.type(cpu, 'bigint', 'env.extra.contend_cpu reported');
  // The mask has exactly one bit: the CPU the probe reported (sched_setaffinity before the call).
  const bits = Buffer.from(aff!.memory?.m ?? '', 'hex');
  const set: number[] = [];
  bits.forEach((byte, i) => { for (let b = 0; b < 8; b++) if (byte >> b & 1) set.push(i * 8 + b); });
  t.same(set, [Number(cpu)], 'affinity mask is the single reported CPU');
  t.equal(kids!.after?.rax, 0n, 'wait4(WNOHANG) sees a live child (the busy sibling) during every round');
  t.equal(kids!.env.extra?.contend_rounds, 3n);
  t.equal(alone!.after?.rax, BigInt.asUintN(64, BigInt(-ERRNO.ECHILD)), 'without contend there is no child: -ECHILD');
  t.equal(alone!.env.extra?.contend_rounds, undefined, 'no contend fields without contend');
  t.equal(rounds!.env.extra?.contend_rounds, 7n, 'all 7 rounds ran');
  await target.close?.();
});

t.test('x86_64: rounds stop at the first that does not return', { skip: nativeSkip('x86_64') }, async (t) => {
  const target = createNativeTarget({ probeDir: PROBE_DIR });
  // A peek at an unmapped address faults in round 1 (#PF → SIGSEGV): no second round runs.
  const [o] = await target.run([mkCase({ call: 'getpid', isolate: true, contend: { repeat: 5 }, peek: { addr: { ref: 'unmapped' } } })]);
  t.equal(o!.outcome, 'signal', o!.reason ?? '');
  t.equal(o!.signal?.signo, SIGNALS.SIGSEGV);
  t.equal(o!.env.extra?.contend_rounds, 1n, 'stopped after the faulting round');
  await target.close?.();
});

for (const abi of ['x86_64', 'i386'] as const) {
  t.test(`${abi}: compat_stack pops back the value it pushed`, { skip: nativeSkip(abi) }, async (t) => {
    const facts = await detectHostFacts({ probeDir: PROBE_DIR });
    if (!facts.profile.ia32) return t.skip('ia32 emulation is off here (no 32-bit code to run)', () => {});
    const target = createNativeTarget({ probeDir: PROBE_DIR });
    // A handful of 32-bit values, incl. the extremes; a mix-up of push/pop widths or a lost
    // value shows as a different number.
    const values = [0n, 0xffffffffn, 0x80000000n, ...fc.sample(fc.bigInt({ min: 0n, max: 0xffffffffn }), { numRuns: 5, seed: 6 })];
    const obs = await target.run(values.map((v) => mkCase({ abi, call: 'getpid', compatStack: v })));
    obs.forEach((o, i) => {
      t.equal(o.outcome, 'returned', o.reason ?? '');
      t.equal(o.post?.compat_stack, values[i], `0x${values[i]!.toString(16)} round-trips`);
    });
    await target.close?.();
  });
}
