// process_vm_readv on the calling process itself (mm/process_vm_access.c), enough to show which
// of its own pages the kernel's remote page walk can read — notably the vsyscall gate area,
// readable only with vsyscall=emulate (arch/x86/entry/vsyscall/vsyscall_64.c get_gate_vma; VD-04).

import { err, get, put, longSize, rdLe, NotModelled, type SyscallImpl, type SysCtx } from './types.js';
import { PROT_READ } from '../mm.js';

/** UIO_MAXIOV (include/uapi/linux/uio.h). */
const UIO_MAXIOV = 1024n;

/** iovec_from_user: an array of {base, len} in the caller's ABI (compat: two u32). */
function iovecs(c: SysCtx, addr: bigint, n: bigint): { base: bigint; len: bigint }[] | null {
  const w = longSize(c);
  const raw = get(c, addr, Number(n) * 2 * w);
  if (!raw) return null;
  const out = [];
  for (let i = 0; i < Number(n); i++) out.push({ base: rdLe(raw, 2 * w * i, w), len: rdLe(raw, 2 * w * i + w, w) });
  return out;
}

/** Can the remote page walk (pin_user_pages_remote, with get_gate_page for the gate area) read
 *  the byte at `a`? Only a present, readable user mapping: the gate VMA is VM_READ|VM_EXEC
 *  for emulate but VM_EXEC alone for xonly, and absent for none. */
function remoteReadable(c: SysCtx, a: bigint): boolean {
  const v = c.p.mm.find(a);
  return !!v && !v.kernel && v.present !== false && (v.prot & PROT_READ) !== 0;
}

export const VM_ACCESS: Record<string, SyscallImpl> = {
  sys_process_vm_readv: {
    args: 'iLLLLL',
    run: (c, [pid, lvec, liovcnt, rvec, riovcnt, flags]) => {
      if (flags !== 0n) return err('EINVAL');
      if (liovcnt! > UIO_MAXIOV || riovcnt! > UIO_MAXIOV) return err('EINVAL');
      const local = iovecs(c, lvec!, liovcnt!);
      if (!local) return err('EFAULT');
      // process_vm_rw: "if (!iov_iter_count(&iter)) goto free_iov_l" — nothing to copy into
      // returns 0 before the remote iovecs are read, so a bad rvec goes unnoticed (found by fuzz).
      if (local.every((l) => l.len === 0n)) return 0n;
      const remote = iovecs(c, rvec!, riovcnt!);
      if (!remote) return err('EFAULT');
      if (BigInt.asIntN(32, pid!) !== c.p.pid) throw new NotModelled('process_vm_readv of another process');
      // Copy byte by byte in iovec order; stop at the first remote page the walk cannot read or
      // local byte that cannot be written (process_vm_rw_core returns the bytes copied, or the
      // error when none were).
      let li = 0, loff = 0n, total = 0n;
      for (const r of remote) {
        for (let off = 0n; off < r.len; off++) {
          while (li < local.length && loff >= local[li]!.len) li++, loff = 0n;
          if (li >= local.length) return total;
          const src = r.base + off;
          if (!remoteReadable(c, src)) return total > 0n ? total : err('EFAULT');
          if (!put(c, local[li]!.base + loff, c.p.mm.peek(src, 1))) return total > 0n ? total : err('EFAULT');
          loff++, total++;
        }
      }
      return total;
    },
  },
};
