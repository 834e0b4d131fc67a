// The probes' auxv and maps observations (probes/maps.c) on the real kernel: the auxv the
// process got at exec and the bracketed lines of /proc/self/maps, reported only when the case
// asks (observe), agreeing with each other and with what the host detection found by other
// means (the vsyscall mode by reading the page). Host facts are detected, never assumed.
import t from 'tap';
import type { Abi } from '../../abi/constants.js';
import type { Case, Observation } from '../../harness/contracts.js';
import { detectHostFacts } from '../../harness/host.js';
import { createNativeTarget } from '../../harness/targets/native.js';
import { mkCase, nativeSkip, PROBE_DIR } from './../native/helpers.js';

const facts = nativeSkip('x86_64') ? undefined : await detectHostFacts({ probeDir: PROBE_DIR });

async function run(cases: Case[]): Promise<Observation[]> {
  const target = createNativeTarget({ probeDir: PROBE_DIR });
  try { return await target.run(cases); } finally { await target.close?.(); }
}

for (const abi of ['x86_64', 'i386'] as Abi[]) {
  const skip = nativeSkip(abi) || (facts && !facts.abis[abi].ok ? `${abi}: ${facts.abis[abi].reason}` : false);
  t.test(`${abi}: observe reports the auxv and the special mappings, in-process and isolated`, { skip }, async (t) => {
    const [plain, inproc, forked] = await run([
      mkCase({ abi, call: 'getpid' }),
      mkCase({ abi, call: 'getpid', observe: ['auxv', 'maps'] }),
      mkCase({ abi, call: 'getpid', observe: ['maps'], isolate: true }),
    ]);
    t.equal(plain!.auxv, undefined, 'no observe: no auxv');
    t.equal(plain!.maps, undefined, 'no observe: no maps');
    t.equal(forked!.auxv, undefined, 'only what was asked');
    for (const o of [inproc!, forked!]) {
      t.equal(o.outcome, 'returned', o.reason ?? '');
      const vdso = o.maps?.filter((l) => l.name === '[vdso]') ?? [];
      t.equal(vdso.length, 1, 'one [vdso] line');
      t.equal(vdso[0]?.perms, 'r-xp');
      t.equal(vdso[0]?.start, o.env.extra?.vdso, '[vdso] starts at the vDSO base the probe found at start');
      t.ok(o.maps!.some((l) => l.name === '[stack]'), 'the [stack] line is there');
      // The lines come in address order (task_mmu walks the VMAs in order, the gate vma last).
      t.ok(o.maps!.every((l, i, a) => i === 0 || a[i - 1]!.end <= l.start), 'address order');
    }
    const a = inproc!.auxv!;
    t.equal(a.AT_SYSINFO_EHDR, inproc!.env.extra?.vdso);
    t.equal(a.AT_PAGESZ, 4096n);
    t.equal(a.AT_UID, inproc!.env.uid, 'AT_UID is the uid getuid returned');
    if (abi === 'i386') t.equal(a.AT_SYSINFO, inproc!.env.extra?.kernel_vsyscall, 'AT_SYSINFO = __kernel_vsyscall from the vDSO symbols');
    else t.equal(a.AT_SYSINFO, undefined, 'no AT_SYSINFO for a 64-bit process');
    const vs = inproc!.maps!.filter((l) => l.name === '[vsyscall]');
    if (abi === 'i386') t.equal(vs.length, 0, 'a 32-bit process has no [vsyscall] line');
    else {
      // The host detection decided the mode by reading the page, not from these perms.
      const mode = facts!.profile.vsyscall;
      if (mode === 'none') t.equal(vs.length, 0, 'vsyscall=none: no line');
      else t.same(vs.map((l) => [l.start, l.end, l.perms]), [[0xffffffffff600000n, 0xffffffffff601000n, mode === 'emulate' ? 'r-xp' : '--xp']], `vsyscall=${mode}`);
    }
  });
}
