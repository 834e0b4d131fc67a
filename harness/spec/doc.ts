// A parsed spec document and the helpers that turn a path inside it (["cases", 2, "expect",
// "rax"]) into a file:line:col, and zod issues into SpecErrors that say what was found and
// what was expected. Shared by load.ts (structure) and expand.ts (meaning).

import { isAlias, isMap, isPair, isScalar, isSeq, type Document, type LineCounter, type Node } from 'yaml';
import type { z } from 'zod';
import { ABIS, ERRNO, FLAG_NAMES, SIGNALS, SI_CODES } from '../../abi/constants.js';
import { ENTRIES } from '../contracts.js';
import { CATALOGUE_IDS } from './catalogue.js';
import { closest, didYouMean, oneOf, type SpecError } from './errors.js';
import { ALL_REG_KEYS, type SpecFile } from './schema.js';

export type Path = readonly (string | number)[];

/** A spec file that parsed and passed the schema; what expandSpec() works from. */
export interface LoadedSpec {
  file: string;
  id: string;
  data: SpecFile;
  doc: Document.Parsed;
  lineCounter: LineCounter;
  /** Source text, for quoting values as written (vary values keep their hex spelling). */
  text: string;
}

interface Located {
  node: Node | null;
  /** True when the path ran out before its end (a missing key): node is the nearest parent. */
  missing: boolean;
}

function deref(doc: Document, n: unknown): unknown {
  return isAlias(n) ? n.resolve(doc) : n;
}

/** The YAML node at `path`; with keyNode, the key of the last map entry instead of its value. */
export function nodeAt(doc: Document, path: Path, keyNode = false): Located {
  let cur: unknown = doc.contents;
  for (let i = 0; i < path.length; i++) {
    const seg = path[i]!;
    cur = deref(doc, cur);
    const last = i === path.length - 1;
    if (isMap(cur)) {
      const pair = cur.items.find((p) => isPair(p) && String(isScalar(p.key) ? p.key.value : p.key) === String(seg));
      if (!pair) return { node: cur, missing: true };
      if (last && keyNode) return { node: pair.key as Node, missing: false };
      // `key:` with no value: point at the key.
      if (pair.value == null) return { node: pair.key as Node, missing: i < path.length - 1 };
      cur = pair.value;
    } else if (isSeq(cur) && typeof seg === 'number') {
      const item = cur.items[seg];
      if (item == null) return { node: cur, missing: true };
      cur = item;
    } else {
      return { node: (cur as Node) ?? null, missing: true };
    }
  }
  return { node: (deref(doc, cur) as Node) ?? null, missing: false };
}

/** 1-based line and column of a node (start of the file when there is none). */
export function posOf(spec: Pick<LoadedSpec, 'lineCounter'>, node: Node | null): { line: number; col: number } {
  const off = node?.range?.[0] ?? 0;
  return spec.lineCounter.linePos(off);
}

export function errorAt(
  spec: Pick<LoadedSpec, 'file' | 'doc' | 'lineCounter'>,
  path: Path,
  message: string,
  keyNode = false,
): SpecError {
  const { node } = nodeAt(spec.doc, path, keyNode);
  const { line, col } = posOf(spec, node);
  return { file: spec.file, line, col, message };
}

/** What a value is, in words: `the string "x"`, `a map`, `nothing (null)`. */
export function describeValue(v: unknown): string {
  if (v === null || v === undefined) return 'nothing (an empty value)';
  if (typeof v === 'bigint') return `the integer ${v}`;
  if (typeof v === 'number') return `the number ${v}`;
  if (typeof v === 'string') return `the string "${v.length > 40 ? v.slice(0, 40) + '…' : v}"`;
  if (typeof v === 'boolean') return `${v}`;
  if (Array.isArray(v)) return 'a list';
  return 'a map';
}

/** A path as people read it: cases[2].expect.rax */
export function showPath(path: Path): string {
  let s = '';
  for (const p of path) s += typeof p === 'number' ? `[${p}]` : s === '' ? String(p) : `.${String(p)}`;
  return s === '' ? 'the spec' : s;
}

function valueAt(data: unknown, path: Path): unknown {
  let cur = data;
  for (const p of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string | number, unknown>)[p];
  }
  return cur;
}

const TYPE_WORDS: Record<string, string> = {
  string: 'a string', bigint: 'an integer', int: 'an integer', number: 'a number', boolean: 'true or false',
  object: 'a map', record: 'a map', array: 'a list', tuple: 'a list', null: 'nothing', undefined: 'nothing',
};

