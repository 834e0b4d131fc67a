// rt_sigreturn / sigreturn as modelled syscalls (sim/kernel/sigframe.ts): the frame is read back
// from user memory, FIX_EFLAGS filters the flags, cs/ss get RPL 3, ia32 reload_segments loads
// the data selectors (fixup_rpl since ~6.15), and the exit is the entry's own (SYSRET/IRET, or
// ERETU under FRED). Each test would fail if a frame field were not restored or mis-placed.
import t from 'tap';
import { runCase } from '../../../sim/kernel/run.js';
import { getProfile } from '../../../sim/profiles.js';
import { RFLAGS, SELECTORS, SIGNALS, SI_CODES } from '../../../abi/constants.js';
import { FRAME32, SC32, sigcontext32, type SavedUser } from '../../../sim/kernel/sigframe.js';
import { LAYOUT } from '../../../sim/kernel/run.js';
import { mkCase, lit } from './helpers.js';

const P70 = getProfile('linux-7.0-intel');
const FRED = getProfile('linux-7.0-intel-fred');
const AMD70 = getProfile('linux-7.0-amd');
const INTEL416 = getProfile('linux-4.16-intel');
const AMD40 = getProfile('linux-4.0-amd');

t.test('FRED: rt_sigreturn is a syscall whose ERETU restores RCX, R11 and every other register', async (t) => {
  const o = runCase(mkCase({ entry: 'sigreturn', sigreturn: { rcx: lit(0x123456789abcdef0n), r11: lit(0x5a5a5a5a), rbx: lit(0x1111), r8: lit(0x8888), r15: lit(0xffff0000ffff0000n) } }), FRED, { explain: true });
  t.equal(o.outcome, 'returned', o.reason ?? '');
  t.equal(o.after?.rcx, 0x123456789abcdef0n);
  t.equal(o.after?.r11, 0x5a5a5a5an);
  t.equal(o.after?.rbx, 0x1111n);
  t.equal(o.after?.r8, 0x8888n);
  t.equal(o.after?.r15, 0xffff0000ffff0000n);
  t.equal(o.after?.rip, o.env.next_ip, 'resumes after the int3');
  t.ok(o.steps?.some((s) => s.includes('sys_rt_sigreturn')), 'dispatched through the table, not a shortcut');
  t.ok(o.steps?.some((s) => s.startsWith('ERETU')), 'the exit is ERETU');
});

t.test('FRED: ERETU to a non-canonical RIP faults in the kernel and becomes SIGSEGV with the frame registers', async (t) => {
  const rip = 0x800000000000n;
  const o = runCase(mkCase({ entry: 'sigreturn', sigreturn: { rip: lit(rip), rcx: lit(rip), r11: lit(0x202) } }), FRED);
  t.equal(o.outcome, 'signal');
  t.equal(o.signal?.signo, SIGNALS.SIGSEGV);
  t.equal(o.signal?.code, SI_CODES.SI_KERNEL);
  t.equal(o.signal?.regs.rip, rip);
  t.equal(o.signal?.regs.rsp, o.before.rsp, 'ex_handler_eretu reports the user stack pointer, not the kernel one');
  t.equal(o.signal?.regs.rflags, 0x202n, 'and the frame flags');
});

t.test('non-FRED bad IRET: the signal shows the frame rsp/rflags and user segment state, no 64-bit ds/es', async (t) => {
  const rip = 0x1000000000000n;
  const o = runCase(mkCase({ entry: 'sigreturn', sigreturn: { rip: lit(rip), rcx: lit(rip), r11: lit(0x246), rflags: lit(0x246) } }), P70);
  t.equal(o.outcome, 'signal');
  t.equal(o.signal?.regs.rip, rip);
  t.equal(o.signal?.regs.rsp, o.before.rsp);
  t.equal(o.signal?.regs.rflags, 0x246n);
  t.equal(o.signal?.regs.ds, undefined, 'a 64-bit sigcontext has no ds');
  t.equal(o.signal?.regs.gs_base, undefined, 'nor segment bases');
});

t.test('FIX_EFLAGS: arithmetic flags come from the frame; IOPL and NT do not', async (t) => {
  for (const prof of [P70, FRED, AMD70]) {
    const fl = 0x202n | RFLAGS.CF | RFLAGS.ZF | RFLAGS.OF | RFLAGS.IOPL | RFLAGS.NT;
    const o = runCase(mkCase({ entry: 'sigreturn', sigreturn: { rflags: lit(fl) } }), prof);
    t.equal(o.outcome, 'returned', `${prof.name}: ${o.reason ?? ''}`);
    const f = o.after!.rflags!;
    t.equal(f & (RFLAGS.CF | RFLAGS.ZF | RFLAGS.OF), RFLAGS.CF | RFLAGS.ZF | RFLAGS.OF, `${prof.name}: CF ZF OF restored`);
    t.equal(f & RFLAGS.IOPL, 0n, `${prof.name}: IOPL not taken from the frame`);
    t.equal(f & RFLAGS.NT, 0n, `${prof.name}: NT not taken from the frame`);
    t.equal(f & RFLAGS.IF, RFLAGS.IF, `${prof.name}: IF kept`);
  }
});

