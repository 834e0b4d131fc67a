// Entry paths, decoding rules and profile boundaries of the sim kernel, each checked against a
// rule from ABI-FACTS (section cited) or the kernel source — not against simulator output.
import t from 'tap';
import { runCase } from '../../../sim/kernel/run.js';
import { getProfile } from '../../../sim/profiles.js';
import { ERRNO, SIGNALS, SI_CODES } from '../../../abi/constants.js';
import { mkCase, lit } from './helpers.js';

const P70 = getProfile('linux-7.0-intel');
const AMD = getProfile('linux-7.0-amd');
const P416 = getProfile('linux-4.16-intel');
const neg = (e: number, bits = 64) => BigInt.asUintN(bits, -BigInt(e));

t.test('RG-01: SYSCALL clobbers only rax, rcx (next ip), r11 (rflags)', async (t) => {
  const regs: Record<string, ReturnType<typeof lit>> = {};
  const names = ['rbx', 'rdx', 'rsi', 'rdi', 'rbp', 'r8', 'r9', 'r10', 'r12', 'r13', 'r14', 'r15'] as const;
  names.forEach((r, i) => (regs[r] = lit(0x5a5a000000000000n | BigInt(i + 1))));
  const o = runCase(mkCase({ nr: 39n, regs: { ...regs, rax: lit(39) } }), P70);
  t.equal(o.outcome, 'returned');
  t.equal(o.after!.rax, o.env.pid, 'rax = pid');
  t.equal(o.after!.rcx, o.env.next_ip, 'rcx = next ip (§3.2)');
  t.equal(o.after!.r11, 0x202n, 'r11 = rflags with RF clear');
  for (const r of names) t.equal(o.after![r], o.before[r], `${r} preserved`);
  t.equal(o.after!.cs, 0x33n);
  t.equal(o.after!.ss, 0x2bn);
});

t.test('SN-01 / §4.1: high half of rax ignored since 5.14, compared before', async (t) => {
  const c = mkCase({ regs: { rax: lit((1n << 32n) | 39n) } });
  t.equal(runCase(c, P70).after!.rax, 4242n, '7.0: getpid');
  t.equal(runCase(c, P416).after!.rax, neg(ERRNO.ENOSYS), '4.16: -ENOSYS');
});

t.test('SN-02: nr -1 leaves the -ENOSYS preset; other negatives -ENOSYS', async (t) => {
  t.equal(runCase(mkCase({ regs: { rax: lit(0xffffffffn) } }), P70).after!.rax, neg(ERRNO.ENOSYS));
  t.equal(runCase(mkCase({ regs: { rax: lit(-5n & ((1n << 64n) - 1n)) } }), P70).after!.rax, neg(ERRNO.ENOSYS));
});

t.test('SN-05/SN-06: x32 numbers with and without x32, and the 5.4 table split', async (t) => {
  const x32 = getProfile('linux-7.0-intel-x32');
  const getpidX32 = mkCase({ regs: { rax: lit(0x40000027) } });
  t.equal(runCase(getpidX32, P70).after!.rax, neg(ERRNO.ENOSYS), 'no x32: -ENOSYS');
  t.equal(runCase(getpidX32, x32).after!.rax, 4242n, 'x32 configured: getpid');
  // 512 (x32 rt_sigaction) without the bit: -ENOSYS since 5.4; reached the x32 entry before.
  const c512 = mkCase({ regs: { rax: lit(512), rdi: lit(0), rsi: lit(0), rdx: lit(0), r10: lit(8) } });
  t.equal(runCase(c512, x32).after!.rax, neg(ERRNO.ENOSYS), '7.0: 512 w/o bit → ENOSYS');
  t.not(runCase(c512, P416).after!.rax, neg(ERRNO.ENOSYS), '4.16: 512 w/o bit reaches a handler');
  // 16 (ioctl, a 64-only row) with the x32 bit → -ENOSYS on 7.0
  t.equal(runCase(mkCase({ regs: { rax: lit(0x40000010) } }), x32).after!.rax, neg(ERRNO.ENOSYS));
});

