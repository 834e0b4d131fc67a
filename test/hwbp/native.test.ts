// The probe's hardware breakpoint (probes/hwbp.c, the 'hwbp next_ip' line) on the real kernel:
// after a syscall the SIGTRAP comes from the perf event (si_code TRAP_PERF, si_addr = the
// breakpoint, RF set in the ucontext by hw_breakpoint_handler), the probe reports where it armed
// it, and with TF also set the perf SIGTRAP is the case's signal, not a single-step count.
// Whether this kernel lets us arm it (perf_event_paranoid, 5.13+) is detected, never assumed.
import t from 'tap';
import { RFLAGS, SIGNALS, SI_CODES } from '../../abi/constants.js';
import { createNativeTarget } from '../../harness/targets/native.js';
import { mkCase, nativeSkip, PROBE_DIR } from '../native/helpers.js';

for (const abi of ['x86_64', 'i386'] as const) {
  t.test(`${abi}: getpid with a breakpoint on next_ip`, { skip: nativeSkip(abi) }, async (t) => {
    const target = createNativeTarget({ probeDir: PROBE_DIR });
    try {
      const [o, plain] = await target.run([
        mkCase({ abi, call: 'getpid', breakpoint: { at: 'next_ip' }, isolate: true }),
        mkCase({ abi, call: 'getpid', isolate: true }),
      ]);
      if (o!.outcome === 'unsupported') {
        t.match(o!.reason ?? '', /perf_event_open/, 'a refusal names the call and the errno');
        t.skip(`this kernel refuses the breakpoint: ${o!.reason}`, async () => {});
        return;
      }
      t.equal(o!.outcome, 'signal', o!.reason ?? '');
      t.equal(o!.signal?.signo, SIGNALS.SIGTRAP);
      t.equal(o!.signal?.code, SI_CODES.TRAP_PERF, 'from the perf event, not a single step');
      t.equal(o!.signal?.addr, o!.env.next_ip, 'si_addr = bp_addr');
      t.equal(o!.signal?.regs.rip, o!.env.next_ip, 'the instruction has not run');
      t.equal(o!.signal?.regs.rax, o!.env.pid, 'getpid completed before the trap');
      t.not((o!.signal?.regs.rflags ?? 0n) & RFLAGS.RF, 0n, 'RF set in the saved flags');
      t.equal(o!.env.extra?.breakpoint, o!.env.next_ip, 'the probe says where it armed it');
      t.equal(plain!.outcome, 'returned', 'the same call without the breakpoint returns');
      t.equal(plain!.env.extra?.breakpoint, undefined);
    } finally {
      await target.close?.();
    }
  });
}

t.test('with TF set too, the perf SIGTRAP ends the case instead of being counted as a step', { skip: nativeSkip('x86_64') }, async (t) => {
  const target = createNativeTarget({ probeDir: PROBE_DIR });
  try {
    const [o] = await target.run([
      mkCase({ call: 'getpid', breakpoint: { at: 'next_ip' }, isolate: true, rflags: 0x302n, flags: ['TF'],
        signals: { actions: { [SIGNALS.SIGTRAP]: 'record' }, blocked: [] } }),
    ]);
    if (o!.outcome === 'unsupported') {
      t.skip(`this kernel refuses the breakpoint: ${o!.reason}`, async () => {});
      return;
    }
    t.equal(o!.outcome, 'signal', o!.reason ?? '');
    t.equal(o!.signal?.code, SI_CODES.TRAP_PERF);
    t.equal(o!.signal?.addr, o!.env.next_ip);
  } finally {
    await target.close?.();
  }
});

// A `closed` descriptor of the case is the lowest free number at set-up; the breakpoint's perf
// fd is opened after it and must not land on that number, or close(fd:c) would close the
// breakpoint instead of failing with EBADF (found by the §8.1–8.5 audit).
t.test('a closed fd of the case is not the breakpoint\'s descriptor', { skip: nativeSkip('x86_64') }, async (t) => {
  const target = createNativeTarget({ probeDir: PROBE_DIR });
  try {
    const [o] = await target.run([
      mkCase({ call: 'close', breakpoint: { at: 'next_ip' }, isolate: true,
        fds: [{ name: 'c', kind: 'closed', hex: '' }], regs: { rdi: { ref: 'fd', name: 'c' } } }),
    ]);
    if (o!.outcome === 'unsupported') {
      t.skip(`this kernel refuses the breakpoint: ${o!.reason}`, async () => {});
      return;
    }
    t.equal(o!.outcome, 'signal', 'the breakpoint still fires after close(fd:c)');
    t.equal(o!.signal?.code, SI_CODES.TRAP_PERF);
    t.equal(o!.signal?.regs.rax, BigInt.asUintN(64, -9n), 'close of the closed descriptor fails with EBADF');
  } finally {
    await target.close?.();
  }
});
