// Tests of FRED delivery (sim/cpu/fred.ts): SYSCALL/SYSENTER from ring 3 write no RCX/R11, put
// the return state in a 64-byte frame on FRED_RSP0 (event type 7, vector 1/2, 64-bit flag),
// enter at the FRED entry page with STAR's kernel CS; ERETU returns exactly to the saved state.

import t from 'tap';
import { syscall } from '../../../sim/cpu/syscall.js';
import { sysenter } from '../../../sim/cpu/sysenter.js';
import { eretu, readFredFrame, FRED_EVENT_TYPE_OTHER } from '../../../sim/cpu/fred.js';
import { LINUX_KERNEL_STACK } from '../../../sim/cpu/linux.js';
import { LSTAR, makeCpu } from './fixture.js';

t.test('FRED SYSCALL: no RCX/R11 writes; frame holds the return state', async (t) => {
  const { cpu } = makeCpu({ fred: true });
  cpu.rip = 0x401003n;
  cpu.rflags = 0x246n;
  cpu.gpr.rcx = 0x1111n;
  cpu.gpr.r11 = 0x2222n;
  const rsp = cpu.gpr.rsp;
  t.same(syscall(cpu), { ok: true });
  t.equal(cpu.gpr.rcx, 0x1111n);
  t.equal(cpu.gpr.r11, 0x2222n);
  t.equal(cpu.cpl, 0);
  t.equal(cpu.seg.cs.selector, 0x10);
  t.equal(cpu.rip, LSTAR & ~0xfffn);
  t.equal(cpu.gpr.rsp, (LINUX_KERNEL_STACK & ~63n) - 64n);
  const f = readFredFrame(cpu);
  if ('fault' in f) { t.fail('frame unreadable'); return; }
  t.match(f, { rip: 0x401005n, cs: 0x33, rflags: 0x246n, rsp, ss: 0x2b, vector: 1, type: FRED_EVENT_TYPE_OTHER, lm: true, errorCode: 2n });
  t.same(eretu(cpu), { ok: true });
  t.equal(cpu.rip, 0x401005n);
  t.equal(cpu.rflags, 0x246n);
  t.equal(cpu.gpr.rsp, rsp);
  t.equal(cpu.cpl, 3);
  t.match(cpu.seg.cs, { selector: 0x33, l: true });
});

t.test('FRED SYSENTER from compat mode: vector 2, lm clear', async (t) => {
  const { cpu } = makeCpu({ fred: true, mode: 'compat' });
  cpu.msr.SYSENTER_CS = 0x10n;
  t.ok(sysenter(cpu).ok);
  const f = readFredFrame(cpu);
  if ('fault' in f) { t.fail('frame unreadable'); return; }
  t.match(f, { vector: 2, lm: false, cs: 0x23 });
  t.ok(eretu(cpu).ok);
  t.equal(cpu.mode, 'compat');
});

t.test('FRED SYSENTER ignores IA32_SYSENTER_CS (Linux leaves it 0 on FRED systems)', async (t) => {
  // arch/x86/kernel/cpu/common.c syscall_init writes only STAR under FRED, yet
  // entry_fred.c handles FRED_SYSENTER: the NULL-CS #GP of legacy SYSENTER cannot apply.
  const { cpu } = makeCpu({ fred: true, mode: 'compat' });
  cpu.msr.SYSENTER_CS = 0n;
  const r = sysenter(cpu);
  t.ok(r.ok, 'delivered as a FRED event, not #GP(0)');
  const f = readFredFrame(cpu);
  if ('fault' in f) { t.fail('frame unreadable'); return; }
  t.match(f, { vector: 2 });
  const legacy = makeCpu({ mode: 'compat' }).cpu;
  legacy.msr.SYSENTER_CS = 0n;
  const g = sysenter(legacy);
  if (!g.ok) t.match(g.fault, { vector: 'GP', errorCode: 0 }); else t.fail('legacy SYSENTER with NULL CS must #GP(0)');
});

t.test('ERETU: #UD without FRED, #GP(0) from user mode', async (t) => {
  const a = makeCpu({ mode: 'kernel' }).cpu;
  let r = eretu(a);
  if (!r.ok) t.equal(r.fault.vector, 'UD'); else t.fail('expected #UD');
  const b = makeCpu({ fred: true }).cpu;
  r = eretu(b);
  if (!r.ok) t.match(r.fault, { vector: 'GP', errorCode: 0 }); else t.fail('expected #GP');
});
