// Tests of seccomp user notification (SC-04): the spec language (`seccomp: {filters, listener,
// notify}`, expect.notification, loader errors), the probe protocol lines and the decoding of
// the probe's `notify` report, check() against observations, and the simulator's listener and
// supervisor (sim/kernel/seccomp/notify.ts) including its version gates.

import t from 'tap';
import { parseSpecText } from '../../harness/spec/load.js';
import { expandChecked, type ExpandedCase } from '../../harness/spec/expand.js';
import type { SpecError } from '../../harness/spec/errors.js';
import { check } from '../../harness/check.js';
import { encodeCase, decodeObservation } from '../../harness/targets/probe-runner.js';
import { runCase } from '../../sim/kernel/run.js';
import { PROFILES } from '../../sim/profiles.js';
import { SeccompState } from '../../sim/kernel/seccomp/filter.js';
import { NotifySupervisor } from '../../sim/kernel/seccomp/notify.js';
import { seccompData } from '../../sim/kernel/seccomp/bpf.js';
import { AUDIT_ARCH, ERRNO } from '../../abi/constants.js';
import { SECCOMP_FILTER_FLAG } from '../../harness/seccomp/uapi.js';
import type { Observation, Profile } from '../../harness/contracts.js';

function inline(body: string): { cases: ExpandedCase[]; errors: SpecError[] } {
  const text = `id: t.notify\ntitle: t\ndescription: d\nrefs: [{kernel: k}]\ntags: [seccomp]\n${body}`;
  const r = parseSpecText('inline.yaml', text);
  if (!r.spec) return { cases: [], errors: r.errors };
  const errors: SpecError[] = [];
  return { cases: expandChecked(r.spec, errors), errors };
}

const NOTIF_FILTER = `filters: [{ rules: [{ syscall: getppid, action: user_notif }, { default: allow }] }]`;
const spec = (notify: string, expect: string, extra = ''): string => `abi: [x86_64, i386, x32]
cases:
  - name: c
    call: getppid
    seccomp:
      ${NOTIF_FILTER}
      listener: true
${notify ? `      notify: ${notify}\n` : ''}${extra}    expect: ${expect}
`;

t.test('spec language: listener: true sets NEW_LISTENER on the newest filter; respond forms', async (t) => {
  const { cases, errors } = inline(spec('{ respond: { error: EPERM } }', '{ errno: EPERM, notification: { nr: getppid, arch: AUDIT_ARCH_X86_64 } }'));
  t.same(errors, []);
  const c = cases.find((x) => x.case.abi === 'x86_64')!;
  t.equal((c.case.seccomp!.opts![0]!.flags! & SECCOMP_FILTER_FLAG.NEW_LISTENER) !== 0, true);
  t.same(c.case.seccomp!.notify, { respond: { kind: 'error', errno: ERRNO.EPERM } });
  t.equal(c.expect.notification?.none, false);
  for (const [txt, want] of [['{ respond: { val: 42 } }', { kind: 'val', val: 42n }], ['{ respond: continue }', { kind: 'continue' }]] as const) {
    const r = inline(spec(txt, '{ ret: 0 }'));
    t.same(r.errors, [], txt);
    t.same(r.cases[0]!.case.seccomp!.notify!.respond, want, txt);
  }
});

t.test('loader errors name the place and what is wrong', async (t) => {
  // notify without any listener
  const noListener = inline(`cases:
  - name: c
    call: getppid
    seccomp:
      ${NOTIF_FILTER}
      notify: { respond: continue }
`);
  t.match(noListener.errors.map((e) => e.message).join('\n'), /notify needs a listener/);
  t.ok(noListener.errors.every((e) => e.line > 0 && e.col > 0), 'file:line:col');
  // expect.notification on a case without a supervisor
  const noSup = inline(`cases:
  - name: c
    call: getppid
    seccomp: [{ rules: [{ default: allow }] }]
    expect: { notification: none }
`);
  t.match(noSup.errors.map((e) => e.message).join('\n'), /no seccomp: notify: script/);
  // an unknown errno in respond is a schema error
  const bad = inline(spec('{ respond: { error: EPERMX } }', '{ ret: 0 }'));
  t.ok(bad.errors.length > 0);
  t.match(bad.errors[0]!.message, /EPERM/);
});

