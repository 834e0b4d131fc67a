// Fuzz mode (`sysabi fuzz`, issue 8): random but safe Cases — random register states, RFLAGS
// bits, and syscall numbers from a harmless set — run on two targets, their Observations
// compared with harness/diff.ts, and every disagreement minimised and written out as a
// spec file the loader accepts (docs/fuzz.md). Everything is a pure function of the seed:
// case i of ABI a is drawn from its own PRNG stream "seed/a/i", so shards and reruns agree.
//
// Cases are generated as spec-language case bodies and turned into Cases by the real loader
// (harness/spec/load.ts + expand.ts), so the YAML written for a finding is exactly what ran.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ABIS, ERRNO, MAX_ERRNO, SETTABLE_FLAGS, SIGNALS, X32_SYSCALL_BIT, type Abi, type SettableFlag } from '../abi/constants.js';
import { isImplemented, lookupName, NR_SYSCALLS } from '../abi/tables/index.js';
import type { Case, Gpr, Observation, RegName, Target, TargetInfo } from './contracts.js';
import { GPRS32, GPRS64 } from './contracts.js';
import { check } from './check.js';
import { compareObservations, type FieldDiff } from './diff.js';
import { hex } from './json.js';
import { unmetRequirement } from './requires.js';
import { expandChecked } from './spec/expand.js';
import { formatSpecError, parseSpecText, type SpecError } from './spec/load.js';
import type { ExpandedCase } from './spec/types.js';

// ------------------------------------------------------------------ the PRNG

/** cyrb128: a string → four 32-bit seeds (a well-mixed hash; not cryptographic). */
function hash128(s: string): [number, number, number, number] {
  let h1 = 1779033703, h2 = 3144134277, h3 = 1013904242, h4 = 2773480762;
  for (let i = 0; i < s.length; i++) {
    const k = s.charCodeAt(i);
    h1 = h2 ^ Math.imul(h1 ^ k, 597399067);
    h2 = h3 ^ Math.imul(h2 ^ k, 2869860233);
    h3 = h4 ^ Math.imul(h3 ^ k, 951274213);
    h4 = h1 ^ Math.imul(h4 ^ k, 2716044179);
  }
  h1 = Math.imul(h3 ^ (h1 >>> 18), 597399067);
  h2 = Math.imul(h4 ^ (h2 >>> 22), 2869860233);
  h3 = Math.imul(h1 ^ (h3 >>> 17), 951274213);
  h4 = Math.imul(h2 ^ (h4 >>> 19), 2716044179);
  return [(h1 ^ h2 ^ h3 ^ h4) >>> 0, (h2 ^ h1) >>> 0, (h3 ^ h1) >>> 0, (h4 ^ h1) >>> 0];
}

/** sfc32, a small fast PRNG with a 128-bit state; same seed text → same sequence everywhere. */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  constructor(seedText: string) {
    [this.a, this.b, this.c, this.d] = hash128(seedText);
    for (let i = 0; i < 12; i++) this.u32(); // let the state mix before the first draw
  }
  u32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }
  /** An integer in [0, n). */
  below(n: number): number {
    return Math.floor((this.u32() / 0x1_0000_0000) * n);
  }
  chance(p: number): boolean {
    return this.u32() / 0x1_0000_0000 < p;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.below(xs.length)]!;
  }
  u64(): bigint {
    return (BigInt(this.u32()) << 32n) | BigInt(this.u32());
  }
}

// ------------------------------------------------------------------ case bodies

/** A value in a case body: a literal (written as hex) or a spec-language operand ("fd:null"). */
export type Val = bigint | string;
export type FuzzEntry = 'syscall' | 'int80';
export const FUZZ_ENTRIES: readonly FuzzEntry[] = ['syscall', 'int80'];

/** A memory region as the spec language writes it (docs/spec-language.md "memory"). */
export interface FuzzMem {
  text?: string;
  hex?: string;
  size?: number;
  fill?: number;
  place?: 'low32';
  at?: bigint;
  readback?: boolean;
}
/** One set-up call (Case.setup): a name in the case ABI's table, its arguments, an errno it must fail with. */
export interface FuzzSetup {
  call: string;
  args: Val[];
  expect_errno?: string;
  entry?: 'int80';
}
/** A disposition: `record`, `ignore`, or `record` installed with SA_RESTART. */
export type FuzzAction = 'record' | 'ignore' | { action: 'record'; restart: true };

/** A case as the spec language writes it (docs/spec-language.md "Case keys"), minus expect. */
export interface FuzzBody {
  entry: FuzzEntry | 'sigreturn' | 'vdso_fn';
  call?: string;
  nr?: bigint;
  nr_high?: bigint;
  args?: Val[];
  sentinel?: boolean;
  regs?: Partial<Record<Gpr, bigint>>;
  flags?: SettableFlag[];
  memory?: Record<string, FuzzMem>;
  fds?: Record<string, { closed: true } | { pipe: string }>;
  /** vdso_fn: the vDSO symbol. */
  symbol?: string;
  /** sigreturn: register → value written into the frame (names as the spec writes them). */
  sigreturn?: Record<string, Val>;
  setup?: FuzzSetup[];
  signals?: Record<string, FuzzAction>;
  blocked?: string[];
  /** A tracer that sends signals at entry stops (the SA_RESTART template). */
  ptrace?: { stop: 'entry'; n?: number; kill: string }[];
  seccomp?: 'strict';
  /** RT-04: an instruction breakpoint on the return address. */
  breakpoint?: true;
  /** Selectors loaded after the call (Case.segs). */
  segs?: Partial<Record<'fs' | 'gs', bigint>>;
  isolate?: true;
  requires?: { ia32?: true; kernel?: string; features?: string[] };
}

export interface FuzzCase {
  abi: Abi;
  index: number;
  /** Which template drew it (id calls, close of a closed fd, ENOSYS numbers, ...). */
  kind: string;
  body: FuzzBody;
}

const MASK64 = (1n << 64n) - 1n;
/** Calls without side effects whatever their arguments (ids, sched_yield). */
const ID_CALLS = ['getpid', 'getppid', 'gettid', 'getuid', 'getgid', 'geteuid', 'getegid', 'sched_yield'];
/** Flags drawn independently; TF is rarer since every trap costs a signal round trip. */
const FLAG_POOL = SETTABLE_FLAGS.filter((f) => f !== 'TF');

/** Entries an ABI's fuzz cases can use. A raw SYSCALL from 32-bit code has no stable ABI
 *  (it returns to the vDSO landing pad, arch/x86/entry/entry_64_compat.S), so i386 uses int80. */
export function entriesFor(abi: Abi, wanted: readonly FuzzEntry[]): FuzzEntry[] {
  return wanted.filter((e) => (abi === 'i386' ? e === 'int80' : true));
}

/** Table that decodes the number: int $0x80 always uses the i386 one (ABI-FACTS §4.2). */
function tableOf(abi: Abi, entry: FuzzEntry): Abi {
  return entry === 'int80' ? 'i386' : abi;
}
function codeBits(abi: Abi): 32 | 64 {
  return abi === 'i386' ? 32 : 64;
}

/** Register values an ABI edge likes: sentinels, 0, all ones, sign bits, non-canonical addresses. */
function interesting(r: Rng, bits: 32 | 64): bigint {
  let v: bigint;
  switch (r.below(8)) {
    case 0: v = 0x5a5a_0000_0000_0000n | (BigInt(r.below(256)) << 8n) | BigInt(r.below(256)); break;
    case 1: v = r.pick([0n, 1n, MASK64, 1n << 63n, (1n << 63n) - 1n, 0xffff_ffffn, 0x8000_0000n, 0x7fff_ffffn, 1n << 32n, 0xffff_ffff_0000_0000n]); break;
    case 2: v = BigInt(r.u32()); break;
    case 3: v = 0xffff_ffff_0000_0000n | BigInt(r.u32()); break;
    case 4: v = 0x0000_8000_0000_0000n | (BigInt(r.u32()) << 12n); break; // non-canonical
    case 5: v = 0xffff_8000_0000_0000n | (BigInt(r.u32()) << 8n); break; // kernel half
    default: v = r.u64();
  }
  if (bits === 32) {
    v &= 0xffff_ffffn;
    if (r.chance(0.3)) v = 0x5a00_0000n | (BigInt(r.below(256)) << 8n) | BigInt(r.below(256));
  }
  return v;
}

/** A number with no implementation in `table`: a hole, past the end, or negative as an int. */
function enosysNumber(r: Rng, table: Abi, kind: 'gap' | 'range' | 'negative'): bigint {
  const nrMax = NR_SYSCALLS[table];
  const base = table === 'x32' ? Number(X32_SYSCALL_BIT) : 0;
  if (kind === 'gap') {
    const holes: number[] = [];
    for (let n = 0; n < nrMax; n++) if (!isImplemented(table, base + n)) holes.push(base + n);
    if (holes.length) return BigInt(r.pick(holes));
  }
  if (kind === 'negative') return BigInt(r.pick([0xffff_ffff, 0xffff_fffe, 0xffff_f001, 0x8000_0000, 0x8000_0000 + r.below(0x7fff_ffff)]));
  return BigInt(base + r.pick([nrMax, nrMax + 1 + r.below(500), 0x1000 + r.below(0x3fff_0000), 0x3fff_ffff, 0x7fff_ffff]));
}

