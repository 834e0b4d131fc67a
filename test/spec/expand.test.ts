// Loading and expansion of every spec-language feature (docs/spec-language.md), using the
// fixture test/spec/fixtures/good/features.yaml and small inline specs.

import t from 'tap';
import { join } from 'node:path';
import { loadSpecs, parseSpecText } from '../../harness/spec/load.js';
import { expandSpec, expandChecked, sentinelValue, slugify, type ExpandedCase } from '../../harness/spec/expand.js';
import type { SpecError } from '../../harness/spec/errors.js';
import { ERRNO, RFLAGS } from '../../abi/constants.js';

const fixture = join(import.meta.dirname, 'fixtures', 'good', 'features.yaml');

async function features(): Promise<Map<string, ExpandedCase>> {
  const { specs, errors } = await loadSpecs([fixture]);
  if (errors.length) throw new Error(JSON.stringify(errors));
  return new Map(expandSpec(specs[0]!).map((c) => [c.case.id, c]));
}

/** Expand an inline spec (head + cases), failing the test on load errors. */
function inline(body: string): { cases: ExpandedCase[]; errors: SpecError[] } {
  const text = `id: t.inline\ntitle: t\ndescription: d\nrefs: [{kernel: k}]\ntags: [entry]\n${body}`;
  const r = parseSpecText('inline.yaml', text);
  if (!r.spec) return { cases: [], errors: r.errors };
  const errors: SpecError[] = [];
  const cases = expandChecked(r.spec, errors);
  return { cases, errors };
}

t.test('ABI matrix, case ids, skip reasons', async (t) => {
  const m = await features();
  t.same([...m.keys()].filter((k) => k.startsWith('test.features/getpid@')).sort(),
    ['test.features/getpid@i386', 'test.features/getpid@x32', 'test.features/getpid@x86_64']);
  t.equal(m.get('test.features/getpid@x32')!.skipReason, 'x32 is covered elsewhere');
  t.equal(m.get('test.features/getpid@x86_64')!.skipReason, undefined);
  t.notOk([...m.keys()].some((k) => k.startsWith('test.features/int80-from-64-bit-code@i386')), 'case abi restricts the matrix');
  t.equal(m.size, 14, '3 getpid + 1 int80 + 8 vary + 1 exit + 1 fault');
});

t.test('syscall names resolve through each ABI table; int80 from 64-bit code uses i386', async (t) => {
  const m = await features();
  t.equal(m.get('test.features/getpid@x86_64')!.case.nr, 39n);
  t.equal(m.get('test.features/getpid@i386')!.case.nr, 20n);
  t.equal(m.get('test.features/getpid@x32')!.case.nr, 0x40000027n);
  const i80 = m.get('test.features/int80-from-64-bit-code@x86_64')!;
  t.equal(i80.case.entry, 'int80');
  t.equal(i80.case.code, '64');
  // getpid is 20 in the i386 table; nr_high 1 puts 1 in bits 63..32.
  t.equal(i80.case.nr, (1n << 32n) | 20n);
  t.same(i80.case.regs.rax, { lit: (1n << 32n) | 20n });
});

t.test('args go to the ABI argument registers, with widths and | high bits', async (t) => {
  const m = await features();
  const i80 = m.get('test.features/int80-from-64-bit-code@x86_64')!.case;
  // int $0x80 takes ebx, ecx, edx...; 64-bit code loads all 64 bits (-1 → all ones).
  t.same(i80.regs.rbx, { lit: 0xffff_ffff_ffff_ffffn });
  t.same(i80.regs.rcx, { ref: 'fd', name: 'null', or: 0xffff_ffff_0000_0000n });
  t.same(i80.regs.rdx, { ref: 'buf', name: 'b', add: 8n });
  const r64 = m.get('test.features/read-fd-f-with-df@x86_64')!.case;
  t.same(r64.regs.rdi, { ref: 'fd', name: 'f' });
  t.same(r64.regs.rsi, { ref: 'buf', name: 'out' });
  t.same(r64.regs.rdx, { lit: 4n });
  const r32 = m.get('test.features/read-fd-p-r-with-ac@i386')!.case;
  t.same(r32.regs.rbx, { ref: 'fd', name: 'p.r' });
  t.same(r32.regs.rcx, { ref: 'buf', name: 'out' });
  const fault = m.get('test.features/fault-at-fixed-address@i386')!.case;
  t.same(fault.regs.rbx, { lit: 0xffff_ffffn }, '-1 in a 32-bit register is 0xffffffff');
});

