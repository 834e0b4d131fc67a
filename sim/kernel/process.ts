// The small process a Case runs in: ids, an fd table (/dev/null, memory-backed files, pipes),
// the address space, signal dispositions/mask/altstack, FS/GS bases, TLS GDT entries and an
// LDT, personality and a virtual clock. Built fresh per Case by sim/kernel/run.ts.

import type { Abi, Profile } from '../../harness/contracts.js';
import { AddressSpace } from './mm.js';

/** RLIMIT_NOFILE soft limit the sim runs with (the usual default). */
export const NOFILE = 1024;
/** Pipe capacity (PIPE_DEF_BUFFERS * PAGE_SIZE, fs/pipe.c). */
export const PIPE_SIZE = 65536;

export interface Pipe {
  buf: number[];
  readers: number;
  writers: number;
}

/** An open file description (struct file): shared by dup'ed descriptors. */
export interface OpenFile {
  kind: 'null' | 'file' | 'pipe';
  /** FMODE_READ / FMODE_WRITE. */
  read: boolean;
  write: boolean;
  /** FMODE_PREAD/FMODE_LSEEK: regular files and /dev/null; pipes are streams (fs/pipe.c). */
  seekable: boolean;
  pos: bigint;
  data?: { bytes: Uint8Array; size: number };
  pipe?: Pipe;
  nonblock: boolean;
  refs: number;
}

export interface FdEntry {
  file: OpenFile;
  cloexec: boolean;
}

/** struct user_desc, decoded (arch/x86/include/uapi/asm/ldt.h). */
export interface UserDesc {
  entry: number;
  base: bigint;
  limit: number;
  seg32: boolean;
  contents: number;
  readExecOnly: boolean;
  limitInPages: boolean;
  notPresent: boolean;
  useable: boolean;
  lm: boolean;
}

export interface SigAction {
  handler: bigint; // 0 SIG_DFL, 1 SIG_IGN
  flags: bigint;
  restorer: bigint;
  mask: bigint;
}
export const SIG_DFL = 0n;
export const SIG_IGN = 1n;

export interface AltStack {
  sp: bigint;
  flags: number;
  size: bigint;
  /** The native probe's own stack (probes/probe.c setup_signals): always usable. */
  probe?: true;
}
export const SS_ONSTACK = 1;
export const SS_DISABLE = 2;
export const SS_AUTODISARM = 1 << 31;

/** The parts of struct restart_block the modelled calls use: hrtimer_nanosleep's
 *  (kernel/time/hrtimer.c) clock, absolute expiry and where the remaining time goes. */
export type RestartBlock =
  | { fn: 'none' }
  | { fn: 'nanosleep'; clockid: bigint; expires: bigint; rmtp: bigint; type: 'none' | 'native' | 'compat' };

