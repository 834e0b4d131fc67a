// The CPU side of RT-04 in the simulator (sim/cpu/debug.ts): an instruction breakpoint faults
// before the instruction unless RF is 1, RF lasts one instruction, and the three ways back to
// ring 3 differ exactly as the manuals say — SYSRET forces RF = 0 (Intel SDM Vol. 2B SYSRET:
// RFLAGS ← (R11 & 3C7FD7H) | 2), IRET loads RF from its frame (SDM Vol. 2A IRET), and so does
// FRED's ERETU (FRED spec §7). Expected values come from those texts, not from running the sim.
import t from 'tap';
import { checkInsnBreakpoint, retireInstruction, type InsnBreakpoint } from '../../sim/cpu/debug.js';
import { sysret } from '../../sim/cpu/sysret.js';
import { iret } from '../../sim/cpu/iret.js';
import { eretu, fredEnterFromUser } from '../../sim/cpu/fred.js';
import { LINUX_KERNEL_STACK } from '../../sim/cpu/linux.js';
import { RFLAGS } from '../../abi/constants.js';
import { makeCpu, traceText } from '../sim/cpu/fixture.js';

const RET = 0x401005n;
const BP: InsnBreakpoint[] = [{ dr: 0, addr: RET }];
const le64 = (v: bigint): Uint8Array => {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, BigInt.asUintN(64, v), true);
  return b;
};

t.test('the breakpoint condition: address match, RF, DR6.Bn', async (t) => {
  const { cpu } = makeCpu({ trace: true });
  cpu.rip = RET;
  t.same(checkInsnBreakpoint(cpu, []), { kind: 'none' }, 'nothing armed');
  t.same(checkInsnBreakpoint(cpu, [{ dr: 1, addr: RET + 1n }]), { kind: 'none' }, 'another address');
  const hit = checkInsnBreakpoint(cpu, [{ dr: 2, addr: RET }]);
  t.equal(hit.kind, 'hit');
  if (hit.kind === 'hit') t.equal(hit.dr6, 0xffff0ff0n | 4n, 'DR6.B2 set over the reserved ones');
  cpu.rflags |= RFLAGS.RF;
  t.equal(checkInsnBreakpoint(cpu, BP).kind, 'suppressed', 'RF = 1 suppresses it');
  retireInstruction(cpu);
  t.equal(cpu.rflags & RFLAGS.RF, 0n, 'RF cleared once the instruction completes');
  t.equal(checkInsnBreakpoint(cpu, BP).kind, 'hit', 'so the next execution of it would trap again');
  t.match(traceText(cpu), /RF = 1 suppresses/);
});

t.test('compat mode compares the linear address (CS.base + EIP)', async (t) => {
  const { cpu } = makeCpu({ mode: 'compat' });
  cpu.rip = 0x8049002n;
  t.equal(checkInsnBreakpoint(cpu, [{ dr: 0, addr: 0x8049002n }]).kind, 'hit', 'flat CS: base 0');
});

for (const vendor of ['intel', 'amd'] as const) {
  t.test(`${vendor}: SYSRET returns with RF = 0 even when R11 has it, so the breakpoint fires`, async (t) => {
    const { cpu } = makeCpu({ vendor, mode: 'kernel' });
    cpu.gpr.rcx = RET;
    cpu.gpr.r11 = 0x246n | RFLAGS.RF;
    cpu.gpr.rsp = 0x7ffffffde000n;
    t.same(sysret(cpu, true), { ok: true });
    t.equal(cpu.rflags, 0x246n, 'RF (bit 16) dropped by the 3C7FD7H mask');
    t.equal(checkInsnBreakpoint(cpu, BP).kind, 'hit');
  });
}

for (const rf of [true, false]) {
  t.test(`IRETQ to user mode with RF ${rf ? 'set' : 'clear'} in the frame`, async (t) => {
    const { cpu } = makeCpu({ mode: 'kernel' });
    const sp = LINUX_KERNEL_STACK - 0x100n;
    const frame = [RET, 0x33n, 0x246n | (rf ? RFLAGS.RF : 0n), 0x7ffffffde000n, 0x2bn];
    frame.forEach((v, i) => t.equal(cpu.mem.write(sp + BigInt(8 * i), le64(v), 0), true));
    cpu.gpr.rsp = sp;
    t.same(iret(cpu, 64), { ok: true });
    t.equal(cpu.cpl, 3);
    t.equal((cpu.rflags & RFLAGS.RF) !== 0n, rf, 'RF as the frame says');
    t.equal(checkInsnBreakpoint(cpu, BP).kind, rf ? 'suppressed' : 'hit');
  });
}

for (const rf of [true, false]) {
  t.test(`FRED: ERETU with RF ${rf ? 'set' : 'clear'} in the frame`, async (t) => {
    const { cpu } = makeCpu({ fred: true });
    cpu.rip = RET - 2n;
    t.same(fredEnterFromUser(cpu, 'SYSCALL', 1, 2), { ok: true });
    // The frame's RFLAGS slot (FRED spec §5.1: error code, RIP, CS, RFLAGS, ...): what the
    // kernel would leave there after a sigreturn or its own breakpoint handler.
    if (rf) t.equal(cpu.mem.write(cpu.gpr.rsp + 24n, le64(0x246n | RFLAGS.RF), 0), true);
    t.same(eretu(cpu), { ok: true });
    t.equal(cpu.rip, RET);
    t.equal((cpu.rflags & RFLAGS.RF) !== 0n, rf);
    t.equal(checkInsnBreakpoint(cpu, BP).kind, rf ? 'suppressed' : 'hit');
  });
}
