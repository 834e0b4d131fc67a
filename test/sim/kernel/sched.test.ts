// Task switching and interruptible sleeps in the sim kernel, checked against the kernel source:
// arch/x86/kernel/process_64.c __switch_to (the v4.1 X86_BUG_SYSRET_SS_ATTRS SS reload),
// SDM Vol. 3A §7.14.4 (interrupt from CPL 3 in IA-32e mode loads a NULL SS), AMD SYSRET keeping
// SS attributes, traps.c exc_stack_segment (#SS → SIGBUS SI_KERNEL), kernel/time/hrtimer.c
// (do_nanosleep, hrtimer_nanosleep, timer slack), kernel/time/posix-timers.c, kernel/signal.c.
import t from 'tap';
import { runCase } from '../../../sim/kernel/run.js';
import { getProfile } from '../../../sim/profiles.js';
import { Kernel } from '../../../sim/kernel/kernel.js';
import { Process } from '../../../sim/kernel/process.js';
import { sleepAndSwitch, switchToSsFixup } from '../../../sim/kernel/sched.js';
import { swapgs } from '../../../sim/cpu/swapgs.js';
import { syscall as cpuSyscall } from '../../../sim/cpu/syscall.js';
import { userState } from '../../../sim/cpu/linux.js';
import { ERRNO, SELECTORS, SIGNALS, SI_CODES } from '../../../abi/constants.js';
import type { Case, MemRegion, Profile } from '../../../harness/contracts.js';
import { mkCase, lit } from './helpers.js';

const e64 = (n: number) => BigInt.asUintN(64, -BigInt(n));
const e32 = (n: number) => BigInt.asUintN(32, -BigInt(n));
const region = (name: string, hex: string, size = hex.replace(/\s/g, '').length / 2, over: Partial<MemRegion> = {}): MemRegion =>
  ({ name, size, hex: hex.replace(/\s/g, ''), fill: 0, prot: 'rw', place: 'anywhere', readback: true, ...over });
const custom = (kernel: string, vendor: 'intel' | 'amd'): Profile => ({ ...getProfile('linux-7.0-intel'), name: `t-${kernel}-${vendor}`, kernel, vendor, vsyscall: 'emulate' });

/** A kernel with the task inside a 64-bit SYSCALL (CPL 0, SS = __KERNEL_DS from STAR). */
function inSyscall(prof: Profile, contend: boolean): Kernel {
  const p = new Process(prof, 'x86_64', 0n);
  const k = new Kernel(prof, p, false);
  k.contend = contend;
  userState(k.cpu, '64');
  k.cpu.rip = 0x401000n;
  const r = cpuSyscall(k.cpu, 2);
  if (!r.ok) throw new Error(r.fault.why);
  swapgs(k.cpu);
  return k;
}

t.test('a sleep beside a busy sibling: the timer interrupt from CPL 3 leaves SS NULL; __switch_to reloads it on AMD since v4.1', async (t) => {
  const cases: [Profile, number, boolean][] = [
    [getProfile('linux-4.0-amd'), 0, true], // no reload: the NULL SS survives the switch
    [custom('4.1', 'amd'), SELECTORS.KERNEL_DS, false], // the v4.1 reload
    [getProfile('linux-7.0-amd'), SELECTORS.KERNEL_DS, false],
    // Intel lacks X86_BUG_SYSRET_SS_ATTRS: no reload, SS stays NULL (SYSRET fixes it anyway).
    [getProfile('linux-7.0-intel'), 0, true],
  ];
  for (const [prof, sel, unusable] of cases) {
    const k = inSyscall(prof, true);
    const before = { ...k.cpu.gpr };
    t.equal(k.cpu.seg.ss.selector, SELECTORS.KERNEL_DS, `${prof.name}: SYSCALL loaded SS from STAR`);
    sleepAndSwitch(k, 1000n);
    t.equal(k.cpu.seg.ss.selector, sel, `${prof.name}: SS after the switch back`);
    t.equal(k.cpu.seg.ss.unusable, unusable, `${prof.name}: SS usability`);
    t.equal(k.cpu.cpl, 0, `${prof.name}: back in the kernel`);
    t.same(k.cpu.gpr, before, `${prof.name}: the task's kernel registers come back with it`);
    t.equal(k.switches, 1);
  }
  // Alone on the CPU the idle task is interrupted at CPL 0: no privilege change, SS untouched.
  const idle = inSyscall(getProfile('linux-4.0-amd'), false);
  sleepAndSwitch(idle, 1000n);
  t.equal(idle.cpu.seg.ss.selector, SELECTORS.KERNEL_DS);
  t.equal(idle.cpu.seg.ss.unusable, false);
  // The fix-up is a no-op when SS is already __KERNEL_DS.
  t.equal(switchToSsFixup(inSyscall(getProfile('linux-7.0-amd'), false)), false);
});