t.test('probe protocol: notify lines and the notify report', async (t) => {
  const mk = (n: string) => inline(spec(n, '{ ret: 0 }')).cases.find((c) => c.case.abi === 'x86_64')!.case;
  t.ok(encodeCase(mk('{ respond: { error: EPERM } }')).split('\n').includes(`notify error ${ERRNO.EPERM}`));
  t.ok(encodeCase(mk('{ respond: { val: -1 } }')).split('\n').includes('notify val ffffffffffffffff'));
  t.ok(encodeCase(mk('{ respond: continue }')).split('\n').includes('notify continue'));
  const c = mk('{ respond: continue }');
  const line = JSON.stringify({
    id: c.id, outcome: 'returned', before: {}, env: {},
    notify: { received: { id: '0x1234', pid: 77, flags: 0, nr: 110, arch: AUDIT_ARCH.X86_64, ip: '0x401000', args: ['0x1', '0x2', '0x3', '0x4', '0x5', '0x6'] }, send: { ret: 0, errno: 0 } },
  });
  const o = decodeObservation(line, c);
  t.same(o.notify?.received?.args, [1n, 2n, 3n, 4n, 5n, 6n]);
  t.equal(o.notify?.received?.id, 0x1234n);
  t.equal(o.notify?.received?.instruction_pointer, 0x401000n);
  t.throws(() => decodeObservation(JSON.stringify({ id: c.id, outcome: 'returned', before: {}, env: {}, notify: { received: { args: [] } } }), c), /notify.received/);
});

t.test('check: notification fields, none, and a target that reported nothing', async (t) => {
  const ec = inline(spec('{ respond: { error: EPERM } }', '{ errno: EPERM, notification: { nr: getppid, arch: AUDIT_ARCH_X86_64 } }')).cases.find((c) => c.case.abi === 'x86_64')!;
  const base = (notify: Observation['notify']): Observation => ({
    id: ec.case.id, outcome: 'returned', before: {}, env: {}, after: { rax: BigInt.asUintN(64, BigInt(-ERRNO.EPERM)) }, ...(notify ? { notify } : {}),
  });
  const good = { received: { id: 1n, pid: 5n, flags: 0, nr: 110, arch: AUDIT_ARCH.X86_64, instruction_pointer: 0n, args: [0n, 0n, 0n, 0n, 0n, 0n] }, send: { ret: 0, errno: 0 } };
  t.equal(check(ec, base(good), 't').status, 'pass');
  const wrongArch = { ...good, received: { ...good.received, arch: AUDIT_ARCH.I386 } };
  const r = check(ec, base(wrongArch), 't');
  t.equal(r.status, 'fail');
  t.ok(r.diffs.some((d) => d.field === 'notification.arch'));
  const none = check(ec, base({ note: 'no notification arrived' }), 't');
  t.equal(none.status, 'fail');
  t.match(none.diffs[0]!.observed, /no notification arrived/);
  t.equal(check(ec, base(undefined), 't').status, 'error', 'an unreported notify is a target defect');
  const sendFailed = check(ec, base({ ...good, send: { ret: -1, errno: ERRNO.ENOENT } }), 't');
  t.ok(sendFailed.diffs.some((d) => d.field === 'notification.send'));
});

const sim = (body: string, profile: Profile) => inline(body).cases.map((ec) => ({ ec, o: runCase(ec.case, profile) }));

