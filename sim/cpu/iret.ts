// IRET / IRETD / IRETQ — interrupt return (Intel SDM Vol. 2A "IRET/IRETD/IRETQ", Operation:
// PROTECTED-MODE, IA-32e-MODE, RETURN-TO-SAME-/OUTER-PRIVILEGE-LEVEL). Unlike SYSRET it reads
// CS and SS descriptors from the GDT/LDT and restores RIP, CS, RFLAGS (including RF and TF),
// RSP and SS from the frame: Linux's "fully capable" exit path (ABI-FACTS §3.2, §3.5).

import { RFLAGS } from '../../abi/constants.js';
import type { Descriptor, InsnResult } from './api.js';
import { Cpu, OK, effectiveLimit, fail, fromLe, hx, isConforming } from './state.js';

const MASK32 = 0xffffffffn;
/** Flags IRET always restores in protected/IA-32e mode: CF PF AF ZF SF TF DF OF NT RF AC ID. */
const ALWAYS = RFLAGS.CF | RFLAGS.PF | RFLAGS.AF | RFLAGS.ZF | RFLAGS.SF | RFLAGS.TF | RFLAGS.DF
  | RFLAGS.OF | RFLAGS.NT | RFLAGS.RF | RFLAGS.AC | RFLAGS.ID;

/**
 * Execute IRET with a 64-bit (IRETQ) or 32-bit (IRETD) operand size. Faults: #GP(0) with
 * NT = 1 in IA-32e mode (task returns are not modelled in legacy mode either); #PF popping
 * the frame; #GP(0) for a NULL CS; #GP(selector) for a CS that is not code, has RPL < CPL,
 * or a DPL that does not match; #NP(selector) when not present; SS checks likewise with
 * #SS(selector) when not present; #GP(0) for a non-canonical RIP into 64-bit code or an EIP
 * beyond the CS limit.
 */
