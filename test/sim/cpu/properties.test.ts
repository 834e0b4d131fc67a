// Property tests (fast-check) of the SYSCALL/SYSRET pair under Linux's STAR, for random user
// states: CS/SS come back as 0x33/0x2b, RIP is the next instruction, RFLAGS = R11 & 0x3C7FD7 | 2,
// and SYSCALL writes no GPR but RCX and R11 (and with FRED, not even those).

import t from 'tap';
import fc from 'fast-check';
import { GPRS64, type Gpr } from '../../../harness/contracts.js';
import { syscall } from '../../../sim/cpu/syscall.js';
import { sysret } from '../../../sim/cpu/sysret.js';
import { makeCpu } from './fixture.js';

const u64 = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });
// Canonical user addresses below the top of the lower half, leaving room for the 2-byte insn.
const userRip = fc.bigInt({ min: 0x1000n, max: 0x00007ffffffffffdn });
// RFLAGS a user context can hold (arithmetic flags, TF, IF, DF, OF, NT, RF, AC, ID), bit 1 set.
const userFlags = fc.bigInt({ min: 0n, max: 0x3fffffn }).map((f) => (f & 0x254fd5n) | 0x202n);
const regs = fc.record(Object.fromEntries(GPRS64.map((r) => [r, u64])) as Record<Gpr, fc.Arbitrary<bigint>>);

for (const vendor of ['intel', 'amd'] as const) {
  t.test(`${vendor}: SYSCALL then SYSRETQ restores CS/SS, RIP = next, RFLAGS = R11 & 0x3C7FD7 | 2`, async (t) => {
    fc.assert(fc.property(regs, userRip, userFlags, (g, rip, flags) => {
      const { cpu } = makeCpu({ vendor });
      Object.assign(cpu.gpr, g);
      cpu.rip = rip;
      cpu.rflags = flags;
      const a = syscall(cpu);
      if (!a.ok) return false;
      const r11 = cpu.gpr.r11;
      const b = sysret(cpu, true);
      if (!b.ok) return false;
      return cpu.seg.cs.selector === 0x33 && cpu.seg.ss.selector === 0x2b && cpu.cpl === 3
        && cpu.rip === rip + 2n && cpu.rflags === ((r11 & 0x3c7fd7n) | 2n)
        // RF (bit 16) is the one user-visible bit the round trip drops: R11 holds RFLAGS with RF clear.
        && cpu.rflags === (flags & ~0x10000n)
        && cpu.mode === 'long64';
    }), { numRuns: 300 });
    t.pass('property held for 300 random user states');
  });

  t.test(`${vendor}: SYSCALL changes no GPR except RCX and R11`, async (t) => {
    fc.assert(fc.property(regs, userRip, userFlags, (g, rip, flags) => {
      const { cpu } = makeCpu({ vendor });
      Object.assign(cpu.gpr, g);
      cpu.rip = rip;
      cpu.rflags = flags;
      if (!syscall(cpu).ok) return false;
      return GPRS64.every((r) => r === 'rcx' || r === 'r11' || cpu.gpr[r] === g[r])
        && cpu.gpr.rcx === rip + 2n && cpu.gpr.r11 === (flags & ~0x10000n);
    }), { numRuns: 300 });
    t.pass('property held for 300 random register files');
  });

  t.test(`${vendor} + FRED: SYSCALL changes no GPR except RSP (not even RCX/R11)`, async (t) => {
    fc.assert(fc.property(regs, userRip, userFlags, (g, rip, flags) => {
      const { cpu } = makeCpu({ vendor, fred: true });
      Object.assign(cpu.gpr, g);
      cpu.gpr.rsp = 0x7ffffffde000n;
      cpu.rip = rip;
      cpu.rflags = flags;
      if (!syscall(cpu).ok) return false;
      return GPRS64.every((r) => r === 'rsp' || cpu.gpr[r] === g[r]);
    }), { numRuns: 100 });
    t.pass('property held');
  });
}

t.test('SYSRETL from any R11/RCX lands in compat mode with EIP = ECX and CS 0x23', async (t) => {
  fc.assert(fc.property(u64, u64, (rcx, r11) => {
    const { cpu } = makeCpu({ mode: 'kernel' });
    cpu.gpr.rcx = rcx;
    cpu.gpr.r11 = r11;
    const r = sysret(cpu, false);
    return r.ok && cpu.rip === (rcx & 0xffffffffn) && cpu.seg.cs.selector === 0x23
      && cpu.seg.ss.selector === 0x2b && cpu.rflags === ((r11 & 0x3c7fd7n) | 2n);
  }), { numRuns: 200 });
  t.pass('property held');
});