/** Which vocabulary a list of allowed values comes from, for "unknown X name". */
function vocabulary(values: readonly unknown[]): string {
  const has = (set: readonly string[]) => values.some((v) => typeof v === 'string' && set.includes(v));
  if (has(Object.keys(ERRNO))) return 'errno name';
  if (has(Object.keys(SIGNALS))) return 'signal name';
  if (has(Object.keys(SI_CODES))) return 'si_code name';
  if (has(ABIS as unknown as string[])) return 'ABI';
  if (has(ENTRIES as unknown as string[])) return 'entry';
  if (has(FLAG_NAMES)) return 'flag name';
  if (has(ALL_REG_KEYS)) return 'register name';
  if (has(CATALOGUE_IDS)) return 'catalogue id (ABI-FACTS §8)';
  return 'value';
}

type AnyDef = { type: string; [k: string]: unknown };
const defOf = (s: unknown): AnyDef => (s as { _zod: { def: AnyDef } })._zod.def;

/**
 * Every object shape the schema allows for the map at `path`: wrappers (optional, lazy, pipe,
 * …) are looked through and every option of a union is followed.
 */
function objectShapesAt(schema: z.ZodType, path: Path): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  const walk = (s: unknown, i: number, depth: number): void => {
    if (depth > 40) return;
    const d = defOf(s);
    switch (d.type) {
      case 'optional': case 'nullable': case 'default': case 'readonly': case 'nonoptional': case 'catch':
        return walk(d.innerType, i, depth + 1);
      case 'lazy':
        return walk((d.getter as () => unknown)(), i, depth + 1);
      case 'pipe':
        return walk(d.in, i, depth + 1);
      case 'union':
        for (const o of d.options as unknown[]) walk(o, i, depth + 1);
        return;
      case 'object': {
        const shape = d.shape as Record<string, unknown>;
        if (i === path.length) { out.push(shape); return; }
        const next = shape[String(path[i])];
        if (next) walk(next, i + 1, depth + 1);
        return;
      }
      case 'record':
        if (i < path.length) walk(d.valueType, i + 1, depth + 1);
        return;
      case 'array':
        if (i < path.length) walk(d.element, i + 1, depth + 1);
        return;
      case 'tuple':
        if (i < path.length) walk((d.items as unknown[])[Number(path[i])], i + 1, depth + 1);
        return;
      default:
        return;
    }
  };
  walk(schema, 0, 0);
  return out;
}

/** The keys a map at `path` may have according to the schema (all options of a union). */
export function knownKeysAt(schema: z.ZodType, path: Path): string[] {
  return [...new Set(objectShapesAt(schema, path).flatMap((shape) => Object.keys(shape)))];
}

/**
 * The keys of the map at `path`, split into required and optional, for "missing key" messages.
 * Where the map is one of several object shapes (a union), only the shapes that have `key`
 * count: they are the ones the author was writing.
 */
export function mapKeysAt(schema: z.ZodType, path: Path, key: string): { required: string[]; optional: string[] } {
  const req = new Set<string>();
  const opt = new Set<string>();
  for (const shape of objectShapesAt(schema, path)) {
    if (!(key in shape)) continue;
    for (const [k, v] of Object.entries(shape)) (defOf(v).type === 'optional' ? opt : req).add(k);
  }
  return { required: [...req], optional: [...opt].filter((k) => !req.has(k)) };
}

/** Enum values allowed at `path` (from every enum option of a union there). */
export function enumValuesAt(schema: z.ZodType, path: Path): string[] {
  const out = new Set<string>();
  const walk = (s: unknown, i: number, depth: number): void => {
    if (depth > 40) return;
    const d = defOf(s);
    switch (d.type) {
      case 'optional': case 'nullable': case 'default': case 'readonly': case 'nonoptional': case 'catch':
        return walk(d.innerType, i, depth + 1);
      case 'lazy':
        return walk((d.getter as () => unknown)(), i, depth + 1);
      case 'union':
        for (const o of d.options as unknown[]) walk(o, i, depth + 1);
        return;
      case 'enum':
        if (i === path.length) for (const v of Object.values(d.entries as Record<string, string>)) out.add(String(v));
        return;
      case 'object': {
        const next = i < path.length ? (d.shape as Record<string, unknown>)[String(path[i])] : undefined;
        if (next) walk(next, i + 1, depth + 1);
        return;
      }
      case 'record':
        if (i < path.length) walk(d.valueType, i + 1, depth + 1);
        return;
      case 'array':
        if (i < path.length) walk(d.element, i + 1, depth + 1);
        return;
      case 'tuple':
        if (i < path.length) walk((d.items as unknown[])[Number(path[i])], i + 1, depth + 1);
        return;
      default:
        return;
    }
  };
  walk(schema, 0, 0);
  return [...out];
}

