// Unit tests of IRET (sim/cpu/iret.ts), from Intel SDM Vol. 2A IRET/IRETD/IRETQ Operation:
// frame layout, RFLAGS restore rules by CPL/IOPL (RF and TF restored — unlike SYSRET), the CS
// and SS descriptor checks with their error codes, canonical RIP, NT in IA-32e mode, and
// nulling of data segments on a return to an outer level.

import t from 'tap';
import { iret } from '../../../sim/cpu/iret.js';
import { intn } from '../../../sim/cpu/interrupt.js';
import { LINUX_KERNEL_STACK } from '../../../sim/cpu/linux.js';
import { leBytes } from '../../../sim/cpu/state.js';
import { makeCpu } from './fixture.js';
import type { Cpu } from '../../../sim/cpu/state.js';

/** Build a 64-bit IRET frame at kernel RSP: RIP, CS, RFLAGS, RSP, SS (low to high). */
function frame(cpu: Cpu, f: { rip: bigint; cs: number; rflags: bigint; rsp: bigint; ss: number }, size: 8 | 4 = 8) {
  const at = LINUX_KERNEL_STACK - 0x100n;
  const vals = [f.rip, BigInt(f.cs), f.rflags, f.rsp, BigInt(f.ss)];
  const bytes = new Uint8Array(vals.length * size);
  vals.forEach((v, i) => bytes.set(leBytes(v, size), i * size));
  const w = cpu.mem.write(at, bytes, 0);
  if (w !== true) throw new Error('frame write failed');
  cpu.gpr.rsp = at;
  return at;
}

const USER = { rip: 0x401000n, cs: 0x33, rflags: 0x10346n, rsp: 0x7ffffffde000n, ss: 0x2b };

t.test('IRETQ to user 64-bit code restores RIP, CS, RFLAGS (incl. RF, TF), RSP, SS from the GDT', async (t) => {
  const { cpu } = makeCpu({ mode: 'kernel' });
  frame(cpu, USER);
  t.same(iret(cpu, 64), { ok: true });
  t.equal(cpu.rip, 0x401000n);
  t.equal(cpu.rflags, 0x10346n, 'RF and TF restored');
  t.equal(cpu.gpr.rsp, 0x7ffffffde000n);
  t.equal(cpu.cpl, 3);
  t.equal(cpu.mode, 'long64');
  t.match(cpu.seg.cs, { selector: 0x33, dpl: 3, l: true });
  t.match(cpu.seg.ss, { selector: 0x2b, dpl: 3, unusable: false });
});

t.test('IRETQ to compatibility mode (CS 0x23)', async (t) => {
  const { cpu } = makeCpu({ mode: 'kernel' });
  frame(cpu, { ...USER, cs: 0x23, rip: 0xf7fc1559n, rsp: 0xffffd000n });
  t.ok(iret(cpu, 64).ok);
  t.equal(cpu.mode, 'compat');
  t.equal(cpu.rip, 0xf7fc1559n);
});

t.test('user IRET may not change IOPL; IF only if CPL ≤ IOPL', async (t) => {
  const { cpu } = makeCpu();
  // A same-privilege (CPL 3 → 3) IRETQ in 64-bit mode pops SS:RSP too.
  const at = 0x7ffffffdd000n;
  const vals = [0x401000n, 0x33n, 0x3000n | 0x2n, 0x7ffffffde000n, 0x2bn]; // IOPL=3, IF=0
  const bytes = new Uint8Array(40);
  vals.forEach((v, i) => bytes.set(leBytes(v, 8), i * 8));
  t.equal(cpu.mem.write(at, bytes, 3), true);
  cpu.gpr.rsp = at;
  cpu.rflags = 0x202n; // IOPL 0, IF 1
  t.ok(iret(cpu, 64).ok);
  t.equal(cpu.iopl, 0, 'IOPL unchanged at CPL 3');
  t.equal(cpu.flag('IF'), true, 'IF unchanged because CPL 3 > IOPL 0');
});

