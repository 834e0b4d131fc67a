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
/** Case keys the second thread cannot be combined with (probes/thread.c runs only the call there). */
const EXCLUSIVE = ['ptrace', 'contend', 'breakpoint', 'before', 'segs', 'peek', 'compat_stack'] as const;

/** `kase`: the merged case (its other keys, and the resolved entry), to refuse what cannot combine. */
export function buildThread(input: unknown, tableAbi: Abi, kase: Record<string, unknown>, fail: Fail): ThreadSetup | undefined {
  if (input === undefined) return undefined;
  const hasSeccomp = kase.seccomp !== undefined;
  for (const k of EXCLUSIVE) {
    if (kase[k] !== undefined) fail(['thread'], `thread: cannot be combined with ${k}: (only the call itself runs in the second thread)`, true);
  }
  if (kase.entry === 'exec' || kase.entry === 'sigreturn') fail(['thread'], `thread: cannot be combined with entry ${String(kase.entry)}`, true);
  if (Array.isArray(kase.flags) && kase.flags.includes('TF')) fail(['thread'], 'thread: cannot be combined with flags: [TF] (the single-step traps would hit the thread set-up)', true);
  // Strict mode allows read/write/exit/sigreturn only: the main thread could not wait (futex).
  const sc = kase.seccomp;
  if (sc === 'strict' || (Array.isArray(sc) && sc.includes('strict'))) fail(['thread'], 'thread: cannot be combined with strict mode (the main thread waits with futex, which strict mode kills)', true);
  if (sc !== undefined && !Array.isArray(sc) && sc !== 'strict') fail(['thread'], 'thread: cannot be combined with a seccomp listener or supervisor (seccomp: as a map)', true);
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
