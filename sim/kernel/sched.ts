// Task switching for a call that sleeps (RG-06, issue 5): what happens on the task's CPU
// between schedule() in the sleeping call and the moment the task runs again, reduced to what
// the user-visible state depends on — the virtual clock, and SS, which no context switch saves.
//
// The sequence the model runs (kernel/time/hrtimer.c do_nanosleep → schedule(); the wake-up
// comes from the hrtimer interrupt, kernel/time/hrtimer.c hrtimer_interrupt → hrtimer_wakeup):
//  - alone on the CPU (no Case.contend): the idle task runs in the kernel; the timer interrupt
//    arrives at CPL 0, so no privilege change and SS is left as it was (SDM Vol. 3A §7.14.4);
//  - beside a busy task pinned to the same CPU (Case.contend, the recipe of
//    tools/testing/selftests/x86/sysret_ss_attrs.c): the sibling spins in user mode, the timer
//    interrupt arrives at CPL 3, and IA-32e interrupt delivery with a privilege change loads SS
//    with a NULL selector (RPL = new CPL; SDM Vol. 3A §7.14.4 "the new SS is set to NULL if there
//    is a change in CPL"). The woken task preempts the sibling on the interrupt's way out, and
//    __switch_to (arch/x86/kernel/process_64.c) switches back to it.
// Since v4.1 (commit 61f01dd941ba), __switch_to on CPUs with X86_BUG_SYSRET_SS_ATTRS (set by
// init_amd, arch/x86/kernel/cpu/amd.c) reloads SS with __KERNEL_DS when it is not that already;
// before, the NULL SS survived into the woken task's SYSRET, which on AMD keeps SS's hidden
// attributes (sim/cpu/sysret.ts sysretKeepsSsAttrs) — unusable behind selector 0x2b.

import { RFLAGS, SELECTORS } from '../../abi/constants.js';
import { GPRS64, type Gpr } from '../../harness/contracts.js';
import { deliverInterrupt } from '../cpu/interrupt.js';
import { swapgs } from '../cpu/swapgs.js';
import { userState } from '../cpu/linux.js';
import { setFlatStack } from '../cpu/state.js';
import type { CpuMode, SegmentCache } from '../cpu/api.js';
import { since } from '../profiles.js';
import type { Kernel } from './kernel.js';

/** LOCAL_TIMER_VECTOR (arch/x86/include/asm/irq_vectors.h): the local APIC timer that drives
 *  hrtimers in high-resolution mode. */
export const LOCAL_TIMER_VECTOR = 0xec;
/** Where the busy sibling spins (a `jmp .` in its own text; any user address would do). */
const SIBLING_SPIN_IP = 0x401100n;

/** X86_BUG_SYSRET_SS_ATTRS: init_amd (and init_hygon) set it on every AMD CPU. */
export function hasSysretSsAttrsBug(k: Kernel): boolean {
  return k.profile.vendor === 'amd';
}

/**
 * The SS part of __switch_to (arch/x86/kernel/process_64.c, v4.1+): "if (static_cpu_has_bug(
 * X86_BUG_SYSRET_SS_ATTRS)) { savesegment(ss, ss_sel); if (ss_sel != __KERNEL_DS)
 * loadsegment(ss, __KERNEL_DS); }". Returns whether SS was reloaded.
 */
export function switchToSsFixup(k: Kernel): boolean {
  const cpu = k.cpu;
  if (!since(k.profile, '4.1') || !hasSysretSsAttrsBug(k)) {
    if (hasSysretSsAttrsBug(k)) k.note(`__switch_to: no SS reload before v4.1 (kernel ${k.profile.kernel}); SS stays 0x${cpu.seg.ss.selector.toString(16)}${cpu.seg.ss.unusable ? ' (NULL, unusable)' : ''}`);
    return false;
  }
  if (cpu.seg.ss.selector === SELECTORS.KERNEL_DS) {
    k.note('__switch_to: X86_BUG_SYSRET_SS_ATTRS, SS is already __KERNEL_DS');
    return false;
  }
  const r = cpu.loadSegment('ss', SELECTORS.KERNEL_DS);
  k.flushCpuTrace();
  if (!r.ok) throw new Error(`__switch_to: loading SS = __KERNEL_DS failed: ${r.fault.why}`);
  k.note('__switch_to: X86_BUG_SYSRET_SS_ATTRS and SS ≠ __KERNEL_DS → loadsegment(ss, __KERNEL_DS) (v4.1 workaround)');
  return true;
}

