// Detects the running machine's profile (DESIGN.md principle 3): kernel version, CPU
// vendor, whether ia32 emulation and x32 work, the vsyscall mode, FRED and other features.
// Facts come from the kernel's answers (running the probes), not from assumptions: the
// team's machines differ (ia32 on here, off elsewhere). Cached for the life of the process.

import { existsSync, readFileSync } from 'node:fs';
import { release } from 'node:os';
import { execa } from 'execa';
import { ERRNO, RFLAGS_USER_DEFAULT, SIGNALS, VSYSCALL_ADDR, X32_SYSCALL_BIT, errnoReturn } from '../abi/constants.js';
import type { Abi, Case, Observation, Profile, PtraceStopEvent, Vendor, VsyscallMode } from './contracts.js';
import { defaultProbeDir, probeBuilt, probePath, runProbeSession } from './targets/probe-runner.js';
import { locateTracefs } from './ftrace/tracefs.js';

/** Everything detection found, with the reasons behind each "no". */
export interface HostFacts {
  profile: Profile;
  /** Per ABI: can the native target run it, and why not. */
  abis: Record<Abi, { ok: boolean; reason?: string }>;
  /** How each fact was decided, for `sysabi describe` and debugging. */
  notes: string[];
}

// getpid per ABI table (ABI-FACTS §1): the detection cases use nothing else.
const NR_GETPID_64 = 39n;
const NR_GETPID_32 = 20n;

function detectCase(id: string, abi: Abi, entry: Case['entry'], nr: bigint, isolate: boolean): Case {
  return {
    id: `host-detect/${id}@${abi}`, spec: 'host-detect', abi, entry, code: abi === 'i386' ? 'compat' : '64', nr,
    regs: {}, rflags: RFLAGS_USER_DEFAULT, flags: [], memory: [], fds: [],
    signals: { actions: {}, blocked: [] }, isolate, timeoutMs: 3000,
  };
}

/** "6.18.44-fc-v595" → "6.18.44" (Profile.kernel is major.minor.patch). */
export function parseKernelVersion(rel: string): string {
  const m = /^(\d+)\.(\d+)(?:\.(\d+))?/.exec(rel);
  return m ? `${m[1]}.${m[2]}.${m[3] ?? '0'}` : '0.0.0';
}

function cpuinfo(): { vendor: Vendor; flags: Set<string> } {
  let text = '';
  try {
    text = readFileSync('/proc/cpuinfo', 'utf8');
  } catch {
    return { vendor: 'unknown', flags: new Set() };
  }
  const vendorId = /^vendor_id\s*:\s*(\S+)/m.exec(text)?.[1] ?? '';
  const vendor: Vendor = vendorId === 'GenuineIntel' ? 'intel' : vendorId === 'AuthenticAMD' || vendorId === 'HygonGenuine' ? 'amd' : 'unknown';
  const flags = new Set((/^flags\s*:\s*(.*)$/m.exec(text)?.[1] ?? '').split(/\s+/).filter(Boolean));
  return { vendor, flags };
}

/** The [vsyscall] line of our own maps: r-x emulate, --x xonly, absent none (ABI-FACTS VD-04). */
export function vsyscallFromMaps(maps?: string): VsyscallMode | undefined {
  if (maps === undefined) {
    try {
      maps = readFileSync('/proc/self/maps', 'utf8');
    } catch {
      return undefined;
    }
  }
  const line = maps.split('\n').find((l) => l.endsWith('[vsyscall]'));
  if (!line) return 'none';
  const perms = line.split(/\s+/)[1] ?? '';
  return perms.startsWith('r') ? 'emulate' : 'xonly';
}

async function probeCommands(probe: string, commands: string): Promise<{ lines: unknown[]; error?: string }> {
  const r = await execa(probe, [], { input: commands, reject: false, timeout: 10_000 });
  if (r.failed && r.exitCode === undefined) {
    const code = (r as { code?: string }).code;
    const text = String(r.message ?? '');
    const msg = code === 'ENOEXEC' || /ENOEXEC|Exec format error/.test(text) ? 'Exec format error' : (text.split('\n')[0] || 'failed');
    return { lines: [], error: msg };
  }
  const lines: unknown[] = [];
  for (const l of String(r.stdout).split('\n')) {
    if (!l) continue;
    try {
      lines.push(JSON.parse(l));
    } catch {
      return { lines, error: `probe printed garbage: ${l.slice(0, 80)}` };
    }
  }
  return { lines };
}

let cached: Promise<HostFacts> | undefined;

/** Detect (once per run) what this machine's kernel and CPU are. */
export function detectHostFacts(opts: { probeDir?: string } = {}): Promise<HostFacts> {
  cached ??= detect(opts.probeDir ?? defaultProbeDir());
  return cached;
}

