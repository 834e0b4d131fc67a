// Memory syscalls: brk, mmap (x86_64 sys_mmap, i386 mmap2 = sys_mmap_pgoff and old_mmap =
// compat_sys_ia32_mmap), munmap, mprotect. Checks in the order mm/mmap.c (do_mmap,
// __get_unmapped_area, ksys_mmap_pgoff), mm/mprotect.c and arch/x86/kernel/sys_x86_64.c make them.

import { err, get, rdLe, NotModelled, type SyscallImpl, type SysCtx } from './types.js';
import { IA32_TASK_SIZE, PAGE_SIZE, TASK_SIZE_MAX, pageUp, PROT_EXEC, PROT_READ, PROT_WRITE } from '../mm.js';

const MAP_SHARED = 1n, MAP_PRIVATE = 2n, MAP_SHARED_VALIDATE = 3n, MAP_TYPE = 0xfn;
const MAP_FIXED = 0x10n, MAP_ANONYMOUS = 0x20n, MAP_32BIT = 0x40n;
const MAP_FIXED_NOREPLACE = 0x100000n;
const PROT_SEM = 0x8n, PROT_GROWSDOWN = 0x01000000n, PROT_GROWSUP = 0x02000000n;
/** mmap_min_addr default (CONFIG_DEFAULT_MMAP_MIN_ADDR 65536 on x86). */
const MMAP_MIN_ADDR = 0x10000n;
/** Where the top-down mmap area starts (below the stack gap); 32-bit tasks below 4 GiB. */
export const MMAP_BASE_64 = 0x7ff000000000n;
export const MMAP_BASE_32 = 0xf7000000n;

/** TASK_SIZE as the current syscall sees it (ia32 tasks and ia32 syscalls: 4 GiB - 8 KiB). */
function taskSize(c: SysCtx): bigint {
  return c.p.is32 ? IA32_TASK_SIZE : TASK_SIZE_MAX;
}

function protBits(prot: bigint): number {
  return (prot & 1n ? PROT_READ : 0) | (prot & 2n ? PROT_WRITE : 0) | (prot & 4n ? PROT_EXEC : 0);
}

/** ksys_mmap_pgoff → do_mmap. Returns the address or -errno. */
export function mmapPgoff(c: SysCtx, addr: bigint, len: bigint, prot: bigint, flags: bigint, fd: bigint, pgoff: bigint): bigint {
  const anon = (flags & MAP_ANONYMOUS) !== 0n;
  const file = anon ? undefined : c.p.fd(BigInt.asUintN(32, fd))?.file;
  if (!anon && !file) return err('EBADF');
  if (len === 0n) return err('EINVAL');
  const size = pageUp(len);
  if (size === 0n || size > 1n << 47n) return err('ENOMEM');
  const ts = taskSize(c);
  const fixed = (flags & (MAP_FIXED | MAP_FIXED_NOREPLACE)) !== 0n;
  let at: bigint | null;
  if (fixed) {
    // __get_unmapped_area for MAP_FIXED: alignment then range.
    if (addr & (PAGE_SIZE - 1n)) return err('EINVAL');
    if (size > ts || addr > ts - size) return err('ENOMEM');
    if (flags & MAP_FIXED_NOREPLACE && !(flags & MAP_FIXED) && !c.p.mm.isFree(addr, addr + size)) return err('EEXIST');
    at = addr;
  } else {
    if (size > ts) return err('ENOMEM');
    const hint = addr & ~(PAGE_SIZE - 1n);
    if (hint >= MMAP_MIN_ADDR && hint + size <= ts && c.p.mm.isFree(hint, hint + size)) at = hint;
    else if (flags & MAP_32BIT && !c.compat) at = c.p.mm.findFree(size, 0x80000000n, 0x40000000n);
    else at = c.p.mm.findFree(size, c.p.is32 ? MMAP_BASE_32 : MMAP_BASE_64, MMAP_MIN_ADDR);
    if (at === null) return err('ENOMEM');
  }
  const type = flags & MAP_TYPE;
  if (type !== MAP_SHARED && type !== MAP_PRIVATE && type !== MAP_SHARED_VALIDATE) return err('EINVAL');
  if (file) {
    if (file.kind !== 'file') return err('ENODEV'); // /dev/null and pipes have no ->mmap here
    if (!file.read) return err('EACCES');
    if (type !== MAP_PRIVATE) throw new NotModelled('shared file mappings');
  }
  c.p.mm.map(at, size, protBits(prot), anon ? 'anon' : 'file');
  if (file?.data) {
    const off = Number(pgoff * PAGE_SIZE);
    const bytes = file.data.bytes.subarray(Math.min(off, file.data.size), Math.min(file.data.size, off + Number(size)));
    if (bytes.length) c.p.mm.poke(at, bytes);
  }
  return at;
}

