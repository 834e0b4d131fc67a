// Case.before and entry `none` on the real kernel through the probes (probes/before.c): the
// generated instructions run in the case's context, a fault in them is the case's signal, a
// WRFSBASE does not break the probe (glibc's thread pointer is put back), and a nop under TF
// traps once at next_ip. Whether this CPU and kernel have FSGSBASE is detected, never assumed.
import t from 'tap';
import { RFLAGS, SIGNALS, SI_CODES } from '../../abi/constants.js';
import type { Case, Operand } from '../../harness/contracts.js';
import { detectHostProfile } from '../../harness/host.js';
import { createNativeTarget } from '../../harness/targets/native.js';
import { mkCase, nativeSkip, sentinel, PROBE_DIR } from '../native/helpers.js';

const lit = (v: bigint): Operand => ({ lit: v });
const skip = nativeSkip('x86_64');

t.test('FSGSBASE instructions before getpid', { skip }, async (t) => {
  const prof = await detectHostProfile();
  const target = createNativeTarget({ probeDir: PROBE_DIR });
  const cases: Case[] = [
    mkCase({ call: 'getpid', regs: { ...sentinel(64), rbx: lit(0x3456789a000n) }, isolate: true,
      before: [{ insn: 'wrgsbase', reg: 'rbx' }, { insn: 'rdgsbase', reg: 'r12' }] }),
    mkCase({ call: 'getpid', regs: sentinel(64), isolate: true, before: [{ insn: 'wrgsbase', value: 0xffffffffffff0000n }] }),
    // A non-canonical base: #GP(0) (SDM WRGSBASE) → SIGSEGV SI_KERNEL (do_general_protection).
    mkCase({ call: 'getpid', isolate: true, before: [{ insn: 'wrgsbase', value: 0x8000000000000000n }] }),
    // An FS base glibc cannot live with, then a fault: the handler must put the probe's back
    // before its siglongjmp (pointer guard at %fs:0x30), or the case dies instead of reporting.
    mkCase({ call: 'getpid', isolate: true, before: [{ insn: 'wrfsbase', value: 0x1000n }, { insn: 'wrgsbase', value: 0x8000000000000000n }] }),
    // And without a fault: the trampoline comes back with FS = 0x1000 and the probe restores it.
    mkCase({ call: 'getpid', isolate: true, before: [{ insn: 'wrfsbase', value: 0x1000n }, { insn: 'rdfsbase', reg: 'r13' }] }),
    mkCase({ call: 'getpid' }),
  ];
  const obs = await target.run(cases);
  await target.close?.();
  if (!prof.features.includes('fsgsbase')) {
    // No CR4.FSGSBASE here: every one of them is #UD → SIGILL.
    for (const o of obs.slice(0, 5)) t.equal(o.signal?.signo, SIGNALS.SIGILL, `${o.id}: SIGILL without FSGSBASE`);
  } else {
    const [rw, kern, gp, fsgp, fs] = obs;
    t.equal(rw!.outcome, 'returned', rw!.reason ?? '');
    t.equal(rw!.after?.r12, 0x3456789a000n, 'RDGSBASE read what WRGSBASE wrote');
    t.equal(rw!.after?.gs_base, 0x3456789a000n, 'and the base survived the SYSCALL');
    t.equal(kern!.outcome, 'returned', kern!.reason ?? '');
    t.equal(kern!.after?.gs_base, 0xffffffffffff0000n, 'a kernel-half base arch_prctl would refuse');
    t.equal(kern!.after?.rax, kern!.env.pid, 'getpid still returned the pid');
    t.equal(kern!.after?.rbx, kern!.before.rbx, 'the staged value used no case register');
    t.equal(gp!.signal?.signo, SIGNALS.SIGSEGV, gp!.reason ?? '');
    t.equal(gp!.signal?.code, SI_CODES.SI_KERNEL);
    t.equal(gp!.signal?.trapno, 13, '#GP');
    t.equal(fsgp!.outcome, 'signal', `the probe reported the fault after a bad FS base: ${fsgp!.reason ?? ''}`);
    t.equal(fsgp!.signal?.signo, SIGNALS.SIGSEGV);
    t.equal(fs!.outcome, 'returned', fs!.reason ?? '');
    t.equal(fs!.after?.r13, 0x1000n, 'RDFSBASE read the FS base the case wrote');
  }
  t.equal(obs[5]!.outcome, 'returned', 'the probe goes on after all of them');
  t.equal(obs[5]!.after?.rax, obs[5]!.env.pid);
});

t.test('entry none: a nop under TF traps exactly once at next_ip', { skip }, async (t) => {
  const target = createNativeTarget({ probeDir: PROBE_DIR });
  const sig = { actions: { [SIGNALS.SIGTRAP]: 'record' as const }, blocked: [] };
  const [tf, plain] = await target.run([
    mkCase({ entry: 'none', regs: sentinel(64), signals: sig, isolate: true, rflags: RFLAGS.IF | RFLAGS.FIXED1 | RFLAGS.TF, flags: ['TF'] }),
    mkCase({ entry: 'none', regs: sentinel(64) }),
  ]);
  await target.close?.();
  t.equal(tf!.outcome, 'returned', tf!.reason ?? '');
  t.equal(tf!.env.next_ip! - tf!.env.entry_ip!, 1n, 'the nop is one byte');
  t.equal(tf!.trap_log?.filter((h) => h.ip === tf!.env.next_ip).length, 1, 'one trap reports next_ip');
  t.equal(tf!.after?.rcx, tf!.before.rcx, 'rcx kept');
  t.equal(tf!.after?.r11, tf!.before.r11, 'r11 kept');
  t.equal(plain!.outcome, 'returned', plain!.reason ?? '');
  t.equal(plain!.after?.rax, plain!.before.rax, 'no call: rax unchanged');
  t.notOk(plain!.traps, 'no TF, no trap');
});
