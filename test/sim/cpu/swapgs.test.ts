// Unit tests of SWAPGS (sim/cpu/swapgs.ts), from Intel SDM Vol. 2B SWAPGS: the exchange of
// GS.base with IA32_KERNEL_GS_BASE (also visible through msr.GS_BASE), #GP(0) at CPL ≠ 0 and
// #UD outside 64-bit mode.

import t from 'tap';
import { swapgs } from '../../../sim/cpu/swapgs.js';
import { LINUX_PERCPU_BASE } from '../../../sim/cpu/linux.js';
import { makeCpu } from './fixture.js';

t.test('exchanges GS.base and KERNEL_GS_BASE; the selector stays', async (t) => {
  const { cpu } = makeCpu({ mode: 'kernel' });
  t.equal(cpu.seg.gs.base, LINUX_PERCPU_BASE);
  cpu.msr.KERNEL_GS_BASE = 0x7f0000001000n;
  cpu.seg.gs.selector = 0;
  t.same(swapgs(cpu), { ok: true });
  t.equal(cpu.seg.gs.base, 0x7f0000001000n);
  t.equal(cpu.msr.GS_BASE, 0x7f0000001000n, 'msr.GS_BASE is GS.base');
  t.equal(cpu.msr.KERNEL_GS_BASE, LINUX_PERCPU_BASE);
  t.equal(cpu.seg.gs.selector, 0);
  t.ok(swapgs(cpu).ok);
  t.equal(cpu.seg.gs.base, LINUX_PERCPU_BASE, 'twice is the identity');
});

t.test('#GP(0) at CPL 3, #UD in compatibility mode', async (t) => {
  const user = makeCpu().cpu;
  let r = swapgs(user);
  t.notOk(r.ok);
  if (!r.ok) t.match(r.fault, { vector: 'GP', errorCode: 0, cpl: 3 });
  const compat = makeCpu({ mode: 'compat' }).cpu;
  compat.cpl = 0;
  r = swapgs(compat);
  t.notOk(r.ok);
  if (!r.ok) t.equal(r.fault.vector, 'UD');
});
