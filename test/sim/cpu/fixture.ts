// Shared set-up for the CPU-layer tests: a Linux-booted CPU of a chosen vendor, in user mode,
// with kernel stacks mapped. Addresses are arbitrary canonical values; the tests' expected
// results come from the manuals' Operation sections, never from running the simulator.

import { Cpu } from '../../../sim/cpu/state.js';
import { AMD, INTEL, withFred } from '../../../sim/cpu/vendors.js';
import { bootCpu, userState, LINUX_KERNEL_STACK } from '../../../sim/cpu/linux.js';
import { PagedMemory } from '../../../sim/cpu/memory.js';
import type { CpuVendorTraits } from '../../../sim/cpu/api.js';

export const LSTAR = 0xffffffff81a00000n;
export const CSTAR = 0xffffffff81a00100n;
export const SYSENTER_EIP = 0xffffffff81a00200n;
export const SYSENTER_ESP = 0xfffffe0000001000n;
export const CSTAR_IGNORE = 0xffffffff81a00300n;
export const USER_STACK = 0x7ffffffde000n;

export type VendorName = 'intel' | 'amd';
export const VENDORS: [VendorName, CpuVendorTraits][] = [['intel', INTEL], ['amd', AMD]];

export interface Setup {
  vendor?: VendorName;
  fred?: boolean;
  ia32?: boolean;
  kernel?: string;
  mode?: '64' | 'compat' | 'kernel';
  trace?: boolean;
}

export function makeCpu(s: Setup = {}): { cpu: Cpu; mem: PagedMemory } {
  const base = (s.vendor ?? 'intel') === 'intel' ? INTEL : AMD;
  const traits = s.fred ? withFred(base) : base;
  const mem = new PagedMemory();
  // Kernel stacks (RSP0 and the IST stacks above it) and a user stack page.
  mem.map(LINUX_KERNEL_STACK - 0x10000n, 0x30000, { user: false, writable: true });
  mem.map(USER_STACK - 0x2000n, 0x4000, { user: true, writable: true });
  const cpu = new Cpu(traits, mem);
  bootCpu(cpu, {
    kernel: s.kernel ?? '6.8', ia32: s.ia32 ?? true, lstar: LSTAR, cstar: CSTAR,
    sysenterEip: SYSENTER_EIP, sysenterEsp: SYSENTER_ESP, cstarIgnore: CSTAR_IGNORE,
  });
  if ((s.mode ?? '64') !== 'kernel') {
    userState(cpu, s.mode === 'compat' ? 'compat' : '64');
    cpu.rip = s.mode === 'compat' ? 0x8049000n : 0x401000n;
    cpu.gpr.rsp = s.mode === 'compat' ? 0xffffd000n : USER_STACK;
    cpu.rflags = 0x202n;
  }
  if (s.trace) cpu.trace = [];
  return { cpu, mem };
}

/** The trace as "INSN: text" lines, for matching. */
export function traceText(cpu: Cpu): string {
  return (cpu.trace ?? []).map((s) => `${s.insn}: ${s.text}`).join('\n');
}
