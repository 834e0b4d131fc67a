// Signal frames in user memory and the system calls that consume them: rt_sigreturn for
// x86_64 (arch/x86/kernel/signal_64.c), and for ia32 tasks rt_sigreturn (173) and sigreturn
// (119) (arch/x86/kernel/signal_32.c; arch/x86/ia32/ia32_signal.c before v6.1). The frames
// are written where the kernel's setup code puts them, with the layouts of
// arch/x86/include/asm/sigframe.h and uapi/asm/sigcontext.h, and the handlers read them back
// from memory: a case's `sigreturn` overwrites reach pt_regs only through the frame.

import { RFLAGS, SELECTORS, SIGNALS, SI_CODES } from '../../abi/constants.js';
import type { DataSeg } from '../../harness/contracts.js';
import type { Cpu } from '../cpu/state.js';
import { since } from '../profiles.js';
import { le, rdLe, type SyscallImpl, type SysCtx } from './syscalls/types.js';
import type { PtRegs } from './dispatch.js';

/** struct sigcontext (uapi/asm/sigcontext.h, 64-bit): byte offsets of its fields. */
export const SC64 = {
  r8: 0, r9: 8, r10: 16, r11: 24, r12: 32, r13: 40, r14: 48, r15: 56,
  rdi: 64, rsi: 72, rbp: 80, rbx: 88, rdx: 96, rax: 104, rcx: 112, rsp: 120,
  rip: 128, eflags: 136, cs: 144, gs: 146, fs: 148, ss: 150,
  err: 152, trapno: 160, oldmask: 168, cr2: 176, fpstate: 184, size: 256,
} as const;

/** struct rt_sigframe (asm/sigframe.h, 64-bit): pretcode, then struct ucontext, then siginfo. */
export const RT64 = { pretcode: 0, ucFlags: 8, ucLink: 16, ucStack: 24, mcontext: 48, sigmask: 304, info: 312, size: 440 } as const;

/** struct rt_sigframe_x32 (asm/sigframe.h): u64 pretcode, then struct ucontext_x32 — 32-bit
 *  uc_flags and uc_link, a 12-byte compat_stack_t, uc__pad0 so that the 64-bit struct sigcontext
 *  (x32 tasks save full 64-bit registers) is 8-aligned, a 64-bit compat_sigset_t — then the
 *  128-byte compat_siginfo_t. */
export const RTX32 = { pretcode: 0, ucFlags: 8, ucLink: 12, ucStack: 16, mcontext: 32, sigmask: 288, info: 296, size: 424 } as const;

/** struct sigcontext_32 (uapi/asm/sigcontext.h): 16-bit selectors padded to 32, then 32-bit registers. */
export const SC32 = {
  gs: 0, fs: 4, es: 8, ds: 12, rdi: 16, rsi: 20, rbp: 24, rsp: 28, rbx: 32, rdx: 36, rcx: 40, rax: 44,
  trapno: 48, err: 52, rip: 56, cs: 60, eflags: 64, sp_at_signal: 68, ss: 72, fpstate: 76, oldmask: 80, cr2: 84,
  size: 88,
} as const;

/** struct rt_sigframe_ia32: pretcode, sig, pinfo, puc, compat_siginfo (128), ucontext_ia32
 *  (uc_flags, uc_link, compat stack_t of 12 bytes, sigcontext_32, compat_sigset_t), retcode. */
export const RT32 = { pretcode: 0, sig: 4, pinfo: 8, puc: 12, info: 16, ucFlags: 144, mcontext: 164, sigmask: 252, retcode: 260, size: 268 } as const;

/** struct sigframe_ia32 (the non-RT frame of sigreturn, 119): pretcode, sig, sigcontext_32, an
 *  unused struct _fpstate_32 (624 bytes), extramask[1] (the high word of the mask), retcode. */
export const FRAME32 = { pretcode: 0, sig: 4, sc: 8, extramask: 720, retcode: 724, size: 732 } as const;

/** uc_flags bits (uapi/asm/ucontext.h). */
export const UC = { FP_XSTATE: 0x1n, SIGCONTEXT_SS: 0x2n, STRICT_RESTORE_SS: 0x4n } as const;

/**
 * FIX_EFLAGS (arch/x86/include/asm/sighandling.h, v7.0): the only flags a signal frame may
 * change: AC OF DF TF SF ZF AF PF CF RF. IF, IOPL, NT, VM, VIF/VIP and ID keep the values
 * pt_regs had when rt_sigreturn was entered.
 */
export const FIX_EFLAGS = RFLAGS.AC | RFLAGS.OF | RFLAGS.DF | RFLAGS.TF | RFLAGS.SF | RFLAGS.ZF |
  RFLAGS.AF | RFLAGS.PF | RFLAGS.CF | RFLAGS.RF;

