// Host profile detection (harness/host.ts): every fact checked against an independent
// source on this machine (uname, /proc/cpuinfo, running the probes), and the parsing
// helpers against fixed inputs.

import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { release } from 'node:os';
import t from 'tap';
import { detectHostFacts, detectHostProfile, parseKernelVersion, vsyscallFromMaps } from '../../harness/host.js';
import { createNativeTarget } from '../../harness/targets/native.js';
import { nativeSkip, PROBE_DIR } from './helpers.js';

const skip = nativeSkip('x86_64');

t.test('parsing helpers', async (t) => {
  t.equal(parseKernelVersion('6.18.44-fc-v595'), '6.18.44');
  t.equal(parseKernelVersion('5.4.0-150-generic'), '5.4.0');
  t.equal(parseKernelVersion('6.8'), '6.8.0');
  t.equal(parseKernelVersion('weird'), '0.0.0');
  const line = (perms: string) => `ffffffffff600000-ffffffffff601000 ${perms} 00000000 00:00 0                  [vsyscall]\n`;
  t.equal(vsyscallFromMaps(line('--xp')), 'xonly');
  t.equal(vsyscallFromMaps(line('r-xp')), 'emulate');
  t.equal(vsyscallFromMaps('00400000-00401000 r-xp 0 0:0 0 /bin/x\n'), 'none');
});

t.test('the detected profile agrees with the machine', { skip }, async (t) => {
  const facts = await detectHostFacts({ probeDir: PROBE_DIR });
  const p = facts.profile;
  t.equal(p.kernel, parseKernelVersion(release()), 'kernel from uname');
  const cpu = readFileSync('/proc/cpuinfo', 'utf8');
  t.equal(p.vendor, /GenuineIntel/.test(cpu) ? 'intel' : /AuthenticAMD|HygonGenuine/.test(cpu) ? 'amd' : 'unknown', 'vendor from cpuinfo');
  t.equal(p.fred, /^flags\s*:.*\bfred\b/m.test(cpu), 'FRED from the cpuinfo flag');
  t.equal(p.vsyscall, vsyscallFromMaps(readFileSync('/proc/self/maps', 'utf8')) === 'none' ? 'none' : p.vsyscall, 'no page → none');
  t.ok(['emulate', 'xonly', 'none'].includes(p.vsyscall));
  // ia32 independently: does a 32-bit static program start at all?
  const run32 = spawnSync(`${PROBE_DIR}/probe-i386`, { input: 'info\n', encoding: 'utf8' });
  if (run32.error || run32.status !== 0) t.equal(p.ia32, false, `32-bit programs do not start (${run32.error?.message}) → ia32 off`);
  else t.equal(p.ia32, facts.abis.i386.ok, 'ia32 on ⇔ the i386 ABI is runnable');
  t.equal(facts.abis.x86_64.ok, true);
  if (!p.x32) t.match(facts.abis.x32.reason, /x32|toolchain/, `x32 off with a reason: ${facts.abis.x32.reason}`);
  if (!p.x32 && existsSync(`${PROBE_DIR}/probe-x32`)) {
    t.match(facts.abis.x32.reason, /x32 programs do not start \(Exec format error\)/, 'the exec witness saw ENOEXEC (SN-06)');
  }
  t.equal(await detectHostFacts({ probeDir: PROBE_DIR }), facts, 'cached: the same object the second time');
  t.equal(await detectHostProfile(), p, 'detectHostProfile returns the cached profile');
});

t.test('native describe() reports per-ABI availability with reasons', { skip }, async (t) => {
  const info = await createNativeTarget({ probeDir: PROBE_DIR }).describe();
  t.equal(info.name, 'native');
  t.match(info.version, /^linux /);
  for (const abi of ['x86_64', 'i386', 'x32'] as const) {
    const a = info.abis[abi];
    t.ok(a.ok || (typeof a.reason === 'string' && a.reason.length > 10), `${abi}: ${a.ok ? 'runnable' : a.reason}`);
  }
});

t.test('a probe directory without probes: every ABI unavailable, saying why', async (t) => {
  const { createProbeTarget } = await import('../../harness/targets/probe-runner.js');
  const info = await createProbeTarget({ name: 'empty', probeDir: '/nonexistent-probes' }).describe();
  for (const abi of ['x86_64', 'i386', 'x32'] as const) {
    t.equal(info.abis[abi].ok, false);
    t.match(info.abis[abi].reason, /probe not built: .*probe-.* does not exist \(run `make probes`\)/);
  }
});
