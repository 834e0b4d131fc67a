// sysabi diff (harness/diff.ts): field-by-field comparison through env facts, driven by two
// fake targets (harness/targets/fake.ts), so each kind of difference is planted on purpose.

import t from 'tap';
import { RFLAGS_USER_DEFAULT } from '../../abi/constants.js';
import type { Case, Observation } from '../../harness/contracts.js';
import { compareObservations, diffResults, renderDiffText, runDiff } from '../../harness/diff.js';
import { createFakeTarget } from '../../harness/targets/fake.js';
import type { RunnableCase, SpecApi } from '../../harness/run.js';

const CASE: Case = {
  id: 's/c@x86_64', spec: 's', abi: 'x86_64', entry: 'syscall', code: '64', nr: 39n, regs: { rbx: { lit: 7n } },
  rflags: RFLAGS_USER_DEFAULT, flags: [], fds: [], signals: { actions: {}, blocked: [] }, isolate: false, timeoutMs: 1000,
  memory: [{ name: 'buf', size: 16, hex: '', fill: 0, prot: 'rw', place: 'anywhere', readback: true }],
};

const obs = (pid: bigint, next: bigint, buf: bigint, extra: Partial<Observation> = {}): Observation => ({
  id: CASE.id, outcome: 'returned',
  before: { rbx: 7n, rsp: buf + 0x1000n, rflags: 0x202n, rcx: 0x5an },
  after: { rax: pid, rbx: 7n, rcx: next, rsp: buf + 0x1000n, fs_base: buf + 0x500n },
  env: { pid, next_ip: next, bufs: { buf } },
  ...extra,
});

t.test('target-specific values compare through each side\'s facts', async (t) => {
  const a = obs(100n, 0x401002n, 0x7000n);
  const b = obs(200n, 0x5000a0n, 0x9000n);
  t.same(compareObservations(a, b, CASE), [], 'pid, next_ip, unchanged rsp, TLS base: no difference');
});

t.test('real differences are listed field by field', async (t) => {
  const a = obs(100n, 0x401002n, 0x7000n, { memory: { buf: '00'.repeat(16) } });
  const b = obs(200n, 0x5000a0n, 0x9000n, {
    memory: { buf: '00'.repeat(8) + 'ff' + '00'.repeat(7) },
    signal: { signo: 11, code: 1, errno: 0, addr: 0x9008n, regs: {} },
    traps: 1,
  });
  b.after!.rcx = 0x5an; // RCX kept (what FRED does), not next_ip
  b.after!.rax = 100n; // the other side's pid: raw-equal is equal
  b.before.rbx = 8n;
  const d = compareObservations(a, b, CASE);
  const fields = d.map((x) => x.field);
  t.same(fields, ['before.rbx', 'after.rcx', 'signal', 'traps', 'memory.buf']);
  t.match(d[1]!.a, /\$next_ip/);
  t.match(d[1]!.b, /before\.rcx/);
  t.match(d[4]!.b, /at byte 8 of 16/);
  const sa = { ...a, outcome: 'signal' as const, signal: { signo: 11, code: 1, errno: 0, addr: 0x7008n, regs: {} } };
  const sb = { ...b, outcome: 'signal' as const, traps: 0, memory: a.memory, before: a.before, after: a.after && { ...a.after, rax: 200n } };
  t.same(compareObservations(sa, sb, CASE).map((x) => x.field), [], 'a fault at buf+8 on both sides is the same');
  sb.signal = { ...sb.signal!, addr: 0x9010n };
  t.same(compareObservations(sa, sb, CASE).map((x) => x.field), ['signal.addr'], 'buf+8 vs one past the end differ');
});

t.test('runDiff on two fake targets: differences even where both pass, skips not compared', async (t) => {
  const ec = (c: Case): RunnableCase => ({ case: c, requires: {}, spec: { id: c.spec, title: 't', refs: [], tags: [], file: 'x.yaml' }, name: 'c', line: 1 });
  const c2: Case = { ...CASE, id: 's/d@x86_64' };
  const c3: Case = { ...CASE, id: 's/e@i386', abi: 'i386', code: 'compat' };
  const A = createFakeTarget({ name: 'fa', script: (c) => ({ ...obs(100n, 0x401002n, 0x7000n), id: c.id }) });
  const B = createFakeTarget({
    name: 'fb',
    noAbi: { i386: 'no i386 here' },
    script: (c) => (c.id === c2.id ? { ...obs(200n, 0x5000a0n, 0x9000n), id: c.id, after: { rax: 200n, rbx: 7n, rcx: 0x5000a0n, rsp: 0x9000n + 0x1000n, r11: 0x202n } } : { ...obs(200n, 0x5000a0n, 0x9000n), id: c.id }),
  });
  const api: SpecApi = {
    unmetRequirement: () => null,
    check: (e, o, target) => ({ caseId: e.case.id, specId: e.case.spec, abi: e.case.abi, target, status: 'pass', diffs: [], observation: o }),
  };
  const rep = await runDiff([ec(CASE), ec(c2), ec(c3)], [A, B], { api, expectationsDir: '/nonexistent-sysabi-expectations' });
  t.equal(rep.compared, 2);
  t.same(rep.differing.map((d) => d.caseId), [c2.id]);
  t.same(rep.differing[0]!.status, ['pass', 'pass'], 'both pass the spec, still a difference');
  t.same(rep.differing[0]!.diffs.map((d) => d.field), ['after.r11', 'after.fs_base']);
  t.same(rep.notCompared.map((n) => n.caseId), [c3.id]);
  t.match(rep.notCompared[0]!.why, /fb: skip: i386 not available on fb: no i386 here/);
  const text = renderDiffText(rep, true);
  t.match(text, /2 compared, 1 differ \(1 of them pass the spec on both\), 1 not compared/);
  t.match(text, /after\.r11: a \(absent\)  \|  b 0x202/);
});

t.test('diffResults pairs by case id', async (t) => {
  const o = obs(1n, 2n, 0x7000n);
  const r = (status: 'pass' | 'fail', observation?: Observation) => ({ caseId: CASE.id, specId: 's', abi: 'x86_64' as const, target: 'x', status, diffs: [], observation });
  const rep = diffResults(['a', 'b'], [{ case: CASE }], [r('pass', o)], [r('fail', { ...o, outcome: 'timeout' })]);
  t.same(rep.differing[0]!.diffs[0], { field: 'outcome', a: 'returned', b: 'timeout' });
  t.same(rep.differing[0]!.status, ['pass', 'fail']);
});
