// Every Case feature the native target implements (harness/contracts.ts): memory regions
// (prot, place, at, readback), fds, operands, signal set-up, blocked signals, placeNextIp,
// exec, sigreturn, vdso_fn, vsyscall. Each check can fail: values come from the kernel's
// answers and ABI-FACTS, never from the probe's own claims alone.

import t from 'tap';
import { RFLAGS, SELECTORS, SIGNALS, SI_CODES, VSYSCALL_ADDR, errnoReturn } from '../../abi/constants.js';
import { GPRS64, type MemRegion } from '../../harness/contracts.js';
import { detectHostFacts } from '../../harness/host.js';
import { createNativeTarget } from '../../harness/targets/native.js';
import { mkCase, nativeSkip, PROBE_DIR } from './helpers.js';

const skip = nativeSkip('x86_64');
const hex = (s: string) => Buffer.from(s).toString('hex');
const region = (p: Partial<MemRegion> & { name: string }): MemRegion => ({ size: 16, hex: '', fill: 0, prot: 'rw', place: 'anywhere', readback: false, ...p });
const target = createNativeTarget({ probeDir: PROBE_DIR });
const EFAULT = errnoReturn('EFAULT', 64);

t.test('memory regions, fds and operands', { skip }, async (t) => {
  const args3 = (fd: string, buf: string, n: bigint, add = 0n) => ({ rdi: { ref: 'fd' as const, name: fd }, rsi: { ref: 'buf' as const, name: buf, add }, rdx: { lit: n } });
  const cases = [
    // read(file "hello", buf, 16) → 5, the bytes land in the region
    mkCase({ call: 'read', regs: args3('f', 'b', 16n), fds: [{ name: 'f', kind: 'file', hex: hex('hello') }], memory: [region({ name: 'b', fill: 0x2e, readback: true })] }),
    // read from a pipe's read end
    mkCase({ call: 'read', regs: args3('p.r', 'b', 3n), fds: [{ name: 'p', kind: 'pipe', hex: hex('xyz') }], memory: [region({ name: 'b', readback: true })] }),
    // write(pipe, unmapped, 1) → -EFAULT (a pipe copies the bytes; /dev/null never reads them)
    mkCase({ call: 'write', regs: { rdi: { ref: 'fd', name: 'p.w' }, rsi: { ref: 'unmapped' }, rdx: { lit: 1n } }, fds: [{ name: 'p', kind: 'pipe', hex: '' }] }),
    // read(closed fd) → -EBADF
    mkCase({ call: 'read', regs: args3('c', 'b', 1n), fds: [{ name: 'c', kind: 'closed', hex: '' }], memory: [region({ name: 'b' })] }),
    // end_of_page: 8 bytes end at a page boundary; 8 bytes from +4 cross into nothing
    mkCase({ call: 'write', regs: args3('p.w', 'e', 8n), fds: [{ name: 'p', kind: 'pipe', hex: '' }], memory: [region({ name: 'e', size: 8, place: 'end_of_page' })] }),
    mkCase({ call: 'write', regs: args3('p.w', 'e', 8n, 4n), fds: [{ name: 'p', kind: 'pipe', hex: '' }], memory: [region({ name: 'e', size: 8, place: 'end_of_page' })] }),
    // read-only region: the kernel cannot store into it
    mkCase({ call: 'read', regs: args3('f', 'r', 5n), fds: [{ name: 'f', kind: 'file', hex: hex('hello') }], memory: [region({ name: 'r', prot: 'r', readback: true, fill: 0x41 })] }),
    // fixed address and low32
    mkCase({ call: 'getpid', memory: [region({ name: 'at', at: 0x1234_5000n, hex: 'c0ffee', readback: true }), region({ name: 'lo', place: 'low32' })] }),
    // an operand with `or`: int-typed fd argument uses the low 32 bits (ABI-FACTS §5)
    mkCase({ call: 'write', regs: { rdi: { ref: 'fd', name: 'null', or: 0xffff_ffff_0000_0000n }, rsi: { ref: 'buf', name: 'b' }, rdx: { lit: 4n } }, memory: [region({ name: 'b' })] }),
  ];
  const [rd, pipe, unm, closed, eop, eopx, ro, fixed, high] = await target.run(cases);
  t.equal(rd!.after?.rax, 5n, 'read returned 5');
  t.equal(rd!.memory?.b, hex('hello') + '2e'.repeat(11), 'region read back: the file bytes, then the fill');
  t.equal(rd!.before.rsi, rd!.env.bufs?.b, 'buf operand resolved to the region address');
  t.equal(rd!.before.rdi, rd!.env.fds?.f, 'fd operand resolved to the opened descriptor');
  t.equal(pipe!.after?.rax, 3n);
  t.equal(pipe!.memory?.b.slice(0, 6), hex('xyz'));
  t.equal(unm!.after?.rax, EFAULT, 'unmapped pointer: -EFAULT');
  t.equal(unm!.before.rsi, unm!.env.unmapped, 'unmapped operand reported in env');
  t.equal(closed!.after?.rax, errnoReturn('EBADF', 64), 'closed fd: -EBADF');
  t.equal(eop!.after?.rax, 8n, 'the last 8 bytes of the page are readable');
  t.equal((eop!.env.bufs!.e! + 8n) % 4096n, 0n, 'the region ends at a page boundary');
  t.equal(eopx!.after?.rax, EFAULT, 'crossing into the next page: -EFAULT');
  t.equal(ro!.after?.rax, EFAULT, 'read-only region: -EFAULT');
  t.equal(ro!.memory?.r, '41'.repeat(16), 'read-only region unchanged');
  t.equal(fixed!.env.bufs?.at, 0x1234_5000n, 'region at its fixed address');
  t.equal(fixed!.memory?.at.slice(0, 6), 'c0ffee');
  t.ok(fixed!.env.bufs!.lo! < 1n << 32n, 'low32 region below 4 GiB');
  t.equal(high!.after?.rax, 4n, 'write(fd | 0xffffffff00000000) uses the low 32 bits of the fd');
});

