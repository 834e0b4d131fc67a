// Tests of the spec-side cBPF assembler and disassembler (harness/seccomp/asm.ts): encodings
// checked against the struct sock_filter values the kernel's headers give (BPF_STMT/BPF_JUMP
// as seccomp_bpf.c writes them, numbers spelled out), symbols, errors with line:col, and a
// fast-check round trip disasm → assemble.

import t from 'tap';
import fc from 'fast-check';
import { assemble, assembleProgram, BpfAsmError, disasm } from '../../harness/seccomp/asm.js';
import type { BpfInsn } from '../../harness/contracts.js';

const I = (code: number, k = 0, jt = 0, jf = 0): BpfInsn => ({ code, jt, jf, k: k >>> 0 });

t.test('encodings', async (t) => {
  const cases: [string, BpfInsn][] = [
    ['ld [4]', I(0x20, 4)],
    ['ld [arch]', I(0x20, 4)],
    ['ld [nr]', I(0x20, 0)],
    ['ld [ip]', I(0x20, 8)],
    ['ld [ip.hi]', I(0x20, 12)],
    ['ld [args[0]]', I(0x20, 16)],
    ['ld [args[1].hi]', I(0x20, 28)],
    ['ld [args[5].lo]', I(0x20, 56)],
    ['ld [64]', I(0x20, 64)],
    ['ldh [2]', I(0x28, 2)],
    ['ldb [3]', I(0x30, 3)],
    ['ld [x + 4]', I(0x40, 4)],
    ['ld #len', I(0x80)],
    ['ldx #len', I(0x81)],
    ['ld #0x1234', I(0x00, 0x1234)],
    ['ldi #7', I(0x00, 7)],
    ['ldx #7', I(0x01, 7)],
    ['ld M[3]', I(0x60, 3)],
    ['ldx M[15]', I(0x61, 15)],
    ['ldxb 4*([14]&0xf)', I(0xb1, 14)],
    ['st M[1]', I(0x02, 1)],
    ['stx M[2]', I(0x03, 2)],
    ['tax', I(0x07)],
    ['txa', I(0x87)],
    ['add #1', I(0x04, 1)], ['add x', I(0x0c)], ['add %x', I(0x0c)],
    ['sub #1', I(0x14, 1)], ['mul #3', I(0x24, 3)], ['div #2', I(0x34, 2)], ['mod #2', I(0x94, 2)],
    ['or #1', I(0x44, 1)], ['and #0xff', I(0x54, 0xff)], ['lsh #2', I(0x64, 2)], ['rsh #2', I(0x74, 2)],
    ['xor x', I(0xac)], ['neg', I(0x84)],
    ['ja 3', I(0x05, 3)],
    ['jmp 0', I(0x05, 0)],
    ['jeq #0xc000003e, 1, 0', I(0x15, 0xc000003e, 1, 0)],
    ['jeq #AUDIT_ARCH_X86_64, 1', I(0x15, 0xc000003e, 1, 0)],
    ['jeq x, 2, 3', I(0x1d, 0, 2, 3)],
    ['jne #5, 2', I(0x15, 5, 0, 2)],
    ['jneq #5, 2', I(0x15, 5, 0, 2)],
    ['jgt #5, 1, 2', I(0x25, 5, 1, 2)],
    ['jge #5, 1', I(0x35, 5, 1, 0)],
    ['jlt #5, 1', I(0x35, 5, 0, 1)],
    ['jle #5, 1, 2', I(0x25, 5, 2, 1)],
    ['jset #0x40000000, 1, 0', I(0x45, 0x40000000, 1, 0)],
    ['ret #ALLOW', I(0x06, 0x7fff0000)],
    ['ret #SECCOMP_RET_ALLOW', I(0x06, 0x7fff0000)],
    ['ret #ERRNO|1', I(0x06, 0x00050001)],
    ['ret #ERRNO|EPERM', I(0x06, 0x00050001)],
    ['ret #ERRNO | E2BIG', I(0x06, 0x00050007)],
    ['ret #TRAP|5', I(0x06, 0x00030005)],
    ['ret #TRACE|0x7', I(0x06, 0x7ff00007)],
    ['ret #KILL_PROCESS', I(0x06, 0x80000000)],
    ['ret #KILL', I(0x06, 0)],
    ['ret #KILL_THREAD', I(0x06, 0)],
    ['ret #LOG', I(0x06, 0x7ffc0000)],
    ['ret #USER_NOTIF', I(0x06, 0x7fc00000)],
    ['ret a', I(0x16)], ['ret %a', I(0x16)], ['ret x', I(0x0e)],
    ['ret #0xAAAAAAAA', I(0x06, 0xaaaaaaaa)],
    ['ret #-1', I(0x06, 0xffffffff)],
    ['jeq #__NR_getppid@x86_64, 1', I(0x15, 110, 1, 0)],
    ['jeq #__NR_getppid@i386, 1', I(0x15, 64, 1, 0)],
    ['jeq #__NR_getppid@x32, 1', I(0x15, 0x40000000 + 110, 1, 0)],
    ['jeq #__NR_rt_sigaction@x32, 1', I(0x15, 0x40000000 + 512, 1, 0)],
    ['jeq #X32_SYSCALL_BIT|39, 1', I(0x15, 0x40000027, 1, 0)],
    ['.word 0x28, 0, 0, 2', I(0x28, 2)],
  ];
  for (const [src, want] of cases) t.same(assemble(src), [want], src);
  t.same(assemble('jeq #__NR_getpid, 1', { abi: 'i386' }), [I(0x15, 20, 1, 0)], 'default ABI from options');
});