t.test('§5: int-typed arguments use the low 32 bits (close of 0xffffffff00000003)', async (t) => {
  const o = runCase(mkCase({ regs: { rax: lit(3), rdi: { ref: 'fd', name: 'null', or: 0xffffffff00000000n } } }), P70);
  t.equal(o.after!.rax, 0n);
});

t.test('§3.5 condition 5 / RT-03: TF forces IRET, TF stays set and traps', async (t) => {
  const o = runCase(mkCase({ regs: { rax: lit(39) }, rflags: 0x302n, flags: ['TF'] }), P70, { explain: true });
  t.equal(o.outcome, 'returned');
  t.equal(o.after!.rflags! & 0x100n, 0x100n, 'TF still set');
  t.ok(o.traps! >= 1, 'at least one SIGTRAP');
  t.ok(o.steps!.some((s) => s.includes('→ IRET')), 'took IRET');
  const plain = runCase(mkCase({ regs: { rax: lit(39) } }), P70, { explain: true });
  t.ok(plain.steps!.some((s) => s.includes('sysretq')), 'no TF: SYSRET');
});

t.test('RT-02: a syscall whose next instruction is an unmapped, canonical page → SIGSEGV there', async (t) => {
  const top = (1n << 47n) - 4096n;
  const o = runCase(mkCase({ regs: { rax: lit(39) }, placeNextIp: top }), P70, { explain: true });
  t.equal(o.outcome, 'signal');
  t.equal(o.signal!.signo, SIGNALS.SIGSEGV);
  t.equal(o.signal!.regs.rip, top);
  t.ok(o.steps!.some((s) => s.includes('TASK_SIZE_MAX')), 'ip >= TASK_SIZE_MAX forced IRET');
});

t.test('RT-01: sigreturn to a non-canonical RIP → IRET → SIGSEGV with that RIP', async (t) => {
  const rip = 1n << 47n;
  const o = runCase(mkCase({ entry: 'sigreturn', sigreturn: { rip: lit(rip), rcx: lit(rip), r11: lit(0x202) } }), P70);
  t.equal(o.outcome, 'signal');
  t.equal(o.signal!.signo, SIGNALS.SIGSEGV);
  t.equal(o.signal!.regs.rip, rip);
});

t.test('SN-07/SN-08 + RG-02: int $0x80 from 64-bit code: i386 numbers, high rax ignored, r8–r15 kept since 4.17', async (t) => {
  const regs = { rax: lit((1n << 32n) | 20n), r8: lit(0x7f7f7f7f7f7f7f7fn), r11: lit(0x1234n), r15: lit(0xabcdn) };
  const o = runCase(mkCase({ entry: 'int80', regs }), P70);
  t.equal(o.after!.rax, 4242n, 'getpid');
  t.equal(o.after!.r8, 0x7f7f7f7f7f7f7f7fn);
  t.equal(o.after!.r11, 0x1234n);
  const old = runCase(mkCase({ entry: 'int80', regs }), P416);
  t.equal(old.after!.r8, 0n, '4.16: r8 zeroed');
  t.equal(old.after!.r11, 0n, '4.16: r11 zeroed');
  t.equal(old.after!.r15, 0xabcdn, '4.16: r15 kept');
});

t.test('CF-01: ia32 off → int $0x80 #GP(0x402) → SIGSEGV; 32-bit SYSCALL → -ENOSYS', async (t) => {
  const off = getProfile('linux-6.6-intel-ia32off');
  const o = runCase(mkCase({ entry: 'int80', regs: { rax: lit(20) } }), off);
  t.equal(o.signal?.signo, SIGNALS.SIGSEGV);
  t.equal(o.signal?.code, SI_CODES.SI_KERNEL);
  t.equal(o.signal?.err, 0x402n);
  const amdOff = getProfile('linux-7.0-amd-ia32off');
  const s = runCase(mkCase({ code: 'compat', regs: { rax: lit(20) } }), amdOff);
  t.equal(s.after?.rax, neg(ERRNO.ENOSYS, 32));
  t.equal(runCase(mkCase({ abi: 'i386', regs: { rax: lit(20) } }), off).outcome, 'unsupported', 'no 32-bit programs');
});