// ------------------------------------------------------------------ feature templates (session 2)
//
// The Case language grew set-up calls, breakpoints, SA_RESTART handlers, a real rt_sigreturn,
// vDSO getrandom, process_vm_readv and strict mode. Each template below draws one of them in
// mostly valid combinations, and some invalid ones on purpose (a refused modify_ldt, an EPERM
// ARCH_SET_GS, a flag getrandom does not know) where both targets must refuse alike. Every
// case that changes the process is isolated, so it cannot affect the next one.

/** Features the generator can draw, besides the plain calls of session 1. */
export const FUZZ_FEATURES = ['setup', 'ldt', 'tls', 'arch_prctl', 'breakpoint', 'signals', 'restart', 'sigreturn', 'vdso_getrandom', 'process_vm_readv', 'strict'] as const;
export type FuzzFeature = (typeof FUZZ_FEATURES)[number];

/** Share of cases drawn from a feature template when features are on. */
const FEATURE_SHARE = 0.5;
/** Relative weights: the cheap and rich templates more often than the slow ptrace one. */
const FEATURE_WEIGHT: Record<FuzzFeature, number> = {
  setup: 3, ldt: 3, tls: 2, arch_prctl: 2, breakpoint: 2, signals: 2, restart: 1, sigreturn: 3, vdso_getrandom: 1, process_vm_readv: 2, strict: 2,
};

/** Which ABIs a feature applies to (and which entries it needs). */
function featureFits(f: FuzzFeature, abi: Abi, entries: readonly FuzzEntry[]): boolean {
  switch (f) {
    // set_thread_area is in the i386 table only: 64-bit code reaches it with int $0x80.
    case 'tls': return abi === 'i386' || (abi === 'x86_64' && entries.includes('int80'));
    // The simulator and the specs model the 64-bit and ia32 frames (signal_64.c, signal_32.c).
    case 'sigreturn': return abi !== 'x32';
    // lib/vdso/getrandom.c is exported by the 64-bit vDSO only (vdso64.lds.S, v6.11).
    case 'vdso_getrandom': return abi === 'x86_64';
    case 'process_vm_readv': return abi !== 'x32';
    default: return true;
  }
}

const le32 = (v: bigint | number): string => {
  const x = BigInt.asUintN(32, BigInt(v));
  return [0n, 8n, 16n, 24n].map((s) => ((x >> s) & 0xffn).toString(16).padStart(2, '0')).join('');
};
const le64 = (v: bigint): string => le32(v & 0xffff_ffffn) + le32(v >> 32n);

/**
 * A struct user_desc (arch/x86/include/uapi/asm/ldt.h: entry_number, base_addr, limit, then the
 * bit fields seg_32bit:1 contents:2 read_exec_only:1 limit_in_pages:1 seg_not_present:1
 * useable:1 lm:1) as hex. `valid`: a data segment write_ldt/do_set_thread_area accept.
 */
function userDesc(r: Rng, entry: number, valid: boolean): string {
  const base = r.pick([0, 0x2000_0000, 0x1000, r.u32(), 0xffff_f000]);
  const limit = valid ? r.pick([0xfffff, 0xfff, r.below(0x10_0000)]) : r.pick([0xfffff, 0, r.below(0x10_0000), r.u32()]);
  let flags: number;
  if (valid) {
    // seg_32bit, contents 0/1 (data, expand-down data), read_exec_only, limit_in_pages, present, useable.
    flags = (r.below(2) | (r.below(2) << 1) | (r.below(2) << 3) | (r.below(2) << 4) | (r.chance(0.15) ? 1 << 5 : 0) | (r.below(2) << 6)) >>> 0;
  } else flags = r.chance(0.85) ? r.below(256) : r.u32();
  return `${le32(entry)} ${le32(base)} ${le32(limit)} ${le32(flags)}`;
}

/** The 64-bit GS or, for i386 code (its libc's thread pointer is GS), FS: where a selector is loaded. */
const freeSeg = (abi: Abi): 'fs' | 'gs' => (abi === 'i386' ? 'fs' : 'gs');

/** A set-up call that must succeed, and the selector it makes loadable (if any). */
function validSetup(r: Rng, abi: Abi, entries: readonly FuzzEntry[], body: FuzzBody, name: string): { setup: FuzzSetup; selector?: bigint } {
  const opts = ['ldt', 'ldt'];
  if (abi !== 'i386') opts.push('gs', 'gs-refused');
  if (abi === 'i386' || (abi === 'x86_64' && entries.includes('int80'))) opts.push('tls');
  const o = r.pick(opts);
  if (o === 'ldt') {
    const e = r.below(16);
    (body.memory ??= {})[name] = { hex: userDesc(r, e, true), place: 'low32' };
    return { setup: { call: 'modify_ldt', args: [0x11n, `buf:${name}`, 16n] }, selector: BigInt((e << 3) | 7) };
  }
  if (o === 'tls') {
    const e = r.pick([13, 14]);
    // tls_desc_okay (arch/x86/kernel/tls.c) refuses a 16-bit or a not-present segment:
    // seg_32bit is forced on and seg_not_present off.
    const d = userDesc(r, e, true).split(' ');
    d[3] = le32((parseInt(d[3]!.match(/../g)!.reverse().join(''), 16) | 1) & ~0x20);
    (body.memory ??= {})[name] = { hex: d.join(' '), place: 'low32' };
    const s: FuzzSetup = { call: 'set_thread_area', args: [`buf:${name}`] };
    if (abi !== 'i386') {
      s.entry = 'int80';
      (body.requires ??= {}).ia32 = true;
    }
    return { setup: s, selector: BigInt((e << 3) | 3) };
  }
  if (o === 'gs') return { setup: { call: 'arch_prctl', args: [0x1001n, r.pick([0n, 1n, 0x1234n, 0x2_0000_0000n, 0x7fff_ffff_f000n - 0x1000n])] } };
  // Refused on purpose: at or above TASK_SIZE_MAX (process_64.c do_arch_prctl_64 → -EPERM).
  return { setup: { call: 'arch_prctl', args: [0x1001n, r.pick([1n << 63n, 0xffff_8000_0000_0000n, MASK64])], expect_errno: 'EPERM' } };
}