/** What a map at `path` is, for messages: "case", "expect", "memory region", ... */
function contextName(path: Path): string {
  const strs = path.filter((p): p is string => typeof p === 'string');
  const last = strs[strs.length - 1];
  const parent = strs[strs.length - 2];
  if (path.length === 0) return 'the spec';
  if (last === 'cases' && typeof path[path.length - 1] === 'number') return 'a case';
  if (parent === 'memory' && strs[0] !== undefined) return path.includes('expect') ? 'an expected memory region' : 'a memory region';
  if (parent === 'fds') return 'an fd';
  if (parent === 'per_abi') return `per_abi.${last}`;
  if (last === 'any_of' || typeof path[path.length - 1] === 'number' && strs[strs.length - 1] === 'any_of') return 'an any_of alternative';
  if (last === 'refs' || strs[strs.length - 1] === 'refs') return 'a ref';
  return last ?? 'the spec';
}

type Issue = z.core.$ZodIssue;

/** An issue that says the value is of the wrong kind for the branch altogether (a map where a
 *  name was expected, a name where a map was): such a branch is not what the author wrote. */
function wrongKind(i: Issue, found: unknown): boolean {
  if (i.path.length !== 0) return false;
  if (i.code === 'invalid_type') return true;
  // An enum or literal branch offered a map or a list: zod says invalid_value, but the value
  // was never a name.
  if (i.code === 'invalid_value') return found !== null && typeof found === 'object';
  if (i.code === 'invalid_union') return i.errors.length > 0 && i.errors.every((e) => e.every((j) => wrongKind(j, found)));
  return false;
}

/** Rank a union branch's issues: lower means the value came closer to matching this branch. */
function branchScore(issues: readonly Issue[], found: unknown): number {
  if (issues.every((i) => wrongKind(i, found))) return 1000;
  if (issues.every((i) => i.code === 'invalid_format' && i.path.length === 0)) return 500;
  return issues.length;
}

