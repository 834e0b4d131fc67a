// FRED event delivery for SYSCALL/SYSENTER from ring 3, and ERETU back to ring 3
// (Intel "Flexible Return and Event Delivery" spec, rev. 5+; Linux arch/x86/entry/entry_fred.c
// and the fred_cs/fred_ss bit-fields in arch/x86/include/asm/ptrace.h). With FRED the CPU does
// not use LSTAR/CSTAR/SYSENTER_*; it saves the whole return state in a 64-byte frame on the
// ring-0 stack, and it never writes RCX or R11 (ABI-FACTS §3.6).

import { RFLAGS } from '../../abi/constants.js';
import type { InsnResult } from './api.js';
import { Cpu, OK, fail, fromLe, hx, leBytes, setFlatCode, setFlatStack } from './state.js';

/** FRED event types (FRED spec Table 5-1; Linux EVENT_TYPE_*). SYSCALL/SYSENTER are "other". */
export const FRED_EVENT_TYPE_OTHER = 7;
/** Vectors within type 7 (Linux FRED_SYSCALL / FRED_SYSENTER). */
export const FRED_VECTOR_SYSCALL = 1;
export const FRED_VECTOR_SYSENTER = 2;
/** Frame size: error code, RIP, CS+aux, RFLAGS, RSP, SS+event info, event data, reserved. */
export const FRED_FRAME_BYTES = 64;

/** Decoded FRED frame (what the kernel layer sees as pt_regs' tail on a FRED system). */
export interface FredFrame {
  errorCode: bigint;
  rip: bigint;
  cs: number;
  rflags: bigint;
  rsp: bigint;
  ss: number;
  vector: number;
  type: number;
  /** The event came from 64-bit mode (fred_ss.lm, bit 56 of the SS slot). */
  lm: boolean;
  eventData: bigint;
}

/**
 * Deliver SYSCALL (vector 1) or SYSENTER (vector 2) as a FRED ring-3 event.
 * New state (FRED spec §6.2): CS ← STAR[47:32] & FFFCH, SS ← that + 8 (flat, as for SYSCALL),
 * RIP ← FRED_CONFIG[63:12] (ring-3 events enter at offset 0 of the entry page),
 * RSP ← FRED_RSP0 aligned down to 64 bytes, minus the frame; RFLAGS ← 2 (all flags clear).
 * The error-code slot holds the instruction length, as for other software-originated events.
 */
export function fredEnterFromUser(cpu: Cpu, insn: 'SYSCALL' | 'SYSENTER', vector: number, insnLen: number): InsnResult {
  const oldCpl = cpu.cpl;
  if (oldCpl !== 3) {
    // Ring-0 SYSCALL under FRED enters at entry page + 256 on the current stack; Linux never does it.
    throw new Error(`${insn} at CPL ${oldCpl} with FRED is not modelled (only ring-3 events are)`);
  }
  const width = cpu.mode === 'long64' ? 64 : 32;
  const next = BigInt.asUintN(width, cpu.rip + BigInt(insnLen));
  const top = cpu.fred.rsp0 & ~63n;
  const frameAddr = top - BigInt(FRED_FRAME_BYTES);
  const lm = cpu.mode === 'long64';
  // SS slot: selector in 15:0, vector in 39:32, event type in 51:48, 64-bit-mode flag in bit 57
  // (Linux struct fred_ss: ss:16, sti:1, swevent:1, nmi:1, :13, vector:8, :8, type:4, :4, lm:1).
  const ssSlot = BigInt(cpu.seg.ss.selector) | (BigInt(vector) << 32n)
    | (BigInt(FRED_EVENT_TYPE_OTHER) << 48n) | (lm ? 1n << 56n : 0n);
  const csSlot = BigInt(cpu.seg.cs.selector); // fred_cs: cs:16, sl:2 (stack level 0), wfe:1
  const slots = [BigInt(insnLen), next, csSlot, cpu.rflags, cpu.gpr.rsp, ssSlot, 0n, 0n];
  const bytes = new Uint8Array(FRED_FRAME_BYTES);
  for (let i = 0; i < slots.length; i++) bytes.set(leBytes(slots[i]!, 8), i * 8);
  const w = cpu.mem.write(frameAddr, bytes, 0);
  if (w !== true) {
    return fail(cpu, insn, 'PF', w.errorCode, 0, `FRED frame write at ${hx(frameAddr)} faulted (double fault not modelled)`, frameAddr);
  }
  const star = cpu.msr.STAR;
  const cs = Number((star >> 32n) & 0xfffcn);
  setFlatCode(cpu.seg.cs, cs, 0, true);
  setFlatStack(cpu.seg.ss, cs + 8, 0);
  cpu.cpl = 0;
  cpu.mode = 'long64';
  cpu.rip = cpu.fred.config & ~0xfffn;
  cpu.gpr.rsp = frameAddr;
  cpu.rflags = RFLAGS.FIXED1;
  if (cpu.trace) {
    cpu.note(insn, `FRED event type ${FRED_EVENT_TYPE_OTHER} vector ${vector}: frame (error code = length ${insnLen}, RIP ${hx(next)}, CS, RFLAGS, RSP, SS) at ${hx(frameAddr)}; RCX and R11 not written`);
    cpu.note(insn, `CS ← ${hx(cs)}, SS ← ${hx(cs + 8)} from STAR[47:32]; RIP ← ${hx(cpu.rip)} (FRED_CONFIG entry page); RSP ← ${hx(frameAddr)}; RFLAGS ← 0x2; CPL ← 0`);
  }
  return OK;
}