const sleepCase = (over: Partial<Case>): Case => mkCase({
  nr: 35n, isolate: true, contend: { repeat: 5 }, compatStack: 0xcafe1234n,
  memory: [region('ts', '0000000000000000 e803000000000000')],
  regs: { rax: lit(35), rdi: { ref: 'buf', name: 'ts' }, rsi: lit(0) },
  ...over,
});
const sleepCase32 = (over: Partial<Case>): Case => mkCase({
  abi: 'i386', entry: 'vdso', nr: 162n, isolate: true, contend: { repeat: 5 }, compatStack: 0xcafe1234n,
  memory: [region('ts', '00000000 e8030000')],
  regs: { rax: lit(162), rbx: { ref: 'buf', name: 'ts' }, rcx: lit(0) },
  ...over,
});

t.test('RG-06 end to end: only a pre-4.1 AMD kernel with a busy sibling and SYSRET faults, in compat code', async (t) => {
  const old = getProfile('linux-4.0-amd');
  const o = runCase(sleepCase({}), old);
  t.equal(o.outcome, 'signal');
  // exc_stack_segment → do_error_trap(..., SIGBUS, 0, NULL) → force_sig(SIGBUS): SI_KERNEL.
  t.equal(o.signal?.signo, SIGNALS.SIGBUS);
  t.equal(o.signal?.code, SI_CODES.SI_KERNEL);
  t.equal(o.signal?.trapno, 12);
  t.equal(o.signal?.err, 0n, '#SS(0): a stack access, not a selector load');
  t.equal(o.signal?.regs.cs, BigInt(SELECTORS.USER32_CS), 'raised in the 32-bit thunk');
  t.equal(o.signal?.regs.ss, BigInt(SELECTORS.USER_DS), 'the selector looks right: only the hidden attributes are stale');
  t.equal(o.env.extra?.contend_rounds, 1n, 'the first round already faults');
  // 64-bit code does not notice: without the compat step the call returns normally.
  const no32 = runCase(sleepCase({ compatStack: undefined }), old);
  t.equal(no32.outcome, 'returned');
  t.equal(no32.after?.rax, 0n);
  t.equal(no32.after?.ss, BigInt(SELECTORS.USER_DS));
  // Without contention the idle task runs: SS never goes NULL.
  const alone = runCase(sleepCase({ contend: undefined }), old);
  t.equal(alone.outcome, 'returned');
  t.equal(alone.post?.compat_stack, 0xcafe1234n);
  // Intel SYSRET loads fixed SS attributes, whatever the kernel.
  const intel = runCase(sleepCase({}), custom('4.0', 'intel'));
  t.equal(intel.outcome, 'returned');
  t.equal(intel.post?.compat_stack, 0xcafe1234n);
  t.equal(intel.env.extra?.contend_rounds, 5n);
  // A fixed AMD kernel survives every round.
  const fixed = runCase(sleepCase({}), getProfile('linux-7.0-amd'));
  t.equal(fixed.outcome, 'returned');
  t.equal(fixed.post?.compat_stack, 0xcafe1234n);
  t.equal(fixed.env.extra?.contend_rounds, 5n);
});

t.test('RG-06 for i386: SYSRETL into the vDSO landing pad faults on its first pop; int $0x80 (IRET) does not', async (t) => {
  const old = getProfile('linux-4.0-amd');
  const o = runCase(sleepCase32({}), old);
  t.equal(o.outcome, 'signal');
  t.equal(o.signal?.signo, SIGNALS.SIGBUS);
  t.equal(o.signal?.trapno, 12);
  // IRET reloads SS from the frame with a descriptor load: usable again.
  const int80 = runCase(sleepCase32({ entry: 'int80' }), old);
  t.equal(int80.outcome, 'returned');
  t.equal(int80.post?.compat_stack, 0xcafe1234n);
  // Intel's vDSO uses SYSENTER; SYSEXIT loads fixed SS attributes.
  const intel = runCase(sleepCase32({}), custom('4.0', 'intel'));
  t.equal(intel.outcome, 'returned');
  const fixed = runCase(sleepCase32({}), getProfile('linux-7.0-amd'));
  t.equal(fixed.outcome, 'returned');
  t.equal(fixed.post?.compat_stack, 0xcafe1234n);
});

const P = getProfile('linux-7.0-intel');
const ns = (sec: number, nsec: number) => {
  const b = Buffer.alloc(16);
  b.writeBigInt64LE(BigInt(sec), 0);
  b.writeBigInt64LE(BigInt(nsec), 8);
  return b.toString('hex');
};
const readRem = (hex: string): bigint => Buffer.from(hex, 'hex').readBigInt64LE(0) * 1_000_000_000n + Buffer.from(hex, 'hex').readBigInt64LE(8);

