// Tests of the simulator's seccomp filter stack (sim/kernel/seccomp/filter.ts) against the
// kernel's documented behaviour: install rules (SC-06), precedence across stacked filters and
// the most recent filter's data on ties (SC-05), the ERRNO cap, unknown actions, TRACE and
// USER_NOTIF without a listener (SC-04), strict mode (SC-07) and the arch seen for x32 (SC-02).

import t from 'tap';
import { ebpfLength, SeccompState, seccompData, STRICT_SYSCALLS } from '../../sim/kernel/seccomp/filter.js';
import type { BpfInsn } from '../../harness/contracts.js';

const I = (code: number, k = 0, jt = 0, jf = 0): BpfInsn => ({ code, jt, jf, k: k >>> 0 });
const RET = (k: number): BpfInsn[] => [I(0x06, k)];
const NNP = { noNewPrivs: true, capSysAdmin: false };
const E = { EPERM: 1, ENOENT: 2, E2BIG: 7, ENOMEM: 12, EACCES: 13, EFAULT: 14, EBUSY: 16, EINVAL: 22, ENOSYS: 38 };
const ALLOW = 0x7fff0000, ERRNO = 0x00050000, TRAP = 0x00030000, TRACE = 0x7ff00000, LOG = 0x7ffc0000;
const KILL_PROCESS = 0x80000000, KILL_THREAD = 0, USER_NOTIF = 0x7fc00000;

function stack(...progs: BpfInsn[][]): SeccompState {
  const s = new SeccompState();
  for (const p of progs) {
    const r = s.install({ mode: 'filter', program: p }, NNP);
    if (!r.ok) throw new Error(`install refused: ${r.reason}`);
  }
  return s;
}
const getpid = seccompData('x86_64', 39, 0x401000n);

t.test('install rules (SC-06)', async (t) => {
  const s = new SeccompState();
  t.equal(s.mode, 'disabled');
  t.equal(s.prctlValue, 0, 'PR_GET_SECCOMP 0 before');
  t.match(s.install({ mode: 'filter', program: RET(ALLOW) }, { noNewPrivs: false, capSysAdmin: false }),
    { ok: false, errno: E.EACCES, reason: /NO_NEW_PRIVS/ }, 'no NO_NEW_PRIVS, no CAP_SYS_ADMIN → EACCES');
  t.equal(s.mode, 'disabled', 'a refused install changes nothing');
  t.match(s.install({ mode: 'filter', program: RET(ALLOW) }, { noNewPrivs: false, capSysAdmin: true }), { ok: true }, 'CAP_SYS_ADMIN suffices');
  t.equal(s.prctlValue, 2, 'PR_GET_SECCOMP 2 in filter mode');
  t.match(s.install({ mode: 'filter', program: [] }, NNP), { ok: false, errno: E.EINVAL }, 'empty program → EINVAL');
  t.match(s.install({ mode: 'filter', program: [] }, { noNewPrivs: false, capSysAdmin: false }),
    { ok: false, errno: E.EINVAL }, 'the length is checked before the privilege (seccomp_prepare_filter)');
  t.match(s.install({ mode: 'filter', program: [I(0x20, 64), I(0x16)] }, NNP),
    { ok: false, errno: E.EINVAL, reason: /outside struct seccomp_data/ }, 'ld [64] → EINVAL');
  t.match(s.install({ mode: 'filter', program: null }, NNP), { ok: false, errno: E.EFAULT }, 'NULL program → EFAULT');
  t.match(s.install({ mode: 'strict' }, NNP), { ok: false, errno: E.EINVAL, reason: /filter mode to strict/ }, 'filter → strict → EINVAL');
  t.match(s.install({ mode: 'filter', program: RET(ALLOW), flags: 0x40 }, NNP), { ok: false, errno: E.EINVAL, reason: /unknown filter flags/ }, 'unknown flag');
  t.match(s.install({ mode: 'filter', program: RET(ALLOW), flags: 1 | 8 }, NNP), { ok: false, errno: E.EINVAL, reason: /TSYNC_ESRCH/ }, 'TSYNC|NEW_LISTENER without TSYNC_ESRCH');
  t.match(s.install({ mode: 'filter', program: RET(ALLOW), flags: 32 }, NNP), { ok: false, errno: E.EINVAL }, 'WAIT_KILLABLE_RECV without NEW_LISTENER');
  t.match(s.install({ mode: 'filter', program: RET(ALLOW), flags: 8 }, NNP), { ok: true, listener: true }, 'NEW_LISTENER');
  t.match(s.install({ mode: 'filter', program: RET(ALLOW), flags: 8 }, NNP), { ok: false, errno: E.EBUSY }, 'a second listener → EBUSY');
  t.equal(s.filterCount, 2, 'two filters installed');

  const old = new SeccompState({ kernel: '4.19' });
  t.match(old.install({ mode: 'filter', program: RET(ALLOW), flags: 8 }, NNP), { ok: false, errno: E.EINVAL }, 'NEW_LISTENER unknown before 5.0');
  t.equal(old.actionAvail(USER_NOTIF), -95, 'USER_NOTIF not available on 4.19 (EOPNOTSUPP)');
  t.equal(s.actionAvail(USER_NOTIF), 0, 'available on 7.0');
  t.equal(s.actionAvail(0x10000000), -95, 'an unknown action is not available');
});

