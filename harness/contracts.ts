// The two contracts every side of sysabi meets at (DESIGN.md "The one picture"):
// a Case says what to do and carries no expectation; an Observation says what happened.
// Targets (sim, native, emulators) implement the small Target interface below.
// 64-bit values are bigint here and hex strings in JSON (see harness/json.ts).

import type { Abi, SettableFlag } from '../abi/constants.js';
export type { Abi } from '../abi/constants.js';

/** General registers, by their 64-bit names. i386 code sees the low 32 bits (eax = rax). */
export const GPRS64 = [
  'rax', 'rbx', 'rcx', 'rdx', 'rsi', 'rdi', 'rbp', 'rsp',
  'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15',
] as const;
export type Gpr = (typeof GPRS64)[number];
/** The registers 32-bit code can see, by their 64-bit names. */
export const GPRS32: readonly Gpr[] = ['rax', 'rbx', 'rcx', 'rdx', 'rsi', 'rdi', 'rbp', 'rsp'];
export const SEGS = ['cs', 'ss', 'ds', 'es', 'fs', 'gs'] as const;
export type Seg = (typeof SEGS)[number];
/** The selectors user code loads with MOV (Case.segs, Case.peek). */
export const DATA_SEGS = ['ds', 'es', 'fs', 'gs'] as const;
export type DataSeg = (typeof DATA_SEGS)[number];
export const REG_NAMES = [...GPRS64, 'rip', 'rflags', ...SEGS, 'fs_base', 'gs_base'] as const;
export type RegName = (typeof REG_NAMES)[number];
/** 32-bit aliases accepted in specs; they name the low 32 bits of the 64-bit register. */
export const REG32_ALIASES: Record<string, RegName> = {
  eax: 'rax', ebx: 'rbx', ecx: 'rcx', edx: 'rdx', esi: 'rsi', edi: 'rdi', ebp: 'rbp', esp: 'rsp',
  eip: 'rip', eflags: 'rflags',
};
/** A register file: only the registers a side knows are present. */
export type RegFile = Partial<Record<RegName, bigint>>;

/** Syscall argument registers per ABI (ABI-FACTS §1). */
export const ARG_REGS: Record<'64' | '32', readonly Gpr[]> = {
  '64': ['rdi', 'rsi', 'rdx', 'r10', 'r8', 'r9'],
  '32': ['rbx', 'rcx', 'rdx', 'rsi', 'rdi', 'rbp'],
};

/**
 * How the case enters the kernel.
 * - syscall:  the SYSCALL instruction, executed in the case's code mode.
 * - int80:    `int $0x80`, executed in the case's code mode (from 64-bit code for x86_64).
 * - sysenter: a raw SYSENTER (no stable ABI; used for fault cases).
 * - vdso:     i386 only: `call *AT_SYSINFO` (__kernel_vsyscall), the kernel-chosen fast path.
 * - vdso_fn:  a C call of a vDSO function named by Case.symbol, arguments by the C ABI.
 * - vsyscall: x86_64 only: a call into the legacy vsyscall page at Case.vsyscallAddr.
 * - sigreturn: deliver a signal, overwrite the saved frame with Case.sigreturn, return through
 *             rt_sigreturn (how RT-01 reaches a non-canonical RIP).
 * - exec:     start a fresh static program and report its very first register state (RG-07).
 * - none:     no system call: a `nop` stands where the entry instruction would be (RT-03, the
 *             single-step trap of an ordinary instruction); Case.nr is loaded but means nothing.
 */
export const ENTRIES = ['syscall', 'int80', 'sysenter', 'vdso', 'vdso_fn', 'vsyscall', 'sigreturn', 'exec', 'none'] as const;
export type Entry = (typeof ENTRIES)[number];

/** CPU mode the entry instruction runs in: a 64-bit process may far-call into 32-bit code. */
export type CodeMode = '64' | 'compat';