/** Draw a feature case into `body` (entry/call/...); returns the template's name. */
function featureCase(r: Rng, f: FuzzFeature, abi: Abi, entries: readonly FuzzEntry[], body: FuzzBody, base: () => string): string {
  const int80ok = abi !== 'i386' && entries.includes('int80');
  const native: FuzzEntry = abi === 'i386' ? 'int80' : 'syscall';
  const useInt80 = () => {
    body.entry = 'int80';
    if (abi !== 'i386') (body.requires ??= {}).ia32 = true;
  };
  switch (f) {
    case 'setup': {
      const kind = base();
      const n = r.chance(0.7) ? 1 : 2;
      let sel: bigint | undefined;
      for (let i = 0; i < n; i++) {
        const v = validSetup(r, abi, entries, body, `s${i}`);
        (body.setup ??= []).push(v.setup);
        sel ??= v.selector;
      }
      // The selector the set-up made, loaded after the call: the LDT/GDT entry survived it.
      if (sel !== undefined && r.chance(0.4)) body.segs = { [freeSeg(abi)]: sel };
      return `setup+${kind}`;
    }
    case 'breakpoint': {
      const kind = base();
      body.breakpoint = true;
      (body.requires ??= {}).kernel = '>=5.13';
      if (r.chance(0.25) && !body.flags?.includes('TF')) (body.flags ??= []).push('TF');
      return `breakpoint+${kind}`;
    }
    case 'ldt': {
      body.entry = native;
      if (int80ok && r.chance(0.2)) useInt80();
      body.call = 'modify_ldt';
      body.isolate = true;
      const func = r.pick([1n, 0x11n, 0x11n, 1n, 0n, 2n, 0x10n, BigInt(r.below(256))]);
      if (func === 0n || func === 2n) {
        // read_ldt / read_default_ldt clear up to bytecount: keep it inside the 64-byte region.
        body.memory = { out: { size: 64, fill: 0xee, readback: true } };
        if (r.chance(0.5)) body.setup = [validSetup(r, abi, [], body, 's0').setup];
        body.args = [func, 'buf:out', BigInt(r.pick([0, 8, 16, 24, 40, 64]))];
        return 'ldt-read';
      }
      const e = r.pick([0, 1, 2, 3, 7, 8191, 8192, 0xffff_ffff, r.below(16)]);
      body.memory = { u: { hex: userDesc(r, e, r.chance(0.5)), place: 'low32' } };
      body.args = [func, 'buf:u', BigInt(r.pick([16, 16, 16, 16, 0, 8, 15, 17, 24, 32]))];
      if (e < 8192 && r.chance(0.35)) body.segs = { [freeSeg(abi)]: BigInt((e << 3) | 7) };
      return 'ldt-write';
    }
    case 'tls': {
      useInt80();
      body.isolate = true;
      if (r.chance(0.3)) {
        const v = validSetup(r, abi, entries, body, 's0');
        if (v.setup.call === 'set_thread_area') body.setup = [v.setup];
        body.call = 'get_thread_area';
        // Entry 12 of an i386 process holds its libc's TLS base, which is each target's own.
        const ge = abi === 'i386' ? [13, 14, 11, 15, 0xffff_ffff] : [13, 14, 12, 11, 15, 0xffff_ffff];
        body.memory = { ...body.memory, g: { hex: le32(r.pick(ge)), size: 16, fill: 0xee, place: 'low32', readback: true } };
        body.args = ['buf:g'];
        return 'tls-get';
      }
      // Entry 12 is the i386 libc's own thread pointer: replacing it would break the probe.
      const es = [0xffff_ffff, 13, 14, 6, 7, 8, 11, 15, 0];
      if (abi !== 'i386') es.push(12);
      const e = r.pick(es);
      body.call = 'set_thread_area';
      body.memory = { u: { hex: userDesc(r, e, r.chance(0.6)), place: 'low32', readback: true } };
      body.args = ['buf:u'];
      if (e >= 12 && e <= 14 && r.chance(0.35)) body.segs = { [freeSeg(abi)]: BigInt((e << 3) | 3) };
      return 'tls-set';
    }
    case 'arch_prctl': {
      body.entry = native;
      body.call = 'arch_prctl';
      body.isolate = true;
      // Never ARCH_SET_FS (libc's thread pointer), ARCH_SET_CPUID, the vDSO mappers or CET/LAM
      // enables: those would change the probe itself. Unknown codes are EINVAL.
      const bogus = [0n, 0x1000n, 0x1005n, 0x1013n, 0x1fffn, 0x2000n, 0x6000n, 0xffff_ffffn];
      if (abi === 'i386') {
        // The compat arch_prctl knows only the CPUID options (do_arch_prctl_common): the rest is EINVAL.
        body.args = [r.pick([0x1001n, 0x1002n, 0x1003n, 0x1004n, 0x1011n, ...bogus]), BigInt(r.u32())];
        return 'arch_prctl-compat';
      }
      const o = r.below(4);
      if (o === 0) {
        body.args = [0x1001n, interesting(r, 64)];
        return 'arch_prctl-set-gs';
      }
      if (o === 1) {
        body.setup = [validSetup(r, 'x86_64', [], body, 's0').setup].filter((s) => s.call === 'arch_prctl');
        if (!body.setup.length) body.setup = [{ call: 'arch_prctl', args: [0x1001n, 0x2_0000_0000n] }];
        body.memory = { ...body.memory, b: { size: 8, fill: 0xaa, readback: true } };
        body.args = [0x1004n, r.chance(0.85) ? 'buf:b' : 'unmapped'];
        return 'arch_prctl-get-gs';
      }
      if (o === 2) {
        body.args = [0x1011n, 0n];
        return 'arch_prctl-get-cpuid';
      }
      body.args = [r.pick(bogus), BigInt(r.u32())];
      return 'arch_prctl-bogus';
    }
    case 'signals': {
      body.entry = native;
      if (int80ok && r.chance(0.2)) useInt80();
      body.isolate = true;
      const sig = r.pick(['SIGUSR1', 'SIGUSR2', 'SIGURG', 'SIGWINCH', 'SIGCHLD', 'SIGALRM']);
      const num = BigInt(SIGNALS[sig as keyof typeof SIGNALS] ?? 10);
      const how = r.below(5);
      if (how <= 1) body.signals = { [sig]: 'record' };
      else if (how === 2) body.signals = { [sig]: { action: 'record', restart: true } };
      else if (how === 3) body.signals = { [sig]: 'ignore' };
      else body.signals = { [sig]: 'record' };
      if (how === 4) body.blocked = [sig];
      const bad = r.chance(0.1);
      // Signal 0 probes the target; 65 is past _NSIG (kernel/signal.c valid_signal → EINVAL).
      const s = bad ? r.pick([0n, 65n, 0xffff_ffffn]) : num;
      if (r.chance(0.5)) {
        body.call = 'kill';
        body.args = ['pid', s];
      } else {
        body.call = 'tgkill';
        body.args = ['pid', 'tid', s];
      }
      return `signals-${body.call}`;
    }
    case 'restart': {
      body.entry = native;
      if (int80ok && r.chance(0.2)) useInt80();
      (body.requires ??= {}).features = ['ptrace'];
      const restart = r.chance(0.5);
      body.signals = { SIGUSR1: restart ? { action: 'record', restart: true } : 'record', SIGUSR2: 'record' };
      // The first signal arrives at the call's entry stop; a restarted call (n = 3: call,
      // rt_sigreturn, call again) is ended by the second, whose handler has no SA_RESTART.
      body.ptrace = [{ stop: 'entry', kill: 'SIGUSR1' }, { stop: 'entry', n: 3, kill: 'SIGUSR2' }];
      const c = r.pick(['read', 'read', 'pause', 'nanosleep']);
      body.call = c;
      if (c === 'read') {
        body.fds = { p: { pipe: '' } };
        body.memory = { b: { size: 8 } };
        body.args = ['fd:p.r', 'buf:b', 8n];
      } else if (c === 'nanosleep') {
        body.memory = { ts: { hex: `${le64(100n)} ${le64(0n)}` } };
        body.args = ['buf:ts', 0n];
      }
      return `restart-${body.call}${restart ? '-sa' : ''}`;
    }
    case 'sigreturn': {
      body.entry = 'sigreturn';
      const fr: Record<string, Val> = {};
      const names = abi === 'i386' ? ['eax', 'ebx', 'ecx', 'edx', 'esi', 'edi', 'ebp'] : ['rax', 'rbx', 'rcx', 'rdx', 'rsi', 'rdi', 'rbp', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15'];
      const n = r.below(5);
      for (let i = 0; i < n; i++) fr[r.pick(names)] = interesting(r, codeBits(abi));
      const fl = abi === 'i386' ? 'eflags' : 'rflags';
      if (r.chance(0.3)) {
        // DF, CF, OF, NT, RF, ID. Not AC: a fault after the return runs the probe's C handler with
        // it (SIGBUS natively); not TF: the probe's int3 stub owns SIGTRAP for this entry, so a
        // step after the return is reported as the case's signal natively, as a trap by the sim.
        const bit = r.pick([0x400n, 1n, 0x800n, 0x4000n, 0x1_0000n, 0x20_0000n]);
        fr[fl] = `rflags_in | ${hex(bit)}`;
      }
      let kind = 'sigreturn-regs';
      if (abi === 'x86_64' && r.chance(0.15)) {
        // A return address SYSRET must not take (non-canonical) or an unmapped canonical one.
        const ip = r.pick([0x8000_0000_0000n, 1n << 63n, 0x1000n, 0xffff_8000_0000_0000n, 0x7fff_ffff_f000n]);
        fr.rip = ip;
        if (r.chance(0.5)) {
          fr.rcx = ip;
          fr.r11 = 'rflags_in';
        }
        kind = 'sigreturn-rip';
      }
      if (abi === 'i386' && r.chance(0.25)) {
        // RPL-0 selectors come back with RPL 3 (fixup_rpl). Only selectors that load: one that
        // faults in reload_segments is replaced by 0, and a null DS/ES/SS then faults in the
        // native probe's own code after the return, which the sim does not run (docs/fuzz.md).
        // Nor a DS or SS with a base (0x63, libc's TLS entry): the probe's own data accesses
        // after the return would go through it natively.
        const seg = r.pick(['cs', 'ds', 'es', 'fs', 'ss']);
        fr[seg] = seg === 'ds' || seg === 'ss' ? r.pick([0x28n, 0x2bn]) : r.pick([0x20n, 0x23n, 0x28n, 0x2bn, 0x63n]);
        kind = 'sigreturn-segs';
      }
      body.sigreturn = fr;
      if (abi === 'x86_64' && r.chance(0.1)) {
        // rt_sigreturn (15) is on the x86_64 strict-mode list (kernel/seccomp.c mode1_syscalls).
        body.seccomp = 'strict';
        (body.requires ??= {}).features = ['seccomp'];
        kind += '-strict';
      }
      return kind;
    }
    case 'vdso_getrandom': {
      body.entry = 'vdso_fn';
      body.symbol = r.pick(['getrandom', '__vdso_getrandom']);
      (body.requires ??= {}).kernel = '>=6.11';
      body.memory = { b: { size: 64, fill: 0 } };
      const o = r.below(5);
      if (o === 0) {
        // The opaque-parameters query (lib/vdso/getrandom.c): buffer NULL, len 0, flags 0, ~0UL.
        body.memory.b!.readback = true;
        body.args = [0n, 0n, r.chance(0.8) ? 0n : 1n, 'buf:b', MASK64];
        return 'getrandom-query';
      }
      if (o === 1) {
        body.args = ['unmapped', BigInt(r.pick([1, 16, 64])), 0n, 0n, 0n];
        return 'getrandom-fault';
      }
      // GRND_NONBLOCK 1, GRND_RANDOM 2, GRND_INSECURE 4; RANDOM|INSECURE and unknown bits are EINVAL.
      body.args = ['buf:b', BigInt(r.pick([0, 1, 16, 32, 64])), BigInt(r.pick([0, 1, 2, 4, 3, 5, 6, 7, 8, 0x10, 0x8000_0000, r.u32()])), 0n, 0n];
      return 'getrandom-call';
    }
    case 'process_vm_readv': {
      body.entry = native;
      body.call = 'process_vm_readv';
      const w = abi === 'i386' ? 32 : 64; // struct iovec: two longs (compat_iovec on i386)
      const iov = (base: bigint, len: bigint) => (w === 64 ? `${le64(base)} ${le64(len)}` : `${le32(base)} ${le32(len)}`);
      const src = 0x5a5b_0000n;
      const remote = r.pick([src, src, src + 0xff8n, 0x5a5c_0000n, 0n, ...(abi === 'x86_64' ? [0xffff_ffff_ff60_0000n] : [])]);
      const local = r.pick([0x5a5a_0000n, 0x5a5a_0000n, 0x5a5a_0038n, 0x5a5c_0000n]);
      const len = BigInt(r.pick([0, 1, 8, 16, 64]));
      const lcnt = BigInt(r.pick([1, 1, 1, 0, 2, 1025]));
      body.memory = {
        dst: { at: 0x5a5a_0000n, size: 128, fill: 0xee, readback: true },
        // 4 KiB so an iovec at +0xff8 crosses into the unmapped page after it.
        src: { at: src, size: 4096, text: 'fuzz-process-vm-readv' },
        liov: { hex: `${iov(local, len)} ${iov(0x5a5a_0040n, 8n)}` },
        riov: { hex: `${iov(remote, len)} ${iov(src + 8n, 8n)}` },
      };
      body.args = [r.chance(0.9) ? 'pid' : r.pick([0n, 0x7fff_fff0n]), 'buf:liov', lcnt, r.chance(0.9) ? 'buf:riov' : 'unmapped', BigInt(r.pick([1, 1, 2, 0])), r.chance(0.9) ? 0n : 1n];
      return 'process_vm_readv';
    }
    case 'strict': {
      body.seccomp = 'strict';
      (body.requires ??= {}).features = ['seccomp'];
      body.entry = native;
      const c = r.pick(['write', 'write', 'read', 'getppid', 'exit', 'exit_group', 'close', 'enosys', ...(int80ok ? ['int80-write', 'int80-one'] : []), ...(abi === 'i386' ? ['rt_sigreturn'] : [])]);
      body.memory = { b: { text: 'x', place: 'low32' } };
      switch (c) {
        case 'write': body.call = 'write'; body.args = ['fd:null', 'buf:b', BigInt(r.below(2))]; break;
        case 'read': body.call = 'read'; body.fds = { p: { pipe: 'abc' } }; body.args = ['fd:p.r', 'buf:b', 1n]; break;
        case 'exit': body.call = 'exit'; body.args = [BigInt(r.below(256))]; break;
        case 'exit_group': body.call = 'exit_group'; body.args = [BigInt(r.below(256))]; break;
        case 'close': body.call = 'close'; body.fds = { c: { closed: true } }; body.args = ['fd:c']; break;
        case 'enosys': body.nr = enosysNumber(r, tableOf(abi, native), 'range'); break;
        case 'int80-write': useInt80(); body.call = 'write'; body.args = ['fd:null', 'buf:b', 1n]; break;
        // The x86_64 write number through int $0x80 is ia32 exit: on the list (mode1_syscalls_32).
        case 'int80-one': useInt80(); body.nr = 1n; body.args = [BigInt(r.below(256))]; break;
        default: body.call = c;
      }
      return `strict-${c}`;
    }
  }
}

/** The plain calls of session 1 (ids, closed fds, bad pointers, ENOSYS numbers) into `body`; returns the template. */
function plainCase(r: Rng, abi: Abi, allowed: readonly FuzzEntry[], body: FuzzBody): string {
  const entry = r.pick(allowed);
  body.entry = entry;
  const table = tableOf(abi, entry);
  const wide = codeBits(abi) === 64 && table !== 'i386'; // 64-bit argument registers
  if (entry === 'int80' && abi !== 'i386') (body.requires ??= {}).ia32 = true;
  const highBits = (sym: string): Val => (wide && r.chance(0.3) ? `${sym} | ${hex(0xffff_ffff_0000_0000n)}` : sym);
  const kinds = ['id', 'id', 'id', 'close-closed', 'write-null', 'read-badptr', 'enosys-gap', 'enosys-range', 'negative'];
  if (abi === 'x86_64' && entry === 'syscall') kinds.push('x32-bit');
  const kind = r.pick(kinds);
  switch (kind) {
    case 'id':
      body.call = r.pick(ID_CALLS.filter((c) => lookupName(table, c)));
      break;
    case 'close-closed':
      body.call = 'close';
      body.fds = { c: { closed: true } };
      body.args = [highBits('fd:c')];
      break;
    case 'write-null':
      body.call = 'write';
      body.memory = { ...body.memory, b: { text: 'fuzz' } };
      body.args = [highBits('fd:null'), 'buf:b', BigInt(r.below(5))];
      break;
    case 'read-badptr':
      // read from a pipe holding data into an unmapped buffer: copy_to_user fails, -EFAULT.
      body.call = r.chance(0.5) ? 'read' : 'write';
      body.fds = { p: { pipe: 'data' } };
      body.args = [body.call === 'read' ? 'fd:p.r' : 'fd:p.w', 'unmapped', BigInt(1 + r.below(4))];
      break;
    case 'x32-bit':
      // The x32 bit on an x86_64 call: ENOSYS unless x32 is built (then the x32 table's row).
      body.nr = X32_SYSCALL_BIT | BigInt(lookupName('x86_64', r.pick(['getpid', 'gettid', 'getuid']))!.nr);
      break;
    default:
      body.nr = enosysNumber(r, table, kind === 'enosys-gap' ? 'gap' : kind === 'enosys-range' ? 'range' : 'negative');
  }
  return kind;
}

/**
 * Draw case `index` of `abi`: a pure function of (seed, abi, index, entries, features). Half
 * the cases (when any feature fits the ABI) come from a feature template, the rest are plain.
 */
export function generateCase(seed: string, abi: Abi, index: number, entries: readonly FuzzEntry[], features: readonly FuzzFeature[] = FUZZ_FEATURES): FuzzCase | undefined {
  const allowed = entriesFor(abi, entries);
  if (!allowed.length) return undefined;
  const r = new Rng(`${seed}/${abi}/${index}`);
  const bits = codeBits(abi);
  const feats = features.filter((f) => featureFits(f, abi, allowed));
  let feature: FuzzFeature | undefined;
  if (feats.length && r.chance(FEATURE_SHARE)) {
    let w = r.below(feats.reduce((s, f) => s + FEATURE_WEIGHT[f], 0));
    feature = feats.find((f) => (w -= FEATURE_WEIGHT[f]) < 0)!;
  }
  const body: FuzzBody = { entry: allowed[0]! };
  const kind = feature ? featureCase(r, feature, abi, allowed, body, () => plainCase(r, abi, allowed, body)) : plainCase(r, abi, allowed, body);
  const numbered = body.entry === 'syscall' || body.entry === 'int80';
  // High bits in RAX: the kernel uses the low 32 bits sign-extended (ABI-FACTS §3.4).
  if (numbered && bits === 64 && r.chance(0.25)) body.nr_high = r.chance(0.5) ? 0xffff_ffffn : BigInt(r.u32());
  // A vDSO function is a C call: its caller-saved registers are the function's to clobber.
  if (body.entry !== 'vdso_fn') {
    if (r.chance(0.5)) body.sentinel = true;
    const visible = (abi === 'i386' ? GPRS32 : GPRS64).filter((g) => g !== 'rsp' && g !== 'rax');
    const nregs = r.below(6);
    for (let i = 0; i < nregs; i++) (body.regs ??= {})[r.pick(visible)] = interesting(r, bits);
  }
  // AC reaches the signal handler (handle_signal clears only DF, RF and TF), where the probe's
  // own misaligned C code takes #AC natively (SIGBUS): not drawn where a handler runs.
  // A vDSO function is called as C: the psABI wants DF clear at the call, so no flags there.
  const handler = body.signals || body.ptrace || body.breakpoint || body.entry === 'sigreturn';
  const flags: SettableFlag[] = body.entry === 'vdso_fn' ? [] : FLAG_POOL.filter((f) => r.chance(0.12) && !(handler && f === 'AC'));
  // TF under a tracer would add single-step stops to the tracer's script: not drawn there.
  // Nor for entry sigreturn: its probe stub raises the frame's signal with int3, which TF would
  // single-step; the return's TF belongs in the frame (`sigreturn: {rflags: rflags_in | 0x100}`).
  // Nor in strict mode for i386: the probe's own instructions before int $0x80 trap, and the
  // trap handler's rt_sigreturn (173) is not on the ia32 strict list: SIGKILL natively.
  if (r.chance(0.04) && !body.ptrace && body.entry !== 'vdso_fn' && body.entry !== 'sigreturn' && !(body.seccomp && abi === 'i386')) flags.push('TF');
  for (const f of flags) if (!body.flags?.includes(f)) (body.flags ??= []).push(f);
  return { abi, index, kind, body };
}

/** Case indexes of a shard: round-robin like `run --shard` (harness/run.ts selectCases). */
export function shardIndexes(count: number, shard?: { index: number; count: number }): number[] {
  const out: number[] = [];
  for (let i = 0; i < count; i++) if (!shard || i % shard.count === shard.index - 1) out.push(i);
  return out;
}

// ------------------------------------------------------------------ YAML

function yval(v: Val): string {
  return typeof v === 'bigint' ? hex(BigInt.asUintN(64, v)) : JSON.stringify(v);
}

function memYaml(m: FuzzMem): string {
  const p: string[] = [];
  if (m.text !== undefined) p.push(`text: ${JSON.stringify(m.text)}`);
  if (m.hex !== undefined) p.push(`hex: "${m.hex}"`);
  if (m.size !== undefined) p.push(`size: ${m.size}`);
  if (m.fill !== undefined) p.push(`fill: ${hex(BigInt(m.fill))}`);
  if (m.place) p.push(`place: ${m.place}`);
  if (m.at !== undefined) p.push(`at: ${hex(m.at)}`);
  if (m.readback) p.push('readback: true');
  return `{ ${p.join(', ')} }`;
}

/** The body as YAML lines of a case map (without name and expect), at `ind` spaces. */
export function bodyYaml(abi: Abi, b: FuzzBody, ind: string): string[] {
  const L: string[] = [];
  L.push(`${ind}abi: ${abi}`, `${ind}entry: ${b.entry}`);
  if (b.call !== undefined) L.push(`${ind}call: ${b.call}`);
  if (b.nr !== undefined) L.push(`${ind}nr: ${hex(b.nr)}`);
  if (b.nr_high !== undefined) L.push(`${ind}nr_high: ${hex(b.nr_high)}`);
  if (b.args?.length) L.push(`${ind}args: [${b.args.map(yval).join(', ')}]`);
  const regs = Object.entries(b.regs ?? {});
  if (b.sentinel || regs.length) {
    const parts = [...(b.sentinel ? ['sentinel: true'] : []), ...regs.map(([k, v]) => `${k}: ${yval(v!)}`)];
    L.push(`${ind}regs: { ${parts.join(', ')} }`);
  }
  if (b.flags?.length) L.push(`${ind}flags: [${b.flags.join(', ')}]`);
  if (b.memory) L.push(`${ind}memory: { ${Object.entries(b.memory).map(([k, m]) => `${k}: ${memYaml(m)}`).join(', ')} }`);
  if (b.fds) L.push(`${ind}fds: { ${Object.entries(b.fds).map(([k, f]) => `${k}: ${'closed' in f ? '{ closed: true }' : `{ pipe: ${JSON.stringify(f.pipe)} }`}`).join(', ')} }`);
  if (b.symbol !== undefined) L.push(`${ind}symbol: ${b.symbol}`);
  if (b.sigreturn) L.push(`${ind}sigreturn: { ${Object.entries(b.sigreturn).map(([k, v]) => `${k}: ${yval(v)}`).join(', ')} }`);
  if (b.setup?.length) {
    L.push(`${ind}setup:`);
    for (const c of b.setup) {
      const parts = [`call: ${c.call}`, `args: [${c.args.map(yval).join(', ')}]`, ...(c.expect_errno ? [`expect_errno: ${c.expect_errno}`] : []), ...(c.entry ? [`entry: ${c.entry}`] : [])];
      L.push(`${ind}  - { ${parts.join(', ')} }`);
    }
  }
  if (b.signals) L.push(`${ind}signals: { ${Object.entries(b.signals).map(([k, a]) => `${k}: ${typeof a === 'string' ? a : '{ action: record, restart: true }'}`).join(', ')} }`);
  if (b.blocked?.length) L.push(`${ind}blocked: [${b.blocked.join(', ')}]`);
  if (b.ptrace?.length) L.push(`${ind}ptrace: { at: [${b.ptrace.map((a) => `{ stop: ${a.stop}, ${a.n !== undefined ? `n: ${a.n}, ` : ''}kill: ${a.kill} }`).join(', ')}] }`);
  if (b.seccomp) L.push(`${ind}seccomp: ${b.seccomp}`);
  if (b.breakpoint) L.push(`${ind}breakpoint: { at: next_ip }`);
  if (b.segs) L.push(`${ind}segs: { ${Object.entries(b.segs).map(([k, v]) => `${k}: ${hex(v!)}`).join(', ')} }`);
  if (b.isolate) L.push(`${ind}isolate: true`);
  if (b.requires) {
    const q = b.requires;
    const parts = [...(q.ia32 ? ['ia32: true'] : []), ...(q.kernel ? [`kernel: "${q.kernel}"`] : []), ...(q.features?.length ? [`features: [${q.features.join(', ')}]`] : [])];
    L.push(`${ind}requires: { ${parts.join(', ')} }`);
  }
  return L;
}

/** Load spec text through the real loader and expander; throws with file:line:col on errors. */
export function expandText(file: string, text: string): ExpandedCase[] {
  const p = parseSpecText(file, text);
  const errors: SpecError[] = [...p.errors];
  const out = p.spec ? expandChecked(p.spec, errors) : [];
  if (errors.length) throw new Error(`fuzz: generated spec ${file} does not load:\n${errors.map(formatSpecError).join('\n')}`);
  return out;
}

/** A throwaway spec holding `cases` (name → body) for running; ids `<specId>/<slug>@<abi>`. */
export function runSpecText(specId: string, cases: { name: string; abi: Abi; body: FuzzBody }[]): string {
  const L = [
    `id: ${specId}`, 'title: sysabi fuzz cases', 'description: generated by sysabi fuzz', 'refs: [{ doc: docs/fuzz.md }]', 'tags: [smoke]',
    'cases:',
  ];
  for (const c of cases) {
    L.push(`  - name: ${JSON.stringify(c.name)}`);
    L.push(...bodyYaml(c.abi, c.body, '    '));
    L.push('    expect: { outcome: returned }');
  }
  return L.join('\n') + '\n';
}

// ------------------------------------------------------------------ running two sides

export interface FuzzSide {
  name: string;
  target: Target;
  info: TargetInfo;
}

/** An Observation, or why the case was not run or not usable on that side. */
type SideResult = { obs: Observation } | { why: string };

/** Run expanded cases on one side: per ABI, in chunks, skipping what the profile rules out. */
async function runSide(side: FuzzSide, ecs: readonly ExpandedCase[], chunk = 200): Promise<SideResult[]> {
  const out: SideResult[] = new Array(ecs.length);
  const byAbi = new Map<Abi, number[]>();
  ecs.forEach((ec, i) => {
    const abi = ec.case.abi;
    const av = side.info.abis[abi];
    const why = !av?.ok ? `${abi} not available: ${av?.reason ?? 'no reason given'}` : unmetRequirement(ec.requires, side.info, abi);
    if (why) out[i] = { why };
    else byAbi.set(abi, [...(byAbi.get(abi) ?? []), i]);
  });
  for (const idx of byAbi.values()) {
    for (let k = 0; k < idx.length; k += chunk) {
      const part = idx.slice(k, k + chunk);
      let obs: Observation[] | undefined;
      let thrown: string | undefined;
      try {
        obs = await side.target.run(part.map((i) => ecs[i]!.case));
      } catch (e) {
        thrown = e instanceof Error ? e.message : String(e);
      }
      part.forEach((i, j) => {
        const o = obs?.[j];
        if (thrown !== undefined) out[i] = { why: `run failed: ${thrown}` };
        else if (!o || o.id !== ecs[i]!.case.id) out[i] = { why: 'no Observation for this case' };
        else if (o.outcome === 'unsupported' || o.outcome === 'error') out[i] = { why: `${o.outcome}: ${o.reason ?? ''}` };
        else out[i] = { obs: o };
      });
    }
  }
  return out;
}

export type Compared =
  | { kind: 'same' }
  | { kind: 'not-compared'; why: string }
  | { kind: 'differ'; diffs: FieldDiff[]; a: Observation; b: Observation; ec: ExpandedCase };

/** SysV psABI §3.2.1: a called function may change these; only rax (the result) is the vDSO's answer. */
const CALLER_SAVED = new Set(['after.rcx', 'after.rdx', 'after.rsi', 'after.rdi', 'after.r8', 'after.r9', 'after.r10', 'after.r11', 'after.rflags']);

/**
 * Differences that say nothing about the ABI (docs/fuzz.md "Comparing"), found by the
 * session-2 campaigns:
 * - a vdso_fn case's caller-saved registers: the C function's to clobber (psABI §3.2.1);
 * - trapno/err present on one side only: for a signal no CPU exception raised (kill, tgkill,
 *   the perf SIGTRAP of a breakpoint) setup_sigcontext copies current->thread.trap_nr and
 *   error_code (arch/x86/kernel/signal_64.c), stale state from the thread's last trap, which
 *   the simulator does not claim;
 * - the registers of a signal raised by a `segs` load after the call: natively they are the
 *   probe's own code at that load, in the sim the modelled state;
 * - `traps` with a breakpoint: the #DB of the breakpoint ends the case before the return's
 *   single step, and natively the traps counted are the probe's own instructions before it;
 * - before.rax of entry sigreturn: the frame's rax is the input; what RAX held before the
 *   signal is the target's own.
 */
function notComparable(d: FieldDiff, c: Case): boolean {
  const f = d.field;
  if (c.entry === 'vdso_fn' && CALLER_SAVED.has(f)) return true;
  if (/^(signal|delivered\[\d+\])\.(trapno|err)$/.test(f) && (d.a === '(absent)' || d.b === '(absent)')) return true;
  if (c.segs && f.startsWith('signal.regs.')) return true;
  // The native probe reads the FS/GS bases after its `segs` loads and its restore of its own
  // selectors (a NULL GS load clears the base on this CPU); the sim reports them at the return.
  if (c.segs && (f === 'after.gs_base' || f === 'after.fs_base')) return true;
  if (c.breakpoint && f === 'traps') return true;
  if (c.entry === 'sigreturn' && f === 'before.rax') return true;
  // A process that died or exited before reporting has no `before` on that side.
  if (f.startsWith('before.') && (d.a === '(absent)' || d.b === '(absent)')) return true;
  return false;
}

/** Run on both sides and compare each case's Observations (harness/diff.ts). */
export async function runPair(sides: [FuzzSide, FuzzSide], ecs: readonly ExpandedCase[]): Promise<Compared[]> {
  const ra = await runSide(sides[0], ecs);
  const rb = await runSide(sides[1], ecs);
  return ecs.map((ec, i) => {
    const a = ra[i]!;
    const b = rb[i]!;
    if ('why' in a || 'why' in b) {
      return { kind: 'not-compared', why: [('why' in a) && `${sides[0].name}: ${a.why}`, ('why' in b) && `${sides[1].name}: ${b.why}`].filter(Boolean).join('; ') };
    }
    // The number of single-step traps depends on how many instructions the probe (or the
    // sim) runs with TF before it clears it, not on the ABI: only "traps vs none" counts.
    // An input given as an operand (`fd:c | 0xffffffff00000000`) resolves to each target's own
    // descriptor or address; diff.ts names only the plain value, so such inputs are not compared.
    const symbolic = (f: string) => f.startsWith('before.') && ec.case.regs[f.slice(7) as Gpr]?.ref !== undefined;
    const diffs = compareObservations(a.obs, b.obs, ec.case).filter((d) => !symbolic(d.field) && (d.field !== 'traps' || (a.obs.traps ?? 0) === 0 || (b.obs.traps ?? 0) === 0) && !notComparable(d, ec.case));
    return diffs.length ? { kind: 'differ', diffs, a: a.obs, b: b.obs, ec } : { kind: 'same' };
  });
}

/** The fields that make a disagreement; `before.*` (inputs loaded differently) is a target defect, kept apart. */
export function signature(diffs: readonly FieldDiff[]): string[] {
  return [...new Set(diffs.map((d) => d.field).filter((f) => !f.startsWith('before.')))].sort();
}

// ------------------------------------------------------------------ minimising

interface Step {
  label: string;
  apply(b: FuzzBody): FuzzBody;
}

const clone = (b: FuzzBody): FuzzBody => ({
  ...b,
  args: b.args && [...b.args],
  regs: b.regs && { ...b.regs },
  flags: b.flags && [...b.flags],
  sigreturn: b.sigreturn && { ...b.sigreturn },
  setup: b.setup && b.setup.map((c) => ({ ...c, args: [...c.args] })),
  blocked: b.blocked && [...b.blocked],
  segs: b.segs && { ...b.segs },
});
/** Drop an optional key when the simplification emptied it (the loader refuses `setup: []`). */
const prune = (y: FuzzBody): FuzzBody => {
  for (const k of ['args', 'flags', 'setup', 'blocked'] as const) if (y[k] && !y[k]!.length && k !== 'args') delete y[k];
  for (const k of ['regs', 'sigreturn', 'segs'] as const) if (y[k] && !Object.keys(y[k]!).length) delete y[k];
  for (const k of Object.keys(y) as (keyof FuzzBody)[]) if (y[k] === undefined) delete y[k];
  return y;
};

/** One-step simplifications of a body, most drastic first (drops before value changes). */
export function simplifications(b: FuzzBody): Step[] {
  const s: Step[] = [];
  for (const f of b.flags ?? []) {
    s.push({ label: `drop flag ${f}`, apply: (x) => { const y = clone(x); y.flags = y.flags?.filter((g) => g !== f); if (!y.flags?.length) delete y.flags; return y; } });
  }
  if (b.nr_high !== undefined) s.push({ label: 'drop nr_high', apply: (x) => { const y = clone(x); delete y.nr_high; return y; } });
  if (b.sentinel) s.push({ label: 'drop sentinel', apply: (x) => { const y = clone(x); delete y.sentinel; return y; } });
  for (const k of Object.keys(b.regs ?? {}) as Gpr[]) {
    s.push({ label: `drop ${k}`, apply: (x) => { const y = clone(x); if (y.regs) delete y.regs[k]; if (y.regs && !Object.keys(y.regs).length) delete y.regs; return y; } });
  }
  for (const [k, v] of Object.entries(b.regs ?? {}) as [Gpr, bigint][]) {
    const simpler: bigint[] = [0n];
    if (v > 0xffff_ffffn) simpler.push(v & 0xffff_ffffn, v & ~0xffff_ffffn);
    for (const w of simpler) {
      if (w !== v) s.push({ label: `${k} = ${hex(w)}`, apply: (x) => { const y = clone(x); if (y.regs && k in y.regs) y.regs[k] = w; return y; } });
    }
  }
  (b.args ?? []).forEach((a, i) => {
    if (typeof a === 'string' && a.includes('|')) {
      const plain = a.split('|')[0]!.trim();
      s.push({ label: `args[${i}] = ${plain}`, apply: (x) => { const y = clone(x); y.args![i] = plain; return y; } });
    }
  });
  // The session-2 parts: each can go (or, for the frame, one register at a time).
  if (b.breakpoint) s.push({ label: 'drop breakpoint', apply: (x) => { const y = clone(x); delete y.breakpoint; return y; } });
  if (b.segs) s.push({ label: 'drop segs', apply: (x) => prune(Object.assign(clone(x), { segs: undefined })) });
  if (b.blocked) s.push({ label: 'drop blocked', apply: (x) => prune(Object.assign(clone(x), { blocked: undefined })) });
  (b.setup ?? []).forEach((c, i) => {
    s.push({ label: `drop set-up call ${i + 1} (${c.call})`, apply: (x) => { const y = clone(x); y.setup?.splice(i, 1); return prune(y); } });
  });
  for (const k of Object.keys(b.sigreturn ?? {})) {
    s.push({ label: `drop sigreturn ${k}`, apply: (x) => { const y = clone(x); if (y.sigreturn) delete y.sigreturn[k]; return prune(y); } });
  }
  if (b.nr_high !== undefined && b.nr_high !== 0xffff_ffffn && b.nr_high !== 1n) {
    s.push({ label: 'nr_high = 1', apply: (x) => { const y = clone(x); if (y.nr_high !== undefined) y.nr_high = 1n; return y; } });
  }
  return s;
}

export interface Minimised {
  body: FuzzBody;
  /** The final case's comparison (fields, both Observations, the expanded case). */
  result: Extract<Compared, { kind: 'differ' }>;
  steps: string[];
  /** Candidate cases run while minimising (each on both targets). */
  tried: number;
  /** The disagreement did not reproduce on a rerun: the finding is not deterministic. */
  flaky: boolean;
}

const keeps = (c: Compared | undefined, sig: readonly string[]): c is Extract<Compared, { kind: 'differ' }> => {
  if (c?.kind !== 'differ') return false;
  const now = new Set(signature(c.diffs));
  return sig.every((f) => now.has(f));
};

/**
 * Greedy minimisation: each round runs every one-step simplification of the current body (one
 * batch per target), then tries all the steps that kept the disagreement together, else the
 * first one. A step "keeps" the disagreement when every field of the original signature still
 * differs. Ends at a fixpoint or after `maxRounds`. The first round also reruns the body as is.
 */
export async function minimise(sides: [FuzzSide, FuzzSide], abi: Abi, body: FuzzBody, sig: readonly string[], specId: string, maxRounds = 25): Promise<Minimised | undefined> {
  let cur = body;
  let curRes: Extract<Compared, { kind: 'differ' }> | undefined;
  const steps: string[] = [];
  let tried = 0;
  let n = 0;
  const runBodies = async (bodies: FuzzBody[]): Promise<Compared[]> => {
    if (!bodies.length) return [];
    const named = bodies.map((b) => ({ name: `m${n++}`, abi, body: b }));
    tried += bodies.length;
    return runPair(sides, expandText(`<fuzz ${specId}>`, runSpecText(specId, named)));
  };
  for (let round = 0; round < maxRounds; round++) {
    const cand = simplifications(cur);
    const bodies = cand.map((c) => c.apply(cur));
    const res = await runBodies(round === 0 ? [cur, ...bodies] : bodies);
    if (round === 0) {
      const first = res.shift();
      if (!keeps(first, sig)) return undefined; // not reproducible
      curRes = first;
    }
    const good = cand.map((_, i) => i).filter((i) => keeps(res[i], sig));
    if (!good.length) break;
    if (good.length > 1) {
      const all = good.reduce((b, i) => cand[i]!.apply(b), cur);
      const [r] = await runBodies([all]);
      if (keeps(r, sig)) {
        // Label only the steps that changed something once the earlier ones were applied
        // ("drop r10" makes a later "r10 = 0" moot).
        let b = cur;
        for (const i of good) {
          const next = cand[i]!.apply(b);
          if (bodyYaml(abi, next, '').join() !== bodyYaml(abi, b, '').join()) steps.push(cand[i]!.label);
          b = next;
        }
        cur = all;
        curRes = r;
        continue;
      }
    }
    const i = good[0]!;
    cur = bodies[i]!;
    curRes = res[i] as Extract<Compared, { kind: 'differ' }>;
    steps.push(cand[i]!.label);
  }
  // Confirm: two more runs of the final body must disagree the same way.
  const again = await runBodies([cur, cur]);
  const flaky = !again.every((c) => keeps(c, sig));
  return { body: cur, result: curRes!, steps, tried, flaky };
}

// ------------------------------------------------------------------ writing a finding

const ERRNO_NAME = new Map<number, string>(Object.entries(ERRNO).map(([k, v]) => [v, k]));
const SIGNAL_NAME = new Map<number, string>(Object.entries(SIGNALS).map(([k, v]) => [v, k]));
const E_NAMES: Partial<Record<RegName, string>> = { rax: 'eax', rbx: 'ebx', rcx: 'ecx', rdx: 'edx', rsi: 'esi', rdi: 'edi', rbp: 'ebp', rsp: 'esp', rip: 'eip', rflags: 'eflags' };

/** An expected value for `v` as the reference observed it, by the fact it equals where one does. */
function expectedValue(v: bigint, reg: RegName | undefined, o: Observation, bits: 32 | 64, call?: string): string {
  const u = (x: bigint) => BigInt.asUintN(bits, x);
  const w = u(v);
  if (reg === 'rax') {
    const s = BigInt.asIntN(bits, w);
    if (s < 0n && s >= -BigInt(MAX_ERRNO)) return `{ errno: ${ERRNO_NAME.get(Number(-s)) ?? String(-s)} }`;
  }
  // A register that came back as it went in is "preserved", whatever its value.
  if (reg && reg !== 'rax' && o.before[reg] !== undefined && u(o.before[reg]!) === w) return '$in';
  // Small values are literal (uid 0 is not "$uid" in a spec that should read 0).
  if (w >= 0x100n) {
    const e = o.env;
    // In a single-threaded probe tid == pid: gettid's result reads better as $tid.
    const ids = call === 'gettid' ? (['tid', 'pid'] as const) : (['pid', 'tid'] as const);
    for (const k of ['next_ip', 'entry_ip', ...ids, 'ppid'] as const) if (e[k] !== undefined && u(e[k]!) === w) return `$${k}`;
    if (o.before.rflags !== undefined && u(o.before.rflags) === w) return '$rflags_in';
    for (const [name, base] of Object.entries(e.bufs ?? {})) if (u(base) === w) return `$buf.${name}`;
    if (e.unmapped !== undefined && u(e.unmapped) === w) return '$unmapped';
  }
  return hex(w);
}

/** `expect:` lines for the fields of the signature, from the reference Observation `a`. */
export function expectYaml(sig: readonly string[], a: Observation, abi: Abi, ind: string, call?: string): { lines: string[]; unexpressed: string[] } {
  const bits = codeBits(abi);
  const lines: string[] = [];
  const unexpressed: string[] = [];
  const key = (r: RegName) => (bits === 32 ? (E_NAMES[r] ?? r) : r);
  const sigFields: string[] = [];
  for (const f of sig) {
    if (f === 'outcome') {
      if (a.outcome === 'returned') lines.push(`${ind}outcome: returned`);
      else if (a.outcome === 'signal' && a.signal) sigFields.push('signal.signo');
      else unexpressed.push(`outcome ${a.outcome}`);
    } else if (f.startsWith('after.')) {
      const r = f.slice(6) as RegName;
      const v = a.after?.[r];
      if (v === undefined) unexpressed.push(`${f} (absent on the reference)`);
      else if (r === 'rax') {
        const ev = expectedValue(v, r, a, bits, call);
        lines.push(ev.startsWith('{ errno:') ? `${ind}errno: ${ev.slice(9, -2)}` : `${ind}ret: ${ev}`);
      } else lines.push(`${ind}${key(r)}: ${expectedValue(v, r, a, (['cs', 'ss', 'ds', 'es', 'fs', 'gs', 'fs_base', 'gs_base'] as string[]).includes(r) ? 64 : bits)}`);
    } else if (f.startsWith('signal')) sigFields.push(f);
    else if (f === 'traps') lines.push(`${ind}traps: ${a.traps ? '{ min: 1 }' : 0}`);
    else if (f.startsWith('memory.')) {
      const m = a.memory?.[f.slice(7)];
      if (m === undefined) unexpressed.push(f);
      else lines.push(`${ind}memory: { ${f.slice(7)}: { hex: "${m}" } }`);
    } else unexpressed.push(f);
  }
  if (sigFields.length) {
    const s = a.signal;
    if (!s) unexpressed.push(...sigFields);
    else {
      const parts = [`signo: ${SIGNAL_NAME.get(s.signo) ?? s.signo}`];
      for (const f of sigFields) {
        const k = f.slice('signal.'.length);
        if (k === 'code' || k === 'errno' || k === 'trapno' || k === 'syscall' || k === 'arch') {
          const v = s[k as 'code'];
          if (v !== undefined) parts.push(`${k}: ${v}`);
        } else if (k === 'addr' && s.addr !== undefined) parts.push(`addr: ${expectedValue(s.addr, undefined, a, 64)}`);
        else if (k.startsWith('regs.')) {
          const r = k.slice(5) as RegName;
          const v = s.regs[r];
          if (v !== undefined) parts.push(`${key(r)}: ${expectedValue(v, undefined, a, bits)}`);
        } else if (k !== 'signo' && k !== '') unexpressed.push(f);
      }
      lines.push(`${ind}signal: { ${parts.join(', ')} }`);
    }
  }
  if (!lines.length) lines.push(`${ind}outcome: ${a.outcome === 'signal' ? 'signal' : 'returned'}`);
  return { lines, unexpressed };
}

export interface Finding {
  abi: Abi;
  /** Index of the generated case that first showed it. */
  index: number;
  kind: string;
  signature: string[];
  /** How many generated cases fell in this bucket (same ABI, entry, template, fields). */
  hits: number;
  original: FuzzBody;
  minimised?: Minimised;
  /** The written spec file, its spec id, and what the check says about it on each side. */
  file?: string;
  specId?: string;
  verdict?: [string, string];
  /** Fields the spec language cannot state (left as comments). */
  unexpressed?: string[];
  duplicateOf?: string;
}

function tagsFor(sig: readonly string[], b: FuzzBody, abi: Abi): string[] {
  const t = new Set<string>(['entry']);
  if (sig.some((f) => /^after\.r(?!ip|flags)|^after\.e|^after\.r\d/.test(f))) t.add('registers');
  if (sig.some((f) => f.includes('rflags') || f === 'traps')) t.add('flags');
  if (sig.includes('after.rax')) t.add('errno');
  if (sig.some((f) => f.startsWith('signal') || f === 'outcome')) t.add('fault');
  if (b.flags?.includes('TF')) t.add('single-step');
  if (b.entry === 'int80' || abi === 'i386') t.add('compat');
  if (abi === 'x32') t.add('x32');
  if (b.setup || b.segs || b.call === 'modify_ldt' || b.call === 'set_thread_area' || b.call === 'get_thread_area') t.add('segments');
  if (b.call === 'arch_prctl' || b.call === 'set_thread_area' || b.call === 'get_thread_area') t.add('tls');
  if (b.breakpoint) t.add('return-path');
  if (b.signals || b.entry === 'sigreturn') t.add('signals');
  if (b.ptrace) t.add('ptrace').add('restart');
  if (b.seccomp) t.add('seccomp');
  if (b.entry === 'vdso_fn') t.add('vdso');
  if (b.call === 'process_vm_readv') t.add('memory');
  return [...t];
}

const REFS: Record<string, string> = {
  syscall: 'arch/x86/entry/entry_64.S (entry_SYSCALL_64); arch/x86/entry/syscall_64.c (do_syscall_64)',
  int80: 'arch/x86/entry/syscall_32.c (do_int80_emulation)',
  sigreturn: 'arch/x86/kernel/signal_64.c, signal_32.c (rt_sigreturn, restore_sigcontext)',
  vdso_fn: 'lib/vdso/getrandom.c (__cvdso_getrandom); arch/x86/entry/vdso/vdso64.lds.S',
};

/** The finding as a spec file (one case), ready for review and a move to specs/<area>/. */
export function findingSpecText(f: Finding, run: { seed: string; targets: [string, string]; command: string }): { specId: string; text: string; unexpressed: string[] } {
  const m = f.minimised!;
  const specId = `fuzz.s${run.seed}.${f.abi}_${f.index}`;
  const a = m.result.a;
  const ex = expectYaml(f.signature, a, f.abi, '      ', f.minimised!.body.call);
  const what = m.body.call ?? `nr ${hex(m.body.nr ?? 0n)}`;
  const settings = [...(m.body.flags ?? []).map((x) => `${x} set`), ...Object.keys(m.body.regs ?? {}).map((r) => `${r} set`), ...(m.body.nr_high !== undefined ? ['high bits in rax'] : [])];
  const name = `${what} via ${m.body.entry}${settings.length ? ` with ${settings.join(', ')}` : ''}`;
  const L: string[] = [
    '# yaml-language-server: $schema=../schema.json',
    `# Found by: ${run.command}`,
    `# seed ${run.seed}, ${f.abi} case ${f.index} (template ${f.kind}); ${f.hits} generated case(s) disagreed the same way.`,
    `# ${run.targets[0]} (the reference; the expectations below are what it observed) vs ${run.targets[1]}:`,
    ...m.result.diffs.map((d) => `#   ${d.field}: ${run.targets[0]} ${d.a} | ${run.targets[1]} ${d.b}`),
    `# Minimised in ${m.tried} runs: ${m.steps.length ? m.steps.join('; ') : 'nothing could be dropped'}.${m.flaky ? ' WARNING: did not reproduce on every rerun.' : ''}`,
    '# Before committing: give it a real id and area, say which rule this is, and cite its source.',
    ...(ex.unexpressed.length ? [`# Not expressible as expectations: ${ex.unexpressed.join(', ')}`] : []),
    `id: ${specId}`,
    `title: ${JSON.stringify(`${run.targets[0]} and ${run.targets[1]} disagree on ${f.signature.join(', ')} (${what}, ${f.abi})`)}`,
    `description: ${JSON.stringify(`Found by sysabi fuzz (seed ${run.seed}) and minimised: ${name}. The expectations are what ${run.targets[0]} observed.`)}`,
    'refs:',
    `  - kernel: ${JSON.stringify(REFS[m.body.entry]!)}`,
    `  - doc: ${JSON.stringify(`docs/fuzz.md (sysabi fuzz --seed ${run.seed})`)}`,
    `tags: [${tagsFor(f.signature, m.body, f.abi).join(', ')}]`,
    `abi: [${f.abi}]`,
    'cases:',
    `  - name: ${JSON.stringify(name)}`,
    ...bodyYaml(f.abi, m.body, '    ').filter((l) => !l.trimStart().startsWith('abi:')),
    '    expect:',
    ...ex.lines,
  ];
  return { specId, text: L.join('\n') + '\n', unexpressed: ex.unexpressed };
}

// ------------------------------------------------------------------ the whole fuzz run

export interface FuzzOptions {
  /** Decimal seed (the spec ids of findings carry it). */
  seed: string;
  /** Cases per ABI (before sharding). */
  count: number;
  abis: Abi[];
  entries: FuzzEntry[];
  /** Feature templates drawn besides the plain calls (default: all of FUZZ_FEATURES; [] = session 1's set). */
  features?: readonly FuzzFeature[];
  shard?: { index: number; count: number };
  /** Where findings are written (created when there is one). */
  outDir?: string;
  /** Buckets minimised at most (the rest are counted only). */
  maxFindings?: number;
  /** The command line, for the files' comments. */
  command?: string;
  /** Progress messages. */
  log?(s: string): void;
}

export interface FuzzAbiStats {
  abi: Abi;
  generated: number;
  compared: number;
  notCompared: number;
  differing: number;
  /** A reason cases were not compared (the first seen), e.g. ABI not available. */
  notComparedWhy?: string;
}

export interface FuzzReport {
  seed: string;
  targets: [string, string];
  stats: FuzzAbiStats[];
  findings: Finding[];
  /** Cases whose inputs were loaded differently (a target defect), by case. */
  inputMismatches: { abi: Abi; index: number; fields: string[] }[];
}

export async function runFuzz(sides: [FuzzSide, FuzzSide], o: FuzzOptions): Promise<FuzzReport> {
  const log = o.log ?? (() => {});
  const rep: FuzzReport = { seed: o.seed, targets: [sides[0].name, sides[1].name], stats: [], findings: [], inputMismatches: [] };
  const buckets = new Map<string, Finding>();
  const specId = `fuzz.s${o.seed}`;
  for (const abi of ABIS.filter((a) => o.abis.includes(a))) {
    const idx = shardIndexes(o.count, o.shard);
    const cases = idx.map((i) => generateCase(o.seed, abi, i, o.entries, o.features)).filter((c): c is FuzzCase => c !== undefined);
    const st: FuzzAbiStats = { abi, generated: cases.length, compared: 0, notCompared: 0, differing: 0 };
    rep.stats.push(st);
    if (!cases.length) continue;
    log(`fuzz: ${abi}: ${cases.length} cases`);
    // Chunks keep memory flat and progress visible; each chunk is one spec through the loader.
    for (let k = 0; k < cases.length; k += 500) {
      const part = cases.slice(k, k + 500);
      const ecs = expandText(`<fuzz ${specId}>`, runSpecText(specId, part.map((c) => ({ name: `case ${c.index}`, abi, body: c.body }))));
      const res = await runPair(sides, ecs);
      res.forEach((r, j) => {
        const c = part[j]!;
        if (r.kind === 'not-compared') {
          st.notCompared++;
          st.notComparedWhy ??= r.why;
          return;
        }
        st.compared++;
        if (r.kind === 'same') return;
        const before = r.diffs.filter((d) => d.field.startsWith('before.')).map((d) => d.field);
        if (before.length) rep.inputMismatches.push({ abi, index: c.index, fields: before });
        const sig = signature(r.diffs);
        if (!sig.length) return;
        st.differing++;
        const key = `${abi}|${c.body.entry}|${sig.join(',')}`;
        const b = buckets.get(key);
        if (b) b.hits++;
        else buckets.set(key, { abi, index: c.index, kind: c.kind, signature: sig, hits: 1, original: c.body });
      });
    }
  }
  const max = o.maxFindings ?? 25;
  const written = new Map<string, string>();
  let n = 0;
  // The most frequent disagreements first: with --max-findings those are the ones minimised.
  for (const f of [...buckets.values()].sort((x, y) => y.hits - x.hits)) {
    rep.findings.push(f);
    // Fewer fields of a disagreement already written (same ABI and entry) are most likely the
    // same rule with fewer registers set (a zero register cannot show a clobber to zero).
    const cover = rep.findings.find((g) => g !== f && g.specId && g.abi === f.abi && g.original.entry === f.original.entry && f.signature.every((x) => g.signature.includes(x)));
    if (cover) {
      f.duplicateOf = cover.specId;
      continue;
    }
    if (n++ >= max) continue;
    log(`fuzz: minimising ${f.abi} case ${f.index} (${f.signature.join(', ')})`);
    const m = await minimise(sides, f.abi, f.original, f.signature, specId);
    if (!m) {
      f.unexpressed = ['did not reproduce when rerun'];
      continue;
    }
    f.minimised = m;
    // Findings that differ in the same fields and need the same inputs (flags, registers,
    // high bits) on the same ABI and entry are one rule met through different calls.
    const b = m.body;
    const dedupe = [f.abi, b.entry, f.signature.join(','), (b.flags ?? []).join(','), Object.keys(b.regs ?? {}).sort().join(','), b.nr_high !== undefined, b.sentinel === true].join('|');
    const prev = written.get(dedupe);
    if (prev) {
      f.duplicateOf = prev;
      continue;
    }
    const { specId: sid, text, unexpressed } = findingSpecText(f, { seed: o.seed, targets: rep.targets, command: o.command ?? `sysabi fuzz --seed ${o.seed}` });
    f.specId = sid;
    f.unexpressed = unexpressed;
    // Prove the file loads, and say how each side fares against it.
    const [ec] = expandText(`${sid}.yaml`, text);
    const obsA = { ...m.result.a, id: ec!.case.id };
    const obsB = { ...m.result.b, id: ec!.case.id };
    f.verdict = [check(ec!, obsA, rep.targets[0]).status, check(ec!, obsB, rep.targets[1]).status];
    if (o.outDir) {
      mkdirSync(o.outDir, { recursive: true });
      f.file = join(o.outDir, `${sid.replace(/\./g, '-')}.yaml`);
      writeFileSync(f.file, text);
    }
    written.set(dedupe, sid);
  }
  return rep;
}

/** The report as text: per-ABI counts, then one line per finding. */
export function renderFuzzText(rep: FuzzReport): string {
  const [A, B] = rep.targets;
  const L = [`# sysabi fuzz: seed ${rep.seed}, a = ${A} (reference), b = ${B}`];
  for (const s of rep.stats) {
    L.push(`# ${s.abi}: ${s.generated} generated, ${s.compared} compared, ${s.differing} disagree, ${s.notCompared} not compared${s.notComparedWhy ? ` (e.g. ${s.notComparedWhy})` : ''}`);
  }
  for (const f of rep.findings) {
    const m = f.minimised;
    const head = `${f.abi} case ${f.index} [${f.kind}] x${f.hits}: ${f.signature.join(', ')}`;
    if (!m && f.duplicateOf) L.push(`${head} — fields covered by ${f.duplicateOf}`);
    else if (!m) L.push(`${head}${f.unexpressed ? ` — ${f.unexpressed.join('; ')}` : ' — not minimised (over --max-findings)'}`);
    else if (f.duplicateOf) L.push(`${head} — minimises to the same case as ${f.duplicateOf}`);
    else {
      L.push(`${head} → ${f.file ?? f.specId} (${A} ${f.verdict?.[0]}, ${B} ${f.verdict?.[1]}${m.flaky ? ', FLAKY' : ''})`);
      for (const d of m.result.diffs) L.push(`    ${d.field}: a ${d.a} | b ${d.b}`);
    }
  }
  if (rep.inputMismatches.length) L.push(`# ${rep.inputMismatches.length} case(s) where the targets loaded different inputs (a target defect): e.g. ${rep.inputMismatches[0]!.abi} case ${rep.inputMismatches[0]!.index}: ${rep.inputMismatches[0]!.fields.join(', ')}`);
  const total = rep.stats.reduce((s, x) => s + x.differing, 0);
  L.push(`# ${total} disagreeing case(s) in ${rep.findings.length} bucket(s); ${rep.findings.filter((f) => f.file).length} file(s) written`);
  return L.join('\n') + '\n';
}
