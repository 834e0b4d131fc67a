// check(): every expectation form against fabricated Observations, passing and failing, at
// 64-bit and 32-bit widths, with any_of, outcomes, and the diffs people read.

import t from 'tap';
import { parseSpecText } from '../../harness/spec/load.js';
import { expandSpec, type ExpandedCase } from '../../harness/spec/expand.js';
import { check } from '../../harness/check.js';
import type { Observation, RegFile } from '../../harness/contracts.js';

/** The one expanded case of an inline spec for `abi`. */
function kase(caseYaml: string, abi = 'x86_64'): ExpandedCase {
  const text = `id: t.check\ntitle: t\ndescription: d\nrefs: [{kernel: k}]\ntags: [entry]\nabi: [${abi}]\ncases:\n  - name: c\n${caseYaml.replace(/^/gm, '    ')}\n`;
  const r = parseSpecText('inline.yaml', text);
  if (!r.spec) throw new Error(JSON.stringify(r.errors));
  return expandSpec(r.spec)[0]!;
}

const PID = 4242n;
function obs(over: Partial<Observation> = {}, after: RegFile = {}, before: RegFile = {}): Observation {
  return {
    id: 'x', outcome: 'returned',
    before: { rax: 39n, rbx: 0x5a5a_0000_0000_0101n, rcx: 7n, r11: 9n, rflags: 0x202n, ...before },
    after: { rax: PID, rbx: 0x5a5a_0000_0000_0101n, rcx: 0x401002n, r11: 0x202n, rflags: 0x202n, cs: 0x33n, ...after },
    env: { pid: PID, tid: PID, next_ip: 0x401002n, entry_ip: 0x401000n, bufs: { b: 0x10000n }, fds: { null: 3n } },
    ...over,
  };
}

t.test('exact values and $symbols, pass and fail with hex diffs', async (t) => {
  const ec = kase('call: getpid\nexpect: { ret: $pid, cs: 0x33, rcx: $next_ip, r11: $rflags_in }');
  t.equal(check(ec, obs(), 'sim').status, 'pass');
  const r = check(ec, obs({}, { rax: 1n, cs: 0x23n }), 'sim');
  t.equal(r.status, 'fail');
  t.same(r.diffs.map((d) => d.field), ['ret', 'cs']);
  t.same(r.diffs[0], { field: 'ret', expected: '$pid = 0x1092 (4242)', observed: '0x1' });
  t.same(r.diffs[1], { field: 'cs', expected: '0x33 (51)', observed: '0x23 (35)' });
  t.match(r.reason, /2 mismatches: ret, cs/);
  t.equal(r.caseId, ec.case.id);
  t.equal(r.target, 'sim');
});

t.test('+N/-N offsets, $in, $in.REG, $buf, $fd', async (t) => {
  const ec = kase('call: getpid\nmemory: { b: { size: 16 } }\nexpect: { rcx: $entry_ip+2, rdx: $buf.b-16, rbx: $in, rsi: $in.rbx, rdi: $fd.null }');
  const o = obs({}, { rdx: 0x10000n - 16n, rsi: 0x5a5a_0000_0000_0101n, rdi: 3n });
  t.equal(check(ec, o, 'sim').status, 'pass');
  const bad = check(ec, obs({}, { rdx: 0x10000n - 16n, rsi: 1n, rdi: 3n, rbx: 5n }), 'sim');
  t.same(bad.diffs.map((d) => d.field), ['rbx', 'rsi']);
});

t.test('a fact the target did not report is an error, not a verdict', async (t) => {
  const ec = kase('call: getpid\nexpect: { ret: $pid }');
  const r = check(ec, obs({ env: {} }), 'sim');
  t.equal(r.status, 'error');
  t.match(r.diffs[0]!.note, /did not report pid/);
});

