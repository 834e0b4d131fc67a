// The simulator's process_vm_readv of its own process (sim/kernel/syscalls/vm_access.ts) against
// mm/process_vm_access.c and the vsyscall gate area's flags (vsyscall_64.c get_gate_vma):
// readable with vsyscall=emulate, not with xonly or none; flags must be 0; bytes copied count.
import t from 'tap';
import { runCase } from '../../sim/kernel/run.js';
import { getProfile } from '../../sim/profiles.js';
import { ERRNO } from '../../abi/constants.js';
import type { MemRegion } from '../../harness/contracts.js';
import { mkCase, lit } from '../sim/kernel/helpers.js';

const neg = (e: number) => BigInt.asUintN(64, -BigInt(e));
const hex64 = (v: bigint) => Buffer.from(new BigUint64Array([v]).buffer).toString('hex');
const region = (name: string, over: Partial<MemRegion>): MemRegion =>
  ({ name, size: 16, hex: '', fill: 0, prot: 'rw', place: 'anywhere', readback: true, ...over });
const DST = 0x5a5a0000n;

/** process_vm_readv(self, {DST, len}, 1, {src, len}, 1, flags); returns the observation. */
function readv(profile: string, src: bigint, len: bigint, flags = 0n) {
  return runCase(mkCase({
    nr: 310n, isolate: true,
    memory: [
      region('dst', { size: 4096, fill: 0xee, at: DST }),
      region('liov', { hex: hex64(DST) + hex64(len) }),
      region('riov', { hex: hex64(src) + hex64(len) }),
      region('src', { hex: '0102030405060708' }),
    ],
    regs: { rax: lit(310), rdi: { ref: 'pid' }, rsi: { ref: 'buf', name: 'liov' }, rdx: lit(1), r10: { ref: 'buf', name: 'riov' }, r8: lit(1), r9: lit(flags) },
  }), getProfile(profile));
}

t.test('the gate area is readable only with vsyscall=emulate', async (t) => {
  const em = readv('linux-7.0-intel-vsyscall-emulate', 0xffffffffff600000n, 8n);
  t.equal(em.after?.rax, 8n);
  t.equal(em.memory?.dst?.slice(0, 16), '48c7c060000000' + '0f', 'mov $96, %rax; syscall');
  t.equal(readv('linux-7.0-intel', 0xffffffffff600000n, 8n).after?.rax, neg(ERRNO.EFAULT), 'xonly');
  t.equal(readv('linux-7.0-intel-vsyscall-none', 0xffffffffff600000n, 8n).after?.rax, neg(ERRNO.EFAULT), 'none');
});

t.test('flags other than 0 are EINVAL; an unmapped source is EFAULT', async (t) => {
  t.equal(readv('linux-7.0-intel', 0xffffffffff600000n, 8n, 1n).after?.rax, neg(ERRNO.EINVAL));
  t.equal(readv('linux-7.0-intel', 0x1000n, 8n).after?.rax, neg(ERRNO.EFAULT));
});
