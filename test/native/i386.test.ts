// The i386 probe's own paths, run natively when this kernel runs 32-bit programs (detected):
// memory and fd operands truncated to 32 bits, exec's initial state, sigreturn, a vDSO
// function with cdecl stack arguments, a placed entry instruction and TF over the vDSO.

import t from 'tap';
import { RFLAGS, SELECTORS, SIGNALS } from '../../abi/constants.js';
import type { MemRegion } from '../../harness/contracts.js';
import { detectHostFacts } from '../../harness/host.js';
import { createNativeTarget } from '../../harness/targets/native.js';
import { mkCase, nativeSkip, PROBE_DIR } from './helpers.js';

const facts = nativeSkip('i386') ? undefined : await detectHostFacts({ probeDir: PROBE_DIR });
const skip = nativeSkip('i386') || (facts?.abis.i386.ok ? false : `i386 cannot run natively here: ${facts?.abis.i386.reason}`);
const region = (p: Partial<MemRegion> & { name: string }): MemRegion => ({ size: 16, hex: '', fill: 0, prot: 'rw', place: 'anywhere', readback: false, ...p });
const hex = (s: string) => Buffer.from(s).toString('hex');

t.test('i386 probe: operands, exec, sigreturn, vdso_fn, placed stub, TF', { skip }, async (t) => {
  const target = createNativeTarget({ probeDir: PROBE_DIR });
  const abi = 'i386' as const;
  const [rd, exec, sret, cg, placed, tf] = await target.run([
    mkCase({ abi, call: 'read', regs: { rbx: { ref: 'fd', name: 'f' }, rcx: { ref: 'buf', name: 'b' }, rdx: { lit: 16n } },
      fds: [{ name: 'f', kind: 'file', hex: hex('hi') }], memory: [region({ name: 'b', readback: true })] }),
    mkCase({ abi, entry: 'exec', isolate: true }),
    mkCase({ abi, entry: 'sigreturn', isolate: true, sigreturn: { rip: { lit: 0x10n } } }),
    mkCase({ abi, entry: 'vdso_fn', symbol: '__vdso_clock_gettime', regs: { rbx: { lit: 1n }, rcx: { ref: 'buf', name: 'ts' } }, memory: [region({ name: 'ts', readback: true })] }),
    mkCase({ abi, call: 'getpid', placeNextIp: 0x2000_0002n }),
    mkCase({ abi, entry: 'vdso', call: 'getpid', rflags: 0x202n | RFLAGS.TF }),
  ]);
  t.equal(rd!.after?.rax, 2n, 'read returned 2');
  t.equal(rd!.memory?.b.slice(0, 4), hex('hi'));
  t.ok(rd!.env.bufs!.b! < 1n << 32n, 'buffer address fits 32 bits');
  t.equal(exec!.outcome, 'returned', exec!.reason ?? '');
  for (const r of ['rax', 'rbx', 'rcx', 'rdx', 'rsi', 'rdi', 'rbp'] as const) t.equal(exec!.after?.[r], 0n, `exec: ${r} = 0 (RG-07)`);
  t.equal(exec!.after?.rflags, 0x202n, 'exec: EFLAGS 0x202');
  t.equal(exec!.after?.cs, BigInt(SELECTORS.USER32_CS), 'a 32-bit process on a 64-bit kernel runs with CS 0x23');
  t.equal(sret!.outcome, 'signal');
  t.equal(sret!.signal?.signo, SIGNALS.SIGSEGV, 'sigreturn to eip 0x10: SIGSEGV');
  t.equal(sret!.signal?.regs.rip, 0x10n);
  t.equal(cg!.outcome, 'returned', cg!.reason ?? '');
  t.equal(cg!.after?.rax, 0n, '__vdso_clock_gettime(CLOCK_MONOTONIC, ts) = 0 (cdecl stack arguments)');
  t.not(cg!.memory?.ts.slice(0, 16), '0'.repeat(16), 'and it wrote the time');
  t.equal(placed!.outcome, 'returned', placed!.reason ?? '');
  t.equal(placed!.env.entry_ip, 0x2000_0000n, 'int $0x80 placed at next_ip - 2');
  t.equal(placed!.after?.rax, placed!.env.pid);
  t.equal(tf!.outcome, 'returned', tf!.reason ?? '');
  t.ok((tf!.traps ?? 0) >= 1, `TF through __kernel_vsyscall: ${tf!.traps} traps (SS-02)`);
  t.ok((tf!.after!.rflags! & RFLAGS.TF) !== 0n, 'TF kept');
});
