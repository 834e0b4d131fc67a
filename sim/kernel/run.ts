// Run one Case on the simulator: build the process (ids, fds, memory, signals, TLS), boot the
// CPU, load the registers, execute the entry instruction on the CPU layer, run the kernel's
// entry path, return to user mode, and report an Observation in the shape native probes give.
// The simulator computes; it never sees a spec's expectations.

import type { Case, Observation, Operand, Profile, RegFile, Gpr, SignalInfo, SeccompSetup, SeccompInstallResult, SetupCall } from '../../harness/contracts.js';
import { ARG_REGS, GPRS64 } from '../../harness/contracts.js';
import { CALL_LIST_WORD, setupEntryOf, setupFailure, type CallListKey } from '../../harness/spec/setup.js';
import { RFLAGS, SELECTORS, SIGNALS, SI_CODES, VSYSCALL_ADDR, GDT_ENTRY_TLS_MIN } from '../../abi/constants.js';
import { syscall as cpuSyscall } from '../cpu/syscall.js';
import { sysenter as cpuSysenter } from '../cpu/sysenter.js';
import { intn } from '../cpu/interrupt.js';
import { userState } from '../cpu/linux.js';
import type { InsnResult } from '../cpu/api.js';
import { Process, nullFile, memFile, pipePair, SIG_IGN } from './process.js';
import { PAGE_SIZE, PROT_EXEC, PROT_READ, PROT_WRITE, TASK_SIZE_MAX, IA32_TASK_SIZE, pageDown, pageUp, isCanonical } from './mm.js';
import { Kernel, RECORD_HANDLER } from './kernel.js';
import { entrySyscall64 } from './entry64.js';
import { entryInt80, entrySysenter, entrySyscallCompat, VDSO32 } from './entry_compat.js';
import { NotModelled } from './syscalls/types.js';
import type { PtRegs } from './dispatch.js';
import { SeccompState, type InstallResult } from './seccomp/filter.js';
import { installThreaded, threadReport } from './thread.js';
import { NotifySupervisor } from './seccomp/notify.js';
import { SECCOMP_FILTER_FLAG } from '../../harness/seccomp/uapi.js';
import { attachTracer, tracerOf } from './ptrace.js';
import { SA_RESTART, SA_RESTORER, SA_SIGINFO } from './restart.js';
import { attachFtrace, ftraceEvents } from './ftrace.js';
import { WouldBlock } from './syscalls/io.js';
import { vdsoCall, vsyscallCall } from './vdso.js';
import { simAuxv, simMaps, vvarLayout } from './auxv.js';
import { push32, pop32 } from '../cpu/stack.js';
import { GDT_INDEX } from '../cpu/linux.js';
import { retireInstruction, singleStepTrap, type InsnBreakpoint } from '../cpu/debug.js';
import { hwBreakpointUnsupported, userInsnBreakpoint } from './hw_breakpoint.js';
import { runBefore, runNop } from './before.js';
import { RT32, RT64, RTX32, UC, frameAddress, sigcontext32, sigcontext64, type SavedUser } from './sigframe.js';
import { le as leBytesN } from './syscalls/types.js';

/** Where the probe's 64-bit restorer executes its SYSCALL (in the handler page; see ptrace.ts). */
const RESTORER64_SYSCALL = RECORD_HANDLER + 0x100n;

const USER32_CS_INDEX = GDT_INDEX.USER32_CS;
const USER_CS_INDEX = GDT_INDEX.USER_CS;
const leBytesU32 = (v: bigint): number[] => [0, 8, 16, 24].map((s) => Number((v >> BigInt(s)) & 0xffn));

const MASK32 = 0xffffffffn;
const VDSO64_SIZE = 2n * PAGE_SIZE;
/** The 32-bit vDSO image is two pages too on current kernels (a 6.18 i386 process's [vdso] line). */
const VDSO32_SIZE = 2n * PAGE_SIZE;

/**
 * The selector start_thread_common (arch/x86/kernel/process_64.c) loads into DS and ES at exec:
 * start_thread passes 0 for a 64-bit program; compat_start_thread passes __USER_DS for both
 * i386 and x32 programs (only CS differs between those two). Neither SYSRET nor IRET in
 * 64-bit mode touches DS/ES afterwards, so this is what a program sees at every return.
 */
export function startThreadDataSelector(abi: Case['abi']): number {
  return abi === 'x86_64' ? 0 : SELECTORS.USER_DS;
}

/** Fixed layout of the simulated process (chosen to look like a typical static probe). */
export const LAYOUT = {
  code64: 0x401000n,
  code32: 0x08049000n,
  stackTop64: 0x7ffffffde000n + 0x21000n,
  stackTop32: 0xfffdd000n,
  /** Stack for 32-bit code run by a 64-bit process (a MAP_32BIT-style low stack). */
  stackTopLow: 0x7f000000n,
  bufs64: 0x7ffff7a00000n,
  bufsLow: 0x10000000n,
  tls64: 0x7ffff7d80000n,
  tls32: 0xf7d80000n,
  vdso64: 0x7ffff7fc1000n,
  vdso32: 0xf7fc7000n,
  brk64: 0x4c1000n,
  brk32: 0x0810c000n,
  /** An address with nothing mapped within a page on either side, reachable by 32-bit code. */
  unmapped: 0x0000dead0000n,
  /** Case.compatStack from a 64-bit process: the probe's 32-bit thunk and its MAP_32BIT stack. */
  compatThunk: 0x7e000000n,
  compatStackTop: 0x7e200000n,
} as const;

export interface RunOptions {
  explain?: boolean;
  /** Wall-clock nanoseconds the virtual clock starts at (default: now). */
  now?: bigint;
}

const INSN_LEN: Record<string, number> = { syscall: 2, int80: 2, sysenter: 2, vdso: 6, vdso_fn: 5, vsyscall: 5, sigreturn: 2, exec: 0, none: 1 };

function unsupported(c: Case, reason: string, steps?: string[] | null): Observation {
  const o: Observation = { id: c.id, outcome: 'unsupported', reason, before: {}, env: {} };
  if (steps) o.steps = steps;
  return o;
}

export function runCase(c: Case, profile: Profile, opts: RunOptions = {}): Observation {
  if (c.abi === 'x32' && !profile.x32) return unsupported(c, `x32 is not configured in profile ${profile.name}: an x32 program cannot be executed (ENOEXEC)`);
  if ((c.abi === 'i386' || c.code === 'compat') && !profile.ia32 && c.abi === 'i386') {
    return unsupported(c, `ia32 emulation is off in profile ${profile.name}: a 32-bit program cannot be executed`);
  }
  if (c.abi === 'i386' && c.code === '64') return unsupported(c, 'an i386 process cannot run 64-bit code');
  try {
    const r = new CaseRun(c, profile, opts);
    const o = r.run();
    if (r.installResults && o.outcome !== 'unsupported' && o.outcome !== 'error') o.seccomp_install = r.installResults;
    // SC-04: what the supervisor saw, as the probe reports it (probes/notify.c).
    if (c.seccomp?.notify && o.outcome !== 'unsupported' && o.outcome !== 'error') {
      const sup = r.k.seccomp?.supervisor;
      o.notify = sup ? { ...sup.seen } : { note: 'no listener: no install with new_listener succeeded' };
      if (sup && !sup.seen.received) o.notify.note = 'the supervisor was still waiting for a notification';
    }
    return o;
  } catch (e) {
    if (e instanceof NotModelled) return unsupported(c, e.message.startsWith('not modelled') ? e.message : `not modelled: ${e.message}`);
    throw e;
  }
}

class CaseRun {
  readonly c: Case;
  readonly p: Process;
  readonly k: Kernel;
  readonly code32: boolean;
  bufs: Record<string, bigint> = {};
  fdNums: Record<string, bigint> = {};
  entryIp = 0n;
  nextIp = 0n;
  before: RegFile = {};

