// The simulator's auxv and special-mapping model (sim/kernel/auxv.ts): what each ABI, kernel
// version and vsyscall mode shows, as the kernel sources say (vma.c map_vdso, vsyscall_64.c
// get_gate_vma, asm/elf.h ARCH_DLINFO*), and that nothing is reported unless the case asks.
import t from 'tap';
import type { Abi } from '../../abi/constants.js';
import type { MapLine, Observation, Profile } from '../../harness/contracts.js';
import { runCase } from '../../sim/kernel/run.js';
import { getProfile, PROFILES } from '../../sim/profiles.js';
import { vvarLayout } from '../../sim/kernel/auxv.js';
import { mkCase } from '../native/helpers.js';

function observe(abi: Abi, profile: Profile): Observation {
  const o = runCase(mkCase({ abi, call: 'getpid', observe: ['auxv', 'maps'] }), profile);
  if (o.outcome !== 'returned') throw new Error(`${abi} on ${profile.name}: ${o.outcome} ${o.reason ?? ''}`);
  return o;
}
const named = (o: Observation, n: string): MapLine[] => (o.maps ?? []).filter((l) => l.name === n);

t.test('without observe the sim reports neither auxv nor maps', async (t) => {
  const o = runCase(mkCase({ call: 'getpid' }), getProfile('linux-7.0-intel'));
  t.equal(o.auxv, undefined);
  t.equal(o.maps, undefined);
});

t.test('the [vsyscall] line per mode, for 64-bit processes only', async (t) => {
  const want = { xonly: '--xp', emulate: 'r-xp', none: undefined } as const;
  for (const p of Object.values(PROFILES)) {
    const o = observe('x86_64', p);
    const vs = named(o, '[vsyscall]');
    const perms = want[p.vsyscall];
    if (perms === undefined) t.equal(vs.length, 0, `${p.name}: none → no line`);
    else t.same(vs, [{ name: '[vsyscall]', start: 0xffffffffff600000n, end: 0xffffffffff601000n, perms }], `${p.name}: ${p.vsyscall}`);
    // The gate vma is printed after every real mapping.
    if (vs.length) t.equal(o.maps!.at(-1)!.name, '[vsyscall]', `${p.name}: last line`);
    if (p.ia32) t.equal(named(observe('i386', p), '[vsyscall]').length, 0, `${p.name}: i386 has none`);
    if (p.x32) t.equal(named(observe('x32', p), '[vsyscall]').length, 0, `${p.name}: x32 has none`);
  }
});

t.test('AT_SYSINFO_EHDR is the [vdso] start for every ABI; AT_SYSINFO only for i386', async (t) => {
  const p = getProfile('linux-7.0-intel-x32');
  for (const abi of ['x86_64', 'i386', 'x32'] as const) {
    const o = observe(abi, p);
    const [vdso] = named(o, '[vdso]');
    t.ok(vdso, `${abi}: a [vdso] line`);
    t.equal(o.auxv?.AT_SYSINFO_EHDR, vdso!.start, `${abi}: AT_SYSINFO_EHDR = [vdso] start`);
    t.equal(vdso!.perms, 'r-xp');
    t.equal(vdso!.end - vdso!.start, o.env.extra?.vdso_size, `${abi}: the line spans vdso_size`);
    if (abi === 'i386') {
      t.equal(o.auxv?.AT_SYSINFO, o.env.extra?.kernel_vsyscall, 'i386: AT_SYSINFO = __kernel_vsyscall');
      t.ok(o.auxv!.AT_SYSINFO! > vdso!.start && o.auxv!.AT_SYSINFO! < vdso!.end, 'inside the vDSO');
    } else t.equal(o.auxv?.AT_SYSINFO, undefined, `${abi}: no AT_SYSINFO`);
  }
});

t.test('[vvar] / [vvar_vclock] per kernel version, r--p, ending at the vDSO', async (t) => {
  for (const p of Object.values(PROFILES)) {
    const o = observe('x86_64', p);
    const vdso = named(o, '[vdso]')[0]!.start;
    const vvar = named(o, '[vvar]');
    const vclock = named(o, '[vvar_vclock]');
    const split = Number(p.kernel.split('.')[0]) * 100 + Number(p.kernel.split('.')[1]) >= 613;
    t.equal(vvar.length, 1, `${p.name}: one [vvar]`);
    t.equal(vclock.length, split ? 1 : 0, `${p.name}: [vvar_vclock] only from 6.13`);
    const top = split ? vclock[0]! : vvar[0]!;
    t.equal(top.end, vdso, `${p.name}: the data ends where the vDSO starts`);
    if (split) t.equal(vvar[0]!.end, vclock[0]!.start, `${p.name}: [vvar] then [vvar_vclock]`);
    for (const l of [...vvar, ...vclock]) t.equal(l.perms, 'r--p');
    t.same(vvarLayout(p, vdso).map((v) => v.name), split ? ['[vvar]', '[vvar_vclock]'] : ['[vvar]']);
  }
});
