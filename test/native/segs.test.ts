// The after-call steps (Case.segs, Case.peek; probes/post.h) end to end on the real kernel:
// an LDT selector loaded after modify_ldt and read through, a TLS selector after
// set_thread_area, a faulting load, the vsyscall page read per detected mode, and the probe
// refusing to touch libc's thread-pointer segment. Expected values come from the kernel
// source cited per test; what the host supports is detected, never assumed.
import t from 'tap';
import { SIGNALS, SI_CODES } from '../../abi/constants.js';
import type { MemRegion, Operand } from '../../harness/contracts.js';
import { detectHostFacts } from '../../harness/host.js';
import { createNativeTarget } from '../../harness/targets/native.js';
import { mkCase, nativeSkip, PROBE_DIR } from './helpers.js';

const buf = (name: string): Operand => ({ ref: 'buf', name });
const lit = (v: bigint): Operand => ({ lit: v });
const DATA_AT = 0x20000000n;
const DATA = Buffer.from('NATIVE!!');
/** struct user_desc (asm/ldt.h): a 32-bit, page-granular writable data segment at DATA_AT. */
function userDesc(entry: number): MemRegion {
  const b = Buffer.alloc(16);
  b.writeUInt32LE(entry >>> 0, 0);
  b.writeUInt32LE(Number(DATA_AT), 4);
  b.writeUInt32LE(0xfffff, 8);
  b.writeUInt32LE(0x51, 12); // seg_32bit | limit_in_pages | useable
  return { name: 'u', size: 16, hex: b.toString('hex'), fill: 0, prot: 'rw', place: 'low32', readback: false };
}
const data: MemRegion = { name: 'd', size: 4096, hex: DATA.toString('hex'), fill: 0, prot: 'rw', place: 'anywhere', at: DATA_AT, readback: false };

t.test('x86_64: modify_ldt entry 0, GS = 0x7, read through it', { skip: nativeSkip('x86_64') }, async (t) => {
  const target = createNativeTarget({ probeDir: PROBE_DIR });
  // modify_ldt(1 = write_ldt old mode, &desc, sizeof desc) (arch/x86/kernel/ldt.c).
  const args = { rdi: lit(1n), rsi: buf('u'), rdx: lit(16n) };
  const [ok, bad, next] = await target.run([
    mkCase({ call: 'modify_ldt', regs: args, memory: [userDesc(0), data], isolate: true, segs: { gs: 0x7n }, peek: { seg: 'gs', addr: lit(0n) } }),
    // Selector 0xf (index 1) lies beyond a one-entry LDT: #GP(0xc) → SIGSEGV, SI_KERNEL (traps.c).
    mkCase({ call: 'modify_ldt', regs: args, memory: [userDesc(0)], isolate: true, segs: { gs: 0xfn } }),
    mkCase({ call: 'getpid' }),
  ]);
  t.equal(ok!.outcome, 'returned', ok!.reason ?? '');
  t.equal(ok!.after?.rax, 0n, 'modify_ldt returned 0');
  t.equal(ok!.post?.segs?.gs, 0x7n, 'GS reads back 0x7 (index 0, TI, RPL 3)');
  t.equal(ok!.post?.peek, DATA.readBigUInt64LE(0), 'gs:0 is the descriptor base');
  t.equal(bad!.outcome, 'signal', bad!.reason ?? '');
  t.equal(bad!.signal?.signo, SIGNALS.SIGSEGV);
  t.equal(bad!.signal?.code, SI_CODES.SI_KERNEL);
  t.equal(bad!.signal?.trapno, 13, '#GP');
  t.equal(bad!.signal?.err, 0xcn, 'error code = selector without RPL');
  t.equal(next!.outcome, 'returned', 'the probe goes on');
  await target.close?.();
});

t.test('i386: set_thread_area entry 13, FS = 0x6b, read through it', { skip: nativeSkip('i386') }, async (t) => {
  const facts = await detectHostFacts({ probeDir: PROBE_DIR });
  if (!facts.profile.ia32) return t.skip('ia32 emulation is off here', () => {});
  const target = createNativeTarget({ probeDir: PROBE_DIR });
  const [o] = await target.run([mkCase({
    abi: 'i386', call: 'set_thread_area', regs: { rbx: buf('u') }, memory: [userDesc(13), data], isolate: true,
    segs: { fs: 0x6bn }, peek: { seg: 'fs', addr: lit(0n) },
  })]);
  t.equal(o!.outcome, 'returned', o!.reason ?? '');
  t.equal(o!.post?.segs?.fs, 0x6bn, 'FS = 13 << 3 | 3');
  t.equal(o!.post?.peek, DATA.readBigUInt64LE(0));
  await target.close?.();
});

t.test('x86_64: reading the vsyscall page, per detected mode', { skip: nativeSkip('x86_64') }, async (t) => {
  const facts = await detectHostFacts({ probeDir: PROBE_DIR });
  const target = createNativeTarget({ probeDir: PROBE_DIR });
  const [o] = await target.run([mkCase({ call: 'getppid', peek: { addr: lit(0xffffffffff600000n) } })]);
  if (facts.profile.vsyscall === 'emulate') {
    t.equal(o!.outcome, 'returned');
    // vsyscall_emu_64.S: the first slot starts with mov $96, %rax (48 c7 c0 60 00 00 00), syscall.
    t.equal(o!.post?.peek, 0x0f00000060c0c748n);
  } else {
    // xonly/none: no readable mapping; fault.c sanitize_error_code sets PROT above TASK_SIZE_MAX.
    t.equal(o!.outcome, 'signal', `vsyscall=${facts.profile.vsyscall}`);
    t.equal(o!.signal?.code, SI_CODES.SEGV_MAPERR);
    t.equal(o!.signal?.err, 0x5n, 'PROT | USER');
  }
  await target.close?.();
});

t.test('the probe refuses to load libc\'s thread-pointer segment', { skip: nativeSkip('x86_64') }, async (t) => {
  const target = createNativeTarget({ probeDir: PROBE_DIR });
  const [o] = await target.run([mkCase({ call: 'getpid', segs: { fs: 0x2bn } })]);
  t.equal(o!.outcome, 'unsupported');
  t.match(o!.reason ?? '', /thread pointer/);
  await target.close?.();
});