/** The kernel-mode CPU state of the sleeping task that a context switch gives back
 *  (its stack and registers, its data segments and GS bases) — but not SS. */
interface KernelContext {
  gpr: Record<Gpr, bigint>;
  rip: bigint;
  rflags: bigint;
  cpl: number;
  mode: CpuMode;
  segs: Record<'cs' | 'ds' | 'es' | 'fs' | 'gs', SegmentCache>;
  kernelGsBase: bigint;
}

function saveContext(k: Kernel): KernelContext {
  const c = k.cpu;
  const gpr = {} as Record<Gpr, bigint>;
  for (const r of GPRS64) gpr[r] = c.gpr[r];
  return {
    gpr, rip: c.rip, rflags: c.rflags, cpl: c.cpl, mode: c.mode,
    segs: { cs: { ...c.seg.cs }, ds: { ...c.seg.ds }, es: { ...c.seg.es }, fs: { ...c.seg.fs }, gs: { ...c.seg.gs } },
    kernelGsBase: c.msr.KERNEL_GS_BASE,
  };
}

function restoreContext(k: Kernel, x: KernelContext): void {
  const c = k.cpu;
  for (const r of GPRS64) c.gpr[r] = x.gpr[r];
  c.rip = x.rip;
  c.rflags = x.rflags;
  c.cpl = x.cpl;
  c.mode = x.mode;
  for (const s of ['cs', 'ds', 'es', 'fs', 'gs'] as const) Object.assign(c.seg[s], x.segs[s]);
  c.msr.KERNEL_GS_BASE = x.kernelGsBase;
}

/**
 * The task sleeps for `ns` nanoseconds of its virtual clock and runs again: schedule() away,
 * the other task (the idle task, or the contending sibling) runs until the hrtimer interrupt
 * wakes this one, and __switch_to comes back. Called from inside a syscall (CPL 0).
 */
export function sleepAndSwitch(k: Kernel, ns: bigint): void {
  const p = k.p;
  const cpu = k.cpu;
  p.realNs += ns;
  p.monoNs += ns;
  k.switches++;
  if (!k.contend) {
    k.note(`schedule(): nothing else runs on this CPU; the idle task waits in the kernel and the timer interrupt ${ns} ns later arrives at CPL 0 (no privilege change: SS untouched); __switch_to back`);
    switchToSsFixup(k);
    return;
  }
  const ctx = saveContext(k);
  k.note('schedule(): __switch_to the busy sibling pinned to this CPU; it returns to user mode and spins');
  // The sibling was itself preempted in user mode earlier, so it goes back through IRET with
  // its user CS/SS; its register values do not matter to us.
  userState(cpu, '64');
  cpu.rip = SIBLING_SPIN_IP;
  cpu.rflags = RFLAGS.IF | RFLAGS.FIXED1;
  if (cpu.traits.fred) {
    // FRED event delivery to ring 0 loads SS with fixed flat attributes (selector
    // IA32_STAR[47:32] + 8), never NULL (Intel FRED spec §5.1; sim/cpu/fred.ts does the same).
    k.note(`timer interrupt (vector 0x${LOCAL_TIMER_VECTOR.toString(16)}) in the sibling's user mode: FRED event delivery, SS ← __KERNEL_DS (flat)`);
    swapgs(cpu);
    k.flushCpuTrace();
    setFlatStack(cpu.seg.ss, SELECTORS.KERNEL_DS, 0);
    cpu.cpl = 0;
    cpu.mode = 'long64';
  } else {
    const r = deliverInterrupt(cpu, LOCAL_TIMER_VECTOR);
    if (!r.ok) throw new Error(`delivering the timer interrupt from the sibling's user mode failed: ${r.fault.why}`);
    // The interrupt entry (idtentry, from user mode) swaps to the kernel GS base.
    swapgs(cpu);
    k.flushCpuTrace();
    k.note(`timer interrupt (vector 0x${LOCAL_TIMER_VECTOR.toString(16)}) from CPL 3: SS ← NULL (0x${cpu.seg.ss.selector.toString(16)}, unusable); hrtimer_wakeup wakes the sleeper, which preempts the sibling on the way out`);
  }
  // __switch_to(sibling → this task): everything but SS comes back from the task's context.
  const ss = { ...cpu.seg.ss };
  restoreContext(k, ctx);
  Object.assign(cpu.seg.ss, ss);
  switchToSsFixup(k);
}