/**
 * An input value that a target resolves at run time, because only the target knows it
 * (addresses of its buffers, its fds, its pid). Resolved value =
 *   ((base + add) | or) truncated to the register width of the case's code.
 */
export interface Operand {
  /** A literal value; when `ref` is absent this is the base. */
  lit?: bigint;
  /**
   * buf:   address of the memory region `name`
   * unmapped: an address with no mapping (at least one page on either side unmapped)
   * fd:    the descriptor `name` (see Case.fds; `null` is always available)
   * pid / tid / ppid / uid / gid: the process's ids
   * rflags_in: the RFLAGS value loaded before the entry (for sigreturn frames)
   */
  ref?: 'buf' | 'unmapped' | 'fd' | 'pid' | 'tid' | 'ppid' | 'uid' | 'gid' | 'rflags_in';
  name?: string;
  add?: bigint;
  or?: bigint;
}

/** A memory region the target maps for the case. */
export interface MemRegion {
  name: string;
  /** Size in bytes (> 0). */
  size: number;
  /** Initial bytes, as lowercase hex; shorter than size → the rest is `fill`. */
  hex: string;
  fill: number;
  prot: 'r' | 'rw' | 'none';
  /**
   * anywhere: the target's choice; low32: below 4 GiB (so 32-bit pointers reach it);
   * end_of_page: the region ends exactly at a page boundary and the next page is unmapped.
   */
  place: 'anywhere' | 'low32' | 'end_of_page';
  /** Fixed address (MAP_FIXED_NOREPLACE); overrides place. */
  at?: bigint;
  /** Read the region back after the call into Observation.memory[name]. */
  readback: boolean;
}

/** A file descriptor the target opens fresh for the case. `null` (/dev/null) always exists. */
export interface FdSpec {
  name: string;
  /** null: /dev/null O_RDWR; file: a private regular file holding `hex`, O_RDWR, offset 0;
   *  pipe: a pipe whose write end holds `hex` unread; opens `<name>.r` and `<name>.w`;
   *  closed: a number that is not an open descriptor. */
  kind: 'null' | 'file' | 'pipe' | 'closed';
  hex: string;
}

/** Signal set-up done before the call. */
export interface SignalSetup {
  /** Disposition per signal number; 'record' installs an SA_SIGINFO handler that records delivery. */
  actions: Record<number, 'default' | 'ignore' | 'record'>;
  /** Signals blocked (sigprocmask) during the call. */
  blocked: number[];
  /**
   * Signals of `actions` installed with SA_RESTART in sa_flags: after their handler runs, a call
   * that returned -ERESTARTSYS is restarted instead of failing with EINTR (arch/x86/kernel/
   * signal.c handle_signal). Absent: none.
   */
  restart?: number[];
}

/** One classic-BPF instruction (struct sock_filter): the same for every target. */
export interface BpfInsn {
  code: number;
  jt: number;
  jf: number;
  k: number;
}

/** seccomp filters to install, in order (the last installed runs first in precedence ties). */
export interface SeccompSetup {
  /** 'filter': SECCOMP_SET_MODE_FILTER per program; 'strict': SECCOMP_SET_MODE_STRICT. */
  mode: 'filter' | 'strict';
  filters: BpfInsn[][];
  /**
   * How each filter (same index) is installed (SC-06); absent or an absent entry: the
   * sandboxing recipe (PR_SET_NO_NEW_PRIVS first, no flags, the program's address).
   */
  opts?: (SeccompInstallOpts | undefined)[];
  /** After the filters, try SECCOMP_SET_MODE_STRICT too (filter → strict is EINVAL, SC-06). */
  thenStrict?: boolean;
  /** SC-04: a supervisor task reads the listener fd (the first install with NEW_LISTENER that
   *  succeeded), receives one notification and answers it (docs/seccomp.md "User notification"). */
  notify?: NotifyScript;
}