/** Read the FRED frame at RSP (for the kernel layer and ERETU). */
export function readFredFrame(cpu: Cpu, at: bigint = cpu.gpr.rsp): FredFrame | { fault: 'PF'; errorCode: number; address: bigint } {
  const r = cpu.mem.read(at, FRED_FRAME_BYTES, 0);
  if (!(r instanceof Uint8Array)) return { fault: 'PF', errorCode: r.errorCode, address: at };
  const q = (i: number) => fromLe(r.subarray(i * 8, i * 8 + 8));
  const ssSlot = q(5);
  return {
    errorCode: q(0), rip: q(1), cs: Number(q(2) & 0xffffn), rflags: q(3), rsp: q(4),
    ss: Number(ssSlot & 0xffffn), vector: Number((ssSlot >> 32n) & 0xffn),
    type: Number((ssSlot >> 48n) & 0xfn), lm: ((ssSlot >> 56n) & 1n) === 1n, eventData: q(6),
  };
}

/**
 * ERETU (FRED spec §7): return to ring 3 from the frame at RSP. #GP(0) unless CPL 0; the CS
 * and SS selectors in the frame are loaded through the GDT (unlike SYSRET, ERETU reads
 * descriptors); RFLAGS from the frame with reserved bits cleared and bit 1 set.
 */
export function eretu(cpu: Cpu): InsnResult {
  if (!cpu.traits.fred) return fail(cpu, 'ERETU', 'UD', 0, cpu.cpl, 'ERETU without FRED enabled (CR4.FRED = 0)');
  if (cpu.cpl !== 0) return fail(cpu, 'ERETU', 'GP', 0, cpu.cpl, 'ERETU at CPL ≠ 0');
  const f = readFredFrame(cpu);
  if ('fault' in f) return fail(cpu, 'ERETU', 'PF', f.errorCode, 0, `FRED frame read at ${hx(f.address)} faulted`, f.address);
  if ((f.cs & 3) !== 3) return fail(cpu, 'ERETU', 'GP', 0, 0, `ERETU to CS ${hx(f.cs)} whose RPL is not 3`);
  const csL = cpu.lookup(f.cs);
  const ssL = cpu.lookup(f.ss);
  if (!csL.ok || csL.desc.kind !== 'code' || csL.desc.dpl !== 3 || !csL.desc.present) {
    return fail(cpu, 'ERETU', 'GP', f.cs & 0xfffc, 0, `ERETU: CS ${hx(f.cs)} is not a present DPL-3 code segment`);
  }
  if (!ssL.ok || ssL.desc.kind !== 'data' || ssL.desc.dpl !== 3 || !ssL.desc.present || (f.ss & 3) !== 3) {
    return fail(cpu, 'ERETU', 'GP', f.ss & 0xfffc, 0, `ERETU: SS ${hx(f.ss)} is not a present DPL-3 data segment with RPL 3`);
  }
  const to64 = csL.desc.l;
  if (to64 ? !cpu.canonical(f.rip) : f.rip > 0xffffffffn) {
    return fail(cpu, 'ERETU', 'GP', 0, 0, `ERETU to RIP ${hx(f.rip)} not valid for the target mode`);
  }
  cpu.fillCache(cpu.seg.cs, f.cs, csL.desc);
  cpu.fillCache(cpu.seg.ss, f.ss, ssL.desc);
  cpu.rip = f.rip;
  cpu.gpr.rsp = f.rsp;
  cpu.rflags = (f.rflags & 0x3f7fd7n) | RFLAGS.FIXED1;
  cpu.cpl = 3;
  cpu.mode = cpu.modeFromCs();
  if (cpu.trace) cpu.note('ERETU', `RIP ← ${hx(f.rip)}, CS ← ${hx(f.cs)}, RFLAGS ← ${hx(cpu.rflags)}, RSP ← ${hx(f.rsp)}, SS ← ${hx(f.ss)} from the FRED frame; CPL ← 3`);
  return OK;
}
