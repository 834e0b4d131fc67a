// Segment and TLS syscalls: arch_prctl (FS/GS base, x86_64), set_thread_area /
// get_thread_area (GDT TLS entries 12-14), modify_ldt. Sources: arch/x86/kernel/process_64.c
// (do_arch_prctl_64, do_arch_prctl_common), arch/x86/kernel/tls.c, arch/x86/kernel/ldt.c,
// arch/x86/include/uapi/asm/ldt.h (struct user_desc), asm/prctl.h (codes).

import { err, get, put, le, rdLe, concat, NotModelled, type SyscallImpl, type SysCtx } from './types.js';
import { GDT_ENTRY_TLS_ENTRIES, GDT_ENTRY_TLS_MIN } from '../../../abi/constants.js';
import { TASK_SIZE_MAX } from '../mm.js';
import type { UserDesc } from '../process.js';

const ARCH_SET_GS = 0x1001n, ARCH_SET_FS = 0x1002n, ARCH_GET_FS = 0x1003n, ARCH_GET_GS = 0x1004n;
const ARCH_GET_CPUID = 0x1011n;
/** Codes that exist but the sim does not model (CPUID faulting, XSTATE permissions, vDSO
 *  mapping, LAM, shadow stacks). */
const ARCH_UNMODELLED = new Set([0x1012n, 0x1021n, 0x1022n, 0x1023n, 0x1024n, 0x1025n, 0x2001n, 0x2002n, 0x2003n,
  0x4001n, 0x4002n, 0x4003n, 0x4004n, 0x5001n, 0x5002n, 0x5003n, 0x5004n, 0x5005n]);
const GDT_ENTRY_TLS_MAX = GDT_ENTRY_TLS_MIN + GDT_ENTRY_TLS_ENTRIES - 1;
const LDT_ENTRIES = 8192;
/** read_default_ldt's size on CONFIG_X86_64 (ldt.c: `unsigned long size = 128`). */
export const READ_DEFAULT_LDT_SIZE = 128n;
const USER_DESC_SIZE = 16;
/** LDT_ENTRY_SIZE: one descriptor (struct desc_struct). */
const LDT_ENTRY_SIZE = 8;

/**
 * mm->context.ldt->nr_entries per process (arch/x86/kernel/ldt.c write_ldt): every write, a
 * clearing one included, makes it max(entry_number + 1, old nr_entries); it never shrinks.
 * Absent: the process has no LDT at all (mm->context.ldt NULL), which read_ldt answers with 0.
 */
const LDT_NR_ENTRIES = new WeakMap<object, number>();

/** nr_entries of the process's LDT, or 0 when it has none. */
export function ldtNrEntries(p: SysCtx['p']): number {
  const n = p.ldt.size === 0 ? 0 : Math.max(...p.ldt.keys()) + 1;
  return Math.max(n, LDT_NR_ENTRIES.get(p) ?? 0);
}

/**
 * fill_ldt (arch/x86/include/asm/desc.h) as the 8 bytes of struct desc_struct that read_ldt
 * copies out: limit 15..0, base 23..0, type (accessed bit set, "so it can be mapped RO"), S = 1,
 * DPL 3, P = !seg_not_present, limit 19..16, AVL = useable, L = 0 (never set from user space),
 * D/B = seg_32bit, G = limit_in_pages, base 31..24.
 */
export function fillLdtBytes(d: UserDesc): Uint8Array {
  const b = new Uint8Array(LDT_ENTRY_SIZE);
  const base = Number(d.base & 0xffffffffn);
  const limit = d.limit & 0xfffff;
  b[0] = limit & 0xff;
  b[1] = (limit >> 8) & 0xff;
  b[2] = base & 0xff;
  b[3] = (base >>> 8) & 0xff;
  b[4] = (base >>> 16) & 0xff;
  const type = ((d.readExecOnly ? 0 : 1) << 1) | (d.contents << 2) | 1;
  b[5] = type | 0x10 | (3 << 5) | (d.notPresent ? 0 : 0x80);
  b[6] = ((limit >> 16) & 0xf) | (d.useable ? 0x10 : 0) | (d.seg32 ? 0x40 : 0) | (d.limitInPages ? 0x80 : 0);
  b[7] = (base >>> 24) & 0xff;
  return b;
}

export function decodeUserDesc(b: Uint8Array): UserDesc {
  const f = Number(rdLe(b, 12, 4));
  return {
    entry: Number(BigInt.asIntN(32, rdLe(b, 0, 4))),
    base: rdLe(b, 4, 4),
    limit: Number(rdLe(b, 8, 4)),
    seg32: (f & 1) !== 0,
    contents: (f >> 1) & 3,
    readExecOnly: (f & 8) !== 0,
    limitInPages: (f & 16) !== 0,
    notPresent: (f & 32) !== 0,
    useable: (f & 64) !== 0,
    lm: (f & 128) !== 0,
  };
}

