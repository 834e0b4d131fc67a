// Syscall semantics of the sim kernel checked against the kernel's rules (fs/read_write.c,
// kernel/signal.c, kernel/sys.c, drivers/char/random.c, arch/x86/kernel/{ldt,tls,sys_ia32}.c).
import t from 'tap';
import { runCase } from '../../../sim/kernel/run.js';
import { getProfile } from '../../../sim/profiles.js';
import { ERRNO } from '../../../abi/constants.js';
import type { MemRegion } from '../../../harness/contracts.js';
import { mkCase, lit } from './helpers.js';

const P = getProfile('linux-7.0-intel');
const e64 = (n: number) => BigInt.asUintN(64, -BigInt(n));
const e32 = (n: number) => BigInt.asUintN(32, -BigInt(n));
const buf = (name: string, size: number, over: Partial<MemRegion> = {}): MemRegion =>
  ({ name, size, hex: '', fill: 0, prot: 'rw', place: 'anywhere', readback: true, ...over });

t.test('read/write: EFAULT for unmapped buffers, EBADF for closed fds, /dev/null semantics', async (t) => {
  const w = (regs: object) => runCase(mkCase({ fds: [{ name: 'f', kind: 'file', hex: '68656c6c6f' }, { name: 'c', kind: 'closed', hex: '' }], regs: regs as never }), P).after!.rax;
  t.equal(w({ rax: lit(0), rdi: { ref: 'fd', name: 'f' }, rsi: { ref: 'unmapped' }, rdx: lit(5) }), e64(ERRNO.EFAULT));
  t.equal(w({ rax: lit(1), rdi: { ref: 'fd', name: 'c' }, rsi: { ref: 'unmapped' }, rdx: lit(5) }), e64(ERRNO.EBADF));
  // write_null does not read the buffer: an unmapped pointer still "writes" everything.
  t.equal(w({ rax: lit(1), rdi: { ref: 'fd', name: 'null' }, rsi: { ref: 'unmapped' }, rdx: lit(7) }), 7n);
});

t.test('read copies file bytes into memory (readback)', async (t) => {
  const o = runCase(mkCase({ fds: [{ name: 'f', kind: 'file', hex: '68656c6c6f' }], memory: [buf('b', 8)],
    regs: { rax: lit(0), rdi: { ref: 'fd', name: 'f' }, rsi: { ref: 'buf', name: 'b' }, rdx: lit(8) } }), P);
  t.equal(o.after!.rax, 5n);
  t.equal(o.memory!.b, '68656c6c6f000000');
});

t.test('i386 pread64 joins the offset from two registers (sys_ia32_pread64)', async (t) => {
  const o = runCase(mkCase({ abi: 'i386', fds: [{ name: 'f', kind: 'file', hex: '0011223344' }], memory: [buf('b', 2)],
    regs: { rax: lit(180), rbx: { ref: 'fd', name: 'f' }, rcx: { ref: 'buf', name: 'b' }, rdx: lit(2), rsi: lit(3), rdi: lit(0) } }), P);
  t.equal(o.after!.rax, 2n);
  t.equal(o.memory!.b, '3344');
  const hi = runCase(mkCase({ abi: 'i386', fds: [{ name: 'f', kind: 'file', hex: '00' }], memory: [buf('b', 2)],
    regs: { rax: lit(180), rbx: { ref: 'fd', name: 'f' }, rcx: { ref: 'buf', name: 'b' }, rdx: lit(2), rsi: lit(0), rdi: lit(0x80000000) } }), P);
  t.equal(hi.after!.rax, e32(ERRNO.EINVAL), 'negative 64-bit offset → EINVAL');
});

t.test('flag validation: prctl, getrandom, rt_sigprocmask sigsetsize, dup3, pipe2', async (t) => {
  const r = (regs: object, abi: 'x86_64' = 'x86_64') => runCase(mkCase({ abi, memory: [buf('b', 64)], regs: regs as never }), P).after!.rax;
  t.equal(r({ rax: lit(157), rdi: lit(0x7fff0000) }), e64(ERRNO.EINVAL), 'unknown prctl option');
  t.equal(r({ rax: lit(157), rdi: lit(38), rsi: lit(1), rdx: lit(1) }), e64(ERRNO.EINVAL), 'NO_NEW_PRIVS with arg3 ≠ 0');
  t.equal(r({ rax: lit(157), rdi: lit(38), rsi: lit(1) }), 0n);
  t.equal(r({ rax: lit(318), rdi: { ref: 'buf', name: 'b' }, rsi: lit(8), rdx: lit(8) }), e64(ERRNO.EINVAL), 'getrandom unknown flag');
  t.equal(r({ rax: lit(318), rdi: { ref: 'buf', name: 'b' }, rsi: lit(8), rdx: lit(6) }), e64(ERRNO.EINVAL), 'INSECURE|RANDOM');
  t.equal(r({ rax: lit(318), rdi: { ref: 'buf', name: 'b' }, rsi: lit(8), rdx: lit(0) }), 8n);
  t.equal(r({ rax: lit(14), rdi: lit(0), rsi: lit(0), rdx: lit(0), r10: lit(4) }), e64(ERRNO.EINVAL), 'sigsetsize 4');
  t.equal(r({ rax: lit(14), rdi: lit(0), rsi: lit(0), rdx: lit(0), r10: lit(8) }), 0n);
  t.equal(r({ rax: lit(292), rdi: { ref: 'fd', name: 'null' }, rsi: lit(10), rdx: lit(1) }), e64(ERRNO.EINVAL), 'dup3 flags');
  t.equal(r({ rax: lit(293), rdi: { ref: 'buf', name: 'b' }, rsi: lit(1) }), e64(ERRNO.EINVAL), 'pipe2 flags');
  t.equal(r({ rax: lit(22), rdi: { ref: 'unmapped' } }), e64(ERRNO.EFAULT), 'pipe EFAULT');
});