/** Signals no mask can hold (kernel/signal.c sigdelsetmask(&set, sigmask(SIGKILL)|sigmask(SIGSTOP))). */
const UNBLOCKABLE = (1n << BigInt(SIGNALS.SIGKILL - 1)) | (1n << BigInt(SIGNALS.SIGSTOP - 1));

/** The registers a frame saves, as the interrupted code had them (pt_regs at delivery). */
export interface SavedUser {
  gpr: Record<'rax' | 'rbx' | 'rcx' | 'rdx' | 'rsi' | 'rdi' | 'rbp' | 'rsp' | 'r8' | 'r9' | 'r10' | 'r11' | 'r12' | 'r13' | 'r14' | 'r15', bigint>;
  rip: bigint;
  rflags: bigint;
  cs: number;
  ss: number;
  ds: number;
  es: number;
  fs: number;
  gs: number;
  trapno: number;
  err: bigint;
  /** The mask the frame saves (the one rt_sigreturn puts back). */
  mask: bigint;
}

/** A struct sigcontext (64-bit) image of the interrupted state (setup_sigcontext, signal_64.c:
 *  fs and gs are stored as 0, ss is saved since v4.6 with UC_SIGCONTEXT_SS). */
export function sigcontext64(u: SavedUser): Uint8Array {
  const b = new Uint8Array(SC64.size);
  for (const r of ['r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15', 'rdi', 'rsi', 'rbp', 'rbx', 'rdx', 'rax', 'rcx', 'rsp'] as const) {
    b.set(le(u.gpr[r], 8), SC64[r]);
  }
  b.set(le(u.rip, 8), SC64.rip);
  b.set(le(u.rflags, 8), SC64.eflags);
  b.set(le(BigInt(u.cs), 2), SC64.cs);
  b.set(le(BigInt(u.ss), 2), SC64.ss);
  b.set(le(u.err, 8), SC64.err);
  b.set(le(BigInt(u.trapno), 8), SC64.trapno);
  b.set(le(u.mask, 8), SC64.oldmask);
  return b;
}

/** A struct sigcontext_32 image (ia32_setup_sigcontext: savesegment of gs/fs/ds/es, the low
 *  halves of the registers, sp_at_signal = sp). */
export function sigcontext32(u: SavedUser): Uint8Array {
  const b = new Uint8Array(SC32.size);
  const M = 0xffffffffn;
  for (const s of ['gs', 'fs', 'es', 'ds'] as const) b.set(le(BigInt(u[s]), 2), SC32[s]);
  for (const r of ['rdi', 'rsi', 'rbp', 'rsp', 'rbx', 'rdx', 'rcx', 'rax'] as const) b.set(le(u.gpr[r] & M, 4), SC32[r]);
  b.set(le(BigInt(u.trapno), 4), SC32.trapno);
  b.set(le(u.err, 4), SC32.err);
  b.set(le(u.rip & M, 4), SC32.rip);
  b.set(le(BigInt(u.cs), 2), SC32.cs);
  b.set(le(u.rflags & M, 4), SC32.eflags);
  b.set(le(u.gpr.rsp & M, 4), SC32.sp_at_signal);
  b.set(le(BigInt(u.ss), 2), SC32.ss);
  b.set(le(u.mask & M, 4), SC32.oldmask);
  return b;
}

/**
 * Where get_sigframe (arch/x86/kernel/signal.c) puts a frame of `size` bytes below `sp`:
 * 64-bit skips the 128-byte red zone, leaves room for the xstate area (modelled as 1 KiB, its
 * content is not), and aligns so that the handler starts with (rsp + 8) 16-byte aligned;
 * ia32 aligns to ((sp + 4) & -16) - 4, as the i386 ABI wants at function entry.
 */
export function frameAddress(sp: bigint, size: number, is32: boolean): bigint {
  if (is32) {
    const s = (sp - 1024n - BigInt(size)) & 0xffffffffn;
    return ((s + 4n) & ~15n) - 4n;
  }
  const s = sp - 128n - 1024n - BigInt(size);
  return (s & ~15n) - 8n;
}

/** The pt_regs a sigreturn handler works on, and the CPU (for segment loads): both are set by
 *  dispatch for every call (sim/kernel/dispatch.ts). */
function need(c: SysCtx): { regs: PtRegs; cpu: Cpu } {
  if (!c.regs || !c.cpu) throw new Error('sigreturn needs the caller\'s pt_regs and CPU (SysCtx.regs/cpu): dispatch did not pass them');
  return { regs: c.regs, cpu: c.cpu };
}

/**
 * A bad frame: signal_fault() then force_sig(SIGSEGV) (signal_64.c / signal_32.c `badframe`);
 * the syscall returns 0 and the task dies of SIGSEGV on the way out, its registers unchanged.
 */
