// Named simulator profiles (DESIGN.md principle 3: "profiles, not special cases"): a kernel
// version, a CPU vendor and a kernel configuration. Every version- or vendor-dependent rule in
// sim/kernel/ reads the profile through the helpers here (ABI-FACTS §9 lists the landmarks).

import type { Profile } from '../harness/contracts.js';

/** Capabilities the simulator models for every profile (ptrace: sim/kernel/ptrace.ts, issue 7). */
// seccomp: filters and strict mode are modelled in sim/kernel/seccomp and sim/kernel/trace.ts (issue 7).
// ftrace: syscall events modelled in sim/kernel/ftrace.ts (issue 7, docs/ftrace.md).
const SIM_FEATURES = ['fsgsbase', 'seccomp', 'ptrace', 'ftrace'];

/** Memo for versionCode: since() runs several times per simulated syscall and the set of
 *  version strings (profile kernels, landmark versions) is small, so each is parsed once.
 *  Declared up here because PROFILES below already calls versionCode at module load. */
const VERSION_CODES = new Map<string, number>();

function p(name: string, kernel: string, vendor: 'intel' | 'amd', cfg: Partial<Profile> = {}): Profile {
  return {
    name,
    kernel,
    vendor,
    ia32: true,
    x32: false,
    // xonly became the default in v5.3 (CONFIG_LEGACY_VSYSCALL_XONLY); emulate before.
    vsyscall: versionAtLeast(kernel, '5.3') ? 'xonly' : 'emulate',
    fred: false,
    // CR4.FSGSBASE (RDGSBASE & co. from user mode) is enabled by Linux since v5.9; older
    // kernels leave it clear, so the instructions are #UD (sim/kernel/before.ts).
    features: SIM_FEATURES.filter((f) => f !== 'fsgsbase' || versionAtLeast(kernel, '5.9')),
    ...cfg,
  };
}

/** The profiles that ship. The first one is the default. */
export const PROFILES: Readonly<Record<string, Profile>> = Object.freeze({
  'linux-7.0-intel': p('linux-7.0-intel', '7.0', 'intel'),
  'linux-7.0-amd': p('linux-7.0-amd', '7.0', 'amd'),
  // Pre-4.17 (int $0x80 clobbers r8-r11), pre-5.4 (x32 shares the 64-bit table),
  // pre-5.14 (full 64-bit RAX compare, small SFMASK). x32 on, as Debian/Ubuntu built it then.
  'linux-4.16-intel': p('linux-4.16-intel', '4.16', 'intel', { x32: true }),
  // Before v4.1 (commit 61f01dd941ba): __switch_to does not reload a NULL SS on AMD, so SYSRET
  // can leave an unusable SS behind selector 0x2b (RG-06, sim/kernel/sched.ts).
  'linux-4.0-amd': p('linux-4.0-amd', '4.0', 'amd'),
  'linux-5.10-amd-x32': p('linux-5.10-amd-x32', '5.10', 'amd', { x32: true }),
  'linux-7.0-intel-x32': p('linux-7.0-intel-x32', '7.0', 'intel', { x32: true }),
  'linux-6.6-intel-ia32off': p('linux-6.6-intel-ia32off', '6.6', 'intel', { ia32: false }),
  'linux-7.0-amd-ia32off': p('linux-7.0-amd-ia32off', '7.0', 'amd', { ia32: false }),
  'linux-7.0-intel-fred': p('linux-7.0-intel-fred', '7.0', 'intel', { fred: true }),
  'linux-7.0-intel-vsyscall-emulate': p('linux-7.0-intel-vsyscall-emulate', '7.0', 'intel', { vsyscall: 'emulate' }),
  'linux-7.0-intel-vsyscall-none': p('linux-7.0-intel-vsyscall-none', '7.0', 'intel', { vsyscall: 'none' }),
});

export const DEFAULT_PROFILE = 'linux-7.0-intel';

export function listProfiles(): string[] {
  return [...Object.keys(PROFILES), 'host'];
}

/** A named profile (a copy), or a clear error naming the known ones. 'host' is async: see resolveProfile. */
export function getProfile(name: string = DEFAULT_PROFILE): Profile {
  const prof = PROFILES[name];
  if (!prof) {
    throw new Error(`unknown sim profile "${name}"; known: ${listProfiles().join(', ')}`);
  }
  return { ...prof, features: [...prof.features] };
}

/**
 * Resolve a profile name, including 'host', which asks harness/host.ts (the native target's
 * detection) for this machine's kernel, vendor and configuration. The sim models its own
 * feature set, so the host's features are narrowed to what the sim implements.
 */
export async function resolveProfile(name: string = DEFAULT_PROFILE): Promise<Profile> {
  if (name !== 'host') return getProfile(name);
  let detect: (() => Promise<Profile>) | undefined;
  try {
    // A computed specifier: host.ts belongs to the native target and may not exist yet.
    const spec = '../harness/host.js';
    const mod = (await import(spec)) as { detectHostProfile?: () => Promise<Profile> };
    detect = mod.detectHostProfile;
  } catch (e) {
    throw new Error(`sim profile "host" needs harness/host.ts (detectHostProfile), which could not be loaded: ${(e as Error).message}`);
  }
  if (typeof detect !== 'function') {
    throw new Error('sim profile "host": harness/host.ts does not export detectHostProfile()');
  }
  const host = await detect();
  return {
    ...host,
    name: `host (${host.name})`,
    features: host.features.filter((f) => SIM_FEATURES.includes(f)),
  };
}

/** "7.0" / "6.18.3-foo" → comparable number major*2^16 + minor*2^8 + patch. */
export function versionCode(v: string): number {
  const hit = VERSION_CODES.get(v);
  if (hit !== undefined) return hit;
  const code = parseVersion(v);
  VERSION_CODES.set(v, code);
  return code;
}

function parseVersion(v: string): number {
  const m = /^(\d+)(?:\.(\d+))?(?:\.(\d+))?/.exec(v.trim());
  if (!m) throw new Error(`not a kernel version: "${v}" (expected major.minor[.patch])`);
  return Number(m[1]) * 65536 + Number(m[2] ?? 0) * 256 + Math.min(Number(m[3] ?? 0), 255);
}

export function versionAtLeast(have: string, want: string): boolean {
  return versionCode(have) >= versionCode(want);
}

/** Shorthand used throughout sim/kernel: does the profile's kernel have the change made in `v`? */
export function since(profile: Profile, v: string): boolean {
  return versionAtLeast(profile.kernel, v);
}
