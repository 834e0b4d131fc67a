// Unit tests of SYSRET (sim/cpu/sysret.ts) per vendor, from Intel SDM Vol. 2B SYSRET and AMD
// APM Vol. 3 SYSRET: RIP from RCX/ECX, RFLAGS = R11 & 3C7FD7H | 2, CS/SS from STAR[63:48] with
// RPL forced to 3 and fixed caches, the #UD/#GP rules, Intel's #GP at CPL 0 on a non-canonical
// RCX vs AMD's fault in user mode, AMD's stale SS attributes, and FRED's #UD.

import t from 'tap';
import { sysret } from '../../../sim/cpu/sysret.js';
import { syscall } from '../../../sim/cpu/syscall.js';
import { intn } from '../../../sim/cpu/interrupt.js';
import { VENDORS, makeCpu, traceText } from './fixture.js';

function kernelCpu(vendor: 'intel' | 'amd', extra: { fred?: boolean; trace?: boolean } = {}) {
  const { cpu } = makeCpu({ vendor, mode: 'kernel', ...extra });
  cpu.gpr.rcx = 0x401005n;
  cpu.gpr.r11 = 0x246n;
  cpu.gpr.rsp = 0x7ffffffde000n;
  return cpu;
}

for (const [name] of VENDORS) {
  t.test(`${name}: SYSRETQ returns to 64-bit mode with CS 0x33, SS 0x2b`, async (t) => {
    const cpu = kernelCpu(name);
    t.same(sysret(cpu, true), { ok: true });
    t.equal(cpu.rip, 0x401005n);
    t.equal(cpu.rflags, 0x246n);
    t.equal(cpu.cpl, 3);
    t.equal(cpu.mode, 'long64');
    t.equal(cpu.gpr.rsp, 0x7ffffffde000n, 'RSP unchanged');
    t.match(cpu.seg.cs, { selector: 0x33, base: 0n, limit: 0xffffffff, type: 11, s: true, dpl: 3, present: true, l: true, db: false, g: true });
    t.equal(cpu.seg.ss.selector, 0x2b);
  });

  t.test(`${name}: SYSRETL returns to compatibility mode with CS 0x23 and EIP = ECX`, async (t) => {
    const cpu = kernelCpu(name);
    cpu.gpr.rcx = 0xffffffff_f7fc1234n;
    t.ok(sysret(cpu, false).ok);
    t.equal(cpu.rip, 0xf7fc1234n, 'only ECX is used');
    t.equal(cpu.mode, 'compat');
    t.match(cpu.seg.cs, { selector: 0x23, dpl: 3, l: false, db: true });
    t.equal(cpu.seg.ss.selector, 0x2b);
  });

  t.test(`${name}: RFLAGS = (R11 & 0x3C7FD7) | 2 — RF, VM and reserved bits dropped`, async (t) => {
    const cpu = kernelCpu(name);
    cpu.gpr.r11 = 0xffffffff_ffffffffn;
    t.ok(sysret(cpu, true).ok);
    t.equal(cpu.rflags, 0x3c7fd7n);
    const c2 = kernelCpu(name);
    c2.gpr.r11 = 0x30000n; // RF | VM only
    t.ok(sysret(c2, true).ok);
    t.equal(c2.rflags, 0x2n);
  });

  t.test(`${name}: RPL forced to 3 whatever STAR[49:48] holds`, async (t) => {
    const cpu = kernelCpu(name);
    cpu.msr.STAR = 0x0020001000000000n; // STAR[63:48] = 0x20 (RPL 0)
    t.ok(sysret(cpu, true).ok);
    t.equal(cpu.seg.cs.selector, 0x33, '(0x20 + 16) | 3');
    t.equal(cpu.seg.ss.selector, 0x2b, '(0x20 + 8) | 3');
  });

  t.test(`${name}: SYSRET at CPL 3 is #GP(0)`, async (t) => {
    const { cpu } = makeCpu({ vendor: name });
    const before = cpu.snapshot();
    const r = sysret(cpu, true);
    t.notOk(r.ok);
    if (!r.ok) t.match(r.fault, { vector: 'GP', errorCode: 0, cpl: 3 });
    t.same(cpu.snapshot(), before);
  });

  t.test(`${name}: SYSRET with EFER.SCE = 0 is #UD`, async (t) => {
    const cpu = kernelCpu(name);
    cpu.efer.sce = false;
    const r = sysret(cpu, true);
    t.notOk(r.ok);
    if (!r.ok) t.equal(r.fault.vector, 'UD');
  });

  t.test(`${name}: SYSRETL ignores the high half of RCX, so no canonical check`, async (t) => {
    const cpu = kernelCpu(name);
    cpu.gpr.rcx = 0x8000000000401000n;
    const r = sysret(cpu, false);
    t.same(r, { ok: true });
    t.equal(cpu.rip, 0x401000n);
  });

  t.test(`${name}: with FRED, SYSRET is #UD`, async (t) => {
    const cpu = kernelCpu(name, { fred: true });
    const r = sysret(cpu, true);
    t.notOk(r.ok);
    if (!r.ok) t.equal(r.fault.vector, 'UD');
    t.equal(cpu.cpl, 0);
  });

  t.test(`${name}: REX.W SYSRET outside 64-bit mode is a caller error`, async (t) => {
    const { cpu } = makeCpu({ vendor: name, mode: 'compat' });
    cpu.cpl = 0;
    t.throws(() => sysret(cpu, true), /only encodable in 64-bit mode/);
  });
}