t.test('sentinels: distinct per register and width; explicit values win', async (t) => {
  const m = await features();
  const g64 = m.get('test.features/getpid@x86_64')!.case.regs;
  t.same(g64.rbx, { lit: 0x5a5a_0000_0000_0101n });
  t.same(g64.r15, { lit: 0x5a5a_0000_0000_0f0fn });
  t.equal(g64.rsp, undefined, 'rsp is never set by sentinel');
  const g32 = m.get('test.features/getpid@i386')!.case.regs;
  t.same(g32.rbx, { lit: 0x5a00_0101n });
  t.equal(g32.r8, undefined, '32-bit code has no r8');
  const vals = Object.values(g64).map((o) => o!.lit);
  t.equal(new Set(vals).size, vals.length, 'all distinct');
  t.same(m.get('test.features/read-fd-f-with-df@x86_64')!.case.regs.rbp, { lit: 0x1234n }, 'regs map with sentinel: true plus override');
  t.equal(sentinelValue(3, 32), 0x5a00_0303n);
});

t.test('vary is cartesian; {placeholder} fills names and whole values', async (t) => {
  const m = await features();
  const ids = [...m.keys()].filter((k) => k.includes('/read-')).sort();
  t.same(ids, [
    'test.features/read-fd-f-with-ac@i386', 'test.features/read-fd-f-with-ac@x86_64',
    'test.features/read-fd-f-with-df@i386', 'test.features/read-fd-f-with-df@x86_64',
    'test.features/read-fd-p-r-with-ac@i386', 'test.features/read-fd-p-r-with-ac@x86_64',
    'test.features/read-fd-p-r-with-df@i386', 'test.features/read-fd-p-r-with-df@x86_64',
  ]);
  const c = m.get('test.features/read-fd-p-r-with-ac@x86_64')!;
  t.equal(c.name, 'read fd:p.r with AC');
  t.same(c.vary, { fd: 'fd:p.r', flag: 'AC' });
  t.equal(c.case.rflags, 0x202n | RFLAGS.AC, 'flags → rflags = 0x202 | bits');
  t.same(c.case.flags, ['AC']);
  t.same(c.expect.flags, { set: ['AC'], clear: [] }, 'placeholders inside expect too');
});

t.test('defaults and per_abi merge one level deep', async (t) => {
  const m = await features();
  const cs = (id: string) => m.get(id)!.expect.regs.find((r) => r.field === 'cs')!;
  t.same(cs('test.features/getpid@x86_64').m, { kind: 'eq', v: { lit: 0x33n } }, 'from defaults');
  t.same(cs('test.features/getpid@i386').m, { kind: 'eq', v: { lit: 0x23n } }, 'per_abi overrides');
  t.ok(m.get('test.features/getpid@i386')!.expect.regs.some((r) => r.field === 'ret'), 'case keys kept beside defaults');
  t.equal(cs('test.features/getpid@i386').bits, 16, 'selectors compare 16 bits');
});

t.test('memory, fds, signals and isolate', async (t) => {
  const m = await features();
  const i80 = m.get('test.features/int80-from-64-bit-code@x86_64')!.case;
  t.same(i80.memory, [{ name: 'b', size: 64, hex: '6869', fill: 0, prot: 'rw', place: 'low32', readback: false }]);
  t.equal(i80.isolate, false);
  const rd = m.get('test.features/read-fd-f-with-df@x86_64')!.case;
  t.same(rd.fds, [{ name: 'f', kind: 'file', hex: '64617461' }, { name: 'p', kind: 'pipe', hex: '70697065' }]);
  t.equal(rd.memory[0]!.fill, 0xcc);
  t.equal(rd.memory[0]!.readback, true, 'expect.memory implies readback');
  const ex = m.get('test.features/signals-and-exit@x86_64')!.case;
  t.same(ex.signals, { actions: { 10: 'record', 13: 'ignore' }, blocked: [12] });
  t.equal(ex.isolate, true, 'exit_group / signal set-up isolate');
  t.equal(ex.timeoutMs, 2000);
  const fx = m.get('test.features/fault-at-fixed-address@i386')!.case;
  t.equal(fx.memory[0]!.at, 0x1000_0000n);
  t.equal(fx.isolate, true, 'fixed mappings isolate');
  t.equal(rd.timeoutMs, 5000, 'default time limit');
});

