// Tests of the CPU state helpers (sim/cpu/state.ts): register views (SDM Vol. 1 §3.4.1.1:
// 32-bit writes zero-extend, 8/16-bit writes merge), RFLAGS by name, canonical addresses,
// EFER and FS/GS_BASE as views, and loadSegment's checks (SDM Vol. 2B MOV).

import t from 'tap';
import { makeCpu } from './fixture.js';

t.test('register views', async (t) => {
  const { cpu } = makeCpu();
  cpu.gpr.rax = 0x1122334455667788n;
  t.equal(cpu.get32('rax'), 0x55667788n);
  t.equal(cpu.get16('rax'), 0x7788n);
  t.equal(cpu.get8('rax'), 0x88n);
  t.equal(cpu.get8('rax', true), 0x77n);
  cpu.set16('rax', 0xabcdn);
  t.equal(cpu.gpr.rax, 0x112233445566abcdn, '16-bit write merges');
  cpu.set8('rax', 0xeen, true);
  t.equal(cpu.gpr.rax, 0x112233445566eecdn, 'AH write merges');
  cpu.set32('rax', 0xfeedn);
  t.equal(cpu.gpr.rax, 0xfeedn, '32-bit write zero-extends');
  cpu.set64('rax', -1n);
  t.equal(cpu.gpr.rax, 0xffffffffffffffffn, 'stored as unsigned 64-bit');
});

t.test('flags by name', async (t) => {
  const { cpu } = makeCpu();
  cpu.rflags = 0x2n;
  cpu.setFlag('TF', true);
  cpu.setFlag('AC', true);
  t.equal(cpu.rflags, 0x40102n);
  t.equal(cpu.flag('TF'), true);
  t.equal(cpu.flag('IF'), false);
  cpu.setFlag('TF', false);
  t.equal(cpu.rflags, 0x40002n);
  cpu.rflags = 0x3202n;
  t.equal(cpu.iopl, 3);
});

t.test('canonical addresses (48- and 57-bit)', async (t) => {
  const { cpu } = makeCpu();
  for (const a of [0n, 0x00007fffffffffffn, 0xffff800000000000n, 0xffffffffffffffffn]) t.ok(cpu.canonical(a), a.toString(16));
  for (const a of [0x0000800000000000n, 0xfffe000000000000n, 0x8000000000000000n]) t.notOk(cpu.canonical(a), a.toString(16));
  cpu.vaBits = 57;
  t.ok(cpu.canonical(0x00ffffffffffffffn));
  t.notOk(cpu.canonical(0x0100000000000000n));
  t.ok(cpu.canonical(0xff00000000000000n));
});

t.test('EFER bits are a view of msr.EFER; FS/GS_BASE are the segment bases', async (t) => {
  const { cpu } = makeCpu({ mode: 'kernel' });
  cpu.efer.sce = false;
  t.equal(cpu.msr.EFER & 1n, 0n);
  cpu.msr.EFER |= 1n;
  t.equal(cpu.efer.sce, true);
  cpu.msr.FS_BASE = 0x7f1234560000n;
  t.equal(cpu.seg.fs.base, 0x7f1234560000n);
  cpu.seg.gs.base = 0x42n;
  t.equal(cpu.msr.GS_BASE, 0x42n);
});

t.test('loadSegment: DS/ES/SS checks and error codes', async (t) => {
  const { cpu } = makeCpu();
  t.ok(cpu.loadSegment('ds', 0x2b).ok);
  let r = cpu.loadSegment('ds', 0x18);
  t.notOk(r.ok, 'ring-0 data from CPL 3');
  if (!r.ok) t.match(r.fault, { vector: 'GP', errorCode: 0x18 });
  r = cpu.loadSegment('ss', 0x33);
  if (!r.ok) t.match(r.fault, { vector: 'GP', errorCode: 0x30 }); else t.fail('code in SS');
  r = cpu.loadSegment('ss', 0x2a);
  if (!r.ok) t.match(r.fault, { vector: 'GP', errorCode: 0x28 }); else t.fail('RPL ≠ CPL');
  r = cpu.loadSegment('ss', 0);
  if (!r.ok) t.match(r.fault, { vector: 'GP', errorCode: 0 }); else t.fail('NULL SS at CPL 3');
  r = cpu.loadSegment('es', 0x400);
  if (!r.ok) t.match(r.fault, { vector: 'GP', errorCode: 0x400 }); else t.fail('beyond GDT');
  t.ok(cpu.loadSegment('es', 0x23).ok, 'readable code may go in ES');
  cpu.gdt[5] = { ...cpu.gdt[5]!, present: false };
  r = cpu.loadSegment('ds', 0x2b);
  if (!r.ok) t.match(r.fault, { vector: 'NP', errorCode: 0x28 }); else t.fail('not present');
  r = cpu.loadSegment('ss', 0x2b);
  if (!r.ok) t.match(r.fault, { vector: 'SS', errorCode: 0x28 }); else t.fail('SS not present');
  t.ok(cpu.loadSegment('gs', 0x7b).ok, 'CPUNODE segment loads from user mode');
  t.equal(cpu.seg.gs.limit, 0);
});

t.test('NULL FS load: Intel clears the base, AMD keeps it (X86_BUG_NULL_SEG)', async (t) => {
  for (const vendor of ['intel', 'amd'] as const) {
    const { cpu } = makeCpu({ vendor });
    cpu.seg.fs.base = 0x7f0000000000n;
    t.ok(cpu.loadSegment('fs', 0).ok);
    t.equal(cpu.seg.fs.unusable, true);
    t.equal(cpu.seg.fs.base, vendor === 'intel' ? 0n : 0x7f0000000000n, vendor);
  }
});

t.test('loading a TLS selector set up like set_thread_area', async (t) => {
  const { cpu } = makeCpu({ mode: 'compat' });
  cpu.gdt[12] = { kind: 'data', base: 0xf7d8a740n, limit: 0xfffff, type: 0x3, dpl: 3, present: true, l: false, db: true, g: true };
  t.ok(cpu.loadSegment('gs', 0x63).ok);
  t.match(cpu.seg.gs, { selector: 0x63, base: 0xf7d8a740n, limit: 0xffffffff });
  t.ok(!cpu.loadSegment('gs', 0x6b).ok, 'empty TLS slot is not loadable');
});

t.test('PagedMemory: page-crossing accesses, #PF error codes (P, W, U)', async (t) => {
  const { PagedMemory } = await import('../../../sim/cpu/memory.js');
  const m = new PagedMemory();
  m.map(0x1000n, 0x2000, { user: true, writable: true });
  m.map(0x3000n, 0x1000, { user: false, writable: false });
  t.equal(m.write(0x1ffcn, new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]), 3), true, 'crosses 0x2000');
  t.same(m.read(0x1ffcn, 8, 3), new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]));
  t.same(m.read(0x5000n, 1, 3), { fault: 'PF', errorCode: 4 }, 'not present, user read');
  t.same(m.write(0x5000n, new Uint8Array(1), 0), { fault: 'PF', errorCode: 2 }, 'not present, kernel write');
  t.same(m.read(0x3000n, 1, 3), { fault: 'PF', errorCode: 5 }, 'supervisor page from user mode');
  t.same(m.write(0x3000n, new Uint8Array(1), 0), { fault: 'PF', errorCode: 3 }, 'read-only page');
  t.same(m.write(0x2ffcn, new Uint8Array(8), 3), { fault: 'PF', errorCode: 7 }, 'second page of a crossing write faults');
});
