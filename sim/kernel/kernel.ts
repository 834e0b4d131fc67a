// One simulated machine for one Case: the process, the CPU booted the way Linux boots it, the
// kernel's fixed addresses (entry points, stacks, vDSO), and the outcome bookkeeping the entry
// paths fill in (signals, traps, exit). sim/kernel/run.ts drives it; entry64.ts and
// entry_compat.ts are the kernel's entry code.

import type { Profile, SignalInfo, RegFile, TrapHit } from '../../harness/contracts.js';
import { GPRS64, TRAP_LOG_MAX } from '../../harness/contracts.js';
import { SIGNALS, SI_CODES } from '../../abi/constants.js';
import { Cpu } from '../cpu/state.js';
import { vendorTraits } from '../cpu/vendors.js';
import { bootCpu, LINUX_KERNEL_STACK, LINUX_KERNEL_TEXT, GDT_INDEX, type BootOptions } from '../cpu/linux.js';
import type { CpuFault, CpuVendorTraits, Descriptor, MsrName, SegmentCache } from '../cpu/api.js';
import { Process, SIG_DFL, SIG_IGN, type UserDesc } from './process.js';
import type { SeccompState } from './seccomp/filter.js';
import { PF_PROT, PROT_READ, PROT_WRITE, TASK_SIZE_MAX, type AddressSpace } from './mm.js';
import { GDT_ENTRY_TLS_MIN } from '../../abi/constants.js';
import { frameFits } from './sigstack.js';

/** Kernel text addresses of the entry points the MSRs point at (synthetic, canonical kernel half). */
export const KADDR = {
  entry_SYSCALL_64: LINUX_KERNEL_TEXT + 0x1000n,
  entry_SYSCALL_compat: LINUX_KERNEL_TEXT + 0x1200n,
  entry_SYSENTER_compat: LINUX_KERNEL_TEXT + 0x1400n,
  entry_SYSCALL32_ignore: LINUX_KERNEL_TEXT + 0x1600n,
  sysenter_stack: 0xfffffe0000002000n,
} as const;

/** Default dispositions whose action is "ignore" (kernel/signal.c SIG_KERNEL_IGNORE_MASK). */
export const DEFAULT_IGNORED = new Set<number>([SIGNALS.SIGCHLD, SIGNALS.SIGURG, SIGNALS.SIGWINCH, SIGNALS.SIGCONT]);

/** Handler address standing for the probe's recording SA_SIGINFO handler. */
export const RECORD_HANDLER = 0x500000n;

export type Stop =
  | { kind: 'signal'; info: SignalInfo }
  | { kind: 'killed'; signal: number }
  | { kind: 'exited'; code: number }
  | { kind: 'timeout'; reason: string }
  | { kind: 'unsupported'; reason: string };

function bootOptions(profile: Profile, p: Process): BootOptions {
  return {
    kernel: profile.kernel,
    ia32: profile.ia32,
    lstar: KADDR.entry_SYSCALL_64,
    cstar: KADDR.entry_SYSCALL_compat,
    sysenterEip: KADDR.entry_SYSENTER_compat,
    sysenterEsp: KADDR.sysenter_stack,
    cstarIgnore: KADDR.entry_SYSCALL32_ignore,
    cpu: Number(p.cpu),
    node: Number(p.node),
  };
}

/**
 * Booting (256 IDT gates, the GDT, MSRs) is the same for every case of a profile, so it is
 * done once per profile on a template CPU and copied into each case's CPU. The IDT is never
 * written after boot and is shared; the GDT is copied because TLS entries change per case.
 */