t.test('sim: answers, notification contents, fd as the install result', async (t) => {
  const p = PROFILES['linux-7.0-intel-x32']!;
  for (const { ec, o } of sim(spec('{ respond: { val: 42 } }', '{ ret: 42, notification: { nr: getppid, instruction_pointer: $next_ip, pid: $pid } }'), p)) {
    t.equal(check(ec, o, 'sim').status, 'pass', `${ec.case.id}: ${JSON.stringify(check(ec, o, 'sim').diffs)}`);
    // The install returned the listener fd (the lowest free descriptor), not 0.
    t.ok(o.seccomp_install![0]!.ret > 2, `listener fd ${o.seccomp_install![0]!.ret}`);
    t.equal(o.notify?.received?.arch, ec.case.abi === 'i386' ? AUDIT_ARCH.I386 : AUDIT_ARCH.X86_64);
  }
  const cont = sim(spec('{ respond: continue }', '{ ret: $ppid }'), p);
  for (const { ec, o } of cont) t.equal(check(ec, o, 'sim').status, 'pass', ec.case.id);
  // Before v5.5 CONTINUE is refused (EINVAL) and nobody else answers: the call never returns.
  const old = sim(spec('{ respond: continue }', '{ ret: $ppid }'), { ...PROFILES['linux-5.10-amd-x32']!, name: 'test-5.4', kernel: '5.4' });
  for (const { o } of old) {
    t.equal(o.outcome, 'timeout');
    t.same(o.notify?.send, { ret: -1, errno: ERRNO.EINVAL });
  }
});

t.test('sim: listener rules (EBUSY, TSYNC without TSYNC_ESRCH, kernels before 5.0)', async (t) => {
  const creds = { noNewPrivs: true, capSysAdmin: false };
  const allow = [{ code: 0x06, jt: 0, jf: 0, k: 0x7fff0000 }];
  const s = new SeccompState({ kernel: '6.6' });
  t.same(s.install({ mode: 'filter', program: allow, flags: SECCOMP_FILTER_FLAG.NEW_LISTENER }, creds), { ok: true, listener: true });
  t.match(s.install({ mode: 'filter', program: allow, flags: SECCOMP_FILTER_FLAG.NEW_LISTENER }, creds), { ok: false, errno: ERRNO.EBUSY });
  t.match(new SeccompState({ kernel: '6.6' }).install({ mode: 'filter', program: allow, flags: SECCOMP_FILTER_FLAG.NEW_LISTENER | SECCOMP_FILTER_FLAG.TSYNC }, creds), { ok: false, errno: ERRNO.EINVAL });
  t.same(new SeccompState({ kernel: '6.6' }).install({ mode: 'filter', program: allow, flags: SECCOMP_FILTER_FLAG.NEW_LISTENER | SECCOMP_FILTER_FLAG.TSYNC | SECCOMP_FILTER_FLAG.TSYNC_ESRCH }, creds), { ok: true, listener: true });
  t.match(new SeccompState({ kernel: '4.19' }).install({ mode: 'filter', program: allow, flags: SECCOMP_FILTER_FLAG.NEW_LISTENER }, creds), { ok: false, errno: ERRNO.EINVAL });
});

t.test('sim supervisor: error and val answers, ids are distinct', async (t) => {
  const d = seccompData(AUDIT_ARCH.X86_64, 110, 0x401002n, [1n, 2n, 3n, 4n, 5n, 6n]);
  const e = new NotifySupervisor({ respond: { kind: 'error', errno: ERRNO.EACCES } }, '7.0');
  t.same(e.deliver(d, 9n), { kind: 'ret', ret: BigInt(-ERRNO.EACCES) });
  const first = e.seen.received!.id;
  e.deliver(d, 9n);
  t.not(e.seen.received!.id, first);
  t.same(new NotifySupervisor({ respond: { kind: 'val', val: -5n } }, '7.0').deliver(d, 9n), { kind: 'ret', ret: -5n });
  t.equal(new NotifySupervisor(undefined, '7.0').deliver(d, 9n).kind, 'wait');
});
