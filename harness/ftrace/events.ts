// Which syscall events a batch of ftrace cases needs switched on (docs/ftrace.md, "Which events").
// Events are named by the x86_64 table (kernel/trace/trace_syscalls.c looks the number up in
// syscalls_metadata[], filled from the 64-bit sys_call_table), so a case needs the events of
// every x86_64 number its call could be taken for: its own number, and for 32-bit or x32 calls
// the number the event would carry if the kernel did not skip compat calls (so that a `ftrace: []`
// expectation of a compat call is checked against the event that a wrong kernel would emit).
// Cases whose call can change on the way (a tracer writing orig_rax) or that enter by another
// path (vDSO function, vsyscall page, exec) need every event.

import { metadataNames, metaForRow, metaOf } from '../../abi/metadata/index.js';
import { lookupNumber } from '../../abi/tables/index.js';
import { X32_SYSCALL_BIT } from '../../abi/constants.js';
import type { Case } from '../contracts.js';

export type EventNeed = { all: true; why: string } | { all: false; nrs: number[]; names: string[] };

/** x86_64 number → the SYSCALL_DEFINE names the metadata table gives it (aliases included). */
let byNr: Map<number, string[]> | undefined;
function namesOfNr(nr: number): string[] {
  if (!byNr) {
    byNr = new Map();
    for (const n of metadataNames()) {
      const m = metaOf(n)!;
      if (m.nr === null) continue;
      const l = byNr.get(m.nr) ?? [];
      l.push(n);
      byNr.set(m.nr, l);
    }
  }
  return byNr.get(nr) ?? [];
}

const NUMBERED = new Set<Case['entry']>(['syscall', 'int80', 'sysenter', 'vdso', 'sigreturn']);

/**
 * The events one case's call may emit. `nrs` are the x86_64 numbers considered (a number the
 * metadata table does not know may still have an event on a newer kernel: the caller adds every
 * event the table does not know); `names` the event names the table gives them.
 */
export function eventsForCase(c: Case): EventNeed {
  if (!NUMBERED.has(c.entry)) return { all: true, why: `entry ${c.entry} does not run the call by its number` };
  if (c.ptrace?.at.some((a) => a.set.orig_rax !== undefined || a.set.rax !== undefined || a.rewind)) {
    return { all: true, why: 'a tracer may change the syscall number' };
  }
  // The kernel traces (int)orig_ax (syscall_get_nr; the high half of RAX is not part of the number).
  const low = Number(c.nr & 0xffffffffn);
  const nrs = new Set<number>([low, Number(BigInt(low) & ~X32_SYSCALL_BIT)]);
  const compat32 = c.abi === 'i386' || c.entry === 'int80' || c.entry === 'sysenter' || c.code === 'compat';
  // The call's meaning in its own table, named as the 64-bit event that would record it.
  const own = compat32 ? lookupNumber('i386', low) : c.abi === 'x32' ? lookupNumber('x32', low) : undefined;
  const names = new Set<string>();
  const ownMeta = own ? metaForRow(own) : undefined;
  if (ownMeta) {
    names.add(ownMeta.name);
    if (ownMeta.nr !== null) nrs.add(ownMeta.nr);
  }
  if (c.entry === 'sigreturn') for (const n of namesOfNr(15)) names.add(n); // rt_sigreturn
  for (const n of nrs) for (const name of namesOfNr(n)) names.add(name);
  return { all: false, nrs: [...nrs].sort((a, b) => a - b), names: [...names].sort() };
}

/** The union of several cases' needs: every event as soon as one case needs every event. */
export function eventsForCases(cases: readonly Case[]): EventNeed {
  const names = new Set<string>();
  const nrs = new Set<number>();
  for (const c of cases) {
    const n = eventsForCase(c);
    if (n.all) return { all: true, why: `${c.id}: ${n.why}` };
    n.names.forEach((x) => names.add(x));
    n.nrs.forEach((x) => nrs.add(x));
  }
  return { all: false, nrs: [...nrs].sort((a, b) => a - b), names: [...names].sort() };
}
