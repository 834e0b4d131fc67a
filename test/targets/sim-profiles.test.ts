// The sim target accepts every profile sim/profiles.ts ships (plus 'host'), refuses others
// with the list, and `make check`'s default targets cover each kernel configuration.
import t from 'tap';
import { createTarget, defaultTargets, parseTargetSpec, SIM_PROFILES } from '../../harness/targets/registry.js';
import { createSimTarget } from '../../harness/targets/sim.js';
import { PROFILES, getProfile, listProfiles } from '../../sim/profiles.js';

t.test('every shipped profile is a sim target parameter', async (t) => {
  t.same([...SIM_PROFILES].sort(), listProfiles().sort());
  for (const name of Object.keys(PROFILES)) {
    const r = await createTarget(`sim:${name}`);
    t.ok(r.ok, `sim:${name} created`);
    if (r.ok) t.equal((await r.target.describe()).profile?.name, name);
  }
});

t.test('an unknown profile is an error that lists the known ones', async (t) => {
  const r = await createTarget('sim:linux-9.9-via');
  t.equal(r.ok, false);
  if (!r.ok) {
    t.equal(r.unavailable, false, 'a typo is an error, not a SKIP');
    t.match(r.reason, /unknown sim profile "linux-9\.9-via"/);
    for (const name of listProfiles()) t.ok(r.reason.includes(name), `lists ${name}`);
  }
  t.throws(() => createSimTarget({ profile: 'nope' }), /expected one of .*linux-7\.0-intel/);
  t.equal(parseTargetSpec('sim').name, 'sim:linux-7.0-intel');
});

t.test('make check default targets cover each configuration axis', async (t) => {
  const sims = defaultTargets('darwin', 'arm64').map((s) => s.replace(/^sim:/, ''));
  t.notOk(defaultTargets('darwin', 'arm64').includes('native'));
  t.ok(defaultTargets('linux', 'x64').includes('native'));
  for (const base of ['linux-7.0-intel', 'linux-7.0-amd', 'host']) t.ok(sims.includes(base), base);
  const profs = sims.filter((n) => n !== 'host').map((n) => getProfile(n));
  t.ok(profs.some((p) => p.x32), 'x32 on');
  t.ok(profs.some((p) => !p.ia32), 'ia32 off');
  t.ok(profs.some((p) => p.fred), 'FRED');
  for (const v of ['xonly', 'emulate', 'none'] as const) t.ok(profs.some((p) => p.vsyscall === v), `vsyscall=${v}`);
  t.ok(profs.some((p) => p.kernel === '4.16'), 'a pre-4.17 kernel');
  t.ok(profs.some((p) => p.vendor === 'amd') && profs.some((p) => p.vendor === 'intel'), 'both vendors');
});