function badframe(c: SysCtx, what: string): bigint {
  c.note(`${what}: the frame cannot be read → signal_fault, force_sig(SIGSEGV)`);
  c.forced = { signo: SIGNALS.SIGSEGV, code: SI_CODES.SI_KERNEL, addr: 0n };
  return 0n;
}

/**
 * force_valid_ss (signal_64.c): a frame without UC_STRICT_RESTORE_SS that returns to 64-bit
 * code keeps its SS only if LAR says it is a present, DPL-3, writable data segment (expand-up or
 * down); otherwise SS becomes __USER_DS (for old DOSEMU and CRIU frames).
 */
function forceValidSs(cpu: Cpu, regs: PtRegs, note: (t: string) => void): void {
  const sel = Number(regs.ss & 0xffffn);
  const l = cpu.lookup(sel);
  const ok = (sel & 0xfffc) !== 0 && l.ok && l.desc.kind === 'data' && l.desc.present && l.desc.dpl === 3 && (l.desc.type & 0x2) !== 0;
  if (!ok) {
    note(`force_valid_ss: SS 0x${sel.toString(16)} is not a usable DPL-3 data segment → __USER_DS`);
    regs.ss = BigInt(SELECTORS.USER_DS);
  }
}

/**
 * sys_rt_sigreturn (signal_64.c): the frame is at sp - 8 (the handler's `ret` popped pretcode).
 * `x32`: COMPAT_SYSCALL_DEFINE0(x32_rt_sigreturn) (signal_64.c), the same sp - 8 and the same
 * restore_sigcontext of a 64-bit sigcontext, from struct rt_sigframe_x32: its uc_flags is 32
 * bits and its mask a compat_sigset_t (the same 64 bits on x86).
 */
function rtSigreturn64(c: SysCtx, x32 = false): bigint {
  const { regs, cpu } = need(c);
  const L = x32 ? RTX32 : RT64;
  const frame = regs.rsp - 8n;
  const b = c.p.mm.copyFromUser(frame, L.size);
  if (!b) return badframe(c, x32 ? 'x32 rt_sigreturn' : 'rt_sigreturn');
  const mask = rdLe(b, L.sigmask, 8);
  c.p.blocked = mask & ~UNBLOCKABLE;
  const ucFlags = rdLe(b, L.ucFlags, x32 ? 4 : 8);
  // restore_sigcontext: every GPR, ip, sp; cs/ss with RPL forced to 3; FIX_EFLAGS from the frame;
  // orig_ax = -1 so that the exit path restarts nothing. fs/gs in the frame are ignored (64-bit).
  const sc = L.mcontext;
  for (const r of ['r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15', 'rdi', 'rsi', 'rbp', 'rbx', 'rdx', 'rax', 'rcx', 'rsp'] as const) {
    regs[r] = rdLe(b, sc + SC64[r], 8);
  }
  regs.ip = rdLe(b, sc + SC64.rip, 8);
  regs.cs = rdLe(b, sc + SC64.cs, 2) | 3n;
  regs.ss = rdLe(b, sc + SC64.ss, 2) | 3n;
  regs.flags = (regs.flags & ~FIX_EFLAGS) | (rdLe(b, sc + SC64.eflags, 8) & FIX_EFLAGS);
  regs.orig_ax = BigInt.asUintN(64, -1n);
  // UC_STRICT_RESTORE_SS and force_valid_ss came with v4.6 (the SS-saving sigcontext).
  if (since(c.profile, '4.6') && (ucFlags & UC.STRICT_RESTORE_SS) === 0n && regs.cs === BigInt(SELECTORS.USER_CS)) {
    forceValidSs(cpu, regs, c.note);
  }
  c.note(`${x32 ? 'x32 ' : ''}rt_sigreturn: frame at 0x${frame.toString(16)} → ip 0x${regs.ip.toString(16)}, sp 0x${regs.rsp.toString(16)}, flags 0x${regs.flags.toString(16)}, cs 0x${regs.cs.toString(16)}, ss 0x${regs.ss.toString(16)}; orig_ax = -1`);
  return regs.rax;
}

/**
 * The selector reload_segments writes (signal_32.c): RPL forced to 3, except that since the FRED
 * work (v6.15: "x86/ia32: Leave NULL selector values 0~3 unchanged", Xin Li, applied to tip
 * x86/asm at the end of February 2025 next to the 6.14-rc fixes tags, so it reached mainline in the
 * 6.15 merge window; the stable-rc logs show it backported to stable branches too, which a
 * release gate cannot tell apart) the NULL selectors 0..3 are
 * left as written — before, a NULL 0 became 3, which IRET then zeroed on Intel, and which
 * ERETU (which never zeroes a segment register) would have shown.
 */
export function fixupRpl(c: SysCtx, sel: number): number {
  if (since(c.profile, '6.15') && sel <= 3) return sel;
  return (sel | 3) & 0xffff;
}