t.test('nanosleep: validation, completion on the virtual clock, interruption (hrtimer.c)', async (t) => {
  const run = (tsHex: string, extra: Partial<Case> = {}) => runCase(mkCase({
    memory: [region('ts', tsHex), region('rem', 'ff'.repeat(16))],
    regs: { rax: lit(35), rdi: { ref: 'buf', name: 'ts' }, rsi: { ref: 'buf', name: 'rem' } }, ...extra,
  }), P);
  t.equal(run(ns(0, 1000)).after?.rax, 0n, 'a relative sleep completes and returns 0');
  t.equal(run(ns(0, 1000)).memory?.rem, 'ff'.repeat(16), 'rem is not written by a completed sleep');
  t.equal(run(ns(0, 1_000_000_000)).after?.rax, e64(ERRNO.EINVAL), 'tv_nsec = NSEC_PER_SEC is invalid');
  t.equal(run(ns(-1, 0)).after?.rax, e64(ERRNO.EINVAL), 'negative tv_sec is invalid');
  const bad = runCase(mkCase({ regs: { rax: lit(35), rdi: { ref: 'unmapped' }, rsi: lit(0) } }), P);
  t.equal(bad.after?.rax, e64(ERRNO.EFAULT));
  // Interrupted (the tracer's SIGUSR1 at the entry stop), handler → -EINTR, rem written: the
  // hard expiry is request + 50 µs slack, so rem lies in (request, request + slack].
  const intr = run(ns(3, 0), { signals: { actions: { [SIGNALS.SIGUSR1]: 'record' }, blocked: [] },
    ptrace: { options: [], mode: 'syscall', at: [{ stop: 'entry', n: 1, set: {}, kill: SIGNALS.SIGUSR1 }] } });
  t.equal(intr.after?.rax, e64(ERRNO.EINTR));
  const rem = readRem(intr.memory!.rem!);
  t.ok(rem > 3_000_000_000n && rem <= 3_000_050_000n, `rem ${rem} ns is within the slack above the request`);
  // Ignored: restarted through restart_syscall (219), which sleeps the rest and returns 0.
  const ign = run(ns(0, 5_000_000), { signals: { actions: { [SIGNALS.SIGUSR1]: 'ignore' }, blocked: [] },
    ptrace: { options: [], mode: 'syscall', at: [{ stop: 'entry', n: 1, set: {}, kill: SIGNALS.SIGUSR1 }] } });
  t.equal(ign.after?.rax, 0n);
  const entries = (ign.events ?? []).filter((e) => e.stop === 'entry').map((e) => e.orig_rax);
  t.same(entries, [35n, 219n], 'the second entry stop is restart_syscall');
});

t.test('nanosleep_time32 and i386 restart_syscall (nr 0)', async (t) => {
  const o = runCase(mkCase({ abi: 'i386',
    memory: [region('ts', '01000000 00000000'), region('rem', 'ff'.repeat(8))],
    regs: { rax: lit(162), rbx: { ref: 'buf', name: 'ts' }, rcx: { ref: 'buf', name: 'rem' } },
    signals: { actions: { [SIGNALS.SIGUSR1]: 'ignore' }, blocked: [] },
    ptrace: { options: [], mode: 'syscall', at: [{ stop: 'entry', n: 1, set: {}, kill: SIGNALS.SIGUSR1 }] } }), P);
  t.equal(o.after?.rax, 0n);
  t.same((o.events ?? []).filter((e) => e.stop === 'entry').map((e) => e.orig_rax), [162n, 0n]);
  // old_timespec32 layout: 8 bytes written, {s32 sec, s32 nsec}; 1 s + slack left.
  const rem = Buffer.from(o.memory!.rem!, 'hex');
  t.equal(rem.readInt32LE(0), 1);
  t.ok(rem.readInt32LE(4) > 0 && rem.readInt32LE(4) <= 50_000, 'the nanoseconds are the slack minus the time that passed');
});

