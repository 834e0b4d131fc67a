// Target registry: turns a target spec on the command line (`name[:param]`, e.g. `sim`,
// `sim:linux-7.0-amd`, `native`) into a Target, and knows which targets `make check` runs
// by default. Adding an implementation is one registerTarget() call (see README "Adding a target").

import { existsSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Target } from '../contracts.js';
import { DEFAULT_PROFILE, listProfiles } from '../../sim/profiles.js';

/** What a factory may use besides its parameter. */
export interface TargetContext {
  /** Profile that a bare `sim` stands for (`--sim-profile`). */
  simProfile?: string;
  /** Where the compiled probes live (native and wrapped targets). */
  probeDir?: string;
  /** Directory relative paths in a parameter are resolved against. */
  cwd?: string;
}

export interface TargetKind {
  /** One line for `sysabi run --help`. */
  summary: string;
  /** Parameter a bare `kind` stands for, if any (computed, since --sim-profile changes it). */
  defaultParam?: (ctx: TargetContext) => string | undefined;
  /** A parameter is mandatory (`exec:CMD`, `module:PATH`). */
  paramRequired?: boolean;
  /** Build the target. Throw TargetUnavailableError when it cannot exist on this machine. */
  create(param: string | undefined, ctx: TargetContext): Promise<Target>;
}

/** The target cannot run here (module missing, emulator not installed, wrong platform): a SKIP. */
export class TargetUnavailableError extends Error {
  override name = 'TargetUnavailableError';
}

const kinds = new Map<string, TargetKind>();

/** Register (or replace) a target kind. */
export function registerTarget(kind: string, def: TargetKind): void {
  if (!/^[a-z][a-z0-9_-]*$/.test(kind)) throw new Error(`target kind "${kind}" must match [a-z][a-z0-9_-]*`);
  kinds.set(kind, def);
}

export function targetKinds(): ReadonlyMap<string, TargetKind> {
  return kinds;
}

export interface ParsedTargetSpec {
  kind: string;
  param?: string;
  /** Canonical name used in reports and expectation file names, e.g. `sim:linux-7.0-intel`. */
  name: string;
}

/** Parse `kind[:param]`; throws a usage error (message only) for an unknown kind. */
export function parseTargetSpec(spec: string, ctx: TargetContext = {}): ParsedTargetSpec {
  const s = spec.trim();
  const colon = s.indexOf(':');
  const kind = colon < 0 ? s : s.slice(0, colon);
  let param = colon < 0 ? undefined : s.slice(colon + 1);
  const def = kinds.get(kind);
  if (!def) {
    throw new Error(`unknown target "${s}": expected one of ${[...kinds.keys()].map((k) => `"${k}"`).join(', ')}`);
  }
  if (param === '') param = undefined;
  if (param === undefined) param = def.defaultParam?.(ctx);
  if (param === undefined && def.paramRequired) throw new Error(`target "${kind}" needs a parameter: ${kind}:<${def.summary}>`);
  return { kind, param, name: param === undefined ? kind : `${kind}:${param}` };
}

export type CreatedTarget =
  | { ok: true; name: string; target: Target }
  | { ok: false; name: string; reason: string; unavailable: boolean };

/**
 * Build a target from its spec. Never throws for a target problem: an unavailable target
 * (module not there yet, emulator missing) is `unavailable: true` (the run SKIPs its cases);
 * any other failure to construct it is `unavailable: false` (its cases become errors).
 */
export async function createTarget(spec: string | ParsedTargetSpec, ctx: TargetContext = {}): Promise<CreatedTarget> {
  const p = typeof spec === 'string' ? parseTargetSpec(spec, ctx) : spec;
  const def = kinds.get(p.kind)!;
  try {
    return { ok: true, name: p.name, target: await def.create(p.param, ctx) };
  } catch (e) {
    const unavailable = e instanceof TargetUnavailableError || isModuleMissing(e);
    return { ok: false, name: p.name, reason: errorMessage(e), unavailable };
  }
}

function isModuleMissing(e: unknown): boolean {
  const code = (e as { code?: string } | null)?.code;
  if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') return true;
  // Loader hooks (tsx in development) may rethrow the resolution failure without its code.
  return e instanceof Error && /^Cannot find (?:module|package) '/.test(e.message);
}

function errorMessage(e: unknown): string {
  if (isModuleMissing(e)) {
    // Node says "Cannot find module '/abs/path/x.js' imported from /abs/importer"; the
    // missing module, relative to the working directory, is what a reader needs.
    const msg = String((e as Error).message).split('\n')[0]!;
    const m = /Cannot find (?:module|package) '([^']+)'/.exec(msg);
    const what = m ? relative(process.cwd(), m[1]!.startsWith('file:') ? fileURLToPath(m[1]!) : m[1]!) || m[1]! : msg;
    return `target not available (module ${what} not found)`;
  }
  return e instanceof Error ? e.message : String(e);
}

/**
 * Import a sibling module by a computed URL, so this file compiles and runs before that
 * module exists (the sim and native targets land separately).
 */
