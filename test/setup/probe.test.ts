// Set-up calls through the probes: the protocol lines encodeCase writes (docs/probe-protocol.md),
// the probe's own refusal of malformed ones, and, on x86-64 Linux with the probes built, the real
// kernel: the LDT a set-up modify_ldt wrote read back by the case's call, the error reason of a
// failing set-up call, and int $0x80 set-up from 64-bit code where ia32 emulation is on.
import t from 'tap';
import { execa } from 'execa';
import { ERRNO } from '../../abi/constants.js';
import type { MemRegion, Operand, SetupCall } from '../../harness/contracts.js';
import { detectHostFacts } from '../../harness/host.js';
import { encodeCase, probePath } from '../../harness/targets/probe-runner.js';
import { createNativeTarget } from '../../harness/targets/native.js';
import { mkCase, nativeSkip, PROBE_DIR } from '../native/helpers.js';

const lit = (v: bigint): Operand => ({ lit: v });
const buf = (name: string): Operand => ({ ref: 'buf', name });
const region = (name: string, size: number, hex = '', fill = 0): MemRegion =>
  ({ name, size, hex, fill, prot: 'rw', place: 'low32', readback: true });
// struct user_desc: entry 1, base 0x12345678, limit 0xabcde, flags 0x51 (see test/setup/sim.test.ts).
const DESC1 = '01000000' + '78563412' + 'debc0a00' + '51000000';

t.test('encodeCase: a setup line per call, then its setarg lines', async (t) => {
  const setup: SetupCall[] = [
    { name: 'modify_ldt', nr: 154n, args: [lit(0x11n), buf('u'), lit(16n)] },
    { name: 'arch_prctl', nr: 158n, args: [lit(0x1001n), lit(1n << 63n)], expectErrno: ERRNO.EPERM },
    { name: 'set_thread_area', nr: 243n, args: [buf('u')], entry: 'int80' },
  ];
  const lines = encodeCase(mkCase({ call: 'getpid', setup, isolate: true })).split('\n');
  const at = lines.indexOf('setup 0 0x9a modify_ldt 0 3');
  t.ok(at > 0, 'call 0: number, name, must succeed, 3 arguments');
  t.same(lines.slice(at, at + 9), [
    'setup 0 0x9a modify_ldt 0 3',
    'setarg 0 0 lit - 0x11 0x0 0x0',
    'setarg 0 1 buf u 0x0 0x0 0x0',
    'setarg 0 2 lit - 0x10 0x0 0x0',
    `setup 1 0x9e arch_prctl ${ERRNO.EPERM} 2`,
    'setarg 1 0 lit - 0x1001 0x0 0x0',
    'setarg 1 1 lit - 0x8000000000000000 0x0 0x0',
    'setup 2 0xf3 set_thread_area 0 1 int80',
    'setarg 2 0 buf u 0x0 0x0 0x0',
  ]);
  t.equal(lines.at(-2), 'end');
  t.notOk(encodeCase(mkCase({ call: 'getpid' })).includes('setup'), 'no set-up: no lines');
});

t.test('the probe refuses malformed set-up lines with the line quoted', { skip: nativeSkip('x86_64') }, async (t) => {
  const ask = async (lines: string[]) => {
    const r = await execa(probePath(PROBE_DIR, 'x86_64'), [], { input: ['case t/x@x86_64', 'nr 0x27', ...lines, 'end', ''].join('\n'), reject: false });
    return JSON.parse(r.stdout.trim().split('\n')[0]!) as { outcome: string; reason?: string };
  };
  const orphan = await ask(['setarg 0 0 lit - 0x0 0x0 0x0']);
  t.equal(orphan.outcome, 'error');
  t.match(orphan.reason, /setarg: expected `setarg I J OPERAND` after `setup I \.\.\.`/);
  const order = await ask(['setup 1 0x27 getpid 0 0']);
  t.match(order.reason, /calls are numbered 0, 1, \.\.\. in order/);
  const many = await ask(['setup 0 0x27 getpid 0 0', 'setarg 0 0 lit - 0x0 0x0 0x0']);
  t.match(many.reason, /J below its NARGS/);
  const missing = await ask(['isolate 1', 'setup 0 0x9e arch_prctl 0 2', 'setarg 0 0 lit - 0x1001 0x0 0x0']);
  t.equal(missing.outcome, 'error');
  t.match(missing.reason, /set-up call 1 \(arch_prctl\): argument 1 was not given/);
});

