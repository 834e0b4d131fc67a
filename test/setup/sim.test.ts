// Set-up calls on the simulator (sim/kernel/run.ts runSetup) and the modify_ldt read they make
// reachable (sim/kernel/syscalls/tls.ts read_ldt): the state a set-up call leaves is what the
// case's call meets, a failing one is an error with the shared message, and filters, tracers
// and ftrace never see set-up calls. Expected bytes come from arch/x86/kernel/ldt.c and
// arch/x86/include/asm/desc.h (fill_ldt), not from the sim.
import t from 'tap';
import { runCase } from '../../sim/kernel/run.js';
import { getProfile } from '../../sim/profiles.js';
import { ERRNO } from '../../abi/constants.js';
import type { Case, MemRegion, Operand, SetupCall } from '../../harness/contracts.js';
import { mkCase as mkNativeCase } from '../native/helpers.js';

/** A Case as the loader builds it: the number is also the case's RAX operand (expand.ts), which
 *  the sim loads like any register. */
function mkCase(p: Parameters<typeof mkNativeCase>[0]): Case {
  const c = mkNativeCase(p);
  return { ...c, regs: { ...c.regs, rax: { lit: c.nr } } };
}

const P = getProfile('linux-7.0-intel');
const lit = (v: bigint): Operand => ({ lit: v });
const buf = (name: string): Operand => ({ ref: 'buf', name });
const region = (name: string, size: number, hex = '', fill = 0): MemRegion =>
  ({ name, size, hex, fill, prot: 'rw', place: 'low32', readback: true });
/** struct user_desc (uapi/asm/ldt.h): entry, base, limit, flags — little-endian words. */
function userDesc(entry: number, base: number, limit: number, flags: number): string {
  const b = Buffer.alloc(16);
  b.writeInt32LE(entry, 0);
  b.writeUInt32LE(base, 4);
  b.writeUInt32LE(limit, 8);
  b.writeUInt32LE(flags, 12);
  return b.toString('hex');
}
const NR = { x86_64: { modify_ldt: 154n, arch_prctl: 158n }, i386: { modify_ldt: 123n, set_thread_area: 243n } };
const ldtWrite = (abi: 'x86_64' | 'i386', func: bigint, extra: Partial<SetupCall> = {}): SetupCall =>
  ({ name: 'modify_ldt', nr: NR[abi].modify_ldt, args: [lit(func), buf('u'), lit(16n)], ...extra });
/** modify_ldt(0, out, count) after the given set-up calls. */
function readLdt(abi: 'x86_64' | 'i386', setup: SetupCall[], desc: string, count: bigint, outSize = 48): Case {
  const args = abi === 'i386'
    ? { rbx: lit(0n), rcx: buf('out'), rdx: lit(count) }
    : { rdi: lit(0n), rsi: buf('out'), rdx: lit(count) };
  return mkCase({ abi, call: 'modify_ldt', regs: args, memory: [region('u', 16, desc), region('out', outSize, '', 0xff)], setup, isolate: true });
}
// 32-bit, page-granular, writable data, useable: flags 0x51; base 0x12345678, limit 0xabcde.
const DESC1 = userDesc(1, 0x12345678, 0xabcde, 0x51);
// fill_ldt: limit 15..0, base 23..0, access 0xf3 (P, DPL 3, S, type 0011), 0xda (G, D, AVL | limit 19..16), base 31..24.
const BYTES1 = 'debc785634f3da12';

t.test('read_ldt after a set-up write: the descriptor, zero fill, bytecount returned', async (t) => {
  for (const abi of ['x86_64', 'i386'] as const) {
    const o = runCase(readLdt(abi, [ldtWrite(abi, 0x11n)], DESC1, 32n), P);
    t.equal(o.outcome, 'returned', o.reason ?? '');
    t.equal(o.after!.rax, 32n, `${abi}: returns bytecount`);
    t.equal(o.memory!.out, '0000000000000000' + BYTES1 + '00'.repeat(16) + 'ff'.repeat(16), `${abi}: entry 0 zero, entry 1, zero fill, untouched tail`);
  }
  // write_ldt's old mode: "if (oldmode) ldt.avl = 0" → flags nibble 0xc, not 0xd.
  const old = runCase(readLdt('x86_64', [ldtWrite('x86_64', 1n)], DESC1, 16n), P);
  t.equal(old.memory!.out.slice(16, 32), 'debc785634f3ca12', 'func 1 clears AVL');
  // bytecount shorter than the LDT: only that much is copied.
  const short = runCase(readLdt('x86_64', [ldtWrite('x86_64', 0x11n)], DESC1, 12n), P);
  t.equal(short.after!.rax, 12n);
  t.equal(short.memory!.out.slice(0, 32), '0000000000000000debc7856ffffffff');
  // bytecount above LDT_ENTRIES * LDT_ENTRY_SIZE is clamped to 64 KiB.
  const big = runCase(readLdt('x86_64', [ldtWrite('x86_64', 0x11n)], DESC1, 0x20000n, 65536), P);
  t.equal(big.after!.rax, 0x10000n);
});

