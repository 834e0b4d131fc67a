// The `auxv:` and `maps:` expectations (VD-01, VD-04; harness/spec/maps.ts): how they load,
// which Case.observe they imply, the errors a malformed one gets (with its position), and how
// check() judges Observation.auxv / Observation.maps, including what it does when the target
// reported nothing.
import t from 'tap';
import type { ExpandedCase } from '../../harness/spec/expand.js';
import { check } from '../../harness/check.js';
import type { MapLine, Observation } from '../../harness/contracts.js';
import { encodeCase, decodeObservation } from '../../harness/targets/probe-runner.js';
import { inlineCase, oneCase } from '../spec/inline.js';

const inline = (abi: string, caseYaml: string) => inlineCase('vdso', abi, caseYaml);
const one = (abi: string, caseYaml: string) => oneCase('vdso', abi, caseYaml);
const errs = (abi: string, y: string) => inline(abi, y).errors.map((e) => `${e.line}:${e.col} ${e.message}`).join('\n');

const VDSO = 0x7fff12340000n;
const line = (name: string, start: bigint, end: bigint, perms: string): MapLine => ({ name, start, end, perms });
function obs(ec: ExpandedCase, o: Partial<Observation>): Observation {
  return { id: ec.case.id, outcome: 'returned', before: {}, after: { rax: 7n }, env: { pid: 7n, extra: { vdso: VDSO, vdso_size: 0x2000n } }, ...o };
}

t.test('observe is implied by auxv:, maps: and $auxv, and absent otherwise', async (t) => {
  t.same(one('x86_64', 'call: getpid\nexpect: { auxv: { AT_SYSINFO: absent } }').case.observe, ['auxv']);
  t.same(one('x86_64', 'call: getpid\nexpect: { maps: { vsyscall: absent } }').case.observe, ['maps']);
  t.same(one('x86_64', 'call: getpid\nexpect: { maps: { vdso: { start: $auxv.AT_SYSINFO_EHDR } } }').case.observe, ['auxv', 'maps'],
    '$auxv inside maps: needs the auxv too');
  t.same(one('x86_64', 'call: getpid\nexpect: { ret: $pid, any_of: [{ maps: { vdso: present } }, { rax: 1 }] }').case.observe, ['maps'],
    'an any_of alternative counts');
  t.notOk('observe' in one('x86_64', 'call: getpid\nexpect: { ret: $pid }').case, 'other cases do not read /proc');
});

t.test('malformed auxv:/maps: are refused with their position', async (t) => {
  t.match(errs('x86_64', 'call: getpid\nexpect: { auxv: { AT_SYSINFO_EDHR: 1 } }'), /AT_SYSINFO_EDHR/);
  t.match(errs('x86_64', 'call: getpid\nexpect: { maps: { vsycall: absent } }'), /vsycall/);
  t.match(errs('x86_64', 'call: getpid\nexpect: { maps: { vdso: { perms: rx } } }'), /^\d+:\d+ .*perms are four letters/m);
  t.match(errs('x86_64', 'call: getpid\nexpect: { maps: { vdso: {} } }'), /say what must hold/);
  t.match(errs('x86_64', 'call: getpid\nexpect: { ret: $auxv.AT_SYSINFO_EHRD }'), /names no auxiliary-vector entry.*AT_SYSINFO_EHDR/);
  t.match(errs('x86_64', 'call: getpid\nexpect: { ret: $auxv }'), /needs a name/);
  t.equal(errs('x86_64', 'call: getpid\nexpect: { maps: { vdso: present, vvar: { size: { min: 4096 } } } }'), '', 'present and a size matcher load');
});

t.test('check: auxv values, absence, and a target that reported no auxv', async (t) => {
  const ec = one('x86_64', 'call: getpid\nexpect: { ret: $pid, auxv: { AT_SYSINFO_EHDR: $extra.vdso, AT_SYSINFO: absent, AT_PAGESZ: 4096 } }');
  t.equal(check(ec, obs(ec, { auxv: { AT_SYSINFO_EHDR: VDSO, AT_PAGESZ: 4096n } }), 'x').status, 'pass');
  const extra = check(ec, obs(ec, { auxv: { AT_SYSINFO_EHDR: VDSO, AT_PAGESZ: 4096n, AT_SYSINFO: 0x1234n } }), 'x');
  t.equal(extra.status, 'fail');
  t.match(extra.diffs, [{ field: 'auxv.AT_SYSINFO', expected: 'absent', observed: '0x1234' }]);
  const wrong = check(ec, obs(ec, { auxv: { AT_SYSINFO_EHDR: VDSO + 0x1000n, AT_PAGESZ: 4096n } }), 'x');
  t.match(wrong.diffs, [{ field: 'auxv.AT_SYSINFO_EHDR' }]);
  const gone = check(ec, obs(ec, { auxv: { AT_PAGESZ: 4096n } }), 'x');
  t.match(gone.diffs, [{ field: 'auxv.AT_SYSINFO_EHDR', observed: 'absent' }]);
  // Not reported at all is the target's defect, never a pass of `absent`.
  t.equal(check(ec, obs(ec, {}), 'x').status, 'error');
});

