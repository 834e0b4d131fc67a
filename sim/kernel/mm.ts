// The simulated process's address space: a sparse set of VMAs with protections, backed by
// 4 KiB pages created on first write. It is also the CPU layer's MemoryBus (linear addresses,
// page-fault error codes as the MMU reports them), so a kernel access to an unmapped user
// pointer fails the way copy_from_user does (-EFAULT) and a user access faults (#PF).

import type { MemoryBus } from '../cpu/api.js';

export const PAGE_SIZE = 4096n;
export const PAGE_MASK = ~(PAGE_SIZE - 1n);
/** Highest user address + 1 on 4-level paging (arch/x86/include/asm/page_64_types.h):
 *  one guard page below the canonical hole. */
export const TASK_SIZE_MAX = (1n << 47n) - PAGE_SIZE;
/** TASK_SIZE for an ia32 task (IA32_PAGE_OFFSET, arch/x86/include/asm/processor.h). */
export const IA32_TASK_SIZE = 0xffffe000n;

export const PROT_READ = 1;
export const PROT_WRITE = 2;
export const PROT_EXEC = 4;

/** #PF error-code bits (Intel SDM Vol. 3A §4.7). */
export const PF_PROT = 1; // the page was present (protection violation)
export const PF_WRITE = 2;
export const PF_USER = 4;
export const PF_INSTR = 16;

export interface Vma {
  start: bigint; // page aligned
  end: bigint; // exclusive, page aligned
  prot: number;
  /** Kernel mappings (entry stacks, vsyscall page data) are not reachable at CPL 3. */
  kernel: boolean;
  name: string;
  /** Present in the page tables. The xonly vsyscall page is a VMA with no readable PTE. */
  present?: boolean;
}

export type Fault = { fault: 'PF'; errorCode: number };

export function isCanonical(addr: bigint): boolean {
  const top = addr >> 47n;
  return top === 0n || top === 0x1ffffn;
}

export function pageDown(a: bigint): bigint {
  return a & PAGE_MASK;
}
export function pageUp(a: bigint): bigint {
  return (a + PAGE_SIZE - 1n) & PAGE_MASK;
}

export class AddressSpace implements MemoryBus {
  /** Sorted by start, non-overlapping. */
  vmas: Vma[] = [];
  private pages = new Map<bigint, Uint8Array>();

  find(addr: bigint): Vma | undefined {
    // Small lists (a dozen VMAs): a linear scan beats anything clever.
    for (const v of this.vmas) {
      if (addr < v.start) return undefined;
      if (addr < v.end) return v;
    }
    return undefined;
  }

  /** True when no VMA overlaps [start, end). */
  isFree(start: bigint, end: bigint): boolean {
    for (const v of this.vmas) if (v.start < end && start < v.end) return false;
    return true;
  }

  map(start: bigint, len: bigint, prot: number, name: string, kernel = false): Vma {
    const s = pageDown(start);
    const e = pageUp(start + len);
    this.unmap(s, e - s);
    const v: Vma = { start: s, end: e, prot, kernel, name };
    let i = 0;
    while (i < this.vmas.length && this.vmas[i]!.start < s) i++;
    this.vmas.splice(i, 0, v);
    return v;
  }

  /** Insert a page-aligned VMA the caller knows overlaps nothing (the fixed process layout). */
  mapFresh(start: bigint, end: bigint, prot: number, name: string, kernel = false): Vma {
    const v: Vma = { start, end, prot, kernel, name };
    let i = this.vmas.length;
    while (i > 0 && this.vmas[i - 1]!.start > start) i--;
    this.vmas.splice(i, 0, v);
    return v;
  }

  /** Remove [start, start+len) from every VMA, splitting as munmap does; drops page data. */
  unmap(start: bigint, len: bigint): void {
    const s = pageDown(start);
    const e = pageUp(start + len);
    const out: Vma[] = [];
    for (const v of this.vmas) {
      if (v.end <= s || v.start >= e) {
        out.push(v);
        continue;
      }
      if (v.start < s) out.push({ ...v, end: s });
      if (v.end > e) out.push({ ...v, start: e });
    }
    this.vmas = out;
    for (let pg = s; pg < e; pg += PAGE_SIZE) {
      if (this.pages.size === 0) break;
      this.pages.delete(pg);
      if (e - s > 1n << 30n) break; // huge ranges: page data of such ranges is never populated here
    }
  }

  /** Change protection over a range that must be fully mapped (mprotect checks that first). */
  protect(start: bigint, len: bigint, prot: number): void {
    const s = pageDown(start);
    const e = pageUp(start + len);
    const out: Vma[] = [];
    for (const v of this.vmas) {
      if (v.end <= s || v.start >= e) {
        out.push(v);
        continue;
      }
      if (v.start < s) out.push({ ...v, end: s });
      out.push({ ...v, start: v.start < s ? s : v.start, end: v.end > e ? e : v.end, prot });
      if (v.end > e) out.push({ ...v, start: e });
    }
    this.vmas = out;
  }

  /** Is every page of [start, start+len) covered by some VMA? */
  fullyMapped(start: bigint, len: bigint): boolean {
    let a = pageDown(start);
    const e = pageUp(start + len);
    while (a < e) {
      const v = this.find(a);
      if (!v) return false;
      a = v.end;
    }
    return true;
  }

