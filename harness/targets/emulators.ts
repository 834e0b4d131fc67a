// Third-party emulators and sandboxes as targets: the same static probes the native target
// runs, started under a wrapper command (`exec:CMD`, and the presets `qemu`, `valgrind`,
// `gvisor`), plus their registration. Each target detects what it emulates through the
// wrapped probe itself (DESIGN.md principle 3): kernel release (uname under the emulator),
// CPU vendor (CPUID under the emulator), ia32/x32, vsyscall mode, seccomp and ptrace.

import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { ABIS, ERRNO, RFLAGS_USER_DEFAULT, X32_SYSCALL_BIT } from '../../abi/constants.js';
import type { Abi, Case, Observation, Profile, Target, TargetInfo, Vendor, VsyscallMode } from '../contracts.js';
import { detectHostFacts, parseKernelVersion } from '../host.js';
import { createProbeTarget, defaultProbeDir, probeBuilt, probePath, runProbeSession } from './probe-runner.js';
import { registerTarget, TargetUnavailableError, type TargetContext } from './registry.js';

// ------------------------------------------------------------------ command templates

/**
 * Split a command line into words like a POSIX shell does for plain words, '…' and "…"
 * (backslash escapes outside single quotes). No expansion, no globbing, no pipes: the
 * words go to execve as they are. Throws on an unterminated quote.
 */
export function splitCommand(cmd: string): string[] {
  const words: string[] = [];
  let cur = '';
  let inWord = false;
  for (let i = 0; i < cmd.length; i++) {
    const ch = cmd[i]!;
    if (ch === "'") {
      const end = cmd.indexOf("'", i + 1);
      if (end < 0) throw new Error(`command "${cmd}": unterminated ' quote at column ${i + 1}`);
      cur += cmd.slice(i + 1, end);
      inWord = true;
      i = end;
    } else if (ch === '"') {
      let j = i + 1;
      for (; j < cmd.length && cmd[j] !== '"'; j++) {
        if (cmd[j] === '\\' && j + 1 < cmd.length && '"\\$`'.includes(cmd[j + 1]!)) j++;
        cur += cmd[j];
      }
      if (j >= cmd.length) throw new Error(`command "${cmd}": unterminated " quote at column ${i + 1}`);
      inWord = true;
      i = j;
    } else if (ch === '\\' && i + 1 < cmd.length) {
      cur += cmd[++i];
      inWord = true;
    } else if (/\s/.test(ch)) {
      if (inWord) words.push(cur);
      cur = '';
      inWord = false;
    } else {
      cur += ch;
      inWord = true;
    }
  }
  if (inWord) words.push(cur);
  return words;
}

/**
 * Turn a template's words into argv for one probe: `{probe}` becomes the probe's path and
 * `{abi}` the ABI name (so `qemu-{abi} {probe}` picks qemu-x86_64 or qemu-i386). A template
 * without `{probe}` gets the probe appended as its last word.
 */
export function expandTemplate(words: readonly string[], probe: string, abi: Abi): string[] {
  const hasProbe = words.some((w) => w.includes('{probe}'));
  const out = words.map((w) => w.replaceAll('{probe}', probe).replaceAll('{abi}', abi));
  return hasProbe ? out : [...out, probe];
}

/** Where an executable is on $PATH (or the path itself when it contains a slash), or undefined. */
export function whichExecutable(cmd: string, path = process.env.PATH ?? ''): string | undefined {
  const r = spawnSync('sh', ['-c', 'command -v -- "$1"', 'sh', cmd], { encoding: 'utf8', env: { ...process.env, PATH: path } });
  const found = r.status === 0 ? r.stdout.trim() : '';
  return found && found.startsWith('/') ? found : undefined;
}

/** First line of `argv --version` (or another flag), or undefined when it fails or hangs. */
export async function commandVersion(argv: readonly string[], timeoutMs = 5000): Promise<string | undefined> {
  const r = await execa(argv[0]!, argv.slice(1), { reject: false, timeout: timeoutMs, stdin: 'ignore', all: true });
  if (r.failed) return undefined;
  const line = String(r.all ?? '').split('\n').map((l) => l.trim()).find(Boolean);
  return line || undefined;
}

// ------------------------------------------------------------------ CPUID under the emulator

