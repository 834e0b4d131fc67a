// The vDSO functions (arch/x86/entry/vdso/: vclock_gettime.c, vgetcpu.c; lib/vdso/gettimeofday.c)
// and the legacy vsyscall page (arch/x86/entry/vsyscall/vsyscall_64.c). vDSO functions run in
// user mode: a bad pointer is a user #PF → SIGSEGV, and clocks the vDSO cannot read fall back
// to the real syscall (so an invalid clock id returns -EINVAL). They read the same virtual
// clock as the syscalls, so both agree (ABI-FACTS VD-03). vsyscall calls fault into the
// kernel, which emulates them: the return address is read from [rsp], bad pointers are
// SIGSEGV (not -EFAULT), and the emulation ends by popping the return address.

import type { Case } from '../../harness/contracts.js';
import { ARG_REGS, GPRS64 } from '../../harness/contracts.js';
import { SIGNALS, SI_CODES, VSYSCALL_ADDR } from '../../abi/constants.js';
import { HANDLERS } from './syscalls/index.js';
import { NotModelled, type SysCtx } from './syscalls/types.js';
import type { Kernel } from './kernel.js';
import type { PtRegs } from './dispatch.js';
import { secureComputing } from './trace.js';
import { TASK_SIZE_MAX } from './mm.js';
import { since } from '../profiles.js';

/** Exported symbols per ABI (vdso64.lds.S, vdsox32.lds.S, vdso32/vdso32.lds.S; ABI-FACTS VD-02). */
const SYMBOLS: Record<string, string[]> = {
  x86_64: ['clock_gettime', 'gettimeofday', 'getcpu', 'time', 'clock_getres', '__vdso_clock_gettime', '__vdso_gettimeofday',
    '__vdso_getcpu', '__vdso_time', '__vdso_clock_getres'],
  x32: ['__vdso_clock_gettime', '__vdso_gettimeofday', '__vdso_getcpu', '__vdso_time', '__vdso_clock_getres'],
  i386: ['__vdso_clock_gettime', '__vdso_gettimeofday', '__vdso_time', '__vdso_clock_getres', '__vdso_clock_gettime64', '__vdso_getcpu'],
};

/** Which syscall implementation computes each function's values, per ABI (the vDSO and the syscall share the data). */
function implFor(fn: string, i386: boolean): string {
  switch (fn) {
    case 'clock_gettime': return i386 ? 'sys_clock_gettime32' : 'sys_clock_gettime';
    case 'clock_gettime64': return 'sys_clock_gettime';
    case 'gettimeofday': return i386 ? 'compat_sys_gettimeofday' : 'sys_gettimeofday';
    case 'time': return i386 ? 'sys_time32' : 'sys_time';
    case 'clock_getres': return i386 ? 'sys_clock_getres_time32' : 'sys_clock_getres';
    default: return 'sys_getcpu';
  }
}

function ctxFor(k: Kernel, compat: boolean, ip: bigint): SysCtx {
  return { p: k.p, profile: k.profile, compat, ia32: compat, x32: false, ip, forced: null, note: (t) => k.note(t) };
}

/**
 * Pointer arguments per function (which ones the function writes through), and whether the
 * code tests the pointer for NULL before the store. lib/vdso/gettimeofday.c: gettimeofday
 * (`if (likely(tv != NULL))`, `if (unlikely(tz != NULL))`), time (`if (time)`) and
 * clock_getres (`if (likely(res))`) check; clock_gettime and clock_gettime32 store through
 * ts/res unconditionally, so NULL is an ordinary user #PF at address 0. x86 vgetcpu.c
 * (vdso_read_cpunode) checks cpu and node.
 */
