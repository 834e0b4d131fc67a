// Unit tests of SYSENTER/SYSEXIT (sim/cpu/sysenter.ts), from Intel SDM Vol. 2B SYSENTER and
// SYSEXIT and AMD APM Vol. 3: MSR-driven targets, CS/SS arithmetic (+8; +16/+24; +32/+40),
// IF and VM cleared but TF kept, no saved return state, #GP(0) for a NULL SYSENTER_CS,
// #UD in long mode on AMD, the 64-bit SYSEXIT canonical checks, and FRED.

import t from 'tap';
import { sysenter, sysexit } from '../../../sim/cpu/sysenter.js';
import { SYSENTER_EIP, SYSENTER_ESP, makeCpu, traceText } from './fixture.js';

t.test('Intel compat-mode SYSENTER: targets from the MSRs, IF/VM cleared, TF kept, nothing saved', async (t) => {
  const { cpu } = makeCpu({ vendor: 'intel', mode: 'compat', trace: true });
  cpu.rip = 0xf7fc1550n;
  cpu.rflags = 0x302n | 0x10000n; // TF IF RF
  cpu.gpr.rcx = 0x1111n;
  cpu.gpr.r11 = 0x2222n;
  cpu.gpr.rbp = 0xffffc000n;
  t.same(sysenter(cpu), { ok: true });
  t.equal(cpu.rip, SYSENTER_EIP);
  t.equal(cpu.gpr.rsp, SYSENTER_ESP);
  t.equal(cpu.rflags, 0x102n, 'TF still set; IF, RF cleared');
  t.equal(cpu.gpr.rcx, 0x1111n, 'no return address saved');
  t.equal(cpu.gpr.r11, 0x2222n, 'no flags saved');
  t.match(cpu.seg.cs, { selector: 0x10, dpl: 0, l: true, db: false, type: 11, base: 0n });
  t.match(cpu.seg.ss, { selector: 0x18, dpl: 0, type: 3 });
  t.equal(cpu.cpl, 0);
  t.equal(cpu.mode, 'long64');
  t.match(traceText(cpu), 'RIP ← 0xffffffff81a00200 from IA32_SYSENTER_EIP');
});

t.test('Intel 64-bit-mode SYSENTER is valid too', async (t) => {
  const { cpu } = makeCpu({ vendor: 'intel' });
  t.ok(sysenter(cpu).ok);
  t.equal(cpu.rip, SYSENTER_EIP);
});

t.test('RPL bits of SYSENTER_CS are masked off for CS; SS = CS + 8', async (t) => {
  const { cpu } = makeCpu({ vendor: 'intel', mode: 'compat' });
  cpu.msr.SYSENTER_CS = 0x13n;
  t.ok(sysenter(cpu).ok);
  t.equal(cpu.seg.cs.selector, 0x10);
  t.equal(cpu.seg.ss.selector, 0x18);
});

t.test('AMD: SYSENTER in long mode (64-bit and compat) is #UD', async (t) => {
  for (const mode of ['64', 'compat'] as const) {
    const { cpu } = makeCpu({ vendor: 'amd', mode });
    const before = cpu.snapshot();
    const r = sysenter(cpu);
    t.notOk(r.ok);
    if (!r.ok) t.match(r.fault, { vector: 'UD', cpl: 3 });
    t.same(cpu.snapshot(), before);
  }
});

t.test('ia32 emulation off: SYSENTER_CS = 0 → #GP(0) (Linux leaves SIGSEGV)', async (t) => {
  const { cpu } = makeCpu({ vendor: 'intel', mode: 'compat', ia32: false });
  t.equal(cpu.msr.SYSENTER_CS, 0n);
  const r = sysenter(cpu);
  t.notOk(r.ok);
  if (!r.ok) t.match(r.fault, { vector: 'GP', errorCode: 0, cpl: 3 });
});

t.test('SYSENTER_CS with index 0 but RPL bits set is still #GP(0)', async (t) => {
  const { cpu } = makeCpu({ vendor: 'intel', mode: 'compat' });
  cpu.msr.SYSENTER_CS = 3n;
  const r = sysenter(cpu);
  t.notOk(r.ok);
  if (!r.ok) t.equal(r.fault.vector, 'GP');
});