  constructor(c: Case, profile: Profile, opts: RunOptions) {
    this.c = c;
    this.code32 = c.code === 'compat';
    const p = new Process(profile, c.abi, opts.now ?? BigInt(Date.now()) * 1_000_000n);
    this.p = p;
    this.setupProcess();
    this.k = new Kernel(profile, p, !!opts.explain);
    this.k.caseActions = { ...c.signals.actions };
    // RG-06: a busy sibling shares the task's CPU, so every sleep switches to it (sched.ts).
    this.k.contend = !!c.contend;
    // Set-up calls (Case.setup) first, as the probe makes them: before any filter or tracer.
    if (c.setup) this.runSetup(c.setup);
    // Case.thread: the call runs in a second task, filters installed around its clone (thread.ts).
    if (c.thread) {
      const r = installThreaded(c, profile, this.p, this.k);
      if ('error' in r) this.installError = r.error;
      else if (c.seccomp) this.installResults = r.results;
    } else if (c.seccomp) this.installSeccomp(c.seccomp, profile);
    // The case runs under a tracer (issue 7): its stops end up in Observation.events.
    if (c.ptrace) attachTracer(this.k, c.ptrace);
    // ftrace syscall events of the call (issue 7, sim/kernel/ftrace.ts).
    if (c.ftrace) attachFtrace(this.k);
  }

  /** Why the case cannot run here (a set-up the model does not have), if so. */
  installError: string | null = null;
  /** Why a set-up call made the case an error ("set-up call N (name) returned -ERRNO"), if one did. */
  setupError: string | null = null;
  /** Raw results of the set-up calls and after-calls (Observation.setup_ret / after_ret). */
  setupRet: bigint[] = [];
  afterRet: bigint[] | null = null;

  /**
   * Case.after: right after the call under test came back to user mode, the same calls as
   * set-up calls make (runSetup), through the real entry paths, so their clock readings and CPU
   * numbers come from the same model as the call's. The registers after the call are kept first
   * (Observation.after is the call's, not theirs); the CPU's user state is put back afterwards
   * for the after-call steps, so the sim does not model what these calls' own exits do to the
   * selectors.
   */
  private runAfter(calls: readonly SetupCall[]): void {
    const { k } = this;
    const cpu = k.cpu;
    this.afterRegs = k.userRegs();
    const saved = {
      gpr: { ...cpu.gpr }, rip: cpu.rip, rflags: cpu.rflags, mode: cpu.mode, cpl: cpu.cpl,
      segs: (['cs', 'ss', 'ds', 'es', 'fs', 'gs'] as const).map((sg) => [sg, { ...cpu.seg[sg] }] as const),
    };
    this.runSetup(calls, 'after');
    Object.assign(cpu.gpr, saved.gpr);
    cpu.rip = saved.rip;
    cpu.rflags = saved.rflags;
    cpu.mode = saved.mode;
    cpu.cpl = saved.cpl;
    for (const [sg, v] of saved.segs) Object.assign(cpu.seg[sg], v);
  }

  /**
   * Case.setup: each call goes through the kernel's own entry path, as the probe makes it (probes/
   * setup.c): SYSCALL from 64-bit code (x86_64, x32) or int $0x80 from 32-bit code (i386), with
   * the number in RAX and the arguments in the ABI's registers, everything else zero. What the
   * call changes (the LDT, TLS entries, bases, mappings) is the process's state the case's own
   * call then meets; the registers are loaded afresh for the case afterwards (run()).
   */
  private runSetup(calls: readonly SetupCall[], key: CallListKey = 'setup'): void {
    const { k, c } = this;
    const what = CALL_LIST_WORD[key];
    const rets: bigint[] = key === 'setup' ? this.setupRet : (this.afterRet = []);
    const cpu = k.cpu;
    const i386 = c.abi === 'i386';
    const argRegs = ARG_REGS[i386 ? '32' : '64'];
    const top = i386 ? LAYOUT.stackTop32 : LAYOUT.stackTop64;
    for (const [i, s] of calls.entries()) {
      // `entry: int80` from the 64-bit code of an x86_64/x32 process: the i386 registers.
      const int80 = setupEntryOf(c.abi, s) === 'int80';
      const regsOf = int80 ? ARG_REGS['32'] : argRegs;
      k.syncTls();
      userState(cpu, i386 ? 'compat' : '64');
      for (const r of GPRS64) cpu.gpr[r] = 0n;
      cpu.gpr.rsp = top - 0x1000n;
      s.args.forEach((a, j) => { cpu.gpr[regsOf[j]!] = i386 ? this.resolve(a) & MASK32 : this.resolve(a); });
      cpu.gpr.rax = s.nr;
      // The probe's set-up code lives with its other code: the usual code page of the ABI.
      cpu.rip = i386 ? LAYOUT.code32 : LAYOUT.code64;
      cpu.rflags = RFLAGS.IF | RFLAGS.FIXED1;
      k.note(`${what} ${i + 1}: ${s.name} (nr ${s.nr}) through ${int80 ? 'int $0x80' : 'SYSCALL'}`);
      const r = int80 ? intn(cpu, 0x80, 2) : cpuSyscall(cpu, 2);
      k.flushCpuTrace();
      if (!r.ok) {
        // int $0x80 without ia32 emulation is a #GP (the IDT gate is absent): the case cannot start.
        this.setupError = `${what} ${i + 1} (${s.name}): the entry instruction faulted (${r.fault.why})`;
        return;
      }
      const ex = int80 ? entryInt80(k) : entrySyscall64(k);
      k.flushCpuTrace();
      if (!ex.res.ok || k.stop || k.forced || this.p.exited) {
        this.setupError = `${what} ${i + 1} (${s.name}) did not return to user mode`;
        return;
      }
      rets.push(i386 ? cpu.gpr.rax & MASK32 : cpu.gpr.rax);
      const why = setupFailure(s, i, cpu.gpr.rax, i386 ? 32 : 64, key);
      if (why) {
        this.setupError = why;
        return;
      }
    }
  }
  /** Each seccomp install's result, in order (Observation.seccomp_install, SC-06). */
  installResults: SeccompInstallResult[] | null = null;

  /**
   * The probe's recipe (probes/seccomp.c): per filter PR_SET_NO_NEW_PRIVS (sticky once set)
   * unless the spec says no_new_privs: false, then seccomp(SECCOMP_SET_MODE_FILTER); a final
   * SECCOMP_SET_MODE_STRICT when asked. The sim's task never has CAP_SYS_ADMIN (the probe drops
   * it where NNP is left off), so the kernel's "NNP or CAP_SYS_ADMIN" check is decided by NNP.
   * A refusal is recorded and the set-up goes on, as the probe does.
   */
  private installSeccomp(setup: SeccompSetup, profile: Profile): void {
    const sc = new SeccompState({ kernel: profile.kernel });
    this.k.seccomp = sc;
    const results: SeccompInstallResult[] = [];
    const put = (r: InstallResult) => results.push(r.ok ? { ret: 0, errno: 0 } : { ret: -1, errno: r.errno });
    const creds = () => ({ noNewPrivs: this.p.noNewPrivs, capSysAdmin: false });
    if (setup.mode === 'strict') {
      this.p.noNewPrivs = true;
      put(sc.install({ mode: 'strict' }, creds()));
    } else {
      setup.filters.forEach((prog, i) => {
        const o = setup.opts?.[i];
        if (o?.noNewPrivs !== false) this.p.noNewPrivs = true;
        const r = sc.install({ mode: 'filter', program: o?.nullProgram ? null : prog, flags: o?.flags ?? 0 }, creds());
        // SC-04: a NEW_LISTENER install returns the listener fd, the lowest free descriptor
        // (seccomp_set_mode_filter: get_unused_fd_flags, then fd_install); the case's
        // supervisor reads it (sim/kernel/seccomp/notify.ts).
        if (r.ok && r.listener) {
          const fd = this.p.lowestFree();
          this.p.install(fd, nullFile());
          results.push({ ret: fd, errno: 0 });
          sc.supervisor = new NotifySupervisor(setup.notify, profile.kernel);
        } else put(r);
      });
      if (setup.thenStrict) put(sc.install({ mode: 'strict' }, creds()));
    }
    this.installResults = results;
    this.p.seccompMode = sc.prctlValue;
  }