const KSTACK_LO = LINUX_KERNEL_STACK - 0x8000n;
const KSTACK_HI = LINUX_KERNEL_STACK + 0x10000n;
const TEMPLATES = new Map<string, Cpu>();
const BY_PROFILE = new WeakMap<Profile, Cpu>();
function bootedTemplate(profile: Profile, p: Process): Cpu {
  const hit = BY_PROFILE.get(profile);
  if (hit && p.cpu === 0n && p.node === 0n) return hit;
  const key = `${profile.kernel}|${profile.vendor}|${profile.ia32}|${profile.fred}|${p.cpu}|${p.node}`;
  let t = TEMPLATES.get(key);
  if (t && p.cpu === 0n && p.node === 0n) BY_PROFILE.set(profile, t);
  if (!t) {
    t = new Cpu(vendorTraits(profile.vendor === 'amd' ? 'amd' : 'intel', profile.fred), { read: () => ({ fault: 'PF', errorCode: 0 }), write: () => ({ fault: 'PF', errorCode: 0 }) });
    bootCpu(t, bootOptions(profile, p));
    TEMPLATES.set(key, t);
  }
  return t;
}
const MSR_STORED: MsrName[] = ['EFER', 'STAR', 'LSTAR', 'CSTAR', 'SFMASK', 'SYSENTER_CS', 'SYSENTER_ESP', 'SYSENTER_EIP', 'KERNEL_GS_BASE'];
const POOL = new Map<string, Cpu>();
function pooledCpu(traits: CpuVendorTraits, mem: AddressSpace): Cpu {
  const key = `${traits.vendor}|${traits.fred}`;
  let c = POOL.get(key);
  if (!c) {
    c = new Cpu(traits, mem);
    POOL.set(key, c);
  }
  c.mem = mem;
  c.trace = null;
  for (const r of GPRS64) c.gpr[r] = 0n;
  c.rip = 0n;
  c.cr2 = 0n;
  return c;
}

/** Field-by-field copy of a segment cache: once per register per case, and Object.assign
 *  (the generic path) showed up in the profile. Must list every SegmentCache field. */
function copySeg(d: SegmentCache, s: SegmentCache): void {
  d.selector = s.selector;
  d.base = s.base;
  d.limit = s.limit;
  d.type = s.type;
  d.s = s.s;
  d.dpl = s.dpl;
  d.present = s.present;
  d.l = s.l;
  d.db = s.db;
  d.g = s.g;
  d.unusable = s.unusable;
}

function copyBooted(cpu: Cpu, t: Cpu): void {
  for (const m of MSR_STORED) cpu.msr[m] = t.msr[m];
  const cs = cpu.seg, ts = t.seg;
  copySeg(cs.cs, ts.cs);
  copySeg(cs.ss, ts.ss);
  copySeg(cs.ds, ts.ds);
  copySeg(cs.es, ts.es);
  copySeg(cs.fs, ts.fs);
  copySeg(cs.gs, ts.gs);
  cpu.gdt = t.gdt.slice();
  cpu.ldt = [];
  cpu.idt = t.idt;
  cpu.tss = { rsp: [...t.tss.rsp] as [bigint, bigint, bigint], ist: t.tss.ist.slice(), ss0: t.tss.ss0 };
  cpu.fred = { ...t.fred };
  cpu.vaBits = t.vaBits;
  cpu.cpl = t.cpl;
  cpu.mode = t.mode;
  cpu.rflags = t.rflags;
}

