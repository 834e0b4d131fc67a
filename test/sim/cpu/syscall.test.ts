// Unit tests of SYSCALL (sim/cpu/syscall.ts) per vendor, written from the Operation sections
// of Intel SDM Vol. 2B SYSCALL and AMD APM Vol. 3 SYSCALL: RCX/R11 saves, SFMASK, the fixed
// CS/SS caches from STAR[47:32], the #UD rules, compat/legacy-mode differences, and the trace.

import t from 'tap';
import { syscall } from '../../../sim/cpu/syscall.js';
import { CSTAR, LSTAR, VENDORS, makeCpu, traceText } from './fixture.js';

for (const [name] of VENDORS) {
  t.test(`${name}: 64-bit SYSCALL saves RIP/RFLAGS and enters through LSTAR with fixed caches`, async (t) => {
    const { cpu } = makeCpu({ vendor: name });
    cpu.rip = 0x401003n;
    cpu.rflags = 0x10000n | 0x100n | 0x400n | 0x200n | 0x2n | 0x1n | 0x40000n; // RF TF DF IF CF AC
    cpu.gpr.rsp = 0x7fff0000n;
    const r = syscall(cpu);
    t.same(r, { ok: true });
    t.equal(cpu.gpr.rcx, 0x401005n, 'RCX = RIP of the next instruction (SYSCALL is 2 bytes)');
    t.equal(cpu.gpr.r11, 0x40703n, 'R11 = RFLAGS with RF cleared');
    // SFMASK 0x257FD5 (v5.14+) clears CF TF IF DF AC; bit 1 stays.
    t.equal(cpu.rflags, 0x2n, 'RFLAGS = RFLAGS & ~SFMASK');
    t.equal(cpu.rip, LSTAR);
    t.equal(cpu.gpr.rsp, 0x7fff0000n, 'SYSCALL does not touch RSP');
    t.equal(cpu.cpl, 0);
    t.equal(cpu.mode, 'long64');
    t.match(cpu.seg.cs, { selector: 0x10, base: 0n, limit: 0xffffffff, type: 11, s: true, dpl: 0, present: true, l: true, db: false, g: true, unusable: false });
    t.match(cpu.seg.ss, { selector: 0x18, base: 0n, limit: 0xffffffff, type: 3, s: true, dpl: 0, present: true, db: true, g: true, unusable: false });
  });

  t.test(`${name}: the caches are fixed values, not the GDT's descriptors`, async (t) => {
    const { cpu } = makeCpu({ vendor: name });
    // Corrupt the GDT's kernel descriptors: SYSCALL must not read them.
    cpu.gdt[2] = { ...cpu.gdt[2]!, base: 0x1234000n, dpl: 2, l: false, db: true };
    cpu.gdt[3] = { ...cpu.gdt[3]!, present: false };
    t.ok(syscall(cpu).ok);
    t.equal(cpu.seg.cs.base, 0n);
    t.equal(cpu.seg.cs.dpl, 0);
    t.equal(cpu.seg.cs.l, true);
    t.equal(cpu.seg.ss.present, true);
  });

  t.test(`${name}: CS RPL bits from STAR are masked; SS = STAR[47:32] + 8 unmasked`, async (t) => {
    const { cpu } = makeCpu({ vendor: name });
    cpu.msr.STAR = 0x0023001300000000n;
    t.ok(syscall(cpu).ok);
    t.equal(cpu.seg.cs.selector, 0x10, 'CS.Selector = STAR[47:32] AND FFFCH');
    t.equal(cpu.seg.ss.selector, 0x1b, 'SS.Selector = STAR[47:32] + 8');
  });

  t.test(`${name}: SYSCALL with EFER.SCE = 0 is #UD and changes nothing`, async (t) => {
    const { cpu } = makeCpu({ vendor: name });
    cpu.efer.sce = false;
    const before = cpu.snapshot();
    const r = syscall(cpu);
    t.notOk(r.ok);
    if (!r.ok) t.match(r.fault, { vector: 'UD', errorCode: 0, cpl: 3 });
    t.same(cpu.snapshot(), before);
  });

  t.test(`${name}: old kernels mask with 0x47700 (TF DF IF IOPL AC NT), keeping CF/ZF`, async (t) => {
    const { cpu } = makeCpu({ vendor: name, kernel: '5.10' });
    cpu.rflags = 0x2n | 0x1n | 0x40n | 0x200n | 0x100n | 0x4000n; // CF ZF IF TF NT
    t.ok(syscall(cpu).ok);
    t.equal(cpu.rflags, 0x43n, 'CF, ZF and bit 1 survive; IF, TF, NT cleared');
  });

  t.test(`${name}: instruction length other than 2 (e.g. a prefixed SYSCALL)`, async (t) => {
    const { cpu } = makeCpu({ vendor: name });
    cpu.rip = 0x401000n;
    t.ok(syscall(cpu, 3).ok);
    t.equal(cpu.gpr.rcx, 0x401003n);
  });
}