  private setupProcess(): void {
    const c = this.c;
    const p = this.p;
    p.pid = 4242n;
    p.tid = 4242n;
    p.ppid = 4241n;
    p.pgid = 4242n;
    p.uid = p.euid = 1000n;
    p.gid = p.egid = 1000n;
    const is32 = p.is32;
    // Standard streams and the case's descriptors, opened in order like the probe does.
    for (let i = 0; i < 3; i++) p.install(i, nullFile());
    const nullFd = p.lowestFree();
    p.install(nullFd, nullFile());
    this.fdNums['null'] = BigInt(nullFd);
    let closed = 900;
    for (const f of c.fds) {
      const bytes = hexBytes(f.hex);
      if (f.kind === 'null') {
        const n = p.lowestFree();
        p.install(n, nullFile());
        this.fdNums[f.name] = BigInt(n);
      } else if (f.kind === 'file') {
        const n = p.lowestFree();
        p.install(n, memFile(bytes));
        this.fdNums[f.name] = BigInt(n);
      } else if (f.kind === 'pipe') {
        const { r, w } = pipePair(bytes);
        const rn = p.lowestFree();
        p.install(rn, r);
        const wn = p.lowestFree();
        p.install(wn, w);
        this.fdNums[`${f.name}.r`] = BigInt(rn);
        this.fdNums[`${f.name}.w`] = BigInt(wn);
      } else {
        this.fdNums[f.name] = BigInt(closed++);
      }
    }
    // Code: the entry instruction at entry_ip, next_ip after it.
    const len = BigInt(INSN_LEN[c.entry] ?? 2);
    if (c.placeNextIp !== undefined) {
      this.nextIp = c.placeNextIp;
      this.entryIp = c.placeNextIp - len;
    } else {
      this.entryIp = this.code32 ? LAYOUT.code32 : LAYOUT.code64;
      this.nextIp = this.entryIp + len;
    }
    const limit = this.code32 ? IA32_TASK_SIZE : TASK_SIZE_MAX;
    const codeStart = pageDown(this.entryIp);
    const codeEnd = pageUp(this.nextIp);
    if (this.entryIp < 0x10000n || this.entryIp >= limit || codeEnd > limit + PAGE_SIZE) {
      throw new NotModelled(`the entry instruction cannot be placed at 0x${this.entryIp.toString(16)}: user code must lie in [0x10000, 0x${limit.toString(16)}) (mmap/mremap would fail there)`);
    }
    // Only the pages holding the entry instruction are mapped; the page of next_ip is mapped
    // only if the instruction reaches into it (so a syscall at the end of the last page falls
    // through into whatever is — or is not — there, as in sysret_rip.c).
    const lastByte = this.nextIp - 1n;
    if (c.placeNextIp === undefined) p.mm.mapFresh(codeStart, pageUp(lastByte + 1n), PROT_READ | PROT_EXEC, 'code');
    else p.mm.map(codeStart, pageUp(lastByte + 1n) - codeStart, PROT_READ | PROT_EXEC, 'code');
    if (this.nextIp > codeEnd - PAGE_SIZE && this.nextIp < limit && c.placeNextIp === undefined) {
      p.mm.map(pageDown(this.nextIp), PAGE_SIZE, PROT_READ | PROT_EXEC, 'code');
    }
    if (c.placeNextIp === undefined) p.mm.mapFresh(RECORD_HANDLER, RECORD_HANDLER + PAGE_SIZE, PROT_READ | PROT_EXEC, 'probe handlers');
    // Stack.
    const top = is32 ? LAYOUT.stackTop32 : this.code32 ? LAYOUT.stackTopLow : LAYOUT.stackTop64;
    this.fixedMap(top - 0x21000n, top, PROT_READ | PROT_WRITE, '[stack]');
    // TLS: glibc's thread block through FS (64-bit) or GDT entry 12 via GS = 0x63 (i386).
    if (is32) {
      this.fixedMap(LAYOUT.tls32, LAYOUT.tls32 + PAGE_SIZE, PROT_READ | PROT_WRITE, 'tls');
      p.tls[0] = { entry: GDT_ENTRY_TLS_MIN, base: LAYOUT.tls32, limit: 0xfffff, seg32: true, contents: 0, readExecOnly: false,
        limitInPages: true, notPresent: false, useable: true, lm: false };
      p.gsSel = SELECTORS.TLS0;
    } else {
      const tls = c.abi === 'x32' ? LAYOUT.tls32 : LAYOUT.tls64;
      this.fixedMap(tls, tls + PAGE_SIZE, PROT_READ | PROT_WRITE, 'tls');
      p.fsBase = tls;
    }
    // brk and vDSO.
    p.brkStart = p.brk = is32 ? LAYOUT.brk32 : LAYOUT.brk64;
    // Memory regions.
    let low = LAYOUT.bufsLow;
    let high = LAYOUT.bufs64;
    for (const m of c.memory) {
      const size = BigInt(m.size);
      let at: bigint;
      if (m.at !== undefined) at = m.at;
      else if (m.place === 'end_of_page') {
        const pages = pageUp(size);
        const base = is32 || this.code32 ? low : high;
        at = base + pages - size;
        if (is32 || this.code32) low += pages + 2n * PAGE_SIZE;
        else high += pages + 2n * PAGE_SIZE;
      } else if (m.place === 'low32' || is32 || c.abi === 'x32') {
        at = low;
        low += pageUp(size) + PAGE_SIZE;
      } else {
        at = high;
        high += pageUp(size) + PAGE_SIZE;
      }
      const prot = m.prot === 'none' ? 0 : m.prot === 'r' ? PROT_READ : PROT_READ | PROT_WRITE;
      p.mm.map(at, size, prot, `buf:${m.name}`);
      const bytes = new Uint8Array(m.size).fill(m.fill);
      bytes.set(hexBytes(m.hex).subarray(0, m.size));
      p.mm.poke(at, bytes);
      this.bufs[m.name] = at;
    }
    // Signal dispositions the probe installs for the case: SA_SIGINFO | SA_RESTORER (glibc's
    // sigaction adds its restorer), plus SA_RESTART where the case asks for it, which
    // handle_signal reads (sim/kernel/restart.ts).
    const restart = new Set(c.signals.restart ?? []);
    for (const [sig, d] of Object.entries(c.signals.actions)) {
      const h = d === 'ignore' ? SIG_IGN : d === 'record' ? RECORD_HANDLER : 0n;
      const flags = SA_SIGINFO | SA_RESTORER | (restart.has(Number(sig)) ? SA_RESTART : 0n);
      p.actions.set(Number(sig), { handler: h, flags, restorer: 0n, mask: 0n });
    }
    for (const s of c.signals.blocked) p.blocked |= 1n << BigInt(s - 1);
  }

  /** Map part of the fixed layout: without overlap checks unless the case placed its code itself. */
  private fixedMap(start: bigint, end: bigint, prot: number, name: string): void {
    if (this.c.placeNextIp === undefined) this.p.mm.mapFresh(start, end, prot, name);
    else this.p.mm.map(start, end - start, prot, name);
  }

  private resolve(o: Operand): bigint {
    let v: bigint;
    switch (o.ref) {
      case undefined: v = o.lit ?? 0n; break;
      case 'buf': {
        const b = this.bufs[o.name ?? ''];
        if (b === undefined) throw new NotModelled(`operand buf:${o.name} names no memory region of the case`);
        v = b;
        break;
      }
      case 'unmapped': v = LAYOUT.unmapped; break;
      case 'fd': {
        const f = this.fdNums[o.name ?? ''];
        if (f === undefined) throw new NotModelled(`operand fd:${o.name} names no descriptor of the case`);
        v = f;
        break;
      }
      case 'pid': v = this.p.pid; break;
      case 'tid': v = this.p.tid; break;
      case 'ppid': v = this.p.ppid; break;
      case 'uid': v = this.p.uid; break;
      case 'gid': v = this.p.gid; break;
      case 'rflags_in': v = this.c.rflags; break;
    }
    v = (v + (o.add ?? 0n)) | (o.or ?? 0n);
    return BigInt.asUintN(this.code32 ? 32 : 64, v);
  }