t.test('Intel: non-canonical RCX → #GP(0) taken at CPL 0, nothing changed (CVE-2012-0217 class)', async (t) => {
  const cpu = kernelCpu('intel');
  cpu.gpr.rcx = 0x0000800000000000n;
  const before = cpu.snapshot();
  const r = sysret(cpu, true);
  t.notOk(r.ok);
  if (!r.ok) t.match(r.fault, { vector: 'GP', errorCode: 0, cpl: 0 });
  t.same(cpu.snapshot(), before, 'still in the kernel, with the (user) RSP the kernel loaded');
});

t.test('AMD: non-canonical RCX completes the return; #GP(0) is pending at CPL 3', async (t) => {
  const cpu = kernelCpu('amd');
  cpu.gpr.rcx = 0x0000800000000000n;
  const r = sysret(cpu, true);
  t.ok(r.ok);
  if (r.ok) t.match(r.pending, { vector: 'GP', errorCode: 0, cpl: 3 });
  t.equal(cpu.cpl, 3);
  t.equal(cpu.rip, 0x0000800000000000n);
  t.equal(cpu.seg.cs.selector, 0x33);
});

t.test('LA57: 0x0000800000000000 is canonical with 57-bit addresses', async (t) => {
  const cpu = kernelCpu('intel');
  cpu.vaBits = 57;
  cpu.gpr.rcx = 0x0000800000000000n;
  t.same(sysret(cpu, true), { ok: true });
  const c2 = kernelCpu('intel');
  c2.vaBits = 57;
  c2.gpr.rcx = 0x0100000000000000n;
  t.notOk(sysret(c2, true).ok);
});

t.test('SS attributes: Intel loads fixed values; AMD keeps the stale (NULL) SS cache', async (t) => {
  for (const name of ['intel', 'amd'] as const) {
    const { cpu } = makeCpu({ vendor: name });
    // An interrupt from user mode loads SS with NULL (IA-32e privilege change); a kernel that
    // then returns with SYSRET exposes the vendor difference (Linux X86_BUG_SYSRET_SS_ATTRS).
    t.ok(intn(cpu, 0x80).ok);
    t.equal(cpu.seg.ss.selector, 0);
    t.equal(cpu.seg.ss.unusable, true);
    cpu.gpr.rcx = 0x401005n;
    cpu.gpr.r11 = 0x202n;
    t.ok(sysret(cpu, false).ok);
    t.equal(cpu.seg.ss.selector, 0x2b, `${name}: selector written`);
    if (name === 'intel') {
      t.match(cpu.seg.ss, { unusable: false, present: true, dpl: 3, type: 3, db: true, limit: 0xffffffff });
    } else {
      t.match(cpu.seg.ss, { unusable: true, present: false, dpl: 0 }, 'amd: attributes still those of the NULL SS');
    }
  }
});

t.test('SYSRET outside 64-bit mode: Intel #UD, AMD performs it', async (t) => {
  for (const name of ['intel', 'amd'] as const) {
    const { cpu } = makeCpu({ vendor: name, mode: 'compat' });
    cpu.cpl = 0;
    cpu.gpr.rcx = 0x8049000n;
    const r = sysret(cpu, false);
    if (name === 'intel') {
      t.notOk(r.ok);
      if (!r.ok) t.equal(r.fault.vector, 'UD');
    } else {
      t.ok(r.ok);
      t.equal(cpu.rip, 0x8049000n);
      t.equal(cpu.mode, 'compat');
    }
  }
});

t.test('trace records the sources of each loaded value', async (t) => {
  const cpu = kernelCpu('intel', { trace: true });
  sysret(cpu, true);
  const txt = traceText(cpu);
  t.match(txt, 'SYSRET: RIP ← 0x401005 from RCX');
  t.match(txt, 'CS ← 0x33 from STAR[63:48] + 16 | 3');
  t.match(txt, 'SS ← 0x2b from STAR[63:48] + 8 | 3');
  t.match(txt, 'RFLAGS ← 0x246');
});

t.test('a full SYSCALL → SYSRETL round trip from AMD compatibility mode', async (t) => {
  const { cpu } = makeCpu({ vendor: 'amd', mode: 'compat' });
  cpu.rip = 0xf7fc1000n;
  cpu.rflags = 0x293n;
  t.ok(syscall(cpu).ok);
  t.ok(sysret(cpu, false).ok);
  t.equal(cpu.rip, 0xf7fc1002n);
  t.equal(cpu.rflags, 0x293n);
  t.equal(cpu.seg.cs.selector, 0x23);
  t.equal(cpu.mode, 'compat');
});
