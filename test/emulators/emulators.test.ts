// Wrapped emulator targets (harness/targets/emulators.ts): command templates, version
// parsing, the hand-built CPUID ELF, uname parsing; and, where qemu-user is installed, the
// qemu preset end to end (profile detected through the emulator, x32 refused with its reason).

import { spawnSync } from 'node:child_process';
import t from 'tap';
import { cpuidVendorElf, execWrapperFrom, expandTemplate, runscSeries, splitCommand, utsRelease, vendorOf, versionSeries, createExecTarget, createQemuTarget, createValgrindTarget } from '../../harness/targets/emulators.js';
import { detectHostFacts } from '../../harness/host.js';

t.test('command templates split like a shell and substitute {probe} and {abi}', async (t) => {
  t.same(splitCommand(`qemu-x86_64 -E 'A=b c' "x\\"y" {probe}`), ['qemu-x86_64', '-E', 'A=b c', 'x"y', '{probe}']);
  t.throws(() => splitCommand("a 'b"), /unterminated ' quote/);
  t.same(expandTemplate(['qemu-{abi}', '{probe}'], '/p/probe-i386', 'i386'), ['qemu-i386', '/p/probe-i386']);
  t.same(expandTemplate(['valgrind', '-q'], '/p/x', 'x86_64'), ['valgrind', '-q', '/p/x'], 'no {probe}: appended');
});

t.test('SYSABI_EXEC_WRAPPER is the wrapper words before a trailing probe', async (t) => {
  const qemu = (abi: string, p: string) => (abi === 'x32' ? null : [abi === 'i386' ? '/usr/bin/qemu-i386' : '/usr/bin/qemu-x86_64', p]);
  t.same(execWrapperFrom(qemu, 'x86_64'), ['/usr/bin/qemu-x86_64']);
  t.same(execWrapperFrom(qemu, 'i386'), ['/usr/bin/qemu-i386'], 'per ABI');
  t.equal(execWrapperFrom(qemu, 'x32'), null, 'no wrapper for an ABI the emulator cannot run');
  t.same(execWrapperFrom((_a, p) => ['valgrind', '--tool=none', '-q', p], 'x86_64'), ['valgrind', '--tool=none', '-q']);
  t.equal(execWrapperFrom((_a, p) => ['emu', p, '--trace'], 'x86_64'), null, 'probe not last: cannot be expressed');
  t.equal(execWrapperFrom((_a, p) => ['emu', '-E', 'A=b c', p], 'x86_64'), null, 'a word with a space would be split by the probe');
  t.equal(execWrapperFrom((_a, p) => [p], 'x86_64'), null, 'nothing wraps the probe');
});

t.test('versions', async (t) => {
  t.equal(versionSeries('qemu-x86_64 version 7.2.22 (Debian 1:7.2+dfsg-7+deb12u18+b3)'), '7.2');
  t.equal(versionSeries('valgrind-3.19.0'), '3.19');
  t.equal(runscSeries('runsc version 0.0~20221219.0'), '2022-12');
  t.equal(versionSeries('no digits'), undefined);
});

t.test('the CPUID ELF is a well-formed static x86-64 executable', async (t) => {
  const b = cpuidVendorElf();
  t.equal(b.subarray(0, 4).toString('latin1'), '\x7fELF');
  t.equal(b.readUInt16LE(18), 62, 'EM_X86_64');
  t.equal(Number(b.readBigUInt64LE(24)), 0x400000 + 64 + 56, 'entry right after the headers');
  t.equal(Number(b.readBigUInt64LE(64 + 32)), b.length, 'PT_LOAD covers the file');
  t.equal(vendorOf('AuthenticAMD'), 'amd');
  t.equal(vendorOf('GenuineIntel'), 'intel');
  t.equal(vendorOf('TCGTCGTCGTCG'), 'unknown');
});

t.test('uname release is the third 65-byte field', async (t) => {
  const f = (s: string) => Buffer.concat([Buffer.from(s), Buffer.alloc(65 - s.length)]);
  const hex = Buffer.concat([f('Linux'), f('host'), f('6.18.1-x'), f('#1'), f('x86_64'), f('')]).toString('hex');
  t.equal(utsRelease(hex), '6.18.1-x');
  t.equal(utsRelease('00'), undefined);
});

const haveQemu = spawnSync('sh', ['-c', 'command -v qemu-x86_64']).status === 0;
t.test('qemu preset end to end', { skip: haveQemu ? false : 'qemu-x86_64 is not installed (Debian package qemu-user)' }, async (t) => {
  const q = await createQemuTarget();
  const info = await q.describe();
  t.match(info.version, /^\d+\.\d+$/);
  t.match(info.profile.name, /qemu-x86_64 version/);
  t.same(info.abis.x32, { ok: false, reason: 'qemu has no x32 user mode' });
  t.equal(info.profile.fred, false, 'an emulated CPU has no FRED');
  t.match(info.profile.kernel, /^\d+\.\d+\.\d+$/);
});

const haveValgrind = spawnSync('sh', ['-c', 'command -v valgrind'], { encoding: 'utf8' }).status === 0;
const haveProbe = spawnSync('test', ['-x', 'probes/build/probe-x86_64']).status === 0;

// The 'seccomp' feature means the probe can install filters, which it does with seccomp(2):
// a wrapper that passes prctl(PR_GET_SECCOMP) through but not seccomp(2) must not claim it.
t.test('seccomp is detected through seccomp(2), not only prctl', { skip: haveProbe ? false : 'probes not built (make probes)' }, async (t) => {
  const plain = createExecTarget('env {probe}');
  const pinfo = await plain.describe();
  const host = (await detectHostFacts()).profile;
  t.equal(pinfo.profile.features.includes('seccomp'), host.features.includes('seccomp'), 'an exec: wrapper that adds nothing sees the host\'s seccomp');
  if (!haveValgrind) return void t.skip('valgrind is not installed', () => {});
  const vg = await createValgrindTarget();
  const vinfo = await vg.describe();
  // valgrind 3.19 has no wrapper for seccomp(2) (coregrind/m_syswrap/syswrap-amd64-linux.c).
  if (vinfo.version === '3.19') t.notOk(vinfo.profile.features.includes('seccomp'), 'valgrind 3.19: no seccomp feature');
  t.ok(vinfo.profile.features.includes('ptrace'), 'valgrind still offers ptrace');
});

// An isolated getpid may run in a CLONE_VM child natively; under qemu-user that clone is
// EINVAL ("fork failed"), so the wrapped targets tell the probe to fork (SYSABI_NO_CLONE_VM).
t.test('an isolated getpid runs under qemu (the probe forks, no CLONE_VM child)', { skip: haveQemu && haveProbe ? false : 'qemu-user or the probes are missing' }, async (t) => {
  const q = await createQemuTarget();
  const c = {
    id: 't/iso@x86_64', spec: 't', abi: 'x86_64' as const, entry: 'syscall' as const, code: '64' as const, nr: 39n, regs: {},
    rflags: 0x202n, flags: [], memory: [], fds: [], signals: { actions: {}, blocked: [] }, isolate: true, timeoutMs: 5000,
  };
  const [o] = await q.run([c]);
  t.equal(o!.outcome, 'returned', o!.reason ?? '');
  t.equal(o!.after?.rax, o!.env.pid, 'getpid in the child returned its pid');
});
