// Load-time refusal of set-up calls and after-calls that move the native probe's own C-library
// thread pointer: arch_prctl(ARCH_SET_FS) in a 64-bit (x86_64/x32) process, set_thread_area of
// GDT entry 12 in an i386 one. glibc reaches errno, the stack-protector canary and its TLS
// through that pointer, and the probe runs libc code between a set-up call and the case's call,
// so such a case would crash the probe rather than test the kernel. The case's own call may do
// it: the probe puts the FS base back right after the call, before any libc code
// (probes/probe.c restore_fsbase). An exec case has no set-up calls at all (harness/spec/setup.ts).

import type { Abi, MemRegion, SetupCall } from '../contracts.js';
import type { CallListKey } from './setup.js';
import type { Path } from './doc.js';

type Fail = (p: Path, msg: string, keyNode?: boolean) => void;

/** ARCH_SET_FS (uapi/asm/prctl.h). */
const ARCH_SET_FS = 0x1002n;
/**
 * The GDT entry glibc's i386 start-up gets for its TLS: it asks set_thread_area for entry -1,
 * and the kernel hands out the first free one from GDT_ENTRY_TLS_MIN, which is 12 under a 64-bit
 * kernel (arch/x86/include/asm/segment.h; selector 0x63 in GS, arch/x86/kernel/tls.c).
 */
const GLIBC_TLS_ENTRY = 12;

/** The u32 at byte `off` of a region's initial bytes (the rest is `fill`), or undefined. */
function regionU32(r: MemRegion, off: number): number | undefined {
  if (off < 0 || off + 4 > r.size) return undefined;
  let v = 0;
  for (let i = 3; i >= 0; i--) {
    const at = off + i;
    const byte = at * 2 + 2 <= r.hex.length ? parseInt(r.hex.slice(at * 2, at * 2 + 2), 16) : r.fill & 0xff;
    v = v * 256 + byte;
  }
  return v;
}

/** Refuse the calls of `key` (setup/after) that would move the probe's thread pointer. */
export function refuseThreadPointerCalls(calls: readonly SetupCall[] | undefined, key: CallListKey, abi: Abi, memory: readonly MemRegion[], fail: Fail): void {
  const word = key === 'setup' ? 'set-up call' : 'after-call';
  calls?.forEach((c, i) => {
    // A call that must fail moves nothing.
    if (c.expectErrno !== undefined) return;
    const a0 = c.args[0];
    if (abi !== 'i386' && c.entry !== 'int80' && c.name === 'arch_prctl' && a0?.ref === undefined && a0?.lit === ARCH_SET_FS) {
      fail([key, i], `${word} ${i + 1}: arch_prctl(ARCH_SET_FS) moves the FS base, which holds the native probe's C-library thread pointer (errno, stack canary, TLS), and libc code runs before the case's call; use ARCH_SET_GS, or make ARCH_SET_FS the case's own call (the probe restores FS right after it)`, true);
    }
    if (abi === 'i386' && c.name === 'set_thread_area' && a0?.ref === 'buf') {
      const r = memory.find((m) => m.name === a0.name);
      const entry = r ? regionU32(r, Number(a0.add ?? 0n)) : undefined;
      if (entry === GLIBC_TLS_ENTRY) {
        fail([key, i], `${word} ${i + 1}: set_thread_area of entry ${GLIBC_TLS_ENTRY} rewrites the TLS descriptor GS selects (0x63) for the native i386 probe's C-library thread pointer, and libc code runs before the case's call; use entry 13 or 14, or -1 (the kernel picks a free one)`, true);
      }
    }
  });
}