/**
 * reload_segments (CONFIG_IA32_EMULATION): gs (load_gs_index), fs, ds, es each reloaded only
 * when the frame's value differs from the live selector. A load that faults is fixed up by the
 * extable entry of loadsegment/load_gs_index, which loads 0 instead (asm/segment.h).
 */
function reloadSegments(c: SysCtx, cpu: Cpu, b: Uint8Array, sc: number): void {
  for (const s of ['gs', 'fs', 'ds', 'es'] as const satisfies readonly DataSeg[]) {
    const want = fixupRpl(c, Number(rdLe(b, sc + SC32[s], 2)));
    if (want === cpu.seg[s].selector) continue;
    const r = cpu.loadSegment(s, want);
    if (!r.ok) {
      c.note(`reload_segments: loading ${s} = 0x${want.toString(16)} faults → the fixup loads 0`);
      cpu.loadSegment(s, 0);
    } else c.note(`reload_segments: ${s} ← 0x${want.toString(16)}`);
  }
}

/** ia32_restore_sigcontext (signal_32.c): the eight registers, ip, cs/ss with RPL 3, FIX_EFLAGS,
 *  orig_ax = -1, then reload_segments. The values are 32-bit and land zero-extended in pt_regs. */
function ia32RestoreSigcontext(c: SysCtx, regs: PtRegs, cpu: Cpu, b: Uint8Array, sc: number): void {
  for (const r of ['rbx', 'rcx', 'rdx', 'rsi', 'rdi', 'rbp', 'rax', 'rsp'] as const) regs[r] = rdLe(b, sc + SC32[r], 4);
  regs.ip = rdLe(b, sc + SC32.rip, 4);
  regs.cs = rdLe(b, sc + SC32.cs, 2) | 3n;
  regs.ss = rdLe(b, sc + SC32.ss, 2) | 3n;
  regs.flags = (regs.flags & ~FIX_EFLAGS) | (rdLe(b, sc + SC32.eflags, 4) & FIX_EFLAGS);
  regs.orig_ax = BigInt.asUintN(64, -1n);
  reloadSegments(c, cpu, b, sc);
}

/** compat_sys_rt_sigreturn (ia32, 173): the frame is at sp - 4. */
function rtSigreturn32(c: SysCtx): bigint {
  const { regs, cpu } = need(c);
  const frame = (regs.rsp - 4n) & 0xffffffffn;
  const b = c.p.mm.copyFromUser(frame, RT32.size);
  if (!b) return badframe(c, 'ia32 rt_sigreturn');
  c.p.blocked = rdLe(b, RT32.sigmask, 8) & ~UNBLOCKABLE;
  ia32RestoreSigcontext(c, regs, cpu, b, RT32.mcontext);
  c.note(`ia32 rt_sigreturn: frame at 0x${frame.toString(16)} → eip 0x${regs.ip.toString(16)}, esp 0x${regs.rsp.toString(16)}, eflags 0x${regs.flags.toString(16)}; orig_ax = -1`);
  return regs.rax;
}

/** compat_sys_sigreturn (ia32, 119): __kernel_sigreturn pops one word (popl %eax) before the
 *  call, so the frame is at sp - 8; the mask is sc.oldmask (low word) and extramask[0] (high). */
function sigreturn32(c: SysCtx): bigint {
  const { regs, cpu } = need(c);
  const frame = (regs.rsp - 8n) & 0xffffffffn;
  const b = c.p.mm.copyFromUser(frame, FRAME32.size);
  if (!b) return badframe(c, 'ia32 sigreturn');
  const mask = rdLe(b, FRAME32.sc + SC32.oldmask, 4) | (rdLe(b, FRAME32.extramask, 4) << 32n);
  c.p.blocked = mask & ~UNBLOCKABLE;
  ia32RestoreSigcontext(c, regs, cpu, b, FRAME32.sc);
  c.note(`ia32 sigreturn: frame at 0x${frame.toString(16)} → eip 0x${regs.ip.toString(16)}, esp 0x${regs.rsp.toString(16)}; orig_ax = -1`);
  return regs.rax;
}

/** Handlers by table entry name (abi/tables: x86_64 15, x32 513, i386 173 and 119). rt_sigreturn's result
 *  is the restored ax, full width; it takes no arguments. */
export const SIGRETURN: Record<string, SyscallImpl> = {
  sys_rt_sigreturn: { args: '', run: (c) => rtSigreturn64(c) },
  compat_sys_x32_rt_sigreturn: { args: '', run: (c) => rtSigreturn64(c, true) },
  compat_sys_rt_sigreturn: { args: '', run: (c) => rtSigreturn32(c) },
  compat_sys_sigreturn: { args: '', run: (c) => sigreturn32(c) },
};
