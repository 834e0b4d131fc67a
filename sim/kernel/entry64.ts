// The 64-bit SYSCALL path: entry_SYSCALL_64 (arch/x86/entry/entry_64.S) builds pt_regs from
// the registers SYSCALL left (RCX = return RIP, R11 = RFLAGS), do_syscall_64
// (arch/x86/entry/syscall_64.c; common.c before v6.15) dispatches and decides the exit:
// SYSRET only when every condition of ABI-FACTS §3.5 holds, IRET otherwise. Both exits are
// executed on the CPU layer, so their architectural consequences are the CPU's, not ours.

import { GPRS64 } from '../../harness/contracts.js';
import { ERRNO, RFLAGS, SELECTORS } from '../../abi/constants.js';
import { swapgs } from '../cpu/swapgs.js';
import { sysret } from '../cpu/sysret.js';
import { iret } from '../cpu/iret.js';
import { eretu, readFredFrame } from '../cpu/fred.js';
import { leBytes } from '../cpu/state.js';
import { LINUX_KERNEL_STACK } from '../cpu/linux.js';
import type { InsnResult } from '../cpu/api.js';
import { doSyscall64, type PtRegs } from './dispatch.js';
import { TASK_SIZE_MAX } from './mm.js';
import type { Kernel } from './kernel.js';

const ENOSYS = BigInt.asUintN(64, -BigInt(ERRNO.ENOSYS));

/** Registers of the CPU as pt_regs, with the hardware-frame part given. */
export function ptRegsFromCpu(k: Kernel, frame: { ip: bigint; cs: bigint; flags: bigint; sp: bigint; ss: bigint }, origAx: bigint): PtRegs {
  const g = k.cpu.gpr;
  // One object literal (GPRS64 order, then the frame part, as the old keyed loop built it):
  // built on every syscall, and a literal gets a single hidden class with no keyed stores.
  return {
    rax: ENOSYS, rbx: g.rbx, rcx: g.rcx, rdx: g.rdx, rsi: g.rsi, rdi: g.rdi, rbp: g.rbp, rsp: frame.sp,
    r8: g.r8, r9: g.r9, r10: g.r10, r11: g.r11, r12: g.r12, r13: g.r13, r14: g.r14, r15: g.r15,
    orig_ax: origAx, ip: frame.ip, cs: frame.cs, flags: frame.flags, ss: frame.ss,
  };
}

/** Reload the thread's segment state if a syscall changed it (arch_prctl, set_thread_area). */
export function syncSegments(k: Kernel): void {
  const p = k.p;
  if (!p.segChanged) return;
  p.segChanged = false;
  k.syncTls();
  // While in the kernel (after SWAPGS) the user's GS base sits in KERNEL_GS_BASE.
  const cpu = k.cpu;
  if (!p.is32) {
    cpu.seg.fs.selector = p.fsSel;
    cpu.seg.fs.base = p.fsBase;
    cpu.seg.gs.selector = p.gsSel;
    cpu.msr.KERNEL_GS_BASE = p.gsBase;
  }
}

/** The IRET exit: pt_regs' hardware frame on the kernel stack, GPRs reloaded, SWAPGS, IRETQ. */
export function iretToUser(k: Kernel, regs: PtRegs, swap = true): InsnResult {
  const cpu = k.cpu;
  const frame = LINUX_KERNEL_STACK - 5n * 8n;
  const words = [regs.ip, regs.cs, regs.flags, regs.rsp, regs.ss];
  const bytes = new Uint8Array(40);
  words.forEach((w, i) => bytes.set(leBytes(w, 8), i * 8));
  cpu.mem.write(frame, bytes, 0);
  for (const n of GPRS64) if (n !== 'rsp') cpu.gpr[n] = regs[n];
  cpu.gpr.rsp = frame;
  if (swap) swapgs(cpu);
  return iret(cpu, 64);
}

/** SYSRET conditions of do_syscall_64's tail (ABI-FACTS §3.5). Returns the failed one, or null. */
export function sysretBlocker(regs: PtRegs): string | null {
  if (regs.rcx !== regs.ip || regs.r11 !== regs.flags) return 'regs->cx != regs->ip or regs->r11 != regs->flags';
  if (regs.cs !== BigInt(SELECTORS.USER_CS) || regs.ss !== BigInt(SELECTORS.USER_DS)) return 'cs/ss are not __USER_CS/__USER_DS';
  if (regs.ip >= TASK_SIZE_MAX) return `regs->ip 0x${regs.ip.toString(16)} >= TASK_SIZE_MAX (non-canonical or the top guard page)`;
  if (regs.flags & (RFLAGS.RF | RFLAGS.TF)) return 'RF or TF set in regs->flags (SYSRET cannot restore RF, and TF would trap right after it)';
  return null;
}