t.test('requirements merge spec and case', async (t) => {
  const m = await features();
  const r = m.get('test.features/read-fd-f-with-df@x86_64')!.requires;
  t.same(r.kernel!.map((k) => k.text), ['>=4.17', '<7.1']);
  t.same(r.features, ['ptrace']);
  t.same(m.get('test.features/getpid@x86_64')!.requires.features, undefined);
});

t.test('expectations resolve names and keep $symbols', async (t) => {
  const m = await features();
  const f = m.get('test.features/fault-at-fixed-address@i386')!.expect;
  t.equal(f.anyOf!.length, 2);
  t.equal(f.anyOf![0]!.why, 'first');
  t.same(f.anyOf![0]!.exp.signal!.fields, [
    { field: 'signo', m: { kind: 'eq', v: { lit: 11n, name: 'SIGSEGV' } } },
    { field: 'code', m: { kind: 'eq', v: { lit: 1n, name: 'SEGV_MAPERR' } } },
    { field: 'addr', m: { kind: 'eq', v: { sym: 'buf', name: 'fixed', add: 0n, text: '$buf.fixed' } } },
  ]);
  t.same(f.anyOf![1]!.exp.regs, [{ field: 'ret', reg: 'rax', bits: 32, m: { kind: 'errno', name: 'EFAULT', n: ERRNO.EFAULT } }]);
  const g = m.get('test.features/getpid@x86_64')!.expect;
  t.same(g.regs.find((r) => r.field === 'ret'), { field: 'ret', reg: 'rax', bits: 64, m: { kind: 'eq', v: { sym: 'pid', add: 0n, text: '$pid' } } });
  const i80 = m.get('test.features/int80-from-64-bit-code@x86_64')!.expect;
  t.same(i80.preserved!.regs.length, 15, 'all_but [rax] from 64-bit code: the other 15 GPRs');
});

t.test('the case handed to targets carries no expectation', async (t) => {
  const m = await features();
  for (const c of m.values()) {
    t.notOk('expect' in c.case || 'expectation' in c.case, `${c.case.id} has no expect`);
    t.notOk(JSON.stringify(c.case, (_k, v) => (typeof v === 'bigint' ? String(v) : v)).includes('SIGSEGV'), 'no expected names leak');
  }
});

t.test('inline features: entry defaults, code, nr, $in, matchers, outcome, 64-bit literals', async (t) => {
  const { cases, errors } = inline(`cases:
  - name: raw
    abi: [x86_64, i386]
    nr: 0xffffffffffffffff
    regs: { rdi: 0xfedcba9876543210 }
    per_abi:
      i386: { regs: { edi: 0x89abcdef } }
      x86_64: { expect: { r11: { one_of: [$rflags_in, $in.r11] } } }
    expect:
      ret: { errno: ENOSYS }
      rdi: $in
      eflags: { mask: 0x400, eq: 0 }
      rcx: { not: 0 }
      rsp: { range: [0x1000, "0x7fff_ffff_ffff"] }
      traps: { min: 0, max: 3 }
`);
  t.same(errors, []);
  const x = cases.find((c) => c.case.abi === 'x86_64')!;
  const i = cases.find((c) => c.case.abi === 'i386')!;
  t.equal(x.case.entry, 'syscall');
  t.equal(i.case.entry, 'int80');
  t.equal(i.case.code, 'compat');
  t.equal(x.case.nr, 0xffff_ffff_ffff_ffffn, '64-bit literal kept exactly');
  t.equal(i.case.nr, 0xffff_ffffn, 'truncated to 32 bits for 32-bit code');
  t.same(x.case.regs.rdi, { lit: 0xfedc_ba98_7654_3210n });
  t.same(i.case.regs.rdi, { lit: 0x89ab_cdefn });
  const kinds = x.expect.regs.map((r) => `${r.field}:${r.m.kind}:${r.bits}`);
  t.same(kinds, ['ret:errno:64', 'rcx:not:64', 'rdi:eq:64', 'rsp:range:64', 'r11:one_of:64', 'eflags:mask:32'], 'ret first, then register order');
  t.same(x.expect.traps, { kind: 'all', of: [{ kind: 'min', v: { lit: 0n } }, { kind: 'max', v: { lit: 3n } }] });
  t.equal(i.expect.regs.find((r) => r.field === 'rsp')!.bits, 32, '32-bit code compares 32 bits');
  t.equal(i.expect.regs.find((r) => r.field === 'r11'), undefined, 'per_abi x86_64 expectations stay on x86_64');
});