t.test('strict mode (SC-07)', async (t) => {
  const s = new SeccompState();
  t.match(s.install({ mode: 'strict' }, { noNewPrivs: false, capSysAdmin: false }), { ok: true }, 'strict needs no NO_NEW_PRIVS');
  t.equal(s.prctlValue, 1);
  t.match(s.install({ mode: 'filter', program: RET(ALLOW) }, NNP), { ok: false, errno: E.EINVAL }, 'strict → filter → EINVAL');
  for (const nr of [0, 1, 60, 15]) t.equal(s.decide(seccompData('x86_64', nr)).kind, 'run', `x86_64 nr ${nr} allowed`);
  for (const nr of [3, 4, 1, 119]) t.equal(s.decide(seccompData('i386', nr)).kind, 'run', `i386 nr ${nr} allowed`);
  t.same(STRICT_SYSCALLS.native, [0, 1, 60, 15]);
  const prctl = s.decide(seccompData('x86_64', 157));
  t.match(prctl, { kind: 'kill', signal: 9, coreDump: false }, 'prctl → SIGKILL');
  t.match(s.decide(seccompData('x86_64', 231)), { kind: 'kill', signal: 9 }, 'exit_group is not exit → SIGKILL');
  t.match(s.decide(seccompData('i386', 3 + 0)), { kind: 'run' }, 'i386 read');
  t.match(s.decide(seccompData('i386', 0)), { kind: 'kill' }, 'i386 nr 0 (restart_syscall) is not read');
  t.match(s.decide(seccompData('x32', 0x40000000)), { kind: 'kill' }, 'x32 read (nr with bit 30) matches no list');
});

t.test('precedence across stacked filters (SC-05)', async (t) => {
  const s = stack(RET(ERRNO | 11), RET(ERRNO | 13), RET(ERRNO | 12));
  const v = s.evaluate(getpid);
  t.match(v, { action: 'errno', data: 12, filterIndex: 2 }, 'three ERRNO filters 11, 13, 12 → 12 (the newest)');
  t.match(s.decide(getpid), { kind: 'skip', ret: -12, why: 'errno' });

  const order = [KILL_PROCESS, KILL_THREAD, TRAP, ERRNO, USER_NOTIF, TRACE, LOG, ALLOW];
  const names = ['kill_process', 'kill_thread', 'trap', 'errno', 'user_notif', 'trace', 'log', 'allow'];
  for (let i = 0; i < order.length; i++) {
    for (let j = i + 1; j < order.length; j++) {
      // Install the weaker one last, so recency cannot explain the result.
      const v2 = stack(RET(order[i]!), RET(order[j]!)).evaluate(getpid);
      t.equal(v2.action, names[i], `${names[i]} beats ${names[j]}`);
    }
  }
  t.match(stack(RET(ALLOW), RET(ALLOW | 5)).evaluate(getpid), { action: 'allow', filterIndex: -1, raw: ALLOW },
    'an all-ALLOW stack: no filter "wins" and the data is dropped (ret starts at ALLOW)');
  t.match(stack(RET(TRACE | 1), RET(LOG)).evaluate(getpid), { action: 'trace', data: 1, filterIndex: 0 }, 'older filter wins when stricter');
});

t.test('ERRNO data (SC-04)', async (t) => {
  t.match(stack(RET(ERRNO | 4096)).decide(getpid), { kind: 'skip', ret: -4095 }, '4096 is capped to 4095');
  t.match(stack(RET(ERRNO | 0xffff)).evaluate(getpid), { data: 4095, raw: ERRNO | 0xffff }, '0xffff capped; raw kept');
  t.match(stack(RET(ERRNO | 0)).decide(getpid), { kind: 'skip', ret: 0 }, 'ERRNO|0 returns 0');
  t.match(stack(RET(ERRNO | E.E2BIG)).decide(getpid), { kind: 'skip', ret: -7 }, 'E2BIG');
});

