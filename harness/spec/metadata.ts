// The metadata rules `sysabi lint` adds on top of the schema: what makes a spec readable by a
// stranger (test262's standard) and can be checked mechanically — an opening comment line, a
// one-line title without a full stop, a description long enough to explain a mechanism, an id
// filed under its area, refs whose shape can be checked (kernel paths, selftests, commits,
// manuals), no duplicates in refs/tags/covers. docs/spec-language.md "Metadata rules".
// These run in `lint` only: a run is never refused for prose.

import { basename, dirname } from 'node:path';
import { isScalar } from 'yaml';
import { errorAt, nodeAt, type LoadedSpec } from './doc.js';
import type { SpecError } from './errors.js';

/** Bounds the corpus meets after the session-2 review; a title is one sentence, not a paragraph. */
export const TITLE_MAX = 130;
export const DESCRIPTION_MIN = 160;
export const DESCRIPTION_MAX = 1800;

/** Top-level directories of the Linux source tree a `kernel:` ref may start with. */
export const KERNEL_TOP_DIRS = [
  'arch', 'block', 'certs', 'crypto', 'drivers', 'fs', 'include', 'init', 'io_uring', 'ipc',
  'kernel', 'lib', 'mm', 'net', 'rust', 'samples', 'scripts', 'security', 'sound', 'tools', 'usr',
  'virt', 'Documentation',
] as const;

/** The manuals a `manual:` ref may name (the spec language's list). */
const MANUAL_RE = /\b(Intel SDM|AMD APM|Intel FRED)\b/;
/** A commit id as git abbreviates it for the kernel (12 hex digits or more). */
const COMMIT_ID_RE = /^[0-9a-f]{12,40}\b/;

/** The spec's area: the directory under specs/ (`return-path` → `return_path`), or undefined elsewhere. */
export function areaOf(file: string): string | undefined {
  const dir = dirname(file);
  if (basename(dirname(dir)) !== 'specs') return undefined;
  return basename(dir).replace(/-/g, '_');
}

/** Every metadata problem of one spec, with file:line:col. */
export function checkMetadata(spec: LoadedSpec): SpecError[] {
  const out: SpecError[] = [];
  const d = spec.data;
  const at = (path: (string | number)[], message: string, key = false) => out.push(errorAt(spec, path, message, key));

  // The opening comment: the first line that is not the editor's schema modeline.
  const lines = spec.text.split('\n');
  const first = lines.findIndex((l) => !/^#\s*yaml-language-server:/.test(l));
  const head = first >= 0 ? lines[first]!.trim() : '';
  if (!/^#\s*\S/.test(head)) {
    out.push({ file: spec.file, line: first + 1, col: 1, message: 'a spec opens with a comment line that says its behaviour in one sentence (after the optional "# yaml-language-server" line); found ' + (head === '' ? 'an empty line' : `"${head.slice(0, 40)}"`) });
  }

  // A plain scalar ends at " #": the rest of the line is a YAML comment, so a title or case name
  // written `(#PF, #NP)` silently loses everything from the '#' (and the case id changes with it).
  const cutByComment = (path: (string | number)[], what: string) => {
    const n = nodeAt(spec.doc, path).node;
    if (!isScalar(n) || n.type !== 'PLAIN' || !n.range) return;
    const rest = spec.text.slice(n.range[1]).split('\n')[0]!;
    if (/^\s+#/.test(rest)) at(path, `${what} is cut at "${rest.trim().slice(0, 20)}": " #" starts a YAML comment; quote the ${what.split(' ').pop()} or put the comment on its own line`);
  };
  cutByComment(['title'], 'the title');
  d.cases.forEach((_c, i) => cutByComment(['cases', i, 'name'], `cases[${i}] name`));

  const title = d.title;
  if (/[\r\n]/.test(title.trim())) at(['title'], 'the title is one line; put the explanation in description');
  else if (/\.\s*$/.test(title)) at(['title'], 'the title ends without a full stop (it is a heading, like a test name)');
  if (title.trim() !== title) at(['title'], 'the title has leading or trailing blanks');
  if (title.length > TITLE_MAX) at(['title'], `the title is ${title.length} characters, at most ${TITLE_MAX}: say the behaviour, move the detail to description`);

  const desc = d.description.trim();
  if (desc.length < DESCRIPTION_MIN) at(['description'], `the description is ${desc.length} characters, at least ${DESCRIPTION_MIN}: say what the kernel does, why (the code path), and what the cases vary`);
  if (desc.length > DESCRIPTION_MAX) at(['description'], `the description is ${desc.length} characters, at most ${DESCRIPTION_MAX}: one behaviour per spec; split the spec or move case detail into case comments`);

  const area = areaOf(spec.file);
  if (area !== undefined && d.id.split('.')[0] !== area) {
    at(['id'], `the id of a spec in specs/${basename(dirname(spec.file))}/ starts with "${area}."; found "${d.id}"`);
  }

  const seen = new Map<string, number>();
  d.refs.forEach((r, i) => {
    const [kind, value] = Object.entries(r)[0] as [string, string];
    const v = value.trim();
    const key = `${kind}:${v}`;
    const prev = seen.get(key);
    if (prev !== undefined) at(['refs', i], `refs[${i}] repeats refs[${prev}] (${kind}: ${v})`);
    else seen.set(key, i);
    const path = v.split(/[\s(,;]/)[0]!;
    if (kind === 'kernel') {
      const top = path.split('/')[0]!;
      if (!(KERNEL_TOP_DIRS as readonly string[]).includes(top) || !path.includes('/')) {
        at(['refs', i, kind], `a kernel ref starts with a path in the kernel tree (arch/..., kernel/..., include/...), then the function in parentheses; found "${path}"`);
      }
    } else if (kind === 'selftest') {
      if (!path.startsWith('tools/testing/selftests/')) at(['refs', i, kind], `a selftest ref starts with its path under tools/testing/selftests/; found "${path}"`);
    } else if (kind === 'commit') {
      if (!COMMIT_ID_RE.test(v) && !/"[^"]+"/.test(v)) at(['refs', i, kind], `a commit ref gives the commit id (12+ hex digits) or its quoted subject line; found "${v.slice(0, 40)}"`);
    } else if (kind === 'manual') {
      if (!MANUAL_RE.test(v)) at(['refs', i, kind], `a manual ref names the manual (Intel SDM, AMD APM, Intel FRED) and the section; found "${v.slice(0, 40)}"`);
    } else if (kind === 'url') {
      if (!/^https?:\/\/\S+$/.test(v)) at(['refs', i, kind], `a url ref is one http(s) address; found "${v.slice(0, 40)}"`);
    }
  });

  const dups = (list: readonly string[] | undefined, field: 'tags' | 'covers') => {
    (list ?? []).forEach((x, i) => {
      const j = list!.indexOf(x);
      if (j !== i) at([field, i], `${field} lists "${x}" twice (${field}[${j}] and ${field}[${i}])`);
    });
  };
  dups(d.tags, 'tags');
  dups(d.covers, 'covers');
  return out;
}
