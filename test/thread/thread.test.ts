// Tests of Case.thread (SC-04/05/06): the spec language (`thread:`, expect.thread/process,
// seccomp_install thread_tid) and its loader errors, the probe protocol lines and the decoding of
// the probe's thread report, check() against hand-made observations, and the simulator's thread
// model (KILL_THREAD vs KILL_PROCESS with two live threads, TSYNC and its refusals, version gates).
// The native probe is exercised by the specs themselves (specs/seccomp/*thread*, tsync*).

import t from 'tap';
import { parseSpecText } from '../../harness/spec/load.js';
import { expandChecked, type ExpandedCase } from '../../harness/spec/expand.js';
import type { SpecError } from '../../harness/spec/errors.js';
import { check } from '../../harness/check.js';
import { encodeCase, decodeObservation } from '../../harness/targets/probe-runner.js';
import { runCase } from '../../sim/kernel/run.js';
import { PROFILES } from '../../sim/profiles.js';
import { SeccompState } from '../../sim/kernel/seccomp/filter.js';
import { THREAD_TID } from '../../sim/kernel/thread.js';
import { ERRNO, SIGNALS } from '../../abi/constants.js';
import { SECCOMP_FILTER_FLAG, SECCOMP_RET, BPF_RET, BPF_K } from '../../harness/seccomp/uapi.js';
import type { Observation, Profile } from '../../harness/contracts.js';

function inline(body: string): { cases: ExpandedCase[]; errors: SpecError[] } {
  const text = `id: t.thread\ntitle: t\ndescription: d\nrefs: [{kernel: k}]\ntags: [seccomp]\n${body}`;
  const r = parseSpecText('inline.yaml', text);
  if (!r.spec) return { cases: [], errors: r.errors };
  const errors: SpecError[] = [];
  return { cases: expandChecked(r.spec, errors), errors };
}

const rule = (action: string, call = 'getppid') => `{ rules: [{ syscall: ${call}, action: ${action} }, { default: allow }] }`;
const one = (thread: string, seccomp: string, expect: string, extra = '') => `abi: [x86_64, i386, x32]
cases:
  - name: c
    call: getppid
    thread: ${thread}
    seccomp: [${seccomp}]
${extra}    expect: ${expect}
`;
const profile = (name: string): Profile => PROFILES[name]!;
const run = (ec: ExpandedCase, p: string): Observation => runCase(ec.case, profile(p));
const byAbi = (cs: ExpandedCase[], abi: string): ExpandedCase => cs.find((c) => c.case.abi === abi)!;

t.test('spec language: thread: true and the object form build Case.thread; isolate is implied', async (t) => {
  const a = inline(one('true', rule('kill_thread'), '{ thread: killed, process: alive }'));
  t.same(a.errors, []);
  const c = byAbi(a.cases, 'x86_64');
  t.same(c.case.thread, { mainSeccomp: 'before' });
  t.equal(c.case.isolate, true);
  t.equal(c.expect.threadEnded, 'killed');
  t.equal(c.expect.process, 'alive');
  const b = inline(one(`{ main_seccomp: after, seccomp: [${rule('errno(E2BIG)')}] }`, `{ rules: [{ syscall: getppid, action: errno(EDOM) }, { default: allow }], flags: [tsync] }`,
    '{ errno: E2BIG, seccomp_install: [thread_tid] }'));
  t.same(b.errors, []);
  const d = byAbi(b.cases, 'i386');
  t.equal(d.case.thread!.mainSeccomp, 'after');
  t.equal(d.case.thread!.seccomp!.length, 1);
  // The thread's own program is compiled like any filter: it ends in a RET.
  const last = d.case.thread!.seccomp![0]!.at(-1)!;
  t.equal(last.code, BPF_RET | BPF_K);
  t.same(d.expect.seccompInstall, [{ errno: 0, name: 'thread_tid', threadTid: true }]);
});

