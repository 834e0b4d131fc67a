// Unit tests of INT n and exception delivery (sim/cpu/interrupt.ts), from Intel SDM Vol. 2A
// INT n Operation and Vol. 3A §7.12–§7.14: the gate-DPL check that makes `int $0x80` depend
// on Linux's ia32 set-up, #GP/#NP error codes (vector·8 + 2 + EXT), the 64-bit frame
// (SS, RSP, RFLAGS, CS, RIP[, error code]) on the RSP0/IST stack aligned to 16, NULL SS on a
// privilege change, IF cleared by interrupt gates only, RF in fault images, and CR2.

import t from 'tap';
import { deliverException, idtErrorCode, intn } from '../../../sim/cpu/interrupt.js';
import { LINUX_KERNEL_STACK, defaultHandler } from '../../../sim/cpu/linux.js';
import { fromLe } from '../../../sim/cpu/state.js';
import { makeCpu, traceText } from './fixture.js';
import type { Cpu } from '../../../sim/cpu/state.js';

function q(cpu: Cpu, addr: bigint): bigint {
  const r = cpu.mem.read(addr, 8, 0);
  if (!(r instanceof Uint8Array)) throw new Error(`read at ${addr.toString(16)} faulted`);
  return fromLe(r);
}

t.test('int $0x80 from 64-bit user code with ia32 on: DPL-3 gate, frame on RSP0', async (t) => {
  const { cpu } = makeCpu({ trace: true });
  cpu.rip = 0x401000n;
  cpu.gpr.rsp = 0x7ffffffdd008n;
  cpu.rflags = 0x10346n; // RF TF IF ZF PF + bit 1... (0x346 = TF IF ZF PF bit1)
  t.same(intn(cpu, 0x80), { ok: true });
  const top = LINUX_KERNEL_STACK; // already 16-byte aligned
  t.equal(cpu.gpr.rsp, top - 40n, 'five 8-byte slots, no error code');
  t.equal(q(cpu, top - 8n), 0x2bn, 'old SS');
  t.equal(q(cpu, top - 16n), 0x7ffffffdd008n, 'old RSP');
  t.equal(q(cpu, top - 24n), 0x346n, 'RFLAGS image, RF clear (INT n completed)');
  t.equal(q(cpu, top - 32n), 0x33n, 'old CS');
  t.equal(q(cpu, top - 40n), 0x401002n, 'return RIP = next instruction');
  t.equal(cpu.rip, defaultHandler(0x80));
  t.equal(cpu.cpl, 0);
  t.equal(cpu.seg.cs.selector, 0x10);
  t.match(cpu.seg.ss, { selector: 0, unusable: true }, 'SS ← NULL with RPL = 0');
  t.equal(cpu.rflags, 0x46n, 'TF, IF, RF cleared (interrupt gate)');
  t.match(traceText(cpu), 'from TSS.RSP0');
});

t.test('int $0x80 with ia32 off: #GP(0x80·8 + 2) from the DPL-0 gate, nothing changed', async (t) => {
  const { cpu } = makeCpu({ ia32: false });
  const before = cpu.snapshot();
  const r = intn(cpu, 0x80);
  t.notOk(r.ok);
  if (!r.ok) t.match(r.fault, { vector: 'GP', errorCode: 0x402, cpl: 3 });
  t.same(cpu.snapshot(), before);
  t.equal(idtErrorCode(0x80, false), 0x402);
});

t.test('int3 (vector 3) is allowed from user mode, int $0x0e is not', async (t) => {
  const a = makeCpu().cpu;
  t.ok(intn(a, 3, 1).ok);
  const b = makeCpu().cpu;
  const r = intn(b, 0x0e);
  t.notOk(r.ok);
  if (!r.ok) t.match(r.fault, { vector: 'GP', errorCode: 0x72 });
});

