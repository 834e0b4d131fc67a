// A small paged memory implementing MemoryBus for the CPU layer's own use and for tests:
// 4 KiB pages mapped explicitly with user/supervisor and writable bits, and #PF error codes
// formed the way the MMU forms them (Intel SDM Vol. 3A §5.7 "Page-Fault Exceptions":
// P=1 protection violation vs not-present, W=2 write, U=4 user-mode access).

import type { MemoryBus } from './api.js';

export const PAGE = 4096n;
export const PF_P = 1;
export const PF_W = 2;
export const PF_U = 4;

interface Page { bytes: Uint8Array; user: boolean; writable: boolean }

export class PagedMemory implements MemoryBus {
  private pages = new Map<bigint, Page>();

  /** Map [addr, addr+len) rounded out to pages; existing pages keep their contents. */
  map(addr: bigint, len: number, opts: { user: boolean; writable: boolean }): void {
    const first = addr / PAGE;
    const last = (addr + BigInt(Math.max(len, 1)) - 1n) / PAGE;
    for (let p = first; p <= last; p++) {
      const old = this.pages.get(p);
      this.pages.set(p, { bytes: old?.bytes ?? new Uint8Array(Number(PAGE)), user: opts.user, writable: opts.writable });
    }
  }

  unmap(addr: bigint, len: number): void {
    const first = addr / PAGE;
    const last = (addr + BigInt(Math.max(len, 1)) - 1n) / PAGE;
    for (let p = first; p <= last; p++) this.pages.delete(p);
  }

  private check(addr: bigint, len: number, cpl: number, write: boolean): { fault: 'PF'; errorCode: number } | null {
    for (let i = 0; i < len; i++) {
      const a = addr + BigInt(i);
      const pg = this.pages.get(a / PAGE);
      const u = cpl === 3 ? PF_U : 0;
      const w = write ? PF_W : 0;
      if (!pg) return { fault: 'PF', errorCode: u | w };
      if ((cpl === 3 && !pg.user) || (write && !pg.writable)) return { fault: 'PF', errorCode: PF_P | u | w };
    }
    return null;
  }

  /** The page holding [addr, addr+len) when the access fits in one page and is allowed. */
  private onePage(addr: bigint, len: number, cpl: number, write: boolean): { pg: Page; off: number } | null {
    const off = Number(addr & (PAGE - 1n));
    if (off + len > Number(PAGE)) return null;
    const pg = this.pages.get(addr / PAGE);
    if (!pg || (cpl === 3 && !pg.user) || (write && !pg.writable)) return null;
    return { pg, off };
  }

  read(addr: bigint, len: number, cpl: number): Uint8Array | { fault: 'PF'; errorCode: number } {
    const one = this.onePage(addr, len, cpl, false);
    if (one) return one.pg.bytes.slice(one.off, one.off + len);
    const bad = this.check(addr, len, cpl, false);
    if (bad) return bad;
    const out = new Uint8Array(len);
    for (let i = 0; i < len; i++) {
      const a = addr + BigInt(i);
      out[i] = this.pages.get(a / PAGE)!.bytes[Number(a % PAGE)]!;
    }
    return out;
  }

  write(addr: bigint, bytes: Uint8Array, cpl: number): true | { fault: 'PF'; errorCode: number } {
    const one = this.onePage(addr, bytes.length, cpl, true);
    if (one) {
      one.pg.bytes.set(bytes, one.off);
      return true;
    }
    const bad = this.check(addr, bytes.length, cpl, true);
    if (bad) return bad;
    for (let i = 0; i < bytes.length; i++) {
      const a = addr + BigInt(i);
      this.pages.get(a / PAGE)!.bytes[Number(a % PAGE)] = bytes[i]!;
    }
    return true;
  }
}
