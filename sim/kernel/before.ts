// Case.before on the simulator: the FSGSBASE instructions a case runs right before its entry
// (sim/cpu/fsgsbase.ts has the instructions), and what Linux does around them — whether CR4.FSGSBASE
// is set, the single-step trap after each one under TF, the signal a fault becomes — and the
// `none` entry (a nop where the entry instruction would be, RT-03).

import type { BeforeInsn } from '../../harness/contracts.js';
import { RFLAGS, SIGNALS } from '../../abi/constants.js';
import { execFsgsbase } from '../cpu/fsgsbase.js';
import { retireInstruction, singleStepTrap } from '../cpu/debug.js';
import type { Kernel } from './kernel.js';
import { since } from '../profiles.js';
import { NotModelled } from './syscalls/types.js';

/** Bytes each instruction takes natively (F3 REX.W 0F AE /r), for the addresses of the traps. */
const INSN_BYTES = 5n;

/**
 * CR4.FSGSBASE as Linux leaves it: set at boot when the CPU has FSGSBASE, since v5.9 (commit
 * "x86/cpu: Enable FSGSBASE on 64bit by default and add a chicken bit"; `nofsgsbase` turns it off).
 * The profile's `fsgsbase` feature says the kernel enabled it.
 */
export function cr4Fsgsbase(k: Kernel): boolean {
  return k.profile.features.includes('fsgsbase') && since(k.profile, '5.9');
}

/**
 * After a user instruction completed with TF set: the single-step #DB (trap class, SDM Vol. 3B
 * §18.3.1.4) enters through exc_debug_user — from user mode, so the entry's SWAPGS is decided
 * by CS, not by the GS base, and a kernel-half base written by WRGSBASE cannot confuse it
 * (arch/x86/entry/entry_64.S idtentry_mce_db: from user mode → the normal stack and error_entry).
 * The probe's handler counts the SIGTRAP; a default or ignored SIGTRAP kills the case.
 * Returns false when the case is over.
 */
function stepTrap(k: Kernel, ranAt: bigint, logIp: bigint | undefined, what: string): boolean {
  const cpu = k.cpu;
  if (!(cpu.rflags & RFLAGS.TF)) return true;
  singleStepTrap(cpu, ranAt);
  k.flushCpuTrace();
  k.stepTrap(logIp);
  k.note(`TF: a single-step SIGTRAP follows the ${what}`);
  const act = k.caseActions[SIGNALS.SIGTRAP];
  if (act === 'default' || act === 'ignore') {
    k.stop = { kind: 'killed', signal: SIGNALS.SIGTRAP };
    return false;
  }
  return true;
}

/**
 * Run the case's `before` instructions at `at` (they sit right before the entry instruction).
 * RD*BASE writes its register; a fault (#UD: CR4.FSGSBASE clear → SIGILL ILL_ILLOPN; #GP: a
 * non-canonical base → SIGSEGV SI_KERNEL) ends the case as its signal. Returns false when the
 * case is over (k.stop set). The thread's saved base follows the register: with FSGSBASE the
 * kernel reads the live base (arch/x86/kernel/process_64.c x86_gsbase_read_task, save_fsgs),
 * so ARCH_GET_GS and a context switch see what WRGSBASE wrote.
 */
export function runBefore(k: Kernel, list: readonly BeforeInsn[], at: bigint): boolean {
  const cpu = k.cpu;
  const cr4 = cr4Fsgsbase(k);
  let ip = at;
  for (const b of list) {
    const src = b.reg !== undefined ? cpu.gpr[b.reg] : (b.value ?? 0n);
    k.note(`user: ${b.insn}${b.reg !== undefined ? ` %${b.reg}` : ` (0x${src.toString(16)})`} at 0x${ip.toString(16)}${cr4 ? '' : ' with CR4.FSGSBASE clear'}`);
    cpu.rip = ip;
    const r = execFsgsbase(cpu, b.insn, cr4, src);
    k.flushCpuTrace();
    if (!r.ok) {
      k.userFault(r.fault, ip);
      return false;
    }
    if (r.value !== undefined && b.reg !== undefined) cpu.gpr[b.reg] = r.value;
    if (b.insn === 'wrfsbase') k.p.fsBase = cpu.seg.fs.base;
    if (b.insn === 'wrgsbase') k.p.gsBase = cpu.seg.gs.base;
    ip += INSN_BYTES;
    cpu.rip = ip;
    retireInstruction(cpu);
    // Natively the instructions sit in a page of their own: where their traps hit is not
    // modelled, so the trap log gets no address for them.
    if (!stepTrap(k, ip - INSN_BYTES, undefined, b.insn)) return false;
  }
  return true;
}

/**
 * Entry `none`: the nop at entryIp runs and control goes on at nextIp, with no system call. Under
 * TF its single-step trap is the comparison point RT-03 sets the syscall cases against. Returns
 * false when the case is over.
 */
export function runNop(k: Kernel, entryIp: bigint, nextIp: bigint): boolean {
  const cpu = k.cpu;
  k.note(`user: nop at 0x${entryIp.toString(16)}: no system call`);
  cpu.rip = nextIp;
  retireInstruction(cpu);
  return stepTrap(k, entryIp, nextIp, 'nop');
}

/**
 * SYSENTER with TF set (Intel; SYSENTER keeps TF): the single-step #DB arrives on the first
 * instruction of entry_SYSENTER_compat, at CPL 0 but before its SWAPGS, so GS still holds the
 * user's base. #DB is a paranoid entry (arch/x86/entry/entry_64.S idtentry_mce_db → paranoid_entry):
 * with FSGSBASE it reads the current GSBASE, writes the kernel's per-CPU base unconditionally and
 * puts the saved one back on the way out, so any user base — 0xffffffffffff0000 written by WRGSBASE
 * included — is harmless. exc_debug_kernel then drops DR_STEP (is_sysenter_singlestep,
 * arch/x86/kernel/traps.c) and the entry goes on; TF is cleared at .Lsysenter_fix_flags. Without
 * FSGSBASE paranoid_entry guesses from the sign of MSR_GS_BASE (negative = the kernel's already):
 * safe only because user code then cannot make its base negative (arch_prctl refuses it, EPERM).
 */
export function sysenterSingleStep(k: Kernel): void {
  const gs = k.cpu.seg.gs.base;
  const negative = (gs >> 63n) === 1n;
  if (cr4Fsgsbase(k)) {
    k.note(`#DB on entry_SYSENTER_compat's first instruction (TF kept by SYSENTER), before SWAPGS: paranoid_entry saves GSBASE 0x${gs.toString(16)}, loads the kernel's per-CPU base, restores the saved one on exit (FSGSBASE); exc_debug_kernel: is_sysenter_singlestep → DR_STEP ignored`);
    return;
  }
  if (negative) {
    throw new NotModelled(`a negative user GS base (0x${gs.toString(16)}) without FSGSBASE at a #DB before SWAPGS: paranoid_entry would take it for the kernel's and skip SWAPGS`);
  }
  k.note(`#DB on entry_SYSENTER_compat's first instruction (TF kept by SYSENTER), before SWAPGS: paranoid_entry reads MSR_GS_BASE 0x${gs.toString(16)} (not negative: the user's) → SWAPGS; exc_debug_kernel: is_sysenter_singlestep → DR_STEP ignored`);
}