t.test('missing gate: #GP(vector·8 + 2); not present: #NP(vector·8 + 2)', async (t) => {
  const a = makeCpu().cpu;
  a.idt.length = 0x40;
  let r = intn(a, 0x80);
  t.notOk(r.ok);
  if (!r.ok) t.match(r.fault, { vector: 'GP', errorCode: 0x402 });
  const b = makeCpu().cpu;
  b.idt[0x80] = { ...b.idt[0x80]!, present: false };
  r = intn(b, 0x80);
  t.notOk(r.ok);
  if (!r.ok) t.match(r.fault, { vector: 'NP', errorCode: 0x402 });
});

t.test('bad target code segment: NULL → #GP(0); data segment → #GP(selector); 32-bit code in IA-32e → #GP(selector)', async (t) => {
  const a = makeCpu().cpu;
  a.idt[0x80] = { ...a.idt[0x80]!, selector: 0 };
  let r = intn(a, 0x80);
  if (!r.ok) t.match(r.fault, { vector: 'GP', errorCode: 0 }); else t.fail('expected #GP');
  const b = makeCpu().cpu;
  b.idt[0x80] = { ...b.idt[0x80]!, selector: 0x18 };
  r = intn(b, 0x80);
  if (!r.ok) t.match(r.fault, { vector: 'GP', errorCode: 0x18 }); else t.fail('expected #GP');
  const c = makeCpu().cpu;
  c.idt[0x80] = { ...c.idt[0x80]!, selector: 0x08 }; // __KERNEL32_CS
  r = intn(c, 0x80);
  if (!r.ok) t.match(r.fault, { vector: 'GP', errorCode: 0x08 }); else t.fail('expected #GP');
});

t.test('trap gate keeps IF; same-privilege delivery keeps SS and aligns the current RSP', async (t) => {
  const { cpu } = makeCpu({ mode: 'kernel' });
  cpu.idt[0x81] = { kind: 'trap', selector: 0x10, offset: 0xffffffff81234000n, dpl: 0, present: true, ist: 0 };
  cpu.gpr.rsp = LINUX_KERNEL_STACK - 0x108n; // not 16-aligned
  cpu.rflags = 0x202n;
  cpu.rip = 0xffffffff81000100n;
  t.ok(intn(cpu, 0x81).ok);
  const aligned = LINUX_KERNEL_STACK - 0x110n;
  t.equal(cpu.gpr.rsp, aligned - 40n);
  t.equal(q(cpu, aligned - 8n), 0x18n, 'old SS pushed even without a privilege change (64-bit mode)');
  t.equal(q(cpu, aligned - 16n), LINUX_KERNEL_STACK - 0x108n, 'old, unaligned RSP');
  t.equal(cpu.seg.ss.selector, 0x18, 'SS unchanged');
  t.equal(cpu.rflags, 0x202n, 'IF kept by a trap gate');
});

t.test('deliverException(#GP) from user mode: error code pushed, RF set in the image, RIP = faulting insn', async (t) => {
  const { cpu } = makeCpu();
  cpu.rip = 0x401000n;
  cpu.rflags = 0x202n;
  t.ok(deliverException(cpu, { vector: 'GP', errorCode: 0x402, cpl: 3, why: 'test' }).ok);
  const top = LINUX_KERNEL_STACK;
  t.equal(cpu.gpr.rsp, top - 48n);
  t.equal(q(cpu, top - 48n), 0x402n, 'error code at the lowest slot');
  t.equal(q(cpu, top - 40n), 0x401000n, 'RIP of the faulting instruction');
  t.equal(q(cpu, top - 24n), 0x10202n, 'RF set in the pushed RFLAGS (fault class)');
  t.equal(cpu.rip, defaultHandler(13));
});

t.test('deliverException(#PF) loads CR2 and pushes the error code', async (t) => {
  const { cpu } = makeCpu();
  t.ok(deliverException(cpu, { vector: 'PF', errorCode: 6, cpl: 3, why: 'test', address: 0xdead000n }).ok);
  t.equal(cpu.cr2, 0xdead000n);
  t.equal(q(cpu, cpu.gpr.rsp), 6n);
  t.equal(cpu.rip, defaultHandler(14));
});

