// The sim's after-call steps (Case.segs, Case.peek) and the fault details they expose: segment
// loads through the GDT TLS entries and the LDT, the #PF error code and si_code the kernel
// reports for user reads at or above TASK_SIZE_MAX (vsyscall page), and r8–r15 in the 64-bit
// signal frame of a fault taken in compat code. Expected values come from the kernel source
// and the manuals cited per test, never from earlier simulator output.
import t from 'tap';
import { runCase } from '../../../sim/kernel/run.js';
import { getProfile } from '../../../sim/profiles.js';
import { GDT_ENTRY_TLS_MIN, SIGNALS, SI_CODES } from '../../../abi/constants.js';
import type { MemRegion, Operand } from '../../../harness/contracts.js';
import { mkCase, lit } from './helpers.js';

const INTEL = getProfile('linux-7.0-intel'); // vsyscall=xonly, the default since v5.3
const AMD = getProfile('linux-7.0-amd');
const EMULATE = getProfile('linux-7.0-intel-vsyscall-emulate');
const NONE = getProfile('linux-7.0-intel-vsyscall-none');

const buf = (name: string): Operand => ({ ref: 'buf', name });
const region = (name: string, hex: string, over: Partial<MemRegion> = {}): MemRegion => ({
  name, size: hex.length / 2 || 4096, hex, fill: 0, prot: 'rw', place: 'low32', readback: false, ...over,
});
/** struct user_desc (asm/ldt.h): entry_number, base_addr, limit, flags (seg_32bit 0x1, limit_in_pages 0x10, useable 0x40). */
function userDesc(entry: number, base: number): string {
  const b = Buffer.alloc(16);
  b.writeUInt32LE(entry >>> 0, 0);
  b.writeUInt32LE(base, 4);
  b.writeUInt32LE(0xfffff, 8);
  b.writeUInt32LE(0x51, 12);
  return b.toString('hex');
}
const DATA_AT = 0x20000000n;
const DATA = Buffer.from('SEGDATA!');
const DATA_LE = DATA.readBigUInt64LE(0);
const dataRegion = region('d', DATA.toString('hex'), { size: 4096, at: DATA_AT });
// Selector = index << 3 | TI << 2 | RPL (SDM Vol. 3A §3.4.2).
const tlsSel = (entry: number) => BigInt((entry << 3) | 3);
const ldtSel = (index: number, rpl = 3) => BigInt((index << 3) | 4 | rpl);

t.test('TLS entry from set_thread_area: FS (i386) and GS (x86_64) load it and read through its base', async (t) => {
  const entry = GDT_ENTRY_TLS_MIN + 1;
  for (const [abi, seg] of [['i386', 'fs'], ['x86_64', 'gs']] as const) {
    // set_thread_area is i386 243 (arch/x86/kernel/tls.c); x86_64 reaches it with int $0x80.
    const o = runCase(mkCase({
      abi, entry: 'int80', code: abi === 'i386' ? 'compat' : '64', nr: 243n, isolate: true,
      regs: { rax: lit(243), rbx: buf('u') },
      memory: [region('u', userDesc(entry, Number(DATA_AT))), dataRegion],
      segs: { [seg]: tlsSel(entry) }, peek: { seg, addr: lit(0) },
    }), INTEL);
    t.equal(o.outcome, 'returned', `${abi}: ${o.reason ?? ''}`);
    t.equal(o.after?.rax !== undefined ? BigInt.asUintN(32, o.after.rax) : undefined, 0n, `${abi}: set_thread_area returned 0`);
    t.equal(o.post?.segs?.[seg], tlsSel(entry), `${abi}: ${seg} reads back 0x${tlsSel(entry).toString(16)}`);
    t.equal(o.post?.peek, DATA_LE, `${abi}: ${seg}:0 reads the bytes at the descriptor base`);
  }
});

t.test('TLS selector of an entry never written: #GP(selector) → SIGSEGV SI_KERNEL', async (t) => {
  // An empty GDT TLS slot is a null (not present... type 0) descriptor: MOV raises #GP with the
  // selector's index as the error code (SDM Vol. 2B MOV); do_general_protection sends SIGSEGV
  // with si_code SI_KERNEL (arch/x86/kernel/traps.c).
  const sel = tlsSel(GDT_ENTRY_TLS_MIN + 2);
  const o = runCase(mkCase({ abi: 'i386', nr: 20n, regs: { rax: lit(20) }, segs: { fs: sel } }), INTEL);
  t.equal(o.outcome, 'signal');
  t.equal(o.signal?.signo, SIGNALS.SIGSEGV);
  t.equal(o.signal?.code, SI_CODES.SI_KERNEL);
  t.equal(o.signal?.trapno, 13);
  t.equal(o.signal?.err, sel & ~3n, 'error code is the selector without RPL');
});

