// The session-2 feature templates of sysabi fuzz (harness/fuzz.ts): set-up calls, breakpoints,
// SA_RESTART handlers, sigreturn frames, vDSO getrandom, process_vm_readv, strict mode. Every
// drawn case must load through the real loader, be isolated when it changes the process, stay
// off what would break the probe itself, and every one-step simplification the minimiser may
// take must load too (so a minimised finding is always a loader-valid spec).
import t from 'tap';
import type { Abi } from '../../abi/constants.js';
import { lookupNumber } from '../../abi/tables/index.js';
import { expandText, FUZZ_FEATURES, generateCase, runSpecText, simplifications, type FuzzCase } from '../../harness/fuzz.js';

const ENTRIES = ['syscall', 'int80'] as const;
const draw = (abi: Abi, n: number, seed = '21') => Array.from({ length: n }, (_, i) => generateCase(seed, abi, i, ENTRIES)!);
const load = (abi: Abi, cs: { name: string; body: FuzzCase['body'] }[]) => expandText('<t>', runSpecText('fuzz.t', cs.map((c) => ({ ...c, abi }))));

t.test('each feature is drawn where it fits its ABI, and only there', async (t) => {
  const seen = (abi: Abi) => new Set(draw(abi, 1500).map((c) => c.kind));
  const x = [...seen('x86_64')];
  const i = [...seen('i386')];
  const x32 = [...seen('x32')];
  for (const k of ['setup+', 'breakpoint+', 'ldt-write', 'ldt-read', 'tls-set', 'tls-get', 'arch_prctl-set-gs', 'signals-', 'restart-', 'sigreturn-', 'getrandom-', 'process_vm_readv', 'strict-']) {
    t.ok(x.some((s) => s.startsWith(k)), `x86_64 draws ${k}`);
  }
  for (const k of ['setup+', 'breakpoint+', 'ldt-write', 'tls-set', 'arch_prctl-compat', 'sigreturn-segs', 'process_vm_readv', 'strict-rt_sigreturn']) t.ok(i.some((s) => s.startsWith(k)), `i386 draws ${k}`);
  t.notOk(i.some((s) => s.startsWith('getrandom')), 'no vDSO getrandom for i386 (vdso32 has none)');
  t.notOk(x32.some((s) => s.startsWith('sigreturn') || s.startsWith('process_vm')), 'no sigreturn or process_vm_readv templates for x32');
  const plain = draw('x86_64', 400).filter((c) => !/[+-]|_/.test(c.kind) || ['close-closed', 'write-null', 'read-badptr', 'enosys-gap', 'enosys-range', 'x32-bit'].includes(c.kind)).length;
  t.ok(plain > 120 && plain < 280, `about half the cases stay plain (${plain}/400)`);
  t.same(generateCase('5', 'x86_64', 17, ENTRIES, []), generateCase('5', 'x86_64', 17, ENTRIES, []), 'deterministic without features too');
  t.ok(FUZZ_FEATURES.length >= 11);
});

t.test('feature cases load, are isolated when they change the process, and spare the probe', async (t) => {
  for (const abi of ['x86_64', 'i386', 'x32'] as const) {
    const cs = draw(abi, 800, '22');
    const ecs = load(abi, cs.map((c) => ({ name: `case ${c.index}`, body: c.body })));
    t.equal(ecs.length, cs.length, `${abi}: all ${cs.length} load`);
    let checked = 0;
    ecs.forEach((ec, j) => {
      const b = cs[j]!.body;
      const c = ec.case;
      const table: Abi = c.entry === 'int80' ? 'i386' : abi;
      const name = c.entry === 'syscall' || c.entry === 'int80' ? lookupNumber(table, BigInt.asIntN(32, BigInt.asUintN(32, c.nr)))?.name : undefined;
      const changes = ['modify_ldt', 'set_thread_area', 'arch_prctl', 'kill', 'tgkill'].includes(name ?? '') || b.setup || b.seccomp || b.signals || b.breakpoint || b.ptrace;
      if (changes) {
        checked++;
        if (!c.isolate) t.fail(`${c.id} (${cs[j]!.kind}) changes the process but is not isolated`);
      }
      // ARCH_SET_FS would move libc's thread pointer; set_thread_area(12) is i386 libc's TLS entry.
      if (name === 'arch_prctl' && abi !== 'i386' && c.regs.rdi?.lit === 0x1002n) t.fail(`${c.id}: ARCH_SET_FS drawn`);
      if (name === 'set_thread_area' && abi === 'i386' && c.memory.find((m) => m.name === 'u')?.hex.startsWith('0c000000')) t.fail(`${c.id}: i386 set_thread_area of entry 12`);
      if ((b.signals || b.ptrace || b.breakpoint || b.entry === 'sigreturn') && b.flags?.includes('AC')) t.fail(`${c.id}: AC where a handler runs`);
      if (b.entry === 'vdso_fn' && (b.flags?.length || b.regs)) t.fail(`${c.id}: flags or registers on a C call`);
      if (b.entry === 'sigreturn' && b.flags?.includes('TF')) t.fail(`${c.id}: TF before the sigreturn stub`);
    });
    t.ok(checked > 100, `${abi}: ${checked} process-changing cases checked`);
  }
});

t.test('every one-step simplification of a feature case still loads (minimised findings are valid specs)', async (t) => {
  let steps = 0;
  const labels = new Set<string>();
  for (const abi of ['x86_64', 'i386'] as const) {
    const cs = draw(abi, 300, '23').filter((c) => c.body.setup || c.body.breakpoint || c.body.sigreturn || c.body.segs || c.body.blocked);
    const bodies = cs.flatMap((c) => simplifications(c.body).map((s) => (labels.add(s.label.replace(/[0-9].*$/, '')), { name: `s${steps++}`, body: s.apply(c.body) })));
    t.equal(load(abi, bodies).length, bodies.length, `${abi}: ${bodies.length} simplified bodies load`);
  }
  for (const l of ['drop breakpoint', 'drop set-up call ', 'drop sigreturn ', 'drop segs']) t.ok([...labels].some((x) => x.startsWith(l)), `the minimiser can ${l.trim()}`);
});