t.test('native: the LDT a set-up call wrote is what the case reads back', { skip: nativeSkip('x86_64') }, async (t) => {
  const target = createNativeTarget({ probeDir: PROBE_DIR });
  const write: SetupCall = { name: 'modify_ldt', nr: 154n, args: [lit(0x11n), buf('u'), lit(16n)] };
  const mem = () => [region('u', 16, DESC1), region('out', 32, '', 0xff)];
  const read = { rdi: lit(0n), rsi: buf('out'), rdx: lit(24n) };
  const [ok, failed, wrongErrno, noSetup] = await target.run([
    mkCase({ call: 'modify_ldt', regs: read, memory: mem(), setup: [write], isolate: true }),
    // bytecount 15 is not sizeof(struct user_desc): write_ldt's -EINVAL, zero-extended.
    mkCase({ call: 'modify_ldt', regs: read, memory: mem(), setup: [{ ...write, args: [lit(0x11n), buf('u'), lit(15n)] }], isolate: true }),
    mkCase({ call: 'modify_ldt', regs: read, memory: mem(), setup: [{ ...write, expectErrno: ERRNO.EINVAL }], isolate: true }),
    // The probe process itself never got an LDT: set-up calls ran in the forked children only.
    mkCase({ call: 'modify_ldt', regs: read, memory: mem(), isolate: true }),
  ]);
  t.equal(ok!.outcome, 'returned', ok!.reason ?? '');
  t.equal(ok!.after?.rax, 24n, 'read_ldt returns bytecount');
  t.equal(ok!.memory?.out, '0000000000000000' + 'debc785634f3da12' + '0000000000000000' + 'ffffffffffffffff');
  t.equal(failed!.outcome, 'error');
  t.equal(failed!.reason, 'set-up call 1 (modify_ldt) returned -EINVAL');
  t.equal(wrongErrno!.outcome, 'error');
  t.equal(wrongErrno!.reason, 'set-up call 1 (modify_ldt) returned 0x0, expected -EINVAL');
  t.equal(noSetup!.after?.rax, 0n, 'no LDT in a case without set-up');
  await target.close?.();
});

t.test('native i386: set-up through int $0x80, then the LDT read back', { skip: nativeSkip('i386') }, async (t) => {
  const facts = await detectHostFacts();
  if (!facts.abis.i386.ok) { t.skip(`i386 cannot run here: ${facts.abis.i386.reason}`, async () => {}); return; }
  const target = createNativeTarget({ probeDir: PROBE_DIR });
  const [o] = await target.run([mkCase({ abi: 'i386', call: 'modify_ldt', isolate: true,
    regs: { rbx: lit(0n), rcx: buf('out'), rdx: lit(16n) }, memory: [region('u', 16, DESC1), region('out', 16)],
    setup: [{ name: 'modify_ldt', nr: 123n, args: [lit(1n), buf('u'), lit(16n)] }] })]);
  t.equal(o!.outcome, 'returned', o!.reason ?? '');
  // func 1 (old mode) clears AVL: 0xca, not 0xda (arch/x86/kernel/ldt.c write_ldt).
  t.equal(o!.memory?.out, '0000000000000000' + 'debc785634f3ca12');
  await target.close?.();
});

t.test('native: entry int80 set-up from 64-bit code (set_thread_area), where ia32 is on', { skip: nativeSkip('x86_64') }, async (t) => {
  const facts = await detectHostFacts();
  const target = createNativeTarget({ probeDir: PROBE_DIR });
  const [o] = await target.run([mkCase({ call: 'getpid', isolate: true,
    memory: [region('u', 16, 'ffffffff' + '00000020' + 'ffff0f00' + '51000000')],
    setup: [{ name: 'set_thread_area', nr: 243n, args: [buf('u')], entry: 'int80' }] })]);
  if (facts.profile.ia32) {
    t.equal(o!.outcome, 'returned', o!.reason ?? '');
    // get_free_idx: the first free TLS slot of a 64-bit process (its libc uses FS) is 12.
    t.equal(o!.memory?.u.slice(0, 8), '0c000000');
  } else {
    // int $0x80 without ia32 emulation is a #GP outside the case's guarded call: never a pass.
    t.not(o!.outcome, 'returned', 'the set-up call could not be made');
  }
  await target.close?.();
});
