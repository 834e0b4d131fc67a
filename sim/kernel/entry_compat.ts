// The 32-bit entries on a 64-bit kernel (arch/x86/entry/entry_64_compat.S,
// arch/x86/entry/syscall_32.c — common.c before v6.15): int $0x80 (from 32- or 64-bit code),
// SYSENTER and 32-bit SYSCALL (the vDSO's fast paths, which "return" to the vDSO's
// int80_landing_pad), and entry_SYSCALL32_ignore when ia32 emulation is off.

import { GPRS64 } from '../../harness/contracts.js';
import { ERRNO, RFLAGS, SELECTORS } from '../../abi/constants.js';
import { swapgs } from '../cpu/swapgs.js';
import { sysret } from '../cpu/sysret.js';
import { eretu, readFredFrame } from '../cpu/fred.js';
import { fromLe, leBytes } from '../cpu/state.js';
import { LINUX_KERNEL_STACK } from '../cpu/linux.js';
import type { InsnResult } from '../cpu/api.js';
import { doSyscall32, type PtRegs } from './dispatch.js';
import { iretToUser, ptRegsFromCpu, syncSegments } from './entry64.js';
import { since } from '../profiles.js';
import type { Kernel } from './kernel.js';
import { sysenterSingleStep } from './before.js';

const EFAULT = BigInt.asUintN(64, -BigInt(ERRNO.EFAULT));
const MASK32 = 0xffffffffn;

export type ExitResult = { res: InsnResult; regs: PtRegs | null; via: string };

/**
 * int $0x80 after the CPU delivered it through the DPL-3 gate: the hardware frame on the
 * kernel stack is pt_regs' tail. Since v6.7 do_int80_emulation (IDTENTRY) runs it; before,
 * entry_INT80_compat. Before v4.17 the entry pushed zeros for r8–r11, so they came back 0.
 * Exit is always IRET, which restores every register but rax.
 */
export function entryInt80(k: Kernel): ExitResult {
  const cpu = k.cpu;
  const raw = cpu.mem.read(cpu.gpr.rsp, 40, 0);
  if (!(raw instanceof Uint8Array)) throw new Error('int $0x80: the interrupt frame is unreadable');
  const q = (i: number) => fromLe(raw.subarray(i * 8, i * 8 + 8));
  swapgs(cpu);
  // orig_ax = eax zero-extended; the high half of rax is ignored (ABI-FACTS §3.7, SN-08).
  const regs = ptRegsFromCpu(k, { ip: q(0), cs: q(1), flags: q(2), sp: q(3), ss: q(4) }, cpu.gpr.rax & MASK32);
  k.note(`${since(k.profile, '6.7') ? 'do_int80_emulation' : 'entry_INT80_compat'}: orig_ax = eax = 0x${regs.orig_ax.toString(16)}, ax = -ENOSYS (TS_COMPAT set)`);
  if (!since(k.profile, '4.17')) {
    for (const r of ['r8', 'r9', 'r10', 'r11'] as const) regs[r] = 0n;
    k.note('before v4.17 entry_INT80_compat pushed 0 for r8–r11 (they return zeroed)');
  }
  k.flushCpuTrace();
  doSyscall32(k, regs);
  syncSegments(k);
  if (k.p.exited || k.stop) return { res: { ok: true }, regs, via: 'none' };
  if (cpu.traits.fred) {
    // Under FRED, int $0x80 is a software-interrupt event that fred_intx() hands to
    // int80_emulation(); every return to ring 3 is ERETU (arch/x86/entry/entry_fred.c), which
    // restores the whole frame and never nulls a data segment register as IRET can.
    k.note('FRED: int $0x80 returns through ERETU');
    return fredExit(k, regs);
  }
  k.note('int $0x80 always returns through IRET');
  const res = iretToUser(k, regs);
  k.flushCpuTrace();
  return { res, regs, via: 'iret' };
}

/** Where the fast paths return: vdso_image_32.sym_int80_landing_pad relative to the mm's vDSO. */
function landingPad(k: Kernel): bigint {
  const base = k.vdso32Base ?? k.vdso64Base ?? 0n;
  return base + VDSO32.landing;
}