t.test('ia32 rt_sigreturn (173 via the vDSO int $0x80): registers, eip, cs RPL, data selectors', async (t) => {
  for (const prof of [P70, AMD70, FRED]) {
    const o = runCase(mkCase({
      abi: 'i386', entry: 'sigreturn',
      sigreturn: { rbx: lit(0x11112222), rcx: lit(0x33334444), rdx: lit(0x55556666), rsi: lit(0x77778888), rdi: lit(0x9999aaaa), rbp: lit(0xbbbbcccc),
        cs: lit(0x20), ds: lit(0x28), es: lit(SELECTORS.TLS0) },
    }), prof, { explain: true });
    t.equal(o.outcome, 'returned', `${prof.name}: ${o.reason ?? ''}`);
    const a = o.after!;
    t.same([a.rbx, a.rcx, a.rdx, a.rsi, a.rdi, a.rbp], [0x11112222n, 0x33334444n, 0x55556666n, 0x77778888n, 0x9999aaaan, 0xbbbbccccn], `${prof.name}: the six registers`);
    t.equal(a.rip, o.env.next_ip, `${prof.name}: eip from the frame`);
    t.equal(a.cs, BigInt(SELECTORS.USER32_CS), `${prof.name}: cs 0x20 comes back with RPL 3`);
    t.equal(a.ds, BigInt(SELECTORS.USER_DS), `${prof.name}: ds 0x28 reloaded as 0x2b (fixup_rpl)`);
    t.equal(a.es, BigInt(SELECTORS.TLS0), `${prof.name}: es reloaded with the frame's TLS selector`);
    t.equal(a.gs, BigInt(SELECTORS.TLS0), `${prof.name}: gs unchanged (equal to the frame's)`);
    t.ok(o.steps?.some((s) => s.includes('compat_sys_rt_sigreturn')), `${prof.name}: through the ia32 table`);
  }
});

t.test('ia32 NULL data selectors: kept as written since ~6.15, then IRET zeroes a nonzero NULL on either vendor', async (t) => {
  const mk = (v: bigint) => mkCase({ abi: 'i386', entry: 'sigreturn', sigreturn: { gs: lit(v), es: lit(v) } });
  t.equal(runCase(mk(0n), P70).after?.gs, 0n, '7.0: fixup_rpl leaves 0');
  t.equal(runCase(mk(0n), INTEL416).after?.gs, 0n, '4.16 Intel: 3 loaded, IRET nulls it');
  t.equal(runCase(mk(0n), AMD40).after?.gs, 0n, '4.0 AMD: 3 loaded, IRET nulls it too');
  for (const prof of [P70, AMD70]) {
    // fixup_rpl leaves 3 as written; the return to user mode through IRET zeroes it (what an
    // AMD EPYC shows natively for an ES of 3).
    const a = runCase(mk(3n), prof).after!;
    t.equal(a.es, 0n, `${prof.name}: es 3 is zeroed by IRET`);
    t.equal(a.gs, 0n, `${prof.name}: gs 3 is zeroed by IRET`);
  }
});

t.test('ia32 reload_segments: a selector that cannot be loaded becomes 0 (loadsegment fixup)', async (t) => {
  const o = runCase(mkCase({ abi: 'i386', entry: 'sigreturn', sigreturn: { fs: lit(0x1233) } }), P70);
  t.equal(o.outcome, 'returned', o.reason ?? '');
  t.equal(o.after?.fs, 0n);
});

t.test('ia32 sigreturn (119): the non-RT frame at sp - 8, mask words, and sigcontext', async (t) => {
  // A struct sigframe_ia32 image built by hand: the test places esp at frame + 8, as after
  // __kernel_sigreturn's popl %eax and the handler's ret.
  const saved: SavedUser = {
    gpr: { rax: 0xabcdn, rbx: 0x1001n, rcx: 0x2002n, rdx: 0x3003n, rsi: 0x4004n, rdi: 0x5005n, rbp: 0x6006n, rsp: 0x10000800n,
      r8: 0n, r9: 0n, r10: 0n, r11: 0n, r12: 0n, r13: 0n, r14: 0n, r15: 0n },
    rip: LAYOUT.code32 + 2n, rflags: 0x202n | RFLAGS.CF, cs: SELECTORS.USER32_CS, ss: SELECTORS.USER_DS,
    ds: SELECTORS.USER_DS, es: SELECTORS.USER_DS, fs: 0, gs: SELECTORS.TLS0, trapno: 0, err: 0n, mask: 0n,
  };
  const img = new Uint8Array(FRAME32.size);
  img.set(sigcontext32(saved), FRAME32.sc);
  const hex = Buffer.from(img).toString('hex');
  const o = runCase(mkCase({
    abi: 'i386', entry: 'int80', nr: 119n,
    memory: [{ name: 'f', size: 4096, hex, fill: 0, prot: 'rw', place: 'low32', readback: false }],
    regs: { rax: lit(119), rsp: { ref: 'buf', name: 'f', add: 8n } },
  }), P70);
  t.equal(o.outcome, 'returned', o.reason ?? '');
  const a = o.after!;
  t.equal(a.rax, 0xabcdn, 'eax is the frame\'s (the call returns regs->ax)');
  t.same([a.rbx, a.rcx, a.rdx, a.rsi, a.rdi, a.rbp], [0x1001n, 0x2002n, 0x3003n, 0x4004n, 0x5005n, 0x6006n]);
  t.equal(a.rsp, 0x10000800n, 'esp from the frame');
  t.equal(a.rflags! & RFLAGS.CF, RFLAGS.CF);
  t.equal(SC32.size, 88, 'sigcontext_32 is 88 bytes');
});

t.test('a frame that cannot be read: SIGSEGV is forced (badframe)', async (t) => {
  const o = runCase(mkCase({ abi: 'i386', entry: 'int80', nr: 173n, regs: { rax: lit(173), rsp: { ref: 'unmapped' } } }), P70);
  // The probe's handler runs on its alternate stack, so it records the forced signal.
  t.equal(o.outcome, 'signal', o.reason ?? '');
  t.equal(o.signal?.signo, SIGNALS.SIGSEGV);
  t.equal(o.signal?.code, SI_CODES.SI_KERNEL, 'force_sig: SI_KERNEL');
});
