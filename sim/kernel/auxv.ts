// The simulated process's auxiliary vector and the special mappings /proc/self/maps shows
// (VD-01, VD-04; Case.observe). Placement and sizes of the vDSO data pages follow
// arch/x86/entry/vdso/vma.c map_vdso per kernel version; the [vsyscall] line follows
// get_gate_vma (arch/x86/entry/vsyscall/vsyscall_64.c) as fs/proc/task_mmu.c prints it.

import type { Abi, MapLine, Profile } from '../../harness/contracts.js';
import { VSYSCALL_ADDR } from '../../abi/constants.js';
import { PAGE_SIZE, PROT_EXEC, PROT_READ, PROT_WRITE, type Vma } from './mm.js';
import { versionAtLeast } from '../profiles.js';

/**
 * The vDSO data ("vvar") mappings that sit right below the vDSO text, lowest first. map_vdso
 * reserves them and the text in one get_unmapped_area and puts the text on top:
 * - v3.16 .. v6.12: one [vvar] mapping of __VVAR_PAGES (vvar, pvclock, hvclock pages; v5.6 adds
 *   the time-namespace page: 4), VM_READ|VM_MAYREAD|VM_IO|VM_DONTDUMP|VM_PFNMAP → "r--p".
 * - v6.13 (e93d2521b27f "x86/vdso: Split virtual clock pages into dedicated mapping"): the
 *   pvclock/hvclock pages move to their own [vvar_vclock] mapping (2 pages) between [vvar] and
 *   the text; v6.15 (generic vDSO data store) keeps both names.
 */
export function vvarLayout(profile: Profile, vdsoBase: bigint): { name: string; start: bigint; end: bigint }[] {
  if (versionAtLeast(profile.kernel, '6.13')) {
    const vclock = vdsoBase - 2n * PAGE_SIZE;
    return [
      { name: '[vvar]', start: vclock - 4n * PAGE_SIZE, end: vclock },
      { name: '[vvar_vclock]', start: vclock, end: vdsoBase },
    ];
  }
  const pages = versionAtLeast(profile.kernel, '5.6') ? 4n : 3n;
  return [{ name: '[vvar]', start: vdsoBase - pages * PAGE_SIZE, end: vdsoBase }];
}

export interface AuxvInput {
  profile: Profile;
  abi: Abi;
  vdsoBase: bigint | null;
  /** i386 only: the address of __kernel_vsyscall. */
  kernelVsyscall: bigint | null;
  uid: bigint;
  gid: bigint;
}

/**
 * What create_elf_tables (fs/binfmt_elf.c) and ARCH_DLINFO put in the auxv, for the entries the
 * simulator knows. ARCH_DLINFO_IA32 (arch/x86/include/asm/elf.h) gives an i386 process
 * AT_SYSINFO = __kernel_vsyscall and AT_SYSINFO_EHDR; ARCH_DLINFO (64-bit) and ARCH_DLINFO_X32
 * give only AT_SYSINFO_EHDR. AT_HWCAP2 bit 1 (HWCAP2_FSGSBASE) is set when the kernel enabled
 * CR4.FSGSBASE (v5.9). CPU-dependent entries (AT_HWCAP, AT_MINSIGSTKSZ, AT_PLATFORM) and
 * addresses of the program image and stack strings are not modelled.
 */
export function simAuxv(a: AuxvInput): Record<string, bigint> {
  const out: Record<string, bigint> = {};
  if (a.vdsoBase !== null) out.AT_SYSINFO_EHDR = a.vdsoBase;
  if (a.abi === 'i386' && a.kernelVsyscall !== null) out.AT_SYSINFO = a.kernelVsyscall;
  out.AT_PAGESZ = PAGE_SIZE;
  out.AT_CLKTCK = 100n; // USER_HZ
  out.AT_UID = a.uid;
  out.AT_EUID = a.uid;
  out.AT_GID = a.gid;
  out.AT_EGID = a.gid;
  out.AT_SECURE = 0n;
  out.AT_HWCAP2 = a.profile.features.includes('fsgsbase') ? 2n : 0n;
  return out;
}

function perms(prot: number): string {
  return `${prot & PROT_READ ? 'r' : '-'}${prot & PROT_WRITE ? 'w' : '-'}${prot & PROT_EXEC ? 'x' : '-'}p`;
}

/**
 * The bracketed lines of /proc/self/maps. The process's own VMAs named [..] come from the
 * address space; the vsyscall page is not one of them in the kernel: it is the gate vma, which
 * show_map appends after the last VMA when get_gate_vma(mm) returns it — only for an mm with
 * MM_CONTEXT_HAS_VSYSCALL (set_personality_64bit; an i386 or x32 exec leaves it clear, and
 * before v5.11 the test was !mm->context.ia32_compat, which TIF_IA32 and TIF_X32 both set) and
 * a vsyscall mode other than none. Its vm_flags are VM_READ|VM_EXEC for emulate and VM_EXEC
 * alone for xonly (vsyscall_64.c map_vsyscall clears VM_READ): "r-xp" / "--xp".
 */
export function simMaps(vmas: readonly Vma[], profile: Profile, abi: Abi): MapLine[] {
  const out: MapLine[] = [];
  for (const v of vmas) {
    if (v.kernel || !v.name.startsWith('[') || v.name === '[vsyscall]') continue;
    out.push({ name: v.name, start: v.start, end: v.end, perms: perms(v.prot) });
  }
  if (abi === 'x86_64' && profile.vsyscall !== 'none') {
    out.push({ name: '[vsyscall]', start: VSYSCALL_ADDR, end: VSYSCALL_ADDR + PAGE_SIZE, perms: profile.vsyscall === 'emulate' ? 'r-xp' : '--xp' });
  }
  return out;
}