t.test('clock_nanosleep: clock checks, TIMER_ABSTIME, -ERESTARTNOHAND (posix-timers.c)', async (t) => {
  const run = (clk: number, flags: number, tsHex: string, extra: Partial<Case> = {}) => runCase(mkCase({
    memory: [region('ts', tsHex), region('rem', 'ff'.repeat(16))],
    regs: { rax: lit(230), rdi: lit(clk), rsi: lit(flags), rdx: { ref: 'buf', name: 'ts' }, r10: { ref: 'buf', name: 'rem' } }, ...extra,
  }), P);
  t.equal(run(4, 0, ns(0, 1)).after?.rax, e64(ERRNO.EOPNOTSUPP), 'CLOCK_MONOTONIC_RAW has no nsleep');
  t.equal(run(10, 0, ns(0, 1)).after?.rax, e64(ERRNO.EINVAL), 'clock 10 does not exist');
  t.equal(run(1, 1, ns(1, 0)).after?.rax, 0n, 'an absolute expiry in the past returns at once');
  t.equal(run(0, 0, ns(0, 10)).after?.rax, 0n, 'CLOCK_REALTIME relative');
  const kill = { signals: { actions: { [SIGNALS.SIGUSR1]: 'record' as const }, blocked: [] },
    ptrace: { options: [], mode: 'syscall' as const, at: [{ stop: 'entry' as const, n: 1, set: {}, kill: SIGNALS.SIGUSR1 }] } };
  const abs = run(1, 1, ns(1_000_000_000, 0), kill);
  t.equal(abs.after?.rax, e64(ERRNO.EINTR));
  const exit = (abs.events ?? []).find((e) => e.stop === 'exit');
  t.equal(exit?.rax, e64(ERRNO.ERESTARTNOHAND), 'absolute: -ERESTARTNOHAND, not -ERESTART_RESTARTBLOCK');
  t.equal(abs.memory?.rem, 'ff'.repeat(16), 'absolute sleeps never write rmtp');
  const rel = run(1, 0, ns(2, 0), kill);
  t.equal((rel.events ?? []).find((e) => e.stop === 'exit')?.rax, e64(ERRNO.ERESTART_RESTARTBLOCK));
  t.not(rel.memory?.rem, 'ff'.repeat(16), 'relative: rmtp written');
});

t.test('restart_syscall with no interrupted sleep: do_no_restart_syscall → -EINTR', async (t) => {
  t.equal(runCase(mkCase({ regs: { rax: lit(219) } }), P).after?.rax, e64(ERRNO.EINTR));
  t.equal(runCase(mkCase({ abi: 'i386', regs: { rax: lit(0) } }), P).after?.rax, e32(ERRNO.EINTR));
});

t.test('rt_sigsuspend: sigsetsize, EFAULT, sleeps with nothing it leaves unblocked pending (signal.c)', async (t) => {
  const run = (size: number, extra: Partial<Case> = {}) => runCase(mkCase({
    memory: [region('m', '0000000000000000')],
    regs: { rax: lit(130), rdi: { ref: 'buf', name: 'm' }, rsi: lit(size) }, ...extra,
  }), P);
  t.equal(run(4).after?.rax, e64(ERRNO.EINVAL));
  t.equal(runCase(mkCase({ regs: { rax: lit(130), rdi: { ref: 'unmapped' }, rsi: lit(8) } }), P).after?.rax, e64(ERRNO.EFAULT));
  t.equal(run(8).outcome, 'timeout', 'nothing pending: it would sleep for good');
  // A blocked signal sent by the tracer ends it because the sigsuspend mask unblocks it.
  const o = run(8, { signals: { actions: { [SIGNALS.SIGUSR1]: 'record' }, blocked: [SIGNALS.SIGUSR1] },
    ptrace: { options: [], mode: 'syscall', at: [{ stop: 'entry', n: 1, set: {}, kill: SIGNALS.SIGUSR1 }] } });
  t.equal(o.after?.rax, e64(ERRNO.EINTR));
  t.equal(o.delivered?.[0]?.signo, SIGNALS.SIGUSR1);
  // A mask that blocks it too: still asleep.
  const still = runCase(mkCase({ memory: [region('m', '0002000000000000')],
    regs: { rax: lit(130), rdi: { ref: 'buf', name: 'm' }, rsi: lit(8) },
    signals: { actions: { [SIGNALS.SIGUSR1]: 'record' }, blocked: [SIGNALS.SIGUSR1] },
    ptrace: { options: [], mode: 'syscall', at: [{ stop: 'entry', n: 1, set: {}, kill: SIGNALS.SIGUSR1 }] } }), P);
  t.equal(still.outcome, 'timeout');
});

t.test('pipe read: -ERESTARTSYS with a signal pending, a timeout without', async (t) => {
  const run = (extra: Partial<Case>) => runCase(mkCase({ fds: [{ name: 'p', kind: 'pipe', hex: '' }],
    memory: [region('b', '00'.repeat(8))],
    regs: { rax: lit(0), rdi: { ref: 'fd', name: 'p.r' }, rsi: { ref: 'buf', name: 'b' }, rdx: lit(8) }, ...extra }), P);
  t.equal(run({}).outcome, 'timeout');
  const o = run({ signals: { actions: { [SIGNALS.SIGUSR1]: 'record' }, blocked: [] },
    ptrace: { options: [], mode: 'syscall', at: [{ stop: 'entry', n: 1, set: {}, kill: SIGNALS.SIGUSR1 }] } });
  t.equal((o.events ?? []).find((e) => e.stop === 'exit')?.rax, e64(ERRNO.ERESTARTSYS));
  t.equal(o.after?.rax, e64(ERRNO.EINTR), 'a handler without SA_RESTART: -EINTR');
});