t.test('signal set-up: record, ignore, default, blocked', { skip }, async (t) => {
  const kill = (sig: number) => ({ rdi: { ref: 'pid' as const }, rsi: { lit: BigInt(sig) } });
  const U1 = SIGNALS.SIGUSR1;
  const [rec, ign, dfl, blk] = await target.run([
    mkCase({ call: 'kill', regs: kill(U1), signals: { actions: { [U1]: 'record' }, blocked: [] } }),
    mkCase({ call: 'kill', regs: kill(U1), signals: { actions: { [U1]: 'ignore' }, blocked: [] } }),
    mkCase({ call: 'kill', regs: kill(U1), signals: { actions: { [U1]: 'default' }, blocked: [] } }),
    mkCase({ call: 'kill', regs: kill(U1), signals: { actions: { [U1]: 'record' }, blocked: [U1] } }),
  ]);
  t.equal(rec!.outcome, 'returned', rec!.reason ?? '');
  t.equal(rec!.after?.rax, 0n);
  t.equal(rec!.delivered?.length, 1, 'one delivery recorded');
  t.equal(rec!.delivered?.[0]?.signo, U1);
  t.equal(rec!.delivered?.[0]?.code, SI_CODES.SI_USER, 'sent by kill(): SI_USER');
  t.equal(ign!.outcome, 'returned');
  t.equal(ign!.delivered, undefined, 'ignored: nothing delivered');
  t.equal(dfl!.outcome, 'killed', 'default action of SIGUSR1 ends the (forked) case');
  t.equal(dfl!.exit?.signal, U1);
  t.equal(blk!.outcome, 'returned');
  t.equal(blk!.delivered, undefined, 'blocked during the call: still pending when it returns');
});

t.test('placeNextIp', { skip }, async (t) => {
  const next = 0x2_0000_0002n;
  const top = 1n << 47n;
  const [placed, edge, refused] = await target.run([
    mkCase({ call: 'getpid', placeNextIp: next }),
    // SYSCALL in the last 2 bytes below the top user page: the next page cannot be
    // mapped, so falling through faults at next_ip (RT-02 control case).
    mkCase({ call: 'getpid', placeNextIp: top - 4096n }),
    // The top page itself is beyond TASK_SIZE_MAX: the kernel refuses the mapping.
    mkCase({ call: 'getpid', placeNextIp: top }),
  ]);
  t.equal(placed!.outcome, 'returned', placed!.reason ?? '');
  t.equal(placed!.env.next_ip, next);
  t.equal(placed!.env.entry_ip, next - 2n);
  t.equal(placed!.after?.rcx, next, 'rcx = the placed next_ip');
  t.equal(edge!.outcome, 'signal', edge!.reason ?? '');
  t.equal(edge!.signal?.signo, SIGNALS.SIGSEGV);
  t.equal(edge!.signal?.regs.rip, top - 4096n, 'fault at next_ip');
  t.equal(edge!.signal?.regs.rax, edge!.env.pid, 'the syscall itself completed');
  t.equal(refused!.outcome, 'unsupported');
  t.match(refused!.reason, /kernel refused a mapping at 0x7ffffffff000/);
});