/**
 * A 173-byte static x86-64 ELF that prints the CPUID leaf 0 vendor string and exits. It is
 * built here, byte by byte, so detecting the vendor an emulator presents needs no compiler
 * and no change to the probes. Code (at 0x400078):
 *   xor eax,eax; cpuid; sub rsp,16; mov [rsp],ebx; mov [rsp+4],edx; mov [rsp+8],ecx
 *   mov byte [rsp+12],10; write(1, rsp, 13); exit(0)
 * The vendor string is EBX, EDX, ECX in that order (Intel SDM Vol. 2A, CPUID leaf 0).
 */
export function cpuidVendorElf(): Buffer {
  const code = Buffer.from(
    '31c0' + '0fa2' + '4883ec10' + '891c24' + '89542404' + '894c2408' + 'c644240c0a' +
      'b801000000' + 'bf01000000' + '4889e6' + 'ba0d000000' + '0f05' + 'b83c000000' + '31ff' + '0f05',
    'hex',
  );
  const base = 0x400000n;
  const ehsize = 64;
  const phsize = 56;
  const entry = base + BigInt(ehsize + phsize);
  const total = ehsize + phsize + code.length;
  const b = Buffer.alloc(total);
  // ELF header (System V gABI, "ELF Header"): 64-bit, little-endian, ET_EXEC, EM_X86_64.
  b.write('\x7fELF', 0, 'latin1');
  b[4] = 2; // ELFCLASS64
  b[5] = 1; // ELFDATA2LSB
  b[6] = 1; // EV_CURRENT
  b.writeUInt16LE(2, 16); // e_type ET_EXEC
  b.writeUInt16LE(62, 18); // e_machine EM_X86_64
  b.writeUInt32LE(1, 20); // e_version
  b.writeBigUInt64LE(entry, 24); // e_entry
  b.writeBigUInt64LE(BigInt(ehsize), 32); // e_phoff
  b.writeBigUInt64LE(0n, 40); // e_shoff: no sections
  b.writeUInt32LE(0, 48); // e_flags
  b.writeUInt16LE(ehsize, 52); // e_ehsize
  b.writeUInt16LE(phsize, 54); // e_phentsize
  b.writeUInt16LE(1, 56); // e_phnum
  b.writeUInt16LE(64, 58); // e_shentsize
  // One PT_LOAD mapping the whole file read+execute at 0x400000.
  const ph = ehsize;
  b.writeUInt32LE(1, ph); // p_type PT_LOAD
  b.writeUInt32LE(5, ph + 4); // p_flags PF_R|PF_X
  b.writeBigUInt64LE(0n, ph + 8); // p_offset
  b.writeBigUInt64LE(base, ph + 16); // p_vaddr
  b.writeBigUInt64LE(base, ph + 24); // p_paddr
  b.writeBigUInt64LE(BigInt(total), ph + 32); // p_filesz
  b.writeBigUInt64LE(BigInt(total), ph + 40); // p_memsz
  b.writeBigUInt64LE(0x1000n, ph + 48); // p_align
  code.copy(b, ehsize + phsize);
  return b;
}

export function vendorOf(cpuidVendor: string): Vendor {
  if (cpuidVendor === 'GenuineIntel') return 'intel';
  if (cpuidVendor === 'AuthenticAMD' || cpuidVendor === 'HygonGenuine') return 'amd';
  return 'unknown';
}

