// Tests of the Linux boot values (sim/cpu/linux.ts) against ABI-FACTS §2 and §3.1: selector
// layout, STAR, SFMASK by kernel version, the MSRs with ia32 emulation on and off, the
// int $0x80 gate's DPL, FRED programming, and userState's selectors and caches.

import t from 'tap';
import { LINUX_STAR, linuxGdt, sfmaskFor, GDT_INDEX } from '../../../sim/cpu/linux.js';
import { SELECTORS } from '../../../abi/constants.js';
import { CSTAR, CSTAR_IGNORE, SYSENTER_EIP, SYSENTER_ESP, makeCpu } from './fixture.js';

t.test('STAR = 0x0023001000000000: SYSCALL CS 0x10, SYSRET base 0x23', async (t) => {
  t.equal(LINUX_STAR, 0x0023001000000000n);
  t.equal(Number((LINUX_STAR >> 32n) & 0xffffn), SELECTORS.KERNEL_CS);
  t.equal(Number(LINUX_STAR >> 48n), SELECTORS.USER32_CS);
});

t.test('SFMASK: 0x257FD5 from 5.14, 0x47700 before', async (t) => {
  t.equal(sfmaskFor('5.14'), 0x257fd5n);
  t.equal(sfmaskFor('6.18.2'), 0x257fd5n);
  t.equal(sfmaskFor('5.13.19'), 0x47700n);
  t.equal(sfmaskFor('4.19'), 0x47700n);
  t.throws(() => sfmaskFor('six'), /major.minor/);
});

t.test('GDT layout: selectors 0x08/0x10/0x18/0x23/0x2b/0x33 with the right descriptors', async (t) => {
  const g = linuxGdt();
  t.equal(g.length, 16);
  const at = (sel: number) => g[sel >> 3]!;
  t.match(at(0x08), { kind: 'code', dpl: 0, l: false, db: true, g: true, type: 0xb, limit: 0xfffff });
  t.match(at(0x10), { kind: 'code', dpl: 0, l: true, db: false });
  t.match(at(0x18), { kind: 'data', dpl: 0, type: 0x3 });
  t.match(at(0x23), { kind: 'code', dpl: 3, l: false, db: true });
  t.match(at(0x2b), { kind: 'data', dpl: 3, type: 0x3 });
  t.match(at(0x33), { kind: 'code', dpl: 3, l: true, db: false });
  t.equal(g[GDT_INDEX.TSS]!.kind, 'tss');
  for (const i of [12, 13, 14]) t.equal(g[i]!.kind, 'null', `TLS entry ${i} empty until set_thread_area`);
  t.match(g[15], { kind: 'data', dpl: 3, type: 0x5 });
  t.equal(linuxGdt({ cpu: 5, node: 1 })[15]!.limit, 5 | (1 << 12), 'CPUNODE limit = cpu | node << 12');
});

t.test('the GDT agrees with the fixed caches SYSCALL/SYSRET load (what segment.h requires)', async (t) => {
  const { cpu } = makeCpu({ mode: 'kernel' });
  for (const [seg, sel] of [['cs', 0x10], ['ss', 0x18]] as const) {
    const before = { ...cpu.seg[seg] };
    t.ok(cpu.loadSegment(seg, sel).ok);
    t.same(cpu.seg[seg], before, `${seg} ${sel.toString(16)} from the GDT equals the boot cache`);
  }
});

t.test('ia32 on: CSTAR, SYSENTER_* programmed, gate 0x80 DPL 3', async (t) => {
  const { cpu } = makeCpu({ mode: 'kernel', ia32: true });
  t.equal(cpu.efer.sce, true);
  t.equal(cpu.efer.lma, true);
  t.equal(cpu.msr.EFER & 0xd01n, 0xd01n);
  t.equal(cpu.msr.STAR, LINUX_STAR);
  t.equal(cpu.msr.CSTAR, CSTAR);
  t.equal(cpu.msr.SYSENTER_CS, 0x10n);
  t.equal(cpu.msr.SYSENTER_ESP, SYSENTER_ESP);
  t.equal(cpu.msr.SYSENTER_EIP, SYSENTER_EIP);
  t.equal(cpu.msr.SFMASK, 0x257fd5n);
  t.equal(cpu.idt[0x80]!.dpl, 3);
  t.equal(cpu.idt[0x80]!.kind, 'interrupt');
  t.equal(cpu.idt[0x80]!.selector, 0x10);
});

t.test('ia32 off: CSTAR = entry_SYSCALL32_ignore, SYSENTER_* = 0, gate 0x80 DPL 0', async (t) => {
  const { cpu } = makeCpu({ mode: 'kernel', ia32: false });
  t.equal(cpu.msr.CSTAR, CSTAR_IGNORE);
  t.equal(cpu.msr.SYSENTER_CS, 0n);
  t.equal(cpu.msr.SYSENTER_ESP, 0n);
  t.equal(cpu.msr.SYSENTER_EIP, 0n);
  t.equal(cpu.idt[0x80]!.dpl, 0);
});

t.test('FRED: only STAR is written', async (t) => {
  const { cpu } = makeCpu({ mode: 'kernel', fred: true });
  t.equal(cpu.msr.STAR, LINUX_STAR);
  t.equal(cpu.msr.LSTAR, 0n);
  t.equal(cpu.msr.CSTAR, 0n);
  t.equal(cpu.msr.SFMASK, 0n);
  t.equal(cpu.msr.SYSENTER_CS, 0n);
  t.not(cpu.fred.config, 0n);
});

t.test('userState: CPL 3, CS 0x33/0x23, SS/DS/ES 0x2b, caches from the GDT, SWAPGS done', async (t) => {
  for (const mode of ['64', 'compat'] as const) {
    const { cpu } = makeCpu({ mode });
    t.equal(cpu.cpl, 3);
    t.equal(cpu.mode, mode === '64' ? 'long64' : 'compat');
    t.match(cpu.seg.cs, { selector: mode === '64' ? 0x33 : 0x23, dpl: 3, l: mode === '64' });
    for (const s of ['ss', 'ds', 'es'] as const) t.match(cpu.seg[s], { selector: 0x2b, dpl: 3, unusable: false });
    t.equal(cpu.seg.gs.base, 0n, 'user GS base');
    t.not(cpu.msr.KERNEL_GS_BASE, 0n, 'per-CPU base parked in KERNEL_GS_BASE');
  }
});
