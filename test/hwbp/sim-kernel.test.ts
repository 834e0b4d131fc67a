// RT-04 end to end in the simulator (sim/kernel/hw_breakpoint.ts with run.ts's hook): a
// breakpoint on next_ip after a SYSRET or IRET return with RF clear is a SIGTRAP with the
// si_code the native kernel gives (TRAP_PERF, kernel/events/core.c), at the breakpoint, with RF
// set in the signal's registers (hw_breakpoint_handler); RF from a sigreturn frame skips it
// once; kernels before 5.13 cannot arm it (perf_event_attr.sigtrap).
import t from 'tap';
import { RFLAGS, SIGNALS, SI_CODES } from '../../abi/constants.js';
import { runCase } from '../../sim/kernel/run.js';
import { getProfile } from '../../sim/profiles.js';
import { mkCase, lit } from '../sim/kernel/helpers.js';

const prof = getProfile('linux-7.0-intel');

t.test('getpid through SYSCALL: SYSRET leaves RF clear, the breakpoint fires', async (t) => {
  const o = runCase(mkCase({ nr: 39n, regs: { rax: lit(39) }, breakpoint: { at: 'next_ip' }, isolate: true }), prof, { explain: true });
  t.equal(o.outcome, 'signal', o.reason ?? '');
  t.equal(o.signal?.signo, SIGNALS.SIGTRAP);
  t.equal(o.signal?.code, SI_CODES.TRAP_PERF);
  t.equal(o.signal?.addr, o.env.next_ip, 'si_addr is the breakpoint address');
  t.equal(o.signal?.regs.rip, o.env.next_ip, 'before the instruction runs');
  t.equal(o.signal?.regs.rax, o.env.pid, 'the call completed first');
  t.not((o.signal?.regs.rflags ?? 0n) & RFLAGS.RF, 0n, 'RF set by hw_breakpoint_handler');
  t.equal(o.env.extra?.breakpoint, o.env.next_ip);
  t.match((o.steps ?? []).join('\n'), /sysretq[\s\S]*instruction breakpoint/);
  const plain = runCase(mkCase({ nr: 39n, regs: { rax: lit(39) } }), prof);
  t.equal(plain.outcome, 'returned', 'without a breakpoint the same call just returns');
});

t.test('i386 int $0x80: IRET from a frame with RF clear, the breakpoint fires', async (t) => {
  const o = runCase(mkCase({ abi: 'i386', nr: 20n, regs: { rax: lit(20) }, breakpoint: { at: 'next_ip' }, isolate: true }), prof);
  t.equal(o.outcome, 'signal', o.reason ?? '');
  t.equal(o.signal?.code, SI_CODES.TRAP_PERF);
  t.equal(o.signal?.addr, o.env.next_ip);
  t.equal(o.signal?.regs.rax, o.env.pid, 'getpid returned before the trap');
});

t.test('rt_sigreturn: RF in the frame skips the breakpoint once, without RF it fires', async (t) => {
  const rf = runCase(mkCase({ entry: 'sigreturn', breakpoint: { at: 'next_ip' }, isolate: true,
    sigreturn: { rflags: { ref: 'rflags_in', or: RFLAGS.RF }, rbx: lit(0x1111) } }), prof, { explain: true });
  t.equal(rf.outcome, 'returned', rf.reason ?? '');
  t.equal(rf.after?.rbx, 0x1111n, 'the frame was used');
  t.equal((rf.after?.rflags ?? 0n) & RFLAGS.RF, 0n, 'RF cleared once the instruction ran');
  t.match((rf.steps ?? []).join('\n'), /skipped once/);
  const no = runCase(mkCase({ entry: 'sigreturn', breakpoint: { at: 'next_ip' }, isolate: true,
    sigreturn: { rflags: { ref: 'rflags_in' } } }), prof);
  t.equal(no.outcome, 'signal', no.reason ?? '');
  t.equal(no.signal?.code, SI_CODES.TRAP_PERF);
});

t.test('before 5.13 the breakpoint cannot be armed: unsupported with the reason', async (t) => {
  const o = runCase(mkCase({ nr: 39n, regs: { rax: lit(39) }, breakpoint: { at: 'next_ip' }, isolate: true }), getProfile('linux-5.10-amd-x32'));
  t.equal(o.outcome, 'unsupported');
  t.match(o.reason ?? '', /sigtrap needs Linux 5\.13/);
});
