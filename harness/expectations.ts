// Per-target expectation files (suites/expectations/<target>.yaml): the cases a given
// implementation is known to fail or skip, each with a reason (WPT-style metadata). A listed
// failure becomes XFAIL; a listed case that passes is XPASS and fails the run, because the
// expectation is stale. Format and rules: suites/expectations/README.md.

import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { isMap, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import { z } from 'zod';
import { targetFileName } from './targets/registry.js';

export interface ExpectationEntry {
  /** A case id (`spec/slug@abi`) or a glob over case ids (`*` any run of characters, `?` one). */
  case: string;
  expect: 'fail' | 'skip';
  reason: string;
  link?: string;
  /** Where the entry is, for messages. */
  file: string;
  line: number;
}

export interface ExpectationSet {
  file: string;
  entries: ExpectationEntry[];
  /** The entry for a case id: an exact id wins over a glob; among globs the first listed. */
  lookup(caseId: string): ExpectationEntry | undefined;
}

export interface ExpectationError {
  file: string;
  line: number;
  col: number;
  message: string;
}

export function formatExpectationError(e: ExpectationError): string {
  return `${e.file}:${e.line}:${e.col}: ${e.message}`;
}

const Entry = z.strictObject({
  case: z.string().min(1, 'a case id or glob'),
  expect: z.enum(['fail', 'skip']),
  reason: z.string().trim().min(1, 'a reason saying why (evidence, not a shrug)'),
  link: z.string().min(1).optional(),
});
const FileShape = z.union([
  z.array(Entry),
  z.strictObject({
    target: z.string().optional(),
    version: z.string().optional(),
    expectations: z.array(Entry),
  }),
]);

const CASE_ID = /^[a-z0-9_]+(\.[a-z0-9_]+)+\/[a-z0-9-]+@(x86_64|i386|x32)$/;

/** Glob over case ids → RegExp (only `*` and `?` are special). */
export function globToRegExp(glob: string): RegExp {
  const body = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${body}$`);
}

function isGlob(s: string): boolean {
  return /[*?]/.test(s);
}

/** Parse and validate one expectation file's text. `file` is used in messages only. */
export function parseExpectations(text: string, file: string): { set?: ExpectationSet; errors: ExpectationError[] } {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, uniqueKeys: true, prettyErrors: false });
  const errors: ExpectationError[] = [];
  const at = (offset: number, message: string): ExpectationError => {
    const p = lc.linePos(offset);
    return { file, line: p.line, col: p.col, message };
  };
  for (const e of doc.errors) errors.push(at(e.pos[0], `YAML: ${e.message.split('\n')[0]}`));
  if (errors.length) return { errors };
  const data: unknown = doc.toJS() ?? [];
  const parsed = FileShape.safeParse(data);
  if (!parsed.success) {
    // Report against the most specific branch: a list file, or the map form.
    // Report against the form the file is trying to be: a list, or the map form; neither
    // (a scalar) gets the union's message.
    const isObj = data !== null && typeof data === 'object';
    const branch = Array.isArray(data) ? z.array(Entry) : isObj ? FileShape.options[1] : undefined;
    const r = branch?.safeParse(data);
    const issues = r && !r.success ? r.error.issues : parsed.error.issues;
    for (const iss of issues) {
      const { node, key } = nodeFor(doc, iss.path as (string | number)[], iss);
      const where = (key ?? node)?.range?.[0] ?? 0;
      const missing = iss.path.length > 0 && valueAt(data, iss.path as (string | number)[]) === undefined;
      errors.push(at(where, describeIssue(iss, missing)));
    }
    return { errors };
  }
  const list = Array.isArray(parsed.data) ? parsed.data : parsed.data.expectations;
  const seqPath = Array.isArray(parsed.data) ? [] : ['expectations'];
  const entries: ExpectationEntry[] = [];
  const seen = new Map<string, number>();
  list.forEach((raw, i) => {
    const node = doc.getIn([...seqPath, i], true) as Node | undefined;
    const caseNode = doc.getIn([...seqPath, i, 'case'], true) as Node | undefined;
    const line = lc.linePos(node?.range?.[0] ?? 0).line;
    if (!isGlob(raw.case) && !CASE_ID.test(raw.case)) {
      errors.push(at(caseNode?.range?.[0] ?? 0, `case "${raw.case}" is not a case id (expected <spec id>/<case slug>@<x86_64|i386|x32>, or a glob with * or ?)`));
    }
    const prev = seen.get(raw.case);
    if (prev !== undefined) errors.push(at(caseNode?.range?.[0] ?? 0, `case "${raw.case}" is listed twice (first at line ${prev})`));
    seen.set(raw.case, line);
    entries.push({ ...raw, file, line });
  });
  if (errors.length) return { errors };
  const exact = new Map(entries.filter((e) => !isGlob(e.case)).map((e) => [e.case, e]));
  const globs = entries.filter((e) => isGlob(e.case)).map((e) => ({ e, re: globToRegExp(e.case) }));
  return {
    errors,
    set: {
      file,
      entries,
      lookup: (id) => exact.get(id) ?? globs.find((g) => g.re.test(id))?.e,
    },
  };
}

function valueAt(data: unknown, path: (string | number)[]): unknown {
  let v = data;
  for (const k of path) v = v !== null && typeof v === 'object' ? (v as Record<string | number, unknown>)[k] : undefined;
  return v;
}

function describeIssue(iss: z.core.$ZodIssue, missing: boolean): string {
  const path = iss.path.length ? iss.path.join('.') : '(top level)';
  switch (iss.code) {
    case 'unrecognized_keys':
      return `unknown key${iss.keys.length > 1 ? 's' : ''} ${iss.keys.map((k) => `"${k}"`).join(', ')} at ${path} (expected case, expect, reason, link)`;
    case 'invalid_value':
      return `${path}: expected one of ${iss.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'invalid_type':
      return `${path}: expected ${iss.expected}${missing ? ', but it is missing' : ''}`;
    case 'invalid_union':
      return `${path}: expected a list of entries, or a map with "expectations:" (and optional "target", "version")`;
    default:
      return `${path}: ${iss.message}`;
  }
}

/** The YAML node a zod issue points at (the nearest existing ancestor), and the offending key. */
function nodeFor(doc: Document, path: (string | number)[], iss: z.core.$ZodIssue): { node?: Node; key?: Node } {
  for (let n = path.length; n >= 0; n--) {
    const node = (n === 0 ? doc.contents : doc.getIn(path.slice(0, n), true)) as Node | null | undefined;
    if (!node) continue;
    if (iss.code === 'unrecognized_keys' && n === path.length && isMap(node)) {
      const pair = node.items.find((p) => iss.keys.includes(String((p.key as { value?: unknown })?.value)));
      if (pair) return { node, key: pair.key as Node };
    }
    if (n < path.length && isMap(node) && typeof path[n] === 'string') {
      // A missing key: point at the map that lacks it.
      return { node };
    }
    if (n < path.length && isSeq(node)) return { node };
    return { node };
  }
  return {};
}

/** Candidate file names for a target, most specific first: `<name>-<version>.yaml`, `<name>.yaml`. */
export function expectationFileNames(targetName: string, version?: string): string[] {
  const base = targetFileName(targetName);
  const names: string[] = [];
  if (version) names.push(`${base}-${targetFileName(version)}.yaml`);
  names.push(`${base}.yaml`);
  return names;
}

/**
 * Load the expectation file for a target from `dir`, if there is one. Errors (bad YAML,
 * unknown keys, bad values) come back with file:line:col; the caller refuses to run (exit 2).
 */
export async function loadExpectations(
  dir: string,
  targetName: string,
  version?: string,
): Promise<{ set?: ExpectationSet; errors: ExpectationError[] }> {
  for (const name of expectationFileNames(targetName, version)) {
    const path = join(dir, name);
    if (!existsSync(path)) continue;
    const shown = relative(process.cwd(), path) || path;
    return parseExpectations(await readFile(path, 'utf8'), shown.startsWith('..') ? path : shown);
  }
  return { errors: [] };
}