  run(): Observation {
    const { c, k } = this;
    if (this.installError) return { id: c.id, outcome: 'unsupported', reason: this.installError, before: {}, env: {} };
    if (this.setupError) return { id: c.id, outcome: 'error', reason: this.setupError, before: {}, env: {} };
    // RT-04: the case's instruction breakpoint goes in DR0 (perf's first free slot).
    if (c.breakpoint) {
      const why = hwBreakpointUnsupported(k);
      if (why) return unsupported(c, why);
      this.bps = [{ dr: 0, addr: this.nextIp }];
    }
    if (c.abi !== 'i386') {
      k.vdso64Base = LAYOUT.vdso64;
      this.fixedMap(LAYOUT.vdso64, LAYOUT.vdso64 + VDSO64_SIZE, PROT_READ | PROT_EXEC, '[vdso]');
    } else {
      k.vdso32Base = LAYOUT.vdso32;
      this.fixedMap(LAYOUT.vdso32, LAYOUT.vdso32 + VDSO32_SIZE, PROT_READ | PROT_EXEC, '[vdso]');
    }
    // The vDSO's data pages sit right below its text (vma.c map_vdso; sim/kernel/auxv.ts).
    for (const v of vvarLayout(k.profile, k.vdso32Base ?? k.vdso64Base!)) this.fixedMap(v.start, v.end, PROT_READ, v.name);
    if (this.k.profile.vsyscall !== 'none' && c.abi !== 'i386') {
      // The vsyscall page: a user VMA; 'xonly' has no readable PTE, so every access #PFs
      // without the P bit and the fault handler emulates calls (vsyscall_64.c).
      const v = this.p.mm.mapFresh(VSYSCALL_ADDR, VSYSCALL_ADDR + PAGE_SIZE, PROT_EXEC | (this.k.profile.vsyscall === 'emulate' ? PROT_READ : 0), '[vsyscall]');
      v.present = this.k.profile.vsyscall === 'emulate';
      if (v.present) this.p.mm.poke(VSYSCALL_ADDR, vsyscallImage());
    }
    if (c.entry === 'exec') return this.exec();
    k.syncTls();
    userState(k.cpu, this.code32 ? 'compat' : '64');
    // 32-bit code in a 64-bit process runs with the DS/ES its own far-jump stub loaded (the
    // process's SS, as userState leaves them); otherwise the exec-time selectors stand.
    if (!this.code32) this.loadStartThreadDataSegments();
    const cpu = k.cpu;
    if (this.p.is32) {
      const r = cpu.loadSegment('gs', this.p.gsSel);
      if (!r.ok) throw new Error(`loading the TLS selector failed: ${r.fault.why}`);
    } else {
      cpu.seg.fs.base = this.p.fsBase;
    }
    // Registers: the stack pointer first (cases rarely set it), then the case's values.
    const top = this.p.is32 ? LAYOUT.stackTop32 : this.code32 ? LAYOUT.stackTopLow : LAYOUT.stackTop64;
    cpu.gpr.rsp = top - 0x1000n;
    for (const [r, o] of Object.entries(c.regs) as [Gpr, Operand][]) cpu.gpr[r] = this.resolve(o);
    if (this.code32) for (const r of GPRS64) cpu.gpr[r] &= MASK32;
    cpu.rip = this.entryIp;
    cpu.rflags = c.rflags | RFLAGS.FIXED1;
    this.before = beforeRegs(cpu.gpr, this.code32);
    this.before.rflags = cpu.rflags;
    // Guarded so the hex text is only built when explaining.
    // The CPU's set-up steps (boot MSRs, user segments) come first in the explanation.
    k.flushCpuTrace();
    if (k.steps) k.note(`user: ${c.entry} at 0x${this.entryIp.toString(16)} (${this.code32 ? 'compat' : '64-bit'} code), next_ip 0x${this.nextIp.toString(16)}`);

    // RG-06 (Case.contend): the call and its after-call steps run `repeat` rounds in a row, as
    // the probe does, stopping at the first round that does not return; the observation is
    // the last round's. Each round starts from the registers and data selectors loaded for
    // the first (the probe reloads them), but SS and the rest of the CPU carry over.
    const rounds = c.contend?.repeat ?? 1;
    const start = { gpr: { ...cpu.gpr }, segs: (['ds', 'es', 'fs', 'gs'] as const).map((sg) => ({ ...cpu.seg[sg] })) };
    for (let round = 1; ; round++) {
      this.roundsRun = round;
      try {
        // Case.before: the FSGSBASE instructions right before the entry (sim/kernel/before.ts);
        // natively they sit in a page of their own that jumps to the entry instruction.
        if (!c.before || runBefore(k, c.before, this.entryIp - 5n * BigInt(c.before.length))) {
          this.enter();
          this.restarts();
        }
      } catch (e) {
        if (e instanceof WouldBlock) {
          k.stop = { kind: 'timeout', reason: e.message };
        } else throw e;
      }
      // Case.after: the calls right after the call under test, before the after-call steps.
      if (!k.stop && !this.p.exited && c.after) {
        this.runAfter(c.after);
        if (this.setupError) return { ...this.observe(), outcome: 'error', reason: this.setupError };
      }
      if (!k.stop && !this.p.exited && (c.segs || c.peek || c.compatStack !== undefined)) {
        // `after` is the state right after the entry, before the after-call steps change selectors.
        this.afterRegs = k.userRegs();
        this.postSteps();
      }
      if (round >= rounds || k.stop || this.p.exited) break;
      Object.assign(cpu.gpr, start.gpr);
      (['ds', 'es', 'fs', 'gs'] as const).forEach((sg, i) => Object.assign(cpu.seg[sg], start.segs[i]));
      cpu.rip = this.entryIp;
      cpu.rflags = c.rflags | RFLAGS.FIXED1;
      if (k.steps) k.note(`contend: round ${round + 1} of ${rounds}`);
    }
    return this.observe();
  }

  /** Armed instruction breakpoints (Case.breakpoint, RT-04; sim/cpu/debug.ts). */
  bps: InsnBreakpoint[] = [];

  /** Rounds of call and after-call steps that ran (Case.contend; env.extra.contend_rounds). */
  roundsRun = 0;

  /** Execute the entry instruction and whatever the kernel does until user mode resumes. */
  private enter(): void {
    const { c, k } = this;
    const cpu = k.cpu;
    switch (c.entry) {
      case 'syscall': {
        const r = cpuSyscall(cpu, 2);
        k.flushCpuTrace();
        if (!r.ok) return k.userFault(r.fault, this.entryIp);
        if (cpu.traits.fred && this.code32) {
          return k.userFault({ vector: 'UD', errorCode: 0, cpl: 3, why: 'FRED: SYSCALL from compatibility mode' }, this.entryIp);
        }
        const ex = this.code32 ? entrySyscallCompat(k) : entrySyscall64(k);
        return this.afterExit(ex.res, ex.regs);
      }
      case 'int80': {
        const r = intn(cpu, 0x80, 2);
        k.flushCpuTrace();
        if (!r.ok) return k.userFault(r.fault, this.entryIp);
        const ex = entryInt80(k);
        return this.afterExit(ex.res, ex.regs);
      }
      case 'sysenter': {
        const r = cpuSysenter(cpu, 2);
        k.flushCpuTrace();
        if (!r.ok) return k.userFault(r.fault, this.entryIp);
        const ex = entrySysenter(k);
        if (!ex.res.ok && ex.via === 'fault') return k.userFault(ex.res.fault, this.entryIp);
        return this.afterExit(ex.res, ex.regs, true);
      }
      case 'vdso':
        return this.vdsoKernelVsyscall();
      case 'vdso_fn':
        return vdsoCall(this.k, this.c, this.nextIp, () => this.afterReturn());
      case 'vsyscall':
        return vsyscallCall(this.k, this.c, this.nextIp, () => this.afterReturn());
      case 'sigreturn':
        return this.sigreturn();
      case 'none':
        // RT-03: a nop instead of the entry instruction; no kernel entry unless TF traps.
        if (runNop(k, this.entryIp, this.nextIp)) this.afterReturn();
        return;
      default:
        throw new NotModelled(`entry ${c.entry}`);
    }
  }

