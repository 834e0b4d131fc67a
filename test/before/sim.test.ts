// Case.before and entry `none` on the simulator (sim/cpu/fsgsbase.ts, sim/kernel/before.ts):
// WRGSBASE/RDGSBASE per the SDM (#UD without CR4.FSGSBASE — Linux < 5.9 —, #GP for a
// non-canonical base, the selector untouched), the base surviving SYSCALL, the thread's copy
// that ARCH_GET_GS reads, single-step traps, and a nop under TF. Expected values come from the
// manuals and the kernel sources cited in those files, not from the sim.
import t from 'tap';
import { runCase } from '../../sim/kernel/run.js';
import { getProfile } from '../../sim/profiles.js';
import { RFLAGS, SIGNALS, SI_CODES } from '../../abi/constants.js';
import type { BeforeInsn, Case, Operand } from '../../harness/contracts.js';
import { mkCase as mkNativeCase, sentinel } from '../native/helpers.js';
import { execFsgsbase } from '../../sim/cpu/fsgsbase.js';

/** A Case as the loader builds it: the number is also the RAX operand (expand.ts). */
function mkCase(p: Parameters<typeof mkNativeCase>[0]): Case {
  const c = mkNativeCase(p);
  return { ...c, regs: { rax: { lit: c.nr }, ...c.regs } };
}
const lit = (v: bigint): Operand => ({ lit: v });
const NEW = getProfile('linux-7.0-intel');
const OLD = getProfile('linux-4.16-intel');
const withBefore = (before: BeforeInsn[], more: Partial<Case> = {}): Case =>
  mkCase({ call: 'getpid', before, isolate: true, ...more, regs: { ...sentinel(64), ...(more.regs ?? {}) } });

t.test('profiles: FSGSBASE is a 5.9+ feature', async (t) => {
  t.ok(NEW.features.includes('fsgsbase'), '7.0 has it');
  t.notOk(OLD.features.includes('fsgsbase'), '4.16 does not (CR4.FSGSBASE enabled in v5.9)');
});

t.test('WRGSBASE then getpid: the base survives SYSCALL/SYSRET, registers too', async (t) => {
  const o = runCase(withBefore([{ insn: 'wrgsbase', value: 0x200000000n }]), NEW);
  t.equal(o.outcome, 'returned', o.reason ?? '');
  t.equal(o.after?.gs_base, 0x200000000n, 'GS base after the call');
  t.equal(o.after?.gs, 0n, 'the selector is untouched (still 0)');
  t.equal(o.after?.rbx, sentinel(64).rbx!.lit, 'rbx keeps its sentinel: the staged value used no register');
});

t.test('WRGSBASE from a register, RDGSBASE into another', async (t) => {
  const o = runCase(withBefore([{ insn: 'wrgsbase', reg: 'rbx' }, { insn: 'rdgsbase', reg: 'r12' }], { regs: { rbx: lit(0x3456789a000n) } }), NEW);
  t.equal(o.outcome, 'returned', o.reason ?? '');
  t.equal(o.after?.r12, 0x3456789a000n);
  t.equal(o.after?.gs_base, 0x3456789a000n);
});

t.test('ARCH_GET_GS after WRGSBASE reads the live base (FSGSBASE: x86_gsbase_read_task)', async (t) => {
  const out = { name: 'b', size: 8, hex: '', fill: 0xaa, prot: 'rw' as const, place: 'anywhere' as const, readback: true };
  const c = mkCase({ call: 'arch_prctl', regs: { rdi: lit(0x1004n), rsi: { ref: 'buf', name: 'b' } }, memory: [out], before: [{ insn: 'wrgsbase', value: 0x1234n }], isolate: true });
  const o = runCase(c, NEW);
  t.equal(o.outcome, 'returned', o.reason ?? '');
  t.equal(o.after?.rax, 0n);
  t.equal(o.memory?.b, '3412000000000000');
});

t.test('#UD without CR4.FSGSBASE (Linux 4.16): SIGILL, the call never runs', async (t) => {
  for (const insn of ['rdgsbase', 'wrgsbase', 'rdfsbase', 'wrfsbase'] as const) {
    const o = runCase(withBefore([insn.startsWith('rd') ? { insn, reg: 'rbx' } : { insn, value: 0x1000n }]), OLD);
    t.equal(o.outcome, 'signal', `${insn}: ${o.reason ?? ''}`);
    t.equal(o.signal?.signo, SIGNALS.SIGILL, `${insn}: SIGILL`);
    t.equal(o.signal?.code, SI_CODES.ILL_ILLOPN, `${insn}: ILL_ILLOPN`);
    t.equal(o.signal?.regs.rax, o.before.rax, `${insn}: rax still holds what was loaded: the call did not run`);
  }
});

