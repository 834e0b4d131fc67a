// INT n and hardware-exception delivery through the IDT (Intel SDM Vol. 2A "INT n/INTO/INT3/
// INT1", Operation: PROTECTED-MODE, INTRA-/INTER-PRIVILEGE-LEVEL-INTERRUPT, IA-32e mode;
// Vol. 3A §7.12 "Exception and Interrupt Handling", §7.14 "64-bit mode"). What Linux builds on:
// int $0x80 from user mode works only through a gate with DPL 3 (set up only when ia32
// emulation is on), and every #GP/#PF/#UD/#DB reaches the kernel through this path.

import { RFLAGS } from '../../abi/constants.js';
import type { CpuFault, InsnResult } from './api.js';
import { Cpu, OK, fail, hx, isConforming, leBytes, nullCache } from './state.js';

const MASK32 = 0xffffffffn;

/** Architectural vector numbers of the faults CpuFault can name (SDM Vol. 3A Table 7-1). */
export const VECTOR_NUMBERS: Record<CpuFault['vector'], number> = { DB: 1, UD: 6, NP: 11, SS: 12, GP: 13, PF: 14 };
/** Exceptions that push an error code (SDM Vol. 3A Table 7-1, "Error Code" column). */
const HAS_ERROR_CODE: Record<CpuFault['vector'], boolean> = { DB: false, UD: false, NP: true, SS: true, GP: true, PF: true };

/** IDT-vector error code: index·8 + IDT bit (2) + EXT (SDM Vol. 3A §7.13 "Error Code"). */
export function idtErrorCode(vector: number, ext: boolean): number {
  return (vector << 3) | 2 | (ext ? 1 : 0);
}

interface Delivery {
  insn: string;
  vector: number;
  /** INT n: gate DPL is checked against CPL and EXT is 0. */
  software: boolean;
  errorCode: number | null;
  returnRip: bigint;
  /** The RFLAGS image pushed on the stack. */
  flagsImage: bigint;
}

/**
 * Software INT n at cpu.rip (insnLen bytes; CD ib is 2). Faults: #GP(vector·8+2) when the IDT
 * has no gate for the vector or the gate's DPL < CPL (a ring-3 `int $0x80` without Linux's
 * DPL-3 gate); #NP(vector·8+2) for a not-present gate; #GP/#NP(selector) for a bad target
 * code segment; #PF when pushing the frame faults.
 */
export function intn(cpu: Cpu, vector: number, insnLen = 2): InsnResult {
  if (!Number.isInteger(vector) || vector < 0 || vector > 255) throw new RangeError(`INT vector ${vector} is not 0..255`);
  const width = cpu.mode === 'long64' ? 64 : 32;
  return deliver(cpu, {
    insn: `INT ${hx(vector)}`,
    vector,
    software: true,
    errorCode: null,
    returnRip: BigInt.asUintN(width, cpu.rip + BigInt(insnLen)),
    // The instruction completed, so RF is clear in the saved image.
    flagsImage: cpu.rflags & ~RFLAGS.RF,
  });
}

/**
 * Deliver a hardware exception through the IDT, as the CPU does after an instruction faults.
 * cpu.rip must be the address the handler returns to: the faulting instruction for faults
 * (our instructions leave RIP there when they fault), the next instruction for the #DB
 * single-step trap. Gate DPL is not checked (hardware events ignore it); error codes produced
 * while delivering carry EXT = 1. #PF loads CR2 with fault.address. Faults during delivery are
 * returned (a real CPU would escalate to #DF; that is not modelled).
 */
export function deliverException(cpu: Cpu, fault: CpuFault): InsnResult {
  const vector = VECTOR_NUMBERS[fault.vector];
  if (fault.vector === 'PF' && fault.address !== undefined) {
    cpu.cr2 = fault.address;
    if (cpu.trace) cpu.note(`#${fault.vector}`, `CR2 ← ${hx(fault.address)}`);
  }
  // Faults push RF = 1 so the restarted instruction does not re-trigger an instruction
  // breakpoint (SDM Vol. 3A §18.3.1.1); the single-step #DB is a trap and keeps RF as is.
  const flagsImage = fault.vector === 'DB' ? cpu.rflags : cpu.rflags | RFLAGS.RF;
  return deliver(cpu, {
    insn: `#${fault.vector}`,
    vector,
    software: false,
    errorCode: HAS_ERROR_CODE[fault.vector] ? fault.errorCode : null,
    returnRip: cpu.rip,
    flagsImage,
  });
}

/**
 * An external (maskable) interrupt, e.g. the local APIC timer, taken between instructions at
 * cpu.rip: the gate's DPL is not checked (SDM Vol. 3A §7.12.1.1 applies it to INT n only), the
 * return address is the next instruction to run and error codes carry EXT = 1. Delivered from
 * CPL 3 in IA-32e mode this is what leaves SS NULL in the kernel (§7.14.4), the precondition of
 * the AMD SYSRET SS-attribute erratum (RG-06). IF must be set, as for any maskable interrupt.
 */