t.test('unknown actions are KILL_PROCESS (v4.14+)', async (t) => {
  for (const raw of [0x10000000, 0x90000000, 0xaaaaaaaa]) {
    const o = stack(RET(raw)).decide(getpid);
    t.match(o, { kind: 'kill', signal: 31, scope: 'process', coreDump: true }, `0x${raw.toString(16)} → SIGSYS, whole process`);
    t.equal(o.verdict.unknown, true, 'flagged unknown');
  }
  // The stack still picks the lowest signed ACTION_FULL first: ERRNO (0x0005) is below
  // 0x1000 and wins over the unknown value; 0x9000... is negative and beats ERRNO.
  t.match(stack(RET(ERRNO | 1), RET(0x10000000)).evaluate(getpid), { action: 'errno' }, 'ERRNO beats unknown 0x10000000');
  t.match(stack(RET(ERRNO | 1), RET(0x90000000)).evaluate(getpid), { action: 'kill_process', unknown: true }, 'unknown 0x90000000 beats ERRNO');
  t.match(stack(RET(0x90000000), RET(KILL_PROCESS)).evaluate(getpid), { unknown: false, raw: KILL_PROCESS }, 'KILL_PROCESS is lowest of all');
});

t.test('outcomes: TRAP, KILL, TRACE and USER_NOTIF with and without listeners', async (t) => {
  const d = seccompData('x86_64', 39, 0x401002n, [1n, 2n]);
  const trap = stack(RET(TRAP | 5)).decide(d);
  t.match(trap, { kind: 'trap', siginfo: { signo: 31, code: 1, errno: 5, syscall: 39, arch: 0xc000003e, callAddr: 0x401002n } },
    'TRAP: SIGSYS, SYS_SECCOMP, si_errno = data, si_syscall, si_arch, si_call_addr');
  t.match(stack(RET(KILL_THREAD)).decide(d), { kind: 'kill', scope: 'thread', signal: 31, coreDump: true, siginfo: { errno: 0 } },
    'KILL_THREAD in a single-threaded process: forced SIGSYS with a core');
  t.match(stack(RET(KILL_THREAD)).decide(d, { liveThreads: 2 }), { kind: 'kill', scope: 'thread', coreDump: false },
    'KILL_THREAD with other threads: only this one exits');
  t.match(stack(RET(KILL_PROCESS)).decide(d, { liveThreads: 2 }), { kind: 'kill', scope: 'process', coreDump: true });
  t.match(stack(RET(TRACE | 7)).decide(d), { kind: 'skip', ret: -E.ENOSYS, why: 'no_tracer' }, 'TRACE without a tracer → -ENOSYS');
  t.match(stack(RET(TRACE | 7)).decide(d, { traceSeccomp: true }), { kind: 'trace_stop', msg: 7 }, 'TRACE with PTRACE_O_TRACESECCOMP: event stop, msg = data');
  t.match(stack(RET(TRACE | 7)).decide(d, { traceSeccomp: true, recheckAfterTrace: true }), { kind: 'run' }, 'TRACE on the recheck pass: the tracer already decided');
  t.match(stack(RET(USER_NOTIF)).decide(d), { kind: 'skip', ret: -E.ENOSYS, why: 'no_listener' }, 'USER_NOTIF without a listener → -ENOSYS');
  const withListener = new SeccompState();
  withListener.install({ mode: 'filter', program: RET(USER_NOTIF), flags: 8 }, NNP);
  t.match(withListener.decide(d), { kind: 'notify' }, 'USER_NOTIF with a listener on the winning filter');
  const otherListener = new SeccompState();
  otherListener.install({ mode: 'filter', program: RET(ALLOW), flags: 8 }, NNP);
  otherListener.install({ mode: 'filter', program: RET(USER_NOTIF) }, NNP);
  t.match(otherListener.decide(d), { kind: 'skip', ret: -E.ENOSYS }, 'the listener must be on the filter that returned USER_NOTIF');
  t.match(stack(RET(LOG)).decide(d), { kind: 'run', log: true }, 'LOG runs the call');
  t.match(new SeccompState().decide(d), { kind: 'run', verdict: { mode: 'disabled' } }, 'no seccomp: runs');
});

