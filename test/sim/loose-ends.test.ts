// Tests of five loose ends fixed in session 2: gettid in a case's second thread and the
// $thread_tid symbol; SECCOMP_RET_KILL_PROCESS's value (and RET_LOG's) on kernels before 4.14;
// the x32 rt_sigreturn frame in the simulator. Each runs the simulator or the loader on small
// inline specs and asserts what would differ without the fix.

import t from 'tap';
import { parseSpecText } from '../../harness/spec/load.js';
import { expandChecked, type ExpandedCase } from '../../harness/spec/expand.js';
import type { SpecError } from '../../harness/spec/errors.js';
import { check } from '../../harness/check.js';
import { runCase } from '../../sim/kernel/run.js';
import { PROFILES } from '../../sim/profiles.js';
import { THREAD_TID } from '../../sim/kernel/thread.js';
import { SeccompState, seccompData } from '../../sim/kernel/seccomp/filter.js';
import { SIGNALS } from '../../abi/constants.js';
import { SECCOMP_RET, BPF_RET, BPF_K } from '../../harness/seccomp/uapi.js';
import type { Observation } from '../../harness/contracts.js';

function inline(body: string, tags = 'seccomp'): { cases: ExpandedCase[]; errors: SpecError[] } {
  const text = `id: t.loose\ntitle: t\ndescription: d\nrefs: [{kernel: k}]\ntags: [${tags}]\n${body}`;
  const r = parseSpecText('inline.yaml', text);
  if (!r.spec) return { cases: [], errors: r.errors };
  const errors: SpecError[] = [];
  return { cases: expandChecked(r.spec, errors), errors };
}
const run = (ec: ExpandedCase, p: string): Observation => runCase(ec.case, PROFILES[p]!);
const byAbi = (cs: ExpandedCase[], abi: string): ExpandedCase => {
  const c = cs.find((x) => x.case.abi === abi);
  if (!c) throw new Error(`no ${abi} case among ${cs.map((x) => x.case.id).join(', ')}`);
  return c;
};