export function deliverInterrupt(cpu: Cpu, vector: number): InsnResult {
  if (!Number.isInteger(vector) || vector < 32 || vector > 255) throw new RangeError(`external interrupt vector ${vector} is not 32..255`);
  if ((cpu.rflags & RFLAGS.IF) === 0n) throw new Error(`external interrupt ${hx(vector)} with IF = 0: the CPU would hold it pending`);
  return deliver(cpu, {
    insn: `INTR ${hx(vector)}`,
    vector,
    software: false,
    errorCode: null,
    returnRip: cpu.rip,
    flagsImage: cpu.rflags,
  });
}

function deliver(cpu: Cpu, ev: Delivery): InsnResult {
  const { insn, vector, software } = ev;
  const cpl = cpu.cpl;
  const ext = software ? 0 : 1;
  const idtErr = idtErrorCode(vector, !software);
  const ia32e = cpu.efer.lma;

  const gate = cpu.idt[vector];
  if (!gate) return fail(cpu, insn, 'GP', idtErr, cpl, `no IDT gate for vector ${hx(vector)} (beyond the IDT limit)`);
  if (software && gate.dpl < cpl) {
    return fail(cpu, insn, 'GP', idtErr, cpl, `INT ${hx(vector)}: gate DPL ${gate.dpl} < CPL ${cpl}`);
  }
  if (!gate.present) return fail(cpu, insn, 'NP', idtErr, cpl, `IDT gate ${hx(vector)} not present`);

  const sel = gate.selector & 0xffff;
  if ((sel & 0xfffc) === 0) return fail(cpu, insn, 'GP', ext, cpl, `IDT gate ${hx(vector)} names the NULL code selector`);
  const look = cpu.lookup(sel);
  if (!look.ok) return fail(cpu, insn, 'GP', (sel & 0xfffc) | ext, cpl, `IDT gate ${hx(vector)}: ${look.why}`);
  const d = look.desc;
  if (d.kind !== 'code' || d.dpl > cpl) {
    return fail(cpu, insn, 'GP', (sel & 0xfffc) | ext, cpl, `IDT gate ${hx(vector)}: selector ${hx(sel)} is not a code segment with DPL ≤ CPL ${cpl}`);
  }
  if (!d.present) return fail(cpu, insn, 'NP', (sel & 0xfffc) | ext, cpl, `IDT gate ${hx(vector)}: code segment ${hx(sel)} not present`);
  if (ia32e && !(d.l && !d.db)) {
    return fail(cpu, insn, 'GP', (sel & 0xfffc) | ext, cpl, `IDT gate ${hx(vector)}: IA-32e mode requires a 64-bit code segment (L=1, D=0)`);
  }
  const newCpl = isConforming(d) ? cpl : d.dpl;
  const inter = newCpl < cpl;
  const oldSs = cpu.seg.ss.selector;
  const oldCs = cpu.seg.cs.selector;
  const oldRsp = cpu.gpr.rsp;
  const slots: bigint[] = [];
  let newRsp: bigint;
  let newSs: { sel: number; look?: ReturnType<Cpu['lookup']> } | null = null;

  if (ia32e) {
    // 64-bit IDT delivery: stack from IST, or RSPn on a privilege change, else the current
    // RSP; aligned to 16 bytes; SS:RSP always pushed (SDM Vol. 3A §7.14.2, §7.14.5).
    let rsp: bigint;
    let from: string;
    if (gate.ist !== 0) { rsp = cpu.tss.ist[gate.ist] ?? 0n; from = `TSS.IST${gate.ist}`; }
    else if (inter) { rsp = cpu.tss.rsp[newCpl as 0 | 1 | 2]; from = `TSS.RSP${newCpl}`; }
    else { rsp = oldRsp; from = 'current RSP'; }
    rsp &= ~0xfn;
    if (!cpu.canonical(gate.offset)) return fail(cpu, insn, 'GP', ext, cpl, `IDT gate ${hx(vector)} offset ${hx(gate.offset)} is not canonical`);
    if (!cpu.canonical(rsp)) return fail(cpu, insn, 'SS', ext, cpl, `new stack ${hx(rsp)} (${from}) is not canonical`);
    slots.push(BigInt(oldSs), oldRsp, ev.flagsImage, BigInt(oldCs), ev.returnRip);
    if (ev.errorCode !== null) slots.push(BigInt(ev.errorCode));
    newRsp = BigInt.asUintN(64, rsp - BigInt(slots.length * 8));
    const bytes = new Uint8Array(slots.length * 8);
    // Highest address first: slots[0] (SS) sits at the top of the frame.
    for (let i = 0; i < slots.length; i++) bytes.set(leBytes(slots[i]!, 8), (slots.length - 1 - i) * 8);
    const w = cpu.mem.write(newRsp, bytes, newCpl);
    if (w !== true) return fail(cpu, insn, 'PF', w.errorCode, newCpl, `pushing the interrupt frame at ${hx(newRsp)} faulted`, newRsp);
    if (cpu.trace) cpu.note(insn, `stack ${hx(rsp)} from ${from}; pushed SS ${hx(oldSs)}, RSP ${hx(oldRsp)}, RFLAGS ${hx(ev.flagsImage)}, CS ${hx(oldCs)}, RIP ${hx(ev.returnRip)}${ev.errorCode !== null ? `, error code ${hx(ev.errorCode)}` : ''}`);
    if (inter) newSs = { sel: newCpl }; // SS ← NULL with RPL = new CPL
  } else {
    // Legacy protected mode: 32-bit gates; SS0:ESP0 from the TSS on a privilege change.
    if (BigInt.asUintN(64, gate.offset) > BigInt(d.g ? 0xffffffff : d.limit)) {
      return fail(cpu, insn, 'GP', ext, cpl, `IDT gate ${hx(vector)} offset ${hx(gate.offset)} beyond the code segment limit`);
    }
    let esp: bigint;
    let ssBase: bigint;
    if (inter) {
      if (newCpl !== 0) throw new Error(`interrupt to ring ${newCpl} through the 32-bit TSS is not modelled (only SS0:ESP0)`);
      const ss0 = cpu.tss.ss0 & 0xffff;
      const ssLook = cpu.lookup(ss0);
      if ((ss0 & 0xfffc) === 0 || !ssLook.ok || ssLook.desc.kind !== 'data' || (ssLook.desc.type & 2) === 0 || ssLook.desc.dpl !== 0 || (ss0 & 3) !== 0) {
        throw new Error(`TSS.SS0 ${hx(ss0)} is not a writable ring-0 data segment: that is #TS, which is not modelled`);
      }
      esp = cpu.tss.rsp[0] & MASK32;
      ssBase = ssLook.desc.base;
      newSs = { sel: ss0, look: ssLook };
      slots.push(BigInt(oldSs), oldRsp & MASK32);
    } else {
      esp = oldRsp & MASK32;
      ssBase = cpu.seg.ss.base;
    }
    slots.push(ev.flagsImage & MASK32, BigInt(oldCs), ev.returnRip & MASK32);
    if (ev.errorCode !== null) slots.push(BigInt(ev.errorCode));
    const newEsp = (esp - BigInt(slots.length * 4)) & MASK32;
    const bytes = new Uint8Array(slots.length * 4);
    for (let i = 0; i < slots.length; i++) bytes.set(leBytes(slots[i]!, 4), (slots.length - 1 - i) * 4);
    const lin = (ssBase + newEsp) & MASK32;
    const w = cpu.mem.write(lin, bytes, newCpl);
    if (w !== true) return fail(cpu, insn, 'PF', w.errorCode, newCpl, `pushing the interrupt frame at ${hx(lin)} faulted`, lin);
    newRsp = (oldRsp & ~MASK32) | newEsp;
    if (cpu.trace) cpu.note(insn, `pushed ${inter ? `SS ${hx(oldSs)}, ESP ${hx(oldRsp & MASK32)}, ` : ''}EFLAGS, CS ${hx(oldCs)}, EIP ${hx(ev.returnRip & MASK32)}${ev.errorCode !== null ? `, error code ${hx(ev.errorCode)}` : ''} at ${hx(lin)}`);
  }

  // Commit (nothing above changed state).
  if (newSs) {
    if (newSs.look && newSs.look.ok) cpu.fillCache(cpu.seg.ss, newSs.sel, newSs.look.desc);
    else {
      const c = cpu.seg.ss;
      const n = nullCache(newSs.sel);
      Object.assign(c, n);
    }
    if (cpu.trace) cpu.note(insn, `SS ← ${hx(cpu.seg.ss.selector)}${newSs.look ? ' from TSS.SS0' : ' (NULL with RPL = new CPL: IA-32e privilege change)'}`);
  }
  const csSel = (sel & 0xfffc) | newCpl;
  cpu.fillCache(cpu.seg.cs, csSel, d);
  cpu.gpr.rsp = newRsp;
  cpu.rip = ia32e ? gate.offset : gate.offset & MASK32;
  cpu.cpl = newCpl;
  cpu.mode = cpu.modeFromCs();
  // TF, NT, RF, VM always cleared; an interrupt gate also clears IF (a trap gate does not).
  let clear = RFLAGS.TF | RFLAGS.NT | RFLAGS.RF | RFLAGS.VM;
  if (gate.kind === 'interrupt') clear |= RFLAGS.IF;
  cpu.rflags = (cpu.rflags & ~clear) | RFLAGS.FIXED1;
  if (cpu.trace) {
    cpu.note(insn, `CS ← ${hx(csSel)} from the ${gate.kind} gate (${look.table.toUpperCase()}[${look.index}]); RIP ← ${hx(cpu.rip)}; RSP ← ${hx(newRsp)}; CPL ← ${newCpl}`);
    cpu.note(insn, `RFLAGS ← ${hx(cpu.rflags)} (TF, NT, RF, VM cleared${gate.kind === 'interrupt' ? ', IF cleared: interrupt gate' : ''})`);
  }
  return OK;
}