  /**
   * A restarted call (sim/kernel/restart.ts, or a tracer's rewind, PT-06/PT-07) came back to
   * user mode 2 bytes before where it entered: on the case's own SYSCALL/int $0x80, or on the
   * 32-bit vDSO's int $0x80 just before the landing pad (the restart point of SYSENTER and
   * compat SYSCALL, ABI-FACTS §7). Execute that instruction again, as the CPU would; a bounded
   * number of times, since a call restarted for ever never returns (the case times out).
   */
  private restarts(): void {
    const { c, k } = this;
    const cpu = k.cpu;
    const vdsoInt80 = k.vdso32Base !== null ? k.vdso32Base + VDSO32.int80 : null;
    for (let n = 1; !k.stop && !this.p.exited; n++) {
      const own = cpu.rip === this.entryIp && (c.entry === 'syscall' || c.entry === 'int80');
      if (!own && cpu.rip !== vdsoInt80) return;
      if (n > 16) {
        k.stop = { kind: 'timeout', reason: 'the call was restarted 16 times and never returned' };
        return;
      }
      k.note(`user: the ${own ? 'entry instruction' : "vDSO's int $0x80"} at 0x${cpu.rip.toString(16)} runs again (restart #${n})`);
      if (own) {
        this.enter();
        continue;
      }
      const r = intn(cpu, 0x80, 2);
      k.flushCpuTrace();
      if (!r.ok) return k.userFault(r.fault, cpu.rip);
      const ex = entryInt80(k);
      this.afterExit(ex.res, ex.regs);
    }
  }

  /**
   * The exit instruction has run (or faulted). A fault at CPL 0 on IRET is the kernel's
   * "bad IRET" fixup: it becomes a #GP from user mode with the frame's registers
   * (arch/x86/kernel/traps.c fixup_bad_iret) → SIGSEGV.
   */
  private afterExit(res: InsnResult, regs: PtRegs | null, fromLanding = false): void {
    const { k } = this;
    const cpu = k.cpu;
    if (k.p.exited || k.stop) return;
    if (!res.ok) {
      if (res.fault.cpl === 0) {
        k.note(`the exit instruction faulted in the kernel (${res.fault.why}); the kernel turns it into a user #GP`);
        if (regs) this.badReturnFixup(regs);
        else userState(cpu, this.code32 ? 'compat' : '64');
        return k.raise(SIGNALS.SIGSEGV, SI_CODES.SI_KERNEL, 0n, { trapno: 13, err: BigInt(res.fault.errorCode) });
      }
      return k.userFault(res.fault, cpu.rip);
    }
    if (k.forced) {
      const f = k.forced;
      return k.raise(f.signo, f.code, f.addr, { trapno: 0, err: 0n }, f);
    }
    if (res.pending) return k.userFault(res.pending, cpu.rip);
    // A fast 32-bit call returns to the landing pad, unless its ip was changed on the way
    // (a restart backs it up to the int $0x80 before the pad: then that runs first).
    const atPad = k.vdso32Base !== null && cpu.rip === k.vdso32Base + VDSO32.landing;
    if ((fromLanding && (k.vdso32Base === null || atPad)) || atPad) {
      if (!this.landingPad()) return;
    }
    this.afterReturn();
  }

  /**
   * The exit instruction (IRET, or ERETU under FRED) faulted at CPL 0 on a user frame: the
   * fault is reported as if user mode had raised it, with the registers of the frame that could
   * not be returned to — fixup_bad_iret (arch/x86/kernel/traps.c) copies the IRET frame into a
   * user-mode #GP frame; ex_handler_eretu (arch/x86/mm/extable.c) does the same for ERETU. The
   * GPRs were already reloaded and GS.base is the user's (the exit swapped it before IRET/ERETU),
   * and the data segments are as the exit left them; only ip, cs, flags, sp and ss come from
   * pt_regs. The selectors are reported as the frame has them even when they are unusable.
   */
  private badReturnFixup(regs: PtRegs): void {
    const cpu = this.k.cpu;
    const cs = Number(regs.cs & 0xffffn);
    const ss = Number(regs.ss & 0xffffn);
    const csL = cpu.lookup(cs);
    const ssL = cpu.lookup(ss);
    if (csL.ok && csL.desc.kind === 'code') cpu.fillCache(cpu.seg.cs, cs, csL.desc);
    else cpu.seg.cs.selector = cs;
    if (ssL.ok && ssL.desc.kind === 'data') cpu.fillCache(cpu.seg.ss, ss, ssL.desc);
    else cpu.seg.ss.selector = ss;
    cpu.cpl = 3;
    cpu.mode = csL.ok && csL.desc.kind === 'code' ? cpu.modeFromCs() : this.code32 ? 'compat' : 'long64';
    cpu.rip = regs.ip;
    cpu.gpr.rsp = regs.rsp;
    cpu.rflags = regs.flags;
  }

  /** Back in user mode at cpu.rip: TF traps, pending signals, and the next fetch. */
  private afterReturn(): void {
    const { k } = this;
    const cpu = k.cpu;
    if (k.stop || k.p.exited) return;
    // Signals pending at the exit are delivered on the way out (exit_to_user_mode_loop), before
    // any user instruction runs.
    k.deliverPending();
    if (k.stop) return;
    // RT-04: a code breakpoint is checked before the fetch (SDM Vol. 3A Table 6-2: code
    // breakpoint faults rank above faults from fetching the instruction). With TF restored by the
    // exit (only IRET/ERETU can) it still comes first: TF traps *after* an instruction, and no
    // step trap follows the IRET that set TF, so the breakpoint's #DB (DR6.B0, no BS) is the
    // first debug event at the return address and the perf SIGTRAP ends the case before any
    // single step (sim/cpu/debug.ts singleStepTrap).
    if (this.bps.length > 0 && userInsnBreakpoint(k, this.bps)) return;
    // The next instruction is fetched from cpu.rip.
    if (cpu.mode === 'long64' && !isCanonical(cpu.rip)) {
      return k.userFault({ vector: 'GP', errorCode: 0, cpl: 3, why: 'non-canonical RIP' }, cpu.rip);
    }
    const f = this.p.mm.check(cpu.rip, 1, 3, 'x');
    if (f) return k.userFault({ vector: 'PF', errorCode: f.errorCode, cpl: 3, address: cpu.rip, why: 'instruction fetch' }, cpu.rip);
    // It runs (the probe's jump back): RF, if the exit's frame set it, is cleared at its end.
    const ranAt = cpu.rip;
    const tf = (cpu.rflags & RFLAGS.TF) !== 0n;
    retireInstruction(cpu);
    if (tf) {
      // It completed with TF set: a single-step #DB (DR6.BS) → SIGTRAP TRAP_TRACE, which the
      // probe's handler counts (exc_debug_user, arch/x86/kernel/traps.c).
      singleStepTrap(cpu, ranAt);
      k.flushCpuTrace();
      // Where it hit is after the target's own instruction at next_ip: not modelled, so no ip.
      k.stepTrap(undefined);
      k.note('TF is set after the return: the instruction at the return address ran, and a single-step SIGTRAP follows it');
      if (k.caseActions[SIGNALS.SIGTRAP] === 'default' || k.caseActions[SIGNALS.SIGTRAP] === 'ignore') {
        k.stop = { kind: 'killed', signal: SIGNALS.SIGTRAP };
        return;
      }
    }
  }

  /** int80_landing_pad: pop ebp; pop edx; pop ecx; ret — the vDSO's own epilogue. */
  private landingPad(): boolean {
    const { k } = this;
    const cpu = k.cpu;
    // The pops run in compatibility mode, through SS: after an AMD SYSRETL that kept a NULL
    // SS's attributes the first one raises #SS (sim/cpu/stack.ts, RG-06).
    const pop = (): bigint | null => {
      const r = pop32(cpu);
      k.flushCpuTrace();
      if (!r.ok) {
        k.userFault(r.fault, cpu.rip);
        return null;
      }
      return r.value;
    };
    k.note('vDSO int80_landing_pad: pop ebp, pop edx, pop ecx, ret');
    // With TF (restored by the exit's IRET) each of the pad's one-byte instructions traps after
    // it runs: at pad+1, +2, +3, and after the ret at the return address.
    const tf = (cpu.rflags & RFLAGS.TF) !== 0n;
    const pad = cpu.rip;
    let i = 0n;
    for (const r of ['rbp', 'rdx', 'rcx'] as const) {
      const v = pop();
      if (v === null) return false;
      cpu.gpr[r] = v;
      if (tf) k.stepTrap(pad + ++i);
    }
    const ret = pop();
    if (ret === null) return false;
    cpu.rip = ret;
    if (tf) k.stepTrap(ret);
    if (ret !== this.nextIp) {
      const f = this.p.mm.check(ret, 1, 3, 'x');
      if (f) {
        k.userFault({ vector: 'PF', errorCode: f.errorCode, cpl: 3, address: ret, why: 'fetch after ret' }, ret);
        return false;
      }
      throw new NotModelled(`control returned from the vDSO to 0x${ret.toString(16)}, not to the instruction after the entry; the sim does not execute arbitrary code`);
    }
    return true;
  }

