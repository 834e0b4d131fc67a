// The closed tag vocabulary, read from specs/tags.yaml (one `tag: meaning` line each).

import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { tagsFile } from './paths.js';

let cached: Map<string, string> | undefined;

/** tag → one-line meaning, in file order. */
export function loadTags(file = tagsFile()): Map<string, string> {
  if (cached && file === tagsFile()) return cached;
  const raw = parse(readFileSync(file, 'utf8')) as Record<string, unknown> | null;
  const m = new Map<string, string>();
  for (const [k, v] of Object.entries(raw ?? {})) m.set(k, String(v));
  if (file === tagsFile()) cached = m;
  return m;
}
