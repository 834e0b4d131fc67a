// What a modelled syscall implementation sees and returns. Handlers are keyed by the kernel's
// entry-point name from the tables (sys_getpid, sys_getuid16, compat_sys_lseek, ...), so the
// table decides which variant runs, exactly as sys_call_table / ia32_sys_call_table do.

import type { Profile } from '../../../harness/contracts.js';
import { ERRNO, type ErrnoName } from '../../../abi/constants.js';
import type { Process } from '../process.js';
import type { PtRegs } from '../dispatch.js';
import type { Cpu } from '../../cpu/state.js';

/** The argument types a handler declares, per position (include/linux/syscalls.h __SC_CAST):
 *  i = int, u = unsigned int, l = long, L = unsigned long / size_t / pointer. */
export type ArgKind = 'i' | 'u' | 'l' | 'L';

export interface SysCtx {
  p: Process;
  profile: Profile;
  /** in_compat_syscall(): a 32-bit entry (TS_COMPAT) or an x32 syscall. */
  compat: boolean;
  /** TS_COMPAT: entered through int $0x80, SYSENTER or 32-bit SYSCALL. */
  ia32: boolean;
  x32: boolean;
  /** Address after the entry instruction (regs->ip), for signals the call raises. */
  ip: bigint;
  /** A signal the call forces on the task (force_sig), delivered on the way out. */
  forced: { signo: number; code: number; addr: bigint } | null;
  note(text: string): void;
  /** The task sleeps `ns` ns (TASK_INTERRUPTIBLE, woken by its timer) and is switched back in
   *  (sim/kernel/sched.ts); absent where no scheduler is attached (unit tests). */
  sleep?(ns: bigint): void;
  /** The call's pt_regs and the CPU, for the calls that work on them directly (rt_sigreturn
   *  rewrites pt_regs and reloads data segments: sim/kernel/sigframe.ts); absent in unit tests
   *  that call a handler alone. */
  regs?: PtRegs;
  cpu?: Cpu;
}

export interface SyscallImpl {
  /** Declared argument kinds, one per argument the call takes. */
  args: string;
  run(c: SysCtx, a: bigint[]): bigint;
  /** The call never returns (exit, exit_group). */
  noreturn?: boolean;
}

/** Thrown by a handler for a case it does not model: the Observation becomes 'unsupported'. */
export class NotModelled extends Error {}

/** -errno as the signed value a handler returns. */
export function err(name: ErrnoName): bigint {
  return -BigInt(ERRNO[name]);
}

export function le(v: bigint, len: number): Uint8Array {
  const b = new Uint8Array(len);
  let x = BigInt.asUintN(len * 8, v);
  for (let i = 0; i < len; i++) {
    b[i] = Number(x & 0xffn);
    x >>= 8n;
  }
  return b;
}
export function rdLe(b: Uint8Array, off: number, len: number): bigint {
  let v = 0n;
  for (let i = len - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[off + i]!);
  return v;
}
export function concat(...parts: Uint8Array[]): Uint8Array {
  const n = parts.reduce((s, x) => s + x.length, 0);
  const out = new Uint8Array(n);
  let o = 0;
  for (const x of parts) {
    out.set(x, o);
    o += x.length;
  }
  return out;
}

/** Write to user memory; false on a fault (the caller returns -EFAULT). */
export function put(c: SysCtx, addr: bigint, bytes: Uint8Array): boolean {
  return c.p.mm.copyToUser(addr, bytes);
}
export function get(c: SysCtx, addr: bigint, len: number): Uint8Array | null {
  return c.p.mm.copyFromUser(addr, len);
}
/** Size of `long`/pointer for the calling ABI's structures (compat: 4). */
export function longSize(c: SysCtx): number {
  return c.compat ? 4 : 8;
}