t.test('nr_entries grows with a clearing write; a refused write leaves no LDT', async (t) => {
  // LDT_empty (read_exec_only | seg_not_present, all else 0) for entry 3: cleared, yet allocated.
  const cleared = runCase(readLdt('x86_64', [ldtWrite('x86_64', 0x11n)], userDesc(3, 0, 0, 0x28), 48n), P);
  t.equal(cleared.after!.rax, 48n, 'an LDT exists');
  t.equal(cleared.memory!.out, '00'.repeat(48), 'four zero entries, then zero fill');
  // contents 3 with the old mode is EINVAL: nothing is allocated, and read_ldt returns 0.
  const refused = runCase(readLdt('x86_64', [ldtWrite('x86_64', 1n, { expectErrno: ERRNO.EINVAL })], userDesc(1, 0x1000, 0xfff, 0x57), 16n), P);
  t.equal(refused.outcome, 'returned', refused.reason ?? '');
  t.equal(refused.after!.rax, 0n);
  t.equal(refused.memory!.out, 'ff'.repeat(48), 'nothing written');
});

t.test('a set-up call that fails, or does not fail as asked, makes the case an error', async (t) => {
  const bad = readLdt('x86_64', [{ name: 'modify_ldt', nr: 154n, args: [lit(0x11n), buf('u'), lit(15n)] }], DESC1, 16n);
  const o = runCase(bad, P);
  t.equal(o.outcome, 'error');
  t.equal(o.reason, 'set-up call 1 (modify_ldt) returned -EINVAL');
  const o2 = runCase(readLdt('i386', [ldtWrite('i386', 0x11n), ldtWrite('i386', 0x11n, { expectErrno: ERRNO.EPERM })], DESC1, 16n), P);
  t.equal(o2.outcome, 'error');
  t.equal(o2.reason, 'set-up call 2 (modify_ldt) returned 0x0, expected -EPERM');
});

t.test('the state set-up calls leave: GS base, TLS entry', async (t) => {
  const setGs: SetupCall = { name: 'arch_prctl', nr: NR.x86_64.arch_prctl, args: [lit(0x1001n), lit(0x200000000n)] };
  const o = runCase(mkCase({ call: 'getpid', setup: [setGs], isolate: true }), P);
  t.equal(o.after!.gs_base, 0x200000000n, 'ARCH_SET_GS before the call: the base after it');
  t.equal(o.after!.rax, o.env.pid, 'the call under test ran with its own registers');
  // i386: set_thread_area(entry -1) before get_thread_area(u): entry 13 (12 is libc's).
  const u = region('u', 16, userDesc(-1, 0x20000000, 0xfffff, 0x51));
  const tls = runCase(mkCase({ abi: 'i386', call: 'get_thread_area', regs: { rbx: buf('u') }, memory: [u], isolate: true,
    setup: [{ name: 'set_thread_area', nr: NR.i386.set_thread_area, args: [buf('u')] }] }), P);
  t.equal(tls.after!.rax, 0n);
  t.equal(tls.memory!.u, userDesc(13, 0x20000000, 0xfffff, 0x51));
  // From 64-bit code through int $0x80 (entry int80): the i386 table, slot 12.
  const tls64 = runCase(mkCase({ call: 'getpid', memory: [region('u', 16, userDesc(-1, 0x20000000, 0xfffff, 0x51))], isolate: true,
    setup: [{ name: 'set_thread_area', nr: 243n, args: [buf('u')], entry: 'int80' }] }), P);
  t.equal(tls64.memory!.u.slice(0, 8), '0c000000');
  const off = runCase(mkCase({ call: 'getpid', memory: [region('u', 16, userDesc(-1, 0, 0xfffff, 0x51))], isolate: true,
    setup: [{ name: 'set_thread_area', nr: 243n, args: [buf('u')], entry: 'int80' }] }), getProfile('linux-7.0-amd-ia32off'));
  t.equal(off.outcome, 'error', 'without ia32 emulation int $0x80 from 64-bit code cannot make the set-up call');
  t.match(off.reason ?? '', /^set-up call 1 \(set_thread_area\)/);
});

t.test('filters, tracers and ftrace see only the case\'s own call', async (t) => {
  // ld [0] (nr); jeq #154 → kill; else allow. modify_ldt as a set-up call still runs.
  const filter = [
    { code: 0x20, jt: 0, jf: 0, k: 0 },
    { code: 0x15, jt: 0, jf: 1, k: 154 },
    { code: 0x06, jt: 0, jf: 0, k: 0x80000000 },
    { code: 0x06, jt: 0, jf: 0, k: 0x7fff0000 },
  ];
  const sc = runCase({ ...readLdt('x86_64', [ldtWrite('x86_64', 0x11n)], DESC1, 16n), nr: 39n, callName: 'getpid', regs: { rax: lit(39n) }, seccomp: { mode: 'filter', filters: [filter] } }, P);
  t.equal(sc.outcome, 'returned', 'the filter that kills modify_ldt was installed after the set-up call');
  const tr = runCase(mkCase({ call: 'getpid', isolate: true, setup: [ldtWrite('x86_64', 0x11n)], memory: [region('u', 16, DESC1)],
    ptrace: { options: [], mode: 'syscall', at: [] } }), P);
  const stops = (tr.events ?? []).filter((e) => e.kind === 'ptrace');
  t.ok(stops.length >= 1);
  t.equal((stops[0] as { orig_rax?: bigint }).orig_rax, 39n, 'the first stop is getpid, not the set-up modify_ldt');
  const ex = runCase(mkCase({ call: 'getpid', isolate: true, setup: [ldtWrite('x86_64', 0x11n)], memory: [region('u', 16, DESC1)] }), P, { explain: true });
  t.ok(ex.steps?.some((s) => s.startsWith('set-up call 1: modify_ldt')), 'explain shows the set-up call');
});
