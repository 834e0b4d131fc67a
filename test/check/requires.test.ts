// unmetRequirement(): each requirement kind against fabricated target profiles; null means
// the case runs, anything else is the SKIP reason people read.

import t from 'tap';
import { unmetRequirement, parseKernelVersion } from '../../harness/requires.js';
import { parseKernelRange } from '../../harness/spec/expand.js';
import type { TargetInfo } from '../../harness/contracts.js';
import type { Requires } from '../../harness/spec/types.js';

function info(over: Partial<TargetInfo['profile']> = {}, abis: Partial<TargetInfo['abis']> = {}): TargetInfo {
  return {
    name: 'native', version: '1',
    profile: { name: 'host', kernel: '6.18.0-1-amd64', vendor: 'amd', ia32: true, x32: false, vsyscall: 'xonly', fred: false, features: ['seccomp', 'ptrace', 'fsgsbase'], ...over },
    abis: { x86_64: { ok: true }, i386: { ok: true }, x32: { ok: false, reason: 'x32 ELF exec fails with ENOEXEC' }, ...abis },
  };
}
const kernel = (s: string): Requires => {
  const k = parseKernelRange(s);
  if (typeof k === 'string') throw new Error(k);
  return { kernel: k };
};

t.test('kernel ranges', async (t) => {
  t.equal(unmetRequirement(kernel('>=5.14'), info(), 'x86_64'), null);
  t.equal(unmetRequirement(kernel('>=5.14'), info({ kernel: '4.16' }), 'x86_64'), 'needs kernel >=5.14, target is 4.16');
  t.equal(unmetRequirement(kernel('<4.17'), info(), 'x86_64'), 'needs kernel <4.17, target is 6.18.0-1-amd64');
  t.equal(unmetRequirement(kernel('>=5.4 <6.7'), info({ kernel: '6.6.30' }), 'x86_64'), null);
  t.equal(unmetRequirement(kernel('>=5.4 <6.7'), info({ kernel: '6.7' }), 'x86_64'), 'needs kernel >=5.4 <6.7, target is 6.7');
  t.equal(unmetRequirement(kernel('=6.18'), info({ kernel: '6.18.0' }), 'x86_64'), null);
  t.equal(unmetRequirement(kernel('>6.18'), info({ kernel: '6.18.1' }), 'x86_64'), null, 'patch level counts');
  t.match(unmetRequirement(kernel('>=5.0'), info({ kernel: 'unknown' }), 'x86_64'), /version "unknown" is unknown/);
  t.same(parseKernelVersion('v6.9-rc1'), [6, 9, 0]);
  t.equal(typeof parseKernelRange('>=5.x'), 'string', 'a bad range is refused');
});

t.test('vendor, ia32, x32, vsyscall, fred, features, destructive', async (t) => {
  t.equal(unmetRequirement({ vendor: 'amd' }, info(), 'x86_64'), null);
  t.equal(unmetRequirement({ vendor: 'intel' }, info(), 'x86_64'), "needs an Intel CPU, target's is AMD");
  t.equal(unmetRequirement({ ia32: true }, info({ ia32: false }), 'x86_64'), 'needs ia32 emulation, target has it disabled');
  t.equal(unmetRequirement({ ia32: false }, info(), 'x86_64'), 'needs ia32 emulation disabled, target has it enabled');
  t.equal(unmetRequirement({ x32: true }, info(), 'x86_64'), 'needs x32 syscalls configured, target has none');
  t.equal(unmetRequirement({ x32: false }, info(), 'x86_64'), null);
  t.equal(unmetRequirement({ vsyscall: ['emulate', 'xonly'] }, info(), 'x86_64'), null);
  t.equal(unmetRequirement({ vsyscall: ['emulate'] }, info(), 'x86_64'), 'needs vsyscall=emulate, target is vsyscall=xonly');
  t.equal(unmetRequirement({ fred: false }, info(), 'x86_64'), null);
  t.equal(unmetRequirement({ fred: true }, info(), 'x86_64'), 'needs FRED event delivery, target does not use FRED');
  t.equal(unmetRequirement({ features: ['seccomp', 'ptrace'] }, info(), 'x86_64'), null);
  t.equal(unmetRequirement({ features: ['la57', 'ptrace', 'shstk'] }, info(), 'x86_64'), 'needs la57, shstk, which target native does not support');
  t.match(unmetRequirement({ destructive: true }, info(), 'x86_64'), /--destructive/);
  t.equal(unmetRequirement({ destructive: true }, info(), 'x86_64', { destructive: true }), null);
  t.equal(unmetRequirement({}, info(), 'x86_64'), null, 'no requirements: runs');
});

t.test('an ABI the target cannot run is a skip with its reason', async (t) => {
  t.equal(unmetRequirement({}, info(), 'x32'), 'target cannot run x32 code: x32 ELF exec fails with ENOEXEC');
  t.equal(unmetRequirement({}, info({}, { i386: { ok: false, reason: 'ia32 emulation disabled' } }), 'i386'),
    'target cannot run i386 code: ia32 emulation disabled');
  t.equal(unmetRequirement({}, info(), 'i386'), null);
});
