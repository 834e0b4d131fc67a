// SYSCALL from 64-bit code on the real kernel, through the x86_64 probe: register effects
// (ABI-FACTS RG-01, §3.2) and syscall-number decoding (§4.1, SN-01..SN-06). Expected values
// come from the facts and from what the probe saw itself (pid, next_ip), never hard-coded.

import t from 'tap';
import { ERRNO, RFLAGS, SELECTORS, X32_SYSCALL_BIT, errnoReturn } from '../../abi/constants.js';
import { NR_SYSCALLS } from '../../abi/tables/index.js';
import { GPRS64 } from '../../harness/contracts.js';
import { detectHostFacts } from '../../harness/host.js';
import { createNativeTarget } from '../../harness/targets/native.js';
import { mkCase, nativeSkip, PROBE_DIR, sentinel } from './helpers.js';

const skip = nativeSkip('x86_64');
const ENOSYS = errnoReturn('ENOSYS', 64);

t.test('SYSCALL getpid with a sentinel in every register', { skip }, async (t) => {
  const target = createNativeTarget({ probeDir: PROBE_DIR });
  const [o] = await target.run([mkCase({ call: 'getpid', regs: sentinel(64) })]);
  t.equal(o!.outcome, 'returned', o!.reason ?? '');
  const { before, after, env } = o!;
  t.ok(after && env.pid && env.next_ip, 'after registers, pid and next_ip reported');
  t.equal(after!.rax, env.pid, 'rax = pid');
  t.equal(after!.rcx, env.next_ip, 'rcx = address of the instruction after SYSCALL');
  t.equal(env.next_ip! - env.entry_ip!, 2n, 'SYSCALL is 2 bytes long');
  t.equal(after!.r11, before.rflags! & ~RFLAGS.RF, 'r11 = RFLAGS at the entry, RF clear');
  for (const r of GPRS64) {
    if (r === 'rax' || r === 'rcx' || r === 'r11') continue;
    t.equal(after![r], before[r], `${r} preserved`);
  }
  t.equal(before.rbx, 0x5a5a_0000_0000_0101n, 'sentinel reached rbx');
  t.equal(after!.cs, BigInt(SELECTORS.USER_CS), 'cs = __USER_CS');
  t.equal(after!.ss, BigInt(SELECTORS.USER_DS), 'ss = __USER_DS');
  t.equal(after!.rip, env.next_ip, 'control came back to next_ip');
});

t.test('flags asked for survive the call (FL-01) and are what POPF loaded', { skip }, async (t) => {
  const target = createNativeTarget({ probeDir: PROBE_DIR });
  const want = RFLAGS.AC | RFLAGS.DF | RFLAGS.NT;
  const [o] = await target.run([mkCase({ call: 'getpid', rflags: 0x202n | want })]);
  t.equal(o!.outcome, 'returned', o!.reason ?? '');
  t.equal(o!.before.rflags! & want, want, 'POPF kept AC, DF, NT (read back with PUSHF)');
  t.equal(o!.after!.rflags! & want, want, 'still set after SYSCALL');
  t.equal(o!.after!.r11, o!.before.rflags, 'r11 holds them too');
});

t.test('TF single-steps through the case and the traps are counted', { skip }, async (t) => {
  const target = createNativeTarget({ probeDir: PROBE_DIR });
  const [o, next] = await target.run([mkCase({ call: 'getpid', rflags: 0x202n | RFLAGS.TF }), mkCase({ call: 'getpid' })]);
  t.equal(o!.outcome, 'returned', o!.reason ?? '');
  t.ok((o!.traps ?? 0) >= 1, `at least one SIGTRAP (got ${o!.traps})`);
  t.ok((o!.after!.rflags! & RFLAGS.TF) !== 0n, 'TF still set after the call (RT-03)');
  t.equal(o!.after!.rax, o!.env.pid, 'the call itself still worked');
  t.equal(next!.outcome, 'returned', 'the probe carries on after a TF case');
  t.equal(next!.traps, undefined, 'no traps reported for a case without TF');
});

t.test('syscall number decoding', { skip }, async (t) => {
  const facts = await detectHostFacts({ probeDir: PROBE_DIR });
  const target = createNativeTarget({ probeDir: PROBE_DIR });
  const getpid = 39n;
  const cases = {
    high: mkCase({ nr: (1n << 32n) | getpid }),
    highneg: mkCase({ nr: (0xffff_ffffn << 32n) | getpid }),
    minus1: mkCase({ nr: BigInt.asUintN(64, -1n) }),
    minus2: mkCase({ nr: BigInt.asUintN(64, -2n) }),
    x32: mkCase({ nr: X32_SYSCALL_BIT | getpid }),
    past: mkCase({ nr: BigInt(NR_SYSCALLS.x86_64) }),
    x32only: mkCase({ nr: 515n }), // x32 readv number without the bit (SN-05)
  };
  const obs = await target.run(Object.values(cases));
  const by = Object.fromEntries(Object.keys(cases).map((k, i) => [k, obs[i]!]));
  for (const [k, o] of Object.entries(by)) t.equal(o.outcome, 'returned', `${k}: ${o.reason ?? 'returned'}`);
  const kernel = facts.profile.kernel.split('.').map(Number) as [number, number];
  const intNr = kernel[0] > 5 || (kernel[0] === 5 && kernel[1] >= 14);
  t.equal(by.high.after?.rax, intNr ? by.high.env.pid : ENOSYS, 'high 32 bits of rax ignored since 5.14 (SN-01)');
  t.equal(by.highneg.after?.rax, intNr ? by.highneg.env.pid : ENOSYS, 'all-ones high half ignored too');
  t.equal(by.minus1.after?.rax, ENOSYS, 'nr -1: nothing runs, rax keeps the -ENOSYS preset (SN-02)');
  t.equal(by.minus2.after?.rax, ENOSYS, 'nr -2: -ENOSYS');
  t.equal(by.past.after?.rax, ENOSYS, `nr ${NR_SYSCALLS.x86_64} (past the table): -ENOSYS (SN-03)`);
  t.equal(by.x32only.after?.rax, ENOSYS, '515 without the x32 bit: -ENOSYS (SN-05)');
  if (facts.profile.x32) t.equal(by.x32.after?.rax, by.x32.env.pid, 'x32 configured: getpid|bit returns the pid (SN-04)');
  else t.equal(by.x32.after?.rax, ENOSYS, `x32 not configured: getpid|bit is -ENOSYS (${ERRNO.ENOSYS}) (SN-06)`);
});