t.test('check: maps perms, start/end/size, absence; split lines count as one mapping', async (t) => {
  const ec = one('x86_64', 'call: getpid\nexpect: { maps: { vdso: { perms: r-xp, start: $auxv.AT_SYSINFO_EHDR, size: $extra.vdso_size }, vsyscall: absent } }');
  const auxv = { AT_SYSINFO_EHDR: VDSO };
  const good = [line('[vvar]', VDSO - 0x4000n, VDSO, 'r--p'), line('[vdso]', VDSO, VDSO + 0x2000n, 'r-xp')];
  t.equal(check(ec, obs(ec, { auxv, maps: good }), 'x').status, 'pass');
  const withVs = [...good, line('[vsyscall]', 0xffffffffff600000n, 0xffffffffff601000n, '--xp')];
  t.match(check(ec, obs(ec, { auxv, maps: withVs }), 'x').diffs, [{ field: 'maps.vsyscall', expected: 'absent' }]);
  const rw = [line('[vdso]', VDSO, VDSO + 0x2000n, 'rwxp')];
  t.match(check(ec, obs(ec, { auxv, maps: rw }), 'x').diffs, [{ field: 'maps.vdso.perms', expected: 'r-xp', observed: 'rwxp' }]);
  const small = [line('[vdso]', VDSO, VDSO + 0x1000n, 'r-xp')];
  t.match(check(ec, obs(ec, { auxv, maps: small }), 'x').diffs, [{ field: 'maps.vdso.size' }]);
  const none = [line('[stack]', 0x7ffe0000n, 0x7fff0000n, 'rw-p')];
  t.match(check(ec, obs(ec, { auxv, maps: none }), 'x').diffs, [{ field: 'maps.vdso', observed: 'absent' }]);
  // mprotect can split a mapping: first start, last end, and every piece's perms.
  const split = [line('[vdso]', VDSO, VDSO + 0x1000n, 'r-xp'), line('[vdso]', VDSO + 0x1000n, VDSO + 0x2000n, 'r--p')];
  t.match(check(ec, obs(ec, { auxv, maps: split }), 'x').diffs, [{ field: 'maps.vdso.perms', observed: 'r-xp, r--p' }]);
  t.equal(check(ec, obs(ec, { auxv }), 'x').status, 'error', 'no maps reported: error');
});

t.test('probe protocol: observe line out, auxv/maps in', async (t) => {
  const ec = one('i386', 'call: getpid\nexpect: { auxv: { AT_SYSINFO: $extra.kernel_vsyscall }, maps: { vdso: present } }');
  t.match(encodeCase(ec.case), /^observe auxv,maps$/m);
  t.notMatch(encodeCase(one('i386', 'call: getpid\nexpect: { ret: $pid }').case), /observe/);
  const o = decodeObservation(JSON.stringify({
    id: ec.case.id, outcome: 'returned', before: {}, after: { rax: '0x7' },
    auxv: { AT_SYSINFO: '0xf7fd85e0', AT_SYSINFO_EHDR: '0xf7fd8000', AT_99: '0x1' },
    maps: [{ name: '[vdso]', start: '0xf7fd8000', end: '0xf7fda000', perms: 'r-xp' }],
    env: { pid: '0x7', extra: { kernel_vsyscall: '0xf7fd85e0' } },
  }), ec.case);
  t.same(o.auxv, { AT_SYSINFO: 0xf7fd85e0n, AT_SYSINFO_EHDR: 0xf7fd8000n, AT_99: 1n });
  t.same(o.maps, [{ name: '[vdso]', start: 0xf7fd8000n, end: 0xf7fda000n, perms: 'r-xp' }]);
  t.equal(check(ec, o, 'x').status, 'pass');
  t.throws(() => decodeObservation(JSON.stringify({ id: ec.case.id, outcome: 'returned', before: {}, maps: [{ name: '[vdso]', start: '0x1', end: '0x2', perms: 'rx' }], env: {} }), ec.case),
    /maps\[0\]/, 'malformed perms are a protocol error');
});