t.test('compatibility mode: Intel #UD, AMD enters through CSTAR with ECX = next EIP', async (t) => {
  const intel = makeCpu({ vendor: 'intel', mode: 'compat' }).cpu;
  const r = syscall(intel);
  t.notOk(r.ok);
  if (!r.ok) t.match(r.fault, { vector: 'UD', cpl: 3 });
  t.equal(intel.seg.cs.selector, 0x23, 'no state change on #UD');

  const amd = makeCpu({ vendor: 'amd', mode: 'compat' }).cpu;
  amd.rip = 0xf7fc1000n;
  amd.gpr.rcx = 0xdeadbeef00000000n;
  t.ok(syscall(amd).ok);
  t.equal(amd.rip, CSTAR);
  t.equal(amd.gpr.rcx, 0xf7fc1002n, 'RCX = next EIP, zero-extended');
  t.equal(amd.gpr.r11, 0x202n);
  t.equal(amd.mode, 'long64', 'the kernel runs in 64-bit mode (CS.L = 1)');
  t.equal(amd.seg.cs.selector, 0x10);
});

t.test('next EIP wraps at 4 GiB in compatibility mode (AMD)', async (t) => {
  const { cpu } = makeCpu({ vendor: 'amd', mode: 'compat' });
  cpu.rip = 0xffffffffn;
  t.ok(syscall(cpu).ok);
  t.equal(cpu.gpr.rcx, 0x1n);
});

t.test('legacy protected mode: Intel #UD; AMD uses STAR[31:0] and clears VM/IF/RF only', async (t) => {
  for (const [name] of [['intel'], ['amd']] as const) {
    const { cpu } = makeCpu({ vendor: name, mode: 'compat' });
    cpu.efer.lma = false;
    cpu.efer.lme = false;
    cpu.mode = 'protected32';
    cpu.msr.STAR = 0x0073006000c01000n; // a 32-bit kernel's layout, EIP 0xc01000
    cpu.rip = 0x8048000n;
    cpu.rflags = 0x10000n | 0x200n | 0x100n | 0x2n; // RF IF TF
    cpu.gpr.r11 = 0x5555n;
    const r = syscall(cpu);
    if (name === 'intel') {
      t.notOk(r.ok, 'intel: #UD');
      if (!r.ok) t.equal(r.fault.vector, 'UD');
      continue;
    }
    t.ok(r.ok, 'amd: allowed');
    t.equal(cpu.rip, 0xc01000n, 'EIP = STAR[31:0]');
    t.equal(cpu.gpr.rcx, 0x8048002n, 'ECX = next EIP');
    t.equal(cpu.gpr.r11, 0x5555n, 'R11 untouched in legacy mode');
    t.equal(cpu.rflags, 0x102n, 'VM, IF, RF cleared; TF kept (SFMASK not used)');
    t.equal(cpu.seg.cs.selector, 0x60);
    t.equal(cpu.seg.cs.l, false);
    t.equal(cpu.seg.cs.db, true);
    t.equal(cpu.seg.ss.selector, 0x68);
    t.equal(cpu.mode, 'protected32');
  }
});

t.test('trace names each change with its source', async (t) => {
  const { cpu } = makeCpu({ trace: true });
  cpu.trace = [];
  cpu.rip = 0x401003n;
  syscall(cpu);
  const txt = traceText(cpu);
  t.match(txt, 'SYSCALL: RCX ← 0x401005 (next RIP)');
  t.match(txt, 'SYSCALL: CS ← 0x10 from STAR[47:32]');
  t.match(txt, 'SS ← 0x18 from STAR[47:32] + 8');
  t.match(txt, `RIP ← 0x${LSTAR.toString(16)} from LSTAR`);
});

t.test('no trace is recorded when cpu.trace is null', async (t) => {
  const { cpu } = makeCpu();
  t.equal(cpu.trace, null);
  syscall(cpu);
  t.equal(cpu.trace, null);
});