/** How the supervisor answers (SECCOMP_IOCTL_NOTIF_SEND, include/uapi/linux/seccomp.h). */
export interface NotifyScript {
  /** error: the call returns -errno; val: it returns val; continue: it runs
   *  (SECCOMP_USER_NOTIF_FLAG_CONTINUE, v5.5). */
  respond: { kind: 'error'; errno: number } | { kind: 'val'; val: bigint } | { kind: 'continue' };
}

/** struct seccomp_notif as SECCOMP_IOCTL_NOTIF_RECV filled it (data flattened). */
export interface SeccompNotif {
  id: bigint;
  pid: bigint;
  flags: number;
  nr: number;
  arch: number;
  instruction_pointer: bigint;
  args: bigint[];
}

/** What the supervisor saw and did (Observation.notify). */
export interface NotifyObservation {
  /** Absent: no notification arrived (see `note`). */
  received?: SeccompNotif;
  /** SECCOMP_IOCTL_NOTIF_SEND's result. */
  send?: SeccompInstallResult;
  /** Why nothing was received, or what else the supervisor met. */
  note?: string;
}

/** One seccomp(SECCOMP_SET_MODE_FILTER) call's particulars (SC-06, kernel/seccomp.c). */
export interface SeccompInstallOpts {
  /** false: do not set PR_SET_NO_NEW_PRIVS for this install, and drop CAP_SYS_ADMIN from the
   *  effective set, so the kernel's "NNP or CAP_SYS_ADMIN" check is reached (→ EACCES).
   *  NO_NEW_PRIVS is sticky: once an earlier install set it, it stays set. */
  noNewPrivs?: boolean;
  /** SECCOMP_FILTER_FLAG_* bits. */
  flags?: number;
  /** Pass a NULL struct sock_fprog pointer (→ EFAULT); the filter's program is ignored. */
  nullProgram?: boolean;
}

/** What one install returned: seccomp(2)'s value, and errno when it is -1 (else 0). */
export interface SeccompInstallResult {
  ret: number;
  errno: number;
}

/**
 * A ptrace tracer for the case (issue 7; ABI-FACTS §4.3, §8.6). The case's parent traces it:
 * the child does PTRACE_TRACEME and stops itself, the tracer sets `options` (PTRACE_SETOPTIONS)
 * and resumes with `mode` until the case's call is over, acting at stops as `at` says.
 */
export type PtraceStopKind = 'entry' | 'exit' | 'seccomp';
export interface PtraceAction {
  stop: PtraceStopKind;
  /** The n-th stop of that kind in the case's call, from 1. */
  n: number;
  /** Registers written with PTRACE_SETREGS (GETREGS, change these, SETREGS), by user_regs_struct
   *  names of a 64-bit tracer: orig_rax, rax, rip, rdi, ... An empty map is a plain write-back. */
  set: Partial<Record<'orig_rax' | RegName, bigint>>;
  /** After `set`: rip -= 2 and rax = orig_rax, the tracer restarting the call (PT-06). */
  rewind?: boolean;
  /** After `set`, while the tracee is stopped: kill(tracee, this signal) (PT-07). */
  kill?: number;
}
export interface PtraceScript {
  /** PTRACE_O_TRACESYSGOOD (stop signal SIGTRAP|0x80), PTRACE_O_TRACESECCOMP (SECCOMP_RET_TRACE stops). */
  options: ('tracesysgood' | 'traceseccomp')[];
  /** How the tracer resumes: PTRACE_SYSCALL (entry and exit stops), PTRACE_SYSEMU (entry stop,
   *  the call is not run), PTRACE_CONT (only event stops, e.g. seccomp). */
  mode: 'syscall' | 'sysemu' | 'cont';
  at: PtraceAction[];
}