async function importSibling(file: string): Promise<Record<string, unknown>> {
  const url = new URL(file, import.meta.url).href;
  return (await import(url)) as Record<string, unknown>;
}

function factoryFrom(mod: Record<string, unknown>, exportName: string, file: string): (opts: object) => Target {
  const f = mod[exportName];
  if (typeof f !== 'function') throw new TargetUnavailableError(`target not available (${file} does not export ${exportName}())`);
  return f as (opts: object) => Target;
}

/** Profiles the sim target knows: every one sim/profiles.ts ships, and 'host'. */
export const SIM_PROFILES: readonly string[] = Object.freeze(listProfiles());
export const DEFAULT_SIM_PROFILE = DEFAULT_PROFILE;

/** A usage error naming the known profiles when `name` is not one of them. */
export function checkSimProfile(name: string): void {
  if (!SIM_PROFILES.includes(name)) {
    throw new Error(`unknown sim profile "${name}": expected one of ${SIM_PROFILES.join(', ')}`);
  }
}

/** Platforms whose kernel the native probes can test. */
export function nativeSupported(platform: string = process.platform, arch: string = process.arch): boolean {
  return platform === 'linux' && arch === 'x64';
}

registerTarget('sim', {
  summary: `the reference simulator; profile: ${SIM_PROFILES.join(', ')}`,
  defaultParam: (ctx) => ctx.simProfile ?? DEFAULT_SIM_PROFILE,
  async create(param) {
    checkSimProfile(param ?? DEFAULT_SIM_PROFILE);
    const mod = await importSibling('./sim.js');
    return factoryFrom(mod, 'createSimTarget', 'harness/targets/sim.ts')({ profile: param });
  },
});

registerTarget('native', {
  summary: 'the running kernel, through the compiled probes (x86-64 Linux)',
  async create(param, ctx) {
    if (param !== undefined) throw new Error(`target "native" takes no parameter (got "${param}")`);
    if (!nativeSupported()) {
      throw new TargetUnavailableError(`target not available (native needs x86-64 Linux; this is ${process.platform}/${process.arch})`);
    }
    const mod = await importSibling('./native.js');
    return factoryFrom(mod, 'createNativeTarget', 'harness/targets/native.ts')(ctx.probeDir ? { probeDir: ctx.probeDir } : {});
  },
});

// A JS/TS module implementing Target: `module:PATH`. The module exports `createTarget(opts)`
// or a default export that is a Target or a factory returning one.
registerTarget('module', {
  summary: 'PATH of a JS/TS module exporting createTarget() or a default Target',
  paramRequired: true,
  async create(param, ctx) {
    const file = resolve(ctx.cwd ?? process.cwd(), param!);
    // Checked before importing: a missing module is "not installed here" (a SKIP), and the
    // loader's own error for it varies (Node's code vs a loader hook's plain message).
    if (!existsSync(file)) throw new TargetUnavailableError(`target not available (module ${param} not found)`);
    const url = pathToFileURL(file).href;
    const mod = (await import(url)) as Record<string, unknown>;
    const candidate = mod.createTarget ?? mod.default;
    const t = typeof candidate === 'function' ? await (candidate as (o: object) => Target | Promise<Target>)({ ...ctx }) : candidate;
    if (!t || typeof (t as Target).run !== 'function' || typeof (t as Target).describe !== 'function') {
      throw new Error(`module ${param} exports no Target (expected createTarget() or a default export with describe() and run())`);
    }
    return t as Target;
  },
});

/**
 * Config-variant sim profiles `make check` adds so that every configuration-dependent spec
 * runs somewhere, whatever the host is: x32 on, ia32 emulation off, vsyscall=emulate and
 * vsyscall=none, FRED, and a pre-4.17 kernel (int $0x80 r8-r11, shared x32 table, 64-bit RAX).
 */
export const CHECK_VARIANT_PROFILES: readonly string[] = Object.freeze([
  'linux-7.0-intel-x32',
  'linux-7.0-amd-ia32off',
  'linux-7.0-intel-vsyscall-emulate',
  'linux-7.0-intel-vsyscall-none',
  'linux-7.0-intel-fred',
  'linux-4.16-intel',
  'linux-4.0-amd',
]);

/**
 * The targets `make check` runs when none is named: the simulator under the two 7.0
 * vendor profiles, the host profile and the config variants, plus the real kernel on
 * x86-64 Linux.
 */
export function defaultTargets(platform: string = process.platform, arch: string = process.arch): string[] {
  const t = ['sim:linux-7.0-intel', 'sim:linux-7.0-amd', 'sim:host', ...CHECK_VARIANT_PROFILES.map((p) => `sim:${p}`)];
  if (nativeSupported(platform, arch)) t.push('native');
  return t;
}

/** File-name form of a target name: `sim:linux-7.0-amd` → `sim-linux-7.0-amd`. */
export function targetFileName(name: string): string {
  return name.replace(/:/g, '-').replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^-+|-+$/g, '');
}
