// The `thread:` key of a case turned into Case.thread (SC-04/05/06): the call under test runs in
// a second thread of the case's process. `true` means the main thread installs the case's
// `seccomp:` before it creates that thread (inherited: kernel/fork.c copy_seccomp); an object
// says `main_seccomp: after` (the filters reach the thread only through TSYNC) and/or lists
// filters the second thread installs for itself (its filter tree then diverges from the main
// thread's: kernel/seccomp.c is_ancestor, what TSYNC refuses).

import type { Abi } from '../../abi/constants.js';
import type { ThreadSetup } from '../contracts.js';
import { buildSeccomp } from './seccomp.js';
import type { Path } from './doc.js';

type Fail = (p: Path, msg: string, keyNode?: boolean) => void;

/** Case.thread from the spec's `thread:` value (already shape-checked by the schema). */
export function buildThread(input: unknown, tableAbi: Abi, hasSeccomp: boolean, fail: Fail): ThreadSetup | undefined {
  if (input === undefined) return undefined;
  if (input === true) return { mainSeccomp: 'before' };
  const t = input as { main_seccomp?: 'before' | 'after'; seccomp?: unknown[] };
  const out: ThreadSetup = { mainSeccomp: t.main_seccomp ?? 'before' };
  if (t.main_seccomp !== undefined && !hasSeccomp) {
    fail(['thread', 'main_seccomp'], 'thread.main_seccomp says when the main thread installs the case\'s seccomp: filters, but this case has no seccomp:', true);
  }
  if (t.seccomp !== undefined) {
    // Same filter syntax as the case's seccomp:, errors reported under thread.seccomp.
    const own = buildSeccomp(t.seccomp, tableAbi, (p, msg, key) => fail(['thread', ...p], msg, key));
    if (own) out.seccomp = own.filters;
  }
  return out;
}
