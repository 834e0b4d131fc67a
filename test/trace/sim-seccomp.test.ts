// The simulator's seccomp hook (sim/kernel/trace.ts) against kernel/seccomp.c and
// arch/x86/include/asm/syscall.h: what the filter sees per entry, and what each action does
// to the registers and the process. Expected values come from the kernel source, not the sim.
import t from 'tap';
import { runCase } from '../../sim/kernel/run.js';
import { getProfile } from '../../sim/profiles.js';
import { AUDIT_ARCH, ERRNO, SIGNALS, SI_CODES } from '../../abi/constants.js';
import { assemble } from '../../harness/seccomp/asm.js';
import type { BpfInsn } from '../../harness/contracts.js';
import { mkCase, lit } from '../sim/kernel/helpers.js';

const P = getProfile('linux-7.0-intel');
const neg = (e: number) => BigInt.asUintN(64, -BigInt(e));
const filt = (...progs: string[][]): { mode: 'filter'; filters: BpfInsn[][] } => ({ mode: 'filter', filters: progs.map((p) => assemble(p)) });
/** Returns ERRNO|(low 16 bits of the word at `off`) for every call: the filter's view, made visible. */
const echo = (off: number) => [`ld [${off}]`, 'and #0xffff', 'or #0x50000', 'ret a'];

t.test('nr and arch per entry (SC-02): 64-bit SYSCALL vs int $0x80 from 64-bit code', async (t) => {
  // getppid is 110 on x86_64, 64 on i386.
  const sys = runCase(mkCase({ nr: 110n, regs: { rax: lit(110) }, seccomp: filt(echo(0)), isolate: true }), P);
  t.equal(sys.after?.rax, neg(110), 'filter saw nr 110');
  const int80 = runCase(mkCase({ entry: 'int80', nr: 64n, regs: { rax: lit(64) }, seccomp: filt(echo(0)), isolate: true }), P);
  t.equal(int80.after?.rax, neg(64), 'int $0x80 is decoded with the i386 number');
  const arch64 = runCase(mkCase({ nr: 110n, regs: { rax: lit(110) }, seccomp: filt(echo(4)), isolate: true }), P);
  t.equal(arch64.after?.rax, neg(AUDIT_ARCH.X86_64 & 0xffff));
  const arch32 = runCase(mkCase({ entry: 'int80', nr: 64n, regs: { rax: lit(64) }, seccomp: filt(echo(4)), isolate: true }), P);
  t.equal(arch32.after?.rax, neg(AUDIT_ARCH.I386 & 0xffff), 'TS_COMPAT → AUDIT_ARCH_I386 even in a 64-bit process');
});

t.test('nr is (int)orig_ax: the high half of RAX is not seen (syscall_get_nr returns int)', async (t) => {
  const o = runCase(mkCase({ nr: 110n, regs: { rax: lit((0x1234n << 32n) | 110n) }, seccomp: filt(echo(0)), isolate: true }), P);
  t.equal(o.after?.rax, neg(110));
});

t.test('args come from di si dx r10 r8 r9, or bx cx dx si di bp for compat entries', async (t) => {
  const o64 = runCase(mkCase({ nr: 110n, regs: { rax: lit(110), r10: lit(0x77) }, seccomp: filt(echo(16 + 3 * 8)), isolate: true }), P);
  t.equal(o64.after?.rax, neg(0x77));
  const o32 = runCase(mkCase({ entry: 'int80', nr: 64n, regs: { rax: lit(64), rsi: lit(0x66) }, seccomp: filt(echo(16 + 3 * 8)), isolate: true }), P);
  t.equal(o32.after?.rax, neg(0x66), 'args[3] of an ia32 call is esi');
});

t.test('ERRNO data above MAX_ERRNO is capped (seccomp_run_filters → __seccomp_filter)', async (t) => {
  const o = runCase(mkCase({ nr: 110n, regs: { rax: lit(110) }, seccomp: filt(['ret #0x50000|0x1234']), isolate: true }), P);
  t.equal(o.after?.rax, neg(4095));
});

t.test('TRAP: registers rolled back (ax = orig_ax), SIGSYS with SYS_SECCOMP, si_call_addr = regs->ip', async (t) => {
  const c = mkCase({ nr: 110n, regs: { rax: lit(110) }, seccomp: filt(['ret #TRAP|9']), isolate: true });
  const o = runCase(c, P);
  t.equal(o.outcome, 'signal');
  t.equal(o.signal?.signo, SIGNALS.SIGSYS);
  t.equal(o.signal?.code, SI_CODES.SYS_SECCOMP);
  t.equal(o.signal?.errno, 9);
  t.equal(o.signal?.syscall, 110);
  t.equal(o.signal?.arch, AUDIT_ARCH.X86_64);
  t.equal(o.signal?.addr, o.env.next_ip, 'the address after the SYSCALL instruction');
  t.equal(o.signal?.regs.rax, 110n, 'syscall_rollback: the handler sees the number in rax');
});

t.test('KILL_PROCESS and unknown actions kill with SIGSYS; strict mode kills with SIGKILL', async (t) => {
  const k = runCase(mkCase({ nr: 110n, regs: { rax: lit(110) }, seccomp: filt(['ret #KILL_PROCESS']), isolate: true }), P);
  t.same([k.outcome, k.exit?.signal], ['killed', SIGNALS.SIGSYS]);
  const u = runCase(mkCase({ nr: 110n, regs: { rax: lit(110) }, seccomp: filt(['ret #0x10000000']), isolate: true }), P);
  t.same([u.outcome, u.exit?.signal], ['killed', SIGNALS.SIGSYS], 'unknown action = KILL_PROCESS (v4.14)');
  const s = runCase(mkCase({ nr: 110n, regs: { rax: lit(110) }, seccomp: { mode: 'strict', filters: [] }, isolate: true }), P);
  t.same([s.outcome, s.exit?.signal], ['killed', SIGNALS.SIGKILL]);
});

t.test('TRACE without a tracer: -ENOSYS and the call is skipped', async (t) => {
  const o = runCase(mkCase({ nr: 110n, regs: { rax: lit(110) }, seccomp: filt(['ret #TRACE|1']), isolate: true }), P);
  t.equal(o.after?.rax, neg(ERRNO.ENOSYS));
});

t.test('an invalid program is refused at install (EINVAL recorded) and the call runs unfiltered', async (t) => {
  // ld [64] reads past struct seccomp_data (64 bytes): seccomp_check_filter → -EINVAL. The
  // refusal is the install's result (Observation.seccomp_install, SC-06); the check turns an
  // unexpected refusal into an error, the target only reports it.
  const o = runCase(mkCase({ nr: 110n, regs: { rax: lit(110) }, seccomp: filt(['ld [64]', 'ret #ALLOW']), isolate: true }), P);
  t.equal(o.outcome, 'returned');
  t.same(o.seccomp_install, [{ ret: -1, errno: ERRNO.EINVAL }]);
  t.equal(o.after?.rax, o.env.ppid, 'no filter installed: getppid ran');
});