t.test('IRET faults: NT=1, NULL CS, CS RPL < CPL, non-code CS, non-canonical RIP, bad SS', async (t) => {
  const cases: [string, Partial<typeof USER>, (c: Cpu) => void, { vector: string; errorCode: number }][] = [
    ['NT set', {}, (c) => c.setFlag('NT', true), { vector: 'GP', errorCode: 0 }],
    ['NULL CS', { cs: 0 }, () => {}, { vector: 'GP', errorCode: 0 }],
    ['CS is a data segment', { cs: 0x2b }, () => {}, { vector: 'GP', errorCode: 0x28 }],
    ['CS beyond the GDT', { cs: 0x1f3 }, () => {}, { vector: 'GP', errorCode: 0x1f0 }],
    ['CS RPL 3 but DPL 0', { cs: 0x13 }, () => {}, { vector: 'GP', errorCode: 0x10 }],
    ['non-canonical RIP', { rip: 0x0000800000000000n }, () => {}, { vector: 'GP', errorCode: 0 }],
    ['SS RPL ≠ CS RPL', { ss: 0x28 }, () => {}, { vector: 'GP', errorCode: 0x28 }],
    ['SS is code', { ss: 0x33 }, () => {}, { vector: 'GP', errorCode: 0x30 }],
    ['NULL SS to CPL 3', { ss: 0x3 }, () => {}, { vector: 'GP', errorCode: 0 }],
    ['SS not present', { ss: 0x2b }, (c) => { c.gdt[5] = { ...c.gdt[5]!, present: false }; }, { vector: 'SS', errorCode: 0x28 }],
    ['CS not present', {}, (c) => { c.gdt[6] = { ...c.gdt[6]!, present: false }; }, { vector: 'NP', errorCode: 0x30 }],
  ];
  for (const [name, over, prep, want] of cases) {
    const { cpu } = makeCpu({ mode: 'kernel' });
    frame(cpu, { ...USER, ...over });
    prep(cpu);
    const before = cpu.snapshot();
    const r = iret(cpu, 64);
    t.notOk(r.ok, name);
    if (!r.ok) t.match(r.fault, want, name);
    t.same(cpu.snapshot(), before, `${name}: nothing changed`);
  }
});

t.test('EIP beyond a limited CS in compatibility mode is #GP(0)', async (t) => {
  const { cpu } = makeCpu({ mode: 'kernel' });
  cpu.gdt[4] = { ...cpu.gdt[4]!, limit: 0xff, g: false };
  frame(cpu, { ...USER, cs: 0x23, rip: 0x1000n });
  const r = iret(cpu, 64);
  t.notOk(r.ok);
  if (!r.ok) t.match(r.fault, { vector: 'GP', errorCode: 0 });
});

t.test('NULL SS is allowed when returning to 64-bit code at CPL 0', async (t) => {
  const { cpu } = makeCpu({ mode: 'kernel' });
  frame(cpu, { rip: 0xffffffff81000000n, cs: 0x10, rflags: 0x2n, rsp: LINUX_KERNEL_STACK - 0x10n, ss: 0 });
  t.ok(iret(cpu, 64).ok);
  t.equal(cpu.cpl, 0);
  t.match(cpu.seg.ss, { selector: 0, unusable: true });
});

t.test('returning to CPL 3 nulls DS/ES/FS/GS holding ring-0 data segments', async (t) => {
  const { cpu } = makeCpu({ mode: 'kernel' });
  t.ok(cpu.loadSegment('ds', 0x18).ok);
  t.ok(cpu.loadSegment('es', 0x2b).ok);
  frame(cpu, USER);
  t.ok(iret(cpu, 64).ok);
  t.match(cpu.seg.ds, { selector: 0, unusable: true });
  t.equal(cpu.seg.es.selector, 0x2b, 'a DPL-3 segment survives');
});

t.test('INT 0x80 then IRETQ returns to the next instruction with all state restored', async (t) => {
  const { cpu } = makeCpu();
  cpu.rip = 0x401000n;
  cpu.rflags = 0x346n;
  const before = cpu.snapshot();
  t.ok(intn(cpu, 0x80).ok);
  t.ok(iret(cpu, 64).ok);
  const after = cpu.snapshot();
  t.equal(after.rip, 0x401002n);
  t.same({ ...after, rip: 0n }, { ...before, rip: 0n });
});

t.test('IRETD in compatibility mode at the same privilege pops only EIP, CS, EFLAGS', async (t) => {
  const { cpu, mem } = makeCpu({ mode: 'compat' });
  const at = 0xffffc000n;
  mem.map(at, 0x1000, { user: true, writable: true });
  const bytes = new Uint8Array(12);
  [0x8049123n, 0x23n, 0x246n].forEach((v, i) => bytes.set(leBytes(v, 4), i * 4));
  t.equal(cpu.mem.write(at, bytes, 3), true);
  cpu.gpr.rsp = at;
  t.ok(iret(cpu, 32).ok);
  t.equal(cpu.rip, 0x8049123n);
  t.equal(cpu.gpr.rsp, at + 12n);
  t.equal(cpu.seg.ss.selector, 0x2b, 'SS not popped');
});

t.test('IRETQ outside 64-bit mode is a caller error', async (t) => {
  const { cpu } = makeCpu({ mode: 'compat' });
  t.throws(() => iret(cpu, 64), /REX.W/);
});