export function encodeUserDesc(d: UserDesc | null, entry: number): Uint8Array {
  if (!d) {
    // fill_user_desc of an empty descriptor: everything 0 except read_exec_only and
    // seg_not_present, which an all-zero descriptor decodes to (arch/x86/kernel/tls.c).
    return concat(le(BigInt(entry), 4), le(0n, 4), le(0n, 4), le(BigInt(8 | 32), 4));
  }
  const f = (d.seg32 ? 1 : 0) | (d.contents << 1) | (d.readExecOnly ? 8 : 0) | (d.limitInPages ? 16 : 0) |
    (d.notPresent ? 32 : 0) | (d.useable ? 64 : 0) | (d.lm ? 128 : 0);
  return concat(le(BigInt(entry), 4), le(d.base, 4), le(BigInt(d.limit & 0xfffff), 4), le(BigInt(f), 4));
}

/** LDT_empty (asm/desc.h): base, limit and attributes all zero, read_exec_only and not_present set. */
function ldtEmpty(d: UserDesc): boolean {
  return d.base === 0n && d.limit === 0 && d.contents === 0 && d.readExecOnly && !d.seg32 &&
    !d.limitInPages && d.notPresent && !d.useable;
}
/** LDT_zero: every field zero. */
function ldtZero(d: UserDesc): boolean {
  return d.base === 0n && d.limit === 0 && d.contents === 0 && !d.readExecOnly && !d.seg32 &&
    !d.limitInPages && !d.notPresent && !d.useable;
}

/** tls_desc_okay (arch/x86/kernel/tls.c): only present, 32-bit data segments may go in the TLS array. */
function tlsDescOkay(d: UserDesc): boolean {
  if (ldtEmpty(d) || ldtZero(d)) return true;
  if (!d.seg32) return false;
  if (d.contents > 1) return false;
  if (d.notPresent) return false;
  return true;
}

export const TLS: Record<string, SyscallImpl> = {
  sys_arch_prctl: {
    args: 'iL',
    run: (c, [code, addr]) => {
      const op = BigInt.asUintN(32, code!);
      // 64-bit-only codes are not reachable from a 32-bit syscall (do_arch_prctl_common only).
      if (!c.ia32) {
        switch (op) {
          case ARCH_SET_FS:
          case ARCH_SET_GS:
            if (addr! >= TASK_SIZE_MAX) return err('EPERM');
            // Selector becomes 0 and the base is written directly (x86_fsbase_write_cpu).
            if (op === ARCH_SET_FS) {
              c.p.fsSel = 0;
              c.p.fsBase = addr!;
            } else {
              c.p.gsSel = 0;
              c.p.gsBase = addr!;
            }
            c.p.segChanged = true;
            c.note(`arch_prctl: ${op === ARCH_SET_FS ? 'FS' : 'GS'} selector 0, base ← 0x${addr!.toString(16)}`);
            return 0n;
          case ARCH_GET_FS:
            return put(c, addr!, le(c.p.fsBase, 8)) ? 0n : err('EFAULT');
          case ARCH_GET_GS:
            return put(c, addr!, le(c.p.gsBase, 8)) ? 0n : err('EFAULT');
        }
      }
      if (op === ARCH_GET_CPUID) return 1n; // CPUID not faulting
      const common = op === 0x1012n || (op >= 0x1021n && op <= 0x1025n);
      if (ARCH_UNMODELLED.has(op) && (!c.ia32 || common)) {
        throw new NotModelled(`arch_prctl code 0x${op.toString(16)}`);
      }
      return err('EINVAL');
    },
  },

  sys_set_thread_area: {
    args: 'L',
    run: (c, [uinfo]) => {
      const b = get(c, uinfo!, USER_DESC_SIZE);
      if (!b) return err('EFAULT');
      const d = decodeUserDesc(b);
      if (!tlsDescOkay(d)) return err('EINVAL');
      let idx = d.entry;
      if (idx === -1) {
        // get_free_idx: the first empty TLS slot, written back to entry_number.
        const free = c.p.tls.findIndex((t) => t === null);
        if (free < 0) return err('ESRCH');
        idx = GDT_ENTRY_TLS_MIN + free;
        if (!put(c, uinfo!, le(BigInt(idx), 4))) return err('EFAULT');
      }
      if (idx < GDT_ENTRY_TLS_MIN || idx > GDT_ENTRY_TLS_MAX) return err('EINVAL');
      // fill_ldt never sets the L bit (asm/desc.h), so get_thread_area reads lm back as 0.
      c.p.tls[idx - GDT_ENTRY_TLS_MIN] = ldtEmpty(d) || ldtZero(d) ? null : { ...d, entry: idx, lm: false };
      c.p.segChanged = true;
      c.note(`set_thread_area: GDT[${idx}] (selector 0x${(idx * 8 + 3).toString(16)}) ← base 0x${d.base.toString(16)}`);
      return 0n;
    },
  },
  sys_get_thread_area: {
    args: 'L',
    run: (c, [uinfo]) => {
      const b = get(c, uinfo!, 4);
      if (!b) return err('EFAULT');
      const idx = Number(BigInt.asIntN(32, rdLe(b, 0, 4)));
      if (idx < GDT_ENTRY_TLS_MIN || idx > GDT_ENTRY_TLS_MAX) return err('EINVAL');
      return put(c, uinfo!, encodeUserDesc(c.p.tls[idx - GDT_ENTRY_TLS_MIN]!, idx)) ? 0n : err('EFAULT');
    },
  },

  // arch/x86/kernel/ldt.c: the result is cast to unsigned int on purpose ("the ABI expects an
  // int"), so on x86_64 a negative error comes back zero-extended: -EINVAL is 0x00000000ffffffea.
  sys_modify_ldt: {
    args: 'iLL',
    run: (c, [func, ptr, count]) => {
      const r = modifyLdt(c, Number(func!), ptr!, count!);
      return BigInt.asUintN(32, r);
    },
  },
};