export class Process {
  readonly profile: Profile;
  /** The ABI of the program (a 32-bit process for i386). */
  readonly abi: Abi;
  pid = 0n;
  /** The main thread's id: $tid, the `tid` operand, what tgkill/tkill find. */
  tid = 0n;
  /** Case.thread: the id of the second thread, which makes the call (gettid's answer there). */
  callerTid?: bigint;
  ppid = 0n;
  pgid = 0n;
  uid = 0n;
  gid = 0n;
  euid = 0n;
  egid = 0n;
  mm = new AddressSpace();
  brkStart = 0n;
  brk = 0n;
  fds = new Map<number, FdEntry>();
  actions = new Map<number, SigAction>();
  blocked = 0n;
  /** Signals sent and not yet delivered (numbers, in order). */
  pending: number[] = [];
  /** si_code of a pending signal when it is not SI_USER (tgkill: SI_TKILL); the first sender's
   *  stays, as a legacy signal queues once (kernel/signal.c __send_signal_locked). */
  pendingCodes = new Map<number, number>();
  /** current->saved_sigmask while TIF_RESTORE_SIGMASK is set (rt_sigsuspend): the mask the
   *  exit path puts back once signals were handled (kernel/signal.c restore_saved_sigmask). */
  savedSigmask: bigint | null = null;
  /** current->restart_block: what restart_syscall continues (include/linux/restart_block.h).
   *  'none' is do_no_restart_syscall, which answers -EINTR. */
  restartBlock: RestartBlock = { fn: 'none' };
  /** The probe sets up its own 64 KiB alternate signal stack before any case (probes/probe.c
   *  setup_signals); the address shown here is the sim's own (sim/kernel/sigstack.ts). */
  altstack: AltStack = { sp: 0x7e0000000000n, flags: 0, size: 0x10000n, probe: true };
  /** GDT TLS entries 12..14 (null: empty). */
  tls: (UserDesc | null)[] = [null, null, null];
  ldt = new Map<number, UserDesc>();
  personality = 0n;
  /** User FS/GS bases and selectors as the thread has them (struct thread_struct). A syscall
   *  that changes them sets segChanged so the exit path reloads the CPU's segment state. */
  fsBase = 0n;
  gsBase = 0n;
  fsSel = 0;
  gsSel = 0;
  segChanged = false;
  noNewPrivs = false;
  /** task->seccomp.mode as PR_GET_SECCOMP reports it: 0 disabled, 1 strict, 2 filter (SC-06). */
  seccompMode = 0;
  dumpable = 1n;
  pdeathsig = 0n;
  comm = 'probe';
  /** CPU and NUMA node the task runs on (getcpu, vDSO getcpu). */
  cpu = 0n;
  node = 0n;
  /** Virtual clock: nanoseconds since the epoch and since boot, advanced on every read. */
  realNs: bigint;
  monoNs: bigint;
  cpuNs = 1_000_000n;
  /** Set by exit/exit_group or a fatal signal. */
  exited: { code: number } | null = null;
  killed: { signal: number } | null = null;

  constructor(profile: Profile, abi: Abi, now: bigint) {
    this.profile = profile;
    this.abi = abi;
    this.realNs = now;
    this.monoNs = 123_456_789_000n;
  }

  get is32(): boolean {
    return this.abi === 'i386';
  }

  /** Advance and read the virtual clock: each reading is later than the previous one. */
  tick(): void {
    this.realNs += 1000n;
    this.monoNs += 1000n;
    this.cpuNs += 1000n;
  }

  fd(n: bigint): FdEntry | undefined {
    if (n < 0n || n >= BigInt(NOFILE)) return undefined;
    return this.fds.get(Number(n));
  }

  /** Lowest free descriptor ≥ min (fs/file.c alloc_fd), or -1 when the table is full. */
  lowestFree(min = 0): number {
    for (let i = min; i < NOFILE; i++) if (!this.fds.has(i)) return i;
    return -1;
  }

  install(n: number, file: OpenFile, cloexec = false): void {
    const old = this.fds.get(n);
    if (old) this.release(old.file);
    file.refs++;
    this.fds.set(n, { file, cloexec });
  }

  close(n: number): boolean {
    const e = this.fds.get(n);
    if (!e) return false;
    this.fds.delete(n);
    this.release(e.file);
    return true;
  }

  private release(f: OpenFile): void {
    f.refs--;
    if (f.refs > 0 || !f.pipe) return;
    if (f.read) f.pipe.readers--;
    if (f.write) f.pipe.writers--;
  }
}

export function nullFile(): OpenFile {
  return { kind: 'null', read: true, write: true, seekable: true, pos: 0n, nonblock: false, refs: 0 };
}
export function memFile(bytes: Uint8Array): OpenFile {
  const cap = Math.max(bytes.length, 64);
  const b = new Uint8Array(cap);
  b.set(bytes);
  return { kind: 'file', read: true, write: true, seekable: true, pos: 0n, data: { bytes: b, size: bytes.length }, nonblock: false, refs: 0 };
}
export function pipePair(initial: Uint8Array, nonblock = false): { r: OpenFile; w: OpenFile } {
  const pipe: Pipe = { buf: Array.from(initial), readers: 1, writers: 1 };
  return {
    r: { kind: 'pipe', read: true, write: false, seekable: false, pos: 0n, pipe, nonblock, refs: 0 },
    w: { kind: 'pipe', read: false, write: true, seekable: false, pos: 0n, pipe, nonblock, refs: 0 },
  };
}