/** The vendor string CPUID shows a program run through `argvFor(path)`. */
async function detectVendor(argvFor: (exe: string) => string[] | null): Promise<{ vendor: Vendor; note: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'sysabi-cpuid-'));
  try {
    const exe = join(dir, 'cpuid-vendor');
    writeFileSync(exe, cpuidVendorElf());
    chmodSync(exe, 0o755);
    const argv = argvFor(exe);
    if (!argv) return { vendor: 'unknown', note: 'vendor: no x86_64 wrapper to run CPUID under' };
    const r = await execa(argv[0]!, argv.slice(1), { reject: false, timeout: 15_000, stdin: 'ignore' });
    const s = String(r.stdout).trim();
    if (r.exitCode !== 0 || !/^[\x20-\x7e]{12}$/.test(s)) return { vendor: 'unknown', note: `vendor: CPUID program failed (exit ${r.exitCode}, output ${JSON.stringify(s.slice(0, 40))})` };
    return { vendor: vendorOf(s), note: `vendor: CPUID leaf 0 under the emulator says "${s}"` };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// ------------------------------------------------------------------ profile detection

// Numbers from the x86_64 / i386 tables (ABI-FACTS §1; abi/tables for the rest).
const NR64 = { getpid: 39n, uname: 63n, prctl: 157n, ptrace: 101n, seccomp: 317n };
const NR32_GETPID = 20n;
/**
 * prctl(PR_GET_SECCOMP): 0 (not in a seccomp mode) where seccomp is available, EINVAL where
 * it is not (kernel/sys.c; qemu-user answers EINVAL on purpose, so a guest cannot filter the
 * syscalls qemu itself needs). SECCOMP_GET_ACTION_AVAIL would be wrong here: gVisor 2022
 * filters fine but does not know that operation.
 */
const PR_GET_SECCOMP = 21n;
/**
 * seccomp(SECCOMP_SET_MODE_FILTER, 0, NULL): EFAULT where the syscall exists (the program is
 * copied in before anything else, kernel/seccomp.c seccomp_prepare_user_filter), so nothing
 * is installed. The probes install filters with seccomp(2) (probes/seccomp.c), and valgrind
 * 3.19 passes prctl(PR_GET_SECCOMP) through but answers ENOSYS to seccomp(2): both must work.
 */
const SECCOMP_SET_MODE_FILTER = 1n;
/** ptrace(PTRACE_GETREGS, pid 1): ESRCH where ptrace is implemented (pid 1 is not our tracee). */
const PTRACE_GETREGS = 12n;
/** struct new_utsname: six fields of __NEW_UTS_LEN + 1 = 65 bytes (include/uapi/linux/utsname.h). */
const UTS_FIELD = 65;

function detectCase(id: string, abi: Abi, entry: Case['entry'], nr: bigint, extra: Partial<Case> = {}): Case {
  return {
    id: `emulator-detect/${id}@${abi}`, spec: 'emulator-detect', abi, entry, code: abi === 'i386' ? 'compat' : '64', nr,
    regs: {}, rflags: RFLAGS_USER_DEFAULT, flags: [], memory: [], fds: [],
    signals: { actions: {}, blocked: [] }, isolate: false, timeoutMs: 5000, ...extra,
  };
}

function returned(o: Observation | undefined): bigint | undefined {
  return o?.outcome === 'returned' ? o.after?.rax : undefined;
}

const neg = (e: number) => BigInt.asUintN(64, BigInt(-e));

/** The release field of a struct new_utsname read back as hex. */
export function utsRelease(hexBytes: string): string | undefined {
  const bytes = Buffer.from(hexBytes, 'hex');
  if (bytes.length < UTS_FIELD * 3) return undefined;
  const field = bytes.subarray(UTS_FIELD * 2, UTS_FIELD * 3);
  const end = field.indexOf(0);
  const s = field.subarray(0, end < 0 ? field.length : end).toString('latin1');
  return s || undefined;
}

export interface WrappedFacts {
  profile: Profile;
  abis: Record<Abi, { ok: boolean; reason?: string }>;
  /** The release string uname returned under the emulator. */
  release?: string;
  notes: string[];
}

export interface DetectOptions {
  name: string;
  profileName: string;
  probeDir: string;
  wrap: (abi: Abi, probe: string) => string[] | null;
  /** Why the wrapper has no command for an ABI (e.g. "qemu has no x32 user mode"). */
  abiReason?: Partial<Record<Abi, string>>;
  /** The CPU the program sees: emulated by the wrapper (qemu, valgrind) or the host's (gVisor ptrace). */
  cpu: 'emulated' | 'host';
}

/**
 * What the wrapped environment is, found by running probe cases under it: uname for the
 * kernel release, getpid via int $0x80 from 64-bit code (ia32) and with the x32 bit, a read
 * of the vsyscall page, seccomp's action query and a harmless ptrace request.
 */
export async function detectWrappedFacts(o: DetectOptions): Promise<WrappedFacts> {
  const notes: string[] = [];
  const host = await detectHostFacts({ probeDir: o.probeDir });
  const abis = {} as WrappedFacts['abis'];
  const features: string[] = [];
  let kernel = host.profile.kernel;
  let release: string | undefined;
  let ia32 = false;
  let x32 = false;
  let vsyscall: VsyscallMode = 'none';
  let fsgsbase = false;

  for (const abi of ABIS) {
    const built = probeBuilt(o.probeDir, abi);
    if (!built.ok) abis[abi] = built;
    else if (!o.wrap(abi, probePath(o.probeDir, abi))) abis[abi] = { ok: false, reason: o.abiReason?.[abi] ?? `${o.name} has no command for ${abi}` };
    else abis[abi] = { ok: true };
  }

  const argv64 = abis.x86_64.ok ? o.wrap('x86_64', probePath(o.probeDir, 'x86_64')) : null;
  if (argv64) {
    const uts = 'uts';
    const cases: Case[] = [
      detectCase('uname', 'x86_64', 'syscall', NR64.uname, {
        regs: { rdi: { ref: 'buf', name: uts } },
        memory: [{ name: uts, size: UTS_FIELD * 6, hex: '', fill: 0, prot: 'rw', place: 'anywhere', readback: true }],
      }),
      // In a child: where int $0x80 is not emulated it is a SIGSEGV.
      detectCase('int80', 'x86_64', 'int80', NR32_GETPID, { isolate: true }),
      detectCase('x32', 'x86_64', 'syscall', X32_SYSCALL_BIT | NR64.getpid),
      detectCase('seccomp', 'x86_64', 'syscall', NR64.prctl, { regs: { rdi: { lit: PR_GET_SECCOMP } } }),
      detectCase('ptrace', 'x86_64', 'syscall', NR64.ptrace, { regs: { rdi: { lit: PTRACE_GETREGS }, rsi: { lit: 1n }, rdx: { lit: 0n }, r10: { lit: 0n } } }),
      detectCase('seccomp2', 'x86_64', 'syscall', NR64.seccomp, { regs: { rdi: { lit: SECCOMP_SET_MODE_FILTER }, rsi: { lit: 0n }, rdx: { lit: 0n } } }),
    ];
    const [un, i80, x, sc, pt, sc2] = await runProbeSession(argv64, cases, { graceMs: 5000 });
    const rel = un?.outcome === 'returned' && un.after?.rax === 0n && un.memory?.[uts] ? utsRelease(un.memory[uts]!) : undefined;
    if (rel) {
      release = rel;
      kernel = parseKernelVersion(rel);
      notes.push(`kernel: uname under ${o.name} says "${rel}"`);
    } else {
      notes.push(`kernel: uname under ${o.name} failed (${un?.outcome} ${un?.reason ?? ''}); assuming the host's ${kernel}`);
    }
    if (i80?.outcome === 'returned' && i80.after?.rax === i80.env.pid) {
      ia32 = true;
      notes.push('ia32: int $0x80 from 64-bit code returned the pid');
    } else {
      notes.push(`ia32: int $0x80 from 64-bit code did not return the pid (${i80?.outcome}${i80?.signal ? ` signal ${i80.signal.signo}` : ''}${i80?.exit?.signal ? ` killed by ${i80.exit.signal}` : ''})`);
    }
    const xr = returned(x);
    if (xr !== undefined && xr === x!.env.pid) x32 = true;
    notes.push(`x32: getpid|0x40000000 ${x32 ? 'returned the pid' : `gave ${x?.outcome} ${xr === undefined ? '' : `0x${xr.toString(16)}`}`}`);
    const sc2r = returned(sc2);
    if (returned(sc) === 0n && sc2r !== undefined && sc2r !== neg(ERRNO.ENOSYS)) features.push('seccomp');
    const shown = (o: Observation | undefined) => (returned(o) === undefined ? o?.outcome : `0x${returned(o)!.toString(16)}`);
    notes.push(`seccomp: prctl(PR_GET_SECCOMP) returned ${shown(sc)}, seccomp(SECCOMP_SET_MODE_FILTER, 0, NULL) returned ${shown(sc2)}`);
    const pr = returned(pt);
    if (pr !== undefined && pr !== neg(ERRNO.ENOSYS)) features.push('ptrace');
    notes.push(`ptrace: PTRACE_GETREGS on pid 1 returned ${pr === undefined ? pt?.outcome : `0x${pr.toString(16)}`}`);

    // vsyscall: a readable page is "emulate"; otherwise the [vsyscall] line of the maps a
    // program sees under the wrapper tells xonly from none (ABI-FACTS VD-04).
    const info = await execa(argv64[0]!, argv64.slice(1), { input: 'info\npeek 0xffffffffff600000\n', reject: false, timeout: 15_000 });
    const lines = String(info.stdout).split('\n').filter((l) => l.startsWith('{'));
    let peekOk: boolean | undefined;
    for (const l of lines) {
      try {
        const v = JSON.parse(l) as { info?: { hwcap2?: string }; peek?: { ok?: boolean } };
        if (v.info?.hwcap2) fsgsbase = (BigInt(v.info.hwcap2) & 2n) !== 0n;
        if (v.peek) peekOk = v.peek.ok === true;
      } catch {
        /* a wrapper's own chatter on stdout: ignore for detection */
      }
    }
    if (peekOk) vsyscall = 'emulate';
    else {
      const cat = o.wrap('x86_64', '/bin/cat');
      const maps = cat ? await execa(cat[0]!, [...cat.slice(1), '/proc/self/maps'], { reject: false, timeout: 15_000, stdin: 'ignore' }) : undefined;
      if (maps && maps.exitCode === 0) vsyscall = /\[vsyscall\]/.test(String(maps.stdout)) ? 'xonly' : 'none';
      else vsyscall = host.profile.vsyscall;
      notes.push(`vsyscall: reading the page ${peekOk === false ? 'faults' : 'was not answered'}; ${maps?.exitCode === 0 ? `maps under ${o.name} ${vsyscall === 'xonly' ? 'list' : 'do not list'} [vsyscall]` : `maps not readable, host mode ${vsyscall} assumed`} → ${vsyscall}`);
    }
    if (fsgsbase) features.push('fsgsbase');
  }

  // A 32-bit process either starts under the wrapper or it does not.
  const argv32 = abis.i386.ok ? o.wrap('i386', probePath(o.probeDir, 'i386')) : null;
  if (argv32) {
    const [g] = await runProbeSession(argv32, [detectCase('getpid32', 'i386', 'int80', NR32_GETPID)], { graceMs: 5000 });
    if (g?.outcome === 'returned' && g.after?.rax === g.env.pid) {
      ia32 = true;
      notes.push(`i386: a 32-bit probe runs under ${o.name}`);
    } else {
      const why = `${o.name} cannot run the i386 probe: ${g?.reason ?? g?.outcome ?? 'no answer'}`;
      abis.i386 = { ok: false, reason: why.slice(0, 300) };
      notes.push(why);
    }
  }
  if (abis.x32.ok && !x32) abis.x32 = { ok: false, reason: `x32 syscalls are not available under ${o.name} (getpid with the x32 bit did not return the pid)` };

  const vendorArgv = (exe: string) => (abis.x86_64.ok ? o.wrap('x86_64', exe) : null);
  const v = argv64 ? await detectVendor(vendorArgv) : { vendor: 'unknown' as Vendor, note: 'vendor: x86_64 not runnable' };
  notes.push(v.note);
  // FRED is a property of the CPU the program runs on: an emulated CPU has none.
  const fred = o.cpu === 'host' ? host.profile.fred : false;
  const profile: Profile = { name: o.profileName, kernel, vendor: v.vendor, ia32, x32, vsyscall, fred, features };
  return { profile, abis, release, notes };
}

// ------------------------------------------------------------------ wrapped targets

export interface WrappedTargetOptions {
  /** Target name in reports and expectation file names (`qemu`, `exec:…`). */
  name: string;
  /** Version series used for expectation files (`7.2`), or 'unknown'. */
  version: string;
  /** The emulator's own version line, shown in the profile name. */
  versionLine?: string;
  wrap: (abi: Abi, probe: string) => string[] | null;
  abiReason?: Partial<Record<Abi, string>>;
  cpu: 'emulated' | 'host';
  probeDir?: string;
  /** Slack on top of each case's limit (emulators start slowly). */
  graceMs?: number;
  /**
   * The command `exec` cases put in front of the program they start (SYSABI_EXEC_WRAPPER,
   * docs/probe-protocol.md), so the new program runs under the emulator too; null where the
   * emulator already contains its children (a gVisor sandbox). Default: execWrapperFrom(wrap).
   */
  execWrapper?: (abi: Abi) => string[] | null;
}

/**
 * The words of a wrapper that come before the probe, when the probe is its last word: what
 * an exec'd program needs in front of it (`qemu-x86_64`, `valgrind --tool=none -q`). null when
 * the probe is not last or nothing wraps it. The probe splits SYSABI_EXEC_WRAPPER at spaces,
 * so a word containing a space cannot be passed: null then too.
 */
export function execWrapperFrom(wrap: (abi: Abi, probe: string) => string[] | null, abi: Abi): string[] | null {
  const mark = '/\0sysabi-probe-placeholder';
  const argv = wrap(abi, mark);
  if (!argv || argv.length < 2 || argv[argv.length - 1] !== mark) return null;
  const words = argv.slice(0, -1);
  return words.some((w) => w === '' || /\s/.test(w) || w.includes(mark)) ? null : words;
}

/** A target that runs the probes under a wrapper command, with its profile detected through it. */
export function createWrappedTarget(o: WrappedTargetOptions): Target & { facts(): Promise<WrappedFacts> } {
  const probeDir = o.probeDir ?? defaultProbeDir();
  let facts: Promise<WrappedFacts> | undefined;
  const getFacts = () =>
    (facts ??= detectWrappedFacts({
      name: o.name,
      profileName: o.versionLine ?? o.name,
      probeDir,
      wrap: o.wrap,
      abiReason: o.abiReason,
      cpu: o.cpu,
    }));
  const inner = createProbeTarget({
    name: o.name,
    version: o.version,
    probeDir,
    // An ABI the wrapper has no command for is refused by abiAvailability (with the
    // wrapper's own reason) before the runner ever needs an argv for it.
    wrap: (abi, probe) => o.wrap(abi, probe) ?? ['/bin/false'],
    graceMs: o.graceMs ?? 3000,
    env: (abi): Record<string, string> => {
      const w = o.execWrapper ? o.execWrapper(abi) : execWrapperFrom(o.wrap, abi);
      // Isolated cases fork under a wrapper: qemu-user refuses a CLONE_VM child without
      // CLONE_THREAD (EINVAL, "fork failed") and valgrind aborts on one (probes/probe.c).
      return { SYSABI_NO_CLONE_VM: '1', ...(w ? { SYSABI_EXEC_WRAPPER: w.join(' ') } : {}) };
    },
    describeProfile: async () => {
      const f = await getFacts();
      return { ...f.profile, name: `${f.profile.name}${f.release ? ` on kernel ${f.release}` : ''}` };
    },
    abiAvailability: async (abi) => (await getFacts()).abis[abi],
  });
  return {
    name: o.name,
    describe: (): Promise<TargetInfo> => inner.describe(),
    run: (cases, ctx) => inner.run(cases, ctx),
    facts: getFacts,
  };
}

/** `major.minor` of the first dotted version in a line ("… version 7.2.22 (Debian …)" → "7.2"). */
export function versionSeries(line: string | undefined): string | undefined {
  const m = line ? /(\d+)\.(\d+)(?:\.\d+)*/.exec(line) : null;
  return m ? `${m[1]}.${m[2]}` : undefined;
}

/** runsc prints "runsc version 0.0~20221219.0"; the release is its date, series YYYY-MM. */
export function runscSeries(line: string | undefined): string | undefined {
  const m = line ? /(\d{4})(\d{2})(\d{2})/.exec(line) : null;
  return m ? `${m[1]}-${m[2]}` : undefined;
}

function requireExecutable(cmd: string, pkg: string, target: string): string {
  const p = whichExecutable(cmd);
  if (!p) throw new TargetUnavailableError(`${target} not available: ${cmd} is not installed (Debian package ${pkg})`);
  return p;
}

/** qemu-user: qemu-x86_64 / qemu-i386 run the probes; syscalls go to the host kernel. */
export async function createQemuTarget(ctx: TargetContext = {}): Promise<Target> {
  const q64 = requireExecutable('qemu-x86_64', 'qemu-user', 'qemu');
  const q32 = whichExecutable('qemu-i386');
  const line = await commandVersion([q64, '--version']);
  return createWrappedTarget({
    name: 'qemu',
    version: versionSeries(line) ?? 'unknown',
    versionLine: line,
    cpu: 'emulated',
    probeDir: ctx.probeDir,
    wrap: (abi, probe) => (abi === 'x86_64' ? [q64, probe] : abi === 'i386' && q32 ? [q32, probe] : null),
    abiReason: { x32: 'qemu has no x32 user mode', i386: 'qemu-i386 is not installed (Debian package qemu-user)' },
  });
}

/** valgrind --tool=none: the probe's instructions run on valgrind's JIT; only stdout is the protocol. */
export async function createValgrindTarget(ctx: TargetContext = {}): Promise<Target> {
  const vg = requireExecutable('valgrind', 'valgrind', 'valgrind');
  const line = await commandVersion([vg, '--version']);
  return createWrappedTarget({
    name: 'valgrind',
    version: versionSeries(line) ?? 'unknown',
    versionLine: line,
    cpu: 'emulated',
    probeDir: ctx.probeDir,
    // --error-exitcode is not set: the probe's own exit status stays visible.
    wrap: (abi, probe) => (abi === 'x86_64' ? [vg, '--tool=none', '-q', probe] : null),
    abiReason: {
      i386: 'the valgrind preset runs x86_64 only (its x86 tool cannot start where ia32 emulation is off); try exec:valgrind --tool=none -q {probe}',
      x32: 'valgrind has no x32 support',
    },
  });
}

/**
 * gVisor (runsc) with the ptrace platform: the probe runs as the sandbox's init, its
 * syscalls served by gVisor's Sentry. --network=none because runsc do otherwise sets up
 * iptables; output is piped (a file redirect lets the sandbox write from offset 0).
 */
export async function createGvisorTarget(ctx: TargetContext = {}): Promise<Target> {
  const runsc = requireExecutable('runsc', 'runsc', 'gvisor');
  if (process.getuid?.() !== 0) throw new TargetUnavailableError('gvisor not available: runsc do needs root (run as root, e.g. in CI)');
  const line = await commandVersion([runsc, '--version']);
  return createWrappedTarget({
    name: 'gvisor',
    version: runscSeries(line) ?? 'unknown',
    versionLine: line,
    cpu: 'host',
    probeDir: ctx.probeDir,
    graceMs: 5000,
    wrap: (abi, probe) => (abi === 'x32' ? null : [runsc, '--network=none', '--platform=ptrace', 'do', probe]),
    // The exec'd program is already inside the sandbox: gVisor runs it, no second runsc.
    execWrapper: () => null,
    abiReason: { x32: 'gVisor implements no x32 syscalls' },
  });
}

/** `exec:CMD`: any wrapper; `{probe}` and `{abi}` are substituted, the rest passed as is. */
export function createExecTarget(cmd: string, ctx: TargetContext = {}): Target {
  const words = splitCommand(cmd);
  if (!words.length) throw new Error('exec: needs a command, e.g. exec:qemu-x86_64 {probe}');
  const first = words[0]!;
  if (!first.includes('{') && !whichExecutable(first)) throw new TargetUnavailableError(`exec:${cmd} not available: ${first} is not installed or not on PATH`);
  return createWrappedTarget({
    name: `exec:${cmd}`,
    version: 'unknown',
    versionLine: `exec:${cmd}`,
    cpu: 'host',
    probeDir: ctx.probeDir,
    wrap: (abi, probe) => expandTemplate(words, probe, abi),
  });
}

// ------------------------------------------------------------------ registration

registerTarget('qemu', { summary: 'qemu-user (qemu-x86_64, qemu-i386) running the probes', create: async (p, ctx) => noParam('qemu', p, () => createQemuTarget(ctx)) });
registerTarget('valgrind', { summary: 'valgrind --tool=none -q running the x86_64 probe', create: async (p, ctx) => noParam('valgrind', p, () => createValgrindTarget(ctx)) });
registerTarget('gvisor', { summary: 'gVisor: runsc --network=none --platform=ptrace do (root)', create: async (p, ctx) => noParam('gvisor', p, () => createGvisorTarget(ctx)) });
registerTarget('exec', {
  summary: "CMD wrapping the probe, {probe} = its path, {abi} = its ABI (e.g. 'exec:qemu-{abi} {probe}')",
  paramRequired: true,
  create: async (p, ctx) => createExecTarget(p!, ctx),
});

async function noParam(kind: string, p: string | undefined, make: () => Promise<Target>): Promise<Target> {
  if (p !== undefined) throw new Error(`target "${kind}" takes no parameter (got "${p}"); use exec:CMD for another command line`);
  return make();
}
