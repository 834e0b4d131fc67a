#!/usr/bin/env node
// A complete, small sysabi `jsonl:` adapter (docs/jsonl-protocol.md): a toy model of the
// Linux x86 syscall entry that answers a few id syscalls and -ENOSYS, computed from each
// Case, and says 'unsupported' for everything it does not model. Run it as
//   sysabi run --target 'jsonl:node docs/examples/jsonl-echo-kernel.mjs' registers.syscall64.clobbers
// It imports nothing from sysabi: an adapter in any language only needs JSON and hex strings.

import { createInterface } from 'node:readline';

const ENOSYS = 38n;
const RF = 0x10000n;
// Flags SYSCALL/SYSRET and INT/IRET carry through unchanged in this model: the arithmetic
// flags, IF and the always-one bit 1. TF, DF, NT, AC, ID need more than a toy (traps, FMASK).
const MODELLED_FLAGS = 0x1n | 0x4n | 0x10n | 0x40n | 0x80n | 0x200n | 0x800n | 0x2n;
// Syscall numbers (arch/x86/entry/syscalls/syscall_64.tbl and syscall_32.tbl).
const CALLS = {
  x86_64: { 39n: 'getpid', 186n: 'gettid', 110n: 'getppid' },
  i386: { 20n: 'getpid', 224n: 'gettid', 64n: 'getppid' },
};
// Both tables end below 600 entries on every kernel up to 7.0 (syscall_64.tbl's last slot is
// x32's 547): a number from 600 up to 2^32 is past the end (and not an x32 number, since this
// model has no x32), so the kernel answers -ENOSYS (arch/x86/entry/syscall_64.c do_syscall_64,
// syscall_32.c do_int80_syscall_32).
const PAST_END = 600n;

const ids = { pid: BigInt(process.pid), tid: BigInt(process.pid), ppid: BigInt(process.ppid), uid: BigInt(process.getuid()), gid: BigInt(process.getgid()) };
const ENTRY_IP = 0x401000n; // where this model "places" the 2-byte entry instruction
const STACK = 0x7ffc0000f000n; // its stack pointer (below 4 GiB is not needed: 32-bit code sees the low half)
const GPRS64 = ['rax', 'rbx', 'rcx', 'rdx', 'rsi', 'rdi', 'rbp', 'rsp', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15'];
const GPRS32 = GPRS64.slice(0, 8);

const big = (v) => (v === undefined ? undefined : v.startsWith('-') ? -BigInt(v.slice(1)) : BigInt(v));
const hex = (v) => `0x${v.toString(16)}`;
const hexFile = (f) => Object.fromEntries(Object.entries(f).map(([k, v]) => [k, hex(v)]));

function answer(c) {
  const no = (reason) => ({ id: c.id, outcome: 'unsupported', reason, before: {}, env: {} });
  const width = c.code === 'compat' ? 32n : 64n;
  const mask = (1n << width) - 1n;
  if (!((c.abi === 'x86_64' && c.entry === 'syscall' && c.code === '64') || (c.abi === 'i386' && c.entry === 'int80' && c.code === 'compat')))
    return no(`the example models SYSCALL from 64-bit code and int $0x80 from 32-bit code only (got ${c.abi} ${c.entry} code ${c.code})`);
  // Descriptors a case opens are fine as long as no register names one (see the operands).
  if (c.memory.length || c.seccomp || c.ptrace || c.sigreturn || c.placeNextIp !== undefined)
    return no('the example models no memory, seccomp, ptrace, sigreturn or placement');
  if (Object.keys(c.signals.actions).length || c.signals.blocked.length) return no('the example models no signals');
  const rflags = big(c.rflags);
  if ((rflags & ~MODELLED_FLAGS) !== 0n) return no(`the example models no TF/DF/NT/AC/ID (rflags ${c.rflags})`);

  // Registers as loaded: literals and the process ids; anything else is beyond the model.
  const before = {};
  for (const [reg, op] of Object.entries(c.regs)) {
    let base;
    if (op.ref === undefined) base = big(op.lit) ?? 0n;
    else if (op.ref in ids) base = ids[op.ref];
    else return no(`the example cannot resolve operand ref "${op.ref}"`);
    before[reg] = (((base + (big(op.add) ?? 0n)) | (big(op.or) ?? 0n)) & mask);
  }
  // Registers the case leaves alone hold what this toy CPU has there: zero, and its own stack.
  const gprs = c.code === 'compat' ? GPRS32 : GPRS64;
  for (const r of gprs) before[r] ??= r === 'rsp' ? STACK & mask : 0n;
  const nr = big(c.nr);
  before.rax = nr & mask;
  before.rflags = rflags;
  before.rip = ENTRY_IP;
  before.cs = c.code === 'compat' ? 0x23n : 0x33n;

  // The number the kernel dispatches on is the low 32 bits of RAX (an unsigned int since 5.x);
  // a model that is unsure of the upper bits says so rather than guess.
  if (c.code === '64' && nr >> 32n !== 0n) return no('the example does not model syscall numbers above 32 bits');
  const unr = nr & 0xffffffffn;
  const table = CALLS[c.abi];
  let ret;
  if (table[unr] !== undefined) ret = ids[table[unr].slice(3)];
  else if (unr >= PAST_END) ret = -ENOSYS;
  else return no(`the example models only ${Object.values(table).join(', ')} and numbers past the table (nr ${hex(unr)})`);

  const next = ENTRY_IP + 2n; // both `syscall` (0f 05) and `int $0x80` (cd 80) are 2 bytes
  const after = { ...before, rax: BigInt.asUintN(Number(width), ret), rip: next, rflags };
  if (c.entry === 'syscall') {
    // SYSCALL saves RIP in RCX and RFLAGS (RF clear) in R11 (Intel SDM Vol. 2B, SYSCALL).
    after.rcx = next;
    after.r11 = rflags & ~RF;
  }
  return { id: c.id, outcome: 'returned', before: hexFile(before), after: hexFile(after), env: { ...hexFile(ids), entry_ip: hex(ENTRY_IP), next_ip: hex(next) } };
}

const write = (v) => process.stdout.write(JSON.stringify(v) + '\n');
write({
  hello: {
    protocol: 1,
    name: 'jsonl-echo-kernel',
    version: '1.0',
    profile: { name: 'jsonl-echo-kernel (toy model)', kernel: '7.0', vendor: 'unknown', ia32: true, x32: false, vsyscall: 'none', fred: false, features: [] },
    abis: { x86_64: { ok: true }, i386: { ok: true }, x32: { ok: false, reason: 'the toy model has no x32 table' } },
  },
});
for await (const line of createInterface({ input: process.stdin, crlfDelay: Infinity })) {
  if (!line.trim()) continue;
  let c;
  try {
    c = JSON.parse(line);
  } catch (e) {
    process.stderr.write(`jsonl-echo-kernel: bad input line: ${e.message}\n`);
    process.exit(2);
  }
  write(answer(c));
}