/** Offsets in the modelled vdso32 image (arch/x86/entry/vdso/vdso32/system_call.S layout). */
export const VDSO32 = {
  /** __kernel_vsyscall: push ecx; push edx; push ebp. */
  kernelVsyscall: 0x570n,
  /** movl %esp,%ebp (SYSENTER) or movl %ecx,%ebp (SYSCALL), then the 2-byte instruction. */
  fastInsn: 0x575n,
  /** int $0x80 just before the landing pad (the restart point, landing - 2). */
  int80: 0x577n,
  landing: 0x579n,
  sigreturn: 0x590n,
  rtSigreturn: 0x5a0n,
} as const;

/**
 * do_fast_syscall_32 (after entry_SYSENTER_compat or entry_SYSCALL_compat built pt_regs):
 * ip ← landing pad, arg6 (ebp) ← the u32 at (u32)regs->sp — -EFAULT and IRET if that read
 * faults — then the syscall, then SYSRETL when ip is the landing pad, cs 0x23, ss 0x2b and
 * none of RF/TF/VM is set; else IRET.
 */
function fastSyscall32(k: Kernel, regs: PtRegs, kind: 'sysenter' | 'syscall'): ExitResult {
  const cpu = k.cpu;
  regs.ip = landingPad(k);
  const sp = regs.rsp & MASK32;
  const arg6 = k.p.mm.copyFromUser(sp, 4);
  k.flushCpuTrace();
  if (!arg6) {
    k.note(`do_fast_syscall_32: reading arg6 from (u32)sp = 0x${sp.toString(16)} faults → ax = -EFAULT, syscall not run, exit via IRET`);
    regs.rax = EFAULT;
  } else {
    regs.rbp = fromLe(arg6);
    k.note(`do_fast_syscall_32: ip ← landing pad 0x${regs.ip.toString(16)}; ebp (arg6) ← [0x${sp.toString(16)}] = 0x${regs.rbp.toString(16)}`);
    doSyscall32(k, regs);
    syncSegments(k);
    if (k.p.exited || k.stop) return { res: { ok: true }, regs, via: 'none' };
  }
  const canSysretl = arg6 !== null && regs.cs === BigInt(SELECTORS.USER32_CS) && regs.ss === BigInt(SELECTORS.USER_DS) &&
    regs.ip === landingPad(k) && (regs.flags & (RFLAGS.RF | RFLAGS.TF | RFLAGS.VM)) === 0n;
  if (cpu.traits.fred) return fredExit(k, regs);
  if (!canSysretl) {
    k.note('SYSRETL conditions do not hold → IRET');
    const res = iretToUser(k, regs);
    k.flushCpuTrace();
    return { res, regs, via: 'iret' };
  }
  // sysret32_from_system_call: reload ebx..edi, ebp, eax from pt_regs; r8–r10 zeroed; r11 =
  // flags; ecx = ip; r12–r15 are not reloaded, and PUSH_AND_CLEAR_REGS zeroed them at entry.
  for (const n of GPRS64) cpu.gpr[n] = regs[n];
  cpu.gpr.r8 = cpu.gpr.r9 = cpu.gpr.r10 = 0n;
  for (const n of ['r12', 'r13', 'r14', 'r15'] as const) cpu.gpr[n] = 0n;
  cpu.gpr.r11 = regs.flags;
  cpu.gpr.rcx = regs.ip;
  cpu.gpr.rsp = regs.rsp;
  swapgs(cpu);
  k.note(`${kind === 'sysenter' ? 'SYSENTER' : 'SYSCALL32'} exit: SYSRETL conditions hold → sysretl to the landing pad`);
  const res = sysret(cpu, false);
  k.flushCpuTrace();
  return { res, regs, via: 'sysretl' };
}

function fredExit(k: Kernel, regs: PtRegs): ExitResult {
  const cpu = k.cpu;
  const at = LINUX_KERNEL_STACK - 64n;
  const bytes = new Uint8Array(48);
  [0n, regs.ip, regs.cs, regs.flags, regs.rsp, regs.ss].forEach((w, i) => bytes.set(leBytes(w, 8), i * 8));
  cpu.mem.write(at, bytes, 0);
  for (const n of GPRS64) if (n !== 'rsp') cpu.gpr[n] = regs[n];
  cpu.gpr.rsp = at;
  swapgs(cpu);
  const res = eretu(cpu);
  k.flushCpuTrace();
  return { res, regs, via: 'eretu' };
}

/**
 * entry_SYSENTER_compat: pt_regs->sp from ebp (the vDSO put esp there), IF forced on in the
 * saved flags, cs/ss the 32-bit user ones, r8–r15 zero in pt_regs. NT/AC/TF are cleared in
 * the live flags (a #DB at CPL 0 on TF is absorbed); the saved flags keep them.
 */