/** Turn zod issues for `data` (validated against `schema`) into SpecErrors. */
export function zodErrors(
  spec: Pick<LoadedSpec, 'file' | 'doc' | 'lineCounter'>,
  schema: z.ZodType,
  data: unknown,
  issues: readonly Issue[],
  /** Prefix mapping a path inside `data` to a path in the document. */
  toDocPath: (p: Path) => Path = (p) => p,
  note = '',
): SpecError[] {
  const out: SpecError[] = [];
  const emit = (path: Path, msg: string, keyNode = false) =>
    out.push(errorAt(spec, toDocPath(path), msg + note, keyNode));

  /** "missing required key "stop" in cases[0].ptrace.at[0] (expected one of: entry, exit,
   *  seccomp); that map takes: stop (required), n, set, rewind, kill". */
  const missingKeyMessage = (iss: Issue, path: Path, parent: Path): string => {
    const key = String(path[path.length - 1]);
    let exp: string;
    const vals = iss.code === 'invalid_value' ? iss.values.map(String) : enumValuesAt(schema, path);
    if (vals.length > 0) exp = `one of: ${oneOf(vals)}`;
    else if (iss.code === 'invalid_type') exp = TYPE_WORDS[iss.expected] ?? iss.expected;
    else if (iss.code === 'invalid_union') {
      const types = [...new Set(iss.errors.flatMap((e) => e.map((i) => (i.code === 'invalid_type' ? TYPE_WORDS[i.expected] ?? i.expected : ''))).filter(Boolean))];
      exp = types.length > 0 ? types.join(' or ') : 'a value';
    } else exp = 'a value';
    const { required, optional } = mapKeysAt(schema, parent, key);
    const takes = [...required.map((k) => `${k} (required)`), ...optional];
    const where = parent.length === 0 ? 'the spec' : showPath(parent);
    return `missing required key "${key}" in ${where} (expected ${exp})${takes.length > 0 ? `; that map takes: ${oneOf(takes)}` : ''}`;
  };

  const one = (iss: Issue, base: Path): void => {
    const path = [...base, ...(iss.path as (string | number)[])];
    const found = valueAt(data, path);
    const where = showPath(path);
    // A required key that is absent: zod reports its *value* as wrong (undefined is not in an
    // enum: 'unknown value "undefined"'), so say it where the author has to add it, at the map.
    if (found === undefined && path.length > 0 && (iss.code === 'invalid_type' || iss.code === 'invalid_value' || iss.code === 'invalid_union' || iss.code === 'invalid_format')) {
      const parent = path.slice(0, -1);
      const map = valueAt(data, parent);
      if (map !== null && typeof map === 'object' && !Array.isArray(map) && nodeAt(spec.doc, toDocPath(path)).missing) {
        emit(parent, missingKeyMessage(iss, path, parent));
        return;
      }
    }
    switch (iss.code) {
      case 'unrecognized_keys': {
        const known = knownKeysAt(schema, path);
        for (const k of iss.keys) {
          emit([...path, k],
            `unknown key "${k}" in ${contextName(path)}${didYouMean(k, known)}; expected one of: ${oneOf(known, 40)}`, true);
        }
        return;
      }
      case 'invalid_type': {
        // (A missing key was handled above.)
        emit(path, `${where}: expected ${TYPE_WORDS[iss.expected] ?? iss.expected}, found ${describeValue(found)}`);
        return;
      }
      case 'invalid_value': {
        const kind = vocabulary(iss.values);
        const vals = iss.values.map(String);
        // `key:` written with nothing after it: no value, rather than the name "null".
        if (found === null) { emit(path, `${where}: has no value; expected one of: ${oneOf(vals)}`); return; }
        const f = typeof found === 'string' ? found : String(found);
        emit(path, `${where}: unknown ${kind} "${f}"${didYouMean(f, vals)}; expected one of: ${oneOf(vals)}`);
        return;
      }
      case 'invalid_union': {
        if (iss.errors.length === 0) { emit(path, `${where}: ${iss.message}`); return; }
        const scored = iss.errors.map((e) => ({ e, s: branchScore(e, found) })).sort((a, b) => a.s - b.s);
        const best = scored[0]!;
        if (best.s >= 1000) {
          const exps = [...new Set(iss.errors.flatMap((e) => e.map((i) => (i.code === 'invalid_type' ? TYPE_WORDS[i.expected] ?? i.expected : ''))).filter(Boolean))];
          emit(path, `${where}: expected ${exps.join(' or ')}, found ${describeValue(found)}`);
          return;
        }
        for (const i of best.e) one(i, path);
        return;
      }
      case 'too_small': {
        if (iss.origin === 'array') emit(path, `${where}: needs at least ${iss.minimum} item(s), found ${Array.isArray(found) ? found.length : 0}`);
        else if (iss.origin === 'string') emit(path, `${where}: must not be empty`);
        else emit(path, `${where}: must be at least ${iss.minimum}, found ${describeValue(found)}`);
        return;
      }
      case 'too_big': {
        if (iss.origin === 'array') emit(path, `${where}: at most ${iss.maximum} item(s) allowed, found ${Array.isArray(found) ? found.length : '?'}`);
        else emit(path, `${where}: must be at most ${iss.maximum}, found ${describeValue(found)}`);
        return;
      }
      case 'invalid_format': {
        // A name field also accepts a {placeholder}; a wrong name fails only that branch.
        const vals = enumValuesAt(schema, path);
        if (vals.length > 0 && typeof found === 'string') {
          emit(path, `${where}: unknown ${vocabulary(vals)} "${found}"${didYouMean(found, vals)}; expected one of: ${oneOf(vals)}`);
          return;
        }
        emit(path, `${where}: expected ${iss.message.startsWith('Invalid') ? `a string matching ${iss.pattern ?? iss.format}` : iss.message}, found ${describeValue(found)}`);
        return;
      }
      case 'invalid_key':
        for (const i of iss.issues) {
          const key = String(path[path.length - 1]);
          if (i.code === 'invalid_value') {
            const vals = i.values.map(String);
            emit(path, `unknown ${vocabulary(i.values)} "${key}" as a key in ${contextName(path.slice(0, -1))}${didYouMean(key, vals)}; expected one of: ${oneOf(vals)}`, true);
          } else emit(path, `invalid key "${key}": expected ${i.message.startsWith('Invalid') && 'pattern' in i ? `a name matching ${String((i as { pattern?: string }).pattern)}` : i.message}`, true);
        }
        return;
      default:
        emit(path, `${where}: ${iss.message}`);
    }
  };
  // A ref's "one key" refinement fails too when its only key was a typo: report the typo only.
  const typos = issues.filter((i) => i.code === 'unrecognized_keys');
  const typoAt = new Set(typos.map((i) => JSON.stringify(i.path)));
  // "missing name" next to "unknown key nmae (did you mean name?)" says the same thing twice.
  const typoFor = new Set(typos.flatMap((i) => i.keys.map((k) => {
    const c = closest(k, knownKeysAt(schema, i.path as Path));
    return c === undefined ? '' : JSON.stringify([...i.path, c]);
  })));
  for (const iss of issues) {
    if (iss.code === 'custom' && typoAt.has(JSON.stringify(iss.path))) continue;
    if (iss.code === 'invalid_type' && typoFor.has(JSON.stringify(iss.path))) continue;
    one(iss, []);
  }
  return out;
}