/**
 * Run the kernel side after the CPU executed SYSCALL from 64-bit mode. Returns the CPU result of
 * the exit instruction; a fault at CPL 0 on IRET is reported to the caller as such.
 */
export function entrySyscall64(k: Kernel): { res: InsnResult; regs: PtRegs; via: string } {
  const cpu = k.cpu;
  if (cpu.traits.fred) return entryFred64(k);
  // entry_SYSCALL_64: SWAPGS, save the user RSP, switch to the task stack, push the frame
  // from RCX/R11: ss=__USER_DS, sp, flags=R11, cs=__USER_CS, ip=RCX, orig_ax=RAX, ax=-ENOSYS.
  swapgs(cpu);
  const regs = ptRegsFromCpu(k, {
    ip: cpu.gpr.rcx, cs: BigInt(SELECTORS.USER_CS), flags: cpu.gpr.r11, sp: cpu.gpr.rsp, ss: BigInt(SELECTORS.USER_DS),
  }, cpu.gpr.rax);
  cpu.gpr.rsp = LINUX_KERNEL_STACK;
  // Guarded: the text is built only when explaining (three bigint→hex conversions per case).
  if (k.steps) k.note(`entry_SYSCALL_64: pt_regs ip = rcx = 0x${regs.ip.toString(16)}, flags = r11 = 0x${regs.flags.toString(16)}, orig_ax = rax = 0x${regs.orig_ax.toString(16)}, ax = -ENOSYS`);
  k.flushCpuTrace();
  doSyscall64(k, regs);
  syncSegments(k);
  if (k.p.exited || k.stop) return { res: { ok: true }, regs, via: 'none' };
  const blocker = sysretBlocker(regs);
  if (blocker === null) {
    k.note('SYSRET conditions hold (rcx == ip, r11 == flags, cs/ss == __USER_CS/__USER_DS, ip < TASK_SIZE_MAX, no RF/TF) → sysretq');
    for (const n of GPRS64) cpu.gpr[n] = regs[n];
    swapgs(cpu);
    const res = sysret(cpu, true);
    k.flushCpuTrace();
    return { res, regs, via: 'sysret' };
  }
  k.note(`SYSRET not possible: ${blocker} → IRET`);
  const res = iretToUser(k, regs);
  k.flushCpuTrace();
  return { res, regs, via: 'iret' };
}

/** FRED: the SYSCALL event's frame is pt_regs' tail; do_syscall_64; ERETU restores everything. */
function entryFred64(k: Kernel): { res: InsnResult; regs: PtRegs; via: string } {
  const cpu = k.cpu;
  const f = readFredFrame(cpu);
  if ('fault' in f) throw new Error('FRED frame unreadable');
  const frameAt = cpu.gpr.rsp;
  swapgs(cpu);
  const regs = ptRegsFromCpu(k, { ip: f.rip, cs: BigInt(f.cs), flags: f.rflags, sp: f.rsp, ss: BigInt(f.ss) }, cpu.gpr.rax);
  k.note('fred_entry_from_user: SYSCALL event (vector 1) → do_syscall_64; RCX/R11 were not written');
  k.flushCpuTrace();
  doSyscall64(k, regs);
  syncSegments(k);
  if (k.p.exited || k.stop) return { res: { ok: true }, regs, via: 'none' };
  const bytes = new Uint8Array(40);
  [0n, regs.ip, regs.cs, regs.flags, regs.rsp].forEach((w, i) => bytes.set(leBytes(w, 8), i * 8));
  cpu.mem.write(frameAt, bytes, 0);
  for (const n of GPRS64) if (n !== 'rsp') cpu.gpr[n] = regs[n];
  cpu.gpr.rsp = frameAt;
  swapgs(cpu);
  k.note('FRED exit → ERETU');
  const res = eretu(cpu);
  k.flushCpuTrace();
  return { res, regs, via: 'eretu' };
}
