// Loading spec files: find *.yaml under the given paths, parse each with yaml@2 (positions
// through LineCounter, duplicate keys refused, integers as bigint so 64-bit values stay
// exact), validate against the zod schema, then expand every case once to check the
// symbols that depend on context (syscall per ABI, tags, $symbols, ...). Every error of
// every file is collected with file:line:col; nothing here throws for a bad spec.

import { readFile, readdir, stat } from 'node:fs/promises';
import { join, relative, isAbsolute } from 'node:path';
import { LineCounter, parseAllDocuments, type Document } from 'yaml';
import { errorAt, zodErrors, type LoadedSpec } from './doc.js';
import { formatSpecError, type SpecError } from './errors.js';
import { expandChecked } from './expand.js';
import { SpecSchema } from './schema.js';

export type { LoadedSpec } from './doc.js';
export { formatSpecError, type SpecError } from './errors.js';

/** Files in specs/ that are not specs. */
const NOT_SPECS = new Set(['schema.json', 'tags.yaml']);

/** Expand files and directories (recursively, *.yaml / *.yml) into a sorted file list. */
async function collect(paths: string[], errors: SpecError[]): Promise<string[]> {
  const files: string[] = [];
  const walk = async (p: string, top: boolean): Promise<void> => {
    let st;
    try {
      st = await stat(p);
    } catch {
      errors.push({ file: p, line: 1, col: 1, message: `no such file or directory: ${p}` });
      return;
    }
    if (st.isDirectory()) {
      const entries = (await readdir(p)).sort();
      for (const e of entries) {
        if (e.startsWith('.') || e === 'node_modules') continue;
        await walk(join(p, e), false);
      }
      return;
    }
    const base = p.split('/').pop()!;
    if (!top && (NOT_SPECS.has(base) || !/\.ya?ml$/.test(base))) return;
    if (top && NOT_SPECS.has(base)) return;
    files.push(p);
  };
  for (const p of paths) await walk(p, true);
  return [...new Set(files)];
}

/** How a file is named in messages: relative to the working directory when inside it. */
function display(file: string): string {
  if (!isAbsolute(file)) return file;
  const r = relative(process.cwd(), file);
  return r.startsWith('..') ? file : r;
}

const YAML_CODES: Record<string, string> = {
  DUPLICATE_KEY: 'duplicate key',
  BAD_INDENT: 'bad indentation',
  MISSING_CHAR: 'missing character',
  MULTILINE_IMPLICIT_KEY: 'an implicit key cannot span lines',
  BLOCK_AS_IMPLICIT_KEY: 'a block cannot be an implicit key',
  UNEXPECTED_TOKEN: 'unexpected token',
  TAB_AS_INDENT: 'tabs cannot indent YAML',
  BAD_ALIAS: 'bad alias',
  BAD_SCALAR_START: 'bad scalar start',
};

/** Parse one file's text into a LoadedSpec, or errors. Exported for tests and tools. */
export function parseSpecText(file: string, text: string): { spec?: LoadedSpec; errors: SpecError[] } {
  const lineCounter = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter, uniqueKeys: true, intAsBigInt: true, prettyErrors: false });
  const errors: SpecError[] = [];
  const list = (Array.isArray(docs) ? docs : [docs]) as Document.Parsed[];
  const at = (off: number, message: string) => {
    const { line, col } = lineCounter.linePos(off);
    errors.push({ file, line, col, message });
  };
  if (list.length === 0) { at(0, 'empty file: a spec needs id, title, description, refs, tags and cases'); return { errors }; }
  for (const d of list.slice(1)) at(d.range[0], 'a spec file holds one YAML document; found a second one (---)');
  const doc = list[0]!;
  for (const e of doc.errors) {
    const what = YAML_CODES[e.code] ?? 'YAML syntax error';
    let msg = e.message.split('\n')[0]!.replace(/ at line \d+, column \d+.*$/, '');
    if (e.code === 'DUPLICATE_KEY') {
      const key = text.slice(e.pos[0]).split(/[:\n]/)[0]!.trim();
      msg = `duplicate key "${key}" (each key may appear once in a map)`;
    } else msg = `${what}: ${msg}`;
    at(e.pos[0], msg);
  }
  if (errors.length > 0) return { errors };
  const data = doc.toJS({ maxAliasCount: 1000 }) as unknown;
  const base = { file, doc, lineCounter, text };
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    errors.push(errorAt(base, [], `a spec is a map with id, title, description, refs, tags and cases; found ${data === null ? 'an empty document' : Array.isArray(data) ? 'a list' : 'a scalar'}`));
    return { errors };
  }
  const r = SpecSchema.safeParse(data);
  if (!r.success) return { errors: zodErrors(base, SpecSchema, data, r.error.issues) };
  return { spec: { ...base, id: r.data.id, data: r.data }, errors };
}

/**
 * Load every spec under `paths` (files or directories). Errors from all files are collected;
 * a spec with any error is left out of `specs`.
 */
export async function loadSpecs(paths: string[]): Promise<{ specs: LoadedSpec[]; errors: SpecError[] }> {
  const errors: SpecError[] = [];
  const files = await collect(paths, errors);
  const specs: LoadedSpec[] = [];
  const ids = new Map<string, SpecError>();
  for (const f of files) {
    const file = display(f);
    let text: string;
    try {
      text = await readFile(f, 'utf8');
    } catch (e) {
      errors.push({ file, line: 1, col: 1, message: `cannot read: ${(e as Error).message}` });
      continue;
    }
    const r = parseSpecText(file, text);
    errors.push(...r.errors);
    if (!r.spec) continue;
    const spec = r.spec;
    const before = errors.length;
    expandChecked(spec, errors);
    const here = errorAt(spec, ['id'], '');
    const first = ids.get(spec.id);
    if (first) {
      errors.push({ ...here, message: `duplicate spec id "${spec.id}" (first defined at ${formatSpecError(first).replace(/: error: $/, '')}); spec ids are unique across specs/` });
      continue;
    }
    ids.set(spec.id, here);
    if (errors.length === before) specs.push(spec);
  }
  return { specs, errors };
}