t.test('vendors: SYSENTER in 64-bit mode is #UD on AMD; 32-bit SYSCALL is #UD on Intel', async (t) => {
  t.equal(runCase(mkCase({ entry: 'sysenter', regs: { rax: lit(20) } }), AMD).signal?.signo, SIGNALS.SIGILL);
  t.equal(runCase(mkCase({ code: 'compat', regs: { rax: lit(20) } }), P70).signal?.signo, SIGNALS.SIGILL);
});

t.test('RG-03 / §3.7: i386 vDSO fast path returns eax, keeps ebx..ebp, IF set (FL-03)', async (t) => {
  for (const prof of [P70, AMD]) {
    const regs = { rax: lit(20), rbx: lit(0x5a000101), rcx: lit(0x5a000202), rdx: lit(0x5a000303), rsi: lit(0x5a000404), rdi: lit(0x5a000505), rbp: lit(0x5a000606) };
    const o = runCase(mkCase({ abi: 'i386', entry: 'vdso', regs }), prof);
    t.equal(o.outcome, 'returned', prof.name);
    t.equal(o.after!.rax, 4242n);
    for (const r of ['rbx', 'rcx', 'rdx', 'rsi', 'rdi', 'rbp', 'rsp'] as const) t.equal(o.after![r], o.before[r], `${prof.name} ${r}`);
    t.equal(o.after!.rflags! & 0x200n, 0x200n);
    t.equal(o.after!.rip, o.env.next_ip);
  }
});

t.test('§3.7: fast path with an unreadable arg6 stack → -EFAULT (SS-03 with ebp = 0)', async (t) => {
  const o = runCase(mkCase({ abi: 'i386', entry: 'sysenter', regs: { rax: lit(20), rbp: lit(0) } }), P70);
  // -EFAULT is loaded, then the landing pad pops from esp = 0 and faults.
  t.equal(o.outcome, 'signal');
  t.equal(o.signal!.signo, SIGNALS.SIGSEGV);
  t.equal(o.signal!.regs.rax, neg(ERRNO.EFAULT, 32));
});

t.test('§7 exec: all GPRs zero except rsp, rflags 0x202', async (t) => {
  const o = runCase(mkCase({ entry: 'exec' }), P70);
  for (const [r, v] of Object.entries(o.after!)) if (r.startsWith('r') && r !== 'rsp' && r !== 'rip' && r !== 'rflags') t.equal(v, 0n, r);
  t.equal(o.after!.rflags, 0x202n);
  t.not(o.after!.rsp, 0n);
});

t.test('uretprobe outside a trampoline: SIGILL on 6.11+, -ENOSYS before', async (t) => {
  t.equal(runCase(mkCase({ regs: { rax: lit(335) } }), P70).signal?.signo, SIGNALS.SIGILL);
  t.equal(runCase(mkCase({ regs: { rax: lit(335) } }), getProfile('linux-6.6-intel-ia32off')).after?.rax, neg(ERRNO.ENOSYS));
});

t.test('unmodelled implemented syscall → unsupported "not modelled: name"', async (t) => {
  const o = runCase(mkCase({ regs: { rax: lit(257) } }), P70);
  t.equal(o.outcome, 'unsupported');
  t.match(o.reason!, /^not modelled: openat/);
});

t.test('FRED: SYSCALL does not write rcx/r11', async (t) => {
  const o = runCase(mkCase({ regs: { rax: lit(39), rcx: lit(0x1111), r11: lit(0x2222) } }), getProfile('linux-7.0-intel-fred'));
  t.equal(o.after!.rax, 4242n);
  t.equal(o.after!.rcx, 0x1111n);
  t.equal(o.after!.r11, 0x2222n);
});
