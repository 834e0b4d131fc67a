// Sim kernel behaviours the spec corpus found wrong, each checked against the kernel source
// rule it comes from (path cited per test) rather than against earlier simulator output.
import t from 'tap';
import { runCase, startThreadDataSelector } from '../../../sim/kernel/run.js';
import { getProfile } from '../../../sim/profiles.js';
import { SELECTORS, SIGNALS, SI_CODES } from '../../../abi/constants.js';
import type { MemRegion } from '../../../harness/contracts.js';
import { mkCase, lit } from './helpers.js';

const P70 = getProfile('linux-7.0-intel');
const X32 = getProfile('linux-7.0-intel-x32');
const P416 = getProfile('linux-4.16-intel');

// arch/x86/kernel/process_64.c: start_thread → start_thread_common(..., __USER_CS, __USER_DS, 0);
// compat_start_thread → (..., x32 ? __USER_CS : __USER32_CS, __USER_DS, __USER_DS).
t.test('start_thread: DS/ES are 0 for a 64-bit program, __USER_DS for i386 and x32', async (t) => {
  t.equal(startThreadDataSelector('x86_64'), 0);
  t.equal(startThreadDataSelector('i386'), SELECTORS.USER_DS);
  t.equal(startThreadDataSelector('x32'), SELECTORS.USER_DS);
  for (const prof of [P70, P416]) {
    const o = runCase(mkCase({ entry: 'exec', code: '64' }), prof);
    t.equal(o.after?.ds, 0n, `${prof.name}: x86_64 exec DS`);
    t.equal(o.after?.es, 0n, `${prof.name}: x86_64 exec ES`);
  }
  for (const prof of [X32, P416]) {
    const o = runCase(mkCase({ abi: 'x32', entry: 'exec', code: '64' }), prof);
    t.equal(o.after?.cs, BigInt(SELECTORS.USER_CS), `${prof.name}: x32 exec CS is __USER_CS`);
    t.equal(o.after?.ds, BigInt(SELECTORS.USER_DS), `${prof.name}: x32 exec DS`);
    t.equal(o.after?.es, BigInt(SELECTORS.USER_DS), `${prof.name}: x32 exec ES`);
  }
  const i = runCase(mkCase({ abi: 'i386', entry: 'exec' }), P70);
  t.equal(i.after?.ds, BigInt(SELECTORS.USER_DS), 'i386 exec DS');
});

// SYSRET and a 64-bit IRET load only CS and SS (SDM SYSRET, IRET): DS/ES keep the exec values.
t.test('a 64-bit program keeps DS/ES 0 across SYSCALL and int $0x80; x32 keeps __USER_DS', async (t) => {
  const sc = runCase(mkCase({ regs: { rax: lit(39) } }), P70);
  t.equal(sc.outcome, 'returned');
  t.equal(sc.after?.ds, 0n, 'SYSCALL: DS');
  t.equal(sc.after?.es, 0n, 'SYSCALL: ES');
  const i80 = runCase(mkCase({ entry: 'int80', code: '64', regs: { rax: lit(20) } }), P70);
  t.equal(i80.outcome, 'returned');
  t.equal(i80.after?.ds, 0n, 'int $0x80 from 64-bit code: DS');
  t.equal(i80.after?.es, 0n, 'int $0x80 from 64-bit code: ES');
  const x = runCase(mkCase({ abi: 'x32', regs: { rax: lit(0x40000027) } }), X32);
  t.equal(x.outcome, 'returned');
  t.equal(x.after?.ds, BigInt(SELECTORS.USER_DS), 'x32 SYSCALL: DS');
});

// arch/x86/kernel/ldt.c read_default_ldt: `size = 128` unless CONFIG_X86_32; clear_user(ptr,
// min(bytecount, size)) and return that count. Bytes past it are left alone.
t.test('modify_ldt(2) reads 128 zero bytes of default LDT on a 64-bit kernel', async (t) => {
  const region: MemRegion = { name: 'b', size: 200, hex: '', fill: 0xaa, prot: 'rw', place: 'low32', readback: true };
  for (const [abi, nr] of [['x86_64', 154], ['i386', 123]] as const) {
    const regs = abi === 'i386'
      ? { rax: lit(nr), rbx: lit(2), rcx: { ref: 'buf', name: 'b' } as const, rdx: lit(200) }
      : { rax: lit(nr), rdi: lit(2), rsi: { ref: 'buf', name: 'b' } as const, rdx: lit(200) };
    const o = runCase(mkCase({ abi, memory: [region], regs }), P70);
    t.equal(o.outcome, 'returned', `${abi}: returned`);
    t.equal(o.after!.rax, 128n, `${abi}: 128 bytes reported`);
    const mem = o.memory!.b!;
    t.equal(mem.slice(0, 256), '00'.repeat(128), `${abi}: the first 128 bytes cleared`);
    t.equal(mem.slice(256), 'aa'.repeat(72), `${abi}: bytes past 128 untouched`);
  }
  const small = runCase(mkCase({ memory: [region], regs: { rax: lit(154), rdi: lit(2), rsi: { ref: 'buf', name: 'b' }, rdx: lit(16) } }), P70);
  t.equal(small.after!.rax, 16n, 'a smaller bytecount is returned as is');
});