export const MEM: Record<string, SyscallImpl> = {
  // arch/x86/kernel/sys_x86_64.c: the byte offset must be page aligned.
  sys_mmap: {
    args: 'LLLLLL',
    run: (c, [a, l, pr, fl, fd, off]) => (off! & (PAGE_SIZE - 1n) ? err('EINVAL') : mmapPgoff(c, a!, l!, pr!, fl!, fd!, off! >> 12n)),
  },
  sys_mmap_pgoff: { args: 'LLLLLL', run: (c, [a, l, pr, fl, fd, pg]) => mmapPgoff(c, a!, l!, pr!, fl!, fd!, pg!) },
  // arch/x86/kernel/sys_ia32.c: old mmap takes a pointer to six 32-bit words.
  compat_sys_ia32_mmap: {
    args: 'L',
    run: (c, [p]) => {
      const b = get(c, p!, 24);
      if (!b) return err('EFAULT');
      const w = (i: number) => rdLe(b, i * 4, 4);
      if (w(5) & (PAGE_SIZE - 1n)) return err('EINVAL');
      return mmapPgoff(c, w(0), w(1), w(2), w(3), w(4), w(5) >> 12n);
    },
  },
  sys_munmap: {
    args: 'LL',
    run: (c, [a, l]) => {
      const ts = taskSize(c);
      if (a! & (PAGE_SIZE - 1n) || a! > ts || l! > ts - a!) return err('EINVAL');
      const size = pageUp(l!);
      if (size === 0n) return err('EINVAL');
      c.p.mm.unmap(a!, size);
      return 0n;
    },
  },
  sys_mprotect: {
    args: 'LLL',
    run: (c, [a, l, prot]) => {
      const grows = prot! & (PROT_GROWSDOWN | PROT_GROWSUP);
      if (grows === (PROT_GROWSDOWN | PROT_GROWSUP)) return err('EINVAL');
      if (a! & (PAGE_SIZE - 1n)) return err('EINVAL');
      if (l === 0n) return 0n;
      const size = pageUp(l!);
      const end = a! + size;
      if (size === 0n || end <= a!) return err('ENOMEM');
      // arch_validate_prot (generic): only R, W, X and SEM.
      if ((prot! & ~grows & ~(1n | 2n | 4n | PROT_SEM)) !== 0n) return err('EINVAL');
      if (!c.p.mm.fullyMapped(a!, size)) return err('ENOMEM');
      c.p.mm.protect(a!, size, protBits(prot!));
      return 0n;
    },
  },
  // mm/mmap.c brk: a request below the start, or one that would collide, returns the old break.
  sys_brk: {
    args: 'L',
    run: (c, [want]) => {
      const p = c.p;
      const b = want!;
      if (b < p.brkStart) return p.brk;
      const oldTop = pageUp(p.brk);
      const newTop = pageUp(b);
      if (newTop === oldTop) {
        p.brk = b;
        return b;
      }
      if (b <= p.brk) {
        p.mm.unmap(newTop, oldTop - newTop);
        p.brk = b;
        return b;
      }
      // The new area plus a guard page must not touch the next mapping.
      if (newTop > taskSize(c) || !p.mm.isFree(oldTop, newTop + PAGE_SIZE)) return p.brk;
      p.mm.map(oldTop, newTop - oldTop, PROT_READ | PROT_WRITE, '[heap]');
      p.brk = b;
      return b;
    },
  },
};