export class Kernel {
  readonly profile: Profile;
  readonly p: Process;
  readonly cpu: Cpu;
  /** Kernel-level explanation steps (null when not explaining). */
  readonly steps: string[] | null;
  /** Signals the case set up a probe-side disposition for (Case.signals.actions). */
  caseActions: Record<number, 'default' | 'ignore' | 'record'> = {};
  forced: { signo: number; code: number; addr: bigint; errno?: number; syscall?: number; arch?: number } | null = null;
  /** The task's seccomp filters (issue 7); null when the case installs none. */
  seccomp: SeccompState | null = null;
  /** Live threads in the case's process (Case.thread: 2); signal->live for seccomp's kills. */
  liveThreads = 1;
  /** Set when only the calling thread died (do_exit without a group exit): Case.thread. */
  threadExited = false;
  stop: Stop | null = null;
  traps = 0;
  /** Where the first TRAP_LOG_MAX single-step traps hit (Observation.trap_log). */
  trapLog: TrapHit[] = [];
  delivered: SignalInfo[] = [];
  /** Set when the process is a 32-bit (i386) one: the vDSO is vdso32 and has a landing pad. */
  vdso32Base: bigint | null = null;
  vdso64Base: bigint | null = null;
  /** RG-06: a busy sibling task is pinned to this CPU (Case.contend), so a sleep switches to it
   *  (sim/kernel/sched.ts). */
  contend = false;
  /** Context switches the task went through (sleeps that really slept). */
  switches = 0;
  /** Called after a 'record' handler ran (its rt_sigreturn is a syscall: a tracer sees it). */
  onHandlerReturn: ((sig: number) => void) | null = null;

  constructor(profile: Profile, p: Process, explain: boolean) {
    this.profile = profile;
    this.p = p;
    this.steps = explain ? [] : null;
    const traits = vendorTraits(profile.vendor === 'amd' ? 'amd' : 'intel', profile.fred);
    // Non-explaining runs reuse one CPU object per vendor configuration (runs are synchronous,
    // so a CPU is never shared by two live cases); every field is reset by copyBooted.
    const cpu = explain ? new Cpu(traits, p.mm) : pooledCpu(traits, p.mm);
    // The entry stacks are kernel memory: mapped, but not reachable from CPL 3.
    p.mm.mapFresh(KSTACK_LO, KSTACK_HI, PROT_READ | PROT_WRITE, 'kernel stacks', true);
    p.mm.mapFresh(KADDR.sysenter_stack - 0x1000n, KADDR.sysenter_stack, PROT_READ | PROT_WRITE, 'entry stack', true);
    if (explain) {
      // Explaining: boot for real so the trace shows the MSR and IDT programming.
      cpu.trace = [];
      bootCpu(cpu, bootOptions(profile, p));
    } else {
      copyBooted(cpu, bootedTemplate(profile, p));
    }
    this.cpu = cpu;
  }


  note(text: string): void {
    if (this.steps) this.steps.push(text);
  }

  /** Interleave the CPU's trace with the kernel's own steps, in order. */
  flushCpuTrace(): void {
    const t = this.cpu.trace;
    if (!t || !this.steps) return;
    for (const s of t) this.steps.push(`${s.insn}: ${s.text}`);
    t.length = 0;
  }

  /** The GDT TLS entries 12–14 as descriptors (fill_ldt of each user_desc, asm/desc.h). */
  syncTls(): void {
    for (let i = 0; i < 3; i++) this.cpu.gdt[GDT_ENTRY_TLS_MIN + i] = descFromUser(this.p.tls[i] ?? null);
    void GDT_INDEX;
  }

  /** The process's LDT (modify_ldt, arch/x86/kernel/ldt.c) as the CPU sees it: entries
   *  0..max written with fill_ldt, the gaps null descriptors. */
  syncLdt(): void {
    const n = this.p.ldt.size === 0 ? 0 : Math.max(...this.p.ldt.keys()) + 1;
    this.cpu.ldt = Array.from({ length: n }, (_, i) => descFromUser(this.p.ldt.get(i) ?? null));
  }