t.test('exec: the initial register state of a fresh static program (RG-07)', { skip }, async (t) => {
  const [o] = await target.run([mkCase({ entry: 'exec', isolate: true })]);
  t.equal(o!.outcome, 'returned', o!.reason ?? '');
  for (const r of GPRS64) if (r !== 'rsp') t.equal(o!.after?.[r], 0n, `${r} = 0`);
  t.ok((o!.after?.rsp ?? 0n) > 0n, 'rsp points at the initial stack');
  t.equal(o!.after?.rflags, 0x202n, 'RFLAGS = 0x202');
  t.equal(o!.after?.cs, BigInt(SELECTORS.USER_CS));
  t.equal(o!.after?.rip, o!.env.entry_ip, 'reported from the custom entry point');
  t.equal(o!.after?.fs_base, 0n, 'no TLS yet: FS base 0');
  t.equal(o!.after?.gs_base, 0n, 'GS base 0');
});

t.test('sigreturn: frame rewritten, then rt_sigreturn (RT-01)', { skip }, async (t) => {
  const rip = 1n << 47n;
  const [plain, noncanon] = await target.run([
    mkCase({ entry: 'sigreturn', isolate: true, sigreturn: { rbx: { lit: 0x1234n } } }),
    mkCase({ entry: 'sigreturn', isolate: true, sigreturn: { rip: { lit: rip }, rcx: { lit: rip }, r11: { ref: 'rflags_in' } } }),
  ]);
  t.equal(plain!.outcome, 'returned', plain!.reason ?? '');
  t.equal(plain!.after?.rbx, 0x1234n, 'rbx from the rewritten frame');
  t.equal(plain!.after?.rip, plain!.env.next_ip);
  t.equal(noncanon!.outcome, 'signal');
  t.equal(noncanon!.signal?.signo, SIGNALS.SIGSEGV, 'non-canonical RIP: SIGSEGV, not a kernel crash');
  t.equal(noncanon!.signal?.regs.rip, rip, 'with RIP = 1<<47');
  t.equal(noncanon!.signal?.regs.r11, 0x202n, 'r11 = rflags_in');
});

t.test('vdso_fn and vsyscall', { skip }, async (t) => {
  const facts = await detectHostFacts({ probeDir: PROBE_DIR });
  const [cg, missing, vs] = await target.run([
    mkCase({ entry: 'vdso_fn', symbol: '__vdso_clock_gettime', regs: { rdi: { lit: 1n }, rsi: { ref: 'buf', name: 'ts' } }, memory: [region({ name: 'ts', readback: true })] }),
    mkCase({ entry: 'vdso_fn', symbol: '__vdso_no_such_thing' }),
    mkCase({ entry: 'vsyscall', vsyscallAddr: VSYSCALL_ADDR + 0x400n, regs: { rdi: { lit: 0n } }, isolate: true }),
  ]);
  t.equal(cg!.outcome, 'returned', cg!.reason ?? '');
  t.equal(cg!.after?.rax, 0n, 'clock_gettime(CLOCK_MONOTONIC) returned 0');
  t.not(cg!.memory?.ts, '00'.repeat(16), 'and wrote a time');
  t.ok(cg!.env.extra?.call_target! > cg!.env.extra?.vdso!, 'symbol inside the vDSO');
  t.equal(missing!.outcome, 'unsupported');
  t.match(missing!.reason, /no function __vdso_no_such_thing/);
  if (facts.profile.vsyscall === 'none') {
    t.equal(vs!.outcome, 'signal', 'no vsyscall page: SIGSEGV');
  } else {
    t.equal(vs!.outcome, 'returned', `vsyscall=${facts.profile.vsyscall}: time() is emulated`);
    const now = BigInt(Math.floor(Date.now() / 1000));
    t.ok(vs!.after!.rax! > now - 60n && vs!.after!.rax! < now + 60n, 'returns the current time');
  }
});

t.test('code compat from the 64-bit probe: a far jump into __USER32_CS', { skip }, async (t) => {
  const facts = await detectHostFacts({ probeDir: PROBE_DIR });
  const [int80, placed] = await target.run([
    mkCase({ entry: 'int80', code: 'compat', nr: 20n, regs: { rbx: { lit: 0x5a000101n }, r12: { lit: 0x5a000c0cn } }, isolate: true }),
    mkCase({ entry: 'int80', code: 'compat', nr: 20n, placeNextIp: 0x1000_0002n, isolate: true }),
  ]);
  t.equal(int80!.before.cs, BigInt(SELECTORS.USER32_CS), 'the entry ran with CS = __USER32_CS');
  t.ok(int80!.before.rsp! < 1n << 32n, 'on a stack below 4 GiB');
  if (!facts.profile.ia32) {
    t.equal(int80!.outcome, 'signal', 'ia32 off: no int $0x80 gate');
    return;
  }
  t.equal(int80!.outcome, 'returned', int80!.reason ?? '');
  t.equal(int80!.after?.rax, int80!.env.pid, 'eax 20 = getpid');
  t.equal(int80!.after?.cs, BigInt(SELECTORS.USER32_CS), 'returned to compatibility mode');
  t.equal(int80!.after?.rbx, 0x5a000101n, 'ebx preserved');
  t.equal(int80!.after?.r12, 0x5a000c0cn, 'r12 survives the trip through compatibility mode');
  t.equal(placed!.outcome, 'returned', placed!.reason ?? '');
  t.equal(placed!.env.entry_ip, 0x1000_0000n, 'a placed 32-bit stub works too');
});