t.test('modify_ldt returns its error zero-extended from 32 bits (arch/x86/kernel/ldt.c)', async (t) => {
  const o = runCase(mkCase({ memory: [buf('b', 16)], regs: { rax: lit(154), rdi: lit(1), rsi: { ref: 'buf', name: 'b' }, rdx: lit(15) } }), P);
  t.equal(o.after!.rax, 0xffffffean);
});

t.test('set_thread_area allocates entry 12 and writes it back; arch_prctl sets fs_base', async (t) => {
  // user_desc {entry -1, base 0x1000, limit 0xfffff, seg_32bit|limit_in_pages|useable}
  const desc = 'ffffffff' + '00100000' + 'ffff0f00' + '51000000';
  const o = runCase(mkCase({ abi: 'i386', memory: [buf('u', 16, { hex: desc })], regs: { rax: lit(243), rbx: { ref: 'buf', name: 'u' } } }), P);
  t.equal(o.after!.rax, 0n);
  // glibc's entry 12 is taken (gs = 0x63), so the next free one is 13.
  t.equal(o.memory!.u.slice(0, 8), '0d000000');
  const a = runCase(mkCase({ regs: { rax: lit(158), rdi: lit(0x1002), rsi: lit(0x12345000) } }), P);
  t.equal(a.after!.fs_base, 0x12345000n);
  t.equal(runCase(mkCase({ regs: { rax: lit(158), rdi: lit(0x1002), rsi: lit(1n << 47n) } }), P).after!.rax, e64(ERRNO.EPERM));
});

t.test('kill(getpid(), SIGUSR1): recorded by a handler, or kills with the default action', async (t) => {
  const regs = { rax: lit(62), rdi: { ref: 'pid' as const }, rsi: lit(10) };
  const rec = runCase(mkCase({ regs, signals: { actions: { 10: 'record' }, blocked: [] } }), P);
  t.equal(rec.outcome, 'returned');
  t.equal(rec.delivered?.[0]?.signo, 10);
  const dfl = runCase(mkCase({ regs }), P);
  t.equal(dfl.outcome, 'killed');
  t.equal(dfl.exit?.signal, 10);
  const blk = runCase(mkCase({ regs, signals: { actions: {}, blocked: [10] } }), P);
  t.equal(blk.outcome, 'returned', 'blocked: stays pending');
  const ign = runCase(mkCase({ regs, signals: { actions: { 10: 'ignore' }, blocked: [] } }), P);
  t.equal(ign.outcome, 'returned');
});

t.test('exit_group → exited with the low 8 bits', async (t) => {
  const o = runCase(mkCase({ regs: { rax: lit(231), rdi: lit(0x1ff) } }), P);
  t.equal(o.outcome, 'exited');
  t.equal(o.exit?.code, 0xff);
});

t.test('vDSO clock_gettime agrees with the syscall clock; a bad pointer is SIGSEGV, not EFAULT', async (t) => {
  const o = runCase(mkCase({ entry: 'vdso_fn', symbol: 'clock_gettime', memory: [buf('ts', 16)], regs: { rdi: lit(0), rsi: { ref: 'buf', name: 'ts' } } }), P);
  t.equal(o.after!.rax, 0n);
  const sec = BigInt('0x' + o.memory!.ts.slice(0, 16).match(/../g)!.reverse().join(''));
  t.ok(sec > 1_600_000_000n, 'a realistic CLOCK_REALTIME');
  const bad = runCase(mkCase({ entry: 'vdso_fn', symbol: 'clock_gettime', regs: { rdi: lit(0), rsi: { ref: 'unmapped' } } }), P);
  t.equal(bad.signal?.signo, 11);
  const inval = runCase(mkCase({ entry: 'vdso_fn', symbol: 'clock_gettime', memory: [buf('ts', 16)], regs: { rdi: lit(10), rsi: { ref: 'buf', name: 'ts' } } }), P);
  t.equal(inval.after!.rax, e64(ERRNO.EINVAL), 'invalid clock falls back to the syscall');
});

t.test('vsyscall: slots emulated, misaligned → SIGSEGV, none → SIGSEGV', async (t) => {
  const ok = runCase(mkCase({ entry: 'vsyscall', vsyscallAddr: 0xffffffffff600400n, regs: { rdi: lit(0) } }), P);
  t.equal(ok.outcome, 'returned');
  t.ok(ok.after!.rax! > 1_600_000_000n, 'time()');
  t.equal(ok.after!.rip, ok.env.next_ip);
  t.equal(ok.after!.rsp, ok.before.rsp, 'the return address was popped');
  t.equal(runCase(mkCase({ entry: 'vsyscall', vsyscallAddr: 0xffffffffff600010n }), P).signal?.signo, 11);
  t.equal(runCase(mkCase({ entry: 'vsyscall', vsyscallAddr: 0xffffffffff600000n }), getProfile('linux-7.0-intel-vsyscall-none')).signal?.signo, 11);
});