t.test('#GP for a non-canonical base: SIGSEGV SI_KERNEL, trap 13', async (t) => {
  const o = runCase(withBefore([{ insn: 'wrgsbase', value: 0x8000000000000000n }]), NEW);
  t.equal(o.outcome, 'signal', o.reason ?? '');
  t.equal(o.signal?.signo, SIGNALS.SIGSEGV);
  t.equal(o.signal?.code, SI_CODES.SI_KERNEL);
  t.equal(o.signal?.trapno, 13);
  // The kernel half's canonical values are fine for the instruction (SS-04's 0xffffffffffff0000).
  const ok = runCase(withBefore([{ insn: 'wrgsbase', value: 0xffffffffffff0000n }]), NEW);
  t.equal(ok.outcome, 'returned', ok.reason ?? '');
  t.equal(ok.after?.gs_base, 0xffffffffffff0000n);
});

t.test('the CPU rule alone: 64-bit mode only', async (t) => {
  // Only the fields execFsgsbase reads: the mode decides before CR4 does.
  const fake = { mode: 'compat', cpl: 3, trace: null, seg: { fs: { base: 0n, selector: 0 }, gs: { base: 0n, selector: 0 } } };
  const r = execFsgsbase(fake as never, 'rdgsbase', true);
  t.equal(r.ok, false);
  if (!r.ok) t.equal(r.fault.vector, 'UD', 'compatibility mode: #UD even with CR4.FSGSBASE');
});

t.test('TF: each instruction before the entry single-steps', async (t) => {
  const rflags = RFLAGS.IF | RFLAGS.FIXED1 | RFLAGS.TF;
  const base = runCase(mkCase({ call: 'getpid', rflags, flags: ['TF'], signals: { actions: { [SIGNALS.SIGTRAP]: 'record' }, blocked: [] }, isolate: true }), NEW);
  const two = runCase(mkCase({ call: 'getpid', rflags, flags: ['TF'], signals: { actions: { [SIGNALS.SIGTRAP]: 'record' }, blocked: [] }, isolate: true,
    before: [{ insn: 'wrgsbase', value: 1n }, { insn: 'rdgsbase', reg: 'rbx' }] }), NEW);
  t.equal(two.outcome, 'returned', two.reason ?? '');
  t.equal(two.traps, (base.traps ?? 0) + 2, 'two more traps than the bare call');
});

t.test('entry none: a nop, no system call; TF traps once at next_ip', async (t) => {
  const sig = { actions: { [SIGNALS.SIGTRAP]: 'record' as const }, blocked: [] };
  const nop = (tf: boolean): Case => mkCase({ entry: 'none', nr: 0n, regs: { ...sentinel(64), rax: lit(39n) }, signals: sig, isolate: true,
    rflags: RFLAGS.IF | RFLAGS.FIXED1 | (tf ? RFLAGS.TF : 0n), flags: tf ? ['TF'] : [] });
  const o = runCase(nop(true), NEW);
  t.equal(o.outcome, 'returned', o.reason ?? '');
  t.equal(o.after?.rax, 39n, 'rax is not a result: nothing ran');
  t.equal(o.after?.rcx, sentinel(64).rcx!.lit, 'rcx kept (no SYSCALL)');
  t.equal(o.after?.r11, sentinel(64).r11!.lit, 'r11 kept');
  t.ok((o.after?.rflags ?? 0n) & RFLAGS.TF, 'TF still set');
  t.equal(o.trap_log?.filter((h) => h.ip === o.env.next_ip).length, 1, 'exactly one trap reports next_ip');
  const plain = runCase(nop(false), NEW);
  t.equal(plain.outcome, 'returned');
  t.notOk(plain.traps, 'no TF, no trap');
  t.equal(plain.env.next_ip! - plain.env.entry_ip!, 1n, 'the nop is one byte');
  const i386 = runCase({ ...mkCase({ abi: 'i386', entry: 'none', nr: 0n, isolate: true, signals: sig, rflags: RFLAGS.IF | RFLAGS.FIXED1 | RFLAGS.TF, flags: ['TF'] }) }, NEW);
  t.equal(i386.outcome, 'returned', i386.reason ?? '');
  t.ok((i386.traps ?? 0) >= 1);
});
