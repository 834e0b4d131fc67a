// The `auxv:` and `maps:` expectations (VD-01, VD-04; docs/spec-language.md "Auxiliary vector
// and special mappings"): their closed name lists, their zod shapes, and their parsing into
// Expectation.auxv / Expectation.maps. A case that states either gets Case.observe, so only
// those cases make the target read the auxv or /proc/self/maps.

import { z } from 'zod';
import type { ObserveWhat } from '../contracts.js';
import type { Expectation, Matcher } from './types.js';

/** AT_* names an expectation may name (include/uapi/linux/auxvec.h, arch/x86/include/uapi/
 *  asm/auxvec.h). Targets report any other type as AT_<n>, which specs cannot name. */
export const AUXV_NAMES = [
  'AT_EXECFD', 'AT_PHDR', 'AT_PHENT', 'AT_PHNUM', 'AT_PAGESZ', 'AT_BASE', 'AT_FLAGS', 'AT_ENTRY',
  'AT_NOTELF', 'AT_UID', 'AT_EUID', 'AT_GID', 'AT_EGID', 'AT_PLATFORM', 'AT_HWCAP', 'AT_CLKTCK',
  'AT_SECURE', 'AT_BASE_PLATFORM', 'AT_RANDOM', 'AT_HWCAP2', 'AT_RSEQ_FEATURE_SIZE', 'AT_RSEQ_ALIGN',
  'AT_HWCAP3', 'AT_HWCAP4', 'AT_EXECFN', 'AT_SYSINFO', 'AT_SYSINFO_EHDR', 'AT_MINSIGSTKSZ',
] as const;
export type AuxvName = (typeof AUXV_NAMES)[number];

/** Special mappings `maps:` may name: the bracketed names of /proc/self/maps without brackets. */
export const MAP_NAMES = ['vdso', 'vvar', 'vvar_vclock', 'vsyscall', 'stack', 'heap'] as const;
export type MapName = (typeof MAP_NAMES)[number];

/** One `maps:` entry after parsing. */
export type MapCheck =
  | { name: MapName; absent: true }
  | { name: MapName; absent?: undefined; perms?: string; start?: Matcher; end?: Matcher; size?: Matcher };

/** One `auxv:` entry after parsing: a matcher on the value, or the entry's absence. */
export type AuxvCheck = { key: AuxvName; absent: true } | { key: AuxvName; absent?: undefined; m: Matcher };

/** The four letters of a maps line: r/-, w/-, x/-, p (private) or s (shared). */
export const PERMS_RE = /^[r-][w-][x-][ps]$/;

export function auxvSchema<T extends z.ZodType>(matcher: T) {
  return z.partialRecord(z.enum(AUXV_NAMES), z.union([z.literal('absent'), matcher])).optional();
}

export function mapsSchema<T extends z.ZodType>(matcher: T) {
  return z.partialRecord(z.enum(MAP_NAMES), z.union([
    z.enum(['absent', 'present']),
    z.strictObject({
      perms: z.string().regex(PERMS_RE, 'perms are four letters as /proc/self/maps shows them: r or -, w or -, x or -, p or s (e.g. "r-xp", "--xp")').optional(),
      start: matcher.optional(),
      end: matcher.optional(),
      size: matcher.optional(),
    }),
  ])).optional();
}

type Path = readonly (string | number)[];
type MatcherOf = (v: never, p: Path) => Matcher | undefined;

/** Expectation.auxv from the spec's `auxv:` map. */
export function parseAuxvExpect(v: Record<string, unknown>, base: Path, matcher: MatcherOf): AuxvCheck[] {
  const out: AuxvCheck[] = [];
  for (const [k, mv] of Object.entries(v)) {
    if (mv === undefined) continue;
    if (mv === 'absent') { out.push({ key: k as AuxvName, absent: true }); continue; }
    const m = matcher(mv as never, [...base, 'auxv', k]);
    if (m) out.push({ key: k as AuxvName, m });
  }
  return out;
}

/** Expectation.maps from the spec's `maps:` map. */
export function parseMapsExpect(v: Record<string, unknown>, base: Path, matcher: MatcherOf,
  fail: (p: Path, msg: string) => void): MapCheck[] {
  const out: MapCheck[] = [];
  for (const [k, mv] of Object.entries(v)) {
    if (mv === undefined) continue;
    const name = k as MapName;
    if (mv === 'absent') { out.push({ name, absent: true }); continue; }
    if (mv === 'present') { out.push({ name }); continue; }
    const o = mv as { perms?: string; start?: unknown; end?: unknown; size?: unknown };
    const c: MapCheck = { name };
    if (o.perms !== undefined) c.perms = o.perms;
    for (const f of ['start', 'end', 'size'] as const) {
      if (o[f] === undefined) continue;
      const m = matcher(o[f] as never, [...base, 'maps', k, f]);
      if (m) c[f] = m;
    }
    if (c.perms === undefined && !c.start && !c.end && !c.size) {
      fail([...base, 'maps', k], `maps.${k}: say what must hold (perms, start, end, size), or write "present" or "absent"`);
    }
    out.push(c);
  }
  return out;
}

/** Does any matcher in `x` name the `$auxv` symbol? (Then the target must report the auxv.) */
function namesAuxvSym(x: unknown): boolean {
  if (x === null || typeof x !== 'object') return false;
  if ((x as { sym?: unknown }).sym === 'auxv') return true;
  return Object.values(x as Record<string, unknown>).some(namesAuxvSym);
}

/** What Case.observe the expectation (and its any_of alternatives) needs. */
export function observeNeeds(e: Expectation): ObserveWhat[] {
  const alts = [e, ...(e.anyOf ?? []).map((a) => a.exp)];
  const out: ObserveWhat[] = [];
  if (alts.some((a) => a.auxv !== undefined) || namesAuxvSym(e)) out.push('auxv');
  if (alts.some((a) => a.maps !== undefined)) out.push('maps');
  return out;
}