  private page(pg: bigint, create: boolean): Uint8Array | undefined {
    let p = this.pages.get(pg);
    if (!p && create) {
      p = new Uint8Array(Number(PAGE_SIZE));
      this.pages.set(pg, p);
    }
    return p;
  }

  /** Check an access to [addr, addr+len) with the MMU's rules; returns the fault or null. */
  check(addr: bigint, len: number, cpl: number, kind: 'r' | 'w' | 'x'): Fault | null {
    const user = cpl === 3;
    const last = addr + BigInt(Math.max(len, 1)) - 1n;
    for (let a = addr; a <= last; a = pageDown(a) + PAGE_SIZE) {
      if (!isCanonical(a)) return { fault: 'PF', errorCode: 0 }; // callers turn this into #GP
      const v = this.find(a);
      const base = (user ? PF_USER : 0) | (kind === 'w' ? PF_WRITE : 0) | (kind === 'x' ? PF_INSTR : 0);
      if (!v || v.present === false) return { fault: 'PF', errorCode: base };
      const need = kind === 'r' ? PROT_READ : kind === 'w' ? PROT_WRITE : PROT_EXEC;
      if ((user && v.kernel) || (v.prot & need) === 0) return { fault: 'PF', errorCode: base | PF_PROT };
    }
    return null;
  }

  /** Raw read with no permission check (page contents; unpopulated pages read as zero). */
  peek(addr: bigint, len: number): Uint8Array {
    const out = new Uint8Array(len);
    let i = 0;
    while (i < len) {
      const a = addr + BigInt(i);
      const pg = pageDown(a);
      const off = Number(a - pg);
      const n = Math.min(len - i, Number(PAGE_SIZE) - off);
      const p = this.page(pg, false);
      if (p) out.set(p.subarray(off, off + n), i);
      i += n;
    }
    return out;
  }

  /** Raw write with no permission check. */
  poke(addr: bigint, bytes: Uint8Array): void {
    let i = 0;
    while (i < bytes.length) {
      const a = addr + BigInt(i);
      const pg = pageDown(a);
      const off = Number(a - pg);
      const n = Math.min(bytes.length - i, Number(PAGE_SIZE) - off);
      this.page(pg, true)!.set(bytes.subarray(i, i + n), off);
      i += n;
    }
  }

  // MemoryBus (sim/cpu/api.ts): what the CPU's INT/IRET frame pushes and pops go through.
  read(addr: bigint, len: number, cpl: number): Uint8Array | Fault {
    const f = this.check(addr, len, cpl, 'r');
    return f ?? this.peek(addr, len);
  }
  write(addr: bigint, bytes: Uint8Array, cpl: number): true | Fault {
    const f = this.check(addr, bytes.length, cpl, 'w');
    if (f) return f;
    this.poke(addr, bytes);
    return true;
  }

  // Kernel accessors for user memory (copy_from_user / copy_to_user): only user VMAs below
  // TASK_SIZE_MAX, which is what access_ok() and the fault fixups give (arch/x86/include/asm/uaccess.h).
  copyFromUser(addr: bigint, len: number): Uint8Array | null {
    if (len === 0) return new Uint8Array(0);
    if (addr < 0n || addr + BigInt(len) > TASK_SIZE_MAX) return null;
    return this.check(addr, len, 3, 'r') ? null : this.peek(addr, len);
  }
  copyToUser(addr: bigint, bytes: Uint8Array): boolean {
    if (bytes.length === 0) return true;
    if (addr < 0n || addr + BigInt(bytes.length) > TASK_SIZE_MAX) return false;
    if (this.check(addr, bytes.length, 3, 'w')) return false;
    this.poke(addr, bytes);
    return true;
  }
  /** Bytes copyable from addr before the first fault (for partial reads/writes). */
  userWritableSpan(addr: bigint, len: number): number {
    let n = 0;
    while (n < len) {
      const a = addr + BigInt(n);
      if (a >= TASK_SIZE_MAX || this.check(a, 1, 3, 'w')) break;
      n += Math.min(len - n, Number(pageDown(a) + PAGE_SIZE - a));
    }
    return n;
  }
  userReadableSpan(addr: bigint, len: number): number {
    let n = 0;
    while (n < len) {
      const a = addr + BigInt(n);
      if (a >= TASK_SIZE_MAX || this.check(a, 1, 3, 'r')) break;
      n += Math.min(len - n, Number(pageDown(a) + PAGE_SIZE - a));
    }
    return n;
  }

  /** Top-down search for a free range of `len` bytes below `below`, above `floor` (mmap's
   *  default layout, mm/mmap.c vm_unmapped_area with VM_UNMAPPED_AREA_TOPDOWN). */
  findFree(len: bigint, below: bigint, floor: bigint): bigint | null {
    let top = pageDown(below);
    for (;;) {
      const start = top - len;
      if (start < floor) return null;
      let clash: Vma | undefined;
      for (const v of this.vmas) if (v.start < top && start < v.end && (!clash || v.end > clash.end)) clash = v;
      if (!clash) return start;
      top = clash.start;
    }
  }
}
