// The simulator's vsyscall emulation asks seccomp first, as arch/x86/entry/vsyscall/vsyscall_64.c
// emulate_vsyscall does: nr 96/201/309, arch X86_64, instruction_pointer = the vsyscall address;
// a skip returns to the caller with seccomp's rax; a changed nr or ip kills with SIGSYS.
// Expected values come from the kernel source (and agree with this host's kernel: specs/vsyscall/seccomp.yaml).
import t from 'tap';
import { runCase } from '../../sim/kernel/run.js';
import { getProfile } from '../../sim/profiles.js';
import { AUDIT_ARCH, SIGNALS, SI_CODES } from '../../abi/constants.js';
import { assemble } from '../../harness/seccomp/asm.js';
import type { BpfInsn } from '../../harness/contracts.js';
import { mkCase, lit } from '../sim/kernel/helpers.js';

const P = getProfile('linux-7.0-intel');
const neg = (e: number) => BigInt.asUintN(64, -BigInt(e));
const filt = (...progs: string[][]): { mode: 'filter'; filters: BpfInsn[][] } => ({ mode: 'filter', filters: progs.map((p) => assemble(p)) });
/** ERRNO|(low 16 bits of the word at `off`): the filter's view of seccomp_data, made visible. */
const echo = (off: number) => [`ld [${off}]`, 'and #0xffff', 'or #0x50000', 'ret a'];
const vsys = (slot: number, prog: string[]) =>
  runCase(mkCase({ entry: 'vsyscall', vsyscallAddr: 0xffffffffff600000n + BigInt(slot * 0x400), regs: { rdi: lit(0), rsi: lit(0), rdx: lit(0) }, seccomp: filt(prog), isolate: true }), P);

t.test('the filter sees the slot number, AUDIT_ARCH_X86_64 and the vsyscall address', async (t) => {
  t.equal(vsys(0, echo(0)).after?.rax, neg(96), 'gettimeofday is nr 96');
  t.equal(vsys(1, echo(0)).after?.rax, neg(201), 'time is nr 201');
  t.equal(vsys(2, echo(0)).after?.rax, neg(309), 'getcpu is nr 309');
  t.equal(vsys(1, echo(4)).after?.rax, neg(AUDIT_ARCH.X86_64 & 0xffff));
  t.equal(vsys(2, echo(8)).after?.rax, neg(0x0800), 'low half of ip: 0xff600800');
  // (0xffff itself would be capped to MAX_ERRNO, so the high half is compared in the filter.)
  t.equal(vsys(2, ['ld [12]', 'jeq #0xffffffff, 0, 1', 'ret #ERRNO|7', 'ret #ALLOW']).after?.rax, neg(7), 'high half of ip: 0xffffffff');
});

t.test('a skip returns to the caller (ret emulated: rip = return address, rsp + 8)', async (t) => {
  const o = vsys(1, ['ret #ERRNO|33']);
  t.equal(o.outcome, 'returned');
  t.equal(o.after?.rax, neg(33));
  t.equal(o.after?.rip, o.env.next_ip);
  t.equal(o.after?.rsp, o.before?.rsp);
});

t.test('TRAP: SIGSYS at the vsyscall address, delivered after the emulated ret, rax rolled back', async (t) => {
  const o = vsys(1, ['ret #TRAP|9']);
  t.equal(o.signal?.signo, SIGNALS.SIGSYS);
  t.equal(o.signal?.code, SI_CODES.SYS_SECCOMP);
  t.equal(o.signal?.addr, 0xffffffffff600400n);
  t.equal(o.signal?.syscall, 201);
  t.equal(o.signal?.regs.rax, 201n);
  t.equal(o.signal?.regs.rip, o.env.next_ip);
});

t.test('ALLOW runs the call; KILL kills with SIGSYS before it runs', async (t) => {
  const ok = vsys(1, ['ret #ALLOW']);
  t.ok((ok.after?.rax ?? 0n) > 0n, 'time() returned seconds');
  const k = vsys(1, ['ret #KILL_PROCESS']);
  t.same([k.outcome, k.exit?.signal], ['killed', SIGNALS.SIGSYS]);
});

t.test('a tracer that changes nr at the seccomp stop gets the task killed with SIGSYS', async (t) => {
  const c = mkCase({
    entry: 'vsyscall', vsyscallAddr: 0xffffffffff600400n, regs: { rdi: lit(0) }, isolate: true,
    seccomp: filt(['ret #TRACE|1']),
    ptrace: { options: ['traceseccomp'], mode: 'cont', at: [{ stop: 'seccomp', n: 1, set: { orig_rax: 110n } }] },
  } as never);
  const o = runCase(c, P);
  t.same([o.outcome, o.exit?.signal], ['killed', SIGNALS.SIGSYS]);
});