t.test('labels, comments, line numbers', async (t) => {
  const r = assembleProgram(`
    ; allow everything on x86_64 but getppid
    ld [arch]               // the arch first
    jeq #AUDIT_ARCH_X86_64, native, bad
native:
    ld [nr]
    jeq #__NR_getppid@x86_64, deny
    ret #ALLOW
deny: ret #ERRNO|EPERM
bad:  ret #KILL_PROCESS
`);
  t.same(r.insns, [
    I(0x20, 4), I(0x15, 0xc000003e, 0, 4), I(0x20, 0), I(0x15, 110, 1, 0),
    I(0x06, 0x7fff0000), I(0x06, 0x50001), I(0x06, 0x80000000),
  ]);
  t.same(r.labels, { native: 2, deny: 5, bad: 6 });
  t.same(r.lines, [3, 4, 6, 7, 8, 9, 10], 'source line of each instruction');
  t.same(assemble(['ld [nr]', 'ret a']), [I(0x20, 0), I(0x16)], 'a list of lines (YAML sequence)');
  t.same(assemble('0: ld [nr]\n1: ret a'), [I(0x20, 0), I(0x16)], 'disassembler line numbers are accepted');
});

t.test('errors carry line:col and what was expected', async (t) => {
  const bad: [string, number, number, RegExp][] = [
    ['ld [nr]\nfoo #1', 2, 1, /unknown instruction "foo"/],
    ['ld', 1, 3, /expected \[k\].*found end of line/],
    ['ld [args[6]]', 1, 10, /argument index 0\.\.5/],
    ['ret #BOGUS', 1, 6, /unknown symbol "BOGUS"/],
    ['ret #__NR_getppid', 1, 6, /needs an ABI/],
    ['ret #__NR_nosuch@x86_64', 1, 6, /no syscall "nosuch" in the x86_64 table/],
    ['ret #__NR_socketcall@x86_64', 1, 6, /exists on i386/],
    ['ret #__NR_getpid@mips', 1, 18, /an ABI/],
    ['jeq #1, nowhere', 1, 9, /undefined label "nowhere"/],
    ['a: ret a\njeq #1, a', 2, 9, /behind this instruction/],
    ['jeq #1, 256', 1, 9, /offset 256 does not fit.*255/],
    ['ret #0x100000000', 1, 6, /does not fit in 32 bits/],
    ['ld [nr] extra', 1, 9, /expected end of line, found "extra"/],
    ['x: ld [nr]\nx: ret a', 2, 1, /label "x" already defined on line 1/],
    ['5: ret a', 1, 1, /line number 5 does not match the instruction index 0/],
    ['ldx [4]', 1, 1, /ldx cannot load from seccomp_data/],
    ['ret $1', 1, 5, /unexpected character "\$"/],
    ['st [1]', 1, 4, /expected M\[k\]/],
    ['.word 0x10000, 0, 0, 0', 1, 7, /code 65536 does not fit/],
  ];
  for (const [src, line, col, msg] of bad) {
    try {
      assemble(src);
      t.fail(`${JSON.stringify(src)} was accepted`);
    } catch (e) {
      t.ok(e instanceof BpfAsmError, `${JSON.stringify(src)}: BpfAsmError`);
      const err = e as BpfAsmError;
      t.match(err.detail, msg, `${JSON.stringify(src)}: message`);
      t.same([err.line, err.col], [line, col], `${JSON.stringify(src)}: at ${line}:${col} (${err.message})`);
    }
  }
});

