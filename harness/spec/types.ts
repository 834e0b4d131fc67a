// Resolved shapes the loader produces from a spec: expectations, requirements, spec
// metadata and the ExpandedCase that ties a Case (what a target sees) to its expectation
// (what only check() sees). Names are resolved to numbers here; `$symbols` stay symbolic
// until check() resolves them against the Observation's env.

import type { FlagName } from '../../abi/constants.js';
import type { AuxvCheck, MapCheck } from './maps.js';
import type { NotificationCheck } from './notify.js';
import type { MemView } from './results.js';
import type { Abi, Case, DataSeg, Gpr, RegName, VsyscallMode } from '../contracts.js';

/** A `$symbol` an expected value may name; resolved from the Observation at check time. */
export type SymName =
  | 'pid' | 'tid' | 'ppid' | 'uid' | 'gid' | 'next_ip' | 'entry_ip' | 'rflags_in' | 'unmapped'
  | 'buf' | 'fd' | 'in' | 'extra' | 'auxv' | 'thread_tid'
  /** Result symbols (harness/spec/results.ts): `$setup.N.ret`, `$after.N.ret`, `$mem.NAME.VIEW`. */
  | 'setup' | 'after' | 'mem';

/** An expected value: a literal, or `$sym[.name][+-N]`. */
export type ExpVal =
  | { lit: bigint; name?: string }
  | { sym: SymName; name?: string; add: bigint; text: string };

export type Matcher =
  | { kind: 'eq'; v: ExpVal }
  | { kind: 'errno'; name: string; n: number }
  | { kind: 'ok' }
  | { kind: 'one_of'; of: Matcher[] }
  | { kind: 'not'; m: Matcher }
  | { kind: 'range'; lo: ExpVal; hi: ExpVal }
  | { kind: 'min'; v: ExpVal }
  | { kind: 'max'; v: ExpVal }
  | { kind: 'mask'; mask: bigint; eq: bigint }
  /** Several keys in one matcher map: all must hold. */
  | { kind: 'all'; of: Matcher[] };

/** One register comparison. `field` is what the spec wrote (ret, eax, rcx, ...). */
export interface RegCheck {
  field: string;
  reg: RegName;
  /** Width compared: 64, 32 (32-bit code or an e-alias), 16 (selectors). */
  bits: 16 | 32 | 64;
  m: Matcher;
}

/** Ranges for `traps_in`: exactly $next_ip / $entry_ip, the vsyscall page, the vDSO image. */
export type TrapRange = 'next_ip' | 'entry_ip' | 'vsyscall_page' | 'vdso';

export type SignalField = 'signo' | 'code' | 'errno' | 'addr' | 'syscall' | 'arch' | 'trapno' | 'err';

