// Target specs on the command line: `sim` means the default (or --sim-profile) profile,
// unknown kinds are refused, a missing implementation is "unavailable" (a SKIP), and a new
// kind is one registerTarget() call.

import t from 'tap';
import { CHECK_VARIANT_PROFILES, createTarget, defaultTargets, parseTargetSpec, registerTarget, targetFileName, TargetUnavailableError } from '../../harness/targets/registry.js';
import { createFakeTarget } from '../../harness/targets/fake.js';

t.test('parsing target specs', async (t) => {
  t.equal(parseTargetSpec('sim').name, 'sim:linux-7.0-intel');
  t.equal(parseTargetSpec('sim', { simProfile: 'host' }).name, 'sim:host');
  t.same(parseTargetSpec('sim:linux-4.16-intel'), { kind: 'sim', param: 'linux-4.16-intel', name: 'sim:linux-4.16-intel' });
  t.equal(parseTargetSpec('native').name, 'native');
  t.throws(() => parseTargetSpec('qemux'), { message: /unknown target "qemux": expected one of "sim", "native", "module"/ });
  t.throws(() => parseTargetSpec('module'), { message: /needs a parameter/ });
  t.equal(targetFileName('sim:linux-7.0-amd'), 'sim-linux-7.0-amd');
});

t.test('default targets follow the platform', async (t) => {
  // The three profiles issue 6 names, then the config variants that let config-dependent
  // specs run somewhere (x32 on, ia32 off, vsyscall modes, FRED, a pre-5.x kernel).
  const sims = ['sim:linux-7.0-intel', 'sim:linux-7.0-amd', 'sim:host', ...CHECK_VARIANT_PROFILES.map((p) => `sim:${p}`)];
  t.ok(CHECK_VARIANT_PROFILES.length > 0);
  t.same(defaultTargets('linux', 'x64'), [...sims, 'native']);
  t.same(defaultTargets('darwin', 'arm64'), sims, 'no native target off x86-64 Linux');
});

t.test('registering a kind; unavailable vs broken', async (t) => {
  registerTarget('testfake', { summary: 'test', create: async (p) => createFakeTarget({ name: `testfake:${p}` }) });
  const ok = await createTarget('testfake:x');
  t.ok(ok.ok);
  t.equal(ok.ok && ok.target.name, 'testfake:x');
  registerTarget('testgone', { summary: 'test', create: async () => { throw new TargetUnavailableError('emulator not installed'); } });
  t.same(await createTarget('testgone'), { ok: false, name: 'testgone', reason: 'emulator not installed', unavailable: true });
  registerTarget('testbroken', { summary: 'test', create: async () => { throw new Error('bad config'); } });
  t.same(await createTarget('testbroken'), { ok: false, name: 'testbroken', reason: 'bad config', unavailable: false });
  const missing = await createTarget('module:/no/such/file.js');
  t.equal(missing.ok, false);
  t.equal(!missing.ok && missing.unavailable, true, 'a module that does not exist is unavailable, not a crash');
  t.throws(() => registerTarget('Bad Name', { summary: '', create: async () => createFakeTarget() }));
});