t.test('disasm reads like the spec syntax', async (t) => {
  const lines = disasm([
    I(0x20, 4), I(0x15, 0xc000003e, 0, 3), I(0x20, 0), I(0x15, 0x40000003, 1, 0),
    I(0x06, 0x7fff0000), I(0x06, 0x50001), I(0x06, 0x80000000),
  ]);
  t.same(lines, [
    '0: ld [arch]',
    '1: jeq #AUDIT_ARCH_X86_64, 0, 3  ; -> 2, else 5',
    '2: ld [nr]',
    '3: jeq #0x40000003, 1, 0  ; -> 5, else 4',
    '4: ret #ALLOW',
    '5: ret #ERRNO|1',
    '6: ret #KILL_PROCESS',
  ], 'AUDIT_ARCH names only where A holds arch (0x40000003 is also x32 close)');
});

/** Instructions whose disassembly has a mnemonic (any code/k/jt/jf otherwise). */
const anyInsn = fc.oneof(
  fc.record({ code: fc.constantFrom(0x20, 0x28, 0x30, 0x40, 0x48, 0x50, 0x00, 0x01, 0x60, 0x61, 0x80, 0x81, 0xb1, 0x02, 0x03,
    0x04, 0x0c, 0x14, 0x1c, 0x24, 0x2c, 0x34, 0x3c, 0x44, 0x4c, 0x54, 0x5c, 0x64, 0x6c, 0x74, 0x7c, 0x84, 0x94, 0x9c, 0xa4, 0xac,
    0x05, 0x15, 0x1d, 0x25, 0x2d, 0x35, 0x3d, 0x45, 0x4d, 0x06, 0x16, 0x0e, 0x07, 0x87),
  jt: fc.nat(255), jf: fc.nat(255), k: fc.nat(0xffffffff) }),
  fc.record({ code: fc.nat(0xffff), jt: fc.nat(255), jf: fc.nat(255), k: fc.nat(0xffffffff) }),
);

/** What an instruction means: fields the kernel ignores for its opcode are normalised away. */
function canonical(i: BpfInsn): BpfInsn {
  const cls = i.code & 7;
  const isCond = cls === 5 && (i.code & 0xf0) !== 0;
  const usesK = !((cls === 4 && (i.code & 0x08)) || (cls === 5 && (i.code & 0x08)) || i.code === 0x84 || i.code === 0x80 ||
    i.code === 0x81 || i.code === 0x16 || i.code === 0x0e || i.code === 0x07 || i.code === 0x87);
  return { code: i.code, jt: isCond ? i.jt : 0, jf: isCond ? i.jf : 0, k: usesK ? i.k : 0 };
}

t.test('property: assemble(disasm(p)) gives p back (up to fields the opcode ignores)', async (t) => {
  fc.assert(
    fc.property(fc.array(anyInsn, { minLength: 1, maxLength: 30 }), (prog) => {
      const text = disasm(prog).map((l) => l.replace(/;.*$/, ''));
      const back = assemble(text);
      // Mnemonic lines drop only what the opcode ignores; .word lines keep every field.
      const want = prog.map((i, n) => (/\.word/.test(text[n]!) ? i : canonical(i)));
      return JSON.stringify(back.map((b, n) => (/\.word/.test(text[n]!) ? b : canonical(b)))) === JSON.stringify(want);
    }),
    { numRuns: 300 },
  );
  t.pass('300 random programs round-tripped');
});