export async function detectHostProfile(): Promise<Profile> {
  return (await detectHostFacts()).profile;
}

/** Forget the cached result (tests). */
export function resetHostCache(): void {
  cached = undefined;
}

async function detect(probeDir: string): Promise<HostFacts> {
  const notes: string[] = [];
  const kernel = parseKernelVersion(release());
  const { vendor, flags } = cpuinfo();
  const features: string[] = [];
  let status = '';
  try {
    status = readFileSync('/proc/self/status', 'utf8');
  } catch { /* not Linux */ }
  if (/^Seccomp:/m.test(status)) features.push('seccomp');
  let ptraceScope = 0;
  try {
    ptraceScope = Number(readFileSync('/proc/sys/kernel/yama/ptrace_scope', 'utf8').trim());
  } catch { /* no Yama: ptrace as usual */ }
  // Yama 3 forbids PTRACE_TRACEME too; below that, whether a tracer really works (a seccomp
  // sandbox may refuse ptrace) is asked of the probe's tracer below.
  if (ptraceScope >= 3) notes.push('ptrace: Yama ptrace_scope is 3 (no attach, no PTRACE_TRACEME)');
  const fred = flags.has('fred');
  if (flags.has('la57')) features.push('la57');
  // ftrace syscall events: only where a capture can work (tracefs mounted, or mountable as
  // root, and writable) — the same test the native target's capture uses.
  const tfs = locateTracefs();
  if (tfs.ok) features.push('ftrace');
  else notes.push(`ftrace: ${tfs.reason}`);

  const abis = {} as HostFacts['abis'];
  const built64 = probeBuilt(probeDir, 'x86_64');
  let ia32 = false;
  let x32 = false;
  let vsyscall: VsyscallMode = vsyscallFromMaps() ?? 'none';
  let ia32Reason: string | undefined;
  let x32Reason: string | undefined;

  if (built64.ok) {
    const p64 = probePath(probeDir, 'x86_64');
    const info = await probeCommands(p64, `info\npeek 0x${VSYSCALL_ADDR.toString(16)}\n`);
    const i = info.lines[0] as { info?: { hwcap2?: string; pid?: string } } | undefined;
    // AT_HWCAP2 bit 1: the kernel enabled FSGSBASE for user space (v5.9+), not just the CPU flag.
    if (flags.has('fsgsbase') && i?.info?.hwcap2 && (BigInt(i.info.hwcap2) & 2n) !== 0n) features.push('fsgsbase');
    const peek = info.lines[1] as { peek?: { ok?: boolean } } | undefined;
    if (vsyscall !== 'none' && peek?.peek) {
      vsyscall = peek.peek.ok ? 'emulate' : 'xonly';
      notes.push(`vsyscall: [vsyscall] mapped, reading it ${peek.peek.ok ? 'works' : 'faults'} → ${vsyscall}`);
    }
    // int $0x80 from 64-bit code (in a child: with ia32 off it is a SIGSEGV) and an x32 getpid.
    const obs = await runProbeSession([p64], [
      detectCase('int80', 'x86_64', 'int80', NR_GETPID_32, true),
      detectCase('x32', 'x86_64', 'syscall', X32_SYSCALL_BIT | NR_GETPID_64, false),
    ]);
    const [int80, x32o] = obs;
    if (ptraceScope < 3) {
      // getpid under the probe's tracer (probes/ptrace.c): PTRACE_SYSCALL must give an entry
      // and an exit stop; GET_SYSCALL_INFO (v5.3) an op; PTRACE_SYSEMU one stop and -ENOSYS.
      const pt = (mode: 'syscall' | 'sysemu'): Case => ({
        ...detectCase(`ptrace-${mode}`, 'x86_64', 'syscall', NR_GETPID_64, true),
        ptrace: { options: ['tracesysgood'], mode, at: [] },
      });
      const [sys, emu] = await runProbeSession([p64], [pt('syscall'), pt('sysemu')]);
      const stops = (o?: Observation) => (o?.events ?? []).filter((e) => e.kind === 'ptrace') as PtraceStopEvent[];
      if (sys?.outcome === 'returned' && stops(sys).length === 2 && stops(sys)[0]!.stop === 'entry') {
        features.push('ptrace');
        if (stops(sys)[0]!.info?.op === 1) features.push('get_syscall_info');
        if (emu?.outcome === 'returned' && stops(emu).length === 1 && emu.after?.rax === errnoReturn('ENOSYS', 64)) features.push('sysemu');
        notes.push('ptrace: the probe traced getpid (entry and exit stops)');
      } else {
        notes.push(`ptrace: unavailable (traced getpid: ${sys?.outcome} ${sys?.reason ?? `${stops(sys).length} stop(s)`})`);
      }
    }
    if (int80?.outcome === 'returned' && int80.after?.rax === int80.env.pid) {
      ia32 = true;
      notes.push('ia32: int $0x80 from 64-bit code returned the pid');
    } else if (int80?.outcome === 'signal' || int80?.outcome === 'killed') {
      const sig = int80.signal?.signo ?? int80.exit?.signal;
      ia32Reason = `ia32 emulation disabled (int $0x80 from 64-bit code raised signal ${sig === SIGNALS.SIGSEGV ? 'SIGSEGV' : sig})`;
    } else {
      ia32Reason = `ia32 emulation state unknown (int $0x80 test: ${int80?.outcome} ${int80?.reason ?? ''})`;
    }
    if (x32o?.outcome === 'returned' && x32o.after?.rax === x32o.env.pid) {
      x32 = true;
      notes.push('x32: getpid with the x32 bit returned the pid');
    } else if (x32o?.outcome === 'returned' && x32o.after?.rax === errnoReturn('ENOSYS', 64)) {
      x32Reason = `kernel built without CONFIG_X86_X32_ABI (or x32 disabled at boot): getpid|0x40000000 returned -ENOSYS (${ERRNO.ENOSYS})`;
    } else {
      x32Reason = `x32 state unknown (x32 getpid: ${x32o?.outcome} ${x32o?.reason ?? ''})`;
    }
    abis.x86_64 = { ok: true };
  } else {
    abis.x86_64 = built64;
    ia32Reason = `ia32 not tested: ${built64.reason}`;
    x32Reason = `x32 not tested: ${built64.reason}`;
  }

  // Whether a 32-bit (or x32) static ELF starts at all: the x86_64 probe execs that ABI's
  // exec program in a child and reports execve's errno. (Node cannot ask this itself:
  // libuv's execvp falls back to /bin/sh on ENOEXEC, which turns the answer into a shell
  // syntax error.)
  const execStarts = async (abi: Abi): Promise<{ ok: boolean; reason?: string }> => {
    if (!built64.ok) return { ok: false, reason: 'not tested' };
    const [o] = await runProbeSession([probePath(probeDir, 'x86_64')], [detectCase(`exec-${abi}`, 'x86_64', 'exec', 0n, true)], {
      env: { SYSABI_EXEC_PROBE: `${probeDir}/probe-exec-${abi}` },
    });
    if (o?.outcome === 'returned') return { ok: true };
    if (o?.outcome === 'unsupported' && /\(errno (\d+)\)/.exec(o.reason ?? '')?.[1] === String(ERRNO.ENOEXEC)) return { ok: false, reason: 'Exec format error' };
    return { ok: false, reason: `${o?.outcome}: ${o?.reason ?? ''}` };
  };
  const built32 = probeBuilt(probeDir, 'i386');
  if (!built32.ok) {
    abis.i386 = built32;
  } else {
    const r = await execStarts('i386');
    if (!r.ok) {
      ia32 = false;
      ia32Reason = `ia32 emulation disabled (${r.reason})`;
      abis.i386 = { ok: false, reason: ia32Reason };
    } else if (!ia32) {
      abis.i386 = { ok: false, reason: ia32Reason ?? 'ia32 emulation disabled' };
    } else {
      notes.push('ia32: a static 32-bit program starts');
      abis.i386 = { ok: true };
    }
  }
  const builtx32 = probeBuilt(probeDir, 'x32');
  if (!builtx32.ok) {
    abis.x32 = builtx32;
  } else {
    // An x32 ELF either runs or exec fails with ENOEXEC (SN-06, CF-02): a second witness.
    const r = await execStarts('x32');
    if (!r.ok && x32) {
      x32 = false;
      x32Reason = `x32 syscalls answer but an x32 program cannot start (${r.reason})`;
    } else if (!r.ok) {
      x32Reason = `${x32Reason ?? 'x32 not available'}; x32 programs do not start (${r.reason})`;
    }
    abis.x32 = x32 ? { ok: true } : { ok: false, reason: x32Reason ?? 'x32 not available' };
  }
  if (ia32Reason) notes.push(`ia32: ${ia32Reason}`);
  if (x32Reason) notes.push(`x32: ${x32Reason}`);
  if (!existsSync('/proc/self/maps')) notes.push('vsyscall: /proc not available, assumed none');

  const profile: Profile = { name: 'host', kernel, vendor, ia32, x32, vsyscall, fred, features };
  return { profile, abis, notes };
}