/** PTRACE_GET_SYSCALL_INFO (v5.3) as the tracer read it at a stop (include/uapi/linux/ptrace.h). */
export interface PtraceSyscallInfo {
  /** 0 none, 1 entry, 2 exit, 3 seccomp. */
  op: number;
  arch: number;
  instruction_pointer: bigint;
  stack_pointer: bigint;
  /** entry/seccomp. */
  nr?: bigint;
  args?: bigint[];
  /** seccomp: SECCOMP_RET_DATA of the filter's return. */
  ret_data?: number;
  /** exit. */
  rval?: bigint;
  is_error?: number;
}

/** One ptrace stop of the case's call, as the tracer saw it before applying its `set`. */
export interface PtraceStopEvent extends TraceEvent {
  kind: 'ptrace';
  stop: PtraceStopKind;
  /** WSTOPSIG(status): SIGTRAP, or SIGTRAP|0x80 with TRACESYSGOOD at syscall stops. */
  sig: number;
  /** status >> 16: PTRACE_EVENT_SECCOMP (7) at a seccomp stop, else 0. */
  event: number;
  /** PTRACE_GETREGS of a 64-bit tracer (orig_rax, rax, rip, rsp) and the ABI's six argument registers. */
  orig_rax: bigint;
  rax: bigint;
  rip: bigint;
  rsp: bigint;
  args: bigint[];
  /** PTRACE_GETEVENTMSG. */
  eventmsg: bigint;
  /** Absent where PTRACE_GET_SYSCALL_INFO is not available (before v5.3). */
  info?: PtraceSyscallInfo;
}

/**
 * One ftrace syscall event of the case's call (events/syscalls/sys_enter_<name>, sys_exit_<name>;
 * kernel/trace/trace_syscalls.c). Only the events the kernel attributes to the case's own entry
 * instruction are reported (docs/ftrace.md).
 */
export interface FtraceEvent extends TraceEvent {
  kind: 'ftrace';
  event: 'sys_enter' | 'sys_exit';
  /** The SYSCALL_DEFINE name of the event (sys_enter_<name>). */
  name: string;
  /** __syscall_nr: the x86_64 number. */
  nr: number;
  /** sys_enter: the arguments as recorded (as many as the metadata declares, full 64 bits). */
  args?: bigint[];
  /** sys_exit: the return value (long). */
  ret?: bigint;
}

/** One set-up call of a case (Case.setup, docs/spec-language.md "Set-up calls"). */
export interface SetupCall {
  /** The syscall's name in the case ABI's table (for messages). */
  name: string;
  /** The number loaded into RAX/EAX (the x32 bit included for x32). */
  nr: bigint;
  /** Up to 6 arguments, for the ABI's argument registers (ARG_REGS) in order. */
  args: Operand[];
  /** The call must fail with exactly this errno; absent: it must not fail. */
  expectErrno?: number;
  /** 'int80': `int $0x80` from the 64-bit code of an x86_64 or x32 process (i386 table) instead
   *  of the ABI's native entry. */
  entry?: 'int80';
}

/**
 * A user instruction run right before the entry instruction, in the case's own context (its
 * registers and flags loaded), in order (Case.before; docs/spec-language.md "Instructions
 * before the entry"). The closed list is the FSGSBASE group (Intel SDM Vol. 2A RDFSBASE/
 * RDGSBASE, Vol. 2D WRFSBASE/WRGSBASE): 64-bit mode only, #UD unless CR4.FSGSBASE (Linux 5.9+).
 */
export const BEFORE_INSNS = ['wrfsbase', 'wrgsbase', 'rdfsbase', 'rdgsbase'] as const;
export type BeforeInsnName = (typeof BEFORE_INSNS)[number];
export interface BeforeInsn {
  insn: BeforeInsnName;
  /** The register operand: the source of WR*BASE, the destination of RD*BASE. */
  reg?: Gpr;
  /** WR*BASE only, instead of `reg`: write this value (the target stages it without
   *  changing any case register). */
  value?: bigint;
}

