// 32-bit entries on the real kernel: `int $0x80` from 64-bit code (SN-07, RG-02; with ia32
// off a SIGSEGV reported as a signal outcome, CF-01) and the i386 probe's own int $0x80 and
// __kernel_vsyscall (vDSO) paths. Which branch applies is detected, never assumed.

import t from 'tap';
import { SELECTORS, SIGNALS } from '../../abi/constants.js';
import { GPRS64 } from '../../harness/contracts.js';
import { detectHostFacts } from '../../harness/host.js';
import { createNativeTarget } from '../../harness/targets/native.js';
import { mkCase, nativeSkip, PROBE_DIR, sentinel } from './helpers.js';

const skip = nativeSkip('x86_64');

t.test('int $0x80 from 64-bit code', { skip }, async (t) => {
  const facts = await detectHostFacts({ probeDir: PROBE_DIR });
  const target = createNativeTarget({ probeDir: PROBE_DIR });
  // isolate: with ia32 off the fault must not matter to the probe either way.
  const c = mkCase({ entry: 'int80', nr: (1n << 32n) | 20n, regs: sentinel(64), isolate: true });
  const [o, after] = await target.run([c, mkCase({ call: 'getpid' })]);
  if (facts.profile.ia32) {
    t.equal(o!.outcome, 'returned', o!.reason ?? '');
    t.equal(o!.after!.rax, o!.env.pid, 'eax 20 is the i386 getpid, high half of rax ignored (SN-07, SN-08)');
    for (const r of GPRS64) if (r !== 'rax') t.equal(o!.after![r], o!.before[r], `${r} preserved (RG-02)`);
    t.equal(o!.after!.cs, BigInt(SELECTORS.USER_CS), 'back in 64-bit code');
  } else {
    t.equal(o!.outcome, 'signal', 'ia32 off: the int $0x80 gate is missing');
    t.equal(o!.signal?.signo, SIGNALS.SIGSEGV, 'SIGSEGV (CF-01)');
    t.equal(o!.signal?.regs.rip, o!.env.entry_ip, 'reported at the int $0x80 itself');
  }
  t.equal(after!.outcome, 'returned', 'the run goes on');
});

t.test('a faulting entry instruction in-process is recovered', { skip }, async (t) => {
  // A deliberate fault in-process: `sysenter` from 64-bit code is #UD on AMD and #GP
  // when ia32 is off or SYSENTER_CS is 0; on Intel with ia32 on it enters the kernel
  // and returns to the vDSO landing pad. Any of these must come back as an Observation.
  const target = createNativeTarget({ probeDir: PROBE_DIR });
  const [o, next] = await target.run([mkCase({ entry: 'sysenter', nr: 20n }), mkCase({ call: 'getpid' })]);
  t.ok(['signal', 'returned'].includes(o!.outcome), `sysenter observed: ${o!.outcome} ${o!.signal?.signo ?? ''}`);
  if (o!.outcome === 'signal') {
    t.ok([SIGNALS.SIGILL, SIGNALS.SIGSEGV, SIGNALS.SIGBUS].includes(o!.signal!.signo as 4), 'a fault signal');
    t.ok(o!.signal!.regs.rip !== undefined, 'ucontext registers reported');
  }
  t.equal(next!.after?.rax, next!.env.pid, 'the probe process survived and answers the next case');
});

// Whether 32-bit code runs here is detected (harness/host.ts), never assumed.
const facts32 = nativeSkip('i386') ? undefined : await detectHostFacts({ probeDir: PROBE_DIR });
const skip32 = nativeSkip('i386') || (facts32?.abis.i386.ok ? false : `i386 cannot run natively here: ${facts32?.abis.i386.reason}`);

t.test('i386 probe: getpid through int $0x80 and __kernel_vsyscall', { skip: skip32 }, async (t) => {
  const target = createNativeTarget({ probeDir: PROBE_DIR });
  const obs = await target.run([
    mkCase({ abi: 'i386', call: 'getpid', entry: 'int80', regs: sentinel(32) }),
    mkCase({ abi: 'i386', call: 'getpid', entry: 'vdso', regs: sentinel(32) }),
  ]);
  for (const o of obs) {
    t.equal(o.outcome, 'returned', o.reason ?? '');
    t.equal(o.after!.rax, o.env.pid, `${o.id}: eax = pid`);
    t.equal(o.after!.cs, BigInt(SELECTORS.USER32_CS), 'compat code segment 0x23');
    for (const r of ['rbx', 'rcx', 'rdx', 'rsi', 'rdi', 'rbp'] as const) t.equal(o.after![r], o.before[r], `${r} preserved`);
    t.equal(o.after!.rip, o.env.next_ip, 'returned to next_ip');
    t.ok(o.after!.rax! < 1n << 32n, '32-bit values only');
  }
  t.ok(obs[1]!.env.extra?.at_sysinfo, 'AT_SYSINFO reported for the vDSO path');
  t.equal(obs[1]!.env.extra?.call_target, obs[1]!.env.extra?.at_sysinfo, 'called __kernel_vsyscall');
});