t.test('legacy protected mode (32-bit kernel): 32-bit targets and CS, on AMD as well', async (t) => {
  for (const vendor of ['intel', 'amd'] as const) {
    const { cpu } = makeCpu({ vendor, mode: 'compat' });
    cpu.efer.lma = false;
    cpu.mode = 'protected32';
    cpu.msr.SYSENTER_CS = 0x60n; // 32-bit kernel: __KERNEL_CS 0x60
    cpu.msr.SYSENTER_EIP = 0xffffffffc1001000n;
    cpu.msr.SYSENTER_ESP = 0x1_c2000000n;
    t.ok(sysenter(cpu).ok, vendor);
    t.equal(cpu.rip, 0xc1001000n, 'EIP = SYSENTER_EIP[31:0]');
    t.equal(cpu.gpr.rsp & 0xffffffffn, 0xc2000000n, 'ESP = SYSENTER_ESP[31:0]');
    t.match(cpu.seg.cs, { selector: 0x60, l: false, db: true });
    t.equal(cpu.seg.ss.selector, 0x68);
    t.equal(cpu.mode, 'protected32');
  }
});

t.test('SYSEXIT (32-bit): EIP ← EDX, ESP ← ECX, CS = SYSENTER_CS + 16 | 3, SS = + 24 | 3', async (t) => {
  const { cpu } = makeCpu({ vendor: 'intel', mode: 'kernel' });
  cpu.gpr.rdx = 0xabcd0000_f7fc1559n;
  cpu.gpr.rcx = 0x1234_ffffd000n;
  t.same(sysexit(cpu, false), { ok: true });
  t.equal(cpu.rip, 0xf7fc1559n);
  t.equal(cpu.gpr.rsp, 0xffffd000n);
  t.match(cpu.seg.cs, { selector: 0x23, dpl: 3, l: false, db: true });
  t.match(cpu.seg.ss, { selector: 0x2b, dpl: 3 });
  t.equal(cpu.cpl, 3);
  t.equal(cpu.mode, 'compat');
});

t.test('SYSEXIT (REX.W): RIP ← RDX, RSP ← RCX, CS = + 32 | 3, SS = + 40 | 3', async (t) => {
  const { cpu } = makeCpu({ vendor: 'intel', mode: 'kernel' });
  cpu.gpr.rdx = 0x401000n;
  cpu.gpr.rcx = 0x7ffffffde000n;
  t.ok(sysexit(cpu, true).ok);
  t.equal(cpu.rip, 0x401000n);
  t.equal(cpu.gpr.rsp, 0x7ffffffde000n);
  t.match(cpu.seg.cs, { selector: 0x33, l: true, db: false });
  t.equal(cpu.seg.ss.selector, 0x3b);
  t.equal(cpu.mode, 'long64');
});

t.test('SYSEXIT faults: CPL ≠ 0, SYSENTER_CS = 0, non-canonical RCX/RDX, AMD long mode, FRED', async (t) => {
  const user = makeCpu({ vendor: 'intel' }).cpu;
  let r = sysexit(user, false);
  t.notOk(r.ok);
  if (!r.ok) t.match(r.fault, { vector: 'GP', errorCode: 0, cpl: 3 });

  const zero = makeCpu({ vendor: 'intel', mode: 'kernel', ia32: false }).cpu;
  r = sysexit(zero, false);
  t.notOk(r.ok);
  if (!r.ok) t.match(r.fault, { vector: 'GP', errorCode: 0 });

  for (const reg of ['rcx', 'rdx'] as const) {
    const k = makeCpu({ vendor: 'intel', mode: 'kernel' }).cpu;
    k.gpr.rcx = 0x7ffffffde000n;
    k.gpr.rdx = 0x401000n;
    k.gpr[reg] = 0x8000000000000000n;
    r = sysexit(k, true);
    t.notOk(r.ok, `non-canonical ${reg}`);
    if (!r.ok) t.match(r.fault, { vector: 'GP', errorCode: 0, cpl: 0 });
    // The 32-bit form only uses the low halves: no check.
    t.ok(sysexit(k, false).ok, `32-bit SYSEXIT ignores the high half of ${reg}`);
  }

  const amd = makeCpu({ vendor: 'amd', mode: 'kernel' }).cpu;
  r = sysexit(amd, false);
  t.notOk(r.ok);
  if (!r.ok) t.equal(r.fault.vector, 'UD');

  const fred = makeCpu({ vendor: 'intel', mode: 'kernel', fred: true }).cpu;
  fred.msr.SYSENTER_CS = 0x10n;
  r = sysexit(fred, false);
  t.notOk(r.ok);
  if (!r.ok) t.equal(r.fault.vector, 'UD');
});
