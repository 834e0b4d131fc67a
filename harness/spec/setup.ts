// Set-up calls (`setup:` in a case, docs/spec-language.md "Set-up calls"): system calls made
// before the call under test, e.g. modify_ldt writing the LDT entry a later read or selector
// load needs. Builds Case.setup: names resolved in the case ABI's own table (the set-up calls
// use the ABI's native entry, whatever entry the case tests), arguments parsed as input values
// and counted against the syscall's SYSCALL_DEFINE metadata, and errno names turned to numbers.

import { ABIS, ERRNO, type Abi } from '../../abi/constants.js';
import { lookupName, syscallNames } from '../../abi/tables/index.js';
import { metaForRow } from '../../abi/metadata/index.js';
import type { Entry, SetupCall } from '../contracts.js';
import type { Path } from './doc.js';
import { didYouMean } from './errors.js';
import { parseInput, type Decls } from './values.js';

type Fail = (p: Path, msg: string, keyNode?: boolean) => void;

/** The two call lists of a case: `setup:` (before the call under test) and `after:` (right after
 *  it returned, docs/spec-language.md "Calls after the call"); same shape, same entries. */
export type CallListKey = 'setup' | 'after';
/** How messages name one item of each list. */
export const CALL_LIST_WORD: Record<CallListKey, string> = { setup: 'set-up call', after: 'after-call' };

/** One item of `setup:` after schema validation. */
interface SetupInput {
  call: string;
  args?: unknown[];
  expect_errno?: string;
  entry?: 'int80';
}

/** The entry instruction a set-up call uses: the ABI's native one unless it says int80. */
export function setupEntryOf(abi: Abi, call: Pick<SetupCall, 'entry'>): 'syscall' | 'int80' {
  return abi === 'i386' || call.entry === 'int80' ? 'int80' : 'syscall';
}

/** Whether a case's set-up needs ia32 emulation (int $0x80 from 64-bit code). */
export function setupNeedsIa32(calls: readonly SetupCall[] | undefined): boolean {
  return (calls ?? []).some((s) => s.entry === 'int80');
}

/**
 * Case.setup from the case's `setup:` list; undefined when there is none (or it had errors,
 * which went to `fail` with their paths).
 */
export function buildSetup(raw: unknown, abi: Abi, entry: Entry, decls: Decls, fail: Fail, key: CallListKey = 'setup'): SetupCall[] | undefined {
  if (raw === undefined) return undefined;
  const list = raw as SetupInput[];
  const what = CALL_LIST_WORD[key];
  // exec replaces the process image: nothing a set-up call did (an LDT, TLS entries, bases)
  // survives into the program whose first state the case reports (fs/exec.c, begin_new_exec).
  if (entry === 'exec') {
    fail([key], key === 'setup' ? 'setup: an exec case starts a fresh program, which keeps nothing a set-up call changed'
      : 'after: an exec case has no call that returns to the program that made it, so nothing runs after it', true);
    return undefined;
  }
  const bits: 32 | 64 = abi === 'i386' ? 32 : 64;
  const out: SetupCall[] = [];
  let ok = true;
  list.forEach((s, i) => {
    const p: Path = [key, i];
    // The ABI's own table: x86_64 and x32 set-up calls are SYSCALLs from 64-bit code, i386 ones
    // int $0x80; `entry: int80` from 64-bit code is decoded with the i386 table (ABI-FACTS §4.2).
    if (s.entry === 'int80' && abi === 'i386') {
      fail([...p, 'entry'], `${what} ${i + 1}: entry int80 is for x86_64 and x32 processes (int $0x80 from their 64-bit code); i386 ${what}s use int $0x80 already`, true);
      ok = false;
      return;
    }
    const table: Abi = s.entry === 'int80' ? 'i386' : abi;
    const row = lookupName(table, s.call);
    if (!row) {
      const elsewhere = ABIS.filter((a) => a !== table && lookupName(a, s.call));
      const why = s.entry === 'int80' ? 'int $0x80 is decoded with it' : `${what}s use the case ABI's own table`;
      fail([...p, 'call'], `${what} ${i + 1}: unknown syscall "${s.call}" in the ${table} table (${why})` +
        `${didYouMean(s.call, syscallNames(table))}${elsewhere.length ? `; it exists on ${elsewhere.join(', ')}` : ''}`);
      ok = false;
      return;
    }
    const args = s.args ?? [];
    // SYSCALL_DEFINEn's n, where the committed metadata knows the syscall.
    const meta = metaForRow(row);
    if (meta && args.length !== meta.args.length) {
      fail(s.args !== undefined ? [...p, 'args'] : p,
        `${what} ${i + 1}: ${s.call} takes ${meta.args.length} argument${meta.args.length === 1 ? '' : 's'}` +
        `${meta.args.length ? ` (${meta.args.map((a) => a.name).join(', ')})` : ''}, found ${args.length}`);
      ok = false;
    }
    const operands = args.map((v, j) => {
      const o = parseInput(v, bits, decls);
      if (!o.ok) { fail([...p, 'args', j], `${what} ${i + 1} (${s.call}) args[${j}]: ${o.msg}`); ok = false; return { lit: 0n }; }
      return o.v;
    });
    const call: SetupCall = { name: s.call, nr: BigInt(row.nr), args: operands };
    if (s.expect_errno !== undefined) call.expectErrno = ERRNO[s.expect_errno as keyof typeof ERRNO];
    if (s.entry === 'int80') call.entry = 'int80';
    out.push(call);
  });
  return ok ? out : undefined;
}

/**
 * Whether a set-up call's raw return value is an error: the low 32 bits are -4095..-1 and the
 * value is that int sign- or zero-extended. Zero-extended because modify_ldt casts its result to
 * unsigned int on purpose (arch/x86/kernel/ldt.c: "the ABI expects an int"), so on x86_64 its
 * -EINVAL arrives as 0x00000000ffffffea. Returns the errno, or 0 for a success.
 */
export function setupErrno(ret: bigint, bits: 32 | 64): number {
  const v = BigInt.asUintN(bits, ret);
  const lo = Number(BigInt.asIntN(32, v & 0xffffffffn));
  if (lo < -4095 || lo > -1) return 0;
  const hi = bits === 64 ? v >> 32n : 0n;
  return hi === 0n || hi === 0xffffffffn ? -lo : 0;
}

/** The error reason for set-up call `index` (0-based) that returned `ret`, or null if it did what
 *  the case asked. Used by every target so the message is the same everywhere. */
export function setupFailure(call: SetupCall, index: number, ret: bigint, bits: 32 | 64, key: CallListKey = 'setup'): string | null {
  const what = CALL_LIST_WORD[key];
  const e = setupErrno(ret, bits);
  const name = (n: number) => Object.entries(ERRNO).find(([, v]) => v === n)?.[0] ?? String(n);
  const shown = e ? `-${name(e)}` : `0x${BigInt.asUintN(bits, ret).toString(16)}`;
  if (call.expectErrno === undefined) {
    return e ? `${what} ${index + 1} (${call.name}) returned ${shown}` : null;
  }
  return e === call.expectErrno ? null : `${what} ${index + 1} (${call.name}) returned ${shown}, expected -${name(call.expectErrno)}`;
}