export function entrySysenter(k: Kernel): ExitResult {
  const cpu = k.cpu;
  let regs: PtRegs;
  if (cpu.traits.fred) {
    const f = readFredFrame(cpu);
    if ('fault' in f) throw new Error('FRED frame unreadable');
    if (f.lm) {
      // fred_other: SYSENTER from 64-bit mode is not a syscall → exc_invalid_op → SIGILL.
      return { res: { ok: false, fault: { vector: 'UD', errorCode: 0, cpl: 3, why: 'FRED: SYSENTER from 64-bit mode is #UD (fred_other)' } }, regs: null, via: 'fault' };
    }
    swapgs(cpu);
    regs = ptRegsFromCpu(k, { ip: f.rip, cs: BigInt(f.cs), flags: f.rflags, sp: f.rsp, ss: BigInt(f.ss) }, cpu.gpr.rax & MASK32);
  } else {
    const userFlags = cpu.rflags;
    // TF survives SYSENTER: a #DB on the first kernel instruction, before this SWAPGS (SS-04).
    if (userFlags & RFLAGS.TF) sysenterSingleStep(k);
    swapgs(cpu);
    regs = ptRegsFromCpu(k, {
      ip: 0n, cs: BigInt(SELECTORS.USER32_CS), flags: userFlags | RFLAGS.IF, sp: cpu.gpr.rbp & MASK32, ss: BigInt(SELECTORS.USER_DS),
    }, cpu.gpr.rax & MASK32);
    for (const n of ['r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15'] as const) regs[n] = 0n;
    cpu.gpr.rsp = LINUX_KERNEL_STACK;
    if (userFlags & (RFLAGS.NT | RFLAGS.AC | RFLAGS.TF)) {
      // .Lsysenter_fix_flags (entry_64_compat.S): pushq $X86_EFLAGS_FIXED; popfq — the live
      // flags become just bit 1, so a later IRET runs without NT (which would #GP in 64-bit mode).
      cpu.rflags = RFLAGS.FIXED1;
      k.note('entry_SYSENTER_compat: NT/AC/TF set → live flags ← X86_EFLAGS_FIXED with POPF (saved flags keep them)');
    }
  }
  k.note(`entry_SYSENTER_compat: sp ← ebp = 0x${regs.rsp.toString(16)}, flags | IF, orig_ax = eax = 0x${regs.orig_ax.toString(16)}`);
  return fastSyscall32(k, regs, 'sysenter');
}

/** entry_SYSCALL_compat (AMD): sp from esp, ip from ecx, pt_regs->cx from ebp (the vDSO
 *  stashed arg2 there because SYSCALL overwrites ecx), r8–r15 zero. */
export function entrySyscallCompat(k: Kernel): ExitResult {
  const cpu = k.cpu;
  if (cpu.traits.fred) {
    return { res: { ok: false, fault: { vector: 'UD', errorCode: 0, cpl: 3, why: 'FRED: SYSCALL from compatibility mode is #UD (fred_other)' } }, regs: null, via: 'fault' };
  }
  if (!k.profile.ia32) {
    // entry_SYSCALL32_ignore: eax ← -ENOSYS (a 32-bit move zero-extends), SYSRETL.
    k.note('entry_SYSCALL32_ignore (ia32 emulation off): eax = -ENOSYS, sysretl');
    cpu.gpr.rax = BigInt.asUintN(32, -BigInt(ERRNO.ENOSYS));
    const res = sysret(cpu, false);
    k.flushCpuTrace();
    return { res, regs: null, via: 'sysretl' };
  }
  swapgs(cpu);
  const regs = ptRegsFromCpu(k, {
    ip: cpu.gpr.rcx, cs: BigInt(SELECTORS.USER32_CS), flags: cpu.gpr.r11, sp: cpu.gpr.rsp & MASK32, ss: BigInt(SELECTORS.USER_DS),
  }, cpu.gpr.rax & MASK32);
  regs.rcx = cpu.gpr.rbp;
  for (const n of ['r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15'] as const) regs[n] = 0n;
  cpu.gpr.rsp = LINUX_KERNEL_STACK;
  k.note(`entry_SYSCALL_compat: sp = esp = 0x${regs.rsp.toString(16)}, pt_regs->cx = ebp = 0x${regs.rcx.toString(16)}, orig_ax = eax`);
  return fastSyscall32(k, regs, 'syscall');
}