  /** i386 `call *AT_SYSINFO`: __kernel_vsyscall pushes ecx, edx, ebp and takes the vendor's fast path. */
  private vdsoKernelVsyscall(): void {
    const { k } = this;
    const cpu = k.cpu;
    if (k.vdso32Base === null) throw new NotModelled('__kernel_vsyscall exists only in the 32-bit vDSO');
    const push = (v: bigint): boolean => {
      const sp = (cpu.gpr.rsp - 4n) & MASK32;
      const f = this.p.mm.check(sp, 4, 3, 'w');
      if (f) {
        k.userFault({ vector: 'PF', errorCode: f.errorCode, cpl: 3, address: sp, why: 'push' }, cpu.rip);
        return false;
      }
      this.p.mm.poke(sp, new Uint8Array(new Uint32Array([Number(v & MASK32)]).buffer));
      cpu.gpr.rsp = sp;
      return true;
    };
    // With TF, the CALL and each instruction before the fast one trap after they run: at
    // __kernel_vsyscall, +1, +2, +3 (one-byte pushes) and at the fast instruction (after the
    // 2-byte movl). The fast instruction itself does not: SYSENTER/SYSCALL leave user mode.
    const tf = (cpu.rflags & RFLAGS.TF) !== 0n;
    const kv = k.vdso32Base + VDSO32.kernelVsyscall;
    if (!push(this.nextIp)) return;
    cpu.rip = kv;
    if (tf) k.stepTrap(kv);
    let i = 0n;
    for (const r of ['rcx', 'rdx', 'rbp'] as const) {
      if (!push(cpu.gpr[r])) return;
      if (tf) k.stepTrap(kv + ++i);
    }
    cpu.rip = k.vdso32Base + VDSO32.fastInsn;
    if (tf) k.stepTrap(cpu.rip);
    // The alternatives patched at boot: SYSENTER on Intel (X86_FEATURE_SYSENTER32), SYSCALL on
    // AMD (X86_FEATURE_SYSCALL32) — ABI-FACTS §3.3.
    if (cpu.traits.vendor === 'intel') {
      k.note('__kernel_vsyscall: push ecx, edx, ebp; movl %esp,%ebp; sysenter');
      cpu.gpr.rbp = cpu.gpr.rsp;
      const r = cpuSysenter(cpu, 2);
      k.flushCpuTrace();
      if (!r.ok) return k.userFault(r.fault, cpu.rip);
      const ex = entrySysenter(k);
      if (!ex.res.ok && ex.via === 'fault') return k.userFault(ex.res.fault, cpu.rip);
      return this.afterExit(ex.res, ex.regs, true);
    }
    k.note('__kernel_vsyscall: push ecx, edx, ebp; movl %ecx,%ebp; syscall');
    cpu.gpr.rbp = cpu.gpr.rcx;
    const r = cpuSyscall(cpu, 2);
    k.flushCpuTrace();
    if (!r.ok) return k.userFault(r.fault, cpu.rip);
    const ex = entrySyscallCompat(k);
    return this.afterExit(ex.res, ex.regs, true);
  }

  /**
   * Entry `sigreturn` (RT-01), as the probe does it: `int3` raises SIGTRAP; the kernel writes a
   * signal frame on the user stack (x64_setup_rt_frame, arch/x86/kernel/signal_64.c, or
   * ia32_setup_rt_frame, signal_32.c) and runs the probe's SA_SIGINFO handler; the handler
   * overwrites the frame's registers with Case.sigreturn and returns into its restorer, whose
   * rt_sigreturn is an ordinary system call: SYSCALL with rax = 15 (64-bit), or `int $0x80` with
   * eax = 173 in the vDSO's __kernel_rt_sigreturn (ia32, no SA_RESTORER). The call reads the
   * frame back from memory (sim/kernel/sigframe.ts) and the exit path of that entry — SYSRET or
   * IRET, ERETU under FRED — decides what reaches user mode.
   */
  private sigreturn(): void {
    const { c, k } = this;
    const cpu = k.cpu;
    const is32 = this.code32;
    if (is32 && !this.p.is32) throw new NotModelled('sigreturn entry from compatibility-mode code of a 64-bit process (its frame is a 64-bit one)');
    const x32 = this.c.abi === 'x32';
    const g = cpu.gpr;
    // #BP is a trap: the saved ip is the instruction after int3, RF clear (SDM Vol. 3A 6.15).
    const saved: SavedUser = {
      gpr: { rax: g.rax, rbx: g.rbx, rcx: g.rcx, rdx: g.rdx, rsi: g.rsi, rdi: g.rdi, rbp: g.rbp, rsp: g.rsp,
        r8: g.r8, r9: g.r9, r10: g.r10, r11: g.r11, r12: g.r12, r13: g.r13, r14: g.r14, r15: g.r15 },
      rip: this.nextIp, rflags: cpu.rflags & ~RFLAGS.RF,
      cs: cpu.seg.cs.selector, ss: cpu.seg.ss.selector, ds: cpu.seg.ds.selector, es: cpu.seg.es.selector,
      // setup_sigcontext (64-bit) stores 0 for fs and gs; ia32 saves the live selectors.
      fs: is32 ? cpu.seg.fs.selector : 0, gs: is32 ? cpu.seg.gs.selector : 0,
      trapno: 3, err: 0n, mask: this.p.blocked,
    };
    // The handler's view: Case.sigreturn written into the frame's mcontext (probes/probe.c
    // apply_sigreturn; a 64-bit sigcontext has no ds/es, so those are not written there).
    const over: Partial<Record<string, bigint>> = {};
    for (const [r, o] of Object.entries(c.sigreturn ?? {})) over[r] = this.resolve(o as Operand);
    for (const r of GPRS64) if (over[r] !== undefined) saved.gpr[r] = over[r]!;
    if (over.rip !== undefined) saved.rip = over.rip;
    if (over.rflags !== undefined) saved.rflags = over.rflags;
    for (const s of ['cs', 'ss', 'fs', 'gs', ...(is32 ? ['ds', 'es'] as const : [])] as const) {
      if (over[s] !== undefined) saved[s] = Number(over[s]! & 0xffffn);
    }
    // x32_setup_rt_frame (signal_64.c) aligns like the 64-bit frame: it runs in 64-bit mode.
    const size = is32 ? RT32.size : x32 ? RTX32.size : RT64.size;
    const frame = frameAddress(g.rsp, size, is32);
    const img = new Uint8Array(size);
    if (is32) {
      img.set(sigcontext32(saved), RT32.mcontext);
      img.set(leBytesN(BigInt(SIGNALS.SIGTRAP), 4), RT32.sig);
      img.set(leBytesN(saved.mask, 8), RT32.sigmask);
    } else if (x32) {
      // x32_setup_rt_frame: the same frame_uc_flags and 64-bit sigcontext in a ucontext_x32.
      img.set(leBytesN(UC.FP_XSTATE | UC.SIGCONTEXT_SS | UC.STRICT_RESTORE_SS, 4), RTX32.ucFlags);
      img.set(sigcontext64(saved), RTX32.mcontext);
      img.set(leBytesN(saved.mask, 8), RTX32.sigmask);
    } else {
      // frame_uc_flags: UC_SIGCONTEXT_SS, and UC_STRICT_RESTORE_SS for a 64-bit interrupted context.
      img.set(leBytesN(UC.FP_XSTATE | UC.SIGCONTEXT_SS | UC.STRICT_RESTORE_SS, 8), RT64.ucFlags);
      img.set(sigcontext64(saved), RT64.mcontext);
      img.set(leBytesN(saved.mask, 8), RT64.sigmask);
    }
    if (!this.p.mm.copyToUser(frame, img)) {
      throw new NotModelled(`the signal frame at 0x${frame.toString(16)} does not fit the simulated stack`);
    }
    k.note(`int3 → SIGTRAP: ${is32 ? 'ia32_setup_rt_frame' : x32 ? 'x32_setup_rt_frame' : 'x64_setup_rt_frame'} writes the frame at 0x${frame.toString(16)}; the handler rewrites ${Object.keys(over).join(', ') || 'nothing'} in it and returns to its restorer`);
    // handle_signal (arch/x86/kernel/signal.c): the handler runs with DF, RF and TF clear; its
    // `ret` pops pretcode, leaving sp just above it. The blocked mask gains the signal itself.
    cpu.rflags &= ~(RFLAGS.DF | RFLAGS.RF | RFLAGS.TF);
    this.p.blocked |= 1n << BigInt(SIGNALS.SIGTRAP - 1);
    g.rsp = frame + (is32 ? 4n : 8n);
    if (is32) {
      if (k.vdso32Base === null) throw new NotModelled('ia32 sigreturn without a 32-bit vDSO');
      // __kernel_rt_sigreturn (arch/x86/entry/vdso/vdso32/sigreturn.S): movl $173, %eax; int $0x80.
      g.rax = 173n;
      cpu.rip = k.vdso32Base + VDSO32.rtSigreturn + 5n;
      const r = intn(cpu, 0x80, 2);
      k.flushCpuTrace();
      if (!r.ok) return k.userFault(r.fault, cpu.rip);
      const ex = entryInt80(k);
      return this.afterExit(ex.res, ex.regs);
    }
    // The probe's restorer (glibc __restore_rt): mov $15, %rax; syscall — for x32, glibc's
    // x32 __restore_rt loads rt_sigreturn's x32 number, 513 | __X32_SYSCALL_BIT.
    g.rax = x32 ? 0x40000201n : 15n;
    cpu.rip = RESTORER64_SYSCALL;
    const r = cpuSyscall(cpu, 2);
    k.flushCpuTrace();
    if (!r.ok) return k.userFault(r.fault, cpu.rip);
    const ex = entrySyscall64(k);
    this.afterExit(ex.res, ex.regs);
  }