t.test('errno at both widths', async (t) => {
  const e64 = kase('call: getpid\nexpect: { errno: EFAULT }');
  t.equal(check(e64, obs({}, { rax: 0xffff_ffff_ffff_fff2n }), 'n').status, 'pass');
  const f = check(e64, obs({}, { rax: 0xffff_fff2n }), 'n');
  t.equal(f.status, 'fail', '64-bit code: the zero-extended 32-bit errno is wrong');
  t.same(f.diffs[0], { field: 'ret', expected: '0xfffffffffffffff2 (-14, EFAULT)', observed: '0xfffffff2' });
  const e32 = kase('call: getpid\nexpect: { errno: ENOSYS }', 'i386');
  t.equal(check(e32, obs({}, { rax: 0xffff_ffdan }), 'n').status, 'pass');
  t.equal(check(e32, obs({}, { rax: 0xdead_beef_ffff_ffdan }), 'n').status, 'pass', '32-bit code: low 32 bits only');
  const f32 = check(e32, obs({}, { rax: 0xffff_fff2n }), 'n');
  t.same(f32.diffs[0], { field: 'ret', expected: '0xffffffda (-38, ENOSYS)', observed: '0xfffffff2 (-14, EFAULT)' });
});

t.test('32-bit width for registers, e-aliases always 32, selectors 16', async (t) => {
  const ec = kase('call: getpid\nexpect: { ebx: 0x1234, ret: 0x10 }');
  t.equal(check(ec, obs({}, { rbx: 0xffff_0000_0000_1234n, rax: 0x10n }), 'n').status, 'pass');
  const i = kase('call: getpid\nexpect: { rbx: 0x1234, ss: 0x2b }', 'i386');
  t.equal(check(i, obs({}, { rbx: 0x9_0000_1234n, ss: 0x1_002bn }), 'n').status, 'pass');
  t.equal(check(i, obs({}, { rbx: 0x1235n, ss: 0x2bn }), 'n').status, 'fail');
});

t.test('matchers: ok, one_of, not, range, min, max, mask, combined', async (t) => {
  const cases: [string, bigint, boolean][] = [
    ['{ ok: true }', 5n, true], ['{ ok: true }', -14n, false], ['{ ok: true }', -4096n, true],
    ['{ one_of: [1, 2, {errno: EPERM}] }', 2n, true], ['{ one_of: [1, 2, {errno: EPERM}] }', -1n, true],
    ['{ one_of: [1, 2] }', 3n, false],
    ['{ not: 0 }', 1n, true], ['{ not: 0 }', 0n, false], ['{ not: {errno: ENOSYS} }', -38n, false],
    ['{ range: [0x1000, 0x2000] }', 0x2000n, true], ['{ range: [0x1000, 0x2000] }', 0x2001n, false],
    ['{ range: [-4095, -1] }', -1n, true], ['{ range: [-4095, -1] }', 0n, false],
    ['{ min: 3 }', 3n, true], ['{ min: 3 }', 2n, false], ['{ max: 3 }', 4n, false],
    ['{ min: 2, max: 4 }', 3n, true], ['{ min: 2, max: 4 }', 5n, false],
    ['{ mask: 0xff00, eq: 0x1200 }', 0xab12ffn, true], ['{ mask: 0xff00, eq: 0x1200 }', 0xab13ffn, false],
    ['{ eq: $pid }', PID, true],
  ];
  for (const [m, v, pass] of cases) {
    const ec = kase(`call: getpid\nexpect: { ret: ${m} }`);
    const r = check(ec, obs({}, { rax: BigInt.asUintN(64, v) }), 'n');
    t.equal(r.status, pass ? 'pass' : 'fail', `${m} vs ${v}: ${r.reason ?? 'pass'}`);
  }
});