t.test('gettid in the second thread returns the thread\'s tid; $tid stays the main thread\'s', async (t) => {
  const a = inline(`abi: [x86_64, i386, x32]
cases:
  - name: c
    call: gettid
    thread: true
    expect: { ret: $thread_tid, thread: returned }
`);
  t.same(a.errors, []);
  for (const abi of ['x86_64', 'i386', 'x32']) {
    const ec = byAbi(a.cases, abi);
    const o = run(ec, 'linux-7.0-intel-x32');
    t.equal(o.outcome, 'returned', abi);
    t.equal(o.thread?.tid, THREAD_TID, `${abi}: the report names the second thread`);
    // The low 32 bits of rax: gettid's pid_t.
    t.equal(BigInt.asUintN(32, o.after!.rax!), THREAD_TID, `${abi}: gettid is the calling task's id`);
    t.not(o.env.tid, THREAD_TID, `${abi}: $tid is the main thread's`);
    t.equal(o.env.tid, o.env.pid, `${abi}: the main thread's tid is the pid`);
    t.equal(check(ec, o, 'sim').status, 'pass', `${abi}: ret: $thread_tid holds`);
  }
  // Without a second thread gettid is the pid, and $thread_tid is refused at load time.
  const single = inline(`abi: [x86_64]
cases:
  - name: c
    call: gettid
    expect: { ret: $thread_tid }
`);
  const msg = single.errors.map((e) => `${e.line}:${e.col} ${e.message}`).join('\n');
  t.match(msg, /\$thread_tid is the id of the case's second thread, but this case has no thread:/);
  t.ok(single.errors.every((e) => e.line > 0 && e.col > 0), 'file:line:col');
});

t.test('check: $thread_tid without a thread report is an error, not a pass or fail', async (t) => {
  const a = inline(`abi: [x86_64]
cases:
  - name: c
    call: gettid
    thread: true
    expect: { ret: $thread_tid }
`);
  const ec = byAbi(a.cases, 'x86_64');
  const o: Observation = { id: ec.case.id, outcome: 'returned', before: {}, after: { rax: 77n }, env: { pid: 5n, tid: 5n } };
  t.equal(check(ec, o, 'x').status, 'error');
  t.equal(check(ec, { ...o, thread: { tid: 77n, ended: 'returned' } }, 'x').status, 'pass');
  t.equal(check(ec, { ...o, thread: { tid: 78n, ended: 'returned' } }, 'x').status, 'fail');
});

t.test('KILL_PROCESS\'s value before 4.14: an unknown action that kills the calling thread only', async (t) => {
  const a = inline(`abi: [x86_64, i386]
requires: { features: [seccomp] }
cases:
  - name: c
    call: getppid
    thread: true
    seccomp: [{ rules: [{ syscall: getppid, action: kill_process }, { default: allow }] }]
    expect: { thread: killed, process: alive }
`);
  t.same(a.errors, []);
  for (const abi of ['x86_64', 'i386']) {
    const ec = byAbi(a.cases, abi);
    const old = run(ec, 'linux-4.0-amd');
    t.equal(old.outcome, 'killed', `${abi} 4.0`);
    t.equal(old.exit, undefined, `${abi} 4.0: the process has no exit status, it lives on`);
    t.equal(old.thread?.ended, 'killed', `${abi} 4.0: the main thread reports`);
    const now = run(ec, 'linux-4.16-intel');
    t.same(now.exit, { signal: SIGNALS.SIGSYS }, `${abi} 4.16: the whole process dies`);
    t.equal(now.thread, undefined, `${abi} 4.16: no thread report`);
  }
});

t.test('seccomp verdicts before 4.14: ACTION mask, KILL_THREAD for unknown values, LOG unknown', async (t) => {
  const ret = (v: number) => [{ code: BPF_RET | BPF_K, jt: 0, jf: 0, k: v >>> 0 }];
  const data = seccompData('x86_64', 110, 0x1000n); // getppid
  const state = (kernel: string, ...vals: number[]) => {
    const s = new SeccompState({ kernel });
    for (const v of vals) t.ok(s.install({ mode: 'filter', program: ret(v) }, { noNewPrivs: true, capSysAdmin: false }).ok);
    return s;
  };
  const kp = state('4.0', SECCOMP_RET.KILL_PROCESS).evaluate(data);
  t.equal(kp.action, 'kill_thread');
  // Bit 31 masked off, the kernel sees SECCOMP_RET_KILL itself, not its default branch.
  t.equal(kp.unknown, false);
  t.equal(state('4.0', 0x7f000000).evaluate(data).unknown, true, 'an unknown value is flagged');
  t.equal(state('4.0', 0x7f000000).evaluate(data).action, 'kill_thread');
  t.equal(state('4.14', SECCOMP_RET.KILL_PROCESS).evaluate(data).action, 'kill_process');
  t.equal(state('4.13', SECCOMP_RET.LOG).evaluate(data).action, 'kill_thread');
  t.equal(state('4.14', SECCOMP_RET.LOG).evaluate(data).action, 'log');
  // 4.14..4.20: USER_NOTIF's value is unknown → KILL_PROCESS; from 5.0 it is user_notif.
  t.equal(state('4.16', SECCOMP_RET.USER_NOTIF).evaluate(data).action, 'kill_process');
  t.equal(state('5.0', SECCOMP_RET.USER_NOTIF).evaluate(data).action, 'user_notif');
  // Before 4.14 the masked value 0x80000000 ranks as 0, tied with KILL: the newest filter wins
  // the tie. Since 4.14 it ranks below everything (signed), so the older KILL_PROCESS wins.
  const tie = state('4.0', SECCOMP_RET.KILL_PROCESS, SECCOMP_RET.KILL_THREAD).evaluate(data);
  t.equal(tie.filterIndex, 1, 'the newest filter (KILL_THREAD) keeps the tie');
  t.equal(state('4.14', SECCOMP_RET.KILL_PROCESS, SECCOMP_RET.KILL_THREAD).evaluate(data).filterIndex, 0);
  // Below KILL, ERRNO still beats ALLOW with the old mask.
  t.equal(state('4.0', SECCOMP_RET.ALLOW, SECCOMP_RET.ERRNO | 5).evaluate(data).action, 'errno');
});

t.test('x32 entry: sigreturn restores the 64-bit registers of struct rt_sigframe_x32', async (t) => {
  const a = inline(`abi: [x32]
entry: sigreturn
cases:
  - name: c
    sigreturn: { rcx: 0x1234_5678_9abc_def0, r11: 0x246, rbx: 0xffff_0000_ffff_0000, rax: 0x7777_0000_0000_0001 }
    expect: { rcx: 0x1234_5678_9abc_def0, rbx: 0xffff_0000_ffff_0000, rax: 0x7777_0000_0000_0001 }
`, 'return-path, signals');
  t.same(a.errors, []);
  const ec = byAbi(a.cases, 'x32');
  for (const p of ['linux-7.0-intel-x32', 'linux-5.10-amd-x32']) {
    const o = run(ec, p);
    t.equal(o.outcome, 'returned', `${p}: ${o.reason ?? ''}`);
    // Full 64-bit values: the x32 frame's sigcontext is the 64-bit one, not sigcontext_32.
    t.equal(o.after?.rcx, 0x1234_5678_9abc_def0n, p);
    t.equal(o.after?.rbx, 0xffff_0000_ffff_0000n, p);
    t.equal(o.after?.rax, 0x7777_0000_0000_0001n, `${p}: rt_sigreturn returns the restored rax`);
    t.equal(check(ec, o, p).status, 'pass', p);
  }
  // On a profile without x32 the case is not run at all (requires), so nothing to model there.
});

t.test('loader: set-up calls that move the probe\'s libc thread pointer are refused at file:line:col', async (t) => {
  const msgs = (body: string): string[] => inline(body, 'segments').errors.map((e) => `${e.line}:${e.col} ${e.message}`);
  const fs = msgs(`abi: [x86_64, x32]
cases:
  - name: c
    setup: [ { call: arch_prctl, args: [0x1002, 0x10000] } ]
    call: getpid
    expect: { ret: $pid }
`);
  t.equal(fs.length, 1, 'one error for both ABIs (the same place)');
  t.match(fs[0], /^9:\d+ set-up call 1: arch_prctl\(ARCH_SET_FS\) moves the FS base, which holds the native probe's C-library thread pointer/);
  // GS, an ARCH_SET_FS that must fail, and ARCH_SET_FS as the call under test are fine.
  t.same(msgs(`abi: [x86_64]
cases:
  - name: gs
    setup: [ { call: arch_prctl, args: [0x1001, 0x10000] } ]
    call: getpid
    expect: { ret: $pid }
  - name: failing fs
    setup: [ { call: arch_prctl, args: [0x1002, 0xffff800000000000], expect_errno: EPERM } ]
    call: getpid
    expect: { ret: $pid }
  - name: own call
    call: arch_prctl
    args: [0x1002, 0x10000]
    expect: { ret: 0 }
`), []);
  const tls = (entry: string) => msgs(`abi: [i386]
cases:
  - name: c
    memory:
      u: { size: 16, hex: "${entry} 00000000 ffff0f00 51000000", place: low32 }
    setup: [ { call: set_thread_area, args: [buf:u] } ]
    call: getpid
    expect: { ret: $pid }
`);
  t.match(tls('0c000000').join('\n'), /set-up call 1: set_thread_area of entry 12 rewrites the TLS descriptor GS selects/);
  t.same(tls('0d000000'), [], 'entry 13 is free for cases');
  t.same(tls('ffffffff'), [], 'entry -1: the kernel picks a free one');
});

t.test('sim: a fault\'s frame goes on the alternate stack; none usable → force_sigsegv', async (t) => {
  const body = (setup: string) => `abi: [x86_64]
entry: sigreturn
cases:
  - name: c
    sigreturn: { rip: 0x1000, rsp: 0 }
${setup}    expect: { outcome: returned }
`;
  const run1 = (setup: string): Observation => run(byAbi(inline(body(setup), 'signals').cases, 'x86_64'), 'linux-7.0-intel');
  // The probe's own alternate stack (the default) takes the #PF's frame although RSP = 0.
  const own = run1('');
  t.equal(own.outcome, 'signal');
  t.equal(own.signal?.signo, SIGNALS.SIGSEGV);
  const disabled = run1(`    memory: { ss: { hex: "0000000000000000 02000000 00000000 0000000000000000" } }
    setup: [ { call: sigaltstack, args: [buf:ss, 0] } ]
`);
  t.equal(disabled.outcome, 'killed', 'SS_DISABLE: the frame would go at RSP 0');
  t.same(disabled.exit, { signal: SIGNALS.SIGSEGV });
  const readOnly = run1(`    memory:
      alt: { size: 65536, at: 0x5a000000, prot: r }
      ss: { hex: "0000005a00000000 00000000 00000000 0000010000000000" }
    setup: [ { call: sigaltstack, args: [buf:ss, 0] } ]
`);
  t.equal(readOnly.outcome, 'killed', 'a read-only alternate stack cannot take the frame');
  const usable = run1(`    memory:
      alt: { size: 65536, at: 0x5a000000 }
      ss: { hex: "0000005a00000000 00000000 00000000 0000010000000000" }
    setup: [ { call: sigaltstack, args: [buf:ss, 0] } ]
`);
  t.equal(usable.outcome, 'signal', "the case's own writable alternate stack takes it");
});