  /** Registers right after the entry, when after-call steps follow. */
  afterRegs: RegFile | null = null;
  /** What the after-call steps saw (Case.segs, Case.peek). */
  post: NonNullable<Observation['post']> | null = null;

  /**
   * Case.segs then Case.peek, run by the user code after control came back: MOV to each data
   * segment register (the CPU's descriptor checks, Intel SDM Vol. 2B MOV), then an 8-byte
   * load through the chosen segment. The descriptors are the GDT (TLS entries 12–14 as
   * set_thread_area left them) and the LDT modify_ldt wrote. A fault is delivered like any
   * user fault, with RIP at the next instruction (the probe's loads follow the entry).
   */
  private postSteps(): void {
    const { c, k } = this;
    const cpu = k.cpu;
    k.syncTls();
    k.syncLdt();
    const post: NonNullable<Observation['post']> = {};
    if (c.segs) {
      post.segs = {};
      for (const sg of ['ds', 'es', 'fs', 'gs'] as const) {
        const sel = c.segs[sg];
        if (sel === undefined) continue;
        const r = cpu.loadSegment(sg, Number(sel));
        k.flushCpuTrace();
        if (!r.ok) return k.userFault(r.fault, cpu.rip);
        k.note(`user: mov $0x${sel.toString(16)}, %${sg} (base 0x${cpu.seg[sg].base.toString(16)})`);
        post.segs[sg] = BigInt(cpu.seg[sg].selector);
      }
    }
    if (c.peek) {
      const off = this.resolve(c.peek.addr);
      const sc = c.peek.seg ? cpu.seg[c.peek.seg] : null;
      let linear: bigint;
      if (cpu.mode === 'long64') {
        // 64-bit mode: DS/ES bases are treated as 0; FS/GS use their bases (SDM Vol. 1 §3.3.7.1).
        const base = sc && (c.peek.seg === 'fs' || c.peek.seg === 'gs') ? sc.base : 0n;
        linear = BigInt.asUintN(64, base + off);
        if (!isCanonical(linear)) return k.userFault({ vector: 'GP', errorCode: 0, cpl: 3, why: 'non-canonical peek address' }, cpu.rip);
      } else {
        // Compatibility mode: the segment (DS by default) must be usable and the 8 bytes within
        // its limit, else #GP(0) (SDM Vol. 3A §5.3).
        const seg = sc ?? cpu.seg.ds;
        if (seg.unusable) return k.userFault({ vector: 'GP', errorCode: 0, cpl: 3, why: 'peek through a NULL segment' }, cpu.rip);
        if (off + 7n > BigInt(seg.limit)) return k.userFault({ vector: 'GP', errorCode: 0, cpl: 3, why: 'peek beyond the segment limit' }, cpu.rip);
        linear = (seg.base + off) & MASK32;
      }
      const f = this.p.mm.check(linear, 8, 3, 'r');
      if (f) return k.userFault({ vector: 'PF', errorCode: f.errorCode, cpl: 3, address: linear, why: 'peek' }, cpu.rip);
      post.peek = new DataView(this.p.mm.peek(linear, 8).buffer).getBigUint64(0, true);
      k.note(`user: read 8 bytes at 0x${linear.toString(16)} → 0x${post.peek.toString(16)}`);
    }
    if (c.compatStack !== undefined) {
      const v = this.compatStackStep(c.compatStack);
      if (v === null) return;
      post.compat_stack = v;
    }
    this.post = post;
  }

  /**
   * Case.compatStack (RG-06): push the value and pop it back in compatibility-mode code, where
   * every stack access goes through SS's hidden attributes (sim/cpu/stack.ts). From 64-bit
   * code the probe switches to a stack below 4 GiB and far-calls a __USER32_CS thunk; the far
   * call's own pushes happen in 64-bit mode, which ignores SS, and the thunk's `lret` pops its
   * return address through SS again. A 32-bit process runs the push/pop in place. Returns the
   * value popped, or null when a fault ended the case (#SS → SIGBUS, traps.c exc_stack_segment).
   */
  private compatStackStep(value: bigint): bigint | null {
    const { k } = this;
    const cpu = k.cpu;
    const far = cpu.mode === 'long64';
    const saved = { rsp: cpu.gpr.rsp, rip: cpu.rip };
    if (far) {
      const low = LAYOUT.compatStackTop - PAGE_SIZE;
      if (!this.p.mm.find(low)) {
        this.p.mm.map(low, PAGE_SIZE, PROT_READ | PROT_WRITE, 'compat stack (MAP_32BIT)');
        this.p.mm.map(LAYOUT.compatThunk, PAGE_SIZE, PROT_READ | PROT_EXEC, 'compat thunk');
      }
      // lcall *(far pointer) with a 32-bit operand: EIP and CS pushed as two dwords (64-bit mode).
      const sp = LAYOUT.compatStackTop - 8n;
      this.p.mm.poke(sp, new Uint8Array([...leBytesU32(saved.rip), ...leBytesU32(BigInt(SELECTORS.USER_CS))]));
      cpu.gpr.rsp = sp;
      cpu.fillCache(cpu.seg.cs, SELECTORS.USER32_CS, cpu.gdt[USER32_CS_INDEX]!);
      cpu.mode = cpu.modeFromCs();
      cpu.rip = LAYOUT.compatThunk;
      k.note(`user: lcall to __USER32_CS:0x${LAYOUT.compatThunk.toString(16)} on the stack at 0x${sp.toString(16)} (compatibility mode)`);
    }
    const pushed = push32(cpu, value);
    k.flushCpuTrace();
    if (!pushed.ok) {
      k.userFault(pushed.fault, cpu.rip);
      return null;
    }
    const popped = pop32(cpu);
    k.flushCpuTrace();
    if (!popped.ok) {
      k.userFault(popped.fault, cpu.rip);
      return null;
    }
    k.note(`user: push $0x${value.toString(16)}; pop → 0x${popped.value.toString(16)}`);
    if (far) {
      // lret: EIP then CS popped through SS, back to 64-bit code at the saved address.
      const eip = pop32(cpu);
      const cs = eip.ok ? pop32(cpu) : eip;
      k.flushCpuTrace();
      if (!cs.ok) {
        k.userFault(cs.fault, cpu.rip);
        return null;
      }
      cpu.fillCache(cpu.seg.cs, SELECTORS.USER_CS, cpu.gdt[USER_CS_INDEX]!);
      cpu.mode = cpu.modeFromCs();
      cpu.gpr.rsp = saved.rsp;
      cpu.rip = saved.rip;
    }
    return popped.value;
  }