  /** User registers as the code sees them (32-bit code: the low halves of the eight). */
  userRegs(extra = true): RegFile {
    const cpu = this.cpu;
    const g = cpu.gpr;
    const is32 = cpu.mode !== 'long64';
    // Object literals (key order = REG_NAMES order, as the old keyed loop produced) keep one
    // hidden class: this runs once per case, and keyed stores into {} were a profile hot spot.
    let r: RegFile;
    if (is32) {
      const M = 0xffffffffn;
      r = { rax: g.rax & M, rbx: g.rbx & M, rcx: g.rcx & M, rdx: g.rdx & M, rsi: g.rsi & M, rdi: g.rdi & M,
        rbp: g.rbp & M, rsp: g.rsp & M, rip: cpu.rip, rflags: cpu.rflags };
    } else {
      r = { rax: g.rax, rbx: g.rbx, rcx: g.rcx, rdx: g.rdx, rsi: g.rsi, rdi: g.rdi, rbp: g.rbp, rsp: g.rsp,
        r8: g.r8, r9: g.r9, r10: g.r10, r11: g.r11, r12: g.r12, r13: g.r13, r14: g.r14, r15: g.r15,
        rip: cpu.rip, rflags: cpu.rflags };
    }
    if (extra) {
      const s = cpu.seg;
      r.cs = BigInt(s.cs.selector);
      r.ss = BigInt(s.ss.selector);
      r.ds = BigInt(s.ds.selector);
      r.es = BigInt(s.es.selector);
      r.fs = BigInt(s.fs.selector);
      r.gs = BigInt(s.gs.selector);
      if (!is32) {
        r.fs_base = s.fs.base;
        r.gs_base = s.gs.base;
      }
    }
    return r;
  }

  /**
   * A single-step #DB from user mode (DR6.BS): exc_debug_user (arch/x86/kernel/traps.c) sends
   * SIGTRAP TRAP_TRACE, which the probe's handler counts and returns from. `ip` is where it hit
   * (the instruction after the one that ran with TF), or undefined where that lies in code the
   * sim does not model (the target's own instruction at next_ip).
   */
  stepTrap(ip: bigint | undefined): void {
    this.traps++;
    if (this.trapLog.length >= TRAP_LOG_MAX) return;
    const hit: TrapHit = { handler_rflags: handlerRflags(this.cpu.rflags) };
    if (ip !== undefined) hit.ip = this.p.is32 || this.cpu.mode !== 'long64' ? ip & 0xffff_ffffn : ip;
    this.trapLog.push(hit);
  }

  /**
   * A synchronous signal raised in user context (a fault, or force_sig from the kernel).
   * force_sig_info_to_task (kernel/signal.c) unblocks and un-ignores it, so an ignored or
   * blocked one, or one left at SIG_DFL, kills the process; a probe's handler records it.
   */
  raise(signo: number, code: number, addr: bigint | undefined, trap?: { trapno: number; err: bigint },
    sys?: { errno?: number; syscall?: number; arch?: number }): void {
    const info: SignalInfo = { signo, code, errno: sys?.errno ?? 0, regs: this.userRegs(), handler_rflags: handlerRflags(this.cpu.rflags) };
    // A 64-bit process's handler gets a struct sigcontext (uapi/asm/sigcontext.h): cs, gs, fs, ss
    // selectors but no ds/es slot and no segment bases, so the ucontext reports none of them.
    if (!this.p.is32) {
      delete info.regs.ds;
      delete info.regs.es;
      delete info.regs.fs_base;
      delete info.regs.gs_base;
    }
    // A 64-bit process interrupted in compatibility mode still gets a 64-bit rt_sigframe
    // (arch/x86/kernel/signal_64.c: the frame follows the task's ABI, not CS), whose
    // sigcontext holds r8–r15 too.
    if (!this.p.is32 && this.cpu.mode !== 'long64') {
      const g = this.cpu.gpr;
      Object.assign(info.regs, { r8: g.r8, r9: g.r9, r10: g.r10, r11: g.r11, r12: g.r12, r13: g.r13, r14: g.r14, r15: g.r15 });
    }
    // SIGSYS from seccomp also carries si_syscall and si_arch (force_sig_seccomp, kernel/seccomp.c).
    if (sys?.syscall !== undefined) info.syscall = sys.syscall;
    if (sys?.arch !== undefined) info.arch = sys.arch;
    if (addr !== undefined) info.addr = addr;
    if (trap) {
      info.trapno = trap.trapno;
      info.err = trap.err;
    }
    const disp = this.caseActions[signo];
    const blocked = ((this.p.blocked >> BigInt(signo - 1)) & 1n) === 1n;
    this.note(`signal ${signo} (si_code ${code}${addr !== undefined ? `, si_addr 0x${addr.toString(16)}` : ''}) at rip 0x${this.cpu.rip.toString(16)}`);
    if (disp === 'default' || disp === 'ignore' || blocked) {
      this.note('force_sig: the signal is blocked, ignored or at SIG_DFL → the process dies');
      this.stop = { kind: 'killed', signal: signo };
      return;
    }
    // get_sigframe: the alternate stack (the probe's, or one a set-up call made) or the
    // interrupted one; a frame that cannot be written is force_sigsegv (sim/kernel/sigstack.ts).
    const fit = frameFits(this.p.mm, this.p.altstack, this.cpu.gpr.rsp, this.p.is32);
    if (!fit.ok) {
      this.note(`the signal frame does not fit on ${fit.where} → signal_setup_done(failed) → force_sigsegv: the process dies of SIGSEGV`);
      this.stop = { kind: 'killed', signal: SIGNALS.SIGSEGV };
      return;
    }
    this.stop = { kind: 'signal', info };
  }