t.test('an entry the probe cannot do is unsupported with a reason', { skip }, async (t) => {
  const [compatFn, vdso] = await target.run([mkCase({ entry: 'vdso_fn', symbol: '__vdso_time', code: 'compat' }), mkCase({ entry: 'vdso', nr: 20n })]);
  t.equal(compatFn!.outcome, 'unsupported');
  t.match(compatFn!.reason, /compat from a 64-bit probe supports the syscall, int80 and sysenter entries only/);
  t.equal(vdso!.outcome, 'unsupported');
  t.match(vdso!.reason, /AT_SYSINFO/);
  t.equal(RFLAGS.TF, 0x100n);
});

t.test('seccomp set-up (probes/seccomp.c) runs in a forked child, installed last', { skip }, async (t) => {
  // ld nr; jeq getpid → ret ERRNO|EPERM; ret ALLOW (classic BPF, seccomp_data.nr at offset 0)
  const ld = { code: 0x20, jt: 0, jf: 0, k: 0 };
  const jeq = { code: 0x15, jt: 0, jf: 1, k: 39 };
  const errno = { code: 0x06, jt: 0, jf: 0, k: 0x0005_0000 | 1 };
  const allow = { code: 0x06, jt: 0, jf: 0, k: 0x7fff_0000 };
  const write3 = { rdi: { ref: 'fd' as const, name: 'null' }, rsi: { ref: 'buf' as const, name: 'b' }, rdx: { lit: 3n } };
  const [filtered, strictOk, strictKill, after] = await target.run([
    mkCase({ call: 'getpid', seccomp: { mode: 'filter', filters: [[ld, jeq, errno, allow]] } }),
    mkCase({ call: 'write', regs: write3, memory: [region({ name: 'b' })], seccomp: { mode: 'strict', filters: [] } }),
    mkCase({ call: 'getpid', seccomp: { mode: 'strict', filters: [] } }),
    mkCase({ call: 'getpid' }),
  ]);
  t.notMatch(filtered!.reason ?? '', /unknown key/, 'the probe understands the seccomp lines');
  t.equal(filtered!.after?.rax, errnoReturn('EPERM', 64), 'the filter answered -EPERM for getpid');
  t.equal(strictOk!.outcome, 'returned', `strict mode allows write, and the child's report needs no other call (${strictOk!.reason ?? ''})`);
  t.equal(strictOk!.after?.rax, 3n);
  t.equal(strictKill!.outcome, 'killed', 'strict mode: getpid is SIGKILL (SC-07)');
  t.equal(strictKill!.exit?.signal, SIGNALS.SIGKILL);
  t.equal(after!.after?.rax, after!.env.pid, 'the probe itself is not filtered');
});

// A case whose call exits or kills the process writes no observation of its own: the install
// results still reach it (through the shared report header), so an exit under a refused
// install cannot pass as an exit under an installed one (SC-06/SC-07).
t.test('seccomp install results survive a call that exits or kills', { skip }, async (t) => {
  const allow = { code: 0x06, jt: 0, jf: 0, k: 0x7fff_0000 };
  const [exited, killed, refusedThenExit] = await target.run([
    mkCase({ call: 'exit', regs: { rdi: { lit: 7n } }, seccomp: { mode: 'strict', filters: [] } }),
    mkCase({ call: 'getpid', seccomp: { mode: 'strict', filters: [] } }),
    // A filter and then strict mode: the second install is refused with EINVAL (SC-06).
    mkCase({ call: 'exit', regs: { rdi: { lit: 3n } }, seccomp: { mode: 'filter', filters: [[allow]], thenStrict: true } }),
  ]);
  t.equal(exited!.outcome, 'exited');
  t.equal(exited!.exit?.code, 7);
  t.same(exited!.seccomp_install, [{ ret: 0, errno: 0 }], 'strict mode was installed before the exit');
  t.equal(killed!.outcome, 'killed');
  t.same(killed!.seccomp_install, [{ ret: 0, errno: 0 }]);
  t.equal(refusedThenExit!.exit?.code, 3);
  t.same(refusedThenExit!.seccomp_install, [{ ret: 0, errno: 0 }, { ret: -1, errno: 22 }], 'the refused strict install is reported');
});
