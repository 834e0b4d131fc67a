// Where the repository's data files live, found from this module's own location so it works
// both from the sources (tsx) and from the compiled dist/ tree.

import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let cached: string | undefined;

/** The repository root: the nearest ancestor holding specs/tags.yaml. */
export function repoRoot(): string {
  if (cached) return cached;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'specs', 'tags.yaml'))) return (cached = dir);
    const up = dirname(dir);
    if (up === dir) throw new Error('sysabi: cannot find specs/tags.yaml above ' + fileURLToPath(import.meta.url));
    dir = up;
  }
}

export const tagsFile = (): string => join(repoRoot(), 'specs', 'tags.yaml');
export const schemaFile = (): string => join(repoRoot(), 'specs', 'schema.json');