  /** A CPU fault taken in user mode, turned into the signal the kernel's trap handler sends
   *  (arch/x86/kernel/traps.c, arch/x86/mm/fault.c). */
  userFault(f: CpuFault, at: bigint): void {
    this.cpu.rip = at;
    // Every fault-class exception pushes RF = 1 (Intel SDM Vol. 3B §17.3.1.1, "the value pushed
    // for RF is 1"), so the sigcontext's flags have it; #DB here is the single-step trap, which
    // pushes RF as it was. Natively a #PF on a fetch or a #GP/#NP at a selector load shows 0x10000.
    if (f.vector !== 'DB') this.cpu.rflags |= 0x10000n; // X86_EFLAGS_RF
    switch (f.vector) {
      case 'UD':
        return this.raise(SIGNALS.SIGILL, SI_CODES.ILL_ILLOPN, at, { trapno: 6, err: 0n });
      case 'PF': {
        const addr = f.address ?? at;
        // No VMA lies at or above TASK_SIZE_MAX (the vsyscall page is a gate area, not a VMA:
        // find_vma misses it), so such faults are SEGV_MAPERR.
        const mapped = addr < TASK_SIZE_MAX && this.p.mm.find(addr) !== undefined;
        // sanitize_error_code (arch/x86/mm/fault.c): a user access to an address at or above
        // TASK_SIZE_MAX is reported as a protection fault (P set) so the signal does not leak
        // the kernel's page-table layout — the vsyscall page in xonly/none mode included.
        const err = f.errorCode | 4 | (addr >= TASK_SIZE_MAX ? PF_PROT : 0);
        return this.raise(SIGNALS.SIGSEGV, mapped ? SI_CODES.SEGV_ACCERR : SI_CODES.SEGV_MAPERR, addr,
          { trapno: 14, err: BigInt(err) });
      }
      case 'DB':
        return this.raise(SIGNALS.SIGTRAP, SI_CODES.TRAP_TRACE, at, { trapno: 1, err: 0n });
      // #GP from user mode: SIGSEGV (do_general_protection); #SS and #NP: SIGBUS (exc_stack_segment,
      // exc_segment_not_present → do_error_trap(..., SIGBUS, 0, NULL)). All SI_KERNEL, no address.
      default:
        return this.raise(f.vector === 'GP' ? SIGNALS.SIGSEGV : SIGNALS.SIGBUS, SI_CODES.SI_KERNEL, 0n,
          { trapno: f.vector === 'GP' ? 13 : f.vector === 'SS' ? 12 : 11, err: BigInt(f.errorCode) });
    }
  }