t.test('deliverException(#UD) pushes no error code; #DB uses IST3 and keeps RF as is', async (t) => {
  const a = makeCpu().cpu;
  t.ok(deliverException(a, { vector: 'UD', errorCode: 0, cpl: 3, why: 'test' }).ok);
  t.equal(a.gpr.rsp, LINUX_KERNEL_STACK - 40n);
  const b = makeCpu().cpu;
  b.rflags = 0x302n; // TF set: a single-step trap
  t.ok(deliverException(b, { vector: 'DB', errorCode: 0, cpl: 3, why: 'single step' }).ok);
  const ist3 = b.tss.ist[3]!;
  t.equal(b.gpr.rsp, ist3 - 40n, '#DB runs on its IST stack');
  t.equal(q(b, ist3 - 24n), 0x302n, 'trap: RF not forced, TF visible in the image');
  t.equal(b.flag('TF'), false, 'TF cleared in the handler');
});

t.test('hardware delivery ignores the gate DPL (a user #GP reaches a DPL-0 gate)', async (t) => {
  const { cpu } = makeCpu();
  t.equal(cpu.idt[13]!.dpl, 0);
  t.ok(deliverException(cpu, { vector: 'GP', errorCode: 0, cpl: 3, why: 'x' }).ok);
});

t.test('Intel SYSRET #GP at CPL 0 is delivered on the user-controlled RSP (no privilege change)', async (t) => {
  const { cpu, mem } = makeCpu({ mode: 'kernel' });
  // Linux's exit path has loaded the user's RSP before SYSRET; a ring-0 #GP pushes there.
  const userRsp = 0x7ffffffde000n;
  cpu.gpr.rsp = userRsp;
  t.ok(deliverException(cpu, { vector: 'GP', errorCode: 0, cpl: 0, why: 'sysret' }).ok);
  t.equal(cpu.gpr.rsp, userRsp - 48n, 'frame written below the user stack pointer');
  void mem;
});

t.test('a frame push that faults returns #PF with the address', async (t) => {
  const { cpu } = makeCpu();
  cpu.tss.rsp[0] = 0xffff900000000000n; // unmapped
  const r = intn(cpu, 0x80);
  t.notOk(r.ok);
  if (!r.ok) t.match(r.fault, { vector: 'PF', address: 0xffff900000000000n - 40n });
  t.equal(cpu.cpl, 3, 'state unchanged');
});

t.test('legacy protected mode: 32-bit frame with SS:ESP from TSS.SS0/ESP0 on a privilege change', async (t) => {
  const { cpu, mem } = makeCpu({ mode: 'compat' });
  cpu.efer.lma = false;
  cpu.mode = 'protected32';
  cpu.gdt[3] = { ...cpu.gdt[3]! }; // KERNEL_DS flat
  cpu.gdt[1] = { ...cpu.gdt[1]! }; // KERNEL32_CS
  cpu.idt[0x80] = { kind: 'trap', selector: 0x08, offset: 0xc1000000n, dpl: 3, present: true, ist: 0 };
  cpu.tss.ss0 = 0x18;
  cpu.tss.rsp[0] = 0x00200000n;
  mem.map(0x001ff000n, 0x1000, { user: false, writable: true });
  cpu.gpr.rsp = 0xffffd000n;
  cpu.rip = 0x8049000n;
  t.ok(intn(cpu, 0x80).ok);
  t.equal(cpu.gpr.rsp, 0x00200000n - 20n);
  const rd = (a: bigint) => { const r = mem.read(a, 4, 0); if (!(r instanceof Uint8Array)) throw new Error('x'); return fromLe(r); };
  t.equal(rd(0x00200000n - 4n), 0x2bn, 'old SS');
  t.equal(rd(0x00200000n - 8n), 0xffffd000n, 'old ESP');
  t.equal(rd(0x00200000n - 16n), 0x23n, 'old CS');
  t.equal(rd(0x00200000n - 20n), 0x8049002n, 'return EIP');
  t.equal(cpu.seg.ss.selector, 0x18);
  t.equal(cpu.seg.cs.selector, 0x08);
  t.equal(cpu.mode, 'protected32');
  t.equal(cpu.flag('IF'), true, 'trap gate');
});