t.test('LDT entry written by modify_ldt: selector 0x7 loads and reads through its base', async (t) => {
  // modify_ldt is x86_64 154 / i386 123 (syscall_64.tbl, syscall_32.tbl); func 1 = write_ldt old mode.
  for (const [abi, seg, nr] of [['x86_64', 'gs', 154n], ['i386', 'fs', 123n]] as const) {
    const argRegs = abi === 'i386' ? { rbx: lit(1), rcx: buf('u'), rdx: lit(16) } : { rdi: lit(1), rsi: buf('u'), rdx: lit(16) };
    for (const rpl of [3, 0]) {
      const o = runCase(mkCase({
        abi, nr, isolate: true, regs: { rax: lit(nr), ...argRegs },
        memory: [region('u', userDesc(0, Number(DATA_AT))), dataRegion],
        segs: { [seg]: ldtSel(0, rpl) }, peek: { seg, addr: lit(0) },
      }), INTEL);
      t.equal(o.outcome, 'returned', `${abi} rpl ${rpl}: ${o.reason ?? ''}`);
      t.equal(o.post?.segs?.[seg], ldtSel(0, rpl), `${abi}: ${seg} reads back 0x${ldtSel(0, rpl).toString(16)}`);
      t.equal(o.post?.peek, DATA_LE, `${abi}: read through the LDT descriptor's base`);
    }
    // Index 1 lies beyond an LDT of one entry (limit 7): #GP(0xc) (SDM Vol. 3A §5.3, limit checks on selectors).
    const bad = runCase(mkCase({
      abi, nr, isolate: true, regs: { rax: lit(nr), ...argRegs },
      memory: [region('u', userDesc(0, Number(DATA_AT)))], segs: { [seg]: ldtSel(1) },
    }), INTEL);
    t.equal(bad.outcome, 'signal', `${abi}: loading index 1`);
    t.equal(bad.signal?.code, SI_CODES.SI_KERNEL);
    t.equal(bad.signal?.err, ldtSel(1) & ~3n);
  }
  // Without modify_ldt there is no LDT at all: 0x7 faults the same way.
  const none = runCase(mkCase({ nr: 39n, regs: { rax: lit(39) }, segs: { gs: ldtSel(0) } }), INTEL);
  t.equal(none.outcome, 'signal');
  t.equal(none.signal?.err, 0x4n);
});

// arch/x86/mm/fault.c: sanitize_error_code sets X86_PF_PROT for user faults at addresses >=
// TASK_SIZE_MAX; __bad_area_nosemaphore reports SEGV_MAPERR when no VMA covers the address
// (the vsyscall page is a gate area, not a VMA). X86_PF_USER = 4, X86_PF_PROT = 1.
const VSYSCALL = 0xffffffffff600000n;
t.test('reading the vsyscall page: err has P set, SEGV_MAPERR, in xonly and none', async (t) => {
  for (const prof of [INTEL, NONE]) {
    for (const off of [0n, 0x400n, 0xff8n]) {
      const o = runCase(mkCase({ nr: 110n, regs: { rax: lit(110) }, peek: { addr: lit(VSYSCALL + off) } }), prof);
      t.equal(o.outcome, 'signal', `${prof.name} +0x${off.toString(16)}`);
      t.equal(o.signal?.signo, SIGNALS.SIGSEGV);
      t.equal(o.signal?.code, SI_CODES.SEGV_MAPERR, 'no VMA above TASK_SIZE_MAX');
      t.equal(o.signal?.addr, VSYSCALL + off);
      t.equal(o.signal?.trapno, 14);
      t.equal(o.signal?.err, 0x5n, 'PROT | USER (read, not instruction fetch)');
    }
  }
});

t.test('below TASK_SIZE_MAX the hardware error code stays: an unmapped user read has no P', async (t) => {
  const o = runCase(mkCase({ nr: 110n, regs: { rax: lit(110) }, peek: { addr: { ref: 'unmapped' } } }), INTEL);
  t.equal(o.outcome, 'signal');
  t.equal(o.signal?.code, SI_CODES.SEGV_MAPERR);
  t.equal(o.signal?.err, 0x4n, 'USER only: not present, read');
  // A present page without read permission is a protection fault: P set, SEGV_ACCERR.
  const p = runCase(mkCase({ nr: 110n, regs: { rax: lit(110) }, memory: [region('n', '', { size: 4096, prot: 'none' })], peek: { addr: buf('n') } }), INTEL);
  t.equal(p.outcome, 'signal');
  t.equal(p.signal?.code, SI_CODES.SEGV_ACCERR);
});