t.test('inline semantic errors carry positions', async (t) => {
  const r1 = inline(`cases:
  - name: a
    abi: [i386]
    code: 64
    call: getpid
    expect: { ret: 1 }
`);
  t.match(r1.errors[0], { line: 9, col: 11, message: /i386 process runs 32-bit/ });
  const r2 = inline(`cases:
  - name: n {x}
    vary: { x: [1, 2] }
    call: getpid
    args: ["{y}"]
    expect: { ret: 1 }
`);
  t.match(r2.errors[0], { line: 10, col: 12, message: /unknown placeholder \{y\}/ });
  const r3 = inline(`cases:
  - name: same
    vary: { x: [1, 2] }
    call: getpid
    expect: { ret: "{x}" }
`);
  t.match(r3.errors[0], { line: 7, col: 11, message: /names would collide/ });
  const r4 = inline(`cases:
  - name: e
    abi: [x86_64]
    call: exit
    isolate: false
    expect: { exit_code: 0 }
`);
  t.match(r4.errors[0], { line: 10, col: 14, message: /isolate: false is not possible here: .*calls exit/ });
  // A 64-bit preserved set reaching an i386 case would silently drop ECX from the check.
  const r4b = inline(`cases:
  - name: p
    abi: [x86_64, i386]
    call: getpid
    expect: { preserved: { all_but: [rax, rcx, r11] } }
`);
  t.equal(r4b.errors.length, 1, 'only the i386 expansion is refused');
  t.match(r4b.errors[0], { line: 10, message: /32-bit code cannot see r11: give this ABI its own preserved set/ });
  const r5 = inline(`cases:
  - name: f {f}
    abi: [x86_64]
    vary: { f: [TF, QQ] }
    flags: ["{f}"]
    call: getpid
    expect: { ret: 1 }
`);
  t.match(r5.errors[0], { line: 10, col: 13, message: /unknown flag name "QQ".*\(with f=QQ\)/ });
  const r6 = inline(`cases:
  - name: no expect
    call: getpid
`);
  t.match(r6.errors[0], { line: 7, col: 5, message: /has no expect/ });
});

t.test('slugs', async (t) => {
  t.equal(slugify('Getpid, with  a Sentinel!'), 'getpid-with-a-sentinel');
  t.equal(slugify('nr 0x40000027'), 'nr-0x40000027');
});

t.test('vdso_fn args are the C function\'s: the 4th in RCX on 64-bit code, cdecl order on i386', async (t) => {
  const { cases, errors } = inline(`cases:
  - name: five args
    abi: [x86_64, i386]
    entry: vdso_fn
    symbol: __vdso_clock_gettime
    args: [1, 2, 3, 4, 5]
    expect: { ret: 0 }
`);
  t.same(errors, []);
  const c64 = cases.find((c) => c.case.abi === 'x86_64')!.case;
  t.same([c64.regs.rdi, c64.regs.rsi, c64.regs.rdx, c64.regs.rcx, c64.regs.r8], [1n, 2n, 3n, 4n, 5n].map((lit) => ({ lit })));
  t.equal(c64.regs.r10, undefined, 'R10 (the syscall convention\'s 4th) is not an argument of a C call');
  const c32 = cases.find((c) => c.case.abi === 'i386')!.case;
  t.same([c32.regs.rbx, c32.regs.rcx, c32.regs.rdx, c32.regs.rsi, c32.regs.rdi], [1n, 2n, 3n, 4n, 5n].map((lit) => ({ lit })),
    'i386: ebx..edi, which the probe pushes as the cdecl arguments');
});

t.test('an expectation symbol given as an input value is named as such, not "write it without $"', async (t) => {
  const bad = inline(`cases:
  - name: a
    abi: [x86_64]
    call: getpid
    regs: { rcx: $next_ip, rdx: $pid }
    expect: { ret: 0 }
`);
  const msgs = bad.errors.map((e) => e.message).join('\n');
  t.match(msgs, /regs\.rcx: "\$next_ip" is an expectation symbol, not an input value/);
  t.match(msgs, /regs\.rdx: input values name their symbols without "\$": write "pid"/);
});
