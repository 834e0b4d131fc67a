// Instructions before the entry (`before:` in a case, docs/spec-language.md "Instructions before
// the entry"): a short, closed list of user instructions the case runs in its own context right
// before its entry instruction — the FSGSBASE group, which reaches bases arch_prctl refuses
// (SS-04's kernel-half GS base) and shows whether CR4.FSGSBASE is on. Builds Case.before.

import { z } from 'zod';
import { BEFORE_INSNS, GPRS64, type Abi, type BeforeInsn, type BeforeInsnName, type CodeMode, type Entry, type Gpr } from '../contracts.js';
import type { Path } from './doc.js';
import { didYouMean } from './errors.js';
import { parseInt64 } from './values.js';

type Fail = (p: Path, msg: string, keyNode?: boolean) => void;

/** At most this many instructions per case (the probe generates them into one page). */
export const MAX_BEFORE = 8;

const Operand = z.union([z.bigint(), z.string()]);
/** One item: a one-key map `{wrgsbase: 0x1000}`, `{wrgsbase: rbx}`, `{rdgsbase: rax}`. */
export const BeforeInsnSchema = z
  .strictObject(Object.fromEntries(BEFORE_INSNS.map((k) => [k, Operand.optional()])) as Record<BeforeInsnName, z.ZodOptional<typeof Operand>>)
  .refine((o) => Object.values(o).filter((v) => v !== undefined).length === 1, {
    message: `an instruction is a one-key map: one of ${BEFORE_INSNS.join(', ')} (e.g. { wrgsbase: 0x10000 } or { rdgsbase: rax })`,
  });
export const BeforeListSchema = z.array(BeforeInsnSchema).min(1).max(MAX_BEFORE);

const isGpr = (s: string): s is Gpr => (GPRS64 as readonly string[]).includes(s);

/**
 * Case.before from the case's `before:` list; undefined when there is none (or it had errors,
 * which went to `fail` with their paths).
 */
export function buildBefore(raw: unknown, abi: Abi, code: CodeMode, entry: Entry, fail: Fail): BeforeInsn[] | undefined {
  if (raw === undefined) return undefined;
  // RDFSBASE..WRGSBASE are #UD outside 64-bit mode (Intel SDM Vol. 2A RDFSBASE/RDGSBASE,
  // "Protected Mode Exceptions: #UD The FSGSBASE instructions are not recognized").
  if (abi === 'i386' || code === 'compat') {
    fail(['before'], `before: the FSGSBASE instructions exist only in 64-bit mode; this case runs ${abi === 'i386' ? 'an i386 process' : 'compat code'} (use x86_64 or x32 with code 64)`, true);
    return undefined;
  }
  if (entry === 'exec') {
    fail(['before'], 'before: an exec case starts a fresh program, which keeps nothing an instruction before it changed', true);
    return undefined;
  }
  const out: BeforeInsn[] = [];
  let ok = true;
  (raw as Record<string, unknown>[]).forEach((item, i) => {
    const [insn, v] = Object.entries(item).find(([, x]) => x !== undefined) as [BeforeInsnName, unknown];
    const p: Path = ['before', i, insn];
    const reads = insn.startsWith('rd');
    if (typeof v === 'string' && /^[a-z][a-z0-9]*$/.test(v.trim())) {
      const r = v.trim();
      if (isGpr(r)) { out.push({ insn, reg: r }); return; }
      const hint = /^e[a-z]{2}$|^r\d+d$/.test(r)
        ? ' (the operand is a 64-bit register here: write its 64-bit name, e.g. rax)'
        : didYouMean(r, GPRS64);
      fail(p, `${insn}: "${r}" is not a general register; expected one of ${GPRS64.join(', ')}${hint}`);
      ok = false;
      return;
    }
    if (reads) {
      fail(p, `${insn} writes a register: name one of ${GPRS64.join(', ')}, found ${String(v)}`);
      ok = false;
      return;
    }
    const n = parseInt64(v);
    if (!n.ok) {
      fail(p, `${insn}: expected a 64-bit value or a register name, ${n.msg}`);
      ok = false;
      return;
    }
    // Any 64-bit value, non-canonical ones included: WR*BASE raises #GP for those (SDM), which is
    // a behaviour a case may check.
    out.push({ insn, value: BigInt.asUintN(64, n.v) });
  });
  return ok ? out : undefined;
}

/** One instruction as text, for explanations: `wrgsbase 0xffffffffffff0000`, `rdgsbase %rax`. */
export function formatBefore(b: BeforeInsn): string {
  return b.reg !== undefined ? `${b.insn} %${b.reg}` : `${b.insn} 0x${(b.value ?? 0n).toString(16)} (staged)`;
}
