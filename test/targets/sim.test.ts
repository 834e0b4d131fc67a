// The `sim` target through the Target interface: describe() reports profile and per-ABI
// availability; run() answers fabricated Cases in order, with steps when asked to explain.
import t from 'tap';
import { createSimTarget } from '../../harness/targets/sim.js';
import { mkCase, lit } from '../sim/kernel/helpers.js';

t.test('describe reports the profile and ABI availability', async (t) => {
  const info = await createSimTarget({ profile: 'linux-7.0-amd' }).describe();
  t.equal(info.profile.vendor, 'amd');
  t.equal(info.profile.kernel, '7.0');
  t.equal(info.abis.x86_64.ok, true);
  t.equal(info.abis.x32.ok, false);
  t.match(info.abis.x32.reason!, /x32/);
  const off = await createSimTarget({ profile: 'linux-6.6-intel-ia32off' }).describe();
  t.equal(off.abis.i386.ok, false);
});

t.test('unknown profile is a clear error', async (t) => {
  t.throws(() => createSimTarget({ profile: 'nope' }), /unknown sim profile "nope"/);
});

t.test('run answers each case in order; explain fills steps', async (t) => {
  const target = createSimTarget({});
  const cases = [
    mkCase({ id: 'a@x86_64', regs: { rax: lit(39) } }),
    mkCase({ id: 'b@i386', abi: 'i386', regs: { rax: lit(20) } }),
    mkCase({ id: 'c@x32', abi: 'x32', regs: { rax: lit(0x40000027) } }),
  ];
  const seen: string[] = [];
  const obs = await target.run(cases, { explain: true, onObservation: (o) => seen.push(o.id) });
  t.same(obs.map((o) => o.id), ['a@x86_64', 'b@i386', 'c@x32']);
  t.same(seen, ['a@x86_64', 'b@i386', 'c@x32']);
  t.equal(obs[0]!.after!.rax, obs[0]!.env.pid);
  t.equal(obs[1]!.after!.rax, obs[1]!.env.pid);
  t.equal(obs[2]!.outcome, 'unsupported');
  t.ok(obs[0]!.steps!.some((s) => /do_syscall_64: nr = \(int\)rax = 39/.test(s)));
  t.ok(obs[0]!.steps!.some((s) => /sysretq/.test(s)));
});