/** Case.thread: who installs which seccomp filters around the second thread's creation. */
export interface ThreadSetup {
  /** When the main thread installs Case.seccomp: 'before' it creates the second thread (which
   *  then inherits the filters: kernel/fork.c copy_seccomp) or 'after' (the filters reach the
   *  second thread only through SECCOMP_FILTER_FLAG_TSYNC). */
  mainSeccomp: 'before' | 'after';
  /** Filters the second thread installs for itself as it starts (the recipe: NO_NEW_PRIVS,
   *  no flags), before the main thread's 'after' installs: its filter tree then diverges. */
  seccomp?: BpfInsn[][];
}

/** Observation.thread: how the second thread's call ended, as the main thread saw it. */
export interface ThreadReport {
  /** The second thread's id (clone's return value in the main thread). */
  tid: bigint;
  /** returned: control came back after the entry; signal: a handler caught a signal in its
   *  call; killed: it ended inside the call (seccomp KILL_THREAD's do_exit). */
  ended: 'returned' | 'signal' | 'killed';
}

/** Everything a target needs to run one case — and no expectation. */
export interface Case {
  /** `<spec id>/<case slug>@<abi>`; unique in a run. */
  id: string;
  spec: string;
  abi: Abi;
  entry: Entry;
  code: CodeMode;
  /** The value loaded into RAX (EAX for 32-bit code) before the entry, all 64 bits. */
  nr: bigint;
  /** Syscall name when the case called by name (for display; targets use `nr`). */
  callName?: string;
  /** Initial general-register values (entry-specific registers already placed: args, nr). */
  regs: Partial<Record<Gpr, Operand>>;
  /** The full RFLAGS value loaded (POPF) immediately before the entry instruction. */
  rflags: bigint;
  /** The flags the case asked for, for display (already included in `rflags`). */
  flags: SettableFlag[];
  memory: MemRegion[];
  fds: FdSpec[];
  signals: SignalSetup;
  /** vdso_fn: the symbol to call; vsyscall: the address to call. */
  symbol?: string;
  vsyscallAddr?: bigint;
  /** Place the entry instruction so that the instruction after it starts at this address. */
  placeNextIp?: bigint;
  /**
   * VD-01/VD-04: after the call, also report the process's auxiliary vector (Observation.auxv)
   * and/or its kernel-named special mappings (Observation.maps). Absent: neither, so other
   * cases never pay for reading /proc.
   */
  observe?: ObserveWhat[];
  /** sigreturn: registers written into the signal frame before rt_sigreturn. */
  sigreturn?: Partial<Record<RegName, Operand>>;
  /** seccomp set-up before the call (issue 7): installed in order, after NO_NEW_PRIVS. */
  seccomp?: SeccompSetup;
  /** Run under a ptrace tracer (issue 7); implies isolate. Observation.events gets the stops. */
  ptrace?: PtraceScript;
  /** Capture the ftrace syscall events of the case's call (issue 7, docs/ftrace.md); implies
   *  isolate. Observation.events gets FtraceEvent entries (kind 'ftrace'). */
  ftrace?: boolean;
  /**
   * After the call returned (issue 6): load these data-segment selectors (MOV to DS/ES/FS/GS,
   * in that order) and report them in Observation.post.segs. A load that faults (#GP, #NP)
   * makes the case's outcome `signal`. The target restores its own selectors afterwards.
   */
  segs?: Partial<Record<DataSeg, bigint>>;
  /**
   * After the call (and `segs`): read 8 bytes at `addr`, through segment `seg` when given
   * (`mov %gs:addr`), and report them in Observation.post.peek; a fault is outcome `signal`.
   */
  peek?: { seg?: DataSeg; addr: Operand };
  /**
   * After the call (and `segs`, `peek`), RG-06: far-call into 32-bit code (CS __USER32_CS) on
   * a stack below 4 GiB that pushes this 32-bit value and pops it back, then returns; the value
   * popped is Observation.post.compat_stack. In compatibility mode every push/pop goes through
   * SS's hidden attributes (SDM Vol. 3A 5.4.1.1 / APM Vol. 2 4.8.3), so an SS left unusable
   * by SYSRET on AMD faults (#SS) here; 64-bit code would not notice. In a 32-bit probe the
   * process already runs compat code: the push/pop run in place.
   */
  compatStack?: bigint;
  /**
   * RG-06 contention: the target pins the case to one CPU and keeps a busy sibling task
   * running on that CPU (sched_setaffinity) while the case's call and its after-call steps run
   * `repeat` times in a row (stopping at the first that does not return), so a sleeping call is
   * switched out and back in (arch/x86/kernel/process_64.c __switch_to). The observation is
   * the last round's; env.extra.contend_rounds says how many rounds ran.
   */
  contend?: { repeat: number };
  /**
   * RT-04: a hardware instruction breakpoint (a debug register with R/W = 00, Intel SDM Vol. 3B
   * §18.2.4) armed on the case's own thread right before the entry and removed after it, on the
   * instruction at `at` ('next_ip': the instruction the entry returns to). Natively it is a perf
   * event (PERF_TYPE_BREAKPOINT, sigtrap): a hit is a SIGTRAP with si_code TRAP_PERF and si_addr
   * = the breakpoint address, i.e. outcome `signal`. RF set by the return (IRET/ERETU from a
   * frame with RF) suppresses it for one instruction; SYSRET always clears RF.
   */
  breakpoint?: { at: 'next_ip' };
  /**
   * System calls made before the call under test, in order, each through the case ABI's native
   * entry (x86_64 and x32: SYSCALL from 64-bit code; i386: int $0x80), with every other part of
   * the case's set-up already done but before signals are blocked, filters installed or a tracer
   * attached. They change the process (an LDT, a TLS entry, a base), so a case with them is
   * isolated. A set-up call that fails (or does not fail with `expectErrno`) makes the case
   * `error`: "set-up call N (name) returned -ERRNO".
   */
  setup?: SetupCall[];
  /**
   * System calls made right after the call under test returned, in order, through the same
   * entries as `setup` (docs/spec-language.md "Calls after the call"), before the after-call
   * steps (segs, peek, compat_stack). Only when the call returned; a failing one makes the case
   * `error` ("after-call N (name) returned -ERRNO"). Their raw results are Observation.after_ret.
   */
  after?: SetupCall[];
  /** User instructions run right before the entry instruction, after every other set-up, with
   *  the case's registers and RFLAGS (TF included) already loaded. Implies isolate: they may
   *  leave a base the probe itself depends on (glibc's FS) changed. */
  before?: BeforeInsn[];
  /**
   * SC-04/05/06: the call under test runs in a second thread of the case's (forked) process,
   * made with a raw clone(CLONE_VM|CLONE_THREAD|...); the main thread waits for it to end and
   * reports (Observation.thread). Implies isolate.
   */
  thread?: ThreadSetup;
  /** Run in a forked child: the case changes the process for good or may kill it. */
  isolate: boolean;
  /** Per-case time limit in milliseconds. */
  timeoutMs: number;
}