t.test('path length: MAX_INSNS_PER_PATH 32768 over eBPF lengths with 4 per filter', async (t) => {
  // prog->len is the length after bpf_convert_filter (observed natively: specs/seccomp/install.yaml).
  // n-1 loads + `ret #ALLOW` convert to 3 (prologue) + (n-1) + 2 = n + 4.
  const prog = (n: number) => [...Array.from({ length: n - 1 }, () => I(0x20, 0)), I(0x06, ALLOW)];
  const s = new SeccompState();
  for (let i = 0; i < 7; i++) t.ok(s.install({ mode: 'filter', program: prog(4096) }, NNP).ok, `filter ${i + 1} of 4096 fits`);
  const room = 32768 - 7 * (4100 + 4) - 4; // classic instructions the eighth may have
  t.equal(room, 4036);
  t.match(s.install({ mode: 'filter', program: prog(room + 1) }, NNP), { ok: false, errno: E.ENOMEM }, `${room + 1} more → ENOMEM`);
  t.ok(s.install({ mode: 'filter', program: prog(room) }, NNP).ok, `${room} more fits exactly`);
});

t.test('ebpfLength follows bpf_convert_filter', async (t) => {
  t.equal(ebpfLength([I(0x06, ALLOW)]), 5, 'prologue 3 + ret #k 2');
  t.equal(ebpfLength([I(0x16)]), 4, 'ret a is a bare exit');
  const JEQ = 0x15;
  t.equal(ebpfLength([I(JEQ, 5, 1, 0), I(0x06), I(0x06)]), 3 + 1 + 2 + 2, 'jf = 0: one jump');
  t.equal(ebpfLength([I(JEQ, 5, 0, 1), I(0x06), I(0x06)]), 3 + 1 + 2 + 2, 'jt = 0: the negated jump');
  t.equal(ebpfLength([I(0x45, 5, 0, 1), I(0x06), I(0x06)]), 3 + 2 + 2 + 2, 'jset with jt = 0: jump and ja');
  t.equal(ebpfLength([I(JEQ, 0xc000003e, 1, 0), I(0x06), I(0x06)]), 3 + 2 + 2 + 2, 'a negative s32 constant costs a mov');
  t.equal(ebpfLength([I(0x3c), I(0x16)]), 3 + 5 + 1, 'div x gets the X == 0 guard');
  t.equal(ebpfLength([I(0x34, 3), I(0x16)]), 3 + 1 + 1, 'div #k does not');
});

t.test('seccomp_data per ABI as filters see it (SC-02)', async (t) => {
  // A filter that returns arch | nr folded into ERRNO data is not possible (16 bits), so
  // test the two words separately with filters that return them.
  const archOf = stack([I(0x20, 4), I(0x16)]);
  const nrOf = stack([I(0x20, 0), I(0x16)]);
  const raw = (s: SeccompState, d: ReturnType<typeof seccompData>): number => s.evaluate(d).raw;
  t.equal(raw(archOf, seccompData('x32', 0x40000027)), 0xc000003e, 'x32: arch X86_64');
  t.equal(raw(nrOf, seccompData('x32', 0x40000027)), 0x40000027, 'x32: nr with bit 30');
  t.equal(raw(archOf, seccompData('i386', 20)), 0x40000003, 'i386: arch I386');
  t.equal(raw(nrOf, seccompData('i386', 20)), 20, 'i386 numbers');
});

t.test('uretprobe passes without filters from 6.14', async (t) => {
  const deny = [I(0x06, KILL_PROCESS)];
  const newer = new SeccompState({ kernel: '7.0' });
  newer.install({ mode: 'filter', program: deny }, NNP);
  t.match(newer.decide(seccompData('x86_64', 335)), { kind: 'run' }, 'x86_64 uretprobe (335) is allowed by the action cache');
  t.match(newer.decide(seccompData('i386', 335)), { kind: 'kill' }, 'only the native arch');
  const older = new SeccompState({ kernel: '6.6' });
  older.install({ mode: 'filter', program: deny }, NNP);
  t.match(older.decide(seccompData('x86_64', 335)), { kind: 'kill' }, 'not before 6.14');
});

t.test('fork shares the stack; installs after fork are per task', async (t) => {
  const parent = stack(RET(ERRNO | 1));
  const child = parent.fork();
  t.equal(child.mode, 'filter');
  child.install({ mode: 'filter', program: RET(ERRNO | 2) }, NNP);
  t.equal(child.evaluate(getpid).data, 2, 'child sees its own newer filter');
  t.equal(parent.evaluate(getpid).data, 1, 'parent does not');
});

t.test('installSetup from a Case', async (t) => {
  const s = new SeccompState();
  const r = s.installSetup({ mode: 'filter', filters: [RET(ALLOW), [I(0x20, 64), I(0x16)]] }, NNP);
  t.match(r, { ok: false, errno: E.EINVAL, index: 1 }, 'the refusal names the filter');
  t.equal(s.filterCount, 1, 'the filters before it stay installed');
});