t.test('preserved: all, lists, all_but; one diff per changed register', async (t) => {
  const ec = kase('call: getpid\nexpect: { preserved: { all_but: [rax, rcx, r11] } }');
  const same: RegFile = { rbx: 1n, rdx: 2n, r12: 3n };
  t.equal(check(ec, obs({}, { ...same }, { ...same }), 'n').status, 'error', 'unreported registers do not pass silently (a target defect)');
  const full: RegFile = Object.fromEntries(['rax', 'rbx', 'rcx', 'rdx', 'rsi', 'rdi', 'rbp', 'rsp', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15'].map((r, i) => [r, BigInt(i)]));
  t.equal(check(ec, obs({}, { ...full, rax: 99n, rcx: 98n, r11: 97n }, full), 'n').status, 'pass');
  const r = check(ec, obs({}, { ...full, r8: 0n, r13: 5n }, full), 'n');
  t.same(r.diffs.map((d) => d.field), ['preserved r8', 'preserved r13']);
  t.same(r.diffs[0], { field: 'preserved r8', expected: '0x8', observed: '0x0', note: 'r8 changed across the call' });
  const i = kase('call: getpid\nexpect: { preserved: all }', 'i386');
  t.same(i.expect.preserved!.regs, ['rax', 'rbx', 'rcx', 'rdx', 'rsi', 'rdi', 'rbp', 'rsp']);
  t.equal(check(i, obs({}, { ...full, rbx: 0xffff_0000_0000_0001n }, full), 'n').status, 'pass', '32-bit code: high halves ignored');
});

t.test('flags set/clear', async (t) => {
  const ec = kase('call: getpid\nflags: [DF, NT]\nexpect: { flags: { set: [DF, NT, IF], clear: [TF] } }');
  t.equal(ec.case.rflags, 0x4602n);
  t.equal(check(ec, obs({}, { rflags: 0x4602n }), 'n').status, 'pass');
  const r = check(ec, obs({}, { rflags: 0x302n }), 'n');
  t.same(r.diffs.map((d) => `${d.field}=${d.expected}/${d.observed}`), [
    'flags.DF=set/clear (rflags 0x302)', 'flags.NT=set/clear (rflags 0x302)', 'flags.TF=clear/set (rflags 0x302)',
  ]);
});

t.test('signals: fields, registers, and a signal where a return was expected', async (t) => {
  const ec = kase('call: getpid\nmemory: { b: { size: 16 } }\nexpect:\n  signal: { signo: SIGSEGV, code: SEGV_MAPERR, addr: $buf.b+8, rip: $next_ip }');
  const sig = { signo: 11, code: 1, errno: 0, addr: 0x10008n, regs: { rip: 0x401002n } };
  t.equal(check(ec, obs({ outcome: 'signal', signal: sig, after: undefined }), 'n').status, 'pass');
  const r = check(ec, obs({ outcome: 'signal', signal: { ...sig, signo: 7, code: 2 }, after: undefined }), 'n');
  t.same(r.diffs.map((d) => d.field), ['signal.signo', 'signal.code']);
  t.equal(r.diffs[0]!.observed, 'SIGBUS (7)');
  t.match(r.diffs[0]!.expected, /SIGSEGV/);
  const ret = kase('call: getpid\nexpect: { ret: $pid }');
  const r2 = check(ret, obs({ outcome: 'signal', signal: sig, after: undefined }), 'n');
  t.equal(r2.status, 'fail');
  t.same(r2.diffs, [{ field: 'outcome', expected: 'returned', observed: 'signal SIGSEGV (si_code 1, addr 0x10008, rip 0x401002)' }]);
  const short = kase('call: getpid\nexpect: { signal: SIGILL }');
  t.equal(check(short, obs({ outcome: 'signal', signal: { ...sig, signo: 4 } }), 'n').status, 'pass');
});

t.test('killed, exit_code, traps, delivered, memory', async (t) => {
  const k = kase('call: getpid\nexpect: { killed: SIGSYS }');
  t.equal(k.case.isolate, true);
  t.equal(check(k, obs({ outcome: 'killed', exit: { signal: 31 } }), 'n').status, 'pass');
  t.equal(check(k, obs({ outcome: 'killed', exit: { signal: 9 } }), 'n').diffs[0]!.observed, 'SIGKILL (9)');
  const e = kase('call: getpid\nexpect: { exit_code: 3 }');
  t.equal(check(e, obs({ outcome: 'exited', exit: { code: 3 } }), 'n').status, 'pass');
  t.equal(check(e, obs({ outcome: 'exited', exit: { code: 4 } }), 'n').status, 'fail');
  const tr = kase('call: getpid\nflags: [TF]\nexpect: { traps: { min: 1 } }');
  t.equal(check(tr, obs({ traps: 2 }), 'n').status, 'pass');
  t.equal(check(tr, obs({}), 'n').status, 'fail', 'no traps reported counts as 0');
  const d = kase('call: getpid\nsignals: { SIGUSR1: record, SIGUSR2: record }\nexpect: { delivered: [SIGUSR1, SIGUSR2] }');
  const si = (signo: number) => ({ signo, code: 0, errno: 0, regs: {} });
  t.equal(check(d, obs({ delivered: [si(10), si(12)] }), 'n').status, 'pass');
  t.equal(check(d, obs({ delivered: [si(12), si(10)] }), 'n').status, 'fail', 'order matters');
  const m = kase('call: getpid\nmemory: { b: { size: 8 } }\nexpect: { memory: { b: { text: "hi" } } }');
  t.equal(check(m, obs({ memory: { b: '6869000000000000' } }), 'n').status, 'pass');
  const mf = check(m, obs({ memory: { b: '6868000000000000' } }), 'n');
  t.same([mf.status, mf.diffs[0]!.field], ['fail', 'memory.b']);
  t.equal(check(m, obs({}), 'n').status, 'error', 'memory not read back is a target defect');
});

t.test('any_of: one alternative suffices; failure reports the closest', async (t) => {
  const ec = kase(`call: getpid
regs: sentinel
expect:
  ret: $pid
  any_of:
    - { rcx: $next_ip, r11: $rflags_in, why: "SYSCALL writes rcx/r11" }
    - { rcx: $in, r11: $in, why: "FRED does not" }`);
  const before: RegFile = { rax: 39n, rcx: 0x5a5a_0000_0000_0202n, r11: 0x5a5a_0000_0000_0b0bn, rflags: 0x246n };
  t.equal(check(ec, obs({}, { rcx: 0x401002n, r11: 0x246n }, before), 'n').status, 'pass', 'first');
  t.equal(check(ec, obs({}, { rcx: before.rcx!, r11: before.r11! }, before), 'n').status, 'pass', 'second');
  const r = check(ec, obs({}, { rcx: 0x401002n, r11: 0n }, before), 'n');
  t.equal(r.status, 'fail', 'a mix of the two is neither (ABI-FACTS §3.6)');
  t.same(r.diffs.map((d) => d.field), ['r11']);
  t.match(r.reason, /closest of 2 any_of alternatives: #1 "SYSCALL writes rcx\/r11"/);
  const r2 = check(ec, obs({}, { rax: 1n, rcx: 0x401002n, r11: 0x246n }, before), 'n');
  t.equal(r2.status, 'fail', 'common keys still apply');
});

t.test('observation outcomes: unsupported, error, timeout, and skip from the spec', async (t) => {
  const ec = kase('call: getpid\nexpect: { ret: $pid }');
  t.same(check(ec, obs({ outcome: 'unsupported', reason: 'no vsyscall page' }), 'n'), {
    caseId: ec.case.id, specId: 't.check', abi: 'x86_64', target: 'n', status: 'skip', reason: 'no vsyscall page', diffs: [],
    observation: obs({ outcome: 'unsupported', reason: 'no vsyscall page' }),
  });
  const e = check(ec, obs({ outcome: 'error', reason: 'probe crashed (SIGSEGV)' }), 'n');
  t.same([e.status, e.reason], ['error', 'probe crashed (SIGSEGV)']);
  const to = check(ec, obs({ outcome: 'timeout' }), 'n');
  t.equal(to.status, 'fail');
  t.match(to.reason, /^timeout/);
  const sk = kase('call: getpid\nskip: { x86_64: "not here" }\nexpect: { ret: 1 }');
  t.same([check(sk, obs(), 'n').status, check(sk, obs(), 'n').reason], ['skip', 'not here']);
});