/** Signal information, as an SA_SIGINFO handler sees it. */
export interface SignalInfo {
  signo: number;
  code: number;
  errno: number;
  /** si_addr (SIGSEGV/SIGBUS/SIGILL/SIGTRAP) or si_call_addr (SIGSYS). */
  addr?: bigint;
  /** SIGSYS: si_syscall and si_arch. */
  syscall?: number;
  arch?: number;
  /** Registers from the ucontext the handler received. */
  regs: RegFile;
  /** Trap number and error code from the sigcontext, where known. */
  trapno?: number;
  err?: bigint;
  /**
   * RFLAGS the handler itself ran with on entry (its first instruction's PUSHF), as opposed to
   * `regs.rflags`, the interrupted context the frame saved (SS-02: handle_signal in
   * arch/x86/kernel/signal.c clears DF, RF and TF for the handler only). System flags only
   * (TF DF IF AC NT ...): the arithmetic flags are whatever the kernel's exit left. Absent where
   * the target does not know it.
   */
  handler_rflags?: bigint;
}

/** How many single-step traps Observation.trap_log keeps (the first ones; `traps` counts all). */
export const TRAP_LOG_MAX = 64;

/** One single-step SIGTRAP of a TF case (Observation.trap_log). */
export interface TrapHit {
  /** Where it hit: the RIP the #DB trap frame saved, i.e. the instruction after the one that
   *  ran with TF. Absent where the target does not know it (the simulator's trap after the
   *  instruction at next_ip, which lies in the target's own code). */
  ip?: bigint;
  /** RFLAGS the trap's handler ran with on entry (see SignalInfo.handler_rflags). */
  handler_rflags?: bigint;
}