// arch/x86/entry/vsyscall/vsyscall_64.c emulate_vsyscall → write_ok_or_segv: a result pointer
// that fails access_ok is SIGSEGV SEGV_MAPERR with si_addr = the pointer (and error_code 6),
// before the syscall runs; a user pointer that is merely unmapped reaches the syscall, whose
// -EFAULT becomes force_sig(SIGSEGV) (SI_KERNEL).
t.test('vsyscall: kernel-address result pointer → SEGV_MAPERR at the pointer', async (t) => {
  const KADDR = 0xffff888000000000n;
  const prof = getProfile('linux-7.0-intel-vsyscall-emulate');
  for (const [slot, arg] of [[0n, 'rdi'], [0x400n, 'rdi'], [0x800n, 'rsi']] as const) {
    const regs = { rdi: lit(0), rsi: lit(0), rdx: lit(0), [arg]: lit(KADDR) };
    const o = runCase(mkCase({ entry: 'vsyscall', vsyscallAddr: 0xffffffffff600000n + slot, regs }), prof);
    t.equal(o.outcome, 'signal', `slot ${slot}: signal`);
    t.equal(o.signal?.signo, SIGNALS.SIGSEGV);
    t.equal(o.signal?.code, SI_CODES.SEGV_MAPERR, `slot ${slot}: SEGV_MAPERR`);
    t.equal(o.signal?.addr, KADDR, `slot ${slot}: si_addr is the pointer`);
    t.equal(o.signal?.err, 6n, `slot ${slot}: error_code 6 (user, write, not present)`);
  }
  // The last byte of a pointer range crossing TASK_SIZE_MAX also fails access_ok.
  const edge = runCase(mkCase({ entry: 'vsyscall', vsyscallAddr: 0xffffffffff600400n, regs: { rdi: lit((1n << 47n) - 4096n - 4n) } }), prof);
  t.equal(edge.signal?.code, SI_CODES.SEGV_MAPERR, 'time() into the last 4 bytes below TASK_SIZE_MAX');
  const user = runCase(mkCase({ entry: 'vsyscall', vsyscallAddr: 0xffffffffff600400n, regs: { rdi: lit(0x10000n) } }), prof);
  t.equal(user.signal?.code, SI_CODES.SI_KERNEL, 'unmapped user pointer: the syscall\'s -EFAULT → SI_KERNEL');
});

// lib/vdso/gettimeofday.c: __cvdso_clock_gettime(32) stores through ts/res without a NULL test,
// so a NULL result pointer is a user-mode #PF at address 0 inside the vDSO (SIGSEGV
// SEGV_MAPERR, si_addr 0); gettimeofday, time and clock_getres test for NULL and return 0.
t.test('vDSO clock_gettime(CLOCK_MONOTONIC, NULL) faults; NULL-checked functions return', async (t) => {
  for (const abi of ['x86_64', 'i386'] as const) {
    const sym = abi === 'i386' ? '__vdso_clock_gettime' : 'clock_gettime';
    const a = abi === 'i386' ? { rax: lit(1), rbx: lit(1), rcx: lit(0) } : { rdi: lit(1), rsi: lit(0) };
    const o = runCase(mkCase({ abi, entry: 'vdso_fn', symbol: sym, regs: a }), P70);
    t.equal(o.outcome, 'signal', `${abi}: clock_gettime into NULL is a signal`);
    t.equal(o.signal?.signo, SIGNALS.SIGSEGV);
    t.equal(o.signal?.code, SI_CODES.SEGV_MAPERR);
    t.equal(o.signal?.addr, 0n, `${abi}: si_addr 0`);
  }
  const gtod = runCase(mkCase({ entry: 'vdso_fn', symbol: 'gettimeofday', regs: { rdi: lit(0), rsi: lit(0) } }), P70);
  t.equal(gtod.outcome, 'returned', 'gettimeofday(NULL, NULL) returns');
  t.equal(gtod.after?.rax, 0n);
  const res = runCase(mkCase({ entry: 'vdso_fn', symbol: 'clock_getres', regs: { rdi: lit(1), rsi: lit(0) } }), P70);
  t.equal(res.outcome, 'returned', 'clock_getres(CLOCK_MONOTONIC, NULL) returns');
});

// arch/x86/entry/entry_64_compat.S entry_SYSENTER_compat: with NT, AC or TF in the user flags,
// .Lsysenter_fix_flags does `pushq $X86_EFLAGS_FIXED; popfq`, so the exit (IRET, forced by TF)
// never runs with NT set; the saved flags keep NT and TF, so user mode gets them back.
t.test('SYSENTER (Intel) with NT|TF: returns with NT and TF restored, and traps', async (t) => {
  const NT = 0x4000n, TF = 0x100n;
  const o = runCase(mkCase({ abi: 'i386', entry: 'vdso', regs: { rax: lit(20) }, rflags: 0x202n | NT | TF, flags: ['NT', 'TF'] }), P70);
  t.equal(o.outcome, 'returned', `returned (${o.reason ?? o.signal?.code ?? ''})`);
  t.equal(o.after?.rax, o.env.pid, 'getpid result');
  t.equal(o.after!.rflags! & (NT | TF), NT | TF, 'NT and TF set again in user mode');
  t.ok((o.traps ?? 0) >= 1, 'the single step trapped');
});