t.test('vsyscall=emulate: the page reads as vsyscall_emu_64.S laid it out', async (t) => {
  // Each 1024-byte slot: mov $NR, %rax (48 c7 c0 imm32); syscall (0f 05); ret (c3); 0xcc padding.
  const slots: [bigint, number][] = [[0n, 96], [0x400n, 201], [0x800n, 309]];
  for (const [off, nr] of slots) {
    const o = runCase(mkCase({ nr: 110n, regs: { rax: lit(110) }, peek: { addr: lit(VSYSCALL + off) } }), EMULATE);
    t.equal(o.outcome, 'returned');
    const want = Buffer.from([0x48, 0xc7, 0xc0, nr & 0xff, nr >> 8, 0, 0, 0x0f]).readBigUInt64LE(0);
    t.equal(o.post?.peek, want, `slot at +0x${off.toString(16)} starts with mov $${nr}, %rax`);
  }
  const pad = runCase(mkCase({ nr: 110n, regs: { rax: lit(110) }, peek: { addr: lit(VSYSCALL + 0x10n) } }), EMULATE);
  t.equal(pad.post?.peek, 0xccccccccccccccccn, 'int3 padding');
});

t.test('after-call steps do not change `after`: it is the state right after the entry', async (t) => {
  const o = runCase(mkCase({ nr: 39n, regs: { rax: lit(39) }, segs: { es: 0x2bn } }), INTEL);
  t.equal(o.outcome, 'returned');
  t.equal(o.after?.es, 0n, 'ES after SYSCALL is still 0 (start_thread)');
  t.equal(o.post?.segs?.es, 0x2bn, 'ES after the step holds __USER_DS');
});

// A 64-bit process gets a 64-bit rt_sigframe even when the fault hit compat code
// (arch/x86/kernel/signal_64.c; the frame follows the task's ABI): r8–r15 are in it.
t.test('r8–r15 in the signal frame of a fault in compat code', async (t) => {
  const sentinels = { r8: 0x808n, r9: 0x909n, r10: 0xa0an, r11: 0xb0bn, r12: 0xc0cn, r13: 0xd0dn, r14: 0xe0en, r15: 0xf0fn };
  const regs = Object.fromEntries(Object.entries(sentinels).map(([k, v]) => [k, lit(v)]));
  // Intel: SYSCALL outside 64-bit mode is #UD (SDM Vol. 2B SYSCALL): nothing reached the kernel,
  // so the frame holds the values the code had (low halves: the upper ones are undefined after
  // the far call into compat mode, SDM Vol. 1 §3.4.1.1).
  const ud = runCase(mkCase({ code: 'compat', nr: 20n, regs: { ...regs, rax: lit(20) } }), INTEL);
  t.equal(ud.outcome, 'signal');
  t.equal(ud.signal?.signo, SIGNALS.SIGILL);
  for (const [k, v] of Object.entries(sentinels)) {
    t.equal(BigInt.asUintN(32, ud.signal?.regs[k as keyof typeof sentinels] ?? -1n), v, `#UD frame ${k}`);
  }
  // AMD: entry_SYSCALL_compat; SYSRETL to (u32)(vDSO base + landing pad), which a 64-bit
  // process does not have mapped → #PF on the fetch. sysret32_from_system_call zeroes r8–r10,
  // leaves r12–r15 as PUSH_AND_CLEAR_REGS cleared them, and r11 = pt_regs->flags.
  const stack = region('s', '', { size: 4096 });
  const pf = runCase(mkCase({ code: 'compat', nr: 20n, regs: { ...regs, rax: lit(20), rsp: { ref: 'buf', name: 's', add: 2048n } }, memory: [stack] }), AMD);
  t.equal(pf.outcome, 'signal', pf.reason ?? '');
  t.equal(pf.signal?.signo, SIGNALS.SIGSEGV);
  t.equal(pf.signal?.trapno, 14);
  t.equal(pf.signal?.err, 0x14n, 'USER | INSTR, not present');
  const r = pf.signal?.regs ?? {};
  for (const k of ['r8', 'r9', 'r10', 'r12', 'r13', 'r14', 'r15'] as const) t.equal(r[k], 0n, `SYSRETL frame ${k} = 0`);
  t.equal(r.r11, 0x202n, 'r11 = EFLAGS of the call');
  t.equal(r.cs, 0x23n, 'the fault hit compat code');
});