const PTR_ARGS: Record<string, ReadonlyArray<{ arg: number; nullChecked: boolean }>> = {
  clock_gettime: [{ arg: 1, nullChecked: false }],
  clock_gettime64: [{ arg: 1, nullChecked: false }],
  gettimeofday: [{ arg: 0, nullChecked: true }, { arg: 1, nullChecked: true }],
  time: [{ arg: 0, nullChecked: true }],
  clock_getres: [{ arg: 1, nullChecked: true }],
  getcpu: [{ arg: 0, nullChecked: true }, { arg: 1, nullChecked: true }],
};

/** v6.11: the 64-bit vDSO also exports getrandom/__vdso_getrandom (vdso64.lds.S; lib/vdso/getrandom.c). */
const GETRANDOM_SYMBOLS = ['getrandom', '__vdso_getrandom'];

/**
 * __cvdso_getrandom(buffer, len, flags, opaque_state, opaque_len), C arguments in rdi rsi rdx
 * rcx r8 (SysV ABI: the 4th is RCX, not the syscall convention's R10). opaque_len ~0UL with no
 * buffer, length or flags is the parameter query: it stores struct vgetrandom_opaque_params
 * (size_of_opaque_state, mmap_prot RW, mmap_flags MAP_DROPPABLE|MAP_ANONYMOUS, reserved[13]:
 * 64 bytes) and returns 0. Anything without a state of the right size (or with unknown flags)
 * falls back to the getrandom syscall; the sim never hands out a state, so every other call does.
 */
function vdsoGetrandom(k: Kernel, nextIp: bigint): bigint {
  const g = k.cpu.gpr;
  const [buf, len, flags, state, opaqueLen] = [g.rdi, g.rsi, g.rdx, g.rcx, g.r8];
  if (opaqueLen === 0xffffffffffffffffn && buf === 0n && len === 0n && flags === 0n) {
    const params = new Uint8Array(64);
    const dv = new DataView(params.buffer);
    // sizeof(struct vgetrandom_state) is the kernel's business; the sim reports a plausible one.
    dv.setUint32(0, 144, true);
    dv.setUint32(4, 0x3, true); // PROT_READ | PROT_WRITE
    dv.setUint32(8, 0x28, true); // MAP_DROPPABLE (0x08) | MAP_ANONYMOUS (0x20)
    if (k.p.mm.check(state, 64, 3, 'w')) throw new NotModelled('__vdso_getrandom parameter query into unwritable memory');
    k.p.mm.poke(state, params);
    return 0n;
  }
  k.note('__vdso_getrandom: no opaque state of the right size → getrandom syscall fallback');
  return HANDLERS.sys_getrandom!.run(ctxFor(k, false, nextIp), [buf, len, BigInt.asUintN(32, flags)]);
}