/** What Case.observe may ask for. */
export const OBSERVE_WHAT = ['auxv', 'maps'] as const;
export type ObserveWhat = (typeof OBSERVE_WHAT)[number];

/**
 * One line of /proc/self/maps whose name the kernel chose, in brackets ([vdso], [vvar],
 * [vvar_vclock], [vsyscall], [stack], [heap]; fs/proc/task_mmu.c show_map_vma). Addresses are
 * the line's start and end (exclusive); perms its four letters, e.g. "r-xp".
 */
export interface MapLine {
  name: string;
  start: bigint;
  end: bigint;
  perms: string;
}

/** Facts that expectations may name through `$` symbols. */
export interface Env {
  pid?: bigint;
  tid?: bigint;
  ppid?: bigint;
  uid?: bigint;
  gid?: bigint;
  /** Address of the entry instruction and of the instruction after it. */
  entry_ip?: bigint;
  next_ip?: bigint;
  /** Resolved addresses of memory regions and numbers of fds, by name. */
  bufs?: Record<string, bigint>;
  fds?: Record<string, bigint>;
  unmapped?: bigint;
  /** Anything else a target knows (e.g. vdso base, AT_SYSINFO). */
  extra?: Record<string, bigint>;
}

export type Outcome =
  | 'returned' // control came back to the instruction after the entry
  | 'signal' // a synchronous signal stopped the case (Observation.signal)
  | 'exited' // the (forked) case process exited (Observation.exit.code)
  | 'killed' // the (forked) case process died of a signal (Observation.exit.signal)
  | 'timeout' // the case exceeded its time limit and was killed
  | 'error' // the target could not run the case (probe crash, garbage): a failure
  | 'unsupported'; // the target cannot do what the case asks: a SKIP with `reason`

export interface TraceEvent {
  kind: string;
  [field: string]: unknown;
}