t.test('loader errors: place and reason', async (t) => {
  const noThread = inline(`cases:
  - name: c
    call: getppid
    expect: { thread: killed }
`);
  t.match(noThread.errors.map((e) => e.message).join('\n'), /expect.thread is about the case's second thread/);
  t.ok(noThread.errors.every((e) => e.line > 0 && e.col > 0), 'file:line:col');
  const tid = inline(`cases:
  - name: c
    call: getppid
    seccomp: [${rule('errno(EDOM)')}]
    expect: { seccomp_install: [thread_tid] }
`);
  t.match(tid.errors.map((e) => e.message).join('\n'), /thread_tid is the id of the case's second thread/);
  const strict = inline(`cases:
  - name: c
    call: getppid
    thread: true
    seccomp: strict
    expect: { thread: killed }
`);
  t.match(strict.errors.map((e) => e.message).join('\n'), /strict mode/);
  const ptrace = inline(`cases:
  - name: c
    call: getppid
    thread: true
    ptrace: { mode: syscall }
    expect: { ret: 0 }
`);
  t.match(ptrace.errors.map((e) => e.message).join('\n'), /cannot be combined with ptrace/);
  const contra = inline(one('true', rule('kill_process'), '{ killed: SIGSYS, process: alive }'));
  t.match(contra.errors.map((e) => e.message).join('\n'), /process: alive contradicts killed: SIGSYS/);
  const mainNoSc = inline(`cases:
  - name: c
    call: getppid
    thread: { main_seccomp: after }
    expect: { ret: 0 }
`);
  t.match(mainNoSc.errors.map((e) => e.message).join('\n'), /no seccomp:/);
  const badKey = inline(`cases:
  - name: c
    call: getppid
    thread: { main_seccomp: later }
    expect: { ret: 0 }
`);
  // Five header lines, then the case: `thread:` is on line 9, its bad value at column 29.
  t.match(badKey.errors[0], { line: 9, col: 29, message: /main_seccomp: unknown value "later" \(did you mean "after"\?\)/ });
});

t.test('probe protocol: thread lines out, the thread report in', async (t) => {
  const { cases } = inline(one(`{ main_seccomp: after, seccomp: [${rule('errno(E2BIG)')}] }`, rule('errno(EDOM)'), '{ errno: E2BIG }'));
  const c = byAbi(cases, 'x86_64').case;
  const lines = encodeCase(c).split('\n');
  t.ok(lines.includes('thread after'), 'thread after');
  const tf = lines.filter((l) => l.startsWith('tfilter '));
  t.equal(tf.length, 1);
  const [, n, hex] = tf[0]!.split(' ');
  t.equal(Number(n), c.thread!.seccomp![0]!.length);
  t.equal(hex!.length, 16 * Number(n), '16 hex digits per instruction');
  // Filters come before the thread lines (the probe parses them into two separate sets).
  t.ok(lines.findIndex((l) => l.startsWith('filter')) < lines.indexOf('thread after'));
  const o = decodeObservation(JSON.stringify({ id: c.id, outcome: 'killed', before: {}, env: {}, thread: { tid: '0x1f', ended: 'killed' } }), c);
  t.same(o.thread, { tid: 0x1fn, ended: 'killed' });
  t.throws(() => decodeObservation(JSON.stringify({ id: c.id, outcome: 'returned', before: {}, env: {}, thread: { tid: '0x1', ended: 'died' } }), c), /thread.ended/);
  t.throws(() => decodeObservation(JSON.stringify({ id: c.id, outcome: 'returned', before: {}, env: {}, thread: 3 }), c), /thread: expected an object/);
});

t.test('check(): thread and process against observations', async (t) => {
  const kt = byAbi(inline(one('true', rule('kill_thread'), '{ thread: killed, process: alive }')).cases, 'x86_64');
  const threadKilled: Observation = { id: kt.case.id, outcome: 'killed', before: {}, env: {}, thread: { tid: 7n, ended: 'killed' } };
  const processKilled: Observation = { id: kt.case.id, outcome: 'killed', before: {}, env: {}, exit: { signal: SIGNALS.SIGSYS } };
  t.equal(check(kt, threadKilled, 'x').status, 'pass');
  const r = check(kt, processKilled, 'x');
  t.equal(r.status, 'fail');
  t.match(r.reason!, /process/);
  t.match(JSON.stringify(r.diffs), /the process was killed by SIGSYS/);
  const kp = byAbi(inline(one('true', rule('kill_process'), '{ killed: SIGSYS, process: killed }')).cases, 'x86_64');
  t.equal(check(kp, processKilled, 'x').status, 'pass');
  const r2 = check(kp, threadKilled, 'x');
  t.equal(r2.status, 'fail', 'a thread killed alone is not the process killed');
  t.match(JSON.stringify(r2.diffs), /lived on/);
  // A report without the thread part is a missing fact (the target's defect), an error.
  const ret = byAbi(inline(one('true', rule('errno(EDOM)'), '{ errno: EDOM, process: alive }')).cases, 'x86_64');
  const noReport: Observation = { id: ret.case.id, outcome: 'returned', before: {}, after: { rax: -33n }, env: {} };
  t.equal(check(ret, noReport, 'x').status, 'error');
  t.equal(check(ret, { ...noReport, thread: { tid: 9n, ended: 'returned' } }, 'x').status, 'pass');
});

t.test('check(): TSYNC results — thread_tid, and a positive tid is not ok', async (t) => {
  const sc = `{ rules: [{ syscall: getppid, action: errno(EDOM) }, { default: allow }], flags: [tsync] }`;
  const c = byAbi(inline(one('{ main_seccomp: after }', sc, '{ errno: EDOM, seccomp_install: [thread_tid] }')).cases, 'x86_64');
  const base: Observation = { id: c.case.id, outcome: 'returned', before: {}, after: { rax: BigInt(-ERRNO.EDOM) }, env: {}, thread: { tid: 1234n, ended: 'returned' } };
  t.equal(check(c, { ...base, seccomp_install: [{ ret: 1234, errno: 0 }] }, 'x').status, 'pass');
  t.equal(check(c, { ...base, seccomp_install: [{ ret: 1235, errno: 0 }] }, 'x').status, 'fail', 'another tid');
  t.equal(check(c, { ...base, seccomp_install: [{ ret: 0, errno: 0 }] }, 'x').status, 'fail', 'TSYNC succeeded');
  const okc = byAbi(inline(one('{ main_seccomp: after }', sc, '{ errno: EDOM, seccomp_install: [ok] }')).cases, 'x86_64');
  const r = check(okc, { ...base, seccomp_install: [{ ret: 1234, errno: 0 }] }, 'x');
  t.equal(r.status, 'fail', 'ok does not match a TSYNC refusal');
  t.match(r.reason!, /TSYNC refused/);
  const none = byAbi(inline(one('{ main_seccomp: after }', sc, '{ errno: EDOM }')).cases, 'x86_64');
  const e = check(none, { ...base, seccomp_install: [{ ret: 1234, errno: 0 }] }, 'x');
  t.equal(e.status, 'error', 'an unexpected TSYNC refusal: the set-up did not happen');
  t.match(e.reason!, /TSYNC returned thread 1234/);
});

t.test('sim: KILL_THREAD ends only the thread; KILL_PROCESS the process; before 4.14 unknown actions', async (t) => {
  const kt = inline(one('true', rule('kill_thread'), '{ thread: killed, process: alive }')).cases;
  for (const p of ['linux-7.0-intel-x32', 'linux-4.16-intel', 'linux-4.0-amd']) {
    const o = run(byAbi(kt, 'x86_64'), p);
    t.equal(o.outcome, 'killed', p);
    t.equal(o.exit, undefined, `${p}: no exit status: the process lived on`);
    t.same(o.thread, { tid: THREAD_TID, ended: 'killed' }, p);
  }
  // The same filter without a thread: the only thread dies and the process with it.
  const single = inline(`abi: [x86_64]
cases:
  - name: c
    call: getppid
    seccomp: [${rule('kill_thread')}]
    expect: { killed: SIGSYS }
`).cases[0]!;
  const os = run(single, 'linux-7.0-intel-x32');
  t.same(os.exit, { signal: SIGNALS.SIGSYS });
  t.equal(os.thread, undefined);
  const kp = inline(one('true', rule('kill_process'), '{ killed: SIGSYS, process: killed }')).cases;
  for (const abi of ['x86_64', 'i386', 'x32']) {
    const o = run(byAbi(kp, abi), 'linux-7.0-intel-x32');
    t.same(o.exit, { signal: SIGNALS.SIGSYS }, abi);
    t.equal(o.thread, undefined, `${abi}: no report from a dead main thread`);
  }
  // Precedence (SC-05) in both orders: KILL_PROCESS wins.
  for (const order of [[rule('kill_process'), rule('kill_thread')], [rule('kill_thread'), rule('kill_process')]]) {
    const c = byAbi(inline(one('true', order.join(', '), '{ killed: SIGSYS }')).cases, 'x86_64');
    t.same(run(c, 'linux-7.0-intel-x32').exit, { signal: SIGNALS.SIGSYS }, order.join(' then '));
  }
});

t.test('sim: TSYNC syncs an existing sibling, refuses a diverged one (tid / ESRCH), gates', async (t) => {
  const ts = `{ rules: [{ syscall: getppid, action: errno(EDOM) }, { default: allow }], flags: [tsync] }`;
  const yes = byAbi(inline(one('{ main_seccomp: after }', ts, '{ errno: EDOM }')).cases, 'x86_64');
  const o = run(yes, 'linux-7.0-intel-x32');
  t.equal(o.after!.rax, BigInt.asUintN(64, BigInt(-ERRNO.EDOM)));
  t.same(o.seccomp_install, [{ ret: 0, errno: 0 }]);
  const no = byAbi(inline(one('{ main_seccomp: after }', rule('errno(EDOM)'), '{ ret: $ppid }')).cases, 'x86_64');
  const on = run(no, 'linux-7.0-intel-x32');
  t.not(on.after!.rax, BigInt.asUintN(64, BigInt(-ERRNO.EDOM)), 'without TSYNC the sibling is unfiltered');
  const div = `{ main_seccomp: after, seccomp: [${rule('errno(E2BIG)')}] }`;
  const d = byAbi(inline(one(div, ts, '{ errno: E2BIG }')).cases, 'i386');
  const od = run(d, 'linux-7.0-intel-x32');
  t.same(od.seccomp_install, [{ ret: Number(THREAD_TID), errno: 0 }]);
  t.equal(BigInt.asUintN(32, od.after!.rax!), BigInt.asUintN(32, BigInt(-ERRNO.E2BIG)), 'the thread keeps its own filter only');
  const esrch = `{ rules: [{ syscall: getppid, action: errno(EDOM) }, { default: allow }], flags: [tsync, tsync_esrch] }`;
  const e = byAbi(inline(one(div, esrch, '{ errno: E2BIG }')).cases, 'x86_64');
  t.same(run(e, 'linux-7.0-intel-x32').seccomp_install, [{ ret: -1, errno: ERRNO.ESRCH }]);
  // TSYNC_ESRCH is v5.7: an older kernel refuses the unknown flag.
  t.same(run(e, 'linux-4.16-intel').seccomp_install, [{ ret: -1, errno: ERRNO.EINVAL }]);
  // A sibling whose filter the caller's tree descends from is synced (inherited before the clone).
  const anc = `abi: [x86_64]
cases:
  - name: c
    call: getpid
    thread: true
    seccomp: [${rule('errno(EDOM)')}, { rules: [{ syscall: getpid, action: errno(ERANGE) }, { default: allow }], flags: [tsync] }]
    expect: { errno: ERANGE }
`;
  const oa = run(inline(anc).cases[0]!, 'linux-7.0-intel-x32');
  t.same(oa.seccomp_install, [{ ret: 0, errno: 0 }, { ret: 0, errno: 0 }]);
});

t.test('SeccompState: is_ancestor and seccomp_sync_threads', async (t) => {
  const allow = [{ code: BPF_RET | BPF_K, jt: 0, jf: 0, k: SECCOMP_RET.ALLOW >>> 0 }];
  const creds = { noNewPrivs: true, capSysAdmin: false };
  const main = new SeccompState({ kernel: '6.18' });
  const sib = new SeccompState({ kernel: '6.18' });
  t.ok(sib.isAncestorOf(main), 'no filter is the root of every tree');
  t.ok(main.install({ mode: 'filter', program: allow }, creds).ok);
  const child = main.fork();
  t.ok(main.isAncestorOf(child) && child.isAncestorOf(main));
  t.ok(child.install({ mode: 'filter', program: allow }, creds).ok);
  t.ok(main.isAncestorOf(child));
  t.notOk(child.isAncestorOf(main), 'a newer filter of the child is not in the main tree');
  let nnp = false;
  const r = main.install({ mode: 'filter', program: allow, flags: SECCOMP_FILTER_FLAG.TSYNC }, creds, [{ tid: 99n, seccomp: sib, setNoNewPrivs: () => { nnp = true; } }]);
  t.ok(r.ok);
  t.equal(sib.filterCount, 2);
  t.equal(sib.mode, 'filter');
  t.ok(nnp, 'NO_NEW_PRIVS follows the caller');
  const bad = main.install({ mode: 'filter', program: allow, flags: SECCOMP_FILTER_FLAG.TSYNC }, creds, [{ tid: 77n, seccomp: child, setNoNewPrivs: () => {} }]);
  t.same(bad.ok ? null : { errno: bad.errno, ret: bad.ret }, { errno: 0, ret: 77 });
  t.equal(main.filterCount, 2, 'a refused TSYNC install adds nothing');
});
