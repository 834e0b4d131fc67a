// 32-bit PUSH/POP through SS, as compatibility-mode (and legacy) code does them: the one place
// the CPU layer checks SS's hidden attributes on an ordinary stack access (RG-06). In 64-bit
// mode SS is not checked at all (Intel SDM Vol. 3A §5.4.1.1, AMD APM Vol. 2 §4.8.3: "the
// processor does not check SS in 64-bit mode"); outside it every stack reference goes through
// the SS descriptor cache. An SS that SYSRET left unusable on AMD (its selector 0x2b, the
// attributes of the NULL SS the kernel had) therefore faults on the first compat push or pop:
// #SS(0) — Linux commit 61f01dd941ba (v4.1): "SYSRET with SS == 0 results in an invalid
// usermode state in which SS is apparently equal to __USER_DS but causes #SS if used".

import type { InsnResult } from './api.js';
import { Cpu, OK, fail, fromLe, hx, leBytes } from './state.js';

const MASK32 = 0xffffffffn;

/** Why a 4-byte stack access at esp would fault through SS, or null (SDM PUSH/POP exceptions). */
function ssCheck(cpu: Cpu, esp: bigint, write: boolean): string | null {
  const ss = cpu.seg.ss;
  if (ss.unusable) return `SS (selector ${hx(ss.selector)}) is unusable: its hidden attributes are those of a NULL selector`;
  if (!ss.present) return `SS (selector ${hx(ss.selector)}) is not present`;
  // A writable data segment (type bit 1); a read-only SS cannot be loaded, but a cache that
  // SYSRET left untouched holds whatever was there.
  if (write && (!ss.s || (ss.type & 0x8) !== 0 || (ss.type & 0x2) === 0)) return `SS (selector ${hx(ss.selector)}) is not a writable data segment`;
  // Expand-up limit check on the four bytes (expand-down stacks are not used by Linux).
  if (esp + 3n > BigInt(ss.limit)) return `ESP ${hx(esp)} + 3 exceeds the SS limit ${hx(ss.limit)}`;
  return null;
}

/** PUSH r/imm32 outside 64-bit mode: ESP -= 4, then the store at SS:ESP. */
export function push32(cpu: Cpu, value: bigint): InsnResult {
  if (cpu.mode === 'long64') throw new RangeError('push32 models a 32-bit stack access; 64-bit mode does not check SS');
  const esp = (cpu.gpr.rsp - 4n) & MASK32;
  const why = ssCheck(cpu, esp, true);
  if (why) return fail(cpu, 'PUSH', 'SS', 0, cpu.cpl, why);
  const lin = (cpu.seg.ss.base + esp) & MASK32;
  const w = cpu.mem.write(lin, leBytes(value & MASK32, 4), cpu.cpl);
  if (w !== true) return fail(cpu, 'PUSH', 'PF', w.errorCode, cpu.cpl, `push to ${hx(lin)} faulted`, lin);
  cpu.gpr.rsp = (cpu.gpr.rsp & ~MASK32) | esp;
  if (cpu.trace) cpu.note('PUSH', `[SS:${hx(esp)}] ← ${hx(value & MASK32)}`);
  return OK;
}

/** POP r32 outside 64-bit mode: the load at SS:ESP, then ESP += 4. */
export function pop32(cpu: Cpu): { ok: true; value: bigint } | Extract<InsnResult, { ok: false }> {
  if (cpu.mode === 'long64') throw new RangeError('pop32 models a 32-bit stack access; 64-bit mode does not check SS');
  const esp = cpu.gpr.rsp & MASK32;
  const why = ssCheck(cpu, esp, false);
  if (why) return fail(cpu, 'POP', 'SS', 0, cpu.cpl, why) as Extract<InsnResult, { ok: false }>;
  const lin = (cpu.seg.ss.base + esp) & MASK32;
  const r = cpu.mem.read(lin, 4, cpu.cpl);
  if (!(r instanceof Uint8Array)) return fail(cpu, 'POP', 'PF', r.errorCode, cpu.cpl, `pop from ${hx(lin)} faulted`, lin) as Extract<InsnResult, { ok: false }>;
  const value = fromLe(r);
  cpu.gpr.rsp = (cpu.gpr.rsp & ~MASK32) | ((esp + 4n) & MASK32);
  if (cpu.trace) cpu.note('POP', `${hx(value)} ← [SS:${hx(esp)}]`);
  return { ok: true, value };
}