export interface Expectation {
  /** Explicit outcome; when absent check() derives it (signal/killed/exit_code, else returned). */
  outcome?: 'returned' | 'signal' | 'killed' | 'exited';
  regs: RegCheck[];
  preserved?: { regs: Gpr[]; bits: 32 | 64; text: string };
  flags?: { set: FlagName[]; clear: FlagName[] };
  signal?: { fields: { field: SignalField; m: Matcher }[]; regs: RegCheck[] };
  killed?: { signo: number; name: string };
  exitCode?: Matcher;
  traps?: Matcher;
  /** How many logged single-step traps hit inside each named range (Observation.trap_log). */
  trapsIn?: { range: TrapRange; m: Matcher }[];
  /** Flags every logged trap's handler ran with. */
  trapHandlerFlags?: { set: FlagName[]; clear: FlagName[] };
  /** In order, exactly; `handlerFlags` checks SignalInfo.handler_rflags, `flags` the frame's rflags. */
  delivered?: { signo: number; name: string; handlerFlags?: { set: FlagName[]; clear: FlagName[] }; flags?: { set: FlagName[]; clear: FlagName[] }; code?: Matcher }[];
  memory?: { name: string; hex: string; text?: string }[];
  /** Typed views of read-back regions (`memory: {NAME: {u32: [...], timespec: ...}}`), compared at
   *  the view's width (32 for u32, 64 otherwise). */
  memWords?: { name: string; view: MemView; index: number; m: Matcher }[];
  /** Expected ptrace stops, a prefix of Observation.events' ptrace stops, in order. */
  events?: PtraceEventCheck[];
  /** How many ptrace stops the case's call produced. */
  eventCount?: Matcher;
  /** The exact list of ftrace syscall events of the case's call (kind 'ftrace'), in order. */
  ftrace?: FtraceEventCheck[];
  /** Observation.post.peek: the 8 bytes the after-call read saw (64 bits). */
  peek?: Matcher;
  /** Observation.post.segs: selectors after the after-call loads (16 bits). */
  segs?: { seg: DataSeg; m: Matcher }[];
  /** Observation.post.compat_stack: the value the compat code popped (32 bits). */
  compatStack?: Matcher;
  /** VD-01: auxiliary-vector entries (Observation.auxv), by AT_* name (harness/spec/maps.ts). */
  auxv?: AuxvCheck[];
  /** VD-01/VD-04: the kernel's special mappings (Observation.maps), by name without brackets. */
  maps?: MapCheck[];
  /** Observation.seccomp_install (SC-06): each install's result in order; errno 0 means it
   *  succeeded (ret >= 0). */
  seccompInstall?: { errno: number; name: string; threadTid?: boolean }[];
  /** Case.thread: how the second thread's call ended (Observation.thread.ended). */
  threadEnded?: 'returned' | 'signal' | 'killed';
  /** Case.thread: alive — the main thread reported after the second thread ended; killed —
   *  the whole process died of a signal (outcome killed with exit.signal). */
  process?: 'alive' | 'killed';
  /** Observation.notify.received (SC-04): `none`, or fields of struct seccomp_notif. */
  notification?: NotificationCheck;
  /** At least one alternative must hold (together with everything above). */
  anyOf?: { why?: string; exp: Expectation }[];
}

export type KernelOp = '>=' | '<=' | '>' | '<' | '=';

export interface Requires {
  /** All constraints must hold (ANDed); `text` is what the spec wrote. */
  kernel?: { op: KernelOp; version: [number, number, number]; text: string }[];
  vendor?: 'intel' | 'amd';
  ia32?: boolean;
  x32?: boolean;
  vsyscall?: VsyscallMode[];
  fred?: boolean;
  features?: string[];
  destructive?: boolean;
}

export interface SpecMeta {
  id: string;
  title: string;
  description: string;
  refs: { kind: string; text: string }[];
  tags: string[];
  covers: string[];
  file: string;
}

export interface ExpandedCase {
  /** What targets see: no expectation in it. */
  case: Case;
  /** Never handed to a target. */
  expect: Expectation;
  /** Spec requirements ∪ case requirements. */
  requires: Requires;
  /** From the case's `skip` map for this ABI. */
  skipReason?: string;
  spec: SpecMeta;
  /** Case name after `vary` substitution. */
  name: string;
  /** Line of the case in its file. */
  line: number;
  /** The vary binding that produced this case (placeholder → source text), if any. */
  vary?: Record<string, string>;
}

export type { Abi };

/** One expected ftrace syscall event (docs/ftrace.md). Values compare at 64 bits. */
export interface FtraceEventCheck {
  event: 'sys_enter' | 'sys_exit';
  /** SYSCALL_DEFINE name the event must carry. */
  name?: string;
  /** How many arguments the spec listed: the event must record exactly that many. */
  argCount?: number;
  /** field path ("nr", "args.0", "ret") → matcher. */
  fields: { field: string; m: Matcher }[];
}

/** One expected ptrace stop: fields of PtraceStopEvent (and its `info`) with their matchers. */
export interface PtraceEventCheck {
  stop: 'entry' | 'exit' | 'seccomp';
  /** field path ("orig_rax", "args.0", "info.nr") → matcher and compared width. */
  fields: { field: string; m: Matcher; bits: 32 | 64 }[];
}
