// sched_setaffinity: the CPU a task may run on, so a case can pin itself before comparing the
// vDSO's getcpu with the syscall's (VD-03). kernel/sched/core.c (sys_sched_setaffinity,
// get_user_cpu_mask, __sched_setaffinity) and kernel/compat.c (compat_sys_sched_setaffinity:
// the same bitmap read as 32-bit longs, which on little-endian x86 is the same bytes).

import { err, get, type SyscallImpl, type SysCtx } from './types.js';

/** CPUs the modelled machine has online (cpu_active_mask): two, like a small VM. */
export const SIM_CPUS = 2;

function setaffinity(c: SysCtx, pid: bigint, len: bigint, ptr: bigint): bigint {
  // get_user_cpu_mask: a shorter mask is zero-filled, a longer one read only up to
  // cpumask_size() (8 bytes with NR_CPUS <= 64 here); copy_from_user faults are -EFAULT.
  const n = len < 8n ? Number(len) : 8;
  const bytes = n > 0 ? get(c, ptr, n) : new Uint8Array(0);
  if (bytes === null) return err('EFAULT');
  let mask = 0n;
  bytes.forEach((b, i) => { mask |= BigInt(b) << BigInt(8 * i); });
  // find_process_by_pid: 0 is the caller; the sim's process has one task.
  const p = BigInt.asIntN(32, pid);
  if (p !== 0n && p !== c.p.pid && p !== c.p.tid) return err('ESRCH');
  // __set_cpus_allowed_ptr: no online CPU in the mask is -EINVAL.
  const allowed = mask & ((1n << BigInt(SIM_CPUS)) - 1n);
  if (allowed === 0n) return err('EINVAL');
  // A task whose CPU left its mask migrates at once (to the first allowed one here).
  if (((allowed >> c.p.cpu) & 1n) === 0n) {
    let cpu = 0n;
    while (((allowed >> cpu) & 1n) === 0n) cpu++;
    c.note(`sched_setaffinity: the task migrates from CPU ${c.p.cpu} to CPU ${cpu}`);
    c.p.cpu = cpu;
  }
  return 0n;
}

export const AFFINITY: Record<string, SyscallImpl> = {
  sys_sched_setaffinity: { args: 'iuL', run: (c, [pid, len, ptr]) => setaffinity(c, pid!, BigInt.asUintN(32, len!), ptr!) },
  compat_sys_sched_setaffinity: { args: 'iuL', run: (c, [pid, len, ptr]) => setaffinity(c, pid!, BigInt.asUintN(32, len!), ptr!) },
};