/** What happened — one shape for every target. */
export interface Observation {
  id: string;
  outcome: Outcome;
  reason?: string;
  /** Registers as loaded just before the entry instruction (rflags as read back). */
  before: RegFile;
  /** Registers right after control came back (returned outcome). */
  after?: RegFile;
  signal?: SignalInfo;
  /** Number of SIGTRAPs (single-step traps) delivered while the case ran with TF. */
  traps?: number;
  /** The first TRAP_LOG_MAX of those traps, in order: where each hit and the flags its handler
   *  ran with. Natively it includes the probe's own instructions around the entry. */
  trap_log?: TrapHit[];
  /** Signals delivered to 'record' handlers, in order. */
  delivered?: SignalInfo[];
  exit?: { code?: number; signal?: number };
  /** Memory read back after the call, lowercase hex, by region name. */
  memory?: Record<string, string>;
  /** Case.observe 'auxv': the auxiliary vector the process got at exec, by AT_* name
   *  (an unnamed type as AT_<n>). Absent: not asked for, or the target cannot tell. */
  auxv?: Record<string, bigint>;
  /** Case.observe 'maps': the bracketed special mappings after the call, in address order. */
  maps?: MapLine[];
  env: Env;
  /** Trace events in order; ptrace stops are PtraceStopEvent (kind 'ptrace'). */
  events?: TraceEvent[];
  /** Human-readable steps (the simulator's explanation of the path). */
  steps?: string[];
  /** What the after-call steps saw (Case.segs, Case.peek, Case.compatStack): selectors as read
   *  back after the loads, the 8 bytes read (little-endian), the 32-bit value the compat code
   *  popped. Absent when the case asked for neither. */
  post?: { segs?: Partial<Record<DataSeg, bigint>>; peek?: bigint; compat_stack?: bigint };
  /**
   * One entry per seccomp install the case's set-up made (Case.seccomp: each filter, then strict),
   * in order (SC-06). A refusal does not stop the case: the later installs and the call still
   * run, and check() makes an unexpected refusal an `error`.
   */
  seccomp_install?: SeccompInstallResult[];
  /** SC-04: the supervisor's view, when the case had Case.seccomp.notify and it ran. */
  notify?: NotifyObservation;
  /**
   * Case.thread: present only when the main thread outlived the second thread and reported
   * (so the process was alive). A process killed as a whole has outcome `killed` with
   * exit.signal and no `thread`; a second thread killed alone has outcome `killed`, no `exit`,
   * and thread.ended 'killed'.
   */
  thread?: ThreadReport;
  /** The raw return value of each set-up call (Case.setup), in order, at the ABI's width: the
   *  expected-value symbols `$setup.N.ret` read them. */
  setup_ret?: bigint[];
  /** The raw return value of each after-call (Case.after), in order (`$after.N.ret`). */
  after_ret?: bigint[];
}

export type Vendor = 'intel' | 'amd' | 'unknown';
export type VsyscallMode = 'emulate' | 'xonly' | 'none';

/** What a target is: kernel version, CPU vendor and configuration (DESIGN.md principle 3). */
export interface Profile {
  name: string;
  /** Kernel version the target behaves as, "major.minor[.patch]". */
  kernel: string;
  vendor: Vendor;
  /** ia32 emulation enabled (int $0x80, 32-bit processes). */
  ia32: boolean;
  /** x32 syscalls configured. */
  x32: boolean;
  vsyscall: VsyscallMode;
  fred: boolean;
  /** Further capabilities: 'seccomp', 'ptrace', 'fsgsbase', 'la57', ... */
  features: string[];
}

export interface TargetInfo {
  name: string;
  /** The implementation's own version (an emulator's version string, the sim's version). */
  version: string;
  profile: Profile;
  /** Which ABIs' code the target can run at all, and why not. */
  abis: Record<Abi, { ok: boolean; reason?: string }>;
}

export interface RunContext {
  signal?: AbortSignal;
  /** Called once per finished case (for progress display). */
  onObservation?(o: Observation): void;
  /** Ask targets that can (the simulator) to fill Observation.steps. */
  explain?: boolean;
}

/** Every implementation behind one tiny interface (cf. eshost). */
export interface Target {
  readonly name: string;
  describe(): Promise<TargetInfo>;
  /** Run cases; one Observation per Case, same order. Never throws for a case's failure. */
  run(cases: readonly Case[], ctx?: RunContext): Promise<Observation[]>;
  close?(): Promise<void>;
}

export type Status = 'pass' | 'fail' | 'skip' | 'xfail' | 'xpass' | 'error';

export interface Diff {
  /** What was compared, e.g. "rcx", "signal.signo", "memory.buf", "preserved rbx". */
  field: string;
  expected: string;
  observed: string;
  note?: string;
}

export interface Result {
  caseId: string;
  specId: string;
  abi: Abi;
  target: string;
  status: Status;
  /** Skip/xfail reason, or the failure's one-line summary. */
  reason?: string;
  diffs: Diff[];
  observation?: Observation;
  durationMs?: number;
}