export function iret(cpu: Cpu, size: 64 | 32): InsnResult {
  const insn = size === 64 ? 'IRETQ' : 'IRETD';
  const cpl = cpu.cpl;
  const mode = cpu.mode;
  const ia32e = cpu.efer.lma;
  if (size === 64 && mode !== 'long64') throw new RangeError(`IRETQ in ${mode} mode: REX.W only exists in 64-bit mode`);
  if (cpu.flag('NT')) {
    if (ia32e) return fail(cpu, insn, 'GP', 0, cpl, 'IRET with RFLAGS.NT = 1 in IA-32e mode');
    throw new Error('IRET with NT = 1 in legacy mode is a task return, which is not modelled');
  }

  // Pop through SS:RSP (flat in 64-bit mode; SS.base + ESP otherwise).
  const w = size / 8;
  const sp = cpu.gpr.rsp;
  const linear = (off: number): bigint => mode === 'long64'
    ? BigInt.asUintN(64, sp + BigInt(off))
    : (cpu.seg.ss.base + ((sp + BigInt(off)) & MASK32)) & MASK32;
  // 64-bit mode always pops SS:RSP; compat/legacy only on a return to an outer level, so read
  // three slots first, and two more once we know.
  const pop = (i: number): bigint | { addr: bigint; code: number } => {
    const addr = linear(i * w);
    const r = cpu.mem.read(addr, w, cpl);
    return r instanceof Uint8Array ? fromLe(r) : { addr, code: r.errorCode };
  };
  const head: bigint[] = [];
  for (let i = 0; i < 3; i++) {
    const v = pop(i);
    if (typeof v !== 'bigint') return fail(cpu, insn, 'PF', v.code, cpl, `popping the IRET frame at ${hx(v.addr)} faulted`, v.addr);
    head.push(v);
  }
  const [tRip, tCsRaw, tFlags] = head as [bigint, bigint, bigint];
  const tCs = Number(tCsRaw & 0xffffn);
  const rpl = tCs & 3;

  if (ia32e === false && (tFlags & RFLAGS.VM) !== 0n && cpl === 0) {
    throw new Error('IRET to virtual-8086 mode is not modelled');
  }

  // --- CS checks (SDM: PROTECTED-MODE-RETURN) ---
  if ((tCs & 0xfffc) === 0) return fail(cpu, insn, 'GP', 0, cpl, 'IRET to a NULL CS selector');
  const csLook = cpu.lookup(tCs);
  if (!csLook.ok) return fail(cpu, insn, 'GP', tCs & 0xfffc, cpl, `IRET: ${csLook.why}`);
  const cd = csLook.desc;
  if (cd.kind !== 'code') return fail(cpu, insn, 'GP', tCs & 0xfffc, cpl, `IRET: CS ${hx(tCs)} is not a code segment (${cd.kind})`);
  if (rpl < cpl) return fail(cpu, insn, 'GP', tCs & 0xfffc, cpl, `IRET: CS RPL ${rpl} < CPL ${cpl} (a return may not raise privilege)`);
  if (isConforming(cd) ? cd.dpl > rpl : cd.dpl !== rpl) {
    return fail(cpu, insn, 'GP', tCs & 0xfffc, cpl, `IRET: CS ${hx(tCs)} DPL ${cd.dpl} does not match RPL ${rpl}`);
  }
  if (!cd.present) return fail(cpu, insn, 'NP', tCs & 0xfffc, cpl, `IRET: CS ${hx(tCs)} not present`);
  if (ia32e && cd.l && cd.db) return fail(cpu, insn, 'GP', tCs & 0xfffc, cpl, `IRET: CS ${hx(tCs)} has both L and D set`);
  const to64 = ia32e && cd.l;

  const outer = rpl > cpl;
  const popsStack = outer || mode === 'long64';
  let tRsp = 0n;
  let tSs = 0;
  let ssDesc: Descriptor | null = null;
  if (popsStack) {
    const a = pop(3);
    if (typeof a !== 'bigint') return fail(cpu, insn, 'PF', a.code, cpl, `popping the IRET frame at ${hx(a.addr)} faulted`, a.addr);
    const b = pop(4);
    if (typeof b !== 'bigint') return fail(cpu, insn, 'PF', b.code, cpl, `popping the IRET frame at ${hx(b.addr)} faulted`, b.addr);
    tRsp = a;
    tSs = Number(b & 0xffffn);
    // --- SS checks ---
    if ((tSs & 0xfffc) === 0) {
      // A NULL SS is allowed only when returning to 64-bit code at CPL < 3 with RPL = new CPL.
      if (!(to64 && rpl !== 3 && (tSs & 3) === rpl)) {
        return fail(cpu, insn, 'GP', 0, cpl, `IRET: NULL SS ${hx(tSs)} when returning to ${to64 ? 'CPL 3' : 'non-64-bit code'}`);
      }
    } else {
      const ssLook = cpu.lookup(tSs);
      if (!ssLook.ok) return fail(cpu, insn, 'GP', tSs & 0xfffc, cpl, `IRET: ${ssLook.why}`);
      const sd = ssLook.desc;
      if ((tSs & 3) !== rpl) return fail(cpu, insn, 'GP', tSs & 0xfffc, cpl, `IRET: SS RPL ${tSs & 3} ≠ CS RPL ${rpl}`);
      if (sd.kind !== 'data' || (sd.type & 2) === 0) return fail(cpu, insn, 'GP', tSs & 0xfffc, cpl, `IRET: SS ${hx(tSs)} is not a writable data segment`);
      if (sd.dpl !== rpl) return fail(cpu, insn, 'GP', tSs & 0xfffc, cpl, `IRET: SS DPL ${sd.dpl} ≠ CS RPL ${rpl}`);
      if (!sd.present) return fail(cpu, insn, 'SS', tSs & 0xfffc, cpl, `IRET: SS ${hx(tSs)} not present`);
      ssDesc = sd;
    }
  }

  // --- target RIP ---
  if (to64) {
    if (!cpu.canonical(tRip)) return fail(cpu, insn, 'GP', 0, cpl, `IRET to non-canonical RIP ${hx(tRip)}`);
  } else if ((tRip & MASK32) > BigInt(effectiveLimit(cd))) {
    return fail(cpu, insn, 'GP', 0, cpl, `IRET: EIP ${hx(tRip & MASK32)} beyond the CS limit ${hx(effectiveLimit(cd))}`);
  }

  // --- commit ---
  const oldFlags = cpu.rflags;
  let keep = ALWAYS;
  if (cpl <= cpu.iopl) keep |= RFLAGS.IF;
  if (cpl === 0) keep |= RFLAGS.IOPL | RFLAGS.VIF | RFLAGS.VIP;
  const img = size === 32 ? tFlags & MASK32 : tFlags;
  cpu.rflags = (oldFlags & ~keep & ~RFLAGS.VM & 0x3f7fd7n) | (img & keep) | RFLAGS.FIXED1;
  cpu.rip = to64 ? tRip : tRip & MASK32;
  cpu.fillCache(cpu.seg.cs, tCs, cd);
  if (popsStack) {
    cpu.gpr.rsp = size === 64 ? tRsp : (ia32e ? tRsp & MASK32 : (cpu.gpr.rsp & ~MASK32) | (tRsp & MASK32));
    if (ssDesc) cpu.fillCache(cpu.seg.ss, tSs, ssDesc);
    else {
      const c = cpu.seg.ss;
      c.selector = tSs; c.unusable = true; c.present = false; c.dpl = rpl;
    }
  } else {
    const n = BigInt(3 * w);
    // Only compat/legacy mode gets here (64-bit mode always pops SS:RSP): ESP advances.
    cpu.gpr.rsp = (sp & ~MASK32) | ((sp + n) & MASK32);
  }
  cpu.cpl = rpl;
  cpu.mode = cpu.modeFromCs();
  if (cpu.trace) {
    cpu.note(insn, `RIP ← ${hx(cpu.rip)}, CS ← ${hx(tCs)} (${csLook.table.toUpperCase()}[${csLook.index}]), RFLAGS ← ${hx(cpu.rflags)} from the frame (image ${hx(img)})`);
    if (popsStack) cpu.note(insn, `RSP ← ${hx(cpu.gpr.rsp)}, SS ← ${hx(tSs)}${ssDesc ? '' : ' (NULL)'}`);
    cpu.note(insn, `CPL ← ${rpl}; mode ${cpu.mode}`);
  }

  // Returning outward: data segments the new CPL may not use are nulled (SDM RETURN-TO-OUTER-
  // PRIVILEGE-LEVEL: "FOR each of segment register (ES, FS, GS, and DS)").
  if (outer) {
    for (const s of ['es', 'fs', 'gs', 'ds'] as const) {
      const c = cpu.seg[s];
      const dataOrNc = !(c.s && (c.type & 0x8) !== 0 && (c.type & 0x4) !== 0);
      // A NULL selector whose RPL is not 0 is zeroed too (Intel's pseudo-code: "IF SegmentSelector
      // == NULL ... SegmentSelector <- 0"). AMD does the same, although APM Vol. 3's IRET text
      // only names DPL < CPL: the kernel states it for x86 in general (arch/x86/kernel/
      // signal_32.c, above fixup_rpl: "IRET zeros ES, FS, GS, and DS segment registers if any of
      // them is found to have any nonzero NULL selector value"), and an AMD EPYC returns ES = 0
      // for an ia32 rt_sigreturn frame with ES = 3 (docs/fuzz.md, seed 102 case 1328).
      if (c.selector !== 0 && (c.selector & 0xfffc) === 0) {
        if (cpu.trace) cpu.note(insn, `${s.toUpperCase()} ← 0 (NULL selector ${hx(c.selector)})`);
        c.selector = 0;
        continue;
      }
      if (!c.unusable && c.s && dataOrNc && c.dpl < rpl) {
        c.selector = 0;
        c.unusable = true;
        c.present = false;
        if (cpu.trace) cpu.note(insn, `${s.toUpperCase()} ← NULL (DPL ${c.dpl} < new CPL ${rpl})`);
      }
    }
  }
  return OK;
}