  /**
   * exit_to_user_mode_loop's signal work (kernel/entry/common.c → arch_do_signal_or_restart):
   * deliver pending, unblocked signals. A 'record' handler runs and returns through
   * rt_sigreturn, restoring the interrupted registers, so only `delivered` changes.
   */
  deliverPending(): void {
    const still: number[] = [];
    for (const sig of this.p.pending) {
      if (this.stop) break;
      if ((this.p.blocked >> BigInt(sig - 1)) & 1n) {
        still.push(sig);
        continue;
      }
      const act = this.p.actions.get(sig);
      const h = act?.handler ?? SIG_DFL;
      if (h === SIG_IGN) continue;
      if (h === SIG_DFL) {
        if (DEFAULT_IGNORED.has(sig)) continue;
        this.note(`signal ${sig} with SIG_DFL: default action terminates the process`);
        this.stop = { kind: 'killed', signal: sig };
        break;
      }
      this.note(`signal ${sig} delivered to the handler at 0x${h.toString(16)}; it returns through rt_sigreturn`);
      this.delivered.push({ signo: sig, code: SI_CODES.SI_USER, errno: 0, regs: this.userRegs(), handler_rflags: handlerRflags(this.cpu.rflags) });
      // kill() sends SI_USER, tgkill() SI_TKILL (kernel/signal.c prepare_kill_siginfo); and a
      // 64-bit handler's sigcontext has no ds/es slot and no bases, as in raise().
      const d = this.delivered[this.delivered.length - 1]!;
      d.code = this.p.pendingCodes.get(sig) ?? SI_CODES.SI_USER;
      this.p.pendingCodes.delete(sig);
      if (!this.p.is32) for (const r of ['ds', 'es', 'fs_base', 'gs_base'] as const) delete d.regs[r];
      this.onHandlerReturn?.(sig);
    }
    this.p.pending = still;
    // TIF_RESTORE_SIGMASK (rt_sigsuspend): the mask in force before the call comes back once
    // signals were handled — restore_saved_sigmask() when no handler ran, the handler's
    // rt_sigreturn (the frame saved the old mask, sigmask_to_save()) when one did.
    if (this.p.savedSigmask !== null && !this.stop) {
      this.note(`restore_saved_sigmask: blocked ← 0x${this.p.savedSigmask.toString(16)}`);
      this.p.blocked = this.p.savedSigmask;
      this.p.savedSigmask = null;
    }
  }
}

/** fill_ldt (arch/x86/include/asm/desc.h): a struct user_desc as the descriptor the CPU loads;
 *  null for an empty slot. fill_ldt never sets L ("Don't allow setting of the lm bit"), so a
 *  stored user_desc's lm cannot reach the descriptor. */
function descFromUser(u: UserDesc | null): Descriptor {
  return u
    ? { kind: u.contents >= 2 ? 'code' : 'data', base: u.base, limit: u.limit & 0xfffff,
      type: (u.contents << 2) | (u.readExecOnly ? 0 : 2) | 1, dpl: 3, present: !u.notPresent,
      l: false, db: u.seg32, g: u.limitInPages }
    : { kind: 'null', base: 0n, limit: 0, type: 0, dpl: 0, present: false, l: false, db: false, g: false };
}

/**
 * The RFLAGS a signal handler starts with, given the interrupted ones: handle_signal
 * (arch/x86/kernel/signal.c) clears DF (the ABI's function-entry state), RF and TF (so a
 * SIGTRAP handler does not trap itself) after setup_rt_frame saved the interrupted flags in
 * the frame; everything else carries over.
 */
export function handlerRflags(interrupted: bigint): bigint {
  return interrupted & ~(0x400n | 0x10000n | 0x100n); // X86_EFLAGS_DF | X86_EFLAGS_RF | X86_EFLAGS_TF
}