export function vdsoCall(k: Kernel, c: Case, nextIp: bigint, after: () => void): void {
  const sym = c.symbol ?? '';
  const i386 = c.abi === 'i386';
  if (c.abi === 'x86_64' && GETRANDOM_SYMBOLS.includes(sym) && since(k.profile, '6.11')) {
    const r = vdsoGetrandom(k, nextIp);
    k.note(`${sym} = ${r}`);
    k.cpu.gpr.rax = BigInt.asUintN(64, r);
    k.cpu.rip = nextIp;
    return after();
  }
  if (!SYMBOLS[c.abi]!.includes(sym)) {
    throw new NotModelled(`the ${c.abi} vDSO exports no symbol "${sym}" (it has ${SYMBOLS[c.abi]!.join(', ')})`);
  }
  const fn = sym.replace(/^__vdso_/, '');
  const cpu = k.cpu;
  const regs = ARG_REGS[i386 ? '32' : '64'];
  const args = regs.map((r) => (i386 ? cpu.gpr[r] & 0xffffffffn : cpu.gpr[r]));
  // A user-mode store through a bad pointer faults inside the vDSO (no -EFAULT here).
  for (const { arg: i, nullChecked } of PTR_ARGS[fn] ?? []) {
    const ptr = args[i]!;
    if (ptr === 0n && nullChecked) continue;
    if (fn === 'clock_gettime' || fn === 'clock_gettime64' || fn === 'clock_getres') {
      // Only clocks the vDSO handles write from user mode; others go to the syscall.
      const clk = BigInt.asIntN(32, args[0]!);
      if (clk < 0n || ![0n, 1n, 4n, 5n, 6n, 7n, 11n].includes(clk)) continue;
    }
    const size = fn === 'time' ? (i386 ? 4 : 8) : fn === 'getcpu' ? 4 : i386 && fn !== 'clock_gettime64' ? 8 : 16;
    const f = k.p.mm.check(ptr, size, 3, 'w');
    if (f) {
      k.note(`${sym}: the store to 0x${ptr.toString(16)} faults in user mode`);
      cpu.rip = k.vdso64Base ?? k.vdso32Base ?? 0n;
      return k.userFault({ vector: 'PF', errorCode: f.errorCode | 2, cpl: 3, address: ptr, why: 'vDSO store' }, cpu.rip);
    }
  }
  const impl = HANDLERS[implFor(fn, i386)]!;
  const r = impl.run(ctxFor(k, i386, nextIp), args.slice(0, impl.args.length));
  k.note(`${sym}(${args.slice(0, impl.args.length).map((a) => '0x' + a.toString(16)).join(', ')}) = ${r}`);
  cpu.gpr.rax = i386 ? BigInt.asUintN(32, r) : BigInt.asUintN(64, r);
  cpu.rip = nextIp;
  after();
}

/** Per vsyscall slot, the (argument, size) pairs emulate_vsyscall hands to write_ok_or_segv:
 *  gettimeofday(tv: 16-byte timeval, tz: 8-byte timezone), time(tloc: 8), getcpu(cpu: 4, node: 4). */
const VSYSCALL_WRITES: ReadonlyArray<ReadonlyArray<readonly [number, bigint]>> = [
  [[0, 16n], [1, 8n]],
  [[0, 8n]],
  [[0, 4n], [1, 4n]],
];

/** access_ok on x86-64: the whole range lies below TASK_SIZE_MAX (NULL passes; the syscall decides). */
function accessOk(ptr: bigint, size: bigint): boolean {
  return ptr <= TASK_SIZE_MAX && size <= TASK_SIZE_MAX - ptr;
}