function modifyLdt(c: SysCtx, func: number, ptr: bigint, count: bigint): bigint {
  switch (func) {
    case 0: { // read_ldt
      // No LDT at all: 0, and nothing is written.
      if (!LDT_NR_ENTRIES.has(c.p) && c.p.ldt.size === 0) return 0n;
      // bytecount is clamped to the largest LDT (LDT_ENTRIES * LDT_ENTRY_SIZE = 64 KiB); the
      // entries (nr_entries of them, gaps as zero descriptors) are copied, the rest of bytecount
      // is zero-filled, and the result is bytecount: "pretend we read bytecount bytes".
      const max = BigInt(LDT_ENTRIES * LDT_ENTRY_SIZE);
      const n = count > max ? Number(max) : Number(count);
      const out = new Uint8Array(n);
      const entries = Math.min(ldtNrEntries(c.p) * LDT_ENTRY_SIZE, n);
      for (let i = 0; i * LDT_ENTRY_SIZE < entries; i++) {
        const d = c.p.ldt.get(i);
        if (d) out.set(fillLdtBytes(d).subarray(0, Math.min(LDT_ENTRY_SIZE, entries - i * LDT_ENTRY_SIZE)), i * LDT_ENTRY_SIZE);
      }
      if (n === 0) return 0n;
      c.note(`read_ldt: ${entries / LDT_ENTRY_SIZE} entr${entries === LDT_ENTRY_SIZE ? 'y' : 'ies'} copied, ${n - entries} bytes zero-filled`);
      return put(c, ptr, out) ? BigInt(n) : err('EFAULT');
    }
    case 2: { // read_default_ldt (arch/x86/kernel/ldt.c): clears and returns up to 128 bytes
      // on a 64-bit kernel (5 descriptors' worth, 40, only under CONFIG_X86_32, not modelled).
      const len = count > READ_DEFAULT_LDT_SIZE ? READ_DEFAULT_LDT_SIZE : count;
      return put(c, ptr, new Uint8Array(Number(len))) ? len : err('EFAULT');
    }
    case 1:
    case 0x11: {
      const old = func === 1;
      if (count !== BigInt(USER_DESC_SIZE)) return err('EINVAL');
      const b = get(c, ptr, USER_DESC_SIZE);
      if (!b) return err('EFAULT');
      const d = decodeUserDesc(b);
      if (d.entry < 0 || d.entry >= LDT_ENTRIES) return err('EINVAL');
      if (d.contents === 3 && (old || !d.notPresent)) return err('EINVAL');
      // The LDT grows to hold the entry even when the write clears it (write_ldt: new_nr_entries).
      LDT_NR_ENTRIES.set(c.p, Math.max(ldtNrEntries(c.p), d.entry + 1));
      if ((old && d.base === 0n && d.limit === 0) || ldtEmpty(d)) c.p.ldt.delete(d.entry);
      // fill_ldt drops lm; the old mode (func 1) also clears AVL ("if (oldmode) ldt.avl = 0").
      else c.p.ldt.set(d.entry, { ...d, lm: false, useable: old ? false : d.useable });
      c.note(`modify_ldt: LDT[${d.entry}] (selector 0x${(d.entry * 8 + 7).toString(16)}) written`);
      return 0n;
    }
    default:
      return err('ENOSYS');
  }
}
