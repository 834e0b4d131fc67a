// CPU vendor profiles as data (DESIGN.md principle 3): every difference between Intel and AMD
// that the entry/exit instructions show is a field of CpuVendorTraits, read by the
// instruction files; nothing else in sim/cpu/ asks "is this Intel?".

import type { CpuVendorTraits } from './api.js';

/**
 * Intel 64 (SDM Vol. 2B): SYSCALL/SYSRET only in 64-bit mode (#UD elsewhere); SYSENTER/SYSEXIT
 * valid in every protected mode including IA-32e; SYSRET checks RCX for canonical form and
 * raises #GP(0) while still at CPL 0; SYSRET loads fixed SS attributes; a NULL selector load
 * clears the FS/GS base.
 */
export const INTEL: CpuVendorTraits = Object.freeze({
  vendor: 'intel',
  syscallInCompat: 'ud',
  sysenterInLongMode: 'valid',
  sysretNonCanonical: 'gp-cpl0',
  sysretKeepsSsAttrs: false,
  fred: false,
  syscallInLegacy: 'ud',
  nullSelectorClearsBase: true,
  sysretOutside64: 'ud',
});

/**
 * AMD64 (APM Vol. 3): SYSCALL valid in compatibility mode (enters at CSTAR) and in legacy mode
 * (enters at STAR[31:0]); SYSENTER/SYSEXIT #UD in long mode; SYSRET does not check RCX, so a
 * non-canonical RIP faults at the first user fetch (CPL 3); SYSRET writes SS's selector but
 * leaves its hidden attributes (Linux X86_BUG_SYSRET_SS_ATTRS, arch/x86/kernel/process_64.c);
 * a NULL selector load keeps the old base (X86_BUG_NULL_SEG) on CPUs without
 * NullSelectorClearsBase.
 */
export const AMD: CpuVendorTraits = Object.freeze({
  vendor: 'amd',
  syscallInCompat: 'cstar',
  sysenterInLongMode: 'ud',
  sysretNonCanonical: 'user-fault',
  sysretKeepsSsAttrs: true,
  fred: false,
  syscallInLegacy: 'star-eip',
  nullSelectorClearsBase: false,
  sysretOutside64: 'valid',
});

/**
 * The same vendor with FRED enabled (CR4.FRED=1; Intel FRED spec, Linux v6.9
 * arch/x86/entry/entry_fred.c): SYSCALL and SYSENTER become FRED events (no RCX/R11 writes),
 * SYSRET and SYSEXIT raise #UD, and ERETU returns to user mode.
 */
export function withFred(t: CpuVendorTraits): CpuVendorTraits {
  return Object.freeze({ ...t, fred: true });
}

/** Look a vendor up by name (profiles name it as a string). */
export function vendorTraits(vendor: 'intel' | 'amd', fred = false): CpuVendorTraits {
  const base = vendor === 'intel' ? INTEL : AMD;
  return fred ? withFred(base) : base;
}
