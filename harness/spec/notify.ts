// SC-04 user notification in the spec language: the supervisor's answer (`seccomp: {notify:
// {respond: ...}}`) turned into Case.seccomp.notify, and `expect.notification` (what the
// supervisor found in struct seccomp_notif) turned into checks. docs/spec-language.md
// "seccomp user notification"; the targets: probes/notify.c, sim/kernel/seccomp/notify.ts.

import { ERRNO } from '../../abi/constants.js';
import type { NotifyScript, SeccompNotif } from '../contracts.js';
import type { Matcher } from './types.js';
import type { Path } from './doc.js';
import type { MatcherInput } from './schema.js';
import { parseInt64, type NameSpace } from './values.js';

type Fail = (p: Path, msg: string, keyNode?: boolean) => void;

/** `respond: continue | {error: EPERM} | {val: 42}` → the script (the schema checked the shape). */
export function buildNotify(input: unknown, base: Path, fail: Fail): NotifyScript | undefined {
  const r = (input as { respond?: unknown } | undefined)?.respond;
  if (r === 'continue') return { respond: { kind: 'continue' } };
  if (r && typeof r === 'object' && 'error' in r) {
    const name = String((r as { error: unknown }).error);
    const errno = (ERRNO as Record<string, number>)[name];
    if (errno === undefined) { fail([...base, 'respond', 'error'], `unknown errno "${name}" (expected a name such as EPERM)`); return undefined; }
    return { respond: { kind: 'error', errno } };
  }
  if (r && typeof r === 'object' && 'val' in r) {
    const v = parseInt64((r as { val: bigint | string }).val);
    if (!v.ok) { fail([...base, 'respond', 'val'], `respond.val: ${v.msg}`); return undefined; }
    return { respond: { kind: 'val', val: v.v } };
  }
  fail([...base, 'respond'], 'notify needs respond: continue, {error: ERRNO} or {val: N}');
  return undefined;
}

/** The checkable fields of struct seccomp_notif, with the width they compare at. */
const FIELDS: readonly { key: keyof SeccompNotif; bits: 32 | 64; ns?: 'syscall' | 'arch' }[] = [
  { key: 'id', bits: 64 }, { key: 'pid', bits: 32 }, { key: 'flags', bits: 32 },
  { key: 'nr', bits: 32, ns: 'syscall' }, { key: 'arch', bits: 32, ns: 'arch' },
  { key: 'instruction_pointer', bits: 64 },
];

/** expect.notification: `none` (the supervisor received nothing) or field matchers. */
export type NotificationCheck = { none: true } | { none: false; fields: { field: string; m: Matcher; bits: 32 | 64 }[] };

export function parseNotificationExpect(
  v: unknown, base: Path, names: { syscall: NameSpace; arch: NameSpace },
  matcher: (v: MatcherInput, p: Path, ns?: NameSpace) => Matcher | undefined,
): NotificationCheck {
  if (v === 'none') return { none: true };
  const o = v as Record<string, unknown>;
  const fields: { field: string; m: Matcher; bits: 32 | 64 }[] = [];
  for (const f of FIELDS) {
    if (o[f.key] === undefined) continue;
    const m = matcher(o[f.key] as MatcherInput, [...base, f.key], f.ns ? names[f.ns] : undefined);
    if (m) fields.push({ field: f.key, m, bits: f.bits });
  }
  // data.args are __u64 as the kernel stored them (syscall_get_arguments: a compat call's
  // 32-bit registers zero-extended).
  ((o.args ?? []) as MatcherInput[]).forEach((a, j) => {
    const m = matcher(a, [...base, 'args', j]);
    if (m) fields.push({ field: `args.${j}`, m, bits: 64 });
  });
  return { none: false, fields };
}

/** A field of the received notification by its check path ("nr", "args.2"). */
export function notifField(n: SeccompNotif, path: string): bigint | undefined {
  if (path.startsWith('args.')) return n.args[Number(path.slice(5))];
  const v = n[path as keyof SeccompNotif];
  return typeof v === 'bigint' ? v : typeof v === 'number' ? BigInt(v) : undefined;
}