  /** DS and ES as start_thread_common left them at exec (see startThreadDataSelector). */
  private loadStartThreadDataSegments(): void {
    const sel = startThreadDataSelector(this.c.abi);
    for (const s of ['ds', 'es'] as const) {
      const r = this.k.cpu.loadSegment(s, sel);
      if (!r.ok) throw new Error(`loading ${s.toUpperCase()} = 0x${sel.toString(16)} as start_thread does failed: ${r.fault.why}`);
    }
  }

  /** RG-07: a fresh static ELF's first instruction sees every GPR but SP zero and RFLAGS 0x202. */
  private exec(): Observation {
    const { c, k } = this;
    if (c.abi === 'i386' && !k.profile.ia32) return unsupported(c, '32-bit exec refused: ia32 emulation off');
    k.syncTls();
    userState(k.cpu, this.code32 ? 'compat' : '64');
    const cpu = k.cpu;
    for (const r of GPRS64) cpu.gpr[r] = 0n;
    // start_thread / compat_start_thread (arch/x86/kernel/process_64.c): RFLAGS = X86_EFLAGS_IF | bit 1,
    // segment selectors: 64-bit DS/ES/FS/GS 0; 32-bit DS/ES = __USER_DS, FS/GS 0.
    cpu.gpr.rsp = (this.p.is32 ? LAYOUT.stackTop32 : LAYOUT.stackTop64) - 0x100n;
    cpu.rip = this.entryIp;
    cpu.rflags = RFLAGS.IF | RFLAGS.FIXED1;
    this.loadStartThreadDataSegments();
    cpu.seg.fs.base = 0n;
    cpu.seg.gs.base = 0n;
    k.note('start_thread: all GPRs 0 except RSP; RFLAGS = 0x202');
    k.flushCpuTrace();
    return this.observe();
  }

  private observe(): Observation {
    const { c, k } = this;
    const env = {
      pid: this.p.pid, tid: this.p.tid, ppid: this.p.ppid, uid: this.p.uid, gid: this.p.gid,
      entry_ip: this.entryIp, next_ip: this.nextIp, bufs: { ...this.bufs }, fds: { ...this.fdNums },
      unmapped: LAYOUT.unmapped,
      extra: { vdso: k.vdso32Base ?? k.vdso64Base ?? 0n } as Record<string, bigint>,
    };
    if (k.vdso32Base !== null) env.extra.at_sysinfo = k.vdso32Base + VDSO32.kernelVsyscall;
    if (k.vdso32Base !== null || k.vdso64Base !== null) env.extra.vdso_size = k.vdso32Base !== null ? VDSO32_SIZE : VDSO64_SIZE;
    // VD-01: the probes report __kernel_vsyscall from the vDSO's symbol table with the auxv.
    if (c.observe?.includes('auxv') && k.vdso32Base !== null) env.extra.kernel_vsyscall = k.vdso32Base + VDSO32.kernelVsyscall;
    if (c.contend) env.extra.contend_rounds = BigInt(this.roundsRun);
    if (this.bps.length > 0) env.extra.breakpoint = this.bps[0]!.addr;
    const o: Observation = { id: c.id, outcome: 'returned', before: this.before, env };
    if (c.setup) o.setup_ret = [...this.setupRet];
    if (this.afterRet) o.after_ret = [...this.afterRet];
    const stop = k.stop;
    if (this.p.exited) {
      o.outcome = 'exited';
      o.exit = { code: this.p.exited.code };
    } else if (stop) {
      switch (stop.kind) {
        case 'signal': o.outcome = 'signal'; o.signal = stop.info; break;
        case 'killed': o.outcome = 'killed'; o.exit = { signal: stop.signal }; break;
        case 'exited': o.outcome = 'exited'; o.exit = { code: stop.code }; break;
        case 'timeout': o.outcome = 'timeout'; o.reason = stop.reason; break;
        case 'unsupported': o.outcome = 'unsupported'; o.reason = stop.reason; break;
      }
    } else {
      o.after = this.afterRegs ?? k.userRegs();
      if (this.code32 || this.p.is32) {
        for (const s of ['fs_base', 'gs_base'] as const) delete o.after[s];
      }
      if (this.post) o.post = this.post;
    }
    if (k.traps > 0 || c.flags.includes('TF')) o.traps = k.traps;
    if (k.trapLog.length) o.trap_log = k.trapLog;
    if (k.delivered.length) o.delivered = k.delivered as SignalInfo[];
    const tracer = tracerOf(k);
    if (tracer) o.events = tracer.events;
    threadReport(c, k, o);
    const fev = ftraceEvents(k);
    if (fev) o.events = [...(o.events ?? []), ...fev];
    const mem: Record<string, string> = {};
    let any = false;
    for (const m of c.memory) {
      if (!m.readback) continue;
      any = true;
      const bytes = this.p.mm.peek(this.bufs[m.name]!, m.size);
      mem[m.name] = Buffer.from(bytes).toString('hex');
    }
    if (any) o.memory = mem;
    // Case.observe (VD-01/VD-04, sim/kernel/auxv.ts): the auxv of the exec, the maps after the call.
    if (c.observe?.includes('auxv')) {
      o.auxv = simAuxv({ profile: k.profile, abi: c.abi, vdsoBase: k.vdso32Base ?? k.vdso64Base,
        kernelVsyscall: k.vdso32Base !== null ? k.vdso32Base + VDSO32.kernelVsyscall : null, uid: this.p.uid, gid: this.p.gid });
    }
    if (c.observe?.includes('maps')) o.maps = simMaps(this.p.mm.vmas, k.profile, c.abi);
    if (k.steps) {
      k.flushCpuTrace();
      o.steps = k.steps;
    }
    return o;
  }
}

/** The registers as loaded, in GPRS32/GPRS64 order: an object literal rather than keyed
 *  stores into {} (built once per case; the keyed form was a profile hot spot). */
function beforeRegs(g: Record<Gpr, bigint>, code32: boolean): RegFile {
  if (code32) return { rax: g.rax, rbx: g.rbx, rcx: g.rcx, rdx: g.rdx, rsi: g.rsi, rdi: g.rdi, rbp: g.rbp, rsp: g.rsp };
  return { rax: g.rax, rbx: g.rbx, rcx: g.rcx, rdx: g.rdx, rsi: g.rsi, rdi: g.rdi, rbp: g.rbp, rsp: g.rsp,
    r8: g.r8, r9: g.r9, r10: g.r10, r11: g.r11, r12: g.r12, r13: g.r13, r14: g.r14, r15: g.r15 };
}

export function hexBytes(hex: string): Uint8Array {
  const h = hex.replace(/[^0-9a-fA-F]/g, '');
  const out = new Uint8Array(h.length >> 1);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(h.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/**
 * The page the kernel maps at VSYSCALL_ADDR (arch/x86/entry/vsyscall/vsyscall_emu_64.S): at
 * each 1024-byte slot `mov $NR, %rax; syscall; ret` for gettimeofday (96), time (201) and
 * getcpu (309), every other byte int3 (0xcc). Only readable in vsyscall=emulate.
 */
export function vsyscallImage(): Uint8Array {
  const page = new Uint8Array(Number(PAGE_SIZE)).fill(0xcc);
  [96, 201, 309].forEach((nr, slot) => {
    // 48 c7 c0 imm32: mov $imm32 (sign-extended), %rax; 0f 05: syscall; c3: ret.
    page.set([0x48, 0xc7, 0xc0, nr & 0xff, (nr >> 8) & 0xff, 0, 0, 0x0f, 0x05, 0xc3], slot * 1024);
  });
  return page;
}
