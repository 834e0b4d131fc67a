// The simulator's 64-bit vDSO getrandom (v6.11; lib/vdso/getrandom.c __cvdso_getrandom): C
// arguments in rdi rsi rdx rcx r8, the ~0UL parameter query, the syscall fallback, and no such
// symbol before 6.11.
import t from 'tap';
import { runCase } from '../../sim/kernel/run.js';
import { getProfile } from '../../sim/profiles.js';
import { ERRNO } from '../../abi/constants.js';
import type { Gpr, MemRegion, Operand } from '../../harness/contracts.js';
import { mkCase, lit } from '../sim/kernel/helpers.js';

const b: MemRegion = { name: 'b', size: 64, hex: '', fill: 0, prot: 'rw', place: 'anywhere', readback: true };
const call = (regs: Partial<Record<Gpr, Operand>>, profile = 'linux-7.0-intel') =>
  runCase(mkCase({ entry: 'vdso_fn', symbol: '__vdso_getrandom', memory: [b], regs }), getProfile(profile));
const B: Operand = { ref: 'buf', name: 'b' };

t.test('without an opaque state the call is the getrandom syscall', async (t) => {
  const o = call({ rdi: B, rsi: lit(16), rdx: lit(0), rcx: lit(0), r8: lit(0) });
  t.equal(o.after?.rax, 16n);
  t.not(o.memory?.b?.slice(0, 32), '0'.repeat(32), 'the 16 bytes were filled');
  const bad = call({ rdi: B, rsi: lit(16), rdx: lit(0x100), rcx: lit(0), r8: lit(0) });
  t.equal(bad.after?.rax, BigInt.asUintN(64, -BigInt(ERRNO.EINVAL)), 'unknown flags: the fallback says EINVAL');
});

t.test('opaque_len ~0UL with nothing else is the parameter query, stored through rcx', async (t) => {
  const o = call({ rdi: lit(0), rsi: lit(0), rdx: lit(0), rcx: B, r8: lit(-1) });
  t.equal(o.after?.rax, 0n);
  t.equal(o.memory?.b?.slice(8, 24), '03000000' + '28000000', 'mmap_prot RW, mmap_flags MAP_DROPPABLE|MAP_ANONYMOUS');
});

t.test('before v6.11 there is no getrandom in the vDSO', async (t) => {
  const o = call({ rdi: B, rsi: lit(16) }, 'linux-4.16-intel');
  t.equal(o.outcome, 'unsupported');
});