export function vsyscallCall(k: Kernel, c: Case, nextIp: bigint, after: () => void): void {
  const cpu = k.cpu;
  const addr = c.vsyscallAddr ?? VSYSCALL_ADDR;
  if (c.abi === 'i386' || c.code === 'compat') throw new NotModelled('the vsyscall page exists only for 64-bit code');
  // The CALL pushes next_ip and jumps.
  const sp = cpu.gpr.rsp - 8n;
  if (k.p.mm.check(sp, 8, 3, 'w')) throw new NotModelled('vsyscall call with an unwritable stack');
  k.p.mm.poke(sp, new Uint8Array(new BigUint64Array([nextIp]).buffer));
  cpu.gpr.rsp = sp;
  cpu.rip = addr;
  if (cpu.rflags & 0x100n) k.stepTrap(addr); // the CALL's single-step trap lands inside the page
  const vma = k.p.mm.find(addr);
  if (k.profile.vsyscall === 'none' || !vma || vma.name !== '[vsyscall]') {
    k.note('vsyscall=none: nothing is mapped there → #PF → SIGSEGV');
    return k.userFault({ vector: 'PF', errorCode: 4 | 16, cpl: 3, address: addr, why: 'fetch' }, addr);
  }
  // emulate_vsyscall: slot = (addr & 0xC00) >> 10; any other offset is "misaligned".
  const off = addr - VSYSCALL_ADDR;
  const slot = (off & 0xc00n) >> 10n;
  if ((off & ~0xc00n) !== 0n || slot === 3n) {
    k.note('emulate_vsyscall: misaligned vsyscall → force_sig(SIGSEGV)');
    return k.raise(SIGNALS.SIGSEGV, SI_CODES.SI_KERNEL, 0n, { trapno: 14, err: 0x15n });
  }
  const caller = k.p.mm.copyFromUser(cpu.gpr.rsp, 8);
  if (!caller) return k.raise(SIGNALS.SIGSEGV, SI_CODES.SI_KERNEL, 0n, { trapno: 14, err: 0x15n });
  const name = ['sys_gettimeofday', 'sys_time', 'sys_getcpu'][Number(slot)]!;
  const impl = HANDLERS[name]!;
  const args = [cpu.gpr.rdi, cpu.gpr.rsi, cpu.gpr.rdx];
  // write_ok_or_segv: each result pointer must pass access_ok before the call; one that does
  // not (a kernel address) gets SIGSEGV SEGV_MAPERR at the pointer, with the fault recorded
  // as a user write to a non-present page (error_code 6, trap_nr 14).
  for (const [i, size] of VSYSCALL_WRITES[Number(slot)]!) {
    if (!accessOk(args[i]!, size)) {
      k.note(`emulate_vsyscall: write_ok_or_segv(0x${args[i]!.toString(16)}, ${size}) fails access_ok → SIGSEGV SEGV_MAPERR`);
      return k.raise(SIGNALS.SIGSEGV, SI_CODES.SEGV_MAPERR, args[i]!, { trapno: 14, err: 6n });
    }
  }
  // Seccomp runs next, on the slot's x86_64 number with regs->ip still the vsyscall address
  // (emulate_vsyscall: orig_ax = nr, ax = -ENOSYS, __secure_computing). A filter or tracer
  // that leaves another number (when the call is allowed) or moves ip gets the task killed
  // with SIGSYS ("seccomp tried to change syscall nr or ip"); a skip (ERRNO, TRAP, a tracer's
  // orig_ax -1) returns to the caller with rax as seccomp left it.
  if (k.seccomp) {
    const nr = BigInt([96, 201, 309][Number(slot)]!);
    const regs: PtRegs = { ...cpu.gpr, orig_ax: nr, rax: BigInt.asUintN(64, -38n), ip: addr, cs: 0x33n, flags: cpu.rflags, ss: 0x2bn };
    const run = secureComputing(k, regs, false);
    if (k.stop) return;
    if ((run && regs.orig_ax !== nr) || regs.ip !== addr) {
      k.note('emulate_vsyscall: seccomp tried to change syscall nr or ip → force_exit_sig(SIGSYS)');
      k.stop = { kind: 'killed', signal: SIGNALS.SIGSYS };
      return;
    }
    for (const g of GPRS64) cpu.gpr[g] = regs[g];
    if (!run) {
      k.note(`emulate_vsyscall: seccomp skip requested → ret with rax 0x${regs.rax.toString(16)}`);
      cpu.rip = new DataView(caller.buffer, caller.byteOffset).getBigUint64(0, true);
      cpu.gpr.rsp += 8n;
      if (k.forced) {
        const f = k.forced;
        return k.raise(f.signo, f.code, f.addr, { trapno: 0, err: 0n }, f);
      }
      return after();
    }
  }
  const r = impl.run(ctxFor(k, false, addr), args.slice(0, impl.args.length));
  k.note(`emulate_vsyscall: slot ${slot} → ${name} = ${r}`);
  if (r === -14n) {
    k.note('a bad pointer in an emulated vsyscall is SIGSEGV, not -EFAULT');
    return k.raise(SIGNALS.SIGSEGV, SI_CODES.SI_KERNEL, 0n, { trapno: 14, err: 0x15n });
  }
  cpu.gpr.rax = BigInt.asUintN(64, r);
  cpu.rip = new DataView(caller.buffer, caller.byteOffset).getBigUint64(0, true);
  cpu.gpr.rsp += 8n;
  after();
}
